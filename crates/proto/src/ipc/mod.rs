//! Parent <-> child messages, and the channels that carry them.
//!
//! The parent forks one VRRP child and one checker child; each pair talks over a
//! `socketpair(AF_UNIX, SOCK_STREAM)` wrapped in a typed [`Channel`]. Each channel has its
//! own pair of message enums, so a message meant for one child cannot be sent to the other
//! (the compiler refuses it):
//!
//! | channel              | parent -> child          | child -> parent              |
//! |----------------------|--------------------------|------------------------------|
//! | parent <-> VRRP      | [`vrrp::ToVrrp`]         | [`vrrp::FromVrrp`]           |
//! | parent <-> checker   | [`checker::ToChecker`]   | [`checker::FromChecker`]     |
//!
//! Frames are described in [`codec`]. Every conversation starts with a [`Hello`] each
//! way; it carries the protocol version and the [`Build`] of the sender, and either end
//! refuses a peer of another build ([`Hello::check`]). The conversation of each child is
//! drawn in [`vrrp`] and [`checker`]. The parent passes one thing from a child to the
//! other: the VRRP instance states, which the checker child needs for `ha_suspend`.
//!
//! A child that sends a frame the parent cannot decode is logged and restarted.

mod channel;
pub mod checker;
pub mod codec;
pub mod vrrp;

pub use channel::{Channel, ChannelError};
pub use codec::{CodecError, FrameDecoder, MAX_FRAME, PROTOCOL_VERSION};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which child a process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// The VRRP child (`Keepalived_vrrp`).
    Vrrp,
    /// The health-checker / IPVS child (`Keepalived_healthcheckers`).
    Checker,
}

impl Role {
    /// keepalived's syslog ident for this child.
    pub fn ident(self) -> &'static str {
        match self {
            Role::Vrrp => "Keepalived_vrrp",
            Role::Checker => "Keepalived_healthcheckers",
        }
    }

    /// How keepalived names it in messages ("VRRP child process(123) died").
    pub fn label(self) -> &'static str {
        match self {
            Role::Vrrp => "VRRP",
            Role::Checker => "Healthcheck",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which build of keepalived-rs a process is: the crate version and the git commit it was
/// built from (`KA_BUILD_COMMIT` when set at build time, else `git rev-parse HEAD`, else
/// `unknown`; see `build.rs`).
///
/// Today the parent and its children are one binary (forked, not executed), so they are
/// always the same build; a hitless upgrade will start a new binary next to the old one,
/// and the two must tell whether they can talk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// The crate version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The git commit (12 hex digits), or `unknown`.
    pub commit: String,
}

impl Build {
    /// This binary's build.
    pub fn current() -> Build {
        Build {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: env!("KA_BUILD_COMMIT").to_string(),
        }
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keepalived-rs {} (commit {})", self.version, self.commit)
    }
}

/// The first frame in each direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u8,
    /// The child the conversation is with.
    pub role: Role,
    /// Process id of the sender.
    pub pid: u32,
    /// The sender's build.
    pub build: Build,
}

impl Hello {
    /// A hello from this process, for `role`.
    pub fn new(role: Role) -> Hello {
        Hello {
            version: PROTOCOL_VERSION,
            role,
            pid: std::process::id(),
            build: Build::current(),
        }
    }

    /// Is this a hello this process can talk with on the channel of `role`? `Err` names
    /// the difference: another protocol version, another role, or another build.
    pub fn check(&self, role: Role) -> Result<(), HelloError> {
        if self.version != PROTOCOL_VERSION {
            return Err(HelloError::Version {
                got: self.version,
                want: PROTOCOL_VERSION,
            });
        }
        if self.role != role {
            return Err(HelloError::Role {
                got: self.role,
                want: role,
            });
        }
        let ours = Build::current();
        if self.build != ours {
            return Err(HelloError::Build {
                peer: self.build.clone(),
                ours,
            });
        }
        Ok(())
    }
}

/// Why a [`Hello`] is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloError {
    /// The peer speaks another protocol version.
    Version {
        /// The peer's version.
        got: u8,
        /// Ours.
        want: u8,
    },
    /// The peer said hello for the other child.
    Role {
        /// The role in the hello.
        got: Role,
        /// The channel's role.
        want: Role,
    },
    /// The peer is another build of keepalived-rs.
    Build {
        /// The peer's build.
        peer: Build,
        /// Ours.
        ours: Build,
    },
}

impl fmt::Display for HelloError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelloError::Version { got, want } => write!(
                f,
                "the peer speaks IPC protocol version {got}, this process version {want}"
            ),
            HelloError::Role { got, want } => write!(
                f,
                "the peer said hello as the {got} child on the {want} child's channel"
            ),
            HelloError::Build { peer, ours } => write!(
                f,
                "the peer is {peer} and this process {ours}: two different builds cannot \
                 share an IPC channel"
            ),
        }
    }
}

impl std::error::Error for HelloError {}

/// Command-line switches the children act on (the parent parsed the command line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFlags {
    /// `-V/--dont-release-vrrp`: keep VIPs and routes on stop.
    pub dont_release_vrrp: bool,
    /// `-X/--release-vips`: drop VIPs on startup/stop even when not master.
    pub release_vips: bool,
    /// `-I/--dont-release-ipvs`: leave the IPVS topology in place on stop.
    pub dont_release_ipvs: bool,
    /// `-D/--log-detail`.
    pub log_detail: bool,
    /// `-a/--address-monitoring`.
    pub address_monitoring: bool,
    /// `-d/--dump-conf`: the VRRP child logs its configuration dump at start.
    pub dump_conf: bool,
}

/// Which dump a signal asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DumpKind {
    /// SIGUSR1: the state dump (`keepalived.data`, `keepalived_check.data`).
    Data,
    /// SIGUSR2: the VRRP counters (`keepalived.stats`).
    Stats,
    /// SIGRTMAX-1: the counters, then zero them (`keepalived.stats`).
    StatsClear,
    /// SIGRTMIN+2: the JSON dump (`keepalived.json`).
    Json,
}

/// A VRRP instance's state as keepalived names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VrrpState {
    /// Not started yet.
    Init,
    /// BACKUP.
    Backup,
    /// MASTER.
    Master,
    /// FAULT.
    Fault,
    /// Stopped (on shutdown).
    Stop,
}

impl VrrpState {
    /// The state as keepalived names it ("MASTER").
    pub fn as_str(self) -> &'static str {
        match self {
            VrrpState::Init => "INIT",
            VrrpState::Backup => "BACKUP",
            VrrpState::Master => "MASTER",
            VrrpState::Fault => "FAULT",
            VrrpState::Stop => "STOP",
        }
    }
}

impl fmt::Display for VrrpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last known state of one VRRP instance: reported by the VRRP child on every change,
/// kept by the parent, and handed back in [`vrrp::ToVrrp::Resume`] to a respawned child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSnapshot {
    /// `vrrp_instance NAME`.
    pub name: String,
    /// `virtual_router_id`.
    pub vrid: u8,
    /// The instance's interface, if it has one.
    pub interface: Option<String>,
    /// IPv6 instance.
    pub ipv6: bool,
    /// Current state.
    pub state: VrrpState,
    /// Effective priority (base + tracker weights).
    pub priority: u8,
    /// Configured priority.
    pub base_priority: u8,
    /// Are the VIPs (and virtual routes/rules) installed right now?
    pub addresses_installed: bool,
}

/// The state of one virtual or real server, reported by the checker child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    /// The virtual server as keepalived prints it, e.g. `[10.0.0.1]:tcp:80` or `FWM 5`.
    pub virtual_server: String,
    /// The real server (`[192.168.1.2]:tcp:80`), or `None` for the virtual server itself.
    pub real_server: Option<String>,
    /// Up (alive / quorum reached) or down.
    pub up: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_of_this_build_is_accepted() {
        assert_eq!(Hello::new(Role::Vrrp).check(Role::Vrrp), Ok(()));
        assert_eq!(Hello::new(Role::Checker).check(Role::Checker), Ok(()));
    }

    #[test]
    fn a_hello_of_another_build_is_refused_with_both_builds_named() {
        let mut h = Hello::new(Role::Vrrp);
        h.build.commit = "0123456789ab".into();
        let e = h.check(Role::Vrrp).unwrap_err();
        assert!(matches!(e, HelloError::Build { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("commit 0123456789ab"), "{msg}");
        assert!(
            msg.contains(&format!("commit {}", Build::current().commit)),
            "{msg}"
        );
        assert!(msg.contains("two different builds"), "{msg}");
        let mut h = Hello::new(Role::Checker);
        h.build.version = "0.0.0-other".into();
        assert!(matches!(
            h.check(Role::Checker),
            Err(HelloError::Build { .. })
        ));
    }

    #[test]
    fn a_hello_of_another_version_or_role_is_refused() {
        let mut h = Hello::new(Role::Vrrp);
        h.version = PROTOCOL_VERSION.wrapping_add(1);
        assert!(matches!(
            h.check(Role::Vrrp),
            Err(HelloError::Version { .. })
        ));
        assert!(matches!(
            Hello::new(Role::Checker).check(Role::Vrrp),
            Err(HelloError::Role { .. })
        ));
    }

    #[test]
    fn the_build_names_the_crate_version_and_a_commit() {
        let b = Build::current();
        assert_eq!(b.version, env!("CARGO_PKG_VERSION"));
        assert!(!b.commit.is_empty());
        assert!(
            b.commit
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "{}",
            b.commit
        );
    }
}
