//! Pacing of gratuitous ARPs and neighbour advertisements: keepalived's
//! `vrrp_garp_interval` / `vrrp_gna_interval` (global) and `garp_group { garp_interval
//! gna_interval interfaces }` put at least that much time between two packets of the same
//! kind on one interface. The engine says *how many* to send (`SendGarp` / `SendNa` with
//! `repeat`); this queue says *when*, without sleeping: the loop sends what
//! [`Pacer::burst`] and [`Pacer::due`] return and wakes again at [`Pacer::next_deadline`].
//!
//! With a non-zero interval, keepalived 2.2.7 does not queue `repeat` copies: an address
//! is either sent now (its interface is free) or marked pending, at most once, and the
//! pending ones go one per interval in the instance's address order. So a burst of
//! `repeat` ≥ 2 for addresses A, B, C gives A now, then A, B, C one interval apart
//! (measured on the wire; `tests/tests/garp_and_track_process.rs` compares the two). With no interval
//! every copy goes at once, address after address, `repeat` rounds.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

/// One announcement to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announce {
    /// A gratuitous ARP ([`super::arp::GarpSender::send`]).
    Garp {
        /// Interface.
        ifindex: u32,
        /// Sender MAC (interface or VMAC).
        mac: [u8; 6],
        /// The VIP.
        addr: Ipv4Addr,
    },
    /// An unsolicited NA ([`super::ndisc::NaSender::send`]).
    Na {
        /// Interface.
        ifindex: u32,
        /// Target link-layer address (interface or VMAC).
        mac: [u8; 6],
        /// The VIP.
        addr: Ipv6Addr,
        /// Router flag.
        router: bool,
    },
}

impl Announce {
    fn key(&self) -> (u32, bool) {
        match self {
            Announce::Garp { ifindex, .. } => (*ifindex, false),
            Announce::Na { ifindex, .. } => (*ifindex, true),
        }
    }
}

/// The queue.
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    garp_interval: Duration,
    gna_interval: Duration,
    per_interface: HashMap<u32, (Duration, Duration)>,
    queue: VecDeque<Announce>,
    last: HashMap<(u32, bool), Instant>,
}

impl Pacer {
    /// A pacer with the global intervals (0: no pacing).
    pub fn new(garp_interval: Duration, gna_interval: Duration) -> Pacer {
        Pacer {
            garp_interval,
            gna_interval,
            ..Pacer::default()
        }
    }

    /// Intervals of a `garp_group` interface, overriding the global ones.
    pub fn set_interface(&mut self, ifindex: u32, garp_interval: Duration, gna_interval: Duration) {
        self.per_interface
            .insert(ifindex, (garp_interval, gna_interval));
    }

    fn interval(&self, key: (u32, bool)) -> Duration {
        let (g, n) = self
            .per_interface
            .get(&key.0)
            .copied()
            .unwrap_or((self.garp_interval, self.gna_interval));
        if key.1 {
            n
        } else {
            g
        }
    }

    /// A burst: `repeat` rounds over `list`, as keepalived's link update. Returns what
    /// may go at `now` (recorded as sent), in order; the rest is queued for [`Pacer::due`].
    pub fn burst(&mut self, now: Instant, list: &[Announce], repeat: u32) -> Vec<Announce> {
        let mut out = Vec::new();
        let mut pending: Vec<(usize, Announce)> = Vec::new();
        for _ in 0..repeat {
            for (i, a) in list.iter().enumerate() {
                let key = a.key();
                if self.interval(key).is_zero() {
                    out.push(*a);
                    self.last.insert(key, now);
                    continue;
                }
                if self.queue.contains(a) || pending.iter().any(|(_, p)| p == a) {
                    continue;
                }
                let free = !self.queue.iter().any(|q| q.key() == key)
                    && self.ready_at(a).is_none_or(|t| t <= now);
                if free {
                    out.push(*a);
                    self.last.insert(key, now);
                } else {
                    pending.push((i, *a));
                }
            }
        }
        pending.sort_by_key(|(i, _)| *i);
        self.queue.extend(pending.into_iter().map(|(_, a)| a));
        out
    }

    /// Change the global intervals and forget the `garp_group` ones (a reload); what is
    /// queued stays queued.
    pub fn reconfigure(&mut self, garp_interval: Duration, gna_interval: Duration) {
        self.garp_interval = garp_interval;
        self.gna_interval = gna_interval;
        self.per_interface.clear();
    }

    /// Drop everything queued for the addresses `keep` rejects (an instance left MASTER).
    pub fn retain(&mut self, mut keep: impl FnMut(&Announce) -> bool) {
        self.queue.retain(|a| keep(a));
    }

    /// Number of packets waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Nothing waiting?
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    fn ready_at(&self, a: &Announce) -> Option<Instant> {
        let key = a.key();
        let last = self.last.get(&key)?;
        last.checked_add(self.interval(key))
    }

    /// Take what may be sent at `now` (and record it as sent). Packets on one interface
    /// keep their order; interfaces do not wait for each other.
    pub fn due(&mut self, now: Instant) -> Vec<Announce> {
        let mut out = Vec::new();
        let mut blocked: Vec<(u32, bool)> = Vec::new();
        let mut rest = VecDeque::with_capacity(self.queue.len());
        while let Some(a) = self.queue.pop_front() {
            let key = a.key();
            let ready = !blocked.contains(&key) && self.ready_at(&a).is_none_or(|t| t <= now);
            if ready {
                out.push(a);
                self.last.insert(key, now);
                if !self.interval(key).is_zero() {
                    blocked.push(key);
                }
            } else {
                blocked.push(key);
                rest.push_back(a);
            }
        }
        self.queue = rest;
        out
    }

    /// When the next queued packet may go (`now` when one may go at once; `None`:
    /// nothing queued).
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let mut seen: Vec<(u32, bool)> = Vec::new();
        let mut best: Option<Instant> = None;
        for a in &self.queue {
            let key = a.key();
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let t = self.ready_at(a);
            best = match (best, t) {
                (_, None) => return Some(now),
                (None, Some(t)) => Some(t),
                (Some(b), Some(t)) => Some(b.min(t)),
            };
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0, 0, 0x5e, 0, 1, 1];

    fn garp(ifindex: u32, last: u8) -> Announce {
        Announce::Garp {
            ifindex,
            mac: MAC,
            addr: Ipv4Addr::new(10, 0, 0, last),
        }
    }

    #[test]
    fn no_interval_sends_everything_at_once_round_robin() {
        let mut p = Pacer::new(Duration::ZERO, Duration::ZERO);
        let now = Instant::now();
        let out = p.burst(now, &[garp(2, 1), garp(2, 2)], 3);
        assert_eq!(
            out,
            vec![
                garp(2, 1),
                garp(2, 2),
                garp(2, 1),
                garp(2, 2),
                garp(2, 1),
                garp(2, 2)
            ]
        );
        assert!(p.is_empty());
        assert_eq!(p.next_deadline(now), None);
    }

    #[test]
    fn interval_keeps_one_pending_copy_per_address_in_list_order() {
        // keepalived 2.2.7, vrrp_garp_interval 0.1, garp_master_repeat 2, three VIPs:
        // .1 at 0, then .1 .2 .3 at 0.1, 0.2, 0.3.
        let iv = Duration::from_millis(100);
        let mut p = Pacer::new(iv, Duration::ZERO);
        let t0 = Instant::now();
        let list = [garp(2, 1), garp(2, 2), garp(2, 3)];
        assert_eq!(p.burst(t0, &list, 2), vec![garp(2, 1)]);
        assert_eq!(p.len(), 3);
        assert_eq!(p.next_deadline(t0), Some(t0 + iv));
        assert!(p.due(t0 + Duration::from_millis(50)).is_empty());
        let mut sent = Vec::new();
        for k in 1..=3 {
            sent.extend(p.due(t0 + iv * k));
        }
        assert_eq!(sent, list.to_vec());
        assert!(p.is_empty());
        // One address, repeat 5: two packets (now and one interval later).
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(p.burst(t1, &[garp(2, 1)], 5).len(), 1);
        assert_eq!(p.len(), 1);
        // A burst while that one is pending adds nothing and sends nothing.
        assert!(p.burst(t1, &[garp(2, 1)], 5).is_empty());
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn interfaces_and_kinds_are_paced_separately() {
        let iv = Duration::from_millis(10);
        let mut p = Pacer::new(iv, Duration::ZERO);
        let na = Announce::Na {
            ifindex: 2,
            mac: MAC,
            addr: "2001:db8::1".parse().expect("lit"),
            router: false,
        };
        let t0 = Instant::now();
        let out = p.burst(t0, &[garp(2, 1), garp(3, 1), na], 2);
        // Each GARP interface sends once now; the NA has no interval: both copies go.
        assert_eq!(out, vec![garp(2, 1), garp(3, 1), na, na]);
        assert_eq!(p.len(), 2);
        assert_eq!(p.due(t0 + iv).len(), 2);
        assert!(p.is_empty());
    }

    #[test]
    fn garp_group_overrides_and_retain() {
        let mut p = Pacer::new(Duration::ZERO, Duration::ZERO);
        p.set_interface(5, Duration::from_secs(1), Duration::ZERO);
        let t0 = Instant::now();
        assert_eq!(p.burst(t0, &[garp(5, 1), garp(5, 2)], 3).len(), 1);
        assert_eq!(p.next_deadline(t0), Some(t0 + Duration::from_secs(1)));
        p.retain(|a| !matches!(a, Announce::Garp { ifindex: 5, .. }));
        assert!(p.is_empty());
        p.reconfigure(Duration::ZERO, Duration::ZERO);
        assert_eq!(p.burst(t0, &[garp(5, 1)], 3).len(), 3);
    }
}
