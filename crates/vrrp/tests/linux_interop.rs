//! The raw VRRP socket against keepalived 2.2.7 on the same LAN: hand-made adverts sent
//! through [`VrrpSocket`] keep keepalived in BACKUP (so it accepts them: TTL, checksum,
//! addresses, IPv6 checksum offload all right) without any error in its log; when they
//! stop, keepalived takes over and its own adverts are received through [`VrrpSocket`]
//! with the right source, destination and TTL. IPv4 VRRPv2 and IPv6 VRRPv3.
//! Root only; keepalived comes from `cargo xtask setup` (skipped loudly when absent,
//! failing under `KA_REQUIRE_ROOT_TESTS=1`).
#![cfg(feature = "linux")]

#[path = "support/inet.rs"]
mod inet;

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use inet::inet_checksum;
use ka_tests::daemon::{require_keepalived, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan, Netns};
use vrrp::linux::socket::{Family, SocketConfig, VrrpSocket};

/// A LAN of two hosts: our raw socket on host 1 (`eth0`, .1) and keepalived 2.2.7 on
/// host 2 (.2) with `conf`, already in BACKUP.
struct Bench {
    // Dropped in this order: keepalived, our socket, then the namespaces.
    keepalived: Daemon,
    sock: VrrpSocket,
    _lan: Lan,
}

impl Bench {
    /// `None` (skipped) without root or keepalived. `prepare` runs on both hosts before the
    /// socket opens; `socket` builds our socket's config from `eth0`'s index.
    fn start(
        test: &str,
        prefix: &str,
        prepare: impl Fn(&Netns),
        socket: impl FnOnce(u32) -> SocketConfig + Send + 'static,
        conf: &str,
    ) -> Option<Bench> {
        if !require_root(test) || !require_keepalived(test) {
            return None;
        }
        let lan = Lan::new(2, prefix);
        lan.wait_carrier();
        for h in &lan.hosts {
            prepare(h);
        }
        let us = &lan.hosts[0];
        let ifindex = us.run(|| nix::net::if_::if_nametoindex("eth0").expect("ifindex"));
        let sock = us.run(move || VrrpSocket::open(socket(ifindex)).expect("socket"));
        let keepalived = Daemon::start(&lan.hosts[1], Impl::Keepalived, conf);
        assert!(
            wait_for(Duration::from_secs(10), || keepalived
                .log()
                .contains("Entering BACKUP STATE")),
            "{}",
            keepalived.log()
        );
        Some(Bench {
            keepalived,
            sock,
            _lan: lan,
        })
    }

    /// Send `pkt` `n` times, `period` apart (to `peers`, or multicast when empty); then
    /// keepalived must still be BACKUP (it accepted our adverts) and must not have logged
    /// any complaint about them.
    fn send_accepted(&mut self, pkt: &[u8], peers: &[IpAddr], n: usize, period: Duration) {
        for _ in 0..n {
            self.sock.send_advert(pkt, peers).expect("send");
            std::thread::sleep(period);
        }
        let log = self.keepalived.log();
        assert!(
            !log.contains("Entering MASTER STATE"),
            "keepalived ignored us:\n{log}"
        );
        assert!(
            packet_complaints(&log).is_empty(),
            "keepalived complained:\n{log}"
        );
    }

    /// Silence: keepalived takes over; its first advert at priority 100 that reaches our
    /// socket within `within`.
    fn their_advert(&mut self, within: Duration) -> (Vec<u8>, IpAddr, IpAddr, u8) {
        recv_advert(&mut self.sock, 100, within).expect("keepalived's advert")
    }
}

/// Lines keepalived logs when it dislikes a packet it received.
fn packet_complaints(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            [
                "invalid", "checksum", "mismatch", "bogus", "error", "ttl", "discard", "wrong",
            ]
            .iter()
            .any(|w| l.contains(w))
        })
        .collect()
}

/// Receive adverts on `s` for up to `within`; return the first whose priority is `prio`.
fn recv_advert(
    s: &mut VrrpSocket,
    prio: u8,
    within: Duration,
) -> Option<(Vec<u8>, IpAddr, IpAddr, u8)> {
    let mut poll = mio::Poll::new().expect("poll");
    poll.registry()
        .register(s, mio::Token(0), mio::Interest::READABLE)
        .expect("register");
    let mut events = mio::Events::with_capacity(4);
    let end = Instant::now() + within;
    let mut buf = vec![0u8; 65536];
    let mut found = None;
    'outer: while Instant::now() < end {
        while let Some(r) = s.recv(&mut buf).expect("recv") {
            if r.payload.get(2) == Some(&prio) {
                found = Some((r.payload.to_vec(), r.src, r.dst, r.ttl));
                break 'outer;
            }
        }
        let left = end.saturating_duration_since(Instant::now());
        poll.poll(&mut events, Some(left.min(Duration::from_millis(100))))
            .expect("poll");
    }
    poll.registry().deregister(s).expect("deregister");
    found
}

#[test]
fn v2_ipv4_with_keepalived() {
    let Some(mut b) = Bench::start(
        "v2_ipv4_with_keepalived",
        "10.216.0",
        |_| {},
        |ifindex| SocketConfig::multicast("eth0", ifindex, Family::V4),
        "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 61\n \
         priority 100\n advert_int 1\n authentication {\n auth_type PASS\n auth_pass secret\n }\n \
         virtual_ipaddress {\n 10.216.0.100/24\n }\n}\n",
    ) else {
        return;
    };
    // Our adverts: v2, VRID 61, prio 200, 1 address, PASS "secret", advert_int 1.
    let mut pkt = vec![0x21, 61, 200, 1, 1, 1, 0, 0, 10, 216, 0, 100];
    pkt.extend_from_slice(b"secret\0\0");
    let sum = inet_checksum(&[&pkt]);
    pkt[6..8].copy_from_slice(&sum.to_be_bytes());
    b.send_accepted(&pkt, &[], 5, Duration::from_secs(1));
    let (payload, src, dst, ttl) = b.their_advert(Duration::from_secs(8));
    // Its log line may land a moment after its first advert.
    assert!(
        wait_for(Duration::from_secs(2), || b
            .keepalived
            .log()
            .contains("Entering MASTER STATE")),
        "{}",
        b.keepalived.log()
    );
    assert_eq!(payload[0], 0x21);
    assert_eq!(payload[1], 61);
    assert_eq!(&payload[8..12], &[10, 216, 0, 100]);
    assert_eq!(&payload[12..18], b"secret");
    assert_eq!(inet_checksum(&[&payload]), 0, "valid v2 checksum");
    assert_eq!(src, "10.216.0.2".parse::<IpAddr>().expect("lit"));
    assert_eq!(dst, "224.0.0.18".parse::<IpAddr>().expect("lit"));
    assert_eq!(ttl, 255);
    eprintln!("keepalived's log:\n{}", b.keepalived.log());
}

#[test]
fn v3_ipv6_with_keepalived() {
    let Some(mut b) = Bench::start(
        "v3_ipv6_with_keepalived",
        "10.217.0",
        |h| {
            h.exec("sysctl", ["-qw", "net.ipv6.conf.eth0.accept_dad=0"]);
            h.ip(["link", "set", "eth0", "down"]);
            h.ip(["link", "set", "eth0", "up"]);
        },
        |ifindex| SocketConfig::multicast("eth0", ifindex, Family::V6),
        "vrrp_instance VI_6 {\n state BACKUP\n interface eth0\n virtual_router_id 62\n \
         priority 100\n advert_int 0.1\n virtual_ipaddress {\n fe80::62\n 2001:db8:217::100/64\n }\n}\n",
    ) else {
        return;
    };
    // v3, VRID 62, prio 200, 2 addresses, max_adver_int 10 cs; the kernel fills the checksum.
    let mut pkt = vec![0x31, 62, 200, 2, 0, 10, 0, 0];
    pkt.extend_from_slice(&"fe80::62".parse::<Ipv6Addr>().expect("lit").octets());
    pkt.extend_from_slice(
        &"2001:db8:217::100"
            .parse::<Ipv6Addr>()
            .expect("lit")
            .octets(),
    );
    b.send_accepted(&pkt, &[], 15, Duration::from_millis(100));
    let (payload, src, dst, ttl) = b.their_advert(Duration::from_secs(5));
    assert_eq!(payload[0], 0x31);
    assert_eq!(payload[1], 62);
    assert_eq!(payload.len(), 8 + 32);
    match src {
        IpAddr::V6(s) => assert_eq!(s.segments()[0], 0xfe80, "{s}"),
        other => panic!("{other}"),
    }
    assert_eq!(dst, "ff02::12".parse::<IpAddr>().expect("lit"));
    assert_eq!(ttl, 255);
    eprintln!("keepalived's log:\n{}", b.keepalived.log());
}

#[test]
fn v3_ipv4_with_keepalived() {
    let Some(mut b) = Bench::start(
        "v3_ipv4_with_keepalived",
        "10.218.0",
        |_| {},
        |ifindex| SocketConfig::multicast("eth0", ifindex, Family::V4),
        "vrrp_instance VI_3 {\n state BACKUP\n interface eth0\n version 3\n virtual_router_id 63\n \
         priority 100\n advert_int 0.1\n virtual_ipaddress {\n 10.218.0.100/24\n }\n}\n",
    ) else {
        return;
    };
    // v3, VRID 63, prio 200, 1 address, 10 cs; checksum with the IPv4 pseudo-header.
    let mut pkt = vec![0x31, 63, 200, 1, 0, 10, 0, 0, 10, 218, 0, 100];
    let pseudo = [10, 218, 0, 1, 224, 0, 0, 18, 0, 112, 0, pkt.len() as u8];
    let sum = inet_checksum(&[&pseudo, &pkt]);
    pkt[6..8].copy_from_slice(&sum.to_be_bytes());
    b.send_accepted(&pkt, &[], 15, Duration::from_millis(100));
    let (payload, src, dst, ttl) = b.their_advert(Duration::from_secs(5));
    assert_eq!((payload[0], payload[1]), (0x31, 63));
    let pseudo = [10, 218, 0, 2, 224, 0, 0, 18, 0, 112, 0, payload.len() as u8];
    assert_eq!(inet_checksum(&[&pseudo, &payload]), 0, "valid v3 checksum");
    assert_eq!(src, "10.218.0.2".parse::<IpAddr>().expect("lit"));
    assert_eq!(dst, "224.0.0.18".parse::<IpAddr>().expect("lit"));
    assert_eq!(ttl, 255);
}

#[test]
fn unicast_peers_with_keepalived() {
    let me: IpAddr = "10.221.0.1".parse().expect("lit");
    let peer: IpAddr = "10.221.0.2".parse().expect("lit");
    let Some(mut b) = Bench::start(
        "unicast_peers_with_keepalived",
        "10.221.0",
        |_| {},
        move |ifindex| SocketConfig::unicast("eth0", ifindex, me),
        "vrrp_instance VI_U {\n state BACKUP\n interface eth0\n version 3\n virtual_router_id 64\n \
         priority 100\n advert_int 0.1\n unicast_src_ip 10.221.0.2\n unicast_peer {\n 10.221.0.1\n }\n \
         virtual_ipaddress {\n 10.221.0.100/24\n }\n}\n",
    ) else {
        return;
    };
    let mut pkt = vec![0x31, 64, 200, 1, 0, 10, 0, 0, 10, 221, 0, 100];
    let pseudo = [10, 221, 0, 1, 10, 221, 0, 2, 0, 112, 0, pkt.len() as u8];
    let sum = inet_checksum(&[&pseudo, &pkt]);
    pkt[6..8].copy_from_slice(&sum.to_be_bytes());
    b.send_accepted(&pkt, &[peer], 15, Duration::from_millis(100));
    let (payload, src, dst, ttl) = b.their_advert(Duration::from_secs(5));
    assert_eq!((payload[0], payload[1]), (0x31, 64));
    assert_eq!((src, dst, ttl), (peer, me, 255));
}
