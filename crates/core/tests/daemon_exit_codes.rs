//! The parent run in this test process with child bodies written for the test, to reach
//! what the placeholder bodies never do. One test function (the parent forks, so no other
//! test thread may run meanwhile); the scenarios run one after another:
//!
//! 1. a child exiting with a permanent code (2, CONFIG) stops the parent with that code;
//! 2. a child that ignores `Stop` is SIGKILLed when `child_wait_time` is over;
//! 3. the parent is the hub: a checker `PeerEvent` reaches the VRRP child;
//! 4. the parent keeps the VRRP child's last `InstanceState`s and hands them back to the
//!    respawned child in `Resume`, before `Start`;
//! 5. a child that closes its channel but stays alive is killed (after 2 s) and respawned.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use ka_proto::config::VrrpInstance;
use ka_proto::ipc::{Channel, FromChild, Hello, InstanceSnapshot, PeerEvent, ToChild, VrrpState};
use keepalived_rs::conf::LoadOptions;
use keepalived_rs::daemon::child::{placeholder, Bodies, Role};
use keepalived_rs::daemon::source::{self, LoadError, Loaded};
use keepalived_rs::daemon::{run_with, Settings};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn exits_with_config_error(_ipc: Channel, _role: Role) -> i32 {
    2
}

/// Says hello, then ignores everything (including Stop) forever.
fn deaf(mut ipc: Channel, role: Role) -> i32 {
    let _ = ipc.send(&FromChild::Hello(Hello::new(role)));
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Checker: after Start, reports a quorum loss for the VRRP child, then idles.
fn quorum_reporter(mut ipc: Channel, role: Role) -> i32 {
    let _ = ipc.send(&FromChild::Hello(Hello::new(role)));
    loop {
        match ipc.recv::<ToChild>() {
            Ok(Some(ToChild::Start { .. })) => {
                let _ = ipc.send(&FromChild::PeerEvent(PeerEvent::Quorum {
                    virtual_server: "[10.0.0.1]:tcp:80".into(),
                    up: false,
                }));
            }
            Ok(Some(ToChild::Stop)) | Err(_) => return 0,
            _ => {}
        }
    }
}

/// VRRP: exits 4 (a permanent code, so the parent stops with it) once the checker's
/// quorum event arrives through the parent.
fn quorum_listener(mut ipc: Channel, role: Role) -> i32 {
    let _ = ipc.send(&FromChild::Hello(Hello::new(role)));
    loop {
        match ipc.recv::<ToChild>() {
            Ok(Some(ToChild::PeerEvent(PeerEvent::Quorum { up: false, .. }))) => return 4,
            Ok(Some(ToChild::Stop)) | Err(_) => return 0,
            _ => {}
        }
    }
}

/// First run: reports VI_1 MASTER and dies (exit 70: respawned at once). Second run:
/// exits 4 if `Resume` with VI_1 MASTER came before `Start`, 1 otherwise.
fn resumer(mut ipc: Channel, role: Role) -> i32 {
    let _ = ipc.send(&FromChild::Hello(Hello::new(role)));
    let mut resumed: Option<Vec<InstanceSnapshot>> = None;
    loop {
        match ipc.recv::<ToChild>() {
            Ok(Some(ToChild::Resume(v))) => resumed = Some(v),
            Ok(Some(ToChild::Start { config, .. })) => {
                let Some(v) = resumed else {
                    let vi = &config.vrrp_instances[0];
                    let _ = ipc.send(&FromChild::InstanceState(InstanceSnapshot {
                        name: vi.name.clone(),
                        vrid: vi.virtual_router_id,
                        interface: vi.interface.clone(),
                        ipv6: false,
                        state: VrrpState::Master,
                        priority: vi.priority,
                        base_priority: vi.priority,
                        addresses_installed: true,
                    }));
                    return 70;
                };
                let ok = v.len() == 1 && v[0].name == "VI_1" && v[0].state == VrrpState::Master;
                return if ok { 4 } else { 1 };
            }
            Ok(Some(ToChild::Stop)) | Err(_) => return 0,
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
fn mute(ipc: Channel, _role: Role) -> i32 {
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

fn no_pid_files(dir: &Path) {
    for f in ["p.pid", "r.pid", "c.pid"] {
        assert!(!dir.join(f).exists(), "{f} left behind");
    }
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
    let t = Instant::now();
    let code = run_with(
        settings(&dir),
        source::interim_load,
        Bodies {
            vrrp: exits_with_config_error,
            checker: placeholder,
        },
    );
    assert_eq!(code, 2);
    assert!(t.elapsed() < Duration::from_secs(5));
    no_pid_files(&dir);

    // 2. A child deaf to Stop is killed after child_wait_time (500 ms here).
    let t = Instant::now();
    let code = run_with(
        settings(&dir),
        short_wait_loader,
        Bodies {
            vrrp: exits_with_config_error,
            checker: deaf,
        },
    );
    let took = t.elapsed();
    assert_eq!(code, 2);
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    no_pid_files(&dir);

    // 3. checker -> parent -> VRRP.
    let t = Instant::now();
    let code = run_with(
        settings(&dir),
        source::interim_load,
        Bodies {
            vrrp: quorum_listener,
            checker: quorum_reporter,
        },
    );
    assert_eq!(code, 4, "the VRRP child got the checker's event");
    assert!(t.elapsed() < Duration::from_secs(5));
    no_pid_files(&dir);

    // 4. Resume after a respawn.
    let t = Instant::now();
    let code = run_with(
        settings(&dir),
        one_instance_loader,
        Bodies {
            vrrp: resumer,
            checker: placeholder,
        },
    );
    assert_eq!(
        code, 4,
        "the respawned VRRP child got Resume(VI_1 MASTER) before Start"
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    no_pid_files(&dir);

    // 5. A child alive without its channel.
    let _ = std::fs::remove_file(mute_marker(std::process::id()));
    let t = Instant::now();
    let code = run_with(
        settings(&dir),
        source::interim_load,
        Bodies {
            vrrp: mute,
            checker: placeholder,
        },
    );
    let took = t.elapsed();
    assert_eq!(code, 4, "the mute child was killed and respawned");
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    no_pid_files(&dir);
    let _ = std::fs::remove_file(mute_marker(std::process::id()));

    let _ = std::fs::remove_dir_all(&dir);
}
