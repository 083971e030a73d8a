//! `checker_priority`, `checker_rt_priority`, `checker_rlimit_rttime`, `checker_no_swap`
//! and `checker_cpu_affinity`: how the checker child is scheduled, applied when its
//! config arrives. As keepalived, nothing changes unless configured. A real-time priority
//! means SCHED_RR with SCHED_RESET_ON_FORK (the scripts the child starts run normally)
//! and RLIMIT_RTTIME (keepalived's default 10 ms of CPU without blocking) as a safety net.

use std::fmt;

use ka_proto::config::global::ProcessSched;

/// keepalived's default `checker_rlimit_rttime` in µs.
pub const DEFAULT_RTTIME_US: u64 = 10_000;

/// A setting that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedError {
    /// The keyword (`checker_priority`, ...).
    pub keyword: &'static str,
    /// The error.
    pub error: String,
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.keyword, self.error)
    }
}

fn err(keyword: &'static str, e: impl fmt::Display) -> SchedError {
    SchedError {
        keyword,
        error: e.to_string(),
    }
}

/// Apply `s` to the calling thread (the checker child's only thread; `checker_no_swap`
/// locks the whole process). Returns what could not be applied.
pub fn apply(s: &ProcessSched) -> Vec<SchedError> {
    let mut errors = Vec::new();
    if let Some(nice) = s.priority {
        // SAFETY: setpriority(2) on the calling thread (who = 0); no memory involved.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
            errors.push(err("checker_priority", std::io::Error::last_os_error()));
        }
    }
    if let Some(prio) = s.rt_priority {
        let rttime = s.rlimit_rttime.unwrap_or(DEFAULT_RTTIME_US);
        let lim = libc::rlimit {
            rlim_cur: rttime,
            rlim_max: rttime.saturating_add(rttime / 10 + 1000),
        };
        // SAFETY: setrlimit(2) reads the rlimit value we pass by reference.
        if unsafe { libc::setrlimit(libc::RLIMIT_RTTIME, &lim) } != 0 {
            errors.push(err(
                "checker_rlimit_rttime",
                std::io::Error::last_os_error(),
            ));
        }
        let param = libc::sched_param {
            sched_priority: i32::try_from(prio.clamp(1, 99)).unwrap_or(1),
        };
        // SAFETY: sched_setscheduler(2) on the calling thread with a valid sched_param.
        let rc = unsafe {
            libc::sched_setscheduler(0, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, &param)
        };
        if rc != 0 {
            errors.push(err("checker_rt_priority", std::io::Error::last_os_error()));
        }
    }
    if s.no_swap {
        // SAFETY: mlockall(2) takes flags only.
        if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } != 0 {
            errors.push(err("checker_no_swap", std::io::Error::last_os_error()));
        }
    }
    if !s.cpu_affinity.is_empty() {
        let mut set = nix::sched::CpuSet::new();
        for cpu in &s.cpu_affinity {
            let set_one = usize::try_from(*cpu)
                .map_err(|e| e.to_string())
                .and_then(|c| set.set(c).map_err(|e| e.to_string()));
            if let Err(e) = set_one {
                errors.push(err("checker_cpu_affinity", format!("CPU {cpu}: {e}")));
            }
        }
        if let Err(e) = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set) {
            errors.push(err("checker_cpu_affinity", e));
        }
    }
    errors
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The calling thread's nice value and CPU list, from /proc.
    fn thread_nice() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after = stat.rsplit_once(')').unwrap().1;
        // Fields after the command: state is field 3; nice is field 19.
        after.split_whitespace().nth(16).unwrap().parse().unwrap()
    }

    #[test]
    fn nothing_configured_changes_nothing() {
        assert!(apply(&ProcessSched::default()).is_empty());
    }

    #[test]
    fn nice_and_affinity_apply_to_the_thread() {
        // A thread of its own: the settings must not leak into other tests.
        std::thread::spawn(|| {
            let s = ProcessSched {
                priority: Some(7),
                cpu_affinity: vec![0],
                ..ProcessSched::default()
            };
            assert_eq!(apply(&s), Vec::new());
            assert_eq!(thread_nice(), 7);
            let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).unwrap();
            assert!(set.is_set(0).unwrap());
            assert!(!set.is_set(1).unwrap_or(false));
            let bad = ProcessSched {
                cpu_affinity: vec![100_000],
                ..ProcessSched::default()
            };
            let e = apply(&bad);
            assert!(!e.is_empty());
            assert_eq!(e[0].keyword, "checker_cpu_affinity");
        })
        .join()
        .unwrap();
    }
}
