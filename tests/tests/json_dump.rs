//! `json_version 2` (keepalived 2.2.8+): the JSON dump (`SIGRTMIN+2`, keepalived.json in
//! `$TMPDIR`) names its arrays, `vrrp` and `track_process`, and lists each track process
//! with its counts — compared field by field with keepalived 2.4.3's on the same config.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan};

fn conf(net: &str) -> String {
    format!(
        "global_defs {{\n  json_version 2\n}}\nvrrp_track_process tp {{\n  process ka_json_sleeper\n  \
         weight 5\n}}\nvrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id 91\n  \
         priority 150\n  advert_int 1\n  track_process {{\n    tp\n  }}\n  virtual_ipaddress {{\n    \
         {net}.100/24\n  }}\n}}\n"
    )
}

fn dump(imp: Impl, net: &str) -> serde_json::Value {
    let lan = Lan::new(1, net);
    let mut d = Daemon::start(&lan.hosts[0], imp, &conf(net));
    let vip = format!("{net}.100").parse().expect("vip");
    assert!(
        wait_for(Duration::from_secs(12), || lan.hosts[0].has_addr(vip)),
        "{}: never MASTER\n{}",
        imp.name(),
        d.log()
    );
    d.signal(36); // JSON: SIGRTMIN+2 for both
    let file = d.dir.join("keepalived.json");
    assert!(
        wait_for(Duration::from_secs(5), || file.exists()),
        "{}: no {}",
        imp.name(),
        file.display()
    );
    std::thread::sleep(Duration::from_millis(200));
    let text = std::fs::read_to_string(&file).expect("read the dump");
    d.stop(Duration::from_secs(5));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", imp.name()))
}

#[test]
fn json_version_2_lists_track_processes_as_keepalived_2_4_3_does() {
    let name = "json_version_2_lists_track_processes_as_keepalived_2_4_3_does";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    // A process for the tracker to find (its name is what `process` matches).
    let link = std::env::temp_dir().join(ka_tests::unique("ka_json_sleeper"));
    let bin = link.join("ka_json_sleeper");
    std::fs::create_dir_all(&link).expect("dir");
    std::fs::copy("/bin/sleep", &bin).expect("copy sleep");
    let mut sleeper = Command::new(&bin)
        .arg("60")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the tracked process");
    let (ours, theirs) = std::thread::scope(|s| {
        let a = s.spawn(|| dump(Impl::Ours, "10.101.0"));
        let b = s.spawn(|| dump(Impl::Keepalived243, "10.101.1"));
        (a.join().expect("ours"), b.join().expect("2.4.3"))
    });
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let _ = std::fs::remove_dir_all(Path::new(&link));
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(
        keys(&ours),
        keys(&theirs),
        "top level:\n{ours:#}\n{theirs:#}"
    );
    assert_eq!(ours["vrrp"][0]["data"]["iname"], "VI_1", "{ours:#}");
    let (o, t) = (&ours["track_process"][0], &theirs["track_process"][0]);
    assert_eq!(keys(o), keys(t), "track_process fields:\n{o:#}\n{t:#}");
    for k in [
        "process",
        "param_match",
        "min_processes",
        "weight",
        "full_command",
        "fork_delay_timer_running",
        "terminate_delay_timer_running",
    ] {
        assert_eq!(o[k], t[k], "{k}:\n{o:#}\n{t:#}");
    }
    // The counts: keepalived outside the initial network namespace gets no process events
    // (the proc connector is only there) and shows 0; we scan /proc there and find ours.
    assert_eq!(o["current_processes"], 1, "{o:#}");
    assert_eq!(o["have_quorum"], true, "{o:#}");
}
