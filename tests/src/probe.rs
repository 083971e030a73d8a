//! Watching a VIP across hosts: one thread per host namespace asks "is the VIP local here?"
//! (a `bind()` to it succeeds only when it is) every `period`, and records each change with
//! its time. The timeline then tells when the VIP was on no host, or on more than one.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Netns;

/// Probes running in the background until [`Prober::finish`].
pub struct Prober {
    start: Instant,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Vec<(Instant, bool)>>>,
}

/// What the probes saw: per host, the initial state and each change.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub start: Instant,
    pub end: Instant,
    /// Per host: (time, has VIP) at the start and at every change.
    pub hosts: Vec<Vec<(Instant, bool)>>,
}

fn vip_here(vip: IpAddr) -> bool {
    UdpSocket::bind(SocketAddr::new(vip, 0)).is_ok()
}

impl Prober {
    pub fn start(hosts: &[&Netns], vip: IpAddr, period: Duration) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let threads = hosts
            .iter()
            .map(|ns| {
                let stop = stop.clone();
                ns.spawn(move || {
                    let mut last = vip_here(vip);
                    let mut seen = vec![(Instant::now(), last)];
                    while !stop.load(Ordering::Relaxed) {
                        let now = vip_here(vip);
                        if now != last {
                            seen.push((Instant::now(), now));
                            last = now;
                        }
                        std::thread::sleep(period);
                    }
                    seen
                })
            })
            .collect();
        Prober {
            start,
            stop,
            threads,
        }
    }

    pub fn finish(self) -> Timeline {
        self.stop.store(true, Ordering::Relaxed);
        let hosts = self
            .threads
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        Timeline {
            start: self.start,
            end: Instant::now(),
            hosts,
        }
    }
}

impl Timeline {
    /// Every change on every host, in time order, as (time, host, has VIP).
    fn events(&self) -> Vec<(Instant, usize, bool)> {
        let mut ev: Vec<_> = self
            .hosts
            .iter()
            .enumerate()
            .flat_map(|(h, v)| v.iter().map(move |&(t, s)| (t, h, s)))
            .collect();
        ev.sort_by_key(|e| e.0);
        ev
    }

    /// Intervals (from, length) during which the number of holders satisfied `bad`.
    fn intervals(&self, bad: impl Fn(usize) -> bool) -> Vec<(Duration, Duration)> {
        let mut state = vec![false; self.hosts.len()];
        let mut out = Vec::new();
        let mut since: Option<Instant> = None;
        let ev = self.events();
        for (i, &(t, h, s)) in ev.iter().enumerate() {
            state[h] = s;
            // Apply every event at the same instant before judging.
            if ev.get(i + 1).is_some_and(|n| n.0 == t) {
                continue;
            }
            let holders = state.iter().filter(|&&x| x).count();
            match (bad(holders), since) {
                (true, None) => since = Some(t),
                (false, Some(s0)) => {
                    out.push((s0 - self.start, t - s0));
                    since = None;
                }
                _ => {}
            }
        }
        if let Some(s0) = since {
            out.push((s0 - self.start, self.end - s0));
        }
        out
    }

    /// When the VIP was on no host: (offset from start, duration).
    pub fn absent(&self) -> Vec<(Duration, Duration)> {
        self.intervals(|n| n == 0)
    }

    /// When the VIP was on two or more hosts.
    pub fn duplicated(&self) -> Vec<(Duration, Duration)> {
        self.intervals(|n| n >= 2)
    }

    /// The host holding the VIP at the end (if exactly one does).
    pub fn final_holder(&self) -> Option<usize> {
        let holders: Vec<usize> = self
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, v)| v.last().is_some_and(|x| x.1))
            .map(|(i, _)| i)
            .collect();
        (holders.len() == 1).then(|| holders[0])
    }
}
