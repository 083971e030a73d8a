//! Project tasks: `cargo xtask test`, `cargo xtask demo`, `cargo xtask bench ...`.
//!
//! `cargo xtask test` is the one command that runs every test. It installs the Debian
//! packages the tests need when they are missing (CI starts from a bare machine as root),
//! then runs the suites in order and stops at the first failure.

use std::process::{Command, ExitCode};

mod bench;
mod chaos;
mod deb;
mod demo;
mod fuzz;
mod pkg_test;
mod setup;
mod suites;
mod vm;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
         test [SUITE..]   run every test suite (or the named ones: {})\n  \
         setup            install the Debian packages the tests need\n  \
         demo [--backup-keepalived|--reference]\n                   a real failover between two namespaces (see README)\n  \
         deb [--no-build]  the Debian packages, in target/debian/\n  \
         bench NAME       benchmarks beside keepalived 2.2.7 ({})\n  \
         chaos [--seconds N] [--seed S] [--hosts 3] [--peer keepalived|--reference]\n        \
               [--faults LIST|clean] [--release]\n                   \
         a seeded chaos campaign on a VRRP cluster in namespaces (faults: {})",
        suites::NAMES.join(", "),
        bench::NAMES.join(", "),
        chaos::FAULTS.join(", ")
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        return usage();
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "setup" => setup::ensure_packages(setup::ALL),
        "test" => suites::run(rest),
        "bench" => bench::run(rest),
        "demo" => demo::run(rest),
        "deb" => deb::run(rest),
        // The last line printed is the campaign's summary: no extra message after it.
        "chaos" => match chaos::run(rest) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Run a command, echoing it first; an error names the command that failed.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("+ {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

/// The cargo that runs us (so `cargo +x xtask` keeps its toolchain).
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> std::path::PathBuf {
    let here = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(|p| p.to_path_buf()).unwrap_or(here)
}
