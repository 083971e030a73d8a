//! Syslog as keepalived writes it: idents `Keepalived`, `Keepalived_vrrp`,
//! `Keepalived_healthcheckers`, each with its pid (`LOG_PID`), at the `-S` facility.
//!
//! The daemon runs in its own network namespace and a private mount namespace whose
//! `/dev` is a tmpfs with our datagram socket bind-mounted at `/dev/log`.

use ka_tests::{require_root, Guard, Netns, TempDir};
use std::process::Stdio;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

/// One instance on a veth of the test's namespace (`sl0`).
const VETH_CONF: &str = "vrrp_instance VI_1 {\n  interface sl0\n  virtual_router_id 9\n  \
                       virtual_ipaddress {\n    10.250.0.1\n  }\n}\n";

/// The veth pair `sl0`/`sl1` in `ns`, up (keepalived refuses `lo` for VRRP).
fn veth(ns: &Netns) {
    ns.ip(["link", "add", "sl0", "type", "veth", "peer", "name", "sl1"]);
    ns.ip(["link", "set", "sl0", "up"]);
    ns.ip(["link", "set", "sl1", "up"]);
}

#[test]
fn syslog_idents_pids_and_facility() {
    if !require_root("syslog_idents_pids_and_facility") {
        return;
    }
    let ns = Netns::new("sl");
    veth(&ns);
    let log = ka_tests::syslog::PrivateLog::new("slog");
    let (dir, sock) = (&log.dir, &log.sock);
    let mut proc = log.spawn_daemon(&ns, std::path::Path::new(BIN), VETH_CONF, "--all -S 3");

    let mut lines = Vec::new();
    let t = Instant::now();
    let mut buf = [0u8; 2048];
    let want = [
        "Keepalived[",
        "Keepalived_vrrp[",
        "Keepalived_healthcheckers[",
    ];
    while t.elapsed() < Duration::from_secs(5) {
        if let Ok(n) = sock.recv(&mut buf) {
            lines.push(String::from_utf8_lossy(&buf[..n]).to_string());
        }
        if want.iter().all(|w| lines.iter().any(|l| l.contains(w))) {
            break;
        }
    }
    let all = lines.join("\n");
    for w in want {
        assert!(all.contains(w), "no {w} line in:\n{all}");
    }
    // LOG_LOCAL3 | LOG_INFO = 19 * 8 + 6.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<158>") && l.contains("Starting Keepalived-rs")),
        "{all}"
    );
    let parent_pid = std::fs::read_to_string(dir.join("keepalived.pid")).unwrap();
    assert!(
        all.contains(&format!("Keepalived[{}]", parent_pid.trim())),
        "{all}"
    );
    // SAFETY: kill(2) on the daemon we started.
    unsafe { libc::kill(proc.0.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(6) {
        if proc.0.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn log_file_gets_parent_and_child_lines() {
    if !require_root("log_file_gets_parent_and_child_lines") {
        return;
    }
    let ns = Netns::new("lf");
    veth(&ns);
    let dir = TempDir::new("lfile");
    let conf = dir.path().join("k.conf");
    std::fs::write(&conf, VETH_CONF).unwrap();
    let file = dir.path().join("keepalived.log");
    let mut cmd = ns.command(BIN);
    // `-g` takes its argument attached (getopt optional argument), as keepalived's.
    cmd.args(["-n", "-G", "--all"])
        .arg(format!("--log-file={}", file.display()))
        .arg("-f")
        .arg(&conf)
        .args(ka_tests::daemon::pid_file_args(dir.path()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut proc = Guard(cmd.spawn().unwrap());
    let parent = proc.0.id();
    let want = [
        format!("Keepalived[{parent}]: Starting Keepalived-rs"),
        "Keepalived_vrrp[".to_string(),
        "Keepalived_healthcheckers[".to_string(),
    ];
    let t = Instant::now();
    let mut text = String::new();
    while t.elapsed() < Duration::from_secs(5) {
        text = std::fs::read_to_string(&file).unwrap_or_default();
        if want.iter().all(|w| text.contains(w.as_str())) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for w in &want {
        assert!(text.contains(w.as_str()), "no {w:?} in:\n{text}");
    }
    // "2026-11-25 03:50:04.123456789 Keepalived[..]: ..."
    let first = text.lines().next().unwrap();
    assert_eq!(first.as_bytes()[10], b' ', "{first}");
    assert_eq!(first.as_bytes()[19], b'.', "{first}");
    // SAFETY: kill(2) on the daemon we started.
    unsafe { libc::kill(parent as i32, libc::SIGTERM) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(6) && proc.0.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
}
