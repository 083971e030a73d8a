//! Property tests: encode/decode round trips for every version and family, and arbitrary
//! bytes never panic the decoder nor change an engine's state.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

#[path = "support/engine.rs"]
mod support_engine;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vrrp::packet::{AUTH_DATA_LEN, MCAST_V4, MCAST_V6};
use vrrp::{
    Advert, ChecksumKind, Engine, Input, InstanceConfig, Packet, State, Timestamp, Version,
};

fn v4() -> impl Strategy<Value = IpAddr> {
    any::<u32>().prop_map(|x| IpAddr::V4(Ipv4Addr::from(x)))
}

fn v6() -> impl Strategy<Value = IpAddr> {
    any::<u128>().prop_map(|x| IpAddr::V6(Ipv6Addr::from(x)))
}

/// (advert, src, dst) consistent in version and family.
fn advert() -> impl Strategy<Value = (Advert, IpAddr, IpAddr)> {
    let v2 = (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        0u8..=2,
        any::<[u8; AUTH_DATA_LEN]>(),
        prop::collection::vec(v4(), 0..20),
        v4(),
        prop_oneof![Just(IpAddr::V4(MCAST_V4)), v4()],
    )
        .prop_map(|(vrid, prio, int, at, ad, addrs, s, d)| {
            (Advert::v2(vrid, prio, int, at, ad, addrs), s, d)
        });
    let v3_4 = v3_advert(v4, IpAddr::V4(MCAST_V4), 20);
    let v3_6 = v3_advert(v6, IpAddr::V6(MCAST_V6), 10);
    prop_oneof![v2, v3_4, v3_6]
}

/// A v3 (advert, src, dst) of one family: `addr` makes its addresses (fewer than
/// `max_addrs` in the advert), `group` is its multicast group.
fn v3_advert<S: Strategy<Value = IpAddr>>(
    addr: fn() -> S,
    group: IpAddr,
    max_addrs: usize,
) -> impl Strategy<Value = (Advert, IpAddr, IpAddr)> {
    (
        any::<u8>(),
        any::<u8>(),
        0u16..=4095,
        prop::collection::vec(addr(), 0..max_addrs),
        addr(),
        prop_oneof![Just(group), addr()],
    )
        .prop_map(|(vrid, prio, int, addrs, s, d)| (Advert::v3(vrid, prio, int, addrs), s, d))
}

fn backup_engine(version: Version, v6: bool) -> Engine {
    let vip: IpAddr = if v6 {
        "fe80::64".parse().unwrap()
    } else {
        "10.0.0.100".parse().unwrap()
    };
    let mut c = InstanceConfig::new("VI", "eth0", 1, &[vip]);
    c.version = if v6 { Version::V3 } else { version };
    c.src_addr = Some(if v6 {
        "fe80::2".parse().unwrap()
    } else {
        "10.0.0.2".parse().unwrap()
    });
    support_engine::started(c)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn round_trip((a, src, dst) in advert(), old_sum in any::<bool>(), pad in 0usize..4) {
        let kind = if old_sum { ChecksumKind::WithoutPseudoHeader } else { ChecksumKind::Standard };
        let mut b = a.encode(src, dst, kind).unwrap();
        prop_assert_eq!(b.len(), a.encoded_len());
        b.extend(std::iter::repeat_n(0u8, pad));
        let (d, k) = Advert::decode(&b, src, dst).unwrap();
        prop_assert_eq!(&d, &a);
        let expect = if a.version == Version::V3 && src.is_ipv4() && old_sum {
            ChecksumKind::WithoutPseudoHeader
        } else {
            ChecksumKind::Standard
        };
        // A message valid with both sums (rare coincidence) reports Standard.
        prop_assert!(k == expect || k == ChecksumKind::Standard);
    }

    #[test]
    fn any_single_bit_flip_is_caught_or_decodes_consistently((a, src, dst) in advert(), bit in any::<usize>()) {
        let mut b = a.encode(src, dst, ChecksumKind::Standard).unwrap();
        let i = bit % (b.len() * 8);
        b[i / 8] ^= 1 << (i % 8);
        // One flipped bit never yields the original advert back.
        if let Ok((d, _)) = Advert::decode(&b, src, dst) {
            prop_assert_ne!(d, a);
        }
    }

    #[test]
    fn decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), s4 in v4(), s6 in v6()) {
        let _ = Advert::decode(&bytes, s4, IpAddr::V4(MCAST_V4));
        let _ = Advert::decode(&bytes, s6, IpAddr::V6(MCAST_V6));
        let _ = Advert::decode(&bytes, s4, IpAddr::V6(MCAST_V6));
        let _ = Advert::peek_vrid(&bytes);
    }

    #[test]
    fn garbage_never_changes_state(
        mut bytes in prop::collection::vec(any::<u8>(), 0..120),
        ttl in any::<u8>(),
        v6 in any::<bool>(),
        v3 in any::<bool>(),
    ) {
        let mut e = backup_engine(if v3 { Version::V3 } else { Version::V2 }, v6);
        let before = e.next_deadline();
        // Keep the VRID ours so the packet reaches the instance's checks; garble the
        // checksum so the packet can never be valid.
        if bytes.len() > 1 { bytes[1] = 1; }
        if bytes.len() >= 8 { bytes[6] ^= 0x5a; bytes[7] ^= 0xa5; }
        let (src, dst): (IpAddr, IpAddr) = if v6 {
            ("fe80::1".parse().unwrap(), IpAddr::V6(MCAST_V6))
        } else {
            ("10.0.0.1".parse().unwrap(), IpAddr::V4(MCAST_V4))
        };
        let valid = Advert::decode(&bytes, src, dst).is_ok();
        let out = e.handle(Input::Packet(Packet { iface: "eth0", src, dst, ttl, bytes: &bytes, received: None }), Timestamp::from_millis(5));
        prop_assert!(out.is_empty());
        if !valid {
            prop_assert_eq!(e.instance("VI").unwrap().state, State::Backup);
            prop_assert_eq!(e.next_deadline(), before);
            prop_assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 0);
        }
    }
}
