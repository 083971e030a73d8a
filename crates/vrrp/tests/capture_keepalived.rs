//! Runs keepalived 2.2.7 in a namespace, captures the adverts it sends (AF_PACKET in a
//! second namespace on the other end of a veth pair) and compares them with the committed
//! fixtures: the VRRP message byte for byte, and the IP header's source, destination,
//! TTL, TOS and protocol. `KA_UPDATE_FIXTURES=1` rewrites the fixtures instead.
//! Root only (namespaces); keepalived comes from `cargo xtask setup`.

mod fixture_util;

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, Instant};

use fixture_util::{render_fixture, split_ip, CASES, H1_MAC, H1_V4};
use ka_tests::daemon::{Daemon, Impl};
use ka_tests::{require_root, sh, Netns};
use socket2::{Domain, Protocol, Socket, Type};

const ETH_P_ALL: u16 = 0x0003;

/// Frames captured by an AF_PACKET socket opened in `ns`, for up to `timeout`, until
/// `done` says enough. Returns the IP packets (Ethernet header removed) of VRRP frames.
fn capture(sock: &Socket, timeout: Duration, mut keep: impl FnMut(&[u8]) -> bool) {
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    let mut s: &Socket = sock;
    while start.elapsed() < timeout {
        let n = match s.read(&mut buf) {
            Ok(n) => n,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(e) => panic!("capture: {e}"),
        };
        if n < 14 {
            continue;
        }
        let ethertype = u16::from_be_bytes([buf[12], buf[13]]);
        let ip = &buf[14..n];
        let is_vrrp = match ethertype {
            0x0800 => ip.len() > 20 && ip[9] == 112,
            0x86dd => ip.len() > 40 && ip[6] == 112,
            _ => false,
        };
        if is_vrrp && !keep(ip) {
            return;
        }
    }
}

#[test]
fn keepalived_adverts_match_fixtures() {
    if !require_root("keepalived_adverts_match_fixtures") {
        return;
    }
    let h1 = Netns::new("kc");
    let cap = Netns::new("kx");
    // No DAD, so the link-local source exists as soon as the link is up.
    h1.exec("sysctl", ["-qw", "net.ipv6.conf.default.accept_dad=0"]);
    h1.exec("sysctl", ["-qw", "net.ipv6.conf.all.accept_dad=0"]);
    sh(
        "ip",
        [
            "link",
            "add",
            "eth0",
            "netns",
            h1.name(),
            "address",
            H1_MAC,
            "type",
            "veth",
            "peer",
            "name",
            "c0",
            "netns",
            cap.name(),
        ],
    );
    h1.ip(["addr", "add", &format!("{H1_V4}/24"), "dev", "eth0"]);
    h1.ip(["link", "set", "eth0", "up"]);
    // The unicast peer's address, so that h1 resolves it (ARP) and sends.
    cap.ip(["addr", "add", "10.99.0.2/24", "dev", "c0"]);
    cap.ip(["link", "set", "c0", "up"]);

    let sock = cap.run(|| {
        let s = Socket::new(
            Domain::PACKET,
            Type::RAW,
            Some(Protocol::from(i32::from(ETH_P_ALL.to_be()))),
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        s
    });

    let mut conf = String::from("global_defs {\n  router_id capture\n}\n");
    for c in CASES {
        conf.push_str(c.conf);
    }
    let ka = Daemon::start_with(&h1, Impl::Keepalived, &conf, &["-P"]);

    // The first advert of each VRID with a non-zero priority.
    let mut got: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    capture(&sock, Duration::from_secs(15), |ip| {
        if let Some((_, payload)) = split_ip(ip) {
            if payload.len() >= 8 && payload[2] != 0 {
                got.entry(payload[1]).or_insert_with(|| ip.to_vec());
            }
        }
        got.len() < CASES.len()
    });
    // Then SIGTERM: every MASTER sends priority 0.
    ka.signal(libc::SIGTERM);
    let mut stop: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    capture(&sock, Duration::from_secs(5), |ip| {
        if let Some((_, payload)) = split_ip(ip) {
            if payload.len() >= 8 && payload[2] == 0 {
                stop.entry(payload[1]).or_insert_with(|| ip.to_vec());
            }
        }
        stop.len() < CASES.len()
    });
    drop(ka);

    let update = std::env::var_os("KA_UPDATE_FIXTURES").is_some_and(|v| v == "1");
    for case in CASES {
        let live = got.get(&case.vrid).unwrap_or_else(|| {
            panic!(
                "no advert from keepalived for {} (VRID {})",
                case.name, case.vrid
            )
        });
        let live_stop = stop
            .get(&case.vrid)
            .unwrap_or_else(|| panic!("no priority-0 advert from keepalived for {}", case.name));
        let stop_file = fixture_util::stop_file(case);
        if update {
            std::fs::write(
                fixture_util::path(case.file),
                render_fixture(case, live, false),
            )
            .unwrap();
            std::fs::write(
                fixture_util::path(&stop_file),
                render_fixture(case, live_stop, true),
            )
            .unwrap();
            continue;
        }
        for (file, live) in [(case.file, live), (stop_file.as_str(), live_stop)] {
            let fixture = fixture_util::read_fixture(file);
            let (li, lp) = split_ip(live).unwrap();
            let (fi, fp) = split_ip(&fixture).unwrap();
            assert_eq!(li, fi, "{file}: IP header fields differ from the fixture");
            assert_eq!(lp, fp, "{file}: VRRP message differs from the fixture");
        }
    }
}
