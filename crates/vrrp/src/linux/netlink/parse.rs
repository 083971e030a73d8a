//! keepalived's text forms turned into requests: the options after a `virtual_ipaddress`
//! address (`brd X dev IF scope S label L peer P home -nodad mngtmpaddr noprefixroute
//! autojoin no_track preferred_lft N|forever`), `virtual_routes` lines (`ip route` syntax)
//! and `virtual_rules` lines (`ip rule` syntax), for embedders that hold these as text
//! (keepalived-rs types them when the configuration is read, see [`crate::install`]).
//!
//! Interface names are resolved through a caller-supplied function (the daemon keeps a
//! name → ifindex table fed by the netlink monitor), so parsing never blocks.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use super::address::{AddressSpec, Scope};
use super::route::{NextHop, RouteKind, RouteSpec};
use super::rule::{RuleAction, RuleSpec};
use super::RT_TABLE_MAIN;
use crate::AddrOptions;

/// A line that could not be understood, with the offending word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The whole text.
    pub text: String,
    /// The word at fault ("" at the end of the line).
    pub word: String,
    /// What is wrong.
    pub why: &'static str,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {} (at {:?})", self.text, self.why, self.word)
    }
}

impl std::error::Error for SpecError {}

struct Words<'a> {
    text: &'a str,
    words: Vec<&'a str>,
    pos: usize,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Words<'a> {
        Words {
            text,
            words: text.split_whitespace().collect(),
            pos: 0,
        }
    }
    fn next(&mut self) -> Option<&'a str> {
        let w = self.words.get(self.pos).copied();
        self.pos += 1;
        w
    }
    fn err(&self, why: &'static str) -> SpecError {
        let word = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.words.get(i))
            .copied()
            .unwrap_or("");
        SpecError {
            text: self.text.to_string(),
            word: word.to_string(),
            why,
        }
    }
    fn value(&mut self, why: &'static str) -> Result<&'a str, SpecError> {
        self.next().ok_or_else(|| self.err(why))
    }
    fn parse<T: std::str::FromStr>(&mut self, why: &'static str) -> Result<T, SpecError> {
        let w = self.value(why)?;
        w.parse().map_err(|_| self.err(why))
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// `ADDR[/LEN]`, `default` or `all` (`default_v6` decides the family of the last two).
fn parse_prefix(s: &str, default_v6: bool) -> Option<(IpAddr, u8)> {
    if s == "default" || s == "all" || s == "any" {
        let a = if default_v6 {
            IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        return Some((a, 0));
    }
    let (a, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max)?,
        None => max,
    };
    Some((addr, len))
}

/// A routing table name or number (`main`, `local`, `default`, or 1..2^32-1).
pub fn parse_table(s: &str) -> Option<u32> {
    match s {
        "main" => Some(RT_TABLE_MAIN),
        "local" => Some(255),
        "default" => Some(253),
        n => parse_u32(n).filter(|t| *t != 0),
    }
}

/// The options of one `virtual_ipaddress` entry, parsed: where the address goes and how
/// it is installed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VipOptions {
    /// `dev IF`.
    pub dev: Option<String>,
    /// `brd +` was given (the broadcast address is worked out once the address is known).
    pub broadcast_auto: bool,
    /// `no_track`: the address going away does not fault the instance.
    pub no_track: bool,
    /// `use_vmac`: put this address on the VMAC.
    pub use_vmac: bool,
    /// `brd`, `scope`, `label`, `peer`, the flags and `preferred_lft N` (`forever`: None).
    pub install: AddrOptions,
}

impl VipOptions {
    /// Parse the words after the address.
    pub fn parse(text: &str) -> Result<VipOptions, SpecError> {
        let mut o = VipOptions::default();
        let mut w = Words::new(text);
        while let Some(word) = w.next() {
            match word {
                "dev" => o.dev = Some(w.value("interface name expected")?.to_string()),
                "brd" | "broadcast" => match w.value("broadcast address expected")? {
                    "+" => o.broadcast_auto = true,
                    "-" => o.install.broadcast = None,
                    _ => {
                        w.pos -= 1;
                        o.install.broadcast = Some(w.parse("IPv4 broadcast address expected")?);
                    }
                },
                "scope" => {
                    o.install.scope = Scope::parse(w.value("scope expected")?)
                        .ok_or_else(|| w.err("unknown scope"))?
                }
                "label" => o.install.label = Some(w.value("label expected")?.to_string()),
                "peer" => {
                    let (p, _) = parse_prefix(w.value("peer address expected")?, false)
                        .ok_or_else(|| w.err("bad peer address"))?;
                    o.install.peer = Some(p);
                }
                "home" => o.install.home = true,
                "-nodad" | "nodad" => o.install.nodad = true,
                "mngtmpaddr" => o.install.mngtmpaddr = true,
                "noprefixroute" => o.install.noprefixroute = true,
                "autojoin" => o.install.autojoin = true,
                "no_track" => o.no_track = true,
                "use_vmac" => o.use_vmac = true,
                "preferred_lft" => match w.value("lifetime expected")? {
                    "forever" => o.install.preferred_lft = None,
                    n => {
                        o.install.preferred_lft =
                            Some(n.parse().map_err(|_| w.err("bad lifetime"))?)
                    }
                },
                _ => return Err(w.err("unknown address option")),
            }
        }
        Ok(o)
    }

    /// The request for `addr/prefix_len` on `ifindex` with these options. IPv6 addresses
    /// always get `nodad`, as keepalived 2.2.7 adds them (observed with `ip addr`): a VIP
    /// must be usable at once, e.g. as the source of neighbour advertisements.
    pub fn to_spec(&self, ifindex: u32, addr: IpAddr, prefix_len: u8) -> AddressSpec {
        let mut s = AddressSpec::with_options(ifindex, addr, prefix_len, &self.install);
        if self.broadcast_auto {
            if let IpAddr::V4(a) = addr {
                let host_bits = 32 - u32::from(prefix_len.min(32));
                let mask = u32::MAX.checked_shl(host_bits).unwrap_or(0);
                s.broadcast = Some(Ipv4Addr::from(u32::from(a) | !mask));
            }
        }
        s
    }
}

/// Parse a `virtual_routes` line. `resolve` maps interface names to indexes;
/// `default_dev` is used when the line names no `dev` and has no gateway.
/// Also returns whether `no_track` was given.
pub fn parse_route(
    text: &str,
    resolve: &mut dyn FnMut(&str) -> Option<u32>,
    default_dev: Option<u32>,
) -> Result<(RouteSpec, bool), SpecError> {
    let mut w = Words::new(text);
    let mut dst: Option<(IpAddr, u8)> = None;
    let mut r = RouteSpec::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let mut no_track = false;
    let mut has_dev = false;
    let mut v6_hint = text.contains(':');
    // `nexthop ...` groups: via/dev/onlink/weight then belong to the last group.
    let mut explicit_nexthops = false;
    while let Some(word) = w.next() {
        match word {
            "src" => r.src = Some(w.parse("source address expected")?),
            "from" => {
                r.from = Some(
                    parse_prefix(w.value("source prefix expected")?, v6_hint)
                        .ok_or_else(|| w.err("bad source prefix"))?,
                )
            }
            "to" => {
                dst = Some(
                    parse_prefix(w.value("destination expected")?, v6_hint)
                        .ok_or_else(|| w.err("bad destination"))?,
                )
            }
            "via" | "gw" => {
                let v = w.value("gateway expected")?;
                let v = if v == "inet" || v == "inet6" {
                    w.value("gateway expected")?
                } else {
                    v
                };
                let g: IpAddr = v.parse().map_err(|_| w.err("bad gateway"))?;
                match r.nexthops.last_mut() {
                    Some(nh) if explicit_nexthops => nh.gateway = Some(g),
                    _ => r.gateway = Some(g),
                }
            }
            "or" => {
                // keepalived's alternative gateway: a multipath route over both.
                let first = r
                    .gateway
                    .take()
                    .ok_or_else(|| w.err("\"or\" without \"via\""))?;
                if r.nexthops.is_empty() {
                    r.nexthops.push(NextHop {
                        gateway: Some(first),
                        oif: None,
                        weight: 1,
                        onlink: false,
                    });
                }
                let g: IpAddr = w.parse("gateway expected after \"or\"")?;
                r.nexthops.push(NextHop {
                    gateway: Some(g),
                    oif: None,
                    weight: 1,
                    onlink: false,
                });
            }
            "nexthop" => {
                explicit_nexthops = true;
                r.nexthops.push(NextHop {
                    gateway: None,
                    oif: None,
                    weight: 1,
                    onlink: false,
                });
            }
            "weight" => {
                let weight: u16 = w.parse("weight expected")?;
                let nh = r
                    .nexthops
                    .last_mut()
                    .ok_or_else(|| w.err("weight outside a nexthop"))?;
                nh.weight = weight;
            }
            "dev" | "oif" => {
                let name = w.value("interface name expected")?;
                let ifindex = resolve(name).ok_or_else(|| w.err("no such interface"))?;
                match r.nexthops.last_mut() {
                    Some(nh) if explicit_nexthops => nh.oif = Some(ifindex),
                    _ => {
                        r.oif = Some(ifindex);
                        has_dev = true;
                    }
                }
            }
            "scope" => {
                r.scope = Some(
                    Scope::parse(w.value("scope expected")?)
                        .ok_or_else(|| w.err("unknown scope"))?,
                )
            }
            "table" | "lookup" => {
                r.table =
                    parse_table(w.value("table expected")?).ok_or_else(|| w.err("bad table"))?
            }
            "metric" | "preference" | "priority" | "pref" => {
                r.metric = Some(w.parse("metric expected")?)
            }
            "tos" | "dsfield" => {
                r.tos = parse_u32(w.value("tos expected")?)
                    .and_then(|t| u8::try_from(t).ok())
                    .ok_or_else(|| w.err("bad tos"))?
            }
            "proto" | "protocol" => {
                r.protocol = match w.value("protocol expected")? {
                    "keepalived" => super::RTPROT_KEEPALIVED,
                    "static" => 4,
                    "boot" => 3,
                    "kernel" => 2,
                    n => n.parse().map_err(|_| w.err("bad protocol"))?,
                }
            }
            "onlink" => match r.nexthops.last_mut() {
                Some(nh) if explicit_nexthops => nh.onlink = true,
                _ => r.onlink = true,
            },
            "no_track" => no_track = true,
            "blackhole" => r.kind = RouteKind::Blackhole,
            "unreachable" => r.kind = RouteKind::Unreachable,
            "prohibit" => r.kind = RouteKind::Prohibit,
            "throw" => r.kind = RouteKind::Throw,
            "local" => r.kind = RouteKind::Local,
            "unicast" => r.kind = RouteKind::Unicast,
            other => {
                if dst.is_some() {
                    return Err(w.err("unknown route option"));
                }
                let p =
                    parse_prefix(other, v6_hint).ok_or_else(|| w.err("unknown route option"))?;
                v6_hint = p.0.is_ipv6();
                dst = Some(p);
            }
        }
    }
    let (d, len) = dst.ok_or_else(|| w.err("no destination"))?;
    r.dst = d;
    r.dst_len = len;
    // keepalived's "via A or B dev X": the device applies to every path.
    if has_dev {
        for nh in r.nexthops.iter_mut().filter(|nh| nh.oif.is_none()) {
            nh.oif = r.oif;
        }
    }
    if !has_dev && r.gateway.is_none() && r.nexthops.is_empty() && r.kind == RouteKind::Unicast {
        r.oif = default_dev;
    }
    Ok((r, no_track))
}

/// Parse a `virtual_rules` line; `default_v6` gives the family when no address says it.
/// Also returns whether `no_track` was given.
pub fn parse_rule(text: &str, default_v6: bool) -> Result<(RuleSpec, bool), SpecError> {
    let mut w = Words::new(text);
    let v6 = if text.split_whitespace().any(|t| t == "inet6" || t == "-6") {
        true
    } else if text.split_whitespace().any(|t| t == "inet" || t == "-4") {
        false
    } else {
        text.split_whitespace()
            .find_map(|t| {
                parse_prefix(t, default_v6).filter(|(a, l)| !(a.is_unspecified() && *l == 0))
            })
            .map_or(default_v6, |(a, _)| a.is_ipv6())
    };
    let mut r = RuleSpec::to_table(v6, RT_TABLE_MAIN);
    let mut action = None;
    let mut no_track = false;
    while let Some(word) = w.next() {
        match word {
            "inet" | "inet6" | "-4" | "-6" => {}
            "from" | "to" => {
                let p = parse_prefix(w.value("prefix expected")?, v6)
                    .ok_or_else(|| w.err("bad prefix"))?;
                let p = if p.0.is_unspecified() && p.1 == 0 {
                    None
                } else {
                    Some(p)
                };
                if word == "from" {
                    r.rule.from = p;
                } else {
                    r.rule.to = p;
                }
            }
            "not" => r.rule.invert = true,
            "table" | "lookup" => {
                action = Some(RuleAction::Table(
                    parse_table(w.value("table expected")?).ok_or_else(|| w.err("bad table"))?,
                ))
            }
            "goto" => action = Some(RuleAction::Goto(w.parse("rule priority expected")?)),
            "nop" => action = Some(RuleAction::Nop),
            "blackhole" => action = Some(RuleAction::Blackhole),
            "unreachable" => action = Some(RuleAction::Unreachable),
            "prohibit" => action = Some(RuleAction::Prohibit),
            "priority" | "preference" | "pref" | "order" => {
                r.rule.priority = Some(w.parse("priority expected")?)
            }
            "fwmark" => {
                let v = w.value("fwmark expected")?;
                let (m, mask) = match v.split_once('/') {
                    Some((m, k)) => (m, Some(k)),
                    None => (v, None),
                };
                let m = parse_u32(m).ok_or_else(|| w.err("bad fwmark"))?;
                let mask = match mask {
                    Some(k) => Some(parse_u32(k).ok_or_else(|| w.err("bad fwmark mask"))?),
                    None => None,
                };
                r.rule.fwmark = Some((m, mask));
            }
            "iif" | "dev" => r.rule.iif = Some(w.value("interface expected")?.to_string()),
            "oif" => r.rule.oif = Some(w.value("interface expected")?.to_string()),
            "tos" | "dsfield" => {
                r.tos = parse_u32(w.value("tos expected")?)
                    .and_then(|t| u8::try_from(t).ok())
                    .ok_or_else(|| w.err("bad tos"))?
            }
            "suppress_prefixlength" | "sup_pl" => {
                r.suppress_prefixlen = Some(w.parse("prefix length expected")?)
            }
            "suppress_ifgroup" | "sup_group" => {
                r.suppress_ifgroup = Some(w.parse("group expected")?)
            }
            "protocol" | "proto" => {
                r.protocol = match w.value("protocol expected")? {
                    "keepalived" => super::RTPROT_KEEPALIVED,
                    n => n.parse().map_err(|_| w.err("bad protocol"))?,
                }
            }
            "uidrange" => {
                let v = w.value("uid range expected")?;
                let (a, b) = v.split_once('-').ok_or_else(|| w.err("A-B expected"))?;
                let a = a.parse().map_err(|_| w.err("bad uid"))?;
                let b = b.parse().map_err(|_| w.err("bad uid"))?;
                r.uid_range = Some((a, b));
            }
            "ipproto" => {
                r.ip_proto = Some(match w.value("protocol expected")? {
                    "tcp" => 6,
                    "udp" => 17,
                    "icmp" => 1,
                    "ipv6-icmp" | "icmpv6" => 58,
                    "sctp" => 132,
                    n => n.parse().map_err(|_| w.err("bad ip protocol"))?,
                })
            }
            "sport" | "dport" => {
                let v = w.value("port or range expected")?;
                let (a, b) = v.split_once('-').unwrap_or((v, v));
                let a: u16 = a.parse().map_err(|_| w.err("bad port"))?;
                let b: u16 = b.parse().map_err(|_| w.err("bad port"))?;
                if word == "sport" {
                    r.sport = Some((a, b));
                } else {
                    r.dport = Some((a, b));
                }
            }
            "l3mdev" => r.l3mdev = true,
            "no_track" => no_track = true,
            _ => return Err(w.err("unknown or unsupported rule option")),
        }
    }
    if let Some(a) = action {
        r.rule.action = a;
    }
    Ok((r, no_track))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(name: &str) -> Option<u32> {
        match name {
            "eth0" => Some(2),
            "eth1" => Some(3),
            _ => None,
        }
    }

    #[test]
    fn vip_options() {
        let o = VipOptions::parse("brd 10.0.0.255 dev eth1 scope link label eth1:vip no_track")
            .expect("parse");
        assert_eq!(o.install.broadcast, Some(Ipv4Addr::new(10, 0, 0, 255)));
        assert_eq!(o.dev.as_deref(), Some("eth1"));
        assert_eq!(o.install.scope, Scope::Link);
        assert_eq!(o.install.label.as_deref(), Some("eth1:vip"));
        assert!(o.no_track);
        let s = o.to_spec(3, "10.0.0.5".parse().expect("lit"), 24);
        assert_eq!((s.ifindex, s.prefix_len, s.scope), (3, 24, Scope::Link));
        let auto = VipOptions::parse("brd +").expect("parse");
        let s = auto.to_spec(1, "192.168.1.10".parse().expect("lit"), 22);
        assert_eq!(s.broadcast, Some(Ipv4Addr::new(192, 168, 3, 255)));
        let v6 = VipOptions::parse("-nodad noprefixroute preferred_lft 0 home mngtmpaddr")
            .expect("parse");
        assert!(
            v6.install.nodad
                && v6.install.noprefixroute
                && v6.install.home
                && v6.install.mngtmpaddr
        );
        assert_eq!(v6.install.preferred_lft, Some(0));
        assert_eq!(VipOptions::parse("").expect("empty"), VipOptions::default());
        let plain = VipOptions::default();
        assert!(
            plain
                .to_spec(1, "2001:db8::1".parse().expect("lit"), 64)
                .nodad
        );
        assert!(!plain.to_spec(1, "10.0.0.1".parse().expect("lit"), 24).nodad);
        let e = VipOptions::parse("scope galaxy").expect_err("bad scope");
        assert_eq!(e.word, "galaxy");
        assert!(VipOptions::parse("label").is_err());
        assert!(VipOptions::parse("frobnicate").is_err());
    }

    #[test]
    fn routes() {
        let (r, nt) = parse_route(
            "src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1",
            &mut resolve,
            Some(2),
        )
        .expect("parse");
        assert!(!nt);
        assert_eq!(r.src, Some("192.168.100.1".parse().expect("lit")));
        assert_eq!(
            (r.dst, r.dst_len),
            ("192.168.109.0".parse().expect("lit"), 24)
        );
        assert_eq!(r.gateway, Some("192.168.200.254".parse().expect("lit")));
        assert_eq!(r.oif, Some(3));
        let (r, _) =
            parse_route("blackhole 192.168.114.0/24", &mut resolve, Some(2)).expect("parse");
        assert_eq!(r.kind, RouteKind::Blackhole);
        assert_eq!(r.oif, None);
        let (r, nt) = parse_route(
            "default via 10.0.0.1 table 100 metric 7 no_track",
            &mut resolve,
            Some(2),
        )
        .expect("parse");
        assert!(nt);
        assert_eq!((r.dst_len, r.table, r.metric), (0, 100, Some(7)));
        let (r, _) = parse_route("10.5.0.0/16 scope link", &mut resolve, Some(2)).expect("parse");
        assert_eq!(r.oif, Some(2), "default interface");
        let (r, _) =
            parse_route("2001:db8::/32 via fe80::1 dev eth0", &mut resolve, None).expect("parse");
        assert!(r.dst.is_ipv6());
        let (r, _) =
            parse_route("default via fe80::1 dev eth0", &mut resolve, None).expect("v6 default");
        assert!(r.dst.is_ipv6());
        assert!(parse_route("10.0.0.0/8 dev nope", &mut resolve, None).is_err());
        assert!(parse_route("10.0.0.0/33", &mut resolve, None).is_err());
        assert!(parse_route("via 10.0.0.1", &mut resolve, None).is_err());
        let (r, _) = parse_route(
            "192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 dev eth1",
            &mut resolve,
            None,
        )
        .expect("or");
        assert_eq!(r.gateway, None);
        assert_eq!(r.nexthops.len(), 2);
        assert!(r.nexthops.iter().all(|n| n.oif == Some(3) && n.weight == 1));
        let (r, _) = parse_route(
            "10.1.0.0/16 nexthop via 10.0.0.1 dev eth0 weight 3 nexthop via 10.0.1.1 dev eth1",
            &mut resolve,
            None,
        )
        .expect("nexthop");
        assert_eq!(r.nexthops.len(), 2);
        assert_eq!(
            (r.nexthops[0].oif, r.nexthops[0].weight, r.nexthops[1].oif),
            (Some(2), 3, Some(3))
        );
        assert!(parse_route("10.0.0.0/8 or 2.2.2.2", &mut resolve, None).is_err());
        assert!(parse_route("10.0.0.0/8 weight 2", &mut resolve, None).is_err());
        assert!(parse_route("10.0.0.0/8 table 0", &mut resolve, None).is_err());
    }

    #[test]
    fn rules() {
        let (r, _) =
            parse_rule("from 192.168.2.0/24 table 100 priority 1000", false).expect("parse");
        assert!(!r.rule.v6);
        assert_eq!(r.rule.from, Some(("192.168.2.0".parse().expect("lit"), 24)));
        assert_eq!(r.rule.action, RuleAction::Table(100));
        assert_eq!(r.rule.priority, Some(1000));
        let (r, nt) = parse_rule(
            "from all fwmark 0x10/0xff lookup main iif eth0 no_track",
            false,
        )
        .expect("parse");
        assert!(nt);
        assert_eq!(r.rule.from, None);
        assert_eq!(r.rule.fwmark, Some((16, Some(255))));
        assert_eq!(r.rule.action, RuleAction::Table(RT_TABLE_MAIN));
        assert_eq!(r.rule.iif.as_deref(), Some("eth0"));
        let (r, _) = parse_rule("to 2001:db8::/32 blackhole pref 5", false).expect("parse");
        assert!(r.rule.v6);
        assert_eq!(r.rule.action, RuleAction::Blackhole);
        let (r, _) = parse_rule("not from 10.0.0.0/8 goto 32766", false).expect("parse");
        assert!(r.rule.invert);
        assert_eq!(r.rule.action, RuleAction::Goto(32766));
        let (r, _) = parse_rule("fwmark 3 table 7", true).expect("family default");
        assert!(r.rule.v6);
        let (r, _) = parse_rule(
            "ipproto tcp dport 80-90 sport 5 uidrange 100-200 table 9",
            false,
        )
        .expect("selectors");
        assert_eq!(
            (r.ip_proto, r.dport, r.sport, r.uid_range),
            (Some(6), Some((80, 90)), Some((5, 5)), Some((100, 200)))
        );
        assert!(parse_rule("from 10.0.0.0/8 bogus", false).is_err());
        assert!(parse_rule("table", false).is_err());
    }
}
