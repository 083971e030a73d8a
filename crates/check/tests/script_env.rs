//! The checker's scripts — MISC_CHECK ([`MiscProbe`]) and notify/quorum scripts and FIFO
//! readers ([`process::start_script`]) — start as keepalived 2.2.7 starts them: same
//! environment, user and group, process group, signals and descriptors (the record is in
//! `crates/vrrp/tests/support/script_env.rs`). One test in this file: it changes the
//! process environment.

#[path = "../../vrrp/tests/support/script_env.rs"]
mod script_env;

use std::time::{Duration, Instant};

use ka_check::probe::MiscProbe;
use ka_check::process;
use ka_check::spec::MiscSpec;
use ka_proto::config::Script;
use script_env::{assert_like_keepalived, prepare, root, Recorder};

fn misc(rec: &Recorder, tag: &str, user: Option<(u32, u32)>) -> MiscSpec {
    MiscSpec {
        argv: rec.argv(tag),
        timeout: None,
        dynamic: false,
        user,
    }
}

#[test]
fn checker_scripts_start_like_keepalived() {
    prepare();
    script_env::ignore(nix::sys::signal::Signal::SIGUSR2);
    let rec = Recorder::new("check-script-env");
    let poll = mio::Poll::new().expect("poll");
    let mut probe =
        MiscProbe::start(&misc(&rec, "misc", None), poll.registry(), mio::Token(1)).expect("misc");
    let seen = rec.seen("misc");
    let end = Instant::now() + Duration::from_secs(5);
    while !probe.try_reap() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut notify = process::start_script(&Script {
        args: rec.argv("notify_up"),
        user: None,
        group: None,
    })
    .expect("notify_up");
    let _ = notify.wait();
    if !root() {
        script_env::assert_like_keepalived_unprivileged(&seen);
        eprintln!("SKIPPED (not root): user checks");
        return;
    }
    assert_like_keepalived(&seen, 0, 0, 0);
    assert_like_keepalived(&rec.seen("notify_up"), 0, 0, 0);
    // MISC_CHECK { user nobody }, `notify_up "..." nobody`.
    let nobody = nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .expect("nobody");
    let (uid, gid) = (nobody.uid.as_raw(), nobody.gid.as_raw());
    let _probe = MiscProbe::start(
        &misc(&rec, "misc_nobody", Some((uid, gid))),
        poll.registry(),
        mio::Token(2),
    )
    .expect("misc as nobody");
    assert_like_keepalived(&rec.seen("misc_nobody"), uid, gid, 0);
    let mut notify = process::start_script(&Script {
        args: rec.argv("notify_nobody"),
        user: Some("nobody".into()),
        group: None,
    })
    .expect("notify as nobody");
    let _ = notify.wait();
    assert_like_keepalived(&rec.seen("notify_nobody"), uid, gid, 0);
}
