//! Checks across blocks: references to scripts, files, processes, instances and groups
//! that must exist, sync group membership, and duplicate VRIDs on one interface.

use super::build::Ctx;
use super::tree::Loc;
use ka_proto::config::lvs::VirtualServerAddr;
use ka_proto::config::{Checker, Config};
use std::collections::HashMap;
use vrrp::linux::script::{script_security, script_user};

/// An instance in a sync group without `sync_group_tracking_weight`, and an address owner
/// (priority 255), do not float their priority on their own trackers' weights. What
/// keepalived 2.2.7 and 2.4.3 do (both observed at `-t` and at run time in a namespace),
/// and so this does:
/// - a weighted `track_interface` entry: warned about; in a sync group its weight still
///   applies at run time (the priority drops, no FAULT), for an address owner it is
///   dropped;
/// - a `track_script` entry with a weight (its own or the script's): warned about and
///   dropped, so the script's result no longer matters to the instance;
/// - a `track_file` entry whose weight is the default 1: warned about and tracked with
///   weight 0 (a non-zero value means FAULT); any other non-zero weight: warned about and
///   dropped;
/// - `track_process`: neither warned about nor changed (its weight applies).
fn unfloated_tracker_weights(ctx: &mut Ctx, c: &mut Config, at: &dyn Fn(&str) -> Loc) {
    let weighted: Vec<String> = c
        .sync_groups
        .iter()
        .filter(|g| g.sync_group_tracking_weight)
        .map(|g| g.name.clone())
        .collect();
    let script_weight: HashMap<String, i32> = c
        .vrrp_scripts
        .iter()
        .map(|s| (s.name.clone(), s.weight))
        .collect();
    let file_weight: HashMap<String, i32> = c
        .track_files
        .iter()
        .map(|f| (f.name.clone(), f.weight))
        .collect();
    for inst in &mut c.vrrp_instances {
        let in_sync = inst
            .sync_group
            .as_ref()
            .is_some_and(|g| !weighted.contains(g));
        if !in_sync && inst.priority != 255 {
            continue;
        }
        // keepalived spells the reason two ways.
        let (why, why_) = if in_sync {
            ("SYNC group", "SYNC group")
        } else {
            ("address owner", "address_owner")
        };
        let loc = at(&inst.name);
        let name = inst.name.clone();
        inst.track_interface.retain(|t| {
            if t.weight.is_none_or(|w| w == 0) {
                return true;
            }
            if in_sync {
                ctx.warn(
                    loc,
                    format!(
                        "({name}) ignoring {} tracked interface weight due to {why}",
                        t.name
                    ),
                );
                return true;
            }
            ctx.warn(
                loc,
                format!(
                    "({name}) ignoring {} tracked interface due to {why}",
                    t.name
                ),
            );
            false
        });
        inst.track_script.retain(|t| {
            let w = t
                .weight
                .unwrap_or_else(|| script_weight.get(&t.name).copied().unwrap_or(0));
            if w != 0 {
                ctx.warn(
                    loc,
                    format!(
                        "({name}) ignoring tracked script {} with weights due to {why_}",
                        t.name
                    ),
                );
            }
            w == 0
        });
        inst.track_file.retain_mut(|t| {
            let w = t
                .weight
                .unwrap_or_else(|| file_weight.get(&t.name).copied().unwrap_or(1));
            if w == 1 {
                ctx.warn(
                    loc,
                    format!(
                        "({name}) ignoring weight from tracked file {} due to {why_}. specify weight 0",
                        t.name
                    ),
                );
                t.weight = Some(0);
            } else if w != 0 {
                ctx.warn(
                    loc,
                    format!(
                        "({name}) ignoring tracked file {} with weight {w} due to {why_}",
                        t.name
                    ),
                );
                return false;
            }
            true
        });
    }
}

/// Check `c`, reporting at the config level (line 0) or at `locs` where known.
/// `instance_locs`: where each vrrp_instance starts, by name.
pub fn validate(ctx: &mut Ctx, c: &mut Config, instance_locs: &HashMap<String, Loc>) {
    let at = |name: &str| instance_locs.get(name).copied().unwrap_or_default();
    disable_insecure_track_scripts(ctx, c);
    // Trackers named by instances must exist; unknown ones are dropped.
    let scripts: Vec<String> = c.vrrp_scripts.iter().map(|s| s.name.clone()).collect();
    let files: Vec<String> = c.track_files.iter().map(|s| s.name.clone()).collect();
    let procs: Vec<String> = c.track_processes.iter().map(|s| s.name.clone()).collect();
    for inst in &mut c.vrrp_instances {
        let loc = at(&inst.name);
        let name = inst.name.clone();
        let mut known = |kind: &str, names: &[String], t: &String| {
            let ok = names.contains(t);
            if !ok {
                ctx.warn(loc, format!("({name}) {kind} {t} not found, ignoring..."));
            }
            ok
        };
        inst.track_script
            .retain(|t| known("track script", &scripts, &t.name));
        inst.track_file
            .retain(|t| known("track file", &files, &t.name));
        inst.track_process
            .retain(|t| known("track process", &procs, &t.name));
    }
    // Tracked scripts whose program cannot be found are disabled (keepalived warns).
    let mut tracked: Vec<String> = c
        .vrrp_instances
        .iter()
        .flat_map(|i| i.track_script.iter().map(|t| t.name.clone()))
        .collect();
    tracked.extend(
        c.sync_groups
            .iter()
            .flat_map(|g| g.track_script.iter().map(|t| t.name.clone())),
    );
    for s in &c.vrrp_scripts {
        let found = s.script.args.first().is_some_and(|p| program_exists(p));
        if !found && tracked.contains(&s.name) {
            ctx.warn(
                Loc::default(),
                format!(
                    "Disabling track script {} since not found/accessible",
                    s.name
                ),
            );
        }
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
        if g.group.len() == 1 {
            ctx.warn(
                Loc::default(),
                format!(
                    "Sync group {} has only 1 virtual router(s) - this probably isn't what you want",
                    g.name
                ),
            );
        }
        keep.push(g);
    }
    c.sync_groups = keep;
    for inst in &mut c.vrrp_instances {
        inst.sync_group = member_of.get(&inst.name).cloned();
    }
    unfloated_tracker_weights(ctx, c, &at);
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
    for vs in &mut c.virtual_servers {
        if let VirtualServerAddr::Group(g) = &vs.addr {
            if !groups.contains(&g.as_str()) {
                ctx.warn(
                    Loc::default(),
                    format!("virtual_server group {g} does not exist"),
                );
            }
        }
        // A FILE_CHECK on a track file that does not exist is dropped, with keepalived's
        // two lines.
        for rs in &mut vs.real_servers {
            rs.checkers.retain(|ch| match ch {
                Checker::File(f) if !files.contains(&f.track_file) => {
                    ctx.warn(
                        Loc::default(),
                        format!("track_file {} not found", f.track_file),
                    );
                    ctx.warn(
                        Loc::default(),
                        "FILE_CHECK has no track_file specified - ignoring",
                    );
                    false
                }
                _ => true,
            });
        }
    }
}

/// keepalived under `enable_script_security`: a `vrrp_script` that would run with root
/// privileges from a file others could change is disabled with a warning (so `-t` exits
/// 5), and the instances tracking it run as if they did not (they do not go to FAULT for
/// want of a script that never runs). Removed from the model, so the VRRP child never
/// sees it. The rule is the daemon's one ([`script_security`]), and 2.4.3's: a path
/// through a symbolic link to a directory (`/bin/true` where `/bin` links to `usr/bin`)
/// is insecure too. A script whose user does not resolve is left to the VRRP child, which
/// disables it. The warning is 2.4.3's (and 2.2.7's) line, word for word.
fn disable_insecure_track_scripts(ctx: &mut Ctx, c: &mut Config) {
    if !c.global.enable_script_security || !nix::unistd::geteuid().is_root() {
        return;
    }
    let global = c.global.script_user.as_ref();
    let global = global.map(|(u, g)| (u.as_str(), g.as_deref()));
    let mut disabled = Vec::new();
    for s in &c.vrrp_scripts {
        let own = s.script.user.as_deref();
        let own = own.map(|u| (u, s.script.group.as_deref()));
        let (Ok(user), Some(program)) = (script_user(own, global), s.script.args.first()) else {
            continue;
        };
        let as_root = user.is_none_or(|u| u.uid == 0 || u.gid == 0);
        if script_security(program, user).is_err() || (as_root && through_linked_dir(program)) {
            ctx.warn(
                Loc::default(),
                format!("Disabling track script {} due to insecure", s.name),
            );
            disabled.push(s.name.clone());
        }
    }
    if disabled.is_empty() {
        return;
    }
    c.vrrp_scripts.retain(|s| !disabled.contains(&s.name));
    for inst in &mut c.vrrp_instances {
        inst.track_script.retain(|t| !disabled.contains(&t.name));
    }
    for g in &mut c.sync_groups {
        g.track_script.retain(|t| !disabled.contains(&t.name));
    }
}

/// Does the absolute path `program` (`.` and `..` taken away as written) pass through a
/// symbolic link to a directory? keepalived 2.4.3 refuses such a script under
/// `enable_script_security` (a link in the last place is followed and checked as the
/// file). A bare name is looked up in PATH by the daemon and not judged here.
pub fn through_linked_dir(program: &str) -> bool {
    use std::path::{Component, PathBuf};
    let path = std::path::Path::new(program);
    if !path.is_absolute() {
        return false;
    }
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let mut at = PathBuf::from("/");
    let dirs = parts.len().saturating_sub(1);
    parts.iter().take(dirs).any(|p| {
        at.push(p);
        std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink())
    })
}

/// What keepalived's VRRP process logs once started (not `-t`, which says nothing of it)
/// for each `vrrp_script` that no instance and no sync group tracks, in the order they
/// are defined: `Warning - script chk is not used` (2.2.7 and 2.4.3 alike). Nothing
/// without an instance (no VRRP process), nor for a script disabled as insecure.
pub fn unused_scripts(c: &Config) -> Vec<String> {
    if !c.has_vrrp() {
        return Vec::new();
    }
    let tracked = |name: &str| {
        c.vrrp_instances
            .iter()
            .any(|i| i.track_script.iter().any(|t| t.name == name))
            || c.sync_groups
                .iter()
                .any(|g| g.track_script.iter().any(|t| t.name == name))
    };
    c.vrrp_scripts
        .iter()
        .filter(|s| !tracked(&s.name))
        .map(|s| format!("Warning - script {} is not used", s.name))
        .collect()
}

/// What keepalived logs when scripts run as root without `enable_script_security`
/// (`-t` prints it and exits 6; the daemon logs it and runs).
pub const SECURITY_VIOLATION: &str =
    "SECURITY VIOLATION - scripts are being executed but script_security not enabled.";

/// keepalived's "SECURITY VIOLATION" (`-t` exit 6): some script would run as root from a
/// file that exists, and `enable_script_security` is off. Scripts whose program cannot be
/// found are not counted (keepalived disables them).
pub fn script_security_violation(c: &Config) -> bool {
    if c.global.enable_script_security {
        return false;
    }
    if c.global
        .script_user
        .as_ref()
        .is_some_and(|(u, _)| u != "root")
    {
        return false;
    }
    let mut scripts: Vec<&ka_proto::config::Script> = Vec::new();
    scripts.extend(c.vrrp_scripts.iter().map(|s| &s.script));
    let notifies = c
        .vrrp_instances
        .iter()
        .map(|i| &i.notify)
        .chain(c.sync_groups.iter().map(|g| &g.notify));
    for n in notifies {
        scripts.extend(
            [
                &n.master,
                &n.backup,
                &n.fault,
                &n.stop,
                &n.deleted,
                &n.notify,
                &n.master_rx_lower_pri,
            ]
            .into_iter()
            .flatten(),
        );
    }
    for vs in &c.virtual_servers {
        scripts.extend(vs.quorum_up.iter().chain(vs.quorum_down.iter()));
        for rs in &vs.real_servers {
            scripts.extend(rs.notify_up.iter().chain(rs.notify_down.iter()));
            for ch in &rs.checkers {
                if let Checker::Misc(m) = ch {
                    scripts.push(&m.misc_path);
                }
            }
        }
    }
    scripts.extend(
        c.global
            .startup_script
            .iter()
            .chain(c.global.shutdown_script.iter()),
    );
    scripts.into_iter().any(|s| {
        if s.user.as_deref().is_some_and(|u| u != "root") {
            return false;
        }
        s.args.first().is_some_and(|prog| program_exists(prog))
    })
}

fn program_exists(prog: &str) -> bool {
    if prog.starts_with('<') {
        // "</dev/tcp/..." is run through the shell.
        return std::path::Path::new("/bin/sh").exists();
    }
    if prog.contains('/') {
        return std::path::Path::new(prog).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(prog).is_file()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    /// Under `enable_script_security`, `-t` and the load disable a track script with
    /// keepalived's privileges: run as gid 0 or from a set-uid root file it counts as
    /// root; as `nobody:nogroup` from a plain file it does not.
    #[test]
    fn track_scripts_with_root_privileges_are_checked() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = ka_tests::TempDir::new("ka-validate-sec");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let (conf, script) = (dir.path().join("k.conf"), dir.path().join("chk.sh"));
        let opts = crate::conf::LoadOptions {
            config_id: "n".into(),
            instance: None,
        };
        for (mode, user, disabled) in [
            (0o777, "65534 65534", false),
            (0o777, "65534 0", true),
            (0o4777, "65534 65534", true),
            (0o755, "65534 0", false),
        ] {
            std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(mode)).unwrap();
            std::fs::write(
                &conf,
                format!(
                    "global_defs {{\n    enable_script_security\n}}\n\
                     vrrp_script chk {{\n    script \"{}\"\n    user {user}\n}}\n",
                    script.display()
                ),
            )
            .unwrap();
            let l = crate::conf::load_with(&conf, &opts, false, false).unwrap();
            assert_eq!(
                l.config.vrrp_scripts.is_empty(),
                disabled,
                "mode {mode:o}, user {user}: {:?}",
                l.diagnostics
            );
        }
    }

    /// A sync group member without `sync_group_tracking_weight`, and an address owner,
    /// lose their weighted trackers as keepalived 2.2.7 and 2.4.3 drop them (observed):
    /// weighted scripts and files (but at weight 1) go, a weight-1 file stays at 0, an
    /// interface stays in the group (its weight too) and goes for an owner; processes
    /// stay. With `sync_group_tracking_weight` nothing changes.
    #[test]
    fn sync_group_members_and_owners_ignore_their_trackers_weights() {
        let dir = ka_tests::TempDir::new("ka-validate-sgw");
        let conf = dir.path().join("k.conf");
        let opts = crate::conf::LoadOptions {
            config_id: "n".into(),
            instance: None,
        };
        let track = "track_interface {\n eth1 weight 5\n eth2\n}\n\
                     track_script {\n chk\n chk0\n}\n\
                     track_file {\n tf\n tf3\n}\n\
                     track_process {\n tp weight 2\n}\n";
        for (group_opt, prio, in_group) in [
            ("", 100, true),
            ("sync_group_tracking_weight\n", 100, true),
            ("", 255, false),
        ] {
            let members = if in_group { "VI\nVJ" } else { "VJ\nVK" };
            let text = format!(
                "vrrp_script chk {{\nscript /usr/bin/true\nweight 10\n}}\n\
                 vrrp_script chk0 {{\nscript /usr/bin/true\n}}\n\
                 track_file tf {{\nfile /etc/hostname\n}}\n\
                 track_file tf3 {{\nfile /etc/hostname\nweight 3\n}}\n\
                 vrrp_track_process tp {{\nprocess init\n}}\n\
                 vrrp_sync_group G {{\ngroup {{\n{members}\n}}\n{group_opt}}}\n\
                 vrrp_instance VI {{\ninterface eth0\nvirtual_router_id 1\npriority {prio}\n\
                 {track}virtual_ipaddress {{\n10.0.0.1\n}}\n}}\n\
                 vrrp_instance VJ {{\ninterface eth0\nvirtual_router_id 2\n\
                 virtual_ipaddress {{\n10.0.0.2\n}}\n}}\n\
                 vrrp_instance VK {{\ninterface eth0\nvirtual_router_id 3\n\
                 virtual_ipaddress {{\n10.0.0.3\n}}\n}}\n"
            );
            std::fs::write(&conf, text).unwrap();
            let l = crate::conf::load_with(&conf, &opts, false, false).unwrap();
            let vi = l
                .config
                .vrrp_instances
                .iter()
                .find(|i| i.name == "VI")
                .unwrap();
            let names = |v: &[ka_proto::config::track::TrackRef]| {
                v.iter()
                    .map(|t| (t.name.clone(), t.weight))
                    .collect::<Vec<_>>()
            };
            let msgs: Vec<&str> = l
                .diagnostics
                .iter()
                .map(|d| d.message.as_str())
                .filter(|m| m.contains("due to"))
                .collect();
            let case = format!("{group_opt:?} priority {prio}: {msgs:?}");
            let s = |n: &str, w: Option<i32>| (n.to_string(), w);
            if !group_opt.is_empty() {
                assert!(msgs.is_empty(), "{case}");
                assert_eq!(names(&vi.track_script).len(), 2, "{case}");
                assert_eq!(
                    names(&vi.track_file),
                    [s("tf", None), s("tf3", None)],
                    "{case}"
                );
                continue;
            }
            let (why, why_) = if in_group {
                ("SYNC group", "SYNC group")
            } else {
                ("address owner", "address_owner")
            };
            let iface = if in_group {
                format!("(VI) ignoring eth1 tracked interface weight due to {why}")
            } else {
                format!("(VI) ignoring eth1 tracked interface due to {why}")
            };
            assert_eq!(
                msgs,
                [
                    iface,
                    format!("(VI) ignoring tracked script chk with weights due to {why_}"),
                    format!(
                        "(VI) ignoring weight from tracked file tf due to {why_}. specify weight 0"
                    ),
                    format!("(VI) ignoring tracked file tf3 with weight 3 due to {why_}"),
                ],
                "{case}"
            );
            let ifaces = if in_group {
                vec![s("eth1", Some(5)), s("eth2", None)]
            } else {
                vec![s("eth2", None)]
            };
            assert_eq!(names(&vi.track_interface), ifaces, "{case}");
            assert_eq!(names(&vi.track_script), [s("chk0", None)], "{case}");
            assert_eq!(names(&vi.track_file), [s("tf", Some(0))], "{case}");
            assert_eq!(names(&vi.track_process), [s("tp", Some(2))], "{case}");
        }
    }
}
