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
//! interface indexes, byte slices). All `unsafe` lives in `sys`, in small wrappers.
//!
//! How the engine's actions map onto these blocks (one mio `Poll` for everything):
//!
//! | Engine | Linux layer |
//! |---|---|
//! | `SendAdvert { iface, src, dst, ttl, bytes }` | [`socket::VrrpSocket::send_with`] (per-packet source and TTL) on the socket of `iface` and the family (one socket per interface and family, opened with [`socket::SocketConfig`]) |
//! | packet received | [`socket::VrrpSocket::recv`] → payload, src, dst, TTL, ifindex |
//! | `AddAddresses` / `DelAddresses` | the typed [`crate::AddressSet`] ([`crate::install`]: each VIP's [`crate::AddrOptions`], [`crate::install::Route`], [`crate::install::Rule`]) → [`netlink::AddressSpec`] / [`netlink::RouteSpec`] / [`netlink::RuleSpec`] (interface names resolved, nothing parsed) → [`netlink::Rtnl::add_addresses`] (pipelined) / [`netlink::Rtnl::add_route`] / [`netlink::Rtnl::add_rule`]; deletes likewise (absent = fine). [`netlink::parse_route`] / [`netlink::parse_rule`] / [`netlink::VipOptions::parse`] read the `ip` text forms for embedders that have only text |
//! | `SendGarp` / `SendNa` | [`pacer::Pacer`] (`vrrp_garp_interval`, `vrrp_gna_interval`, `garp_group`) then [`arp::GarpSender::send`] / [`ndisc::NaSender::send`] (Router flag from [`ndisc::forwarding`]) |
//! | `LinkUp` / `LinkDown` / `InterfaceAddress` inputs | [`netlink::Monitor::read_events`] → [`netlink::NetEvent`]; [`netlink::primary_address`] for the advert source; on [`netlink::NetEvent::Overrun`] re-read with [`netlink::Rtnl::links`] / [`netlink::Rtnl::addresses`] |
//! | `Tracker` input (scripts) | [`script::Runner`] (pidfd per child, timeouts via [`script::Runner::expire`]) + [`script::ScriptTracker`] (rise/fall/init_fail) |
//! | `Tracker` input (files) | [`track_file::TrackFiles`] (inotify) |
//! | `Tracker` input (processes) | [`proc_events::ProcEvents`] (process connector) + [`proc_events::scan`], counted by [`crate::process::ProcessTrackers`] |
//! | `Notify` | [`notify::notify_spec`] run by the same [`script::Runner`]; [`notify::NotifyFifo`] |
//! | `use_vmac` | [`vmac::create`] / [`vmac::delete`] |
//!
//! Costs measured here (debug build, 2-core VM, veth + bridge): an advert `send()` ~6 µs;
//! one address add ~50 µs, 500 pipelined adds ~60 ms; spawning a script ~0.4 ms in the
//! calling thread (`fork` + `exec`), ~0.8 ms until it is reaped. So on becoming MASTER,
//! send the advert and add the addresses before starting notify scripts.

/// `impl mio::event::Source` for a type whose readiness is that of its file descriptors:
/// register, reregister and deregister go to each. `mio_source_via_fd!(T)`: the one
/// descriptor its `AsRawFd` gives (a socket or an inotify instance);
/// `mio_source_via_fd!(T, T::fds)`: the ones its method `fds` yields, in order.
macro_rules! mio_source_via_fd {
    ($t:ty) => {
        mio_source_via_fd!($t, $crate::linux::own_fd);
    };
    ($t:ty, $fds:path) => {
        impl mio::event::Source for $t {
            mio_source_via_fd!(@forward $fds, register);
            mio_source_via_fd!(@forward $fds, reregister);

            fn deregister(&mut self, registry: &mio::Registry) -> std::io::Result<()> {
                for fd in $fds(self) {
                    mio::unix::SourceFd(&fd).deregister(registry)?;
                }
                Ok(())
            }
        }
    };
    // `register` and `reregister` take the same arguments.
    (@forward $fds:path, $method:ident) => {
        fn $method(
            &mut self,
            registry: &mio::Registry,
            token: mio::Token,
            interests: mio::Interest,
        ) -> std::io::Result<()> {
            for fd in $fds(self) {
                mio::unix::SourceFd(&fd).$method(registry, token, interests)?;
            }
            Ok(())
        }
    };
}

/// The one descriptor of a source whose readiness is its own (see `mio_source_via_fd!`).
fn own_fd(source: &impl std::os::fd::AsRawFd) -> std::iter::Once<std::os::fd::RawFd> {
    std::iter::once(source.as_raw_fd())
}

pub mod arp;
pub mod capture;
pub mod ndisc;
pub mod netlink;
pub mod nft;
pub mod notify;
pub mod pacer;
pub mod proc_events;
pub mod sched;
pub mod script;
pub mod socket;
mod sys;
pub mod track_file;
pub mod vmac;

/// The MTU of the interface called `name` in this namespace (`SIOCGIFMTU`).
pub fn interface_mtu(name: &str) -> std::io::Result<u32> {
    sys::interface_mtu(name)
}

/// The system calls the checker child needs too (its own `sys` keeps only what is its
/// alone): an integer socket option, a pidfd for a child process.
pub use sys::{pidfd_open, setsockopt_int};

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod mtu_tests {
    #[test]
    fn the_loopback_mtu_is_read_and_bad_names_are_refused() {
        // Every namespace has `lo`; its MTU is 65536 unless someone changed it.
        let mtu = super::interface_mtu("lo").unwrap();
        assert!(mtu >= 1280, "{mtu}");
        assert!(super::interface_mtu("no-such-if-x").is_err());
        assert!(super::interface_mtu("").is_err());
        assert!(super::interface_mtu("sixteen-bytes-xx").is_err());
        assert!(super::interface_mtu("a\0b").is_err());
    }
}
