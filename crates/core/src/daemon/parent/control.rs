//! The control socket's server, on the parent's loop ([`crate::control`] has the protocol).
//!
//! Bounded: at most [`MAX_CONNS`] connections, a request line of at most
//! [`MAX_REQUEST`] bytes, [`MAX_OUT`] bytes queued to a reader that does not read (a
//! follower that falls behind is cut off), and the [`RING`] last events kept.

use crate::control::{Answer, Event, Request, What, MAX_REQUEST};
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The listener's token in the parent's poll.
pub const LISTENER: Token = Token(3);
/// Connections get tokens from here up.
const FIRST_CONN: usize = 16;
/// Connections served at once; more are closed at once.
pub const MAX_CONNS: usize = 32;
/// Bytes queued to one connection before it is closed.
const MAX_OUT: usize = 1 << 20;
/// Events kept for `ctl events`.
pub const RING: usize = 1024;

/// One client.
struct Conn {
    stream: UnixStream,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    /// `events --follow`: every new event is sent here.
    follow: bool,
    /// Close once `out` is written.
    closing: bool,
    /// The caller's uid (`SO_PEERCRED`).
    uid: Option<u32>,
}

/// The socket, its clients and the event ring.
pub struct Control {
    listener: UnixListener,
    path: PathBuf,
    conns: BTreeMap<Token, Conn>,
    next: usize,
    ring: VecDeque<Event>,
    seq: u64,
}

/// A request read from a client (or why its line was refused).
pub type Asked = (Token, Result<Request, String>);

impl Control {
    /// Bind `path` (mode 0600, its directory created) and register it. A socket file
    /// left by a daemon that is gone is replaced; one that a live daemon answers on is not.
    pub fn bind(path: &Path, registry: &Registry) -> io::Result<Control> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("another daemon answers on {}", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        let mut listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        registry.register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(Control {
            listener,
            path: path.to_path_buf(),
            conns: BTreeMap::new(),
            next: FIRST_CONN,
            ring: VecDeque::new(),
            seq: 0,
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `t` is the listener's or a client's.
    pub fn owns(&self, t: Token) -> bool {
        t == LISTENER || self.conns.contains_key(&t)
    }

    /// An event on `t`: accept new clients, read requests, write what is queued.
    pub fn on_event(&mut self, registry: &Registry, t: Token) -> Vec<Asked> {
        if t == LISTENER {
            self.accept(registry);
            return Vec::new();
        }
        let asked = self.read(registry, t);
        self.flush(registry, t);
        asked
    }

    fn accept(&mut self, registry: &Registry) {
        loop {
            let (mut stream, _) = match self.listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    log::warn!("control socket: accept failed: {e}");
                    return;
                }
            };
            if self.conns.len() >= MAX_CONNS {
                log::warn!("control socket: {MAX_CONNS} clients already; one refused");
                continue;
            }
            let t = Token(self.next);
            self.next = if self.next >= usize::MAX / 2 {
                FIRST_CONN
            } else {
                self.next + 1
            };
            if registry
                .register(&mut stream, t, Interest::READABLE | Interest::WRITABLE)
                .is_err()
            {
                continue;
            }
            let uid =
                nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials)
                    .ok()
                    .map(|c| c.uid());
            self.conns.insert(
                t,
                Conn {
                    stream,
                    inbuf: Vec::new(),
                    out: Vec::new(),
                    follow: false,
                    closing: false,
                    uid,
                },
            );
        }
    }

    fn read(&mut self, registry: &Registry, t: Token) -> Vec<Asked> {
        let mut asked = Vec::new();
        let Some(c) = self.conns.get_mut(&t) else {
            return asked;
        };
        let mut buf = [0u8; 1024];
        let mut eof = false;
        loop {
            match c.stream.read(&mut buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    c.inbuf.extend_from_slice(&buf[..n]);
                    if c.inbuf.len() > MAX_REQUEST + 1 && !c.inbuf.contains(&b'\n') {
                        asked.push((t, Err(format!("request longer than {MAX_REQUEST} bytes"))));
                        c.inbuf.clear();
                        c.closing = true;
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    eof = true;
                    break;
                }
            }
        }
        while let Some(nl) = c.inbuf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = c.inbuf.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let req = serde_json::from_str::<Request>(text)
                .map_err(|e| format!("not a request this daemon knows ({e})"));
            asked.push((t, req));
        }
        if eof && !c.follow {
            // The client is done sending; what it asked is still answered.
            c.closing = true;
            if asked.is_empty() && c.out.is_empty() {
                self.close(registry, t);
            }
        } else if eof {
            self.close(registry, t);
        }
        asked
    }

    /// The caller on `t` is root.
    pub fn caller_is_root(&self, t: Token) -> bool {
        self.conns.get(&t).and_then(|c| c.uid) == Some(0)
    }

    /// Queue `a` for `t` (one JSON line) and write what can be written now.
    pub fn answer(&mut self, registry: &Registry, t: Token, a: &Answer) {
        let Some(c) = self.conns.get_mut(&t) else {
            return;
        };
        match serde_json::to_vec(a) {
            Ok(mut line) => {
                line.push(b'\n');
                c.out.extend_from_slice(&line);
            }
            Err(e) => log::error!("control socket: cannot encode an answer: {e}"),
        }
        if c.out.len() > MAX_OUT {
            log::warn!("control socket: a client that does not read was cut off");
            self.close(registry, t);
            return;
        }
        self.flush(registry, t);
    }

    /// Close `t` once what is queued for it is written.
    pub fn finish(&mut self, registry: &Registry, t: Token) {
        if let Some(c) = self.conns.get_mut(&t) {
            c.closing = true;
        }
        self.flush(registry, t);
    }

    /// Send every new event to `t` from now on.
    pub fn follow(&mut self, t: Token) {
        if let Some(c) = self.conns.get_mut(&t) {
            c.follow = true;
        }
    }

    fn flush(&mut self, registry: &Registry, t: Token) {
        let Some(c) = self.conns.get_mut(&t) else {
            return;
        };
        while !c.out.is_empty() {
            match c.stream.write(&c.out) {
                Ok(0) => break,
                Ok(n) => {
                    c.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.close(registry, t);
                    return;
                }
            }
        }
        if c.closing && c.out.is_empty() && !c.follow {
            self.close(registry, t);
        }
    }

    fn close(&mut self, registry: &Registry, t: Token) {
        if let Some(mut c) = self.conns.remove(&t) {
            let _ = registry.deregister(&mut c.stream);
        }
    }

    /// Record an event: kept in the ring and sent to every follower.
    pub fn record(&mut self, registry: &Registry, what: What) {
        self.seq += 1;
        let e = Event {
            seq: self.seq,
            monotonic_ms: monotonic_ms(),
            unix_ms: unix_ms(),
            what,
        };
        if self.ring.len() >= RING {
            self.ring.pop_front();
        }
        self.ring.push_back(e.clone());
        let followers: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| c.follow)
            .map(|(t, _)| *t)
            .collect();
        let a = Answer::Event(e);
        for t in followers {
            self.answer(registry, t, &a);
        }
    }

    /// The events kept, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.ring.iter().cloned().collect()
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// CLOCK_MONOTONIC in ms.
pub fn monotonic_ms() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1000 + t.tv_nsec() as u64 / 1_000_000)
        .unwrap_or(0)
}

/// The wall clock in ms since the epoch.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

// ---- the parent's side: requests answered, events recorded ---------------------------

use super::Parent;
use crate::control::{ChildStatus, InstanceStatus, ServiceStatus, Status};

impl Parent {
    /// Something happened on the control socket.
    pub(super) fn on_control(&mut self, t: Token) {
        let Some(c) = self.control.as_mut() else {
            return;
        };
        let asked = c.on_event(self.poll.registry(), t);
        for (t, req) in asked {
            self.serve(t, req);
        }
    }

    fn serve(&mut self, t: Token, req: Result<Request, String>) {
        let req = match req {
            Ok(r) => r,
            Err(message) => {
                self.reply(t, &Answer::Error { message }, true);
                return;
            }
        };
        let root = self.control.as_ref().is_some_and(|c| c.caller_is_root(t));
        if req.mutates() && !root {
            let message = "only root may change the daemon (this caller may only read)".into();
            self.reply(t, &Answer::Error { message }, true);
            return;
        }
        match req {
            Request::Status => self.ctl_status(t),
            Request::Dump { kind } => match crate::control::dump_kind(&kind) {
                Some(k) => self.ctl_dump(t, k),
                None => {
                    let message = format!("no dump named {kind:?} (data, stats or json)");
                    self.reply(t, &Answer::Error { message }, true);
                }
            },
            Request::Events { follow } => {
                let past = self
                    .control
                    .as_ref()
                    .map(Control::events)
                    .unwrap_or_default();
                for e in past {
                    self.reply(t, &Answer::Event(e), false);
                }
                self.reply(t, &Answer::EventsEnd, !follow);
                if let Some(c) = self.control.as_mut().filter(|_| follow) {
                    c.follow(t);
                }
            }
            Request::Reload => {
                let v = self.reload();
                self.reply(t, &Answer::Reload(v), true);
            }
        }
    }

    pub(super) fn reply(&mut self, t: Token, a: &Answer, last: bool) {
        if let Some(c) = self.control.as_mut() {
            c.answer(self.poll.registry(), t, a);
            if last {
                c.finish(self.poll.registry(), t);
            }
        }
    }

    /// Record an event for `ctl events`.
    pub(super) fn event(&mut self, what: What) {
        if let Some(c) = self.control.as_mut() {
            c.record(self.poll.registry(), what);
        }
    }

    /// The daemon as `ctl status` shows it.
    pub(super) fn status(&self) -> Status {
        let children = self
            .slots
            .iter()
            .map(|s| ChildStatus {
                role: role_name(s.role).to_string(),
                wanted: s.wanted,
                pid: s.pid,
                ready: s.ready,
                restarts: s.restarts,
            })
            .collect();
        let vrrp = self
            .instances
            .all()
            .into_iter()
            .map(|i| {
                let (last_transition, previous_state) = self
                    .transitions
                    .get(&i.name)
                    .map(|(t, p)| (Some(*t), p.clone()))
                    .unwrap_or((None, None));
                InstanceStatus {
                    ifp_ifname: i.interface.clone(),
                    vrid: i.vrid,
                    family: if i.ipv6 { 6 } else { 4 },
                    state: crate::control::status::state_number(i.state.as_str()),
                    state_name: i.state.as_str().to_string(),
                    base_priority: i.base_priority,
                    effective_priority: i.priority,
                    addresses_installed: i.addresses_installed,
                    last_transition,
                    previous_state,
                    vips: Vec::new(),
                    master_ipaddr: None,
                    stats: Default::default(),
                    iname: i.name,
                }
            })
            .collect();
        let services = self
            .services
            .values()
            .map(|v| ServiceStatus {
                virtual_server: v.virtual_server.clone(),
                real_server: v.real_server.clone(),
                up: v.up,
            })
            .collect();
        Status {
            pid: std::process::id(),
            version: ka_proto::ipc::Build::current().to_string(),
            uptime_s: self.started.elapsed().as_secs(),
            config_file: self.settings.config_file.display().to_string(),
            config_loaded: self.config_loaded,
            reloads: self.reloads,
            reloads_refused: self.reloads_refused,
            children,
            vrrp,
            services,
        }
    }
}

/// A child's name in `ctl`'s answers.
pub(super) fn role_name(r: super::Role) -> &'static str {
    match r {
        super::Role::Vrrp => "vrrp",
        super::Role::Checker => "checker",
    }
}
