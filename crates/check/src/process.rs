//! Child processes of the checker: notify, quorum and MISC_CHECK scripts and FIFO readers,
//! all started by the daemon's one launcher ([`vrrp::linux::script::launch`], keepalived's
//! environment, user, process group and signals), process groups signalled, and
//! [`orphans`] reaped without blocking.

use std::io;
use std::process::Child;

use ka_proto::config::Script;
use vrrp::linux::script::{launch, resolve_user, ScriptError, ScriptUser};

/// Start `argv` as `user` (uid, gid; `None`: see [`launch`]).
pub fn start(argv: &[String], user: Option<(u32, u32)>) -> io::Result<Child> {
    let user = user.map(|(uid, gid)| ScriptUser { uid, gid });
    launch(argv, user).map_err(into_io)
}

/// Start a script as its user (and group).
pub fn start_script(s: &Script) -> io::Result<Child> {
    let user = match &s.user {
        Some(u) => Some(resolve_user(u, s.group.as_deref()).map_err(into_io)?),
        None => None,
    };
    launch(&s.args, user).map_err(into_io)
}

fn into_io(e: ScriptError) -> io::Error {
    match e {
        ScriptError::Spawn { source, .. } => source,
        ScriptError::NoSuchUser { .. } => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
        e => io::Error::new(io::ErrorKind::InvalidInput, e.to_string()),
    }
}

pub mod orphans {
    //! Child processes whose owner is gone — a `Runtime` replaced at a reload, a
    //! MISC_CHECK probe dropped with its engine, a FIFO reader stopped — reaped without
    //! blocking by later turns of any runtime of this process, so none stays a zombie.
    //! One asked to stop gets `SIGKILL` (its process group) if it is still there at its
    //! deadline, as keepalived does 1 s after its `SIGTERM`.

    use std::process::Child;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, MutexGuard};
    use std::time::{Duration, Instant};

    struct Orphan {
        child: Child,
        kill_at: Option<Instant>,
        /// It was asked to stop (shutdown waits for these).
        stopping: bool,
    }

    static LIST: Mutex<Vec<Orphan>> = Mutex::new(Vec::new());
    static COUNT: AtomicUsize = AtomicUsize::new(0);

    fn list() -> MutexGuard<'static, Vec<Orphan>> {
        // A panic elsewhere while holding the lock leaves a usable list.
        LIST.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take over `child`; if `kill_at` is given and it is still running then, its process
    /// group gets `SIGKILL`.
    pub fn adopt(mut child: Child, kill_at: Option<Instant>) {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        let mut l = list();
        l.push(Orphan {
            child,
            kill_at,
            stopping: kill_at.is_some(),
        });
        COUNT.store(l.len(), Ordering::Relaxed);
    }

    /// How many are waiting to be reaped.
    pub fn count() -> usize {
        COUNT.load(Ordering::Relaxed)
    }

    /// Reap those that ended; kill those past their deadline. Returns how many remain.
    pub fn reap() -> usize {
        let now = Instant::now();
        let mut l = list();
        l.retain_mut(|o| {
            if !matches!(o.child.try_wait(), Ok(None)) {
                return false;
            }
            if o.kill_at.is_some_and(|t| now >= t) {
                o.kill_at = None;
                super::kill_group(&o.child, libc::SIGKILL);
            }
            true
        });
        COUNT.store(l.len(), Ordering::Relaxed);
        l.len()
    }

    /// At shutdown: reap, waiting at most `limit` for those asked to stop (scripts that
    /// simply run on are not waited for). Returns how many remain.
    pub fn reap_stopping(limit: Duration) -> usize {
        let end = Instant::now() + limit;
        loop {
            let left = reap();
            let stopping = list().iter().any(|o| o.stopping);
            if !stopping || Instant::now() >= end {
                return left;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Send `sig` to the process group `child` leads (scripts get their own process group
/// from the launcher), or to the child alone if that fails.
pub fn kill_group(child: &Child, sig: libc::c_int) {
    use nix::sys::signal::{kill, killpg, Signal};
    let (Ok(pid), Ok(sig)) = (i32::try_from(child.id()), Signal::try_from(sig)) else {
        return;
    };
    // `pid` is our own unreaped child, so neither it nor its process group id can have
    // been reused.
    let pid = nix::unistd::Pid::from_raw(pid);
    if killpg(pid, sig).is_err() {
        let _ = kill(pid, sig);
    }
}
