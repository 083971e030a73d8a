//! When each check runs and what its results mean, as a sans-IO state machine: no socket,
//! no clock. The caller feeds [`Input`]s with the current time and carries out the
//! [`Action`]s; [`Scheduler::next_deadline`] says when to call again.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use ka_check::scheduler::{Action, CheckPlan, Input, Scheduler};
//! use ka_check::spec::{CheckId, CheckKind, CheckSpec};
//! use ka_check::probe::Step;
//! use ka_check::failure::Failure;
//!
//! let spec = CheckSpec::new(CheckKind::Tcp, "192.0.2.1:80".parse().unwrap());
//! let t0 = Instant::now();
//! let mut s = Scheduler::new(vec![CheckPlan::of(&spec, Duration::ZERO)], t0);
//! // Time for the first attempt: the caller starts a probe ...
//! let now = s.next_deadline().unwrap();
//! assert_eq!(s.handle(Input::Timer, now), vec![Action::Start(CheckId(0))]);
//! // ... and says how it ended. A check starts up: one failure retries (retry 1) ...
//! let fail = || Step::Fail(Failure::Connect("refused".into()));
//! assert!(s.handle(Input::Done(CheckId(0), fail()), now).is_empty());
//! // ... after delay_before_retry (1 s); the second failure in a row takes it down.
//! let now = s.next_deadline().unwrap();
//! assert_eq!(now - t0, Duration::from_secs(1));
//! assert_eq!(s.handle(Input::Timer, now), vec![Action::Start(CheckId(0))]);
//! let out = s.handle(Input::Done(CheckId(0), fail()), now);
//! assert!(matches!(&out[..], [Action::Report(r)] if !r.up));
//! ```
//!
//! Per check: an attempt starts every `delay_loop`; a failed attempt of a check that is up
//! is retried `retry` times, `delay_before_retry` apart, before the check goes down (no
//! retries for FILE_CHECK, whose value is a state); one passed attempt brings it up. An
//! attempt has an inactivity limit (`connect_timeout`, restarted by each [`Input::Progress`])
//! and a hard limit (3 × `connect_timeout`) so a server that drips bytes forever still
//! fails; a MISC_CHECK has `misc_timeout` (default `delay_loop`) for both. `alpha` checks
//! start down.
//!
//! Per server ([`Scheduler::serving`]): what a check's state change does to its real and
//! virtual server — in or out of the IPVS table, `inhibit_on_failure` (weight 0), quorum
//! with hysteresis, the sorry server, notify scripts and FIFO lines, `ha_suspend`
//! ([`Input::VipPresent`]) and `omega` ([`Input::Shutdown`]) — is decided here too, by
//! the scheduler's [`Health`]: every [`Action::Report`] is followed by what it does
//! ([`Action::Ipvs`], [`Action::Script`], [`Action::Fifo`]) and, for a real server's
//! check, the [`Action::Verdict`] it left the servers at. `handle` is the one way in.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use std::collections::HashSet;

use ka_proto::config::Script;

use crate::failure::Failure;
use crate::probe::Step;
use crate::spec::{describe, CheckId, CheckKind, CheckSpec, Timing};
use crate::state::{self, Change, Health, Report, Verdict, VsSpec};
use crate::stats::Stats;

/// Smallest `delay_loop`, `delay_before_retry` and `connect_timeout` honoured.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// What the scheduler needs to know of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckPlan {
    /// Its timing (intervals below [`MIN_INTERVAL`] are raised to it).
    pub timing: Timing,
    /// Failed attempts are retried (`retry`); not for FILE_CHECK.
    pub retries: bool,
    /// MISC_CHECK's `misc_timeout` (default `delay_loop`), the limit of its attempts.
    pub script_limit: Option<Duration>,
    /// `alpha`: start down.
    pub alpha: bool,
    /// `log_all_failures`.
    pub log_all_failures: bool,
    /// The check, for logs (`HTTP_GET [10.0.0.1]:80`).
    pub what: String,
    /// When the first attempt runs (a part of `warmup`).
    pub first_run: Duration,
    /// keepalived's name for its kind (`TCP_CHECK`, `HTTP_GET`, ...).
    pub kind: &'static str,
}

impl CheckPlan {
    /// The plan of `spec`, its first attempt `first_run` from now.
    pub fn of(spec: &CheckSpec, first_run: Duration) -> CheckPlan {
        CheckPlan {
            timing: spec.timing.clone(),
            retries: !matches!(spec.kind, CheckKind::File(_)),
            script_limit: match &spec.kind {
                CheckKind::Misc(m) => Some(m.timeout.unwrap_or(spec.timing.delay_loop)),
                _ => None,
            },
            alpha: spec.alpha,
            log_all_failures: spec.log_all_failures,
            what: describe(spec),
            first_run,
            kind: spec.kind.name(),
        }
    }
}

/// What happened.
#[derive(Debug)]
pub enum Input {
    /// Time passed: run what is due at `now`.
    Timer,
    /// The running attempt of a check moved (an event that settled nothing): its
    /// inactivity limit starts again.
    Progress(CheckId),
    /// The running attempt of a check (or the one [`Action::Start`] could not start)
    /// ended: [`Step::Pass`] or [`Step::Fail`] (anything else counts as progress).
    Done(CheckId, Step),
    /// Run this check now if it is idle (FILE_CHECK: its file changed).
    RunNow(CheckId),
    /// Pause (true: `ha_suspend`, the VIP is absent) or resume a check. A running attempt
    /// is dropped; a resumed check runs at once.
    Suspend(CheckId, bool),
    /// `ha_suspend`: the VIP of virtual server `vs` is on this host (`present`) or not.
    /// The checks of a virtual server with `ha_suspend` pause while it is absent.
    VipPresent {
        /// Virtual server index.
        vs: usize,
        /// Its address is here.
        present: bool,
    },
    /// `rs_init_notifies`: the `RS ... UP` line and `notify_up` of each listed real server
    /// `(vs, rs)` that is alive (at start, or the real servers a reload added).
    InitNotifies(Vec<(usize, usize)>),
    /// These virtual servers start (all of them at the daemon's start; at a reload, those
    /// it added): each whose quorum holds gains it, with its `quorum_up` script
    /// ([`Health::quorum_at_start`]).
    QuorumAtStart(Vec<usize>),
    /// Stopping: with `omega`, `notify_down` for every live real server and `quorum_down`.
    Shutdown,
    /// The operator disables (`drained`: weight 0, its checks go on) or enables real
    /// server `rs` of virtual server `vs` ([`Health::set_drained`]).
    Drain {
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
        /// Disable (true) or enable.
        drained: bool,
    },
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start an attempt of this check now, and report its end with [`Input::Done`].
    Start(CheckId),
    /// The attempt's inactivity limit passed: ask the probe what silence means
    /// (`on_timeout`) and report it with [`Input::Done`].
    Expire(CheckId),
    /// Drop what the check holds: its attempt (a script is killed) and a kept socket.
    Cancel(CheckId),
    /// The check's state moved (up/down, or its dynamic weight). What it does to its
    /// servers follows.
    Report(Report),
    /// Change the IPVS table.
    Ipvs(Change),
    /// Run a notify / quorum script.
    Script(Script),
    /// Write a line to the notify FIFOs (without the newline).
    Fifo(String),
    /// Where the last [`Action::Report`] left its real and virtual server (after the
    /// actions it caused): for SMTP alerts, which compare it with what they saw last.
    Verdict(Verdict),
}

/// One check's state, for the SIGUSR1 dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckDump {
    /// Which check.
    pub check: CheckId,
    /// What it checks (`HTTP_GET [10.0.0.1]:80`).
    pub what: String,
    /// Up or down.
    pub up: bool,
    /// Dynamic weight.
    pub weight: Option<i64>,
    /// Retries used in the current failure streak.
    pub retry_it: u32,
    /// Attempts that passed / failed since start.
    pub passes: u64,
    /// Attempts that failed since start.
    pub fails: u64,
    /// Last failure reason.
    pub last_failure: Option<String>,
    /// Paused by ha_suspend.
    pub suspended: bool,
    /// Its kind (`TCP_CHECK`, ...).
    pub kind: &'static str,
    /// The last attempt passed (`Some(true)`) or failed; `None` before the first ended.
    pub last_ok: Option<bool>,
    /// How long the last attempt took.
    pub last_duration: Option<Duration>,
    /// Attempts failed in a row (0 after a pass).
    pub consecutive_fails: u64,
}

/// A check's state (what [`CheckDump`] shows of it).
#[derive(Debug)]
struct Status {
    up: bool,
    weight: Option<i64>,
    retry_it: u32,
    passes: u64,
    fails: u64,
    last_failure: Option<Failure>,
    suspended: bool,
    last_ok: Option<bool>,
    last_duration: Option<Duration>,
    consecutive_fails: u64,
}

#[derive(Debug, Clone, Copy)]
struct Attempt {
    /// When it started.
    started: Instant,
    /// Inactivity limit.
    deadline: Instant,
    /// Hard limit.
    hard: Instant,
    /// [`Action::Expire`] was asked: waiting for its [`Input::Done`].
    expired: bool,
}

#[derive(Debug)]
struct Check {
    plan: CheckPlan,
    status: Status,
    next_run: Option<Instant>,
    attempt: Option<Attempt>,
    /// The time of this check's live entry in the timer heap.
    queued: Option<Instant>,
}

impl Check {
    fn wake_time(&self) -> Option<Instant> {
        match &self.attempt {
            Some(a) if a.expired => None,
            Some(a) => Some(a.deadline.min(a.hard)),
            None if self.status.suspended => None,
            None => self.next_run,
        }
    }
}

/// Every check's timers, retries and up/down state, and what they do to the servers.
#[derive(Debug)]
pub struct Scheduler {
    checks: Vec<Check>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    /// The real and virtual servers the checks judge (none for bare checks).
    servers: Health,
    /// Attempts, failures and durations per checker kind.
    stats: Stats,
}

impl Scheduler {
    /// The checks of `plans` (check ids are their indices), each first run at
    /// `now + first_run`, judging no server: their [`Action::Report`]s are all they say.
    pub fn new(plans: Vec<CheckPlan>, now: Instant) -> Scheduler {
        Scheduler::serving(plans, Vec::new(), now).0
    }

    /// As [`Scheduler::new`], the checks judging the real servers of `servers` (their
    /// [`state::RsCheck`] ids are indices into `plans`). Also returns the initial table:
    /// every real server in (up, unless `alpha`), failed ones out or at weight 0, the
    /// sorry server while quorum is lost at start.
    pub fn serving(
        plans: Vec<CheckPlan>,
        servers: Vec<VsSpec>,
        now: Instant,
    ) -> (Scheduler, Vec<Action>) {
        let checks = plans
            .into_iter()
            .map(|mut plan| {
                raise_to_minimum(&mut plan.timing);
                Check {
                    status: Status {
                        up: !plan.alpha,
                        weight: None,
                        retry_it: 0,
                        passes: 0,
                        fails: 0,
                        last_failure: None,
                        suspended: false,
                        last_ok: None,
                        last_duration: None,
                        consecutive_fails: 0,
                    },
                    next_run: Some(later(now, plan.first_run)),
                    attempt: None,
                    queued: None,
                    plan,
                }
            })
            .collect();
        let (servers, start) = Health::new(servers);
        let mut s = Scheduler {
            checks,
            timers: BinaryHeap::new(),
            servers,
            stats: Stats::new(),
        };
        for i in 0..s.checks.len() {
            s.schedule(i);
        }
        let mut out = Vec::new();
        s.apply(start, now, &mut out);
        (s, out)
    }

    /// The servers' state (read only: it moves through [`Scheduler::handle`]).
    pub fn servers(&self) -> &Health {
        &self.servers
    }

    /// Attempts, failures and durations per checker kind, since start.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Number of checks.
    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// True when there is no check.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// Is check `id` up?
    pub fn is_up(&self, id: CheckId) -> Option<bool> {
        self.checks.get(id.0).map(|c| c.status.up)
    }

    /// The state of check `id`.
    pub fn status(&self, id: CheckId) -> Option<CheckDump> {
        let c = self.checks.get(id.0)?;
        let st = &c.status;
        Some(CheckDump {
            check: id,
            what: c.plan.what.clone(),
            up: st.up,
            weight: st.weight,
            retry_it: st.retry_it,
            passes: st.passes,
            fails: st.fails,
            last_failure: st.last_failure.as_ref().map(|f| f.to_string()),
            suspended: st.suspended,
            kind: c.plan.kind,
            last_ok: st.last_ok,
            last_duration: st.last_duration,
            consecutive_fails: st.consecutive_fails,
        })
    }

    /// The plan of check `id` (its timing with the minimum intervals applied).
    pub fn plan(&self, id: CheckId) -> Option<&CheckPlan> {
        self.checks.get(id.0).map(|c| &c.plan)
    }

    /// When [`Input::Timer`] is next due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// Take one input; the actions to carry out, in order.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.handle_into(input, now, &mut out);
        out
    }

    /// As [`Scheduler::handle`], appending to `out` (no allocation once it has room).
    pub fn handle_into(&mut self, input: Input, now: Instant, out: &mut Vec<Action>) {
        match input {
            Input::Timer => self.run_timers(now, out),
            Input::Progress(id) => self.progress(id.0, now),
            Input::Done(id, Step::Pending | Step::Yield) => self.progress(id.0, now),
            Input::Done(id, Step::Pass(w)) => self.finish(id.0, Ok(w), now, out),
            Input::Done(id, Step::Fail(f)) => self.finish(id.0, Err(f), now, out),
            Input::RunNow(id) => {
                let Some(c) = self.checks.get_mut(id.0) else {
                    return;
                };
                if c.attempt.is_none() && !c.status.suspended {
                    c.next_run = Some(now);
                    self.schedule(id.0);
                }
            }
            Input::Suspend(id, suspended) => self.suspend(id.0, suspended, now, out),
            Input::VipPresent { vs, present } => {
                let acts = self.servers.set_vip_present(vs, present);
                self.apply(acts, now, out);
            }
            Input::InitNotifies(which) => {
                let which: HashSet<(usize, usize)> = which.into_iter().collect();
                let acts = self.servers.init_notifies(|v, r| which.contains(&(v, r)));
                self.apply(acts, now, out);
            }
            Input::QuorumAtStart(which) => {
                let acts = self.servers.quorum_at_start(|v| which.contains(&v));
                self.apply(acts, now, out);
            }
            Input::Shutdown => {
                let acts = self.servers.shutdown();
                self.apply(acts, now, out);
            }
            Input::Drain { vs, rs, drained } => {
                let acts = self
                    .servers
                    .set_drained(vs, rs, drained)
                    .unwrap_or_default();
                self.apply(acts, now, out);
            }
        }
    }

    /// Carry out what the servers' state says: the I/O for the caller, suspensions here.
    fn apply(&mut self, acts: Vec<state::Action>, now: Instant, out: &mut Vec<Action>) {
        for a in acts {
            match a {
                state::Action::Ipvs(c) => out.push(Action::Ipvs(c)),
                state::Action::Script(s) => out.push(Action::Script(s)),
                state::Action::Fifo(l) => out.push(Action::Fifo(l)),
                state::Action::Suspend { check, suspended } => {
                    self.suspend(check.0, suspended, now, out)
                }
            }
        }
    }

    /// A check's state moved: report it, then what it does to its servers.
    fn judge(&mut self, report: Report, now: Instant, out: &mut Vec<Action>) {
        let acts = self.servers.on_report(&report);
        let check = report.check;
        out.push(Action::Report(report));
        self.apply(acts, now, out);
        if let Some(v) = self.servers.verdict(check) {
            out.push(Action::Verdict(v));
        }
    }

    fn progress(&mut self, idx: usize, now: Instant) {
        if let Some(c) = self.checks.get_mut(idx) {
            if let Some(a) = c.attempt.as_mut() {
                a.deadline = later(now, c.plan.timing.connect_timeout);
            }
        }
    }

    fn suspend(&mut self, idx: usize, suspended: bool, now: Instant, out: &mut Vec<Action>) {
        let Some(c) = self.checks.get_mut(idx) else {
            return;
        };
        if c.status.suspended == suspended {
            return;
        }
        c.status.suspended = suspended;
        out.push(Action::Cancel(CheckId(idx)));
        if suspended {
            c.attempt = None;
            c.status.retry_it = 0;
        } else {
            c.next_run = Some(now);
        }
        self.schedule(idx);
    }

    fn schedule(&mut self, idx: usize) {
        let Some(c) = self.checks.get_mut(idx) else {
            return;
        };
        let Some(want) = c.wake_time() else {
            return;
        };
        if c.queued.is_none_or(|q| want < q) {
            c.queued = Some(want);
            self.timers.push(Reverse((want, idx)));
        }
    }

    fn run_timers(&mut self, now: Instant, out: &mut Vec<Action>) {
        while let Some(&Reverse((t, idx))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            let Some(c) = self.checks.get_mut(idx) else {
                continue;
            };
            if c.queued != Some(t) {
                continue; // superseded by an earlier entry
            }
            c.queued = None;
            if let Some(a) = c.attempt.as_mut() {
                if a.expired {
                    // Waiting for the caller's verdict.
                } else if now >= a.hard {
                    out.push(Action::Cancel(CheckId(idx)));
                    self.finish(idx, Err(Failure::TooSlow), now, out);
                } else if now >= a.deadline {
                    a.expired = true;
                    out.push(Action::Expire(CheckId(idx)));
                }
            } else if !c.status.suspended && c.next_run.is_some_and(|n| n <= now) {
                let t = &c.plan.timing;
                let limit = c.plan.script_limit.unwrap_or(t.connect_timeout);
                let hard = match c.plan.script_limit {
                    Some(l) => l,
                    None => t.connect_timeout.saturating_mul(3),
                };
                c.next_run = None;
                c.attempt = Some(Attempt {
                    started: now,
                    deadline: later(now, limit),
                    hard: later(now, hard),
                    expired: false,
                });
                out.push(Action::Start(CheckId(idx)));
            }
            self.schedule(idx);
        }
    }

    /// The single place a check's state moves (and, through [`Scheduler::judge`], what
    /// that does to its servers).
    fn finish(
        &mut self,
        idx: usize,
        verdict: Result<Option<i64>, Failure>,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let Some(c) = self.checks.get_mut(idx) else {
            return;
        };
        let Some(attempt) = c.attempt.take() else {
            return; // not running (cancelled meanwhile): nothing to judge
        };
        let (plan, st) = (&c.plan, &mut c.status);
        let took = now.saturating_duration_since(attempt.started);
        st.last_ok = Some(verdict.is_ok());
        st.last_duration = Some(took);
        if verdict.is_ok() {
            st.consecutive_fails = 0;
        } else {
            st.consecutive_fails += 1;
        }
        self.stats
            .entry(plan.kind)
            .or_default()
            .record(took, verdict.is_ok());
        let timing = &plan.timing;
        let mut report = None;
        match verdict {
            Ok(w) => {
                st.passes += 1;
                st.retry_it = 0;
                let changed = !st.up || (w.is_some() && w != st.weight);
                st.up = true;
                if w.is_some() {
                    st.weight = w;
                }
                c.next_run = Some(later(now, timing.delay_loop));
                if changed {
                    log::info!("{} succeeded", plan.what);
                    report = Some(Report {
                        check: CheckId(idx),
                        up: true,
                        weight: st.weight,
                        failure: None,
                    });
                }
            }
            Err(f) => {
                st.fails += 1;
                if plan.log_all_failures {
                    log::warn!("{} failed: {f}", plan.what);
                }
                // A tracked file's value is a state, not an attempt: no retries.
                let retries = if plan.retries { timing.retry } else { 0 };
                if st.up && st.retry_it < retries {
                    st.retry_it += 1;
                    log::info!(
                        "{} failed ({f}); retry {} of {} in {:?}",
                        plan.what,
                        st.retry_it,
                        timing.retry,
                        timing.delay_before_retry
                    );
                    c.next_run = Some(later(now, timing.delay_before_retry));
                } else {
                    st.retry_it = 0;
                    c.next_run = Some(later(now, timing.delay_loop));
                    if st.up {
                        st.up = false;
                        log::warn!("{} failed: {f}", plan.what);
                        report = Some(Report {
                            check: CheckId(idx),
                            up: false,
                            weight: st.weight,
                            failure: Some(f.clone()),
                        });
                    }
                }
                st.last_failure = Some(f);
            }
        }
        self.schedule(idx);
        if let Some(r) = report {
            self.judge(r, now, out);
        }
    }
}

/// Raise intervals below [`MIN_INTERVAL`] to it: no busy loop on a zero interval.
pub fn raise_to_minimum(t: &mut Timing) {
    t.delay_loop = t.delay_loop.max(MIN_INTERVAL);
    t.delay_before_retry = t.delay_before_retry.max(MIN_INTERVAL);
    t.connect_timeout = t.connect_timeout.max(MIN_INTERVAL);
}

/// `now + d`, saturating at a century ahead (configs may say absurd durations).
pub fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(Duration::from_secs(100 * 365 * 86400)))
        .unwrap_or(now)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
