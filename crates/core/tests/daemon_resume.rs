//! Issue 5, point 6: a VRRP child restart without outage. Two hosts (priority 150 and
//! 100); the master's VRRP child is SIGKILLed 20 times in a row while both hosts are probed
//! about every millisecond: the VIP must never be absent from the master and never appear
//! on the backup.
//!
//! keepalived 2.2.7 fails this by design: its respawned child removes the VIPs and waits a
//! master-down interval (~2.7 s without the VIP anywhere, see the lab notes).
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use ka_tests::probe::Prober;
use ka_tests::{require_root, Guard, Lan};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");
const VIP: &str = "10.218.0.100";

/// The master (`state MASTER`, priority 150) takes the VIP at once; the backup waits.
fn config(prio: u8) -> String {
    let state = if prio > 100 { "MASTER" } else { "BACKUP" };
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 61\n  \
         priority {prio}\n  advert_int 1\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}

fn start(lan: &Lan, host: usize, dir: &Path, prio: u8) -> (Guard, PathBuf) {
    let conf = dir.join(format!("h{host}.conf"));
    std::fs::write(&conf, config(prio)).unwrap();
    let p = |n: &str| dir.join(format!("h{host}.{n}.pid"));
    let log = File::create(dir.join(format!("h{host}.log"))).unwrap();
    let mut cmd = lan.hosts[host].command(BIN);
    cmd.args(["-n", "-l", "-D", "-G", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(p("main"))
        .arg("-r")
        .arg(p("vrrp"))
        .arg("-c")
        .arg(p("check"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    (Guard(cmd.spawn().unwrap()), p("vrrp"))
}

fn pid_of(p: &Path) -> Option<i32> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

#[test]
fn twenty_vrrp_child_kills_without_outage() {
    if !require_root("twenty_vrrp_child_kills_without_outage") {
        return;
    }
    let lan = Lan::new(2, "10.218.0");
    let dir = std::env::temp_dir().join(ka_tests::unique("resume"));
    std::fs::create_dir_all(&dir).unwrap();
    let (_m, master_vrrp_pid) = start(&lan, 0, &dir, 150);
    let (_b, _) = start(&lan, 1, &dir, 100);
    let vip: std::net::IpAddr = VIP.parse().unwrap();
    let t = Instant::now();
    while !lan.hosts[0].has_addr(vip) || lan.hosts[1].has_addr(vip) {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "no MASTER on h0; logs in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // "Is the VIP local", about every millisecond on both hosts.
    let probe = Prober::start(
        &[&lan.hosts[0], &lan.hosts[1]],
        vip,
        Duration::from_micros(700),
    );
    let mut respawn = Vec::new();
    for _ in 0..20 {
        let pid = pid_of(&master_vrrp_pid).unwrap();
        let t = Instant::now();
        // SAFETY: kill(2) on the master's VRRP child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        while pid_of(&master_vrrp_pid).is_none_or(|p| p == pid) {
            assert!(t.elapsed() < Duration::from_secs(5), "no respawn");
            std::thread::sleep(Duration::from_millis(1));
        }
        respawn.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Keep probing over more than one master-down interval (3 x 1 s + skew 0.61 s) after
    // the last kill.
    std::thread::sleep(Duration::from_millis(3800));
    let seen = probe.finish();
    let (master, backup) = (&seen.hosts[0], &seen.hosts[1]);
    respawn.sort();
    eprintln!(
        "master: {} VIP change(s), backup: {}; respawn (kill -> new pid file) median {:?}, \
         max {:?}",
        master.len() - 1,
        backup.len() - 1,
        respawn[respawn.len() / 2],
        respawn[respawn.len() - 1]
    );
    assert!(
        master.iter().all(|s| s.1),
        "the VIP left the master: {master:?}"
    );
    assert!(
        backup.iter().all(|s| !s.1),
        "the VIP appeared on the backup: {backup:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
