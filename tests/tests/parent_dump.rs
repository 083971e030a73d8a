//! `keepalived_parent.data` (SIGUSR1 to the parent): keepalived 2.4.3 writes its "Global
//! definitions" section there, the same lines as its checker's dump. keepalived-rs writes
//! the same section first (its own parent sections follow), compared line by line with
//! 2.4.3's on a configuration with many `global_defs` keywords set.

use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan};

const CONF: &str = "global_defs {\n  router_id parent_dump\n  smtp_alert true\n  \
                    checker_log_all_failures\n  lvs_flush\n  vrrp_notify_priority_changes\n  \
                    vrrp_garp_master_delay 7\n  vrrp_version 3\n  vrrp_strict\n  \
                    umask 0022\n}\nvrrp_instance VI_1 {\n  interface eth0\n  \
                    virtual_router_id 53\n  priority 100\n  advert_int 1\n  \
                    virtual_ipaddress {\n    NET.100/24\n  }\n}\n";

/// 2.4.3's line about the nftables library it links (keepalived-rs links none).
const THEIRS_ONLY: &str = " libnftnl version";

/// The "Global definitions" section of `imp`'s keepalived_parent.data.
fn parent_globals(imp: Impl, net: &str) -> Vec<String> {
    let lan = Lan::new(1, net);
    lan.wait_carrier();
    let h = &lan.hosts[0];
    let mut d = Daemon::start(h, imp, &CONF.replace("NET", net));
    let vip = format!("{net}.100").parse().expect("vip");
    assert!(
        wait_for(Duration::from_secs(15), || h.has_addr(vip)),
        "{}: never MASTER\n{}",
        imp.name(),
        d.log()
    );
    d.signal(libc::SIGUSR1);
    let file = d.dir.join("keepalived_parent.data");
    assert!(
        wait_for(Duration::from_secs(5), || file.exists()),
        "{}: no {}\n{}",
        imp.name(),
        file.display(),
        d.log()
    );
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(&file).expect("read the parent dump");
    d.stop(Duration::from_secs(5));
    text.lines()
        .skip_while(|l| *l != "------< Global definitions >------")
        .skip(1)
        .take_while(|l| !l.starts_with("------<"))
        .filter(|l| !l.starts_with(THEIRS_ONLY))
        .map(str::to_string)
        .collect()
}

#[test]
fn parent_data_holds_keepalived_2_4_3_s_global_definitions() {
    let name = "parent_data_holds_keepalived_2_4_3_s_global_definitions";
    if !require_root(name) || keepalived_243(name).is_none() {
        return;
    }
    let (ours, theirs) = std::thread::scope(|s| {
        let ours = s.spawn(|| parent_globals(Impl::Ours, "10.53.1"));
        let theirs = s.spawn(|| parent_globals(Impl::Keepalived243, "10.53.2"));
        (ours.join().expect("ours"), theirs.join().expect("theirs"))
    });
    assert!(theirs.len() > 40, "2.4.3's section: {theirs:?}");
    assert_eq!(ours, theirs);
}
