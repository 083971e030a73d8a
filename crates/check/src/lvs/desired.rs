//! The table a configuration asks for: each `virtual_server` (address, fwmark or group)
//! becomes one or more services, each real server that is up a destination.

use super::table::{Entry, Table};
use ipvs_sys::{
    tun_flags, DestKey, Destination, Family, Flags, ForwardMethod, Protocol, Service, ServiceKey,
    TunnelType, NETMASK_V4_HOST, NETMASK_V6_HOST,
};
use ka_proto::config::{
    self as conf, Config, GroupEntry, LvsMethod, RealServer, VirtualServer, VirtualServerAddr,
};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Something in a `virtual_server` that cannot be programmed; that virtual server (or
/// the named part of it) is left out and the rest goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// The virtual server, as keepalived names it (`10.0.0.1:80`, `fwmark 5`, `group G`).
    pub virtual_server: String,
    pub problem: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "virtual_server {}: {}",
            self.virtual_server, self.problem
        )
    }
}

/// keepalived's name for a virtual server.
pub fn vs_name(vs: &VirtualServer) -> String {
    match &vs.addr {
        VirtualServerAddr::Ip(a) => a.to_string(),
        VirtualServerAddr::Fwmark(m) => format!("fwmark {m}"),
        VirtualServerAddr::Group(g) => format!("group {g}"),
    }
}

fn protocol(p: conf::Protocol) -> Protocol {
    match p {
        conf::Protocol::Tcp => Protocol::Tcp,
        conf::Protocol::Udp => Protocol::Udp,
        conf::Protocol::Sctp => Protocol::Sctp,
    }
}

/// Scheduler flag keywords → service flags (unknown words are reported).
fn sched_flags(words: &[String]) -> Result<Flags, String> {
    let mut f = Flags::default();
    for w in words {
        f |= match w.as_str() {
            "flag-1" | "sh-fallback" | "mh-fallback" => Flags::SCHED1,
            "flag-2" | "sh-port" | "mh-port" => Flags::SCHED2,
            "flag-3" => Flags::SCHED3,
            "ops" => Flags::ONEPACKET,
            "hashed" => Flags::HASHED,
            other => return Err(format!("unknown scheduler flag {other:?}")),
        };
    }
    Ok(f)
}

/// `persistence_granularity`, typed and checked against the service's family when the
/// configuration was read; only a fwmark or group service, whose family is known here,
/// can still have one that does not fit.
fn netmask(family: Family, g: Option<conf::Granularity>) -> Result<u32, String> {
    let Some(g) = g else {
        return Ok(match family {
            Family::Inet => NETMASK_V4_HOST,
            Family::Inet6 => NETMASK_V6_HOST,
        });
    };
    match (family, g) {
        (Family::Inet, conf::Granularity::Mask(m)) => Ok(Service::netmask_v4(m)),
        (Family::Inet, conf::Granularity::PrefixLen(n)) if n <= 32 => {
            let bits = u32::MAX.checked_shl(32 - u32::from(n)).unwrap_or(0);
            Ok(Service::netmask_v4(Ipv4Addr::from(bits)))
        }
        (Family::Inet6, conf::Granularity::PrefixLen(n)) if (1..=128).contains(&n) => {
            Ok(u32::from(n))
        }
        (Family::Inet, g) => Err(format!("bad persistence_granularity {g:?}")),
        (Family::Inet6, g) => Err(format!("bad IPv6 persistence_granularity {g:?}")),
    }
}

/// Forwarding method and tunnel settings of a `lvs_method`.
fn method(m: &LvsMethod, d: &mut Destination) -> Result<(), String> {
    match m {
        LvsMethod::Nat => d.method = ForwardMethod::Masq,
        LvsMethod::Dr => d.method = ForwardMethod::Route,
        LvsMethod::Tun {
            tunnel_type,
            port,
            csum,
        } => {
            d.method = ForwardMethod::Tunnel;
            let t = match tunnel_type {
                conf::TunnelType::Ipip => TunnelType::Ipip,
                conf::TunnelType::Gue => TunnelType::Gue,
                conf::TunnelType::Gre => TunnelType::Gre,
            };
            if t != TunnelType::Ipip {
                d.tun_type = Some(t);
            }
            if t == TunnelType::Gue {
                // The configuration reader refuses a gue tunnel without a port.
                d.tun_port = *port;
            }
            d.tun_flags = csum.map(|c| match c {
                conf::TunnelCsum::NoCsum => tun_flags::NOCSUM,
                conf::TunnelCsum::Csum => tun_flags::CSUM,
                conf::TunnelCsum::RemCsum => tun_flags::REMCSUM,
            });
        }
    }
    Ok(())
}

fn to_family(f: conf::Family) -> Option<Family> {
    match f {
        conf::Family::Unspec => None,
        conf::Family::Inet => Some(Family::Inet),
        conf::Family::Inet6 => Some(Family::Inet6),
    }
}

/// Every address of `first..=last` (keepalived ranges vary the last IPv4 octet, or the
/// last 16-bit group of an IPv6 address).
fn range(first: IpAddr, last: IpAddr) -> Result<Vec<IpAddr>, String> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let (a, b) = (u32::from(a), u32::from(b));
            if b < a || (a >> 8) != (b >> 8) {
                return Err(format!("bad address range {first}-{last}"));
            }
            Ok((a..=b).map(|x| IpAddr::V4(Ipv4Addr::from(x))).collect())
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let (a, b) = (u128::from(a), u128::from(b));
            if b < a || (a >> 16) != (b >> 16) {
                return Err(format!("bad address range {first}-{last}"));
            }
            Ok((a..=b).map(|x| IpAddr::V6(Ipv6Addr::from(x))).collect())
        }
        _ => Err(format!("address range {first}-{last} mixes families")),
    }
}

/// The service keys a virtual server stands for.
fn keys(vs: &VirtualServer, config: &Config) -> Result<Vec<ServiceKey>, String> {
    let proto = protocol(vs.protocol);
    // A fwmark service's family: ip_family, else its real servers', else IPv4.
    let fw_family = |given: Option<Family>| {
        given
            .or_else(|| to_family(vs.ip_family))
            .or_else(|| vs.real_servers.first().map(|r| Family::of(&r.addr.ip())))
            .unwrap_or(Family::Inet)
    };
    match &vs.addr {
        VirtualServerAddr::Ip(a) => Ok(vec![ServiceKey::Addr {
            protocol: proto,
            addr: a.ip(),
            port: a.port(),
        }]),
        VirtualServerAddr::Fwmark(mark) => Ok(vec![ServiceKey::Fwmark {
            family: fw_family(None),
            mark: *mark,
        }]),
        VirtualServerAddr::Group(name) => {
            let g = config
                .virtual_server_groups
                .iter()
                .find(|g| &g.name == name)
                .ok_or_else(|| format!("no virtual_server_group {name:?}"))?;
            let mut out = Vec::new();
            for e in &g.entries {
                match e {
                    GroupEntry::Range { first, last, port } => {
                        for addr in range(*first, *last)? {
                            out.push(ServiceKey::Addr {
                                protocol: proto,
                                addr,
                                port: *port,
                            });
                        }
                    }
                    GroupEntry::Fwmark { mark, family } => out.push(ServiceKey::Fwmark {
                        family: fw_family(to_family(*family)),
                        mark: *mark,
                    }),
                }
            }
            Ok(out)
        }
    }
}

/// The service settings of a virtual server (for one key).
fn service(vs: &VirtualServer, key: ServiceKey) -> Result<Service, String> {
    let mut s = Service::new(key);
    s.scheduler = if vs.lvs_sched.is_empty() {
        "wlc".into()
    } else {
        vs.lvs_sched.clone()
    };
    if s.scheduler.len() > 15 {
        return Err(format!("scheduler name {:?} is too long", s.scheduler));
    }
    s.flags = sched_flags(&vs.sched_flags)?;
    if let Some(t) = vs.persistence_timeout {
        if !t.is_zero() {
            s.flags |= Flags::PERSISTENT;
            s.timeout = u32::try_from(t.as_secs()).unwrap_or(u32::MAX);
        }
    }
    s.netmask = netmask(key.family(), vs.persistence_granularity)?;
    s.pe_name = vs.persistence_engine.clone();
    Ok(s)
}

/// A real server as a destination.
fn dest(vs: &VirtualServer, rs: &RealServer, weight: u32) -> Result<Destination, String> {
    let mut d = Destination::new(rs.addr.ip(), rs.addr.port(), ForwardMethod::Masq);
    method(rs.lvs_method.as_ref().unwrap_or(&vs.lvs_method), &mut d)?;
    d.weight = weight;
    d.u_threshold = rs.uthreshold.unwrap_or(0);
    d.l_threshold = rs.lthreshold.unwrap_or(0);
    Ok(d)
}

/// Whether real server `rs` of virtual server `vs` is healthy (`is_up(vs, rs)`).
pub type IsUp<'a> = &'a dyn Fn(&VirtualServer, &RealServer) -> bool;

/// The table `config` asks for. `is_up(vs, rs)` says whether a real server is healthy
/// (before health checks exist, pass `|_, _| true`). A real server that is down is left
/// out, or kept with weight 0 under `inhibit_on_failure`. When a server is down and the
/// weights of the live ones fall below `quorum`, the `sorry_server` (if any) replaces
/// them. Virtual servers that cannot be programmed are reported and skipped.
pub fn desired_table(config: &Config, is_up: IsUp) -> (Table, Vec<ConfigIssue>) {
    let mut table = Table::default();
    let mut issues = Vec::new();
    for vs in &config.virtual_servers {
        let issue = |problem: String| ConfigIssue {
            virtual_server: vs_name(vs),
            problem,
        };
        let keys = match keys(vs, config) {
            Ok(k) => k,
            Err(p) => {
                issues.push(issue(p));
                continue;
            }
        };
        let mut dests: BTreeMap<DestKey, Destination> = BTreeMap::new();
        let mut live_weight: u64 = 0;
        let mut any_down = false;
        for rs in &vs.real_servers {
            let up = is_up(vs, rs);
            any_down |= !up;
            let weight = u32::try_from(rs.weight.max(0)).unwrap_or(0);
            let inhibit = rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure);
            let w = match (up, inhibit) {
                (true, _) => weight,
                (false, true) => 0,
                (false, false) => continue,
            };
            if up {
                live_weight += u64::from(weight);
            }
            match dest(vs, rs, w) {
                Ok(d) => {
                    dests.insert(d.key(), d);
                }
                Err(p) => issues.push(issue(format!("real_server {}: {p}", rs.addr))),
            }
        }
        // Quorum lost: the sorry server replaces the live real servers (down ones kept
        // at weight 0 by inhibit_on_failure stay). Like keepalived, the quorum starts
        // out held: it is lost only once a real server has gone down (measured in the
        // VM: with every server up and weights below `quorum`, keepalived 2.2.7 adds no
        // sorry server). With `sorry_server_inhibit` the sorry server stays in the table
        // at weight 0 while unused. (The checker child passes a config whose health
        // state already decided this: quorum 0, the sorry server as a real server.)
        if let Some(sorry) = vs.sorry_server {
            let lost = any_down && live_weight < u64::from(vs.quorum);
            if lost || vs.sorry_server_inhibit {
                let mut d = Destination::new(sorry.ip(), sorry.port(), ForwardMethod::Masq);
                let m = vs
                    .sorry_server_lvs_method
                    .as_ref()
                    .unwrap_or(&vs.lvs_method);
                if let Err(p) = method(m, &mut d) {
                    issues.push(issue(format!("sorry_server: {p}")));
                } else {
                    if lost {
                        dests.retain(|_, d| d.weight == 0);
                    } else {
                        d.weight = 0;
                    }
                    dests.insert(d.key(), d);
                }
            }
        }
        for key in keys {
            let s = match service(vs, key) {
                Ok(s) => s,
                Err(p) => {
                    issues.push(issue(p));
                    continue;
                }
            };
            let family = key.family();
            let mut ds = BTreeMap::new();
            for d in dests.values() {
                if Family::of(&d.addr) != family && d.method != ForwardMethod::Tunnel {
                    issues.push(issue(format!(
                        "real_server {}: family differs from the service's (only TUN mixes)",
                        SocketAddr::new(d.addr, d.port)
                    )));
                    continue;
                }
                let mut d = d.clone();
                // Like ipvsadm and keepalived: only NAT can change the port; DR and TUN
                // destinations take the service's port (0 for a firewall mark).
                if d.method != ForwardMethod::Masq {
                    d.port = match key {
                        ServiceKey::Addr { port, .. } => port,
                        ServiceKey::Fwmark { .. } => 0,
                    };
                }
                ds.insert(d.key(), d);
            }
            if table.services.contains_key(&key) {
                issues.push(issue(format!("service {key} is defined twice")));
                continue;
            }
            table.services.insert(
                key,
                Entry {
                    service: s,
                    dests: ds,
                },
            );
        }
    }
    (table, issues)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rs(addr: &str, weight: i32) -> RealServer {
        RealServer {
            addr: addr.parse().unwrap(),
            weight,
            ..RealServer::default()
        }
    }

    fn all_up(_: &VirtualServer, _: &RealServer) -> bool {
        true
    }

    #[test]
    fn nat_service_with_two_real_servers() {
        let mut c = Config::default();
        c.virtual_servers.push(VirtualServer {
            addr: VirtualServerAddr::Ip("10.0.0.1:80".parse().unwrap()),
            lvs_sched: "rr".into(),
            real_servers: vec![rs("192.168.1.1:8080", 2), rs("192.168.1.2:8080", 1)],
            ..VirtualServer::default()
        });
        let (t, issues) = desired_table(&c, &all_up);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(t.services.len(), 1);
        let e = t.services.values().next().unwrap();
        assert_eq!(e.service.scheduler, "rr");
        assert_eq!(e.service.netmask, u32::MAX);
        assert_eq!(e.dests.len(), 2);
        let d = e.dests.values().next().unwrap();
        assert_eq!((d.weight, d.method), (2, ForwardMethod::Masq));
    }

    #[test]
    fn persistence_fwmark_dr_and_granularity() {
        let mut c = Config::default();
        c.virtual_servers.push(VirtualServer {
            addr: VirtualServerAddr::Fwmark(7),
            lvs_method: LvsMethod::Dr,
            persistence_timeout: Some(Duration::from_secs(50)),
            persistence_granularity: Some(conf::Granularity::Mask(Ipv4Addr::new(255, 255, 255, 0))),
            real_servers: vec![rs("192.168.1.1:0", 1)],
            ..VirtualServer::default()
        });
        let (t, _) = desired_table(&c, &all_up);
        let (k, e) = t.services.iter().next().unwrap();
        assert_eq!(
            *k,
            ServiceKey::Fwmark {
                family: Family::Inet,
                mark: 7
            }
        );
        assert!(e.service.flags.contains(Flags::PERSISTENT));
        assert_eq!(e.service.timeout, 50);
        assert_eq!(e.service.netmask, u32::from_ne_bytes([255, 255, 255, 0]));
        assert_eq!(
            e.dests.values().next().unwrap().method,
            ForwardMethod::Route
        );
    }

    #[test]
    fn groups_expand_ranges_and_fwmarks() {
        let mut c = Config::default();
        c.virtual_server_groups.push(conf::VirtualServerGroup {
            name: "G".into(),
            entries: vec![
                GroupEntry::Range {
                    first: "10.0.0.1".parse().unwrap(),
                    last: "10.0.0.3".parse().unwrap(),
                    port: 443,
                },
                GroupEntry::Fwmark {
                    mark: 3,
                    family: conf::Family::Inet,
                },
            ],
        });
        c.virtual_servers.push(VirtualServer {
            addr: VirtualServerAddr::Group("G".into()),
            real_servers: vec![rs("192.168.1.1:443", 1)],
            ..VirtualServer::default()
        });
        let (t, issues) = desired_table(&c, &all_up);
        assert!(issues.is_empty());
        assert_eq!(t.services.len(), 4);
        assert_eq!(t.dest_count(), 4);
    }

    #[test]
    fn down_servers_leave_or_go_to_weight_zero_and_sorry_server_takes_over() {
        let mut c = Config::default();
        c.virtual_servers.push(VirtualServer {
            addr: VirtualServerAddr::Ip("10.0.0.1:80".parse().unwrap()),
            sorry_server: Some("192.168.9.9:80".parse().unwrap()),
            real_servers: vec![rs("192.168.1.1:80", 1), rs("192.168.1.2:80", 1)],
            ..VirtualServer::default()
        });
        let (t, _) = desired_table(&c, &|_, r| {
            r.addr.port() == 80 && r.addr.ip().to_string() == "192.168.1.1"
        });
        assert_eq!(t.dest_count(), 1);
        let (t, _) = desired_table(&c, &|_, _| false);
        let e = t.services.values().next().unwrap();
        assert_eq!(e.dests.len(), 1);
        assert_eq!(
            e.dests.keys().next().unwrap().addr.to_string(),
            "192.168.9.9"
        );
        c.virtual_servers[0].inhibit_on_failure = true;
        let (t, _) = desired_table(&c, &|_, _| false);
        assert_eq!(t.dest_count(), 3); // two at weight 0 plus the sorry server
    }

    #[test]
    fn bad_group_is_reported_and_skipped() {
        let mut c = Config::default();
        c.virtual_servers.push(VirtualServer {
            addr: VirtualServerAddr::Group("nope".into()),
            ..VirtualServer::default()
        });
        let (t, issues) = desired_table(&c, &all_up);
        assert!(t.services.is_empty());
        assert_eq!(issues.len(), 1);
        assert!(issues[0].to_string().contains("nope"));
    }
}
