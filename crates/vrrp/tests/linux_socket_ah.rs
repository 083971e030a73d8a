//! `auth_type AH` on the raw sockets, between two network namespaces on a bridge: whole
//! IPv4 AH packets handed to the send calls go out as they are (IP protocol 51, our IP
//! header: TOS, TTL, identification), mixed with plain VRRP packets in one batch; a
//! receiving IPv4 socket wakes up for them (its AH socket shares the mio token) and gives
//! them whole, header included, so that the ICV still verifies.
#![cfg(feature = "linux")]

#[path = "support/inet.rs"]
mod inet;
#[path = "support/poll.rs"]
mod poll;
#[path = "support/sockets.rs"]
mod sockets;

use std::net::{IpAddr, Ipv4Addr};

use ka_tests::require_root;
use poll::read_within_5s;
use sockets::{captured_ipv4, lan_of_two, open_in, send_in_batches, v2_advert};
use vrrp::ah::{self, AhHeader};
use vrrp::linux::socket::{Family, RecvBatch, SocketConfig, MCAST_GROUP_V4};

#[test]
fn ah_packets_go_out_whole_and_come_back_whole() {
    if !require_root("ah_packets_go_out_whole_and_come_back_whole") {
        return;
    }
    let (lan, ia, ib) = lan_of_two("10.217.0");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let src: Ipv4Addr = "10.217.0.1".parse().expect("lit");
    // The sender as the VRRP child opens its sending sockets (unicast config: no AH
    // receive socket), the receiver as its receiving ones.
    let tx = open_in(a, SocketConfig::unicast("eth0", ia, IpAddr::V4(src)));
    let mut rx = open_in(b, SocketConfig::multicast("eth0", ib, Family::V4));
    let cap = b.run(move || vrrp::linux::capture::Capture::open(ib, 0x0800).expect("capture"));
    let key = ah::key("s3cret");
    let ah_packet = |vrid: u8, seq: u32| {
        let h = AhHeader {
            src,
            dst: MCAST_GROUP_V4,
            ttl: 255,
            id: 0x1234,
            seq,
        };
        let mut out = Vec::new();
        ah::encode(&key, &h, &v2_advert(vrid, 2), &mut out);
        out
    };
    // AH alone: the receiver wakes up through mio for it.
    let first = ah_packet(9, 1);
    // The AH send socket opens on first use, in the sending thread's namespace: send the
    // first one from inside the sender's.
    let tx = {
        let first = first.clone();
        a.run(move || {
            tx.send_batch(&[(&first[..], IpAddr::V4(MCAST_GROUP_V4))], None, None)
                .expect("send AH");
            tx
        })
    };
    let mut batch = RecvBatch::new();
    let got = read_within_5s(&mut rx, |s| {
        let n = s.recv_batch(&mut batch).expect("recv_batch");
        (n > 0).then(|| {
            let r = batch.get(0).expect("one").expect("well-formed");
            (n, r.payload.to_vec(), r.src, r.dst, r.ttl, r.ifindex)
        })
    })
    .expect("no AH packet within 5 s");
    assert_eq!(got.0, 1);
    assert_eq!(got.1, first, "the AH packet whole, IP header included");
    assert_eq!(
        (got.2, got.3),
        (IpAddr::V4(src), IpAddr::V4(MCAST_GROUP_V4))
    );
    assert_eq!((got.4, got.5), (255, ib));
    let v = ah::verify(&key, &got.1).expect("ICV verifies after the trip");
    assert_eq!((v.seq, v.vrrp[1]), (1, 9));
    // On the wire: our header as built (TOS 0xc0, no DF, TTL 255, protocol 51, our id).
    let ip = captured_ipv4(&cap, 51, "the AH frame");
    assert_eq!((ip[0], ip[1]), (0x45, 0xc0));
    assert_eq!(
        u16::from_be_bytes([ip[4], ip[5]]),
        0x1234,
        "identification kept"
    );
    assert_eq!(ip[6] & 0x40, 0, "no DF bit");
    assert_eq!((ip[8], ip[9]), (255, 51));
    assert!(ah::verify(&key, &ip).is_ok());

    // A mixed batch: plain, AH, AH, plain: all sent (in runs), all received.
    let p1 = v2_advert(1, 0);
    let a2 = ah_packet(2, 2);
    let a3 = ah_packet(3, 3);
    let p4 = v2_advert(4, 0);
    let g = IpAddr::V4(MCAST_GROUP_V4);
    let out: Vec<(&[u8], IpAddr)> = vec![(&p1, g), (&a2, g), (&a3, g), (&p4, g)];
    let calls = send_in_batches(&tx, &out);
    assert_eq!(calls, vec![1, 2, 1], "one run per kind");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut plain = Vec::new();
    let mut whole = Vec::new();
    loop {
        let n = rx.recv_batch(&mut batch).expect("recv_batch");
        if n == 0 {
            break;
        }
        for k in 0..n {
            let r = batch.get(k).expect("in the batch").expect("well-formed");
            if ah::is_ipv4(r.payload) {
                whole.push(ah::verify(&key, r.payload).expect("ICV").vrrp[1]);
            } else {
                plain.push(r.payload[1]);
            }
        }
    }
    // (The first AH packet was read above.)
    assert_eq!(plain, vec![1, 4]);
    assert_eq!(whole, vec![2, 3]);
    // The single-packet read sees AH packets too.
    let a5 = ah_packet(5, 5);
    tx.send_batch(&[(&a5[..], g)], None, None).expect("send");
    let mut buf = vec![0u8; 4096];
    let r = read_within_5s(&mut rx, |s| {
        s.recv(&mut buf).expect("recv").map(|r| r.payload.to_vec())
    })
    .expect("AH packet through recv");
    assert_eq!(r, a5);
}
