//! HTTP/1.x as HTTP_GET, SSL_GET and genhash speak it: the request we send, and an
//! incremental, size-bounded parser for the reply.
//!
//! The digest is the MD5 of the raw bytes after the header block, as keepalived's checker
//! and genhash compute it (no chunked decoding), so digests made by either tool match.

use std::fmt;

use md5::{Digest, Md5};

/// Largest header block accepted (status line + headers).
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest body read before the reply is declared too large.
pub const MAX_BODY: u64 = 8 * 1024 * 1024;
/// Bytes of body kept for `regex` matching.
pub const MAX_KEPT: usize = 1024 * 1024;

/// `status_code` ranges; the default is 200-299.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRanges(pub Vec<(u16, u16)>);

impl Default for StatusRanges {
    fn default() -> Self {
        StatusRanges(vec![(200, 299)])
    }
}

impl StatusRanges {
    /// Does `code` fall in one of the ranges?
    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= code && code <= hi)
    }

    /// Parse `status_code` arguments: each `N` or `N-M` (100..=999).
    pub fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<StatusRanges, String> {
        let mut out = Vec::new();
        for w in words {
            let (lo, hi) = match w.split_once('-') {
                Some((a, b)) => (a, b),
                None => (w, w),
            };
            let lo: u16 = lo
                .trim()
                .parse()
                .map_err(|_| format!("bad status code {w:?}"))?;
            let hi: u16 = hi
                .trim()
                .parse()
                .map_err(|_| format!("bad status code {w:?}"))?;
            if !(100..=999).contains(&lo) || !(100..=999).contains(&hi) || lo > hi {
                return Err(format!("status code out of range {w:?}"));
            }
            out.push((lo, hi));
        }
        if out.is_empty() {
            return Err("status_code needs a value".into());
        }
        Ok(StatusRanges(out))
    }
}

/// `http_protocol` (the config's type): `1.0` sends no Connection header, `1.0C` and `1.1`
/// send `Connection: close`.
pub use ka_proto::config::checker::HttpProtocol;

/// The GET request for `path`, with `Host: host[:port]` (the port is written when it is not
/// the scheme's default).
pub fn request(protocol: HttpProtocol, path: &str, host: &str, port: u16, tls: bool) -> Vec<u8> {
    let version = match protocol {
        HttpProtocol::Http11 => "1.1",
        _ => "1.0",
    };
    let default_port = if tls { 443 } else { 80 };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]") // IPv6 literal
    } else {
        host.to_string()
    };
    let port = if port == default_port {
        String::new()
    } else {
        format!(":{port}")
    };
    let conn = match protocol {
        HttpProtocol::Http10 => "",
        _ => "Connection: close\r\n",
    };
    format!("GET {path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\nHost: {host}{port}\r\n{conn}\r\n")
        .into_bytes()
}

/// Why a reply is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The header block grew past [`MAX_HEAD`].
    HeadersTooLarge,
    /// The body grew past [`MAX_BODY`].
    BodyTooLarge,
    /// The first line is not `HTTP/1.x NNN ...`.
    BadStatusLine(String),
    /// A header line is not `name: value`.
    BadHeader,
    /// `Content-Length` is not a number.
    BadContentLength,
    /// The connection closed before the header block ended.
    EofInHeaders,
    /// The connection closed before `Content-Length` bytes came.
    ShortBody {
        /// Bytes announced.
        expected: u64,
        /// Bytes received.
        got: u64,
    },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::HeadersTooLarge => write!(f, "headers larger than {MAX_HEAD} bytes"),
            HttpError::BodyTooLarge => write!(f, "body larger than {MAX_BODY} bytes"),
            HttpError::BadStatusLine(l) => write!(f, "malformed status line {l:?}"),
            HttpError::BadHeader => write!(f, "malformed header line"),
            HttpError::BadContentLength => write!(f, "malformed Content-Length"),
            HttpError::EofInHeaders => write!(f, "connection closed inside the headers"),
            HttpError::ShortBody { expected, got } => {
                write!(f, "body cut short: {got} of {expected} bytes")
            }
        }
    }
}

impl std::error::Error for HttpError {}

/// A complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// MD5 of the body bytes.
    pub digest: [u8; 16],
    /// Body length.
    pub body_len: u64,
    /// The first [`MAX_KEPT`] body bytes, when asked for (regex).
    pub kept: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Body,
    Done,
}

/// Incremental reply parser: [`feed`](ResponseParser::feed) bytes as they come, call
/// [`finish`](ResponseParser::finish) at EOF (or when `feed` says the body is complete).
#[derive(Debug, Clone)]
pub struct ResponseParser {
    phase: Phase,
    head: Vec<u8>,
    status: u16,
    content_length: Option<u64>,
    body_len: u64,
    md5: Md5,
    keep: bool,
    kept: Vec<u8>,
}

impl ResponseParser {
    /// A parser; `keep_body` keeps up to [`MAX_KEPT`] body bytes for regex matching.
    pub fn new(keep_body: bool) -> ResponseParser {
        ResponseParser {
            phase: Phase::Head,
            head: Vec::new(),
            status: 0,
            content_length: None,
            body_len: 0,
            md5: Md5::new(),
            keep: keep_body,
            kept: Vec::new(),
        }
    }

    /// The status code, once the header block is parsed.
    pub fn status(&self) -> Option<u16> {
        (self.phase != Phase::Head).then_some(self.status)
    }

    /// Feed received bytes. Returns `Ok(true)` when the reply is complete (Content-Length
    /// reached); further bytes are ignored.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<bool, HttpError> {
        if self.phase == Phase::Head {
            let old = self.head.len();
            // Look for the end of the headers in the old tail + new data.
            let take = data.len().min(MAX_HEAD + 4 - old.min(MAX_HEAD + 4));
            self.head.extend_from_slice(&data[..take]);
            let from = old.saturating_sub(3);
            match find_head_end(&self.head, from) {
                Some((end, sep)) => {
                    let used_new = end + sep - old;
                    self.head.truncate(end);
                    self.parse_head()?;
                    self.phase = Phase::Body;
                    data = data.get(used_new..).unwrap_or(&[]);
                }
                None => {
                    if self.head.len() > MAX_HEAD {
                        return Err(HttpError::HeadersTooLarge);
                    }
                    return Ok(false);
                }
            }
        }
        if self.phase == Phase::Body {
            let mut chunk = data;
            if let Some(cl) = self.content_length {
                let left = cl.saturating_sub(self.body_len);
                if (chunk.len() as u64) > left {
                    chunk = &chunk[..left as usize];
                }
            }
            self.body_len += chunk.len() as u64;
            if self.body_len > MAX_BODY {
                return Err(HttpError::BodyTooLarge);
            }
            self.md5.update(chunk);
            if self.keep && self.kept.len() < MAX_KEPT {
                let room = MAX_KEPT - self.kept.len();
                self.kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            if self.content_length == Some(self.body_len) {
                self.phase = Phase::Done;
            }
        }
        Ok(self.phase == Phase::Done)
    }

    /// The connection ended (or the body is complete): the reply, or why it is not one.
    pub fn finish(self) -> Result<Response, HttpError> {
        match self.phase {
            Phase::Head => Err(HttpError::EofInHeaders),
            _ => {
                if let Some(cl) = self.content_length {
                    if self.body_len < cl {
                        return Err(HttpError::ShortBody {
                            expected: cl,
                            got: self.body_len,
                        });
                    }
                }
                Ok(Response {
                    status: self.status,
                    digest: self.md5.finalize().into(),
                    body_len: self.body_len,
                    kept: self.kept,
                })
            }
        }
    }

    fn parse_head(&mut self) -> Result<(), HttpError> {
        let head = String::from_utf8_lossy(&self.head).into_owned();
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let first = lines.next().unwrap_or("");
        self.status = parse_status_line(first)?;
        for line in lines {
            if line.is_empty() {
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(HttpError::BadHeader);
            };
            if name.trim().eq_ignore_ascii_case("content-length") {
                let v = value
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| HttpError::BadContentLength)?;
                self.content_length = Some(v);
            }
        }
        Ok(())
    }
}

/// `HTTP/1.x NNN reason` -> NNN.
pub fn parse_status_line(line: &str) -> Result<u16, HttpError> {
    let bad = || HttpError::BadStatusLine(line.chars().take(80).collect());
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().ok_or_else(bad)?;
    if !version.starts_with("HTTP/") {
        return Err(bad());
    }
    let code = parts.next().ok_or_else(bad)?;
    if code.len() != 3 {
        return Err(bad());
    }
    let code: u16 = code.parse().map_err(|_| bad())?;
    if !(100..=999).contains(&code) {
        return Err(bad());
    }
    Ok(code)
}

/// Position of the blank line ending the header block (index of its first byte) and the
/// length of the separator, searching from `from`.
fn find_head_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some((i + 1, 1));
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some((i + 1, 2));
            }
        }
        i += 1;
    }
    None
}

/// Lower-case hex of a digest.
pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse a 32-digit hex MD5 digest.
pub fn parse_digest(s: &str) -> Option<[u8; 16]> {
    let s = s.trim();
    if s.len() != 32 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8], step: usize) -> Result<Response, HttpError> {
        let mut p = ResponseParser::new(true);
        for c in bytes.chunks(step.max(1)) {
            if p.feed(c)? {
                break;
            }
        }
        p.finish()
    }

    #[test]
    fn request_formats() {
        let r = request(HttpProtocol::Http10, "/x", "10.0.0.1", 80, false);
        assert_eq!(
            r,
            b"GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1\r\n\r\n"
        );
        let r = request(HttpProtocol::Http11, "/", "www", 8080, false);
        assert_eq!(
            r,
            b"GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nHost: www:8080\r\nConnection: close\r\n\r\n"
        );
        let r = request(HttpProtocol::Http10C, "/", "::1", 443, true);
        assert!(String::from_utf8_lossy(&r).contains("Host: [::1]\r\nConnection: close"));
    }

    #[test]
    fn parses_reply_in_any_split() {
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello trailing";
        for step in [1, 2, 3, 7, 100] {
            let r = parse_all(reply, step).unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(r.body_len, 5);
            assert_eq!(hex(&r.digest), "5d41402abc4b2a76b9719d911017c592"); // md5("hello")
            assert_eq!(r.kept, b"hello");
        }
    }

    #[test]
    fn body_until_eof_and_lf_only() {
        let r = parse_all(b"HTTP/1.0 404 Nope\n\nabc", 2).unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.kept, b"abc");
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_all(b"garbage\r\n\r\n", 4),
            Err(HttpError::BadStatusLine(_))
        ));
        assert_eq!(
            parse_all(b"HTTP/1.0 200 OK\r\n", 4),
            Err(HttpError::EofInHeaders)
        );
        assert_eq!(
            parse_all(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", 4),
            Err(HttpError::ShortBody {
                expected: 10,
                got: 3
            })
        );
        let mut big = b"HTTP/1.0 200 OK\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        assert_eq!(parse_all(&big, 4096), Err(HttpError::HeadersTooLarge));
    }

    #[test]
    fn status_ranges() {
        let r = StatusRanges::parse(["200-299", "401"]).unwrap();
        assert!(r.contains(250) && r.contains(401) && !r.contains(302));
        assert!(StatusRanges::parse(["299-200"]).is_err());
        assert!(StatusRanges::default().contains(200));
    }

    #[test]
    fn digest_hex_roundtrip() {
        let d = parse_digest("5d41402abc4b2a76b9719d911017c592").unwrap();
        assert_eq!(hex(&d), "5d41402abc4b2a76b9719d911017c592");
        assert!(parse_digest("zz").is_none());
        assert!(parse_digest("é5d41402abc4b2a76b9719d911017c59").is_none());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), step in 1usize..64) {
            let _ = parse_all(&data, step);
        }
    }
}
