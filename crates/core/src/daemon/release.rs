//! VIPs left behind by a VRRP child that is not running: the parent has them released.
//!
//! A VRRP child that dies while MASTER leaves its addresses installed (that is what makes
//! the no-outage respawn possible). Some moments leave them unattended, with a backup that
//! would take them over after a master-down interval, i.e. the VIP on two hosts:
//!
//! * the child keeps dying and the watchdog delays its next start (up to 60 s);
//! * the daemon stops while no child runs (during that delay, or just after a crash), a
//!   child dies while stopping, or a late one is killed at the stop deadline.
//!
//! Then the host leaves VRRP as a full stop does. First with [`leave`]: a fresh VRRP child
//! resumes the instances the last one reported MASTER with addresses installed and is
//! told to stop at once, so its ordinary stop sends their priority-0 adverts (the backup
//! takes over a skew time later, not a master-down interval) and removes their addresses,
//! routes and rules. If that child cannot start, fails, dies or does not finish in time,
//! [`release`] does the removal in the parent with the same netlink code the child uses
//! (then without the priority-0 advert: the backup waits its master-down interval, the VIP
//! on no host meanwhile, the safe side); it runs in-process with no fork, so it works even
//! when no child can start at all. After a clean [`leave`], [`release`] runs once more as
//! a quiet sweep (removing what is already gone changes nothing).

use super::child::{self, VrrpMain};
use crate::vrrp_child::{map, net::Net};
use ka_proto::config::Config;
use ka_proto::ipc::vrrp::{FromVrrp, ToVrrp};
use ka_proto::ipc::{ChannelError, Hello, InstanceSnapshot, Role, RunFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Fork a VRRP child running `body` that resumes `held` (MASTER snapshots) under `config`
/// and `flags`, and stops at once: its stop sends the priority-0 adverts and removes the
/// addresses. Waits for it at most `bound` (then kills it). `Ok` with what it reported
/// when it exited 0, `Err(why)` otherwise: the caller then falls back to [`release`].
pub fn leave(
    body: VrrpMain,
    config: Config,
    flags: &RunFlags,
    held: Vec<InstanceSnapshot>,
    bound: Duration,
) -> Result<Vec<FromVrrp>, String> {
    let (pid, mut chan) =
        child::spawn(Role::Vrrp, body).map_err(|e| format!("cannot fork it: {e}"))?;
    log::info!("Starting VRRP child process, pid={pid}, to leave VRRP (priority 0)");
    let msgs = [
        ToVrrp::Hello(Hello::new(Role::Vrrp)),
        ToVrrp::Resume(held),
        ToVrrp::Start {
            config: Box::new(config),
            flags: flags.clone(),
        },
    ];
    let deadline = Instant::now() + bound;
    let mut got = Vec::new();
    let mut sent = msgs.iter().all(|m| chan.send(m).is_ok());
    // `Stop` only once it is running (`Ready`): sent with `Start`, it could be read into
    // the child's buffer along with it and wait there unnoticed.
    let mut stop_sent = false;
    loop {
        if sent {
            sent = !matches!(
                chan.flush(),
                Err(ChannelError::Io(_) | ChannelError::Codec(_))
            );
        }
        while let Ok(Some(m)) = chan.recv() {
            if matches!(m, FromVrrp::Ready) && !stop_sent && sent {
                stop_sent = true;
                sent = chan.send(&ToVrrp::Stop).is_ok();
                continue;
            }
            got.push(m);
        }
        let why = match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, 0)) => {
                while let Ok(Some(m)) = chan.recv() {
                    got.push(m);
                }
                return Ok(got);
            }
            Ok(WaitStatus::Exited(_, c)) => Some(format!("it exited with status {c}")),
            Ok(WaitStatus::Signaled(_, s, _)) => Some(format!("it died of {s}")),
            Ok(_) => None,
            Err(e) => Some(format!("waitpid: {e}")),
        };
        if let Some(why) = why {
            return Err(why);
        }
        if !sent || Instant::now() >= deadline {
            let pid = Pid::from_raw(pid);
            // The channel fails when the child dies: say how it ended rather than that.
            if !sent {
                if let Some(why) = ended_within(pid, Duration::from_millis(300)) {
                    return Err(why);
                }
            }
            // Normally scheduled, a starved child dies as soon as the kernel gives it a
            // CPU; and it is never waited for blocked (see `parent::starve`).
            super::parent::starve::demote(pid.as_raw());
            let _ = kill(pid, Signal::SIGKILL);
            let _ = ended_within(pid, Duration::from_secs(2));
            return Err(if sent {
                format!("it did not stop within {} ms", bound.as_millis())
            } else {
                "its IPC channel failed".to_string()
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Wait up to `limit` for `pid` to end, polling: how it ended, or None if it is still there.
fn ended_within(pid: Pid, limit: Duration) -> Option<String> {
    let end = Instant::now() + limit;
    loop {
        match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, c)) => return Some(format!("it exited with status {c}")),
            Ok(WaitStatus::Signaled(_, s, _)) => return Some(format!("it died of {s}")),
            Ok(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(5)),
            Ok(_) => return None,
            Err(e) => return Some(format!("waitpid: {e}")),
        }
    }
}

/// Remove what a dead VRRP child left: the sets of the instances named in `held` (all
/// instances with `-X`), and the static addresses when `statics`. Nothing with `-V`.
/// `sweep`: after a clean [`leave`], only making sure (logged at debug level).
/// Returns how many instance sets were removed.
pub fn release(
    config: &Config,
    flags: &RunFlags,
    held: &BTreeSet<String>,
    statics: bool,
    sweep: bool,
) -> usize {
    if flags.dont_release_vrrp {
        return 0;
    }
    let plan = map::plan(config);
    let chosen: Vec<_> = plan
        .engine
        .instances
        .iter()
        .filter(|c| flags.release_vips || held.contains(&c.name))
        .filter(|c| !c.addresses.is_empty())
        .collect();
    if chosen.is_empty() && (!statics || plan.statics.is_empty()) {
        return 0;
    }
    let mut net = match Net::open() {
        Ok(n) => n,
        Err(e) => {
            log::error!("cannot remove the VIPs of the stopped VRRP child: {e}");
            return 0;
        }
    };
    for c in &chosen {
        if sweep {
            log::debug!("({}) making sure the VIPs are gone", c.name);
        } else {
            log::info!("({}) removing VIPs (no VRRP child running)", c.name);
        }
        for e in net.del_set(&c.interface, &c.addresses) {
            log::warn!("({}) removing VIPs: {e}", c.name);
        }
    }
    if statics && !plan.statics.is_empty() {
        for e in net.del_set("", &plan.statics) {
            log::debug!("static addresses: {e}");
        }
    }
    chosen.len()
}
