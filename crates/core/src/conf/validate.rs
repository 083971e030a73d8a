//! Checks across blocks: references to scripts, files, processes, instances and groups
//! that must exist, sync group membership, and duplicate VRIDs on one interface.

use super::build::Ctx;
use super::tree::Loc;
use ka_proto::config::lvs::VirtualServerAddr;
use ka_proto::config::{Checker, Config};
use std::collections::HashMap;

/// Check `c`, reporting at the config level (line 0) or at `locs` where known.
/// `instance_locs`: where each vrrp_instance starts, by name.
pub fn validate(ctx: &mut Ctx, c: &mut Config, instance_locs: &HashMap<String, Loc>) {
    let at = |name: &str| instance_locs.get(name).copied().unwrap_or_default();
    // Trackers named by instances must exist; unknown ones are dropped.
    let scripts: Vec<String> = c.vrrp_scripts.iter().map(|s| s.name.clone()).collect();
    let files: Vec<String> = c.track_files.iter().map(|s| s.name.clone()).collect();
    let procs: Vec<String> = c.track_processes.iter().map(|s| s.name.clone()).collect();
    for inst in &mut c.vrrp_instances {
        let loc = at(&inst.name);
        let name = inst.name.clone();
        inst.track_script.retain(|t| {
            let ok = scripts.contains(&t.name);
            if !ok {
                ctx.warn(
                    loc,
                    format!("({name}) track script {} not found, ignoring...", t.name),
                );
            }
            ok
        });
        inst.track_file.retain(|t| {
            let ok = files.contains(&t.name);
            if !ok {
                ctx.warn(
                    loc,
                    format!("({name}) track_file {} not found, ignoring...", t.name),
                );
            }
            ok
        });
        inst.track_process.retain(|t| {
            let ok = procs.contains(&t.name);
            if !ok {
                ctx.warn(
                    loc,
                    format!("({name}) track_process {} not found, ignoring...", t.name),
                );
            }
            ok
        });
    }
    for g in &mut c.sync_groups {
        for t in &g.track_script {
            if !scripts.contains(&t.name) {
                ctx.warn(
                    Loc::default(),
                    format!(
                        "sync group {}: track script {} not found, ignoring...",
                        g.name, t.name
                    ),
                );
            }
        }
        g.track_script.retain(|t| scripts.contains(&t.name));
    }
    // Sync groups: members must exist and belong to one group only.
    let mut member_of: HashMap<String, String> = HashMap::new();
    let names: Vec<String> = c.vrrp_instances.iter().map(|i| i.name.clone()).collect();
    let mut keep = Vec::new();
    for g in std::mem::take(&mut c.sync_groups) {
        let mut g = g;
        g.group.retain(|m| {
            if !names.contains(m) {
                ctx.warn(
                    Loc::default(),
                    format!(
                        "Virtual router {m} specified in sync group {} doesn't exist - ignoring",
                        g.name
                    ),
                );
                return false;
            }
            if let Some(other) = member_of.get(m) {
                ctx.warn(
                    Loc::default(),
                    format!(
                        "VRRP instance {m} cannot be in sync group {} - already in {other}",
                        g.name
                    ),
                );
                return false;
            }
            member_of.insert(m.clone(), g.name.clone());
            true
        });
        if g.group.is_empty() {
            ctx.warn(
                Loc::default(),
                format!("Sync group {} has no virtual router(s). removing", g.name),
            );
            continue;
        }
        keep.push(g);
    }
    c.sync_groups = keep;
    for inst in &mut c.vrrp_instances {
        inst.sync_group = member_of.get(&inst.name).cloned();
    }
    // Duplicate VRIDs: same interface, family and multicast/unicast mode.
    let mut seen: HashMap<(Option<String>, bool, bool, u8), String> = HashMap::new();
    for inst in &c.vrrp_instances {
        if inst.virtual_router_id == 0 {
            continue;
        }
        let key = (
            inst.interface.clone(),
            inst.ipv6,
            inst.unicast_peer.is_empty(),
            inst.virtual_router_id,
        );
        if let Some(other) = seen.get(&key) {
            ctx.error(
                at(&inst.name),
                format!(
                    "({}) VRID {} is already used by {other} on interface {}",
                    inst.name,
                    inst.virtual_router_id,
                    inst.interface.as_deref().unwrap_or("(none)")
                ),
            );
        } else {
            seen.insert(key, inst.name.clone());
        }
    }
    // Virtual servers: groups and FILE_CHECK track files must exist.
    let groups: Vec<&str> = c
        .virtual_server_groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    for vs in &c.virtual_servers {
        if let VirtualServerAddr::Group(g) = &vs.addr {
            if !groups.contains(&g.as_str()) {
                ctx.warn(
                    Loc::default(),
                    format!("virtual_server group {g} does not exist"),
                );
            }
        }
        for rs in &vs.real_servers {
            for ch in &rs.checkers {
                if let Checker::File(f) = ch {
                    if !files.contains(&f.track_file) {
                        ctx.warn(
                            Loc::default(),
                            format!("FILE_CHECK track_file {} not found", f.track_file),
                        );
                    }
                }
            }
        }
    }
}
