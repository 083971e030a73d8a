//! `cargo xtask test fuzz`: a short run of every cargo-fuzz target (installing cargo-fuzz
//! when it is missing). Only stable Rust is available, so the nightly flags cargo-fuzz
//! passes are allowed with `RUSTC_BOOTSTRAP=1`.
//!
//! Each target starts from the corpus kept in the repository (read only: new inputs go to
//! a temporary directory, so a run never dirties the work tree) and runs for
//! `FUZZ_SECONDS` (default 30) seconds. A crash fails the suite; the crashing input is
//! kept in the temporary directory printed in the error.

use std::path::Path;

/// (fuzz crate directory, target name).
pub const TARGETS: &[(&str, &str)] = &[
    ("crates/vrrp/fuzz", "decode"),
    ("crates/vrrp/fuzz", "engine_rx"),
    ("crates/vrrp/fuzz", "sim_ops"),
    ("crates/proto/fuzz", "ipc_decode"),
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
        .unwrap_or(30);
    let root = crate::root();
    for (dir, target) in TARGETS {
        let crate_dir = root.join(dir);
        let kept = crate_dir.join("corpus").join(target);
        let scratch = std::env::temp_dir().join(format!("ka-fuzz-{}-{target}", std::process::id()));
        std::fs::create_dir_all(scratch.join("new"))
            .map_err(|e| format!("{}: {e}", scratch.display()))?;
        let artifacts = format!("-artifact_prefix={}/", scratch.display());
        let mut cmd = crate::cargo();
        cmd.current_dir(&crate_dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", target])
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
    }
    Ok(())
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
