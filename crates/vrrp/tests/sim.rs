//! The engine on a simulated LAN (`vrrp::sim`): named scenarios with exact timing, then
//! properties over many seeded random runs (loss, delay, partitions, frozen and killed
//! nodes, restarts with and without Resume, priority changes, sync groups).
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

#[path = "support/wire.rs"]
mod wire;

use std::net::IpAddr;
use std::time::Duration;

use vrrp::sim::{Liveness, NetConfig, Rng, Sim, TraceEvent};
use vrrp::{
    EngineConfig, InitialState, InstanceConfig, Reason, State, SyncGroupConfig, Timestamp,
    TrackConfig, TrackKind, TrackStatus, UnicastPeer, Version,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn node_addr(i: usize) -> IpAddr {
    ip(&format!("10.0.0.{}", i + 1))
}

/// One instance "VI" for VRID 1. `int_cs`: None = v2 at 1 s, Some(cs) = v3.
fn inst(name: &str, vrid: u8, prio: u8, int_cs: Option<u16>) -> InstanceConfig {
    let mut c = InstanceConfig::new(name, "eth0", vrid, &[ip(&format!("10.0.{vrid}.100"))]);
    c.priority = prio;
    if let Some(cs) = int_cs {
        c.version = Version::V3;
        c.advert_int = Duration::from_millis(u64::from(cs) * 10);
    }
    c
}

fn single(c: InstanceConfig) -> EngineConfig {
    EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Master_Down and Skew for a priority and interval (µs), as RFC 3768/5798 define them.
fn skew_us(prio: u8, int_us: u64, v3: bool) -> u64 {
    if v3 {
        (256 - u64::from(prio)) * int_us / 256
    } else {
        (256 - u64::from(prio)) * 1_000_000 / 256
    }
}

fn master_down_us(prio: u8, int_us: u64, v3: bool) -> u64 {
    3 * int_us + skew_us(prio, int_us, v3)
}

/// An independent model of the down timer of single-instance node `j` (VRID `vrid`,
/// priority `prio`): checks that every MasterDown takeover happens exactly when the model
/// says (later only if the node was frozen meanwhile). Returns how many were checked.
fn check_takeover_timing(
    sim: &Sim,
    j: usize,
    vrid: u8,
    prio: u8,
    preempt: bool,
    int_us: u64,
    v3: bool,
) -> usize {
    let mut backup = false;
    let mut deadline: Option<Timestamp> = None;
    let mut frozen_since_arm = false;
    let mut checked = 0;
    for (t, ev) in &sim.trace {
        match ev {
            TraceEvent::Transition {
                node,
                to,
                reason,
                from,
                ..
            } if *node == j => {
                if *to == State::Master && *from == State::Backup && *reason == Reason::MasterDown {
                    let d = deadline.expect("takeover without an armed timer");
                    if frozen_since_arm {
                        assert!(
                            *t >= d,
                            "node {j}: took over at {t}, before the model's {d}"
                        );
                    } else {
                        assert_eq!(*t, d, "node {j}: took over at {t}, model says {d}");
                        checked += 1;
                    }
                }
                backup = *to == State::Backup;
                if backup {
                    deadline = Some(*t + Duration::from_micros(master_down_us(prio, int_us, v3)));
                    frozen_since_arm = false;
                }
            }
            TraceEvent::Delivered {
                to,
                vrid: v,
                priority,
                ..
            } if *to == j && *v == vrid && backup => {
                if *priority == 0 {
                    deadline = Some(*t + Duration::from_micros(skew_us(prio, int_us, v3)));
                    frozen_since_arm = false;
                } else if *priority >= prio || !preempt {
                    deadline = Some(*t + Duration::from_micros(master_down_us(prio, int_us, v3)));
                    frozen_since_arm = false;
                }
            }
            TraceEvent::Liveness { node, to } if *node == j => {
                if *to == Liveness::Frozen {
                    frozen_since_arm = true;
                }
                if *to == Liveness::Dead || *to == Liveness::Stopped {
                    backup = false;
                }
            }
            _ => {}
        }
    }
    checked
}

fn last_transition_to(sim: &Sim, j: usize, state: State) -> Option<Timestamp> {
    sim.trace.iter().rev().find_map(|(t, e)| match e {
        TraceEvent::Transition { node, to, .. } if *node == j && *to == state => Some(*t),
        _ => None,
    })
}

fn last_delivery(sim: &Sim, to_node: usize, before: Timestamp) -> Option<(Timestamp, u8)> {
    sim.trace.iter().rev().find_map(|(t, e)| match e {
        TraceEvent::Delivered { to, priority, .. } if *to == to_node && *t < before => {
            Some((*t, *priority))
        }
        _ => None,
    })
}

fn two(prio_a: u8, prio_b: u8, int_cs: Option<u16>) -> Sim {
    let mut sim = Sim::new(1, NetConfig::default());
    sim.add_node(node_addr(0), single(inst("VI", 1, prio_a, int_cs)))
        .unwrap();
    sim.add_node(node_addr(1), single(inst("VI", 1, prio_b, int_cs)))
        .unwrap();
    sim
}

#[test]
fn frozen_master_backup_takes_over_exactly_master_down_after_last_advert() {
    for int_cs in [None, Some(10), Some(100), Some(37)] {
        let mut sim = two(150, 100, int_cs);
        sim.start(0);
        sim.start(1);
        sim.run_for(secs(10.0));
        assert_eq!(sim.masters("VI"), vec![0]);
        assert_eq!(sim.holders(ip("10.0.1.100")), vec![0]);
        sim.run_for(secs(0.3));
        sim.freeze(0);
        sim.run_for(secs(6.0));
        let took = last_transition_to(&sim, 1, State::Master).unwrap();
        let (heard, prio) = last_delivery(&sim, 1, took).unwrap();
        assert_eq!(prio, 150);
        let (int_us, v3) = match int_cs {
            None => (1_000_000, false),
            Some(cs) => (u64::from(cs) * 10_000, true),
        };
        assert_eq!(
            took - heard,
            Duration::from_micros(master_down_us(100, int_us, v3)),
            "{int_cs:?}"
        );
        assert_eq!(sim.holders(ip("10.0.1.100")), vec![1]);
        // Thawed, the higher priority takes back over at once (preempt).
        sim.thaw(0);
        sim.run_for(secs(3.0));
        assert_eq!(sim.masters("VI"), vec![0]);
        assert_eq!(sim.holders(ip("10.0.1.100")), vec![0]);
    }
}

#[test]
fn graceful_stop_takeover_after_skew_only() {
    let mut sim = two(150, 100, None);
    sim.start(0);
    sim.start(1);
    sim.run_for(secs(8.0));
    sim.stop(0);
    let stop = sim.now;
    sim.run_for(secs(3.0));
    let took = last_transition_to(&sim, 1, State::Master).unwrap();
    // The priority-0 advert travels 100 µs; then Skew_Time = (256-100)/256 s = 609375 µs.
    assert_eq!(took - stop, Duration::from_micros(100 + 609_375));
    assert!(sim.holders(ip("10.0.1.100")) == vec![1]);
}

#[test]
fn owner_starts_master_at_once_and_others_wait_master_down() {
    let mut c = inst("VI", 1, 255, None);
    c.initial_state = InitialState::Master;
    let mut sim = Sim::new(2, NetConfig::default());
    sim.add_node(node_addr(0), single(c)).unwrap();
    sim.add_node(node_addr(1), single(inst("VI", 1, 100, None)))
        .unwrap();
    sim.start(0);
    sim.start(1);
    assert_eq!(sim.state(0, "VI"), Some(State::Master));
    assert_eq!(sim.state(1, "VI"), Some(State::Backup));
    sim.run_for(secs(20.0));
    assert_eq!(sim.masters("VI"), vec![0]);
    // A lone non-owner: exactly Master_Down after startup.
    let mut sim = Sim::new(3, NetConfig::default());
    sim.add_node(node_addr(0), single(inst("VI", 1, 100, None)))
        .unwrap();
    sim.start(0);
    sim.run_for(secs(5.0));
    assert_eq!(
        last_transition_to(&sim, 0, State::Master).unwrap(),
        Timestamp::ZERO + Duration::from_micros(3_609_375)
    );
}

#[test]
fn nopreempt_keeps_the_running_master_and_preempt_takes_over() {
    for preempt in [false, true] {
        let mut a = inst("VI", 1, 150, None);
        a.preempt = preempt;
        let mut sim = Sim::new(4, NetConfig::default());
        sim.add_node(node_addr(0), single(a)).unwrap();
        sim.add_node(node_addr(1), single(inst("VI", 1, 100, None)))
            .unwrap();
        sim.start(1);
        sim.run_for(secs(5.0));
        assert_eq!(sim.masters("VI"), vec![1]);
        sim.start(0);
        let joined = sim.now;
        sim.run_for(secs(30.0));
        if preempt {
            assert_eq!(sim.masters("VI"), vec![0]);
            // It discards the lower priority adverts, so it takes over Master_Down after joining.
            let took = last_transition_to(&sim, 0, State::Master).unwrap();
            assert_eq!(
                took - joined,
                Duration::from_micros(master_down_us(150, 1_000_000, false))
            );
        } else {
            assert_eq!(sim.masters("VI"), vec![1], "nopreempt must not take over");
        }
        assert_eq!(
            check_takeover_timing(&sim, 0, 1, 150, preempt, 1_000_000, false),
            usize::from(preempt)
        );
    }
}

#[test]
fn preempt_delay_holds_the_lower_master_for_the_delay() {
    let mut a = inst("VI", 1, 150, None);
    a.preempt_delay = Duration::from_secs(10);
    let mut sim = Sim::new(5, NetConfig::default());
    sim.add_node(node_addr(0), single(a)).unwrap();
    sim.add_node(node_addr(1), single(inst("VI", 1, 100, None)))
        .unwrap();
    sim.start(1);
    sim.run_for(secs(5.0));
    sim.start(0);
    let joined = sim.now;
    sim.run_for(secs(9.5));
    assert_eq!(sim.masters("VI"), vec![1], "still within preempt_delay");
    sim.run_for(secs(10.0));
    assert_eq!(sim.masters("VI"), vec![0]);
    let took = last_transition_to(&sim, 0, State::Master).unwrap() - joined;
    // The first lower advert (within 1 s of joining) starts the delay; adverts are accepted
    // until it ends (the last one up to 1 s before), then discarded, and Master_Down runs out.
    let md = master_down_us(150, 1_000_000, false);
    assert!(took >= secs(9.0) + Duration::from_micros(md), "{took:?}");
    assert!(
        took <= secs(1.0 + 10.0) + Duration::from_micros(md),
        "{took:?}"
    );
}

#[test]
fn split_brain_heals_to_the_higher_priority() {
    let mut sim = two(150, 100, Some(20));
    sim.start(0);
    sim.start(1);
    sim.run_for(secs(3.0));
    sim.partition(&[0, 1]);
    sim.run_for(secs(3.0));
    assert_eq!(sim.masters("VI"), vec![0, 1]);
    sim.heal();
    sim.run_for(secs(1.0));
    assert_eq!(sim.masters("VI"), vec![0]);
    assert_eq!(sim.holders(ip("10.0.1.100")), vec![0]);
}

#[test]
fn equal_priority_higher_address_wins() {
    let mut sim = two(100, 100, None);
    sim.start(0);
    sim.start(1);
    sim.run_for(secs(15.0));
    assert_eq!(sim.masters("VI"), vec![1]);
}

#[test]
fn resume_keeps_master_without_outage_and_plain_restart_does_not() {
    for resume in [true, false] {
        let mut sim = two(150, 100, Some(10));
        sim.start(0);
        sim.start(1);
        sim.run_for(secs(2.0));
        assert_eq!(sim.masters("VI"), vec![0]);
        sim.kill(0);
        sim.restart(0, resume);
        let restarted = sim.now;
        if resume {
            assert_eq!(sim.state(0, "VI"), Some(State::Master));
            assert!(sim.nodes[0].held.contains(&ip("10.0.1.100")), "VIP kept");
        } else {
            assert_eq!(sim.state(0, "VI"), Some(State::Backup));
            assert!(
                sim.nodes[0].held.is_empty(),
                "a fresh start removes the VIPs"
            );
        }
        sim.run_for(secs(3.0));
        assert_eq!(sim.masters("VI"), vec![0]);
        let b_took_over = sim.trace.iter().any(|(t, e)| {
            *t >= restarted
                && matches!(
                    e,
                    TraceEvent::Transition {
                        node: 1,
                        to: State::Master,
                        ..
                    }
                )
        });
        assert_eq!(b_took_over, !resume, "resume={resume}");
    }
}

#[test]
fn unicast_peers_elect_one_master() {
    let mut sim = Sim::new(6, NetConfig::default());
    for (i, prio) in [(0usize, 120u8), (1, 200), (2, 50)] {
        let mut c = inst("VI", 1, prio, Some(50));
        c.unicast_peers = (0..3)
            .filter(|j| *j != i)
            .map(|j| UnicastPeer::new(node_addr(j)))
            .collect();
        c.check_unicast_src = true;
        sim.add_node(node_addr(i), single(c)).unwrap();
    }
    for i in 0..3 {
        sim.start(i);
    }
    sim.run_for(secs(5.0));
    assert_eq!(sim.masters("VI"), vec![1]);
    sim.freeze(1);
    sim.run_for(secs(3.0));
    assert_eq!(sim.masters("VI"), vec![0]);
}

#[test]
fn v3_backup_learns_the_masters_interval() {
    let mut sim = Sim::new(7, NetConfig::default());
    sim.add_node(node_addr(0), single(inst("VI", 1, 150, Some(50))))
        .unwrap();
    sim.add_node(node_addr(1), single(inst("VI", 1, 100, Some(100))))
        .unwrap();
    sim.start(0);
    sim.start(1);
    sim.run_for(secs(5.0));
    assert_eq!(sim.masters("VI"), vec![0]);
    sim.freeze(0);
    sim.run_for(secs(4.0));
    let took = last_transition_to(&sim, 1, State::Master).unwrap();
    let (heard, _) = last_delivery(&sim, 1, took).unwrap();
    // Master_Down from the master's 0.5 s interval, not the backup's own 1 s.
    assert_eq!(
        took - heard,
        Duration::from_micros(master_down_us(100, 500_000, true))
    );
    let st = sim.nodes[1].engine.instance("VI").unwrap();
    assert!(
        st.stats.advert_interval_err > 0,
        "v3 interval mismatch is counted"
    );
}

fn grouped(prio: u8, weight0_tracker: bool) -> EngineConfig {
    let mut a = inst("VI_1", 1, prio, Some(20));
    let b = inst("VI_2", 2, prio, Some(20));
    if weight0_tracker {
        a.track.push(TrackConfig {
            kind: TrackKind::Script,
            name: "chk".into(),
            weight: 0,
            reverse: false,
        });
    }
    EngineConfig {
        instances: vec![a, b],
        sync_groups: vec![SyncGroupConfig {
            name: "G".into(),
            members: vec!["VI_1".into(), "VI_2".into()],
        }],
    }
}

#[test]
fn sync_group_moves_together_on_fault_and_back() {
    let mut sim = Sim::new(8, NetConfig::default());
    sim.add_node(node_addr(0), grouped(150, true)).unwrap();
    sim.add_node(node_addr(1), grouped(100, false)).unwrap();
    sim.set_tracker(0, TrackKind::Script, "chk", TrackStatus::Up);
    sim.start(0);
    sim.start(1);
    sim.run_for(secs(2.0));
    assert_eq!(
        (sim.masters("VI_1"), sim.masters("VI_2")),
        (vec![0], vec![0])
    );
    sim.set_tracker(0, TrackKind::Script, "chk", TrackStatus::Down);
    assert_eq!(
        sim.state(0, "VI_2"),
        Some(State::Fault),
        "the whole group faults"
    );
    sim.run_for(secs(2.0));
    assert_eq!(
        (sim.masters("VI_1"), sim.masters("VI_2")),
        (vec![1], vec![1])
    );
    sim.set_tracker(0, TrackKind::Script, "chk", TrackStatus::Up);
    sim.run_for(secs(2.0));
    assert_eq!(
        (sim.masters("VI_1"), sim.masters("VI_2")),
        (vec![0], vec![0])
    );
    assert!(sim.violations.is_empty(), "{:?}", sim.violations);
}

#[test]
fn weighted_tracker_lowers_priority_and_hands_over() {
    let mut a = inst("VI", 1, 150, Some(20));
    a.track.push(TrackConfig {
        kind: TrackKind::Script,
        name: "chk".into(),
        weight: -60,
        reverse: false,
    });
    let mut sim = Sim::new(9, NetConfig::default());
    sim.add_node(node_addr(0), single(a)).unwrap();
    sim.add_node(node_addr(1), single(inst("VI", 1, 100, Some(20))))
        .unwrap();
    sim.start(0);
    sim.start(1);
    sim.run_for(secs(2.0));
    assert_eq!(sim.masters("VI"), vec![0]);
    sim.set_tracker(0, TrackKind::Script, "chk", TrackStatus::Down);
    assert_eq!(sim.nodes[0].engine.instance("VI").unwrap().priority, 90);
    sim.run_for(secs(2.0));
    assert_eq!(sim.masters("VI"), vec![1]);
    sim.set_tracker(0, TrackKind::Script, "chk", TrackStatus::Up);
    sim.run_for(secs(2.0));
    assert_eq!(sim.masters("VI"), vec![0]);
}

// ---- random runs -------------------------------------------------------------------

struct Scenario {
    n: usize,
    int_cs: Option<u16>,
    prios: Vec<u8>,
    preempt: Vec<bool>,
    groups: bool,
    tracker: bool,
    unicast: bool,
}

impl Scenario {
    fn int_us(&self) -> u64 {
        self.int_cs.map_or(1_000_000, |cs| u64::from(cs) * 10_000)
    }
    fn names(&self) -> &'static [&'static str] {
        if self.groups {
            &["VI_1", "VI_2"]
        } else {
            &["VI_1"]
        }
    }
}

fn build(seed: u64, chaos_kinds: bool) -> (Sim, Scenario, Rng) {
    let mut rng = Rng::new(seed);
    let n = rng.range(2, 5) as usize;
    let int_cs = if rng.chance(0.3) {
        None
    } else {
        Some(rng.range(5, 100) as u16)
    };
    let prios: Vec<u8> = (0..n).map(|_| rng.range(1, 254) as u8).collect();
    let preempt: Vec<bool> = (0..n).map(|_| rng.chance(0.8)).collect();
    let groups = chaos_kinds && rng.chance(0.3);
    let tracker = chaos_kinds && rng.chance(0.5);
    let unicast = rng.chance(0.25);
    let delay_max = rng.range(0, 3000);
    let net = NetConfig {
        loss: 0.0,
        delay_min: Duration::from_micros(rng.range(0, delay_max)),
        delay_max: Duration::from_micros(delay_max),
    };
    let mut sim = Sim::new(seed, net);
    sim.buffer_while_frozen = rng.chance(0.5);
    let s = Scenario {
        n,
        int_cs,
        prios,
        preempt,
        groups,
        tracker,
        unicast,
    };
    for i in 0..n {
        let mut insts = Vec::new();
        for (k, name) in s.names().iter().enumerate() {
            let mut c = inst(name, k as u8 + 1, s.prios[i], s.int_cs);
            c.preempt = s.preempt[i];
            if s.unicast {
                c.unicast_peers = (0..n)
                    .filter(|j| *j != i)
                    .map(|j| UnicastPeer::new(node_addr(j)))
                    .collect();
                c.check_unicast_src = true;
            }
            if s.tracker {
                c.track.push(TrackConfig {
                    kind: TrackKind::Script,
                    name: "chk".into(),
                    weight: -60,
                    reverse: false,
                });
            }
            insts.push(c);
        }
        let cfg = EngineConfig {
            instances: insts,
            sync_groups: if s.groups {
                vec![SyncGroupConfig {
                    name: "G".into(),
                    members: vec!["VI_1".into(), "VI_2".into()],
                }]
            } else {
                vec![]
            },
        };
        sim.add_node(node_addr(i), cfg).unwrap();
    }
    (sim, s, rng)
}

/// Random trouble for `dur`. `priorities`: also toggle the weighted tracker.
fn chaos(sim: &mut Sim, s: &Scenario, rng: &mut Rng, dur: Duration, priorities: bool) {
    let end = sim.now + dur;
    while sim.now < end {
        let step = Duration::from_micros(rng.range(50_000, 3_000_000));
        sim.run_for(step);
        let i = rng.below(s.n as u64) as usize;
        match rng.below(11) {
            0 => sim.freeze(i),
            1 => sim.thaw(i),
            2 => sim.kill(i),
            3 => {
                if matches!(sim.nodes[i].liveness, Liveness::Dead | Liveness::Stopped) {
                    let resume = rng.chance(0.5);
                    sim.restart(i, resume);
                }
            }
            4 => sim.stop(i),
            5 => {
                let seg: Vec<u32> = (0..s.n).map(|_| rng.below(2) as u32).collect();
                sim.partition(&seg);
            }
            6 => sim.heal(),
            7 => sim.net.loss = [0.0, 0.1, 0.3, 0.6][rng.below(4) as usize],
            8 if priorities && s.tracker => {
                let st = if rng.chance(0.5) {
                    TrackStatus::Up
                } else {
                    TrackStatus::Down
                };
                sim.set_tracker(i, TrackKind::Script, "chk", st);
            }
            // Only a live daemon reloads (SIGHUP). A config edited while it is down is read at
            // the next start, and a VIP dropped from it then stays on the host if the daemon
            // died holding it (startup releases only configured addresses; keepalived has the
            // same gap).
            9 if priorities
                && matches!(sim.nodes[i].liveness, Liveness::Running | Liveness::Frozen) =>
            {
                // Reload with a new priority for every instance, and sometimes one more VIP.
                let mut cfg = sim.nodes[i].config.clone();
                let prio = rng.range(1, 254) as u8;
                let extra = rng.chance(0.5);
                for c in &mut cfg.instances {
                    c.priority = prio;
                    let more = ip(&format!("10.0.{}.101", c.vrid));
                    c.addresses.vips.retain(|v| v.addr != more);
                    if extra {
                        c.addresses.vips.push(vrrp::Vip::host(more));
                    }
                }
                sim.reload(i, cfg).unwrap();
            }
            _ => sim.set_link(i, rng.chance(0.7)),
        }
    }
}

/// Heal everything, restart what is down, and wait for convergence.
fn calm(sim: &mut Sim, s: &Scenario, rng: &mut Rng) {
    sim.heal();
    sim.net.loss = 0.0;
    for i in 0..s.n {
        sim.set_link(i, true);
        sim.thaw(i);
        if matches!(sim.nodes[i].liveness, Liveness::Dead | Liveness::Stopped) {
            let resume = rng.chance(0.5);
            sim.restart(i, resume);
        }
    }
    // Nodes reloaded with different VIP lists still elect one master (an advert with
    // another address list is accepted, as keepalived 2.4.3 accepts it), but which VIPs
    // are up then depends on who won. An operator makes the lists equal again; so does
    // this: every node gets node 0's list (keeping its own priority).
    let want = sim.nodes[0].config.clone();
    for i in 1..s.n {
        let mut cfg = sim.nodes[i].config.clone();
        let mut changed = false;
        for (c, w) in cfg.instances.iter_mut().zip(&want.instances) {
            if c.addresses.vips != w.addresses.vips {
                c.addresses.vips = w.addresses.vips.clone();
                changed = true;
            }
        }
        if changed {
            sim.reload(i, cfg).unwrap();
        }
    }
    // Worst case: a restarted node waits Master_Down; a backup wanting MASTER in a sync
    // group retries every interval; a couple of intervals settle ties.
    let int = s.int_us();
    sim.run_for(Duration::from_micros(2 * (4 * int + 1_000_000) + 2 * int));
}

fn check_converged(sim: &Sim, s: &Scenario, seed: u64) {
    for (k, name) in s.names().iter().enumerate() {
        let masters = sim.masters(name);
        assert_eq!(masters.len(), 1, "seed {seed}: {name}: masters {masters:?}");
        let m = masters[0];
        let vip = ip(&format!("10.0.{}.100", k + 1));
        assert_eq!(
            sim.holders(vip),
            vec![m],
            "seed {seed}: {vip} held by the master only"
        );
        // After reloads that add and remove a second VIP: the master holds exactly what it
        // is configured with, and no running backup holds anything of this VRID.
        let extra = ip(&format!("10.0.{}.101", k + 1));
        let configured = sim.nodes[m]
            .engine
            .instance(name)
            .unwrap()
            .config
            .addresses
            .vips
            .iter()
            .any(|v| v.addr == extra);
        assert_eq!(
            sim.nodes[m].held.contains(&extra),
            configured,
            "seed {seed}: {extra} on master {m}"
        );
        assert_eq!(
            sim.holders(extra).len(),
            usize::from(configured),
            "seed {seed}: {extra}"
        );
        if !s.groups && s.preempt.iter().all(|p| *p) {
            // No live peer has a higher priority (an equal one may stay BACKUP: RFC 5798
            // §6.4.2 accepts equal priorities; the address tie-break is between masters).
            let prio = |i: usize| sim.nodes[i].engine.instance(name).unwrap().priority;
            let best = (0..s.n).max_by_key(|i| prio(*i)).unwrap();
            assert_eq!(
                prio(m),
                prio(best),
                "seed {seed}: {name}: master {m} below node {best}"
            );
        }
    }
    assert!(
        sim.violations.is_empty(),
        "seed {seed}: {:?}",
        sim.violations
    );
}

fn seeds(default: u64) -> u64 {
    std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// One random run of `seed`: with `kinds`, priority changes and reloads join the faults
/// (the convergence runs, seeds from 0), without them only faults (the timing runs, seeds
/// from 1000). Returns the simulation after the calm phase.
fn random_run(seed: u64, kinds: bool) -> (Sim, Scenario) {
    let (mut sim, s, mut rng) = build(seed, kinds);
    for i in 0..s.n {
        sim.start(i);
    }
    chaos(
        &mut sim,
        &s,
        &mut rng,
        secs(if kinds { 40.0 } else { 30.0 }),
        kinds,
    );
    calm(&mut sim, &s, &mut rng);
    (sim, s)
}

/// Check every takeover of a timing run; returns how many were checked.
fn check_takeovers(sim: &Sim, s: &Scenario) -> usize {
    (0..s.n)
        .map(|j| {
            check_takeover_timing(
                sim,
                j,
                1,
                s.prios[j],
                s.preempt[j],
                s.int_us(),
                s.int_cs.is_some(),
            )
        })
        .sum()
}

#[test]
fn random_runs_converge_to_one_master_and_groups_never_split() {
    let n = seeds(300);
    for seed in 0..n {
        let (sim, s) = random_run(seed, true);
        check_converged(&sim, &s, seed);
    }
}

#[test]
fn random_runs_take_over_exactly_master_down_after_the_last_advert() {
    let n = seeds(300);
    let mut checked = 0;
    for seed in 1000..1000 + n {
        let (sim, s) = random_run(seed, false);
        check_converged(&sim, &s, seed);
        checked += check_takeovers(&sim, &s);
    }
    assert!(checked > n as usize, "only {checked} takeovers checked");
    eprintln!("takeover timing checked on {checked} takeovers over {n} runs");
}

/// Replays the one seed a random run above failed on (`SEED=N`; the failure message names
/// it): prints the run's trace and final state, then applies the same checks as that
/// random run, so the replay fails where the run failed.
#[test]
#[ignore = "replay: SEED=N cargo test -p vrrp --test sim -- --ignored replay_a_failed_seed"]
fn replay_a_failed_seed_with_its_trace() {
    let Some(seed) = std::env::var("SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        panic!("set SEED to the seed a random run failed on (SEED=1234 cargo test ...)");
    };
    let kinds = seed < 1000;
    let (sim, s) = random_run(seed, kinds);
    for (t, e) in &sim.trace {
        if !matches!(e, TraceEvent::Delivered { .. }) {
            eprintln!("{t} {e:?}");
        }
    }
    eprintln!("prios {:?} int {:?}", s.prios, s.int_cs);
    for (i, n) in sim.nodes.iter().enumerate() {
        eprintln!(
            "{i}: held {:?} {:?} {:?}",
            n.held,
            n.liveness,
            n.engine
                .instance("VI_1")
                .map(|x| (x.state, x.priority, x.master))
        );
    }
    check_converged(&sim, &s, seed);
    if !kinds {
        check_takeovers(&sim, &s);
    }
}

#[test]
fn a_run_is_a_pure_function_of_its_seed() {
    let run = |seed| {
        let (mut sim, s, mut rng) = build(seed, true);
        for i in 0..s.n {
            sim.start(i);
        }
        chaos(&mut sim, &s, &mut rng, secs(20.0), true);
        calm(&mut sim, &s, &mut rng);
        sim.trace
    };
    for seed in [7, 8, 9] {
        let a = run(seed);
        assert!(a.len() > 10);
        assert_eq!(a, run(seed), "seed {seed}");
    }
    assert_ne!(run(7), run(8));
}

// ---- scale property ----------------------------------------------------------------

/// Two engines with `n` instances each (250 VRIDs per interface, VRRPv2 at 1 s), linked by
/// a wire per interface: run 10 s to converge, then 5 s of steady state, and return the
/// backup's work per advert it received (instances examined per advert) and how many
/// adverts it received.
fn backup_work_per_advert(n: usize) -> (f64, u64) {
    use vrrp::{Engine, Family, Input};
    let engine = |prio: u8, host: u8| {
        let instances = (0..n)
            .map(|k| {
                let vrid = u8::try_from(k % 250 + 1).unwrap();
                let net = k / 250;
                let vip = ip(&format!("10.{}.{}.{}", 100 + net / 200, net % 200, vrid));
                let mut c =
                    InstanceConfig::new(&format!("VI_{k}"), &format!("eth{net}"), vrid, &[vip]);
                c.priority = prio;
                c
            })
            .collect();
        let mut e = Engine::new(EngineConfig {
            instances,
            sync_groups: vec![],
        })
        .unwrap();
        for net in 0..n.div_ceil(250) {
            e.handle(
                Input::InterfaceAddress {
                    iface: &format!("eth{net}"),
                    family: Family::V4,
                    addr: Some(ip(&format!("10.200.{net}.{host}"))),
                },
                Timestamp::ZERO,
            );
        }
        e
    };
    let mut r = [engine(150, 1), engine(100, 2)];
    for e in &mut r {
        e.handle(Input::Startup, Timestamp::ZERO);
    }
    let mut wire = wire::Wire::default();
    wire.run(&mut r, Timestamp::from_millis(10_000));
    assert!(r[0].instances().all(|s| s.state == State::Master));
    assert!(r[1].instances().all(|s| s.state == State::Backup));
    let (w0, rx0) = (r[1].stats().instances_examined, wire.received[1]);
    wire.run(&mut r, Timestamp::from_millis(15_000));
    let rx = wire.received[1];
    let adverts = rx - rx0;
    let work = r[1].stats().instances_examined - w0;
    (work as f64 / adverts.max(1) as f64, adverts)
}

/// Issue 16: the backup's work per received advert (routing, timers) does not grow with
/// the number of instances: at 500 and at 5,000 instances (2 and 20 interfaces of 250
/// VRIDs) it stays within a factor 1.5. Operations are counted, not time.
#[test]
fn scale_backup_work_per_advert_is_constant_in_the_instance_count() {
    let (small, rx_small) = backup_work_per_advert(500);
    let (large, rx_large) = backup_work_per_advert(5_000);
    eprintln!(
        "instances examined per advert: {small:.2} at 500 ({rx_small} adverts), \
         {large:.2} at 5,000 ({rx_large} adverts)"
    );
    // Every instance heard about five adverts in the 5 s window.
    assert!(rx_small >= 500 * 4 && rx_large >= 5_000 * 4);
    assert!(small > 0.0);
    assert!(
        large <= small * 1.5,
        "work per advert grew from {small:.2} to {large:.2} for 10x the instances"
    );
}

/// `n` instances on interfaces of 250 VRIDs each, in sync groups of two; `changed` of them
/// (the first) with a second VIP.
fn reload_scale_config(n: usize, changed: usize) -> EngineConfig {
    let instances: Vec<InstanceConfig> = (0..n)
        .map(|i| {
            let vip = IpAddr::V4(std::net::Ipv4Addr::from(0xAC10_0000u32 + i as u32));
            let vrid = u8::try_from(i % 250 + 1).unwrap();
            let mut c =
                InstanceConfig::new(&format!("VI_{i}"), &format!("eth{}", i / 250), vrid, &[vip]);
            if i < changed {
                let more = IpAddr::V4(std::net::Ipv4Addr::from(0xAD10_0000u32 + i as u32));
                c.addresses.vips.push(vrrp::Vip::host(more));
            }
            c
        })
        .collect();
    let sync_groups = (0..n / 2)
        .map(|g| SyncGroupConfig {
            name: format!("G{g}"),
            members: vec![format!("VI_{}", 2 * g), format!("VI_{}", 2 * g + 1)],
        })
        .collect();
    EngineConfig {
        instances,
        sync_groups,
    }
}

/// The configuration work of a reload of `n` running MASTERs (10 % of them with a new VIP,
/// the last one removed, one added): the `config_work` counter across the reload. Checks
/// the outcome too: the kept instances stay MASTER, the changed ones add their VIP, the
/// removed one sends priority 0 and releases its address.
fn reload_work(n: usize) -> u64 {
    use vrrp::{Action, Engine, Family, Input};
    let mut e = Engine::new(reload_scale_config(n, 0)).unwrap();
    for net in 0..=n / 250 {
        e.handle(
            Input::InterfaceAddress {
                iface: &format!("eth{net}"),
                family: Family::V4,
                addr: Some(IpAddr::V4(std::net::Ipv4Addr::from(
                    0x0A00_0001u32 + (net as u32) * 256,
                ))),
            },
            Timestamp::ZERO,
        );
    }
    e.handle(Input::Startup, Timestamp::ZERO);
    let mut now = Timestamp::ZERO;
    while let Some(t) = e.next_deadline() {
        if t > Timestamp::from_millis(5_000) {
            break;
        }
        now = t;
        e.handle(Input::Timer, now);
    }
    assert!(e.instances().all(|s| s.state == State::Master));
    let mut cfg = reload_scale_config(n, n / 10);
    let removed = cfg.instances.pop().unwrap();
    cfg.sync_groups.pop();
    let mut added = InstanceConfig::new(
        "VI_new",
        &format!("eth{}", n / 250),
        251,
        &[ip("10.99.0.1")],
    );
    added.priority = 100;
    cfg.instances.push(added);
    let before = e.stats().config_work;
    let actions = e.reload(cfg, now).unwrap();
    let work = e.stats().config_work - before;
    assert_eq!(e.instances().count(), n);
    let masters = e.instances().filter(|s| s.state == State::Master).count();
    assert_eq!(masters, n - 1, "every kept instance stays MASTER");
    let adds = actions
        .iter()
        .filter(|a| matches!(a, Action::AddAddresses { .. }))
        .count();
    assert_eq!(adds, n / 10, "each changed instance adds its second VIP");
    assert!(
        actions.iter().any(|a| matches!(
            a,
            Action::SendAdvert { instance, bytes, .. }
                if **instance == *removed.name && bytes.get(2) == Some(&0)
        )),
        "the removed MASTER sends priority 0"
    );
    assert!(actions.iter().any(|a| matches!(
        a,
        Action::DelAddresses { instance, .. } if **instance == *removed.name
    )));
    work
}

/// Issue 16: a reload matches the new instances to the running ones by key in a map, not
/// by a scan of every running instance per new one: the names and keys looked up grow
/// linearly (1,000 -> 10,000 instances: about 10x, not 100x), a few per instance.
/// Operations are counted, not time.
#[test]
fn scale_reload_work_is_linear_in_the_instance_count() {
    let small = reload_work(1_000);
    let large = reload_work(10_000);
    eprintln!("reload config work: {small} at 1,000, {large} at 10,000 instances");
    assert!(small > 0);
    assert!(
        large <= small * 15,
        "reload work grew from {small} to {large} for 10x the instances"
    );
    assert!(large <= 10 * 10_000, "{large} lookups for 10,000 instances");
}
