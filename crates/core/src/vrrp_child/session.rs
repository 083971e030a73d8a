//! The VRRP child's event loop: the one `mio::Poll` of the process, and the only place
//! it waits. Every input goes to the sans-IO [`vrrp::Engine`] with the time it is handled
//! at; the engine's actions are carried out in `actions.rs`.
//!
//! ```text
//!   parent (IPC) --------+
//!   VRRP sockets --------+
//!   timerfd -------------+                        +--------------+
//!   rtnetlink monitor ---+--> Session::run -----> | vrrp::Engine |  handle(input, now)
//!   track_file inotify --+    (one mio::Poll)     +--------------+
//!   process events ------+          ^                    | actions
//!   script children -----+          |                    v
//!   signalfd ------------+          |           execute: 1. adverts (batched)
//!                                   |                    2. VIPs, GARP/NA
//!                                   |                    3. logs, reports, scripts
//!                                   +-- timerfd armed at the next deadline
//! ```
//!
//! What each input does lives in a file of its own, all `impl Session`:
//!
//! | input or concern                         | file            |
//! |------------------------------------------|-----------------|
//! | the parent: orders, reports, dumps       | `parent.rs`     |
//! | VRRP sockets: adverts in bounded batches | `receive.rs`    |
//! | links, addresses, VMACs, receive sockets | `interfaces.rs` |
//! | `track_file`, `track_process`, scripts   | `trackers.rs`   |
//! | the engine's actions                     | `actions.rs`    |
//! | start errors, static addresses, reload   | `setup.rs`      |
//! | stopping                                 | `stop.rs`       |
//! | rate-limited log lines                   | `ratelog.rs`    |

use super::actions::ACTIONS_KEPT;
use super::map::{self, Plan};
use super::net::{Net, NetError, RecvSocket};
use super::parent::from_vrrp_state;
use super::ratelog::{suppressed, RateLog};
use super::receive::Coalesce;
use super::scripts::Scripts;
use super::setup::{all_vips, take_engine_config, StartError};
use super::trackers::PROC_POLL;
use super::{sched, StartRequest};
use crate::daemon::child::exit;
use ka_proto::ipc::vrrp::{ChildEnd, FromVrrp};
use ka_proto::ipc::RunFlags;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};
use vrrp::linux::netlink::Monitor;
use vrrp::linux::proc_events::ProcEvents;
use vrrp::linux::socket::RecvBatch;
use vrrp::linux::track_file::TrackFiles;
use vrrp::linux::vmac::Vmac;
use vrrp::{
    Action, AddressSet, Engine, Family, Input, ProcessTrackers, Stats, Timestamp, TrackKind,
};

pub(super) const IPC: Token = Token(0);
pub(super) const MONITOR: Token = Token(1);
pub(super) const TIMER: Token = Token(2);
pub(super) const SIGNALS: Token = Token(3);
pub(super) const FILES: Token = Token(4);
pub(super) const PROCS: Token = Token(5);
/// Tokens of the VRRP receive sockets: `SOCKET_BASE + slot`.
pub(super) const SOCKET_BASE: usize = 100;
/// Tokens of script children (`super::scripts`) from here on.
pub(super) const SCRIPT_BASE: usize = 100_000;

/// How a session runs: as the forked child, or in-process on a test's thread. The test
/// hooks are read where they matter (losing the parent, setting up `track_process`),
/// never in the loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// A forked child: SIGTERM/SIGINT/SIGQUIT (blocked since the fork) are read from a
    /// signalfd, and `vrrp_sched` is applied to the process. Off on a test's thread.
    pub forked: bool,
    /// Test hook: losing the parent ends the loop at once without the shutdown (no
    /// priority-0 advert, VIPs left): an in-process SIGKILL.
    pub crash_on_lost_parent: bool,
    /// Test hook: `track_process` polls `/proc`, as it does when the process connector
    /// cannot be reached.
    pub force_proc_poll: bool,
}

impl Options {
    /// The forked VRRP child.
    pub const FORKED: Options = Options {
        forked: true,
        crash_on_lost_parent: false,
        force_proc_poll: false,
    };
}

/// The running VRRP child.
pub struct Session {
    pub(super) ipc: ChildEnd,
    pub(super) poll: Poll,
    pub(super) engine: Engine,
    /// The largest `kernel_rx_buf_size`: all the session keeps of the configuration.
    pub(super) rx_buf: Option<usize>,
    pub(super) plan: Plan,
    /// The I/O settings of the instances a reload removed, while the reload's actions
    /// run (their `DELETED` notifications need their notify scripts).
    pub(super) removed: std::collections::BTreeMap<String, map::InstanceExtra>,
    pub(super) flags: RunFlags,
    pub(super) net: Net,
    pub(super) monitor: Monitor,
    pub(super) timer: TimerFd,
    /// When the timerfd is set to fire (None: disarmed or fired).
    pub(super) armed: Option<Instant>,
    /// SIGTERM/SIGINT/SIGQUIT (blocked since the fork), read here; `None` in-process.
    pub(super) signals: Option<nix::sys::signalfd::SignalFd>,
    pub(super) sockets: Vec<Option<RecvSocket>>,
    pub(super) scripts: Scripts,
    pub(super) alerts: super::alerts::Alerts,
    pub(super) files: Option<TrackFiles>,
    /// `track_process` counts, fed by `proc_events` or, without it, by polling `/proc`.
    pub(super) procs: ProcessTrackers,
    pub(super) proc_events: Option<ProcEvents>,
    pub(super) proc_poll_at: Option<Instant>,
    /// `vrrp_startup_delay` / `vrrp_delay_after_boot`: when the instances start (None:
    /// started).
    pub(super) startup_at: Option<Instant>,
    pub(super) vmacs: Vec<Vmac>,
    /// Accept mode's nftables tables (None: no instance needs them).
    pub(super) firewall: Option<vrrp::linux::nft::Firewall>,
    /// `lvs_sync_daemon`: the IPVS sync daemon following an instance.
    pub(super) lvs_sync: Option<super::lvs_sync::LvsSync>,
    pub(super) origin: Instant,
    /// Link state last fed to the engine, per interface we care about.
    pub(super) link_fed: HashMap<String, bool>,
    /// Interface address last fed, per (interface, family).
    pub(super) addr_fed: HashMap<(String, Family), Option<IpAddr>>,
    /// Receive errors and lower-priority adverts are logged at most a few lines a second
    /// per instance and reason.
    pub(super) ratelog: RateLog,
    /// Sockets left with packets queued after a bounded read (read again after timers).
    pub(super) pending: Vec<usize>,
    /// Real-time scheduling only while the loop's work comes in small pieces.
    pub(super) rt: sched::RtGuard,
    /// Freed memory back to the kernel now and then, when idle.
    pub(super) trimmer: crate::mem::Trimmer,
    /// Reused for the actions of each packet.
    pub(super) actions: Vec<Action>,
    /// STATS_CLEAR baseline.
    pub(super) stats_base: HashMap<String, Stats>,
    /// Changes of state by instance and reason, for the status.
    pub(super) by_reason: super::dump::ByReason,
    /// What the dumps show that the engine does not carry.
    pub(super) dump_facts: super::dump::DumpFacts,
    pub(super) stopping: bool,
    /// Receive buffers (`recvmmsg`), reused for every batch.
    pub(super) batch: RecvBatch,
    /// When to let packets gather before the next wait.
    pub(super) coalesce: Coalesce,
    /// How this session runs (a forked child, or a test's thread).
    pub(super) options: Options,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("instances", &self.engine.instances().count())
            .finish()
    }
}

impl Session {
    /// Set everything up and feed the engine its start (or resume).
    pub fn new(
        ipc: ChildEnd,
        start: StartRequest,
        options: Options,
    ) -> Result<Session, StartError> {
        let StartRequest {
            config,
            flags,
            resume,
        } = start;
        let mut plan = map::plan(&config);
        for w in &plan.warnings {
            log::warn!("{w}");
        }
        let ours = all_vips(&plan);
        let firewall = plan.firewall.take();
        // The engine owns the instances' configuration (one copy, not two: it is most of
        // the memory per instance); the session reads it through `Engine::instances`.
        let engine = Engine::new(take_engine_config(&mut plan)).map_err(StartError::Config)?;
        let poll = Poll::new()?;
        let mut net = Net::open()?;
        let monitor = Monitor::open(None).map_err(NetError::Netlink)?;
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(std::io::Error::from)?;
        ipc.set_nonblocking(true)?;
        let reg = poll.registry();
        reg.register(
            &mut SourceFd(&ipc.as_raw_fd()),
            IPC,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let mut monitor = monitor;
        reg.register(&mut monitor, MONITOR, Interest::READABLE)?;
        reg.register(
            &mut SourceFd(&timer.as_fd().as_raw_fd()),
            TIMER,
            Interest::READABLE,
        )?;
        let signals = if options.forked {
            // Blocked since the fork (see `daemon::child`); SIGINT is not with
            // `--ignore-sigint`, so it is discarded instead of read here.
            let set = crate::daemon::signals::child_stop_set();
            use nix::sys::signalfd::{SfdFlags, SignalFd};
            let s = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
                .map_err(std::io::Error::from)?;
            reg.register(
                &mut SourceFd(&s.as_fd().as_raw_fd()),
                SIGNALS,
                Interest::READABLE,
            )?;
            Some(s)
        } else {
            None
        };
        net.ours = ours;
        net.vips.configure(&config);
        super::route_track::follow_routes(&mut monitor, &net.vips.routes);
        net.configure_pacing(&config);
        let scripts = Scripts::new(&config, &plan, SCRIPT_BASE);
        let alerts = super::alerts::Alerts::new(&config);
        let dump_facts = super::dump::DumpFacts::new(&config, &plan);
        let mut s = Session {
            ipc,
            poll,
            engine,
            rx_buf: map::kernel_rx_buf(&config),
            plan,
            removed: std::collections::BTreeMap::new(),
            flags,
            net,
            monitor,
            timer,
            armed: None,
            signals,
            sockets: Vec::new(),
            scripts,
            alerts,
            files: None,
            procs: ProcessTrackers::default(),
            proc_events: None,
            firewall: None,
            lvs_sync: None,
            proc_poll_at: None,
            startup_at: None,
            vmacs: Vec::new(),
            origin: Instant::now(),
            link_fed: HashMap::new(),
            addr_fed: HashMap::new(),
            ratelog: RateLog::default(),
            pending: Vec::new(),
            rt: sched::RtGuard::new(),
            trimmer: crate::mem::Trimmer::default(),
            actions: Vec::new(),
            stats_base: HashMap::new(),
            by_reason: super::dump::ByReason::default(),
            dump_facts,
            stopping: false,
            batch: RecvBatch::new(),
            coalesce: Coalesce::default(),
            options,
        };
        s.setup_firewall(firewall);
        s.setup_vmacs();
        s.apply_statics(&AddressSet::default());
        s.setup_sockets();
        s.setup_files();
        let now = s.now();
        s.sync_wall_clock(now);
        let mut actions = Vec::new();
        s.feed_links(now, &mut actions);
        s.setup_procs(now, &mut actions);
        for (name, st) in s.scripts.initial() {
            s.engine.handle_into(
                Input::Tracker {
                    kind: TrackKind::Script,
                    name: &name,
                    status: st,
                },
                now,
                &mut actions,
            );
        }
        s.warm_send_sockets();
        for snap in &resume {
            let Some(state) = from_vrrp_state(snap.state) else {
                continue;
            };
            let matches = s
                .engine
                .instance(&snap.name)
                .is_some_and(|i| i.config.vrid == snap.vrid);
            if matches {
                log::info!("({}) resuming {} after a restart", snap.name, snap.state);
                s.engine.handle_into(
                    Input::Resume {
                        instance: &snap.name,
                        state,
                    },
                    now,
                    &mut actions,
                );
            }
        }
        if s.flags.dump_conf {
            // `-d`: the configuration as keepalived 2.4.3's VRRP child logs it at start.
            for line in super::dump::conf_dump(&s.engine, &s.dump_facts).lines() {
                log::info!("{line}");
            }
        }
        let delay = startup_delay(&config.global, uptime());
        if resume.is_empty() && !delay.is_zero() {
            // A respawned child resumes at once: its peers never saw it go.
            log::info!("Delaying startup for {} seconds", delay.as_secs_f64());
            s.startup_at = Some(Instant::now() + delay);
        } else {
            s.engine.handle_into(Input::Startup, now, &mut actions);
        }
        s.execute(actions);
        // A resumed MASTER keeps its addresses without installing them again.
        s.sync_firewall(true);
        s.setup_lvs_sync();
        s.send(&FromVrrp::Ready);
        Ok(s)
    }

    /// Give the engine the wall clock (`auth_hmac` sequences and freshness), at start and
    /// at every timer so a clock step is followed within one advert interval.
    pub(super) fn sync_wall_clock(&mut self, now: Timestamp) {
        if let Ok(wall) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            self.engine.set_wall_clock(wall, now);
        }
    }

    pub(super) fn now(&self) -> Timestamp {
        let us = Instant::now()
            .saturating_duration_since(self.origin)
            .as_micros();
        Timestamp(u64::try_from(us).unwrap_or(u64::MAX))
    }

    pub(super) fn instant_of(&self, t: Timestamp) -> Instant {
        self.origin
            .checked_add(Duration::from_micros(t.0))
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
    }

    /// The earliest time something is due: the engine's timers, scripts, paced GARPs and
    /// process tracking.
    pub(super) fn next_wake(&self, now: Instant) -> Option<Instant> {
        let engine = self.engine.next_deadline().map(|t| self.instant_of(t));
        let paced = self.net.announce_deadline(now);
        let procs = self.procs.next_deadline().map(|t| self.instant_of(t));
        [
            engine,
            self.scripts.next_deadline(),
            paced,
            procs,
            self.proc_poll_at,
            self.startup_at,
            self.lvs_sync.as_ref().and_then(|s| s.retry_at),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// While adverts arrive by the thousand a second, let them gather for a moment before
    /// the next wait rather than waking (real-time, at once) for every few of them; never
    /// past the next deadline, so timers keep their precision.
    pub(super) fn linger(&mut self) {
        let now = Instant::now();
        let next = self.next_wake(now);
        if let Some(d) = self.coalesce.pause(now, next) {
            std::thread::sleep(d);
        }
    }

    pub(super) fn arm_timer(&mut self) -> Option<Duration> {
        let now = Instant::now();
        let next = self.next_wake(now)?;
        let d = next
            .saturating_duration_since(now)
            .max(Duration::from_micros(1));
        // A timer still pending at or before the next deadline is kept: it wakes us early
        // at worst, and the loop re-arms then. On a backup every advert moves the next
        // deadline (the down timer of the instance heard from) later: without this each
        // advert would cost a timerfd_settime.
        let keep = self.armed.is_some_and(|a| a > now && a <= now + d);
        if !keep {
            match self.timer.set(
                Expiration::OneShot(TimeSpec::from_duration(d)),
                TimerSetTimeFlags::empty(),
            ) {
                Ok(()) => self.armed = Some(now + d),
                Err(e) => {
                    self.armed = None;
                    log::warn!("timerfd: {e}");
                }
            }
        }
        // A safety net in case the timerfd misbehaves.
        Some(d + Duration::from_millis(5))
    }

    /// Run until stopped; returns the exit code.
    pub fn run(mut self) -> i32 {
        let mut events = Events::with_capacity(256);
        // The handshake may have read more than `Start` (a `Stop` or `Reload` sent right
        // behind it): those frames sit in the channel's buffer and no readable event will
        // announce them, so handle them now.
        if let Some(code) = self.on_ipc() {
            return code;
        }
        loop {
            let timeout = if self.pending.is_empty() {
                // Before real-time is restored: a trim is not bounded by the burst budget.
                let now = Instant::now();
                self.trimmer.idle(now);
                // About to sleep: real-time again if a burst made us fall back — unless
                // something is already due, so the wait will not sleep: restoring it there
                // would let a loop that keeps finding work run real-time without a pause.
                if self.next_wake(now).is_none_or(|t| t > now) {
                    self.rt.idle();
                }
                self.linger();
                self.arm_timer()
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    // Resumed after a stop (SIGCONT makes epoll_wait fail with EINTR) or
                    // interrupted: wait again and take what is ready first — a stop signal,
                    // adverts queued meanwhile — before any timer that ran out during the
                    // stop. Going on with no events ran those timers first: a resumed
                    // backup took over on a stale timer, then stepped down (or stopped) at
                    // once, and the VIP was on no host for a skew time.
                    continue;
                }
                log::error!("poll: {e}");
                return self.shutdown(exit::FATAL);
            }
            let woke = Instant::now();
            self.rt.woke(timeout != Some(Duration::ZERO));
            for ev in events.iter() {
                match ev.token() {
                    IPC => {
                        if ev.is_writable() {
                            if let Err(e) = self.ipc.flush() {
                                return self.lost_parent(e);
                            }
                        }
                        if ev.is_readable() || ev.is_read_closed() {
                            if let Some(code) = self.on_ipc() {
                                return code;
                            }
                        }
                    }
                    MONITOR => self.on_monitor(),
                    TIMER => {
                        let _ = self.timer.wait();
                        self.armed = None;
                    }
                    SIGNALS => {
                        let mut stop = None;
                        if let Some(s) = &mut self.signals {
                            while let Ok(Some(info)) = s.read_signal() {
                                stop = Some(info.ssi_signo);
                            }
                        }
                        if let Some(sig) = stop {
                            log::info!("Stopping (signal {sig})");
                            return self.shutdown(exit::OK);
                        }
                    }
                    FILES => self.on_files(),
                    PROCS => self.on_procs(),
                    t if t.0 >= SCRIPT_BASE => {
                        let now = Instant::now();
                        if let Some((name, st)) =
                            self.scripts.on_event(self.poll.registry(), t, now)
                        {
                            self.feed_tracker(TrackKind::Script, &name, st);
                        }
                    }
                    t if t.0 >= SOCKET_BASE => {
                        let slot = t.0 - SOCKET_BASE;
                        if !self.pending.contains(&slot) {
                            self.pending.push(slot);
                        }
                    }
                    _ => {}
                }
            }
            // One bounded batch per socket with packets, then the timers: a flood on one
            // socket neither starves the others nor delays an advert.
            let ready = std::mem::take(&mut self.pending);
            for slot in ready {
                if self.on_socket(slot) {
                    self.pending.push(slot);
                }
                self.rt_check();
            }
            self.on_time();
            self.rt_check();
            self.slow_turn(woke);
        }
    }

    /// One turn's work (everything after the wait) is a few bounded batches: far under a
    /// millisecond. When it took longer than [`SLOW_TURN`] the process did not have the CPU
    /// (the kernel, or the host under it, kept it) and every timer is late by as much: say
    /// so, since it is the usual cause of a takeover nobody asked for.
    pub(super) fn slow_turn(&mut self, woke: Instant) {
        let now = Instant::now();
        let took = now.saturating_duration_since(woke);
        if took <= SLOW_TURN {
            return;
        }
        if let Some(n) = self.ratelog.allow("VRRP", "slow turn", now) {
            log::warn!(
                "one turn of the event loop took {} ms: this process did not get the CPU; \
                 adverts and timers were late by as much{}",
                took.as_millis(),
                suppressed(n)
            );
        }
    }

    pub(super) fn rt_check(&mut self) {
        if self.rt.check() {
            let now = Instant::now();
            if let Some(n) = self.ratelog.allow("VRRP", "busy", now) {
                log::info!(
                    "busy for more than half of RLIMIT_RTTIME: normal scheduling until idle \
                     ({} times so far{})",
                    self.rt.fallbacks,
                    suppressed(n)
                );
            }
        }
    }

    pub(super) fn on_time(&mut self) {
        for (inst, reason, n) in self.ratelog.flush(Instant::now()) {
            log::warn!("({inst}) {n} more \"{reason}\" messages suppressed");
        }
        let now = self.now();
        self.sync_wall_clock(now);
        if self.startup_at.is_some_and(|t| t <= Instant::now()) {
            self.startup_at = None;
            log::info!("Delayed start completed");
            let mut actions = Vec::new();
            self.engine.handle_into(Input::Startup, now, &mut actions);
            self.execute(actions);
        }
        if let Some(d) = self.engine.next_deadline().filter(|d| *d <= now) {
            let late = now.saturating_since(d);
            if late > Duration::from_millis(2) {
                log::debug!("timer handled {} µs late", late.as_micros());
            }
            let mut actions = std::mem::take(&mut self.actions);
            self.engine.handle_into(Input::Timer, now, &mut actions);
            self.execute_buf(&mut actions);
            // A burst (every MASTER's advert due at once) is not kept allocated.
            actions.shrink_to(ACTIONS_KEPT);
            self.actions = actions;
        }
        let inow = Instant::now();
        for e in self.net.send_due(inow) {
            log::warn!("paced GARP/NA: {e}");
        }
        if self.proc_poll_at.is_some_and(|t| t <= inow) {
            self.proc_poll_at = Some(inow + PROC_POLL);
            self.rescan_procs();
        }
        if !self.procs.is_empty() {
            self.feed_proc_changes();
        }
        self.lvs_sync_due(inow);
        self.scripts.expire(inow);
        let changes = self.scripts.run_due(self.poll.registry(), inow);
        for (name, st) in changes {
            self.feed_tracker(TrackKind::Script, &name, st);
        }
    }
}

/// A turn of the event loop (after its wait) longer than this is reported.
pub(super) const SLOW_TURN: Duration = Duration::from_millis(250);

/// How long the instances wait before they start: the longer of `vrrp_startup_delay` and
/// what is left of `vrrp_delay_after_boot` since the system booted (`uptime`).
pub(super) fn startup_delay(g: &ka_proto::config::GlobalDefs, uptime: Duration) -> Duration {
    g.vrrp_startup_delay
        .max(g.vrrp_delay_after_boot.saturating_sub(uptime))
}

/// Time since boot (CLOCK_BOOTTIME, as /proc/uptime counts it).
fn uptime() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
        .map(|t| {
            Duration::new(
                t.tv_sec().max(0) as u64,
                t.tv_nsec().clamp(0, 999_999_999) as u32,
            )
        })
        .unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod startup_delay_tests {
    use super::*;

    #[test]
    fn the_longer_of_the_two_delays_counts() {
        let mut g = ka_proto::config::GlobalDefs::default();
        assert_eq!(startup_delay(&g, Duration::from_secs(100)), Duration::ZERO);
        g.vrrp_startup_delay = Duration::from_secs(3);
        assert_eq!(
            startup_delay(&g, Duration::from_secs(100)),
            Duration::from_secs(3)
        );
        g.vrrp_delay_after_boot = Duration::from_secs(110);
        assert_eq!(
            startup_delay(&g, Duration::from_secs(100)),
            Duration::from_secs(10)
        );
        // Long after boot, only vrrp_startup_delay is left.
        assert_eq!(
            startup_delay(&g, Duration::from_secs(1000)),
            Duration::from_secs(3)
        );
    }
}
