//! The mail keepalived writes after `DATA` (observed from keepalived 2.2.7):
//!
//! ```text
//! Date: Wed, 25 Nov 2026 06:14:02 +0000
//! From: kad@example.com
//! Subject: [R2] VRRP Instance VI_1 - Entering BACKUP state
//! X-Mailer: Keepalived
//! To: a@example.com, b@example.org
//!
//! => VRRP Instance is no longer owning VRRP VIPs <=
//!
//! .
//! ```
//!
//! Every line ends in CRLF; body lines starting with `.` are dot-stuffed (RFC 5321
//! §4.5.2). [`Message::encode`] writes that (terminating `.` line included) and
//! [`Message::parse`] reads it back (used by test servers).

use super::command::one_line;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `X-Mailer` header keepalived writes; kept so existing mail filters still match.
pub const X_MAILER: &str = "Keepalived";

/// One alert mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `Date:` value (see [`rfc5322_date`]).
    pub date: String,
    /// `From:` value.
    pub from: String,
    /// `Subject:` value.
    pub subject: String,
    /// `To:` addresses (written comma-separated).
    pub to: Vec<String>,
    /// The text (lines separated by `\n`).
    pub body: String,
}

/// Why DATA content is not a message as we write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// No empty line between the headers and the body.
    NoBody,
    /// A required header is missing.
    MissingHeader(&'static str),
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::NoBody => write!(f, "no empty line after the mail headers"),
            MessageError::MissingHeader(h) => write!(f, "mail without a {h}: header"),
        }
    }
}

impl std::error::Error for MessageError {}

impl Message {
    /// The DATA content, up to and including the terminating `.` line.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        let mut header = |name: &str, value: &str| {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&one_line(value));
            out.push_str("\r\n");
        };
        header("Date", &self.date);
        header("From", &self.from);
        header("Subject", &self.subject);
        header("X-Mailer", X_MAILER);
        header("To", &self.to.join(", "));
        out.push_str("\r\n");
        for line in self.body.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with('.') {
                out.push('.');
            }
            out.push_str(&line.replace('\r', ""));
            out.push_str("\r\n");
        }
        out.push_str("\r\n.\r\n");
        out.into_bytes()
    }

    /// Read DATA content back (with or without the final `.` line). Unknown headers are
    /// ignored; trailing empty body lines are dropped.
    pub fn parse(data: &[u8]) -> Result<Message, MessageError> {
        let text = String::from_utf8_lossy(data);
        let mut lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        while lines.last().is_some_and(|l| l.is_empty() || *l == ".") {
            lines.pop();
        }
        let unstuff = |l: &str| l.strip_prefix('.').unwrap_or(l).to_string();
        let blank = lines
            .iter()
            .position(|l| l.is_empty())
            .ok_or(MessageError::NoBody)?;
        let (mut date, mut from, mut subject, mut to) = (None, None, None, None);
        for l in &lines[..blank] {
            let l = unstuff(l);
            let Some((name, value)) = l.split_once(':') else {
                continue;
            };
            let value = value.trim().to_string();
            match name.to_ascii_lowercase().as_str() {
                "date" => date = Some(value),
                "from" => from = Some(value),
                "subject" => subject = Some(value),
                "to" => {
                    to = Some(
                        value
                            .split(',')
                            .map(|a| a.trim().to_string())
                            .filter(|a| !a.is_empty())
                            .collect(),
                    )
                }
                _ => {}
            }
        }
        let body: Vec<String> = lines[blank + 1..].iter().map(|l| unstuff(l)).collect();
        Ok(Message {
            date: date.ok_or(MessageError::MissingHeader("Date"))?,
            from: from.ok_or(MessageError::MissingHeader("From"))?,
            subject: subject.ok_or(MessageError::MissingHeader("Subject"))?,
            to: to.ok_or(MessageError::MissingHeader("To"))?,
            body: body.join("\n"),
        })
    }
}

/// `Wed, 25 Nov 2026 06:14:02 +0000`: the RFC 5322 date keepalived writes. We always
/// write UTC (`+0000`); keepalived writes local time with its offset (the same instant).
pub fn rfc5322_date(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(0),
    };
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const WDAY: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 1970-01-01 was a Thursday.
    let wday = WDAY[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)];
    let mon = MON[usize::try_from(m - 1).unwrap_or(0).min(11)];
    format!(
        "{wday}, {d:02} {mon} {y} {:02}:{:02}:{:02} +0000",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to (year, month 1..12, day 1..31), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Byte for byte what keepalived 2.2.7 sent to our sink (run of 2026-11-25).
    const OBSERVED: &[u8] = b"Date: Wed, 25 Nov 2026 06:14:02 +0000\r\n\
From: kad@example.com\r\n\
Subject: [R2] VRRP Instance VI_1 - Entering BACKUP state\r\n\
X-Mailer: Keepalived\r\n\
To: a@example.com, b@example.org\r\n\
\r\n\
=> VRRP Instance is no longer owning VRRP VIPs <=\r\n\
\r\n\
.\r\n";

    fn observed() -> Message {
        Message {
            date: "Wed, 25 Nov 2026 06:14:02 +0000".into(),
            from: "kad@example.com".into(),
            subject: "[R2] VRRP Instance VI_1 - Entering BACKUP state".into(),
            to: vec!["a@example.com".into(), "b@example.org".into()],
            body: "=> VRRP Instance is no longer owning VRRP VIPs <=".into(),
        }
    }

    #[test]
    fn matches_keepalived_both_ways() {
        assert_eq!(observed().encode(), OBSERVED);
        assert_eq!(Message::parse(OBSERVED).unwrap(), observed());
    }

    #[test]
    fn dot_stuffing_and_header_injection() {
        let mut m = observed();
        m.body = ".hidden\n..two\nplain".into();
        m.subject = "a\r\nBcc: evil@x".into();
        let bytes = m.encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\r\n..hidden\r\n...two\r\nplain\r\n"));
        assert!(text.contains("Subject: aBcc: evil@x\r\n"));
        let back = Message::parse(&bytes).unwrap();
        assert_eq!(back.body, m.body);
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Message::parse(b"From: x\r\n"), Err(MessageError::NoBody));
        assert_eq!(
            Message::parse(b"From: x\r\n\r\nbody\r\n"),
            Err(MessageError::MissingHeader("Date"))
        );
    }

    #[test]
    fn dates() {
        let at = |s: u64| rfc5322_date(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        // The Date of the observed keepalived mail.
        assert_eq!(at(1_795_587_242), "Wed, 25 Nov 2026 06:14:02 +0000");
        assert_eq!(at(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(at(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 +0000");
        assert_eq!(at(4_107_542_399), "Sun, 28 Feb 2100 23:59:59 +0000");
        assert_eq!(
            rfc5322_date(UNIX_EPOCH - Duration::from_secs(1)),
            "Wed, 31 Dec 1969 23:59:59 +0000"
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = Message::parse(&bytes);
        }
    }
}
