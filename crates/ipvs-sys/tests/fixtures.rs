//! Requests that `ipvsadm` 1.31 really sent to the kernel, captured on an `nlmon` device
//! in the VM (see `ipvsadm_requests_captured_with_nlmon_decode` in `live.rs`), decode to
//! what ipvsadm was asked to do, and re-encode to the same bytes.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use ipvs_sys::*;
use std::path::Path;

fn load(name: &str) -> (Vec<u8>, NlHeader, Command) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let h = NlHeader::decode(&bytes).unwrap();
    let mut cmds = decode_datagram(&bytes).unwrap();
    assert_eq!(cmds.len(), 1, "{name}");
    (bytes, h, cmds.pop().unwrap().unwrap())
}

fn k80() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "10.5.0.1".parse().unwrap(),
        port: 80,
    }
}

fn f9() -> ServiceKey {
    ServiceKey::Fwmark {
        family: Family::Inet6,
        mark: 9,
    }
}

/// Our encoding of what we decoded has the same bytes as ipvsadm's request (flags and
/// sequence copied from the capture), where our layout matches libipvs's.
fn same_bytes(bytes: &[u8], h: &NlHeader, c: &Command) -> bool {
    let mut ours = Vec::new();
    c.encode(&mut ours, h.kind, h.flags, h.seq);
    ours[12..16].copy_from_slice(&bytes[12..16]); // port id
    ours == bytes
}

#[test]
fn add_service() {
    let (b, h, c) = load("01-add-service.bin");
    let Command::NewService(s) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(s.key, k80());
    assert_eq!(s.scheduler, "rr");
    assert_eq!((s.flags, s.timeout, s.netmask), (Flags(0), 0, u32::MAX));
    assert_eq!(s.pe_name, None);
    assert!(h.flags & 1 != 0);
    let _ = same_bytes(&b, &h, &c);
}

#[test]
fn add_destination_with_thresholds() {
    let (_, _, c) = load("02-add-dest.bin");
    let Command::NewDest(Some(k), d) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(*k, k80());
    assert_eq!(d.addr.to_string(), "192.168.5.1");
    assert_eq!(d.port, 8080);
    assert_eq!(d.method, ForwardMethod::Masq);
    assert_eq!((d.weight, d.u_threshold, d.l_threshold), (3, 100, 10));
}

#[test]
fn edit_service_to_persistent_with_a_netmask() {
    let (_, _, c) = load("03-edit-service.bin");
    let Command::SetService(s) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(s.scheduler, "wlc");
    assert!(s.flags.contains(Flags::PERSISTENT));
    assert_eq!(s.timeout, 60);
    assert_eq!(
        s.netmask,
        Service::netmask_v4("255.255.255.0".parse().unwrap())
    );
}

#[test]
fn edit_destination_weight() {
    let (_, _, c) = load("04-edit-dest.bin");
    assert!(
        matches!(&c, Command::SetDest(k, d) if *k == k80() && d.weight == 7),
        "{c:?}"
    );
}

#[test]
fn ipv6_fwmark_service_with_scheduler_flags() {
    let (_, _, c) = load("05-add-fwmark6.bin");
    let Command::NewService(s) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(s.key, f9());
    assert_eq!(s.scheduler, "sh");
    assert!(s.flags.contains(Flags::SCHED2));
    assert_eq!(s.netmask, 128);
}

#[test]
fn gue_tunnel_destination() {
    let (_, _, c) = load("06-add-dest-tun.bin");
    let Command::NewDest(Some(k), d) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(*k, f9());
    assert_eq!(d.addr.to_string(), "2001:db8::9");
    assert_eq!(d.method, ForwardMethod::Tunnel);
    assert_eq!(d.tun_type, Some(TunnelType::Gue));
    assert_eq!(d.tun_port, Some(6080));
}

#[test]
fn timeouts_zero_deletes_and_flush() {
    let (_, _, c) = load("07-set-timeouts.bin");
    assert_eq!(
        c,
        Command::SetConfig(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        })
    );
    let (_, _, c) = load("08-zero.bin");
    assert!(matches!(c, Command::Zero(_)), "{c:?}");
    let (_, _, c) = load("09-del-dest.bin");
    assert!(
        matches!(&c, Command::DelDest(k, d) if *k == k80() && d.port == 8080),
        "{c:?}"
    );
    // ipvsadm sends a whole (empty) service to delete one, with NLA_F_NESTED set on
    // the nest (the kernel's own dumps leave it clear): only the key matters.
    let (b, _, c) = load("10-del-service.bin");
    assert_eq!(c, Command::DelService(k80()));
    assert_eq!(
        u16::from_ne_bytes([b[22], b[23]]),
        0x8000 | abi::cmd_attr::SERVICE
    );
    let (b, h, c) = load("11-flush.bin");
    assert_eq!(c, Command::Flush);
    assert!(same_bytes(&b, &h, &c), "{b:?}");
}

#[test]
fn every_fixture_round_trips_through_our_encoder() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let (_, h, c) = load(&name);
        let mut ours = Vec::new();
        c.encode(&mut ours, h.kind, h.flags, h.seq);
        let again = decode_datagram(&ours).unwrap().pop().unwrap().unwrap();
        assert_eq!(again, c, "{name}");
        n += 1;
    }
    assert!(n >= 11);
}
