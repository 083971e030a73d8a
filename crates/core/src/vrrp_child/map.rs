//! From the parsed `keepalived.conf` model ([`ka_proto::config::Config`]) to what the VRRP
//! child runs: the engine's [`vrrp::EngineConfig`] plus what only the I/O side needs
//! (notify scripts, `use_vmac`, `vrrp_script` and `track_file` definitions).
//!
//! The engine treats a VIP's `extra` and the route/rule strings as opaque: they carry the
//! proto entry as JSON ([`encode_vip`], [`encode_route`], [`encode_rule`]) and the executor
//! decodes them back ([`decode_vip`], ...). Anything that fails to decode falls back to
//! the defaults, so a hand-built engine config still works.

use ka_proto::config::{
    AuthType, Config, Notify, ParamMatch, Route, Rule, TrackFile, TrackProcess, TrackRef,
    VirtualIpAddress, VrrpInstance, VrrpScript, VrrpSyncGroup,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;
use vrrp::process::ParamMode;
use vrrp::{
    AddressSet, Auth, EngineConfig, Family, GarpConfig, InitialState, InstanceConfig, ProcessSpec,
    ProcessTrackerConfig, SyncGroupConfig, TrackConfig, TrackKind, UnicastPeer, Version, Vip,
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

/// Encode a `virtual_ipaddress` entry for [`Vip::extra`].
pub fn encode_vip(v: &VirtualIpAddress) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Decode [`Vip::extra`]; a VIP made by hand (empty or foreign `extra`) gets the defaults.
pub fn decode_vip(v: &Vip) -> VirtualIpAddress {
    match serde_json::from_str::<VirtualIpAddress>(&v.extra) {
        Ok(d) if d.prefix.addr == v.addr => d,
        _ => plain_vip(v.addr, v.prefix_len, v.dev.clone()),
    }
}

/// What [`decode_vip`] makes of a VIP with an empty `extra`.
fn plain_vip(addr: IpAddr, len: u8, dev: Option<String>) -> VirtualIpAddress {
    let mut d = VirtualIpAddress::new(ka_proto::config::IpPrefix { addr, len });
    d.dev = dev;
    d
}

/// Encode a `virtual_routes` entry.
pub fn encode_route(r: &Route) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// Decode a route string made by [`encode_route`].
pub fn decode_route(s: &str) -> Option<Route> {
    serde_json::from_str(s).ok()
}

/// Encode a `virtual_rules` entry.
pub fn encode_rule(r: &Rule) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// Decode a rule string made by [`encode_rule`].
pub fn decode_rule(s: &str) -> Option<Rule> {
    serde_json::from_str(s).ok()
}

fn vip_of(v: &VirtualIpAddress, vmac: Option<&str>) -> Vip {
    let dev = v
        .dev
        .clone()
        .or_else(|| v.use_vmac.then(|| vmac.map(str::to_string)).flatten());
    let mut enc = v.clone();
    enc.dev = dev.clone();
    // Most VIPs are an address, a prefix and at most a `dev`: their `extra` stays empty
    // (decoded back to the same entry) instead of ~300 bytes of JSON each.
    let plain = enc == plain_vip(v.prefix.addr, v.prefix.len, dev.clone());
    Vip {
        addr: v.prefix.addr,
        prefix_len: v.prefix.len,
        dev,
        extra: if plain {
            String::new()
        } else {
            encode_vip(&enc)
        },
    }
}

/// Parse `00:00:5e:00:01:33`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut n = 0;
    for (i, part) in s.split(':').enumerate() {
        *out.get_mut(i)? = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    (n == 6).then_some(out)
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
    let mut out = Vec::new();
    for t in ifaces {
        out.push(TrackConfig {
            kind: TrackKind::Interface,
            name: t.name.clone(),
            weight: if force_zero_weight {
                0
            } else {
                t.weight.unwrap_or(0)
            },
            reverse: t.reverse.unwrap_or(false),
        });
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
        out.push(TrackConfig {
            kind: TrackKind::Script,
            name: t.name.clone(),
            weight: if force_zero_weight {
                0
            } else {
                t.weight.unwrap_or(s.weight)
            },
            reverse: t.reverse.unwrap_or(s.weight_reverse),
        });
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
        out.push(TrackConfig {
            kind: TrackKind::File,
            name: t.name.clone(),
            weight: if force_zero_weight {
                0
            } else {
                t.weight.unwrap_or(f.weight)
            },
            reverse: t.reverse.unwrap_or(f.weight_reverse),
        });
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
        out.push(TrackConfig {
            kind: TrackKind::Process,
            name: t.name.clone(),
            weight: if force_zero_weight {
                0
            } else {
                t.weight.unwrap_or(p.weight)
            },
            reverse: t.reverse.unwrap_or(p.weight_reverse),
        });
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
        mac: v.mac.as_deref().and_then(parse_mac),
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
    c.addresses = AddressSet {
        vips: if vi.no_virtual_ipaddress {
            Vec::new()
        } else {
            vip_list(&vi.virtual_ipaddress)
        },
        excluded: vip_list(&vi.virtual_ipaddress_excluded),
        routes: vi.virtual_routes.iter().map(encode_route).collect(),
        rules: vi.virtual_rules.iter().map(encode_rule).collect(),
    };
    c.preempt = !vi.nopreempt;
    c.preempt_delay = vi.preempt_delay;
    c.accept = vi.accept.unwrap_or(!vi.strict_mode || vi.is_owner());
    c.auth = match &vi.authentication {
        Some(a) if a.auth_type == AuthType::Pass && c.version == Version::V2 => {
            Auth::pass(&a.auth_pass)
        }
        Some(a) if a.auth_type == AuthType::Ah => {
            plan.warnings.push(format!(
                "({}) auth_type AH is not supported - using no authentication",
                vi.name
            ));
            Auth::None
        }
        _ => Auth::None,
    };
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
    };
    c.down_timer_adverts = vi.down_timer_adverts;
    c.lower_prio_no_advert = vi.lower_prio_no_advert;
    c.higher_prio_send_advert = vi.higher_prio_send_advert;
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
    let mut plan = Plan {
        statics: AddressSet {
            vips: cfg
                .static_ipaddress
                .iter()
                .map(|v| vip_of(v, None))
                .collect(),
            excluded: Vec::new(),
            routes: cfg.static_routes.iter().map(encode_route).collect(),
            rules: cfg.static_rules.iter().map(encode_rule).collect(),
        },
        ..Plan::default()
    };
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
    plan
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ka_proto::config::{Authentication, IpPrefix, VrrpSyncGroup};

    fn inst(name: &str, vip: &str) -> VrrpInstance {
        let mut v = VrrpInstance {
            name: name.into(),
            interface: Some("eth0".into()),
            virtual_router_id: 51,
            priority: 150,
            ..VrrpInstance::default()
        };
        let mut a = VirtualIpAddress::new(IpPrefix::parse(vip).unwrap());
        a.label = Some("eth0:1".into());
        v.virtual_ipaddress.push(a);
        v
    }

    #[test]
    fn maps_the_seed_instance() {
        let mut cfg = Config::default();
        let mut vi = inst("VI_1", "10.0.0.100/24");
        vi.authentication = Some(Authentication {
            auth_type: AuthType::Pass,
            auth_pass: "1111".into(),
        });
        vi.nopreempt = true;
        cfg.vrrp_instances.push(vi);
        let p = plan(&cfg);
        let c = &p.engine.instances[0];
        assert_eq!(c.name, "VI_1");
        assert_eq!(c.interface, "eth0");
        assert_eq!(c.vrid, 51);
        assert_eq!(c.priority, 150);
        assert!(!c.preempt);
        assert_eq!(c.auth, Auth::pass("1111"));
        assert_eq!(c.version, Version::V2);
        assert_eq!(c.mcast_dst, None);
        assert_eq!(c.addresses.vips.len(), 1);
        let d = decode_vip(&c.addresses.vips[0]);
        assert_eq!(d.prefix.len, 24);
        assert_eq!(d.label.as_deref(), Some("eth0:1"));
        vrrp::Engine::new(p.engine.clone()).unwrap();
    }

    #[test]
    fn scripts_files_groups_and_vmac() {
        let mut cfg = Config::default();
        cfg.vrrp_scripts.push(VrrpScript {
            name: "chk".into(),
            weight: -60,
            ..VrrpScript::default()
        });
        let mut vi = inst("VI_1", "fe80::100");
        vi.ipv6 = true;
        vi.version = 3;
        vi.track_script.push(TrackRef {
            name: "chk".into(),
            ..TrackRef::default()
        });
        vi.track_script.push(TrackRef {
            name: "missing".into(),
            ..TrackRef::default()
        });
        vi.use_vmac = Some(ka_proto::config::Vmac::default());
        vi.sync_group = Some("G".into());
        cfg.vrrp_instances.push(vi);
        cfg.sync_groups.push(VrrpSyncGroup {
            name: "G".into(),
            group: vec!["VI_1".into(), "nope".into()],
            ..VrrpSyncGroup::default()
        });
        let p = plan(&cfg);
        let c = &p.engine.instances[0];
        assert_eq!(c.family, Family::V6);
        assert_eq!(c.version, Version::V3);
        assert_eq!(c.interface, "vrrp6.51");
        assert_eq!(c.addresses.vips[0].dev.as_deref(), Some("vrrp6.51"));
        assert!(c
            .track
            .iter()
            .any(|t| t.kind == TrackKind::Script && t.weight == -60));
        assert!(c
            .track
            .iter()
            .any(|t| t.kind == TrackKind::Interface && t.name == "eth0"));
        assert_eq!(p.scripts.len(), 1);
        assert_eq!(p.engine.sync_groups[0].members, vec!["VI_1".to_string()]);
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        vrrp::Engine::new(p.engine.clone()).unwrap();
    }

    #[test]
    fn routes_and_rules_round_trip() {
        let r = Route {
            to: IpPrefix::parse("192.0.2.0/24"),
            via: Some("10.0.0.254".parse().unwrap()),
            ..Route::default()
        };
        assert_eq!(decode_route(&encode_route(&r)), Some(r));
        let u = Rule {
            from: IpPrefix::parse("10.0.0.0/8"),
            action: ka_proto::config::RuleAction::Table(100),
            ..Rule::default()
        };
        assert_eq!(decode_rule(&encode_rule(&u)), Some(u));
        assert_eq!(decode_route("garbage"), None);
        assert_eq!(
            parse_mac("00:00:5e:00:01:33"),
            Some([0, 0, 0x5e, 0, 1, 0x33])
        );
        assert_eq!(parse_mac("00:00"), None);
        assert_eq!(parse_mac("zz:00:5e:00:01:33"), None);
    }

    #[test]
    fn hand_made_vip_decodes_to_defaults() {
        let v = Vip::host("192.0.2.1".parse().unwrap());
        let d = decode_vip(&v);
        assert_eq!(d.prefix.len, 32);
        assert!(d.label.is_none());
    }

    #[test]
    fn plain_vips_and_instances_carry_no_extra_and_decode_the_same() {
        let mut cfg = Config::default();
        // A plain instance: a /32 VIP, no notify, no VMAC, no group.
        let mut plain = inst("VI_1", "10.0.0.1/32");
        plain.virtual_ipaddress[0].label = None;
        let mut dev = VirtualIpAddress::new(IpPrefix::parse("10.0.0.2/24").unwrap());
        dev.dev = Some("eth1".into());
        plain.virtual_ipaddress.push(dev);
        cfg.vrrp_instances.push(plain.clone());
        // The same with a notify script, a labelled VIP and a non-default scope.
        let mut rich = inst("VI_2", "10.0.0.3/32");
        rich.virtual_router_id = 52;
        rich.notify.master = Some(ka_proto::config::Script::default());
        let mut scoped = VirtualIpAddress::new(IpPrefix::parse("10.0.0.4/32").unwrap());
        scoped.scope = ka_proto::config::addr::Scope::Link;
        rich.virtual_ipaddress.push(scoped);
        cfg.vrrp_instances.push(rich.clone());
        let p = plan(&cfg);
        assert!(
            !p.extra.contains_key("VI_1"),
            "a plain instance has no extra entry"
        );
        assert!(p.extra.contains_key("VI_2"));
        let vips = |i: usize| p.engine.instances[i].addresses.vips.clone();
        assert!(vips(0).iter().all(|v| v.extra.is_empty()), "{:?}", vips(0));
        assert!(vips(1).iter().all(|v| !v.extra.is_empty()), "{:?}", vips(1));
        // Every VIP decodes back to the configured entry, empty extra or not.
        for (i, vi) in [(0, &plain), (1, &rich)] {
            let back: Vec<_> = vips(i).iter().map(decode_vip).collect();
            assert_eq!(back, vi.virtual_ipaddress);
        }
    }

    /// `n` instances, each tracking its own `vrrp_script`, in sync groups of two.
    fn big_config(n: usize) -> Config {
        let mut cfg = Config::default();
        for i in 0..n {
            let mut vi = inst(&format!("VI_{i}"), "10.0.0.100/24");
            vi.interface = Some(format!("eth{}", i / 250));
            vi.virtual_router_id = u8::try_from(i % 250 + 1).unwrap();
            vi.sync_group = Some(format!("G{}", i / 2));
            vi.track_script.push(TrackRef {
                name: format!("chk{i}"),
                ..TrackRef::default()
            });
            cfg.vrrp_instances.push(vi);
            cfg.vrrp_scripts.push(VrrpScript {
                name: format!("chk{i}"),
                weight: -10,
                ..VrrpScript::default()
            });
        }
        for g in 0..n / 2 {
            cfg.sync_groups.push(VrrpSyncGroup {
                name: format!("G{g}"),
                group: vec![format!("VI_{}", 2 * g), format!("VI_{}", 2 * g + 1)],
                ..VrrpSyncGroup::default()
            });
        }
        cfg
    }

    /// Issue 16: planning (at start-up and at every reload) looks scripts, sync groups and
    /// group members up by name in maps: the lookups grow linearly with the configuration
    /// (1,000 -> 10,000 instances: about 10x, not 100x), a few per instance. Operations are
    /// counted, not time.
    #[test]
    fn plan_lookups_are_linear_in_the_instance_count() {
        let small = plan(&big_config(1_000));
        let large = plan(&big_config(10_000));
        let (a, b) = (small.lookups, large.lookups);
        eprintln!("plan lookups: {a} at 1,000, {b} at 10,000 instances");
        assert!(a > 0);
        assert!(
            b <= a * 15,
            "lookups grew from {a} to {b} for 10x the instances"
        );
        assert!(b <= 10 * 10_000, "{b} lookups for 10,000 instances");
        // Same result as before: every script planned once, every group with its members,
        // each instance tracking its script with the script's weight.
        assert_eq!(large.scripts.len(), 10_000);
        assert_eq!(large.engine.sync_groups.len(), 5_000);
        assert!(large
            .engine
            .sync_groups
            .iter()
            .all(|g| g.members.len() == 2));
        assert!(large.warnings.is_empty(), "{:?}", large.warnings.first());
        let c = &large.engine.instances[9_999];
        assert_eq!(
            c.track
                .iter()
                .filter(|t| t.kind == TrackKind::Script)
                .map(|t| (t.name.as_str(), t.weight))
                .collect::<Vec<_>>(),
            [("chk9999", -10)]
        );
        vrrp::Engine::new(large.engine.clone()).unwrap();
    }
}
