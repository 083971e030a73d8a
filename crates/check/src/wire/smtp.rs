//! SMTP replies for SMTP_CHECK: `NNN-text` continuation lines and a final `NNN text` line.
//! The dialogue is greeting 220, `HELO name` -> 250, `QUIT` -> 221.

use std::fmt;

/// Longest reply (all its lines) accepted.
pub const MAX_REPLY: usize = 16 * 1024;

/// Why a reply is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpError {
    /// A line does not start with three digits and ` `/`-`.
    BadLine(String),
    /// The reply grew past [`MAX_REPLY`].
    TooLong,
    /// Continuation lines carry different codes.
    MixedCodes,
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmtpError::BadLine(l) => write!(f, "malformed SMTP reply line {l:?}"),
            SmtpError::TooLong => write!(f, "SMTP reply longer than {MAX_REPLY} bytes"),
            SmtpError::MixedCodes => write!(f, "SMTP reply lines with different codes"),
        }
    }
}

impl std::error::Error for SmtpError {}

/// Incremental reader of one reply.
#[derive(Debug, Default, Clone)]
pub struct ReplyReader {
    buf: Vec<u8>,
    code: Option<u16>,
}

impl ReplyReader {
    /// A reader for the next reply.
    pub fn new() -> ReplyReader {
        ReplyReader::default()
    }

    /// Feed bytes; `Ok(Some(code))` once the final line came. Bytes after it are dropped
    /// (a server must not pipeline replies we did not ask for).
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<u16>, SmtpError> {
        self.buf.extend_from_slice(data);
        loop {
            let Some(nl) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > MAX_REPLY {
                    return Err(SmtpError::TooLong);
                }
                return Ok(None);
            };
            let line: Vec<u8> = self.buf.drain(..=nl).collect();
            let line = line.strip_suffix(b"\n").unwrap_or(&line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let (code, last) = parse_line(line)?;
            if self.code.is_some_and(|c| c != code) {
                return Err(SmtpError::MixedCodes);
            }
            self.code = Some(code);
            if last {
                self.buf.clear();
                return Ok(Some(code));
            }
        }
    }
}

/// One reply line: (code, is it the last line).
pub fn parse_line(line: &[u8]) -> Result<(u16, bool), SmtpError> {
    let bad = || SmtpError::BadLine(String::from_utf8_lossy(&line[..line.len().min(80)]).into());
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let code = line[..3]
        .iter()
        .fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
    match line.get(3) {
        None | Some(b' ') => Ok((code, true)),
        Some(b'-') => Ok((code, false)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_reply() {
        let mut r = ReplyReader::new();
        assert_eq!(r.feed(b"250-mx.example\r\n250-PIPE").unwrap(), None);
        assert_eq!(r.feed(b"LINING\r\n250 OK\r\n").unwrap(), Some(250));
        let mut r = ReplyReader::new();
        assert_eq!(r.feed(b"220\r\n").unwrap(), Some(220));
    }

    #[test]
    fn bad_replies() {
        assert!(ReplyReader::new().feed(b"hello\r\n").is_err());
        assert!(ReplyReader::new().feed(b"250-a\r\n251 b\r\n").is_err());
        assert_eq!(
            ReplyReader::new().feed(&vec![b'2'; MAX_REPLY + 1]),
            Err(SmtpError::TooLong)
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let _ = ReplyReader::new().feed(&data);
        }
    }
}
