//! What an instance installs while MASTER, as typed values: the options of a virtual
//! address, routes and policy rules. The engine carries them without reading them; the
//! I/O layer (`linux::netlink` under the `linux` feature) turns them into rtnetlink
//! requests, resolving interface names then. Nothing here is text to parse again.

use std::net::{IpAddr, Ipv4Addr};

/// Address or route scope (`scope` keyword).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// `global` (RT_SCOPE_UNIVERSE, 0), the default.
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
    /// Any other number.
    Other(u8),
}

impl Scope {
    /// Parse a keepalived / iproute2 scope name or number.
    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "global" | "universe" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            n => Scope::from(n.parse::<u8>().ok()?),
        })
    }
}

impl From<u8> for Scope {
    fn from(n: u8) -> Scope {
        match n {
            0 => Scope::Global,
            200 => Scope::Site,
            253 => Scope::Link,
            254 => Scope::Host,
            255 => Scope::Nowhere,
            o => Scope::Other(o),
        }
    }
}

impl From<Scope> for u8 {
    fn from(s: Scope) -> u8 {
        match s {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(o) => o,
        }
    }
}

/// How a virtual address is installed beyond its address, prefix and interface
/// (`brd X scope S label L peer P home -nodad mngtmpaddr noprefixroute autojoin
/// preferred_lft N`). Every field at its default is a plain address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AddrOptions {
    /// `brd X` (IPv4).
    pub broadcast: Option<Ipv4Addr>,
    /// `scope S`.
    pub scope: Scope,
    /// `label L`.
    pub label: Option<String>,
    /// `peer P`.
    pub peer: Option<IpAddr>,
    /// `home`.
    pub home: bool,
    /// `-nodad` (IPv6 VIPs always get it, as keepalived adds them).
    pub nodad: bool,
    /// `mngtmpaddr`.
    pub mngtmpaddr: bool,
    /// `noprefixroute`.
    pub noprefixroute: bool,
    /// `autojoin`.
    pub autojoin: bool,
    /// `preferred_lft N` (None: the kernel's default, forever).
    pub preferred_lft: Option<u32>,
}

/// A route's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RouteKind {
    /// A normal route (gateway or direct).
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

impl RouteKind {
    /// Types that send nothing out, so have no device.
    pub fn drops(self) -> bool {
        matches!(
            self,
            RouteKind::Blackhole | RouteKind::Unreachable | RouteKind::Prohibit | RouteKind::Throw
        )
    }
}

/// One `virtual_routes` / `static_routes` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// Type.
    pub kind: RouteKind,
    /// Destination and prefix length.
    pub dst: (IpAddr, u8),
    /// Source prefix (`from`).
    pub from: Option<(IpAddr, u8)>,
    /// Preferred source address (`src`).
    pub src: Option<IpAddr>,
    /// Gateway (`via`).
    pub via: Option<IpAddr>,
    /// keepalived's second gateway (`via A or B`): a multipath route over both.
    pub or_via: Option<IpAddr>,
    /// Output interface by name (`dev`); None: the instance's interface for a direct
    /// route, none for one through a gateway.
    pub dev: Option<String>,
    /// Scope (None: iproute2's default for the type).
    pub scope: Option<Scope>,
    /// Table number (None: main).
    pub table: Option<u32>,
    /// Metric.
    pub metric: Option<u32>,
    /// `onlink`.
    pub onlink: bool,
}

impl Route {
    /// A unicast route to `dst/len` in the main table.
    pub fn new(dst: IpAddr, len: u8) -> Route {
        Route {
            kind: RouteKind::Unicast,
            dst: (dst, len),
            from: None,
            src: None,
            via: None,
            or_via: None,
            dev: None,
            scope: None,
            table: None,
            metric: None,
            onlink: false,
        }
    }
}

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleAction {
    /// Look up a table.
    Table(u32),
    /// Jump to the rule with this priority.
    Goto(u32),
    /// Do nothing.
    Nop,
    /// Drop silently.
    Blackhole,
    /// Drop with ICMP unreachable.
    Unreachable,
    /// Drop with ICMP prohibited.
    Prohibit,
    /// Look up the table of the L3 master device (`l3mdev`).
    L3mdev,
}

/// One `virtual_rules` / `static_rules` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// IPv6 (else IPv4).
    pub v6: bool,
    /// `from` prefix (None: all).
    pub from: Option<(IpAddr, u8)>,
    /// `to` prefix (None: all).
    pub to: Option<(IpAddr, u8)>,
    /// `not`.
    pub invert: bool,
    /// `priority`.
    pub priority: Option<u32>,
    /// `fwmark` and its mask.
    pub fwmark: Option<(u32, Option<u32>)>,
    /// `iif` (an interface name; the kernel matches names).
    pub iif: Option<String>,
    /// `oif`.
    pub oif: Option<String>,
    /// The action.
    pub action: RuleAction,
}

impl Rule {
    /// A rule sending all traffic of the family to `table`.
    pub fn to_table(v6: bool, table: u32) -> Rule {
        Rule {
            v6,
            from: None,
            to: None,
            invert: false,
            priority: None,
            fwmark: None,
            iif: None,
            oif: None,
            action: RuleAction::Table(table),
        }
    }
}
