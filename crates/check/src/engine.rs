//! Every health check on one mio loop: the I/O under the [`Scheduler`].
//!
//! ```text
//!            +-------------------- Engine::turn(max_wait) ---------------------+
//!            |  poll(sockets, pidfds, caller's fds; timeout = next deadline)   |
//!            |    socket ready -> probe.on_event -> Pending | Yield | Pass | Fail|
//!            |                 -> Input::Progress / Input::Done                |
//!            |    time passed  -> Input::Timer                                 |
//!            |  Scheduler actions: Start -> probe::start, Expire -> on_timeout, |
//!            |    Cancel -> drop the attempt; Report, Ipvs, Script, Fifo,      |
//!            |    Verdict -> take_actions() (the owner's I/O)                  |
//!            +-----------------------------------------------------------------+
//! ```
//! Sockets are non-blocking; scripts run as children watched through pidfds; nothing in
//! a turn waits on a peer. When attempts run, their limits and what results mean (retries,
//! up/down) are the scheduler's; this module opens, drives and closes the probes.
//!
//! The engine polls nothing itself when [`Engine::attached`] to its owner's loop (the
//! checker child's session): the owner hands it its events and its time. [`Engine::new`]
//! gives it a loop of its own ([`Engine::turn`]) for tests, the benchmark and embedding.
//!
//! Tokens: a check's token is `(index + 1) << 16 | generation`, the inotify fd's
//! [`INOTIFY_TOKEN`]; the tokens below are the owner's, registered through
//! [`Engine::registry`] and handed back by [`Engine::turn`].

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Registry, Token};

use crate::failure::Failure;
use crate::probe::misc::MiscProbe;
use crate::probe::{self, Ctx, Kind, Probe, Ready, Step};
use crate::scheduler::{raise_to_minimum, Action, CheckPlan, Input, Scheduler};
use crate::spec::{CheckId, CheckKind, CheckSpec, SslConfig};
use crate::state::{Health, VsSpec};
use crate::tls::TlsContext;

pub use crate::scheduler::MIN_INTERVAL;

/// How late a timer may fire so that neighbouring timers share one wake-up.
pub const TIMER_SLACK: Duration = Duration::from_millis(5);

/// Tokens below this belong to the loop's owner (but [`INOTIFY_TOKEN`]); a check's token
/// is `(index + 1) << 16 | generation`.
pub const CHECK_TOKEN_BASE: usize = 1 << 16;

/// The inotify fd watching FILE_CHECK files (just below the checks' tokens).
pub const INOTIFY_TOKEN: Token = Token(CHECK_TOKEN_BASE - 1);

/// FILE_CHECK files watched with inotify: a write re-reads the file at once, as
/// keepalived's track_file does (the periodic check stays as a fallback).
struct FileWatch {
    inotify: nix::sys::inotify::Inotify,
    /// (watch, file name in that directory, check index)
    files: Vec<(
        nix::sys::inotify::WatchDescriptor,
        std::ffi::OsString,
        usize,
    )>,
}

impl FileWatch {
    fn new(slots: &[Slot], reg: &Registry) -> Option<FileWatch> {
        use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
        use std::os::fd::{AsFd, AsRawFd};
        let paths: Vec<(usize, &std::path::Path)> = slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.spec.kind {
                CheckKind::File(f) => Some((i, f.path.as_path())),
                _ => None,
            })
            .collect();
        if paths.is_empty() {
            return None;
        }
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(|e| log::warn!("inotify: {e}; FILE_CHECK falls back to polling"))
            .ok()?;
        let mut files = Vec::new();
        for (i, path) in paths {
            let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                continue;
            };
            let dir = if dir.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                dir
            };
            let flags = AddWatchFlags::IN_CLOSE_WRITE
                | AddWatchFlags::IN_MOVED_TO
                | AddWatchFlags::IN_CREATE
                | AddWatchFlags::IN_DELETE
                | AddWatchFlags::IN_MODIFY;
            match inotify.add_watch(dir, flags) {
                Ok(wd) => files.push((wd, name.to_owned(), i)),
                Err(e) => log::warn!("inotify on {}: {e}; polling it", dir.display()),
            }
        }
        let fd = inotify.as_fd().as_raw_fd();
        reg.register(
            &mut mio::unix::SourceFd(&fd),
            INOTIFY_TOKEN,
            mio::Interest::READABLE,
        )
        .map_err(|e| log::warn!("inotify register: {e}"))
        .ok()?;
        Some(FileWatch { inotify, files })
    }

    /// Checks whose file changed.
    fn changed(&self) -> Vec<usize> {
        let mut out = Vec::new();
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            for ev in events {
                for (wd, name, i) in &self.files {
                    if *wd == ev.wd && ev.name.as_deref() == Some(name.as_os_str()) {
                        out.push(*i);
                    }
                }
            }
        }
        out
    }
}

pub use crate::state::Report;

pub use crate::scheduler::CheckDump;

/// Errors building the engine.
#[derive(Debug)]
pub enum EngineError {
    /// epoll could not be created.
    Poll(io::Error),
    /// The SSL block cannot be loaded.
    Tls(crate::tls::TlsError),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Poll(e) => write!(f, "cannot create the event loop: {e}"),
            EngineError::Tls(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EngineError {}

struct Slot {
    spec: CheckSpec,
    /// Its kind's settings, shared by its attempts.
    kind: Kind,
    gen: u16,
    /// The attempt in flight.
    probe: Option<Probe>,
    /// The socket of the last passed attempt, disconnected and still registered under
    /// `token_of(index, gen)`: the next attempt connects on it.
    spare: Option<mio::net::TcpStream>,
}

/// The loop.
pub struct Engine {
    /// A handle on the loop's epoll instance: the owner's, or [`Engine::turn`]'s own.
    registry: Registry,
    /// The loop of a standalone engine ([`Engine::new`]); `None` when its owner polls
    /// ([`Engine::attached`]).
    own: Option<(Poll, Events)>,
    slots: Vec<Slot>,
    sched: Scheduler,
    ctx: Ctx,
    /// The scheduler's actions for the owner (reports and what they do to servers).
    out: Vec<Action>,
    reaping: Vec<MiscProbe>,
    again: Vec<Token>,
    files: Option<FileWatch>,
    /// This turn's events, kept between turns so no turn allocates.
    ready: Vec<(Token, Ready)>,
    /// The scheduler's actions: the buffer it writes and the queue carried out.
    acts: Vec<Action>,
    queue: VecDeque<Action>,
    /// One receive buffer for every probe (reads never outlive an event).
    rbuf: Box<[u8]>,
    /// Sockets kept between attempts ([`Slot::spare`]), and how many may be kept.
    spares: usize,
    spare_budget: usize,
}

/// Size of the shared receive buffer.
const RBUF_LEN: usize = 16 * 1024;

fn token_of(idx: usize, gen: u16) -> Token {
    Token(((idx + 1) << 16) | usize::from(gen))
}

impl Engine {
    /// Build a standalone loop for `specs` (check ids are their indices), driven by
    /// [`Engine::turn`]. First checks run after a random part of `warmup`.
    pub fn new(specs: Vec<CheckSpec>, ssl: &SslConfig) -> Result<Engine, EngineError> {
        let poll = Poll::new().map_err(EngineError::Poll)?;
        let registry = poll.registry().try_clone().map_err(EngineError::Poll)?;
        let own = Some((poll, Events::with_capacity(1024)));
        Engine::build(specs, Vec::new(), ssl, registry, own)
    }

    /// As [`Engine::new`], the checks judging the real servers of `servers`
    /// ([`Scheduler::serving`]): the initial table is the first [`Engine::take_actions`].
    pub fn with_servers(
        specs: Vec<CheckSpec>,
        servers: Vec<VsSpec>,
        ssl: &SslConfig,
    ) -> Result<Engine, EngineError> {
        let poll = Poll::new().map_err(EngineError::Poll)?;
        let registry = poll.registry().try_clone().map_err(EngineError::Poll)?;
        let own = Some((poll, Events::with_capacity(1024)));
        Engine::build(specs, servers, ssl, registry, own)
    }

    /// Build the checks of `specs` on the loop of `registry`'s owner, who polls and hands
    /// this engine its events ([`Engine::on_ready`]) and its time ([`Engine::run_due`]).
    /// The checks judge the real servers of `servers`, as with [`Engine::with_servers`].
    pub fn attached(
        specs: Vec<CheckSpec>,
        servers: Vec<VsSpec>,
        ssl: &SslConfig,
        registry: &Registry,
    ) -> Result<Engine, EngineError> {
        let registry = registry.try_clone().map_err(EngineError::Poll)?;
        Engine::build(specs, servers, ssl, registry, None)
    }

    fn build(
        specs: Vec<CheckSpec>,
        servers: Vec<VsSpec>,
        ssl: &SslConfig,
        registry: Registry,
        own: Option<(Poll, Events)>,
    ) -> Result<Engine, EngineError> {
        let needs_tls = specs
            .iter()
            .any(|s| matches!(&s.kind, CheckKind::Http(h) if h.tls));
        let tls = if needs_tls {
            Some(TlsContext::new(ssl).map_err(EngineError::Tls)?)
        } else {
            None
        };
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9)
            ^ u64::from(std::process::id());
        let mut ctx = Ctx {
            tls,
            hostname: hostname(),
            rng: seed | 1,
        };
        let now = Instant::now();
        let mut plans = Vec::with_capacity(specs.len());
        let slots = specs
            .into_iter()
            .map(|mut spec| {
                // The spec shows the timing the scheduler uses.
                raise_to_minimum(&mut spec.timing);
                let warm = spec.timing.warmup.as_millis() as u64;
                let delay = if warm == 0 {
                    0
                } else {
                    (u64::from(ctx.rand16()) << 16 | u64::from(ctx.rand16())) % warm
                };
                plans.push(CheckPlan::of(&spec, Duration::from_millis(delay)));
                Slot {
                    kind: Kind::of(&spec),
                    spec,
                    gen: 0,
                    probe: None,
                    spare: None,
                }
            })
            .collect();
        let (sched, start) = Scheduler::serving(plans, servers, now);
        let mut e = Engine {
            registry,
            own,
            slots,
            sched,
            ctx,
            out: start,
            reaping: Vec::new(),
            again: Vec::new(),
            files: None,
            ready: Vec::new(),
            acts: Vec::new(),
            queue: VecDeque::new(),
            rbuf: vec![0u8; RBUF_LEN].into_boxed_slice(),
            spares: 0,
            spare_budget: spare_budget(),
        };
        e.files = FileWatch::new(&e.slots, &e.registry);
        Ok(e)
    }

    /// Register the caller's own sources here, with tokens below [`CHECK_TOKEN_BASE`]
    /// (but [`INOTIFY_TOKEN`]).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Number of checks.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when there is no check.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Is check `id` up?
    pub fn is_up(&self, id: CheckId) -> Option<bool> {
        self.sched.is_up(id)
    }

    /// The spec of check `id`.
    pub fn spec(&self, id: CheckId) -> Option<&CheckSpec> {
        self.slots.get(id.0).map(|s| &s.spec)
    }

    /// Pause (ha_suspend: the VIP is absent) or resume a check. A running attempt is
    /// dropped; a resumed check runs at once.
    pub fn set_suspended(&mut self, id: CheckId, suspended: bool) {
        self.feed(Input::Suspend(id, suspended), Instant::now());
    }

    /// Give the scheduler an input from the owner ([`Input::VipPresent`],
    /// [`Input::InitNotifies`], [`Input::QuorumAtStart`], [`Input::Shutdown`]); what it
    /// says comes out of [`Engine::take_actions`].
    pub fn input(&mut self, input: Input, now: Instant) {
        self.feed(input, now);
    }

    /// The servers' state ([`Scheduler::servers`]).
    pub fn servers(&self) -> &Health {
        self.sched.servers()
    }

    /// The checks' state changes since the last call (an engine without servers: the
    /// other actions of [`Engine::take_actions`] are dropped).
    pub fn take_reports(&mut self) -> Vec<Report> {
        self.out
            .drain(..)
            .filter_map(|a| match a {
                Action::Report(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// The scheduler's actions for the owner since the last call, in order: reports, and
    /// what they do to the servers (IPVS changes, scripts, FIFO lines, verdicts).
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.out)
    }

    /// Attempts, failures and durations per checker kind ([`Scheduler::stats`]).
    pub fn stats(&self) -> &crate::stats::Stats {
        self.sched.stats()
    }

    /// Every check's state.
    pub fn dump(&self) -> Vec<CheckDump> {
        (0..self.slots.len())
            .filter_map(|i| self.sched.status(CheckId(i)))
            .collect()
    }

    /// When the next timer is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.sched.next_deadline()
    }

    /// How long the loop may sleep from `now`: until the next timer (plus the slack), at
    /// most `max_wait`; not at all when a probe has data left to read.
    pub fn poll_timeout(&self, now: Instant, max_wait: Option<Duration>) -> Option<Duration> {
        // Timer slack: waking a little late lets the timers due within the slack run in one
        // wake-up (thousands of checks per second otherwise cost one context switch each).
        let mut timeout = self
            .next_deadline()
            .map(|t| t.saturating_duration_since(now) + TIMER_SLACK);
        if let Some(m) = max_wait {
            timeout = Some(timeout.map_or(m, |t| t.min(m)));
        }
        if !self.again.is_empty() {
            timeout = Some(Duration::ZERO);
        }
        if !self.reaping.is_empty() {
            timeout = Some(timeout.map_or(Duration::from_millis(50), |t| {
                t.min(Duration::from_millis(50))
            }));
        }
        timeout
    }

    /// Is `token` one of an engine's (a check's socket or pidfd, the inotify fd)?
    pub fn owns(token: Token) -> bool {
        token.0 >= INOTIFY_TOKEN.0
    }

    /// A readiness event for one of this engine's tokens ([`Engine::owns`]).
    pub fn on_ready(&mut self, token: Token, ready: Ready, now: Instant) {
        if token == INOTIFY_TOKEN {
            let changed = self
                .files
                .as_ref()
                .map(FileWatch::changed)
                .unwrap_or_default();
            for i in changed {
                self.feed(Input::RunNow(CheckId(i)), now);
            }
        } else {
            self.on_check_ready(token, ready, now);
        }
    }

    /// After a batch of events: probes with data left go on, due timers run, ended
    /// scripts are reaped.
    pub fn run_due(&mut self, now: Instant) {
        for token in std::mem::take(&mut self.again) {
            self.on_check_ready(token, Ready::READ_AGAIN, now);
        }
        self.feed(Input::Timer, now);
        self.reaping.retain_mut(|m| !m.try_reap());
    }

    /// One turn of a standalone loop: wait for readiness (at most `max_wait`, or until
    /// the next timer), run what is ready and due. Returns the caller's tokens that became
    /// ready. An [`Engine::attached`] engine has no loop of its own: an error.
    pub fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<Vec<Token>> {
        let Some((mut poll, mut events)) = self.own.take() else {
            return Err(io::Error::other("this engine's owner polls its events"));
        };
        let timeout = self.poll_timeout(Instant::now(), max_wait);
        let polled = match poll.poll(&mut events, timeout) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => Err(e),
            _ => Ok(()),
        };
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(events.iter().map(|e| (e.token(), Ready::of(e))));
        self.own = Some((poll, events));
        polled?;
        // One clock read per turn: in VMs without a vDSO clock every read is a syscall.
        let now = Instant::now();
        let mut external = Vec::new();
        for &(token, r) in &ready {
            if Engine::owns(token) {
                self.on_ready(token, r, now);
            } else {
                external.push(token);
            }
        }
        self.ready = ready;
        self.run_due(now);
        Ok(external)
    }

    fn on_check_ready(&mut self, token: Token, ready: Ready, now: Instant) {
        let Some(idx) = (token.0 >> 16).checked_sub(1) else {
            return;
        };
        let gen = (token.0 & 0xffff) as u16;
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        if slot.gen != gen {
            return;
        }
        let Some(probe) = slot.probe.as_mut() else {
            return;
        };
        let step = probe.on_event(&self.ctx, &self.registry, token, ready, &mut self.rbuf);
        match step {
            Step::Pending => self.feed(Input::Progress(CheckId(idx)), now),
            Step::Yield => {
                self.again.push(token);
                self.feed(Input::Progress(CheckId(idx)), now);
            }
            done => self.done(idx, done, now),
        }
    }

    /// Give `input` to the scheduler and carry out what it says (and what follows).
    fn feed(&mut self, input: Input, now: Instant) {
        self.sched.handle_into(input, now, &mut self.acts);
        self.queue.extend(self.acts.drain(..));
        while let Some(a) = self.queue.pop_front() {
            match a {
                Action::Start(id) => self.start(id.0, now),
                Action::Expire(id) => {
                    let step = match self.slots.get_mut(id.0).and_then(|s| s.probe.as_mut()) {
                        Some(p) => p.on_timeout(),
                        None => Step::Fail(Failure::Timeout("running")),
                    };
                    self.done(id.0, step, now);
                }
                Action::Cancel(id) => self.cancel(id.0),
                owner => self.out.push(owner),
            }
        }
    }

    /// The scheduler says run: start a probe, or say at once why it could not start.
    fn start(&mut self, idx: usize, now: Instant) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        // A kept socket is still registered under the current generation's token.
        let spare = slot.spare.take();
        if spare.is_some() {
            self.spares -= 1;
        } else {
            slot.gen = slot.gen.wrapping_add(1);
        }
        let token = token_of(idx, slot.gen);
        match probe::start(
            &slot.kind,
            &slot.spec.target,
            &mut self.ctx,
            &self.registry,
            token,
            spare,
        ) {
            Ok(probe) => slot.probe = Some(probe),
            Err(step) => self.done(idx, step, now),
        }
    }

    /// An attempt ended: dispose of it (a passed TCP/HTTP attempt keeps its socket),
    /// then tell the scheduler.
    fn done(&mut self, idx: usize, step: Step, now: Instant) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        match slot.probe.take() {
            Some(Probe::Misc(m)) => reap_or_kill(m, &mut self.reaping),
            Some(p) if matches!(step, Step::Pass(_)) && self.spares < self.spare_budget => {
                // A passed TCP/HTTP attempt ends with a RST and keeps its socket.
                slot.spare = p.recycle();
                if slot.spare.is_some() {
                    self.spares += 1;
                }
            }
            _ => {}
        }
        self.sched
            .handle_into(Input::Done(CheckId(idx), step), now, &mut self.acts);
        self.queue.extend(self.acts.drain(..));
    }

    /// Drop what a check holds: its attempt (a script is killed) and its kept socket.
    fn cancel(&mut self, idx: usize) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        if slot.spare.take().is_some() {
            self.spares -= 1;
        }
        if let Some(Probe::Misc(mut m)) = slot.probe.take() {
            m.kill();
            if !m.try_reap() {
                self.reaping.push(m);
            }
        }
    }
}

/// A script whose attempt ended: reaped now, or killed and reaped by a later turn.
fn reap_or_kill(mut m: MiscProbe, reaping: &mut Vec<MiscProbe>) {
    if !m.try_reap() {
        m.kill();
        reaping.push(m);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for s in &mut self.slots {
            if let Some(Probe::Misc(m)) = &mut s.probe {
                m.kill();
                let _ = m.try_reap();
            }
        }
    }
}

/// How many idle sockets may be kept: half the descriptors left under the soft
/// `RLIMIT_NOFILE` after a reserve, so keeping them never starves new connections,
/// scripts or the caller's own descriptors.
fn spare_budget() -> usize {
    match nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) => {
            let soft = usize::try_from(soft).unwrap_or(usize::MAX);
            soft.saturating_sub(256) / 2
        }
        Err(_) => 0,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::spec::{FileSpec, Timing};

    #[test]
    fn absurd_timings_neither_panic_nor_spin() {
        let addr = "127.0.0.1:1".parse().unwrap();
        let mut huge = CheckSpec::new(CheckKind::Tcp, addr);
        huge.timing = Timing {
            delay_loop: Duration::MAX,
            connect_timeout: Duration::MAX,
            retry: u32::MAX,
            delay_before_retry: Duration::MAX,
            warmup: Duration::ZERO,
        };
        let mut zero = CheckSpec::new(
            CheckKind::File(FileSpec {
                path: "/nonexistent/ka-check".into(),
                weight: 0,
                reverse: false,
                dynamic: false,
            }),
            addr,
        );
        zero.timing = Timing {
            delay_loop: Duration::ZERO,
            connect_timeout: Duration::ZERO,
            retry: 0,
            delay_before_retry: Duration::ZERO,
            warmup: Duration::ZERO,
        };
        let mut e = Engine::new(vec![huge, zero], &SslConfig::default()).unwrap();
        let start = Instant::now();
        let mut turns = 0;
        while start.elapsed() < Duration::from_millis(200) {
            e.turn(Some(Duration::from_millis(50))).unwrap();
            turns += 1;
        }
        // A zero interval is raised to MIN_INTERVAL (+ slack): no spinning.
        assert!(turns < 60, "{turns} turns in 200 ms");
        assert!(e.dump()[1].passes >= 2);
    }

    #[test]
    fn an_attached_engine_runs_its_checks_on_its_owners_poll() {
        use std::os::unix::net::UnixStream;
        // The owner's poll, with a source of its own under token 0.
        let mut poll = Poll::new().unwrap();
        let (mine, mut peer) = UnixStream::pair().unwrap();
        mine.set_nonblocking(true).unwrap();
        let mut mine = mio::net::UnixStream::from_std(mine);
        poll.registry()
            .register(&mut mine, Token(0), mio::Interest::READABLE)
            .unwrap();
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut spec = CheckSpec::new(CheckKind::Tcp, l.local_addr().unwrap());
        spec.timing = Timing {
            delay_loop: Duration::from_millis(20),
            connect_timeout: Duration::from_secs(2),
            retry: 0,
            delay_before_retry: Duration::from_millis(20),
            warmup: Duration::ZERO,
        };
        let mut e = Engine::attached(
            vec![spec],
            Vec::new(),
            &SslConfig::default(),
            poll.registry(),
        )
        .unwrap();
        assert!(
            e.turn(Some(Duration::ZERO)).is_err(),
            "the owner polls, not the engine"
        );
        std::io::Write::write_all(&mut peer, b"x").unwrap();
        let mut events = Events::with_capacity(64);
        let (mut owner_events, start) = (0, Instant::now());
        while e.dump()[0].passes < 3 {
            assert!(start.elapsed() < Duration::from_secs(10), "{:?}", e.dump());
            let timeout = e.poll_timeout(Instant::now(), Some(Duration::from_millis(50)));
            poll.poll(&mut events, timeout).unwrap();
            let now = Instant::now();
            for ev in events.iter() {
                if Engine::owns(ev.token()) {
                    e.on_ready(ev.token(), Ready::of(ev), now);
                } else {
                    assert_eq!(ev.token(), Token(0));
                    owner_events += 1;
                }
            }
            e.run_due(now);
        }
        assert!(
            owner_events >= 1,
            "the owner's own source reached the owner"
        );
        assert!(!Engine::owns(Token(0)) && !Engine::owns(Token(1)));
        assert!(Engine::owns(INOTIFY_TOKEN) && Engine::owns(token_of(0, 1)));
    }

    /// A server loop for the test below: per connection, optionally answer an HTTP
    /// request, then report how the client ended the connection and from which port.
    fn serve(
        l: std::net::TcpListener,
        http: bool,
        n: usize,
    ) -> std::thread::JoinHandle<Vec<(u16, io::ErrorKind)>> {
        use std::io::{Read, Write};
        std::thread::spawn(move || {
            let mut out = Vec::new();
            for _ in 0..n {
                let (mut c, peer) = l.accept().unwrap();
                c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                let mut buf = [0u8; 1024];
                if http {
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        let k = c.read(&mut buf).unwrap();
                        assert!(k > 0);
                        got.extend_from_slice(&buf[..k]);
                    }
                    c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .unwrap();
                }
                let end = match c.read(&mut buf) {
                    Ok(0) => io::ErrorKind::UnexpectedEof,
                    Ok(_) => io::ErrorKind::InvalidData,
                    Err(e) => e.kind(),
                };
                out.push((peer.port(), end));
            }
            out
        })
    }

    #[test]
    fn passed_tcp_and_http_checks_end_with_a_rst_and_reuse_their_socket() {
        // TCP_CHECK is connect-only (SYN, SYN-ACK, RST: the handshake's ACK is held back
        // and never sent), so its server's application never accepts a connection; the
        // HTTP server sees each check end with a RST.
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (ta, ha) = (tcp.local_addr().unwrap(), http.local_addr().unwrap());
        let timing = Timing {
            delay_loop: Duration::from_millis(30),
            connect_timeout: Duration::from_secs(2),
            retry: 0,
            delay_before_retry: Duration::from_millis(30),
            warmup: Duration::ZERO,
        };
        let mut t = CheckSpec::new(CheckKind::Tcp, ta);
        t.timing = timing.clone();
        let mut h = CheckSpec::new(
            CheckKind::Http(Box::new(crate::spec::HttpSpec::get(false, "/"))),
            ha,
        );
        h.timing = timing;
        let sh = serve(http, true, 4);
        let mut e = Engine::new(vec![t, h], &SslConfig::default()).unwrap();
        let start = Instant::now();
        while e.dump().iter().any(|d| d.passes < 4) {
            assert!(start.elapsed() < Duration::from_secs(10), "{:?}", e.dump());
            e.turn(Some(Duration::from_millis(20))).unwrap();
        }
        assert!(e.dump().iter().all(|d| d.up && d.fails == 0));
        // Both sockets are kept between attempts, disconnected.
        assert_eq!(e.spares, 2);
        assert!(e.slots.iter().all(|s| s.spare.is_some()));
        tcp.set_nonblocking(true).unwrap();
        assert_eq!(
            tcp.accept().map(|_| ()).map_err(|e| e.kind()),
            Err(io::ErrorKind::WouldBlock),
            "a TCP_CHECK connection reached the application"
        );
        let (name, seen) = ("http", sh.join().unwrap());
        // Every connection ended with a RST (no FIN, so no TIME_WAIT) ...
        assert!(
            seen.iter()
                .all(|(_, k)| *k == io::ErrorKind::ConnectionReset),
            "{name}: {seen:?}"
        );
        // ... and each came from a new port: the disconnect released the old one.
        let mut ports: Vec<u16> = seen.iter().map(|(p, _)| *p).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), seen.len(), "{name}: {seen:?}");
        // The servers are gone: the kept sockets' next connects are refused, and the
        // checks go down as with new sockets.
        drop(tcp);
        let start = Instant::now();
        while e.dump().iter().any(|d| d.up) {
            assert!(start.elapsed() < Duration::from_secs(10), "{:?}", e.dump());
            e.turn(Some(Duration::from_millis(20))).unwrap();
        }
        assert_eq!(e.spares, 0);
        let downs: Vec<Report> = e.take_reports();
        assert_eq!(downs.iter().filter(|r| !r.up).count(), 2, "{downs:?}");
    }
}
