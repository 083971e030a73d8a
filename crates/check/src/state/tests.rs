//! `Health`'s tests: what check results do to real and virtual servers.

use super::*;

pub(crate) fn script(s: &str) -> Option<Script> {
    Some(Script {
        args: s.split(' ').map(str::to_string).collect(),
        user: None,
        group: None,
    })
}

/// Real server 10.0.0.`i`:80 with `notify_up`/`notify_down` `/up i`/`/down i`.
pub(crate) fn rs(i: usize, checks: &[(usize, bool)], weight: i64) -> RsSpec {
    RsSpec {
        addr: format!("10.0.0.{i}:80").parse().unwrap(),
        name: format!("[10.0.0.{i}]:tcp:80"),
        weight,
        inhibit_on_failure: false,
        notify_up: script(&format!("/up {i}")),
        notify_down: script(&format!("/down {i}")),
        checks: checks
            .iter()
            .map(|&(id, alpha)| RsCheck {
                id: CheckId(id),
                alpha,
                weight: WeightRole::None,
            })
            .collect(),
    }
}

/// Virtual server `[10.0.0.100]:tcp:80`, quorum 1, `quorum_up`/`quorum_down`.
pub(crate) fn vs(rss: Vec<RsSpec>) -> VsSpec {
    VsSpec {
        name: "[10.0.0.100]:tcp:80".into(),
        quorum: 1,
        hysteresis: 0,
        quorum_up: script("/qup"),
        quorum_down: script("/qdown"),
        sorry_server: None,
        sorry_server_inhibit: false,
        ha_suspend: false,
        omega: false,
        real_servers: rss,
    }
}

/// Real server `rs` of the first virtual server in the table at `weight`.
fn rs_set(rs: usize, weight: u32) -> Action {
    Action::Ipvs(Change::RsSet { vs: 0, rs, weight })
}

fn rep(id: usize, up: bool) -> Report {
    Report {
        check: CheckId(id),
        up,
        weight: None,
        failure: (!up).then_some(Failure::Timeout("connecting")),
    }
}

#[test]
fn start_puts_live_servers_in_and_alpha_ones_out() {
    let (h, acts) = Health::new(vec![vs(vec![
        rs(1, &[(0, false)], 3),
        rs(2, &[(1, true)], 1),
    ])]);
    assert_eq!(
        acts,
        vec![
            rs_set(0, 3),
            Action::Ipvs(Change::RsRemove { vs: 0, rs: 1 }),
        ]
    );
    assert!(h.is_up(0, 0) && !h.is_up(0, 1));
}

#[test]
fn all_checkers_must_pass() {
    let (mut h, _) = Health::new(vec![vs(vec![
        rs(1, &[(0, false), (1, false)], 1),
        rs(2, &[], 1),
    ])]);
    let a = h.on_report(&rep(0, false));
    assert_eq!(
        a,
        vec![
            Action::Fifo("RS [10.0.0.1]:tcp:80 [10.0.0.100]:tcp:80 DOWN".into()),
            Action::Script(script("/down 1").unwrap()),
            Action::Ipvs(Change::RsRemove { vs: 0, rs: 0 }),
        ]
    );
    assert!(h.on_report(&rep(1, false)).is_empty());
    assert!(
        h.on_report(&rep(0, true)).is_empty(),
        "one checker still down"
    );
    let a = h.on_report(&rep(1, true));
    assert_eq!(
        a[0],
        Action::Fifo("RS [10.0.0.1]:tcp:80 [10.0.0.100]:tcp:80 UP".into())
    );
    assert_eq!(a[1], Action::Script(script("/up 1").unwrap()));
    assert_eq!(a[2], rs_set(0, 1));
}

#[test]
fn inhibit_on_failure_sets_weight_zero() {
    let mut r = rs(1, &[(0, false)], 5);
    r.inhibit_on_failure = true;
    let mut v = vs(vec![r, rs(2, &[], 1)]);
    v.quorum_down = None;
    let (mut h, _) = Health::new(vec![v]);
    let a = h.on_report(&rep(0, false));
    assert!(a.contains(&rs_set(0, 0)));
    let a = h.on_report(&rep(0, true));
    assert!(a.contains(&rs_set(0, 5)));
}

#[test]
fn a_disabled_real_server_stays_at_weight_zero_until_enabled() {
    let (mut h, _) = Health::new(vec![vs(vec![
        rs(1, &[(0, false)], 5),
        rs(2, &[(1, false)], 1),
    ])]);
    assert_eq!(
        h.find("[10.0.0.100]:tcp:80", "[10.0.0.2]:tcp:80"),
        Some((0, 1))
    );
    assert_eq!(h.find("[10.0.0.100]:tcp:80", "[10.0.0.9]:tcp:80"), None);
    assert!(h.set_drained(0, 9, true).is_none(), "no such server");
    let a = h.set_drained(0, 0, true).unwrap();
    assert_eq!(a, vec![rs_set(0, 0)]);
    assert!(h.drained(0, 0) && h.is_up(0, 0), "its checks still pass");
    assert_eq!((h.weight(0, 0), h.live_weight(0)), (0, 1));
    assert!(h.dump()[0].real_servers[0].drained);
    assert!(h.set_drained(0, 0, true).unwrap().is_empty(), "already");
    // It fails and comes back while disabled: still weight 0.
    h.on_report(&rep(0, false));
    let a = h.on_report(&rep(0, true));
    assert!(a.contains(&rs_set(0, 0)));
    // Enabled: its weight is back.
    let a = h.set_drained(0, 0, false).unwrap();
    assert_eq!(a, vec![rs_set(0, 5)]);
    assert_eq!(h.live_weight(0), 6);
    // Disabling the last live weight loses quorum, as a failure would.
    h.on_report(&rep(1, false));
    let a = h.set_drained(0, 0, true).unwrap();
    assert!(
        a.contains(&Action::Fifo("VS [10.0.0.100]:tcp:80 DOWN".into())),
        "{a:?}"
    );
    assert!(!h.quorum_up(0));
    let a = h.set_drained(0, 0, false).unwrap();
    assert!(
        a.contains(&Action::Fifo("VS [10.0.0.100]:tcp:80 UP".into())),
        "{a:?}"
    );
}

#[test]
fn quorum_hysteresis_and_sorry_server() {
    let mut v = vs(vec![
        rs(1, &[(0, false)], 1),
        rs(2, &[(1, false)], 1),
        rs(3, &[(2, false)], 1),
    ]);
    v.quorum = 2;
    v.hysteresis = 1;
    v.sorry_server = Some("10.0.0.9:80".parse().unwrap());
    let (mut h, _) = Health::new(vec![v]);
    assert!(h.quorum_up(0));
    // 3 -> 2 -> 1: quorum - hysteresis = 1, so still held at 1.
    h.on_report(&rep(0, false));
    h.on_report(&rep(1, false));
    assert!(h.quorum_up(0));
    // 1 -> 0: lost; sorry server in, the live server out.
    let a = h.on_report(&rep(2, false));
    assert!(!h.quorum_up(0));
    assert!(a.contains(&Action::Fifo("VS [10.0.0.100]:tcp:80 DOWN".into())));
    assert!(a.contains(&Action::Script(script("/qdown").unwrap())));
    assert!(a.contains(&Action::Ipvs(Change::SorrySet { vs: 0, weight: 1 })));
    // Back to 1 and 2: regained only at quorum + hysteresis = 3.
    let a = h.on_report(&rep(0, true));
    assert!(!a.iter().any(|x| matches!(x, Action::Ipvs(_))), "{a:?}");
    h.on_report(&rep(1, true));
    assert!(!h.quorum_up(0));
    let a = h.on_report(&rep(2, true));
    assert!(h.quorum_up(0) && !h.sorry_active(0));
    assert!(a.contains(&Action::Script(script("/qup").unwrap())));
    assert!(a.contains(&Action::Ipvs(Change::SorryRemove { vs: 0 })));
    for r in 0..3 {
        assert!(a.contains(&rs_set(r, 1)));
    }
}

#[test]
fn sorry_server_inhibit_keeps_it_at_zero() {
    let mut v = vs(vec![rs(1, &[(0, false)], 1)]);
    v.sorry_server = Some("10.0.0.9:80".parse().unwrap());
    v.sorry_server_inhibit = true;
    let (mut h, a) = Health::new(vec![v]);
    assert!(a.contains(&Action::Ipvs(Change::SorrySet { vs: 0, weight: 0 })));
    let a = h.on_report(&rep(0, false));
    assert!(a.contains(&Action::Ipvs(Change::SorrySet { vs: 0, weight: 1 })));
    let a = h.on_report(&rep(0, true));
    assert!(a.contains(&Action::Ipvs(Change::SorrySet { vs: 0, weight: 0 })));
}

#[test]
fn dynamic_weights() {
    let mut r = rs(1, &[(0, false), (1, false)], 10);
    r.checks[0].weight = WeightRole::Absolute;
    r.checks[1].weight = WeightRole::Offset;
    let (mut h, _) = Health::new(vec![vs(vec![r])]);
    let a = h.on_report(&Report {
        check: CheckId(0),
        up: true,
        weight: Some(4),
        failure: None,
    });
    assert_eq!(a, vec![rs_set(0, 4)]);
    let a = h.on_report(&Report {
        check: CheckId(1),
        up: true,
        weight: Some(-3),
        failure: None,
    });
    assert_eq!(a, vec![rs_set(0, 1)]);
    assert_eq!(h.dump()[0].real_servers[0].weight, 1);
}

#[test]
fn ha_suspend_and_omega() {
    let mut v = vs(vec![rs(1, &[(0, false), (1, false)], 1)]);
    v.ha_suspend = true;
    v.omega = true;
    let (mut h, _) = Health::new(vec![v]);
    let a = h.set_vip_present(0, false);
    assert_eq!(
        a,
        vec![
            Action::Suspend {
                check: CheckId(0),
                suspended: true
            },
            Action::Suspend {
                check: CheckId(1),
                suspended: true
            },
        ]
    );
    assert!(h.set_vip_present(0, false).is_empty());
    assert_eq!(h.set_vip_present(0, true).len(), 2);
    let s = h.shutdown();
    assert!(s.contains(&Action::Script(script("/down 1").unwrap())));
    assert!(s.contains(&Action::Script(script("/qdown").unwrap())));
}

#[test]
fn quorum_is_lost_at_zero_weight_whatever_the_hysteresis() {
    let mut v = vs(vec![rs(1, &[(0, false)], 1)]);
    v.hysteresis = 1;
    let (mut h, _) = Health::new(vec![v]);
    assert!(h.quorum_up(0));
    let a = h.on_report(&rep(0, false));
    assert!(!h.quorum_up(0), "1-1=0 but nothing is alive");
    assert!(a.contains(&Action::Fifo("VS [10.0.0.100]:tcp:80 DOWN".into())));
    // Regained at quorum + hysteresis = 2 only: one server of weight 1 is not enough.
    h.on_report(&rep(0, true));
    assert!(!h.quorum_up(0));
}

#[test]
fn init_notifies_for_live_real_servers() {
    let (h, _) = Health::new(vec![vs(vec![
        rs(1, &[(0, false)], 1),
        rs(2, &[(1, true)], 1),
        rs(3, &[], 1),
    ])]);
    let a = h.init_notifies(|_, _| true);
    assert_eq!(
        a,
        vec![
            Action::Fifo("RS [10.0.0.1]:tcp:80 [10.0.0.100]:tcp:80 UP".into()),
            Action::Script(script("/up 1").unwrap()),
            Action::Fifo("RS [10.0.0.3]:tcp:80 [10.0.0.100]:tcp:80 UP".into()),
            Action::Script(script("/up 3").unwrap()),
        ],
        "the alpha one starts down: no notify"
    );
    assert_eq!(h.init_notifies(|_, r| r == 2).len(), 2);
}

/// At start (and for the virtual servers a reload adds) keepalived 2.2.7 and 2.4.3 write
/// `VS ... UP` before running `quorum_up`, for each virtual server gaining its quorum.
#[test]
fn quorum_at_start_writes_the_vs_up_line() {
    let (h, _) = Health::new(vec![vs(vec![rs(1, &[(0, false)], 1)])]);
    assert_eq!(
        h.quorum_at_start(|_| true),
        vec![
            Action::Fifo("VS [10.0.0.100]:tcp:80 UP".into()),
            Action::Script(script("/qup").unwrap()),
        ]
    );
    assert!(h.quorum_at_start(|_| false).is_empty());
}

fn named(mut v: VsSpec, name: &str) -> VsSpec {
    v.name = name.into();
    v
}

/// What a reload notifies for what leaves (keepalived 2.2.7 and 2.4.3 in the VM): live
/// real servers that leave go down; quorum is judged on the live ones that stay.
#[test]
fn departures_at_a_reload() {
    let fifo = |s: &str| Action::Fifo(s.into());
    let sc = |s: &str| Action::Script(script(s).unwrap());
    // A: quorum 2 over 1+1, one leaves: RS DOWN, VS DOWN. B: quorum 1 over 1+1 (one
    // already down): nothing for the down one. C: leaves with its live server.
    let mut a = named(
        vs(vec![rs(1, &[(0, false)], 1), rs(2, &[(1, false)], 1)]),
        "A",
    );
    a.quorum = 2;
    let b = named(
        vs(vec![rs(3, &[(2, false)], 1), rs(4, &[(3, true)], 1)]),
        "B",
    );
    let c = named(
        vs(vec![rs(5, &[(4, false)], 1), rs(6, &[(5, true)], 1)]),
        "C",
    );
    let (h, _) = Health::new(vec![a.clone(), b.clone(), c]);
    let mut a2 = a.clone();
    a2.real_servers.remove(1);
    a2.real_servers.push(rs(7, &[(6, false)], 1));
    let mut b2 = b.clone();
    b2.real_servers.remove(1);
    let got = h.departures(&[b2, a2]);
    assert_eq!(
        got,
        vec![
            fifo("RS [10.0.0.2]:tcp:80 A DOWN"),
            sc("/down 2"),
            fifo("VS A DOWN"),
            sc("/qdown"),
            fifo("RS [10.0.0.5]:tcp:80 C DOWN"),
            sc("/down 5"),
            fifo("VS C DOWN"),
            sc("/qdown"),
        ]
    );
    // Quorum 1 (or 2 with hysteresis 1) still held by those that stay: the RS line only.
    a.quorum = 1;
    let (h, _) = Health::new(vec![a.clone()]);
    let mut a2 = a.clone();
    a2.real_servers.remove(0);
    assert_eq!(
        h.departures(&[a2.clone()]),
        vec![fifo("RS [10.0.0.1]:tcp:80 A DOWN"), sc("/down 1")]
    );
    a.quorum = 2;
    a.hysteresis = 1;
    let (h, _) = Health::new(vec![a.clone()]);
    assert_eq!(h.departures(&[a2]).len(), 2);
    // Quorum 3 over 1+1+1, two leave: both RS lines, then the VS line (seen in the VM;
    // judged on the old quorum, though the new config lowers it to 1).
    let mut q = named(
        vs(vec![
            rs(1, &[(0, false)], 1),
            rs(2, &[(1, false)], 1),
            rs(3, &[(2, false)], 1),
        ]),
        "Q",
    );
    q.quorum = 3;
    let (hq, _) = Health::new(vec![q.clone()]);
    q.real_servers.truncate(1);
    q.quorum = 1;
    let lines: Vec<_> = (hq.departures(&[q]).into_iter())
        .filter(|a| matches!(a, Action::Fifo(_)))
        .collect();
    assert_eq!(
        lines,
        vec![
            fifo("RS [10.0.0.2]:tcp:80 Q DOWN"),
            fifo("RS [10.0.0.3]:tcp:80 Q DOWN"),
            fifo("VS Q DOWN"),
        ]
    );
    // Nothing leaves, or a weight changes: nothing.
    let mut a3 = a.clone();
    a3.real_servers[0].weight = 5;
    assert!(h.departures(&[a3]).is_empty());
    // A virtual server without quorum leaves (its only server down): nothing.
    let (h, _) = Health::new(vec![vs(vec![rs(1, &[(0, true)], 1)])]);
    assert!(!h.quorum_up(0));
    assert!(h.departures(&[]).is_empty());
}

proptest::proptest! {
    /// Whatever the sequence of reports, a real server is alive exactly when all its
    /// checkers' last reports were "up", and the quorum flag agrees with hysteresis bounds.
    #[test]
    fn alive_matches_last_reports(seq in proptest::collection::vec((0usize..4, proptest::bool::ANY), 0..60)) {
        let (mut h, _) = Health::new(vec![vs(vec![rs(1, &[(0, false), (1, false)], 1), rs(2, &[(2, false), (3, false)], 1)])]);
        let mut last = [true; 4];
        for (id, up) in seq {
            h.on_report(&rep(id, up));
            last[id] = up;
            proptest::prop_assert_eq!(h.is_up(0, 0), last[0] && last[1]);
            proptest::prop_assert_eq!(h.is_up(0, 1), last[2] && last[3]);
            let w = u64::from(h.is_up(0, 0)) + u64::from(h.is_up(0, 1));
            proptest::prop_assert_eq!(h.quorum_up(0), w >= 1);
        }
    }
}
