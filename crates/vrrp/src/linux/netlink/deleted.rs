//! Routes and rules the kernel reports deleted (RTM_DELROUTE, RTM_DELRULE), decoded into
//! what is needed to tell whether one of an instance's `virtual_routes` / `virtual_rules`
//! went: a route's key (destination, table, metric; only routes tagged `keepalived`, as
//! ours are) and a rule as [`Rule`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::rule::{RuleAction as NlAction, RuleAttribute, RuleFlags, RuleMessage};
use netlink_packet_route::AddressFamily;

use super::{RTPROT_KEEPALIVED, RT_TABLE_MAIN};
use crate::install::{Route, Rule, RuleAction};

/// What tells a route apart in its table: destination, prefix length, table, metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteKey {
    /// Destination (the family's unspecified address for `default`).
    pub dst: IpAddr,
    /// Prefix length.
    pub dst_len: u8,
    /// Table.
    pub table: u32,
    /// Metric (0 when the kernel reports none).
    pub metric: u32,
}

impl RouteKey {
    /// The route of a deletion notice, when tagged `keepalived` (others are not ours).
    pub fn from_message(m: &RouteMessage) -> Option<RouteKey> {
        if u8::from(m.header.protocol) != RTPROT_KEEPALIVED {
            return None;
        }
        let mut dst = match m.header.address_family {
            AddressFamily::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            AddressFamily::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => return None,
        };
        let mut table = u32::from(m.header.table);
        let mut metric = 0;
        for a in &m.attributes {
            match a {
                RouteAttribute::Destination(RouteAddress::Inet(v)) => dst = IpAddr::V4(*v),
                RouteAttribute::Destination(RouteAddress::Inet6(v)) => dst = IpAddr::V6(*v),
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Priority(p) => metric = *p,
                _ => {}
            }
        }
        Some(RouteKey {
            dst,
            dst_len: m.header.destination_prefix_length,
            table,
            metric,
        })
    }

    /// Is this `route` (as configured: no table is main, no metric is any)?
    pub fn is(&self, route: &Route) -> bool {
        route.dst == (self.dst, self.dst_len)
            && route.table.unwrap_or(RT_TABLE_MAIN) == self.table
            && route.metric.is_none_or(|m| m == self.metric)
    }
}

/// The rule of a deletion notice (`priority` is the kernel's; an action we do not
/// install gives None).
pub fn rule_of_message(m: &RuleMessage) -> Option<Rule> {
    let v6 = match m.header.family {
        AddressFamily::Inet => false,
        AddressFamily::Inet6 => true,
        _ => return None,
    };
    let mut r = Rule::to_table(v6, u32::from(m.header.table));
    r.invert = m.header.flags.contains(RuleFlags::Invert);
    let (mut table, mut goto, mut l3mdev, mut mask) = (None, None, false, None);
    for a in &m.attributes {
        match a {
            RuleAttribute::Source(s) => r.from = Some((*s, m.header.src_len)),
            RuleAttribute::Destination(d) => r.to = Some((*d, m.header.dst_len)),
            RuleAttribute::Priority(p) => r.priority = Some(*p),
            RuleAttribute::FwMark(f) => r.fwmark = Some((*f, None)),
            RuleAttribute::FwMask(k) => mask = Some(*k),
            RuleAttribute::Iifname(i) => r.iif = Some(i.clone()),
            RuleAttribute::Oifname(o) => r.oif = Some(o.clone()),
            RuleAttribute::Table(t) => table = Some(*t),
            RuleAttribute::Goto(g) => goto = Some(*g),
            RuleAttribute::L3MDev(on) => l3mdev = *on,
            _ => {}
        }
    }
    if let Some((f, _)) = r.fwmark {
        r.fwmark = Some((f, mask));
    }
    r.action = match m.header.action {
        NlAction::ToTable if l3mdev => RuleAction::L3mdev,
        NlAction::ToTable => RuleAction::Table(table.unwrap_or(u32::from(m.header.table))),
        NlAction::Goto => RuleAction::Goto(goto?),
        NlAction::Nop => RuleAction::Nop,
        NlAction::Blackhole => RuleAction::Blackhole,
        NlAction::Unreachable => RuleAction::Unreachable,
        NlAction::Prohibit => RuleAction::Prohibit,
        _ => return None,
    };
    Some(r)
}

/// Is the kernel's rule `kernel` this configured `rule`? A rule configured without a
/// priority has the one the kernel chose; a mark without a mask is reported with all bits.
pub fn same_rule(kernel: &Rule, rule: &Rule) -> bool {
    let mark = |r: &Rule| r.fwmark.map(|(m, k)| (m, k.unwrap_or(u32::MAX)));
    kernel.v6 == rule.v6
        && kernel.from == rule.from
        && kernel.to == rule.to
        && kernel.invert == rule.invert
        && rule.priority.is_none_or(|p| kernel.priority == Some(p))
        && mark(kernel) == mark(rule)
        && kernel.iif == rule.iif
        && kernel.oif == rule.oif
        && kernel.action == rule.action
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::route::RouteProtocol;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("literal")
    }

    #[test]
    fn only_keepalived_routes_have_a_key() {
        let mut m = RouteMessage::default();
        m.header.address_family = AddressFamily::Inet;
        m.header.destination_prefix_length = 24;
        m.header.table = 254;
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet(
                "10.0.1.0".parse().expect("literal"),
            )));
        m.header.protocol = RouteProtocol::Static;
        assert_eq!(RouteKey::from_message(&m), None);
        m.header.protocol = RouteProtocol::from(RTPROT_KEEPALIVED);
        let k = RouteKey::from_message(&m).expect("ours");
        let mut r = Route::new(ip("10.0.1.0"), 24);
        assert!(k.is(&r));
        r.metric = Some(5);
        assert!(!k.is(&r));
        r.metric = None;
        r.table = Some(100);
        assert!(!k.is(&r));
    }

    #[test]
    fn rules_match_without_a_configured_priority_or_mask() {
        let mut m = RuleMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.src_len = 24;
        m.header.table = 100;
        m.header.action = NlAction::ToTable;
        m.attributes.extend([
            RuleAttribute::Source(ip("10.0.2.0")),
            RuleAttribute::Priority(32765),
            RuleAttribute::Table(100),
            RuleAttribute::FwMark(16),
            RuleAttribute::FwMask(u32::MAX),
        ]);
        let k = rule_of_message(&m).expect("a table rule");
        let mut r = Rule::to_table(false, 100);
        r.from = Some((ip("10.0.2.0"), 24));
        r.fwmark = Some((16, None));
        assert!(same_rule(&k, &r));
        r.priority = Some(100);
        assert!(!same_rule(&k, &r));
        r.priority = None;
        r.action = RuleAction::Table(101);
        assert!(!same_rule(&k, &r));
    }
}
