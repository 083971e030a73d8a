//! The Internet checksum (RFC 1071), written apart from the crate's own so that the tests
//! check the bytes on the wire against an independent sum.

/// The complemented one's-complement sum of `chunks`, each read as 16-bit big-endian words
/// (an odd last byte padded with zero).
pub fn inet_checksum(chunks: &[&[u8]]) -> u16 {
    let mut s: u32 = 0;
    for data in chunks {
        for c in data.chunks(2) {
            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}
