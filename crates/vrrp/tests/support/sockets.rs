//! Raw VRRP sockets between two namespaces on a bridge, as the socket tests set them up:
//! the LAN, sockets opened inside a namespace, hand-made adverts, the IP header a capture
//! saw, batches sent in as many calls as the socket needs. Needs `mod inet` beside it.
#![allow(dead_code)] // each test file uses a part

use ka_tests::{Lan, Netns};
use vrrp::linux::capture::Capture;
use vrrp::linux::socket::{SocketConfig, VrrpSocket};

use crate::inet::inet_checksum;

/// A LAN of two hosts on `prefix` (`10.211.0`) with carrier, and the ifindex of each
/// one's `eth0`.
pub fn lan_of_two(prefix: &str) -> (Lan, u32, u32) {
    let lan = Lan::new(2, prefix);
    lan.wait_carrier();
    let ia = ifindex_in(&lan.hosts[0], "eth0");
    let ib = ifindex_in(&lan.hosts[1], "eth0");
    (lan, ia, ib)
}

/// The ifindex of `ifname` in `ns`.
pub fn ifindex_in(ns: &Netns, ifname: &'static str) -> u32 {
    ns.run(move || nix::net::if_::if_nametoindex(ifname).expect("ifindex"))
}

/// A VRRP socket opened inside `ns`.
pub fn open_in(ns: &Netns, cfg: SocketConfig) -> VrrpSocket {
    ns.run(move || VrrpSocket::open(cfg).expect("open VRRP socket"))
}

/// VRRPv2 advert, VRID `vrid`, prio 100, 1 VIP 10.0.0.100, advert_int 1, auth type `auth`.
pub fn v2_advert(vrid: u8, auth: u8) -> Vec<u8> {
    let mut p = vec![
        0x21, vrid, 100, 1, auth, 1, 0, 0, 10, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let sum = inet_checksum(&[&p]);
    p[6..8].copy_from_slice(&sum.to_be_bytes());
    p
}

/// The IPv4 packet (header included) of the next captured frame carrying IP protocol
/// `protocol` (others, such as the IGMP reports of group joins, are skipped); `what`
/// names it in the failure.
pub fn captured_ipv4(cap: &Capture, protocol: u8, what: &str) -> Vec<u8> {
    let mut frame = vec![0u8; 2048];
    loop {
        let n = cap
            .recv(&mut frame)
            .expect("capture")
            .unwrap_or_else(|| panic!("{what}"));
        if n > 34 && frame[23] == protocol {
            return frame[14..n].to_vec();
        }
    }
}

/// Send every `(packet, dst)` of `out` with `send_batch`, again from the first one left
/// until all went; how many each call sent.
pub fn send_in_batches(tx: &VrrpSocket, out: &[(&[u8], std::net::IpAddr)]) -> Vec<usize> {
    let mut calls = Vec::new();
    let mut done = 0;
    while done < out.len() {
        let n = tx.send_batch(&out[done..], None, None).expect("send_batch");
        assert!(n > 0);
        calls.push(n);
        done += n;
    }
    calls
}
