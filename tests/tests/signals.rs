//! Every signal path leaves the network clean (issue 11, point 1).
//!
//! Two hosts on a LAN, MASTER prio 100 (host A, the one signalled) and BACKUP prio 90
//! (host B), VRRPv2, advert_int 1. A 1 ms probe on both hosts watches the VIP while a
//! signal reaches A: its parent (SIGKILL daemonised and in the foreground, SIGQUIT,
//! SIGTERM right after a SIGHUP, SIGTERM during the respawn back-off), its VRRP child
//! (SIGTERM), its checker child (SIGTERM), or its whole process group (SIGINT, as Ctrl-C,
//! `timeout` or systemd's `KillMode=control-group` do).
//!
//! In each, A must leave VRRP as a full stop does: priority-0 advert, VIP removed. So the
//! VIP is never on both hosts (B adds it a skew time after the priority-0 advert, A has
//! removed it by then; a few ms of probe jitter are allowed), and at the end it is on B
//! alone. Before the fix, the VRRP child died from its parent-death SIGTERM (or the group
//! signal) by the default action with the VIP installed, and B took it over after a
//! master-down interval: the VIP on both hosts for good.
//!
//! keepalived 2.2.7 runs the parent-SIGKILL scenario once as the reference.

use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use ka_tests::capture::{Capture, Frame};
use ka_tests::daemon::{require_keepalived, Daemon, Impl};
use ka_tests::probe::{Prober, Timeline};
use ka_tests::wait_for;
use ka_tests::{require_root, Lan, Netns};

/// Probe jitter allowed for a "VIP on both hosts" interval that a clean hand-over cannot
/// produce (the probe threads sample 1 ms apart on a busy 2-core machine).
const JITTER: Duration = Duration::from_millis(10);
const UP: Duration = Duration::from_secs(15);

fn conf(state: &str, prio: u8, vip: &str, extra: &str) -> String {
    conf_with(state, prio, vip, "", extra)
}

/// `inst` goes inside the instance, `extra` after it.
fn conf_with(state: &str, prio: u8, vip: &str, inst: &str, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 51\n  \
         priority {prio}\n  advert_int 1\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n{inst}}}\n{extra}"
    )
}

/// A virtual server, so that A also runs a checker child.
const VS: &str = "virtual_server 192.0.2.10 80 {\n  delay_loop 1\n  lb_kind NAT\n  \
                  protocol TCP\n  real_server 192.0.2.11 80 {\n    TCP_CHECK {\n      \
                  connect_timeout 1\n    }\n  }\n}\n";

/// B takes over this soon after a priority-0 advert: its skew time (0.65 s at priority
/// 90, advert_int 1) plus a margin for a busy machine; a master-down interval is 3.65 s.
const SKEW_MARGIN: Duration = Duration::from_millis(1500);

/// ETH_P_IP.
const ETH_P_IP: u16 = 0x0800;
/// ETH_P_ALL: a capture on B's eth0 sees what B sends too.
const ETH_P_ALL: u16 = 0x0003;

/// The VRRP adverts among captured frames, sent from `src`: (kernel time, priority).
fn adverts(frames: &[Frame], src: &str) -> Vec<(Duration, u8)> {
    let Ok(src) = src.parse::<std::net::Ipv4Addr>() else {
        return Vec::new();
    };
    frames
        .iter()
        .filter_map(|f| {
            let b = &f.bytes;
            if b.get(12..14)? != ETH_P_IP.to_be_bytes() {
                return None;
            }
            let ip = b.get(14..)?;
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if *ip.get(9)? != 112 || ip.get(12..16)? != src.octets() {
                return None;
            }
            Some((f.at, *ip.get(ihl + 2)?))
        })
        .collect()
}

/// From frames captured on B: the time from A's first priority-0 advert to B's first
/// advert after it (B took over), or why not.
fn prio0_takeover(frames: &[Frame], a: &str, b: &str) -> Result<Duration, String> {
    let from_a = adverts(frames, a);
    let Some(zero) = from_a.iter().find(|x| x.1 == 0).map(|x| x.0) else {
        let last = &from_a[from_a.len().saturating_sub(5)..];
        return Err(format!(
            "no priority-0 advert from A; A sent {} adverts, the last {last:?}",
            from_a.len()
        ));
    };
    adverts(frames, b)
        .iter()
        .find(|x| x.0 >= zero)
        .map(|x| x.0 - zero)
        .ok_or_else(|| "B sent no advert after A's priority 0".to_string())
}

/// The parent's log says a VRRP child restart is delayed (by a non-zero time).
fn backing_off(log: &str) -> bool {
    log.lines()
        .any(|l| l.contains("Restart of VRRP process delayed") && !l.contains("delayed 0 seconds"))
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) on a pid (or process group) of processes this test started.
    unsafe { libc::kill(pid, sig) };
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks for existence.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    // A zombie (not reaped yet) counts as gone.
    exists && fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

/// A `/proc/PID/status` signal set (`SigBlk`, `SigCgt`...) as a bit mask.
fn sig_mask(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0)
}

/// The stop signals (TERM, INT, QUIT) as `/proc` mask bits.
const STOP_BITS: u64 =
    (1 << (libc::SIGTERM - 1)) | (1 << (libc::SIGINT - 1)) | (1 << (libc::SIGQUIT - 1));

/// A child of ours must have SIGTERM/SIGINT/SIGQUIT blocked (read from its signalfd),
/// never at their default action: that is what killed it with the VIP installed.
fn assert_stop_signals_blocked(what: &str, pid: i32) {
    let st = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let blk = sig_mask(&st, "SigBlk");
    assert_eq!(
        blk & STOP_BITS,
        STOP_BITS,
        "{what} (pid {pid}): SIGTERM/SIGINT/SIGQUIT not blocked: {st}"
    );
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The daemon on host A, started as an init script does (`-D`, no `-n`: it forks into
/// the background) or in the foreground (`-n`) in its own process group.
struct Node {
    imp: Impl,
    dir: PathBuf,
    /// The foreground parent (None when daemonised).
    child: Option<Child>,
    daemonised: bool,
    /// Every pid seen (killed on drop).
    seen: Vec<i32>,
}

impl Node {
    fn start(ns: &Netns, imp: Impl, config: &str, daemonised: bool, args: &[&str]) -> Node {
        let dir = std::env::temp_dir().join(ka_tests::unique("sig"));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
        let conf = dir.join("keepalived.conf");
        fs::write(&conf, config).unwrap_or_else(|e| panic!("write {conf:?}: {e}"));
        let log = fs::File::create(dir.join("log")).unwrap_or_else(|e| panic!("log: {e}"));
        let log2 = log.try_clone().unwrap_or_else(|e| panic!("log: {e}"));
        let mut cmd = ns.command(&imp.binary().to_string_lossy());
        if !daemonised {
            cmd.arg("-n");
        }
        cmd.args(["-l", "-D", "-f"])
            .arg(&conf)
            .args(ka_tests::daemon::pid_file_args(&dir))
            .args(args);
        if imp == Impl::Keepalived {
            // Its own BFD pid file too: keepalived refuses to start ("daemon is already
            // running") when the default /run/bfd.pid names a live process.
            cmd.arg("-b").arg(dir.join("bfd.pid"));
        }
        cmd.env("TMPDIR", &dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let mut node = Node {
            imp,
            dir,
            child: None,
            daemonised,
            seen: Vec::new(),
        };
        if daemonised {
            // The launcher exits once the daemon has forked away.
            let st = child.wait();
            assert!(st.is_ok_and(|s| s.success()), "daemonising failed");
            assert!(
                wait_for(UP, || node.parent().is_some()),
                "no pid file from the daemonised parent"
            );
        } else {
            node.child = Some(child);
        }
        node
    }

    /// The parent's pid.
    fn parent(&self) -> Option<i32> {
        match &self.child {
            Some(c) => Some(c.id() as i32),
            None if self.daemonised => read_pid(&self.dir.join("keepalived.pid")),
            None => None,
        }
    }

    fn vrrp(&self) -> Option<i32> {
        read_pid(&self.dir.join("vrrp.pid")).filter(|p| alive(*p))
    }

    fn checker(&self) -> Option<i32> {
        read_pid(&self.dir.join("checkers.pid")).filter(|p| alive(*p))
    }

    /// Remember the current pids (for the "all gone" check and the clean-up).
    fn note_pids(&mut self) -> Vec<i32> {
        let now: Vec<i32> = [self.parent(), self.vrrp(), self.checker()]
            .into_iter()
            .flatten()
            .collect();
        for p in &now {
            if !self.seen.contains(p) {
                self.seen.push(*p);
            }
        }
        now
    }

    /// Has every process of this daemon gone (reaping the foreground parent)?
    fn gone(&mut self, pids: &[i32]) -> bool {
        if let Some(c) = self.child.as_mut() {
            if c.try_wait().ok().flatten().is_none() {
                return false;
            }
        }
        pids.iter().all(|p| !alive(*p))
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.note_pids();
        for p in &self.seen {
            if alive(*p) {
                signal(*p, libc::SIGKILL);
            }
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- {} on A ({}):\n{}",
                self.imp.name(),
                self.dir.display(),
                self.log()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Intervals (offset, length) of a timeline, without what lies in the probes' start-up.
fn settled(t: &Timeline, v: Vec<(Duration, Duration)>) -> Vec<(Duration, Duration)> {
    let start = t
        .hosts
        .iter()
        .filter_map(|h| h.first().map(|x| x.0 - t.start))
        .max()
        .unwrap_or_default();
    v.into_iter()
        .filter(|(off, len)| *off + *len > start)
        .collect()
}

/// What one signal round measured.
#[derive(Debug)]
struct Round {
    /// Longest time the VIP was on both hosts.
    dual: Duration,
    /// Longest time it was on neither.
    absent: Duration,
    /// Who held it at the end (0 = A, 1 = B).
    holder: Option<usize>,
}

/// A two-host LAN with B (BACKUP 90, ours) running.
struct Pair {
    lan: Lan,
    vip: IpAddr,
    vip_s: String,
    b: Daemon,
}

impl Pair {
    fn new(net: &str) -> Pair {
        let lan = Lan::new(2, net);
        lan.wait_carrier();
        let vip_s = format!("{net}.100");
        let vip: IpAddr = vip_s.parse().expect("vip");
        let b = Daemon::start(&lan.hosts[1], Impl::Ours, &conf("BACKUP", 90, &vip_s, ""));
        assert!(
            wait_for(UP, || lan.hosts[1].has_addr(vip)),
            "B never became MASTER alone\n{}",
            b.log()
        );
        Pair { lan, vip, vip_s, b }
    }

    /// Start A (MASTER 100) and wait until it holds the VIP and B does not.
    fn start_a(&self, imp: Impl, extra: &str, daemonised: bool) -> Node {
        self.start_a_with(imp, "", extra, daemonised, &[])
    }

    /// As [`Pair::start_a`], with `inst` inside the instance.
    fn start_a_with(
        &self,
        imp: Impl,
        inst: &str,
        extra: &str,
        daemonised: bool,
        args: &[&str],
    ) -> Node {
        let a = Node::start(
            &self.lan.hosts[0],
            imp,
            &conf_with("MASTER", 100, &self.vip_s, inst, extra),
            daemonised,
            args,
        );
        assert!(
            wait_for(UP, || self.lan.hosts[0].has_addr(self.vip)
                && !self.lan.hosts[1].has_addr(self.vip)
                && a.vrrp().is_some()),
            "A never took the VIP from B\n{}",
            a.log()
        );
        // A few adverts, so that B is settled in BACKUP.
        std::thread::sleep(Duration::from_millis(1200));
        a
    }

    /// Probe both hosts while `act` runs and until the VIP is on B alone (or `UP`).
    fn probe(&self, act: impl FnOnce()) -> Round {
        let probe = Prober::start(
            &[&self.lan.hosts[0], &self.lan.hosts[1]],
            self.vip,
            Duration::from_millis(1),
        );
        std::thread::sleep(Duration::from_millis(50));
        act();
        let _ = wait_for(UP, || {
            self.lan.hosts[1].has_addr(self.vip) && !self.lan.hosts[0].has_addr(self.vip)
        });
        // Long enough for a late duplicate to show: B took over a skew time (0.65 s)
        // after the signal at the earliest, master-down (3.65 s) is the latest.
        std::thread::sleep(Duration::from_millis(3300));
        let t = probe.finish();
        let max = |v: Vec<(Duration, Duration)>| v.iter().map(|x| x.1).max().unwrap_or_default();
        Round {
            dual: max(settled(&t, t.duplicated())),
            absent: max(settled(&t, t.absent())),
            holder: t.final_holder(),
        }
    }
}

/// A full stop of A's VRRP side: never on both beyond jitter, on B at the end.
impl Pair {
    /// Run `act` under the probe with B's interface captured; returns the round and how
    /// long after A's priority-0 advert B sent its first one.
    fn probe_handover(&self, act: impl FnOnce()) -> (Round, Result<Duration, String>) {
        let cap = Capture::start(&self.lan.hosts[1], "eth0", ETH_P_ALL);
        let r = self.probe(act);
        let frames = cap.finish();
        let took = prio0_takeover(&frames, &self.lan.addr(0), &self.lan.addr(1));
        (r, took)
    }
}

fn assert_clean(what: &str, r: &Round, a: &Node) {
    assert!(
        r.dual <= JITTER,
        "{what}: VIP on both hosts for {:?}\n{}",
        r.dual,
        a.log()
    );
    assert_eq!(
        r.holder,
        Some(1),
        "{what}: VIP not on B alone at the end: {r:?}"
    );
}

/// Wait until every process of A is gone; panics with the log otherwise.
fn assert_gone(what: &str, a: &mut Node, pids: &[i32]) {
    assert!(
        wait_for(Duration::from_secs(10), || a.gone(pids)),
        "{what}: A's processes are still running ({pids:?})\n{}",
        a.log()
    );
}

/// Parent SIGKILL, `rounds` times: returns the rounds' figures.
fn parent_sigkill(imp: Impl, net: &str, daemonised: bool, rounds: usize) -> Vec<Round> {
    let p = Pair::new(net);
    let mut out = Vec::new();
    for round in 0..rounds {
        let mut a = p.start_a(imp, "", daemonised);
        let pids = a.note_pids();
        if imp == Impl::Ours {
            assert_stop_signals_blocked("VRRP child", a.vrrp().expect("VRRP child"));
        }
        let parent = a.parent().expect("parent pid");
        let r = p.probe(|| signal(parent, libc::SIGKILL));
        let what = format!(
            "{} parent SIGKILL ({}), round {round}",
            imp.name(),
            if daemonised {
                "daemonised"
            } else {
                "foreground"
            }
        );
        eprintln!("{what}: {r:?}");
        if imp == Impl::Ours {
            assert_clean(&what, &r, &a);
            assert_gone(&what, &mut a, &pids);
            assert!(!p.lan.hosts[0].has_addr(p.vip), "{what}: VIP left on A");
        }
        out.push(r);
    }
    drop(p.b);
    out
}

#[test]
fn parent_sigkill_daemonised_leaves_cleanly() {
    if !require_root("parent_sigkill_daemonised_leaves_cleanly") {
        return;
    }
    // A race before the fix (3 of 3, 2 of 5 in the series): several rounds.
    parent_sigkill(Impl::Ours, "10.95.1", true, 5);
}

#[test]
fn parent_sigkill_foreground_leaves_cleanly() {
    if !require_root("parent_sigkill_foreground_leaves_cleanly") {
        return;
    }
    parent_sigkill(Impl::Ours, "10.95.2", false, 2);
}

#[test]
fn keepalived_parent_sigkill_daemonised_reference() {
    if !require_root("keepalived_parent_sigkill_daemonised_reference")
        || !require_keepalived("keepalived_parent_sigkill_daemonised_reference")
    {
        return;
    }
    let r = parent_sigkill(Impl::Keepalived, "10.95.3", true, 1);
    eprintln!(
        "REFERENCE keepalived 2.2.7, parent SIGKILL daemonised: dual {:?}, absent {:?}",
        r[0].dual, r[0].absent
    );
    assert!(
        r[0].dual <= JITTER && r[0].holder == Some(1),
        "keepalived did not leave cleanly: the reference changed ({:?})",
        r[0]
    );
}

/// A signal to A's parent (or group) that must stop the daemon: a full stop.
fn stop_by(imp: Impl, net: &str, what: &str, extra: &str, act: impl FnOnce(&Node)) -> Round {
    let p = Pair::new(net);
    let mut a = p.start_a(imp, extra, false);
    let pids = a.note_pids();
    let r = p.probe(|| act(&a));
    eprintln!("{} {what}: {r:?}", imp.name());
    if imp == Impl::Keepalived {
        return r;
    }
    assert_clean(what, &r, &a);
    assert_gone(what, &mut a, &pids);
    assert!(!p.lan.hosts[0].has_addr(p.vip), "{what}: VIP left on A");
    assert!(
        !a.log().contains("due to signal"),
        "{what}: a child died from a signal\n{}",
        a.log()
    );
    r
}

fn sigint_group(a: &Node) {
    signal(-a.parent().expect("parent"), libc::SIGINT);
}

fn sigquit_parent(a: &Node) {
    signal(a.parent().expect("parent"), libc::SIGQUIT);
}

#[test]
fn keepalived_group_sigint_and_sigquit_reference() {
    if !require_root("keepalived_group_sigint_and_sigquit_reference")
        || !require_keepalived("keepalived_group_sigint_and_sigquit_reference")
    {
        return;
    }
    // The two scenarios are independent: run them side by side.
    let int = std::thread::spawn(|| {
        stop_by(
            Impl::Keepalived,
            "10.95.10",
            "SIGINT to the group",
            // No virtual server: without IPVS in the kernel keepalived's VRRP child never
            // starts.
            "",
            sigint_group,
        )
    });
    let quit = stop_by(
        Impl::Keepalived,
        "10.95.11",
        "SIGQUIT to the parent",
        "",
        sigquit_parent,
    );
    let int = int.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
    eprintln!(
        "REFERENCE keepalived 2.2.7: SIGINT to the group: dual {:?} absent {:?} holder {:?}; \
         SIGQUIT to the parent: dual {:?} absent {:?} holder {:?}",
        int.dual, int.absent, int.holder, quit.dual, quit.absent, quit.holder
    );
    assert!(int.dual <= JITTER, "the reference changed: {int:?}");
    // keepalived ignores SIGQUIT (it keeps running as MASTER); we stop cleanly on it, as
    // issue 11 asks. Recorded, not asserted.
}

#[test]
fn sigint_to_the_process_group_leaves_cleanly() {
    if !require_root("sigint_to_the_process_group_leaves_cleanly") {
        return;
    }
    stop_by(
        Impl::Ours,
        "10.95.4",
        "SIGINT to the group",
        // No virtual server: without IPVS in the kernel keepalived's VRRP child never starts.
        "",
        sigint_group,
    );
}

#[test]
fn sigterm_to_the_process_group_leaves_cleanly() {
    if !require_root("sigterm_to_the_process_group_leaves_cleanly") {
        return;
    }
    stop_by(Impl::Ours, "10.95.5", "SIGTERM to the group", VS, |a| {
        let pg = a.parent().expect("parent");
        signal(-pg, libc::SIGTERM);
    });
}

#[test]
fn sigquit_to_the_parent_leaves_cleanly() {
    if !require_root("sigquit_to_the_parent_leaves_cleanly") {
        return;
    }
    stop_by(
        Impl::Ours,
        "10.95.6",
        "SIGQUIT to the parent",
        "",
        sigquit_parent,
    );
}

#[test]
fn sigterm_right_after_sighup_leaves_cleanly() {
    if !require_root("sigterm_right_after_sighup_leaves_cleanly") {
        return;
    }
    stop_by(Impl::Ours, "10.95.7", "SIGTERM during a reload", VS, |a| {
        let pid = a.parent().expect("parent");
        signal(pid, libc::SIGHUP);
        signal(pid, libc::SIGTERM);
    });
}

#[test]
fn child_sigterm_leaves_cleanly() {
    if !require_root("child_sigterm_leaves_cleanly") {
        return;
    }
    let p = Pair::new("10.95.8");
    // A notify script records its signal mask: scripts must start with none blocked.
    let out = std::env::temp_dir().join(ka_tests::unique("mask"));
    let script = out.with_extension("sh");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ngrep Sig /proc/self/status > {}\n",
            out.display()
        ),
    )
    .expect("write script");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    let inst = format!("  notify_master {}\n", script.display());
    let extra = format!("{VS}global_defs {{\n  script_user root\n}}\n");
    let mut a = p.start_a_with(Impl::Ours, &inst, &extra, false, &[]);
    let _ = wait_for(Duration::from_secs(5), || {
        fs::read_to_string(&out).is_ok_and(|m| m.contains("SigBlk"))
    });
    let mask = fs::read_to_string(&out).unwrap_or_default();
    let _ = fs::remove_file(&out);
    let _ = fs::remove_file(&script);
    assert!(
        mask.contains("SigBlk"),
        "the notify script did not run\n{}",
        a.log()
    );
    assert_eq!(
        sig_mask(&mask, "SigBlk"),
        0,
        "a script started with signals blocked: {mask}"
    );
    assert_stop_signals_blocked("VRRP child", a.vrrp().expect("VRRP child"));
    // The checker child: a full stop (IPVS released), exit 0, not death by the signal.
    let checker = a.checker().expect("checker child");
    assert_stop_signals_blocked("checker child", checker);
    signal(checker, libc::SIGTERM);
    assert!(
        wait_for(Duration::from_secs(5), || a
            .log()
            .contains(&format!("pid {checker} exited with status 0"))),
        "checker child SIGTERM: no clean exit\n{}",
        a.log()
    );
    // The VRRP child: priority 0, VIP removed, exit 0. The parent respawns it (the
    // daemon was not stopped), and A takes the VIP back later (preemption).
    let vrrp = a.vrrp().expect("VRRP child");
    let r = p.probe(|| signal(vrrp, libc::SIGTERM));
    eprintln!("VRRP child SIGTERM: {r:?}");
    assert!(
        r.dual <= JITTER,
        "VIP on both hosts for {:?}\n{}",
        r.dual,
        a.log()
    );
    assert!(
        a.log()
            .contains(&format!("pid {vrrp} exited with status 0")),
        "VRRP child SIGTERM: no clean exit\n{}",
        a.log()
    );
    assert!(!a.log().contains("due to signal"), "{}", a.log());
    assert!(r.holder.is_some(), "VIP not on exactly one host: {r:?}");
    // The daemon still stops cleanly afterwards.
    let pids = a.note_pids();
    let r = p.probe(|| signal(a.parent().expect("parent"), libc::SIGTERM));
    assert_clean("SIGTERM after the child SIGTERMs", &r, &a);
    assert_gone("SIGTERM after the child SIGTERMs", &mut a, &pids);
}

#[test]
fn sigterm_during_respawn_backoff_leaves_cleanly() {
    if !require_root("sigterm_during_respawn_backoff_leaves_cleanly") {
        return;
    }
    let p = Pair::new("10.95.9");
    let mut a = p.start_a(Impl::Ours, "", false);
    let cap = Capture::start(&p.lan.hosts[1], "eth0", ETH_P_ALL);
    let probe = Prober::start(
        &[&p.lan.hosts[0], &p.lan.hosts[1]],
        p.vip,
        Duration::from_millis(1),
    );
    // Crash the VRRP child until the watchdog delays its restart (a crash loop: while it
    // holds MASTER, quick deaths are first restarted at once, up to a budget).
    let t0 = Instant::now();
    let mut kills = 0;
    while !backing_off(&a.log()) {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no back-off after {kills} kills\n{}",
            a.log()
        );
        if let Some(pid) = a.vrrp() {
            signal(pid, libc::SIGKILL);
            kills += 1;
            let _ = wait_for(Duration::from_secs(2), || {
                a.vrrp().is_some_and(|p| p != pid) || backing_off(&a.log())
            });
        } else {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    // In the back-off: no VRRP child, and A must leave VRRP meanwhile as a stop does
    // (priority 0, VIP removed: B takes over a skew time later, not a master-down
    // interval). Before, the parent only removed the VIP: on no host for 3.4 s.
    assert!(a.vrrp().is_none(), "a VRRP child runs during the back-off");
    assert!(
        wait_for(Duration::from_millis(500), || !p.lan.hosts[0]
            .has_addr(p.vip)),
        "VIP left on A with no VRRP child running\n{}",
        a.log()
    );
    assert!(
        wait_for(UP, || p.lan.hosts[1].has_addr(p.vip)),
        "B did not take over\n{}",
        a.log()
    );
    let pids = a.note_pids();
    signal(a.parent().expect("parent"), libc::SIGTERM);
    assert_gone("SIGTERM during the back-off", &mut a, &pids);
    let _ = wait_for(UP, || {
        p.lan.hosts[1].has_addr(p.vip) && !p.lan.hosts[0].has_addr(p.vip)
    });
    std::thread::sleep(Duration::from_millis(4000));
    let t = probe.finish();
    let frames = cap.finish();
    let dual = settled(&t, t.duplicated());
    let absent = settled(&t, t.absent());
    let takeover = prio0_takeover(&frames, &p.lan.addr(0), &p.lan.addr(1));
    eprintln!(
        "respawn back-off after {kills} kills: dual {dual:?}, absent {absent:?}, \
         B's first advert after A's priority 0: {takeover:?}"
    );
    assert!(
        dual.iter().all(|d| d.1 <= JITTER),
        "VIP on both hosts: {dual:?}\n{}",
        a.log()
    );
    let took = takeover.unwrap_or_else(|e| panic!("back-off: {e}\n{}", a.log()));
    assert!(took < SKEW_MARGIN, "B took over {took:?} after priority 0");
    assert!(
        absent.iter().all(|d| d.1 < SKEW_MARGIN),
        "VIP on no host for too long: {absent:?}\n{}",
        a.log()
    );
    assert_eq!(t.final_holder(), Some(1), "VIP not on B alone at the end");
    assert!(!p.lan.hosts[0].has_addr(p.vip), "VIP left on A");
}

#[test]
fn sigterm_right_after_a_child_crash_leaves_cleanly() {
    if !require_root("sigterm_right_after_a_child_crash_leaves_cleanly") {
        return;
    }
    // The VRRP child crashes (its VIPs stay, for the no-outage respawn) and the parent is
    // told to stop before it has respawned it: nothing runs to leave VRRP, so the parent
    // starts a VRRP child that resumes MASTER and stops at once: priority 0, VIP removed,
    // B takes over a skew time later. (Before, the parent removed the VIP itself with no
    // advert: on no host for a master-down interval, 3.4 s.)
    let p = Pair::new("10.95.12");
    let mut a = p.start_a(Impl::Ours, "", false);
    let pids = a.note_pids();
    let (parent, vrrp) = (a.parent().expect("parent"), a.vrrp().expect("VRRP child"));
    let (r, takeover) = p.probe_handover(|| {
        signal(vrrp, libc::SIGKILL);
        signal(parent, libc::SIGTERM);
    });
    eprintln!(
        "keepalived-rs SIGTERM right after a VRRP child SIGKILL: {r:?}, \
         B's first advert after A's priority 0: {takeover:?}"
    );
    assert_clean("SIGTERM right after a child crash", &r, &a);
    let took = takeover.unwrap_or_else(|e| panic!("{e}\n{}", a.log()));
    assert!(took < SKEW_MARGIN, "B took over {took:?} after priority 0");
    assert!(
        r.absent < SKEW_MARGIN,
        "VIP on no host for {:?}\n{}",
        r.absent,
        a.log()
    );
    assert_gone("SIGTERM right after a child crash", &mut a, &pids);
    assert!(!p.lan.hosts[0].has_addr(p.vip), "VIP left on A");
}

#[test]
fn sigterm_with_a_hung_vrrp_child_leaves_cleanly() {
    if !require_root("sigterm_with_a_hung_vrrp_child_leaves_cleanly") {
        return;
    }
    // The VRRP child hangs (SIGSTOP here) and the parent is told to stop: at the end of
    // child_wait_time (1 s) the parent kills it, and with it gone nothing would send the
    // priority-0 advert. The parent starts a VRRP child that resumes MASTER and stops at
    // once: B takes over a skew time after that. (Before, the parent removed the VIP
    // itself with no advert: on no host until B's master-down interval, ~2.6 s here.)
    let p = Pair::new("10.95.14");
    let mut a = p.start_a(Impl::Ours, "child_wait_time 1\n", false);
    let pids = a.note_pids();
    let (parent, vrrp) = (a.parent().expect("parent"), a.vrrp().expect("VRRP child"));
    let (r, takeover) = p.probe_handover(|| {
        signal(vrrp, libc::SIGSTOP);
        signal(parent, libc::SIGTERM);
    });
    eprintln!(
        "keepalived-rs SIGTERM with the VRRP child stopped: {r:?}, \
         B's first advert after A's priority 0: {takeover:?}"
    );
    assert!(
        a.log().contains("did not stop in time"),
        "the hung child was not killed\n{}",
        a.log()
    );
    assert_clean("SIGTERM with a hung VRRP child", &r, &a);
    assert_gone("SIGTERM with a hung VRRP child", &mut a, &pids);
    assert!(!p.lan.hosts[0].has_addr(p.vip), "VIP left on A");
    let took = takeover.unwrap_or_else(|e| panic!("{e}\n{}", a.log()));
    assert!(took < SKEW_MARGIN, "B took over {took:?} after priority 0");
    assert!(
        r.absent < SKEW_MARGIN,
        "VIP on no host for {:?}\n{}",
        r.absent,
        a.log()
    );
}

#[test]
fn sigint_to_the_group_with_ignore_sigint_changes_nothing() {
    if !require_root("sigint_to_the_group_with_ignore_sigint_changes_nothing") {
        return;
    }
    // `--ignore-sigint`: neither the parent nor its children act on SIGINT.
    let p = Pair::new("10.95.13");
    let mut a = p.start_a_with(Impl::Ours, "", VS, false, &["--ignore-sigint"]);
    let pids = a.note_pids();
    let probe = Prober::start(
        &[&p.lan.hosts[0], &p.lan.hosts[1]],
        p.vip,
        Duration::from_millis(1),
    );
    std::thread::sleep(Duration::from_millis(50));
    sigint_group(&a);
    std::thread::sleep(Duration::from_millis(1500));
    let t = probe.finish();
    assert!(
        pids.iter().all(|p| alive(*p)),
        "a process stopped on SIGINT\n{}",
        a.log()
    );
    assert!(settled(&t, t.duplicated()).is_empty(), "VIP on both hosts");
    assert!(
        settled(&t, t.absent()).is_empty(),
        "VIP absent\n{}",
        a.log()
    );
    assert_eq!(t.final_holder(), Some(0));
    assert!(!a.log().contains("Stopping"), "{}", a.log());
    // And it still stops cleanly.
    let r = p.probe(|| signal(a.parent().expect("parent"), libc::SIGTERM));
    assert_clean("SIGTERM after an ignored SIGINT", &r, &a);
    assert_gone("SIGTERM after an ignored SIGINT", &mut a, &pids);
}
