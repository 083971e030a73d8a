//! The parent run in this test process with child bodies written for the test, to reach
//! what the placeholder bodies never do. One test function (the parent forks, so no other
//! test thread may run meanwhile); the scenarios run one after another:
//!
//! 1. a child exiting with a permanent code (2, CONFIG) stops the parent with that code;
//! 2. a child that ignores `Stop` is SIGKILLed when `child_wait_time` is over;
//! 3. the parent is the hub: a VRRP `InstanceState` reaches the checker child (the one
//!    thing the parent passes on; the checker's quorum events once went the other way to a
//!    VRRP child that ignored them);
//! 4. the parent keeps the VRRP child's last `InstanceState`s and hands them back to the
//!    respawned child in `Resume`, before `Start`;
//! 5. a child that closes its channel but stays alive is killed (after 2 s) and respawned;
//! 6. a child whose hello names another build is refused: killed at once and respawned;
//! 7. a child that never reports `Ready` is killed when the ready timeout is over (1 s
//!    here) and started again.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

mod common;

use ka_proto::config::VrrpInstance;
use ka_proto::ipc::checker::{self, FromChecker, ToChecker};
use ka_proto::ipc::vrrp::{self, FromVrrp, ToVrrp};
use ka_proto::ipc::{Hello, InstanceSnapshot, Role, VrrpState};
use keepalived_rs::conf::LoadOptions;
use keepalived_rs::daemon::child::{placeholder, Bodies, CheckerMain, VrrpMain};
use keepalived_rs::daemon::source::{self, LoadError, Loaded};
use keepalived_rs::daemon::{run_with, Settings};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn exits_with_config_error(_ipc: vrrp::ChildEnd) -> i32 {
    2
}

/// Says hello, then ignores everything (including Stop) forever.
fn deaf(mut ipc: checker::ChildEnd) -> i32 {
    let _ = ipc.send(&FromChecker::Hello(Hello::new(Role::Checker)));
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// VRRP: says hello, exits 0 on Stop.
fn obedient(mut ipc: vrrp::ChildEnd) -> i32 {
    let _ = ipc.send(&FromVrrp::Hello(Hello::new(Role::Vrrp)));
    loop {
        match ipc.recv() {
            Ok(Some(ToVrrp::Stop)) | Err(_) => return 0,
            _ => {}
        }
    }
}

/// VRRP: after Start, reports VI_1 MASTER (for the checker child), then idles.
fn state_reporter(mut ipc: vrrp::ChildEnd) -> i32 {
    let _ = ipc.send(&FromVrrp::Hello(Hello::new(Role::Vrrp)));
    loop {
        match ipc.recv() {
            Ok(Some(ToVrrp::Start { .. })) => {
                let vi_1 = common::master_snapshot("VI_1", 51, None, 150);
                let _ = ipc.send(&FromVrrp::InstanceState(vi_1));
            }
            Ok(Some(ToVrrp::Stop)) | Err(_) => return 0,
            _ => {}
        }
    }
}

/// Checker: exits 4 (a permanent code, so the parent stops with it) once the VRRP child's
/// instance state arrives through the parent.
fn state_listener(mut ipc: checker::ChildEnd) -> i32 {
    let _ = ipc.send(&FromChecker::Hello(Hello::new(Role::Checker)));
    loop {
        match ipc.recv() {
            Ok(Some(ToChecker::VrrpInstance(s)))
                if s.name == "VI_1" && s.state == VrrpState::Master =>
            {
                return 4
            }
            Ok(Some(ToChecker::Stop)) | Err(_) => return 0,
            _ => {}
        }
    }
}

/// First run: reports VI_1 MASTER and dies (exit 70: respawned at once). Second run:
/// exits 4 if `Resume` with VI_1 MASTER came before `Start`, 1 otherwise.
fn resumer(mut ipc: vrrp::ChildEnd) -> i32 {
    let _ = ipc.send(&FromVrrp::Hello(Hello::new(Role::Vrrp)));
    let mut resumed: Option<Vec<InstanceSnapshot>> = None;
    loop {
        match ipc.recv() {
            Ok(Some(ToVrrp::Resume(v))) => resumed = Some(v),
            Ok(Some(ToVrrp::Start { config, .. })) => {
                let Some(v) = resumed else {
                    let vi = &config.vrrp_instances[0];
                    let s = common::master_snapshot(
                        &vi.name,
                        vi.virtual_router_id,
                        vi.interface.as_deref(),
                        vi.priority,
                    );
                    let _ = ipc.send(&FromVrrp::InstanceState(s));
                    return 70;
                };
                let ok = v.len() == 1 && v[0].name == "VI_1" && v[0].state == VrrpState::Master;
                return if ok { 4 } else { 1 };
            }
            Ok(Some(ToVrrp::Stop)) | Err(_) => return 0,
            _ => {}
        }
    }
}

/// The marker file telling a `mute` child it is the respawned one, named after the test
/// process (the children's parent).
fn mute_marker(test_pid: u32) -> PathBuf {
    std::env::temp_dir().join(format!("ka-inproc-mute-{test_pid}"))
}

/// First run: closes its channel and lives on. Second run (marker present): exits 4.
fn mute(ipc: vrrp::ChildEnd) -> i32 {
    let marker = mute_marker(nix::unistd::getppid().as_raw() as u32);
    if marker.exists() {
        return 4;
    }
    std::fs::write(&marker, b"1").unwrap();
    drop(ipc);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The marker file telling an `other_build` child it is the respawned one.
fn other_build_marker(test_pid: u32) -> PathBuf {
    std::env::temp_dir().join(format!("ka-inproc-other-build-{test_pid}"))
}

/// First run: says hello as another build of keepalived-rs, then lives on, deaf. Second
/// run (marker present, i.e. the parent refused the first and started it again): exits 4.
fn other_build(mut ipc: checker::ChildEnd) -> i32 {
    let marker = other_build_marker(nix::unistd::getppid().as_raw() as u32);
    if marker.exists() {
        return 4;
    }
    std::fs::write(&marker, b"1").unwrap();
    let mut hello = Hello::new(Role::Checker);
    hello.build.commit = "0000000other".into();
    let _ = ipc.send(&FromChecker::Hello(hello));
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The marker file telling a `never_ready` child it is the respawned one.
fn never_ready_marker(test_pid: u32) -> PathBuf {
    std::env::temp_dir().join(format!("ka-inproc-never-ready-{test_pid}"))
}

/// First run: says hello, answers nothing (no `Ready` after `Start`) and lives on. Second
/// run (marker present, i.e. the parent killed the first and started it again): exits 4.
fn never_ready(mut ipc: checker::ChildEnd) -> i32 {
    let marker = never_ready_marker(nix::unistd::getppid().as_raw() as u32);
    if marker.exists() {
        return 4;
    }
    std::fs::write(&marker, b"1").unwrap();
    let _ = ipc.send(&FromChecker::Hello(Hello::new(Role::Checker)));
    loop {
        let _ = ipc.recv();
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn one_instance_loader(p: &Path, o: &LoadOptions) -> Result<Loaded, LoadError> {
    let mut l = source::interim_load(p, o)?;
    l.config.vrrp_instances.push(VrrpInstance {
        name: "VI_1".into(),
        virtual_router_id: 51,
        priority: 150,
        ..VrrpInstance::default()
    });
    Ok(l)
}

fn short_wait_loader(p: &Path, o: &LoadOptions) -> Result<Loaded, LoadError> {
    let mut l = source::interim_load(p, o)?;
    l.child_wait = Duration::from_millis(500);
    Ok(l)
}

fn settings(dir: &Path) -> Settings {
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n}\nvirtual_server 10.0.0.1 80 {\n}\n",
    )
    .unwrap();
    let mut s = Settings {
        config_file: conf,
        pid_file: dir.join("p.pid"),
        vrrp_pid_file: dir.join("r.pid"),
        checkers_pid_file: dir.join("c.pid"),
        dont_fork: true,
        ..Settings::default()
    };
    s.log.syslog = false;
    s.log.console = true;
    s
}

/// Run the parent (its files in `dir`) with `loader` and these child bodies until it
/// exits: its exit code and how long it ran. It must leave no pid file behind.
fn run_parent(
    dir: &Path,
    loader: source::Loader,
    vrrp: VrrpMain,
    checker: CheckerMain,
) -> (i32, Duration) {
    run_parent_with(settings(dir), dir, loader, vrrp, checker)
}

/// As [`run_parent`], with these settings.
fn run_parent_with(
    settings: Settings,
    dir: &Path,
    loader: source::Loader,
    vrrp: VrrpMain,
    checker: CheckerMain,
) -> (i32, Duration) {
    let t = Instant::now();
    let code = run_with(settings, loader, Bodies { vrrp, checker });
    let took = t.elapsed();
    for f in ["p.pid", "r.pid", "c.pid"] {
        assert!(!dir.join(f).exists(), "{f} left behind");
    }
    (code, took)
}

#[test]
fn parent_with_test_bodies() {
    // A scenario that hangs must fail the test, not CI's time budget. (The thread only
    // sleeps, so it holds no lock the forked children could inherit.)
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(60));
        eprintln!("parent_with_test_bodies: hung for 60 s");
        std::process::exit(101);
    });
    let dir: PathBuf = std::env::temp_dir().join(format!("ka-inproc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // 1. Permanent exit code.
    let (code, took) = run_parent(
        &dir,
        source::interim_load,
        exits_with_config_error,
        placeholder,
    );
    assert_eq!(code, 2);
    assert!(took < Duration::from_secs(5));

    // 2. A child deaf to Stop is killed after child_wait_time (500 ms here).
    let (code, took) = run_parent(&dir, short_wait_loader, exits_with_config_error, deaf);
    assert_eq!(code, 2);
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");

    // 3. VRRP -> parent -> checker.
    let (code, took) = run_parent(&dir, source::interim_load, state_reporter, state_listener);
    assert_eq!(
        code, 4,
        "the checker child got the VRRP child's instance state"
    );
    assert!(took < Duration::from_secs(5));

    // 4. Resume after a respawn.
    let (code, took) = run_parent(&dir, one_instance_loader, resumer, placeholder);
    assert_eq!(
        code, 4,
        "the respawned VRRP child got Resume(VI_1 MASTER) before Start"
    );
    assert!(took < Duration::from_secs(5));

    // 5. A child alive without its channel.
    let _ = std::fs::remove_file(mute_marker(std::process::id()));
    let (code, took) = run_parent(&dir, source::interim_load, mute, placeholder);
    assert_eq!(code, 4, "the mute child was killed and respawned");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let _ = std::fs::remove_file(mute_marker(std::process::id()));

    // 6. A child of another build: refused at its hello, not left running.
    let _ = std::fs::remove_file(other_build_marker(std::process::id()));
    let (code, took) = run_parent(&dir, source::interim_load, obedient, other_build);
    assert_eq!(code, 4, "the other build's child was refused and respawned");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let _ = std::fs::remove_file(other_build_marker(std::process::id()));

    // 7. A child that never reports Ready.
    let _ = std::fs::remove_file(never_ready_marker(std::process::id()));
    let mut s = settings(&dir);
    s.ready_timeout = Duration::from_secs(1);
    let (code, took) = run_parent_with(s, &dir, source::interim_load, obedient, never_ready);
    assert_eq!(
        code, 4,
        "the child that was never ready was killed and respawned"
    );
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    let _ = std::fs::remove_file(never_ready_marker(std::process::id()));

    let _ = std::fs::remove_dir_all(&dir);
}
