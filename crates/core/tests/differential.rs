//! Differential test against keepalived 2.2.7: every sample under
//! /usr/share/doc/keepalived/samples and every config taken from the seed documents
//! (tests/fixtures/conf/seeds, mistakes included) and our own fixtures
//! (tests/fixtures/conf/*.conf) must get the same verdict — valid (exit 0) or not —
//! from `keepalived-rs -t -f X` as from `keepalived -t -f X`.
//!
//! keepalived's verdict depends on the interfaces that exist, so both run in one fresh
//! network namespace holding eth0..eth3 and ens33 (veth pairs; eth0 up), the interfaces
//! the configs name. Needs root and keepalived installed (`cargo xtask setup`).

use ka_tests::{require_root, Netns};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files where the verdicts differ on purpose, and why.
const ALLOWED_DIFFERENCES: &[(&str, &str)] = &[(
    "bfd_instance.conf",
    "BFD is out of scope for keepalived-rs: we warn that the bfd_instance block is ignored, so -t exits 5 where keepalived (built with BFD) accepts it",
)];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/conf")
}

fn configs() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/usr/share/doc/keepalived/samples") {
        for e in rd.flatten() {
            let p = e.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("keepalived.conf"))
            {
                v.push(p);
            }
        }
    }
    for dir in [fixtures_dir().join("seeds"), fixtures_dir()] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "conf") {
                    v.push(p);
                }
            }
        }
    }
    v.sort();
    v
}

fn verdict(ns: &Netns, program: &str, file: &Path) -> (i32, String) {
    let dir = file.parent().unwrap_or(Path::new("/"));
    let out = Command::new("ip")
        .args(["netns", "exec", ns.name(), program, "-t", "-f"])
        .arg(file)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn same_verdict_as_keepalived_2_2_7() {
    if !require_root("differential: same_verdict_as_keepalived_2_2_7") {
        return;
    }
    let keepalived = "/usr/sbin/keepalived";
    if !Path::new(keepalived).exists() {
        if std::env::var_os("KA_REQUIRE_ROOT_TESTS").is_some_and(|v| v == "1") {
            panic!("keepalived 2.2.7 is not installed (cargo xtask setup)");
        }
        eprintln!("SKIPPED differential: keepalived not installed");
        return;
    }
    let ns = Netns::new("cf");
    for (i, name) in ["eth0", "eth1", "eth2", "eth3", "ens33"].iter().enumerate() {
        let peer = format!("cfp{i}");
        ns.ip(["link", "add", name, "type", "veth", "peer", "name", &peer]);
    }
    ns.ip(["link", "set", "eth0", "up"]);
    let ours = env!("CARGO_BIN_EXE_keepalived-rs");
    let files = configs();
    assert!(files.len() >= 10, "too few configs found: {files:?}");
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for f in &files {
        let (theirs_rc, theirs_out) = verdict(&ns, keepalived, f);
        let (ours_rc, ours_out) = verdict(&ns, ours, f);
        compared += 1;
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let same = (theirs_rc == 0) == (ours_rc == 0);
        let allowed = ALLOWED_DIFFERENCES.iter().find(|(n, _)| *n == name);
        match (same, allowed) {
            (true, None) => {}
            (true, Some((n, _))) => mismatches.push(format!(
                "{n} is allow-listed but the verdicts now agree: remove it from ALLOWED_DIFFERENCES"
            )),
            (false, Some((_, why))) => eprintln!("{name}: verdicts differ on purpose: {why}"),
            (false, None) => mismatches.push(format!(
                "{}: keepalived exit {theirs_rc}, keepalived-rs exit {ours_rc}\n--- keepalived:\n{theirs_out}\n--- keepalived-rs:\n{ours_out}",
                f.display()
            )),
        }
    }
    eprintln!("differential: compared {compared} configs");
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n\n")
    );
}
