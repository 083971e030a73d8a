//! The checker child's session: the one loop of the process, owning its only [`Poll`].
//!
//! ```text
//!   parent --IPC channel (Token 0)----+
//!   SIGTERM/INT/QUIT --signalfd (1)---+       +-------------- Session::run ---------------+
//!   checks' sockets, pidfds, inotify -+-Poll->| 1. checks: Runtime::on_ready, run_due     |
//!     (tokens >= 0xffff, Engine::owns)        |    Engine -> Scheduler::handle (checks,   |
//!   next check deadline -------timeout------->|    servers) -> scripts, FIFO, IPVS, mails |
//!                                             | 2. stop signal  -> stop                   |
//!                                             | 3. IPC: Start / Reload / Dump / Stop /    |
//!                                             |    VrrpInstance (ha_suspend) / Ping       |
//!                                             | 4. ha_suspend + FIFO readers (1 s)        |
//!                                             | 5. IPVS by difference, ServiceState (a    |
//!                                             |    virtual server's is its quorum)        |
//!                                             +-------------------------------------------+
//! ```
//! The checks come first in a turn: IPC may replace them (a reload builds a new
//! [`Runtime`] on the same poll, so no event of the old checks is handed to the new ones).
//! The channel and the signals are registered once, for the session's life.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use ka_proto::config::Config;
use ka_proto::ipc::checker::{ChildEnd, FromChecker, ToChecker};
use ka_proto::ipc::{ChannelError, DumpKind, Role, RunFlags, ServiceSnapshot};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};

use super::runtime::Runtime;
use ka_check::engine::Engine;
use ka_check::from_config::{from_config, ha_suspend_addresses, in_ranges, AddrRange, Checks};
use ka_check::probe::Ready;
use ka_check::process::orphans;
use ka_check::spec::SslConfig;

use super::effective::{carry_over, check_states, effective_config};
use super::exit;
use super::fifos::NotifyFifos;
use super::ipvs::{Ipvs, Pass};
use super::{dump, sched};

/// The session's own sources: below the checks' tokens ([`Engine::owns`]).
const IPC: Token = Token(0);
const SIGNALS: Token = Token(1);

/// SIGTERM, SIGINT and SIGQUIT: a full stop (as `Stop`).
fn stop_signals() -> nix::sys::signal::SigSet {
    use nix::sys::signal::Signal;
    let mut set = nix::sys::signal::SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT] {
        set.add(s);
    }
    set
}

/// Forked by the parent (which blocks SIGTERM in its children) rather than run in-process.
pub(super) fn stop_signals_blocked() -> bool {
    nix::sys::signal::SigSet::thread_get_mask()
        .is_ok_and(|m| m.contains(nix::sys::signal::Signal::SIGTERM))
}

/// The stop signals as a signalfd, when the parent forked this child with them blocked
/// (it does, so that none can kill the child by its default action and leave the IPVS
/// topology behind). `None` when run in-process (tests), where they are not blocked.
fn stop_signalfd() -> Option<nix::sys::signalfd::SignalFd> {
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    if !stop_signals_blocked() {
        return None;
    }
    match SignalFd::with_flags(
        &stop_signals(),
        SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC,
    ) {
        Ok(fd) => Some(fd),
        Err(e) => {
            log::error!("signalfd: {e}");
            None
        }
    }
}

/// What to do after a message.
pub(super) enum Flow {
    Continue,
    Exit(i32),
}

/// A virtual server (`real_server` None) or a real server, by keepalived's names.
type ServiceKey = (String, Option<String>);

pub(super) struct Session {
    /// The only poll of the process: the IPC channel, the stop signals and every check.
    poll: Poll,
    events: Events,
    /// This turn's events (kept between turns so no turn allocates).
    ready: Vec<(Token, Ready)>,
    ipc: ChildEnd,
    /// SIGTERM/SIGINT/SIGQUIT (see [`stop_signalfd`]).
    signals: Option<nix::sys::signalfd::SignalFd>,
    rt: Runtime,
    config: Option<Box<Config>>,
    flags: RunFlags,
    ipvs: Option<Ipvs>,
    reported: HashMap<ServiceKey, bool>,
    reloads: u32,
    /// `notify_fifo` and `lvs_notify_fifo`, with their readers.
    fifos: NotifyFifos,
    /// When `ha_suspend` and the FIFO readers were last looked at (it is also polled: the VIP can come and go
    /// without a VRRP state change, e.g. an address added by hand).
    suspend_checked: Instant,
    /// A virtual server uses `ha_suspend` (set with each config).
    any_suspend: bool,
    /// The last `ha_suspend` verdict per virtual server (to log changes).
    vip_here: HashMap<usize, bool>,
    /// Real servers disabled by `ctl real-server disable` (virtual, real server names):
    /// disabled again in the runtime a reload builds.
    drained: std::collections::BTreeSet<(String, String)>,
}

/// How often `ha_suspend` virtual servers look for their address (and FIFO readers are
/// checked).
const SUSPEND_POLL: Duration = Duration::from_secs(1);

fn empty_runtime(registry: &Registry) -> Result<Runtime, i32> {
    let none = Checks {
        specs: Vec::new(),
        virtual_servers: Vec::new(),
        ssl: SslConfig::default(),
        issues: Vec::new(),
    };
    Runtime::attached(none, Vec::new(), registry).map_err(|e| {
        log::error!("checker loop: {e}");
        exit::FATAL
    })
}

/// `checker_priority`, `checker_rt_priority`, ...: failures are logged, not fatal.
fn apply_sched(config: &Config) {
    for e in sched::apply(&config.global.checker_sched) {
        log::warn!("{e}");
    }
}

/// `rs_init_notifies` (global_defs), typed when the configuration was read.
fn rs_init_notifies(config: &Config) -> bool {
    config.global.rs_init_notifies
}

/// The addresses on this host's (network namespace's) interfaces.
fn local_addresses() -> Vec<IpAddr> {
    match nix::ifaddrs::getifaddrs() {
        Ok(list) => list
            .filter_map(|i| {
                let a = i.address?;
                if let Some(v4) = a.as_sockaddr_in() {
                    Some(IpAddr::V4(v4.ip()))
                } else {
                    a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
                }
            })
            .collect(),
        Err(e) => {
            log::warn!("ha_suspend: cannot list the local addresses: {e}");
            Vec::new()
        }
    }
}

impl Session {
    /// The poll, with the IPC channel and the stop signals registered once for the
    /// session's life, and no check yet.
    pub(super) fn open(ipc: ChildEnd) -> Result<Session, i32> {
        let poll = Poll::new().map_err(|e| {
            log::error!("cannot create the event loop: {e}");
            exit::FATAL
        })?;
        let rt = empty_runtime(poll.registry())?;
        let s = Session {
            poll,
            events: Events::with_capacity(1024),
            ready: Vec::new(),
            ipc,
            signals: stop_signalfd(),
            rt,
            config: None,
            flags: RunFlags::default(),
            ipvs: None,
            reported: HashMap::new(),
            reloads: 0,
            fifos: NotifyFifos::default(),
            suspend_checked: Instant::now(),
            any_suspend: false,
            vip_here: HashMap::new(),
            drained: Default::default(),
        };
        s.register().map_err(|e| {
            log::error!("IPC: cannot watch the channel: {e}");
            exit::FATAL
        })?;
        Ok(s)
    }

    fn register(&self) -> std::io::Result<()> {
        let registry = self.poll.registry();
        registry.register(
            &mut SourceFd(&self.ipc.as_raw_fd()),
            IPC,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        if let Some(s) = &self.signals {
            use std::os::fd::AsFd;
            registry.register(
                &mut SourceFd(&s.as_fd().as_raw_fd()),
                SIGNALS,
                Interest::READABLE,
            )?;
        }
        Ok(())
    }

    /// A stop signal arrived: the full stop `Stop` does.
    fn on_signals(&mut self) -> Flow {
        let mut got = None;
        if let Some(s) = &mut self.signals {
            while let Ok(Some(info)) = s.read_signal() {
                got = Some(info.ssi_signo);
            }
        }
        match got {
            Some(sig) => {
                log::info!("Stopping (signal {sig})");
                self.stop();
                Flow::Exit(exit::OK)
            }
            None => Flow::Continue,
        }
    }

    pub(super) fn send(&mut self, msg: FromChecker) -> Flow {
        match self.ipc.send(&msg) {
            Ok(()) => Flow::Continue,
            Err(ChannelError::Closed) => self.parent_gone(),
            Err(e) => {
                log::error!("IPC to the parent: {e}");
                Flow::Exit(exit::PROGRAM_ERROR)
            }
        }
    }

    fn parent_gone(&mut self) -> Flow {
        log::info!("the parent closed the IPC channel: stopping");
        self.stop();
        Flow::Exit(exit::OK)
    }

    pub(super) fn run(&mut self) -> i32 {
        loop {
            match self.ipc.flush() {
                Ok(_) => {}
                Err(ChannelError::Closed) => {
                    self.parent_gone();
                    return exit::OK;
                }
                Err(e) => {
                    log::error!("IPC to the parent: {e}");
                    return exit::PROGRAM_ERROR;
                }
            }
            let any_suspend = self.any_suspend;
            let any_poll = any_suspend || self.fifos.has_readers();
            let wait =
                any_poll.then(|| SUSPEND_POLL.saturating_sub(self.suspend_checked.elapsed()));
            let (signals, ipc) = match self.turn(wait) {
                Ok(t) => t,
                Err(e) => {
                    log::error!("checker loop: {e}");
                    self.stop();
                    return exit::FATAL;
                }
            };
            if signals {
                if let Flow::Exit(code) = self.on_signals() {
                    return code;
                }
            }
            if ipc {
                if let Flow::Exit(code) = self.drain_ipc() {
                    return code;
                }
            }
            if any_poll && self.suspend_checked.elapsed() >= SUSPEND_POLL {
                self.fifos.poll();
                self.refresh_suspend();
            }
            if let Flow::Exit(code) = self.after_turn() {
                return code;
            }
        }
    }

    /// Wait for events (at most `max_wait`, or until a check is due) and run the checks'
    /// share: their events, their timers, what their results do. Says whether a stop
    /// signal and the IPC channel were ready (handled after the checks, as they may
    /// replace them).
    fn turn(&mut self, max_wait: Option<Duration>) -> std::io::Result<(bool, bool)> {
        let timeout = self.rt.poll_timeout(Instant::now(), max_wait);
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.events.iter().map(|e| (e.token(), Ready::of(e))));
        // One clock read per turn: in VMs without a vDSO clock every read is a syscall.
        let now = Instant::now();
        let (mut signals, mut ipc) = (false, false);
        for &(token, r) in &ready {
            match token {
                IPC => ipc = true,
                SIGNALS => signals = true,
                t if Engine::owns(t) => self.rt.on_ready(t, r, now),
                t => log::debug!("event for an unknown token {t:?}"),
            }
        }
        self.ready = ready;
        self.rt.run_due(now);
        Ok((signals, ipc))
    }

    fn drain_ipc(&mut self) -> Flow {
        loop {
            let msg = match self.ipc.recv() {
                Ok(Some(m)) => m,
                Ok(None) => return Flow::Continue,
                Err(ChannelError::Closed) => return self.parent_gone(),
                Err(e) => {
                    log::error!("IPC from the parent: {e}");
                    return Flow::Exit(exit::PROGRAM_ERROR);
                }
            };
            if let Flow::Exit(code) = self.handle(msg) {
                return Flow::Exit(code);
            }
        }
    }

    fn handle(&mut self, msg: ToChecker) -> Flow {
        match msg {
            ToChecker::Hello(h) => {
                if let Err(e) = h.check(Role::Checker) {
                    log::error!("IPC hello from the parent refused: {e}");
                    return Flow::Exit(exit::PROGRAM_ERROR);
                }
                Flow::Continue
            }
            ToChecker::Start { config, flags } => {
                self.flags = flags;
                self.start(config)
            }
            ToChecker::Reload { config } => self.reload(config),
            ToChecker::Dump(kind) => {
                let text = self.dump(kind);
                self.send(FromChecker::DumpText { kind, text })
            }
            ToChecker::Stop => {
                log::info!("Stopping");
                self.stop();
                Flow::Exit(exit::OK)
            }
            ToChecker::VrrpInstance(_) => {
                self.refresh_suspend();
                Flow::Continue
            }
            ToChecker::Ping(n) => self.send(FromChecker::Pong(n)),
            ToChecker::Status => {
                let counters = self.ipvs.as_mut().and_then(Ipvs::counters);
                let r = dump::report(&self.rt, counters);
                self.send(FromChecker::Status(Box::new(r)))
            }
            ToChecker::RealServer {
                virtual_server,
                real_server,
                disabled,
            } => {
                let found = self.rt.set_drained(&virtual_server, &real_server, disabled);
                let key = (virtual_server.clone(), real_server.clone());
                if found && disabled {
                    self.drained.insert(key);
                } else {
                    self.drained.remove(&key);
                }
                // The IPVS table and the parent follow at the end of the turn.
                self.send(FromChecker::RealServerDone {
                    virtual_server,
                    real_server,
                    disabled,
                    found,
                })
            }
        }
    }

    /// Replace the runtime by one built from `checks` for `config`.
    fn new_runtime(&mut self, checks: Checks, config: &Config) -> Result<(), i32> {
        self.fifos.reload(config);
        let fifos = self.fifos.writers();
        let mut rt = Runtime::attached(checks, fifos, self.poll.registry()).map_err(|e| {
            log::error!("cannot start the checkers: {e}");
            exit::CONFIG
        })?;
        // The initial placement is read from the health state, not from these changes.
        rt.take_changes();
        let alerts = super::alerts::CheckAlerts::new(config, rt.health(), rt.engine());
        rt.set_alerts(alerts);
        self.rt = rt;
        self.any_suspend = self.rt.health().specs().iter().any(|v| v.ha_suspend);
        Ok(())
    }

    fn start(&mut self, config: Box<Config>) -> Flow {
        if self.config.is_some() {
            log::warn!("Start received twice: treated as a reload");
            return self.reload(config);
        }
        let checks = from_config(&config);
        log::info!(
            "Activating healthchecker for {} virtual server(s), {} check(s)",
            checks.virtual_servers.len(),
            checks.specs.len()
        );
        if let Err(code) = self.new_runtime(checks, &config) {
            return Flow::Exit(code);
        }
        let init = rs_init_notifies(&config);
        self.rt.start_notifies(|_, _| init, |_| true);
        apply_sched(&config);
        let mut ipvs = Ipvs::open(&config);
        ipvs.start(&effective_config(&config, self.rt.health()));
        self.ipvs = Some(ipvs);
        if self.flags.dump_conf {
            // `-d`: the checker's dump, as keepalived 2.4.3's checker logs it at start.
            for line in dump::data_text(&self.rt, &config).lines() {
                log::info!("{line}");
            }
        }
        self.config = Some(config);
        self.refresh_suspend();
        if let Flow::Exit(c) = self.send(FromChecker::Ready) {
            return Flow::Exit(c);
        }
        self.report_states()
    }

    fn reload(&mut self, config: Box<Config>) -> Flow {
        if self.config.is_none() {
            return self.start(config);
        }
        self.reloads += 1;
        log::info!("Reloading");
        if self
            .config
            .as_deref()
            .is_some_and(|c| c.global.checker_sched != config.global.checker_sched)
        {
            apply_sched(&config);
        }
        let old = check_states(&self.rt);
        let known: std::collections::HashSet<ServiceKey> = self.reported.keys().cloned().collect();
        let mut checks = from_config(&config);
        let kept = carry_over(&mut checks, &old);
        self.rt.depart(&checks.virtual_servers);
        log::info!(
            "{} check(s), {kept} kept their state across the reload",
            checks.specs.len()
        );
        if let Err(code) = self.new_runtime(checks, &config) {
            return Flow::Exit(code);
        }
        // What the operator disabled stays disabled (while it exists).
        let drained = std::mem::take(&mut self.drained);
        for (vs, rs) in drained {
            if self.rt.set_drained(&vs, &rs, true) {
                self.drained.insert((vs, rs));
            }
        }
        self.rt.take_changes();
        // Only the real servers (with `rs_init_notifies`) and virtual servers this
        // reload added (keepalived 2.2.7 and 2.4.3, seen in the VM).
        let init = rs_init_notifies(&config);
        let specs = self.rt.health().specs();
        let added_rs: std::collections::HashSet<(usize, usize)> = (specs.iter().enumerate())
            .flat_map(|(v, vs)| {
                let known = &known;
                vs.real_servers
                    .iter()
                    .enumerate()
                    .filter_map(move |(r, rs)| {
                        let key = (vs.name.clone(), Some(rs.name.clone()));
                        (!known.contains(&key)).then_some((v, r))
                    })
            })
            .collect();
        let added_vs: Vec<bool> = (specs.iter())
            .map(|vs| !known.contains(&(vs.name.clone(), None)))
            .collect();
        self.rt.start_notifies(
            |v, r| init && added_rs.contains(&(v, r)),
            |v| added_vs.get(v).copied().unwrap_or(false),
        );
        let ipvs = match self.ipvs.take() {
            Some(i) if i.tried() || config.virtual_servers.is_empty() => i,
            _ => Ipvs::open(&config),
        };
        let ipvs = self.ipvs.insert(ipvs);
        ipvs.update(&effective_config(&config, self.rt.health()), Pass::Reload);
        self.config = Some(config);
        self.vip_here.clear();
        self.refresh_suspend();
        self.reported
            .retain(|k, _| self.rt.health().specs().iter().any(|v| v.name == k.0));
        if let Flow::Exit(c) = self.send(FromChecker::Ready) {
            return Flow::Exit(c);
        }
        self.report_states()
    }

    fn after_turn(&mut self) -> Flow {
        if self.rt.take_changes().is_empty() {
            return Flow::Continue;
        }
        if let (Some(config), Some(ipvs)) = (self.config.as_deref(), self.ipvs.as_mut()) {
            ipvs.update(&effective_config(config, self.rt.health()), Pass::Health);
        }
        self.report_states()
    }

    /// Send a `ServiceState` for every server whose state moved since the last report
    /// (a virtual server's is its quorum).
    fn report_states(&mut self) -> Flow {
        let mut out = Vec::new();
        let health = self.rt.health();
        for (v, vs) in health.specs().iter().enumerate() {
            let up = health.quorum_up(v);
            let key = (vs.name.clone(), None);
            if self.reported.insert(key, up) != Some(up) {
                out.push(FromChecker::ServiceState(ServiceSnapshot {
                    virtual_server: vs.name.clone(),
                    real_server: None,
                    up,
                }));
            }
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let up = health.is_up(v, r);
                let key = (vs.name.clone(), Some(rs.name.clone()));
                if self.reported.insert(key, up) != Some(up) {
                    out.push(FromChecker::ServiceState(ServiceSnapshot {
                        virtual_server: vs.name.clone(),
                        real_server: Some(rs.name.clone()),
                        up,
                    }));
                }
            }
        }
        for m in out {
            if let Flow::Exit(c) = self.send(m) {
                return Flow::Exit(c);
            }
        }
        Flow::Continue
    }

    /// `ha_suspend`: a virtual server's checks run only while its address is here.
    fn refresh_suspend(&mut self) {
        self.suspend_checked = Instant::now();
        let Some(config) = self.config.as_deref() else {
            return;
        };
        let specs = self.rt.health().specs();
        let wanted: Vec<(usize, Vec<AddrRange>)> = config
            .virtual_servers
            .iter()
            .enumerate()
            .filter(|(v, _)| specs.get(*v).is_some_and(|s| s.ha_suspend))
            .filter_map(|(v, vs)| match ha_suspend_addresses(vs, config) {
                Ok(Some(r)) => Some((v, r)),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return;
        }
        let local = local_addresses();
        let present: Vec<(usize, bool)> = wanted
            .into_iter()
            .map(|(v, ranges)| (v, local.iter().any(|ip| in_ranges(*ip, &ranges))))
            .collect();
        for (v, here) in present {
            if self.vip_here.insert(v, here) != Some(here) {
                if let Some(vs) = self.rt.health().specs().get(v) {
                    log::info!(
                        "ha_suspend: {} address {}: checks {}",
                        vs.name,
                        if here { "present" } else { "absent" },
                        if here { "run" } else { "suspended" }
                    );
                }
            }
            self.rt.set_vip_present(v, here);
        }
    }

    fn dump(&mut self, kind: DumpKind) -> String {
        if kind == DumpKind::Json {
            let counters = self.ipvs.as_mut().and_then(Ipvs::counters);
            return dump::json_text(&self.rt, counters);
        }
        if matches!(kind, DumpKind::Stats | DumpKind::StatsClear) {
            let (table, programmed) = match &self.ipvs {
                Some(i) => (i.table().clone(), i.available()),
                None => (ka_check::lvs::Table::default(), false),
            };
            return dump::status_text(&self.rt, &table, programmed, self.reloads);
        }
        match (kind, self.config.as_deref()) {
            (DumpKind::Data, Some(config)) => dump::data_text(&self.rt, config),
            _ => String::new(),
        }
    }

    fn stop(&mut self) {
        self.rt.shutdown();
        if let (Some(config), Some(ipvs)) = (self.config.as_deref(), self.ipvs.as_mut()) {
            if !ipvs.available() {
                // Nothing was programmed.
            } else if self.flags.dont_release_ipvs {
                log::info!("Leaving the IPVS topology in place (-I)");
            } else {
                log::info!("Removing the IPVS topology");
            }
            ipvs.stop(config, self.flags.dont_release_ipvs);
        }
        // The checks end here (MISC_CHECK scripts are killed); notify scripts started by
        // `omega` run on.
        if let Ok(rt) = empty_runtime(self.poll.registry()) {
            self.rt = rt;
        }
        self.fifos.close_all();
        // FIFO readers were asked to stop: give them keepalived's grace period.
        orphans::reap_stopping(Duration::from_millis(1200));
        // Let the parent read what was queued.
        for _ in 0..100 {
            match self.ipc.flush() {
                Ok(false) => std::thread::sleep(std::time::Duration::from_millis(10)),
                _ => break,
            }
        }
    }
}
