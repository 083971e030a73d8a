//! The VRRP child body: the sans-IO [`vrrp::Engine`] driven by Linux I/O on one mio loop.
//!
//! [`main`] is the [`crate::daemon::child::ChildMain`] of the VRRP child. It speaks the IPC
//! protocol of [`ka_proto::ipc`] (Hello, optional Resume, Start, then Ready), maps the
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

pub mod alerts;
pub mod dump;
pub mod map;
pub mod net;
pub mod sched;
pub mod scripts;
pub mod session;

use crate::daemon::child::exit;
use ka_proto::ipc::{
    Channel, ChannelError, FromChild, Hello, InstanceSnapshot, Role, RunFlags, ToChild,
    PROTOCOL_VERSION,
};

/// The VRRP child's body: returns the process exit code.
pub fn main(ipc: Channel, role: Role) -> i32 {
    if role != Role::Vrrp {
        log::error!("the VRRP body was started as the {role} child");
        return exit::PROGRAM_ERROR;
    }
    // Signals the parent handles must not kill this process. SIGTERM/SIGINT/SIGQUIT are
    // blocked since the fork and stop it cleanly through the session's signalfd (SIGTERM
    // also arrives when the parent dies, through PDEATHSIG, as does the IPC channel's end).
    for sig in [
        nix::sys::signal::Signal::SIGPIPE,
        nix::sys::signal::Signal::SIGHUP,
        nix::sys::signal::Signal::SIGUSR1,
        nix::sys::signal::Signal::SIGUSR2,
    ] {
        // SAFETY: installing SIG_IGN runs no code in signal context.
        let _ = unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigIgn) };
    }
    run(ipc, true)
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

/// Say hello and wait for `Start` (after an optional `Resume`). `Err(code)`: exit now.
pub fn handshake(ipc: &mut Channel) -> Result<StartRequest, i32> {
    ipc.set_nonblocking(false).map_err(|_| exit::FATAL)?;
    if ipc.send(&FromChild::Hello(Hello::new(Role::Vrrp))).is_err() {
        return Err(exit::OK);
    }
    let mut resume = Vec::new();
    loop {
        let msg = match ipc.recv::<ToChild>() {
            Ok(Some(m)) => m,
            Ok(None) => continue,
            Err(ChannelError::Closed) => return Err(exit::OK),
            Err(e) => {
                log::error!("IPC from the parent: {e}");
                return Err(exit::PROGRAM_ERROR);
            }
        };
        match msg {
            ToChild::Hello(h) => {
                if h.version != PROTOCOL_VERSION || h.role != Role::Vrrp {
                    log::error!("unexpected hello from the parent: {h:?}");
                    return Err(exit::PROGRAM_ERROR);
                }
            }
            ToChild::Resume(v) => resume = v,
            ToChild::Start { config, flags } => {
                return Ok(StartRequest {
                    config: *config,
                    flags,
                    resume,
                })
            }
            ToChild::Stop => return Err(exit::OK),
            ToChild::Dump(kind) => {
                let _ = ipc.send(&FromChild::DumpText {
                    kind,
                    text: String::new(),
                });
            }
            ToChild::Reload { .. } | ToChild::PeerEvent(_) => {}
        }
    }
}

/// Run the child on `ipc` until `Stop`, SIGTERM (when `signals`) or the parent goes away.
pub fn run(mut ipc: Channel, signals: bool) -> i32 {
    let start = match handshake(&mut ipc) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if signals {
        // Only in a real child process: the in-process tests run on a thread.
        for e in sched::apply(&sched::effective(&start.config.global.vrrp_sched)) {
            log::warn!("{e}");
        }
    }
    match session::Session::new(ipc, start, signals) {
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
