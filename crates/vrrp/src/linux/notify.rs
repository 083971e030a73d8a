//! Notifications: the arguments keepalived gives notify scripts and the lines it writes to
//! `notify_fifo`, and a non-blocking FIFO writer.
//!
//! Observed with keepalived 2.2.7 (an instance in a sync group, `notify` and `notify_fifo`):
//! the `notify` script gets four extra arguments `GROUP|INSTANCE name state priority`
//! (priority 0 for groups), e.g. `INSTANCE VI_1 MASTER 150`; the FIFO gets one line per
//! change with the name in double quotes, e.g. `INSTANCE "VI_1" MASTER 150` and
//! `GROUP "G1" MASTER 0`. `notify_master` / `_backup` / `_fault` / `_stop` run their
//! command line as written. Notify scripts have no timeout; they run through
//! [`super::script::Runner`] like any other script, so they never block the loop.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::script::ScriptSpec;

/// Who a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyKind {
    /// A `vrrp_instance`.
    Instance,
    /// A `vrrp_sync_group`.
    Group,
}

impl NotifyKind {
    /// `INSTANCE` or `GROUP`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::Instance => "INSTANCE",
            NotifyKind::Group => "GROUP",
        }
    }
}

/// The generic `notify` script with its four extra arguments appended.
pub fn notify_spec(
    script: &ScriptSpec,
    kind: NotifyKind,
    name: &str,
    state: &str,
    priority: u8,
) -> ScriptSpec {
    let mut s = script.clone();
    s.argv.extend([
        kind.as_str().to_string(),
        name.to_string(),
        state.to_string(),
        priority.to_string(),
    ]);
    s
}

/// The state word of a priority change (`notify_priority_changes`), as keepalived 2.4.3
/// writes it to the notify FIFO: `MASTER_PRIORITY` for a MASTER, `BACKUP_PRIORITY` in any
/// other state. Only the FIFO gets it, not the `notify` script.
pub fn priority_word(master: bool) -> &'static str {
    if master {
        "MASTER_PRIORITY"
    } else {
        "BACKUP_PRIORITY"
    }
}

/// One `notify_fifo` line, newline included: `INSTANCE "VI_1" MASTER 100\n`.
pub fn fifo_line(kind: NotifyKind, name: &str, state: &str, priority: u8) -> String {
    format!("{} \"{name}\" {state} {priority}\n", kind.as_str())
}

/// What went wrong with a notify FIFO.
#[derive(Debug)]
pub enum FifoError {
    /// The path exists and is not a FIFO.
    NotAFifo { path: PathBuf },
    /// Creating or opening it failed.
    Open { path: PathBuf, source: io::Error },
    /// Writing failed; `WouldBlock` means the reader is not keeping up (line dropped).
    Write { path: PathBuf, source: io::Error },
}

impl fmt::Display for FifoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FifoError::NotAFifo { path } => write!(f, "{} is not a FIFO", path.display()),
            FifoError::Open { path, source } => {
                write!(f, "cannot open FIFO {}: {source}", path.display())
            }
            FifoError::Write { path, source } => {
                write!(f, "cannot write to FIFO {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for FifoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FifoError::Open { source, .. } | FifoError::Write { source, .. } => Some(source),
            FifoError::NotAFifo { .. } => None,
        }
    }
}

/// A `notify_fifo`, opened read-write and non-blocking: opening never waits for a reader,
/// writing never blocks the loop (a full FIFO drops the line with an error).
#[derive(Debug)]
pub struct NotifyFifo {
    path: PathBuf,
    file: File,
}

impl NotifyFifo {
    /// Open `path`, creating the FIFO (mode 0600) when it does not exist.
    pub fn open(path: &Path) -> Result<NotifyFifo, FifoError> {
        let open_err = |source| FifoError::Open {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::metadata(path) {
            Ok(m) if !m.file_type().is_fifo() => {
                return Err(FifoError::NotAFifo {
                    path: path.to_path_buf(),
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600))
                    .map_err(|e| open_err(io::Error::from(e)))?;
            }
            Err(e) => return Err(open_err(e)),
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(open_err)?;
        Ok(NotifyFifo {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Write one line (it must end with a newline; see [`fifo_line`]). A line of at most
    /// PIPE_BUF (4096) bytes is written atomically or not at all.
    pub fn write_line(&mut self, line: &str) -> Result<(), FifoError> {
        loop {
            match self.file.write(line.as_bytes()) {
                Ok(n) if n == line.len() => return Ok(()),
                Ok(n) => {
                    return Err(FifoError::Write {
                        path: self.path.clone(),
                        source: io::Error::new(
                            io::ErrorKind::WriteZero,
                            format!("short write ({n} of {} bytes)", line.len()),
                        ),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(FifoError::Write {
                        path: self.path.clone(),
                        source,
                    })
                }
            }
        }
    }

    /// Write the line for a state change.
    pub fn notify(
        &mut self,
        kind: NotifyKind,
        name: &str,
        state: &str,
        priority: u8,
    ) -> Result<(), FifoError> {
        self.write_line(&fifo_line(kind, name, state, priority))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_args_match_keepalived() {
        assert_eq!(
            fifo_line(NotifyKind::Instance, "VI_1", "MASTER", 150),
            "INSTANCE \"VI_1\" MASTER 150\n"
        );
        assert_eq!(
            fifo_line(NotifyKind::Group, "G1", "STOP", 0),
            "GROUP \"G1\" STOP 0\n"
        );
        assert_eq!(
            fifo_line(NotifyKind::Instance, "VI_1", priority_word(true), 105),
            "INSTANCE \"VI_1\" MASTER_PRIORITY 105\n"
        );
        assert_eq!(priority_word(false), "BACKUP_PRIORITY");
        let base = ScriptSpec::parse("/etc/keepalived/notify.sh extra").expect("spec");
        let s = notify_spec(&base, NotifyKind::Instance, "VI_1", "BACKUP", 100);
        assert_eq!(
            s.argv,
            [
                "/etc/keepalived/notify.sh",
                "extra",
                "INSTANCE",
                "VI_1",
                "BACKUP",
                "100"
            ]
        );
    }
}
