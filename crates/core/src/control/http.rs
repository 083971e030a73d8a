//! The metrics listener's HTTP: just enough of HTTP/1.x for a scraper and a browser —
//! one `GET` per connection, answered and closed.

/// What an HTTP client may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /metrics`: Prometheus' text format.
    Metrics,
    /// `GET /`: the status page.
    Page,
    /// `GET /status.json`: what `ctl status --json` prints.
    StatusJson,
}

/// Where the request head ends (after its empty line), if it has arrived.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
}

/// The route a request head asks for, or the status to refuse it with.
pub fn route(head: &[u8]) -> Result<Route, u16> {
    let text = String::from_utf8_lossy(head);
    let first = text.lines().next().unwrap_or("");
    let mut words = first.split_ascii_whitespace();
    let (method, target, version) = (words.next(), words.next(), words.next());
    if !version.is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(400);
    }
    if method != Some("GET") && method != Some("HEAD") {
        return Err(405);
    }
    let path = target.unwrap_or("").split('?').next().unwrap_or("");
    match path {
        "/metrics" => Ok(Route::Metrics),
        "/" | "/index.html" => Ok(Route::Page),
        "/status.json" => Ok(Route::StatusJson),
        _ => Err(404),
    }
}

/// A response, sent whole with `Connection: close`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    /// 200 with `body`.
    pub fn ok(content_type: &'static str, body: String) -> Response {
        Response {
            status: 200,
            content_type,
            body,
        }
    }

    /// An error status with a one-line text body.
    pub fn error(status: u16) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{} {}\n", status, reason(status)),
        }
    }

    /// The bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        )
        .into_bytes();
        out.extend_from_slice(self.body.as_bytes());
        out
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_of_a_scraper_and_a_browser() {
        let head = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(head_end(head), Some(head.len()));
        assert_eq!(route(head), Ok(Route::Metrics));
        assert_eq!(route(b"GET /?refresh=1 HTTP/1.0\r\n\r\n"), Ok(Route::Page));
        assert_eq!(
            route(b"GET /status.json HTTP/1.1\r\n\r\n"),
            Ok(Route::StatusJson)
        );
        assert_eq!(route(b"POST /metrics HTTP/1.1\r\n\r\n"), Err(405));
        assert_eq!(route(b"GET /etc/passwd HTTP/1.1\r\n\r\n"), Err(404));
        assert_eq!(route(b"\x16\x03\x01 tls hello"), Err(400));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
    }

    #[test]
    fn a_response_says_its_length_and_closes() {
        let r = Response::ok("text/plain", "abc".into()).to_bytes();
        let t = String::from_utf8(r).unwrap();
        assert!(t.starts_with("HTTP/1.1 200 OK\r\n"), "{t}");
        assert!(t.contains("Content-Length: 3\r\n") && t.contains("Connection: close\r\n"));
        assert!(t.ends_with("\r\n\r\nabc"));
    }
}
