//! `vrrp_strict` and `no_accept` enforced with nftables, against keepalived 2.4.3 (built
//! with nftables, as Debian's 2.2.7 is): the ruleset keepalived-rs installs equals
//! keepalived's (`nft list ruleset`, counters' values aside) as the MASTER, as the BACKUP,
//! after losing MASTER and after a stop, with the default settings and with `nftables
//! NAME`, `nftables_priority`, `nftables_counters`, `nftables_ifindex`, link-local and
//! excluded addresses; and, as keepalived's users find, a strict MASTER's VIP does not
//! answer.

use std::net::IpAddr;
use std::thread;
use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan, Netns};

const UP: Duration = Duration::from_secs(12);

/// `nft list ruleset` in `ns`, with the counters' values taken out (traffic differs).
fn ruleset(ns: &Netns) -> String {
    let o = ns.exec("nft", ["list", "ruleset"]);
    assert!(
        o.status.success(),
        "nft list ruleset failed in {}",
        ns.name()
    );
    let text = String::from_utf8_lossy(&o.stdout);
    text.lines()
        .map(|l| match l.find("counter packets ") {
            Some(i) => {
                let rest = &l[i..];
                // "counter packets N bytes M VERDICT": keep the verdict.
                let verdict = rest
                    .split_whitespace()
                    .skip(5)
                    .collect::<Vec<_>>()
                    .join(" ");
                format!("{}counter {verdict}", &l[..i])
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `addr` answers one ping from `ns` within a second.
fn pings(ns: &Netns, addr: &str) -> bool {
    ns.command("ping")
        .args(["-c", "1", "-W", "1", addr])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn conf(globals: &str, prio: u8, body: &str) -> String {
    format!(
        "global_defs {{\n  router_id nft\n{globals}}}\n\
         vrrp_instance VI4 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 61\n  \
         priority {prio}\n  advert_int 1\n{body}  virtual_ipaddress {{\n    NET.100/24\n    NET.101/24\n  }}\n}}\n\
         vrrp_instance VI6 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 62\n  \
         priority {prio}\n  advert_int 1\n{body}  virtual_ipaddress {{\n    fd00::100/64\n  }}\n}}\n"
    )
}

fn for_net(text: &str, net: &str) -> String {
    text.replace("NET", net)
}

/// The rulesets one implementation leaves in each state of a two-node run: `imp` is
/// MASTER on host 0 (priority 150) beside a BACKUP of the other kind on host 1 (100),
/// then stops (host 1 takes over), then comes back and preempts.
#[derive(Debug)]
struct States {
    master: String,
    backup: String,
    stopped: String,
    other_master: String,
    other_demoted: String,
    vip_answered: bool,
}

fn run_pair(imp: Impl, other: Impl, net: &str, globals: &str) -> States {
    let lan = Lan::new(2, net);
    let vip: IpAddr = format!("{net}.100").parse().expect("vip");
    let text = |prio| for_net(&conf(globals, prio, ""), net);
    let mut a = Daemon::start(&lan.hosts[0], imp, &text(150));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "{imp:?} did not become MASTER:\n{}",
        a.log()
    );
    let mut b = Daemon::start(&lan.hosts[1], other, &text(100));
    thread::sleep(Duration::from_secs(3));
    assert!(!lan.hosts[1].has_addr(vip), "VIP on the backup too");
    // The master's addresses are blocked once installed: the VIP's own ping goes
    // unanswered (a host address still answers).
    let vip_answered = pings(&lan.hosts[1], &vip.to_string());
    let host = pings(&lan.hosts[1], &format!("{net}.1"));
    assert!(host, "host address {net}.1 does not answer");
    let master = ruleset(&lan.hosts[0]);
    let backup = ruleset(&lan.hosts[1]);
    assert!(a.stop(Duration::from_secs(5)), "{imp:?} did not stop");
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "no takeover on stop"
    );
    thread::sleep(Duration::from_millis(500));
    let stopped = ruleset(&lan.hosts[0]);
    let other_master = ruleset(&lan.hosts[1]);
    let mut a2 = Daemon::start(&lan.hosts[0], imp, &text(150));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "{imp:?} did not preempt"
    );
    thread::sleep(Duration::from_millis(500));
    let other_demoted = ruleset(&lan.hosts[1]);
    a2.stop(Duration::from_secs(5));
    b.stop(Duration::from_secs(5));
    States {
        master,
        backup,
        stopped,
        other_master,
        other_demoted,
        vip_answered,
    }
}

#[test]
fn strict_mode_rules_equal_keepalived_2_4_3_s_in_every_state() {
    if !require_root("strict_mode_rules_equal_keepalived_2_4_3_s_in_every_state")
        || keepalived_243("strict_mode_rules_equal_keepalived_2_4_3_s_in_every_state").is_none()
    {
        return;
    }
    let globals = "  vrrp_strict\n";
    // Ours as master beside 2.4.3, and 2.4.3 as master beside ours, at the same time.
    let t1 = thread::spawn(move || run_pair(Impl::Ours, Impl::Keepalived243, "10.81.0", globals));
    let t2 = thread::spawn(move || run_pair(Impl::Keepalived243, Impl::Ours, "10.81.1", globals));
    let ours = t1.join().expect("ours as master");
    let theirs = t2.join().expect("2.4.3 as master");
    let fix = |s: &str| s.replace("10.81.1", "10.81.0");
    let ours_master = fix(&ours.master);
    assert!(
        ours_master.contains("elements = { 10.81.0.100, 10.81.0.101 }"),
        "ours as MASTER blocks nothing:\n{ours_master}"
    );
    assert_eq!(ours_master, fix(&theirs.master), "as MASTER");
    // A BACKUP that never was MASTER has no tables, in both.
    assert_eq!(ours.backup, "", "2.4.3 as BACKUP");
    assert_eq!(theirs.backup, "", "ours as BACKUP");
    // Both remove their tables at stop.
    assert_eq!(ours.stopped, "", "ours after stop");
    assert_eq!(theirs.stopped, "", "2.4.3 after stop");
    // The other side's MASTER, and its tables once preempted (sets emptied, tables kept).
    assert_eq!(
        fix(&theirs.other_master),
        fix(&ours.other_master),
        "as the new MASTER"
    );
    assert_eq!(
        fix(&theirs.other_demoted),
        fix(&ours.other_demoted),
        "after losing MASTER"
    );
    assert!(
        !fix(&theirs.other_demoted).contains("elements = { 10.81"),
        "ours kept the addresses blocked after losing MASTER:\n{}",
        theirs.other_demoted
    );
    // keepalived's behaviour, the seeds' users' surprise: the VIP does not answer.
    assert!(!theirs.vip_answered, "2.4.3's strict VIP answered a ping");
    assert!(!ours.vip_answered, "our strict VIP answered a ping");
}

/// One daemon alone on a host with `globals` and `body`, MASTER: its ruleset.
fn alone(imp: Impl, net: &str, globals: &str, body: &str, extra: &str) -> String {
    let lan = Lan::new(1, net);
    let vip: IpAddr = format!("{net}.100").parse().expect("vip");
    let mut text = for_net(&conf(globals, 150, body), net);
    text.push_str(extra);
    let mut d = Daemon::start(&lan.hosts[0], imp, &text);
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "{imp:?} did not become MASTER:\n{}",
        d.log()
    );
    // Every instance MASTER (the IPv6 one and the extra one too).
    thread::sleep(Duration::from_secs(2));
    let r = ruleset(&lan.hosts[0]);
    d.stop(Duration::from_secs(5));
    let after = ruleset(&lan.hosts[0]);
    assert_eq!(after, "", "{imp:?} left tables after stop");
    r.replace(net, "NET")
}

#[test]
fn nftables_settings_link_local_and_excluded_addresses_as_keepalived_2_4_3() {
    let name = "nftables_settings_link_local_and_excluded_addresses_as_keepalived_2_4_3";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let cases: &[(&str, &str, &str)] = &[
        (
            "  vrrp_strict\n  nftables kr\n  nftables_counters\n  nftables_priority 5\n",
            "",
            "",
        ),
        (
            "  nftables_ifindex\n",
            "  no_accept\n",
            "vrrp_instance LL {\n  state BACKUP\n  interface eth0\n  virtual_router_id 63\n  \
             priority 150\n  advert_int 1\n  no_accept\n  virtual_ipaddress {\n    fe80::100/64\n  }\n  \
             virtual_ipaddress_excluded {\n    10.99.0.77\n  }\n}\n",
        ),
        (
            "  vrrp_strict\n  nftables_priority -10\n",
            "",
            "vrrp_instance OWNER {\n  state MASTER\n  interface eth0\n  virtual_router_id 64\n  \
             priority 255\n  advert_int 1\n  virtual_ipaddress {\n    10.98.0.1/32\n  }\n}\n",
        ),
    ];
    let mut handles = Vec::new();
    for (i, (globals, body, extra)) in cases.iter().enumerate() {
        for (j, imp) in [Impl::Ours, Impl::Keepalived243].into_iter().enumerate() {
            let net = format!("10.82.{}", i * 2 + j);
            let (g, b, e) = (globals.to_string(), body.to_string(), extra.to_string());
            handles.push((i, imp, thread::spawn(move || alone(imp, &net, &g, &b, &e))));
        }
    }
    let mut got: Vec<(usize, Impl, String)> = Vec::new();
    for (i, imp, h) in handles {
        got.push((i, imp, h.join().expect("run")));
    }
    for (i, case) in cases.iter().enumerate() {
        let mut pair = got.iter().filter(|(k, _, _)| *k == i);
        let (Some((_, _, ours)), Some((_, _, theirs))) = (pair.next(), pair.next()) else {
            panic!("case {i}: missing a run");
        };
        assert!(!ours.is_empty(), "case {i}: no tables from ours");
        assert_eq!(ours, theirs, "case {i}: {case:?}");
    }
}

#[test]
fn a_respawned_vrrp_child_keeps_the_addresses_blocked() {
    if !require_root("a_respawned_vrrp_child_keeps_the_addresses_blocked") {
        return;
    }
    let net = "10.83.0";
    let lan = Lan::new(1, net);
    let vip: IpAddr = format!("{net}.100").parse().expect("vip");
    let text = for_net(&conf("  vrrp_strict\n", 150, ""), net);
    let mut d = Daemon::start(&lan.hosts[0], Impl::Ours, &text);
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "no MASTER:\n{}",
        d.log()
    );
    thread::sleep(Duration::from_secs(2));
    let before = ruleset(&lan.hosts[0]);
    assert!(before.contains("10.83.0.100"), "not blocked:\n{before}");
    let old = d.vrrp_pid().expect("VRRP child pid");
    // SAFETY: kill(2) on a pid we read from the daemon's own pid file.
    unsafe {
        libc::kill(old, libc::SIGKILL);
    }
    // While the child is gone and after its successor starts, the sets never lose the
    // addresses (a successor adopts the tables and refills them in one transaction).
    let end = std::time::Instant::now() + Duration::from_secs(4);
    let mut looks = 0;
    while std::time::Instant::now() < end {
        let now = ruleset(&lan.hosts[0]);
        assert!(
            now.contains("elements = { 10.83.0.100, 10.83.0.101 }"),
            "look {looks}: the addresses were unblocked:\n{now}"
        );
        looks += 1;
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        wait_for(UP, || d.vrrp_pid().is_some_and(|p| p != old)),
        "no new VRRP child"
    );
    thread::sleep(Duration::from_secs(1));
    assert_eq!(
        ruleset(&lan.hosts[0]),
        before,
        "tables changed by the respawn"
    );
    assert!(d.stop(Duration::from_secs(5)));
    assert_eq!(ruleset(&lan.hosts[0]), "", "tables left after stop");
}
