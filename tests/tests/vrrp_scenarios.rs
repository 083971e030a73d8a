//! The seeds' VRRP scenarios on a real network (hosts in network namespaces on a bridge),
//! run with any mix of keepalived 2.2.7 and keepalived-rs. keepalived-on-both-sides runs
//! validate the harness against the reference; the mixed runs are the interop proof.

use std::net::IpAddr;
use std::time::Duration;

use ka_tests::daemon::{require_keepalived, wait_until, Daemon, Impl};
use ka_tests::{require_root, Lan};

/// The seeds' single-instance config (tutorial 000/003/004 shape), one VIP.
fn single(state: &str, prio: u8, vip: &str, extra: &str) -> String {
    format!(
        "global_defs {{\n  router_id LVS_DEVEL\n}}\n\
         vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 51\n  \
         priority {prio}\n  advert_int 1\n{extra}  authentication {{\n    auth_type PASS\n    \
         auth_pass 1111\n  }}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test literal")
}

const UP: Duration = Duration::from_secs(10);

/// VIP on the master; stop the master and it moves; start it again and it comes back.
fn preempt_and_return(master: Impl, backup: Impl, net: &str) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip = ip(&vip_s);
    let mut a = Daemon::start(&lan.hosts[0], master, &single("MASTER", 150, &vip_s, ""));
    let _b = Daemon::start(&lan.hosts[1], backup, &single("BACKUP", 100, &vip_s, ""));
    assert!(
        wait_until(UP, || lan.hosts[0].has_addr(vip)),
        "VIP never reached the master"
    );
    assert!(!lan.hosts[1].has_addr(vip), "VIP on the backup too");
    assert!(a.stop(Duration::from_secs(5)), "master did not stop in 5 s");
    assert!(
        wait_until(UP, || lan.hosts[1].has_addr(vip)),
        "VIP did not move to the backup"
    );
    assert!(!lan.hosts[0].has_addr(vip), "stopped master kept the VIP");
    let _a2 = Daemon::start(&lan.hosts[0], master, &single("MASTER", 150, &vip_s, ""));
    assert!(
        wait_until(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "VIP did not come back to the restarted master (preempt)"
    );
}

/// With `nopreempt` on the higher-priority node (state BACKUP, as keepalived requires),
/// a restarted node does not take the VIP back.
fn nopreempt_stays(first: Impl, second: Impl, net: &str) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip = ip(&vip_s);
    let conf_hi = single("BACKUP", 150, &vip_s, "  nopreempt\n");
    let mut a = Daemon::start(&lan.hosts[0], first, &conf_hi);
    let _b = Daemon::start(
        &lan.hosts[1],
        second,
        &single("BACKUP", 100, &vip_s, "  nopreempt\n"),
    );
    assert!(
        wait_until(UP, || lan.hosts[0].has_addr(vip)),
        "VIP never reached the higher priority node"
    );
    assert!(a.stop(Duration::from_secs(5)));
    assert!(
        wait_until(UP, || lan.hosts[1].has_addr(vip)),
        "VIP did not move"
    );
    let _a2 = Daemon::start(&lan.hosts[0], first, &conf_hi);
    // Give the restarted node more than a master-down interval to (wrongly) preempt.
    std::thread::sleep(Duration::from_secs(6));
    assert!(lan.hosts[1].has_addr(vip), "nopreempt: VIP left the backup");
    assert!(!lan.hosts[0].has_addr(vip), "nopreempt: VIP taken back");
}

#[test]
fn keepalived_pair_preempt_and_return() {
    if !require_root("keepalived_pair_preempt_and_return")
        || !require_keepalived("keepalived_pair_preempt_and_return")
    {
        return;
    }
    preempt_and_return(Impl::Keepalived, Impl::Keepalived, "10.91.1");
}

#[test]
fn keepalived_pair_nopreempt_stays() {
    if !require_root("keepalived_pair_nopreempt_stays")
        || !require_keepalived("keepalived_pair_nopreempt_stays")
    {
        return;
    }
    nopreempt_stays(Impl::Keepalived, Impl::Keepalived, "10.91.2");
}
