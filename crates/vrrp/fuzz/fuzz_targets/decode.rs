//! The advert decoder on arbitrary bytes, for each (version, family) context: it must
//! never panic, and whatever it accepts must re-encode to a message that decodes equal.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use vrrp::packet::{Ipv4Header, MCAST_V4, MCAST_V6};
use vrrp::{Advert, ChecksumKind};

fuzz_target!(|data: &[u8]| {
    let v4: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::V4(MCAST_V4));
    let v6: IpAddr = "fe80::1".parse().unwrap_or(IpAddr::V6(MCAST_V6));
    for (src, dst) in [
        (v4, IpAddr::V4(MCAST_V4)),
        (v6, IpAddr::V6(MCAST_V6)),
        (v4, v4),
        (v4, IpAddr::V6(MCAST_V6)),
    ] {
        if let Ok((a, kind)) = Advert::decode(data, src, dst) {
            let again = a.encode(src, dst, kind);
            // Everything decoded fits the fields again (v2 intervals are 8 bits, v3 12).
            let bytes = match again {
                Ok(b) => b,
                Err(e) => panic!("decoded advert does not re-encode: {e}"),
            };
            match Advert::decode(&bytes, src, dst) {
                Ok((b, _)) => assert_eq!(a, b),
                Err(e) => panic!("re-encoded advert does not decode: {e}"),
            }
        }
    }
    let _ = Advert::peek_vrid(data);
    if let Some((h, off)) = Ipv4Header::decode(data) {
        assert!(off <= data.len());
        let _ = h.encode();
    }
});
