//! Unsolicited neighbour advertisements (RFC 4861 §7.2.6) for IPv6 VIPs: ICMPv6 type 136
//! sent to all-nodes (`ff02::1`) with hop limit 255, the Override flag set (Router when the
//! node forwards), the VIP as target and a Target Link-Layer Address option carrying the
//! interface's MAC or the VMAC. The kernel fills the ICMPv6 checksum.
//!
//! As keepalived 2.2.7 does (captured on a veth): the IPv6 source is the VIP itself (so
//! the VIP must already be assigned and not tentative: keepalived adds IPv6 VIPs with
//! `nodad`), and the Router flag is set when IPv6 forwarding is on for the interface
//! ([`forwarding`]).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type 136  |     Code 0    |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |R|S|O|                     Reserved                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Target Address (16 bytes)               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Type 2       |   Length 1    |   Link-layer address (6 bytes)|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::fmt;
use std::io::{self, IoSlice};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::AsRawFd;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrStorage};
use socket2::{Domain, Protocol, Socket, Type};

use super::sys;

/// ICMPv6 type of a neighbour advertisement.
pub const ND_NEIGHBOR_ADVERT: u8 = 136;
/// All-nodes multicast address.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// Length of the advertisement with its one option.
pub const NA_LEN: usize = 32;

const FLAG_ROUTER: u8 = 0x80;
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;
const OPT_TARGET_LLADDR: u8 = 2;
/// ICMP6_FILTER (linux/icmpv6.h), at level IPPROTO_ICMPV6.
const ICMP6_FILTER: libc::c_int = 1;

/// A neighbour advertisement, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighbourAdvert {
    /// R flag.
    pub router: bool,
    /// S flag.
    pub solicited: bool,
    /// O flag.
    pub override_: bool,
    /// Target address.
    pub target: Ipv6Addr,
    /// Target link-layer address option, if present.
    pub lladdr: Option<[u8; 6]>,
}

impl NeighbourAdvert {
    /// The unsolicited advertisement keepalived sends for `vip`.
    pub fn unsolicited(vip: Ipv6Addr, mac: [u8; 6], router: bool) -> NeighbourAdvert {
        NeighbourAdvert {
            router,
            solicited: false,
            override_: true,
            target: vip,
            lladdr: Some(mac),
        }
    }

    /// Encode the ICMPv6 message (checksum left 0 for the kernel to fill).
    pub fn emit(&self) -> Vec<u8> {
        let mut b = vec![0u8; if self.lladdr.is_some() { NA_LEN } else { 24 }];
        b[0] = ND_NEIGHBOR_ADVERT;
        let mut flags = 0;
        if self.router {
            flags |= FLAG_ROUTER;
        }
        if self.solicited {
            flags |= FLAG_SOLICITED;
        }
        if self.override_ {
            flags |= FLAG_OVERRIDE;
        }
        b[4] = flags;
        b[8..24].copy_from_slice(&self.target.octets());
        if let Some(mac) = self.lladdr {
            b[24] = OPT_TARGET_LLADDR;
            b[25] = 1;
            b[26..32].copy_from_slice(&mac);
        }
        b
    }

    /// Decode an ICMPv6 message; `None` unless it is a well-formed advertisement.
    pub fn parse(icmp: &[u8]) -> Option<NeighbourAdvert> {
        if icmp.len() < 24 || icmp[0] != ND_NEIGHBOR_ADVERT || icmp[1] != 0 {
            return None;
        }
        let mut target = [0u8; 16];
        target.copy_from_slice(&icmp[8..24]);
        let mut lladdr = None;
        let mut opts = &icmp[24..];
        while opts.len() >= 8 {
            let len = usize::from(opts[1]) * 8;
            if len == 0 || len > opts.len() {
                return None;
            }
            if opts[0] == OPT_TARGET_LLADDR && len == 8 {
                let mut mac = [0u8; 6];
                mac.copy_from_slice(&opts[2..8]);
                lladdr = Some(mac);
            }
            opts = &opts[len..];
        }
        Some(NeighbourAdvert {
            router: icmp[4] & FLAG_ROUTER != 0,
            solicited: icmp[4] & FLAG_SOLICITED != 0,
            override_: icmp[4] & FLAG_OVERRIDE != 0,
            target: Ipv6Addr::from(target),
            lladdr,
        })
    }
}

/// Is IPv6 forwarding on for `ifname` (then advertisements carry the Router flag)? Read
/// from /proc of the calling thread's network namespace; false when unreadable.
pub fn forwarding(ifname: &str) -> bool {
    if ifname.contains('/') || ifname.is_empty() {
        return false;
    }
    std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{ifname}/forwarding"))
        .is_ok_and(|v| v.trim() == "1")
}

/// What went wrong sending neighbour advertisements.
#[derive(Debug)]
pub enum NdiscError {
    /// The ICMPv6 socket could not be opened or set up.
    Open {
        option: &'static str,
        source: io::Error,
    },
    /// Sending failed.
    Send {
        ifindex: u32,
        vip: Ipv6Addr,
        source: io::Error,
    },
}

impl fmt::Display for NdiscError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NdiscError::Open { option, source } => {
                write!(f, "cannot set up the ICMPv6 socket ({option}): {source}")
            }
            NdiscError::Send {
                ifindex,
                vip,
                source,
            } => write!(
                f,
                "cannot send a neighbour advertisement for {vip} on #{ifindex}: {source}"
            ),
        }
    }
}

impl std::error::Error for NdiscError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NdiscError::Open { source, .. } | NdiscError::Send { source, .. } => Some(source),
        }
    }
}

/// A send-only raw ICMPv6 socket for unsolicited neighbour advertisements on any interface
/// (the interface is chosen per packet). Every incoming ICMPv6 type is filtered out.
#[derive(Debug)]
pub struct NaSender {
    sock: Socket,
}

impl NaSender {
    /// Open the socket (needs CAP_NET_RAW).
    pub fn open() -> Result<NaSender, NdiscError> {
        let err = |option| move |source| NdiscError::Open { option, source };
        let sock =
            Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).map_err(err("socket"))?;
        sock.set_nonblocking(true).map_err(err("O_NONBLOCK"))?;
        sock.set_cloexec(true).map_err(err("FD_CLOEXEC"))?;
        sock.set_multicast_hops_v6(255)
            .map_err(err("IPV6_MULTICAST_HOPS"))?;
        sock.set_unicast_hops_v6(255)
            .map_err(err("IPV6_UNICAST_HOPS"))?;
        sock.set_multicast_loop_v6(false)
            .map_err(err("IPV6_MULTICAST_LOOP"))?;
        // Block every ICMPv6 type: this socket never reads.
        sys::setsockopt_bytes(&sock, libc::IPPROTO_ICMPV6, ICMP6_FILTER, &[0xff; 32])
            .map_err(err("ICMP6_FILTER"))?;
        Ok(NaSender { sock })
    }

    /// Send one unsolicited advertisement for `vip` on `ifindex` from `mac`, with the
    /// Router flag when `router`. `src` picks the IPv6 source; `None` uses the VIP itself,
    /// as keepalived does, or — when the VIP cannot be a source yet (not assigned, or
    /// still tentative) — lets the kernel choose (the interface's link-local address).
    pub fn send(
        &self,
        ifindex: u32,
        mac: [u8; 6],
        vip: Ipv6Addr,
        router: bool,
        src: Option<Ipv6Addr>,
    ) -> Result<(), NdiscError> {
        match self.send_from(ifindex, mac, vip, router, src.unwrap_or(vip)) {
            Err(NdiscError::Send { source, .. })
                if src.is_none()
                    && matches!(
                        source.raw_os_error(),
                        Some(libc::EADDRNOTAVAIL) | Some(libc::EINVAL)
                    ) =>
            {
                self.send_from(ifindex, mac, vip, router, Ipv6Addr::UNSPECIFIED)
            }
            r => r,
        }
    }

    fn send_from(
        &self,
        ifindex: u32,
        mac: [u8; 6],
        vip: Ipv6Addr,
        router: bool,
        src: Ipv6Addr,
    ) -> Result<(), NdiscError> {
        let err = |source| NdiscError::Send {
            ifindex,
            vip,
            source,
        };
        let msg = NeighbourAdvert::unsolicited(vip, mac, router).emit();
        let dst =
            SockaddrStorage::from(SocketAddr::V6(SocketAddrV6::new(ALL_NODES, 0, 0, ifindex)));
        let info = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: ifindex,
        };
        let cmsgs = [ControlMessage::Ipv6PacketInfo(&info)];
        let iov = [IoSlice::new(&msg)];
        loop {
            match sendmsg(
                self.sock.as_raw_fd(),
                &iov,
                &cmsgs,
                MsgFlags::MSG_DONTWAIT,
                Some(&dst),
            ) {
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(err(io::Error::from(e))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const NA: [u8; 32] = [
        136, 0, 0, 0, 0x20, 0, 0, 0,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
        2, 1, 0x00, 0x00, 0x5e, 0x00, 0x02, 0x07,
    ];

    #[test]
    fn emit_matches_bytes() {
        let vip: Ipv6Addr = "2001:db8::7".parse().expect("lit");
        let na = NeighbourAdvert::unsolicited(vip, [0, 0, 0x5e, 0, 2, 7], false);
        assert_eq!(na.emit(), NA);
        let mut r = NA;
        r[4] = 0xa0;
        assert_eq!(
            NeighbourAdvert::unsolicited(vip, [0, 0, 0x5e, 0, 2, 7], true).emit(),
            r
        );
    }

    /// The ICMPv6 part of an unsolicited NA keepalived 2.2.7 sent for 2001:db8:68::100 with
    /// IPv6 forwarding on (captured on a veth; source address: the VIP).
    const KEEPALIVED_NA: &str = "8800bc03a000000020010db8006800000000000000000100020176f09fc7a5a1";

    #[test]
    fn same_bytes_as_keepalived() {
        let theirs: Vec<u8> = (0..KEEPALIVED_NA.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&KEEPALIVED_NA[i..i + 2], 16).expect("hex"))
            .collect();
        let vip: Ipv6Addr = "2001:db8:68::100".parse().expect("lit");
        let mut ours =
            NeighbourAdvert::unsolicited(vip, [0x76, 0xf0, 0x9f, 0xc7, 0xa5, 0xa1], true).emit();
        ours[2..4].copy_from_slice(&theirs[2..4]); // the checksum is the kernel's
        assert_eq!(ours, theirs);
    }

    #[test]
    fn parse_round_trips_and_rejects() {
        let na = NeighbourAdvert::parse(&NA).expect("na");
        assert!(na.override_ && !na.solicited && !na.router);
        assert_eq!(na.lladdr, Some([0, 0, 0x5e, 0, 2, 7]));
        assert_eq!(NeighbourAdvert::parse(&NA[..20]), None);
        let mut zero_opt = NA;
        zero_opt[25] = 0;
        assert_eq!(NeighbourAdvert::parse(&zero_opt), None);
        let mut long_opt = NA;
        long_opt[25] = 2;
        assert_eq!(NeighbourAdvert::parse(&long_opt), None);
        for n in 0..64usize {
            let mut v: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(29)).collect();
            if let Some(b) = v.first_mut() {
                *b = 136;
            }
            let _ = NeighbourAdvert::parse(&v);
        }
    }
}
