//! Lines of `virtual_ipaddress`, `virtual_routes`, `virtual_rules` and the `static_*`
//! blocks (`ip addr|route|rule` syntax), with keepalived's warnings.

use super::values::{parse_uint, Ctx};
use crate::conf::tree::{Node, Word};
use ka_proto::config::addr::Scope;
use ka_proto::config::{Fwmark, IpPrefix, Route, RouteType, Rule, RuleAction, VirtualIpAddress};
use std::net::IpAddr;

/// One address line. `is_static`: inside `static_ipaddress` (allows `track_group`).
pub fn ip_address(ctx: &mut Ctx, n: &Node, is_static: bool) -> Option<VirtualIpAddress> {
    let first = n.words.first()?;
    let (addr_text, len_text) = match first.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (first.text, None),
    };
    let Ok(addr) = addr_text.parse::<IpAddr>() else {
        ctx.warn(
            first.loc,
            format!("invalid IP address '{}' - skipping", first.text),
        );
        return None;
    };
    let mut prefix = IpPrefix::host(addr);
    // A prefix length that is not a number in range (a netmask included) is reported
    // and the address kept as a host address, as keepalived does. `ADDR/` is /0 to
    // keepalived (2.2.7 and 2.4.3 install it so, silently): we do the same, and say so.
    match len_text {
        None => {}
        Some("") => {
            prefix.len = 0;
            ctx.push(
                super::super::diag::Severity::Notice,
                first.loc,
                format!(
                    "'{}': no prefix length after '/': read as /0, as keepalived does",
                    first.text
                ),
            );
        }
        Some(l) => match l.parse::<u8>() {
            Ok(len) if len <= prefix.len => prefix.len = len,
            _ => ctx.warn(
                first.loc,
                format!(
                    "Invalid address prefix len {l} for address {} - using {}",
                    first.text, prefix.len
                ),
            ),
        },
    }
    let mut a = VirtualIpAddress::new(prefix);
    let mut i = 0;
    while let Some(w) = n.arg(i) {
        let opt = w.text;
        let mut take = |ctx: &mut Ctx| -> Option<String> {
            i += 1;
            ctx.str_arg(n, i)
        };
        match opt {
            "brd" | "broadcast" => {
                if let Some(v) = take(ctx) {
                    match v.parse() {
                        Ok(b) => a.broadcast = Some(b),
                        // `+`: the host bits set, `-`: cleared (as keepalived installs them).
                        Err(_) if v == "+" || v == "-" => {
                            a.broadcast = derived_broadcast(a.prefix, v == "+")
                        }
                        Err(_) => ctx.warn(w.loc, format!("invalid broadcast address '{v}'")),
                    }
                }
            }
            "dev" => {
                if let Some(v) = take(ctx) {
                    ctx.check_interface(w.loc, &v, &format!("ip address {}", a.prefix.addr));
                    a.dev = Some(v);
                }
            }
            "scope" => {
                if let Some(v) = take(ctx) {
                    match Scope::parse(&v) {
                        Some(s) => a.scope = s,
                        None => ctx.warn(w.loc, format!("invalid scope '{v}'")),
                    }
                }
            }
            "label" => a.label = take(ctx),
            "peer" => {
                if let Some(v) = take(ctx) {
                    match IpPrefix::parse(&v) {
                        Some(p) => a.peer = Some(p),
                        None => ctx.warn(w.loc, format!("invalid peer address '{v}'")),
                    }
                }
            }
            "home" => a.home = true,
            "-nodad" | "nodad" => a.nodad = true,
            "mngtmpaddr" => a.mngtmpaddr = true,
            "noprefixroute" => a.noprefixroute = true,
            "autojoin" => a.autojoin = true,
            "use_vmac" => a.use_vmac = true,
            "no_track" => a.no_track = true,
            "preferred_lft" => {
                if let Some(v) = take(ctx) {
                    a.preferred_lft = if v == "forever" {
                        Some(u32::MAX)
                    } else {
                        match v.parse() {
                            Ok(x) => Some(x),
                            Err(_) => {
                                ctx.warn(w.loc, format!("invalid preferred_lft '{v}'"));
                                None
                            }
                        }
                    }
                }
            }
            "track_group" if is_static => a.track_group = take(ctx),
            other => ctx.warn(
                w.loc,
                format!("unknown option '{other}' for address {}", a.prefix),
            ),
        }
        i += 1;
    }
    Some(a)
}

/// `brd +` / `brd -` of an IPv4 prefix: its address with the host bits set or cleared.
fn derived_broadcast(p: IpPrefix, set: bool) -> Option<std::net::IpAddr> {
    let std::net::IpAddr::V4(a) = p.addr else {
        return None;
    };
    let host = u32::MAX.checked_shr(u32::from(p.len)).unwrap_or(0);
    let bits = if set {
        u32::from(a) | host
    } else {
        u32::from(a) & !host
    };
    Some(std::net::IpAddr::V4(bits.into()))
}

fn is_default(s: &str) -> bool {
    matches!(s, "default" | "all" | "any")
}

fn prefix_or_default(s: &str) -> Option<IpPrefix> {
    match s {
        "default" | "all" | "any" => Some(IpPrefix {
            addr: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            len: 0,
        }),
        _ => IpPrefix::parse(s),
    }
}

/// The value of option word `w` of a `kind` (route or rule) line: `next`, the word after
/// it (a warning when there is none); the cursor `i` moves past the value.
fn value_of(
    ctx: &mut Ctx,
    w: &Word,
    next: Option<&str>,
    i: &mut usize,
    kind: &str,
) -> Option<String> {
    if next.is_none() {
        ctx.warn(w.loc, format!("{kind} option '{}' needs a value", w.text));
    }
    *i += 1;
    next.map(str::to_string)
}

/// What `parse` ([`ip_address`], [`route`], [`rule`]) makes of each line of `n`'s
/// block; it reports the lines it refuses.
pub fn lines<T>(
    ctx: &mut Ctx,
    n: &Node,
    is_static: bool,
    parse: fn(&mut Ctx, &Node, bool) -> Option<T>,
) -> Vec<T> {
    n.block()
        .iter()
        .filter_map(|a| parse(ctx, a, is_static))
        .collect()
}

/// One route line.
pub fn route(ctx: &mut Ctx, n: &Node, is_static: bool) -> Option<Route> {
    let mut r = Route::default();
    let words: Vec<_> = n.words.iter().collect();
    let mut i = 0;
    let mut ok = true;
    // `default` / `all` / `any` take the family of the route's other addresses.
    let (mut to_default, mut from_default) = (false, false);
    while i < words.len() {
        let w = words[i];
        let is_first = i == 0;
        let next = words.get(i + 1).map(|w| w.text);
        let mut need = |ctx: &mut Ctx| value_of(ctx, w, next, &mut i, "route");
        match w.text {
            t if is_first && RouteType::parse(t).is_some() => {
                r.route_type = RouteType::parse(t).unwrap_or_default()
            }
            "src" => r.src = need(ctx).and_then(|v| parse_ip_or_warn(ctx, w.loc, &v)),
            "from" => {
                let v = need(ctx);
                from_default = v.as_deref().is_some_and(is_default);
                r.from = v.and_then(|v| prefix_or_warn(ctx, w.loc, &v));
            }
            "to" => {
                let v = need(ctx);
                to_default = v.as_deref().is_some_and(is_default);
                r.to = v.and_then(|v| prefix_or_warn(ctx, w.loc, &v));
            }
            "via" | "gw" => {
                if w.text == "gw" {
                    ctx.warn(w.loc, "\"gw\" for routes is deprecated. Please use \"via\"");
                }
                let v = need(ctx);
                let v = match v.as_deref() {
                    Some("inet" | "inet6") => {
                        i += 1;
                        words.get(i).map(|w| w.text.to_string())
                    }
                    _ => v,
                };
                r.via = v.and_then(|v| parse_ip_or_warn(ctx, w.loc, &v));
            }
            "or" => {
                ctx.warn(
                    w.loc,
                    "\"or\" for routes is deprecated. Please use \"nexthop\"",
                );
                r.or_via = need(ctx).and_then(|v| parse_ip_or_warn(ctx, w.loc, &v));
            }
            "dev" | "oif" => {
                if let Some(v) = need(ctx) {
                    ctx.check_interface(w.loc, &v, "VROUTE");
                    r.dev = Some(v);
                }
            }
            "scope" => r.scope = need(ctx).and_then(|v| Scope::parse(&v)),
            "table" => {
                if let Some(v) = need(ctx) {
                    match ctx.rt_table(&v) {
                        // Table 0 (unspec): the kernel's main table.
                        Some(t) => r.table = (t != 0).then_some(t),
                        None => {
                            ctx.warn(w.loc, format!("Routing table {v} not found for route"));
                            ok = false;
                        }
                    }
                }
            }
            "metric" | "priority" | "preference" => {
                r.metric = need(ctx).and_then(|v| match parse_uint(&v) {
                    Some(x) if x <= u32::MAX as u64 => Some(x as u32),
                    _ => {
                        ctx.warn(w.loc, format!("invalid metric '{v}'"));
                        None
                    }
                })
            }
            "proto" | "protocol" => r.protocol = need(ctx),
            "no_track" => r.no_track = true,
            "track_group" if is_static => r.track_group = need(ctx),
            "onlink" => r.onlink = true,
            "pervasive" | "fastopen_no_cookie" => r.options.push((w.text.to_string(), None)),
            "tos" | "dsfield" | "mtu" | "advmss" | "rtt" | "rttvar" | "reordering" | "window"
            | "cwnd" | "ssthresh" | "realms" | "rto_min" | "initcwnd" | "initrwnd" | "features"
            | "quickack" | "congctl" | "pref" | "expires" | "nexthop" | "encap"
            | "ttl-propagate" | "hoplimit" | "weight" | "as" | "lock" => {
                let v = need(ctx);
                r.options.push((w.text.to_string(), v));
            }
            t if r.to.is_none() => {
                to_default = is_default(t);
                r.to = prefix_or_warn(ctx, w.loc, t);
            }
            other => {
                ctx.warn(w.loc, format!("unknown route option '{other}'"));
            }
        }
        i += 1;
    }
    if r.to.is_none() {
        ctx.warn(n.loc, "route has no destination");
        return None;
    }
    if !ok {
        return None;
    }
    let fixed = [
        r.to.filter(|_| !to_default).map(|p| p.addr),
        r.from.filter(|_| !from_default).map(|p| p.addr),
        r.src,
        r.via,
        r.or_via,
    ];
    let v6 = fixed.iter().flatten().map(|a| a.is_ipv6());
    let (any_v4, any_v6) = v6.fold((false, false), |(f4, f6), is6| (f4 || !is6, f6 || is6));
    if any_v4 && any_v6 {
        ctx.warn(n.loc, "Cannot mix IPv4 and IPv6 addresses for route");
        return None;
    }
    if any_v6 {
        let any6 = |p: IpPrefix| IpPrefix {
            addr: std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
            len: p.len,
        };
        if to_default {
            r.to = r.to.map(any6);
        }
        if from_default {
            r.from = r.from.map(any6);
        }
    }
    // keepalived 2.2.7 did not track a route without an interface (and warned); 2.4.3
    // tracks it (a deletion by hand moves the MASTER to BACKUP, observed in namespaces),
    // which we follow.
    Some(r)
}

/// One rule line.
pub fn rule(ctx: &mut Ctx, n: &Node, is_static: bool) -> Option<Rule> {
    let mut r = Rule::default();
    let words: Vec<_> = n.words.iter().collect();
    let mut i = 0;
    let mut ok = true;
    let mut action: Option<RuleAction> = None;
    let mut set_action = |ctx: &mut Ctx, loc, a: RuleAction, ok: &mut bool| {
        if action.replace(a).is_some() {
            ctx.warn(
                loc,
                "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule",
            );
            *ok = false;
        }
    };
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).map(|w| w.text);
        let mut need = |ctx: &mut Ctx| value_of(ctx, w, next, &mut i, "rule");
        match w.text {
            "from" | "to" => {
                let v = need(ctx);
                let p = match v.as_deref() {
                    Some("all") | None => None,
                    Some(v) => {
                        let p = IpPrefix::parse(v);
                        if p.is_none() {
                            ctx.warn(w.loc, format!("invalid rule {} address {v}", w.text));
                            ok = false;
                        }
                        p
                    }
                };
                if w.text == "from" {
                    r.from = p;
                } else {
                    r.to = p;
                }
            }
            "table" | "lookup" => {
                if let Some(v) = need(ctx) {
                    match ctx.rt_table(&v) {
                        Some(0) => {
                            ctx.warn(w.loc, "Table 0 is not valid");
                            ok = false;
                        }
                        Some(t) => set_action(ctx, w.loc, RuleAction::Table(t), &mut ok),
                        None => {
                            ctx.warn(w.loc, format!("Routing table {v} not found for rule"));
                            ok = false;
                        }
                    }
                }
            }
            "goto" => {
                if let Some(v) = need(ctx) {
                    match parse_uint(&v).and_then(|x| u32::try_from(x).ok()) {
                        Some(t) => set_action(ctx, w.loc, RuleAction::Goto(t), &mut ok),
                        None => {
                            ctx.warn(w.loc, "Invalid target goto specified");
                            ok = false;
                        }
                    }
                }
            }
            "nop" => set_action(ctx, w.loc, RuleAction::Nop, &mut ok),
            "blackhole" => set_action(ctx, w.loc, RuleAction::Blackhole, &mut ok),
            "unreachable" => set_action(ctx, w.loc, RuleAction::Unreachable, &mut ok),
            "prohibit" => set_action(ctx, w.loc, RuleAction::Prohibit, &mut ok),
            "l3mdev" => set_action(ctx, w.loc, RuleAction::L3mdev, &mut ok),
            "priority" | "preference" | "pref" => {
                r.priority = need(ctx).and_then(|v| match parse_uint(&v) {
                    Some(x) if x <= u32::MAX as u64 => Some(x as u32),
                    _ => {
                        ctx.warn(w.loc, format!("invalid rule priority '{v}'"));
                        None
                    }
                })
            }
            "fwmark" => {
                if let Some(v) = need(ctx) {
                    match super::rt_tables::fwmark(&v) {
                        Some((mark, mask)) => r.fwmark = Some(Fwmark { mark, mask }),
                        None => {
                            ctx.warn(w.loc, format!("Invalid rule fwmark {v} specified"));
                            ok = false;
                        }
                    }
                }
            }
            "iif" | "dev" | "oif" => {
                if let Some(v) = need(ctx) {
                    if v.is_empty() || v.len() > 15 || v.contains('\0') {
                        // Never a valid interface name: the kernel would refuse the rule.
                        ctx.warn(w.loc, format!("interface {v} for rule doesn't exist"));
                        ok = false;
                    } else {
                        ctx.check_interface(w.loc, &v, "rule");
                    }
                    if w.text == "oif" {
                        r.oif = Some(v);
                    } else {
                        r.iif = Some(v);
                    }
                }
            }
            "not" => r.invert = true,
            "no_track" => r.no_track = true,
            "track_group" if is_static => r.track_group = need(ctx),
            "tos"
            | "dsfield"
            | "realms"
            | "suppress_prefixlength"
            | "suppress_ifgroup"
            | "tun_id"
            | "uidrange"
            | "protocol"
            | "ipproto"
            | "sport"
            | "dport"
            | "nat"
            | "map-to"
            | "type" => {
                let v = need(ctx);
                r.options.push((w.text.to_string(), v));
            }
            other => ctx.warn(w.loc, format!("unknown rule option '{other}'")),
        }
        i += 1;
    }
    if !ok {
        return None;
    }
    let Some(action) = action else {
        ctx.warn(n.loc, "No action specified for rule - ignoring");
        return None;
    };
    if let RuleAction::Goto(target) = action {
        let problem = match r.priority {
            None => Some(format!(
                "Invalid rule - goto target {target} specified without preference"
            )),
            Some(p) if p >= target => Some(format!(
                "Invalid rule - preference {p} >= goto target {target}"
            )),
            Some(_) => None,
        };
        if let Some(m) = problem {
            ctx.warn(n.loc, m);
            return None;
        }
    }
    r.action = action;
    if r.priority.is_none() {
        ctx.warn(
            n.loc,
            "rule has no preference specified - keepalived picks one. This is probably not what you want.",
        );
    }
    Some(r)
}

fn parse_ip_or_warn(
    ctx: &mut Ctx,
    loc: crate::conf::tree::Loc,
    v: &str,
) -> Option<std::net::IpAddr> {
    match v.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            ctx.warn(loc, format!("invalid IP address '{v}'"));
            None
        }
    }
}

fn prefix_or_warn(ctx: &mut Ctx, loc: crate::conf::tree::Loc, v: &str) -> Option<IpPrefix> {
    let p = prefix_or_default(v);
    if p.is_none() {
        ctx.warn(loc, format!("invalid route destination '{v}'"));
    }
    p
}
