//! Restart without outage (issue 5, point 6): the master's VRRP child is SIGKILLed again
//! and again while a backup listens; the parent respawns it, the new child resumes MASTER
//! with the addresses kept and adverts at once. Probed every millisecond, the VIP is never
//! absent and never on both hosts. keepalived 2.2.7 does lose the VIP here (its new child
//! removes the VIPs and waits a master-down interval): measured in the same file as the
//! reference figure.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ka_tests::daemon::{require_keepalived, Daemon, Impl};
use ka_tests::probe::Prober;
use ka_tests::wait_for;
use ka_tests::{require_root, Lan};

const UP: Duration = Duration::from_secs(12);

fn conf(state: &str, prio: u8, vip: &str, advert: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 77\n  \
         priority {prio}\n  advert_int {advert}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

fn kill(pid: i32) {
    // SAFETY: kill(2) on a pid of a process this test started; no memory involved.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// (offset, length) intervals from a probe timeline.
type Intervals = Vec<(Duration, Duration)>;

/// Kill the master's VRRP child `rounds` times; returns the probe timeline's absent and
/// duplicated intervals and whether the backup ever went MASTER.
fn kill_loop(imp: Impl, net: &str, rounds: usize, pause: Duration) -> (Intervals, Intervals, bool) {
    let lan = Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().expect("vip");
    let a = Daemon::start(&lan.hosts[0], imp, &conf("MASTER", 150, &vip_s, "1"));
    assert!(wait_for(UP, || lan.hosts[0].has_addr(vip)), "no master");
    let b = Daemon::start(&lan.hosts[1], imp, &conf("BACKUP", 100, &vip_s, "1"));
    // Let the backup settle into BACKUP and hear a few adverts.
    std::thread::sleep(Duration::from_secs(2));
    assert!(!lan.hosts[1].has_addr(vip));
    let probe = Prober::start(
        &[&lan.hosts[0], &lan.hosts[1]],
        vip,
        Duration::from_millis(1),
    );
    for round in 0..rounds {
        let Some(pid) = a.vrrp_pid().filter(|p| alive(*p)) else {
            panic!("round {round}: no live VRRP child\n{}", a.log());
        };
        kill(pid);
        // Wait for the parent to start a new child (new pid in the pid file).
        let t0 = Instant::now();
        assert!(
            wait_for(Duration::from_secs(10), || a
                .vrrp_pid()
                .is_some_and(|p| p != pid && alive(p))),
            "round {round}: the VRRP child was not respawned\n{}",
            a.log()
        );
        let respawn = t0.elapsed();
        if respawn > Duration::from_secs(2) {
            eprintln!("round {round}: respawn took {respawn:?}");
        }
        std::thread::sleep(pause);
    }
    // Wait for things to settle on the keepalived side (it may still be recovering).
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "the VIP did not end on the master alone"
    );
    std::thread::sleep(Duration::from_millis(200));
    let t = probe.finish();
    let backup_went_master = b.log().contains("Entering MASTER STATE");
    drop(b);
    drop(a);
    // Until every probe thread has taken its first sample, the hosts not yet sampled
    // count as "no VIP": drop what lies entirely in that start-up window.
    let settled = t
        .hosts
        .iter()
        .filter_map(|h| h.first().map(|x| x.0 - t.start))
        .max()
        .unwrap_or_default();
    let real = |v: Intervals| -> Intervals {
        v.into_iter()
            .filter(|(off, len)| *off + *len > settled)
            .collect()
    };
    (real(t.absent()), real(t.duplicated()), backup_went_master)
}

#[test]
fn ours_vrrp_child_sigkilled_20_times_no_outage() {
    if !require_root("ours_vrrp_child_sigkilled_20_times_no_outage") {
        return;
    }
    let (absent, dup, backup_master) =
        kill_loop(Impl::Ours, "10.94.1", 20, Duration::from_millis(400));
    assert!(absent.is_empty(), "VIP absent: {absent:?}");
    assert!(dup.is_empty(), "VIP on both hosts: {dup:?}");
    assert!(!backup_master, "the backup took over during the restarts");
}

#[test]
fn keepalived_vrrp_child_sigkill_reference() {
    if !require_root("keepalived_vrrp_child_sigkill_reference")
        || !require_keepalived("keepalived_vrrp_child_sigkill_reference")
    {
        return;
    }
    // One kill is enough to see it; keepalived's respawn back-off makes a fast loop slow.
    let (absent, dup, _) = kill_loop(Impl::Keepalived, "10.94.2", 1, Duration::from_secs(5));
    let total: Duration = absent.iter().map(|a| a.1).sum();
    eprintln!(
        "REFERENCE keepalived 2.2.7, VRRP child SIGKILL at advert_int 1: VIP absent {total:?} \
         ({} gap(s)), duplicated {:?}",
        absent.len(),
        dup
    );
    // Recorded, not hidden: keepalived's new child removes the VIPs and waits a
    // master-down interval (lab: ~2.7 s). Assert only that the measurement saw it.
    assert!(
        !absent.is_empty(),
        "keepalived kept the VIP through a VRRP child SIGKILL: the reference changed"
    );
}

// ---- failover benchmark (`cargo xtask bench failover`) ---------------------------------

mod wire {
    //! The backup's view of the wire: the master's adverts with kernel receive stamps
    //! (AF_PACKET + SO_TIMESTAMPNS, CLOCK_REALTIME) and the moment the VIP becomes local,
    //! probed every 0.5 ms on the same clock.

    use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::Duration;

    use ka_tests::spawn_in_netns;

    /// CLOCK_REALTIME in nanoseconds.
    pub fn now_ns() -> i128 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
        i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
    }

    /// Observe at a real-time priority, so that the observer is not what is late.
    fn realtime() {
        let p = libc::sched_param { sched_priority: 60 };
        // SAFETY: sched_setscheduler(2) on the calling thread with a valid sched_param.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &p) };
    }

    /// Adverts from `from` (kernel stamp ns, priority) and VIP changes on the watching
    /// host (stamp ns, present).
    #[derive(Debug, Default, Clone)]
    pub struct Record {
        pub adverts: Vec<(i128, u8)>,
        pub vip: Vec<(i128, bool)>,
    }

    pub struct Watch {
        stop: Arc<AtomicBool>,
        cap: JoinHandle<Vec<(i128, u8)>>,
        probe: JoinHandle<Vec<(i128, bool)>>,
    }

    impl Watch {
        pub fn start(ns: &str, from: Ipv4Addr, vip: IpAddr) -> Watch {
            let stop = Arc::new(AtomicBool::new(false));
            let (s1, s2) = (stop.clone(), stop.clone());
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let cap = spawn_in_netns(ns, move || {
                realtime();
                capture(from, &s1, ready_tx)
            });
            let _ = ready_rx.recv_timeout(Duration::from_secs(5));
            let probe = spawn_in_netns(ns, move || {
                realtime();
                let here = || UdpSocket::bind(SocketAddr::new(vip, 0)).is_ok();
                let mut last = here();
                let mut seen = vec![(now_ns(), last)];
                while !s2.load(Ordering::Relaxed) {
                    let v = here();
                    if v != last {
                        seen.push((now_ns(), v));
                        last = v;
                    }
                    std::thread::sleep(Duration::from_micros(500));
                }
                seen
            });
            Watch { stop, cap, probe }
        }

        pub fn finish(self) -> Record {
            self.stop.store(true, Ordering::Relaxed);
            Record {
                adverts: self.cap.join().unwrap_or_default(),
                vip: self.probe.join().unwrap_or_default(),
            }
        }
    }

    fn capture(
        from: Ipv4Addr,
        stop: &AtomicBool,
        ready: std::sync::mpsc::Sender<()>,
    ) -> Vec<(i128, u8)> {
        let proto = (libc::ETH_P_IP as u16).to_be();
        // SAFETY: plain socket(2) call.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(proto)) };
        assert!(fd >= 0, "AF_PACKET: {}", std::io::Error::last_os_error());
        let on: libc::c_int = 1;
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 50_000,
        };
        // SAFETY: setsockopt with pointers to values that live across the calls.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            );
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            );
        }
        let _ = ready.send(());
        let mut out = Vec::new();
        let mut buf = [0u8; 2048];
        let mut cbuf = [0u64; 64];
        while !stop.load(Ordering::Relaxed) {
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            };
            // SAFETY: an all-zero msghdr is valid; the pointers set below outlive recvmsg.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = cbuf.as_mut_ptr().cast();
            msg.msg_controllen = std::mem::size_of_val(&cbuf);
            // SAFETY: recvmsg into buffers we own, described by msg.
            let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
            if n < 0 {
                continue;
            }
            let pkt = &buf[..n as usize];
            if pkt.len() < 24 || pkt[9] != 112 || pkt[12..16] != from.octets() {
                continue;
            }
            let ihl = usize::from(pkt[0] & 0x0f) * 4;
            let Some(&prio) = pkt.get(ihl + 2) else {
                continue;
            };
            let mut stamp = None;
            // SAFETY: walking the control messages recvmsg filled in, with libc's macros.
            unsafe {
                let mut c = libc::CMSG_FIRSTHDR(&msg);
                while !c.is_null() {
                    if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SO_TIMESTAMPNS
                    {
                        let ts =
                            std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>());
                        stamp =
                            Some(i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec));
                    }
                    c = libc::CMSG_NXTHDR(&msg, c);
                }
            }
            out.push((stamp.unwrap_or_else(now_ns), prio));
        }
        // SAFETY: closing the fd we opened.
        unsafe { libc::close(fd) };
        out
    }

    impl Record {
        /// First time the VIP appeared at or after `t`.
        pub fn vip_up_after(&self, t: i128) -> Option<i128> {
            self.vip.iter().find(|(s, v)| *v && *s >= t).map(|x| x.0)
        }

        /// The first priority-0 advert.
        pub fn prio0(&self) -> Option<i128> {
            self.adverts.iter().find(|a| a.1 == 0).map(|a| a.0)
        }

        /// The last advert before `t`.
        pub fn last_advert_before(&self, t: i128) -> Option<i128> {
            self.adverts.iter().rev().find(|a| a.0 < t).map(|a| a.0)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Graceful,
    Frozen,
    KilledChild,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Graceful => "graceful stop (prio-0 advert -> VIP on backup)",
            Scenario::Frozen => "frozen master (last advert -> VIP on backup)",
            Scenario::KilledChild => "VRRP child SIGKILL (VIP on no host)",
        }
    }
}

fn bench_conf(state: &str, prio: u8, vip: &str, v3: bool) -> String {
    let (adv, ver) = if v3 { ("0.1", "3") } else { ("1", "2") };
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 77\n  \
         priority {prio}\n  advert_int {adv}\n  version {ver}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

/// One round; returns the measured time in µs (the protocol limit is added by the caller).
fn bench_round(imp: Impl, sc: Scenario, v3: bool, net: &str) -> Option<f64> {
    // A fresh LAN per round: nothing left over from the previous one.
    let lan = &Lan::new(2, net);
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().ok()?;
    let adv = if v3 { 0.1 } else { 1.0 };
    let mut a = Daemon::start(&lan.hosts[0], imp, &bench_conf("MASTER", 150, &vip_s, v3));
    if !wait_for(UP, || lan.hosts[0].has_addr(vip)) {
        eprintln!("{imp:?}: no master");
        return None;
    }
    let mut b = Daemon::start(&lan.hosts[1], imp, &bench_conf("BACKUP", 100, &vip_s, v3));
    std::thread::sleep(Duration::from_secs_f64(1.0 + 4.0 * adv));
    if lan.hosts[1].has_addr(vip) {
        eprintln!("{imp:?}: VIP on the backup before the action");
        return None;
    }
    let from: std::net::Ipv4Addr = lan.addr(0).parse().ok()?;
    let result = match sc {
        Scenario::Graceful | Scenario::Frozen => {
            let w = wire::Watch::start(lan.hosts[1].name(), from, vip);
            std::thread::sleep(Duration::from_secs_f64(2.0 * adv + 0.05));
            let t_action = wire::now_ns();
            if sc == Scenario::Graceful {
                a.stop(Duration::from_secs(5));
            } else {
                a.freeze(true);
            }
            let ok = wait_for(Duration::from_secs(10), || lan.hosts[1].has_addr(vip));
            std::thread::sleep(Duration::from_millis(20));
            let rec = w.finish();
            if sc == Scenario::Frozen {
                a.freeze(false);
            }
            if !ok {
                return None;
            }
            let start = match sc {
                Scenario::Graceful => rec.prio0(),
                _ => rec
                    .vip_up_after(t_action)
                    .and_then(|t| rec.last_advert_before(t)),
            }?;
            let up = rec.vip_up_after(start)?;
            Some((up - start) as f64 / 1000.0)
        }
        Scenario::KilledChild => {
            let probe = Prober::start(
                &[&lan.hosts[0], &lan.hosts[1]],
                vip,
                Duration::from_micros(500),
            );
            // Let every probe thread take its first sample before the kill.
            std::thread::sleep(Duration::from_millis(100));
            let pid = a.vrrp_pid()?;
            kill(pid);
            let settle = Duration::from_secs_f64(8.0 * adv + 3.0);
            std::thread::sleep(settle);
            let _ = wait_for(UP, || {
                lan.hosts[0].has_addr(vip) || lan.hosts[1].has_addr(vip)
            });
            let t = probe.finish();
            // Until every probe thread has sampled once, unsampled hosts count as "no
            // VIP": leave that start-up window out.
            let settled = t
                .hosts
                .iter()
                .filter_map(|h| h.first().map(|x| x.0 - t.start))
                .max()
                .unwrap_or_default();
            Some(
                t.absent()
                    .iter()
                    .filter(|(off, len)| *off + *len > settled)
                    .fold(0.0, |acc, x| acc + x.1.as_secs_f64() * 1e6),
            )
        }
    };
    b.stop(Duration::from_secs(5));
    a.stop(Duration::from_secs(5));
    result
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `cargo xtask bench failover` runs this (release build) and puts the table in
/// docs/benchmarks.md. Writes markdown to `KA_BENCH_OUT` (default: stdout only).
#[test]
#[ignore = "benchmark: run by `cargo xtask bench failover`"]
fn bench_failover() {
    if !require_root("bench_failover") || !require_keepalived("bench_failover") {
        return;
    }
    let rounds: usize = std::env::var("KA_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut md = String::new();
    md.push_str(
        "| scenario | advert | limit (ms) | keepalived 2.2.7 median (ms) | keepalived-rs median (ms) | ours - limit (ms) | ratio ours/keepalived | runs keepalived | runs ours |\n|---|---|---:|---:|---:|---:|---:|---|---|\n",
    );
    // KA_BENCH_ONLY=graceful,frozen,killed,v2,v3 narrows the run (for investigations).
    let only: Vec<String> = std::env::var("KA_BENCH_ONLY")
        .unwrap_or_default()
        .split(',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let given = |set: &[&str]| only.iter().any(|o| set.contains(&o.as_str()));
    let has = |w: &str| only.iter().any(|o| o == w);
    for (sc, key) in [
        (Scenario::Graceful, "graceful"),
        (Scenario::Frozen, "frozen"),
        (Scenario::KilledChild, "killed"),
    ] {
        if given(&["graceful", "frozen", "killed"]) && !has(key) {
            continue;
        }
        for v3 in [false, true] {
            let ver = if v3 { "v3" } else { "v2" };
            if given(&["v2", "v3"]) && !has(ver) {
                continue;
            }
            let adv_ms = if v3 { 100.0 } else { 1000.0 };
            let skew = 156.0 / 256.0 * adv_ms;
            let limit = match sc {
                Scenario::Graceful => skew,
                Scenario::Frozen => 3.0 * adv_ms + skew,
                Scenario::KilledChild => 0.0,
            };
            let mut res: Vec<Vec<f64>> = Vec::new();
            for (k, imp) in [Impl::Keepalived, Impl::Ours].into_iter().enumerate() {
                let net = format!("10.95.{}", 10 + k);
                let mut v = Vec::new();
                let mut tries = 0;
                while v.len() < rounds && tries < rounds * 2 {
                    tries += 1;
                    if let Some(us) = bench_round(imp, sc, v3, &net) {
                        let ms = us / 1000.0;
                        eprintln!("{:?} {} v3={v3}: {ms:.1} ms", imp, sc.name());
                        v.push(ms);
                    }
                }
                res.push(v);
            }
            let runs = |v: &[f64]| {
                v.iter()
                    .map(|x| format!("{x:.1}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (rk, ro) = (runs(&res[0]), runs(&res[1]));
            let mk = median(&mut res[0]);
            let mo = median(&mut res[1]);
            let ratio = if mk > 0.0 {
                format!("{:.3}", mo / mk)
            } else {
                "-".into()
            };
            md.push_str(&format!(
                "| {} | {} | {limit:.1} | {mk:.1} | {mo:.1} | {:+.1} | {ratio} | {rk} | {ro} |\n",
                sc.name(),
                if v3 { "v3 0.1 s" } else { "v2 1 s" },
                mo - limit,
            ));
        }
    }
    println!("{md}");
    if let Some(p) = std::env::var_os("KA_BENCH_OUT") {
        std::fs::write(&p, &md).unwrap_or_else(|e| panic!("write {p:?}: {e}"));
    }
}
