//! Trackers fed to the engine: `track_file` (inotify), `track_process` (process events,
//! or a scan of `/proc` every [`PROC_POLL`]) and the track scripts' results.

use super::session::{Session, FILES, PROCS};
use mio::Interest;
use std::path::Path;
use std::time::{Duration, Instant};
use vrrp::linux::proc_events::{self, ProcEvent, ProcEvents};
use vrrp::linux::track_file::{init_file, TrackFiles};
use vrrp::{Action, Input, ProcessTrackers, Timestamp, TrackKind, TrackStatus};

/// How often `/proc` is scanned for `track_process` when the process connector cannot
/// be used (outside the initial network namespace).
pub(super) const PROC_POLL: Duration = Duration::from_secs(1);

impl Session {
    pub(super) fn feed_tracker(&mut self, kind: TrackKind, name: &str, status: TrackStatus) {
        let now = self.now();
        let actions = self
            .engine
            .handle(Input::Tracker { kind, name, status }, now);
        self.execute(actions);
    }

    pub(super) fn setup_files(&mut self) {
        if self.plan.track_files.is_empty() {
            return;
        }
        if self.files.is_none() {
            match TrackFiles::new() {
                Ok(mut f) => {
                    if let Err(e) = self
                        .poll
                        .registry()
                        .register(&mut f, FILES, Interest::READABLE)
                    {
                        log::error!("cannot watch track files: {e}");
                        return;
                    }
                    self.files = Some(f);
                }
                Err(e) => {
                    log::error!("track_file: {e}");
                    return;
                }
            }
        }
        let now = self.now();
        let mut actions = Vec::new();
        for (name, path, init, overwrite) in self.plan.track_files.clone() {
            let Some(files) = &mut self.files else { return };
            if files.value(&name).is_some() {
                continue;
            }
            if let Some(v) = init {
                if let Err(e) = init_file(Path::new(&path), v, overwrite) {
                    log::warn!("track_file {name}: {e}");
                }
            }
            match files.add(&name, Path::new(&path)) {
                Ok(v) => self.engine.handle_into(
                    Input::Tracker {
                        kind: TrackKind::File,
                        name: &name,
                        status: TrackStatus::Value(v),
                    },
                    now,
                    &mut actions,
                ),
                Err(e) => log::warn!("track_file {name}: {e}"),
            }
        }
        self.execute(actions);
    }

    pub(super) fn on_files(&mut self) {
        let Some(files) = &mut self.files else { return };
        let changes = match files.read_events() {
            Ok(c) => c,
            Err(e) => {
                log::warn!("track_file: {e}");
                return;
            }
        };
        for (name, v) in changes {
            log::info!("Track file {name} value now {v}");
            self.feed_tracker(TrackKind::File, &name, TrackStatus::Value(v));
        }
    }

    /// (Re)build the process trackers from the plan, subscribe to process events (or
    /// fall back to polling), scan `/proc` and feed the initial statuses.
    pub(super) fn setup_procs(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let cfgs = self.plan.track_processes.clone();
        if cfgs.is_empty() {
            if let Some(mut ev) = self.proc_events.take() {
                let _ = self.poll.registry().deregister(&mut ev);
            }
            self.procs = ProcessTrackers::default();
            self.proc_poll_at = None;
            return;
        }
        self.procs = ProcessTrackers::new(cfgs);
        let forced_poll = self.options.force_proc_poll;
        if self.proc_events.is_none() && self.proc_poll_at.is_none() && !forced_poll {
            match ProcEvents::open_anywhere() {
                Ok((mut ev, detour)) => {
                    if detour {
                        log::info!(
                            "track_process: process events from the initial network namespace"
                        );
                    }
                    match self
                        .poll
                        .registry()
                        .register(&mut ev, PROCS, Interest::READABLE)
                    {
                        Ok(()) => self.proc_events = Some(ev),
                        Err(e) => log::warn!("track_process: cannot watch process events: {e}"),
                    }
                }
                Err(e) => log::warn!(
                    "track_process: {e}: scanning /proc every {} ms instead",
                    PROC_POLL.as_millis()
                ),
            }
        }
        if self.proc_events.is_none() {
            self.proc_poll_at = Some(Instant::now() + PROC_POLL);
        }
        self.rescan_procs();
        for (name, st) in self.procs.changes(now) {
            log_process(&name, st, self.procs.count(&name));
            self.engine.handle_into(
                Input::Tracker {
                    kind: TrackKind::Process,
                    name: &name,
                    status: st,
                },
                now,
                out,
            );
        }
    }

    pub(super) fn rescan_procs(&mut self) {
        match proc_events::scan(Path::new("/proc"), self.procs.needs_cmdline()) {
            Ok(all) => self.procs.rescan(&all),
            Err(e) => log::warn!("track_process: cannot read /proc: {e}"),
        }
    }

    pub(super) fn on_procs(&mut self) {
        let Some(ev) = &mut self.proc_events else {
            return;
        };
        let mut evs = Vec::new();
        if let Err(e) = ev.read_events(&mut evs) {
            log::warn!("track_process: {e}");
        }
        let cmdline = self.procs.needs_cmdline();
        let root = Path::new("/proc");
        for e in evs {
            match e {
                ProcEvent::Fork { child: pid, .. } => {
                    if let Some(p) = proc_events::read_process(root, pid, cmdline) {
                        self.procs.forked(&p);
                    }
                }
                ProcEvent::Exec { pid } | ProcEvent::Comm { pid, .. } => {
                    match proc_events::read_process(root, pid, cmdline) {
                        Some(p) => self.procs.seen(&p),
                        None => self.procs.exited(pid),
                    }
                }
                ProcEvent::Exit { pid } => self.procs.exited(pid),
                ProcEvent::Overrun => self.rescan_procs(),
            }
        }
        self.feed_proc_changes();
    }

    pub(super) fn feed_proc_changes(&mut self) {
        let now = self.now();
        for (name, st) in self.procs.changes(now) {
            log_process(&name, st, self.procs.count(&name));
            self.feed_tracker(TrackKind::Process, &name, st);
        }
    }
}

fn log_process(name: &str, st: TrackStatus, count: Option<usize>) {
    let n = count.unwrap_or(0);
    match st {
        TrackStatus::Up => log::info!("Quorum gained for tracked process {name} ({n} running)"),
        _ => log::info!("Quorum lost for tracked process {name} ({n} running)"),
    }
}
