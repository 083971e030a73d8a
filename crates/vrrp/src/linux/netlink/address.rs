//! Interface addresses: `virtual_ipaddress` / `virtual_ipaddress_excluded` entries added and
//! deleted with all their options (`IP/prefix brd X dev IF scope S label L peer P home -nodad
//! mngtmpaddr noprefixroute autojoin preferred_lft N`), and the address dump.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope, CacheInfo,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::{Change, NetlinkError, Request, Rtnl};

pub use crate::install::Scope;

/// One address to add or delete, with keepalived's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    /// Interface index (`dev`).
    pub ifindex: u32,
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (default /32 or /128).
    pub prefix_len: u8,
    /// `brd` (IPv4 only).
    pub broadcast: Option<Ipv4Addr>,
    /// `peer` address (point-to-point).
    pub peer: Option<IpAddr>,
    /// `scope`.
    pub scope: Scope,
    /// `label` (IPv4 only; iproute2 wants it to start with the interface name).
    pub label: Option<String>,
    /// `-nodad` (IPv6).
    pub nodad: bool,
    /// `noprefixroute`.
    pub noprefixroute: bool,
    /// `home` (IPv6).
    pub home: bool,
    /// `mngtmpaddr` (IPv6).
    pub mngtmpaddr: bool,
    /// `autojoin` (multicast addresses).
    pub autojoin: bool,
    /// `preferred_lft` in seconds (`Some(0)` marks the address deprecated); `None` = forever.
    pub preferred_lft: Option<u32>,
}

impl AddressSpec {
    /// An address with default options: /32 or /128, global scope.
    pub fn new(ifindex: u32, addr: IpAddr) -> AddressSpec {
        AddressSpec {
            ifindex,
            addr,
            prefix_len: if addr.is_ipv4() { 32 } else { 128 },
            broadcast: None,
            peer: None,
            scope: Scope::Global,
            label: None,
            nodad: false,
            noprefixroute: false,
            home: false,
            mngtmpaddr: false,
            autojoin: false,
            preferred_lft: None,
        }
    }

    /// The request for `vip` on `ifindex`: its prefix and its install options. IPv6 VIPs
    /// always get `nodad`, as keepalived 2.2.7 adds them (observed with `ip addr`): a VIP
    /// must be usable at once, e.g. as the source of neighbour advertisements.
    pub fn for_vip(ifindex: u32, vip: &crate::Vip) -> AddressSpec {
        let plain = crate::AddrOptions::default();
        let o = vip.options.as_deref().unwrap_or(&plain);
        AddressSpec::with_options(ifindex, vip.addr, vip.prefix_len, o)
    }

    /// The request for `addr/prefix_len` on `ifindex` with the install options `o`, IPv6
    /// without DAD (see [`AddressSpec::for_vip`]).
    pub fn with_options(
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
        o: &crate::AddrOptions,
    ) -> AddressSpec {
        AddressSpec {
            ifindex,
            addr,
            prefix_len,
            broadcast: o.broadcast,
            peer: o.peer,
            scope: o.scope,
            label: o.label.clone(),
            nodad: o.nodad || addr.is_ipv6(),
            noprefixroute: o.noprefixroute,
            home: o.home,
            mngtmpaddr: o.mngtmpaddr,
            autojoin: o.autojoin,
            preferred_lft: o.preferred_lft,
        }
    }

    fn check(&self) -> Result<(), NetlinkError> {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix_len > max {
            return Err(NetlinkError::Invalid {
                what: "prefix length",
                detail: format!("{}/{}", self.addr, self.prefix_len),
            });
        }
        if let Some(peer) = self.peer {
            if peer.is_ipv4() != self.addr.is_ipv4() {
                return Err(NetlinkError::Invalid {
                    what: "peer address",
                    detail: format!("{peer} is not of the family of {}", self.addr),
                });
            }
        }
        if let Some(label) = &self.label {
            if label.len() > 15 || label.contains('\0') {
                return Err(NetlinkError::Invalid {
                    what: "label",
                    detail: format!("{label:?} (at most 15 bytes, no NUL)"),
                });
            }
        }
        Ok(())
    }

    /// The rtnetlink message for this address (`full` adds the options only an add needs).
    fn message(&self, full: bool) -> AddressMessage {
        let mut m = AddressMessage::default();
        m.header.family = family(&self.addr);
        m.header.prefix_len = self.prefix_len;
        m.header.scope = AddressScope::from(u8::from(self.scope));
        m.header.index = self.ifindex;
        let mut flags = AddressFlags::empty();
        flags.set(AddressFlags::Nodad, self.nodad);
        flags.set(AddressFlags::Noprefixroute, self.noprefixroute);
        flags.set(AddressFlags::Homeaddress, self.home);
        flags.set(AddressFlags::Managetempaddr, self.mngtmpaddr);
        flags.set(AddressFlags::Mcautojoin, self.autojoin);
        // IFA_LOCAL is our address; IFA_ADDRESS the peer's (or ours again), as iproute2 does.
        m.attributes.push(AddressAttribute::Local(self.addr));
        m.attributes
            .push(AddressAttribute::Address(self.peer.unwrap_or(self.addr)));
        if full {
            m.header.flags = AddressHeaderFlags::from_bits_retain((flags.bits() & 0xff) as u8);
            if !flags.is_empty() {
                m.attributes.push(AddressAttribute::Flags(flags));
            }
            if let Some(brd) = self.broadcast {
                m.attributes.push(AddressAttribute::Broadcast(brd));
            }
            if let Some(label) = &self.label {
                if self.addr.is_ipv4() {
                    m.attributes.push(AddressAttribute::Label(label.clone()));
                }
            }
            if let Some(lft) = self.preferred_lft {
                let mut ci = CacheInfo::default();
                ci.ifa_preferred = lft;
                ci.ifa_valid = u32::MAX;
                m.attributes.push(AddressAttribute::CacheInfo(ci));
            }
        }
        m
    }
}

impl std::fmt::Display for AddressSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} dev #{}", self.addr, self.prefix_len, self.ifindex)
    }
}

pub(crate) fn family(addr: &IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// An address as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressInfo {
    /// Interface index.
    pub ifindex: u32,
    /// The (local) address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// Scope.
    pub scope: Scope,
    /// Label (IPv4).
    pub label: Option<String>,
    /// IFA_F_* flags (secondary, tentative, dadfailed, ...).
    pub flags: u32,
}

impl AddressInfo {
    /// Decode a kernel address message; `None` if it carries no address.
    pub(crate) fn from_message(m: &AddressMessage) -> Option<AddressInfo> {
        let mut local = None;
        let mut address = None;
        let mut label = None;
        let mut flags = u32::from(m.header.flags.bits());
        for a in &m.attributes {
            match a {
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Address(ip) => address = Some(*ip),
                AddressAttribute::Label(l) => label = Some(l.clone()),
                AddressAttribute::Flags(f) => flags = f.bits(),
                _ => {}
            }
        }
        Some(AddressInfo {
            ifindex: m.header.index,
            addr: local.or(address)?,
            prefix_len: m.header.prefix_len,
            scope: Scope::from(u8::from(m.header.scope)),
            label,
            flags,
        })
    }

    /// Still doing (or failed) duplicate address detection.
    pub fn is_tentative(&self) -> bool {
        self.flags & (AddressFlags::Tentative.bits() | AddressFlags::Dadfailed.bits()) != 0
    }
}

/// The address an instance sends adverts from when no `mcast_src_ip` / `unicast_src_ip` is
/// configured: for IPv4 the interface's first primary (non-secondary) address, for IPv6
/// its first link-local address that finished duplicate address detection.
pub fn primary_address(addrs: &[AddressInfo], ifindex: u32, v6: bool) -> Option<IpAddr> {
    addrs
        .iter()
        .filter(|a| a.ifindex == ifindex && a.addr.is_ipv6() == v6)
        .find(|a| {
            if v6 {
                a.scope == Scope::Link && !a.is_tentative()
            } else {
                a.flags & AddressFlags::Secondary.bits() == 0
            }
        })
        .map(|a| a.addr)
}

// EADDRNOTAVAIL: no such address; ENODEV: the interface is gone (so is the address);
// ESRCH / ENOENT: what some kernels answer for a missing IPv6 address.
const ABSENT: &[i32] = &[libc::EADDRNOTAVAIL, libc::ENODEV, libc::ESRCH, libc::ENOENT];

impl Rtnl {
    /// Add one address. Already present: `Ok(Change::Unchanged)`.
    pub fn add_address(&mut self, spec: &AddressSpec) -> Result<Change, NetlinkError> {
        spec.check()?;
        self.execute_one(Request::create(
            RouteNetlinkMessage::NewAddress(spec.message(true)),
            format!("add address {spec}"),
        ))
    }

    /// Delete one address. Absent: `Ok(Change::Unchanged)`.
    pub fn del_address(&mut self, spec: &AddressSpec) -> Result<Change, NetlinkError> {
        spec.check()?;
        self.execute_one(Request::delete(
            RouteNetlinkMessage::DelAddress(spec.message(false)),
            ABSENT,
            format!("delete address {spec}"),
        ))
    }

    /// Add several addresses in one pipelined exchange; one result per address.
    pub fn add_addresses(&mut self, specs: &[AddressSpec]) -> Vec<Result<Change, NetlinkError>> {
        self.batch(specs, true)
    }

    /// Delete several addresses in one pipelined exchange; one result per address.
    pub fn del_addresses(&mut self, specs: &[AddressSpec]) -> Vec<Result<Change, NetlinkError>> {
        self.batch(specs, false)
    }

    fn batch(&mut self, specs: &[AddressSpec], add: bool) -> Vec<Result<Change, NetlinkError>> {
        let mut out: Vec<Option<Result<Change, NetlinkError>>> = Vec::with_capacity(specs.len());
        let mut requests = Vec::new();
        for spec in specs {
            match spec.check() {
                Err(e) => out.push(Some(Err(e))),
                Ok(()) => {
                    out.push(None);
                    requests.push(if add {
                        Request::create(
                            RouteNetlinkMessage::NewAddress(spec.message(true)),
                            format!("add address {spec}"),
                        )
                    } else {
                        Request::delete(
                            RouteNetlinkMessage::DelAddress(spec.message(false)),
                            ABSENT,
                            format!("delete address {spec}"),
                        )
                    });
                }
            }
        }
        let mut done = self.execute(requests).into_iter();
        out.into_iter()
            .map(|r| match r {
                Some(r) => r,
                None => done.next().unwrap_or(Ok(Change::Unchanged)),
            })
            .collect()
    }

    /// Every address of the given family (`None`: both), optionally of one interface only.
    pub fn addresses(
        &mut self,
        ifindex: Option<u32>,
        v6: Option<bool>,
    ) -> Result<Vec<AddressInfo>, NetlinkError> {
        let mut req = AddressMessage::default();
        req.header.family = match v6 {
            Some(false) => AddressFamily::Inet,
            Some(true) => AddressFamily::Inet6,
            None => AddressFamily::Unspec,
        };
        let all = self.dump(RouteNetlinkMessage::GetAddress(req), "address dump")?;
        Ok(all
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => AddressInfo::from_message(a),
                _ => None,
            })
            .filter(|a| ifindex.is_none_or(|i| a.ifindex == i))
            .filter(|a| v6.is_none_or(|v6| a.addr.is_ipv6() == v6))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    #[test]
    fn scope_names() {
        assert_eq!(Scope::parse("link"), Some(Scope::Link));
        assert_eq!(Scope::parse("global"), Some(Scope::Global));
        assert_eq!(Scope::parse("17"), Some(Scope::Other(17)));
        assert_eq!(Scope::parse("bogus"), None);
        for n in 0..=255u8 {
            assert_eq!(u8::from(Scope::from(n)), n);
        }
    }

    #[test]
    fn a_vip_becomes_its_request() {
        let mut v4 = crate::Vip::host("10.0.0.100".parse().expect("lit"));
        v4.prefix_len = 24;
        v4.options = Some(std::sync::Arc::new(crate::AddrOptions {
            broadcast: Some("10.0.0.255".parse().expect("lit")),
            scope: Scope::Link,
            label: Some("eth0:vip".into()),
            noprefixroute: true,
            preferred_lft: Some(0),
            ..crate::AddrOptions::default()
        }));
        let s = AddressSpec::for_vip(3, &v4);
        assert_eq!((s.ifindex, s.addr, s.prefix_len), (3, v4.addr, 24));
        assert_eq!(s.broadcast, Some("10.0.0.255".parse().expect("lit")));
        assert_eq!(
            (s.scope, s.label.as_deref()),
            (Scope::Link, Some("eth0:vip"))
        );
        assert!(s.noprefixroute && !s.nodad && !s.home);
        assert_eq!(s.preferred_lft, Some(0));
        // IPv6: always without DAD, options or not.
        let v6 = crate::Vip::host("2001:db8::1".parse().expect("lit"));
        let s = AddressSpec::for_vip(1, &v6);
        assert_eq!((s.prefix_len, s.nodad), (128, true));
        assert_eq!(s.scope, Scope::Global);
    }

    #[test]
    fn v4_message_carries_every_option() {
        let mut s = AddressSpec::new(3, "10.0.0.100".parse().expect("lit"));
        s.prefix_len = 24;
        s.broadcast = Some("10.0.0.255".parse().expect("lit"));
        s.scope = Scope::Site;
        s.label = Some("eth0:vip".into());
        s.noprefixroute = true;
        let m = s.message(true);
        assert_eq!(m.header.index, 3);
        assert_eq!(m.header.prefix_len, 24);
        assert_eq!(u8::from(m.header.scope), 200);
        assert!(m
            .attributes
            .contains(&AddressAttribute::Label("eth0:vip".into())));
        assert!(m.attributes.contains(&AddressAttribute::Broadcast(
            "10.0.0.255".parse().expect("lit")
        )));
        assert!(m
            .attributes
            .contains(&AddressAttribute::Flags(AddressFlags::Noprefixroute)));
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        assert_eq!(buf[0], libc::AF_INET as u8);
    }

    #[test]
    fn primary_addresses() {
        let info = |ifindex, addr: &str, scope, flags| AddressInfo {
            ifindex,
            addr: addr.parse().expect("lit"),
            prefix_len: 24,
            scope,
            label: None,
            flags,
        };
        let secondary = AddressFlags::Secondary.bits();
        let tentative = AddressFlags::Tentative.bits();
        let all = [
            info(2, "10.0.0.9", Scope::Global, secondary),
            info(3, "10.0.1.1", Scope::Global, 0),
            info(2, "10.0.0.1", Scope::Global, 0),
            info(2, "2001:db8::1", Scope::Global, 0),
            info(2, "fe80::1", Scope::Link, tentative),
            info(2, "fe80::2", Scope::Link, 0),
        ];
        assert_eq!(
            primary_address(&all, 2, false),
            Some("10.0.0.1".parse().expect("lit"))
        );
        assert_eq!(
            primary_address(&all, 2, true),
            Some("fe80::2".parse().expect("lit"))
        );
        assert_eq!(primary_address(&all, 3, true), None);
        assert_eq!(primary_address(&all, 9, false), None);
    }

    #[test]
    fn invalid_specs_are_refused() {
        let mut s = AddressSpec::new(1, "10.0.0.1".parse().expect("lit"));
        s.prefix_len = 33;
        assert!(s.check().is_err());
        let mut s = AddressSpec::new(1, "10.0.0.1".parse().expect("lit"));
        s.peer = Some("::1".parse().expect("lit"));
        assert!(s.check().is_err());
        let mut s = AddressSpec::new(1, "10.0.0.1".parse().expect("lit"));
        s.label = Some("a-very-long-label-indeed".into());
        assert!(s.check().is_err());
    }
}
