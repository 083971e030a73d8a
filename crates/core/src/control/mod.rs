//! The control socket: what `keepalived-rs ctl` asks the running daemon and what it
//! answers. One JSON object per line each way; the parent serves it
//! (`daemon::parent::control`), `ctl` ([`crate::ctl`]) is the client.
//!
//! ```text
//!   ctl ──{"verb":"status"}\n──────────────▶ parent ── answers from what the children
//!       ◀─{"answer":"status",...}\n────────          reported (states, services, pids)
//!   ctl ──{"verb":"events","follow":true}\n▶ parent ── the event ring, then each new
//!       ◀─{"answer":"event",...}\n ...               event as it happens
//! ```
//!
//! The socket lives under [`RUN_DIR`], one per daemon: the network namespace (`-s`, or
//! `net_namespace`) is a directory and the `instance` a suffix, as for the pid files.
//! `--control-socket PATH` names it outright (both for the daemon and for `ctl`).

pub mod http;
pub mod metrics;
pub mod page;
pub mod path;
pub mod status;

use ka_proto::ipc::DumpKind;
use serde::{Deserialize, Serialize};

pub use path::{socket_path, RUN_DIR};
pub use status::{
    merge_checker, merge_vrrp, CheckKindStats, CheckerReport, CheckerStatus, ChildStatus,
    FromKernel, InstanceStatus, IpvsCounters, IpvsDest, IpvsService, ServiceStatus, Status,
    VrrpReport,
};

/// The longest request line the parent reads; a longer one closes the connection.
pub const MAX_REQUEST: usize = 4096;

/// A request from `ctl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verb", rename_all = "snake_case")]
pub enum Request {
    /// What every instance, service and child is doing now.
    Status,
    /// The recent events; with `follow`, every new one as it happens.
    Events {
        #[serde(default)]
        follow: bool,
    },
    /// Reload the configuration and say whether it was taken.
    Reload,
    /// keepalived's dump (`data`, `stats` or `json`), as text, to the caller.
    Dump { kind: String },
    /// Drain (`on`) or restore VRRP instances (every one when `instances` is empty).
    Maintenance { on: bool, instances: Vec<String> },
    /// Disable (weight 0: drain its connections) or enable a real server, by the names
    /// `status` shows (`[10.0.0.1]:tcp:80`).
    RealServer {
        virtual_server: String,
        real_server: String,
        disable: bool,
    },
}

impl Request {
    /// Changes the daemon: refused to a caller that is not root.
    pub fn mutates(&self) -> bool {
        matches!(
            self,
            Request::Reload | Request::Maintenance { .. } | Request::RealServer { .. }
        )
    }
}

/// The dump `ctl dump KIND` names.
pub fn dump_kind(name: &str) -> Option<DumpKind> {
    match name {
        "data" => Some(DumpKind::Data),
        "stats" => Some(DumpKind::Stats),
        "json" => Some(DumpKind::Json),
        _ => None,
    }
}

/// An answer to `ctl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    Status(Box<Status>),
    Event(Event),
    /// The end of the event ring (`events` without `follow` closes after it).
    EventsEnd,
    Reload(Verdict),
    /// One part of a dump (the parent's, then each child's).
    Dump {
        text: String,
    },
    /// The last part of a dump was sent.
    DumpEnd,
    /// Maintenance done: the instances drained now.
    Maintenance {
        drained: Vec<String>,
    },
    /// `real-server disable|enable` done.
    RealServer {
        virtual_server: String,
        real_server: String,
        disabled: bool,
    },
    /// The request could not be served.
    Error {
        message: String,
    },
}

/// A reload's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub accepted: bool,
    /// One line: "accepted", or why it was refused ("3 errors, first at file:line").
    pub summary: String,
    /// Every diagnostic of a refused configuration, one per line.
    pub diagnostics: Vec<String>,
}

/// One thing that happened, as `ctl events` prints it (one JSON line each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Numbered from 1 in the daemon's lifetime.
    pub seq: u64,
    /// CLOCK_MONOTONIC, ms.
    pub monotonic_ms: u64,
    /// Wall clock, ms since the epoch.
    pub unix_ms: u64,
    #[serde(flatten)]
    pub what: What,
}

/// What an [`Event`] is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    /// A VRRP instance changed state.
    VrrpState {
        iname: String,
        from: Option<String>,
        to: String,
        effective_priority: u8,
    },
    /// A virtual or real server went up or down.
    Service {
        virtual_server: String,
        real_server: Option<String>,
        up: bool,
    },
    /// A reload was asked for (signal or `ctl reload`) and taken or refused.
    Reload { accepted: bool, summary: String },
    /// A child was started.
    ChildStart { role: String, pid: i32 },
    /// A child exited.
    ChildExit { role: String, pid: i32, how: String },
    /// `ctl maintenance`: instances drained (`on`) or restored (all when empty).
    Maintenance { on: bool, instances: Vec<String> },
    /// `ctl real-server disable|enable`: a real server set to weight 0 or given its weight
    /// back.
    RealServer {
        virtual_server: String,
        real_server: String,
        disabled: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_as_ctl_writes_them() {
        let r: Request = serde_json::from_str(r#"{"verb":"status"}"#).unwrap();
        assert_eq!(r, Request::Status);
        let r: Request = serde_json::from_str(r#"{"verb":"events"}"#).unwrap();
        assert_eq!(r, Request::Events { follow: false });
        let r: Request = serde_json::from_str(r#"{"verb":"events","follow":true}"#).unwrap();
        assert_eq!(r, Request::Events { follow: true });
        assert!(serde_json::from_str::<Request>(r#"{"verb":"rm -rf"}"#).is_err());
        assert!(Request::Reload.mutates() && !Request::Status.mutates());
        let r: Request = serde_json::from_str(
            r#"{"verb":"real_server","virtual_server":"[10.0.0.1]:tcp:80","real_server":"[10.0.0.2]:tcp:80","disable":true}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            Request::RealServer {
                virtual_server: "[10.0.0.1]:tcp:80".into(),
                real_server: "[10.0.0.2]:tcp:80".into(),
                disable: true
            }
        );
        assert!(r.mutates(), "root only");
    }

    #[test]
    fn an_event_is_one_flat_json_object() {
        let e = Event {
            seq: 3,
            monotonic_ms: 10,
            unix_ms: 20,
            what: What::VrrpState {
                iname: "VI_1".into(),
                from: Some("BACKUP".into()),
                to: "MASTER".into(),
                effective_priority: 100,
            },
        };
        let s = serde_json::to_string(&Answer::Event(e.clone())).unwrap();
        assert!(s.contains(r#""kind":"vrrp_state""#), "{s}");
        assert!(s.contains(r#""iname":"VI_1""#), "{s}");
        assert!(!s.contains('\n'));
        let back: Answer = serde_json::from_str(&s).unwrap();
        assert_eq!(back, Answer::Event(e));
    }
}
