//! The `pkg` suite: the Debian package, installed and run as a keepalived user would.
//!
//! 0. `cargo publish --dry-run` of the embeddable crates (`vrrp`, `ipvs-sys`) and their
//!    `cargo doc` without a warning.
//! 1. The man pages render without a warning (`groff -man -ww -z`) and `man -l` shows them.
//! 2. `cargo xtask deb` builds the package; the stripped daemon is at most 8 MB; no file
//!    of it is a file of Debian's `keepalived` package; `-v` names the git commit.
//! 3. A Debian bookworm root made with `debootstrap` (systemd, iproute2 and Debian's
//!    keepalived 2.2.7 in it; cached in `target/pkg/`) boots with **systemd as PID 1** in
//!    `systemd-nspawn`, inside a network namespace with a veth into a test bridge where a
//!    second namespace captures what it sends. Driven with `nsenter ... systemctl`:
//!    `dpkg -i` beside keepalived; `systemd-analyze verify`; keepalived running, then
//!    `systemctl start keepalived-rs` stops it (`Conflicts=`) and comes up active with the
//!    VIP and a `STATUS=` line; a valid reload applies, a broken one keeps the running
//!    configuration and the journal says why; a SIGSTOPped VRRP child makes the watchdog
//!    fire and systemd restart the service; `systemctl stop` sends priority 0 (seen on the
//!    bridge) and removes the VIP; `dpkg -r` leaves no process and no VIP.
//! 4. The SysV init script in the same root without systemd (nspawn's stub init): every
//!    action's LSB exit code, and the VIP up after `start` and gone after `stop`.

use crate::deb;
use ka_tests::capture::Capture;
use ka_tests::{Lan, Netns};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What the suite needs from Debian (probe path, package).
const PACKAGES: &[(&str, &str)] = &[
    ("/usr/sbin/debootstrap", "debootstrap"),
    ("/usr/bin/systemd-nspawn", "systemd-container"),
    ("/usr/bin/nsenter", "util-linux"),
    ("/usr/bin/groff", "groff"),
    ("/usr/bin/man", "man-db"),
];

/// The Debian release the root is made from, and what goes in beside the minimal base.
const SUITE: &str = "bookworm";
const INCLUDE: &str = "systemd,systemd-sysv,dbus,iproute2,procps,keepalived";

const PREFIX: &str = "10.231.7";
const VIP: &str = "10.231.7.100";
const VIP2: &str = "10.231.7.101";

fn fail(what: impl Into<String>) -> String {
    what.into()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn output(cmd: &mut Command) -> Result<Output, String> {
    cmd.output()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))
}

/// `ka_tests::wait_for` at a 100 ms pace: each poll here starts processes (`nsenter …
/// systemctl`, `ip`), which a 5 ms pace would multiply by twenty.
fn wait_for(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn run() -> Result<(), String> {
    crate::setup::ensure_packages(PACKAGES)?;
    crates_publishable()?;
    man_pages()?;
    let built = deb::build(true)?;
    package_contents(&built)?;
    let root = fresh_root()?;
    let result = systemd_boot(&root, &built).and_then(|()| init_script(&root, &built));
    let _ = std::fs::remove_dir_all(&root);
    result?;
    eprintln!("pkg: all checks passed");
    Ok(())
}

/// The crates embedders use (`vrrp`, `ipvs-sys`) package and build on their own as
/// crates.io would take them, and their documentation builds without a warning.
fn crates_publishable() -> Result<(), String> {
    // What is checked is the package, not whether the checkout has local edits.
    crate::run(crate::cargo().args([
        "publish",
        "--dry-run",
        "--allow-dirty",
        "-p",
        "vrrp",
        "-p",
        "ipvs-sys",
    ]))?;
    crate::run(
        crate::cargo()
            .args([
                "doc",
                "--no-deps",
                "-p",
                "vrrp",
                "-p",
                "ipvs-sys",
                "--features",
                "vrrp/linux",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    eprintln!("pkg: vrrp and ipvs-sys pass cargo publish --dry-run; their docs build cleanly");
    Ok(())
}

/// Each page renders without a warning and `man -l` shows it.
fn man_pages() -> Result<(), String> {
    for page in deb::man_pages()? {
        let o = output(Command::new("groff").args(["-man", "-ww", "-z"]).arg(&page))?;
        let t = text(&o);
        if !o.status.success() || !t.trim().is_empty() {
            return Err(fail(format!(
                "groff -man -ww -z {}: {}: {t}",
                page.display(),
                o.status
            )));
        }
        let o = output(
            Command::new("man")
                .arg("-l")
                .arg(&page)
                .env("MANPAGER", "cat")
                .env("MANWIDTH", "80")
                .env("MAN_KEEP_FORMATTING", "0"),
        )?;
        // Without a terminal, man marks bold and underline with backspaces: take them out.
        let shown = plain(&String::from_utf8_lossy(&o.stdout));
        if !o.status.success() || !shown.contains("NAME") || shown.lines().count() < 20 {
            return Err(fail(format!(
                "man -l {}: {}: {}",
                page.display(),
                o.status,
                text(&o)
            )));
        }
        eprintln!(
            "pkg: {} renders cleanly ({} lines)",
            page.display(),
            shown.lines().count()
        );
    }
    Ok(())
}

/// `text` without nroff's overstriking (`X\bX` bold, `_\bX` underline).
fn plain(text: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out.into_iter().collect()
}

/// The package's files: what the issue lists, none of keepalived's, a small binary that
/// names its commit.
fn package_contents(built: &deb::Built) -> Result<(), String> {
    let o = output(Command::new("dpkg-deb").arg("-c").arg(&built.deb))?;
    let listing = String::from_utf8_lossy(&o.stdout).to_string();
    let paths: Vec<String> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .map(|p| p.trim_start_matches('.').to_string())
        .filter(|p| !p.ends_with('/'))
        .collect();
    for want in [
        "/usr/sbin/keepalived-rs",
        "/usr/bin/keepalived-rs-genhash",
        "/lib/systemd/system/keepalived-rs.service",
        "/etc/init.d/keepalived-rs",
        "/etc/default/keepalived-rs",
        "/usr/share/man/man8/keepalived-rs.8.gz",
        "/usr/share/man/man5/keepalived-rs.conf.5.gz",
        "/usr/share/man/man1/keepalived-rs-genhash.1.gz",
        "/usr/share/doc/keepalived-rs/copyright",
        "/usr/share/doc/keepalived-rs/examples/keepalived.conf",
    ] {
        if !paths.iter().any(|p| p == want) {
            return Err(fail(format!("{want} is not in the package:\n{listing}")));
        }
    }
    // Installs beside Debian's keepalived: no path in common (keepalived is installed on
    // the CI machine for the interop tests).
    let theirs = output(Command::new("dpkg").args(["-L", "keepalived"]))?;
    if theirs.status.success() {
        let theirs = String::from_utf8_lossy(&theirs.stdout).to_string();
        for p in &paths {
            if theirs.lines().any(|t| t == p) {
                return Err(fail(format!("{p} is also a file of keepalived's package")));
            }
        }
    }
    if built.binary_size > deb::MAX_BINARY {
        return Err(fail(format!(
            "stripped binary {} bytes > {}",
            built.binary_size,
            deb::MAX_BINARY
        )));
    }
    let v = output(
        Command::new(
            crate::root().join("target/debian/stage/keepalived-rs/usr/sbin/keepalived-rs"),
        )
        .arg("-v"),
    )?;
    let v = text(&v);
    if !v.contains(&format!("v{}", built.version))
        || !v.contains("(git ")
        || v.contains("(git unknown)")
    {
        return Err(fail(format!(
            "-v does not name the version and commit: {v}"
        )));
    }
    let dbg = output(Command::new("dpkg-deb").arg("-c").arg(&built.dbgsym))?;
    if !String::from_utf8_lossy(&dbg.stdout).contains("/usr/lib/debug/") {
        return Err(fail("the dbgsym package holds no debug file"));
    }
    eprintln!(
        "pkg: {} ({} bytes), {} files, daemon {} bytes stripped",
        built.deb.display(),
        std::fs::metadata(&built.deb).map(|m| m.len()).unwrap_or(0),
        paths.len(),
        built.binary_size
    );
    Ok(())
}

/// A copy of the cached debootstrap root (made once, ~40 s, from the mirror apt uses).
fn fresh_root() -> Result<PathBuf, String> {
    let dir = crate::root().join("target/pkg");
    let base = dir.join(format!("{SUITE}-base"));
    let stamp = dir.join(format!("{SUITE}-base.done"));
    if !stamp.exists() {
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        crate::run(
            Command::new("debootstrap")
                .args(["--variant=minbase", &format!("--include={INCLUDE}"), SUITE])
                .arg(&base)
                .arg(mirror()),
        )?;
        std::fs::write(&stamp, b"").map_err(|e| format!("{}: {e}", stamp.display()))?;
    }
    let root = dir.join(format!("root-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    crate::run(Command::new("cp").arg("-a").arg(&base).arg(&root))?;
    Ok(root)
}

/// The Debian mirror apt is set up with (deb822 or one-line sources), else deb.debian.org.
fn mirror() -> String {
    let mut texts = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for e in rd.flatten() {
            if e.path()
                .extension()
                .is_some_and(|x| x == "sources" || x == "list")
            {
                texts.push(std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    texts.push(std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default());
    for t in &texts {
        for line in t.lines() {
            let l = line.trim();
            let url = if let Some(u) = l.strip_prefix("URIs:") {
                u.split_whitespace().next()
            } else if l.starts_with("deb ") {
                l.split_whitespace().find(|w| w.starts_with("http"))
            } else {
                None
            };
            if let Some(u) = url {
                if u.ends_with("/debian") || u.ends_with("/debian/") {
                    return u.to_string();
                }
            }
        }
    }
    "http://deb.debian.org/debian".to_string()
}

/// A booted container: systemd-nspawn and the container's PID 1.
struct Booted {
    nspawn: Child,
    leader: i32,
}

impl Booted {
    fn boot(root: &Path, ns: &Netns, log: &Path) -> Result<Booted, String> {
        let log = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new("systemd-nspawn");
        cmd.args([
            "--register=no",
            "--keep-unit",
            // The daemon manages addresses in the container's network namespace.
            "--capability=CAP_NET_ADMIN",
            "--boot",
            "--console=pipe",
            "-q",
        ])
        .arg(format!("--network-namespace-path=/run/netns/{}", ns.name()))
        .arg("-D")
        .arg(root)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err);
        eprintln!("+ {cmd:?}");
        let nspawn = cmd
            .spawn()
            .map_err(|e| format!("cannot start systemd-nspawn: {e}"))?;
        let mut b = Booted { nspawn, leader: 0 };
        let pid = b.nspawn.id();
        let found = wait_for(Duration::from_secs(20), || {
            b.leader = child_named(pid, "systemd").unwrap_or(0);
            b.leader != 0
        });
        if !found {
            return Err(fail("the container's systemd did not start"));
        }
        Ok(b)
    }

    /// `sh -c script` inside the container (all its namespaces).
    fn sh(&self, script: &str) -> Output {
        Command::new("nsenter")
            .args([
                "-t",
                &self.leader.to_string(),
                "-a",
                "/bin/sh",
                "-c",
                script,
            ])
            .output()
            .unwrap_or_else(|e| Output {
                status:
                    <std::process::ExitStatus as std::os::unix::process::ExitStatusExt>::from_raw(
                        127 << 8,
                    ),
                stdout: Vec::new(),
                stderr: e.to_string().into_bytes(),
            })
    }

    /// `sh -c script`, which must succeed; its stdout.
    fn ok(&self, script: &str) -> Result<String, String> {
        let o = self.sh(script);
        if o.status.success() {
            Ok(String::from_utf8_lossy(&o.stdout).to_string())
        } else {
            Err(fail(format!(
                "in the container, `{script}`: {}: {}",
                o.status,
                text(&o)
            )))
        }
    }

    fn prop(&self, unit: &str, name: &str) -> String {
        let o = self.sh(&format!("systemctl show -p {name} --value {unit}"));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    fn daemon_pids(&self) -> Vec<i32> {
        let o = self.sh("pgrep -x keepalived-rs || true");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    fn journal(&self) -> String {
        String::from_utf8_lossy(
            &self
                .sh("journalctl -u keepalived-rs --no-pager -o cat")
                .stdout,
        )
        .to_string()
    }
}

impl Drop for Booted {
    fn drop(&mut self) {
        // SIGTERM asks nspawn to shut the container down; SIGKILL after 10 s.
        let pid = nix::unistd::Pid::from_raw(self.nspawn.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.nspawn.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.nspawn.kill();
        let _ = self.nspawn.wait();
    }
}

/// The pid of a child of `parent` whose command is `comm`.
fn child_named(parent: u32, comm: &str) -> Option<i32> {
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if name == comm && ppid == Some(parent) {
            return Some(pid);
        }
    }
    None
}

fn config(vips: &[&str], router_id: &str) -> String {
    let addrs: String = vips.iter().map(|v| format!("        {v}/24\n")).collect();
    format!(
        "global_defs {{\n    router_id {router_id}\n}}\n\n\
         vrrp_instance VI_1 {{\n    state MASTER\n    interface eth0\n    \
         virtual_router_id 77\n    priority 150\n    advert_int 1\n    \
         virtual_ipaddress {{\n{addrs}    }}\n}}\n"
    )
}

fn write_config(root: &Path, text: &str) -> Result<(), String> {
    let p = root.join("etc/keepalived/keepalived.conf");
    std::fs::create_dir_all(root.join("etc/keepalived")).map_err(|e| e.to_string())?;
    std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
}

fn has_vip(ns: &Netns, vip: &str) -> bool {
    ns.has_addr(
        vip.parse()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
    )
}

/// The priority of each VRRP advert from `src` among `frames` (IPv4, protocol 112).
fn advert_priorities(frames: &[ka_tests::capture::Frame], src: &str) -> Vec<u8> {
    let Ok(src) = src.parse::<std::net::Ipv4Addr>() else {
        return Vec::new();
    };
    frames
        .iter()
        .filter_map(|f| {
            let b = &f.bytes;
            if b.len() < 34 || b[12..14] != [0x08, 0x00] || b[23] != 112 {
                return None;
            }
            if b[26..30] != src.octets() {
                return None;
            }
            let ihl = usize::from(b[14] & 0x0f) * 4;
            b.get(14 + ihl + 2).copied()
        })
        .collect()
}

fn systemd_boot(root: &Path, built: &deb::Built) -> Result<(), String> {
    let lan = Lan::new(2, PREFIX);
    lan.wait_carrier();
    let host = &lan.hosts[0];
    let peer = &lan.hosts[1];
    std::fs::copy(&built.deb, root.join("srv/keepalived-rs.deb"))
        .map_err(|e| format!("copy the package into the root: {e}"))?;
    let log = crate::root().join("target/pkg/nspawn-boot.log");
    let c = Booted::boot(root, host, &log)?;
    // systemctl cannot connect until the container's systemd has its socket up.
    let mut st = String::new();
    let mut last = String::new();
    let booted = wait_for(Duration::from_secs(60), || {
        let o = c.sh("timeout 60 systemctl is-system-running --wait");
        st = String::from_utf8_lossy(&o.stdout).trim().to_string();
        last = text(&o);
        st == "running" || st == "degraded"
    });
    if !booted {
        return Err(fail(format!("the container did not boot: {st} {last}")));
    }
    eprintln!("pkg: container booted with systemd as PID 1 ({st})");

    // Install beside keepalived.
    c.ok("dpkg -i /srv/keepalived-rs.deb")?;
    c.ok("dpkg -s keepalived | grep -q '^Status: install ok installed'")?;
    let sample = std::fs::read_to_string(root.join("etc/keepalived/keepalived.conf"))
        .map_err(|e| format!("no sample configuration installed: {e}"))?;
    if !sample.contains("keepalived-rs package") {
        return Err(fail(
            "the sample configuration was not installed where none existed",
        ));
    }
    let verify = c.sh("systemd-analyze verify --man=no /lib/systemd/system/keepalived-rs.service");
    if !verify.status.success() || text(&verify).contains("keepalived-rs.service") {
        return Err(fail(format!("systemd-analyze verify: {}", text(&verify))));
    }
    eprintln!("pkg: installed beside keepalived; systemd-analyze verify passes");

    // keepalived runs; starting keepalived-rs stops it (Conflicts=).
    write_config(root, &config(&[VIP], "pkg_a"))?;
    c.ok("systemctl start keepalived")?;
    if c.prop("keepalived", "ActiveState") != "active" {
        return Err(fail("Debian's keepalived did not start"));
    }
    c.ok("systemctl start keepalived-rs")
        .map_err(|e| format!("{e}\n{}", c.journal()))?;
    if c.prop("keepalived-rs", "ActiveState") != "active" {
        return Err(fail(format!("keepalived-rs not active:\n{}", c.journal())));
    }
    if c.prop("keepalived", "ActiveState") == "active" {
        return Err(fail("keepalived still active after keepalived-rs started"));
    }
    if !wait_for(Duration::from_secs(10), || has_vip(host, VIP)) {
        return Err(fail(format!("the VIP never came:\n{}", c.journal())));
    }
    if !wait_for(Duration::from_secs(5), || {
        c.prop("keepalived-rs", "StatusText") == "1 MASTER"
    }) {
        return Err(fail(format!(
            "STATUS is {:?}, not \"1 MASTER\"",
            c.prop("keepalived-rs", "StatusText")
        )));
    }
    let status = c.ok("systemctl status keepalived-rs --no-pager || true")?;
    if !status.contains("Status: \"1 MASTER\"") {
        return Err(fail(format!(
            "systemctl status shows no STATUS line:\n{status}"
        )));
    }
    eprintln!("pkg: started (keepalived stopped by Conflicts=), VIP up, STATUS \"1 MASTER\"");

    // A valid reload applies; a broken one keeps the running configuration.
    write_config(root, &config(&[VIP, VIP2], "pkg_b"))?;
    c.ok("systemctl reload keepalived-rs")?;
    if !wait_for(Duration::from_secs(10), || has_vip(host, VIP2)) {
        return Err(fail(format!(
            "the reload did not add {VIP2}:\n{}",
            c.journal()
        )));
    }
    // A configuration keepalived refuses too (a VRID out of range); a block left open at the
    // end of the file is only a warning, in keepalived as in keepalived-rs.
    write_config(root, "vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 300\n    priority 150\n    virtual_ipaddress {\n        not-an-address\n    }\n}\n")?;
    let pid_before = c.prop("keepalived-rs", "MainPID");
    c.ok("systemctl reload keepalived-rs")?;
    if !wait_for(Duration::from_secs(5), || {
        c.journal().contains("Reload refused")
    }) {
        return Err(fail(format!(
            "the journal does not say the reload was refused:\n{}",
            c.journal()
        )));
    }
    if !has_vip(host, VIP)
        || !has_vip(host, VIP2)
        || c.prop("keepalived-rs", "ActiveState") != "active"
        || c.prop("keepalived-rs", "MainPID") != pid_before
    {
        return Err(fail("a broken reload changed the running service"));
    }
    eprintln!("pkg: valid reload applied; broken reload refused (journal says why), VIPs kept");
    write_config(root, &config(&[VIP, VIP2], "pkg_b"))?;

    // The watchdog: a stopped VRRP child gets the service restarted.
    watchdog(&c, host)?;
    // Daemonised (no --dont-fork): systemd follows the daemon's pid.
    forking(&c, host)?;

    // Stop: priority 0 on the wire, VIPs gone, no process left.
    let cap = Capture::start(peer, "eth0", 0x0800);
    std::thread::sleep(Duration::from_millis(200));
    c.ok("systemctl stop keepalived-rs")?;
    std::thread::sleep(Duration::from_millis(300));
    let frames = cap.finish();
    let prios = advert_priorities(&frames, &lan.addr(0));
    if !prios.contains(&0) {
        return Err(fail(format!(
            "no priority-0 advert seen by the peer at stop (priorities seen: {prios:?})"
        )));
    }
    if has_vip(host, VIP) || has_vip(host, VIP2) || !c.daemon_pids().is_empty() {
        return Err(fail("VIP or process left after systemctl stop"));
    }
    eprintln!(
        "pkg: stop sent priority 0 ({} adverts seen), VIPs removed",
        prios.len()
    );

    // dpkg -r of a running service leaves nothing behind.
    c.ok("systemctl start keepalived-rs")?;
    if !wait_for(Duration::from_secs(10), || has_vip(host, VIP)) {
        return Err(fail("no VIP after the second start"));
    }
    c.ok("dpkg -r keepalived-rs")?;
    if !wait_for(Duration::from_secs(5), || {
        !has_vip(host, VIP) && c.daemon_pids().is_empty()
    }) {
        return Err(fail("dpkg -r left a process or a VIP behind"));
    }
    if root
        .join("lib/systemd/system/keepalived-rs.service")
        .exists()
        || root.join("usr/sbin/keepalived-rs").exists()
    {
        return Err(fail("dpkg -r left the package's files"));
    }
    eprintln!("pkg: dpkg -r stopped the service and left no process or VIP");
    drop(c);
    Ok(())
}

/// WatchdogSec=3 (a drop-in), then SIGSTOP of the VRRP child: the parent stops feeding
/// the watchdog, systemd restarts the service, and the VIP comes back.
fn watchdog(c: &Booted, host: &Netns) -> Result<(), String> {
    c.ok(
        "mkdir -p /etc/systemd/system/keepalived-rs.service.d && \
         printf '[Service]\\nWatchdogSec=3\\n' > /etc/systemd/system/keepalived-rs.service.d/test.conf && \
         systemctl daemon-reload && systemctl restart keepalived-rs",
    )?;
    if !wait_for(Duration::from_secs(10), || has_vip(host, VIP)) {
        return Err(fail("no VIP after the restart with WatchdogSec=3"));
    }
    // Healthy for two watchdog periods: no restart.
    std::thread::sleep(Duration::from_secs(7));
    let restarts = c.prop("keepalived-rs", "NRestarts");
    if restarts != "0" {
        return Err(fail(format!(
            "a healthy service was restarted by its watchdog (NRestarts={restarts}):\n{}",
            c.journal()
        )));
    }
    let main_before = c.prop("keepalived-rs", "MainPID");
    c.ok("kill -STOP $(cat /run/vrrp.pid)")?;
    let t0 = Instant::now();
    if !wait_for(Duration::from_secs(30), || {
        c.prop("keepalived-rs", "NRestarts") != "0"
            && c.prop("keepalived-rs", "ActiveState") == "active"
    }) {
        return Err(fail(format!(
            "the watchdog did not restart the service within 30 s:\n{}",
            c.journal()
        )));
    }
    let took = t0.elapsed();
    if c.prop("keepalived-rs", "MainPID") == main_before {
        return Err(fail("restarted, yet the same main pid"));
    }
    if !wait_for(Duration::from_secs(10), || has_vip(host, VIP)) {
        return Err(fail("no VIP after the watchdog restart"));
    }
    c.ok("rm -r /etc/systemd/system/keepalived-rs.service.d && systemctl daemon-reload")?;
    eprintln!(
        "pkg: SIGSTOPped VRRP child -> watchdog restart after {:.1} s, VIP back",
        took.as_secs_f64()
    );
    Ok(())
}

/// Without `--dont-fork` the daemon forks away from the process systemd started; that
/// process hands systemd the daemon's pid (`MAINPID=`) before it exits, so the unit follows
/// the right process (`NotifyAccess=main` unchanged).
fn forking(c: &Booted, host: &Netns) -> Result<(), String> {
    c.ok("mkdir -p /etc/systemd/system/keepalived-rs.service.d && \
         printf '[Service]\\nExecStart=\\nExecStart=/usr/sbin/keepalived-rs $DAEMON_ARGS\\n' \
           > /etc/systemd/system/keepalived-rs.service.d/fork.conf && \
         systemctl daemon-reload && systemctl restart keepalived-rs")
        .map_err(|e| format!("{e}\n{}", c.journal()))?;
    let main = c.prop("keepalived-rs", "MainPID");
    let file = c.ok("cat /run/keepalived.pid")?.trim().to_string();
    if c.prop("keepalived-rs", "ActiveState") != "active" || main != file || main == "0" {
        return Err(fail(format!(
            "daemonised: MainPID {main}, pid file {file}, state {}",
            c.prop("keepalived-rs", "ActiveState")
        )));
    }
    if !wait_for(Duration::from_secs(10), || has_vip(host, VIP)) {
        return Err(fail("daemonised: no VIP"));
    }
    c.ok(
        "rm -r /etc/systemd/system/keepalived-rs.service.d && systemctl daemon-reload && \
         systemctl restart keepalived-rs",
    )?;
    if !wait_for(Duration::from_secs(10), || has_vip(host, VIP)) {
        return Err(fail("no VIP after going back to --dont-fork"));
    }
    eprintln!("pkg: daemonised under systemd: MainPID {main} is the daemon (pid file)");
    Ok(())
}

/// The SysV init script under nspawn's stub init (no systemd): each action's exit code.
fn init_script(root: &Path, built: &deb::Built) -> Result<(), String> {
    let lan = Lan::new(1, PREFIX);
    lan.wait_carrier();
    let host = &lan.hosts[0];
    std::fs::copy(&built.deb, root.join("srv/keepalived-rs.deb"))
        .map_err(|e| format!("copy the package into the root: {e}"))?;
    write_config(root, &config(&[VIP], "pkg_init"))?;
    let steps: &[(&str, &str, i32)] = &[
        (
            "install",
            "dpkg -i /srv/keepalived-rs.deb >/dev/null 2>&1",
            0,
        ),
        ("status-before", "$S status", 3),
        ("start", "$S start", 0),
        ("start-again", "$S start", 0),
        ("status-running", "$S status", 0),
        ("vip-after-start", "wait_vip yes", 0),
        ("reload", "$S reload", 0),
        ("restart", "$S restart", 0),
        ("vip-after-restart", "wait_vip yes", 0),
        ("stop", "$S stop", 0),
        ("vip-after-stop", "wait_vip no", 0),
        ("process-after-stop", "! pgrep -x keepalived-rs", 0),
        ("status-stopped", "$S status", 3),
        ("stop-again", "$S stop", 0),
        ("reload-stopped", "$S reload", 7),
        ("unknown-action", "$S frobnicate", 2),
        ("remove", "dpkg -r keepalived-rs >/dev/null 2>&1", 0),
    ];
    let mut script = format!(
        "S=/etc/init.d/keepalived-rs\n\
         wait_vip() {{ n=0; while [ $n -lt 100 ]; do \
         if ip -o addr show dev eth0 | grep -q ' {VIP}/'; then have=yes; else have=no; fi; \
         [ $have = $1 ] && return 0; sleep 0.1; n=$((n+1)); done; return 1; }}\n"
    );
    for (name, cmd, _) in steps {
        script.push_str(&format!("{cmd} >/dev/null 2>&1; echo \"STEP {name} $?\"\n"));
    }
    std::fs::write(root.join("srv/init-test.sh"), &script)
        .map_err(|e| format!("init-test.sh: {e}"))?;
    let o = output(
        Command::new("timeout")
            .args([
                "120",
                "systemd-nspawn",
                "--register=no",
                "--keep-unit",
                "--capability=CAP_NET_ADMIN",
                "--as-pid2",
                "-q",
            ])
            .arg(format!(
                "--network-namespace-path=/run/netns/{}",
                host.name()
            ))
            .arg("-D")
            .arg(root)
            .args(["/bin/sh", "/srv/init-test.sh"])
            .stdin(Stdio::null()),
    )?;
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let mut bad = Vec::new();
    for (name, _, want) in steps {
        let got = out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("STEP {name} ")))
            .and_then(|c| c.trim().parse::<i32>().ok());
        if got != Some(*want) {
            bad.push(format!("{name}: exit {got:?}, want {want}"));
        }
    }
    if !bad.is_empty() {
        return Err(fail(format!(
            "init script: {}\n{out}{}",
            bad.join("; "),
            String::from_utf8_lossy(&o.stderr)
        )));
    }
    if has_vip(host, VIP) {
        return Err(fail("the init script test left the VIP behind"));
    }
    eprintln!(
        "pkg: init script: {} actions gave their LSB exit codes",
        steps.len()
    );
    Ok(())
}
