//! rtnetlink in a network namespace: addresses (with options), routes, rules, link lookups,
//! macvlans and the event monitor, each checked against what `ip` shows.
#![cfg(feature = "linux")]

#[path = "support/poll.rs"]
mod poll;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ka_tests::{require_root, Netns};
use poll::read_within_5s;
use vrrp::linux::netlink::{
    AddressSpec, Change, MacvlanMode, MacvlanSpec, Monitor, NetEvent, RouteKind, RouteSpec, Rtnl,
    RuleAction, RuleSpec, Scope,
};

/// A namespace with a veth pair `va` <-> `vb`, both up, `va` holding 10.9.9.1/24.
fn setup() -> (Netns, Rtnl, u32) {
    let ns = Netns::new("nl");
    ns.ip(["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(["link", "set", "va", "up"]);
    ns.ip(["link", "set", "vb", "up"]);
    ns.ip(["addr", "add", "10.9.9.1/24", "dev", "va"]);
    let mut rtnl = ns.run(|| Rtnl::open().expect("rtnl"));
    let ifindex = rtnl.ifindex("va").expect("ifindex of a");
    (ns, rtnl, ifindex)
}

fn ip_out(ns: &Netns, args: &[&str]) -> String {
    String::from_utf8_lossy(&ns.ip(args).stdout).to_string()
}

/// `ip ARGS` in `ns` must show `want`; its output, for more checks.
#[track_caller]
fn assert_ip_shows(ns: &Netns, args: &[&str], want: &str) -> String {
    let shown = ip_out(ns, args);
    assert!(shown.contains(want), "{shown}");
    shown
}

#[test]
fn ipv4_address_with_options_is_idempotent() {
    if !require_root("ipv4_address_with_options_is_idempotent") {
        return;
    }
    let (ns, mut rtnl, a) = setup();
    let vip: IpAddr = "10.9.9.100".parse().expect("lit");
    let mut spec = AddressSpec::new(a, vip);
    spec.prefix_len = 24;
    spec.broadcast = Some("10.9.9.255".parse().expect("lit"));
    spec.label = Some("va:vip".into());
    assert_eq!(rtnl.add_address(&spec).expect("add"), Change::Done);
    assert_ip_shows(
        &ns,
        &["-4", "addr", "show", "dev", "va"],
        "inet 10.9.9.100/24 brd 10.9.9.255 scope global secondary va:vip",
    );
    assert!(ns.has_addr(vip));
    assert_eq!(rtnl.add_address(&spec).expect("re-add"), Change::Unchanged);
    let listed = rtnl.addresses(Some(a), Some(false)).expect("dump");
    assert!(listed.iter().any(|x| x.addr == vip && x.prefix_len == 24));
    assert_eq!(rtnl.del_address(&spec).expect("del"), Change::Done);
    assert!(!ns.has_addr(vip));
    assert_eq!(rtnl.del_address(&spec).expect("re-del"), Change::Unchanged);

    // Scope host, /32 default, batch add and delete.
    let mut s1 = AddressSpec::new(a, "10.9.9.101".parse().expect("lit"));
    s1.scope = Scope::Host;
    let s2 = AddressSpec::new(a, "10.9.9.102".parse().expect("lit"));
    let r = rtnl.add_addresses(&[s1.clone(), s2.clone(), s1.clone()]);
    assert!(matches!(
        r.as_slice(),
        [Ok(Change::Done), Ok(Change::Done), Ok(Change::Unchanged)]
    ));
    let shown = assert_ip_shows(
        &ns,
        &["-4", "addr", "show", "dev", "va"],
        "inet 10.9.9.101/32 scope host va",
    );
    assert!(
        shown.contains("inet 10.9.9.102/32 scope global va"),
        "{shown}"
    );
    let r = rtnl.del_addresses(&[s1, s2]);
    assert!(r.iter().all(|x| matches!(x, Ok(Change::Done))));

    // A bad interface is a kernel error with a useful message.
    let ghost = AddressSpec::new(9999, "10.9.9.103".parse().expect("lit"));
    let e = rtnl.add_address(&ghost).expect_err("no such interface");
    assert_eq!(e.errno(), Some(libc::ENODEV), "{e}");
    assert!(e.to_string().contains("10.9.9.103"), "{e}");
}

#[test]
fn ipv6_address_nodad_noprefixroute() {
    if !require_root("ipv6_address_nodad_noprefixroute") {
        return;
    }
    let (ns, mut rtnl, a) = setup();
    let vip: IpAddr = "2001:db8:9::100".parse().expect("lit");
    let mut spec = AddressSpec::new(a, vip);
    spec.prefix_len = 64;
    spec.nodad = true;
    spec.noprefixroute = true;
    assert_eq!(rtnl.add_address(&spec).expect("add"), Change::Done);
    assert_ip_shows(
        &ns,
        &["-6", "addr", "show", "dev", "va"],
        "inet6 2001:db8:9::100/64 scope global nodad noprefixroute",
    );
    // No DAD: usable at once.
    assert!(ns.has_addr(vip));
    let routes = ip_out(&ns, &["-6", "route", "show", "dev", "va"]);
    assert!(
        !routes.contains("2001:db8:9::/64"),
        "noprefixroute: {routes}"
    );
    assert_eq!(rtnl.add_address(&spec).expect("re-add"), Change::Unchanged);
    assert_eq!(rtnl.del_address(&spec).expect("del"), Change::Done);
    assert_eq!(rtnl.del_address(&spec).expect("re-del"), Change::Unchanged);
    assert!(!ip_out(&ns, &["-6", "addr"]).contains("2001:db8:9::100"));
}

#[test]
fn routes_and_rules() {
    if !require_root("routes_and_rules") {
        return;
    }
    let (ns, mut rtnl, a) = setup();
    let mut r = RouteSpec::new("10.50.0.0".parse().expect("lit"), 16);
    r.gateway = Some("10.9.9.254".parse().expect("lit"));
    r.oif = Some(a);
    r.table = 100;
    r.metric = Some(5);
    r.src = Some("10.9.9.1".parse().expect("lit"));
    assert_eq!(rtnl.add_route(&r).expect("add route"), Change::Done);
    assert_eq!(rtnl.add_route(&r).expect("re-add"), Change::Unchanged);
    assert_ip_shows(
        &ns,
        &["route", "show", "table", "100"],
        "10.50.0.0/16 via 10.9.9.254 dev va proto keepalived src 10.9.9.1 metric 5",
    );
    let mut bh = RouteSpec::new("10.60.0.0".parse().expect("lit"), 16);
    bh.kind = RouteKind::Blackhole;
    assert_eq!(rtnl.add_route(&bh).expect("blackhole"), Change::Done);
    let mut direct = RouteSpec::new("10.70.0.0".parse().expect("lit"), 24);
    direct.oif = Some(a);
    assert_eq!(rtnl.add_route(&direct).expect("direct"), Change::Done);
    let main = assert_ip_shows(
        &ns,
        &["route", "show"],
        "blackhole 10.60.0.0/16 proto keepalived",
    );
    assert!(
        main.contains("10.70.0.0/24 dev va proto keepalived scope link"),
        "{main}"
    );
    let mut r6 = RouteSpec::new("2001:db8:77::".parse().expect("lit"), 48);
    r6.kind = RouteKind::Unreachable;
    assert_eq!(rtnl.add_route(&r6).expect("v6"), Change::Done);
    assert!(ip_out(&ns, &["-6", "route"]).contains("unreachable 2001:db8:77::/48"));
    for spec in [&r, &bh, &direct, &r6] {
        assert_eq!(
            rtnl.del_route(spec).expect("del route"),
            Change::Done,
            "{spec}"
        );
        assert_eq!(
            rtnl.del_route(spec).expect("re-del route"),
            Change::Unchanged,
            "{spec}"
        );
    }
    assert!(!ip_out(&ns, &["route", "show", "table", "100"]).contains("10.50.0.0"));

    let mut rule = RuleSpec::to_table(false, 100);
    rule.rule.from = Some(("10.9.9.0".parse().expect("lit"), 24));
    rule.rule.priority = Some(1000);
    let mut mark = RuleSpec::to_table(false, 200);
    mark.rule.fwmark = Some((7, Some(0xff)));
    mark.rule.priority = Some(1001);
    mark.rule.iif = Some("va".into());
    let mut bh_rule = RuleSpec::to_table(true, 0);
    bh_rule.rule.action = RuleAction::Blackhole;
    bh_rule.rule.to = Some(("2001:db8:66::".parse().expect("lit"), 48));
    bh_rule.rule.priority = Some(1002);
    for spec in [&rule, &mark] {
        assert_eq!(
            rtnl.add_rule(spec).expect("add rule"),
            Change::Done,
            "{spec}"
        );
        assert_eq!(
            rtnl.add_rule(spec).expect("re-add rule"),
            Change::Unchanged,
            "{spec}"
        );
    }
    assert_eq!(rtnl.add_rule(&bh_rule).expect("v6 rule"), Change::Done);
    let rules = assert_ip_shows(
        &ns,
        &["rule", "show"],
        "1000:\tfrom 10.9.9.0/24 lookup 100 proto keepalived",
    );
    assert!(
        rules.contains("1001:\tfrom all fwmark 0x7/0xff iif va lookup 200 proto keepalived"),
        "{rules}"
    );
    assert_ip_shows(
        &ns,
        &["-6", "rule", "show"],
        "1002:\tfrom all to 2001:db8:66::/48 blackhole",
    );
    for spec in [&rule, &mark, &bh_rule] {
        assert_eq!(
            rtnl.del_rule(spec).expect("del rule"),
            Change::Done,
            "{spec}"
        );
        assert_eq!(
            rtnl.del_rule(spec).expect("re-del rule"),
            Change::Unchanged,
            "{spec}"
        );
    }
    assert!(!ip_out(&ns, &["rule", "show"]).contains("lookup 100"));
}

#[test]
fn links_are_looked_up() {
    if !require_root("links_are_looked_up") {
        return;
    }
    let (ns, mut rtnl, a) = setup();
    ns.ip(["link", "set", "va", "address", "02:11:22:33:44:55"]);
    let l = rtnl.link_by_name("va").expect("dump").expect("a exists");
    assert_eq!(l.ifindex, a);
    assert_eq!(l.mac6(), Some([2, 0x11, 0x22, 0x33, 0x44, 0x55]));
    assert!(l.is_up());
    assert_eq!(l.kind.as_deref(), Some("veth"));
    assert_eq!(
        rtnl.link_by_index(a).expect("dump").map(|l| l.name),
        Some("va".into())
    );
    assert!(rtnl.link_by_name("nope").expect("dump").is_none());
    assert!(rtnl.ifindex("nope").is_err());
    let addrs = rtnl.addresses(Some(a), None).expect("addresses");
    assert!(addrs
        .iter()
        .any(|x| x.addr == "10.9.9.1".parse::<IpAddr>().expect("lit")));

    // A macvlan like use_vmac's: created, up, deleted; idempotent both ways.
    let spec = MacvlanSpec {
        name: "vrrp.51".into(),
        base: a,
        mac: [0, 0, 0x5e, 0, 1, 51],
        mode: MacvlanMode::Private,
    };
    assert_eq!(rtnl.add_macvlan(&spec).expect("macvlan"), Change::Done);
    assert_eq!(rtnl.add_macvlan(&spec).expect("again"), Change::Unchanged);
    let v = rtnl
        .link_by_name("vrrp.51")
        .expect("dump")
        .expect("created");
    assert_eq!(v.mac6(), Some(spec.mac));
    assert_eq!(v.kind.as_deref(), Some("macvlan"));
    assert_eq!(v.parent, Some(a));
    rtnl.set_link_up(v.ifindex, true).expect("up");
    let shown = assert_ip_shows(
        &ns,
        &["-d", "link", "show", "vrrp.51"],
        "macvlan mode private",
    );
    assert!(
        shown.contains("state UP") || shown.contains(",UP"),
        "{shown}"
    );
    assert_eq!(rtnl.del_link(v.ifindex).expect("del"), Change::Done);
    assert_eq!(rtnl.del_link(v.ifindex).expect("re-del"), Change::Unchanged);
}

/// Read `mon` (5 s at most) until an event matching `pred` comes; fails naming `what` and
/// listing the events seen. (Event-driven: not a polling `ka_tests::wait_for`.)
fn expect_event(mon: &mut Monitor, what: &str, mut pred: impl FnMut(&NetEvent) -> bool) {
    let mut seen = Vec::new();
    let found = read_within_5s(mon, |mon| {
        let mut out = Vec::new();
        mon.read_events(&mut out).expect("read events");
        if out.iter().any(&mut pred) {
            return Some(());
        }
        seen.extend(out);
        None
    });
    assert!(found.is_some(), "no {what} event; saw {seen:#?}");
}

#[test]
fn monitor_sees_link_and_address_events() {
    if !require_root("monitor_sees_link_and_address_events") {
        return;
    }
    let (ns, mut rtnl, a) = setup();
    let mut mon = ns.run(|| Monitor::open(Some(1 << 20)).expect("monitor"));
    // Carrier loss on `va` when its peer goes down.
    ns.ip(["link", "set", "vb", "down"]);
    expect_event(
        &mut mon,
        "link a down",
        |e| matches!(e, NetEvent::Link(l) if l.ifindex == a && l.admin_up && !l.running),
    );
    ns.ip(["link", "set", "vb", "up"]);
    expect_event(
        &mut mon,
        "link a up",
        |e| matches!(e, NetEvent::Link(l) if l.ifindex == a && l.is_up()),
    );
    let vip: IpAddr = "10.9.9.77".parse().expect("lit");
    rtnl.add_address(&AddressSpec::new(a, vip)).expect("add");
    expect_event(
        &mut mon,
        "address added",
        |e| matches!(e, NetEvent::AddressAdded(x) if x.addr == vip && x.ifindex == a),
    );
    ns.ip(["addr", "del", "10.9.9.77/32", "dev", "va"]);
    expect_event(
        &mut mon,
        "address removed",
        |e| matches!(e, NetEvent::AddressRemoved(x) if x.addr == vip),
    );
    ns.ip(["link", "del", "vb"]);
    expect_event(
        &mut mon,
        "link removed",
        |e| matches!(e, NetEvent::LinkRemoved { name, .. } if name == "vb" || name == "va"),
    );
}

/// `virtual_routes` / `virtual_rules` deleted by hand: once asked to, the monitor reports
/// the deletion of a route tagged `keepalived` (not of another) and of a rule, in the
/// forms the VRRP child matches against its own.
#[test]
fn monitor_sees_routes_and_rules_deleted_by_hand() {
    if !require_root("monitor_sees_routes_and_rules_deleted_by_hand") {
        return;
    }
    let (ns, mut rtnl, a) = setup();
    let mut mon = ns.run(|| Monitor::open(Some(1 << 20)).expect("monitor"));
    mon.watch_routes(true).expect("route groups");
    let mut ours = RouteSpec::new("10.77.1.0".parse().expect("lit"), 24);
    ours.oif = Some(a);
    ours.table = 100;
    rtnl.add_route(&ours).expect("add route");
    let mut rule = RuleSpec::to_table(false, 100);
    rule.rule.from = Some(("10.78.0.0".parse().expect("lit"), 16));
    rtnl.add_rule(&rule).expect("add rule");
    // A route of someone else's (proto boot): its deletion is not reported.
    ns.ip(["route", "add", "10.77.2.0/24", "dev", "va"]);
    ns.ip(["route", "del", "10.77.2.0/24"]);
    ns.ip(["route", "del", "10.77.1.0/24", "table", "100"]);
    let mut configured = vrrp::install::Route::new("10.77.1.0".parse().expect("lit"), 24);
    configured.table = Some(100);
    let mut seen = Vec::new();
    let found = read_within_5s(&mut mon, |m| {
        let mut out = Vec::new();
        m.read_events(&mut out).expect("read");
        seen.extend(out);
        seen.iter()
            .any(|e| matches!(e, NetEvent::RouteRemoved(k) if k.is(&configured)))
            .then_some(())
    });
    assert!(found.is_some(), "no route deletion; saw {seen:#?}");
    assert!(
        !seen.iter().any(|e| matches!(e, NetEvent::RouteRemoved(k)
            if k.dst == "10.77.2.0".parse::<IpAddr>().expect("lit"))),
        "{seen:#?}"
    );
    ns.ip(["rule", "del", "from", "10.78.0.0/16", "table", "100"]);
    expect_event(
        &mut mon,
        "rule deleted",
        |e| matches!(e, NetEvent::RuleRemoved(r) if vrrp::linux::netlink::same_rule(r, &rule.rule)),
    );
}

#[test]
fn many_addresses_in_one_pipelined_batch() {
    if !require_root("many_addresses_in_one_pipelined_batch") {
        return;
    }
    let (ns, mut rtnl, a) = setup();
    let specs: Vec<AddressSpec> = (0..500u32)
        .map(|i| {
            let ip = std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 99, 0, 0)) + i);
            AddressSpec::new(a, IpAddr::V4(ip))
        })
        .collect();
    let one = AddressSpec::new(a, "10.98.0.1".parse().expect("lit"));
    let t = Instant::now();
    rtnl.add_address(&one).expect("one");
    let single = t.elapsed();
    let t = Instant::now();
    let added = rtnl.add_addresses(&specs);
    let batch = t.elapsed();
    assert!(
        added.iter().all(|r| matches!(r, Ok(Change::Done))),
        "{:?}",
        added.iter().find(|r| r.is_err())
    );
    let shown = ip_out(&ns, &["-4", "addr", "show", "dev", "va"]);
    assert_eq!(shown.matches("inet 10.99.").count(), 500);
    let t = Instant::now();
    let again = rtnl.add_addresses(&specs);
    let unchanged = t.elapsed();
    assert!(again.iter().all(|r| matches!(r, Ok(Change::Unchanged))));
    let t = Instant::now();
    let deleted = rtnl.del_addresses(&specs);
    let del = t.elapsed();
    assert!(deleted.iter().all(|r| matches!(r, Ok(Change::Done))));
    assert!(!ip_out(&ns, &["-4", "addr"]).contains("inet 10.99."));
    eprintln!(
        "1 address: {single:?}; 500 addresses: add {batch:?}, re-add {unchanged:?}, delete {del:?}"
    );
    assert!(batch < Duration::from_secs(5), "500 adds took {batch:?}");
}

#[test]
fn keepalived_text_forms_are_applied() {
    if !require_root("keepalived_text_forms_are_applied") {
        return;
    }
    use vrrp::linux::netlink::{parse_route, parse_rule, VipOptions};
    let (ns, mut rtnl, a) = setup();
    let mut names = std::collections::HashMap::new();
    names.insert("va".to_string(), a);
    let mut resolve = |n: &str| names.get(n).copied();

    let o = VipOptions::parse("brd + dev va scope link label va:1").expect("vip options");
    let spec = o.to_spec(a, "10.8.8.50".parse().expect("lit"), 24);
    rtnl.add_address(&spec).expect("add");
    assert_ip_shows(
        &ns,
        &["-4", "addr", "show", "dev", "va"],
        "inet 10.8.8.50/24 brd 10.8.8.255 scope link va:1",
    );
    // The kernel's own explanation comes with a refusal: a secondary address must have
    // the primary's scope.
    let bad = o.to_spec(a, "10.9.9.50".parse().expect("lit"), 24);
    let e = rtnl.add_address(&bad).expect_err("scope of a secondary");
    assert!(e.to_string().contains("Invalid scope value"), "{e}");

    let lines = [
        (
            "src 10.9.9.1 to 10.77.0.0/16 via 10.9.9.254 dev va",
            "10.77.0.0/16 via 10.9.9.254 dev va proto keepalived src 10.9.9.1",
        ),
        (
            "blackhole 10.78.0.0/16",
            "blackhole 10.78.0.0/16 proto keepalived",
        ),
        (
            "10.79.0.0/24 dev va metric 9",
            "10.79.0.0/24 dev va proto keepalived scope link metric 9",
        ),
    ];
    for (line, want) in lines {
        let (r, _) = parse_route(line, &mut resolve, Some(a)).expect(line);
        rtnl.add_route(&r).expect(line);
        let shown = ip_out(&ns, &["route", "show"]);
        assert!(shown.contains(want), "{line} -> {shown}");
        rtnl.del_route(&r).expect(line);
        assert!(!ip_out(&ns, &["route", "show"]).contains(want));
    }
    let (r, _) =
        parse_route("default via 10.9.9.254 table 300", &mut resolve, Some(a)).expect("default");
    rtnl.add_route(&r).expect("default route");
    assert!(ip_out(&ns, &["route", "show", "table", "300"])
        .contains("default via 10.9.9.254 dev va proto keepalived"));

    let (mp, _) = parse_route(
        "10.90.0.0/16 via 10.9.9.253 or 10.9.9.254 dev va",
        &mut resolve,
        Some(a),
    )
    .expect("multipath");
    rtnl.add_route(&mp).expect("add multipath");
    let shown = assert_ip_shows(
        &ns,
        &["route", "show", "10.90.0.0/16"],
        "nexthop via 10.9.9.253 dev va weight 1",
    );
    assert!(
        shown.contains("nexthop via 10.9.9.254 dev va weight 1"),
        "{shown}"
    );
    assert_eq!(rtnl.del_route(&mp).expect("del multipath"), Change::Done);

    // keepalived prepends: a route of the admin's for the same destination stays, ours
    // goes first, and deleting ours leaves theirs.
    ns.ip([
        "route",
        "add",
        "10.91.0.0/16",
        "via",
        "10.9.9.254",
        "dev",
        "va",
    ]);
    let (ours, _) =
        parse_route("10.91.0.0/16 via 10.9.9.253 dev va", &mut resolve, Some(a)).expect("ours");
    assert_eq!(rtnl.add_route(&ours).expect("prepend"), Change::Done);
    assert_eq!(rtnl.add_route(&ours).expect("again"), Change::Unchanged);
    let shown = ip_out(&ns, &["route", "show", "10.91.0.0/16"]);
    let first = shown.lines().next().unwrap_or_default().to_string();
    assert!(first.contains("via 10.9.9.253"), "ours first: {shown}");
    assert!(shown.contains("via 10.9.9.254"), "theirs kept: {shown}");
    assert_eq!(rtnl.del_route(&ours).expect("del ours"), Change::Done);
    let shown = ip_out(&ns, &["route", "show", "10.91.0.0/16"]);
    assert!(
        shown.contains("via 10.9.9.254") && !shown.contains("10.9.9.253"),
        "{shown}"
    );
    let mut strict = ours.clone();
    strict.mode = vrrp::linux::netlink::RouteMode::Add;
    let e = rtnl
        .add_route(&strict)
        .expect_err("add with one already there");
    assert_eq!(e.errno(), Some(libc::EEXIST), "{e}");

    let (rule, _) = parse_rule("from 10.9.9.0/24 lookup 300 priority 2000", false).expect("rule");
    rtnl.add_rule(&rule).expect("add rule");
    assert!(ip_out(&ns, &["rule"]).contains("2000:\tfrom 10.9.9.0/24 lookup 300 proto keepalived"));
    rtnl.del_rule(&rule).expect("del rule");
    assert!(!ip_out(&ns, &["rule"]).contains("2000:"));
    let (sel, _) = parse_rule(
        "ipproto tcp dport 80-90 sport 1000 uidrange 100-200 lookup 300 pref 2001",
        false,
    )
    .expect("selectors");
    rtnl.add_rule(&sel).expect("add selector rule");
    assert_ip_shows(&ns, &["rule"], "2001:\tfrom all uidrange 100-200 ipproto tcp sport 1000 dport 80-90 lookup 300 proto keepalived");
    assert_eq!(rtnl.del_rule(&sel).expect("del"), Change::Done);
}

#[test]
fn monitor_reports_overruns() {
    if !require_root("monitor_reports_overruns") {
        return;
    }
    let (ns, mut rtnl, a) = setup();
    // The smallest receive buffer the kernel allows, then a burst of changes.
    let mut mon = ns.run(|| Monitor::open(Some(1)).expect("monitor"));
    let specs: Vec<AddressSpec> = (0..300u32)
        .map(|i| {
            let ip = std::net::Ipv4Addr::from(u32::from(std::net::Ipv4Addr::new(10, 97, 0, 0)) + i);
            AddressSpec::new(a, IpAddr::V4(ip))
        })
        .collect();
    assert!(rtnl
        .add_addresses(&specs)
        .iter()
        .all(|r| matches!(r, Ok(Change::Done))));
    let mut events = Vec::new();
    mon.read_events(&mut events).expect("read");
    assert!(
        events.contains(&NetEvent::Overrun),
        "{} events, no overrun",
        events.len()
    );
    // After an overrun the state is re-read with a dump: all 300 are there.
    let all = rtnl.addresses(Some(a), Some(false)).expect("dump");
    assert!(all.len() > 300);
}
