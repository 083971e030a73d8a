//! More VIPs than one advert can carry on the interface's MTU (the headers, AH and the
//! `auth_hmac` trailer included, at most 255), beside keepalived 2.4.3: the same warning
//! and `-t` verdict, the excess moved to the excluded addresses (installed, not
//! advertised), and a mixed pair that agrees on the advertised list.

use std::net::IpAddr;
use std::process::Command;
use std::thread;
use std::time::Duration;

use ka_tests::capture::Capture;
use ka_tests::daemon::{keepalived_243, ours_binary, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan, Netns};

const UP: Duration = Duration::from_secs(20);
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// What an instance's VIPs and authentication look like.
#[derive(Debug, Clone, Copy)]
struct Case {
    /// IPv6 VIPs and VRRPv3 (else IPv4, VRRPv2).
    ipv6: bool,
    vips: usize,
    hmac: bool,
    ah: bool,
    /// Interface MTU.
    mtu: u32,
    /// The most addresses an advert then carries (keepalived 2.4.3's figure).
    max: usize,
}

fn vip(c: &Case, i: usize) -> String {
    if c.ipv6 {
        format!("fd00:105::{:x}", i + 1)
    } else {
        format!("10.106.{}.{}", i / 250, i % 250 + 1)
    }
}

fn conf(c: &Case, iface: &str, prio: u8) -> String {
    let plen = if c.ipv6 { 128 } else { 32 };
    let vips: String = (0..c.vips)
        .map(|i| format!("    {}/{plen}\n", vip(c, i)))
        .collect();
    let auth = match (c.hmac, c.ah) {
        (true, _) => format!("  auth_hmac {{\n    key 1 hex:{KEY}\n    active_key 1\n  }}\n"),
        (_, true) => "  authentication {\n    auth_type AH\n    auth_pass secret\n  }\n".into(),
        _ => String::new(),
    };
    format!(
        "vrrp_instance VI_1 {{\n  state BACKUP\n  interface {iface}\n  virtual_router_id 52\n  \
         priority {prio}\n  advert_int 1\n  version {}\n{auth}  virtual_ipaddress {{\n{vips}  }}\n}}\n",
        if c.ipv6 { 3 } else { 2 }
    )
}

/// `BIN -t -f CONF` inside `ns`: the exit code and the "Number of VIPs" line, if any.
fn verdict(ns: &Netns, bin: &std::path::Path, config: &str) -> (Option<i32>, Option<String>) {
    let dir = ka_tests::TempDir::new("mtu");
    let path = dir.path().join("keepalived.conf");
    std::fs::write(&path, config).expect("write config");
    let out = Command::new("ip")
        .args(["netns", "exec", ns.name()])
        .arg(bin)
        .arg("-t")
        .arg("-f")
        .arg(&path)
        .output()
        .expect("run -t");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find_map(|l| l.find("(VI_1) Number of VIPs").map(|i| l[i..].to_string()));
    (out.status.code(), line)
}

#[test]
fn vips_beyond_what_fits_in_an_advert_are_reported_and_excluded_as_keepalived_2_4_3_does() {
    let name =
        "vips_beyond_what_fits_in_an_advert_are_reported_and_excluded_as_keepalived_2_4_3_does";
    if !require_root(name) {
        return;
    }
    let Some(theirs) = keepalived_243(name) else {
        return;
    };
    let ns = Netns::new("mtu");
    for (ifname, peer, mtu) in [("e1500", "f1500", "1500"), ("e1000", "f1000", "1000")] {
        ns.ip([
            "link", "add", ifname, "mtu", mtu, "type", "veth", "peer", "name", peer,
        ]);
        ns.ip(["link", "set", ifname, "up"]);
    }
    let case = |ipv6, vips, hmac, ah, mtu, max| Case {
        ipv6,
        vips,
        hmac,
        ah,
        mtu,
        max,
    };
    for c in [
        // MTU 1500, IPv4: only the count field limits (255).
        case(false, 400, false, false, 1500, 255),
        case(false, 400, true, false, 1500, 255),
        case(false, 255, true, false, 1500, 255),
        // IPv6 (v3): 89 addresses, 88 with the 28-byte trailer.
        case(true, 100, false, false, 1500, 89),
        case(true, 89, false, false, 1500, 89),
        case(true, 89, true, false, 1500, 88),
        case(true, 88, true, false, 1500, 88),
        // MTU 1000, IPv4 v2: 237; 230 with auth_hmac; 231 with AH.
        case(false, 238, false, false, 1000, 237),
        case(false, 237, false, false, 1000, 237),
        case(false, 231, true, false, 1000, 230),
        case(false, 232, false, true, 1000, 231),
        case(false, 231, false, true, 1000, 231),
    ] {
        let config = conf(&c, &format!("e{}", c.mtu), 100);
        let want = (c.vips > c.max).then(|| {
            format!(
                "(VI_1) Number of VIPs ({}) exceeds maximum/space available in packet \
                 (max {} addresses) - excess moved to eVIPs",
                c.vips, c.max
            )
        });
        let (their_code, their_line) = verdict(&ns, &theirs, &config);
        let (our_code, our_line) = verdict(&ns, &ours_binary(), &config);
        assert_eq!(their_line, want, "keepalived 2.4.3, {c:?}");
        assert_eq!(our_line, want, "ours, {c:?}");
        assert_eq!(our_code, their_code, "-t exit code, {c:?}");
    }
}

/// The VRRP message of an advert frame from `src`: (address count, frame length).
fn adverts_from(frames: &[ka_tests::capture::Frame], src: IpAddr) -> Vec<(u8, usize)> {
    frames
        .iter()
        .filter_map(|f| {
            let b = &f.bytes;
            match src {
                IpAddr::V4(s) if b.len() > 38 && b[12..14] == [0x08, 0x00] => {
                    // An AH advert (51) has its 24-byte AH header before the VRRP message.
                    let at = match b[23] {
                        112 => 34,
                        51 => 58,
                        _ => return None,
                    };
                    (b[26..30] == s.octets() && b.len() > at + 3).then(|| (b[at + 3], b.len()))
                }
                IpAddr::V6(s) if b.len() > 58 && b[12..14] == [0x86, 0xdd] && b[20] == 112 => {
                    (b[22..38] == s.octets()).then(|| (b[57], b.len()))
                }
                _ => None,
            }
        })
        .collect()
}

/// keepalived 2.4.3 MASTER (host 0) and ours BACKUP (host 1) with `c`: ours accepts the
/// trimmed adverts (stays BACKUP), then takes over when 2.4.3 stops; both install every
/// VIP and advertise `c.max`, in frames within the MTU.
fn pair(c: Case, net: &str) {
    let lan = Lan::new(2, net);
    for (i, h) in lan.hosts.iter().enumerate() {
        let mtu = c.mtu.to_string();
        h.ip(["link", "set", "eth0", "mtu", &mtu]);
        lan.switch
            .ip(["link", "set", &format!("p{i}"), "mtu", &mtu]);
    }
    lan.wait_carrier();
    let (first, last): (IpAddr, IpAddr) = (
        vip(&c, 0).parse().expect("vip"),
        vip(&c, c.vips - 1).parse().expect("vip"),
    );
    let src = |i: usize| -> IpAddr {
        if c.ipv6 {
            // The link-local address each host's eth0 got (the advert's source).
            let out = lan.hosts[i].ip(["-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]);
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            text.split_whitespace()
                .skip_while(|w| *w != "inet6")
                .nth(1)
                .and_then(|a| a.split('/').next())
                .and_then(|a| a.parse().ok())
                .expect("link-local address")
        } else {
            lan.addr(i).parse().expect("addr")
        }
    };
    let mut a = Daemon::start(&lan.hosts[0], Impl::Keepalived243, &conf(&c, "eth0", 150));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(first)
            && lan.hosts[0].has_addr(last)),
        "keepalived 2.4.3 not MASTER with every VIP ({c:?}):\n{}",
        a.log()
    );
    let cap = Capture::start(&lan.hosts[1], "eth0", 0x0003);
    let mut b = Daemon::start(&lan.hosts[1], Impl::Ours, &conf(&c, "eth0", 100));
    thread::sleep(Duration::from_secs(5));
    let frames = cap.finish();
    assert!(
        !lan.hosts[1].has_addr(first),
        "ours left BACKUP: it did not accept the trimmed adverts ({c:?}):\n{}",
        b.log()
    );
    let theirs = adverts_from(&frames, src(0));
    assert!(
        !theirs.is_empty(),
        "no advert from keepalived 2.4.3 ({c:?})"
    );
    for (count, len) in &theirs {
        assert_eq!(
            usize::from(*count),
            c.max,
            "keepalived 2.4.3's count ({c:?})"
        );
        assert!(*len <= 14 + c.mtu as usize, "{len}-byte frame ({c:?})");
    }
    let cap = Capture::start(&lan.hosts[0], "eth0", 0x0003);
    a.stop(Duration::from_secs(5));
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(first)
            && lan.hosts[1].has_addr(last)),
        "ours not MASTER with every VIP ({c:?}):\n{}",
        b.log()
    );
    thread::sleep(Duration::from_millis(2500));
    let frames = cap.finish();
    let log = b.log();
    b.stop(Duration::from_secs(5));
    let ours = adverts_from(&frames, src(1));
    assert!(!ours.is_empty(), "no advert from ours ({c:?}):\n{log}");
    for (count, len) in &ours {
        assert_eq!(usize::from(*count), c.max, "our count ({c:?})");
        assert!(*len <= 14 + c.mtu as usize, "{len}-byte frame ({c:?})");
    }
    assert!(
        log.contains(&format!(
            "(VI_1) Number of VIPs ({}) exceeds maximum/space available in packet (max {} addresses) - excess moved to eVIPs",
            c.vips, c.max
        )),
        "{log}"
    );
}

#[test]
fn a_mixed_pair_advertises_what_fits_and_installs_every_vip() {
    let name = "a_mixed_pair_advertises_what_fits_and_installs_every_vip";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    thread::scope(|s| {
        // IPv4 v2 with auth_hmac on MTU 1000: 230 of 240 advertised.
        s.spawn(|| {
            pair(
                Case {
                    ipv6: false,
                    vips: 240,
                    hmac: true,
                    ah: false,
                    mtu: 1000,
                    max: 230,
                },
                "10.105.0",
            )
        });
        // IPv6 v3 with auth_hmac on MTU 1500: 88 of 100 advertised.
        s.spawn(|| {
            pair(
                Case {
                    ipv6: true,
                    vips: 100,
                    hmac: true,
                    ah: false,
                    mtu: 1500,
                    max: 88,
                },
                "10.105.1",
            )
        });
    });
}
