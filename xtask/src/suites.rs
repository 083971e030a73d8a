//! The test suites `cargo xtask test` runs, in order.

/// In order: cheap and local first, then real networks, the package under a real systemd,
/// then the VM kernel.
pub const NAMES: &[&str] = &["lint", "unit", "fuzz", "netns", "pkg", "chaos", "vm"];

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
    // The second reference (keepalived 2.4.3) for -t verdicts and interop: built (once,
    // cached under target/) while `lint` runs, and handed to the tests that need it.
    let mut ka243 = selected
        .iter()
        .any(|s| ["unit", "netns"].contains(s))
        .then(|| std::thread::spawn(crate::setup::keepalived_243));
    let mut release = Release::default();
    for suite in selected.iter().copied() {
        eprintln!("==> suite {suite}");
        if suite != "lint" {
            if let Some(build) = ka243.take() {
                let bin = build
                    .join()
                    .map_err(|_| "the keepalived 2.4.3 build panicked".to_string())??;
                // Set before any test starts (no other thread runs now), so every test
                // process inherits it.
                std::env::set_var("KA_KEEPALIVED_243", bin);
            }
        }
        match suite {
            "lint" => lint()?,
            "unit" => unit()?,
            "fuzz" => {
                // The netns suite's scale test needs an optimised binary: build it while the
                // fuzz targets run (their time is fixed, and nothing there measures time).
                if selected.contains(&"netns") || selected.contains(&"pkg") {
                    release.start()?;
                }
                crate::fuzz::run()?
            }
            "netns" => netns(&mut release)?,
            "pkg" => {
                release.binary()?;
                crate::pkg_test::run()?
            }
            "chaos" => chaos()?,
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

/// Every crate's own tests (unit, property, simulator, and the crates' namespace tests),
/// then the known gaps.
fn unit() -> Result<(), String> {
    crate::run(crate::cargo().args([
        "test",
        "--workspace",
        "--exclude",
        "ka-tests",
        "--features",
        "vrrp/linux",
    ]))?;
    known_gaps()
}

/// The known gaps (`gap_*` tests, `#[ignore = "gap: …"]`, listed in README.md's status
/// table) must all still fail: one that passes is a closed gap whose `#[ignore]` and README
/// row are stale. As sudo-rs keeps its list of unsupported features honest. They are cheap:
/// `-t` runs, one TLS key, three daemons for a few seconds each (about 20 s in all).
fn known_gaps() -> Result<(), String> {
    let mut cmd = crate::cargo();
    cmd.args([
        "test",
        "--no-fail-fast",
        "-p",
        "keepalived-rs",
        "-p",
        "ka-check",
    ])
    .args(["--features", "vrrp/linux"])
    .args(["--test", "known_gaps", "--", "--ignored", "gap_"]);
    eprintln!("+ {cmd:?} (every test must fail)");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let (closed, ran) = gap_results(&text);
    if ran == 0 {
        return Err(format!(
            "{cmd:?} ran no gap test:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    if !closed.is_empty() {
        return Err(format!(
            "gap test(s) now pass: {}. The gap is closed: remove the `#[ignore]` and the \
             gap's entry in README.md's status table",
            closed.join(", ")
        ));
    }
    eprintln!("{ran} known gap(s), all still open");
    Ok(())
}

/// From libtest's output: the `gap_*` tests that passed, and how many `gap_*` tests ran.
fn gap_results(libtest: &str) -> (Vec<String>, usize) {
    let mut closed = Vec::new();
    let mut ran = 0;
    for line in libtest.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, verdict)) = rest.split_once(" ... ") else {
            continue;
        };
        if !name.starts_with("gap_") {
            continue;
        }
        ran += 1;
        if verdict.trim() == "ok" {
            closed.push(name.to_string());
        }
    }
    (closed, ran)
}

#[cfg(test)]
mod tests {
    use super::gap_results;

    #[test]
    fn a_passing_gap_test_is_reported_and_failing_ones_are_counted() {
        let out = "running 3 tests\ntest gap_a ... FAILED\ntest gap_b ... ok\n\
                   test reference_b ... ok\ntest gap_c ... FAILED\n";
        assert_eq!(gap_results(out), (vec!["gap_b".to_string()], 3));
        assert_eq!(gap_results("running 0 tests\n"), (vec![], 0));
    }
}

/// `cargo build --release -p keepalived-rs`, started in the background by one suite and
/// waited for by another.
#[derive(Default)]
struct Release {
    build: Option<std::process::Child>,
}

impl Release {
    fn command() -> std::process::Command {
        let mut cmd = crate::cargo();
        cmd.args(["build", "--release", "-p", "keepalived-rs"]);
        cmd
    }

    fn start(&mut self) -> Result<(), String> {
        let mut cmd = Release::command();
        eprintln!("+ {cmd:?} (in the background)");
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        self.build = Some(child);
        Ok(())
    }

    /// The release binary, once built (now, if nothing started the build).
    fn binary(&mut self) -> Result<std::path::PathBuf, String> {
        match self.build.take() {
            Some(mut child) => {
                let st = child.wait().map_err(|e| format!("release build: {e}"))?;
                if !st.success() {
                    return Err(format!("{:?} failed: {st}", Release::command()));
                }
            }
            None => crate::run(&mut Release::command())?,
        }
        Ok(crate::root().join("target/release/keepalived-rs"))
    }
}

impl Drop for Release {
    /// A suite failed before the build was waited for: don't leave it running.
    fn drop(&mut self) {
        if let Some(mut child) = self.build.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The cross-crate scenarios on real networks (namespaces, keepalived 2.2.7 as a peer).
/// They measure failover timing, so they run two at a time on this 2-core machine. Then,
/// alone, the 4,000-instance steady-state test against the release build (the debug build
/// cannot keep up with 4,000 adverts a second).
fn netns(release: &mut Release) -> Result<(), String> {
    crate::run(crate::cargo().args(["build", "--bins"]))?;
    crate::run(
        crate::cargo()
            .args(["test", "-p", "ka-tests", "--", "--test-threads=2"])
            .env("RUST_BACKTRACE", "1"),
    )?;
    // The README's first command must keep working: a real failover, both ways.
    crate::demo::run(&[])?;
    let bin = release.binary()?;
    crate::run(
        crate::cargo()
            .args([
                "test",
                "-p",
                "ka-tests",
                "--test",
                "scale_steady",
                "--",
                "--ignored",
                "--nocapture",
            ])
            .env("KA_BIN", &bin)
            .env("RUST_BACKTRACE", "1"),
    )
}

/// The chaos campaign (`cargo xtask chaos`): 5 minutes on a fixed seed and 5 minutes on a
/// fresh one (printed, so a failure can be replayed), run side by side (each on its own
/// namespaces) to keep CI's wall time down. Both always run; the suite fails if either
/// found a violation.
fn chaos() -> Result<(), String> {
    const FIXED_SEED: u64 = 20261205;
    // KA_CHAOS_SECONDS shortens the campaigns (to try the suite itself), never in CI.
    let seconds = std::env::var("KA_CHAOS_SECONDS").unwrap_or_else(|_| "300".into());
    let seconds = seconds.as_str();
    crate::run(crate::cargo().args(["build", "-p", "keepalived-rs"]))?;
    let fresh = crate::chaos::fresh_seed();
    eprintln!("chaos: fixed seed {FIXED_SEED}, fresh seed {fresh} (replay: cargo xtask chaos --seconds {seconds} --seed {fresh})");
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut runs = Vec::new();
    for seed in [FIXED_SEED, fresh] {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["chaos", "--seconds", seconds, "--seed", &seed.to_string()]);
        eprintln!("+ {cmd:?}");
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        runs.push((seed, child));
    }
    let mut failed = Vec::new();
    for (seed, mut child) in runs {
        let st = child
            .wait()
            .map_err(|e| format!("chaos seed {seed}: {e}"))?;
        if !st.success() {
            failed.push(format!("seed {seed} ({st})"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "chaos campaign failed: {} (reports under target/chaos/)",
            failed.join(", ")
        ))
    }
}
