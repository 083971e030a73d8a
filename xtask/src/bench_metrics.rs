//! `cargo xtask bench metrics [--instances N] [--real-servers M] [--window S]`: what it
//! costs to ask the daemon (issue 13), keepalived-rs's `/metrics` beside what exporters do
//! with keepalived 2.2.7 (SIGJSON, then read `keepalived.json`).
//!
//! One namespace, N VRRP instances (one /32 VIP each, all MASTER: nobody else speaks) and
//! M real servers (M / 20 virtual servers of 20 TCP_CHECKs each, `delay_loop 10`, against
//! listeners on 127.0.0.1 that accept and close; this kernel has no IPVS, so neither daemon
//! programs it). Per daemon: start, wait for every VIP, let the checks settle, then
//! - a quiet window of S seconds: the daemon's CPU (utime+stime of every process);
//! - a window of S seconds with one scrape a second: each scrape's latency (ours: `GET
//!   /metrics` until the body is read and holds every instance; keepalived: the signal
//!   until `keepalived.json` is rewritten and parses with every instance), and the CPU.
//!
//! The CPU a scrape costs is (busy - quiet) / scrapes. At Prometheus' default interval
//! (15 s) that is the share of one core a scraper adds. Writes "## Metrics" of
//! docs/benchmarks.md.

use super::bench_scale::{config, target_dir, vip_count, Daemon, Lab};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Where ours serves metrics inside the namespace.
const METRICS: &str = "127.0.0.1:19650";
/// Ports of the real servers' listeners (20 per virtual server).
const RS_PORT0: u16 = 10001;
const RS_PER_VS: usize = 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Keepalived,
    Ours,
}

#[derive(Debug, Default)]
struct Sample {
    /// Scrape latencies, ms.
    lat: Vec<f64>,
    quiet_cpu: f64,
    busy_cpu: f64,
    scrapes: usize,
    window: f64,
}

fn lvs_config(m: usize) -> String {
    let mut c = String::new();
    for v in 0..m.div_ceil(RS_PER_VS) {
        c.push_str(&format!(
            "virtual_server 192.0.{}.{} 80 {{\n  delay_loop 10\n  lb_algo rr\n  lb_kind NAT\n  \
             protocol TCP\n",
            2 + v / 250,
            1 + v % 250
        ));
        for j in 0..RS_PER_VS.min(m - v * RS_PER_VS) {
            c.push_str(&format!(
                "  real_server 127.0.0.1 {} {{\n    TCP_CHECK {{\n      connect_timeout 3\n    }}\n  }}\n",
                RS_PORT0 + j as u16
            ));
        }
        c.push_str("}\n");
    }
    c
}

/// Listeners for the real servers in `ns`: accept and close, until the process ends.
fn listeners(ns: &str) -> Result<(), String> {
    for j in 0..RS_PER_VS {
        let port = RS_PORT0 + j as u16;
        let ns = ns.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let l = enter(&ns).and_then(|()| {
                std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| e.to_string())
            });
            let l = match l {
                Ok(l) => {
                    let _ = tx.send(Ok(()));
                    l
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            for s in l.incoming() {
                drop(s);
            }
        });
        rx.recv()
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("listener {port}: {e}"))?;
    }
    Ok(())
}

/// Move this thread into network namespace `ns`.
fn enter(ns: &str) -> Result<(), String> {
    let f = std::fs::File::open(format!("/run/netns/{ns}")).map_err(|e| e.to_string())?;
    nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())
}

/// `GET /metrics` from inside `ns`: the body.
fn get_metrics(ns: &str) -> Result<String, String> {
    let ns = ns.to_string();
    std::thread::spawn(move || -> Result<String, String> {
        enter(&ns)?;
        let mut s = std::net::TcpStream::connect(METRICS).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        write!(s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").map_err(|e| e.to_string())?;
        let mut buf = String::new();
        s.read_to_string(&mut buf).map_err(|e| e.to_string())?;
        Ok(buf)
    })
    .join()
    .map_err(|_| "the scrape thread panicked".to_string())?
}

/// One scrape; its latency in ms.
fn scrape(who: Who, lab: &Lab, d: &Daemon, n: usize) -> Result<f64, String> {
    let t0 = Instant::now();
    match who {
        Who::Ours => {
            let body = get_metrics(&lab.m)?;
            let states = body
                .lines()
                .filter(|l| l.starts_with("keepalived_vrrp_state{"))
                .count();
            if states != n {
                return Err(format!("/metrics had {states} instance states, not {n}"));
            }
        }
        Who::Keepalived => {
            let f = d.dir.join("keepalived.json");
            let before = modified(&f);
            // SIGJSON is SIGRTMIN+2, which nix's Signal cannot name: kill(1) sends it.
            let sig = (libc::SIGRTMIN() + 2).to_string();
            let st = std::process::Command::new("kill")
                .args(["-s", &sig, &d.pid().to_string()])
                .status()
                .map_err(|e| format!("kill: {e}"))?;
            if !st.success() {
                return Err(format!("kill -s {sig} {} failed", d.pid()));
            }
            loop {
                if t0.elapsed() > Duration::from_secs(10) {
                    return Err("keepalived.json was not rewritten within 10 s".into());
                }
                if modified(&f) != before {
                    let text = std::fs::read_to_string(&f).unwrap_or_default();
                    if let Ok(serde_json::Value::Array(a)) = serde_json::from_str(&text) {
                        if a.len() == n {
                            break;
                        }
                    }
                }
                std::thread::sleep(Duration::from_micros(500));
            }
        }
    }
    Ok(t0.elapsed().as_secs_f64() * 1000.0)
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn measure(who: Who, bin: &Path, n: usize, m: usize, window: Duration) -> Result<Sample, String> {
    let lab = Lab::new(n)?;
    listeners(&lab.m)?;
    // keepalived 2.2.7 with virtual servers on a kernel without IPVS does not bring its
    // VRRP instances up (its checker child cannot start): it runs the VRRP part alone,
    // which is all its JSON dump holds anyway. Ours carries the real servers too (its
    // /metrics has them), so the comparison is tilted against ours.
    let conf = match who {
        Who::Ours => format!("{}{}", config(n, 150), lvs_config(m)),
        Who::Keepalived => config(n, 150),
    };
    let extra: &[&str] = match who {
        Who::Ours => &["--metrics-listen", METRICS],
        Who::Keepalived => &[],
    };
    let tag = match who {
        Who::Ours => "metrics-ours",
        Who::Keepalived => "metrics-ka",
    };
    let d = Daemon::start_with(&lab.m, bin, &conf, tag, extra)?;
    let t0 = Instant::now();
    while vip_count(&lab.m) < n {
        if t0.elapsed() > Duration::from_secs(120) {
            return Err(format!(
                "{who:?}: only {} of {n} VIPs after 120 s",
                vip_count(&lab.m)
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Every real server checked once or twice.
    std::thread::sleep(Duration::from_secs(15));
    let mut s = Sample {
        window: window.as_secs_f64(),
        ..Sample::default()
    };
    let c0 = d.cpu();
    std::thread::sleep(window);
    s.quiet_cpu = d.cpu() - c0;
    let c1 = d.cpu();
    let start = Instant::now();
    let mut k = 0u32;
    while start.elapsed() < window {
        s.lat.push(scrape(who, &lab, &d, n)?);
        k += 1;
        let next = Duration::from_secs(u64::from(k));
        if let Some(wait) = next.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    s.busy_cpu = d.cpu() - c1;
    s.scrapes = s.lat.len();
    drop(d);
    drop(lab);
    Ok(s)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn p95(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[(v.len() * 95 / 100).min(v.len() - 1)]
}

/// Run the benchmark.
pub fn run(args: &[String]) -> Result<(), String> {
    let (mut n, mut m, mut window) = (1000usize, 2000usize, 60u64);
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).and_then(|s| s.parse::<u64>().ok());
        match (args[i].as_str(), v) {
            ("--instances", Some(v)) if (1..=16_000).contains(&v) => n = v as usize,
            ("--real-servers", Some(v)) if v <= 20_000 => m = v as usize,
            ("--window", Some(v)) if v >= 5 => window = v,
            (a, _) => return Err(format!("bench metrics: bad argument {a:?}")),
        }
        i += 2;
    }
    let keepalived = PathBuf::from("/usr/sbin/keepalived");
    if !keepalived.exists() {
        crate::setup::ensure_packages(crate::setup::ALL)?;
    }
    crate::run(crate::cargo().args(["build", "--release", "-p", "keepalived-rs"]))?;
    let ours = target_dir().join("release/keepalived-rs");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let w = Duration::from_secs(window);
    let ka = measure(Who::Keepalived, &keepalived, n, m, w)?;
    let rs = measure(Who::Ours, &ours, n, m, w)?;
    let per = |s: &Sample| (s.busy_cpu - s.quiet_cpu).max(0.0) * 1000.0 / s.scrapes.max(1) as f64;
    let share = |s: &Sample| per(s) / 15_000.0 * 100.0;
    let quiet = |s: &Sample| s.quiet_cpu / s.window * 100.0;
    let row = |name: &str, s: &Sample| {
        format!(
            "| {name} | {:.2} | {:.2} | {} | {:.1} | {:.3} | {:.2} |\n",
            median(&s.lat),
            p95(&s.lat),
            s.scrapes,
            per(s),
            share(s),
            quiet(s)
        )
    };
    let ratio = median(&rs.lat) / median(&ka.lat);
    let mut out = format!(
        "## Metrics\n\n`cargo xtask bench metrics --instances {n} --real-servers {m} --window {window}` \
         ({}, load before: {}). One namespace, {n} VRRP instances all MASTER, {m} real servers \
         (TCP_CHECK every 10 s against local listeners; no IPVS in this kernel; keepalived runs \
         the VRRP part alone: with virtual servers and no IPVS its instances never came up). A scrape is \
         keepalived-rs's `GET /metrics` (body read, every instance in it) or, for keepalived \
         2.2.7, what exporters do: SIGJSON, then `keepalived.json` rewritten and parsed with \
         every instance. One scrape a second for {window} s after a quiet window of {window} s; \
         the CPU a scrape costs is (busy - quiet) / scrapes, all processes of the daemon.\n\n\
         | daemon | scrape median ms | p95 ms | scrapes | CPU ms per scrape | % of a core at a 15 s interval | quiet CPU % of a core |\n\
         |---|---|---|---|---|---|---|\n",
        today(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    out.push_str(&row("keepalived 2.2.7 (SIGJSON + file)", &ka));
    out.push_str(&row("keepalived-rs (/metrics)", &rs));
    out.push_str(&format!(
        "\nScrape latency ratio (ours / keepalived's dump): {ratio:.2}x. Targets (issue 13): a \
         scrape under 20 ms, under 1 % of a core added at the default interval.\n\n"
    ));
    eprint!("{out}");
    super::write_section("## Metrics", &out)
}

/// Today's date (UTC), as `date -u +%F` prints it.
fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
