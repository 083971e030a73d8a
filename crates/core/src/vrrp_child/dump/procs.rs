//! keepalived.data's "VRRP Track processes" section, in keepalived 2.4.3's lines
//! (observed with and without parameters, `param_match`, `quorum` and `delay`): each
//! `vrrp_track_process` with its own weight, what it counts now, its delay timers, and
//! the instances tracking it with the weight each gives it.

use super::*;

/// The section, title included; nothing without `vrrp_track_process`.
pub(super) fn data_procs(
    s: &mut String,
    engine: &Engine,
    procs: Option<&vrrp::ProcessTrackers>,
    facts: &DumpFacts,
) {
    let Some(procs) = procs else { return };
    let mut views = procs.views().peekable();
    if views.peek().is_none() {
        return;
    }
    let _ = writeln!(s, "------< VRRP Track processes >------");
    for v in views {
        let c = v.config;
        let _ = writeln!(s, " VRRP Track process = {}", c.name);
        let _ = writeln!(s, "   Process = {}", c.spec.name);
        if !c.spec.params.is_empty() {
            let _ = writeln!(s, "   Parameters = {}", c.spec.params.join(" "));
            let mode = match c.spec.mode {
                vrrp::process::ParamMode::Ignore => "none",
                vrrp::process::ParamMode::Exact => "exact",
                vrrp::process::ParamMode::Partial => "partial",
                vrrp::process::ParamMode::Initial => "initial",
            };
            let _ = writeln!(s, "   Param match = {mode}");
        }
        let _ = writeln!(s, "   Min processes = {}", c.quorum);
        if let Some(m) = c.quorum_max {
            let _ = writeln!(s, "   Max processes = {m}");
        }
        let _ = writeln!(s, "   Current processes = {}", v.current);
        let _ = writeln!(s, "   Have quorum = {}", v.have_quorum);
        let weight = facts.proc_weights.get(&c.name).copied().unwrap_or(0);
        let _ = writeln!(s, "   Weight = {weight}");
        let _ = writeln!(
            s,
            "   Terminate delay = {:.6}s",
            c.terminate_delay.as_secs_f64()
        );
        let _ = writeln!(s, "   Fork delay = {:.6}s", c.fork_delay.as_secs_f64());
        let running = |on: bool| if on { "running" } else { "not running" };
        let _ = writeln!(s, "   Fork delay timer {}", running(v.fork_delay_running));
        let _ = writeln!(
            s,
            "   Terminate delay timer {}",
            running(v.terminate_delay_running)
        );
        // 2.4.3 shows true as soon as parameters are given (observed).
        let full = c.spec.full_command || !c.spec.params.is_empty();
        let _ = writeln!(s, "   Full command = {full}");
        let users: Vec<(&str, i32)> = engine
            .instances()
            .flat_map(|i| {
                i.config
                    .track
                    .iter()
                    .filter(|t| t.kind == vrrp::TrackKind::Process && t.name == c.name)
                    .map(move |t| (i.name, t.weight))
            })
            .collect();
        if !users.is_empty() {
            let _ = writeln!(s, "   Tracking instances :");
            for (n, w) in users {
                let _ = writeln!(s, "     {n}, weight {w}");
            }
        }
    }
}
