//! `cargo xtask demo`: a real VRRP failover between two hosts in network namespaces.
//!
//! Builds keepalived-rs, makes a LAN (a bridge in one namespace, two hosts `h1` and `h2`
//! each with an `eth0` on it), runs keepalived-rs on both with an embedded config (one
//! VIP, h1 priority 150, h2 priority 100), then:
//!
//! 1. waits for the VIP to show up on h1 (the master);
//! 2. stops h1's keepalived-rs (SIGTERM) and waits for the VIP to move to h2;
//! 3. starts h1 again and waits for the VIP to come back (h1 preempts);
//! 4. cleans everything up (also on failure or Ctrl-C of a step).
//!
//! Each step has a deadline; a VIP that does not move is an error (non-zero exit).
//! `--backup-keepalived` runs Debian's keepalived 2.2.7 on h2 instead, to show the two
//! interoperate; `--reference` runs keepalived 2.2.7 on both hosts (checks the harness and
//! gives the reference timings). Needs root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PREFIX: &str = "10.99.0";
const VIP: &str = "10.99.0.100";
const STEP_DEADLINE: Duration = Duration::from_secs(15);

/// The embedded configuration; `{prio}` differs per host.
fn config(prio: u8) -> String {
    format!(
        "! keepalived-rs demo (cargo xtask demo)\n\
         global_defs {{\n    router_id demo_{prio}\n}}\n\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    \
         virtual_router_id 51\n    priority {prio}\n    advert_int 1\n    \
         virtual_ipaddress {{\n        {VIP}/24\n    }}\n}}\n"
    )
}

/// Namespaces and processes of the demo, removed on drop.
struct Lab {
    tag: String,
    dir: PathBuf,
    procs: Vec<(String, Child)>,
}

impl Lab {
    fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.tag)
    }

    /// `ip ARGS`, quiet unless it fails.
    fn ip(&self, args: &[&str]) -> Result<(), String> {
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

    fn build(&mut self) -> Result<(), String> {
        let sw = self.ns("sw");
        self.ip(&["netns", "add", &sw])?;
        self.ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"])?;
        self.ip(&[
            "-n",
            &sw,
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ])?;
        self.ip(&["-n", &sw, "link", "set", "br0", "up"])?;
        for i in 1..=2 {
            let h = self.ns(&format!("h{i}"));
            let port = format!("p{i}");
            self.ip(&["netns", "add", &h])?;
            self.ip(&["-n", &h, "link", "set", "lo", "up"])?;
            self.ip(&[
                "link", "add", "eth0", "netns", &h, "type", "veth", "peer", "name", &port, "netns",
                &sw,
            ])?;
            self.ip(&["-n", &sw, "link", "set", &port, "master", "br0"])?;
            self.ip(&["-n", &sw, "link", "set", &port, "up"])?;
            self.ip(&[
                "-n",
                &h,
                "addr",
                "add",
                &format!("{PREFIX}.{i}/24"),
                "dev",
                "eth0",
            ])?;
            self.ip(&["-n", &h, "link", "set", "eth0", "up"])?;
        }
        Ok(())
    }

    /// Start `bin` on host `i` with the embedded config; its console goes to a log file.
    fn start(&mut self, i: u8, bin: &Path) -> Result<(), String> {
        let h = self.ns(&format!("h{i}"));
        let prio = if i == 1 { 150 } else { 100 };
        let conf = self.dir.join(format!("h{i}.conf"));
        std::fs::write(&conf, config(prio)).map_err(|e| format!("{}: {e}", conf.display()))?;
        let log = self.dir.join(format!("h{i}.log"));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let p = |n: &str| self.dir.join(format!("h{i}.{n}.pid")).display().to_string();
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &h])
            .arg(bin)
            .args(["-n", "-l", "-D", "-G", "-f"])
            .arg(&conf)
            .args(["-p", &p("main"), "-r", &p("vrrp"), "-c", &p("check")])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        println!(
            "  started {} on h{i} (priority {prio}), pid {}, log {}",
            bin.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
            child.id(),
            log.display()
        );
        self.procs.push((format!("h{i}"), child));
        Ok(())
    }

    /// SIGTERM the daemon of host `i` and wait for it to exit.
    fn stop(&mut self, i: u8) -> Result<Duration, String> {
        let name = format!("h{i}");
        let Some(pos) = self.procs.iter().position(|(n, _)| *n == name) else {
            return Err(format!("nothing runs on {name}"));
        };
        let (_, mut child) = self.procs.remove(pos);
        let t = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return Ok(t.elapsed());
            }
            if t.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("keepalived-rs on {name} did not stop within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn has_vip(&self, i: u8) -> bool {
        Command::new("ip")
            .args([
                "-n",
                &self.ns(&format!("h{i}")),
                "-4",
                "addr",
                "show",
                "dev",
                "eth0",
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("{VIP}/")))
            .unwrap_or(false)
    }

    /// Wait until the VIP is on host `want` and on no other host.
    fn wait_vip(&self, want: u8) -> Result<Duration, String> {
        let t = Instant::now();
        let other = if want == 1 { 2 } else { 1 };
        while t.elapsed() < STEP_DEADLINE {
            if self.has_vip(want) && !self.has_vip(other) {
                return Ok(t.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(format!(
            "the VIP {VIP} did not move to h{want} within {STEP_DEADLINE:?} \
             (on h1: {}, on h2: {}); logs in {}",
            self.has_vip(1),
            self.has_vip(2),
            self.dir.display()
        ))
    }

    fn show(&self) {
        for i in 1..=2 {
            let out = Command::new("ip")
                .args([
                    "-n",
                    &self.ns(&format!("h{i}")),
                    "-4",
                    "-br",
                    "addr",
                    "show",
                    "dev",
                    "eth0",
                ])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            println!("    h{i}: {out}");
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (_, c) in &mut self.procs {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        let t = Instant::now();
        for (_, c) in &mut self.procs {
            while t.elapsed() < Duration::from_secs(6) {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        for n in ["h1", "h2", "sw"] {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(n)])
                .stderr(Stdio::null())
                .status();
        }
        println!("  cleaned up (namespaces {}*)", self.tag);
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"))
}

/// `cargo xtask demo [--backup-keepalived | --reference]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let reference = args.iter().any(|a| a == "--reference");
    let backup_keepalived = reference || args.iter().any(|a| a == "--backup-keepalived");
    if let Some(a) = args
        .iter()
        .find(|a| *a != "--backup-keepalived" && *a != "--reference")
    {
        return Err(format!("demo: unknown argument {a:?}"));
    }
    // Root check without unsafe: `id -u`.
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if uid != "0" {
        return Err("demo: needs root (network namespaces)".into());
    }
    println!("==> building keepalived-rs");
    crate::run(crate::cargo().args(["build", "-p", "keepalived-rs"]))?;
    let keepalived = PathBuf::from("/usr/sbin/keepalived");
    let ours = if reference {
        keepalived.clone()
    } else {
        target_dir().join("debug").join("keepalived-rs")
    };
    let backup_bin = if backup_keepalived {
        keepalived
    } else {
        ours.clone()
    };
    if !backup_bin.exists() {
        return Err(format!("{} not found", backup_bin.display()));
    }

    let tag = format!("kd{}", std::process::id() % 100_000);
    let dir = std::env::temp_dir().join(format!("keepalived-rs-demo-{tag}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut lab = Lab {
        tag,
        dir,
        procs: Vec::new(),
    };
    println!("==> a LAN in namespaces: h1 ({PREFIX}.1) and h2 ({PREFIX}.2) on one bridge");
    lab.build()?;
    println!("==> starting keepalived-rs on both hosts, VIP {VIP}");
    println!("{}", indent(&config(150)));
    lab.start(1, &ours)?;
    lab.start(2, &backup_bin)?;

    let t = lab.wait_vip(1)?;
    println!(
        "==> h1 is MASTER: the VIP is on h1 ({} ms after start)",
        t.as_millis()
    );
    lab.show();

    println!("==> stopping the master on h1 (SIGTERM)");
    let stop = lab.stop(1)?;
    let moved = lab.wait_vip(2)?;
    println!(
        "==> the VIP moved to h2 ({} ms after SIGTERM; h1 stopped in {} ms)",
        (stop + moved).as_millis(),
        stop.as_millis()
    );
    lab.show();

    println!("==> starting h1 again (priority 150 preempts)");
    lab.start(1, &ours)?;
    let back = lab.wait_vip(1)?;
    println!(
        "==> the VIP is back on h1 ({} ms after restart)",
        back.as_millis()
    );
    lab.show();
    println!("==> demo OK");
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
