//! Dump files at keepalived's locations: `$TMPDIR` when it is a directory, else `/tmp`.
//!
//! | file                      | written on                | content from     |
//! |---------------------------|---------------------------|------------------|
//! | `keepalived_parent.data`  | SIGUSR1                   | the parent       |
//! | `keepalived.data`         | SIGUSR1                   | VRRP child       |
//! | `keepalived_check.data`   | SIGUSR1                   | checker child    |
//! | `keepalived.stats`        | SIGUSR2, SIGRTMAX-1       | VRRP child       |
//! | `keepalived.json`         | SIGRTMIN+2                | VRRP child       |
//!
//! Children send the text ([`ka_proto::ipc::vrrp::FromVrrp::DumpText`],
//! [`ka_proto::ipc::checker::FromChecker::DumpText`]); the parent writes it.

use ka_proto::ipc::{DumpKind, Role};
use std::io;
use std::path::{Path, PathBuf};

/// The directory dumps go to.
pub fn tmp_dir() -> PathBuf {
    match std::env::var_os("TMPDIR") {
        Some(d) if Path::new(&d).is_dir() => PathBuf::from(d),
        _ => PathBuf::from("/tmp"),
    }
}

/// File name of a child's dump, or `None` when that child does not write that dump.
pub fn child_file_name(role: Role, kind: DumpKind) -> Option<&'static str> {
    match (role, kind) {
        (Role::Vrrp, DumpKind::Data) => Some("keepalived.data"),
        (Role::Vrrp, DumpKind::Stats | DumpKind::StatsClear) => Some("keepalived.stats"),
        (Role::Vrrp, DumpKind::Json) => Some("keepalived.json"),
        (Role::Checker, DumpKind::Data) => Some("keepalived_check.data"),
        (Role::Checker, _) => None,
    }
}

/// The parent's own state dump.
pub const PARENT_FILE: &str = "keepalived_parent.data";

/// Which children a dump signal goes to (keepalived: DATA to all, the others VRRP only).
pub fn recipients(kind: DumpKind) -> &'static [Role] {
    match kind {
        DumpKind::Data => &[Role::Vrrp, Role::Checker],
        _ => &[Role::Vrrp],
    }
}

/// Write `text` to `dir/name`, replacing it (mode 0644).
///
/// The dump directory is usually `/tmp`, writable by everyone, and we are root: the text
/// goes to a new file (`O_CREAT|O_EXCL|O_NOFOLLOW`) that is then renamed over `name`, so a
/// symlink or hard link planted at `name` is replaced, never written through.
pub fn write(dir: &Path, name: &str, text: &str) -> io::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    let written = f.write_all(text.as_bytes()).and_then(|_| f.flush());
    drop(f);
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, &path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_symlink_is_replaced_not_followed() {
        let dir = std::env::temp_dir().join(format!("ka-dump-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let _ = std::fs::remove_file(dir.join("keepalived.data"));
        std::os::unix::fs::symlink(&victim, dir.join("keepalived.data")).unwrap();
        let p = write(&dir, "keepalived.data", "dump\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "dump\n");
        // Written again: replaced.
        write(&dir, "keepalived.data", "again\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "again\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn names_as_keepalived() {
        assert_eq!(
            child_file_name(Role::Vrrp, DumpKind::Data),
            Some("keepalived.data")
        );
        assert_eq!(
            child_file_name(Role::Checker, DumpKind::Data),
            Some("keepalived_check.data")
        );
        assert_eq!(
            child_file_name(Role::Vrrp, DumpKind::StatsClear),
            Some("keepalived.stats")
        );
        assert_eq!(child_file_name(Role::Checker, DumpKind::Json), None);
        assert_eq!(recipients(DumpKind::Json), &[Role::Vrrp]);
    }
}
