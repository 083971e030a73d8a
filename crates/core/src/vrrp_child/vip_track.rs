//! Which VIPs this child holds right now, so that the kernel's report of a deleted address
//! tells a deletion by someone else (`ip addr del`: the engine hears
//! [`vrrp::Input::AddressDeleted`]) from our own (forgotten here before the report comes).
//! Addresses marked `no_track` are never reported, as keepalived ignores them. The
//! `virtual_routes` and `virtual_rules` are watched alike ([`RouteWatch`], kept here so
//! that every install and removal passes by both).

use std::collections::HashSet;
use std::net::IpAddr;

use ka_proto::config::Config;
use vrrp::AddressSet;

pub use super::route_track::RouteWatch;

#[derive(Debug, Default)]
pub struct VipWatch {
    held: HashSet<IpAddr>,
    untracked: HashSet<IpAddr>,
    /// The routes and rules.
    pub routes: RouteWatch,
}

impl VipWatch {
    /// The `no_track` VIPs and excluded VIPs of `config` (and routes and rules).
    pub fn configure(&mut self, config: &Config) {
        self.untracked = config
            .vrrp_instances
            .iter()
            .flat_map(|i| {
                i.virtual_ipaddress
                    .iter()
                    .chain(&i.virtual_ipaddress_excluded)
            })
            .filter(|v| v.no_track)
            .map(|v| v.prefix.addr)
            .collect();
        self.routes.configure(config);
    }

    /// We installed `set`.
    pub fn added(&mut self, set: &AddressSet) {
        self.held
            .extend(set.vips.iter().chain(&set.excluded).map(|v| v.addr));
        self.routes.added(set);
    }

    /// We removed `set`.
    pub fn removed(&mut self, set: &AddressSet) {
        for v in set.vips.iter().chain(&set.excluded) {
            self.held.remove(&v.addr);
        }
        self.routes.removed(set);
    }

    /// The kernel says `addr` is gone: true when we held it (so someone else removed it)
    /// and it is tracked. It is not held any more either way.
    pub fn deleted_by_other(&mut self, addr: IpAddr) -> bool {
        self.held.remove(&addr) && !self.untracked.contains(&addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ka_proto::config::{IpPrefix, VirtualIpAddress, VrrpInstance};
    use vrrp::Vip;

    fn set(addrs: &[&str]) -> AddressSet {
        AddressSet {
            vips: addrs
                .iter()
                .map(|a| Vip::host(a.parse().expect("literal")))
                .collect(),
            ..AddressSet::default()
        }
    }

    #[test]
    fn only_held_tracked_addresses_deleted_by_others_are_reported() {
        let mut inst = VrrpInstance::default();
        for (a, no_track) in [("10.0.0.1", false), ("10.0.0.2", true)] {
            let mut v = VirtualIpAddress::new(IpPrefix::parse(a).expect("literal"));
            v.no_track = no_track;
            inst.virtual_ipaddress.push(v);
        }
        let mut config = Config::default();
        config.vrrp_instances.push(inst);
        let mut w = VipWatch::default();
        w.configure(&config);
        let a1: IpAddr = "10.0.0.1".parse().expect("literal");
        let a2: IpAddr = "10.0.0.2".parse().expect("literal");
        // Not held yet (BACKUP): nothing to report.
        assert!(!w.deleted_by_other(a1));
        w.added(&set(&["10.0.0.1", "10.0.0.2"]));
        // no_track: never reported.
        assert!(!w.deleted_by_other(a2));
        assert!(w.deleted_by_other(a1));
        // Reported once: the address is not held any more.
        assert!(!w.deleted_by_other(a1));
        // Our own removal comes before the kernel's report: not reported.
        w.added(&set(&["10.0.0.1"]));
        w.removed(&set(&["10.0.0.1"]));
        assert!(!w.deleted_by_other(a1));
    }
}
