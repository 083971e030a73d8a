//! Delivering one alert over TCP, on a thread of its own so no event loop ever waits for
//! a mail server.
//!
//! Every step is bounded: connecting by `smtp_connect_timeout`, and each reply must be
//! complete within `smtp_connect_timeout` of the moment we start waiting for it (a server
//! that drips one byte at a time gains nothing), each write likewise; replies are bounded
//! in size ([`super::reply::MAX_REPLY`]). At most [`MAX_IN_FLIGHT`] deliveries run at
//! once; more are dropped with a log line rather than piling up threads behind a dead
//! server. Outcomes are reported as [`Event`]s whose text is keepalived's log line.

use super::dialogue::{Dialogue, Envelope, Next, Stage};
use super::reply::{Reply, ReplyError};
use crate::config::global::SmtpServer;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Most alert deliveries running at the same time (per process).
pub const MAX_IN_FLIGHT: usize = 16;

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// One mail to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// `smtp_server`.
    pub server: SmtpServer,
    /// `smtp_connect_timeout`: bounds the connect and each reply and write.
    pub timeout: Duration,
    /// HELO name, MAIL FROM, RCPT TO.
    pub envelope: Envelope,
    /// The DATA content with its final `.` line.
    pub message: Vec<u8>,
}

/// What happened during a delivery. `Display` gives keepalived's log line where
/// keepalived has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Connected.
    Connected {
        /// The server.
        server: SocketAddr,
    },
    /// The server accepted the mail.
    Delivered,
    /// The server answered `code` at `stage`.
    Refused {
        /// The server.
        server: SocketAddr,
        /// Where.
        stage: Stage,
        /// Its reply code.
        code: u16,
    },
    /// The server closed the connection while we waited at `stage`.
    Closed {
        /// The server.
        server: SocketAddr,
        /// Where.
        stage: Stage,
    },
    /// No complete reply (or write) within the timeout.
    Timeout {
        /// The server.
        server: SocketAddr,
        /// Where.
        stage: Stage,
        /// True when a write timed out, false for a read.
        writing: bool,
    },
    /// The server's bytes are not an SMTP reply.
    Malformed {
        /// The server.
        server: SocketAddr,
        /// Where.
        stage: Stage,
        /// What is wrong.
        error: ReplyError,
    },
    /// Another socket error after connecting.
    Io {
        /// The server.
        server: SocketAddr,
        /// Where.
        stage: Stage,
        /// The error.
        error: String,
    },
    /// The connection failed (refused, unreachable...).
    ConnectFailed {
        /// The server.
        server: SocketAddr,
        /// The error.
        error: String,
    },
    /// The connection did not complete within the timeout.
    ConnectTimeout {
        /// The server.
        server: SocketAddr,
    },
    /// `smtp_server` is a name that does not resolve.
    Resolve {
        /// The name.
        host: String,
        /// The error.
        error: String,
    },
    /// [`MAX_IN_FLIGHT`] deliveries are already running: this one is dropped.
    Busy,
    /// No thread could be started.
    Spawn(String),
}

impl Event {
    /// Should this be logged as an error (else as information)?
    pub fn is_error(&self) -> bool {
        !matches!(self, Event::Connected { .. } | Event::Delivered)
    }
}

/// keepalived writes `[10.91.0.3]:25` for both families.
struct Bracketed(SocketAddr);

impl fmt::Display for Bracketed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]:{}", self.0.ip(), self.0.port())
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Connected { server } => {
                write!(f, "Remote SMTP server {} connected.", Bracketed(*server))
            }
            Event::Delivered => write!(f, "SMTP alert successfully sent."),
            Event::Refused {
                server,
                stage,
                code,
            } => write!(
                f,
                "Error processing {} cmd on SMTP server {}. SMTP status code = {code}",
                stage.keepalived_name(),
                Bracketed(*server)
            ),
            Event::Closed { server, .. } => write!(
                f,
                "Remote SMTP server {} has closed the connection.",
                Bracketed(*server)
            ),
            Event::Timeout {
                server, writing, ..
            } => write!(
                f,
                "Timeout {} data to remote SMTP server {}.",
                if *writing { "writing" } else { "reading" },
                Bracketed(*server)
            ),
            Event::Malformed {
                server,
                stage,
                error,
            } => write!(
                f,
                "Invalid reply to {} cmd from SMTP server {}: {error}",
                stage.keepalived_name(),
                Bracketed(*server)
            ),
            Event::Io {
                server,
                stage,
                error,
            } => write!(
                f,
                "Error in {} cmd with SMTP server {}: {error}",
                stage.keepalived_name(),
                Bracketed(*server)
            ),
            Event::ConnectFailed { server, error } => write!(
                f,
                "Error connecting SMTP server {}: {error}",
                Bracketed(*server)
            ),
            Event::ConnectTimeout { server } => {
                write!(f, "Timeout connecting SMTP server {}.", Bracketed(*server))
            }
            Event::Resolve { host, error } => {
                write!(f, "Cannot resolve SMTP server {host}: {error}")
            }
            Event::Busy => write!(
                f,
                "{MAX_IN_FLIGHT} SMTP alerts already in progress: this one is dropped"
            ),
            Event::Spawn(e) => write!(f, "Cannot start the SMTP alert thread: {e}"),
        }
    }
}

/// How both children log a delivery's events: as keepalived, the connection and success
/// as information, failures as errors.
pub fn log_event(e: &Event) {
    if e.is_error() {
        log::error!("{e}");
    } else {
        log::info!("{e}");
    }
}

/// Deliver `job` on a new thread; `log` receives each [`Event`] (on that thread). Returns
/// at once. False (after logging [`Event::Busy`] or [`Event::Spawn`]) when not started.
pub fn spawn(job: Job, log: fn(&Event)) -> bool {
    if IN_FLIGHT.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        log(&Event::Busy);
        return false;
    }
    struct Slot;
    impl Drop for Slot {
        fn drop(&mut self) {
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let slot = Slot;
    let started = std::thread::Builder::new()
        .name("smtp-alert".into())
        .spawn(move || {
            let _slot = slot;
            deliver(&job, &mut |e| log(e));
        });
    match started {
        Ok(_) => true,
        Err(e) => {
            // The closure (and the slot) were dropped with the error.
            log(&Event::Spawn(e.to_string()));
            false
        }
    }
}

/// Deliver `job` on this thread (blocking, bounded as described above). True when the
/// server accepted the mail.
pub fn deliver(job: &Job, log: &mut dyn FnMut(&Event)) -> bool {
    let server = match resolve(&job.server) {
        Ok(a) => a,
        Err(e) => {
            log(&e);
            return false;
        }
    };
    let timeout = job.timeout.max(Duration::from_millis(1));
    let mut stream = match TcpStream::connect_timeout(&server, timeout) {
        Ok(s) => s,
        Err(e) if is_timeout(&e) => {
            log(&Event::ConnectTimeout { server });
            return false;
        }
        Err(e) => {
            log(&Event::ConnectFailed {
                server,
                error: e.to_string(),
            });
            return false;
        }
    };
    log(&Event::Connected { server });
    let mut dialogue = Dialogue::new(job.envelope.clone(), job.message.clone());
    let mut buf = Vec::new();
    loop {
        let stage = dialogue.stage();
        let reply = match read_reply(&mut stream, &mut buf, timeout) {
            Ok(r) => r,
            Err(fail) => {
                log(&fail.event(server, stage));
                if matches!(fail, ReadFail::Malformed(_)) {
                    let _ = write_all(&mut stream, b"QUIT\r\n", timeout);
                }
                let _ = stream.shutdown(Shutdown::Both);
                return false;
            }
        };
        let bytes = match dialogue.on_reply(&reply) {
            Next::Send(b) => b,
            Next::Delivered(quit) => {
                log(&Event::Delivered);
                let _ = write_all(&mut stream, &quit, timeout);
                let _ = stream.shutdown(Shutdown::Both);
                return true;
            }
            Next::Refused { stage, code, quit } => {
                log(&Event::Refused {
                    server,
                    stage,
                    code,
                });
                let _ = write_all(&mut stream, &quit, timeout);
                let _ = stream.shutdown(Shutdown::Both);
                return false;
            }
        };
        if let Err(e) = write_all(&mut stream, &bytes, timeout) {
            let stage = dialogue.stage();
            log(&if is_timeout(&e) {
                Event::Timeout {
                    server,
                    stage,
                    writing: true,
                }
            } else {
                Event::Io {
                    server,
                    stage,
                    error: e.to_string(),
                }
            });
            return false;
        }
    }
}

fn resolve(s: &SmtpServer) -> Result<SocketAddr, Event> {
    if let Ok(ip) = s.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, s.port));
    }
    let fail = |error: String| Event::Resolve {
        host: s.host.clone(),
        error,
    };
    (s.host.as_str(), s.port)
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?
        .next()
        .ok_or_else(|| fail("no address".into()))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

fn write_all(stream: &mut TcpStream, bytes: &[u8], timeout: Duration) -> io::Result<()> {
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(bytes)?;
    stream.flush()
}

enum ReadFail {
    Closed,
    Timeout,
    Malformed(ReplyError),
    Io(io::Error),
}

impl ReadFail {
    fn event(&self, server: SocketAddr, stage: Stage) -> Event {
        match self {
            ReadFail::Closed => Event::Closed { server, stage },
            ReadFail::Timeout => Event::Timeout {
                server,
                stage,
                writing: false,
            },
            ReadFail::Malformed(error) => Event::Malformed {
                server,
                stage,
                error: error.clone(),
            },
            ReadFail::Io(e) => Event::Io {
                server,
                stage,
                error: e.to_string(),
            },
        }
    }
}

/// One whole reply within `timeout`; bytes after it stay in `buf`.
fn read_reply(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    timeout: Duration,
) -> Result<Reply, ReadFail> {
    let deadline = Instant::now() + timeout;
    let mut chunk = [0u8; 1024];
    loop {
        match Reply::parse(buf) {
            Ok(Some((reply, used))) => {
                buf.drain(..used);
                return Ok(reply);
            }
            Ok(None) => {}
            Err(e) => return Err(ReadFail::Malformed(e)),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadFail::Timeout);
        }
        stream.set_read_timeout(Some(left)).map_err(ReadFail::Io)?;
        match stream.read(&mut chunk) {
            Ok(0) => return Err(ReadFail::Closed),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(ReadFail::Timeout),
            Err(e) => return Err(ReadFail::Io(e)),
        }
    }
}
