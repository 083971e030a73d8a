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
