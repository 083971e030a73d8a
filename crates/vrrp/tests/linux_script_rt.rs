//! A real-time loop that starts a script is not left waiting for the script to be given
//! a CPU (issue 11, the chaos campaign's finding on 2026-12-05).
//!
//! `Command::spawn` returns once the child has exec'd. The VRRP child runs SCHED_RR with
//! SCHED_RESET_ON_FORK, so a forked script started as a normal task: with the CPUs busy
//! with real-time work, it waited for the kernel's RT throttling to give normal tasks
//! their 5 % (up to ~1 s) before it could exec, and the loop waited with it — a master's
//! adverts 2.4 s late in the campaign, and its backup took over. Now the child keeps the
//! loop's policy until its exec and drops it there; the script still runs normally.
//!
//! Own test binary: for up to 1.5 s it keeps every CPU busy with a SCHED_FIFO thread,
//! which would disturb tests running beside it.
#![cfg(feature = "linux")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ka_tests::require_root;
use vrrp::linux::script::{Runner, ScriptSpec};

fn set_sched(policy: i32, prio: i32) -> bool {
    let param = libc::sched_param {
        sched_priority: prio,
    };
    // SAFETY: sched_setscheduler(2) on the calling thread with a valid sched_param.
    unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}

fn pin_to(cpu: usize) {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes inside it; sched_setaffinity reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let _ = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

#[test]
fn a_script_spawn_under_real_time_load_does_not_wait_for_a_cpu() {
    if !require_root("a_script_spawn_under_real_time_load_does_not_wait_for_a_cpu") {
        return;
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // One SCHED_FIFO 1 spinner per CPU: normal tasks get only what RT throttling leaves.
    let hogs: Vec<_> = (0..cpus)
        .map(|cpu| {
            let (stop, started) = (stop.clone(), started.clone());
            std::thread::spawn(move || {
                pin_to(cpu);
                let ok = set_sched(libc::SCHED_FIFO, 1);
                started.fetch_add(1, Ordering::SeqCst);
                let t = Instant::now();
                while ok
                    && !stop.load(Ordering::Relaxed)
                    && t.elapsed() < Duration::from_millis(1500)
                {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    // Wait for the hogs while still normally scheduled: a real-time waiter spinning on
    // `yield_now` kept a hog pinned to its CPU (still SCHED_OTHER, and at nice 19 under
    // `nice -n 19 cargo test`) from ever running to raise itself — the test spun for
    // 7.5 minutes at SCHED_RR 2 on 2026-12-06.
    while started.load(Ordering::SeqCst) < cpus {
        std::thread::sleep(Duration::from_millis(1));
    }
    // The "loop": SCHED_RR 2 with reset-on-fork, as the VRRP child runs (above the hogs).
    assert!(
        set_sched(libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, 2),
        "sched_setscheduler: {}",
        std::io::Error::last_os_error()
    );
    std::thread::sleep(Duration::from_millis(20));
    let poll = mio::Poll::new().expect("poll");
    let mut runner = Runner::new(1000, 4);
    let spec = ScriptSpec {
        argv: vec!["/bin/true".into()],
        user: None,
        timeout: Some(Duration::from_secs(5)),
    };
    let sleeper = ScriptSpec {
        argv: vec!["/bin/sleep".into(), "1".into()],
        user: None,
        timeout: Some(Duration::from_secs(5)),
    };
    let mut took = Vec::new();
    let mut policies = Vec::new();
    for i in 0..4 {
        let t = Instant::now();
        let r = runner.spawn(
            poll.registry(),
            if i == 0 { &sleeper } else { &spec },
            i,
            Instant::now(),
        );
        took.push(t.elapsed());
        let pid = r.unwrap_or_else(|e| panic!("spawn: {e}"));
        if i == 0 {
            // The script itself runs normally, not at the loop's real-time priority.
            // SAFETY: sched_getscheduler(2) on our own child; no memory is passed.
            policies.push(unsafe { libc::sched_getscheduler(pid as i32) });
        }
    }
    // Back to normal before asserting (and before the hogs stop).
    set_sched(libc::SCHED_OTHER, 0);
    stop.store(true, Ordering::Relaxed);
    for h in hogs {
        let _ = h.join();
    }
    assert_eq!(
        policies,
        vec![libc::SCHED_OTHER],
        "a script runs SCHED_OTHER (0), not real-time"
    );
    let worst = took.iter().max().copied().unwrap_or_default();
    eprintln!("spawn times under real-time load: {took:?}");
    assert!(
        worst < Duration::from_millis(100),
        "the real-time loop waited {worst:?} for a script to exec ({took:?})"
    );
}
