//! What the dumps show that the engine does not carry, taken from the configuration once
//! per load ([`DumpFacts`]).

use super::*;

/// What the dumps show of an instance that the engine does not carry, from the
/// configuration. Instances with keepalived's defaults for all of it have no entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceFacts {
    /// `smtp_alert`, resolved as keepalived does (the instance's, else `smtp_alert_vrrp`,
    /// else `smtp_alert`, else off).
    pub smtp_alert: bool,
    /// `notify_deleted`.
    pub notify_deleted: bool,
    /// `promote_secondaries`.
    pub promote_secondaries: bool,
    /// `strict_mode` (or the global `vrrp_strict`).
    pub strict_mode: bool,
    /// The VMAC interface's name.
    pub vmac_ifname: Option<String>,
    /// The VMAC's base interface (the configured `interface`).
    pub vmac_base: Option<String>,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: bool,
    /// Notify scripts: keepalived's JSON key and the command line.
    pub scripts: Vec<(&'static str, String)>,
    /// The notify scripts' lines of keepalived.data (`Master state transition script =
    /// ..., uid:gid 0:0`).
    pub notify_lines: Vec<String>,
    /// `notify_priority_changes`.
    pub notify_priority_changes: bool,
    /// `kernel_rx_buf_size`.
    pub kernel_rx_buf_size: Option<u32>,
    /// `debug`.
    pub debug: u8,
    /// `old_unicast_checksum`.
    pub old_unicast_checksum: bool,
}

/// The user and group a script runs as (keepalived's rule: its own, else `script_user`,
/// else `keepalived_script`, else root; the daemon's own when not root).
pub(super) fn script_ids(
    s: &ka_proto::config::Script,
    g: &ka_proto::config::global::GlobalDefs,
) -> (u32, u32) {
    let own = s.user.as_deref().map(|u| (u, s.group.as_deref()));
    let global = g
        .script_user
        .as_ref()
        .map(|(u, g)| (u.as_str(), g.as_deref()));
    match vrrp::linux::script::script_user(own, global) {
        Ok(Some(u)) => (u.uid, u.gid),
        _ => (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ),
    }
}

/// The real path of a command's first word when it differs from it (a symlink, `..`).
pub(super) fn real_path(args: &[String]) -> Option<String> {
    let first = args.first()?;
    match std::fs::canonicalize(first) {
        Ok(real) if real.as_os_str() != first.as_str() => Some(real.display().to_string()),
        _ => None,
    }
}

/// A notify script's line of keepalived.data: its real path when that differs from the
/// command's first word, the command line, and the user and group it runs as.
pub(super) fn notify_line(
    what: &str,
    s: &ka_proto::config::Script,
    g: &ka_proto::config::global::GlobalDefs,
) -> String {
    let ids = script_ids(s, g);
    let cmd = cmd_str(&s.args);
    match real_path(&s.args) {
        Some(real) => format!(
            "{what} state transition script = {real}, params = {cmd}, uid:gid {}:{}",
            ids.0, ids.1
        ),
        None => format!(
            "{what} state transition script = {cmd}, uid:gid {}:{}",
            ids.0, ids.1
        ),
    }
}

/// A sync group's facts from the configuration.
pub(super) fn group_facts(
    sg: &ka_proto::config::VrrpSyncGroup,
    cfg: &ka_proto::config::Config,
) -> GroupFacts {
    let g = &cfg.global;
    let mut track_lines = Vec::new();
    let script_weight = |n: &str| {
        cfg.vrrp_scripts
            .iter()
            .find(|s| s.name == n)
            .map_or((0, false), |s| (s.weight, s.weight_reverse))
    };
    let file_weight = |n: &str| {
        cfg.track_files
            .iter()
            .find(|s| s.name == n)
            .map_or((1, false), |s| (s.weight, s.weight_reverse))
    };
    let lists: [(&str, &str, &Vec<ka_proto::config::TrackRef>); 4] = [
        ("Tracked interfaces :", "", &sg.track_interface),
        ("Tracked scripts :", "", &sg.track_script),
        ("Tracked files :", ",", &sg.track_file),
        ("Tracked process :", ",", &sg.track_process),
    ];
    for (n, (title, comma, list)) in lists.into_iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        track_lines.push(title.to_string());
        for t in list {
            let (w, r) = match n {
                1 => script_weight(&t.name),
                2 => file_weight(&t.name),
                _ => (0, false),
            };
            let weight = t.weight.unwrap_or(w);
            let reverse = if t.reverse.unwrap_or(r) {
                " reverse"
            } else {
                ""
            };
            track_lines.push(format!("  {}{comma} weight {weight}{reverse}", t.name));
        }
    }
    let n = &sg.notify;
    let notify_lines = [
        ("Backup", &n.backup),
        ("Master", &n.master),
        ("Fault", &n.fault),
        ("Stop", &n.stop),
        ("Generic", &n.notify),
    ]
    .iter()
    .filter_map(|(what, s)| s.as_ref().map(|s| notify_line(what, s, g)))
    .collect();
    GroupFacts {
        name: sg.name.clone(),
        members: sg.group.clone(),
        tracking_weight: sg.sync_group_tracking_weight,
        smtp_alert: sg
            .smtp_alert
            .or(g.smtp_alert_vrrp)
            .or(g.smtp_alert)
            .unwrap_or(false),
        priority_changes: n.priority_changes.unwrap_or(false),
        track_lines,
        notify_lines,
    }
}

/// The configuration's facts for the dumps: per instance ([`InstanceFacts`]) and the
/// command line of each `vrrp_script`.
#[derive(Debug, Clone, Default)]
pub struct DumpFacts {
    pub(super) instances: std::collections::BTreeMap<String, InstanceFacts>,
    pub(super) script_cmds: HashMap<String, String>,
    pub(super) groups: Vec<GroupFacts>,
    pub(super) scripts: Vec<ScriptFacts>,
    /// `track_file`s referenced: name, path, weight, reverse.
    pub(super) files: Vec<(String, String, i32, bool)>,
    /// `static_ipaddress`, `static_routes`, `static_rules`.
    pub(super) statics: vrrp::AddressSet,
    /// keepalived.data's "Global definitions" section.
    pub(super) global: String,
    /// keepalived.data's "Gratuitous ARP delays" section.
    pub(super) garp: String,
    /// Each `vrrp_track_process`'s own `weight`.
    pub(super) proc_weights: HashMap<String, i32>,
}

/// A sync group as keepalived.data shows it, but its state and its members' (the
/// engine's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFacts {
    pub(super) name: String,
    pub(super) members: Vec<String>,
    pub(super) tracking_weight: bool,
    pub(super) smtp_alert: bool,
    pub(super) priority_changes: bool,
    /// The "Tracked ... :" lines, titles and entries.
    pub(super) track_lines: Vec<String>,
    pub(super) notify_lines: Vec<String>,
}

/// A `vrrp_script` as keepalived.data shows it, but its result and state (the runner's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptFacts {
    pub(super) name: String,
    pub(super) cmd: String,
    /// The real path when it differs from the command's first word.
    pub(super) path: Option<String>,
    pub(super) interval: std::time::Duration,
    pub(super) timeout: std::time::Duration,
    pub(super) weight: i32,
    pub(super) reverse: bool,
    pub(super) rise: u32,
    pub(super) fall: u32,
    pub(super) init_fail: bool,
    pub(super) ids: (u32, u32),
}

impl DumpFacts {
    /// From a (re)loaded configuration and its plan (the VMAC names).
    pub fn new(cfg: &ka_proto::config::Config, plan: &crate::vrrp_child::map::Plan) -> DumpFacts {
        let g = &cfg.global;
        let mut instances = std::collections::BTreeMap::new();
        for vi in &cfg.vrrp_instances {
            let n = &vi.notify;
            let all = [
                ("script_backup", "Backup", &n.backup),
                ("script_master", "Master", &n.master),
                ("script_fault", "Fault", &n.fault),
                ("script_stop", "Stop", &n.stop),
                ("script_deleted", "Deleted", &n.deleted),
                ("script", "Generic", &n.notify),
                (
                    "script_master_rx_lower_pri",
                    "Master rx lower pri",
                    &n.master_rx_lower_pri,
                ),
            ];
            let scripts: Vec<(&'static str, String)> = all
                .iter()
                .filter_map(|(k, _, s)| s.as_ref().map(|s| (*k, cmd_str(&s.args))))
                .collect();
            let notify_lines = all
                .iter()
                .filter_map(|(_, what, s)| s.as_ref().map(|s| notify_line(what, s, g)))
                .collect();
            let f = InstanceFacts {
                smtp_alert: vi
                    .smtp_alert
                    .or(g.smtp_alert_vrrp)
                    .or(g.smtp_alert)
                    .unwrap_or(false),
                notify_deleted: n.notify_deleted,
                promote_secondaries: vi.promote_secondaries,
                strict_mode: vi.strict_mode || g.vrrp_strict,
                vmac_ifname: plan
                    .extra
                    .get(&vi.name)
                    .and_then(|e| e.vmac.as_ref())
                    .map(|v| v.name.clone()),
                vmac_base: plan
                    .extra
                    .get(&vi.name)
                    .filter(|e| e.vmac.is_some())
                    .map(|e| e.base_interface.clone()),
                vmac_xmit_base: vi.use_vmac.as_ref().is_some_and(|v| v.xmit_base),
                scripts,
                notify_lines,
                notify_priority_changes: plan
                    .extra
                    .get(&vi.name)
                    .and_then(|e| e.notify.priority_changes)
                    .unwrap_or(plan.notify_priority_changes),
                kernel_rx_buf_size: vi.kernel_rx_buf_size,
                debug: vi.debug,
                old_unicast_checksum: vi.old_unicast_checksum,
            };
            if f != InstanceFacts::default() {
                instances.insert(vi.name.clone(), f);
            }
        }
        let script_cmds = plan
            .scripts
            .iter()
            .map(|s| (s.name.clone(), cmd_str(&s.script.args)))
            .collect();
        let groups = cfg
            .sync_groups
            .iter()
            .map(|sg| group_facts(sg, cfg))
            .collect();
        let scripts = plan
            .scripts
            .iter()
            .map(|vs| ScriptFacts {
                name: vs.name.clone(),
                cmd: cmd_str(&vs.script.args),
                path: real_path(&vs.script.args),
                interval: vs.interval,
                timeout: vs.timeout,
                weight: vs.weight,
                reverse: vs.weight_reverse,
                rise: vs.rise,
                fall: vs.fall,
                init_fail: vs.init_fail,
                ids: script_ids(&vs.script, g),
            })
            .collect();
        let files = plan
            .track_files
            .iter()
            .map(|(name, path, _, _)| {
                let (w, r) = cfg
                    .track_files
                    .iter()
                    .find(|t| t.name == *name)
                    .map_or((1, false), |t| (t.weight, t.weight_reverse));
                (name.clone(), path.clone(), w, r)
            })
            .collect();
        DumpFacts {
            instances,
            script_cmds,
            groups,
            scripts,
            files,
            statics: plan.statics.clone(),
            global: super::global::global_section(cfg),
            garp: super::garp::garp_section(cfg, plan),
            proc_weights: cfg
                .track_processes
                .iter()
                .map(|p| (p.name.clone(), p.weight))
                .collect(),
        }
    }

    pub(super) fn of(&self, instance: &str) -> Option<&InstanceFacts> {
        self.instances.get(instance)
    }

    /// The names of the `track_file`s referenced.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.0.as_str())
    }
}
