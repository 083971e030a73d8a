//! Virtual services: their key (address/protocol/port or firewall mark), their settings,
//! and the `IPVS_CMD_ATTR_SERVICE` nest that carries them.

use crate::abi::nl::{AF_INET, AF_INET6};
use crate::abi::{svc_attr as a, svc_flags};
use crate::error::DecodeError;
use crate::nla::{self, Attrs};
use crate::stats::Stats;
use std::fmt;
use std::net::IpAddr;

/// Address family of a service or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    /// The `AF_*` number.
    pub fn raw(self) -> u16 {
        match self {
            Family::Inet => AF_INET,
            Family::Inet6 => AF_INET6,
        }
    }

    /// From an `AF_*` number.
    pub fn from_raw(af: u16) -> Result<Family, DecodeError> {
        match af {
            AF_INET => Ok(Family::Inet),
            AF_INET6 => Ok(Family::Inet6),
            v => Err(DecodeError::BadValue {
                what: "address family",
                value: u64::from(v),
            }),
        }
    }

    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }
}

/// Transport protocol of an address-based service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The IP protocol number.
    pub fn raw(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// From an IP protocol number.
    pub fn from_raw(p: u16) -> Result<Protocol, DecodeError> {
        match p {
            6 => Ok(Protocol::Tcp),
            17 => Ok(Protocol::Udp),
            132 => Ok(Protocol::Sctp),
            v => Err(DecodeError::BadValue {
                what: "service protocol",
                value: u64::from(v),
            }),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        })
    }
}

/// What identifies a service in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    /// `protocol addr:port` (the family is the address's).
    Addr {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
    /// A firewall mark, per family.
    Fwmark { family: Family, mark: u32 },
}

impl ServiceKey {
    /// The service's address family.
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Addr { addr, .. } => Family::of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    /// Append the key attributes (AF + PROTOCOL/ADDR/PORT or AF + FWMARK), not nested.
    pub fn encode_attrs(&self, buf: &mut Vec<u8>) {
        nla::put_u16(buf, a::AF, self.family().raw());
        match self {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                nla::put_u16(buf, a::PROTOCOL, protocol.raw());
                nla::put_addr(buf, a::ADDR, *addr);
                nla::put_be16(buf, a::PORT, *port);
            }
            ServiceKey::Fwmark { mark, .. } => nla::put_u32(buf, a::FWMARK, *mark),
        }
    }

    /// Append an `IPVS_CMD_ATTR_SERVICE` nest holding only the key (a selector).
    pub fn encode(&self, buf: &mut Vec<u8>) {
        let at = nla::nest_start(buf, crate::abi::cmd_attr::SERVICE);
        self.encode_attrs(buf);
        nla::nest_end(buf, at);
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr {
                protocol,
                addr: IpAddr::V6(a),
                port,
            } => write!(f, "{protocol} [{a}]:{port}"),
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => write!(f, "{protocol} {addr}:{port}"),
            ServiceKey::Fwmark {
                family: Family::Inet,
                mark,
            } => write!(f, "FWM {mark}"),
            ServiceKey::Fwmark {
                family: Family::Inet6,
                mark,
            } => write!(f, "FWM {mark} IPv6"),
        }
    }
}

/// Service flags (`IP_VS_SVC_F_*`), a bit set. The kernel adds `HASHED` itself and masks
/// it out of its replies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u32);

impl Flags {
    pub const PERSISTENT: Flags = Flags(svc_flags::PERSISTENT);
    pub const HASHED: Flags = Flags(svc_flags::HASHED);
    pub const ONEPACKET: Flags = Flags(svc_flags::ONEPACKET);
    /// Scheduler flag 1 (sh/mh: fallback).
    pub const SCHED1: Flags = Flags(svc_flags::SCHED1);
    /// Scheduler flag 2 (sh/mh: port).
    pub const SCHED2: Flags = Flags(svc_flags::SCHED2);
    pub const SCHED3: Flags = Flags(svc_flags::SCHED3);

    /// True when every bit of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

/// The IPv4 netmask that means "one address" (the kernel's and ipvsadm's default).
pub const NETMASK_V4_HOST: u32 = u32::MAX;
/// The IPv6 prefix length that means "one address".
pub const NETMASK_V6_HOST: u32 = 128;

/// A virtual service and its settings, as added/edited and as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub key: ServiceKey,
    /// Scheduler name (`rr`, `wlc`, ... at most 15 bytes).
    pub scheduler: String,
    pub flags: Flags,
    /// Persistence timeout in seconds (used with [`Flags::PERSISTENT`]).
    pub timeout: u32,
    /// Persistence granularity as the kernel holds it: for IPv4 the mask's four bytes in
    /// network order read as a native u32 (see [`Service::netmask_v4`]); for IPv6 a
    /// prefix length.
    pub netmask: u32,
    /// Persistence engine (`sip`), if any.
    pub pe_name: Option<String>,
    /// Counters (only in replies).
    pub stats: Option<Stats>,
    /// 64-bit counters (only in replies of newer kernels).
    pub stats64: Option<Stats>,
}

impl Service {
    /// A service with scheduler `wlc`, no flags and a host netmask.
    pub fn new(key: ServiceKey) -> Service {
        Service {
            key,
            scheduler: "wlc".into(),
            flags: Flags::default(),
            timeout: 0,
            netmask: match key.family() {
                Family::Inet => NETMASK_V4_HOST,
                Family::Inet6 => NETMASK_V6_HOST,
            },
            pe_name: None,
            stats: None,
            stats64: None,
        }
    }

    /// The raw netmask value for an IPv4 mask.
    pub fn netmask_v4(mask: std::net::Ipv4Addr) -> u32 {
        u32::from_ne_bytes(mask.octets())
    }

    /// Append the full `IPVS_CMD_ATTR_SERVICE` nest; with `with_stats`, the counters too
    /// (as the kernel sends them; requests leave them out).
    pub fn encode(&self, buf: &mut Vec<u8>, with_stats: bool) {
        let at = nla::nest_start(buf, crate::abi::cmd_attr::SERVICE);
        self.key.encode_attrs(buf);
        nla::put_str(buf, a::SCHED_NAME, &self.scheduler);
        let mut fm = [0u8; 8];
        fm[..4].copy_from_slice(&self.flags.0.to_ne_bytes());
        fm[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        nla::put(buf, a::FLAGS, &fm);
        nla::put_u32(buf, a::TIMEOUT, self.timeout);
        nla::put_u32(buf, a::NETMASK, self.netmask);
        if let Some(pe) = &self.pe_name {
            nla::put_str(buf, a::PE_NAME, pe);
        }
        if with_stats {
            if let Some(s) = &self.stats {
                s.encode(buf, a::STATS, false);
            }
            if let Some(s) = &self.stats64 {
                s.encode(buf, a::STATS64, true);
            }
        }
        nla::nest_end(buf, at);
    }

    /// Decode the payload of a service nest (as the kernel sends it in dumps).
    pub fn decode(payload: &[u8]) -> Result<Service, DecodeError> {
        let mut af = None;
        let mut protocol = None;
        let mut addr_raw: Option<&[u8]> = None;
        let mut port = None;
        let mut fwmark = None;
        let mut scheduler = None;
        let mut flags = Flags::default();
        let mut timeout = 0;
        let mut netmask = None;
        let mut pe_name = None;
        let mut stats = None;
        let mut stats64 = None;
        for attr in Attrs::new(payload) {
            let (k, p) = attr?;
            match k {
                a::AF => af = Some(Family::from_raw(nla::get_u16("service family", p)?)?),
                a::PROTOCOL => {
                    protocol = Some(nla::get_u16("service protocol", p)?);
                }
                a::ADDR => addr_raw = Some(p),
                a::PORT => port = Some(nla::get_be16("service port", p)?),
                a::FWMARK => fwmark = Some(nla::get_u32("service fwmark", p)?),
                a::SCHED_NAME => scheduler = Some(nla::get_str("scheduler name", p)?),
                a::FLAGS => {
                    let f = p.get(..4).ok_or(DecodeError::BadLength {
                        what: "service flags",
                        expected: 8,
                        got: p.len(),
                    })?;
                    flags = Flags(nla::get_u32("service flags", f)?);
                }
                a::TIMEOUT => timeout = nla::get_u32("service timeout", p)?,
                a::NETMASK => netmask = Some(nla::get_u32("service netmask", p)?),
                a::PE_NAME => pe_name = Some(nla::get_str("persistence engine", p)?),
                a::STATS => stats = Some(Stats::decode(p)?),
                a::STATS64 => stats64 = Some(Stats::decode(p)?),
                _ => {}
            }
        }
        let family = af.ok_or(DecodeError::Missing {
            what: "service family",
        })?;
        let key = match (fwmark, protocol, addr_raw, port) {
            (Some(mark), _, _, _) if mark != 0 || addr_raw.is_none() => {
                ServiceKey::Fwmark { family, mark }
            }
            (_, Some(proto), Some(raw), Some(port)) => ServiceKey::Addr {
                protocol: Protocol::from_raw(proto)?,
                addr: nla::get_addr("service address", family.raw(), raw)?,
                port,
            },
            _ => {
                return Err(DecodeError::Missing {
                    what: "service fwmark or protocol/address/port",
                })
            }
        };
        Ok(Service {
            key,
            scheduler: scheduler.unwrap_or_default(),
            flags,
            timeout,
            netmask: netmask.unwrap_or(match family {
                Family::Inet => NETMASK_V4_HOST,
                Family::Inet6 => NETMASK_V6_HOST,
            }),
            pe_name,
            stats,
            stats64,
        })
    }
}
