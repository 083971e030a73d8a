//! Scripts without blocking the loop: `vrrp_script` checks, notify scripts, anything the
//! VRRP child runs.
//!
//! - [`launch`]: the one way every script of the daemon is started (the VRRP child's, the
//!   checker's, the parent's), with keepalived's environment, user, process group and
//!   signals.
//! - [`Runner`] runs [`launch`]ed scripts for a mio loop: each child gets a pidfd
//!   registered with mio: readable means "exited", and the child is reaped at once. A
//!   child still running at its deadline has its whole process group SIGKILLed.
//! - [`parse_command`] splits keepalived's `"path arg 'quoted arg'"` strings.
//! - [`ScriptUser`], [`resolve_user`], [`default_script_user`]: `script_user`, `user`.
//! - [`script_security`]: `enable_script_security` — refuse a script run with root
//!   privileges when it, or any directory above it, can be changed by someone other than
//!   root ([`check_security`]).
//! - [`ScriptTracker`]: `vrrp_script` semantics (interval, rise, fall, init_fail; a timeout
//!   is a failure) turning exit statuses into an up/down status.
//!
//! Note: the parent-death signal is tied to the *thread* that spawned the child (Linux
//! semantics of PR_SET_PDEATHSIG), so spawn from the loop's thread, which lives as long
//! as the daemon.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::sys;

/// What went wrong with a script.
#[derive(Debug)]
pub enum ScriptError {
    /// The command string is empty or has an unterminated quote.
    BadCommand { command: String, why: &'static str },
    /// The user or group does not exist (or the user database could not be read).
    NoSuchUser { name: String },
    /// `enable_script_security`: the script could be changed by a non-root user.
    Insecure {
        script: PathBuf,
        path: PathBuf,
        why: String,
    },
    /// The script (or a directory above it) could not be inspected.
    Inspect { path: PathBuf, source: io::Error },
    /// fork/exec failed (missing file, not executable...).
    Spawn { command: String, source: io::Error },
    /// No free slot (the runner's capacity is reached).
    Full { capacity: usize },
    /// Registering the child's pidfd with mio failed.
    Register { source: io::Error },
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptError::BadCommand { command, why } => {
                write!(f, "bad script command {command:?}: {why}")
            }
            ScriptError::NoSuchUser { name } => write!(f, "no such user or group {name:?}"),
            ScriptError::Insecure { script, path, why } => write!(
                f,
                "script {} is insecure to run as root: {} {why}",
                script.display(),
                path.display()
            ),
            ScriptError::Inspect { path, source } => {
                write!(f, "cannot inspect {}: {source}", path.display())
            }
            ScriptError::Spawn { command, source } => {
                write!(f, "cannot run {command:?}: {source}")
            }
            ScriptError::Full { capacity } => {
                write!(f, "too many scripts running at once (limit {capacity})")
            }
            ScriptError::Register { source } => {
                write!(f, "cannot watch a script's exit: {source}")
            }
        }
    }
}

impl std::error::Error for ScriptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScriptError::Inspect { source, .. }
            | ScriptError::Spawn { source, .. }
            | ScriptError::Register { source } => Some(source),
            _ => None,
        }
    }
}

/// Split a keepalived script string into program and arguments: words are separated by
/// blanks; `'...'` and `"..."` group (without the quotes); `\` escapes the next character
/// outside single quotes.
pub fn parse_command(command: &str) -> Result<Vec<String>, ScriptError> {
    let bad = |why| ScriptError::BadCommand {
        command: command.to_string(),
        why,
    };
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(bad("unterminated single quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x) => cur.push(x),
                            None => return Err(bad("trailing backslash")),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(bad("unterminated double quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(x) => cur.push(x),
                    None => return Err(bad("trailing backslash")),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    if words.is_empty() {
        return Err(bad("empty command"));
    }
    Ok(words)
}

/// The user and group a script runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptUser {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl ScriptUser {
    /// root:root.
    pub const ROOT: ScriptUser = ScriptUser { uid: 0, gid: 0 };
}

/// Resolve `user [group]` (`script_user`, `vrrp_script { user }`); the group defaults to
/// the user's primary group. Numeric ids are accepted.
pub fn resolve_user(user: &str, group: Option<&str>) -> Result<ScriptUser, ScriptError> {
    let no = |name: &str| ScriptError::NoSuchUser {
        name: name.to_string(),
    };
    let (uid, primary) = match nix::unistd::User::from_name(user) {
        Ok(Some(u)) => (u.uid.as_raw(), u.gid.as_raw()),
        _ => match user.parse::<u32>() {
            Ok(uid) => (uid, uid),
            Err(_) => return Err(no(user)),
        },
    };
    let gid = match group {
        None => primary,
        Some(g) => match nix::unistd::Group::from_name(g) {
            Ok(Some(grp)) => grp.gid.as_raw(),
            _ => g.parse::<u32>().map_err(|_| no(g))?,
        },
    };
    Ok(ScriptUser { uid, gid })
}

/// keepalived's default: `keepalived_script` if that user exists, otherwise root.
pub fn default_script_user() -> ScriptUser {
    resolve_user("keepalived_script", None).unwrap_or(ScriptUser::ROOT)
}

/// The user a script runs as, keepalived's rule for every script: its own `user [group]`,
/// else `script_user` (`global`), else [`default_script_user`]. `None` when the daemon is
/// not root: a script then runs as the daemon.
pub fn script_user(
    own: Option<(&str, Option<&str>)>,
    global: Option<(&str, Option<&str>)>,
) -> Result<Option<ScriptUser>, ScriptError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match own.or(global) {
        Some((user, group)) => resolve_user(user, group).map(Some),
        None => Ok(Some(default_script_user())),
    }
}

/// The file `program` runs: itself when it contains a `/`, otherwise the first executable
/// file of that name in `$PATH` (or the usual system directories). Check this path with
/// [`check_security`].
pub fn resolve_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    if program.is_empty() {
        return None;
    }
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `enable_script_security` for a script run as root: the script and every directory
/// above it (after resolving symlinks, and along the path as written) must be owned by
/// root and not writable by group (unless the group is root) or others. A world-writable
/// directory with the sticky bit (like /tmp) is accepted: others cannot replace what root
/// owns in it.
///
/// A bare program name (no `/`) is looked up in `$PATH` first ([`resolve_program`]).
pub fn check_security(script: &Path) -> Result<(), ScriptError> {
    let resolved;
    let script = match script.to_str() {
        Some(name) if !name.contains('/') => {
            resolved = resolve_program(name).ok_or_else(|| ScriptError::Inspect {
                path: script.to_path_buf(),
                source: io::Error::new(io::ErrorKind::NotFound, "not found in PATH"),
            })?;
            resolved.as_path()
        }
        _ => script,
    };
    let inspect = |path: &Path| {
        std::fs::metadata(path).map_err(|source| ScriptError::Inspect {
            path: path.to_path_buf(),
            source,
        })
    };
    let real = std::fs::canonicalize(script).map_err(|source| ScriptError::Inspect {
        path: script.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<&Path> = real.ancestors().collect();
    if script.is_absolute() {
        paths.extend(script.ancestors().filter(|p| !p.as_os_str().is_empty()));
    }
    for path in paths {
        let m = inspect(path)?;
        let insecure = |why: String| ScriptError::Insecure {
            script: script.to_path_buf(),
            path: path.to_path_buf(),
            why,
        };
        if m.uid() != 0 {
            return Err(insecure(format!("is owned by uid {}", m.uid())));
        }
        let mode = m.mode();
        let sticky_dir = m.is_dir() && mode & 0o1000 != 0;
        if mode & 0o002 != 0 && !sticky_dir {
            return Err(insecure(format!(
                "is writable by others (mode {:o})",
                mode & 0o7777
            )));
        }
        if mode & 0o020 != 0 && m.gid() != 0 && !sticky_dir {
            return Err(insecure(format!(
                "is writable by group {} (mode {:o})",
                m.gid(),
                mode & 0o7777
            )));
        }
    }
    Ok(())
}

/// `enable_script_security`, keepalived 2.2.7's rule for every script the daemon runs
/// (`vrrp_script`, notify, MISC_CHECK, quorum, FIFO readers; at load and at `-t`): a
/// script runs with root privileges when it runs as uid 0 or gid 0 (`user`; `None`: as
/// this process), or when its file is set-uid root or set-gid group 0 (observed on the
/// 2.2.7 binary: a 0777 script run as `nobody root`, or a set-uid root one run as
/// `nobody nogroup`, is disabled). Such a script must pass [`check_security`]; one without
/// root privileges always passes. A program that cannot be found fails only when it would
/// run as uid or gid 0 (it cannot be inspected).
pub fn script_security(program: &str, user: Option<ScriptUser>) -> Result<(), ScriptError> {
    use std::os::unix::fs::PermissionsExt;
    let ScriptUser { uid, gid } = user.unwrap_or_else(|| ScriptUser {
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
    });
    let set_id_root = resolve_program(program)
        .and_then(|path| std::fs::metadata(path).ok())
        .is_some_and(|m| {
            let mode = m.permissions().mode();
            (m.uid() == 0 && mode & 0o4100 == 0o4100) || (m.gid() == 0 && mode & 0o2010 == 0o2010)
        });
    if uid == 0 || gid == 0 || set_id_root {
        check_security(Path::new(program))
    } else {
        Ok(())
    }
}

/// Record which signals the daemon was started with ignored, so that its scripts get them
/// ignored too: keepalived's scripts inherit what keepalived inherited, except the signals
/// keepalived handles (`handled`), which they get at their default. Call it first thing in
/// `main`, before any signal is set up; children forked later keep the record.
pub fn record_inherited_signals(handled: &[i32]) {
    sys::record_inherited_signals(handled);
}

/// Start `argv` the way keepalived 2.2.7 starts every script — notify, `vrrp_script`,
/// MISC_CHECK, quorum, FIFO readers, `startup_script`/`shutdown_script` (observed on the
/// 2.2.7 binary; the record is in `tests/support/script_env.rs`):
///
/// - the environment is the daemon's, unchanged (IFS and `LD_*` included);
/// - stdin, stdout and stderr on /dev/null; other descriptors as the daemon's (ours are
///   all close-on-exec);
/// - its own process group (pgid = pid), in the daemon's session;
/// - an empty signal mask, every signal at its default except those the daemon itself was
///   started with ignored ([`record_inherited_signals`]);
/// - as `user`: supplementary groups reduced to its group, then group, then user. Without
///   one, a daemon running as root runs it as root:root (groups reduced to root's) and
///   any other daemon as itself;
/// - SIGTERM when the process that started it dies (PR_SET_PDEATHSIG, set after the user
///   change so that it holds for other users too);
/// - SCHED_OTHER: a real-time caller (the VRRP child) lends the child its priority up to
///   the exec, so that it is not left waiting for a starved child, and demotes it as soon
///   as the exec is done (`sys::spawn_inheriting_rt`). keepalived's scripts start normal
///   (SCHED_RESET_ON_FORK); ours may run real-time for the first milliseconds after the
///   exec (1-7 ms measured with a debug build beside the chaos campaign, 2026-12-06).
///
/// The caller owns the child: wait for it, or kill its group with `killpg(pid)`.
pub fn launch(argv: &[String], user: Option<ScriptUser>) -> Result<Child, ScriptError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(ScriptError::BadCommand {
            command: String::new(),
            why: "empty command",
        });
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let ids = user.or(nix::unistd::geteuid().is_root().then_some(ScriptUser::ROOT));
    sys::child_pre_exec(&mut cmd, ids.map(|u| (u.uid, u.gid)));
    sys::spawn_inheriting_rt(|| cmd.spawn()).map_err(|source| ScriptError::Spawn {
        command: argv.join(" "),
        source,
    })
}

/// A script to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSpec {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Run as this user (`None`: as ourselves).
    pub user: Option<ScriptUser>,
    /// Kill the process group after this long (`None`: never; notify scripts).
    pub timeout: Option<Duration>,
}

impl ScriptSpec {
    /// From a keepalived command string. The file-check form (`"</dev/tcp/host/port"`, a
    /// command starting with `<`) runs through `/bin/sh -c`, as keepalived does with
    /// `system()`; everything else is exec'ed directly.
    pub fn parse(command: &str) -> Result<ScriptSpec, ScriptError> {
        let trimmed = command.trim();
        let argv = if trimmed.starts_with('<') {
            vec!["/bin/sh".into(), "-c".into(), trimmed.to_string()]
        } else {
            parse_command(command)?
        };
        Ok(ScriptSpec {
            argv,
            user: None,
            timeout: None,
        })
    }
}

/// How a script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it (not our timeout).
    Signaled(i32),
    /// It ran past its timeout and its process group was killed.
    TimedOut,
}

/// In keepalived's words, as its log lines put it: `exited with status 1`,
/// `due to signal 9`, `timed out`.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exited(c) => write!(f, "exited with status {c}"),
            Outcome::Signaled(s) => write!(f, "due to signal {s}"),
            Outcome::TimedOut => f.write_str("timed out"),
        }
    }
}

impl Outcome {
    /// Exit code 0.
    pub fn success(self) -> bool {
        self == Outcome::Exited(0)
    }
}

/// A finished script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// The caller's tag given to [`Runner::spawn`].
    pub tag: u64,
    /// Its process id.
    pub pid: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it ran.
    pub elapsed: Duration,
}

#[derive(Debug)]
struct Running {
    child: Child,
    pidfd: OwnedFd,
    tag: u64,
    started: Instant,
    deadline: Option<Instant>,
    timed_out: bool,
}

/// Runs scripts as children registered with a mio loop. Tokens `first_token ..
/// first_token + capacity` are the runner's.
#[derive(Debug)]
pub struct Runner {
    first_token: usize,
    slots: Vec<Option<Running>>,
    /// Slots in use: with none, the loop's per-wake-up questions cost nothing.
    live: usize,
}

fn kill_group(pid: u32) {
    if let Ok(p) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(p),
            nix::sys::signal::Signal::SIGKILL,
        );
        // Before setpgid() in the child, the group is not its own yet.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(p),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

impl Runner {
    /// A runner using mio tokens from `first_token` on, with room for `capacity` children.
    pub fn new(first_token: usize, capacity: usize) -> Runner {
        Runner {
            first_token,
            slots: (0..capacity).map(|_| None).collect(),
            live: 0,
        }
    }

    /// Is `token` one of the runner's?
    pub fn owns(&self, token: mio::Token) -> bool {
        token
            .0
            .checked_sub(self.first_token)
            .is_some_and(|i| i < self.slots.len())
    }

    /// Number of children running.
    pub fn running(&self) -> usize {
        self.live
    }

    /// Start `spec`; `tag` comes back in its [`Finished`]. Returns the child's pid.
    pub fn spawn(
        &mut self,
        registry: &mio::Registry,
        spec: &ScriptSpec,
        tag: u64,
        now: Instant,
    ) -> Result<u32, ScriptError> {
        let slot = self
            .slots
            .iter()
            .position(|s| s.is_none())
            .filter(|slot| self.first_token.checked_add(*slot).is_some())
            .ok_or(ScriptError::Full {
                capacity: self.slots.len(),
            })?;
        let mut child = launch(&spec.argv, spec.user)?;
        let pid = child.id();
        let pidfd = match sys::pidfd_open(pid) {
            Ok(fd) => fd,
            Err(source) => {
                kill_group(pid);
                let _ = child.wait();
                return Err(ScriptError::Register { source });
            }
        };
        let token = mio::Token(self.first_token.saturating_add(slot));
        if let Err(source) = registry.register(
            &mut mio::unix::SourceFd(&pidfd.as_raw_fd()),
            token,
            mio::Interest::READABLE,
        ) {
            kill_group(pid);
            let _ = child.wait();
            return Err(ScriptError::Register { source });
        }
        self.live += 1;
        self.slots[slot] = Some(Running {
            child,
            pidfd,
            tag,
            started: now,
            // A timeout too large to represent means "never".
            deadline: spec.timeout.and_then(|t| now.checked_add(t)),
            timed_out: false,
        });
        Ok(pid)
    }

    /// Handle a readiness event on `token`: returns the finished script, if it is one.
    pub fn handle(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        now: Instant,
    ) -> Option<Finished> {
        if !self.owns(token) {
            return None;
        }
        let slot = self.slots.get_mut(token.0 - self.first_token)?;
        let running = slot.as_mut()?;
        let status = match running.child.try_wait() {
            Ok(Some(status)) => status,
            Ok(None) => return None,
            Err(e) => {
                log::warn!("waiting for script pid {}: {e}", running.child.id());
                return None;
            }
        };
        let running = slot.take()?;
        self.live = self.live.saturating_sub(1);
        let _ = registry.deregister(&mut mio::unix::SourceFd(&running.pidfd.as_raw_fd()));
        let outcome = if running.timed_out {
            Outcome::TimedOut
        } else if let Some(code) = status.code() {
            Outcome::Exited(code)
        } else {
            Outcome::Signaled(status.signal().unwrap_or(0))
        };
        Some(Finished {
            tag: running.tag,
            pid: running.child.id(),
            outcome,
            elapsed: now.saturating_duration_since(running.started),
        })
    }

    /// The earliest timeout still to enforce.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.live == 0 {
            return None;
        }
        self.slots
            .iter()
            .flatten()
            .filter(|r| !r.timed_out)
            .filter_map(|r| r.deadline)
            .min()
    }

    /// Kill the process group of every child past its deadline. Their [`Finished`] (with
    /// [`Outcome::TimedOut`]) arrives through [`Runner::handle`] once they are gone.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut n = 0;
        if self.live == 0 {
            return 0;
        }
        for r in self.slots.iter_mut().flatten() {
            if !r.timed_out && r.deadline.is_some_and(|d| d <= now) {
                kill_group(r.child.id());
                r.timed_out = true;
                n += 1;
            }
        }
        n
    }

    /// Send `sig` to the process group of the child started with `tag` (a long-running
    /// one: a notify FIFO reader asked to stop). Its [`Finished`] arrives through
    /// [`Runner::handle`] once it is gone. False when no such child runs.
    pub fn signal(&self, tag: u64, sig: nix::sys::signal::Signal) -> bool {
        let Some(r) = self.slots.iter().flatten().find(|r| r.tag == tag) else {
            return false;
        };
        let Ok(pid) = i32::try_from(r.child.id()) else {
            return false;
        };
        nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), sig).is_ok()
    }

    /// Is a child started with `tag` still running (not yet reaped)?
    pub fn has(&self, tag: u64) -> bool {
        self.live > 0 && self.slots.iter().flatten().any(|r| r.tag == tag)
    }

    /// Kill every child's process group and reap them (shutdown, reload).
    pub fn kill_all(&mut self, registry: &mio::Registry) {
        for slot in &mut self.slots {
            if let Some(mut r) = slot.take() {
                kill_group(r.child.id());
                let _ = registry.deregister(&mut mio::unix::SourceFd(&r.pidfd.as_raw_fd()));
                let _ = r.child.wait();
            }
        }
        self.live = 0;
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        for r in self.slots.iter_mut().flatten() {
            kill_group(r.child.id());
            let _ = r.child.wait();
        }
    }
}

/// A `vrrp_script`'s status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptStatus {
    /// No result yet (and no `init_fail`).
    Unknown,
    /// OK.
    Up,
    /// Failed.
    Down,
}

/// `vrrp_script` semantics: run every `interval` (a run still going at the next interval
/// is not started twice), `rise` consecutive successes turn a failed script OK, `fall`
/// consecutive failures turn an OK script failed. Before any result the status is
/// `Unknown` and the first result decides; with `init_fail` it starts failed and needs
/// `rise` successes. Any non-zero exit, a signal or the timeout is a failure. (The
/// timeout itself is the [`ScriptSpec`]'s; keepalived's default is the interval.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptTracker {
    interval: Duration,
    rise: u32,
    fall: u32,
    status: ScriptStatus,
    successes: u32,
    failures: u32,
    next_run: Option<Instant>,
    running: bool,
}

impl ScriptTracker {
    /// A tracker; `rise` and `fall` below 1 count as 1, the interval is at most a day.
    pub fn new(interval: Duration, rise: u32, fall: u32, init_fail: bool) -> ScriptTracker {
        ScriptTracker {
            interval: interval.min(Duration::from_secs(86_400)),
            rise: rise.max(1),
            fall: fall.max(1),
            status: if init_fail {
                ScriptStatus::Down
            } else {
                ScriptStatus::Unknown
            },
            successes: 0,
            failures: 0,
            next_run: None,
            running: false,
        }
    }

    /// The current status.
    pub fn status(&self) -> ScriptStatus {
        self.status
    }

    /// A run of the script is under way.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// When the script should next start: `None` when it never ran (it is due now) and
    /// while it runs. A run that outlasts the interval sets no deadline: the loop waits
    /// for its exit or its timeout (the runner's deadline), instead of waking for a start
    /// that cannot happen yet — a deadline in the past made a real-time loop spin and
    /// starve the very script it waited for.
    pub fn next_run(&self) -> Option<Instant> {
        if self.running {
            None
        } else {
            self.next_run
        }
    }

    /// Should it start now?
    pub fn due(&self, now: Instant) -> bool {
        !self.running && self.next_run.is_none_or(|t| t <= now)
    }

    /// The script was started at `now`.
    pub fn started(&mut self, now: Instant) {
        self.running = true;
        self.next_run = Some(now.checked_add(self.interval).unwrap_or(now));
    }

    /// The script could not be started at all: counts as a failure.
    pub fn spawn_failed(&mut self, now: Instant) -> Option<ScriptStatus> {
        self.started(now);
        self.finished(Outcome::Exited(-1))
    }

    /// Record a result; returns the new status when it changed.
    pub fn finished(&mut self, outcome: Outcome) -> Option<ScriptStatus> {
        self.running = false;
        let before = self.status;
        if outcome.success() {
            self.failures = 0;
            self.successes = self.successes.saturating_add(1);
            match self.status {
                ScriptStatus::Unknown => self.status = ScriptStatus::Up,
                ScriptStatus::Down if self.successes >= self.rise => self.status = ScriptStatus::Up,
                _ => {}
            }
        } else {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            match self.status {
                ScriptStatus::Unknown => self.status = ScriptStatus::Down,
                ScriptStatus::Up if self.failures >= self.fall => self.status = ScriptStatus::Down,
                _ => {}
            }
        }
        (self.status != before).then_some(self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_keepalived() {
        assert_eq!(parse_command("/bin/true").expect("ok"), ["/bin/true"]);
        assert_eq!(
            parse_command("  /bin/sh -c 'exit 3'  ").expect("ok"),
            ["/bin/sh", "-c", "exit 3"]
        );
        assert_eq!(
            parse_command(r#"/x "a b" c\ d e"f g"h"#).expect("ok"),
            ["/x", "a b", "c d", "ef gh"]
        );
        assert_eq!(parse_command("/x ''").expect("ok"), ["/x", ""]);
        assert!(parse_command("").is_err());
        assert!(parse_command("   ").is_err());
        assert!(parse_command("/x 'open").is_err());
        assert!(parse_command("/x \"open").is_err());
        assert!(parse_command("/x \\").is_err());
    }

    #[test]
    fn file_check_form_uses_the_shell() {
        let s = ScriptSpec::parse(" </dev/tcp/127.0.0.1/80 ").expect("parse");
        assert_eq!(s.argv, ["/bin/sh", "-c", "</dev/tcp/127.0.0.1/80"]);
        let s = ScriptSpec::parse("/usr/bin/test -e '/a b'").expect("parse");
        assert_eq!(s.argv, ["/usr/bin/test", "-e", "/a b"]);
    }

    #[test]
    fn programs_resolve_through_path() {
        let sh = resolve_program("sh").expect("sh in PATH");
        assert!(sh.is_absolute() && sh.ends_with("sh"));
        assert_eq!(resolve_program("./x.sh"), Some(PathBuf::from("./x.sh")));
        assert_eq!(resolve_program("no-such-program-anywhere"), None);
        assert_eq!(resolve_program(""), None);
    }

    #[test]
    fn a_script_runs_as_its_user_else_script_user_else_the_default() {
        let nobody = resolve_user("nobody", None).expect("nobody");
        let own = script_user(Some(("nobody", None)), Some(("root", None)));
        let global = script_user(None, Some(("nobody", None)));
        let default = script_user(None, None);
        if nix::unistd::geteuid().is_root() {
            assert_eq!(own.expect("own"), Some(nobody));
            assert_eq!(global.expect("global"), Some(nobody));
            assert_eq!(default.expect("default"), Some(default_script_user()));
            assert!(script_user(None, Some(("no-such-user-here", None))).is_err());
        } else {
            // Not root: scripts run as the daemon, whatever they name.
            assert_eq!(own.expect("own"), None);
            assert_eq!(default.expect("default"), None);
        }
    }

    #[test]
    fn users_resolve() {
        assert_eq!(resolve_user("root", None).expect("root"), ScriptUser::ROOT);
        assert_eq!(
            resolve_user("0", Some("0")).expect("numeric"),
            ScriptUser::ROOT
        );
        assert!(resolve_user("no-such-user-here", None).is_err());
        assert!(resolve_user("root", Some("no-such-group-here")).is_err());
    }

    #[test]
    fn tracker_rise_fall() {
        let t0 = Instant::now();
        let mut t = ScriptTracker::new(Duration::from_secs(2), 2, 3, false);
        assert_eq!(t.status(), ScriptStatus::Unknown);
        assert!(t.due(t0));
        t.started(t0);
        assert!(!t.due(t0 + Duration::from_secs(5)), "still running");
        assert_eq!(t.finished(Outcome::Exited(0)), Some(ScriptStatus::Up));
        assert!(!t.due(t0 + Duration::from_secs(1)));
        assert!(t.due(t0 + Duration::from_secs(2)));
        // fall 3: two failures keep it up, the third brings it down.
        assert_eq!(t.finished(Outcome::Exited(1)), None);
        assert_eq!(t.finished(Outcome::TimedOut), None);
        assert_eq!(t.finished(Outcome::Signaled(9)), Some(ScriptStatus::Down));
        // rise 2: a success, a failure (resets), then two successes.
        assert_eq!(t.finished(Outcome::Exited(0)), None);
        assert_eq!(t.finished(Outcome::Exited(2)), None);
        assert_eq!(t.finished(Outcome::Exited(0)), None);
        assert_eq!(t.finished(Outcome::Exited(0)), Some(ScriptStatus::Up));
    }

    #[test]
    fn a_running_script_sets_no_deadline() {
        let t0 = Instant::now();
        let mut t = ScriptTracker::new(Duration::from_secs(1), 1, 1, false);
        t.started(t0);
        // Still running 3 s later: no deadline, not due.
        assert_eq!(t.next_run(), None);
        assert!(!t.due(t0 + Duration::from_secs(3)));
        t.finished(Outcome::Exited(0));
        // Finished late: due at once (its interval is over).
        assert_eq!(t.next_run(), Some(t0 + Duration::from_secs(1)));
        assert!(t.due(t0 + Duration::from_secs(3)));
    }

    #[test]
    fn huge_values_do_not_panic() {
        let now = Instant::now();
        let mut t = ScriptTracker::new(Duration::MAX, 0, 0, false);
        t.started(now);
        assert!(!t.due(now + Duration::from_secs(3600)));
        let r = Runner::new(usize::MAX, 4);
        assert!(r.owns(mio::Token(usize::MAX)));
        assert!(!r.owns(mio::Token(0)));
    }

    #[test]
    fn tracker_init_fail_needs_rise() {
        let mut t = ScriptTracker::new(Duration::from_secs(1), 3, 1, true);
        assert_eq!(t.status(), ScriptStatus::Down);
        assert_eq!(t.finished(Outcome::Exited(0)), None);
        assert_eq!(t.finished(Outcome::Exited(0)), None);
        assert_eq!(t.finished(Outcome::Exited(0)), Some(ScriptStatus::Up));
        assert_eq!(t.finished(Outcome::Exited(1)), Some(ScriptStatus::Down));
        let mut u = ScriptTracker::new(Duration::from_secs(1), 3, 3, false);
        assert_eq!(u.finished(Outcome::Exited(1)), Some(ScriptStatus::Down));
        assert_eq!(u.spawn_failed(Instant::now()), None);
    }
}
