//! The parent process, for real: the `keepalived-rs` binary started with `-n` inside a
//! network namespace host, driven with signals, observed through its pid files, its
//! console log (`-l -D`), `/proc` and its dump files.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use ka_tests::wait_for;
use ka_tests::{require_root, Guard, Lan};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ka_tests::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

fn config(prefix: &str) -> String {
    format!(
        "global_defs {{\n  router_id test\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    {prefix}.100/24\n  }}\n}}\n"
    )
}

/// One running daemon (parent started with `-n -l -D -G --all`).
struct Daemon {
    proc: Guard,
    dir: TempDir,
    conf: PathBuf,
    pid: PathBuf,
    vrrp_pid: PathBuf,
    check_pid: PathBuf,
    log: PathBuf,
}

impl Daemon {
    fn start(lan: &Lan, host: usize, prefix: &str, extra: &[&str]) -> Daemon {
        let d = Daemon::launch(lan, host, prefix, extra);
        d.wait_started();
        d
    }

    /// Start without waiting for any child.
    fn launch(lan: &Lan, host: usize, prefix: &str, extra: &[&str]) -> Daemon {
        let dir = TempDir::new("d");
        let conf = dir.0.join("keepalived.conf");
        std::fs::write(&conf, config(prefix)).unwrap();
        let d = Daemon::paths(dir, conf);
        let proc = d.spawn(lan, host, extra);
        Daemon { proc, ..d }
    }

    fn paths(dir: TempDir, conf: PathBuf) -> Daemon {
        let p = |n: &str| dir.0.join(n);
        Daemon {
            proc: Guard(Command::new("true").spawn().unwrap()),
            pid: p("keepalived.pid"),
            vrrp_pid: p("vrrp.pid"),
            check_pid: p("checkers.pid"),
            log: p("log.txt"),
            conf,
            dir,
        }
    }

    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<String> {
        let mut a: Vec<String> = ["-n", "-l", "-D", "-G"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if !extra.contains(&"--no-all") {
            a.push("--all".into());
        }
        for (flag, path) in [
            ("-f", &self.conf),
            ("-p", &self.pid),
            ("-r", &self.vrrp_pid),
            ("-c", &self.check_pid),
        ] {
            a.push(flag.into());
            a.push(path.display().to_string());
        }
        a.extend(
            extra
                .iter()
                .filter(|s| **s != "--no-all")
                .map(|s| s.to_string()),
        );
        a
    }

    fn spawn(&self, lan: &Lan, host: usize, extra: &[&str]) -> Guard {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = lan.hosts[host].command(BIN);
        cmd.args(self.args(extra))
            .env("TMPDIR", &self.dir.0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        Guard(cmd.spawn().unwrap())
    }

    fn wait_started(&self) {
        self.wait_children(true, true);
    }

    fn wait_children(&self, vrrp: bool, check: bool) {
        let ok = wait_for(Duration::from_secs(5), || {
            pid_of(&self.pid).is_some()
                && (!vrrp || pid_of(&self.vrrp_pid).is_some())
                && (!check || pid_of(&self.check_pid).is_some())
        });
        assert!(ok, "daemon did not start; log:\n{}", self.log_text());
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn parent(&self) -> i32 {
        pid_of(&self.pid).expect("parent pid file")
    }

    fn vrrp(&self) -> i32 {
        pid_of(&self.vrrp_pid).expect("vrrp pid file")
    }

    /// SIGTERM, then a clean exit (0) within 6 s.
    #[track_caller]
    fn stop(&mut self) {
        self.signal(libc::SIGTERM);
        assert_eq!(self.wait_exit(Duration::from_secs(6)), Some(0));
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) with a pid read from our own daemon's pid file.
        assert_eq!(unsafe { libc::kill(self.parent(), sig) }, 0);
    }

    /// Wait for the parent to exit; its exit code.
    fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let t = Instant::now();
        while t.elapsed() < within {
            if let Some(st) = self.proc.0.try_wait().unwrap() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

fn pid_of(p: &Path) -> Option<i32> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

fn alive(pid: i32) -> bool {
    // A zombie is dead for our purpose.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn ppid(pid: i32) -> Option<i32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = s.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn pid_files_second_start_refused_and_sigterm_stops_everything() {
    if !require_root("pid_files_second_start_refused_and_sigterm_stops_everything") {
        return;
    }
    let lan = Lan::new(1, "10.211.0");
    let mut d = Daemon::start(&lan, 0, "10.211.0", &[]);
    let parent = d.parent();
    let vrrp = d.vrrp();
    let check = pid_of(&d.check_pid).unwrap();
    assert_eq!(
        parent as u32,
        d.proc.0.id(),
        "-n: the parent does not fork away"
    );
    assert_eq!(ppid(vrrp), Some(parent), "VRRP child of the parent");
    assert_eq!(ppid(check), Some(parent), "checker child of the parent");

    // A second daemon with the same pid files is refused (keepalived exits 0).
    let second = d.spawn(&lan, 0, &[]);
    let mut second = second;
    let st = {
        let t = Instant::now();
        loop {
            if let Some(st) = second.0.try_wait().unwrap() {
                break st;
            }
            assert!(t.elapsed() < Duration::from_secs(5), "second start hangs");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    assert_eq!(st.code(), Some(0));
    assert!(d.log_text().contains("daemon is already running"));
    assert_eq!(d.parent(), parent, "the pid file still names the first one");
    assert!(alive(vrrp) && alive(check));

    // SIGTERM: children told to stop, everything gone within 5 s, pid files removed.
    let t = Instant::now();
    d.signal(libc::SIGTERM);
    assert_eq!(
        d.wait_exit(Duration::from_secs(6)),
        Some(0),
        "{}",
        d.log_text()
    );
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "stop took {took:?}");
    assert!(!alive(vrrp) && !alive(check), "children left behind");
    assert!(!d.pid.exists() && !d.vrrp_pid.exists() && !d.check_pid.exists());
    eprintln!("SIGTERM -> parent exited in {took:?}");
}

#[test]
fn killed_child_is_respawned_with_keepalived_back_off() {
    if !require_root("killed_child_is_respawned_with_keepalived_back_off") {
        return;
    }
    let lan = Lan::new(1, "10.212.0");
    let mut d = Daemon::start(&lan, 0, "10.212.0", &[]);
    let mut delays = Vec::new();
    let mut pid = d.vrrp();
    for _ in 0..3 {
        let t = Instant::now();
        // SAFETY: kill(2) on our daemon's VRRP child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let ok = wait_for(Duration::from_secs(5), || {
            pid_of(&d.vrrp_pid).is_some_and(|p| p != pid && alive(p))
        });
        assert!(ok, "no respawn; log:\n{}", d.log_text());
        delays.push(t.elapsed());
        let new = d.vrrp();
        assert_eq!(ppid(new), Some(d.parent()));
        pid = new;
    }
    eprintln!("respawn delays: {delays:?}");
    // keepalived: 0, 1, 2 s for deaths in quick succession.
    assert!(delays[0] < Duration::from_millis(700), "{delays:?}");
    assert!(delays[1] >= Duration::from_millis(950), "{delays:?}");
    assert!(delays[1] < Duration::from_millis(1700), "{delays:?}");
    assert!(delays[2] >= Duration::from_millis(1950), "{delays:?}");
    let log = d.log_text();
    assert!(log.contains("exited due to signal 9 (Killed)"), "{log}");
    assert!(log.contains("died: Respawning"), "{log}");
    assert!(
        log.contains("delayed 1 seconds to limit respawn rate"),
        "{log}"
    );
    d.stop();
}

#[test]
fn dont_respawn_stops_the_parent_when_a_child_dies() {
    if !require_root("dont_respawn_stops_the_parent_when_a_child_dies") {
        return;
    }
    let lan = Lan::new(1, "10.213.0");
    let mut d = Daemon::start(&lan, 0, "10.213.0", &["-R"]);
    let check = pid_of(&d.check_pid).unwrap();
    // SAFETY: kill(2) on our daemon's VRRP child.
    unsafe { libc::kill(d.vrrp(), libc::SIGKILL) };
    assert!(
        d.wait_exit(Duration::from_secs(6)).is_some(),
        "{}",
        d.log_text()
    );
    assert!(!alive(check));
    assert!(!d.pid.exists());
}

#[test]
fn sighup_with_a_broken_config_keeps_the_old_one_running() {
    if !require_root("sighup_with_a_broken_config_keeps_the_old_one_running") {
        return;
    }
    let lan = Lan::new(1, "10.214.0");
    let mut d = Daemon::start(&lan, 0, "10.214.0", &[]);
    let (parent, vrrp) = (d.parent(), d.vrrp());
    std::fs::write(&d.conf, "vrrp_instance VI_1 {\n  interface eth0\n").unwrap();
    d.signal(libc::SIGHUP);
    assert!(
        wait_for(Duration::from_secs(3), || d
            .log_text()
            .contains("Reload refused")),
        "{}",
        d.log_text()
    );
    assert!(alive(parent) && alive(vrrp));
    assert_eq!(d.vrrp(), vrrp, "no restart on a refused reload");

    // A valid config again: sent to the children as Reload, no restart either.
    std::fs::write(&d.conf, config("10.214.0")).unwrap();
    d.signal(libc::SIGHUP);
    // The parent's own "Reloading" lines (children log theirs with a "[vrrp] " prefix).
    let parent_reloads = |d: &Daemon| {
        d.log_text()
            .lines()
            .filter(|l| l.ends_with(": Reloading"))
            .count()
    };
    assert!(
        wait_for(Duration::from_secs(3), || parent_reloads(&d) == 2),
        "{}",
        d.log_text()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.vrrp(), vrrp);
    assert!(alive(vrrp));
    d.stop();
}

#[test]
fn dump_signals_write_keepalived_files() {
    if !require_root("dump_signals_write_keepalived_files") {
        return;
    }
    let lan = Lan::new(1, "10.215.0");
    let mut d = Daemon::start(&lan, 0, "10.215.0", &[]);
    let dir = d.dir.0.clone();
    d.signal(libc::SIGUSR1);
    for f in [
        "keepalived_parent.data",
        "keepalived.data",
        "keepalived_check.data",
    ] {
        assert!(
            wait_for(Duration::from_secs(3), || dir.join(f).exists()),
            "{f} missing"
        );
    }
    let parent = std::fs::read_to_string(dir.join("keepalived_parent.data")).unwrap();
    assert!(
        parent.contains(&format!("pid = {}", d.parent())),
        "{parent}"
    );
    d.signal(libc::SIGUSR2);
    assert!(wait_for(Duration::from_secs(3), || dir
        .join("keepalived.stats")
        .exists()));
    d.signal(36); // JSON, SIGRTMIN+2
    assert!(wait_for(Duration::from_secs(3), || dir
        .join("keepalived.json")
        .exists()));
    // The log says where each went (an exporter no longer has to guess /tmp).
    for f in [
        "keepalived_parent.data",
        "keepalived.stats",
        "keepalived.json",
    ] {
        let line = format!("dump written to {}", dir.join(f).display());
        assert!(
            wait_for(Duration::from_secs(3), || d.log_text().contains(&line)),
            "no log line {line:?}"
        );
    }
    d.stop();
}

/// The child's end of its IPC socketpair: the unix socket of `child` whose peer belongs
/// to `parent` (from `ss -xp` inside the namespace).
fn ipc_fd_of(ns: &ka_tests::Netns, parent: i32, child: i32) -> Option<i32> {
    let out = ns.exec("ss", ["-xpnH"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    // Columns: type state recvq sendq local_addr local_inode peer_addr peer_inode users
    let mut rows = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 9 {
            continue;
        }
        let users = cols[8..].join(" ");
        let pid = users
            .split("pid=")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.parse::<i32>().ok());
        let fd = users
            .split("fd=")
            .nth(1)
            .and_then(|s| s.trim_end_matches(['(', ')']).split(')').next())
            .and_then(|s| s.parse::<i32>().ok());
        rows.push((cols[5].to_string(), cols[7].to_string(), pid, fd));
    }
    rows.iter()
        .filter(|(_, peer, pid, _)| {
            *pid == Some(child)
                && rows
                    .iter()
                    .any(|(local, _, p, _)| local == peer && *p == Some(parent))
        })
        .find_map(|(_, _, _, fd)| *fd)
}

#[test]
fn garbage_from_a_child_restarts_that_child_only() {
    if !require_root("garbage_from_a_child_restarts_that_child_only") {
        return;
    }
    let lan = Lan::new(1, "10.216.0");
    let mut d = Daemon::start(&lan, 0, "10.216.0", &[]);
    let (parent, vrrp) = (d.parent(), d.vrrp());
    let check = pid_of(&d.check_pid).unwrap();
    let fd = ipc_fd_of(&lan.hosts[0], parent, vrrp).expect("the VRRP child's IPC socket");
    // Take a copy of the child's socket (pidfd_getfd) and write garbage into it, as if the
    // child had: 8 header bytes announcing 4 GiB, then noise.
    // SAFETY: raw syscalls with integer arguments; the returned descriptors are owned here.
    let sock = unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, vrrp, 0) as i32;
        assert!(
            pidfd >= 0,
            "pidfd_open: {}",
            std::io::Error::last_os_error()
        );
        let s = libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd, 0) as i32;
        assert!(s >= 0, "pidfd_getfd: {}", std::io::Error::last_os_error());
        libc::close(pidfd);
        s
    };
    let garbage = [b'K', b'A', 1, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3];
    // SAFETY: writing a local buffer to a descriptor we own, then closing it.
    unsafe {
        assert_eq!(
            libc::write(sock, garbage.as_ptr().cast(), garbage.len()),
            garbage.len() as isize
        );
        libc::close(sock);
    }
    let ok = wait_for(Duration::from_secs(5), || {
        pid_of(&d.vrrp_pid).is_some_and(|p| p != vrrp && alive(p))
    });
    assert!(ok, "VRRP child not restarted; log:\n{}", d.log_text());
    assert!(alive(parent), "the parent survives garbage");
    assert_eq!(
        pid_of(&d.check_pid),
        Some(check),
        "the checker is untouched"
    );
    assert!(alive(check));
    let log = d.log_text();
    assert!(log.contains("sent a bad IPC frame"), "{log}");
    d.stop();
}

#[test]
fn children_follow_the_config_and_p_c_switches() {
    if !require_root("children_follow_the_config_and_p_c_switches") {
        return;
    }
    let lan = Lan::new(1, "10.219.0");
    // A VRRP-only config: only the VRRP child (keepalived starts what the config needs).
    let mut d = Daemon::launch(&lan, 0, "10.219.0", &["--no-all"]);
    d.wait_children(true, false);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !d.check_pid.exists(),
        "no checker child without virtual_server"
    );
    // SIGINT stops as SIGTERM does.
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(Duration::from_secs(6)), Some(0));

    // --all -P: only the VRRP child; --all -C: only the checker.
    let mut d = Daemon::launch(&lan, 0, "10.219.0", &["-P"]);
    d.wait_children(true, false);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!d.check_pid.exists(), "-P starts no checker");
    d.stop();
    let mut d = Daemon::launch(&lan, 0, "10.219.0", &["-C"]);
    d.wait_children(false, true);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!d.vrrp_pid.exists(), "-C starts no VRRP child");

    // --ignore-sigint: SIGINT does nothing.
    let mut d2 = Daemon::launch(&lan, 0, "10.219.0", &["--ignore-sigint", "-P"]);
    d2.wait_children(true, false);
    d2.signal(libc::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(d2.parent()), "--ignore-sigint");
    d2.signal(libc::SIGTERM);
    assert_eq!(d2.wait_exit(Duration::from_secs(6)), Some(0));
    d.stop();
}

#[test]
fn without_n_the_daemon_detaches() {
    if !require_root("without_n_the_daemon_detaches") {
        return;
    }
    let lan = Lan::new(1, "10.220.0");
    let dir = TempDir::new("dz");
    let conf = dir.0.join("keepalived.conf");
    std::fs::write(&conf, config("10.220.0")).unwrap();
    let d = Daemon::paths(dir, conf);
    // Not -n: the started process returns at once, the daemon lives on in its own session.
    let mut args = d.args(&["-P"]);
    args.retain(|a| a != "-n" && a != "-l");
    let t = Instant::now();
    let st = lan.hosts[0].command(BIN).args(&args).status().unwrap();
    assert!(st.success(), "launcher exit: {st:?}");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(
        wait_for(Duration::from_secs(5), || pid_of(&d.pid).is_some()
            && pid_of(&d.vrrp_pid).is_some()),
        "daemon did not start"
    );
    let parent = d.parent();
    assert!(alive(parent));
    assert_ne!(ppid(parent), Some(std::process::id() as i32));
    // Its own session (setsid), stdio on /dev/null, cwd /.
    let stat = std::fs::read_to_string(format!("/proc/{parent}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let (pgrp, session) = (fields[2], fields[3]);
    assert_ne!(
        session,
        parent.to_string(),
        "the session leader exited (double fork)"
    );
    assert_eq!(pgrp, session);
    for fd in 0..=2 {
        let target = std::fs::read_link(format!("/proc/{parent}/fd/{fd}")).unwrap();
        assert_eq!(target, Path::new("/dev/null"));
    }
    assert_eq!(
        std::fs::read_link(format!("/proc/{parent}/cwd")).unwrap(),
        Path::new("/")
    );
    let vrrp = d.vrrp();
    assert_eq!(ppid(vrrp), Some(parent));
    d.signal(libc::SIGTERM);
    assert!(wait_for(Duration::from_secs(6), || !alive(parent)));
    assert!(!alive(vrrp));
    assert!(!d.pid.exists() && !d.vrrp_pid.exists());
}

#[test]
fn children_die_with_the_parent() {
    if !require_root("children_die_with_the_parent") {
        return;
    }
    let lan = Lan::new(1, "10.221.0");
    let mut d = Daemon::start(&lan, 0, "10.221.0", &[]);
    let (vrrp, check) = (d.vrrp(), pid_of(&d.check_pid).unwrap());
    // SIGKILL: the parent cannot tell anyone; PR_SET_PDEATHSIG does.
    d.signal(libc::SIGKILL);
    assert_eq!(
        d.wait_exit(Duration::from_secs(2)),
        None,
        "killed: no exit code"
    );
    let t = Instant::now();
    assert!(
        wait_for(Duration::from_secs(5), || !alive(vrrp) && !alive(check)),
        "children outlived the parent"
    );
    eprintln!("children gone {:?} after the parent's SIGKILL", t.elapsed());
}

#[test]
fn startup_and_shutdown_scripts_run_around_the_children() {
    if !require_root("startup_and_shutdown_scripts_run_around_the_children") {
        return;
    }
    let lan = Lan::new(1, "10.222.0");
    let tmp = TempDir::new("sc");
    let conf = tmp.0.join("keepalived.conf");
    let mut d = Daemon::paths(tmp, conf);
    let dir = d.dir.0.clone();
    let (started, stopped) = (dir.join("started"), dir.join("stopped"));
    // The startup script runs before the VRRP child exists; the shutdown script after it
    // is gone (its pid file removed at reaping).
    let scripts = format!(
        "global_defs {{\n  startup_script \"/bin/sh -c 'test ! -e {r} && touch {s}'\"\n  \
         shutdown_script \"/bin/sh -c 'test ! -e {r} && touch {t}'\"\n}}\n",
        r = d.vrrp_pid.display(),
        s = started.display(),
        t = stopped.display()
    );
    std::fs::write(&d.conf, scripts + &config("10.222.0")).unwrap();
    d.proc = d.spawn(&lan, 0, &["-P"]);
    d.wait_children(true, false);
    assert!(started.exists(), "startup_script; log:\n{}", d.log_text());
    assert!(!stopped.exists());
    d.stop();
    assert!(stopped.exists(), "shutdown_script; log:\n{}", d.log_text());
}

/// keepalived 2.2.7 runs with umask 0177 unless `-u` says otherwise (observed: its scripts
/// see 0177 and its dump files are 0600, whatever umask started it; its pid files 0644).
#[test]
fn scripts_and_files_get_keepalived_umask() {
    if !require_root("scripts_and_files_get_keepalived_umask") {
        return;
    }
    let lan = Lan::new(1, "10.223.0");
    let tmp = TempDir::new("um");
    let conf = tmp.0.join("keepalived.conf");
    let mut d = Daemon::paths(tmp, conf);
    let dir = d.dir.0.clone();
    let seen = dir.join("umask");
    let script = format!(
        "global_defs {{\n  startup_script \"/bin/sh -c 'umask > {s}'\"\n}}\n",
        s = seen.display()
    );
    std::fs::write(&d.conf, script + &config("10.223.0")).unwrap();
    d.proc = d.spawn(&lan, 0, &["-P"]);
    d.wait_children(true, false);
    let mode = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .ok()
    };
    assert_eq!(
        std::fs::read_to_string(&seen)
            .ok()
            .as_deref()
            .map(str::trim),
        Some("0177"),
        "the script's umask; log:\n{}",
        d.log_text()
    );
    assert_eq!(mode(&d.vrrp_pid), Some(0o644), "pid file");
    d.signal(libc::SIGUSR1);
    let data = dir.join("keepalived_parent.data");
    assert!(wait_for(Duration::from_secs(3), || data.exists()));
    assert_eq!(mode(&data), Some(0o600), "dump file");
    d.stop();
}

#[test]
fn dash_s_runs_the_daemon_in_a_network_namespace() {
    if !require_root("dash_s_runs_the_daemon_in_a_network_namespace") {
        return;
    }
    let lan = Lan::new(1, "10.223.0");
    let ns = lan.hosts[0].name().to_string();
    let tmp = TempDir::new("ns");
    let conf = tmp.0.join("keepalived.conf");
    std::fs::write(&conf, config("10.223.0")).unwrap();
    let mut d = Daemon::paths(tmp, conf);
    // Started in the root namespace; `-s` moves the parent and its children.
    let log = std::fs::File::create(&d.log).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(d.args(&["-P", "-s", &ns]))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    d.proc = Guard(cmd.spawn().unwrap());
    d.wait_children(true, false);
    let want = std::fs::metadata(format!("/run/netns/{ns}")).unwrap();
    use std::os::unix::fs::MetadataExt;
    for pid in [d.parent(), d.vrrp()] {
        let link = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
        assert_eq!(
            link.display().to_string(),
            format!("net:[{}]", want.ino()),
            "pid {pid} is not in {ns}"
        );
    }
    d.stop();

    // The same with `net_namespace NAME` in the config instead of -s.
    std::fs::write(
        &d.conf,
        format!("net_namespace {ns}\n{}", config("10.223.0")),
    )
    .unwrap();
    let log = std::fs::File::create(&d.log).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(d.args(&["-P"]))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    d.proc = Guard(cmd.spawn().unwrap());
    d.wait_children(true, false);
    let link = std::fs::read_link(format!("/proc/{}/ns/net", d.vrrp())).unwrap();
    assert_eq!(link.display().to_string(), format!("net:[{}]", want.ino()));
    d.stop();

    // A namespace that does not exist: keepalived-rs refuses to start.
    let st = Command::new(BIN)
        .args(d.args(&["-P", "-s", "ka-no-such-ns"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(1));
}

#[test]
fn instance_puts_pid_files_in_the_pid_dir() {
    if !require_root("instance_puts_pid_files_in_the_pid_dir") {
        return;
    }
    let lan = Lan::new(1, "10.224.0");
    let tmp = TempDir::new("in");
    let inst = ka_tests::unique("i");
    let conf = tmp.0.join("keepalived.conf");
    std::fs::write(&conf, format!("instance {inst}\n{}", config("10.224.0"))).unwrap();
    // keepalived 2.2.7: /run/keepalived/keepalived_NAME.pid, vrrp_NAME.pid.
    let pid = PathBuf::from(format!("/run/keepalived/keepalived_{inst}.pid"));
    let vrrp = PathBuf::from(format!("/run/keepalived/vrrp_{inst}.pid"));
    let mut cmd = lan.hosts[0].command(BIN);
    cmd.args(["-n", "-G", "-P", "-f"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut proc = Guard(cmd.spawn().unwrap());
    assert!(wait_for(Duration::from_secs(5), || pid_of(&pid).is_some()
        && pid_of(&vrrp).is_some()));
    assert_eq!(pid_of(&pid), Some(proc.0.id() as i32));
    // SAFETY: kill(2) on the daemon we started.
    unsafe { libc::kill(proc.0.id() as i32, libc::SIGTERM) };
    assert!(wait_for(Duration::from_secs(6), || proc
        .0
        .try_wait()
        .unwrap()
        .is_some()));
    assert!(!pid.exists() && !vrrp.exists());
}

#[test]
fn reload_starts_and_stops_children_as_the_config_needs() {
    if !require_root("reload_starts_and_stops_children_as_the_config_needs") {
        return;
    }
    let lan = Lan::new(1, "10.225.0");
    let mut d = Daemon::launch(&lan, 0, "10.225.0", &["--no-all"]);
    d.wait_children(true, false);
    let vrrp = d.vrrp();
    assert!(!d.check_pid.exists());
    // A virtual_server appears: SIGHUP starts the checker child; the VRRP child stays.
    let vs = "virtual_server 10.225.0.100 80 {\n  delay_loop 6\n  lb_algo rr\n  \
              lb_kind NAT\n  protocol TCP\n  real_server 10.225.0.1 80 {\n    \
              TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n}\n";
    std::fs::write(&d.conf, config("10.225.0") + vs).unwrap();
    d.signal(libc::SIGHUP);
    assert!(
        wait_for(Duration::from_secs(5), || pid_of(&d.check_pid)
            .is_some_and(alive)),
        "no checker child after the reload; log:\n{}",
        d.log_text()
    );
    let check = pid_of(&d.check_pid).unwrap();
    assert_eq!(ppid(check), Some(d.parent()));
    assert_eq!(d.vrrp(), vrrp, "the VRRP child is reloaded, not restarted");
    // It goes away again: the checker child is stopped and not respawned.
    std::fs::write(&d.conf, config("10.225.0")).unwrap();
    d.signal(libc::SIGHUP);
    assert!(
        wait_for(Duration::from_secs(6), || !alive(check)),
        "{}",
        d.log_text()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(!d.check_pid.exists(), "{}", d.log_text());
    assert_eq!(d.vrrp(), vrrp);
    d.stop();
}

#[test]
fn missing_config_exits_6() {
    let dir = TempDir::new("m");
    let out = Command::new(BIN)
        .args(["-n", "-l", "-G", "-f"])
        .arg(dir.0.join("nope.conf"))
        .arg("-p")
        .arg(dir.0.join("p.pid"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Config files missing"));
}

#[test]
fn smtp_alerts_from_both_children_reach_a_mail_server() {
    use ka_proto::smtp::sink::{Behaviour, Received, Sink};
    if !require_root("smtp_alerts_from_both_children_reach_a_mail_server") {
        return;
    }
    let lan = Lan::new(1, "10.219.0");
    // The mail server listens inside the host's namespace, where the daemon runs.
    let listener = lan.hosts[0].run(|| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    let sink = Sink::from_listener(listener, Behaviour::Accept).unwrap();
    let port = sink.addr().port();
    let dir = TempDir::new("smtp");
    let conf = dir.0.join("keepalived.conf");
    // Nothing listens on 127.0.0.1:9 (discard): the TCP_CHECK fails and the real
    // server goes DOWN; the instance becomes MASTER on its own.
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n  router_id mailtest\n  notification_email {{\n    ops@example.org\n  }}\n  \
             notification_email_from ka@example.org\n  smtp_server 127.0.0.1 {port}\n  \
             smtp_connect_timeout 5\n}}\n\
             vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  \
             priority 100\n  advert_int 1\n  smtp_alert\n  virtual_ipaddress {{\n    10.219.0.100/24\n  }}\n}}\n\
             virtual_server 10.219.0.100 80 {{\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  \
             real_server 127.0.0.1 9 {{\n    weight 1\n    TCP_CHECK {{\n      connect_timeout 1\n      \
             retry 0\n    }}\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let d = Daemon::paths(dir, conf);
    let mut d = Daemon {
        proc: d.spawn(&lan, 0, &[]),
        ..d
    };
    d.wait_started();
    let subject = |r: &Received| r.message.as_ref().map(|m| m.subject.clone());
    let master = sink.wait_for(Duration::from_secs(15), |r| {
        subject(r).is_some_and(|s| s.contains("VI_1") && s.contains("Entering MASTER state"))
    });
    let down = sink.wait_for(Duration::from_secs(15), |r| {
        subject(r)
            .is_some_and(|s| s.contains("Realserver [127.0.0.1]:tcp:9") && s.ends_with("- DOWN"))
    });
    let log = d.log_text();
    d.signal(libc::SIGTERM);
    let _ = d.wait_exit(Duration::from_secs(6));
    let master = master.unwrap_or_else(|| panic!("no MASTER mail: {:?}\n{log}", sink.received()));
    let m = master.message.as_ref().unwrap();
    assert_eq!(
        m.subject,
        "[mailtest] VRRP Instance VI_1 - Entering MASTER state"
    );
    assert_eq!(m.to, ["ops@example.org"]);
    assert_eq!(m.from, "ka@example.org");
    assert!(
        m.body
            .contains("=> VRRP Instance is now owning VRRP VIPs <="),
        "{m:?}"
    );
    let env = master.envelope.as_ref().unwrap();
    assert_eq!(env.from, "ka@example.org");
    let down = down.unwrap_or_else(|| panic!("no real server mail: {:?}\n{log}", sink.received()));
    let m = down.message.as_ref().unwrap();
    assert_eq!(
        m.subject,
        "[mailtest] Realserver [127.0.0.1]:tcp:9 of virtual server [10.219.0.100]:tcp:80 - DOWN"
    );
    assert!(
        m.body.contains("=> TCP CHECK failed on service <="),
        "{m:?}"
    );
}
