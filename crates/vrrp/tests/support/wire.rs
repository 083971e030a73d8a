//! Two engines joined by an in-memory wire: every advert one router sends reaches the other
//! 100 µs later. The scale test (`tests/sim.rs`) and the CPU measurement
//! (`examples/scale.rs`) run their many instances on it, each including this file with
//! `#[path]`.
#![allow(dead_code)] // each user reads a part of the counts

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use vrrp::{Action, Engine, Input, Packet, Timestamp};

/// An advert on its way to router `to`.
struct Frame {
    at: Timestamp,
    to: usize,
    iface: Arc<str>,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    bytes: Vec<u8>,
}

/// The wire, the adverts on it and what went over it.
#[derive(Default)]
pub struct Wire {
    frames: VecDeque<Frame>,
    buf: Vec<Action>,
    /// Adverts the two routers built.
    pub sent: u64,
    /// Adverts handed to router 0 and to router 1.
    pub received: [u64; 2],
}

impl Wire {
    /// Run both routers until `until`: at each step, the earlier of the next advert on the
    /// wire (first on a tie) and the next timer of either router.
    pub fn run(&mut self, routers: &mut [Engine; 2], until: Timestamp) {
        loop {
            let t_wire = self.frames.front().map(|f| f.at);
            let t_timer = (0..2)
                .filter_map(|r| routers[r].next_deadline().map(|t| (t, r)))
                .min();
            let (now, timer) = match (t_wire, t_timer) {
                (Some(w), Some((t, _))) if w <= t => (w, None),
                (Some(w), None) => (w, None),
                (_, Some((t, r))) => (t, Some(r)),
                (None, None) => return,
            };
            if now > until {
                return;
            }
            self.buf.clear();
            let from = match timer {
                Some(r) => {
                    routers[r].handle_into(Input::Timer, now, &mut self.buf);
                    r
                }
                None => {
                    let Some(f) = self.frames.pop_front() else {
                        return;
                    };
                    self.received[f.to] += 1;
                    let p = Packet {
                        iface: &f.iface,
                        src: f.src,
                        dst: f.dst,
                        ttl: f.ttl,
                        bytes: &f.bytes,
                        received: None,
                    };
                    routers[f.to].handle_into(Input::Packet(p), now, &mut self.buf);
                    f.to
                }
            };
            for a in self.buf.drain(..) {
                if let Action::SendAdvert {
                    iface,
                    src,
                    dst,
                    ttl,
                    bytes,
                    ..
                } = a
                {
                    self.sent += 1;
                    self.frames.push_back(Frame {
                        at: now + Duration::from_micros(100),
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
    }
}
