//! Script security as keepalived 2.2.7 handles it (issue 11, section 2), observed with
//! `keepalived -t` and `keepalived -n -l -D` in a namespace:
//!
//! * `enable_script_security` and a `track_script` others could change: keepalived
//!   disables that tracker with a warning (`-t` exits 5) and runs the instance, which
//!   becomes MASTER. We went to FAULT for good and `-t` exited 0.
//! * scripts that would run as root without `enable_script_security`: keepalived's `-t`
//!   exits 6, and the daemon logs "SECURITY VIOLATION ..." and runs. Our daemon said
//!   nothing.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use ka_tests::{require_root, Guard, Netns, TempDir};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

/// A directory only root can write (so only the script's own mode matters), holding
/// `chk.sh` with `mode`.
fn script_dir(tag: &str, mode: u32) -> (TempDir, PathBuf) {
    let d = TempDir::new(tag);
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = d.path().join("chk.sh");
    std::fs::write(&s, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&s, std::fs::Permissions::from_mode(mode)).unwrap();
    (d, s)
}

fn config(script: &Path, security: bool, interface: &str) -> String {
    let sec = if security {
        "    enable_script_security\n    script_user root\n"
    } else {
        ""
    };
    format!(
        "global_defs {{\n{sec}}}\nvrrp_script chk {{\n    script \"{}\"\n    interval 1\n}}\n\
         vrrp_instance V {{\n    state BACKUP\n    interface {interface}\n    virtual_router_id 51\n    \
         priority 100\n    advert_int 1\n    virtual_ipaddress {{\n        10.99.0.1\n    }}\n    \
         track_script {{\n        chk\n    }}\n}}\n",
        script.display()
    )
}

/// A namespace with `eth0` and, in a directory of its own, a config with
/// `enable_script_security` tracking a script anyone may write (0777): (namespace,
/// directory, script, config).
fn insecure(ns_tag: &str, dir_tag: &str) -> (Netns, TempDir, PathBuf, PathBuf) {
    let ns = Netns::with_veth(ns_tag, "10.99.0.2/24");
    let (d, script) = script_dir(dir_tag, 0o777);
    let conf = d.path().join("k.conf");
    std::fs::write(&conf, config(&script, true, "eth0")).unwrap();
    (ns, d, script, conf)
}

/// `cmd` (our binary) in the foreground on `conf` (`-n -l -G`), its pid files in `dir`,
/// stderr piped.
fn foreground(mut cmd: Command, conf: &Path, dir: &Path) -> Command {
    cmd.args(["-n", "-l", "-G", "-f"])
        .arg(conf)
        .args(ka_tests::daemon::pid_file_args(dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn insecure_track_script_is_disabled_and_t_exits_5() {
    if !require_root("insecure_track_script_is_disabled_and_t_exits_5") {
        return;
    }
    let (ns, _d, script, conf) = insecure("ss", "ss-t");
    let out = ns
        .command(BIN)
        .args(["-t", "-f"])
        .arg(&conf)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("Disabling track script chk"), "{err}");
    assert!(err.contains("writable by others"), "{err}");
    // The model no longer tracks it.
    let opts = keepalived_rs::conf::LoadOptions {
        config_id: "n".into(),
        instance: None,
    };
    let l = keepalived_rs::conf::load_with(&conf, &opts, false, false).unwrap();
    assert!(l.config.vrrp_scripts.is_empty());
    assert!(l.config.vrrp_instances[0].track_script.is_empty());
    // A secure script is kept.
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let l = keepalived_rs::conf::load_with(&conf, &opts, false, false).unwrap();
    assert_eq!(l.config.vrrp_instances[0].track_script.len(), 1);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
}

#[test]
fn instance_tracking_an_insecure_script_still_becomes_master() {
    if !require_root("instance_tracking_an_insecure_script_still_becomes_master") {
        return;
    }
    let (ns, d, _script, conf) = insecure("sm", "ss-run");
    let mut proc = Guard(
        foreground(ns.command(BIN), &conf, d.path())
            .spawn()
            .unwrap(),
    );
    let err = proc.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            log.push(l);
        }
        if log.iter().any(|l| l.contains("Entering MASTER STATE")) {
            break;
        }
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(proc.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) && proc.0.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let all = log.join("\n");
    assert!(all.contains("Disabling track script chk"), "{all}");
    assert!(!all.contains("FAULT"), "{all}");
    assert!(all.contains("(V) Entering MASTER STATE"), "{all}");
}

#[test]
fn scripts_as_root_without_security_draw_a_warning() {
    if !require_root("scripts_as_root_without_security_draw_a_warning") {
        return;
    }
    let (d, script) = script_dir("ss-warn", 0o755);
    // No instance: the parent runs alone, and still warns about the script.
    let conf = d.0.join("k.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n    script_user root\n}}\nvrrp_script chk {{\n    script \"{}\"\n}}\n",
            script.display()
        ),
    )
    .unwrap();
    let t = Command::new(BIN)
        .args(["-t", "-f"])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(t.status.code(), Some(6));
    let mut proc = Guard(
        foreground(Command::new(BIN), &conf, d.path())
            .spawn()
            .unwrap(),
    );
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) && !d.path().join("keepalived.pid").exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(proc.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let mut err = String::new();
    if let Some(mut e) = proc.0.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let _ = proc.0.wait();
    assert!(
        err.contains(
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
        ),
        "{err}"
    );
}
