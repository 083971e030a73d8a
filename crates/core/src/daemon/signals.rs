//! Signals the parent acts on, and keepalived's `--signum` names for them.
//!
//! | name          | signal      | parent action                                   |
//! |---------------|-------------|-------------------------------------------------|
//! | `STOP`        | SIGTERM     | stop the children (5 s, then SIGKILL), exit     |
//! | (also)        | SIGINT      | same, unless `--ignore-sigint`                  |
//! | (also)        | SIGQUIT     | same                                            |
//! | `RELOAD`      | SIGHUP      | parse the config again, send it as `Reload`     |
//! | `DATA`        | SIGUSR1     | `keepalived_parent.data` + children's dumps     |
//! | `STATS`       | SIGUSR2     | VRRP child: `keepalived.stats`                  |
//! | `STATS_CLEAR` | SIGRTMAX-1  | VRRP child: `keepalived.stats`, then zeroed     |
//! | `JSON`        | SIGRTMIN+2  | VRRP child: `keepalived.json`                   |

use ka_proto::ipc::DumpKind;

/// keepalived's signal number for a `--signum` name (`STOP`, `RELOAD`, `DATA`, `STATS`,
/// `STATS_CLEAR`, `JSON`); names are case-sensitive as in keepalived.
pub fn signum(name: &str) -> Option<i32> {
    match name {
        "STOP" => Some(libc::SIGTERM),
        "RELOAD" => Some(libc::SIGHUP),
        "DATA" => Some(libc::SIGUSR1),
        "STATS" => Some(libc::SIGUSR2),
        "STATS_CLEAR" => Some(stats_clear()),
        "JSON" => Some(json()),
        _ => None,
    }
}

/// The JSON dump signal, SIGRTMIN+2.
pub fn json() -> i32 {
    libc::SIGRTMIN() + 2
}

/// The stats-and-clear signal, SIGRTMAX-1.
pub fn stats_clear() -> i32 {
    libc::SIGRTMAX() - 1
}

/// What a received signal means to the parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// SIGTERM / SIGINT / SIGQUIT.
    Stop,
    /// SIGHUP.
    Reload,
    /// A dump.
    Dump(DumpKind),
    /// SIGCHLD: reap.
    Child,
    /// Nothing to do.
    Ignore,
}

/// The signals the parent registers for (SIGINT only without `--ignore-sigint`).
pub fn parent_signals(ignore_sigint: bool) -> Vec<i32> {
    let mut v = vec![
        libc::SIGTERM,
        libc::SIGQUIT,
        libc::SIGHUP,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGCHLD,
        json(),
        stats_clear(),
    ];
    if !ignore_sigint {
        v.push(libc::SIGINT);
    }
    v
}

/// Every signal a parent might have a handler for: a forked child resets them.
pub fn all_handled() -> Vec<i32> {
    let mut v = parent_signals(false);
    v.push(libc::SIGPIPE);
    v
}

/// The signals that stop a child cleanly (SIGTERM, SIGINT, SIGQUIT): blocked from the
/// moment of the fork and read by the child's loop from a signalfd, so there is no
/// window in which one of them kills the child by its default action (the VIPs left
/// behind). SIGTERM is also the child's parent-death signal.
pub fn child_stop_set() -> nix::sys::signal::SigSet {
    use nix::sys::signal::Signal;
    let mut set = nix::sys::signal::SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGQUIT] {
        set.add(s);
    }
    set
}

/// Map a signal number to the parent's action.
pub fn action(sig: i32) -> Action {
    match sig {
        libc::SIGTERM | libc::SIGINT | libc::SIGQUIT => Action::Stop,
        libc::SIGHUP => Action::Reload,
        libc::SIGUSR1 => Action::Dump(DumpKind::Data),
        libc::SIGUSR2 => Action::Dump(DumpKind::Stats),
        libc::SIGCHLD => Action::Child,
        s if s == json() => Action::Dump(DumpKind::Json),
        s if s == stats_clear() => Action::Dump(DumpKind::StatsClear),
        _ => Action::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_keepalived_2_2_7() {
        // `keepalived --signum=X` on this machine (Debian 2.2.7, glibc).
        let want = [
            ("STOP", 15),
            ("RELOAD", 1),
            ("DATA", 10),
            ("STATS", 12),
            ("STATS_CLEAR", 63),
            ("JSON", 36),
        ];
        for (name, n) in want {
            assert_eq!(signum(name), Some(n), "{name}");
        }
        assert_eq!(signum("stop"), None);
        assert_eq!(signum("TDUMP"), None);
    }

    #[test]
    fn actions() {
        assert_eq!(action(15), Action::Stop);
        assert_eq!(action(2), Action::Stop);
        assert_eq!(action(3), Action::Stop);
        // Every stop signal is handled by the parent and blocked in a new child.
        for sig in child_stop_set().iter() {
            assert!(all_handled().contains(&(sig as i32)), "{sig}");
            assert_eq!(action(sig as i32), Action::Stop, "{sig}");
        }
        assert!(parent_signals(true).contains(&libc::SIGQUIT));
        assert_eq!(action(1), Action::Reload);
        assert_eq!(action(36), Action::Dump(DumpKind::Json));
        assert_eq!(action(63), Action::Dump(DumpKind::StatsClear));
        assert_eq!(action(28), Action::Ignore);
    }
}
