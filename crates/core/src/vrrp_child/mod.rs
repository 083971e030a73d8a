//! The VRRP child body: the sans-IO [`vrrp::Engine`] driven by Linux I/O on one mio loop.
//!
//! [`main`] is the [`crate::daemon::child::VrrpMain`] of the VRRP child. It speaks the IPC
//! protocol of [`ka_proto::ipc::vrrp`] (Hello, optional Resume, Start, then Ready), maps the
//! configuration onto the engine ([`map`]), and runs [`session::Session`]: raw VRRP
//! sockets, the rtnetlink monitor, the IPC channel, script children, `track_file`s and a
//! timerfd armed at the engine's next deadline, all on one `mio::Poll`. Actions are carried
//! out in order with one exception that matters for failover: every advert of a batch is
//! sent first, then addresses are installed and GARPs sent, and only then come logs,
//! reports to the parent and notify scripts (which fork).
//!
//! A respawned child gets `Resume` with the states the parent kept: MASTER instances
//! resume MASTER at once (advert right away, addresses kept) so a crash of this process
//! is not an outage.

mod actions;
pub mod alerts;
pub mod dump;
mod firewall;
mod interfaces;
mod lvs_sync;
pub mod map;
pub mod net;
mod parent;
mod ratelog;
mod receive;
mod route_track;
pub mod sched;
pub mod scripts;
pub mod session;
mod setup;
mod stop;
mod trackers;
mod vip_track;

pub use session::Options;
pub use setup::StartError;

use crate::daemon::child::exit;
use ka_proto::ipc::vrrp::{ChildEnd, FromVrrp, ToVrrp};
use ka_proto::ipc::{ChannelError, Hello, InstanceSnapshot, Role, RunFlags};

/// The VRRP child's body: returns the process exit code.
pub fn main(ipc: ChildEnd) -> i32 {
    // Signals the parent handles must not kill this process. SIGTERM/SIGINT/SIGQUIT are
    // blocked since the fork and stop it cleanly through the session's signalfd (SIGTERM
    // also arrives when the parent dies, through PDEATHSIG, as does the IPC channel's end).
    for sig in [
        nix::sys::signal::Signal::SIGPIPE,
        nix::sys::signal::Signal::SIGHUP,
        nix::sys::signal::Signal::SIGUSR1,
        nix::sys::signal::Signal::SIGUSR2,
    ] {
        crate::sys::ignore_signal(sig);
    }
    run(ipc, Options::FORKED)
}

/// What the parent sent before the loop can start.
#[derive(Debug)]
pub struct StartRequest {
    /// The configuration.
    pub config: ka_proto::config::Config,
    /// Command-line switches.
    pub flags: RunFlags,
    /// States to resume (a respawn).
    pub resume: Vec<InstanceSnapshot>,
}

/// Say hello and wait for `Start` (after an optional `Resume`). `Err(code)`: exit now;
/// a parent of another build or protocol version is refused ([`Hello::check`]).
pub fn handshake(ipc: &mut ChildEnd) -> Result<StartRequest, i32> {
    ipc.set_nonblocking(false).map_err(|_| exit::FATAL)?;
    if ipc.send(&FromVrrp::Hello(Hello::new(Role::Vrrp))).is_err() {
        return Err(exit::OK);
    }
    let mut resume = Vec::new();
    loop {
        let msg = match ipc.recv() {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(ChannelError::Closed) => return Err(exit::OK),
            Err(e) => {
                log::error!("IPC from the parent: {e}");
                return Err(exit::PROGRAM_ERROR);
            }
        };
        match msg {
            ToVrrp::Hello(h) => {
                if let Err(e) = h.check(Role::Vrrp) {
                    log::error!("IPC hello from the parent refused: {e}");
                    return Err(exit::PROGRAM_ERROR);
                }
            }
            ToVrrp::Resume(v) => resume = v,
            ToVrrp::Start { config, flags } => {
                return Ok(StartRequest {
                    config: *config,
                    flags,
                    resume,
                })
            }
            ToVrrp::Stop => return Err(exit::OK),
            ToVrrp::Dump(kind) => {
                let _ = ipc.send(&FromVrrp::DumpText {
                    kind,
                    text: String::new(),
                });
            }
            // The parent sends it again after Ready.
            ToVrrp::Reload { .. } | ToVrrp::Maintenance { .. } => {}
            ToVrrp::Ping(n) => {
                let _ = ipc.send(&FromVrrp::Pong(n));
            }
            ToVrrp::Status => {
                let _ = ipc.send(&FromVrrp::Status(Box::default()));
            }
        }
    }
}

/// Run the child on `ipc` until `Stop`, SIGTERM (when `options.forked`) or the parent goes
/// away.
pub fn run(mut ipc: ChildEnd, options: Options) -> i32 {
    let start = match handshake(&mut ipc) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if options.forked {
        // Only in a real child process: the in-process tests run on a thread.
        for e in sched::apply(&sched::effective(&start.config.global.vrrp_sched)) {
            log::warn!("{e}");
        }
    }
    match session::Session::new(ipc, start, options) {
        Ok(s) => {
            // The configuration and the plan's intermediate copies are gone: give their
            // pages back (they are most of the heap the child ever used).
            crate::mem::trim();
            log::debug!("VRRP child set up: {}", crate::mem::summary());
            s.run()
        }
        Err(e) => {
            log::error!("VRRP child cannot start: {e}");
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod netns_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use ka_proto::ipc::vrrp;

    /// The parent's side of a handshake: `hello` then `Start`; the child's result.
    fn handshake_with(hello: Hello) -> Result<StartRequest, i32> {
        let (mut parent, mut child) = vrrp::pair().expect("socketpair");
        let child = std::thread::spawn(move || handshake(&mut child));
        assert!(matches!(parent.recv(), Ok(Some(FromVrrp::Hello(h))) if h.role == Role::Vrrp));
        parent.send(&ToVrrp::Hello(hello)).expect("send");
        // Gone already when the hello is refused.
        let _ = parent.send(&ToVrrp::Start {
            config: Box::default(),
            flags: RunFlags::default(),
        });
        child.join().expect("handshake thread")
    }

    #[test]
    fn a_parent_of_this_build_gets_to_start() {
        assert!(handshake_with(Hello::new(Role::Vrrp)).is_ok());
    }

    #[test]
    fn a_parent_of_another_build_is_refused() {
        let mut hello = Hello::new(Role::Vrrp);
        hello.build.commit = "0000000other".into();
        assert_eq!(handshake_with(hello).err(), Some(exit::PROGRAM_ERROR));
        let mut hello = Hello::new(Role::Vrrp);
        hello.build.version = "0.0.0-other".into();
        assert_eq!(handshake_with(hello).err(), Some(exit::PROGRAM_ERROR));
    }
}
