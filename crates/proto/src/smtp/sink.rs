//! A minimal SMTP server that records what it receives: a test double for alert tests
//! (ours here and in the daemon's namespace tests). It can also misbehave on purpose
//! ([`Behaviour`]) to prove the sender copes.

use super::command::Command;
use super::dialogue::{Envelope, Stage};
use super::message::Message;
use super::reply::Reply;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the sink answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// A well-behaved server that accepts everything.
    Accept,
    /// Answer `code` instead of the success reply at `stage` (RCPT: every recipient).
    RefuseAt(Stage, u16),
    /// Close the connection right after accepting it (no greeting).
    CloseAtOnce,
    /// Accept the connection and never say anything.
    Silent,
    /// Send these bytes as the greeting, then wait.
    Greeting(Vec<u8>),
}

/// One connection the sink saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The client.
    pub peer: SocketAddr,
    /// Every line the client sent, in order (CRLF stripped).
    pub lines: Vec<String>,
    /// The envelope, when the client got that far.
    pub envelope: Option<Envelope>,
    /// The mail, when the client sent one.
    pub message: Option<Message>,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    changed: Condvar,
    stop: AtomicBool,
}

/// A running sink; stops when dropped.
pub struct Sink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").field("addr", &self.addr).finish()
    }
}

impl Sink {
    /// Listen on `addr` (port 0: any free port).
    pub fn start(addr: SocketAddr, behaviour: Behaviour) -> io::Result<Sink> {
        Sink::from_listener(TcpListener::bind(addr)?, behaviour)
    }

    /// Serve on a listener made elsewhere (e.g. inside a network namespace).
    pub fn from_listener(listener: TcpListener, behaviour: Behaviour) -> io::Result<Sink> {
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared::default());
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("smtp-sink".into())
            .spawn(move || accept_loop(listener, behaviour, sh))?;
        Ok(Sink {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections finished so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// Wait up to `timeout` for a finished connection that satisfies `pred`.
    pub fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&Received) -> bool,
    ) -> Option<Received> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.shared.received.lock().ok()?;
        loop {
            if let Some(r) = guard.iter().find(|r| pred(r)) {
                return Some(r.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            guard = self.shared.changed.wait_timeout(guard, left).ok()?.0;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, behaviour: Behaviour, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                let (b, sh) = (behaviour.clone(), shared.clone());
                let _ = std::thread::Builder::new()
                    .name("smtp-sink-conn".into())
                    .spawn(move || {
                        let r = serve(stream, peer, &b, &sh);
                        if let Ok(mut v) = sh.received.lock() {
                            v.push(r);
                        }
                        sh.changed.notify_all();
                    });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve(stream: TcpStream, peer: SocketAddr, b: &Behaviour, shared: &Shared) -> Received {
    let mut r = Received {
        peer,
        lines: Vec::new(),
        envelope: None,
        message: None,
    };
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let Ok(mut out) = stream.try_clone() else {
        return r;
    };
    let mut reply = |code: u16, text: &str| out.write_all(&Reply::new(code, text).encode());
    let refuse = |stage: Stage| match b {
        Behaviour::RefuseAt(s, code)
            if std::mem::discriminant(s) == std::mem::discriminant(&stage) =>
        {
            Some(*code)
        }
        _ => None,
    };
    match b {
        Behaviour::CloseAtOnce => return r,
        Behaviour::Silent => {
            wait_stop(shared, Duration::from_secs(30));
            return r;
        }
        Behaviour::Greeting(bytes) => {
            let _ = out.write_all(bytes);
            wait_stop(shared, Duration::from_secs(30));
            return r;
        }
        _ => {}
    }
    if let Some(code) = refuse(Stage::Greeting) {
        let _ = reply(code, "no service");
    } else if reply(220, "sink ESMTP").is_err() {
        return r;
    }
    let mut reader = BufReader::new(stream).take(1 << 20);
    let mut envelope = Envelope {
        helo: String::new(),
        from: String::new(),
        to: Vec::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut line = Vec::new();
    while Instant::now() < deadline && !shared.stop.load(Ordering::SeqCst) {
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) if !line.ends_with(b"\n") => continue,
            Ok(_) => {}
            Err(_) => continue, // read timeout: look at the stop flag again
        }
        let cmd = Command::parse(&line);
        r.lines
            .push(String::from_utf8_lossy(&line).trim_end().to_string());
        line.clear();
        let (stage, ok, text) = match cmd {
            Ok(Command::Helo(h)) | Ok(Command::Ehlo(h)) => {
                envelope.helo = h;
                (Stage::Helo, 250, "sink")
            }
            Ok(Command::MailFrom(a)) => {
                envelope.from = a;
                (Stage::Mail, 250, "OK")
            }
            Ok(Command::RcptTo(a)) => {
                envelope.to.push(a);
                (Stage::Rcpt(0), 250, "OK")
            }
            Ok(Command::Data) => (Stage::Data, 354, "go ahead"),
            Ok(Command::Quit) => {
                let _ = reply(221, "bye");
                break;
            }
            Ok(_) => (Stage::Done, 250, "OK"),
            Err(_) => {
                let _ = reply(500, "what");
                continue;
            }
        };
        if let Some(code) = refuse(stage) {
            let _ = reply(code, "refused");
            continue;
        }
        if reply(ok, text).is_err() {
            break;
        }
        if stage == Stage::Data {
            let mut data = Vec::new();
            loop {
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) if !line.ends_with(b"\n") => continue,
                    Ok(_) => {}
                    Err(_) if Instant::now() < deadline => continue,
                    Err(_) => break,
                }
                let end = line == b".\r\n" || line == b".\n";
                data.append(&mut line);
                if end {
                    break;
                }
            }
            r.lines.extend(
                String::from_utf8_lossy(&data)
                    .lines()
                    .map(|l| l.trim_end_matches('\r').to_string()),
            );
            r.message = Message::parse(&data).ok();
            r.envelope = Some(envelope.clone());
            if let Some(code) = refuse(Stage::Body) {
                let _ = reply(code, "refused");
            } else if reply(250, "OK queued").is_err() {
                break;
            }
        }
    }
    if r.envelope.is_none() && !envelope.helo.is_empty() {
        r.envelope = Some(envelope);
    }
    r
}

fn wait_stop(shared: &Shared, max: Duration) {
    let end = Instant::now() + max;
    while Instant::now() < end && !shared.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(10));
    }
}
