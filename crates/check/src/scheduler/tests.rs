//! The scheduler against time, without sockets: per check (timers, retries, limits) and
//! per server through `handle` (quorum, hysteresis, sorry server, inhibit, omega).

use super::*;
use crate::spec::{FileSpec, MiscSpec};

const MS: Duration = Duration::from_millis(1);
const ID: CheckId = CheckId(0);

/// A TCP check: first run at 5 ms, delay_loop 100 ms, connect_timeout 20 ms, retry 2
/// every 30 ms.
fn plan() -> CheckPlan {
    let mut spec = CheckSpec::new(CheckKind::Tcp, "192.0.2.1:80".parse().unwrap());
    spec.timing = Timing {
        delay_loop: 100 * MS,
        connect_timeout: 20 * MS,
        retry: 2,
        delay_before_retry: 30 * MS,
        warmup: Duration::ZERO,
    };
    CheckPlan::of(&spec, 5 * MS)
}

fn fail() -> Step {
    Step::Fail(Failure::Connect("refused".into()))
}

/// The report in `out` (up, weight), if any; anything else is a test failure.
fn report(out: &[Action]) -> Option<(bool, Option<i64>)> {
    match out {
        [Action::Report(r)] => Some((r.up, r.weight)),
        [] => None,
        other => panic!("{other:?}"),
    }
}

/// When check 0 next starts: timers are run as they come due (a wake-up at the limit
/// of an attempt that ended early finds nothing to do) until it does.
fn next_start(s: &mut Scheduler) -> Instant {
    loop {
        let now = s.next_deadline().unwrap();
        let out = s.handle(Input::Timer, now);
        if !out.is_empty() {
            assert_eq!(out, vec![Action::Start(ID)]);
            return now;
        }
    }
}

/// Run check 0's next attempt to the end.
fn attempt(s: &mut Scheduler, step: Step) -> (Instant, Vec<Action>) {
    let now = next_start(s);
    (now, s.handle(Input::Done(ID, step), now))
}

#[test]
fn the_first_attempt_runs_at_first_run_and_the_next_ones_every_delay_loop() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(vec![plan()], t0);
    assert_eq!(s.next_deadline(), Some(t0 + 5 * MS));
    assert!(
        s.handle(Input::Timer, t0 + 4 * MS).is_empty(),
        "not yet due"
    );
    let (t1, out) = attempt(&mut s, Step::Pass(None));
    assert_eq!(t1, t0 + 5 * MS);
    assert_eq!(
        report(&out),
        None,
        "a check that starts up reports no change"
    );
    let (t2, _) = attempt(&mut s, Step::Pass(None));
    assert_eq!(t2, t1 + 100 * MS);
    assert_eq!(s.status(ID).unwrap().passes, 2);
}

#[test]
fn retry_failures_are_retried_delay_before_retry_apart_and_one_more_takes_it_down() {
    let mut s = Scheduler::new(vec![plan()], Instant::now());
    let (t1, out) = attempt(&mut s, fail());
    assert_eq!(report(&out), None);
    assert_eq!(s.status(ID).unwrap().retry_it, 1);
    let (t2, out) = attempt(&mut s, fail());
    assert_eq!((t2, report(&out)), (t1 + 30 * MS, None));
    assert_eq!(s.status(ID).unwrap().retry_it, 2);
    // The third failure in a row (retry 2): down, and back to delay_loop.
    let (t3, out) = attempt(&mut s, fail());
    assert_eq!(t3, t2 + 30 * MS);
    assert_eq!(report(&out), Some((false, None)));
    let st = s.status(ID).unwrap();
    assert!(!st.up);
    assert_eq!((st.retry_it, st.fails), (0, 3));
    // A failed check is not retried: each failure waits delay_loop, and says nothing.
    let (t4, out) = attempt(&mut s, fail());
    assert_eq!((t4, report(&out)), (t3 + 100 * MS, None));
    // One pass brings it back up.
    let (t5, out) = attempt(&mut s, Step::Pass(None));
    assert_eq!((t5, report(&out)), (t4 + 100 * MS, Some((true, None))));
    assert!(s.status(ID).unwrap().up);
}

#[test]
fn a_pass_between_failures_starts_the_retries_again() {
    let mut s = Scheduler::new(vec![plan()], Instant::now());
    attempt(&mut s, fail());
    attempt(&mut s, fail());
    let (_, out) = attempt(&mut s, Step::Pass(None));
    assert_eq!(report(&out), None);
    assert_eq!(s.status(ID).unwrap().retry_it, 0);
    attempt(&mut s, fail());
    let (_, out) = attempt(&mut s, fail());
    assert_eq!(report(&out), None, "two failures of three allowed");
    assert!(s.status(ID).unwrap().up);
}

#[test]
fn alpha_checks_start_down_and_their_first_pass_is_reported() {
    let mut p = plan();
    p.alpha = true;
    let mut s = Scheduler::new(vec![p, plan()], Instant::now());
    assert!(!s.status(CheckId(0)).unwrap().up);
    assert!(s.status(CheckId(1)).unwrap().up);
    // Both first runs are due at once.
    let t = s.next_deadline().unwrap();
    assert_eq!(
        s.handle(Input::Timer, t),
        vec![Action::Start(CheckId(0)), Action::Start(CheckId(1))]
    );
    // Down from the start: a failure is neither retried nor reported ...
    assert_eq!(report(&s.handle(Input::Done(ID, fail()), t)), None);
    assert_eq!(s.status(ID).unwrap().retry_it, 0);
    // ... while the other check, up, retries.
    assert_eq!(report(&s.handle(Input::Done(CheckId(1), fail()), t)), None);
    assert_eq!(s.status(CheckId(1)).unwrap().retry_it, 1);
    let now = t + 100 * MS;
    let out = s.handle(Input::Timer, now);
    assert!(out.contains(&Action::Start(ID)), "{out:?}");
    let out = s.handle(Input::Done(ID, Step::Pass(None)), now);
    assert_eq!(report(&out), Some((true, None)));
}

#[test]
fn file_checks_are_not_retried() {
    let spec = CheckSpec::new(
        CheckKind::File(FileSpec {
            path: "/nonexistent".into(),
            weight: 0,
            reverse: false,
            dynamic: false,
        }),
        "192.0.2.1:0".parse().unwrap(),
    );
    assert!(spec.timing.retry > 0);
    let mut s = Scheduler::new(vec![CheckPlan::of(&spec, Duration::ZERO)], Instant::now());
    let (_, out) = attempt(&mut s, fail());
    assert_eq!(
        report(&out),
        Some((false, None)),
        "down at the first failure"
    );
}

#[test]
fn silence_expires_an_attempt_after_connect_timeout_and_each_event_restarts_it() {
    let mut s = Scheduler::new(vec![plan()], Instant::now());
    let t1 = next_start(&mut s);
    assert_eq!(s.next_deadline(), Some(t1 + 20 * MS));
    // An event at +15 ms moves the limit to +35 ms; the old entry fires for nothing.
    assert!(s.handle(Input::Progress(ID), t1 + 15 * MS).is_empty());
    assert!(s.handle(Input::Timer, t1 + 20 * MS).is_empty());
    assert_eq!(s.next_deadline(), Some(t1 + 35 * MS));
    assert_eq!(
        s.handle(Input::Timer, t1 + 35 * MS),
        vec![Action::Expire(ID)]
    );
    // Until the probe's verdict comes, nothing more is due for it.
    assert_eq!(s.next_deadline(), None);
    let timeout = Step::Fail(Failure::Timeout("connecting"));
    let out = s.handle(Input::Done(ID, timeout), t1 + 35 * MS);
    assert_eq!(report(&out), None, "the first retry");
    assert_eq!(next_start(&mut s), t1 + 65 * MS);
}

#[test]
fn a_server_that_drips_bytes_forever_fails_at_three_connect_timeouts() {
    let mut p = plan();
    p.timing.retry = 0;
    let mut s = Scheduler::new(vec![p], Instant::now());
    let t1 = next_start(&mut s);
    let mut now = t1;
    while now < t1 + 60 * MS {
        now += 10 * MS;
        assert!(s.handle(Input::Progress(ID), now).is_empty());
        let out = s.handle(Input::Timer, now);
        if now < t1 + 60 * MS {
            assert!(out.is_empty(), "{out:?} at {:?}", now - t1);
        } else {
            assert_eq!(out.len(), 2, "{out:?}");
            assert_eq!(out[0], Action::Cancel(ID));
            assert_eq!(report(&out[1..]), Some((false, None)));
        }
    }
    assert_eq!(
        s.status(ID).unwrap().last_failure,
        Some(Failure::TooSlow.to_string())
    );
    // A verdict for the cancelled attempt, arriving late, is ignored.
    assert!(s.handle(Input::Done(ID, Step::Pass(None)), now).is_empty());
    assert_eq!(s.status(ID).unwrap().passes, 0);
}

#[test]
fn misc_checks_run_until_misc_timeout() {
    let misc = |timeout| {
        CheckKind::Misc(MiscSpec {
            argv: vec!["/bin/true".into()],
            timeout,
            dynamic: false,
            user: None,
        })
    };
    let mut spec = CheckSpec::new(misc(Some(50 * MS)), "192.0.2.1:0".parse().unwrap());
    spec.timing.connect_timeout = 5 * MS;
    let mut s = Scheduler::new(vec![CheckPlan::of(&spec, Duration::ZERO)], Instant::now());
    let t1 = next_start(&mut s);
    assert_eq!(s.next_deadline(), Some(t1 + 50 * MS), "not connect_timeout");
    let out = s.handle(Input::Timer, t1 + 50 * MS);
    assert_eq!(out[0], Action::Cancel(ID), "misc_timeout is the hard limit");
    assert_eq!(
        s.status(ID).unwrap().last_failure,
        Some(Failure::TooSlow.to_string())
    );
    // Without misc_timeout, delay_loop is the limit.
    spec.kind = misc(None);
    let p = CheckPlan::of(&spec, Duration::ZERO);
    assert_eq!(p.script_limit, Some(spec.timing.delay_loop));
}

#[test]
fn suspend_cancels_the_attempt_and_resume_runs_at_once() {
    let mut s = Scheduler::new(vec![plan()], Instant::now());
    attempt(&mut s, fail());
    assert_eq!(s.status(ID).unwrap().retry_it, 1);
    let t2 = next_start(&mut s);
    let out = s.handle(Input::Suspend(ID, true), t2 + MS);
    assert_eq!(out, vec![Action::Cancel(ID)]);
    assert!(s.handle(Input::Suspend(ID, true), t2 + MS).is_empty());
    let st = s.status(ID).unwrap();
    assert!(st.suspended && st.up);
    assert_eq!(st.retry_it, 0, "the failure streak is forgotten");
    assert!(s.handle(Input::Timer, t2 + 500 * MS).is_empty());
    assert_eq!(s.next_deadline(), None, "nothing runs while suspended");
    assert!(s.handle(Input::Done(ID, fail()), t2 + 500 * MS).is_empty());
    assert!(s.handle(Input::RunNow(ID), t2 + 500 * MS).is_empty());
    assert_eq!(s.next_deadline(), None);
    assert_eq!(
        s.status(ID).unwrap().fails,
        1,
        "the late verdict was ignored"
    );
    let t3 = t2 + 600 * MS;
    let out = s.handle(Input::Suspend(ID, false), t3);
    assert_eq!(out, vec![Action::Cancel(ID)]);
    assert_eq!(s.next_deadline(), Some(t3));
    assert_eq!(s.handle(Input::Timer, t3), vec![Action::Start(ID)]);
}

#[test]
fn run_now_starts_an_idle_check_at_once_and_leaves_a_running_one() {
    let mut s = Scheduler::new(vec![plan()], Instant::now());
    let (t1, _) = attempt(&mut s, Step::Pass(None));
    let now = t1 + 10 * MS;
    assert!(s.handle(Input::RunNow(ID), now).is_empty());
    assert_eq!(s.next_deadline(), Some(now));
    assert_eq!(s.handle(Input::Timer, now), vec![Action::Start(ID)]);
    assert!(s.handle(Input::RunNow(ID), now + MS).is_empty());
    // Running: its limit stays the next thing due, and no second start comes.
    assert_eq!(s.handle(Input::Timer, now + 19 * MS), vec![]);
    assert_eq!(
        s.handle(Input::Timer, now + 20 * MS),
        vec![Action::Expire(ID)]
    );
}

#[test]
fn a_new_dynamic_weight_is_reported_while_up() {
    let mut s = Scheduler::new(vec![plan()], Instant::now());
    let pass = |w| Step::Pass(w);
    assert_eq!(
        report(&attempt(&mut s, pass(Some(3))).1),
        Some((true, Some(3)))
    );
    assert_eq!(report(&attempt(&mut s, pass(Some(3))).1), None);
    assert_eq!(report(&attempt(&mut s, pass(None)).1), None);
    assert_eq!(
        report(&attempt(&mut s, pass(Some(5))).1),
        Some((true, Some(5)))
    );
    // Going down keeps the last weight in the report.
    let mut p = plan();
    p.timing.retry = 0;
    let mut s = Scheduler::new(vec![p], Instant::now());
    attempt(&mut s, pass(Some(7)));
    assert_eq!(report(&attempt(&mut s, fail()).1), Some((false, Some(7))));
}

#[test]
fn zero_intervals_are_raised_and_absurd_ones_saturate() {
    let mut p = plan();
    p.timing.delay_loop = Duration::ZERO;
    p.timing.connect_timeout = Duration::ZERO;
    p.timing.delay_before_retry = Duration::ZERO;
    let t0 = Instant::now();
    let mut s = Scheduler::new(vec![p], t0);
    let t = s.plan(ID).unwrap().timing.clone();
    assert_eq!(
        (t.delay_loop, t.connect_timeout, t.delay_before_retry),
        (MIN_INTERVAL, MIN_INTERVAL, MIN_INTERVAL)
    );
    let (t1, _) = attempt(&mut s, Step::Pass(None));
    assert_eq!(next_start(&mut s), t1 + MIN_INTERVAL);
    let mut p = plan();
    p.timing.delay_loop = Duration::MAX;
    p.timing.connect_timeout = Duration::MAX;
    let mut s = Scheduler::new(vec![p], t0);
    let (t1, _) = attempt(&mut s, Step::Pass(None));
    assert!(next_start(&mut s) > t1 + Duration::from_secs(99 * 365 * 86400));
}

/// One virtual server (quorum 1, hysteresis 0, `quorum_up`/`quorum_down` scripts) over
/// `n` real servers of weight 1, each judged by one TCP check without retries (check
/// `i` is real server 10.0.0.`i`, first run at 5 ms, then every 100 ms), set up by
/// `edit`; the scheduler and its start actions.
fn served(n: usize, edit: impl FnOnce(&mut VsSpec)) -> (Scheduler, Vec<Action>, Instant) {
    use crate::state::tests::{rs, vs};
    let mut v = vs((0..n).map(|i| rs(i, &[(i, false)], 1)).collect());
    edit(&mut v);
    let mut p = plan();
    p.timing.retry = 0;
    let t0 = Instant::now();
    let (s, start) = Scheduler::serving(vec![p; n], vec![v], t0);
    (s, start, t0)
}

/// Round `k` (at 5 + 100k ms): every check runs and passes or fails as `verdicts`
/// says; everything the scheduler answers but the starts.
fn round(s: &mut Scheduler, t0: Instant, k: u32, verdicts: &[bool]) -> Vec<Action> {
    let now = t0 + 5 * MS + k * 100 * MS;
    let mut out = Vec::new();
    for a in s.handle(Input::Timer, now) {
        let Action::Start(id) = a else {
            out.push(a);
            continue;
        };
        let step = if verdicts[id.0] {
            Step::Pass(None)
        } else {
            fail()
        };
        out.extend(s.handle(Input::Done(id, step), now));
    }
    out
}

fn fifo(line: &str) -> Action {
    Action::Fifo(line.to_string())
}

fn script(s: &str) -> Action {
    Action::Script(crate::state::tests::script(s).unwrap())
}

const VS: &str = "[10.0.0.100]:tcp:80";

#[test]
fn handle_loses_quorum_below_quorum_minus_hysteresis_and_regains_it_at_plus() {
    let (mut s, _, t0) = served(3, |v| {
        v.quorum = 2;
        v.hysteresis = 1;
    });
    // 3 -> 2 -> 1 live: still >= 2 - 1.
    let out = round(&mut s, t0, 0, &[true, false, true]);
    assert!(out.contains(&Action::Ipvs(Change::RsRemove { vs: 0, rs: 1 })));
    assert!(out.contains(&fifo("RS [10.0.0.1]:tcp:80 [10.0.0.100]:tcp:80 DOWN")));
    assert!(out.contains(&script("/down 1")));
    assert!(!out.contains(&fifo(&format!("VS {VS} DOWN"))), "{out:?}");
    round(&mut s, t0, 1, &[false, false, true]);
    assert!(s.servers().quorum_up(0));
    // 0 live: lost.
    let out = round(&mut s, t0, 2, &[false, false, false]);
    assert!(
        out.ends_with(&[
            Action::Report(Report {
                check: CheckId(2),
                up: false,
                weight: None,
                failure: Some(Failure::Connect("refused".into())),
            }),
            fifo("RS [10.0.0.2]:tcp:80 [10.0.0.100]:tcp:80 DOWN"),
            script("/down 2"),
            Action::Ipvs(Change::RsRemove { vs: 0, rs: 2 }),
            fifo(&format!("VS {VS} DOWN")),
            script("/qdown"),
            Action::Verdict(Verdict {
                vs: 0,
                rs: 2,
                rs_alive: false,
                quorum_up: false,
                live_weight: 0,
            }),
        ]),
        "{out:?}"
    );
    // 2 live: not yet (2 + 1 needed); 3 live: regained.
    let out = round(&mut s, t0, 3, &[true, true, false]);
    assert!(!s.servers().quorum_up(0), "{out:?}");
    let out = round(&mut s, t0, 4, &[true, true, true]);
    assert!(out.contains(&fifo(&format!("VS {VS} UP"))), "{out:?}");
    assert!(out.contains(&script("/qup")));
    assert!(matches!(
        out.last(),
        Some(Action::Verdict(Verdict {
            quorum_up: true,
            live_weight: 3,
            ..
        }))
    ));
}

#[test]
fn handle_puts_the_sorry_server_in_while_quorum_is_lost_and_out_after() {
    for inhibit in [false, true] {
        let (mut s, start, t0) = served(2, |v| {
            v.quorum = 2;
            v.sorry_server = Some("10.0.0.9:80".parse().unwrap());
            v.sorry_server_inhibit = inhibit;
        });
        // Quorum holds at start: an inhibited sorry server waits at weight 0.
        let waiting = Action::Ipvs(Change::SorrySet { vs: 0, weight: 0 });
        assert_eq!(start.contains(&waiting), inhibit, "{start:?}");
        // One of two down: quorum 2 lost, the sorry server serves alone.
        let out = round(&mut s, t0, 0, &[true, false]);
        assert!(out.contains(&Action::Ipvs(Change::SorrySet { vs: 0, weight: 1 })));
        assert!(out.contains(&Action::Ipvs(Change::RsRemove { vs: 0, rs: 0 })));
        assert!(s.servers().sorry_active(0));
        // Both back: the real servers return, then the sorry server leaves.
        let out = round(&mut s, t0, 1, &[true, true]);
        let back = |rs| {
            out.iter().position(|a| {
                *a == Action::Ipvs(Change::RsSet {
                    vs: 0,
                    rs,
                    weight: 1,
                })
            })
        };
        let leave = if inhibit {
            waiting.clone()
        } else {
            Action::Ipvs(Change::SorryRemove { vs: 0 })
        };
        let gone = out.iter().position(|a| *a == leave);
        assert!(back(0).is_some() && back(1).is_some(), "{out:?}");
        assert!(gone > back(0) && gone > back(1), "{out:?}");
        assert!(!s.servers().sorry_active(0));
    }
}

#[test]
fn handle_inhibits_a_failed_server_at_weight_zero_or_removes_it() {
    let (mut s, _, t0) = served(2, |v| v.real_servers[0].inhibit_on_failure = true);
    let out = round(&mut s, t0, 0, &[false, false]);
    assert!(out.contains(&Action::Ipvs(Change::RsSet {
        vs: 0,
        rs: 0,
        weight: 0
    })));
    assert!(out.contains(&Action::Ipvs(Change::RsRemove { vs: 0, rs: 1 })));
    assert!(!out.contains(&Action::Ipvs(Change::RsRemove { vs: 0, rs: 0 })));
    // Back: both at their weight.
    let out = round(&mut s, t0, 1, &[true, true]);
    for rs in [0, 1] {
        assert!(out.contains(&Action::Ipvs(Change::RsSet {
            vs: 0,
            rs,
            weight: 1
        })));
    }
}

#[test]
fn handle_shutdown_notifies_the_live_servers_and_quorum_down_with_omega_only() {
    for omega in [false, true] {
        let (mut s, _, t0) = served(2, |v| v.omega = omega);
        round(&mut s, t0, 0, &[true, false]);
        let out = s.handle(Input::Shutdown, t0 + 200 * MS);
        let want = if omega {
            vec![
                fifo("RS [10.0.0.0]:tcp:80 [10.0.0.100]:tcp:80 DOWN"),
                script("/down 0"),
                fifo(&format!("VS {VS} DOWN")),
                script("/qdown"),
            ]
        } else {
            Vec::new()
        };
        assert_eq!(out, want);
    }
}

#[test]
fn handle_pauses_the_checks_of_an_ha_suspend_server_while_its_vip_is_away() {
    let (mut s, _, t0) = served(2, |v| v.ha_suspend = true);
    round(&mut s, t0, 0, &[true, true]);
    let away = t0 + 50 * MS;
    let out = s.handle(
        Input::VipPresent {
            vs: 0,
            present: false,
        },
        away,
    );
    assert_eq!(
        out,
        vec![Action::Cancel(CheckId(0)), Action::Cancel(CheckId(1))]
    );
    let paused = s.handle(Input::Timer, away + 400 * MS);
    assert!(paused.is_empty(), "no check runs while paused: {paused:?}");
    let out = s.handle(
        Input::VipPresent {
            vs: 0,
            present: true,
        },
        away + 500 * MS,
    );
    assert_eq!(out.len(), 2);
    let out = s.handle(Input::Timer, away + 500 * MS);
    assert_eq!(
        out,
        vec![Action::Start(CheckId(0)), Action::Start(CheckId(1))]
    );
}

#[test]
fn handle_init_notifies_the_listed_live_servers() {
    let (mut s, _, t0) = served(3, |_| {});
    round(&mut s, t0, 0, &[true, false, true]);
    let out = s.handle(Input::InitNotifies(vec![(0, 1), (0, 2)]), t0 + 10 * MS);
    assert_eq!(
        out,
        vec![
            fifo("RS [10.0.0.2]:tcp:80 [10.0.0.100]:tcp:80 UP"),
            script("/up 2")
        ]
    );
}

/// keepalived 2.2.7 and 2.4.3 (seen in the VM) write `VS ... UP` and run `quorum_up` for
/// a virtual server that starts with its quorum (at least quorum + hysteresis live), and
/// nothing for one that starts without it, or with less than quorum + hysteresis.
#[test]
fn handle_runs_quorum_up_at_start_when_quorum_holds() {
    // Quorum 1 over two live servers: `quorum_up` for the listed virtual server only.
    let (mut s, start, t0) = served(2, |_| {});
    assert!(!start.contains(&script("/qup")), "{start:?}");
    assert_eq!(
        s.handle(Input::QuorumAtStart(vec![0]), t0),
        vec![fifo(&format!("VS {VS} UP")), script("/qup")]
    );
    assert!(s.handle(Input::QuorumAtStart(vec![]), t0).is_empty());
    // Its only server starts failed (alpha): no quorum, no script.
    let mut p = plan();
    p.alpha = true;
    let v = crate::state::tests::vs(vec![crate::state::tests::rs(0, &[(0, true)], 1)]);
    let (mut s, _) = Scheduler::serving(vec![p], vec![v], t0);
    assert!(!s.servers().quorum_up(0));
    assert!(s.handle(Input::QuorumAtStart(vec![0]), t0).is_empty());
    // Quorum 2, hysteresis 1 over two live servers: held, but not gained (2 < 3).
    let (mut s, _, t0) = served(2, |v| {
        v.quorum = 2;
        v.hysteresis = 1;
    });
    assert!(s.servers().quorum_up(0));
    assert!(s.handle(Input::QuorumAtStart(vec![0]), t0).is_empty());
}

/// The scheduler's reports through a [`crate::state::Health`] of the test's own (as
/// [`Scheduler::serving`] chains them inside `handle`): what the IPVS table, the FIFO
/// and the scripts see, against time.
#[test]
fn with_health_a_server_leaves_after_its_retries_and_quorum_follows_with_hysteresis() {
    use crate::state::{Action as Do, Change, Health, RsCheck, RsSpec, VsSpec, WeightRole};
    let rs = |i: usize, alpha: bool, inhibit: bool| RsSpec {
        addr: format!("10.0.0.{i}:80").parse().unwrap(),
        name: format!("[10.0.0.{i}]:tcp:80"),
        weight: 1,
        inhibit_on_failure: inhibit,
        notify_up: None,
        notify_down: None,
        checks: vec![RsCheck {
            id: CheckId(i),
            alpha,
            weight: WeightRole::None,
        }],
    };
    let vs = VsSpec {
        name: "VS".into(),
        quorum: 2,
        hysteresis: 1,
        quorum_up: None,
        quorum_down: None,
        sorry_server: None,
        sorry_server_inhibit: false,
        ha_suspend: false,
        omega: true,
        real_servers: vec![rs(0, false, true), rs(1, false, false), rs(2, true, false)],
    };
    let (mut health, start) = Health::new(vec![vs]);
    // alpha: the third server starts out of the table; quorum (2 of 2 live) holds.
    assert!(start.contains(&Do::Ipvs(Change::RsRemove { vs: 0, rs: 2 })));
    let t0 = Instant::now();
    let mut plans = vec![plan(), plan(), plan()];
    plans[2].alpha = true;
    let mut s = Scheduler::new(plans, t0);
    let step = |s: &mut Scheduler, health: &mut Health, now, verdicts: [bool; 3]| {
        let mut did = Vec::new();
        for a in s.handle(Input::Timer, now) {
            let Action::Start(id) = a else { continue };
            let v = if verdicts[id.0] {
                Step::Pass(None)
            } else {
                fail()
            };
            for a in s.handle(Input::Done(id, v), now) {
                if let Action::Report(r) = a {
                    did.extend(health.on_report(&r));
                }
            }
        }
        did
    };
    // First runs at +5 ms: the first server fails (one retry due at +35 ms), the
    // alpha one passes and joins.
    let did = step(&mut s, &mut health, t0 + 5 * MS, [false, true, true]);
    assert!(did.contains(&Do::Fifo("RS [10.0.0.2]:tcp:80 VS UP".into())));
    assert!(health.is_up(0, 0), "retries pending");
    let did = step(&mut s, &mut health, t0 + 35 * MS, [false, true, true]);
    assert!(
        did.is_empty() && health.is_up(0, 0),
        "retry 1 of 2: {did:?}"
    );
    // The third failure in a row: inhibited at weight 0, not removed.
    let did = step(&mut s, &mut health, t0 + 65 * MS, [false, true, true]);
    let inhibit = Do::Ipvs(Change::RsSet {
        vs: 0,
        rs: 0,
        weight: 0,
    });
    assert!(did.contains(&inhibit), "{did:?}");
    assert!(health.quorum_up(0));
    // The other two fail at their next runs (+105 ms, retries at +135, +165 ms):
    // weight 2 -> 0 and quorum (2 - 1 = 1) is lost only at 0.
    for t in [105, 135] {
        assert!(step(&mut s, &mut health, t0 + t * MS, [false, false, false]).is_empty());
    }
    let did = step(&mut s, &mut health, t0 + 165 * MS, [false, false, false]);
    assert!(did.contains(&Do::Fifo("VS VS DOWN".into())), "{did:?}");
    assert!(!health.quorum_up(0));
    // Back one by one: regained at 2 + 1 = 3 live servers only.
    let did = step(&mut s, &mut health, t0 + 265 * MS, [true, true, false]);
    assert!(!health.quorum_up(0), "{did:?}");
    let did = step(&mut s, &mut health, t0 + 365 * MS, [true, true, true]);
    assert!(did.contains(&Do::Fifo("VS VS UP".into())), "{did:?}");
    // omega: at shutdown every live server and the quorum say DOWN.
    let bye = health.shutdown();
    assert_eq!(bye.iter().filter(|a| matches!(a, Do::Fifo(_))).count(), 4);
}

#[test]
fn each_ended_attempt_records_its_result_duration_and_failure_streak() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(vec![plan()], t0);
    let d = s.status(ID).unwrap();
    assert_eq!(
        (d.kind, d.last_ok, d.last_duration),
        ("TCP_CHECK", None, None)
    );
    // A pass that took 3 ms.
    let t = next_start(&mut s);
    s.handle(Input::Done(ID, Step::Pass(None)), t + 3 * MS);
    let d = s.status(ID).unwrap();
    assert_eq!(d.last_ok, Some(true));
    assert_eq!(d.last_duration, Some(3 * MS));
    assert_eq!(d.consecutive_fails, 0);
    // Three failures in a row (two retries, the third takes it down).
    for n in 1..=3u64 {
        let t = next_start(&mut s);
        s.handle(Input::Done(ID, fail()), t + 7 * MS);
        let d = s.status(ID).unwrap();
        assert_eq!((d.last_ok, d.consecutive_fails), (Some(false), n));
        assert_eq!(d.last_duration, Some(7 * MS));
    }
    assert_eq!(s.is_up(ID), Some(false));
    // A pass ends the streak.
    let t = next_start(&mut s);
    s.handle(Input::Done(ID, Step::Pass(None)), t + MS);
    assert_eq!(s.status(ID).unwrap().consecutive_fails, 0);
    let k = &s.stats()["TCP_CHECK"];
    assert_eq!((k.total, k.failed), (5, 3));
    assert!((k.sum_seconds - 0.025).abs() < 1e-9, "{}", k.sum_seconds);
    // 1 ms and 3 ms within 5 ms; the 7 ms ones within 10 ms.
    assert_eq!(k.cumulative()[2], 2);
    assert_eq!(k.cumulative()[3], 5);
}
