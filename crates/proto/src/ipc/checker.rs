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
