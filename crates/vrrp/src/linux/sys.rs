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
        // Only async-signal-safe calls between fork and exec: setsid, prctl, setgroups,
        // setgid, setuid are plain system calls.
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
