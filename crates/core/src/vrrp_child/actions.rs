//! Carrying out the engine's actions. The order matters for failover: every advert of a
//! batch goes out first (batched per sending socket), then addresses are installed and
//! GARPs/NAs sent, and only then come logs, reports to the parent and notify scripts
//! (which fork).

use super::ratelog::suppressed;
use super::session::Session;
use ka_proto::ipc::vrrp::FromVrrp;
use std::net::IpAddr;
use std::time::Instant;
use vrrp::linux::notify::NotifyKind;
use vrrp::{Action, Advert, NotifyTarget, Reason, RogueOwner, State, Vip};

impl Session {
    /// Carry out the engine's actions: adverts first, then addresses and GARPs, then logs,
    /// reports and scripts (each group in the engine's order).
    pub(super) fn execute(&mut self, mut actions: Vec<Action>) {
        self.execute_buf(&mut actions);
    }

    /// [`Session::execute`] emptying `actions`, whose allocation the caller keeps for the
    /// next input (the timer and receive paths: no allocation per turn of the loop).
    pub(super) fn execute_buf(&mut self, actions: &mut Vec<Action>) {
        if actions.is_empty() {
            return;
        }
        // Adverts first, each run of them for one sending socket (a timer burst: every
        // MASTER of an interface) in batches of one system call each.
        let mut k = 0;
        while let Some(a) = actions.get(k) {
            let Action::SendAdvert {
                iface, src, ttl, ..
            } = a
            else {
                k += 1;
                continue;
            };
            let same = |b: &Action| {
                matches!(b, Action::SendAdvert { iface: i, src: s, ttl: t, .. }
                    if i == iface && s == src && t == ttl)
            };
            let run = actions[k..]
                .iter()
                .take(vrrp::linux::socket::SEND_BATCH)
                .take_while(|b| same(b))
                .count();
            let packets: [(&[u8], IpAddr); vrrp::linux::socket::SEND_BATCH] =
                std::array::from_fn(|j| match actions.get(k + j) {
                    Some(Action::SendAdvert { bytes, dst, .. }) if j < run => (&bytes[..], *dst),
                    _ => (&[][..], *src),
                });
            for (j, e) in self.net.send_adverts(iface, *src, *ttl, &packets[..run]) {
                if let Some(Action::SendAdvert { instance, dst, .. }) = actions.get(k + j) {
                    log::warn!("({instance}) cannot send an advert to {dst}: {e}");
                }
            }
            k += run.max(1);
        }
        let addresses = self.firewall.is_some()
            && actions
                .iter()
                .any(|a| matches!(a, Action::AddAddresses { .. } | Action::DelAddresses { .. }));
        if addresses {
            // Blocked before they are installed.
            self.sync_firewall(true);
        }
        for a in actions.iter() {
            match a {
                Action::AddAddresses {
                    instance,
                    iface,
                    addrs,
                } => {
                    for e in self.net.add_set(iface, addrs) {
                        log::warn!("({instance}) setting VIPs: {e}");
                    }
                }
                Action::DelAddresses {
                    instance,
                    iface,
                    addrs,
                } => {
                    for e in self.net.del_set(iface, addrs) {
                        log::warn!("({instance}) removing VIPs: {e}");
                    }
                }
                Action::SendGarp {
                    instance,
                    iface,
                    addrs,
                    repeat,
                } => {
                    for e in self.net.announce(iface, addrs, *repeat, false) {
                        log::warn!("({instance}) gratuitous ARP: {e}");
                    }
                }
                Action::SendNa {
                    instance,
                    iface,
                    addrs,
                    repeat,
                } => {
                    for e in self.net.announce(iface, addrs, *repeat, true) {
                        log::warn!("({instance}) unsolicited NA: {e}");
                    }
                }
                _ => {}
            }
        }
        if addresses {
            // Unblocked once they are gone.
            self.sync_firewall(false);
        }
        for a in actions.drain(..) {
            self.after(a);
        }
    }

    /// The slow part of an action: logs, reports and scripts.
    pub(super) fn after(&mut self, a: Action) {
        match a {
            Action::SendAdvert {
                instance, bytes, ..
            } => {
                if Advert::peek_priority(&bytes) == Some(0) {
                    log::info!("({instance}) sent 0 priority");
                }
            }
            Action::AddAddresses {
                instance, addrs, ..
            } => {
                if !addrs.is_empty() {
                    log::info!("({instance}) setting VIPs.");
                }
                // keepalived's next lines, when there are routes / rules.
                if !addrs.routes.is_empty() {
                    log::info!("({instance}) setting Virtual Routes");
                }
                if !addrs.rules.is_empty() {
                    log::info!("({instance}) setting Virtual Rules");
                }
            }
            Action::DelAddresses {
                instance, addrs, ..
            } => {
                // keepalived's lines, rules first.
                if !addrs.rules.is_empty() {
                    log::info!("({instance}) removing Virtual Rules");
                }
                if !addrs.routes.is_empty() {
                    log::info!("({instance}) removing Virtual Routes");
                }
                if !addrs.is_empty() {
                    log::info!("({instance}) removing VIPs.");
                }
            }
            Action::SendGarp {
                instance,
                iface,
                addrs,
                ..
            } => log_announcements(&instance, &iface, &addrs, "gratuitous ARPs"),
            Action::SendNa {
                instance,
                iface,
                addrs,
                ..
            } => log_announcements(&instance, &iface, &addrs, "Unsolicited Neighbour Adverts"),
            Action::StateChanged {
                instance,
                from,
                to,
                priority,
                reason,
            } => {
                log_transition(&instance, from, to, priority, reason);
                self.by_reason.count(&instance, reason);
                self.lvs_sync_on_state(&instance);
                if let Some(s) = self.snapshot_of(&instance) {
                    self.send(&FromVrrp::InstanceState(s));
                }
            }
            Action::Notify {
                target,
                state,
                priority,
            } => {
                let (kind, name, n) = match &target {
                    NotifyTarget::Instance(n) => (
                        NotifyKind::Instance,
                        n.to_string(),
                        self.plan
                            .extra
                            .get(&**n)
                            .or_else(|| self.removed.get(&**n))
                            .map(|e| e.notify.clone()),
                    ),
                    NotifyTarget::Group(n) => (
                        NotifyKind::Group,
                        n.to_string(),
                        self.plan.group_notify.get(&**n).cloned(),
                    ),
                };
                self.alerts.on_notify(&target, state);
                if kind == NotifyKind::Group {
                    log::info!("VRRP_Group({name}) Syncing instances to {}", state.as_str());
                }
                self.scripts.notify(
                    self.poll.registry(),
                    kind,
                    &name,
                    state,
                    priority,
                    n.as_ref(),
                );
            }
            Action::MasterRxLowerPriority {
                instance,
                from,
                priority,
            } => {
                // A flood of these is logged (and the script run) a few times a second.
                let Some(n) = self
                    .ratelog
                    .allow(&instance, "lower priority", Instant::now())
                else {
                    return;
                };
                log::info!(
                    "({instance}) Received advert from {from} with lower priority {priority}, ours {}{}",
                    self.engine.instance(&instance).map_or(0, |i| i.priority),
                    suppressed(n)
                );
                let script = self
                    .plan
                    .extra
                    .get(&*instance)
                    .and_then(|e| e.notify.master_rx_lower_pri.clone());
                if let Some(script) = script {
                    self.scripts
                        .run_plain(self.poll.registry(), &instance, &script);
                }
            }
            Action::PriorityChanged { instance, priority } => {
                log::info!("({instance}) Changing effective priority to {priority}");
                let wanted = self
                    .plan
                    .extra
                    .get(&*instance)
                    .and_then(|e| e.notify.priority_changes)
                    .unwrap_or(self.plan.notify_priority_changes);
                if wanted {
                    let master = self
                        .engine
                        .instance(&instance)
                        .is_some_and(|i| i.state == State::Master);
                    self.scripts.notify_priority(&instance, master, priority);
                }
                if let Some(s) = self.snapshot_of(&instance) {
                    self.send(&FromVrrp::InstanceState(s));
                }
            }
            // With -D, as keepalived 2.4.3 logs it.
            Action::MasterHeard { instance, from } => {
                if self.flags.log_detail {
                    log::info!("({instance}) master set to {from}");
                }
            }
            // Once per conflict, as keepalived 2.4 words it (the engine bounds the rate).
            Action::RogueOwner { instance, event } => match event {
                RogueOwner::Conflict(from) => log::info!(
                    "({instance}) CONFIGURATION ERROR: local instance and {from} are both \
                     configured as address owner, please resolve"
                ),
                RogueOwner::StillAdvertising(from) => log::info!(
                    "({instance}) {from} is still advertising as address owner, please \
                     resolve - reducing our priority"
                ),
                RogueOwner::Stopped => log::info!(
                    "({instance}): rogue address owner appears to have stopped advertising"
                ),
                RogueOwner::RestoredOnTakeover => log::info!(
                    "({instance}) Restoring our priority to 255 since other address owner has \
                     disappeared"
                ),
                RogueOwner::RestoredOnLowerAdvert => log::info!(
                    "({instance}) Restoring our priority to 255 since received advert with \
                     lower priority"
                ),
            },
        }
    }
}

/// Room for actions kept between turns of the loop.
pub(super) const ACTIONS_KEPT: usize = 64;

/// keepalived's log of a GARP or NA burst: one line for each of the first four addresses.
fn log_announcements(instance: &str, iface: &str, addrs: &[Vip], what: &str) {
    for v in addrs.iter().take(4) {
        log::info!(
            "({instance}) Sending/queueing {what} on {} for {}",
            v.dev.as_deref().unwrap_or(iface),
            v.addr
        );
    }
}

fn log_transition(instance: &str, from: State, to: State, priority: u8, reason: Reason) {
    match (to, reason) {
        (State::Master, Reason::MasterDown) => {
            log::info!("({instance}) Receive advertisement timeout");
            log::info!("({instance}) Entering MASTER STATE");
        }
        (State::Master, Reason::Resume) => {
            log::info!("({instance}) Entering MASTER STATE (resumed, VIPs kept)");
        }
        (State::Master, _) => log::info!("({instance}) Entering MASTER STATE"),
        (State::Backup, Reason::Startup) => {
            log::info!("({instance}) Entering BACKUP STATE (init)")
        }
        (State::Backup, Reason::HigherPriority) => {
            log::info!("({instance}) Master received advert with higher priority, ours {priority}");
            log::info!("({instance}) Entering BACKUP STATE");
        }
        (State::Backup, _) => log::info!("({instance}) Entering BACKUP STATE"),
        (State::Fault, _) => log::info!("({instance}) Entering FAULT STATE"),
        (State::Initialize, _) => {
            if from != State::Initialize {
                log::info!("({instance}) Stopped");
            }
        }
    }
}
