//! Sets `KA_BUILD_COMMIT`, the git commit this build comes from, for `ka_proto::ipc::Build`
//! (the IPC hello): `KA_BUILD_COMMIT` from the environment when set (a package built
//! outside git), else `git rev-parse --short=12 HEAD`, else `unknown`. Only git is run:
//! no network, no dependency.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// Keep what can be shown in a log line: `[0-9A-Za-z._-]`, at most 40 characters.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(40)
        .collect()
}

fn main() {
    println!("cargo:rerun-if-env-changed=KA_BUILD_COMMIT");
    let from_env = std::env::var("KA_BUILD_COMMIT")
        .ok()
        .map(|s| clean(&s))
        .filter(|s| !s.is_empty());
    let commit = match from_env {
        Some(c) => c,
        None => {
            // Run again when HEAD moves: the HEAD file (a checkout) and the ref it names
            // (a commit), as git reports them (a worktree has its own HEAD).
            let head = git(&["rev-parse", "--git-path", "HEAD"]);
            let branch = git(&["symbolic-ref", "-q", "HEAD"])
                .and_then(|r| git(&["rev-parse", "--git-path", &r]));
            let packed = git(&["rev-parse", "--git-path", "packed-refs"]);
            for p in [head, branch, packed].into_iter().flatten() {
                if std::path::Path::new(&p).exists() {
                    println!("cargo:rerun-if-changed={p}");
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"])
                .map(|c| clean(&c))
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=KA_BUILD_COMMIT={commit}");
}
