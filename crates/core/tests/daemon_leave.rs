//! [`release::leave`]: the VRRP child the parent starts only to leave VRRP (priority 0,
//! VIPs removed) when no VRRP child runs. Run in this test process with child bodies
//! written for the test (one test function: the parent forks, so no other test thread
//! may run meanwhile); the scenarios run one after another:
//!
//! 1. the child gets Hello, the held snapshots in Resume, Start, and `Stop` only after it
//!    said `Ready` (sent along with `Start`, a `Stop` could sit unnoticed in the child's
//!    buffer: that is how the first version timed out); what it reported comes back;
//! 2. a child that ignores `Stop` is killed at the bound, and `leave` says so;
//! 3. a child that fails (exit 70, as a crash loop at start would) is reported as failed
//!    at once: the caller then removes the VIPs itself.

mod common;

use ka_proto::config::Config;
use ka_proto::ipc::vrrp::{ChildEnd, FromVrrp, ToVrrp};
use ka_proto::ipc::{Hello, InstanceSnapshot, Role, RunFlags, VrrpState};
use keepalived_rs::daemon::release;
use std::time::{Duration, Instant};

fn held() -> InstanceSnapshot {
    common::master_snapshot("VI_1", 51, Some("eth0"), 100)
}

/// Checks the parent's side of the exchange; its exit code says what went wrong:
/// 0 all as expected, 10+ the step that was wrong.
fn checking(mut ipc: ChildEnd) -> i32 {
    let _ = ipc.send(&FromVrrp::Hello(Hello::new(Role::Vrrp)));
    match ipc.recv() {
        Ok(Some(ToVrrp::Hello(h))) if h.role == Role::Vrrp => {}
        _ => return 10,
    }
    match ipc.recv() {
        Ok(Some(ToVrrp::Resume(v))) if v == vec![held()] => {}
        _ => return 11,
    }
    match ipc.recv() {
        Ok(Some(ToVrrp::Start { .. })) => {}
        _ => return 12,
    }
    // Nothing more before Ready (a Stop now would be the race described above).
    std::thread::sleep(Duration::from_millis(200));
    if ipc.set_nonblocking(true).is_err() || !matches!(ipc.recv(), Ok(None)) {
        return 13;
    }
    let _ = ipc.set_nonblocking(false);
    let mut left = held();
    left.state = VrrpState::Init;
    left.addresses_installed = false;
    let _ = ipc.send(&FromVrrp::InstanceState(left));
    let _ = ipc.send(&FromVrrp::Ready);
    match ipc.recv() {
        Ok(Some(ToVrrp::Stop)) => {}
        _ => return 14,
    }
    // What it says after Stop comes back too.
    let mut stopped = held();
    stopped.state = VrrpState::Stop;
    stopped.addresses_installed = false;
    let _ = ipc.send(&FromVrrp::InstanceState(stopped));
    0
}

/// Says hello and Ready after Start, then ignores everything (including Stop).
fn deaf(mut ipc: ChildEnd) -> i32 {
    let _ = ipc.send(&FromVrrp::Hello(Hello::new(Role::Vrrp)));
    loop {
        match ipc.recv() {
            Ok(Some(ToVrrp::Start { .. })) => {
                let _ = ipc.send(&FromVrrp::Ready);
            }
            Err(_) => loop {
                std::thread::sleep(Duration::from_secs(1));
            },
            _ => {}
        }
    }
}

fn fails(_ipc: ChildEnd) -> i32 {
    70
}

#[test]
fn leave_by_child() {
    let flags = RunFlags::default();
    let bound = Duration::from_secs(2);

    // 1. The exchange, in order; the child's reports come back.
    let t = Instant::now();
    let got = release::leave(checking, Config::default(), &flags, vec![held()], bound);
    let took = t.elapsed();
    let got = got.unwrap_or_else(|e| panic!("the checking child failed: {e}"));
    assert!(took < bound, "took {took:?}");
    assert!(
        got.iter().any(|m| matches!(m, FromVrrp::InstanceState(s)
            if s.name == "VI_1" && s.state == VrrpState::Init && !s.addresses_installed)),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|m| matches!(m, FromVrrp::InstanceState(s) if s.state == VrrpState::Stop)),
        "{got:?}"
    );
    assert!(!got.iter().any(|m| matches!(m, FromVrrp::Ready)), "{got:?}");

    // 2. Deaf to Stop: killed at the bound.
    let t = Instant::now();
    let r = release::leave(
        deaf,
        Config::default(),
        &flags,
        vec![held()],
        Duration::from_millis(500),
    );
    let took = t.elapsed();
    let e = r.expect_err("a deaf child must be a failure");
    assert!(e.contains("did not stop"), "{e}");
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(2),
        "{took:?}"
    );

    // 3. A child that fails at start.
    let t = Instant::now();
    let e = release::leave(fails, Config::default(), &flags, vec![held()], bound)
        .expect_err("a failing child must be a failure");
    assert!(e.contains("status 70"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());

    // Nothing left behind: every child was reaped by `leave` (no zombie, none running).
    let w = nix::sys::wait::waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG));
    assert_eq!(w, Err(nix::errno::Errno::ECHILD), "a child is left");
}
