//! The checker child's health side, put together: the [`Engine`] (checks on one mio
//! loop), the [`Health`] state (what results do), notify/quorum scripts (spawned, reaped
//! without blocking) and `lvs_notify_fifo` lines (written non-blocking). What it hands
//! back are the [`Change`]s for the IPVS reconciler.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ka_proto::config::Script;
use mio::Token;

use crate::engine::{CheckDump, Engine, EngineError};
use crate::from_config::Checks;
use crate::state::{Action, Change, Health, VsDump};

/// The health side of the checker child.
pub struct Runtime {
    engine: Engine,
    health: Health,
    fifo: Option<Fifo>,
    scripts: Vec<Child>,
    pending: VecDeque<Change>,
}

/// `lvs_notify_fifo`: opened when a reader is there, lines dropped (and logged) when the
/// reader is gone or too slow — the loop never waits on it.
struct Fifo {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl Fifo {
    fn write_line(&mut self, line: &str) {
        if self.file.is_none() {
            self.file = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.path)
                .map_err(|e| log::debug!("lvs_notify_fifo {}: {e}", self.path.display()))
                .ok();
        }
        let Some(f) = self.file.as_mut() else {
            return;
        };
        let mut buf = line.as_bytes().to_vec();
        buf.push(b'\n');
        if let Err(e) = f.write_all(&buf) {
            log::warn!("lvs_notify_fifo {}: line dropped: {e}", self.path.display());
            if e.kind() != io::ErrorKind::WouldBlock {
                self.file = None;
            }
        }
    }
}

fn spawn_script(s: &Script) -> io::Result<Child> {
    let Some((prog, args)) = s.args.split_first() else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty script"));
    };
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .env_remove("LD_PRELOAD")
        .env_remove("LD_LIBRARY_PATH");
    if let Some(u) = &s.user {
        if let Ok(Some(user)) = nix::unistd::User::from_name(u) {
            let gid = s
                .group
                .as_deref()
                .and_then(|g| nix::unistd::Group::from_name(g).ok().flatten())
                .map_or(user.gid.as_raw(), |g| g.gid.as_raw());
            cmd.uid(user.uid.as_raw()).gid(gid);
        } else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no user {u}"),
            ));
        }
    }
    cmd.spawn()
}

impl Runtime {
    /// Build from mapped config. The initial table comes out of the first
    /// [`Runtime::take_changes`].
    pub fn new(checks: Checks, lvs_notify_fifo: Option<PathBuf>) -> Result<Runtime, EngineError> {
        for issue in &checks.issues {
            log::warn!("{issue}");
        }
        let engine = Engine::new(checks.specs, &checks.ssl)?;
        let (health, actions) = Health::new(checks.virtual_servers);
        let mut rt = Runtime {
            engine,
            health,
            fifo: lvs_notify_fifo.map(|path| Fifo { path, file: None }),
            scripts: Vec::new(),
            pending: VecDeque::new(),
        };
        rt.apply(actions);
        Ok(rt)
    }

    /// The engine (to register the caller's fds: tokens >= `EXTERNAL_TOKEN_BASE`).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The health state.
    pub fn health(&self) -> &Health {
        &self.health
    }

    fn apply(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Ipvs(c) => self.pending.push_back(c),
                Action::Script(s) => match spawn_script(&s) {
                    Ok(c) => self.scripts.push(c),
                    Err(e) => log::warn!("cannot run {:?}: {e}", s.args.join(" ")),
                },
                Action::Fifo(line) => {
                    if let Some(f) = self.fifo.as_mut() {
                        f.write_line(&line);
                    }
                }
                Action::Suspend { check, suspended } => self.engine.set_suspended(check, suspended),
            }
        }
    }

    /// One turn: checks run, results applied. Returns the caller's ready tokens.
    pub fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<Vec<Token>> {
        let wait = if self.scripts.is_empty() {
            max_wait
        } else {
            Some(max_wait.map_or(Duration::from_millis(100), |m| {
                m.min(Duration::from_millis(100))
            }))
        };
        let ext = self.engine.turn(wait)?;
        for r in self.engine.take_reports() {
            let actions = self.health.on_report(&r);
            self.apply(actions);
        }
        self.scripts
            .retain_mut(|c| matches!(c.try_wait(), Ok(None)));
        Ok(ext)
    }

    /// IPVS changes since the last call, in order.
    pub fn take_changes(&mut self) -> Vec<Change> {
        self.pending.drain(..).collect()
    }

    /// ha_suspend input: is the VIP of virtual server `vs` here?
    pub fn set_vip_present(&mut self, vs: usize, present: bool) {
        let a = self.health.set_vip_present(vs, present);
        self.apply(a);
    }

    /// Shutdown (`omega` notifications).
    pub fn shutdown(&mut self) {
        let a = self.health.shutdown();
        self.apply(a);
    }

    /// The SIGUSR1 dump of the checker side, as text.
    pub fn dump_text(&self) -> String {
        dump_text(&self.health.dump(), &self.engine.dump())
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
