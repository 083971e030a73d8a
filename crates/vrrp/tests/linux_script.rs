//! Scripts, notifications and tracked files with real processes and files: exit statuses,
//! a hung script killed (with its whole process group) at its timeout while the loop keeps
//! serving other events, user switching, `enable_script_security`, notify arguments,
//! `notify_fifo` lines and `track_file` through inotify.
#![cfg(feature = "linux")]

use std::fs;
use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ka_tests::require_root;
use vrrp::linux::notify::{fifo_line, notify_spec, NotifyFifo, NotifyKind};
use vrrp::linux::script::{
    check_security, Finished, Outcome, Runner, ScriptError, ScriptSpec, ScriptUser,
};
use vrrp::linux::track_file::{init_file, TrackFiles};

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("ka-netio-{}-{tag}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir(&p).expect("mkdir");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        TempDir(p)
    }
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let p = self.0.join(name);
        fs::write(&p, format!("#!/bin/sh\n{body}\n")).expect("write script");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn spec(path: &Path, timeout: Option<Duration>) -> ScriptSpec {
    ScriptSpec {
        argv: vec![path.display().to_string()],
        user: None,
        timeout,
    }
}

/// Run the loop until `n` scripts finished (or 10 s pass).
fn wait_finished(poll: &mut mio::Poll, runner: &mut Runner, n: usize) -> Vec<Finished> {
    let mut events = mio::Events::with_capacity(16);
    let mut done = Vec::new();
    let end = Instant::now() + Duration::from_secs(10);
    while done.len() < n {
        let now = Instant::now();
        assert!(now < end, "scripts did not finish: {done:?}");
        runner.expire(now);
        let wait = runner
            .next_deadline()
            .map_or(end - now, |d| d.saturating_duration_since(now))
            .min(end - now);
        poll.poll(&mut events, Some(wait)).expect("poll");
        for ev in events.iter() {
            if let Some(f) = runner.handle(poll.registry(), ev.token(), Instant::now()) {
                done.push(f);
            }
        }
    }
    done
}

#[test]
fn exit_statuses_are_reported() {
    let dir = TempDir::new("exit");
    let ok = dir.script("ok.sh", "exit 0");
    let three = dir.script("three.sh", "exit 3");
    let killed = dir.script("killed.sh", "kill -9 $$");
    let mut poll = mio::Poll::new().expect("poll");
    let mut runner = Runner::new(100, 8);
    let now = Instant::now();
    for (tag, p) in [(1, &ok), (2, &three), (3, &killed)] {
        runner
            .spawn(poll.registry(), &spec(p, None), tag, now)
            .expect("spawn");
    }
    // Quoted arguments from a keepalived command string reach the program.
    let args = ScriptSpec::parse("/bin/sh -c 'exit 7'").expect("parse");
    runner.spawn(poll.registry(), &args, 4, now).expect("spawn");
    // The file-check form runs through the shell.
    let present = ScriptSpec::parse(&format!("<{}", ok.display())).expect("parse");
    runner
        .spawn(poll.registry(), &present, 5, now)
        .expect("spawn");
    let absent = ScriptSpec::parse("</nonexistent/file").expect("parse");
    runner
        .spawn(poll.registry(), &absent, 6, now)
        .expect("spawn");
    let mut done = wait_finished(&mut poll, &mut runner, 6);
    done.sort_by_key(|f| f.tag);
    let outcomes: Vec<Outcome> = done.iter().take(5).map(|f| f.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Exited(0),
            Outcome::Exited(3),
            Outcome::Signaled(9),
            Outcome::Exited(7),
            Outcome::Exited(0),
        ]
    );
    assert!(
        !done[5].outcome.success(),
        "missing file: {:?}",
        done[5].outcome
    );
    assert_eq!(runner.running(), 0);
    let missing = ScriptSpec::parse("/nonexistent/script.sh").expect("parse");
    assert!(matches!(
        runner.spawn(poll.registry(), &missing, 5, now),
        Err(ScriptError::Spawn { .. })
    ));
}

fn process_gone(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // state is the field after the parenthesised command name
        Ok(s) => s
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|st| st == "Z" || st == "X"),
    }
}

#[test]
fn hung_script_is_killed_at_timeout_while_the_loop_stays_responsive() {
    let dir = TempDir::new("hung");
    let pidfile = dir.0.join("grandchild.pid");
    let hung = dir.script(
        "hung.sh",
        &format!("sleep 30 &\necho $! > {}\nwait", pidfile.display()),
    );
    let quick = dir.script("quick.sh", "sleep 0.1; exit 0");
    let mut poll = mio::Poll::new().expect("poll");
    let mut runner = Runner::new(10, 4);

    // A source of events the loop must keep serving: a datagram every 5 ms.
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    rx.set_nonblocking(true).expect("nonblocking");
    let addr = rx.local_addr().expect("addr");
    let mut rx = mio::net::UdpSocket::from_std(rx);
    poll.registry()
        .register(&mut rx, mio::Token(1), mio::Interest::READABLE)
        .expect("register");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let ticker = std::thread::spawn(move || {
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = tx.send_to(b"t", addr);
            std::thread::sleep(Duration::from_millis(5));
        }
    });

    let start = Instant::now();
    let timeout = Duration::from_millis(300);
    runner
        .spawn(poll.registry(), &spec(&hung, Some(timeout)), 1, start)
        .expect("spawn hung");
    runner
        .spawn(
            poll.registry(),
            &spec(&quick, Some(Duration::from_secs(5))),
            2,
            start,
        )
        .expect("spawn quick");

    let mut events = mio::Events::with_capacity(16);
    let mut done: Vec<Finished> = Vec::new();
    let mut last_tick = Instant::now();
    let mut max_gap = Duration::ZERO;
    let mut ticks = 0u32;
    let mut buf = [0u8; 16];
    let end = start + Duration::from_secs(10);
    while done.len() < 2 {
        let now = Instant::now();
        assert!(now < end, "did not finish: {done:?}");
        runner.expire(now);
        let wait = runner
            .next_deadline()
            .map_or(Duration::from_millis(100), |d| {
                d.saturating_duration_since(now)
            })
            .min(Duration::from_millis(100));
        poll.poll(&mut events, Some(wait)).expect("poll");
        for ev in events.iter() {
            if ev.token() == mio::Token(1) {
                while rx.recv_from(&mut buf).is_ok() {
                    let t = Instant::now();
                    max_gap = max_gap.max(t - last_tick);
                    last_tick = t;
                    ticks += 1;
                }
            } else if let Some(f) = runner.handle(poll.registry(), ev.token(), Instant::now()) {
                done.push(f);
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.join().expect("ticker");
    done.sort_by_key(|f| f.tag);
    assert_eq!(done[0].outcome, Outcome::TimedOut);
    assert!(
        done[0].elapsed >= timeout && done[0].elapsed < timeout + Duration::from_millis(200),
        "killed after {:?}",
        done[0].elapsed
    );
    assert_eq!(
        done[1].outcome,
        Outcome::Exited(0),
        "the other script is unaffected"
    );
    assert!(ticks > 30, "the loop served only {ticks} events");
    assert!(
        max_gap < Duration::from_millis(100),
        "loop stalled {max_gap:?}"
    );
    // The whole process group died: the script's own child too.
    let gc: i32 = fs::read_to_string(&pidfile)
        .expect("pidfile")
        .trim()
        .parse()
        .expect("pid");
    let deadline = Instant::now() + Duration::from_secs(2);
    while !process_gone(gc) {
        assert!(
            Instant::now() < deadline,
            "grandchild {gc} survived the timeout"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "hung script killed after {:?} (timeout {timeout:?}); loop max gap {max_gap:?} over {ticks} events",
        done[0].elapsed
    );
}

#[test]
fn scripts_run_as_the_configured_user() {
    if !require_root("scripts_run_as_the_configured_user") {
        return;
    }
    let dir = TempDir::new("user");
    let out_dir = dir.0.join("out");
    fs::create_dir(&out_dir).expect("mkdir");
    fs::set_permissions(&out_dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = out_dir.join("ids");
    let s = dir.script(
        "ids.sh",
        &format!("id -u > {0}; id -g >> {0}", out.display()),
    );
    let mut poll = mio::Poll::new().expect("poll");
    let mut runner = Runner::new(0, 2);
    let mut sp = spec(&s, Some(Duration::from_secs(5)));
    sp.user = Some(ScriptUser {
        uid: 65534,
        gid: 65533,
    });
    runner
        .spawn(poll.registry(), &sp, 1, Instant::now())
        .expect("spawn");
    let done = wait_finished(&mut poll, &mut runner, 1);
    assert_eq!(done[0].outcome, Outcome::Exited(0));
    assert_eq!(fs::read_to_string(&out).expect("ids"), "65534\n65533\n");
}

#[test]
fn script_security_refuses_scripts_others_can_change() {
    if !require_root("script_security_refuses_scripts_others_can_change") {
        return;
    }
    let dir = TempDir::new("sec");
    let good = dir.script("good.sh", "exit 0");
    check_security(&good).expect("root-owned 0755 script in a root 0755 dir is fine");

    let loose = dir.script("loose.sh", "exit 0");
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o777)).expect("chmod");
    let e = check_security(&loose).expect_err("world-writable script");
    assert!(matches!(e, ScriptError::Insecure { .. }), "{e}");

    let owned = dir.script("owned.sh", "exit 0");
    std::os::unix::fs::chown(&owned, Some(65534), None).expect("chown");
    assert!(matches!(
        check_security(&owned),
        Err(ScriptError::Insecure { .. })
    ));

    let open_dir = dir.0.join("open");
    fs::create_dir(&open_dir).expect("mkdir");
    let inside = open_dir.join("s.sh");
    fs::write(&inside, "#!/bin/sh\n").expect("write");
    fs::set_permissions(&inside, fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::set_permissions(&open_dir, fs::Permissions::from_mode(0o777)).expect("chmod");
    let e = check_security(&inside).expect_err("world-writable directory");
    assert!(e.to_string().contains("open"), "{e}");

    // A symlink to an insecure script is insecure; a group-writable dir of group root is not.
    let link = dir.0.join("link.sh");
    std::os::unix::fs::symlink(&loose, &link).expect("symlink");
    assert!(check_security(&link).is_err());
    let grp = dir.0.join("grp");
    fs::create_dir(&grp).expect("mkdir");
    fs::set_permissions(&grp, fs::Permissions::from_mode(0o775)).expect("chmod");
    let g = grp.join("g.sh");
    fs::write(&g, "#!/bin/sh\n").expect("write");
    fs::set_permissions(&g, fs::Permissions::from_mode(0o755)).expect("chmod");
    check_security(&g).expect("group root may write");
    std::os::unix::fs::chown(&grp, None, Some(65534)).expect("chgrp");
    assert!(check_security(&g).is_err(), "group nogroup may write");
    assert!(matches!(
        check_security(Path::new("/nonexistent/x.sh")),
        Err(ScriptError::Inspect { .. })
    ));
    // A bare name is found through PATH (system binaries are root's).
    check_security(Path::new("sh")).expect("sh from PATH");
    assert!(check_security(Path::new("no-such-program-anywhere")).is_err());
}

#[test]
fn notify_script_gets_keepalived_arguments() {
    let dir = TempDir::new("notify");
    let out = dir.0.join("args");
    let s = dir.script("n.sh", &format!("echo \"$@\" >> {}", out.display()));
    let base = ScriptSpec::parse(&format!("{} extra", s.display())).expect("parse");
    let mut poll = mio::Poll::new().expect("poll");
    let mut runner = Runner::new(0, 2);
    let n = notify_spec(&base, NotifyKind::Instance, "VI_1", "MASTER", 100);
    runner
        .spawn(poll.registry(), &n, 1, Instant::now())
        .expect("spawn");
    wait_finished(&mut poll, &mut runner, 1);
    let g = notify_spec(&base, NotifyKind::Group, "G1", "BACKUP", 0);
    runner
        .spawn(poll.registry(), &g, 2, Instant::now())
        .expect("spawn");
    wait_finished(&mut poll, &mut runner, 1);
    assert_eq!(
        fs::read_to_string(&out).expect("out"),
        "extra INSTANCE VI_1 MASTER 100\nextra GROUP G1 BACKUP 0\n"
    );
}

#[test]
fn notify_fifo_lines_and_no_blocking() {
    let dir = TempDir::new("fifo");
    let path = dir.0.join("fifo");
    let mut fifo = NotifyFifo::open(&path).expect("create fifo");
    let mut reader = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .expect("reader");
    fifo.notify(NotifyKind::Instance, "VI_1", "MASTER", 100)
        .expect("write");
    fifo.write_line(&fifo_line(NotifyKind::Group, "G1", "MASTER", 0))
        .expect("write");
    let mut got = String::new();
    let mut buf = [0u8; 256];
    let n = reader.read(&mut buf).expect("read");
    got.push_str(std::str::from_utf8(&buf[..n]).expect("utf8"));
    assert_eq!(got, "INSTANCE \"VI_1\" MASTER 100\nGROUP \"G1\" MASTER 0\n");
    drop(reader);
    // Nobody reading: writes fill the pipe and then fail at once instead of blocking.
    let t = Instant::now();
    let mut failed = false;
    for _ in 0..100_000 {
        if fifo
            .notify(NotifyKind::Instance, "VI_1", "BACKUP", 90)
            .is_err()
        {
            failed = true;
            break;
        }
    }
    assert!(failed, "a full FIFO must report an error");
    assert!(t.elapsed() < Duration::from_secs(2));
    // A regular file is refused.
    let file = dir.0.join("plain");
    fs::write(&file, "").expect("write");
    assert!(NotifyFifo::open(&file).is_err());
    // Opening an existing FIFO works too.
    NotifyFifo::open(&path).expect("reopen");
}

#[test]
fn track_file_follows_writes_renames_and_deletes() {
    let dir = TempDir::new("track");
    let path = dir.0.join("weight");
    init_file(&path, 10, false).expect("init");
    init_file(&path, 20, false).expect("no overwrite");
    assert_eq!(fs::read_to_string(&path).expect("read"), "10\n");
    let mut tf = TrackFiles::new().expect("inotify");
    assert_eq!(tf.add("chk", &path).expect("add"), 10);
    let other = dir.0.join("other");
    assert_eq!(tf.add("other", &other).expect("add missing"), 0);
    let mut poll = mio::Poll::new().expect("poll");
    poll.registry()
        .register(&mut tf, mio::Token(7), mio::Interest::READABLE)
        .expect("register");
    let mut events = mio::Events::with_capacity(8);
    let mut expect = |tf: &mut TrackFiles, want: (&str, i64)| {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            let changed = tf.read_events().expect("events");
            if changed.iter().any(|(n, v)| n == want.0 && *v == want.1) {
                return;
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no change to {want:?}");
            poll.poll(&mut events, Some(left)).expect("poll");
        }
    };
    fs::write(&path, "5\n").expect("write");
    expect(&mut tf, ("chk", 5));
    let tmp = dir.0.join("weight.new");
    fs::write(&tmp, "-3\n").expect("write");
    fs::rename(&tmp, &path).expect("rename");
    expect(&mut tf, ("chk", -3));
    fs::remove_file(&path).expect("rm");
    expect(&mut tf, ("chk", 0));
    fs::write(&other, "42").expect("write other");
    expect(&mut tf, ("other", 42));
    assert_eq!(tf.value("chk"), Some(0));
    assert_eq!(tf.value("other"), Some(42));
}

#[test]
fn runner_capacity_and_kill_all() {
    let dir = TempDir::new("cap");
    let slow = dir.script("slow.sh", "sleep 30");
    let poll = mio::Poll::new().expect("poll");
    let mut runner = Runner::new(0, 2);
    let now = Instant::now();
    let a = runner
        .spawn(poll.registry(), &spec(&slow, None), 1, now)
        .expect("first");
    let b = runner
        .spawn(poll.registry(), &spec(&slow, None), 2, now)
        .expect("second");
    assert!(matches!(
        runner.spawn(poll.registry(), &spec(&slow, None), 3, now),
        Err(ScriptError::Full { capacity: 2 })
    ));
    assert_eq!(runner.running(), 2);
    assert!(runner.owns(mio::Token(1)) && !runner.owns(mio::Token(2)));
    runner.kill_all(poll.registry());
    assert_eq!(runner.running(), 0);
    // A timeout too large to represent means no timeout, not a panic.
    let mut forever = spec(&slow, Some(Duration::MAX));
    forever.argv = vec!["/bin/true".into()];
    runner
        .spawn(poll.registry(), &forever, 4, now)
        .expect("spawn");
    assert_eq!(runner.next_deadline(), None);
    runner.kill_all(poll.registry());
    for pid in [a, b] {
        assert!(process_gone(pid as i32), "{pid} still running");
    }
}

#[test]
fn spawn_to_reap_cost() {
    let mut poll = mio::Poll::new().expect("poll");
    let mut runner = Runner::new(0, 1);
    let t = ScriptSpec::parse("/bin/true").expect("parse");
    let mut spawn = Vec::new();
    let mut total = Vec::new();
    for i in 0..20 {
        let t0 = Instant::now();
        runner.spawn(poll.registry(), &t, i, t0).expect("spawn");
        spawn.push(t0.elapsed());
        let done = wait_finished(&mut poll, &mut runner, 1);
        assert_eq!(done[0].outcome, Outcome::Exited(0));
        total.push(t0.elapsed());
    }
    spawn.sort();
    total.sort();
    eprintln!(
        "/bin/true, 20 runs: spawn() median {:?} (max {:?}), spawn to reaped median {:?}",
        spawn[10], spawn[19], total[10]
    );
}
