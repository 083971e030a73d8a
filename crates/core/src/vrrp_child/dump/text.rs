//! Addresses, routes, rules and command lines written as keepalived writes them in its
//! dumps.

use super::*;

/// keepalived's names of address scopes (`ip addr`'s).
pub(super) fn scope_name(s: vrrp::install::Scope) -> String {
    match s {
        vrrp::install::Scope::Global => "global".into(),
        vrrp::install::Scope::Site => "site".into(),
        vrrp::install::Scope::Link => "link".into(),
        vrrp::install::Scope::Host => "host".into(),
        vrrp::install::Scope::Nowhere => "nowhere".into(),
        vrrp::install::Scope::Other(n) => n.to_string(),
    }
}

/// An address with its prefix, the prefix left out for a host address (keepalived's).
pub(super) fn prefix_str(a: std::net::IpAddr, len: u8) -> String {
    let host = if a.is_ipv4() { 32 } else { 128 };
    if len == host {
        a.to_string()
    } else {
        format!("{a}/{len}")
    }
}

/// A virtual address as keepalived's dumps show it: `10.0.0.1/24 dev eth0 scope global`,
/// then the options set, then `set` while it is installed.
pub fn vip_str(v: &vrrp::Vip, iface: &str, installed: bool) -> String {
    let mut s = prefix_str(v.addr, v.prefix_len);
    let o = v.options.as_deref();
    if let Some(b) = o.and_then(|o| o.broadcast) {
        let _ = write!(s, " brd {b}");
    }
    let _ = write!(s, " dev {}", v.dev.as_deref().unwrap_or(iface));
    let scope = o.map_or(vrrp::install::Scope::Global, |o| o.scope);
    let _ = write!(s, " scope {}", scope_name(scope));
    if let Some(o) = o {
        if let Some(l) = &o.label {
            let _ = write!(s, " label {l}");
        }
        if let Some(p) = o.peer {
            let _ = write!(s, " peer {p}/{}", v.prefix_len);
        }
        for (on, word) in [
            (o.home, " home"),
            (o.nodad && v.addr.is_ipv6(), " -nodad"),
            (o.mngtmpaddr, " mngtmpaddr"),
            (o.noprefixroute, " noprefixroute"),
            (o.autojoin, " autojoin"),
        ] {
            if on {
                s.push_str(word);
            }
        }
    }
    if v.addr.is_ipv6() {
        match o.and_then(|o| o.preferred_lft) {
            Some(0) => s.push_str(" deprecated"),
            Some(n) if n != u32::MAX => {
                let _ = write!(s, " preferred_lft {n}");
            }
            _ => s.push_str(" preferred_lft forever"),
        }
    }
    if installed {
        s.push_str(" set");
    }
    s
}

pub(super) fn route_kind_name(k: vrrp::install::RouteKind) -> &'static str {
    match k {
        vrrp::install::RouteKind::Unicast => "unicast",
        vrrp::install::RouteKind::Blackhole => "blackhole",
        vrrp::install::RouteKind::Unreachable => "unreachable",
        vrrp::install::RouteKind::Prohibit => "prohibit",
        vrrp::install::RouteKind::Throw => "throw",
        vrrp::install::RouteKind::Local => "local",
        vrrp::install::RouteKind::Broadcast => "broadcast",
        vrrp::install::RouteKind::Anycast => "anycast",
        vrrp::install::RouteKind::Multicast => "multicast",
        vrrp::install::RouteKind::Nat => "nat",
    }
}

/// The protocol keepalived marks its routes and rules with (`RTPROT_KEEPALIVED`).
pub(super) const RTPROT_KEEPALIVED: u8 = 18;

/// A virtual route as keepalived's dumps show it
/// (`prepend 10.9.0.0/24 via inet 10.0.0.254 dev eth0 proto 18 metric 5`).
pub fn route_str(r: &vrrp::install::Route) -> String {
    let mut s = String::from("prepend ");
    if r.kind != vrrp::install::RouteKind::Unicast {
        let _ = write!(s, "{} ", route_kind_name(r.kind));
    }
    if r.dst.1 == 0 {
        s.push_str("default");
    } else {
        s.push_str(&prefix_str(r.dst.0, r.dst.1));
    }
    if let Some((a, l)) = r.from {
        let _ = write!(s, " from {}", prefix_str(a, l));
    }
    if let Some(a) = r.src {
        let _ = write!(s, " src {a}");
    }
    if let Some(v) = r.via {
        let fam = if v.is_ipv6() { "inet6" } else { "inet" };
        let _ = write!(s, " via {fam} {v}");
    }
    if let Some(d) = &r.dev {
        let _ = write!(s, " dev {d}");
    }
    if let Some(t) = r.table.filter(|t| *t != 254) {
        let _ = write!(s, " table {t}");
    }
    let _ = write!(s, " proto {RTPROT_KEEPALIVED}");
    if let Some(sc) = r.scope {
        let _ = write!(s, " scope {}", u8::from(sc));
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    if r.onlink && r.dst.0.is_ipv4() {
        s.push_str(" onlink");
    }
    s
}

/// A virtual rule as keepalived's dumps show it
/// (`from 10.0.0.1 priority 100 tos 0x0 protocol 18 lookup 100`).
pub fn rule_str(r: &vrrp::install::Rule) -> String {
    let mut s = String::new();
    if r.v6 && r.from.is_none() && r.to.is_none() {
        s.push_str("inet6 ");
    }
    if r.invert {
        s.push_str("not ");
    }
    match r.from {
        Some((a, l)) => {
            let _ = write!(s, "from {}", prefix_str(a, l));
        }
        None => s.push_str("from all"),
    }
    if let Some((a, l)) = r.to {
        let _ = write!(s, " to {}", prefix_str(a, l));
    }
    if let Some(p) = r.priority {
        let _ = write!(s, " priority {p}");
    }
    s.push_str(" tos 0x0");
    if let Some((m, mask)) = r.fwmark {
        let _ = write!(s, " fwmark {m:#x}");
        if let Some(k) = mask.filter(|k| *k != u32::MAX) {
            let _ = write!(s, "/{k:#x}");
        }
    }
    if let Some(i) = &r.iif {
        let _ = write!(s, " iif {i}");
    }
    if let Some(o) = &r.oif {
        let _ = write!(s, " oif {o}");
    }
    if r.action == vrrp::install::RuleAction::L3mdev {
        s.push_str(" l3mdev");
    }
    let _ = write!(s, " protocol {RTPROT_KEEPALIVED}");
    match r.action {
        vrrp::install::RuleAction::Table(t) => {
            let _ = write!(s, " lookup {t}");
        }
        vrrp::install::RuleAction::L3mdev => s.push_str(" lookup 0"),
        vrrp::install::RuleAction::Goto(p) => {
            let _ = write!(s, " goto {p}");
        }
        vrrp::install::RuleAction::Nop => s.push_str(" nop"),
        vrrp::install::RuleAction::Blackhole => s.push_str(" type blackhole"),
        vrrp::install::RuleAction::Unreachable => s.push_str(" type unreachable"),
        vrrp::install::RuleAction::Prohibit => s.push_str(" type prohibit"),
    }
    s
}

/// A command line as keepalived's dumps show it: each word in single quotes (a quote
/// inside as `'\''`), but a first word that is only a redirection (`<file`).
pub fn cmd_str(args: &[String]) -> String {
    args.iter()
        .enumerate()
        .map(|(n, a)| {
            if n == 0 && (a.starts_with('<') || a.starts_with('>')) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
