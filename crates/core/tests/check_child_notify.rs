//! From a config model to scripts and FIFO lines: a real server dies and comes back;
//! notify_down / notify_up run with their configured arguments, quorum_down / quorum_up
//! too, and `lvs_notify_fifo` receives keepalived's lines.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::*;
use ka_check::from_config::from_config;
use ka_check::state::Change;
use ka_proto::config::{self as conf, Checker, CheckerCommon, Config};
use keepalived_rs::check_child::runtime::Runtime;

fn wait_file(path: &std::path::Path, want: &str, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if std::fs::read_to_string(path)
            .unwrap_or_default()
            .contains(want)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn notify_scripts_fifo_and_ipvs_changes() {
    let Some(lan) = root_lan("notify_scripts_fifo_and_ipvs_changes") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("ka-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log");
    let sh = recorder(&dir, &log);
    let fifo = dir.join("fifo");
    let lrx = fifo_reader(&fifo);

    let mut config = Config::default();
    let common_t = CheckerCommon {
        delay_loop: Some(Duration::from_millis(500)),
        connect_timeout: Some(Duration::from_millis(800)),
        delay_before_retry: Some(Duration::from_millis(300)),
        warmup: Some(Duration::ZERO),
        ..CheckerCommon::default()
    };
    let vs = conf::VirtualServer {
        addr: conf::VirtualServerAddr::Ip("10.61.0.100:80".parse().unwrap()),
        quorum: 1,
        quorum_up: Some(common::script(&sh, &["QUORUM_UP"])),
        quorum_down: Some(common::script(&sh, &["QUORUM_DOWN"])),
        sorry_server: Some("10.61.0.9:80".parse().unwrap()),
        real_servers: vec![conf::RealServer {
            addr: "10.61.0.2:8080".parse().unwrap(),
            weight: 2,
            notify_up: Some(common::script(&sh, &["UP", "rs1", "'with space'"])),
            notify_down: Some(common::script(&sh, &["DOWN", "rs1"])),
            checkers: vec![Checker::Tcp(common_t)],
            ..conf::RealServer::default()
        }],
        ..conf::VirtualServer::default()
    };
    config.virtual_servers.push(vs);
    let checks = from_config(&config);
    assert!(checks.issues.is_empty());

    let mut srv = tcp_server(&lan.hosts[1], server_addr(8080), |_s| {});
    let (ctx, crx) = mpsc::channel::<Vec<Change>>();
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let fifo3 = fifo.clone();
    let th = lan.hosts[0].spawn(move || {
        let mut rt = Runtime::new(checks, Some(fifo3)).unwrap();
        let _ = ctx.send(rt.take_changes());
        while !st.load(Ordering::SeqCst) {
            rt.turn(Some(Duration::from_millis(20))).unwrap();
            let c = rt.take_changes();
            if !c.is_empty() {
                let _ = ctx.send(c);
            }
        }
        rt.dump_text()
    });
    let initial = crx.recv_timeout(Duration::from_secs(2)).unwrap();
    assert_eq!(
        initial,
        vec![Change::RsSet {
            vs: 0,
            rs: 0,
            weight: 2
        }]
    );
    // Kill the server: DOWN, quorum lost, sorry server in.
    srv.stop();
    let down = crx.recv_timeout(Duration::from_secs(4)).unwrap();
    assert!(
        down.contains(&Change::RsRemove { vs: 0, rs: 0 }),
        "{down:?}"
    );
    assert!(
        down.contains(&Change::SorrySet { vs: 0, weight: 1 }),
        "{down:?}"
    );
    assert!(wait_file(&log, "DOWN rs1", Duration::from_secs(2)));
    assert!(wait_file(&log, "QUORUM_DOWN", Duration::from_secs(2)));
    assert_eq!(
        lrx.recv_timeout(Duration::from_secs(2)).unwrap(),
        "RS [10.61.0.2]:tcp:8080 [10.61.0.100]:tcp:80 DOWN"
    );
    assert_eq!(
        lrx.recv_timeout(Duration::from_secs(2)).unwrap(),
        "VS [10.61.0.100]:tcp:80 DOWN"
    );
    // Back.
    let _srv = tcp_server(&lan.hosts[1], server_addr(8080), |_s| {});
    let up = crx.recv_timeout(Duration::from_secs(4)).unwrap();
    assert!(
        up.contains(&Change::RsSet {
            vs: 0,
            rs: 0,
            weight: 2
        }),
        "{up:?}"
    );
    assert!(up.contains(&Change::SorryRemove { vs: 0 }), "{up:?}");
    assert!(wait_file(
        &log,
        "UP rs1 'with space'",
        Duration::from_secs(2)
    ));
    assert!(wait_file(&log, "QUORUM_UP", Duration::from_secs(2)));
    assert_eq!(
        lrx.recv_timeout(Duration::from_secs(2)).unwrap(),
        "RS [10.61.0.2]:tcp:8080 [10.61.0.100]:tcp:80 UP"
    );
    stop.store(true, Ordering::SeqCst);
    let dump = th.join().unwrap();
    assert!(
        dump.contains("RS [10.61.0.2]:tcp:8080 UP weight 2"),
        "{dump}"
    );
    assert!(dump.contains("TCP_CHECK [10.61.0.2]:8080: UP"), "{dump}");
    let _ = std::fs::remove_dir_all(&dir);
}
