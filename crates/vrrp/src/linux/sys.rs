//! The only place in the Linux layer with `unsafe`: tiny wrappers around system calls and
//! socket options that neither std, socket2 nor nix expose. Each block says why it is sound.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `setsockopt(fd, level, name, &value, sizeof(int))` for an integer option.
pub(crate) fn setsockopt_int(
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
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
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

/// Set up a child between fork and exec: new session (so a timeout can kill the whole
/// process group), SIGTERM when the parent dies, then the given group and user.
pub(crate) fn child_pre_exec(cmd: &mut std::process::Command, ids: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    let hook = move || -> io::Result<()> {
        // Only async-signal-safe calls between fork and exec: sched_setscheduler,
        // setpriority, setsid, prctl, setgroups, setgid, setuid are plain system calls.
        //
        // A real-time parent's policy is kept across the fork, so that it is not left
        // waiting for a starved child to exec (see `spawn_inheriting_rt`, which demotes
        // the script right after); whatever the script forks starts normal.
        reset_on_fork();
        nix::unistd::setsid().map_err(io::Error::from)?;
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
            .map_err(io::Error::from)?;
        if let Some((uid, gid)) = ids {
            let gid = nix::unistd::Gid::from_raw(gid);
            nix::unistd::setgroups(&[gid]).map_err(io::Error::from)?;
            nix::unistd::setgid(gid).map_err(io::Error::from)?;
            nix::unistd::setuid(nix::unistd::Uid::from_raw(uid)).map_err(io::Error::from)?;
        }
        Ok(())
    };
    // SAFETY: the hook runs in the forked child before exec; it allocates nothing and only
    // makes async-signal-safe system calls (see above).
    unsafe {
        cmd.pre_exec(hook);
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
