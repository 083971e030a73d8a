//! The wire fixtures captured from keepalived 2.2.7: which settings produced each one,
//! how to read a fixture file, and how to split an IP packet into header fields and the
//! VRRP payload. Shared by `tests/fixtures.rs` and `tests/capture_keepalived.rs`.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use vrrp::{Auth, InstanceConfig, Version};

/// The capturing host's addresses (h1 runs keepalived; its MAC is fixed so the IPv6
/// link-local source is stable).
pub const H1_V4: &str = "10.99.0.1";
pub const H1_MAC: &str = "02:00:00:00:99:01";
pub const H1_LL: &str = "fe80::ff:fe00:9901";

/// One captured advert and the settings that produced it.
pub struct Case {
    /// Fixture file name under tests/fixtures.
    pub file: &'static str,
    /// keepalived instance name.
    pub name: &'static str,
    /// The `vrrp_instance` block given to keepalived.
    pub conf: &'static str,
    pub vrid: u8,
}

pub const CASES: &[Case] = &[
    Case {
        file: "v2_noauth.hex",
        name: "V2_NOAUTH",
        vrid: 51,
        conf: "vrrp_instance V2_NOAUTH {\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    10.99.0.100/24\n  }\n}\n",
    },
    Case {
        file: "v2_pass.hex",
        name: "V2_PASS",
        vrid: 52,
        conf: "vrrp_instance V2_PASS {\n  interface eth0\n  virtual_router_id 52\n  priority 100\n  advert_int 2\n  authentication {\n    auth_type PASS\n    auth_pass s3cr3t\n  }\n  virtual_ipaddress {\n    10.99.0.101\n    10.99.0.102\n  }\n}\n",
    },
    Case {
        file: "v3_ipv4.hex",
        name: "V3_IPV4",
        vrid: 53,
        conf: "vrrp_instance V3_IPV4 {\n  interface eth0\n  version 3\n  virtual_router_id 53\n  priority 200\n  advert_int 0.5\n  virtual_ipaddress {\n    10.99.0.103\n  }\n}\n",
    },
    Case {
        file: "v3_ipv6.hex",
        name: "V3_IPV6",
        vrid: 54,
        conf: "vrrp_instance V3_IPV6 {\n  interface eth0\n  version 3\n  virtual_router_id 54\n  priority 120\n  advert_int 1\n  virtual_ipaddress {\n    fe80::54/64\n    2001:db8::54\n  }\n}\n",
    },
    Case {
        file: "v3_unicast.hex",
        name: "V3_UNICAST",
        vrid: 55,
        conf: "vrrp_instance V3_UNICAST {\n  interface eth0\n  version 3\n  virtual_router_id 55\n  priority 90\n  advert_int 1\n  unicast_src_ip 10.99.0.1\n  unicast_peer {\n    10.99.0.2\n  }\n  virtual_ipaddress {\n    10.99.0.105\n  }\n}\n",
    },
];

/// The fixture with the priority-0 advert keepalived sends when it stops.
pub fn stop_file(case: &Case) -> String {
    case.file.replace(".hex", "_stop.hex")
}

/// The same settings as our `InstanceConfig` (what the daemon's config mapping produces).
pub fn instance_config(case: &Case) -> InstanceConfig {
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    match case.name {
        "V2_NOAUTH" => {
            let mut c = InstanceConfig::new(case.name, "eth0", 51, &[ip("10.99.0.100")]);
            c.priority = 150;
            c.addresses.vips[0].prefix_len = 24;
            c
        }
        "V2_PASS" => {
            let mut c = InstanceConfig::new(
                case.name,
                "eth0",
                52,
                &[ip("10.99.0.101"), ip("10.99.0.102")],
            );
            c.advert_int = Duration::from_secs(2);
            c.auth = Auth::pass("s3cr3t");
            c
        }
        "V3_IPV4" => {
            let mut c = InstanceConfig::new(case.name, "eth0", 53, &[ip("10.99.0.103")]);
            c.version = Version::V3;
            c.priority = 200;
            c.advert_int = Duration::from_millis(500);
            c
        }
        "V3_IPV6" => {
            let mut c =
                InstanceConfig::new(case.name, "eth0", 54, &[ip("fe80::54"), ip("2001:db8::54")]);
            c.priority = 120;
            c
        }
        "V3_UNICAST" => {
            let mut c = InstanceConfig::new(case.name, "eth0", 55, &[ip("10.99.0.105")]);
            c.version = Version::V3;
            c.priority = 90;
            c.src_addr = Some(ip(H1_V4));
            c.unicast_peers = vec![vrrp::UnicastPeer::new(ip("10.99.0.2"))];
            c
        }
        other => panic!("unknown case {other}"),
    }
}

/// The source address keepalived used for this case.
pub fn source(case: &Case) -> IpAddr {
    if case.name == "V3_IPV6" {
        H1_LL.parse().unwrap()
    } else {
        H1_V4.parse().unwrap()
    }
}

pub fn path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file)
}

/// Hex bytes of a fixture file (lines starting with `#` are comments).
pub fn read_fixture(file: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(path(file)).unwrap();
    let hex: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.chars())
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Render a fixture file: a comment header, then 16 bytes of hex per line.
pub fn render_fixture(case: &Case, packet: &[u8], stop: bool) -> String {
    let mut s = String::new();
    s.push_str(if stop {
        "# The priority-0 advert keepalived 2.2.7 sends on SIGTERM (IP id varies), captured by\n"
    } else {
        "# An IP packet carrying a VRRP advert sent by keepalived 2.2.7 (Debian), captured by\n"
    });
    s.push_str(
        "# crates/vrrp/tests/capture_keepalived.rs (KA_UPDATE_FIXTURES=1 rewrites this file).\n",
    );
    s.push_str(&format!(
        "# Sender {H1_V4} / {H1_LL} (MAC {H1_MAC}) on eth0. keepalived.conf:\n"
    ));
    for l in case.conf.lines() {
        s.push_str("#   ");
        s.push_str(l);
        s.push('\n');
    }
    for chunk in packet.chunks(16) {
        let line: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        s.push_str(&line.join(" "));
        s.push('\n');
    }
    s
}

/// Header fields of an IP packet carrying VRRP.
#[derive(Debug, PartialEq, Eq)]
pub struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
    /// IPv4 TOS / IPv6 traffic class.
    pub tos: u8,
    pub proto: u8,
}

/// Split an IPv4 or IPv6 packet (no extension headers) into its fields and payload.
pub fn split_ip(p: &[u8]) -> Option<(IpInfo, &[u8])> {
    match p.first()? >> 4 {
        4 => {
            let (h, off) = vrrp::packet::Ipv4Header::decode(p)?;
            let end = usize::from(h.total_len).min(p.len());
            Some((
                IpInfo {
                    src: IpAddr::V4(h.src),
                    dst: IpAddr::V4(h.dst),
                    ttl: h.ttl,
                    tos: h.tos,
                    proto: h.protocol,
                },
                p.get(off..end)?,
            ))
        }
        6 => {
            if p.len() < 40 {
                return None;
            }
            let len = usize::from(u16::from_be_bytes([p[4], p[5]]));
            let mut s = [0u8; 16];
            s.copy_from_slice(&p[8..24]);
            let mut d = [0u8; 16];
            d.copy_from_slice(&p[24..40]);
            Some((
                IpInfo {
                    src: IpAddr::from(s),
                    dst: IpAddr::from(d),
                    ttl: p[7],
                    tos: ((p[0] & 0x0f) << 4) | (p[1] >> 4),
                    proto: p[6],
                },
                p.get(40..40 + len)?,
            ))
        }
        _ => None,
    }
}
