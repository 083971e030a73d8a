//! The Linux side of the VRRP child: everything that touches the kernel, as small synchronous,
//! non-blocking building blocks that register with one [`mio`] event loop (no async runtime,
//! no threads).
//!
//! - [`socket`]: raw VRRP sockets (IP protocol 112) for IPv4 and IPv6, multicast or unicast.
//! - [`netlink`]: rtnetlink requests (addresses, routes, rules, links) and a monitor socket
//!   whose link/address events are decoded into a small enum.
//! - [`arp`] and [`ndisc`]: gratuitous ARP and unsolicited neighbour advertisements.
//! - [`vmac`]: `use_vmac` macvlan interfaces and the sysctls keepalived sets on them.
//! - [`script`], [`notify`], [`track_file`]: scripts run without blocking the loop,
//!   `vrrp_script` tracking, notify scripts and FIFOs, `track_file`.
//!
//! Nothing here depends on the engine's types: inputs are plain std types (addresses,
//! interface indexes, byte slices). All `unsafe` lives in [`sys`], in small wrappers.

pub mod arp;
pub mod capture;
pub mod ndisc;
pub mod netlink;
pub mod notify;
pub mod script;
pub mod socket;
mod sys;
pub mod track_file;
pub mod vmac;

#[cfg(test)]
mod proptests;
