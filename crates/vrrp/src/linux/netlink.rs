//! rtnetlink without an async runtime: a synchronous request socket ([`Rtnl`]) that sends
//! requests and waits for the kernel's ACK with a matching sequence number, and a separate
//! non-blocking monitor socket ([`Monitor`]) that registers with mio and decodes link and
//! address events into [`NetEvent`].
//!
//! What it carries out, each in its own module: addresses with every keepalived option
//! ([`address`]), `virtual_routes` ([`route`]), `virtual_rules` ([`rule`]), link lookups
//! and macvlan creation ([`link`]), and the event stream ([`monitor`]).
//!
//! Adding something that is already there is not an error, nor is deleting something that
//! is absent: the result says which happened ([`Change`]), so a caller can remember to
//! delete only what it added.

use std::fmt;
use std::io;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

pub mod address;
pub mod deleted;
pub mod link;
pub mod monitor;
pub mod parse;
pub mod route;
pub mod rule;

pub use address::{primary_address, AddressInfo, AddressSpec, Scope};
pub use deleted::{same_rule, RouteKey};
pub use link::{LinkInfo, MacvlanMode, MacvlanSpec, OperState};
pub use monitor::{Monitor, NetEvent};
pub use parse::{parse_route, parse_rule, SpecError, VipOptions};
pub use route::{NextHop, RouteKind, RouteMode, RouteSpec};
pub use rule::{RuleAction, RuleSpec};

/// The routing protocol number keepalived tags its routes and rules with (RTPROT_KEEPALIVED).
pub const RTPROT_KEEPALIVED: u8 = 18;
/// The main routing table.
pub const RT_TABLE_MAIN: u32 = 254;

const RECV_BUF: usize = 64 * 1024;
/// Requests in flight at once (their ACKs must fit in the socket's receive buffer).
pub const PIPELINE_WINDOW: usize = 64;

/// What a request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The kernel made the change.
    Done,
    /// Nothing to do: the object was already present (add) or already absent (delete).
    Unchanged,
}

/// What went wrong with rtnetlink, and on what.
#[derive(Debug)]
pub enum NetlinkError {
    /// The netlink socket could not be opened, bound or configured.
    Socket {
        what: &'static str,
        source: io::Error,
    },
    /// Sending a request failed.
    Send { request: String, source: io::Error },
    /// Receiving the answer failed (or timed out).
    Recv { request: String, source: io::Error },
    /// The kernel refused a request (negative errno in its NLMSG_ERROR), with the
    /// kernel's own explanation when it gave one (extended ACK).
    Kernel {
        request: String,
        source: io::Error,
        kernel_message: Option<String>,
    },
    /// An answer from the kernel could not be decoded.
    Decode { request: String, detail: String },
    /// A name or argument cannot be expressed in a netlink request.
    Invalid { what: &'static str, detail: String },
    /// No interface with that name or index.
    NoSuchLink { link: String },
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetlinkError::Socket { what, source } => {
                write!(f, "rtnetlink socket: {what}: {source}")
            }
            NetlinkError::Send { request, source } => {
                write!(f, "rtnetlink: cannot send {request}: {source}")
            }
            NetlinkError::Recv { request, source } => {
                write!(f, "rtnetlink: no answer to {request}: {source}")
            }
            NetlinkError::Kernel {
                request,
                source,
                kernel_message,
            } => {
                write!(f, "rtnetlink: {request}: {source}")?;
                if let Some(m) = kernel_message {
                    write!(f, " ({m})")?;
                }
                Ok(())
            }
            NetlinkError::Decode { request, detail } => {
                write!(
                    f,
                    "rtnetlink: cannot decode the answer to {request}: {detail}"
                )
            }
            NetlinkError::Invalid { what, detail } => write!(f, "invalid {what}: {detail}"),
            NetlinkError::NoSuchLink { link } => write!(f, "no interface {link}"),
        }
    }
}

impl std::error::Error for NetlinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NetlinkError::Socket { source, .. }
            | NetlinkError::Send { source, .. }
            | NetlinkError::Recv { source, .. }
            | NetlinkError::Kernel { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl NetlinkError {
    /// The errno the kernel answered with, if this is a kernel refusal.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// One request to carry out: the message, its extra flags, what errno means "nothing to do",
/// and a description for errors.
pub(crate) struct Request {
    pub(crate) message: RouteNetlinkMessage,
    pub(crate) flags: u16,
    pub(crate) unchanged_errnos: &'static [i32],
    pub(crate) describe: String,
}

impl Request {
    /// A creation request (`NLM_F_CREATE | NLM_F_EXCL`; EEXIST means already there).
    pub(crate) fn create(message: RouteNetlinkMessage, describe: String) -> Request {
        Request {
            message,
            flags: NLM_F_CREATE | NLM_F_EXCL,
            unchanged_errnos: &[libc::EEXIST],
            describe,
        }
    }

    /// A deletion request; `absent` lists the errnos that mean "was not there".
    pub(crate) fn delete(
        message: RouteNetlinkMessage,
        absent: &'static [i32],
        describe: String,
    ) -> Request {
        Request {
            message,
            flags: 0,
            unchanged_errnos: absent,
            describe,
        }
    }
}

/// A synchronous rtnetlink socket for requests (blocking, with a receive timeout).
#[derive(Debug)]
pub struct Rtnl {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Rtnl {
    /// Open a request socket in the current network namespace.
    pub fn open() -> Result<Rtnl, NetlinkError> {
        let sock_err = |what| move |source| NetlinkError::Socket { what, source };
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(sock_err("socket"))?;
        sock.bind(&SocketAddr::new(0, 0))
            .map_err(sock_err("bind"))?;
        // Ask for the kernel's extended ACKs (better error messages in dmesg-free setups)
        // and small error messages; neither is essential.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        socket2::SockRef::from(&sock)
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .map_err(sock_err("SO_RCVTIMEO"))?;
        socket2::SockRef::from(&sock)
            .set_cloexec(true)
            .map_err(sock_err("FD_CLOEXEC"))?;
        Ok(Rtnl {
            sock,
            seq: 1,
            buf: vec![0; RECV_BUF],
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    fn send(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        describe: &str,
    ) -> Result<u32, NetlinkError> {
        let seq = self.next_seq();
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        nl.finalize();
        let mut bytes = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut bytes);
        let kernel = SocketAddr::new(0, 0);
        loop {
            match self.sock.send_to(&bytes, &kernel, 0) {
                Ok(_) => return Ok(seq),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(NetlinkError::Send {
                        request: describe.to_string(),
                        source,
                    })
                }
            }
        }
    }

    /// Read one datagram and hand every netlink message in it to `each`.
    fn recv_batch(
        &mut self,
        describe: &str,
        mut each: impl FnMut(NetlinkMessage<RouteNetlinkMessage>) -> Result<(), NetlinkError>,
    ) -> Result<(), NetlinkError> {
        let n = loop {
            let mut slice: &mut [u8] = &mut self.buf[..];
            match self.sock.recv(&mut slice, 0) {
                Ok(n) => break n.min(RECV_BUF),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(NetlinkError::Recv {
                        request: describe.to_string(),
                        source,
                    })
                }
            }
        };
        let data = self.buf[..n].to_vec();
        for msg in split_messages(&data) {
            match msg {
                Ok(m) => each(m)?,
                Err(detail) => {
                    return Err(NetlinkError::Decode {
                        request: describe.to_string(),
                        detail,
                    })
                }
            }
        }
        Ok(())
    }

    /// Carry out `requests` (sent back to back, then every ACK collected), returning one
    /// result per request, in order. Pipelining keeps N address changes to about one round
    /// trip; windows of [`PIPELINE_WINDOW`] requests keep the ACKs within the socket's
    /// receive buffer.
    pub(crate) fn execute(&mut self, requests: Vec<Request>) -> Vec<Result<Change, NetlinkError>> {
        let mut out = Vec::with_capacity(requests.len());
        let mut rest = requests.into_iter().peekable();
        while rest.peek().is_some() {
            let window: Vec<Request> = rest.by_ref().take(PIPELINE_WINDOW).collect();
            out.extend(self.execute_window(window));
        }
        out
    }

    fn execute_window(&mut self, requests: Vec<Request>) -> Vec<Result<Change, NetlinkError>> {
        let mut pending: Vec<(u32, &'static [i32], String)> = Vec::with_capacity(requests.len());
        let mut results: Vec<Option<Result<Change, NetlinkError>>> =
            Vec::with_capacity(requests.len());
        for req in requests {
            match self.send(req.message, req.flags | NLM_F_ACK, &req.describe) {
                Ok(seq) => {
                    pending.push((seq, req.unchanged_errnos, req.describe));
                    results.push(None);
                }
                Err(e) => {
                    pending.push((0, req.unchanged_errnos, req.describe));
                    results.push(Some(Err(e)));
                }
            }
        }
        let mut waiting = results.iter().filter(|r| r.is_none()).count();
        while waiting > 0 {
            let first = pending
                .iter()
                .zip(&results)
                .find(|(_, r)| r.is_none())
                .map(|(p, _)| p.2.clone())
                .unwrap_or_default();
            let outcome = self.recv_batch(&first, |m| {
                let seq = m.header.sequence_number;
                let flags = m.header.flags;
                if let NetlinkPayload::Error(err) = m.payload {
                    if let Some(i) = pending.iter().position(|p| p.0 == seq && seq != 0) {
                        if results[i].is_none() {
                            let code = err.raw_code().abs();
                            results[i] = Some(if code == 0 {
                                Ok(Change::Done)
                            } else if pending[i].1.contains(&code) {
                                Ok(Change::Unchanged)
                            } else {
                                Err(NetlinkError::Kernel {
                                    request: pending[i].2.clone(),
                                    source: io::Error::from_raw_os_error(code),
                                    kernel_message: extack_message(flags, &err.header),
                                })
                            });
                        }
                    }
                }
                Ok(())
            });
            if let Err(e) = outcome {
                // A receive failure (timeout): every request still waiting gets it.
                let text = e.to_string();
                for (i, r) in results.iter_mut().enumerate() {
                    if r.is_none() {
                        *r = Some(Err(NetlinkError::Recv {
                            request: pending[i].2.clone(),
                            source: io::Error::other(text.clone()),
                        }));
                    }
                }
            }
            waiting = results.iter().filter(|r| r.is_none()).count();
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Ok(Change::Unchanged)))
            .collect()
    }

    /// Carry out one request.
    pub(crate) fn execute_one(&mut self, request: Request) -> Result<Change, NetlinkError> {
        self.execute(vec![request])
            .pop()
            .unwrap_or(Ok(Change::Unchanged))
    }

    /// Send a dump request and collect every answer message.
    pub(crate) fn dump(
        &mut self,
        message: RouteNetlinkMessage,
        describe: &str,
    ) -> Result<Vec<RouteNetlinkMessage>, NetlinkError> {
        let seq = self.send(message, NLM_F_DUMP, describe)?;
        let mut out = Vec::new();
        let mut done = false;
        while !done {
            self.recv_batch(describe, |m| {
                if m.header.sequence_number != seq {
                    return Ok(());
                }
                let flags = m.header.flags;
                match m.payload {
                    NetlinkPayload::InnerMessage(inner) => out.push(inner),
                    NetlinkPayload::Done(_) => done = true,
                    NetlinkPayload::Error(e) if e.raw_code() != 0 => {
                        return Err(NetlinkError::Kernel {
                            request: describe.to_string(),
                            source: e.to_io(),
                            kernel_message: extack_message(flags, &e.header),
                        })
                    }
                    _ => {}
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}

/// The kernel's text message in an extended ACK (NLMSGERR_ATTR_MSG), if any. `payload` is
/// what follows the error code: the original request (only its header when the message
/// is NLM_F_CAPPED), then attributes when NLM_F_ACK_TLVS is set.
pub(crate) fn extack_message(flags: u16, payload: &[u8]) -> Option<String> {
    const NLM_F_CAPPED: u16 = 0x100;
    const NLM_F_ACK_TLVS: u16 = 0x200;
    const NLMSGERR_ATTR_MSG: u16 = 1;
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let skip = if flags & NLM_F_CAPPED != 0 {
        16
    } else {
        let len = payload.get(..4)?;
        u32::from_ne_bytes([len[0], len[1], len[2], len[3]]) as usize
    };
    let mut tlvs = payload.get(skip..)?;
    while tlvs.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([tlvs[0], tlvs[1]]));
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if len < 4 || len > tlvs.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &tlvs[4..len];
            let text = text.split(|b| *b == 0).next().unwrap_or(text);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        tlvs = tlvs.get((len + 3) & !3..).unwrap_or(&[]);
    }
    None
}

/// What [`drain`] hands over: one datagram, or word that the kernel dropped some.
pub(crate) enum Datagram<'a> {
    Bytes(&'a [u8]),
    /// ENOBUFS: the socket's receive buffer overflowed and messages were lost.
    Overrun,
}

/// Read every datagram waiting on the non-blocking netlink socket `sock` into `buf`, one at a
/// time, and hand each to `each`; returns when the socket would block. EINTR is retried.
pub(crate) fn drain(
    sock: &Socket,
    buf: &mut [u8],
    mut each: impl FnMut(Datagram<'_>),
) -> io::Result<()> {
    loop {
        let mut slice: &mut [u8] = &mut buf[..];
        match sock.recv(&mut slice, 0) {
            Ok(n) => each(Datagram::Bytes(&buf[..n.min(buf.len())])),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => each(Datagram::Overrun),
            Err(e) => return Err(e),
        }
    }
}

/// Split a datagram into netlink messages, stopping at the first one that does not parse.
pub(crate) fn split_messages(
    data: &[u8],
) -> Vec<Result<NetlinkMessage<RouteNetlinkMessage>, String>> {
    let mut out = Vec::new();
    let mut off = 0usize;
    while off + 16 <= data.len() {
        let rest = &data[off..];
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < 16 || len > rest.len() {
            out.push(Err(format!(
                "bad netlink message length {len} at offset {off}"
            )));
            break;
        }
        match NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rest[..len]) {
            Ok(m) => out.push(Ok(m)),
            Err(e) => {
                // Skip messages we cannot decode (unknown types) rather than failing all.
                let kind = u16::from_ne_bytes([rest[4], rest[5]]);
                log::debug!("skipping undecodable rtnetlink message type {kind}: {e}");
            }
        }
        off += (len + 3) & !3;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extack_messages_are_found() {
        // Capped: 16-byte original header, then NLMSGERR_ATTR_MSG "bad\0".
        let mut p = vec![0u8; 16];
        p.extend_from_slice(&8u16.to_ne_bytes());
        p.extend_from_slice(&1u16.to_ne_bytes());
        p.extend_from_slice(b"bad\0");
        assert_eq!(extack_message(0x300, &p).as_deref(), Some("bad"));
        assert_eq!(extack_message(0x100, &p), None, "no TLV flag");
        assert_eq!(extack_message(0x300, &p[..18]), None);
        for n in 0..p.len() {
            let _ = extack_message(0x200, &p[..n]);
            let _ = extack_message(0x300, &p[n..]);
        }
    }

    #[test]
    fn split_never_panics() {
        assert!(split_messages(&[]).is_empty());
        let mut bad = vec![0u8; 20];
        bad[0] = 200; // longer than the data
        assert!(matches!(split_messages(&bad).as_slice(), [Err(_)]));
        bad[0] = 3; // shorter than a header
        assert!(matches!(split_messages(&bad).as_slice(), [Err(_)]));
        for n in 0..80u8 {
            let v: Vec<u8> = (0..n).map(|i| i.wrapping_mul(91) ^ 0x10).collect();
            let _ = split_messages(&v);
        }
    }
}
