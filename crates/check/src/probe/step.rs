//! What every probe shares: the verdict of a step ([`Step`]), what a readiness event said
//! ([`Ready`]) and the context every attempt may need ([`Ctx`]).

use crate::failure::Failure;
use crate::tls::TlsContext;

/// What an attempt says after an event: the one result type of every probe.
#[derive(Debug)]
pub enum Step {
    /// Still waiting.
    Pending,
    /// Not finished, but used its read budget for this turn: call again next turn (the
    /// socket may still hold data, and edge-triggered readiness will not say so again).
    Yield,
    /// Passed, optionally with a dynamic weight (MISC_CHECK `misc_dynamic`, FILE_CHECK).
    Pass(Option<i64>),
    /// Failed.
    Fail(Failure),
}

impl From<Result<Step, Failure>> for Step {
    /// A probe written with `?` on its I/O: an error is a failed attempt.
    fn from(r: Result<Step, Failure>) -> Step {
        r.unwrap_or_else(Step::Fail)
    }
}

/// What a readiness event said about an attempt's socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    /// Writable, or an error / hang-up that a write would report.
    pub writable: bool,
    /// Writable with neither an error nor a hang-up flag: a non-blocking connect has
    /// completed, so `SO_ERROR` need not be asked.
    pub connected: bool,
    /// Readable: data, end of stream or an error may be waiting.
    pub readable: bool,
}

impl Ready {
    /// Read what a mio event says.
    pub fn of(e: &mio::event::Event) -> Ready {
        let writable = e.is_writable() || e.is_error() || e.is_write_closed();
        Ready {
            writable,
            connected: e.is_writable() && !e.is_error() && !e.is_write_closed(),
            readable: e.is_readable() || e.is_read_closed() || e.is_error(),
        }
    }

    /// Nothing known (a new connection, or a probe called again to go on reading).
    pub const NONE: Ready = Ready {
        writable: false,
        connected: false,
        readable: false,
    };

    /// Data may be left to read (a probe that used its read budget).
    pub const READ_AGAIN: Ready = Ready {
        writable: false,
        connected: false,
        readable: true,
    };
}

/// What every probe may need besides its own settings.
#[derive(Debug)]
pub struct Ctx {
    /// TLS configs (built from the `SSL` block), if any SSL_GET exists.
    pub tls: Option<TlsContext>,
    /// Host name for SMTP HELO when none is configured.
    pub hostname: String,
    /// A small PRNG state (query ids, echo ids).
    pub rng: u64,
}

impl Ctx {
    /// Next pseudo-random 16-bit value (xorshift).
    pub fn rand16(&mut self) -> u16 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 24) as u16
    }
}
