//! Routes (`virtual_routes`): `[src IP] [from PFX] to PFX [via|gw IP] [dev IF] [scope S]
//! [table T] [metric M] [onlink] [blackhole|unreachable|prohibit|throw]`, tagged with
//! protocol `keepalived` (18) like keepalived's own.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop,
    RouteNextHopFlags, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::RouteNetlinkMessage;

use super::address::{family, Scope};
use super::{Change, NetlinkError, Request, Rtnl, RTPROT_KEEPALIVED, RT_TABLE_MAIN};

pub use crate::install::RouteKind;

/// How a route is added when the table already has one for the same destination, TOS
/// and metric (iproute2's verbs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouteMode {
    /// `ip route prepend` (keepalived's default for `virtual_routes`): put ours first.
    #[default]
    Prepend,
    /// `ip route add`: fail with EEXIST (an error even when the route is ours already).
    Add,
    /// `ip route append`: put ours last.
    Append,
    /// `ip route replace`: replace the existing one.
    Replace,
}

/// One path of a multipath route (`nexthop via X dev Y weight W`, or keepalived's
/// `via X or Y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop {
    /// Gateway.
    pub gateway: Option<IpAddr>,
    /// Output interface.
    pub oif: Option<u32>,
    /// Weight, 1..=256.
    pub weight: u16,
    /// `onlink`.
    pub onlink: bool,
}

/// One route to add or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// Destination (`to`).
    pub dst: IpAddr,
    /// Destination prefix length.
    pub dst_len: u8,
    /// Source prefix (`from`, IPv6 source routing).
    pub from: Option<(IpAddr, u8)>,
    /// Preferred source address (`src`).
    pub src: Option<IpAddr>,
    /// Gateway (`via` / `gw`).
    pub gateway: Option<IpAddr>,
    /// Output interface (`dev`).
    pub oif: Option<u32>,
    /// Table (`table`, default main).
    pub table: u32,
    /// Metric / preference (`metric`).
    pub metric: Option<u32>,
    /// Scope; `None` picks iproute2's default (link for a direct unicast IPv4 route,
    /// host for local routes, global otherwise).
    pub scope: Option<Scope>,
    /// Type.
    pub kind: RouteKind,
    /// `onlink`.
    pub onlink: bool,
    /// TOS (`tos`).
    pub tos: u8,
    /// Protocol tag (default 18, keepalived).
    pub protocol: u8,
    /// Paths of a multipath route; when not empty, `gateway` and `oif` are not used.
    pub nexthops: Vec<NextHop>,
    /// Add, prepend, append or replace.
    pub mode: RouteMode,
}

impl RouteSpec {
    /// A unicast route to `dst/dst_len` in the main table.
    pub fn new(dst: IpAddr, dst_len: u8) -> RouteSpec {
        RouteSpec {
            dst,
            dst_len,
            from: None,
            src: None,
            gateway: None,
            oif: None,
            table: RT_TABLE_MAIN,
            metric: None,
            scope: None,
            kind: RouteKind::Unicast,
            onlink: false,
            tos: 0,
            protocol: RTPROT_KEEPALIVED,
            nexthops: Vec::new(),
            mode: RouteMode::Prepend,
        }
    }

    fn check(&self) -> Result<(), NetlinkError> {
        let v4 = self.dst.is_ipv4();
        let max = if v4 { 32 } else { 128 };
        let bad = |what: &'static str, detail: String| Err(NetlinkError::Invalid { what, detail });
        if self.dst_len > max {
            return bad(
                "route prefix length",
                format!("{}/{}", self.dst, self.dst_len),
            );
        }
        for (what, a) in [("route source", self.src), ("route gateway", self.gateway)] {
            if let Some(a) = a {
                if a.is_ipv4() != v4 {
                    return bad(what, format!("{a} is not of the family of {}", self.dst));
                }
            }
        }
        if let Some((f, len)) = self.from {
            if f.is_ipv4() != v4 || len > max {
                return bad("route from", format!("{f}/{len} for {}", self.dst));
            }
        }
        for nh in &self.nexthops {
            if nh.gateway.is_some_and(|g| g.is_ipv4() != v4) {
                return bad(
                    "nexthop gateway",
                    format!("{:?} for {}", nh.gateway, self.dst),
                );
            }
            if nh.weight == 0 || nh.weight > 256 {
                return bad("nexthop weight", format!("{} (1 to 256)", nh.weight));
            }
        }
        Ok(())
    }

    fn effective_scope(&self) -> u8 {
        if let Some(s) = self.scope {
            return u8::from(s);
        }
        match self.kind {
            RouteKind::Local | RouteKind::Nat => u8::from(Scope::Host),
            RouteKind::Broadcast | RouteKind::Multicast | RouteKind::Anycast => {
                u8::from(Scope::Link)
            }
            RouteKind::Unicast
                if self.gateway.is_none()
                    && self.nexthops.iter().all(|n| n.gateway.is_none())
                    && self.dst.is_ipv4() =>
            {
                u8::from(Scope::Link)
            }
            _ => 0,
        }
    }

    fn message(&self, delete: bool) -> RouteMessage {
        let mut m = RouteMessage::default();
        m.header.address_family = family(&self.dst);
        m.header.destination_prefix_length = self.dst_len;
        m.header.tos = self.tos;
        m.header.table = u8::try_from(self.table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
        m.header.protocol = RouteProtocol::from(self.protocol);
        m.header.scope = if delete {
            RouteScope::NoWhere
        } else {
            RouteScope::from(self.effective_scope())
        };
        m.header.kind = match self.kind {
            RouteKind::Unicast => RouteType::Unicast,
            RouteKind::Blackhole => RouteType::BlackHole,
            RouteKind::Unreachable => RouteType::Unreachable,
            RouteKind::Prohibit => RouteType::Prohibit,
            RouteKind::Throw => RouteType::Throw,
            RouteKind::Local => RouteType::Local,
            RouteKind::Broadcast => RouteType::Broadcast,
            RouteKind::Anycast => RouteType::Anycast,
            RouteKind::Multicast => RouteType::Multicast,
            RouteKind::Nat => RouteType::Nat,
        };
        if self.onlink {
            m.header.flags = RouteFlags::Onlink;
        }
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(self.dst)));
        if let Some((f, len)) = self.from {
            m.header.source_prefix_length = len;
            m.attributes
                .push(RouteAttribute::Source(RouteAddress::from(f)));
        }
        if let Some(s) = self.src {
            m.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::from(s)));
        }
        if self.nexthops.is_empty() {
            if let Some(g) = self.gateway {
                m.attributes
                    .push(RouteAttribute::Gateway(RouteAddress::from(g)));
            }
            if let Some(oif) = self.oif {
                m.attributes.push(RouteAttribute::Oif(oif));
            }
        } else {
            let hops = self
                .nexthops
                .iter()
                .map(|nh| {
                    let mut h = RouteNextHop::default();
                    h.hops = u8::try_from(nh.weight.saturating_sub(1)).unwrap_or(u8::MAX);
                    h.interface_index = nh.oif.unwrap_or(0);
                    if nh.onlink {
                        h.flags = RouteNextHopFlags::Onlink;
                    }
                    if let Some(g) = nh.gateway {
                        h.attributes
                            .push(RouteAttribute::Gateway(RouteAddress::from(g)));
                    }
                    h
                })
                .collect();
            m.attributes.push(RouteAttribute::MultiPath(hops));
        }
        if let Some(metric) = self.metric {
            m.attributes.push(RouteAttribute::Priority(metric));
        }
        m.attributes.push(RouteAttribute::Table(self.table));
        m
    }
}

impl std::fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}/{}", self.kind, self.dst, self.dst_len)?;
        if let Some(g) = self.gateway {
            write!(f, " via {g}")?;
        }
        if let Some(o) = self.oif {
            write!(f, " dev #{o}")?;
        }
        write!(f, " table {}", self.table)
    }
}

impl Rtnl {
    /// Add a route. Already present: `Ok(Change::Unchanged)`.
    pub fn add_route(&mut self, spec: &RouteSpec) -> Result<Change, NetlinkError> {
        spec.check()?;
        let mut request = Request::create(
            RouteNetlinkMessage::NewRoute(spec.message(false)),
            format!("add route {spec}"),
        );
        request.flags = NLM_F_CREATE
            | match spec.mode {
                RouteMode::Prepend => 0,
                RouteMode::Add => NLM_F_EXCL,
                RouteMode::Append => NLM_F_APPEND,
                RouteMode::Replace => NLM_F_REPLACE,
            };
        // Prepend / append answer EEXIST only for an identical route (same nexthops): that
        // is "already there". With `Add` it also means "another route has this key", so
        // it stays an error.
        if spec.mode == RouteMode::Add {
            request.unchanged_errnos = &[];
        }
        self.execute_one(request)
    }

    /// Delete a route. Absent: `Ok(Change::Unchanged)`.
    pub fn del_route(&mut self, spec: &RouteSpec) -> Result<Change, NetlinkError> {
        spec.check()?;
        self.execute_one(Request::delete(
            RouteNetlinkMessage::DelRoute(spec.message(true)),
            &[libc::ESRCH, libc::ENOENT, libc::ENODEV],
            format!("delete route {spec}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scopes_follow_iproute2() {
        let mut r = RouteSpec::new("10.1.0.0".parse().expect("lit"), 16);
        assert_eq!(r.effective_scope(), 253);
        r.gateway = Some("10.0.0.1".parse().expect("lit"));
        assert_eq!(r.effective_scope(), 0);
        r.kind = RouteKind::Blackhole;
        r.gateway = None;
        assert_eq!(r.effective_scope(), 0);
        let r6 = RouteSpec::new("2001:db8::".parse().expect("lit"), 64);
        assert_eq!(r6.effective_scope(), 0);
    }

    #[test]
    fn mixed_families_are_refused() {
        let mut r = RouteSpec::new("10.1.0.0".parse().expect("lit"), 16);
        r.gateway = Some("fe80::1".parse().expect("lit"));
        assert!(r.check().is_err());
        let r = RouteSpec::new("10.1.0.0".parse().expect("lit"), 40);
        assert!(r.check().is_err());
    }

    #[test]
    fn big_tables_go_in_the_attribute() {
        let mut r = RouteSpec::new("10.1.0.0".parse().expect("lit"), 16);
        r.table = 1000;
        let m = r.message(false);
        assert_eq!(m.header.table, 0);
        assert!(m.attributes.contains(&RouteAttribute::Table(1000)));
    }
}
