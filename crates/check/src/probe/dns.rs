//! DNS_CHECK: one query out, its answer in.

use std::sync::Arc;

use mio::{Registry, Token};

use crate::failure::Failure;
use crate::net;
use crate::spec::{DnsSpec, Target};
use crate::wire::dns;

use super::conn::Datagram;
use super::step::{Ctx, Step};

/// Replies are read into this many bytes.
const MAX_REPLY: usize = 4096;

/// One attempt of a DNS_CHECK.
pub struct DnsProbe {
    spec: Arc<DnsSpec>,
    id: u16,
    dgram: Datagram,
}

impl DnsProbe {
    /// Build the query (a fresh id) and open the socket.
    pub fn start(
        spec: &Arc<DnsSpec>,
        target: &Target,
        ctx: &mut Ctx,
        reg: &Registry,
        token: Token,
    ) -> Result<DnsProbe, Step> {
        let id = ctx.rand16();
        let query = dns::query(id, &spec.name, spec.qtype.code())
            .map_err(|e| Step::Fail(Failure::Dns(e)))?;
        let sock = net::udp_connect(target).map_err(|e| Step::Fail(Failure::from_io(&e, true)))?;
        let dgram = Datagram::new(sock, query, MAX_REPLY, reg, token).map_err(Step::Fail)?;
        Ok(DnsProbe {
            spec: Arc::clone(spec),
            id,
            dgram,
        })
    }

    /// The socket said something. `buf` is scratch space for reads.
    pub fn on_event(&mut self, buf: &mut [u8]) -> Step {
        let (id, spec) = (self.id, &self.spec);
        self.dgram.exchange(buf, |reply| {
            // A reply with another id is someone else's: keep waiting.
            if reply.len() >= 2 && u16::from_be_bytes([reply[0], reply[1]]) != id {
                return None;
            }
            Some(
                match dns::check_reply(reply, id, &spec.name, spec.qtype.code()) {
                    Ok(_) => Step::Pass(None),
                    Err(e) => Step::Fail(Failure::Dns(e)),
                },
            )
        })
    }
}
