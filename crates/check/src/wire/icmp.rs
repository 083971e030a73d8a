//! ICMP and ICMPv6 echo request / reply for PING_CHECK.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type      |     Code      |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Identifier          |        Sequence Number        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Data ...
//! ```

mod field {
    pub const TYPE: usize = 0;
    pub const CHECKSUM: std::ops::Range<usize> = 2..4;
    pub const IDENT: std::ops::Range<usize> = 4..6;
    pub const SEQ: std::ops::Range<usize> = 6..8;
    pub const DATA: usize = 8;
}

/// ICMPv4 echo request / reply types.
pub const V4_REQUEST: u8 = 8;
/// ICMPv4 echo reply.
pub const V4_REPLY: u8 = 0;
/// ICMPv6 echo request.
pub const V6_REQUEST: u8 = 128;
/// ICMPv6 echo reply.
pub const V6_REPLY: u8 = 129;

/// An echo request or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// Message type.
    pub kind: u8,
    /// Identifier.
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
    /// Payload.
    pub data: Vec<u8>,
}

/// The Internet checksum.
pub fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = b.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Echo {
    /// Emit; the checksum is filled for ICMPv4 (the kernel computes ICMPv6's).
    pub fn emit(&self) -> Vec<u8> {
        let mut b = vec![0u8; field::DATA + self.data.len()];
        b[field::TYPE] = self.kind;
        b[field::IDENT].copy_from_slice(&self.ident.to_be_bytes());
        b[field::SEQ].copy_from_slice(&self.seq.to_be_bytes());
        b[field::DATA..].copy_from_slice(&self.data);
        if self.kind == V4_REQUEST || self.kind == V4_REPLY {
            let c = checksum(&b);
            b[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
        }
        b
    }

    /// Parse an ICMP message (without IP header); `None` when shorter than 8 bytes.
    pub fn parse(b: &[u8]) -> Option<Echo> {
        if b.len() < field::DATA {
            return None;
        }
        Some(Echo {
            kind: b[field::TYPE],
            ident: u16::from_be_bytes([b[4], b[5]]),
            seq: u16::from_be_bytes([b[6], b[7]]),
            data: b[field::DATA..].to_vec(),
        })
    }
}

/// Skip an IPv4 header (raw ICMP sockets deliver it); `None` when malformed.
pub fn strip_ipv4(b: &[u8]) -> Option<&[u8]> {
    let ihl = usize::from(*b.first()? & 0x0f) * 4;
    if *b.first()? >> 4 != 4 || ihl < 20 {
        return None;
    }
    b.get(ihl..)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn emit_parse() {
        let e = Echo {
            kind: V4_REQUEST,
            ident: 0x1234,
            seq: 7,
            data: b"ka".to_vec(),
        };
        let b = e.emit();
        assert_eq!(checksum(&b), 0);
        assert_eq!(Echo::parse(&b), Some(e));
        assert_eq!(Echo::parse(&b[..7]), None);
        let mut ip = vec![0x45u8; 20];
        ip.extend_from_slice(&b);
        assert_eq!(strip_ipv4(&ip), Some(&b[..]));
        assert_eq!(strip_ipv4(&[0x41]), None);
    }
}
