//! VIPs left behind by a VRRP child that is not running: the parent removes them itself.
//!
//! A VRRP child that dies while MASTER leaves its addresses installed (that is what makes
//! the no-outage respawn possible). Two moments leave them unattended, with a backup that
//! will take them over after a master-down interval, i.e. the VIP on two hosts:
//!
//! * the child keeps dying and the watchdog delays its next start (up to 60 s);
//! * the daemon stops while no child runs (during that delay, or just after a crash).
//!
//! Then the parent removes the addresses, routes and rules of the instances the last
//! child reported as MASTER with addresses installed (every instance's with `-X`, none
//! with `-V`), and on a stop the `static_*` ones too, with the same netlink code the
//! child uses. There is no priority-0 advert (there is no VRRP engine in the parent): the
//! backup takes over after its master-down interval, the VIP on no host meanwhile, which
//! is the safe side. This runs in-process with no fork, so it works even when the child
//! cannot start at all.

use crate::vrrp_child::{map, net::Net};
use ka_proto::config::Config;
use ka_proto::ipc::RunFlags;
use std::collections::BTreeSet;

/// Remove what a dead VRRP child left: the sets of the instances named in `held` (all
/// instances with `-X`), and the static addresses when `statics`. Nothing with `-V`.
/// Returns how many instance sets were removed.
pub fn release(config: &Config, flags: &RunFlags, held: &BTreeSet<String>, statics: bool) -> usize {
    if flags.dont_release_vrrp {
        return 0;
    }
    let plan = map::plan(config);
    let chosen: Vec<_> = plan
        .engine
        .instances
        .iter()
        .filter(|c| flags.release_vips || held.contains(&c.name))
        .filter(|c| !c.addresses.is_empty())
        .collect();
    if chosen.is_empty() && (!statics || plan.statics.is_empty()) {
        return 0;
    }
    let mut net = match Net::open() {
        Ok(n) => n,
        Err(e) => {
            log::error!("cannot remove the VIPs of the stopped VRRP child: {e}");
            return 0;
        }
    };
    for c in &chosen {
        log::info!("({}) removing VIPs (no VRRP child running)", c.name);
        for e in net.del_set(&c.interface, &c.addresses) {
            log::warn!("({}) removing VIPs: {e}", c.name);
        }
    }
    if statics && !plan.statics.is_empty() {
        for e in net.del_set("", &plan.statics) {
            log::debug!("static addresses: {e}");
        }
    }
    chosen.len()
}
