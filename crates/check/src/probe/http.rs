//! HTTP_GET / SSL_GET: one connection per `url`, in order; all must pass.

use std::sync::Arc;

use mio::{Registry, Token};
use rustls::pki_types::ServerName;
use rustls::ClientConnection;

use crate::failure::Failure;
use crate::net;
use crate::spec::{HttpSpec, Target, UrlSpec};
use crate::wire::http;

use super::conn::{connect, connect_reusing, reusable, tls_flush, Conn, Read0};
use super::step::{Ctx, Ready, Step};

/// Bytes one HTTP check may read per turn before it lets the others run.
const READ_BUDGET: usize = 256 * 1024;

/// An HTTP_GET / SSL_GET check as its attempts use it: its settings, its target and each
/// url's request, built once per checker rather than per attempt.
#[derive(Debug)]
pub struct HttpCheck {
    spec: HttpSpec,
    target: Target,
    requests: Vec<Box<[u8]>>,
    reuse: bool,
}

impl HttpCheck {
    /// Build the requests (one for `/` when there is no `url` block).
    pub fn new(spec: HttpSpec, target: Target) -> HttpCheck {
        let default = [UrlSpec::path("/")];
        let urls: &[UrlSpec] = if spec.urls.is_empty() {
            &default
        } else {
            &spec.urls
        };
        let requests = urls
            .iter()
            .map(|u| {
                let host = host_header(&target, &spec, u);
                http::request(spec.protocol, &u.path, &host, target.addr.port(), spec.tls)
                    .into_boxed_slice()
            })
            .collect();
        HttpCheck {
            reuse: reusable(&target, spec.tls),
            spec,
            target,
            requests,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Sending,
    Receiving,
}

/// One attempt of an HTTP_GET / SSL_GET.
pub struct HttpProbe {
    check: Arc<HttpCheck>,
    st: State,
}

struct State {
    /// An event of this connection said readable (a reply may be waiting).
    maybe_data: bool,
    url: usize,
    conn: Conn,
    phase: Phase,
    /// Bytes of this URL's request already sent.
    sent: usize,
    parser: http::ResponseParser,
}

impl HttpProbe {
    /// Connect for the first url (on `spare` when plain and there is one).
    pub fn start(
        check: &Arc<HttpCheck>,
        ctx: &Ctx,
        reg: &Registry,
        token: Token,
        spare: Option<mio::net::TcpStream>,
    ) -> Result<HttpProbe, Step> {
        let conn = http_conn(check, 0, ctx, reg, token, spare).map_err(Step::Fail)?;
        Ok(HttpProbe {
            check: Arc::clone(check),
            st: State {
                maybe_data: false,
                url: 0,
                conn,
                phase: Phase::Connecting,
                sent: 0,
                parser: http::ResponseParser::new(false),
            },
        })
    }

    /// The socket said something. `buf` is scratch space for reads.
    pub fn on_event(
        &mut self,
        ctx: &Ctx,
        reg: &Registry,
        token: Token,
        ready: Ready,
        buf: &mut [u8],
    ) -> Step {
        self.st
            .drive(&self.check, ctx, reg, token, ready, buf)
            .into()
    }

    /// What the attempt waits on, for the timeout message.
    pub fn waiting_for(&self) -> &'static str {
        match self.st.phase {
            Phase::Connecting => "connecting",
            Phase::Sending => "sending the request",
            Phase::Receiving => "reading the reply",
        }
    }

    /// The plain socket, when it may be kept for the next attempt.
    pub fn into_spare(self) -> Option<mio::net::TcpStream> {
        match self.st.conn {
            Conn::Plain(s) if self.check.reuse => Some(s),
            _ => None,
        }
    }
}

impl State {
    fn drive(
        &mut self,
        check: &HttpCheck,
        ctx: &Ctx,
        reg: &Registry,
        token: Token,
        ready: Ready,
        buf: &mut [u8],
    ) -> Result<Step, Failure> {
        let h = &check.spec;
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
            let request: &[u8] = check
                .requests
                .get(self.url)
                .ok_or_else(|| Failure::Io("internal: no request built for this url".into()))?;
            match self.phase {
                Phase::Connecting => {
                    if !self.conn.connected(ready)? {
                        return Ok(Step::Pending);
                    }
                    self.sent = 0;
                    self.parser = http::ResponseParser::new(url.regex.is_some());
                    self.phase = Phase::Sending;
                }
                Phase::Sending => {
                    if !self.conn.write_from(request, &mut self.sent)? {
                        return Ok(Step::Pending);
                    }
                    self.phase = Phase::Receiving;
                    // The reply cannot be there yet unless this event said readable (a
                    // server talking first); edge-triggered readiness reports its arrival.
                    if !self.maybe_data && matches!(self.conn, Conn::Plain(_)) {
                        return Ok(Step::Pending);
                    }
                }
                Phase::Receiving => {
                    let done = match self.conn.read_some(buf)? {
                        Read0::WouldBlock => {
                            // TLS may still have handshake or request records to send.
                            if let Conn::Tls(_) = self.conn {
                                self.conn.write_from(request, &mut self.sent)?;
                            }
                            return Ok(Step::Pending);
                        }
                        Read0::Eof => true,
                        Read0::Data(n) => {
                            budget = budget.saturating_sub(n);
                            self.parser.feed(&buf[..n]).map_err(Failure::Http)?
                        }
                    };
                    if !done {
                        if budget == 0 {
                            return Ok(Step::Yield);
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
                        return Ok(Step::Pass(None));
                    }
                    // The next url's connection: on the same socket when it is plain.
                    let reused = match &self.conn {
                        Conn::Plain(s) if check.reuse => net::disconnect(s)
                            .and_then(|()| net::tcp_reconnect(s, &check.target))
                            .is_ok(),
                        _ => false,
                    };
                    if !reused {
                        self.conn = http_conn(check, self.url, ctx, reg, token, None)?;
                    }
                    self.phase = Phase::Connecting;
                    ready = Ready::NONE; // the event was for the previous connection
                    self.maybe_data = false;
                }
            }
        }
    }
}

fn http_conn(
    check: &HttpCheck,
    url: usize,
    ctx: &Ctx,
    reg: &Registry,
    token: Token,
    spare: Option<mio::net::TcpStream>,
) -> Result<Conn, Failure> {
    let h = &check.spec;
    if !h.tls {
        return Ok(Conn::Plain(connect_reusing(
            &check.target,
            reg,
            token,
            spare,
        )?));
    }
    let s = connect(&check.target, true, reg, token)?;
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
            ServerName::IpAddress(check.target.addr.ip().into()),
        ),
    };
    let c = ClientConnection::new(cfg, server_name).map_err(|e| Failure::Tls(e.to_string()))?;
    Ok(Conn::Tls(Box::new((s, c))))
}

fn host_header(target: &Target, h: &HttpSpec, u: &UrlSpec) -> String {
    u.virtualhost
        .clone()
        .or_else(|| h.virtualhost.clone())
        .unwrap_or_else(|| target.addr.ip().to_string())
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
