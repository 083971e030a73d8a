//! Accept mode's firewall: the addresses of a MASTER that must not accept packets for
//! them (`no_accept`, or `vrrp_strict` on a non-owner) are dropped by nftables
//! ([`vrrp::linux::nft`]), added before the addresses are installed and removed after
//! they are gone.

use super::session::Session;
use std::collections::BTreeSet;
use vrrp::linux::nft::{Blocked, Firewall, NftConfig};
use vrrp::State;

impl Session {
    /// Open the firewall of a new configuration (None: no instance needs one), removing
    /// the tables of the old one if its settings differ.
    pub(super) fn setup_firewall(&mut self, cfg: Option<NftConfig>) {
        if self.firewall.as_ref().map(Firewall::config) == cfg.as_ref() {
            return;
        }
        if let Some(mut old) = self.firewall.take() {
            if let Err(e) = old.remove() {
                log::warn!("nftables: cannot remove table {}: {e}", old.config().table);
            }
        }
        self.firewall = match cfg.map(Firewall::new) {
            Some(Ok(fw)) => Some(fw),
            Some(Err(e)) => {
                log::error!("nftables: {e}: no_accept addresses will not be blocked");
                None
            }
            None => None,
        };
    }

    /// What should be blocked now: the addresses of every no-accept MASTER, in the
    /// configuration's order (keepalived creates a family's table when it meets the
    /// family's first address, and `nft list` shows them in that order).
    fn firewall_wanted(&self) -> (Vec<Blocked>, BTreeSet<Blocked>) {
        let mut order = Vec::new();
        let mut want = BTreeSet::new();
        for i in self.engine.instances() {
            let c = i.config;
            if c.accept || i.state != State::Master {
                continue;
            }
            for v in c.addresses.vips.iter().chain(&c.addresses.excluded) {
                let b = Blocked::of(v.addr, v.dev.as_deref().unwrap_or(&c.interface));
                if want.insert(b.clone()) {
                    order.push(b);
                }
            }
        }
        (order, want)
    }

    /// Bring the sets up to date: `adding` applies only the additions (before addresses
    /// are installed), otherwise only the removals (after they are gone).
    pub(super) fn sync_firewall(&mut self, adding: bool) {
        if self.firewall.is_none() {
            return;
        }
        let (order, want) = self.firewall_wanted();
        let Some(fw) = self.firewall.as_mut() else {
            return;
        };
        let r = if adding {
            let add: Vec<Blocked> = order
                .iter()
                .filter(|b| !fw.is_blocked(b))
                .cloned()
                .collect();
            fw.apply(&add, &[])
        } else {
            let del: Vec<Blocked> = fw
                .blocked()
                .filter(|b| !want.contains(b))
                .cloned()
                .collect();
            fw.apply(&[], &del)
        };
        if let Err(e) = r {
            log::error!("nftables: {e}");
        }
    }

    /// Remove the tables (at stop).
    pub(super) fn remove_firewall(&mut self) {
        if let Some(mut fw) = self.firewall.take() {
            if let Err(e) = fw.remove() {
                log::warn!("nftables: cannot remove table {}: {e}", fw.config().table);
            }
        }
    }
}
