//! Pid files: keepalived's defaults, the "already running" check, write and remove.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Default pid file of the parent.
pub const DEFAULT_PARENT: &str = "/run/keepalived.pid";
/// Default pid file of the VRRP child.
pub const DEFAULT_VRRP: &str = "/run/vrrp.pid";
/// Default pid file of the checker child.
pub const DEFAULT_CHECKERS: &str = "/run/checkers.pid";

/// A pid file could not be written.
#[derive(Debug)]
pub struct PidFileError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub error: io::Error,
}

impl fmt::Display for PidFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot write pid file {}: {}",
            self.path.display(),
            self.error
        )
    }
}

impl std::error::Error for PidFileError {}

/// The pid a pid file names, if the file exists and holds a number.
pub fn read(path: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(path).ok()?;
    text.trim().parse::<i32>().ok().filter(|p| *p > 0)
}

/// Is a process with this pid alive? (`kill(pid, 0)`; EPERM also means alive.)
pub fn alive(pid: i32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    match kill(Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(Errno::EPERM) => true,
        Err(_) => false,
    }
}

/// The pid of a live process named by `path` (not this process), if any.
pub fn live_pid(path: &Path) -> Option<i32> {
    read(path).filter(|&p| p != std::process::id() as i32 && alive(p))
}

/// Write `pid` to `path` (creating the parent directory, mode 0644).
pub fn write(path: &Path, pid: u32) -> Result<(), PidFileError> {
    let err = |error| PidFileError {
        path: path.to_path_buf(),
        error,
    };
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
    }
    std::fs::write(path, format!("{pid}\n")).map_err(err)?;
    // 0644 whatever the umask (keepalived's pid files are world-readable under its 0177).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(err)
}

/// Remove `path` if it still names `pid` (never remove another instance's file).
pub fn remove(path: &Path, pid: u32) {
    if read(path) == Some(pid as i32) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ka-pidfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn write_read_remove() {
        let p = tmp("a");
        write(&p, 12345).unwrap();
        assert_eq!(read(&p), Some(12345));
        remove(&p, 999);
        assert!(p.exists(), "a file naming another pid is left alone");
        remove(&p, 12345);
        assert!(!p.exists());
    }

    #[test]
    fn live_and_stale() {
        let p = tmp("b");
        // Our own pid: not "another live instance".
        write(&p, std::process::id()).unwrap();
        assert_eq!(live_pid(&p), None);
        // pid 1 is always alive.
        write(&p, 1).unwrap();
        assert_eq!(live_pid(&p), Some(1));
        // A pid far above pid_max is dead.
        write(&p, 0x3fff_fff0).unwrap();
        assert_eq!(live_pid(&p), None);
        std::fs::write(&p, "garbage").unwrap();
        assert_eq!(live_pid(&p), None);
        let _ = std::fs::remove_file(&p);
    }
}
