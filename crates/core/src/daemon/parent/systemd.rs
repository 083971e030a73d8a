//! The parent's side of systemd's protocol: `READY`, `STATUS`, the end of a reload, and
//! the heartbeat to the children that gates `WATCHDOG=1` (see `super::super::notify`).

use super::Parent;
use crate::daemon::notify::{Heartbeat, Notifier};
use ka_proto::ipc::checker::ToChecker;
use ka_proto::ipc::vrrp::ToVrrp;
use std::time::{Duration, Instant};

impl Parent {
    /// Report to systemd over `notify` (sd_notify): ready, reloading, stopping, status.
    pub fn with_notifier(mut self, notify: Option<Notifier>) -> Parent {
        // Ping every quarter of systemd's watchdog interval; feed it at the same pace
        // while every running child answered within the last half interval.
        self.heartbeat = notify
            .as_ref()
            .and_then(Notifier::watchdog_period)
            .map(|half| Heartbeat::new((half / 2).max(Duration::from_millis(50))));
        self.notify = notify;
        self
    }

    /// The heartbeat is due: ping every running child, and feed systemd's watchdog when
    /// each of them has answered recently. A stopped or spinning child stops answering:
    /// the watchdog goes hungry and systemd restarts the service. A child that is not
    /// running (dead, waiting to be respawned) is the parent's own watchdog's business.
    pub(super) fn heartbeat_tick(&mut self) {
        let now = Instant::now();
        let Some(hb) = self.heartbeat.as_mut() else {
            return;
        };
        if self.stopping.is_some() {
            return;
        }
        let Some(seq) = hb.ping(now) else { return };
        let hb = hb.clone();
        let mut all_fresh = true;
        for s in &self.slots {
            if s.pid.is_some() && !hb.fresh(s.answered, now) {
                all_fresh = false;
                log::debug!(
                    "{} child process({}) has not answered the heartbeat",
                    s.role,
                    s.pid.unwrap_or(0)
                );
            }
        }
        if all_fresh {
            if let Some(n) = &self.notify {
                n.watchdog();
            }
        }
        self.send_vrrp(&ToVrrp::Ping(seq));
        self.send_checker(&ToChecker::Ping(seq));
    }

    /// After each turn of the loop: `READY=1` once every child started has said it is
    /// ready, then `STATUS=` whenever the summary changes.
    pub(super) fn notify_progress(&mut self) {
        let Some(n) = &self.notify else { return };
        if self.stopping.is_some() {
            return;
        }
        if !self.ready_sent {
            let all_ready = self
                .slots
                .iter()
                .all(|s| !s.wanted || (s.pid.is_some() && s.ready));
            if !all_ready {
                return;
            }
            self.status = self.summary();
            n.ready(&self.status);
            self.ready_sent = true;
            self.status_dirty = false;
            return;
        }
        if self.status_dirty {
            self.status_dirty = false;
            let now = self.summary();
            if now != self.status {
                n.status(&now);
                self.status = now;
            }
        }
    }

    /// "2 MASTER, 1 BACKUP; 14/16 real servers up".
    pub(super) fn summary(&self) -> String {
        crate::daemon::notify::summary(
            self.instances.state_names(),
            self.services
                .values()
                .filter(|s| s.real_server.is_some())
                .map(|s| s.up),
        )
    }

    /// A reload is over (dispatched to the children, or refused): `READY=1` again, with
    /// the summary (prefixed by `note` when there is one).
    pub(super) fn reload_done(&mut self, note: &str) {
        if self.notify.is_none() || !self.ready_sent {
            return;
        }
        let summary = self.summary();
        let status = if note.is_empty() {
            summary.clone()
        } else {
            format!("{note}; {summary}")
        };
        if let Some(n) = &self.notify {
            n.ready(&status);
        }
        // A refusal note stays until the next change of state.
        self.status = status;
    }
}
