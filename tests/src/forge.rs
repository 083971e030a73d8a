//! Forging VRRP adverts, well-formed or not, and putting them on a test LAN from a third
//! host with an AF_PACKET socket (whole Ethernet frames: any source, TTL, checksum or
//! length). Written from the RFCs (3768, 5798), independently of the `vrrp` crate, so the
//! daemon's decoder is tested against a second implementation.
//!
//! [`corpus`] lists the malformed and forged kinds the hostile-input tests replay;
//! [`Forger::flood`] sends frames at a fixed rate.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::Netns;

/// IP protocol number of VRRP.
pub const PROTO_VRRP: u8 = 112;

/// How the VRRP checksum field is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sum {
    /// As the RFC says (v3: with the pseudo-header).
    Good,
    /// v3 over IPv4 without the pseudo-header (keepalived's `v3_checksum_as_v2`).
    NoPseudo,
    /// The right value plus one.
    Bad,
    /// Zero.
    Zero,
}

/// A VRRP message, every field settable.
#[derive(Debug, Clone)]
pub struct Vrrp {
    pub version: u8,
    pub kind: u8,
    pub vrid: u8,
    pub prio: u8,
    /// The count field; None: the number of `addrs`.
    pub count: Option<u8>,
    /// v2 only.
    pub auth_type: u8,
    /// v2: seconds (8 bits); v3: centiseconds (12 bits).
    pub int: u16,
    pub addrs: Vec<IpAddr>,
    /// v2 only.
    pub pw: [u8; 8],
    pub sum: Sum,
    /// Cut the message to this many bytes after the checksum is computed.
    pub truncate: Option<usize>,
}

impl Vrrp {
    /// A valid v2 advert, no authentication, advert_int 1 s.
    pub fn v2(vrid: u8, prio: u8, addrs: Vec<IpAddr>) -> Vrrp {
        Vrrp {
            version: 2,
            kind: 1,
            vrid,
            prio,
            count: None,
            auth_type: 0,
            int: 1,
            addrs,
            pw: [0; 8],
            sum: Sum::Good,
            truncate: None,
        }
    }

    /// A valid v3 advert, advert_int 1 s.
    pub fn v3(vrid: u8, prio: u8, addrs: Vec<IpAddr>) -> Vrrp {
        Vrrp {
            version: 3,
            int: 100,
            ..Vrrp::v2(vrid, prio, addrs)
        }
    }

    /// With a simple password (v2 auth type 1).
    pub fn pass(mut self, pw: &str) -> Vrrp {
        self.auth_type = 1;
        self.pw = [0; 8];
        for (d, s) in self.pw.iter_mut().zip(pw.bytes()) {
            *d = s;
        }
        self
    }

    /// The message as sent from `src` to `dst` (the pseudo-header needs them).
    pub fn bytes(&self, src: IpAddr, dst: IpAddr) -> Vec<u8> {
        let mut m = vec![
            (self.version << 4) | (self.kind & 0x0f),
            self.vrid,
            self.prio,
            self.count
                .unwrap_or(u8::try_from(self.addrs.len()).unwrap_or(u8::MAX)),
        ];
        if self.version == 2 {
            m.push(self.auth_type);
            m.push(u8::try_from(self.int).unwrap_or(u8::MAX));
        } else {
            m.extend_from_slice(&(self.int & 0x0fff).to_be_bytes());
        }
        m.extend_from_slice(&[0, 0]);
        for a in &self.addrs {
            match a {
                IpAddr::V4(a) => m.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => m.extend_from_slice(&a.octets()),
            }
        }
        if self.version == 2 {
            m.extend_from_slice(&self.pw);
        }
        let pseudo = self.version == 3 && (self.sum != Sum::NoPseudo || src.is_ipv6());
        let sum = match self.sum {
            Sum::Zero => 0,
            s => {
                let c = checksum(&m, pseudo.then_some((src, dst)));
                if s == Sum::Bad {
                    c.wrapping_add(1)
                } else {
                    c
                }
            }
        };
        m[6..8].copy_from_slice(&sum.to_be_bytes());
        if let Some(n) = self.truncate {
            m.truncate(n);
        }
        m
    }
}

/// The Internet checksum of `msg`, with the pseudo-header of `(src, dst)` for protocol 112.
pub fn checksum(msg: &[u8], pseudo: Option<(IpAddr, IpAddr)>) -> u16 {
    let mut data = Vec::new();
    match pseudo {
        Some((IpAddr::V4(s), IpAddr::V4(d))) => {
            data.extend_from_slice(&s.octets());
            data.extend_from_slice(&d.octets());
            data.extend_from_slice(&[0, PROTO_VRRP]);
            data.extend_from_slice(&u16::try_from(msg.len()).unwrap_or(0).to_be_bytes());
        }
        Some((IpAddr::V6(s), IpAddr::V6(d))) => {
            data.extend_from_slice(&s.octets());
            data.extend_from_slice(&d.octets());
            data.extend_from_slice(&u32::try_from(msg.len()).unwrap_or(0).to_be_bytes());
            data.extend_from_slice(&[0, 0, 0, PROTO_VRRP]);
        }
        _ => {}
    }
    data.extend_from_slice(msg);
    if data.len() % 2 == 1 {
        data.push(0);
    }
    let mut s: u32 = data
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// The IP layer of a forged packet.
#[derive(Debug, Clone, Copy)]
pub struct Ip {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub ttl: u8,
}

/// A whole Ethernet frame: `payload` in an IPv4 or IPv6 header as `ip` says, to the
/// multicast MAC of a multicast `dst` (else `dst_mac`), from `src_mac`.
pub fn frame(src_mac: [u8; 6], dst_mac: [u8; 6], ip: &Ip, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + 40 + payload.len());
    let dmac = match ip.dst {
        IpAddr::V4(d) if d.is_multicast() => {
            let o = d.octets();
            [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
        }
        IpAddr::V6(d) if d.is_multicast() => {
            let o = d.octets();
            [0x33, 0x33, o[12], o[13], o[14], o[15]]
        }
        _ => dst_mac,
    };
    f.extend_from_slice(&dmac);
    f.extend_from_slice(&src_mac);
    match (ip.src, ip.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            f.extend_from_slice(&[0x08, 0x00]);
            let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
            let mut h = [0u8; 20];
            h[0] = 0x45;
            h[1] = 0xc0;
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[8] = ip.ttl;
            h[9] = PROTO_VRRP;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let c = checksum(&h, None);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&h);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            f.extend_from_slice(&[0x86, 0xdd]);
            f.extend_from_slice(&[0x6c, 0, 0, 0]);
            f.extend_from_slice(&u16::try_from(payload.len()).unwrap_or(0).to_be_bytes());
            f.push(PROTO_VRRP);
            f.push(ip.ttl);
            f.extend_from_slice(&s.octets());
            f.extend_from_slice(&d.octets());
        }
        _ => panic!("mixed address families in {ip:?}"),
    }
    f.extend_from_slice(payload);
    f
}

/// An AF_PACKET socket on one interface of a test host, to send forged frames.
pub struct Forger {
    fd: OwnedFd,
    ifindex: i32,
}

impl Forger {
    /// Open on `ifname` inside `ns`.
    pub fn open(ns: &Netns, ifname: &str) -> Forger {
        let name = std::ffi::CString::new(ifname).expect("interface name");
        ns.spawn(move || {
            // SAFETY: plain socket(2) call; the result is checked.
            let fd =
                unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            // SAFETY: fd was just returned by socket(2) and is owned by nobody else.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: name is a valid NUL-terminated string.
            let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
            assert!(ifindex > 0, "no interface {name:?}");
            let sndbuf: libc::c_int = 4 << 20;
            // SAFETY: setsockopt with a pointer to a c_int of the stated size.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_SNDBUF,
                    (&sndbuf as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
            Forger {
                fd,
                ifindex: i32::try_from(ifindex).unwrap_or(0),
            }
        })
        .join()
        .expect("forger thread")
    }

    /// Send one frame; false when the kernel refused it (e.g. a full queue).
    pub fn send(&self, frame: &[u8]) -> bool {
        // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_ifindex = self.ifindex;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&frame[..6.min(frame.len())]);
        // SAFETY: frame and sll are valid for the lengths passed.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        n >= 0
    }

    /// Send `frames` round-robin at `pps` frames per second for `dur`; returns how many
    /// were sent. Paced per millisecond (bursts of pps/1000).
    pub fn flood(&self, frames: &[Vec<u8>], pps: u64, dur: Duration) -> u64 {
        let start = Instant::now();
        let mut sent = 0u64;
        let mut k = 0usize;
        while start.elapsed() < dur {
            let due = (start.elapsed().as_micros() as u64).saturating_mul(pps) / 1_000_000;
            while sent < due {
                if self.send(&frames[k % frames.len()]) {
                    sent += 1;
                } else {
                    break;
                }
                k += 1;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        sent
    }
}

/// What the corpus targets: one v2 instance (with a password) and one v3 instance, both
/// IPv4 multicast, as configured on the pair under test.
#[derive(Debug, Clone)]
pub struct Target {
    pub v2_vrid: u8,
    pub v2_vip: Ipv4Addr,
    pub v2_pass: String,
    pub v3_vrid: u8,
    pub v3_vip: Ipv4Addr,
    /// The forger's source address (a host on the LAN that runs no VRRP).
    pub src: Ipv4Addr,
    /// The MASTER's address and MAC (for unicast-addressed kinds).
    pub master: Ipv4Addr,
    pub master_mac: [u8; 6],
    pub src_mac: [u8; 6],
}

/// One corpus entry.
#[derive(Debug, Clone)]
pub struct Forged {
    /// A short name of the kind.
    pub name: String,
    /// The VRRP message alone (a fuzz seed).
    pub vrrp: Vec<u8>,
    /// The whole frame.
    pub frame: Vec<u8>,
    /// The keepalived.stats line (section/label) the kind must increment on the target
    /// instance, if any: e.g. "Packet Errors/TTL".
    pub counter: Option<&'static str>,
    /// The target instance ("v2", "v3") or None for a VRID nobody has.
    pub instance: Option<&'static str>,
}

const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The malformed and forged adverts, every one with priority 254 so that a decoder that
/// accepted it would make the MASTER step down. None of them may change any state.
pub fn corpus(t: &Target) -> Vec<Forged> {
    let src = IpAddr::V4(t.src);
    let g = IpAddr::V4(GROUP);
    let v2vip = IpAddr::V4(t.v2_vip);
    let v3vip = IpAddr::V4(t.v3_vip);
    let good2 = || Vrrp::v2(t.v2_vrid, 254, vec![v2vip]).pass(&t.v2_pass);
    let good3 = || Vrrp::v3(t.v3_vrid, 254, vec![v3vip]);
    let mut out = Vec::new();
    let mut add =
        |name: &str, v: Vrrp, ip: Ip, counter: Option<&'static str>, inst: Option<&'static str>| {
            let vrrp = v.bytes(ip.src, ip.dst);
            let frame = frame(t.src_mac, t.master_mac, &ip, &vrrp);
            out.push(Forged {
                name: name.to_string(),
                vrrp,
                frame,
                counter,
                instance: inst,
            });
        };
    let mc = |ttl: u8| Ip { src, dst: g, ttl };
    for (tag, inst, good) in [
        ("v2", "v2", &good2 as &dyn Fn() -> Vrrp),
        ("v3", "v3", &good3 as &dyn Fn() -> Vrrp),
    ] {
        let i = Some(inst);
        for ttl in [254u8, 64, 1] {
            add(
                &format!("{tag}-ttl{ttl}"),
                good(),
                mc(ttl),
                Some("Packet Errors/TTL"),
                i,
            );
        }
        for ver in [0u8, 1, 4, 15] {
            let mut v = good();
            v.version = ver;
            add(&format!("{tag}-version{ver}"), v, mc(255), None, i);
        }
        for kind in [0u8, 2, 15] {
            let mut v = good();
            v.kind = kind;
            add(
                &format!("{tag}-type{kind}"),
                v,
                mc(255),
                Some("Packet Errors/Invalid Type"),
                i,
            );
        }
        for (n, s) in [("badsum", Sum::Bad), ("zerosum", Sum::Zero)] {
            let mut v = good();
            v.sum = s;
            add(&format!("{tag}-{n}"), v, mc(255), None, i);
        }
        for cut in [4usize, 7, 8, 11] {
            let mut v = good();
            v.truncate = Some(cut);
            // Shorter than the 8-byte header: not routed to an instance, so not counted
            // in keepalived.stats (as keepalived 2.2.7).
            let c = (cut >= 8).then_some("Packet Errors/Length");
            add(&format!("{tag}-truncated{cut}"), v, mc(255), c, i);
        }
        let mut v = good();
        v.count = Some(20);
        add(
            &format!("{tag}-count-beyond-end"),
            v,
            mc(255),
            Some("Packet Errors/Length"),
            i,
        );
        // An address list other than ours is not in the corpus: keepalived 2.4.3 (and
        // keepalived-rs) accept such an advert from another router, reported and counted
        // (`crates/vrrp/tests/engine_behaviour.rs`, `tests/tests/vip_list_mismatch.rs`).
        // Addressed to the master itself, on a multicast instance.
        add(
            &format!("{tag}-unicast-dst"),
            good(),
            Ip {
                src,
                dst: IpAddr::V4(t.master),
                ttl: 255,
            },
            None,
            i,
        );
        // A VRID nobody runs.
        let mut v = good();
        v.vrid = v.vrid.wrapping_add(100);
        add(&format!("{tag}-unknown-vrid"), v, mc(255), None, None);
    }
    // v2 only: authentication and the advert interval.
    let i = Some("v2");
    let mut v = good2();
    v.auth_type = 0;
    v.pw = [0; 8];
    add(
        "v2-auth-none",
        v,
        mc(255),
        Some("Authentication Errors/Type Mismatch"),
        i,
    );
    for at in [2u8, 3, 255] {
        let mut v = good2();
        v.auth_type = at;
        // 2 is IPsec AH, a type keepalived knows: a mismatch.
        let c = if at == 2 {
            "Authentication Errors/Type Mismatch"
        } else {
            "Authentication Errors/Invalid Type"
        };
        add(&format!("v2-authtype{at}"), v, mc(255), Some(c), i);
    }
    for pw in ["wrong", "", "secret1", "SECRET"] {
        let v = good2().pass(pw);
        add(
            &format!("v2-password-{pw}"),
            v,
            mc(255),
            Some("Authentication Errors/Failure"),
            i,
        );
    }
    // Dropped; keepalived 2.2.7's stats file has no line for it.
    for int in [0u16, 2, 255] {
        let mut v = good2();
        v.int = int;
        add(&format!("v2-interval{int}"), v, mc(255), None, i);
    }
    // v3 only: the checksum without the pseudo-header, on multicast.
    add(
        "v3-sum-without-pseudo-header",
        {
            let mut v = good3();
            v.sum = Sum::NoPseudo;
            v
        },
        mc(255),
        None,
        Some("v3"),
    );
    // Cross-version: a v3 advert for the v2 VRID and the other way round.
    let mut v = good3();
    v.vrid = t.v2_vrid;
    v.addrs = vec![v2vip];
    add("v3-for-v2-instance", v, mc(255), None, Some("v2"));
    let mut v = good2();
    v.vrid = t.v3_vrid;
    v.addrs = vec![v3vip];
    add("v2-for-v3-instance", v, mc(255), None, Some("v3"));
    out
}

/// Per raw VRRP socket (protocol 112) in `ns`: (inode, packets dropped), from
/// /proc/net/raw and /proc/net/raw6 — a socket whose receive queue overflowed counts its
/// drops there.
pub fn raw_vrrp_drops(ns: &Netns) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for file in ["/proc/net/raw", "/proc/net/raw6"] {
        let text = ns.exec("cat", [file]);
        for l in String::from_utf8_lossy(&text.stdout).lines().skip(1) {
            let f: Vec<&str> = l.split_whitespace().collect();
            if !f.get(1).is_some_and(|a| a.ends_with(":0070")) {
                continue;
            }
            if let (Some(inode), Some(Ok(drops))) = (f.get(9), f.last().map(|d| d.parse::<u64>())) {
                out.push((inode.to_string(), drops));
            }
        }
    }
    out
}
