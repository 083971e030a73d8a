//! `Engine::reload` and the gratuitous ARPs / NAs of a MASTER whose VIP set changes, as
//! keepalived 2.4.3 sends them (observed in namespaces; tests/tests/reload_garp.rs checks
//! the daemons side by side): new VIPs bring a `garp_master_repeat` burst for the whole set
//! at once and another `garp_master_delay` later; removing or keeping VIPs brings none.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

#[path = "support/engine.rs"]
mod support_engine;

use std::net::IpAddr;
use std::time::Duration;

use support_engine::{instance, ip, started, take_over};
use vrrp::{Action, Engine, EngineConfig, Input, InstanceConfig, State, Timestamp, Vip};

fn config(c: &InstanceConfig) -> EngineConfig {
    EngineConfig {
        instances: vec![c.clone()],
        sync_groups: vec![],
    }
}

/// (kind, addresses, repeat) of each SendGarp / SendNa in `out`.
fn announces(out: &[Action]) -> Vec<(&'static str, Vec<IpAddr>, u32)> {
    out.iter()
        .filter_map(|a| match a {
            Action::SendGarp { addrs, repeat, .. } => {
                Some(("garp", addrs.iter().map(|v| v.addr).collect(), *repeat))
            }
            Action::SendNa { addrs, repeat, .. } => {
                Some(("na", addrs.iter().map(|v| v.addr).collect(), *repeat))
            }
            _ => None,
        })
        .collect()
}

/// Run the timers from `from` to `until`: the seconds (after `from`, in ms) at which
/// a GARP or NA went out.
fn announce_times(e: &mut Engine, from: Timestamp, until: Duration) -> Vec<u64> {
    let mut at = Vec::new();
    while let Some(t) = e.next_deadline() {
        if t > from + until {
            break;
        }
        let out = e.handle(Input::Timer, t);
        if !announces(&out).is_empty() {
            at.push((t - from).as_millis() as u64);
        }
    }
    at
}

/// A MASTER of `c` whose takeover bursts are all behind it: (engine, now).
fn settled_master(c: &InstanceConfig) -> (Engine, Timestamp) {
    let mut e = started(c.clone());
    let (t, _) = take_over(&mut e);
    let _ = announce_times(&mut e, t, Duration::from_secs(10));
    (e, t + Duration::from_secs(10))
}

#[test]
fn reload_adding_vips_to_a_master_announces_the_whole_set_twice() {
    let mut c = instance();
    let (mut e, now) = settled_master(&c);
    c.addresses.vips.push(Vip::host(ip("10.0.0.101")));
    c.addresses.excluded.push(Vip::host(ip("2001:db8::1")));
    let out = e.reload(config(&c), now).unwrap();
    // Installed first, then the kept VIP announced with the new one.
    let add = out
        .iter()
        .position(|a| matches!(a, Action::AddAddresses { .. }));
    let garp = out
        .iter()
        .position(|a| matches!(a, Action::SendGarp { .. }));
    assert!(add < garp && garp.is_some(), "{out:?}");
    assert_eq!(
        announces(&out),
        [
            ("garp", vec![ip("10.0.0.100"), ip("10.0.0.101")], 5),
            ("na", vec![ip("2001:db8::1")], 5),
        ]
    );
    // The second burst garp_master_delay (5 s) later, and nothing more.
    assert_eq!(announce_times(&mut e, now, Duration::from_secs(30)), [5000]);
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
}

#[test]
fn reload_second_burst_follows_garp_master_delay() {
    let mut c = instance();
    c.garp.master_delay = Duration::from_secs(2);
    c.garp.master_repeat = 3;
    let (mut e, now) = settled_master(&c);
    c.addresses.vips.push(Vip::host(ip("10.0.0.101")));
    let out = e.reload(config(&c), now).unwrap();
    assert_eq!(
        announces(&out),
        [("garp", vec![ip("10.0.0.100"), ip("10.0.0.101")], 3)]
    );
    assert_eq!(announce_times(&mut e, now, Duration::from_secs(30)), [2000]);
    // garp_master_delay 0: the first burst only.
    c.garp.master_delay = Duration::ZERO;
    c.addresses.vips.push(Vip::host(ip("10.0.0.102")));
    let later = now + Duration::from_secs(30);
    let out = e.reload(config(&c), later).unwrap();
    assert_eq!(announces(&out).len(), 1, "{out:?}");
    assert!(announce_times(&mut e, later, Duration::from_secs(30)).is_empty());
}

#[test]
fn reload_removing_or_keeping_vips_announces_nothing() {
    let mut c = instance();
    c.addresses.vips.push(Vip::host(ip("10.0.0.101")));
    let (mut e, now) = settled_master(&c);
    // Unchanged.
    let out = e.reload(config(&c), now).unwrap();
    assert!(announces(&out).is_empty(), "{out:?}");
    // One removed: released, not announced.
    c.addresses.vips.pop();
    let out = e.reload(config(&c), now).unwrap();
    assert!(out
        .iter()
        .any(|a| matches!(a, Action::DelAddresses { addrs, .. } if addrs.vips == vec![Vip::host(ip("10.0.0.101"))])));
    assert!(announces(&out).is_empty(), "{out:?}");
    assert!(announce_times(&mut e, now, Duration::from_secs(30)).is_empty());
    // One replaced by another: the new set is announced.
    c.addresses.vips = vec![Vip::host(ip("10.0.0.102"))];
    let out = e.reload(config(&c), now).unwrap();
    assert_eq!(announces(&out), [("garp", vec![ip("10.0.0.102")], 5)]);
}

#[test]
fn reload_adding_vips_to_a_backup_announces_nothing() {
    let mut c = instance();
    let mut e = started(c.clone());
    assert_eq!(e.instance("VI").unwrap().state, State::Backup);
    c.addresses.vips.push(Vip::host(ip("10.0.0.101")));
    let out = e.reload(config(&c), Timestamp::from_millis(100)).unwrap();
    assert!(announces(&out).is_empty(), "{out:?}");
    assert!(!out.iter().any(|a| matches!(a, Action::AddAddresses { .. })));
}
