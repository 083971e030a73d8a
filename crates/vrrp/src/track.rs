//! Tracker arithmetic: effective priority and weight-0 faults (keepalived's semantics).

use crate::config::{TrackConfig, TrackKind};
use crate::event::TrackStatus;

/// The highest priority trackers can give a non-owner.
pub const MAX_TRACKED_PRIORITY: i64 = 254;
/// A weighted file result below this puts the instance in FAULT.
pub const FILE_FAULT_BELOW: i64 = -253;

/// The status a tracker has before anyone reported it: interfaces are up, files read 0,
/// the others are unknown.
pub fn default_status(kind: TrackKind) -> TrackStatus {
    match kind {
        TrackKind::Interface => TrackStatus::Up,
        TrackKind::File => TrackStatus::Value(0),
        _ => TrackStatus::Unknown,
    }
}

/// The combined effect of an instance's trackers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effect {
    /// Sum of the weights that apply.
    pub delta: i64,
    /// A weight-0 tracker (or a file below -253) says FAULT.
    pub fault: bool,
}

/// Evaluate one tracker. `unknown_ok`: treat an unknown weight-0 tracker as up (an
/// instance resumed after a respawn keeps its state until the first real result).
pub fn effect_of(t: &TrackConfig, status: TrackStatus, unknown_ok: bool) -> Effect {
    let w = i64::from(t.weight);
    if t.kind == TrackKind::File {
        let v = match status {
            TrackStatus::Value(v) => v,
            TrackStatus::Up | TrackStatus::Unknown => 0,
            TrackStatus::Down => 1,
        };
        if w == 0 {
            let fault = if t.reverse { v == 0 } else { v != 0 };
            return Effect { delta: 0, fault };
        }
        let c = v
            .saturating_mul(w)
            .saturating_mul(if t.reverse { -1 } else { 1 });
        return Effect {
            delta: c,
            fault: c < FILE_FAULT_BELOW,
        };
    }
    let up = match status {
        TrackStatus::Up => Some(true),
        TrackStatus::Down => Some(false),
        TrackStatus::Value(v) => Some(v == 0),
        TrackStatus::Unknown => None,
    }
    .map(|u| u != t.reverse);
    match (w, up) {
        (0, Some(up)) => Effect {
            delta: 0,
            fault: !up,
        },
        (0, None) => Effect {
            delta: 0,
            fault: !unknown_ok,
        },
        (w, Some(true)) if w > 0 => Effect {
            delta: w,
            fault: false,
        },
        (w, Some(false)) if w < 0 => Effect {
            delta: w,
            fault: false,
        },
        _ => Effect::default(),
    }
}

/// Effective priority: the owner (255) is never changed; others are clamped to 1..=254.
pub fn effective_priority(base: u8, delta: i64) -> u8 {
    if base == 255 {
        return 255;
    }
    let p = i64::from(base)
        .saturating_add(delta)
        .clamp(1, MAX_TRACKED_PRIORITY);
    u8::try_from(p).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(kind: TrackKind, weight: i32, reverse: bool) -> TrackConfig {
        TrackConfig {
            kind,
            name: "x".into(),
            weight,
            reverse,
        }
    }

    #[test]
    fn script_weights() {
        let s = |w, r| t(TrackKind::Script, w, r);
        assert_eq!(effect_of(&s(10, false), TrackStatus::Up, false).delta, 10);
        assert_eq!(effect_of(&s(10, false), TrackStatus::Down, false).delta, 0);
        assert_eq!(
            effect_of(&s(-10, false), TrackStatus::Down, false).delta,
            -10
        );
        assert_eq!(effect_of(&s(-10, false), TrackStatus::Up, false).delta, 0);
        assert_eq!(effect_of(&s(10, true), TrackStatus::Down, false).delta, 10);
        assert!(effect_of(&s(0, false), TrackStatus::Down, false).fault);
        assert!(!effect_of(&s(0, false), TrackStatus::Up, false).fault);
        assert!(effect_of(&s(0, true), TrackStatus::Up, false).fault);
        assert!(effect_of(&s(0, false), TrackStatus::Unknown, false).fault);
        assert!(!effect_of(&s(0, false), TrackStatus::Unknown, true).fault);
        assert_eq!(
            effect_of(&s(10, false), TrackStatus::Unknown, false),
            Effect::default()
        );
    }

    #[test]
    fn file_weights() {
        let f = |w, r| t(TrackKind::File, w, r);
        assert_eq!(
            effect_of(&f(2, false), TrackStatus::Value(5), false).delta,
            10
        );
        assert_eq!(
            effect_of(&f(2, true), TrackStatus::Value(5), false).delta,
            -10
        );
        assert!(effect_of(&f(1, false), TrackStatus::Value(-254), false).fault);
        assert!(!effect_of(&f(1, false), TrackStatus::Value(-253), false).fault);
        assert!(effect_of(&f(0, false), TrackStatus::Value(3), false).fault);
        assert!(!effect_of(&f(0, false), TrackStatus::Value(0), false).fault);
        assert!(effect_of(&f(0, true), TrackStatus::Value(0), false).fault);
        assert!(
            !effect_of(&f(1, false), TrackStatus::Value(i64::MIN), false)
                .delta
                .is_positive()
        );
    }

    #[test]
    fn clamping() {
        assert_eq!(effective_priority(255, -100), 255);
        assert_eq!(effective_priority(200, 100), 254);
        assert_eq!(effective_priority(10, -100), 1);
        assert_eq!(effective_priority(100, i64::MAX), 254);
        assert_eq!(effective_priority(100, 0), 100);
    }
}
