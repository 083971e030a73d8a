//! `keepalived-rs ctl` against running daemons (issue 13): what `status --json` says
//! follows the engine through a tracked-script failure, a failover, a real server going
//! down and back and a reload; `ctl reload` gives the verdict (a broken config: exit 1
//! and every diagnostic); `ctl events` lists the transitions.
//!
//! Two hosts on a LAN, both ours: A (MASTER 100, tracks a script with weight -20, runs a
//! TCP_CHECK against a real server in its own namespace) and B (BACKUP 90).

use std::net::IpAddr;
use std::time::Duration;

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan, TempDir};
use serde_json::Value;

const UP: Duration = Duration::from_secs(15);

fn conf(state: &str, prio: u8, vip: &str, inst: &str, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 52\n  \
         priority {prio}\n  advert_int 1\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n{inst}}}\n{extra}"
    )
}

/// The instance `VI_1` in a `ctl status --json` answer.
fn vi1(d: &Daemon) -> Option<Value> {
    let s = d.ctl_status()?;
    s["vrrp"]
        .as_array()?
        .iter()
        .find(|i| i["iname"] == "VI_1")
        .cloned()
}

fn state_is(d: &Daemon, name: &str, prio: u64) -> bool {
    vi1(d).is_some_and(|i| i["state_name"] == name && i["effective_priority"] == prio)
}

/// The real server's state in `ctl status --json`.
fn real_server_up(d: &Daemon) -> Option<bool> {
    let s = d.ctl_status()?;
    s["services"]
        .as_array()?
        .iter()
        .find(|v| {
            v["real_server"]
                .as_str()
                .is_some_and(|r| r.contains(":8080"))
        })
        .and_then(|v| v["up"].as_bool())
}

fn text(o: &std::process::Output) -> String {
    ka_tests::output_text(o)
}

#[test]
fn ctl_status_follows_the_engine_and_reload_gives_its_verdict() {
    if !require_root("ctl_status_follows_the_engine_and_reload_gives_its_verdict") {
        return;
    }
    let lan = Lan::new(2, "10.213.7");
    lan.wait_carrier();
    let vip_s = "10.213.7.100";
    let vip: IpAddr = vip_s.parse().expect("vip");
    let tmp = TempDir::new("ctl");
    let fail = tmp.path().join("fail");
    let script = format!(
        "vrrp_script chk {{\n  script \"/usr/bin/test ! -e {}\"\n  interval 1\n  weight -20\n  \
         fall 1\n  rise 1\n}}\n",
        fail.display()
    );
    // A real server in A's namespace: a TCP listener on 8080, closed and opened again.
    let rs = |on: bool| {
        let a = lan.addr(0);
        lan.hosts[0].run(move || {
            if on {
                Some(std::net::TcpListener::bind((a.as_str(), 8080)).expect("bind 8080"))
            } else {
                None
            }
        })
    };
    let mut listener = rs(true);
    let vs = format!(
        "virtual_server {} 8080 {{\n  delay_loop 1\n  lb_kind NAT\n  protocol TCP\n  \
         real_server {} 8080 {{\n    TCP_CHECK {{\n      connect_timeout 1\n      retry 0\n    }}\n  }}\n}}\n",
        vip_s,
        lan.addr(0)
    );
    let a_conf = conf(
        "MASTER",
        100,
        vip_s,
        "  track_script {\n    chk\n  }\n",
        &format!("{script}{vs}"),
    );
    let a = Daemon::start(&lan.hosts[0], Impl::Ours, &a_conf);
    let mut b = Daemon::start(
        &lan.hosts[1],
        Impl::Ours,
        &conf("BACKUP", 90, vip_s, "", ""),
    );
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && state_is(&a, "MASTER", 100)
            && state_is(&b, "BACKUP", 90)),
        "A MASTER 100 / B BACKUP 90 never shown\nA: {:?}\nB: {:?}\n{}",
        vi1(&a),
        vi1(&b),
        a.log()
    );
    // The table names the instance and its state.
    let t = a.ctl(&["status"]);
    let table = String::from_utf8_lossy(&t.stdout).to_string();
    eprintln!("ctl status on A:\n{table}");
    assert!(t.status.success(), "{}", text(&t));
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("VI_1") && l.contains("MASTER")),
        "{table}"
    );
    let st = a.ctl_status().expect("status");
    assert_eq!(
        st["config_file"],
        a.dir.join("keepalived.conf").display().to_string()
    );
    assert!(st["children"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["role"] == "vrrp" && c["pid"].is_i64())));

    // The tracked script, as exporters read keepalived's (GOOD / BAD).
    let st = a.ctl_status().expect("status");
    assert_eq!(st["scripts"]["chk"]["status"], "GOOD", "{st}");
    // The VRRP child's part: VIPs and keepalived's counters.
    let i = vi1(&a).expect("VI_1");
    assert_eq!(i["vips"], serde_json::json!([format!("{vip_s}/24")]), "{i}");
    assert!(i["stats"]["advert_sent"].as_u64() > Some(0), "{i}");
    // keepalived's dumps on stdout, and no file written for them.
    let d = a.ctl(&["dump", "json"]);
    assert!(d.status.success(), "{}", text(&d));
    let arr: Value = serde_json::from_slice(&d.stdout).expect("dump json is JSON");
    assert_eq!(arr[0]["data"]["iname"], "VI_1", "{arr}");
    let d = a.ctl(&["dump", "data"]);
    let data = String::from_utf8_lossy(&d.stdout);
    assert!(
        d.status.success() && data.contains("------< Parent >------"),
        "{}",
        text(&d)
    );
    assert!(data.contains("VI_1"), "{data}");
    let d = a.ctl(&["dump", "stats"]);
    assert!(
        String::from_utf8_lossy(&d.stdout).contains("VRRP Instance: VI_1"),
        "{}",
        text(&d)
    );
    for f in ["keepalived.json", "keepalived.data", "keepalived.stats"] {
        assert!(!a.dir.join(f).exists(), "{f} written for a ctl dump");
    }

    // The real server goes down and comes back.
    assert!(
        wait_for(UP, || real_server_up(&a) == Some(true)),
        "real server never UP: {:?}\n{}",
        a.ctl_status(),
        a.log()
    );
    listener.take();
    assert!(
        wait_for(UP, || real_server_up(&a) == Some(false)),
        "real server never DOWN: {:?}",
        a.ctl_status()
    );
    listener = rs(true);
    assert!(
        wait_for(UP, || real_server_up(&a) == Some(true)),
        "real server never UP again: {:?}",
        a.ctl_status()
    );
    drop(listener);

    // The tracked script fails: A drops to 80, B (90) takes over; then back.
    std::fs::write(&fail, "").expect("fail file");
    assert!(
        wait_for(UP, || state_is(&a, "BACKUP", 80)
            && state_is(&b, "MASTER", 90)),
        "script failure not shown: A {:?} B {:?}",
        vi1(&a),
        vi1(&b)
    );
    assert!(wait_for(UP, || lan.hosts[1].has_addr(vip)
        && !lan.hosts[0].has_addr(vip)));
    let st = a.ctl_status().expect("status");
    assert_eq!(st["scripts"]["chk"]["status"], "BAD", "{st}");
    std::fs::remove_file(&fail).expect("rm fail file");
    assert!(
        wait_for(UP, || state_is(&a, "MASTER", 100)
            && state_is(&b, "BACKUP", 90)),
        "script recovery not shown: A {:?} B {:?}",
        vi1(&a),
        vi1(&b)
    );
    let bi = vi1(&b).expect("B VI_1");
    assert_eq!(bi["previous_state"], "MASTER", "{bi}");
    assert_eq!(bi["last_transition_reason"], "higher_priority", "{bi}");
    assert!(bi["last_transition"].as_f64().is_some(), "{bi}");

    // A reload on B that changes its priority: accepted, and status shows it.
    std::fs::write(
        b.dir.join("keepalived.conf"),
        conf("BACKUP", 95, vip_s, "", ""),
    )
    .expect("write conf");
    let r = b.ctl(&["reload"]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("reload accepted"),
        "{}",
        text(&r)
    );
    assert!(
        wait_for(UP, || state_is(&b, "BACKUP", 95)),
        "reload not shown: {:?}",
        vi1(&b)
    );
    // A broken one: refused, exit 1, the diagnostics on stderr; the old one stays.
    let broken = format!(
        "{}\nvrrp_instance BROKEN {{\n  virtual_router_id 300\n}}\n",
        conf("BACKUP", 97, vip_s, "", "")
    );
    std::fs::write(b.dir.join("keepalived.conf"), broken).expect("write conf");
    let r = b.ctl(&["reload"]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.starts_with("reload refused:"), "{}", text(&r));
    assert!(
        err.contains("keepalived.conf:"),
        "no file:line in {}",
        text(&r)
    );
    let st = b.ctl_status().expect("status");
    assert_eq!(
        (st["reloads"].as_u64(), st["reloads_refused"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(state_is(&b, "BACKUP", 95), "{:?}", vi1(&b));

    // A failover: A stops, B takes over; B's events show it.
    let mut a = a;
    assert!(a.stop(Duration::from_secs(10)));
    assert!(
        wait_for(UP, || state_is(&b, "MASTER", 95)
            && lan.hosts[1].has_addr(vip)),
        "failover not shown: {:?}",
        vi1(&b)
    );
    let ev = b.ctl(&["events"]);
    assert!(ev.status.success(), "{}", text(&ev));
    let events: Vec<Value> = String::from_utf8_lossy(&ev.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("event line is JSON"))
        .collect();
    let kinds: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["kind"] == "vrrp_state")
        .map(|e| {
            (
                e["from"].as_str().unwrap_or("-").to_string(),
                e["to"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert!(
        kinds.ends_with(&[("BACKUP".into(), "MASTER".into())]),
        "{kinds:?}"
    );
    assert!(events
        .iter()
        .any(|e| e["kind"] == "reload" && e["accepted"] == false));
    assert!(events
        .windows(2)
        .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64()));
    assert!(b.stop(Duration::from_secs(10)));
    // The socket is removed at exit.
    assert!(!b.dir.join("ctl.sock").exists());
    let gone = b.ctl(&["status"]);
    assert_eq!(gone.status.code(), Some(3), "{}", text(&gone));
}

/// `ctl maintenance enter` drains A: the VIP moves to B one skew time after A's
/// priority 0, never on both; `leave` restores A's priority and A takes the VIP back
/// (preempting after a Master_Down_Interval), again never on both and never on none.
#[test]
fn maintenance_moves_the_vip_to_the_peer_and_back_without_a_gap() {
    use ka_tests::probe::Prober;
    if !require_root("maintenance_moves_the_vip_to_the_peer_and_back_without_a_gap") {
        return;
    }
    let lan = Lan::new(2, "10.213.8");
    lan.wait_carrier();
    let vip_s = "10.213.8.100";
    let vip: IpAddr = vip_s.parse().expect("vip");
    let a = Daemon::start(
        &lan.hosts[0],
        Impl::Ours,
        &conf("MASTER", 100, vip_s, "", ""),
    );
    let b = Daemon::start(
        &lan.hosts[1],
        Impl::Ours,
        &conf("BACKUP", 90, vip_s, "", ""),
    );
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && state_is(&a, "MASTER", 100)
            && state_is(&b, "BACKUP", 90)),
        "never settled\n{}",
        a.log()
    );
    std::thread::sleep(Duration::from_millis(1500));
    // B's skew time at priority 90, advert_int 1 (VRRPv2): (256 - 90) / 256 s.
    let skew = Duration::from_micros((256 - 90) * 1_000_000 / 256);
    let slack = Duration::from_millis(150);
    let jitter = Duration::from_millis(10);

    let probe = Prober::start(
        &[&lan.hosts[0], &lan.hosts[1]],
        vip,
        Duration::from_millis(1),
    );
    let r = a.ctl(&["maintenance", "enter", "VI_1"]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("in maintenance: VI_1"),
        "{}",
        text(&r)
    );
    assert!(wait_for(UP, || lan.hosts[1].has_addr(vip)
        && !lan.hosts[0].has_addr(vip)));
    std::thread::sleep(Duration::from_millis(2500));
    let t = probe.finish();
    let worst = |v: Vec<(Duration, Duration)>| v.iter().map(|x| x.1).max().unwrap_or_default();
    let (gap, dual) = (worst(t.absent()), worst(t.duplicated()));
    eprintln!("maintenance enter: gap {gap:?} (skew {skew:?}), dual {dual:?}");
    assert!(
        gap <= skew + slack,
        "gap {gap:?} > skew {skew:?} + {slack:?}"
    );
    assert!(dual <= jitter, "VIP on both hosts for {dual:?}");
    assert_eq!(t.final_holder(), Some(1));
    // Held there: A is BACKUP at priority 1, marked, and stays so.
    let ai = vi1(&a).expect("A VI_1");
    assert_eq!(
        (ai["state_name"].as_str(), ai["effective_priority"].as_u64()),
        (Some("BACKUP"), Some(1)),
        "{ai}"
    );
    assert_eq!(ai["maintenance"], true, "{ai}");
    assert_eq!(ai["last_transition_reason"], "maintenance", "{ai}");
    let table = String::from_utf8_lossy(&a.ctl(&["status"]).stdout).to_string();
    assert!(table.contains("BACKUP (maintenance)"), "{table}");
    // An unknown instance is refused.
    let r = a.ctl(&["maintenance", "enter", "NOPE"]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));

    let probe = Prober::start(
        &[&lan.hosts[0], &lan.hosts[1]],
        vip,
        Duration::from_millis(1),
    );
    let r = a.ctl(&["maintenance", "leave", "--all"]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "A never took the VIP back: {:?}",
        vi1(&a)
    );
    std::thread::sleep(Duration::from_millis(1500));
    let t = probe.finish();
    let (gap, dual) = (worst(t.absent()), worst(t.duplicated()));
    eprintln!("maintenance leave: gap {gap:?}, dual {dual:?}");
    assert!(gap <= jitter, "VIP on no host for {gap:?}");
    assert!(dual <= jitter, "VIP on both hosts for {dual:?}");
    assert!(state_is(&a, "MASTER", 100), "{:?}", vi1(&a));
    let ev = String::from_utf8_lossy(&a.ctl(&["events"]).stdout).to_string();
    assert!(ev.contains("\"kind\":\"maintenance\""), "{ev}");
}
