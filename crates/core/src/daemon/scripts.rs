//! The parent's own scripts: `startup_script` (run before the children are forked) and
//! `shutdown_script` (run after they have exited), each with its timeout, as keepalived
//! runs them. The parent waits for them; one that overruns its timeout is killed.

use ka_proto::config::Script;
use std::time::{Duration, Instant};
use vrrp::linux::script::{launch, ScriptError};

/// How a script run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal (not by us).
    Signaled(i32),
    /// Overran its timeout and was killed.
    TimedOut,
    /// Could not be started.
    NotStarted(String),
}

/// Run `script` (as its user, else `script_user`, else keepalived's default:
/// [`vrrp::linux::script::script_user`]; started by the daemon's one launcher, [`launch`]) and wait at most `timeout` for it. `what` names it in the log
/// (`startup_script`, `shutdown_script`).
pub fn run(
    what: &str,
    script: &Script,
    script_user: Option<&(String, Option<String>)>,
    timeout: Duration,
) -> Outcome {
    let outcome = run_inner(script, script_user, timeout);
    let cmd = script.command_line();
    match &outcome {
        Outcome::Exited(0) => log::info!("{what} '{cmd}' completed"),
        Outcome::Exited(c) => log::warn!("{what} '{cmd}' exited with status {c}"),
        Outcome::Signaled(s) => log::warn!("{what} '{cmd}' was killed by signal {s}"),
        Outcome::TimedOut => log::warn!(
            "{what} '{cmd}' timed out after {} s, killed",
            timeout.as_secs_f64()
        ),
        Outcome::NotStarted(e) => log::error!("{what} '{cmd}' could not be started: {e}"),
    }
    outcome
}

fn run_inner(
    script: &Script,
    script_user: Option<&(String, Option<String>)>,
    timeout: Duration,
) -> Outcome {
    let own = script.user.as_deref().map(|u| (u, script.group.as_deref()));
    let global = script_user.map(|(u, g)| (u.as_str(), g.as_deref()));
    let user = match vrrp::linux::script::script_user(own, global) {
        Ok(u) => u,
        Err(e) => return Outcome::NotStarted(e.to_string()),
    };
    let mut child = match launch(&script.args, user) {
        Ok(c) => c,
        Err(ScriptError::Spawn { source, .. }) => return Outcome::NotStarted(source.to_string()),
        Err(e) => return Outcome::NotStarted(e.to_string()),
    };
    let t = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                use std::os::unix::process::ExitStatusExt;
                return match (st.code(), st.signal()) {
                    (Some(c), _) => Outcome::Exited(c),
                    (None, Some(s)) => Outcome::Signaled(s),
                    (None, None) => Outcome::Exited(-1),
                };
            }
            Ok(None) => {}
            Err(e) => return Outcome::NotStarted(e.to_string()),
        }
        if t.elapsed() >= timeout {
            // The whole process group: the script and anything it started.
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.kill();
            let _ = child.wait();
            return Outcome::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(args: &[&str]) -> Script {
        Script {
            args: args.iter().map(|s| s.to_string()).collect(),
            user: None,
            group: None,
        }
    }

    #[test]
    fn exit_codes_timeouts_and_missing_programs() {
        let s = Duration::from_secs(5);
        assert_eq!(run("t", &script(&["true"]), None, s), Outcome::Exited(0));
        assert_eq!(
            run("t", &script(&["sh", "-c", "exit 3"]), None, s),
            Outcome::Exited(3)
        );
        let t = Instant::now();
        assert_eq!(
            run(
                "t",
                &script(&["sleep", "10"]),
                None,
                Duration::from_millis(200)
            ),
            Outcome::TimedOut
        );
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(matches!(
            run("t", &script(&["/nonexistent/prog"]), None, s),
            Outcome::NotStarted(_)
        ));
        assert!(matches!(
            run("t", &script(&[]), None, s),
            Outcome::NotStarted(_)
        ));
    }
}
