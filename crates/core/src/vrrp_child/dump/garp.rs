//! keepalived.data's "Gratuitous ARP delays" section, in keepalived 2.4.3's lines
//! (observed with `vrrp_garp_interval` / `vrrp_gna_interval` and a `garp_group`): the
//! `garp_group`s, then, when a global interval is set, one group of the instances' other
//! interfaces. The "next time" of each is when keepalived's pacing would let the next one
//! go; ours is not kept, and is written as the epoch (keepalived's value before any).

use super::*;
use std::time::Duration;

const EPOCH: &str = "0.000000 (Thu Jan  1 00:00:00.000000)";

fn group(s: &mut String, garp: Duration, gna: Duration, ifaces: &[String]) {
    let _ = writeln!(s, "------< GARP delay group >------");
    if !garp.is_zero() {
        let _ = writeln!(s, " GARP interval = {:.6}", garp.as_secs_f64());
        let _ = writeln!(s, " GARP next time {EPOCH}");
    }
    if !gna.is_zero() {
        let _ = writeln!(s, " GNA interval = {:.6}", gna.as_secs_f64());
        let _ = writeln!(s, " GNA next time {EPOCH}");
    }
    let _ = writeln!(s, " Interfaces");
    for i in ifaces {
        let _ = writeln!(s, "  {i}");
    }
}

/// The section, title included; empty without any interval.
pub(super) fn garp_section(
    cfg: &ka_proto::config::Config,
    plan: &crate::vrrp_child::map::Plan,
) -> String {
    let g = &cfg.global;
    let global = !g.vrrp_garp_interval.is_zero() || !g.vrrp_gna_interval.is_zero();
    if cfg.garp_groups.is_empty() && !global {
        return String::new();
    }
    let mut s = String::new();
    let _ = writeln!(s, "------< Gratuitous ARP delays >------");
    for gg in &cfg.garp_groups {
        group(&mut s, gg.garp_interval, gg.gna_interval, &gg.interfaces);
    }
    if global {
        let mut rest: Vec<String> = Vec::new();
        for vi in &cfg.vrrp_instances {
            let iface = plan
                .extra
                .get(&vi.name)
                .and_then(|e| e.vmac.as_ref())
                .map(|v| v.name.clone())
                .or_else(|| vi.interface.clone())
                .unwrap_or_default();
            let grouped = cfg
                .garp_groups
                .iter()
                .any(|gg| gg.interfaces.contains(&iface));
            if !iface.is_empty() && !grouped && !rest.contains(&iface) {
                rest.push(iface);
            }
        }
        group(&mut s, g.vrrp_garp_interval, g.vrrp_gna_interval, &rest);
    }
    s
}
