//! `use_vmac` in a namespace: macvlan `vrrp.VRID` in private mode with the virtual router
//! MAC, keepalived's sysctls on it and on the base, and clean removal.
#![cfg(feature = "linux")]

use ka_tests::{require_root, Netns};
use vrrp::linux::netlink::{Change, Rtnl};
use vrrp::linux::vmac::{self, Vmac, VmacSpec};

fn sysctl(ns: &Netns, path: &str) -> String {
    String::from_utf8_lossy(&ns.exec("cat", [path]).stdout)
        .trim()
        .to_string()
}

fn ip_out(ns: &Netns, args: &[&str]) -> String {
    String::from_utf8_lossy(&ns.ip(args).stdout).to_string()
}

fn setup() -> (Netns, u32) {
    let ns = Netns::new("vm");
    ns.exec("sysctl", ["-qw", "net.ipv6.conf.default.accept_dad=0"]);
    ns.ip([
        "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    ns.ip(["link", "set", "eth0", "up"]);
    ns.ip(["link", "set", "eth1", "up"]);
    ns.ip(["addr", "add", "10.66.0.1/24", "dev", "eth0"]);
    let base = ns.run(|| Rtnl::open().expect("rtnl").ifindex("eth0").expect("eth0"));
    (ns, base)
}

#[test]
fn ipv4_vmac_is_created_configured_and_removed() {
    if !require_root("ipv4_vmac_is_created_configured_and_removed") {
        return;
    }
    let (ns, base) = setup();
    let spec = VmacSpec::new(base, "eth0", 51, false);
    let v: Vmac = ns.run(move || {
        let mut r = Rtnl::open().expect("rtnl");
        vmac::create(&mut r, &spec).expect("create vmac")
    });
    assert_eq!(v.name, "vrrp.51");
    assert!(v.created);
    assert_eq!(v.mac, [0, 0, 0x5e, 0, 1, 51]);
    let shown = ip_out(&ns, &["-d", "link", "show", "vrrp.51"]);
    assert!(shown.contains("vrrp.51@eth0"), "{shown}");
    assert!(shown.contains("link/ether 00:00:5e:00:01:33"), "{shown}");
    assert!(shown.contains("macvlan mode private"), "{shown}");
    assert!(shown.contains("addrgenmode none"), "{shown}");
    assert!(shown.contains(",UP"), "{shown}");
    for (key, want) in [
        ("arp_ignore", "1"),
        ("accept_local", "1"),
        ("promote_secondaries", "1"),
        ("rp_filter", "0"),
    ] {
        assert_eq!(
            sysctl(&ns, &format!("/proc/sys/net/ipv4/conf/vrrp.51/{key}")),
            want,
            "{key}"
        );
    }
    assert_eq!(
        sysctl(&ns, "/proc/sys/net/ipv6/conf/vrrp.51/disable_ipv6"),
        "1"
    );
    assert_eq!(sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_ignore"), "1");
    assert_eq!(sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_filter"), "1");

    // Creating it again adopts the existing one.
    let again = ns.run(move || {
        let mut r = Rtnl::open().expect("rtnl");
        vmac::create(&mut r, &VmacSpec::new(base, "eth0", 51, false)).expect("adopt")
    });
    assert!(!again.created);
    assert_eq!(again.ifindex, v.ifindex);

    // A VIP on the VMAC works.
    ns.ip(["addr", "add", "10.66.0.100/24", "dev", "vrrp.51"]);
    assert!(ns.has_addr("10.66.0.100".parse().expect("lit")));

    let removed = ns.run(move || {
        let mut r = Rtnl::open().expect("rtnl");
        (
            vmac::delete(&mut r, &v, false).expect("delete"),
            vmac::delete(&mut r, &v, false).expect("delete again"),
        )
    });
    assert_eq!(removed, (Change::Done, Change::Unchanged));
    assert!(!ip_out(&ns, &["link"]).contains("vrrp.51"));
    assert_eq!(sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_ignore"), "0");
    assert_eq!(sysctl(&ns, "/proc/sys/net/ipv4/conf/eth0/arp_filter"), "0");
}

#[test]
fn ipv6_vmac_gets_the_base_link_local() {
    if !require_root("ipv6_vmac_gets_the_base_link_local") {
        return;
    }
    let (ns, base) = setup();
    // Wait for eth0's link-local address.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let ll = loop {
        let out = ip_out(&ns, &["-6", "addr", "show", "dev", "eth0", "scope", "link"]);
        if let Some(w) = out.split_whitespace().skip_while(|w| *w != "inet6").nth(1) {
            if !out.contains("tentative") {
                break w.to_string();
            }
        }
        assert!(std::time::Instant::now() < deadline, "no link-local: {out}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut spec = VmacSpec::new(base, "eth0", 52, true);
    spec.name = "vmac52".into();
    let v = ns.run(move || {
        let mut r = Rtnl::open().expect("rtnl");
        vmac::create(&mut r, &spec).expect("create vmac")
    });
    assert_eq!(v.mac, [0, 0, 0x5e, 0, 2, 52]);
    let shown = ip_out(&ns, &["-d", "addr", "show", "dev", "vmac52"]);
    assert!(shown.contains("link/ether 00:00:5e:00:02:34"), "{shown}");
    assert!(shown.contains("macvlan mode private"), "{shown}");
    assert!(
        shown.contains(&format!("inet6 {ll} scope link nodad deprecated")),
        "{ll}: {shown}"
    );
    // Only that one IPv6 address: nothing generated from the VMAC.
    assert_eq!(shown.matches("inet6").count(), 1, "{shown}");
    ns.run(move || {
        let mut r = Rtnl::open().expect("rtnl");
        vmac::delete(&mut r, &v, false).expect("delete");
    });
    assert!(!ip_out(&ns, &["link"]).contains("vmac52"));
}

#[test]
fn adverts_go_out_from_the_vmac_and_come_in_on_it() {
    if !require_root("adverts_go_out_from_the_vmac_and_come_in_on_it") {
        return;
    }
    use std::time::{Duration, Instant};
    use vrrp::linux::capture::Capture;
    use vrrp::linux::socket::{Family, SocketConfig, VrrpSocket};
    let lan = ka_tests::Lan::new(2, "10.220.0");
    let (a, b) = (&lan.hosts[0], &lan.hosts[1]);
    let base = a.run(|| Rtnl::open().expect("rtnl").ifindex("eth0").expect("eth0"));
    let v = a.run(move || {
        let mut r = Rtnl::open().expect("rtnl");
        vmac::create(&mut r, &VmacSpec::new(base, "eth0", 51, false)).expect("vmac")
    });
    let ib = b.run(|| Rtnl::open().expect("rtnl").ifindex("eth0").expect("eth0"));
    let cap = b.run(move || Capture::open(ib, 0x0800).expect("capture"));
    // keepalived sends on the VMAC from the base interface's address.
    let vi = v.ifindex;
    let mut cfg = SocketConfig::multicast("vrrp.51", vi, Family::V4);
    cfg.src = Some("10.220.0.1".parse().expect("lit"));
    let on_vmac = a.run(move || VrrpSocket::open(cfg).expect("socket on the VMAC"));
    let on_b = b.run(move || {
        VrrpSocket::open(SocketConfig::multicast("eth0", ib, Family::V4)).expect("socket")
    });
    let pkt = [
        0x21, 51, 100, 1, 0, 1, 0xaa, 0xbb, 10, 220, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mut buf = vec![0u8; 2048];
    let end = Instant::now() + Duration::from_secs(5);
    let frame = 'found: loop {
        assert!(Instant::now() < end, "advert from the VMAC not seen");
        on_vmac.send_advert(&pkt, &[]).expect("send");
        std::thread::sleep(Duration::from_millis(50));
        while let Some(n) = cap.recv(&mut buf).expect("capture") {
            if n > 34 && buf[23] == 112 {
                break 'found buf[..n].to_vec();
            }
        }
    };
    assert_eq!(
        &frame[6..12],
        &[0, 0, 0x5e, 0, 1, 51],
        "Ethernet source is the VMAC"
    );
    assert_eq!(
        &frame[26..30],
        &[10, 220, 0, 1],
        "IP source is the base address"
    );
    let _ = on_b.recv(&mut buf);
    // The other way: b's advert reaches the socket on the VMAC.
    let reply = [
        0x21, 51, 200, 1, 0, 1, 0xaa, 0xbb, 10, 220, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < end, "advert to the VMAC not received");
        on_b.send_advert(&reply, &[]).expect("send");
        std::thread::sleep(Duration::from_millis(50));
        if let Some(r) = on_vmac.recv(&mut buf).expect("recv") {
            if r.payload.get(2) == Some(&200) {
                assert_eq!(
                    r.src,
                    "10.220.0.2".parse::<std::net::IpAddr>().expect("lit")
                );
                assert_eq!(r.ifindex, vi);
                break;
            }
        }
    }
}
