//! The checker child's body (`keepalived_rs::check_child::main`) driven over a real socketpair, the
//! way the parent drives it, with real servers in network namespaces. This kernel has no
//! IPVS: the child must say so and keep checking; its dump shows the table it would
//! program. (The same body against a kernel with IPVS: `check_child_vm.rs`.)
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::check_parent::FakeParent;
use common::*;
use ka_proto::config::global::NotifyFifo;
use ka_proto::config::{self as conf, Checker, CheckerCommon, Config, HttpCheck, Url};
use ka_proto::ipc::checker::{FromChecker, ToChecker};
use ka_proto::ipc::{DumpKind, RunFlags, ServiceSnapshot};
use ka_tests::TempDir;

fn wait_file(path: &Path, want: &str, limit: Duration) -> bool {
    ka_tests::wait_for(limit, || {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .contains(want)
    })
}

const DELAY_LOOP: Duration = Duration::from_secs(1);
const RETRY: u32 = 1;
const DELAY_BEFORE_RETRY: Duration = Duration::from_millis(500);

fn timing() -> CheckerCommon {
    CheckerCommon {
        connect_timeout: Some(Duration::from_secs(1)),
        retry: Some(RETRY),
        delay_before_retry: Some(DELAY_BEFORE_RETRY),
        warmup: Some(Duration::ZERO),
        ..CheckerCommon::default()
    }
}

fn config(sh: &Path, fifo: &Path, rs2_weight: i32) -> Config {
    let mut config = Config::default();
    config.global.lvs_notify_fifo = Some(NotifyFifo {
        path: fifo.display().to_string(),
        script: None,
    });
    let mut http = HttpCheck {
        common: timing(),
        ..HttpCheck::default()
    };
    http.urls.push(Url {
        path: "/health".into(),
        status_code: vec![(200, 200)],
        ..Url::default()
    });
    config.virtual_servers.push(conf::VirtualServer {
        addr: conf::VirtualServerAddr::Ip("10.61.0.100:80".parse().unwrap()),
        delay_loop: DELAY_LOOP,
        lvs_sched: "rr".into(),
        quorum: 1,
        quorum_up: Some(script(sh, &["QUORUM_UP"])),
        quorum_down: Some(script(sh, &["QUORUM_DOWN"])),
        real_servers: vec![
            conf::RealServer {
                addr: "10.61.0.2:8080".parse().unwrap(),
                weight: 3,
                notify_up: Some(script(sh, &["UP", "rs1"])),
                notify_down: Some(script(sh, &["DOWN", "rs1"])),
                checkers: vec![Checker::Http(http)],
                ..conf::RealServer::default()
            },
            conf::RealServer {
                addr: "10.61.0.2:8081".parse().unwrap(),
                weight: rs2_weight,
                notify_up: Some(script(sh, &["UP", "rs2"])),
                notify_down: Some(script(sh, &["DOWN", "rs2"])),
                checkers: vec![Checker::Tcp(timing())],
                ..conf::RealServer::default()
            },
        ],
        ..conf::VirtualServer::default()
    });
    config
}

/// Start, a real server dies and comes back (state, notify scripts, FIFO lines, detection
/// time), a reload that changes one weight while a server is down (the down server stays
/// down, the weight changes), dumps, then Stop.
#[test]
fn child_checks_notifies_reloads_and_stops() {
    let Some(lan) = root_lan("child_checks_notifies_reloads_and_stops") else {
        return;
    };
    let dir = TempDir::new("main");
    let log = dir.0.join("log");
    let sh = recorder(&dir.0, &log);
    let fifo = dir.0.join("fifo");
    let lines = fifo_reader(&fifo);

    let mut rs1 = tcp_server(&lan.hosts[1], server_addr(8080), http_reply(200, b"ok"));
    let _rs2 = tcp_server(&lan.hosts[1], server_addr(8081), |_s| {});

    let (mut p, th) = FakeParent::start(&lan.hosts[0]);
    p.send(ToChecker::Start {
        config: Box::new(config(&sh, &fifo, 1)),
        flags: RunFlags::default(),
    });
    assert!(
        p.wait(Duration::from_secs(3), |m| matches!(m, FromChecker::Ready))
            .is_some(),
        "no Ready after Start"
    );
    // Initial states: the VS has quorum, both real servers start up (no alpha).
    let t0 = Instant::now();
    while p.states.len() < 3 && t0.elapsed() < Duration::from_secs(2) {
        p.recv(Duration::from_millis(100));
    }
    let mut initial: Vec<(Option<String>, bool)> = p
        .states
        .iter()
        .map(|(_, s)| (s.real_server.clone(), s.up))
        .collect();
    initial.sort();
    assert_eq!(
        initial,
        vec![
            (None, true),
            (Some("[10.61.0.2]:tcp:8080".into()), true),
            (Some("[10.61.0.2]:tcp:8081".into()), true),
        ]
    );
    assert!(p.states.iter().any(|(_, s)| *s
        == ServiceSnapshot {
            virtual_server: "[10.61.0.100]:tcp:80".into(),
            real_server: None,
            up: true
        }));
    // keepalived 2.2.7 and 2.4.3 write the virtual server's start line (seen in the VM).
    assert_eq!(
        lines.recv_timeout(Duration::from_secs(2)).unwrap(),
        "VS [10.61.0.100]:tcp:80 UP"
    );
    // Let both checks pass once.
    std::thread::sleep(DELAY_LOOP + Duration::from_millis(200));
    let dump = p.dump(DumpKind::Stats);
    assert!(dump.contains("IPVS is not available"), "{dump}");
    assert!(dump.contains("TCP 10.61.0.100:80 rr"), "{dump}");
    assert!(dump.contains("-> 10.61.0.2:8080 Masq 3"), "{dump}");
    assert!(dump.contains("-> 10.61.0.2:8081 Masq 1"), "{dump}");
    assert!(dump.contains("HTTP_GET [10.61.0.2]:8080: UP"), "{dump}");

    // rs1 dies.
    let killed = Instant::now();
    rs1.stop();
    let limit = DELAY_LOOP + DELAY_BEFORE_RETRY * (RETRY + 1) + Duration::from_secs(2);
    let down_at = p
        .wait_state("[10.61.0.2]:tcp:8080", false, limit)
        .expect("rs1 not reported down");
    let detect = down_at - killed;
    eprintln!("rs1 killed -> reported DOWN after {detect:?} (delay_loop 1 s, retry 1, delay_before_retry 0.5 s)");
    assert!(
        detect <= DELAY_LOOP + DELAY_BEFORE_RETRY * RETRY + Duration::from_millis(700),
        "{detect:?}"
    );
    assert!(wait_file(&log, "DOWN rs1", Duration::from_secs(2)));
    assert_eq!(
        lines.recv_timeout(Duration::from_secs(2)).unwrap(),
        "RS [10.61.0.2]:tcp:8080 [10.61.0.100]:tcp:80 DOWN"
    );
    let dump = p.dump(DumpKind::Stats);
    assert!(!dump.contains("10.61.0.2:8080 Masq"), "{dump}");
    assert!(dump.contains("RS [10.61.0.2]:tcp:8080 DOWN"), "{dump}");
    assert!(dump.contains("last failure"), "{dump}");

    // Reload with rs2's weight changed while rs1 is down: rs1 stays down (no UP), rs2's
    // weight follows.
    let before = p.states.len();
    p.send(ToChecker::Reload {
        config: Box::new(config(&sh, &fifo, 5)),
    });
    assert!(p
        .wait(Duration::from_secs(3), |m| matches!(m, FromChecker::Ready))
        .is_some());
    std::thread::sleep(Duration::from_millis(300));
    while p.recv(Duration::from_millis(50)).is_some() {}
    assert_eq!(
        p.states.len(),
        before,
        "a reload changed states: {:?}",
        &p.states[before..]
    );
    let dump = p.dump(DumpKind::Stats);
    assert!(dump.contains("reloads = 1"), "{dump}");
    assert!(dump.contains("-> 10.61.0.2:8081 Masq 5"), "{dump}");
    assert!(!dump.contains("10.61.0.2:8080 Masq"), "{dump}");

    // rs1 comes back.
    let back = Instant::now();
    let _rs1 = tcp_server(&lan.hosts[1], server_addr(8080), http_reply(200, b"ok"));
    let up_at = p
        .wait_state(
            "[10.61.0.2]:tcp:8080",
            true,
            DELAY_LOOP + Duration::from_secs(2),
        )
        .expect("rs1 not reported up");
    eprintln!("rs1 back -> reported UP after {:?}", up_at - back);
    assert!(wait_file(&log, "UP rs1", Duration::from_secs(2)));
    assert_eq!(
        lines.recv_timeout(Duration::from_secs(2)).unwrap(),
        "RS [10.61.0.2]:tcp:8080 [10.61.0.100]:tcp:80 UP"
    );
    let dump = p.dump(DumpKind::Stats);
    assert!(dump.contains("-> 10.61.0.2:8080 Masq 3"), "{dump}");
    let json = p.dump(DumpKind::Json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rs1 = v["virtual_servers"][0]["real_servers"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|r| r["real_server"] == "[10.61.0.2]:tcp:8080")
        })
        .cloned();
    assert!(rs1.is_some_and(|r| r["alive"] == true), "{json}");

    // Stop: exit 0.
    p.send(ToChecker::Stop);
    assert_eq!(th.join().unwrap(), 0);
    // Quorum never moved (rs2 stayed up): `quorum_up` once, at start, as keepalived 2.2.7
    // runs it (seen in the VM), not at the reload; never `quorum_down`.
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(log.matches("QUORUM_UP").count(), 1, "{log}");
    assert!(!log.contains("QUORUM_DOWN"), "{log}");
}

/// `ha_suspend`: checks of a virtual server whose address is not on this host pause,
/// and resume when the VRRP child reports a state change and the address is here.
#[test]
fn child_ha_suspend_follows_the_vip() {
    let Some(lan) = root_lan("child_ha_suspend_follows_the_vip") else {
        return;
    };
    let _rs = tcp_server(&lan.hosts[1], server_addr(8082), |_s| {});
    let mut c = Config::default();
    c.virtual_servers.push(conf::VirtualServer {
        addr: conf::VirtualServerAddr::Ip("10.61.0.100:80".parse().unwrap()),
        delay_loop: DELAY_LOOP,
        ha_suspend: true,
        real_servers: vec![conf::RealServer {
            addr: "10.61.0.2:8082".parse().unwrap(),
            weight: 1,
            checkers: vec![Checker::Tcp(timing())],
            ..conf::RealServer::default()
        }],
        ..conf::VirtualServer::default()
    });
    let (mut p, th) = FakeParent::start(&lan.hosts[0]);
    p.send(ToChecker::Start {
        config: Box::new(c),
        flags: RunFlags::default(),
    });
    assert!(p
        .wait(Duration::from_secs(3), |m| matches!(m, FromChecker::Ready))
        .is_some());
    std::thread::sleep(Duration::from_millis(300));
    let dump = p.dump(DumpKind::Stats);
    assert!(
        dump.contains("(suspended)"),
        "VIP absent, checks must pause: {dump}"
    );
    assert!(dump.contains("passed 0"), "{dump}");

    // The VIP arrives (as a VRRP MASTER would add it) and the VRRP child says so.
    lan.hosts[0].ip(["addr", "add", "10.61.0.100/32", "dev", "eth0"]);
    p.send(ToChecker::VrrpInstance(master_snapshot(
        "VI_1",
        51,
        Some("eth0"),
        100,
    )));
    std::thread::sleep(Duration::from_millis(600));
    let dump = p.dump(DumpKind::Stats);
    assert!(!dump.contains("(suspended)"), "{dump}");
    assert!(!dump.contains("passed 0"), "checks must have run: {dump}");

    // The VIP goes away without any VRRP event (the child also polls): checks pause.
    lan.hosts[0].ip(["addr", "del", "10.61.0.100/32", "dev", "eth0"]);
    std::thread::sleep(Duration::from_millis(1600));
    let dump = p.dump(DumpKind::Stats);
    assert!(
        dump.contains("(suspended)"),
        "VIP gone, checks must pause: {dump}"
    );

    // The parent goes away: the child stops by itself with 0.
    drop(p);
    assert_eq!(th.join().unwrap(), 0);
}
