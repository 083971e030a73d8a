//! The campaign's lab: the hosts (namespaces on one bridge, from `ka_tests::Lan`), the
//! daemons running in them, the 1 ms VIP probe and the advert capture on the bridge.

use std::fs::File;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::check::{Change, Track, T};

/// Microseconds since `t0`.
pub fn since(t0: Instant) -> T {
    t0.elapsed().as_micros() as T
}

/// Which daemon runs on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imp {
    Ours,
    Keepalived,
}

impl Imp {
    pub fn name(self) -> &'static str {
        match self {
            Imp::Ours => "keepalived-rs",
            Imp::Keepalived => "keepalived",
        }
    }
}

/// The three processes of a daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Parent,
    Vrrp,
    Checker,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Parent, Role::Vrrp, Role::Checker];
    pub fn name(self) -> &'static str {
        match self {
            Role::Parent => "parent",
            Role::Vrrp => "vrrp",
            Role::Checker => "checker",
        }
    }
}

/// A process's state letter from /proc/PID/stat, and its parent pid.
pub fn proc_state(pid: i32) -> Option<(char, i32)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = s.rfind(')')?;
    let mut it = s.get(close + 2..)?.split_whitespace();
    let st = it.next()?.chars().next()?;
    let ppid = it.next()?.parse().ok()?;
    Some((st, ppid))
}

/// When the process started (clock ticks since boot, /proc/PID/stat field 22): with the
/// pid, what tells one process from a later one that got the same pid.
pub fn start_time(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let close = s.rfind(')')?;
    // Fields from the 3rd (state) on; starttime is the 22nd.
    s.get(close + 2..)?.split_whitespace().nth(19)?.parse().ok()
}

/// Alive: exists and is neither a zombie nor dead.
pub fn alive(pid: i32) -> bool {
    proc_state(pid).is_some_and(|(s, _)| s != 'Z' && s != 'X')
}

/// Time the process has spent runnable but waiting for a CPU (ns, /proc/PID/schedstat).
pub fn run_delay(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    s.split_whitespace().nth(1)?.parse().ok()
}

pub fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Send a signal; false when the process does not exist.
pub fn signal(pid: i32, sig: nix::sys::signal::Signal) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).is_ok()
}

/// (RSS kB, open fds) of a process.
pub fn resources(pid: i32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some((rss, fds))
}

/// One host's daemon: its files and, while it runs, the process we started.
#[derive(Debug)]
pub struct Host {
    pub ns: String,
    pub imp: Imp,
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub child: Option<Child>,
    /// The last pid seen per role (parent, vrrp, checker).
    pub seen: [Option<i32>; 3],
}

impl Host {
    pub fn conf(&self) -> PathBuf {
        self.dir.join("keepalived.conf")
    }
    pub fn fail_file(&self) -> PathBuf {
        self.dir.join("script.fail")
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("daemon.log")
    }
    fn pid_file(&self, role: Role) -> PathBuf {
        self.dir.join(match role {
            Role::Parent => "parent.pid",
            Role::Vrrp => "vrrp.pid",
            Role::Checker => "checker.pid",
        })
    }

    /// The current pid of `role` (alive), if any.
    pub fn pid(&self, role: Role) -> Option<i32> {
        let p = match role {
            Role::Parent => self.child.as_ref().map(|c| c.id() as i32),
            _ => read_pid(&self.pid_file(role)),
        }?;
        alive(p).then_some(p)
    }

    /// Start the daemon in the foreground (`-n`), its console appended to the log.
    pub fn start(&mut self, config: &str) -> Result<(), String> {
        std::fs::write(self.conf(), config).map_err(|e| format!("write config: {e}"))?;
        for r in Role::ALL {
            let _ = std::fs::remove_file(self.pid_file(r));
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| format!("{}: {e}", self.log_path().display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns])
            .arg(&self.bin)
            .args(["-n", "-l", "-D", "-G", "-f"])
            .arg(self.conf())
            .arg("-p")
            .arg(self.pid_file(Role::Parent))
            .arg("-r")
            .arg(self.pid_file(Role::Vrrp))
            .arg("-c")
            .arg(self.pid_file(Role::Checker))
            // keepalived refuses to start ("daemon is already running") when the default
            // BFD pid file names a live process, e.g. another test's keepalived.
            .arg("-b")
            .arg(self.dir.join("bfd.pid"));
        // keepalived-rs runs its checker child with no virtual server under `--all`, so
        // the checker can be attacked too; keepalived 2.2.7 cannot (its `--all` ends the
        // daemon here: the IPVS and BFD children exit with a CONFIG error).
        if self.imp == Imp::Ours {
            cmd.arg("--all");
            // Each host its own control socket (they share /run).
            cmd.arg("--control-socket").arg(self.dir.join("ctl.sock"));
        }
        cmd.env("TMPDIR", &self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        // Its own process group: a Ctrl-C on our terminal must not reach the daemons
        // (we stop them ourselves, and would count the deaths as collateral).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// Reap the parent if it exited: Some(exit status text, killed by a crash signal).
    pub fn reap(&mut self) -> Option<(String, bool)> {
        let c = self.child.as_mut()?;
        match c.try_wait() {
            Ok(Some(st)) => {
                self.child = None;
                use std::os::unix::process::ExitStatusExt;
                let crash = st.signal().is_some_and(|s| {
                    [libc_sig::ABRT, libc_sig::SEGV, libc_sig::BUS, libc_sig::ILL].contains(&s)
                });
                let dumped = st.core_dumped();
                Some((format!("{st}"), crash || dumped))
            }
            _ => None,
        }
    }

    /// SIGKILL every process of the daemon and reap the parent.
    pub fn kill_all(&mut self) {
        for r in Role::ALL {
            if let Some(p) = self.pid(r) {
                signal(p, nix::sys::signal::Signal::SIGCONT);
                signal(p, nix::sys::signal::Signal::SIGKILL);
            }
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Signal numbers of crashes (as in the exit status).
mod libc_sig {
    pub const ABRT: i32 = 6;
    pub const SEGV: i32 = 11;
    pub const BUS: i32 = 7;
    pub const ILL: i32 = 4;
}

fn enter(ns: &str) -> Result<(), String> {
    let path = format!("/run/netns/{ns}");
    let file = File::open(&path).map_err(|e| format!("open {path}: {e}"))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("setns {ns}: {e}"))
}

/// The 1 ms VIP probe of one host: is each VIP local here (a `bind()` to it succeeds)?
pub struct Probe {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Vec<Track>, String>>>,
}

impl Probe {
    pub fn start(ns: &str, vips: Vec<IpAddr>, t0: Instant) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let ns = ns.to_string();
        let thread = std::thread::spawn(move || {
            enter(&ns)?;
            let here = |v: IpAddr| UdpSocket::bind(SocketAddr::new(v, 0)).is_ok();
            let mut prev = since(t0);
            let mut last: Vec<bool> = vips.iter().map(|v| here(*v)).collect();
            let mut tracks: Vec<Track> = last
                .iter()
                .map(|&b| Track {
                    initial: b,
                    changes: Vec::new(),
                })
                .collect();
            while !stop2.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
                let before = since(t0);
                let now: Vec<bool> = vips.iter().map(|v| here(*v)).collect();
                let after = since(t0);
                for (i, (&n, l)) in now.iter().zip(last.iter_mut()).enumerate() {
                    if n != *l {
                        tracks[i].changes.push(Change {
                            lo: prev,
                            hi: after,
                            present: n,
                        });
                        *l = n;
                    }
                }
                prev = before;
            }
            Ok(tracks)
        });
        Probe {
            stop,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> Result<Vec<Track>, String> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            _ => Err("probe thread panicked".into()),
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A VRRP advert seen on the bridge.
#[derive(Debug, Clone, Copy)]
pub struct Advert {
    pub at: T,
    /// Sender host (by source MAC), if known.
    pub host: Option<usize>,
    pub v6: bool,
    pub vrid: u8,
    pub prio: u8,
}

/// Decode a VRRP advert from an Ethernet frame (IPv4 or IPv6, protocol 112).
pub fn advert(bytes: &[u8], macs: &[[u8; 6]]) -> Option<(Option<usize>, bool, u8, u8)> {
    let src: [u8; 6] = bytes.get(6..12)?.try_into().ok()?;
    let host = macs.iter().position(|m| *m == src);
    let et = u16::from_be_bytes([*bytes.get(12)?, *bytes.get(13)?]);
    let (v6, off) = match et {
        0x0800 => {
            let ihl = usize::from(bytes.get(14)? & 0x0f) * 4;
            if *bytes.get(14 + 9)? != 112 {
                return None;
            }
            (false, 14 + ihl)
        }
        0x86dd => {
            if *bytes.get(14 + 6)? != 112 {
                return None;
            }
            (true, 14 + 40)
        }
        _ => return None,
    };
    Some((host, v6, *bytes.get(off + 1)?, *bytes.get(off + 2)?))
}

/// The MAC address of `eth0` in namespace `ns`.
pub fn mac_of(ns: &str) -> Option<[u8; 6]> {
    let out = Command::new("ip")
        .args(["-n", ns, "-o", "link", "show", "eth0"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mac = text
        .split("link/ether ")
        .nth(1)?
        .split_whitespace()
        .next()?;
    let mut out = [0u8; 6];
    let parts: Vec<&str> = mac.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    for (o, p) in out.iter_mut().zip(parts) {
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    Some(out)
}

/// `ip ARGS` quietly; the error has ip's stderr.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Run a program inside a namespace, feeding `stdin`; the error has its stderr.
pub fn ns_exec(ns: &str, prog: &str, args: &[&str], stdin: Option<&str>) -> Result<(), String> {
    use std::io::Write;
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", ns, prog])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {prog}: {e}"))?;
    if let (Some(text), Some(mut si)) = (stdin, child.stdin.take()) {
        let _ = si.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{prog}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{prog} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
