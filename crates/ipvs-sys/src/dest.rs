//! Real servers (destinations) of a service and the `IPVS_CMD_ATTR_DEST` nest.

use crate::abi::dest_attr as a;
use crate::error::DecodeError;
use crate::nla::{self, Attrs};
use crate::service::Family;
use crate::stats::Stats;
use std::fmt;
use std::net::IpAddr;

/// How packets reach the destination (`IP_VS_CONN_F_*` forwarding bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForwardMethod {
    /// NAT (masquerading), `-m`.
    Masq,
    /// Local node.
    Local,
    /// IP-in-IP / GUE / GRE tunnelling, `-i`.
    Tunnel,
    /// Direct routing, `-g`.
    Route,
    /// Bypass (only seen on connections).
    Bypass,
}

impl ForwardMethod {
    /// The kernel's number.
    pub fn raw(self) -> u32 {
        match self {
            ForwardMethod::Masq => 0,
            ForwardMethod::Local => 1,
            ForwardMethod::Tunnel => 2,
            ForwardMethod::Route => 3,
            ForwardMethod::Bypass => 4,
        }
    }

    /// From the kernel's number (only the forwarding bits, `& 7`, are looked at).
    pub fn from_raw(v: u32) -> Result<ForwardMethod, DecodeError> {
        match v & 7 {
            0 => Ok(ForwardMethod::Masq),
            1 => Ok(ForwardMethod::Local),
            2 => Ok(ForwardMethod::Tunnel),
            3 => Ok(ForwardMethod::Route),
            4 => Ok(ForwardMethod::Bypass),
            _ => Err(DecodeError::BadValue {
                what: "forwarding method",
                value: u64::from(v),
            }),
        }
    }
}

/// Encapsulation of a tunnelled destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelType {
    Ipip,
    Gue,
    Gre,
}

impl TunnelType {
    /// The kernel's number.
    pub fn raw(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
        }
    }

    /// From the kernel's number.
    pub fn from_raw(v: u8) -> Result<TunnelType, DecodeError> {
        match v {
            0 => Ok(TunnelType::Ipip),
            1 => Ok(TunnelType::Gue),
            2 => Ok(TunnelType::Gre),
            _ => Err(DecodeError::BadValue {
                what: "tunnel type",
                value: u64::from(v),
            }),
        }
    }
}

/// Tunnel flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
pub mod tun_flags {
    pub const NOCSUM: u16 = 0;
    pub const CSUM: u16 = 1 << 0;
    pub const REMCSUM: u16 = 1 << 1;
}

/// What identifies a destination within its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DestKey {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for DestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
        }
    }
}

/// A destination and its settings, as added/edited and as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub addr: IpAddr,
    pub port: u16,
    pub method: ForwardMethod,
    pub weight: u32,
    /// Upper connection threshold (0: none).
    pub u_threshold: u32,
    /// Lower connection threshold (0: none).
    pub l_threshold: u32,
    pub tun_type: Option<TunnelType>,
    pub tun_port: Option<u16>,
    pub tun_flags: Option<u16>,
    /// Connection counts and statistics (only in replies).
    pub active_conns: Option<u32>,
    pub inactive_conns: Option<u32>,
    pub persist_conns: Option<u32>,
    pub stats: Option<Stats>,
    pub stats64: Option<Stats>,
}

impl Destination {
    /// A destination with weight 1, no thresholds and no tunnel settings.
    pub fn new(addr: IpAddr, port: u16, method: ForwardMethod) -> Destination {
        Destination {
            addr,
            port,
            method,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: None,
            tun_port: None,
            tun_flags: None,
            active_conns: None,
            inactive_conns: None,
            persist_conns: None,
            stats: None,
            stats64: None,
        }
    }

    /// Address and port.
    pub fn key(&self) -> DestKey {
        DestKey {
            addr: self.addr,
            port: self.port,
        }
    }

    /// Append the full `IPVS_CMD_ATTR_DEST` nest; with `with_stats` also the counters.
    pub fn encode(&self, buf: &mut Vec<u8>, with_stats: bool) {
        let at = nla::nest_start(buf, crate::abi::cmd_attr::DEST);
        nla::put_addr(buf, a::ADDR, self.addr);
        nla::put_be16(buf, a::PORT, self.port);
        nla::put_u32(buf, a::FWD_METHOD, self.method.raw());
        nla::put_u32(buf, a::WEIGHT, self.weight);
        if let Some(t) = self.tun_type {
            nla::put_u8(buf, a::TUN_TYPE, t.raw());
        }
        if let Some(p) = self.tun_port {
            nla::put_be16(buf, a::TUN_PORT, p);
        }
        if let Some(f) = self.tun_flags {
            nla::put_u16(buf, a::TUN_FLAGS, f);
        }
        nla::put_u32(buf, a::U_THRESH, self.u_threshold);
        nla::put_u32(buf, a::L_THRESH, self.l_threshold);
        nla::put_u16(buf, a::ADDR_FAMILY, Family::of(&self.addr).raw());
        if with_stats {
            for (k, v) in [
                (a::ACTIVE_CONNS, self.active_conns),
                (a::INACT_CONNS, self.inactive_conns),
                (a::PERSIST_CONNS, self.persist_conns),
            ] {
                if let Some(v) = v {
                    nla::put_u32(buf, k, v);
                }
            }
            if let Some(s) = &self.stats {
                s.encode(buf, a::STATS, false);
            }
            if let Some(s) = &self.stats64 {
                s.encode(buf, a::STATS64, true);
            }
        }
        nla::nest_end(buf, at);
    }

    /// Append an `IPVS_CMD_ATTR_DEST` nest with only address and port (for delete).
    pub fn encode_key(key: &DestKey, buf: &mut Vec<u8>) {
        let at = nla::nest_start(buf, crate::abi::cmd_attr::DEST);
        nla::put_addr(buf, a::ADDR, key.addr);
        nla::put_be16(buf, a::PORT, key.port);
        nla::put_u16(buf, a::ADDR_FAMILY, Family::of(&key.addr).raw());
        nla::nest_end(buf, at);
    }

    /// Decode the payload of a destination nest. Without `ADDR_FAMILY` (older kernels)
    /// the address is read in `default_family`, the service's.
    pub fn decode(payload: &[u8], default_family: Family) -> Result<Destination, DecodeError> {
        let mut family = default_family;
        let mut addr_raw: Option<&[u8]> = None;
        let mut d = Destination::new(
            IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            0,
            ForwardMethod::Masq,
        );
        let mut have_port = false;
        for attr in Attrs::new(payload) {
            let (k, p) = attr?;
            match k {
                a::ADDR => addr_raw = Some(p),
                a::ADDR_FAMILY => {
                    family = Family::from_raw(nla::get_u16("destination family", p)?)?
                }
                a::PORT => {
                    d.port = nla::get_be16("destination port", p)?;
                    have_port = true;
                }
                a::FWD_METHOD => {
                    d.method = ForwardMethod::from_raw(nla::get_u32("forwarding method", p)?)?
                }
                a::WEIGHT => d.weight = nla::get_u32("destination weight", p)?,
                a::U_THRESH => d.u_threshold = nla::get_u32("upper threshold", p)?,
                a::L_THRESH => d.l_threshold = nla::get_u32("lower threshold", p)?,
                a::ACTIVE_CONNS => d.active_conns = Some(nla::get_u32("active conns", p)?),
                a::INACT_CONNS => d.inactive_conns = Some(nla::get_u32("inactive conns", p)?),
                a::PERSIST_CONNS => d.persist_conns = Some(nla::get_u32("persistent conns", p)?),
                a::STATS => d.stats = Some(Stats::decode(p)?),
                a::STATS64 => d.stats64 = Some(Stats::decode(p)?),
                a::TUN_TYPE => {
                    d.tun_type = Some(TunnelType::from_raw(nla::get_u8("tunnel type", p)?)?)
                }
                a::TUN_PORT => d.tun_port = Some(nla::get_be16("tunnel port", p)?),
                a::TUN_FLAGS => d.tun_flags = Some(nla::get_u16("tunnel flags", p)?),
                _ => {}
            }
        }
        let raw = addr_raw.ok_or(DecodeError::Missing {
            what: "destination address",
        })?;
        if !have_port {
            return Err(DecodeError::Missing {
                what: "destination port",
            });
        }
        d.addr = nla::get_addr("destination address", family.raw(), raw)?;
        Ok(d)
    }
}
