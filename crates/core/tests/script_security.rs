//! Script security as keepalived 2.2.7 handles it (issue 11, section 2), observed with
//! `keepalived -t` and `keepalived -n -l -D` in a namespace:
//!
//! * `enable_script_security` and a `track_script` others could change: keepalived
//!   disables that tracker with a warning (`-t` exits 5) and runs the instance, which
//!   becomes MASTER. We went to FAULT for good and `-t` exited 0.
//! * scripts that would run as root without `enable_script_security`: keepalived's `-t`
//!   exits 6, and the daemon logs "SECURITY VIOLATION ..." and runs. Our daemon said
//!   nothing.
//!
//! Issue 15 compares `-t` with both references: the warning is keepalived's line word for
//! word ("Disabling track script chk due to insecure", 2.2.7 and 2.4.3 alike), and 2.4.3
//! also disables a script reached through a symbolic link to a directory, which 2.2.7
//! ran (we follow 2.4.3).
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

/// The keepalived binaries to compare with: 2.2.7 when installed, 2.4.3 when found
/// (`test` names the test in the messages).
fn references(test: &str) -> Vec<(&'static str, PathBuf)> {
    let mut refs = Vec::new();
    if ka_tests::daemon::require_keepalived(test) {
        refs.push(("2.2.7", PathBuf::from("/usr/sbin/keepalived")));
    }
    if let Some(p) = ka_tests::daemon::keepalived_243(test) {
        refs.push(("2.4.3", p));
    }
    refs
}

/// `program -t -f conf` in `ns`: exit code and stderr.
fn config_test(ns: &Netns, program: &Path, conf: &Path) -> (Option<i32>, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns.name()])
        .arg(program)
        .args(["-t", "-f"])
        .arg(conf)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The line keepalived (both versions) prints for the disabled script, and ours: its
/// message is that line.
const DISABLED: &str = "Disabling track script chk due to insecure";

#[test]
fn insecure_track_script_is_disabled_and_t_exits_5() {
    if !require_root("insecure_track_script_is_disabled_and_t_exits_5") {
        return;
    }
    let (ns, _d, script, conf) = insecure("ss", "ss-t");
    let (code, err) = config_test(&ns, Path::new(BIN), &conf);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.lines()
            .any(|l| l.ends_with(&format!(": warning: {DISABLED}"))),
        "{err}"
    );
    for (version, k) in references("insecure_track_script_is_disabled_and_t_exits_5") {
        let (theirs, out) = config_test(&ns, &k, &conf);
        assert_eq!(theirs, Some(5), "keepalived {version}: {out}");
        assert!(
            out.lines().any(|l| l == DISABLED),
            "keepalived {version}: {out}"
        );
    }
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

/// A script reached through a symbolic link to a directory (`lnk -> real`, both
/// root's, the script 0755): keepalived 2.4.3 disables it under `enable_script_security`
/// (-t exits 5), 2.2.7 runs it (exit 0); we follow 2.4.3. A link as the last part of the
/// path, or `..` that leaves the link, is fine in both.
#[test]
fn script_through_a_linked_directory_is_disabled_as_2_4_3_does() {
    let test = "script_through_a_linked_directory_is_disabled_as_2_4_3_does";
    if !require_root(test) {
        return;
    }
    let ns = Netns::with_veth("sl", "10.99.0.2/24");
    let d = TempDir::new("ss-link");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let real = d.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = real.join("chk.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("real", d.path().join("lnk")).unwrap();
    std::os::unix::fs::symlink("chk.sh", real.join("last.sh")).unwrap();
    let conf = d.path().join("k.conf");
    let cases = [
        (d.path().join("lnk/chk.sh"), Some(5), Some(0)),
        (real.join("last.sh"), Some(0), Some(0)),
        (d.path().join("lnk/../real/chk.sh"), Some(0), Some(0)),
    ];
    let refs = references(test);
    for (path, by_243, by_227) in cases {
        std::fs::write(&conf, config(&path, true, "eth0")).unwrap();
        let (ours, err) = config_test(&ns, Path::new(BIN), &conf);
        assert_eq!(ours, by_243, "{}: {err}", path.display());
        assert_eq!(
            err.contains(DISABLED),
            by_243 == Some(5),
            "{}: {err}",
            path.display()
        );
        for (version, k) in &refs {
            let (theirs, out) = config_test(&ns, k, &conf);
            let want = if *version == "2.4.3" { by_243 } else { by_227 };
            assert_eq!(
                theirs,
                want,
                "keepalived {version}, {}: {out}",
                path.display()
            );
            assert_eq!(out.lines().any(|l| l == DISABLED), want == Some(5), "{out}");
        }
    }
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

/// `-n -l -D` of `program` in `ns` on `conf` for `secs` seconds (then SIGTERM, 5 s later
/// SIGKILL), its pid files in `dir`: what it logged.
fn run_for(ns: &Netns, program: &Path, conf: &Path, dir: &Path, secs: &str) -> String {
    let out = Command::new("timeout")
        .args(["-k", "5", secs, "ip", "netns", "exec", ns.name()])
        .arg(program)
        .args(["-n", "-l", "-D", "-f"])
        .arg(conf)
        .args(ka_tests::daemon::pid_file_args(dir))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The "not used" lines of a log, from "Warning" on, in order.
fn not_used(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.ends_with("is not used"))
        .filter_map(|l| l.find("Warning - ").map(|at| l[at..].to_string()))
        .collect()
}

/// A `vrrp_script` no instance and no sync group tracks: keepalived (2.2.7 and 2.4.3)
/// says "Warning - script chk2 is not used" once its VRRP process starts, one line per
/// script in the order they are defined, and nothing of it at `-t` (exit 0). A script a
/// sync group tracks is used.
#[test]
fn unused_scripts_are_named_at_start_not_by_t() {
    let test = "unused_scripts_are_named_at_start_not_by_t";
    if !require_root(test) {
        return;
    }
    let ns = Netns::with_veth("su", "10.99.0.2/24");
    let (d, script) = script_dir("ss-unused", 0o755);
    let conf = d.path().join("k.conf");
    let s = script.display();
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n    enable_script_security\n    script_user root\n}}\n\
             vrrp_script chk3 {{\n    script \"{s}\"\n}}\n\
             vrrp_script chk {{\n    script \"{s}\"\n}}\n\
             vrrp_script chk2 {{\n    script \"{s}\"\n}}\n\
             vrrp_sync_group G {{\n    group {{\n        VI\n        VJ\n    }}\n    \
             track_script {{\n        chk\n    }}\n}}\n\
             vrrp_instance VI {{\n    interface eth0\n    virtual_router_id 1\n    \
             virtual_ipaddress {{\n        10.99.0.11\n    }}\n}}\n\
             vrrp_instance VJ {{\n    interface eth0\n    virtual_router_id 2\n    \
             virtual_ipaddress {{\n        10.99.0.12\n    }}\n}}\n"
        ),
    )
    .unwrap();
    let want = vec![
        "Warning - script chk3 is not used".to_string(),
        "Warning - script chk2 is not used".to_string(),
    ];
    let mut programs = vec![("keepalived-rs", PathBuf::from(BIN))];
    programs.extend(references(test));
    for (name, program) in programs {
        let (code, err) = config_test(&ns, &program, &conf);
        assert_eq!(code, Some(0), "{name} -t: {err}");
        assert!(not_used(&err).is_empty(), "{name} -t: {err}");
        let log = run_for(&ns, &program, &conf, d.path(), "3");
        assert_eq!(not_used(&log), want, "{name}:\n{log}");
    }
}
