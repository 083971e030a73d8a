//! Raw VRRP sockets (IP protocol 112) for IPv4 and IPv6.
//!
//! One [`VrrpSocket`] serves one interface and one address family, in multicast mode (the
//! group, `224.0.0.18` / `ff02::12` or `vrrp_mcast_group4/6`, is joined on that interface)
//! or in unicast mode (`unicast_src_ip` / `unicast_peer`: nothing is joined, packets go to
//! each peer). Like keepalived, the socket is bound to the device, sends with TTL / hop
//! limit 255 (unicast: `unicast_ttl`), TOS / traffic class 0xc0 (network control), no DF
//! bit on IPv4 (as keepalived's headers, captured), and multicast loopback off. It is non-blocking and registers with mio.
//!
//! Received packets come back with what VRRP validation needs: the VRRP payload, the IP
//! source and destination, the TTL / hop limit and the receiving ifindex. For IPv4 the
//! kernel hands raw sockets the IP header along with the data (TTL, addresses are read
//! there); for IPv6 they come from `IPV6_RECVPKTINFO` / `IPV6_RECVHOPLIMIT` ancillary data.
//! The VRRP checksum over IPv6 is computed and verified by the kernel (`IPV6_CHECKSUM`
//! at offset 6, as keepalived does); over IPv4 it is the caller's (it covers no pseudo
//! header in v2, and the engine computes the v3 one).

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt, ControlMessage, ControlMessageOwned, MsgFlags,
    SockaddrStorage,
};
use socket2::{Domain, Protocol, Socket, Type};

use super::sys;

/// The IP protocol number of VRRP.
pub const IPPROTO_VRRP: i32 = 112;
/// The IPv4 multicast group of VRRP (RFC 5798 §5.1.1.2).
pub const MCAST_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IPv6 multicast group of VRRP (RFC 5798 §5.1.2.2).
pub const MCAST_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TOS / traffic class keepalived puts on adverts (IPTOS_PREC_INTERNETCONTROL).
pub const TOS_NETWORK_CONTROL: u8 = 0xc0;
/// Offset of the checksum inside a VRRP packet.
const CHECKSUM_OFFSET: libc::c_int = 6;

/// Address family of a VRRP socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4 (VRRPv2 or v3).
    V4,
    /// IPv6 (VRRPv3 only).
    V6,
}

impl Family {
    fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// How a [`VrrpSocket`] is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketConfig {
    /// Interface name (for `SO_BINDTODEVICE`).
    pub ifname: String,
    /// Interface index (for the multicast membership and outgoing interface).
    pub ifindex: u32,
    /// Address family.
    pub family: Family,
    /// Multicast group to join and send to; `None` means unicast mode.
    pub group: Option<IpAddr>,
    /// Source address of sent packets (`mcast_src_ip` / `unicast_src_ip`); `None` lets the
    /// kernel choose (the interface's primary address, or its link-local one for IPv6).
    pub src: Option<IpAddr>,
    /// TTL / hop limit of unicast packets (`unicast_ttl`, default 255).
    pub unicast_ttl: u8,
    /// Receive buffer size (`kernel_rx_buf_size`); `None` keeps the kernel default.
    pub rx_buf_size: Option<usize>,
}

impl SocketConfig {
    /// Multicast on `ifname` with the default group of `family`.
    pub fn multicast(ifname: &str, ifindex: u32, family: Family) -> SocketConfig {
        let group = match family {
            Family::V4 => IpAddr::V4(MCAST_GROUP_V4),
            Family::V6 => IpAddr::V6(MCAST_GROUP_V6),
        };
        SocketConfig {
            ifname: ifname.to_string(),
            ifindex,
            family,
            group: Some(group),
            src: None,
            unicast_ttl: 255,
            rx_buf_size: None,
        }
    }

    /// Unicast on `ifname`, sending from `src` (`unicast_src_ip`).
    pub fn unicast(ifname: &str, ifindex: u32, src: IpAddr) -> SocketConfig {
        SocketConfig {
            ifname: ifname.to_string(),
            ifindex,
            family: Family::of(&src),
            group: None,
            src: Some(src),
            unicast_ttl: 255,
            rx_buf_size: None,
        }
    }
}

/// What went wrong with a VRRP socket, and where.
#[derive(Debug)]
pub enum SocketError {
    /// `socket()` failed (no CAP_NET_RAW?).
    Open { family: Family, source: io::Error },
    /// A socket option could not be set.
    Option {
        option: &'static str,
        ifname: String,
        source: io::Error,
    },
    /// The multicast group could not be joined on the interface.
    Join {
        group: IpAddr,
        ifname: String,
        source: io::Error,
    },
    /// The configuration mixes address families (group or source vs. socket family).
    FamilyMismatch { what: &'static str, addr: IpAddr },
    /// Sending to `dst` failed.
    Send { dst: IpAddr, source: io::Error },
    /// Receiving failed.
    Recv { ifname: String, source: io::Error },
    /// A received IPv4 packet had a header that does not parse (`len` bytes received).
    BadIpHeader { len: usize },
    /// A received packet lacked the ancillary data that names its destination / hop limit.
    MissingAncillary { what: &'static str },
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::Open { family, source } => {
                write!(f, "cannot open a raw VRRP socket ({family:?}): {source}")
            }
            SocketError::Option {
                option,
                ifname,
                source,
            } => {
                write!(
                    f,
                    "cannot set {option} on the VRRP socket of {ifname}: {source}"
                )
            }
            SocketError::Join {
                group,
                ifname,
                source,
            } => {
                write!(f, "cannot join {group} on {ifname}: {source}")
            }
            SocketError::FamilyMismatch { what, addr } => {
                write!(f, "{what} {addr} is not of the socket's address family")
            }
            SocketError::Send { dst, source } => write!(f, "cannot send VRRP to {dst}: {source}"),
            SocketError::Recv { ifname, source } => {
                write!(f, "cannot receive VRRP on {ifname}: {source}")
            }
            SocketError::BadIpHeader { len } => {
                write!(
                    f,
                    "received IPv4 packet of {len} bytes with an invalid header"
                )
            }
            SocketError::MissingAncillary { what } => {
                write!(f, "received IPv6 packet without {what}")
            }
        }
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SocketError::Open { source, .. }
            | SocketError::Option { source, .. }
            | SocketError::Join { source, .. }
            | SocketError::Send { source, .. }
            | SocketError::Recv { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A received VRRP packet, borrowing the caller's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received<'a> {
    /// The VRRP packet (IP header stripped).
    pub payload: &'a [u8],
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address (the group, or our unicast address).
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6) as received.
    pub ttl: u8,
    /// Index of the interface the packet arrived on.
    pub ifindex: u32,
}

/// A raw VRRP socket on one interface, for one address family.
#[derive(Debug)]
pub struct VrrpSocket {
    sock: Socket,
    config: SocketConfig,
}

impl VrrpSocket {
    /// Open and configure the socket (needs CAP_NET_RAW).
    pub fn open(config: SocketConfig) -> Result<VrrpSocket, SocketError> {
        for (what, addr) in [("group", config.group), ("source", config.src)] {
            if let Some(addr) = addr {
                if Family::of(&addr) != config.family {
                    return Err(SocketError::FamilyMismatch { what, addr });
                }
            }
        }
        let domain = match config.family {
            Family::V4 => Domain::IPV4,
            Family::V6 => Domain::IPV6,
        };
        let sock = Socket::new(domain, Type::RAW, Some(Protocol::from(IPPROTO_VRRP))).map_err(
            |source| SocketError::Open {
                family: config.family,
                source,
            },
        )?;
        let opt = |option: &'static str| {
            let ifname = config.ifname.clone();
            move |source| SocketError::Option {
                option,
                ifname,
                source,
            }
        };
        sock.set_nonblocking(true).map_err(opt("O_NONBLOCK"))?;
        sock.set_cloexec(true).map_err(opt("FD_CLOEXEC"))?;
        sock.bind_device(Some(config.ifname.as_bytes()))
            .map_err(opt("SO_BINDTODEVICE"))?;
        if let Some(size) = config.rx_buf_size {
            sock.set_recv_buffer_size(size).map_err(opt("SO_RCVBUF"))?;
        }
        let ttl = u32::from(config.unicast_ttl);
        match config.family {
            Family::V4 => {
                sock.set_tos_v4(u32::from(TOS_NETWORK_CONTROL))
                    .map_err(opt("IP_TOS"))?;
                sock.set_ttl_v4(ttl).map_err(opt("IP_TTL"))?;
                sock.set_multicast_ttl_v4(255)
                    .map_err(opt("IP_MULTICAST_TTL"))?;
                sock.set_multicast_loop_v4(false)
                    .map_err(opt("IP_MULTICAST_LOOP"))?;
                sock.set_multicast_all_v4(false)
                    .map_err(opt("IP_MULTICAST_ALL"))?;
                // No DF bit, like keepalived's own IP headers.
                sys::setsockopt_int(
                    &sock,
                    libc::IPPROTO_IP,
                    libc::IP_MTU_DISCOVER,
                    libc::IP_PMTUDISC_DONT,
                )
                .map_err(opt("IP_MTU_DISCOVER"))?;
                setsockopt(&sock, sockopt::Ipv4PacketInfo, &true)
                    .map_err(|e| opt("IP_PKTINFO")(io::Error::from(e)))?;
            }
            Family::V6 => {
                sys::setsockopt_int(
                    &sock,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_CHECKSUM,
                    CHECKSUM_OFFSET,
                )
                .map_err(opt("IPV6_CHECKSUM"))?;
                sock.set_tclass_v6(u32::from(TOS_NETWORK_CONTROL))
                    .map_err(opt("IPV6_TCLASS"))?;
                sock.set_unicast_hops_v6(ttl)
                    .map_err(opt("IPV6_UNICAST_HOPS"))?;
                sock.set_multicast_hops_v6(255)
                    .map_err(opt("IPV6_MULTICAST_HOPS"))?;
                sock.set_multicast_loop_v6(false)
                    .map_err(opt("IPV6_MULTICAST_LOOP"))?;
                sock.set_multicast_all_v6(false)
                    .map_err(opt("IPV6_MULTICAST_ALL"))?;
                sock.set_multicast_if_v6(config.ifindex)
                    .map_err(opt("IPV6_MULTICAST_IF"))?;
                sock.set_recv_hoplimit_v6(true)
                    .map_err(opt("IPV6_RECVHOPLIMIT"))?;
                setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true)
                    .map_err(|e| opt("IPV6_RECVPKTINFO")(io::Error::from(e)))?;
            }
        }
        let vs = VrrpSocket { sock, config };
        if let Some(group) = vs.config.group {
            vs.join(group)?;
        }
        Ok(vs)
    }

    /// Join one more multicast group on this socket's interface.
    pub fn join(&self, group: IpAddr) -> Result<(), SocketError> {
        let err = |source| SocketError::Join {
            group,
            ifname: self.config.ifname.clone(),
            source,
        };
        match group {
            IpAddr::V4(g) => self
                .sock
                .join_multicast_v4_n(
                    &g,
                    &socket2::InterfaceIndexOrAddress::Index(self.config.ifindex),
                )
                .map_err(err),
            IpAddr::V6(g) => self
                .sock
                .join_multicast_v6(&g, self.config.ifindex)
                .map_err(err),
        }
    }

    /// The configuration the socket was opened with.
    pub fn config(&self) -> &SocketConfig {
        &self.config
    }

    /// Send one VRRP packet to `dst` (the group, or a unicast peer), from the configured
    /// source with the configured TTL.
    pub fn send_to(&self, packet: &[u8], dst: IpAddr) -> Result<usize, SocketError> {
        self.send_with(packet, dst, self.config.src, None)
    }

    /// Send one VRRP packet to `dst` with this packet's own source address (`None`: the
    /// kernel's choice) and TTL / hop limit (`None`: the socket's, 255 or `unicast_ttl`),
    /// as the engine's `SendAdvert` gives them.
    pub fn send_with(
        &self,
        packet: &[u8],
        dst: IpAddr,
        src: Option<IpAddr>,
        ttl: Option<u8>,
    ) -> Result<usize, SocketError> {
        let err = |source| SocketError::Send { dst, source };
        for (what, addr) in [("destination", Some(dst)), ("source", src)] {
            if let Some(addr) = addr {
                if Family::of(&addr) != self.config.family {
                    return Err(SocketError::FamilyMismatch { what, addr });
                }
            }
        }
        let iov = [IoSlice::new(packet)];
        let fd = self.sock.as_raw_fd();
        let ttl = ttl.map(libc::c_int::from);
        let sent = match dst {
            IpAddr::V4(d) => {
                let addr = SockaddrStorage::from(SocketAddr::V4(SocketAddrV4::new(d, 0)));
                let info;
                let mut cmsgs = Vec::with_capacity(2);
                if let Some(IpAddr::V4(s)) = src {
                    info = libc::in_pktinfo {
                        ipi_ifindex: libc::c_int::try_from(self.config.ifindex).unwrap_or(0),
                        ipi_spec_dst: libc::in_addr {
                            s_addr: u32::from_ne_bytes(s.octets()),
                        },
                        ipi_addr: libc::in_addr { s_addr: 0 },
                    };
                    cmsgs.push(ControlMessage::Ipv4PacketInfo(&info));
                }
                if let Some(ttl) = &ttl {
                    cmsgs.push(ControlMessage::Ipv4Ttl(ttl));
                }
                send_retrying(fd, &iov, &cmsgs, &addr)
            }
            IpAddr::V6(d) => {
                let scope = if is_link_scope(&d) {
                    self.config.ifindex
                } else {
                    0
                };
                let addr = SockaddrStorage::from(SocketAddr::V6(SocketAddrV6::new(d, 0, 0, scope)));
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: match src {
                            Some(IpAddr::V6(s)) => s.octets(),
                            _ => Ipv6Addr::UNSPECIFIED.octets(),
                        },
                    },
                    ipi6_ifindex: self.config.ifindex,
                };
                let mut cmsgs = vec![ControlMessage::Ipv6PacketInfo(&info)];
                if let Some(ttl) = &ttl {
                    cmsgs.push(ControlMessage::Ipv6HopLimit(ttl));
                }
                send_retrying(fd, &iov, &cmsgs, &addr)
            }
        };
        sent.map_err(err)
    }

    /// Send one VRRP packet to the multicast group, or (unicast mode) to every peer.
    /// Returns the first error, after trying every peer.
    pub fn send_advert(&self, packet: &[u8], peers: &[IpAddr]) -> Result<(), SocketError> {
        match self.config.group {
            Some(group) => self.send_to(packet, group).map(|_| ()),
            None => {
                let mut first = None;
                for peer in peers {
                    if let Err(e) = self.send_to(packet, *peer) {
                        first.get_or_insert(e);
                    }
                }
                first.map_or(Ok(()), Err)
            }
        }
    }

    /// Receive one packet into `buf`. `Ok(None)` when nothing is waiting (would block).
    /// A packet that does not fit is truncated to `buf` (use 64 KiB to be safe).
    pub fn recv<'a>(&self, buf: &'a mut [u8]) -> Result<Option<Received<'a>>, SocketError> {
        let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int, libc::in_pktinfo);
        let (len, src, meta) = loop {
            let mut iov = [IoSliceMut::new(&mut *buf)];
            let r = recvmsg::<SockaddrStorage>(
                self.sock.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_DONTWAIT,
            );
            match r {
                Ok(msg) => {
                    let mut meta = Meta::default();
                    if let Ok(cmsgs) = msg.cmsgs() {
                        for c in cmsgs {
                            match c {
                                ControlMessageOwned::Ipv4PacketInfo(p) => {
                                    meta.ifindex = u32::try_from(p.ipi_ifindex).ok();
                                }
                                ControlMessageOwned::Ipv6PacketInfo(p) => {
                                    meta.ifindex = Some(p.ipi6_ifindex);
                                    meta.dst6 = Some(Ipv6Addr::from(p.ipi6_addr.s6_addr));
                                }
                                ControlMessageOwned::Ipv6HopLimit(h) => {
                                    meta.hops = u8::try_from(h).ok();
                                }
                                _ => {}
                            }
                        }
                    }
                    let src = msg
                        .address
                        .and_then(|a| a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())));
                    break (msg.bytes, src, meta);
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(nix::errno::Errno::EAGAIN) => return Ok(None),
                Err(e) => {
                    return Err(SocketError::Recv {
                        ifname: self.config.ifname.clone(),
                        source: io::Error::from(e),
                    })
                }
            }
        };
        let len = len.min(buf.len());
        let ifindex = meta.ifindex.unwrap_or(self.config.ifindex);
        match self.config.family {
            Family::V4 => {
                let ip = parse_ipv4_header(&buf[..len]).ok_or(SocketError::BadIpHeader { len })?;
                Ok(Some(Received {
                    payload: &buf[ip.header_len..ip.total_len],
                    src: IpAddr::V4(ip.src),
                    dst: IpAddr::V4(ip.dst),
                    ttl: ip.ttl,
                    ifindex,
                }))
            }
            Family::V6 => {
                let src = src.ok_or(SocketError::MissingAncillary {
                    what: "a source address",
                })?;
                let dst = meta.dst6.ok_or(SocketError::MissingAncillary {
                    what: "IPV6_PKTINFO",
                })?;
                let ttl = meta.hops.ok_or(SocketError::MissingAncillary {
                    what: "IPV6_HOPLIMIT",
                })?;
                Ok(Some(Received {
                    payload: &buf[..len],
                    src,
                    dst: IpAddr::V6(dst),
                    ttl,
                    ifindex,
                }))
            }
        }
    }
}

#[derive(Default)]
struct Meta {
    ifindex: Option<u32>,
    dst6: Option<Ipv6Addr>,
    hops: Option<u8>,
}

fn send_retrying(
    fd: RawFd,
    iov: &[IoSlice<'_>],
    cmsgs: &[ControlMessage<'_>],
    addr: &SockaddrStorage,
) -> io::Result<usize> {
    loop {
        match sendmsg(fd, iov, cmsgs, MsgFlags::MSG_DONTWAIT, Some(addr)) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => return r.map_err(io::Error::from),
        }
    }
}

fn is_link_scope(a: &Ipv6Addr) -> bool {
    let s = a.segments();
    (s[0] & 0xffc0) == 0xfe80 || (s[0] & 0xff0f) == 0xff02
}

/// The fields of an IPv4 header that VRRP validation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Header length in bytes (IHL × 4).
    pub header_len: usize,
    /// Total length, clamped to the bytes actually received.
    pub total_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Protocol number.
    pub protocol: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
}

/// Parse the IPv4 header at the start of `data` (as raw sockets deliver it). `None` when
/// it is not a well-formed IPv4 header.
pub fn parse_ipv4_header(data: &[u8]) -> Option<Ipv4Header> {
    let first = *data.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < 20 || data.len() < header_len {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([data[2], data[3]]));
    // Linux hands raw sockets the header with tot_len in network order; accept a shorter
    // buffer (truncation) by clamping, refuse a length shorter than the header.
    if total < header_len {
        return None;
    }
    Some(Ipv4Header {
        header_len,
        total_len: total.min(data.len()),
        ttl: data[8],
        protocol: data[9],
        src: Ipv4Addr::new(data[12], data[13], data[14], data[15]),
        dst: Ipv4Addr::new(data[16], data[17], data[18], data[19]),
    })
}

impl AsRawFd for VrrpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for VrrpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl mio::event::Source for VrrpSocket {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.sock.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.sock.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.sock.as_raw_fd()).deregister(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_parses() {
        let mut p = vec![
            0x45, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0xff, 0x70, 0x00, 0x00, 10, 0, 0, 1,
            224, 0, 0, 18,
        ];
        p.extend_from_slice(&[
            0x21, 51, 100, 1, 0, 1, 0, 0, 10, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        let h = parse_ipv4_header(&p).expect("valid");
        assert_eq!(h.header_len, 20);
        assert_eq!(h.total_len, 40);
        assert_eq!(h.ttl, 255);
        assert_eq!(h.protocol, 112);
        assert_eq!(h.src, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(h.dst, MCAST_GROUP_V4);
    }

    #[test]
    fn ipv4_header_rejects_garbage() {
        assert_eq!(parse_ipv4_header(&[]), None);
        assert_eq!(parse_ipv4_header(&[0x65; 40]), None);
        assert_eq!(parse_ipv4_header(&[0x44; 40]), None); // IHL 4 < 5
        assert_eq!(parse_ipv4_header(&[0x4f; 20]), None); // IHL 15 > data
        let mut short_total = [0u8; 20];
        short_total[0] = 0x45;
        short_total[3] = 10;
        assert_eq!(parse_ipv4_header(&short_total), None);
        // Any byte string: never panics.
        for n in 0..64u8 {
            let v: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ 0x45).collect();
            let _ = parse_ipv4_header(&v);
        }
    }

    #[test]
    fn family_mismatch_is_refused() {
        let mut c = SocketConfig::multicast("lo", 1, Family::V4);
        c.group = Some(IpAddr::V6(MCAST_GROUP_V6));
        assert!(matches!(
            VrrpSocket::open(c),
            Err(SocketError::FamilyMismatch { .. })
        ));
    }

    #[test]
    fn link_scope() {
        assert!(is_link_scope(&MCAST_GROUP_V6));
        assert!(is_link_scope(&"fe80::1".parse().expect("lit")));
        assert!(!is_link_scope(&"2001:db8::1".parse().expect("lit")));
    }
}
