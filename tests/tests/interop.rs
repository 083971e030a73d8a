//! keepalived-rs and keepalived 2.2.7 on the same LAN: elections, preemption and failover
//! agree whichever side is master, with VRRPv2 + PASS auth, VRRPv3 over IPv4 and IPv6;
//! and neither side logs a packet error about the other.

use std::net::IpAddr;
use std::time::Duration;

use ka_tests::daemon::{require_keepalived, Daemon, Impl};
use ka_tests::wait_for;
use ka_tests::{require_root, Lan};

const UP: Duration = Duration::from_secs(12);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// VRRPv2 with `auth_type PASS`.
    V2Pass,
    /// VRRPv3 over IPv4.
    V3v4,
    /// VRRPv3 over IPv6.
    V3v6,
}

fn conf(kind: Kind, state: &str, prio: u8, vip: &str) -> String {
    let (version, auth) = match kind {
        Kind::V2Pass => (
            "  version 2\n",
            "  authentication {\n    auth_type PASS\n    auth_pass s3cret\n  }\n",
        ),
        Kind::V3v4 | Kind::V3v6 => ("  version 3\n", ""),
    };
    format!(
        "global_defs {{\n  router_id interop\n}}\n\
         vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 42\n  \
         priority {prio}\n  advert_int 1\n{version}{auth}  virtual_ipaddress {{\n    {vip}\n  }}\n}}\n"
    )
}

/// Lines that say a peer's packet was refused (keepalived's wording and ours). Not
/// "received lower priority ... - discarding": that is a preempting backup's normal note.
const PACKET_ERRORS: &[&str] = &[
    "bad advertisement",
    "invalid",
    "mismatch",
    "checksum",
    "wrong",
    "ttl error",
    "auth",
    "passwd",
    "password",
    "Unknown VRRP",
];

fn packet_errors(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            let low = l.to_ascii_lowercase();
            PACKET_ERRORS
                .iter()
                .any(|p| low.contains(&p.to_ascii_lowercase()))
        })
        // keepalived's own startup notes about scripts and config are not packet errors.
        .filter(|l| !l.contains("keepalived_script") && !l.contains("Configuration"))
        .map(str::to_string)
        .collect()
}

fn mastered(log: &str) -> usize {
    log.matches("Entering MASTER STATE").count()
}

fn run(master: Impl, backup: Impl, kind: Kind, net: &str) {
    let lan = Lan::new(2, net);
    let (vip_s, vip_conf) = match kind {
        Kind::V3v6 => {
            let v = format!(
                "fd00:{}::100",
                net.replace('.', ":").trim_start_matches("10:")
            );
            (v.clone(), format!("{v}/64"))
        }
        _ => (format!("{net}.100"), format!("{net}.100/24")),
    };
    let vip: IpAddr = vip_s.parse().expect("vip");
    // The master first, so that startup jitter cannot decide the first election.
    let mut a = Daemon::start(&lan.hosts[0], master, &conf(kind, "MASTER", 150, &vip_conf));
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    let mut b = Daemon::start(&lan.hosts[1], backup, &conf(kind, "BACKUP", 100, &vip_conf));
    // Several adverts go by: the backup stays backup.
    std::thread::sleep(Duration::from_secs(4));
    assert!(!lan.hosts[1].has_addr(vip), "VIP on the backup too");
    assert_eq!(mastered(&b.log()), 0, "backup went MASTER:\n{}", b.log());

    // Frozen master: the backup takes over after Master_Down_Interval.
    a.freeze(true);
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "no takeover from a frozen master"
    );
    // The master thaws: it hears a lower priority and the backup hears a higher one;
    // with preemption the higher priority wins and exactly one holds the VIP.
    a.freeze(false);
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "no single master after the thaw"
    );

    // Graceful stop: priority 0 and the backup takes over within about Skew_Time.
    assert!(a.stop(Duration::from_secs(5)));
    assert!(
        wait_for(Duration::from_secs(4), || lan.hosts[1].has_addr(vip)),
        "no takeover on stop"
    );
    // The master comes back and preempts.
    let _a2 = Daemon::start(&lan.hosts[0], master, &conf(kind, "MASTER", 150, &vip_conf));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "restarted master did not preempt"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(b.stop(Duration::from_secs(5)));
    for (who, log) in [
        ("master", a.log()),
        ("backup", b.log()),
        ("restarted master", _a2.log()),
    ] {
        let errs = packet_errors(&log);
        assert!(
            errs.is_empty(),
            "{who} logged packet errors: {errs:#?}\n{log}"
        );
    }
}

fn ready(test: &str) -> bool {
    require_root(test) && require_keepalived(test)
}

#[test]
fn interop_v2_pass_ours_master() {
    if !ready("interop_v2_pass_ours_master") {
        return;
    }
    run(Impl::Ours, Impl::Keepalived, Kind::V2Pass, "10.92.1");
}

#[test]
fn interop_v2_pass_keepalived_master() {
    if !ready("interop_v2_pass_keepalived_master") {
        return;
    }
    run(Impl::Keepalived, Impl::Ours, Kind::V2Pass, "10.92.2");
}

#[test]
fn interop_v3_ipv4_ours_master() {
    if !ready("interop_v3_ipv4_ours_master") {
        return;
    }
    run(Impl::Ours, Impl::Keepalived, Kind::V3v4, "10.92.3");
}

#[test]
fn interop_v3_ipv4_keepalived_master() {
    if !ready("interop_v3_ipv4_keepalived_master") {
        return;
    }
    run(Impl::Keepalived, Impl::Ours, Kind::V3v4, "10.92.4");
}

#[test]
fn interop_v3_ipv6_ours_master() {
    if !ready("interop_v3_ipv6_ours_master") {
        return;
    }
    run(Impl::Ours, Impl::Keepalived, Kind::V3v6, "10.92.5");
}

#[test]
fn interop_v3_ipv6_keepalived_master() {
    if !ready("interop_v3_ipv6_keepalived_master") {
        return;
    }
    run(Impl::Keepalived, Impl::Ours, Kind::V3v6, "10.92.6");
}
