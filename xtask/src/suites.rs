//! The test suites `cargo xtask test` runs, in order.

/// In order: cheap and local first, then real networks, then the VM kernel.
pub const NAMES: &[&str] = &["lint", "unit", "fuzz", "netns", "vm"];

pub fn run(only: &[String]) -> Result<(), String> {
    let selected: Vec<&str> = if only.is_empty() {
        NAMES.to_vec()
    } else {
        for s in only {
            if !NAMES.contains(&s.as_str()) {
                return Err(format!("unknown suite {s:?}; known: {}", NAMES.join(", ")));
            }
        }
        only.iter().map(String::as_str).collect()
    };
    crate::setup::ensure_packages(crate::setup::ALL)?;
    for suite in selected {
        eprintln!("==> suite {suite}");
        match suite {
            "lint" => lint()?,
            "unit" => unit()?,
            "fuzz" => crate::fuzz::run()?,
            "netns" => netns()?,
            "vm" => crate::vm::test()?,
            _ => unreachable!("checked above"),
        }
    }
    Ok(())
}

fn lint() -> Result<(), String> {
    crate::run(crate::cargo().args(["fmt", "--all", "--", "--check"]))?;
    crate::run(crate::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

/// Every crate's own tests (unit, property, simulator, and the crates' namespace tests).
fn unit() -> Result<(), String> {
    crate::run(crate::cargo().args([
        "test",
        "--workspace",
        "--exclude",
        "ka-tests",
        "--features",
        "vrrp/linux",
    ]))
}

/// The cross-crate scenarios on real networks (namespaces, keepalived 2.2.7 as a peer).
/// They measure failover timing, so they run two at a time on this 2-core machine.
fn netns() -> Result<(), String> {
    crate::run(crate::cargo().args(["build", "--bins"]))?;
    crate::run(
        crate::cargo()
            .args(["test", "-p", "ka-tests", "--", "--test-threads=2"])
            .env("RUST_BACKTRACE", "1"),
    )?;
    // The README's first command must keep working: a real failover, both ways.
    crate::demo::run(&[])
}
