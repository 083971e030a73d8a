//! The errors of [`VrrpSocket`](super::VrrpSocket).

use std::fmt;
use std::io;
use std::net::IpAddr;

use super::Family;

/// What went wrong with a VRRP socket, and where.
#[derive(Debug)]
pub enum SocketError {
    /// `socket()` failed (no CAP_NET_RAW?).
    Open { family: Family, source: io::Error },
    /// A socket option could not be set.
    Option {
        option: &'static str,
        ifname: String,
        source: io::Error,
    },
    /// The multicast group could not be joined on the interface.
    Join {
        group: IpAddr,
        ifname: String,
        source: io::Error,
    },
    /// The configuration mixes address families (group or source vs. socket family).
    FamilyMismatch { what: &'static str, addr: IpAddr },
    /// Sending to `dst` failed.
    Send { dst: IpAddr, source: io::Error },
    /// Receiving failed.
    Recv { ifname: String, source: io::Error },
    /// A received IPv4 packet had a header that does not parse (`len` bytes received).
    BadIpHeader { len: usize },
    /// A received packet lacked the ancillary data that names its destination / hop limit.
    MissingAncillary { what: &'static str },
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::Open { family, source } => {
                write!(f, "cannot open a raw VRRP socket ({family:?}): {source}")
            }
            SocketError::Option {
                option,
                ifname,
                source,
            } => {
                write!(
                    f,
                    "cannot set {option} on the VRRP socket of {ifname}: {source}"
                )
            }
            SocketError::Join {
                group,
                ifname,
                source,
            } => {
                write!(f, "cannot join {group} on {ifname}: {source}")
            }
            SocketError::FamilyMismatch { what, addr } => {
                write!(f, "{what} {addr} is not of the socket's address family")
            }
            SocketError::Send { dst, source } => write!(f, "cannot send VRRP to {dst}: {source}"),
            SocketError::Recv { ifname, source } => {
                write!(f, "cannot receive VRRP on {ifname}: {source}")
            }
            SocketError::BadIpHeader { len } => {
                write!(
                    f,
                    "received IPv4 packet of {len} bytes with an invalid header"
                )
            }
            SocketError::MissingAncillary { what } => {
                write!(f, "received IPv6 packet without {what}")
            }
        }
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SocketError::Open { source, .. }
            | SocketError::Option { source, .. }
            | SocketError::Join { source, .. }
            | SocketError::Send { source, .. }
            | SocketError::Recv { source, .. } => Some(source),
            _ => None,
        }
    }
}
