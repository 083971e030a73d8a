//! The receive path: adverts read from the VRRP sockets in bounded batches (`recvmmsg`)
//! and fed to the engine one by one, their actions carried out at once; and the pause
//! that lets adverts gather while they pour in ([`Coalesce`]).

use super::ratelog::suppressed;
use super::session::Session;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use vrrp::{Input, Packet};

impl Session {
    /// Read at most `RECV_BATCH` packets from socket `slot` (`recvmmsg`, a few calls) and
    /// feed them; true when the batch filled (more may be queued: the socket stays pending).
    pub(super) fn on_socket(&mut self, slot: usize) -> bool {
        let mut read = 0;
        while read < RECV_BATCH {
            let Some(Some(sock)) = self.sockets.get(slot) else {
                return false;
            };
            let n = match sock.sock.recv_batch(&mut self.batch) {
                Ok(n) => n,
                Err(e) => {
                    log::warn!("receive on {}: {e}", sock.ifname);
                    return false;
                }
            };
            if n == 0 {
                return false;
            }
            read += n;
            self.coalesce.note(n);
            let now = self.now();
            for k in 0..n {
                let Some(Some(sock)) = self.sockets.get(slot) else {
                    return false;
                };
                let mut actions = std::mem::take(&mut self.actions);
                let src = match self.batch.get(k) {
                    Some(Ok(r)) => {
                        self.engine.handle_into(
                            Input::Packet(Packet {
                                iface: &sock.ifname,
                                src: r.src,
                                dst: r.dst,
                                ttl: r.ttl,
                                bytes: r.payload,
                                // Queued while we were stopped or starved: it is that old.
                                received: r.age.map(|a| now - a),
                            }),
                            now,
                            &mut actions,
                        );
                        r.src
                    }
                    Some(Err(e)) => {
                        // A malformed packet: skip it and read on.
                        log::debug!("receive on {}: {e}", sock.ifname);
                        self.actions = actions;
                        continue;
                    }
                    None => {
                        self.actions = actions;
                        break;
                    }
                };
                self.log_rx_error(src);
                self.execute_buf(&mut actions);
                self.actions = actions;
            }
            if n < vrrp::linux::socket::RECV_BATCH {
                // The queue is drained.
                return false;
            }
        }
        true
    }

    /// Log (rate-limited per instance and reason) the receive check the last packet
    /// failed. O(1): the engine names the instance.
    pub(super) fn log_rx_error(&mut self, src: IpAddr) {
        let Some((inst, e)) = self.engine.last_rx_error() else {
            return;
        };
        if let Some(n) = self.ratelog.allow(inst, e.as_str(), Instant::now()) {
            if e.drops() {
                log::warn!(
                    "({inst}) bad advertisement from {src}: {}, dropped{}",
                    e.as_str(),
                    suppressed(n)
                );
            } else {
                log::warn!(
                    "({inst}) advertisement from {src}: {}{}",
                    e.as_str(),
                    suppressed(n)
                );
            }
        }
    }
}

/// Packets read from one socket per turn of the loop, before timers run again.
const RECV_BATCH: usize = 64;

/// The longest pause before a wait while adverts pour in ([`Coalesce`]).
const LINGER: Duration = Duration::from_micros(500);

/// The window over which the receive rate is judged.
const LINGER_WINDOW: Duration = Duration::from_millis(100);

/// Packets per window from which the loop lingers (500 a second).
const LINGER_MIN_PACKETS: u64 = 50;

/// Room left before the next deadline: the wait that follows the pause wakes on time.
const LINGER_MARGIN: Duration = Duration::from_micros(200);

/// Receive coalescing. A real-time loop wakes the moment a packet arrives; with thousands
/// of instances the adverts of a second come in bursts spread over milliseconds, and each
/// wake-up (two context switches, the wait, the scheduler guard, a receive call) cost more
/// than the few packets it found. When the last window saw at least
/// [`LINGER_MIN_PACKETS`] and the last turn of the loop read some, but no full `recvmmsg`
/// batch from any socket (packets trickle rather than pour: a socket's queue, ~250 adverts
/// by default, must not fill while we pause), the loop pauses up to [`LINGER`] before its
/// next wait (never past the next deadline less [`LINGER_MARGIN`]) and reads what gathered
/// in one go: at most 0.5 ms later, which the protocol (timers of a second and more) does
/// not notice; a small deployment (or a quiet one) never pauses at all.
#[derive(Debug, Default)]
pub(super) struct Coalesce {
    window_start: Option<Instant>,
    in_window: u64,
    last_window: u64,
    /// Packets read since the last pause decision.
    fresh: u64,
    /// A full batch was read from a socket since the last pause decision.
    heavy: bool,
}

impl Coalesce {
    /// `n` packets were read.
    pub(super) fn note(&mut self, n: usize) {
        self.heavy |= n >= vrrp::linux::socket::RECV_BATCH;
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.in_window = self.in_window.saturating_add(n);
        self.fresh = self.fresh.saturating_add(n);
    }

    /// How long to pause before the next wait, if at all, with `next` the next deadline.
    pub(super) fn pause(&mut self, now: Instant, next: Option<Instant>) -> Option<Duration> {
        let start = *self.window_start.get_or_insert(now);
        let age = now.saturating_duration_since(start);
        if age >= LINGER_WINDOW {
            self.last_window = if age < 2 * LINGER_WINDOW {
                self.in_window
            } else {
                0
            };
            self.in_window = 0;
            self.window_start = Some(now);
        }
        let fresh = std::mem::take(&mut self.fresh);
        let heavy = std::mem::take(&mut self.heavy);
        if heavy || fresh == 0 || self.last_window.max(self.in_window) < LINGER_MIN_PACKETS {
            return None;
        }
        let room = next.map_or(LINGER, |d| {
            d.saturating_duration_since(now)
                .saturating_sub(LINGER_MARGIN)
        });
        let p = LINGER.min(room);
        (p >= Duration::from_micros(100)).then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_only_while_packets_pour_in_and_never_past_a_deadline() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalesce::default();
        let far = Some(t0 + Duration::from_secs(1));
        // A trickle (a few instances, or a quiet network): never.
        for k in 0..20u64 {
            c.note(1);
            assert_eq!(c.pause(t0 + ms(10 * k), far), None);
        }
        // Thousands a second: up to 1 ms after a turn that read packets...
        let mut c = Coalesce::default();
        for k in 0..10u64 {
            c.note(10);
            let _ = c.pause(t0 + ms(k), far);
        }
        c.note(10);
        assert_eq!(c.pause(t0 + ms(10), far), Some(LINGER));
        // ...not after a turn that read nothing (a timer or IPC wake-up)...
        assert_eq!(c.pause(t0 + ms(11), far), None);
        // ...nor after one that read a full batch from a socket (a queue filling fast)...
        c.note(3);
        c.note(vrrp::linux::socket::RECV_BATCH);
        assert_eq!(c.pause(t0 + ms(11), far), None);
        // ...and never past the next deadline (less the margin), nor for a sliver.
        c.note(10);
        let soon = t0 + ms(12) + Duration::from_micros(500);
        assert_eq!(
            c.pause(t0 + ms(12), Some(soon)),
            Some(Duration::from_micros(300))
        );
        c.note(10);
        let now = t0 + ms(13);
        assert_eq!(c.pause(now, Some(now + Duration::from_micros(250))), None);
        c.note(10);
        assert_eq!(c.pause(now, Some(now)), None);
        // The rate is judged per window: after a quiet window, no more pausing.
        c.note(1);
        assert_eq!(c.pause(t0 + ms(350), far), None);
    }
}
