//! `virtual_server_group`, `virtual_server`, `real_server`, `SSL`.

use super::checker;
use super::values::{keep, Ctx};
use crate::conf::tree::{Loc, Node};
use ka_proto::config::lvs::{
    Family, Granularity, GroupEntry, LvsMethod, Protocol, TunnelCsum, TunnelType, VirtualServerAddr,
};
use ka_proto::config::{Config, RealServer, SslConfig, VirtualServer, VirtualServerGroup};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];

/// `virtual_server_group NAME { }`.
pub fn virtual_server_group(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    let Some(name) = ctx.str_arg(n, 0) else {
        return;
    };
    if !ctx.need_block(n) {
        return;
    }
    let mut g = VirtualServerGroup {
        name,
        entries: Vec::new(),
    };
    for k in n.block() {
        if k.keyword() == "fwmark" {
            if let Some(mark) = ctx.uint(k, 0, 1, u32::MAX as u64) {
                let family = match k.arg(1).map(|w| w.text) {
                    Some("inet") => Family::Inet,
                    Some("inet6") => Family::Inet6,
                    _ => Family::Unspec,
                };
                g.entries.push(GroupEntry::Fwmark {
                    mark: mark as u32,
                    family,
                });
            }
            continue;
        }
        let text = k.keyword();
        let (first, last) = match parse_range(text) {
            Some(r) => r,
            None => {
                ctx.warn(
                    k.loc,
                    format!(
                        "virtual_server_group {}: invalid address or range '{text}'",
                        g.name
                    ),
                );
                continue;
            }
        };
        // An invalid port skips the entry (keepalived says so), it is not port 0.
        let port = if k.arg(0).is_some() {
            match ctx.port(k, 0) {
                Some(p) => p,
                None => continue,
            }
        } else {
            0
        };
        g.entries.push(GroupEntry::Range { first, last, port });
    }
    c.virtual_server_groups.push(g);
}

/// `IP`, `IP/NN` or `IP-LAST` (last byte / last group of the address).
fn parse_range(s: &str) -> Option<(IpAddr, IpAddr)> {
    if let Some((a, last)) = s.split_once('-') {
        let first: IpAddr = a.parse().ok()?;
        let last_ip = match first {
            IpAddr::V4(v4) => {
                let l: u8 = last.parse().ok()?;
                let mut o = v4.octets();
                if l < o[3] {
                    return None;
                }
                o[3] = l;
                IpAddr::from(o)
            }
            IpAddr::V6(v6) => {
                let l = u16::from_str_radix(last, 16).ok()?;
                let mut s = v6.segments();
                if l < s[7] {
                    return None;
                }
                s[7] = l;
                IpAddr::from(s)
            }
        };
        return Some((first, last_ip));
    }
    if let Some(p) = ka_proto::config::IpPrefix::parse(s) {
        return Some((p.addr, p.addr));
    }
    None
}

/// `persistence_granularity G` for a service of family `v6` (None: not known yet, a
/// fwmark or group service): a dotted mask or a prefix length (IPv4), a prefix length
/// 1..=128 (IPv6). keepalived 2.2.7's messages.
fn granularity(g: &str, v6: Option<bool>) -> Result<Granularity, String> {
    let mask = g.parse::<std::net::Ipv4Addr>().ok();
    let len = g.parse::<u8>().ok();
    match (v6, mask, len) {
        (Some(true), _, Some(n)) if (1..=128).contains(&n) => Ok(Granularity::PrefixLen(n)),
        (Some(true), _, _) => Err(format!(
            "Invalid IPv6 persistence_granularity specified - {g}"
        )),
        (_, Some(m), _) if v6.is_none() || v6 == Some(false) => Ok(Granularity::Mask(m)),
        (Some(false), _, Some(n)) if n <= 32 => Ok(Granularity::PrefixLen(n)),
        (None, _, Some(n)) if n <= 128 => Ok(Granularity::PrefixLen(n)),
        (Some(false), _, _) => Err(format!(
            "Invalid IPv4 persistence_granularity specified - {g}"
        )),
        _ => Err(format!("Invalid persistence_granularity specified - {g}")),
    }
}

fn method(ctx: &mut Ctx, k: &Node) -> Option<LvsMethod> {
    let m = ctx.need(k, 0)?;
    Some(match m {
        "NAT" => LvsMethod::Nat,
        "DR" => LvsMethod::Dr,
        "TUN" => {
            let mut tunnel_type = TunnelType::Ipip;
            let mut port = None;
            let mut csum = None;
            let mut i = 1;
            while let Some(w) = k.arg(i) {
                match w.text {
                    "type" => {
                        if let Some(t) = ctx.str_arg(k, i + 1) {
                            tunnel_type = match t.as_str() {
                                "ipip" => TunnelType::Ipip,
                                "gue" => TunnelType::Gue,
                                "gre" => TunnelType::Gre,
                                _ => {
                                    ctx.warn(
                                        w.loc,
                                        format!("Unknown tunnel type {t} for virtual server."),
                                    );
                                    return None;
                                }
                            };
                        }
                        i += 1;
                    }
                    "port" => {
                        port = ctx.port(k, i + 1);
                        i += 1;
                    }
                    "nocsum" => csum = Some(TunnelCsum::NoCsum),
                    "csum" => csum = Some(TunnelCsum::Csum),
                    "remcsum" => csum = Some(TunnelCsum::RemCsum),
                    o => ctx.warn(w.loc, format!("lvs_method TUN: unknown option '{o}'")),
                }
                i += 1;
            }
            let at = k.words[1].loc;
            if (tunnel_type == TunnelType::Gue) != port.is_some() {
                ctx.warn(at, "gue tunnels require port, otherwise cannot have port.");
                return None;
            }
            if tunnel_type == TunnelType::Ipip && csum.is_some() {
                ctx.warn(at, "ipip tunnels do not support checksum option.");
                return None;
            }
            LvsMethod::Tun {
                tunnel_type,
                port,
                csum,
            }
        }
        o => {
            ctx.warn(
                k.words[1].loc,
                format!("unknown lvs_method '{o}', expected NAT, DR or TUN"),
            );
            return None;
        }
    })
}

/// A virtual server as keepalived names it in its messages: `[10.0.0.1]:tcp:80`
/// (`label` for a fwmark or a group).
fn keepalived_name(vs: &VirtualServer, label: &str) -> String {
    let proto = match vs.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    };
    match &vs.addr {
        VirtualServerAddr::Ip(sa) => format!("[{}]:{proto}:{}", sa.ip(), sa.port()),
        _ => label.to_string(),
    }
}

/// `virtual_server IP PORT | fwmark N | group NAME { }`.
pub fn virtual_server(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    let Some(first) = ctx.need(n, 0).map(str::to_string) else {
        return;
    };
    let addr = match first.as_str() {
        "fwmark" => match ctx.uint(n, 1, 1, u32::MAX as u64) {
            Some(m) => VirtualServerAddr::Fwmark(m as u32),
            None => return,
        },
        "group" => match ctx.str_arg(n, 1) {
            Some(g) => VirtualServerAddr::Group(g),
            None => return,
        },
        ip => {
            let Ok(ip) = ip.parse::<IpAddr>() else {
                ctx.warn(
                    n.words[1].loc,
                    format!("invalid virtual server address '{ip}' - skipping"),
                );
                return;
            };
            // An invalid port skips the virtual server, as keepalived does (it is not
            // a service on port 0).
            let port = if n.arg(1).is_some() {
                match ctx.port(n, 1) {
                    Some(p) => p,
                    None => {
                        ctx.warn(
                            n.loc,
                            format!("Invalid virtual server IP address/port {ip} - skipping"),
                        );
                        return;
                    }
                }
            } else {
                0
            };
            VirtualServerAddr::Ip(SocketAddr::new(ip, port))
        }
    };
    if !ctx.need_block(n) {
        return;
    }
    let vs_port = match &addr {
        VirtualServerAddr::Ip(sa) => sa.port(),
        _ => 0,
    };
    let rs_count = n
        .block()
        .iter()
        .filter(|k| k.keyword() == "real_server")
        .count();
    let mut vs = VirtualServer {
        addr,
        real_servers: Vec::with_capacity(rs_count),
        ..VirtualServer::default()
    };
    let mut protocol_loc = None;
    let (mut sched_set, mut method_set) = (false, false);
    for k in n.block() {
        let kw = k.keyword();
        match kw {
            "lvs_sched" | "lb_algo" => {
                // An unknown scheduler is reported and the one set before stays.
                if let Some(s) = ctx.str_arg(k, 0) {
                    if SCHEDULERS.contains(&s.as_str()) {
                        sched_set = true;
                        vs.lvs_sched = s;
                    } else {
                        ctx.warn(
                            k.words[1].loc,
                            format!("Invalid lvs_scheduler '{s}' - ignoring"),
                        );
                    }
                }
            }
            "lvs_method" | "lb_kind" => {
                if let Some(m) = method(ctx, k) {
                    method_set = true;
                    vs.lvs_method = m;
                }
            }
            "protocol" => {
                // An unknown protocol is reported and the one set before stays.
                let p = match k.arg(0).map(|w| w.text.to_ascii_uppercase()).as_deref() {
                    Some("TCP") => Some(Protocol::Tcp),
                    Some("UDP") => Some(Protocol::Udp),
                    Some("SCTP") => Some(Protocol::Sctp),
                    Some(o) => {
                        ctx.warn(k.words[1].loc, format!("Unknown protocol {o} - ignoring"));
                        None
                    }
                    None => {
                        ctx.need(k, 0);
                        None
                    }
                };
                if let Some(p) = p {
                    vs.protocol = p;
                    protocol_loc = Some(k.loc);
                }
            }
            "ip_family" => match k.arg(0).map(|w| w.text) {
                Some("inet") => vs.ip_family = Family::Inet,
                Some("inet6") => vs.ip_family = Family::Inet6,
                _ => {
                    let l = ctx.arg_loc(k, 0);
                    ctx.warn(l, "ip_family: expected inet or inet6");
                }
            },
            "flag-1" | "flag-2" | "flag-3" | "ops" => vs.sched_flags.push(kw.to_string()),
            // Only for the scheduler set so far being sh or mh (keepalived 2.2.7 and 2.4.3).
            "sh-port" | "sh-fallback" | "mh-port" | "mh-fallback" | "hashed" => {
                if matches!(vs.lvs_sched.as_str(), "sh" | "mh") {
                    vs.sched_flags.push(kw.to_string())
                } else {
                    ctx.warn(
                        k.loc,
                        format!("{kw} only applies to sh scheduler - ignoring"),
                    );
                }
            }
            "persistence_timeout" => {
                // No value: 360 s. An invalid value is reported and the statement ignored
                // (no persistence unless set elsewhere), as keepalived 2.2.7 does.
                if k.arg(0).is_none() {
                    vs.persistence_timeout = Some(Duration::from_secs(360));
                } else if let Some(t) = ctx.uint(k, 0, 1, u32::MAX as u64) {
                    vs.persistence_timeout = Some(Duration::from_secs(t));
                }
            }
            "persistence_granularity" => {
                if let Some(g) = ctx.str_arg(k, 0) {
                    let v6 = match &vs.addr {
                        VirtualServerAddr::Ip(sa) => Some(sa.is_ipv6()),
                        _ => None,
                    };
                    match granularity(&g, v6) {
                        Ok(g) => {
                            vs.persistence_granularity = Some(g);
                            // A granularity makes the service persistent (360 s unless
                            // persistence_timeout says otherwise), as in keepalived.
                            if vs.persistence_timeout.is_none() {
                                vs.persistence_timeout = Some(Duration::from_secs(360));
                            }
                        }
                        Err(m) => ctx.warn(k.words[1].loc, m),
                    }
                }
            }
            "persistence_engine" => keep(&mut vs.persistence_engine, ctx.str_arg(k, 0)),
            "delay_loop" => vs.delay_loop = ctx.secs_above_zero(k).unwrap_or(vs.delay_loop),
            "connect_timeout" => keep(&mut vs.connect_timeout, ctx.secs_above_zero(k)),
            "retry" => keep(&mut vs.retry, ctx.count_from_one(k)),
            "delay_before_retry" => keep(&mut vs.delay_before_retry, ctx.secs_from_zero(k)),
            "warmup" => keep(&mut vs.warmup, ctx.secs_from_zero(k)),
            // keepalived reads no value for these at the virtual server: given any
            // (even "off"), the setting is on.
            "inhibit_on_failure" => vs.inhibit_on_failure = true,
            "alpha" => vs.alpha = true,
            "omega" => vs.omega = true,
            // keepalived sets an invalid quorum to 1 (it says so), not to the old value.
            "quorum" => match ctx.uint_lenient(k, 0, 1, u32::MAX as u64) {
                Some(q) => vs.quorum = q as u32,
                None => {
                    ctx.warn(k.loc, "quorum: setting to 1, as keepalived does");
                    vs.quorum = 1;
                }
            },
            "hysteresis" => {
                if let Some(h) = ctx.uint_lenient(k, 0, 0, u32::MAX as u64) {
                    vs.hysteresis = h as u32;
                }
            }
            "quorum_up" => keep(&mut vs.quorum_up, ctx.script(k, false)),
            "quorum_down" => keep(&mut vs.quorum_down, ctx.script(k, false)),
            "sorry_server" => {
                // An invalid port skips the sorry server (keepalived says so).
                if let Some(ip) = ctx.ip(k, 0) {
                    let port = if k.arg(1).is_some() {
                        ctx.port(k, 1)
                    } else {
                        Some(vs_port)
                    };
                    if let Some(port) = port {
                        vs.sorry_server = Some(SocketAddr::new(ip, port));
                    }
                }
            }
            // It applies to the sorry server given before it; no value is read.
            "sorry_server_inhibit" => {
                if vs.sorry_server.is_some() {
                    vs.sorry_server_inhibit = true;
                } else {
                    ctx.warn(
                        k.loc,
                        "Ignoring sorry_server_inhibit used before or without sorry_server",
                    );
                }
            }
            "sorry_server_lvs_method" => vs.sorry_server_lvs_method = method(ctx, k),
            "ha_suspend" => vs.ha_suspend = true,
            "virtualhost" => keep(&mut vs.virtualhost, ctx.str_arg(k, 0)),
            "smtp_alert" => ctx.set_flag_opt(k, &mut vs.smtp_alert),
            "snmp_name" => keep(&mut vs.snmp_name, ctx.str_arg(k, 0)),
            "real_server" => {
                if let Some(rs) = real_server(ctx, k, vs_port) {
                    vs.real_servers.push(rs);
                }
            }
            _ => ctx.unknown(k),
        }
    }
    let label = match &vs.addr {
        VirtualServerAddr::Ip(sa) => sa.to_string(),
        VirtualServerAddr::Fwmark(m) => format!("FWM {m}"),
        VirtualServerAddr::Group(g) => format!("group {g}"),
    };
    if vs.real_servers.is_empty() {
        ctx.warn(
            n.loc,
            format!("Virtual server {label} has no real servers - ignoring"),
        );
        return;
    }
    if protocol_loc.is_none() && !matches!(vs.addr, VirtualServerAddr::Fwmark(_)) {
        // keepalived 2.2.7 says so and uses UDP.
        ctx.warn(
            n.loc,
            format!("Virtual server {label}: no protocol set - defaulting to UDP"),
        );
        vs.protocol = Protocol::Udp;
    }
    if vs.protocol != Protocol::Udp && vs.sched_flags.iter().any(|f| f == "ops") {
        ctx.warn(
            Loc::default(),
            format!(
                "Virtual server {}: one packet scheduling requires UDP - resetting",
                keepalived_name(&vs, &label)
            ),
        );
        vs.sched_flags.retain(|f| f != "ops");
    }
    // Port 0 (none given) needs persistence: keepalived sets it (6 minutes, its
    // default) and says so.
    if matches!(&vs.addr, VirtualServerAddr::Ip(sa) if sa.port() == 0)
        && vs.persistence_timeout.is_none()
    {
        ctx.warn(
            Loc::default(),
            format!(
                "Virtual server {}: zero port only valid for persistent services - setting",
                keepalived_name(&vs, &label)
            ),
        );
        vs.persistence_timeout = Some(Duration::from_secs(360));
    }
    if !sched_set {
        ctx.warn(
            n.loc,
            format!("Virtual server {label}: no scheduler set, setting default 'wlc'"),
        );
    }
    if !method_set {
        ctx.warn(
            n.loc,
            format!("Virtual server {label}: no forwarding method set, setting default NAT"),
        );
    }
    // A fwmark service's family is known only now (ip_family, else its real servers',
    // else IPv4, as the checker programs it): its granularity must fit it.
    if let (VirtualServerAddr::Fwmark(_), Some(g)) = (&vs.addr, vs.persistence_granularity) {
        let v6 = match vs.ip_family {
            Family::Inet6 => true,
            Family::Inet => false,
            Family::Unspec => vs.real_servers.first().is_some_and(|r| r.addr.is_ipv6()),
        };
        let text = match g {
            Granularity::Mask(m) => m.to_string(),
            Granularity::PrefixLen(n) => n.to_string(),
        };
        if let Err(m) = granularity(&text, Some(v6)) {
            ctx.warn(n.loc, m);
            vs.persistence_granularity = None;
        }
    }
    let total: i64 = vs.real_servers.iter().map(|r| i64::from(r.weight)).sum();
    if i64::from(vs.quorum) > total {
        ctx.warn(n.loc, format!("Warning - quorum {} for {label} exceeds total weight of real servers {total}, reducing quorum to {total}", vs.quorum));
        vs.quorum = u32::try_from(total).unwrap_or(0);
    }
    if vs.hysteresis >= vs.quorum {
        ctx.warn(
            n.loc,
            format!(
                "Virtual server {label}: hysteresis {} >= quorum {}; setting hysteresis to 0",
                vs.hysteresis, vs.quorum
            ),
        );
        vs.hysteresis = 0;
    }
    if let (VirtualServerAddr::Fwmark(m), Some(l)) = (&vs.addr, protocol_loc) {
        ctx.warn(
            l,
            format!(
                "Virtual server FWM {m}: protocol specified for fwmark - protocol will be ignored"
            ),
        );
    }
    c.virtual_servers.push(vs);
}

fn real_server(ctx: &mut Ctx, n: &Node, vs_port: u16) -> Option<RealServer> {
    let ip = ctx.ip(n, 0)?;
    let port = if n.arg(1).is_some() {
        ctx.port(n, 1)?
    } else {
        vs_port
    };
    // Exactly as many checker slots as the block has (a Vec grows to 4 on its first
    // push, which for 10,000 real servers is ~7 MB of never-used checkers).
    let checkers = n
        .block()
        .iter()
        .filter(|k| checker::is_checker(k.keyword()))
        .count();
    let mut rs = RealServer {
        addr: SocketAddr::new(ip, port),
        checkers: Vec::with_capacity(checkers),
        ..RealServer::default()
    };
    for k in n.block() {
        let kw = k.keyword();
        match kw {
            "weight" => {
                if let Some(w) = ctx.uint_lenient(k, 0, 0, i32::MAX as u64) {
                    rs.weight = w as i32;
                }
            }
            // keepalived 2.2.7 knows only lvs_method here (lb_kind is unknown).
            "lvs_method" => rs.lvs_method = method(ctx, k),
            "snmp_name" => {
                ctx.str_arg(k, 0);
            }
            "notify_up" => keep(&mut rs.notify_up, ctx.script(k, false)),
            "notify_down" => keep(&mut rs.notify_down, ctx.script(k, false)),
            "uthreshold" => keep(&mut rs.uthreshold, ctx.u32_lenient(k)),
            "lthreshold" => keep(&mut rs.lthreshold, ctx.u32_lenient(k)),
            "inhibit_on_failure" => ctx.set_flag_opt(k, &mut rs.inhibit_on_failure),
            "alpha" => ctx.set_flag_opt(k, &mut rs.alpha),
            "smtp_alert" => ctx.set_flag_opt(k, &mut rs.smtp_alert),
            "virtualhost" => keep(&mut rs.virtualhost, ctx.str_arg(k, 0)),
            "delay_loop" => keep(&mut rs.delay_loop, ctx.secs_above_zero(k)),
            "connect_timeout" => keep(&mut rs.connect_timeout, ctx.secs_above_zero(k)),
            "retry" => keep(&mut rs.retry, ctx.count_from_one(k)),
            "delay_before_retry" => keep(&mut rs.delay_before_retry, ctx.secs_from_zero(k)),
            "warmup" => keep(&mut rs.warmup, ctx.secs_from_zero(k)),
            _ => match checker::checker(ctx, k) {
                Some(Some(ch)) => {
                    if let Some(c) = ch.common() {
                        let ll = matches!(c.connect_ip, Some(IpAddr::V6(a)) if (a.segments()[0] & 0xffc0) == 0xfe80);
                        if ll && c.bind_if.is_none() {
                            ctx.warn(k.loc, "Checker link local address requires a bind_if");
                        }
                    }
                    rs.checkers.push(ch);
                }
                Some(None) => {}
                None => ctx.unknown(k),
            },
        }
    }
    Some(rs)
}

/// `SSL { }`.
pub fn ssl(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    if !ctx.need_block(n) {
        return;
    }
    let mut s = SslConfig::default();
    for k in n.block() {
        match k.keyword() {
            "password" => keep(&mut s.password, ctx.str_arg(k, 0)),
            "ca" => keep(&mut s.ca, ctx.str_arg(k, 0)),
            "certificate" => keep(&mut s.certificate, ctx.str_arg(k, 0)),
            "key" => keep(&mut s.key, ctx.str_arg(k, 0)),
            _ => ctx.unknown(k),
        }
    }
    c.ssl = Some(s);
}
