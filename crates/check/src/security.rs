//! `enable_script_security` for the checker's scripts (`notify_up`/`notify_down`,
//! `quorum_up`/`quorum_down`, `misc_path`, the FIFO readers), with keepalived 2.2.7's
//! rule: a script that runs with root privileges (as uid 0 or gid 0, or a set-uid/set-gid
//! root file) is unsafe when its file or any directory on its path (as written and once
//! symbolic links are resolved) is owned by someone other than root, or is writable by a
//! non-root group or by others (a directory with the sticky bit excepted). With
//! `enable_script_security` an unsafe script is disabled (a notify script is not run, a
//! MISC_CHECK is left out); without it, it is only logged.

use std::path::PathBuf;

use ka_proto::config::Script;
use vrrp::linux::script::{
    resolve_program, resolve_user, script_security, ScriptError, ScriptUser,
};

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

/// The user a script runs as (`None`, no user or one that cannot be resolved: as this
/// process).
fn user_ids(user: Option<&str>, group: Option<&str>) -> Option<ScriptUser> {
    user.and_then(|u| resolve_user(u, group).ok())
}

/// Is `argv0`, run as `user`/`group`, safe? The rule is the daemon's one
/// ([`script_security`]); scripts that cannot be found pass here (they fail when run).
pub fn check(argv0: &str, user: Option<&str>, group: Option<&str>) -> Result<(), Unsafe> {
    let Some(path) = resolve_program(argv0) else {
        return Ok(());
    };
    if !path.exists() {
        return Ok(());
    }
    match script_security(argv0, user_ids(user, group)) {
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
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn script(path: &Path) -> Script {
        Script {
            args: vec![path.display().to_string()],
            user: None,
            group: None,
        }
    }

    /// A directory only root can write (so only what is made in it matters); `None` when
    /// the test does not run as root.
    fn root_dir(tag: &str) -> Option<ka_tests::TempDir> {
        if !nix::unistd::geteuid().is_root() {
            return None;
        }
        let d = ka_tests::TempDir::new(tag);
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Some(d)
    }

    #[test]
    fn root_scripts_in_writable_places_are_unsafe() {
        let Some(tmp) = root_dir("ka-sec") else {
            return;
        };
        let dir = tmp.path();
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
    }

    /// keepalived's privileges (observed on 2.2.7): a script run with gid 0, or a set-uid
    /// root or set-gid 0 file, counts as root even when its user is not; `nobody:nogroup`
    /// on a plain file does not. Every caller (`check` here, the VRRP child, `-t`) asks
    /// [`script_security`], so they agree.
    #[test]
    fn gid_0_and_set_id_root_files_count_as_root() {
        let Some(dir) = root_dir("ka-sec-ids") else {
            return;
        };
        let file = |name: &str, mode: u32| {
            let p = dir.path().join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            p.display().to_string()
        };
        let plain = file("plain.sh", 0o777);
        let suid = file("suid.sh", 0o4777);
        let sgid = file("sgid.sh", 0o2777);
        let nobody = Some(ScriptUser {
            uid: 65534,
            gid: 65534,
        });
        let nobody_root = Some(ScriptUser { uid: 65534, gid: 0 });
        for (program, user, unsafe_) in [
            (&plain, nobody, false),
            (&plain, nobody_root, true),
            (&plain, Some(ScriptUser::ROOT), true),
            (&suid, nobody, true),
            (&sgid, nobody, true),
        ] {
            let got = script_security(program, user);
            assert_eq!(got.is_err(), unsafe_, "{program} as {user:?}: {got:?}");
        }
        assert!(check(&plain, Some("65534"), Some("0")).is_err());
        assert_eq!(check(&plain, Some("65534"), Some("65534")), Ok(()));
        assert!(check(&suid, Some("65534"), Some("65534")).is_err());
    }
}
