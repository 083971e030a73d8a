//! Table-wide settings: protocol timeouts (GET/SET_CONFIG) and version info (GET_INFO).

use crate::abi::{cmd_attr, info_attr};
use crate::error::DecodeError;
use crate::nla::{self, Attrs};

/// Connection timeouts in seconds; 0 in a request leaves that timeout unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

impl Timeouts {
    /// Append the three top-level timeout attributes.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        nla::put_u32(buf, cmd_attr::TIMEOUT_TCP, self.tcp);
        nla::put_u32(buf, cmd_attr::TIMEOUT_TCP_FIN, self.tcp_fin);
        nla::put_u32(buf, cmd_attr::TIMEOUT_UDP, self.udp);
    }

    /// Decode the top-level attributes of a GET_CONFIG reply.
    pub fn decode(attrs: &[u8]) -> Result<Timeouts, DecodeError> {
        let mut t = Timeouts::default();
        for attr in Attrs::new(attrs) {
            let (k, p) = attr?;
            match k {
                cmd_attr::TIMEOUT_TCP => t.tcp = nla::get_u32("tcp timeout", p)?,
                cmd_attr::TIMEOUT_TCP_FIN => t.tcp_fin = nla::get_u32("tcp fin timeout", p)?,
                cmd_attr::TIMEOUT_UDP => t.udp = nla::get_u32("udp timeout", p)?,
                _ => {}
            }
        }
        Ok(t)
    }
}

/// IPVS version and connection-table size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Info {
    /// `(major << 16) | (minor << 8) | patch`.
    pub version: u32,
    pub conn_tab_size: u32,
}

impl Info {
    /// The version as `(major, minor, patch)`.
    pub fn version_triple(&self) -> (u32, u32, u32) {
        (
            self.version >> 16,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
        )
    }

    /// Append the top-level attributes of a GET_INFO reply.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        nla::put_u32(buf, info_attr::VERSION, self.version);
        nla::put_u32(buf, info_attr::CONN_TAB_SIZE, self.conn_tab_size);
    }

    /// Decode the top-level attributes of a GET_INFO reply.
    pub fn decode(attrs: &[u8]) -> Result<Info, DecodeError> {
        let mut i = Info::default();
        let mut have_version = false;
        for attr in Attrs::new(attrs) {
            let (k, p) = attr?;
            match k {
                info_attr::VERSION => {
                    i.version = nla::get_u32("ipvs version", p)?;
                    have_version = true;
                }
                info_attr::CONN_TAB_SIZE => i.conn_tab_size = nla::get_u32("conn table size", p)?,
                _ => {}
            }
        }
        if !have_version {
            return Err(DecodeError::Missing {
                what: "ipvs version",
            });
        }
        Ok(i)
    }
}
