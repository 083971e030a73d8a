//! `timer_expired_backup` (keepalived 2.3+): a `nopreempt` MASTER frozen long enough for
//! the backup to take over comes back and, seeing that its advert timer ran late, stands
//! down instead of reclaiming the VIP. Without the option it reclaims it with its higher
//! priority. Each case runs with keepalived 2.4.3 on both hosts and with keepalived-rs on
//! both hosts, side by side; the outcome must be the same.

use std::net::IpAddr;
use std::thread;
use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan};

const UP: Duration = Duration::from_secs(12);

fn conf(prio: u8, option: &str, net: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state BACKUP\n  nopreempt\n  interface eth0\n  \
         virtual_router_id 71\n  priority {prio}\n  advert_int 1\n{option}  virtual_ipaddress {{\n    \
         {net}.100/24\n  }}\n}}\n"
    )
}

/// Which host holds the VIP 4 s after the frozen MASTER (host 0) thaws: (host 0, host 1).
fn run(imp: Impl, net: &str, option: &str) -> (bool, bool) {
    let lan = Lan::new(2, net);
    let vip: IpAddr = format!("{net}.100").parse().expect("vip");
    let mut a = Daemon::start(&lan.hosts[0], imp, &conf(150, option, net));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "{}: host 0 never MASTER\n{}",
        imp.name(),
        a.log()
    );
    let mut b = Daemon::start(&lan.hosts[1], imp, &conf(100, "", net));
    thread::sleep(Duration::from_secs(3));
    assert!(!lan.hosts[1].has_addr(vip), "{}: VIP on both", imp.name());
    a.freeze(true);
    assert!(
        wait_for(UP, || lan.hosts[1].has_addr(vip)),
        "{}: no takeover from the frozen MASTER",
        imp.name()
    );
    thread::sleep(Duration::from_secs(1));
    a.freeze(false);
    thread::sleep(Duration::from_secs(4));
    let held = (lan.hosts[0].has_addr(vip), lan.hosts[1].has_addr(vip));
    if held.0 == held.1 {
        eprintln!(
            "{}: host 0 log\n{}\nhost 1 log\n{}",
            imp.name(),
            a.log(),
            b.log()
        );
    }
    a.stop(Duration::from_secs(5));
    b.stop(Duration::from_secs(5));
    held
}

#[test]
fn a_late_nopreempt_master_stands_down_as_keepalived_2_4_3_s() {
    let name = "a_late_nopreempt_master_stands_down_as_keepalived_2_4_3_s";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let cases = [("  timer_expired_backup\n", 0u8), ("", 2u8)];
    let mut got = Vec::new();
    thread::scope(|s| {
        let mut hs = Vec::new();
        for (option, tag) in cases {
            for (k, imp) in [Impl::Keepalived243, Impl::Ours].into_iter().enumerate() {
                let net = format!("10.98.{}", tag + k as u8);
                hs.push((option, imp, s.spawn(move || run(imp, &net, option))));
            }
        }
        for (option, imp, h) in hs {
            got.push((option, imp, h.join().expect("run")));
        }
    });
    for (option, imp, held) in &got {
        eprintln!(
            "{:?} {option:?}: VIP on (host 0, host 1) = {held:?}",
            imp.name()
        );
    }
    let pick = |option: &str, imp: Impl| {
        got.iter()
            .find(|(o, i, _)| *o == option && *i == imp)
            .map(|g| g.2)
            .expect("case ran")
    };
    let with = "  timer_expired_backup\n";
    // keepalived 2.4.3: with the option the thawed master stands down, without it it
    // reclaims the VIP.
    assert_eq!(
        pick(with, Impl::Keepalived243),
        (false, true),
        "2.4.3 with the option"
    );
    assert_eq!(
        pick("", Impl::Keepalived243),
        (true, false),
        "2.4.3 without it"
    );
    assert_eq!(
        pick(with, Impl::Ours),
        (false, true),
        "ours with the option"
    );
    assert_eq!(pick("", Impl::Ours), (true, false), "ours without it");
}
