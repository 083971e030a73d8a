//! `vrrp_startup_delay` (keepalived 2.2.7 and 2.4.3) and `vrrp_delay_after_boot` (2.4.0):
//! the instances start that much later, so a lone node takes the VIP after the delay plus
//! Master_Down_Interval — timed beside keepalived on the same config.

use std::net::IpAddr;
use std::thread;
use std::time::{Duration, Instant};

use ka_tests::daemon::{keepalived_243, require_keepalived, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan};

fn conf(global: &str, net: &str) -> String {
    format!(
        "global_defs {{\n{global}\n}}\nvrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  \
         virtual_router_id 81\n  priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    \
         {net}.100/24\n  }}\n}}\n"
    )
}

/// Seconds from the daemon's start to its VIP, alone on a LAN.
fn time_to_master(imp: Impl, net: &str, global: &str) -> f64 {
    let lan = Lan::new(1, net);
    let vip: IpAddr = format!("{net}.100").parse().expect("vip");
    let t0 = Instant::now();
    // keepalived 2.2.7 gets a BFD pid file of its own: two of them run at once here.
    let bfd = std::env::temp_dir().join(format!("{}.bfd.pid", ka_tests::unique("bfd")));
    let bfd = bfd.to_string_lossy().to_string();
    let extra: &[&str] = if imp == Impl::Keepalived {
        &["-b", &bfd]
    } else {
        &[]
    };
    let mut d = Daemon::start_with(&lan.hosts[0], imp, &conf(global, net), extra);
    assert!(
        wait_for(Duration::from_secs(20), || lan.hosts[0].has_addr(vip)),
        "{}: never MASTER\n{}",
        imp.name(),
        d.log()
    );
    let t = t0.elapsed().as_secs_f64();
    if imp == Impl::Ours && !global.is_empty() {
        let log = d.log();
        assert!(
            log.contains("Delaying startup for"),
            "no delay logged:\n{log}"
        );
        assert!(
            log.contains("Delayed start completed"),
            "no end logged:\n{log}"
        );
    }
    d.stop(Duration::from_secs(5));
    t
}

#[test]
fn instances_start_after_the_startup_delay_as_keepalived_s() {
    let name = "instances_start_after_the_startup_delay_as_keepalived_s";
    if !require_root(name) || !require_keepalived(name) {
        return;
    }
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .expect("/proc/uptime");
    let after_boot = format!("  vrrp_delay_after_boot {}", uptime as u64 + 3);
    let mut runs: Vec<(Impl, &str, String)> = vec![
        (Impl::Keepalived, "none", String::new()),
        (Impl::Ours, "none", String::new()),
        (Impl::Keepalived, "startup", "  vrrp_startup_delay 3".into()),
        (Impl::Ours, "startup", "  vrrp_startup_delay 3".into()),
        (Impl::Ours, "after_boot", after_boot),
    ];
    if keepalived_243(name).is_some() {
        runs.push((
            Impl::Keepalived243,
            "startup",
            "  vrrp_startup_delay 3".into(),
        ));
    }
    let mut got = Vec::new();
    thread::scope(|s| {
        let hs: Vec<_> = runs
            .iter()
            .enumerate()
            .map(|(k, (imp, case, global))| {
                let net = format!("10.99.{k}");
                let (imp, case) = (*imp, *case);
                (
                    imp,
                    case,
                    s.spawn(move || time_to_master(imp, &net, global)),
                )
            })
            .collect();
        for (imp, case, h) in hs {
            got.push((imp, case, h.join().expect("run")));
        }
    });
    for (imp, case, t) in &got {
        eprintln!("{} {case}: MASTER after {t:.2} s", imp.name());
    }
    let t = |imp: Impl, case: &str| {
        got.iter()
            .find(|g| g.0 == imp && g.1 == case)
            .map(|g| g.2)
            .expect("ran")
    };
    // Master_Down_Interval at priority 100 is 3.6 s; the delay adds 3 s.
    for imp in [Impl::Keepalived, Impl::Ours] {
        let extra = t(imp, "startup") - t(imp, "none");
        assert!(
            (2.5..4.0).contains(&extra),
            "{}: the delay added {extra:.2} s",
            imp.name()
        );
    }
    assert!(
        (t(Impl::Ours, "startup") - t(Impl::Keepalived, "startup")).abs() < 1.0,
        "ours {:.2} s, keepalived 2.2.7 {:.2} s",
        t(Impl::Ours, "startup"),
        t(Impl::Keepalived, "startup")
    );
    if got.iter().any(|g| g.0 == Impl::Keepalived243) {
        assert!(
            (t(Impl::Ours, "startup") - t(Impl::Keepalived243, "startup")).abs() < 1.0,
            "ours {:.2} s, keepalived 2.4.3 {:.2} s",
            t(Impl::Ours, "startup"),
            t(Impl::Keepalived243, "startup")
        );
    }
    let boot = t(Impl::Ours, "after_boot") - t(Impl::Ours, "none");
    assert!(
        (1.5..4.0).contains(&boot),
        "vrrp_delay_after_boot (3 s after now) added {boot:.2} s"
    );
}
