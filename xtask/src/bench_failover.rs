//! `cargo xtask bench failover`: keepalived 2.2.7 and keepalived-rs in the same two-host
//! topology (network namespaces on a bridge), one run: graceful stop, frozen master and a
//! SIGKILLed VRRP child, at advert_int 1 s (VRRPv2) and 0.1 s (VRRPv3); medians of >= 5
//! rounds and the ratio, measured on the wire from the backup (the master's adverts with
//! kernel receive stamps, the VIP probed every 0.5 ms). Writes the "## Failover" section
//! of docs/benchmarks.md.
//!
//! The measuring code is `bench_failover` in `tests/tests/restart.rs` (it needs the test
//! helpers); this runs it against a release build.

use std::path::PathBuf;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"))
}

/// Run the benchmark. `--rounds N` (default 5).
pub fn run(args: &[String]) -> Result<(), String> {
    let rounds = match args.iter().position(|a| a == "--rounds") {
        Some(i) => args
            .get(i + 1)
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|n| *n >= 1)
            .ok_or("--rounds needs a number")?,
        None => 5,
    };
    if !std::path::Path::new("/usr/sbin/keepalived").exists() {
        crate::setup::ensure_packages(crate::setup::ALL)?;
    }
    crate::run(crate::cargo().args(["build", "--release", "-p", "keepalived-rs"]))?;
    let out = std::env::temp_dir().join(format!("ka-bench-failover-{}.md", std::process::id()));
    crate::run(
        crate::cargo()
            .args([
                "test",
                "--release",
                "-p",
                "ka-tests",
                "--test",
                "restart",
                "bench_failover",
                "--",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("KA_BENCH_OUT", &out)
            .env("KA_BENCH_ROUNDS", rounds.to_string())
            .env("KA_BIN", target_dir().join("release/keepalived-rs")),
    )?;
    let table = std::fs::read_to_string(&out)
        .map_err(|e| format!("no results in {}: {e}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    let section = format!(
        "## Failover\n\n\
         Command: `cargo xtask bench failover` (writes this section; `--rounds N`, default 5).\n\n\
         Two hosts (network namespaces on a bridge), master priority 150, backup 100, one VIP; \
         both daemons in the same topology in one run, a fresh pair of daemons per round; \
         keepalived-rs is a release build. Measured on the wire from the backup: the master's \
         adverts are captured with an AF_PACKET socket (kernel receive stamps, SO_TIMESTAMPNS) \
         and the VIP is probed every 0.5 ms (a `bind()` to it) on the same clock. \
         *graceful*: from the priority-0 advert to the VIP on the backup, against Skew_Time; \
         *frozen*: SIGSTOP of every process of the master, from its last advert to the VIP on \
         the backup, against Master_Down_Interval; *VRRP child SIGKILL*: total time the VIP \
         is on no host (probing both), where the protocol limit is 0. Medians of {rounds} rounds, \
         milliseconds; the machine has 2 cores shared with other work.\n\n{table}\n"
    );
    print!("{section}");
    crate::bench::write_section("## Failover", &section)
}
