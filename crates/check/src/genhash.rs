//! `genhash` (also `keepalived-rs --genhash` / `-T`): fetch a URL and print the MD5 digest
//! of its body, the value HTTP_GET/SSL_GET `digest` lines expect. Options and output follow
//! keepalived 2.2.7's genhash: `-s server -p port -u url [-S] [-I] [-V vhost] [-P 1.0|1.0c|1.1]
//! [-m fwmark] [-t timeout] [-v] [-h]`; it prints the digest as 32 hex digits, or with `-v`
//! the header and body as hex dumps, the hash and the response time.
//!
//! One difference: on failure keepalived's genhash prints a message and still exits 0; we
//! print the same message and exit 1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

use crate::spec::{HttpProtocol, SslConfig, Target};
use crate::tls::TlsContext;
use crate::wire::http::{self, ResponseParser};

/// Parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-s`.
    pub server: String,
    /// `-p` (default 80, or 443 with `-S`).
    pub port: Option<u16>,
    /// `-u`.
    pub url: String,
    /// `-S`.
    pub ssl: bool,
    /// `-I`.
    pub sni: bool,
    /// `-V`.
    pub virtualhost: Option<String>,
    /// `-P`.
    pub protocol: HttpProtocol,
    /// `-m`.
    pub fwmark: Option<u32>,
    /// `-t` (default 5 s).
    pub timeout: Duration,
    /// `-v`.
    pub verbose: bool,
}

const USAGE: &str = "Usage: genhash COMMAND [OPTIONS]
Commands:
   -s server-address -p port -u url
   -S -s server-address -p port -u url
   -h

Options:
Either long or short options are allowed.
   --use-ssl         -S       Use SSL connection to remote server.
   --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).
   --server          -s       Use the specified remote server address.
   --port            -p       Use the specified remote server port.
   --url             -u       Use the specified remote server url.
   --use-virtualhost -V       Use the specified virtualhost in GET query.
   --verbose         -v       Use verbose mode output.
   --help            -h       Display this short inlined help screen.
   --fwmark          -m       Use the specified FW mark.
   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.
                                1.0c means 1.0 with 'Connection: close'
   --timeout         -t       Timeout in seconds
";

/// Why the command line is refused (usage is printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// `-h`.
    Help,
    /// Something is wrong; the message says what.
    Bad(String),
}

/// Parse arguments (without the program name; a leading `-T`/`--genhash` is skipped).
pub fn parse(args: &[String]) -> Result<Options, UsageError> {
    let mut o = Options {
        server: String::new(),
        port: None,
        url: String::new(),
        ssl: false,
        sni: false,
        virtualhost: None,
        protocol: HttpProtocol::Http10,
        fwmark: None,
        timeout: Duration::from_secs(5),
        verbose: false,
    };
    let mut it = args.iter().peekable();
    if it.peek().is_some_and(|a| *a == "-T" || *a == "--genhash") {
        it.next();
    }
    while let Some(a) = it.next() {
        // --opt=value and -xVALUE forms.
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ if a.len() > 2
                && a.starts_with('-')
                && !a.starts_with("--")
                && a.is_char_boundary(2) =>
            {
                (a[..2].to_string(), Some(a[2..].to_string()))
            }
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, UsageError> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| UsageError::Bad(format!("option {name} needs a value")))
        };
        match flag.as_str() {
            "-h" | "--help" => return Err(UsageError::Help),
            "-S" | "--use-ssl" => o.ssl = true,
            "-I" | "--use-sni" => o.sni = true,
            "-v" | "--verbose" => o.verbose = true,
            "-s" | "--server" => o.server = value("-s")?,
            "-u" | "--url" => o.url = value("-u")?,
            "-V" | "--use-virtualhost" => o.virtualhost = Some(value("-V")?),
            "-p" | "--port" => {
                let v = value("-p")?;
                o.port = Some(
                    v.parse()
                        .map_err(|_| UsageError::Bad(format!("bad port {v:?}")))?,
                );
            }
            "-m" | "--fwmark" => {
                let v = value("-m")?;
                o.fwmark = Some(
                    v.parse()
                        .map_err(|_| UsageError::Bad(format!("bad fwmark {v:?}")))?,
                );
            }
            "-t" | "--timeout" => {
                let v = value("-t")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 86400.0)
                    .ok_or_else(|| UsageError::Bad(format!("bad timeout {v:?}")))?;
                o.timeout = Duration::from_secs_f64(secs);
            }
            "-P" | "--protocol" => {
                o.protocol = match value("-P")?.as_str() {
                    "1.0" => HttpProtocol::Http10,
                    "1.0c" | "1.0C" => HttpProtocol::Http10C,
                    "1.1" => HttpProtocol::Http11,
                    v => return Err(UsageError::Bad(format!("bad protocol {v:?}"))),
                }
            }
            other => return Err(UsageError::Bad(format!("unknown option {other:?}"))),
        }
    }
    if o.server.is_empty() || o.url.is_empty() {
        return Err(UsageError::Bad("-s and -u are required".into()));
    }
    Ok(o)
}

/// What a fetch gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Raw header block.
    pub head: Vec<u8>,
    /// Body (what was hashed).
    pub body: Vec<u8>,
    /// MD5 of the body.
    pub digest: [u8; 16],
    /// Time from connect to the end of the reply.
    pub elapsed: Duration,
}

fn resolve(o: &Options) -> Result<SocketAddr, String> {
    let port = o.port.unwrap_or(if o.ssl { 443 } else { 80 });
    let host = o.server.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", o.server))?
        .next()
        .ok_or_else(|| format!("cannot resolve {}", o.server))
}

/// Fetch the URL (blocking, with the timeout on every step; this is a CLI tool, not the
/// checker loop).
pub fn fetch(o: &Options) -> Result<Fetched, String> {
    let addr = resolve(o)?;
    let start = Instant::now();
    let mut t = Target::new(addr);
    t.fwmark = o.fwmark;
    let sock = crate::net::tcp_connect(&t, false).map_err(|e| format!("Connection failed: {e}"))?;
    // Wait for the non-blocking connect with poll, then switch to blocking I/O.
    let mut poll = mio::Poll::new().map_err(|e| e.to_string())?;
    let mut sock = sock;
    poll.registry()
        .register(&mut sock, mio::Token(0), mio::Interest::WRITABLE)
        .map_err(|e| e.to_string())?;
    let mut events = mio::Events::with_capacity(4);
    poll.poll(&mut events, Some(o.timeout))
        .map_err(|e| e.to_string())?;
    if events.is_empty() {
        return Err("Connection failed: timeout".into());
    }
    if let Ok(Some(e)) | Err(e) = sock.take_error() {
        return Err(format!("Connection failed: {e}"));
    }
    sock.peer_addr()
        .map_err(|e| format!("Connection failed: {e}"))?;
    let _ = poll.registry().deregister(&mut sock);
    // SAFETY-free conversion: mio's TcpStream owns the fd; move it into std's.
    let std_sock: TcpStream = std::os::fd::OwnedFd::from(sock).into();
    std_sock.set_nonblocking(false).map_err(|e| e.to_string())?;
    std_sock
        .set_read_timeout(Some(o.timeout))
        .map_err(|e| e.to_string())?;
    std_sock
        .set_write_timeout(Some(o.timeout))
        .map_err(|e| e.to_string())?;
    let host = o
        .virtualhost
        .clone()
        .unwrap_or_else(|| addr.ip().to_string());
    let req = http::request(o.protocol, &o.url, &host, addr.port(), o.ssl);
    let mut stream: Box<dyn ReadWrite> = if o.ssl {
        let ctx = TlsContext::new(&SslConfig::default()).map_err(|e| e.to_string())?;
        let (cfg, name) = match (o.sni, &o.virtualhost) {
            (true, Some(v)) => (
                ctx.sni.clone(),
                ServerName::try_from(v.clone()).map_err(|e| format!("bad SNI name: {e}"))?,
            ),
            _ => (ctx.no_sni.clone(), ServerName::IpAddress(addr.ip().into())),
        };
        let conn =
            rustls::ClientConnection::new(Arc::clone(&cfg), name).map_err(|e| e.to_string())?;
        Box::new(rustls::StreamOwned::new(conn, std_sock))
    } else {
        Box::new(std_sock)
    };
    stream
        .write_all(&req)
        .map_err(|e| format!("Write failed: {e}"))?;
    stream.flush().map_err(|e| format!("Write failed: {e}"))?;
    let mut raw = Vec::new();
    let mut parser = ResponseParser::new(false);
    let mut buf = [0u8; 16384];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if parser.feed(&buf[..n]).map_err(|e| e.to_string())? {
                    break;
                }
                if raw.len() as u64 > http::MAX_BODY + http::MAX_HEAD as u64 {
                    return Err("reply too large".into());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("Read failed: {e}")),
        }
    }
    let resp = parser.finish().map_err(|e| e.to_string())?;
    let body_len = usize::try_from(resp.body_len)
        .unwrap_or(usize::MAX)
        .min(raw.len());
    let split = raw.len() - body_len;
    Ok(Fetched {
        head: raw[..split].to_vec(),
        body: raw[split..].to_vec(),
        digest: resp.digest,
        elapsed: start.elapsed(),
    })
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// keepalived's hex dump: offset, 16 bytes in two groups of 8, the printable characters.
pub fn hexdump(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, line) in data.chunks(16).enumerate() {
        out.push_str(&format!("{:04}  ", i * 16));
        for j in 0..16 {
            match line.get(j) {
                Some(b) => out.push_str(&format!("{b:02x} ")),
                None => out.push_str("   "),
            }
            if j == 7 {
                out.push_str("- ");
            }
        }
        out.push_str("  ");
        for j in 0..16 {
            out.push(match line.get(j) {
                Some(&b) if b.is_ascii_graphic() || b == b' ' => char::from(b),
                Some(_) => '.',
                None => ' ',
            });
        }
        out.push('\n');
    }
    out
}

/// The text genhash prints for a fetch.
pub fn render(o: &Options, f: &Fetched) -> String {
    if !o.verbose {
        return format!("{}\n", http::hex(&f.digest));
    }
    // keepalived's section titles, as it prints them (not all the same width).
    let bar = |t: &str| format!("-----------------------[{t}]-----------------------\n");
    let mut s = String::new();
    s.push_str(&bar("    HTTP Header Buffer    "));
    s.push_str(&hexdump(&f.head));
    s.push_str(&bar(" HTTP Header Ascii Buffer "));
    s.push_str(&String::from_utf8_lossy(&f.head));
    s.push('\n');
    s.push_str(&bar("        HTML Buffer        "));
    s.push_str(&hexdump(&f.body));
    s.push('\n');
    s.push_str(&bar("    HTML hash resulting    "));
    s.push_str(&hexdump(&f.digest));
    s.push_str(&bar(" HTML hash final resulting "));
    s.push_str(&format!("{}\n\n", http::hex(&f.digest)));
    s.push_str(&format!(
        "Global response time for [{}] = {} usecs\n",
        o.url,
        f.elapsed.as_micros()
    ));
    s
}

/// The genhash entry point: `args` without the program name. Returns the exit code.
pub fn main(args: &[String]) -> i32 {
    let o = match parse(args) {
        Ok(o) => o,
        Err(UsageError::Help) => {
            print!("{USAGE}");
            return 0;
        }
        Err(UsageError::Bad(m)) => {
            eprintln!("genhash: {m}");
            eprint!("{USAGE}");
            return 1;
        }
    };
    match fetch(&o) {
        Ok(f) => {
            print!("{}", render(&o, &f));
            0
        }
        Err(e) => {
            println!("{e}");
            1
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_options() {
        let o = parse(&args(
            "-T -S -s 10.0.0.1 -p 8443 -u /x -V www -P 1.1 -t 2 -v -I",
        ))
        .unwrap();
        assert!(o.ssl && o.sni && o.verbose);
        assert_eq!(o.port, Some(8443));
        assert_eq!(o.virtualhost.as_deref(), Some("www"));
        assert_eq!(o.protocol, HttpProtocol::Http11);
        assert_eq!(o.timeout, Duration::from_secs(2));
        let o = parse(&args("--server=h --url=/ -p80")).unwrap();
        assert_eq!((o.server.as_str(), o.port), ("h", Some(80)));
        assert_eq!(parse(&args("-h")), Err(UsageError::Help));
        assert!(parse(&args("-s x")).is_err());
        assert!(parse(&args("-s x -u / -p nope")).is_err());
        assert!(parse(&args("-s x -u / -t -1")).is_err());
        assert!(parse(&args("-s x -u / -Z")).is_err());
        assert!(parse(&args("-s x -u / -é")).is_err());
        assert!(parse(&args("-s x -u / -pé")).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(a in proptest::collection::vec(".{0,6}", 0..8)) {
            let _ = parse(&a);
        }
    }

    #[test]
    fn hexdump_layout_matches_keepalived() {
        let d = hexdump(b"HTTP/1.0 200 OK\r\n0 GMT\r\n\r\n\n");
        let lines: Vec<&str> = d.lines().collect();
        assert_eq!(
            lines[0],
            "0000  48 54 54 50 2f 31 2e 30 - 20 32 30 30 20 4f 4b 0d   HTTP/1.0 200 OK."
        );
        assert_eq!(
            lines[1],
            "0016  0a 30 20 47 4d 54 0d 0a - 0d 0a 0a                  .0 GMT.....     "
        );
    }
}
