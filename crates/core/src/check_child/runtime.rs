//! The checker child's health side, put together: the [`Engine`] (the checks' I/O, on the
//! loop of the caller: [`Runtime::attached`]; or on a loop of its own for tests and
//! embedding: [`Runtime::new`], [`Runtime::turn`]) and the I/O of what its scheduler
//! decides (results, quorum, sorry server, `omega`: [`ka_check::scheduler`]): notify and
//! quorum scripts (spawned, reaped without blocking), notify FIFO lines (`lvs_notify_fifo`
//! and the global `notify_fifo`, written non-blocking) and SMTP alerts. What it hands back
//! are the [`Change`]s for the IPVS reconciler.
//!
//! Child processes never outlive their owner as zombies: a script still running when its
//! [`Runtime`] is replaced (a reload) or a MISC_CHECK probe dropped with its engine is
//! handed to [`orphans`], which later turns of any runtime reap.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use mio::{Registry, Token};

use ka_check::engine::{CheckDump, Engine, EngineError, Report};
use ka_check::from_config::Checks;
use ka_check::probe::Ready;
use ka_check::process::{orphans, start_script};
use ka_check::scheduler::{Action, Input};
use ka_check::state::{Action as StateAction, Change, Health, VsDump, VsSpec};

/// The health side of the checker child.
pub struct Runtime {
    engine: Engine,
    fifos: Vec<FifoWriter>,
    scripts: Vec<Child>,
    pending: VecDeque<Change>,
    alerts: Option<super::alerts::CheckAlerts>,
    /// The last [`Action::Report`], for the [`Action::Verdict`] that follows it.
    last_report: Option<Report>,
}

/// A notify FIFO open for writing. As keepalived, it is opened read-write and
/// non-blocking: lines wait in the pipe while no reader is there, and a full pipe (a
/// reader gone or too slow) drops the line (logged) — the loop never waits on it.
#[derive(Debug)]
pub struct FifoWriter {
    path: PathBuf,
    file: File,
    /// The last write failed (log the next failure at debug level only).
    failing: bool,
}

impl FifoWriter {
    /// Open an existing FIFO (`O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW`). Anything
    /// that is not a FIFO is refused, so a wrong path never overwrites a file.
    pub fn open(path: &Path) -> io::Result<FifoWriter> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(path)?;
        if !file.metadata()?.file_type().is_fifo() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a FIFO"));
        }
        Ok(FifoWriter {
            path: path.to_path_buf(),
            file,
            failing: false,
        })
    }

    /// Another handle on the same open FIFO.
    pub fn try_clone(&self) -> io::Result<FifoWriter> {
        Ok(FifoWriter {
            path: self.path.clone(),
            file: self.file.try_clone()?,
            failing: false,
        })
    }

    /// The FIFO's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write one line (the newline is added) in one `write(2)`: lines up to `PIPE_BUF`
    /// are never interleaved with other writers'.
    pub fn write_line(&mut self, line: &str) {
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        match self.file.write(&buf) {
            Ok(n) if n == buf.len() => self.failing = false,
            Ok(n) => {
                log::warn!(
                    "notify fifo {}: line cut after {n} bytes (pipe full)",
                    self.path.display()
                );
            }
            Err(e) => {
                if self.failing {
                    log::debug!("notify fifo {}: line dropped: {e}", self.path.display());
                } else {
                    log::warn!("notify fifo {}: line dropped: {e}", self.path.display());
                }
                self.failing = true;
            }
        }
    }
}

impl Runtime {
    /// Build from mapped config, writing checker events to `lvs_notify_fifo` when given
    /// (an existing FIFO; see [`Runtime::with_fifos`] for several). The initial table
    /// comes out of the first [`Runtime::take_changes`].
    pub fn new(checks: Checks, lvs_notify_fifo: Option<PathBuf>) -> Result<Runtime, EngineError> {
        let fifos = lvs_notify_fifo
            .and_then(|p| {
                FifoWriter::open(&p)
                    .map_err(|e| log::warn!("lvs_notify_fifo {}: {e}", p.display()))
                    .ok()
            })
            .into_iter()
            .collect();
        Runtime::with_fifos(checks, fifos)
    }

    /// Build from mapped config; every line goes to each of `fifos` (keepalived writes
    /// checker events to both the global `notify_fifo` and `lvs_notify_fifo`).
    pub fn with_fifos(checks: Checks, fifos: Vec<FifoWriter>) -> Result<Runtime, EngineError> {
        Runtime::build(checks, fifos, None)
    }

    /// As [`Runtime::with_fifos`], on the loop of `registry`'s owner (the checker child's
    /// session), who polls: see [`Runtime::on_ready`], [`Runtime::run_due`].
    pub fn attached(
        checks: Checks,
        fifos: Vec<FifoWriter>,
        registry: &Registry,
    ) -> Result<Runtime, EngineError> {
        Runtime::build(checks, fifos, Some(registry))
    }

    fn build(
        checks: Checks,
        fifos: Vec<FifoWriter>,
        registry: Option<&Registry>,
    ) -> Result<Runtime, EngineError> {
        for issue in &checks.issues {
            log::warn!("{issue}");
        }
        let engine = match registry {
            Some(r) => Engine::attached(checks.specs, checks.virtual_servers, &checks.ssl, r)?,
            None => Engine::with_servers(checks.specs, checks.virtual_servers, &checks.ssl)?,
        };
        let mut rt = Runtime {
            engine,
            fifos,
            scripts: Vec::new(),
            pending: VecDeque::new(),
            alerts: None,
            last_report: None,
        };
        rt.apply();
        Ok(rt)
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The health state.
    pub fn health(&self) -> &Health {
        self.engine.servers()
    }

    /// Carry out what the scheduler decided, in order.
    fn apply(&mut self) {
        for a in self.engine.take_actions() {
            match a {
                Action::Ipvs(c) => self.pending.push_back(c),
                Action::Script(s) => match start_script(&s) {
                    Ok(c) => self.scripts.push(c),
                    Err(e) => log::warn!("cannot run {:?}: {e}", s.args.join(" ")),
                },
                Action::Fifo(line) => {
                    for f in &mut self.fifos {
                        f.write_line(&line);
                    }
                }
                Action::Report(r) => self.last_report = Some(r),
                Action::Verdict(v) => {
                    if let (Some(a), Some(r)) = (&mut self.alerts, &self.last_report) {
                        a.after_verdict(self.engine.servers().specs(), &self.engine, r, &v);
                    }
                }
                // The engine's own.
                Action::Start(_) | Action::Expire(_) | Action::Cancel(_) => {}
            }
        }
    }

    /// Give the scheduler one of the child's inputs and carry out what follows.
    fn input(&mut self, input: Input) {
        self.engine.input(input, Instant::now());
        self.apply();
    }

    /// How long the loop may sleep from `now` (at most `max_wait`): the engine's next
    /// timer, and 100 ms while scripts are left to reap.
    pub fn poll_timeout(&self, now: Instant, max_wait: Option<Duration>) -> Option<Duration> {
        self.engine.poll_timeout(now, self.wait(max_wait))
    }

    fn wait(&self, max_wait: Option<Duration>) -> Option<Duration> {
        if self.scripts.is_empty() && orphans::count() == 0 {
            max_wait
        } else {
            Some(max_wait.map_or(Duration::from_millis(100), |m| {
                m.min(Duration::from_millis(100))
            }))
        }
    }

    /// A readiness event for one of the checks' tokens ([`Engine::owns`]).
    pub fn on_ready(&mut self, token: Token, ready: Ready, now: Instant) {
        self.engine.on_ready(token, ready, now);
    }

    /// After a batch of events: due checks run, results applied, scripts reaped.
    pub fn run_due(&mut self, now: Instant) {
        self.engine.run_due(now);
        self.settle();
    }

    /// One turn of a standalone loop: checks run, results applied. Returns the caller's
    /// ready tokens.
    pub fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<Vec<Token>> {
        let ext = self.engine.turn(self.wait(max_wait))?;
        self.settle();
        Ok(ext)
    }

    /// What the scheduler decided is carried out; scripts that ended are reaped.
    fn settle(&mut self) {
        self.apply();
        if !self.scripts.is_empty() {
            self.scripts
                .retain_mut(|c| matches!(c.try_wait(), Ok(None)));
        }
        if orphans::count() > 0 {
            orphans::reap();
        }
    }

    /// SMTP alerts for the state changes from now on (None: none).
    pub fn set_alerts(&mut self, alerts: Option<super::alerts::CheckAlerts>) {
        self.alerts = alerts;
    }

    /// IPVS changes since the last call, in order.
    pub fn take_changes(&mut self) -> Vec<Change> {
        self.pending.drain(..).collect()
    }

    /// ha_suspend input: is the VIP of virtual server `vs` here?
    pub fn set_vip_present(&mut self, vs: usize, present: bool) {
        self.input(Input::VipPresent { vs, present });
    }

    /// Virtual servers start (every one at the daemon's start; at a reload, those it
    /// added): as keepalived 2.2.7 and 2.4.3 (seen in the VM), for each virtual server in
    /// config order, the `RS ... UP` notifications of its real servers `rs(vs, rs)`
    /// selects that start alive (`rs_init_notifies`; at a reload, those it added), then,
    /// when `vs(vs)` selects it and its quorum holds, `VS ... UP` and `quorum_up`.
    pub fn start_notifies(
        &mut self,
        rs: impl Fn(usize, usize) -> bool,
        vs: impl Fn(usize) -> bool,
    ) {
        let sizes: Vec<usize> = (self.health().specs().iter())
            .map(|v| v.real_servers.len())
            .collect();
        for (v, n) in sizes.into_iter().enumerate() {
            let which: Vec<(usize, usize)> =
                (0..n).map(|r| (v, r)).filter(|&(v, r)| rs(v, r)).collect();
            if !which.is_empty() {
                self.input(Input::InitNotifies(which));
            }
            if vs(v) {
                self.input(Input::QuorumAtStart(vec![v]));
            }
        }
    }

    /// A reload is about to replace the servers by `next`: the notifications of what
    /// leaves ([`Health::departures`]), written and run now, while the FIFOs of the
    /// config that is leaving are open.
    pub fn depart(&mut self, next: &[VsSpec]) {
        for a in self.health().departures(next) {
            match a {
                StateAction::Fifo(line) => {
                    for f in &mut self.fifos {
                        f.write_line(&line);
                    }
                }
                StateAction::Script(s) => match start_script(&s) {
                    Ok(c) => self.scripts.push(c),
                    Err(e) => log::warn!("cannot run {:?}: {e}", s.args.join(" ")),
                },
                StateAction::Ipvs(_) | StateAction::Suspend { .. } => {}
            }
        }
    }

    /// `ctl real-server disable|enable`: real server `rs` of virtual server `vs`
    /// (keepalived's names) to weight 0 (`drained`) or back. False: no such server.
    pub fn set_drained(&mut self, vs: &str, rs: &str, drained: bool) -> bool {
        let Some((vs, rs)) = self.health().find(vs, rs) else {
            return false;
        };
        self.input(Input::Drain { vs, rs, drained });
        true
    }

    /// Shutdown (`omega` notifications).
    pub fn shutdown(&mut self) {
        self.input(Input::Shutdown);
    }

    /// The SIGUSR1 dump of the checker side, as text.
    pub fn dump_text(&self) -> String {
        dump_text(&self.health().dump(), &self.engine.dump())
    }
}

impl Drop for Runtime {
    /// Notify scripts still running go on (keepalived does not stop them at a reload):
    /// they are handed to [`orphans`] to be reaped when they end.
    fn drop(&mut self) {
        for c in self.scripts.drain(..) {
            orphans::adopt(c, None);
        }
    }
}

/// Text form of the dump (`keepalived_check.data`).
pub fn dump_text(vss: &[VsDump], checks: &[CheckDump]) -> String {
    let mut s = String::from("------< Health checkers >------\n");
    for vs in vss {
        let _ = writeln!(
            s,
            " VS {} quorum {} alive weight {}{}",
            vs.name,
            if vs.quorum_up { "UP" } else { "DOWN" },
            vs.alive_weight,
            if vs.sorry_active {
                ", sorry server active"
            } else {
                ""
            }
        );
        for rs in &vs.real_servers {
            let _ = writeln!(
                s,
                "   RS {} {} weight {} failed checkers {}",
                rs.name,
                if rs.alive { "UP" } else { "DOWN" },
                rs.weight,
                rs.failed_checks
            );
        }
    }
    for c in checks {
        let _ = writeln!(
            s,
            " Checker {} {}: {}{}, retry {}, passed {}, failed {}{}",
            c.check.0,
            c.what,
            if c.up { "UP" } else { "DOWN" },
            if c.suspended { " (suspended)" } else { "" },
            c.retry_it,
            c.passes,
            c.fails,
            c.last_failure
                .as_ref()
                .map(|f| format!(", last failure: {f}"))
                .unwrap_or_default()
        );
    }
    s
}
