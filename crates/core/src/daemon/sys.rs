//! The parent's few direct system calls that need `unsafe`: fork, `_exit`, syslog, local
//! time, and closing inherited descriptors. Each wrapper is small and says why it is sound.

use std::ffi::CStr;
use std::io;
use std::os::fd::RawFd;

/// Which side of a `fork()` we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The parent, with the child's pid.
    Parent(i32),
    /// The new child.
    Child,
}

/// `fork()`.
///
/// The parent process is single-threaded (one mio loop; signal-hook uses a self-pipe, no
/// thread), so the child gets a consistent copy of every lock and allocator state.
pub fn fork() -> io::Result<Forked> {
    // SAFETY: fork has no memory-safety preconditions of its own; the hazard (locks held by
    // other threads) does not arise because callers fork from the single-threaded parent.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid)),
    }
}

/// Leave the process now, without running destructors or atexit handlers (a forked
/// child must not flush or drop the parent's copies of anything).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// Close every descriptor above 2 except `keep` (a forked child keeps only its stdio and
/// its IPC socket; the parent's epoll, signal pipe and other sockets must not leak in).
pub fn close_fds_except(keep: &[RawFd]) {
    let mut fds = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        for entry in dir.flatten() {
            if let Some(fd) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<RawFd>().ok())
            {
                fds.push(fd);
            }
        }
    }
    // The directory's own descriptor is closed by now; closing it again just fails (EBADF).
    for fd in fds {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: closing a descriptor number has no memory effects. The Rust objects
            // that owned these descriptors belong to the parent's code, which this child
            // never returns to (it leaves with `exit_now`), so none is used or closed again.
            unsafe { libc::close(fd) };
        }
    }
}

/// `openlog(ident, LOG_PID, facility)`. `ident` must stay alive until the next call to
/// `openlog` or `closelog` (glibc keeps the pointer).
pub fn openlog(ident: &'static CStr, facility: libc::c_int) {
    // SAFETY: ident is a valid NUL-terminated string with static lifetime.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID, facility) };
}

/// `closelog()`.
pub fn closelog() {
    // SAFETY: no arguments; safe to call whether or not the log is open.
    unsafe { libc::closelog() };
}

/// `syslog(priority, "%s", msg)`.
pub fn syslog(priority: libc::c_int, msg: &CStr) {
    // SAFETY: the format is a literal "%s" and msg is a valid NUL-terminated string, so
    // syslog reads exactly one string argument.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), msg.as_ptr()) };
}

/// The local time as keepalived prints it on the console (`%c` in the C locale,
/// e.g. `Wed Nov 25 02:50:04 2026`).
pub fn local_time_string() -> String {
    let mut buf = [0u8; 64];
    // SAFETY: time(NULL) only returns a value; localtime_r writes into our zeroed tm;
    // strftime writes at most buf.len() bytes into buf and returns how many it wrote.
    let n = unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return String::new();
        }
        libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%a %b %e %H:%M:%S %Y".as_ptr(),
            &tm,
        )
    };
    String::from_utf8_lossy(&buf[..n.min(buf.len())]).into_owned()
}

/// The local time with nanoseconds, for log files: `2026-11-25 03:50:04.123456789`.
pub fn local_time_ns_string() -> String {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut buf = [0u8; 64];
    // SAFETY: clock_gettime writes into our timespec; localtime_r into our zeroed tm;
    // strftime writes at most buf.len() bytes into buf and returns how many it wrote.
    let n = unsafe {
        if libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) != 0 {
            return String::new();
        }
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&ts.tv_sec, &mut tm).is_null() {
            return String::new();
        }
        libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%Y-%m-%d %H:%M:%S".as_ptr(),
            &tm,
        )
    };
    format!(
        "{}.{:09}",
        String::from_utf8_lossy(&buf[..n.min(buf.len())]),
        ts.tv_nsec
    )
}

/// Point stdin, stdout and stderr at /dev/null (after daemonising).
pub fn stdio_to_devnull() -> io::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    use std::os::fd::AsRawFd;
    for fd in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors; `null` stays open for the call.
        if unsafe { libc::dup2(null.as_raw_fd(), fd) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Set the process umask.
pub fn umask(mask: u32) {
    // SAFETY: umask only changes the process's file-creation mask.
    unsafe { libc::umask(mask as libc::mode_t) };
}

/// Put `sig` back to its default action (a forked child must not run the parent's
/// signal-hook handlers, which write to the parent's self-pipe).
pub fn reset_signal(sig: libc::c_int) {
    // SAFETY: installing SIG_DFL with an empty mask; no handler code is involved.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_looks_like_percent_c() {
        let s = local_time_string();
        // "Wed Nov 25 02:50:04 2026"
        assert_eq!(s.len(), 24, "{s:?}");
        assert_eq!(&s[13..14], ":");
    }
}
