//! SMTP replies (RFC 5321 §4.2): `250 OK`, or several lines `250-...` / `250 ...`.
//!
//! ```text
//!  Reply-line = *( Reply-code "-" [ textstring ] CRLF )
//!               Reply-code [ SP textstring ] CRLF
//!  Reply-code = %x32-35 %x30-35 %x30-39
//! ```
//!
//! [`Reply::parse`] takes whatever has arrived so far and says whether a whole reply is
//! there; it never panics and refuses replies larger than [`MAX_REPLY`] bytes, lines longer
//! than [`MAX_LINE`] bytes and more than [`MAX_LINES`] lines, so a hostile or broken server
//! cannot make the sender buffer without bound. [`Reply::encode`] is the other direction
//! (used by test servers).

use std::fmt;

/// Longest reply line accepted, CRLF included (RFC 5321 §4.5.3.1.5 allows 512; we allow twice).
pub const MAX_LINE: usize = 1024;
/// Most lines in one multi-line reply.
pub const MAX_LINES: usize = 64;
/// Most bytes buffered for one reply.
pub const MAX_REPLY: usize = 16 * 1024;

/// One complete reply: its code and the text of each line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code (200..=599 as parsed; any value when built).
    pub code: u16,
    /// The text after the code on each line (without the separator and CRLF).
    pub lines: Vec<String>,
}

/// Why bytes from the server are not a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// A line longer than [`MAX_LINE`].
    LineTooLong {
        /// 1-based line number within the reply.
        line: usize,
    },
    /// More than [`MAX_LINES`] lines, or more than [`MAX_REPLY`] bytes.
    TooLong,
    /// A line that does not start with three digits (first digit 1..5).
    BadCode {
        /// 1-based line number within the reply.
        line: usize,
    },
    /// The fourth byte is neither a space nor a hyphen.
    BadSeparator {
        /// 1-based line number within the reply.
        line: usize,
    },
    /// The lines of a multi-line reply carry different codes.
    MixedCodes {
        /// The first line's code.
        first: u16,
        /// The differing code.
        then: u16,
    },
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::LineTooLong { line } => {
                write!(f, "reply line {line} is longer than {MAX_LINE} bytes")
            }
            ReplyError::TooLong => write!(
                f,
                "reply longer than {MAX_LINES} lines or {MAX_REPLY} bytes"
            ),
            ReplyError::BadCode { line } => {
                write!(f, "reply line {line} does not start with a 3-digit code")
            }
            ReplyError::BadSeparator { line } => {
                write!(
                    f,
                    "reply line {line}: the code is followed by neither ' ' nor '-'"
                )
            }
            ReplyError::MixedCodes { first, then } => {
                write!(f, "multi-line reply mixes codes {first} and {then}")
            }
        }
    }
}

impl std::error::Error for ReplyError {}

impl Reply {
    /// A one-line reply.
    pub fn new(code: u16, text: &str) -> Reply {
        Reply {
            code,
            lines: vec![text.to_string()],
        }
    }

    /// 2xx: the command succeeded.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The reply as sent on the wire: `CODE-text` lines, then `CODE text`, each with CRLF.
    /// CR and LF inside the texts are dropped.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let n = self.lines.len().max(1);
        for i in 0..n {
            let text = self.lines.get(i).map_or("", String::as_str);
            let sep = if i + 1 == n { ' ' } else { '-' };
            out.extend_from_slice(format!("{:03}{sep}", self.code % 1000).as_bytes());
            out.extend(text.bytes().filter(|b| *b != b'\r' && *b != b'\n'));
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Parse one reply from the start of `buf`. `Ok(None)`: not complete yet (read more).
    /// `Ok(Some((reply, used)))`: a reply and how many bytes it took. Lines may end in CRLF
    /// or a bare LF.
    pub fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
        let mut pos = 0;
        let mut code = None;
        let mut lines = Vec::new();
        loop {
            let n = lines.len() + 1;
            let rest = buf.get(pos..).unwrap_or_default();
            let Some(nl) = rest.iter().position(|b| *b == b'\n') else {
                if rest.len() > MAX_LINE {
                    return Err(ReplyError::LineTooLong { line: n });
                }
                if buf.len() > MAX_REPLY {
                    return Err(ReplyError::TooLong);
                }
                return Ok(None);
            };
            if nl + 1 > MAX_LINE {
                return Err(ReplyError::LineTooLong { line: n });
            }
            let raw = &rest[..nl];
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let this = parse_code(line).ok_or(ReplyError::BadCode { line: n })?;
            let last = match line.get(3) {
                None | Some(b' ') => true,
                Some(b'-') => false,
                Some(_) => return Err(ReplyError::BadSeparator { line: n }),
            };
            match code {
                None => code = Some(this),
                Some(first) if first != this => {
                    return Err(ReplyError::MixedCodes { first, then: this })
                }
                Some(_) => {}
            }
            lines.push(String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned());
            pos += nl + 1;
            if last {
                return Ok(Some((Reply { code: this, lines }, pos)));
            }
            if lines.len() >= MAX_LINES || pos > MAX_REPLY {
                return Err(ReplyError::TooLong);
            }
        }
    }
}

fn parse_code(line: &[u8]) -> Option<u16> {
    match line.get(..3)? {
        [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_both_ways() {
        let bytes = b"220 sink ESMTP\r\n";
        let (r, used) = Reply::parse(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(r, Reply::new(220, "sink ESMTP"));
        assert_eq!(r.encode(), bytes);
    }

    #[test]
    fn multi_line_both_ways() {
        let bytes = b"250-mx.example\r\n250-SIZE 100\r\n250 HELP\r\n";
        let (r, used) = Reply::parse(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(r.code, 250);
        assert_eq!(r.lines, ["mx.example", "SIZE 100", "HELP"]);
        assert_eq!(r.encode(), bytes);
    }

    #[test]
    fn partial_bare_lf_and_code_only() {
        assert_eq!(Reply::parse(b"250-a\r\n250 b").unwrap(), None);
        assert_eq!(Reply::parse(b"").unwrap(), None);
        let (r, used) = Reply::parse(b"221\nrest").unwrap().unwrap();
        assert_eq!((r.code, used), (221, 4));
        assert_eq!(r.lines, [""]);
        // Two replies back to back: the first one only.
        let (r, used) = Reply::parse(b"250 a\r\n354 b\r\n").unwrap().unwrap();
        assert_eq!((r.code, used), (250, 7));
    }

    #[test]
    fn errors() {
        let cases: [(&[u8], ReplyError); 5] = [
            (b"hello\r\n", ReplyError::BadCode { line: 1 }),
            (b"25\r\n", ReplyError::BadCode { line: 1 }),
            (b"650 x\r\n", ReplyError::BadCode { line: 1 }),
            (b"250x\r\n", ReplyError::BadSeparator { line: 1 }),
            (
                b"250-a\r\n251 b\r\n",
                ReplyError::MixedCodes {
                    first: 250,
                    then: 251,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(Reply::parse(text), Err(want), "{text:?}");
        }
        let long = vec![b'2'; MAX_LINE + 1];
        assert_eq!(
            Reply::parse(&long),
            Err(ReplyError::LineTooLong { line: 1 })
        );
        let mut many = Vec::new();
        for _ in 0..MAX_LINES {
            many.extend_from_slice(b"250-x\r\n");
        }
        assert_eq!(Reply::parse(&many), Err(ReplyError::TooLong));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let _ = Reply::parse(&bytes);
        }

        #[test]
        fn encode_parses_back(code in 200u16..600, lines in proptest::collection::vec("[ -~]{0,40}", 1..5)) {
            let r = Reply { code, lines };
            let bytes = r.encode();
            let (back, used) = Reply::parse(&bytes).unwrap().unwrap();
            proptest::prop_assert_eq!(used, bytes.len());
            proptest::prop_assert_eq!(back, r);
        }
    }
}
