//! The VRRP child's scripts (notify and `vrrp_script`, run by [`Runner`]) start as
//! keepalived 2.2.7 starts them: same environment, user and group, process group, signals
//! and descriptors (the record is in `support/script_env.rs`). One test in this file: it
//! changes the process environment.
#![cfg(feature = "linux")]

#[path = "support/script_env.rs"]
mod script_env;

use std::time::{Duration, Instant};

use script_env::{assert_like_keepalived, prepare, root, Recorder};
use vrrp::linux::script::{resolve_user, Runner, ScriptSpec, ScriptUser};

fn run(runner: &mut Runner, poll: &mut mio::Poll, spec: &ScriptSpec) {
    runner
        .spawn(poll.registry(), spec, 1, Instant::now())
        .expect("spawn");
    let mut events = mio::Events::with_capacity(4);
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .expect("poll");
        let done = events.iter().any(|e| {
            runner
                .handle(poll.registry(), e.token(), Instant::now())
                .is_some()
        });
        if done {
            return;
        }
        assert!(Instant::now() < end, "the script did not finish");
    }
}

#[test]
fn vrrp_scripts_start_like_keepalived() {
    prepare();
    // The VRRP child ignores signals of its own (and keepalived handles SIGUSR2): a script
    // gets them at their default. Nothing was recorded as inherited, so none may remain.
    script_env::ignore(nix::sys::signal::Signal::SIGUSR2);
    let rec = Recorder::new("vrrp-script-env");
    let mut poll = mio::Poll::new().expect("poll");
    let mut runner = Runner::new(0, 2);
    let spec = |tag: &str, user: Option<ScriptUser>| ScriptSpec {
        argv: rec.argv(tag),
        user,
        timeout: Some(Duration::from_secs(10)),
    };
    // As the daemon's own user (root: as root:root, groups reduced to root's).
    run(&mut runner, &mut poll, &spec("self", None));
    let (uid, gid) = (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    );
    if root() {
        assert_like_keepalived(&rec.seen("self"), 0, 0, 0);
        // As another user (`notify_backup ... nobody`, `vrrp_script { user nobody }`).
        let nobody = resolve_user("nobody", None).expect("nobody");
        run(&mut runner, &mut poll, &spec("nobody", Some(nobody)));
        assert_like_keepalived(&rec.seen("nobody"), nobody.uid, nobody.gid, 0);
    } else {
        script_env::assert_like_keepalived_unprivileged(&rec.seen("self"));
        eprintln!("SKIPPED (not root): user checks for {uid}:{gid}");
    }
}
