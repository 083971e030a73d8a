//! The engine through its public API: receive checks and their counters, a MASTER's
//! reactions, the GARP schedule, faults, shutdown, resume and reload.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

#[path = "support/engine.rs"]
mod support_engine;

use std::net::IpAddr;
use std::time::Duration;

use support_engine::{
    engine, instance, ip, kinds, packet, receive, started, started_group_pair, take_over, GROUP,
    ME, PEER,
};
use vrrp::packet::{checksum, AUTH_AH, AUTH_NONE, AUTH_PASS};
use vrrp::{
    Action, Advert, Auth, ChecksumKind, Engine, EngineConfig, Family, GarpConfig, Input,
    InstanceConfig, NotifyState, NotifyTarget, Packet, State, Timestamp, TrackConfig, TrackKind,
    TrackStatus, UnicastPeer, Version, Vip,
};

/// An engine that has become MASTER (nobody else spoke), and the time it did.
fn master(c: InstanceConfig) -> (Engine, Timestamp) {
    let mut e = started(c);
    let (t, _) = take_over(&mut e);
    (e, t)
}

fn advert_v2(prio: u8, int: u8, auth_type: u8, pw: &[u8; 8]) -> Advert {
    Advert::v2(7, prio, int, auth_type, *pw, vec![ip("10.0.0.100")])
}

fn bytes(a: &Advert, src: &str) -> Vec<u8> {
    a.encode(ip(src), ip(GROUP), ChecksumKind::Standard)
        .unwrap()
}

/// A v2 advert from `src` to the group (TTL 255, interval 1 s, no authentication).
fn rx_advert(e: &mut Engine, src: &str, prio: u8, now: Timestamp) -> Vec<Action> {
    rx_advert_auth(e, src, prio, AUTH_NONE, &[0; 8], now)
}

/// A v2 advert from `src` to the group (TTL 255, interval 1 s) with `auth_type` and `pw`.
fn rx_advert_auth(
    e: &mut Engine,
    src: &str,
    prio: u8,
    auth_type: u8,
    pw: &[u8; 8],
    now: Timestamp,
) -> Vec<Action> {
    let b = bytes(&advert_v2(prio, 1, auth_type, pw), src);
    receive(e, src, GROUP, 255, &b, now)
}

fn advert_prios(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert { bytes, .. } => Some(bytes[2]),
            _ => None,
        })
        .collect()
}

/// Re-checksum a hand-edited v2/v3-without-pseudo-header message.
fn fix_sum(b: &mut [u8]) {
    b[6] = 0;
    b[7] = 0;
    let s = checksum(b, None);
    b[6..8].copy_from_slice(&s.to_be_bytes());
}

#[test]
fn every_receive_check_counts_and_drops_without_touching_state() {
    let t = Timestamp::from_millis(100);
    let good = bytes(&advert_v2(200, 1, AUTH_NONE, &[0; 8]), PEER);
    let v3 = Advert::v3(7, 200, 100, vec![ip("10.0.0.100")])
        .encode(ip(PEER), ip(GROUP), ChecksumKind::Standard)
        .unwrap();
    let mut bad_type = good.clone();
    bad_type[0] = 0x22;
    fix_sum(&mut bad_type);
    let mut bad_sum = good.clone();
    bad_sum[7] ^= 0xff;
    let int2 = bytes(&advert_v2(200, 2, AUTH_NONE, &[0; 8]), PEER);
    let pass = bytes(&advert_v2(200, 1, AUTH_PASS, b"secret\0\0"), PEER);
    let ah = bytes(&advert_v2(200, 1, AUTH_AH, &[0; 8]), PEER);
    let auth3 = bytes(&advert_v2(200, 1, 3, &[0; 8]), PEER);
    type Check = fn(&vrrp::Stats) -> u64;
    let cases: Vec<(&str, Vec<u8>, u8, Check)> = vec![
        ("ttl", good.clone(), 254, |s| s.ip_ttl_err),
        ("short", good[..8].to_vec(), 255, |s| s.packet_len_err),
        ("addr count", good[..10].to_vec(), 255, |s| s.packet_len_err),
        ("version", v3, 255, |s| s.version_err),
        ("type", bad_type, 255, |s| s.invalid_type_rcvd),
        ("checksum", bad_sum, 255, |s| s.checksum_err),
        ("interval", int2, 255, |s| s.v2_interval_err),
        ("auth type", pass, 255, |s| s.authtype_mismatch),
        // keepalived 2.2.7 knows AH (2): a type mismatch; 3 and up are invalid.
        ("auth AH", ah, 255, |s| s.authtype_mismatch),
        ("auth 3", auth3, 255, |s| s.invalid_authtype),
    ];
    for (what, b, ttl, counter) in cases {
        let mut e = started(instance());
        let before = e.next_deadline();
        let out = receive(&mut e, PEER, GROUP, ttl, &b, t);
        assert!(out.is_empty(), "{what}: {out:?}");
        let st = e.instance("VI").unwrap();
        assert_eq!(counter(st.stats), 1, "{what}: {:?}", st.stats);
        assert_eq!(
            st.stats.rx_errors() + st.stats.advert_interval_err,
            1,
            "{what}: counted once"
        );
        assert_eq!(st.stats.adverts_rcvd, 0, "{what}");
        assert_eq!(
            (st.state, e.next_deadline()),
            (State::Backup, before),
            "{what}: state untouched"
        );
    }
    // The good one re-arms the timer.
    let mut e = started(instance());
    let before = e.next_deadline();
    receive(&mut e, PEER, GROUP, 255, &good, t);
    assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 1);
    assert!(e.next_deadline() > before);
}

#[test]
fn password_auth_is_checked() {
    let mut c = instance();
    c.auth = Auth::pass("secret");
    let t = Timestamp::from_millis(1);
    let mut e = started(c.clone());
    rx_advert_auth(&mut e, PEER, 200, AUTH_PASS, b"secreT\0\0", t);
    assert_eq!(e.instance("VI").unwrap().stats.auth_failure, 1);
    rx_advert(&mut e, PEER, 200, t);
    assert_eq!(e.instance("VI").unwrap().stats.authtype_mismatch, 1);
    rx_advert_auth(&mut e, PEER, 200, AUTH_PASS, b"secret\0\0", t);
    assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 1);
    // And our own adverts carry the password.
    let (mut m, _) = master(c);
    let out = m.handle(Input::Timer, m.next_deadline().unwrap());
    let Some(Action::SendAdvert { bytes, .. }) = out.first() else {
        panic!("{out:?}")
    };
    assert_eq!(&bytes[bytes.len() - 8..], b"secret\0\0");
    assert_eq!(bytes[4], AUTH_PASS);
}

#[test]
fn v3_interval_mismatch_is_counted_but_processed() {
    let mut c = instance();
    c.version = Version::V3;
    let mut e = started(c);
    let before = e.next_deadline();
    let a = Advert::v3(7, 200, 50, vec![ip("10.0.0.100")]);
    let b = a
        .encode(ip(PEER), ip(GROUP), ChecksumKind::Standard)
        .unwrap();
    receive(&mut e, PEER, GROUP, 255, &b, Timestamp::from_millis(10));
    let st = e.instance("VI").unwrap();
    assert_eq!(
        (st.stats.advert_interval_err, st.stats.adverts_rcvd),
        (1, 1)
    );
    assert_eq!(
        e.last_rx_error(),
        Some(("VI", vrrp::RxError::AdvertInterval))
    );
    assert!(
        e.next_deadline() != before,
        "processed: timer re-armed from the learned interval"
    );
}

/// The address lists a same-VRID router with other VIPs (or a forger) may announce.
fn bad_lists() -> Vec<Vec<IpAddr>> {
    vec![
        vec![],
        vec![ip("10.0.0.100"), ip("10.0.0.100")],
        vec![ip("10.0.0.99")],
        vec![ip("10.0.0.100"), ip("10.0.0.99")],
    ]
}

fn list_advert(version: Version, prio: u8, addrs: Vec<IpAddr>) -> Vec<u8> {
    let a = match version {
        Version::V2 => Advert::v2(7, prio, 1, AUTH_NONE, [0; 8], addrs),
        Version::V3 => Advert::v3(7, prio, 100, addrs),
    };
    a.encode(ip(PEER), ip(GROUP), ChecksumKind::Standard)
        .unwrap()
}

#[test]
fn master_yields_to_a_higher_priority_advert_with_another_address_list() {
    // As keepalived 2.4.3: the advert is counted as an address list error, reported, and
    // accepted (RFC 3768 and keepalived 2.2.7 drop it).
    for version in [Version::V2, Version::V3] {
        for list in bad_lists() {
            let mut c = instance();
            c.version = version;
            let (mut e, t) = master(c);
            let b = list_advert(version, 250, list.clone());
            receive(&mut e, PEER, GROUP, 255, &b, t);
            let st = e.instance("VI").unwrap();
            assert_eq!(st.state, State::Backup, "{version:?} {list:?}");
            assert_eq!((st.stats.adverts_rcvd, st.stats.addr_list_err), (1, 1));
            assert_eq!(e.last_rx_error(), Some(("VI", vrrp::RxError::AddressList)));
        }
    }
}

#[test]
fn backup_accepts_adverts_with_another_address_list_and_reports_each_sender_once() {
    for version in [Version::V2, Version::V3] {
        for list in bad_lists() {
            let mut c = instance();
            c.version = version;
            let mut e = started(c);
            let before = e.next_deadline();
            let b = list_advert(version, 250, list.clone());
            receive(&mut e, PEER, GROUP, 255, &b, Timestamp::from_millis(500));
            assert_ne!(
                e.next_deadline(),
                before,
                "{version:?} {list:?}: not re-armed"
            );
            assert_eq!(e.instance("VI").unwrap().master, Some(ip(PEER)));
            assert_eq!(e.last_rx_error(), Some(("VI", vrrp::RxError::AddressList)));
            // The same sender again: counted, not reported again.
            receive(&mut e, PEER, GROUP, 255, &b, Timestamp::from_millis(1500));
            assert_eq!(e.last_rx_error(), None, "{version:?} {list:?}");
            let st = e.instance("VI").unwrap();
            assert_eq!((st.stats.adverts_rcvd, st.stats.addr_list_err), (2, 2));
        }
        // skip_check_adv_addr: the known master's adverts are not checked.
        let mut c = instance();
        c.version = version;
        c.skip_check_adv_addr = true;
        let mut e = started(c);
        let good = list_advert(version, 250, vec![ip("10.0.0.100")]);
        receive(&mut e, PEER, GROUP, 255, &good, Timestamp::from_millis(100));
        let bad = list_advert(version, 250, vec![]);
        receive(&mut e, PEER, GROUP, 255, &bad, Timestamp::from_millis(200));
        let st = e.instance("VI").unwrap();
        assert_eq!((st.stats.adverts_rcvd, st.stats.addr_list_err), (2, 0));
    }
}

#[test]
fn v3_multicast_checksum_without_pseudo_header_needs_v3_checksum_as_v2() {
    let a = Advert::v3(7, 250, 100, vec![ip("10.0.0.100")]);
    let old = a
        .encode(ip(PEER), ip(GROUP), ChecksumKind::WithoutPseudoHeader)
        .unwrap();
    let mut c = instance();
    c.version = Version::V3;
    let (mut e, t) = master(c.clone());
    let out = receive(&mut e, PEER, GROUP, 255, &old, t);
    let st = e.instance("VI").unwrap();
    assert_eq!(st.state, State::Master, "{out:?}");
    assert_eq!((st.stats.checksum_err, st.stats.adverts_rcvd), (1, 0));
    assert_eq!(e.last_rx_error(), Some(("VI", vrrp::RxError::Checksum)));
    c.v3_checksum_as_v2 = true;
    let (mut e, t) = master(c);
    receive(&mut e, PEER, GROUP, 255, &old, t);
    let st = e.instance("VI").unwrap();
    assert_eq!((st.state, st.stats.adverts_rcvd), (State::Backup, 1));
}

#[test]
fn routing_and_mode_checks() {
    let t = Timestamp::from_millis(1);
    let mut e = started(instance());
    receive(&mut e, PEER, GROUP, 255, &[0x21], t);
    let mut other = advert_v2(200, 1, AUTH_NONE, &[0; 8]);
    other.vrid = 8;
    receive(&mut e, PEER, GROUP, 255, &bytes(&other, PEER), t);
    assert_eq!((e.stats().rx_too_short, e.stats().rx_unknown_vrid), (1, 1));
    // A multicast instance hearing a unicast advert.
    let a = advert_v2(200, 1, AUTH_NONE, &[0; 8]);
    let uni = a.encode(ip(PEER), ip(ME), ChecksumKind::Standard).unwrap();
    receive(&mut e, PEER, ME, 64, &uni, t);
    assert_eq!(e.instance("VI").unwrap().stats.dst_mode_err, 1);
    // A unicast instance: TTL limits per peer, and check_unicast_src.
    let mut c = instance();
    c.unicast_peers = vec![UnicastPeer {
        addr: ip(PEER),
        min_ttl: Some(250),
        max_ttl: None,
    }];
    c.check_unicast_src = true;
    let mut e = started(c);
    receive(&mut e, PEER, ME, 64, &uni, t);
    assert_eq!(e.instance("VI").unwrap().stats.ip_ttl_err, 1);
    let stranger = a
        .encode(ip("10.0.0.9"), ip(ME), ChecksumKind::Standard)
        .unwrap();
    receive(&mut e, "10.0.0.9", ME, 255, &stranger, t);
    assert_eq!(e.instance("VI").unwrap().stats.unicast_src_err, 1);
    receive(&mut e, PEER, ME, 255, &uni, t);
    assert_eq!(e.instance("VI").unwrap().stats.adverts_rcvd, 1);
    receive(&mut e, PEER, GROUP, 255, &bytes(&a, PEER), t);
    assert_eq!(e.instance("VI").unwrap().stats.dst_mode_err, 1);
}

#[test]
fn startup_removes_leftovers_then_backup_then_master_with_garp_schedule() {
    let mut c = instance();
    c.addresses.vips.push(Vip::host(ip("10.0.0.101")));
    c.addresses.excluded.push(Vip::host(ip("2001:db8::1")));
    c.garp = GarpConfig {
        master_refresh: Some(Duration::from_secs(60)),
        ..GarpConfig::default()
    };
    let mut e = engine(c);
    let out = e.handle(Input::Startup, Timestamp::ZERO);
    assert_eq!(kinds(&out), ["del", "state", "notify"]);
    let t = e.next_deadline().unwrap();
    assert_eq!(t, Timestamp::from_micros(3_609_375));
    let out = e.handle(Input::Timer, t);
    assert_eq!(
        kinds(&out),
        ["advert", "add", "garp", "na", "state", "notify"]
    );
    assert!(matches!(&out[2], Action::SendGarp { repeat: 5, addrs, .. } if addrs.len() == 2));
    // Adverts every second; the second GARP burst 5 s later; refresh every 60 s.
    let mut garps = vec![];
    let mut adverts = 0;
    let mut now = t;
    while now < t + Duration::from_secs(125) {
        now = e.next_deadline().unwrap();
        let out = e.handle(Input::Timer, now);
        adverts += advert_prios(&out).len();
        if out.iter().any(|a| matches!(a, Action::SendGarp { .. })) {
            garps.push((now - t).as_secs());
        }
    }
    assert_eq!(garps, [5, 60, 120]);
    assert!((124..=126).contains(&adverts), "{adverts}");
}

#[test]
fn master_reactions_to_other_adverts() {
    let t = |ms: u64| Timestamp::from_millis(10_000 + ms);
    // Lower priority: answer with an advert, GARP burst, notify_master_rx_lower_pri.
    let (mut e, _) = master(instance());
    let out = rx_advert(&mut e, PEER, 50, t(0));
    assert_eq!(kinds(&out), ["advert", "garp", "rx_lower"]);
    // lower_prio_no_advert: no advert.
    let mut c = instance();
    c.lower_prio_no_advert = true;
    let (mut e, _) = master(c);
    let out = rx_advert(&mut e, PEER, 50, t(0));
    assert_eq!(kinds(&out), ["garp", "rx_lower"]);
    // Equal priority: the higher address wins. PEER (.1) < ME (.2): we stay.
    let (mut e, _) = master(instance());
    let out = rx_advert(&mut e, PEER, 100, t(0));
    assert_eq!(e.instance("VI").unwrap().state, State::Master, "{out:?}");
    let out = rx_advert(&mut e, "10.0.0.3", 100, t(1));
    assert_eq!(kinds(&out), ["del", "state", "notify"]);
    assert_eq!(e.instance("VI").unwrap().state, State::Backup);
    // Higher priority, with higher_prio_send_advert: one advert first, then yield (no prio 0).
    let mut c = instance();
    c.higher_prio_send_advert = true;
    let (mut e, _) = master(c);
    let out = rx_advert(&mut e, PEER, 200, t(0));
    assert_eq!(kinds(&out), ["advert", "del", "state", "notify"]);
    assert_eq!(advert_prios(&out), [100]);
    // Priority 0 from someone: answer at once.
    let (mut e, _) = master(instance());
    let out = rx_advert(&mut e, PEER, 0, t(0));
    assert_eq!(kinds(&out), ["advert"]);
    assert_eq!(e.instance("VI").unwrap().stats.pri_zero_rcvd, 1);
}

#[test]
fn backup_priority_zero_means_skew_only() {
    let mut e = started(instance());
    let t = Timestamp::from_millis(1000);
    rx_advert(&mut e, PEER, 0, t);
    assert_eq!(e.next_deadline(), Some(t + Duration::from_micros(609_375)));
}

#[test]
fn owner_starts_master_and_can_ignore_adverts() {
    let mut c = instance();
    c.priority = 255;
    c.initial_state = vrrp::InitialState::Master;
    c.owner_ignore_adverts = true;
    let mut e = engine(c);
    let out = e.handle(Input::Startup, Timestamp::ZERO);
    assert_eq!(kinds(&out)[..2], ["advert", "add"]);
    let out = rx_advert(&mut e, "10.0.0.9", 255, Timestamp::from_millis(5));
    assert!(out.is_empty());
    assert_eq!(e.instance("VI").unwrap().stats.owner_ignored, 1);
}

#[test]
fn shutdown_sends_priority_zero_and_releases() {
    let (mut e, t) = master(instance());
    let out = e.handle(Input::Shutdown, t);
    assert_eq!(kinds(&out), ["advert", "del", "state", "notify"]);
    assert_eq!(advert_prios(&out), [0]);
    assert!(matches!(
        &out[3],
        Action::Notify {
            state: NotifyState::Stop,
            ..
        }
    ));
    assert_eq!(e.next_deadline(), None);
    assert_eq!(e.instance("VI").unwrap().stats.pri_zero_sent, 1);
}

#[test]
fn faults_from_links_trackers_and_missing_source() {
    let mut c = instance();
    c.track.push(TrackConfig {
        kind: TrackKind::Script,
        name: "chk".into(),
        weight: 0,
        reverse: false,
    });
    c.track.push(TrackConfig {
        kind: TrackKind::Interface,
        name: "eth1".into(),
        weight: 10,
        reverse: false,
    });
    // Unknown weight-0 script: FAULT at startup.
    let mut e = engine(c.clone());
    e.handle(Input::Startup, Timestamp::ZERO);
    assert_eq!(e.instance("VI").unwrap().state, State::Fault);
    let out = e.handle(
        Input::Tracker {
            kind: TrackKind::Script,
            name: "chk",
            status: TrackStatus::Up,
        },
        Timestamp::from_millis(1),
    );
    assert_eq!(kinds(&out), ["state", "notify"]);
    assert_eq!(e.instance("VI").unwrap().state, State::Backup);
    assert_eq!(
        e.instance("VI").unwrap().priority,
        110,
        "eth1 is up by default: +10"
    );
    let out = e.handle(Input::LinkDown { iface: "eth1" }, Timestamp::from_millis(1));
    assert_eq!(kinds(&out), ["prio"]);
    e.handle(Input::LinkUp { iface: "eth1" }, Timestamp::from_millis(1));
    let t = e.next_deadline().unwrap();
    let out = e.handle(Input::Timer, t);
    assert_eq!(
        advert_prios(&out),
        [110],
        "the effective priority is advertised"
    );
    // The script fails while MASTER: priority 0, release, FAULT.
    let out = e.handle(
        Input::Tracker {
            kind: TrackKind::Script,
            name: "chk",
            status: TrackStatus::Down,
        },
        t,
    );
    assert_eq!(kinds(&out), ["advert", "del", "state", "notify"]);
    assert_eq!(advert_prios(&out), [0]);
    // Own link down: FAULT without sending; up again: BACKUP.
    let mut e = started(instance());
    let out = e.handle(Input::LinkDown { iface: "eth0" }, Timestamp::from_millis(1));
    assert_eq!(e.instance("VI").unwrap().state, State::Fault, "{out:?}");
    e.handle(Input::LinkUp { iface: "eth0" }, Timestamp::from_millis(2));
    assert_eq!(e.instance("VI").unwrap().state, State::Backup);
    // No configured source and no interface address: FAULT until one is reported.
    let mut c = instance();
    c.src_addr = None;
    let mut e = started(c);
    assert_eq!(e.instance("VI").unwrap().state, State::Fault);
    e.handle(
        Input::InterfaceAddress {
            iface: "eth0",
            family: Family::V4,
            addr: Some(ip(ME)),
        },
        Timestamp::from_millis(3),
    );
    assert_eq!(e.instance("VI").unwrap().state, State::Backup);
}

/// A fresh engine told at time zero to resume "VI" in `state`, and what it did.
fn resumed(state: State) -> (Engine, Vec<Action>) {
    let mut e = engine(instance());
    let out = e.handle(
        Input::Resume {
            instance: "VI",
            state,
        },
        Timestamp::ZERO,
    );
    (e, out)
}

#[test]
fn resume_as_master_keeps_addresses_and_advertises_first() {
    let (mut e, out) = resumed(State::Master);
    assert_eq!(kinds(&out), ["advert", "add", "garp", "state"]);
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
    // Startup afterwards leaves it alone.
    assert!(e.handle(Input::Startup, Timestamp::ZERO).is_empty());
    // Resume as BACKUP: release whatever was there.
    let (_, out) = resumed(State::Backup);
    assert_eq!(kinds(&out), ["del", "state"]);
}

#[test]
fn reload_keeps_state_and_diffs_addresses() {
    let mut a = instance();
    let mut b = InstanceConfig::new("VB", "eth0", 9, &[ip("10.0.0.200")]);
    b.src_addr = Some(ip(ME));
    let cfg = EngineConfig {
        instances: vec![a.clone(), b.clone()],
        sync_groups: vec![],
    };
    let mut e = Engine::new(cfg).unwrap();
    e.handle(Input::Startup, Timestamp::ZERO);
    let t = e.next_deadline().unwrap();
    e.handle(Input::Timer, t);
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
    assert_eq!(e.instance("VB").unwrap().state, State::Master);
    // VI renamed (same VRID/interface: same instance), priority and one VIP changed; VB
    // removed; VC added.
    a.name = "VI_renamed".into();
    a.priority = 120;
    a.addresses.vips = vec![Vip::host(ip("10.0.0.100")), Vip::host(ip("10.0.0.150"))];
    let mut c = InstanceConfig::new("VC", "eth0", 10, &[ip("10.0.0.250")]);
    c.src_addr = Some(ip(ME));
    let out = e
        .reload(
            EngineConfig {
                instances: vec![a, c],
                sync_groups: vec![],
            },
            t + Duration::from_millis(10),
        )
        .unwrap();
    let k = kinds(&out);
    assert_eq!(k.iter().filter(|k| **k == "add").count(), 1, "{out:?}");
    assert!(out.iter().any(
        |x| matches!(x, Action::AddAddresses { addrs, .. } if addrs.vips == vec![Vip::host(ip("10.0.0.150"))])
    ));
    assert!(out.iter().any(|x| matches!(x, Action::Notify { target: NotifyTarget::Instance(n), state: NotifyState::Deleted, .. } if &**n == "VB")));
    assert!(out.iter().any(|x| matches!(x, Action::SendAdvert { instance, bytes, .. } if &**instance == "VB" && bytes[2] == 0)));
    let st = e.instance("VI_renamed").unwrap();
    assert_eq!((st.state, st.priority), (State::Master, 120));
    assert_eq!(e.instance("VC").unwrap().state, State::Backup);
    assert!(e.instance("VB").is_none());
    // An invalid config is refused and changes nothing.
    let mut bad = instance();
    bad.vrid = 0;
    assert!(e
        .reload(
            EngineConfig {
                instances: vec![bad],
                sync_groups: vec![],
            },
            t
        )
        .is_err());
    assert!(e.instance("VC").is_some());
    let _ = b;
}

#[test]
fn ipv6_instances_send_na_and_v3_adverts() {
    let mut c = InstanceConfig::new("VI", "eth0", 7, &[ip("fe80::7"), ip("2001:db8::7")]);
    c.src_addr = Some(ip("fe80::2"));
    assert_eq!(c.version, Version::V3);
    let (mut e, _) = master(c);
    let out = e.handle(Input::Timer, e.next_deadline().unwrap());
    let Some(Action::SendAdvert { dst, bytes, .. }) = out.first() else {
        panic!()
    };
    assert_eq!(*dst, ip("ff02::12"));
    let (a, _) = Advert::decode(bytes, ip("fe80::2"), *dst).unwrap();
    assert_eq!(
        (a.version, a.adver_int, a.addrs.len()),
        (Version::V3, 100, 2)
    );
}

#[test]
fn unicast_v3_answers_an_old_checksum_peer_in_kind() {
    let mut c = instance();
    c.version = Version::V3;
    c.unicast_peers = vec![UnicastPeer::new(ip(PEER))];
    let (mut e, t) = master(c);
    let sent = |out: &[Action]| -> ChecksumKind {
        let Some(Action::SendAdvert { bytes, .. }) =
            out.iter().find(|a| matches!(a, Action::SendAdvert { .. }))
        else {
            panic!("{out:?}")
        };
        Advert::decode(bytes, ip(ME), ip(PEER)).unwrap().1
    };
    let out = e.handle(Input::Timer, e.next_deadline().unwrap());
    assert_eq!(sent(&out), ChecksumKind::Standard);
    // A lower-priority peer using the pre-1.3.6 checksum: we answer, and keep, its format.
    let old = Advert::v3(7, 50, 100, vec![ip("10.0.0.100")])
        .encode(ip(PEER), ip(ME), ChecksumKind::WithoutPseudoHeader)
        .unwrap();
    let out = receive(&mut e, PEER, ME, 255, &old, t + Duration::from_millis(1500));
    assert_eq!(sent(&out), ChecksumKind::WithoutPseudoHeader);
    let out = e.handle(Input::Timer, e.next_deadline().unwrap());
    assert_eq!(sent(&out), ChecksumKind::WithoutPseudoHeader);
}

#[test]
fn sync_group_goes_master_only_when_every_member_wants_it() {
    let mut e = started_group_pair();
    // Someone is MASTER for VRID 8 only (priority 200), advertising every second.
    let mut peer8 = advert_v2(200, 1, AUTH_NONE, &[0; 8]);
    peer8.vrid = 8;
    peer8.addrs = vec![ip("10.0.0.200")];
    let hear = |e: &mut Engine, prio: u8, t: Timestamp| {
        let mut a = peer8.clone();
        a.priority = prio;
        receive(e, PEER, GROUP, 255, &bytes(&a, PEER), t)
    };
    let mut t = Timestamp::ZERO;
    let mut all = Vec::new();
    for _ in 0..10 {
        t = t + Duration::from_secs(1);
        all.extend(hear(&mut e, 200, t));
        while let Some(d) = e
            .next_deadline()
            .filter(|d| *d <= t + Duration::from_millis(999))
        {
            all.extend(e.handle(Input::Timer, d));
        }
    }
    // VI_1's timer ran out long ago, but VI_2 hears a master: nobody moves, no address.
    assert_eq!(e.instance("VI_1").unwrap().state, State::Backup);
    assert_eq!(e.instance("VI_2").unwrap().state, State::Backup);
    assert!(
        !all.iter().any(|a| matches!(a, Action::AddAddresses { .. })),
        "{all:?}"
    );
    // The VRID 8 master steps down: after VI_2's skew, both become MASTER together.
    hear(&mut e, 0, t + Duration::from_millis(100));
    let d = e.next_deadline().unwrap();
    let out = e.handle(Input::Timer, d);
    assert_eq!(e.instance("VI_1").unwrap().state, State::Master, "{out:?}");
    assert_eq!(e.instance("VI_2").unwrap().state, State::Master);
    assert!(out.iter().any(|a| matches!(a, Action::Notify { target: NotifyTarget::Group(g), state: NotifyState::Master, .. } if &**g == "G")));
    assert_eq!(e.group_state("G"), Some(State::Master));
    // A higher priority for VRID 8 takes the whole group back to BACKUP.
    let out = hear(&mut e, 250, d + Duration::from_millis(10));
    assert_eq!(e.instance("VI_1").unwrap().state, State::Backup, "{out:?}");
    assert_eq!(kinds(&out).iter().filter(|k| **k == "del").count(), 2);
    // VI_2 yields silently; VI_1 (pulled along) says priority 0 so its peer takes over fast.
    assert_eq!(advert_prios(&out), [0]);
}

#[test]
fn lower_priority_adverts_are_answered_at_most_once_per_interval() {
    let mut c = instance();
    c.garp.lower_prio_repeat = 5;
    let (mut e, t) = master(c);
    let low = bytes(&advert_v2(50, 1, AUTH_NONE, &[0; 8]), PEER);
    // A flood: 1,000 adverts in 100 ms.
    let mut adverts = 0;
    let mut garps = 0;
    let mut seen = 0;
    for k in 0..1000u64 {
        let now = t + Duration::from_micros(100 * k);
        for a in receive(&mut e, PEER, GROUP, 255, &low, now) {
            match a {
                Action::SendAdvert { .. } => adverts += 1,
                Action::SendGarp { .. } => garps += 1,
                Action::MasterRxLowerPriority { .. } => seen += 1,
                _ => {}
            }
        }
    }
    assert_eq!((adverts, garps, seen), (1, 1, 1000));
    // One interval later a lower-priority master is answered again.
    let later = t + Duration::from_millis(1100);
    let out = receive(&mut e, PEER, GROUP, 255, &low, later);
    assert_eq!(kinds(&out)[..2], ["advert", "garp"], "{out:?}");
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
}

#[test]
fn headers_shorter_than_8_bytes_are_not_routed() {
    let mut e = started(instance());
    let good = bytes(&advert_v2(200, 1, AUTH_NONE, &[0; 8]), PEER);
    for n in [2, 4, 7] {
        receive(
            &mut e,
            PEER,
            GROUP,
            255,
            &good[..n],
            Timestamp::from_millis(1),
        );
    }
    assert_eq!(e.stats().rx_too_short, 3);
    assert_eq!(e.instance("VI").unwrap().stats.packet_len_err, 0);
}

/// An advert from PEER that the I/O layer received at `received` and hands over at `now`
/// (it sat in the socket queue in between: the process was stopped or starved).
fn rx_queued(e: &mut Engine, b: &[u8], received: Timestamp, now: Timestamp) -> Vec<Action> {
    let p = Packet {
        received: Some(received),
        ..packet(PEER, GROUP, 255, b)
    };
    e.handle(Input::Packet(p), now)
}

/// A BACKUP at priority 100 that has heard PEER (priority 200) at 0.2 s.
fn listening_backup() -> (Engine, Vec<u8>, Duration) {
    let mut c = instance();
    c.priority = 100;
    let mut e = started(c);
    let good = bytes(&advert_v2(200, 1, AUTH_NONE, &[0; 8]), PEER);
    receive(&mut e, PEER, GROUP, 255, &good, Timestamp::from_millis(200));
    let s = e.instance("VI").unwrap();
    assert_eq!(s.state, State::Backup);
    let mdi = s.master_down_interval;
    // 3 x 1 s + (256 - 100) / 256 s.
    assert_eq!(mdi, Duration::from_micros(3_609_375));
    (e, good, mdi)
}

#[test]
fn a_queued_advert_older_than_master_down_does_not_postpone_the_takeover() {
    let (mut e, good, mdi) = listening_backup();
    // The master's last advert arrived at 1.2 s; we handle it (queued while we were
    // stopped) 100 ms after Master_Down_Interval had run out.
    let received = Timestamp::from_millis(1200);
    let now = received + mdi + Duration::from_millis(100);
    rx_queued(&mut e, &good, received, now);
    let s = e.instance("VI").unwrap();
    assert_eq!(
        s.state,
        State::Backup,
        "the advert itself is still accepted"
    );
    assert_eq!(s.last_advert, Some(received));
    assert_eq!(s.stats.adverts_rcvd, 2);
    let due = e.next_deadline().unwrap();
    assert!(due <= now, "down timer due at {due}, handled at {now}");
    let out = e.handle(Input::Timer, now);
    assert!(
        out.iter().any(|a| matches!(
            a,
            Action::StateChanged {
                to: State::Master,
                reason: vrrp::Reason::MasterDown,
                ..
            }
        )),
        "{out:?}"
    );
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
}

#[test]
fn a_queued_advert_restarts_master_down_from_its_receive_time() {
    let (mut e, good, mdi) = listening_backup();
    let received = Timestamp::from_millis(1200);
    rx_queued(
        &mut e,
        &good,
        received,
        received + Duration::from_millis(50),
    );
    assert_eq!(e.next_deadline(), Some(received + mdi));
    // A receive time after `now` (clocks disagree) counts as now, never later.
    let now = Timestamp::from_millis(2000);
    rx_queued(&mut e, &good, now + Duration::from_secs(5), now);
    assert_eq!(e.next_deadline(), Some(now + mdi));
    assert_eq!(e.instance("VI").unwrap().last_advert, Some(now));
    // Without a receive time: from now, as before.
    let now = Timestamp::from_millis(2500);
    receive(&mut e, PEER, GROUP, 255, &good, now);
    assert_eq!(e.next_deadline(), Some(now + mdi));
    // A queued priority-0 advert: Skew_Time from its receive time.
    let bye = bytes(&advert_v2(0, 1, AUTH_NONE, &[0; 8]), PEER);
    let received = Timestamp::from_millis(2600);
    rx_queued(
        &mut e,
        &bye,
        received,
        received + Duration::from_millis(300),
    );
    assert_eq!(
        e.next_deadline(),
        Some(received + Duration::from_micros(609_375))
    );
}

#[test]
fn a_master_stepping_down_for_a_queued_advert_times_from_its_receive_time() {
    let mut c = instance();
    c.priority = 100;
    let (mut e, t) = master(c);
    let higher = bytes(&advert_v2(200, 1, AUTH_NONE, &[0; 8]), PEER);
    let received = t + Duration::from_millis(500);
    let now = received + Duration::from_millis(700);
    rx_queued(&mut e, &higher, received, now);
    let s = e.instance("VI").unwrap();
    assert_eq!(s.state, State::Backup, "a higher priority is still obeyed");
    assert_eq!(e.next_deadline(), Some(received + s.master_down_interval));
}

/// `ctl maintenance`: a drained MASTER hands over at once with priority 0 and advertises
/// priority 1 from then on; restored, it has its priority back and preempts again after
/// a Master_Down_Interval (the RFC's rule for a backup that hears a lower priority).
#[test]
fn maintenance_drains_with_priority_zero_and_holds_priority_one() {
    let mut c = instance();
    c.priority = 100;
    let (mut e, t) = master(c);
    let out = e.handle(
        Input::Maintenance {
            instance: Some("VI"),
            on: true,
        },
        t,
    );
    assert_eq!(
        kinds(&out),
        ["prio", "advert", "del", "state", "notify"],
        "{out:?}"
    );
    assert_eq!(advert_prios(&out), [0]);
    assert!(out.iter().any(|a| matches!(
        a,
        Action::StateChanged {
            to: State::Backup,
            reason: vrrp::Reason::Maintenance,
            priority: 1,
            ..
        }
    )));
    let st = e.instance("VI").unwrap();
    assert_eq!((st.state, st.priority), (State::Backup, 1));
    // A peer at 90 takes over; the drained backup stays backup.
    let t1 = t + Duration::from_millis(700);
    let out = rx_advert(&mut e, PEER, 90, t1);
    assert!(!kinds(&out).contains(&"state"), "{out:?}");
    // Restored: priority 100 again; the master at 90 is lower, so after the down
    // interval (no reset by its lower adverts) the restored host preempts.
    let out = e.handle(
        Input::Maintenance {
            instance: None,
            on: false,
        },
        t1,
    );
    assert_eq!(kinds(&out), ["prio"], "{out:?}");
    assert_eq!(e.instance("VI").unwrap().priority, 100);
    let mut now = t1;
    for _ in 0..3 {
        now = now + Duration::from_secs(1);
        rx_advert(&mut e, PEER, 90, now);
    }
    let d = e.next_deadline().unwrap();
    e.handle(Input::Timer, d);
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
    // An unknown name changes nothing.
    assert!(e
        .handle(
            Input::Maintenance {
                instance: Some("nope"),
                on: true
            },
            d
        )
        .is_empty());
}

/// The `RogueOwner` events among `actions`.
fn rogue_events(actions: &[Action]) -> Vec<vrrp::RogueOwner> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::RogueOwner { event, .. } => Some(*event),
            _ => None,
        })
        .collect()
}

/// An address owner (priority 255, state MASTER) started at time 0: MASTER at once.
fn owner_master() -> Engine {
    let mut c = instance();
    c.priority = 255;
    c.initial_state = vrrp::InitialState::Master;
    let mut e = engine(c);
    e.handle(Input::Startup, Timestamp::ZERO);
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
    e
}

/// Run the timers from `from` to `to`, collecting what they do.
fn run_timers(e: &mut Engine, to: Timestamp) -> Vec<Action> {
    let mut out = Vec::new();
    while let Some(t) = e.next_deadline().filter(|&t| t <= to) {
        out.extend(e.handle(Input::Timer, t));
    }
    out
}

#[test]
fn an_owner_with_the_lower_address_reports_the_other_owner_and_yields() {
    let mut e = owner_master();
    let out = rx_advert(&mut e, "10.0.0.3", 255, Timestamp::from_millis(300));
    assert_eq!(
        rogue_events(&out),
        [vrrp::RogueOwner::Conflict(ip("10.0.0.3"))]
    );
    assert_eq!(
        kinds(&out)[0],
        "rogue",
        "reported before the transition: {out:?}"
    );
    assert_eq!(e.instance("VI").unwrap().state, State::Backup);
}

#[test]
fn an_owner_with_the_higher_address_reports_once_and_notes_when_the_rogue_stops() {
    let mut e = owner_master();
    // A rogue owner with a lower address: reported once, answered, we stay MASTER.
    let mut events = Vec::new();
    for ms in [300, 350, 900] {
        let out = rx_advert(&mut e, PEER, 255, Timestamp::from_millis(ms));
        events.extend(rogue_events(&out));
    }
    assert_eq!(events, [vrrp::RogueOwner::Conflict(ip(PEER))]);
    assert_eq!(e.instance("VI").unwrap().state, State::Master);
    // Our adverts at 2 s and 3 s (1 s is less than an interval after its last advert),
    // then 1.2 x 1 s later (4.2 s) the rogue is taken as quiet.
    let out = run_timers(&mut e, Timestamp::from_millis(4_199));
    assert!(rogue_events(&out).is_empty(), "{out:?}");
    let out = run_timers(&mut e, Timestamp::from_millis(4_200));
    assert_eq!(rogue_events(&out), [vrrp::RogueOwner::Stopped]);
    let st = e.instance("VI").unwrap();
    assert_eq!((st.state, st.priority), (State::Master, 255));
    // A later episode is reported again, once.
    let out = rx_advert(&mut e, PEER, 255, Timestamp::from_millis(10_000));
    assert_eq!(rogue_events(&out), [vrrp::RogueOwner::Conflict(ip(PEER))]);
}

/// An owner that stepped down to 254 (BACKUP) for a rogue owner that kept advertising
/// less often than we do (at 0.3, 1.9 and 4.3 s); returned at 5.3 s.
fn stepped_down_owner() -> Engine {
    let mut e = owner_master();
    let out = rx_advert(&mut e, PEER, 255, Timestamp::from_millis(300));
    assert_eq!(rogue_events(&out), [vrrp::RogueOwner::Conflict(ip(PEER))]);
    // It advertises less often than we do (every 1.6 s): our adverts at 3 s and 4 s follow
    // a whole interval of silence and count; nothing more is reported meanwhile.
    let out = rx_advert(&mut e, PEER, 255, Timestamp::from_millis(1_900));
    assert!(rogue_events(&out).is_empty(), "{out:?}");
    run_timers(&mut e, Timestamp::from_millis(4_000));
    // Still advertising while we wait: we give way with priority 254.
    let out = rx_advert(&mut e, PEER, 255, Timestamp::from_millis(4_300));
    assert_eq!(
        rogue_events(&out),
        [vrrp::RogueOwner::StillAdvertising(ip(PEER))]
    );
    let st = e.instance("VI").unwrap();
    assert_eq!((st.state, st.priority), (State::Backup, 254));
    // No "stopped" afterwards: the wait was cancelled with MASTER.
    let out = run_timers(&mut e, Timestamp::from_millis(5_300));
    assert!(rogue_events(&out).is_empty(), "{out:?}");
    e
}

#[test]
fn an_owner_steps_down_to_254_when_a_slower_rogue_keeps_advertising() {
    stepped_down_owner();
}

#[test]
fn a_stepped_down_owner_has_255_again_when_it_takes_over() {
    let mut e = stepped_down_owner();
    // Unrelated news (an interface address) does not end the step-down.
    e.handle(
        Input::InterfaceAddress {
            iface: "eth1",
            family: Family::V4,
            addr: Some(ip("192.0.2.1")),
        },
        Timestamp::from_millis(5_350),
    );
    assert_eq!(e.instance("VI").unwrap().priority, 254);
    // The rogue is quiet: Master_Down_Interval later we are MASTER again, with 255.
    let out = run_timers(&mut e, Timestamp::from_millis(9_000));
    assert_eq!(rogue_events(&out), [vrrp::RogueOwner::RestoredOnTakeover]);
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::SendAdvert { bytes, .. } if bytes[2] == 255)),
        "{out:?}"
    );
    let st = e.instance("VI").unwrap();
    assert_eq!((st.state, st.priority), (State::Master, 255));
}

#[test]
fn a_stepped_down_owner_has_255_again_when_it_hears_a_lower_priority() {
    let mut e = stepped_down_owner();
    let out = rx_advert(&mut e, PEER, 255, Timestamp::from_millis(5_400));
    assert!(
        rogue_events(&out).is_empty(),
        "the same owner again: {out:?}"
    );
    let out = rx_advert(&mut e, PEER, 200, Timestamp::from_millis(5_500));
    assert_eq!(
        rogue_events(&out),
        [vrrp::RogueOwner::RestoredOnLowerAdvert]
    );
    assert_eq!(e.instance("VI").unwrap().priority, 255);
}

#[test]
fn a_rogue_owner_advertising_as_often_as_we_do_is_never_taken_as_gone() {
    // keepalived 2.4 restarts its advert timer at each answer, so it never counts down.
    let mut e = owner_master();
    let mut events = Vec::new();
    for k in 0..10u64 {
        let t = Timestamp::from_millis(300 + 1_000 * k);
        events.extend(rogue_events(&run_timers(&mut e, t)));
        events.extend(rogue_events(&rx_advert(&mut e, PEER, 255, t)));
    }
    assert_eq!(events, [vrrp::RogueOwner::Conflict(ip(PEER))]);
    let st = e.instance("VI").unwrap();
    assert_eq!((st.state, st.priority), (State::Master, 255));
}

#[test]
fn equal_priority_below_255_is_no_owner_conflict() {
    let (mut e, t) = master(instance());
    let out = rx_advert(&mut e, PEER, 100, t);
    assert!(rogue_events(&out).is_empty(), "{out:?}");
}

#[test]
fn a_backup_announces_each_new_master_it_hears_once() {
    let mut e = started(instance());
    let heard = |out: &[Action]| {
        out.iter()
            .filter_map(|a| match a {
                Action::MasterHeard { from, .. } => Some(*from),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let b = list_advert(Version::V2, 250, vec![ip("10.0.0.100")]);
    let out = receive(&mut e, PEER, GROUP, 255, &b, Timestamp::from_millis(100));
    assert_eq!(heard(&out), vec![ip(PEER)]);
    let out = receive(&mut e, PEER, GROUP, 255, &b, Timestamp::from_millis(1100));
    assert!(heard(&out).is_empty(), "{out:?}");
    let out = receive(
        &mut e,
        "10.0.0.9",
        GROUP,
        255,
        &b,
        Timestamp::from_millis(1200),
    );
    assert_eq!(heard(&out), vec![ip("10.0.0.9")]);
}
