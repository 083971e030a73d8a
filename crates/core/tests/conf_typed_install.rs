//! What the VRRP child installs is typed when the configuration is read: in
//! `virtual_rules` and `virtual_routes` the routing table (a number or an
//! `/etc/iproute2/rt_tables` name), the fwmark, the rule's action, the route's type and
//! family; the `use_vmac` MAC. What cannot be installed is rejected by `-t` (a warning,
//! exit 5), not found during a failover. Each form carries keepalived 2.2.7's `-t` exit code, observed
//! with `/usr/sbin/keepalived -t -f FILE` in a namespace holding eth0; `differential.rs`
//! compares the same lines live against keepalived.

use ka_proto::config::{Fwmark, Route, RouteType, Rule, RuleAction};
use keepalived_rs::conf::{load_with, Failed, LoadOptions, Loaded};

/// Load `text` as a keepalived.conf (written to a fresh directory, removed afterwards).
fn load_text(text: &str) -> Result<Loaded, Failed> {
    let d = ka_tests::TempDir::new("ka-conf-typed");
    let p = d.path().join("keepalived.conf");
    std::fs::write(&p, text).expect("write");
    let o = LoadOptions {
        config_id: "n".into(),
        instance: None,
    };
    load_with(&p, &o, false, false)
}

/// Load one instance with `block { line }`: the warnings, and the instance's routes and
/// rules.
fn load(block: &str, line: &str) -> (Vec<String>, Vec<Route>, Vec<Rule>) {
    let text = format!(
        "vrrp_instance VI {{\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {{\n10.0.0.1\n}}\n{block} {{\n{line}\n}}\n}}\n"
    );
    match load_text(&text) {
        Ok(l) => {
            let vi = l.config.vrrp_instances.first().cloned().unwrap_or_default();
            (
                l.diagnostics.iter().map(|d| d.message.clone()).collect(),
                vi.virtual_routes,
                vi.virtual_rules,
            )
        }
        Err(f) => (
            f.diagnostics.iter().map(|d| d.message.clone()).collect(),
            Vec::new(),
            Vec::new(),
        ),
    }
}

fn rule(line: &str) -> Rule {
    let (warnings, _, rules) = load("virtual_rules", line);
    assert!(warnings.is_empty(), "{line}: {warnings:?}");
    assert_eq!(rules.len(), 1, "{line}");
    rules[0].clone()
}

fn route(line: &str) -> Route {
    let (warnings, routes, _) = load("virtual_routes", line);
    assert!(warnings.is_empty(), "{line}: {warnings:?}");
    assert_eq!(routes.len(), 1, "{line}");
    routes[0].clone()
}

/// A rejected line: keepalived's message among the warnings and the line dropped.
fn rejected(block: &str, line: &str, message: &str) {
    let (warnings, routes, rules) = load(block, line);
    assert!(
        warnings.iter().any(|w| w == message),
        "{line}: expected {message:?}, got {warnings:?}"
    );
    assert!(routes.is_empty() && rules.is_empty(), "{line} was kept");
}

#[test]
fn rule_tables_are_numbers_or_rt_tables_names() {
    // keepalived -t: exit 0 for each.
    for (table, id) in [
        ("100", 100),
        ("0x10", 16),
        ("010", 8),
        ("main", 254),
        ("local", 255),
        ("default", 253),
        ("-1", u32::MAX),
        ("4294967297", 1),
    ] {
        let r = rule(&format!("from 10.0.0.0/8 table {table} priority 10"));
        assert_eq!(r.action, RuleAction::Table(id), "table {table}");
    }
    assert_eq!(
        rule("from 10.0.0.0/8 lookup main priority 10").action,
        RuleAction::Table(254)
    );
}

#[test]
fn bad_rule_tables_are_rejected() {
    // keepalived -t: exit 5 for each, with these messages.
    for t in ["foo", "MAIN", "12abc", "08", "0x"] {
        rejected(
            "virtual_rules",
            &format!("from 10.0.0.0/8 table {t} priority 10"),
            &format!("Routing table {t} not found for rule"),
        );
    }
    for t in ["0", "00", "4294967296", "unspec"] {
        rejected(
            "virtual_rules",
            &format!("from 10.0.0.0/8 table {t} priority 10"),
            "Table 0 is not valid",
        );
    }
}

#[test]
fn fwmarks_are_typed_and_bad_ones_rejected() {
    // keepalived -t: exit 0.
    for (text, mark, mask) in [
        ("7", 7, None),
        ("0", 0, None),
        ("010", 8, None),
        ("0x10/0xff", 16, Some(255)),
        ("7/", 7, None),
    ] {
        let r = rule(&format!("fwmark {text} table 100 priority 10"));
        assert_eq!(r.fwmark, Some(Fwmark { mark, mask }), "fwmark {text}");
    }
    // keepalived -t: exit 5, "Invalid rule fwmark X specified".
    for text in [
        "x",
        "7/x",
        "-1",
        "4294967296",
        "08",
        "0x",
        "7//1",
        "7/0xffffffff1",
    ] {
        rejected(
            "virtual_rules",
            &format!("fwmark {text} table 100 priority 10"),
            &format!("Invalid rule fwmark {text} specified"),
        );
    }
}

#[test]
fn a_rule_has_exactly_one_valid_action() {
    // keepalived -t: exit 0.
    for (word, action) in [
        ("blackhole", RuleAction::Blackhole),
        ("unreachable", RuleAction::Unreachable),
        ("prohibit", RuleAction::Prohibit),
        ("nop", RuleAction::Nop),
        ("l3mdev", RuleAction::L3mdev),
        ("goto 50", RuleAction::Goto(50)),
    ] {
        let r = rule(&format!("from 10.0.0.0/8 {word} priority 10"));
        assert_eq!(r.action, action, "{word}");
    }
    // keepalived -t: exit 5 for each, with these messages.
    rejected(
        "virtual_rules",
        "from 10.0.0.0/8 priority 10",
        "No action specified for rule - ignoring",
    );
    for line in [
        "from 10.0.0.0/8 table 1 table 2 priority 10",
        "from 10.0.0.0/8 table 5 blackhole priority 10",
        "from 10.0.0.0/8 nop blackhole priority 10",
    ] {
        rejected(
            "virtual_rules",
            line,
            "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule",
        );
    }
    rejected(
        "virtual_rules",
        "from 10.0.0.0/8 goto 5 priority 10",
        "Invalid rule - preference 10 >= goto target 5",
    );
    rejected(
        "virtual_rules",
        "from 10.0.0.0/8 goto 50",
        "Invalid rule - goto target 50 specified without preference",
    );
    rejected(
        "virtual_rules",
        "from 10.0.0.0/8 goto x priority 10",
        "Invalid target goto specified",
    );
}

#[test]
fn route_tables_and_types_are_typed() {
    // keepalived -t: exit 0 for each.
    for (table, id) in [
        ("100", Some(100)),
        ("main", Some(254)),
        ("local", Some(255)),
        ("-1", Some(u32::MAX)),
        // Table 0 (unspec) is the main table for a route.
        ("0", None),
        ("4294967296", None),
    ] {
        let r = route(&format!("10.1.0.0/16 dev eth0 table {table}"));
        assert_eq!(r.table, id, "table {table}");
    }
    for (word, t) in [
        ("broadcast", RouteType::Broadcast),
        ("anycast", RouteType::Anycast),
        ("multicast", RouteType::Multicast),
        ("nat", RouteType::Nat),
        ("blackhole", RouteType::Blackhole),
    ] {
        let dst = if t == RouteType::Multicast {
            "224.1.0.0/16"
        } else {
            "10.1.0.0/16"
        };
        assert_eq!(route(&format!("{word} {dst} dev eth0")).route_type, t);
    }
    assert!(route("10.1.0.0/16 dev eth0 onlink").onlink);
    // keepalived -t: exit 5, "Routing table X not found for route".
    for t in ["foo", "12abc", "08", "0x"] {
        rejected(
            "virtual_routes",
            &format!("10.1.0.0/16 dev eth0 table {t}"),
            &format!("Routing table {t} not found for route"),
        );
    }
}

#[test]
fn a_default_route_takes_the_family_of_its_gateway_and_families_do_not_mix() {
    // keepalived -t: exit 0 for both.
    let r = route("default via fe80::1 dev eth0");
    assert_eq!(
        r.to.map(|p| (p.addr, p.len)),
        Some(("::".parse().expect("lit"), 0))
    );
    let r = route("to default src 2001:db8::5 dev eth0");
    assert_eq!(r.to.map(|p| p.addr.is_ipv6()), Some(true));
    let r = route("default via 10.0.0.254 dev eth0");
    assert_eq!(
        r.to.map(|p| (p.addr, p.len)),
        Some(("0.0.0.0".parse().expect("lit"), 0))
    );
    // keepalived -t: exit 5.
    rejected(
        "virtual_routes",
        "10.0.0.0/8 via fe80::1 dev eth0",
        "Cannot mix IPv4 and IPv6 addresses for route",
    );
}

/// `use_vmac NAME MAC`: the MAC is typed when the configuration is read (it was text the
/// VRRP child parsed, silently falling back to the default MAC). keepalived 2.2.7's `-t`
/// verdicts beside each form.
#[test]
fn use_vmac_macs_are_typed_and_bad_ones_rejected() {
    let load_vmac = |mac: &str| {
        let text = format!("vrrp_instance VI {{\ninterface eth0\nvirtual_router_id 1\nuse_vmac vrrp.1 {mac}\nvirtual_ipaddress {{\n10.0.0.1\n}}\n}}\n");
        let l = load_text(&text).expect("loads");
        let warnings: Vec<String> = l.diagnostics.iter().map(|d| d.message.clone()).collect();
        let vmac = l.config.vrrp_instances[0].use_vmac.clone().expect("vmac");
        (warnings, vmac.mac)
    };
    // exit 0
    for mac in ["02:00:5e:00:01:01", "2:0:5e:0:1:1", "02:00:5e:00:01"] {
        let (w, m) = load_vmac(mac);
        assert!(w.is_empty(), "{mac}: {w:?}");
        assert_eq!(m.map(|m| m.bytes[0]), Some(2), "{mac}");
    }
    // exit 5
    let (w, m) = load_vmac("zz:00:5e:00:01:01");
    assert_eq!(w, ["VMAC invalid MAC address zz:00:5e:00:01:01"]);
    assert_eq!(m, None);
    let (w, m) = load_vmac("01:00:5e:00:01:01");
    assert_eq!(
        w,
        ["VMAC MAC address is multicast 01:00:5e:00:01:01 - ignoring"]
    );
    assert_eq!(m, None);
}

/// `brd +` / `brd -` on a VIP: the broadcast address is worked out when the
/// configuration is read (it was dropped, so the VIP went in without one). keepalived
/// 2.2.7 installs `10.9.1.100/24 brd +` with `brd 10.9.1.255` and `brd -` with
/// `brd 10.9.1.0` (observed with `ip addr`).
#[test]
fn vip_broadcast_plus_and_minus_are_worked_out() {
    let text = "vrrp_instance VI {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\n10.9.1.100/24 brd +\n10.9.1.101/24 brd -\n10.9.1.102/22 brd +\n}\nvirtual_ipaddress_excluded {\n2001:db8::1/64 brd +\n}\n}\n";
    let l = load_text(text).expect("loads");
    let vi = &l.config.vrrp_instances[0];
    let brd: Vec<Option<std::net::IpAddr>> = vi
        .virtual_ipaddress
        .iter()
        .chain(&vi.virtual_ipaddress_excluded)
        .map(|v| v.broadcast)
        .collect();
    let a = |s: &str| Some(s.parse().expect("lit"));
    assert_eq!(brd, [a("10.9.1.255"), a("10.9.1.0"), a("10.9.3.255"), None]);
}

/// A rule's `iif` / `oif` that can never be an interface name (over 15 bytes) is
/// rejected at `-t` (the kernel refused it at takeover). keepalived 2.2.7's `-t`: exit 5,
/// "interface abcdefghijklmnopq for rule doesn't exist" (it also warns, as we do when
/// interfaces are checked, about a well-formed name that does not exist).
#[test]
fn rule_interface_names_must_fit() {
    let r = rule("iif eth0 oif eth1 table 100 priority 10");
    assert_eq!(
        (r.iif.as_deref(), r.oif.as_deref()),
        (Some("eth0"), Some("eth1"))
    );
    for kw in ["iif", "oif", "dev"] {
        rejected(
            "virtual_rules",
            &format!("{kw} abcdefghijklmnopq table 100 priority 10"),
            "interface abcdefghijklmnopq for rule doesn't exist",
        );
    }
}
