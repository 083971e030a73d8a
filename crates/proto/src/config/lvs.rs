//! LVS: `virtual_server_group`, `virtual_server`, `real_server` and `SSL`.

use super::checker::Checker;
use super::Script;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// `protocol TCP|UDP|SCTP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

/// `lvs_method` (alias `lb_kind`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LvsMethod {
    /// NAT / masquerading (the default).
    #[default]
    Nat,
    /// Direct routing.
    Dr,
    /// Tunnelling: `TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
    Tun {
        /// `ipip` (default), `gue`, `gre`.
        tunnel_type: TunnelType,
        /// GUE port (given exactly when the type is `gue`).
        port: Option<u16>,
        /// `nocsum|csum|remcsum` (not with `ipip`).
        csum: Option<TunnelCsum>,
    },
}

/// `lvs_method TUN type T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelType {
    /// `ipip` (the default).
    #[default]
    Ipip,
    /// `gue` (needs a port).
    Gue,
    /// `gre`.
    Gre,
}

/// `lvs_method TUN ... nocsum|csum|remcsum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelCsum {
    /// `nocsum`.
    NoCsum,
    /// `csum`.
    Csum,
    /// `remcsum`.
    RemCsum,
}

/// `persistence_granularity`: a dotted IPv4 mask or a prefix length, checked against the
/// service's family when the configuration is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// `255.255.255.0` (IPv4 services).
    Mask(std::net::Ipv4Addr),
    /// `24` (0..=32 for IPv4, 1..=128 for IPv6).
    PrefixLen(u8),
}

/// IP family of a fwmark service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Not given: IPv4 unless the real servers say otherwise.
    #[default]
    Unspec,
    /// `inet`.
    Inet,
    /// `inet6`.
    Inet6,
}

/// What a `virtual_server` line names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VirtualServerAddr {
    /// `virtual_server IP PORT` (port 0 when not given: all ports, persistence required).
    Ip(SocketAddr),
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

impl Default for VirtualServerAddr {
    fn default() -> Self {
        VirtualServerAddr::Ip(SocketAddr::from(([0, 0, 0, 0], 0)))
    }
}

/// One line of a `virtual_server_group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupEntry {
    /// `IP[-LAST_OCTET] [PORT]`: a range of addresses (first..=last, same prefix), one port.
    Range {
        /// First address.
        first: IpAddr,
        /// Last address (== first for a single address).
        last: IpAddr,
        /// Port (0: none given).
        port: u16,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The mark.
        mark: u32,
        /// Family.
        family: Family,
    },
}

/// `virtual_server_group NAME { }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualServerGroup {
    /// The block's name.
    pub name: String,
    /// Entries in file order.
    pub entries: Vec<GroupEntry>,
}

/// `virtual_server ... { }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualServer {
    /// What the block's header names.
    pub addr: VirtualServerAddr,
    /// `ip_family inet|inet6`.
    pub ip_family: Family,
    /// `lvs_sched` / `lb_algo` (default "wlc").
    pub lvs_sched: String,
    /// `lvs_method` / `lb_kind` (default NAT).
    pub lvs_method: LvsMethod,
    /// `protocol` (default TCP).
    pub protocol: Protocol,
    /// Scheduler flags and `ops`, `hashed`, `sh-port`, ... as written.
    pub sched_flags: Vec<String>,
    /// `persistence_timeout [N]` (None: no persistence; 360 s when given without value).
    pub persistence_timeout: Option<Duration>,
    /// `persistence_granularity MASK`.
    pub persistence_granularity: Option<Granularity>,
    /// `persistence_engine NAME`.
    pub persistence_engine: Option<String>,
    /// `delay_loop` (60 s).
    pub delay_loop: Duration,
    /// `connect_timeout` (5 s), inherited by checkers.
    pub connect_timeout: Option<Duration>,
    /// `retry`, inherited by checkers.
    pub retry: Option<u32>,
    /// `delay_before_retry`, inherited by checkers.
    pub delay_before_retry: Option<Duration>,
    /// `warmup` (None: delay_loop).
    pub warmup: Option<Duration>,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: bool,
    /// `alpha`.
    pub alpha: bool,
    /// `omega`.
    pub omega: bool,
    /// `quorum` (1).
    pub quorum: u32,
    /// `hysteresis` (0).
    pub hysteresis: u32,
    /// `quorum_up`.
    pub quorum_up: Option<Script>,
    /// `quorum_down`.
    pub quorum_down: Option<Script>,
    /// `sorry_server IP [PORT]`.
    pub sorry_server: Option<SocketAddr>,
    /// `sorry_server_inhibit`.
    pub sorry_server_inhibit: bool,
    /// `sorry_server_lvs_method`.
    pub sorry_server_lvs_method: Option<LvsMethod>,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `virtualhost` (HTTP checks).
    pub virtualhost: Option<String>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// `real_server { }` blocks.
    pub real_servers: Vec<RealServer>,
}

impl Default for VirtualServer {
    fn default() -> Self {
        VirtualServer {
            addr: VirtualServerAddr::default(),
            ip_family: Family::Unspec,
            lvs_sched: "wlc".to_string(),
            lvs_method: LvsMethod::Nat,
            protocol: Protocol::Tcp,
            sched_flags: Vec::new(),
            persistence_timeout: None,
            persistence_granularity: None,
            persistence_engine: None,
            delay_loop: Duration::from_secs(60),
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            inhibit_on_failure: false,
            alpha: false,
            omega: false,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            sorry_server_inhibit: false,
            sorry_server_lvs_method: None,
            ha_suspend: false,
            virtualhost: None,
            smtp_alert: None,
            snmp_name: None,
            real_servers: Vec::new(),
        }
    }
}

/// `real_server IP [PORT] { }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealServer {
    /// Address and port (the port defaults to the virtual server's).
    pub addr: SocketAddr,
    /// `weight` (1).
    pub weight: i32,
    /// `lvs_method` (None: the virtual server's).
    pub lvs_method: Option<LvsMethod>,
    /// `notify_up`.
    pub notify_up: Option<Script>,
    /// `notify_down`.
    pub notify_down: Option<Script>,
    /// `uthreshold`.
    pub uthreshold: Option<u32>,
    /// `lthreshold`.
    pub lthreshold: Option<u32>,
    /// `inhibit_on_failure` (None: the virtual server's).
    pub inhibit_on_failure: Option<bool>,
    /// `alpha` (None: the virtual server's).
    pub alpha: Option<bool>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `delay_loop` (None: the virtual server's).
    pub delay_loop: Option<Duration>,
    /// `connect_timeout`.
    pub connect_timeout: Option<Duration>,
    /// `retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Duration>,
    /// `warmup`.
    pub warmup: Option<Duration>,
    /// Health checkers, in file order.
    pub checkers: Vec<Checker>,
}

impl Default for RealServer {
    fn default() -> Self {
        RealServer {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            weight: 1,
            lvs_method: None,
            notify_up: None,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            inhibit_on_failure: None,
            alpha: None,
            smtp_alert: None,
            virtualhost: None,
            delay_loop: None,
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            checkers: Vec::new(),
        }
    }
}

/// `SSL { password; ca; certificate; key }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslConfig {
    /// `password`.
    pub password: Option<String>,
    /// `ca` file.
    pub ca: Option<String>,
    /// `certificate` file.
    pub certificate: Option<String>,
    /// `key` file.
    pub key: Option<String>,
}
