//! Links: name ↔ ifindex, MAC address, administrative and operational state, and the
//! macvlan interfaces `use_vmac` needs (created, brought up, deleted).

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, LinkAttribute, LinkFlags, LinkInfo as NlLinkInfo, LinkMessage,
    MacVlanMode as NlMacVlanMode, State,
};
use netlink_packet_route::RouteNetlinkMessage;

use super::{Change, NetlinkError, Request, Rtnl};

/// Operational state (RFC 2863, IFLA_OPERSTATE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperState {
    /// Unknown (e.g. loopback, some virtual devices that do not report it).
    Unknown,
    /// Some component is missing.
    NotPresent,
    /// Down.
    Down,
    /// Down because the lower device is down.
    LowerLayerDown,
    /// In a test mode.
    Testing,
    /// Waiting for an external event.
    Dormant,
    /// Up.
    Up,
    /// A value this code does not know.
    Other(u8),
}

impl From<&State> for OperState {
    fn from(s: &State) -> OperState {
        match s {
            State::Unknown => OperState::Unknown,
            State::NotPresent => OperState::NotPresent,
            State::Down => OperState::Down,
            State::LowerLayerDown => OperState::LowerLayerDown,
            State::Testing => OperState::Testing,
            State::Dormant => OperState::Dormant,
            State::Up => OperState::Up,
            State::Other(n) => OperState::Other(*n),
            _ => OperState::Other(255),
        }
    }
}

/// What the kernel says about one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// Interface index.
    pub ifindex: u32,
    /// Name.
    pub name: String,
    /// Hardware address (6 bytes for Ethernet; empty when the link has none).
    pub mac: Vec<u8>,
    /// IFF_UP: administratively up.
    pub admin_up: bool,
    /// IFF_RUNNING: operationally up (carrier, not dormant).
    pub running: bool,
    /// IFF_LOWER_UP: carrier.
    pub lower_up: bool,
    /// IFLA_OPERSTATE.
    pub oper: OperState,
    /// MTU.
    pub mtu: Option<u32>,
    /// Link kind (`macvlan`, `veth`, `bridge`...), when it has one.
    pub kind: Option<String>,
    /// Lower device (IFLA_LINK), e.g. a macvlan's base interface.
    pub parent: Option<u32>,
}

impl LinkInfo {
    /// Up as keepalived sees it: administratively up and running.
    pub fn is_up(&self) -> bool {
        self.admin_up && self.running
    }

    /// The MAC as 6 bytes, if the link has an Ethernet address.
    pub fn mac6(&self) -> Option<[u8; 6]> {
        <[u8; 6]>::try_from(self.mac.as_slice()).ok()
    }

    pub(crate) fn from_message(m: &LinkMessage) -> LinkInfo {
        let flags = m.header.flags;
        let mut info = LinkInfo {
            ifindex: m.header.index,
            name: String::new(),
            mac: Vec::new(),
            admin_up: flags.contains(LinkFlags::Up),
            running: flags.contains(LinkFlags::Running),
            lower_up: flags.contains(LinkFlags::LowerUp),
            oper: OperState::Unknown,
            mtu: None,
            kind: None,
            parent: None,
        };
        for a in &m.attributes {
            match a {
                LinkAttribute::IfName(n) => info.name = n.clone(),
                LinkAttribute::Address(mac) => info.mac = mac.clone(),
                LinkAttribute::OperState(s) => info.oper = OperState::from(s),
                LinkAttribute::Mtu(mtu) => info.mtu = Some(*mtu),
                LinkAttribute::Link(p) => info.parent = Some(*p),
                LinkAttribute::LinkInfo(infos) => {
                    for i in infos {
                        if let NlLinkInfo::Kind(k) = i {
                            info.kind = Some(k.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        info
    }
}

/// Macvlan mode (IFLA_MACVLAN_MODE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MacvlanMode {
    /// `private`: no traffic between macvlans of the same base (keepalived's choice).
    #[default]
    Private,
    /// `vepa`.
    Vepa,
    /// `bridge`.
    Bridge,
    /// `passthru`.
    Passthru,
}

/// A macvlan to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacvlanSpec {
    /// Name of the new interface (e.g. `vrrp.51`).
    pub name: String,
    /// Base interface index.
    pub base: u32,
    /// MAC address (e.g. 00:00:5e:00:01:VRID).
    pub mac: [u8; 6],
    /// Mode.
    pub mode: MacvlanMode,
}

fn check_name(name: &str) -> Result<(), NetlinkError> {
    if name.is_empty()
        || name.len() > 15
        || name.contains(['/', '\0'])
        || name.contains(char::is_whitespace)
    {
        return Err(NetlinkError::Invalid {
            what: "interface name",
            detail: format!("{name:?} (1 to 15 bytes, no '/', NUL or space)"),
        });
    }
    Ok(())
}

impl Rtnl {
    /// Every link of the namespace.
    pub fn links(&mut self) -> Result<Vec<LinkInfo>, NetlinkError> {
        let all = self.dump(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            "link dump",
        )?;
        Ok(all
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(LinkInfo::from_message(l)),
                _ => None,
            })
            .collect())
    }

    /// The link called `name`, if any.
    pub fn link_by_name(&mut self, name: &str) -> Result<Option<LinkInfo>, NetlinkError> {
        check_name(name)?;
        Ok(self.links()?.into_iter().find(|l| l.name == name))
    }

    /// The link with index `ifindex`, if any.
    pub fn link_by_index(&mut self, ifindex: u32) -> Result<Option<LinkInfo>, NetlinkError> {
        Ok(self.links()?.into_iter().find(|l| l.ifindex == ifindex))
    }

    /// The index of the link called `name`.
    pub fn ifindex(&mut self, name: &str) -> Result<u32, NetlinkError> {
        self.link_by_name(name)?
            .map(|l| l.ifindex)
            .ok_or_else(|| NetlinkError::NoSuchLink {
                link: name.to_string(),
            })
    }

    /// Create a macvlan; one with the same name already present is `Unchanged`.
    pub fn add_macvlan(&mut self, spec: &MacvlanSpec) -> Result<Change, NetlinkError> {
        check_name(&spec.name)?;
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(spec.name.clone()));
        m.attributes.push(LinkAttribute::Link(spec.base));
        m.attributes.push(LinkAttribute::Address(spec.mac.to_vec()));
        let mode = match spec.mode {
            MacvlanMode::Private => NlMacVlanMode::Private,
            MacvlanMode::Vepa => NlMacVlanMode::Vepa,
            MacvlanMode::Bridge => NlMacVlanMode::Bridge,
            MacvlanMode::Passthru => NlMacVlanMode::Passthrough,
        };
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            NlLinkInfo::Kind(InfoKind::MacVlan),
            NlLinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(mode)])),
        ]));
        self.execute_one(Request::create(
            RouteNetlinkMessage::NewLink(m),
            format!("create macvlan {} on #{}", spec.name, spec.base),
        ))
    }

    /// Delete a link; an absent one is `Unchanged`.
    pub fn del_link(&mut self, ifindex: u32) -> Result<Change, NetlinkError> {
        let mut m = LinkMessage::default();
        m.header.index = ifindex;
        self.execute_one(Request::delete(
            RouteNetlinkMessage::DelLink(m),
            &[libc::ENODEV],
            format!("delete link #{ifindex}"),
        ))
    }

    /// Set a link administratively up or down.
    pub fn set_link_up(&mut self, ifindex: u32, up: bool) -> Result<Change, NetlinkError> {
        let mut m = LinkMessage::default();
        m.header.index = ifindex;
        m.header.change_mask = LinkFlags::Up;
        if up {
            m.header.flags = LinkFlags::Up;
        }
        self.execute_one(Request {
            message: RouteNetlinkMessage::SetLink(m),
            flags: 0,
            unchanged_errnos: &[],
            describe: format!("set link #{ifindex} {}", if up { "up" } else { "down" }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("vrrp.51").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("sixteen-chars-xx").is_err());
    }

    #[test]
    fn link_message_decodes() {
        let mut m = LinkMessage::default();
        m.header.index = 7;
        m.header.flags = LinkFlags::Up | LinkFlags::Running;
        m.attributes.push(LinkAttribute::IfName("eth0".into()));
        m.attributes
            .push(LinkAttribute::Address(vec![0, 0, 0x5e, 0, 1, 51]));
        m.attributes.push(LinkAttribute::OperState(State::Up));
        let l = LinkInfo::from_message(&m);
        assert_eq!(l.ifindex, 7);
        assert_eq!(l.name, "eth0");
        assert!(l.is_up());
        assert_eq!(l.mac6(), Some([0, 0, 0x5e, 0, 1, 51]));
        assert_eq!(l.oper, OperState::Up);
    }
}
