//! Running a VRRP daemon — keepalived 2.2.7 or keepalived-rs — inside a test host.
//!
//! The same scenario runs against either implementation ([`Impl`]), which is how the
//! interop and compliance tests compare them: keepalived is the oracle.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Netns;

/// Which daemon to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Debian's keepalived 2.2.7 (`/usr/sbin/keepalived`).
    Keepalived,
    /// Our `keepalived-rs` binary from this workspace's target directory.
    Ours,
    /// Upstream's keepalived 2.4.3 ([`keepalived_243_path`]; find out first with
    /// [`keepalived_243`] whether it is there).
    Keepalived243,
}

impl Impl {
    /// The binary to run. `KA_BIN` overrides the path of ours.
    pub fn binary(self) -> PathBuf {
        match self {
            Impl::Keepalived => PathBuf::from("/usr/sbin/keepalived"),
            Impl::Ours => ours_binary(),
            Impl::Keepalived243 => keepalived_243_path(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Impl::Keepalived => "keepalived",
            Impl::Ours => "keepalived-rs",
            Impl::Keepalived243 => "keepalived-2.4.3",
        }
    }
}

/// Find `keepalived-rs` next to the running test binary (target/<profile>/deps/..).
pub fn ours_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("KA_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("keepalived-rs")
}

/// True when keepalived 2.2.7 is installed; otherwise skips (or fails under CI's
/// `KA_REQUIRE_ROOT_TESTS=1`, since `cargo xtask test` installs it).
pub fn require_keepalived(test: &str) -> bool {
    let ok = Path::new("/usr/sbin/keepalived").exists();
    if !ok {
        if std::env::var_os("KA_REQUIRE_ROOT_TESTS").is_some_and(|v| v == "1") {
            panic!("{test}: needs keepalived (apt-get install keepalived)");
        }
        eprintln!("SKIPPED {test}: keepalived is not installed");
    }
    ok
}

/// Where keepalived 2.4.3 is expected: `KA_KEEPALIVED_243`, else
/// `/opt/keepalived-2.4.3/sbin/keepalived`.
pub fn keepalived_243_path() -> PathBuf {
    std::env::var_os("KA_KEEPALIVED_243")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/keepalived-2.4.3/sbin/keepalived"))
}

/// The keepalived 2.4.3 binary (upstream's newest release, built by
/// `/work/shared/peers/build-keepalived.sh`; CI builds it into `target/keepalived-2.4.3`):
/// `KA_KEEPALIVED_243`, else `/opt/keepalived-2.4.3/sbin/keepalived`. None when it is
/// missing, after skipping loudly (or failing under CI's `KA_REQUIRE_ROOT_TESTS=1`).
pub fn keepalived_243(test: &str) -> Option<PathBuf> {
    let p = keepalived_243_path();
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("KA_REQUIRE_ROOT_TESTS").is_some_and(|v| v == "1") {
        panic!(
            "{test}: needs keepalived 2.4.3 at {} (set KA_KEEPALIVED_243)",
            p.display()
        );
    }
    eprintln!("SKIPPED {test}: keepalived 2.4.3 is not at {}", p.display());
    None
}

/// `-p DIR/keepalived.pid -r DIR/vrrp.pid -c DIR/checkers.pid`: the pid files of the
/// parent, the VRRP child and the checker child, in `dir`.
pub fn pid_file_args(dir: &Path) -> [std::ffi::OsString; 6] {
    [
        "-p".into(),
        dir.join("keepalived.pid").into(),
        "-r".into(),
        dir.join("vrrp.pid").into(),
        "-c".into(),
        dir.join("checkers.pid").into(),
    ]
}

/// A daemon running in a namespace, with its own directory for config, pid files and log.
/// Stopped with SIGKILL (all its processes) on drop if still running.
#[derive(Debug)]
pub struct Daemon {
    pub imp: Impl,
    pub dir: PathBuf,
    ns: String,
    child: Option<std::process::Child>,
}

impl Daemon {
    /// Write `config` and start the daemon in the foreground (`-n -l -D`) inside `ns`.
    pub fn start(ns: &Netns, imp: Impl, config: &str) -> Daemon {
        Self::start_with(ns, imp, config, &[])
    }

    /// As [`Daemon::start`], with extra command-line arguments.
    pub fn start_with(ns: &Netns, imp: Impl, config: &str, extra: &[&str]) -> Daemon {
        Self::start_env(ns, imp, config, extra, &[])
    }

    /// As [`Daemon::start_with`], with extra environment variables.
    pub fn start_env(
        ns: &Netns,
        imp: Impl,
        config: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let dir = std::env::temp_dir().join(crate::unique(imp.name()));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
        let conf = dir.join("keepalived.conf");
        fs::write(&conf, config).unwrap_or_else(|e| panic!("write {conf:?}: {e}"));
        let log = fs::File::create(dir.join("log")).unwrap_or_else(|e| panic!("log: {e}"));
        let log2 = log.try_clone().unwrap_or_else(|e| panic!("log: {e}"));
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns.name()])
            .arg(imp.binary())
            .args(["-n", "-l", "-D", "-f"])
            .arg(&conf)
            .args(pid_file_args(&dir));
        if imp == Impl::Ours {
            // Each daemon its own control socket: tests run several on one host.
            cmd.arg("--control-socket").arg(dir.join("ctl.sock"));
        }
        cmd.args(extra)
            .env("TMPDIR", &dir)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Daemon {
            imp,
            dir,
            ns: ns.name().to_string(),
            child: Some(child),
        }
    }

    /// The parent's pid.
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// The VRRP child's pid, read from its pid file.
    pub fn vrrp_pid(&self) -> Option<i32> {
        read_pid(&self.dir.join("vrrp.pid"))
    }

    /// The checker child's pid, read from its pid file.
    pub fn checker_pid(&self) -> Option<i32> {
        read_pid(&self.dir.join("checkers.pid"))
    }

    /// Everything the daemon has logged so far (stdout + stderr).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Send `sig` to the parent.
    pub fn signal(&self, sig: i32) {
        if let Some(pid) = self.pid() {
            // SAFETY: kill(2) on a pid we started; no memory involved.
            unsafe { libc::kill(pid, sig) };
        }
    }

    /// SIGSTOP / SIGCONT every process of the daemon (a frozen node).
    pub fn freeze(&self, frozen: bool) {
        let sig = if frozen { libc::SIGSTOP } else { libc::SIGCONT };
        for pid in self.all_pids() {
            // SAFETY: kill(2) on pids of processes we started; no memory involved.
            unsafe { libc::kill(pid, sig) };
        }
    }

    /// The parent and both children (those that exist).
    pub fn all_pids(&self) -> Vec<i32> {
        [self.pid(), self.vrrp_pid(), self.checker_pid()]
            .into_iter()
            .flatten()
            .collect()
    }

    /// Graceful stop: SIGTERM, then wait up to `timeout` for the parent to exit.
    /// Returns true when it exited in time.
    pub fn stop(&mut self, timeout: Duration) -> bool {
        self.signal(libc::SIGTERM);
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Has the parent exited? (Reaps it if so.)
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// The namespace the daemon runs in.
    pub fn netns(&self) -> &str {
        &self.ns
    }

    /// `keepalived-rs ctl --socket DIR/ctl.sock ARGS` (ours only): its output.
    pub fn ctl(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(ours_binary());
        cmd.arg("ctl")
            .arg("--socket")
            .arg(self.dir.join("ctl.sock"))
            .args(args);
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
    }

    /// `ctl status --json`, parsed (None when it fails).
    pub fn ctl_status(&self) -> Option<serde_json::Value> {
        let out = self.ctl(&["status", "--json"]);
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pids = self.all_pids();
        for pid in pids {
            // SAFETY: kill(2) on pids of processes we started; no memory involved.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- {} log ({}):\n{}",
                self.imp.name(),
                self.dir.display(),
                self.log()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The old name of [`crate::wait_for`], kept for `crates/core/src/vrrp_child/netns_tests.rs`.
pub use crate::wait_for as wait_until;
