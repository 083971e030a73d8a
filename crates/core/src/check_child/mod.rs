//! The checker child's body (`Keepalived_healthcheckers`): one mio loop carrying the IPC
//! channel to the parent and every health check, programming IPVS from the results.
//!
//! [`main`] has the shape of the parent's `CheckerMain` (`fn(checker::ChildEnd) -> i32`).
//! It speaks the protocol of [`ka_proto::ipc::checker`]:
//!
//! * `Start{config, flags}`: checks are built from the config, the IPVS table is
//!   programmed with every real server as keepalived starts it (up, unless `alpha`;
//!   failed ones out or at weight 0 with `inhibit_on_failure`; the sorry server while
//!   quorum is lost), then `Ready`, then a `ServiceState` for every virtual and real
//!   server.
//! * health changes: the table follows (by difference), `notify_up`/`notify_down`,
//!   `quorum_up`/`quorum_down` and `lvs_notify_fifo` lines are handled by
//!   [`runtime::Runtime`]; the parent gets a `ServiceState` per change (a virtual
//!   server's is its quorum).
//! * `Reload{config}`: checks are rebuilt, keeping the state of those that did not change;
//!   IPVS is brought to the new table by difference (no flush), so unchanged services and
//!   destinations are not touched.
//! * `Dump`: `keepalived_check.data` in keepalived 2.4.3's lines ([`dump::data_text`],
//!   also logged at start with `-d`); for `Json`, its status report as JSON
//!   ([`dump::json_text`]).
//! * `Status` (`ctl status`, a metrics scrape): the typed report ([`dump::report`]) of its
//!   servers, checkers, counts per kind and IPVS counters.
//! * `RealServer` (`ctl real-server disable|enable`): a real server to weight 0 or back,
//!   through the scheduler; answered with `RealServerDone`.
//! * `VrrpInstance` from the VRRP child: `ha_suspend` virtual servers pause their
//!   checks while their address is not on this host.
//! * `Stop` (or the parent gone): `omega` notifications, then the IPVS topology is removed
//!   unless `-I` (`RunFlags::dont_release_ipvs`); exit 0.
//!
//! Without IPVS in the kernel the child logs it once, keeps checking and keeps the table
//! it would program (shown in the dump).

pub mod alerts;
pub mod dump;
pub mod effective;
pub mod exit;
pub mod fifos;
pub mod ipvs;
pub mod runtime;
pub mod sched;

mod session;

use ka_proto::ipc::checker::{ChildEnd, FromChecker};
use ka_proto::ipc::{Hello, Role};

use session::{stop_signals_blocked, Flow, Session};

/// The checker child's body: runs until `Stop` or until the parent goes away and returns
/// the exit code.
pub fn main(ipc: ChildEnd) -> i32 {
    if let Err(e) = ipc.set_nonblocking(true) {
        log::error!("IPC: cannot make the channel non-blocking: {e}");
        return exit::FATAL;
    }
    // Signals the parent handles must not kill this process (as in the VRRP child).
    for sig in [
        nix::sys::signal::Signal::SIGPIPE,
        nix::sys::signal::Signal::SIGHUP,
        nix::sys::signal::Signal::SIGUSR1,
        nix::sys::signal::Signal::SIGUSR2,
    ] {
        if stop_signals_blocked() {
            crate::sys::ignore_signal(sig);
        }
    }
    let mut child = match Session::open(ipc) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Flow::Exit(code) = child.send(FromChecker::Hello(Hello::new(Role::Checker))) {
        return code;
    }
    child.run()
}
