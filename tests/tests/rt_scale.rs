//! Real-time scheduling at scale (issue 16): with the default configuration (no
//! `vrrp_priority`, so the VRRP child runs SCHED_RR under RLIMIT_RTTIME), 1,000 instances
//! (4 veth links x 250 VRIDs) on a MASTER and a BACKUP in namespaces start, converge and
//! hold with no child killed and no state change in steady state.

use std::time::{Duration, Instant};

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::forge::raw_vrrp_drops;
use ka_tests::scale::{config, starts_and_transitions, veth_links, vip_count};
use ka_tests::wait_for;
use ka_tests::{require_root, Netns};

const LINKS: usize = 4;
const VRIDS: usize = 250;

#[test]
fn thousand_instances_default_scheduling_no_kill_no_flap() {
    if !require_root("thousand_instances_default_scheduling_no_kill_no_flap") {
        return;
    }
    let a = Netns::new("rtm");
    let b = Netns::new("rtb");
    veth_links(&a, &b, LINKS, "10.98");
    let total = LINKS * VRIDS;
    let started = Instant::now();
    let master = Daemon::start(&a, Impl::Ours, &config(LINKS, VRIDS, 150, "10.98"));
    let backup = Daemon::start(&b, Impl::Ours, &config(LINKS, VRIDS, 100, "10.98"));
    let converged = wait_for(Duration::from_secs(40), || {
        vip_count(&a) == total && vip_count(&b) == 0
    });
    let took = started.elapsed();
    let (mk, _) = starts_and_transitions(&master.log());
    let (bk, _) = starts_and_transitions(&backup.log());
    eprintln!(
        "converged={converged} after {:.1} s: master VIPs {}, backup VIPs {}, child kills {mk} + {bk}",
        took.as_secs_f64(),
        vip_count(&a),
        vip_count(&b)
    );
    assert!(converged, "not converged in 40 s");
    // The log may lag the addresses: wait for every instance's MASTER line.
    let logged = wait_for(Duration::from_secs(20), || {
        master.log().matches("Entering MASTER STATE").count() >= total
    });
    assert!(logged, "not every MASTER transition logged");
    // Steady state: 20 s.
    let (_, m0) = starts_and_transitions(&master.log());
    let (_, b0) = starts_and_transitions(&backup.log());
    std::thread::sleep(Duration::from_secs(20));
    let (mk, m1) = starts_and_transitions(&master.log());
    let (bk, b1) = starts_and_transitions(&backup.log());
    eprintln!(
        "steady 20 s: state changes master {} backup {}; child kills master {mk} backup {bk}",
        m1 - m0,
        b1 - b0
    );
    assert_eq!((mk, bk), (0, 0), "VRRP children killed and respawned");
    assert_eq!((m1 - m0, b1 - b0), (0, 0), "state changes in steady state");
    assert_eq!((vip_count(&a), vip_count(&b)), (total, 0));
    // Every raw socket drained: no receive queue overflowed on either side.
    let drops: Vec<_> = raw_vrrp_drops(&a)
        .into_iter()
        .chain(raw_vrrp_drops(&b))
        .collect();
    eprintln!("raw VRRP sockets (inode, drops): {drops:?}");
    assert!(drops.iter().all(|d| d.1 == 0), "receive queue overflows");
}
