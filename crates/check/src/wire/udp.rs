//! UDP_CHECK's `payload` and `require_reply` patterns: hex bytes, where `x`/`X` nibbles in
//! `require_reply` match anything.

use std::fmt;

/// A `require_reply` pattern: each byte has a value and a mask of the bits that must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPattern {
    /// (value, mask) per byte.
    pub bytes: Vec<(u8, u8)>,
}

/// A hex string that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexError(pub String);

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad hex string {:?}", self.0)
    }
}

impl std::error::Error for HexError {}

fn nibbles(s: &str, wild: bool) -> Result<Vec<Option<u8>>, HexError> {
    let mut out = Vec::new();
    for c in s.chars() {
        if c.is_whitespace() || c == ':' {
            continue;
        }
        match c {
            'x' | 'X' if wild => out.push(None),
            _ => out.push(Some(c.to_digit(16).ok_or_else(|| HexError(s.into()))? as u8)),
        }
    }
    if out.len() % 2 != 0 {
        return Err(HexError(s.into()));
    }
    Ok(out)
}

/// Parse `payload` hex.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, HexError> {
    let n = nibbles(s, false)?;
    Ok(n.chunks(2)
        .map(|p| (p[0].unwrap_or(0) << 4) | p[1].unwrap_or(0))
        .collect())
}

impl ReplyPattern {
    /// Parse `require_reply` hex with `x` wildcards.
    pub fn parse(s: &str) -> Result<ReplyPattern, HexError> {
        let n = nibbles(s, true)?;
        let bytes = n
            .chunks(2)
            .map(|p| {
                let (hv, hm) = p[0].map_or((0, 0), |v| (v << 4, 0xf0));
                let (lv, lm) = p[1].map_or((0, 0), |v| (v, 0x0f));
                (hv | lv, hm | lm)
            })
            .collect();
        Ok(ReplyPattern { bytes })
    }

    /// Does `reply` start with the pattern?
    pub fn matches(&self, reply: &[u8]) -> bool {
        reply.len() >= self.bytes.len()
            && self.bytes.iter().zip(reply).all(|(&(v, m), &b)| b & m == v)
    }
}

/// Judge a reply: `Err(reason)` when it breaks the pattern or the length bounds
/// (`max == 0` means no upper bound).
pub fn check_reply(
    reply: &[u8],
    pattern: Option<&ReplyPattern>,
    min: usize,
    max: usize,
) -> Result<(), String> {
    if reply.len() < min {
        return Err(format!(
            "reply of {} bytes, shorter than {min}",
            reply.len()
        ));
    }
    if max != 0 && reply.len() > max {
        return Err(format!("reply of {} bytes, longer than {max}", reply.len()));
    }
    if let Some(p) = pattern {
        if !p.matches(reply) {
            return Err("reply does not match require_reply".into());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = ReplyPattern::parse("01xx0X").unwrap();
        assert!(p.matches(&[1, 0xab, 0x0f, 9]));
        assert!(!p.matches(&[2, 0xab, 0x0f]));
        assert!(!p.matches(&[1, 0xab, 0x1f]));
        assert!(!p.matches(&[1]));
        assert_eq!(
            parse_hex("dead BEEF").unwrap(),
            vec![0xde, 0xad, 0xbe, 0xef]
        );
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
        assert!(parse_hex("xx").is_err());
        assert!(check_reply(b"ab", None, 3, 0).is_err());
        assert!(check_reply(b"abcd", None, 0, 3).is_err());
        assert!(check_reply(b"abc", Some(&p), 0, 0).is_err());
    }
}
