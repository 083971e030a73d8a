//! An interface that is deleted and created again (same name, a new index) brings its
//! instance back: FAULT while it is gone, then BACKUP and MASTER with the VIP, as
//! keepalived 2.4.3 does (a 2.3 change). Both run side by side, each in its own namespace.

use std::net::IpAddr;
use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Netns};

fn veth(ns: &Netns) {
    ns.ip(["link", "add", "rc0", "type", "veth", "peer", "name", "rc1"]);
    ns.ip(["addr", "add", "10.56.0.1/24", "dev", "rc0"]);
    ns.ip(["link", "set", "rc0", "up"]);
    ns.ip(["link", "set", "rc1", "up"]);
}

/// Whether `imp` holds the VIP again within 15 s of the interface's return, and its log.
fn back_after_recreate(imp: Impl, tag: &str) -> (bool, String) {
    let ns = Netns::new(tag);
    veth(&ns);
    let vip: IpAddr = "10.56.0.100".parse().expect("vip");
    let config = "vrrp_instance VI_R {\n  interface rc0\n  virtual_router_id 56\n  \
                  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    10.56.0.100/24\n  \
                  }\n}\n";
    let mut d = Daemon::start(&ns, imp, config);
    let first = wait_for(Duration::from_secs(12), || ns.has_addr(vip));
    ns.ip(["link", "del", "rc0"]);
    std::thread::sleep(Duration::from_secs(2));
    veth(&ns);
    let back = first && wait_for(Duration::from_secs(15), || ns.has_addr(vip));
    let log = d.log();
    d.stop(Duration::from_secs(5));
    (back, log)
}

#[test]
fn a_recreated_interface_brings_the_instance_back_as_keepalived_2_4_3() {
    let name = "a_recreated_interface_brings_the_instance_back_as_keepalived_2_4_3";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (theirs, ours) = std::thread::scope(|s| {
        let theirs = s.spawn(|| back_after_recreate(Impl::Keepalived243, "rck"));
        let ours = s.spawn(|| back_after_recreate(Impl::Ours, "rco"));
        (theirs.join().expect("theirs"), ours.join().expect("ours"))
    });
    assert!(theirs.0, "keepalived 2.4.3 not back\n{}", theirs.1);
    assert!(ours.0, "keepalived-rs not back\n{}", ours.1);
}
