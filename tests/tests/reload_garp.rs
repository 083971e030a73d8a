//! A reload that gives a MASTER new VIPs, against keepalived 2.4.3 (and 2.2.7) on a real
//! network. Observed in namespaces (keepalived 2.4.3 and 2.2.7, `garp_master_repeat 3`,
//! `garp_master_delay 2`): after SIGHUP with one VIP added to an IPv4 and to an IPv6
//! instance, each sends at once `garp_master_repeat` gratuitous ARPs / unsolicited NAs for
//! *every* VIP of the instance (the kept one too, interleaved: old, new, old, new, ...);
//! 2.4.3 sends the same burst again `garp_master_delay` later, 2.2.7 does not (we follow
//! 2.4.3). A reload that only removes VIPs, or changes none, announces nothing (the removal
//! is checked here too).

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ka_tests::capture::{Capture, Frame};
use ka_tests::daemon::{keepalived_243, require_keepalived, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan};

const UP: Duration = Duration::from_secs(12);
/// ETH_P_ALL: ARP and IPv6 in one capture.
const ETH_P_ALL: u16 = 0x0003;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test literal")
}

/// An IPv4 instance (VRID 61) with `.100` (and `.101` when `added`) of `net`, and an IPv6
/// one (VRID 62) with `{net6}::100` (and `::101`).
fn config(net: &str, net6: &str, added: bool) -> String {
    let (v4, v6) = if added {
        (
            format!("{net}.100/24\n    {net}.101/24"),
            format!("{net6}::100/64\n    {net6}::101/64"),
        )
    } else {
        (format!("{net}.100/24"), format!("{net6}::100/64"))
    };
    let inst = |name: &str, vrid: u8, vips: &str| {
        format!(
            "vrrp_instance {name} {{\n  state MASTER\n  interface eth0\n  virtual_router_id {vrid}\n  \
             priority 150\n  advert_int 1\n  garp_master_repeat 3\n  garp_master_delay 2\n  \
             virtual_ipaddress {{\n    {vips}\n  }}\n}}\n"
        )
    };
    format!(
        "global_defs {{\n  router_id reload_garp\n}}\n{}{}",
        inst("VI_4", 61, &v4),
        inst("VI_6", 62, &v6)
    )
}

/// A gratuitous ARP (sender = target) or an unsolicited NA (ICMPv6 136 to a multicast
/// destination): the address announced.
fn announced(f: &Frame) -> Option<IpAddr> {
    if let Some((_, spa, tpa)) = f.arp() {
        return (spa == tpa).then_some(IpAddr::V4(spa));
    }
    let b = &f.bytes;
    // Ethernet (14) + IPv6 header (40, next header 58) + ICMPv6 type 136 + target at 8..24.
    if b.len() < 14 + 40 + 24 || b[12..14] != [0x86, 0xdd] || b[20] != 58 || b[54] != 136 {
        return None;
    }
    if b[38] != 0xff {
        return None; // a solicited NA (unicast): not an announcement
    }
    let t: [u8; 16] = b[62..78].try_into().ok()?;
    Some(IpAddr::from(t))
}

/// What host 2 sees after host 1 (running `imp`, MASTER of both instances, its takeover
/// bursts over) reloads with a VIP added to each: (seconds since the SIGHUP, address), for
/// the VIPs of `net`/`net6`. An error also when a second reload, removing them again,
/// brings any GARP or NA.
fn after_reload(imp: Impl, net: &str, net6: &str) -> Result<Vec<(f64, IpAddr)>, String> {
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let (h1, h2) = (&lan.hosts[0], &lan.hosts[1]);
    let mut d = Daemon::start(h1, imp, &config(net, net6, false));
    let vips = [ip(&format!("{net}.100")), ip(&format!("{net6}::100"))];
    if !wait_for(UP, || vips.iter().all(|v| h1.has_addr(*v))) {
        return Err(format!("{}: never MASTER of both\n{}", imp.name(), d.log()));
    }
    // Past the takeover's second burst (garp_master_delay 2).
    std::thread::sleep(Duration::from_secs(3));
    let cap = Capture::start(h2, "eth0", ETH_P_ALL);
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(d.dir.join("keepalived.conf"), config(net, net6, true))
        .map_err(|e| format!("rewrite config: {e}"))?;
    let hup = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    d.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(4500));
    let frames = cap.finish();
    let added = [ip(&format!("{net}.101")), ip(&format!("{net6}::101"))];
    let installed = added.iter().all(|v| h1.has_addr(*v));
    // Then a reload that only removes them: nothing is announced.
    let cap = Capture::start(h2, "eth0", ETH_P_ALL);
    std::fs::write(d.dir.join("keepalived.conf"), config(net, net6, false))
        .map_err(|e| format!("rewrite config: {e}"))?;
    d.signal(libc::SIGHUP);
    let removed = wait_for(Duration::from_secs(3), || {
        added.iter().all(|v| !h1.has_addr(*v))
    });
    std::thread::sleep(Duration::from_millis(2500));
    let after_removal = cap.finish().iter().filter_map(announced).count();
    d.stop(Duration::from_secs(5));
    if !removed {
        return Err(format!(
            "{}: removed VIPs still there\n{}",
            imp.name(),
            d.log()
        ));
    }
    if after_removal != 0 {
        return Err(format!(
            "{}: {after_removal} GARPs/NAs after a reload that only removes VIPs",
            imp.name()
        ));
    }
    if !installed {
        return Err(format!(
            "{}: added VIPs not installed\n{}",
            imp.name(),
            d.log()
        ));
    }
    let ours = |a: &IpAddr| vips.contains(a) || added.contains(a);
    Ok(frames
        .iter()
        .filter_map(|f| Some((f.at, announced(f).filter(ours)?)))
        .map(|(at, a)| (at.as_secs_f64() - hup.as_secs_f64(), a))
        .collect())
}

/// The announcements of one family in the window [from, to) seconds after the SIGHUP, in
/// order.
fn burst(v: &[(f64, IpAddr)], v6: bool, from: f64, to: f64) -> Vec<IpAddr> {
    v.iter()
        .filter(|(t, a)| *t >= from && *t < to && a.is_ipv6() == v6)
        .map(|(_, a)| *a)
        .collect()
}

fn show(v: &[(f64, IpAddr)]) -> String {
    v.iter()
        .map(|(t, a)| format!("{t:.3} {a}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The first and the second (garp_master_delay = 2 s later) burst of each family.
fn bursts(v: &[(f64, IpAddr)]) -> [Vec<IpAddr>; 4] {
    [
        burst(v, false, 0.0, 1.0),
        burst(v, true, 0.0, 1.0),
        burst(v, false, 1.0, 4.5),
        burst(v, true, 1.0, 4.5),
    ]
}

#[test]
fn reload_adding_vips_announces_like_keepalived_243() {
    const T: &str = "reload_adding_vips_announces_like_keepalived_243";
    if !require_root(T) || !require_keepalived(T) {
        return;
    }
    if keepalived_243(T).is_none() {
        return;
    }
    let runs: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = [
            (Impl::Keepalived243, "10.131.1", "fd00:131:1"),
            (Impl::Ours, "10.131.2", "fd00:131:2"),
            (Impl::Keepalived, "10.131.3", "fd00:131:3"),
        ]
        .into_iter()
        .map(|(imp, net, net6)| s.spawn(move || after_reload(imp, net, net6)))
        .collect();
        hs.into_iter()
            .map(|h| h.join().expect("run thread"))
            .collect()
    });
    let [k243, ours, k227] = [0, 1, 2].map(|i| match &runs[i] {
        Ok(v) => v.clone(),
        Err(e) => panic!("{e}"),
    });
    eprintln!("keepalived 2.4.3: {}", show(&k243));
    eprintln!("keepalived-rs:    {}", show(&ours));
    eprintln!("keepalived 2.2.7: {}", show(&k227));
    // Normalise the addresses to host parts so the three LANs compare.
    let host = |v: Vec<IpAddr>| -> Vec<u8> {
        v.iter()
            .map(|a| match a {
                IpAddr::V4(a) => a.octets()[3],
                IpAddr::V6(a) => a.octets()[15],
            })
            .collect()
    };
    let [t1, t1_6, t2, t2_6] = bursts(&k243).map(host);
    let [o1, o1_6, o2, o2_6] = bursts(&ours).map(host);
    let [r1, r1_6, ..] = bursts(&k227).map(host);
    // keepalived 2.4.3: the whole set, three times each, interleaved — twice.
    let want: Vec<u8> = vec![100, 101, 100, 101, 100, 101];
    assert_eq!(t1, want, "2.4.3's first IPv4 burst");
    assert_eq!(t2, want, "2.4.3's second IPv4 burst");
    // Ours: the same first and second bursts, for both families.
    assert_eq!(o1, t1, "first IPv4 burst");
    assert_eq!(o1_6, t1_6, "first IPv6 burst");
    assert_eq!(o2, t2, "second IPv4 burst");
    assert_eq!(o2_6, t2_6, "second IPv6 burst");
    // 2.2.7 agrees on the first burst.
    assert_eq!((&o1, &o1_6), (&r1, &r1_6), "first bursts against 2.2.7");
    // The second burst garp_master_delay (2 s) after the first, as 2.4.3's.
    let gap = |v: &[(f64, IpAddr)]| -> Option<f64> {
        let first = v.first()?.0;
        let second = v.iter().find(|(t, _)| *t >= 1.0)?.0;
        Some(second - first)
    };
    let (tg, og) = (gap(&k243), gap(&ours));
    assert!(
        matches!((tg, og), (Some(t), Some(o)) if (t - o).abs() < 0.1 && (o - 2.0).abs() < 0.1),
        "second burst gap: ours {og:?}, 2.4.3 {tg:?}"
    );
    // And at once after the SIGHUP.
    assert!(ours.first().is_some_and(|(t, _)| *t < 0.5), "ours late");
}
