//! A `unicast_src_ip` that is not (yet) on the host: keepalived 2.3.3+ still sends its
//! adverts from it (IP_FREEBIND), and so do we — captured on the peer beside keepalived
//! 2.4.3 doing the same.

use std::net::Ipv4Addr;
use std::time::Duration;

use ka_tests::capture::Capture;
use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, Lan};

const ETH_P_IP: u16 = 0x0800;

/// VRRP adverts from `src` that host 1 saw in 7 s while host 0 ran `imp`.
fn adverts_from_absent_source(imp: Impl, net: &str) -> usize {
    let lan = Lan::new(2, net);
    let src: Ipv4Addr = format!("{net}.50").parse().expect("src");
    let config = format!(
        "vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id 93\n  \
         priority 150\n  advert_int 1\n  unicast_src_ip {src}\n  unicast_peer {{\n    {net}.2\n  }}\n  \
         virtual_ipaddress {{\n    {net}.100/24\n  }}\n}}\n"
    );
    let cap = Capture::start(&lan.hosts[1], "eth0", ETH_P_IP);
    let mut d = Daemon::start(&lan.hosts[0], imp, &config);
    std::thread::sleep(Duration::from_secs(7));
    let frames = cap.finish();
    d.stop(Duration::from_secs(5));
    frames
        .iter()
        .filter(|f| {
            let b = &f.bytes;
            // Ethernet (14) + IPv4: protocol at 23, source at 26..30.
            b.len() >= 34 && b[23] == 112 && b[26..30] == src.octets()
        })
        .count()
}

#[test]
fn adverts_go_out_from_a_source_address_not_on_the_host_as_keepalived_2_4_3_s() {
    let name = "adverts_go_out_from_a_source_address_not_on_the_host_as_keepalived_2_4_3_s";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (ours, theirs) = std::thread::scope(|s| {
        let a = s.spawn(|| adverts_from_absent_source(Impl::Ours, "10.102.0"));
        let b = s.spawn(|| adverts_from_absent_source(Impl::Keepalived243, "10.102.1"));
        (a.join().expect("ours"), b.join().expect("2.4.3"))
    });
    eprintln!("adverts from the absent source in 7 s: ours {ours}, keepalived 2.4.3 {theirs}");
    assert!(theirs >= 3, "keepalived 2.4.3 sent {theirs}");
    assert!(ours >= 3, "we sent {ours} adverts from the absent source");
}
