//! `enable_script_security` for the checker's scripts (`notify_up`/`notify_down`,
//! `quorum_up`/`quorum_down`, `misc_path`, the FIFO readers), with keepalived 2.2.7's
//! rule: a script that runs with root privileges (as uid 0 or gid 0, or a set-uid/set-gid
//! root file) is unsafe when its file or any directory on its path (as written and once
//! symbolic links are resolved) is owned by someone other than root, or is writable by a
//! non-root group or by others (a directory with the sticky bit excepted). With
//! `enable_script_security` an unsafe script is disabled (a notify script is not run, a
//! MISC_CHECK is left out); without it, it is only logged.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use ka_proto::config::Script;
use vrrp::linux::script::{check_security, resolve_program, resolve_user, ScriptError};

/// Why a script is not safe to run with root privileges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsafe {
    /// The script's program.
    pub script: PathBuf,
    /// The path that makes it unsafe (the file or a directory above it).
    pub path: PathBuf,
    /// What is wrong with it.
    pub why: String,
}

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Unsafe permissions found for script '{}': {} {}",
            self.script.display(),
            self.path.display(),
            self.why
        )
    }
}

/// The uid and gid a script runs as (no user, or one that cannot be resolved: as this
/// process).
fn ids(user: Option<&str>, group: Option<&str>) -> (u32, u32) {
    match user.map(|u| resolve_user(u, group)) {
        Some(Ok(u)) => (u.uid, u.gid),
        _ => (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ),
    }
}

/// Is `argv0`, run as `user`/`group`, safe? Scripts without root privileges, and those
/// that cannot be found (they fail when run), pass. The rule itself is the VRRP side's
/// ([`check_security`]); what is added here is when it applies: also to a set-uid or
/// set-gid root file run by someone else.
pub fn check(argv0: &str, user: Option<&str>, group: Option<&str>) -> Result<(), Unsafe> {
    let Some(path) = resolve_program(argv0) else {
        return Ok(());
    };
    let Ok(m) = std::fs::metadata(&path) else {
        return Ok(());
    };
    let (uid, gid) = ids(user, group);
    let mode = m.permissions().mode();
    let root = uid == 0
        || gid == 0
        || (m.uid() == 0 && mode & 0o4100 == 0o4100)
        || (m.gid() == 0 && mode & 0o2010 == 0o2010);
    if !root {
        return Ok(());
    }
    match check_security(&path) {
        Ok(()) => Ok(()),
        Err(ScriptError::Insecure { script, path, why }) => Err(Unsafe { script, path, why }),
        Err(ScriptError::Inspect { path: p, source }) => Err(Unsafe {
            script: path,
            path: p,
            why: format!("cannot be inspected: {source}"),
        }),
        Err(e) => Err(Unsafe {
            script: path.clone(),
            path,
            why: e.to_string(),
        }),
    }
}

/// A notify script as it will run: `None` (with a log) when `enforce` and it is unsafe;
/// an unsafe script is logged either way.
pub fn filter_script(s: Script, enforce: bool) -> Option<Script> {
    let Some(argv0) = s.args.first() else {
        return Some(s);
    };
    match check(argv0, s.user.as_deref(), s.group.as_deref()) {
        Ok(()) => Some(s),
        Err(u) if enforce => {
            log::warn!("{u} - disabling");
            None
        }
        Err(u) => {
            log::warn!("{u}");
            Some(s)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::path::Path;

    fn script(path: &Path) -> Script {
        Script {
            args: vec![path.display().to_string()],
            user: None,
            group: None,
        }
    }

    #[test]
    fn root_scripts_in_writable_places_are_unsafe() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("ka-sec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ok = dir.join("ok.sh");
        std::fs::write(&ok, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&ok, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(check(ok.to_str().unwrap(), None, None), Ok(()));
        assert!(filter_script(script(&ok), true).is_some());

        // World-writable file.
        let bad = dir.join("bad.sh");
        std::fs::write(&bad, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o757)).unwrap();
        let e = check(bad.to_str().unwrap(), None, None).unwrap_err();
        assert_eq!(e.path, bad);
        assert!(filter_script(script(&bad), true).is_none());
        assert!(filter_script(script(&bad), false).is_some(), "only logged");

        // A file in a world-writable directory without the sticky bit.
        let open = dir.join("open");
        std::fs::create_dir_all(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let inner = open.join("x.sh");
        std::fs::write(&inner, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&inner, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            check(inner.to_str().unwrap(), None, None).unwrap_err().path,
            open
        );
        // With the sticky bit, the directory is fine.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert_eq!(check(inner.to_str().unwrap(), None, None), Ok(()));

        // A symlink into an unsafe place: the resolved path is checked too.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let link = dir.join("link.sh");
        std::os::unix::fs::symlink(&inner, &link).unwrap();
        assert!(check(link.to_str().unwrap(), None, None).is_err());

        // Run as an unprivileged user: no root privileges, nothing to protect.
        if nix::unistd::User::from_name("nobody").unwrap().is_some() {
            assert_eq!(
                check(bad.to_str().unwrap(), Some("nobody"), Some("nogroup")),
                Ok(())
            );
        }
        // Not found: left to fail when run.
        assert_eq!(check("/nonexistent/x.sh", None, None), Ok(()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
