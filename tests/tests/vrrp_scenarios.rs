//! The seeds' VRRP scenarios on a real network (hosts in network namespaces on a bridge),
//! run with any mix of keepalived 2.2.7 and keepalived-rs. keepalived-on-both-sides runs
//! validate the harness against the reference; the mixed runs are the interop proof.

use std::net::IpAddr;
use std::time::Duration;

use ka_tests::daemon::{require_keepalived, Daemon, Impl};
use ka_tests::probe::Prober;
use ka_tests::wait_for;
use ka_tests::{require_root, Guard, Lan, Netns};

/// The seeds' single-instance config (tutorial 000/003/004 shape), one VIP.
fn single(state: &str, prio: u8, vip: &str, extra: &str) -> String {
    format!(
        "global_defs {{\n  router_id LVS_DEVEL\n}}\n\
         vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 51\n  \
         priority {prio}\n  advert_int 1\n{extra}  authentication {{\n    auth_type PASS\n    \
         auth_pass 1111\n  }}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

/// Probe intervals (offset, length) that are real: until every probe thread has taken its
/// first sample, hosts not yet sampled count as "no VIP"; drop that start-up window.
fn after_settle(
    t: &ka_tests::probe::Timeline,
    v: Vec<(Duration, Duration)>,
) -> Vec<(Duration, Duration)> {
    let settled = t
        .hosts
        .iter()
        .filter_map(|h| h.first().map(|x| x.0 - t.start))
        .max()
        .unwrap_or_default();
    v.into_iter()
        .filter(|(off, len)| *off + *len > settled)
        .collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test literal")
}

const UP: Duration = Duration::from_secs(10);

/// VIP on the master; stop the master and it moves; start it again and it comes back.
fn preempt_and_return(master: Impl, backup: Impl, net: &str) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip = ip(&vip_s);
    let mut a = Daemon::start(&lan.hosts[0], master, &single("MASTER", 150, &vip_s, ""));
    let _b = Daemon::start(&lan.hosts[1], backup, &single("BACKUP", 100, &vip_s, ""));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "VIP never reached the master"
    );
    assert!(!lan.hosts[1].has_addr(vip), "VIP on the backup too");
    assert!(a.stop(Duration::from_secs(5)), "master did not stop in 5 s");
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "VIP did not move to the backup"
    );
    assert!(!lan.hosts[0].has_addr(vip), "stopped master kept the VIP");
    let _a2 = Daemon::start(&lan.hosts[0], master, &single("MASTER", 150, &vip_s, ""));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "VIP did not come back to the restarted master (preempt)"
    );
}

/// With `nopreempt` on the higher-priority node (state BACKUP, as keepalived requires),
/// a restarted node does not take the VIP back.
fn nopreempt_stays(first: Impl, second: Impl, net: &str) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip = ip(&vip_s);
    let conf_hi = single("BACKUP", 150, &vip_s, "  nopreempt\n");
    let mut a = Daemon::start(&lan.hosts[0], first, &conf_hi);
    let _b = Daemon::start(
        &lan.hosts[1],
        second,
        &single("BACKUP", 100, &vip_s, "  nopreempt\n"),
    );
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "VIP never reached the higher priority node"
    );
    assert!(a.stop(Duration::from_secs(5)));
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "VIP did not move"
    );
    let _a2 = Daemon::start(&lan.hosts[0], first, &conf_hi);
    // Give the restarted node more than a master-down interval to (wrongly) preempt.
    std::thread::sleep(Duration::from_secs(6));
    assert!(lan.hosts[1].has_addr(vip), "nopreempt: VIP left the backup");
    assert!(!lan.hosts[0].has_addr(vip), "nopreempt: VIP taken back");
}

#[test]
fn keepalived_pair_preempt_and_return() {
    if !require_root("keepalived_pair_preempt_and_return")
        || !require_keepalived("keepalived_pair_preempt_and_return")
    {
        return;
    }
    preempt_and_return(Impl::Keepalived, Impl::Keepalived, "10.91.1");
}

#[test]
fn keepalived_pair_nopreempt_stays() {
    if !require_root("keepalived_pair_nopreempt_stays")
        || !require_keepalived("keepalived_pair_nopreempt_stays")
    {
        return;
    }
    nopreempt_stays(Impl::Keepalived, Impl::Keepalived, "10.91.2");
}

// ---- keepalived-rs on both sides ------------------------------------------------------

#[test]
fn ours_pair_preempt_and_return() {
    if !require_root("ours_pair_preempt_and_return") {
        return;
    }
    preempt_and_return(Impl::Ours, Impl::Ours, "10.91.11");
}

#[test]
fn ours_pair_nopreempt_stays() {
    if !require_root("ours_pair_nopreempt_stays") {
        return;
    }
    nopreempt_stays(Impl::Ours, Impl::Ours, "10.91.12");
}

/// One `vrrp_instance` block with the usual seed shape; `body` adds lines.
fn instance(name: &str, vrid: u8, state: &str, prio: u8, vips: &[&str], body: &str) -> String {
    let vips: String = vips.iter().map(|v| format!("    {v}\n")).collect();
    format!(
        "vrrp_instance {name} {{\n  state {state}\n  interface eth0\n  virtual_router_id {vrid}\n  \
         priority {prio}\n  advert_int 1\n{body}  virtual_ipaddress {{\n{vips}  }}\n}}\n"
    )
}

/// The seeds' dual-master pair: two instances with crossed priorities, each node master of
/// one VIP; when a node is lost the other holds both; when it returns each gets its own back.
fn dual_master(imp: Impl, net: &str) {
    let lan = Lan::new(2, net);
    let v1s = format!("{net}.100");
    let v2s = format!("{net}.101");
    let (v1, v2) = (ip(&v1s), ip(&v2s));
    let conf = |p1: u8, p2: u8| {
        let s1 = if p1 > p2 { "MASTER" } else { "BACKUP" };
        let s2 = if p2 > p1 { "MASTER" } else { "BACKUP" };
        instance("VI_1", 51, s1, p1, &[&format!("{v1s}/24")], "")
            + &instance("VI_2", 52, s2, p2, &[&format!("{v2s}/24")], "")
    };
    let _a = Daemon::start(&lan.hosts[0], imp, &conf(150, 100));
    let mut b = Daemon::start(&lan.hosts[1], imp, &conf(100, 150));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(v1)
            && lan.hosts[1].has_addr(v2)),
        "each node should be master of one VIP"
    );
    assert!(!lan.hosts[0].has_addr(v2) && !lan.hosts[1].has_addr(v1));
    // Node loss (frozen, not a graceful stop: it sends nothing more).
    b.freeze(true);
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(v2)),
        "survivor did not take the lost node's VIP"
    );
    assert!(lan.hosts[0].has_addr(v1));
    // The node comes back: it preempts its own VIP again; one holder per VIP.
    b.freeze(false);
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(v2)
            && !lan.hosts[0].has_addr(v2)),
        "VI_2 did not return to its preferred node"
    );
    assert!(lan.hosts[0].has_addr(v1) && !lan.hosts[1].has_addr(v1));
    assert!(b.stop(Duration::from_secs(5)));
}

#[test]
fn ours_dual_master_and_node_loss() {
    if !require_root("ours_dual_master_and_node_loss") {
        return;
    }
    dual_master(Impl::Ours, "10.91.13");
}

#[test]
fn keepalived_dual_master_and_node_loss() {
    if !require_root("keepalived_dual_master_and_node_loss")
        || !require_keepalived("keepalived_dual_master_and_node_loss")
    {
        return;
    }
    dual_master(Impl::Keepalived, "10.91.3");
}

/// A "service" process on a host: `sleep` in its namespace, killed on drop.
fn service(ns: &Netns) -> Guard {
    let child = ns
        .command("sleep")
        .arg("600")
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start sleep: {e}"));
    Guard(child)
}

/// `track_script` with a negative weight: the master's checked service dies, its priority
/// drops below the backup's, and the VIP moves.
fn track_script_moves_vip(imp: Impl, net: &str) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip = ip(&vip_s);
    let mut svc = service(&lan.hosts[0]);
    // `ip netns exec` forks the real process; find it by the namespace's pids.
    let pid = svc.0.id();
    let script = |pid: u32| {
        format!(
            "vrrp_script chk_svc {{\n  script \"/bin/sh -c 'kill -0 {pid}'\"\n  interval 1\n  \
             fall 1\n  rise 1\n  weight -60\n}}\n"
        )
    };
    let track = "  track_script {\n    chk_svc\n  }\n";
    let conf_a =
        script(pid) + &instance("VI_1", 51, "MASTER", 150, &[&format!("{vip_s}/24")], track);
    let conf_b = instance("VI_1", 51, "BACKUP", 100, &[&format!("{vip_s}/24")], "");
    let _a = Daemon::start(&lan.hosts[0], imp, &conf_a);
    let _b = Daemon::start(&lan.hosts[1], imp, &conf_b);
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    // Stays master while the service lives (a few script runs).
    std::thread::sleep(Duration::from_secs(3));
    assert!(lan.hosts[0].has_addr(vip) && !lan.hosts[1].has_addr(vip));
    let _ = svc.0.kill();
    let _ = svc.0.wait();
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)
            && !lan.hosts[0].has_addr(vip)),
        "VIP did not move when the checked service died"
    );
}

#[test]
fn ours_track_script_negative_weight() {
    if !require_root("ours_track_script_negative_weight") {
        return;
    }
    track_script_moves_vip(Impl::Ours, "10.91.14");
}

fn mac_of(ns: &Netns, dev: &str) -> String {
    let out = ns.ip(["-o", "link", "show", dev]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

fn neigh_mac(ns: &Netns, addr: &str) -> Option<String> {
    let out = ns.ip(["neigh", "show", addr]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace()
        .skip_while(|w| *w != "lladdr")
        .nth(1)
        .map(str::to_string)
}

/// Send one UDP datagram from `ns` to `addr` (makes the host resolve its MAC).
fn poke(ns: &Netns, addr: IpAddr) {
    ns.run(move || {
        if let Ok(s) = std::net::UdpSocket::bind("0.0.0.0:0") {
            let _ = s.send_to(b"x", (addr, 9));
        }
    });
}

/// The master is cut off the LAN: the backup takes over (two masters, each on its side);
/// when the link heals, one master remains and it announces itself with gratuitous ARP
/// (an observer's neighbour entry for the VIP points at it again).
fn partition_and_heal(imp: Impl, net: &str) {
    let lan = Lan::new(3, net);
    let vip_s = format!("{net}.100");
    let vip = ip(&vip_s);
    let _a = Daemon::start(
        &lan.hosts[0],
        imp,
        &single(
            "MASTER",
            150,
            &vip_s,
            "  garp_master_delay 1\n  garp_lower_prio_delay 1\n",
        ),
    );
    let _b = Daemon::start(&lan.hosts[1], imp, &single("BACKUP", 100, &vip_s, ""));
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    let mac_a = mac_of(&lan.hosts[0], "eth0");
    let mac_b = mac_of(&lan.hosts[1], "eth0");
    lan.set_link(0, false);
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "backup did not take over from the cut-off master"
    );
    // The observer learns the VIP at the backup.
    assert!(
        wait_for(UP, || {
            poke(&lan.hosts[2], vip);
            neigh_mac(&lan.hosts[2], &vip_s).as_deref() == Some(mac_b.as_str())
        }),
        "observer never resolved the VIP to the backup"
    );
    std::thread::sleep(Duration::from_millis(1500));
    lan.set_link(0, true);
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "not one master after the heal"
    );
    assert!(
        wait_for(UP, || neigh_mac(&lan.hosts[2], &vip_s).as_deref()
            == Some(mac_a.as_str())),
        "no gratuitous ARP from the master after the heal (observer still has {:?})",
        neigh_mac(&lan.hosts[2], &vip_s)
    );
}

#[test]
fn ours_partition_and_heal() {
    if !require_root("ours_partition_and_heal") {
        return;
    }
    partition_and_heal(Impl::Ours, "10.91.15");
}

#[test]
fn keepalived_partition_and_heal() {
    if !require_root("keepalived_partition_and_heal")
        || !require_keepalived("keepalived_partition_and_heal")
    {
        return;
    }
    partition_and_heal(Impl::Keepalived, "10.91.5");
}

/// Unicast peers: adverts go to the peer only; election and failover as with multicast.
fn unicast_pair(imp: Impl, net: &str) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip = ip(&vip_s);
    let uni = |me: usize, peer: usize| {
        format!(
            "  unicast_src_ip {}\n  unicast_peer {{\n    {}\n  }}\n",
            lan.addr(me),
            lan.addr(peer)
        )
    };
    let mut a = Daemon::start(
        &lan.hosts[0],
        imp,
        &single("MASTER", 150, &vip_s, &uni(0, 1)),
    );
    let _b = Daemon::start(
        &lan.hosts[1],
        imp,
        &single("BACKUP", 100, &vip_s, &uni(1, 0)),
    );
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !lan.hosts[1].has_addr(vip),
        "unicast backup took the VIP too"
    );
    assert!(a.stop(Duration::from_secs(5)));
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "no unicast failover"
    );
}

#[test]
fn ours_unicast_peers() {
    if !require_root("ours_unicast_peers") {
        return;
    }
    unicast_pair(Impl::Ours, "10.91.16");
}

/// `use_vmac`: the master's VIP sits on a macvlan `vrrp.51` with MAC 00:00:5e:00:01:33;
/// the VIP (and that interface's role) moves on failover.
fn vmac_pair(imp: Impl, net: &str) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip = ip(&vip_s);
    let mut a = Daemon::start(
        &lan.hosts[0],
        imp,
        &single("MASTER", 150, &vip_s, "  use_vmac\n"),
    );
    let _b = Daemon::start(
        &lan.hosts[1],
        imp,
        &single("BACKUP", 100, &vip_s, "  use_vmac\n"),
    );
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    assert_eq!(mac_of(&lan.hosts[0], "vrrp.51"), "00:00:5e:00:01:33");
    let out = lan.hosts[0].ip(["-o", "addr", "show", "dev", "vrrp.51"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&vip_s),
        "VIP not on the VMAC interface"
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(!lan.hosts[1].has_addr(vip));
    assert!(a.stop(Duration::from_secs(5)));
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "no VMAC failover"
    );
}

#[test]
fn ours_vmac() {
    if !require_root("ours_vmac") {
        return;
    }
    vmac_pair(Impl::Ours, "10.91.17");
}

/// IPv6 instances (VRRPv3): election, failover, no VIP on both.
fn ipv6_pair(imp: Impl, net: &str, v6net: &str) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{v6net}::100");
    let vip = ip(&vip_s);
    let conf = |state: &str, prio: u8| {
        instance(
            "VI_6",
            61,
            state,
            prio,
            &[&format!("{vip_s}/64")],
            "  version 3\n",
        )
    };
    let mut a = Daemon::start(&lan.hosts[0], imp, &conf("MASTER", 150));
    let _b = Daemon::start(&lan.hosts[1], imp, &conf("BACKUP", 100));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "no IPv6 master"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(!lan.hosts[1].has_addr(vip), "IPv6 VIP on both");
    assert!(a.stop(Duration::from_secs(5)));
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "no IPv6 failover"
    );
}

#[test]
fn ours_ipv6_v3() {
    if !require_root("ours_ipv6_v3") {
        return;
    }
    ipv6_pair(Impl::Ours, "10.91.18", "fd00:91:18");
}

/// A graceful stop never leaves the VIP on two hosts, and the gap is about Skew_Time.
#[test]
fn ours_graceful_stop_has_no_overlap() {
    if !require_root("ours_graceful_stop_has_no_overlap") {
        return;
    }
    let lan = Lan::new(2, "10.91.19");
    let vip = ip("10.91.19.100");
    let mut a = Daemon::start(
        &lan.hosts[0],
        Impl::Ours,
        &single("MASTER", 150, "10.91.19.100", ""),
    );
    let _b = Daemon::start(
        &lan.hosts[1],
        Impl::Ours,
        &single("BACKUP", 100, "10.91.19.100", ""),
    );
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    let probe = Prober::start(
        &[&lan.hosts[0], &lan.hosts[1]],
        vip,
        Duration::from_millis(1),
    );
    assert!(a.stop(Duration::from_secs(5)));
    assert!(wait_for(UP, || lan.hosts[1].has_addr(vip)));
    let t = probe.finish();
    let dup = after_settle(&t, t.duplicated());
    assert!(dup.is_empty(), "VIP on both: {dup:?}");
    let gaps = after_settle(&t, t.absent());
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    // Skew_Time for priority 100 is 0.61 s; allow a loaded machine a wide margin.
    assert!(gaps[0].1 < Duration::from_secs(3), "gap {:?}", gaps[0].1);
}

/// Notify scripts get keepalived's arguments; the instance's own link going down is a
/// FAULT (VIP released, `notify` says FAULT), and coming back up it takes over again.
#[test]
fn ours_notify_and_link_fault() {
    if !require_root("ours_notify_and_link_fault") {
        return;
    }
    let lan = Lan::new(2, "10.91.20");
    let vip = ip("10.91.20.100");
    let dir = std::env::temp_dir().join(ka_tests::unique("notify"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let all = dir.join("all");
    let master = dir.join("master");
    let body = format!(
        "  notify \"/bin/sh -c 'echo $0 $@ >> {}'\"\n  notify_master \"/bin/sh -c 'touch {}'\"\n",
        all.display(),
        master.display()
    );
    let _a = Daemon::start(
        &lan.hosts[0],
        Impl::Ours,
        &instance("VI_1", 51, "MASTER", 150, &["10.91.20.100/24"], &body),
    );
    let read = || std::fs::read_to_string(&all).unwrap_or_default();
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    assert!(
        wait_for(UP, || read().contains("INSTANCE VI_1 MASTER 150")
            && master.exists()),
        "notify scripts: {:?}",
        read()
    );
    lan.hosts[0].ip(["link", "set", "eth0", "down"]);
    assert!(
        wait_for(UP, || read().contains("INSTANCE VI_1 FAULT 150")),
        "no FAULT notification: {:?}",
        read()
    );
    assert!(!lan.hosts[0].has_addr(vip), "FAULT instance kept its VIP");
    lan.hosts[0].ip(["link", "set", "eth0", "up"]);
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "no takeover after the link came back"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGHUP with a new instance added: the running master keeps its VIP with no flap (probed
/// every millisecond) and the new instance comes up.
#[test]
fn ours_reload_keeps_running_instance() {
    if !require_root("ours_reload_keeps_running_instance") {
        return;
    }
    let lan = Lan::new(1, "10.91.21");
    let vip = ip("10.91.21.100");
    let vip2 = ip("10.91.21.101");
    let one = instance("VI_1", 51, "MASTER", 150, &["10.91.21.100/24"], "");
    let a = Daemon::start(&lan.hosts[0], Impl::Ours, &one);
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    let probe = Prober::start(&[&lan.hosts[0]], vip, Duration::from_millis(1));
    let two = one + &instance("VI_2", 52, "MASTER", 150, &["10.91.21.101/24"], "");
    std::fs::write(a.dir.join("keepalived.conf"), two).expect("rewrite config");
    a.signal(libc::SIGHUP);
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip2)),
        "the added instance did not come up"
    );
    let t = probe.finish();
    let gaps = after_settle(&t, t.absent());
    assert!(gaps.is_empty(), "VIP flapped on reload: {gaps:?}");
}

/// `track_file`: the master's tracked file goes from 0 to 1 (weight -60): its priority
/// drops below the backup's and the VIP moves; back to 0 and it returns.
#[test]
fn ours_track_file_weight() {
    if !require_root("ours_track_file_weight") {
        return;
    }
    let lan = Lan::new(2, "10.91.22");
    let vip = ip("10.91.22.100");
    let dir = std::env::temp_dir().join(ka_tests::unique("tfile"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("prio");
    std::fs::write(&file, "0\n").expect("write");
    let conf_a = format!(
        "track_file tf {{\n  file \"{}\"\n  weight -60\n}}\n",
        file.display()
    ) + &instance(
        "VI_1",
        51,
        "MASTER",
        150,
        &["10.91.22.100/24"],
        "  track_file {\n    tf\n  }\n",
    );
    let _a = Daemon::start(&lan.hosts[0], Impl::Ours, &conf_a);
    let _b = Daemon::start(
        &lan.hosts[1],
        Impl::Ours,
        &instance("VI_1", 51, "BACKUP", 100, &["10.91.22.100/24"], ""),
    );
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    std::fs::write(&file, "1\n").expect("write");
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)
            && !lan.hosts[0].has_addr(vip)),
        "VIP did not move when the tracked file said 1"
    );
    std::fs::write(&file, "0\n").expect("write");
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "VIP did not come back when the tracked file said 0"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
