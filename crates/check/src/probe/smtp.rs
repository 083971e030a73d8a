//! SMTP_CHECK: greeting 220, HELO -> 250, QUIT -> 2xx.

use std::sync::Arc;

use mio::{Registry, Token};

use crate::failure::Failure;
use crate::spec::Target;
use crate::wire::smtp;

use super::conn::{connect, Conn, Read0};
use super::step::{Ready, Step};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Greeting,
    Helo,
    Quit,
}

/// One attempt of an SMTP_CHECK.
pub struct SmtpProbe {
    /// `helo_name`; empty: the host name.
    helo: Arc<str>,
    conn: Conn,
    phase: Phase,
    out: Vec<u8>,
    reply: smtp::ReplyReader,
}

impl SmtpProbe {
    /// Connect; the server speaks first.
    pub fn start(
        helo: &Arc<str>,
        target: &Target,
        reg: &Registry,
        token: Token,
    ) -> Result<SmtpProbe, Step> {
        // The server speaks first: its greeting must not wait for our delayed ACK.
        let s = connect(target, false, reg, token).map_err(Step::Fail)?;
        Ok(SmtpProbe {
            helo: Arc::clone(helo),
            conn: Conn::Plain(s),
            phase: Phase::Connecting,
            out: Vec::new(),
            reply: smtp::ReplyReader::new(),
        })
    }

    /// The socket said something. `hostname` is the HELO name when none is configured.
    pub fn on_event(&mut self, hostname: &str, ready: Ready, buf: &mut [u8]) -> Step {
        self.drive(hostname, ready, buf).into()
    }

    /// What the attempt waits on, for the timeout message.
    pub fn waiting_for(&self) -> &'static str {
        match self.phase {
            Phase::Connecting => "connecting",
            Phase::Greeting => "waiting for the greeting",
            Phase::Helo => "waiting for the HELO reply",
            Phase::Quit => "waiting for the QUIT reply",
        }
    }

    fn drive(&mut self, hostname: &str, ready: Ready, buf: &mut [u8]) -> Result<Step, Failure> {
        if self.phase == Phase::Connecting {
            if !self.conn.connected(ready)? {
                return Ok(Step::Pending);
            }
            self.phase = Phase::Greeting;
        }
        if !self.conn.write_out(&mut self.out)? {
            return Ok(Step::Pending);
        }
        loop {
            let n = match self.conn.read_some(buf)? {
                Read0::WouldBlock => return Ok(Step::Pending),
                Read0::Eof => {
                    return Err(Failure::Closed(match self.phase {
                        Phase::Greeting => "waiting for the SMTP greeting",
                        Phase::Helo => "waiting for the HELO reply",
                        _ => "waiting for the QUIT reply",
                    }))
                }
                Read0::Data(n) => n,
            };
            let Some(code) = self.reply.feed(&buf[..n]).map_err(Failure::Smtp)? else {
                continue;
            };
            self.reply = smtp::ReplyReader::new();
            match self.phase {
                Phase::Greeting if code == 220 => {
                    let name = if self.helo.is_empty() {
                        hostname
                    } else {
                        &self.helo
                    };
                    self.out = format!("HELO {name}\r\n").into_bytes();
                    self.phase = Phase::Helo;
                }
                Phase::Helo if code == 250 => {
                    self.out = b"QUIT\r\n".to_vec();
                    self.phase = Phase::Quit;
                }
                Phase::Quit if (200..300).contains(&code) => return Ok(Step::Pass(None)),
                phase => {
                    let step = match phase {
                        Phase::Greeting | Phase::Connecting => "greeting",
                        Phase::Helo => "HELO",
                        Phase::Quit => "QUIT",
                    };
                    return Err(Failure::SmtpCode { step, code });
                }
            }
            if !self.conn.write_out(&mut self.out)? {
                return Ok(Step::Pending);
            }
        }
    }
}
