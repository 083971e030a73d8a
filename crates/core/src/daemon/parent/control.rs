//! The control socket's server, and the metrics listener's, on the parent's loop
//! ([`crate::control`] has the protocol, [`crate::control::http`] the HTTP side).
//!
//! Two listeners, one set of connections: the Unix socket speaks JSON lines to `ctl`;
//! the TCP listener (`--metrics-listen`, off by default) answers `GET /metrics` and the
//! status page, read-only.
//!
//! Bounded: at most [`MAX_CONNS`] connections, a request line of at most
//! [`MAX_REQUEST`] bytes, [`MAX_OUT`] bytes queued to a reader that does not read (a
//! follower that falls behind is cut off), and the [`RING`] last events kept.

use crate::control::http::{self, Route};
use crate::control::{Answer, Event, Request, What, MAX_REQUEST};
use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The listeners' tokens in the parent's poll.
pub const LISTENER: Token = Token(3);
pub const HTTP_LISTENER: Token = Token(4);
/// Connections get tokens from here up.
const FIRST_CONN: usize = 16;
/// Connections served at once; more are closed at once.
pub const MAX_CONNS: usize = 32;
/// Bytes queued to one connection before it is closed.
const MAX_OUT: usize = 1 << 20;
/// Events kept for `ctl events` (a few hundred bytes each: with 1,000 instances the
/// parent's own memory stays within its bound).
pub const RING: usize = 256;

/// A client's stream: `ctl` on the Unix socket, or an HTTP client.
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn source(&mut self) -> &mut dyn Source {
        match self {
            Stream::Unix(s) => s,
            Stream::Tcp(s) => s,
        }
    }
}

/// One client.
struct Conn {
    stream: Stream,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    /// `events --follow`: every new event is sent here.
    follow: bool,
    /// Close once `out` is written.
    closing: bool,
    /// A request was read and its last answer is not queued yet (it may come later:
    /// a child is asked first).
    awaiting: bool,
    /// The caller's uid (`SO_PEERCRED`).
    uid: Option<u32>,
}

/// The socket, its clients and the event ring.
pub struct Control {
    listener: UnixListener,
    /// `--metrics-listen`.
    http: Option<TcpListener>,
    path: PathBuf,
    conns: BTreeMap<Token, Conn>,
    next: usize,
    ring: VecDeque<Event>,
    seq: u64,
}

/// What a client asked.
pub enum Wanted {
    /// A `ctl` request (or why its line was refused).
    Ctl(Result<Request, String>),
    /// An HTTP request (or the status to refuse it with).
    Http(Result<Route, u16>),
}

/// A request read from a client.
pub type Asked = (Token, Wanted);

impl Control {
    /// Bind `path` (mode 0600 root, or 0660 with `group`; its directory created) and
    /// register it. A socket file left by a daemon that is gone is replaced; one that a
    /// live daemon answers on is not.
    pub fn bind(path: &Path, group: Option<&str>, registry: &Registry) -> io::Result<Control> {
        let gid = match group {
            None => None,
            Some(g) => Some(
                nix::unistd::Group::from_name(g)
                    .ok()
                    .flatten()
                    .ok_or_else(|| {
                        io::Error::new(io::ErrorKind::NotFound, format!("no group named {g:?}"))
                    })?
                    .gid,
            ),
        };
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
        let mode = if let Some(gid) = gid {
            nix::unistd::chown(path, None, Some(gid)).map_err(io::Error::from)?;
            0o660
        } else {
            0o600
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        registry.register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(Control {
            listener,
            http: None,
            path: path.to_path_buf(),
            conns: BTreeMap::new(),
            next: FIRST_CONN,
            ring: VecDeque::new(),
            seq: 0,
        })
    }

    /// Also answer HTTP on `addr` (`--metrics-listen`).
    pub fn listen_http(
        &mut self,
        addr: std::net::SocketAddr,
        registry: &Registry,
    ) -> io::Result<()> {
        let mut l = TcpListener::bind(addr)?;
        registry.register(&mut l, HTTP_LISTENER, Interest::READABLE)?;
        self.http = Some(l);
        Ok(())
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `t` is the listener's or a client's.
    pub fn owns(&self, t: Token) -> bool {
        t == LISTENER || t == HTTP_LISTENER || self.conns.contains_key(&t)
    }

    /// An event on `t`: accept new clients, read requests, write what is queued.
    pub fn on_event(&mut self, registry: &Registry, t: Token) -> Vec<Asked> {
        if t == LISTENER || t == HTTP_LISTENER {
            self.accept(registry, t == HTTP_LISTENER);
            return Vec::new();
        }
        let asked = self.read(registry, t);
        self.flush(registry, t);
        asked
    }

    fn accept(&mut self, registry: &Registry, http: bool) {
        loop {
            let accepted = match (&self.http, http) {
                (Some(l), true) => l.accept().map(|(s, _)| Stream::Tcp(s)),
                (None, true) => return,
                (_, false) => self.listener.accept().map(|(s, _)| Stream::Unix(s)),
            };
            let mut stream = match accepted {
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
                .register(stream.source(), t, Interest::READABLE | Interest::WRITABLE)
                .is_err()
            {
                continue;
            }
            let uid = match &stream {
                Stream::Unix(s) => {
                    nix::sys::socket::getsockopt(s, nix::sys::socket::sockopt::PeerCredentials)
                        .ok()
                        .map(|c| c.uid())
                }
                Stream::Tcp(_) => None,
            };
            self.conns.insert(
                t,
                Conn {
                    stream,
                    inbuf: Vec::new(),
                    out: Vec::new(),
                    follow: false,
                    closing: false,
                    awaiting: false,
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
                        let w = match c.stream {
                            Stream::Unix(_) => {
                                Wanted::Ctl(Err(format!("request longer than {MAX_REQUEST} bytes")))
                            }
                            Stream::Tcp(_) => Wanted::Http(Err(431)),
                        };
                        asked.push((t, w));
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
        if matches!(c.stream, Stream::Tcp(_)) {
            // One request per connection: its head ends with an empty line.
            if let Some(end) = http::head_end(&c.inbuf) {
                let head: Vec<u8> = c.inbuf.drain(..end).collect();
                c.inbuf.clear();
                c.awaiting = true;
                asked.push((t, Wanted::Http(http::route(&head))));
            } else if eof {
                self.close(registry, t);
            }
            return asked;
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
            c.awaiting = true;
            asked.push((t, Wanted::Ctl(req)));
        }
        if eof && !c.follow {
            // The client is done sending; what it asked is still answered.
            c.closing = true;
            if !c.awaiting && c.out.is_empty() {
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

    /// Queue an HTTP response for `t` and close it once written.
    pub fn answer_http(&mut self, registry: &Registry, t: Token, r: &http::Response) {
        if let Some(c) = self.conns.get_mut(&t) {
            c.out.extend_from_slice(&r.to_bytes());
            c.closing = true;
            c.awaiting = false;
        }
        self.flush(registry, t);
    }

    /// Close `t` once what is queued for it is written.
    pub fn finish(&mut self, registry: &Registry, t: Token) {
        if let Some(c) = self.conns.get_mut(&t) {
            c.closing = true;
            c.awaiting = false;
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
        if c.closing && c.out.is_empty() && !c.follow && !c.awaiting {
            self.close(registry, t);
        }
    }

    fn close(&mut self, registry: &Registry, t: Token) {
        if let Some(mut c) = self.conns.remove(&t) {
            let _ = registry.deregister(c.stream.source());
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

// ---- what the operator drained ------------------------------------------------------

/// The instances under `ctl maintenance`.
#[derive(Debug, Default)]
pub(super) struct Drained {
    all: bool,
    names: std::collections::BTreeSet<String>,
}

impl Drained {
    /// Apply `enter` (`on`) or `leave` to `names` (all when empty); `known` is every
    /// instance now.
    pub fn set(&mut self, names: &[String], on: bool, known: &[String]) {
        match (names.is_empty(), on) {
            (true, true) => {
                self.all = true;
                self.names.clear();
            }
            (true, false) => *self = Drained::default(),
            (false, true) => {
                self.names.extend(names.iter().cloned());
            }
            (false, false) => {
                if self.all {
                    self.all = false;
                    self.names = known.iter().cloned().collect();
                }
                for n in names {
                    self.names.remove(n);
                }
            }
        }
    }

    /// `name` is drained.
    pub fn covers(&self, name: &str) -> bool {
        self.all || self.names.contains(name)
    }

    /// The message that drains the same instances again, if any are.
    pub fn message(&self) -> Option<ToVrrp> {
        if self.all {
            return Some(ToVrrp::Maintenance {
                instances: Vec::new(),
                on: true,
            });
        }
        (!self.names.is_empty()).then(|| ToVrrp::Maintenance {
            instances: self.names.iter().cloned().collect(),
            on: true,
        })
    }
}

// ---- the parent's side: requests answered, events recorded ---------------------------

use super::Parent;
use crate::control::{ChildStatus, InstanceStatus, ServiceStatus, Status};
use ka_proto::ipc::checker::ToChecker;
use ka_proto::ipc::vrrp::ToVrrp;

impl Parent {
    /// Something happened on the control socket.
    pub(super) fn on_control(&mut self, t: Token) {
        let Some(c) = self.control.as_mut() else {
            return;
        };
        let asked = c.on_event(self.poll.registry(), t);
        for (t, w) in asked {
            match w {
                Wanted::Ctl(req) => self.serve(t, req),
                Wanted::Http(route) => self.serve_http(t, route),
            }
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
            Request::Maintenance { on, instances } => self.ctl_maintenance(t, on, instances),
            Request::RealServer {
                virtual_server,
                real_server,
                disable,
            } => self.ctl_real_server(t, virtual_server, real_server, disable),
            Request::Reload => {
                let v = self.reload();
                self.reply(t, &Answer::Reload(v), true);
            }
        }
    }

    /// An HTTP request: answered with the children's reports when they can be asked.
    fn serve_http(&mut self, t: Token, route: Result<Route, u16>) {
        match route {
            Err(code) => {
                if let Some(c) = self.control.as_mut() {
                    c.answer_http(self.poll.registry(), t, &http::Response::error(code));
                }
            }
            Ok(route) => self.ask_children(super::dumps::Waiter::Http(t, route)),
        }
    }

    /// Answer an HTTP request from `s` (the parent's view and what the children said).
    pub(super) fn http_reply(&mut self, t: Token, route: Route, s: Status) {
        let now = unix_ms() as f64 / 1000.0;
        let r = match route {
            Route::Metrics => http::Response::ok(
                "text/plain; version=0.0.4; charset=utf-8",
                crate::control::metrics::render(&s, now),
            ),
            Route::Page => http::Response::ok(
                "text/html; charset=utf-8",
                crate::control::page::render(&s, now),
            ),
            Route::StatusJson => http::Response::ok(
                "application/json",
                serde_json::to_string_pretty(&s).unwrap_or_default(),
            ),
        };
        if let Some(c) = self.control.as_mut() {
            c.answer_http(self.poll.registry(), t, &r);
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

    /// `ctl maintenance enter|leave`.
    fn ctl_maintenance(&mut self, t: Token, on: bool, names: Vec<String>) {
        let known: Vec<String> = self.instances.all().into_iter().map(|i| i.name).collect();
        if let Some(n) = names.iter().find(|n| !known.contains(n)) {
            let message = format!("no VRRP instance named {n:?}");
            self.reply(t, &Answer::Error { message }, true);
            return;
        }
        self.drained.set(&names, on, &known);
        self.send_vrrp(&ToVrrp::Maintenance {
            instances: names.clone(),
            on,
        });
        self.event(What::Maintenance {
            on,
            instances: names,
        });
        let drained = known
            .into_iter()
            .filter(|n| self.drained.covers(n))
            .collect();
        self.reply(t, &Answer::Maintenance { drained }, true);
    }

    /// `ctl real-server disable|enable`: the checker child does it and says whether the
    /// server exists; answered then ([`Parent::on_real_server_done`]).
    fn ctl_real_server(&mut self, t: Token, vs: String, rs: String, disable: bool) {
        let msg = ToChecker::RealServer {
            virtual_server: vs,
            real_server: rs,
            disabled: disable,
        };
        let sent = match self.slots[super::idx(super::Role::Checker)].chan.as_mut() {
            Some(super::Link::Checker(c)) => c.send(&msg),
            _ => {
                let message = "no checker child is running (no virtual_server?)".into();
                self.reply(t, &Answer::Error { message }, true);
                return;
            }
        };
        if sent.is_ok() {
            self.waiters.real_server.push_back(Some(t));
        } else {
            let message = "the checker child cannot be reached".into();
            self.reply(t, &Answer::Error { message }, true);
        }
        self.sent(super::Role::Checker, sent);
    }

    /// The checker child did (or could not do, `found` false) a `real-server` request.
    pub(super) fn on_real_server_done(
        &mut self,
        vs: String,
        rs: String,
        disabled: bool,
        found: bool,
    ) {
        let waiter = self.waiters.real_server.pop_front().flatten();
        if found {
            let key = (vs.clone(), rs.clone());
            let changed = if disabled {
                self.disabled_rs.insert(key)
            } else {
                self.disabled_rs.remove(&key)
            };
            if changed || waiter.is_some() {
                self.event(What::RealServer {
                    virtual_server: vs.clone(),
                    real_server: rs.clone(),
                    disabled,
                });
            }
        }
        let Some(t) = waiter else {
            return;
        };
        let a = if found {
            Answer::RealServer {
                virtual_server: vs,
                real_server: rs,
                disabled,
            }
        } else {
            Answer::Error {
                message: format!("no real server {rs} in virtual server {vs}"),
            }
        };
        self.reply(t, &a, true);
    }

    /// After the checker child's `Ready` (a start, a respawn, a reload): what the operator
    /// disabled stays disabled.
    pub(super) fn resend_disabled_real_servers(&mut self) {
        let list: Vec<(String, String)> = self.disabled_rs.iter().cloned().collect();
        for (vs, rs) in list {
            let sent = match self.slots[super::idx(super::Role::Checker)].chan.as_mut() {
                Some(super::Link::Checker(c)) => c.send(&ToChecker::RealServer {
                    virtual_server: vs,
                    real_server: rs,
                    disabled: true,
                }),
                _ => return,
            };
            if sent.is_ok() {
                self.waiters.real_server.push_back(None);
            }
            self.sent(super::Role::Checker, sent);
        }
    }

    /// After the VRRP child's `Ready` (a start, a respawn, a reload): what the operator
    /// drained stays drained.
    pub(super) fn resend_maintenance(&mut self) {
        if let Some(msg) = self.drained.message() {
            self.send_vrrp(&msg);
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
                let h = self.instances.history(&i.name);
                let (last_transition, previous_state) = match h.changed {
                    Some((t, p)) => (Some(t), p.map(|p| p.as_str().to_string())),
                    None => (None, None),
                };
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
                    transitions: h
                        .entered
                        .iter()
                        .map(|(s, n)| (s.as_str().to_string(), u64::from(*n)))
                        .collect(),
                    transitions_by_reason: Default::default(),
                    maintenance: self.drained.covers(&i.name),
                    last_transition_reason: None,
                    sync_group: None,
                    iname: i.name,
                }
            })
            .collect();
        let services = self
            .services
            .values()
            .map(|v| ServiceStatus::new(v.virtual_server.clone(), v.real_server.clone(), v.up))
            .collect();
        Status {
            pid: std::process::id(),
            version: ka_proto::ipc::Build::current().to_string(),
            uptime_s: self.started.elapsed().as_secs(),
            config_file: self.settings.config_file.display().to_string(),
            config_loaded: self.config_loaded,
            config_hash: self.kept.hash.clone(),
            reloads: self.reloads,
            reloads_refused: self.reloads_refused,
            children,
            vrrp,
            services,
            checks: Default::default(),
            ipvs: Vec::new(),
            scripts: Default::default(),
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
