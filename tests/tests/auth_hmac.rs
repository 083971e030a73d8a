//! `auth_hmac` (keepalived 2.4.x's HMAC-SHA256 advert trailer) against keepalived 2.4.3:
//! mixed pairs in both roles, VRRPv2 and v3, IPv4 and IPv6, multicast and unicast, elect
//! one master with matching keys; a wrong key is rejected by both (both MASTER, the
//! counters and logs say why); a replayed and a forged advert are dropped by both.

use std::net::IpAddr;
use std::thread;
use std::time::Duration;

use ka_tests::capture::Capture;
use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::forge::{self, Forger};
use ka_tests::{require_root, wait_for, Lan};

const UP: Duration = Duration::from_secs(15);
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OTHER_KEY: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn skip(test: &str) -> bool {
    !require_root(test) || keepalived_243(test).is_none()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    V2,
    V3,
    V3Ipv6,
    V3Unicast,
}

fn vip(kind: Kind, net: &str) -> IpAddr {
    match kind {
        Kind::V3Ipv6 => "fd00::100".parse().expect("vip"),
        _ => format!("{net}.100").parse().expect("vip"),
    }
}

/// The configuration of host `me` (0-based) of the pair.
fn conf(kind: Kind, net: &str, me: usize, prio: u8, key: &str) -> String {
    let version = if kind == Kind::V2 { 2 } else { 3 };
    let unicast = if kind == Kind::V3Unicast {
        format!(
            "  unicast_src_ip {net}.{}\n  unicast_peer {{\n    {net}.{}\n  }}\n",
            me + 1,
            2 - me
        )
    } else {
        String::new()
    };
    let vip = match kind {
        Kind::V3Ipv6 => "fd00::100/64".to_string(),
        _ => format!("{net}.100/24"),
    };
    format!(
        "global_defs {{\n  router_id hm{me}\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {prio}\n  advert_int 1\n  version {version}\n{unicast}  auth_hmac {{\n    \
         key 1 hex:{key}\n    active_key 1\n  }}\n  virtual_ipaddress {{\n    {vip}\n  }}\n}}\n"
    )
}

/// Our instance's counters (`ctl status --json`).
fn counters(d: &Daemon) -> serde_json::Value {
    let s = d.ctl_status().unwrap_or_default();
    s["vrrp"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["iname"] == "VI_1"))
        .map(|i| i["stats"].clone())
        .unwrap_or_default()
}

fn counter(d: &Daemon, name: &str) -> u64 {
    counters(d)[name].as_u64().unwrap_or(0)
}

const AUTH_EXT: [&str; 6] = [
    "auth_ext_missing",
    "auth_ext_malformed",
    "auth_ext_unknown_key",
    "auth_ext_invalid_hmac",
    "auth_ext_stale",
    "auth_ext_replay",
];

/// `master` (priority 150, host 0) and `backup` (100, host 1) with the same key: the
/// master holds the VIP, the backup does not, for 3 s; ours counts no auth_hmac drop and
/// (as backup) receives adverts.
fn pair(kind: Kind, master: Impl, backup: Impl, net: &str) -> Result<(), String> {
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let v = vip(kind, net);
    let mut a = Daemon::start(&lan.hosts[0], master, &conf(kind, net, 0, 150, KEY));
    if !wait_for(UP, || lan.hosts[0].has_addr(v)) {
        return Err(format!("{kind:?}: {master:?} not MASTER:\n{}", a.log()));
    }
    let mut b = Daemon::start(&lan.hosts[1], backup, &conf(kind, net, 1, 100, KEY));
    thread::sleep(Duration::from_secs(5));
    let mut res = Ok(());
    if lan.hosts[1].has_addr(v) || !lan.hosts[0].has_addr(v) {
        res = Err(format!(
            "{kind:?} {master:?}/{backup:?}: not one master:\n{}\n{}",
            a.log(),
            b.log()
        ));
    }
    let ours = if master == Impl::Ours { &a } else { &b };
    let c = counters(ours);
    if AUTH_EXT.iter().any(|n| c[*n].as_u64() != Some(0)) {
        res = Err(format!("{kind:?}: ours dropped adverts: {c}"));
    }
    if backup == Impl::Ours && c["advert_rcvd"].as_u64().unwrap_or(0) < 3 {
        res = Err(format!("{kind:?}: ours received no advert: {c}"));
    }
    let theirs = if master == Impl::Ours { &b } else { &a };
    let tlog = theirs.log();
    if tlog.contains("authentication HMAC") || tlog.contains("authentication trailer") {
        res = Err(format!("{kind:?}: keepalived 2.4.3 complains:\n{tlog}"));
    }
    a.stop(Duration::from_secs(5));
    b.stop(Duration::from_secs(5));
    res
}

#[test]
fn mixed_pairs_with_keepalived_2_4_3_elect_one_master() {
    if skip("mixed_pairs_with_keepalived_2_4_3_elect_one_master") {
        return;
    }
    let mut runs = Vec::new();
    for (k, kind) in [Kind::V2, Kind::V3, Kind::V3Ipv6, Kind::V3Unicast]
        .into_iter()
        .enumerate()
    {
        for (r, (m, b)) in [
            (Impl::Ours, Impl::Keepalived243),
            (Impl::Keepalived243, Impl::Ours),
        ]
        .into_iter()
        .enumerate()
        {
            let net = format!("10.83.{}", k * 2 + r);
            runs.push(thread::spawn(move || pair(kind, m, b, &net)));
            // Stagger the starts a little (2 cores, shared).
            thread::sleep(Duration::from_millis(300));
        }
    }
    let errs: Vec<String> = runs
        .into_iter()
        .filter_map(|t| t.join().expect("pair thread").err())
        .collect();
    assert!(errs.is_empty(), "{}", errs.join("\n\n"));
}

#[test]
fn a_wrong_key_is_rejected_by_both_sides() {
    if skip("a_wrong_key_is_rejected_by_both_sides") {
        return;
    }
    let net = "10.83.20";
    let kind = Kind::V3;
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let v = vip(kind, net);
    let mut a = Daemon::start(&lan.hosts[0], Impl::Ours, &conf(kind, net, 0, 150, KEY));
    let mut b = Daemon::start(
        &lan.hosts[1],
        Impl::Keepalived243,
        &conf(kind, net, 1, 100, OTHER_KEY),
    );
    let both = wait_for(UP, || lan.hosts[0].has_addr(v) && lan.hosts[1].has_addr(v));
    thread::sleep(Duration::from_secs(4));
    let both_still = lan.hosts[0].has_addr(v) && lan.hosts[1].has_addr(v);
    let all = counters(&a);
    let invalid = counter(&a, "auth_ext_invalid_hmac");
    let rcvd = counter(&a, "advert_rcvd");
    let theirs = b.log();
    a.stop(Duration::from_secs(5));
    b.stop(Duration::from_secs(5));
    assert!(
        both && both_still,
        "not both MASTER:\n{}\n{theirs}",
        a.log()
    );
    // keepalived 2.4.3, MASTER beside a higher priority peer it cannot verify, sends its
    // first advert and then (observed) no more while it keeps the VIP: one is enough.
    assert!(
        invalid >= 1,
        "ours counted {invalid} invalid HMACs: {all}\n{theirs}"
    );
    assert_eq!(rcvd, 0, "ours accepted an advert signed with another key");
    assert!(
        theirs.contains("invalid authentication HMAC from"),
        "keepalived 2.4.3 did not reject ours:\n{theirs}"
    );
}

/// The first VRRP frame from `src_mac` among `frames` (Ethernet, IPv4).
fn vrrp_frame(frames: &[ka_tests::capture::Frame], src: IpAddr) -> Option<Vec<u8>> {
    let IpAddr::V4(src) = src else { return None };
    frames
        .iter()
        .map(|f| &f.bytes)
        .find(|b| {
            b.len() > 34
                && b[12..14] == [0x08, 0x00]
                && b[14 + 9] == forge::PROTO_VRRP
                && b[26..30] == src.octets()
        })
        .cloned()
}

/// `frame` with the VRRP priority set to `prio` and the VRRP checksum made right again
/// (over the message without the trailer, as a v3/IPv4 sender computes it): the tag is
/// left as it was, so only the HMAC can tell.
fn forge_priority(frame: &[u8], prio: u8) -> Vec<u8> {
    let mut f = frame.to_vec();
    let total = usize::from(u16::from_be_bytes([f[16], f[17]]));
    let msg_len = total - 20 - 28;
    f[34 + 2] = prio;
    f[34 + 6] = 0;
    f[34 + 7] = 0;
    let src = IpAddr::from([f[26], f[27], f[28], f[29]]);
    let dst = IpAddr::from([f[30], f[31], f[32], f[33]]);
    let sum = forge::checksum(&f[34..34 + msg_len], Some((src, dst)));
    f[34 + 6..34 + 8].copy_from_slice(&sum.to_be_bytes());
    f
}

/// `sender` MASTER (host 0), `receiver` BACKUP (host 1), host 2 captures an advert and
/// sends it again (a replay), then a copy with priority 0 (a forgery that, accepted,
/// would hand MASTER to the backup at once). Returns the receiver's daemon and whether it
/// stayed BACKUP (the LAN is returned: the daemons' namespaces live as long as it).
fn replay_and_forge(sender: Impl, receiver: Impl, net: &str) -> (Lan, Daemon, Daemon, bool) {
    let kind = Kind::V3;
    let lan = Lan::new(3, net);
    lan.wait_carrier();
    let v = vip(kind, net);
    let a = Daemon::start(&lan.hosts[0], sender, &conf(kind, net, 0, 150, KEY));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(v)),
        "{sender:?} not MASTER:\n{}",
        a.log()
    );
    let b = Daemon::start(&lan.hosts[1], receiver, &conf(kind, net, 1, 100, KEY));
    thread::sleep(Duration::from_secs(3));
    let cap = Capture::start(&lan.hosts[2], "eth0", 0x0003);
    thread::sleep(Duration::from_millis(2500));
    let frames = cap.finish();
    let src: IpAddr = format!("{net}.1").parse().expect("ip");
    let frame = vrrp_frame(&frames, src).expect("an advert from the master");
    let forger = Forger::open(&lan.hosts[2], "eth0");
    // Replays (within the freshness window) and forgeries, a few of each.
    for _ in 0..3 {
        assert!(forger.send(&frame));
        assert!(forger.send(&forge_priority(&frame, 0)));
        thread::sleep(Duration::from_millis(200));
    }
    thread::sleep(Duration::from_secs(2));
    let stayed = !lan.hosts[1].has_addr(v) && lan.hosts[0].has_addr(v);
    (lan, a, b, stayed)
}

#[test]
fn replayed_and_forged_adverts_are_dropped_by_ours() {
    if skip("replayed_and_forged_adverts_are_dropped_by_ours") {
        return;
    }
    let (_lan, mut a, mut b, stayed) =
        replay_and_forge(Impl::Keepalived243, Impl::Ours, "10.83.21");
    let all = counters(&b);
    let replay = counter(&b, "auth_ext_replay");
    let invalid = counter(&b, "auth_ext_invalid_hmac");
    let log = b.log();
    a.stop(Duration::from_secs(5));
    b.stop(Duration::from_secs(5));
    assert!(stayed, "ours left BACKUP:\n{log}");
    assert!(replay >= 3, "ours counted {replay} replays: {all}\n{log}");
    assert!(invalid >= 3, "ours counted {invalid} invalid HMACs");
}

#[test]
fn replayed_and_forged_adverts_are_dropped_by_keepalived_2_4_3() {
    if skip("replayed_and_forged_adverts_are_dropped_by_keepalived_2_4_3") {
        return;
    }
    let (_lan, mut a, mut b, stayed) =
        replay_and_forge(Impl::Ours, Impl::Keepalived243, "10.83.22");
    let log = b.log();
    a.stop(Duration::from_secs(5));
    b.stop(Duration::from_secs(5));
    assert!(stayed, "keepalived 2.4.3 left BACKUP:\n{log}");
    assert!(
        log.contains("replayed authentication trailer from"),
        "no replay seen by 2.4.3:\n{log}"
    );
    assert!(
        log.contains("invalid authentication HMAC from"),
        "no forgery seen by 2.4.3:\n{log}"
    );
}

/// The `auth_hmac` block of one step of a migration or rotation ("" = none).
fn block(step: &str) -> String {
    let k1 = format!("    key 1 hex:{KEY}\n");
    let k2 = format!("    key 2 hex:{OTHER_KEY}\n");
    let (keys, active, mode) = match step {
        "none" => return String::new(),
        "receive-only" | "permissive" | "enforce" => (k1, 1, step),
        "add-key-2" => (k1 + &k2, 1, "enforce"),
        "active-2" => (k1 + &k2, 2, "enforce"),
        "drop-key-1" => (k2, 2, "enforce"),
        _ => panic!("no step {step}"),
    };
    format!("  auth_hmac {{\n{keys}    active_key {active}\n    mode {mode}\n  }}\n")
}

fn step_conf(net: &str, me: usize, prio: u8, step: &str) -> String {
    format!(
        "global_defs {{\n  router_id hm{me}\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {prio}\n  advert_int 1\n  version 3\n{}  virtual_ipaddress {{\n    {net}.100/24\n  }}\n}}\n",
        block(step)
    )
}

/// `master` (host 0) and `backup` (host 1) go through the three migration sweeps (none →
/// receive-only → permissive → enforce) and a key rotation (add key 2, make it active,
/// drop key 1), each step a reload of one node then the other: nobody else ever becomes
/// MASTER, and ours counts no auth_hmac drop.
fn sweeps(master: Impl, backup: Impl, net: &str) -> Result<(), String> {
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let v: IpAddr = format!("{net}.100").parse().expect("vip");
    let a = Daemon::start(&lan.hosts[0], master, &step_conf(net, 0, 150, "none"));
    if !wait_for(UP, || lan.hosts[0].has_addr(v)) {
        return Err(format!("{master:?} not MASTER:\n{}", a.log()));
    }
    let b = Daemon::start(&lan.hosts[1], backup, &step_conf(net, 1, 100, "none"));
    thread::sleep(Duration::from_secs(4));
    let mut res = Ok(());
    for step in [
        "receive-only",
        "permissive",
        "enforce",
        "add-key-2",
        "active-2",
        "drop-key-1",
    ] {
        for (d, me, prio) in [(&b, 1, 100), (&a, 0, 150)] {
            std::fs::write(
                d.dir.join("keepalived.conf"),
                step_conf(net, me, prio, step),
            )
            .expect("rewrite config");
            d.signal(libc::SIGHUP);
            thread::sleep(Duration::from_millis(1500));
        }
        thread::sleep(Duration::from_secs(2));
        if lan.hosts[1].has_addr(v) || !lan.hosts[0].has_addr(v) {
            res = Err(format!("{master:?}/{backup:?}: election at step {step}"));
            break;
        }
    }
    // The master signs with key 2 now: a 12-byte v3 message, then the trailer of key id 2.
    let cap = Capture::start(&lan.hosts[1], "eth0", 0x0003);
    thread::sleep(Duration::from_millis(1500));
    let src: IpAddr = format!("{net}.1").parse().expect("ip");
    let f = vrrp_frame(&cap.finish(), src);
    let signed_with_2 = f.as_ref().is_some_and(|f| {
        f.len() >= 34 + 12 + 28
            && u16::from_be_bytes([f[16], f[17]]) == 20 + 12 + 28
            && f[34 + 12] == 1
            && f[34 + 13] == 2
    });
    if !signed_with_2 && res.is_ok() {
        res = Err(format!(
            "{master:?}: the last advert is not signed with key 2: {f:02x?}"
        ));
    }
    let ours = if master == Impl::Ours { &a } else { &b };
    let c = counters(ours);
    if AUTH_EXT.iter().any(|n| c[*n].as_u64() != Some(0)) && res.is_ok() {
        res = Err(format!("{master:?}/{backup:?}: ours dropped adverts: {c}"));
    }
    let moved = if master == Impl::Ours {
        c["release_master"].as_u64() != Some(0)
    } else {
        c["become_master"].as_u64() != Some(0)
    };
    let theirs = if master == Impl::Ours {
        b.log()
    } else {
        a.log()
    };
    let their_masters = theirs.matches("Entering MASTER STATE").count();
    let want = usize::from(master != Impl::Ours);
    if res.is_ok() && (moved || their_masters != want) {
        res = Err(format!(
            "{master:?}/{backup:?}: a transition: ours {c}, 2.4.3 entered MASTER {their_masters} times"
        ));
    }
    if let Err(e) = &mut res {
        e.push_str(&format!("\n{}\n{}", a.log(), b.log()));
    }
    let (mut a, mut b) = (a, b);
    a.stop(Duration::from_secs(5));
    b.stop(Duration::from_secs(5));
    res
}

#[test]
fn migration_sweeps_and_key_rotation_cause_no_election() {
    if skip("migration_sweeps_and_key_rotation_cause_no_election") {
        return;
    }
    let t1 = thread::spawn(|| sweeps(Impl::Ours, Impl::Keepalived243, "10.83.30"));
    thread::sleep(Duration::from_millis(300));
    let t2 = thread::spawn(|| sweeps(Impl::Keepalived243, Impl::Ours, "10.83.31"));
    let errs: Vec<String> = [t1, t2]
        .into_iter()
        .filter_map(|t| t.join().expect("sweep thread").err())
        .collect();
    assert!(errs.is_empty(), "{}", errs.join("\n\n"));
}
