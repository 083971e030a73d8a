//! Gratuitous ARP over AF_PACKET: an ARP request broadcast on the interface whose sender
//! (and target) protocol address is the VIP and whose sender hardware address is the
//! interface's MAC, or the VMAC (`use_vmac`). Neighbours update their caches to point the
//! VIP at the new master.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-------------------------------+-------------------------------+
//! |   Ethernet destination (ff:ff:ff:ff:ff:ff) ...                |
//! |   ... | Ethernet source (MAC) ...                             |
//! |       EtherType 0x0806        |  HTYPE 1      |  PTYPE 0x0800 |
//! | HLEN 6 | PLEN 4 |  OPER 1 (request) | SHA (MAC) ...           |
//! |  SPA (VIP)   | THA (ff:ff:ff:ff:ff:ff) | TPA (VIP)            |
//! +---------------------------------------------------------------+
//! ```

use std::fmt;
use std::io;
use std::net::Ipv4Addr;

use socket2::{Domain, Protocol, Socket, Type};

use super::sys;

/// EtherType of ARP.
pub const ETH_P_ARP: u16 = 0x0806;
/// The Ethernet broadcast address.
pub const BROADCAST: [u8; 6] = [0xff; 6];
/// Length of a gratuitous ARP frame (Ethernet header + ARP for IPv4), without padding.
pub const GARP_LEN: usize = 42;

mod field {
    use std::ops::Range;
    pub const ETH_DST: Range<usize> = 0..6;
    pub const ETH_SRC: Range<usize> = 6..12;
    pub const ETHERTYPE: Range<usize> = 12..14;
    pub const HTYPE: Range<usize> = 14..16;
    pub const PTYPE: Range<usize> = 16..18;
    pub const HLEN: usize = 18;
    pub const PLEN: usize = 19;
    pub const OPER: Range<usize> = 20..22;
    pub const SHA: Range<usize> = 22..28;
    pub const SPA: Range<usize> = 28..32;
    pub const THA: Range<usize> = 32..38;
    pub const TPA: Range<usize> = 38..42;
}

/// An ARP-for-IPv4-over-Ethernet frame, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpFrame {
    /// Ethernet destination.
    pub eth_dst: [u8; 6],
    /// Ethernet source.
    pub eth_src: [u8; 6],
    /// ARP operation (1 request, 2 reply).
    pub oper: u16,
    /// Sender hardware address.
    pub sha: [u8; 6],
    /// Sender protocol address.
    pub spa: Ipv4Addr,
    /// Target hardware address.
    pub tha: [u8; 6],
    /// Target protocol address.
    pub tpa: Ipv4Addr,
}

impl ArpFrame {
    /// The gratuitous ARP keepalived sends for `vip` from `mac`.
    pub fn gratuitous(mac: [u8; 6], vip: Ipv4Addr) -> ArpFrame {
        ArpFrame {
            eth_dst: BROADCAST,
            eth_src: mac,
            oper: 1,
            sha: mac,
            spa: vip,
            tha: BROADCAST,
            tpa: vip,
        }
    }

    /// Is this a gratuitous ARP (sender and target protocol addresses equal)?
    pub fn is_gratuitous(&self) -> bool {
        self.spa == self.tpa
    }

    /// Encode into a 42-byte Ethernet frame.
    pub fn emit(&self) -> [u8; GARP_LEN] {
        let mut b = [0u8; GARP_LEN];
        b[field::ETH_DST].copy_from_slice(&self.eth_dst);
        b[field::ETH_SRC].copy_from_slice(&self.eth_src);
        b[field::ETHERTYPE].copy_from_slice(&ETH_P_ARP.to_be_bytes());
        b[field::HTYPE].copy_from_slice(&1u16.to_be_bytes());
        b[field::PTYPE].copy_from_slice(&0x0800u16.to_be_bytes());
        b[field::HLEN] = 6;
        b[field::PLEN] = 4;
        b[field::OPER].copy_from_slice(&self.oper.to_be_bytes());
        b[field::SHA].copy_from_slice(&self.sha);
        b[field::SPA].copy_from_slice(&self.spa.octets());
        b[field::THA].copy_from_slice(&self.tha);
        b[field::TPA].copy_from_slice(&self.tpa.octets());
        b
    }

    /// Decode an Ethernet frame; `None` unless it is ARP for IPv4 over Ethernet.
    pub fn parse(frame: &[u8]) -> Option<ArpFrame> {
        let b = frame.get(..GARP_LEN)?;
        let be16 = |r: std::ops::Range<usize>| u16::from_be_bytes([b[r.start], b[r.start + 1]]);
        if be16(field::ETHERTYPE) != ETH_P_ARP
            || be16(field::HTYPE) != 1
            || be16(field::PTYPE) != 0x0800
            || b[field::HLEN] != 6
            || b[field::PLEN] != 4
        {
            return None;
        }
        let mac = |r: std::ops::Range<usize>| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&b[r]);
            m
        };
        let ip = |r: std::ops::Range<usize>| {
            Ipv4Addr::new(b[r.start], b[r.start + 1], b[r.start + 2], b[r.start + 3])
        };
        Some(ArpFrame {
            eth_dst: mac(field::ETH_DST),
            eth_src: mac(field::ETH_SRC),
            oper: be16(field::OPER),
            sha: mac(field::SHA),
            spa: ip(field::SPA),
            tha: mac(field::THA),
            tpa: ip(field::TPA),
        })
    }
}

/// What went wrong sending gratuitous ARPs.
#[derive(Debug)]
pub enum ArpError {
    /// The AF_PACKET socket could not be opened (no CAP_NET_RAW?).
    Open(io::Error),
    /// Sending on interface `ifindex` failed.
    Send {
        ifindex: u32,
        vip: Ipv4Addr,
        source: io::Error,
    },
}

impl fmt::Display for ArpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArpError::Open(e) => write!(f, "cannot open the ARP socket: {e}"),
            ArpError::Send {
                ifindex,
                vip,
                source,
            } => {
                write!(
                    f,
                    "cannot send gratuitous ARP for {vip} on #{ifindex}: {source}"
                )
            }
        }
    }
}

impl std::error::Error for ArpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ArpError::Open(e) | ArpError::Send { source: e, .. } => Some(e),
        }
    }
}

/// A send-only AF_PACKET socket for gratuitous ARPs on any interface. It subscribes to no
/// protocol, so it never queues received frames.
#[derive(Debug)]
pub struct GarpSender {
    sock: Socket,
}

impl GarpSender {
    /// Open the socket (needs CAP_NET_RAW).
    pub fn open() -> Result<GarpSender, ArpError> {
        let sock = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(0)))
            .map_err(ArpError::Open)?;
        sock.set_nonblocking(true).map_err(ArpError::Open)?;
        sock.set_cloexec(true).map_err(ArpError::Open)?;
        Ok(GarpSender { sock })
    }

    /// Send one gratuitous ARP for `vip` on `ifindex`, from `mac` (the interface's MAC or
    /// the VMAC).
    pub fn send(&self, ifindex: u32, mac: [u8; 6], vip: Ipv4Addr) -> Result<(), ArpError> {
        let err = |source| ArpError::Send {
            ifindex,
            vip,
            source,
        };
        let frame = ArpFrame::gratuitous(mac, vip).emit();
        let addr = sys::sockaddr_ll(ifindex, ETH_P_ARP, BROADCAST).map_err(err)?;
        loop {
            match self.sock.send_to(&frame, &addr) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];

    #[rustfmt::skip]
    const GARP: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
        0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 10, 0, 0, 100,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 10, 0, 0, 100,
    ];

    #[test]
    fn emit_matches_bytes() {
        let f = ArpFrame::gratuitous(MAC, Ipv4Addr::new(10, 0, 0, 100));
        assert_eq!(f.emit(), GARP);
    }

    /// A gratuitous ARP keepalived 2.2.7 sent for 10.68.0.100 (captured on a veth).
    const KEEPALIVED_GARP: &str =
        "ffffffffffff4e65f34045ed080600010800060400014e65f34045ed0a440064ffffffffffff0a440064";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn same_bytes_as_keepalived() {
        let mac = [0x4e, 0x65, 0xf3, 0x40, 0x45, 0xed];
        let ours = ArpFrame::gratuitous(mac, Ipv4Addr::new(10, 68, 0, 100)).emit();
        assert_eq!(ours.to_vec(), unhex(KEEPALIVED_GARP));
    }

    #[test]
    fn parse_round_trips_and_rejects() {
        let f = ArpFrame::parse(&GARP).expect("arp");
        assert!(f.is_gratuitous());
        assert_eq!(f, ArpFrame::gratuitous(MAC, Ipv4Addr::new(10, 0, 0, 100)));
        assert_eq!(ArpFrame::parse(&GARP[..41]), None);
        let mut ip = GARP;
        ip[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(ArpFrame::parse(&ip), None);
        for n in 0..60usize {
            let v: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(13)).collect();
            let _ = ArpFrame::parse(&v);
        }
    }
}
