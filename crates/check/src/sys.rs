//! The only place in this crate with `unsafe`: the few system calls neither std, socket2
//! nor nix offer safely. Each wrapper is small and says why it is sound.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::AsRawFd;

/// `connect(fd, AF_UNSPEC)`: dissolve the socket's association (a connected TCP socket
/// sends a RST and is left unconnected).
pub(crate) fn connect_unspec(fd: &impl AsRawFd) -> io::Result<()> {
    // SAFETY: an all-zero sockaddr is a valid value (family AF_UNSPEC = 0).
    let mut addr: libc::sockaddr = unsafe { std::mem::zeroed() };
    addr.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    let len = std::mem::size_of::<libc::sockaddr>() as libc::socklen_t;
    // SAFETY: connect(2) reads `len` bytes of `addr`, which lives on our stack for the
    // call; the fd is the caller's, alive for the call.
    if unsafe { libc::connect(fd.as_raw_fd(), &addr, len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
