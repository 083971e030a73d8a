//! A real-time child that gets no CPU, and a killed child that does not go.
//!
//! The VRRP child runs SCHED_RR 1 by default (see `vrrp_child::sched`). A task of higher
//! real-time priority spinning on its CPU then gives it nothing at all: the kernel's RT
//! throttling leaves its 5 % to normally scheduled tasks, not to lower real-time ones. Seen
//! in the chaos campaign of 2026-12-06: a test spinning at SCHED_RR 2 for 7.5 minutes froze
//! every keepalived-rs VRRP child on that CPU — no advert, no reaction to a stop, and a
//! SIGKILL that took effect only when the spinner ended — while keepalived, normally
//! scheduled, went on. The parent runs normally scheduled, so it still gets its share: it
//! looks at each child every [`PERIOD`] (`/proc/PID/stat` and `/proc/PID/schedstat`), and a
//! real-time child that was runnable at two looks in a row without running in between
//! (its CPU time unchanged) is dropped to normal scheduling, where the kernel does give it
//! time. (The kernel adds a wait to `run_delay` only when the task finally runs, so a
//! starved task's run delay does not grow while it starves: its CPU time is what tells.)
//!
//! The parent also never waits blocked for a child it killed: a SIGKILL takes effect only
//! when the child next runs (or leaves an uninterruptible sleep), so the loop goes on,
//! says every few seconds what the child is doing, and gives up on it after a bound.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{idx, Parent, Role};

/// How often the children are looked at.
pub const PERIOD: Duration = Duration::from_millis(250);
/// Runnable at two looks and less CPU than this in between is starvation (a task that
/// shares its CPU round-robin gets slices of 100 ms).
const RAN_AT_MOST: Duration = Duration::from_millis(1);
/// After a SIGKILL: how often the parent says the child is still there ...
const NAG_EVERY: Duration = Duration::from_secs(5);
/// ... and when it stops waiting for it.
pub const KILL_GIVE_UP: Duration = Duration::from_secs(30);

/// What `/proc` says of a process's main thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub at: Instant,
    /// CPU time of the main thread, in total (ns).
    pub run_ns: u64,
    /// Runnable (state R): running, or waiting for a CPU.
    pub runnable: bool,
    /// SCHED_FIFO or SCHED_RR.
    pub realtime: bool,
}

/// Reads [`Sample`]s of one child and says when it is starved.
#[derive(Debug, Default)]
pub struct Watch {
    last: Option<Sample>,
    /// Times this child was dropped to normal scheduling.
    pub demotions: u32,
}

impl Watch {
    /// A new sample: `Some(span)` when the child is real-time, was runnable at this sample
    /// and the previous one, and ran less than [`RAN_AT_MOST`] in the `span` between them.
    pub fn next(&mut self, s: Sample) -> Option<Duration> {
        let last = self.last.replace(s)?;
        let span = s.at.saturating_duration_since(last.at);
        let ran = Duration::from_nanos(s.run_ns.saturating_sub(last.run_ns));
        (s.realtime && s.runnable && last.runnable && !span.is_zero() && ran < RAN_AT_MOST)
            .then_some(span)
    }

    /// The child changed (started, exited): forget the last sample.
    pub fn reset(&mut self) {
        self.last = None;
    }
}

/// `/proc/PID/stat` of a process's main thread, and its `/proc/PID/schedstat` only when
/// the CPU time can matter (real-time and runnable): a child asleep, as it nearly always
/// is, costs one read per look.
pub fn read(pid: i32, at: Instant) -> Option<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (runnable, realtime) = state_and_policy(&stat)?;
    if !(runnable && realtime) {
        return Some(Sample {
            at,
            run_ns: 0,
            runnable,
            realtime,
        });
    }
    let schedstat = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    parse(&schedstat, &stat, at)
}

/// (runnable, real-time) from `/proc/PID/stat`.
fn state_and_policy(stat: &str) -> Option<(bool, bool)> {
    let policy: i32 = stat_field(stat, 41)?.parse().ok()?;
    Some((
        stat_field(stat, 3)? == "R",
        policy == libc::SCHED_FIFO || policy == libc::SCHED_RR,
    ))
}

fn parse(schedstat: &str, stat: &str, at: Instant) -> Option<Sample> {
    let run_ns = schedstat.split_whitespace().next()?.parse().ok()?;
    let (runnable, realtime) = state_and_policy(stat)?;
    Some(Sample {
        at,
        run_ns,
        runnable,
        realtime,
    })
}

/// Field `n` (1-based, as proc(5) numbers them) of `/proc/PID/stat`; the command name
/// (field 2) may hold spaces and parentheses, so fields are counted after its last `)`.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(n.checked_sub(3)?)
}

/// Every thread of `pid` to normal scheduling; how many were moved.
pub fn demote(pid: i32) -> usize {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| t.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&tid| vrrp::linux::sched::set_policy(tid, None))
        .count()
}

/// What a process is doing, for the log: its state and, when asleep in the kernel, where.
pub fn describe(pid: i32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = match stat_field(&stat, 3) {
        Some("R") => "runnable but not running",
        Some("D") => "in an uninterruptible sleep",
        Some("S") => "asleep",
        Some("T") | Some("t") => "stopped",
        Some("Z") => "a zombie",
        Some(_) => "in another state",
        None => "gone from /proc",
    };
    let policy = match stat_field(&stat, 41).and_then(|p| p.parse::<i32>().ok()) {
        Some(p) if p == libc::SCHED_RR || p == libc::SCHED_FIFO => {
            let prio = stat_field(&stat, 40).unwrap_or("?");
            format!(", real-time priority {prio}")
        }
        _ => String::new(),
    };
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    match wchan.trim() {
        "" | "0" => format!("{state}{policy}"),
        w => format!("{state}{policy}, waiting in {w}"),
    }
}

/// A child the parent has sent SIGKILL.
#[derive(Debug, Clone, Copy)]
pub struct Killed {
    pub at: Instant,
    nag_at: Instant,
}

impl Parent {
    /// Every [`PERIOD`]: drop a starved real-time child to normal scheduling.
    pub(super) fn starve_tick(&mut self) {
        let now = Instant::now();
        if now < self.starve_at {
            return;
        }
        self.starve_at = now + PERIOD;
        for slot in &mut self.slots {
            let Some(pid) = slot.pid else { continue };
            let Some(sample) = read(pid, now) else {
                continue;
            };
            let Some(waited) = slot.watch.next(sample) else {
                continue;
            };
            let moved = demote(pid);
            slot.watch.demotions += 1;
            let msg = format!(
                "{} child process({pid}) was runnable for {} ms without a CPU at real-time \
                 priority (a task of higher real-time priority holds it): {moved} thread(s) \
                 dropped to normal scheduling",
                slot.role,
                waited.as_millis(),
            );
            if slot.watch.demotions == 1 {
                log::warn!("{msg}");
            } else {
                log::debug!("{msg}");
            }
        }
    }

    /// When the next look at the children is due (none without a child).
    pub(super) fn starve_deadline(&self) -> Option<Instant> {
        self.slots
            .iter()
            .any(|s| s.pid.is_some())
            .then_some(self.starve_at)
    }

    /// While stopping, past the deadline: SIGKILL a child still there, say what a killed
    /// one is doing every [`NAG_EVERY`], and after [`KILL_GIVE_UP`] stop waiting for it
    /// (what it held is released as for a child that died). True when none is left.
    pub(super) fn kill_late_children(&mut self) -> bool {
        let now = Instant::now();
        for role in [Role::Vrrp, Role::Checker] {
            let i = idx(role);
            let Some(pid) = self.slots[i].pid else {
                continue;
            };
            match self.slots[i].killed {
                None => {
                    log::warn!("{role} child process({pid}) did not stop in time: killing it");
                    // Normally scheduled, it dies as soon as the kernel gives it a CPU.
                    demote(pid);
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                    self.slots[i].killed = Some(Killed {
                        at: now,
                        nag_at: now + NAG_EVERY,
                    });
                }
                Some(k) if now.saturating_duration_since(k.at) >= KILL_GIVE_UP => {
                    log::error!(
                        "{role} child process({pid}) is still there {} s after SIGKILL ({}): \
                         no longer waiting for it",
                        KILL_GIVE_UP.as_secs(),
                        describe(pid)
                    );
                    self.forget_child(i, pid);
                    if role == Role::Vrrp {
                        self.release_unattended(true);
                    }
                }
                Some(k) if now >= k.nag_at => {
                    log::warn!(
                        "{role} child process({pid}) is still there {} s after SIGKILL ({})",
                        now.saturating_duration_since(k.at).as_secs(),
                        describe(pid)
                    );
                    self.slots[i].killed = Some(Killed {
                        nag_at: now + NAG_EVERY,
                        ..k
                    });
                }
                Some(_) => {}
            }
        }
        self.slots.iter().all(|s| s.pid.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: Instant, run_us: u64, runnable: bool, realtime: bool) -> Sample {
        Sample {
            at,
            run_ns: run_us * 1000,
            runnable,
            realtime,
        }
    }

    #[test]
    fn a_real_time_child_runnable_without_running_is_starved_and_a_busy_one_is_not() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut w = Watch::default();
        assert_eq!(
            w.next(sample(at(0), 1000, true, true)),
            None,
            "first sample"
        );
        // Runnable at both looks but it ran 40 ms in between: sharing a CPU, not starved.
        assert_eq!(w.next(sample(at(250), 41_000, true, true)), None);
        // Runnable at both looks and it did not run: starved.
        assert_eq!(
            w.next(sample(at(500), 41_200, true, true)),
            Some(Duration::from_millis(250))
        );
        // Asleep now: it ran and went to sleep.
        assert_eq!(w.next(sample(at(750), 41_200, false, true)), None);
        // Asleep at the previous look: no evidence yet.
        assert_eq!(w.next(sample(at(1000), 41_200, true, true)), None);
        // The same stall normally scheduled: nothing the parent can do.
        assert_eq!(w.next(sample(at(1250), 41_200, true, false)), None);
        w.reset();
        assert_eq!(
            w.next(sample(at(1500), 41_200, true, true)),
            None,
            "after a reset"
        );
    }

    #[test]
    fn proc_files_are_read_whatever_the_command_name_holds() {
        let at = Instant::now();
        // Fields 3.. after the name; field 40 is rt_priority and 41 the policy (2 = RR).
        let mut fields: Vec<String> = (3..=52).map(|n| n.to_string()).collect();
        fields[0] = "R".into();
        fields[40 - 3] = "1".into();
        fields[41 - 3] = "2".into();
        let stat = format!("1234 (ka) x (y)) {}", fields.join(" "));
        let s = parse("5000 7000000 12\n", &stat, at).expect("parsed");
        assert_eq!(s.run_ns, 5000);
        assert!(s.realtime && s.runnable);
        assert_eq!(stat_field(&stat, 3), Some("R"));
        fields[41 - 3] = "0".into();
        let stat = format!("1234 (ka) {}", fields.join(" "));
        assert!(
            !parse("5000 7000000 12\n", &stat, at)
                .expect("parsed")
                .realtime
        );
        assert_eq!(parse("", &stat, at), None);
        assert_eq!(parse("1 2 3", "no parenthesis", at), None);
    }

    #[test]
    fn our_own_process_is_described() {
        let d = describe(std::process::id() as i32);
        assert!(d.contains("running") || d.contains("asleep"), "{d}");
        assert_eq!(describe(-1), "gone from /proc");
    }
}
