//! What the checks measured, per checker kind (`TCP_CHECK`, `HTTP_GET`, ...): attempts,
//! failed attempts, and a histogram of how long attempts took, for the
//! `keepalived_check_duration_seconds` metric. Counted by the
//! [`crate::scheduler::Scheduler`] where each attempt ends.

use std::collections::BTreeMap;
use std::time::Duration;

/// The histogram's upper bounds, seconds (the last bucket, `+Inf`, is the count).
pub const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The attempts of one checker kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindStats {
    /// Attempts that ended (passed or failed).
    pub total: u64,
    /// Of those, failed.
    pub failed: u64,
    /// Their durations summed, seconds.
    pub sum_seconds: f64,
    /// Attempts per bucket of [`BUCKETS`] (not cumulative): `le[i]` counts those that took
    /// more than `BUCKETS[i-1]` and at most `BUCKETS[i]`; longer ones are only in `total`.
    pub le: [u64; BUCKETS.len()],
}

impl KindStats {
    /// One attempt that took `took` and passed (`ok`) or failed.
    pub fn record(&mut self, took: Duration, ok: bool) {
        self.total += 1;
        if !ok {
            self.failed += 1;
        }
        let s = took.as_secs_f64();
        self.sum_seconds += s;
        if let Some(i) = BUCKETS.iter().position(|b| s <= *b) {
            self.le[i] += 1;
        }
    }

    /// The cumulative counts Prometheus wants, one per bucket of [`BUCKETS`].
    pub fn cumulative(&self) -> [u64; BUCKETS.len()] {
        let mut out = [0; BUCKETS.len()];
        let mut acc = 0;
        for (o, n) in out.iter_mut().zip(self.le) {
            acc += n;
            *o = acc;
        }
        out
    }
}

/// Per checker kind (`TCP_CHECK`, ...).
pub type Stats = BTreeMap<&'static str, KindStats>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_fall_in_the_bucket_of_their_duration_and_counts_are_cumulative() {
        let mut k = KindStats::default();
        k.record(Duration::from_micros(500), true); // <= 1 ms
        k.record(Duration::from_millis(1), true); // <= 1 ms (the bound is inclusive)
        k.record(Duration::from_millis(30), false); // <= 50 ms
        k.record(Duration::from_secs(20), false); // past the last bound: +Inf only
        assert_eq!((k.total, k.failed), (4, 2));
        assert!((k.sum_seconds - 20.0315).abs() < 1e-9, "{}", k.sum_seconds);
        let c = k.cumulative();
        assert_eq!(c[0], 2);
        assert_eq!(c[4], 2, "<= 25 ms");
        assert_eq!(c[5], 3, "<= 50 ms");
        assert_eq!(c[BUCKETS.len() - 1], 3, "<= 10 s: not the 20 s one");
    }
}
