//! VRRP advertisements on the wire: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798), for IPv4 and
//! IPv6, with encode and decode side by side.
//!
//! The engine works on the VRRP payload only (what follows the IP header); the I/O layer
//! passes the IP source, destination and TTL/hop limit next to it. [`Ipv4Header`] is here
//! for I/O layers that build the IPv4 header themselves (as keepalived does with
//! `IP_HDRINCL`) and for the wire fixtures.
//!
//! ```text
//! VRRPv2 (RFC 3768 §5.1)                      VRRPv3 (RFC 5798 §5.1)
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! v2: |   Auth Type   |   Adver Int   |          Checksum             |
//! v3: |(rsvd) |     Max Adver Int     |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 IP Address(es) (4 or 16 bytes each)           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! v2 only: |       Authentication Data (8 bytes)                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Checksums: v2 covers the VRRP message alone. v3 adds the IPv4/IPv6 pseudo-header
//! (RFC 5798 §5.2.8); some implementations (and keepalived with `v3_checksum_as_v2`) leave
//! the pseudo-header out over IPv4, so [`Advert::decode`] accepts both there and reports
//! which one matched.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// The IPv4 multicast group of VRRP (224.0.0.18).
pub const MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IPv6 multicast group of VRRP (ff02::12).
pub const MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The TTL / hop limit of every multicast advert (RFC 5798 §5.1.1.3).
pub const VRRP_TTL: u8 = 255;
/// The only VRRP message type.
pub const TYPE_ADVERT: u8 = 1;
/// v2 auth type: none.
pub const AUTH_NONE: u8 = 0;
/// v2 auth type: simple text password.
pub const AUTH_PASS: u8 = 1;
/// v2 auth type: IP Authentication Header (RFC 2338; removed in RFC 3768).
pub const AUTH_AH: u8 = 2;

/// Byte offsets of the fixed header.
mod field {
    pub type Field = core::ops::Range<usize>;
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// v2: auth type (byte 4) and adver int (byte 5); v3: 4 reserved bits + 12-bit interval.
    pub const V2_AUTH_TYPE: usize = 4;
    pub const V2_ADVER_INT: usize = 5;
    pub const V3_INTERVAL: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
    pub const ADDRS: usize = 8;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = 8;
/// Length of the v2 authentication data trailer.
pub const AUTH_DATA_LEN: usize = 8;

/// The most addresses an advert may carry (its count field is one byte).
pub const MAX_ADDRESSES: usize = 255;

/// What goes around the addresses of one advert on the wire, for [`max_addresses`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertFrame {
    /// IPv6 (else IPv4).
    pub ipv6: bool,
    /// VRRP version (v2 carries 8 bytes of authentication data).
    pub version: Version,
    /// `auth_type AH` (v2 over IPv4): an AH header of [`crate::ah::AH_LEN`] bytes.
    pub ah: bool,
    /// An `auth_hmac` trailer of [`crate::hmac_auth::TRAILER_LEN`] bytes follows the
    /// addresses (every mode but `receive-only` signs).
    pub hmac_trailer: bool,
}

/// How many addresses fit in one advert on an interface of `mtu` bytes, at most
/// [`MAX_ADDRESSES`]. Counted as keepalived 2.x counts: the Ethernet header (14 bytes)
/// too, although the MTU does not include it, so a frame it accepts always fits.
pub fn max_addresses(mtu: u32, f: AdvertFrame) -> usize {
    const ETHERNET: usize = 14;
    let (ip, addr) = if f.ipv6 {
        (40, 16)
    } else {
        (IPV4_HEADER_LEN, 4)
    };
    let mut overhead = ETHERNET + ip + HEADER_LEN;
    if f.version == Version::V2 && !f.ipv6 {
        overhead += AUTH_DATA_LEN;
        if f.ah {
            overhead += crate::ah::AH_LEN;
        }
    }
    if f.hmac_trailer {
        overhead += crate::hmac_auth::TRAILER_LEN;
    }
    let room = usize::try_from(mtu)
        .unwrap_or(usize::MAX)
        .saturating_sub(overhead);
    (room / addr).min(MAX_ADDRESSES)
}

/// The VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// RFC 3768: IPv4 only, whole-second intervals, optional simple password.
    V2,
    /// RFC 5798: IPv4 and IPv6, centisecond intervals, no authentication.
    V3,
}

impl Version {
    /// The number in the version nibble.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Which checksum variant an advert used (v3 over IPv4 has two in the wild).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumKind {
    /// The checksum the RFC prescribes for the version (v3: with the pseudo-header).
    Standard,
    /// v3 over IPv4 computed like v2, over the VRRP message only (`v3_checksum_as_v2`).
    WithoutPseudoHeader,
}

/// One VRRP advertisement, decoded.
///
/// `adver_int` is the raw interval field: whole seconds (8 bits) in v2, centiseconds
/// (12 bits) in v3. `auth_type`/`auth_data` exist in v2 only and are zero in v3.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Advert {
    /// Protocol version.
    pub version: Version,
    /// Virtual router id (1..=255; 0 is decoded but never matches an instance).
    pub vrid: u8,
    /// Sender's priority: 0 = stepping down, 255 = address owner.
    pub priority: u8,
    /// Advertisement interval, seconds (v2) or centiseconds (v3).
    pub adver_int: u16,
    /// v2 auth type (0 none, 1 password, 2 AH); 0 in v3.
    pub auth_type: u8,
    /// v2 authentication data (the password, NUL padded); zero in v3.
    pub auth_data: [u8; AUTH_DATA_LEN],
    /// The virtual addresses, all of the family of the IP header.
    pub addrs: Vec<IpAddr>,
}

/// Why bytes could not be decoded as an advert. Carries the VRID whenever the header was
/// long enough to hold it, so the right instance's counter can be bumped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than the 8-byte header.
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// Version nibble is neither 2 nor 3, or v2 arrived over IPv6.
    Version {
        /// The VRID in the header.
        vrid: u8,
        /// The version nibble.
        version: u8,
    },
    /// Type nibble is not ADVERTISEMENT (1).
    Type {
        /// The VRID in the header.
        vrid: u8,
        /// The type nibble.
        kind: u8,
    },
    /// Shorter than the header plus the addresses it announces (plus v2 auth data).
    Length {
        /// The VRID in the header.
        vrid: u8,
        /// The address count in the header.
        count: u8,
        /// Bytes needed.
        needed: usize,
        /// Bytes received.
        len: usize,
    },
    /// The checksum does not verify (with nor without the pseudo-header where both apply).
    Checksum {
        /// The VRID in the header.
        vrid: u8,
        /// The checksum field as received.
        found: u16,
    },
    /// The IP source and destination are of different families.
    Family {
        /// The VRID in the header.
        vrid: u8,
    },
}

impl DecodeError {
    /// The VRID from the header, when it was readable.
    pub fn vrid(&self) -> Option<u8> {
        match *self {
            DecodeError::TooShort { .. } => None,
            DecodeError::Version { vrid, .. }
            | DecodeError::Type { vrid, .. }
            | DecodeError::Length { vrid, .. }
            | DecodeError::Checksum { vrid, .. }
            | DecodeError::Family { vrid } => Some(vrid),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooShort { len } => {
                write!(f, "VRRP packet of {len} bytes is shorter than the header")
            }
            DecodeError::Version { vrid, version } => {
                write!(f, "VRID {vrid}: unsupported VRRP version {version}")
            }
            DecodeError::Type { vrid, kind } => {
                write!(f, "VRID {vrid}: VRRP type {kind} is not an advertisement")
            }
            DecodeError::Length {
                vrid,
                count,
                needed,
                len,
            } => write!(
                f,
                "VRID {vrid}: {count} addresses need {needed} bytes, packet has {len}"
            ),
            DecodeError::Checksum { vrid, found } => {
                write!(f, "VRID {vrid}: bad checksum {found:#06x}")
            }
            DecodeError::Family { vrid } => {
                write!(f, "VRID {vrid}: IP source and destination families differ")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why an advert could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// More than 255 addresses.
    TooManyAddresses(usize),
    /// An address, the source or the destination is not of the advert's family.
    MixedFamilies,
    /// VRRPv2 over IPv6.
    V2OverIpv6,
    /// The interval does not fit its field (v2: 255 s, v3: 4095 cs).
    Interval(u16),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::TooManyAddresses(n) => write!(f, "{n} addresses (at most 255)"),
            EncodeError::MixedFamilies => write!(f, "addresses of mixed families"),
            EncodeError::V2OverIpv6 => write!(f, "VRRPv2 cannot run over IPv6"),
            EncodeError::Interval(i) => write!(f, "interval {i} does not fit the field"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// RFC 1071 sum of 16-bit words (odd trailing byte padded with zero), not yet folded.
fn sum_words(mut acc: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for w in &mut chunks {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([w[0], w[1]])));
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([*last, 0])));
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // `acc` is <= 0xffff here.
    !(acc as u16)
}

/// The sum of the pseudo-header (RFC 5798 §5.2.8: IPv4 as in RFC 768, IPv6 as in RFC 8200
/// §8.1), for a VRRP message of `len` bytes. None when the families differ.
fn pseudo_header_sum(src: IpAddr, dst: IpAddr, len: usize) -> Option<u32> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut acc = sum_words(0, &s.octets());
            acc = sum_words(acc, &d.octets());
            acc = acc.wrapping_add(u32::from(IPPROTO_VRRP));
            Some(acc.wrapping_add((len & 0xffff) as u32))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut acc = sum_words(0, &s.octets());
            acc = sum_words(acc, &d.octets());
            let l = (len & 0xffff_ffff) as u32;
            acc = acc.wrapping_add(l >> 16).wrapping_add(l & 0xffff);
            Some(acc.wrapping_add(u32::from(IPPROTO_VRRP)))
        }
        _ => None,
    }
}

/// The checksum of `msg` (whose checksum field must be zero or will be treated as data),
/// with or without the pseudo-header.
pub fn checksum(msg: &[u8], pseudo: Option<(IpAddr, IpAddr)>) -> u16 {
    let start = match pseudo {
        Some((s, d)) => pseudo_header_sum(s, d, msg.len()).unwrap_or(0),
        None => 0,
    };
    fold(sum_words(start, msg))
}

fn addr_len(addr: IpAddr) -> usize {
    match addr {
        IpAddr::V4(_) => 4,
        IpAddr::V6(_) => 16,
    }
}

impl Advert {
    /// A v3 advert with no authentication fields.
    pub fn v3(vrid: u8, priority: u8, adver_int_cs: u16, addrs: Vec<IpAddr>) -> Advert {
        Advert {
            version: Version::V3,
            vrid,
            priority,
            adver_int: adver_int_cs,
            auth_type: AUTH_NONE,
            auth_data: [0; AUTH_DATA_LEN],
            addrs,
        }
    }

    /// A v2 advert (IPv4) with the given auth type and data.
    pub fn v2(
        vrid: u8,
        priority: u8,
        adver_int_s: u8,
        auth_type: u8,
        auth_data: [u8; AUTH_DATA_LEN],
        addrs: Vec<IpAddr>,
    ) -> Advert {
        Advert {
            version: Version::V2,
            vrid,
            priority,
            adver_int: u16::from(adver_int_s),
            auth_type,
            auth_data,
            addrs,
        }
    }

    /// The interval in microseconds (seconds for v2, centiseconds for v3).
    pub fn interval_micros(&self) -> u64 {
        match self.version {
            Version::V2 => u64::from(self.adver_int) * 1_000_000,
            Version::V3 => u64::from(self.adver_int) * 10_000,
        }
    }

    /// Length of the encoded message.
    pub fn encoded_len(&self) -> usize {
        let addrs: usize = self.addrs.iter().map(|a| addr_len(*a)).sum();
        HEADER_LEN
            + addrs
            + if self.version == Version::V2 {
                AUTH_DATA_LEN
            } else {
                0
            }
    }

    /// Encode for sending from `src` to `dst` (needed for the v3 pseudo-header).
    /// `kind` picks the v3/IPv4 checksum variant; v2 and IPv6 ignore it.
    pub fn encode(
        &self,
        src: IpAddr,
        dst: IpAddr,
        kind: ChecksumKind,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(src, dst, kind, &mut out)?;
        Ok(out)
    }

    /// Like [`Advert::encode`], appending to `out`.
    pub fn encode_into(
        &self,
        src: IpAddr,
        dst: IpAddr,
        kind: ChecksumKind,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        self.encode_addrs_into(self.addrs.iter().copied(), src, dst, kind, out)
    }

    /// Like [`Advert::encode_into`] with the address list `addrs` in place of
    /// `self.addrs` (which is ignored): lets a sender encode from its configuration without
    /// collecting the addresses first.
    pub(crate) fn encode_addrs_into<I>(
        &self,
        addrs: I,
        src: IpAddr,
        dst: IpAddr,
        kind: ChecksumKind,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError>
    where
        I: ExactSizeIterator<Item = IpAddr> + Clone,
    {
        let count =
            u8::try_from(addrs.len()).map_err(|_| EncodeError::TooManyAddresses(addrs.len()))?;
        let v6 = src.is_ipv6();
        if dst.is_ipv6() != v6 || addrs.clone().any(|a| a.is_ipv6() != v6) {
            return Err(EncodeError::MixedFamilies);
        }
        let start = out.len();
        out.push((self.version.number() << 4) | TYPE_ADVERT);
        out.push(self.vrid);
        out.push(self.priority);
        out.push(count);
        match self.version {
            Version::V2 => {
                if v6 {
                    return Err(EncodeError::V2OverIpv6);
                }
                let int = u8::try_from(self.adver_int)
                    .map_err(|_| EncodeError::Interval(self.adver_int))?;
                out.push(self.auth_type);
                out.push(int);
            }
            Version::V3 => {
                if self.adver_int > 0x0fff {
                    return Err(EncodeError::Interval(self.adver_int));
                }
                out.extend_from_slice(&self.adver_int.to_be_bytes());
            }
        }
        out.extend_from_slice(&[0, 0]);
        for a in addrs {
            match a {
                IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
            }
        }
        if self.version == Version::V2 {
            out.extend_from_slice(&self.auth_data);
        }
        let msg = &out[start..];
        let pseudo = match (self.version, kind, v6) {
            (Version::V2, _, _) => None,
            (Version::V3, ChecksumKind::WithoutPseudoHeader, false) => None,
            (Version::V3, _, _) => Some((src, dst)),
        };
        let sum = checksum(msg, pseudo);
        let c = start + field::CHECKSUM.start;
        out[c..c + 2].copy_from_slice(&sum.to_be_bytes());
        Ok(())
    }

    /// Decode and verify an advert received from `src` for `dst`. Trailing bytes beyond
    /// the message (Ethernet padding) are tolerated. Never panics. (Allocates the address
    /// list; [`AdvertRef::decode`] checks the same without allocating.)
    pub fn decode(
        bytes: &[u8],
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<(Advert, ChecksumKind), DecodeError> {
        AdvertRef::decode(bytes, src, dst).map(|(a, k)| (a.to_advert(), k))
    }

    /// Read only the VRID (to route a packet before a full decode). An `auth_type AH`
    /// advert, a whole IPv4 packet, is read after its IP and AH headers.
    pub fn peek_vrid(bytes: &[u8]) -> Option<u8> {
        bytes.get(Self::ah_offset(bytes)? + field::VRID).copied()
    }

    /// Where the advert starts in `bytes`: 0, or after the IP and AH headers of an AH
    /// packet (which starts with IP version 4; a VRRP header with 2 or 3).
    fn ah_offset(bytes: &[u8]) -> Option<usize> {
        if crate::ah::is_ipv4(bytes) {
            Some(usize::from(bytes.first()? & 0x0f) * 4 + crate::ah::AH_LEN)
        } else {
            Some(0)
        }
    }

    /// Read only the priority of an advert (one this host encoded, e.g. to log a
    /// priority-0 advert it sends, without decoding it again). An `auth_type AH` advert,
    /// a whole IPv4 packet, is read after its IP and AH headers.
    pub fn peek_priority(bytes: &[u8]) -> Option<u8> {
        bytes
            .get(Self::ah_offset(bytes)? + field::PRIORITY)
            .copied()
    }
}

/// A received advert, checked like [`Advert`] but borrowing the packet: the address list
/// stays in the received bytes (the receive path allocates nothing per packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertRef<'a> {
    /// Protocol version.
    pub version: Version,
    /// Virtual router id.
    pub vrid: u8,
    /// Sender's priority.
    pub priority: u8,
    /// Advertisement interval, seconds (v2) or centiseconds (v3).
    pub adver_int: u16,
    /// v2 auth type; 0 in v3.
    pub auth_type: u8,
    /// v2 authentication data; zero in v3.
    pub auth_data: [u8; AUTH_DATA_LEN],
    v6: bool,
    /// The address list, 4 or 16 bytes per address.
    addr_bytes: &'a [u8],
}

impl<'a> AdvertRef<'a> {
    /// Decode and verify an advert received from `src` for `dst`, borrowing `bytes`: the
    /// same checks as [`Advert::decode`], no allocation. Trailing bytes beyond the message
    /// (Ethernet padding) are tolerated. Never panics.
    pub fn decode(
        bytes: &'a [u8],
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<(AdvertRef<'a>, ChecksumKind), DecodeError> {
        if bytes.len() < HEADER_LEN {
            return Err(DecodeError::TooShort { len: bytes.len() });
        }
        let vrid = bytes[field::VRID];
        let version = bytes[field::VER_TYPE] >> 4;
        let kind = bytes[field::VER_TYPE] & 0x0f;
        if src.is_ipv6() != dst.is_ipv6() {
            return Err(DecodeError::Family { vrid });
        }
        let v6 = src.is_ipv6();
        let version = match version {
            2 if !v6 => Version::V2,
            3 => Version::V3,
            _ => return Err(DecodeError::Version { vrid, version }),
        };
        if kind != TYPE_ADVERT {
            return Err(DecodeError::Type { vrid, kind });
        }
        let count = bytes[field::COUNT];
        let alen = if v6 { 16 } else { 4 };
        let needed = HEADER_LEN
            + usize::from(count) * alen
            + if version == Version::V2 {
                AUTH_DATA_LEN
            } else {
                0
            };
        if bytes.len() < needed {
            return Err(DecodeError::Length {
                vrid,
                count,
                needed,
                len: bytes.len(),
            });
        }
        let found = u16::from_be_bytes([
            bytes[field::CHECKSUM.start],
            bytes[field::CHECKSUM.start + 1],
        ]);
        // A correct message sums (with its checksum in place) to zero after folding.
        let verify = |msg: &[u8], pseudo: Option<(IpAddr, IpAddr)>| checksum(msg, pseudo) == 0;
        let candidates: &[&[u8]] = if bytes.len() > needed {
            &[bytes, &bytes[..needed]]
        } else {
            &[bytes]
        };
        let mut matched = None;
        for msg in candidates {
            let ok = match version {
                Version::V2 => verify(msg, None).then_some(ChecksumKind::Standard),
                Version::V3 => {
                    if verify(msg, Some((src, dst))) {
                        Some(ChecksumKind::Standard)
                    } else if !v6 && verify(msg, None) {
                        Some(ChecksumKind::WithoutPseudoHeader)
                    } else {
                        None
                    }
                }
            };
            if ok.is_some() {
                matched = ok;
                break;
            }
        }
        let Some(sum_kind) = matched else {
            return Err(DecodeError::Checksum { vrid, found });
        };
        let (auth_type, adver_int) = match version {
            Version::V2 => (
                bytes[field::V2_AUTH_TYPE],
                u16::from(bytes[field::V2_ADVER_INT]),
            ),
            Version::V3 => (
                AUTH_NONE,
                u16::from_be_bytes([
                    bytes[field::V3_INTERVAL.start],
                    bytes[field::V3_INTERVAL.start + 1],
                ]) & 0x0fff,
            ),
        };
        let addr_bytes = &bytes[field::ADDRS..field::ADDRS + usize::from(count) * alen];
        let mut auth_data = [0u8; AUTH_DATA_LEN];
        if version == Version::V2 {
            let at = field::ADDRS + usize::from(count) * alen;
            auth_data.copy_from_slice(&bytes[at..at + AUTH_DATA_LEN]);
        }
        Ok((
            AdvertRef {
                version,
                vrid,
                priority: bytes[field::PRIORITY],
                adver_int,
                auth_type,
                auth_data,
                v6,
                addr_bytes,
            },
            sum_kind,
        ))
    }

    /// The number of addresses.
    pub fn addr_count(&self) -> usize {
        self.addr_bytes.len() / if self.v6 { 16 } else { 4 }
    }

    /// The addresses, in packet order.
    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> + 'a {
        let v6 = self.v6;
        self.addr_bytes
            .chunks_exact(if v6 { 16 } else { 4 })
            .map(move |c| {
                if v6 {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(c);
                    IpAddr::V6(Ipv6Addr::from(o))
                } else {
                    IpAddr::V4(Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                }
            })
    }

    /// Whether `addr` is in the address list (no allocation).
    pub fn has_addr(&self, addr: IpAddr) -> bool {
        match (addr, self.v6) {
            (IpAddr::V4(a), false) => {
                let o = a.octets();
                self.addr_bytes.chunks_exact(4).any(|c| c == o)
            }
            (IpAddr::V6(a), true) => {
                let o = a.octets();
                self.addr_bytes.chunks_exact(16).any(|c| c == o)
            }
            _ => false,
        }
    }

    /// The interval in microseconds (seconds for v2, centiseconds for v3).
    pub fn interval_micros(&self) -> u64 {
        match self.version {
            Version::V2 => u64::from(self.adver_int) * 1_000_000,
            Version::V3 => u64::from(self.adver_int) * 10_000,
        }
    }

    /// An owned [`Advert`] (allocates the address list).
    pub fn to_advert(&self) -> Advert {
        Advert {
            version: self.version,
            vrid: self.vrid,
            priority: self.priority,
            adver_int: self.adver_int,
            auth_type: self.auth_type,
            auth_data: self.auth_data,
            addrs: self.addrs().collect(),
        }
    }
}

/// The fixed 20-byte IPv4 header that carries an advert (no options).
///
/// ```text
///  0                   1                   2                   3
/// |Version|  IHL  |Type of Service|          Total Length         |
/// |         Identification        |Flags|      Fragment Offset    |
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// |                       Source Address                          |
/// |                    Destination Address                        |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Header {
    /// Type of service byte (keepalived sends 0xc0, network control).
    pub tos: u8,
    /// Total length of the datagram (header + payload).
    pub total_len: u16,
    /// Identification.
    pub id: u16,
    /// Flags and fragment offset (raw 16 bits).
    pub frag: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol (112 for VRRP).
    pub protocol: u8,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
}

/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;

impl Ipv4Header {
    /// Encode with a computed header checksum.
    pub fn encode(&self) -> [u8; IPV4_HEADER_LEN] {
        let mut h = [0u8; IPV4_HEADER_LEN];
        h[0] = 0x45;
        h[1] = self.tos;
        h[2..4].copy_from_slice(&self.total_len.to_be_bytes());
        h[4..6].copy_from_slice(&self.id.to_be_bytes());
        h[6..8].copy_from_slice(&self.frag.to_be_bytes());
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let sum = checksum(&h, None);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        h
    }

    /// Decode a header and return it with the offset of the payload (IHL may include
    /// options). None when too short, not IPv4, or the header checksum is wrong.
    pub fn decode(bytes: &[u8]) -> Option<(Ipv4Header, usize)> {
        let first = *bytes.first()?;
        if first >> 4 != 4 {
            return None;
        }
        let ihl = usize::from(first & 0x0f) * 4;
        if ihl < IPV4_HEADER_LEN || bytes.len() < ihl || checksum(&bytes[..ihl], None) != 0 {
            return None;
        }
        let u16_at = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        Some((
            Ipv4Header {
                tos: bytes[1],
                total_len: u16_at(2),
                id: u16_at(4),
                frag: u16_at(6),
                ttl: bytes[8],
                protocol: bytes[9],
                src: Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]),
                dst: Ipv4Addr::new(bytes[16], bytes[17], bytes[18], bytes[19]),
            },
            ihl,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn peek_reads_vrid_and_priority_of_an_encoded_advert() {
        let b = Advert::v3(7, 0, 100, vec![v4("192.0.2.1")])
            .encode(v4("192.0.2.10"), v4("224.0.0.18"), ChecksumKind::Standard)
            .unwrap();
        assert_eq!(Advert::peek_vrid(&b), Some(7));
        assert_eq!(Advert::peek_priority(&b), Some(0));
        assert_eq!(Advert::peek_priority(&b[..2]), None);
    }

    #[test]
    fn v2_round_trip_and_layout() {
        let a = Advert::v2(
            51,
            100,
            1,
            AUTH_PASS,
            *b"secret\0\0",
            vec![v4("10.0.0.100")],
        );
        let b = a
            .encode(v4("10.0.0.1"), v4("224.0.0.18"), ChecksumKind::Standard)
            .unwrap();
        assert_eq!(b.len(), 8 + 4 + 8);
        assert_eq!(&b[..6], &[0x21, 51, 100, 1, 1, 1]);
        assert_eq!(checksum(&b, None), 0);
        let (d, k) = Advert::decode(&b, v4("10.0.0.1"), v4("224.0.0.18")).unwrap();
        assert_eq!(d, a);
        assert_eq!(k, ChecksumKind::Standard);
    }

    #[test]
    fn v3_ipv4_both_checksums_accepted() {
        let a = Advert::v3(7, 200, 100, vec![v4("192.0.2.1"), v4("192.0.2.2")]);
        let (s, d) = (v4("192.0.2.10"), v4("224.0.0.18"));
        let std = a.encode(s, d, ChecksumKind::Standard).unwrap();
        let old = a.encode(s, d, ChecksumKind::WithoutPseudoHeader).unwrap();
        assert_ne!(std, old);
        assert_eq!(
            Advert::decode(&std, s, d).unwrap().1,
            ChecksumKind::Standard
        );
        assert_eq!(
            Advert::decode(&old, s, d).unwrap().1,
            ChecksumKind::WithoutPseudoHeader
        );
        let mut bad = std.clone();
        bad[2] ^= 1;
        assert!(matches!(
            Advert::decode(&bad, s, d),
            Err(DecodeError::Checksum { vrid: 7, .. })
        ));
    }

    #[test]
    fn v3_ipv6_round_trip_and_padding() {
        let a = Advert::v3(
            1,
            255,
            4095,
            vec!["fe80::1".parse().unwrap(), "2001:db8::1".parse().unwrap()],
        );
        let (s, d) = ("fe80::a".parse().unwrap(), IpAddr::V6(MCAST_V6));
        let mut b = a.encode(s, d, ChecksumKind::Standard).unwrap();
        b.extend_from_slice(&[0, 0, 0]);
        assert_eq!(Advert::decode(&b, s, d).unwrap().0, a);
        // v2 over IPv6 is refused both ways.
        let mut v2 = a.clone();
        v2.version = Version::V2;
        assert_eq!(
            v2.encode(s, d, ChecksumKind::Standard),
            Err(EncodeError::V2OverIpv6)
        );
        b[0] = 0x21;
        assert!(matches!(
            Advert::decode(&b, s, d),
            Err(DecodeError::Version { version: 2, .. })
        ));
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let (s, d) = (v4("10.0.0.1"), v4("224.0.0.18"));
        assert_eq!(
            Advert::decode(&[], s, d),
            Err(DecodeError::TooShort { len: 0 })
        );
        assert!(matches!(
            Advert::decode(&[0x31, 1, 1, 5, 0, 100, 0, 0], s, d),
            Err(DecodeError::Length { count: 5, .. })
        ));
        assert!(matches!(
            Advert::decode(&[0x32, 1, 1, 0, 0, 100, 0, 0], s, d),
            Err(DecodeError::Type { kind: 2, .. })
        ));
        assert!(matches!(
            Advert::decode(&[0x41, 1, 1, 0, 0, 100, 0, 0], s, d),
            Err(DecodeError::Version { version: 4, .. })
        ));
        assert!(matches!(
            Advert::decode(
                &[0x31, 1, 1, 0, 0, 100, 0, 0],
                s,
                "ff02::12".parse().unwrap()
            ),
            Err(DecodeError::Family { vrid: 1 })
        ));
    }

    #[test]
    fn ipv4_header_round_trip() {
        let h = Ipv4Header {
            tos: 0xc0,
            total_len: 40,
            id: 0x1234,
            frag: 0,
            ttl: 255,
            protocol: IPPROTO_VRRP,
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: MCAST_V4,
        };
        let b = h.encode();
        assert_eq!(Ipv4Header::decode(&b), Some((h, 20)));
        let mut bad = b;
        bad[8] = 1;
        assert_eq!(Ipv4Header::decode(&bad), None);
    }
}

#[cfg(test)]
mod max_addresses_tests {
    use super::{max_addresses, AdvertFrame, Version};

    fn frame(ipv6: bool, version: Version, ah: bool, hmac_trailer: bool) -> AdvertFrame {
        AdvertFrame {
            ipv6,
            version,
            ah,
            hmac_trailer,
        }
    }

    /// The limits keepalived 2.4.3 reported (`-t`, "max N addresses") on veths of MTU
    /// 1500 and 1000.
    #[test]
    fn the_limits_keepalived_2_4_3_reports() {
        let v2 = Version::V2;
        let v3 = Version::V3;
        for (mtu, f, max) in [
            (1500, frame(false, v2, false, false), 255),
            (1500, frame(false, v2, false, true), 255),
            (1500, frame(true, v3, false, false), 89),
            (1500, frame(true, v3, false, true), 88),
            (1000, frame(false, v2, false, false), 237),
            (1000, frame(false, v2, false, true), 230),
            (1000, frame(false, v2, true, false), 231),
            (1000, frame(false, v3, false, false), 239),
        ] {
            assert_eq!(max_addresses(mtu, f), max, "MTU {mtu} {f:?}");
        }
        // No room at all: none.
        assert_eq!(max_addresses(40, frame(true, v3, false, true)), 0);
    }
}
