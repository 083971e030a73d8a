//! A VRRP child starved by a task of higher real-time priority (issue 11, the 1-hour chaos
//! campaign of 2026-12-06).
//!
//! The VRRP child runs SCHED_RR 1 by default. In the campaign a test spinning at SCHED_RR 2
//! for 7.5 minutes froze every keepalived-rs VRRP child on its CPU: RT throttling leaves its
//! 5 % to normally scheduled tasks, never to lower real-time ones. A master sent no advert
//! (its backup took over: the VIP on two hosts), a stopping daemon's child could not stop,
//! and its parent waited blocked in `waitpid` for the SIGKILLed child until the spinner
//! ended; keepalived, normally scheduled, went on.
//!
//! Now the parent, normally scheduled, sees a child that waited most of 250 ms for a CPU
//! and drops it to normal scheduling, and never waits blocked for a killed child. Here A's
//! VRRP child is pinned (`vrrp_cpu_affinity`) to the CPU on which the test spins at
//! SCHED_RR 2 for a bounded time: A must keep the VIP alone, and a stop during the spin
//! must end at once, the VIP handed to B with a priority-0 advert.
//!
//! Own test binary: it keeps one CPU busy real-time for up to 8 s.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::probe::Prober;
use ka_tests::{require_root, wait_for, Lan};

const UP: Duration = Duration::from_secs(15);

/// One spinner at a time: the two tests starve the same CPU.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Spins at SCHED_RR 2 on `cpu` until dropped or `limit` passes.
struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<bool>>,
}

impl Spinner {
    fn start(cpu: usize, limit: Duration) -> Spinner {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            // SAFETY: cpu_set_t is plain data; CPU_SET writes inside it; sched_setaffinity
            // and sched_setscheduler read what we pass, for the calling thread only.
            let ok = unsafe {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(cpu, &mut set);
                let pinned =
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0;
                let param = libc::sched_param { sched_priority: 2 };
                pinned && libc::sched_setscheduler(0, libc::SCHED_RR, &param) == 0
            };
            let t = Instant::now();
            while ok && !flag.load(Ordering::Relaxed) && t.elapsed() < limit {
                std::hint::spin_loop();
            }
            ok
        });
        Spinner {
            stop,
            thread: Some(thread),
        }
    }

    /// Stop spinning; whether it ran real-time at all.
    fn finish(mut self) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .is_some_and(|t| t.join().unwrap_or(false))
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn conf(state: &str, prio: u8, cpu: Option<usize>, vip: &str) -> String {
    let global = cpu.map_or(String::new(), |c| {
        format!("global_defs {{\n  vrrp_cpu_affinity {c}\n}}\n")
    });
    format!(
        "{global}vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  \
         virtual_router_id 52\n  priority {prio}\n  advert_int 1\n  \
         virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

/// The CPU to starve, or None (with a note) on a single-CPU machine.
fn victim_cpu(test: &str) -> Option<usize> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpus < 2 {
        eprintln!("SKIPPED {test}: needs two CPUs (one is kept busy real-time)");
        return None;
    }
    Some(cpus - 1)
}

struct Pair {
    a: Daemon,
    b: Daemon,
    lan: Lan,
    vip: IpAddr,
}

fn settled_pair(net: &str, cpu: usize) -> Pair {
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().expect("VIP literal");
    let (ha, hb) = (&lan.hosts[0], &lan.hosts[1]);
    let a = Daemon::start(ha, Impl::Ours, &conf("MASTER", 150, Some(cpu), &vip_s));
    assert!(
        wait_for(UP, || ha.has_addr(vip)),
        "A never became MASTER:\n{}",
        a.log()
    );
    let b = Daemon::start(hb, Impl::Ours, &conf("BACKUP", 100, None, &vip_s));
    assert!(
        wait_for(UP, || b.vrrp_pid().is_some()),
        "no VRRP child on B"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        ha.has_addr(vip) && !hb.has_addr(vip),
        "not A MASTER, B BACKUP:\n{}\n{}",
        a.log(),
        b.log()
    );
    Pair { a, b, lan, vip }
}

#[test]
fn a_starved_master_keeps_its_vip_alone() {
    let test = "a_starved_master_keeps_its_vip_alone";
    if !require_root(test) {
        return;
    }
    let Some(cpu) = victim_cpu(test) else { return };
    let _one = one_at_a_time();
    let p = settled_pair("10.91.31", cpu);
    let (ha, hb) = (&p.lan.hosts[0], &p.lan.hosts[1]);
    let probe = Prober::start(&[ha, hb], p.vip, Duration::from_millis(1));
    // Longer than B's Master_Down_Interval (3.61 s) with room to spare.
    let spin = Spinner::start(cpu, Duration::from_secs(6));
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        spin.finish(),
        "the spinner could not run at SCHED_RR 2 on CPU {cpu}"
    );
    std::thread::sleep(Duration::from_millis(500));
    let t = probe.finish();
    // Not the probe threads' start-up (each host's first sample a few µs apart).
    let settled = |v: Vec<(Duration, Duration)>| -> Vec<(Duration, Duration)> {
        v.into_iter()
            .filter(|(at, _)| *at > Duration::from_millis(20))
            .collect()
    };
    let dual = settled(t.duplicated());
    let absent = settled(t.absent());
    eprintln!("VIP on both hosts: {dual:?}; on none: {absent:?}");
    assert!(
        dual.is_empty() && absent.is_empty() && t.final_holder() == Some(0),
        "A's starved VRRP child lost the VIP (on both: {dual:?}, on none: {absent:?}):\n\
         A:\n{}\nB:\n{}",
        p.a.log(),
        p.b.log()
    );
    let log = p.a.log();
    assert!(
        log.contains("dropped to normal scheduling"),
        "A's parent did not say it demoted its starved child:\n{log}"
    );
    assert!(!hb.has_addr(p.vip));
}

#[test]
fn a_stop_while_starved_ends_at_once_and_hands_the_vip_over() {
    let test = "a_stop_while_starved_ends_at_once_and_hands_the_vip_over";
    if !require_root(test) {
        return;
    }
    let Some(cpu) = victim_cpu(test) else { return };
    let _one = one_at_a_time();
    let mut p = settled_pair("10.91.32", cpu);
    let (ha, hb) = (&p.lan.hosts[0], &p.lan.hosts[1]);
    let probe = Prober::start(&[ha, hb], p.vip, Duration::from_millis(1));
    let spin = Spinner::start(cpu, Duration::from_secs(8));
    // Starved from now on: give the stop a moment of starvation first.
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    p.a.signal(libc::SIGTERM);
    let exited = wait_for(Duration::from_secs(7), || p.a.exited().is_some());
    let took = asked.elapsed();
    let _ = spin.finish();
    std::thread::sleep(Duration::from_millis(300));
    let t = probe.finish();
    let dual = t.duplicated();
    eprintln!(
        "stop took {took:?}; VIP on both hosts: {dual:?}; on none: {:?}",
        t.absent()
    );
    assert!(
        exited && took < Duration::from_secs(3),
        "A's stop took {took:?} while its VRRP child was starved (exited: {exited}):\n{}",
        p.a.log()
    );
    assert!(!ha.has_addr(p.vip), "A left its VIP behind");
    assert!(
        wait_for(Duration::from_secs(2), || hb.has_addr(p.vip)),
        "B did not take over:\n{}",
        p.b.log()
    );
    assert!(dual.is_empty(), "VIP on both hosts: {dual:?}");
    // The priority-0 advert: B took over well within its Master_Down_Interval (3.61 s).
    let gap = t
        .absent()
        .into_iter()
        .map(|(_, d)| d)
        .max()
        .unwrap_or_default();
    assert!(
        gap < Duration::from_millis(1500),
        "VIP on no host for {gap:?}: no priority-0 advert?\nA:\n{}",
        p.a.log()
    );
}
