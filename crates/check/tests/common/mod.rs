//! The checker tests' runner: the engine driven inside the checker's namespace, its reports
//! streamed to the test. The servers it checks are `ka_tests::servers`.
#![allow(dead_code)] // each test binary uses a part
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

pub mod tls;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use ka_tests::servers::*;

use ka_check::engine::{Engine, Report};
use ka_check::spec::{CheckSpec, SslConfig, Timing};
use ka_tests::Netns;

/// The default test timing: fast loops so dead servers are seen within a few seconds.
pub fn fast() -> Timing {
    Timing {
        delay_loop: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(800),
        retry: 1,
        delay_before_retry: Duration::from_millis(300),
        warmup: Duration::ZERO,
    }
}

/// The checker's LAN ([`lan`]) for test `test`, or `None` without root (the test is
/// skipped, see [`ka_tests::require_root`]).
pub fn root_lan(test: &str) -> Option<ka_tests::Lan> {
    ka_tests::require_root(test).then(lan)
}

/// The engine, running in a namespace, streaming its reports.
pub struct Running {
    pub rx: mpsc::Receiver<(Instant, Report)>,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<Vec<ka_check::engine::CheckDump>>>,
}

impl Running {
    /// Wait for the next report (with a limit).
    pub fn next(&self, limit: Duration) -> Option<(Instant, Report)> {
        self.rx.recv_timeout(limit).ok()
    }

    /// Wait for a report with `up`, skipping others.
    pub fn wait_for(&self, up: bool, limit: Duration) -> Option<(Instant, Report)> {
        let end = Instant::now() + limit;
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            let (t, r) = self.next(left)?;
            if r.up == up {
                return Some((t, r));
            }
        }
    }

    /// The last report of each check, until `n` checks reported or `limit` passed.
    pub fn reports(&self, n: usize, limit: Duration) -> std::collections::BTreeMap<usize, Report> {
        let mut got = std::collections::BTreeMap::new();
        let end = Instant::now() + limit;
        while got.len() < n && Instant::now() < end {
            if let Some((_, r)) = self.next(Duration::from_millis(100)) {
                got.insert(r.check.0, r);
            }
        }
        got
    }

    /// Stop and return the final dump.
    pub fn finish(mut self) -> Vec<ka_check::engine::CheckDump> {
        self.stop.store(true, Ordering::SeqCst);
        self.join.take().unwrap().join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

pub fn run(ns: &Netns, specs: Vec<CheckSpec>, ssl: SslConfig) -> Running {
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let join = ns.spawn(move || {
        let mut e = Engine::new(specs, &ssl).unwrap();
        while !st.load(Ordering::SeqCst) {
            e.turn(Some(Duration::from_millis(20))).unwrap();
            for r in e.take_reports() {
                let _ = tx.send((Instant::now(), r));
            }
        }
        e.dump()
    });
    Running {
        rx,
        stop,
        join: Some(join),
    }
}
