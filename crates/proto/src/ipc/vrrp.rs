//! The parent <-> VRRP child channel.
//!
//! ```text
//!   parent                                     VRRP child
//!     | -- Hello{version, role, build} ------> |   (first frame each way; another
//!     | <------ Hello{version, role, build} -- |    build is refused)
//!     | -- Resume([snapshots]) --------------> |   (only on a respawn, always BEFORE Start)
//!     | -- Start{config, flags} -------------> |
//!     | <------------------------------ Ready -|
//!     | <-------------- InstanceState(snap) ---|   (every state or priority change; the
//!     |                                        |    parent keeps the last one per instance
//!     |                                        |    and passes it on to the checker child)
//!     | -- Reload{config} -------------------> |   (SIGHUP, config already validated)
//!     | <------------------------------ Ready -|
//!     | -- Dump(kind) -----------------------> |   (SIGUSR1/SIGUSR2/JSON/STATS_CLEAR)
//!     | <-------------- DumpText{kind, text} --|   (the parent writes the file)
//!     | -- Maintenance{instances, on} -------> |   (`ctl maintenance`; again after Ready)
//!     | -- Status ---------------------------> |   (`ctl status`, a metrics scrape)
//!     | <--------------- Status(VrrpReport) ---|   (typed: no JSON on the way)
//!     | -- Stop -----------------------------> |   (SIGTERM/SIGINT; the child leaves VRRP
//!     |                                        |    and exits 0)
//! ```

use super::{Channel, DumpKind, Hello, InstanceSnapshot, RunFlags};
use crate::config::Config;
use serde::{Deserialize, Serialize};
use std::io;

/// Parent -> VRRP child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToVrrp {
    /// First frame.
    Hello(Hello),
    /// The respawned child's instances as they were (sent before `Start`): a MASTER
    /// instance resumes MASTER at once with its addresses kept and sends an advert.
    Resume(Vec<InstanceSnapshot>),
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
    /// Write a dump: answer with [`FromVrrp::DumpText`].
    Dump(DumpKind),
    /// Stop: release what `RunFlags` says to release, then exit 0.
    Stop,
    /// The parent's heartbeat (under a systemd watchdog): answer [`FromVrrp::Pong`] with
    /// the same number from the event loop. A child that does not answer is wedged.
    Ping(u64),
    /// `ctl maintenance enter|leave`: drain (`on`) or restore these instances (every
    /// instance when empty). Sent again after each `Ready`, so a respawned or reloaded
    /// child keeps what the operator asked.
    Maintenance {
        /// Instance names; empty: all.
        instances: Vec<String>,
        /// Drain (true) or restore (false).
        on: bool,
    },
    /// `ctl status` or a metrics scrape: answer with [`FromVrrp::Status`] (an empty report
    /// before `Start`).
    Status,
}

/// VRRP child -> parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromVrrp {
    /// First frame.
    Hello(Hello),
    /// Started (after `Start`) or reloaded (after `Reload`).
    Ready,
    /// A VRRP instance changed state or priority.
    InstanceState(InstanceSnapshot),
    /// The text of a dump file; the parent writes it where keepalived would.
    DumpText {
        /// Which dump.
        kind: DumpKind,
        /// The file's content.
        text: String,
    },
    /// The answer to [`ToVrrp::Ping`].
    Pong(u64),
    /// The answer to [`ToVrrp::Status`], in order.
    Status(Box<VrrpReport>),
}

/// keepalived's names of the VRRP counters (its JSON dump's `stats`), in the order of
/// [`InstanceReport::stats`].
pub const COUNTER_NAMES: [&str; 26] = [
    "advert_rcvd",
    "advert_sent",
    "become_master",
    "release_master",
    "packet_len_err",
    "advert_interval_err",
    "ip_ttl_err",
    "invalid_type_rcvd",
    "addr_list_err",
    "invalid_authtype",
    "authtype_mismatch",
    "auth_failure",
    "pri_zero_rcvd",
    "pri_zero_sent",
    "version_err",
    "checksum_err",
    "v2_advert_interval_err",
    "dst_mode_err",
    "unicast_src_err",
    "owner_ignored",
    // auth_hmac (keepalived 2.4.x's JSON names).
    "auth_ext_missing",
    "auth_ext_malformed",
    "auth_ext_unknown_key",
    "auth_ext_invalid_hmac",
    "auth_ext_stale",
    "auth_ext_replay",
];

/// What the VRRP child adds to the parent's view for a status: per instance what only the
/// engine knows, and the tracked scripts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VrrpReport {
    /// Every instance, in the engine's order.
    pub instances: Vec<InstanceReport>,
    /// The tracked scripts (`vrrp_script`), by name.
    pub scripts: Vec<(String, ScriptState)>,
}

/// One VRRP instance as the VRRP child knows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceReport {
    /// `vrrp_instance NAME`.
    pub iname: String,
    /// Its VIPs (`addr/len`).
    pub vips: Vec<String>,
    /// The master it last heard.
    pub master_ipaddr: Option<String>,
    /// Why it entered its state (`master_down`, ...: `vrrp::Reason::as_str`).
    pub last_transition_reason: Option<String>,
    /// Its sync group.
    pub sync_group: Option<String>,
    /// The counters, named by [`COUNTER_NAMES`] (minus the baseline of a STATS_CLEAR).
    pub stats: [u64; 26],
    /// Changes of state since the child started, by reason (only reasons seen).
    pub transitions_by_reason: Vec<(String, u64)>,
}

/// A tracked script (`vrrp_script`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScriptState {
    /// `GOOD`, `BAD` or `INIT` (no result yet), as keepalived's data dump says.
    pub status: String,
    /// `idle` or `running`.
    pub state: String,
}

/// The parent's end of the VRRP channel.
pub type ParentEnd = Channel<ToVrrp, FromVrrp>;

/// The VRRP child's end.
pub type ChildEnd = Channel<FromVrrp, ToVrrp>;

/// A connected pair (parent end, child end).
///
/// Only the VRRP child's messages go through it:
///
/// ```
/// use ka_proto::ipc::vrrp::{self, FromVrrp, ToVrrp};
/// let (mut parent, mut child) = vrrp::pair()?;
/// parent.send(&ToVrrp::Stop)?;
/// assert_eq!(child.recv()?, Some(ToVrrp::Stop));
/// child.send(&FromVrrp::Ready)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A checker message does not compile:
///
/// ```compile_fail
/// use ka_proto::ipc::{checker::ToChecker, vrrp};
/// let (mut parent, _child) = vrrp::pair()?;
/// parent.send(&ToChecker::Stop)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// nor does a child sending what only the parent sends:
///
/// ```compile_fail
/// use ka_proto::ipc::vrrp::{self, ToVrrp};
/// let (_parent, mut child) = vrrp::pair()?;
/// child.send(&ToVrrp::Stop)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pair() -> io::Result<(ParentEnd, ChildEnd)> {
    Channel::pair()
}
