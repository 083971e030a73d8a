//! keepalived's respawn throttle: a child that ran for at least a minute is restarted at
//! once; a child that keeps dying is restarted after 0, 1, 2, 4, 8, 16, 32, 60, 60... s.
//!
//! One departure, for the restart without outage (issue 5, point 6): a VRRP child that
//! died while MASTER with its addresses installed left those addresses in place, and the
//! backups only wait a master-down interval (~3 x advert_int) before taking over. Any
//! delay there means the VIP on two hosts. So while the dead child held MASTER, it is
//! restarted at once, up to [`HOLD_BUDGET`] quick deaths in a row; after that (a crash
//! loop) keepalived's schedule applies again.

use std::time::Duration;

/// A child that ran this long is considered healthy: restart at once and reset.
pub const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// The longest delay.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// Quick deaths in a row that are restarted at once while the child held MASTER.
pub const HOLD_BUDGET: u32 = 50;

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
        self.next_delay_holding(ran, false)
    }

    /// As [`Throttle::next_delay`], for a child that may have held MASTER instances with
    /// their addresses installed (`holding`): restarted at once within [`HOLD_BUDGET`].
    pub fn next_delay_holding(&mut self, ran: Duration, holding: bool) -> Duration {
        if ran >= HEALTHY_RUN {
            self.quick_deaths = 0;
            return Duration::ZERO;
        }
        let n = self.quick_deaths;
        self.quick_deaths = self.quick_deaths.saturating_add(1);
        if n == 0 || (holding && n < HOLD_BUDGET) {
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
    fn holding_master_restarts_at_once_within_the_budget() {
        let mut t = Throttle::new();
        let quick = Duration::from_millis(10);
        for _ in 0..HOLD_BUDGET {
            assert_eq!(t.next_delay_holding(quick, true), Duration::ZERO);
        }
        // A crash loop: keepalived's schedule again (well past 60 s worth of doubling).
        assert_eq!(t.next_delay_holding(quick, true), MAX_DELAY);
        assert_eq!(t.next_delay(Duration::from_secs(61)), Duration::ZERO);
        assert_eq!(t.next_delay_holding(quick, true), Duration::ZERO);
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
