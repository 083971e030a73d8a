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
fn lvs_sync_daemon_follows_the_instance_it_names_as_keepalived_does() {
    let daemon = |instance: Option<&str>| LvsSyncDaemon {
        interface: "eth1".into(),
        instance: instance.map(str::to_string),
        sync_id: Some(9),
        maxlen: None,
        port: 8848,
        ttl: None,
        group: None,
    };
    let mut cfg = Config::default();
    cfg.vrrp_instances.push(inst("VI_1", "10.0.0.100/24"));
    // No lvs_sync_daemon: none.
    assert_eq!(plan(&cfg).lvs_sync, None);
    // An existing instance: driven as given.
    cfg.global.lvs_sync_daemon = Some(daemon(Some("VI_1")));
    assert_eq!(plan(&cfg).lvs_sync, Some(daemon(Some("VI_1"))));
    // Without `id`: the instance's VRID.
    let mut no_id = daemon(Some("VI_1"));
    no_id.sync_id = None;
    cfg.global.lvs_sync_daemon = Some(no_id);
    assert_eq!(plan(&cfg).lvs_sync.unwrap().sync_id, Some(51));
    // No instance named: keepalived starts nothing and says nothing.
    cfg.global.lvs_sync_daemon = Some(daemon(None));
    let p = plan(&cfg);
    assert_eq!((p.lvs_sync, p.warnings.len()), (None, 0));
    // A missing instance: keepalived's line, and nothing started.
    cfg.global.lvs_sync_daemon = Some(daemon(Some("VI_X")));
    let p = plan(&cfg);
    assert_eq!(p.lvs_sync, None);
    assert_eq!(
        p.warnings,
        ["Unable to find vrrp instance VI_X for lvs_syncd - clearing lvs_syncd config"]
    );
    // The deprecated per-instance keyword still drives it (sync id 0).
    cfg.global.lvs_sync_daemon = None;
    let mut vi = inst("VI_2", "10.0.0.101/24");
    vi.lvs_sync_daemon_interface = Some("eth2".into());
    cfg.vrrp_instances.push(vi);
    let d = plan(&cfg).lvs_sync.unwrap();
    assert_eq!(
        (d.interface.as_str(), d.instance.as_deref(), d.sync_id),
        ("eth2", Some("VI_2"), Some(0))
    );
}

#[test]
fn maps_auth_hmac() {
    use ka_proto::config::vrrp::{AuthHmac, HmacAntiReplay, HmacKey, HmacMode};
    let mut cfg = Config::default();
    let mut vi = inst("VI_1", "10.0.0.100/24");
    vi.auth_hmac = Some(AuthHmac {
        keys: vec![
            HmacKey {
                id: 1,
                key: vec![1; 32],
            },
            HmacKey {
                id: 2,
                key: vec![2; 64],
            },
        ],
        active_key: 2,
        anti_replay: HmacAntiReplay::Monotonic,
        time_window: Some(9),
        mode: HmacMode::ReceiveOnly,
    });
    cfg.vrrp_instances.push(vi);
    let p = plan(&cfg);
    let h = p.engine.instances[0].hmac.as_ref().unwrap();
    assert_eq!(h.validate(), Ok(()));
    assert_eq!(h.key(2), Some(&[2u8; 64][..]));
    assert_eq!(h.key(1), Some(&[1u8; 32][..]));
    assert_eq!(h.active_key, 2);
    assert_eq!(h.anti_replay, vrrp::hmac_auth::AntiReplay::Monotonic);
    assert_eq!(h.time_window, Some(9));
    assert_eq!(h.mode, vrrp::hmac_auth::HmacMode::ReceiveOnly);
    // Without the block: none.
    let mut cfg = Config::default();
    cfg.vrrp_instances.push(inst("VI_1", "10.0.0.100/24"));
    assert!(plan(&cfg).engine.instances[0].hmac.is_none());
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
    let v = &c.addresses.vips[0];
    assert_eq!(v.prefix_len, 24);
    let o = v.options.as_deref().unwrap();
    assert_eq!(o.label.as_deref(), Some("eth0:1"));
    vrrp::Engine::new(p.engine.clone()).unwrap();
}

#[test]
fn ah_maps_to_its_key_except_in_strict_mode() {
    let mut cfg = Config::default();
    let mut vi = inst("VI_1", "10.0.0.100/24");
    vi.authentication = Some(Authentication {
        auth_type: AuthType::Ah,
        auth_pass: "averylongpassword".into(),
    });
    cfg.vrrp_instances.push(vi.clone());
    let p = plan(&cfg);
    assert_eq!(p.engine.instances[0].auth, Auth::Ah(*b"averylon"));
    assert!(
        !p.warnings.iter().any(|w| w.contains("AH")),
        "{:?}",
        p.warnings
    );
    vrrp::Engine::new(p.engine.clone()).unwrap();
    // vrrp_strict: keepalived runs the instance without authentication.
    for t in [AuthType::Ah, AuthType::Pass] {
        let mut cfg = Config::default();
        let mut v = vi.clone();
        v.strict_mode = true;
        if let Some(a) = v.authentication.as_mut() {
            a.auth_type = t;
        }
        cfg.vrrp_instances.push(v);
        assert_eq!(plan(&cfg).engine.instances[0].auth, Auth::None, "{t:?}");
    }
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
fn routes_and_rules_are_typed_for_the_engine() {
    let r = Route {
        route_type: RouteType::Blackhole,
        to: IpPrefix::parse("192.0.2.0/24"),
        via: Some("10.0.0.254".parse().unwrap()),
        or_via: Some("10.0.0.253".parse().unwrap()),
        table: Some(100),
        onlink: true,
        ..Route::default()
    };
    let t = route_of(&r).unwrap();
    assert_eq!(t.kind, RouteKind::Blackhole);
    assert_eq!(t.dst, ("192.0.2.0".parse().unwrap(), 24));
    assert_eq!((t.via, t.or_via), (r.via, r.or_via));
    assert_eq!((t.table, t.onlink), (Some(100), true));
    assert_eq!(route_of(&Route::default()), None, "no destination");
    let u = Rule {
        from: IpPrefix::parse("2001:db8::/32"),
        action: CfgRuleAction::Table(100),
        fwmark: Some(ka_proto::config::Fwmark {
            mark: 16,
            mask: Some(255),
        }),
        ..Rule::default()
    };
    let t = rule_of(&u);
    assert!(t.v6);
    assert_eq!(t.action, RuleAction::Table(100));
    assert_eq!(t.fwmark, Some((16, Some(255))));
    assert_eq!(t.from, Some(("2001:db8::".parse().unwrap(), 32)));
    for (a, b) in [
        (CfgRuleAction::Goto(5), RuleAction::Goto(5)),
        (CfgRuleAction::Nop, RuleAction::Nop),
        (CfgRuleAction::Blackhole, RuleAction::Blackhole),
        (CfgRuleAction::Unreachable, RuleAction::Unreachable),
        (CfgRuleAction::Prohibit, RuleAction::Prohibit),
        (CfgRuleAction::L3mdev, RuleAction::L3mdev),
    ] {
        let u = Rule {
            action: a,
            ..Rule::default()
        };
        assert_eq!(rule_of(&u).action, b);
    }
}

/// `notify_priority_changes` as keepalived 2.4.3 resolves it: the instance's own
/// (`false` too), else its sync group's, else `vrrp_notify_priority_changes`.
#[test]
fn priority_change_notifications_resolve_instance_then_group_then_global() {
    let mut cfg = Config::default();
    cfg.global.vrrp_notify_priority_changes = true;
    let mut own_off = inst("VI_1", "10.0.0.1/32");
    own_off.notify.priority_changes = Some(false);
    let mut in_group = inst("VI_2", "10.0.0.2/32");
    in_group.virtual_router_id = 52;
    in_group.sync_group = Some("G".into());
    let mut own_on_in_group = inst("VI_3", "10.0.0.3/32");
    own_on_in_group.virtual_router_id = 53;
    own_on_in_group.sync_group = Some("G".into());
    own_on_in_group.notify.priority_changes = Some(true);
    let mut plain = inst("VI_4", "10.0.0.4/32");
    plain.virtual_router_id = 54;
    cfg.vrrp_instances = vec![own_off, in_group, own_on_in_group, plain];
    let mut g = VrrpSyncGroup {
        name: "G".into(),
        group: vec!["VI_2".into(), "VI_3".into()],
        ..Default::default()
    };
    g.notify.priority_changes = Some(false);
    cfg.sync_groups.push(g);
    let p = plan(&cfg);
    let of = |n: &str| p.extra.get(n).and_then(|e| e.notify.priority_changes);
    assert_eq!(of("VI_1"), Some(false));
    assert_eq!(of("VI_2"), Some(false), "the group's setting");
    assert_eq!(of("VI_3"), Some(true));
    assert_eq!(of("VI_4"), None);
    assert!(p.notify_priority_changes, "the global setting for VI_4");
    cfg.global.vrrp_notify_priority_changes = false;
    cfg.sync_groups[0].notify.priority_changes = None;
    let p = plan(&cfg);
    assert_eq!(
        p.extra.get("VI_2").and_then(|e| e.notify.priority_changes),
        Some(false)
    );
    assert!(!p.notify_priority_changes);
}

#[test]
fn plain_vips_carry_no_options_and_the_others_carry_them_typed() {
    let mut cfg = Config::default();
    // A plain instance: a /32 VIP, no notify, no VMAC, no group.
    let mut plain = inst("VI_1", "10.0.0.1/32");
    plain.virtual_ipaddress[0].label = None;
    let mut dev = VirtualIpAddress::new(IpPrefix::parse("10.0.0.2/24").unwrap());
    dev.dev = Some("eth1".into());
    plain.virtual_ipaddress.push(dev);
    cfg.vrrp_instances.push(plain.clone());
    // The same with a notify script, a labelled VIP and one with every option.
    let mut rich = inst("VI_2", "10.0.0.3/32");
    rich.virtual_router_id = 52;
    rich.notify.master = Some(ka_proto::config::Script::default());
    let mut full = VirtualIpAddress::new(IpPrefix::parse("10.0.0.4/24").unwrap());
    full.scope = ka_proto::config::addr::Scope::Link;
    full.broadcast = Some("10.0.0.255".parse().unwrap());
    full.peer = IpPrefix::parse("10.0.0.9/32");
    full.home = true;
    full.nodad = true;
    full.mngtmpaddr = true;
    full.noprefixroute = true;
    full.autojoin = true;
    full.preferred_lft = Some(0);
    rich.virtual_ipaddress.push(full);
    cfg.vrrp_instances.push(rich.clone());
    let p = plan(&cfg);
    assert!(
        !p.extra.contains_key("VI_1"),
        "a plain instance has no extra entry"
    );
    assert!(p.extra.contains_key("VI_2"));
    let vips = |i: usize| p.engine.instances[i].addresses.vips.clone();
    assert!(vips(0).iter().all(|v| v.options.is_none()), "{:?}", vips(0));
    assert_eq!(vips(0)[1].dev.as_deref(), Some("eth1"));
    let rich_vips = vips(1);
    assert_eq!(
        rich_vips[0]
            .options
            .as_deref()
            .and_then(|o| o.label.clone()),
        Some("eth0:1".to_string())
    );
    assert_eq!(
        rich_vips[1].options.as_deref(),
        Some(&AddrOptions {
            broadcast: Some("10.0.0.255".parse().unwrap()),
            scope: Scope::Link,
            label: None,
            peer: Some("10.0.0.9".parse().unwrap()),
            home: true,
            nodad: true,
            mngtmpaddr: true,
            noprefixroute: true,
            autojoin: true,
            preferred_lft: Some(0),
        })
    );
    assert_eq!(
        (rich_vips[1].addr, rich_vips[1].prefix_len),
        (rich.virtual_ipaddress[1].prefix.addr, 24)
    );
}

/// `n` instances, each tracking its own `vrrp_script`, in sync groups of two.
#[test]
fn an_ipv6_host_vip_is_deprecated_unless_preferred_lft_is_set_as_keepalived_does() {
    let mut cfg = Config::default();
    let mut v = inst("VI_6", "fd00::6/64");
    v.virtual_ipaddress
        .push(VirtualIpAddress::new(IpPrefix::parse("fd00::7").unwrap()));
    let mut forever = VirtualIpAddress::new(IpPrefix::parse("fd00::8").unwrap());
    forever.preferred_lft = Some(u32::MAX);
    v.virtual_ipaddress.push(forever);
    cfg.vrrp_instances.push(v);
    let p = plan(&cfg);
    let lft: Vec<Option<u32>> = p.engine.instances[0]
        .addresses
        .vips
        .iter()
        .map(|v| v.options.as_deref().and_then(|o| o.preferred_lft))
        .collect();
    assert_eq!(lft, [None, Some(0), Some(u32::MAX)]);
}

#[test]
fn strict_mode_answers_no_lower_priority_as_keepalived_does() {
    let mut cfg = Config::default();
    let mut v = inst("VI_S", "10.0.0.8/24");
    v.strict_mode = true;
    v.higher_prio_send_advert = true;
    cfg.vrrp_instances.push(v);
    cfg.vrrp_instances.push(inst("VI_N", "10.0.0.9/24"));
    let p = plan(&cfg);
    let (s, n) = (&p.engine.instances[0], &p.engine.instances[1]);
    assert_eq!(
        (
            s.garp.lower_prio_repeat,
            s.garp.lower_prio_delay,
            s.lower_prio_no_advert,
            s.higher_prio_send_advert
        ),
        (0, Duration::ZERO, true, false)
    );
    assert_eq!(
        (n.garp.lower_prio_repeat, n.lower_prio_no_advert),
        (5, false)
    );
}

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
