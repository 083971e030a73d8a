//! How much CPU the engine needs for many instances: two routers with N instances each
//! (default 1000 = 4 interfaces x 250 VRIDs, advert_int 1 s, VRRPv2), linked by an
//! in-memory wire per interface (100 µs delay), run for 60 s of virtual time. Prints the
//! CPU time (user + system, getrusage) spent per advert (building it at the master, and
//! checking and processing it at the backup) and the engine's work counter per advert
//! ([`vrrp::EngineStats::instances_examined`]), at 1,000 and 10,000 instances by default:
//! both stay flat as the instance count grows.
//!
//! `cargo run --release -p vrrp --example scale [N...]`

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp::{Engine, EngineConfig, Family, Input, InstanceConfig, State, Timestamp};

#[path = "../tests/support/wire.rs"]
mod wire;

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
    let mut wire = wire::Wire::default();
    let t0 = Instant::now();
    for r in routers.iter_mut() {
        r.handle(Input::Startup, Timestamp::ZERO);
    }
    wire.run(&mut routers, Timestamp::from_millis(10_000));
    let warm = t0.elapsed();
    let masters = routers[0]
        .instances()
        .filter(|s| s.state == State::Master)
        .count();
    let backups = routers[1]
        .instances()
        .filter(|s| s.state == State::Backup)
        .count();
    let handled = |w: &wire::Wire| w.received[0] + w.received[1];
    let (s0, h0) = (wire.sent, handled(&wire));
    let w0 = routers[1].stats().instances_examined;
    let c1 = cpu_time();
    let t1 = Instant::now();
    wire.run(&mut routers, Timestamp::from_millis(70_000));
    let steady = t1.elapsed();
    let cpu = cpu_time().saturating_sub(c1);
    let work = routers[1].stats().instances_examined - w0;
    let (s, h) = (wire.sent - s0, handled(&wire) - h0);
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
