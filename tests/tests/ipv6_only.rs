//! An IPv6 instance on an interface with no IPv4 address (only its link-local IPv6
//! address) is not held in FAULT: it goes MASTER and installs its VIP, as keepalived 2.4.3
//! does (a 2.3 change). Both run side by side, each in a namespace of its own.

use std::net::IpAddr;
use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Netns};

/// Whether `imp` holds the VIP on an IPv6-only veth within 12 s, and its log.
fn master_on_ipv6_only(imp: Impl, tag: &str) -> (bool, String) {
    let ns = Netns::new(tag);
    ns.ip(["link", "add", "v6a", "type", "veth", "peer", "name", "v6b"]);
    ns.ip(["link", "set", "v6a", "up"]);
    ns.ip(["link", "set", "v6b", "up"]);
    let vip: IpAddr = "fd00:66::100".parse().expect("vip");
    let config = "vrrp_instance VI_6 {\n  interface v6a\n  virtual_router_id 66\n  \
                  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    fd00:66::100/64\n  \
                  }\n}\n";
    let mut d = Daemon::start(&ns, imp, config);
    let up = wait_for(Duration::from_secs(12), || ns.has_addr(vip));
    let log = d.log();
    d.stop(Duration::from_secs(5));
    (up, log)
}

#[test]
fn an_ipv6_instance_without_ipv4_on_its_interface_goes_master_as_keepalived_2_4_3() {
    let name = "an_ipv6_instance_without_ipv4_on_its_interface_goes_master_as_keepalived_2_4_3";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (theirs, ours) = std::thread::scope(|s| {
        let theirs = s.spawn(|| master_on_ipv6_only(Impl::Keepalived243, "v6k"));
        let ours = s.spawn(|| master_on_ipv6_only(Impl::Ours, "v6o"));
        (theirs.join().expect("theirs"), ours.join().expect("ours"))
    });
    assert!(theirs.0, "keepalived 2.4.3 never MASTER\n{}", theirs.1);
    assert!(ours.0, "keepalived-rs never MASTER\n{}", ours.1);
}
