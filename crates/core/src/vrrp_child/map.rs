//! From the parsed `keepalived.conf` model ([`ka_proto::config::Config`]) to what the VRRP
//! child runs: the engine's [`vrrp::EngineConfig`] plus what only the I/O side needs
//! (notify scripts, `use_vmac`, `vrrp_script` and `track_file` definitions).
//!
//! VIPs, routes and rules go to the engine as typed values ([`vrrp::install`]): what the
//! configuration could get wrong was rejected when it was read, so nothing here or at a
//! takeover parses text again. Only interface names are left to resolve at install time.

use ka_proto::config::addr::Scope as CfgScope;
use ka_proto::config::global::LvsSyncDaemon;
use ka_proto::config::{
    AuthType, Config, Notify, ParamMatch, Route, RouteType, Rule, RuleAction as CfgRuleAction,
    TrackFile, TrackProcess, TrackRef, VirtualIpAddress, VrrpInstance, VrrpScript, VrrpSyncGroup,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use vrrp::install::{self, RouteKind, RuleAction, Scope};
use vrrp::process::ParamMode;
use vrrp::{
    AddrOptions, AddressSet, Auth, EngineConfig, Family, GarpConfig, InitialState, InstanceConfig,
    ProcessSpec, ProcessTrackerConfig, SyncGroupConfig, TrackConfig, TrackKind, UnicastPeer,
    Version, Vip,
};

/// Per-instance settings the engine does not know about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceExtra {
    /// The configured interface (the VMAC's base when `use_vmac`).
    pub base_interface: String,
    /// `use_vmac`: the macvlan to create (name) and whether adverts stay on the base.
    pub vmac: Option<VmacPlan>,
    /// Notify scripts.
    pub notify: Notify,
    /// The sync group, if any.
    pub sync_group: Option<String>,
}

/// A VMAC the instance needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacPlan {
    /// Interface name (`vrrp.VRID` by default).
    pub name: String,
    /// MAC override.
    pub mac: Option<[u8; 6]>,
    /// IPv6 instance.
    pub v6: bool,
    /// VRID.
    pub vrid: u8,
}

/// Everything the VRRP child runs, derived from one configuration.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// What the engine runs.
    pub engine: EngineConfig,
    /// Instance name -> I/O-only settings, for the instances that have any (a VMAC,
    /// notify scripts or a sync group): an instance without is not in the map, which
    /// reads as "none" everywhere (at 10,000 plain instances that is ~7 MB less).
    pub extra: BTreeMap<String, InstanceExtra>,
    /// Sync group name -> its notify scripts.
    pub group_notify: BTreeMap<String, Notify>,
    /// `vrrp_script`s referenced by an instance or a group.
    pub scripts: Vec<VrrpScript>,
    /// `track_file`s referenced: (name, path, init value, overwrite).
    pub track_files: Vec<(String, String, Option<i64>, bool)>,
    /// `vrrp_track_process`es referenced by an instance or a group.
    pub track_processes: Vec<ProcessTrackerConfig>,
    /// `static_ipaddress`, `static_routes`, `static_rules`: installed while the child runs.
    pub statics: AddressSet,
    /// Accept mode's nftables tables: Some when an instance must not accept packets for
    /// its addresses (`no_accept`, or `vrrp_strict` on a non-owner).
    pub firewall: Option<vrrp::linux::nft::NftConfig>,
    /// `lvs_sync_daemon` (or an instance's deprecated `lvs_sync_daemon_interface`): the
    /// IPVS sync daemon that follows the state of the instance it names.
    pub lvs_sync: Option<LvsSyncDaemon>,
    /// `json_version` (1: keepalived's array of instances; 2: named arrays of instances
    /// and track processes).
    pub json_version: u8,
    /// `vrrp_notify_priority_changes`: whether an instance with no `extra` entry writes
    /// its priority changes to the notify FIFO (those with one have it resolved in
    /// their `notify.priority_changes`).
    pub notify_priority_changes: bool,
    /// Things that were ignored, for the log.
    pub warnings: Vec<String>,
    /// Work counter: definitions (scripts, files, processes, sync groups, instances)
    /// looked up by name while planning. Grows in proportion to the configuration's size.
    pub lookups: u64,
}

/// The largest `kernel_rx_buf_size` of the instances (the receive buffer of the raw
/// sockets): the only part of the configuration the session reads after planning.
pub fn kernel_rx_buf(cfg: &Config) -> Option<usize> {
    cfg.vrrp_instances
        .iter()
        .filter_map(|i| i.kernel_rx_buf_size)
        .max()
        .and_then(|n| usize::try_from(n).ok())
}

/// A `virtual_ipaddress` entry as the engine carries it: `dev` resolved (the VMAC for
/// `use_vmac`), the options typed; a plain address carries none.
fn vip_of(v: &VirtualIpAddress, vmac: Option<&str>) -> Vip {
    let dev = v
        .dev
        .clone()
        .or_else(|| v.use_vmac.then(|| vmac.map(str::to_string)).flatten());
    let options = AddrOptions {
        broadcast: match v.broadcast {
            Some(IpAddr::V4(b)) => Some(b),
            _ => None,
        },
        scope: scope(v.scope),
        label: v.label.clone(),
        peer: v.peer.map(|p| p.addr),
        home: v.home,
        nodad: v.nodad,
        mngtmpaddr: v.mngtmpaddr,
        noprefixroute: v.noprefixroute,
        autojoin: v.autojoin,
        // keepalived (2.2.7 and 2.4.3) installs an IPv6 host address without
        // `preferred_lft` deprecated (preferred lifetime 0): never picked as a source.
        preferred_lft: v
            .preferred_lft
            .or_else(|| (v.prefix.addr.is_ipv6() && v.prefix.len == 128).then_some(0)),
    };
    Vip {
        addr: v.prefix.addr,
        prefix_len: v.prefix.len,
        dev,
        options: (options != AddrOptions::default()).then(|| Arc::new(options)),
    }
}

fn scope(s: CfgScope) -> Scope {
    match s {
        CfgScope::Global => Scope::Global,
        CfgScope::Site => Scope::Site,
        CfgScope::Link => Scope::Link,
        CfgScope::Host => Scope::Host,
        CfgScope::Nowhere => Scope::Nowhere,
        CfgScope::Other(n) => Scope::Other(n),
    }
}

/// A `virtual_routes` entry as the engine carries it; None for one without a
/// destination (the configuration reader drops those).
pub fn route_of(r: &Route) -> Option<install::Route> {
    let to = r.to?;
    let mut out = install::Route::new(to.addr, to.len);
    out.kind = match r.route_type {
        RouteType::Unicast => RouteKind::Unicast,
        RouteType::Blackhole => RouteKind::Blackhole,
        RouteType::Unreachable => RouteKind::Unreachable,
        RouteType::Prohibit => RouteKind::Prohibit,
        RouteType::Throw => RouteKind::Throw,
        RouteType::Local => RouteKind::Local,
        RouteType::Broadcast => RouteKind::Broadcast,
        RouteType::Anycast => RouteKind::Anycast,
        RouteType::Multicast => RouteKind::Multicast,
        RouteType::Nat => RouteKind::Nat,
    };
    out.from = r.from.map(|p| (p.addr, p.len));
    out.src = r.src;
    out.via = r.via;
    out.or_via = r.or_via;
    out.dev = r.dev.clone();
    out.scope = r.scope.map(scope);
    out.table = r.table;
    out.metric = r.metric;
    out.onlink = r.onlink;
    Some(out)
}

/// A `virtual_rules` entry as the engine carries it.
pub fn rule_of(r: &Rule) -> install::Rule {
    let v6 = r.from.or(r.to).is_some_and(|p| p.addr.is_ipv6());
    let mut out = install::Rule::to_table(v6, 0);
    out.action = match r.action {
        CfgRuleAction::Table(t) => RuleAction::Table(t),
        CfgRuleAction::Goto(t) => RuleAction::Goto(t),
        CfgRuleAction::Nop => RuleAction::Nop,
        CfgRuleAction::Blackhole => RuleAction::Blackhole,
        CfgRuleAction::Unreachable => RuleAction::Unreachable,
        CfgRuleAction::Prohibit => RuleAction::Prohibit,
        CfgRuleAction::L3mdev => RuleAction::L3mdev,
    };
    out.from = r.from.map(|p| (p.addr, p.len));
    out.to = r.to.map(|p| (p.addr, p.len));
    out.invert = r.invert;
    out.priority = r.priority;
    out.iif = r.iif.clone();
    out.oif = r.oif.clone();
    out.fwmark = r.fwmark.map(|f| (f.mark, f.mask));
    out
}

/// The routes and rules of a list, typed.
fn routes_and_rules(routes: &[Route], rules: &[Rule]) -> (Vec<install::Route>, Vec<install::Rule>) {
    (
        routes.iter().filter_map(route_of).collect(),
        rules.iter().map(rule_of).collect(),
    )
}

/// The configuration's named definitions by name (the first of a name, as a scan in
/// order finds it) and the names already in the plan: one lookup each, where a scan per
/// instance made planning 10,000 instances cost hundreds of millions of comparisons.
struct Names<'a> {
    scripts: HashMap<&'a str, &'a VrrpScript>,
    files: HashMap<&'a str, &'a TrackFile>,
    procs: HashMap<&'a str, &'a TrackProcess>,
    groups: HashMap<&'a str, &'a VrrpSyncGroup>,
    instances: HashSet<&'a str>,
    /// Scripts, files and processes already in the plan.
    planned: HashSet<(TrackKind, &'a str)>,
}

impl<'a> Names<'a> {
    fn new(cfg: &'a Config) -> Names<'a> {
        // In reverse, so that the first definition of a name is the one kept.
        let mut scripts = HashMap::new();
        for s in cfg.vrrp_scripts.iter().rev() {
            scripts.insert(s.name.as_str(), s);
        }
        let mut files = HashMap::new();
        for f in cfg.track_files.iter().rev() {
            files.insert(f.name.as_str(), f);
        }
        let mut procs = HashMap::new();
        for p in cfg.track_processes.iter().rev() {
            procs.insert(p.name.as_str(), p);
        }
        let mut groups = HashMap::new();
        for g in cfg.sync_groups.iter().rev() {
            groups.insert(g.name.as_str(), g);
        }
        Names {
            scripts,
            files,
            procs,
            groups,
            instances: cfg.vrrp_instances.iter().map(|i| i.name.as_str()).collect(),
            planned: HashSet::new(),
        }
    }
}

fn track_entries<'a>(
    names: &mut Names<'a>,
    plan: &mut Plan,
    warnings: &mut Vec<String>,
    who: &str,
    lists: [&[TrackRef]; 4],
    force_zero_weight: bool,
) -> Vec<TrackConfig> {
    let [ifaces, scripts, files, procs] = lists;
    let Plan {
        scripts: plan_scripts,
        track_files: plan_files,
        track_processes: plan_procs,
        lookups,
        ..
    } = plan;
    *lookups += (scripts.len() + files.len() + procs.len()) as u64;
    // The entry's own weight and reverse, else the tracked object's (`defaults`); weight 0
    // for every entry when `force_zero_weight`.
    let entry = |kind, t: &TrackRef, defaults: (i32, bool)| TrackConfig {
        kind,
        name: t.name.clone(),
        weight: if force_zero_weight {
            0
        } else {
            t.weight.unwrap_or(defaults.0)
        },
        reverse: t.reverse.unwrap_or(defaults.1),
    };
    let mut out = Vec::new();
    for t in ifaces {
        out.push(entry(TrackKind::Interface, t, (0, false)));
    }
    for t in scripts {
        let Some(&s) = names.scripts.get(t.name.as_str()) else {
            warnings.push(format!(
                "({who}) track_script {} is not a defined vrrp_script - ignoring",
                t.name
            ));
            continue;
        };
        if names.planned.insert((TrackKind::Script, &s.name)) {
            plan_scripts.push(s.clone());
        }
        out.push(entry(TrackKind::Script, t, (s.weight, s.weight_reverse)));
    }
    for t in files {
        let Some(&f) = names.files.get(t.name.as_str()) else {
            warnings.push(format!(
                "({who}) track_file {} is not defined - ignoring",
                t.name
            ));
            continue;
        };
        if names.planned.insert((TrackKind::File, &f.name)) {
            plan_files.push((
                f.name.clone(),
                f.file.clone(),
                f.init_file,
                f.init_file_overwrite,
            ));
        }
        out.push(entry(TrackKind::File, t, (f.weight, f.weight_reverse)));
    }
    for t in procs {
        let Some(&p) = names.procs.get(t.name.as_str()) else {
            warnings.push(format!(
                "({who}) track_process {} is not defined - ignoring",
                t.name
            ));
            continue;
        };
        if names.planned.insert((TrackKind::Process, &p.name)) {
            plan_procs.push(process_tracker(p));
        }
        out.push(entry(TrackKind::Process, t, (p.weight, p.weight_reverse)));
    }
    out
}

/// A `vrrp_track_process` block as the process trackers run it.
fn process_tracker(p: &TrackProcess) -> ProcessTrackerConfig {
    let (name, params) = match p.process.split_first() {
        Some((n, rest)) => (n.clone(), rest.to_vec()),
        None => (String::new(), Vec::new()),
    };
    ProcessTrackerConfig {
        name: p.name.clone(),
        spec: ProcessSpec {
            name,
            params,
            mode: match p.param_match {
                ParamMatch::None => ParamMode::Ignore,
                ParamMatch::Exact => ParamMode::Exact,
                ParamMatch::Initial => ParamMode::Initial,
                ParamMatch::Partial => ParamMode::Partial,
            },
            full_command: p.full_command,
        },
        quorum: p.quorum,
        quorum_max: p.quorum_max,
        fork_delay: p.fork_delay,
        terminate_delay: p.terminate_delay,
    }
}

fn instance_config<'a>(
    cfg: &'a Config,
    names: &mut Names<'a>,
    vi: &VrrpInstance,
    plan: &mut Plan,
) -> (InstanceConfig, InstanceExtra) {
    let family = if vi.ipv6 { Family::V6 } else { Family::V4 };
    let base = vi.interface.clone().unwrap_or_default();
    let vmac = vi.use_vmac.as_ref().map(|v| VmacPlan {
        name: v.name.clone().unwrap_or_else(|| {
            if vi.ipv6 {
                format!("vrrp6.{}", vi.virtual_router_id)
            } else {
                format!("vrrp.{}", vi.virtual_router_id)
            }
        }),
        mac: v.mac.map(|m| {
            m.over(vrrp::linux::vmac::vmac_address(
                vi.virtual_router_id,
                vi.ipv6,
            ))
        }),
        v6: vi.ipv6,
        vrid: vi.virtual_router_id,
    });
    let xmit_base = vi.use_vmac.as_ref().is_some_and(|v| v.xmit_base);
    let iface = match &vmac {
        Some(v) if !xmit_base => v.name.clone(),
        _ => base.clone(),
    };
    let vmac_name = vmac.as_ref().map(|v| v.name.as_str());
    // VIPs without `dev` go on the VMAC when there is one.
    let vip_list = |list: &[VirtualIpAddress]| -> Vec<Vip> {
        list.iter()
            .map(|v| {
                let mut v = v.clone();
                if v.dev.is_none() && vmac_name.is_some() {
                    v.use_vmac = true;
                }
                vip_of(&v, vmac_name)
            })
            .collect()
    };
    let mut c = InstanceConfig::new(&vi.name, &iface, vi.virtual_router_id, &[]);
    c.family = family;
    c.version = if vi.ipv6 || vi.version == 3 {
        Version::V3
    } else {
        Version::V2
    };
    c.initial_state = match vi.state {
        ka_proto::config::InitialState::Master => InitialState::Master,
        ka_proto::config::InitialState::Backup => InitialState::Backup,
    };
    c.priority = vi.priority;
    c.advert_int = vi.advert_int;
    let (routes, rules) = routes_and_rules(&vi.virtual_routes, &vi.virtual_rules);
    c.addresses = AddressSet {
        vips: if vi.no_virtual_ipaddress {
            Vec::new()
        } else {
            vip_list(&vi.virtual_ipaddress)
        },
        excluded: vip_list(&vi.virtual_ipaddress_excluded),
        routes,
        rules,
    };
    c.preempt = !vi.nopreempt;
    // Without a value, the other routers' highest priority is taken as 254.
    c.timer_expired_backup = vi
        .timer_expired_backup
        .map(|p| if p == 0 { 254 } else { p });
    c.preempt_delay = vi.preempt_delay;
    c.accept = vi.accept.unwrap_or(!vi.strict_mode || vi.is_owner());
    c.auth = match &vi.authentication {
        // keepalived 2.2.7 (and 2.4.3) run a strict instance without authentication
        // (plain protocol 112 adverts, auth type 0) after "Strict mode does not support
        // authentication. Ignoring."
        Some(_) if vi.strict_mode => Auth::None,
        Some(a) if a.auth_type == AuthType::Pass && c.version == Version::V2 => {
            Auth::pass(&a.auth_pass)
        }
        // AH is v2 and IPv4 only (v3 and IPv6 instances were warned about by the parser).
        Some(a) if a.auth_type == AuthType::Ah && c.version == Version::V2 => {
            Auth::ah(&a.auth_pass)
        }
        _ => Auth::None,
    };
    c.hmac = vi.auth_hmac.as_ref().map(hmac_config);
    c.src_addr = vi.unicast_src_ip.or(vi.mcast_src_ip);
    let default_group = if vi.ipv6 {
        cfg.global.vrrp_mcast_group6
    } else {
        cfg.global.vrrp_mcast_group4
    };
    c.mcast_dst = vi
        .mcast_dst_ip
        .or(Some(default_group))
        .filter(|g| Family::of(*g) == family && *g != family.mcast_group());
    c.unicast_peers = vi
        .unicast_peer
        .iter()
        .map(|p| UnicastPeer {
            addr: p.address,
            min_ttl: (p.min_ttl != 0).then_some(p.min_ttl),
            max_ttl: (p.max_ttl != 255).then_some(p.max_ttl),
        })
        .collect();
    c.unicast_ttl = vi.unicast_ttl;
    c.check_unicast_src = vi.check_unicast_src;
    c.unicast_fault_no_peer = vi.unicast_fault_no_peer;
    c.garp = GarpConfig {
        master_repeat: vi.garp_master_repeat,
        master_delay: vi.garp_master_delay,
        master_refresh: (!vi.garp_master_refresh.is_zero()).then_some(vi.garp_master_refresh),
        master_refresh_repeat: vi.garp_master_refresh_repeat,
        lower_prio_repeat: vi.garp_lower_prio_repeat,
        lower_prio_delay: vi.garp_lower_prio_delay,
        extra_if: vi.garp_extra_if.filter(|d| !d.is_zero()),
        extra_if_all: vi.garp_extra_if_all,
    };
    c.down_timer_adverts = vi.down_timer_adverts;
    c.lower_prio_no_advert = vi.lower_prio_no_advert;
    c.higher_prio_send_advert = vi.higher_prio_send_advert;
    if vi.strict_mode {
        // keepalived (2.4.3, seen in its dumps): strict mode answers no lower priority
        // advert, with neither an advert nor GARPs, and sends none before yielding.
        c.garp.lower_prio_repeat = 0;
        c.garp.lower_prio_delay = Duration::ZERO;
        c.lower_prio_no_advert = true;
        c.higher_prio_send_advert = false;
    }
    c.owner_ignore_adverts = vi.owner_ignore_adverts;
    c.skip_check_adv_addr = vi.skip_check_adv_addr;
    c.v3_checksum_as_v2 = vi.v3_checksum_as_v2;
    c.dont_track_primary = vi.dont_track_primary;
    let mut warnings = Vec::new();
    let mut track = track_entries(
        names,
        plan,
        &mut warnings,
        &vi.name,
        [
            &vi.track_interface,
            &vi.track_script,
            &vi.track_file,
            &vi.track_process,
        ],
        false,
    );
    // With a VMAC the instance's link is the macvlan; its base must be up too.
    if vmac.is_some() && !base.is_empty() && !vi.dont_track_primary {
        track.push(TrackConfig {
            kind: TrackKind::Interface,
            name: base.clone(),
            weight: 0,
            reverse: false,
        });
    }
    if let Some(g) = vi.sync_group.as_ref().and_then(|g| {
        plan.lookups += 1;
        names.groups.get(g.as_str()).copied()
    }) {
        let weighted = g.sync_group_tracking_weight;
        track.extend(track_entries(
            names,
            plan,
            &mut warnings,
            &g.name,
            [
                &g.track_interface,
                &g.track_script,
                &g.track_file,
                &g.track_process,
            ],
            !weighted,
        ));
    }
    plan.warnings.extend(warnings);
    c.track = track;
    let extra = InstanceExtra {
        base_interface: base,
        vmac,
        notify: vi.notify.clone(),
        sync_group: vi.sync_group.clone(),
    };
    (c, extra)
}

/// Map a configuration onto what the VRRP child runs.
pub fn plan(cfg: &Config) -> Plan {
    let (routes, rules) = routes_and_rules(&cfg.static_routes, &cfg.static_rules);
    let mut plan = Plan {
        statics: AddressSet {
            vips: cfg
                .static_ipaddress
                .iter()
                .map(|v| vip_of(v, None))
                .collect(),
            excluded: Vec::new(),
            routes,
            rules,
        },
        ..Plan::default()
    };
    plan.json_version = cfg.global.json_version;
    let mut names = Names::new(cfg);
    for vi in &cfg.vrrp_instances {
        let (c, extra) = instance_config(cfg, &mut names, vi, &mut plan);
        let plain =
            extra.vmac.is_none() && extra.sync_group.is_none() && extra.notify == Notify::default();
        if !plain {
            plan.extra.insert(vi.name.clone(), extra);
        }
        plan.engine.instances.push(c);
    }
    if plan.engine.instances.iter().any(|c| !c.accept) {
        // keepalived 2.4.3 (built with nftables only, like Debian's 2.2.7) uses nftables
        // whether `nftables`, `vrrp_iptables` or neither is given.
        let g = &cfg.global;
        plan.firewall = Some(vrrp::linux::nft::NftConfig {
            table: g.nftables.clone().unwrap_or_else(|| "keepalived".into()),
            priority: g.nftables_priority,
            counters: g.nftables_counters,
            ifindex: g.nftables_ifindex,
        });
    }
    for g in &cfg.sync_groups {
        // Members that do not exist are reported by the engine's validation; drop them
        // here with a warning instead (keepalived ignores them).
        let members: Vec<String> = g
            .group
            .iter()
            .filter(|m| {
                plan.lookups += 1;
                let ok = names.instances.contains(m.as_str());
                if !ok {
                    plan.warnings.push(format!(
                        "sync group {}: instance {m} does not exist - ignoring",
                        g.name
                    ));
                }
                ok
            })
            .cloned()
            .collect();
        plan.engine.sync_groups.push(SyncGroupConfig {
            name: g.name.clone(),
            members,
        });
        plan.group_notify.insert(g.name.clone(), g.notify.clone());
    }
    // `notify_priority_changes`, as keepalived 2.4.3 resolves it: the instance's own
    // setting, else its sync group's, else the global one.
    plan.notify_priority_changes = cfg.global.vrrp_notify_priority_changes;
    for e in plan.extra.values_mut() {
        let group = e
            .sync_group
            .as_ref()
            .and_then(|g| plan.group_notify.get(g))
            .and_then(|n| n.priority_changes);
        e.notify.priority_changes = Some(
            e.notify
                .priority_changes
                .or(group)
                .unwrap_or(plan.notify_priority_changes),
        );
    }
    plan.lvs_sync = lvs_sync(cfg, &mut plan.warnings);
    plan
}

/// The sync daemon to drive, as keepalived 2.2.7 and 2.4.3 do (both observed in the VM):
/// the global `lvs_sync_daemon IF VI` when it names an instance that exists, with the
/// instance's VRID as sync id unless `id` is given (naming no instance starts nothing,
/// naming a missing one is logged and starts nothing); otherwise the first instance with
/// the deprecated `lvs_sync_daemon_interface IF` (sync id 0).
fn lvs_sync(cfg: &Config, warnings: &mut Vec<String>) -> Option<LvsSyncDaemon> {
    if let Some(d) = &cfg.global.lvs_sync_daemon {
        let name = d.instance.as_deref()?;
        if let Some(vi) = cfg.vrrp_instances.iter().find(|vi| vi.name == name) {
            let mut d = d.clone();
            d.sync_id = d.sync_id.or(Some(vi.virtual_router_id));
            return Some(d);
        }
        warnings.push(format!(
            "Unable to find vrrp instance {name} for lvs_syncd - clearing lvs_syncd config"
        ));
        return None;
    }
    cfg.vrrp_instances.iter().find_map(|vi| {
        vi.lvs_sync_daemon_interface
            .as_ref()
            .map(|interface| LvsSyncDaemon {
                interface: interface.clone(),
                instance: Some(vi.name.clone()),
                sync_id: Some(0),
                maxlen: None,
                port: 8848,
                ttl: None,
                group: None,
            })
    })
}

/// The script timeout keepalived uses when none is given: the interval.
pub fn script_timeout(s: &VrrpScript) -> Duration {
    if s.timeout.is_zero() {
        s.interval
    } else {
        s.timeout
    }
}

/// The IP family of an address as the engine names it.
pub fn family_of(a: IpAddr) -> Family {
    Family::of(a)
}

/// `auth_hmac { }` to the engine's configuration (keys already checked by the parser).
fn hmac_config(h: &ka_proto::config::vrrp::AuthHmac) -> vrrp::hmac_auth::HmacConfig {
    use ka_proto::config::vrrp::{HmacAntiReplay, HmacMode};
    use vrrp::hmac_auth as ha;
    ha::HmacConfig {
        keys: h
            .keys
            .iter()
            .map(|k| ha::HmacKey {
                id: k.id,
                key: k.key.clone(),
            })
            .collect(),
        active_key: h.active_key,
        anti_replay: match h.anti_replay {
            HmacAntiReplay::Time => ha::AntiReplay::Time,
            HmacAntiReplay::Monotonic => ha::AntiReplay::Monotonic,
        },
        time_window: h.time_window,
        mode: match h.mode {
            HmacMode::Enforce => ha::HmacMode::Enforce,
            HmacMode::Permissive => ha::HmacMode::Permissive,
            HmacMode::ReceiveOnly => ha::HmacMode::ReceiveOnly,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
