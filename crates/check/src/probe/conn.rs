//! Connection plumbing shared by the probes: a TCP connection (plain or TLS) written and
//! read without blocking, and one datagram exchange (DNS, UDP, ICMP echo).

use std::io::{self, Read, Write};

use mio::{Interest, Registry, Token};
use rustls::ClientConnection;

use crate::failure::Failure;
use crate::net;
use crate::spec::Target;

use super::step::{Ready, Step};

/// A TCP connection, plain or TLS.
pub enum Conn {
    /// Plain TCP.
    Plain(mio::net::TcpStream),
    /// TLS over TCP.
    Tls(Box<(mio::net::TcpStream, ClientConnection)>),
}

/// What one read found.
pub enum Read0 {
    /// This many bytes.
    Data(usize),
    /// Nothing now.
    WouldBlock,
    /// The end of the stream.
    Eof,
}

impl Conn {
    pub fn sock(&mut self) -> &mut mio::net::TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(b) => &mut b.0,
        }
    }

    /// Has the non-blocking connect finished? Err when it failed. An event that says
    /// writable with no error or hang-up settles it without a syscall; one that says
    /// writable with an error lets SO_ERROR decide; otherwise getpeername confirms.
    pub fn connected(&mut self, ready: Ready) -> Result<bool, Failure> {
        if ready.connected {
            return Ok(true);
        }
        let writable = ready.writable;
        let s = self.sock();
        if let Ok(Some(e)) | Err(e) = s.take_error() {
            return Err(Failure::from_io(&e, true));
        }
        if writable {
            return Ok(true);
        }
        match s.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
            Err(e) => Err(Failure::from_io(&e, true)),
        }
    }

    /// Send `data[*sent..]`: queue it all (TLS) or write what fits (plain), moving `sent`.
    /// Returns true once everything is on the wire.
    pub fn write_from(&mut self, data: &[u8], sent: &mut usize) -> Result<bool, Failure> {
        match self {
            Conn::Plain(s) => {
                while let Some(rest) = data.get(*sent..).filter(|r| !r.is_empty()) {
                    match s.write(rest) {
                        Ok(0) => return Err(Failure::Closed("sending")),
                        Ok(n) => *sent += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(Failure::from_io(&e, false)),
                    }
                }
                Ok(true)
            }
            Conn::Tls(b) => {
                let (s, c) = &mut **b;
                if let Some(rest) = data.get(*sent..).filter(|r| !r.is_empty()) {
                    c.writer()
                        .write_all(rest)
                        .map_err(|e| Failure::Tls(e.to_string()))?;
                    *sent = data.len();
                }
                tls_flush(s, c)
            }
        }
    }

    /// Queue `out` (TLS) or write what fits (plain); `out` keeps what is left.
    /// Returns true once everything is on the wire.
    pub fn write_out(&mut self, out: &mut Vec<u8>) -> Result<bool, Failure> {
        let mut sent = 0;
        let done = self.write_from(out, &mut sent);
        out.drain(..sent.min(out.len()));
        done
    }

    pub fn read_some(&mut self, buf: &mut [u8]) -> Result<Read0, Failure> {
        match self {
            Conn::Plain(s) => loop {
                match s.read(buf) {
                    Ok(0) => return Ok(Read0::Eof),
                    Ok(n) => return Ok(Read0::Data(n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(Read0::WouldBlock)
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Failure::from_io(&e, false)),
                }
            },
            Conn::Tls(b) => {
                let (s, c) = &mut **b;
                loop {
                    // Plaintext already decrypted?
                    match c.reader().read(buf) {
                        Ok(0) => return Ok(Read0::Eof), // close_notify
                        Ok(n) => return Ok(Read0::Data(n)),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        // EOF without close_notify: accepted as the end of the reply.
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                            return Ok(Read0::Eof)
                        }
                        Err(e) => return Err(Failure::Tls(e.to_string())),
                    }
                    match c.read_tls(s) {
                        Ok(0) => return Ok(Read0::Eof),
                        Ok(_) => {
                            c.process_new_packets()
                                .map_err(|e| Failure::Tls(e.to_string()))?;
                            tls_flush(s, c)?;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Ok(Read0::WouldBlock)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(Failure::from_io(&e, false)),
                    }
                }
            }
        }
    }
}

/// Write out whatever TLS records rustls holds. True when nothing is left.
pub fn tls_flush(s: &mut mio::net::TcpStream, c: &mut ClientConnection) -> Result<bool, Failure> {
    while c.wants_write() {
        match c.write_tls(s) {
            Ok(0) => return Err(Failure::Closed("sending")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Failure::from_io(&e, false)),
        }
    }
    Ok(true)
}

pub fn register<S: mio::event::Source + ?Sized>(
    reg: &Registry,
    s: &mut S,
    token: Token,
    interest: Interest,
) -> Result<(), Failure> {
    reg.register(s, token, interest)
        .map_err(|e| Failure::Io(format!("register: {e}")))
}

/// A new non-blocking TCP connection to the check's target, registered under `token`.
pub fn connect(
    target: &Target,
    client_first: bool,
    reg: &Registry,
    token: Token,
) -> Result<mio::net::TcpStream, Failure> {
    let mut s = net::tcp_connect(target, client_first).map_err(|e| Failure::from_io(&e, true))?;
    register(reg, &mut s, token, Interest::READABLE | Interest::WRITABLE)?;
    Ok(s)
}

/// Connect on `spare` (a socket a passed attempt left disconnected, still registered
/// under `token`) when there is one, else on a new socket. A spare that cannot connect
/// again is closed and a new socket used, so reuse never turns into a failure.
pub fn connect_reusing(
    target: &Target,
    reg: &Registry,
    token: Token,
    spare: Option<mio::net::TcpStream>,
) -> Result<mio::net::TcpStream, Failure> {
    if let Some(s) = spare {
        if net::tcp_reconnect(&s, target).is_ok() {
            return Ok(s);
        }
    }
    // Only TCP_CHECK and HTTP_GET reuse sockets, and both speak first.
    connect(target, true, reg, token)
}

/// May a check's sockets be kept between attempts? Plain TCP connections without a fixed
/// source port (a fixed port is left to the kernel's usual close).
pub fn reusable(target: &Target, tls: bool) -> bool {
    target.bind_port.is_none() && !tls
}

/// A connected datagram socket: one request out, replies read until one settles it.
pub struct Datagram {
    /// The socket, connected to the target.
    pub sock: mio::net::UdpSocket,
    /// The request went out.
    pub sent: bool,
    out: Vec<u8>,
    /// Replies are read into at most this many bytes of the scratch buffer.
    max_reply: usize,
}

impl Datagram {
    /// Register `sock` for `out`, the request to send once it is writable.
    pub fn new(
        mut sock: mio::net::UdpSocket,
        out: Vec<u8>,
        max_reply: usize,
        reg: &Registry,
        token: Token,
    ) -> Result<Datagram, Failure> {
        register(
            reg,
            &mut sock,
            token,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(Datagram {
            sock,
            sent: false,
            out,
            max_reply,
        })
    }

    /// Send the request if it has not gone yet, then read replies: `judge` settles the
    /// attempt with one (`Some`) or says it was not ours (`None`: keep waiting).
    pub fn exchange(
        &mut self,
        buf: &mut [u8],
        mut judge: impl FnMut(&[u8]) -> Option<Step>,
    ) -> Step {
        if !self.sent {
            match self.sock.send(&self.out) {
                Ok(_) => self.sent = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Pending,
                Err(e) => return Step::Fail(Failure::from_io(&e, false)),
            }
        }
        let len = buf.len().min(self.max_reply);
        let buf = &mut buf[..len];
        loop {
            let n = match self.sock.recv(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Pending,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Step::Fail(Failure::from_io(&e, false)),
            };
            if let Some(step) = judge(&buf[..n]) {
                return step;
            }
        }
    }
}
