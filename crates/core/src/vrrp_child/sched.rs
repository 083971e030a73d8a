//! `vrrp_priority`, `vrrp_rt_priority`, `vrrp_rlimit_rttime`, `vrrp_no_swap` and
//! `vrrp_cpu_affinity`: how the VRRP child is scheduled. With a real-time priority the
//! child runs SCHED_RR with SCHED_RESET_ON_FORK (scripts it forks run normally) and
//! RLIMIT_RTTIME (keepalived's default 10 ms of CPU without blocking) as a safety net.
//!
//! One departure from keepalived: when neither `vrrp_priority` nor `vrrp_rt_priority` is
//! configured, the VRRP child takes the lowest real-time priority (SCHED_RR 1, reset on
//! fork). Measured on a loaded 2-core machine (load ~16), the timers of a normally
//! scheduled child fired 5-70 ms late; at SCHED_RR none was more than 2 ms late. The
//! child sleeps in `epoll_wait` nearly all the time, and the kernel's RT throttling
//! still leaves other tasks their share. Set `vrrp_priority 0` for keepalived's behaviour.

use ka_proto::config::global::ProcessSched;

/// keepalived's default `*_rlimit_rttime` in µs.
pub const DEFAULT_RTTIME_US: u64 = 10_000;

/// The scheduling the VRRP child runs with: `s`, or SCHED_RR 1 when `s` sets no priority.
pub fn effective(s: &ProcessSched) -> ProcessSched {
    let mut e = s.clone();
    if e.priority.is_none() && e.rt_priority.is_none() {
        e.rt_priority = Some(1);
    }
    e
}

/// Apply `s` to the calling process; returns what could not be applied.
pub fn apply(s: &ProcessSched) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(nice) = s.priority {
        // SAFETY: setpriority(2) on our own process; no memory involved.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
        if rc != 0 {
            errors.push(format!(
                "vrrp_priority {nice}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    if let Some(prio) = s.rt_priority {
        let rttime = s.rlimit_rttime.unwrap_or(DEFAULT_RTTIME_US);
        let lim = libc::rlimit {
            rlim_cur: rttime,
            rlim_max: rttime.saturating_add(rttime / 10 + 1000),
        };
        // SAFETY: setrlimit(2) with a valid rlimit value we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_RTTIME, &lim) } != 0 {
            errors.push(format!(
                "vrrp_rlimit_rttime {rttime}: {}",
                std::io::Error::last_os_error()
            ));
        }
        let param = libc::sched_param {
            sched_priority: i32::try_from(prio.clamp(1, 99)).unwrap_or(1),
        };
        // SAFETY: sched_setscheduler(2) on our own process with a valid sched_param.
        let rc = unsafe {
            libc::sched_setscheduler(0, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, &param)
        };
        if rc != 0 {
            errors.push(format!(
                "vrrp_rt_priority {prio}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    if s.no_swap {
        // SAFETY: mlockall(2) takes flags only.
        if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } != 0 {
            errors.push(format!("vrrp_no_swap: {}", std::io::Error::last_os_error()));
        }
    }
    if !s.cpu_affinity.is_empty() {
        let mut set = nix::sched::CpuSet::new();
        for cpu in &s.cpu_affinity {
            if let Ok(c) = usize::try_from(*cpu) {
                if let Err(e) = set.set(c) {
                    errors.push(format!("vrrp_cpu_affinity {cpu}: {e}"));
                }
            }
        }
        if let Err(e) = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set) {
            errors.push(format!("vrrp_cpu_affinity: {e}"));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

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
