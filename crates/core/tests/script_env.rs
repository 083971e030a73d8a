//! The parent's scripts (`startup_script`, `shutdown_script`, run by
//! [`daemon::scripts::run`]) start as keepalived 2.2.7 starts them: same environment, user
//! and group, process group, signals and descriptors (the record is in
//! `crates/vrrp/tests/support/script_env.rs`). One test in this file: it changes the
//! process environment.

#[path = "../../vrrp/tests/support/script_env.rs"]
mod script_env;

use std::time::Duration;

use ka_proto::config::Script;
use keepalived_rs::daemon::scripts::{run, Outcome};
use script_env::{assert_like_keepalived, ignored_here, prepare, root, Recorder};

#[test]
fn parent_scripts_start_like_keepalived() {
    prepare();
    // Whoever started the daemon ignored SIGPROF: keepalived's scripts keep that (SIGFPE
    // in the record). SIGUSR2, which the daemon handles, is ignored here before the record
    // is taken, and must reach the script at its default.
    script_env::ignore(nix::sys::signal::Signal::SIGPROF);
    script_env::ignore(nix::sys::signal::Signal::SIGUSR2);
    let inherited = ignored_here() & !(1 << (libc::SIGUSR2 - 1));
    assert_ne!(inherited & (1 << (libc::SIGPROF - 1)), 0);
    vrrp::linux::script::record_inherited_signals(&keepalived_rs::daemon::signals::all_handled());
    let rec = Recorder::new("parent-script-env");
    let script = |tag: &str, user: Option<&str>| Script {
        args: rec.argv(tag),
        user: user.map(String::from),
        group: None,
    };
    let t = Duration::from_secs(10);
    assert_eq!(
        run("startup_script", &script("startup", None), None, t),
        Outcome::Exited(0)
    );
    let seen = rec.seen("startup");
    if !root() {
        script_env::assert_like_keepalived_unprivileged(&seen);
        eprintln!("SKIPPED (not root): user checks");
        return;
    }
    assert_like_keepalived(&seen, 0, 0, inherited);
    let sigign = seen.status.get("SigIgn").cloned().unwrap_or_default();
    let sigign = u64::from_str_radix(&sigign, 16).unwrap_or(0);
    assert_ne!(
        sigign & (1 << (libc::SIGPROF - 1)),
        0,
        "inherited SIGPROF kept"
    );
    // `script_user nobody` applies to the parent's scripts too.
    let global = Some(("nobody".to_string(), None));
    assert_eq!(
        run(
            "shutdown_script",
            &script("shutdown", None),
            global.as_ref(),
            t
        ),
        Outcome::Exited(0)
    );
    let nobody = nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .expect("nobody");
    assert_like_keepalived(
        &rec.seen("shutdown"),
        nobody.uid.as_raw(),
        nobody.gid.as_raw(),
        inherited,
    );
}
