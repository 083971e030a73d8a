//! Non-blocking sockets for the checkers, with keepalived's binding options (`bindto`,
//! `bind_port`, `bind_if`, `fwmark`). Built with socket2; the few system calls it lacks
//! are in `crate::sys`.

use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::spec::Target;

fn bind_options(s: &Socket, t: &Target) -> io::Result<()> {
    if let Some(mark) = t.fwmark {
        s.set_mark(mark)?;
    }
    if let Some(dev) = &t.bind_if {
        s.bind_device(Some(dev.as_bytes()))?;
    }
    if t.bindto.is_some() || t.bind_port.is_some() {
        let ip = t.bindto.unwrap_or(match t.addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
        });
        if t.bind_port.is_some() {
            s.set_reuse_address(true)?;
        }
        s.bind(&SockAddr::from(SocketAddr::new(
            ip,
            t.bind_port.unwrap_or(0),
        )))?;
    }
    Ok(())
}

/// Start a non-blocking TCP connection to `t.addr` (EINPROGRESS is not an error).
/// `client_first`: we speak first (or not at all), so the handshake's last ACK may wait
/// for our first bytes ([`delay_handshake_ack`]).
pub fn tcp_connect(t: &Target, client_first: bool) -> io::Result<mio::net::TcpStream> {
    let s = bound_socket(t, Type::STREAM, Protocol::TCP)?;
    if client_first {
        // An optimisation only: a kernel that refuses it sends the ACK at once.
        let _ = delay_handshake_ack(&s);
    }
    started(s.connect(&SockAddr::from(t.addr)))?;
    Ok(mio::net::TcpStream::from_std(s.into()))
}

/// Start a new non-blocking connection to `t.addr` on a TCP socket that [`disconnect`]
/// has reset (its binding options are kept). EINPROGRESS is not an error.
pub fn tcp_reconnect(s: &mio::net::TcpStream, t: &Target) -> io::Result<()> {
    started(socket2::SockRef::from(s).connect(&SockAddr::from(t.addr)))
}

/// A non-blocking connect's result: EINPROGRESS means started, not failed.
fn started(connect: io::Result<()>) -> io::Result<()> {
    match connect {
        Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => Err(e),
        _ => Ok(()),
    }
}

/// A non-blocking, close-on-exec socket of `ty`/`proto` for `t.addr`, with `t`'s binding
/// options ([`bind_options`]).
fn bound_socket(t: &Target, ty: Type, proto: Protocol) -> io::Result<Socket> {
    let s = Socket::new(
        Domain::for_address(t.addr),
        ty.nonblocking().cloexec(),
        Some(proto),
    )?;
    bind_options(&s, t)?;
    Ok(s)
}

/// Abort a TCP connection and keep the socket for the next one: `connect` with
/// `AF_UNSPEC` sends a RST (from ESTABLISHED or CLOSE_WAIT), releases the local port and
/// leaves the socket unconnected, still registered with epoll. The next
/// [`tcp_reconnect`] clears the pending `ECONNRESET`. A health check that ends this way
/// costs the peer no TIME_WAIT and three fewer segments than the FIN exchange, and costs
/// us no `socket`/`close`/`epoll_ctl` per check.
pub fn disconnect(s: &mio::net::TcpStream) -> io::Result<()> {
    crate::sys::connect_unspec(s)
}

/// Let the last ACK of the handshake wait for data to ride on: `TCP_DEFER_ACCEPT` on a
/// connecting socket makes Linux delay the ACK of the SYN-ACK (up to 200 ms) instead of
/// sending it at once; the connection is established for us all the same. An HTTP
/// request then carries the ACK (one segment fewer), and a TCP_CHECK that passes aborts
/// with a RST before any ACK is sent: SYN, SYN-ACK, RST, as HAProxy's connect-only
/// checks. The real server's application never sees that connection (its kernel
/// answered the SYN from the listening socket; a full accept queue drops the SYN, so
/// the check still fails when the application stops accepting). The option is kept
/// across [`disconnect`] and [`tcp_reconnect`].
pub fn delay_handshake_ack(s: &Socket) -> io::Result<()> {
    vrrp::linux::setsockopt_int(s, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 1)
}

/// A non-blocking UDP socket connected to `t.addr`.
pub fn udp_connect(t: &Target) -> io::Result<mio::net::UdpSocket> {
    let s = bound_socket(t, Type::DGRAM, Protocol::UDP)?;
    s.connect(&SockAddr::from(t.addr))?;
    Ok(mio::net::UdpSocket::from_std(s.into()))
}

/// An ICMP (or ICMPv6) socket connected to `t.addr`: a datagram "ping" socket when the
/// kernel allows it (`net.ipv4.ping_group_range`), otherwise a raw socket. The bool says
/// raw (IPv4 raw sockets deliver the IP header).
pub fn icmp_connect(t: &Target) -> io::Result<(mio::net::UdpSocket, bool)> {
    let (domain, proto) = match t.addr {
        SocketAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        SocketAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    let (s, raw) = match Socket::new(domain, Type::DGRAM.nonblocking().cloexec(), Some(proto)) {
        Ok(s) => (s, false),
        Err(_) => (
            Socket::new(domain, Type::RAW.nonblocking().cloexec(), Some(proto))?,
            true,
        ),
    };
    let mut t = t.clone();
    t.bind_port = None;
    bind_options(&s, &t)?;
    s.connect(&SockAddr::from(SocketAddr::new(t.addr.ip(), 0)))?;
    Ok((mio::net::UdpSocket::from_std(s.into()), raw))
}

/// A pidfd for `pid` (readable once the process has exited).
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    vrrp::linux::pidfd_open(pid)
}
