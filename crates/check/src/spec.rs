//! What one health check is asked to do: the checker kinds keepalived 2.2.7 has, their
//! keywords, and the timing every checker shares. Built from the config model (see
//! `from_config`) or by hand (tests, the benchmark).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::wire::http::StatusRanges;
use crate::wire::udp::ReplyPattern;

/// Index of a check: its place in the list of specs the checks were built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckId(pub usize);

/// Timing keywords shared by every checker (`delay_loop`, `retry`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// `delay_loop`: time between two checks of a healthy (or failed) server.
    pub delay_loop: Duration,
    /// `connect_timeout`: time allowed for the connection, and for each step after it.
    pub connect_timeout: Duration,
    /// `retry`: failed attempts retried before the checker is declared failed.
    pub retry: u32,
    /// `delay_before_retry`: pause between a failed attempt and its retry.
    pub delay_before_retry: Duration,
    /// `warmup`: the first check runs after a random delay in `0..warmup`.
    pub warmup: Duration,
}

impl Timing {
    /// keepalived's defaults for a checker kind (delay_loop 60 s, connect_timeout 5 s,
    /// retry 1 (DNS 3, MISC 0), delay_before_retry 1 s (HTTP/SSL 3 s, DNS delay_loop),
    /// warmup = delay_loop).
    pub fn defaults_for(kind: &CheckKind) -> Timing {
        let delay_loop = Duration::from_secs(60);
        let (retry, dbr) = match kind {
            CheckKind::Http(_) => (1, Duration::from_secs(3)),
            CheckKind::Dns(_) => (3, delay_loop),
            CheckKind::Misc(_) => (0, Duration::from_secs(1)),
            _ => (1, Duration::from_secs(1)),
        };
        Timing {
            delay_loop,
            connect_timeout: Duration::from_secs(5),
            retry,
            delay_before_retry: dbr,
            warmup: delay_loop,
        }
    }
}

/// Where a network checker connects, and how its socket is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `connect_ip` + `connect_port` (default: the real server's address and port).
    pub addr: SocketAddr,
    /// `bindto`: source address.
    pub bindto: Option<IpAddr>,
    /// `bind_port`: source port.
    pub bind_port: Option<u16>,
    /// `bind_if`: interface (SO_BINDTODEVICE).
    pub bind_if: Option<String>,
    /// `fwmark`: SO_MARK on the socket.
    pub fwmark: Option<u32>,
}

impl Target {
    /// A target with no binding options.
    pub fn new(addr: SocketAddr) -> Target {
        Target {
            addr,
            bindto: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
        }
    }
}

pub use crate::wire::http::HttpProtocol;

/// One `url { }` block of HTTP_GET / SSL_GET.
#[derive(Debug, Clone)]
pub struct UrlSpec {
    /// `path` (default `/`).
    pub path: String,
    /// `digest`: MD5 of the body, 16 bytes.
    pub digest: Option<[u8; 16]>,
    /// `status_code` (default 200-299).
    pub status: StatusRanges,
    /// `virtualhost` (overrides the checker's and real server's).
    pub virtualhost: Option<String>,
    /// `regex`, compiled.
    pub regex: Option<regex::bytes::Regex>,
    /// `regex_no_match`: the check passes when the regex does NOT match.
    pub regex_no_match: bool,
    /// `regex_min_offset`: the match must start at or after this body offset.
    pub regex_min_offset: Option<usize>,
    /// `regex_max_offset`: the match must start before this body offset.
    pub regex_max_offset: Option<usize>,
}

impl UrlSpec {
    /// `url { path PATH }` with every other keyword at its default.
    pub fn path(path: &str) -> UrlSpec {
        UrlSpec {
            path: path.to_string(),
            digest: None,
            status: StatusRanges::default(),
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_min_offset: None,
            regex_max_offset: None,
        }
    }
}

/// HTTP_GET and SSL_GET.
#[derive(Debug, Clone)]
pub struct HttpSpec {
    /// SSL_GET (true) or HTTP_GET.
    pub tls: bool,
    /// `http_protocol`.
    pub protocol: HttpProtocol,
    /// `url` blocks; all must pass. Empty means one `url { path / }`.
    pub urls: Vec<UrlSpec>,
    /// `virtualhost` of the checker (or inherited from the real/virtual server).
    pub virtualhost: Option<String>,
    /// `enable_sni`: send SNI (`sni_name`, else the virtualhost).
    pub enable_sni: bool,
    /// `sni_name`.
    pub sni_name: Option<String>,
    /// `tls_compliant`: close with close_notify; without it a bare EOF is accepted.
    pub tls_compliant: bool,
}

impl HttpSpec {
    /// HTTP_GET (or SSL_GET with `tls`) of `path`.
    pub fn get(tls: bool, path: &str) -> HttpSpec {
        HttpSpec {
            tls,
            protocol: HttpProtocol::Http10,
            urls: vec![UrlSpec::path(path)],
            virtualhost: None,
            enable_sni: false,
            sni_name: None,
            tls_compliant: false,
        }
    }
}

/// SMTP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSpec {
    /// `helo_name` (default: the global smtp_helo_name, else the host name).
    pub helo_name: String,
}

/// DNS record types DNS_CHECK knows (the config's type).
pub use ka_proto::config::checker::DnsType;

/// DNS_CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSpec {
    /// `type` (SOA).
    pub qtype: DnsType,
    /// `name` (".").
    pub name: String,
}

/// UDP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UdpSpec {
    /// `payload` (bytes sent).
    pub payload: Vec<u8>,
    /// `require_reply`: a reply must come and match this (with wildcards).
    pub require_reply: Option<ReplyPattern>,
    /// `min_reply_length` (0).
    pub min_reply_length: usize,
    /// `max_reply_length` (255... keepalived's default; 0 disables the bound here).
    pub max_reply_length: usize,
}

/// MISC_CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscSpec {
    /// `misc_path` split into argv.
    pub argv: Vec<String>,
    /// `misc_timeout` (default: delay_loop).
    pub timeout: Option<Duration>,
    /// `misc_dynamic`: exit 0 = up, 1 = down, 2..255 = up with weight rc-2.
    pub dynamic: bool,
    /// `user` (uid, gid) to run as.
    pub user: Option<(u32, u32)>,
}

/// FILE_CHECK: the value of a `track_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The tracked file's path (from the named `track_file` block).
    pub path: PathBuf,
    /// `weight` (default 1; 0 means any non-zero value is a failure).
    pub weight: i64,
    /// `reverse`.
    pub reverse: bool,
    /// `dynamic`: value × weight changes the real server's weight.
    pub dynamic: bool,
}

/// The checker kinds.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// TCP_CHECK: a connection is made and closed.
    Tcp,
    /// HTTP_GET / SSL_GET.
    Http(Box<HttpSpec>),
    /// SMTP_CHECK.
    Smtp(SmtpSpec),
    /// DNS_CHECK.
    Dns(DnsSpec),
    /// UDP_CHECK.
    Udp(UdpSpec),
    /// PING_CHECK (ICMP / ICMPv6 echo).
    Ping,
    /// MISC_CHECK.
    Misc(MiscSpec),
    /// FILE_CHECK.
    File(FileSpec),
}

impl CheckKind {
    /// keepalived's block name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Tcp => "TCP_CHECK",
            CheckKind::Http(h) if h.tls => "SSL_GET",
            CheckKind::Http(_) => "HTTP_GET",
            CheckKind::Smtp(_) => "SMTP_CHECK",
            CheckKind::Dns(_) => "DNS_CHECK",
            CheckKind::Udp(_) => "UDP_CHECK",
            CheckKind::Ping => "PING_CHECK",
            CheckKind::Misc(_) => "MISC_CHECK",
            CheckKind::File(_) => "FILE_CHECK",
        }
    }
}

/// One checker of one real server.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// What to check.
    pub kind: CheckKind,
    /// Where (ignored by MISC_CHECK and FILE_CHECK).
    pub target: Target,
    /// When and how often.
    pub timing: Timing,
    /// `alpha`: start in the failed state.
    pub alpha: bool,
    /// `log_all_failures`: log every failed attempt, not only state changes.
    pub log_all_failures: bool,
}

impl CheckSpec {
    /// A checker of `kind` on `addr` with keepalived's default timing.
    pub fn new(kind: CheckKind, addr: SocketAddr) -> CheckSpec {
        let timing = Timing::defaults_for(&kind);
        CheckSpec {
            kind,
            target: Target::new(addr),
            timing,
            alpha: false,
            log_all_failures: false,
        }
    }
}

/// keepalived's global `SSL { }` block (paths to PEM files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SslConfig {
    /// `password` of the key (encrypted PEM keys are not supported by rustls: see
    /// [`crate::tls`]).
    pub password: Option<String>,
    /// `ca`: when set, the server certificate is verified against it.
    pub ca: Option<PathBuf>,
    /// `certificate`: client certificate.
    pub certificate: Option<PathBuf>,
    /// `key`: client key.
    pub key: Option<PathBuf>,
}

/// The address a check talks to, for logs (`HTTP_GET [10.0.0.1]:80`).
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
