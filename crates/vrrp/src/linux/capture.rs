//! A small AF_PACKET capture socket: every Ethernet frame seen on one interface (sent or
//! received), non-blocking and mio-registrable. Tests use it to check the bytes of GARPs,
//! neighbour advertisements and adverts on the wire; benchmarks to timestamp them.

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};

use super::sys;

/// ETH_P_ALL: every protocol.
pub const ETH_P_ALL: u16 = 0x0003;

/// A capture socket bound to one interface.
#[derive(Debug)]
pub struct Capture {
    sock: Socket,
}

impl Capture {
    /// Capture frames of `ethertype` (`ETH_P_ALL` for all) on `ifindex` (needs CAP_NET_RAW).
    pub fn open(ifindex: u32, ethertype: u16) -> io::Result<Capture> {
        let proto = i32::from(ethertype.to_be());
        let sock = Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(proto)))?;
        sock.set_nonblocking(true)?;
        sock.set_cloexec(true)?;
        sock.bind(&sys::sockaddr_ll(ifindex, ethertype, [0; 6])?)?;
        Ok(Capture { sock })
    }

    /// Ask the kernel to stamp every received frame (SO_TIMESTAMPNS); read them with
    /// [`Capture::recv_timestamped`].
    pub fn enable_timestamps(&self) -> io::Result<()> {
        nix::sys::socket::setsockopt(
            &self.sock,
            nix::sys::socket::sockopt::ReceiveTimestampns,
            &true,
        )
        .map_err(io::Error::from)
    }

    /// Read one frame with the kernel's receive time (wall clock, nanoseconds);
    /// `Ok(None)` when none is waiting. The time is `None` unless timestamps are enabled.
    pub fn recv_timestamped(
        &self,
        buf: &mut [u8],
    ) -> io::Result<Option<(usize, Option<std::time::SystemTime>)>> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
        let mut cmsg = nix::cmsg_space!(nix::sys::time::TimeSpec);
        loop {
            let mut iov = [io::IoSliceMut::new(&mut *buf)];
            match recvmsg::<SockaddrStorage>(
                self.sock.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(msg) => {
                    let mut when = None;
                    if let Ok(cmsgs) = msg.cmsgs() {
                        for c in cmsgs {
                            if let ControlMessageOwned::ScmTimestampns(ts) = c {
                                let secs = u64::try_from(ts.tv_sec()).unwrap_or(0);
                                let nanos = u32::try_from(ts.tv_nsec()).unwrap_or(0);
                                when = std::time::UNIX_EPOCH
                                    .checked_add(std::time::Duration::new(secs, nanos));
                            }
                        }
                    }
                    return Ok(Some((msg.bytes.min(buf.len()), when)));
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(nix::errno::Errno::EAGAIN) => return Ok(None),
                Err(e) => return Err(io::Error::from(e)),
            }
        }
    }

    /// Read one frame into `buf`; `Ok(None)` when none is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        use std::io::Read;
        loop {
            match (&self.sock).read(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

impl AsRawFd for Capture {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

mio_source_via_fd!(Capture);
