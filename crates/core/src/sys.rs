//! The only place in this crate with `unsafe`: the direct system calls neither std nor nix
//! offer safely — fork, `_exit`, syslog, local time, closing inherited descriptors,
//! signal dispositions, the allocator's knobs and a mapping children do not inherit. Each
//! wrapper is small and says why it is sound.

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

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

/// Ignore `sig` (SIG_IGN).
pub fn ignore_signal(sig: nix::sys::signal::Signal) {
    // SAFETY: installing SIG_IGN runs no code in signal context.
    let _ = unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigIgn) };
}

/// SIGXCPU for the VRRP loop (`vrrp_child::sched`): RLIMIT_RTTIME's soft limit reached, the
/// loop ran real-time too long without sleeping. Its default action would end the process;
/// the handler drops the loop's thread to normal scheduling instead (so the hard limit,
/// SIGKILL, is never reached), puts the soft limit back (the kernel raised it by a second)
/// and notes it for [`xcpu_fell_back`].
static XCPU_TID: AtomicI32 = AtomicI32::new(0);
static XCPU_FELL_BACK: AtomicBool = AtomicBool::new(false);
static XCPU_SOFT: AtomicU64 = AtomicU64::new(0);
static XCPU_HARD: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_xcpu(_sig: libc::c_int) {
    // One system call each and atomics: async-signal-safe.
    if vrrp::linux::sched::set_policy(XCPU_TID.load(Ordering::Relaxed), None) {
        XCPU_FELL_BACK.store(true, Ordering::Relaxed);
    }
    let _ = vrrp::linux::sched::set_rttime(
        XCPU_SOFT.load(Ordering::Relaxed),
        XCPU_HARD.load(Ordering::Relaxed),
    );
}

/// Install the SIGXCPU handler for thread `tid` under RLIMIT_RTTIME `soft`/`hard` µs.
pub fn install_xcpu_fallback(tid: i32, soft: u64, hard: u64) -> io::Result<()> {
    XCPU_TID.store(tid, Ordering::Relaxed);
    XCPU_SOFT.store(soft, Ordering::Relaxed);
    XCPU_HARD.store(hard, Ordering::Relaxed);
    // SAFETY: sigaction(2) with a zeroed struct, an empty mask and a handler that only
    // makes system calls and touches atomics (async-signal-safe).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_xcpu as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGXCPU, &sa, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Did the SIGXCPU handler drop the loop to normal scheduling since last asked?
pub fn xcpu_fell_back() -> bool {
    XCPU_FELL_BACK.swap(false, Ordering::Relaxed)
}

/// Set one of glibc's malloc parameters (`mallopt`).
pub fn mallopt(param: libc::c_int, value: usize) {
    let value = libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only sets an allocator parameter.
    let _ = unsafe { libc::mallopt(param, value) };
}

/// `malloc_trim(0)`: whether any memory was released.
pub fn malloc_trim() -> bool {
    // SAFETY: malloc_trim takes a size and only reorganises the allocator's own free
    // lists; it is thread-safe (arena locks) and invalidates no live allocation.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// glibc's `mallinfo2`: (bytes in use in arenas, in mmapped blocks, free in arenas).
pub fn mallinfo() -> (usize, usize, usize) {
    // SAFETY: mallinfo2 takes no argument and returns a plain struct by value.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks, m.hblkhd, m.fordblks)
}

/// A copy of some bytes in pages of their own, not inherited by forked children
/// (`MADV_DONTFORK`); see `crate::mem::ParentOnly`.
pub struct DontForkBytes {
    ptr: *mut u8,
    len: usize,
    map_len: usize,
}

impl DontForkBytes {
    /// A copy of `bytes`.
    pub fn new(bytes: &[u8]) -> io::Result<DontForkBytes> {
        let len = bytes.len();
        if len == 0 {
            return Ok(DontForkBytes {
                ptr: std::ptr::null_mut(),
                len: 0,
                map_len: 0,
            });
        }
        let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|p| usize::try_from(p).ok())
            .unwrap_or(4096);
        let map_len = len.div_ceil(page) * page;
        // SAFETY: a new anonymous private mapping (no address hint, no file); the result is
        // checked against MAP_FAILED before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let out = DontForkBytes {
            ptr: p.cast::<u8>(),
            len,
            map_len,
        };
        // SAFETY: `out.ptr` is a fresh writable mapping of `map_len >= len` bytes that
        // `bytes` cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.ptr, len) };
        // SAFETY: advice on our own mapping, exactly as mapped.
        if unsafe { libc::madvise(p, map_len, libc::MADV_DONTFORK) } != 0 {
            return Err(io::Error::last_os_error()); // `out` is unmapped by Drop.
        }
        Ok(out)
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` is a live mapping of at least `len` initialised bytes until Drop,
        // and nothing writes to it after `new`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }
}

impl Drop for DontForkBytes {
    fn drop(&mut self) {
        if self.map_len > 0 {
            // SAFETY: the mapping made in `new`, unmapped once; no slice of it outlives
            // `self` (`as_slice` borrows it).
            unsafe { libc::munmap(self.ptr.cast(), self.map_len) };
        }
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
