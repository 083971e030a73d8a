//! A VIP deleted by hand (`ip addr del`) from a MASTER, against keepalived 2.4.3 (and
//! 2.2.7) on a real network. Observed in namespaces, both versions alike: a tracked VIP's
//! deletion makes the MASTER send one priority-0 advert, remove all its VIPs and enter
//! BACKUP; alone on the LAN it is MASTER again after Skew_Time ((256 - 150) / 256 s =
//! 0.41 s here) with every VIP back; the one line about the deletion itself is "Netlink
//! reflector reports IP 10.131.11.100 removed from eth0". With `no_track` on the VIP
//! nothing happens (and nothing is logged): it stays deleted, the other VIPs stay, no
//! advert changes.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ka_tests::capture::Capture;
use ka_tests::daemon::{keepalived_243, require_keepalived, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan};

const UP: Duration = Duration::from_secs(12);
/// ETH_P_IP.
const ETH_P_IP: u16 = 0x0800;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test literal")
}

fn config(net: &str, no_track: bool) -> String {
    let nt = if no_track { " no_track" } else { "" };
    format!(
        "global_defs {{\n  router_id vip_deleted\n}}\nvrrp_instance VI_1 {{\n  state MASTER\n  \
         interface eth0\n  virtual_router_id 61\n  priority 150\n  advert_int 1\n  \
         virtual_ipaddress {{\n    {net}.100/24{nt}\n    {net}.101/24\n  }}\n}}\n"
    )
}

/// What followed the deletion of `.100` from the MASTER.
#[derive(Debug, Clone)]
struct Seen {
    /// Priority-0 adverts from the MASTER on the LAN.
    prio0: usize,
    /// Seconds until `.100` was back (None: not within the window).
    back_after: Option<f64>,
    /// `.101` went away at some point.
    other_removed: bool,
    /// The daemon logged "Netlink reflector reports IP .100 removed from eth0".
    reported: bool,
}

fn delete_vip(imp: Impl, net: &str, no_track: bool) -> Result<Seen, String> {
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let (h1, h2) = (&lan.hosts[0], &lan.hosts[1]);
    let (vip, other) = (ip(&format!("{net}.100")), ip(&format!("{net}.101")));
    let mut d = Daemon::start(h1, imp, &config(net, no_track));
    if !wait_for(UP, || h1.has_addr(vip) && h1.has_addr(other)) {
        return Err(format!("{}: never MASTER\n{}", imp.name(), d.log()));
    }
    std::thread::sleep(Duration::from_secs(1));
    let cap = Capture::start(h2, "eth0", ETH_P_IP);
    std::thread::sleep(Duration::from_millis(100));
    h1.ip(["addr", "del", &format!("{vip}/24"), "dev", "eth0"]);
    let t0 = Instant::now();
    let mut back_after = None;
    let mut other_removed = false;
    while t0.elapsed() < Duration::from_secs(3) {
        other_removed |= !h1.has_addr(other);
        if back_after.is_none() && h1.has_addr(vip) {
            back_after = Some(t0.elapsed().as_secs_f64());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let frames = cap.finish();
    let reported = d.log().contains(&format!(
        "Netlink reflector reports IP {vip} removed from eth0"
    ));
    d.stop(Duration::from_secs(5));
    let master = ip(&format!("{net}.1"));
    // IPv4 (20-byte header) protocol 112 from the MASTER; the VRRP priority is byte 2.
    let prio0 = frames
        .iter()
        .filter(|f| {
            let b = &f.bytes;
            b.len() >= 14 + 20 + 8
                && b[14] == 0x45
                && b[23] == 112
                && IpAddr::from([b[26], b[27], b[28], b[29]]) == master
                && b[36] == 0
        })
        .count();
    Ok(Seen {
        prio0,
        back_after,
        other_removed,
        reported,
    })
}

#[test]
fn vip_deleted_by_hand_like_keepalived_243() {
    const T: &str = "vip_deleted_by_hand_like_keepalived_243";
    if !require_root(T) || !require_keepalived(T) || keepalived_243(T).is_none() {
        return;
    }
    let cases = [
        (Impl::Keepalived243, false, "10.131.11"),
        (Impl::Ours, false, "10.131.12"),
        (Impl::Keepalived, false, "10.131.13"),
        (Impl::Keepalived243, true, "10.131.14"),
        (Impl::Ours, true, "10.131.15"),
        (Impl::Keepalived, true, "10.131.16"),
    ];
    let seen: Vec<Seen> = std::thread::scope(|s| {
        let hs: Vec<_> = cases
            .iter()
            .map(|&(imp, nt, net)| s.spawn(move || delete_vip(imp, net, nt)))
            .collect();
        hs.into_iter()
            .map(|h| match h.join().expect("run thread") {
                Ok(v) => v,
                Err(e) => panic!("{e}"),
            })
            .collect()
    });
    for ((imp, nt, _), s) in cases.iter().zip(&seen) {
        eprintln!("{} no_track={nt}: {s:?}", imp.name());
    }
    // Tracked: one priority-0 advert, every VIP removed, back after Skew (0.41 s).
    let (k243, ours, k227) = (&seen[0], &seen[1], &seen[2]);
    for s in [k243, ours, k227] {
        assert_eq!(s.prio0, 1, "{s:?}");
        // The one line about the deletion itself, in both versions' words.
        assert!(s.reported, "{s:?}");
        assert!(s.other_removed, "{s:?}");
        assert!(
            s.back_after.is_some_and(|t| (0.3..0.8).contains(&t)),
            "{s:?}"
        );
    }
    let (Some(o), Some(t)) = (ours.back_after, k243.back_after) else {
        unreachable!("checked above")
    };
    assert!((o - t).abs() < 0.15, "back after {o:.3} s, 2.4.3 {t:.3} s");
    // no_track: nothing happens, and nothing is logged.
    for s in &seen[3..] {
        assert_eq!(
            (s.prio0, s.back_after, s.other_removed, s.reported),
            (0, None, false, false),
            "{s:?}"
        );
    }
}
