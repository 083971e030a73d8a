//! How much CPU the engine needs for many instances: two routers with N instances each
//! (default 1000 = 4 interfaces x 250 VRIDs, advert_int 1 s, VRRPv2), linked by an
//! in-memory wire per interface (100 µs delay), run for 60 s of virtual time. Prints the
//! CPU time (user + system, getrusage) spent per advert (building it at the master, and
//! checking and processing it at the backup) and the engine's work counter per advert
//! ([`vrrp::EngineStats::instances_examined`]), at 1,000 and 10,000 instances by default:
//! both stay flat as the instance count grows.
//!
//! `cargo run --release -p vrrp --example scale [N...]`

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vrrp::{Action, Engine, EngineConfig, Family, Input, InstanceConfig, Packet, State, Timestamp};

fn engine(n: usize, prio: u8, host: u8) -> Result<Engine, Box<dyn std::error::Error>> {
    let mut instances = Vec::new();
    for k in 0..n {
        let vrid = u8::try_from(k % 250 + 1)?;
        let net = k / 250;
        let vip = format!("10.{}.{}.100", 100 + net, vrid).parse()?;
        let mut c = InstanceConfig::new(&format!("VI_{k}"), &format!("eth{net}"), vrid, &[vip]);
        c.priority = prio;
        instances.push(c);
    }
    let mut e = Engine::new(EngineConfig {
        instances,
        sync_groups: vec![],
    })?;
    for net in 0..n.div_ceil(250) {
        let addr: IpAddr = format!("10.{}.0.{host}", 100 + net).parse()?;
        let iface = format!("eth{net}");
        e.handle(
            Input::InterfaceAddress {
                iface: &iface,
                family: Family::V4,
                addr: Some(addr),
            },
            Timestamp::ZERO,
        );
    }
    Ok(e)
}

struct Wire {
    at: Timestamp,
    to: usize,
    iface: Arc<str>,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    bytes: Vec<u8>,
}

/// CPU time of this process so far (user + system).
fn cpu_time() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |u| {
        let tv = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
                + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
        };
        tv(u.user_time()) + tv(u.system_time())
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![1000, 10_000];
    }
    for n in sizes {
        measure(n)?;
    }
    Ok(())
}

fn measure(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut routers = [engine(n, 150, 1)?, engine(n, 100, 2)?];
    let mut wire: VecDeque<Wire> = VecDeque::new();
    let mut now = Timestamp::ZERO;
    let mut sent = 0u64;
    let mut handled = 0u64;
    let mut buf = Vec::new();
    let mut run = |routers: &mut [Engine; 2],
                   until: Timestamp,
                   now: &mut Timestamp,
                   sent: &mut u64,
                   handled: &mut u64| {
        for r in routers.iter_mut() {
            buf.clear();
            if *now == Timestamp::ZERO && r.instances().all(|s| s.state == State::Initialize) {
                r.handle_into(Input::Startup, *now, &mut buf);
            }
        }
        loop {
            let t_wire = wire.front().map(|w| w.at);
            let t_timer = (0..2)
                .filter_map(|r| routers[r].next_deadline().map(|t| (t, r)))
                .min();
            let (t, from_wire, r) = match (t_wire, t_timer) {
                (Some(w), Some((t, r))) if w <= t => (w, true, r),
                (Some(w), None) => (w, true, 0),
                (_, Some((t, r))) => (t, false, r),
                (None, None) => break,
            };
            if t > until {
                break;
            }
            *now = t;
            buf.clear();
            let from = if from_wire {
                let Some(w) = wire.pop_front() else { break };
                *handled += 1;
                routers[w.to].handle_into(
                    Input::Packet(Packet {
                        iface: &w.iface,
                        src: w.src,
                        dst: w.dst,
                        ttl: w.ttl,
                        bytes: &w.bytes,
                        received: None,
                    }),
                    *now,
                    &mut buf,
                );
                w.to
            } else {
                routers[r].handle_into(Input::Timer, *now, &mut buf);
                r
            };
            for a in buf.drain(..) {
                if let Action::SendAdvert {
                    iface,
                    src,
                    dst,
                    ttl,
                    bytes,
                    ..
                } = a
                {
                    *sent += 1;
                    wire.push_back(Wire {
                        at: *now + Duration::from_micros(100),
                        to: 1 - from,
                        iface,
                        src,
                        dst,
                        ttl,
                        bytes,
                    });
                }
            }
        }
        *now = until;
    };
    let t0 = Instant::now();
    run(
        &mut routers,
        Timestamp::from_millis(10_000),
        &mut now,
        &mut sent,
        &mut handled,
    );
    let warm = t0.elapsed();
    let masters = routers[0]
        .instances()
        .filter(|s| s.state == State::Master)
        .count();
    let backups = routers[1]
        .instances()
        .filter(|s| s.state == State::Backup)
        .count();
    let (s0, h0) = (sent, handled);
    let w0 = routers[1].stats().instances_examined;
    let c1 = cpu_time();
    let t1 = Instant::now();
    run(
        &mut routers,
        Timestamp::from_millis(70_000),
        &mut now,
        &mut sent,
        &mut handled,
    );
    let steady = t1.elapsed();
    let cpu = cpu_time().saturating_sub(c1);
    let work = routers[1].stats().instances_examined - w0;
    let (s, h) = (sent - s0, handled - h0);
    println!("{n} instances per router: {masters} MASTER on A, {backups} BACKUP on B");
    println!("startup and election (10 s virtual): {warm:?} real");
    println!(
        "steady state, 60 s virtual: {s} adverts built, {h} checked and processed, in {steady:?} real, \
         {cpu:?} CPU"
    );
    println!(
        "{n} instances: {:.3} us CPU per advert (both ends) = {:.4}% of one core for the two \
         engines; backup work {:.2} instances examined per advert",
        cpu.as_secs_f64() * 1e6 / s.max(1) as f64,
        cpu.as_secs_f64() / 60.0 * 100.0,
        work as f64 / h.max(1) as f64
    );
    Ok(())
}
