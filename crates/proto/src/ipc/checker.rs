//! The parent <-> checker child channel.
//!
//! ```text
//!   parent                                     checker child
//!     | -- Hello{version, role, build} ------> |   (first frame each way; another
//!     | <------ Hello{version, role, build} -- |    build is refused)
//!     | -- Start{config, flags} -------------> |
//!     | <------------------------------ Ready -|
//!     | <------------- ServiceState(snap) -----|   (every virtual/real server, then each
//!     |                                        |    change; the parent keeps the last one)
//!     | -- VrrpInstance(snap) ---------------> |   (passed on from the VRRP child:
//!     |                                        |    `ha_suspend` looks for its VIPs again)
//!     | -- Reload{config} -------------------> |   (SIGHUP, config already validated)
//!     | <------------------------------ Ready -|
//!     | -- Dump(kind) -----------------------> |   (SIGUSR1)
//!     | <-------------- DumpText{kind, text} --|   (the parent writes the file)
//!     | -- RealServer{vs, rs, disabled} -----> |   (`ctl real-server disable|enable`:
//!     | <-- RealServerDone{vs, rs, disabled, --|    weight 0 or back; found: it exists)
//!     |                    found}              |
//!     | -- Status ---------------------------> |   (`ctl status`, a metrics scrape)
//!     | <------------ Status(CheckerReport) ---|   (typed: no JSON on the way)
//!     | -- Stop -----------------------------> |   (SIGTERM/SIGINT; omega, IPVS released
//!     |                                        |    unless -I, exit 0)
//! ```

use super::{Channel, DumpKind, Hello, InstanceSnapshot, RunFlags, ServiceSnapshot};
use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::io;

/// Parent -> checker child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToChecker {
    /// First frame.
    Hello(Hello),
    /// Start with this configuration.
    Start {
        /// The validated configuration.
        config: Box<Config>,
        /// Command-line switches.
        flags: RunFlags,
    },
    /// SIGHUP: a new, validated configuration; diff against the running one.
    Reload {
        /// The new configuration.
        config: Box<Config>,
    },
    /// Write a dump: answer with [`FromChecker::DumpText`].
    Dump(DumpKind),
    /// Stop: `omega` notifications, release IPVS unless `-I`, then exit 0.
    Stop,
    /// A VRRP instance changed state (from the VRRP child, through the parent):
    /// `ha_suspend` virtual servers look for their address again at once.
    VrrpInstance(InstanceSnapshot),
    /// The parent's heartbeat (under a systemd watchdog): answer [`FromChecker::Pong`]
    /// with the same number from the event loop. A child that does not answer is wedged.
    Ping(u64),
    /// `ctl real-server disable|enable`: put a real server at weight 0 (`disabled`; its
    /// connections drain, its checks go on) or give it its weight back. Kept across a
    /// reload. Answered with [`FromChecker::RealServerDone`].
    RealServer {
        /// keepalived's name of the virtual server (`[10.0.0.1]:tcp:80`).
        virtual_server: String,
        /// keepalived's name of the real server.
        real_server: String,
        /// Disable (true) or enable.
        disabled: bool,
    },
    /// `ctl status` or a metrics scrape: answer with [`FromChecker::Status`] (an empty
    /// report before `Start`).
    Status,
}

/// Checker child -> parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromChecker {
    /// First frame.
    Hello(Hello),
    /// Started (after `Start`) or reloaded (after `Reload`).
    Ready,
    /// A virtual server's quorum or a real server's health changed.
    ServiceState(ServiceSnapshot),
    /// The text of a dump file; the parent writes it where keepalived would.
    DumpText {
        /// Which dump.
        kind: DumpKind,
        /// The file's content.
        text: String,
    },
    /// The answer to [`ToChecker::Ping`].
    Pong(u64),
    /// The answer to [`ToChecker::RealServer`], in order.
    RealServerDone {
        /// As asked.
        virtual_server: String,
        /// As asked.
        real_server: String,
        /// As asked.
        disabled: bool,
        /// The real server exists (nothing was done otherwise).
        found: bool,
    },
    /// The answer to [`ToChecker::Status`], in order.
    Status(Box<CheckerReport>),
}

/// What the checker child adds to the parent's view for a status. Its JSON (field names
/// as in `ctl status --json`) is the checker child's answer to a JSON dump.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckerReport {
    /// Every virtual server with its real servers.
    pub virtual_servers: Vec<VirtualServerReport>,
    /// Per checker kind (`TCP_CHECK`, ...): attempts, failures, durations.
    pub checks: std::collections::BTreeMap<String, CheckKindStats>,
    /// The kernel's IPVS counters of the services programmed (None without IPVS).
    pub ipvs: Option<Vec<IpvsService>>,
}

/// One virtual server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VirtualServerReport {
    /// keepalived's name (`[10.0.0.1]:tcp:80`).
    pub virtual_server: String,
    /// Its quorum holds.
    pub quorum_up: bool,
    /// Summed weight of its live real servers.
    pub alive_weight: u64,
    /// Its sorry server is in use.
    pub sorry_active: bool,
    /// Its real servers.
    pub real_servers: Vec<RealServerReport>,
}

/// One real server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RealServerReport {
    /// keepalived's name (`[10.0.0.2]:tcp:80`).
    pub real_server: String,
    /// All its checkers pass.
    pub alive: bool,
    /// Its effective weight.
    pub weight: i64,
    /// Its checkers failing now.
    pub failed_checks: u64,
    /// Disabled by `ctl real-server disable` (weight 0).
    pub drained: bool,
    /// Its checkers.
    pub checkers: Vec<CheckerStatus>,
}

/// One checker of a real server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckerStatus {
    /// Its kind, keepalived's name (`TCP_CHECK`, `HTTP_GET`, ...).
    pub keepalive_method: String,
    /// It passes.
    pub up: bool,
    /// The last attempt: `ok` or `failed` (none yet: absent).
    #[serde(default)]
    pub last_result: Option<String>,
    /// How long the last attempt took, ms.
    #[serde(default)]
    pub latency_ms: Option<f64>,
    /// Attempts failed in a row.
    #[serde(default)]
    pub consecutive_failures: u64,
    /// Why the last failed attempt failed.
    #[serde(default)]
    pub last_failure: Option<String>,
}

/// The attempts of one checker kind since the checker child started.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CheckKindStats {
    /// Attempts.
    pub total: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// Their summed duration, seconds.
    pub sum_seconds: f64,
    /// The histogram's upper bounds (seconds) ...
    pub le: Vec<f64>,
    /// ... and the attempts that took at most each (cumulative).
    pub buckets: Vec<u64>,
}

/// Sample values shared by the tests of this crate and of the crates that show them.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    use super::CheckKindStats;
    use std::collections::BTreeMap;

    /// `checks` of a report: nine `TCP_CHECK` attempts, `failed` of them failed, two
    /// within 1 ms and all within 10 s, 0.5 s in all.
    pub fn tcp_checks(failed: u64) -> BTreeMap<String, CheckKindStats> {
        let stats = CheckKindStats {
            total: 9,
            failed,
            sum_seconds: 0.5,
            le: vec![0.001, 10.0],
            buckets: vec![2, 9],
        };
        [("TCP_CHECK".to_string(), stats)].into_iter().collect()
    }
}

/// Traffic counters of an IPVS service or destination, since it was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IpvsCounters {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets in.
    pub inpkts: u64,
    /// Packets out.
    pub outpkts: u64,
    /// Bytes in.
    pub inbytes: u64,
    /// Bytes out.
    pub outbytes: u64,
}

/// One IPVS service, as the kernel counts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpvsService {
    /// As `ipvsadm -Ln` writes it: `TCP 10.0.0.1:80`, `FWM 1`.
    pub service: String,
    /// Its counters.
    pub stats: IpvsCounters,
    /// Its destinations.
    pub dests: Vec<IpvsDest>,
}

/// One destination (real server) of an IPVS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpvsDest {
    /// `10.0.0.2:80`, `[2001:db8::2]:80`.
    pub real_server: String,
    /// Its weight in the kernel.
    pub weight: u32,
    /// Active connections.
    pub active_conns: u32,
    /// Inactive connections.
    pub inactive_conns: u32,
    /// Its counters.
    pub stats: IpvsCounters,
}

/// The parent's end of the checker channel.
pub type ParentEnd = Channel<ToChecker, FromChecker>;

/// The checker child's end.
pub type ChildEnd = Channel<FromChecker, ToChecker>;

/// A connected pair (parent end, child end).
///
/// Only the checker child's messages go through it:
///
/// ```
/// use ka_proto::ipc::checker::{self, FromChecker, ToChecker};
/// let (mut parent, mut child) = checker::pair()?;
/// parent.send(&ToChecker::Stop)?;
/// assert_eq!(child.recv()?, Some(ToChecker::Stop));
/// child.send(&FromChecker::Ready)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A VRRP message does not compile:
///
/// ```compile_fail
/// use ka_proto::ipc::{checker, vrrp::ToVrrp};
/// let (mut parent, _child) = checker::pair()?;
/// parent.send(&ToVrrp::Stop)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pair() -> io::Result<(ParentEnd, ChildEnd)> {
    Channel::pair()
}
