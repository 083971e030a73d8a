//! TCP_CHECK: connect, then close (with a RST, keeping the socket for the next attempt).

use mio::{Registry, Token};

use crate::spec::Target;

use super::conn::{connect_reusing, reusable, Conn};
use super::step::{Ready, Step};

/// TCP_CHECK: one connection attempt.
pub struct TcpProbe {
    pub(super) conn: Conn,
    /// Its socket may be kept for the next attempt.
    pub(super) reuse: bool,
}

impl TcpProbe {
    /// Connect (on `spare` when there is one).
    pub fn start(
        target: &Target,
        reg: &Registry,
        token: Token,
        spare: Option<mio::net::TcpStream>,
    ) -> Result<TcpProbe, Step> {
        let s = connect_reusing(target, reg, token, spare).map_err(Step::Fail)?;
        Ok(TcpProbe {
            conn: Conn::Plain(s),
            reuse: reusable(target, false),
        })
    }

    /// The socket said something: connected yet?
    pub fn on_event(&mut self, ready: Ready) -> Step {
        match self.conn.connected(ready) {
            Ok(true) => Step::Pass(None),
            Ok(false) => Step::Pending,
            Err(e) => Step::Fail(e),
        }
    }
}
