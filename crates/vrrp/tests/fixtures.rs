//! keepalived 2.2.7's adverts (captured by `capture_keepalived.rs`): our decoder reads
//! them, and our engine, given the same settings, sends the same bytes.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

mod fixture_util;
#[path = "support/engine.rs"]
mod support_engine;

use fixture_util::{instance_config, read_fixture, source, split_ip, CASES};
use support_engine::started;
use vrrp::packet::{Ipv4Header, IPPROTO_VRRP};
use vrrp::{Action, Advert, ChecksumKind, Engine, Input, State, Timestamp};

/// An engine with `case`'s instance (from its source address), started and past its first
/// timer (MASTER by then); that timer's actions and time.
fn engine_after_first_timer(case: &fixture_util::Case) -> (Engine, Timestamp, Vec<Action>) {
    let mut cfg = instance_config(case);
    cfg.src_addr = Some(source(case));
    let mut e = started(cfg);
    let at = e.next_deadline().unwrap();
    let actions = e.handle(Input::Timer, at);
    (e, at, actions)
}

/// The first advert among `actions`: (destination, TTL, bytes).
fn first_advert(actions: &[Action]) -> (std::net::IpAddr, u8, Vec<u8>) {
    actions
        .iter()
        .find_map(|a| match a {
            Action::SendAdvert {
                dst, ttl, bytes, ..
            } => Some((*dst, *ttl, bytes.clone())),
            _ => None,
        })
        .unwrap()
}

/// What our engine sends when the instance becomes MASTER.
fn engine_advert(case: &fixture_util::Case) -> (std::net::IpAddr, u8, Vec<u8>) {
    let (e, _, actions) = engine_after_first_timer(case);
    assert_eq!(e.instance(case.name).unwrap().state, State::Master);
    first_advert(&actions)
}

#[test]
fn decoder_reads_keepalived_adverts() {
    for case in CASES {
        let packet = read_fixture(case.file);
        let (ip, payload) = split_ip(&packet).unwrap();
        assert_eq!(ip.proto, IPPROTO_VRRP);
        assert_eq!(ip.ttl, 255);
        assert_eq!(
            ip.tos, 0xc0,
            "{}: keepalived sends TOS/class 0xc0",
            case.name
        );
        let (adv, kind) = Advert::decode(payload, ip.src, ip.dst).unwrap();
        assert_eq!(kind, ChecksumKind::Standard);
        let cfg = instance_config(case);
        assert_eq!(adv.vrid, case.vrid);
        assert_eq!(adv.version, cfg.version);
        assert_eq!(adv.priority, cfg.priority);
        assert_eq!(adv.adver_int, cfg.adver_int_field());
        let vips: Vec<_> = cfg.addresses.vips.iter().map(|v| v.addr).collect();
        assert_eq!(adv.addrs, vips);
        assert_eq!(ip.src, source(case));
        let dst = cfg
            .unicast_peers
            .first()
            .map_or(cfg.mcast_dst(), |p| p.addr);
        assert_eq!(ip.dst, dst);
        if case.name == "V2_PASS" {
            assert_eq!(&adv.auth_data, b"s3cr3t\0\0");
        }
    }
}

#[test]
fn engine_reproduces_keepalived_adverts_byte_for_byte() {
    for case in CASES {
        let packet = read_fixture(case.file);
        let (ip, payload) = split_ip(&packet).unwrap();
        let (dst, ttl, ours) = engine_advert(case);
        assert_eq!((dst, ttl), (ip.dst, ip.ttl), "{}", case.name);
        assert_eq!(
            ours, payload,
            "{}: our advert differs from keepalived's",
            case.name
        );
        // The IPv4 header too, for an I/O layer that builds it (keepalived's IP id
        // counter starts at 1 per instance; no DF).
        if let (std::net::IpAddr::V4(src), std::net::IpAddr::V4(dst)) = (ip.src, ip.dst) {
            let h = Ipv4Header {
                tos: 0xc0,
                total_len: u16::try_from(20 + ours.len()).unwrap(),
                id: 1,
                frag: 0,
                ttl: 255,
                protocol: IPPROTO_VRRP,
                src,
                dst,
            };
            let mut full = h.encode().to_vec();
            full.extend_from_slice(&ours);
            assert_eq!(full, packet, "{}: whole IPv4 packet", case.name);
        }
    }
}

#[test]
fn engine_accepts_keepalived_adverts_as_a_backup() {
    for case in CASES {
        let packet = read_fixture(case.file);
        let (ip, payload) = split_ip(&packet).unwrap();
        let mut cfg = instance_config(case);
        cfg.priority = 1; // lower than the sender: its adverts hold us in BACKUP
        if cfg.is_unicast() {
            cfg.unicast_peers = vec![vrrp::UnicastPeer::new(ip.src)];
            cfg.check_unicast_src = true;
        }
        cfg.src_addr = Some(if ip.src.is_ipv4() && cfg.is_unicast() {
            ip.dst
        } else if ip.src.is_ipv4() {
            "10.99.0.2".parse().unwrap()
        } else {
            "fe80::2".parse().unwrap()
        });
        let mut e = started(cfg);
        let down = e.next_deadline().unwrap();
        // Just before the down timer fires, keepalived's advert arrives: timer re-armed.
        let t = Timestamp(down.0 - 1);
        e.handle(
            Input::Packet(vrrp::Packet {
                iface: "eth0",
                src: ip.src,
                dst: ip.dst,
                ttl: ip.ttl,
                bytes: payload,
                received: None,
            }),
            t,
        );
        let st = e.instance(case.name).unwrap();
        assert_eq!(st.stats.adverts_rcvd, 1, "{}: {:?}", case.name, st.stats);
        assert_eq!(
            st.stats.rx_errors() + st.stats.addr_list_err,
            0,
            "{}",
            case.name
        );
        assert_eq!(st.master, Some(ip.src));
        assert!(
            e.next_deadline().unwrap() > down,
            "{}: timer re-armed",
            case.name
        );
    }
}

#[test]
fn engine_reproduces_keepalived_priority_zero_on_shutdown() {
    for case in CASES {
        let packet = read_fixture(&fixture_util::stop_file(case));
        let (ip, payload) = split_ip(&packet).unwrap();
        let (mut e, at, _) = engine_after_first_timer(case);
        let ours = first_advert(&e.handle(Input::Shutdown, at));
        assert_eq!(ours, (ip.dst, ip.ttl, payload.to_vec()), "{}", case.name);
    }
}
