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
//! source and destination, the TTL / hop limit, the receiving ifindex and how long ago the
//! kernel received them (`SO_TIMESTAMPNS`: a packet that waited in the queue while the
//! process was stopped must not count as just heard). For IPv4 the
//! kernel hands raw sockets the IP header along with the data (TTL, addresses are read
//! there); for IPv6 they come from `IPV6_RECVPKTINFO` / `IPV6_RECVHOPLIMIT` ancillary data.
//! The VRRP checksum over IPv6 is computed and verified by the kernel (`IPV6_CHECKSUM`
//! at offset 6, as keepalived does); over IPv4 it is the caller's (it covers no pseudo
//! header in v2, and the engine computes the v3 one).
//!
//! `auth_type AH` (VRRPv2 over IPv4, see [`crate::ah`]): an IPv4 socket opened with
//! [`SocketConfig::ah_rx`] (the default of [`SocketConfig::multicast`]) also reads IP
//! protocol 51 on a second raw socket (same groups, same mio token; its packets come whole,
//! IP header included, as the ICV covers it); a packet handed to the send calls that starts
//! with an IPv4 header (the engine's AH adverts) is sent as it is through a send-only
//! `IPPROTO_RAW` socket (`IP_HDRINCL`) opened on first use.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{setsockopt, sockopt, SockaddrStorage};
use socket2::{Domain, Protocol, Socket, Type};

use super::sys;

mod error;
pub use error::SocketError;

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
    /// IPv4: also receive AH adverts (IP protocol 51) on a second raw socket.
    pub ah_rx: bool,
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
            ah_rx: family == Family::V4,
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
            ah_rx: false,
        }
    }
}

/// A received VRRP packet, borrowing the caller's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received<'a> {
    /// The VRRP packet (IP header stripped); an AH packet (IP protocol 51) whole, its IP
    /// header included.
    pub payload: &'a [u8],
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address (the group, or our unicast address).
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6) as received.
    pub ttl: u8,
    /// Index of the interface the packet arrived on.
    pub ifindex: u32,
    /// How long ago the kernel received it (its `SO_TIMESTAMPNS` receive timestamp against
    /// the real-time clock read once per receive call), clamped to `0..=`[`MAX_AGE`]: a
    /// packet that sat in the socket queue while the process was stopped is that old when
    /// it is handled. `None` when the kernel gave no timestamp.
    pub age: Option<Duration>,
}

/// The largest [`Received::age`]: the timestamps are on the real-time clock, so a clock
/// step between receive and read could make a packet look arbitrarily old (or, clamped to
/// zero, new); no packet is ever judged older than this.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// The real-time clock now, as a duration since the epoch (`None` before 1970).
fn realtime_now() -> Option<Duration> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok()
}

/// The age of a packet stamped `stamp` (since the epoch) when the clock read `now`.
fn age_of(stamp: Option<Duration>, now: Option<Duration>) -> Option<Duration> {
    Some(now?.saturating_sub(stamp?).min(MAX_AGE))
}

/// A raw VRRP socket on one interface, for one address family.
#[derive(Debug)]
pub struct VrrpSocket {
    sock: Socket,
    config: SocketConfig,
    /// IPv4 with [`SocketConfig::ah_rx`]: the raw socket for IP protocol 51.
    ah_rx: Option<Socket>,
    /// The send-only `IPPROTO_RAW` socket for AH packets, opened on first use (in the
    /// network namespace of the thread that sends).
    ah_tx: std::sync::OnceLock<Socket>,
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
        let sock = raw_socket(&config, config.family, IPPROTO_VRRP)?;
        set_receive_options(&sock, &config)?;
        let opt = |option| option_error(&config.ifname, option);
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
        let ah_rx = if config.family == Family::V4 && config.ah_rx {
            Some(open_ah_rx(&config)?)
        } else {
            None
        };
        let vs = VrrpSocket {
            sock,
            config,
            ah_rx,
            ah_tx: std::sync::OnceLock::new(),
        };
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
            IpAddr::V4(g) => {
                let ifindex = socket2::InterfaceIndexOrAddress::Index(self.config.ifindex);
                if let Some(ah) = &self.ah_rx {
                    ah.join_multicast_v4_n(&g, &ifindex).map_err(err)?;
                }
                self.sock.join_multicast_v4_n(&g, &ifindex).map_err(err)
            }
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

    /// The descriptors readiness comes from: the VRRP socket's, then the AH socket's.
    fn fds(&self) -> impl Iterator<Item = RawFd> + '_ {
        std::iter::once(self.sock.as_raw_fd()).chain(self.ah_rx.as_ref().map(AsRawFd::as_raw_fd))
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
        match self.send_batch(&[(packet, dst)], src, ttl)? {
            0 => Err(SocketError::Send {
                dst,
                source: io::Error::from(io::ErrorKind::WriteZero),
            }),
            _ => Ok(packet.len()),
        }
    }

    /// Send up to [`SEND_BATCH`] VRRP packets, each `(packet, dst)`, with one system call
    /// (`sendmmsg`), all from `src` and with `ttl` as [`VrrpSocket::send_with`] takes them.
    /// Returns how many were sent, from the first (fewer when the kernel stopped at one
    /// that failed: send the rest again to get its error). An error means the first failed.
    pub fn send_batch(
        &self,
        packets: &[(&[u8], IpAddr)],
        src: Option<IpAddr>,
        ttl: Option<u8>,
    ) -> Result<usize, SocketError> {
        let Some(&(first_bytes, first)) = packets.first() else {
            return Ok(0);
        };
        if self.config.family == Family::V4 {
            // AH adverts (whole IPv4 packets) and VRRP ones go out on different sockets:
            // up to the first of the other kind.
            let ah = crate::ah::is_ipv4(first_bytes);
            let run = packets
                .iter()
                .take(SEND_BATCH)
                .position(|p| crate::ah::is_ipv4(p.0) != ah)
                .unwrap_or(packets.len().min(SEND_BATCH));
            if ah {
                return self.send_ah(&packets[..run]);
            }
            if run < packets.len() {
                return self.send_batch(&packets[..run], src, ttl);
            }
        }
        if let Some(addr) = src.filter(|a| Family::of(a) != self.config.family) {
            return Err(SocketError::FamilyMismatch {
                what: "source",
                addr,
            });
        }
        // Up to the first destination of another family (refused when it comes first).
        let n = packets
            .iter()
            .take(SEND_BATCH)
            .position(|p| Family::of(&p.1) != self.config.family)
            .unwrap_or(packets.len().min(SEND_BATCH));
        if n == 0 {
            return Err(SocketError::FamilyMismatch {
                what: "destination",
                addr: first,
            });
        }
        let addr_of = |dst: IpAddr| match dst {
            IpAddr::V4(d) => SockaddrStorage::from(SocketAddr::V4(SocketAddrV4::new(d, 0))),
            IpAddr::V6(d) => {
                let scope = if is_link_scope(&d) {
                    self.config.ifindex
                } else {
                    0
                };
                SockaddrStorage::from(SocketAddr::V6(SocketAddrV6::new(d, 0, 0, scope)))
            }
        };
        let addrs: [SockaddrStorage; SEND_BATCH] =
            std::array::from_fn(|k| addr_of(packets.get(k).map_or(first, |p| p.1)));
        let msgs: [(&[u8], &SockaddrStorage); SEND_BATCH] =
            std::array::from_fn(|k| (packets.get(k).map_or(&[][..], |p| p.0), &addrs[k]));
        let ttl = ttl.map(|t| libc::c_int::from(t).to_ne_bytes());
        let fd = &self.sock;
        let msgs = &msgs[..n];
        let sent = match self.config.family {
            Family::V4 => {
                // struct in_pktinfo: ifindex, spec_dst (our source), addr (unused).
                let mut info = [0u8; 12];
                let ifindex = libc::c_int::try_from(self.config.ifindex).unwrap_or(0);
                info[..4].copy_from_slice(&ifindex.to_ne_bytes());
                let with_src = if let Some(IpAddr::V4(s)) = src {
                    info[4..8].copy_from_slice(&s.octets());
                    true
                } else {
                    false
                };
                let pktinfo = (libc::IPPROTO_IP, libc::IP_PKTINFO, &info[..]);
                match (with_src, &ttl) {
                    (true, Some(t)) => sys::send_many(
                        fd,
                        msgs,
                        &[pktinfo, (libc::IPPROTO_IP, libc::IP_TTL, &t[..])],
                    ),
                    (true, None) => sys::send_many(fd, msgs, &[pktinfo]),
                    (false, Some(t)) => {
                        sys::send_many(fd, msgs, &[(libc::IPPROTO_IP, libc::IP_TTL, &t[..])])
                    }
                    (false, None) => sys::send_many(fd, msgs, &[]),
                }
            }
            Family::V6 => {
                // struct in6_pktinfo: address (our source, or any), ifindex.
                let mut info = [0u8; 20];
                if let Some(IpAddr::V6(s)) = src {
                    info[..16].copy_from_slice(&s.octets());
                }
                info[16..].copy_from_slice(&self.config.ifindex.to_ne_bytes());
                let pktinfo = (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, &info[..]);
                match &ttl {
                    Some(t) => sys::send_many(
                        fd,
                        msgs,
                        &[pktinfo, (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT, &t[..])],
                    ),
                    None => sys::send_many(fd, msgs, &[pktinfo]),
                }
            }
        };
        sent.map_err(|source| SocketError::Send { dst: first, source })
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
        let mut control = [0u8; CONTROL_ROOM];
        let mut names = [zero_name()];
        let mut got = [sys::Got::default()];
        let slot = buf.len().max(1);
        // The VRRP socket first, then (when it has nothing) the AH one.
        let mut n = 0;
        for sock in std::iter::once(&self.sock).chain(self.ah_rx.as_ref()) {
            n = sys::recv_many(
                sock,
                buf,
                slot,
                &mut control,
                CONTROL_ROOM,
                &mut names,
                self.config.family == Family::V6,
                &mut got,
            )
            .map_err(|source| SocketError::Recv {
                ifname: self.config.ifname.clone(),
                source,
            })?;
            if n > 0 {
                break;
            }
        }
        if n == 0 {
            return Ok(None);
        }
        let realtime = realtime_now();
        let g = got[0];
        let data: &'a [u8] = buf;
        parse_received(
            self.config.family,
            self.config.ifindex,
            &data[..g.len.min(data.len())],
            &control[..g.control_len],
            &names[0],
            g.name_len,
            realtime,
        )
        .map(Some)
    }

    /// Send whole IPv4 packets (their header included: the AH adverts) one by one; how
    /// many were sent, as [`VrrpSocket::send_batch`].
    fn send_ah(&self, packets: &[(&[u8], IpAddr)]) -> Result<usize, SocketError> {
        let sock = match self.ah_tx.get() {
            Some(s) => s,
            None => {
                let s = open_ah_tx(&self.config)?;
                // Another thread cannot race us here (the socket is used from one), and
                // if it did the spare socket is dropped.
                let _ = self.ah_tx.set(s);
                self.ah_tx.get().ok_or(SocketError::Send {
                    dst: packets
                        .first()
                        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.1),
                    source: io::Error::from(io::ErrorKind::NotConnected),
                })?
            }
        };
        for (k, (bytes, dst)) in packets.iter().enumerate() {
            let to = SockaddrStorage::from(SocketAddr::new(*dst, 0));
            let r = nix::sys::socket::sendto(
                sock.as_raw_fd(),
                bytes,
                &to,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT,
            );
            if let Err(e) = r {
                if k == 0 {
                    return Err(SocketError::Send {
                        dst: *dst,
                        source: io::Error::from(e),
                    });
                }
                return Ok(k);
            }
        }
        Ok(packets.len())
    }

    /// Receive up to [`RECV_BATCH`] packets with one system call (`recvmmsg`) into
    /// `batch`, replacing what it held; returns how many (0 when nothing is waiting). Read
    /// them with [`RecvBatch::get`].
    pub fn recv_batch(&self, batch: &mut RecvBatch) -> Result<usize, SocketError> {
        batch.count = 0;
        batch.family = self.config.family;
        batch.ifindex = self.config.ifindex;
        let n = sys::recv_many(
            &self.sock,
            &mut batch.data,
            SLOT,
            &mut batch.control,
            CONTROL_ROOM,
            &mut batch.names,
            self.config.family == Family::V6,
            &mut batch.got,
        )
        .map_err(|source| SocketError::Recv {
            ifname: self.config.ifname.clone(),
            source,
        })?;
        // Room left: the AH socket's packets follow (both are drained before a batch
        // comes back short, as the caller's edge-triggered readiness needs).
        let n = match &self.ah_rx {
            Some(ah) if n < RECV_BATCH => {
                let m = sys::recv_many(
                    ah,
                    &mut batch.data[n * SLOT..],
                    SLOT,
                    &mut batch.control[n * CONTROL_ROOM..],
                    CONTROL_ROOM,
                    &mut batch.names[n..],
                    false,
                    &mut batch.got[n..],
                );
                match m {
                    Ok(m) => n + m,
                    Err(_) if n > 0 => n,
                    Err(source) => {
                        return Err(SocketError::Recv {
                            ifname: self.config.ifname.clone(),
                            source,
                        })
                    }
                }
            }
            _ => n,
        };
        batch.count = n;
        // One clock read per batch (vDSO, no system call), only when something arrived.
        batch.realtime = if n > 0 { realtime_now() } else { None };
        Ok(n)
    }
}

/// Packets per [`VrrpSocket::recv_batch`] call.
pub const RECV_BATCH: usize = sys::RECV_MANY_MAX;
/// Packets per [`VrrpSocket::send_batch`] call.
pub const SEND_BATCH: usize = sys::SEND_MANY_MAX;
/// Room for one packet in a [`RecvBatch`]: the longest VRRP message (v3 over IPv6 with 255
/// addresses: 4,088 bytes; over IPv4 with its header: at most 1,156). Anything longer is
/// truncated, and then fails the length or checksum check as it would have anyway.
const SLOT: usize = 4096;
/// Room for a packet's ancillary data (IP_PKTINFO, or IPV6_PKTINFO and IPV6_HOPLIMIT;
/// and SCM_TIMESTAMPNS): at most 96 bytes.
const CONTROL_ROOM: usize = 128;

fn zero_name() -> libc::sockaddr_in6 {
    libc::sockaddr_in6 {
        sin6_family: 0,
        sin6_port: 0,
        sin6_flowinfo: 0,
        sin6_addr: libc::in6_addr { s6_addr: [0; 16] },
        sin6_scope_id: 0,
    }
}

/// Buffers for [`VrrpSocket::recv_batch`]: [`RECV_BATCH`] packets (64 KiB in all), reused
/// from one batch to the next, so the receive path allocates nothing.
pub struct RecvBatch {
    data: Vec<u8>,
    control: Vec<u8>,
    names: Vec<libc::sockaddr_in6>,
    got: Vec<sys::Got>,
    count: usize,
    family: Family,
    ifindex: u32,
    /// The real-time clock just after the batch arrived (for [`Received::age`]).
    realtime: Option<Duration>,
}

impl fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvBatch")
            .field("count", &self.count)
            .finish()
    }
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch::new()
    }
}

impl RecvBatch {
    /// Empty buffers for [`RECV_BATCH`] packets.
    pub fn new() -> RecvBatch {
        RecvBatch {
            data: vec![0; RECV_BATCH * SLOT],
            control: vec![0; RECV_BATCH * CONTROL_ROOM],
            names: vec![zero_name(); RECV_BATCH],
            got: vec![sys::Got::default(); RECV_BATCH],
            count: 0,
            family: Family::V4,
            ifindex: 0,
            realtime: None,
        }
    }

    /// Packets held (from the last [`VrrpSocket::recv_batch`]).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Packet `k` (below [`RecvBatch::len`]), parsed as [`VrrpSocket::recv`] returns it;
    /// `None` past the end, an error for a malformed packet (skip it and read on).
    pub fn get(&self, k: usize) -> Option<Result<Received<'_>, SocketError>> {
        if k >= self.count {
            return None;
        }
        let g = self.got.get(k)?;
        let data = self.data.get(k * SLOT..k * SLOT + g.len.min(SLOT))?;
        let control = self
            .control
            .get(k * CONTROL_ROOM..k * CONTROL_ROOM + g.control_len.min(CONTROL_ROOM))?;
        let name = self.names.get(k)?;
        Some(parse_received(
            self.family,
            self.ifindex,
            data,
            control,
            name,
            g.name_len,
            self.realtime,
        ))
    }
}

/// What the kernel gave for one packet, as a [`Received`]: for IPv4 the addresses and TTL
/// come from the IP header in `data`; for IPv6 from the source address `name` and the
/// ancillary data (IPV6_PKTINFO, IPV6_HOPLIMIT).
fn parse_received<'a>(
    family: Family,
    default_ifindex: u32,
    data: &'a [u8],
    control: &[u8],
    name: &libc::sockaddr_in6,
    name_len: usize,
    realtime: Option<Duration>,
) -> Result<Received<'a>, SocketError> {
    let mut meta = Meta::default();
    for (level, ty, d) in sys::cmsgs(control) {
        match (level, ty) {
            (libc::IPPROTO_IP, libc::IP_PKTINFO) if d.len() >= 4 => {
                let i = libc::c_int::from_ne_bytes([d[0], d[1], d[2], d[3]]);
                meta.ifindex = u32::try_from(i).ok();
            }
            (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) if d.len() >= 20 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&d[..16]);
                meta.dst6 = Some(Ipv6Addr::from(a));
                meta.ifindex = Some(u32::from_ne_bytes([d[16], d[17], d[18], d[19]]));
            }
            (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) if d.len() >= 4 => {
                let h = libc::c_int::from_ne_bytes([d[0], d[1], d[2], d[3]]);
                meta.hops = u8::try_from(h).ok();
            }
            (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => meta.stamp = parse_timespec(d),
            _ => {}
        }
    }
    let len = data.len();
    let ifindex = meta.ifindex.unwrap_or(default_ifindex);
    let age = age_of(meta.stamp, realtime);
    match family {
        Family::V4 => {
            let ip = parse_ipv4_header(data).ok_or(SocketError::BadIpHeader { len })?;
            let from = if ip.protocol == crate::ah::IPPROTO_AH {
                0
            } else {
                ip.header_len
            };
            Ok(Received {
                payload: &data[from..ip.total_len],
                src: IpAddr::V4(ip.src),
                dst: IpAddr::V4(ip.dst),
                ttl: ip.ttl,
                ifindex,
                age,
            })
        }
        Family::V6 => {
            let src = (name_len >= std::mem::size_of::<libc::sockaddr_in6>()
                && libc::c_int::from(name.sin6_family) == libc::AF_INET6)
                .then(|| IpAddr::V6(Ipv6Addr::from(name.sin6_addr.s6_addr)))
                .ok_or(SocketError::MissingAncillary {
                    what: "a source address",
                })?;
            let dst = meta.dst6.ok_or(SocketError::MissingAncillary {
                what: "IPV6_PKTINFO",
            })?;
            let ttl = meta.hops.ok_or(SocketError::MissingAncillary {
                what: "IPV6_HOPLIMIT",
            })?;
            Ok(Received {
                payload: data,
                src,
                dst: IpAddr::V6(dst),
                ttl,
                ifindex,
                age,
            })
        }
    }
}

#[derive(Default)]
struct Meta {
    ifindex: Option<u32>,
    dst6: Option<Ipv6Addr>,
    hops: Option<u8>,
    stamp: Option<Duration>,
}

/// A `SCM_TIMESTAMPNS` payload as a duration since the epoch: a `struct timespec` of two
/// 64-bit fields (64-bit targets, and 32-bit ones with a 64-bit `time_t`) or of two 32-bit
/// ones (older 32-bit ABIs). `None` for anything else, or a time before 1970.
fn parse_timespec(d: &[u8]) -> Option<Duration> {
    let (sec, nsec) = match d.len() {
        16 => {
            let mut s = [0u8; 8];
            let mut n = [0u8; 8];
            s.copy_from_slice(&d[..8]);
            n.copy_from_slice(&d[8..]);
            (i64::from_ne_bytes(s), i64::from_ne_bytes(n))
        }
        8 => {
            let mut s = [0u8; 4];
            let mut n = [0u8; 4];
            s.copy_from_slice(&d[..4]);
            n.copy_from_slice(&d[4..]);
            (
                i64::from(i32::from_ne_bytes(s)),
                i64::from(i32::from_ne_bytes(n)),
            )
        }
        _ => return None,
    };
    let nsec = u32::try_from(nsec).ok().filter(|n| *n < 1_000_000_000)?;
    Some(Duration::new(u64::try_from(sec).ok()?, nsec))
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

/// The error for a socket option `option` that could not be set on the socket for
/// `ifname`.
fn option_error(ifname: &str, option: &'static str) -> impl FnOnce(io::Error) -> SocketError {
    let ifname = ifname.to_string();
    move |source| SocketError::Option {
        option,
        ifname,
        source,
    }
}

/// A raw socket of `family` for IP protocol `protocol`, non-blocking and close-on-exec.
fn raw_socket(config: &SocketConfig, family: Family, protocol: i32) -> Result<Socket, SocketError> {
    let domain = match family {
        Family::V4 => Domain::IPV4,
        Family::V6 => Domain::IPV6,
    };
    let sock = Socket::new(domain, Type::RAW, Some(Protocol::from(protocol)))
        .map_err(|source| SocketError::Open { family, source })?;
    let opt = |option| option_error(&config.ifname, option);
    sock.set_nonblocking(true).map_err(opt("O_NONBLOCK"))?;
    sock.set_cloexec(true).map_err(opt("FD_CLOEXEC"))?;
    Ok(sock)
}

/// What every receiving socket sets: bound to the interface, kernel receive timestamps
/// (how long a packet waited in the queue, see `Received::age`), the configured receive
/// buffer size.
fn set_receive_options(sock: &Socket, config: &SocketConfig) -> Result<(), SocketError> {
    let opt = |option| option_error(&config.ifname, option);
    sock.bind_device(Some(config.ifname.as_bytes()))
        .map_err(opt("SO_BINDTODEVICE"))?;
    sys::setsockopt_int(sock, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)
        .map_err(opt("SO_TIMESTAMPNS"))?;
    if let Some(size) = config.rx_buf_size {
        sock.set_recv_buffer_size(size).map_err(opt("SO_RCVBUF"))?;
    }
    Ok(())
}

/// The raw socket for IP protocol 51 beside an IPv4 VRRP socket: same interface, receive
/// timestamps, packet info and buffer size; no multicast loop (see [`VrrpSocket::open`]).
fn open_ah_rx(config: &SocketConfig) -> Result<Socket, SocketError> {
    let sock = raw_socket(config, Family::V4, i32::from(crate::ah::IPPROTO_AH))?;
    set_receive_options(&sock, config)?;
    let opt = |option| option_error(&config.ifname, option);
    sock.set_multicast_loop_v4(false)
        .map_err(opt("IP_MULTICAST_LOOP"))?;
    sock.set_multicast_all_v4(false)
        .map_err(opt("IP_MULTICAST_ALL"))?;
    setsockopt(&sock, sockopt::Ipv4PacketInfo, &true)
        .map_err(|e| opt("IP_PKTINFO")(io::Error::from(e)))?;
    Ok(sock)
}

/// The send-only socket for AH adverts: `IPPROTO_RAW` (the packets carry their own IP
/// header, `IP_HDRINCL`), bound to the interface (multicast goes out there), no multicast
/// loop. It receives nothing.
fn open_ah_tx(config: &SocketConfig) -> Result<Socket, SocketError> {
    let sock = raw_socket(config, Family::V4, libc::IPPROTO_RAW)?;
    let opt = |option| option_error(&config.ifname, option);
    if !config.ifname.is_empty() {
        sock.bind_device(Some(config.ifname.as_bytes()))
            .map_err(opt("SO_BINDTODEVICE"))?;
    }
    sock.set_multicast_loop_v4(false)
        .map_err(opt("IP_MULTICAST_LOOP"))?;
    Ok(sock)
}

// Readiness of both the VRRP socket and, when there is one, the AH socket: the two share
// the token, and [`VrrpSocket::recv_batch`] reads both.
mio_source_via_fd!(VrrpSocket, VrrpSocket::fds);

#[cfg(test)]
mod tests;
