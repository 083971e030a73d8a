//! Restart without outage (issue 5, point 6): the master's VRRP child is SIGKILLed again
//! and again while a backup listens; the parent respawns it, the new child resumes MASTER
//! with the addresses kept and adverts at once. Probed every millisecond, the VIP is never
//! absent and never on both hosts. keepalived 2.2.7 does lose the VIP here (its new child
//! removes the VIPs and waits a master-down interval): measured in the same file as the
//! reference figure.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ka_tests::daemon::{require_keepalived, wait_until, Daemon, Impl};
use ka_tests::probe::Prober;
use ka_tests::{require_root, Lan};

const UP: Duration = Duration::from_secs(12);

fn conf(state: &str, prio: u8, vip: &str, advert: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 77\n  \
         priority {prio}\n  advert_int {advert}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

fn kill(pid: i32) {
    // SAFETY: kill(2) on a pid of a process this test started; no memory involved.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Kill the master's VRRP child `rounds` times; returns the probe timeline's absent and
/// duplicated intervals and whether the backup ever went MASTER.
fn kill_loop(
    imp: Impl,
    net: &str,
    rounds: usize,
    pause: Duration,
) -> (Vec<(Duration, Duration)>, Vec<(Duration, Duration)>, bool) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().expect("vip");
    let a = Daemon::start(&lan.hosts[0], imp, &conf("MASTER", 150, &vip_s, "1"));
    assert!(wait_until(UP, || lan.hosts[0].has_addr(vip)), "no master");
    let b = Daemon::start(&lan.hosts[1], imp, &conf("BACKUP", 100, &vip_s, "1"));
    // Let the backup settle into BACKUP and hear a few adverts.
    std::thread::sleep(Duration::from_secs(2));
    assert!(!lan.hosts[1].has_addr(vip));
    let probe = Prober::start(
        &[&lan.hosts[0], &lan.hosts[1]],
        vip,
        Duration::from_millis(1),
    );
    for round in 0..rounds {
        let Some(pid) = a.vrrp_pid().filter(|p| alive(*p)) else {
            panic!("round {round}: no live VRRP child\n{}", a.log());
        };
        kill(pid);
        // Wait for the parent to start a new child (new pid in the pid file).
        let t0 = Instant::now();
        assert!(
            wait_until(Duration::from_secs(10), || a
                .vrrp_pid()
                .is_some_and(|p| p != pid && alive(p))),
            "round {round}: the VRRP child was not respawned\n{}",
            a.log()
        );
        let respawn = t0.elapsed();
        if respawn > Duration::from_secs(2) {
            eprintln!("round {round}: respawn took {respawn:?}");
        }
        std::thread::sleep(pause);
    }
    // Wait for things to settle on the keepalived side (it may still be recovering).
    assert!(
        wait_until(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "the VIP did not end on the master alone"
    );
    std::thread::sleep(Duration::from_millis(200));
    let t = probe.finish();
    let backup_went_master = b.log().contains("Entering MASTER STATE");
    drop(b);
    drop(a);
    (t.absent(), t.duplicated(), backup_went_master)
}

#[test]
fn ours_vrrp_child_sigkilled_20_times_no_outage() {
    if !require_root("ours_vrrp_child_sigkilled_20_times_no_outage") {
        return;
    }
    let (absent, dup, backup_master) =
        kill_loop(Impl::Ours, "10.94.1", 20, Duration::from_millis(400));
    assert!(absent.is_empty(), "VIP absent: {absent:?}");
    assert!(dup.is_empty(), "VIP on both hosts: {dup:?}");
    assert!(!backup_master, "the backup took over during the restarts");
}

#[test]
fn keepalived_vrrp_child_sigkill_reference() {
    if !require_root("keepalived_vrrp_child_sigkill_reference")
        || !require_keepalived("keepalived_vrrp_child_sigkill_reference")
    {
        return;
    }
    // One kill is enough to see it; keepalived's respawn back-off makes a fast loop slow.
    let (absent, dup, _) = kill_loop(Impl::Keepalived, "10.94.2", 1, Duration::from_secs(5));
    let total: Duration = absent.iter().map(|a| a.1).sum();
    eprintln!(
        "REFERENCE keepalived 2.2.7, VRRP child SIGKILL at advert_int 1: VIP absent {total:?} \
         ({} gap(s)), duplicated {:?}",
        absent.len(),
        dup
    );
    // Recorded, not hidden: keepalived's new child removes the VIPs and waits a
    // master-down interval (lab: ~2.7 s). Assert only that the measurement saw it.
    assert!(
        !absent.is_empty(),
        "keepalived kept the VIP through a VRRP child SIGKILL: the reference changed"
    );
}
