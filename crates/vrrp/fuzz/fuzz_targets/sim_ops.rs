//! The engine on the simulated LAN under an arbitrary scenario: the bytes pick the routers
//! (priorities, preempt, interval, sync groups, unicast) and a sequence of troubles (freeze,
//! thaw, kill, restart with or without Resume, graceful stop, partitions, loss, link flaps,
//! tracker changes, reloads). Invariants: no panic, no sync group ever split, and after the
//! network heals: exactly one MASTER per VRID and its VIP on that router only.
#![no_main]

use std::net::IpAddr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use vrrp::sim::{Liveness, NetConfig, Sim};
use vrrp::{
    EngineConfig, InstanceConfig, State, SyncGroupConfig, TrackConfig, TrackKind, TrackStatus,
    UnicastPeer, Version,
};

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
}

fn addr(i: usize) -> IpAddr {
    IpAddr::from([10, 0, 0, (i + 1) as u8])
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let flags = b.u8();
    let n = 2 + usize::from(flags & 3);
    let groups = flags & 4 != 0;
    let unicast = flags & 8 != 0;
    let cs = 5 + u64::from(b.u8() % 46);
    let names: &[&str] = if groups { &["VI_1", "VI_2"] } else { &["VI_1"] };
    let mut sim = Sim::new(u64::from(b.u8()), NetConfig::default());
    sim.buffer_while_frozen = flags & 16 != 0;
    for i in 0..n {
        let prio = b.u8().max(1).min(254);
        let preempt = b.u8() & 1 == 0;
        let mut instances = Vec::new();
        for (k, name) in names.iter().enumerate() {
            let vip = IpAddr::from([10, 0, k as u8 + 1, 100]);
            let mut c = InstanceConfig::new(name, "eth0", k as u8 + 1, &[vip]);
            c.version = Version::V3;
            c.advert_int = Duration::from_millis(cs * 10);
            c.priority = prio;
            c.preempt = preempt;
            c.track.push(TrackConfig {
                kind: TrackKind::Script,
                name: "chk".into(),
                weight: -60,
                reverse: false,
            });
            if unicast {
                c.unicast_peers = (0..n)
                    .filter(|j| *j != i)
                    .map(|j| UnicastPeer::new(addr(j)))
                    .collect();
            }
            instances.push(c);
        }
        let cfg = EngineConfig {
            instances,
            sync_groups: if groups {
                vec![SyncGroupConfig {
                    name: "G".into(),
                    members: vec!["VI_1".into(), "VI_2".into()],
                }]
            } else {
                vec![]
            },
        };
        if sim.add_node(addr(i), cfg).is_err() {
            return;
        }
        sim.start(i);
    }
    let int = Duration::from_millis(cs * 10);
    for _ in 0..64 {
        if b.0.is_empty() {
            break;
        }
        let op = b.u8();
        let i = usize::from(b.u8()) % n;
        sim.run_for(int * u32::from(b.u8() % 16) + Duration::from_millis(1));
        match op % 12 {
            0 => sim.freeze(i),
            1 => sim.thaw(i),
            2 => sim.kill(i),
            3 => {
                if matches!(sim.nodes[i].liveness, Liveness::Dead | Liveness::Stopped) {
                    sim.restart(i, op & 0x80 != 0);
                }
            }
            4 => sim.stop(i),
            5 => {
                let seg: Vec<u32> = (0..n).map(|j| u32::from((op >> (j % 4)) & 1)).collect();
                sim.partition(&seg);
            }
            6 => sim.heal(),
            7 => sim.net.loss = f64::from(op >> 4) / 16.0,
            8 => sim.set_tracker(
                i,
                TrackKind::Script,
                "chk",
                if op & 0x80 != 0 {
                    TrackStatus::Up
                } else {
                    TrackStatus::Down
                },
            ),
            9 if matches!(sim.nodes[i].liveness, Liveness::Running | Liveness::Frozen) => {
                let mut cfg = sim.nodes[i].config.clone();
                for c in &mut cfg.instances {
                    c.priority = (op >> 1).max(1).min(254);
                }
                let _ = sim.reload(i, cfg);
            }
            _ => sim.set_link(i, op & 0x80 != 0),
        }
    }
    assert!(sim.violations.is_empty(), "{:?}", sim.violations);
    // Heal everything and let it settle.
    sim.heal();
    sim.net.loss = 0.0;
    for i in 0..n {
        sim.set_link(i, true);
        sim.thaw(i);
        if matches!(sim.nodes[i].liveness, Liveness::Dead | Liveness::Stopped) {
            sim.restart(i, false);
        }
    }
    sim.run_for(int * 12 + Duration::from_secs(2));
    assert!(sim.violations.is_empty(), "{:?}", sim.violations);
    for (k, name) in names.iter().enumerate() {
        let masters = sim.masters(name);
        assert_eq!(masters.len(), 1, "{name}: masters {masters:?}");
        let vip = IpAddr::from([10, 0, k as u8 + 1, 100]);
        assert_eq!(sim.holders(vip), masters, "{vip}");
        assert!(masters
            .iter()
            .all(|m| sim.state(*m, name) == Some(State::Master)));
    }
});
