//! The checker child (`keepalived_rs::check_child::main`, driven over a real socketpair as the parent
//! drives it, real servers in network namespaces) on what keepalived 2.2.7 does beyond
//! the basic checks:
//!
//! * both notify FIFOs (`notify_fifo` and `lvs_notify_fifo`) get every checker line,
//!   each with its `*_script` reader started with the FIFO's path as last argument; a
//!   reload that moves a FIFO stops its reader and removes the FIFO the child made;
//! * no child process is left a zombie across reloads (a slow notify script, a running
//!   MISC_CHECK script) or at stop;
//! * `ha_suspend` on a `virtual_server group` follows the group's addresses; on a fwmark
//!   service it is cleared (checks always run), as keepalived;
//! * a real server's initial state is notified as keepalived does (`rs_init_notifies`).
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use common::check_parent::FakeParent;
use common::*;
use ka_proto::config::global::NotifyFifo;
use ka_proto::config::{
    self as conf, Checker, CheckerCommon, Config, GroupEntry, MiscCheck, VirtualServerGroup,
};
use ka_proto::ipc::checker::ToChecker;
use ka_proto::ipc::{DumpKind, RunFlags};
use ka_tests::{wait_for, TempDir};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The state letter of process `pid` (`Z` for a zombie), None once it is gone (reaped).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')'.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Gone, not a zombie: reaped.
fn reaped(pid: u32, limit: Duration) -> bool {
    wait_for(limit, || proc_state(pid).is_none())
}

fn timing() -> CheckerCommon {
    CheckerCommon {
        connect_timeout: Some(Duration::from_millis(500)),
        retry: Some(0),
        delay_before_retry: Some(Duration::from_millis(200)),
        warmup: Some(Duration::ZERO),
        ..CheckerCommon::default()
    }
}

fn tcp_rs(port: u16) -> conf::RealServer {
    conf::RealServer {
        addr: server_addr(port),
        weight: 1,
        checkers: vec![Checker::Tcp(timing())],
        ..conf::RealServer::default()
    }
}

fn vs(addr: conf::VirtualServerAddr, rss: Vec<conf::RealServer>) -> conf::VirtualServer {
    conf::VirtualServer {
        addr,
        delay_loop: Duration::from_secs(1),
        lvs_sched: "rr".into(),
        real_servers: rss,
        ..conf::VirtualServer::default()
    }
}

/// "start <pid> <args>" lines of the reader script.
fn reader_starts(log: &Path) -> Vec<(u32, String)> {
    read(log)
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("start ")?;
            let (pid, args) = rest.split_once(' ')?;
            Some((pid.parse().ok()?, args.to_string()))
        })
        .collect()
}

/// Both FIFOs with their readers; a reload that moves `lvs_notify_fifo`; stop.
#[test]
fn child_writes_both_notify_fifos_and_runs_their_readers() {
    let Some(lan) = root_lan("child_writes_both_notify_fifos_and_runs_their_readers") else {
        return;
    };
    let dir = TempDir::new("fifos");
    let log = dir.0.join("log");
    let reader = dir.0.join("reader.sh");
    // The FIFO path comes last: $1 is the tag, $2 the FIFO.
    write_script(
        &reader,
        &format!(
            "echo \"start $$ $*\" >> {log}\nwhile read line; do echo \"$1 $line\" >> {log}; done < \"$2\"",
            log = log.display()
        ),
    );
    let g_fifo = dir.0.join("global.fifo");
    let l_fifo = dir.0.join("lvs.fifo");
    let l2_fifo = dir.0.join("lvs2.fifo");
    let config = |lvs: &Path| {
        let mut c = Config::default();
        c.global.notify_fifo = Some(NotifyFifo {
            path: g_fifo.display().to_string(),
            script: Some(script(&reader, &["G"])),
        });
        c.global.lvs_notify_fifo = Some(NotifyFifo {
            path: lvs.display().to_string(),
            script: Some(script(&reader, &["L"])),
        });
        c.virtual_servers.push(vs(
            conf::VirtualServerAddr::Ip("10.61.0.100:80".parse().unwrap()),
            vec![tcp_rs(8090)],
        ));
        c
    };
    let mut rs = tcp_server(&lan.hosts[1], server_addr(8090), |_s| {});

    let (mut p, th) = FakeParent::start(&lan.hosts[0]);
    p.send(ToChecker::Start {
        config: Box::new(config(&l_fifo)),
        flags: RunFlags::default(),
    });
    p.ready();
    assert!(
        wait_for(Duration::from_secs(3), || reader_starts(&log).len() == 2),
        "{}",
        read(&log)
    );
    let starts = reader_starts(&log);
    let g_reader = starts
        .iter()
        .find(|(_, a)| *a == format!("G {}", g_fifo.display()))
        .unwrap_or_else(|| panic!("no global reader: {starts:?}"))
        .0;
    let l_reader = starts
        .iter()
        .find(|(_, a)| *a == format!("L {}", l_fifo.display()))
        .unwrap_or_else(|| panic!("no lvs reader: {starts:?}"))
        .0;
    for f in [&g_fifo, &l_fifo] {
        let m = std::fs::metadata(f).unwrap();
        assert!(m.file_type().is_fifo(), "{} is not a FIFO", f.display());
        assert_eq!(m.permissions().mode() & 0o777, 0o644, "{}", f.display());
    }

    // The real server dies: both FIFOs get the RS line and the VS (quorum) line.
    rs.stop();
    let rs_down = "RS [10.61.0.2]:tcp:8090 [10.61.0.100]:tcp:80 DOWN";
    let vs_down = "VS [10.61.0.100]:tcp:80 DOWN";
    assert!(
        wait_for(Duration::from_secs(4), || {
            let l = read(&log);
            ["G", "L"].iter().all(|t| {
                l.contains(&format!("{t} {rs_down}")) && l.contains(&format!("{t} {vs_down}"))
            })
        }),
        "{}",
        read(&log)
    );

    // Reload moving the LVS FIFO: its reader is stopped and reaped, the FIFO it made is
    // removed, a new one is made with a new reader; the global one is untouched.
    p.send(ToChecker::Reload {
        config: Box::new(config(&l2_fifo)),
    });
    p.ready();
    assert!(
        reaped(l_reader, Duration::from_secs(3)),
        "old LVS reader {l_reader}: {:?}",
        proc_state(l_reader)
    );
    assert!(!l_fifo.exists(), "the old LVS FIFO is removed");
    assert!(
        wait_for(Duration::from_secs(3), || reader_starts(&log).len() == 3),
        "{}",
        read(&log)
    );
    let starts = reader_starts(&log);
    assert_eq!(starts[2].1, format!("L {}", l2_fifo.display()));
    let l2_reader = starts[2].0;
    assert_eq!(
        proc_state(g_reader).map(|s| s != 'Z'),
        Some(true),
        "global reader kept"
    );

    // Back up: the lines reach the global FIFO and the new LVS FIFO.
    let _rs = tcp_server(&lan.hosts[1], server_addr(8090), |_s| {});
    let rs_up = "RS [10.61.0.2]:tcp:8090 [10.61.0.100]:tcp:80 UP";
    assert!(
        wait_for(Duration::from_secs(4), || {
            let l = read(&log);
            l.contains(&format!("G {rs_up}")) && l.contains(&format!("L {rs_up}"))
        }),
        "{}",
        read(&log)
    );

    // Stop: readers stopped and reaped, the FIFOs the child made removed.
    p.send(ToChecker::Stop);
    assert_eq!(th.join().unwrap(), 0);
    for pid in [g_reader, l2_reader] {
        assert!(
            reaped(pid, Duration::from_secs(2)),
            "reader {pid}: {:?}",
            proc_state(pid)
        );
    }
    assert!(!g_fifo.exists() && !l2_fifo.exists());
}

/// A notify script still running at a reload, and a MISC_CHECK script running when its
/// engine is replaced, are reaped (no zombie); so is everything at stop.
#[test]
fn child_leaves_no_zombie_across_reloads() {
    let Some(lan) = root_lan("child_leaves_no_zombie_across_reloads") else {
        return;
    };
    let dir = TempDir::new("zombie");
    let notify_pid = dir.0.join("notify.pid");
    let misc_pids = dir.0.join("misc.pids");
    let slow = dir.0.join("slow.sh");
    write_script(
        &slow,
        &format!("echo $$ > {}\nsleep 1.5", notify_pid.display()),
    );
    let misc = dir.0.join("misc.sh");
    write_script(
        &misc,
        &format!("echo $$ >> {}\nexec sleep 30", misc_pids.display()),
    );
    let config = || {
        let mut c = Config::default();
        let mut rs1 = tcp_rs(8091);
        rs1.notify_down = Some(script(&slow, &[]));
        let mut rs2 = tcp_rs(8092);
        rs2.checkers = vec![Checker::Misc(MiscCheck {
            common: timing(),
            misc_path: script(&misc, &[]),
            misc_timeout: Some(Duration::from_secs(60)),
            misc_dynamic: false,
        })];
        c.virtual_servers.push(vs(
            conf::VirtualServerAddr::Ip("10.61.0.100:80".parse().unwrap()),
            vec![rs1, rs2],
        ));
        c
    };
    let mut rs = tcp_server(&lan.hosts[1], server_addr(8091), |_s| {});
    let (mut p, th) = FakeParent::start(&lan.hosts[0]);
    p.send(ToChecker::Start {
        config: Box::new(config()),
        flags: RunFlags::default(),
    });
    p.ready();
    let pids = |f: &Path| -> Vec<u32> {
        read(f)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    };
    assert!(
        wait_for(Duration::from_secs(3), || !pids(&misc_pids).is_empty()),
        "MISC_CHECK script never started"
    );
    let first_misc = pids(&misc_pids)[0];

    // rs1 dies: its notify_down runs for 1.5 s; reload while it runs.
    rs.stop();
    assert!(
        wait_for(Duration::from_secs(4), || !pids(&notify_pid).is_empty()),
        "notify_down never ran"
    );
    let notify = pids(&notify_pid)[0];
    assert_eq!(
        proc_state(notify).map(|s| s != 'Z'),
        Some(true),
        "notify script running"
    );
    p.send(ToChecker::Reload {
        config: Box::new(config()),
    });
    p.ready();
    // The old engine's MISC_CHECK script is killed and reaped at once.
    assert!(
        reaped(first_misc, Duration::from_secs(2)),
        "MISC_CHECK script {first_misc} across the reload: {:?}",
        proc_state(first_misc)
    );
    // The notify script ends on its own after the reload and is reaped by the new runtime.
    assert!(
        reaped(notify, Duration::from_secs(3)),
        "notify script {notify} across the reload: {:?}",
        proc_state(notify)
    );
    // The new engine runs its own MISC_CHECK script.
    assert!(wait_for(Duration::from_secs(3), || pids(&misc_pids).len() >= 2));
    let second_misc = *pids(&misc_pids).last().unwrap();

    p.send(ToChecker::Stop);
    assert_eq!(th.join().unwrap(), 0);
    assert!(
        reaped(second_misc, Duration::from_secs(2)),
        "MISC_CHECK script {second_misc} at stop: {:?}",
        proc_state(second_misc)
    );
}

fn check_line<'a>(dump: &'a str, target: &str) -> &'a str {
    dump.lines()
        .find(|l| l.contains(" Checker ") && l.contains(target))
        .unwrap_or_else(|| panic!("no checker for {target}: {dump}"))
}

/// `ha_suspend` on a group follows the group's addresses; on a fwmark service it is
/// cleared (checks run) as keepalived clears it.
#[test]
fn child_ha_suspend_on_groups_and_fwmarks() {
    let Some(lan) = root_lan("child_ha_suspend_on_groups_and_fwmarks") else {
        return;
    };
    let _a = tcp_server(&lan.hosts[1], server_addr(8093), |_s| {});
    let _b = tcp_server(&lan.hosts[1], server_addr(8094), |_s| {});
    let mut c = Config::default();
    c.virtual_server_groups.push(VirtualServerGroup {
        name: "web".into(),
        entries: vec![GroupEntry::Range {
            first: "10.61.0.10".parse().unwrap(),
            last: "10.61.0.20".parse().unwrap(),
            port: 80,
        }],
    });
    let mut g = vs(
        conf::VirtualServerAddr::Group("web".into()),
        vec![tcp_rs(8093)],
    );
    g.ha_suspend = true;
    let mut f = vs(conf::VirtualServerAddr::Fwmark(5), vec![tcp_rs(8094)]);
    f.ha_suspend = true;
    c.virtual_servers = vec![g, f];

    let (mut p, th) = FakeParent::start(&lan.hosts[0]);
    p.send(ToChecker::Start {
        config: Box::new(c),
        flags: RunFlags::default(),
    });
    p.ready();
    std::thread::sleep(Duration::from_millis(1300));
    let dump = p.dump(DumpKind::Stats);
    let group = check_line(&dump, "10.61.0.2]:8093");
    assert!(
        group.contains("(suspended)"),
        "no group address here: {dump}"
    );
    assert!(group.contains("passed 0"), "{dump}");
    let fwm = check_line(&dump, "10.61.0.2]:8094");
    assert!(
        !fwm.contains("(suspended)"),
        "fwmark: ha_suspend cleared: {dump}"
    );
    assert!(!fwm.contains("passed 0"), "fwmark checks run: {dump}");

    // One address of the group's range arrives (no VRRP event: the child polls).
    lan.hosts[0].ip(["addr", "add", "10.61.0.15/32", "dev", "eth0"]);
    assert!(
        wait_for(Duration::from_secs(4), || {
            let d = p.dump(DumpKind::Stats);
            let l = check_line(&d, "10.61.0.2]:8093");
            !l.contains("(suspended)") && !l.contains("passed 0")
        }),
        "group checks must run: {}",
        p.dump(DumpKind::Stats)
    );
    // It goes: suspended again.
    lan.hosts[0].ip(["addr", "del", "10.61.0.15/32", "dev", "eth0"]);
    assert!(
        wait_for(Duration::from_secs(3), || {
            check_line(&p.dump(DumpKind::Stats), "10.61.0.2]:8093").contains("(suspended)")
        }),
        "group checks must pause: {}",
        p.dump(DumpKind::Stats)
    );
    p.send(ToChecker::Stop);
    assert_eq!(th.join().unwrap(), 0);
}

/// `rs_init_notifies`: real servers that start alive are notified (FIFO line and
/// notify_up) at start, and at a reload only those the reload added.
#[test]
fn child_rs_init_notifies() {
    let Some(lan) = root_lan("child_rs_init_notifies") else {
        return;
    };
    let dir = TempDir::new("init");
    let log = dir.0.join("log");
    let reader = dir.0.join("reader.sh");
    write_script(
        &reader,
        &format!(
            "while read line; do echo \"fifo $line\" >> {log}; done < \"$1\"",
            log = log.display()
        ),
    );
    let note = dir.0.join("note.sh");
    write_script(&note, &format!("echo \"script $*\" >> {}", log.display()));
    let _a = tcp_server(&lan.hosts[1], server_addr(8095), |_s| {});
    let _b = tcp_server(&lan.hosts[1], server_addr(8096), |_s| {});
    let config = |both: bool| {
        let mut c = Config::default();
        c.global.rs_init_notifies = true;
        c.global.lvs_notify_fifo = Some(NotifyFifo {
            path: dir.0.join("lvs.fifo").display().to_string(),
            script: Some(script(&reader, &[])),
        });
        let mut rss = Vec::new();
        for (port, name) in [(8095, "a"), (8096, "b")]
            .into_iter()
            .take(if both { 2 } else { 1 })
        {
            let mut r = tcp_rs(port);
            r.notify_up = Some(script(&note, &["UP", name]));
            rss.push(r);
        }
        c.virtual_servers.push(vs(
            conf::VirtualServerAddr::Ip("10.61.0.100:80".parse().unwrap()),
            rss,
        ));
        c
    };
    let (mut p, th) = FakeParent::start(&lan.hosts[0]);
    p.send(ToChecker::Start {
        config: Box::new(config(false)),
        flags: RunFlags::default(),
    });
    p.ready();
    let a_up = "fifo RS [10.61.0.2]:tcp:8095 [10.61.0.100]:tcp:80 UP";
    let b_up = "fifo RS [10.61.0.2]:tcp:8096 [10.61.0.100]:tcp:80 UP";
    assert!(
        wait_for(Duration::from_secs(3), || {
            let l = read(&log);
            l.contains(a_up) && l.contains("script UP a")
        }),
        "{}",
        read(&log)
    );
    p.send(ToChecker::Reload {
        config: Box::new(config(true)),
    });
    p.ready();
    assert!(
        wait_for(Duration::from_secs(3), || {
            let l = read(&log);
            l.contains(b_up) && l.contains("script UP b")
        }),
        "{}",
        read(&log)
    );
    std::thread::sleep(Duration::from_millis(300));
    let l = read(&log);
    assert_eq!(
        l.matches(a_up).count(),
        1,
        "a was not added by the reload: {l}"
    );
    assert_eq!(l.matches("script UP a").count(), 1, "{l}");
    p.send(ToChecker::Stop);
    assert_eq!(th.join().unwrap(), 0);
}
