//! The probes: one attempt of one check, as a small state machine per checker kind,
//! driven by socket (or pidfd) readiness — the I/O layer under the checks' schedule.
//! Nothing here blocks: every socket is non-blocking and every step that would wait says
//! [`Step::Pending`] until the loop calls again.
//!
//! A check's [`Kind`] holds its kind's settings once; each attempt ([`Probe`]) carries the
//! settings of its own kind, so a probe can never be driven with another kind's settings.
//!
//! * [`step`] — [`Step`] (the one result type), [`Ready`], [`Ctx`].
//! * [`conn`] — TCP (plain / TLS) and datagram plumbing.
//! * [`tcp`], [`http`] (HTTP_GET / SSL_GET), [`smtp`], [`dns`], [`udp`], [`ping`],
//!   [`misc`] (MISC_CHECK), [`file`](mod@file) (FILE_CHECK).

pub mod conn;
pub mod dns;
pub mod file;
pub mod http;
pub mod misc;
pub mod ping;
pub mod smtp;
pub mod step;
pub mod tcp;
pub mod udp;

use std::sync::Arc;

use mio::{Registry, Token};

use crate::failure::Failure;
use crate::net;
use crate::spec::{CheckKind, CheckSpec, DnsSpec, FileSpec, MiscSpec, Target, UdpSpec};

pub use http::{judge, HttpCheck};
pub use misc::MiscProbe;
pub use step::{Ctx, Ready, Step};

/// A check's kind with its settings, built once per check and shared by its attempts.
#[derive(Debug, Clone)]
pub enum Kind {
    /// TCP_CHECK.
    Tcp,
    /// HTTP_GET / SSL_GET.
    Http(Arc<HttpCheck>),
    /// SMTP_CHECK: its `helo_name` (empty: the host name).
    Smtp(Arc<str>),
    /// DNS_CHECK.
    Dns(Arc<DnsSpec>),
    /// UDP_CHECK.
    Udp(Arc<UdpSpec>),
    /// PING_CHECK.
    Ping,
    /// MISC_CHECK.
    Misc(MiscSpec),
    /// FILE_CHECK.
    File(FileSpec),
}

impl Kind {
    /// What the attempts of `spec` need.
    pub fn of(spec: &CheckSpec) -> Kind {
        match &spec.kind {
            CheckKind::Tcp => Kind::Tcp,
            CheckKind::Http(h) => {
                Kind::Http(Arc::new(HttpCheck::new((**h).clone(), spec.target.clone())))
            }
            CheckKind::Smtp(s) => Kind::Smtp(Arc::from(s.helo_name.as_str())),
            CheckKind::Dns(d) => Kind::Dns(Arc::new(d.clone())),
            CheckKind::Udp(u) => Kind::Udp(Arc::new(u.clone())),
            CheckKind::Ping => Kind::Ping,
            CheckKind::Misc(m) => Kind::Misc(m.clone()),
            CheckKind::File(f) => Kind::File(f.clone()),
        }
    }
}

/// One attempt in flight.
pub enum Probe {
    /// TCP_CHECK.
    Tcp(tcp::TcpProbe),
    /// HTTP_GET / SSL_GET.
    Http(Box<http::HttpProbe>),
    /// SMTP_CHECK.
    Smtp(Box<smtp::SmtpProbe>),
    /// DNS_CHECK.
    Dns(dns::DnsProbe),
    /// UDP_CHECK.
    Udp(udp::UdpProbe),
    /// PING_CHECK.
    Ping(ping::PingProbe),
    /// MISC_CHECK.
    Misc(MiscProbe),
}

/// Start an attempt. `Err(step)` when it is decided at once (FILE_CHECK, socket errors).
/// `spare` is a socket [`Probe::recycle`] gave back for this check, registered under
/// `token` (TCP_CHECK and plain HTTP_GET use it; others close it).
pub fn start(
    kind: &Kind,
    target: &Target,
    ctx: &mut Ctx,
    reg: &Registry,
    token: Token,
    spare: Option<mio::net::TcpStream>,
) -> Result<Probe, Step> {
    match kind {
        Kind::Tcp => tcp::TcpProbe::start(target, reg, token, spare).map(Probe::Tcp),
        Kind::Http(h) => {
            http::HttpProbe::start(h, ctx, reg, token, spare).map(|p| Probe::Http(Box::new(p)))
        }
        Kind::Smtp(helo) => {
            smtp::SmtpProbe::start(helo, target, reg, token).map(|p| Probe::Smtp(Box::new(p)))
        }
        Kind::Dns(d) => dns::DnsProbe::start(d, target, ctx, reg, token).map(Probe::Dns),
        Kind::Udp(u) => udp::UdpProbe::start(u, target, reg, token).map(Probe::Udp),
        Kind::Ping => ping::PingProbe::start(target, ctx, reg, token).map(Probe::Ping),
        Kind::Misc(m) => MiscProbe::start(m, reg, token)
            .map(Probe::Misc)
            .map_err(Step::Fail),
        Kind::File(f) => Err(file::file_check(f)),
    }
}

impl Probe {
    /// After a pass: abort the connection with a RST ([`net::disconnect`]) and give the
    /// socket back for the check's next attempt (TCP_CHECK and plain HTTP_GET without a
    /// fixed source port; `None` for others, which close as before).
    pub fn recycle(self) -> Option<mio::net::TcpStream> {
        let s = match self {
            Probe::Tcp(tcp::TcpProbe {
                conn: conn::Conn::Plain(s),
                reuse: true,
            }) => s,
            Probe::Http(p) => p.into_spare()?,
            _ => return None,
        };
        net::disconnect(&s).ok().map(|()| s)
    }

    /// The step an attempt is waiting on, for the timeout message.
    pub fn waiting_for(&self) -> &'static str {
        match self {
            Probe::Tcp(_) => "connecting",
            Probe::Http(p) => p.waiting_for(),
            Probe::Smtp(p) => p.waiting_for(),
            Probe::Dns(_) | Probe::Udp(_) => "waiting for the reply",
            Probe::Ping(_) => "waiting for the echo reply",
            Probe::Misc(_) => "running the script",
        }
    }

    /// The attempt's time ran out.
    pub fn on_timeout(&mut self) -> Step {
        match self {
            Probe::Udp(p) => p.on_timeout(),
            Probe::Misc(m) => {
                m.kill();
                Step::Fail(Failure::Misc("timed out, killed".into()))
            }
            p => Step::Fail(Failure::Timeout(p.waiting_for())),
        }
    }

    /// Something happened on the attempt's socket (or pidfd). `buf` is scratch space for
    /// reads.
    pub fn on_event(
        &mut self,
        ctx: &Ctx,
        reg: &Registry,
        token: Token,
        ready: Ready,
        buf: &mut [u8],
    ) -> Step {
        match self {
            Probe::Tcp(p) => p.on_event(ready),
            Probe::Http(p) => p.on_event(ctx, reg, token, ready, buf),
            Probe::Smtp(p) => p.on_event(&ctx.hostname, ready, buf),
            Probe::Dns(p) => p.on_event(buf),
            Probe::Udp(p) => p.on_event(buf),
            Probe::Ping(p) => p.on_event(buf),
            Probe::Misc(m) => m.on_event(),
        }
    }
}
