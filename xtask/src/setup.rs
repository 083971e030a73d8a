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
