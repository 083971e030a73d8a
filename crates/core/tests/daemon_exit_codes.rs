//! A child exiting with keepalived's permanent codes (1 FATAL, 2 CONFIG, 4
//! MISSING_PERMISSION) stops the parent with that code. Runs the parent in this test
//! process (one test per file: the parent forks, so no other test threads may be busy)
//! with a child body that exits 2 at once.
#![allow(clippy::unwrap_used)]

use ka_proto::ipc::Channel;
use keepalived_rs::daemon::child::{placeholder, Bodies, Role};
use keepalived_rs::daemon::{run_with, source, Settings};
use std::time::{Duration, Instant};

fn exits_with_config_error(_ipc: Channel, _role: Role) -> i32 {
    2
}

#[test]
fn permanent_exit_code_of_a_child_stops_the_parent_with_it() {
    let dir = std::env::temp_dir().join(format!("ka-exitcodes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
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
    let t = Instant::now();
    let code = run_with(
        s,
        source::interim_load,
        Bodies {
            vrrp: exits_with_config_error,
            checker: placeholder,
        },
    );
    assert_eq!(code, 2);
    assert!(t.elapsed() < Duration::from_secs(5));
    for f in ["p.pid", "r.pid", "c.pid"] {
        assert!(!dir.join(f).exists(), "{f} left behind");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
