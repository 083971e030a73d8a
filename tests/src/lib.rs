//! Helpers shared by the tests that run on a real network: network namespaces joined by a
//! bridge (one namespace per "host"), commands run inside them, and clean-up that happens
//! even when a test fails (every type here deletes what it made on `Drop`).
//!
//! Names are unique per process and per call (`ka<pid>x<n>...`), so tests may run in
//! parallel. Every helper is usable as a dev-dependency of any crate in the workspace.
//!
//! Root is needed. [`require_root`] decides what a test does without it: with
//! `KA_REQUIRE_ROOT_TESTS=1` (set by `.ci/run`) it fails, otherwise it skips loudly.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A short name unique to this process and call: `ka<pid>x<n><tag>` (<= 15 chars for
/// interface names when `tag` is short).
pub fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("ka{}x{}{}", std::process::id() % 100_000, n, tag)
}

/// True when running as root. Without root, returns false after printing why the test is
/// skipped — or panics when `KA_REQUIRE_ROOT_TESTS=1` (CI), so CI cannot pass by skipping.
pub fn require_root(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        if std::env::var_os("KA_REQUIRE_ROOT_TESTS").is_some_and(|v| v == "1") {
            panic!("{test}: needs root (KA_REQUIRE_ROOT_TESTS=1)");
        }
        eprintln!("SKIPPED {test}: needs root");
    }
    root
}

/// True inside the VM of `cargo xtask test vm` (which sets `KA_IPVS_VM=1`: a kernel with
/// IPVS); elsewhere prints why the test is skipped and returns false.
pub fn require_ipvs_vm(test: &str) -> bool {
    if std::env::var_os("KA_IPVS_VM").is_some_and(|v| v == "1") {
        return true;
    }
    eprintln!("SKIPPED {test}: needs a kernel with IPVS (run `cargo xtask test vm`)");
    false
}

/// Run a command to completion; panics with its output when it fails (test helper).
pub fn sh<I, S>(program: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(program);
    cmd.args(args);
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Run a command and return whether it succeeded (no panic).
pub fn try_sh<I, S>(program: &str, args: I) -> bool
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Move the calling thread into the network namespace named `name` (`/run/netns/NAME`);
/// panics when that fails. Only the calling thread moves: call it on a thread of its own
/// (or use [`spawn_in_netns`] / [`Netns::spawn`]).
pub fn enter_netns(name: &str) {
    let path = format!("/run/netns/{name}");
    let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    // SAFETY: setns(2) on a namespace fd we hold open; it changes only the calling thread.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
}

/// Start `f` on a new thread inside the network namespace named `name`. The namespace
/// file is opened before the thread starts, so a missing namespace panics here, in the
/// caller.
pub fn spawn_in_netns<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let path = format!("/run/netns/{name}");
    let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    std::thread::spawn(move || {
        // SAFETY: setns(2) on a namespace fd we hold open; it changes only this new thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
}

/// Poll `cond` every 5 ms until it holds or `limit` passes; returns whether it held (it
/// is asked once more at the deadline, so a slow machine is not a false "no").
pub fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(
            Duration::from_millis(5).min(deadline.saturating_duration_since(Instant::now())),
        );
    }
}

/// A network namespace, deleted on drop (with every process still inside it killed).
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Create a namespace with a unique name built from `tag`, with `lo` up.
    pub fn new(tag: &str) -> Netns {
        let name = unique(tag);
        sh("ip", ["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(["link", "set", "lo", "up"]);
        ns
    }

    /// A namespace as [`Netns::new`] makes, with an up veth pair `eth0`–`eth1` and `addr`
    /// (`A.B.C.D/LEN`) on `eth0`: a host for configurations that name eth0.
    pub fn with_veth(tag: &str, addr: &str) -> Netns {
        let ns = Netns::new(tag);
        ns.ip([
            "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
        ]);
        ns.ip(["link", "set", "eth0", "up"]);
        ns.ip(["link", "set", "eth1", "up"]);
        ns.ip(["addr", "add", addr, "dev", "eth0"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NAME ARGS...`, panicking on failure.
    pub fn ip<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["-n".into(), self.name.clone().into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        sh("ip", all)
    }

    /// A `Command` that runs `program` inside this namespace (`ip netns exec`).
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Run `program args` inside the namespace to completion, panicking on failure.
    pub fn exec<I, S>(&self, program: &str, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec![
            "netns".into(),
            "exec".into(),
            self.name.clone().into(),
            program.into(),
        ];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        sh("ip", all)
    }

    /// Start `f` on a new thread that has entered this namespace (sockets it creates belong
    /// to the namespace). The one place tests enter a namespace: see [`spawn_in_netns`].
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        spawn_in_netns(&self.name, f)
    }

    /// Run `f` on a fresh thread that has entered this namespace (sockets created there
    /// belong to it), and return its result.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        self.spawn(f)
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// `GET path` from `addr` inside this namespace (HTTP/1.1, connection closed by the
    /// server): (status, body), or None on any failure.
    pub fn http_get(&self, addr: &str, path: &str) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let (addr, path) = (addr.to_string(), path.to_string());
        self.run(move || {
            let mut s = std::net::TcpStream::connect(&addr).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            )
            .ok()?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).ok()?;
            let text = String::from_utf8_lossy(&buf).to_string();
            let (head, body) = text.split_once("\r\n\r\n")?;
            let status = head.split_whitespace().nth(1)?.parse().ok()?;
            Some((status, body.to_string()))
        })
    }

    /// Is `addr` assigned to an interface of this namespace? (bind() a UDP socket to it —
    /// it succeeds only for a local address.)
    pub fn has_addr(&self, addr: std::net::IpAddr) -> bool {
        self.run(move || {
            let r = std::net::UdpSocket::bind((addr, 0));
            if let Err(e) = &r {
                // EADDRNOTAVAIL means "not here"; anything else is unexpected but also "no".
                let _ = e;
            }
            r.is_ok()
        })
    }

    /// Kill every process still running inside the namespace.
    pub fn kill_all(&self) {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output();
        if let Ok(out) = out {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Ok(pid) = pid.parse::<i32>() {
                    // SAFETY: kill(2) with a pid read from the kernel; no memory involved.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.kill_all();
        let _ = try_sh("ip", ["netns", "del", &self.name]);
    }
}

/// A LAN: one "switch" namespace holding a bridge, and `n` host namespaces, each with an
/// `eth0` (a veth into the bridge) addressed `{prefix}.{i+1}/24`. Multicast snooping is
/// off so VRRP adverts reach every host. Everything is deleted on drop.
#[derive(Debug)]
pub struct Lan {
    /// Host namespaces, in order (address .1, .2, ...). Dropped before the switch.
    pub hosts: Vec<Netns>,
    pub switch: Netns,
    prefix: String,
}

impl Lan {
    /// `prefix` is the first three octets, e.g. "10.77.0".
    pub fn new(n: usize, prefix: &str) -> Lan {
        let switch = Netns::new("sw");
        switch.ip(["link", "add", "br0", "type", "bridge"]);
        switch.ip([
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        switch.ip(["link", "set", "br0", "up"]);
        let mut hosts = Vec::new();
        for i in 0..n {
            let h = Netns::new("h");
            let port = format!("p{i}");
            sh(
                "ip",
                [
                    "link",
                    "add",
                    "eth0",
                    "netns",
                    h.name(),
                    "type",
                    "veth",
                    "peer",
                    "name",
                    &port,
                    "netns",
                    switch.name(),
                ],
            );
            switch.ip(["link", "set", &port, "master", "br0"]);
            switch.ip(["link", "set", &port, "up"]);
            h.ip([
                "addr",
                "add",
                &format!("{prefix}.{}/24", i + 1),
                "dev",
                "eth0",
            ]);
            h.ip(["link", "set", "eth0", "up"]);
            hosts.push(h);
        }
        Lan {
            hosts,
            switch,
            prefix: prefix.to_string(),
        }
    }

    /// The host address of host `i` (0-based): `{prefix}.{i+1}`.
    pub fn addr(&self, i: usize) -> String {
        format!("{}.{}", self.prefix, i + 1)
    }

    /// Wait (up to 5 s each) until `eth0` of every host has carrier: frames sent before
    /// that are lost. Panics with `ip link`'s output when one never comes up.
    pub fn wait_carrier(&self) {
        for h in &self.hosts {
            let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                let out = h.ip(["link", "show", "eth0"]);
                let text = String::from_utf8_lossy(&out.stdout).to_string();
                if text.contains("LOWER_UP") && text.contains("state UP") {
                    break;
                }
                assert!(std::time::Instant::now() < end, "no carrier: {text}");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }

    /// Cut host `i` off the LAN (its switch port goes down) or reconnect it.
    pub fn set_link(&self, i: usize, up: bool) {
        self.switch.ip([
            "link",
            "set",
            &format!("p{i}"),
            if up { "up" } else { "down" },
        ]);
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        // Hosts first (their veths vanish with them), then the switch.
        self.hosts.clear();
    }
}

/// A fresh directory under the system's temporary directory, named with [`unique`], and
/// removed with everything in it on drop.
#[derive(Debug)]
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(unique(tag));
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("create {}: {e}", p.display()));
        TempDir(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The value of the sample `series` (`name{labels}`, exactly as written) in a Prometheus
/// text exposition.
pub fn metric_sample(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn unsafe_outside_finds_blocks_and_lifts_only() {
        let dir = std::env::temp_dir().join(super::unique("unsafe-scan"));
        std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
        let block = concat!("un", "safe { x() }");
        let lift = concat!("#[allow(", "unsafe_code)]");
        std::fs::write(dir.join("sys.rs"), format!("fn a() {{ {block} }}\n")).expect("write");
        std::fs::write(
            dir.join("sub/a.rs"),
            format!("// {block} in a comment\nfn not_unsafe_at_all() {{}}\nlet s = 1; {block}\n{lift}\n"),
        )
        .expect("write");
        let found = super::unsafe_outside(&dir, &["sys.rs"]);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(found, ["sub/a.rs:3", "sub/a.rs:4"]);
    }

    use super::*;

    #[test]
    fn lan_hosts_reach_each_other_and_clean_up() {
        if !require_root("lan_hosts_reach_each_other_and_clean_up") {
            return;
        }
        let names;
        {
            let lan = Lan::new(2, "10.201.0");
            names = (
                lan.hosts[0].name().to_string(),
                lan.switch.name().to_string(),
            );
            let a: std::net::IpAddr = "10.201.0.1".parse().expect("literal");
            assert!(lan.hosts[0].has_addr(a));
            assert!(!lan.hosts[1].has_addr(a));
            // UDP from h2 to h1 across the bridge.
            let got = lan.hosts[0].run(|| {
                let s = std::net::UdpSocket::bind("10.201.0.1:4000").expect("bind");
                s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                    .expect("timeout");
                s
            });
            lan.hosts[1].run(|| {
                let s = std::net::UdpSocket::bind("10.201.0.2:0").expect("bind");
                s.send_to(b"hi", "10.201.0.1:4000").expect("send");
            });
            let mut buf = [0u8; 8];
            let (n, _) = got.recv_from(&mut buf).expect("recv");
            assert_eq!(&buf[..n], b"hi");
        }
        let list = sh("ip", ["netns", "list"]);
        let list = String::from_utf8_lossy(&list.stdout);
        assert!(!list.contains(&names.0), "host namespace left behind");
        assert!(!list.contains(&names.1), "switch namespace left behind");
    }
}

/// The test each crate with a `sys` module runs, `unsafe_boundary::unsafe_stays_in_sys`:
/// `#[cfg(test)] ka_tests::unsafe_stays_in_sys!();` in its `lib.rs` (see
/// [`assert_unsafe_stays_in_sys`]).
#[macro_export]
macro_rules! unsafe_stays_in_sys {
    () => {
        mod unsafe_boundary {
            #[test]
            fn unsafe_stays_in_sys() {
                $crate::assert_unsafe_stays_in_sys(env!("CARGO_MANIFEST_DIR"));
            }
        }
    };
}

/// A crate's sources (`manifest_dir`, its `CARGO_MANIFEST_DIR`) use `unsafe` in
/// `src/sys.rs` only (see [`unsafe_outside`]).
pub fn assert_unsafe_stays_in_sys(manifest_dir: &str) {
    let src = std::path::Path::new(manifest_dir).join("src");
    assert_eq!(
        unsafe_outside(&src, &["sys.rs"]),
        Vec::<String>::new(),
        "unsafe code outside src/sys.rs"
    );
}

/// Where a crate's sources use `unsafe` outside the files allowed to (`allowed`: paths
/// relative to `src`): an `unsafe` block, fn, impl or trait, or an attribute lifting the
/// crate's `deny(unsafe_code)`. Comments are ignored. Returns `path:line` for each.
pub fn unsafe_outside(src: &std::path::Path, allowed: &[&str]) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    files.sort();
    let lift = concat!("allow(", "unsafe_code)");
    let mut found = Vec::new();
    for path in files {
        let rel = path.strip_prefix(src).unwrap_or(&path);
        if allowed.iter().any(|a| rel == std::path::Path::new(a)) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let mut words = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '{'))
                .filter(|w| !w.is_empty())
                .peekable();
            let mut hit = code.contains(lift);
            while let Some(w) = words.next() {
                if w == "unsafe" || w == "unsafe{" {
                    let next = words.peek().copied().unwrap_or("{");
                    if w == "unsafe{" || ["{", "fn", "impl", "trait", "extern"].contains(&next) {
                        hit = true;
                    }
                }
            }
            if hit {
                found.push(format!("{}:{}", rel.display(), n + 1));
            }
        }
    }
    found
}

pub mod capture;
pub mod daemon;
pub mod forge;
pub mod lvs;
pub mod probe;
pub mod scale;
pub mod servers;
pub mod syslog;

/// `promtool check metrics` on `text`: `Ok(())` when it accepts it, else what it said.
/// `None` when promtool is not installed.
pub fn promtool_check(text: &str) -> Option<Result<(), String>> {
    use std::io::Write;

    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    if let Some(mut stdin) = p.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    let out = p.wait_with_output().ok()?;
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}

/// A finished command's exit code, stdout and stderr, for an assertion message.
pub fn output_text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
