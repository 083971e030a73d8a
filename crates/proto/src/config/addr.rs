//! Addresses, routes and rules as `virtual_ipaddress`, `virtual_routes`,
//! `virtual_rules` and the `static_*` blocks write them (`ip addr|route|rule` syntax).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// An address with a prefix length, `10.0.0.1/24` or `fe80::1/64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IpPrefix {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length (0..=32 for IPv4, 0..=128 for IPv6).
    pub len: u8,
}

impl IpPrefix {
    /// A host prefix (/32 or /128).
    pub fn host(addr: IpAddr) -> Self {
        let len = if addr.is_ipv4() { 32 } else { 128 };
        IpPrefix { addr, len }
    }

    /// Parse `ADDR[/LEN]`; without `/LEN` the prefix is a host prefix.
    /// IPv4 also accepts a dotted netmask (`/255.255.255.0`).
    pub fn parse(s: &str) -> Option<Self> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => match l.parse::<u8>() {
                Ok(n) if n <= max => n,
                Ok(_) => return None,
                Err(_) => {
                    let m: std::net::Ipv4Addr = l.parse().ok()?;
                    if !addr.is_ipv4() {
                        return None;
                    }
                    let bits = u32::from(m);
                    let ones = bits.leading_ones();
                    if bits.checked_shl(ones).unwrap_or(0) != 0 {
                        return None;
                    }
                    ones as u8
                }
            },
        };
        Some(IpPrefix { addr, len })
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// `scope` of an address or route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `global` (0), the default.
    #[default]
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
    /// A numeric scope.
    Other(u8),
}

impl Scope {
    /// Parse a scope name or number.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "global" | "universe" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            n => Scope::Other(n.parse().ok()?),
        })
    }
}

/// One line of `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`:
/// `IP[/MASK] [brd X] [dev IF] [scope S] [label L] [peer IP] [home] [-nodad] ...`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualIpAddress {
    /// Address and prefix (default /32 or /128).
    pub prefix: IpPrefix,
    /// `brd X` (IPv4 broadcast).
    pub broadcast: Option<IpAddr>,
    /// `dev IF` (None: the instance's interface).
    pub dev: Option<String>,
    /// `scope S`.
    pub scope: Scope,
    /// `label L`.
    pub label: Option<String>,
    /// `peer IP[/LEN]`.
    pub peer: Option<IpPrefix>,
    /// `home` (IPv6 home address flag).
    pub home: bool,
    /// `-nodad`.
    pub nodad: bool,
    /// `mngtmpaddr`.
    pub mngtmpaddr: bool,
    /// `noprefixroute`.
    pub noprefixroute: bool,
    /// `autojoin`.
    pub autojoin: bool,
    /// `use_vmac`: put it on the instance's VMAC interface.
    pub use_vmac: bool,
    /// `no_track`: its disappearance does not put the instance in FAULT.
    pub no_track: bool,
    /// `preferred_lft N|forever` (None: kernel default; Some(0): deprecated).
    pub preferred_lft: Option<u32>,
    /// `track_group G` (static addresses only).
    pub track_group: Option<String>,
}

impl VirtualIpAddress {
    /// An address with every option at its default.
    pub fn new(prefix: IpPrefix) -> Self {
        VirtualIpAddress {
            prefix,
            broadcast: None,
            dev: None,
            scope: Scope::Global,
            label: None,
            peer: None,
            home: false,
            nodad: false,
            mngtmpaddr: false,
            noprefixroute: false,
            autojoin: false,
            use_vmac: false,
            no_track: false,
            preferred_lft: None,
            track_group: None,
        }
    }
}

/// A route's type (`ip route`'s TYPE, given first on the line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    /// A normal route (gateway or direct), the default.
    #[default]
    Unicast,
    /// `blackhole`: drop silently.
    Blackhole,
    /// `unreachable`: drop with ICMP unreachable.
    Unreachable,
    /// `prohibit`: drop with ICMP prohibited.
    Prohibit,
    /// `throw`: continue the rule lookup.
    Throw,
    /// `local`.
    Local,
    /// `broadcast`.
    Broadcast,
    /// `anycast`.
    Anycast,
    /// `multicast`.
    Multicast,
    /// `nat`.
    Nat,
}

impl RouteType {
    /// The type a keyword names.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unicast" => RouteType::Unicast,
            "blackhole" => RouteType::Blackhole,
            "unreachable" => RouteType::Unreachable,
            "prohibit" => RouteType::Prohibit,
            "throw" => RouteType::Throw,
            "local" => RouteType::Local,
            "broadcast" => RouteType::Broadcast,
            "anycast" => RouteType::Anycast,
            "multicast" => RouteType::Multicast,
            "nat" => RouteType::Nat,
            _ => return None,
        })
    }
}

/// One line of `virtual_routes` / `static_routes` (`ip route` syntax).
///
/// What the VRRP child installs is typed and checked when the configuration is read;
/// options it does not install are kept verbatim in `options` (name, value) so nothing
/// given is lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// Route type keyword if given first (`blackhole`, `unreachable`, `prohibit`,
    /// `throw`, `local`, `broadcast`, ...); a unicast route when none is given.
    pub route_type: RouteType,
    /// The destination (`default` is 0.0.0.0/0 or ::/0).
    pub to: Option<IpPrefix>,
    /// `src IP`.
    pub src: Option<IpAddr>,
    /// `from PREFIX` (source-specific routes).
    pub from: Option<IpPrefix>,
    /// `via IP` / `gw IP`.
    pub via: Option<IpAddr>,
    /// `or IP` (second gateway of keepalived's two-gateway form).
    pub or_via: Option<IpAddr>,
    /// `dev IF` / `oif IF`.
    pub dev: Option<String>,
    /// `scope S`.
    pub scope: Option<Scope>,
    /// `table T`: the table's number, a name already resolved through
    /// `/etc/iproute2/rt_tables` (None: the main table).
    pub table: Option<u32>,
    /// `metric N` / `priority N` / `preference N`.
    pub metric: Option<u32>,
    /// `proto P`.
    pub protocol: Option<String>,
    /// `onlink`.
    pub onlink: bool,
    /// `no_track`.
    pub no_track: bool,
    /// `track_group G` (static routes only).
    pub track_group: Option<String>,
    /// Every other `name [value]` pair, verbatim (not installed).
    pub options: Vec<(String, Option<String>)>,
}

/// What a rule does when it matches (exactly one per rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// `table T` / `lookup T`: the table's number (a name resolved through
    /// `/etc/iproute2/rt_tables`), never 0.
    Table(u32),
    /// `goto N`: jump to the rule of priority N.
    Goto(u32),
    /// `nop`.
    Nop,
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
    /// `l3mdev`: look up the table of the L3 master device.
    L3mdev,
}

impl Default for RuleAction {
    /// A rule built by hand without an action looks up the main table.
    fn default() -> Self {
        RuleAction::Table(RT_TABLE_MAIN)
    }
}

/// The main routing table's number.
pub const RT_TABLE_MAIN: u32 = 254;

/// `fwmark MARK[/MASK]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fwmark {
    /// The mark.
    pub mark: u32,
    /// The mask (None: all bits).
    pub mask: Option<u32>,
}

/// One line of `virtual_rules` / `static_rules` (`ip rule` syntax).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// `from PREFIX|all`.
    pub from: Option<IpPrefix>,
    /// `to PREFIX|all`.
    pub to: Option<IpPrefix>,
    /// `table T` / `lookup T`, `goto N`, `nop`, `blackhole`, `unreachable`, `prohibit`,
    /// `l3mdev`.
    pub action: RuleAction,
    /// `priority N` / `preference N` / `pref N`.
    pub priority: Option<u32>,
    /// `fwmark N[/MASK]`.
    pub fwmark: Option<Fwmark>,
    /// `iif IF`.
    pub iif: Option<String>,
    /// `oif IF`.
    pub oif: Option<String>,
    /// `not`.
    pub invert: bool,
    /// `no_track`.
    pub no_track: bool,
    /// `track_group G` (static rules only).
    pub track_group: Option<String>,
    /// Every other `name [value]` pair, verbatim (not installed).
    pub options: Vec<(String, Option<String>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(IpPrefix::parse("10.0.0.1/24").map(|p| p.len), Some(24));
        assert_eq!(IpPrefix::parse("10.0.0.1").map(|p| p.len), Some(32));
        assert_eq!(IpPrefix::parse("fe80::1").map(|p| p.len), Some(128));
        assert_eq!(
            IpPrefix::parse("10.0.0.1/255.255.255.0").map(|p| p.len),
            Some(24)
        );
        assert_eq!(IpPrefix::parse("10.0.0.1/33"), None);
        assert_eq!(IpPrefix::parse("10.0.0.1/255.0.255.0"), None);
        assert_eq!(IpPrefix::parse("10.0.0.256"), None);
    }
}
