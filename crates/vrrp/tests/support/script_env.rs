//! What a script sees when the daemon starts it, checked against keepalived 2.2.7.
//!
//! Shared by the three users of the one launcher (`vrrp::linux::script::launch`): the VRRP
//! child's scripts (`crates/vrrp/tests/linux_script_env.rs`), the checker's MISC_CHECK and
//! notify scripts (`crates/check/tests/script_env.rs`) and the parent's
//! `startup_script` (`crates/core/tests/script_env.rs`), each including this file with
//! `#[path]`.
//!
//! keepalived 2.2.7 (Debian's /usr/sbin/keepalived), observed 2026-12-06 with a script that
//! records its own /proc entries, run as `notify_master`, `notify_backup ... nobody`,
//! `vrrp_script` (as root and with `user postgres`, a user with a supplementary group),
//! `vrrp_notify_fifo_script`, `startup_script`, `shutdown_script` (netns, keepalived -P) and
//! MISC_CHECK (as root and `user postgres`), `quorum_up` (under qemu, for IPVS), keepalived
//! started with IFS=: LD_BIND_NOW=1 LD_LIBRARY_PATH=/nonexistent LD_FOO=x FOO=bar in its
//! environment, SIGUSR2 ignored, SIGWINCH blocked and fd 7 open without close-on-exec. Every
//! script, of every process, alike:
//!
//! ```text
//! fd          0, 1, 2 -> /dev/null; 7 -> /dev/null (inherited fds are not closed)
//! environ     keepalived's own, unchanged: IFS=: and every LD_* variable kept, HOME as is
//! Uid/Gid     the script's user (postgres 101/104), root otherwise (script_user root)
//! Groups      only the group (104 — postgres's ssl-cert dropped; 0 for root)
//! SigBlk      0 (keepalived's own mask and the blocked SIGWINCH gone)
//! SigIgn      0x80 only: SIGFPE, which the recording perl script ignores itself; SIGUSR2,
//!             which keepalived handles, back at its default
//! pgrp        its own (pgid = pid); session: keepalived's (no setsid)
//! pdeathsig   15 (SIGTERM), for the root and the postgres scripts alike
//! nice/policy keepalived's nice (0) / SCHED_OTHER; cwd: keepalived's own
//! umask       keepalived's own: 0177 unless -u (the shell that started it had 0022)
//! ```
//!
//! keepalived-rs before the one launcher differed: the VRRP child's scripts ran in a new
//! session, with IFS and all LD_* removed, SIGINT/SIGQUIT/SIGTERM blocked and SIGHUP, SIGUSR1
//! and SIGUSR2 ignored, and no parent-death signal for another user (it was set before the
//! user change, which clears it); the checker's without LD_PRELOAD/LD_LIBRARY_PATH, no
//! parent-death signal and the daemon's supplementary groups; the parent's with stdout and
//! stderr on the daemon's log, without IFS, LD_PRELOAD and LD_LIBRARY_PATH, no parent-death
//! signal, the signal mask of whoever started the daemon.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Variables set in the test's environment that the script must see unchanged (keepalived
/// removes none of them).
pub const KEPT_VARS: [(&str, &str); 3] = [
    ("IFS", ":"),
    ("LD_KA_SCRIPT_ENV_TEST", "1"),
    ("KA_SCRIPT_ENV_TEST", "kept"),
];

/// Put [`KEPT_VARS`] in this process's environment and block SIGWINCH on the calling
/// thread (a script must start with an empty mask). Call at the start of the test, which is
/// the only one of its file (no other thread reads the environment meanwhile).
pub fn prepare() {
    for (k, v) in KEPT_VARS {
        std::env::set_var(k, v);
    }
    let mut set = nix::sys::signal::SigSet::empty();
    set.add(nix::sys::signal::Signal::SIGWINCH);
    let _ = nix::sys::signal::pthread_sigmask(
        nix::sys::signal::SigmaskHow::SIG_BLOCK,
        Some(&set),
        None,
    );
}

/// A private directory with the recording script (`record.pl TAG` writes `out/TAG`),
/// removed on drop. The script and its directory are root's and not writable by others;
/// `out` is open to all (the script may run as nobody).
pub struct Recorder {
    pub dir: PathBuf,
}

const RECORD: &str = r#"#!/usr/bin/perl
use strict;
my $tag = shift @ARGV;
my $out = $0; $out =~ s{/[^/]*$}{/out/$tag};
my $o = "";
opendir(my $d, "/proc/self/fd") or die;
my @fds = sort { $a <=> $b } grep { /^\d+$/ } readdir($d);
for my $n (@fds) { my $t = readlink("/proc/self/fd/$n") // "?"; next if $t eq "/proc/$$/fd"; $o .= "fd $n $t\n"; }
closedir($d);
open(my $e, "<", "/proc/self/environ"); { local $/; $o .= "env $_\n" for split(/\0/, <$e>); } close $e;
open(my $s, "<", "/proc/self/status"); while (<$s>) { $o .= "status $1 $2\n" if /^(Uid|Gid|Groups|SigBlk|SigIgn):\s*(.*?)\s*$/; } close $s;
open(my $p, "<", "/proc/self/stat"); my $stat = <$p>; close $p;
$stat =~ s/^.*\) //; my @x = split(/ /, $stat);
$o .= "own_pgrp " . ($x[2] == $$ ? 1 : 0) . "\nown_session " . ($x[3] == $$ ? 1 : 0) . "\n";
$o .= "sid $x[3]\nnice $x[16]\npolicy $x[38]\n";
my $buf = pack("i", -1); syscall(157, 2, $buf); $o .= "pdeathsig " . unpack("i", $buf) . "\n";
open(my $f, ">", "$out.tmp") or die; print $f $o; close $f; rename("$out.tmp", $out);
exit 0;
"#;

impl Recorder {
    pub fn new(name: &str) -> Recorder {
        let dir = std::env::temp_dir().join(format!("ka-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("out")).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        std::fs::set_permissions(dir.join("out"), std::fs::Permissions::from_mode(0o1777))
            .expect("chmod");
        let script = dir.join("record.pl");
        std::fs::write(&script, RECORD).expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Recorder { dir }
    }

    /// The command line that records into `tag`.
    pub fn argv(&self, tag: &str) -> Vec<String> {
        vec![self.script().display().to_string(), tag.to_string()]
    }

    pub fn script(&self) -> PathBuf {
        self.dir.join("record.pl")
    }

    /// Wait (at most 10 s) for the record `tag` and parse it.
    pub fn seen(&self, tag: &str) -> Seen {
        let path = self.dir.join("out").join(tag);
        let t = Instant::now();
        while !path.exists() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "no record {}",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Seen::parse(&std::fs::read_to_string(&path).expect("read"))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One script's record.
#[derive(Debug, Default)]
pub struct Seen {
    pub fds: BTreeMap<i32, String>,
    pub env: BTreeMap<String, String>,
    pub status: BTreeMap<String, String>,
    pub own_pgrp: bool,
    pub own_session: bool,
    pub sid: i32,
    pub nice: i32,
    pub policy: i32,
    pub pdeathsig: i32,
}

impl Seen {
    fn parse(text: &str) -> Seen {
        let mut s = Seen::default();
        for line in text.lines() {
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            let num = || rest.trim().parse::<i32>().unwrap_or(-1);
            match key {
                "fd" => {
                    let (n, target) = rest.split_once(' ').unwrap_or((rest, ""));
                    s.fds.insert(n.parse().unwrap_or(-1), target.to_string());
                }
                "env" => {
                    let (k, v) = rest.split_once('=').unwrap_or((rest, ""));
                    s.env.insert(k.to_string(), v.to_string());
                }
                "status" => {
                    let (k, v) = rest.split_once(' ').unwrap_or((rest, ""));
                    s.status.insert(k.to_string(), v.to_string());
                }
                "own_pgrp" => s.own_pgrp = num() == 1,
                "own_session" => s.own_session = num() == 1,
                "sid" => s.sid = num(),
                "nice" => s.nice = num(),
                "policy" => s.policy = num(),
                "pdeathsig" => s.pdeathsig = num(),
                _ => {}
            }
        }
        s
    }

    fn mask(&self, key: &str) -> u64 {
        self.status
            .get(key)
            .and_then(|v| u64::from_str_radix(v, 16).ok())
            .unwrap_or(u64::MAX)
    }
}

/// Signals the recording script finds ignored whatever started it: perl ignores SIGFPE
/// itself, and glibc's internal signals 32 and 33 (which no program can set) may show.
const RECORDER_IGNORES: u64 = (1 << (libc::SIGFPE - 1)) | (1 << 31) | (1 << 32);

/// Ignore `sig` in this process, as whoever starts the daemon may have done.
pub fn ignore(sig: nix::sys::signal::Signal) {
    // SAFETY: setting a disposition to SIG_IGN installs no handler.
    unsafe {
        let _ = nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigIgn);
    }
}

/// The part of [`assert_like_keepalived`] that holds without root too: IFS kept, a process
/// group of its own, no session of its own.
pub fn assert_like_keepalived_unprivileged(seen: &Seen) {
    assert_eq!(seen.env.get("IFS").map(String::as_str), Some(":"));
    assert!(seen.own_pgrp && !seen.own_session);
}

/// Is this process root (the user part of the checks needs it)?
pub fn root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The signals ignored by this process (bit n-1 for signal n), from /proc.
pub fn ignored_here() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0)
}

/// Assert that `seen` is what keepalived 2.2.7 gives a script (the record at the top of this
/// file), for a script run as `uid`:`gid` by a daemon that is this test process.
/// `ignored_signals`: the signals the script may find ignored (bit n-1 for signal n; those
/// the daemon was started with ignored).
pub fn assert_like_keepalived(seen: &Seen, uid: u32, gid: u32, ignored_signals: u64) {
    // stdio on /dev/null; nothing else but what this process has open without
    // close-on-exec (inherited, as keepalived leaves them).
    for fd in 0..3 {
        assert_eq!(
            seen.fds.get(&fd).map(String::as_str),
            Some("/dev/null"),
            "fd {fd}: {seen:?}"
        );
    }
    for fd in seen.fds.keys().filter(|&&fd| fd > 2) {
        assert!(inherited(*fd), "fd {fd} leaked to the script: {seen:?}");
    }
    // The environment: this process's, unchanged.
    let here: BTreeMap<String, String> = std::env::vars().collect();
    for (k, v) in KEPT_VARS {
        assert_eq!(seen.env.get(k).map(String::as_str), Some(v), "{k} removed");
    }
    assert_eq!(seen.env, here, "the environment differs from the daemon's");
    // User, group, and only that group.
    assert_eq!(
        seen.status.get("Uid").map(String::as_str),
        Some(format!("{uid}\t{uid}\t{uid}\t{uid}").as_str())
    );
    assert_eq!(
        seen.status.get("Gid").map(String::as_str),
        Some(format!("{gid}\t{gid}\t{gid}\t{gid}").as_str())
    );
    assert_eq!(
        seen.status.get("Groups").map(|g| g.trim()),
        Some(gid.to_string().as_str())
    );
    // Signals: empty mask; only the inherited ignored ones ignored (and those the
    // recorder ignores itself).
    assert_eq!(seen.mask("SigBlk"), 0, "blocked signals: {seen:?}");
    assert_eq!(
        seen.mask("SigIgn") & !ignored_signals & !RECORDER_IGNORES,
        0,
        "ignored signals: {:x} (allowed {ignored_signals:x})",
        seen.mask("SigIgn")
    );
    // Own process group, the daemon's session.
    assert!(seen.own_pgrp, "not its own process group");
    assert!(!seen.own_session, "a session of its own");
    assert_eq!(
        seen.sid,
        nix::unistd::getsid(None).map_or(-2, |p| p.as_raw())
    );
    assert_eq!(seen.pdeathsig, libc::SIGTERM, "parent-death signal");
    // The daemon's nice value (keepalived's scripts inherit its own), never real-time.
    assert_eq!((seen.nice, seen.policy), (nice_here(), 0), "nice / policy");
}

/// This process's nice value, from /proc.
fn nice_here() -> i32 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.split(' ').nth(16))
        .and_then(|n| n.parse().ok())
        .unwrap_or(-100)
}

/// Is `fd` open in this process without close-on-exec (from /proc/self/fdinfo)?
fn inherited(fd: i32) -> bool {
    std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"))
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        })
        .is_some_and(|flags| flags & 0o2_000_000 == 0)
}
