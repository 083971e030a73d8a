//! The IPVS generic-netlink ABI and a synchronous client.
//!
//! - [`abi`]: the numbers (commands, attributes, flags) of `linux/ip_vs.h`.
//! - [`Service`], [`Destination`], [`Daemon`], [`Stats`], [`Timeouts`], [`Info`]: the
//!   messages, each with `encode` and `decode` side by side.
//! - [`Command`]: a whole IPVS request or reply; [`Messages`] walks a datagram.
//! - [`Client`]: resolve the family, list/add/edit/delete services and destinations,
//!   timeouts, daemons, flush, zero, info; [`Client::apply`] batches many changes in
//!   few datagrams.
//!
//! Nothing here panics on malformed input: decoders return [`DecodeError`]. No `unsafe`:
//! the netlink socket is `netlink-sys`'s.

#![forbid(unsafe_code)]

pub mod abi;
mod client;
mod daemon;
mod dest;
mod error;
mod global;
mod message;
mod nla;
mod service;
mod stats;

pub use client::{Client, Op};
pub use daemon::{Daemon, DaemonState};
pub use dest::{tun_flags, DestKey, Destination, ForwardMethod, TunnelType};
pub use error::{DecodeError, Errno, Error, Operation};
pub use global::{Info, Timeouts};
pub use message::{decode_datagram, encode_genl, Command, Messages, NlHeader, NlMsg};
pub use nla::Attrs;
pub use service::{Family, Flags, Protocol, Service, ServiceKey, NETMASK_V4_HOST, NETMASK_V6_HOST};
pub use stats::Stats;
