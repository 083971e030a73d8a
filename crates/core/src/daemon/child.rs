//! The two children: how they are forked, and the boundary their bodies plug into.
//!
//! A child body is a plain function, [`VrrpMain`] or [`CheckerMain`]: it gets its end of
//! its IPC channel (blocking mode; switch it with
//! [`ka_proto::ipc::Channel::set_nonblocking`] to drive it from mio), typed so that it
//! can only send and read its own child's messages, and returns the process exit code (0 OK, 1 fatal, 2 config, 4 missing
//! permission: those three stop the parent; anything else gets the child respawned).
//!
//! When the body runs:
//! * the process is a fresh fork of the parent with only stdin/stdout/stderr and the IPC
//!   socket open; every signal is back at its default action, and SIGTERM, SIGINT and
//!   SIGQUIT are blocked ([`signals::child_stop_set`]): read them from a signalfd (they
//!   have been blocked since before the fork, so none is lost and none kills the child);
//!   processes the body starts with `std::process::Command` get an empty mask;
//! * `PR_SET_PDEATHSIG` is SIGTERM: the child dies with the parent;
//! * the `log` macros go to syslog as `Keepalived_vrrp` / `Keepalived_healthcheckers`
//!   (and to the console with `-l`).
//!
//! The protocol the body speaks is described in [`ka_proto::ipc::vrrp`] and
//! [`ka_proto::ipc::checker`]. The built-in [`placeholder`] checker body implements it
//! minimally so the parent can be tested for real with bodies written for a test
//! (`tests/daemon_exit_codes.rs` hands [`run_with`](super::run_with) its own [`Bodies`]);
//! [`Bodies::default`] names the bodies the binary uses, [`crate::vrrp_child::main`] and
//! [`crate::check_child::main`].

use super::{logging, signals, sys};
use ka_proto::ipc::checker::{self, FromChecker, ToChecker};
use ka_proto::ipc::{vrrp, Channel, ChannelError, DumpKind, Hello};
use nix::sys::signal::{SigSet, SigmaskHow};
use std::io;
use std::os::fd::AsRawFd;

pub use ka_proto::ipc::Role;

/// The VRRP child's body: runs the child and returns its exit code.
pub type VrrpMain = fn(ipc: vrrp::ChildEnd) -> i32;

/// The checker child's body: runs the child and returns its exit code.
pub type CheckerMain = fn(ipc: checker::ChildEnd) -> i32;

/// keepalived's exit codes: the one list, [`ka_proto::exit`].
pub use ka_proto::exit;

/// The bodies the parent forks.
#[derive(Debug, Clone, Copy)]
pub struct Bodies {
    /// The VRRP child.
    pub vrrp: VrrpMain,
    /// The checker child.
    pub checker: CheckerMain,
}

impl Default for Bodies {
    /// The bodies of the binary.
    fn default() -> Self {
        Bodies {
            vrrp: crate::vrrp_child::main,
            checker: crate::check_child::main,
        }
    }
}

/// `--ignore-sigint`: the children ignore SIGINT too (set by the parent before forking).
static IGNORE_SIGINT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Make the children forked from now on ignore SIGINT (`--ignore-sigint`), as the parent
/// does: a Ctrl-C to the process group then stops nothing.
pub fn set_ignore_sigint(on: bool) {
    IGNORE_SIGINT.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Fork the `role` child running `body` on its end of a new channel (`Out`/`In` are the
/// parent's: what it sends and reads). Returns the child's pid and the parent's end of the
/// channel (non-blocking). Never returns in the child.
pub fn spawn<Out, In>(
    role: Role,
    body: fn(Channel<In, Out>) -> i32,
) -> io::Result<(i32, Channel<Out, In>)>
where
    Out: serde::Serialize + serde::de::DeserializeOwned,
    In: serde::Serialize + serde::de::DeserializeOwned,
{
    let (parent_end, child_end) = Channel::<Out, In>::pair()?;
    parent_end.set_nonblocking(true)?;
    let parent_pid = nix::unistd::getpid();
    // Block every signal the parent handles (and the stop signals) across the fork: the
    // child starts with them blocked, so a SIGTERM that arrives before its loop reads its
    // signalfd waits as pending instead of killing it with the VIPs installed. The parent
    // gets its mask back at once (anything that came meanwhile is delivered then).
    let mut block = signals::child_stop_set();
    for sig in signals::all_handled() {
        if let Ok(s) = nix::sys::signal::Signal::try_from(sig) {
            block.add(s);
        }
    }
    let mut old = SigSet::empty();
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&block), Some(&mut old));
    let forked = sys::fork();
    if !matches!(forked, Ok(sys::Forked::Child)) {
        let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    }
    match forked? {
        sys::Forked::Parent(pid) => {
            drop(child_end);
            Ok((pid, parent_end))
        }
        sys::Forked::Child => {
            // This process must never return into the parent's code.
            std::mem::forget(parent_end);
            let code = child_start(role, body, child_end, parent_pid);
            sys::exit_now(code)
        }
    }
}

fn child_start<Out, In>(
    role: Role,
    body: fn(Channel<Out, In>) -> i32,
    ipc: Channel<Out, In>,
    parent: nix::unistd::Pid,
) -> i32 {
    // The parent's handlers must not run here (they write to the parent's self-pipe).
    // The signal-hook registry copied from the parent still believes they are installed,
    // so the child never uses signal-hook: the stop signals stay blocked and the body
    // reads them from a signalfd ([`signals::child_stop_set`]); the rest are unblocked.
    for sig in signals::all_handled() {
        sys::reset_signal(sig);
    }
    let mut mask = signals::child_stop_set();
    if IGNORE_SIGINT.load(std::sync::atomic::Ordering::Relaxed) {
        // Ignored and not blocked: discarded when sent, so it never reaches the body's
        // signalfd (Linux queues a blocked signal even when it is ignored).
        mask.remove(nix::sys::signal::Signal::SIGINT);
        sys::ignore_signal(nix::sys::signal::Signal::SIGINT);
    }
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM);
    if nix::unistd::getppid() != parent {
        // The parent died between fork and prctl.
        return exit::OK;
    }
    sys::closelog();
    let mut keep = logging::kept_fds();
    keep.push(ipc.as_raw_fd());
    sys::close_fds_except(&keep);
    let prefix = match role {
        Role::Vrrp => "[vrrp] ",
        Role::Checker => "[check] ",
    };
    logging::set_ident(role.ident(), prefix);
    let _ = ipc.set_nonblocking(false);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(ipc))) {
        Ok(code) => code,
        Err(_) => exit::PROGRAM_ERROR,
    }
}

/// A minimal checker body that speaks the protocol: says hello, `Ready` after `Start` and
/// each `Reload`, answers `Dump` with a short text, exits 0 on `Stop` or when the parent
/// goes away. It runs no checks.
pub fn placeholder(mut ipc: checker::ChildEnd) -> i32 {
    let role = Role::Checker;
    // No loop to read a signalfd: the stop signals end it by their default action.
    let _ = nix::sys::signal::sigprocmask(
        SigmaskHow::SIG_UNBLOCK,
        Some(&signals::child_stop_set()),
        None,
    );
    if ipc.send(&FromChecker::Hello(Hello::new(role))).is_err() {
        return exit::OK;
    }
    let mut reloads = 0u32;
    let mut started = false;
    loop {
        let msg = match ipc.recv() {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(ChannelError::Closed) => return exit::OK,
            Err(e) => {
                log::error!("IPC from the parent: {e}");
                return exit::PROGRAM_ERROR;
            }
        };
        let reply = match msg {
            ToChecker::Hello(h) => {
                if let Err(e) = h.check(role) {
                    log::error!("IPC hello from the parent refused: {e}");
                    return exit::PROGRAM_ERROR;
                }
                None
            }
            ToChecker::Start { .. } => {
                started = true;
                log::info!("placeholder {role} child started");
                Some(FromChecker::Ready)
            }
            ToChecker::Reload { .. } => {
                reloads += 1;
                log::info!("placeholder {role} child: reload {reloads}");
                Some(FromChecker::Ready)
            }
            ToChecker::Dump(kind) => Some(FromChecker::DumpText {
                kind,
                text: placeholder_dump(role, kind, started, reloads),
            }),
            ToChecker::Stop => {
                log::info!("Stopped");
                return exit::OK;
            }
            ToChecker::VrrpInstance(s) => {
                log::debug!("VRRP instance {s:?}");
                None
            }
            ToChecker::Ping(n) => Some(FromChecker::Pong(n)),
            ToChecker::Status => Some(FromChecker::Status(Box::default())),
            // It has no real server.
            ToChecker::RealServer {
                virtual_server,
                real_server,
                disabled,
            } => Some(FromChecker::RealServerDone {
                virtual_server,
                real_server,
                disabled,
                found: false,
            }),
        };
        if let Some(m) = reply {
            if ipc.send(&m).is_err() {
                return exit::OK;
            }
        }
    }
}

fn placeholder_dump(role: Role, kind: DumpKind, started: bool, reloads: u32) -> String {
    match kind {
        DumpKind::Json => "[]\n".to_string(),
        _ => format!(
            "------< placeholder {role} child >------\n pid = {}\n started = {started}\n reloads = {reloads}\n",
            std::process::id()
        ),
    }
}
