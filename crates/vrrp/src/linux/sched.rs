//! How a daemon process is scheduled — keepalived's `vrrp_*` and `checker_*` `priority`,
//! `rt_priority`, `rlimit_rttime`, `no_swap` and `cpu_affinity` — for both children: one
//! [`apply`], the keywords named by the caller's prefix. As keepalived, nothing changes
//! unless configured. A real-time priority means SCHED_RR with SCHED_RESET_ON_FORK (the
//! scripts a child starts run normally) and RLIMIT_RTTIME (keepalived's default 10 ms of
//! CPU without blocking) as a safety net.
//!
//! The system calls are in `super::sys`; what the VRRP child adds (its guard against
//! RLIMIT_RTTIME, SIGXCPU) is the VRRP child's, built on [`set_policy`] and [`set_rttime`].

use std::fmt;
use std::time::Duration;

use super::sys;

/// keepalived's default `*_rlimit_rttime` in µs.
pub const DEFAULT_RTTIME_US: u64 = 10_000;

/// keepalived's hard RLIMIT_RTTIME over a `soft` limit: 10 % more plus 1 ms.
pub fn keepalived_rttime_hard(soft: u64) -> u64 {
    soft.saturating_add(soft / 10 + 1000)
}

/// A setting that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedError {
    /// The keyword (`checker_priority`, `vrrp_cpu_affinity`...).
    pub keyword: String,
    /// What went wrong.
    pub error: String,
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.keyword, self.error)
    }
}

/// When SCHED_RR takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At once.
    Now,
    /// Only checked (set, then SCHED_OTHER again): the caller switches later, with
    /// [`set_policy`] (the VRRP child, once its start-up is done).
    Later,
}

/// A real-time setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealTime {
    /// SCHED_RR priority (clamped to 1..=99).
    pub priority: u32,
    /// RLIMIT_RTTIME soft limit, µs.
    pub rttime_us: u64,
    /// RLIMIT_RTTIME hard limit, µs (`libc::RLIM_INFINITY`: none).
    pub hard_us: u64,
    /// When SCHED_RR takes effect.
    pub start: Start,
}

impl RealTime {
    /// The SCHED_RR priority as the kernel takes it.
    pub fn rr(&self) -> i32 {
        i32::try_from(self.priority.clamp(1, 99)).unwrap_or(1)
    }
}

/// What to apply; the keywords of the errors are `{prefix}_priority` and so on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings<'a> {
    /// `vrrp` or `checker`.
    pub prefix: &'static str,
    /// `*_priority`: the nice value.
    pub nice: Option<i32>,
    /// `*_rt_priority` with its limits.
    pub real_time: Option<RealTime>,
    /// `*_no_swap`: lock the whole process in memory.
    pub no_swap: bool,
    /// `*_cpu_affinity`.
    pub cpu_affinity: &'a [u32],
}

/// Apply `s` to the calling thread (`no_swap`: to the process). Returns what could not be
/// applied.
pub fn apply(s: &Settings<'_>) -> Vec<SchedError> {
    let mut errors = Vec::new();
    let mut fail = |what: &str, error: String| {
        errors.push(SchedError {
            keyword: format!("{}_{what}", s.prefix),
            error,
        });
    };
    if let Some(nice) = s.nice {
        if let Err(e) = sys::set_nice(nice) {
            fail("priority", format!("{nice}: {e}"));
        }
    }
    if let Some(rt) = s.real_time {
        if let Err(e) = set_rttime(rt.rttime_us, rt.hard_us) {
            fail("rlimit_rttime", format!("{}: {e}", rt.rttime_us));
        }
        let ok = match rt.start {
            Start::Now => set_policy(0, Some(rt.rr())),
            Start::Later => set_policy(0, Some(rt.rr())) && set_policy(0, None),
        };
        if !ok {
            fail(
                "rt_priority",
                format!("{}: {}", rt.priority, std::io::Error::last_os_error()),
            );
        }
    }
    if s.no_swap {
        if let Err(e) = nix::sys::mman::mlockall(
            nix::sys::mman::MlockAllFlags::MCL_CURRENT | nix::sys::mman::MlockAllFlags::MCL_FUTURE,
        ) {
            fail("no_swap", e.to_string());
        }
    }
    if !s.cpu_affinity.is_empty() {
        let mut set = nix::sched::CpuSet::new();
        for cpu in s.cpu_affinity {
            let set_one = usize::try_from(*cpu)
                .map_err(|e| e.to_string())
                .and_then(|c| set.set(c).map_err(|e| e.to_string()));
            if let Err(e) = set_one {
                fail("cpu_affinity", format!("CPU {cpu}: {e}"));
            }
        }
        if let Err(e) = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set) {
            fail("cpu_affinity", e.to_string());
        }
    }
    errors
}

/// Switch thread `tid` (0: the caller) to SCHED_RR `prio` (`None`: SCHED_OTHER), reset on
/// fork. Async-signal-safe (one system call).
pub fn set_policy(tid: i32, rr: Option<i32>) -> bool {
    sys::set_policy(tid, rr)
}

/// Set RLIMIT_RTTIME (µs). Async-signal-safe (one system call).
pub fn set_rttime(soft: u64, hard: u64) -> std::io::Result<()> {
    sys::set_rttime(soft, hard)
}

/// The calling thread's id.
pub fn gettid() -> i32 {
    nix::unistd::gettid().as_raw()
}

/// The calling thread's policy (SCHED_RESET_ON_FORK masked out).
pub fn thread_policy() -> i32 {
    sys::thread_policy()
}

/// CPU time of the calling thread and its voluntary context switches.
pub fn thread_usage() -> (Duration, i64) {
    match nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_THREAD) {
        Ok(ru) => {
            let tv = |t: nix::sys::time::TimeVal| {
                Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
                    + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
            };
            (
                tv(ru.user_time()) + tv(ru.system_time()),
                ru.voluntary_context_switches(),
            )
        }
        Err(_) => (Duration::ZERO, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's nice value, from /proc.
    fn thread_nice() -> Option<i64> {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let after = stat.rsplit_once(')')?.1;
        after.split_whitespace().nth(16)?.parse().ok()
    }

    fn none(prefix: &'static str) -> Settings<'static> {
        Settings {
            prefix,
            nice: None,
            real_time: None,
            no_swap: false,
            cpu_affinity: &[],
        }
    }

    #[test]
    fn nothing_configured_changes_nothing() {
        assert!(apply(&none("checker")).is_empty());
        assert!(apply(&none("vrrp")).is_empty());
    }

    #[test]
    fn keepalived_hard_limit() {
        assert_eq!(keepalived_rttime_hard(10_000), 12_000);
        assert_eq!(keepalived_rttime_hard(u64::MAX), u64::MAX);
    }

    #[test]
    fn nice_and_affinity_apply_to_the_thread() {
        // A thread of its own: the settings must not leak into other tests.
        std::thread::spawn(|| {
            let before = thread_nice().unwrap_or(0);
            let nice = i32::try_from(before).unwrap_or(0).max(7);
            let s = Settings {
                nice: Some(nice),
                cpu_affinity: &[0],
                ..none("checker")
            };
            assert_eq!(apply(&s), Vec::new());
            assert_eq!(thread_nice(), Some(i64::from(nice)));
            let set =
                nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).expect("affinity");
            assert!(set.is_set(0).unwrap_or(false));
            assert!(!set.is_set(1).unwrap_or(false));
            let bad = Settings {
                cpu_affinity: &[100_000],
                ..none("vrrp")
            };
            let e = apply(&bad);
            assert!(!e.is_empty());
            assert_eq!(e[0].keyword, "vrrp_cpu_affinity");
        })
        .join()
        .expect("test thread");
    }

    #[test]
    fn real_time_now_or_later() {
        std::thread::spawn(|| {
            if !set_policy(0, Some(1)) {
                eprintln!("SKIPPED: SCHED_RR not allowed here");
                return;
            }
            set_policy(0, None);
            let rt = |start| Settings {
                real_time: Some(RealTime {
                    priority: 1,
                    rttime_us: 200_000,
                    hard_us: libc::RLIM_INFINITY,
                    start,
                }),
                ..none("checker")
            };
            assert_eq!(apply(&rt(Start::Later)), Vec::new());
            assert_eq!(thread_policy(), libc::SCHED_OTHER);
            assert_eq!(apply(&rt(Start::Now)), Vec::new());
            assert_eq!(thread_policy(), libc::SCHED_RR);
            set_policy(0, None);
        })
        .join()
        .expect("test thread");
    }
}
