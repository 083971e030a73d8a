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

// ---- keepalived.json's instances, field by field, against keepalived 2.4.3 ----------------
//
// Each configuration runs in two namespaces of its own, one daemon in each (ours on
// 10.102.N.0/24, 2.4.3 on 10.103.N.0/24), until every instance that should be MASTER holds
// its first VIP; then SIGRTMIN+2 and both `keepalived.json` files are compared instance
// by instance after [`normalise`]: 2.4.3's text has its subnet renamed to ours, the
// transition times (both must be within the last two minutes) and the advert counters
// (both must be > 0 for a MASTER) are replaced by markers. Then every key and value of
// 2.4.3's `data` and `stats` must be in ours, but for [`THEIRS_ONLY`] (and the values of
// [`VALUES_DIFFER`]), and ours may have only [`OURS_ONLY`] besides.

/// Fields of 2.4.3 that ours does not write, with the reason (none now: the list is
/// where the next one would go).
const THEIRS_ONLY: &[(&str, &str)] = &[];

/// Fields both write whose values may differ, with the reason.
const VALUES_DIFFER: &[(&str, &str)] = &[(
    "advert_interval_err",
    "ours counts v3 adverts with another interval (and learns it) as keepalived 2.2.7 \
     does (crates/vrrp/tests/engine_behaviour.rs::v3_interval_mismatch_is_counted_but_processed); \
     2.4.3 never counts anything there",
)];

/// Fields ours writes that 2.4.3 does not (ours' status facts and drop counters).
const OURS_ONLY: &[&str] = &[
    // data
    "state_name",
    "master_ipaddr",
    "sync_group",
    "last_transition_reason",
    // stats: drops 2.4.3 counts nowhere
    "version_err",
    "checksum_err",
    "v2_advert_interval_err",
    "dst_mode_err",
    "unicast_src_err",
    "owner_ignored",
];

/// Replace what moves: `last_transition` (checked to be a recent time) and the advert
/// counters (checked to be counting).
fn normalise(v: &mut serde_json::Value, who: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let arr = match v.get_mut("vrrp") {
        Some(a) => a,
        None => v,
    };
    for inst in arr.as_array_mut().into_iter().flatten() {
        if let Some(t) = inst["data"].get_mut("last_transition") {
            let secs = t.as_f64().unwrap_or(0.0);
            assert!(
                secs > now - 120.0 && secs <= now + 1.0,
                "{who}: last_transition {t} is not a time of the last two minutes"
            );
            *t = "recent".into();
        }
        let master = inst["data"]["state"] == 2;
        for k in ["advert_sent", "advert_rcvd"] {
            if let Some(n) = inst["stats"].get_mut(k) {
                if k == "advert_sent" && master {
                    assert!(n.as_u64().unwrap_or(0) > 0, "{who}: {k} {n} for a MASTER");
                }
                *n = "counting".into();
            }
        }
    }
}

/// Run `case.conf` (with `@NET@` for the subnet and `@SCRIPTS@` for the scripts'
/// directory) with `imp` on a host of its own with an `eth1` besides `eth0`, and
/// `case.peer`'s configuration, if any, with keepalived 2.4.3 on a second host of the LAN;
/// wait for `case.vips` to be held (by the peer when there is one, then two
/// seconds more for its adverts to be heard), then dump: keepalived.json and
/// keepalived.data of the first host.
fn dumps(imp: Impl, case: &Case, net: &str, scripts: &Path) -> (serde_json::Value, String) {
    let lan = Lan::new(if case.peer.is_some() { 2 } else { 1 }, net);
    let h = &lan.hosts[0];
    h.ip([
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ]);
    h.ip(["link", "set", "eth1", "up"]);
    h.ip(["link", "set", "eth1p", "up"]);
    h.ip(["link", "set", "lo", "up"]);
    // Both links running before the daemon starts (a tracked link that comes up later is
    // another scenario).
    lan.wait_carrier();
    assert!(
        wait_for(Duration::from_secs(5), || {
            let o = h.ip(["-br", "link", "show", "eth1"]);
            String::from_utf8_lossy(&o.stdout).contains("LOWER_UP")
        }),
        "eth1 never running"
    );
    let fill = |c: &str| {
        c.replace("@NET@", net)
            .replace("@SCRIPTS@", &scripts.display().to_string())
    };
    let peer = case
        .peer
        .map(|p| Daemon::start(&lan.hosts[1], Impl::Keepalived243, &fill(p)));
    let mut d = Daemon::start(h, imp, &fill(case.conf));
    let holder = if peer.is_some() { &lan.hosts[1] } else { h };
    for v in case.vips {
        let vip = v.replace("@NET@", net).parse().expect("vip");
        assert!(
            wait_for(Duration::from_secs(15), || holder.has_addr(vip)),
            "{}: {vip} never held\n{}",
            imp.name(),
            d.log()
        );
    }
    std::thread::sleep(Duration::from_millis(if peer.is_some() {
        2000
    } else {
        700
    }));
    d.signal(36);
    d.signal(libc::SIGUSR1);
    let (file, data) = (d.dir.join("keepalived.json"), d.dir.join("keepalived.data"));
    assert!(
        wait_for(Duration::from_secs(5), || file.exists() && data.exists()),
        "{}: no {} or {}",
        imp.name(),
        file.display(),
        data.display()
    );
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(&file).expect("read the dump");
    let data = std::fs::read_to_string(&data).expect("read the data dump");
    d.stop(Duration::from_secs(5));
    if let Some(mut p) = peer {
        p.stop(Duration::from_secs(5));
    }
    let json =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", imp.name()));
    (json, data)
}

/// Compare the instances of two normalised dumps as the header says; every difference
/// is listed.
fn compare(ours: &serde_json::Value, theirs: &serde_json::Value) -> Vec<String> {
    let list = |v: &serde_json::Value| -> Vec<serde_json::Value> {
        v.get("vrrp")
            .unwrap_or(v)
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let (o, t) = (list(ours), list(theirs));
    let mut diffs = Vec::new();
    if o.len() != t.len() {
        diffs.push(format!("{} instances, 2.4.3 {}", o.len(), t.len()));
    }
    for ti in &t {
        let name = &ti["data"]["iname"];
        let Some(oi) = o.iter().find(|x| x["data"]["iname"] == *name) else {
            diffs.push(format!("instance {name} missing"));
            continue;
        };
        for part in ["data", "stats"] {
            let (om, tm) = (
                oi[part].as_object().cloned().unwrap_or_default(),
                ti[part].as_object().cloned().unwrap_or_default(),
            );
            for (k, tv) in &tm {
                if THEIRS_ONLY.iter().any(|(n, _)| n == k) {
                    continue;
                }
                let may_differ = VALUES_DIFFER.iter().any(|(n, _)| n == k);
                match om.get(k) {
                    None => diffs.push(format!("{name} {part}.{k}: missing (2.4.3: {tv})")),
                    Some(ov) if ov != tv && !may_differ => {
                        diffs.push(format!("{name} {part}.{k}: {ov} (2.4.3: {tv})"))
                    }
                    Some(_) => {}
                }
            }
            for k in om.keys() {
                if !tm.contains_key(k) && !OURS_ONLY.contains(&k.as_str()) {
                    diffs.push(format!("{name} {part}.{k}: ours only ({})", om[k]));
                }
            }
        }
    }
    diffs
}

/// One configuration compared.
struct Case {
    /// What it covers.
    what: &'static str,
    /// The configuration of the host whose dumps are compared.
    conf: &'static str,
    /// The VIPs to wait for (`@NET@` for the subnet).
    vips: &'static [&'static str],
    /// A second host's configuration (run by keepalived 2.4.3 for both), which then
    /// holds `vips`.
    peer: Option<&'static str>,
}

/// The configurations compared.
const CASES: &[Case] = &[
    Case {
        what: "v2 multicast, PASS, nopreempt, garp_*, smtp_alert, notify scripts, track \
         interface/script/file, excluded VIPs, routes, rules",
        conf: "vrrp_script chk {\n  script \"@SCRIPTS@/ok.sh\"\n  interval 1\n  weight -10\n}\n\
         track_file tf {\n  file @SCRIPTS@/tf\n  weight 3\n}\n\
         vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority 120\n  advert_int 1\n  nopreempt\n  timer_expired_backup 200\n  \
         garp_master_delay 3\n  \
         garp_master_repeat 2\n  garp_master_refresh 30\n  garp_master_refresh_repeat 4\n  \
         garp_lower_prio_repeat 6\n  garp_lower_prio_delay 7\n  smtp_alert\n  \
         authentication {\n    auth_type PASS\n    auth_pass secret1\n  }\n  \
         track_interface {\n    eth1 weight 5\n  }\n  track_script {\n    chk\n  }\n  \
         track_file {\n    tf\n  }\n  notify_master \"@SCRIPTS@/ok.sh master\"\n  \
         notify_backup @SCRIPTS@/ok.sh\n  notify_fault @SCRIPTS@/ok.sh\n  \
         notify_stop @SCRIPTS@/ok.sh\n  notify @SCRIPTS@/ok.sh\n  \
         virtual_ipaddress {\n    @NET@.100/24\n  }\n  \
         virtual_ipaddress_excluded {\n    @NET@.150/24\n  }\n  virtual_routes {\n    \
         10.99.0.0/24 via @NET@.254 dev eth0\n    192.168.77.0/24 dev eth0 metric 5\n  }\n  \
         virtual_rules {\n    from @NET@.100 table 100 priority 20\n    \
         to 10.98.0.0/16 lookup 101 priority 30\n  }\n}\n",
        vips: &["@NET@.100"],
        peer: None,
    },
    Case {
        what: "v3 unicast, preempt_delay, advert_int 0.5, lower_prio_no_advert, \
         higher_prio_send_advert, dont_track_primary, skip_check_adv_addr, a VIP and a route \
         on eth1, static addresses, routes and rules",
        conf: "static_ipaddress {\n  @NET@.250/24 dev eth1\n  fd00:99::9 dev eth1\n}\n\
               static_routes {\n  10.96.0.0/16 via @NET@.254 dev eth0\n}\n\
               static_rules {\n  from @NET@.250 table 200 priority 40\n}\n\
               vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 52\n  version 3\n  \
         priority 100\n  advert_int 0.5\n  preempt_delay 10\n  unicast_src_ip @NET@.1\n  \
         unicast_peer {\n    @NET@.2\n    @NET@.3\n  }\n  lower_prio_no_advert\n  \
         higher_prio_send_advert\n  dont_track_primary\n  skip_check_adv_addr\n  \
         virtual_ipaddress {\n    @NET@.200\n    @NET@.201 dev eth1\n  }\n  virtual_routes {\n    \
         192.168.78.0/24 dev eth1\n    blackhole 10.97.0.0/16\n  }\n}\n",
        vips: &["@NET@.200"],
        peer: None,
    },
    Case {
        what: "sync group of two, AH, promote_secondaries, notify_deleted, \
         vrrp_strict-free defaults",
        conf: "vrrp_sync_group G1 {\n  group {\n    VI_3\n    VI_4\n  }\n  smtp_alert\n  \
               notify_backup \"@SCRIPTS@/ok.sh group\"\n  notify @SCRIPTS@/ok.sh\n}\n\
         vrrp_instance VI_3 {\n  interface eth0\n  virtual_router_id 53\n  priority 150\n  \
         advert_int 1\n  promote_secondaries\n  authentication {\n    auth_type AH\n    \
         auth_pass ahsecret\n  }\n  virtual_ipaddress {\n    @NET@.103/24\n  }\n}\n\
         vrrp_instance VI_4 {\n  interface eth0\n  virtual_router_id 54\n  priority 150\n  \
         advert_int 2\n  notify_deleted\n  notify_master @SCRIPTS@/ok.sh\n  \
         virtual_ipaddress {\n    @NET@.104/24\n  }\n}\n",
        vips: &["@NET@.103", "@NET@.104"],
        peer: None,
    },
    Case {
        what: "IPv6: native VRRPv3, link-local source, VIPs with and without a prefix, \
               an excluded IPv4 address, an IPv6 route",
        conf: "vrrp_instance VI_6 {\n  interface eth0\n  virtual_router_id 56\n  \
               priority 150\n  advert_int 1\n  virtual_ipaddress {\n    \
               fd00:56::6/64\n    fd00:56::7\n  }\n  virtual_ipaddress_excluded {\n    \
               @NET@.156/24\n  }\n  virtual_routes {\n    fd00:57::/64 via fd00:56::1 dev eth0\n  \
               }\n}\n",
        vips: &["fd00:56::6", "fd00:56::7"],
        peer: None,
    },
    Case {
        what: "vrrp_strict (no accept: nftables rules for the VIPs)",
        conf: "global_defs {\n  vrrp_strict\n}\nvrrp_instance VI_8 {\n  interface eth0\n  \
               virtual_router_id 58\n  priority 150\n  advert_int 1\n  \
               virtual_ipaddress {\n    @NET@.158/24\n  }\n}\n",
        vips: &["@NET@.158"],
        peer: None,
    },
    Case {
        what: "use_vmac",
        conf: "vrrp_instance VI_7 {\n  interface eth0\n  virtual_router_id 57\n  \
               priority 150\n  advert_int 1\n  use_vmac\n  virtual_ipaddress {\n    \
               @NET@.157/24\n  }\n}\n",
        vips: &["@NET@.157"],
        peer: None,
    },
    Case {
        what: "BACKUP under a v3 master with another advert interval: no VIP set, \
               master_adver_int learned",
        conf: "vrrp_instance VI_5 {\n  interface eth0\n  virtual_router_id 55\n  \
               version 3\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    \
               @NET@.105/24\n  }\n}\n",
        vips: &["@NET@.105"],
        peer: Some(
            "vrrp_instance VI_5 {\n  interface eth0\n  virtual_router_id 55\n  \
             version 3\n  priority 200\n  advert_int 0.5\n  virtual_ipaddress {\n    \
             @NET@.105/24\n  }\n}\n",
        ),
    },
];

/// A directory with a script keepalived runs (`ok.sh`: a real file, not a symlink, in a
/// directory only root writes) and a track file (`tf`, value 0).
fn script_dir(tag: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let scripts = std::env::temp_dir().join(ka_tests::unique(tag));
    std::fs::create_dir_all(&scripts).expect("dir");
    let ok = scripts.join("ok.sh");
    std::fs::write(&ok, "#!/bin/sh\nexit 0\n").expect("script");
    std::fs::write(scripts.join("tf"), "0\n").expect("track file");
    std::fs::set_permissions(&ok, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&scripts, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    scripts
}

#[test]
fn json_instances_match_keepalived_2_4_3_field_by_field() {
    let name = "json_instances_match_keepalived_2_4_3_field_by_field";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let scripts = script_dir("ka_json_scripts");
    let mut failures = Vec::new();
    for (n, case) in CASES.iter().enumerate() {
        let (our_net, their_net) = (format!("10.102.{n}"), format!("10.103.{n}"));
        let ((mut ours, _), (theirs, _)) = std::thread::scope(|s| {
            let a = s.spawn(|| dumps(Impl::Ours, case, &our_net, &scripts));
            let b = s.spawn(|| dumps(Impl::Keepalived243, case, &their_net, &scripts));
            (a.join().expect("ours"), b.join().expect("2.4.3"))
        });
        let renamed = serde_json::to_string(&theirs)
            .expect("json")
            .replace(&format!("{their_net}."), &format!("{our_net}."));
        let mut theirs: serde_json::Value = serde_json::from_str(&renamed).expect("json");
        normalise(&mut ours, "ours");
        normalise(&mut theirs, "2.4.3");
        let diffs = compare(&ours, &theirs);
        if !diffs.is_empty() {
            failures.push(format!(
                "config {n} ({}):\n  {}\nours:\n{ours:#}\n2.4.3:\n{theirs:#}",
                case.what,
                diffs.join("\n  ")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&scripts);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ---- keepalived.data's VRRP sections, line by line, against keepalived 2.4.3 ---------------
//
// The same cases; each block (an instance, a sync group, a script) of the "VRRP Topology",
// "VRRP Sync groups", "VRRP Scripts" and "VRRP Track files" sections is compared as a
// set of lines after 2.4.3's subnet is renamed to ours and the lines in
// [`DATA_THEIRS_ONLY`] are left out of 2.4.3's (those of [`DATA_VALUES_DIFFER`] out of both). `Last transition` must be a time of the
// last two minutes in both, and is then compared without the time.

/// Lines of 2.4.3's instance blocks (by their start) that ours does not write, with the
/// reason.
const DATA_THEIRS_ONLY: &[(&str, &str)] = &[
    ("   Read timeout = ", "a timer of keepalived's scheduler"),
    (
        "   Last advert sent = ",
        "the engine does not keep when it last sent",
    ),
    (
        "   Rate-limit flags = ",
        "keepalived's log rate-limiting state",
    ),
    (
        "   fd_in ",
        "keepalived's socket numbers (ours share sockets differently)",
    ),
];

/// Lines both write whose values may differ (left out of both), with the reason.
const DATA_VALUES_DIFFER: &[(&str, &str)] = &[(
    "   Timeout = ",
    "a vrrp_script without `timeout`: keepalived shows 0, ours the interval it uses",
)];

/// The sections compared and how their blocks start.
const DATA_SECTIONS: &[(&str, &str)] = &[
    ("------< Static Addresses >------", "     "),
    ("------< Static Routes >------", "     "),
    ("------< Static Rules >------", "     "),
    ("------< VRRP Topology >------", " VRRP Instance = "),
    ("------< VRRP Sync groups >------", " VRRP Sync Group = "),
    ("------< VRRP Scripts >------", " VRRP Script = "),
    ("------< VRRP Track files >------", " Track file = "),
];

/// The blocks of the [`DATA_SECTIONS`], by their first line, each line normalised.
fn topology(text: &str, who: &str) -> Vec<(String, Vec<String>)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut starts: Option<&str> = None;
    for line in text.lines() {
        if line.starts_with("------<") {
            starts = DATA_SECTIONS
                .iter()
                .find(|(title, _)| *title == line)
                .map(|(_, start)| *start);
            continue;
        }
        let Some(start) = starts else {
            continue;
        };
        if line.starts_with(start) {
            out.push((line.to_string(), Vec::new()));
            continue;
        }
        let Some((_, lines)) = out.last_mut() else {
            continue;
        };
        if line.starts_with("   Using src_ip = fe80:") {
            // Each host's link-local address is its own.
            lines.push("   Using src_ip = (link-local)".into());
            continue;
        }
        if let Some(t) = line.strip_prefix("   Last transition = ") {
            let secs: f64 = t
                .split_whitespace()
                .next()
                .and_then(|x| x.parse().ok())
                .unwrap_or(0.0);
            assert!(
                secs > now - 120.0 && secs <= now + 1.0,
                "{who}: {line:?} is not a time of the last two minutes"
            );
            lines.push("   Last transition = (recent)".into());
            continue;
        }
        lines.push(line.to_string());
    }
    out
}

/// The differences between two topologies, as the header says.
fn compare_topology(ours: &str, theirs: &str) -> Vec<String> {
    let (o, t) = (topology(ours, "ours"), topology(theirs, "2.4.3"));
    let mut diffs = Vec::new();
    if o.len() != t.len() {
        diffs.push(format!("{} instances, 2.4.3 {}", o.len(), t.len()));
    }
    for (name, tl) in &t {
        let Some((_, ol)) = o.iter().find(|(n, _)| n == name) else {
            diffs.push(format!("instance {name} missing"));
            continue;
        };
        let differ = |l: &&String| DATA_VALUES_DIFFER.iter().any(|(p, _)| l.starts_with(p));
        let tl: Vec<&String> = tl
            .iter()
            .filter(|l| !DATA_THEIRS_ONLY.iter().any(|(p, _)| l.starts_with(p)))
            .filter(|l| !differ(l))
            .collect();
        let ol: Vec<&String> = ol.iter().filter(|l| !differ(l)).collect();
        for l in &tl {
            if !ol.contains(l) {
                diffs.push(format!("{name}: 2.4.3 only: {l:?}"));
            }
        }
        for l in ol {
            if !tl.contains(&l) {
                diffs.push(format!("{name}: ours only: {l:?}"));
            }
        }
    }
    diffs
}

#[test]
fn data_topology_matches_keepalived_2_4_3_line_by_line() {
    let name = "data_topology_matches_keepalived_2_4_3_line_by_line";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let scripts = script_dir("ka_data_scripts");
    let mut failures = Vec::new();
    let mut seen = Vec::new();
    for (n, case) in CASES.iter().enumerate() {
        let (our_net, their_net) = (format!("10.104.{n}"), format!("10.105.{n}"));
        let ((_, ours), (_, theirs)) = std::thread::scope(|s| {
            let a = s.spawn(|| dumps(Impl::Ours, case, &our_net, &scripts));
            let b = s.spawn(|| dumps(Impl::Keepalived243, case, &their_net, &scripts));
            (a.join().expect("ours"), b.join().expect("2.4.3"))
        });
        let theirs = theirs.replace(&format!("{their_net}."), &format!("{our_net}."));
        for (head, _) in topology(&theirs, "2.4.3") {
            seen.push(head);
        }
        let mut diffs = compare_topology(&ours, &theirs);
        diffs.extend(compare_global_sections(&ours, &theirs));
        if !diffs.is_empty() {
            failures.push(format!(
                "config {n} ({}):\n  {}\nours:\n{ours}\n2.4.3:\n{theirs}",
                case.what,
                diffs.join("\n  ")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&scripts);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Every section had blocks to compare.
    for (title, start) in DATA_SECTIONS {
        assert!(
            seen.iter().any(|h| h.starts_with(start)),
            "no block of {title} compared: {seen:?}"
        );
    }
}

// ---- keepalived.data's global sections, line by line, against keepalived 2.4.3 -------------
//
// "Global definitions" is compared as a set of lines (after 2.4.3's subnet is renamed to
// ours), but for the lines of [`GLOBAL_THEIRS_ONLY`]; "VRRP Sockpool" as a list of entries
// (each a set of lines), the `fd_in` line of each without its numbers; "VRRP Track
// processes" as a set of lines; "Gratuitous ARP delays" line by line, the "next time" of
// each group without its time. Run for every case
// above (defaults, unicast, IPv6, VMAC, vrrp_strict) and for [`GLOBAL_CASE`] (most
// `global_defs` keywords both read, set to something else than their default).

/// Lines of 2.4.3's "Global definitions" that ours does not write, with the reason.
const GLOBAL_THEIRS_ONLY: &[(&str, &str)] = &[
    (
        " Replace symlinks in script paths",
        "`use_symlink_paths` is unknown to keepalived-rs",
    ),
    (
        " keep script symlinks = ",
        "`use_symlink_paths` is unknown to keepalived-rs",
    ),
    (
        " libnftnl version ",
        "the library keepalived is linked with; keepalived-rs speaks netlink itself",
    ),
    (
        " iproute usr directory ",
        "`iproute_usr_dir` is unknown to keepalived-rs",
    ),
    (
        " iproute etc directory ",
        "`iproute_etc_dir` is unknown to keepalived-rs",
    ),
];

/// The lines of the section titled `title` (without the title).
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| !l.starts_with("------<"))
        .collect()
}

/// The differences of the global sections, as the header says.
fn compare_global_sections(ours: &str, theirs: &str) -> Vec<String> {
    let mut diffs = compare_global_definitions(ours, theirs);
    diffs.extend(compare_pool_and_processes(ours, theirs));
    diffs
}

/// The differences of the "Global definitions" sections.
fn compare_global_definitions(ours: &str, theirs: &str) -> Vec<String> {
    let mut diffs = Vec::new();
    let title = "------< Global definitions >------";
    let (o, t) = (section(ours, title), section(theirs, title));
    if t.is_empty() || o.is_empty() {
        diffs.push(format!(
            "{title}: ours {} lines, 2.4.3 {}",
            o.len(),
            t.len()
        ));
    }
    let t: Vec<&str> = t
        .into_iter()
        .filter(|l| !GLOBAL_THEIRS_ONLY.iter().any(|(p, _)| l.starts_with(p)))
        .collect();
    for l in &t {
        if !o.contains(l) {
            diffs.push(format!("global: 2.4.3 only: {l:?}"));
        }
    }
    for l in &o {
        if !t.contains(l) {
            diffs.push(format!("global: ours only: {l:?}"));
        }
    }
    diffs
}

/// The differences of the "VRRP Sockpool" and "VRRP Track processes" sections.
fn compare_pool_and_processes(ours: &str, theirs: &str) -> Vec<String> {
    let mut diffs = Vec::new();
    let pool = |text: &str| -> Vec<Vec<String>> {
        let mut entries: Vec<Vec<String>> = Vec::new();
        for l in section(text, "------< VRRP Sockpool >------") {
            if l.starts_with(" fd_in ") {
                // keepalived's socket numbers.
                entries.push(vec![" fd_in (fd) fd_out = (fd)".into()]);
            } else if let Some(e) = entries.last_mut() {
                e.push(l.to_string());
            }
        }
        for e in &mut entries {
            e.sort();
        }
        entries.sort();
        entries
    };
    let (o, t) = (pool(ours), pool(theirs));
    if t.is_empty() {
        diffs.push("2.4.3 wrote no sockpool entry".into());
    }
    if o != t {
        diffs.push(format!("sockpool: ours {o:?}\n  2.4.3 {t:?}"));
    }
    let procs = |text: &str| -> Vec<String> {
        let mut v: Vec<String> = section(text, "------< VRRP Track processes >------")
            .into_iter()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let (o, t) = (procs(ours), procs(theirs));
    if o != t {
        diffs.push(format!("track processes: ours {o:?}\n  2.4.3 {t:?}"));
    }
    // The GARP delay groups, in order; their next times are times.
    let garp = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| *l != "------< Gratuitous ARP delays >------")
            .skip(1)
            .take_while(|l| !l.starts_with("------<") || *l == "------< GARP delay group >------")
            .map(|l| match l.split_once(" next time ") {
                Some((what, _)) => format!("{what} next time (time)"),
                None => l.to_string(),
            })
            .collect()
    };
    let (o, t) = (garp(ours), garp(theirs));
    if o != t {
        diffs.push(format!("GARP delay groups: ours {o:?}\n  2.4.3 {t:?}"));
    }
    diffs
}

/// Most `global_defs` keywords both read, none at its default; a `garp_group`; two track
/// processes (no process of that name runs).
const GLOBAL_CASE: Case = Case {
    what: "global_defs set",
    conf: "global_defs {\n  router_id data_global\n  smtp_alert true\n  \
           smtp_alert_vrrp false\n  checker_log_all_failures\n  dynamic_interfaces\n  \
           v3_checksum_as_v2\n  lvs_flush\n  fifo_write_vrrp_states_on_reload\n  \
           vrrp_notify_priority_changes\n  vrrp_mcast_group4 224.0.0.19\n  \
           vrrp_mcast_group6 ff02::13\n  vrrp_garp_master_delay 7\n  \
           vrrp_garp_master_repeat 3\n  vrrp_garp_master_refresh 60\n  \
           vrrp_garp_master_refresh_repeat 2\n  vrrp_garp_lower_prio_delay 4\n  \
           vrrp_down_timer_adverts 4\n  vrrp_garp_extra_if all 10\n  \
           vrrp_lower_prio_no_advert\n  vrrp_higher_prio_send_advert\n  \
           vrrp_garp_interval 0.01\n  vrrp_gna_interval 0.02\n  vrrp_version 3\n  vrrp_check_unicast_src\n  \
           vrrp_skip_check_adv_addr\n  min_auto_priority_delay 2000000\n  \
           checker_priority 3\n  checker_no_swap\n  enable_script_security\n  \
           script_user nobody\n  vrrp_netlink_cmd_rcv_bufs 100000\n  \
           lvs_netlink_monitor_rcv_bufs 200000\n  rs_init_notifies\n  \
           no_checker_emails\n  vrrp_rx_bufs_multiplier 4\n  umask 0022\n  \
           nftables\n  nftables_counters\n  reload_check_config @SCRIPTS@/check.log\n}\n\
           garp_group {\n  garp_interval 0.5\n  gna_interval 0.7\n  interface eth1\n}\n\
           vrrp_track_process tp {\n  process ka_no_such_proc\n  weight 5\n}\n\
           vrrp_track_process tq {\n  process ka_no_such_proc -x\n  param_match partial\n  \
           quorum 2\n  delay 3\n}\n\
           vrrp_instance VI_G {\n  interface eth0\n  virtual_router_id 59\n  \
           priority 150\n  advert_int 1\n  track_process {\n    tp\n    tq weight -10\n  \
           }\n  virtual_ipaddress {\n    @NET@.159/24\n  }\n}\n",
    vips: &["@NET@.159"],
    peer: None,
};

#[test]
fn data_global_definitions_match_keepalived_2_4_3_line_by_line() {
    let name = "data_global_definitions_match_keepalived_2_4_3_line_by_line";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let scripts = script_dir("ka_data_global");
    let (our_net, their_net) = ("10.104.20".to_string(), "10.105.20".to_string());
    let ((_, ours), (_, theirs)) = std::thread::scope(|s| {
        let a = s.spawn(|| dumps(Impl::Ours, &GLOBAL_CASE, &our_net, &scripts));
        let b = s.spawn(|| dumps(Impl::Keepalived243, &GLOBAL_CASE, &their_net, &scripts));
        (a.join().expect("ours"), b.join().expect("2.4.3"))
    });
    let _ = std::fs::remove_dir_all(&scripts);
    let theirs = theirs.replace(&format!("{their_net}."), &format!("{our_net}."));
    let mut diffs = compare_global_sections(&ours, &theirs);
    diffs.extend(compare_topology(&ours, &theirs));
    // The sections this case is for were there to compare.
    for title in [
        "------< GARP delay group >------",
        "------< VRRP Track processes >------",
        "------< VRRP Sockpool >------",
    ] {
        if !theirs.contains(title) {
            diffs.push(format!("2.4.3 wrote no {title}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{}\nours:\n{ours}\n2.4.3:\n{theirs}",
        diffs.join("\n")
    );
}

// ---- `-d`: the configuration's text dump in the log, against keepalived 2.4.3 --------------

/// The blocks of [`DATA_SECTIONS`] and the global definitions in a `-d` log: the date prefix of each line dropped
/// (and ours' `[vrrp] ` tag of the VRRP child's lines on the console), and inside a
/// section only the indented lines kept (other log lines come in between).
fn logged_dump(log: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in log.lines() {
        let text = line.split_once(": ").map_or(line, |(_, rest)| rest);
        let text = text.strip_prefix("[vrrp] ").unwrap_or(text);
        if text.starts_with("------<") {
            inside = DATA_SECTIONS.iter().any(|(t, _)| *t == text)
                || text == "------< Global definitions >------";
            out.push_str(text);
            out.push('\n');
        } else if inside && text.starts_with(' ') {
            out.push_str(text);
            out.push('\n');
        }
    }
    out
}

/// Run `case` with `-d` until its VIPs are held; the daemon's log.
fn dash_d_log(imp: Impl, case: &Case, net: &str, scripts: &Path) -> String {
    let lan = Lan::new(1, net);
    let h = &lan.hosts[0];
    h.ip([
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ]);
    h.ip(["link", "set", "eth1", "up"]);
    h.ip(["link", "set", "eth1p", "up"]);
    lan.wait_carrier();
    let text = case
        .conf
        .replace("@NET@", net)
        .replace("@SCRIPTS@", &scripts.display().to_string());
    let mut d = Daemon::start_with(h, imp, &text, &["-d"]);
    for v in case.vips {
        let vip = v.replace("@NET@", net).parse().expect("vip");
        assert!(
            wait_for(Duration::from_secs(15), || h.has_addr(vip)),
            "{}: {vip} never held\n{}",
            imp.name(),
            d.log()
        );
    }
    d.stop(Duration::from_secs(5));
    d.log()
}

#[test]
fn dash_d_logs_the_configuration_as_keepalived_2_4_3_does() {
    let name = "dash_d_logs_the_configuration_as_keepalived_2_4_3_does";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let scripts = std::env::temp_dir().join(ka_tests::unique("ka_dash_d_scripts"));
    std::fs::create_dir_all(&scripts).expect("dir");
    let ok = scripts.join("ok.sh");
    std::fs::write(&ok, "#!/bin/sh\nexit 0\n").expect("script");
    std::fs::write(scripts.join("tf"), "0\n").expect("track file");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ok, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(&scripts, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut failures = Vec::new();
    // The cases without a peer (the dump is the configuration's: no state in it).
    for (n, case) in CASES.iter().enumerate().filter(|(_, c)| c.peer.is_none()) {
        let (our_net, their_net) = (format!("10.106.{n}"), format!("10.107.{n}"));
        let (ours, theirs) = std::thread::scope(|s| {
            let a = s.spawn(|| dash_d_log(Impl::Ours, case, &our_net, &scripts));
            let b = s.spawn(|| dash_d_log(Impl::Keepalived243, case, &their_net, &scripts));
            (a.join().expect("ours"), b.join().expect("2.4.3"))
        });
        let theirs = theirs.replace(&format!("{their_net}."), &format!("{our_net}."));
        let (o, t) = (logged_dump(&ours), logged_dump(&theirs));
        // keepalived logs the dump before it has learnt the link-local address an IPv6
        // instance sends from; ours has it.
        let t = t.replace(
            "   Using src_ip = (none)\n",
            "   Using src_ip = fe80::(link-local)\n",
        );
        assert!(
            o.contains(" VRRP Instance = "),
            "ours logged no dump with -d:\n{ours}"
        );
        let mut diffs = compare_topology(&o, &t);
        diffs.extend(compare_global_definitions(&o, &t));
        if !diffs.is_empty() {
            failures.push(format!(
                "config {n} ({}):\n  {}\nours:\n{o}\n2.4.3:\n{t}",
                case.what,
                diffs.join("\n  ")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&scripts);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
