//! Two VRRP routers on an in-memory link, driven by hand: the loop every I/O layer runs
//! (wait for a packet or the next deadline, feed it with the time, carry out the actions),
//! with a virtual clock instead of a real one.
//!
//! `cargo run -p vrrp --example two_routers`
//!
//! Router A (priority 150) and router B (priority 100) share VIP 192.0.2.100. A becomes
//! MASTER; then A shuts down gracefully (priority-0 advert) and B takes over after the skew
//! time only; A comes back and preempts.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

use vrrp::{Action, Engine, EngineConfig, Input, InstanceConfig, Packet, Timestamp};

/// A packet on the wire: who sent it, and the IP fields the receiver needs.
struct Frame {
    from: usize,
    at: Timestamp,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    bytes: Vec<u8>,
}

struct Router {
    name: &'static str,
    engine: Engine,
    running: bool,
}

fn router(name: &'static str, addr: &str, prio: u8) -> Result<Router, Box<dyn std::error::Error>> {
    let mut c = InstanceConfig::new("VI_1", "eth0", 51, &["192.0.2.100".parse()?]);
    c.priority = prio;
    c.src_addr = Some(addr.parse()?);
    let engine = Engine::new(EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    })?;
    Ok(Router {
        name,
        engine,
        running: false,
    })
}

/// Carry out `actions` of router `me`: adverts go on the link (1 ms later), the rest is
/// printed where a real I/O layer would call netlink, send ARPs or run scripts.
fn execute(
    me: usize,
    name: &str,
    now: Timestamp,
    actions: Vec<Action>,
    link: &mut VecDeque<Frame>,
) {
    for a in actions {
        match a {
            Action::SendAdvert {
                src,
                dst,
                ttl,
                bytes,
                ..
            } => link.push_back(Frame {
                from: me,
                at: now + Duration::from_millis(1),
                src,
                dst,
                ttl,
                bytes,
            }),
            Action::StateChanged {
                from, to, priority, ..
            } => {
                println!("{now:>12} {name}: {from} -> {to} (priority {priority})")
            }
            Action::AddAddresses { addrs, .. } => {
                println!(
                    "{now:>12} {name}: add {:?}",
                    addrs.vips.iter().map(|v| v.addr).collect::<Vec<_>>()
                )
            }
            Action::DelAddresses { addrs, .. } => {
                println!(
                    "{now:>12} {name}: del {:?}",
                    addrs.vips.iter().map(|v| v.addr).collect::<Vec<_>>()
                )
            }
            Action::SendGarp { addrs, repeat, .. } => {
                println!(
                    "{now:>12} {name}: {repeat} gratuitous ARP(s) for {} address(es)",
                    addrs.len()
                )
            }
            _ => {}
        }
    }
}

/// Run both routers until `until`: deliver frames and fire timers in time order.
fn run(routers: &mut [Router], link: &mut VecDeque<Frame>, now: &mut Timestamp, until: Timestamp) {
    loop {
        let next_frame = link.front().map(|f| f.at);
        let next_timer = routers
            .iter()
            .enumerate()
            .filter(|(_, r)| r.running)
            .filter_map(|(i, r)| r.engine.next_deadline().map(|t| (t, i)))
            .min();
        match (next_frame, next_timer) {
            (Some(f), t) if f <= until && t.is_none_or(|(t, _)| f <= t) => {
                let Some(frame) = link.pop_front() else {
                    return;
                };
                *now = frame.at;
                for (i, r) in routers.iter_mut().enumerate() {
                    if i == frame.from || !r.running {
                        continue;
                    }
                    let input = Input::Packet(Packet {
                        iface: "eth0",
                        src: frame.src,
                        dst: frame.dst,
                        ttl: frame.ttl,
                        bytes: &frame.bytes,
                        received: None,
                    });
                    let actions = r.engine.handle(input, *now);
                    execute(i, r.name, *now, actions, link);
                }
            }
            (_, Some((t, i))) if t <= until => {
                *now = t;
                let actions = routers[i].engine.handle(Input::Timer, *now);
                execute(i, routers[i].name, *now, actions, link);
            }
            _ => break,
        }
    }
    *now = until;
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut routers = vec![
        router("A", "192.0.2.1", 150)?,
        router("B", "192.0.2.2", 100)?,
    ];
    let mut link = VecDeque::new();
    let mut now = Timestamp::ZERO;

    println!("-- both start");
    for (i, r) in routers.iter_mut().enumerate() {
        r.running = true;
        let actions = r.engine.handle(Input::Startup, now);
        execute(i, r.name, now, actions, &mut link);
    }
    run(
        &mut routers,
        &mut link,
        &mut now,
        Timestamp::from_millis(10_000),
    );

    println!("-- A shuts down gracefully");
    let actions = routers[0].engine.handle(Input::Shutdown, now);
    execute(0, "A", now, actions, &mut link);
    routers[0].running = false;
    run(
        &mut routers,
        &mut link,
        &mut now,
        Timestamp::from_millis(20_000),
    );

    println!("-- A starts again (preempts B)");
    routers[0].running = true;
    let actions = routers[0].engine.handle(Input::Startup, now);
    execute(0, "A", now, actions, &mut link);
    run(
        &mut routers,
        &mut link,
        &mut now,
        Timestamp::from_millis(30_000),
    );

    for r in &routers {
        if let Some(s) = r.engine.instance("VI_1") {
            println!(
                "{}: {} priority {} adverts sent {} received {}",
                r.name, s.state, s.priority, s.stats.adverts_sent, s.stats.adverts_rcvd
            );
        }
    }
    Ok(())
}
