//! The only place in the Linux layer with `unsafe`: tiny wrappers around system calls and
//! socket options that neither std, socket2 nor nix expose. Each block says why it is sound.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// `setsockopt(fd, level, name, &value, sizeof(int))` for an integer option.
pub fn setsockopt_int(
    fd: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the pointer and length describe `value`, a live c_int on our stack; the kernel
    // only reads it. The fd is owned by the caller for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `setsockopt(fd, level, name, bytes)` for an option whose value is a plain byte array.
pub(crate) fn setsockopt_bytes(
    fd: &impl AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: pointer and length describe the live slice `value`; the kernel only reads it.
    let rc = unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, value.as_ptr().cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `SIOCGIFMTU`: the MTU of the interface called `name` in this namespace.
pub(crate) fn interface_mtu(name: &str) -> io::Result<u32> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    // SAFETY: ifreq is plain data (a name array and a union of integers, addresses and
    // a pointer the kernel does not follow for this request); all zeroes is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: the fd is a live socket we own; `ifr` is a live ifreq on our stack, its name
    // NUL-terminated (zeroed above, the name shorter than IFNAMSIZ), and SIOCGIFMTU only
    // writes the ifru_mtu member of it.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU, &mut ifr) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFMTU succeeded, so the kernel filled in ifru_mtu (a plain integer).
    let mtu = unsafe { ifr.ifr_ifru.ifru_mtu };
    u32::try_from(mtu).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))
}

/// A link-layer socket address (`sockaddr_ll`) for AF_PACKET sockets.
pub(crate) fn sockaddr_ll(
    ifindex: u32,
    protocol: u16,
    dst: [u8; 6],
) -> io::Result<socket2::SockAddr> {
    let ifindex = i32::try_from(ifindex).unwrap_or(i32::MAX);
    // SAFETY: `init` gives us a zeroed sockaddr_storage, big enough for a sockaddr_ll (checked
    // by the assertion); we write a fully initialised sockaddr_ll into it and report its size.
    let (_, addr) = unsafe {
        socket2::SockAddr::try_init(|storage, len| {
            const _: () = assert!(
                std::mem::size_of::<libc::sockaddr_ll>()
                    <= std::mem::size_of::<libc::sockaddr_storage>()
            );
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as libc::sa_family_t;
            sll.sll_protocol = protocol.to_be();
            sll.sll_ifindex = ifindex;
            sll.sll_halen = 6;
            sll.sll_addr[..6].copy_from_slice(&dst);
            std::ptr::write(storage.cast::<libc::sockaddr_ll>(), sll);
            *len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            Ok(())
        })
    }?;
    Ok(addr)
}

/// `pidfd_open(pid, 0)`: a file descriptor that becomes readable when the process exits.
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: pidfd_open takes two integers and returns a new fd or -1; no memory is shared.
    let rc = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(rc).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Signals ignored when the daemon started (bit `n - 1` for signal `n`), see
/// [`record_inherited_signals`]; scripts get these ignored, as the daemon got them.
static INHERITED_IGNORED: AtomicU64 = AtomicU64::new(0);

/// Note which signals the process was started with ignored, but for `handled` (call first
/// thing, before any signal is set up). Without it, a script starts with every signal at
/// its default. SIGPIPE and SIGXFSZ are never counted: Rust's runtime ignores them before
/// `main`.
pub(crate) fn record_inherited_signals(handled: &[libc::c_int]) {
    let mut ignored = 0u64;
    for sig in 1..=libc::SIGRTMAX().min(64) {
        if sig == libc::SIGPIPE || sig == libc::SIGXFSZ || handled.contains(&sig) {
            continue;
        }
        // SAFETY: sigaction(2) with a null new action only reads the disposition into
        // `old`, a zeroed sigaction we own.
        let ign = unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        };
        if ign {
            ignored |= 1 << (sig - 1);
        }
    }
    INHERITED_IGNORED.store(ignored, Ordering::Relaxed);
}

/// Set up a script between fork and exec, as keepalived 2.2.7 does (observed, see
/// `super::script::launch`): an empty signal mask and every signal this process ignores
/// back to its default (unless the daemon itself was started with it ignored); then, with
/// `ids`, the supplementary groups reduced to the group, the group and the user; then
/// SIGTERM when the parent dies (after the user change, which would clear it). The process
/// group is the caller's (`Command::process_group(0)`); no new session.
pub(crate) fn child_pre_exec(cmd: &mut std::process::Command, ids: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    // Read before the fork: nothing below allocates or takes a lock.
    let keep_ignored = INHERITED_IGNORED.load(Ordering::Relaxed);
    let max_sig = libc::SIGRTMAX().min(64);
    let hook = move || -> io::Result<()> {
        // Only async-signal-safe calls between fork and exec: sched_setscheduler,
        // sigprocmask, sigaction, setgroups, setgid, setuid, prctl are plain system calls.
        //
        // A real-time parent's policy is kept across the fork, so that it is not left
        // waiting for a starved child to exec (see `spawn_inheriting_rt`, which demotes
        // the script right after); whatever the script forks starts normal.
        reset_on_fork();
        reset_signals(keep_ignored, max_sig);
        if let Some((uid, gid)) = ids {
            let gid = nix::unistd::Gid::from_raw(gid);
            nix::unistd::setgroups(&[gid]).map_err(io::Error::from)?;
            nix::unistd::setgid(gid).map_err(io::Error::from)?;
            nix::unistd::setuid(nix::unistd::Uid::from_raw(uid)).map_err(io::Error::from)?;
        }
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
            .map_err(io::Error::from)?;
        Ok(())
    };
    // SAFETY: the hook runs in the forked child before exec; it allocates nothing and only
    // makes async-signal-safe system calls (see above).
    unsafe {
        cmd.pre_exec(hook);
    }
}

/// In a forked child: an empty signal mask, and every ignored signal not in `keep` (bit
/// `n - 1` for signal `n`) back to SIG_DFL. Caught signals need nothing: exec resets them.
/// Async-signal-safe (system calls only).
fn reset_signals(keep: u64, max_sig: libc::c_int) {
    // SAFETY: sigemptyset/sigprocmask(2) on a sigset_t we own; sigaction(2) reads into and
    // from zeroed sigaction values we own. No memory is shared.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for sig in 1..=max_sig {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP || keep & (1 << (sig - 1)) != 0 {
                continue;
            }
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
            {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
    }
}

/// Set SCHED_RESET_ON_FORK on the calling thread if it runs a real-time policy.
/// Async-signal-safe (system calls only).
fn reset_on_fork() {
    // SAFETY: sched_getscheduler(2) on the calling thread; no memory is passed.
    let policy = unsafe { libc::sched_getscheduler(0) };
    let base = policy & !libc::SCHED_RESET_ON_FORK;
    if policy < 0 || (base != libc::SCHED_RR && base != libc::SCHED_FIFO) {
        return;
    }
    let mut param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_getparam(2) writes one sched_param into `param`, which we own; then the
    // same policy and priority are set again with the flag.
    unsafe {
        if libc::sched_getparam(0, &mut param) == 0 {
            let _ = libc::sched_setscheduler(0, base | libc::SCHED_RESET_ON_FORK, &param);
        }
    }
}

/// Put process `pid` (a script we just started) under SCHED_OTHER, at nice 0 if its nice
/// value is negative: what SCHED_RESET_ON_FORK would have done at the fork.
fn demote(pid: u32) -> io::Result<()> {
    let pid =
        libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_setscheduler(2) on our own child with a valid sched_param.
    if unsafe { libc::sched_setscheduler(pid, libc::SCHED_OTHER, &param) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getpriority/setpriority(2) on our own child; no memory is passed.
    unsafe {
        if libc::getpriority(libc::PRIO_PROCESS, pid as libc::id_t) < 0 {
            let _ = libc::setpriority(libc::PRIO_PROCESS, pid as libc::id_t, 0);
        }
    }
    Ok(())
}

/// Start a script with `spawn` (a fork and exec) so that a real-time caller is never left
/// waiting for a CPU on the script's behalf.
///
/// `Command::spawn` returns once the child has exec'd. Under SCHED_RESET_ON_FORK (how the
/// VRRP child runs SCHED_RR) the child starts as a normal task; with the CPUs busy with
/// real-time work it may wait long for a CPU (up to the RT throttling period, ~1 s), and
/// the real-time loop waits as long, its adverts late. So while the caller runs
/// SCHED_RR/SCHED_FIFO with the flag, the flag is lifted for the fork: the child keeps
/// the caller's priority up to its exec, and is demoted to SCHED_OTHER as soon as `spawn`
/// returns (its own children start normal: [`child_pre_exec`] sets the flag in it). If
/// the demotion fails the script is killed: a script never runs real-time.
pub(crate) fn spawn_inheriting_rt(
    spawn: impl FnOnce() -> io::Result<std::process::Child>,
) -> io::Result<std::process::Child> {
    // SAFETY: sched_getscheduler(2) on the calling thread; no memory is passed.
    let policy = unsafe { libc::sched_getscheduler(0) };
    let base = policy & !libc::SCHED_RESET_ON_FORK;
    let rt = policy >= 0
        && policy & libc::SCHED_RESET_ON_FORK != 0
        && (base == libc::SCHED_RR || base == libc::SCHED_FIFO);
    let mut param = libc::sched_param { sched_priority: 0 };
    // SAFETY: sched_getparam(2) writes one sched_param into `param`, which we own; then the
    // same policy and priority as now are set, only without the reset flag.
    let lifted = rt
        && unsafe { libc::sched_getparam(0, &mut param) } == 0
        && unsafe { libc::sched_setscheduler(0, base, &param) } == 0;
    let out = spawn();
    if !lifted {
        return out;
    }
    // SAFETY: restores the policy read above, with its flag, on the calling thread.
    let _ = unsafe { libc::sched_setscheduler(0, policy, &param) };
    let mut child = out?;
    if let Err(e) = demote(child.id()) {
        if let Ok(p) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    Ok(child)
}

/// `setpriority(PRIO_PROCESS, 0, nice)`: the calling thread's nice value.
pub(crate) fn set_nice(nice: i32) -> io::Result<()> {
    // SAFETY: setpriority(2) on the calling thread (who = 0); no memory is passed.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Thread `tid` (0: the caller) to SCHED_RR `rr` or (`None`) SCHED_OTHER, both with
/// SCHED_RESET_ON_FORK. Async-signal-safe (one system call).
pub(crate) fn set_policy(tid: i32, rr: Option<i32>) -> bool {
    let (policy, prio) = match rr {
        Some(p) => (libc::SCHED_RR, p),
        None => (libc::SCHED_OTHER, 0),
    };
    let param = libc::sched_param {
        sched_priority: prio,
    };
    // SAFETY: sched_setscheduler(2) with a valid sched_param we own; the kernel only reads it.
    unsafe { libc::sched_setscheduler(tid, policy | libc::SCHED_RESET_ON_FORK, &param) == 0 }
}

/// The calling thread's scheduling policy, SCHED_RESET_ON_FORK masked out (-1 on error).
pub(crate) fn thread_policy() -> i32 {
    // SAFETY: sched_getscheduler(2) on the calling thread; no memory is passed.
    let p = unsafe { libc::sched_getscheduler(0) };
    if p < 0 {
        p
    } else {
        p & !libc::SCHED_RESET_ON_FORK
    }
}

/// RLIMIT_RTTIME: `soft` and `hard` µs. Async-signal-safe (one system call).
pub(crate) fn set_rttime(soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit(2) reads the rlimit value we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_RTTIME, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Packets at most per [`recv_many`] call.
pub(crate) const RECV_MANY_MAX: usize = 16;

/// What [`recv_many`] got in one slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Got {
    /// Bytes of the datagram (it was truncated to the slot if longer).
    pub len: usize,
    /// Bytes of ancillary data.
    pub control_len: usize,
    /// Bytes of the source address.
    pub name_len: usize,
}

/// `recvmmsg(fd, .., MSG_DONTWAIT)`: up to `got.len()` (at most [`RECV_MANY_MAX`])
/// datagrams, the k-th into the k-th `slot_len` bytes of `data`, its ancillary data into
/// the k-th `control_len` bytes of `control` and (with `want_names`; IPv4 callers read the
/// source from the IP header and spare the kernel the copy) its source into `names[k]`.
/// One system call for a batch instead of one per packet. Returns how many arrived (`Ok(0)`
/// when none was waiting); EINTR is retried.
#[allow(clippy::too_many_arguments)]
pub(crate) fn recv_many(
    fd: &impl AsRawFd,
    data: &mut [u8],
    slot_len: usize,
    control: &mut [u8],
    control_len: usize,
    names: &mut [libc::sockaddr_in6],
    want_names: bool,
    got: &mut [Got],
) -> io::Result<usize> {
    let n = got
        .len()
        .min(RECV_MANY_MAX)
        .min(names.len())
        .min(data.len() / slot_len.max(1))
        .min(control.len() / control_len.max(1));
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: all-zero iovec and mmsghdr values are valid (null pointers, zero lengths).
    let mut iovs: [libc::iovec; RECV_MANY_MAX] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; RECV_MANY_MAX] = unsafe { std::mem::zeroed() };
    let slots = data.chunks_exact_mut(slot_len);
    let ctls = control.chunks_exact_mut(control_len);
    for (k, ((slot, ctl), name)) in slots.zip(ctls).zip(names.iter_mut()).take(n).enumerate() {
        iovs[k] = libc::iovec {
            iov_base: slot.as_mut_ptr().cast(),
            iov_len: slot.len(),
        };
        let h = &mut hdrs[k].msg_hdr;
        if want_names {
            h.msg_name = (name as *mut libc::sockaddr_in6).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        }
        h.msg_control = ctl.as_mut_ptr().cast();
        h.msg_controllen = ctl.len() as _;
        h.msg_iovlen = 1;
    }
    for (h, iov) in hdrs.iter_mut().zip(iovs.iter_mut()).take(n) {
        h.msg_hdr.msg_iov = iov;
    }
    let rc = loop {
        // SAFETY: `hdrs[..n]` describe, each, one iovec over a distinct `slot_len` slice
        // of `data`, one distinct `control_len` slice of `control` and one `names` entry
        // (or none),
        // all exclusively borrowed for the call and alive after it; the kernel writes
        // within the lengths given. `iovs` and `hdrs` stay in place during the call.
        let rc = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if rc >= 0 {
            break rc;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(0),
            _ => return Err(e),
        }
    };
    let m = usize::try_from(rc).unwrap_or(0).min(n);
    // (msg_controllen is a size_t on glibc, a socklen_t on musl.)
    #[allow(clippy::unnecessary_cast)]
    for (g, h) in got.iter_mut().zip(&hdrs).take(m) {
        *g = Got {
            len: (h.msg_len as usize).min(slot_len),
            control_len: (h.msg_hdr.msg_controllen as usize).min(control_len),
            name_len: h.msg_hdr.msg_namelen as usize,
        };
    }
    Ok(m)
}

/// Room for the ancillary data [`send_many`] builds (two small messages).
const SEND_CONTROL: usize = 128;

#[repr(C, align(8))]
struct ControlBuf([u8; SEND_CONTROL]);

/// Packets at most per [`send_many`] call.
pub(crate) const SEND_MANY_MAX: usize = 16;

/// `sendmmsg(fd, .., MSG_DONTWAIT)`: each `(payload, dst)` of `msgs` (at most
/// [`SEND_MANY_MAX`]) with the same ancillary messages `(level, type, data)`, built once on
/// the stack. One system call for a batch instead of one per packet, no allocation.
/// Returns how many were sent (from the first; the caller retries the rest, and the first
/// of them gives the error); EINTR is retried.
pub(crate) fn send_many(
    fd: &impl AsRawFd,
    msgs: &[(&[u8], &nix::sys::socket::SockaddrStorage)],
    cmsgs: &[(libc::c_int, libc::c_int, &[u8])],
) -> io::Result<usize> {
    use nix::sys::socket::SockaddrLike;
    let n = msgs.len().min(SEND_MANY_MAX);
    if n == 0 {
        return Ok(0);
    }
    let mut ctl = ControlBuf([0; SEND_CONTROL]);
    let mut used = 0;
    for (level, ty, bytes) in cmsgs {
        used = put_cmsg(&mut ctl.0, used, *level, *ty, bytes).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "ancillary data too long")
        })?;
    }
    let ctl_ptr: *mut libc::c_void = ctl.0.as_mut_ptr().cast();
    // SAFETY: all-zero iovec and mmsghdr values are valid (null pointers, zero lengths).
    let mut iovs: [libc::iovec; SEND_MANY_MAX] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; SEND_MANY_MAX] = unsafe { std::mem::zeroed() };
    for (k, (payload, dst)) in msgs.iter().take(n).enumerate() {
        iovs[k] = libc::iovec {
            iov_base: payload.as_ptr().cast_mut().cast(),
            iov_len: payload.len(),
        };
        let h = &mut hdrs[k].msg_hdr;
        h.msg_name = dst.as_ptr().cast_mut().cast();
        h.msg_namelen = dst.len();
        h.msg_iovlen = 1;
        if used > 0 {
            h.msg_control = ctl_ptr;
            h.msg_controllen = used as _;
        }
    }
    for (h, iov) in hdrs.iter_mut().zip(iovs.iter_mut()).take(n) {
        h.msg_hdr.msg_iov = iov;
    }
    loop {
        // SAFETY: `hdrs[..n]` each point at one iovec over a caller's payload (which the
        // kernel only reads), at a caller's address of the length it gives, and at the
        // `used` initialized bytes of `ctl` (8-aligned, as cmsghdr needs; read only); all
        // live and in place for the call.
        let rc = unsafe {
            libc::sendmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if rc >= 0 {
            return Ok(usize::try_from(rc).unwrap_or(0));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Size of a cmsghdr (its data starts there, aligned).
const CMSG_HDR: usize = cmsg_align(std::mem::size_of::<libc::cmsghdr>());

const fn cmsg_align(n: usize) -> usize {
    let a = std::mem::size_of::<usize>();
    (n + a - 1) & !(a - 1)
}

/// Append one control message at `at` in `buf`; the offset after it, None if no room.
fn put_cmsg(
    buf: &mut [u8],
    at: usize,
    level: libc::c_int,
    ty: libc::c_int,
    data: &[u8],
) -> Option<usize> {
    let len = CMSG_HDR + data.len();
    let end = at.checked_add(cmsg_align(len))?;
    if end > buf.len() {
        return None;
    }
    let lvl_at = std::mem::offset_of!(libc::cmsghdr, cmsg_level);
    let ty_at = std::mem::offset_of!(libc::cmsghdr, cmsg_type);
    // cmsg_len is a size_t on glibc (a socklen_t followed by padding on musl).
    if lvl_at == std::mem::size_of::<usize>() {
        buf[at..at + lvl_at].copy_from_slice(&len.to_ne_bytes());
    } else {
        buf[at..at + 4].copy_from_slice(&u32::try_from(len).ok()?.to_ne_bytes());
    }
    buf[at + lvl_at..at + lvl_at + 4].copy_from_slice(&level.to_ne_bytes());
    buf[at + ty_at..at + ty_at + 4].copy_from_slice(&ty.to_ne_bytes());
    buf[at + CMSG_HDR..at + len].copy_from_slice(data);
    Some(end)
}

/// The control messages in `buf` (as the kernel wrote them): `(level, type, data)`.
pub(crate) fn cmsgs(buf: &[u8]) -> impl Iterator<Item = (libc::c_int, libc::c_int, &[u8])> {
    let lvl_at = std::mem::offset_of!(libc::cmsghdr, cmsg_level);
    let ty_at = std::mem::offset_of!(libc::cmsghdr, cmsg_type);
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let hdr = buf.get(at..at.checked_add(CMSG_HDR)?)?;
        let len = if lvl_at == std::mem::size_of::<usize>() {
            let mut w = [0u8; std::mem::size_of::<usize>()];
            w.copy_from_slice(hdr.get(..std::mem::size_of::<usize>())?);
            usize::from_ne_bytes(w)
        } else {
            let mut w = [0u8; 4];
            w.copy_from_slice(hdr.get(..4)?);
            u32::from_ne_bytes(w) as usize
        };
        let int = |o: usize| -> Option<libc::c_int> {
            let mut w = [0u8; 4];
            w.copy_from_slice(hdr.get(o..o + 4)?);
            Some(libc::c_int::from_ne_bytes(w))
        };
        let (level, ty) = (int(lvl_at)?, int(ty_at)?);
        if len < CMSG_HDR {
            return None;
        }
        let data = buf.get(at + CMSG_HDR..at.checked_add(len)?)?;
        at = at.checked_add(cmsg_align(len))?;
        Some((level, ty, data))
    })
}
