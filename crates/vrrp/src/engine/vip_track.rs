//! [`Input::AddressDeleted`]: a VIP deleted by hand from a MASTER, handled as keepalived
//! 2.4.3 handles a tracked one (observed in namespaces, and the same in 2.2.7): the MASTER
//! sends priority 0, removes all its addresses and enters BACKUP; with nobody else taking
//! over it becomes MASTER again after Skew_Time and reinstalls the addresses.

use super::*;

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
        let holders: Vec<usize> = (0..self.insts.len())
            .filter(|&i| {
                let x = &self.insts[i];
                x.started
                    && x.state == State::Master
                    && x.cfg
                        .addresses
                        .vips
                        .iter()
                        .chain(&x.cfg.addresses.excluded)
                        .any(|v| v.addr == addr)
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
