//! Health checkers inside a `real_server`: TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK,
//! MISC_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK (and BFD_CHECK, recognised).
//!
//! Timing fields left `None` inherit from the real server, then the virtual server,
//! then keepalived's per-checker default (see [`Checker::default_retry`] and
//! [`Checker::default_delay_before_retry`]).

use super::Script;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// Keywords every checker accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerCommon {
    /// `connect_ip` (None: the real server's address).
    pub connect_ip: Option<IpAddr>,
    /// `connect_port` (None: the real server's port).
    pub connect_port: Option<u16>,
    /// `bindto`.
    pub bindto: Option<IpAddr>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `bind_if`.
    pub bind_if: Option<String>,
    /// `fwmark`.
    pub fwmark: Option<u32>,
    /// `connect_timeout` (None: inherited; final default 5 s).
    pub connect_timeout: Option<Duration>,
    /// `retry` / `nb_get_retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Duration>,
    /// `warmup`.
    pub warmup: Option<Duration>,
    /// `delay_loop`.
    pub delay_loop: Option<Duration>,
    /// `alpha`.
    pub alpha: Option<bool>,
    /// `log_all_failures`.
    pub log_all_failures: Option<bool>,
}

/// `http_protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HttpProtocol {
    /// `1.0` (the default).
    #[default]
    Http10,
    /// `1.0C`: 1.0 with `Connection: close`.
    Http10C,
    /// `1.1`.
    Http11,
}

/// `url { }` inside HTTP_GET/SSL_GET.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Url {
    /// `path` (required).
    pub path: String,
    /// `digest` (MD5, lower-case hex).
    pub digest: Option<String>,
    /// `status_code` ranges (default 200..=299).
    pub status_code: Vec<(u16, u16)>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `regex`.
    pub regex: Option<String>,
    /// `regex_no_match`.
    pub regex_no_match: bool,
    /// `regex_options`, as written.
    pub regex_options: Vec<String>,
    /// `regex_stack`.
    pub regex_stack: Option<u32>,
    /// `regex_min_offset`.
    pub regex_min_offset: Option<u32>,
    /// `regex_max_offset`.
    pub regex_max_offset: Option<u32>,
}

impl Url {
    /// The status codes accepted: the given ranges, or 200..=299.
    pub fn accepts(&self, code: u16) -> bool {
        if self.status_code.is_empty() {
            (200..=299).contains(&code)
        } else {
            self.status_code
                .iter()
                .any(|(a, b)| (*a..=*b).contains(&code))
        }
    }
}

/// HTTP_GET / SSL_GET.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCheck {
    /// Common keywords.
    pub common: CheckerCommon,
    /// `http_protocol`.
    pub http_protocol: HttpProtocol,
    /// `url { }` blocks.
    pub urls: Vec<Url>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `fast_recovery`.
    pub fast_recovery: bool,
    /// `enable_sni`.
    pub enable_sni: bool,
    /// `sni_name`.
    pub sni_name: Option<String>,
    /// `tls_compliant`.
    pub tls_compliant: bool,
}

/// SMTP_CHECK.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpCheck {
    /// Common keywords.
    pub common: CheckerCommon,
    /// `helo_name` (default the host name).
    pub helo_name: Option<String>,
    /// Legacy `host { }` blocks, each with its own connect options.
    pub hosts: Vec<CheckerCommon>,
}

/// MISC_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiscCheck {
    /// Common keywords.
    pub common: CheckerCommon,
    /// `misc_path "cmd args"` (required).
    pub misc_path: Script,
    /// `misc_timeout` (None: delay_loop).
    pub misc_timeout: Option<Duration>,
    /// `misc_dynamic`.
    pub misc_dynamic: bool,
}

/// DNS query type for DNS_CHECK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DnsType {
    /// A (1).
    A,
    /// NS (2).
    Ns,
    /// CNAME (5).
    Cname,
    /// SOA (6), the default.
    #[default]
    Soa,
    /// MX (15).
    Mx,
    /// TXT (16).
    Txt,
    /// AAAA (28).
    Aaaa,
}

impl DnsType {
    /// The wire value.
    pub fn code(self) -> u16 {
        match self {
            DnsType::A => 1,
            DnsType::Ns => 2,
            DnsType::Cname => 5,
            DnsType::Soa => 6,
            DnsType::Mx => 15,
            DnsType::Txt => 16,
            DnsType::Aaaa => 28,
        }
    }

    /// Parse a config word (`A`, `soa`, ...).
    pub fn parse(word: &str) -> Option<DnsType> {
        Some(match word.to_ascii_uppercase().as_str() {
            "A" => DnsType::A,
            "NS" => DnsType::Ns,
            "CNAME" => DnsType::Cname,
            "SOA" => DnsType::Soa,
            "MX" => DnsType::Mx,
            "TXT" => DnsType::Txt,
            "AAAA" => DnsType::Aaaa,
            _ => return None,
        })
    }
}

/// DNS_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsCheck {
    /// Common keywords.
    pub common: CheckerCommon,
    /// `type` (SOA).
    pub query_type: DnsType,
    /// `name` (".").
    pub name: String,
}

impl Default for DnsCheck {
    fn default() -> Self {
        DnsCheck {
            common: CheckerCommon::default(),
            query_type: DnsType::Soa,
            name: ".".to_string(),
        }
    }
}

/// UDP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpCheck {
    /// Common keywords.
    pub common: CheckerCommon,
    /// `payload HEX` (decoded bytes).
    pub payload: Vec<u8>,
    /// `require_reply [HEX]`: Some(pattern) where `None` bytes are `x` wildcards.
    pub require_reply: Option<Vec<Option<u8>>>,
    /// `min_reply_length` (0).
    pub min_reply_length: u16,
    /// `max_reply_length` (255).
    pub max_reply_length: u16,
}

impl Default for UdpCheck {
    fn default() -> Self {
        UdpCheck {
            common: CheckerCommon::default(),
            payload: Vec::new(),
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: 255,
        }
    }
}

/// FILE_CHECK.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheck {
    /// Common keywords.
    pub common: CheckerCommon,
    /// `track_file NAME` (required).
    pub track_file: String,
    /// `dynamic`.
    pub dynamic: bool,
    /// `weight W [reverse]` (None: the track_file's weight).
    pub weight: Option<i32>,
    /// `reverse`.
    pub reverse: bool,
}

/// One health checker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Checker {
    /// `TCP_CHECK { }`: a TCP connect.
    Tcp(CheckerCommon),
    /// `HTTP_GET { }`.
    Http(HttpCheck),
    /// `SSL_GET { }`.
    Ssl(HttpCheck),
    /// `SMTP_CHECK { }`.
    Smtp(SmtpCheck),
    /// `MISC_CHECK { }`.
    Misc(MiscCheck),
    /// `DNS_CHECK { }`.
    Dns(DnsCheck),
    /// `UDP_CHECK { }`.
    Udp(UdpCheck),
    /// `PING_CHECK { }`.
    Ping(CheckerCommon),
    /// `FILE_CHECK { }`.
    File(FileCheck),
    /// `BFD_CHECK { name; alpha }` (recognised only; BFD is out of scope).
    Bfd(String),
}

impl Default for Checker {
    fn default() -> Self {
        Checker::Tcp(CheckerCommon::default())
    }
}

impl Checker {
    /// The keyword that opens this checker's block.
    pub fn keyword(&self) -> &'static str {
        match self {
            Checker::Tcp(_) => "TCP_CHECK",
            Checker::Http(_) => "HTTP_GET",
            Checker::Ssl(_) => "SSL_GET",
            Checker::Smtp(_) => "SMTP_CHECK",
            Checker::Misc(_) => "MISC_CHECK",
            Checker::Dns(_) => "DNS_CHECK",
            Checker::Udp(_) => "UDP_CHECK",
            Checker::Ping(_) => "PING_CHECK",
            Checker::File(_) => "FILE_CHECK",
            Checker::Bfd(_) => "BFD_CHECK",
        }
    }

    /// The common keywords (None for BFD_CHECK).
    pub fn common(&self) -> Option<&CheckerCommon> {
        match self {
            Checker::Tcp(c) | Checker::Ping(c) => Some(c),
            Checker::Http(h) | Checker::Ssl(h) => Some(&h.common),
            Checker::Smtp(s) => Some(&s.common),
            Checker::Misc(m) => Some(&m.common),
            Checker::Dns(d) => Some(&d.common),
            Checker::Udp(u) => Some(&u.common),
            Checker::File(f) => Some(&f.common),
            Checker::Bfd(_) => None,
        }
    }

    /// keepalived's default `retry` for this kind (1; DNS 3; MISC 0).
    pub fn default_retry(&self) -> u32 {
        match self {
            Checker::Dns(_) => 3,
            Checker::Misc(_) => 0,
            _ => 1,
        }
    }

    /// keepalived's default `delay_before_retry` (1 s; HTTP/SSL 3 s; DNS: delay_loop).
    pub fn default_delay_before_retry(&self, delay_loop: Duration) -> Duration {
        match self {
            Checker::Http(_) | Checker::Ssl(_) => Duration::from_secs(3),
            Checker::Dns(_) => delay_loop,
            _ => Duration::from_secs(1),
        }
    }
}
