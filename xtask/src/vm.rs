//! The VM kernel harness: this machine's kernel has no IPVS, so IPVS checks run in a
//! Debian kernel booted under qemu (TCG) with virtme-ng, with the host's filesystem
//! visible inside (read-only, except one shared `--rwdir` folder).
//!
//! `cargo xtask test vm` installs what is missing (qemu, kmod, ipvsadm, busybox,
//! keepalived, virtme-ng, the kernel package, cached under `target/vm/`), builds the
//! test binaries, boots the VM ONCE, runs every check inside through
//! `tests/vm/guest.sh`, and reads each check's exit code from the shared folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Packages the VM harness needs on the host (probe path, Debian package).
pub const PACKAGES: &[(&str, &str)] = &[
    ("/usr/bin/qemu-system-x86_64", "qemu-system-x86"),
    ("/usr/bin/kmod", "kmod"),
    ("/usr/sbin/ipvsadm", "ipvsadm"),
    ("/bin/busybox", "busybox-static"),
    ("/usr/sbin/keepalived", "keepalived"),
    ("/usr/sbin/ip", "iproute2"),
];

/// A prepared VM: the kernel image to boot.
pub struct Vm {
    kernel: PathBuf,
}

/// How long the guest may take to reach `guest.sh` (a normal boot under TCG takes
/// 5-15 s; a loaded host can make it several times slower).
const BOOT_LIMIT: Duration = Duration::from_secs(240);

/// Error prefix of a boot that stalled before the guest script ran.
const BOOT_STALL: &str = "VM boot stalled";

/// Longest time one test binary may run inside the VM before `timeout(1)` stops it
/// (so one hung check fails alone, with its log, instead of eating the whole budget).
const CHECK_LIMIT_S: u32 = 420;

/// What the guest got to, for an error message: guest.log, the log of the check that
/// was running, and the end of the console.
fn stall_report(rwdir: &Path, console: &Path) -> String {
    fn tail(path: &Path, lines: usize) -> String {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("({e})"));
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
    let guest = rwdir.join("guest.log");
    let mut out = format!("---- {} ----\n{}\n", guest.display(), tail(&guest, 40));
    let running = std::fs::read_to_string(&guest)
        .unwrap_or_default()
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("== ")
                .and_then(|r| r.split(':').next())
                .map(str::to_string)
        });
    if let Some(name) = running {
        let log = rwdir.join(format!("{name}.log"));
        out += &format!("---- {} ----\n{}\n", log.display(), tail(&log, 60));
    }
    out += &format!("---- {} ----\n{}", console.display(), tail(console, 30));
    out
}

/// One check to run inside the VM: a name and a shell command line.
pub struct Check {
    pub name: String,
    pub cmd: String,
}

fn output(cmd: &mut Command) -> Result<String, String> {
    let o = cmd
        .output()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Install what is missing and unpack the kernel (cached under `target/vm/`).
pub fn prepare() -> Result<Vm, String> {
    crate::setup::ensure_packages(PACKAGES)?;
    if which("vng").is_none() {
        crate::run(Command::new("python3").args(["-m", "pip", "install", "-q", "virtme-ng"]))?;
        if which("vng").is_none() {
            return Err("virtme-ng installed but `vng` is not on PATH".into());
        }
    }
    let depends = output(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))?;
    let pkg = depends
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-"))
        .ok_or("apt-cache: linux-image-amd64 depends on no linux-image-*")?
        .to_string();
    let kver = pkg.trim_start_matches("linux-image-").to_string();
    let cache = crate::root().join("target/vm").join(&kver);
    let kernel = cache.join(format!("root/boot/vmlinuz-{kver}"));
    if !kernel.is_file() {
        std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
        crate::run(
            Command::new("apt-get")
                .args(["download", &pkg])
                .current_dir(&cache),
        )?;
        let deb = std::fs::read_dir(&cache)
            .map_err(|e| format!("{}: {e}", cache.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .ok_or("apt-get download produced no .deb")?;
        crate::run(
            Command::new("dpkg")
                .arg("-x")
                .arg(&deb)
                .arg(cache.join("root")),
        )?;
    }
    // Modules must be at /lib/modules/KVER for the guest's modprobe (it sees our /).
    let modules = PathBuf::from("/lib/modules").join(&kver);
    if !modules.join("modules.dep").is_file() {
        std::fs::create_dir_all("/lib/modules").map_err(|e| format!("/lib/modules: {e}"))?;
        crate::run(
            Command::new("cp")
                .arg("-a")
                .arg(cache.join("root/lib/modules").join(&kver))
                .arg("/lib/modules/"),
        )?;
        crate::run(Command::new("depmod").arg(&kver))?;
    }
    Ok(Vm { kernel })
}

impl Vm {
    /// Boot once and run `checks` in order inside; `rwdir` (emptied first) receives
    /// each check's log. Returns the exit code of every check, or an error when the
    /// VM did not run the plan to its end within `timeout`.
    /// Like [`Vm::run`], but boots a second time when the first boot stalled before
    /// the guest script started (the plan itself is never run twice).
    pub fn run_retrying_boot(
        &self,
        checks: &[Check],
        rwdir: &Path,
        timeout: Duration,
    ) -> Result<Vec<(String, i32)>, String> {
        match self.run(checks, rwdir, timeout) {
            Err(e) if e.starts_with(BOOT_STALL) => {
                eprintln!("{e}\nbooting the VM again");
                self.run(checks, rwdir, timeout)
            }
            other => other,
        }
    }

    pub fn run(
        &self,
        checks: &[Check],
        rwdir: &Path,
        timeout: Duration,
    ) -> Result<Vec<(String, i32)>, String> {
        let _ = std::fs::remove_dir_all(rwdir);
        std::fs::create_dir_all(rwdir).map_err(|e| format!("{}: {e}", rwdir.display()))?;
        let plan: String = checks
            .iter()
            .map(|c| format!("{}\t{}\n", c.name, c.cmd))
            .collect();
        std::fs::write(rwdir.join("plan.txt"), plan).map_err(|e| format!("plan.txt: {e}"))?;
        let guest = crate::root().join("tests/vm/guest.sh");
        let console = rwdir.join("console.txt");
        let console_file =
            std::fs::File::create(&console).map_err(|e| format!("{}: {e}", console.display()))?;
        let console_err = console_file
            .try_clone()
            .map_err(|e| format!("console: {e}"))?;
        let mut cmd = Command::new("vng");
        cmd.arg("--run")
            .arg(&self.kernel)
            .args([
                "--force-9p",
                "--disable-kvm",
                "--disable-microvm",
                "--verbose",
            ])
            .args(["--cpus", "2", "--memory", "2G"])
            .arg("--rwdir")
            .arg(rwdir)
            .arg("--exec")
            .arg(format!("sh {} {}", guest.display(), rwdir.display()))
            .stdin(Stdio::null())
            .stdout(console_file)
            .stderr(console_err);
        eprintln!("+ {cmd:?}");
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|e| format!("cannot start vng: {e}"))?;
        let guest_log = rwdir.join("guest.log");
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break, // vng exits 255 whatever happened: read results.txt
                Ok(None) if started.elapsed() > timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "the VM did not finish within {timeout:?}\n{}",
                        stall_report(rwdir, &console)
                    ));
                }
                Ok(None) if started.elapsed() > BOOT_LIMIT && !guest_log.exists() => {
                    // The guest never reached guest.sh: a boot stall (seen once under
                    // heavy host load). The caller may boot again.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "{BOOT_STALL}: the guest did not start guest.sh within {BOOT_LIMIT:?}\n{}",
                        stall_report(rwdir, &console)
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(200)),
                Err(e) => return Err(format!("waiting for vng: {e}")),
            }
        }
        eprintln!("VM ran for {:.1} s", started.elapsed().as_secs_f64());
        let results = std::fs::read_to_string(rwdir.join("results.txt")).map_err(|e| {
            format!(
                "no results from the VM ({e}); see {} and {}",
                console.display(),
                rwdir.join("guest.log").display()
            )
        })?;
        let mut out = Vec::new();
        let mut ended = false;
        for line in results.lines() {
            if line == "END" {
                ended = true;
                continue;
            }
            let mut it = line.split_whitespace();
            if let (Some(n), Some(rc)) = (it.next(), it.next()) {
                out.push((n.to_string(), rc.parse().unwrap_or(-1)));
            }
        }
        if !ended {
            return Err(format!(
                "the VM stopped before the end of the plan; see {}",
                rwdir.join("guest.log").display()
            ));
        }
        Ok(out)
    }
}

/// Build test targets (`cargo test --no-run ARGS`) and return their executables.
pub fn test_executables(args: &[&str]) -> Result<Vec<PathBuf>, String> {
    let mut cmd = crate::cargo();
    cmd.args(["test", "--no-run", "--message-format=json"])
        .args(args);
    eprintln!("+ {cmd:?}");
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", out.status));
    }
    Ok(test_executables_of(&String::from_utf8_lossy(&out.stdout)))
}

/// The test executables among cargo's JSON messages. A package with a binary also reports
/// the binary's artifact (built for its integration tests) with an `executable`: it is
/// not a test (`"test":false` in its profile) and must not be run as one.
fn test_executables_of(text: &str) -> Vec<PathBuf> {
    let mut exes = Vec::new();
    let test_profile = |l: &str| {
        l.split("\"profile\":{")
            .nth(1)
            .and_then(|p| p.split('}').next())
            .is_some_and(|p| p.contains("\"test\":true"))
    };
    for line in text.lines().filter(|l| test_profile(l)) {
        if let Some(rest) = line.split("\"executable\":\"").nth(1) {
            if let Some(path) = rest.split('"').next() {
                exes.push(PathBuf::from(path));
            }
        }
    }
    exes
}

/// `cargo xtask test vm`: every IPVS check in one boot.
pub fn test() -> Result<(), String> {
    let vm = prepare()?;
    // check-child-vm runs the keepalived-rs binary beside keepalived.
    crate::run(crate::cargo().args(["build", "-p", "keepalived-rs", "--bin", "keepalived-rs"]))?;
    // check-fifo-vm and check-dump run keepalived 2.4.3 (built into
    // target/keepalived-2.4.3); the guest does not inherit our environment: its path goes
    // on each command line.
    let ka243 = crate::setup::keepalived_243()?;
    let mut checks = Vec::new();
    for (name, args) in [
        ("ipvs-sys-live", &["-p", "ipvs-sys", "--test", "live"][..]),
        (
            "check-lvs-kernel",
            &["-p", "ka-check", "--test", "lvs_kernel"][..],
        ),
        (
            "check-child-vm",
            &["-p", "keepalived-rs", "--test", "check_child_vm"][..],
        ),
        ("lvs-sync", &["-p", "ka-tests", "--test", "lvs_sync"][..]),
        (
            "check-fifo-vm",
            &["-p", "keepalived-rs", "--test", "check_child_fifo_vm"][..],
        ),
        (
            "check-dump",
            &["-p", "ka-tests", "--test", "check_dump"][..],
        ),
    ] {
        for exe in test_executables(args)? {
            checks.push(Check {
                name: name.to_string(),
                cmd: format!(
                    "KA_KEEPALIVED_243={} timeout -k 10 {CHECK_LIMIT_S} {} --test-threads=2 \
                     --show-output",
                    ka243.display(),
                    exe.display()
                ),
            });
        }
    }
    if checks.is_empty() {
        return Err("no VM test binaries were built".into());
    }
    let rwdir = crate::root().join("target/vm/test-run");
    let results = vm.run_retrying_boot(&checks, &rwdir, Duration::from_secs(1200))?;
    let mut failed = Vec::new();
    for c in &checks {
        let rc = results
            .iter()
            .find(|(n, _)| n == &c.name)
            .map(|(_, rc)| *rc);
        let log = rwdir.join(format!("{}.log", c.name));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let summary: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("test result") || l.contains("SKIPPED"))
            .collect();
        eprintln!("vm check {}: exit {rc:?} {}", c.name, summary.join(" | "));
        if rc == Some(124) || rc == Some(137) {
            eprintln!(
                "vm check {}: stopped by timeout after {CHECK_LIMIT_S} s",
                c.name
            );
        }
        if rc != Some(0) {
            eprintln!("---- {} ----\n{text}", log.display());
            failed.push(c.name.clone());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("VM checks failed: {}", failed.join(", ")))
    }
}

#[cfg(test)]
mod executables_tests {
    use super::*;

    #[test]
    fn only_test_artifacts_are_run() {
        let text = concat!(
            r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"test":true},"profile":{"opt_level":"0","test":false},"executable":"/t/debug/keepalived-rs"}"#,
            "\n",
            r#"{"reason":"compiler-artifact","profile":{"opt_level":"0","test":true},"executable":"/t/debug/deps/check_child_vm-1"}"#,
            "\n",
            r#"{"reason":"compiler-artifact","profile":{"test":true},"executable":null}"#,
        );
        assert_eq!(
            test_executables_of(text),
            vec![PathBuf::from("/t/debug/deps/check_child_vm-1")]
        );
    }
}
