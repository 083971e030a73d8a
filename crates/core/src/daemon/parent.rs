//! The parent's event loop: the hub between the children, and their watchdog.
//!
//! ```text
//!            signals (self-pipe)          SIGCHLD -> reap -> respawn timer
//!                   |                                 |
//!   mio Poll  ------+------------- VRRP channel ----- + ---- checker channel
//!                   |                  |                        |
//!      Stop/Reload/Dump     FromVrrp::InstanceState      FromChecker::ServiceState
//!                           (kept) ------------------->  ToChecker::VrrpInstance
//!                                                        (kept, not passed on)
//! ```
//!
//! One thread, one `mio::Poll`. The poll timeout is the nearest deadline: a delayed
//! respawn, or the end of the stop grace period.

use super::child::{self, exit, Bodies, Role};
use super::notify::{Heartbeat, Notifier};

mod control;
mod dumps;
mod reload;
pub(crate) mod starve;
mod systemd;
use super::source::{Kept, Loaded, Loader};
use super::states::States;
use super::{dump, pidfile, release, signals, Settings};
use crate::control::What;
use ka_proto::ipc::checker::{self, FromChecker, ToChecker};
use ka_proto::ipc::vrrp::{self, FromVrrp, ToVrrp};
use ka_proto::ipc::{Channel, ChannelError, DumpKind, Hello, InstanceSnapshot, ServiceSnapshot};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use signal_hook_mio::v1_0::Signals;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::watchdog::Throttle;

const SIGNALS: Token = Token(0);

/// A child that leaves this much unread in its channel is stuck: it is restarted.
const MAX_QUEUED: usize = 2 * ka_proto::ipc::MAX_FRAME;

/// How long a child may live on after closing its IPC channel.
const IPC_LOST_GRACE: Duration = Duration::from_secs(2);

/// Bounds of the wait for a VRRP child started only to leave VRRP (`child_wait_time`
/// within them): it resumes and stops at once, which takes well under a second.
const LEAVE_MIN: Duration = Duration::from_secs(1);
const LEAVE_MAX: Duration = Duration::from_secs(2);

fn token(role: Role) -> Token {
    match role {
        Role::Vrrp => Token(1),
        Role::Checker => Token(2),
    }
}

/// The parent's end of a child's channel: each child has its own message types.
enum Link {
    Vrrp(vrrp::ParentEnd),
    Checker(checker::ParentEnd),
}

/// A message read from either child.
enum Heard {
    Vrrp(FromVrrp),
    Checker(FromChecker),
}

impl Link {
    fn recv(&mut self) -> Result<Option<Heard>, ChannelError> {
        match self {
            Link::Vrrp(c) => c.recv().map(|m| m.map(Heard::Vrrp)),
            Link::Checker(c) => c.recv().map(|m| m.map(Heard::Checker)),
        }
    }

    fn flush(&mut self) -> Result<bool, ChannelError> {
        match self {
            Link::Vrrp(c) => c.flush(),
            Link::Checker(c) => c.flush(),
        }
    }

    fn queued(&self) -> usize {
        match self {
            Link::Vrrp(c) => c.queued(),
            Link::Checker(c) => c.queued(),
        }
    }

    fn as_raw_fd(&self) -> RawFd {
        match self {
            Link::Vrrp(c) => c.as_raw_fd(),
            Link::Checker(c) => c.as_raw_fd(),
        }
    }
}

/// Send `msgs` in order, stopping at the first error.
fn send_all<Out: serde::Serialize, In: serde::de::DeserializeOwned>(
    chan: &mut Channel<Out, In>,
    msgs: &[Out],
) -> Result<(), ChannelError> {
    msgs.iter().try_for_each(|m| chan.send(m))
}

/// One child slot (VRRP or checker).
struct Slot {
    role: Role,
    pid_file: PathBuf,
    /// The configuration wants this child.
    wanted: bool,
    /// Running child.
    pid: Option<i32>,
    chan: Option<Link>,
    started_at: Instant,
    throttle: Throttle,
    respawn_at: Option<Instant>,
    restarts: u32,
    ready: bool,
    /// Started and not `Ready` yet: killed (and started again) if still not by then.
    ready_by: Option<Instant>,
    /// The channel closed while the child was alive: kill it if still alive then.
    ipc_lost: Option<Instant>,
    /// When the child last answered the heartbeat (its start counts as one answer).
    answered: Option<Instant>,
    /// Whether it gets a CPU ([`starve`]).
    watch: starve::Watch,
    /// Sent SIGKILL while stopping, and not gone yet.
    killed: Option<starve::Killed>,
}

impl Slot {
    fn new(role: Role, pid_file: PathBuf) -> Slot {
        Slot {
            role,
            pid_file,
            wanted: false,
            pid: None,
            chan: None,
            started_at: Instant::now(),
            throttle: Throttle::new(),
            respawn_at: None,
            restarts: 0,
            ready: false,
            ready_by: None,
            answered: None,
            ipc_lost: None,
            watch: starve::Watch::default(),
            killed: None,
        }
    }
}

/// The parent process state.
pub struct Parent {
    settings: Settings,
    loader: Loader,
    bodies: Bodies,
    /// The configuration in force, encoded ([`Kept`]).
    kept: Kept,
    poll: Poll,
    signals: Signals,
    slots: [Slot; 2],
    instances: States,
    services: BTreeMap<(String, Option<String>), ServiceSnapshot>,
    /// Stopping: (deadline for the children, exit code).
    stopping: Option<(Instant, i32)>,
    /// When the children are next looked at for starvation ([`starve`]).
    starve_at: Instant,
    started: Instant,
    /// systemd's notification socket, when started by systemd.
    notify: Option<Notifier>,
    /// `READY=1` has been sent (it is sent once every started child is ready).
    ready_sent: bool,
    /// The last `STATUS=` sent, and whether a state came in since.
    status: String,
    status_dirty: bool,
    /// Under a systemd watchdog: the pings to the children that gate `WATCHDOG=1`.
    heartbeat: Option<Heartbeat>,
    /// The control socket (`keepalived-rs ctl`), unless it could not be bound.
    control: Option<control::Control>,
    /// Reloads asked for, and of those refused.
    reloads: u64,
    reloads_refused: u64,
    /// When the configuration in force was read (seconds since the epoch).
    config_loaded: f64,
    /// Who gets each dump a child is asked for.
    waiters: dumps::Waiters,
    /// What `ctl maintenance` drained.
    drained: control::Drained,
    /// Real servers `ctl real-server disable` disabled (virtual, real server names): sent
    /// again to a checker child that starts.
    disabled_rs: std::collections::BTreeSet<(String, String)>,
}

fn idx(role: Role) -> usize {
    match role {
        Role::Vrrp => 0,
        Role::Checker => 1,
    }
}

impl Parent {
    /// Set up the loop (signals registered, no child started yet). `loaded` is kept
    /// encoded ([`Kept`]) and the freed heap given back to the kernel before any child is
    /// forked.
    pub fn new(
        settings: Settings,
        loader: Loader,
        bodies: Bodies,
        loaded: Loaded,
    ) -> io::Result<Parent> {
        let kept = Kept::new(&loaded).map_err(|e| {
            io::Error::other(format!(
                "the configuration cannot be sent to the children: {e}"
            ))
        })?;
        drop(loaded);
        crate::mem::trim();
        log::debug!(
            "configuration kept encoded ({} bytes); {}",
            kept.encoded_len(),
            crate::mem::summary()
        );
        let poll = Poll::new()?;
        let mut signals = Signals::new(signals::parent_signals(settings.ignore_sigint))?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)?;
        child::set_ignore_sigint(settings.ignore_sigint);
        if settings.ignore_sigint {
            // keepalived --ignore-sigint: SIGINT does nothing at all.
            let _ = signal_hook::flag::register(libc::SIGINT, Default::default());
        }
        let control = match control::Control::bind(
            &settings.control_socket,
            settings.control_group.as_deref(),
            poll.registry(),
        ) {
            Ok(mut c) => {
                log::info!("Control socket at {}", c.path().display());
                if let Some(addr) = settings.metrics_listen {
                    match c.listen_http(addr, poll.registry()) {
                        Ok(()) => log::info!("Metrics and status page on http://{addr}/"),
                        Err(e) => log::error!("Cannot serve metrics on {addr}: {e}"),
                    }
                }
                Some(c)
            }
            Err(e) => {
                log::warn!(
                    "No control socket at {}: {e}",
                    settings.control_socket.display()
                );
                None
            }
        };
        let slots = [
            Slot::new(Role::Vrrp, settings.vrrp_pid_file.clone()),
            Slot::new(Role::Checker, settings.checkers_pid_file.clone()),
        ];
        Ok(Parent {
            settings,
            loader,
            bodies,
            kept,
            poll,
            signals,
            slots,
            instances: States::default(),
            services: BTreeMap::new(),
            stopping: None,
            starve_at: Instant::now(),
            started: Instant::now(),
            notify: None,
            ready_sent: false,
            status: String::new(),
            status_dirty: false,
            heartbeat: None,
            control,
            reloads: 0,
            reloads_refused: 0,
            config_loaded: control::unix_ms() as f64 / 1000.0,
            waiters: dumps::Waiters::default(),
            drained: control::Drained::default(),
            disabled_rs: Default::default(),
        })
    }

    fn wants(&self, role: Role) -> bool {
        let s = &self.settings;
        match role {
            Role::Vrrp => !s.checker_only && (s.all || self.kept.needs_vrrp),
            Role::Checker => !s.vrrp_only && (s.all || self.kept.needs_checker),
        }
    }

    /// Run until stopped; returns the exit code and the `global_defs` in force at the end
    /// (for the shutdown script).
    pub fn run(mut self) -> (i32, ka_proto::config::GlobalDefs) {
        // keepalived's order: checker first, then VRRP.
        for role in [Role::Checker, Role::Vrrp] {
            let w = self.wants(role);
            self.slots[idx(role)].wanted = w;
            if w {
                self.start_child(role);
            }
        }
        if !self.slots.iter().any(|s| s.wanted) {
            log::info!("No VRRP instance or virtual server configured: no child to start");
        }
        let mut events = Events::with_capacity(16);
        loop {
            let timeout = self.next_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::error!("poll failed: {e}");
                    self.begin_stop(exit::FATAL);
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => self.on_signals(),
                    t if t == token(Role::Vrrp) => self.on_child_io(Role::Vrrp),
                    t if t == token(Role::Checker) => self.on_child_io(Role::Checker),
                    t if self.control.as_ref().is_some_and(|c| c.owns(t)) => self.on_control(t),
                    _ => {}
                }
            }
            self.reap();
            self.respawn_due();
            self.notify_progress();
            self.heartbeat_tick();
            self.starve_tick();
            if let Some(code) = self.stop_progress() {
                return (code, self.kept.global);
            }
        }
    }

    fn next_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        // A stop's deadline once past is not a wake-up any more (the cap below is).
        let mut next: Option<Instant> = self.stopping.map(|(d, _)| d).filter(|&d| d > now);
        if let Some(t) = self.starve_deadline() {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        for s in &self.slots {
            for t in [s.respawn_at, s.ipc_lost, s.ready_by].into_iter().flatten() {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        if let Some(t) = self.heartbeat.as_ref().and_then(Heartbeat::next_ping) {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        // While stopping, also poll for exits regularly (SIGCHLD also wakes us).
        let cap = self.stopping.map(|_| Duration::from_millis(50));
        let t = next.map(|n| n.saturating_duration_since(now));
        match (t, cap) {
            (Some(t), Some(c)) => Some(t.min(c)),
            (t, c) => t.or(c),
        }
    }

    // ---- children -------------------------------------------------------------------

    fn start_child(&mut self, role: Role) {
        let i = idx(role);
        self.slots[i].respawn_at = None;
        let spawned = match role {
            Role::Vrrp => child::spawn(role, self.bodies.vrrp).map(|(p, c)| (p, Link::Vrrp(c))),
            Role::Checker => {
                child::spawn(role, self.bodies.checker).map(|(p, c)| (p, Link::Checker(c)))
            }
        };
        let (pid, mut chan) = match spawned {
            Ok(x) => x,
            Err(e) => {
                log::error!("Unable to fork {role} child process: {e}");
                let delay = self.slots[i].throttle.next_delay(Duration::ZERO);
                self.slots[i].respawn_at = Some(Instant::now() + delay.max(Duration::from_secs(1)));
                return;
            }
        };
        log::info!("Starting {role} child process, pid={pid}");
        self.event(What::ChildStart {
            role: control::role_name(role).to_string(),
            pid,
        });
        if let Err(e) = pidfile::write(&self.slots[i].pid_file, pid as u32) {
            log::warn!("{e}");
        }
        if let Err(e) = self.poll.registry().register(
            &mut SourceFd(&chan.as_raw_fd()),
            token(role),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::error!("cannot watch the {role} child's IPC socket: {e}");
        }
        // Decoded only now, after the fork: decoded before, it would stay in the child's
        // heap (a copy of ours) for good.
        let config = match self.kept.config() {
            Ok(mut c) if role == Role::Checker => super::source::for_checker(&mut c),
            Ok(c) => c,
            Err(e) => {
                log::error!("the configuration kept by the parent cannot be decoded ({e})");
                let slot = &mut self.slots[i];
                slot.pid = Some(pid);
                slot.chan = Some(chan);
                self.begin_stop(exit::FATAL);
                return;
            }
        };
        let config = Box::new(config);
        let flags = self.settings.flags.clone();
        let sent = match &mut chan {
            Link::Vrrp(c) => {
                let mut msgs = vec![ToVrrp::Hello(Hello::new(role))];
                if !self.instances.is_empty() {
                    msgs.push(ToVrrp::Resume(self.instances.all()));
                }
                msgs.push(ToVrrp::Start { config, flags });
                send_all(c, &msgs)
            }
            Link::Checker(c) => send_all(
                c,
                &[
                    ToChecker::Hello(Hello::new(role)),
                    ToChecker::Start { config, flags },
                ],
            ),
        };
        crate::mem::trim();
        let slot = &mut self.slots[i];
        slot.pid = Some(pid);
        slot.chan = Some(chan);
        slot.started_at = Instant::now();
        slot.ready = false;
        slot.ready_by = Some(slot.started_at + self.settings.ready_timeout);
        slot.ipc_lost = None;
        slot.answered = Some(slot.started_at);
        slot.watch.reset();
        slot.killed = None;
        if let Err(e) = sent {
            self.on_channel_error(role, e);
        }
    }

    /// A child's channel is unusable: drop it and kill the child; the watchdog restarts it.
    fn child_broken(&mut self, role: Role, why: &str) {
        let i = idx(role);
        let stopping = self.stopping.is_some();
        let slot = &mut self.slots[i];
        if let Some(chan) = slot.chan.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&chan.as_raw_fd()));
        }
        if let Some(pid) = slot.pid {
            if !stopping {
                log::error!("{role} child process({pid}): {why}; restarting it");
            }
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }

    fn on_child_io(&mut self, role: Role) {
        let i = idx(role);
        loop {
            let Some(chan) = self.slots[i].chan.as_mut() else {
                return;
            };
            if let Err(e) = chan.flush() {
                self.on_channel_error(role, e);
                return;
            }
            match chan.recv() {
                Ok(Some(msg)) => self.on_message(msg),
                Ok(None) => return,
                Err(e) => {
                    self.on_channel_error(role, e);
                    return;
                }
            }
        }
    }

    fn on_channel_error(&mut self, role: Role, e: ChannelError) {
        match e {
            ChannelError::Closed => {
                // The child is exiting (its exit status will tell why), or it closed its
                // end while staying alive: give it a moment, then treat it as broken.
                let slot = &mut self.slots[idx(role)];
                if let Some(chan) = slot.chan.take() {
                    let _ = self
                        .poll
                        .registry()
                        .deregister(&mut SourceFd(&chan.as_raw_fd()));
                }
                if slot.pid.is_some() {
                    slot.ipc_lost = Some(Instant::now() + IPC_LOST_GRACE);
                }
            }
            ChannelError::Codec(c) => {
                self.child_broken(role, &format!("sent a bad IPC frame ({c})"));
            }
            ChannelError::Io(err) => {
                self.child_broken(role, &format!("IPC error ({err})"));
            }
        }
    }

    fn send_vrrp(&mut self, msg: &ToVrrp) {
        let sent = match self.slots[idx(Role::Vrrp)].chan.as_mut() {
            Some(Link::Vrrp(c)) => c.send(msg),
            _ => return,
        };
        self.sent(Role::Vrrp, sent);
    }

    fn send_checker(&mut self, msg: &ToChecker) {
        let sent = match self.slots[idx(Role::Checker)].chan.as_mut() {
            Some(Link::Checker(c)) => c.send(msg),
            _ => return,
        };
        self.sent(Role::Checker, sent);
    }

    /// `Stop` to either child.
    fn send_stop(&mut self, role: Role) {
        match role {
            Role::Vrrp => self.send_vrrp(&ToVrrp::Stop),
            Role::Checker => self.send_checker(&ToChecker::Stop),
        }
    }

    /// After a send to `role`: a failed channel, or a child that does not read it, is
    /// broken.
    fn sent(&mut self, role: Role, result: Result<(), ChannelError>) {
        let queued = self.slots[idx(role)].chan.as_ref().map_or(0, Link::queued);
        if let Err(e) = result {
            self.on_channel_error(role, e);
        } else if queued > MAX_QUEUED {
            self.child_broken(
                role,
                &format!("does not read its IPC channel ({queued} bytes queued)"),
            );
        }
    }

    fn on_message(&mut self, msg: Heard) {
        match msg {
            Heard::Vrrp(m) => self.on_vrrp_message(m),
            Heard::Checker(m) => self.on_checker_message(m),
        }
    }

    /// A child's hello: another protocol version or another build is refused (the child
    /// is killed and started again, from this build).
    fn on_hello(&mut self, role: Role, h: &Hello) {
        if let Err(e) = h.check(role) {
            self.child_broken(role, &format!("IPC hello refused: {e}"));
        }
    }

    fn on_ready(&mut self, role: Role) {
        let slot = &mut self.slots[idx(role)];
        slot.ready = true;
        slot.ready_by = None;
        log::debug!("{role} child process({}) ready", slot.pid.unwrap_or(0));
    }

    /// A VRRP instance state: kept (for a respawned child's `Resume`, the dump and the
    /// stop), and passed on to the checker child (`ha_suspend`).
    fn on_instance_state(&mut self, s: InstanceSnapshot) {
        log::debug!("({}) {} priority {}", s.name, s.state, s.priority);
        self.status_dirty = true;
        let msg = ToChecker::VrrpInstance(s.clone());
        let (name, to, prio) = (s.name.clone(), s.state, s.priority);
        let now = control::unix_ms() as f64 / 1000.0;
        if let Some(before) = self.instances.insert(s, now) {
            self.event(What::VrrpState {
                iname: name,
                from: before.map(|b| b.as_str().to_string()),
                to: to.as_str().to_string(),
                effective_priority: prio,
            });
        }
        self.send_checker(&msg);
    }

    fn on_vrrp_message(&mut self, msg: FromVrrp) {
        match msg {
            FromVrrp::Hello(h) => self.on_hello(Role::Vrrp, &h),
            FromVrrp::Ready => {
                self.on_ready(Role::Vrrp);
                self.resend_maintenance();
            }
            FromVrrp::InstanceState(s) => self.on_instance_state(s),
            FromVrrp::DumpText { kind, text } => self.on_dump_text(Role::Vrrp, kind, text),
            FromVrrp::Pong(_) => self.slots[idx(Role::Vrrp)].answered = Some(Instant::now()),
            FromVrrp::Status(r) => self.on_report(dumps::Report::Vrrp(r)),
        }
    }

    fn on_checker_message(&mut self, msg: FromChecker) {
        match msg {
            FromChecker::Hello(h) => self.on_hello(Role::Checker, &h),
            FromChecker::Ready => {
                self.on_ready(Role::Checker);
                self.resend_disabled_real_servers();
            }
            FromChecker::ServiceState(s) => {
                self.status_dirty = true;
                let key = (s.virtual_server.clone(), s.real_server.clone());
                if self.services.get(&key).map(|o| o.up) != Some(s.up) {
                    self.event(What::Service {
                        virtual_server: s.virtual_server.clone(),
                        real_server: s.real_server.clone(),
                        up: s.up,
                    });
                }
                self.services
                    .insert((s.virtual_server.clone(), s.real_server.clone()), s);
            }
            FromChecker::DumpText { kind, text } => self.on_dump_text(Role::Checker, kind, text),
            FromChecker::Pong(_) => self.slots[idx(Role::Checker)].answered = Some(Instant::now()),
            FromChecker::RealServerDone {
                virtual_server,
                real_server,
                disabled,
                found,
            } => self.on_real_server_done(virtual_server, real_server, disabled, found),
            FromChecker::Status(r) => self.on_report(dumps::Report::Checker(r)),
        }
    }

    fn write_child_dump(&self, role: Role, kind: DumpKind, text: &str) {
        let Some(name) = dump::child_file_name(role, kind) else {
            return;
        };
        match dump::write(&dump::tmp_dir(), name, text) {
            Ok(path) => log::info!("{role} dump written to {}", path.display()),
            Err(e) => log::error!("cannot write {name}: {e}"),
        }
    }

    /// Reap every exited child and decide what happens next.
    fn reap(&mut self) {
        loop {
            let st = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => return,
                Ok(st) => st,
            };
            let (pid, code, sig) = match st {
                WaitStatus::Exited(p, c) => (p.as_raw(), Some(c), None),
                WaitStatus::Signaled(p, s, _) => (p.as_raw(), None, Some(s)),
                _ => continue,
            };
            let Some(i) = self.slots.iter().position(|s| s.pid == Some(pid)) else {
                continue;
            };
            self.child_exited(i, pid, code, sig);
        }
    }

    fn child_exited(&mut self, i: usize, pid: i32, code: Option<i32>, sig: Option<Signal>) {
        let role = self.slots[i].role;
        if let Some(mut chan) = self.slots[i].chan.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&chan.as_raw_fd()));
            // The child's last words (e.g. a state change just before it died) are still
            // in the socket: read them before forgetting the channel.
            while let Ok(Some(msg)) = chan.recv() {
                self.on_message(msg);
            }
        }
        let how = match (code, sig) {
            (Some(c), _) => format!("exited with status {c}"),
            (None, Some(s)) => format!("killed by {}", signal_name(s)),
            (None, None) => "exited".to_string(),
        };
        self.event(What::ChildExit {
            role: control::role_name(role).to_string(),
            pid,
            how,
        });
        self.forget_waiters(role);
        let slot = &mut self.slots[i];
        slot.pid = None;
        slot.ready = false;
        slot.ready_by = None;
        slot.ipc_lost = None;
        slot.watch.reset();
        slot.killed = None;
        pidfile::remove(&slot.pid_file, pid as u32);
        let ran = slot.started_at.elapsed();
        if self.stopping.is_some() {
            log::debug!("{role} child process({pid}) exited");
            if role == Role::Vrrp && code != Some(exit::OK) {
                // It died instead of stopping: what it held is still installed.
                self.release_unattended(true);
            }
            return;
        }
        if !slot.wanted && code == Some(exit::OK) {
            // Stopped because a reload no longer needs it.
            log::info!("{role} child process({pid}) exited");
            return;
        }
        if let Some(c) = code {
            if let Some(name) = exit::permanent_name(c) {
                log::error!("pid {pid} exited with permanent error {name}. Terminating");
                self.begin_stop(c);
                return;
            }
            log::warn!("pid {pid} exited with status {c}");
        }
        if let Some(s) = sig {
            log::warn!(
                "pid {pid} exited due to signal {} ({})",
                s as i32,
                signal_name(s)
            );
        }
        if !slot.wanted {
            return;
        }
        if self.settings.dont_respawn {
            log::error!("{role} child process({pid}) died: Exiting");
            self.begin_stop(exit::OK);
            return;
        }
        log::warn!("{role} child process({pid}) died: Respawning");
        let holding = role == Role::Vrrp && self.instances.any_holding();
        let slot = &mut self.slots[i];
        let delay = slot.throttle.next_delay_holding(ran, holding);
        log::warn!(
            "Restart of {role} process delayed {} seconds to limit respawn rate",
            delay.as_secs()
        );
        slot.restarts += 1;
        slot.respawn_at = Some(Instant::now() + delay);
        if holding && !delay.is_zero() {
            // A crash loop: no VRRP child for a while, and the backup takes over after its
            // master-down interval. Do not leave the VIPs here meanwhile.
            self.release_unattended(false);
        }
    }

    /// The host leaves VRRP for the instances the last VRRP child reported MASTER with
    /// addresses installed, now that no child runs to do it: priority-0 adverts and their
    /// VIPs removed by a VRRP child started only to stop ([`release::leave`]), or if that
    /// fails, the VIPs removed by the parent itself ([`release::release`]). `stopping`:
    /// the daemon stops (the static addresses go too); otherwise the child is only
    /// delayed, and the statics stay for the next one. Forget that the instances were held,
    /// so that the next child starts afresh instead of resuming MASTER.
    fn release_unattended(&mut self, stopping: bool) {
        let snaps: Vec<InstanceSnapshot> = self.instances.holding();
        let held: std::collections::BTreeSet<String> =
            snaps.iter().map(|i| i.name.clone()).collect();
        let flags = self.settings.flags.clone();
        match self.kept.config() {
            Ok(config) => {
                // With -V a delayed child's VIPs stay (as they would at a stop): no advert
                // then either, or the backup would add them at once while they are still
                // here.
                let left = !snaps.is_empty()
                    && (stopping || !flags.dont_release_vrrp)
                    && self.leave_by_child(config.clone(), snaps, stopping);
                release::release(&config, &flags, &held, stopping, left);
            }
            Err(e) => log::error!(
                "the configuration kept by the parent cannot be decoded ({e}): the VIPs of \
                 the stopped VRRP child are not removed"
            ),
        }
        for name in &held {
            self.instances.remove(name);
        }
        crate::mem::trim();
    }

    /// [`release::leave`]: `true` when the child did it.
    fn leave_by_child(
        &mut self,
        mut config: ka_proto::config::Config,
        held: Vec<InstanceSnapshot>,
        stopping: bool,
    ) -> bool {
        if !stopping {
            // Only delayed: the static addresses stay (the child neither adds nor removes
            // what it is not configured with).
            config.static_ipaddress.clear();
            config.static_routes.clear();
            config.static_rules.clear();
        }
        let bound = self.kept.child_wait.clamp(LEAVE_MIN, LEAVE_MAX);
        let flags = self.settings.flags.clone();
        match release::leave(self.bodies.vrrp, config, &flags, held, bound) {
            Ok(msgs) => {
                for m in msgs {
                    if let FromVrrp::InstanceState(s) = m {
                        self.on_instance_state(s);
                    }
                }
                true
            }
            Err(e) => {
                log::warn!(
                    "The VRRP child started to leave VRRP failed ({e}): removing the VIPs \
                     without a priority-0 advert"
                );
                false
            }
        }
    }

    fn respawn_due(&mut self) {
        if self.stopping.is_some() {
            return;
        }
        let now = Instant::now();
        for role in [Role::Checker, Role::Vrrp] {
            let s = &mut self.slots[idx(role)];
            if s.ipc_lost.is_some_and(|t| t <= now) {
                s.ipc_lost = None;
                if s.pid.is_some() {
                    self.child_broken(role, "closed its IPC channel");
                }
            }
            let s = &mut self.slots[idx(role)];
            if s.ready_by.is_some_and(|t| t <= now) {
                s.ready_by = None;
                if s.pid.is_some() && !s.ready {
                    let why = format!(
                        "not ready {} s after it was started",
                        self.settings.ready_timeout.as_secs_f64()
                    );
                    self.child_broken(role, &why);
                }
            }
        }
        for role in [Role::Checker, Role::Vrrp] {
            let s = &self.slots[idx(role)];
            if s.pid.is_none() && s.wanted && s.respawn_at.is_some_and(|t| t <= now) {
                self.start_child(role);
            }
        }
    }

    // ---- signals ----------------------------------------------------------------------

    fn on_signals(&mut self) {
        let pending: Vec<i32> = self.signals.pending().collect();
        for sig in pending {
            match signals::action(sig) {
                signals::Action::Stop => {
                    if self.stopping.is_none() {
                        log::info!("Stopping");
                        self.begin_stop(exit::OK);
                    }
                }
                signals::Action::Reload => {
                    self.reload();
                }
                signals::Action::Dump(kind) => self.dump(kind),
                signals::Action::Child => self.reap(),
                signals::Action::Ignore => {}
            }
        }
    }

    // ---- stop -------------------------------------------------------------------------

    fn begin_stop(&mut self, code: i32) {
        if self.stopping.is_some() {
            return;
        }
        let wait = self.kept.child_wait;
        self.stopping = Some((Instant::now() + wait, code));
        if let Some(n) = &self.notify {
            n.stopping();
        }
        let vrrp = &self.slots[idx(Role::Vrrp)];
        // Waiting to respawn it: its VIPs would stay with nothing running.
        let unattended = vrrp.pid.is_none() && (vrrp.wanted || vrrp.respawn_at.is_some());
        for role in [Role::Vrrp, Role::Checker] {
            let i = idx(role);
            self.slots[i].respawn_at = None;
            if self.slots[i].chan.is_some() {
                self.send_stop(role);
            } else if let Some(pid) = self.slots[i].pid {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
        }
        if unattended {
            // After the others are told to stop: they stop meanwhile.
            self.release_unattended(true);
        }
    }

    /// While stopping: `Some(code)` once every child is gone (SIGKILLing the late ones,
    /// never waiting blocked for them: [`starve`]).
    fn stop_progress(&mut self) -> Option<i32> {
        let (deadline, code) = self.stopping?;
        if self.slots.iter().all(|s| s.pid.is_none()) {
            return Some(code);
        }
        if Instant::now() < deadline {
            return None;
        }
        self.kill_late_children().then_some(code)
    }

    /// Forget a child that is not coming back (its channel, pid file and slot).
    fn forget_child(&mut self, i: usize, pid: i32) {
        if let Some(chan) = self.slots[i].chan.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&chan.as_raw_fd()));
        }
        let slot = &mut self.slots[i];
        pidfile::remove(&slot.pid_file, pid as u32);
        slot.pid = None;
        slot.ready = false;
        slot.ready_by = None;
        slot.killed = None;
        slot.watch.reset();
    }
}

fn signal_name(s: Signal) -> &'static str {
    match s {
        Signal::SIGKILL => "Killed",
        Signal::SIGTERM => "Terminated",
        Signal::SIGSEGV => "Segmentation fault",
        Signal::SIGABRT => "Aborted",
        Signal::SIGBUS => "Bus error",
        Signal::SIGINT => "Interrupt",
        Signal::SIGHUP => "Hangup",
        Signal::SIGPIPE => "Broken pipe",
        Signal::SIGILL => "Illegal instruction",
        Signal::SIGFPE => "Floating point exception",
        _ => s.as_str(),
    }
}
