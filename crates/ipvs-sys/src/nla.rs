//! Netlink attributes (TLVs): a writer that appends them to a buffer and a reader that
//! walks them without trusting any length it is given.

use crate::abi::nl::{NLA_HDRLEN, NLA_TYPE_MASK};
use crate::error::DecodeError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Round up to the 4-byte netlink alignment.
pub(crate) const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// Append one attribute with `payload`, padded to 4 bytes.
pub(crate) fn put(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = NLA_HDRLEN + payload.len();
    // Attribute lengths are u16; every IPVS attribute is far below that.
    buf.extend_from_slice(&(len.min(u16::MAX as usize) as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(buf.len() + (align(len) - len), 0);
}

pub(crate) fn put_u8(buf: &mut Vec<u8>, kind: u16, v: u8) {
    put(buf, kind, &[v]);
}
pub(crate) fn put_u16(buf: &mut Vec<u8>, kind: u16, v: u16) {
    put(buf, kind, &v.to_ne_bytes());
}
/// A u16 in network byte order (ports).
pub(crate) fn put_be16(buf: &mut Vec<u8>, kind: u16, v: u16) {
    put(buf, kind, &v.to_be_bytes());
}
pub(crate) fn put_u32(buf: &mut Vec<u8>, kind: u16, v: u32) {
    put(buf, kind, &v.to_ne_bytes());
}
pub(crate) fn put_u64(buf: &mut Vec<u8>, kind: u16, v: u64) {
    put(buf, kind, &v.to_ne_bytes());
}
/// A NUL-terminated string.
pub(crate) fn put_str(buf: &mut Vec<u8>, kind: u16, s: &str) {
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    put(buf, kind, &v);
}
/// An address as the kernel's 16-byte `union nf_inet_addr`.
pub(crate) fn put_addr(buf: &mut Vec<u8>, kind: u16, addr: IpAddr) {
    let mut raw = [0u8; 16];
    match addr {
        IpAddr::V4(a) => raw[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => raw.copy_from_slice(&a.octets()),
    }
    put(buf, kind, &raw);
}

/// Open a nested attribute; close it with [`nest_end`]. Like ipvsadm and the kernel's
/// IPVS code, the `NLA_F_NESTED` bit is not set.
pub(crate) fn nest_start(buf: &mut Vec<u8>, kind: u16) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    at
}

/// Close the nested attribute opened at `at`.
pub(crate) fn nest_end(buf: &mut [u8], at: usize) {
    let len = (buf.len() - at).min(u16::MAX as usize) as u16;
    if let Some(slot) = buf.get_mut(at..at + 2) {
        slot.copy_from_slice(&len.to_ne_bytes());
    }
}

/// Walks the attributes of a buffer; each item is `(type, payload)` with the
/// nested / byte-order bits masked off the type.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    data: &'a [u8],
}

impl<'a> Attrs<'a> {
    /// Attributes packed in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Attrs { data }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        let Some(hdr) = self.data.get(..NLA_HDRLEN) else {
            let have = self.data.len();
            self.data = &[];
            return Some(Err(DecodeError::Truncated {
                what: "attribute header",
                need: NLA_HDRLEN,
                have,
            }));
        };
        let len = u16::from_ne_bytes([hdr[0], hdr[1]]) as usize;
        let kind = u16::from_ne_bytes([hdr[2], hdr[3]]) & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || len > self.data.len() {
            let have = self.data.len();
            self.data = &[];
            return Some(Err(DecodeError::BadAttrLength { kind, len, have }));
        }
        let payload = &self.data[NLA_HDRLEN..len];
        let next = align(len).min(self.data.len());
        self.data = &self.data[next..];
        Some(Ok((kind, payload)))
    }
}

/// Is `kind` (as written) flagged nested? Used only by tests.
#[cfg(test)]
pub(crate) fn is_nested(kind: u16) -> bool {
    kind & crate::abi::nl::NLA_F_NESTED != 0
}

fn exact<const N: usize>(what: &'static str, p: &[u8]) -> Result<[u8; N], DecodeError> {
    p.try_into().map_err(|_| DecodeError::BadLength {
        what,
        expected: N,
        got: p.len(),
    })
}

pub(crate) fn get_u8(what: &'static str, p: &[u8]) -> Result<u8, DecodeError> {
    Ok(exact::<1>(what, p)?[0])
}
pub(crate) fn get_u16(what: &'static str, p: &[u8]) -> Result<u16, DecodeError> {
    Ok(u16::from_ne_bytes(exact(what, p)?))
}
pub(crate) fn get_be16(what: &'static str, p: &[u8]) -> Result<u16, DecodeError> {
    Ok(u16::from_be_bytes(exact(what, p)?))
}
pub(crate) fn get_u32(what: &'static str, p: &[u8]) -> Result<u32, DecodeError> {
    Ok(u32::from_ne_bytes(exact(what, p)?))
}
pub(crate) fn get_u64(what: &'static str, p: &[u8]) -> Result<u64, DecodeError> {
    Ok(u64::from_ne_bytes(exact(what, p)?))
}
/// A string with its NUL terminator (and any padding NULs) removed.
pub(crate) fn get_str(what: &'static str, p: &[u8]) -> Result<String, DecodeError> {
    let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
    std::str::from_utf8(&p[..end])
        .map(str::to_owned)
        .map_err(|_| DecodeError::NotUtf8 { what })
}
/// An address of family `af` from a 4- or 16-byte payload.
pub(crate) fn get_addr(what: &'static str, af: u16, p: &[u8]) -> Result<IpAddr, DecodeError> {
    use crate::abi::nl::{AF_INET, AF_INET6};
    match af {
        AF_INET if p.len() == 4 || p.len() == 16 => {
            Ok(IpAddr::V4(Ipv4Addr::new(p[0], p[1], p[2], p[3])))
        }
        AF_INET6 if p.len() == 16 => {
            let raw: [u8; 16] = exact(what, p)?;
            Ok(IpAddr::V6(Ipv6Addr::from(raw)))
        }
        AF_INET | AF_INET6 => Err(DecodeError::BadLength {
            what,
            expected: if af == AF_INET { 4 } else { 16 },
            got: p.len(),
        }),
        _ => Err(DecodeError::BadValue {
            what: "address family",
            value: u64::from(af),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back_padded_attributes() {
        let mut b = Vec::new();
        put_u8(&mut b, 1, 7);
        put_str(&mut b, 2, "wlc");
        let n = nest_start(&mut b, 3);
        put_be16(&mut b, 4, 80);
        nest_end(&mut b, n);
        assert_eq!(b.len() % 4, 0);
        let all: Vec<_> = Attrs::new(&b).collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(get_u8("x", all[0].1).unwrap(), 7);
        assert_eq!(get_str("x", all[1].1).unwrap(), "wlc");
        assert!(!is_nested(all[2].0));
        let inner: Vec<_> = Attrs::new(all[2].1).collect::<Result<_, _>>().unwrap();
        assert_eq!(get_be16("x", inner[0].1).unwrap(), 80);
    }

    #[test]
    fn rejects_lengths_that_lie() {
        // length 200 in a 8-byte buffer
        let b = [200u8, 0, 1, 0, 0, 0, 0, 0];
        assert!(matches!(
            Attrs::new(&b).next(),
            Some(Err(DecodeError::BadAttrLength { .. }))
        ));
        // length below the header
        let b = [2u8, 0, 1, 0];
        assert!(Attrs::new(&b).next().unwrap().is_err());
        // short header
        let b = [8u8, 0];
        assert!(Attrs::new(&b).next().unwrap().is_err());
    }
}
