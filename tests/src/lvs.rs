//! Helpers for the IPVS tests that compare keepalived 2.2.7's table with ours
//! (`crates/check/tests/lvs_kernel.rs`, `child_vm.rs`).

use std::path::{Path, PathBuf};

/// The files in `dir` (none when it cannot be read) with a `virtual_server` line, sorted.
pub fn configs_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| {
                t.lines()
                    .any(|l| l.trim_start().starts_with("virtual_server "))
            })
        })
        .collect();
    v.sort();
    v
}

/// An `ipvsadm -Sn` dump as sorted lines (the kernel's order is not the config's).
pub fn sorted_lines(ipvsadm_out: &[u8]) -> Vec<String> {
    let mut l: Vec<String> = String::from_utf8_lossy(ipvsadm_out)
        .lines()
        .map(str::to_owned)
        .collect();
    l.sort();
    l
}
