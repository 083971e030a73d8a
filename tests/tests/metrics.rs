//! Prometheus metrics and the status page (issue 13), read by the real consumers:
//! Debian's `prometheus` scrapes `--metrics-listen` from inside the host's namespace and
//! the test reads `keepalived_vrrp_state` back through Prometheus' HTTP API before and
//! after a failover; `promtool check metrics` accepts the exposition; headless Chromium
//! loads the status page (its DOM must name the instance and its state; the screenshot is
//! kept under `target/artifacts/` for CI). Also: the listener is on loopback unless told
//! otherwise, no `auth_pass` appears in any answer, and a reader in `--control-group` may
//! read but not reload.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::{require_root, wait_for, Guard, Lan, Netns, TempDir};
use serde_json::Value;

const UP: Duration = Duration::from_secs(20);
const SECRET: &str = "s3cr3tpw";

fn conf(state: &str, prio: u8, vip: &str) -> String {
    format!(
        "vrrp_instance VI_M {{\n  state {state}\n  interface eth0\n  virtual_router_id 53\n  \
         priority {prio}\n  advert_int 1\n  authentication {{\n    auth_type PASS\n    \
         auth_pass {SECRET}\n  }}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

/// `GET path` from inside `ns`; (status, body).
fn get(ns: &Netns, addr: &str, path: &str) -> Option<(u16, String)> {
    ns.http_get(addr, path)
}

/// `keepalived_vrrp_state` for VI_M as Prometheus has it (an instant query).
fn prom_state(ns: &Netns) -> Option<String> {
    let (code, body) = get(
        ns,
        "127.0.0.1:19090",
        "/api/v1/query?query=keepalived_vrrp_state%7Biname%3D%22VI_M%22%7D",
    )?;
    if code != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&body).ok()?;
    v["data"]["result"][0]["value"][1]
        .as_str()
        .map(str::to_string)
}

fn artifacts() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts");
    let _ = std::fs::create_dir_all(&d);
    d
}

fn have(tool: &str) -> bool {
    ["/usr/bin/", "/usr/sbin/", "/bin/"]
        .iter()
        .any(|d| std::path::Path::new(&format!("{d}{tool}")).exists())
}

#[test]
fn prometheus_scrapes_and_chromium_shows_the_state_through_a_failover() {
    if !require_root("prometheus_scrapes_and_chromium_shows_the_state_through_a_failover") {
        return;
    }
    for tool in ["prometheus", "promtool", "chromium"] {
        assert!(have(tool), "{tool} is not installed (.ci/run installs it)");
    }
    let lan = Lan::new(2, "10.213.9");
    lan.wait_carrier();
    for h in &lan.hosts {
        // A fresh namespace's loopback is down; the listener and Prometheus use it.
        h.ip(["link", "set", "lo", "up"]);
    }
    let vip_s = "10.213.9.100";
    let vip: IpAddr = vip_s.parse().expect("vip");
    let a = Daemon::start_with(
        &lan.hosts[0],
        Impl::Ours,
        &conf("MASTER", 100, vip_s),
        &["--metrics-listen", "19650", "--control-group", "nogroup"],
    );
    let ns = &lan.hosts[0];
    assert!(
        wait_for(UP, || ns.has_addr(vip)
            && get(ns, "127.0.0.1:19650", "/metrics").is_some_and(
                |(c, b)| c == 200 && b.contains("keepalived_vrrp_state{iname=\"VI_M\"")
            )),
        "A never MASTER with metrics\n{}",
        a.log()
    );
    let (_, metrics) = get(ns, "127.0.0.1:19650", "/metrics").expect("metrics");
    assert!(
        metrics.contains(&format!(
            "keepalived_vrrp_state{{iname=\"VI_M\",intf=\"eth0\",vrid=\"53\",ip_address=\"{vip_s}\"}} 2"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("keepalived_advertisements_sent_total{iname=\"VI_M\""),
        "{metrics}"
    );

    // promtool accepts the exposition.
    let r = ka_tests::promtool_check(&metrics).expect("promtool is installed");
    assert!(r.is_ok(), "promtool check metrics refused it:\n{r:?}");

    // Loopback only: from B, A's LAN address does not answer.
    let a_addr = format!("{}:19650", lan.addr(0));
    assert!(
        get(&lan.hosts[1], &a_addr, "/metrics").is_none(),
        "metrics reachable from the LAN"
    );

    // Prometheus, in A's namespace, scrapes every second.
    let tmp = TempDir::new("prom");
    let cfg = tmp.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  \
         - job_name: keepalived\n    static_configs:\n      - targets: ['127.0.0.1:19650']\n",
    )
    .expect("prometheus.yml");
    let log = std::fs::File::create(tmp.path().join("prometheus.log")).expect("log");
    let _prom = Guard(
        ns.command("prometheus")
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                tmp.path().join("data").display()
            ))
            .arg("--web.listen-address=127.0.0.1:19090")
            .arg("--query.lookback-delta=3s")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus"),
    );
    assert!(
        wait_for(Duration::from_secs(60), || prom_state(ns).as_deref()
            == Some("2")),
        "Prometheus never read MASTER (2): {:?}\n{}",
        prom_state(ns),
        std::fs::read_to_string(tmp.path().join("prometheus.log")).unwrap_or_default()
    );

    // The status page in a real browser.
    let shot = artifacts().join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let dom = ns
        .command("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg("http://127.0.0.1:19650/")
        .stderr(Stdio::null())
        .output()
        .expect("chromium --dump-dom");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<td>VI_M</td>"), "{dom}");
    assert!(dom.contains("<td class=\"good\">MASTER</td>"), "{dom}");
    let st = ns
        .command("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg("--window-size=1000,500")
        .arg(format!("--screenshot={}", shot.display()))
        .arg("http://127.0.0.1:19650/")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("chromium --screenshot");
    assert!(st.success(), "chromium --screenshot failed");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes([png[16], png[17], png[18], png[19]]),
        u32::from_be_bytes([png[20], png[21], png[22], png[23]]),
    );
    assert_eq!((w, h), (1000, 500), "screenshot size");
    assert!(png.len() > 5_000, "an empty page? {} bytes", png.len());

    // A failover: B (150) preempts; Prometheus reads BACKUP (1).
    let b = Daemon::start(&lan.hosts[1], Impl::Ours, &conf("BACKUP", 150, vip_s));
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip) && !ns.has_addr(vip)),
        "B never took over\n{}",
        b.log()
    );
    assert!(
        wait_for(Duration::from_secs(30), || prom_state(ns).as_deref()
            == Some("1")),
        "Prometheus never read BACKUP (1): {:?}",
        prom_state(ns)
    );
    let (_, metrics) = get(ns, "127.0.0.1:19650", "/metrics").expect("metrics");
    assert!(
        metrics.contains("keepalived_vrrp_transitions_total{iname=\"VI_M\",to=\"BACKUP\"}"),
        "{metrics}"
    );
    // The failover under its reason: A heard B's higher priority and stepped down.
    assert!(
        metrics.contains(
            "keepalived_rs_vrrp_transitions_total{iname=\"VI_M\",reason=\"higher_priority\"} 1\n"
        ),
        "{metrics}"
    );

    // No password in any answer.
    let mut answers = vec![metrics];
    for path in ["/", "/status.json"] {
        answers.push(get(ns, "127.0.0.1:19650", path).expect(path).1);
    }
    for args in [
        &["status", "--json"][..],
        &["events"],
        &["dump", "data"],
        &["dump", "json"],
        &["dump", "stats"],
    ] {
        let o = a.ctl(args);
        assert!(o.status.success(), "ctl {args:?}");
        answers.push(String::from_utf8_lossy(&o.stdout).to_string());
    }
    for t in &answers {
        assert!(!t.contains(SECRET), "the password in an answer:\n{t}");
    }

    // A member of --control-group may read, not reload.
    let sock = a.dir.join("ctl.sock");
    let as_nobody = |verb: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(ka_tests::daemon::ours_binary())
            .arg("ctl")
            .arg("--socket")
            .arg(&sock)
            .args(verb)
            .output()
            .expect("setpriv")
    };
    let r = as_nobody(&["status"]);
    assert!(r.status.success(), "a group reader cannot read: {r:?}");
    let r = as_nobody(&["reload"]);
    assert_eq!(r.status.code(), Some(1), "{r:?}");
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("only root"),
        "{r:?}"
    );
}
