//! A tracked script that runs longer than its interval costs the VRRP child no CPU while
//! it runs (issue 11, found by the 1-hour chaos campaign).
//!
//! While a script ran past its interval, the tracker's next start lay in the past: the VRRP
//! child armed its timer for it again and again, woke at once, could not start the script
//! (still running), and spun — under SCHED_RR, starving the very script it waited for,
//! which then could not even die at its timeout. In the campaign every VRRP child spun for
//! 20 s that way and the whole 2-core machine stalled.
//!
//! Here `vrrp_script` runs `sleep 6` every second with a 10 s timeout; over 3 s of that
//! run the VRRP child must use well under a tenth of a CPU.

use std::time::Duration;

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan};

/// The VRRP child's user + system CPU time so far, in clock ticks (`/proc/PID/stat`).
fn cpu_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the command: state(0) ppid ... utime is field 14 of stat, index 11 here.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[test]
fn a_script_running_past_its_interval_does_not_spin_the_vrrp_child() {
    if !require_root("a_script_running_past_its_interval_does_not_spin_the_vrrp_child") {
        return;
    }
    let lan = Lan::new(1, "10.233.41");
    lan.wait_carrier();
    let h = &lan.hosts[0];
    let conf = "global_defs {\n  script_user root\n  enable_script_security\n}\n\
                vrrp_script chk_slow {\n  script \"/usr/bin/sleep 6\"\n  interval 1\n  timeout 10\n}\n\
                vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 41\n  \
                priority 100\n  advert_int 1\n  track_script {\n    chk_slow\n  }\n  \
                virtual_ipaddress {\n    10.233.41.100/24\n  }\n}\n";
    let d = Daemon::start(h, Impl::Ours, conf);
    let mut pid = None;
    assert!(
        wait_for(Duration::from_secs(10), || {
            pid = d.vrrp_pid();
            pid.is_some()
        }),
        "no VRRP child:\n{}",
        d.log()
    );
    let pid = pid.unwrap_or_default();
    // The first run starts at once and lasts 6 s: measure from 1.5 s to 4.5 s into it,
    // all past its 1 s interval.
    std::thread::sleep(Duration::from_millis(1500));
    let before = cpu_ticks(pid).expect("VRRP child's /proc stat");
    std::thread::sleep(Duration::from_secs(3));
    let after = cpu_ticks(pid).expect("VRRP child's /proc stat");
    let ticks = after.saturating_sub(before);
    // The script really runs (under enable_script_security a path through a linked
    // directory such as /bin would be disabled, and the test would prove nothing).
    let running = std::process::Command::new("pgrep")
        .args(["-f", "-P", &pid.to_string(), "sleep 6"])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    assert!(running, "the track script is not running:\n{}", d.log());
    // 100 ticks a second: 3 s of spinning is ~300. An idle child uses 0-2.
    assert!(
        ticks <= 20,
        "the VRRP child used {ticks} ticks of CPU in 3 s while its script ran:\n{}",
        d.log()
    );
}
