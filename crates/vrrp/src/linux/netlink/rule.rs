//! Policy routing rules (`virtual_rules`): `from PFX to PFX [not] table T priority P
//! fwmark M[/MASK] iif IF oif IF tos T suppress_prefixlength N` and the actions
//! (`table`, `goto`, `blackhole`, `unreachable`, `prohibit`, `nop`).
use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::rule::{
    RuleAction as NlAction, RuleAttribute, RuleFlags, RuleMessage, RulePortRange, RuleUidRange,
};
use netlink_packet_route::IpProtocol;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::{Change, NetlinkError, Request, Rtnl, RTPROT_KEEPALIVED};

pub use crate::install::{Rule, RuleAction};

/// One rule to add or delete: the typed rule an instance installs, and the match keys only
/// the `ip rule` text forms give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    /// Family, `from`, `to`, `not`, `priority`, `fwmark`, `iif`, `oif` and the action.
    pub rule: Rule,
    /// `tos`.
    pub tos: u8,
    /// `suppress_prefixlength`.
    pub suppress_prefixlen: Option<u32>,
    /// `suppress_ifgroup`.
    pub suppress_ifgroup: Option<u32>,
    /// `uidrange A-B`.
    pub uid_range: Option<(u32, u32)>,
    /// `ipproto P`.
    pub ip_proto: Option<u8>,
    /// `sport A[-B]`.
    pub sport: Option<(u16, u16)>,
    /// `dport A[-B]`.
    pub dport: Option<(u16, u16)>,
    /// `l3mdev`.
    pub l3mdev: bool,
    /// Protocol tag (default 18, keepalived).
    pub protocol: u8,
}

impl From<Rule> for RuleSpec {
    /// The request for `rule`, with no further match key, tagged as keepalived's.
    fn from(rule: Rule) -> RuleSpec {
        RuleSpec {
            rule,
            tos: 0,
            suppress_prefixlen: None,
            suppress_ifgroup: None,
            uid_range: None,
            ip_proto: None,
            sport: None,
            dport: None,
            l3mdev: false,
            protocol: RTPROT_KEEPALIVED,
        }
    }
}

impl RuleSpec {
    /// A rule sending matching traffic to `table`.
    pub fn to_table(v6: bool, table: u32) -> RuleSpec {
        RuleSpec::from(Rule::to_table(v6, table))
    }

    fn check(&self) -> Result<(), NetlinkError> {
        let max = if self.rule.v6 { 128 } else { 32 };
        for (what, p) in [("rule from", self.rule.from), ("rule to", self.rule.to)] {
            if let Some((a, len)) = p {
                if a.is_ipv6() != self.rule.v6 || len > max {
                    return Err(NetlinkError::Invalid {
                        what,
                        detail: format!(
                            "{a}/{len} in an IPv{} rule",
                            if self.rule.v6 { 6 } else { 4 }
                        ),
                    });
                }
            }
        }
        for name in [&self.rule.iif, &self.rule.oif].into_iter().flatten() {
            if name.is_empty() || name.len() > 15 || name.contains('\0') {
                return Err(NetlinkError::Invalid {
                    what: "rule interface",
                    detail: format!("{name:?}"),
                });
            }
        }
        Ok(())
    }

    fn message(&self) -> RuleMessage {
        let mut m = RuleMessage::default();
        m.header.family = if self.rule.v6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        m.header.tos = self.tos;
        if self.rule.invert {
            m.header.flags = RuleFlags::Invert;
        }
        m.header.action = match self.rule.action {
            RuleAction::Table(_) | RuleAction::L3mdev => NlAction::ToTable,
            RuleAction::Goto(_) => NlAction::Goto,
            RuleAction::Nop => NlAction::Nop,
            RuleAction::Blackhole => NlAction::Blackhole,
            RuleAction::Unreachable => NlAction::Unreachable,
            RuleAction::Prohibit => NlAction::Prohibit,
        };
        match self.rule.action {
            RuleAction::Table(t) => {
                m.header.table = u8::try_from(t).unwrap_or(0);
                m.attributes.push(RuleAttribute::Table(t));
            }
            RuleAction::Goto(p) => m.attributes.push(RuleAttribute::Goto(p)),
            _ => {}
        }
        if let Some((a, len)) = self.rule.from {
            m.header.src_len = len;
            m.attributes.push(RuleAttribute::Source(a));
        }
        if let Some((a, len)) = self.rule.to {
            m.header.dst_len = len;
            m.attributes.push(RuleAttribute::Destination(a));
        }
        if let Some(p) = self.rule.priority {
            m.attributes.push(RuleAttribute::Priority(p));
        }
        if let Some((mark, mask)) = self.rule.fwmark {
            m.attributes.push(RuleAttribute::FwMark(mark));
            if let Some(mask) = mask {
                m.attributes.push(RuleAttribute::FwMask(mask));
            }
        }
        if let Some(i) = &self.rule.iif {
            m.attributes.push(RuleAttribute::Iifname(i.clone()));
        }
        if let Some(o) = &self.rule.oif {
            m.attributes.push(RuleAttribute::Oifname(o.clone()));
        }
        if let Some(n) = self.suppress_prefixlen {
            m.attributes.push(RuleAttribute::SuppressPrefixLen(n));
        }
        if let Some(n) = self.suppress_ifgroup {
            m.attributes.push(RuleAttribute::SuppressIfGroup(n));
        }
        if let Some((start, end)) = self.uid_range {
            m.attributes
                .push(RuleAttribute::UidRange(RuleUidRange { start, end }));
        }
        if let Some(p) = self.ip_proto {
            m.attributes
                .push(RuleAttribute::IpProtocol(IpProtocol::from(p)));
        }
        if let Some((start, end)) = self.sport {
            m.attributes
                .push(RuleAttribute::SourcePortRange(RulePortRange { start, end }));
        }
        if let Some((start, end)) = self.dport {
            m.attributes
                .push(RuleAttribute::DestinationPortRange(RulePortRange {
                    start,
                    end,
                }));
        }
        if self.l3mdev || self.rule.action == RuleAction::L3mdev {
            m.attributes.push(RuleAttribute::L3MDev(true));
        }
        m.attributes
            .push(RuleAttribute::Protocol(RouteProtocol::from(self.protocol)));
        m
    }
}

impl std::fmt::Display for RuleSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule")?;
        if let Some((a, l)) = self.rule.from {
            write!(f, " from {a}/{l}")?;
        }
        if let Some((a, l)) = self.rule.to {
            write!(f, " to {a}/{l}")?;
        }
        if let Some(p) = self.rule.priority {
            write!(f, " priority {p}")?;
        }
        write!(f, " {:?}", self.rule.action)
    }
}

impl Rtnl {
    /// Add a rule. Already present: `Ok(Change::Unchanged)`.
    pub fn add_rule(&mut self, spec: &RuleSpec) -> Result<Change, NetlinkError> {
        spec.check()?;
        self.execute_one(Request::create(
            RouteNetlinkMessage::NewRule(spec.message()),
            format!("add {spec}"),
        ))
    }

    /// Delete a rule. Absent: `Ok(Change::Unchanged)`.
    pub fn del_rule(&mut self, spec: &RuleSpec) -> Result<Change, NetlinkError> {
        spec.check()?;
        self.execute_one(Request::delete(
            RouteNetlinkMessage::DelRule(spec.message()),
            &[libc::ENOENT, libc::ESRCH],
            format!("delete {spec}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_message_has_its_selectors() {
        let mut r = RuleSpec::to_table(false, 100);
        r.rule.from = Some(("10.0.0.0".parse().expect("lit"), 24));
        r.rule.priority = Some(1000);
        r.rule.fwmark = Some((7, Some(0xff)));
        let m = r.message();
        assert_eq!(m.header.src_len, 24);
        assert_eq!(m.header.table, 100);
        assert!(m.attributes.contains(&RuleAttribute::FwMark(7)));
        assert!(m.attributes.contains(&RuleAttribute::FwMask(0xff)));
        assert!(m.attributes.contains(&RuleAttribute::Priority(1000)));
    }

    #[test]
    fn wrong_family_is_refused() {
        let mut r = RuleSpec::to_table(true, 100);
        r.rule.to = Some(("10.0.0.0".parse().expect("lit"), 8));
        assert!(r.check().is_err());
    }
}
