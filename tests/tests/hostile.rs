//! Hostile network input against a running MASTER/BACKUP pair (issue 11 §4): a corpus of
//! malformed and forged adverts ([`ka_tests::forge::corpus`]) and 10k packets/s floods,
//! sent from a third host on the LAN while a 1 ms probe watches the VIPs. Nothing may
//! change state, the VIPs stay on exactly one host, no child dies, every drop is counted
//! in `keepalived.stats` and the logs stay bounded. keepalived 2.2.7 gets the same packets
//! where it is installed, and its figures are printed beside ours.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use ka_tests::capture::Capture;
use ka_tests::daemon::{require_keepalived, Daemon, Impl};
use ka_tests::forge::{self, Forger, Target, Vrrp};
use ka_tests::probe::Prober;
use ka_tests::wait_for;
use ka_tests::{require_root, Lan, Netns};

const UP: Duration = Duration::from_secs(15);

fn config(net: &str, prio: u8) -> String {
    format!(
        "vrrp_instance VI_2 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {prio}\n  advert_int 1\n  authentication {{\n    auth_type PASS\n    auth_pass secret\n  }}\n  \
         virtual_ipaddress {{\n    {net}.51/24\n  }}\n}}\n\
         vrrp_instance VI_3 {{\n  state BACKUP\n  interface eth0\n  version 3\n  virtual_router_id 52\n  \
         priority {prio}\n  advert_int 1\n  virtual_ipaddress {{\n    {net}.52/24\n  }}\n}}\n"
    )
}

fn mac_of(ns: &Netns) -> [u8; 6] {
    let out = ns.exec("cat", ["/sys/class/net/eth0/address"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut mac = [0u8; 6];
    for (d, s) in mac.iter_mut().zip(text.trim().split(':')) {
        *d = u8::from_str_radix(s, 16).unwrap_or(0);
    }
    mac
}

/// Start `imp`; keepalived gets a BFD pid file of its own (its default, /run/bfd.pid,
/// left by any other keepalived on the machine makes it say "daemon is already running").
fn start(ns: &Netns, imp: Impl, config: &str) -> Daemon {
    match imp {
        Impl::Keepalived => {
            let bfd = std::env::temp_dir().join(format!("{}.bfd.pid", ka_tests::unique("bfd")));
            let bfd = bfd.to_string_lossy().to_string();
            Daemon::start_with(ns, imp, config, &["-b", &bfd])
        }
        _ => Daemon::start(ns, imp, config),
    }
}

/// MASTER (host 0, priority 150) and BACKUP (host 1, 100) running `imp`; host 2 forges.
struct Pair {
    lan: Lan,
    master: Daemon,
    backup: Daemon,
    target: Target,
    vips: [IpAddr; 2],
    /// VRRP child pids once converged.
    children: (Option<i32>, Option<i32>),
}

impl Pair {
    fn new(imp: Impl, net: &str) -> Pair {
        let lan = Lan::new(3, net);
        lan.wait_carrier();
        let vips = [
            IpAddr::V4(format!("{net}.51").parse().expect("vip")),
            IpAddr::V4(format!("{net}.52").parse().expect("vip")),
        ];
        let master = start(&lan.hosts[0], imp, &config(net, 150));
        let backup = start(&lan.hosts[1], imp, &config(net, 100));
        assert!(
            wait_for(UP, || vips.iter().all(|v| lan.hosts[0].has_addr(*v))),
            "{}: never MASTER\n{}",
            imp.name(),
            master.log()
        );
        // Let the backup hear a few adverts.
        std::thread::sleep(Duration::from_millis(1500));
        for v in vips {
            assert!(
                !lan.hosts[1].has_addr(v),
                "{}: {v} on the backup",
                imp.name()
            );
        }
        let target = Target {
            v2_vrid: 51,
            v2_vip: format!("{net}.51").parse().expect("vip"),
            v2_pass: "secret".into(),
            v3_vrid: 52,
            v3_vip: format!("{net}.52").parse().expect("vip"),
            src: lan.addr(2).parse().expect("addr"),
            master: lan.addr(0).parse().expect("addr"),
            master_mac: mac_of(&lan.hosts[0]),
            src_mac: mac_of(&lan.hosts[2]),
        };
        let children = (master.vrrp_pid(), backup.vrrp_pid());
        Pair {
            lan,
            master,
            backup,
            target,
            vips,
            children,
        }
    }

    fn probe(&self) -> Vec<Prober> {
        self.vips
            .iter()
            .map(|v| {
                Prober::start(
                    &[&self.lan.hosts[0], &self.lan.hosts[1]],
                    *v,
                    Duration::from_millis(1),
                )
            })
            .collect()
    }

    /// Assert: each VIP always on exactly one host (the master), and neither VRRP child
    /// replaced.
    fn check(&self, probes: Vec<Prober>, what: &str) {
        let name = self.master.imp.name();
        for (p, v) in probes.into_iter().zip(self.vips) {
            let tl = p.finish();
            // The probe threads start one after the other: before a host's first sample
            // the timeline does not know it, so the first milliseconds are not judged.
            let settled = |v: Vec<(Duration, Duration)>| -> Vec<(Duration, Duration)> {
                v.into_iter()
                    .filter(|(at, _)| *at > Duration::from_millis(5))
                    .collect()
            };
            let (absent, dual) = (settled(tl.absent()), settled(tl.duplicated()));
            assert!(absent.is_empty(), "{name} {what}: {v} absent {absent:?}");
            assert!(dual.is_empty(), "{name} {what}: {v} on both hosts {dual:?}");
            assert_eq!(tl.final_holder(), Some(0), "{name} {what}: {v} moved");
        }
        assert_eq!(
            (self.master.vrrp_pid(), self.backup.vrrp_pid()),
            self.children,
            "{name} {what}: a VRRP child was replaced\n{}",
            self.master.log()
        );
    }
}

/// `keepalived.stats` of `d` (SIGUSR2), as (instance, "Section/Label") -> value.
fn stats(d: &Daemon) -> BTreeMap<(String, String), u64> {
    let path = d.dir.join("keepalived.stats");
    let _ = std::fs::remove_file(&path);
    d.signal(libc::SIGUSR2);
    let mut text = String::new();
    wait_for(Duration::from_secs(5), || {
        let t = std::fs::read_to_string(&path).unwrap_or_default();
        let done = !t.is_empty() && t == text;
        text = t;
        done
    });
    let mut out = BTreeMap::new();
    let (mut inst, mut section) = (String::new(), String::new());
    for line in text.lines() {
        let depth = line.len() - line.trim_start().len();
        let line = line.trim();
        if let Some(name) = line.strip_prefix("VRRP Instance:") {
            inst = name.trim().to_string();
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            section = label.to_string();
            continue;
        }
        let key = if depth >= 4 {
            format!("{section}/{label}")
        } else {
            label.to_string()
        };
        if let Ok(v) = value.parse() {
            out.insert((inst.clone(), key), v);
        }
    }
    out
}

fn diff(
    a: &BTreeMap<(String, String), u64>,
    b: &BTreeMap<(String, String), u64>,
) -> BTreeMap<(String, String), u64> {
    b.iter()
        .filter_map(|(k, v)| {
            let d = v.saturating_sub(a.get(k).copied().unwrap_or(0));
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

fn log_lines(d: &Daemon) -> usize {
    d.log().lines().count()
}

/// utime + stime of every process of `d`, in clock ticks.
fn cpu_ticks(d: &Daemon) -> u64 {
    d.all_pids()
        .into_iter()
        .filter_map(|pid| {
            let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

fn inst_name(i: &str) -> &'static str {
    if i == "v2" {
        "VI_2"
    } else {
        "VI_3"
    }
}

/// A flood runs alone; the other network tests of this file may run two at a time.
///
/// Two floods at once (20k pps through two bridges on the 2-CPU CI machine) stalled one CPU
/// for seconds at a stretch: whatever process was current there (our VRRP child,
/// keepalived's) made no progress, a `sched_switch` trace showed no context switch on that
/// CPU for up to 5 s with hardly any CPU time charged to the process, and the MASTER's
/// adverts stopped: both implementations left the VIP on two hosts for seconds. And beside
/// one flood, the corpus tests read the daemons' counters seconds late (the master's own
/// adverts then showed up as "received").
static NET: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn alone() -> std::sync::RwLockWriteGuard<'static, ()> {
    NET.write().unwrap_or_else(|e| e.into_inner())
}

fn beside_others() -> std::sync::RwLockReadGuard<'static, ()> {
    NET.read().unwrap_or_else(|e| e.into_inner())
}

const REPEAT: usize = 20;

type Counters = BTreeMap<(String, String), u64>;

/// What one corpus kind did: its name and the counter increments on the master and on
/// the backup (adverts sent left out: they follow the clock).
type PerKind = Vec<(String, Counters, Counters)>;

/// Replay the corpus (each kind `REPEAT` times, 1 ms apart, counters read after each kind)
/// against `imp`; returns the increments per kind, the log lines written, and the corpus.
fn replay(imp: Impl, net: &str) -> (PerKind, usize, Vec<forge::Forged>) {
    let _shared = beside_others();
    let pair = Pair::new(imp, net);
    let corpus = forge::corpus(&pair.target);
    let forger = Forger::open(&pair.lan.hosts[2], "eth0");
    let logs0 = log_lines(&pair.master) + log_lines(&pair.backup);
    let probes = pair.probe();
    let mut per_kind = Vec::new();
    let (mut m0, mut b0) = (stats(&pair.master), stats(&pair.backup));
    for f in &corpus {
        for _ in 0..REPEAT {
            assert!(forger.send(&f.frame), "send {}", f.name);
            std::thread::sleep(Duration::from_millis(1));
        }
        // keepalived reads the signal between packets: let it finish the kind first.
        std::thread::sleep(Duration::from_millis(150));
        let (m1, b1) = (stats(&pair.master), stats(&pair.backup));
        // Adverts sent follow the clock, and the backup receives the master's (one a
        // second per instance): neither is the corpus's doing.
        let strip = |mut c: Counters| {
            c.retain(|(_, k), v| {
                k != "Advertisements/Sent" && !(k == "Advertisements/Received" && *v <= 2)
            });
            c
        };
        per_kind.push((f.name.clone(), strip(diff(&m0, &m1)), strip(diff(&b0, &b1))));
        (m0, b0) = (m1, b1);
    }
    // A master-down interval: any advert wrongly accepted by the backup would show.
    std::thread::sleep(Duration::from_millis(4000));
    if imp == Impl::Ours {
        pair.check(probes, "corpus");
    } else if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pair.check(probes, "corpus")
    })) {
        // keepalived's own slips are reported, not judged.
        eprintln!("keepalived under the corpus: {e:?}");
    }
    let logs = log_lines(&pair.master) + log_lines(&pair.backup) - logs0;
    (per_kind, logs, corpus)
}

fn show(m: &Counters) -> String {
    m.iter()
        .map(|((i, k), v)| format!("{i} {k}: {v}; "))
        .collect()
}

#[test]
fn forged_corpus_changes_nothing_and_is_counted() {
    if !require_root("forged_corpus_changes_nothing_and_is_counted") {
        return;
    }
    let (per_kind, logs, corpus) = replay(Impl::Ours, "10.95.1");
    for ((name, m, b), f) in per_kind.iter().zip(&corpus) {
        eprintln!("{name}: master {} backup {}", show(m), show(b));
        // Nothing was accepted as an advert from the forger.
        for (who, got) in [("master", m), ("backup", b)] {
            assert!(
                !got.keys().any(|(_, k)| k == "Advertisements/Received"),
                "{name}: accepted by the {who}"
            );
            if let (Some(c), Some(i)) = (f.counter, f.instance) {
                let key = (inst_name(i).to_string(), c.to_string());
                assert_eq!(
                    got.get(&key),
                    Some(&(REPEAT as u64)),
                    "{name}: {who} {}",
                    show(got)
                );
            }
        }
    }
    // ~50 kinds x 20 packets: logs rate-limited per instance and reason.
    eprintln!("log lines: {logs}");
    assert!(
        logs < 300,
        "{logs} log lines for {} packets",
        corpus.len() * REPEAT
    );
}

#[test]
fn forged_corpus_counters_match_keepalived() {
    if !require_root("forged_corpus_counters_match_keepalived")
        || !require_keepalived("forged_corpus_counters_match_keepalived")
    {
        return;
    }
    let (theirs, klogs, _) = replay(Impl::Keepalived, "10.95.2");
    let (ours, logs, _) = replay(Impl::Ours, "10.95.3");
    eprintln!("log lines: keepalived {klogs}, keepalived-rs {logs}");
    let mut differ = Vec::new();
    // State changes are judged by the probes (ours must have none); keepalived's backup
    // sometimes takes over during the replay, which is its own slip, not a counter.
    let counters = |c: &Counters| -> Counters {
        c.iter()
            .filter(|((_, k), _)| k != "Became master" && k != "Released master")
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    // The backup hears the real MASTER once a second: a kind's ~170 ms window catches one
    // of its adverts now and then, in either implementation (a CI run: 21 received on our
    // backup for 20 forged). Adverts received may differ by that one on the backup.
    let backup_same = |k: &Counters, o: &Counters| {
        let received = |c: &Counters| -> Counters {
            c.iter()
                .filter(|((_, n), _)| n == "Advertisements/Received")
                .map(|(k, v)| (k.clone(), *v))
                .collect()
        };
        let rest = |c: &Counters| -> Counters {
            counters(c)
                .into_iter()
                .filter(|((_, n), _)| n != "Advertisements/Received")
                .collect()
        };
        let (rk, ro) = (received(k), received(o));
        rest(k) == rest(o)
            && rk.keys().chain(ro.keys()).all(|key| {
                let (a, b) = (
                    rk.get(key).copied().unwrap_or(0),
                    ro.get(key).copied().unwrap_or(0),
                );
                a.abs_diff(b) <= 1
            })
    };
    for ((name, km, kb), (_, m, b)) in theirs.iter().zip(&ours) {
        let same = counters(km) == counters(m) && backup_same(kb, b);
        eprintln!(
            "{} {name}:
  keepalived    master {} backup {}
  keepalived-rs master {} backup {}",
            if same { "  " } else { "!!" },
            show(km),
            show(kb),
            show(m),
            show(b)
        );
        if !same {
            differ.push(name.clone());
        }
    }
    assert!(differ.is_empty(), "counters differ for {differ:?}");
}

/// The flood: `lower` lower-priority v3 adverts (valid, no password needed) and wrong
/// password v2 adverts, alternating, at `pps` for `secs`. Returns (frames the master sent
/// during the flood, CPU ticks of the master's processes, log lines).
fn flood(imp: Impl, net: &str, pps: u64, secs: u64) -> (usize, u64, usize) {
    let _alone = alone();
    let pair = Pair::new(imp, net);
    let t = &pair.target;
    let src = IpAddr::V4(t.src);
    let g = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
    let ip = forge::Ip {
        src,
        dst: g,
        ttl: 255,
    };
    let low = Vrrp::v3(t.v3_vrid, 50, vec![IpAddr::V4(t.v3_vip)]).bytes(src, g);
    let badpw = Vrrp::v2(t.v2_vrid, 254, vec![IpAddr::V4(t.v2_vip)])
        .pass("wrong")
        .bytes(src, g);
    let frames = vec![
        forge::frame(t.src_mac, t.master_mac, &ip, &low),
        forge::frame(t.src_mac, t.master_mac, &ip, &badpw),
    ];
    let forger = Forger::open(&pair.lan.hosts[2], "eth0");
    let cap = Capture::start(&pair.lan.hosts[1], "eth0", 0x0003);
    let logs0 = log_lines(&pair.master) + log_lines(&pair.backup);
    let cpu0 = cpu_ticks(&pair.master);
    let probes = pair.probe();
    let started = Instant::now();
    let sent = forger.flood(&frames, pps, Duration::from_secs(secs));
    let took = started.elapsed();
    let cpu = cpu_ticks(&pair.master) - cpu0;
    std::thread::sleep(Duration::from_millis(500));
    let captured = cap.finish();
    let logs = log_lines(&pair.master) + log_lines(&pair.backup) - logs0;
    let from_master = captured
        .iter()
        .filter(|f| f.bytes.get(6..12) == Some(&t.master_mac[..]))
        .count();
    let log = pair.master.log() + &pair.backup.log();
    let kills = log.matches("died: Respawning").count();
    let drops: Vec<(String, u64)> = forge::raw_vrrp_drops(&pair.lan.hosts[0])
        .into_iter()
        .chain(forge::raw_vrrp_drops(&pair.lan.hosts[1]))
        .collect();
    eprintln!("{}: raw VRRP sockets (inode, drops): {drops:?}", imp.name());
    eprintln!(
        "{}: sent {sent} in {:.1} s; master sent {from_master} frames; CPU {} ticks ({:.1} %); \
         {logs} log lines; {kills} child deaths",
        imp.name(),
        took.as_secs_f64(),
        cpu,
        cpu as f64 / took.as_secs_f64(),
    );
    if imp == Impl::Ours {
        assert_eq!(kills, 0, "VRRP child died under the flood");
        // Receive-queue drops are printed above, not asserted: alone on the machine they
        // are 0, but with another flood test beside it one raw socket of each host
        // overflowed in CI rehearsals while the loop used 16 % CPU (which socket, and why,
        // is left to the scale issue, whose goal "every socket drained" this is).
        pair.check(probes, "flood");
    } else if let Err(e) =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pair.check(probes, "flood")))
    {
        // keepalived's own slips are reported, not judged.
        eprintln!("keepalived under the flood: {e:?}");
    }
    (from_master, cpu, logs)
}

#[test]
fn flood_of_lower_priority_and_wrong_password_adverts_is_harmless() {
    if !require_root("flood_of_lower_priority_and_wrong_password_adverts_is_harmless") {
        return;
    }
    let secs = 4;
    let (frames, _cpu, logs) = flood(Impl::Ours, "10.95.4", 10_000, secs);
    // Without the flood the master sends 2 adverts/s (plus its second GARP burst, which may
    // fall in the window); answers to lower-priority adverts are rate-bounded, at most one
    // advert and one GARP burst per interval. At a20114d: 119,653 frames, 79,972 lines.
    assert!(frames < 80, "the master sent {frames} frames in {secs} s");
    assert!(logs < 100, "{logs} log lines");
}

/// The same flood against keepalived 2.2.7 and us, in one run: CPU figures side by side
/// (printed), and ours not above keepalived's. For the figures:
/// `cargo build --release -p keepalived-rs && KA_BIN=target/release/keepalived-rs
/// cargo test -p ka-tests --test hostile flood_cpu_against_keepalived -- --nocapture`
#[test]
fn flood_cpu_against_keepalived() {
    if !require_root("flood_cpu_against_keepalived")
        || !require_keepalived("flood_cpu_against_keepalived")
    {
        return;
    }
    let secs = 5;
    let (kf, kcpu, klogs) = flood(Impl::Keepalived, "10.95.5", 10_000, secs);
    let (f, cpu, logs) = flood(Impl::Ours, "10.95.6", 10_000, secs);
    eprintln!(
        "flood {secs} s at 10k pps: keepalived frames {kf} cpu {kcpu} ticks logs {klogs}; \
         keepalived-rs frames {f} cpu {cpu} ticks logs {logs}"
    );
    // CPU is compared for an optimised build only (KA_BIN=target/release/keepalived-rs);
    // the debug build the netns suite runs is several times slower.
    let ours = ka_tests::daemon::ours_binary();
    if ours.to_string_lossy().contains("/release/") {
        assert!(cpu <= kcpu + 10, "CPU {cpu} ticks, keepalived {kcpu} ticks");
    } else {
        eprintln!("{}: not a release build, CPU not compared", ours.display());
    }
}

/// The corpus as seeds of the `vrrp` fuzz targets (`decode`: the VRRP message;
/// `engine_rx`: a control byte — TTL, v3, MASTER — then the message), forged for the
/// targets' instance (VRID 1, VIP 10.0.0.100, peer 10.0.0.1). The files are kept in the
/// repo; `KA_WRITE_SEEDS=1` (re)writes them.
#[test]
fn forged_corpus_is_in_the_fuzz_seeds() {
    let t = Target {
        v2_vrid: 1,
        v2_vip: Ipv4Addr::new(10, 0, 0, 100),
        v2_pass: "secret".into(),
        v3_vrid: 1,
        v3_vip: Ipv4Addr::new(10, 0, 0, 100),
        src: Ipv4Addr::new(10, 0, 0, 1),
        master: Ipv4Addr::new(10, 0, 0, 2),
        master_mac: [2, 0, 0, 0, 0, 2],
        src_mac: [2, 0, 0, 0, 0, 1],
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/vrrp/fuzz/corpus");
    let write = std::env::var_os("KA_WRITE_SEEDS").is_some();
    let mut missing = Vec::new();
    for f in forge::corpus(&t) {
        let v3 = f.vrrp.first().is_some_and(|b| b >> 4 == 3);
        let ttl_kind = f.name.contains("-ttl");
        let mut seeds = vec![("decode", f.name.clone(), f.vrrp.clone())];
        for master in [false, true] {
            // bit 1: v3; bit 2: MASTER; bit 3: TTL 255, else the byte is the TTL.
            let ctl = if ttl_kind {
                0x40 | if v3 { 2 } else { 0 } | if master { 4 } else { 0 }
            } else {
                8 | if v3 { 2 } else { 0 } | if master { 4 } else { 0 }
            };
            let mut b = vec![ctl];
            b.extend_from_slice(&f.vrrp);
            let tag = if master { "master" } else { "backup" };
            seeds.push(("engine_rx", format!("{}-{tag}", f.name), b));
        }
        for (target, name, bytes) in seeds {
            let path = root.join(target).join(format!("forged-{name}"));
            if write {
                std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
                missing.push(path.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "seeds missing or stale (KA_WRITE_SEEDS=1 writes them): {missing:?}"
    );
}

/// What a MASTER answers to lower-priority adverts at a rate it can read them all
/// (50 a second for 2 s, valid v3 adverts from a third host): (adverts, ARPs) it sent.
fn lower_priority_answers(imp: Impl, net: &str) -> (usize, usize) {
    let _shared = beside_others();
    let pair = Pair::new(imp, net);
    let t = &pair.target;
    let src = IpAddr::V4(t.src);
    let g = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
    let ip = forge::Ip {
        src,
        dst: g,
        ttl: 255,
    };
    let low = Vrrp::v3(t.v3_vrid, 50, vec![IpAddr::V4(t.v3_vip)]).bytes(src, g);
    let frame = forge::frame(t.src_mac, t.master_mac, &ip, &low);
    let forger = Forger::open(&pair.lan.hosts[2], "eth0");
    let cap = Capture::start(&pair.lan.hosts[1], "eth0", 0x0003);
    let probes = pair.probe();
    let sent = forger.flood(&[frame], 50, Duration::from_secs(2));
    std::thread::sleep(Duration::from_millis(200));
    let frames = cap.finish();
    pair.check(probes, "lower priority");
    let from_master: Vec<_> = frames
        .iter()
        .filter(|f| f.bytes.get(6..12) == Some(&t.master_mac[..]))
        .collect();
    // VI_3's adverts (VRID 52) and ARPs for its VIP.
    let adverts = from_master
        .iter()
        .filter(|f| f.bytes.get(23) == Some(&112) && f.bytes.get(35) == Some(&t.v3_vrid))
        .count();
    let arps = from_master.iter().filter(|f| f.arp().is_some()).count();
    eprintln!(
        "{}: {sent} lower-priority adverts in 2 s -> {adverts} VI_3 adverts, {arps} ARPs",
        imp.name()
    );
    (adverts, arps)
}

/// keepalived 2.2.7 beside us: how lower-priority adverts are answered (printed), and ours
/// bounded to one answer per advert interval, with its GARPs.
#[test]
fn lower_priority_answers_against_keepalived() {
    if !require_root("lower_priority_answers_against_keepalived") {
        return;
    }
    if require_keepalived("lower_priority_answers_against_keepalived") {
        lower_priority_answers(Impl::Keepalived, "10.95.7");
    }
    let (adverts, arps) = lower_priority_answers(Impl::Ours, "10.95.8");
    // 2 s at advert_int 1: 2 timed adverts + at most 1 answer per second (+1 at the edges).
    assert!(adverts <= 6, "{adverts} adverts");
    assert!(arps <= 15, "{arps} ARPs");
}
