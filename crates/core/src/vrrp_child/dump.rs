//! The VRRP child's dumps: `keepalived.data` (SIGUSR1), `keepalived.stats` (SIGUSR2) and
//! `keepalived.json`, in keepalived's layout as far as the engine knows the facts.

use ka_proto::ipc::vrrp::{InstanceReport, ScriptState, VrrpReport, COUNTER_NAMES};
use std::collections::HashMap;
use std::fmt::Write as _;
use vrrp::{Auth, Engine, InstanceStatus, Reason, Stats, TrackStatus, Version};

fn version(v: Version) -> &'static str {
    match v {
        Version::V2 => "2",
        Version::V3 => "3",
    }
}

fn track_word(s: TrackStatus) -> String {
    match s {
        TrackStatus::Unknown => "UNKNOWN".into(),
        TrackStatus::Up => "GOOD".into(),
        TrackStatus::Down => "BAD".into(),
        TrackStatus::Value(v) => v.to_string(),
    }
}

/// `keepalived.data`: the VRRP topology.
pub fn data(engine: &Engine, scripts: &[(String, String, TrackStatus)]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "------< VRRP Topology >------");
    for i in engine.instances() {
        let c = i.config;
        let _ = writeln!(s, " VRRP Instance = {}", i.name);
        let _ = writeln!(s, "   VRRP Version = {}", version(c.version));
        let _ = writeln!(s, "   State = {}", i.state);
        if let Some(m) = i.master {
            let _ = writeln!(s, "   Master router = {m}");
        }
        if !c.preempt {
            let _ = writeln!(s, "   Flags: nopreempt");
        }
        let _ = writeln!(s, "   Interface = {}", c.interface);
        if let Some(a) = c.src_addr {
            let _ = writeln!(s, "   Using src_ip = {a}");
        }
        let _ = writeln!(s, "   Virtual Router ID = {}", c.vrid);
        let _ = writeln!(s, "   Priority = {}", c.priority);
        let _ = writeln!(s, "   Effective priority = {}", i.priority);
        let _ = writeln!(s, "   Advert interval = {}ms", c.adver_int_micros() / 1000);
        let _ = writeln!(
            s,
            "   Master down interval = {}ms",
            i.master_down_interval.as_millis()
        );
        let _ = writeln!(
            s,
            "   Preempt = {}",
            if c.preempt { "enabled" } else { "disabled" }
        );
        if !c.preempt_delay.is_zero() {
            let _ = writeln!(s, "   Preempt delay = {} secs", c.preempt_delay.as_secs());
        }
        let _ = writeln!(
            s,
            "   Authentication type = {}",
            match c.auth {
                Auth::None => "none",
                Auth::Pass(_) => "SIMPLE_PASSWORD",
                Auth::Ah(_) => "IPSEC_AH",
            }
        );
        if let Some(h) = &c.hmac {
            hmac_data(&mut s, h, c.adver_int_micros());
        }
        if matches!(c.auth, Auth::Pass(_)) {
            // Masked, as keepalived 2.4 does (2.2.7 printed it).
            let _ = writeln!(s, "   Password = ********");
        }
        if !c.unicast_peers.is_empty() {
            let _ = writeln!(s, "   Unicast Peer = {}", c.unicast_peers.len());
            for p in &c.unicast_peers {
                let _ = writeln!(s, "     {}", p.addr);
            }
        }
        let _ = writeln!(s, "   Virtual IP = {}", c.addresses.vips.len());
        for v in &c.addresses.vips {
            let _ = writeln!(
                s,
                "     {}/{} dev {}",
                v.addr,
                v.prefix_len,
                v.dev.as_deref().unwrap_or(&c.interface)
            );
        }
        if !c.addresses.excluded.is_empty() {
            let _ = writeln!(s, "   Virtual IP Excluded = {}", c.addresses.excluded.len());
            for v in &c.addresses.excluded {
                let _ = writeln!(s, "     {}/{}", v.addr, v.prefix_len);
            }
        }
        if !c.track.is_empty() {
            let _ = writeln!(s, "   Tracked = {}", c.track.len());
            for t in &c.track {
                let _ = writeln!(s, "     {:?} {} weight {}", t.kind, t.name, t.weight);
            }
        }
        if let Some(g) = i.sync_group {
            let _ = writeln!(s, "   Sync group = {g}");
        }
    }
    if !scripts.is_empty() {
        let _ = writeln!(s, "------< VRRP Scripts >------");
        for (name, cmd, st) in scripts {
            let _ = writeln!(s, " VRRP Script = {name}");
            let _ = writeln!(s, "   Command = {cmd}");
            let _ = writeln!(s, "   Status = {}", track_word(*st));
        }
    }
    s
}

/// Counters minus a baseline (STATS_CLEAR zeroes by moving the baseline).
pub fn minus(a: &Stats, b: &Stats) -> Stats {
    Stats {
        adverts_rcvd: a.adverts_rcvd.saturating_sub(b.adverts_rcvd),
        adverts_sent: a.adverts_sent.saturating_sub(b.adverts_sent),
        became_master: a.became_master.saturating_sub(b.became_master),
        released_master: a.released_master.saturating_sub(b.released_master),
        packet_len_err: a.packet_len_err.saturating_sub(b.packet_len_err),
        ip_ttl_err: a.ip_ttl_err.saturating_sub(b.ip_ttl_err),
        version_err: a.version_err.saturating_sub(b.version_err),
        invalid_type_rcvd: a.invalid_type_rcvd.saturating_sub(b.invalid_type_rcvd),
        checksum_err: a.checksum_err.saturating_sub(b.checksum_err),
        advert_interval_err: a.advert_interval_err.saturating_sub(b.advert_interval_err),
        v2_interval_err: a.v2_interval_err.saturating_sub(b.v2_interval_err),
        addr_list_err: a.addr_list_err.saturating_sub(b.addr_list_err),
        invalid_authtype: a.invalid_authtype.saturating_sub(b.invalid_authtype),
        authtype_mismatch: a.authtype_mismatch.saturating_sub(b.authtype_mismatch),
        auth_failure: a.auth_failure.saturating_sub(b.auth_failure),
        dst_mode_err: a.dst_mode_err.saturating_sub(b.dst_mode_err),
        unicast_src_err: a.unicast_src_err.saturating_sub(b.unicast_src_err),
        owner_ignored: a.owner_ignored.saturating_sub(b.owner_ignored),
        pri_zero_rcvd: a.pri_zero_rcvd.saturating_sub(b.pri_zero_rcvd),
        pri_zero_sent: a.pri_zero_sent.saturating_sub(b.pri_zero_sent),
        hmac: a.hmac.minus(&b.hmac),
    }
}

fn stats_of(i: &InstanceStatus<'_>, base: &HashMap<String, Stats>) -> Stats {
    match base.get(i.name) {
        Some(b) => minus(i.stats, b),
        None => *i.stats,
    }
}

/// `keepalived.stats`.
pub fn stats(engine: &Engine, base: &HashMap<String, Stats>) -> String {
    let mut s = String::new();
    for i in engine.instances() {
        let st = stats_of(&i, base);
        let _ = writeln!(s, "VRRP Instance: {}", i.name);
        let _ = writeln!(s, "  Advertisements:");
        let _ = writeln!(s, "    Received: {}", st.adverts_rcvd);
        let _ = writeln!(s, "    Sent: {}", st.adverts_sent);
        let _ = writeln!(s, "  Became master: {}", st.became_master);
        let _ = writeln!(s, "  Released master: {}", st.released_master);
        let _ = writeln!(s, "  Packet Errors:");
        let _ = writeln!(s, "    Length: {}", st.packet_len_err);
        let _ = writeln!(s, "    TTL: {}", st.ip_ttl_err);
        let _ = writeln!(s, "    Invalid Type: {}", st.invalid_type_rcvd);
        let _ = writeln!(s, "    Advertisement Interval: {}", st.advert_interval_err);
        let _ = writeln!(s, "    Address List: {}", st.addr_list_err);
        let _ = writeln!(s, "  Authentication Errors:");
        let _ = writeln!(s, "    Invalid Type: {}", st.invalid_authtype);
        let _ = writeln!(s, "    Type Mismatch: {}", st.authtype_mismatch);
        let _ = writeln!(s, "    Failure: {}", st.auth_failure);
        if i.config.hmac.is_some() {
            hmac_stats(&mut s, &st.hmac);
        }
        let _ = writeln!(s, "  Priority Zero:");
        let _ = writeln!(s, "    Received: {}", st.pri_zero_rcvd);
        let _ = writeln!(s, "    Sent: {}", st.pri_zero_sent);
    }
    s
}

/// keepalived 2.4.3's `auth_hmac` lines of `keepalived.data` (keys never shown).
fn hmac_data(s: &mut String, h: &vrrp::hmac_auth::HmacConfig, adver_int_us: u64) {
    use vrrp::hmac_auth::{AntiReplay, HmacMode};
    let _ = writeln!(s, "   Authentication extension = HMAC-SHA256-128");
    let _ = writeln!(
        s,
        "     Keys = {}, active key id = {}",
        h.keys.len(),
        h.active_key
    );
    let mode = match h.mode {
        HmacMode::Enforce => "enforce",
        HmacMode::Permissive => "permissive",
        HmacMode::ReceiveOnly => "receive-only",
    };
    let _ = writeln!(s, "     Mode = {mode}");
    match h.anti_replay {
        AntiReplay::Time => {
            let w = h.window_ms(adver_int_us / 1000).div_ceil(1000);
            let _ = writeln!(s, "     Anti replay = time, window = {w} sec");
        }
        AntiReplay::Monotonic => {
            let _ = writeln!(s, "     Anti replay = monotonic");
        }
    }
}

/// keepalived 2.4.3's "Authentication Extension Errors" of `keepalived.stats`.
fn hmac_stats(s: &mut String, h: &vrrp::stats::HmacStats) {
    let _ = writeln!(s, "  Authentication Extension Errors:");
    let _ = writeln!(s, "    Missing: {}", h.missing);
    let _ = writeln!(s, "    Malformed: {}", h.malformed);
    let _ = writeln!(s, "    Unknown Key: {}", h.unknown_key);
    let _ = writeln!(s, "    Invalid HMAC: {}", h.invalid_hmac);
    let _ = writeln!(s, "    Stale: {}", h.stale);
    let _ = writeln!(s, "    Replay: {}", h.replay);
}

/// The counters in the order of [`COUNTER_NAMES`] (keepalived's JSON names). The last six
/// are drops keepalived 2.2.7 counts nowhere (its stats file and JSON have no name for
/// them); keepalived.stats keeps its layout, these are in the JSON only.
pub fn counter_values(st: &Stats) -> [u64; 26] {
    [
        st.adverts_rcvd,
        st.adverts_sent,
        st.became_master,
        st.released_master,
        st.packet_len_err,
        st.advert_interval_err,
        st.ip_ttl_err,
        st.invalid_type_rcvd,
        st.addr_list_err,
        st.invalid_authtype,
        st.authtype_mismatch,
        st.auth_failure,
        st.pri_zero_rcvd,
        st.pri_zero_sent,
        st.version_err,
        st.checksum_err,
        st.v2_interval_err,
        st.dst_mode_err,
        st.unicast_src_err,
        st.owner_ignored,
        st.hmac.missing,
        st.hmac.malformed,
        st.hmac.unknown_key,
        st.hmac.invalid_hmac,
        st.hmac.stale,
        st.hmac.replay,
    ]
}

/// Counters as name/value pairs (keepalived's JSON names).
pub fn counters(st: &Stats) -> Vec<(&'static str, u64)> {
    COUNTER_NAMES.into_iter().zip(counter_values(st)).collect()
}

/// Every reason a state changes, in the order of [`ByReason`]'s counts.
const REASONS: [Reason; 11] = [
    Reason::Startup,
    Reason::Resume,
    Reason::MasterDown,
    Reason::Owner,
    Reason::HigherPriority,
    Reason::Fault,
    Reason::FaultCleared,
    Reason::SyncGroup,
    Reason::Shutdown,
    Reason::Maintenance,
    Reason::TimerExpired,
];

fn reason_slot(r: Reason) -> usize {
    match r {
        Reason::Startup => 0,
        Reason::Resume => 1,
        Reason::MasterDown => 2,
        Reason::Owner => 3,
        Reason::HigherPriority => 4,
        Reason::Fault => 5,
        Reason::FaultCleared => 6,
        Reason::SyncGroup => 7,
        Reason::Shutdown => 8,
        Reason::Maintenance => 9,
        Reason::TimerExpired => 10,
    }
}

/// Changes of state per instance and reason since the child started: a fixed array of
/// counts per instance (80 bytes).
#[derive(Debug, Default)]
pub struct ByReason {
    counts: HashMap<Box<str>, [u64; REASONS.len()]>,
}

impl ByReason {
    /// `instance` changed state for `reason`.
    pub fn count(&mut self, instance: &str, reason: Reason) {
        let slot = reason_slot(reason);
        match self.counts.get_mut(instance) {
            Some(c) => c[slot] += 1,
            None => {
                let mut c = [0; REASONS.len()];
                c[slot] = 1;
                self.counts.insert(instance.into(), c);
            }
        }
    }

    /// `instance`'s counts by [`Reason::as_str`], the reasons seen only.
    pub fn of(&self, instance: &str) -> Vec<(String, u64)> {
        self.counts
            .get(instance)
            .map(|c| {
                REASONS
                    .iter()
                    .zip(c)
                    .filter(|(_, n)| **n > 0)
                    .map(|(r, n)| (r.as_str().to_string(), *n))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The typed answer to a status request: per instance what only the engine knows (its
/// VIPs, the master heard, the counters, the reason of its last change and the changes by
/// reason) and the tracked scripts.
pub fn report(
    engine: &Engine,
    base: &HashMap<String, Stats>,
    scripts: &HashMap<String, (vrrp::TrackStatus, bool)>,
    by_reason: &ByReason,
) -> VrrpReport {
    let instances = engine
        .instances()
        .map(|i| InstanceReport {
            iname: i.name.to_string(),
            vips: i
                .config
                .addresses
                .vips
                .iter()
                .map(|v| format!("{}/{}", v.addr, v.prefix_len))
                .collect(),
            master_ipaddr: i.master.map(|m| m.to_string()),
            last_transition_reason: i.reason.map(|r| r.as_str().to_string()),
            sync_group: i.sync_group.map(str::to_string),
            stats: counter_values(&stats_of(&i, base)),
            transitions_by_reason: by_reason.of(i.name),
        })
        .collect();
    let scripts = scripts
        .iter()
        .map(|(name, (st, running))| {
            (
                name.clone(),
                ScriptState {
                    status: track_json_word(*st).to_string(),
                    state: if *running { "running" } else { "idle" }.to_string(),
                },
            )
        })
        .collect();
    VrrpReport { instances, scripts }
}

/// A tracked script's status as the JSON dump says it.
fn track_json_word(st: vrrp::TrackStatus) -> &'static str {
    match st {
        vrrp::TrackStatus::Up => "GOOD",
        vrrp::TrackStatus::Down => "BAD",
        _ => "INIT",
    }
}

/// `keepalived.json`: an array of `{"data": {...}, "stats": {...}}` as vrrp_json does.
/// `scripts`: each tracked script's status and whether it is running, by name (each
/// instance lists the scripts it tracks under `track_script`).
/// With `procs` (`json_version 2`): `{"vrrp": [...], "track_process": [...]}`, the
/// track processes with their counts, as keepalived 2.2.8+ writes it.
pub fn json(
    engine: &Engine,
    base: &HashMap<String, Stats>,
    scripts: &HashMap<String, (vrrp::TrackStatus, bool)>,
    procs: Option<&vrrp::ProcessTrackers>,
) -> String {
    let arr: Vec<serde_json::Value> = engine
        .instances()
        .map(|i| {
            let c = i.config;
            let st = stats_of(&i, base);
            let mut stats = serde_json::Map::new();
            for (k, v) in counters(&st) {
                stats.insert(k.to_string(), serde_json::Value::from(v));
            }
            serde_json::json!({
                "data": {
                    "iname": i.name,
                    "ifp_ifname": c.interface,
                    "vrid": c.vrid,
                    "version": version(c.version),
                    "state": match i.state {
                        vrrp::State::Initialize => 0,
                        vrrp::State::Backup => 1,
                        vrrp::State::Master => 2,
                        vrrp::State::Fault => 3,
                    },
                    "state_name": i.state.as_str(),
                    "base_priority": c.priority,
                    "effective_priority": i.priority,
                    "vipset": !c.addresses.vips.is_empty() && i.state == vrrp::State::Master,
                    "adver_int": c.adver_int_micros() as f64 / 1_000_000.0,
                    "nopreempt": !c.preempt,
                    "preempt_delay": c.preempt_delay.as_secs(),
                    "master_ipaddr": i.master.map(|m| m.to_string()),
                    "vips": c.addresses.vips.iter().map(|v| format!("{}/{}", v.addr, v.prefix_len)).collect::<Vec<_>>(),
                    "sync_group": i.sync_group,
                    "last_transition_reason": i.reason.map(vrrp::Reason::as_str),
                    "track_script": c
                        .track
                        .iter()
                        .filter(|t| t.kind == vrrp::TrackKind::Script)
                        .map(|t| {
                            let (st, running) = scripts
                                .get(&t.name)
                                .copied()
                                .unwrap_or((vrrp::TrackStatus::Unknown, false));
                            serde_json::json!({
                                "name": t.name,
                                "weight": t.weight,
                                "status": track_json_word(st),
                                "state": if running { "running" } else { "idle" },
                            })
                        })
                        .collect::<Vec<_>>(),
                },
                "stats": stats,
            })
        })
        .collect();
    let doc = match procs {
        None => serde_json::Value::Array(arr),
        Some(p) => serde_json::json!({
            "vrrp": arr,
            "track_process": p.views().map(|v| track_process_json(engine, v)).collect::<Vec<_>>(),
        }),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

/// One `vrrp_track_process` in `json_version 2`'s `track_process` array (keepalived's
/// field names; the weight is the one the first instance tracking it gives).
fn track_process_json(engine: &Engine, v: vrrp::ProcessTrackerView<'_>) -> serde_json::Value {
    let c = v.config;
    let weight = engine
        .instances()
        .flat_map(|i| i.config.track.iter())
        .find(|t| t.kind == vrrp::TrackKind::Process && t.name == c.name)
        .map_or(0, |t| t.weight);
    let param_match = match c.spec.mode {
        vrrp::process::ParamMode::Ignore => "none",
        vrrp::process::ParamMode::Exact => "exact",
        vrrp::process::ParamMode::Partial => "partial",
        vrrp::process::ParamMode::Initial => "initial",
    };
    serde_json::json!({
        "process": c.name,
        "param_match": param_match,
        "min_processes": c.quorum,
        "current_processes": v.current,
        "have_quorum": v.have_quorum,
        "weight": weight,
        "terminate_delay": c.terminate_delay.as_secs_f64(),
        "fork_delay": c.fork_delay.as_secs_f64(),
        "fork_delay_timer_running": v.fork_delay_running,
        "terminate_delay_timer_running": v.terminate_delay_running,
        "full_command": c.spec.full_command,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
            serde_json::from_str(&json(&e, &HashMap::new(), &HashMap::new(), Some(&procs)))
                .unwrap();
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
}
