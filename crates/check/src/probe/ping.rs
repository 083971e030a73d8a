//! PING_CHECK: one ICMP / ICMPv6 echo request, its reply.

use mio::{Registry, Token};

use crate::failure::Failure;
use crate::net;
use crate::spec::Target;
use crate::wire::icmp;

use super::conn::Datagram;
use super::step::{Ctx, Step};

/// Replies are read into this many bytes.
const MAX_REPLY: usize = 2048;

/// One attempt of a PING_CHECK.
pub struct PingProbe {
    /// A raw socket (not a datagram ping socket, which rewrites the identifier).
    raw: bool,
    v6: bool,
    ident: u16,
    seq: u16,
    dgram: Datagram,
}

impl PingProbe {
    /// Open the socket; the echo request goes out once it is writable.
    pub fn start(
        target: &Target,
        ctx: &mut Ctx,
        reg: &Registry,
        token: Token,
    ) -> Result<PingProbe, Step> {
        let (sock, raw) =
            net::icmp_connect(target).map_err(|e| Step::Fail(Failure::from_io(&e, true)))?;
        let v6 = target.addr.is_ipv6();
        let (ident, seq) = (ctx.rand16(), ctx.rand16());
        let req = icmp::Echo {
            kind: if v6 {
                icmp::V6_REQUEST
            } else {
                icmp::V4_REQUEST
            },
            ident,
            seq,
            data: b"keepalived-rs PING_CHECK".to_vec(),
        };
        let dgram = Datagram::new(sock, req.emit(), MAX_REPLY, reg, token).map_err(Step::Fail)?;
        Ok(PingProbe {
            raw,
            v6,
            ident,
            seq,
            dgram,
        })
    }

    /// The socket said something. `buf` is scratch space for reads.
    pub fn on_event(&mut self, buf: &mut [u8]) -> Step {
        let (raw, v6, ident, seq) = (self.raw, self.v6, self.ident, self.seq);
        let want = if v6 { icmp::V6_REPLY } else { icmp::V4_REPLY };
        self.dgram.exchange(buf, |msg| {
            let msg = if raw && !v6 {
                icmp::strip_ipv4(msg)?
            } else {
                msg
            };
            let echo = icmp::Echo::parse(msg)?;
            // Datagram ping sockets rewrite the identifier: match it only on raw sockets.
            if echo.kind == want && echo.seq == seq && (!raw || echo.ident == ident) {
                return Some(Step::Pass(None));
            }
            if !raw && echo.kind != want {
                return Some(Step::Fail(Failure::Unreachable));
            }
            None
        })
    }
}
