//! `cargo xtask chaos`: a seeded chaos campaign against a VRRP cluster in namespaces.
//!
//! ```text
//! cargo xtask chaos [--seconds N] [--seed S] [--hosts 3] [--peer keepalived | --reference]
//!                   [--faults LIST] [--release]
//! ```
//!
//! Hosts are network namespaces on one bridge (`ka_tests::Lan`, unique names, deleted on
//! exit, on a panic and on Ctrl-C/SIGTERM). Each runs keepalived-rs (`--peer keepalived`:
//! Debian's keepalived 2.2.7 on host 1, a mixed cluster; `--reference`: keepalived on every
//! host, which checks the checker) in the foreground with its console in a log file, with
//! three VRRP instances: VI_V2 (VRRPv2, `auth_type PASS`, IPv4, advert 1 s, tracks a
//! script that fails while a file exists), and the sync group G1 of VI_V3_4 (VRRPv3, IPv4)
//! and VI_V3_6 (VRRPv3, IPv6), advert 0.5 s. Host i has priority 150, 100, 50, ... (host 0
//! highest) on every instance; all start as BACKUP, host 0 first.
//!
//! Every 0.3–3 s the injector picks a fault and a host from a SplitMix64 stream seeded by
//! `--seed` (the choices are the seed's; whether a pick is feasible, e.g. the target
//! process exists, depends on timing, and an infeasible pick is drawn again):
//! `kill-{parent,vrrp,checker}` (SIGKILL), `term-{parent,vrrp,checker}` (SIGTERM),
//! `stop-{parent,vrrp,checker}` (SIGSTOP, SIGCONT 0.3–4 s later), `hup-valid` (a new
//! router_id), `hup-broken` (an unparsable config, the good one put back 1 s later),
//! `link` (the host's bridge port down 0.5–6 s: partition and heal), `loss` (20–100 % of
//! the frames to the host dropped by nftables on the bridge, 1–8 s), `dup` (frames to the
//! host duplicated by nftables, 1–8 s), `netem` (delay 20±10 ms, loss 5 %, duplication
//! 5 % and reordering 25 % on the port, both ways, 1–8 s: `tc netem` where the kernel has
//! it, else a userspace shaper that takes the port out of the bridge and moves its frames
//! through a delay queue, `chaos/shaper.rs` — this kernel has no `sch_netem`), `script` (the
//! tracked script fails 1–8 s), `restart` (SIGTERM, started again once gone). A daemon that
//! is gone (killed, or its parent left) is started again 1–4 s later.
//!
//! The checker reads a 1 ms VIP probe on every host (a `bind()` to the VIP in the
//! namespace) and the adverts captured on the bridge (shown around each violation).
//! Probe jitter is read in the daemon's favour: a change seen at probe k happened somewhere
//! between probe k-1 and k, and a VIP counts as held only where it certainly was (two hosts)
//! and as absent only where it certainly was on none. The rules (checked from the end of
//! the warm-up, in which host 0 takes every VIP):
//!
//! * **Never two.** A VIP may be on two hosts only while one of them cannot hear or be
//!   heard (*deaf*: its bridge port down, frames to it dropped by `loss`/`netem` — plus the
//!   netem delay —, or its VRRP child stopped), and for one advert interval + 10 ms after.
//!   A host whose daemon is dead or whose VRRP child is gone is *not* deaf: a VIP it keeps
//!   while another host holds it is a violation. An overlap of at most 10 ms is a normal
//!   handover (the new master adds the VIP, then its advert makes the old one drop it).
//! * **Stalls we did not inject.** The machine is shared: a VRRP child seen blocked
//!   (state D on two 10 ms passes in a row) or starved (50 ms or more of run-queue wait,
//!   /proc/PID/schedstat, over consecutive passes each spent mostly waiting: another
//!   real-time task's 100 ms SCHED_RR slice spans passes) is treated as a stopped one
//!   (deaf, not eligible) for that span; such stalls are counted in the report, not hidden.
//! * **Never none.** A host is *eligible* for a VIP while its daemon runs with a VRRP
//!   child (from the moment the new child is seen), that child is not stopped, its port is
//!   up, and (VI_V2 only) the tracked script passes (up to 2 s after the file goes, for the
//!   script's interval and rise). A VIP on no host is excused (a) while no host has been
//!   eligible for a whole Master_Down_Interval + 10 ms (its own MDI), or (b) for the
//!   MDI + 10 ms of the first host in priority order that stays eligible for that long,
//!   after the host that last held it lost its eligibility. A SIGKILLed VRRP child does
//!   not count for (b): keepalived-rs respawns it keeping the VIPs, so any outage is a
//!   violation (0 ms); keepalived's new child drops the VIPs and waits a
//!   Master_Down_Interval — that outage (up to the largest MDI plus 1 s) is reported as a
//!   *known keepalived outage*, listed and counted apart, not a violation.
//! * **No collateral.** No process of a daemon dies unless a signal fault or a restart hit
//!   that daemon in the 5 s before, and no parent exits within 2 s of a SIGHUP whatever
//!   came before — unless it had been sent SIGTERM or SIGKILL (a stopped parent handles a
//!   pending SIGTERM when continued, after any SIGHUP that came meanwhile); no parent exits on a crash signal or dumps core; no log says
//!   `panicked`, `SIGSEGV`, `SIGABRT` or `core dumped`; no child of a daemon stays
//!   a zombie for 2 s (while it can be reaped: not while its parent is stopped); after
//!   a process's first minute, its RSS and fd count stay within 10 % of their
//!   first-minute maximum (two samples in a row above it, 1 s apart).
//!   keepalived 2.2.7 exits on a reload with a broken config and leaves its VIPs
//!   installed: on a `--peer keepalived` host that exit, the processes that go with it and
//!   a VIP on two hosts while the left VIPs stay (until its next start) are its *known
//!   defect*, listed and counted apart like its child-kill outage. So are the VIPs its
//!   SIGKILLed VRRP child leaves installed until its next child (started after keepalived's
//!   respawn delay) removes them: on two hosts meanwhile. A host told to stop (SIGTERM to
//!   its parent or VRRP child, a restart) is not eligible from that moment, however long
//!   its old VRRP child takes to leave; only a new child makes it eligible again.
//!
//! The last line is `chaos: seed=S seconds=N faults=F violations=V worst_dual_ms=X
//! worst_absent_ms=Y` (worst_dual: the longest stretch of a VIP on two hosts outside deaf
//! spans, grace included; worst_absent: the longest stretch on no host while some host was
//! eligible, keepalived's known outage included). Each violation is written with the fault
//! timeline and the adverts around it to stderr and to `target/chaos/<run>/report.txt`,
//! next to each host's config and log. Exit status 1 when V > 0.

mod check;
mod lab;
mod rng;
mod shaper;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use check::{Cause, Inelig, Span, Vip, T};
use lab::{signal, since, Advert, Host, Imp, Probe, Role};
use nix::sys::signal::Signal;
use rng::Rng;

const MS: T = 1_000;
const SEC: T = 1_000_000;
/// How long a VRRP child seen in its pid file may take to start its timers (fork, IPC
/// handshake, config, sockets): a host is eligible from then on.
const CHILD_START: T = 50 * MS;
/// A stop longer than this is listed as slow: the daemon's 5 s wait for its children, a
/// SIGKILL and a margin for a busy machine.
const SLOW_STOP: T = 10 * SEC;
/// An exit this soon after a SIGHUP is the reload's: keepalived 2.2.7 exits on a broken
/// config (its known defect), in up to 2.5 s when its VRRP child is slow to go (the 1-hour
/// mixed run on 021ff99); for keepalived-rs any such exit is a violation.
const RELOAD_EXIT: T = 5 * SEC;
const PREFIX: &str = "10.77.0";
const PRIOS: [u8; 5] = [150, 100, 50, 30, 20];

/// The fault kinds, in the order the PRNG indexes them.
pub const FAULTS: &[&str] = &[
    "kill-parent",
    "kill-vrrp",
    "kill-checker",
    "term-parent",
    "term-vrrp",
    "term-checker",
    "stop-parent",
    "stop-vrrp",
    "stop-checker",
    "hup-valid",
    "hup-broken",
    "link",
    "loss",
    "dup",
    "netem",
    "script",
    "restart",
];

/// Faults whose outcome the model fully covers and that today's keepalived-rs handles;
/// used to check the checker (`--faults clean`).
const CLEAN: &[&str] = &["stop-vrrp", "link", "loss", "dup", "script", "hup-valid"];

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    STOP.store(true, Ordering::Relaxed);
}

fn install_stop_handler() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet};
    let act = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        let _ = unsafe { sigaction(s, &act) };
    }
}

#[derive(Debug, Clone)]
struct Opts {
    seconds: u64,
    seed: u64,
    hosts: usize,
    peer: Option<usize>,
    reference: bool,
    faults: Vec<&'static str>,
    release: bool,
}

pub fn fresh_seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    rng::Rng::new(t ^ u64::from(std::process::id())).next_u64() % 1_000_000_000
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        seconds: 60,
        seed: fresh_seed(),
        hosts: 3,
        peer: None,
        reference: false,
        faults: FAULTS.to_vec(),
        release: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--seconds" => {
                o.seconds = val(a)?
                    .parse()
                    .map_err(|_| "--seconds needs a number".to_string())?
            }
            "--seed" => {
                o.seed = val(a)?
                    .parse()
                    .map_err(|_| "--seed needs a number".to_string())?
            }
            "--hosts" => {
                o.hosts = val(a)?
                    .parse()
                    .ok()
                    .filter(|n| (2..=PRIOS.len()).contains(n))
                    .ok_or(format!("--hosts takes 2..={}", PRIOS.len()))?
            }
            "--peer" => {
                if val(a)? != "keepalived" {
                    return Err("--peer takes `keepalived`".into());
                }
                o.peer = Some(1);
            }
            "--reference" => o.reference = true,
            "--release" => o.release = true,
            "--faults" => {
                let list = val(a)?;
                let mut v = Vec::new();
                for f in list.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                    if f == "clean" {
                        v.extend_from_slice(CLEAN);
                    } else if let Some(k) = FAULTS.iter().find(|k| **k == f) {
                        v.push(*k);
                    } else {
                        return Err(format!(
                            "unknown fault {f:?}; known: clean, {}",
                            FAULTS.join(", ")
                        ));
                    }
                }
                if v.is_empty() {
                    return Err("--faults is empty".into());
                }
                o.faults = v;
            }
            _ => return Err(format!("unknown option {a:?}")),
        }
    }
    Ok(o)
}

/// The instances: (name, vrid, version, advert µs, VIP, scripted).
struct Inst {
    name: &'static str,
    vrid: u8,
    version: u8,
    adv: T,
    vip: &'static str,
    prefix_len: u8,
    scripted: bool,
}

const INSTANCES: &[Inst] = &[
    Inst {
        name: "VI_V2",
        vrid: 51,
        version: 2,
        adv: SEC,
        vip: "10.77.0.101",
        prefix_len: 24,
        scripted: true,
    },
    Inst {
        name: "VI_V3_4",
        vrid: 52,
        version: 3,
        adv: 500 * MS,
        vip: "10.77.0.102",
        prefix_len: 24,
        scripted: false,
    },
    Inst {
        name: "VI_V3_6",
        vrid: 53,
        version: 3,
        adv: 500 * MS,
        vip: "fd00:77::103",
        prefix_len: 64,
        scripted: false,
    },
];

/// Master_Down_Interval (RFC 3768 for v2, RFC 5798 for v3), µs.
fn mdi(inst: &Inst, prio: u8) -> T {
    let skew = if inst.version == 2 {
        (256 - T::from(prio)) * SEC / 256
    } else {
        (256 - T::from(prio)) * inst.adv / 256
    };
    3 * inst.adv + skew
}

/// The tracked script checks a file (the injector's "script fails" fault). Its timeout is
/// 3 s rather than the 1 s interval: a load stall of the whole VM (a build beside the
/// campaign) must not turn into a script failure the injector never made.
fn config(host: usize, fail: &std::path::Path, generation: u32, broken: bool) -> String {
    let prio = PRIOS[host];
    let mut c = format!(
        "! chaos campaign, host {host} (generation {generation})\n\
         global_defs {{\n  router_id chaos_h{host}_g{generation}\n}}\n\n\
         vrrp_script chk_file {{\n  script \"/usr/bin/test ! -e {}\"\n  interval 1\n  \
         timeout 3\n  fall 1\n  rise 1\n}}\n\n\
         vrrp_sync_group G1 {{\n  group {{\n    VI_V3_4\n    VI_V3_6\n  }}\n}}\n",
        fail.display()
    );
    for i in INSTANCES {
        let adv = if i.adv % SEC == 0 {
            format!("{}", i.adv / SEC)
        } else {
            format!("{:.2}", i.adv as f64 / SEC as f64)
        };
        let _ = write!(
            c,
            "\nvrrp_instance {} {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {}\n  \
             priority {prio}\n  advert_int {adv}\n  version {}\n",
            i.name, i.vrid, i.version
        );
        if i.version == 2 {
            c.push_str("  authentication {\n    auth_type PASS\n    auth_pass chaos\n  }\n");
        }
        let _ = writeln!(
            c,
            "  virtual_ipaddress {{\n    {}/{}\n  }}",
            i.vip, i.prefix_len
        );
        if i.scripted {
            c.push_str("  track_script {\n    chk_file\n  }\n");
        }
        c.push_str("}\n");
    }
    if broken {
        c.push_str("\nvrrp_instance BROKEN {\n  virtual_router_id 300\n  priority {{{\n");
    }
    c
}

/// A timed action the injector has to undo later.
#[derive(Debug, Clone)]
enum Undo {
    Cont { host: usize, pid: i32 },
    LinkUp { host: usize },
    NftDel { table: String, host: usize },
    TcDel { host: usize },
    ScriptOk { host: usize },
    RestoreConf { host: usize },
}

/// Per host, an open span (deaf or ineligible) and what opened it.
#[derive(Debug, Default, Clone)]
struct Open {
    deaf: Vec<(String, T)>,
    inelig: Vec<(String, T, Cause, bool)>,
}

struct Campaign {
    o: Opts,
    t0: Instant,
    rng: Rng,
    lan: ka_tests::Lan,
    hosts: Vec<Host>,
    generation: Vec<u32>,
    out: PathBuf,
    events: Vec<(T, Option<usize>, String)>,
    faults: u64,
    pending: Vec<(T, Undo)>,
    /// When to start a gone daemon again.
    restart_at: Vec<Option<T>>,
    /// Last time a signal fault or a restart hit each host.
    last_hit: Vec<Option<T>>,
    /// Last SIGHUP of each host's parent.
    last_hup: Vec<Option<T>>,
    /// Last SIGKILL of each host's VRRP child.
    last_vrrp_kill: Vec<Option<T>>,
    /// VRRP child up on each host: since when down (and why), if down.
    vrrp_down: Vec<Option<(T, Cause)>>,
    /// The VRRP child that was running when the host went down (a SIGTERM, a restart):
    /// while it lives on (keepalived takes up to a second to leave), the host is still
    /// going down; only another child is a new start.
    vrrp_down_pid: Vec<Option<i32>>,
    open: Vec<Open>,
    deaf: Vec<Vec<Span>>,
    inelig: Vec<Vec<Inelig>>,
    collateral: Vec<(T, Option<usize>, String)>,
    /// keepalived 2.2.7's own known defects (its exit on a reload with a broken config and
    /// what follows from it), listed and counted apart like its child-kill outage.
    ka_own: Vec<(T, Option<usize>, String)>,
    /// When a keepalived host's parent last exited on a broken reload.
    ka_exit: Vec<Option<T>>,
    /// The running parent was sent SIGTERM or SIGKILL (term-parent, kill-parent, restart):
    /// its exit is that signal's, even after a later SIGHUP (a stopped parent handles the
    /// pending SIGTERM when it is continued, whatever came in between). When it was told:
    /// an exit however late is that stop's (a stop held up by a starved or blocked child
    /// ends minutes later), and one later than [`SLOW_STOP`] is listed as slow.
    parent_told_to_stop: Vec<Option<T>>,
    /// Per host: spans during which VIPs were left behind by that exit (closed at the
    /// next start, which removes them), and the one still open.
    left: Vec<Vec<Span>>,
    left_open: Vec<Option<T>>,
    /// Per host: spans of the `netem` fault (frames it sends delayed), and the open one.
    delayed: Vec<Vec<Span>>,
    delayed_open: Vec<Option<T>>,
    /// pid -> (host, role, first seen, first-minute max rss, max fds, strikes, reported)
    /// Keyed by (pid, start time): pids are reused within an hour of restarts, and a new
    /// process must not be judged against an old one's first minute.
    res: HashMap<(i32, u64), ResTrack>,
    zombies: HashMap<i32, T>,
    zombie_reported: Vec<i32>,
    netem_ok: bool,
    nft_ok: bool,
    /// The userspace netem stand-in on each host's port, while one runs.
    shapers: Vec<Option<shaper::Shaper>>,
    stall: Vec<Stall>,
    /// Stalls seen: (host, from, to).
    stalls: Vec<(usize, T, T)>,
    /// Stops that took longer than [`SLOW_STOP`]: (host, told, exited).
    slow_stops: Vec<(usize, T, T)>,
}

#[derive(Debug, Clone, Default)]
struct Stall {
    last_pass: Option<T>,
    /// (pid, run_delay ns) at the last pass.
    last_delay: Option<(i32, u64)>,
    was_d: bool,
    open: Option<T>,
    /// The current run of passes spent mostly waiting for a CPU: since when, and the
    /// run-queue wait it added up to (ns).
    wait_from: Option<T>,
    wait_sum: u64,
}

#[derive(Debug, Clone)]
struct ResTrack {
    host: usize,
    role: Role,
    first: T,
    last: T,
    rss: u64,
    fds: u64,
    strikes: u32,
    reported: bool,
}

impl Campaign {
    fn now(&self) -> T {
        since(self.t0)
    }

    fn log(&mut self, host: Option<usize>, text: String) {
        let t = self.now();
        let who = host.map(|h| format!("h{h} ")).unwrap_or_default();
        eprintln!("[{:>9.3}] {who}{text}", t as f64 / SEC as f64);
        self.events.push((t, host, text));
    }

    fn conf_text(&self, h: usize, broken: bool) -> String {
        config(h, &self.hosts[h].fail_file(), self.generation[h], broken)
    }

    fn start(&mut self, h: usize) -> Result<(), String> {
        let text = self.conf_text(h, false);
        let now = self.now();
        if self.vrrp_down[h].is_none() {
            self.vrrp_down[h] = Some((now, Cause::Other));
        }
        self.vrrp_down_pid[h] = None;
        self.parent_told_to_stop[h] = None;
        self.hosts[h].seen = [None; 3];
        self.hosts[h].start(&text)?;
        self.restart_at[h] = None;
        if let Some(from) = self.left_open[h].take() {
            // The new daemon clears what the old one left within a few ms of its start.
            self.left[h].push(Span::new(from, now + 500 * MS));
        }
        let imp = self.hosts[h].imp.name();
        self.log(Some(h), format!("start {imp}"));
        Ok(())
    }

    fn open_deaf(&mut self, h: usize, tag: &str) {
        let now = self.now();
        self.open[h].deaf.push((tag.to_string(), now));
    }

    fn close_deaf(&mut self, h: usize, tag: &str, extra: T) {
        let now = self.now();
        if let Some(p) = self.open[h].deaf.iter().position(|(t, _)| t == tag) {
            let (_, from) = self.open[h].deaf.remove(p);
            self.deaf[h].push(Span::new(from, now + extra));
        }
    }

    fn open_inelig(&mut self, h: usize, tag: &str, scripted_only: bool) {
        let now = self.now();
        self.open[h]
            .inelig
            .push((tag.to_string(), now, Cause::Other, scripted_only));
    }

    fn close_inelig(&mut self, h: usize, tag: &str, extra: T) {
        let now = self.now();
        if let Some(p) = self.open[h].inelig.iter().position(|(t, ..)| t == tag) {
            let (_, from, cause, so) = self.open[h].inelig.remove(p);
            self.inelig[h].push(Inelig {
                span: Span::new(from, now + extra),
                cause,
                scripted_only: so,
            });
        }
    }

    /// Mark the VRRP side of host h down from now (a kill or stop we are about to send).
    fn vrrp_going_down(&mut self, h: usize, cause: Cause) {
        let now = self.now();
        if self.vrrp_down[h].is_none() {
            self.vrrp_down[h] = Some((now, cause));
            self.vrrp_down_pid[h] = self.hosts[h].pid(Role::Vrrp);
        }
    }

    fn hit(&mut self, h: usize) {
        self.last_hit[h] = Some(self.now());
    }

    fn recently_hit(&self, h: usize) -> bool {
        let now = self.now();
        self.last_hit[h].is_some_and(|t| now.saturating_sub(t) <= 5 * SEC)
    }

    /// One monitoring pass over every host's processes.
    fn monitor(&mut self) -> Result<(), String> {
        let now = self.now();
        for h in 0..self.hosts.len() {
            // Told to stop and not gone yet: what goes away now goes with that stop.
            let stopping = self.parent_told_to_stop[h].is_some();
            if let Some((status, crash)) = self.hosts[h].reap() {
                let hit = self.recently_hit(h);
                self.log(Some(h), format!("parent exited: {status}"));
                let told = self.parent_told_to_stop[h].take();
                let after_hup = self.last_hup[h]
                    .is_some_and(|t| now.saturating_sub(t) <= RELOAD_EXIT)
                    && told.is_none();
                if let Some(t) = told.filter(|&t| now.saturating_sub(t) > SLOW_STOP) {
                    self.log(
                        Some(h),
                        format!(
                            "(slow stop: told to stop at {}, {} ms ago)",
                            fmt_t(t),
                            now.saturating_sub(t) / MS
                        ),
                    );
                    self.slow_stops.push((h, t, now));
                }
                if crash {
                    self.collateral
                        .push((now, Some(h), format!("parent crashed: {status}")));
                } else if after_hup && self.hosts[h].imp == Imp::Keepalived {
                    // keepalived 2.2.7 exits on a reload with a broken config, its VIPs
                    // left installed: its known defect, counted apart.
                    self.ka_own.push((
                        now,
                        Some(h),
                        format!("keepalived exited on a reload with a broken config: {status}"),
                    ));
                    self.ka_exit[h] = Some(now);
                    self.left_open[h] = Some(now);
                } else if after_hup {
                    // A reload is no licence to die, whatever other fault came before.
                    self.collateral.push((
                        now,
                        Some(h),
                        format!("parent exited within 2 s of a SIGHUP (reload): {status}"),
                    ));
                } else if !hit && told.is_none() {
                    self.collateral.push((
                        now,
                        Some(h),
                        format!("parent exited with no fault on this host: {status}"),
                    ));
                }
                if self.restart_at[h].is_none() {
                    let d = self.rng.ms(1_000, 4_000) * MS;
                    self.restart_at[h] = Some(now + d);
                }
            }
            let running = self.hosts[h].child.is_some();
            for (ri, role) in Role::ALL.into_iter().enumerate() {
                let cur = if running {
                    self.hosts[h].pid(role)
                } else {
                    None
                };
                let prev = self.hosts[h].seen[ri];
                if let Some(p) = prev {
                    if cur != Some(p) && !lab::alive(p) {
                        // A process we saw went away.
                        let hit = self.recently_hit(h);
                        self.log(Some(h), format!("{} {p} gone", role.name()));
                        // keepalived's children may go a pass before its parent is reaped.
                        let within =
                            |t: Option<T>| t.is_some_and(|t| now.saturating_sub(t) <= RELOAD_EXIT);
                        let ka_exit = within(self.ka_exit[h])
                            || (self.hosts[h].imp == Imp::Keepalived && within(self.last_hup[h]));
                        if !hit && ka_exit {
                            self.ka_own.push((
                                now,
                                Some(h),
                                format!("{} {p} gone with its exiting parent", role.name()),
                            ));
                        } else if !hit && !stopping {
                            self.collateral.push((
                                now,
                                Some(h),
                                format!("{} {p} died with no fault on this host", role.name()),
                            ));
                        }
                        self.hosts[h].seen[ri] = None;
                    }
                }
                if let Some(c) = cur {
                    if self.hosts[h].seen[ri] != Some(c) {
                        self.hosts[h].seen[ri] = Some(c);
                        self.log(Some(h), format!("{} {c} up", role.name()));
                    }
                }
            }
            // Stalls we did not inject (the machine is shared): the VRRP child blocked
            // (state D) on two passes in a row, or waiting 50 ms or more for a CPU over
            // consecutive passes in each of which it waited at least half the time (a
            // wait spans passes: another real-time task's 100 ms SCHED_RR slice shows as
            // 30-40 ms per pass). The host is then deaf and not eligible, like a stopped
            // one; the stalls are counted in the report.
            let vpid = if running {
                self.hosts[h].pid(Role::Vrrp)
            } else {
                None
            };
            let (dstate, delay) = match vpid {
                Some(p) => (
                    lab::proc_state(p).is_some_and(|(s, _)| s == 'D'),
                    lab::run_delay(p),
                ),
                None => (false, None),
            };
            let waited = match (delay, self.stall[h].last_delay) {
                (Some(d), Some((pp, l))) if Some(pp) == vpid => d.saturating_sub(l),
                _ => 0,
            };
            let since_pass = self.stall[h].last_pass.map_or(0, |t| now.saturating_sub(t));
            // run_delay is in ns, pass times in µs.
            if waited > 0 && waited / 1_000 * 2 >= since_pass {
                if self.stall[h].wait_from.is_none() {
                    self.stall[h].wait_from = self.stall[h].last_pass;
                    self.stall[h].wait_sum = 0;
                }
                self.stall[h].wait_sum += waited;
            } else {
                self.stall[h].wait_from = None;
                self.stall[h].wait_sum = 0;
            }
            let starved = self.stall[h].wait_sum >= 50_000_000;
            self.stall[h].last_delay = vpid.zip(delay);
            let d_twice = dstate && self.stall[h].was_d;
            self.stall[h].was_d = dstate;
            match (d_twice || starved, self.stall[h].open) {
                (true, None) => {
                    let from = self.stall[h]
                        .wait_from
                        .filter(|_| starved)
                        .or(self.stall[h].last_pass)
                        .unwrap_or(now);
                    self.stall[h].open = Some(from);
                }
                (false, Some(from)) => {
                    self.stall[h].open = None;
                    self.deaf[h].push(Span::new(from, now));
                    self.inelig[h].push(Inelig {
                        span: Span::new(from, now),
                        cause: Cause::Other,
                        scripted_only: false,
                    });
                    self.stalls.push((h, from, now));
                    self.log(
                        Some(h),
                        format!(
                            "(stall: VRRP child blocked or starved for {} ms, not injected)",
                            (now - from) / MS
                        ),
                    );
                }
                _ => {}
            }
            self.stall[h].last_pass = Some(now);
            // The child that was running when the host went down is not a new start.
            let vrrp_up = running && vpid.is_some() && vpid != self.vrrp_down_pid[h];
            match (vrrp_up, self.vrrp_down[h]) {
                (true, Some((from, cause))) => {
                    // The new child's pid file appears when it is forked; its timers start
                    // after the handshake and socket set-up (15-25 ms measured here).
                    self.inelig[h].push(Inelig {
                        span: Span::new(from, now + CHILD_START),
                        cause,
                        scripted_only: false,
                    });
                    self.vrrp_down[h] = None;
                    self.vrrp_down_pid[h] = None;
                    if self.hosts[h].imp == Imp::Keepalived {
                        if let Some(from) = self.left_open[h].take() {
                            // The new child removes them as it starts.
                            self.left[h].push(Span::new(from, now + 500 * MS));
                        }
                    }
                }
                (false, None) => {
                    let cause = match self.last_vrrp_kill[h] {
                        Some(k) if now.saturating_sub(k) < SEC && running => Cause::ChildKill {
                            keepalived: self.hosts[h].imp == Imp::Keepalived,
                        },
                        _ => Cause::Other,
                    };
                    // Lenient: from the last pass (it went down somewhere since).
                    self.vrrp_down[h] = Some((now.saturating_sub(20 * MS), cause));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// RSS / fd / zombie sampling (once a second).
    fn sample(&mut self) {
        let now = self.now();
        let mut pids: Vec<(i32, usize, Role)> = Vec::new();
        for (h, host) in self.hosts.iter().enumerate() {
            for (ri, role) in Role::ALL.into_iter().enumerate() {
                if let Some(p) = host.seen[ri] {
                    pids.push((p, h, role));
                }
            }
        }
        for &(p, h, role) in &pids {
            let (Some((rss, fds)), Some(started)) = (lab::resources(p), lab::start_time(p)) else {
                continue;
            };
            let e = self.res.entry((p, started)).or_insert(ResTrack {
                host: h,
                role,
                first: now,
                last: now,
                rss,
                fds,
                strikes: 0,
                reported: false,
            });
            e.last = now;
            if now - e.first <= 60 * SEC {
                e.rss = e.rss.max(rss);
                e.fds = e.fds.max(fds);
                continue;
            }
            let over = rss * 10 > e.rss * 11 || fds * 10 > e.fds * 11;
            e.strikes = if over { e.strikes + 1 } else { 0 };
            if e.strikes >= 2 && !e.reported {
                e.reported = true;
                let msg = format!(
                    "{} {p} grew: RSS {rss} kB (first minute max {}), fds {fds} (first minute max {})",
                    e.role.name(),
                    e.rss,
                    e.fds
                );
                let host = e.host;
                self.collateral.push((now, Some(host), msg));
            }
        }
        // Zombies: children of a daemon process in state Z.
        let daemon_pids: Vec<i32> = pids.iter().map(|p| p.0).collect();
        let mut seen_now = Vec::new();
        if let Ok(rd) = std::fs::read_dir("/proc") {
            for e in rd.flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                    continue;
                };
                if let Some(('Z', ppid)) = lab::proc_state(pid) {
                    if daemon_pids.contains(&ppid) {
                        seen_now.push(pid);
                        // A stopped parent (the `stop-*` faults) cannot reap: its 2 s run
                        // from when it can (a CI run: a tracked script exited while its
                        // VRRP child was stopped for 3.8 s).
                        let parent_stopped = matches!(lab::proc_state(ppid), Some(('T' | 't', _)));
                        if parent_stopped {
                            self.zombies.insert(pid, now);
                        }
                        let first = *self.zombies.entry(pid).or_insert(now);
                        if now - first >= 2 * SEC && !self.zombie_reported.contains(&pid) {
                            self.zombie_reported.push(pid);
                            let host = pids.iter().find(|x| x.0 == ppid).map(|x| x.1);
                            self.collateral.push((
                                now,
                                host,
                                format!("zombie {pid} (child of {ppid}) for 2 s"),
                            ));
                        }
                    }
                }
            }
        }
        self.zombies.retain(|p, _| seen_now.contains(p));
    }

    fn port(h: usize) -> String {
        format!("p{h}")
    }

    fn sw(&self) -> String {
        self.lan.switch.name().to_string()
    }

    fn undo(&mut self, u: Undo) {
        match u {
            Undo::Cont { host, pid } => {
                signal(pid, Signal::SIGCONT);
                self.log(Some(host), format!("SIGCONT {pid}"));
                self.close_deaf(host, &format!("stop{pid}"), 0);
                self.close_inelig(host, &format!("stop{pid}"), 0);
            }
            Undo::LinkUp { host } => {
                let sw = self.sw();
                if let Err(e) = lab::ip(&["-n", &sw, "link", "set", &Self::port(host), "up"]) {
                    self.log(Some(host), format!("link up failed: {e}"));
                }
                self.log(Some(host), "link up (heal)".into());
                self.close_deaf(host, "link", 0);
                self.close_inelig(host, "link", 0);
            }
            Undo::NftDel { table, host } => {
                let sw = self.sw();
                let fam = if table.starts_with("dup") {
                    "netdev"
                } else {
                    "bridge"
                };
                let _ = lab::ns_exec(&sw, "nft", &["delete", "table", fam, &table], None);
                self.log(Some(host), format!("{table} off"));
                if table.starts_with("loss") {
                    self.close_deaf(host, "loss", 0);
                }
            }
            Undo::TcDel { host } => {
                if let Some(sh) = self.shapers[host].take() {
                    let c = sh.stop();
                    self.log(
                        Some(host),
                        format!(
                            "netem off (frames moved {}, lost {}, duplicated {}, reordered {})",
                            c.moved, c.lost, c.duplicated, c.reordered
                        ),
                    );
                    self.close_deaf(host, "netem", 60 * MS);
                    if let Some(from) = self.delayed_open[host].take() {
                        let now = self.now();
                        self.delayed[host].push(Span::new(from, now + check::NETEM_DELAY));
                    }
                    return;
                }
                let sw = self.sw();
                let _ = lab::ns_exec(
                    &sw,
                    "tc",
                    &["qdisc", "del", "dev", &Self::port(host), "root"],
                    None,
                );
                self.log(Some(host), "netem off".into());
                // Frames already delayed still arrive for up to the delay + jitter.
                self.close_deaf(host, "netem", 60 * MS);
                if let Some(from) = self.delayed_open[host].take() {
                    let now = self.now();
                    self.delayed[host].push(Span::new(from, now + check::NETEM_DELAY));
                }
            }
            Undo::ScriptOk { host } => {
                let _ = std::fs::remove_file(self.hosts[host].fail_file());
                self.log(Some(host), "script passes again".into());
                // The script runs every second and must pass once (rise 1).
                self.close_inelig(host, "script", 2 * SEC);
            }
            Undo::RestoreConf { host } => {
                let text = self.conf_text(host, false);
                let _ = std::fs::write(self.hosts[host].conf(), text);
            }
        }
    }

    /// Pick and inject one fault. Returns false when nothing feasible was drawn.
    fn inject(&mut self) -> bool {
        for _ in 0..8 {
            let kind = self.o.faults[self.rng.below(self.o.faults.len() as u64) as usize];
            let h = self.rng.below(self.hosts.len() as u64) as usize;
            if self.try_fault(kind, h) {
                self.faults += 1;
                return true;
            }
        }
        false
    }

    fn busy(&self, h: usize, tag: &str) -> bool {
        self.open[h].deaf.iter().any(|(t, _)| t == tag)
            || self.open[h].inelig.iter().any(|(t, ..)| t == tag)
    }

    fn try_fault(&mut self, kind: &str, h: usize) -> bool {
        let now = self.now();
        let running = self.hosts[h].child.is_some() && self.restart_at[h].is_none();
        let role = |k: &str| {
            if k.ends_with("parent") {
                Role::Parent
            } else if k.ends_with("vrrp") {
                Role::Vrrp
            } else {
                Role::Checker
            }
        };
        match kind {
            "kill-parent" | "kill-vrrp" | "kill-checker" | "term-parent" | "term-vrrp"
            | "term-checker" => {
                let r = role(kind);
                let Some(pid) = self.hosts[h].pid(r).filter(|_| running) else {
                    return false;
                };
                let kill = kind.starts_with("kill");
                self.hit(h);
                match (r, kill) {
                    (Role::Vrrp, true) => {
                        self.last_vrrp_kill[h] = Some(now);
                        if self.hosts[h].imp == Imp::Keepalived && self.left_open[h].is_none() {
                            // keepalived's killed child leaves its VIPs installed until
                            // the next child (started after a respawn delay) removes them:
                            // its known defect, counted apart like a reload exit's.
                            self.left_open[h] = Some(now);
                        }
                        let c = Cause::ChildKill {
                            keepalived: self.hosts[h].imp == Imp::Keepalived,
                        };
                        self.vrrp_going_down(h, c);
                    }
                    (Role::Parent, _) | (Role::Vrrp, false) => {
                        self.vrrp_going_down(h, Cause::Other)
                    }
                    _ => {}
                }
                if r == Role::Parent {
                    // Its exit is ours now, not the reload's.
                    self.last_hup[h] = None;
                    self.parent_told_to_stop[h] = Some(self.now());
                }
                let sig = if kill {
                    Signal::SIGKILL
                } else {
                    Signal::SIGTERM
                };
                signal(pid, sig);
                self.log(Some(h), format!("{kind}: {sig} to {} {pid}", r.name()));
                true
            }
            "stop-parent" | "stop-vrrp" | "stop-checker" => {
                let r = role(kind);
                let Some(pid) = self.hosts[h].pid(r).filter(|_| running) else {
                    return false;
                };
                if self.busy(h, &format!("stop{pid}")) {
                    return false;
                }
                self.hit(h);
                if r == Role::Vrrp {
                    self.open_deaf(h, &format!("stop{pid}"));
                    self.open_inelig(h, &format!("stop{pid}"), false);
                }
                signal(pid, Signal::SIGSTOP);
                let d = self.rng.ms(300, 4_000);
                self.log(
                    Some(h),
                    format!("{kind}: SIGSTOP {} {pid} for {d} ms", r.name()),
                );
                self.pending
                    .push((now + d * MS, Undo::Cont { host: h, pid }));
                true
            }
            "hup-valid" | "hup-broken" => {
                let Some(pid) = self.hosts[h].pid(Role::Parent).filter(|_| running) else {
                    return false;
                };
                let broken = kind == "hup-broken";
                if !broken {
                    self.generation[h] += 1;
                }
                let text = self.conf_text(h, broken);
                if std::fs::write(self.hosts[h].conf(), text).is_err() {
                    return false;
                }
                self.last_hup[h] = Some(now);
                signal(pid, Signal::SIGHUP);
                self.log(
                    Some(h),
                    format!(
                        "{kind}: SIGHUP to parent {pid} ({})",
                        if broken {
                            "broken config".to_string()
                        } else {
                            format!("router_id generation {}", self.generation[h])
                        }
                    ),
                );
                if broken {
                    self.pending
                        .push((now + SEC, Undo::RestoreConf { host: h }));
                }
                true
            }
            "link" => {
                if self.busy(h, "link") {
                    return false;
                }
                let sw = self.sw();
                self.open_deaf(h, "link");
                self.open_inelig(h, "link", false);
                if lab::ip(&["-n", &sw, "link", "set", &Self::port(h), "down"]).is_err() {
                    return false;
                }
                let d = self.rng.ms(500, 6_000);
                self.log(Some(h), format!("link: port down (partition) for {d} ms"));
                self.pending.push((now + d * MS, Undo::LinkUp { host: h }));
                true
            }
            "loss" => {
                if !self.nft_ok || self.busy(h, "loss") {
                    return false;
                }
                let pct = [20, 50, 90, 100][self.rng.below(4) as usize];
                let table = format!("loss{h}");
                let rules = format!(
                    "table bridge {table} {{\n  chain chaos {{\n    type filter hook forward priority 0; policy accept;\n    \
                     oifname \"{}\" {}drop\n  }}\n}}\n",
                    Self::port(h),
                    if pct >= 100 { String::new() } else { format!("numgen random mod 100 < {pct} ") }
                );
                let sw = self.sw();
                self.open_deaf(h, "loss");
                if let Err(e) = lab::ns_exec(&sw, "nft", &["-f", "-"], Some(&rules)) {
                    self.log(Some(h), format!("(loss failed: {e})"));
                    self.open[h].deaf.retain(|(t, _)| t != "loss");
                    return false;
                }
                let d = self.rng.ms(1_000, 8_000);
                self.log(
                    Some(h),
                    format!("loss: {pct} % of frames to the host dropped for {d} ms"),
                );
                self.pending
                    .push((now + d * MS, Undo::NftDel { table, host: h }));
                true
            }
            "dup" => {
                let table = format!("dup{h}");
                if !self.nft_ok
                    || self
                        .pending
                        .iter()
                        .any(|(_, u)| matches!(u, Undo::NftDel { table: t, .. } if *t == table))
                {
                    return false;
                }
                let pct = [10, 50, 100][self.rng.below(3) as usize];
                let mut rules = format!("table netdev {table} {{\n");
                for o in (0..self.hosts.len()).filter(|&o| o != h) {
                    let _ = write!(
                        rules,
                        "  chain from{o} {{\n    type filter hook ingress device \"{}\" priority 0; policy accept;\n    \
                         {}dup to \"{}\"\n  }}\n",
                        Self::port(o),
                        if pct >= 100 { String::new() } else { format!("numgen random mod 100 < {pct} ") },
                        Self::port(h)
                    );
                }
                rules.push_str("}\n");
                let sw = self.sw();
                if let Err(e) = lab::ns_exec(&sw, "nft", &["-f", "-"], Some(&rules)) {
                    self.log(Some(h), format!("(dup failed: {e})"));
                    return false;
                }
                let d = self.rng.ms(1_000, 8_000);
                self.log(
                    Some(h),
                    format!("dup: {pct} % of frames to the host duplicated for {d} ms"),
                );
                self.pending
                    .push((now + d * MS, Undo::NftDel { table, host: h }));
                true
            }
            "netem" => {
                if self.busy(h, "netem") || self.shapers[h].is_some() {
                    return false;
                }
                self.open_deaf(h, "netem");
                self.delayed_open[h] = Some(now);
                // The kernel's netem where it exists, else the userspace shaper.
                let how = if self.netem_ok {
                    let args = [
                        "qdisc",
                        "add",
                        "dev",
                        &Self::port(h),
                        "root",
                        "netem",
                        "delay",
                        "20ms",
                        "10ms",
                        "loss",
                        "5%",
                        "duplicate",
                        "5%",
                        "reorder",
                        "25%",
                    ];
                    lab::ns_exec(&self.sw(), "tc", &args, None)
                        .map(|_| "")
                        .map_err(|e| e.to_string())
                } else {
                    let seed = self.rng.next_u64();
                    shaper::Shaper::start(&self.sw(), "br0", &Self::port(h), &h.to_string(), seed)
                        .map(|sh| {
                            self.shapers[h] = Some(sh);
                            " (userspace shaper)"
                        })
                        .map_err(|e| e.to_string())
                };
                let how = match how {
                    Ok(how) => how,
                    Err(e) => {
                        self.log(Some(h), format!("(netem failed: {e})"));
                        self.open[h].deaf.retain(|(t, _)| t != "netem");
                        self.delayed_open[h] = None;
                        return false;
                    }
                };
                let d = self.rng.ms(1_000, 8_000);
                self.log(
                    Some(h),
                    format!(
                        "netem: delay 20±10 ms, loss 5 %, dup 5 %, reorder 25 % for {d} ms{how}"
                    ),
                );
                self.pending.push((now + d * MS, Undo::TcDel { host: h }));
                true
            }
            "script" => {
                if self.busy(h, "script") {
                    return false;
                }
                self.open_inelig(h, "script", true);
                if std::fs::write(self.hosts[h].fail_file(), b"fail\n").is_err() {
                    return false;
                }
                let d = self.rng.ms(1_000, 8_000);
                self.log(Some(h), format!("script: tracked script fails for {d} ms"));
                self.pending
                    .push((now + d * MS, Undo::ScriptOk { host: h }));
                true
            }
            "restart" => {
                let Some(pid) = self.hosts[h].pid(Role::Parent).filter(|_| running) else {
                    return false;
                };
                self.hit(h);
                self.last_hup[h] = None;
                self.parent_told_to_stop[h] = Some(self.now());
                self.vrrp_going_down(h, Cause::Other);
                signal(pid, Signal::SIGTERM);
                self.log(Some(h), format!("restart: SIGTERM to parent {pid}"));
                // Started again by the monitor once it is gone (restart_at = now).
                self.restart_at[h] = Some(now);
                true
            }
            _ => false,
        }
    }

    fn vips(&self) -> Vec<Vip> {
        INSTANCES
            .iter()
            .map(|i| Vip {
                name: format!("{} {}", i.name, i.vip),
                adv: i.adv,
                mdi: (0..self.hosts.len()).map(|h| mdi(i, PRIOS[h])).collect(),
                scripted: i.scripted,
            })
            .collect()
    }
}

fn fmt_t(t: T) -> String {
    format!("{:.3}", t as f64 / SEC as f64)
}

/// The text around one violation: the fault timeline and the adverts seen.
fn context(events: &[(T, Option<usize>, String)], adverts: &[Advert], from: T, to: T) -> String {
    let mut s = String::new();
    let lo = from.saturating_sub(8 * SEC);
    for (t, h, e) in events.iter().filter(|e| e.0 >= lo && e.0 <= to + SEC) {
        let who = h.map(|h| format!("h{h} ")).unwrap_or_default();
        let _ = writeln!(s, "    [{:>9}] {who}{e}", fmt_t(*t));
    }
    // Adverts per (sender, family, vrid) in [from - 5 s, to + 0.5 s]: when, at which
    // priority (a gap in a sender's adverts, or a backup that heard none, shows here).
    type Key = (String, bool, u8);
    let mut per: std::collections::BTreeMap<Key, Vec<(T, u8)>> = Default::default();
    for a in adverts
        .iter()
        .filter(|a| a.at + 5 * SEC >= from && a.at <= to + SEC / 2)
    {
        let who = a.host.map(|h| format!("h{h}")).unwrap_or("?".into());
        per.entry((who, a.v6, a.vrid))
            .or_default()
            .push((a.at, a.prio));
    }
    if per.is_empty() {
        s.push_str("    adverts on the bridge from -5 s: none\n");
    }
    for ((who, v6, vrid), seen) in per {
        let shown: Vec<String> = seen
            .iter()
            .take(24)
            .map(|(t, p)| format!("{}/{p}", fmt_t(*t)))
            .collect();
        let _ = writeln!(
            s,
            "    adverts from {who} {} vrid {vrid} (at/priority): {}{}",
            if v6 { "IPv6" } else { "IPv4" },
            shown.join(" "),
            if seen.len() > 24 { " …" } else { "" }
        );
    }
    s
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"))
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Does `tc qdisc add ... netem` work on this kernel? (Checked in a throwaway namespace.)
fn netem_works() -> bool {
    let ns = ka_tests::Netns::new("nq");
    let ok = lab::ip(&[
        "-n",
        ns.name(),
        "link",
        "add",
        "q0",
        "type",
        "veth",
        "peer",
        "name",
        "q1",
    ])
    .is_ok()
        && lab::ns_exec(
            ns.name(),
            "tc",
            &["qdisc", "add", "dev", "q0", "root", "netem", "delay", "1ms"],
            None,
        )
        .is_ok();
    ok
}

/// Run a campaign; Ok(number of violations).
pub fn run(args: &[String]) -> Result<usize, String> {
    let o = parse(args)?;
    if !is_root() {
        return Err("chaos needs root (network namespaces)".into());
    }
    install_stop_handler();
    let mut pkgs: Vec<(&str, &str)> =
        vec![("/usr/sbin/ip", "iproute2"), ("/usr/sbin/tc", "iproute2")];
    pkgs.push(("/usr/sbin/nft", "nftables"));
    if o.peer.is_some() || o.reference {
        pkgs.push(("/usr/sbin/keepalived", "keepalived"));
    }
    crate::setup::ensure_packages(&pkgs)?;
    let ours = if o.reference {
        PathBuf::new()
    } else {
        let mut c = crate::cargo();
        c.args(["build", "-p", "keepalived-rs"]);
        if o.release {
            c.arg("--release");
        }
        crate::run(&mut c)?;
        target_dir()
            .join(if o.release { "release" } else { "debug" })
            .join("keepalived-rs")
    };
    let netem_ok = netem_works();
    let nft_ok = std::path::Path::new("/usr/sbin/nft").exists();
    let mut faults = o.faults.clone();
    if !netem_ok {
        eprintln!("chaos: `tc qdisc ... netem` is not available on this kernel: fault `netem` uses a userspace shaper on the port instead (loss and dup use nftables)");
    }
    if !nft_ok {
        faults.retain(|f| *f != "loss" && *f != "dup");
    }
    if faults.is_empty() {
        return Err("no fault kind left to inject".into());
    }
    let o = Opts { faults, ..o };
    let run_name = format!("seed{}-{}", o.seed, std::process::id());
    let out = target_dir().join("chaos").join(&run_name);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let imps: Vec<Imp> = (0..o.hosts)
        .map(|h| {
            if o.reference || o.peer == Some(h) {
                Imp::Keepalived
            } else {
                Imp::Ours
            }
        })
        .collect();
    eprintln!(
        "chaos: seed={} seconds={} hosts={} ({}) faults: {}; output in {}",
        o.seed,
        o.seconds,
        o.hosts,
        imps.iter().map(|i| i.name()).collect::<Vec<_>>().join(", "),
        o.faults.join(","),
        out.display()
    );
    let lan = ka_tests::Lan::new(o.hosts, PREFIX);
    let mut hosts = Vec::new();
    let mut macs = Vec::new();
    for (h, ns) in lan.hosts.iter().enumerate() {
        let n = ns.name().to_string();
        // No duplicate address detection: a VIP on two hosts must show on both (with DAD
        // the second copy would be "dadfailed" and not bindable, hiding the overlap).
        for k in ["all", "default", "eth0"] {
            let _ = lab::ns_exec(
                &n,
                "sysctl",
                &["-qw", &format!("net.ipv6.conf.{k}.accept_dad=0")],
                None,
            );
        }
        macs.push(lab::mac_of(&n).ok_or(format!("no MAC for eth0 in {n}"))?);
        let dir = out.join(format!("h{h}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        hosts.push(Host {
            ns: n,
            imp: imps[h],
            bin: match imps[h] {
                Imp::Ours => ours.clone(),
                Imp::Keepalived => PathBuf::from("/usr/sbin/keepalived"),
            },
            dir,
            child: None,
            seen: [None; 3],
        });
    }
    lan.wait_carrier();
    let t0 = Instant::now();
    let t0_real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let vip_addrs: Vec<IpAddr> = INSTANCES
        .iter()
        .map(|i| i.vip.parse().map_err(|e| format!("{}: {e}", i.vip)))
        .collect::<Result<_, _>>()?;
    let probes: Vec<Probe> = hosts
        .iter()
        .map(|h| Probe::start(&h.ns, vip_addrs.clone(), t0))
        .collect();
    let capture = ka_tests::capture::Capture::start(&lan.switch, "br0", 0x0003);
    let n = o.hosts;
    let mut c = Campaign {
        rng: Rng::new(o.seed),
        o: o.clone(),
        t0,
        lan,
        hosts,
        generation: vec![0; n],
        out: out.clone(),
        events: Vec::new(),
        faults: 0,
        pending: Vec::new(),
        restart_at: vec![None; n],
        last_hit: vec![None; n],
        last_hup: vec![None; n],
        last_vrrp_kill: vec![None; n],
        vrrp_down: vec![None; n],
        vrrp_down_pid: vec![None; n],
        open: vec![Open::default(); n],
        deaf: vec![Vec::new(); n],
        inelig: vec![Vec::new(); n],
        collateral: Vec::new(),
        ka_own: Vec::new(),
        ka_exit: vec![None; n],
        parent_told_to_stop: vec![None; n],
        left: vec![Vec::new(); n],
        left_open: vec![None; n],
        delayed: vec![Vec::new(); n],
        delayed_open: vec![None; n],
        res: HashMap::new(),
        zombies: HashMap::new(),
        zombie_reported: Vec::new(),
        netem_ok,
        nft_ok,
        shapers: (0..n).map(|_| None).collect(),
        stall: vec![Stall::default(); n],
        stalls: Vec::new(),
        slow_stops: Vec::new(),
    };
    let result = campaign(&mut c, probes, capture, &macs, t0_real);
    // Clean up: daemons first (SIGKILL), then the namespaces (Lan's Drop).
    for h in &mut c.hosts {
        h.kill_all();
    }
    result
}

fn campaign(
    c: &mut Campaign,
    probes: Vec<Probe>,
    capture: ka_tests::capture::Capture,
    macs: &[[u8; 6]],
    t0_real: Duration,
) -> Result<usize, String> {
    // Warm-up: host 0 first, until it holds every VIP; then the others.
    c.start(0)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let all_on = |ns: &str| -> bool {
        INSTANCES.iter().all(|i| {
            std::process::Command::new("ip")
                .args(["-n", ns, "addr", "show", "dev", "eth0"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("{}/", i.vip)))
                .unwrap_or(false)
        })
    };
    while !all_on(&c.hosts[0].ns) {
        if Instant::now() > deadline || STOP.load(Ordering::Relaxed) {
            return Err(format!(
                "host 0 never took every VIP; log: {}",
                c.hosts[0].log_path().display()
            ));
        }
        c.monitor()?;
        std::thread::sleep(Duration::from_millis(50));
    }
    for h in 1..c.hosts.len() {
        c.start(h)?;
    }
    let settle = Instant::now() + Duration::from_secs(6);
    while Instant::now() < settle && !STOP.load(Ordering::Relaxed) {
        c.monitor()?;
        std::thread::sleep(Duration::from_millis(20));
    }
    let check_from = c.now();
    c.log(None, "warm-up done: faults start".into());
    let end_at = check_from + c.o.seconds * SEC;
    let mut next_fault = check_from;
    let mut next_sample = check_from;
    while c.now() < end_at && !STOP.load(Ordering::Relaxed) {
        let now = c.now();
        c.monitor()?;
        // Due undo actions, in time order.
        c.pending.sort_by_key(|p| p.0);
        while c.pending.first().is_some_and(|p| p.0 <= now) {
            let (_, u) = c.pending.remove(0);
            c.undo(u);
        }
        // Gone daemons start again when due (once the parent is really gone).
        for h in 0..c.hosts.len() {
            if c.restart_at[h].is_some_and(|t| t <= now) && c.hosts[h].child.is_none() {
                // Leftover children of a killed parent go first (they would hold the
                // pid files and the VIPs of the old instance).
                for r in [Role::Vrrp, Role::Checker] {
                    if let Some(p) = c.hosts[h].seen[r as usize] {
                        if lab::alive(p) {
                            c.log(
                                Some(h),
                                format!("{} {p} still alive after its parent", r.name()),
                            );
                        }
                    }
                }
                c.start(h)?;
            }
        }
        if now >= next_fault {
            c.inject();
            next_fault = now + c.rng.ms(300, 3_000) * MS;
        }
        if now >= next_sample {
            c.sample();
            next_sample = now + SEC;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let end = c.now();
    let seconds = (end - check_from) / SEC;
    c.log(None, "campaign over: healing and checking".into());
    // Close every open span at the end.
    for h in 0..c.hosts.len() {
        for (_, from) in std::mem::take(&mut c.open[h].deaf) {
            c.deaf[h].push(Span::new(from, end));
        }
        for (_, from, cause, so) in std::mem::take(&mut c.open[h].inelig) {
            c.inelig[h].push(Inelig {
                span: Span::new(from, end),
                cause,
                scripted_only: so,
            });
        }
        if let Some(from) = c.left_open[h].take() {
            c.left[h].push(Span::new(from, end));
        }
        if let Some(from) = c.delayed_open[h].take() {
            c.delayed[h].push(Span::new(from, end));
        }
        if let Some(from) = c.stall[h].open.take() {
            c.deaf[h].push(Span::new(from, end));
            c.stalls.push((h, from, end));
        }
        if let Some((from, cause)) = c.vrrp_down[h].take() {
            c.inelig[h].push(Inelig {
                span: Span::new(from, end),
                cause,
                scripted_only: false,
            });
        }
    }
    let pending = std::mem::take(&mut c.pending);
    for (_, u) in pending {
        c.undo(u);
    }
    let mut tracks = Vec::new();
    for p in probes {
        tracks.push(p.finish()?);
    }
    let frames = capture.finish();
    let adverts: Vec<Advert> = frames
        .iter()
        .filter_map(|f| {
            let (host, v6, vrid, prio) = lab::advert(&f.bytes, macs)?;
            let at = f.at.checked_sub(t0_real)?.as_micros() as T;
            Some(Advert {
                at,
                host,
                v6,
                vrid,
                prio,
            })
        })
        .collect();
    // What the probes saw goes into the timeline (after the fact, in time order).
    for (h, t) in tracks.iter().enumerate() {
        for (v, tr) in t.iter().enumerate() {
            for ch in &tr.changes {
                c.events.push((
                    ch.hi,
                    Some(h),
                    format!(
                        "(probe) {} {} (between {} and {})",
                        INSTANCES[v].vip,
                        if ch.present { "on" } else { "off" },
                        fmt_t(ch.lo),
                        fmt_t(ch.hi)
                    ),
                ));
            }
        }
    }
    c.events.sort_by_key(|e| e.0);
    // probe[vip][host]
    let probe: Vec<Vec<check::Track>> = (0..INSTANCES.len())
        .map(|v| tracks.iter().map(|t| t[v].clone()).collect())
        .collect();
    let input = check::Input {
        check_from,
        end,
        vips: c.vips(),
        probe,
        deaf: c.deaf.clone(),
        inelig: c.inelig.clone(),
        left: c.left.clone(),
        delayed: c.delayed.clone(),
    };
    let rep = check::check(&input);
    // Logs: panics, crashes.
    for h in 0..c.hosts.len() {
        let log = std::fs::read_to_string(c.hosts[h].log_path()).unwrap_or_default();
        for line in log.lines() {
            let low = line.to_ascii_lowercase();
            if [
                "panicked",
                "sigsegv",
                "sigabrt",
                "core dumped",
                "stack backtrace",
            ]
            .iter()
            .any(|p| low.contains(p))
            {
                c.collateral
                    .push((end, Some(h), format!("log: {}", line.trim())));
            }
        }
    }
    // The report.
    let mut text = String::new();
    let vips = c.vips();
    let violations: Vec<&check::Finding> = rep.findings.iter().filter(|f| !f.known).collect();
    let known: Vec<&check::Finding> = rep.findings.iter().filter(|f| f.known).collect();
    let outages: Vec<&&check::Finding> = known
        .iter()
        .filter(|f| f.kind == check::Kind::Absent)
        .collect();
    for f in &violations {
        let what = match f.kind {
            check::Kind::Dual => "VIP on two hosts that could hear each other",
            check::Kind::Absent => "VIP on no host while an eligible host had had time to take it",
        };
        let _ = writeln!(
            text,
            "VIOLATION {what}: {} hosts {:?}, from {} s for {} ms",
            vips[f.vip].name,
            f.hosts.iter().map(|h| format!("h{h}")).collect::<Vec<_>>(),
            fmt_t(f.span.from),
            f.span.len() / MS
        );
        text.push_str(&context(&c.events, &adverts, f.span.from, f.span.to));
    }
    for (t, h, what) in &c.collateral {
        let _ = writeln!(
            text,
            "VIOLATION collateral: {}{what} at {} s",
            h.map(|h| format!("h{h} ")).unwrap_or_default(),
            fmt_t(*t)
        );
        text.push_str(&context(&c.events, &adverts, *t, *t));
    }
    for f in &known {
        let what = match f.kind {
            check::Kind::Absent => "known keepalived outage (VRRP child SIGKILL): on no host",
            check::Kind::Dual => {
                "known keepalived defect (VIPs left by its exit on a broken reload or by its killed VRRP child): on two hosts"
            }
        };
        let _ = writeln!(
            text,
            "{what}: {} hosts {:?} from {} s for {} ms",
            vips[f.vip].name,
            f.hosts.iter().map(|h| format!("h{h}")).collect::<Vec<_>>(),
            fmt_t(f.span.from),
            f.span.len() / MS
        );
    }
    for (t, h, what) in &c.ka_own {
        let _ = writeln!(
            text,
            "known keepalived defect: {}{what} at {} s",
            h.map(|h| format!("h{h} ")).unwrap_or_default(),
            fmt_t(*t)
        );
    }
    let nviol = violations.len() + c.collateral.len();
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, _, e) in &c.events {
        if let Some(k) = e.split(':').next().filter(|k| FAULTS.contains(k)) {
            *kinds.entry(k.to_string()).or_default() += 1;
        }
    }
    let _ = writeln!(
        text,
        "faults injected by kind: {}",
        kinds
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let checked = c
        .res
        .values()
        .filter(|r| r.last > r.first + 60 * SEC)
        .count();
    let _ = writeln!(
        text,
        "RSS/fd checked on {checked} of {} processes (those that lived past their first minute)",
        c.res.len()
    );
    let _ = writeln!(
        text,
        "stalls not injected (VRRP child blocked or starved, excused as a frozen host): {}, longest {} ms",
        c.stalls.len(),
        c.stalls.iter().map(|s| s.2 - s.1).max().unwrap_or(0) / MS
    );
    let _ = writeln!(
        text,
        "slow stops (a parent told to stop that took over {} s to exit): {}, longest {} ms",
        SLOW_STOP / SEC,
        c.slow_stops.len(),
        c.slow_stops.iter().map(|s| s.2 - s.1).max().unwrap_or(0) / MS
    );
    let _ = writeln!(
        text,
        "adverts captured: {}; known keepalived child-kill outages: {} (worst {} ms)",
        adverts.len(),
        outages.len(),
        outages.iter().map(|f| f.span.len()).max().unwrap_or(0) / MS
    );
    let left: Vec<&&check::Finding> = known
        .iter()
        .filter(|f| f.kind == check::Kind::Dual)
        .collect();
    let _ = writeln!(
        text,
        "known keepalived exits on a broken reload: {} (processes gone with them: {}); VIPs left on two hosts by them or by its killed VRRP child: {} (worst {} ms)",
        c.ka_own.iter().filter(|e| e.2.starts_with("keepalived exited")).count(),
        c.ka_own.iter().filter(|e| e.2.contains("gone with its exiting parent")).count(),
        left.len(),
        left.iter().map(|f| f.span.len()).max().unwrap_or(0) / MS
    );
    let last = format!(
        "chaos: seed={} seconds={} faults={} violations={} worst_dual_ms={} worst_absent_ms={}",
        c.o.seed,
        seconds,
        c.faults,
        nviol,
        rep.worst_dual / MS,
        rep.worst_absent / MS
    );
    let mut timeline = String::new();
    for (t, h, e) in &c.events {
        let who = h.map(|h| format!("h{h} ")).unwrap_or_default();
        let _ = writeln!(timeline, "[{:>9}] {who}{e}", fmt_t(*t));
    }
    let _ = std::fs::write(c.out.join("timeline.txt"), timeline);
    let _ = std::fs::write(c.out.join("report.txt"), format!("{text}{last}\n"));
    eprint!("{text}");
    eprintln!("chaos: report in {}", c.out.join("report.txt").display());
    println!("{last}");
    Ok(nviol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_down_interval_follows_the_rfcs() {
        // v2, advert 1 s, priority 100: 3 s + (256 - 100) / 256 s.
        assert_eq!(mdi(&INSTANCES[0], 100), 3 * SEC + 609_375);
        // v3, advert 0.5 s, priority 150: 1.5 s + (256 - 150) * 0.5 / 256 s.
        assert_eq!(mdi(&INSTANCES[1], 150), 1_500_000 + 207_031);
    }

    #[test]
    fn config_has_every_instance_and_breaks_only_when_asked() {
        let c = config(1, std::path::Path::new("/tmp/x.fail"), 3, false);
        for i in INSTANCES {
            assert!(c.contains(&format!("vrrp_instance {} {{", i.name)), "{c}");
            assert!(c.contains(i.vip), "{c}");
        }
        assert!(c.contains("priority 100"));
        assert!(c.contains("advert_int 0.50"));
        assert!(c.contains("auth_pass chaos"));
        assert!(c.contains("router_id chaos_h1_g3"));
        assert!(c.contains("test ! -e /tmp/x.fail"));
        assert_eq!(c.matches('{').count(), c.matches('}').count());
        let b = config(1, std::path::Path::new("/tmp/x.fail"), 3, true);
        assert!(b.matches('{').count() > b.matches('}').count());
    }

    #[test]
    fn adverts_are_decoded_from_frames() {
        let mac = [2, 0, 0, 0, 0, 1];
        // Ethernet (IPv4) + a 20-byte IPv4 header (protocol 112) + VRRP vrid 51 prio 150.
        let mut f = vec![0u8; 14 + 20 + 8];
        f[6..12].copy_from_slice(&mac);
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[14 + 9] = 112;
        f[34] = 0x21;
        f[35] = 51;
        f[36] = 150;
        assert_eq!(
            lab::advert(&f, &[[9; 6], mac]),
            Some((Some(1), false, 51, 150))
        );
        // IPv6 with next header 112.
        let mut g = vec![0u8; 14 + 40 + 8];
        g[12..14].copy_from_slice(&[0x86, 0xdd]);
        g[14 + 6] = 112;
        g[55] = 53;
        g[56] = 0;
        assert_eq!(lab::advert(&g, &[mac]), Some((None, true, 53, 0)));
        // Not VRRP, or cut short.
        f[14 + 9] = 17;
        assert_eq!(lab::advert(&f, &[mac]), None);
        assert_eq!(lab::advert(&g[..20], &[mac]), None);
    }
}
