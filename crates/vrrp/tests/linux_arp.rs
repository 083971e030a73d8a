//! Gratuitous ARP and unsolicited neighbour advertisements sent from one namespace and
//! captured (AF_PACKET) in another, byte by byte.
#![cfg(feature = "linux")]

#[path = "support/inet.rs"]
mod inet;
#[path = "support/poll.rs"]
mod poll;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use inet::inet_checksum;
use ka_tests::{require_root, Lan, Netns};
use poll::read_within_5s;
use vrrp::linux::arp::{ArpFrame, GarpSender, ETH_P_ARP};
use vrrp::linux::capture::Capture;
use vrrp::linux::ndisc::{NaSender, NeighbourAdvert, ALL_NODES};
use vrrp::linux::netlink::Rtnl;

fn eth0(ns: &Netns) -> (u32, [u8; 6]) {
    ns.run(|| {
        let mut r = Rtnl::open().expect("rtnl");
        let l = r.link_by_name("eth0").expect("dump").expect("eth0");
        (l.ifindex, l.mac6().expect("mac"))
    })
}

/// Read frames from `cap` until `pick` returns Some, or fail after 5 s.
fn capture<T>(cap: &mut Capture, mut pick: impl FnMut(&[u8]) -> Option<T>) -> T {
    let mut buf = vec![0u8; 65536];
    read_within_5s(cap, |cap| {
        while let Some(n) = cap.recv(&mut buf).expect("recv") {
            if let Some(t) = pick(&buf[..n]) {
                return Some(t);
            }
        }
        None
    })
    .expect("expected frame not captured within 5 s")
}

#[test]
fn gratuitous_arp_from_interface_mac_and_vmac() {
    if !require_root("gratuitous_arp_from_interface_mac_and_vmac") {
        return;
    }
    let lan = Lan::new(2, "10.214.0");
    lan.wait_carrier();
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let (ia, mac_a) = eth0(a);
    let (ib, _) = eth0(b);
    let mut cap = b.run(move || Capture::open(ib, ETH_P_ARP).expect("capture"));
    let garp = a.run(|| GarpSender::open().expect("garp socket"));
    let vip = Ipv4Addr::new(10, 214, 0, 100);
    garp.send(ia, mac_a, vip).expect("send");
    let frame = capture(&mut cap, |f| {
        (ArpFrame::parse(f)?.tpa == vip).then(|| f.to_vec())
    });
    let expected = ArpFrame::gratuitous(mac_a, vip).emit();
    assert_eq!(&frame[..42], &expected[..], "on the wire: {frame:02x?}");
    let parsed = ArpFrame::parse(&frame).expect("arp");
    assert_eq!(parsed.eth_src, mac_a);
    assert_eq!(parsed.oper, 1);
    assert!(parsed.is_gratuitous());

    // From a VMAC (use_vmac): Ethernet source and sender hardware address are the VMAC.
    let vmac = [0x00, 0x00, 0x5e, 0x00, 0x01, 51];
    let vip2 = Ipv4Addr::new(10, 214, 0, 101);
    garp.send(ia, vmac, vip2).expect("send");
    let parsed = capture(&mut cap, |f| ArpFrame::parse(f).filter(|p| p.tpa == vip2));
    assert_eq!(parsed, ArpFrame::gratuitous(vmac, vip2));

    // Kernel receive timestamps (for on-the-wire timing).
    cap.enable_timestamps().expect("SO_TIMESTAMPNS");
    let before = std::time::SystemTime::now();
    garp.send(ia, vmac, vip2).expect("send");
    let end = Instant::now() + Duration::from_secs(5);
    let mut buf = vec![0u8; 2048];
    let stamp = loop {
        assert!(Instant::now() < end, "no timestamped frame");
        if let Some((n, when)) = cap.recv_timestamped(&mut buf).expect("recv") {
            if ArpFrame::parse(&buf[..n]).is_some_and(|p| p.tpa == vip2) {
                break when.expect("timestamp");
            }
        } else {
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let after = std::time::SystemTime::now();
    assert!(
        stamp >= before - Duration::from_millis(5) && stamp <= after,
        "{stamp:?}"
    );

    // The neighbour's ARP cache now maps the VIP to the VMAC (it had an entry to update).
    b.ip([
        "neigh",
        "replace",
        "10.214.0.101",
        "lladdr",
        "02:00:00:00:00:01",
        "dev",
        "eth0",
        "nud",
        "stale",
    ]);
    garp.send(ia, vmac, vip2).expect("send");
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let out = b.ip(["neigh", "show", "10.214.0.101"]);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if text.contains("00:00:5e:00:01:33") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "neighbour cache not updated: {text}"
        );
        garp.send(ia, vmac, vip2).expect("send");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// ICMPv6's checksum: over the IPv6 pseudo-header (source, destination, length, next
/// header 58) and the message.
fn icmpv6_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, icmp: &[u8]) -> u16 {
    let len = (icmp.len() as u32).to_be_bytes();
    inet_checksum(&[&src.octets(), &dst.octets(), &len, &[0, 0, 0, 58], icmp])
}

#[test]
fn unsolicited_neighbour_advert() {
    if !require_root("unsolicited_neighbour_advert") {
        return;
    }
    let lan = Lan::new(2, "10.215.0");
    lan.wait_carrier();
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    // A link-local source needs DAD finished; skip DAD on both.
    for h in [a, b] {
        h.exec("sysctl", ["-qw", "net.ipv6.conf.eth0.accept_dad=0"]);
        h.ip(["link", "set", "eth0", "down"]);
        h.ip(["link", "set", "eth0", "up"]);
    }
    lan.wait_carrier();
    let (ia, mac_a) = eth0(a);
    let (ib, _) = eth0(b);
    let mut cap = b.run(move || Capture::open(ib, 0x86dd).expect("capture"));
    let na = a.run(|| NaSender::open().expect("na socket"));
    let vip: Ipv6Addr = "2001:db8:215::100".parse().expect("lit");
    // The VIP is the source (as keepalived sends them), so it is assigned first (nodad).
    a.ip([
        "addr",
        "add",
        "2001:db8:215::100/64",
        "dev",
        "eth0",
        "nodad",
    ]);
    a.exec("sysctl", ["-qw", "net.ipv6.conf.eth0.forwarding=1"]);
    let router = a.run(|| vrrp::linux::ndisc::forwarding("eth0"));
    assert!(router, "forwarding read from /proc in the namespace");
    let vmac = [0x00, 0x00, 0x5e, 0x00, 0x02, 7];
    // Retry: the link-local address may still be settling right after link up.
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Err(e) = na.send(ia, vmac, vip, router, None) {
        assert!(Instant::now() < deadline, "send: {e}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let frame = capture(&mut cap, |f| {
        // Ethernet(14) + IPv6(40) + ICMPv6; next header 58, type 136, our target.
        let ip = f.get(14..54)?;
        let icmp = f.get(54..)?;
        (ip[6] == 58 && NeighbourAdvert::parse(icmp)?.target == vip).then(|| f.to_vec())
    });
    let (eth, ip, icmp) = (&frame[..14], &frame[14..54], &frame[54..]);
    assert_eq!(&eth[..6], &[0x33, 0x33, 0, 0, 0, 1], "to the all-nodes MAC");
    assert_eq!(&eth[6..12], &mac_a, "from the interface");
    assert_eq!(ip[7], 255, "hop limit");
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).expect("16"));
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).expect("16"));
    assert_eq!(dst, ALL_NODES);
    assert_eq!(src, vip, "the VIP is the source, as keepalived does");
    assert_eq!(icmp.len(), 32);
    let parsed = NeighbourAdvert::parse(icmp).expect("na");
    assert_eq!(parsed, NeighbourAdvert::unsolicited(vip, vmac, true));
    assert_eq!(
        icmpv6_checksum(&src, &dst, icmp),
        0,
        "valid ICMPv6 checksum"
    );
    let mut expected = NeighbourAdvert::unsolicited(vip, vmac, true).emit();
    expected[2..4].copy_from_slice(&icmp[2..4]);
    assert_eq!(icmp, &expected[..]);

    // A VIP not (yet) assigned here cannot be the source: the kernel picks the link-local.
    let absent: Ipv6Addr = "2001:db8:215::200".parse().expect("lit");
    na.send(ia, vmac, absent, false, None)
        .expect("send with fallback source");
    let frame = capture(&mut cap, |f| {
        let ip = f.get(14..54)?;
        let icmp = f.get(54..)?;
        (ip[6] == 58 && NeighbourAdvert::parse(icmp)?.target == absent).then(|| f.to_vec())
    });
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[22..38]).expect("16"));
    assert_eq!(
        src.segments()[0],
        0xfe80,
        "link-local fallback source {src}"
    );
}
