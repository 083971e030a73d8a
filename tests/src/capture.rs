//! Capturing frames on a test host's interface with an AF_PACKET socket and the kernel's
//! receive timestamps (SO_TIMESTAMPNS), in the background until [`Capture::finish`].
//! Used to check how many gratuitous ARPs a daemon sends, and how far apart.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::Netns;

/// ETH_P_ARP.
pub const ETH_P_ARP: u16 = 0x0806;

/// One captured frame: the kernel's receive time (CLOCK_REALTIME) and the bytes from the
/// Ethernet header on.
#[derive(Debug, Clone)]
pub struct Frame {
    pub at: Duration,
    pub bytes: Vec<u8>,
}

impl Frame {
    /// For an ARP frame (Ethernet + IPv4 ARP): (opcode, sender IP, target IP).
    pub fn arp(&self) -> Option<(u16, std::net::Ipv4Addr, std::net::Ipv4Addr)> {
        let b = &self.bytes;
        if b.len() < 42 || b[12..14] != ETH_P_ARP.to_be_bytes() {
            return None;
        }
        let op = u16::from_be_bytes([b[20], b[21]]);
        let spa = std::net::Ipv4Addr::new(b[28], b[29], b[30], b[31]);
        let tpa = std::net::Ipv4Addr::new(b[38], b[39], b[40], b[41]);
        Some((op, spa, tpa))
    }
}

/// A capture running on a background thread.
pub struct Capture {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Frame>>>,
}

fn open_in(ns: &Netns, ifname: &str, ethertype: u16) -> OwnedFd {
    let ifname = std::ffi::CString::new(ifname).expect("interface name");
    ns.spawn(move || {
        // SAFETY: plain socket(2) call; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(ethertype.to_be()),
            )
        };
        assert!(fd >= 0, "AF_PACKET: {}", std::io::Error::last_os_error());
        // SAFETY: fd is a new socket that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: ifname is a valid NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(ifname.as_ptr()) };
        assert!(ifindex > 0, "no interface {ifname:?}");
        // SAFETY: an all-zero sockaddr_ll is valid; the fields are then set.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ethertype.to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: sll is a sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
        let on: libc::c_int = 1;
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 50_000,
        };
        // SAFETY: setsockopt with pointers to values of the sizes passed.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                std::ptr::addr_of!(on).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            );
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                std::ptr::addr_of!(tv).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            );
        }
        fd
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn recv_one(fd: &OwnedFd) -> Option<Frame> {
    let mut buf = [0u8; 2048];
    let mut cmsg = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero msghdr is valid; the buffers set below outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cmsg);
    // SAFETY: msg points at valid buffers of the lengths it states.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
    if n <= 0 {
        return None;
    }
    let mut at = Duration::ZERO;
    // SAFETY: walking the control messages the kernel wrote into cmsg, with the CMSG
    // macros that bound every step by msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SO_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                at = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Some(Frame {
        at,
        bytes: buf[..n as usize].to_vec(),
    })
}

impl Capture {
    /// Start capturing `ethertype` frames arriving on `ifname` inside `ns`.
    pub fn start(ns: &Netns, ifname: &str, ethertype: u16) -> Capture {
        let fd = open_in(ns, ifname, ethertype);
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut frames = Vec::new();
            while !stop2.load(Ordering::Relaxed) {
                if let Some(f) = recv_one(&fd) {
                    frames.push(f);
                }
            }
            frames
        });
        Capture {
            stop,
            thread: Some(thread),
        }
    }

    /// Stop and return every frame captured, in arrival order.
    pub fn finish(mut self) -> Vec<Frame> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
