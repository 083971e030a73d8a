//! Property tests: every IPVS message survives encode → netlink framing → decode, and
//! decoding arbitrary bytes never panics.

use ipvs_sys::*;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::Inet), Just(Family::Inet6)]
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Sctp)
    ]
}

fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (protocol(), addr(), any::<u16>()).prop_map(|(protocol, addr, port)| ServiceKey::Addr {
            protocol,
            addr,
            port
        }),
        (family(), any::<u32>()).prop_map(|(family, mark)| ServiceKey::Fwmark { family, mark }),
    ]
}

/// Stats as the 32-bit nest can carry them (bytes are u64 there, the rest u32).
fn stats32() -> impl Strategy<Value = Stats> {
    (any::<[u32; 8]>(), any::<u64>(), any::<u64>()).prop_map(|(v, ib, ob)| Stats {
        conns: v[0].into(),
        inpkts: v[1].into(),
        outpkts: v[2].into(),
        inbytes: ib,
        outbytes: ob,
        cps: v[3].into(),
        inpps: v[4].into(),
        outpps: v[5].into(),
        inbps: v[6].into(),
        outbps: v[7].into(),
    })
}

fn stats64() -> impl Strategy<Value = Stats> {
    any::<[u64; 10]>().prop_map(|v| Stats {
        conns: v[0],
        inpkts: v[1],
        outpkts: v[2],
        inbytes: v[3],
        outbytes: v[4],
        cps: v[5],
        inpps: v[6],
        outpps: v[7],
        inbps: v[8],
        outbps: v[9],
    })
}

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9_]{0,15}"
}

fn service() -> impl Strategy<Value = Service> {
    (
        key(),
        name(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        proptest::option::of(name()),
        proptest::option::of(stats32()),
        proptest::option::of(stats64()),
    )
        .prop_map(
            |(key, scheduler, flags, timeout, netmask, pe_name, stats, stats64)| Service {
                key,
                scheduler,
                flags: Flags(flags),
                timeout,
                netmask,
                pe_name,
                stats,
                stats64,
            },
        )
}

fn method() -> impl Strategy<Value = ForwardMethod> {
    prop_oneof![
        Just(ForwardMethod::Masq),
        Just(ForwardMethod::Local),
        Just(ForwardMethod::Tunnel),
        Just(ForwardMethod::Route),
        Just(ForwardMethod::Bypass),
    ]
}

fn tunnel() -> impl Strategy<Value = TunnelType> {
    prop_oneof![
        Just(TunnelType::Ipip),
        Just(TunnelType::Gue),
        Just(TunnelType::Gre)
    ]
}

fn dest() -> impl Strategy<Value = Destination> {
    (
        (addr(), any::<u16>(), method(), any::<[u32; 3]>()),
        (
            proptest::option::of(tunnel()),
            proptest::option::of(any::<u16>()),
            proptest::option::of(any::<u16>()),
        ),
        proptest::option::of(any::<[u32; 3]>()),
        proptest::option::of(stats32()),
        proptest::option::of(stats64()),
    )
        .prop_map(
            |((addr, port, method, w), (tt, tp, tf), conns, stats, stats64)| Destination {
                addr,
                port,
                method,
                weight: w[0],
                u_threshold: w[1],
                l_threshold: w[2],
                tun_type: tt,
                tun_port: tp,
                tun_flags: tf,
                active_conns: conns.map(|c| c[0]),
                inactive_conns: conns.map(|c| c[1]),
                persist_conns: conns.map(|c| c[2]),
                stats,
                stats64,
            },
        )
}

fn daemon() -> impl Strategy<Value = Daemon> {
    (
        prop_oneof![Just(DaemonState::Master), Just(DaemonState::Backup)],
        name(),
        any::<u32>(),
        proptest::option::of(any::<u16>()),
        proptest::option::of(addr()),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u8>()),
    )
        .prop_map(
            |(state, mcast_ifn, sync_id, sync_maxlen, mcast_group, mcast_port, mcast_ttl)| Daemon {
                state,
                mcast_ifn,
                sync_id,
                sync_maxlen,
                mcast_group,
                mcast_port,
                mcast_ttl,
            },
        )
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        service().prop_map(Command::NewService),
        service().prop_map(Command::SetService),
        key().prop_map(Command::DelService),
        proptest::option::of(key()).prop_map(Command::GetService),
        (proptest::option::of(key()), dest()).prop_map(|(k, d)| Command::NewDest(k, d)),
        (key(), dest()).prop_map(|(k, d)| Command::SetDest(k, d)),
        (key(), addr(), any::<u16>())
            .prop_map(|(k, addr, port)| Command::DelDest(k, DestKey { addr, port })),
        key().prop_map(Command::GetDest),
        daemon().prop_map(Command::NewDaemon),
        prop_oneof![Just(DaemonState::Master), Just(DaemonState::Backup)]
            .prop_map(Command::DelDaemon),
        Just(Command::GetDaemon),
        any::<[u32; 3]>().prop_map(|t| Command::SetConfig(Timeouts {
            tcp: t[0],
            tcp_fin: t[1],
            udp: t[2]
        })),
        Just(Command::GetConfig),
        any::<[u32; 2]>().prop_map(|i| Command::SetInfo(Info {
            version: i[0],
            conn_tab_size: i[1]
        })),
        Just(Command::GetInfo),
        proptest::option::of(key()).prop_map(Command::Zero),
        Just(Command::Flush),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_command_round_trips_through_a_netlink_message(
        c in command(), family in 0x10u16..0x400, seq in any::<u32>(), flags in any::<u16>()
    ) {
        let mut buf = Vec::new();
        c.encode(&mut buf, family, flags, seq);
        prop_assert_eq!(buf.len() % 4, 0);
        let msgs: Vec<_> = Messages::new(&buf).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(msgs.len(), 1);
        let NlMsg::Genl { header, cmd, version, attrs } = &msgs[0] else {
            panic!("not a genl message: {:?}", msgs[0]);
        };
        prop_assert_eq!(header.kind, family);
        prop_assert_eq!(header.seq, seq);
        prop_assert_eq!(header.flags, flags);
        prop_assert_eq!(header.len as usize, buf.len());
        prop_assert_eq!(*version, 1);
        prop_assert_eq!(Command::decode(*cmd, attrs).unwrap(), c);
    }

    #[test]
    fn several_commands_in_one_datagram_decode_in_order(cs in proptest::collection::vec(command(), 1..8)) {
        let mut buf = Vec::new();
        for (i, c) in cs.iter().enumerate() {
            c.encode(&mut buf, 0x21, 5, i as u32);
        }
        let back = decode_datagram(&buf).unwrap();
        let back: Vec<Command> = back.into_iter().map(|c| c.unwrap()).collect();
        prop_assert_eq!(back, cs);
    }

    #[test]
    fn service_nest_round_trips(s in service()) {
        let mut buf = Vec::new();
        s.encode(&mut buf, true);
        let (_, payload) = Attrs::new(&buf).next().unwrap().unwrap();
        prop_assert_eq!(Service::decode(payload).unwrap(), s);
    }

    #[test]
    fn destination_nest_round_trips(d in dest(), fam in family()) {
        let mut buf = Vec::new();
        d.encode(&mut buf, true);
        let (_, payload) = Attrs::new(&buf).next().unwrap().unwrap();
        prop_assert_eq!(Destination::decode(payload, fam).unwrap(), d);
    }

    #[test]
    fn decoding_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..256), c in any::<u8>()) {
        let _ = decode_datagram(&data);
        let _ = Command::decode(c, &data);
        let _ = Service::decode(&data);
        let _ = Destination::decode(&data, Family::Inet6);
        let _ = Daemon::decode(&data);
        let _ = Stats::decode(&data);
    }

    #[test]
    fn truncating_a_valid_message_is_an_error_not_a_panic(c in command(), cut in any::<prop::sample::Index>()) {
        let mut buf = Vec::new();
        c.encode(&mut buf, 0x22, 1, 1);
        let at = cut.index(buf.len());
        let _ = decode_datagram(&buf[..at]);
    }
}

#[test]
fn header_and_ack_parse() {
    // An ACK (NLMSG_ERROR with error 0) followed by DONE.
    let mut buf = Vec::new();
    NlHeader {
        len: 20,
        kind: 2,
        flags: 0,
        seq: 7,
        pid: 0,
    }
    .encode(&mut buf);
    buf.extend_from_slice(&0i32.to_ne_bytes());
    NlHeader {
        len: 20,
        kind: 3,
        flags: 2,
        seq: 8,
        pid: 0,
    }
    .encode(&mut buf);
    buf.extend_from_slice(&(-3i32).to_ne_bytes());
    let m: Vec<_> = Messages::new(&buf).collect::<Result<_, _>>().unwrap();
    assert_eq!(m[0], NlMsg::Error { seq: 7, error: 0 });
    assert_eq!(m[1], NlMsg::Done { seq: 8, error: -3 });
}

#[test]
fn service_wire_bytes_match_the_kernel_layout() {
    // TCP 10.0.0.1:80 rr, as a selector: AF, PROTOCOL, 16-byte ADDR, PORT (big endian).
    let k = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "10.0.0.1".parse().unwrap(),
        port: 80,
    };
    let mut buf = Vec::new();
    k.encode(&mut buf);
    let mut want = vec![];
    want.extend_from_slice(&[48, 0, 1, 0]); // nest SERVICE, len 4+8+8+20+8
    want.extend_from_slice(&[6, 0, 1, 0, 2, 0, 0, 0]); // AF_INET + pad
    want.extend_from_slice(&[6, 0, 2, 0, 6, 0, 0, 0]); // TCP + pad
    want.extend_from_slice(&[20, 0, 3, 0, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    want.extend_from_slice(&[6, 0, 4, 0, 0, 80, 0, 0]); // port 80 BE + pad
    assert_eq!(buf, want);
}
