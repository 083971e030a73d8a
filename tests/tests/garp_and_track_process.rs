//! GARP pacing (`garp_interval`, bursts, `garp_master_refresh`) and `track_process`
//! weights on a real network, each run against keepalived 2.2.7 and keepalived-rs side by
//! side (the reference's behaviour is the expectation).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use ka_tests::capture::{Capture, ETH_P_ARP};
use ka_tests::daemon::{require_keepalived, Daemon, Impl};
use ka_tests::wait_for;
use ka_tests::{require_root, Lan};

const UP: Duration = Duration::from_secs(12);

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test literal")
}

/// A lone MASTER with `vips`, `global` lines in global_defs and `inst` lines in the
/// instance.
fn lone_master(global: &str, inst: &str, vips: &[String]) -> String {
    let vips: String = vips.iter().map(|v| format!("    {v}/24\n")).collect();
    format!(
        "global_defs {{\n{global}\n}}\nvrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  \
         virtual_router_id 61\n  priority 150\n  advert_int 1\n{inst}\n  virtual_ipaddress {{\n{vips}  }}\n}}\n"
    )
}

/// Gratuitous ARPs seen on host 2 while host 1 runs `imp` with `config` and becomes
/// MASTER: (seconds since the first, VIP), for `window` after the first VIP shows up.
fn garps(imp: Impl, net: &str, config: &str, window: Duration) -> Vec<(f64, Ipv4Addr)> {
    let lan = Lan::new(2, net);
    let vip = ip(&format!("{net}.100"));
    master_garps(
        &lan.hosts[0],
        imp,
        config,
        vip,
        (&lan.hosts[1], "eth0"),
        window,
    )
}

/// Start `imp` with `config` on `master` and, once it holds `vip`, record for `window` the
/// gratuitous ARPs `watch` (a host and its interface) sees: (seconds since the first, sender).
fn master_garps(
    master: &ka_tests::Netns,
    imp: Impl,
    config: &str,
    vip: IpAddr,
    watch: (&ka_tests::Netns, &str),
    window: Duration,
) -> Vec<(f64, Ipv4Addr)> {
    let cap = Capture::start(watch.0, watch.1, ETH_P_ARP);
    let mut d = Daemon::start(master, imp, config);
    assert!(
        wait_for(UP, || master.has_addr(vip)),
        "{}: never MASTER\n{}",
        imp.name(),
        d.log()
    );
    std::thread::sleep(window);
    let frames = cap.finish();
    d.stop(Duration::from_secs(5));
    let gratuitous: Vec<_> = frames
        .iter()
        .filter_map(|f| {
            let (_, spa, tpa) = f.arp()?;
            (spa == tpa).then_some((f.at, spa))
        })
        .collect();
    let Some(t0) = gratuitous.first().map(|g| g.0) else {
        return Vec::new();
    };
    gratuitous
        .into_iter()
        .map(|(t, a)| ((t - t0).as_secs_f64(), a))
        .collect()
}

fn show(v: &[(f64, Ipv4Addr)]) -> String {
    v.iter()
        .map(|(t, a)| format!("{t:.3} {a}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Run both daemons on the same config (on two LANs at once) and compare the GARPs:
/// the same addresses in the same order, and the same times within `slack`.
fn compare_garps(tag: u8, global: &str, inst: &str, nvips: u8, window: Duration) {
    let nets = [format!("10.94.{tag}"), format!("10.94.{}", tag + 1)];
    let mut runs = Vec::new();
    std::thread::scope(|s| {
        let hs: Vec<_> = [Impl::Keepalived, Impl::Ours]
            .into_iter()
            .zip(&nets)
            .map(|(imp, net)| {
                let vips: Vec<String> = (0..nvips).map(|i| format!("{net}.{}", 100 + i)).collect();
                let config = lone_master(global, inst, &vips);
                s.spawn(move || garps(imp, net, &config, window))
            })
            .collect();
        for h in hs {
            runs.push(h.join().expect("capture thread"));
        }
    });
    let (theirs, ours) = (&runs[0], &runs[1]);
    eprintln!("keepalived:    {}", show(theirs));
    eprintln!("keepalived-rs: {}", show(ours));
    // Same count and the same host part of each address, in order.
    let last =
        |v: &[(f64, Ipv4Addr)]| -> Vec<u8> { v.iter().map(|(_, a)| a.octets()[3]).collect() };
    assert!(!theirs.is_empty(), "keepalived sent no GARP");
    assert_eq!(last(ours), last(theirs), "GARP sequence differs");
    let slack = 0.06;
    for ((to, _), (tt, _)) in ours.iter().zip(theirs) {
        assert!(
            (to - tt).abs() <= slack,
            "GARP at {to:.3} s, keepalived's at {tt:.3} s"
        );
    }
}

/// `vrrp_garp_interval 0.1` with `garp_master_repeat 5` and a second burst after 1 s: with
/// an interval, keepalived sends each address at most once more (the first twice), one
/// interval apart — and so must we.
#[test]
fn garp_interval_paces_like_keepalived() {
    if !require_root("garp_interval_paces_like_keepalived")
        || !require_keepalived("garp_interval_paces_like_keepalived")
    {
        return;
    }
    compare_garps(
        10,
        "  vrrp_garp_interval 0.1",
        "  garp_master_repeat 5\n  garp_master_delay 1",
        2,
        Duration::from_millis(2000),
    );
}

/// No interval: every copy at once, address after address, in both bursts.
#[test]
fn garp_bursts_without_interval_like_keepalived() {
    if !require_root("garp_bursts_without_interval_like_keepalived")
        || !require_keepalived("garp_bursts_without_interval_like_keepalived")
    {
        return;
    }
    compare_garps(
        12,
        "",
        "  garp_master_repeat 3\n  garp_master_delay 1",
        2,
        Duration::from_millis(1700),
    );
}

/// A `garp_group` interval on eth0 overrides the global one; refresh bursts are paced too.
#[test]
fn garp_group_and_refresh_like_keepalived() {
    if !require_root("garp_group_and_refresh_like_keepalived")
        || !require_keepalived("garp_group_and_refresh_like_keepalived")
    {
        return;
    }
    compare_garps(
        14,
        "  vrrp_garp_interval 0.3\n}\ngarp_group {\n  garp_interval 0.1\n  interface eth0",
        "  garp_master_repeat 1\n  garp_master_delay 0\n  garp_master_refresh 1\n  garp_master_refresh_repeat 3",
        3,
        Duration::from_millis(2600),
    );
}

/// A copy of `sleep` under a name unique to this test run (<= 15 bytes, the kernel's
/// process name length), running until dropped.
struct Tracked {
    name: String,
    path: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl Tracked {
    fn new(tag: &str) -> Tracked {
        let name = format!("kt{}{tag}", std::process::id() % 100_000);
        let dir = std::env::temp_dir().join(ka_tests::unique("tp"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join(&name);
        std::fs::copy("/bin/sleep", &path).expect("copy sleep");
        Tracked { name, path, dir }
    }

    fn start(&self) -> ka_tests::Guard {
        ka_tests::Guard(
            std::process::Command::new(&self.path)
                .arg("1000")
                .spawn()
                .expect("start the tracked process"),
        )
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// GARPs seen on host 2's `eth1` (a second link beside the LAN) while host 1 runs `imp`
/// as a lone MASTER with `inst`, its VIP `{net}.100` on eth0 and `10.97.X.100` with
/// `dev eth1`: (seconds since the first GARP on eth1, sender address), for `window`.
fn extra_if_garps(imp: Impl, net: &str, inst: &str, window: Duration) -> Vec<(f64, Ipv4Addr)> {
    let lan = Lan::new(2, net);
    let (h0, h1) = (&lan.hosts[0], &lan.hosts[1]);
    ka_tests::sh(
        "ip",
        [
            "link",
            "add",
            "eth1",
            "netns",
            h0.name(),
            "type",
            "veth",
            "peer",
            "name",
            "eth1",
            "netns",
            h1.name(),
        ],
    );
    for h in [h0, h1] {
        h.ip(["link", "set", "eth1", "up"]);
    }
    let extra = format!("10.97.{}.100", net.rsplit('.').next().unwrap_or("0"));
    let vip = ip(&format!("{net}.100"));
    let config = format!(
        "global_defs {{\n  vrrp_garp_master_delay 0\n}}\nvrrp_instance VI_1 {{\n  state MASTER\n  \
         interface eth0\n  virtual_router_id 62\n  priority 150\n  advert_int 1\n{inst}\n  \
         virtual_ipaddress {{\n    {net}.100/24\n    {extra}/24 dev eth1\n  }}\n}}\n"
    );
    master_garps(h0, imp, &config, vip, (h1, "eth1"), window)
}

/// `garp_extra_if all 2`: besides the burst on becoming MASTER, one GARP every 2 s for the
/// address on the other interface — and without `all`, none (keepalived sends them only on
/// VMAC interfaces then). Compared with keepalived 2.2.7 on the same config.
#[test]
fn garp_extra_if_like_keepalived() {
    if !require_root("garp_extra_if_like_keepalived")
        || !require_keepalived("garp_extra_if_like_keepalived")
    {
        return;
    }
    let window = Duration::from_millis(7_500);
    let cases = [("  garp_extra_if all 2", 0u8), ("  garp_extra_if 2", 2u8)];
    let mut got = Vec::new();
    std::thread::scope(|s| {
        let mut hs = Vec::new();
        for (inst, tag) in cases {
            for (k, imp) in [Impl::Keepalived, Impl::Ours].into_iter().enumerate() {
                let net = format!("10.96.{}", tag + k as u8);
                hs.push((
                    inst,
                    imp,
                    s.spawn(move || extra_if_garps(imp, &net, inst, window)),
                ));
            }
        }
        for (inst, imp, h) in hs {
            got.push((inst, imp, h.join().expect("capture thread")));
        }
    });
    // After the first second (the burst on becoming MASTER), the periodic ones.
    let periodic = |v: &[(f64, Ipv4Addr)]| v.iter().filter(|(t, _)| *t > 1.0).count();
    for (inst, _) in cases {
        let mut pair = got.iter().filter(|(i, _, _)| *i == inst);
        let (Some((_, _, theirs)), Some((_, _, ours))) = (pair.next(), pair.next()) else {
            panic!("{inst}: missing a run");
        };
        eprintln!("{inst}: keepalived {} / ours {}", show(theirs), show(ours));
        assert!(
            !theirs.is_empty(),
            "{inst}: keepalived sent no GARP on eth1"
        );
        assert!(!ours.is_empty(), "{inst}: we sent no GARP on eth1");
        let (p_theirs, p_ours) = (periodic(theirs), periodic(ours));
        assert!(
            p_ours.abs_diff(p_theirs) <= 1,
            "{inst}: {p_ours} periodic GARPs on eth1, keepalived {p_theirs}"
        );
        if inst.contains("all") {
            assert!(p_theirs >= 2, "keepalived's periodic GARPs: {p_theirs}");
        } else {
            assert_eq!(p_ours, 0, "{inst}: periodic GARPs without `all`");
        }
    }
}

fn tracking(prio: u8, vip: &str, proc_block: &str, weight: Option<i32>) -> String {
    let w = weight.map(|w| format!(" weight {w}")).unwrap_or_default();
    format!(
        "vrrp_track_process TP {{\n{proc_block}\n}}\nvrrp_instance VI_1 {{\n  state BACKUP\n  \
         interface eth0\n  virtual_router_id 64\n  priority {prio}\n  advert_int 1\n  \
         track_process {{\n    TP{w}\n  }}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

/// `track_process` with a negative weight: the tracked program runs => this host is
/// MASTER; it is killed => priority 150 - 100 < 100 and the VIP moves to the peer; it
/// runs again => the VIP comes back.
#[test]
fn track_process_weight_moves_the_vip_and_back() {
    if !require_root("track_process_weight_moves_the_vip_and_back") {
        return;
    }
    let lan = Lan::new(2, "10.94.20");
    let vip = ip("10.94.20.100");
    let tracked = Tracked::new("w");
    let block = format!("  process {}", tracked.name);
    let running = tracked.start();
    let a = Daemon::start(
        &lan.hosts[0],
        Impl::Ours,
        &tracking(150, "10.94.20.100", &block, Some(-100)),
    );
    let _b = Daemon::start(
        &lan.hosts[1],
        Impl::Ours,
        "vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 64\n  \
         priority 100\n  advert_int 1\n  virtual_ipaddress {\n    10.94.20.100/24\n  }\n}\n",
    );
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "the tracking host never became MASTER\n{}",
        a.log()
    );
    drop(running);
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)
            && !lan.hosts[0].has_addr(vip)),
        "the VIP did not move when the process died\n{}",
        a.log()
    );
    let _running = tracked.start();
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "the VIP did not come back with the process\n{}",
        a.log()
    );
    assert!(a.log().contains("Quorum lost for tracked process TP"));
}

/// Weight 0 (the default): no quorum means FAULT. Side by side, keepalived 2.2.7 in a
/// network namespace: its process connector subscription is refused there (ECONNREFUSED,
/// the connector lives in the initial namespace only), so it never sees the process and
/// stays in FAULT — a known limitation of the reference that we do not copy (we fall back
/// to scanning /proc, or take the events from the initial namespace when we can).
#[test]
fn track_process_weight_zero_faults_and_recovers() {
    if !require_root("track_process_weight_zero_faults_and_recovers")
        || !require_keepalived("track_process_weight_zero_faults_and_recovers")
    {
        return;
    }
    let ours_lan = Lan::new(1, "10.94.21");
    let theirs_lan = Lan::new(1, "10.94.22");
    let (vo, vt) = (ip("10.94.21.100"), ip("10.94.22.100"));
    let tracked = Tracked::new("z");
    let block = format!(
        "  process {}\n  quorum 1\n  terminate_delay 0.5",
        tracked.name
    );
    let running = tracked.start();
    let a = Daemon::start(
        &ours_lan.hosts[0],
        Impl::Ours,
        &tracking(150, "10.94.21.100", &block, None),
    );
    let k = Daemon::start(
        &theirs_lan.hosts[0],
        Impl::Keepalived,
        &tracking(150, "10.94.22.100", &block, None),
    );
    assert!(
        wait_for(UP, || ours_lan.hosts[0].has_addr(vo)),
        "never MASTER with the process running\n{}",
        a.log()
    );
    assert!(
        !theirs_lan.hosts[0].has_addr(vt),
        "keepalived saw the process"
    );
    let k_log = k.log();
    assert!(
        k_log.contains("process event listen") || k_log.contains("quorum not achieved"),
        "keepalived 2.2.7 in a netns was expected to fail its connector subscription:\n{k_log}"
    );
    drop(running);
    let t = std::time::Instant::now();
    assert!(
        wait_for(Duration::from_secs(5), || !ours_lan.hosts[0].has_addr(vo)),
        "the VIP stayed after the process died\n{}",
        a.log()
    );
    // terminate_delay 0.5 s (plus up to 1 s of /proc polling in a namespace).
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "terminate_delay not honoured"
    );
    assert!(a.log().contains("Entering FAULT STATE"), "{}", a.log());
    let _running = tracked.start();
    assert!(
        wait_for(UP, || ours_lan.hosts[0].has_addr(vo)),
        "no MASTER again after the process came back\n{}",
        a.log()
    );
}
