//! VRRPv2 `auth_type AH`: the advert wrapped in an IP Authentication Header (RFC 2402
//! layout, RFC 2338 §5.3.6.3), as keepalived sends and checks it (IPv4 only).
//!
//! ```text
//!  IPv4 header (20 bytes, protocol 51)
//!  +---------------+---------------+-------------------------------+
//!  | Next Hdr (112)| Payload Len(4)|          Reserved (0)         |
//!  +---------------+---------------+-------------------------------+
//!  |            SPI (the sender's IPv4 source address)             |
//!  +---------------------------------------------------------------+
//!  |                       Sequence Number                         |
//!  +---------------------------------------------------------------+
//!  |               ICV: HMAC-MD5-96 (12 bytes)                     |
//!  +---------------------------------------------------------------+
//!  VRRPv2 advert (auth type 2, its 8 authentication bytes zero)
//! ```
//!
//! What keepalived 2.2.7 does, observed on the wire (two of its packets, captured with
//! tcpdump, are verified and rebuilt byte for byte by the tests below):
//! - the ICV is HMAC-MD5 (RFC 2104) keyed with `auth_pass` cut to 8 bytes, truncated to
//!   96 bits, over the whole IP packet with the TOS, the flags/fragment offset, the header
//!   checksum and the ICV itself zeroed. The IP identification is covered as sent; the TTL
//!   too when the destination is multicast (255), but zeroed when it is unicast
//!   (`unicast_peer`: keepalived signs and checks it so, whatever `unicast_ttl` says);
//! - the SPI is the sender's IPv4 address; the sequence number is one counter per
//!   instance: +1 for each advert sent, and set to the sequence number of every advert
//!   accepted (so a new master carries on from the old one's); an advert whose sequence
//!   number is not above the counter is a replay and fails authentication (as does a bad
//!   ICV); the first advert sent carries 1;
//! - the IP header: TOS 0xc0, no DF, TTL 255 (multicast), a non-zero identification.
//!
//! Everything here is sans-IO: [`encode`] builds the whole IPv4 packet (to send with the
//! IP header included), [`verify`] checks one as received (header included).

use std::net::Ipv4Addr;

use hmac::{Hmac, Mac};
use md5::Md5;

/// The IP protocol number of AH.
pub const IPPROTO_AH: u8 = 51;
/// The IP protocol number of VRRP (the AH next header).
pub const NEXT_HEADER_VRRP: u8 = 112;
/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Length of the AH header with its 96-bit ICV.
pub const AH_LEN: usize = 24;
/// Length of the ICV (HMAC-MD5 truncated to 96 bits).
pub const ICV_LEN: usize = 12;
/// The AH "payload length" field: the AH length in 32-bit words, minus 2.
const AH_PAYLOAD_LEN: u8 = (AH_LEN / 4 - 2) as u8;
/// Offset of the ICV inside the AH header.
const ICV_AT: usize = 12;
/// TOS keepalived puts on adverts (network control).
const TOS: u8 = 0xc0;

type HmacMd5 = Hmac<Md5>;

/// Why an AH packet was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AhError {
    /// Not an IPv4 packet, or shorter than its headers say.
    Malformed,
    /// Not IP protocol 51.
    Protocol(u8),
    /// The AH header does not announce VRRP, or has another length than 24 bytes.
    Header,
    /// The ICV does not match (another key, or the packet was changed).
    Icv,
}

impl std::fmt::Display for AhError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AhError::Malformed => f.write_str("malformed IPv4/AH packet"),
            AhError::Protocol(p) => write!(f, "IP protocol {p}, not AH"),
            AhError::Header => f.write_str("AH header not for VRRP or of another length"),
            AhError::Icv => f.write_str("AH ICV mismatch"),
        }
    }
}

impl std::error::Error for AhError {}

/// An AH packet's fields, its ICV checked or not (see [`parse`] and [`verify`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhPacket<'a> {
    /// IP source.
    pub src: Ipv4Addr,
    /// IP destination.
    pub dst: Ipv4Addr,
    /// IP TTL.
    pub ttl: u8,
    /// AH security parameters index (keepalived: the sender's address).
    pub spi: u32,
    /// AH sequence number.
    pub seq: u32,
    /// The VRRP advert after the AH header.
    pub vrrp: &'a [u8],
}

/// The AH key: `auth_pass` cut (or NUL padded) to 8 bytes.
pub fn key(text: &str) -> [u8; 8] {
    let mut k = [0u8; 8];
    for (d, s) in k.iter_mut().zip(text.bytes()) {
        *d = s;
    }
    k
}

/// True when `bytes` starts like an IPv4 header (version 4) rather than a VRRP header
/// (version 2 or 3): how an AH packet handed over with its IP header is told apart.
pub fn is_ipv4(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| b >> 4 == 4)
}

/// The fields of an IPv4 AH packet (header included), without checking the ICV.
pub fn parse(packet: &[u8]) -> Result<AhPacket<'_>, AhError> {
    let first = *packet.first().ok_or(AhError::Malformed)?;
    if first >> 4 != 4 {
        return Err(AhError::Malformed);
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < IPV4_HEADER_LEN || packet.len() < ihl {
        return Err(AhError::Malformed);
    }
    let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
    if total < ihl + AH_LEN || total > packet.len() {
        return Err(AhError::Malformed);
    }
    let packet = &packet[..total];
    if packet[9] != IPPROTO_AH {
        return Err(AhError::Protocol(packet[9]));
    }
    let ah = &packet[ihl..ihl + AH_LEN];
    if ah[0] != NEXT_HEADER_VRRP || ah[1] != AH_PAYLOAD_LEN {
        return Err(AhError::Header);
    }
    let word = |at: usize| u32::from_be_bytes([ah[at], ah[at + 1], ah[at + 2], ah[at + 3]]);
    let addr =
        |at: usize| Ipv4Addr::new(packet[at], packet[at + 1], packet[at + 2], packet[at + 3]);
    Ok(AhPacket {
        src: addr(12),
        dst: addr(16),
        ttl: packet[8],
        spi: word(4),
        seq: word(8),
        vrrp: &packet[ihl + AH_LEN..],
    })
}

/// The HMAC over `packet` (a well-formed AH packet of `ihl` header bytes) with the
/// mutable fields and the ICV taken as zero (the TTL too for a unicast destination); no
/// copy of the packet is made.
fn mac(key: &[u8; 8], packet: &[u8], ihl: usize) -> HmacMd5 {
    // An HMAC key of any length is accepted (RFC 2104): this never fails.
    let mut m = match HmacMd5::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    let mut ip = [0u8; 60];
    let ip = &mut ip[..ihl];
    ip.copy_from_slice(&packet[..ihl]);
    ip[1] = 0; // TOS
    ip[6] = 0; // flags, fragment offset
    ip[7] = 0;
    if !(224..240).contains(&ip[16]) {
        ip[8] = 0; // TTL, unicast only
    }
    ip[10] = 0; // header checksum
    ip[11] = 0;
    m.update(ip);
    m.update(&packet[ihl..ihl + ICV_AT]);
    m.update(&[0u8; ICV_LEN]);
    m.update(&packet[ihl + AH_LEN..]);
    m
}

/// Check an IPv4 AH packet (header included) with `key`: its structure, then its ICV (in
/// constant time). The sequence number is the caller's to check.
pub fn verify<'a>(key: &[u8; 8], packet: &'a [u8]) -> Result<AhPacket<'a>, AhError> {
    let p = parse(packet)?;
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let total = ihl + AH_LEN + p.vrrp.len();
    let packet = &packet[..total];
    let icv = &packet[ihl + ICV_AT..ihl + AH_LEN];
    mac(key, packet, ihl)
        .verify_truncated_left(icv)
        .map_err(|_| AhError::Icv)?;
    Ok(p)
}

/// What goes in the IP header of an AH advert besides its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhHeader {
    /// IP source (also the SPI).
    pub src: Ipv4Addr,
    /// IP destination.
    pub dst: Ipv4Addr,
    /// TTL.
    pub ttl: u8,
    /// IP identification (non-zero: the kernel replaces a zero one, after the ICV).
    pub id: u16,
    /// AH sequence number.
    pub seq: u32,
}

/// Build the whole IPv4 AH packet carrying the VRRP advert `vrrp` into `out` (cleared
/// first): IP header (checksum filled in), AH header with the ICV, then the advert.
pub fn encode(key: &[u8; 8], h: &AhHeader, vrrp: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let total = u16::try_from(IPV4_HEADER_LEN + AH_LEN + vrrp.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&[0x45, TOS]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&h.id.to_be_bytes());
    out.extend_from_slice(&[0, 0, h.ttl, IPPROTO_AH, 0, 0]);
    out.extend_from_slice(&h.src.octets());
    out.extend_from_slice(&h.dst.octets());
    out.extend_from_slice(&[NEXT_HEADER_VRRP, AH_PAYLOAD_LEN, 0, 0]);
    out.extend_from_slice(&h.src.octets()); // SPI
    out.extend_from_slice(&h.seq.to_be_bytes());
    out.extend_from_slice(&[0u8; ICV_LEN]);
    out.extend_from_slice(vrrp);
    out.truncate(usize::from(total));
    let icv = mac(key, out, IPV4_HEADER_LEN).finalize().into_bytes();
    out[IPV4_HEADER_LEN + ICV_AT..IPV4_HEADER_LEN + AH_LEN].copy_from_slice(&icv[..ICV_LEN]);
    let sum = ip_checksum(&out[..IPV4_HEADER_LEN]);
    out[10..12].copy_from_slice(&sum.to_be_bytes());
}

/// The IPv4 header checksum (RFC 791) of `header` with its checksum field zero.
fn ip_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// keepalived 2.2.7, auth_pass "secretk1", captured (tcpdump) between two namespaces.
    const KA_SECRETK1: &str = "45c0 0040 0008 0000 ff33 d056 0a58 0002 e000 0012 7004 0000
        0a58 0002 0000 0008 d7eb 1cf1 a941 5888 f035 cbe6 2133 c801 0201 0a0e 0a58 0064
        0000 0000 0000 0000";
    /// keepalived 2.2.7 unicast (10.88.0.2 to its `unicast_peer` 10.88.0.1), auth_pass
    /// "secretk1": the TTL (255 on the wire) is zero in the ICV.
    const KA_UNICAST: &str = "45c0 0040 0002 0000 ff33 a616 0a58 0002 0a58 0001 7004 0000
        0a58 0002 0000 0002 2002 23c3 491d 85c9 cb17 b7a4 2133 c801 0201 0a0e 0a58 0064
        0000 0000 0000 0000";
    /// keepalived 2.2.7, auth_pass "averylongpassword" (it uses "averylon"); the IP
    /// identification (0x002e) differs from the sequence number (0x600d).
    const KA_AVERYLON: &str = "45c0 0040 002e 0000 ff33 d030 0a58 0002 e000 0012 7004 0000
        0a58 0002 0000 600d 4aed 6626 8686 7928 c005 9466 2133 c801 0201 0a0e 0a58 0064
        0000 0000 0000 0000";

    #[test]
    fn keepalived_packets_verify() {
        let p = hex(KA_SECRETK1);
        let a = verify(&key("secretk1"), &p).expect("valid");
        assert_eq!(a.src, Ipv4Addr::new(10, 88, 0, 2));
        assert_eq!(a.dst, Ipv4Addr::new(224, 0, 0, 18));
        assert_eq!(a.spi, u32::from(Ipv4Addr::new(10, 88, 0, 2)));
        assert_eq!(a.seq, 8);
        assert_eq!(a.ttl, 255);
        assert_eq!(a.vrrp.len(), 20);
        assert_eq!(a.vrrp[0], 0x21);
        assert_eq!(a.vrrp[4], 2, "VRRP auth type 2 (AH)");
        assert_eq!(&a.vrrp[12..], &[0u8; 8], "auth data zero");
        let p = hex(KA_AVERYLON);
        let a = verify(&key("averylongpassword"), &p).expect("valid");
        assert_eq!(a.seq, 0x600d);
        assert_eq!(verify(&key("secretk1"), &p), Err(AhError::Icv));
        let p = hex(KA_UNICAST);
        let a = verify(&key("secretk1"), &p).expect("valid");
        assert_eq!((a.dst, a.ttl, a.seq), (Ipv4Addr::new(10, 88, 0, 1), 255, 2));
        // Unicast: the TTL is not covered; multicast: it is.
        let mut q = p.clone();
        q[8] = 64;
        assert!(verify(&key("secretk1"), &q).is_ok());
        let mut q = hex(KA_SECRETK1);
        q[8] = 64;
        assert_eq!(verify(&key("secretk1"), &q), Err(AhError::Icv));
    }

    #[test]
    fn encode_matches_keepalived_bytes() {
        let p = hex(KA_SECRETK1);
        let h = AhHeader {
            src: Ipv4Addr::new(10, 88, 0, 2),
            dst: Ipv4Addr::new(224, 0, 0, 18),
            ttl: 255,
            id: 8,
            seq: 8,
        };
        let mut out = Vec::new();
        encode(&key("secretk1"), &h, &p[44..], &mut out);
        assert_eq!(out, p);
        let p = hex(KA_AVERYLON);
        let h = AhHeader {
            id: 0x2e,
            seq: 0x600d,
            ..h
        };
        encode(&key("averylon"), &h, &p[44..], &mut out);
        assert_eq!(out, p);
        let p = hex(KA_UNICAST);
        let h = AhHeader {
            dst: Ipv4Addr::new(10, 88, 0, 1),
            id: 2,
            seq: 2,
            ..h
        };
        encode(&key("secretk1"), &h, &p[44..], &mut out);
        assert_eq!(out, p);
    }

    #[test]
    fn mutable_fields_are_not_covered_but_ttl_and_id_are() {
        let k = key("secretk1");
        let p = hex(KA_SECRETK1);
        let mut q = p.clone();
        q[1] = 0; // TOS
        q[6] = 0x40; // DF
        q[10] = 0x12; // checksum
        assert!(verify(&k, &q).is_ok());
        for at in [4usize, 8, 12, 16, 17, 20, 28, 44, 63] {
            let mut q = p.clone();
            q[at] ^= 1;
            assert!(verify(&k, &q).is_err(), "byte {at} is covered");
        }
    }

    #[test]
    fn malformed_packets_are_refused() {
        let k = key("secretk1");
        let p = hex(KA_SECRETK1);
        for n in 0..p.len() {
            // Truncated: the total length no longer fits.
            assert_eq!(verify(&k, &p[..n]), Err(AhError::Malformed), "len {n}");
        }
        let mut q = p.clone();
        q[9] = 112;
        assert_eq!(verify(&k, &q), Err(AhError::Protocol(112)));
        let mut q = p.clone();
        q[20] = 17;
        assert_eq!(verify(&k, &q), Err(AhError::Header));
        let mut q = p.clone();
        q[21] = 5;
        assert_eq!(verify(&k, &q), Err(AhError::Header));
        let mut q = p.clone();
        q[0] = 0x4f; // 60-byte header: the AH header no longer fits
        assert_eq!(verify(&k, &q), Err(AhError::Malformed));
        let mut q = p.clone();
        q[0] = 0x21;
        assert!(!is_ipv4(&q));
        assert_eq!(verify(&k, &q), Err(AhError::Malformed));
        // Trailing bytes past the IP total length are ignored.
        let mut q = p.clone();
        q.extend_from_slice(&[1, 2, 3]);
        assert_eq!(verify(&k, &q).map(|a| a.vrrp.len()), Ok(20));
    }

    #[test]
    fn keys_are_cut_to_eight_bytes() {
        assert_eq!(key("averylongpassword"), *b"averylon");
        assert_eq!(key("abc"), *b"abc\0\0\0\0\0");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let _ = verify(&key("k"), &bytes);
            let _ = parse(&bytes);
        }

        #[test]
        fn corrupted_keepalived_packet_never_panics(at in 0usize..64, x in 1u8..=255) {
            let mut p = hex(KA_SECRETK1);
            p[at] ^= x;
            let r = verify(&key("secretk1"), &p);
            // Only the bits keepalived leaves out of the ICV may change and still verify.
            if r.is_ok() {
                proptest::prop_assert!(matches!(at, 1 | 6 | 7 | 10 | 11));
            }
        }

        #[test]
        fn encode_then_verify(seq in proptest::num::u32::ANY, id in 1u16.., ttl in proptest::num::u8::ANY,
                              vrrp in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let h = AhHeader { src: Ipv4Addr::new(10, 0, 0, 1), dst: Ipv4Addr::new(224, 0, 0, 18), ttl, id, seq };
            let mut out = Vec::new();
            encode(&key("pw"), &h, &vrrp, &mut out);
            let a = verify(&key("pw"), &out).expect("own packet verifies");
            proptest::prop_assert_eq!(a.seq, seq);
            proptest::prop_assert_eq!(a.vrrp, &vrrp[..]);
            proptest::prop_assert_eq!(ip_checksum(&out[..20]), 0);
        }
    }
}
