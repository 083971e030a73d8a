//! `auth_hmac` through the engine's public API: the trailer on every sent advert (signed
//! once, sequence from the wall clock), and the receive checks with their counters — a
//! bad advert is dropped, counted and changes nothing.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

#[path = "support/engine.rs"]
mod support_engine;

use std::net::IpAddr;
use std::time::Duration;

use support_engine::{instance, ip, receive, started, take_over, GROUP, ME, PEER};
use vrrp::hmac_auth::{self, AntiReplay, HmacConfig, HmacKey, HmacMode, TRAILER_LEN};
use vrrp::{
    Action, Advert, ChecksumKind, Engine, Input, InstanceConfig, RxError, State, Timestamp,
    UnicastPeer, Version,
};

/// 2026-12-06, as a wall clock.
const WALL: u64 = 1_796_000_000;

fn key(b: u8) -> Vec<u8> {
    (0..32).map(|i| i ^ b).collect()
}

fn hcfg(mode: HmacMode) -> HmacConfig {
    HmacConfig {
        mode,
        ..HmacConfig::single(1, &key(0))
    }
}

fn base(version: Version, mode: HmacMode) -> InstanceConfig {
    let mut c = instance();
    c.version = version;
    c.hmac = Some(hcfg(mode));
    c
}

/// A started engine whose wall clock reads `WALL` at time zero.
fn engine(c: InstanceConfig) -> Engine {
    let mut e = started(c);
    e.set_wall_clock(Duration::from_secs(WALL), Timestamp::ZERO);
    e
}

/// An advert from `src` with priority `prio`, signed with key `id`/`k` and sequence `seq`
/// (unsigned when `k` is None).
fn signed(version: Version, src: &str, prio: u8, id: u8, k: Option<&[u8]>, seq: u64) -> Vec<u8> {
    let a = match version {
        Version::V2 => Advert::v2(7, prio, 1, 0, [0; 8], vec![ip("10.0.0.100")]),
        Version::V3 => Advert::v3(7, prio, 100, vec![ip("10.0.0.100")]),
    };
    let mut b = a
        .encode(ip(src), ip(GROUP), ChecksumKind::Standard)
        .unwrap();
    if let Some(k) = k {
        let t = hmac_auth::sign(&b, ip(src), id, k, seq).unwrap();
        b.extend_from_slice(&t.encode());
    }
    b
}

fn seq_at(secs: u64, counter: u64) -> u64 {
    (secs << 32) | counter
}

fn rx(e: &mut Engine, src: &str, b: &[u8], now: Timestamp) -> Vec<Action> {
    receive(e, src, GROUP, 255, b, now)
}

/// An advert from [`PEER`] at priority 200 in `version`, signed with key `id` (the bytes
/// of `key(k)`) and sequence `seq`, received at `now`.
fn rx_signed(
    e: &mut Engine,
    version: Version,
    id: u8,
    k: u8,
    seq: u64,
    now: Timestamp,
) -> Vec<Action> {
    rx(
        e,
        PEER,
        &signed(version, PEER, 200, id, Some(&key(k)), seq),
        now,
    )
}

fn sent(out: &[Action]) -> Vec<(IpAddr, Vec<u8>)> {
    out.iter()
        .filter_map(|a| match a {
            Action::SendAdvert { dst, bytes, .. } => Some((*dst, bytes.clone())),
            _ => None,
        })
        .collect()
}

/// The trailer of an advert we sent (`msg_len` bytes of VRRP message, then the trailer),
/// verified as an enforcing receiver with our key would.
fn verify_ours(b: &[u8], msg_len: usize) -> hmac_auth::Trailer {
    hmac_auth::verify(
        &hcfg(HmacMode::Enforce),
        &b[..msg_len],
        &b[msg_len..],
        ip(ME),
    )
    .unwrap()
}

#[test]
fn sent_adverts_carry_a_verifying_trailer_with_a_wall_clock_sequence() {
    for version in [Version::V2, Version::V3] {
        let mut e = engine(base(version, HmacMode::Enforce));
        let (t, out) = take_over(&mut e);
        let s = sent(&out);
        assert_eq!(s.len(), 1, "{out:?}");
        let b = &s[0].1;
        let msg_len = if version == Version::V2 { 20 } else { 12 };
        assert_eq!(b.len(), msg_len + TRAILER_LEN);
        // The VRRP checksum covers the message without the trailer (IPv4).
        let (adv, _) = Advert::decode(b, ip(ME), ip(GROUP)).unwrap();
        assert_eq!(adv.priority, 100);
        let tr = verify_ours(b, msg_len);
        assert_eq!(tr.key_id, 1);
        // Seconds of the wall clock at the takeover (WALL + t).
        assert_eq!(u64::from(tr.secs()), WALL + t.as_micros() / 1_000_000);
        // The next advert: a larger sequence.
        let next = e.next_deadline().unwrap();
        let out = e.handle(Input::Timer, next);
        let b2 = &sent(&out)[0].1;
        let tr2 = verify_ours(b2, msg_len);
        assert!(hmac_auth::seq_after(tr2.seq, tr.seq));
    }
}

#[test]
fn unicast_copies_share_one_signature() {
    let mut c = base(Version::V3, HmacMode::Enforce);
    c.unicast_peers = ["10.0.0.1", "10.0.0.3", "10.0.0.4"]
        .iter()
        .map(|p| UnicastPeer::new(ip(p)))
        .collect();
    let mut e = engine(c);
    let (_, out) = take_over(&mut e);
    let s = sent(&out);
    assert_eq!(s.len(), 3);
    let trailers: Vec<&[u8]> = s.iter().map(|(_, b)| &b[b.len() - TRAILER_LEN..]).collect();
    assert!(
        trailers.iter().all(|t| *t == trailers[0]),
        "one sequence and HMAC per advert"
    );
    for (dst, b) in &s {
        // Each copy's checksum is its own (the v3 pseudo-header has the destination).
        assert!(Advert::decode(b, ip(ME), *dst).is_ok());
    }
    assert_eq!(e.instance("VI").unwrap().stats.adverts_sent, 3);
}

#[test]
fn receive_only_does_not_sign_and_permissive_does() {
    for (mode, signs) in [
        (HmacMode::ReceiveOnly, false),
        (HmacMode::Permissive, true),
        (HmacMode::Enforce, true),
    ] {
        let mut e = engine(base(Version::V2, mode));
        let (_, out) = take_over(&mut e);
        let len = sent(&out)[0].1.len();
        assert_eq!(len, if signs { 20 + TRAILER_LEN } else { 20 }, "{mode:?}");
    }
}

#[test]
fn a_valid_signed_advert_is_accepted_and_its_replay_dropped() {
    for version in [Version::V2, Version::V3] {
        let mut e = engine(base(version, HmacMode::Enforce));
        let t = Timestamp::from_millis(100);
        let good = signed(version, PEER, 200, 1, Some(&key(0)), seq_at(WALL, 0));
        rx(&mut e, PEER, &good, t);
        let st = e.instance("VI").unwrap();
        assert_eq!((st.stats.adverts_rcvd, st.stats.rx_errors()), (1, 0));
        assert_eq!(st.master, Some(ip(PEER)));
        let before = e.next_deadline();
        // The same bytes again: a replay, dropped, the down timer not re-armed.
        let t2 = Timestamp::from_millis(900);
        rx(&mut e, PEER, &good, t2);
        let st = e.instance("VI").unwrap();
        assert_eq!(st.stats.hmac.replay, 1);
        assert_eq!(st.stats.adverts_rcvd, 1);
        assert_eq!(e.last_rx_error(), Some(("VI", RxError::HmacReplay)));
        assert_eq!(e.next_deadline(), before);
        // A fresh one is accepted.
        let next = signed(version, PEER, 200, 1, Some(&key(0)), seq_at(WALL, 1));
        rx(&mut e, PEER, &next, t2);
        assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 2);
        assert!(e.next_deadline() > before);
    }
}

#[test]
fn bad_trailers_are_dropped_and_counted_without_a_state_change() {
    let t = Timestamp::from_millis(100);
    let v = Version::V3;
    let cases: Vec<(&str, Vec<u8>, RxError)> = vec![
        (
            "wrong key",
            signed(v, PEER, 200, 1, Some(&key(9)), seq_at(WALL, 0)),
            RxError::HmacInvalid,
        ),
        (
            "unknown key id",
            signed(v, PEER, 200, 2, Some(&key(0)), seq_at(WALL, 0)),
            RxError::HmacUnknownKey,
        ),
        (
            "missing",
            signed(v, PEER, 200, 1, None, 0),
            RxError::HmacMissing,
        ),
        (
            "stale (past)",
            signed(v, PEER, 200, 1, Some(&key(0)), seq_at(WALL - 60, 0)),
            RxError::HmacStale,
        ),
        (
            "stale (future)",
            signed(v, PEER, 200, 1, Some(&key(0)), seq_at(WALL + 60, 0)),
            RxError::HmacStale,
        ),
        (
            "forged priority",
            {
                let mut b = signed(v, PEER, 200, 1, Some(&key(0)), seq_at(WALL, 0));
                // Priority 255 with a correct checksum, the old tag.
                let (mut msg, tr) = (b[..12].to_vec(), b[12..].to_vec());
                msg[2] = 255;
                msg[6] = 0;
                msg[7] = 0;
                let sum = vrrp::packet::checksum(&msg, Some((ip(PEER), ip(GROUP))));
                msg[6..8].copy_from_slice(&sum.to_be_bytes());
                b = [msg, tr].concat();
                b
            },
            RxError::HmacInvalid,
        ),
        (
            "malformed",
            {
                let mut b = signed(v, PEER, 200, 1, Some(&key(0)), seq_at(WALL, 0));
                b[12 + 2] = 1;
                b
            },
            RxError::HmacMalformed,
        ),
    ];
    for (what, b, err) in cases {
        // As MASTER: a higher priority would make it yield.
        let mut e = engine(base(v, HmacMode::Enforce));
        let (t0, _) = take_over(&mut e);
        let before = e.next_deadline();
        let out = rx(&mut e, PEER, &b, t0 + Duration::from_millis(1));
        let st = e.instance("VI").unwrap();
        assert_eq!(st.state, State::Master, "{what}");
        assert!(out.is_empty(), "{what}: {out:?}");
        assert_eq!(e.last_rx_error(), Some(("VI", err)), "{what}");
        assert_eq!(st.stats.rx_errors(), 1, "{what}");
        assert_eq!(st.stats.hmac.total(), 1, "{what}");
        assert_eq!(st.stats.adverts_rcvd, 0, "{what}");
        assert_eq!(e.next_deadline(), before, "{what}");
        // As BACKUP: the down timer is not re-armed.
        let mut e = engine(base(v, HmacMode::Enforce));
        let before = e.next_deadline();
        rx(&mut e, PEER, &b, t);
        assert_eq!(e.next_deadline(), before, "{what}");
        assert_eq!(e.instance("VI").unwrap().stats.hmac.total(), 1, "{what}");
    }
}

#[test]
fn migration_modes_accept_unsigned_but_still_verify_a_trailer() {
    let t = Timestamp::from_millis(100);
    for mode in [HmacMode::Permissive, HmacMode::ReceiveOnly] {
        let mut e = engine(base(Version::V2, mode));
        rx(&mut e, PEER, &signed(Version::V2, PEER, 200, 1, None, 0), t);
        assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 1, "{mode:?}");
        rx_signed(&mut e, Version::V2, 1, 0, seq_at(WALL, 0), t);
        assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 2, "{mode:?}");
        rx_signed(&mut e, Version::V2, 1, 5, seq_at(WALL, 1), t);
        let st = e.instance("VI").unwrap();
        assert_eq!(
            (st.stats.adverts_rcvd, st.stats.hmac.invalid_hmac),
            (2, 1),
            "{mode:?}"
        );
    }
}

#[test]
fn without_auth_hmac_a_signed_advert_is_dropped_as_a_length_error() {
    let mut c = base(Version::V2, HmacMode::Enforce);
    c.hmac = None;
    let mut e = engine(c);
    let t = Timestamp::from_millis(100);
    rx_signed(&mut e, Version::V2, 1, 0, seq_at(WALL, 0), t);
    let st = e.instance("VI").unwrap();
    assert_eq!((st.stats.packet_len_err, st.stats.adverts_rcvd), (1, 0));
    // Unsigned ones as ever.
    rx(&mut e, PEER, &signed(Version::V2, PEER, 200, 1, None, 0), t);
    assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 1);
}

#[test]
fn key_rotation_accepts_either_configured_key() {
    let mut c = base(Version::V3, HmacMode::Enforce);
    let h = c.hmac.as_mut().unwrap();
    h.keys.push(HmacKey { id: 2, key: key(2) });
    let mut e = engine(c.clone());
    let t = Timestamp::from_millis(100);
    rx_signed(&mut e, Version::V3, 1, 0, seq_at(WALL, 0), t);
    rx_signed(&mut e, Version::V3, 2, 2, seq_at(WALL, 1), t);
    assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 2);
    // Active key 2 after a reload: we sign with it; the peer's replay mark survives.
    c.hmac.as_mut().unwrap().active_key = 2;
    e.reload(
        vrrp::EngineConfig {
            instances: vec![c],
            sync_groups: vec![],
        },
        t,
    )
    .unwrap();
    rx_signed(&mut e, Version::V3, 2, 2, seq_at(WALL, 1), t);
    assert_eq!(e.instance("VI").unwrap().stats.hmac.replay, 1);
}

#[test]
fn monotonic_mode_ignores_the_clock_but_not_the_order() {
    let mut c = base(Version::V2, HmacMode::Enforce);
    c.hmac.as_mut().unwrap().anti_replay = AntiReplay::Monotonic;
    let mut e = engine(c);
    let t = Timestamp::from_millis(100);
    rx_signed(&mut e, Version::V2, 1, 0, seq_at(WALL - 3600, 0), t);
    assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 1);
    rx_signed(&mut e, Version::V2, 1, 0, seq_at(WALL - 3601, 0), t);
    assert_eq!(e.instance("VI").unwrap().stats.hmac.replay, 1);
}

#[test]
fn a_skewed_clock_is_flagged_but_the_advert_accepted() {
    let mut e = engine(base(Version::V3, HmacMode::Enforce));
    let t = Timestamp::from_millis(100);
    // Window 5 s: 3 s off is more than half of it.
    rx_signed(&mut e, Version::V3, 1, 0, seq_at(WALL - 3, 0), t);
    let st = e.instance("VI").unwrap();
    assert_eq!((st.stats.adverts_rcvd, st.stats.rx_errors()), (1, 0));
    assert_eq!(e.last_rx_error(), Some(("VI", RxError::HmacClockSkew)));
    assert!(!RxError::HmacClockSkew.drops());
    // 2 s off: nothing said.
    rx_signed(&mut e, Version::V3, 1, 0, seq_at(WALL + 2, 0), t);
    assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 2);
    assert_eq!(e.last_rx_error(), None);
}

#[test]
fn adverts_of_several_instances_get_growing_sequences() {
    // Two instances of this host due at the same instant: a receiver that keeps one mark
    // per sender sees each later advert as newer.
    let a = base(Version::V3, HmacMode::Enforce);
    let mut b = base(Version::V3, HmacMode::Enforce);
    b.name = "VI2".into();
    b.vrid = 8;
    let mut e = Engine::new(vrrp::EngineConfig {
        instances: vec![a, b],
        sync_groups: vec![],
    })
    .unwrap();
    e.set_wall_clock(Duration::from_secs(WALL), Timestamp::ZERO);
    e.handle(Input::Startup, Timestamp::ZERO);
    let mut seqs = Vec::new();
    for _ in 0..4 {
        let t = e.next_deadline().unwrap();
        for (_, b) in sent(&e.handle(Input::Timer, t)) {
            let tr = hmac_auth::Trailer::decode(&b[b.len() - TRAILER_LEN..]).unwrap();
            seqs.push(tr.seq);
        }
    }
    assert!(seqs.len() >= 4, "{seqs:?}");
    assert!(
        seqs.windows(2).all(|w| hmac_auth::seq_after(w[1], w[0])),
        "{seqs:x?}"
    );
}
