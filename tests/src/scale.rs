//! Helpers for the many-instance tests (`rt_scale`, `scale_steady`, `mem_scale`): a
//! master/backup pair on `links` veth links, the config of `links` x `vrids` instances,
//! and the counts read back.

use crate::{sh, Netns};

/// `links` veth pairs `eth{k}` between `a` (`{net}.{k}.1/24`) and `b` (`{net}.{k}.2/24`).
pub fn veth_links(a: &Netns, b: &Netns, links: usize, net: &str) {
    for k in 0..links {
        let ifname = format!("eth{k}");
        sh(
            "ip",
            [
                "link",
                "add",
                &ifname,
                "netns",
                a.name(),
                "type",
                "veth",
                "peer",
                "name",
                &ifname,
                "netns",
                b.name(),
            ],
        );
        for (ns, host) in [(a, 1), (b, 2)] {
            ns.ip([
                "addr",
                "add",
                &format!("{net}.{k}.{host}/24"),
                "dev",
                &ifname,
            ]);
            ns.ip(["link", "set", &ifname, "up"]);
        }
    }
}

/// `links` x `vrids` VRRPv2 instances (`VI_{k}_{v}` on `eth{k}`, VRID `v`, `advert_int 1`,
/// VIP `{net}.{k}.{v + 2}/32`), all `state BACKUP` at `prio`.
pub fn config(links: usize, vrids: usize, prio: u8, net: &str) -> String {
    let mut c = String::new();
    for k in 0..links {
        for v in 1..=vrids {
            c.push_str(&format!(
                "vrrp_instance VI_{k}_{v} {{\n  state BACKUP\n  interface eth{k}\n  \
                 virtual_router_id {v}\n  priority {prio}\n  advert_int 1\n  \
                 virtual_ipaddress {{\n    {net}.{k}.{}/32\n  }}\n}}\n",
                v + 2
            ));
        }
    }
    c
}

/// IPv4 /32 addresses (the VIPs) on the namespace's interfaces.
pub fn vip_count(ns: &Netns) -> usize {
    let out = ns.ip(["-o", "-4", "addr", "show"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("/32"))
        .count()
}

/// (VRRP child starts beyond the first, "Entering ... STATE" lines) in a daemon's log.
pub fn starts_and_transitions(log: &str) -> (usize, usize) {
    let starts = log
        .lines()
        .filter(|l| l.contains("Starting VRRP child process"))
        .count();
    let trans = log.lines().filter(|l| l.contains("Entering")).count();
    (starts.saturating_sub(1), trans)
}
