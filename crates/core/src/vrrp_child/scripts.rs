//! Scripts of the VRRP child: `vrrp_script` trackers run at their interval (never blocking
//! the loop, killed at their timeout), notify scripts and the notify FIFO.

use super::map::{script_timeout, Plan};
use ka_proto::config::{Config, Notify, Script, VrrpScript};
use std::path::Path;
use std::time::Instant;
use vrrp::linux::notify::{notify_spec, NotifyFifo, NotifyKind};
use vrrp::linux::script::{
    resolve_user, script_security, script_user, Finished, Runner, ScriptSpec, ScriptStatus,
    ScriptTracker,
};
use vrrp::{NotifyState, TrackStatus};

/// Tags at or above this are notify scripts; below, the index of a tracked script.
const NOTIFY_TAG: u64 = 1 << 32;
/// The tag of the notify FIFO's reader (`vrrp_notify_fifo_script`), above every notify
/// script's (those stay below `NOTIFY_TAG | 0xffff_ffff`).
const FIFO_READER_TAG: u64 = u64::MAX;

#[derive(Debug)]
struct Tracked {
    name: String,
    def: VrrpScript,
    spec: Option<ScriptSpec>,
    tracker: ScriptTracker,
}

/// How scripts run: the user and the security check.
#[derive(Debug, Clone)]
struct Policy {
    /// `script_user`, when it resolves.
    script_user: Option<(String, Option<String>)>,
    security: bool,
}

impl Policy {
    fn from_config(cfg: &Config) -> Policy {
        let script_user =
            cfg.global
                .script_user
                .clone()
                .filter(|(u, g)| match resolve_user(u, g.as_deref()) {
                    Ok(_) => true,
                    Err(e) => {
                        log::warn!("script_user: {e} - using the default");
                        false
                    }
                });
        Policy {
            script_user,
            security: cfg.global.enable_script_security,
        }
    }

    /// The spec to run `script` with, or why it cannot run.
    fn spec(&self, script: &Script) -> Result<ScriptSpec, String> {
        let argv = script.args.clone();
        let program = argv.first().ok_or("empty script")?.clone();
        let own = script.user.as_deref().map(|u| (u, script.group.as_deref()));
        let global = self
            .script_user
            .as_ref()
            .map(|(u, g)| (u.as_str(), g.as_deref()));
        let user = script_user(own, global).map_err(|e| e.to_string())?;
        if self.security {
            script_security(&program, user).map_err(|e| e.to_string())?;
        }
        Ok(ScriptSpec {
            argv,
            user,
            timeout: None,
        })
    }
}

/// Script trackers, notify scripts and the notify FIFO.
#[derive(Debug)]
pub struct Scripts {
    runner: Runner,
    tracked: Vec<Tracked>,
    /// `vrrp_notify_fifo` and the global `notify_fifo`: keepalived writes every line to
    /// both (observed with 2.4.3). Given the same path, 2.4.3 writes each line twice;
    /// we write it once.
    fifos: Vec<NotifyFifo>,
    policy: Policy,
    notify_seq: u64,
    /// `vrrp_notify_fifo_script` (or `notify_fifo_script`) and the FIFO it reads.
    reader: Option<(Script, String)>,
    /// The reader is to be started at the next [`Scripts::run_due`].
    reader_due: bool,
}

/// The log line of a tracked script that failed, in keepalived's words:
/// `VRRP_Script(chk) failed (exited with status 1)`.
fn failed_line(name: &str, outcome: vrrp::linux::script::Outcome) -> String {
    format!("VRRP_Script({name}) failed ({outcome})")
}

fn to_track(s: ScriptStatus) -> TrackStatus {
    match s {
        ScriptStatus::Unknown => TrackStatus::Unknown,
        ScriptStatus::Up => TrackStatus::Up,
        ScriptStatus::Down => TrackStatus::Down,
    }
}

impl Scripts {
    /// Scripts for `plan`, using mio tokens from `first_token` on (see [`Scripts::owns`]).
    pub fn new(cfg: &Config, plan: &Plan, first_token: usize) -> Scripts {
        let mut s = Scripts {
            runner: Runner::new(first_token, 256),
            tracked: Vec::new(),
            fifos: Vec::new(),
            policy: Policy::from_config(cfg),
            notify_seq: 0,
            reader: None,
            reader_due: false,
        };
        s.configure(cfg, plan);
        s
    }

    /// Apply a (new) configuration: trackers that keep their name keep their state.
    pub fn configure(&mut self, cfg: &Config, plan: &Plan) {
        self.policy = Policy::from_config(cfg);
        let mut old = std::mem::take(&mut self.tracked);
        for def in &plan.scripts {
            let spec = match self.policy.spec(&def.script) {
                Ok(mut s) => {
                    s.timeout = Some(script_timeout(def));
                    Some(s)
                }
                Err(e) => {
                    log::warn!("Disabling track script {} - {e}", def.name);
                    None
                }
            };
            let tracker = match old.iter().position(|t| t.name == def.name) {
                Some(i) if old[i].def == *def => old.swap_remove(i).tracker,
                _ => ScriptTracker::new(def.interval, def.rise, def.fall, def.init_fail),
            };
            self.tracked.push(Tracked {
                name: def.name.clone(),
                def: def.clone(),
                spec,
                tracker,
            });
        }
        let fifo_cfg = cfg
            .global
            .vrrp_notify_fifo
            .as_ref()
            .or(cfg.global.notify_fifo.as_ref());
        self.fifos.clear();
        let both = [&cfg.global.vrrp_notify_fifo, &cfg.global.notify_fifo];
        let mut paths: Vec<&str> = both
            .iter()
            .filter_map(|f| f.as_ref())
            .map(|f| f.path.as_str())
            .collect();
        paths.dedup();
        for path in paths {
            match NotifyFifo::open(Path::new(path)) {
                Ok(x) => self.fifos.push(x),
                Err(e) => log::warn!("notify_fifo: {e}"),
            }
        }
        // The FIFO's reader, as keepalived: started with the FIFO's path as its last
        // argument; a new or changed one replaces the old one (SIGTERM), an unchanged one
        // keeps running.
        let reader = fifo_cfg.and_then(|f| f.script.clone().map(|s| (s, f.path.clone())));
        if reader != self.reader || !self.runner.has(FIFO_READER_TAG) {
            self.runner
                .signal(FIFO_READER_TAG, nix::sys::signal::Signal::SIGTERM);
            self.reader_due = reader.is_some();
            self.reader = reader;
        }
    }

    /// Start the notify FIFO's reader if it is due (once per configuration).
    fn start_reader(&mut self, registry: &mio::Registry, now: Instant) {
        if !self.reader_due || self.runner.has(FIFO_READER_TAG) {
            return;
        }
        self.reader_due = false;
        let Some((script, path)) = &self.reader else {
            return;
        };
        match self.policy.spec(script) {
            Ok(mut spec) => {
                spec.argv.push(path.clone());
                if let Err(e) = self.runner.spawn(registry, &spec, FIFO_READER_TAG, now) {
                    log::warn!("vrrp notify fifo script {}: {e}", script.command_line());
                }
            }
            Err(e) => log::warn!("vrrp notify fifo script not run: {e}"),
        }
    }

    /// The status every tracker starts with (`init_fail` ones are down).
    pub fn initial(&self) -> Vec<(String, TrackStatus)> {
        self.tracked
            .iter()
            .map(|t| (t.name.clone(), to_track(t.tracker.status())))
            .collect()
    }

    /// Is `token` a script's?
    pub fn owns(&self, token: mio::Token) -> bool {
        self.runner.owns(token)
    }

    /// Start every script that is due. Returns status changes (scripts that could not
    /// start count as failed).
    pub fn run_due(
        &mut self,
        registry: &mio::Registry,
        now: Instant,
    ) -> Vec<(String, TrackStatus)> {
        self.start_reader(registry, now);
        let mut changes = Vec::new();
        for (i, t) in self.tracked.iter_mut().enumerate() {
            if !t.tracker.due(now) {
                continue;
            }
            let Some(spec) = &t.spec else {
                if let Some(s) = t.tracker.spawn_failed(now) {
                    changes.push((t.name.clone(), to_track(s)));
                }
                continue;
            };
            match self.runner.spawn(registry, spec, i as u64, now) {
                Ok(_) => t.tracker.started(now),
                Err(e) => {
                    log::warn!("cannot run track script {}: {e}", t.name);
                    if let Some(s) = t.tracker.spawn_failed(now) {
                        changes.push((t.name.clone(), to_track(s)));
                    }
                }
            }
        }
        changes
    }

    /// A script's process ended: returns a tracker's status change, if any.
    pub fn on_event(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        now: Instant,
    ) -> Option<(String, TrackStatus)> {
        let Finished { tag, outcome, .. } = self.runner.handle(registry, token, now)?;
        if tag == FIFO_READER_TAG {
            log::info!("vrrp notify fifo script terminated");
            return None;
        }
        if tag >= NOTIFY_TAG {
            return None;
        }
        let t = self.tracked.get_mut(usize::try_from(tag).ok()?)?;
        if let vrrp::linux::script::Outcome::TimedOut = outcome {
            log::info!("Script `{}` now timed out", t.name);
        }
        let s = t.tracker.finished(outcome)?;
        match s {
            ScriptStatus::Up => log::info!("Script `{}` now returning 0", t.name),
            ScriptStatus::Down => log::info!("{}", failed_line(&t.name, outcome)),
            ScriptStatus::Unknown => {}
        }
        Some((t.name.clone(), to_track(s)))
    }

    /// The next time something must happen (a script due, a timeout to enforce).
    pub fn next_deadline(&self) -> Option<Instant> {
        let due = self
            .tracked
            .iter()
            .filter_map(|t| t.tracker.next_run())
            .min();
        [due, self.runner.next_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Kill scripts past their timeout.
    pub fn expire(&mut self, now: Instant) {
        self.runner.expire(now);
    }

    /// Run the notify scripts and write the FIFO line for one state change.
    pub fn notify(
        &mut self,
        registry: &mio::Registry,
        kind: NotifyKind,
        name: &str,
        state: NotifyState,
        priority: u8,
        n: Option<&Notify>,
    ) {
        // An instance removed by a reload is reported as FAULT (and runs no
        // `notify_fault`) unless it has `notify_deleted`, as keepalived 2.4.3 and 2.2.7 do.
        let deleted_as_fault =
            state == NotifyState::Deleted && !n.is_some_and(|n| n.notify_deleted);
        let word = if deleted_as_fault {
            NotifyState::Fault.as_str()
        } else {
            state.as_str()
        };
        for f in &mut self.fifos {
            if let Err(e) = f.notify(kind, name, word, priority) {
                log::warn!("{e}");
            }
        }
        let Some(n) = n else { return };
        let specific = match state {
            NotifyState::Master => n.master.as_ref(),
            NotifyState::Backup => n.backup.as_ref(),
            NotifyState::Fault => n.fault.as_ref(),
            NotifyState::Stop => n.stop.as_ref(),
            NotifyState::Deleted if deleted_as_fault => None,
            NotifyState::Deleted => n.deleted.as_ref(),
        };
        let mut run = Vec::new();
        if let Some(s) = specific {
            match self.policy.spec(s) {
                Ok(spec) => run.push(spec),
                Err(e) => log::warn!("({name}) notify script not run: {e}"),
            }
        }
        if let Some(s) = &n.notify {
            match self.policy.spec(s) {
                Ok(spec) => run.push(notify_spec(&spec, kind, name, word, priority)),
                Err(e) => log::warn!("({name}) notify script not run: {e}"),
            }
        }
        for spec in run {
            self.notify_seq = self.notify_seq.wrapping_add(1) & 0xffff_ffff;
            let tag = NOTIFY_TAG | self.notify_seq;
            if let Err(e) = self.runner.spawn(registry, &spec, tag, Instant::now()) {
                log::warn!("({name}) cannot run notify script: {e}");
            }
        }
    }

    /// A priority change (`notify_priority_changes`): the notify FIFO's
    /// `MASTER_PRIORITY` / `BACKUP_PRIORITY` line; no script runs (keepalived 2.4.3).
    pub fn notify_priority(&mut self, name: &str, master: bool, priority: u8) {
        let word = vrrp::linux::notify::priority_word(master);
        self.fifo_only(NotifyKind::Instance, name, word, priority);
    }

    /// A FIFO line and nothing else (no script runs).
    pub fn fifo_only(&mut self, kind: NotifyKind, name: &str, word: &str, priority: u8) {
        for f in &mut self.fifos {
            if let Err(e) = f.notify(kind, name, word, priority) {
                log::warn!("{e}");
            }
        }
    }

    /// Run one script as written (`notify_master_rx_lower_pri`), without waiting for it.
    pub fn run_plain(&mut self, registry: &mio::Registry, who: &str, script: &Script) {
        match self.policy.spec(script) {
            Ok(spec) => {
                self.notify_seq = self.notify_seq.wrapping_add(1) & 0xffff_ffff;
                let tag = NOTIFY_TAG | self.notify_seq;
                if let Err(e) = self.runner.spawn(registry, &spec, tag, Instant::now()) {
                    log::warn!("({who}) cannot run script: {e}");
                }
            }
            Err(e) => log::warn!("({who}) script not run: {e}"),
        }
    }

    /// Number of script processes still running (the FIFO reader, which runs for good,
    /// not counted).
    pub fn running(&self) -> usize {
        self.runner
            .running()
            .saturating_sub(usize::from(self.runner.has(FIFO_READER_TAG)))
    }

    /// Kill every running script (shutdown); the FIFO reader is asked first (SIGTERM).
    pub fn kill_all(&mut self, registry: &mio::Registry) {
        if self
            .runner
            .signal(FIFO_READER_TAG, nix::sys::signal::Signal::SIGTERM)
        {
            log::info!("vrrp notify fifo script terminated");
        }
        self.runner.kill_all(registry);
    }

    /// Names and statuses, for dumps.
    /// Each tracked script's status and whether a run of it is under way, by name.
    pub fn states(&self) -> std::collections::HashMap<String, (TrackStatus, bool)> {
        self.tracked
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    (to_track(t.tracker.status()), t.tracker.is_running()),
                )
            })
            .collect()
    }

    pub fn statuses(&self) -> Vec<(String, String, TrackStatus)> {
        self.tracked
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    t.def.script.command_line(),
                    to_track(t.tracker.status()),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instance `VI_1` notified MASTER at priority 100.
    fn notify_master(s: &mut Scripts, poll: &mio::Poll) {
        s.notify(
            poll.registry(),
            NotifyKind::Instance,
            "VI_1",
            NotifyState::Master,
            100,
            None,
        );
    }

    #[test]
    fn failed_script_lines_use_keepalived_words_not_debug() {
        use vrrp::linux::script::Outcome;
        assert_eq!(
            failed_line("chk_nginx", Outcome::Exited(1)),
            "VRRP_Script(chk_nginx) failed (exited with status 1)"
        );
        assert_eq!(
            failed_line("chk", Outcome::Signaled(9)),
            "VRRP_Script(chk) failed (due to signal 9)"
        );
        assert_eq!(
            failed_line("chk", Outcome::TimedOut),
            "VRRP_Script(chk) failed (timed out)"
        );
    }

    /// keepalived 2.4.3 (observed) writes every VRRP line to both `vrrp_notify_fifo` and
    /// the global `notify_fifo`; a path given twice gets each line once (2.4.3: twice).
    #[test]
    fn lines_go_to_both_the_vrrp_and_the_global_fifo() {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = std::env::temp_dir().join(format!("ka-2fifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let fifo = |name: &str| {
            Some(ka_proto::config::global::NotifyFifo {
                path: dir.join(name).display().to_string(),
                script: None,
            })
        };
        let read_all = |f: &mut std::fs::File| {
            let mut buf = [0u8; 4096];
            let n = f.read(&mut buf).unwrap_or(0);
            String::from_utf8_lossy(&buf[..n]).to_string()
        };
        let open = |name: &str| {
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(dir.join(name))
                .expect("open fifo")
        };
        let poll = mio::Poll::new().expect("poll");
        let mut cfg = Config::default();
        cfg.global.vrrp_notify_fifo = fifo("vrrp");
        cfg.global.notify_fifo = fifo("global");
        let mut s = Scripts::new(&cfg, &Plan::default(), 1000);
        let (mut v, mut g) = (open("vrrp"), open("global"));
        notify_master(&mut s, &poll);
        s.notify_priority("VI_1", true, 105);
        let want = "INSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" MASTER_PRIORITY 105\n";
        assert_eq!(read_all(&mut v), want);
        assert_eq!(read_all(&mut g), want);
        cfg.global.notify_fifo = fifo("vrrp");
        s.configure(&cfg, &Plan::default());
        s.notify_priority("VI_1", false, 99);
        assert_eq!(read_all(&mut v), "INSTANCE \"VI_1\" BACKUP_PRIORITY 99\n");
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `vrrp_notify_fifo_script` runs, as keepalived's, with the FIFO's path as its last
    /// argument and reads what the FIFO gets; it is not counted among the scripts a stop
    /// waits for, and is stopped with the rest. (It was never started before.)
    #[test]
    fn the_notify_fifo_reader_runs_and_reads_the_fifo() {
        use std::os::unix::fs::PermissionsExt;
        use std::time::Duration;
        let dir = std::env::temp_dir().join(format!("ka-vfifo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let reader = dir.join("reader.sh");
        std::fs::write(
            &reader,
            format!(
                "#!/bin/sh\necho \"$@\" > {d}/args.tmp && mv {d}/args.tmp {d}/args\n\
                 while read l; do echo \"$l\" >> {d}/lines; done < \"$1\"\n",
                d = dir.display()
            ),
        )
        .expect("write");
        std::fs::set_permissions(&reader, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let fifo = dir.join("fifo").display().to_string();
        let mut cfg = Config::default();
        cfg.global.vrrp_notify_fifo = Some(ka_proto::config::global::NotifyFifo {
            path: fifo.clone(),
            script: Some(Script {
                args: vec![reader.display().to_string()],
                user: None,
                group: None,
            }),
        });
        let poll = mio::Poll::new().expect("poll");
        let mut s = Scripts::new(&cfg, &Plan::default(), 1000);
        s.run_due(poll.registry(), Instant::now());
        let wait = |what: &str, ok: &dyn Fn() -> bool| {
            let end = Instant::now() + Duration::from_secs(5);
            while !ok() {
                assert!(Instant::now() < end, "{what}");
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        wait("the reader did not start", &|| dir.join("args").exists());
        let args = std::fs::read_to_string(dir.join("args")).expect("args");
        assert_eq!(args.trim(), fifo);
        assert_eq!(
            s.running(),
            0,
            "the reader is not a script a stop waits for"
        );
        notify_master(&mut s, &poll);
        let lines = dir.join("lines");
        wait("the reader got no line", &|| {
            std::fs::read_to_string(&lines).is_ok_and(|l| l.contains("VI_1"))
        });
        assert_eq!(
            std::fs::read_to_string(&lines).expect("lines").trim(),
            "INSTANCE \"VI_1\" MASTER 100"
        );
        // A reload with the same reader keeps it; stop ends it.
        s.configure(&cfg, &Plan::default());
        s.run_due(poll.registry(), Instant::now());
        assert!(s.runner.has(FIFO_READER_TAG));
        s.kill_all(poll.registry());
        assert!(!s.runner.has(FIFO_READER_TAG));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
