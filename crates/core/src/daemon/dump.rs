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
//! Children send the text ([`ka_proto::ipc::FromChild::DumpText`]); the parent writes it.

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

/// Write `text` to `dir/name` (replacing it; mode 0644).
pub fn write(dir: &Path, name: &str, text: &str) -> io::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

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
