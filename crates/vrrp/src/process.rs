//! `vrrp_track_process`: which running processes match a tracker, whether their number is
//! within the quorum, and when that becomes the tracker's status (after `fork_delay` /
//! `terminate_delay`). Sans-IO like the engine: the I/O layer reports processes seen
//! (an initial `/proc` scan, then fork/exec/comm events) and gone (exit events), with the
//! time; [`ProcessTrackers`] answers with status changes to feed the engine as
//! [`crate::Input::Tracker`] of kind [`crate::TrackKind::Process`].
//!
//! keepalived's semantics (man keepalived.conf, `vrrp_track_process`):
//! - the process name is compared exactly with the process's name (`/proc/PID/comm`,
//!   at most 15 bytes, so a longer configured name is compared on its first 15 bytes),
//!   or with the first word of the command line when `full_command` is set;
//! - parameters, when given (or when `param_match` is given without any), are compared
//!   with the rest of the command line: exactly, `partial` (the first N match exactly,
//!   more may follow) or `initial` (the configured words are an initial part of the
//!   process's, so the last may be longer);
//! - OK when quorum <= count <= quorum_max. A change to OK caused by a fork waits
//!   `fork_delay`, a change to failed caused by an exit waits `terminate_delay`; a return
//!   within the delay cancels it. Other changes (a process exec'ing into or out of the
//!   name, the initial scan) apply at once: measured with keepalived 2.2.7, a tracked
//!   program started from a shell (fork, then exec) gains the quorum at once despite
//!   `fork_delay 1`, and its kill loses it `terminate_delay` later.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::event::TrackStatus;
use crate::time::Timestamp;

/// The longest process name the kernel keeps (TASK_COMM_LEN - 1).
pub const COMM_LEN: usize = 15;

/// How a tracker compares parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParamMode {
    /// No parameters configured and no `param_match`: the name alone decides.
    #[default]
    Ignore,
    /// The parameters must be exactly these.
    Exact,
    /// `param_match partial`: these first, more may follow.
    Partial,
    /// `param_match initial`: an initial part of the parameters (the last may be longer).
    Initial,
}

/// What a `vrrp_track_process` looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The process name (`process` first word).
    pub name: String,
    /// The parameters (`process` other words).
    pub params: Vec<String>,
    /// How parameters are compared.
    pub mode: ParamMode,
    /// `full_command`: compare the name with the command line's first word.
    pub full_command: bool,
}

/// One running process as the I/O layer read it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcInfo {
    /// Process id (thread group id).
    pub pid: u32,
    /// `/proc/PID/comm` without the newline.
    pub comm: String,
    /// `/proc/PID/cmdline` split at NULs (empty when not read or a kernel thread).
    pub cmdline: Vec<String>,
}

impl ProcessSpec {
    /// Does the command line need reading to decide (parameters or `full_command`)?
    pub fn needs_cmdline(&self) -> bool {
        self.full_command || self.mode != ParamMode::Ignore
    }

    /// Does `p` match?
    pub fn matches(&self, p: &ProcInfo) -> bool {
        let name_ok = if self.full_command {
            p.cmdline.first().is_some_and(|a| *a == self.name)
        } else {
            let want = truncate(&self.name, COMM_LEN);
            p.comm == want
        };
        if !name_ok {
            return false;
        }
        let args: &[String] = p.cmdline.get(1..).unwrap_or(&[]);
        let want = &self.params;
        match self.mode {
            ParamMode::Ignore => true,
            ParamMode::Exact => args == want.as_slice(),
            ParamMode::Partial => args.len() >= want.len() && args[..want.len()] == want[..],
            ParamMode::Initial => {
                let Some((last, first)) = want.split_last() else {
                    return true;
                };
                args.len() >= want.len()
                    && args[..first.len()] == first[..]
                    && args[first.len()].starts_with(last.as_str())
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// One `vrrp_track_process` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessTrackerConfig {
    /// The block's name (what `track_process` refers to).
    pub name: String,
    /// What it looks for.
    pub spec: ProcessSpec,
    /// `quorum` (1).
    pub quorum: u32,
    /// `quorum_max` (None: no maximum).
    pub quorum_max: Option<u32>,
    /// `fork_delay`: wait before the change to OK.
    pub fork_delay: Duration,
    /// `terminate_delay`: wait before the change to failed.
    pub terminate_delay: Duration,
}

#[derive(Debug, Clone)]
struct Tracker {
    cfg: ProcessTrackerConfig,
    pids: BTreeSet<u32>,
    /// The status last reported (None: never).
    reported: Option<TrackStatus>,
    /// A change waiting for its delay.
    pending: Option<(Timestamp, TrackStatus)>,
    /// Since the last evaluation: a process joined by a fork / left by an exit.
    fork_gain: bool,
    exit_loss: bool,
}

impl Tracker {
    fn wanted(&self) -> TrackStatus {
        let n = u32::try_from(self.pids.len()).unwrap_or(u32::MAX);
        let ok = n >= self.cfg.quorum && self.cfg.quorum_max.is_none_or(|m| n <= m);
        if ok {
            TrackStatus::Up
        } else {
            TrackStatus::Down
        }
    }
}

/// One tracker's state, for dumps.
#[derive(Debug, Clone, Copy)]
pub struct ProcessTrackerView<'a> {
    /// Its configuration.
    pub config: &'a ProcessTrackerConfig,
    /// Matching processes now.
    pub current: usize,
    /// Whether it last reported enough processes.
    pub have_quorum: bool,
    /// A gain waits for `fork_delay`.
    pub fork_delay_running: bool,
    /// A loss waits for `terminate_delay`.
    pub terminate_delay_running: bool,
}

/// Every `vrrp_track_process` of a configuration and the processes matching each.
#[derive(Debug, Clone, Default)]
pub struct ProcessTrackers {
    trackers: Vec<Tracker>,
}

impl ProcessTrackers {
    /// Trackers for `configs`, with no process seen yet.
    pub fn new(configs: Vec<ProcessTrackerConfig>) -> ProcessTrackers {
        ProcessTrackers {
            trackers: configs
                .into_iter()
                .map(|cfg| Tracker {
                    cfg,
                    pids: BTreeSet::new(),
                    reported: None,
                    pending: None,
                    fork_gain: false,
                    exit_loss: false,
                })
                .collect(),
        }
    }

    /// No tracker at all?
    pub fn is_empty(&self) -> bool {
        self.trackers.is_empty()
    }

    /// Must the I/O layer read command lines?
    pub fn needs_cmdline(&self) -> bool {
        self.trackers.iter().any(|t| t.cfg.spec.needs_cmdline())
    }

    /// Matching processes of tracker `name` (None: no such tracker).
    pub fn count(&self, name: &str) -> Option<usize> {
        self.trackers
            .iter()
            .find(|t| t.cfg.name == name)
            .map(|t| t.pids.len())
    }

    /// A process was seen after an exec or a name change: it counts for the trackers it
    /// matches and no longer for the others (no delay either way).
    pub fn seen(&mut self, p: &ProcInfo) {
        for t in &mut self.trackers {
            if t.cfg.spec.matches(p) {
                t.pids.insert(p.pid);
            } else {
                t.pids.remove(&p.pid);
            }
        }
    }

    /// A new process (a fork): a gain it causes waits `fork_delay`.
    pub fn forked(&mut self, p: &ProcInfo) {
        for t in &mut self.trackers {
            if t.cfg.spec.matches(p) && t.pids.insert(p.pid) {
                t.fork_gain = true;
            }
        }
    }

    /// A process exited: a loss it causes waits `terminate_delay`.
    pub fn exited(&mut self, pid: u32) {
        for t in &mut self.trackers {
            if t.pids.remove(&pid) {
                t.exit_loss = true;
            }
        }
    }

    /// Replace everything with a full scan (start-up, an event overrun, or polling):
    /// processes no longer there count as exits, new ones as exec'd (no delay).
    pub fn rescan(&mut self, all: &[ProcInfo]) {
        for t in &mut self.trackers {
            let now: BTreeSet<u32> = all
                .iter()
                .filter(|p| t.cfg.spec.matches(p))
                .map(|p| p.pid)
                .collect();
            t.exit_loss |= t.pids.difference(&now).next().is_some();
            t.pids = now;
        }
    }

    /// Status changes to report at `now`: the first call reports every tracker at once
    /// (no delay applies to the initial state); later, a change waits for its delay.
    pub fn changes(&mut self, now: Timestamp) -> Vec<(String, TrackStatus)> {
        let mut out = Vec::new();
        for t in &mut self.trackers {
            let want = t.wanted();
            let (fork_gain, exit_loss) = (t.fork_gain, t.exit_loss);
            t.fork_gain = false;
            t.exit_loss = false;
            let Some(reported) = t.reported else {
                t.reported = Some(want);
                out.push((t.cfg.name.clone(), want));
                continue;
            };
            if want == reported {
                t.pending = None;
                continue;
            }
            let delay = match want {
                TrackStatus::Up if fork_gain => t.cfg.fork_delay,
                TrackStatus::Down if exit_loss => t.cfg.terminate_delay,
                _ => Duration::ZERO,
            };
            let due = match t.pending {
                Some((at, s)) if s == want => at,
                _ => now + delay,
            };
            if due <= now {
                t.pending = None;
                t.reported = Some(want);
                out.push((t.cfg.name.clone(), want));
            } else {
                t.pending = Some((due, want));
            }
        }
        out
    }

    /// Each tracker as it stands, in configuration order (for status dumps).
    pub fn views(&self) -> impl Iterator<Item = ProcessTrackerView<'_>> + '_ {
        self.trackers.iter().map(|t| ProcessTrackerView {
            config: &t.cfg,
            current: t.pids.len(),
            have_quorum: t.reported == Some(TrackStatus::Up),
            fork_delay_running: t.pending.is_some_and(|p| p.1 == TrackStatus::Up),
            terminate_delay_running: t.pending.is_some_and(|p| p.1 == TrackStatus::Down),
        })
    }

    /// When [`ProcessTrackers::changes`] must be called again for a delayed change.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.trackers
            .iter()
            .filter_map(|t| t.pending.map(|p| p.0))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, comm: &str, cmd: &[&str]) -> ProcInfo {
        ProcInfo {
            pid,
            comm: comm.into(),
            cmdline: cmd.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn spec(name: &str, params: &[&str], mode: ParamMode) -> ProcessSpec {
        ProcessSpec {
            name: name.into(),
            params: params.iter().map(|s| s.to_string()).collect(),
            mode,
            full_command: false,
        }
    }

    #[test]
    fn names_match_exactly_not_as_pgrep() {
        let s = spec("ssh", &[], ParamMode::Ignore);
        assert!(s.matches(&proc(1, "ssh", &["ssh", "host"])));
        assert!(!s.matches(&proc(1, "sshd", &["/usr/sbin/sshd"])));
        // Names longer than the kernel keeps compare on 15 bytes.
        let long = spec("a-very-long-process-name", &[], ParamMode::Ignore);
        assert!(long.matches(&proc(1, "a-very-long-pro", &[])));
        let mut full = spec("/usr/sbin/sshd", &[], ParamMode::Ignore);
        full.full_command = true;
        assert!(full.matches(&proc(1, "sshd", &["/usr/sbin/sshd", "-D"])));
        assert!(!full.matches(&proc(1, "sshd", &["sshd"])));
        assert!(!full.matches(&proc(1, "sshd", &[])));
    }

    #[test]
    fn parameter_modes() {
        let p = proc(1, "nginx", &["nginx", "-c", "/etc/nginx.conf", "-g"]);
        assert!(spec("nginx", &["-c", "/etc/nginx.conf", "-g"], ParamMode::Exact).matches(&p));
        assert!(!spec("nginx", &["-c", "/etc/nginx.conf"], ParamMode::Exact).matches(&p));
        assert!(spec("nginx", &["-c", "/etc/nginx.conf"], ParamMode::Partial).matches(&p));
        assert!(!spec("nginx", &["-c", "/etc/ng"], ParamMode::Partial).matches(&p));
        assert!(spec("nginx", &["-c", "/etc/ng"], ParamMode::Initial).matches(&p));
        assert!(!spec("nginx", &["-x"], ParamMode::Initial).matches(&p));
        // param_match without parameters: the process must have none.
        assert!(!spec("nginx", &[], ParamMode::Exact).matches(&p));
        assert!(spec("nginx", &[], ParamMode::Exact).matches(&proc(2, "nginx", &["nginx"])));
        assert!(spec("nginx", &[], ParamMode::Initial).matches(&p));
    }

    fn cfg(quorum: u32, max: Option<u32>, fork: u64, term: u64) -> ProcessTrackerConfig {
        ProcessTrackerConfig {
            name: "TP".into(),
            spec: spec("app", &[], ParamMode::Ignore),
            quorum,
            quorum_max: max,
            fork_delay: Duration::from_millis(fork),
            terminate_delay: Duration::from_millis(term),
        }
    }

    #[test]
    fn quorum_and_quorum_max() {
        let mut t = ProcessTrackers::new(vec![cfg(2, Some(3), 0, 0)]);
        let now = Timestamp::ZERO;
        t.rescan(&[proc(10, "app", &[]), proc(11, "other", &[])]);
        assert_eq!(t.changes(now), vec![("TP".into(), TrackStatus::Down)]);
        t.seen(&proc(12, "app", &[]));
        assert_eq!(t.changes(now), vec![("TP".into(), TrackStatus::Up)]);
        t.seen(&proc(13, "app", &[]));
        assert!(t.changes(now).is_empty());
        t.seen(&proc(14, "app", &[]));
        assert_eq!(t.count("TP"), Some(4));
        assert_eq!(t.changes(now), vec![("TP".into(), TrackStatus::Down)]);
        // An exec into another program stops counting.
        t.seen(&proc(14, "bash", &[]));
        assert_eq!(t.changes(now), vec![("TP".into(), TrackStatus::Up)]);
        t.exited(10);
        t.exited(12);
        assert_eq!(t.changes(now), vec![("TP".into(), TrackStatus::Down)]);
    }

    #[test]
    fn delays_wait_and_cancel() {
        let mut t = ProcessTrackers::new(vec![cfg(1, None, 500, 1000)]);
        let t0 = Timestamp::from_millis(1000);
        t.rescan(&[proc(10, "app", &[])]);
        // The initial state is reported at once.
        assert_eq!(t.changes(t0), vec![("TP".into(), TrackStatus::Up)]);
        t.exited(10);
        assert!(t.changes(t0).is_empty());
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_millis(1000)));
        // Back within terminate_delay (fork + exec): nothing happens.
        t.forked(&proc(11, "sh", &[]));
        t.seen(&proc(11, "app", &[]));
        assert!(t.changes(t0 + Duration::from_millis(400)).is_empty());
        assert_eq!(t.next_deadline(), None);
        t.exited(11);
        let t1 = t0 + Duration::from_millis(2000);
        assert!(t.changes(t1).is_empty());
        assert!(t.changes(t1 + Duration::from_millis(999)).is_empty());
        assert_eq!(
            t.changes(t1 + Duration::from_millis(1000)),
            vec![("TP".into(), TrackStatus::Down)]
        );
        // Started by exec: at once.
        t.seen(&proc(12, "app", &[]));
        let t2 = t1 + Duration::from_millis(3000);
        assert_eq!(t.changes(t2), vec![("TP".into(), TrackStatus::Up)]);
        // Exec'd away: at once.
        t.seen(&proc(12, "other", &[]));
        assert_eq!(t.changes(t2), vec![("TP".into(), TrackStatus::Down)]);
        // A matching process forking a matching child: fork_delay.
        t.seen(&proc(13, "app", &[]));
        let mut t2 = ProcessTrackers::new(vec![cfg(2, None, 500, 1000)]);
        t2.rescan(&[proc(13, "app", &[])]);
        assert_eq!(t2.changes(t1), vec![("TP".into(), TrackStatus::Down)]);
        t2.forked(&proc(14, "app", &[]));
        assert!(t2.changes(t1).is_empty());
        assert_eq!(
            t2.changes(t1 + Duration::from_millis(500)),
            vec![("TP".into(), TrackStatus::Up)]
        );
        // A scan that misses a process counts it as an exit.
        t2.rescan(&[proc(13, "app", &[])]);
        let t3 = t1 + Duration::from_secs(10);
        assert!(t2.changes(t3).is_empty());
        assert_eq!(
            t2.changes(t3 + Duration::from_millis(1000)),
            vec![("TP".into(), TrackStatus::Down)]
        );
    }
}
