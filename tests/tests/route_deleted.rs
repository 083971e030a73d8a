//! A `virtual_routes` route or a `virtual_rules` rule deleted by hand (`ip route del`,
//! `ip rule del`) from a MASTER, against keepalived 2.4.3 (and 2.2.7) on a real network.
//!
//! Observed in namespaces: a tracked route's or rule's deletion is handled as a tracked
//! VIP's (`vip_deleted.rs`): the MASTER sends one priority-0 advert, removes its VIPs,
//! routes and rules and enters BACKUP; alone on the LAN it is MASTER again after Skew_Time
//! (0.41 s at priority 150) with everything back, routes and rules marked `no_track`
//! included. keepalived logs no line of its own for the deletion, only the transition:
//! "(VI_1) Entering BACKUP STATE", "(VI_1) sent 0 priority", "(VI_1) removing Virtual
//! Rules", "(VI_1) removing Virtual Routes", "(VI_1) removing VIPs.", then "(VI_1) Receive
//! advertisement timeout", "(VI_1) Entering MASTER STATE". With `no_track` nothing happens:
//! the route or rule stays deleted (until the next MASTER), and one added back by hand
//! changes nothing either. A route without `dev` is tracked by 2.4.3 (and by us), not by
//! 2.2.7 ("cannot track route ... with no interface specified, not tracking").

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ka_tests::capture::Capture;
use ka_tests::daemon::{keepalived_243, require_keepalived, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan, Netns};

const UP: Duration = Duration::from_secs(12);
/// How long each deletion is watched.
const WINDOW: Duration = Duration::from_millis(2500);
/// ETH_P_IP.
const ETH_P_IP: u16 = 0x0800;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test literal")
}

fn config(net: &str) -> String {
    format!(
        "global_defs {{\n  router_id route_deleted\n}}\nvrrp_instance VI_1 {{\n  state MASTER\n  \
         interface eth0\n  virtual_router_id 62\n  priority 150\n  advert_int 1\n  \
         virtual_ipaddress {{\n    {net}.100/24\n  }}\n  virtual_routes {{\n    \
         10.201.1.0/24 via {net}.254 dev eth0\n    \
         10.201.2.0/24 via {net}.254 dev eth0 no_track\n    \
         10.201.3.0/24 via {net}.254 table 100\n  }}\n  virtual_rules {{\n    \
         from 10.202.1.0/24 table 100 priority 100\n    \
         from 10.202.2.0/24 table 100 priority 101 no_track\n  }}\n}}\n"
    )
}

/// What is deleted by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// `10.201.1.0/24 ... dev eth0`.
    Route,
    /// `10.201.2.0/24 ... no_track`.
    RouteNoTrack,
    /// `10.201.3.0/24 via GW table 100` (no `dev`).
    RouteNoDev,
    /// `from 10.202.1.0/24 table 100 priority 100`.
    Rule,
    /// `from 10.202.2.0/24 ... no_track`.
    RuleNoTrack,
}

impl Target {
    fn delete(self, h: &Netns) {
        match self {
            Target::Route => h.ip(["route", "del", "10.201.1.0/24"]),
            Target::RouteNoTrack => h.ip(["route", "del", "10.201.2.0/24"]),
            Target::RouteNoDev => h.ip(["route", "del", "10.201.3.0/24", "table", "100"]),
            Target::Rule => h.ip(["rule", "del", "from", "10.202.1.0/24", "priority", "100"]),
            Target::RuleNoTrack => {
                h.ip(["rule", "del", "from", "10.202.2.0/24", "priority", "101"])
            }
        };
    }

    fn present(self, h: &Netns) -> bool {
        let (what, table, needle) = match self {
            Target::Route => ("route", "main", "10.201.1.0/24 "),
            Target::RouteNoTrack => ("route", "main", "10.201.2.0/24 "),
            Target::RouteNoDev => ("route", "100", "10.201.3.0/24 "),
            Target::Rule => ("rule", "", "from 10.202.1.0/24 "),
            Target::RuleNoTrack => ("rule", "", "from 10.202.2.0/24 "),
        };
        let out = if what == "route" {
            h.ip(["-o", "route", "show", "table", table])
        } else {
            h.ip(["-o", "rule", "show"])
        };
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.contains(needle))
    }
}

/// What followed one deletion.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    target: Target,
    /// Priority-0 adverts from the MASTER on the LAN.
    prio0: usize,
    /// Seconds until the deleted route or rule was back (None: not within the window).
    back_after: Option<f64>,
    /// The VIP went away at some point.
    vip_removed: bool,
}

/// The deletions, in order: the `no_track` ones first (they stay deleted, and the next
/// MASTER, after a tracked deletion, puts them back: checked after the route one).
const STEPS: [Target; 5] = [
    Target::RouteNoTrack,
    Target::RuleNoTrack,
    Target::Route,
    Target::Rule,
    Target::RouteNoDev,
];

fn run(imp: Impl, net: &str) -> Result<(Vec<Seen>, bool, String), String> {
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let (h1, h2) = (&lan.hosts[0], &lan.hosts[1]);
    let vip = ip(&format!("{net}.100"));
    let mut d = Daemon::start(h1, imp, &config(net));
    let all = [
        Target::Route,
        Target::RouteNoTrack,
        Target::RouteNoDev,
        Target::Rule,
        Target::RuleNoTrack,
    ];
    if !wait_for(UP, || h1.has_addr(vip) && all.iter().all(|t| t.present(h1))) {
        return Err(format!(
            "{}: never MASTER with its routes\n{}",
            imp.name(),
            d.log()
        ));
    }
    std::thread::sleep(Duration::from_secs(1));
    let master = ip(&format!("{net}.1"));
    let mut seen = Vec::new();
    let mut no_track_back = false;
    for target in STEPS {
        let cap = Capture::start(h2, "eth0", ETH_P_IP);
        std::thread::sleep(Duration::from_millis(100));
        target.delete(h1);
        let t0 = Instant::now();
        let (mut back_after, mut vip_removed) = (None, false);
        while t0.elapsed() < WINDOW {
            vip_removed |= !h1.has_addr(vip);
            if back_after.is_none() && target.present(h1) {
                back_after = Some(t0.elapsed().as_secs_f64());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if target == Target::Route {
            // The MASTER that came back put the no_track ones back too.
            no_track_back = Target::RouteNoTrack.present(h1) && Target::RuleNoTrack.present(h1);
        }
        if target == Target::RouteNoTrack {
            // Added back by hand (without the keepalived tag): nothing happens either.
            h1.ip([
                "route",
                "add",
                "10.201.2.0/24",
                "via",
                &format!("{net}.254"),
            ]);
            std::thread::sleep(Duration::from_millis(500));
            h1.ip(["route", "del", "10.201.2.0/24"]);
        }
        let prio0 = cap
            .finish()
            .iter()
            .filter(|f| {
                // IPv4 (20-byte header) protocol 112 from the MASTER; priority is byte 2.
                let b = &f.bytes;
                b.len() >= 14 + 20 + 8
                    && b[14] == 0x45
                    && b[23] == 112
                    && IpAddr::from([b[26], b[27], b[28], b[29]]) == master
                    && b[36] == 0
            })
            .count();
        seen.push(Seen {
            target,
            prio0,
            back_after,
            vip_removed,
        });
    }
    // The log before the stop (ours logs "(VI_1) Stopped" there, 2.4.3 does not).
    let log = d.log();
    d.stop(Duration::from_secs(5));
    Ok((seen, no_track_back, log))
}

/// The lines of `log` about VI_1 from the first deletion that moved it on, without the
/// timestamps (and ours' `[vrrp] ` tag), the GARP lines (paced differently) and ours'
/// parent's state summary ("(VI_1) MASTER priority 150"), sorted: within one transition
/// the order differs. keepalived logs "Entering BACKUP STATE" before "sent 0 priority"
/// and the removals, ours after them; and "Entering MASTER STATE" before "setting VIPs.",
/// ours after it.
fn transition_lines(log: &str) -> Vec<String> {
    let mut lines: Vec<String> = log
        .lines()
        .map(|l| l.split_once(": ").map_or(l, |(_, rest)| rest))
        .map(|l| l.strip_prefix("[vrrp] ").unwrap_or(l).to_string())
        .filter(|l| l.starts_with("(VI_1) ") && !l.contains("gratuitous ARP"))
        .filter(|l| !l.ends_with(" priority 150"))
        .collect();
    let first_master = lines
        .iter()
        .position(|l| l == "(VI_1) Entering MASTER STATE")
        .unwrap_or(lines.len());
    let first_move = lines
        .iter()
        .skip(first_master)
        .position(|l| l == "(VI_1) Entering BACKUP STATE" || l == "(VI_1) sent 0 priority")
        .map_or(lines.len(), |k| first_master + k);
    lines.drain(..first_move);
    lines.sort();
    lines
}

#[test]
fn route_and_rule_deleted_by_hand_like_keepalived_243() {
    const T: &str = "route_and_rule_deleted_by_hand_like_keepalived_243";
    if !require_root(T) || !require_keepalived(T) || keepalived_243(T).is_none() {
        return;
    }
    let cases = [
        (Impl::Keepalived243, "10.132.11"),
        (Impl::Ours, "10.132.12"),
        (Impl::Keepalived, "10.132.13"),
    ];
    let runs: Vec<(Vec<Seen>, bool, String)> = std::thread::scope(|s| {
        let hs: Vec<_> = cases
            .iter()
            .map(|&(imp, net)| s.spawn(move || run(imp, net)))
            .collect();
        hs.into_iter()
            .map(|h| match h.join().expect("run thread") {
                Ok(v) => v,
                Err(e) => panic!("{e}"),
            })
            .collect()
    });
    for ((imp, _), (seen, back, _)) in cases.iter().zip(&runs) {
        eprintln!("{}: {seen:#?} no_track ones back: {back}", imp.name());
    }
    let tracked = |imp: Impl, t: Target| {
        matches!(t, Target::Route | Target::Rule)
            || (t == Target::RouteNoDev && imp != Impl::Keepalived)
    };
    for ((imp, _), (seen, back, _)) in cases.iter().zip(&runs) {
        for s in seen {
            if tracked(*imp, s.target) {
                // One priority-0 advert, the VIP removed, back after Skew (0.41 s).
                assert_eq!(s.prio0, 1, "{}: {s:?}", imp.name());
                assert!(s.vip_removed, "{}: {s:?}", imp.name());
                assert!(
                    s.back_after.is_some_and(|t| (0.3..0.8).contains(&t)),
                    "{}: {s:?}",
                    imp.name()
                );
            } else {
                // Nothing happens: it stays deleted.
                assert_eq!(
                    (s.prio0, s.back_after, s.vip_removed),
                    (0, None, false),
                    "{}: {s:?}",
                    imp.name()
                );
            }
        }
        assert!(back, "{}: the no_track ones are back at MASTER", imp.name());
    }
    // Ours against 2.4.3: how soon each tracked one is back.
    let (k243, ours) = (&runs[0].0, &runs[1].0);
    for (k, o) in k243.iter().zip(ours) {
        if let (Some(a), Some(b)) = (k.back_after, o.back_after) {
            assert!(
                (a - b).abs() < 0.15,
                "{:?}: back after {b:.3} s, 2.4.3 {a:.3} s",
                o.target
            );
        }
    }
    // The logged transitions, line for line (order within a transition aside).
    let (l243, lours) = (transition_lines(&runs[0].2), transition_lines(&runs[1].2));
    eprintln!("2.4.3: {l243:#?}\nours: {lours:#?}");
    assert_eq!(lours, l243);
}
