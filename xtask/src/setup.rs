//! Installs what the tests need on a bare Debian machine (CI runs as root with nothing
//! pre-installed). Each entry is a command we probe for and the package that provides it.

use std::path::Path;
use std::process::Command;

/// (probe path, Debian package)
pub const ALL: &[(&str, &str)] = &[
    ("/usr/sbin/ip", "iproute2"),
    ("/usr/sbin/keepalived", "keepalived"),
    // The metrics test: a real Prometheus scrapes us, promtool lints the exposition,
    // headless Chromium loads the status page.
    ("/usr/bin/prometheus", "prometheus"),
    ("/usr/bin/promtool", "prometheus"),
    ("/usr/bin/chromium", "chromium"),
    ("/usr/bin/setpriv", "util-linux"),
    // Accept mode's firewall (vrrp_strict, no_accept) and its test.
    ("/usr/sbin/nft", "nftables"),
    // The firewall test pings through it; other tests look for processes and read sysctls.
    ("/usr/bin/ping", "iputils-ping"),
    ("/usr/bin/pgrep", "procps"),
];

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Install every package whose probe path is missing.
pub fn ensure_packages(wanted: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(probe, _)| !Path::new(probe).exists())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing packages {missing:?}: run as root, or `apt-get install {}`",
            missing.join(" ")
        ));
    }
    crate::run(
        Command::new("apt-get")
            .arg("update")
            .arg("-qq")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    crate::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Where the keepalived 2.4.3 peer's build script (and its unmodified upstream tarball
/// beside it) can be: `KA_PEERS_DIR`, the `shared/peers` folder beside the checkout, or the
/// lab's `/work/shared/peers`.
fn peers_dir() -> Option<std::path::PathBuf> {
    let mut candidates: Vec<std::path::PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("KA_PEERS_DIR") {
        candidates.push(d.into());
    }
    if let Some(parent) = crate::root().parent() {
        candidates.push(parent.join("shared/peers"));
        if let Some(grand) = parent.parent() {
            candidates.push(grand.join("shared/peers"));
        }
    }
    candidates.push("/work/shared/peers".into());
    candidates
        .into_iter()
        .find(|d| d.join("build-keepalived.sh").exists())
}

/// Keepalived 2.4.3, upstream's newest release, as the second reference beside Debian's
/// 2.2.7: built once from its unmodified source into `target/keepalived-2.4.3` (cached
/// there across runs) unless `KA_KEEPALIVED_243` already names a binary. Returns the
/// binary's path; the tests find it through `KA_KEEPALIVED_243`.
pub fn keepalived_243() -> Result<std::path::PathBuf, String> {
    if let Some(p) = std::env::var_os("KA_KEEPALIVED_243") {
        let p = std::path::PathBuf::from(p);
        if p.exists() {
            return Ok(p);
        }
        return Err(format!("KA_KEEPALIVED_243={} does not exist", p.display()));
    }
    let prefix = crate::root().join("target/keepalived-2.4.3");
    let bin = prefix.join("sbin/keepalived");
    if bin.exists() {
        return Ok(bin);
    }
    let dir = peers_dir().ok_or(
        "keepalived 2.4.3: build-keepalived.sh not found (set KA_PEERS_DIR to the folder holding \
         it and keepalived-2.4.3.tar.gz)",
    )?;
    if !is_root() {
        return Err("keepalived 2.4.3 is not built and building it needs root (apt-get)".into());
    }
    crate::run(Command::new(dir.join("build-keepalived.sh")).arg(&prefix))?;
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "build-keepalived.sh ran but {} is missing",
            bin.display()
        ))
    }
}
