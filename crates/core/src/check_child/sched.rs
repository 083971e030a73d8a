//! `checker_priority`, `checker_rt_priority`, `checker_rlimit_rttime`, `checker_no_swap`
//! and `checker_cpu_affinity`, applied when the config arrives by the one module both
//! children use ([`vrrp::linux::sched`]): SCHED_RR at once, keepalived's hard limit.

use ka_proto::config::global::ProcessSched;
use vrrp::linux::sched::{self as shared, RealTime, SchedError, Start, DEFAULT_RTTIME_US};

/// Apply `s` to the calling thread (the checker child's only thread; `checker_no_swap`
/// locks the whole process). Returns what could not be applied.
pub fn apply(s: &ProcessSched) -> Vec<SchedError> {
    let rttime = s.rlimit_rttime.unwrap_or(DEFAULT_RTTIME_US);
    shared::apply(&shared::Settings {
        prefix: "checker",
        nice: s.priority,
        real_time: s.rt_priority.map(|priority| RealTime {
            priority,
            rttime_us: rttime,
            hard_us: shared::keepalived_rttime_hard(rttime),
            start: Start::Now,
        }),
        no_swap: s.no_swap,
        cpu_affinity: &s.cpu_affinity,
    })
}
