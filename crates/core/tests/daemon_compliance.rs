//! The parent's visible behaviour side by side with keepalived 2.2.7 (Debian's package):
//! the same scenario is run against both binaries and what a user sees is compared —
//! exit codes, pid files, and the log lines keepalived users grep for.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use ka_tests::wait_for;
use ka_tests::{require_root, Guard, Lan};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived-rs");
const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// keepalived must be there in CI (`cargo xtask setup` installs it); elsewhere skip.
fn have_keepalived(test: &str) -> bool {
    if Path::new(KEEPALIVED).exists() {
        return true;
    }
    if std::env::var_os("KA_REQUIRE_ROOT_TESTS").is_some_and(|v| v == "1") {
        panic!("{test}: {KEEPALIVED} missing (cargo xtask setup installs it)");
    }
    eprintln!("SKIPPED {test}: {KEEPALIVED} missing");
    false
}

fn pid_of(p: &Path) -> Option<i32> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// What a user sees of one run of the scenario.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    missing_config_exit: Option<i32>,
    missing_config_says_missing: bool,
    second_start_exit: Option<i32>,
    second_start_says_running: bool,
    respawned_after_kill: bool,
    logs_died_respawning: bool,
    logs_delay_0: bool,
    sigterm_exit: Option<i32>,
    pid_files_removed: bool,
}

fn scenario(bin: &str, lan: &Lan, host: usize, prefix: &str) -> Seen {
    let dir = std::env::temp_dir().join(ka_tests::unique("cmp"));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n);
    let args = |conf: &PathBuf| -> Vec<String> {
        let mut a: Vec<String> = ["-n", "-l", "-G", "-P", "-f"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.push(conf.display().to_string());
        for (f, n) in [("-p", "p.pid"), ("-r", "r.pid"), ("-c", "c.pid")] {
            a.push(f.into());
            a.push(p(n).display().to_string());
        }
        a
    };
    let ns = &lan.hosts[host];

    // 1. No config file.
    let out = ns
        .command(bin)
        .args(args(&p("missing.conf")))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let missing_config_exit = out.status.code();
    let missing_config_says_missing = text.contains("Config files missing");

    // 2. Running, then a second start with the same pid files.
    let conf = p("keepalived.conf");
    std::fs::write(
        &conf,
        format!(
            "vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 71\n  \
             priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    {prefix}.100/24\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(p("log")).unwrap();
    let mut first = Guard(
        ns.command(bin)
            .args(args(&conf))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_for(Duration::from_secs(5), || pid_of(&p("p.pid")).is_some()
            && pid_of(&p("r.pid")).is_some()),
        "{bin} did not start"
    );
    std::thread::sleep(Duration::from_millis(500));
    let out = ns.command(bin).args(args(&conf)).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    let second_start_exit = out.status.code();
    let second_start_says_running = text.contains("daemon is already running");

    // 3. SIGKILL the VRRP child.
    let vrrp = pid_of(&p("r.pid")).unwrap();
    // SAFETY: kill(2) on the VRRP child of the daemon we started.
    unsafe { libc::kill(vrrp, libc::SIGKILL) };
    let respawned_after_kill = wait_for(Duration::from_secs(5), || {
        pid_of(&p("r.pid")).is_some_and(|n| n != vrrp)
    });
    std::thread::sleep(Duration::from_millis(300));
    let log_text = std::fs::read_to_string(p("log")).unwrap_or_default();
    let logs_died_respawning =
        log_text.contains(&format!("VRRP child process({vrrp}) died: Respawning"));
    let logs_delay_0 =
        log_text.contains("Restart of VRRP process delayed 0 seconds to limit respawn rate");

    // 4. SIGTERM.
    let parent = pid_of(&p("p.pid")).unwrap();
    // SAFETY: kill(2) on the daemon we started.
    unsafe { libc::kill(parent, libc::SIGTERM) };
    let mut sigterm_exit = None;
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(8) {
        if let Some(st) = first.0.try_wait().unwrap() {
            sigterm_exit = st.code();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid_files_removed = !p("p.pid").exists() && !p("r.pid").exists();
    let _ = std::fs::remove_dir_all(&dir);
    Seen {
        missing_config_exit,
        missing_config_says_missing,
        second_start_exit,
        second_start_says_running,
        respawned_after_kill,
        logs_died_respawning,
        logs_delay_0,
        sigterm_exit,
        pid_files_removed,
    }
}

#[test]
fn parent_behaves_as_keepalived_2_2_7() {
    if !require_root("parent_behaves_as_keepalived_2_2_7")
        || !have_keepalived("parent_behaves_as_keepalived_2_2_7")
    {
        return;
    }
    let lan = Lan::new(2, "10.226.0");
    // Two hosts (one per implementation) so both can run at once.
    let (ours, theirs) = std::thread::scope(|s| {
        let a = s.spawn(|| scenario(OURS, &lan, 0, "10.226.0"));
        let b = s.spawn(|| scenario(KEEPALIVED, &lan, 1, "10.226.0"));
        (a.join().unwrap(), b.join().unwrap())
    });
    eprintln!("keepalived-rs:    {ours:?}\nkeepalived 2.2.7: {theirs:?}");
    assert_eq!(ours, theirs);
}
