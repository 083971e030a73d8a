//! Engines of one instance, as most engine tests build them.
#![allow(dead_code)] // each test file uses a part

use std::net::IpAddr;

use vrrp::{
    Action, Engine, EngineConfig, Input, InstanceConfig, Packet, State, SyncGroupConfig, Timestamp,
};

/// This router's address.
pub const ME: &str = "10.0.0.2";
/// The other router's address.
pub const PEER: &str = "10.0.0.1";
/// The VRRP IPv4 multicast group.
pub const GROUP: &str = "224.0.0.18";

/// An address literal.
pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address literal")
}

/// Instance `VI` on eth0, VRID 7, VIP 10.0.0.100, source address [`ME`].
pub fn instance() -> InstanceConfig {
    let mut c = InstanceConfig::new("VI", "eth0", 7, &[ip("10.0.0.100")]);
    c.src_addr = Some(ip(ME));
    c
}

/// An engine running the one instance `c` (no sync group).
pub fn engine(c: InstanceConfig) -> Engine {
    Engine::new(EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    })
    .expect("a valid instance")
}

/// Instances `VI_1` ([`instance`] renamed) and `VI_2` (VRID 8, VIP 10.0.0.200, source
/// [`ME`]) in sync group `G`, started at time zero.
pub fn started_group_pair() -> Engine {
    let mut a = instance();
    a.name = "VI_1".into();
    let mut b = InstanceConfig::new("VI_2", "eth0", 8, &[ip("10.0.0.200")]);
    b.src_addr = Some(ip(ME));
    let mut e = Engine::new(EngineConfig {
        instances: vec![a, b],
        sync_groups: vec![SyncGroupConfig {
            name: "G".into(),
            members: vec!["VI_1".into(), "VI_2".into()],
        }],
    })
    .expect("a valid sync group");
    e.handle(Input::Startup, Timestamp::ZERO);
    e
}

/// [`engine`], started at time zero (BACKUP, or FAULT for want of a source address).
pub fn started(c: InstanceConfig) -> Engine {
    let mut e = engine(c);
    e.handle(Input::Startup, Timestamp::ZERO);
    e
}

/// A packet received on eth0 from `src` for `dst` with `ttl`, handed over as it arrived
/// (`received`: None).
pub fn packet<'a>(src: &str, dst: &str, ttl: u8, bytes: &'a [u8]) -> Packet<'a> {
    Packet {
        iface: "eth0",
        src: ip(src),
        dst: ip(dst),
        ttl,
        bytes,
        received: None,
    }
}

/// [`packet`] handed to `e` at `now`: its actions.
pub fn receive(
    e: &mut Engine,
    src: &str,
    dst: &str,
    ttl: u8,
    bytes: &[u8],
    now: Timestamp,
) -> Vec<Action> {
    e.handle(Input::Packet(packet(src, dst, ttl, bytes)), now)
}

/// Run `e` to its next deadline, where instance `VI` must become MASTER (nobody else
/// spoke): that time and the actions of the takeover.
pub fn take_over(e: &mut Engine) -> (Timestamp, Vec<Action>) {
    let t = e.next_deadline().expect("a deadline");
    let out = e.handle(Input::Timer, t);
    assert_eq!(e.instance("VI").expect("VI").state, State::Master);
    (t, out)
}

/// A short name for the kind of `a`, for asserting on a sequence of actions.
pub fn kind(a: &Action) -> &'static str {
    match a {
        Action::SendAdvert { .. } => "advert",
        Action::AddAddresses { .. } => "add",
        Action::DelAddresses { .. } => "del",
        Action::SendGarp { .. } => "garp",
        Action::SendNa { .. } => "na",
        Action::StateChanged { .. } => "state",
        Action::Notify { .. } => "notify",
        Action::MasterRxLowerPriority { .. } => "rx_lower",
        Action::PriorityChanged { .. } => "prio",
        Action::RogueOwner { .. } => "rogue",
        Action::MasterHeard { .. } => "heard",
    }
}

/// The [`kind`] of each action, in order.
pub fn kinds(actions: &[Action]) -> Vec<&'static str> {
    actions.iter().map(kind).collect()
}
