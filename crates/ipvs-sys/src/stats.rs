//! Traffic counters of a service or destination (`IPVS_*_ATTR_STATS` and `STATS64`).

use crate::abi::stats_attr as a;
use crate::error::DecodeError;
use crate::nla::{self, Attrs};

/// Counters and rates. In the 32-bit form (`STATS`) the kernel sends bytes as u64 and
/// everything else as u32; in `STATS64` everything is u64.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

impl Stats {
    fn fields(&self) -> [(u16, u64); 10] {
        [
            (a::CONNS, self.conns),
            (a::INPKTS, self.inpkts),
            (a::OUTPKTS, self.outpkts),
            (a::INBYTES, self.inbytes),
            (a::OUTBYTES, self.outbytes),
            (a::CPS, self.cps),
            (a::INPPS, self.inpps),
            (a::OUTPPS, self.outpps),
            (a::INBPS, self.inbps),
            (a::OUTBPS, self.outbps),
        ]
    }

    /// Append as nested attribute `kind`; `wide` selects the all-u64 `STATS64` layout
    /// (otherwise counters other than bytes are u32, as the kernel sends them).
    pub fn encode(&self, buf: &mut Vec<u8>, kind: u16, wide: bool) {
        let at = nla::nest_start(buf, kind);
        for (k, v) in self.fields() {
            match u32::try_from(v) {
                Ok(small) if !wide && k != a::INBYTES && k != a::OUTBYTES => {
                    nla::put_u32(buf, k, small)
                }
                // 64-bit layout, byte counters, or a value the u32 field cannot hold
                // (never sent by the kernel; kept exact so decode(encode(x)) == x).
                _ => nla::put_u64(buf, k, v),
            }
        }
        nla::nest_end(buf, at);
    }

    /// Decode the payload of a stats nest; accepts u32 or u64 for every field.
    pub fn decode(payload: &[u8]) -> Result<Stats, DecodeError> {
        let mut s = Stats::default();
        for attr in Attrs::new(payload) {
            let (k, p) = attr?;
            let v = match p.len() {
                4 => u64::from(nla::get_u32("stats field", p)?),
                _ => nla::get_u64("stats field", p)?,
            };
            match k {
                a::CONNS => s.conns = v,
                a::INPKTS => s.inpkts = v,
                a::OUTPKTS => s.outpkts = v,
                a::INBYTES => s.inbytes = v,
                a::OUTBYTES => s.outbytes = v,
                a::CPS => s.cps = v,
                a::INPPS => s.inpps = v,
                a::OUTPPS => s.outpps = v,
                a::INBPS => s.inbps = v,
                a::OUTBPS => s.outbps = v,
                _ => {}
            }
        }
        Ok(s)
    }
}
