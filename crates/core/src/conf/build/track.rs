//! `vrrp_script`, `track_file`, `vrrp_track_process`, `track_group`,
//! `linkbeat_interfaces`, `interface_up_down_delays`, and track lists (`track_script { }`).

use super::values::{keep, Ctx};
use crate::conf::tree::Node;
use ka_proto::config::track::{
    InterfaceUpDownDelay, LinkbeatInterface, LinkbeatMethod, ParamMatch,
};
use ka_proto::config::{Config, TrackFile, TrackGroup, TrackProcess, TrackRef, VrrpScript};
use std::time::Duration;

fn name(ctx: &mut Ctx, n: &Node) -> Option<String> {
    let name = ctx.str_arg(n, 0)?;
    ctx.need_block(n).then_some(name)
}

/// `weight W [reverse]` from argument `i`.
fn weight(ctx: &mut Ctx, k: &Node, i: usize) -> (i32, bool) {
    let w = ctx.int(k, i, -253, 253).unwrap_or(0) as i32;
    let rev = k.arg(i + 1).is_some_and(|w| w.text == "reverse");
    (w, rev)
}

/// `vrrp_script NAME { }`.
pub fn vrrp_script(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    let Some(name) = name(ctx, n) else { return };
    let mut s = VrrpScript {
        name,
        ..VrrpScript::default()
    };
    let mut timeout = None;
    let mut have_script = false;
    for k in n.block() {
        match k.keyword() {
            "script" => {
                if let Some(sc) = ctx.script(k, true) {
                    s.script = sc;
                    have_script = true;
                }
            }
            "interval" => {
                if let Some(v) = ctx.timer(k, 0, u32::MAX as f64) {
                    s.interval = v;
                }
            }
            "timeout" => timeout = ctx.timer(k, 0, u32::MAX as f64),
            "weight" => (s.weight, s.weight_reverse) = weight(ctx, k, 0),
            "rise" => s.rise = ctx.uint(k, 0, 1, u32::MAX as u64).unwrap_or(1) as u32,
            "fall" => s.fall = ctx.uint(k, 0, 1, u32::MAX as u64).unwrap_or(1) as u32,
            "user" => {
                s.script.user = ctx.str_arg(k, 0);
                s.script.group = k.arg(1).map(|w| w.text.trim_start_matches(':').to_string());
            }
            "init_fail" => s.init_fail = true,
            _ => ctx.unknown(k),
        }
    }
    s.timeout = timeout.unwrap_or(s.interval);
    if !have_script {
        ctx.warn(
            n.loc,
            format!("No script set for vrrp_script {} - removing", s.name),
        );
        return;
    }
    c.vrrp_scripts.push(s);
}

/// `track_file NAME { }`.
pub fn track_file(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    let Some(name) = name(ctx, n) else { return };
    let mut t = TrackFile {
        name,
        ..TrackFile::default()
    };
    for k in n.block() {
        match k.keyword() {
            "file" => ctx.set_str(k, 0, &mut t.file),
            "weight" => (t.weight, t.weight_reverse) = weight(ctx, k, 0),
            "init_file" => {
                let mut val = 0;
                let mut i = 0;
                if let Some(w) = k.arg(0) {
                    if w.text != "overwrite" {
                        val = ctx
                            .int(k, 0, i64::from(i32::MIN), i64::from(i32::MAX))
                            .unwrap_or(0);
                        i = 1;
                    }
                }
                t.init_file = Some(val);
                t.init_file_overwrite = k.arg(i).is_some_and(|w| w.text == "overwrite");
            }
            _ => ctx.unknown(k),
        }
    }
    if t.file.is_empty() {
        ctx.warn(
            n.loc,
            format!("No file set for track_file {} - ignoring", t.name),
        );
        return;
    }
    c.track_files.push(t);
}

/// `vrrp_track_process NAME { }`.
pub fn track_process(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    let Some(name) = name(ctx, n) else { return };
    let mut t = TrackProcess {
        name,
        ..TrackProcess::default()
    };
    for k in n.block() {
        match k.keyword() {
            "process" => t.process = k.args().iter().map(|w| w.text.to_string()).collect(),
            // No value: the parameters must match exactly (none given: the command has
            // none). Another value is reported and ignored, as keepalived does.
            "param_match" => match k.arg(0) {
                None => t.param_match = ParamMatch::Exact,
                Some(w) if w.text == "initial" => t.param_match = ParamMatch::Initial,
                Some(w) if w.text == "partial" => t.param_match = ParamMatch::Partial,
                Some(w) => ctx.warn(
                    w.loc,
                    format!("Invalid param_match type {} - ignoring", w.text),
                ),
            },
            "full_command" => t.full_command = true,
            "weight" => (t.weight, t.weight_reverse) = weight(ctx, k, 0),
            "quorum" => t.quorum = ctx.uint(k, 0, 0, 65535).unwrap_or(1) as u32,
            "quorum_max" => keep(
                &mut t.quorum_max,
                ctx.uint(k, 0, 0, 65535).map(|v| v as u32),
            ),
            "delay" => {
                if let Some(d) = ctx.timer(k, 0, 65535.0) {
                    t.fork_delay = d;
                    t.terminate_delay = d;
                }
            }
            "fork_delay" => t.fork_delay = ctx.timer(k, 0, 65535.0).unwrap_or(t.fork_delay),
            "terminate_delay" => {
                t.terminate_delay = ctx.timer(k, 0, 65535.0).unwrap_or(t.terminate_delay)
            }
            _ => ctx.unknown(k),
        }
    }
    if t.process.is_empty() {
        ctx.warn(
            n.loc,
            format!("track process '{}' process name not specified", t.name),
        );
        return;
    }
    if t.param_match == ParamMatch::None && t.process.len() > 1 {
        t.param_match = ParamMatch::Exact;
    }
    c.track_processes.push(t);
}

/// `track_group NAME { group { .. } }`.
pub fn track_group(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    let Some(name) = name(ctx, n) else { return };
    let mut g = TrackGroup {
        name,
        group: Vec::new(),
    };
    for k in n.block() {
        match k.keyword() {
            "group" => g.group = names(k),
            _ => ctx.unknown(k),
        }
    }
    c.track_groups.push(g);
}

/// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }`.
pub fn linkbeat_interfaces(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    if !ctx.need_block(n) {
        return;
    }
    for k in n.block() {
        let method = match k.arg(0).map(|w| w.text) {
            None | Some("MII") => LinkbeatMethod::Mii,
            Some("ETHTOOL") => LinkbeatMethod::Ethtool,
            Some("IOCTL") => LinkbeatMethod::Ioctl,
            Some(o) => {
                ctx.warn(
                    k.words[1].loc,
                    format!("linkbeat_interfaces: unknown method '{o}'"),
                );
                LinkbeatMethod::Mii
            }
        };
        ctx.check_interface(k.loc, k.keyword(), "linkbeat_interfaces");
        c.linkbeat_interfaces.push(LinkbeatInterface {
            interface: k.keyword().to_string(),
            method,
        });
    }
}

/// `interface_up_down_delays { IF DOWN [UP] }`.
pub fn interface_up_down_delays(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    if !ctx.need_block(n) {
        return;
    }
    for k in n.block() {
        let Some(down) = ctx.uint(k, 0, 0, 255) else {
            continue;
        };
        let up = if k.arg(1).is_some() {
            ctx.uint(k, 1, 0, 255).unwrap_or(0)
        } else {
            0
        };
        c.interface_up_down_delays.push(InterfaceUpDownDelay {
            interface: k.keyword().to_string(),
            down: Duration::from_secs(down),
            up: Duration::from_secs(up),
        });
    }
}

/// All words of a `group { a b \n c }` block (and of the line itself after the keyword).
pub fn names(k: &Node) -> Vec<String> {
    let mut v: Vec<String> = k.args().iter().map(|w| w.text.to_string()).collect();
    for line in k.block() {
        v.extend(line.words.iter().map(|w| w.text.to_string()));
    }
    v
}

/// A `track_* { NAME [weight W] [reverse|noreverse] }` block.
pub fn track_list(ctx: &mut Ctx, k: &Node) -> Vec<TrackRef> {
    let mut out = Vec::new();
    if !ctx.need_block(k) {
        return out;
    }
    for line in k.block() {
        let mut r = TrackRef {
            name: line.keyword().to_string(),
            weight: None,
            reverse: None,
        };
        let mut i = 0;
        while let Some(w) = line.arg(i) {
            match w.text {
                "weight" => {
                    r.weight = ctx.int(line, i + 1, -254, 254).map(|v| v as i32);
                    i += 2;
                }
                "reverse" => {
                    r.reverse = Some(true);
                    i += 1;
                }
                "noreverse" => {
                    r.reverse = Some(false);
                    i += 1;
                }
                other => {
                    ctx.warn(w.loc, format!("{}: unknown option '{other}'", k.keyword()));
                    i += 1;
                }
            }
        }
        out.push(r);
    }
    out
}
