//! The client side of one alert delivery, without I/O: feed it each [`Reply`], write what
//! it returns.
//!
//! ```text
//!  server: 220 greeting
//!  client: HELO helo_name          server: 250
//!  client: MAIL FROM:<from>        server: 250
//!  client: RCPT TO:<to>            server: 250 or 251   (once per address)
//!  client: DATA                    server: 354
//!  client: <message> .             server: 250          -> delivered
//!  client: QUIT                    server: 221 (not waited for)
//! ```
//!
//! Any other reply ends the dialogue: the client says QUIT and closes, and the stage is
//! reported with keepalived's name for it ("(E)SMTP", "HELO", "MAIL", "RCPT", "DATA",
//! "BODY"), as in keepalived 2.2.7's log line "Error processing RCPT cmd on SMTP server
//! [10.91.0.3]:25. SMTP status code = 550" (observed).

use super::command::Command;
use super::reply::Reply;

/// Where the dialogue is: which reply it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The server's greeting (220).
    Greeting,
    /// The reply to HELO (250).
    Helo,
    /// The reply to MAIL FROM (250).
    Mail,
    /// The reply to the RCPT TO for recipient `n` (0-based; 250 or 251).
    Rcpt(usize),
    /// The reply to DATA (354).
    Data,
    /// The reply to the message and its final `.` (250).
    Body,
    /// Finished: QUIT sent (or about to be).
    Done,
}

impl Stage {
    /// keepalived's word for the stage in its log lines.
    pub fn keepalived_name(self) -> &'static str {
        match self {
            Stage::Greeting => "(E)SMTP",
            Stage::Helo => "HELO",
            Stage::Mail => "MAIL",
            Stage::Rcpt(_) => "RCPT",
            Stage::Data => "DATA",
            Stage::Body => "BODY",
            Stage::Done => "QUIT",
        }
    }

    fn accepts(self, code: u16) -> bool {
        match self {
            Stage::Greeting => code == 220,
            Stage::Helo | Stage::Mail | Stage::Body => code == 250,
            Stage::Rcpt(_) => code == 250 || code == 251,
            Stage::Data => code == 354,
            Stage::Done => true,
        }
    }
}

/// Who the mail is from and to, and how we greet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The HELO argument.
    pub helo: String,
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO, in order.
    pub to: Vec<String>,
}

/// What the caller must do after a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Write these bytes, then read the next reply.
    Send(Vec<u8>),
    /// The server took the message. Write these bytes (QUIT) and close.
    Delivered(Vec<u8>),
    /// The server refused at `stage` with `code`. Write these bytes (QUIT) and close.
    Refused {
        /// The stage that failed.
        stage: Stage,
        /// The server's reply code.
        code: u16,
        /// QUIT.
        quit: Vec<u8>,
    },
}

/// One delivery in progress.
#[derive(Debug, Clone)]
pub struct Dialogue {
    envelope: Envelope,
    message: Vec<u8>,
    stage: Stage,
}

impl Dialogue {
    /// Start: the first thing to do is read the greeting. `message` is the DATA content
    /// with its final `.` line ([`super::Message::encode`]).
    pub fn new(envelope: Envelope, message: Vec<u8>) -> Dialogue {
        Dialogue {
            envelope,
            message,
            stage: Stage::Greeting,
        }
    }

    /// The reply we are waiting for.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The server replied: what next.
    pub fn on_reply(&mut self, reply: &Reply) -> Next {
        let stage = self.stage;
        if !stage.accepts(reply.code) {
            self.stage = Stage::Done;
            return Next::Refused {
                stage,
                code: reply.code,
                quit: Command::Quit.encode(),
            };
        }
        let (next, bytes) = match stage {
            Stage::Greeting => (
                Stage::Helo,
                Command::Helo(self.envelope.helo.clone()).encode(),
            ),
            Stage::Helo => (
                Stage::Mail,
                Command::MailFrom(self.envelope.from.clone()).encode(),
            ),
            Stage::Mail => self.rcpt_or_data(0),
            Stage::Rcpt(n) => self.rcpt_or_data(n + 1),
            Stage::Data => (Stage::Body, self.message.clone()),
            Stage::Body | Stage::Done => {
                self.stage = Stage::Done;
                return Next::Delivered(Command::Quit.encode());
            }
        };
        self.stage = next;
        Next::Send(bytes)
    }

    fn rcpt_or_data(&self, n: usize) -> (Stage, Vec<u8>) {
        match self.envelope.to.get(n) {
            Some(to) => (Stage::Rcpt(n), Command::RcptTo(to.clone()).encode()),
            None => (Stage::Data, Command::Data.encode()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialogue(to: &[&str]) -> Dialogue {
        Dialogue::new(
            Envelope {
                helo: "vm".into(),
                from: "kad@example.com".into(),
                to: to.iter().map(|s| s.to_string()).collect(),
            },
            b"MSG\r\n.\r\n".to_vec(),
        )
    }

    fn send(n: Next) -> Vec<u8> {
        match n {
            Next::Send(b) => b,
            other => panic!("expected Send, got {other:?}"),
        }
    }

    #[test]
    fn the_whole_dialogue_as_keepalived() {
        let mut d = dialogue(&["a@example.com", "b@example.org"]);
        assert_eq!(d.stage(), Stage::Greeting);
        assert_eq!(send(d.on_reply(&Reply::new(220, "hi"))), b"HELO vm\r\n");
        assert_eq!(
            send(d.on_reply(&Reply::new(250, "ok"))),
            b"MAIL FROM:<kad@example.com>\r\n"
        );
        assert_eq!(
            send(d.on_reply(&Reply::new(250, "ok"))),
            b"RCPT TO:<a@example.com>\r\n"
        );
        assert_eq!(d.stage(), Stage::Rcpt(0));
        assert_eq!(
            send(d.on_reply(&Reply::new(251, "will forward"))),
            b"RCPT TO:<b@example.org>\r\n"
        );
        assert_eq!(send(d.on_reply(&Reply::new(250, "ok"))), b"DATA\r\n");
        assert_eq!(send(d.on_reply(&Reply::new(354, "go"))), b"MSG\r\n.\r\n");
        assert_eq!(
            d.on_reply(&Reply::new(250, "queued")),
            Next::Delivered(b"QUIT\r\n".to_vec())
        );
        assert_eq!(d.stage(), Stage::Done);
    }

    #[test]
    fn refusals_name_the_stage_as_keepalived() {
        // (replies before the refusal, refused code, keepalived's stage word)
        let cases: [(usize, u16, &str); 6] = [
            (0, 554, "(E)SMTP"),
            (1, 550, "HELO"),
            (2, 550, "MAIL"),
            (3, 550, "RCPT"),
            (4, 550, "DATA"),
            (5, 552, "BODY"),
        ];
        let good = [220, 250, 250, 250, 354, 250];
        for (n, code, word) in cases {
            let mut d = dialogue(&["a@example.com"]);
            for c in &good[..n] {
                send(d.on_reply(&Reply::new(*c, "")));
            }
            match d.on_reply(&Reply::new(code, "no")) {
                Next::Refused {
                    stage,
                    code: c,
                    quit,
                } => {
                    assert_eq!(stage.keepalived_name(), word);
                    assert_eq!(c, code);
                    assert_eq!(quit, b"QUIT\r\n");
                }
                other => panic!("{word}: {other:?}"),
            }
            assert_eq!(d.stage(), Stage::Done);
        }
    }

    #[test]
    fn no_recipients_goes_to_data() {
        let mut d = dialogue(&[]);
        send(d.on_reply(&Reply::new(220, "")));
        send(d.on_reply(&Reply::new(250, "")));
        assert_eq!(send(d.on_reply(&Reply::new(250, ""))), b"DATA\r\n");
    }
}
