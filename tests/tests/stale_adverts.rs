//! A BACKUP is not kept alive by adverts that sat in its socket queue (issue 11, found by
//! the chaos campaign).
//!
//! Two keepalived-rs hosts on a LAN: A MASTER at priority 150, B BACKUP at 100, advert_int
//! 1 (Master_Down_Interval 3 x 1 s + 156/256 s = 3.61 s on B). B's VRRP child is stopped
//! (SIGSTOP: a VM pause, a long stall) at T; A is killed hard at T + 1.2 s (SIGKILL to all
//! its processes: no priority-0 advert) and its host leaves the LAN; B's child is resumed
//! at T + 4.9 s.
//!
//! A's last advert reached B's socket between T + 0.2 s and T + 1.2 s (one a second: at
//! least one arrived during the stop, whatever the phase), so B's Master_Down timer, run
//! from when that advert arrived, ran out by T + 4.81 s: B must take over as soon as it
//! resumes. Before the fix B handled the queued adverts as if they had just arrived and
//! restarted its timer from the resume: it took over a full Master_Down_Interval (3.6 s)
//! after the resume, with the VIP on no host meanwhile.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::probe::Prober;
use ka_tests::wait_for;
use ka_tests::{require_root, Lan};

const UP: Duration = Duration::from_secs(15);
/// From the stop to the kill of the MASTER: over one advert interval, so that at least one
/// advert is queued on B.
const KILL_AFTER: Duration = Duration::from_millis(1200);
/// From the stop to the resume: past the last queued advert's Master_Down_Interval.
const RESUME_AFTER: Duration = Duration::from_millis(4900);
/// How soon after the resume B must hold the VIP (the timer has run out: at once, plus
/// scheduling on a busy 2-core machine and the 1 ms probe).
const TAKEOVER_WITHIN: Duration = Duration::from_millis(300);

fn conf(state: &str, prio: u8, version: u8, vip: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  version {version}\n  \
         virtual_router_id 51\n  priority {prio}\n  advert_int 1\n  \
         virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) on a pid of a process this test started; no memory involved.
    unsafe { libc::kill(pid, sig) };
}

/// Runs the scenario; returns how long after the resume B held the VIP (None: not within
/// 6 s).
/// Two keepalived-rs hosts on a LAN, A MASTER at 150 and B BACKUP at 100, settled.
/// Dropped in field order: the daemons, then the LAN.
struct Pair {
    a: Daemon,
    /// Kept running for the scenario; dropped (stopped) with the pair.
    _b: Daemon,
    lan: Lan,
    vip: IpAddr,
    /// B's VRRP child.
    child: i32,
}

fn settled_pair(version: u8, net: &str) -> Pair {
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().expect("VIP literal");
    let (ha, hb) = (&lan.hosts[0], &lan.hosts[1]);
    let a = Daemon::start(ha, Impl::Ours, &conf("MASTER", 150, version, &vip_s));
    assert!(wait_for(UP, || ha.has_addr(vip)), "A never became MASTER");
    let b = Daemon::start(hb, Impl::Ours, &conf("BACKUP", 100, version, &vip_s));
    let mut child = None;
    assert!(
        wait_for(UP, || {
            child = b.vrrp_pid();
            child.is_some()
        }),
        "no VRRP child on B"
    );
    let child = child.expect("checked");
    // B settles as BACKUP, hearing A.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        ha.has_addr(vip) && !hb.has_addr(vip),
        "not A MASTER, B BACKUP"
    );
    Pair {
        a,
        _b: b,
        lan,
        vip,
        child,
    }
}

fn resume_to_takeover(version: u8, net: &str) -> Option<Duration> {
    let p = settled_pair(version, net);
    let (hb, vip, child) = (&p.lan.hosts[1], p.vip, p.child);
    let probe = Prober::start(&[hb], vip, Duration::from_millis(1));
    let stopped = Instant::now();
    signal(child, libc::SIGSTOP);
    std::thread::sleep(KILL_AFTER.saturating_sub(stopped.elapsed()));
    for pid in p.a.all_pids() {
        signal(pid, libc::SIGKILL);
    }
    // A's host is gone: off the LAN (its VIP stays behind in its namespace).
    p.lan.set_link(0, false);
    std::thread::sleep(RESUME_AFTER.saturating_sub(stopped.elapsed()));
    let resumed = Instant::now();
    signal(child, libc::SIGCONT);
    wait_for(Duration::from_secs(6), || hb.has_addr(vip));
    // Let the probe see it too.
    std::thread::sleep(Duration::from_millis(20));
    let t = probe.finish();
    let took = t.hosts[0]
        .iter()
        .find(|(at, has)| *has && *at >= resumed)
        .map(|(at, _)| *at - resumed);
    eprintln!(
        "VRRPv{version}: stop -> kill {:?}, stop -> resume {:?}, resume -> B holds the VIP {took:?}",
        KILL_AFTER, RESUME_AFTER
    );
    let before = t.hosts[0].iter().any(|(at, has)| *has && *at < resumed);
    assert!(!before, "B took the VIP while its VRRP child was stopped");
    took
}

fn check(version: u8, net: &str) {
    let took = resume_to_takeover(version, net);
    assert!(
        took.is_some_and(|d| d <= TAKEOVER_WITHIN),
        "VRRPv{version}: B held the VIP {took:?} after its VRRP child resumed; its \
         Master_Down timer, run from A's last advert, had run out: at once (within \
         {TAKEOVER_WITHIN:?}) expected"
    );
}

#[test]
fn resumed_backup_takes_over_at_once_v2() {
    if !require_root("resumed_backup_takes_over_at_once_v2") {
        return;
    }
    check(2, "10.91.23");
}

#[test]
fn resumed_backup_takes_over_at_once_v3() {
    if !require_root("resumed_backup_takes_over_at_once_v3") {
        return;
    }
    check(3, "10.91.24");
}

/// A BACKUP resumed after a stop longer than its Master_Down_Interval, while its MASTER
/// kept advertising into its socket, stays BACKUP: it reads the queued adverts (and any
/// stop signal) before acting on the timer that ran out during the stop (issue 11, the
/// 1-hour chaos run). Before the fix SIGCONT made the wait fail with EINTR and the loop went
/// straight to its timers: B became MASTER (an advert at its priority 100, the VIP added),
/// then read A's queued adverts and stepped down.
fn resumed_backup_stays_backup(version: u8, net: &str) {
    let p = settled_pair(version, net);
    let (ha, hb, vip, child) = (&p.lan.hosts[0], &p.lan.hosts[1], p.vip, p.child);
    let probe = Prober::start(&[hb], vip, Duration::from_millis(1));
    let cap = ka_tests::capture::Capture::start(ha, "eth0", 0x0800);
    signal(child, libc::SIGSTOP);
    // Past B's Master_Down_Interval (3.61 s), A advertising all along.
    std::thread::sleep(Duration::from_millis(4500));
    signal(child, libc::SIGCONT);
    std::thread::sleep(Duration::from_millis(1500));
    let frames = cap.finish();
    let t = probe.finish();
    let b_addr = p.lan.addr(1);
    let from_b = frames
        .iter()
        .filter(|f| {
            let p = &f.bytes;
            p.len() > 34 && p[23] == 112 && p[26..30] == b_addr_octets(&b_addr)
        })
        .count();
    let held = t.hosts[0].iter().any(|(_, has)| *has);
    eprintln!("VRRPv{version}: B's adverts after the resume: {from_b}; B held the VIP: {held}");
    assert_eq!(from_b, 0, "B advertised (took over) after its resume");
    assert!(!held, "B held the VIP after its resume");
    assert!(ha.has_addr(vip), "A lost the VIP");
}

fn b_addr_octets(addr: &str) -> [u8; 4] {
    addr.parse::<std::net::Ipv4Addr>()
        .map(|a| a.octets())
        .unwrap_or_default()
}

#[test]
fn resumed_backup_reads_its_queue_before_its_timers_v2() {
    if !require_root("resumed_backup_reads_its_queue_before_its_timers_v2") {
        return;
    }
    resumed_backup_stays_backup(2, "10.91.25");
}

#[test]
fn resumed_backup_reads_its_queue_before_its_timers_v3() {
    if !require_root("resumed_backup_reads_its_queue_before_its_timers_v3") {
        return;
    }
    resumed_backup_stays_backup(3, "10.91.26");
}
