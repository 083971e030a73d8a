//! What one VRRP instance (and the engine as a whole) is configured with, with keepalived's
//! defaults. The daemon maps the parsed `keepalived.conf` onto these types; embedders build
//! them directly (start from [`InstanceConfig::new`] and change fields).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::install::{AddrOptions, Route, Rule};

use crate::fasthash::FastMap;
use crate::packet::{Version, MCAST_V4, MCAST_V6};

/// Address family of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 (VRRPv2 or v3).
    V4,
    /// IPv6 (VRRPv3 only).
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The default VRRP multicast group of the family.
    pub fn mcast_group(self) -> IpAddr {
        match self {
            Family::V4 => IpAddr::V4(MCAST_V4),
            Family::V6 => IpAddr::V6(MCAST_V6),
        }
    }
}

/// `state MASTER|BACKUP`: the state an instance would like to be in at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InitialState {
    /// The default: wait Master_Down_Interval, then take over if nobody advertises.
    #[default]
    Backup,
    /// Only meaningful for the address owner (priority 255), which then becomes MASTER at
    /// once; any other instance still starts as BACKUP (as keepalived 2.x does).
    Master,
}

/// One virtual address (`virtual_ipaddress` or `virtual_ipaddress_excluded` entry).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vip {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (keepalived's default is /32 or /128).
    pub prefix_len: u8,
    /// `dev IF`: the interface it goes on when not the instance's.
    pub dev: Option<String>,
    /// How it is installed (`brd`, `scope`, `label`, ...), for the I/O layer; the engine
    /// never looks at it. None: a plain address (most VIPs; shared, as it is cloned into
    /// actions).
    pub options: Option<Arc<AddrOptions>>,
}

impl Vip {
    /// A host address (/32 or /128) on the instance's interface.
    pub fn host(addr: IpAddr) -> Vip {
        Vip {
            addr,
            prefix_len: if addr.is_ipv4() { 32 } else { 128 },
            dev: None,
            options: None,
        }
    }
}

/// Everything an instance installs while MASTER and removes when it leaves MASTER, typed
/// ([`crate::install`]); the engine only compares and hands them over.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AddressSet {
    /// `virtual_ipaddress`: also sent in adverts.
    pub vips: Vec<Vip>,
    /// `virtual_ipaddress_excluded`: installed but not advertised.
    pub excluded: Vec<Vip>,
    /// `virtual_routes`.
    pub routes: Vec<Route>,
    /// `virtual_rules`.
    pub rules: Vec<Rule>,
}

impl AddressSet {
    /// True when there is nothing to install.
    pub fn is_empty(&self) -> bool {
        self.vips.is_empty()
            && self.excluded.is_empty()
            && self.routes.is_empty()
            && self.rules.is_empty()
    }

    /// What is in `self` and not in `other`.
    pub fn minus(&self, other: &AddressSet) -> AddressSet {
        AddressSet {
            vips: self
                .vips
                .iter()
                .filter(|v| !other.vips.contains(v))
                .cloned()
                .collect(),
            excluded: self
                .excluded
                .iter()
                .filter(|v| !other.excluded.contains(v))
                .cloned()
                .collect(),
            routes: self
                .routes
                .iter()
                .filter(|r| !other.routes.contains(r))
                .cloned()
                .collect(),
            rules: self
                .rules
                .iter()
                .filter(|r| !other.rules.contains(r))
                .cloned()
                .collect(),
        }
    }
}

/// VRRPv2 authentication (`authentication { auth_type PASS|AH; auth_pass X }`).
/// Both are v2 only; AH also IPv4 only (see [`crate::ah`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Auth {
    /// No authentication (the default, and the only choice for v3).
    #[default]
    None,
    /// Simple password: up to 8 bytes, NUL padded on the wire.
    Pass([u8; 8]),
    /// IPsec AH (RFC 2338 §5.3.6.3, as keepalived): the advert goes out as IP protocol 51
    /// with an HMAC-MD5-96 ICV keyed with these 8 bytes (`auth_pass` cut / NUL padded).
    Ah([u8; 8]),
}

impl Auth {
    /// A password auth from text, truncated to 8 bytes as keepalived does.
    pub fn pass(text: &str) -> Auth {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(text.bytes()) {
            *d = s;
        }
        Auth::Pass(b)
    }

    /// An AH auth from text, its key cut to 8 bytes as keepalived does.
    pub fn ah(text: &str) -> Auth {
        Auth::Ah(crate::ah::key(text))
    }
}

/// One `unicast_peer` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnicastPeer {
    /// The peer's address (adverts are sent to it).
    pub addr: IpAddr,
    /// Adverts from this peer with a lower TTL are dropped.
    pub min_ttl: Option<u8>,
    /// Adverts from this peer with a higher TTL are dropped.
    pub max_ttl: Option<u8>,
}

impl UnicastPeer {
    /// A peer with no TTL limits.
    pub fn new(addr: IpAddr) -> UnicastPeer {
        UnicastPeer {
            addr,
            min_ttl: None,
            max_ttl: None,
        }
    }
}

/// Gratuitous ARP / unsolicited NA schedule (keepalived's `garp_*` keywords).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GarpConfig {
    /// `garp_master_repeat` (5): packets per address in the burst on becoming MASTER.
    pub master_repeat: u32,
    /// `garp_master_delay` (5 s): a second burst this long after becoming MASTER (zero: none).
    pub master_delay: Duration,
    /// `garp_master_refresh` (off): a periodic burst while MASTER.
    pub master_refresh: Option<Duration>,
    /// `garp_master_refresh_repeat` (1): packets per address in a refresh burst.
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_repeat` (= master_repeat): burst when a MASTER hears a lower priority.
    pub lower_prio_repeat: u32,
    /// `garp_lower_prio_delay` (= master_delay): a second such burst after this delay.
    pub lower_prio_delay: Duration,
    /// `garp_extra_if [all] SECS` (off): while MASTER, one GARP/NA per period for the
    /// addresses on interfaces other than the instance's, to keep switches' MAC caches.
    pub extra_if: Option<Duration>,
    /// `garp_extra_if all`: on every such interface. Without it only VMAC interfaces get
    /// them (keepalived's rule); addresses here have no VMAC of their own, so none do.
    pub extra_if_all: bool,
}

impl Default for GarpConfig {
    fn default() -> Self {
        GarpConfig {
            master_repeat: 5,
            master_delay: Duration::from_secs(5),
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_repeat: 5,
            lower_prio_delay: Duration::from_secs(5),
            extra_if: None,
            extra_if_all: false,
        }
    }
}

/// What a tracker watches. Interfaces are fed by [`crate::Input::LinkUp`] /
/// [`crate::Input::LinkDown`]; the others by [`crate::Input::Tracker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrackKind {
    /// `track_interface`.
    Interface,
    /// `track_script` (a `vrrp_script`).
    Script,
    /// `track_file`: an integer read from a file.
    File,
    /// `track_process`.
    Process,
    /// `track_bfd`.
    Bfd,
}

/// One `track_*` entry of an instance.
///
/// Semantics (keepalived's): for up/down trackers, weight 0 means "down => FAULT"; a
/// positive weight is added while up; a negative weight is added while down. `reverse`
/// swaps up and down. For files the value times the weight is added (`reverse` negates
/// it); with weight 0 a non-zero value means FAULT (`reverse`: zero means FAULT); a
/// weighted result below -253 also means FAULT.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackConfig {
    /// Kind of tracker.
    pub kind: TrackKind,
    /// Its name (the interface name for [`TrackKind::Interface`]).
    pub name: String,
    /// -253..=253 (keepalived's range); 0 = failure means FAULT.
    pub weight: i32,
    /// Reverse the sense of the tracker.
    pub reverse: bool,
}

/// Per-instance configuration (`vrrp_instance NAME { ... }`), with keepalived's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceConfig {
    /// Instance name (`VI_1`); used in every action and notification.
    pub name: String,
    /// `interface`: where adverts go. May be empty for unicast without link-local peers.
    pub interface: String,
    /// `virtual_router_id` 1..=255.
    pub vrid: u8,
    /// Address family (IPv6 implies VRRPv3).
    pub family: Family,
    /// `version` (default 2 for IPv4; always 3 for IPv6).
    pub version: Version,
    /// `state`. keepalived's default is BACKUP, or MASTER when the priority is 255: the
    /// config mapping sets it ([`InstanceConfig::new`] cannot know the priority yet).
    pub initial_state: InitialState,
    /// `priority` 1..=255 (100). 255 = address owner.
    pub priority: u8,
    /// `advert_int` (1 s). v2 rounds to whole seconds (1..=255), v3 to centiseconds (1..=4095).
    pub advert_int: Duration,
    /// Addresses, routes and rules installed while MASTER.
    pub addresses: AddressSet,
    /// `preempt` (default) / `nopreempt`.
    pub preempt: bool,
    /// `timer_expired_backup [PRIO]` (with `nopreempt`): the highest priority of the other
    /// routers (254 by default). When the advert timer fires later than such a router
    /// would have taken over, the MASTER goes back to BACKUP instead of asserting itself.
    pub timer_expired_backup: Option<u8>,
    /// `preempt_delay` (0): how long a BACKUP keeps accepting a lower priority master.
    pub preempt_delay: Duration,
    /// `accept` / `no_accept`: reported to the I/O layer, which installs firewall rules.
    pub accept: bool,
    /// v2 `authentication`.
    pub auth: Auth,
    /// `auth_hmac` (keepalived 2.4.x): the HMAC-SHA256 advert trailer, v2 and v3.
    pub hmac: Option<crate::hmac_auth::HmacConfig>,
    /// `mcast_src_ip` / `unicast_src_ip`; otherwise the interface's address
    /// (see [`crate::Input::InterfaceAddress`]).
    pub src_addr: Option<IpAddr>,
    /// `mcast_dst_ip` (default 224.0.0.18 / ff02::12).
    pub mcast_dst: Option<IpAddr>,
    /// `unicast_peer`: when non-empty, adverts are unicast to each peer.
    pub unicast_peers: Vec<UnicastPeer>,
    /// `unicast_ttl` (255).
    pub unicast_ttl: u8,
    /// `check_unicast_src`: drop unicast adverts from addresses not in `unicast_peers`.
    pub check_unicast_src: bool,
    /// `unicast_fault_no_peer`: FAULT when unicast is configured with no peers.
    pub unicast_fault_no_peer: bool,
    /// Gratuitous ARP / NA schedule.
    pub garp: GarpConfig,
    /// `down_timer_adverts` (3, 1..=100).
    pub down_timer_adverts: u32,
    /// `lower_prio_no_advert`: a MASTER does not answer a lower priority advert.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: a MASTER sends one advert before yielding.
    pub higher_prio_send_advert: bool,
    /// `owner_ignore_adverts`: an owner (255) ignores every advert.
    pub owner_ignore_adverts: bool,
    /// `skip_check_adv_addr`: skip the address-list check while the master is unchanged.
    pub skip_check_adv_addr: bool,
    /// `v3_checksum_as_v2`: send v3/IPv4 checksums without the pseudo-header.
    pub v3_checksum_as_v2: bool,
    /// `dont_track_primary`: the instance's own interface going down is not a FAULT.
    pub dont_track_primary: bool,
    /// `track_interface`, `track_script`, `track_file`, `track_process`, `track_bfd`.
    pub track: Vec<TrackConfig>,
}

impl InstanceConfig {
    /// An instance with keepalived's defaults. The family is taken from the first VIP
    /// (IPv4 when there is none) and IPv6 selects VRRPv3.
    pub fn new(name: &str, interface: &str, vrid: u8, vips: &[IpAddr]) -> InstanceConfig {
        let family = vips.first().map(|a| Family::of(*a)).unwrap_or(Family::V4);
        InstanceConfig {
            name: name.to_string(),
            interface: interface.to_string(),
            vrid,
            family,
            version: if family == Family::V6 {
                Version::V3
            } else {
                Version::V2
            },
            initial_state: InitialState::Backup,
            priority: 100,
            advert_int: Duration::from_secs(1),
            addresses: AddressSet {
                vips: vips.iter().map(|a| Vip::host(*a)).collect(),
                ..AddressSet::default()
            },
            preempt: true,
            timer_expired_backup: None,
            preempt_delay: Duration::ZERO,
            accept: true,
            auth: Auth::None,
            hmac: None,
            src_addr: None,
            mcast_dst: None,
            unicast_peers: Vec::new(),
            unicast_ttl: 255,
            check_unicast_src: false,
            unicast_fault_no_peer: false,
            garp: GarpConfig::default(),
            down_timer_adverts: 3,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            owner_ignore_adverts: false,
            skip_check_adv_addr: false,
            v3_checksum_as_v2: false,
            dont_track_primary: false,
            track: Vec::new(),
        }
    }

    /// True for the address owner (priority 255).
    pub fn is_owner(&self) -> bool {
        self.priority == 255
    }

    /// True when adverts are unicast.
    pub fn is_unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }

    /// The interval field as sent: seconds for v2, centiseconds for v3, clamped to range.
    pub fn adver_int_field(&self) -> u16 {
        match self.version {
            Version::V2 => {
                let ms = self.advert_int.as_millis();
                // keepalived rounds to the nearest second, minimum 1.
                u16::try_from(((ms + 500) / 1000).clamp(1, 255)).unwrap_or(255)
            }
            Version::V3 => {
                let us = self.advert_int.as_micros();
                u16::try_from(((us + 5_000) / 10_000).clamp(1, 4095)).unwrap_or(4095)
            }
        }
    }

    /// The advert interval actually used, in microseconds (after rounding).
    pub fn adver_int_micros(&self) -> u64 {
        let f = u64::from(self.adver_int_field());
        match self.version {
            Version::V2 => f * 1_000_000,
            Version::V3 => f * 10_000,
        }
    }

    /// The destination of multicast adverts.
    pub fn mcast_dst(&self) -> IpAddr {
        self.mcast_dst.unwrap_or_else(|| self.family.mcast_group())
    }

    /// The key keepalived uses to match an instance across a reload (the name does not
    /// matter): VRID, family, interface, unicast peers and source.
    pub fn reload_key(&self) -> ReloadKey {
        let mut peers: Vec<IpAddr> = self.unicast_peers.iter().map(|p| p.addr).collect();
        peers.sort();
        (
            self.vrid,
            self.family,
            self.interface.clone(),
            peers,
            self.src_addr,
        )
    }
}

/// What identifies an instance across a reload: VRID, family, interface, sorted unicast
/// peers, configured source.
pub type ReloadKey = (u8, Family, String, Vec<IpAddr>, Option<IpAddr>);

/// `vrrp_sync_group NAME { group { A B } }`: instances that change state together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncGroupConfig {
    /// Group name (used in group notifications).
    pub name: String,
    /// Member instance names.
    pub members: Vec<String>,
}

/// Everything the engine runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EngineConfig {
    /// The instances.
    pub instances: Vec<InstanceConfig>,
    /// The sync groups.
    pub sync_groups: Vec<SyncGroupConfig>,
}

/// A configuration the engine refuses, naming the instance or group and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// VRID 0.
    Vrid {
        /// Instance name.
        instance: String,
    },
    /// Priority 0.
    Priority {
        /// Instance name.
        instance: String,
    },
    /// VRRPv2 with IPv6.
    V2OverIpv6 {
        /// Instance name.
        instance: String,
    },
    /// A VIP, peer, source or destination of another family than the instance.
    Family {
        /// Instance name.
        instance: String,
        /// The offending address.
        addr: IpAddr,
    },
    /// More than 255 VIPs (they must fit the advert's count byte).
    TooManyVips {
        /// Instance name.
        instance: String,
    },
    /// `down_timer_adverts` outside 1..=100.
    DownTimerAdverts {
        /// Instance name.
        instance: String,
    },
    /// Two instances with the same name.
    DuplicateName {
        /// Instance name.
        instance: String,
    },
    /// Two instances with the same VRID on the same interface, family and peers.
    DuplicateVrid {
        /// The second instance.
        instance: String,
        /// The instance it collides with.
        other: String,
    },
    /// A sync group names an instance that does not exist.
    UnknownMember {
        /// Group name.
        group: String,
        /// Missing instance.
        instance: String,
    },
    /// An instance is a member of two groups.
    TwoGroups {
        /// Instance name.
        instance: String,
    },
    /// Password auth with VRRPv3.
    AuthV3 {
        /// Instance name.
        instance: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Vrid { instance } => {
                write!(f, "({instance}) virtual_router_id must be 1..255")
            }
            ConfigError::Priority { instance } => write!(f, "({instance}) priority must be 1..255"),
            ConfigError::V2OverIpv6 { instance } => {
                write!(f, "({instance}) IPv6 needs VRRP version 3")
            }
            ConfigError::Family { instance, addr } => {
                write!(
                    f,
                    "({instance}) address {addr} is not of the instance's family"
                )
            }
            ConfigError::TooManyVips { instance } => {
                write!(f, "({instance}) more than 255 virtual addresses")
            }
            ConfigError::DownTimerAdverts { instance } => {
                write!(f, "({instance}) down_timer_adverts must be 1..100")
            }
            ConfigError::DuplicateName { instance } => {
                write!(f, "({instance}) instance defined twice")
            }
            ConfigError::DuplicateVrid { instance, other } => {
                write!(
                    f,
                    "({instance}) VRID already used by {other} on the same interface"
                )
            }
            ConfigError::UnknownMember { group, instance } => {
                write!(f, "sync group {group}: no instance {instance}")
            }
            ConfigError::TwoGroups { instance } => write!(f, "({instance}) is in two sync groups"),
            ConfigError::AuthV3 { instance } => {
                write!(f, "({instance}) authentication needs VRRP version 2")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl EngineConfig {
    /// Check what the engine relies on (the daemon's parser checks the rest).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_counted(&mut 0)
    }

    /// [`EngineConfig::validate`], adding the names and keys it looks up to `work`.
    pub(crate) fn validate_counted(&self, work: &mut u64) -> Result<(), ConfigError> {
        // Names and socket keys in maps: one lookup per instance, not a scan of the others
        // (a configuration of 10,000 instances took 50 million comparisons).
        let mut keys: FastMap<(u8, Family, &str, Vec<IpAddr>), &str> = FastMap::default();
        let mut names: FastMap<&str, ()> = FastMap::default();
        for c in &self.instances {
            let instance = c.name.clone();
            *work += 1;
            if names.insert(&c.name, ()).is_some() {
                return Err(ConfigError::DuplicateName { instance });
            }
            if c.vrid == 0 {
                return Err(ConfigError::Vrid { instance });
            }
            if c.priority == 0 {
                return Err(ConfigError::Priority { instance });
            }
            if c.family == Family::V6 && c.version == Version::V2 {
                return Err(ConfigError::V2OverIpv6 { instance });
            }
            if c.version == Version::V3 && c.auth != Auth::None {
                return Err(ConfigError::AuthV3 { instance });
            }
            if c.addresses.vips.len() > 255 {
                return Err(ConfigError::TooManyVips { instance });
            }
            if !(1..=100).contains(&c.down_timer_adverts) {
                return Err(ConfigError::DownTimerAdverts { instance });
            }
            let same_family = c
                .addresses
                .vips
                .iter()
                .map(|v| v.addr)
                .chain(c.unicast_peers.iter().map(|p| p.addr))
                .chain(c.src_addr)
                .chain(c.mcast_dst)
                .find(|a| Family::of(*a) != c.family);
            if let Some(addr) = same_family {
                return Err(ConfigError::Family { instance, addr });
            }
            // Same VRID on the same interface and family collides when both are multicast
            // or share a peer set (keepalived's socket pools).
            let mut peers: Vec<IpAddr> = c.unicast_peers.iter().map(|p| p.addr).collect();
            peers.sort();
            *work += 1;
            match keys.entry((c.vrid, c.family, c.interface.as_str(), peers)) {
                std::collections::hash_map::Entry::Occupied(o) => {
                    return Err(ConfigError::DuplicateVrid {
                        instance,
                        other: (*o.get()).to_string(),
                    });
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(&c.name);
                }
            }
        }
        let mut grouped: FastMap<&str, ()> = FastMap::default();
        for g in &self.sync_groups {
            for m in &g.members {
                *work += 2;
                if !names.contains_key(m.as_str()) {
                    return Err(ConfigError::UnknownMember {
                        group: g.name.clone(),
                        instance: m.clone(),
                    });
                }
                if grouped.insert(m, ()).is_some() {
                    return Err(ConfigError::TwoGroups {
                        instance: m.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_interval_rounding() {
        let mut c = InstanceConfig::new("VI_1", "eth0", 51, &["10.0.0.100".parse().unwrap()]);
        assert_eq!(c.priority, 100);
        assert_eq!(c.version, Version::V2);
        assert_eq!(c.adver_int_field(), 1);
        c.advert_int = Duration::from_millis(300);
        assert_eq!(c.adver_int_field(), 1, "v2 has a 1 s minimum");
        c.version = Version::V3;
        assert_eq!(c.adver_int_field(), 30);
        assert_eq!(c.adver_int_micros(), 300_000);
        let v6 = InstanceConfig::new("VI_6", "eth0", 1, &["fe80::1".parse().unwrap()]);
        assert_eq!((v6.family, v6.version), (Family::V6, Version::V3));
        assert_eq!(Auth::pass("averylongpassword"), Auth::Pass(*b"averylon"));
        assert_eq!(Auth::ah("averylongpassword"), Auth::Ah(*b"averylon"));
    }

    #[test]
    fn validation_names_the_problem() {
        let a = InstanceConfig::new("A", "eth0", 1, &["10.0.0.1".parse().unwrap()]);
        let mut b = a.clone();
        b.name = "B".into();
        let cfg = EngineConfig {
            instances: vec![a.clone(), b],
            sync_groups: vec![],
        };
        assert_eq!(
            cfg.validate(),
            Err(ConfigError::DuplicateVrid {
                instance: "B".into(),
                other: "A".into()
            })
        );
        let mut bad = a.clone();
        bad.addresses
            .vips
            .push(Vip::host("fe80::1".parse().unwrap()));
        let cfg = EngineConfig {
            instances: vec![bad],
            sync_groups: vec![SyncGroupConfig {
                name: "G".into(),
                members: vec!["A".into()],
            }],
        };
        assert!(matches!(cfg.validate(), Err(ConfigError::Family { .. })));
        let cfg = EngineConfig {
            instances: vec![a],
            sync_groups: vec![SyncGroupConfig {
                name: "G".into(),
                members: vec!["X".into()],
            }],
        };
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("no instance X"));
    }
}
