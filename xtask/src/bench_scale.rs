//! `cargo xtask bench scale [--instances N...] [--rounds R] [--steady S]`: keepalived 2.2.7
//! and keepalived-rs with many VRRP instances (issue 16), alternating in one run.
//!
//! A MASTER (priority 150) and a BACKUP (priority 100) in two network namespaces, linked by
//! one veth pair per 250 instances (VRIDs 1..=250 on each link), VRRPv2 at `advert_int 1`,
//! one /32 VIP per instance, the default configuration otherwise (no `vrrp_priority`). Per
//! round and size, each daemon in turn: start both hosts, wait until the master holds every
//! VIP and has logged every MASTER transition, then measure a steady window: CPU as
//! utime+stime of every process of each daemon (/proc/PID/stat, reaped children's
//! cutime+cstime included), RSS and PSS summed over the processes (/proc/PID/smaps_rollup)
//! at the end of the window, and the state changes ("Entering ... STATE" lines) logged
//! during the window. Then the stop: SIGTERM to the master's main process, the time until
//! its namespace holds no VIP and every one of its processes has exited, and the time until
//! the backup holds every VIP (quick only if the master's priority-0 adverts went out: the
//! backup then takes over after Skew_Time, ~0.6 s, not Master_Down_Interval, ~3.6 s).
//! Writes the "## Scale" section of docs/benchmarks.md.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const VRIDS_PER_LINK: usize = 250;
/// Clock ticks per second of /proc/PID/stat times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Who {
    Keepalived,
    Ours,
}

impl Who {
    fn name(self) -> &'static str {
        match self {
            Who::Keepalived => "keepalived 2.2.7",
            Who::Ours => "keepalived-rs",
        }
    }
}

/// One measured run of one daemon at one size.
#[derive(Clone, Debug, Default)]
struct Sample {
    converge_s: f64,
    master_cpu: f64,
    backup_cpu: f64,
    master_rss: f64,
    backup_rss: f64,
    master_pss: f64,
    backup_pss: f64,
    changes: usize,
    converged: bool,
    /// SIGTERM to the master -> no VIP left on it and all its processes gone (NaN: not
    /// within the limit).
    stop_release_s: f64,
    /// SIGTERM to the master -> every VIP on the backup (NaN: not within the limit).
    stop_takeover_s: f64,
}

/// Two namespaces and their links; removed on drop (the veths go with them).
pub(super) struct Lab {
    pub(super) m: String,
    b: String,
}

impl Lab {
    pub(super) fn new(n: usize) -> Result<Lab, String> {
        let id = std::process::id();
        let lab = Lab {
            m: format!("kasc-m-{id}"),
            b: format!("kasc-b-{id}"),
        };
        for ns in [&lab.m, &lab.b] {
            sh(Command::new("ip").args(["netns", "add", ns]))?;
            sh(Command::new("ip").args(["-n", ns, "link", "set", "lo", "up"]))?;
        }
        for k in 0..n.div_ceil(VRIDS_PER_LINK) {
            let ifname = format!("eth{k}");
            sh(Command::new("ip").args([
                "link", "add", &ifname, "netns", &lab.m, "type", "veth", "peer", "name", &ifname,
                "netns", &lab.b,
            ]))?;
            for (ns, host) in [(&lab.m, 1), (&lab.b, 2)] {
                let a = format!("192.168.{k}.{host}/24");
                sh(Command::new("ip").args(["-n", ns, "addr", "add", &a, "dev", &ifname]))?;
                sh(Command::new("ip").args(["-n", ns, "link", "set", &ifname, "up"]))?;
            }
        }
        Ok(lab)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.m, &self.b] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn sh(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

pub(super) fn config(n: usize, prio: u8) -> String {
    let mut c = String::new();
    for i in 0..n {
        let (k, v) = (i / VRIDS_PER_LINK, i % VRIDS_PER_LINK + 1);
        c.push_str(&format!(
            "vrrp_instance VI_{k}_{v} {{\n  state BACKUP\n  interface eth{k}\n  \
             virtual_router_id {v}\n  priority {prio}\n  advert_int 1\n  \
             virtual_ipaddress {{\n    10.{}.{}.{v}/32\n  }}\n}}\n",
            k / 256,
            k % 256
        ));
    }
    c
}

/// A daemon started in a namespace; stopped (TERM, then KILL) on drop.
pub(super) struct Daemon {
    child: Child,
    pub(super) dir: PathBuf,
}

impl Daemon {
    fn start(ns: &str, bin: &Path, conf: &str, tag: &str) -> Result<Daemon, String> {
        Daemon::start_with(ns, bin, conf, tag, &[])
    }

    /// As [`Daemon::start`], with `extra` arguments.
    pub(super) fn start_with(
        ns: &str,
        bin: &Path,
        conf: &str,
        tag: &str,
        extra: &[&str],
    ) -> Result<Daemon, String> {
        let dir = std::env::temp_dir().join(format!("kasc-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let cf = dir.join("keepalived.conf");
        fs::write(&cf, conf).map_err(|e| format!("write {}: {e}", cf.display()))?;
        let log = fs::File::create(dir.join("log")).map_err(|e| format!("log: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log: {e}"))?;
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(bin)
            .args(["-n", "-l", "-f"])
            .arg(&cf)
            .arg("-p")
            .arg(dir.join("keepalived.pid"))
            .arg("-r")
            .arg(dir.join("vrrp.pid"))
            .arg("-c")
            .arg(dir.join("checkers.pid"))
            .arg("-b")
            .arg(dir.join("bfd.pid"))
            .args(extra)
            .env("TMPDIR", &dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        Ok(Daemon { child, dir })
    }

    pub(super) fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(i32::MAX)
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// The daemon's processes: its parent and every descendant.
    fn pids(&self) -> Vec<i32> {
        let mut parent: Vec<(i32, i32)> = Vec::new();
        if let Ok(rd) = fs::read_dir("/proc") {
            for e in rd.flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                    continue;
                };
                if let Some(f) = stat_fields(pid) {
                    if let Some(pp) = f.get(1).and_then(|s| s.parse::<i32>().ok()) {
                        parent.push((pid, pp));
                    }
                }
            }
        }
        let mut out = vec![self.pid()];
        let mut k = 0;
        while k < out.len() {
            let p = out[k];
            out.extend(parent.iter().filter(|x| x.1 == p).map(|x| x.0));
            k += 1;
        }
        out
    }

    /// CPU seconds of every process (live ones' utime+stime, plus reaped children's).
    pub(super) fn cpu(&self) -> f64 {
        self.pids()
            .into_iter()
            .filter_map(stat_fields)
            .map(|f| {
                // Fields after "(comm)": state=0, ppid=1, ... utime=11, stime=12,
                // cutime=13, cstime=14.
                (11..=14)
                    .filter_map(|i| f.get(i).and_then(|s| s.parse::<u64>().ok()))
                    .sum::<u64>()
            })
            .sum::<u64>() as f64
            / TICKS
    }

    /// (RSS, PSS) in MB, summed over the processes.
    fn memory(&self) -> (f64, f64) {
        let mut rss = 0u64;
        let mut pss = 0u64;
        for pid in self.pids() {
            let s = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            for l in s.lines() {
                let kb = || {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                if l.starts_with("Rss:") {
                    rss += kb();
                } else if l.starts_with("Pss:") {
                    pss += kb();
                }
            }
        }
        (rss as f64 / 1024.0, pss as f64 / 1024.0)
    }

    fn transitions(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("Entering") && l.contains("STATE"))
            .count()
    }

    fn masters(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("Entering MASTER STATE"))
            .count()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Already stopped and reaped (the stop measurement): its pid is no longer ours to
        // signal.
        if let Ok(Some(_)) = self.child.try_wait() {
            let _ = fs::remove_dir_all(&self.dir);
            return;
        }
        // SIGTERM to the parent we spawned (not yet reaped: the pid is still ours).
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid()),
            nix::sys::signal::Signal::SIGTERM,
        );
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = fs::remove_dir_all(&self.dir);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The fields of /proc/PID/stat after "(comm)".
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

pub(super) fn vip_count(ns: &str) -> usize {
    let out = Command::new("ip")
        .args(["-n", ns, "-o", "-4", "addr", "show"])
        .output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.contains("/32"))
            .count()
    })
    .unwrap_or(0)
}

/// A process that exists and is not a zombie.
fn alive(pid: i32) -> bool {
    stat_fields(pid).is_some_and(|f| f.first().is_some_and(|st| st != "Z"))
}

/// Stop the master (SIGTERM to its main process) and time, from the signal, (a) until its
/// namespace holds no VIP and all its processes (taken before the signal) have exited,
/// (b) until the backup holds all `n` VIPs. Polled every 10 ms (plus the time of one
/// `ip addr show`); NaN for what did not happen within the limit.
fn measure_stop(master: &mut Daemon, lab: &Lab, n: usize) -> (f64, f64) {
    let pids = master.pids();
    let limit = Duration::from_secs(30 + n as u64 / 500);
    let t0 = Instant::now();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(master.pid()),
        nix::sys::signal::Signal::SIGTERM,
    );
    let (mut released, mut taken) = (f64::NAN, f64::NAN);
    while t0.elapsed() < limit && (released.is_nan() || taken.is_nan()) {
        if released.is_nan() {
            let parent_gone = matches!(master.child.try_wait(), Ok(Some(_)));
            if parent_gone && pids.iter().all(|&p| !alive(p)) && vip_count(&lab.m) == 0 {
                released = t0.elapsed().as_secs_f64();
            }
        }
        if taken.is_nan() && vip_count(&lab.b) == n {
            taken = t0.elapsed().as_secs_f64();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (released, taken)
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    f()
}

fn measure(who: Who, bin: &Path, n: usize, steady: Duration) -> Result<Sample, String> {
    let lab = Lab::new(n)?;
    let started = Instant::now();
    let mut master = Daemon::start(&lab.m, bin, &config(n, 150), "m")?;
    let backup = Daemon::start(&lab.b, bin, &config(n, 100), "b")?;
    let limit = Duration::from_secs(60 + n as u64 / 100);
    let converged = wait_until(limit, || vip_count(&lab.m) == n && vip_count(&lab.b) == 0);
    let converge_s = started.elapsed().as_secs_f64();
    // The log may lag the addresses; then a few seconds for the startup burst to settle.
    wait_until(Duration::from_secs(30), || master.masters() >= n);
    std::thread::sleep(Duration::from_secs(3));
    let (m0, b0) = (master.cpu(), backup.cpu());
    let (tm0, tb0) = (master.transitions(), backup.transitions());
    let t0 = Instant::now();
    std::thread::sleep(steady);
    let (m1, b1) = (master.cpu(), backup.cpu());
    let secs = t0.elapsed().as_secs_f64();
    let (tm1, tb1) = (master.transitions(), backup.transitions());
    let (master_rss, master_pss) = master.memory();
    let (backup_rss, backup_pss) = backup.memory();
    let (stop_release_s, stop_takeover_s) = measure_stop(&mut master, &lab, n);
    let s = Sample {
        converge_s,
        master_cpu: (m1 - m0) / secs * 100.0,
        backup_cpu: (b1 - b0) / secs * 100.0,
        master_rss,
        backup_rss,
        master_pss,
        backup_pss,
        changes: (tm1 - tm0) + (tb1 - tb0),
        converged,
        stop_release_s,
        stop_takeover_s,
    };
    eprintln!("{} at {n}: {s:?}", who.name());
    drop(master);
    drop(backup);
    drop(lab);
    Ok(s)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// "median (min–max)" of the finite values, "+k timeout" for the others.
fn cell(v: &[f64], digits: usize) -> String {
    let fin: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let lost = v.len() - fin.len();
    if lost == 0 {
        return cell_all(v, digits);
    }
    if fin.is_empty() {
        return format!("timeout ×{lost}");
    }
    format!("{} +{lost} timeout", cell_all(&fin, digits))
}

fn cell_all(v: &[f64], digits: usize) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let m = median(v.to_vec());
    if v.len() > 1 {
        format!("{m:.digits$} ({lo:.digits$}–{hi:.digits$})")
    } else {
        format!("{m:.digits$}")
    }
}

fn table(sizes: &[usize], res: &HashMap<(usize, Who), Vec<Sample>>) -> String {
    let mut t = String::from(
        "| instances | who | master CPU % | backup CPU % | master RSS MB | backup RSS MB | \
         master PSS MB | backup PSS MB | to all-MASTER s | state changes | converged | \
         stop: master released s | stop: all VIPs on backup s |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &n in sizes {
        for who in [Who::Keepalived, Who::Ours] {
            let Some(v) = res.get(&(n, who)) else {
                continue;
            };
            let col = |f: fn(&Sample) -> f64| v.iter().map(f).collect::<Vec<_>>();
            t.push_str(&format!(
                "| {n} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {}/{} | {} | {} |\n",
                who.name(),
                cell(&col(|s| s.master_cpu), 2),
                cell(&col(|s| s.backup_cpu), 2),
                cell(&col(|s| s.master_rss), 1),
                cell(&col(|s| s.backup_rss), 1),
                cell(&col(|s| s.master_pss), 1),
                cell(&col(|s| s.backup_pss), 1),
                cell(&col(|s| s.converge_s), 1),
                v.iter()
                    .map(|s| s.changes.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                v.iter().filter(|s| s.converged).count(),
                v.len(),
                cell(&col(|s| s.stop_release_s), 2),
                cell(&col(|s| s.stop_takeover_s), 2),
            ));
        }
        if let (Some(k), Some(o)) = (res.get(&(n, Who::Keepalived)), res.get(&(n, Who::Ours))) {
            let r = |f: fn(&Sample) -> f64| {
                let a = median(o.iter().map(f).filter(|x| x.is_finite()).collect());
                let b = median(k.iter().map(f).filter(|x| x.is_finite()).collect());
                let q = a / b;
                if q.is_finite() {
                    format!("{q:.2}x")
                } else {
                    "–".to_string()
                }
            };
            t.push_str(&format!(
                "| {n} | ratio ours/keepalived | {} | {} | {} | {} | {} | {} | {} | | | {} | {} |\n",
                r(|s| s.master_cpu),
                r(|s| s.backup_cpu),
                r(|s| s.master_rss),
                r(|s| s.backup_rss),
                r(|s| s.master_pss),
                r(|s| s.backup_pss),
                r(|s| s.converge_s),
                r(|s| s.stop_release_s),
                r(|s| s.stop_takeover_s),
            ));
        }
    }
    t
}

pub(super) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"))
}

/// Run the benchmark.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut sizes = Vec::new();
    let mut rounds = 3usize;
    let mut steady = 30u64;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--instances" => {
                while let Some(n) = args.get(i + 1).and_then(|s| s.parse::<usize>().ok()) {
                    sizes.push(n);
                    i += 1;
                }
            }
            "--rounds" => {
                rounds = args
                    .get(i + 1)
                    .and_then(|s| s.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or("--rounds needs a number")?;
                i += 1;
            }
            "--steady" => {
                steady = args
                    .get(i + 1)
                    .and_then(|s| s.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or("--steady needs seconds")?;
                i += 1;
            }
            a => return Err(format!("bench scale: unknown argument {a:?}")),
        }
        i += 1;
    }
    if sizes.is_empty() {
        sizes = vec![1000, 4000];
    }
    if sizes
        .iter()
        .any(|&n| n == 0 || n > 256 * 256 * VRIDS_PER_LINK)
    {
        return Err("--instances: 1 to 16,777,216".into());
    }
    let keepalived = PathBuf::from("/usr/sbin/keepalived");
    if !keepalived.exists() {
        crate::setup::ensure_packages(crate::setup::ALL)?;
    }
    crate::run(crate::cargo().args(["build", "--release", "-p", "keepalived-rs"]))?;
    let ours = target_dir().join("release/keepalived-rs");
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut res: HashMap<(usize, Who), Vec<Sample>> = HashMap::new();
    for r in 0..rounds {
        for &n in &sizes {
            // Alternate which daemon goes first.
            let order = if r % 2 == 0 {
                [Who::Keepalived, Who::Ours]
            } else {
                [Who::Ours, Who::Keepalived]
            };
            for who in order {
                let bin = match who {
                    Who::Keepalived => &keepalived,
                    Who::Ours => &ours,
                };
                let s = measure(who, bin, n, Duration::from_secs(steady))?;
                res.entry((n, who)).or_default().push(s);
            }
        }
    }
    let load_end = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cmdline = std::iter::once("cargo xtask bench scale".to_string())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let section = format!(
        "## Scale\n\n\
         Command: `{cmdline}` (writes this section; `--instances N...` default 1000 4000, \
         `--rounds R` default 3, `--steady S` seconds default 30).\n\n\
         A MASTER (priority 150) and a BACKUP (priority 100) in two network namespaces, one \
         veth pair per 250 instances (VRIDs 1-250 on each), VRRPv2 `advert_int 1`, one /32 VIP \
         per instance, default configuration otherwise (no `vrrp_priority`); keepalived 2.2.7 \
         and keepalived-rs (release build) alternate in one run, a fresh pair of daemons and \
         namespaces each time. After every VIP is on the master and every MASTER transition \
         logged, plus 3 s, a {steady} s steady window: CPU % of one core = utime+stime of every \
         process of the daemon (reaped children included) over the window; RSS and PSS summed \
         over the processes (smaps_rollup) at its end; state changes = \"Entering ... STATE\" \
         lines logged by both hosts during the window (one value per round); *to all-MASTER* \
         from the start of both daemons to every VIP on the master. Then the stop: SIGTERM to \
         the master's main process; *stop: master released* = until its namespace holds no \
         VIP and all its processes have exited; *stop: all VIPs on backup* = until the backup \
         holds every VIP (after Skew_Time, ~0.6 s, if the master's priority-0 adverts went \
         out; Master_Down_Interval, ~3.6 s, if not); polled every 10 ms plus one `ip addr` \
         listing. Medians of {rounds} rounds \
         (min-max). The machine has 2 cores shared with other work: load average at start \
         `{}`, at end `{}`.\n\n{}\n",
        load.trim(),
        load_end.trim(),
        table(&sizes, &res)
    );
    print!("{section}");
    crate::bench::write_section("## Scale", &section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_columns_in_the_table_and_timeouts_counted_apart() {
        assert_eq!(
            cell(&[1.0, f64::NAN, 2.0], 2),
            "1.50 (1.00–2.00) +1 timeout"
        );
        assert_eq!(cell(&[f64::NAN], 2), "timeout ×1");
        let s = |release, takeover| Sample {
            stop_release_s: release,
            stop_takeover_s: takeover,
            converged: true,
            ..Sample::default()
        };
        let mut res = HashMap::new();
        res.insert((10, Who::Keepalived), vec![s(1.0, 0.8)]);
        res.insert((10, Who::Ours), vec![s(0.5, f64::NAN)]);
        let t = table(&[10], &res);
        assert!(t.contains("stop: master released s | stop: all VIPs on backup s |"));
        let rows: Vec<&str> = t.lines().collect();
        assert_eq!(rows.len(), 5, "{t}");
        assert!(rows[2].ends_with("| 1/1 | 1.00 | 0.80 |"), "{}", rows[2]);
        assert!(
            rows[3].ends_with("| 1/1 | 0.50 | timeout ×1 |"),
            "{}",
            rows[3]
        );
        assert!(rows[4].ends_with("| | | 0.50x | – |"), "{}", rows[4]);
        // Every row has as many cells as the header.
        let cells = |r: &str| r.matches('|').count();
        assert!(rows.iter().all(|r| cells(r) == cells(rows[0])), "{t}");
    }
}
