//! The fewest IPVS changes that take the kernel from `current` to `desired`.

use super::table::{same_dest, same_service, Table};
use ipvs_sys::Op;
use std::collections::BTreeSet;

/// Changes that turn `current` into `desired` for the services in `desired`, and delete
/// the services in `retired` (ours before, not wanted now) that the kernel still has.
/// Services in neither are not ours and are left alone. Unchanged services and
/// destinations get no operation, so their connections are untouched.
///
/// Order: retired services are deleted first; then per service: add or edit it, delete
/// unwanted destinations, edit changed ones, add new ones.
pub fn diff(desired: &Table, current: &Table, retired: &BTreeSet<ipvs_sys::ServiceKey>) -> Vec<Op> {
    let mut ops = Vec::new();
    for key in retired {
        if !desired.services.contains_key(key) && current.services.contains_key(key) {
            ops.push(Op::DelService(*key));
        }
    }
    for (key, want) in &desired.services {
        match current.services.get(key) {
            None => {
                ops.push(Op::AddService(want.service.clone()));
                for d in want.dests.values() {
                    ops.push(Op::AddDest(*key, d.clone()));
                }
            }
            Some(have) => {
                if !same_service(&want.service, &have.service) {
                    ops.push(Op::EditService(want.service.clone()));
                }
                for dk in have.dests.keys() {
                    if !want.dests.contains_key(dk) {
                        ops.push(Op::DelDest(*key, *dk));
                    }
                }
                for (dk, d) in &want.dests {
                    match have.dests.get(dk) {
                        Some(h) if same_dest(d, h) => {}
                        Some(_) => ops.push(Op::EditDest(*key, d.clone())),
                        None => ops.push(Op::AddDest(*key, d.clone())),
                    }
                }
            }
        }
    }
    ops
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ipvs_sys::{Destination, ForwardMethod, Protocol, Service, ServiceKey};
    use proptest::prelude::*;

    fn key(i: u8) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: std::net::IpAddr::from([10, 0, 0, i]),
            port: 80,
        }
    }

    fn table(spec: &[(u8, &[(u8, u32)])]) -> Table {
        let mut t = Table::default();
        for (s, ds) in spec {
            let e = t.insert_service(Service::new(key(*s)));
            for (d, w) in *ds {
                let mut dd = Destination::new(
                    std::net::IpAddr::from([192, 168, 0, *d]),
                    80,
                    ForwardMethod::Masq,
                );
                dd.weight = *w;
                e.dests.insert(dd.key(), dd);
            }
        }
        t
    }

    /// Apply ops to a table the way the kernel would.
    fn apply(t: &mut Table, ops: &[Op]) {
        for op in ops {
            match op {
                Op::AddService(s) => {
                    assert!(!t.services.contains_key(&s.key), "EEXIST");
                    t.insert_service(s.clone());
                }
                Op::EditService(s) => t.services.get_mut(&s.key).unwrap().service = s.clone(),
                Op::DelService(k) => {
                    t.services.remove(k).unwrap();
                }
                Op::AddDest(k, d) => {
                    let e = t.services.get_mut(k).unwrap();
                    assert!(e.dests.insert(d.key(), d.clone()).is_none(), "EEXIST");
                }
                Op::EditDest(k, d) => {
                    let e = t.services.get_mut(k).unwrap();
                    assert!(e.dests.insert(d.key(), d.clone()).is_some(), "ENOENT");
                }
                Op::DelDest(k, d) => {
                    t.services.get_mut(k).unwrap().dests.remove(d).unwrap();
                }
            }
        }
    }

    #[test]
    fn changing_one_weight_is_one_edit() {
        let old = table(&[(1, &[(1, 1), (2, 1)]), (2, &[(3, 1)])]);
        let new = table(&[(1, &[(1, 1), (2, 5)]), (2, &[(3, 1)])]);
        let ops = diff(&new, &old, &BTreeSet::new());
        assert_eq!(ops.len(), 1);
        assert!(matches!(&ops[0], Op::EditDest(k, d) if *k == key(1) && d.weight == 5));
    }

    #[test]
    fn identical_tables_need_nothing() {
        let t = table(&[(1, &[(1, 1)])]);
        assert!(diff(&t, &t, &BTreeSet::new()).is_empty());
    }

    #[test]
    fn foreign_services_are_left_alone_and_retired_ones_deleted() {
        let current = table(&[(1, &[(1, 1)]), (9, &[(9, 1)]), (5, &[])]);
        let desired = table(&[(1, &[(1, 1)])]);
        let ops = diff(&desired, &current, &[key(5)].into_iter().collect());
        assert_eq!(ops, vec![Op::DelService(key(5))]);
    }

    fn arb_table() -> impl Strategy<Value = Table> {
        proptest::collection::btree_map(
            0u8..6,
            proptest::collection::btree_map(0u8..6, 0u32..4, 0..5),
            0..5,
        )
        .prop_map(|m| {
            let spec: Vec<(u8, Vec<(u8, u32)>)> = m
                .into_iter()
                .map(|(s, ds)| (s, ds.into_iter().collect()))
                .collect();
            let refs: Vec<(u8, &[(u8, u32)])> =
                spec.iter().map(|(s, d)| (*s, d.as_slice())).collect();
            table(&refs)
        })
    }

    proptest! {
        #[test]
        fn applying_the_diff_reaches_the_desired_table(desired in arb_table(), current in arb_table()) {
            let retired: BTreeSet<_> = current.services.keys().copied().collect();
            let ops = diff(&desired, &current, &retired);
            let mut t = current.clone();
            apply(&mut t, &ops);
            prop_assert_eq!(&t, &desired);
            // and a second diff is empty
            prop_assert!(diff(&desired, &t, &retired).is_empty());
        }
    }
}
