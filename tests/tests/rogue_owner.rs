//! Two address owners (priority 255) for one VRID, beside keepalived 2.4.3: a third host
//! forges the other owner's adverts (from a higher address; from a lower one that goes
//! quiet, that keeps on faster than we advertise, that keeps on slower) and both daemons
//! must log the same configuration-error lines, once per episode, and end up in the same
//! states.

use std::net::IpAddr;
use std::thread;
use std::time::{Duration, Instant};

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::forge::{self, Forger, Ip, Vrrp};
use ka_tests::{require_root, wait_for, Lan};

const VRID: u8 = 61;
const UP: Duration = Duration::from_secs(15);

/// The rogue-owner lines of a log, from the instance name on (timestamps and log
/// formats differ between the implementations, the wording must not).
fn rogue_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("address owner"))
        .filter_map(|l| l.find("(VI_1)").map(|i| l[i..].trim_end().to_string()))
        .collect()
}

/// One forged v2 advert with priority 255 from `src` (the daemon's VIP list).
fn rogue_frame(net: &str, src: &str) -> Vec<u8> {
    let vip: IpAddr = format!("{net}.100").parse().expect("vip");
    let src: IpAddr = src.parse().expect("src");
    let dst: IpAddr = "224.0.0.18".parse().expect("group");
    let msg = Vrrp::v2(VRID, 255, vec![vip]).bytes(src, dst);
    let ip = Ip { src, dst, ttl: 255 };
    forge::frame([0x02, 0, 0, 0, 0, 0x99], [0xff; 6], &ip, &msg)
}

/// Run the three episodes against `imp` (the owner on host 1, `{net}.2`); returns its
/// rogue-owner lines and whether each episode ended as it should.
fn episodes(imp: Impl, net: &str) -> (Vec<String>, Vec<(&'static str, bool)>, String) {
    let lan = Lan::new(3, net);
    lan.wait_carrier();
    let vip: IpAddr = format!("{net}.100").parse().expect("vip");
    let config = format!(
        "vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id {VRID}\n  \
         priority 255\n  advert_int 1\n  virtual_ipaddress {{\n    {net}.100/24\n  }}\n}}\n"
    );
    let mut d = Daemon::start(&lan.hosts[1], imp, &config);
    let h = &lan.hosts[1];
    let mut checks = Vec::new();
    checks.push(("owner MASTER at start", wait_for(UP, || h.has_addr(vip))));
    let forger = Forger::open(&lan.hosts[2], "eth0");

    // 1. An owner with a higher address (.4): we report it and yield, then take over
    //    again once it is quiet.
    thread::sleep(Duration::from_millis(1500));
    forger.send(&rogue_frame(net, &format!("{net}.4")));
    checks.push((
        "yields to the higher owner",
        wait_for(Duration::from_secs(2), || !h.has_addr(vip)),
    ));
    checks.push((
        "MASTER again after it went quiet",
        wait_for(UP, || h.has_addr(vip)),
    ));

    // 2. A lower address (.1), one advert: reported, and after our next two adverts and
    //    a little more, noted as stopped (within 4.2 s: ours does not restart its advert
    //    timer when it answers, so it counts up to an interval later than 2.4.3). We stay
    //    MASTER throughout.
    thread::sleep(Duration::from_millis(1500));
    forger.send(&rogue_frame(net, &format!("{net}.1")));
    let t = Instant::now();
    let mut kept = true;
    while t.elapsed() < Duration::from_secs(6) {
        kept &= h.has_addr(vip);
        thread::sleep(Duration::from_millis(50));
    }
    checks.push(("stays MASTER against a lower owner that stops", kept));

    // 3. A lower address advertising more often than we do (every 0.5 s for 4 s):
    //    reported once; since our advert timer restarts with each answer (keepalived's
    //    way), we never count down while it lasts, stay MASTER, and note it gone after.
    let frame = rogue_frame(net, &format!("{net}.1"));
    let t = Instant::now();
    let mut kept = true;
    while t.elapsed() < Duration::from_secs(4) {
        forger.send(&frame);
        thread::sleep(Duration::from_millis(500));
        kept &= h.has_addr(vip);
    }
    thread::sleep(Duration::from_secs(6));
    checks.push((
        "stays MASTER against a fast lower owner",
        kept && h.has_addr(vip),
    ));

    // 4. A lower address advertising less often (every 2.5 s): still there after our two
    //    counted adverts, so we give way (priority 254).
    for _ in 0..3 {
        forger.send(&frame);
        thread::sleep(Duration::from_millis(2500));
    }
    checks.push((
        "gives way to a slow lower owner that persists",
        !h.has_addr(vip),
    ));
    checks.push((
        "MASTER again after it went quiet",
        wait_for(UP, || h.has_addr(vip)),
    ));
    // The VIP is installed before the transition's log lines are written: give the
    // "Restoring our priority" line a moment to follow.
    wait_for(Duration::from_secs(3), || {
        d.log().contains("Restoring our priority to 255")
    });
    let log = d.log();
    d.stop(Duration::from_secs(5));
    (rogue_lines(&log), checks, log)
}

#[test]
fn two_address_owners_are_reported_once_per_episode_as_keepalived_2_4_3_does() {
    let name = "two_address_owners_are_reported_once_per_episode_as_keepalived_2_4_3_does";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (ours, theirs) = thread::scope(|s| {
        let a = s.spawn(|| episodes(Impl::Ours, "10.104.0"));
        let b = s.spawn(|| episodes(Impl::Keepalived243, "10.104.1"));
        (a.join().expect("ours"), b.join().expect("2.4.3"))
    });
    let (their_lines, their_checks, their_log) = theirs;
    let (our_lines, our_checks, our_log) = ours;
    eprintln!("keepalived 2.4.3: {their_lines:#?}\nours: {our_lines:#?}");
    for (what, ok) in &their_checks {
        assert!(ok, "keepalived 2.4.3: {what}\n{their_log}");
    }
    for (what, ok) in &our_checks {
        assert!(ok, "ours: {what}\n{our_log}");
    }
    let conflict = |n: &str| {
        format!(
            "(VI_1) CONFIGURATION ERROR: local instance and {n} are both configured as \
             address owner, please resolve"
        )
    };
    let expected = |net: &str| {
        vec![
            conflict(&format!("{net}.4")),
            conflict(&format!("{net}.1")),
            "(VI_1): rogue address owner appears to have stopped advertising".to_string(),
            conflict(&format!("{net}.1")),
            "(VI_1): rogue address owner appears to have stopped advertising".to_string(),
            conflict(&format!("{net}.1")),
            format!(
                "(VI_1) {net}.1 is still advertising as address owner, please resolve - \
                 reducing our priority"
            ),
            "(VI_1) Restoring our priority to 255 since other address owner has disappeared"
                .to_string(),
        ]
    };
    assert_eq!(their_lines, expected("10.104.1"), "{their_log}");
    assert_eq!(our_lines, expected("10.104.0"), "{our_log}");
}
