//! The checker side of `keepalived-rs ctl` and the metrics (issue 13), against a running
//! daemon with a real TCP server in its namespace: `ctl status` shows the real server UP
//! with its checker's kind, last result, latency and no failure; `ctl real-server
//! disable` puts it at weight 0 in the status and the metrics, `enable` gives its weight
//! back; the server stops and the status shows it DOWN with its failures counted. The
//! exposition has the checks' counters and histogram and `promtool check metrics` takes it.
//!
//! The kernel has no IPVS here: the checker runs without programming it (as it logs), which
//! changes nothing of what is checked and shown.

use std::time::Duration;

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::{metric_sample as sample, require_root, wait_for, Lan, Netns};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(15);
const METRICS: &str = "127.0.0.1:19652";

/// The real server's entry in `ctl status --json`.
fn real_server(d: &Daemon) -> Option<Value> {
    let s = d.ctl_status()?;
    s["services"]
        .as_array()?
        .iter()
        .find(|v| v["real_server"].is_string())
        .cloned()
}

/// `GET path` from inside `ns`: the body of a 200.
fn get(ns: &Netns, path: &str) -> Option<String> {
    ns.http_get(METRICS, path)
        .and_then(|(status, body)| (status == 200).then_some(body))
}

fn text(o: &std::process::Output) -> String {
    ka_tests::output_text(o)
}

#[test]
fn ctl_shows_checks_and_disables_a_real_server() {
    if !require_root("ctl_shows_checks_and_disables_a_real_server") {
        return;
    }
    let lan = Lan::new(1, "10.213.11");
    lan.wait_carrier();
    let addr = lan.addr(0);
    let a2 = addr.clone();
    let mut listener = lan.hosts[0]
        .run(move || Some(std::net::TcpListener::bind((a2.as_str(), 8081)).expect("bind 8081")));
    let conf = format!(
        "virtual_server 10.213.11.100 8081 {{\n  delay_loop 1\n  lb_kind NAT\n  protocol TCP\n  \
         real_server {addr} 8081 {{\n    weight 3\n    TCP_CHECK {{\n      connect_timeout 1\n      \
         retry 0\n    }}\n  }}\n}}\n"
    );
    let d = Daemon::start_with(
        &lan.hosts[0],
        Impl::Ours,
        &conf,
        &["--metrics-listen", "19652"],
    );

    // UP, checked: TCP_CHECK, last attempt ok with a latency, no failure.
    assert!(
        wait_for(LIMIT, || real_server(&d).is_some_and(
            |r| r["up"] == true && r["checkers"][0]["last_result"] == "ok"
        )),
        "never UP with a passed check: {:?}\n{}",
        real_server(&d),
        d.log()
    );
    let rs = real_server(&d).expect("real server");
    eprintln!("real server in ctl status --json: {rs}");
    let c = &rs["checkers"][0];
    assert_eq!(c["keepalive_method"], "TCP_CHECK", "{rs}");
    let latency = c["latency_ms"].as_f64().expect("a latency");
    assert!((0.0..1000.0).contains(&latency), "{rs}");
    assert_eq!(c["consecutive_failures"], 0, "{rs}");
    assert_eq!(rs["weight"], 3, "{rs}");
    let (vs_name, rs_name) = (
        rs["virtual_server"].as_str().expect("vs").to_string(),
        rs["real_server"].as_str().expect("rs").to_string(),
    );
    assert_eq!(vs_name, "[10.213.11.100]:tcp:8081");
    let st = d.ctl_status().expect("status");
    let vs = st["services"]
        .as_array()
        .and_then(|l| l.iter().find(|v| v["real_server"].is_null()).cloned())
        .expect("the virtual server");
    assert_eq!(
        (&vs["up"], &vs["alive_weight"], &vs["sorry_active"]),
        (&true.into(), &3.into(), &false.into()),
        "{vs}"
    );
    assert_eq!(st["config_hash"].as_str().map(str::len), Some(16), "{st}");
    // The table has the same.
    let t = d.ctl(&["status"]);
    let table = String::from_utf8_lossy(&t.stdout).to_string();
    eprintln!("ctl status:\n{table}");
    let row = table
        .lines()
        .find(|l| l.contains(&rs_name))
        .unwrap_or_else(|| panic!("no row for {rs_name}:\n{table}"));
    for cell in ["UP", "3", "TCP_CHECK", "ok", " ms", "0"] {
        assert!(row.contains(cell), "{cell:?} not in {row:?}");
    }

    // The metrics: its weight, the checks, the histogram; promtool takes them.
    let m = get(&lan.hosts[0], "/metrics").expect("GET /metrics");
    let w = format!(
        "keepalived_real_server_weight{{virtual_server=\"{vs_name}\",real_server=\"{rs_name}\"}}"
    );
    assert_eq!(sample(&m, &w), Some(3.0), "{m}");
    assert!(
        sample(&m, "keepalived_checks_total{kind=\"TCP_CHECK\"}").is_some_and(|n| n >= 1.0),
        "{m}"
    );
    assert!(
        sample(
            &m,
            "keepalived_check_duration_seconds_count{kind=\"TCP_CHECK\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{m}"
    );
    assert!(
        sample(
            &m,
            "keepalived_check_duration_seconds_bucket{kind=\"TCP_CHECK\",le=\"+Inf\"}"
        )
        .is_some(),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            &format!("keepalived_virtual_server_quorum_up{{virtual_server=\"{vs_name}\"}}")
        ),
        Some(1.0),
        "{m}"
    );
    assert!(m.contains("keepalived_config_hash{hash=\""), "{m}");
    match ka_tests::promtool_check(&m) {
        Some(r) => assert!(r.is_ok(), "promtool check metrics refused it:\n{r:?}\n{m}"),
        None => eprintln!("promtool is not installed: the exposition was not linted"),
    }

    // Disable: weight 0 in the status and the metrics, still UP (its checks go on).
    let o = d.ctl(&["real-server", "disable", &vs_name, &rs_name]);
    assert!(o.status.success(), "{}", text(&o));
    let r = real_server(&d).expect("real server");
    assert_eq!(
        (&r["weight"], &r["disabled"], &r["up"]),
        (&0.into(), &true.into(), &true.into()),
        "{r}"
    );
    let m = get(&lan.hosts[0], "/metrics").expect("GET /metrics");
    assert_eq!(sample(&m, &w), Some(0.0), "{m}");
    let table = String::from_utf8_lossy(&d.ctl(&["status"]).stdout).to_string();
    assert!(table.contains("UP (disabled)"), "{table}");
    // Still disabled after a reload, and in a checker child started again after a death.
    let o = d.ctl(&["reload"]);
    assert!(o.status.success(), "{}", text(&o));
    let disabled = |d: &Daemon| {
        real_server(d).is_some_and(|r| r["weight"] == 0 && r["disabled"] == true && r["up"] == true)
    };
    assert!(
        wait_for(LIMIT, || d.ctl_status().is_some_and(|s| s["reloads"] == 1)
            && disabled(&d)),
        "not disabled after a reload: {:?}",
        real_server(&d)
    );
    let checker = d.checker_pid().expect("checker pid");
    // SAFETY: kill(2) on a process this test started; no memory involved.
    unsafe { libc::kill(checker, libc::SIGKILL) };
    let respawned = |d: &Daemon| {
        d.ctl_status().is_some_and(|s| {
            s["children"].as_array().is_some_and(|c| {
                c.iter().any(|c| {
                    c["role"] == "checker"
                        && c["restarts"] == 1
                        && c["ready"] == true
                        && c["pid"].as_i64().is_some_and(|p| p != i64::from(checker))
                })
            })
        })
    };
    assert!(
        wait_for(LIMIT, || respawned(&d)
            && real_server(&d)
                .is_some_and(|r| r["checkers"][0]["last_result"] == "ok")
            && disabled(&d)),
        "not disabled in the new checker child: {:?}\n{}",
        real_server(&d),
        d.log()
    );
    // An unknown real server: refused, exit 1.
    let o = d.ctl(&["real-server", "disable", &vs_name, "[10.213.11.9]:tcp:8081"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // Enable: the weight is back.
    let o = d.ctl(&["real-server", "enable", &vs_name, &rs_name]);
    assert!(o.status.success(), "{}", text(&o));
    let r = real_server(&d).expect("real server");
    assert_eq!(
        (&r["weight"], &r["disabled"]),
        (&3.into(), &false.into()),
        "{r}"
    );
    let m = get(&lan.hosts[0], "/metrics").expect("GET /metrics");
    assert_eq!(sample(&m, &w), Some(3.0), "{m}");
    // Both are events.
    let ev = String::from_utf8_lossy(&d.ctl(&["events"]).stdout).to_string();
    let kinds: Vec<Value> = ev
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == "real_server")
        .collect();
    // (The reload and the respawn disabled it again: no event, nothing changed.)
    assert_eq!(kinds.len(), 2, "{ev}");
    assert_eq!(
        (&kinds[0]["disabled"], &kinds[1]["disabled"]),
        (&true.into(), &false.into())
    );

    // The server stops: DOWN, its failures counted.
    listener.take();
    assert!(
        wait_for(LIMIT, || real_server(&d).is_some_and(|r| r["up"] == false
            && r["checkers"][0]["consecutive_failures"]
                .as_u64()
                .is_some_and(|n| n >= 2))),
        "never DOWN with 2 failures: {:?}\n{}",
        real_server(&d),
        d.log()
    );
    let r = real_server(&d).expect("real server");
    eprintln!("after the server stopped: {r}");
    assert_eq!(r["checkers"][0]["last_result"], "failed", "{r}");
    assert_eq!(r["failed_checks"], 1, "{r}");
    let m = get(&lan.hosts[0], "/metrics").expect("GET /metrics");
    assert!(
        sample(&m, "keepalived_checks_failed_total{kind=\"TCP_CHECK\"}").is_some_and(|n| n >= 2.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            &format!("keepalived_virtual_server_quorum_up{{virtual_server=\"{vs_name}\"}}")
        ),
        Some(0.0),
        "{m}"
    );
}
