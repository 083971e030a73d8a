//! MISC_CHECK: a script run in its own process group, watched through a pidfd on the
//! loop, killed at `misc_timeout`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Child;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::failure::Failure;
use crate::net;
use crate::process::start;
use crate::spec::MiscSpec;

use super::step::Step;

/// A running MISC_CHECK script. Dropped before it was reaped (its engine replaced at a
/// reload, or gone), it is killed and handed to [`crate::process::orphans`].
pub struct MiscProbe {
    /// Always `Some` until dropped.
    child: Option<Child>,
    pidfd: OwnedFd,
    dynamic: bool,
    killed: bool,
}

impl MiscProbe {
    /// Spawn the script (stdin/stdout/stderr on /dev/null, own process group, as `user`).
    pub fn start(m: &MiscSpec, reg: &Registry, token: Token) -> Result<MiscProbe, Failure> {
        let Some(prog) = m.argv.first() else {
            return Err(Failure::Misc("empty misc_path".into()));
        };
        let child = start(&m.argv, m.user)
            .map_err(|e| Failure::Misc(format!("cannot run {prog:?}: {e}")))?;
        let pidfd = match net::pidfd_open(child.id()) {
            Ok(fd) => fd,
            Err(e) => {
                let mut p = MiscProbe {
                    child: Some(child),
                    pidfd: std::fs::File::open("/dev/null")
                        .map_err(|e| Failure::Misc(e.to_string()))?
                        .into(),
                    dynamic: m.dynamic,
                    killed: false,
                };
                p.kill();
                return Err(Failure::Misc(format!("pidfd_open: {e}")));
            }
        };
        reg.register(&mut SourceFd(&pidfd.as_raw_fd()), token, Interest::READABLE)
            .map_err(|e| Failure::Misc(format!("register pidfd: {e}")))?;
        Ok(MiscProbe {
            child: Some(child),
            pidfd,
            dynamic: m.dynamic,
            killed: false,
        })
    }

    /// Kill the script's process group (timeout or shutdown). The child is reaped later by
    /// [`MiscProbe::try_reap`].
    pub fn kill(&mut self) {
        if !self.killed {
            self.killed = true;
            if let Some(c) = &self.child {
                crate::process::kill_group(c, libc::SIGKILL);
            }
        }
    }

    /// Reap without blocking; true once the child is gone.
    pub fn try_reap(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// The pidfd became readable: the script ended.
    pub fn on_event(&mut self) -> Step {
        let _ = self.pidfd.as_raw_fd();
        let Some(child) = self.child.as_mut() else {
            return Step::Fail(Failure::Misc("no process".into()));
        };
        let status = match child.try_wait() {
            Ok(Some(s)) => s,
            Ok(None) => return Step::Pending,
            Err(e) => return Step::Fail(Failure::Misc(format!("wait: {e}"))),
        };
        if let Some(sig) = status.signal() {
            return Step::Fail(Failure::Misc(format!("killed by signal {sig}")));
        }
        let rc = status.code().unwrap_or(255);
        match misc_verdict(rc, self.dynamic) {
            Ok(w) => Step::Pass(w),
            Err(f) => Step::Fail(f),
        }
    }
}

impl Drop for MiscProbe {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(None)) {
            if !self.killed {
                crate::process::kill_group(&child, libc::SIGKILL);
            }
            // Killed: it is gone at once, so shutdown may wait for it.
            crate::process::orphans::adopt(child, Some(std::time::Instant::now()));
        }
    }
}

/// keepalived's reading of a script's exit code: 0 passes; with `misc_dynamic` 1 fails and
/// 2..=255 pass with weight rc-2; without it anything but 0 fails.
pub fn misc_verdict(rc: i32, dynamic: bool) -> Result<Option<i64>, Failure> {
    match (rc, dynamic) {
        (0, _) => Ok(None),
        (2..=255, true) => Ok(Some(i64::from(rc - 2))),
        (rc, _) => Err(Failure::Misc(format!("exited with status {rc}"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn misc_codes() {
        assert_eq!(misc_verdict(0, false), Ok(None));
        assert!(misc_verdict(1, false).is_err());
        assert!(misc_verdict(3, false).is_err());
        assert_eq!(misc_verdict(3, true), Ok(Some(1)));
        assert_eq!(misc_verdict(2, true), Ok(Some(0)));
        assert!(misc_verdict(1, true).is_err());
    }
}
