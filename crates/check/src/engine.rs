//! Every health check on one mio loop.
//!
//! ```text
//!            +-------------------- Engine::turn(max_wait) ---------------------+
//!            |  poll(sockets, pidfds, caller's fds; timeout = next timer)      |
//!            |    socket ready  -> probe.on_event  -> Pending | Pass | Fail    |
//!            |    timer due     -> start attempt / attempt timed out           |
//!            |  Pass/Fail -> retry logic (retry, delay_before_retry)           |
//!            |           -> Report { check, up, weight } when the state moves  |
//!            +-----------------------------------------------------------------+
//! ```
//! Sockets are non-blocking; scripts run as children watched through pidfds; nothing in
//! a turn waits on a peer. Each attempt has an inactivity limit (`connect_timeout`, pushed
//! back on every event) and a hard limit (3 × `connect_timeout`) so a server that drips
//! bytes forever still fails.
//!
//! Tokens: a check's token is `index << 16 | generation`; tokens with bit 62 set belong to
//! the caller (the checker child's IPC, signals), registered through [`Engine::registry`]
//! and handed back by [`Engine::turn`].

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::time::{Duration, Instant};

use mio::{Events, Poll, Registry, Token};

use crate::failure::Failure;
use crate::probe::misc::MiscProbe;
use crate::probe::{self, Ctx, Kind, Probe, Ready, Step};
use crate::spec::{describe, CheckId, CheckKind, CheckSpec, SslConfig};
use crate::tls::TlsContext;

/// Smallest `delay_loop`, `delay_before_retry` and `connect_timeout` honoured.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// How late a timer may fire so that neighbouring timers share one wake-up.
pub const TIMER_SLACK: Duration = Duration::from_millis(5);

/// Tokens at or above this belong to the caller.
pub const EXTERNAL_TOKEN_BASE: usize = 1 << 62;

/// The inotify fd watching FILE_CHECK files (just below the caller's tokens).
const INOTIFY_TOKEN: Token = Token(EXTERNAL_TOKEN_BASE - 1);

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
}

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

struct Attempt {
    probe: Probe,
    deadline: Instant,
    hard: Instant,
}

struct Slot {
    spec: CheckSpec,
    /// Its kind's settings, shared by its attempts.
    kind: Kind,
    up: bool,
    weight: Option<i64>,
    retry_it: u32,
    gen: u16,
    next_run: Option<Instant>,
    attempt: Option<Attempt>,
    queued: Option<Instant>,
    suspended: bool,
    passes: u64,
    fails: u64,
    last_failure: Option<Failure>,
    /// The socket of the last passed attempt, disconnected and still registered under
    /// `token_of(index, gen)`: the next attempt connects on it.
    spare: Option<mio::net::TcpStream>,
}

impl Slot {
    fn wake_time(&self) -> Option<Instant> {
        match &self.attempt {
            Some(a) => Some(a.deadline.min(a.hard)),
            None if self.suspended => None,
            None => self.next_run,
        }
    }
}

/// The loop.
pub struct Engine {
    poll: Poll,
    events: Events,
    slots: Vec<Slot>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    ctx: Ctx,
    reports: Vec<Report>,
    reaping: Vec<MiscProbe>,
    again: Vec<Token>,
    files: Option<FileWatch>,
    /// This turn's events, kept between turns so no turn allocates.
    ready: Vec<(Token, Ready)>,
    /// One receive buffer for every probe (reads never outlive an event).
    rbuf: Box<[u8]>,
    /// Sockets kept between attempts ([`Slot::spare`]), and how many may be kept.
    spares: usize,
    spare_budget: usize,
}

/// Size of the shared receive buffer.
const RBUF_LEN: usize = 16 * 1024;

fn token_of(idx: usize, gen: u16) -> Token {
    Token((idx << 16) | usize::from(gen))
}

impl Engine {
    /// Build the loop for `specs` (check ids are their indices). First checks run after a
    /// random part of `warmup`.
    pub fn new(specs: Vec<CheckSpec>, ssl: &SslConfig) -> Result<Engine, EngineError> {
        let poll = Poll::new().map_err(EngineError::Poll)?;
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
        let slots = specs
            .into_iter()
            .map(|mut spec| {
                // No busy loop on a zero interval.
                let t = &mut spec.timing;
                t.delay_loop = t.delay_loop.max(MIN_INTERVAL);
                t.delay_before_retry = t.delay_before_retry.max(MIN_INTERVAL);
                t.connect_timeout = t.connect_timeout.max(MIN_INTERVAL);
                let warm = spec.timing.warmup.as_millis() as u64;
                let delay = if warm == 0 {
                    0
                } else {
                    (u64::from(ctx.rand16()) << 16 | u64::from(ctx.rand16())) % warm
                };
                Slot {
                    up: !spec.alpha,
                    kind: Kind::of(&spec),
                    spec,
                    weight: None,
                    retry_it: 0,
                    gen: 0,
                    next_run: Some(later(now, Duration::from_millis(delay))),
                    attempt: None,
                    queued: None,
                    suspended: false,
                    passes: 0,
                    fails: 0,
                    last_failure: None,
                    spare: None,
                }
            })
            .collect();
        let mut e = Engine {
            poll,
            events: Events::with_capacity(1024),
            slots,
            timers: BinaryHeap::new(),
            ctx,
            reports: Vec::new(),
            reaping: Vec::new(),
            again: Vec::new(),
            files: None,
            ready: Vec::new(),
            rbuf: vec![0u8; RBUF_LEN].into_boxed_slice(),
            spares: 0,
            spare_budget: spare_budget(),
        };
        e.files = FileWatch::new(&e.slots, e.poll.registry());
        for i in 0..e.slots.len() {
            e.schedule(i);
        }
        Ok(e)
    }

    /// Register the caller's own sources here, with tokens >= [`EXTERNAL_TOKEN_BASE`].
    pub fn registry(&self) -> &Registry {
        self.poll.registry()
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
        self.slots.get(id.0).map(|s| s.up)
    }

    /// The spec of check `id`.
    pub fn spec(&self, id: CheckId) -> Option<&CheckSpec> {
        self.slots.get(id.0).map(|s| &s.spec)
    }

    /// Pause (ha_suspend: the VIP is absent) or resume a check. A running attempt is
    /// dropped; a resumed check runs at once.
    pub fn set_suspended(&mut self, id: CheckId, suspended: bool) {
        let Some(s) = self.slots.get_mut(id.0) else {
            return;
        };
        if s.suspended == suspended {
            return;
        }
        s.suspended = suspended;
        if s.spare.take().is_some() {
            self.spares -= 1;
        }
        if suspended {
            if let Some(a) = s.attempt.take() {
                if let Probe::Misc(mut m) = a.probe {
                    m.kill();
                    self.reaping.push(m);
                }
            }
            s.retry_it = 0;
        } else {
            s.next_run = Some(Instant::now());
        }
        self.schedule(id.0);
    }

    /// State changes since the last call.
    pub fn take_reports(&mut self) -> Vec<Report> {
        std::mem::take(&mut self.reports)
    }

    /// Every check's state.
    pub fn dump(&self) -> Vec<CheckDump> {
        self.slots
            .iter()
            .enumerate()
            .map(|(i, s)| CheckDump {
                check: CheckId(i),
                what: describe(&s.spec),
                up: s.up,
                weight: s.weight,
                retry_it: s.retry_it,
                passes: s.passes,
                fails: s.fails,
                last_failure: s.last_failure.as_ref().map(|f| f.to_string()),
                suspended: s.suspended,
            })
            .collect()
    }

    /// When the next timer is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// One turn of the loop: wait for readiness (at most `max_wait`, or until the next
    /// timer), run what is ready and due. Returns the caller's tokens that became ready.
    pub fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<Vec<Token>> {
        let now = Instant::now();
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
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let mut external = Vec::new();
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.events.iter().map(|e| (e.token(), Ready::of(e))));
        // One clock read per turn: in VMs without a vDSO clock every read is a syscall.
        let now = Instant::now();
        for &(token, r) in &ready {
            if token == INOTIFY_TOKEN {
                let changed = self
                    .files
                    .as_ref()
                    .map(FileWatch::changed)
                    .unwrap_or_default();
                for i in changed {
                    if let Some(s) = self.slots.get_mut(i) {
                        if s.attempt.is_none() && !s.suspended {
                            s.next_run = Some(now);
                            self.schedule(i);
                        }
                    }
                }
                continue;
            }
            if token.0 >= EXTERNAL_TOKEN_BASE {
                external.push(token);
                continue;
            }
            self.on_ready(token, r, now);
        }
        self.ready = ready;
        for token in std::mem::take(&mut self.again) {
            self.on_ready(token, Ready::READ_AGAIN, now);
        }
        self.run_timers(now);
        self.reaping.retain_mut(|m| !m.try_reap());
        Ok(external)
    }

    fn on_ready(&mut self, token: Token, ready: Ready, now: Instant) {
        let idx = token.0 >> 16;
        let gen = (token.0 & 0xffff) as u16;
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        if slot.gen != gen {
            return;
        }
        let Some(att) = slot.attempt.as_mut() else {
            return;
        };
        let step = att.probe.on_event(
            &self.ctx,
            self.poll.registry(),
            token,
            ready,
            &mut self.rbuf,
        );
        match step {
            Step::Pending => {
                att.deadline = later(now, slot.spec.timing.connect_timeout);
            }
            Step::Yield => {
                att.deadline = later(now, slot.spec.timing.connect_timeout);
                self.again.push(token);
            }
            done => self.finish(idx, done, now),
        }
    }

    fn schedule(&mut self, idx: usize) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        let Some(want) = slot.wake_time() else {
            return;
        };
        if slot.queued.is_none_or(|q| want < q) {
            slot.queued = Some(want);
            self.timers.push(Reverse((want, idx)));
        }
    }

    fn run_timers(&mut self, now: Instant) {
        while let Some(&Reverse((t, idx))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            let Some(slot) = self.slots.get_mut(idx) else {
                continue;
            };
            if slot.queued != Some(t) {
                continue; // superseded by an earlier entry
            }
            slot.queued = None;
            if let Some(att) = slot.attempt.as_mut() {
                if now >= att.deadline.min(att.hard) {
                    let step = if now >= att.hard {
                        if let Probe::Misc(m) = &mut att.probe {
                            m.kill();
                        }
                        Step::Fail(Failure::TooSlow)
                    } else {
                        att.probe.on_timeout()
                    };
                    self.finish(idx, step, now);
                }
            } else if !slot.suspended && slot.next_run.is_some_and(|n| n <= now) {
                self.start(idx, now);
            }
            self.schedule(idx);
        }
    }

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
        slot.next_run = None;
        let token = token_of(idx, slot.gen);
        match probe::start(
            &slot.kind,
            &slot.spec.target,
            &mut self.ctx,
            self.poll.registry(),
            token,
            spare,
        ) {
            Ok(probe) => {
                let ct = slot.spec.timing.connect_timeout;
                // MISC_CHECK: misc_timeout (default delay_loop) is the limit.
                let limit = match (&slot.spec.kind, &probe) {
                    (CheckKind::Misc(m), _) => m.timeout.unwrap_or(slot.spec.timing.delay_loop),
                    _ => ct,
                };
                let hard = match &slot.spec.kind {
                    CheckKind::Misc(_) => limit,
                    _ => ct.saturating_mul(3),
                };
                slot.attempt = Some(Attempt {
                    probe,
                    deadline: later(now, limit),
                    hard: later(now, hard),
                });
            }
            Err(step) => self.finish(idx, step, now),
        }
    }

    fn finish(&mut self, idx: usize, step: Step, now: Instant) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        if let Some(a) = slot.attempt.take() {
            if let Probe::Misc(mut m) = a.probe {
                if !m.try_reap() {
                    m.kill();
                    self.reaping.push(m);
                }
            } else if matches!(step, Step::Pass(_)) && self.spares < self.spare_budget {
                // A passed TCP/HTTP attempt ends with a RST and keeps its socket.
                slot.spare = a.probe.recycle();
                if slot.spare.is_some() {
                    self.spares += 1;
                }
            }
        }
        let what = || describe(&slot.spec);
        let timing = &slot.spec.timing;
        match step {
            Step::Pending | Step::Yield => return,
            Step::Pass(w) => {
                slot.passes += 1;
                slot.retry_it = 0;
                let changed = !slot.up || (w.is_some() && w != slot.weight);
                slot.up = true;
                if w.is_some() {
                    slot.weight = w;
                }
                slot.next_run = Some(later(now, timing.delay_loop));
                if changed {
                    log::info!("{} succeeded", what());
                    self.reports.push(Report {
                        check: CheckId(idx),
                        up: true,
                        weight: slot.weight,
                        failure: None,
                    });
                }
            }
            Step::Fail(f) => {
                slot.fails += 1;
                if slot.spec.log_all_failures {
                    log::warn!("{} failed: {f}", what());
                }
                // A tracked file's value is a state, not an attempt: no retries.
                let retries = match slot.spec.kind {
                    CheckKind::File(_) => 0,
                    _ => timing.retry,
                };
                if slot.up && slot.retry_it < retries {
                    slot.retry_it += 1;
                    log::info!(
                        "{} failed ({f}); retry {} of {} in {:?}",
                        what(),
                        slot.retry_it,
                        timing.retry,
                        timing.delay_before_retry
                    );
                    slot.next_run = Some(later(now, timing.delay_before_retry));
                } else {
                    slot.retry_it = 0;
                    slot.next_run = Some(later(now, timing.delay_loop));
                    if slot.up {
                        slot.up = false;
                        log::warn!("{} failed: {f}", what());
                        self.reports.push(Report {
                            check: CheckId(idx),
                            up: false,
                            weight: slot.weight,
                            failure: Some(f.clone()),
                        });
                    }
                }
                slot.last_failure = Some(f);
            }
        }
        self.schedule(idx);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for s in &mut self.slots {
            if let Some(Attempt {
                probe: Probe::Misc(m),
                ..
            }) = &mut s.attempt
            {
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

/// `now + d`, saturating at a century ahead (configs may say absurd durations).
fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(Duration::from_secs(100 * 365 * 86400)))
        .unwrap_or(now)
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
