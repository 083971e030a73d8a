//! `cargo xtask bench ipvs`: program 100 services x 100 destinations into a real IPVS
//! table (in the VM kernel, see `vm.rs`), with our client, with our reconciler, and with
//! `ipvsadm -R` restoring the same table — interleaved in one boot, each in a fresh
//! namespace — then write the medians and ratios to `docs/benchmarks.md`
//! ("## IPVS programming").
//!
//! The measuring code is the ignored test `bench_program_100x100` in
//! `crates/check/tests/lvs_kernel.rs`, built in release mode and run inside the VM.

use crate::vm::{self, Check};
use std::time::Duration;

const SECTION: &str = "## IPVS programming";

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `cargo xtask bench ipvs [RUNS]` (default 5 runs).
pub fn run(args: &[String]) -> Result<(), String> {
    let runs: usize = match args.first() {
        Some(a) => a.parse().map_err(|_| format!("bad run count {a:?}"))?,
        None => 5,
    };
    if runs < 1 {
        return Err("need at least one run".into());
    }
    let machine = vm::prepare()?;
    // The daemon itself, next to the test binary (the test times it if present).
    crate::run(crate::cargo().args([
        "build",
        "--release",
        "-p",
        "keepalived-rs",
        "--bin",
        "keepalived-rs",
    ]))?;
    let exes = vm::test_executables(&["--release", "-p", "ka-check", "--test", "lvs_kernel"])?;
    let exe = exes.first().ok_or("no lvs_kernel test binary was built")?;
    let checks = [Check {
        name: "bench-ipvs".into(),
        cmd: format!(
            "KA_IPVS_BENCH=1 KA_IPVS_BENCH_RUNS={runs} {} --ignored --exact \
             bench_program_100x100 --nocapture",
            exe.display()
        ),
    }];
    let rwdir = crate::root().join("target/vm/bench-ipvs");
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_owned))
            .unwrap_or_else(|| "?".into())
    };
    let load_before = load();
    let results = machine.run(&checks, &rwdir, Duration::from_secs(1200))?;
    let load_after = load();
    let log = std::fs::read_to_string(rwdir.join("bench-ipvs.log")).unwrap_or_default();
    if results.first().map(|(_, rc)| *rc) != Some(0) {
        return Err(format!("the benchmark failed in the VM:\n{log}"));
    }
    let text = std::fs::read_to_string(rwdir.join("bench-ipvs.txt"))
        .map_err(|e| format!("no bench-ipvs.txt from the VM: {e}\n{log}"))?;
    let mut series: Vec<(String, Vec<f64>)> = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        if let Some(name) = it.next() {
            let v: Vec<f64> = it.filter_map(|x| x.parse().ok()).collect();
            series.push((name.to_string(), v));
        }
    }
    let get = |n: &str| {
        series
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (ipvsadm, client, recon) = (
        get("ipvsadm_restore"),
        get("ka_client_apply"),
        get("ka_reconciler_start"),
    );
    let (kd, kr) = (get("keepalived_start"), get("keepalived_rs_start"));
    let (mi, mc, mr) = (median(&ipvsadm), median(&client), median(&recon));
    let (mkd, mkr) = (median(&kd), median(&kr));
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kernel = std::fs::read_to_string(rwdir.join("guest.log"))
        .ok()
        .and_then(|g| g.lines().next().map(str::to_owned))
        .unwrap_or_default();
    let section = format!(
        "{SECTION}\n\n\
         100 virtual services x 100 destinations (10,100 `ipvsadm -Sn` lines, NAT, `wrr`),\n\
         programmed into an empty table, each run in a fresh network namespace, the five\n\
         methods interleaved in one boot of the VM kernel ({kernel}; qemu TCG, no KVM,\n\
         so absolute times are inflated; host load average {load_before} before, {load_after}\n\
         after, on 2 cores shared with other work). {runs} runs each; milliseconds.\n\n\
         | method | median | runs |\n\
         |---|---:|---|\n\
         | `ipvsadm -R` (restore from a file) | {mi:.0} | {} |\n\
         | ipvs-sys `Client::new` + `apply` (batched, 64 requests per datagram) | {mc:.0} | {} |\n\
         | keepalived-rs reconciler `start` (config -> desired table -> read kernel -> diff -> apply) | {mr:.0} | {} |\n\
         | keepalived 2.2.7 `-n -l -C`: exec to the full table in the kernel | {mkd:.0} | {} |\n\
         | keepalived-rs `-n -l -C`: exec to the full table in the kernel | {mkr:.0} | {} |\n\n\
         Ratio `ipvsadm -R` / ours: client {:.1}x, reconciler {:.1}x. keepalived / keepalived-rs\n\
         (whole daemons, start to full table): {:.1}x. The daemons' times are polled every\n\
         20 ms from `/proc/net/ip_vs` in their namespace.\n\n\
         Command: `cargo xtask bench ipvs` (measuring code: `bench_program_100x100` in\n\
         `crates/check/tests/lvs_kernel.rs`, release build).\n",
        list(&ipvsadm),
        list(&client),
        list(&recon),
        list(&kd),
        list(&kr),
        mi / mc,
        mi / mr,
        mkd / mkr,
    );
    eprintln!("{section}");
    let path = crate::root().join("docs/benchmarks.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let new = match old.find(SECTION) {
        Some(start) => {
            let after = &old[start + SECTION.len()..];
            let end = after
                .find("\n## ")
                .map(|i| start + SECTION.len() + i + 1)
                .unwrap_or(old.len());
            format!("{}{section}{}", &old[..start], &old[end..])
        }
        None => format!(
            "{}\n{section}",
            old.trim_end_matches('\n').to_string() + "\n"
        ),
    };
    std::fs::write(&path, new).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
