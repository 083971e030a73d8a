//! The last state the VRRP child reported for each instance, as the parent keeps it (for
//! a respawned child to resume, for the release path, for the parent's data dump).
//!
//! One entry per instance for the daemon's lifetime, so it is kept small: the name once
//! (the key, not again in the value) and the interface names shared between the
//! instances on one link. Stored as [`InstanceSnapshot`]s it cost ~220 bytes per
//! instance (three strings and a wide value); this is ~90.

use ka_proto::ipc::{InstanceSnapshot, VrrpState};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What is kept of one snapshot besides its name.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    interface: Option<Arc<str>>,
    vrid: u8,
    ipv6: bool,
    state: VrrpState,
    priority: u8,
    base_priority: u8,
    addresses_installed: bool,
    /// The last change of state: when (seconds since the epoch) and from what.
    changed: Option<(f64, Option<VrrpState>)>,
    /// How many times it entered each state (index: [`slot`]).
    entered: [u32; 5],
}

/// The index of a state in [`Held::entered`].
fn slot(s: VrrpState) -> usize {
    match s {
        VrrpState::Init => 0,
        VrrpState::Backup => 1,
        VrrpState::Master => 2,
        VrrpState::Fault => 3,
        VrrpState::Stop => 4,
    }
}

const STATES: [VrrpState; 5] = [
    VrrpState::Init,
    VrrpState::Backup,
    VrrpState::Master,
    VrrpState::Fault,
    VrrpState::Stop,
];

/// What the parent saw of an instance's changes of state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The last change: when (seconds since the epoch) and from what.
    pub changed: Option<(f64, Option<VrrpState>)>,
    /// How many times each state was entered.
    pub entered: Vec<(VrrpState, u32)>,
}

/// Instance name -> last reported state.
#[derive(Debug, Default)]
pub struct States {
    by_name: BTreeMap<Box<str>, Held>,
    /// Interface names in use, shared by the entries.
    ifaces: BTreeSet<Arc<str>>,
}

impl States {
    /// Record `s` (replacing what was known of that instance). When its state changed
    /// (or it is new), at `now` (seconds since the epoch): the state it had before.
    pub fn insert(&mut self, s: InstanceSnapshot, now: f64) -> Option<Option<VrrpState>> {
        let old = self.by_name.get(s.name.as_str());
        let before = old.map(|h| h.state);
        let (mut changed, mut entered) = old.map_or((None, [0; 5]), |h| (h.changed, h.entered));
        let moved = before != Some(s.state);
        if moved {
            changed = Some((now, before));
            entered[slot(s.state)] += 1;
        }
        let interface = s.interface.map(|i| self.intern(i));
        let held = Held {
            interface,
            vrid: s.vrid,
            ipv6: s.ipv6,
            state: s.state,
            priority: s.priority,
            base_priority: s.base_priority,
            addresses_installed: s.addresses_installed,
            changed,
            entered,
        };
        self.by_name.insert(s.name.into_boxed_str(), held);
        moved.then_some(before)
    }

    /// What was seen of `name`'s changes of state.
    pub fn history(&self, name: &str) -> History {
        self.by_name
            .get(name)
            .map(|h| History {
                changed: h.changed,
                entered: STATES
                    .iter()
                    .zip(h.entered)
                    .filter(|(_, n)| *n > 0)
                    .map(|(s, n)| (*s, n))
                    .collect(),
            })
            .unwrap_or_default()
    }

    fn intern(&mut self, name: String) -> Arc<str> {
        if let Some(a) = self.ifaces.get(name.as_str()) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(name);
        self.ifaces.insert(a.clone());
        a
    }

    /// The last state reported for `name`.
    pub fn state_of(&self, name: &str) -> Option<VrrpState> {
        self.by_name.get(name).map(|h| h.state)
    }

    /// No instance known.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Every snapshot, in name order.
    pub fn all(&self) -> Vec<InstanceSnapshot> {
        self.by_name.iter().map(|(n, h)| snapshot(n, h)).collect()
    }

    /// The snapshots of the instances reported MASTER with their addresses installed.
    pub fn holding(&self) -> Vec<InstanceSnapshot> {
        self.by_name
            .iter()
            .filter(|(_, h)| h.state == VrrpState::Master && h.addresses_installed)
            .map(|(n, h)| snapshot(n, h))
            .collect()
    }

    /// The state of every instance, as keepalived names it ("MASTER").
    pub fn state_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_name.values().map(|h| h.state.as_str())
    }

    /// Is any instance MASTER with its addresses installed?
    pub fn any_holding(&self) -> bool {
        self.by_name
            .values()
            .any(|h| h.state == VrrpState::Master && h.addresses_installed)
    }

    /// Forget `name`.
    pub fn remove(&mut self, name: &str) {
        self.by_name.remove(name);
        self.forget_unused_ifaces();
    }

    /// Keep only the instances `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.by_name.retain(|n, _| keep(n));
        self.forget_unused_ifaces();
    }

    fn forget_unused_ifaces(&mut self) {
        // An interface name is referenced by the set and by each entry on it.
        self.ifaces.retain(|a| Arc::strong_count(a) > 1);
    }
}

fn snapshot(name: &str, h: &Held) -> InstanceSnapshot {
    InstanceSnapshot {
        name: name.to_string(),
        vrid: h.vrid,
        interface: h.interface.as_deref().map(str::to_string),
        ipv6: h.ipv6,
        state: h.state,
        priority: h.priority,
        base_priority: h.base_priority,
        addresses_installed: h.addresses_installed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(
        name: &str,
        iface: Option<&str>,
        state: VrrpState,
        installed: bool,
    ) -> InstanceSnapshot {
        InstanceSnapshot {
            name: name.into(),
            vrid: 7,
            interface: iface.map(str::to_string),
            ipv6: false,
            state,
            priority: 120,
            base_priority: 100,
            addresses_installed: installed,
        }
    }

    #[test]
    fn each_change_of_state_is_dated_and_counted_and_a_repeat_is_none() {
        let mut s = States::default();
        let b = snap("VI_a", Some("eth0"), VrrpState::Backup, false);
        let m = snap("VI_a", Some("eth0"), VrrpState::Master, true);
        assert_eq!(s.insert(b.clone(), 1.0), Some(None));
        assert_eq!(s.insert(b.clone(), 2.0), None);
        assert_eq!(s.insert(m, 3.0), Some(Some(VrrpState::Backup)));
        assert_eq!(s.insert(b, 4.0), Some(Some(VrrpState::Master)));
        let h = s.history("VI_a");
        assert_eq!(h.changed, Some((4.0, Some(VrrpState::Master))));
        assert_eq!(
            h.entered,
            vec![(VrrpState::Backup, 2), (VrrpState::Master, 1)]
        );
        assert_eq!(s.history("nope"), History::default());
    }

    #[test]
    fn keeps_the_snapshots_as_reported() {
        let mut s = States::default();
        assert!(s.is_empty());
        let a = snap("VI_a", Some("eth0"), VrrpState::Master, true);
        let b = snap("VI_b", Some("eth0"), VrrpState::Backup, false);
        let c = snap("VI_c", None, VrrpState::Master, false);
        for x in [&b, &a, &c] {
            s.insert(x.clone(), 0.0);
        }
        assert_eq!(s.all(), vec![a.clone(), b.clone(), c.clone()]);
        assert_eq!(s.holding(), vec![a.clone()]);
        assert!(s.any_holding());
        // The two instances on eth0 share its name.
        assert_eq!(s.ifaces.len(), 1);
        let b2 = snap("VI_b", Some("eth1"), VrrpState::Fault, false);
        s.insert(b2.clone(), 0.0);
        assert_eq!(s.all(), vec![a.clone(), b2.clone(), c.clone()]);
        s.remove("VI_a");
        assert!(!s.any_holding());
        s.retain(|n| n != "VI_c");
        assert_eq!(s.all(), vec![b2]);
        assert_eq!(s.ifaces.len(), 1, "eth0 is no longer used");
        s.remove("VI_b");
        assert!(s.is_empty() && s.ifaces.is_empty());
    }
}
