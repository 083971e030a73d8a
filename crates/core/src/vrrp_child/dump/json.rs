//! `keepalived.json` (SIGRTMIN+2): keepalived 2.4.3's fields per instance, and the track
//! processes of `json_version 2`.

use super::*;

/// A tracked script's status as the JSON dump says it.
pub(super) fn track_json_word(st: vrrp::TrackStatus) -> &'static str {
    match st {
        vrrp::TrackStatus::Up => "GOOD",
        vrrp::TrackStatus::Down => "BAD",
        _ => "INIT",
    }
}

/// `keepalived.json`: an array of `{"data": {...}, "stats": {...}}` as vrrp_json does.
/// `_scripts` (each tracked script's status) is no longer shown: keepalived lists a
/// tracked script's command line, which [`json_with`] has.
/// With `procs` (`json_version 2`): `{"vrrp": [...], "track_process": [...]}`, the
/// track processes with their counts, as keepalived 2.2.8+ writes it.
/// Without the configuration's facts ([`json_with`] has them): no notify scripts, no
/// script command lines, no transition times.
pub fn json(
    engine: &Engine,
    base: &HashMap<String, Stats>,
    _scripts: &HashMap<String, (vrrp::TrackStatus, bool)>,
    procs: Option<&vrrp::ProcessTrackers>,
) -> String {
    json_with(
        engine,
        base,
        procs,
        &DumpFacts::default(),
        &ByReason::default(),
    )
}

/// A number as keepalived's `%g` writes it: whole values without a fraction.
pub(super) fn num(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        serde_json::Value::from(x as i64)
    } else {
        serde_json::Value::from(x)
    }
}

/// One instance's `data` object: keepalived 2.4.3's fields (vrrp_json.c) as far as we
/// know the facts, and four of ours (`state_name`, `master_ipaddr`, `sync_group`,
/// `last_transition_reason`).
pub(super) fn json_data(
    i: &InstanceStatus<'_>,
    facts: Option<&InstanceFacts>,
    script_cmds: &HashMap<String, String>,
    last_transition: Option<f64>,
) -> serde_json::Value {
    use serde_json::Value;
    let c = i.config;
    let no = InstanceFacts::default();
    let f = facts.unwrap_or(&no);
    let state = match i.state {
        vrrp::State::Initialize => 0,
        vrrp::State::Backup => 1,
        vrrp::State::Master => 2,
        vrrp::State::Fault => 3,
    };
    let installed = i.state == vrrp::State::Master;
    let mut d = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        d.insert(k.to_string(), v);
    };
    put("iname", i.name.into());
    put("master_priority", i.master_priority.into());
    put("dont_track_primary", u8::from(c.dont_track_primary).into());
    put(
        "skip_check_adv_addr",
        u8::from(c.skip_check_adv_addr).into(),
    );
    put("strict_mode", u8::from(f.strict_mode).into());
    put(
        "vmac_ifname",
        f.vmac_ifname.as_deref().unwrap_or_default().into(),
    );
    if !c.interface.is_empty() {
        put("ifp_ifname", c.interface.as_str().into());
    }
    if let Some(t) = last_transition {
        put("last_transition", t.into());
    }
    let g = &c.garp;
    put("garp_delay", num(g.master_delay.as_secs_f64()));
    put(
        "garp_refresh",
        g.master_refresh.map_or(0, |d| d.as_secs()).into(),
    );
    put("garp_rep", g.master_repeat.into());
    put("garp_refresh_rep", g.master_refresh_repeat.into());
    put("garp_lower_prio_delay", g.lower_prio_delay.as_secs().into());
    put("garp_lower_prio_rep", g.lower_prio_repeat.into());
    put(
        "lower_prio_no_advert",
        u8::from(c.lower_prio_no_advert).into(),
    );
    put(
        "higher_prio_send_advert",
        u8::from(c.higher_prio_send_advert).into(),
    );
    put("vrid", c.vrid.into());
    put("base_priority", c.priority.into());
    put("effective_priority", i.priority.into());
    put("vipset", (installed && !c.addresses.is_empty()).into());
    put("promote_secondaries", f.promote_secondaries.into());
    put("adver_int", num(c.adver_int_micros() as f64 / 1e6));
    put(
        "master_adver_int",
        num(i.master_adver_int.as_micros() as f64 / 1e6),
    );
    put("accept", u8::from(c.accept).into());
    put("nopreempt", (!c.preempt).into());
    put("preempt_delay", c.preempt_delay.as_secs().into());
    put("state", state.into());
    put("wantstate", state.into());
    put(
        "version",
        match c.version {
            Version::V2 => 2,
            Version::V3 => 3,
        }
        .into(),
    );
    put("smtp_alert", f.smtp_alert.into());
    put("notify_deleted", f.notify_deleted.into());
    for (k, cmd) in &f.scripts {
        put(k, cmd.as_str().into());
    }
    let list = |v: Vec<String>| Value::from(v);
    let a = &c.addresses;
    if !a.vips.is_empty() {
        put(
            "vips",
            list(
                a.vips
                    .iter()
                    .map(|v| vip_line(v, c, f, installed))
                    .collect(),
            ),
        );
    }
    if !a.excluded.is_empty() {
        put(
            "evips",
            list(
                a.excluded
                    .iter()
                    .map(|v| vip_line(v, c, f, installed))
                    .collect(),
            ),
        );
    }
    if !a.routes.is_empty() {
        put("vroutes", list(a.routes.iter().map(route_str).collect()));
    }
    if !a.rules.is_empty() {
        put("vrules", list(a.rules.iter().map(rule_str).collect()));
    }
    let listed = listed_tracks(c, f);
    let tracked = |kind: vrrp::TrackKind| listed.iter().filter(move |t| t.kind == kind);
    let ifs: Vec<String> = tracked(vrrp::TrackKind::Interface)
        .map(|t| t.name.clone())
        .collect();
    if !ifs.is_empty() {
        put("track_ifp", list(ifs));
    }
    let scr: Vec<String> = tracked(vrrp::TrackKind::Script)
        .map(|t| {
            script_cmds
                .get(&t.name)
                .cloned()
                .unwrap_or_else(|| t.name.clone())
        })
        .collect();
    if !scr.is_empty() {
        put("track_script", list(scr));
    }
    let procs: Vec<String> = tracked(vrrp::TrackKind::Process)
        .map(|t| t.name.clone())
        .collect();
    if !procs.is_empty() {
        put("track_process", list(procs));
    }
    let auth_type: u8 = match c.auth {
        Auth::None => 0,
        Auth::Pass(_) => 1,
        Auth::Ah(_) => 2,
    };
    put("auth_type", auth_type.into());
    if auth_type != 0 {
        put("auth_data", "********".into());
    }
    // Ours.
    put("state_name", i.state.as_str().into());
    put("master_ipaddr", i.master.map(|m| m.to_string()).into());
    put("sync_group", i.sync_group.into());
    put(
        "last_transition_reason",
        i.reason.map(vrrp::Reason::as_str).into(),
    );
    Value::Object(d)
}

/// [`json`] with the configuration's facts and the times of the last transitions.
pub fn json_with(
    engine: &Engine,
    base: &HashMap<String, Stats>,
    procs: Option<&vrrp::ProcessTrackers>,
    facts: &DumpFacts,
    by_reason: &ByReason,
) -> String {
    let arr: Vec<serde_json::Value> = engine
        .instances()
        .map(|i| {
            let st = stats_of(&i, base);
            let mut stats = serde_json::Map::new();
            for (k, v) in counters(&st) {
                stats.insert(k.to_string(), serde_json::Value::from(v));
            }
            let data = json_data(
                &i,
                facts.of(i.name),
                &facts.script_cmds,
                by_reason.last_transition(i.name),
            );
            serde_json::json!({ "data": data, "stats": stats })
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
pub(super) fn track_process_json(
    engine: &Engine,
    v: vrrp::ProcessTrackerView<'_>,
) -> serde_json::Value {
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
