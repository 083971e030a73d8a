//! keepalived's respawn throttle: a child that ran for at least a minute is restarted at
//! once; a child that keeps dying is restarted after 0, 1, 2, 4, 8, 16, 32, 60, 60... s.

use std::time::Duration;

/// A child that ran this long is considered healthy: restart at once and reset.
pub const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// The longest delay.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// Per-child restart throttle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Throttle {
    /// Quick deaths in a row.
    quick_deaths: u32,
}

impl Throttle {
    /// A fresh throttle.
    pub fn new() -> Throttle {
        Throttle::default()
    }

    /// The child died after running `ran`: how long to wait before restarting it.
    pub fn next_delay(&mut self, ran: Duration) -> Duration {
        if ran >= HEALTHY_RUN {
            self.quick_deaths = 0;
            return Duration::ZERO;
        }
        let n = self.quick_deaths;
        self.quick_deaths = self.quick_deaths.saturating_add(1);
        if n == 0 {
            return Duration::ZERO;
        }
        // 1, 2, 4, ... capped at 60 s.
        let secs = 1u64.checked_shl(n - 1).unwrap_or(u64::MAX);
        Duration::from_secs(secs).min(MAX_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_sequence() {
        let mut t = Throttle::new();
        let quick = Duration::from_millis(10);
        let got: Vec<u64> = (0..11).map(|_| t.next_delay(quick).as_secs()).collect();
        assert_eq!(got, [0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        // Far more deaths never overflow.
        for _ in 0..200 {
            assert_eq!(t.next_delay(quick), MAX_DELAY);
        }
    }

    #[test]
    fn a_long_run_resets() {
        let mut t = Throttle::new();
        let quick = Duration::from_millis(10);
        t.next_delay(quick);
        t.next_delay(quick);
        assert_eq!(t.next_delay(quick), Duration::from_secs(2));
        assert_eq!(t.next_delay(Duration::from_secs(60)), Duration::ZERO);
        assert_eq!(t.next_delay(quick), Duration::ZERO);
        assert_eq!(t.next_delay(quick), Duration::from_secs(1));
    }
}
