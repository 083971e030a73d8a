//! Raw VRRP sockets between two network namespaces on a bridge: hand-made VRRP packets go
//! across, and the receiver sees the right source, destination, TTL / hop limit, ifindex.
#![cfg(feature = "linux")]

#[path = "support/inet.rs"]
mod inet;
#[path = "support/poll.rs"]
mod poll;
#[path = "support/sockets.rs"]
mod sockets;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use inet::inet_checksum;
use ka_tests::{require_root, Netns};
use poll::read_within_5s;
use sockets::{captured_ipv4, lan_of_two, open_in, send_in_batches};
use vrrp::linux::socket::{
    Family, RecvBatch, SocketConfig, VrrpSocket, MCAST_GROUP_V4, MCAST_GROUP_V6, RECV_BATCH,
    SEND_BATCH,
};

/// Wait (through mio) for a packet on `s`, return (payload, src, dst, ttl, ifindex).
fn recv_one(s: &mut VrrpSocket) -> (Vec<u8>, IpAddr, IpAddr, u8, u32) {
    let mut buf = vec![0u8; 65536];
    read_within_5s(s, |s| {
        let r = s.recv(&mut buf).expect("recv")?;
        Some((r.payload.to_vec(), r.src, r.dst, r.ttl, r.ifindex))
    })
    .expect("no VRRP packet within 5 s")
}

/// VRRPv2 advert, VRID 51, prio 100, 1 VIP 10.0.0.100, advert_int 1, no auth.
fn v2_advert() -> Vec<u8> {
    sockets::v2_advert(51, 0)
}

/// VRRPv3 advert, VRID 7, prio 200, 1 VIP 2001:db8::7, max_adver_int 100 cs, checksum
/// left to the kernel (IPV6_CHECKSUM).
fn v3_advert_v6() -> Vec<u8> {
    let mut p = vec![0x31, 7, 200, 1, 0, 100, 0, 0];
    p.extend_from_slice(
        &"2001:db8::7"
            .parse::<std::net::Ipv6Addr>()
            .expect("lit")
            .octets(),
    );
    p
}

#[test]
fn multicast_v4_advert_crosses_the_bridge() {
    if !require_root("multicast_v4_advert_crosses_the_bridge") {
        return;
    }
    let (lan, ia, ib) = lan_of_two("10.211.0");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let tx = open_in(a, SocketConfig::multicast("eth0", ia, Family::V4));
    let mut rx = open_in(b, SocketConfig::multicast("eth0", ib, Family::V4));
    let cap = b.run(move || vrrp::linux::capture::Capture::open(ib, 0x0800).expect("capture"));
    let pkt = v2_advert();
    tx.send_advert(&pkt, &[]).expect("send");
    let (payload, src, dst, ttl, ifindex) = recv_one(&mut rx);
    assert_eq!(payload, pkt);
    // The IPv4 header on the wire is keepalived's: TOS 0xc0, no DF, TTL 255, protocol 112.
    let ip = captured_ipv4(&cap, 112, "the advert frame");
    assert_eq!((ip[0], ip[1]), (0x45, 0xc0), "version/IHL, TOS");
    assert_eq!(ip[6] & 0x40, 0, "no DF bit");
    assert_eq!((ip[8], ip[9]), (255, 112), "TTL, protocol");
    assert_eq!(&ip[20..], &pkt[..]);
    assert_eq!(src, IpAddr::V4(Ipv4Addr::new(10, 211, 0, 1)));
    assert_eq!(dst, IpAddr::V4(MCAST_GROUP_V4));
    assert_eq!(ttl, 255);
    assert_eq!(ifindex, ib);
    // With multicast loop off, the sender does not hear itself.
    let mut buf = [0u8; 2048];
    std::thread::sleep(Duration::from_millis(100));
    assert!(tx.recv(&mut buf).expect("recv").is_none());
    // A configured source address (mcast_src_ip) is used, and a custom group works.
    let group: IpAddr = "224.0.0.99".parse().expect("lit");
    let mut cfg = SocketConfig::multicast("eth0", ia, Family::V4);
    cfg.group = Some(group);
    a.ip(["addr", "add", "10.211.0.11/24", "dev", "eth0"]);
    cfg.src = Some("10.211.0.11".parse().expect("lit"));
    let tx2 = open_in(a, cfg.clone());
    let mut cfg_b = cfg;
    cfg_b.ifindex = ib;
    cfg_b.src = None;
    let mut rx2 = open_in(b, cfg_b);
    tx2.send_advert(&pkt, &[]).expect("send");
    let (_, src, dst, ttl, _) = recv_one(&mut rx2);
    assert_eq!(src, "10.211.0.11".parse::<IpAddr>().expect("lit"));
    assert_eq!(dst, group);
    assert_eq!(ttl, 255);
}

#[test]
fn unicast_v4_to_peer_with_ttl() {
    if !require_root("unicast_v4_to_peer_with_ttl") {
        return;
    }
    let (lan, ia, ib) = lan_of_two("10.212.0");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let src_a: IpAddr = "10.212.0.1".parse().expect("lit");
    let src_b: IpAddr = "10.212.0.2".parse().expect("lit");
    let mut cfg = SocketConfig::unicast("eth0", ia, src_a);
    cfg.unicast_ttl = 7;
    let tx = open_in(a, cfg);
    let mut rx = open_in(b, SocketConfig::unicast("eth0", ib, src_b));
    let pkt = v2_advert();
    tx.send_advert(&pkt, &[src_b]).expect("send");
    let (payload, src, dst, ttl, ifindex) = recv_one(&mut rx);
    assert_eq!(payload, pkt);
    assert_eq!((src, dst, ttl, ifindex), (src_a, src_b, 7, ib));
    // Per-packet source and TTL (the engine's SendAdvert carries both).
    a.ip(["addr", "add", "10.212.0.11/24", "dev", "eth0"]);
    let other: IpAddr = "10.212.0.11".parse().expect("lit");
    tx.send_with(&pkt, src_b, Some(other), Some(64))
        .expect("send_with");
    let (_, src, _, ttl, _) = recv_one(&mut rx);
    assert_eq!((src, ttl), (other, 64));
    assert!(tx
        .send_with(&pkt, src_b, Some("::1".parse().expect("lit")), None)
        .is_err());
}

fn wait_link_local(ns: &Netns) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = ns.ip(["-6", "addr", "show", "dev", "eth0", "scope", "link"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if text.contains("fe80") && !text.contains("tentative") {
            return;
        }
        assert!(Instant::now() < deadline, "no link-local address: {text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn multicast_v6_v3_advert_crosses_the_bridge() {
    if !require_root("multicast_v6_v3_advert_crosses_the_bridge") {
        return;
    }
    let (lan, ia, ib) = lan_of_two("10.213.0");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    wait_link_local(a);
    wait_link_local(b);
    let tx = open_in(a, SocketConfig::multicast("eth0", ia, Family::V6));
    let mut rx = open_in(b, SocketConfig::multicast("eth0", ib, Family::V6));
    // VRRPv3 advert, VRID 7, prio 200, 1 VIP 2001:db8::7, max_adver_int 100 cs; the kernel
    // fills the checksum (IPV6_CHECKSUM) and checks it on receipt.
    let mut pkt = v3_advert_v6();
    tx.send_with(&pkt, IpAddr::V6(MCAST_GROUP_V6), None, Some(200))
        .expect("send with hop limit 200");
    let (_, _, _, hops, _) = recv_one(&mut rx);
    assert_eq!(hops, 200, "per-packet hop limit");
    tx.send_advert(&pkt, &[]).expect("send");
    let (payload, src, dst, ttl, ifindex) = recv_one(&mut rx);
    assert_eq!(payload.len(), pkt.len());
    assert_eq!(payload[..6], pkt[..6]);
    assert_ne!(payload[6..8], [0, 0], "kernel computed the checksum");
    assert_eq!(payload[8..], pkt[8..]);
    match src {
        IpAddr::V6(s) => assert_eq!(s.segments()[0], 0xfe80, "link-local source: {s}"),
        other => panic!("v4 source {other}"),
    }
    assert_eq!(dst, IpAddr::V6(MCAST_GROUP_V6));
    assert_eq!(ttl, 255);
    assert_eq!(ifindex, ib);
    // A batch read (recvmmsg) gives the same, for each packet: source from the address,
    // destination and hop limit from the ancillary data.
    for vrid in [8u8, 9, 10] {
        pkt[1] = vrid;
        tx.send_advert(&pkt, &[]).expect("send");
    }
    let mut batch = RecvBatch::new();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.len() < 3 && Instant::now() < deadline {
        if rx.recv_batch(&mut batch).expect("recv_batch") == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
        for k in 0..batch.len() {
            let r = batch.get(k).expect("in the batch").expect("well-formed");
            got.push((r.payload[1], r.src, r.dst, r.ttl, r.ifindex));
        }
    }
    assert_eq!(got.len(), 3, "{got:?}");
    for (k, (vrid, s, d, hops, ifi)) in got.into_iter().enumerate() {
        assert_eq!(vrid, 8 + k as u8);
        assert_eq!((s, d, hops, ifi), (src, dst, 255, ib));
    }
}

/// sendmmsg and recvmmsg: 40 packets go out 16 a call (SEND_BATCH) and are read 16 at a
/// time (RECV_BATCH), in order, each with its own source, destination, TTL and interface,
/// and nothing is left behind.
#[test]
fn batches_of_sixteen_go_out_and_come_in_in_order() {
    if !require_root("batches_of_sixteen_go_out_and_come_in_in_order") {
        return;
    }
    let (lan, ia, ib) = lan_of_two("10.216.0");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let tx = open_in(a, SocketConfig::multicast("eth0", ia, Family::V4));
    let rx = open_in(b, SocketConfig::multicast("eth0", ib, Family::V4));
    let base = v2_advert();
    let packets: Vec<Vec<u8>> = (1..=40u8)
        .map(|vrid| {
            let mut p = base.clone();
            p[1] = vrid;
            p[6..8].copy_from_slice(&[0, 0]);
            let sum = inet_checksum(&[&p]);
            p[6..8].copy_from_slice(&sum.to_be_bytes());
            p
        })
        .collect();
    let group = IpAddr::V4(MCAST_GROUP_V4);
    let out: Vec<(&[u8], IpAddr)> = packets.iter().map(|p| (&p[..], group)).collect();
    let calls = send_in_batches(&tx, &out);
    assert_eq!(SEND_BATCH, 16);
    assert_eq!(calls, vec![16, 16, 8]);
    // Let all 40 arrive.
    std::thread::sleep(Duration::from_millis(200));
    let mut batch = RecvBatch::new();
    let mut sizes = Vec::new();
    let mut vrids = Vec::new();
    loop {
        let n = rx.recv_batch(&mut batch).expect("recv_batch");
        assert_eq!(n, batch.len());
        if n == 0 {
            break;
        }
        sizes.push(n);
        for k in 0..n {
            let r = batch.get(k).expect("in the batch").expect("well-formed");
            assert_eq!(r.payload.len(), base.len());
            assert_eq!(r.src, IpAddr::V4(Ipv4Addr::new(10, 216, 0, 1)));
            assert_eq!(r.dst, IpAddr::V4(MCAST_GROUP_V4));
            assert_eq!((r.ttl, r.ifindex), (255, ib));
            vrids.push(r.payload[1]);
        }
        assert!(batch.get(n).is_none());
    }
    assert_eq!(RECV_BATCH, 16);
    assert_eq!(sizes, vec![16, 16, 8]);
    assert_eq!(vrids, (1..=40u8).collect::<Vec<_>>());
}

#[test]
fn send_cost_and_one_way_latency() {
    if !require_root("send_cost_and_one_way_latency") {
        return;
    }
    let (lan, ia, ib) = lan_of_two("10.219.0");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let tx = open_in(a, SocketConfig::multicast("eth0", ia, Family::V4));
    let mut rx = open_in(b, SocketConfig::multicast("eth0", ib, Family::V4));
    let pkt = v2_advert();
    let mut poll = mio::Poll::new().expect("poll");
    poll.registry()
        .register(&mut rx, mio::Token(0), mio::Interest::READABLE)
        .expect("register");
    let mut events = mio::Events::with_capacity(4);
    let mut buf = vec![0u8; 2048];
    let mut send_cost = Vec::new();
    let mut latency = Vec::new();
    for _ in 0..200 {
        let t0 = Instant::now();
        tx.send_advert(&pkt, &[]).expect("send");
        send_cost.push(t0.elapsed());
        let end = t0 + Duration::from_secs(2);
        loop {
            if let Some(r) = rx.recv(&mut buf).expect("recv") {
                assert_eq!(r.payload, &pkt[..]);
                latency.push(t0.elapsed());
                break;
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "advert lost");
            poll.poll(&mut events, Some(left)).expect("poll");
        }
    }
    send_cost.sort();
    latency.sort();
    eprintln!(
        "VRRP advert over a veth+bridge, 200 rounds: send() median {:?} (p99 {:?}); \
         send to receive-through-mio median {:?} (p99 {:?})",
        send_cost[100], send_cost[198], latency[100], latency[198]
    );
    assert!(
        latency[100] < Duration::from_millis(5),
        "{:?}",
        latency[100]
    );
}

/// A packet that waited in the socket queue says how long (kernel receive timestamp,
/// `SO_TIMESTAMPNS`): through `recv_batch` and `recv`, IPv4 and IPv6; one read at once is
/// (nearly) zero old.
#[test]
fn queued_packets_carry_their_age() {
    if !require_root("queued_packets_carry_their_age") {
        return;
    }
    let (lan, ia, ib) = lan_of_two("10.222.0");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    wait_link_local(a);
    wait_link_local(b);
    let tx4 = open_in(a, SocketConfig::multicast("eth0", ia, Family::V4));
    let rx4 = open_in(b, SocketConfig::multicast("eth0", ib, Family::V4));
    let tx6 = open_in(a, SocketConfig::multicast("eth0", ia, Family::V6));
    let rx6 = open_in(b, SocketConfig::multicast("eth0", ib, Family::V6));
    let v4 = v2_advert();
    let v6 = v3_advert_v6();
    // The kernel stamps packets on arrival only once some socket asked for timestamps, and
    // turns that on a moment later (deferred work); a packet that arrived before is stamped
    // when read (age zero, as without timestamps). Wait for it: a packet left 50 ms in the
    // queue must look at least that old.
    let mut batch = RecvBatch::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tx4.send_advert(&v4, &[]).expect("send v4");
        std::thread::sleep(Duration::from_millis(50));
        let n = rx4.recv_batch(&mut batch).expect("recv_batch");
        let age = (0..n).filter_map(|k| batch.get(k)?.ok()?.age).max();
        if age.is_some_and(|a| a >= Duration::from_millis(45)) {
            break;
        }
        assert!(Instant::now() < deadline, "no arrival timestamps: {age:?}");
    }
    let sent = Instant::now();
    tx4.send_advert(&v4, &[]).expect("send v4");
    tx6.send_advert(&v6, &[]).expect("send v6");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(rx4.recv_batch(&mut batch).expect("recv_batch"), 1);
    let waited = sent.elapsed();
    let age = batch.get(0).expect("one").expect("well-formed").age;
    let age = age.expect("a kernel timestamp");
    assert!(
        age >= Duration::from_millis(390) && age <= waited,
        "v4 age {age:?}, sent {waited:?} ago"
    );
    let mut buf = vec![0u8; 65536];
    let r = rx6.recv(&mut buf).expect("recv").expect("queued");
    let age = r.age.expect("a kernel timestamp");
    assert!(
        age >= Duration::from_millis(390) && age <= sent.elapsed(),
        "v6 age {age:?}"
    );
    // Read as soon as it arrives: young.
    tx4.send_advert(&v4, &[]).expect("send v4");
    let deadline = Instant::now() + Duration::from_secs(5);
    while rx4.recv_batch(&mut batch).expect("recv_batch") == 0 {
        assert!(Instant::now() < deadline, "nothing arrived");
        std::thread::sleep(Duration::from_millis(1));
    }
    let age = batch.get(0).expect("one").expect("well-formed").age;
    assert!(
        age.expect("a kernel timestamp") < Duration::from_millis(200),
        "{age:?}"
    );
}
