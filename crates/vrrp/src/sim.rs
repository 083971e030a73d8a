//! A deterministic simulator: N routers running [`Engine`]s on one simulated LAN with a
//! virtual clock, packet loss, delay, partitions, frozen and dead nodes, restarts and
//! tracker changes. Everything random comes from a seeded [`Rng`], so a run is a pure
//! function of its seed and script.
//!
//! Model: every node has one interface, `eth0`, with one address. A multicast advert
//! reaches every other live node in the same partition (each copy lost with probability
//! `loss`, delayed uniformly in `delay_min..=delay_max`); a unicast advert reaches the node
//! owning the destination address. A frozen node (SIGSTOP) neither runs timers nor receives
//! (packets to it are dropped); on thaw its overdue timers fire at once. A killed node
//! (SIGKILL) keeps the addresses it held, as a real host would, but is otherwise gone.
//!
//! The simulator records every delivery and state transition ([`Sim::trace`]) so tests can
//! check timing properties against an independent model, and it checks after every step
//! that no sync group on a node is split ([`Sim::violations`]).

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::net::IpAddr;
use std::time::Duration;

use crate::config::{EngineConfig, Family, TrackKind};
use crate::engine::Engine;
use crate::event::{Action, Input, Packet, Reason, State, TrackStatus};
use crate::packet::Advert;
use crate::time::Timestamp;

/// SplitMix64: a tiny, good-enough, seedable PRNG (no dependency).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }
}

/// Network behaviour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetConfig {
    /// Probability that one copy of a packet is lost.
    pub loss: f64,
    /// Smallest delivery delay.
    pub delay_min: Duration,
    /// Largest delivery delay.
    pub delay_max: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            loss: 0.0,
            delay_min: Duration::from_micros(100),
            delay_max: Duration::from_micros(100),
        }
    }
}

/// Liveness of a simulated node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Running.
    Running,
    /// SIGSTOPped.
    Frozen,
    /// Crashed or killed; keeps its addresses.
    Dead,
    /// Stopped gracefully (released its addresses).
    Stopped,
}

/// One simulated router.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its address on `eth0`.
    pub addr: IpAddr,
    /// Its configuration (used again on restart).
    pub config: EngineConfig,
    /// The engine (replaced on restart).
    pub engine: Engine,
    /// Running, frozen, dead or stopped.
    pub liveness: Liveness,
    /// Partition label: nodes talk only within the same label.
    pub segment: u32,
    /// Addresses currently installed on this node (by Add/DelAddresses).
    pub held: BTreeSet<IpAddr>,
    /// Tracker states fed so far (re-fed after a restart).
    trackers: Vec<(TrackKind, String, TrackStatus)>,
}

/// One thing that happened, for property checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// An advert was handed to a node's engine.
    Delivered {
        /// Receiving node.
        to: usize,
        /// Sending node.
        from: usize,
        /// VRID in the advert.
        vrid: u8,
        /// Priority in the advert.
        priority: u8,
    },
    /// An instance changed state.
    Transition {
        /// Node.
        node: usize,
        /// Instance name.
        instance: String,
        /// Previous state.
        from: State,
        /// New state.
        to: State,
        /// Effective priority.
        priority: u8,
        /// Why.
        reason: Reason,
    },
    /// A node was frozen, thawed, killed, stopped or (re)started.
    Liveness {
        /// Node.
        node: usize,
        /// New liveness.
        to: Liveness,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Delivery {
    at: Timestamp,
    seq: u64,
    to: usize,
    from: usize,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    bytes: Vec<u8>,
}

/// The simulated LAN.
#[derive(Debug, Clone)]
pub struct Sim {
    /// Virtual time.
    pub now: Timestamp,
    /// The routers.
    pub nodes: Vec<Node>,
    /// Network behaviour (may be changed between steps).
    pub net: NetConfig,
    /// The random source.
    pub rng: Rng,
    /// Everything that happened, with its time.
    pub trace: Vec<(Timestamp, TraceEvent)>,
    /// Invariant violations seen (a sync group split on a node).
    pub violations: Vec<String>,
    /// Packets in flight, earliest first.
    queue: BinaryHeap<Reverse<Delivery>>,
    seq: u64,
    /// Adverts sent, all nodes together.
    pub adverts_sent: u64,
    /// When true, packets reaching a frozen node wait in its socket buffer (up to
    /// [`Sim::FROZEN_BUFFER`] packets) and are read, stale, as soon as it is thawed, before its
    /// overdue timers. When false (the default) they are dropped.
    pub buffer_while_frozen: bool,
    /// Per node: packets buffered while frozen.
    frozen_rx: Vec<Vec<Delivery>>,
}

impl Sim {
    /// An empty LAN at time zero.
    pub fn new(seed: u64, net: NetConfig) -> Sim {
        Sim {
            now: Timestamp::ZERO,
            nodes: Vec::new(),
            net,
            rng: Rng::new(seed),
            trace: Vec::new(),
            violations: Vec::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            adverts_sent: 0,
            buffer_while_frozen: false,
            frozen_rx: Vec::new(),
        }
    }

    /// Add a router (not started). Its instances should use interface `eth0` and no
    /// `src_addr`: the simulator reports `addr` as the interface's address.
    pub fn add_node(
        &mut self,
        addr: IpAddr,
        config: EngineConfig,
    ) -> Result<usize, crate::ConfigError> {
        let engine = Engine::new(config.clone())?;
        self.frozen_rx.push(Vec::new());
        self.nodes.push(Node {
            addr,
            config,
            engine,
            liveness: Liveness::Stopped,
            segment: 0,
            held: BTreeSet::new(),
            trackers: Vec::new(),
        });
        Ok(self.nodes.len() - 1)
    }

    fn feed(&mut self, i: usize, input: Input<'_>) {
        let actions = self.nodes[i].engine.handle(input, self.now);
        self.apply(i, actions);
        self.check_groups(i);
    }

    fn apply(&mut self, i: usize, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::SendAdvert {
                    src,
                    dst,
                    ttl,
                    bytes,
                    ..
                } => {
                    self.adverts_sent += 1;
                    self.transmit(i, src, dst, ttl, bytes);
                }
                Action::AddAddresses { addrs, .. } => {
                    for v in addrs.vips.iter().chain(&addrs.excluded) {
                        self.nodes[i].held.insert(v.addr);
                    }
                }
                Action::DelAddresses { addrs, .. } => {
                    for v in addrs.vips.iter().chain(&addrs.excluded) {
                        self.nodes[i].held.remove(&v.addr);
                    }
                }
                Action::StateChanged {
                    instance,
                    from,
                    to,
                    priority,
                    reason,
                } => self.trace.push((
                    self.now,
                    TraceEvent::Transition {
                        node: i,
                        instance: instance.to_string(),
                        from,
                        to,
                        priority,
                        reason,
                    },
                )),
                _ => {}
            }
        }
    }

    fn transmit(&mut self, from: usize, src: IpAddr, dst: IpAddr, ttl: u8, bytes: Vec<u8>) {
        let targets: Vec<usize> = if dst.is_multicast() {
            (0..self.nodes.len()).filter(|&j| j != from).collect()
        } else {
            (0..self.nodes.len())
                .filter(|&j| self.nodes[j].addr == dst)
                .collect()
        };
        for to in targets {
            if self.nodes[to].segment != self.nodes[from].segment || self.rng.chance(self.net.loss)
            {
                continue;
            }
            let lo = self.net.delay_min.as_micros() as u64;
            let hi = (self.net.delay_max.as_micros() as u64).max(lo);
            let at = self.now + Duration::from_micros(self.rng.range(lo, hi));
            self.seq += 1;
            self.queue.push(Reverse(Delivery {
                at,
                seq: self.seq,
                to,
                from,
                src,
                dst,
                ttl,
                bytes: bytes.clone(),
            }));
        }
    }

    fn check_groups(&mut self, i: usize) {
        let n = &self.nodes[i];
        for g in &n.config.sync_groups {
            let states: Vec<State> = g
                .members
                .iter()
                .filter_map(|m| n.engine.instance(m))
                .map(|s| s.state)
                .filter(|s| *s != State::Initialize)
                .collect();
            if states.windows(2).any(|w| w[0] != w[1]) {
                self.violations.push(format!(
                    "{}: node {i}: sync group {} split: {:?}",
                    self.now, g.name, states
                ));
            }
        }
    }

    fn set_liveness(&mut self, i: usize, to: Liveness) {
        self.nodes[i].liveness = to;
        self.trace
            .push((self.now, TraceEvent::Liveness { node: i, to }));
    }

    /// Start node `i` (its interface address, its trackers, then Startup).
    pub fn start(&mut self, i: usize) {
        self.power_on(i);
        self.feed(i, Input::Startup);
    }

    /// Mark node `i` running and feed it its interface address and its trackers' states:
    /// what comes before Startup.
    fn power_on(&mut self, i: usize) {
        self.set_liveness(i, Liveness::Running);
        let addr = self.nodes[i].addr;
        self.feed(
            i,
            Input::InterfaceAddress {
                iface: "eth0",
                family: Family::of(addr),
                addr: Some(addr),
            },
        );
        self.feed_trackers(i);
    }

    /// Feed node `i` its trackers' current states.
    fn feed_trackers(&mut self, i: usize) {
        for (kind, name, status) in self.nodes[i].trackers.clone() {
            self.feed(
                i,
                Input::Tracker {
                    kind,
                    name: &name,
                    status,
                },
            );
        }
    }

    /// Restart node `i` with a fresh engine. With `resume`, the previous engine's states
    /// are fed back with [`Input::Resume`] (what the parent does after a child dies).
    pub fn restart(&mut self, i: usize, resume: bool) {
        self.frozen_rx[i].clear();
        let old: Vec<(String, State)> = self.nodes[i]
            .engine
            .instances()
            .map(|s| (s.name.to_string(), s.state))
            .collect();
        let Ok(engine) = Engine::new(self.nodes[i].config.clone()) else {
            return;
        };
        self.nodes[i].engine = engine;
        if resume {
            self.power_on(i);
            for (name, state) in old {
                self.feed(
                    i,
                    Input::Resume {
                        instance: &name,
                        state,
                    },
                );
            }
            self.feed(i, Input::Startup);
        } else {
            self.start(i);
        }
    }

    /// SIGSTOP node `i`.
    pub fn freeze(&mut self, i: usize) {
        if self.nodes[i].liveness == Liveness::Running {
            self.set_liveness(i, Liveness::Frozen);
        }
    }

    /// SIGCONT node `i`: overdue timers fire at once.
    pub fn thaw(&mut self, i: usize) {
        if self.nodes[i].liveness == Liveness::Frozen {
            self.set_liveness(i, Liveness::Running);
            // Events queued while stopped (link, trackers) are read first, then timers.
            self.feed_trackers(i);
            for d in std::mem::take(&mut self.frozen_rx[i]) {
                self.deliver(d);
            }
            self.feed(i, Input::Timer);
        }
    }

    /// How many packets a frozen node's socket holds (the rest is dropped).
    pub const FROZEN_BUFFER: usize = 64;

    fn deliver(&mut self, d: Delivery) {
        if d.bytes.len() >= 3 {
            self.trace.push((
                self.now,
                TraceEvent::Delivered {
                    to: d.to,
                    from: d.from,
                    // (AH adverts are whole IPv4 packets: the peeks skip the headers.)
                    vrid: Advert::peek_vrid(&d.bytes).unwrap_or(0),
                    priority: Advert::peek_priority(&d.bytes).unwrap_or(0),
                },
            ));
        }
        self.feed(
            d.to,
            Input::Packet(Packet {
                iface: "eth0",
                src: d.src,
                dst: d.dst,
                ttl: d.ttl,
                bytes: &d.bytes,
                received: None,
            }),
        );
    }

    /// SIGKILL node `i` (addresses stay where they were).
    pub fn kill(&mut self, i: usize) {
        self.frozen_rx[i].clear();
        self.set_liveness(i, Liveness::Dead);
    }

    /// Graceful stop (priority 0, addresses released).
    pub fn stop(&mut self, i: usize) {
        self.frozen_rx[i].clear();
        if self.nodes[i].liveness == Liveness::Running {
            self.feed(i, Input::Shutdown);
        }
        self.set_liveness(i, Liveness::Stopped);
    }

    /// Reload node `i` with `config` (kept for later restarts). A running engine applies it
    /// at once ([`Engine::reload`]); a refused config changes nothing.
    pub fn reload(&mut self, i: usize, config: EngineConfig) -> Result<(), crate::ConfigError> {
        config.validate()?;
        self.nodes[i].config = config.clone();
        if self.nodes[i].liveness == Liveness::Running {
            let actions = self.nodes[i].engine.reload(config, self.now)?;
            self.apply(i, actions);
            self.check_groups(i);
        } else if matches!(self.nodes[i].liveness, Liveness::Frozen) {
            // A frozen process reads the reload request when thawed; model it as applied
            // now (the engine is not running timers meanwhile anyway).
            let actions = self.nodes[i].engine.reload(config, self.now)?;
            self.apply(i, actions);
        }
        Ok(())
    }

    /// Report a tracker on node `i` (remembered across restarts).
    pub fn set_tracker(&mut self, i: usize, kind: TrackKind, name: &str, status: TrackStatus) {
        let t = &mut self.nodes[i].trackers;
        t.retain(|(k, n, _)| !(*k == kind && n == name));
        t.push((kind, name.to_string(), status));
        if self.nodes[i].liveness == Liveness::Running {
            self.feed(i, Input::Tracker { kind, name, status });
        }
    }

    /// Link of node `i` up or down (its `eth0`; also cuts it off the LAN while down).
    pub fn set_link(&mut self, i: usize, up: bool) {
        self.set_tracker(
            i,
            TrackKind::Interface,
            "eth0",
            if up {
                TrackStatus::Up
            } else {
                TrackStatus::Down
            },
        );
        // A down link is a partition of its own.
        self.nodes[i].segment = if up { 0 } else { 1000 + i as u32 };
    }

    /// Put each node in the segment given by `segment_of` (same label: same partition).
    pub fn partition(&mut self, segment_of: &[u32]) {
        for (n, s) in self.nodes.iter_mut().zip(segment_of) {
            n.segment = *s;
        }
    }

    /// One partition again.
    pub fn heal(&mut self) {
        for n in &mut self.nodes {
            n.segment = 0;
        }
    }

    /// Run until virtual time `until` (inclusive). Packets due at the same instant as a
    /// timer are delivered first.
    pub fn run_until(&mut self, until: Timestamp) {
        loop {
            let timer = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.liveness == Liveness::Running)
                .filter_map(|(i, n)| n.engine.next_deadline().map(|t| (t, i)))
                .min();
            let pkt = self.queue.peek().map(|Reverse(d)| d.at);
            let take_pkt = match (pkt, timer) {
                (Some(p), Some((t, _))) => p <= t,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_pkt {
                let Some(Reverse(d)) = self.queue.peek().cloned() else {
                    break;
                };
                if d.at > until {
                    break;
                }
                self.queue.pop();
                self.now = self.now.max(d.at);
                if self.nodes[d.to].segment != self.nodes[d.from].segment {
                    continue;
                }
                match self.nodes[d.to].liveness {
                    Liveness::Running => self.deliver(d),
                    Liveness::Frozen if self.buffer_while_frozen => {
                        let q = &mut self.frozen_rx[d.to];
                        if q.len() < Self::FROZEN_BUFFER {
                            q.push(d);
                        }
                    }
                    _ => {}
                }
            } else if let Some((t, i)) = timer {
                if t > until {
                    break;
                }
                self.now = self.now.max(t);
                self.feed(i, Input::Timer);
            }
        }
        self.now = self.now.max(until);
    }

    /// Run for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// State of `instance` on node `i` (None if the node has no such instance).
    pub fn state(&self, i: usize, instance: &str) -> Option<State> {
        self.nodes[i].engine.instance(instance).map(|s| s.state)
    }

    /// Nodes that are running and MASTER for `instance`.
    pub fn masters(&self, instance: &str) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i].liveness == Liveness::Running
                    && self.state(i, instance) == Some(State::Master)
            })
            .collect()
    }

    /// Running nodes that hold `addr`.
    pub fn holders(&self, addr: IpAddr) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i].liveness == Liveness::Running && self.nodes[i].held.contains(&addr)
            })
            .collect()
    }
}
