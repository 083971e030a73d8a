//! Log lines that can come by the thousand a second (receive errors, lower-priority
//! adverts, slow turns) are let through a few a second per instance and reason, with a
//! count of those held back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Lines a second per instance and reason before the rest are counted, not logged.
const LOG_PER_SEC: u32 = 3;

/// ", N similar messages suppressed" when `n` > 0.
pub(super) fn suppressed(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} similar messages suppressed)")
    }
}

#[derive(Debug)]
struct Bucket {
    window: Instant,
    shown: u32,
    suppressed: u64,
}

/// Rate limit for repetitive log lines, per (instance, reason): `LOG_PER_SEC` lines a
/// second, then a count of what was left out (given with the next line logged, or by
/// [`RateLog::flush`] once the second is over).
#[derive(Debug, Default)]
pub(super) struct RateLog {
    per: HashMap<String, HashMap<&'static str, Bucket>>,
    /// Flushes look at the buckets at most every 250 ms.
    next_flush: Option<Instant>,
}

impl RateLog {
    /// Some(number suppressed since the last line) when a line may be logged now.
    pub(super) fn allow(&mut self, inst: &str, reason: &'static str, now: Instant) -> Option<u64> {
        if !self.per.contains_key(inst) {
            self.per.insert(inst.to_string(), HashMap::new());
        }
        let b = self
            .per
            .get_mut(inst)?
            .entry(reason)
            .or_insert_with(|| Bucket {
                window: now,
                shown: 0,
                suppressed: 0,
            });
        if now.saturating_duration_since(b.window) >= Duration::from_secs(1) {
            let n = b.suppressed;
            *b = Bucket {
                window: now,
                shown: 1,
                suppressed: 0,
            };
            return Some(n);
        }
        if b.shown < LOG_PER_SEC {
            b.shown += 1;
            let n = b.suppressed;
            b.suppressed = 0;
            return Some(n);
        }
        b.suppressed += 1;
        None
    }

    /// The counts of lines suppressed in windows that are over (each reported once).
    pub(super) fn flush(&mut self, now: Instant) -> Vec<(String, &'static str, u64)> {
        let mut out = Vec::new();
        if self.next_flush.is_some_and(|t| now < t) {
            return out;
        }
        self.next_flush = Some(now + Duration::from_millis(250));
        for (inst, m) in &mut self.per {
            for (reason, b) in m.iter_mut() {
                if b.suppressed > 0
                    && now.saturating_duration_since(b.window) >= Duration::from_secs(1)
                {
                    out.push((inst.clone(), *reason, b.suppressed));
                    b.suppressed = 0;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_one_reason_gives_a_few_lines_and_a_count() {
        let mut r = RateLog::default();
        let t0 = Instant::now();
        let mut lines = 0;
        for k in 0..10_000u32 {
            let now = t0 + Duration::from_micros(u64::from(k) * 100);
            if r.allow("VI_1", "authentication failure", now).is_some() {
                lines += 1;
            }
            // Another instance and reason have their own allowance.
            if k == 5 {
                assert_eq!(r.allow("VI_2", "authentication failure", now), Some(0));
                assert_eq!(r.allow("VI_1", "invalid TTL/HL", now), Some(0));
            }
        }
        // 10,000 packets over 1 s: LOG_PER_SEC lines, the rest counted.
        assert_eq!(lines, LOG_PER_SEC);
        let later = t0 + Duration::from_millis(1500);
        let f = r.flush(later);
        assert_eq!(
            f,
            vec![("VI_1".to_string(), "authentication failure", 10_000 - 3)]
        );
        assert!(r.flush(later).is_empty(), "reported once");
        let much_later = later + Duration::from_secs(1);
        assert!(r.flush(much_later).is_empty(), "nothing more suppressed");
        assert_eq!(r.allow("VI_1", "authentication failure", later), Some(0));
    }
}
