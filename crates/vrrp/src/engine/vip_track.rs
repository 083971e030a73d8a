//! [`Input::AddressDeleted`], [`Input::RouteDeleted`], [`Input::RuleDeleted`]: a VIP, a
//! `virtual_routes` route or a `virtual_rules` rule deleted by hand from a MASTER, handled
//! as keepalived 2.4.3 handles a tracked one (observed in namespaces, and the same in
//! 2.2.7): the MASTER sends priority 0, removes all its addresses, routes and rules and
//! enters BACKUP; with nobody else taking over it becomes MASTER again after Skew_Time and
//! reinstalls them.

use super::*;
use crate::config::AddressSet;

impl Engine {
    /// The MASTERs holding `addr` leave MASTER (with their sync groups). The address is
    /// matched on its value (not on `iface`, which only the I/O layer's log uses): the I/O
    /// layer reports only deletions of addresses we hold.
    pub(super) fn vip_deleted(
        &mut self,
        _iface: &str,
        addr: IpAddr,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        self.held_deleted(
            |a| a.vips.iter().chain(&a.excluded).any(|v| v.addr == addr),
            now,
            out,
        );
    }

    /// The MASTERs whose address set `holds` (the deleted address, route or rule) leave
    /// MASTER with their sync groups, and take over again after Skew.
    pub(super) fn held_deleted(
        &mut self,
        holds: impl Fn(&AddressSet) -> bool,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let holders: Vec<usize> = (0..self.insts.len())
            .filter(|&i| {
                let x = &self.insts[i];
                x.started && x.state == State::Master && holds(&x.cfg.addresses)
            })
            .collect();
        for i in holders {
            if self.insts[i].state != State::Master {
                continue; // already left with its sync group
            }
            for m in self.group_members(i) {
                if self.insts[m].state == State::Master {
                    let reason = if m == i {
                        Reason::Fault
                    } else {
                        Reason::SyncGroup
                    };
                    self.enter(m, State::Backup, reason, now, out);
                    // As after hearing its own priority 0: take over again after Skew.
                    let x = &mut self.insts[m];
                    x.down_timer = Some(now + Duration::from_micros(x.skew()));
                }
            }
        }
    }
}
