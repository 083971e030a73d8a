//! `vrrp_priority`, `vrrp_rt_priority`, `vrrp_rlimit_rttime`, `vrrp_no_swap` and
//! `vrrp_cpu_affinity`: how the VRRP child is scheduled. With a real-time priority the
//! child runs SCHED_RR with SCHED_RESET_ON_FORK (scripts it forks run normally) and
//! RLIMIT_RTTIME (keepalived's default 10 ms of CPU without blocking) as a safety net.
//!
//! RLIMIT_RTTIME never ends the child: [`RtGuard`] drops the loop to SCHED_OTHER when it
//! has run more than half the limit without sleeping (a flood, a mass transition, a
//! startup of thousands of instances) and restores SCHED_RR when it next goes idle; and
//! SIGXCPU (the soft limit) is caught and does the same instead of ending the process.
//!
//! One departure from keepalived: when neither `vrrp_priority` nor `vrrp_rt_priority` is
//! configured, the VRRP child takes the lowest real-time priority (SCHED_RR 1, reset on
//! fork). Measured on a loaded 2-core machine (load ~16), the timers of a normally
//! scheduled child fired 5-70 ms late; at SCHED_RR none was more than 2 ms late. The
//! child sleeps in `epoll_wait` nearly all the time, and the kernel's RT throttling
//! still leaves other tasks their share. Set `vrrp_priority 0` for keepalived's behaviour.

//! The settings themselves are applied by the one module both children use,
//! [`vrrp::linux::sched`]; what is here is the VRRP child's own: its default, the guard
//! and SIGXCPU.

use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ka_proto::config::global::ProcessSched;
pub use vrrp::linux::sched::DEFAULT_RTTIME_US;
use vrrp::linux::sched::{self as shared, set_policy, thread_usage, RealTime, Start};

/// The SCHED_RR priority applied by [`apply`] (0: not real-time).
static RT_PRIO: AtomicI32 = AtomicI32::new(0);
/// RLIMIT_RTTIME's soft limit in µs, as applied.
static RTTIME_US: AtomicU64 = AtomicU64::new(DEFAULT_RTTIME_US);

/// The hard limit over a `soft` RLIMIT_RTTIME: keepalived's margin (10 % + 1 ms) plus
/// 20 ms, two scheduler ticks even at HZ=100. The kernel counts real-time CPU in ticks
/// and checks the hard limit first: with a margin under a tick (4 ms at HZ=250), 10 ms
/// soft and 12 ms hard mean SIGKILL at the third tick and never a SIGXCPU.
pub fn rttime_hard(soft: u64) -> u64 {
    shared::keepalived_rttime_hard(soft).saturating_add(20_000)
}

/// The hard limit for a soft limit: keepalived's rule ([`rttime_hard`]) when the operator
/// set `vrrp_rlimit_rttime`, none otherwise. The kernel keeps counting real-time CPU across
/// a fall-back to normal scheduling (only a sleep while real-time resets the count), so
/// under a sustained flood the short real-time stretches between fall-backs add up; with a
/// hard limit they end in SIGKILL however well each burst is bounded. Without one, every
/// tick past the soft limit is a SIGXCPU, which drops the loop to normal scheduling at once
/// (in the handler, so a runaway loop is demoted too): the safety net stays, the kill goes.
pub fn rttime_hard_for(soft: u64, configured: bool) -> u64 {
    if configured {
        rttime_hard(soft)
    } else {
        libc::RLIM_INFINITY
    }
}

/// Bounds real-time CPU use by the VRRP loop: real-time while work comes in small pieces
/// (timer precision), normal scheduling during a long burst (a flood, a mass transition,
/// a reload), so RLIMIT_RTTIME never ends the child.
///
/// The loop calls [`RtGuard::woke`] after each wait, [`RtGuard::check`] between pieces of
/// work, and [`RtGuard::idle`] before a wait that may sleep.
///
/// Cost: one `getrusage` per wake-up from a wait that may have slept, none otherwise. A
/// single thread cannot use more CPU than the time that passes, so `check` bounds the CPU
/// spent since the last sleep by what was measured at the wake-up plus the wall-clock time
/// since, and asks the kernel only when that bound passes the budget.
#[derive(Debug)]
pub struct RtGuard {
    prio: i32,
    /// CPU time at the last sleep.
    mark: Duration,
    nvcsw: i64,
    budget: Duration,
    /// CPU spent since the last sleep, at most, as of `at`.
    spent: Duration,
    at: Instant,
    /// Running SCHED_OTHER until idle.
    fallen: bool,
    /// Times we fell back (for the log).
    pub fallbacks: u64,
    /// `getrusage` calls made (for tests and profiling).
    pub probes: u64,
}

impl RtGuard {
    /// For the calling thread, with what [`apply`] set (inactive when not real-time).
    pub fn new() -> RtGuard {
        RtGuard::with(
            RT_PRIO.load(Ordering::Relaxed),
            RTTIME_US.load(Ordering::Relaxed),
        )
    }

    /// For the calling thread, which runs SCHED_RR `prio` (0: not real-time) under an
    /// RLIMIT_RTTIME of `rttime` µs.
    pub fn with(prio: i32, rttime: u64) -> RtGuard {
        let (mark, nvcsw) = thread_usage();
        RtGuard {
            prio,
            mark,
            nvcsw,
            // Half the limit: the check runs between bounded pieces of work, each far
            // shorter than the other half.
            budget: Duration::from_micros((rttime / 2).max(1000)),
            spent: Duration::ZERO,
            at: Instant::now(),
            // Started normally scheduled (see `apply`): real-time from the first wait.
            fallen: true,
            fallbacks: 0,
            probes: 1,
        }
    }

    /// Whether the loop runs real-time at all.
    pub fn active(&self) -> bool {
        self.prio > 0
    }

    /// Ask the kernel: CPU spent since the last sleep (a voluntary context switch since
    /// the last probe is a sleep, which restarts the kernel's count).
    fn probe(&mut self, now: Instant) -> Duration {
        let (cpu, nvcsw) = thread_usage();
        self.probes += 1;
        if nvcsw != self.nvcsw {
            self.nvcsw = nvcsw;
            self.mark = cpu;
        }
        self.spent = cpu.saturating_sub(self.mark);
        self.at = now;
        self.spent
    }

    /// After a wait: if the thread slept, the real-time count starts again. `may_have_slept`
    /// is false after a wait with a zero timeout (it cannot have slept): then nothing is
    /// asked of the kernel.
    pub fn woke(&mut self, may_have_slept: bool) {
        if !self.active() || !may_have_slept {
            return;
        }
        self.probe(Instant::now());
    }

    /// Between pieces of work: past the budget, fall back to normal scheduling. Returns
    /// true when it just fell back.
    pub fn check(&mut self) -> bool {
        self.check_at(Instant::now())
    }

    fn check_at(&mut self, now: Instant) -> bool {
        if !self.active() || self.fallen {
            return false;
        }
        if crate::sys::xcpu_fell_back() {
            self.fallen = true;
            self.fallbacks += 1;
            return true;
        }
        let bound = self.spent + now.saturating_duration_since(self.at);
        if bound <= self.budget {
            return false;
        }
        if self.probe(now) > self.budget && set_policy(0, None) {
            self.fallen = true;
            self.fallbacks += 1;
            return true;
        }
        false
    }

    /// Before a wait that may sleep (no work pending): back to real-time if we fell back.
    pub fn idle(&mut self) {
        if crate::sys::xcpu_fell_back() {
            self.fallen = true;
            self.fallbacks += 1;
        }
        if self.active() && self.fallen && set_policy(0, Some(self.prio)) {
            self.fallen = false;
        }
    }

    /// Running SCHED_OTHER for now.
    pub fn fallen(&self) -> bool {
        self.fallen
    }
}

impl Default for RtGuard {
    fn default() -> Self {
        RtGuard::new()
    }
}

/// The scheduling the VRRP child runs with: `s`, or SCHED_RR 1 when `s` sets no priority.
pub fn effective(s: &ProcessSched) -> ProcessSched {
    let mut e = s.clone();
    if e.priority.is_none() && e.rt_priority.is_none() {
        e.rt_priority = Some(1);
    }
    e
}

/// Apply `s` to the calling process ([`vrrp::linux::sched::apply`]; SCHED_RR is only
/// checked: [`RtGuard::idle`] switches to it when the loop first waits); returns what could
/// not be applied.
pub fn apply(s: &ProcessSched) -> Vec<String> {
    let rttime = s.rlimit_rttime.unwrap_or(DEFAULT_RTTIME_US);
    let hard = rttime_hard_for(rttime, s.rlimit_rttime.is_some());
    let mut errors = Vec::new();
    if s.rt_priority.is_some() {
        RTTIME_US.store(rttime, Ordering::Relaxed);
        // SIGXCPU (the soft limit) drops the loop to normal scheduling instead of ending
        // the process; [`RtGuard`] restores SCHED_RR when the loop next goes idle.
        if let Err(e) = crate::sys::install_xcpu_fallback(shared::gettid(), rttime, hard) {
            errors.push(format!("SIGXCPU: {e}"));
        }
    }
    // Check now that SCHED_RR is allowed; the start-up itself (thousands of instances,
    // a netlink round per address) then runs normally.
    let real_time = s.rt_priority.map(|priority| RealTime {
        priority,
        rttime_us: rttime,
        hard_us: hard,
        start: Start::Later,
    });
    let failed = shared::apply(&shared::Settings {
        prefix: "vrrp",
        nice: s.priority,
        real_time,
        no_swap: s.no_swap,
        cpu_affinity: &s.cpu_affinity,
    });
    if let Some(rt) = real_time {
        if !failed.iter().any(|e| e.keyword == "vrrp_rt_priority") {
            RT_PRIO.store(rt.rr(), Ordering::Relaxed);
        }
    }
    errors.extend(failed.iter().map(ToString::to_string));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hard_limit_leaves_two_ticks_for_sigxcpu() {
        // 10 ms soft: SIGXCPU at the third 4 ms tick (12 ms), the hard limit well after.
        assert_eq!(rttime_hard(10_000), 32_000);
        assert!(rttime_hard(u64::MAX) == u64::MAX);
    }

    fn policy() -> i32 {
        vrrp::linux::sched::thread_policy()
    }

    #[test]
    fn a_long_burst_falls_back_to_normal_scheduling_until_idle() {
        std::thread::spawn(|| {
            if !set_policy(0, Some(1)) {
                eprintln!("SKIPPED: SCHED_RR not allowed here");
                return;
            }
            let mut g = RtGuard::with(1, 10_000);
            g.idle();
            assert_eq!(policy(), libc::SCHED_RR);
            std::thread::sleep(std::time::Duration::from_millis(1));
            g.woke(true);
            assert!(!g.check(), "nothing spent yet");
            // 6 ms of CPU without sleeping: past half the limit.
            let (start, _) = thread_usage();
            while thread_usage().0 - start < Duration::from_millis(6) {
                std::hint::black_box(0u64);
            }
            assert!(g.check());
            assert_eq!(policy(), libc::SCHED_OTHER);
            assert!(g.fallen());
            g.idle();
            assert_eq!(policy(), libc::SCHED_RR);
            set_policy(0, None);
        })
        .join()
        .expect("test thread");
    }

    /// The cost of the guard on a busy loop: one getrusage per wake-up from a wait that may
    /// have slept, none for the checks between pieces of work while the wall-clock time
    /// since the wake-up keeps the CPU spent under the budget, none after a zero-timeout
    /// wait.
    #[test]
    fn at_most_one_getrusage_per_wake_up() {
        let mut g = RtGuard::with(1, 10_000);
        // As if `idle` had switched to SCHED_RR (which needs privileges).
        g.fallen = false;
        let p0 = g.probes;
        for _ in 0..100 {
            g.woke(true);
            let at = g.at;
            for k in 0..64u32 {
                // 64 pieces of work within 1 ms of the wake-up.
                assert!(!g.check_at(at + Duration::from_micros(u64::from(k) * 15)));
            }
            // A wait with a zero timeout (work pending): nothing asked.
            g.woke(false);
            assert!(!g.check_at(at + Duration::from_millis(1)));
        }
        assert_eq!(g.probes - p0, 100, "one getrusage per wake-up");
        // Past the budget by the wall clock: the kernel is asked; this thread has not
        // used 5 ms of CPU, so no fall-back.
        let at = g.at;
        assert!(!g.check_at(at + Duration::from_millis(6)));
        assert_eq!(g.probes - p0, 101);
        assert!(!g.fallen());
    }

    #[test]
    fn no_hard_limit_unless_configured() {
        assert_eq!(rttime_hard_for(10_000, true), 32_000);
        assert_eq!(rttime_hard_for(10_000, false), libc::RLIM_INFINITY);
    }

    /// A loop that never sleeps (a flood keeps a socket readable, so every wait returns at
    /// once) but goes back to real-time before each wait, as the VRRP loop does: the
    /// kernel's count of real-time CPU is not reset by the fall-backs, and with a hard limit
    /// it ended in SIGKILL after a few dozen rounds (seen under a 10k pps flood on a loaded
    /// machine). Run in a child process: a SIGKILL must not take the test runner with it.
    #[test]
    fn a_loop_that_never_sleeps_is_never_killed() {
        const CHILD: &str = "KA_SCHED_NEVER_SLEEPS_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let errors = apply(&effective(&ProcessSched::default()));
            assert!(errors.is_empty(), "{errors:?}");
            let mut g = RtGuard::new();
            let (start, _) = thread_usage();
            while thread_usage().0 - start < Duration::from_millis(1500) {
                g.idle();
                g.woke(true);
                let (t, _) = thread_usage();
                while thread_usage().0 - t < Duration::from_micros(700) {
                    std::hint::black_box(0u64);
                }
                g.check();
            }
            println!("survived {} fall-backs", g.fallbacks);
            std::process::exit(0);
        }
        if !nix::unistd::geteuid().is_root() {
            eprintln!("SKIPPED: SCHED_RR needs root");
            return;
        }
        let exe = std::env::current_exe().expect("test binary");
        let out = std::process::Command::new(exe)
            .args([
                "vrrp_child::sched::tests::a_loop_that_never_sleeps_is_never_killed",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .expect("run the child");
        assert!(
            out.status.success(),
            "the never-sleeping loop ended with {:?}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn inactive_without_real_time() {
        let mut g = RtGuard::with(0, 10_000);
        assert!(!g.active());
        g.idle();
        assert!(!g.check());
    }

    #[test]
    fn nothing_to_apply_is_fine() {
        assert!(apply(&ProcessSched::default()).is_empty());
    }

    #[test]
    fn default_is_the_lowest_rt_priority() {
        assert_eq!(effective(&ProcessSched::default()).rt_priority, Some(1));
        let nice = ProcessSched {
            priority: Some(0),
            ..ProcessSched::default()
        };
        assert_eq!(effective(&nice).rt_priority, None);
        let rt = ProcessSched {
            rt_priority: Some(50),
            ..ProcessSched::default()
        };
        assert_eq!(effective(&rt).rt_priority, Some(50));
    }
}
