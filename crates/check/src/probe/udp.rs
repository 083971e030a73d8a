//! UDP_CHECK: one datagram out; a reply (or, without `require_reply`, silence) in.

use std::sync::Arc;

use mio::{Registry, Token};

use crate::failure::Failure;
use crate::net;
use crate::spec::{Target, UdpSpec};
use crate::wire::udp;

use super::conn::Datagram;
use super::step::Step;

/// Replies are read into this many bytes.
const MAX_REPLY: usize = 4096;

/// One attempt of a UDP_CHECK.
pub struct UdpProbe {
    spec: Arc<UdpSpec>,
    dgram: Datagram,
}

impl UdpProbe {
    /// Open the socket; the payload goes out once it is writable.
    pub fn start(
        spec: &Arc<UdpSpec>,
        target: &Target,
        reg: &Registry,
        token: Token,
    ) -> Result<UdpProbe, Step> {
        let sock = net::udp_connect(target).map_err(|e| Step::Fail(Failure::from_io(&e, true)))?;
        let dgram =
            Datagram::new(sock, spec.payload.clone(), MAX_REPLY, reg, token).map_err(Step::Fail)?;
        Ok(UdpProbe {
            spec: Arc::clone(spec),
            dgram,
        })
    }

    /// The socket said something. `buf` is scratch space for reads.
    pub fn on_event(&mut self, buf: &mut [u8]) -> Step {
        let u = &self.spec;
        self.dgram.exchange(buf, |reply| {
            Some(
                match udp::check_reply(
                    reply,
                    u.require_reply.as_ref(),
                    u.min_reply_length,
                    u.max_reply_length,
                ) {
                    Ok(()) => Step::Pass(None),
                    Err(e) => Step::Fail(Failure::Udp(e)),
                },
            )
        })
    }

    /// Time ran out: without `require_reply`, silence (no ICMP error) is success.
    pub fn on_timeout(&self) -> Step {
        if self.dgram.sent && self.spec.require_reply.is_none() {
            Step::Pass(None)
        } else {
            Step::Fail(Failure::Timeout("waiting for the reply"))
        }
    }
}
