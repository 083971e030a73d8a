//! `auth_type AH` on the simulated LAN (`vrrp::sim`): the engine's AH adverts (whole IPv4
//! packets) elect one master among three routers, the sequence numbers carry over a
//! takeover and a restart (the restarted router learns the number from the others'
//! adverts), and a router with another key is cut off: it counts the others' adverts as
//! authentication failures and becomes MASTER beside the real one.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use std::net::IpAddr;
use std::time::Duration;

use vrrp::sim::{NetConfig, Sim, TraceEvent};
use vrrp::{Auth, EngineConfig, InstanceConfig, State};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn conf(prio: u8, key: &str) -> EngineConfig {
    let mut c = InstanceConfig::new("VI", "eth0", 1, &[ip("10.0.1.100")]);
    c.priority = prio;
    c.auth = Auth::ah(key);
    EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    }
}

fn failures(sim: &Sim, i: usize) -> u64 {
    sim.nodes[i]
        .engine
        .instance("VI")
        .map_or(0, |s| s.stats.auth_failure)
}

#[test]
fn three_ah_routers_elect_and_fail_over() {
    let mut sim = Sim::new(7, NetConfig::default());
    for (k, prio) in [200u8, 150, 100].into_iter().enumerate() {
        let n = sim
            .add_node(ip(&format!("10.0.0.{}", k + 1)), conf(prio, "s3cret"))
            .unwrap();
        sim.start(n);
    }
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("VI"), vec![0]);
    assert_eq!(sim.holders(ip("10.0.1.100")), vec![0]);
    // The adverts on the wire were AH adverts (whole IPv4 packets) with priority 200.
    assert!(sim.trace.iter().any(|(_, e)| matches!(
        e,
        TraceEvent::Delivered {
            vrid: 1,
            priority: 200,
            ..
        }
    )));
    sim.stop(0);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("VI"), vec![1]);
    // A fresh process (no Resume): it starts as BACKUP, learns the sequence number from
    // node 1's adverts, and preempts with adverts the others accept.
    sim.restart(0, false);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("VI"), vec![0]);
    assert_eq!(sim.state(1, "VI"), Some(State::Backup));
    for i in 0..3 {
        assert_eq!(failures(&sim, i), 0, "node {i}");
    }
    assert!(sim.violations.is_empty(), "{:?}", sim.violations);
}

#[test]
fn another_key_is_cut_off_and_counted() {
    let mut sim = Sim::new(11, NetConfig::default());
    let a = sim.add_node(ip("10.0.0.1"), conf(200, "s3cret")).unwrap();
    let b = sim.add_node(ip("10.0.0.2"), conf(100, "other")).unwrap();
    sim.start(a);
    sim.start(b);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("VI"), vec![a, b]);
    assert!(failures(&sim, a) >= 5, "{}", failures(&sim, a));
    assert!(failures(&sim, b) >= 5, "{}", failures(&sim, b));
}

/// A known limit of Resume with AH: the resumed MASTER's sequence number restarts (it died
/// with the old process), so the backup refuses its adverts as replays until its own
/// takeover advert carries a number the master learns; then one master again, no more
/// failures. Bounded: a few refused adverts, converged within 5 s.
#[test]
fn resumed_ah_master_converges_after_a_few_refused_adverts() {
    let mut sim = Sim::new(7, NetConfig::default());
    for (k, prio) in [200u8, 100].into_iter().enumerate() {
        let n = sim
            .add_node(ip(&format!("10.0.0.{}", k + 1)), conf(prio, "s3cret"))
            .unwrap();
        sim.start(n);
    }
    sim.run_for(Duration::from_secs(10));
    assert_eq!(failures(&sim, 1), 0);
    sim.restart(0, true);
    sim.run_for(Duration::from_secs(5));
    let refused = failures(&sim, 1);
    assert!((1..=4).contains(&refused), "{refused}");
    assert_eq!(sim.masters("VI"), vec![0]);
    assert_eq!(sim.holders(ip("10.0.1.100")), vec![0]);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(failures(&sim, 1), refused, "still refused after converging");
    assert_eq!(failures(&sim, 0), 0);
    assert_eq!(sim.masters("VI"), vec![0]);
}
