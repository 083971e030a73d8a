//! One attempt of one check: a small state machine per checker kind, driven by socket
//! readiness. Nothing here blocks: every socket is non-blocking and every step that would
//! wait returns [`Step::Pending`] until the loop calls again.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::{Interest, Registry, Token};
use rustls::pki_types::ServerName;
use rustls::ClientConnection;

use crate::failure::Failure;
use crate::misc::MiscProbe;
use crate::net;
use crate::spec::{CheckKind, CheckSpec, HttpSpec, UrlSpec};
use crate::tls::TlsContext;
use crate::wire::{dns, http, icmp, smtp, udp};

/// What an attempt says after an event.
#[derive(Debug)]
pub enum Step {
    /// Still waiting.
    Pending,
    /// Not finished, but used its read budget for this turn: call again next turn (the
    /// socket may still hold data, and edge-triggered readiness will not say so again).
    Yield,
    /// Passed, optionally with a dynamic weight (MISC_CHECK `misc_dynamic`, FILE_CHECK).
    Pass(Option<i64>),
    /// Failed.
    Fail(Failure),
}

/// What a readiness event said about an attempt's socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    /// Writable, or an error / hang-up that a write would report.
    pub writable: bool,
    /// Writable with neither an error nor a hang-up flag: a non-blocking connect has
    /// completed, so `SO_ERROR` need not be asked.
    pub connected: bool,
    /// Readable: data, end of stream or an error may be waiting.
    pub readable: bool,
}

impl Ready {
    /// Read what a mio event says.
    pub fn of(e: &mio::event::Event) -> Ready {
        let writable = e.is_writable() || e.is_error() || e.is_write_closed();
        Ready {
            writable,
            connected: e.is_writable() && !e.is_error() && !e.is_write_closed(),
            readable: e.is_readable() || e.is_read_closed() || e.is_error(),
        }
    }

    /// Nothing known (a new connection, or a probe called again to go on reading).
    pub const NONE: Ready = Ready {
        writable: false,
        connected: false,
        readable: false,
    };

    /// Data may be left to read (a probe that used its read budget).
    pub const READ_AGAIN: Ready = Ready {
        writable: false,
        connected: false,
        readable: true,
    };
}

/// What every probe may need besides its spec.
#[derive(Debug)]
pub struct Ctx {
    /// TLS configs (built from the `SSL` block), if any SSL_GET exists.
    pub tls: Option<TlsContext>,
    /// Host name for SMTP HELO when none is configured.
    pub hostname: String,
    /// A small PRNG state (query ids, echo ids).
    pub rng: u64,
}

impl Ctx {
    /// Next pseudo-random 16-bit value (xorshift).
    pub fn rand16(&mut self) -> u16 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 24) as u16
    }
}

/// A TCP connection, plain or TLS.
enum Conn {
    Plain(mio::net::TcpStream),
    Tls(Box<(mio::net::TcpStream, ClientConnection)>),
}

enum Read0 {
    Data(usize),
    WouldBlock,
    Eof,
}

impl Conn {
    fn sock(&mut self) -> &mut mio::net::TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(b) => &mut b.0,
        }
    }

    /// Has the non-blocking connect finished? Err when it failed. An event that says
    /// writable with no error or hang-up settles it without a syscall; one that says
    /// writable with an error lets SO_ERROR decide; otherwise getpeername confirms.
    fn connected(&mut self, ready: Ready) -> Result<bool, Failure> {
        if ready.connected {
            return Ok(true);
        }
        let writable = ready.writable;
        let s = self.sock();
        if let Ok(Some(e)) | Err(e) = s.take_error() {
            return Err(Failure::from_io(&e, true));
        }
        if writable {
            return Ok(true);
        }
        match s.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
            Err(e) => Err(Failure::from_io(&e, true)),
        }
    }

    /// Send `data[*sent..]`: queue it all (TLS) or write what fits (plain), moving `sent`.
    /// Returns true once everything is on the wire.
    fn write_from(&mut self, data: &[u8], sent: &mut usize) -> Result<bool, Failure> {
        match self {
            Conn::Plain(s) => {
                while let Some(rest) = data.get(*sent..).filter(|r| !r.is_empty()) {
                    match s.write(rest) {
                        Ok(0) => return Err(Failure::Closed("sending")),
                        Ok(n) => *sent += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(Failure::from_io(&e, false)),
                    }
                }
                Ok(true)
            }
            Conn::Tls(b) => {
                let (s, c) = &mut **b;
                if let Some(rest) = data.get(*sent..).filter(|r| !r.is_empty()) {
                    c.writer()
                        .write_all(rest)
                        .map_err(|e| Failure::Tls(e.to_string()))?;
                    *sent = data.len();
                }
                tls_flush(s, c)
            }
        }
    }

    /// Queue `data` (TLS) or write what fits (plain); `out` keeps what is left.
    /// Returns true once everything is on the wire.
    fn write_out(&mut self, out: &mut Vec<u8>) -> Result<bool, Failure> {
        match self {
            Conn::Plain(s) => {
                while !out.is_empty() {
                    match s.write(out) {
                        Ok(0) => return Err(Failure::Closed("sending")),
                        Ok(n) => {
                            out.drain(..n);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(Failure::from_io(&e, false)),
                    }
                }
                Ok(true)
            }
            Conn::Tls(b) => {
                let (s, c) = &mut **b;
                if !out.is_empty() {
                    c.writer()
                        .write_all(out)
                        .map_err(|e| Failure::Tls(e.to_string()))?;
                    out.clear();
                }
                tls_flush(s, c)
            }
        }
    }

    fn read_some(&mut self, buf: &mut [u8]) -> Result<Read0, Failure> {
        match self {
            Conn::Plain(s) => loop {
                match s.read(buf) {
                    Ok(0) => return Ok(Read0::Eof),
                    Ok(n) => return Ok(Read0::Data(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(Read0::WouldBlock)
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Failure::from_io(&e, false)),
                }
            },
            Conn::Tls(b) => {
                let (s, c) = &mut **b;
                loop {
                    // Plaintext already decrypted?
                    match c.reader().read(buf) {
                        Ok(0) => return Ok(Read0::Eof), // close_notify
                        Ok(n) => return Ok(Read0::Data(n)),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        // EOF without close_notify: accepted as the end of the reply.
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                            return Ok(Read0::Eof)
                        }
                        Err(e) => return Err(Failure::Tls(e.to_string())),
                    }
                    match c.read_tls(s) {
                        Ok(0) => return Ok(Read0::Eof),
                        Ok(_) => {
                            c.process_new_packets()
                                .map_err(|e| Failure::Tls(e.to_string()))?;
                            tls_flush(s, c)?;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Ok(Read0::WouldBlock)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(Failure::from_io(&e, false)),
                    }
                }
            }
        }
    }
}

/// Write out whatever TLS records rustls holds. True when nothing is left.
fn tls_flush(s: &mut mio::net::TcpStream, c: &mut ClientConnection) -> Result<bool, Failure> {
    while c.wants_write() {
        match c.write_tls(s) {
            Ok(0) => return Err(Failure::Closed("sending")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Failure::from_io(&e, false)),
        }
    }
    Ok(true)
}

fn register<S: mio::event::Source + ?Sized>(
    reg: &Registry,
    s: &mut S,
    token: Token,
    interest: Interest,
) -> Result<(), Failure> {
    reg.register(s, token, interest)
        .map_err(|e| Failure::Io(format!("register: {e}")))
}

fn connect(spec: &CheckSpec, reg: &Registry, token: Token) -> Result<mio::net::TcpStream, Failure> {
    // TCP_CHECK says nothing, HTTP/TLS speak first; SMTP and the rest wait for the
    // server, whose greeting would otherwise wait for our delayed ACK.
    let client_first = matches!(spec.kind, CheckKind::Tcp | CheckKind::Http(_));
    let mut s =
        net::tcp_connect(&spec.target, client_first).map_err(|e| Failure::from_io(&e, true))?;
    register(reg, &mut s, token, Interest::READABLE | Interest::WRITABLE)?;
    Ok(s)
}

/// Connect on `spare` (a socket a passed attempt left disconnected, still registered
/// under `token`) when there is one, else on a new socket. A spare that cannot connect
/// again is closed and a new socket used, so reuse never turns into a failure.
fn connect_reusing(
    spec: &CheckSpec,
    reg: &Registry,
    token: Token,
    spare: Option<mio::net::TcpStream>,
) -> Result<mio::net::TcpStream, Failure> {
    if let Some(s) = spare {
        if net::tcp_reconnect(&s, &spec.target).is_ok() {
            return Ok(s);
        }
    }
    connect(spec, reg, token)
}

/// May this check's sockets be kept between attempts? Plain TCP connections without a
/// fixed source port (a fixed port is left to the kernel's usual close).
pub fn reusable(spec: &CheckSpec) -> bool {
    spec.target.bind_port.is_none()
        && match &spec.kind {
            CheckKind::Tcp => true,
            CheckKind::Http(h) => !h.tls,
            _ => false,
        }
}

/// TCP_CHECK: connect, then close.
pub struct TcpProbe {
    conn: Conn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HttpPhase {
    Connecting,
    Sending,
    Receiving,
}

/// HTTP_GET / SSL_GET: one connection per `url`, in order; all must pass.
pub struct HttpProbe {
    yielded: bool,
    /// An event of this connection said readable (a reply may be waiting).
    maybe_data: bool,
    url: usize,
    conn: Conn,
    phase: HttpPhase,
    /// Bytes of this URL's request already sent.
    sent: usize,
    parser: http::ResponseParser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SmtpPhase {
    Connecting,
    Greeting,
    Helo,
    Quit,
}

/// SMTP_CHECK: greeting 220, HELO -> 250, QUIT -> 2xx.
pub struct SmtpProbe {
    conn: Conn,
    phase: SmtpPhase,
    out: Vec<u8>,
    reply: smtp::ReplyReader,
}

/// DNS_CHECK and UDP_CHECK: one datagram out, one in.
pub struct DgramProbe {
    sock: mio::net::UdpSocket,
    sent: bool,
    query: Vec<u8>,
    dns_id: Option<u16>,
}

/// PING_CHECK: one echo request, its reply.
pub struct PingProbe {
    sock: mio::net::UdpSocket,
    raw: bool,
    v6: bool,
    sent: bool,
    ident: u16,
    seq: u16,
}

/// One attempt in flight.
pub enum Probe {
    /// TCP_CHECK.
    Tcp(TcpProbe),
    /// HTTP_GET / SSL_GET.
    Http(Box<HttpProbe>),
    /// SMTP_CHECK.
    Smtp(Box<SmtpProbe>),
    /// DNS_CHECK / UDP_CHECK.
    Dgram(DgramProbe),
    /// PING_CHECK.
    Ping(PingProbe),
    /// MISC_CHECK.
    Misc(MiscProbe),
}

/// Start an attempt. `Err(step)` when it is decided at once (FILE_CHECK, socket errors).
/// `spare` is a socket [`Probe::recycle`] gave back for this check, registered under
/// `token` (TCP_CHECK and plain HTTP_GET use it; others close it).
pub fn start(
    spec: &CheckSpec,
    ctx: &mut Ctx,
    reg: &Registry,
    token: Token,
    spare: Option<mio::net::TcpStream>,
) -> Result<Probe, Step> {
    let fail = Step::Fail;
    match &spec.kind {
        CheckKind::Tcp => Ok(Probe::Tcp(TcpProbe {
            conn: Conn::Plain(connect_reusing(spec, reg, token, spare).map_err(fail)?),
        })),
        CheckKind::Http(h) => {
            let conn = http_conn(spec, h, 0, ctx, reg, token, spare).map_err(fail)?;
            Ok(Probe::Http(Box::new(HttpProbe {
                yielded: false,
                maybe_data: false,
                url: 0,
                conn,
                phase: HttpPhase::Connecting,
                sent: 0,
                parser: http::ResponseParser::new(false),
            })))
        }
        CheckKind::Smtp(_) => Ok(Probe::Smtp(Box::new(SmtpProbe {
            conn: Conn::Plain(connect(spec, reg, token).map_err(fail)?),
            phase: SmtpPhase::Connecting,
            out: Vec::new(),
            reply: smtp::ReplyReader::new(),
        }))),
        CheckKind::Dns(d) => {
            let id = ctx.rand16();
            let query =
                dns::query(id, &d.name, d.qtype.code()).map_err(|e| fail(Failure::Dns(e)))?;
            let mut sock =
                net::udp_connect(&spec.target).map_err(|e| fail(Failure::from_io(&e, true)))?;
            register(
                reg,
                &mut sock,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(fail)?;
            Ok(Probe::Dgram(DgramProbe {
                sock,
                sent: false,
                query,
                dns_id: Some(id),
            }))
        }
        CheckKind::Udp(u) => {
            let mut sock =
                net::udp_connect(&spec.target).map_err(|e| fail(Failure::from_io(&e, true)))?;
            register(
                reg,
                &mut sock,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(fail)?;
            Ok(Probe::Dgram(DgramProbe {
                sock,
                sent: false,
                query: u.payload.clone(),
                dns_id: None,
            }))
        }
        CheckKind::Ping => {
            let (mut sock, raw) =
                net::icmp_connect(&spec.target).map_err(|e| fail(Failure::from_io(&e, true)))?;
            register(
                reg,
                &mut sock,
                token,
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(fail)?;
            Ok(Probe::Ping(PingProbe {
                sock,
                raw,
                v6: spec.target.addr.is_ipv6(),
                sent: false,
                ident: ctx.rand16(),
                seq: ctx.rand16(),
            }))
        }
        CheckKind::Misc(m) => MiscProbe::start(m, spec.timing.delay_loop, reg, token)
            .map(Probe::Misc)
            .map_err(fail),
        CheckKind::File(f) => Err(crate::misc::file_check(f)),
    }
}

fn http_conn(
    spec: &CheckSpec,
    h: &HttpSpec,
    url: usize,
    ctx: &Ctx,
    reg: &Registry,
    token: Token,
    spare: Option<mio::net::TcpStream>,
) -> Result<Conn, Failure> {
    if !h.tls {
        return Ok(Conn::Plain(connect_reusing(spec, reg, token, spare)?));
    }
    let s = connect(spec, reg, token)?;
    let tls = ctx
        .tls
        .as_ref()
        .ok_or_else(|| Failure::Tls("no TLS context (SSL block failed to load)".into()))?;
    let vhost = h
        .urls
        .get(url)
        .and_then(|u| u.virtualhost.clone())
        .or_else(|| h.virtualhost.clone());
    let name = if h.enable_sni {
        h.sni_name.clone().or(vhost)
    } else {
        None
    };
    let (cfg, server_name) = match name.and_then(|n| ServerName::try_from(n).ok()) {
        Some(n) => (tls.sni.clone(), n),
        None => (
            tls.no_sni.clone(),
            ServerName::IpAddress(spec.target.addr.ip().into()),
        ),
    };
    let c = ClientConnection::new(cfg, server_name).map_err(|e| Failure::Tls(e.to_string()))?;
    Ok(Conn::Tls(Box::new((s, c))))
}

fn host_header(spec: &CheckSpec, h: &HttpSpec, u: &UrlSpec) -> String {
    u.virtualhost
        .clone()
        .or_else(|| h.virtualhost.clone())
        .unwrap_or_else(|| spec.target.addr.ip().to_string())
}

/// The GET request of each `url` block of an HTTP_GET / SSL_GET (one for `/` when there
/// is none), built once per checker rather than per attempt. Empty for other kinds.
pub fn http_requests(spec: &CheckSpec) -> Vec<Box<[u8]>> {
    let CheckKind::Http(h) = &spec.kind else {
        return Vec::new();
    };
    let default = [UrlSpec::path("/")];
    let urls: &[UrlSpec] = if h.urls.is_empty() { &default } else { &h.urls };
    urls.iter()
        .map(|u| {
            let host = host_header(spec, h, u);
            http::request(h.protocol, &u.path, &host, spec.target.addr.port(), h.tls)
                .into_boxed_slice()
        })
        .collect()
}

impl Probe {
    /// After a pass: abort the connection with a RST ([`net::disconnect`]) and give the
    /// socket back for the check's next attempt (TCP_CHECK and plain HTTP_GET; `None`
    /// for others, which close as before).
    pub fn recycle(self, spec: &CheckSpec) -> Option<mio::net::TcpStream> {
        if !reusable(spec) {
            return None;
        }
        let s = match self {
            Probe::Tcp(TcpProbe {
                conn: Conn::Plain(s),
            }) => s,
            Probe::Http(p) => match p.conn {
                Conn::Plain(s) => s,
                Conn::Tls(_) => return None,
            },
            _ => return None,
        };
        net::disconnect(&s).ok().map(|()| s)
    }

    /// The step an attempt is waiting on, for the timeout message.
    pub fn waiting_for(&self) -> &'static str {
        match self {
            Probe::Tcp(_) => "connecting",
            Probe::Http(p) => match p.phase {
                HttpPhase::Connecting => "connecting",
                HttpPhase::Sending => "sending the request",
                HttpPhase::Receiving => "reading the reply",
            },
            Probe::Smtp(p) => match p.phase {
                SmtpPhase::Connecting => "connecting",
                SmtpPhase::Greeting => "waiting for the greeting",
                SmtpPhase::Helo => "waiting for the HELO reply",
                SmtpPhase::Quit => "waiting for the QUIT reply",
            },
            Probe::Dgram(_) => "waiting for the reply",
            Probe::Ping(_) => "waiting for the echo reply",
            Probe::Misc(_) => "running the script",
        }
    }

    /// The attempt's time ran out.
    pub fn on_timeout(&mut self, spec: &CheckSpec) -> Step {
        match (self, &spec.kind) {
            // UDP_CHECK without require_reply: silence (no ICMP error) is success.
            (Probe::Dgram(p), CheckKind::Udp(u)) if p.sent && u.require_reply.is_none() => {
                Step::Pass(None)
            }
            (Probe::Misc(m), _) => {
                m.kill();
                Step::Fail(Failure::Misc("timed out, killed".into()))
            }
            (p, _) => Step::Fail(Failure::Timeout(p.waiting_for())),
        }
    }

    /// Something happened on the attempt's socket (or pidfd).
    /// `buf` is scratch space for reads; `requests` are the check's prebuilt HTTP requests.
    #[allow(clippy::too_many_arguments)]
    pub fn on_event(
        &mut self,
        spec: &CheckSpec,
        ctx: &Ctx,
        reg: &Registry,
        token: Token,
        ready: Ready,
        buf: &mut [u8],
        requests: &[Box<[u8]>],
    ) -> Step {
        let r = match self {
            Probe::Tcp(p) => match p.conn.connected(ready) {
                Ok(true) => Ok(Some(None)),
                Ok(false) => Ok(None),
                Err(e) => Err(e),
            },
            Probe::Http(p) => match &spec.kind {
                CheckKind::Http(h) => p.drive(spec, h, ctx, reg, token, ready, buf, requests),
                _ => Err(Failure::Io(
                    "internal: HTTP probe on a non-HTTP check".into(),
                )),
            },
            Probe::Smtp(p) => match &spec.kind {
                CheckKind::Smtp(s) => p.drive(&s.helo_name, &ctx.hostname, ready, buf),
                _ => Err(Failure::Io(
                    "internal: SMTP probe on a non-SMTP check".into(),
                )),
            },
            Probe::Dgram(p) => p.drive(spec),
            Probe::Ping(p) => p.drive(),
            Probe::Misc(m) => m.poll(),
        };
        match r {
            Ok(None) => match self {
                Probe::Http(p) if p.yielded => {
                    p.yielded = false;
                    Step::Yield
                }
                _ => Step::Pending,
            },
            Ok(Some(w)) => Step::Pass(w),
            Err(f) => Step::Fail(f),
        }
    }
}

type Drive = Result<Option<Option<i64>>, Failure>;

/// Bytes one HTTP check may read per turn before it lets the others run.
const READ_BUDGET: usize = 256 * 1024;

impl HttpProbe {
    #[allow(clippy::too_many_arguments)]
    fn drive(
        &mut self,
        spec: &CheckSpec,
        h: &HttpSpec,
        ctx: &Ctx,
        reg: &Registry,
        token: Token,
        ready: Ready,
        buf: &mut [u8],
        requests: &[Box<[u8]>],
    ) -> Drive {
        let mut ready = ready;
        self.maybe_data |= ready.readable;
        let mut budget = READ_BUDGET;
        loop {
            let owned;
            let url: &UrlSpec = match h.urls.get(self.url) {
                Some(u) => u,
                None => {
                    owned = UrlSpec::path("/");
                    &owned
                }
            };
            let request: &[u8] = requests
                .get(self.url)
                .ok_or_else(|| Failure::Io("internal: no request built for this url".into()))?;
            match self.phase {
                HttpPhase::Connecting => {
                    if !self.conn.connected(ready)? {
                        return Ok(None);
                    }
                    self.sent = 0;
                    self.parser = http::ResponseParser::new(url.regex.is_some());
                    self.phase = HttpPhase::Sending;
                }
                HttpPhase::Sending => {
                    if !self.conn.write_from(request, &mut self.sent)? {
                        return Ok(None);
                    }
                    self.phase = HttpPhase::Receiving;
                    // The reply cannot be there yet unless this event said readable (a
                    // server talking first); edge-triggered readiness reports its arrival.
                    if !self.maybe_data && matches!(self.conn, Conn::Plain(_)) {
                        return Ok(None);
                    }
                }
                HttpPhase::Receiving => {
                    let done = match self.conn.read_some(buf)? {
                        Read0::WouldBlock => {
                            // TLS may still have handshake or request records to send.
                            if let Conn::Tls(_) = self.conn {
                                self.conn.write_from(request, &mut self.sent)?;
                            }
                            return Ok(None);
                        }
                        Read0::Eof => true,
                        Read0::Data(n) => {
                            budget = budget.saturating_sub(n);
                            self.parser.feed(&buf[..n]).map_err(Failure::Http)?
                        }
                    };
                    if !done {
                        if budget == 0 {
                            self.yielded = true;
                            return Ok(None);
                        }
                        continue;
                    }
                    let parser =
                        std::mem::replace(&mut self.parser, http::ResponseParser::new(false));
                    let resp = parser.finish().map_err(Failure::Http)?;
                    judge(url, &resp)?;
                    if h.tls_compliant {
                        if let Conn::Tls(b) = &mut self.conn {
                            b.1.send_close_notify();
                            let _ = tls_flush(&mut b.0, &mut b.1);
                        }
                    }
                    self.url += 1;
                    if self.url >= h.urls.len().max(1) {
                        return Ok(Some(None));
                    }
                    // The next url's connection: on the same socket when it is plain.
                    let reused = match &self.conn {
                        Conn::Plain(s) if reusable(spec) => net::disconnect(s)
                            .and_then(|()| net::tcp_reconnect(s, &spec.target))
                            .is_ok(),
                        _ => false,
                    };
                    if !reused {
                        self.conn = http_conn(spec, h, self.url, ctx, reg, token, None)?;
                    }
                    self.phase = HttpPhase::Connecting;
                    ready = Ready::NONE; // the event was for the previous connection
                    self.maybe_data = false;
                }
            }
        }
    }
}

/// Does a reply satisfy one `url` block?
pub fn judge(url: &UrlSpec, resp: &http::Response) -> Result<(), Failure> {
    if !url.status.contains(resp.status) {
        return Err(Failure::Status {
            path: url.path.clone(),
            code: resp.status,
        });
    }
    if let Some(d) = url.digest {
        if d != resp.digest {
            return Err(Failure::Digest {
                path: url.path.clone(),
                got: http::hex(&resp.digest),
            });
        }
    }
    if let Some(re) = &url.regex {
        let min = url.regex_min_offset.unwrap_or(0);
        let max = url.regex_max_offset.unwrap_or(usize::MAX);
        let found = re
            .find_iter(&resp.kept)
            .any(|m| m.start() >= min && m.start() < max);
        if found == url.regex_no_match {
            return Err(Failure::Regex {
                path: url.path.clone(),
            });
        }
    }
    Ok(())
}

impl SmtpProbe {
    fn drive(&mut self, helo: &str, hostname: &str, ready: Ready, buf: &mut [u8]) -> Drive {
        if self.phase == SmtpPhase::Connecting {
            if !self.conn.connected(ready)? {
                return Ok(None);
            }
            self.phase = SmtpPhase::Greeting;
        }
        if !self.conn.write_out(&mut self.out)? {
            return Ok(None);
        }
        loop {
            let n = match self.conn.read_some(buf)? {
                Read0::WouldBlock => return Ok(None),
                Read0::Eof => {
                    return Err(Failure::Closed(match self.phase {
                        SmtpPhase::Greeting => "waiting for the SMTP greeting",
                        SmtpPhase::Helo => "waiting for the HELO reply",
                        _ => "waiting for the QUIT reply",
                    }))
                }
                Read0::Data(n) => n,
            };
            let Some(code) = self.reply.feed(&buf[..n]).map_err(Failure::Smtp)? else {
                continue;
            };
            self.reply = smtp::ReplyReader::new();
            match self.phase {
                SmtpPhase::Greeting if code == 220 => {
                    let name = if helo.is_empty() { hostname } else { helo };
                    self.out = format!("HELO {name}\r\n").into_bytes();
                    self.phase = SmtpPhase::Helo;
                }
                SmtpPhase::Helo if code == 250 => {
                    self.out = b"QUIT\r\n".to_vec();
                    self.phase = SmtpPhase::Quit;
                }
                SmtpPhase::Quit if (200..300).contains(&code) => return Ok(Some(None)),
                phase => {
                    let step = match phase {
                        SmtpPhase::Greeting | SmtpPhase::Connecting => "greeting",
                        SmtpPhase::Helo => "HELO",
                        SmtpPhase::Quit => "QUIT",
                    };
                    return Err(Failure::SmtpCode { step, code });
                }
            }
            if !self.conn.write_out(&mut self.out)? {
                return Ok(None);
            }
        }
    }
}

impl DgramProbe {
    fn drive(&mut self, spec: &CheckSpec) -> Drive {
        if !self.sent {
            match self.sock.send(&self.query) {
                Ok(_) => self.sent = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(Failure::from_io(&e, false)),
            }
        }
        let mut buf = [0u8; 4096];
        loop {
            let n = match self.sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failure::from_io(&e, false)),
            };
            let reply = &buf[..n];
            match &spec.kind {
                CheckKind::Dns(d) => {
                    let id = self.dns_id.unwrap_or(0);
                    // A reply with another id is someone else's: keep waiting.
                    if reply.len() >= 2 && u16::from_be_bytes([reply[0], reply[1]]) != id {
                        continue;
                    }
                    dns::check_reply(reply, id, &d.name, d.qtype.code()).map_err(Failure::Dns)?;
                    return Ok(Some(None));
                }
                CheckKind::Udp(u) => {
                    udp::check_reply(
                        reply,
                        u.require_reply.as_ref(),
                        u.min_reply_length,
                        u.max_reply_length,
                    )
                    .map_err(Failure::Udp)?;
                    return Ok(Some(None));
                }
                _ => {
                    return Err(Failure::Io(
                        "internal: datagram probe on another check".into(),
                    ))
                }
            }
        }
    }
}

impl PingProbe {
    fn drive(&mut self) -> Drive {
        if !self.sent {
            let req = icmp::Echo {
                kind: if self.v6 {
                    icmp::V6_REQUEST
                } else {
                    icmp::V4_REQUEST
                },
                ident: self.ident,
                seq: self.seq,
                data: b"keepalived-rs PING_CHECK".to_vec(),
            };
            match self.sock.send(&req.emit()) {
                Ok(_) => self.sent = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(Failure::from_io(&e, false)),
            }
        }
        let mut buf = [0u8; 2048];
        loop {
            let n = match self.sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failure::from_io(&e, false)),
            };
            let msg = if self.raw && !self.v6 {
                match icmp::strip_ipv4(&buf[..n]) {
                    Some(m) => m,
                    None => continue,
                }
            } else {
                &buf[..n]
            };
            let Some(echo) = icmp::Echo::parse(msg) else {
                continue;
            };
            let want = if self.v6 {
                icmp::V6_REPLY
            } else {
                icmp::V4_REPLY
            };
            // Datagram ping sockets rewrite the identifier: match it only on raw sockets.
            if echo.kind == want && echo.seq == self.seq && (!self.raw || echo.ident == self.ident)
            {
                return Ok(Some(None));
            }
            if !self.raw && echo.kind != want {
                return Err(Failure::Unreachable);
            }
        }
    }
}

/// The address a check talks to, for logs.
pub fn describe(spec: &CheckSpec) -> String {
    match &spec.kind {
        CheckKind::Misc(m) => format!("MISC_CHECK {:?}", m.argv.join(" ")),
        CheckKind::File(f) => format!("FILE_CHECK {}", f.path.display()),
        k => format!("{} {}", k.name(), fmt_addr(spec.target.addr)),
    }
}

/// `[ip]:port`, keepalived's way of writing an address.
pub fn fmt_addr(a: SocketAddr) -> String {
    format!("[{}]:{}", a.ip(), a.port())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::from_config::build_regex;

    fn resp(body: &[u8], status: u16) -> http::Response {
        let mut p = http::ResponseParser::new(true);
        let mut raw = format!("HTTP/1.0 {status} X\r\n\r\n").into_bytes();
        raw.extend_from_slice(body);
        p.feed(&raw).unwrap();
        p.finish().unwrap()
    }

    #[test]
    fn judge_status_digest_regex_offsets_options() {
        let mut u = UrlSpec::path("/");
        let r = resp(b"Hello World hello", 200);
        assert!(judge(&u, &r).is_ok());
        assert!(judge(&u, &resp(b"", 500)).is_err());
        u.regex = Some(build_regex("hello", &[]).unwrap());
        assert!(judge(&u, &r).is_ok());
        u.regex_min_offset = Some(13);
        assert!(judge(&u, &r).is_err(), "the only match starts at 12");
        u.regex_min_offset = Some(0);
        u.regex_max_offset = Some(12);
        assert!(judge(&u, &r).is_err());
        u.regex_max_offset = None;
        u.regex = Some(build_regex("^HELLO", &["caseless".to_string()]).unwrap());
        assert!(judge(&u, &r).is_ok());
        u.regex_no_match = true;
        assert!(matches!(judge(&u, &r), Err(Failure::Regex { .. })));
        u.regex = None;
        u.digest = Some([0; 16]);
        assert!(matches!(judge(&u, &r), Err(Failure::Digest { .. })));
        assert!(build_regex("(", &[]).is_err());
    }
}
