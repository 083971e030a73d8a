//! The VRRP child's event loop: one `mio::Poll` for the IPC channel, the rtnetlink
//! monitor, the VRRP sockets, scripts, `track_file`s, signals and a timerfd armed at the
//! engine's next deadline. Every input goes to the engine; its actions are carried out here.

use super::map::{self, Plan};
use super::net::{Net, NetError, RecvNeed, RecvSocket};
use super::scripts::Scripts;
use super::{dump, sched, StartRequest};
use crate::daemon::child::exit;
use ka_proto::config::Config;
use ka_proto::ipc::vrrp::{ChildEnd, FromVrrp, ToVrrp};
use ka_proto::ipc::{ChannelError, DumpKind, InstanceSnapshot, RunFlags, VrrpState};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::time::{Duration, Instant};
use vrrp::linux::netlink::{Monitor, NetEvent};
use vrrp::linux::notify::NotifyKind;
use vrrp::linux::proc_events::{self, ProcEvent, ProcEvents};
use vrrp::linux::socket::RecvBatch;
use vrrp::linux::track_file::{init_file, TrackFiles};
use vrrp::linux::vmac::{self, Vmac, VmacSpec};
use vrrp::{
    Action, AddressSet, Engine, Family, Input, NotifyTarget, Packet, ProcessTrackers, Reason,
    State, Stats, Timestamp, TrackKind, TrackStatus,
};

const IPC: Token = Token(0);
const MONITOR: Token = Token(1);
const TIMER: Token = Token(2);
const SIGNALS: Token = Token(3);
const FILES: Token = Token(4);
const PROCS: Token = Token(5);
/// How often `/proc` is scanned for `track_process` when the process connector cannot
/// be used (outside the initial network namespace).
const PROC_POLL: Duration = Duration::from_secs(1);
const SOCKET_BASE: usize = 100;
const SCRIPT_BASE: usize = 100_000;

/// Why the child could not start.
#[derive(Debug)]
pub enum StartError {
    /// The engine refused the configuration.
    Config(vrrp::ConfigError),
    /// The kernel side could not be set up.
    Net(NetError),
    /// The event loop could not be set up.
    Io(std::io::Error),
}

impl StartError {
    /// The exit code (keepalived's: config errors stop the parent).
    pub fn exit_code(&self) -> i32 {
        match self {
            StartError::Config(_) => exit::CONFIG,
            StartError::Net(_) | StartError::Io(_) => exit::FATAL,
        }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "configuration: {e}"),
            StartError::Net(e) => write!(f, "network: {e}"),
            StartError::Io(e) => write!(f, "event loop: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<std::io::Error> for StartError {
    fn from(e: std::io::Error) -> Self {
        StartError::Io(e)
    }
}

impl From<NetError> for StartError {
    fn from(e: NetError) -> Self {
        StartError::Net(e)
    }
}

fn to_vrrp_state(s: State) -> VrrpState {
    match s {
        State::Initialize => VrrpState::Init,
        State::Backup => VrrpState::Backup,
        State::Master => VrrpState::Master,
        State::Fault => VrrpState::Fault,
    }
}

fn from_vrrp_state(s: VrrpState) -> Option<State> {
    match s {
        VrrpState::Backup => Some(State::Backup),
        VrrpState::Master => Some(State::Master),
        VrrpState::Fault => Some(State::Fault),
        VrrpState::Init | VrrpState::Stop => None,
    }
}

#[cfg(test)]
thread_local! {
    /// Tests only: when set on the child's thread, `track_process` polls `/proc` as it
    /// does when the process connector cannot be reached.
    pub(crate) static FORCE_PROC_POLL: std::cell::Cell<bool> =
        const { std::cell::Cell::new(false) };
}

#[cfg(test)]
thread_local! {
    /// Tests only: when set on the child's thread, losing the parent ends the loop at once
    /// without the shutdown (no priority-0 advert, VIPs left): an in-process SIGKILL.
    pub(crate) static CRASH_ON_LOST_PARENT: std::cell::Cell<bool> =
        const { std::cell::Cell::new(false) };
}

/// The running VRRP child.
pub struct Session {
    ipc: ChildEnd,
    poll: Poll,
    engine: Engine,
    /// The largest `kernel_rx_buf_size`: all the session keeps of the configuration.
    rx_buf: Option<usize>,
    plan: Plan,
    flags: RunFlags,
    net: Net,
    monitor: Monitor,
    timer: TimerFd,
    /// When the timerfd is set to fire (None: disarmed or fired).
    armed: Option<Instant>,
    /// SIGTERM/SIGINT/SIGQUIT (blocked since the fork), read here; `None` in-process.
    signals: Option<nix::sys::signalfd::SignalFd>,
    sockets: Vec<Option<RecvSocket>>,
    scripts: Scripts,
    alerts: super::alerts::Alerts,
    files: Option<TrackFiles>,
    /// `track_process` counts, fed by `proc_events` or, without it, by polling `/proc`.
    procs: ProcessTrackers,
    proc_events: Option<ProcEvents>,
    proc_poll_at: Option<Instant>,
    vmacs: Vec<Vmac>,
    origin: Instant,
    /// Link state last fed to the engine, per interface we care about.
    link_fed: HashMap<String, bool>,
    /// Interface address last fed, per (interface, family).
    addr_fed: HashMap<(String, Family), Option<IpAddr>>,
    /// Receive errors and lower-priority adverts are logged at most a few lines a second
    /// per instance and reason.
    ratelog: RateLog,
    /// Sockets left with packets queued after a bounded read (read again after timers).
    pending: Vec<usize>,
    /// Real-time scheduling only while the loop's work comes in small pieces.
    rt: sched::RtGuard,
    /// Freed memory back to the kernel now and then, when idle.
    trimmer: crate::mem::Trimmer,
    /// Reused for the actions of each packet.
    actions: Vec<Action>,
    /// STATS_CLEAR baseline.
    stats_base: HashMap<String, Stats>,
    stopping: bool,
    /// Receive buffers (`recvmmsg`), reused for every batch.
    batch: RecvBatch,
    /// When to let packets gather before the next wait.
    coalesce: Coalesce,
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
    pub fn new(ipc: ChildEnd, start: StartRequest, signals: bool) -> Result<Session, StartError> {
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
        let signals = if signals {
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
        net.configure_pacing(&config);
        let scripts = Scripts::new(&config, &plan, SCRIPT_BASE);
        let alerts = super::alerts::Alerts::new(&config);
        let mut s = Session {
            ipc,
            poll,
            engine,
            rx_buf: map::kernel_rx_buf(&config),
            plan,
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
            proc_poll_at: None,
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
            stopping: false,
            batch: RecvBatch::new(),
            coalesce: Coalesce::default(),
        };
        s.setup_vmacs();
        s.apply_statics(&AddressSet::default());
        s.setup_sockets();
        s.setup_files();
        let now = s.now();
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
        s.engine.handle_into(Input::Startup, now, &mut actions);
        s.execute(actions);
        s.send(&FromVrrp::Ready);
        Ok(s)
    }

    fn now(&self) -> Timestamp {
        let us = Instant::now()
            .saturating_duration_since(self.origin)
            .as_micros();
        Timestamp(u64::try_from(us).unwrap_or(u64::MAX))
    }

    fn instant_of(&self, t: Timestamp) -> Instant {
        self.origin
            .checked_add(Duration::from_micros(t.0))
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
    }

    // ---- setup -----------------------------------------------------------------------

    fn setup_vmacs(&mut self) {
        let mut created = false;
        // The VMACs we have by name: one lookup per instance, not a scan (a VMAC each for
        // thousands of instances).
        let mut have: HashSet<String> = self.vmacs.iter().map(|v| v.name.clone()).collect();
        for (name, extra) in &self.plan.extra {
            let Some(plan) = &extra.vmac else { continue };
            if have.contains(&plan.name) {
                continue;
            }
            let Some(base) = self.net.link(&extra.base_interface).map(|l| l.ifindex) else {
                log::warn!(
                    "({name}) cannot create VMAC {}: interface {} does not exist",
                    plan.name,
                    extra.base_interface
                );
                continue;
            };
            let mut spec = VmacSpec::new(base, &extra.base_interface, plan.vrid, plan.v6);
            spec.name = plan.name.clone();
            spec.mac = plan.mac;
            match vmac::create(&mut self.net.rtnl, &spec) {
                Ok(v) => {
                    log::info!("({name}) Creating VMAC interface {}", v.name);
                    have.insert(v.name.clone());
                    self.vmacs.push(v);
                    created = true;
                }
                Err(e) => log::error!("({name}) cannot create VMAC {}: {e}", plan.name),
            }
        }
        if created {
            if let Err(e) = self.net.reread_links() {
                log::warn!("cannot re-read links: {e}");
            }
        }
    }

    fn recv_needs(&self) -> Vec<RecvNeed> {
        let mut needs: BTreeMap<(String, Family), BTreeSet<IpAddr>> = BTreeMap::new();
        for c in self.engine.instances().map(|i| i.config) {
            if c.interface.is_empty() {
                continue;
            }
            let groups = needs.entry((c.interface.clone(), c.family)).or_default();
            if !c.is_unicast() {
                groups.insert(c.mcast_dst());
            }
        }
        needs.into_iter().map(|((i, f), g)| (i, f, g)).collect()
    }

    /// Install the static addresses, routes and rules of the plan, removing those of
    /// `old` that are gone (a reload).
    fn apply_statics(&mut self, old: &AddressSet) {
        let gone = old.minus(&self.plan.statics);
        if !gone.is_empty() {
            for e in self.net.del_set("", &gone) {
                log::warn!("static addresses: {e}");
            }
        }
        if !self.plan.statics.is_empty() {
            let set = self.plan.statics.clone();
            for e in self.net.add_set("", &set) {
                log::warn!("static addresses: {e}");
            }
        }
    }

    /// Open the receiving sockets that are missing (interfaces that exist now).
    fn setup_sockets(&mut self) {
        let rx_buf = self.rx_buf;
        let needs = self.recv_needs();
        // Sets and a free list, not scans: with a VMAC per instance there is a socket per
        // instance, and a scan of the sockets per need was quadratic.
        let wanted: HashSet<(&str, Family, &BTreeSet<IpAddr>)> =
            needs.iter().map(|(i, f, g)| (i.as_str(), *f, g)).collect();
        let mut have: HashSet<RecvNeed> = HashSet::new();
        let mut free = Vec::new();
        // Drop sockets no longer needed (or whose groups changed).
        for (i, slot) in self.sockets.iter_mut().enumerate() {
            let keep = slot
                .as_ref()
                .is_some_and(|s| wanted.contains(&(s.ifname.as_str(), s.family, &s.groups)));
            if !keep {
                if let Some(mut s) = slot.take() {
                    let _ = self.poll.registry().deregister(&mut s.sock);
                }
            }
            match slot {
                Some(s) => {
                    have.insert((s.ifname.clone(), s.family, s.groups.clone()));
                }
                None => free.push(i),
            }
        }
        drop(wanted);
        // Lowest free slot first (pop from the end).
        free.reverse();
        for need in needs {
            if have.contains(&need) {
                continue;
            }
            match self.net.open_recv(&need, rx_buf) {
                Ok(Some(mut sock)) => {
                    let slot = match free.pop() {
                        Some(i) => i,
                        None => {
                            self.sockets.push(None);
                            self.sockets.len() - 1
                        }
                    };
                    let token = Token(SOCKET_BASE + slot);
                    match self
                        .poll
                        .registry()
                        .register(&mut sock.sock, token, Interest::READABLE)
                    {
                        Ok(()) => self.sockets[slot] = Some(sock),
                        Err(e) => {
                            free.push(slot);
                            log::error!("cannot watch the VRRP socket on {}: {e}", need.0);
                        }
                    }
                }
                Ok(None) => {
                    log::info!("interface {} does not exist (yet)", need.0);
                }
                Err(e) => log::error!("cannot open a VRRP socket on {}: {e}", need.0),
            }
        }
    }

    fn setup_files(&mut self) {
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

    /// Interfaces whose link state the engine must know.
    fn watched_links(&self) -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        for c in self.engine.instances().map(|i| i.config) {
            if !c.interface.is_empty() {
                s.insert(c.interface.clone());
            }
            for t in &c.track {
                if t.kind == TrackKind::Interface {
                    s.insert(t.name.clone());
                }
            }
        }
        s
    }

    /// (interface, family) pairs whose own address the engine needs.
    fn watched_addrs(&self) -> BTreeSet<(String, Family)> {
        self.engine
            .instances()
            .map(|i| i.config)
            .filter(|c| !c.interface.is_empty())
            .map(|c| (c.interface.clone(), c.family))
            .collect()
    }

    /// Feed the link state and interface addresses that changed since last fed.
    fn feed_links(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        for name in self.watched_links() {
            let up = self.net.is_up(&name);
            if self.link_fed.get(&name) != Some(&up) {
                if self.link_fed.contains_key(&name) || !up {
                    log::info!("Netlink reports {name} {}", if up { "up" } else { "down" });
                }
                self.link_fed.insert(name.clone(), up);
                let input = if up {
                    Input::LinkUp { iface: &name }
                } else {
                    Input::LinkDown { iface: &name }
                };
                self.engine.handle_into(input, now, out);
            }
        }
        // A VMAC has no IPv4 address of its own: adverts go out from its base's (as
        // keepalived does); for IPv6 it has a link-local address, else the base's.
        let bases: HashMap<String, String> = self
            .engine
            .instances()
            .map(|i| i.config)
            .filter_map(|c| {
                let e = self.plan.extra.get(&c.name)?;
                e.vmac.as_ref()?;
                Some((c.interface.clone(), e.base_interface.clone()))
            })
            .collect();
        for (iface, family) in self.watched_addrs() {
            let addr = match bases.get(&iface) {
                Some(base) if family == Family::V4 => self.net.primary_address(base, family),
                Some(base) => self
                    .net
                    .primary_address(&iface, family)
                    .or_else(|| self.net.primary_address(base, family)),
                None => self.net.primary_address(&iface, family),
            };
            let key = (iface.clone(), family);
            if self.addr_fed.get(&key) != Some(&addr) {
                self.addr_fed.insert(key, addr);
                self.engine.handle_into(
                    Input::InterfaceAddress {
                        iface: &iface,
                        family,
                        addr,
                    },
                    now,
                    out,
                );
            }
        }
    }

    /// Open sending sockets ahead of time so a takeover does not pay for it.
    fn warm_send_sockets(&mut self) {
        let mut want = Vec::new();
        for c in self.engine.instances().map(|i| i.config) {
            let src = c.src_addr.or_else(|| {
                self.addr_fed
                    .get(&(c.interface.clone(), c.family))
                    .copied()
                    .flatten()
            });
            if let Some(src) = src {
                let ttl = if c.is_unicast() { c.unicast_ttl } else { 255 };
                want.push((c.interface.clone(), src, ttl));
            }
        }
        for (iface, src, ttl) in want {
            if let Err(e) = self.net.warm(&iface, src, ttl) {
                log::debug!("cannot open a sending socket on {iface}: {e}");
            }
        }
        self.net.warm_garp();
    }

    // ---- the loop ----------------------------------------------------------------------

    /// The earliest time something is due: the engine's timers, scripts, paced GARPs and
    /// process tracking.
    fn next_wake(&self, now: Instant) -> Option<Instant> {
        let engine = self.engine.next_deadline().map(|t| self.instant_of(t));
        let paced = self.net.announce_deadline(now);
        let procs = self.procs.next_deadline().map(|t| self.instant_of(t));
        [
            engine,
            self.scripts.next_deadline(),
            paced,
            procs,
            self.proc_poll_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// While adverts arrive by the thousand a second, let them gather for a moment before
    /// the next wait rather than waking (real-time, at once) for every few of them; never
    /// past the next deadline, so timers keep their precision.
    fn linger(&mut self) {
        let now = Instant::now();
        let next = self.next_wake(now);
        if let Some(d) = self.coalesce.pause(now, next) {
            std::thread::sleep(d);
        }
    }

    fn arm_timer(&mut self) -> Option<Duration> {
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
                self.trimmer.idle(Instant::now());
                // About to sleep: real-time again if a burst made us fall back.
                self.rt.idle();
                self.linger();
                self.arm_timer()
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    log::error!("poll: {e}");
                    return self.shutdown(exit::FATAL);
                }
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
    fn slow_turn(&mut self, woke: Instant) {
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

    fn rt_check(&mut self) {
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

    fn on_time(&mut self) {
        for (inst, reason, n) in self.ratelog.flush(Instant::now()) {
            log::warn!("({inst}) {n} more \"{reason}\" messages suppressed");
        }
        let now = self.now();
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
        self.scripts.expire(inow);
        let changes = self.scripts.run_due(self.poll.registry(), inow);
        for (name, st) in changes {
            self.feed_tracker(TrackKind::Script, &name, st);
        }
    }

    fn feed_tracker(&mut self, kind: TrackKind, name: &str, status: TrackStatus) {
        let now = self.now();
        let actions = self
            .engine
            .handle(Input::Tracker { kind, name, status }, now);
        self.execute(actions);
    }

    /// Read at most `RECV_BATCH` packets from socket `slot` (`recvmmsg`, a few calls) and
    /// feed them; true when the batch filled (more may be queued: the socket stays pending).
    fn on_socket(&mut self, slot: usize) -> bool {
        let mut read = 0;
        while read < RECV_BATCH {
            let Some(Some(sock)) = self.sockets.get(slot) else {
                return false;
            };
            let n = match sock.sock.recv_batch(&mut self.batch) {
                Ok(n) => n,
                Err(e) => {
                    log::warn!("receive on {}: {e}", sock.ifname);
                    return false;
                }
            };
            if n == 0 {
                return false;
            }
            read += n;
            self.coalesce.note(n);
            let now = self.now();
            for k in 0..n {
                let Some(Some(sock)) = self.sockets.get(slot) else {
                    return false;
                };
                let mut actions = std::mem::take(&mut self.actions);
                let src = match self.batch.get(k) {
                    Some(Ok(r)) => {
                        self.engine.handle_into(
                            Input::Packet(Packet {
                                iface: &sock.ifname,
                                src: r.src,
                                dst: r.dst,
                                ttl: r.ttl,
                                bytes: r.payload,
                                // Queued while we were stopped or starved: it is that old.
                                received: r.age.map(|a| now - a),
                            }),
                            now,
                            &mut actions,
                        );
                        r.src
                    }
                    Some(Err(e)) => {
                        // A malformed packet: skip it and read on.
                        log::debug!("receive on {}: {e}", sock.ifname);
                        self.actions = actions;
                        continue;
                    }
                    None => {
                        self.actions = actions;
                        break;
                    }
                };
                self.log_rx_error(src);
                self.execute_buf(&mut actions);
                self.actions = actions;
            }
            if n < vrrp::linux::socket::RECV_BATCH {
                // The queue is drained.
                return false;
            }
        }
        true
    }

    /// Log (rate-limited per instance and reason) the receive check the last packet
    /// failed. O(1): the engine names the instance.
    fn log_rx_error(&mut self, src: IpAddr) {
        let Some((inst, e)) = self.engine.last_rx_error() else {
            return;
        };
        if let Some(n) = self.ratelog.allow(inst, e.as_str(), Instant::now()) {
            if e.drops() {
                log::warn!(
                    "({inst}) bad advertisement from {src}: {}, dropped{}",
                    e.as_str(),
                    suppressed(n)
                );
            } else {
                log::warn!(
                    "({inst}) advertisement from {src}: {}{}",
                    e.as_str(),
                    suppressed(n)
                );
            }
        }
    }

    fn on_monitor(&mut self) {
        let mut evs = Vec::new();
        if let Err(e) = self.monitor.read_events(&mut evs) {
            log::warn!("netlink monitor: {e}");
        }
        if evs.is_empty() {
            return;
        }
        let mut relink = false;
        let mut dirty = false;
        for ev in evs {
            match ev {
                NetEvent::Link(l) => {
                    let known = self.net.link(&l.name).is_some();
                    self.net.update_link(l);
                    relink |= !known;
                    dirty = true;
                }
                NetEvent::LinkRemoved { ifindex, .. } => {
                    self.net.remove_link(ifindex);
                    dirty = true;
                }
                NetEvent::AddressAdded(a) | NetEvent::AddressRemoved(a) => {
                    if self.net.ours.contains(&a.addr) {
                        continue;
                    }
                    // The interface's own address may have changed: re-read below.
                    // The interface's own address may have changed: feed_links below
                    // re-reads it and feeds the engine only when it differs.
                    dirty = true;
                }
                NetEvent::Overrun => {
                    if let Err(e) = self.net.reread_links() {
                        log::warn!("{e}");
                    }
                    self.addr_fed.clear();
                    relink = true;
                    dirty = true;
                }
            }
        }
        if relink {
            self.setup_sockets();
        }
        if !dirty {
            return;
        }
        let now = self.now();
        let mut actions = Vec::new();
        self.feed_links(now, &mut actions);
        self.execute(actions);
    }

    // ---- track_process -----------------------------------------------------------------

    /// (Re)build the process trackers from the plan, subscribe to process events (or
    /// fall back to polling), scan `/proc` and feed the initial statuses.
    fn setup_procs(&mut self, now: Timestamp, out: &mut Vec<Action>) {
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
        #[cfg(test)]
        let forced_poll = FORCE_PROC_POLL.with(std::cell::Cell::get);
        #[cfg(not(test))]
        let forced_poll = false;
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

    fn rescan_procs(&mut self) {
        match proc_events::scan(Path::new("/proc"), self.procs.needs_cmdline()) {
            Ok(all) => self.procs.rescan(&all),
            Err(e) => log::warn!("track_process: cannot read /proc: {e}"),
        }
    }

    fn on_procs(&mut self) {
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

    fn feed_proc_changes(&mut self) {
        let now = self.now();
        for (name, st) in self.procs.changes(now) {
            log_process(&name, st, self.procs.count(&name));
            self.feed_tracker(TrackKind::Process, &name, st);
        }
    }

    fn on_files(&mut self) {
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

    // ---- IPC -------------------------------------------------------------------------

    fn send(&mut self, msg: &FromVrrp) {
        if let Err(e) = self.ipc.send(msg) {
            log::debug!("IPC to the parent: {e}");
        }
    }

    fn lost_parent(&mut self, e: ChannelError) -> i32 {
        #[cfg(test)]
        if CRASH_ON_LOST_PARENT.with(std::cell::Cell::get) {
            // What a SIGKILL leaves: nothing sent, nothing removed.
            log::info!("parent gone ({e}): crashing (test)");
            return exit::FATAL;
        }
        log::info!("parent gone ({e}): stopping");
        self.shutdown(exit::OK)
    }

    /// Handle messages from the parent; `Some(code)` to exit.
    fn on_ipc(&mut self) -> Option<i32> {
        loop {
            let msg = match self.ipc.recv() {
                Ok(Some(m)) => m,
                Ok(None) => return None,
                Err(e) => return Some(self.lost_parent(e)),
            };
            match msg {
                ToVrrp::Stop => return Some(self.shutdown(exit::OK)),
                ToVrrp::Reload { config } => self.reload(*config),
                ToVrrp::Dump(kind) => {
                    let text = self.dump(kind);
                    self.send(&FromVrrp::DumpText { kind, text });
                }
                ToVrrp::Ping(n) => self.send(&FromVrrp::Pong(n)),
                ToVrrp::Hello(_) | ToVrrp::Resume(_) | ToVrrp::Start { .. } => {
                    log::debug!("ignoring an unexpected message from the parent")
                }
            }
        }
    }

    fn dump(&mut self, kind: DumpKind) -> String {
        match kind {
            DumpKind::Data => dump::data(&self.engine, &self.scripts.statuses()),
            DumpKind::Stats => dump::stats(&self.engine, &self.stats_base),
            DumpKind::StatsClear => {
                let text = dump::stats(&self.engine, &self.stats_base);
                self.stats_base = self
                    .engine
                    .instances()
                    .map(|i| (i.name.to_string(), *i.stats))
                    .collect();
                text
            }
            DumpKind::Json => dump::json(&self.engine, &self.stats_base),
        }
    }

    fn reload(&mut self, config: Config) {
        log::info!("Reloading");
        let mut plan = map::plan(&config);
        for w in &plan.warnings {
            log::warn!("{w}");
        }
        let now = self.now();
        let ours = all_vips(&plan);
        let actions = match self.engine.reload(take_engine_config(&mut plan), now) {
            Ok(a) => a,
            Err(e) => {
                log::error!("Reload refused, the running configuration is kept: {e}");
                self.send(&FromVrrp::Ready);
                return;
            }
        };
        self.rx_buf = map::kernel_rx_buf(&config);
        self.alerts = super::alerts::Alerts::new(&config);
        let old_statics = std::mem::replace(&mut self.plan, plan).statics;
        self.apply_statics(&old_statics);
        self.net.ours = ours;
        self.net.configure_pacing(&config);
        self.scripts.configure(&config, &self.plan);
        self.setup_vmacs();
        self.setup_sockets();
        self.execute(actions);
        self.setup_files();
        let mut more = Vec::new();
        self.feed_links(now, &mut more);
        self.setup_procs(now, &mut more);
        for (name, st) in self.scripts.initial() {
            if st == TrackStatus::Unknown {
                continue;
            }
            self.engine.handle_into(
                Input::Tracker {
                    kind: TrackKind::Script,
                    name: &name,
                    status: st,
                },
                now,
                &mut more,
            );
        }
        self.execute(more);
        self.warm_send_sockets();
        self.report_all();
        self.send(&FromVrrp::Ready);
    }

    fn report_all(&mut self) {
        let snaps: Vec<InstanceSnapshot> = self
            .engine
            .instances()
            .filter_map(|i| self.snapshot_of(i.name))
            .collect();
        for s in snaps {
            self.send(&FromVrrp::InstanceState(s));
        }
    }

    fn snapshot_of(&self, name: &str) -> Option<InstanceSnapshot> {
        let i = self.engine.instance(name)?;
        Some(InstanceSnapshot {
            name: i.name.to_string(),
            vrid: i.config.vrid,
            interface: (!i.config.interface.is_empty()).then(|| i.config.interface.clone()),
            ipv6: i.config.family == Family::V6,
            state: to_vrrp_state(i.state),
            priority: i.priority,
            base_priority: i.config.priority,
            addresses_installed: i.state == State::Master,
        })
    }

    // ---- stopping ----------------------------------------------------------------------

    fn shutdown(&mut self, code: i32) -> i32 {
        if self.stopping {
            return code;
        }
        self.stopping = true;
        let now = self.now();
        let mut actions = self.engine.handle(Input::Shutdown, now);
        if self.flags.dont_release_vrrp {
            actions.retain(|a| !matches!(a, Action::DelAddresses { .. }));
        }
        self.execute(actions);
        if self.flags.release_vips && !self.flags.dont_release_vrrp {
            // -X: release every instance's addresses, not only the MASTERs'.
            let sets: Vec<(String, vrrp::AddressSet)> = self
                .engine
                .instances()
                .map(|i| (i.config.interface.clone(), i.config.addresses.clone()))
                .collect();
            for (iface, set) in sets {
                for e in self.net.del_set(&iface, &set) {
                    log::debug!("-X: {e}");
                }
            }
        }
        if !self.flags.dont_release_vrrp && !self.plan.statics.is_empty() {
            let set = self.plan.statics.clone();
            for e in self.net.del_set("", &set) {
                log::debug!("static addresses: {e}");
            }
        }
        if !self.flags.dont_release_vrrp {
            for v in std::mem::take(&mut self.vmacs) {
                if v.created {
                    if let Err(e) = vmac::delete(&mut self.net.rtnl, &v, false) {
                        log::warn!("cannot remove VMAC {}: {e}", v.name);
                    }
                }
            }
        }
        // Give notify scripts (notify_stop) a moment, then make sure the parent has
        // everything we queued.
        let deadline = Instant::now() + Duration::from_millis(500);
        let _ = self.ipc.set_nonblocking(false);
        let _ = self.ipc.flush();
        while Instant::now() < deadline && self.scripts_running() {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.scripts.kill_all(self.poll.registry());
        log::info!("Stopped");
        code
    }

    fn scripts_running(&mut self) -> bool {
        let mut events = Events::with_capacity(64);
        let _ = self.poll.poll(&mut events, Some(Duration::ZERO));
        let now = Instant::now();
        for ev in events.iter() {
            if self.scripts.owns(ev.token()) {
                let _ = self.scripts.on_event(self.poll.registry(), ev.token(), now);
            }
        }
        self.scripts.running() > 0
    }

    // ---- actions -----------------------------------------------------------------------

    /// Carry out the engine's actions: adverts first, then addresses and GARPs, then logs,
    /// reports and scripts (each group in the engine's order).
    fn execute(&mut self, mut actions: Vec<Action>) {
        self.execute_buf(&mut actions);
    }

    /// [`Session::execute`] emptying `actions`, whose allocation the caller keeps for the
    /// next input (the timer and receive paths: no allocation per turn of the loop).
    fn execute_buf(&mut self, actions: &mut Vec<Action>) {
        if actions.is_empty() {
            return;
        }
        // Adverts first, each run of them for one sending socket (a timer burst: every
        // MASTER of an interface) in batches of one system call each.
        let mut k = 0;
        while let Some(a) = actions.get(k) {
            let Action::SendAdvert {
                iface, src, ttl, ..
            } = a
            else {
                k += 1;
                continue;
            };
            let same = |b: &Action| {
                matches!(b, Action::SendAdvert { iface: i, src: s, ttl: t, .. }
                    if i == iface && s == src && t == ttl)
            };
            let run = actions[k..]
                .iter()
                .take(vrrp::linux::socket::SEND_BATCH)
                .take_while(|b| same(b))
                .count();
            let packets: [(&[u8], IpAddr); vrrp::linux::socket::SEND_BATCH] =
                std::array::from_fn(|j| match actions.get(k + j) {
                    Some(Action::SendAdvert { bytes, dst, .. }) if j < run => (&bytes[..], *dst),
                    _ => (&[][..], *src),
                });
            for (j, e) in self.net.send_adverts(iface, *src, *ttl, &packets[..run]) {
                if let Some(Action::SendAdvert { instance, dst, .. }) = actions.get(k + j) {
                    log::warn!("({instance}) cannot send an advert to {dst}: {e}");
                }
            }
            k += run.max(1);
        }
        for a in actions.iter() {
            match a {
                Action::AddAddresses {
                    instance,
                    iface,
                    addrs,
                } => {
                    for e in self.net.add_set(iface, addrs) {
                        log::warn!("({instance}) setting VIPs: {e}");
                    }
                }
                Action::DelAddresses {
                    instance,
                    iface,
                    addrs,
                } => {
                    for e in self.net.del_set(iface, addrs) {
                        log::warn!("({instance}) removing VIPs: {e}");
                    }
                }
                Action::SendGarp {
                    instance,
                    iface,
                    addrs,
                    repeat,
                } => {
                    for e in self.net.announce(iface, addrs, *repeat, false) {
                        log::warn!("({instance}) gratuitous ARP: {e}");
                    }
                }
                Action::SendNa {
                    instance,
                    iface,
                    addrs,
                    repeat,
                } => {
                    for e in self.net.announce(iface, addrs, *repeat, true) {
                        log::warn!("({instance}) unsolicited NA: {e}");
                    }
                }
                _ => {}
            }
        }
        for a in actions.drain(..) {
            self.after(a);
        }
    }

    /// The slow part of an action: logs, reports and scripts.
    fn after(&mut self, a: Action) {
        match a {
            Action::SendAdvert {
                instance, bytes, ..
            } => {
                if bytes.get(2) == Some(&0) {
                    log::info!("({instance}) sent 0 priority");
                }
            }
            Action::AddAddresses {
                instance, addrs, ..
            } => {
                if !addrs.is_empty() {
                    log::info!("({instance}) setting VIPs.");
                }
            }
            Action::DelAddresses {
                instance, addrs, ..
            } => {
                if !addrs.is_empty() {
                    log::info!("({instance}) removing VIPs.");
                }
            }
            Action::SendGarp {
                instance,
                iface,
                addrs,
                ..
            } => {
                for v in addrs.iter().take(4) {
                    log::info!(
                        "({instance}) Sending/queueing gratuitous ARPs on {} for {}",
                        v.dev.as_deref().unwrap_or(&iface),
                        v.addr
                    );
                }
            }
            Action::SendNa {
                instance,
                iface,
                addrs,
                ..
            } => {
                for v in addrs.iter().take(4) {
                    log::info!(
                        "({instance}) Sending/queueing Unsolicited Neighbour Adverts on {} for {}",
                        v.dev.as_deref().unwrap_or(&iface),
                        v.addr
                    );
                }
            }
            Action::StateChanged {
                instance,
                from,
                to,
                priority,
                reason,
            } => {
                log_transition(&instance, from, to, priority, reason);
                if let Some(s) = self.snapshot_of(&instance) {
                    self.send(&FromVrrp::InstanceState(s));
                }
            }
            Action::Notify {
                target,
                state,
                priority,
            } => {
                let (kind, name, n) = match &target {
                    NotifyTarget::Instance(n) => (
                        NotifyKind::Instance,
                        n.to_string(),
                        self.plan.extra.get(&**n).map(|e| e.notify.clone()),
                    ),
                    NotifyTarget::Group(n) => (
                        NotifyKind::Group,
                        n.to_string(),
                        self.plan.group_notify.get(&**n).cloned(),
                    ),
                };
                self.alerts.on_notify(&target, state);
                if kind == NotifyKind::Group {
                    log::info!("VRRP_Group({name}) Syncing instances to {}", state.as_str());
                }
                self.scripts.notify(
                    self.poll.registry(),
                    kind,
                    &name,
                    state,
                    priority,
                    n.as_ref(),
                );
            }
            Action::MasterRxLowerPriority {
                instance,
                from,
                priority,
            } => {
                // A flood of these is logged (and the script run) a few times a second.
                let Some(n) = self
                    .ratelog
                    .allow(&instance, "lower priority", Instant::now())
                else {
                    return;
                };
                log::info!(
                    "({instance}) Received advert from {from} with lower priority {priority}, ours {}{}",
                    self.engine.instance(&instance).map_or(0, |i| i.priority),
                    suppressed(n)
                );
                let script = self
                    .plan
                    .extra
                    .get(&*instance)
                    .and_then(|e| e.notify.master_rx_lower_pri.clone());
                if let Some(script) = script {
                    self.scripts
                        .run_plain(self.poll.registry(), &instance, &script);
                }
            }
            Action::PriorityChanged { instance, priority } => {
                log::info!("({instance}) Changing effective priority to {priority}");
                if let Some(s) = self.snapshot_of(&instance) {
                    self.send(&FromVrrp::InstanceState(s));
                }
            }
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

fn log_transition(instance: &str, from: State, to: State, priority: u8, reason: Reason) {
    match (to, reason) {
        (State::Master, Reason::MasterDown) => {
            log::info!("({instance}) Receive advertisement timeout");
            log::info!("({instance}) Entering MASTER STATE");
        }
        (State::Master, Reason::Resume) => {
            log::info!("({instance}) Entering MASTER STATE (resumed, VIPs kept)");
        }
        (State::Master, _) => log::info!("({instance}) Entering MASTER STATE"),
        (State::Backup, Reason::Startup) => {
            log::info!("({instance}) Entering BACKUP STATE (init)")
        }
        (State::Backup, Reason::HigherPriority) => {
            log::info!("({instance}) Master received advert with higher priority, ours {priority}");
            log::info!("({instance}) Entering BACKUP STATE");
        }
        (State::Backup, _) => log::info!("({instance}) Entering BACKUP STATE"),
        (State::Fault, _) => log::info!("({instance}) Entering FAULT STATE"),
        (State::Initialize, _) => {
            if from != State::Initialize {
                log::info!("({instance}) Stopped");
            }
        }
    }
}

/// Move the plan's engine configuration out (for `Engine::new` / `Engine::reload`).
fn take_engine_config(plan: &mut Plan) -> vrrp::EngineConfig {
    std::mem::replace(
        &mut plan.engine,
        vrrp::EngineConfig {
            instances: Vec::new(),
            sync_groups: Vec::new(),
        },
    )
}

fn all_vips(plan: &Plan) -> std::collections::HashSet<IpAddr> {
    plan.engine
        .instances
        .iter()
        .flat_map(|c| c.addresses.vips.iter().chain(&c.addresses.excluded))
        .map(|v| v.addr)
        .collect()
}

/// Packets read from one socket per turn of the loop, before timers run again.
const RECV_BATCH: usize = 64;

/// Room for actions kept between turns of the loop.
const ACTIONS_KEPT: usize = 64;

/// The longest pause before a wait while adverts pour in ([`Coalesce`]).
const LINGER: Duration = Duration::from_micros(500);
/// The window over which the receive rate is judged.
const LINGER_WINDOW: Duration = Duration::from_millis(100);
/// Packets per window from which the loop lingers (500 a second).
const LINGER_MIN_PACKETS: u64 = 50;
/// Room left before the next deadline: the wait that follows the pause wakes on time.
const LINGER_MARGIN: Duration = Duration::from_micros(200);

/// Receive coalescing. A real-time loop wakes the moment a packet arrives; with thousands
/// of instances the adverts of a second come in bursts spread over milliseconds, and each
/// wake-up (two context switches, the wait, the scheduler guard, a receive call) cost more
/// than the few packets it found. When the last window saw at least
/// [`LINGER_MIN_PACKETS`] and the last turn of the loop read some, but no full `recvmmsg`
/// batch from any socket (packets trickle rather than pour: a socket's queue, ~250 adverts
/// by default, must not fill while we pause), the loop pauses up to [`LINGER`] before its
/// next wait (never past the next deadline less [`LINGER_MARGIN`]) and reads what gathered
/// in one go: at most 0.5 ms later, which the protocol (timers of a second and more) does
/// not notice; a small deployment (or a quiet one) never pauses at all.
#[derive(Debug, Default)]
struct Coalesce {
    window_start: Option<Instant>,
    in_window: u64,
    last_window: u64,
    /// Packets read since the last pause decision.
    fresh: u64,
    /// A full batch was read from a socket since the last pause decision.
    heavy: bool,
}

impl Coalesce {
    /// `n` packets were read.
    fn note(&mut self, n: usize) {
        self.heavy |= n >= vrrp::linux::socket::RECV_BATCH;
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.in_window = self.in_window.saturating_add(n);
        self.fresh = self.fresh.saturating_add(n);
    }

    /// How long to pause before the next wait, if at all, with `next` the next deadline.
    fn pause(&mut self, now: Instant, next: Option<Instant>) -> Option<Duration> {
        let start = *self.window_start.get_or_insert(now);
        let age = now.saturating_duration_since(start);
        if age >= LINGER_WINDOW {
            self.last_window = if age < 2 * LINGER_WINDOW {
                self.in_window
            } else {
                0
            };
            self.in_window = 0;
            self.window_start = Some(now);
        }
        let fresh = std::mem::take(&mut self.fresh);
        let heavy = std::mem::take(&mut self.heavy);
        if heavy || fresh == 0 || self.last_window.max(self.in_window) < LINGER_MIN_PACKETS {
            return None;
        }
        let room = next.map_or(LINGER, |d| {
            d.saturating_duration_since(now)
                .saturating_sub(LINGER_MARGIN)
        });
        let p = LINGER.min(room);
        (p >= Duration::from_micros(100)).then_some(p)
    }
}

/// A turn of the event loop (after its wait) longer than this is reported.
const SLOW_TURN: Duration = Duration::from_millis(250);

/// Lines a second per instance and reason before the rest are counted, not logged.
const LOG_PER_SEC: u32 = 3;

/// ", N similar messages suppressed" when `n` > 0.
fn suppressed(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} similar messages suppressed)")
    }
}

#[derive(Debug)]
struct Bucket {
    window: Instant,
    shown: u32,
    suppressed: u64,
}

/// Rate limit for repetitive log lines, per (instance, reason): `LOG_PER_SEC` lines a
/// second, then a count of what was left out (given with the next line logged, or by
/// [`RateLog::flush`] once the second is over).
#[derive(Debug, Default)]
struct RateLog {
    per: HashMap<String, HashMap<&'static str, Bucket>>,
    /// Flushes look at the buckets at most every 250 ms.
    next_flush: Option<Instant>,
}

impl RateLog {
    /// Some(number suppressed since the last line) when a line may be logged now.
    fn allow(&mut self, inst: &str, reason: &'static str, now: Instant) -> Option<u64> {
        if !self.per.contains_key(inst) {
            self.per.insert(inst.to_string(), HashMap::new());
        }
        let b = self
            .per
            .get_mut(inst)?
            .entry(reason)
            .or_insert_with(|| Bucket {
                window: now,
                shown: 0,
                suppressed: 0,
            });
        if now.saturating_duration_since(b.window) >= Duration::from_secs(1) {
            let n = b.suppressed;
            *b = Bucket {
                window: now,
                shown: 1,
                suppressed: 0,
            };
            return Some(n);
        }
        if b.shown < LOG_PER_SEC {
            b.shown += 1;
            let n = b.suppressed;
            b.suppressed = 0;
            return Some(n);
        }
        b.suppressed += 1;
        None
    }

    /// The counts of lines suppressed in windows that are over (each reported once).
    fn flush(&mut self, now: Instant) -> Vec<(String, &'static str, u64)> {
        let mut out = Vec::new();
        if self.next_flush.is_some_and(|t| now < t) {
            return out;
        }
        self.next_flush = Some(now + Duration::from_millis(250));
        for (inst, m) in &mut self.per {
            for (reason, b) in m.iter_mut() {
                if b.suppressed > 0
                    && now.saturating_duration_since(b.window) >= Duration::from_secs(1)
                {
                    out.push((inst.clone(), *reason, b.suppressed));
                    b.suppressed = 0;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod coalesce_tests {
    use super::*;

    #[test]
    fn pauses_only_while_packets_pour_in_and_never_past_a_deadline() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalesce::default();
        let far = Some(t0 + Duration::from_secs(1));
        // A trickle (a few instances, or a quiet network): never.
        for k in 0..20u64 {
            c.note(1);
            assert_eq!(c.pause(t0 + ms(10 * k), far), None);
        }
        // Thousands a second: up to 1 ms after a turn that read packets...
        let mut c = Coalesce::default();
        for k in 0..10u64 {
            c.note(10);
            let _ = c.pause(t0 + ms(k), far);
        }
        c.note(10);
        assert_eq!(c.pause(t0 + ms(10), far), Some(LINGER));
        // ...not after a turn that read nothing (a timer or IPC wake-up)...
        assert_eq!(c.pause(t0 + ms(11), far), None);
        // ...nor after one that read a full batch from a socket (a queue filling fast)...
        c.note(3);
        c.note(vrrp::linux::socket::RECV_BATCH);
        assert_eq!(c.pause(t0 + ms(11), far), None);
        // ...and never past the next deadline (less the margin), nor for a sliver.
        c.note(10);
        let soon = t0 + ms(12) + Duration::from_micros(500);
        assert_eq!(
            c.pause(t0 + ms(12), Some(soon)),
            Some(Duration::from_micros(300))
        );
        c.note(10);
        let now = t0 + ms(13);
        assert_eq!(c.pause(now, Some(now + Duration::from_micros(250))), None);
        c.note(10);
        assert_eq!(c.pause(now, Some(now)), None);
        // The rate is judged per window: after a quiet window, no more pausing.
        c.note(1);
        assert_eq!(c.pause(t0 + ms(350), far), None);
    }
}

#[cfg(test)]
mod ratelog_tests {
    use super::*;

    #[test]
    fn a_flood_of_one_reason_gives_a_few_lines_and_a_count() {
        let mut r = RateLog::default();
        let t0 = Instant::now();
        let mut lines = 0;
        for k in 0..10_000u32 {
            let now = t0 + Duration::from_micros(u64::from(k) * 100);
            if r.allow("VI_1", "authentication failure", now).is_some() {
                lines += 1;
            }
            // Another instance and reason have their own allowance.
            if k == 5 {
                assert_eq!(r.allow("VI_2", "authentication failure", now), Some(0));
                assert_eq!(r.allow("VI_1", "invalid TTL/HL", now), Some(0));
            }
        }
        // 10,000 packets over 1 s: LOG_PER_SEC lines, the rest counted.
        assert_eq!(lines, LOG_PER_SEC);
        let later = t0 + Duration::from_millis(1500);
        let f = r.flush(later);
        assert_eq!(
            f,
            vec![("VI_1".to_string(), "authentication failure", 10_000 - 3)]
        );
        assert!(r.flush(later).is_empty(), "reported once");
        let much_later = later + Duration::from_secs(1);
        assert!(r.flush(much_later).is_empty(), "nothing more suppressed");
        assert_eq!(r.allow("VI_1", "authentication failure", later), Some(0));
    }
}
