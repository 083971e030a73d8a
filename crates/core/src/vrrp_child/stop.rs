//! Stopping: the engine's shutdown (priority-0 adverts, VIPs removed unless `-V`), `-X`,
//! static addresses and VMACs removed, notify scripts given a moment to finish.

use super::session::Session;
use mio::Events;
use std::time::{Duration, Instant};
use vrrp::linux::vmac;
use vrrp::{Action, Input};

impl Session {
    pub(super) fn shutdown(&mut self, code: i32) -> i32 {
        if self.stopping {
            return code;
        }
        self.stopping = true;
        let now = self.now();
        let mut actions = self.engine.handle(Input::Shutdown, now);
        if self.flags.dont_release_vrrp {
            actions.retain(|a| !matches!(a, Action::DelAddresses { .. }));
        }
        self.execute(actions);
        if self.flags.release_vips && !self.flags.dont_release_vrrp {
            // -X: release every instance's addresses, not only the MASTERs'.
            let sets: Vec<(String, vrrp::AddressSet)> = self
                .engine
                .instances()
                .map(|i| (i.config.interface.clone(), i.config.addresses.clone()))
                .collect();
            for (iface, set) in sets {
                for e in self.net.del_set(&iface, &set) {
                    log::debug!("-X: {e}");
                }
            }
        }
        if !self.flags.dont_release_vrrp && !self.plan.statics.is_empty() {
            let set = self.plan.statics.clone();
            for e in self.net.del_set("", &set) {
                log::debug!("static addresses: {e}");
            }
        }
        // keepalived stops the sync daemon with the VRRP process.
        self.remove_lvs_sync();
        if !self.flags.dont_release_vrrp {
            // The addresses are gone: so go accept mode's tables (with -V they stay,
            // blocking the addresses that stay).
            self.remove_firewall();
            for v in std::mem::take(&mut self.vmacs) {
                if v.created {
                    if let Err(e) = vmac::delete(&mut self.net.rtnl, &v, false) {
                        log::warn!("cannot remove VMAC {}: {e}", v.name);
                    }
                }
            }
        }
        // Give notify scripts (notify_stop) a moment, then make sure the parent has
        // everything we queued.
        let deadline = Instant::now() + Duration::from_millis(500);
        let _ = self.ipc.set_nonblocking(false);
        let _ = self.ipc.flush();
        while Instant::now() < deadline && self.scripts_running() {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.scripts.kill_all(self.poll.registry());
        log::info!("Stopped");
        code
    }

    pub(super) fn scripts_running(&mut self) -> bool {
        let mut events = Events::with_capacity(64);
        let _ = self.poll.poll(&mut events, Some(Duration::ZERO));
        let now = Instant::now();
        for ev in events.iter() {
            if self.scripts.owns(ev.token()) {
                let _ = self.scripts.on_event(self.poll.registry(), ev.token(), now);
            }
        }
        self.scripts.running() > 0
    }
}
