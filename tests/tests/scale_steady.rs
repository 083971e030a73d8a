//! Scale in steady state (issue 16), CI-sized: 4,000 VRRPv2 instances (16 veth links x 250
//! VRIDs, `advert_int 1`) on a MASTER and a BACKUP, both keepalived-rs with the default
//! configuration (SCHED_RR VRRP child), hold for 60 s with no state change on either host,
//! every VIP on the MASTER and none on the BACKUP, and no VRRP child killed or respawned.
//!
//! It runs in the `netns` suite beside other tests (two at a time) on small CI machines:
//! start-up gets generous time, and only the steady window is judged. At this size the
//! BACKUP hears 4,000 adverts a second; a loop that took too long per advert (or that the
//! kernel killed for its real-time use) shows here as backups taking over.

use std::time::{Duration, Instant};

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::forge::raw_vrrp_drops;
use ka_tests::scale::{config, starts_and_transitions, veth_links, vip_count};
use ka_tests::wait_for;
use ka_tests::{require_root, Netns};

const VRIDS: usize = 250;
const INSTANCES: usize = 4000;
const LINKS: usize = INSTANCES / VRIDS;
const STEADY: Duration = Duration::from_secs(60);

/// Against the debug build the rest of ka-tests uses, the BACKUP's sockets overflowed
/// (~500 drops each in 60 s) and 7,928 state changes followed: so it is ignored in a plain
/// `cargo test`, and the netns suite of `cargo xtask test` runs it on its own, after the
/// other tests, with `KA_BIN=target/release/keepalived-rs` (built during the fuzz suite).
/// Passed so at 23:01 UTC 2026-12-05: 0 state changes, 0 drops.
#[test]
#[ignore = "needs a release build: KA_BIN=target/release/keepalived-rs (cargo xtask test runs it so)"]
fn four_thousand_instances_hold_sixty_seconds_without_a_state_change() {
    if !require_root("four_thousand_instances_hold_sixty_seconds_without_a_state_change") {
        return;
    }
    let a = Netns::new("ssm");
    let b = Netns::new("ssb");
    veth_links(&a, &b, LINKS, "10.97");
    let started = Instant::now();
    let master = Daemon::start(&a, Impl::Ours, &config(LINKS, VRIDS, 150, "10.97"));
    let backup = Daemon::start(&b, Impl::Ours, &config(LINKS, VRIDS, 100, "10.97"));
    // Start-up on a loaded CI machine: generous. Converged = every VIP on the MASTER, none
    // on the BACKUP, and every MASTER transition logged.
    let converged = wait_for(Duration::from_secs(180), || {
        vip_count(&a) == INSTANCES
            && vip_count(&b) == 0
            && master.log().matches("Entering MASTER STATE").count() >= INSTANCES
    });
    eprintln!(
        "converged={converged} after {:.1} s: master VIPs {}, backup VIPs {}",
        started.elapsed().as_secs_f64(),
        vip_count(&a),
        vip_count(&b)
    );
    assert!(converged, "{INSTANCES} instances not converged in 180 s");
    let pids = (master.vrrp_pid(), backup.vrrp_pid());
    let (_, m0) = starts_and_transitions(&master.log());
    let (_, b0) = starts_and_transitions(&backup.log());
    let mut worst = (INSTANCES, 0usize);
    let until = Instant::now() + STEADY;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_secs(5));
        worst = (worst.0.min(vip_count(&a)), worst.1.max(vip_count(&b)));
    }
    let (mk, m1) = starts_and_transitions(&master.log());
    let (bk, b1) = starts_and_transitions(&backup.log());
    let drops: Vec<_> = raw_vrrp_drops(&a)
        .into_iter()
        .chain(raw_vrrp_drops(&b))
        .filter(|d| d.1 > 0)
        .collect();
    eprintln!(
        "steady {} s: state changes master {} backup {}; child restarts master {mk} backup \
         {bk}; fewest master VIPs {}, most backup VIPs {}; raw sockets with drops {drops:?}",
        STEADY.as_secs(),
        m1 - m0,
        b1 - b0,
        worst.0,
        worst.1
    );
    assert_eq!((mk, bk), (0, 0), "VRRP children killed and respawned");
    assert_eq!(
        (master.vrrp_pid(), backup.vrrp_pid()),
        pids,
        "a VRRP child changed"
    );
    assert_eq!((m1 - m0, b1 - b0), (0, 0), "state changes in steady state");
    assert_eq!(worst, (INSTANCES, 0), "VIPs moved during the steady window");
    assert_eq!((vip_count(&a), vip_count(&b)), (INSTANCES, 0));
}
