//! Two routers of one VRID whose VIP lists differ (a reload applied on one host only, a
//! typo): keepalived 2.4.3 accepts the other's adverts, reports the difference and elects
//! one MASTER; RFC 3768 §7.1 and keepalived 2.2.7 drop them, and both hosts go MASTER with
//! the common VIP on each. keepalived-rs does as 2.4.3, in a mixed pair both ways round:
//! the lower priority stays BACKUP, the common VIP is on one host only. With `-D` both
//! log the master they hear ("master set to ADDR").

use std::net::IpAddr;
use std::thread;
use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan};

const UP: Duration = Duration::from_secs(12);

/// An instance with the common VIP `.100` and one of its own (`.{own}`).
fn conf(prio: u8, own: u8, net: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 57\n  \
         priority {prio}\n  advert_int 1\n  virtual_ipaddress {{\n    {net}.100/24\n    \
         {net}.{own}/24\n  }}\n}}\n"
    )
}

/// `high` (priority 200, VIPs .100 and .102) starts on host 0, then `low` (priority 100,
/// VIPs .100 and .101) on host 1. Returns `low`'s log after 5 s beside the master.
fn run(high: Impl, low: Impl, net: &str) -> String {
    let lan = Lan::new(2, net);
    let common: IpAddr = format!("{net}.100").parse().expect("vip");
    let mut a = Daemon::start(&lan.hosts[0], high, &conf(200, 102, net));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(common)),
        "{}: never MASTER\n{}",
        high.name(),
        a.log()
    );
    let mut b = Daemon::start(&lan.hosts[1], low, &conf(100, 101, net));
    // Past a Master_Down_Interval (3.6 s) and the first adverts.
    thread::sleep(Duration::from_secs(5));
    let (on_a, on_b) = (lan.hosts[0].has_addr(common), lan.hosts[1].has_addr(common));
    let log = b.log();
    a.stop(Duration::from_secs(5));
    b.stop(Duration::from_secs(5));
    assert!(
        on_a && !on_b,
        "{} MASTER beside {}: common VIP on host 0 {on_a}, on host 1 {on_b}\n{log}",
        high.name(),
        low.name()
    );
    log
}

#[test]
fn a_backup_with_another_vip_list_stays_backup_as_keepalived_2_4_3() {
    let name = "a_backup_with_another_vip_list_stays_backup_as_keepalived_2_4_3";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (ours, theirs) = thread::scope(|s| {
        let ours = s.spawn(|| run(Impl::Keepalived243, Impl::Ours, "10.57.1"));
        let theirs = s.spawn(|| run(Impl::Ours, Impl::Keepalived243, "10.57.2"));
        (ours.join().expect("ours"), theirs.join().expect("theirs"))
    });
    // keepalived 2.4.3 reports the address it misses; keepalived-rs reports the
    // difference once for the sender.
    assert!(
        theirs.contains("not present in advert from 10.57.2.1: 10.57.2.101"),
        "keepalived 2.4.3 did not report the difference\n{theirs}"
    );
    let reports = ours
        .lines()
        .filter(|l| l.contains("advertisement from 10.57.1.1: address list mismatch"))
        .count();
    assert_eq!(reports, 1, "reports of the difference\n{ours}");
    // With -D both name the master heard, once.
    for (log, master) in [(&ours, "10.57.1.1"), (&theirs, "10.57.2.1")] {
        let line = format!("(VI_1) master set to {master}");
        assert_eq!(log.matches(&line).count(), 1, "{line}\n{log}");
    }
}
