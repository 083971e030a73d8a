//! `cargo xtask test fuzz`: a short run of every cargo-fuzz target (installing cargo-fuzz
//! when it is missing). Only stable Rust is available, so the nightly flags cargo-fuzz
//! passes are allowed with `RUSTC_BOOTSTRAP=1`.
//!
//! Each target starts from the corpus kept in the repository (read only: new inputs go to
//! a temporary directory, so a run never dirties the work tree) and runs for
//! `FUZZ_SECONDS` (default 15) seconds: with 11 targets that keeps the suite near the
//! ~2-3 minutes of fuzzing it had with 4 targets at 30 s. A crash fails the suite; the
//! crashing input is kept in the temporary directory printed in the error.
//! `FUZZ_TARGETS=name,name` runs only those targets.

use std::path::Path;

/// (fuzz crate directory, target name).
pub const TARGETS: &[(&str, &str)] = &[
    ("crates/vrrp/fuzz", "decode"),
    ("crates/vrrp/fuzz", "engine_rx"),
    ("crates/vrrp/fuzz", "sim_ops"),
    ("crates/proto/fuzz", "ipc_decode"),
    ("crates/check/fuzz", "http_response"),
    ("crates/check/fuzz", "smtp_reply"),
    ("crates/check/fuzz", "dns_reply"),
    ("crates/check/fuzz", "udp_reply"),
    ("crates/check/fuzz", "icmp_echo"),
    ("crates/ipvs-sys/fuzz", "decode"),
    ("crates/core/fuzz", "config"),
];

fn has_cargo_fuzz() -> bool {
    crate::cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

pub fn run() -> Result<(), String> {
    if !has_cargo_fuzz() {
        crate::run(crate::cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let seconds: u64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let only: Option<Vec<String>> = std::env::var("FUZZ_TARGETS")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let root = crate::root();
    for (dir, target) in TARGETS {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|t| t == target))
        {
            continue;
        }
        let started = std::time::Instant::now();
        let crate_dir = root.join(dir);
        let kept = crate_dir.join("corpus").join(target);
        let scratch = std::env::temp_dir().join(format!("ka-fuzz-{}-{target}", std::process::id()));
        std::fs::create_dir_all(scratch.join("new"))
            .map_err(|e| format!("{}: {e}", scratch.display()))?;
        let artifacts = format!("-artifact_prefix={}/", scratch.display());
        let mut cmd = crate::cargo();
        cmd.current_dir(&crate_dir)
            .env("RUSTC_BOOTSTRAP", "1")
            // Files a target writes (the config target's include sets) go here too.
            .env("TMPDIR", &scratch)
            .args(["fuzz", "run", target])
            // One target dir for every fuzz crate: the ASan builds of shared dependencies
            // (libfuzzer-sys, our crates' common deps) are compiled once, not per crate.
            .arg("--target-dir")
            .arg(root.join("target").join("fuzz"))
            .arg(scratch.join("new"))
            .arg(path_arg(&kept))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(artifacts);
        crate::run(&mut cmd).map_err(|e| {
            format!(
                "fuzz target {target}: {e} (inputs in {})",
                scratch.display()
            )
        })?;
        let _ = std::fs::remove_dir_all(&scratch);
        println!(
            "fuzz {dir} {target}: ok in {:.0?} (build + {seconds} s)",
            started.elapsed()
        );
    }
    Ok(())
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target of every fuzz crate (`crates/*/fuzz`, its `[[bin]]` names) is run
    /// by the suite: the checker reply parsers and the ipvs-sys decoder were not, and
    /// there was no config parser target.
    #[test]
    fn every_fuzz_target_is_run() {
        let root = crate::root();
        let mut found = Vec::new();
        let crates = std::fs::read_dir(root.join("crates")).expect("crates dir");
        for c in crates.flatten() {
            let manifest = c.path().join("fuzz").join("Cargo.toml");
            let Ok(text) = std::fs::read_to_string(&manifest) else {
                continue;
            };
            let dir = format!("crates/{}/fuzz", c.file_name().to_string_lossy());
            for line in text.lines() {
                if let Some(name) = line
                    .trim()
                    .strip_prefix("name = \"")
                    .and_then(|r| r.strip_suffix('"'))
                {
                    // The package name comes first; bins follow `[[bin]]`.
                    found.push((dir.clone(), name.to_string()));
                }
            }
            let pkg = found
                .iter()
                .position(|(d, _)| *d == dir)
                .expect("package name");
            found.remove(pkg);
        }
        found.sort();
        let mut listed: Vec<(String, String)> = TARGETS
            .iter()
            .map(|(d, t)| (d.to_string(), t.to_string()))
            .collect();
        listed.sort();
        assert_eq!(listed, found);
        assert!(listed
            .iter()
            .any(|(d, t)| d == "crates/core/fuzz" && t == "config"));
        for (d, t) in &listed {
            assert!(
                root.join(d).join("corpus").join(t).is_dir(),
                "no corpus kept for {d} {t}"
            );
        }
    }
}
