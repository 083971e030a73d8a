//! The SMTP commands an alert needs (RFC 5321 §4.1.1), as keepalived writes them:
//!
//! ```text
//! HELO <helo name>CRLF
//! MAIL FROM:<address>CRLF
//! RCPT TO:<address>CRLF        (one per notification_email address)
//! DATA CRLF
//! QUIT CRLF
//! ```
//!
//! keepalived 2.2.7 says `HELO`, not `EHLO` (observed), so we do too. [`Command::parse`]
//! reads a command line back (used by test servers).

use std::fmt;

/// One command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `HELO name`.
    Helo(String),
    /// `EHLO name` (parsed only; we never send it).
    Ehlo(String),
    /// `MAIL FROM:<address>`.
    MailFrom(String),
    /// `RCPT TO:<address>`.
    RcptTo(String),
    /// `DATA`.
    Data,
    /// `QUIT`.
    Quit,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
}

/// Why a line is not a command we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The line does not end in LF.
    Unterminated,
    /// An unknown verb (the verb as sent, lossily decoded).
    UnknownVerb(String),
    /// `MAIL`/`RCPT` without `FROM:<..>` / `TO:<..>`.
    BadPath(&'static str),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Unterminated => write!(f, "command line without CRLF"),
            CommandError::UnknownVerb(v) => write!(f, "unknown SMTP command '{v}'"),
            CommandError::BadPath(verb) => write!(f, "{verb} without a <path> argument"),
        }
    }
}

impl std::error::Error for CommandError {}

/// Drop CR and LF so an argument cannot end the line early (no command injection from a
/// configured name or address).
pub(crate) fn one_line(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

impl Command {
    /// The line, CRLF included.
    pub fn encode(&self) -> Vec<u8> {
        let s = match self {
            Command::Helo(n) => format!("HELO {}", one_line(n)),
            Command::Ehlo(n) => format!("EHLO {}", one_line(n)),
            Command::MailFrom(a) => format!("MAIL FROM:<{}>", one_line(a)),
            Command::RcptTo(a) => format!("RCPT TO:<{}>", one_line(a)),
            Command::Data => "DATA".to_string(),
            Command::Quit => "QUIT".to_string(),
            Command::Rset => "RSET".to_string(),
            Command::Noop => "NOOP".to_string(),
        };
        let mut out = s.into_bytes();
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Parse one command line (CRLF or bare LF at the end). Verbs are case-insensitive.
    pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
        let line = line.strip_suffix(b"\n").ok_or(CommandError::Unterminated)?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = String::from_utf8_lossy(line);
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v, a.trim()),
            None => (text.as_ref(), ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "HELO" => Ok(Command::Helo(arg.to_string())),
            "EHLO" => Ok(Command::Ehlo(arg.to_string())),
            "MAIL" => path(arg, "FROM:")
                .map(Command::MailFrom)
                .ok_or(CommandError::BadPath("MAIL")),
            "RCPT" => path(arg, "TO:")
                .map(Command::RcptTo)
                .ok_or(CommandError::BadPath("RCPT")),
            "DATA" => Ok(Command::Data),
            "QUIT" => Ok(Command::Quit),
            "RSET" => Ok(Command::Rset),
            "NOOP" => Ok(Command::Noop),
            _ => Err(CommandError::UnknownVerb(verb.to_string())),
        }
    }
}

/// `FROM:<a@b>` (prefix case-insensitive, spaces after the colon tolerated) -> `a@b`.
fn path(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg.get(prefix.len()..)?.trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_lines_both_ways() {
        // As keepalived 2.2.7 sent them to our sink.
        let cases: [(&[u8], Command); 5] = [
            (b"HELO vm\r\n", Command::Helo("vm".into())),
            (
                b"MAIL FROM:<kad@example.com>\r\n",
                Command::MailFrom("kad@example.com".into()),
            ),
            (
                b"RCPT TO:<a@example.com>\r\n",
                Command::RcptTo("a@example.com".into()),
            ),
            (b"DATA\r\n", Command::Data),
            (b"QUIT\r\n", Command::Quit),
        ];
        for (bytes, cmd) in cases {
            assert_eq!(cmd.encode(), bytes);
            assert_eq!(Command::parse(bytes).unwrap(), cmd);
        }
    }

    #[test]
    fn lenient_parse_and_errors() {
        assert_eq!(
            Command::parse(b"mail from: <x@y>\n").unwrap(),
            Command::MailFrom("x@y".into())
        );
        assert_eq!(Command::parse(b"DATA"), Err(CommandError::Unterminated));
        assert_eq!(
            Command::parse(b"RCPT x@y\r\n"),
            Err(CommandError::BadPath("RCPT"))
        );
        assert_eq!(
            Command::parse(b"VRFY x\r\n"),
            Err(CommandError::UnknownVerb("VRFY".into()))
        );
        assert!(Command::parse(b"\xff\xfe\n").is_err());
    }

    #[test]
    fn no_injection() {
        let c = Command::Helo("a\r\nRCPT TO:<evil>".into());
        assert_eq!(c.encode(), b"HELO aRCPT TO:<evil>\r\n");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = Command::parse(&bytes);
        }
    }
}
