//! [`Input::AddressDeleted`]: a VIP deleted by hand from a MASTER. keepalived 2.4.3 (and
//! 2.2.7), observed in namespaces: the MASTER sends priority 0, removes its VIPs and enters
//! BACKUP, then after Skew_Time (nobody else speaking) is MASTER again with its VIPs back
//! and a GARP burst (tests/tests/vip_deleted.rs runs both daemons side by side).
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

#[path = "support/engine.rs"]
mod support_engine;

use std::time::Duration;

use support_engine::{instance, ip, kind, started, started_group_pair, take_over};
use vrrp::{Action, Input, Reason, State, Timestamp, Vip};

/// The actions' [`kind`]s, an advert of priority 0 told apart as "advert0".
fn kinds(out: &[Action]) -> Vec<&'static str> {
    out.iter()
        .map(|a| match a {
            Action::SendAdvert { bytes, .. } if bytes[2] == 0 => "advert0",
            a => kind(a),
        })
        .collect()
}

#[test]
fn a_vip_deleted_from_a_master_hands_over_with_priority_zero_and_comes_back_after_skew() {
    let mut c = instance();
    c.addresses.vips.push(Vip::host(ip("10.0.0.101")));
    c.addresses.excluded.push(Vip::host(ip("2001:db8::1")));
    let prio = c.priority;
    let mut e = started(c);
    let (t, _) = take_over(&mut e);
    let now = t + Duration::from_millis(300);
    let out = e.handle(
        Input::AddressDeleted {
            iface: "eth0",
            addr: ip("10.0.0.100"),
        },
        now,
    );
    assert_eq!(
        kinds(&out),
        ["advert0", "del", "state", "notify"],
        "{out:?}"
    );
    // Every address goes, not only the deleted one.
    assert!(out
        .iter()
        .any(|a| matches!(a, Action::DelAddresses { addrs, .. }
        if addrs.vips.len() == 2 && addrs.excluded.len() == 1)));
    assert!(out.iter().any(|a| matches!(
        a,
        Action::StateChanged {
            from: State::Master,
            to: State::Backup,
            reason: Reason::Fault,
            ..
        }
    )));
    // Back after Skew_Time: (256 - priority) / 256 s.
    let skew = Duration::from_micros((256 - u64::from(prio)) * 1_000_000 / 256);
    assert_eq!(e.next_deadline(), Some(now + skew));
    let out = e.handle(Input::Timer, now + skew);
    assert_eq!(
        kinds(&out),
        ["advert", "add", "garp", "na", "state", "notify"],
        "{out:?}"
    );
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
}

#[test]
fn only_a_master_holding_the_address_reacts() {
    let mut e = started(instance());
    // BACKUP: nothing.
    let del = |a| Input::AddressDeleted {
        iface: "eth0",
        addr: ip(a),
    };
    let t0 = e.next_deadline().unwrap();
    assert!(e
        .handle(del("10.0.0.100"), Timestamp::from_millis(100))
        .is_empty());
    assert_eq!(e.next_deadline(), Some(t0));
    let (t, _) = take_over(&mut e);
    // Another address (the interface's own, or a stranger's): nothing.
    assert!(e.handle(del("10.0.0.2"), t).is_empty());
    assert!(e.handle(del("10.0.0.99"), t).is_empty());
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
}

/// keepalived 2.4.3 with a sync group (observed): the other member leaves MASTER too, with
/// its own priority 0, and both are MASTER again after Skew.
#[test]
fn the_sync_group_leaves_and_comes_back_with_it() {
    let mut e = started_group_pair();
    let mut now = Timestamp::ZERO;
    while e.instances().any(|i| i.state != State::Master) {
        now = e.next_deadline().unwrap();
        e.handle(Input::Timer, now);
        assert!(now < Timestamp::from_millis(10_000), "never MASTER");
    }
    let out = e.handle(
        Input::AddressDeleted {
            iface: "eth0",
            addr: ip("10.0.0.100"),
        },
        now,
    );
    let k = kinds(&out);
    assert_eq!(k.iter().filter(|k| **k == "advert0").count(), 2, "{out:?}");
    assert_eq!(k.iter().filter(|k| **k == "del").count(), 2, "{out:?}");
    assert!(e.instances().all(|i| i.state == State::Backup));
    while e.instances().any(|i| i.state != State::Master) {
        let t = e.next_deadline().unwrap();
        e.handle(Input::Timer, t);
        assert!(t < now + Duration::from_secs(2), "not back within 2 s");
    }
}

/// [`Input::RouteDeleted`] / [`Input::RuleDeleted`]: a `virtual_routes` route or a
/// `virtual_rules` rule deleted by hand, handled as a VIP (keepalived 2.4.3 and 2.2.7,
/// observed; tests/tests/route_deleted.rs runs them side by side): priority 0, everything
/// removed, BACKUP, and MASTER again after Skew. One the MASTER does not hold: nothing.
#[test]
fn a_route_or_rule_deleted_from_a_master_hands_over_like_a_vip() {
    use vrrp::install::{Route, Rule};
    let route = Route::new(ip("10.1.0.0"), 24);
    let mut rule = Rule::to_table(false, 100);
    rule.from = Some((ip("10.2.0.0"), 24));
    let mut c = instance();
    c.addresses.routes.push(route.clone());
    c.addresses.rules.push(rule.clone());
    let prio = c.priority;
    let skew = Duration::from_micros((256 - u64::from(prio)) * 1_000_000 / 256);
    let mut e = started(c);
    let (t, _) = take_over(&mut e);
    let other = Route::new(ip("10.9.0.0"), 24);
    assert!(e
        .handle(Input::RouteDeleted { route: &other }, t)
        .is_empty());
    let mut now = t;
    for input in [
        Input::RouteDeleted { route: &route },
        Input::RuleDeleted { rule: &rule },
    ] {
        now = now + Duration::from_millis(300);
        let out = e.handle(input, now);
        assert_eq!(
            kinds(&out),
            ["advert0", "del", "state", "notify"],
            "{out:?}"
        );
        assert!(out
            .iter()
            .any(|a| matches!(a, Action::DelAddresses { addrs, .. }
            if addrs.routes.len() == 1 && addrs.rules.len() == 1 && addrs.vips.len() == 1)));
        assert_eq!(e.instance("VI").unwrap().state, State::Backup);
        // Deleted again while BACKUP: nothing.
        assert!(e
            .handle(Input::RouteDeleted { route: &route }, now)
            .is_empty());
        assert_eq!(e.next_deadline(), Some(now + skew));
        now = now + skew;
        let out = e.handle(Input::Timer, now);
        assert!(kinds(&out).contains(&"add"), "{out:?}");
        assert_eq!(e.instance("VI").unwrap().state, State::Master);
    }
}
