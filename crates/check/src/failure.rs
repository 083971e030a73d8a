//! Why a check attempt failed: one enum for every reason we log.

use std::fmt;

use crate::wire::{dns::DnsError, http::HttpError, smtp::SmtpError};

/// The reason an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The socket could not be made or the connection was refused / reset.
    Connect(String),
    /// No answer in time; the string names the step we were waiting for.
    Timeout(&'static str),
    /// The attempt ran past its hard limit (a server dripping bytes forever).
    TooSlow,
    /// The peer closed the connection too early; the string names the step.
    Closed(&'static str),
    /// A read or write failed.
    Io(String),
    /// TLS failed (handshake, certificate, alert).
    Tls(String),
    /// The HTTP reply is malformed or too large.
    Http(HttpError),
    /// The HTTP status is not in `status_code`.
    Status {
        /// URL path.
        path: String,
        /// Status received.
        code: u16,
    },
    /// The body's MD5 differs from `digest`.
    Digest {
        /// URL path.
        path: String,
        /// Digest of what came, hex.
        got: String,
    },
    /// `regex` did not match (or did, with `regex_no_match`).
    Regex {
        /// URL path.
        path: String,
    },
    /// The SMTP reply is malformed.
    Smtp(SmtpError),
    /// An SMTP step got an unexpected code.
    SmtpCode {
        /// The step.
        step: &'static str,
        /// The code.
        code: u16,
    },
    /// The DNS reply is not acceptable.
    Dns(DnsError),
    /// The UDP reply is not acceptable.
    Udp(String),
    /// An ICMP error came back (port or host unreachable).
    Unreachable,
    /// MISC_CHECK's script failed.
    Misc(String),
    /// FILE_CHECK's file could not be read or says "down".
    File(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Connect(e) => write!(f, "connection failed: {e}"),
            Failure::Timeout(step) => write!(f, "timeout while {step}"),
            Failure::TooSlow => write!(f, "the exchange ran past its time limit"),
            Failure::Closed(step) => write!(f, "connection closed while {step}"),
            Failure::Io(e) => write!(f, "I/O error: {e}"),
            Failure::Tls(e) => write!(f, "TLS: {e}"),
            Failure::Http(e) => write!(f, "HTTP: {e}"),
            Failure::Status { path, code } => write!(f, "HTTP status {code} for {path}"),
            Failure::Digest { path, got } => write!(f, "MD5 digest mismatch for {path}: got {got}"),
            Failure::Regex { path } => write!(f, "regex check failed for {path}"),
            Failure::Smtp(e) => write!(f, "{e}"),
            Failure::SmtpCode { step, code } => write!(f, "SMTP {step} answered {code}"),
            Failure::Dns(e) => write!(f, "{e}"),
            Failure::Udp(e) => write!(f, "UDP: {e}"),
            Failure::Unreachable => write!(f, "ICMP unreachable (connection refused)"),
            Failure::Misc(e) => write!(f, "script: {e}"),
            Failure::File(e) => write!(f, "file: {e}"),
        }
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// From an I/O error on a socket: refused/unreachable are named as such.
    pub fn from_io(e: &std::io::Error, connecting: bool) -> Failure {
        if e.kind() == std::io::ErrorKind::ConnectionRefused && !connecting {
            return Failure::Unreachable;
        }
        if connecting {
            Failure::Connect(e.to_string())
        } else {
            Failure::Io(e.to_string())
        }
    }
}
