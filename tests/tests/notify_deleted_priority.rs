//! What notify scripts and the notify FIFO get for an instance removed by a reload
//! (`notify_deleted`) and for a priority change (`notify_priority_changes`), beside
//! keepalived 2.4.3.
//!
//! Observed in namespaces with keepalived 2.4.3 (2.2.7 alike, except where said):
//! - an instance removed by a reload (SIGHUP) is reported as `FAULT` with its last
//!   priority, to the `notify` script and the FIFO, and its `notify_fault` script does not
//!   run; with `notify_deleted` the word is `DELETED`, and `notify_deleted SCRIPT` runs
//!   SCRIPT as well (with no extra arguments);
//! - a priority change (here a `track_file` with a weight) writes `INSTANCE "VI_1"
//!   MASTER_PRIORITY 105` to the FIFO (`BACKUP_PRIORITY` in BACKUP and FAULT) when the
//!   instance's `notify_priority_changes`, else its sync group's, else the global
//!   `vrrp_notify_priority_changes` is on; the `notify` script is not called for it.
//!   (2.2.7 also writes a `BACKUP_PRIORITY` line for a kept MASTER at the reload; 2.4.3
//!   does not, and neither do we.)

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan, TempDir};

const UP: Duration = Duration::from_secs(12);

/// One instance, VRID `vrid`, VIP `{net}.{vrid}`, tracking the file `tf` (weight 1),
/// with a `notify` script and a `notify_fault` script, plus `more` lines.
fn instance(name: &str, vrid: u8, net: &str, dir: &Path, more: &str) -> String {
    let d = dir.display();
    format!(
        "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {vrid}\n  \
         priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    {net}.{vrid}/24\n  }}\n  \
         track_file {{\n    tf weight 1\n  }}\n  notify \"{d}/n.sh\"\n  notify_fault {d}/fault.sh\n  \
         {more}\n}}\n"
    )
}

/// VI_1 (kept by the reload), VI_2 (removed, no `notify_deleted`, its own
/// `notify_priority_changes false` overriding the global on), VI_3 (removed, with
/// `notify_deleted SCRIPT`).
fn config(net: &str, dir: &Path, all: bool) -> String {
    let d = dir.display();
    let mut c = format!(
        "global_defs {{\n  router_id notify_deleted\n  notify_fifo {d}/fifo\n  \
         vrrp_notify_priority_changes\n}}\nvrrp_track_file tf {{\n  file {d}/tf\n}}\n"
    );
    c += &instance("VI_1", 11, net, dir, "");
    if all {
        c += &instance("VI_2", 12, net, dir, "notify_priority_changes false");
        c += &instance("VI_3", 13, net, dir, &format!("notify_deleted {d}/del.sh"));
    }
    c
}

/// What one implementation reported.
#[derive(Debug, PartialEq)]
struct Seen {
    /// The FIFO's lines, by instance, in order.
    fifo: BTreeMap<String, Vec<String>>,
    /// The scripts run from the reload to the stop, sorted (they run concurrently).
    scripts_at_reload: Vec<String>,
}

/// Our end of `DIR/fifo`, created here and open for the whole run (read-write: no wait
/// for a writer), so that nothing written is lost when a daemon reopens it at a reload.
fn open_fifo(dir: &Path) -> Result<std::fs::File, String> {
    let path = dir.join("fifo");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .map_err(|e| format!("mkfifo: {e}"))?;
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| format!("open fifo: {e}"))
}

/// Everything written to the FIFO so far.
fn drain(fifo: &mut std::fs::File) -> Result<String, String> {
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    loop {
        match fifo.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(format!("read fifo: {e}")),
        }
    }
    Ok(text)
}

/// Write a `track_file` value in one step (a rename): a plain rewrite is seen empty (0)
/// for a moment.
fn set_track_file(dir: &Path, value: i32) -> Result<(), String> {
    let tmp = dir.join("tf.tmp");
    std::fs::write(&tmp, format!("{value}\n")).map_err(|e| format!("tf: {e}"))?;
    std::fs::rename(&tmp, dir.join("tf")).map_err(|e| format!("tf: {e}"))
}

fn run(imp: Impl, net: &str) -> Result<Seen, String> {
    let lan = Lan::new(1, net);
    lan.wait_carrier();
    let h = &lan.hosts[0];
    let tmp = TempDir::new("notify-deleted");
    let dir = tmp.path();
    let log = dir.join("scripts.log");
    for s in ["n.sh", "fault.sh", "del.sh"] {
        let p = dir.join(s);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> {}\n",
                log.display()
            ),
        )
        .map_err(|e| format!("write {s}: {e}"))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod {s}: {e}"))?;
    }
    std::fs::write(dir.join("tf"), "0\n").map_err(|e| format!("tf: {e}"))?;
    let mut fifo = open_fifo(dir)?;
    let vips: Vec<std::net::IpAddr> = [11, 12, 13]
        .iter()
        .map(|v| format!("{net}.{v}").parse().expect("vip"))
        .collect();
    let mut d = Daemon::start(h, imp, &config(net, dir, true));
    if !wait_for(UP, || vips.iter().all(|v| h.has_addr(*v))) {
        return Err(format!("{}: never MASTER of all\n{}", imp.name(), d.log()));
    }
    std::thread::sleep(Duration::from_millis(1500));
    // Priority 100 -> 105 for all three.
    set_track_file(dir, 5)?;
    std::thread::sleep(Duration::from_secs(2));
    let before = std::fs::read_to_string(&log).unwrap_or_default().len();
    std::fs::write(d.dir.join("keepalived.conf"), config(net, dir, false))
        .map_err(|e| format!("rewrite config: {e}"))?;
    d.signal(libc::SIGHUP);
    let gone = wait_for(Duration::from_secs(5), || {
        !h.has_addr(vips[1]) && !h.has_addr(vips[2])
    });
    std::thread::sleep(Duration::from_secs(2));
    let scripts = std::fs::read_to_string(&log).unwrap_or_default();
    d.stop(Duration::from_secs(5));
    if !gone {
        return Err(format!(
            "{}: removed VIPs still there\n{}",
            imp.name(),
            d.log()
        ));
    }
    let text = drain(&mut fifo)?;
    let mut by_instance: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in text.lines() {
        let name = l.split('"').nth(1).unwrap_or("?").to_string();
        by_instance.entry(name).or_default().push(l.to_string());
    }
    let mut at_reload: Vec<String> = scripts
        .get(before..)
        .unwrap_or("")
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect();
    at_reload.sort();
    Ok(Seen {
        fifo: by_instance,
        scripts_at_reload: at_reload,
    })
}

fn expected() -> Seen {
    let lines = |name: &str, tail: &[&str]| {
        let mut v = vec![
            format!("INSTANCE \"{name}\" BACKUP 100"),
            format!("INSTANCE \"{name}\" MASTER 100"),
        ];
        v.extend(tail.iter().map(|t| format!("INSTANCE \"{name}\" {t}")));
        (name.to_string(), v)
    };
    Seen {
        fifo: [
            lines("VI_1", &["MASTER_PRIORITY 105", "STOP 105"]),
            lines("VI_2", &["FAULT 105"]),
            lines("VI_3", &["MASTER_PRIORITY 105", "DELETED 105"]),
        ]
        .into_iter()
        .collect(),
        scripts_at_reload: vec![
            "del.sh".to_string(),
            "n.sh INSTANCE VI_2 FAULT 105".to_string(),
            "n.sh INSTANCE VI_3 DELETED 105".to_string(),
        ],
    }
}

#[test]
fn deleted_instances_and_priority_changes_are_notified_as_keepalived_2_4_3_does() {
    let name = "deleted_instances_and_priority_changes_are_notified_as_keepalived_2_4_3_does";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (ours, theirs) = std::thread::scope(|s| {
        let a = s.spawn(|| run(Impl::Ours, "10.131.0"));
        let b = s.spawn(|| run(Impl::Keepalived243, "10.131.1"));
        (a.join().expect("ours"), b.join().expect("2.4.3"))
    });
    let theirs = theirs.unwrap_or_else(|e| panic!("keepalived 2.4.3: {e}"));
    let ours = ours.unwrap_or_else(|e| panic!("ours: {e}"));
    eprintln!("keepalived 2.4.3: {theirs:#?}\nours: {ours:#?}");
    assert_eq!(theirs, expected(), "keepalived 2.4.3 changed its behaviour");
    assert_eq!(ours, expected());
}

/// `track_interface { dm0 }` (down at start, so FAULT), `track_file` weight 1.
fn fault_config(net: &str, dir: &Path) -> String {
    let d = dir.display();
    format!(
        "global_defs {{\n  router_id notify_priority\n  notify_fifo {d}/fifo\n  \
         vrrp_notify_priority_changes\n}}\nvrrp_track_file tf {{\n  file {d}/tf\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 11\n  \
         priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    {net}.11/24\n  }}\n  \
         track_file {{\n    tf weight 1\n  }}\n  track_interface {{\n    dm0\n  }}\n}}\n"
    )
}

/// The FIFO's lines while the priority changes in FAULT, in BACKUP and in MASTER.
fn priority_in_each_state(imp: Impl, net: &str) -> Result<Vec<String>, String> {
    let lan = Lan::new(1, net);
    lan.wait_carrier();
    let h = &lan.hosts[0];
    h.ip(["link", "add", "dm0", "type", "veth", "peer", "name", "dm1"]);
    h.ip(["link", "set", "dm1", "up"]);
    let tmp = TempDir::new("notify-priority");
    let dir = tmp.path();
    std::fs::write(dir.join("tf"), "0\n").map_err(|e| format!("tf: {e}"))?;
    let mut fifo = open_fifo(dir)?;
    let vip: std::net::IpAddr = format!("{net}.11").parse().expect("vip");
    let mut d = Daemon::start(h, imp, &fault_config(net, dir));
    let fifo_has = |fifo: &mut std::fs::File, text: &mut String, what: &str| {
        wait_for(Duration::from_secs(8), || {
            text.push_str(&drain(fifo).unwrap_or_default());
            text.contains(what)
        })
    };
    let mut text = String::new();
    let steps = (|| {
        if !fifo_has(&mut fifo, &mut text, "FAULT") {
            return Err("never FAULT");
        }
        std::thread::sleep(Duration::from_millis(500));
        set_track_file(dir, 5).map_err(|_| "tf")?;
        std::thread::sleep(Duration::from_millis(500));
        h.ip(["link", "set", "dm0", "up"]);
        if !fifo_has(&mut fifo, &mut text, "BACKUP 105") {
            return Err("never BACKUP");
        }
        std::thread::sleep(Duration::from_millis(500));
        set_track_file(dir, 7).map_err(|_| "tf")?;
        if !wait_for(UP, || h.has_addr(vip)) {
            return Err("never MASTER");
        }
        std::thread::sleep(Duration::from_millis(500));
        set_track_file(dir, 9).map_err(|_| "tf")?;
        std::thread::sleep(Duration::from_millis(1000));
        Ok(())
    })();
    d.stop(Duration::from_secs(5));
    text.push_str(&drain(&mut fifo)?);
    steps.map_err(|e| format!("{}: {e}\n{text}\n{}", imp.name(), d.log()))?;
    Ok(text.lines().map(str::to_string).collect())
}

#[test]
fn priority_changes_in_fault_backup_and_master_are_written_as_keepalived_2_4_3_does() {
    let name = "priority_changes_in_fault_backup_and_master_are_written_as_keepalived_2_4_3_does";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (ours, theirs) = std::thread::scope(|s| {
        let a = s.spawn(|| priority_in_each_state(Impl::Ours, "10.132.0"));
        let b = s.spawn(|| priority_in_each_state(Impl::Keepalived243, "10.132.1"));
        (a.join().expect("ours"), b.join().expect("2.4.3"))
    });
    let theirs = theirs.unwrap_or_else(|e| panic!("keepalived 2.4.3: {e}"));
    let ours = ours.unwrap_or_else(|e| panic!("ours: {e}"));
    eprintln!("keepalived 2.4.3: {theirs:#?}\nours: {ours:#?}");
    let expected: Vec<String> = [
        "FAULT 100",
        "BACKUP_PRIORITY 105",
        "BACKUP 105",
        "BACKUP_PRIORITY 107",
        "MASTER 107",
        "MASTER_PRIORITY 109",
        "STOP 109",
    ]
    .iter()
    .map(|l| format!("INSTANCE \"VI_1\" {l}"))
    .collect();
    assert_eq!(theirs, expected, "keepalived 2.4.3 changed its behaviour");
    assert_eq!(ours, expected);
}

/// `fifo_write_vrrp_states_on_reload`: the FIFO lines written by a reload. Returns the
/// lines before the reload and those written by it.
fn states_on_reload(imp: Impl, net: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let lan = Lan::new(1, net);
    lan.wait_carrier();
    let h = &lan.hosts[0];
    let tmp = TempDir::new("fifo-reload");
    let dir = tmp.path();
    let mut fifo = open_fifo(dir)?;
    let one = |name: &str, vrid: u8| {
        format!(
            "vrrp_instance {name} {{\n  interface eth0\n  virtual_router_id {vrid}\n  \
             priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    {net}.{vrid}/24\n  }}\n}}\n"
        )
    };
    let config = format!(
        "global_defs {{\n  vrrp_notify_fifo {}/fifo\n  fifo_write_vrrp_states_on_reload\n}}\n\
         vrrp_sync_group G1 {{\n  group {{\n    VI_1\n  }}\n}}\n{}{}",
        dir.display(),
        one("VI_1", 21),
        one("VI_2", 22)
    );
    let vips: Vec<std::net::IpAddr> = [21, 22]
        .iter()
        .map(|v| format!("{net}.{v}").parse().expect("vip"))
        .collect();
    let mut d = Daemon::start(h, imp, &config);
    if !wait_for(UP, || vips.iter().all(|v| h.has_addr(*v))) {
        return Err(format!("{}: never MASTER of both\n{}", imp.name(), d.log()));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let lines = |t: String| t.lines().map(str::to_string).collect::<Vec<_>>();
    let before = lines(drain(&mut fifo)?);
    d.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_secs(3));
    let at_reload = lines(drain(&mut fifo)?);
    d.stop(Duration::from_secs(5));
    Ok((before, at_reload))
}

/// keepalived 2.4.3 writes each sync group's state at a reload, and no instance line
/// (observed with and without sync groups).
#[test]
fn fifo_write_vrrp_states_on_reload_writes_what_keepalived_2_4_3_writes() {
    let name = "fifo_write_vrrp_states_on_reload_writes_what_keepalived_2_4_3_writes";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (ours, theirs) = std::thread::scope(|s| {
        let ours = s.spawn(|| states_on_reload(Impl::Ours, "10.59.1"));
        let theirs = s.spawn(|| states_on_reload(Impl::Keepalived243, "10.59.2"));
        (ours.join().expect("ours"), theirs.join().expect("theirs"))
    });
    let (ours, theirs) = (ours.unwrap(), theirs.unwrap());
    assert_eq!(
        theirs.1,
        vec!["GROUP \"G1\" MASTER 0".to_string()],
        "{theirs:?}"
    );
    assert_eq!(
        ours.1, theirs.1,
        "ours {ours:?}\nkeepalived 2.4.3 {theirs:?}"
    );
}
