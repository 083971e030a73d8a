#![allow(clippy::unwrap_used)]

use super::*;
use vrrp::{EngineConfig, InstanceConfig};

fn engine() -> Engine {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51, &["192.0.2.100".parse().unwrap()]);
    c.src_addr = Some("192.0.2.1".parse().unwrap());
    Engine::new(EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    })
    .unwrap()
}

#[test]
fn auth_hmac_lines_are_keepalived_2_4_3_s_and_show_no_key() {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51, &["192.0.2.100".parse().unwrap()]);
    let mut h = vrrp::hmac_auth::HmacConfig::single(1, b"0123456789abcdef0123456789abcdef");
    h.keys.push(vrrp::hmac_auth::HmacKey {
        id: 2,
        key: b"zyxwvutsrqponmlkjihgfedcbazyxwvu".to_vec(),
    });
    h.active_key = 2;
    h.mode = vrrp::hmac_auth::HmacMode::Permissive;
    h.time_window = Some(7);
    c.hmac = Some(h);
    let e = Engine::new(EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    })
    .unwrap();
    let d = data(&e, &[]);
    assert!(
        d.contains(
            "   Authentication type = none\n   Authentication extension = HMAC-SHA256-128\n     \
             Keys = 2, active key id = 2\n     Mode = permissive\n     \
             Anti replay = time, window = 7 sec\n"
        ),
        "{d}"
    );
    assert!(!d.contains("0123456789") && !d.contains("zyxw"));
    let s = stats(&e, &HashMap::new());
    assert!(
        s.contains(
            "    Failure: 0\n  Authentication Extension Errors:\n    Missing: 0\n    \
             Malformed: 0\n    Unknown Key: 0\n    Invalid HMAC: 0\n    Stale: 0\n    \
             Replay: 0\n  Priority Zero:\n"
        ),
        "{s}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&json(&e, &HashMap::new(), &HashMap::new(), None)).unwrap();
    assert_eq!(j[0]["stats"]["auth_ext_invalid_hmac"], 0);
    // Without auth_hmac: keepalived 2.2.7's layout.
    assert!(!stats(&engine(), &HashMap::new()).contains("Extension"));
}

#[test]
fn dumps_name_the_instance() {
    let e = engine();
    let d = data(&e, &[("chk".into(), "/bin/true".into(), TrackStatus::Up)]);
    assert!(d.contains(" VRRP Instance = VI_1"));
    assert!(d.contains("   State = INIT"));
    assert!(d.contains("Status = GOOD"));
    let s = stats(&e, &HashMap::new());
    assert!(s.starts_with("VRRP Instance: VI_1\n"));
    let j: serde_json::Value =
        serde_json::from_str(&json(&e, &HashMap::new(), &HashMap::new(), None)).unwrap();
    assert_eq!(j[0]["data"]["iname"], "VI_1");
    assert_eq!(j[0]["stats"]["advert_sent"], 0);
    assert_eq!(j[0]["stats"]["checksum_err"], 0);
}

#[test]
fn the_report_has_the_counters_the_json_has_and_transitions_by_reason() {
    let e = engine();
    let mut by = ByReason::default();
    by.count("VI_1", Reason::Startup);
    by.count("VI_1", Reason::MasterDown);
    by.count("VI_1", Reason::MasterDown);
    by.count("GONE", Reason::Fault);
    let scripts: HashMap<String, (TrackStatus, bool)> =
        [("chk".to_string(), (TrackStatus::Down, true))].into();
    let r = report(&e, &HashMap::new(), &scripts, &by);
    assert_eq!(r.instances.len(), 1);
    let i = &r.instances[0];
    assert_eq!(i.iname, "VI_1");
    assert_eq!(i.vips, ["192.0.2.100/32"]);
    assert_eq!(
        i.transitions_by_reason,
        [("startup".to_string(), 1), ("master_down".to_string(), 2)]
    );
    assert_eq!(
        (r.scripts[0].0.as_str(), r.scripts[0].1.status.as_str()),
        ("chk", "BAD")
    );
    assert_eq!(r.scripts[0].1.state, "running");
    // The same counters, under the same names, as the JSON dump.
    let j: serde_json::Value =
        serde_json::from_str(&json(&e, &HashMap::new(), &scripts, None)).unwrap();
    for (n, v) in COUNTER_NAMES.iter().zip(i.stats) {
        assert_eq!(j[0]["stats"][n], v, "{n}");
    }
    assert_eq!(
        j[0]["stats"].as_object().unwrap().len(),
        COUNTER_NAMES.len()
    );
    assert!(by.of("NONE").is_empty());
}

#[test]
fn json_version_2_names_the_arrays_and_lists_the_track_processes() {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51, &["192.0.2.100".parse().unwrap()]);
    c.src_addr = Some("192.0.2.1".parse().unwrap());
    c.track.push(vrrp::TrackConfig {
        kind: vrrp::TrackKind::Process,
        name: "tp".into(),
        weight: 5,
        reverse: false,
    });
    let e = Engine::new(EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    })
    .unwrap();
    let procs = vrrp::ProcessTrackers::new(vec![vrrp::ProcessTrackerConfig {
        name: "tp".into(),
        spec: vrrp::ProcessSpec {
            name: "sleep".into(),
            params: vec![],
            mode: vrrp::process::ParamMode::Ignore,
            full_command: false,
        },
        quorum: 1,
        quorum_max: None,
        fork_delay: std::time::Duration::ZERO,
        terminate_delay: std::time::Duration::ZERO,
    }]);
    let j: serde_json::Value =
        serde_json::from_str(&json(&e, &HashMap::new(), &HashMap::new(), Some(&procs))).unwrap();
    assert_eq!(j["vrrp"][0]["data"]["iname"], "VI_1");
    let tp = &j["track_process"][0];
    assert_eq!(tp["process"], "tp");
    assert_eq!(tp["param_match"], "none");
    assert_eq!(tp["min_processes"], 1);
    assert_eq!(tp["current_processes"], 0);
    assert_eq!(tp["have_quorum"], false);
    assert_eq!(tp["weight"], 5);
}

#[test]
fn addresses_routes_and_rules_read_as_keepalived_2_4_3_writes_them() {
    use vrrp::install::{Route, RouteKind, Rule, RuleAction};
    let mut v = vrrp::Vip::host("192.0.2.100".parse().unwrap());
    assert_eq!(
        vip_str(&v, "eth0", true),
        "192.0.2.100 dev eth0 scope global set"
    );
    v.prefix_len = 24;
    v.dev = Some("eth1".into());
    assert_eq!(
        vip_str(&v, "eth0", false),
        "192.0.2.100/24 dev eth1 scope global"
    );
    let mut r = Route::new("10.99.0.0".parse().unwrap(), 24);
    r.via = Some("192.0.2.254".parse().unwrap());
    r.dev = Some("eth0".into());
    assert_eq!(
        route_str(&r),
        "prepend 10.99.0.0/24 via inet 192.0.2.254 dev eth0 proto 18"
    );
    let mut r = Route::new("192.168.77.0".parse().unwrap(), 24);
    r.dev = Some("eth1".into());
    r.metric = Some(5);
    r.table = Some(254);
    assert_eq!(
        route_str(&r),
        "prepend 192.168.77.0/24 dev eth1 proto 18 metric 5"
    );
    let mut r = Route::new("10.97.0.0".parse().unwrap(), 16);
    r.kind = RouteKind::Blackhole;
    assert_eq!(route_str(&r), "prepend blackhole 10.97.0.0/16 proto 18");
    let mut rule = Rule::to_table(false, 100);
    rule.from = Some(("192.0.2.100".parse().unwrap(), 32));
    rule.priority = Some(20);
    assert_eq!(
        rule_str(&rule),
        "from 192.0.2.100 priority 20 tos 0x0 protocol 18 lookup 100"
    );
    let mut rule = Rule::to_table(true, 7);
    rule.fwmark = Some((0x10, Some(0xff)));
    rule.action = RuleAction::Goto(40);
    assert_eq!(
        rule_str(&rule),
        "inet6 from all tos 0x0 fwmark 0x10/0xff protocol 18 goto 40"
    );
    assert_eq!(
        cmd_str(&["/bin/x".into(), "master".into()]),
        "'/bin/x' 'master'"
    );
}

#[test]
fn json_data_has_keepalived_2_4_3_s_fields_with_its_types() {
    let e = engine();
    let mut by = ByReason::default();
    by.count("VI_1", Reason::Startup);
    let j: serde_json::Value = serde_json::from_str(&json_with(
        &e,
        &HashMap::new(),
        None,
        &DumpFacts::default(),
        &by,
    ))
    .unwrap();
    let d = &j[0]["data"];
    assert_eq!(d["version"], 2);
    assert_eq!(d["adver_int"], 1);
    assert!(
        d["adver_int"].is_u64(),
        "a whole number as keepalived's %g: {d}"
    );
    assert_eq!(d["garp_delay"], 5);
    assert_eq!(d["garp_rep"], 5);
    assert_eq!(d["accept"], 1);
    assert_eq!(d["dont_track_primary"], 0);
    assert_eq!(d["vmac_ifname"], "");
    assert_eq!(d["auth_type"], 0);
    assert!(d.get("auth_data").is_none());
    assert_eq!(d["vips"][0], "192.0.2.100 dev eth0 scope global");
    assert!(d["last_transition"].as_f64().unwrap() > 1.7e9);
    assert_eq!(d["wantstate"], d["state"]);
}

#[test]
fn times_read_as_keepalived_2_4_3_writes_them_in_utc() {
    // Seen in 2.4.3's keepalived.data (TZ=UTC).
    assert_eq!(
        time_str(1_796_571_725.655_493),
        "1796571725.655493 (Sun Dec  6 15:42:05.655493 2026)"
    );
    assert_eq!(time_str(0.0), "0.000000 (Thu Jan  1 00:00:00.000000 1970)");
    assert_eq!(
        time_str(951_782_400.5),
        "951782400.500000 (Tue Feb 29 00:00:00.500000 2000)"
    );
}

#[test]
fn data_shows_the_instance_in_keepalived_2_4_3_s_lines() {
    let e = engine();
    let d = data(&e, &[]);
    for l in [
        "   Flags:\n",
        "   Using src_ip = 192.0.2.1 (from configuration)\n",
        "   Multicast address 224.0.0.18\n",
        "   Advert interval = 1 sec\n",
        "   Authentication type = none\n",
        "   Virtual IP (1):\n     192.0.2.100 dev eth0 scope global\n",
        "   Notify deleted = Fault\n",
    ] {
        assert!(d.contains(l), "{l:?} not in\n{d}");
    }
}

#[test]
fn baseline_subtracts() {
    let a = Stats {
        adverts_sent: 10,
        ..Stats::default()
    };
    let b = Stats {
        adverts_sent: 4,
        ..Stats::default()
    };
    assert_eq!(minus(&a, &b).adverts_sent, 6);
    assert_eq!(minus(&b, &a).adverts_sent, 0);
}

#[test]
fn global_definitions_and_sockpool_read_as_keepalived_2_4_3_writes_them() {
    let mut cfg = ka_proto::config::Config::default();
    cfg.global.router_id = Some("r1".into());
    cfg.global.vrrp_strict = true;
    let g = super::global::global_section(&cfg);
    assert!(g.starts_with("------< Global definitions >------\n"), "{g}");
    for line in [
        " Router ID = r1",
        " Default smtp_alert = unset",
        " Gratuitous ARP delay = 5",
        " Gratuitous ARP interval = 0.000000",
        " nftables table name = keepalived",
        " nftables without counters",
        " VRRP strict mode = true",
        " umask = 0177",
        " vrrp_netlink_cmd_rcv_bufs = 0",
    ] {
        assert!(g.lines().any(|l| l == line), "{line:?} not in\n{g}");
    }
    let facts = DumpFacts::default();
    let mut s = String::new();
    super::sockpool::data_sockpool(&mut s, &engine(), &facts);
    assert_eq!(
        s,
        "------< VRRP Sockpool >------\n fd_in -1 fd_out = -1\n   Interface = eth0\n   \
         Family = IPv4\n   Protocol = VRRP\n   Type = Multicast\n   Rx buf size = 0\n   \
         VRRP instances\n     VI_1 vrid 51\n"
    );
}
