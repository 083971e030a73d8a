//! The command line behaves like keepalived 2.2.7's: exit codes of `-v`, `-h`,
//! `--signum` (the same numbers as the real binary prints), bad options, `-t` and `-d`.

use std::path::Path;
use std::process::{Command, Output};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived-rs");

fn run(args: &[&str]) -> Output {
    Command::new(OURS)
        .args(args)
        .output()
        .expect("run keepalived-rs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

#[test]
fn version_and_help_exit_0_on_stderr() {
    let v = run(&["-v"]);
    assert_eq!(code(&v), 0);
    assert!(String::from_utf8_lossy(&v.stderr).contains("Keepalived"));
    let h = run(&["--help"]);
    assert_eq!(code(&h), 0);
    assert!(String::from_utf8_lossy(&h.stderr).contains("--config-test"));
}

#[test]
fn bad_options_exit_1() {
    assert_eq!(code(&run(&["-Z"])), 1);
    assert_eq!(code(&run(&["-f"])), 1);
    assert_eq!(code(&run(&["--signum=NOPE"])), 1);
}

#[test]
fn signum_matches_keepalived() {
    let real = Path::new("/usr/sbin/keepalived");
    for f in ["STOP", "RELOAD", "DATA", "STATS", "STATS_CLEAR", "JSON"] {
        let ours = run(&[&format!("--signum={f}")]);
        assert_eq!(code(&ours), 0, "{f}");
        let ours = String::from_utf8_lossy(&ours.stdout).trim().to_string();
        if real.exists() {
            let theirs = Command::new(real)
                .arg(format!("--signum={f}"))
                .output()
                .expect("keepalived");
            assert_eq!(ours, String::from_utf8_lossy(&theirs.stdout).trim(), "{f}");
        } else {
            assert!(ours.parse::<i32>().is_ok(), "{f}: {ours}");
        }
    }
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../../tests/fixtures/conf/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn config_test_exit_codes() {
    // Interfaces are not checked the same way outside a namespace, so use configs whose
    // verdict does not depend on them.
    assert_eq!(
        code(&run(&["-t", "-f", &fixture("bad_missing_brace.conf")])),
        5
    );
    assert_eq!(
        code(&run(&[
            "--config-test",
            "--use-file",
            &fixture("bad_vrid_range.conf")
        ])),
        5
    );
    let dir = std::env::temp_dir().join(format!("ka-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ok = dir.join("ok.conf");
    std::fs::write(&ok, "global_defs {\n router_id x\n}\n").expect("write");
    let o = run(&["-t", "-f", ok.to_str().expect("utf8")]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    // -t=LOG writes the report to the file.
    let log = dir.join("t.log");
    let o = run(&[
        &format!("--config-test={}", log.display()),
        "-f",
        &fixture("bad_missing_brace.conf"),
    ]);
    assert_eq!(code(&o), 5);
    let text = std::fs::read_to_string(&log).expect("log written");
    assert!(text.contains("missing '}'"), "{text}");
}

#[test]
fn dump_prints_the_model_as_json() {
    let dir = std::env::temp_dir().join(format!("ka-cli-dump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("k.conf");
    std::fs::write(&f, "global_defs {\n router_id dumped\n}\n").expect("write");
    let o = run(&["-t", "-d", "-f", f.to_str().expect("utf8")]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
    assert_eq!(v["global"]["router_id"], "dumped");
    assert_eq!(v["child_wait_time"]["secs"], 5);
}

#[test]
fn dump_masks_the_password_as_keepalived_2_4_does() {
    let dir = std::env::temp_dir().join(format!("ka-cli-mask-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("k.conf");
    std::fs::write(
        &f,
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 5\n authentication {\n  \
         auth_type PASS\n  auth_pass secret12\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n",
    )
    .expect("write");
    let o = run(&["-t", "-d", "-f", f.to_str().expect("utf8")]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("auth_type"), "no instance dumped:\n{out}");
    assert!(!out.contains("secret12"), "the password is shown:\n{out}");
    assert!(
        out.contains("\"auth_pass\": \"********\""),
        "not masked:\n{out}"
    );
}

#[test]
fn genhash_mode_is_dispatched() {
    // `-T` with no command: genhash's usage and exit 1, as `keepalived -T`.
    let o = run(&["-T"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("genhash"));
}

#[test]
fn a_failed_include_check_exits_6_as_keepalived() {
    let dir = std::env::temp_dir().join(format!("ka-cli-inc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let f = dir.join("k.conf");
    let missing = dir.join("nope.conf");
    std::fs::write(&f, format!("includem {}\n", missing.display())).expect("write");
    let o = run(&["-t", "-f", f.to_str().expect("utf8")]);
    assert_eq!(code(&o), 6, "{}", String::from_utf8_lossy(&o.stderr));
    // keepalived 2.2.7 on the same file, where it is installed.
    let real = Path::new("/usr/sbin/keepalived");
    if real.exists() {
        let k = Command::new(real)
            .args(["-t", "-f", f.to_str().expect("utf8")])
            .output()
            .expect("run keepalived");
        assert_eq!(code(&k), 6);
    }
    // A plain `include` of a missing file is only noted.
    std::fs::write(&f, format!("include {}\n", missing.display())).expect("write");
    assert_eq!(code(&run(&["-t", "-f", f.to_str().expect("utf8")])), 0);
}
