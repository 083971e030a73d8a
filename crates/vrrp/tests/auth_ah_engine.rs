//! `auth_type AH` through the engine's public API: adverts go out as whole IPv4 AH
//! packets (keepalived 2.2.7's layout), the ICV and the sequence number are checked on
//! receive (failures dropped and counted as authentication failures), the sequence number
//! carries on from the last advert accepted, and non-AH traffic is ignored (as keepalived,
//! which reads only IP protocol 51 for an AH instance).
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

#[path = "support/engine.rs"]
mod support_engine;

use std::net::Ipv4Addr;

use support_engine::{instance, ip, receive, started, take_over, GROUP, ME, PEER};
use vrrp::ah::{self, AhHeader};
use vrrp::packet::{AUTH_AH, AUTH_NONE};
use vrrp::{Action, Advert, Auth, ChecksumKind, Engine, Input, InstanceConfig, State, Timestamp};

const KEY: &str = "averylongpassword";

fn base() -> InstanceConfig {
    let mut c = instance();
    c.auth = Auth::ah(KEY);
    c
}

/// A peer's AH advert with priority `prio`, sequence number `seq`, signed with `key`.
fn ah_advert(prio: u8, seq: u32, key: &str) -> Vec<u8> {
    let a = Advert::v2(7, prio, 1, AUTH_AH, [0; 8], vec![ip("10.0.0.100")]);
    let vrrp = a
        .encode(ip(PEER), ip(GROUP), ChecksumKind::Standard)
        .unwrap();
    let h = AhHeader {
        src: PEER.parse().unwrap(),
        dst: GROUP.parse().unwrap(),
        ttl: 255,
        id: 77,
        seq,
    };
    let mut out = Vec::new();
    ah::encode(&ah::key(key), &h, &vrrp, &mut out);
    out
}

fn rx(e: &mut Engine, b: &[u8], now: Timestamp) -> Vec<Action> {
    receive(e, PEER, GROUP, 255, b, now)
}

fn stats(e: &Engine) -> (u64, u64) {
    let s = &e.instance("VI").unwrap().stats;
    (s.adverts_rcvd, s.auth_failure)
}

#[test]
fn master_sends_ah_packets_keepalived_can_check() {
    let mut e = started(base());
    let (_, out) = take_over(&mut e);
    let sent: Vec<&Vec<u8>> = out
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert { bytes, .. } => Some(bytes),
            _ => None,
        })
        .collect();
    let first = sent.first().expect("an advert");
    let a = ah::verify(&ah::key(KEY), first).expect("valid AH packet");
    assert_eq!(a.seq, 1, "the first advert carries 1");
    assert_eq!(a.spi, u32::from(ME.parse::<Ipv4Addr>().unwrap()));
    assert_eq!((a.src, a.ttl), (ME.parse::<Ipv4Addr>().unwrap(), 255));
    assert_eq!(first[1], 0xc0, "TOS network control");
    assert_eq!(a.vrrp[4], AUTH_AH);
    assert_eq!(
        &a.vrrp[a.vrrp.len() - 8..],
        &[0u8; 8],
        "no password in the advert"
    );
    assert_eq!(Advert::peek_priority(first), Some(100));
    // The next advert: the next sequence number.
    let out = e.handle(Input::Timer, e.next_deadline().unwrap());
    let Some(Action::SendAdvert { bytes, .. }) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(ah::verify(&ah::key(KEY), bytes).unwrap().seq, 2);
}

#[test]
fn icv_and_sequence_are_checked_and_counted() {
    let mut e = started(base());
    let t = Timestamp::from_millis(5);
    rx(&mut e, &ah_advert(200, 10, KEY), t);
    assert_eq!(stats(&e), (1, 0));
    // Wrong key.
    rx(&mut e, &ah_advert(200, 11, "other"), t);
    assert_eq!(stats(&e), (1, 1));
    assert_eq!(e.last_rx_error(), Some(("VI", vrrp::RxError::AuthFailure)));
    // Replayed (same sequence number) and older.
    rx(&mut e, &ah_advert(200, 10, KEY), t);
    rx(&mut e, &ah_advert(200, 3, KEY), t);
    assert_eq!(stats(&e), (1, 3));
    // A changed byte in the advert.
    let mut b = ah_advert(200, 12, KEY);
    let last = b.len() - 9;
    b[last] ^= 1;
    rx(&mut e, &b, t);
    assert_eq!(stats(&e), (1, 4));
    // Truncated and garbage packets: dropped, never a panic.
    let good = ah_advert(200, 13, KEY);
    for n in 0..good.len() {
        rx(&mut e, &good[..n], t);
    }
    rx(&mut e, &good, t);
    assert_eq!(stats(&e).0, 2);
}

#[test]
fn sequence_carries_on_from_the_last_accepted() {
    let mut e = started(base());
    let t = Timestamp::from_millis(5);
    rx(&mut e, &ah_advert(200, 0x6000, KEY), t);
    // The peer goes quiet: we take over and carry on from its number.
    let mut out = Vec::new();
    while e.instance("VI").unwrap().state != State::Master {
        out = e.handle(Input::Timer, e.next_deadline().unwrap());
    }
    let Some(Action::SendAdvert { bytes, .. }) =
        out.iter().find(|a| matches!(a, Action::SendAdvert { .. }))
    else {
        panic!("{out:?}")
    };
    assert_eq!(ah::verify(&ah::key(KEY), bytes).unwrap().seq, 0x6001);
}

#[test]
fn plain_vrrp_to_an_ah_instance_and_ah_to_others_are_ignored() {
    let mut e = started(base());
    let t = Timestamp::from_millis(5);
    let plain = Advert::v2(7, 200, 1, AUTH_NONE, [0; 8], vec![ip("10.0.0.100")])
        .encode(ip(PEER), ip(GROUP), ChecksumKind::Standard)
        .unwrap();
    rx(&mut e, &plain, t);
    assert_eq!(stats(&e), (0, 0));
    assert_eq!(e.last_rx_error(), None);
    let mut c = base();
    c.auth = Auth::None;
    let mut e = started(c);
    rx(&mut e, &ah_advert(200, 1, KEY), t);
    assert_eq!(stats(&e), (0, 0));
    let s = &e.instance("VI").unwrap().stats;
    assert_eq!((s.authtype_mismatch, s.invalid_authtype), (0, 0));
}
