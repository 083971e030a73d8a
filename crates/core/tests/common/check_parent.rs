//! A fake parent: the checker child's body (`keepalived_rs::check_child::main`) started on
//! a thread inside a namespace and driven over a real socketpair, the way the daemon's
//! parent drives it after fork. Shared by the `check_child_*.rs` tests.
//!
//! It lives beside those tests rather than in `ka-tests` because it speaks the checker's
//! IPC (`ka_proto::ipc`) and starts `keepalived_rs::check_child`: `ka-tests` depends on
//! none of our crates, so every crate can use it without a dependency cycle.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ka_proto::ipc::checker::{self, FromChecker, ToChecker};
use ka_proto::ipc::{DumpKind, Hello, Role, ServiceSnapshot};
use ka_tests::Netns;

/// The parent's end of the channel. Every `ServiceState` received, by any
/// call, is also recorded (with when it came) for tests that look at the history.
pub struct FakeParent {
    ch: checker::ParentEnd,
    /// Every ServiceState seen, with when it came.
    pub states: Vec<(Instant, ServiceSnapshot)>,
}

impl FakeParent {
    /// Start the body in namespace `ns` (as the parent would after fork), its log going to
    /// the test's output, and exchange hellos (the child's within 3 s).
    pub fn start(ns: &Netns) -> (FakeParent, JoinHandle<i32>) {
        let _ = env_logger::builder().is_test(true).try_init();
        FakeParent::start_with(ns, Duration::from_secs(3))
    }

    /// [`FakeParent::start`] without setting up a logger (for a test that installs its
    /// own), the child's Hello awaited for up to `hello_within`.
    pub fn start_with(ns: &Netns, hello_within: Duration) -> (FakeParent, JoinHandle<i32>) {
        let (p, c) = checker::pair().expect("socketpair");
        p.set_nonblocking(true).expect("non-blocking parent end");
        let th = ns.spawn(move || keepalived_rs::check_child::main(c));
        let mut parent = FakeParent {
            ch: p,
            states: Vec::new(),
        };
        match parent.recv(hello_within) {
            Some(FromChecker::Hello(h)) => assert_eq!(h.role, Role::Checker),
            other => panic!("expected hello, got {other:?}"),
        }
        parent.send(ToChecker::Hello(Hello::new(Role::Checker)));
        (parent, th)
    }

    /// The next message, waiting up to `limit`.
    pub fn recv(&mut self, limit: Duration) -> Option<FromChecker> {
        let end = Instant::now() + limit;
        loop {
            match self.ch.recv() {
                Ok(Some(m)) => {
                    if let FromChecker::ServiceState(s) = &m {
                        self.states.push((Instant::now(), s.clone()));
                    }
                    return Some(m);
                }
                Ok(None) => {}
                Err(e) => panic!("IPC: {e}"),
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Wait for a message matching `f` (others are recorded and skipped).
    pub fn wait(
        &mut self,
        limit: Duration,
        f: impl Fn(&FromChecker) -> bool,
    ) -> Option<FromChecker> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Some(m) = self.recv(end.saturating_duration_since(Instant::now())) {
                if f(&m) {
                    return Some(m);
                }
            }
        }
        None
    }

    /// Wait for the ServiceState of real server `rs` going `up` (or down); when it came.
    pub fn wait_state(&mut self, rs: &str, up: bool, limit: Duration) -> Option<Instant> {
        let rs = rs.to_string();
        self.wait(limit, |m| {
            matches!(m, FromChecker::ServiceState(s)
                if s.real_server.as_deref() == Some(rs.as_str()) && s.up == up)
        })
        .map(|_| Instant::now())
    }

    /// Send `m` and flush it completely.
    pub fn send(&mut self, m: ToChecker) {
        self.ch.send(&m).expect("send to child");
        while !self.ch.flush().expect("flush to child") {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Wait (3 s) for the child's Ready, which follows a Start or a Reload.
    pub fn ready(&mut self) {
        assert!(
            self.wait(Duration::from_secs(3), |m| matches!(m, FromChecker::Ready))
                .is_some(),
            "no Ready"
        );
    }

    /// Ask for a dump of `kind` and return its text (within 3 s).
    pub fn dump(&mut self, kind: DumpKind) -> String {
        self.send(ToChecker::Dump(kind));
        match self.wait(Duration::from_secs(3), |m| {
            matches!(m, FromChecker::DumpText { .. })
        }) {
            Some(FromChecker::DumpText { text, .. }) => text,
            other => panic!("no dump: {other:?}"),
        }
    }
}
