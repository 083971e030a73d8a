//! DNS over UDP for DNS_CHECK: one query (RD set, class IN) and a strict reader of the
//! reply (RFC 1035 §4.1).
//!
//! ```text
//!   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      ID                       |
//! |QR|   Opcode  |AA|TC|RD|RA|   Z    |   RCODE   |
//! |                    QDCOUNT                    |
//! |                    ANCOUNT                    |
//! |                    NSCOUNT                    |
//! |                    ARCOUNT                    |
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```
//! A reply passes when its id matches, QR is set, RCODE is NOERROR, TC is clear, the
//! question is ours, and every resource record in it is well formed.

use std::fmt;

mod field {
    pub const ID: std::ops::Range<usize> = 0..2;
    pub const FLAGS: std::ops::Range<usize> = 2..4;
    pub const QDCOUNT: std::ops::Range<usize> = 4..6;
    pub const ANCOUNT: std::ops::Range<usize> = 6..8;
    pub const NSCOUNT: std::ops::Range<usize> = 8..10;
    pub const ARCOUNT: std::ops::Range<usize> = 10..12;
    pub const HEADER_LEN: usize = 12;
}

const QR: u16 = 0x8000;
const TC: u16 = 0x0200;
const RD: u16 = 0x0100;
const CLASS_IN: u16 = 1;

/// Why a reply is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// Fewer bytes than the header or a record needs.
    Truncated,
    /// A reply to someone else's query.
    WrongId {
        /// Ours.
        expected: u16,
        /// Theirs.
        got: u16,
    },
    /// QR bit clear.
    NotAResponse,
    /// TC bit set.
    TruncatedFlag,
    /// RCODE not NOERROR.
    Rcode(u8),
    /// The question section is not the one we asked.
    WrongQuestion,
    /// A name with a bad label, a compression loop or a pointer out of the message.
    BadName,
    /// The query name cannot be encoded (label over 63 bytes, name over 255).
    BadQueryName(String),
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::Truncated => write!(f, "DNS reply truncated"),
            DnsError::WrongId { expected, got } => {
                write!(f, "DNS reply id {got:#06x}, expected {expected:#06x}")
            }
            DnsError::NotAResponse => write!(f, "DNS message is not a response"),
            DnsError::TruncatedFlag => write!(f, "DNS reply has the TC bit set"),
            DnsError::Rcode(r) => write!(f, "DNS reply rcode {r}"),
            DnsError::WrongQuestion => write!(f, "DNS reply answers another question"),
            DnsError::BadName => write!(f, "malformed name in DNS reply"),
            DnsError::BadQueryName(n) => write!(f, "cannot encode DNS name {n:?}"),
        }
    }
}

impl std::error::Error for DnsError {}

/// Encode a name as labels (`.` is the root).
pub fn encode_name(name: &str) -> Result<Vec<u8>, DnsError> {
    let mut out = Vec::new();
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() {
            if name.trim_end_matches('.').is_empty() {
                break;
            }
            return Err(DnsError::BadQueryName(name.into()));
        }
        if label.len() > 63 {
            return Err(DnsError::BadQueryName(name.into()));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    if out.len() > 255 {
        return Err(DnsError::BadQueryName(name.into()));
    }
    Ok(out)
}

/// The query message.
pub fn query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, DnsError> {
    let mut m = vec![0u8; field::HEADER_LEN];
    m[field::ID].copy_from_slice(&id.to_be_bytes());
    m[field::FLAGS].copy_from_slice(&RD.to_be_bytes());
    m[field::QDCOUNT].copy_from_slice(&1u16.to_be_bytes());
    m.extend_from_slice(&encode_name(name)?);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(m)
}

fn be16(m: &[u8], at: usize) -> Result<u16, DnsError> {
    let b = m.get(at..at + 2).ok_or(DnsError::Truncated)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

/// Read a (possibly compressed) name at `at`: its lower-cased text and the offset after it.
fn read_name(m: &[u8], mut at: usize) -> Result<(String, usize), DnsError> {
    let mut name = String::new();
    let mut end = None;
    let mut hops = 0;
    loop {
        let len = *m.get(at).ok_or(DnsError::Truncated)?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    let after = end.unwrap_or(at + 1);
                    if name.is_empty() {
                        name.push('.');
                    }
                    return Ok((name, after));
                }
                let label = m
                    .get(at + 1..at + 1 + usize::from(len))
                    .ok_or(DnsError::Truncated)?;
                name.push_str(&String::from_utf8_lossy(label).to_ascii_lowercase());
                name.push('.');
                if name.len() > 255 {
                    return Err(DnsError::BadName);
                }
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let ptr = usize::from(be16(m, at)? & 0x3fff);
                if end.is_none() {
                    end = Some(at + 2);
                }
                hops += 1;
                if hops > 32 || ptr >= m.len() {
                    return Err(DnsError::BadName);
                }
                at = ptr;
            }
            _ => return Err(DnsError::BadName),
        }
    }
}

/// What a good reply said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Number of answer records.
    pub answers: u16,
}

/// Judge a reply to `query(id, name, qtype)`.
pub fn check_reply(m: &[u8], id: u16, name: &str, qtype: u16) -> Result<Reply, DnsError> {
    if m.len() < field::HEADER_LEN {
        return Err(DnsError::Truncated);
    }
    let got = be16(m, field::ID.start)?;
    if got != id {
        return Err(DnsError::WrongId { expected: id, got });
    }
    let flags = be16(m, field::FLAGS.start)?;
    if flags & QR == 0 {
        return Err(DnsError::NotAResponse);
    }
    if flags & TC != 0 {
        return Err(DnsError::TruncatedFlag);
    }
    let rcode = (flags & 0x000f) as u8;
    if rcode != 0 {
        return Err(DnsError::Rcode(rcode));
    }
    if be16(m, field::QDCOUNT.start)? != 1 {
        return Err(DnsError::WrongQuestion);
    }
    let (qname, mut at) = read_name(m, field::HEADER_LEN)?;
    let mut want = name.trim_end_matches('.').to_ascii_lowercase();
    want.push('.');
    if qname != want || be16(m, at)? != qtype || be16(m, at + 2)? != CLASS_IN {
        return Err(DnsError::WrongQuestion);
    }
    at += 4;
    let answers = be16(m, field::ANCOUNT.start)?;
    let records = u32::from(answers)
        + u32::from(be16(m, field::NSCOUNT.start)?)
        + u32::from(be16(m, field::ARCOUNT.start)?);
    for _ in 0..records {
        let (_, after) = read_name(m, at)?;
        let rdlen = usize::from(be16(m, after + 8)?);
        at = after + 10 + rdlen;
        if at > m.len() {
            return Err(DnsError::Truncated);
        }
    }
    Ok(Reply { answers })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A reply to `query` with one answer record pointing back at the question name.
    pub(crate) fn answer(q: &[u8]) -> Vec<u8> {
        let mut r = q.to_vec();
        r[2] |= 0x80;
        r[7] = 1; // ANCOUNT
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        r
    }

    #[test]
    fn query_bytes() {
        let q = query(0xabcd, "example.com", 6).unwrap();
        assert_eq!(
            q,
            [
                0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p', b'l',
                b'e', 3, b'c', b'o', b'm', 0, 0, 6, 0, 1
            ]
        );
        assert_eq!(query(1, ".", 6).unwrap()[12..], [0, 0, 6, 0, 1]);
        assert!(query(1, "a..b", 6).is_err());
    }

    #[test]
    fn good_and_bad_replies() {
        let q = query(7, "Example.com.", 1).unwrap();
        let r = answer(&q);
        assert_eq!(
            check_reply(&r, 7, "example.com", 1),
            Ok(Reply { answers: 1 })
        );
        assert!(matches!(
            check_reply(&r, 8, "example.com", 1),
            Err(DnsError::WrongId { .. })
        ));
        assert_eq!(
            check_reply(&r[..r.len() - 1], 7, "example.com", 1),
            Err(DnsError::Truncated)
        );
        assert_eq!(
            check_reply(&q, 7, "example.com", 1),
            Err(DnsError::NotAResponse)
        );
        let mut bad = r.clone();
        bad[3] |= 3;
        assert_eq!(
            check_reply(&bad, 7, "example.com", 1),
            Err(DnsError::Rcode(3))
        );
        let mut tc = r.clone();
        tc[2] |= 0x02;
        assert_eq!(
            check_reply(&tc, 7, "example.com", 1),
            Err(DnsError::TruncatedFlag)
        );
        assert_eq!(
            check_reply(&r, 7, "other.com", 1),
            Err(DnsError::WrongQuestion)
        );
        // Compression loop.
        let mut lp = r.clone();
        let n = lp.len();
        lp[n - 16] = 0xc0;
        lp[n - 15] = (n - 16) as u8;
        assert_eq!(
            check_reply(&lp, 7, "example.com", 1),
            Err(DnsError::BadName)
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = check_reply(&data, 7, "example.com", 1);
        }
    }
}
