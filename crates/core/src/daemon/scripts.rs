//! The parent's own scripts: `startup_script` (run before the children are forked) and
//! `shutdown_script` (run after they have exited), each with its timeout, as keepalived
//! runs them. The parent waits for them; one that overruns its timeout is killed.

use ka_proto::config::Script;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// Run `script` and wait at most `timeout` for it. `what` names it in the log
/// (`startup_script`, `shutdown_script`).
pub fn run(what: &str, script: &Script, timeout: Duration) -> Outcome {
    let outcome = run_inner(script, timeout);
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

fn run_inner(script: &Script, timeout: Duration) -> Outcome {
    let Some((prog, args)) = script.args.split_first() else {
        return Outcome::NotStarted("empty command".into());
    };
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .env_remove("LD_PRELOAD")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("IFS")
        .process_group(0);
    if let Some(user) = &script.user {
        match nix::unistd::User::from_name(user) {
            Ok(Some(u)) => {
                let gid = match &script.group {
                    Some(g) => match nix::unistd::Group::from_name(g) {
                        Ok(Some(g)) => g.gid,
                        _ => return Outcome::NotStarted(format!("unknown group {g}")),
                    },
                    None => u.gid,
                };
                cmd.uid(u.uid.as_raw()).gid(gid.as_raw());
            }
            _ => return Outcome::NotStarted(format!("unknown user {user}")),
        }
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
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
        assert_eq!(run("t", &script(&["true"]), s), Outcome::Exited(0));
        assert_eq!(
            run("t", &script(&["sh", "-c", "exit 3"]), s),
            Outcome::Exited(3)
        );
        let t = Instant::now();
        assert_eq!(
            run("t", &script(&["sleep", "10"]), Duration::from_millis(200)),
            Outcome::TimedOut
        );
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(matches!(
            run("t", &script(&["/nonexistent/prog"]), s),
            Outcome::NotStarted(_)
        ));
        assert!(matches!(run("t", &script(&[]), s), Outcome::NotStarted(_)));
    }
}
