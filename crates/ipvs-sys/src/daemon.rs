//! Connection-synchronisation daemons (`IPVS_CMD_ATTR_DAEMON`).

use crate::abi::daemon_attr as a;
use crate::error::DecodeError;
use crate::nla::{self, Attrs};
use std::net::IpAddr;

/// Role of a sync daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonState {
    Master,
    Backup,
}

impl DaemonState {
    /// The kernel's number (`IP_VS_STATE_MASTER` = 1, `BACKUP` = 2).
    pub fn raw(self) -> u32 {
        match self {
            DaemonState::Master => 1,
            DaemonState::Backup => 2,
        }
    }

    /// From the kernel's number.
    pub fn from_raw(v: u32) -> Result<DaemonState, DecodeError> {
        match v {
            1 => Ok(DaemonState::Master),
            2 => Ok(DaemonState::Backup),
            _ => Err(DecodeError::BadValue {
                what: "sync daemon state",
                value: u64::from(v),
            }),
        }
    }
}

/// A sync daemon's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    pub state: DaemonState,
    /// Interface the sync messages use.
    pub mcast_ifn: String,
    pub sync_id: u32,
    pub sync_maxlen: Option<u16>,
    /// Multicast group (IPv4 or IPv6).
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
}

impl Daemon {
    /// A daemon with only the mandatory settings.
    pub fn new(state: DaemonState, mcast_ifn: &str, sync_id: u32) -> Daemon {
        Daemon {
            state,
            mcast_ifn: mcast_ifn.into(),
            sync_id,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }

    /// Append the `IPVS_CMD_ATTR_DAEMON` nest.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        let at = nla::nest_start(buf, crate::abi::cmd_attr::DAEMON);
        nla::put_u32(buf, a::STATE, self.state.raw());
        nla::put_str(buf, a::MCAST_IFN, &self.mcast_ifn);
        nla::put_u32(buf, a::SYNC_ID, self.sync_id);
        if let Some(v) = self.sync_maxlen {
            nla::put_u16(buf, a::SYNC_MAXLEN, v);
        }
        if let Some(v) = self.mcast_port {
            nla::put_u16(buf, a::MCAST_PORT, v);
        }
        if let Some(v) = self.mcast_ttl {
            nla::put_u8(buf, a::MCAST_TTL, v);
        }
        match self.mcast_group {
            Some(IpAddr::V4(g)) => nla::put(buf, a::MCAST_GROUP, &g.octets()),
            Some(IpAddr::V6(g)) => nla::put(buf, a::MCAST_GROUP6, &g.octets()),
            None => {}
        }
        nla::nest_end(buf, at);
    }

    /// Append a nest with only the state (what stopping a daemon needs).
    pub fn encode_state(state: DaemonState, buf: &mut Vec<u8>) {
        let at = nla::nest_start(buf, crate::abi::cmd_attr::DAEMON);
        nla::put_u32(buf, a::STATE, state.raw());
        nla::nest_end(buf, at);
    }

    /// Decode the payload of a daemon nest.
    pub fn decode(payload: &[u8]) -> Result<Daemon, DecodeError> {
        let mut state = None;
        let mut d = Daemon::new(DaemonState::Master, "", 0);
        for attr in Attrs::new(payload) {
            let (k, p) = attr?;
            match k {
                a::STATE => state = Some(DaemonState::from_raw(nla::get_u32("daemon state", p)?)?),
                a::MCAST_IFN => d.mcast_ifn = nla::get_str("daemon interface", p)?,
                a::SYNC_ID => d.sync_id = nla::get_u32("daemon sync id", p)?,
                a::SYNC_MAXLEN => d.sync_maxlen = Some(nla::get_u16("daemon maxlen", p)?),
                a::MCAST_PORT => d.mcast_port = Some(nla::get_u16("daemon port", p)?),
                a::MCAST_TTL => d.mcast_ttl = Some(nla::get_u8("daemon ttl", p)?),
                a::MCAST_GROUP => {
                    d.mcast_group = Some(nla::get_addr("daemon group", crate::abi::nl::AF_INET, p)?)
                }
                a::MCAST_GROUP6 => {
                    d.mcast_group =
                        Some(nla::get_addr("daemon group6", crate::abi::nl::AF_INET6, p)?)
                }
                _ => {}
            }
        }
        d.state = state.ok_or(DecodeError::Missing {
            what: "daemon state",
        })?;
        Ok(d)
    }
}
