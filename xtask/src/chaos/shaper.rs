//! A userspace stand-in for `tc qdisc ... netem` on one bridge port, for kernels built
//! without `sch_netem` (this one: `CONFIG_NET_SCH_NETEM is not set`, and nftables has no
//! delay or queue either).
//!
//! While it runs, the host's port `p{h}` leaves the bridge and a veth pair takes its
//! place: `s{h}a` in the bridge, `s{h}b` outside it. A thread in the switch namespace
//! moves every frame between `p{h}` and `s{h}b` through a delay queue, in both
//! directions, with netem's `delay 20ms 10ms loss 5% duplicate 5% reorder 25%`: a frame
//! is lost with 5 %, else sent once (twice with 5 %) after 10-30 ms, or at once with
//! 25 % (overtaking the delayed ones, as netem's reorder does). Stopping puts the port
//! back in the bridge and removes the pair; frames still queued are dropped, as
//! deleting a netem qdisc drops them.

use super::lab;
use super::rng::Rng;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Frames moved, lost, duplicated and reordered.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub moved: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
}

pub struct Shaper {
    sw: String,
    br: String,
    port: String,
    a: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Counts>>,
}

/// ETH_P_ALL, in network order for `socket()` and `sockaddr_ll`.
fn eth_p_all() -> u16 {
    (libc::ETH_P_ALL as u16).to_be()
}

/// An AF_PACKET socket bound to `ifname` in the current namespace, non-blocking.
fn packet_socket(ifname: &str) -> Result<OwnedFd, String> {
    let c = std::ffi::CString::new(ifname).map_err(|e| e.to_string())?;
    // SAFETY: if_nametoindex reads a NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        return Err(format!("no interface {ifname}"));
    }
    // SAFETY: plain socket(2) call; the result is checked.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            i32::from(eth_p_all()),
        )
    };
    if fd < 0 {
        return Err(format!("AF_PACKET: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fd is a new socket that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = eth_p_all();
    sll.sll_ifindex = index as i32;
    // SAFETY: sll is a valid sockaddr_ll and the length given is its size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            std::ptr::addr_of!(sll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if rc != 0 {
        return Err(format!(
            "bind {ifname}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(fd)
}

/// One frame received on `fd` that the interface did not send itself, if any.
fn recv_frame(fd: &OwnedFd, buf: &mut [u8]) -> Option<Option<usize>> {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
    // SAFETY: buf and sll are valid for the lengths given; the kernel writes at most those.
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            0,
            std::ptr::addr_of_mut!(sll).cast(),
            &mut len,
        )
    };
    if n < 0 {
        return None;
    }
    if sll.sll_pkttype == libc::PACKET_OUTGOING {
        return Some(None);
    }
    Some(Some(n as usize))
}

fn send_frame(fd: &OwnedFd, frame: &[u8]) {
    // SAFETY: frame is valid for its length; a failed send is a lost frame, as on a wire.
    let _ = unsafe { libc::send(fd.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0) };
}

fn enter(ns: &str) -> Result<(), String> {
    let path = format!("/run/netns/{ns}");
    let file = File::open(&path).map_err(|e| format!("open {path}: {e}"))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("setns {ns}: {e}"))
}

impl Shaper {
    /// Put `port` (a port of bridge `br` in namespace `sw`) behind the shaper.
    pub fn start(sw: &str, br: &str, port: &str, tag: &str, seed: u64) -> Result<Shaper, String> {
        let (a, b) = (format!("s{tag}a"), format!("s{tag}b"));
        lab::ip(&[
            "-n", sw, "link", "add", &a, "type", "veth", "peer", "name", &b,
        ])?;
        let undo = |e: String| {
            let _ = lab::ip(&["-n", sw, "link", "del", &a]);
            let _ = lab::ip(&["-n", sw, "link", "set", port, "master", br]);
            e
        };
        lab::ip(&["-n", sw, "link", "set", &a, "master", br])
            .and_then(|_| lab::ip(&["-n", sw, "link", "set", &a, "up"]))
            .and_then(|_| lab::ip(&["-n", sw, "link", "set", &b, "up"]))
            .and_then(|_| lab::ip(&["-n", sw, "link", "set", port, "nomaster"]))
            .map_err(undo)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let (sw, port, b, stop) = (sw.to_string(), port.to_string(), b.clone(), stop.clone());
            std::thread::spawn(move || {
                let socks =
                    enter(&sw).and_then(|_| Ok((packet_socket(&port)?, packet_socket(&b)?)));
                match socks {
                    Ok((p, q)) => {
                        let _ = ready_tx.send(Ok(()));
                        run(&p, &q, &stop, Rng::new(seed))
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        Counts::default()
                    }
                }
            })
        };
        let shaper = Shaper {
            sw: sw.to_string(),
            br: br.to_string(),
            port: port.to_string(),
            a,
            stop,
            thread: Some(thread),
        };
        match ready_rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(shaper),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("shaper thread did not start".into()),
        }
    }

    /// Stop: the port goes back into the bridge. Returns what the shaper did.
    pub fn stop(mut self) -> Counts {
        self.finish()
    }

    fn finish(&mut self) -> Counts {
        self.stop.store(true, Ordering::Relaxed);
        let counts = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        let _ = lab::ip(&["-n", &self.sw, "link", "del", &self.a]);
        let _ = lab::ip(&[
            "-n", &self.sw, "link", "set", &self.port, "master", &self.br,
        ]);
        counts
    }
}

impl Drop for Shaper {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.finish();
        }
    }
}

/// Move frames both ways until `stop`: (due, to the second socket?, frame).
fn run(p: &OwnedFd, q: &OwnedFd, stop: &AtomicBool, mut rng: Rng) -> Counts {
    let mut counts = Counts::default();
    let mut queue: Vec<(Instant, bool, Vec<u8>)> = Vec::new();
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let wait = queue
            .iter()
            .map(|e| e.0.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_millis(20))
            .clamp(Duration::from_millis(0), Duration::from_millis(20));
        let mut fds = [
            libc::pollfd {
                fd: p.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: q.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: fds is a valid array of two pollfd for the duration of the call.
        let _ = unsafe { libc::poll(fds.as_mut_ptr(), 2, wait.as_millis() as i32) };
        for (from_p, fd) in [(true, p), (false, q)] {
            // At most 256 frames per socket per pass, so that the queue keeps moving.
            for _ in 0..256 {
                let n = match recv_frame(fd, &mut buf) {
                    None => break,
                    Some(None) => continue,
                    Some(Some(n)) => n,
                };
                let roll = rng.below(100);
                if roll < 5 {
                    counts.lost += 1;
                    continue;
                }
                let copies = if rng.below(100) < 5 {
                    counts.duplicated += 1;
                    2
                } else {
                    1
                };
                let delay = if rng.below(100) < 25 {
                    counts.reordered += 1;
                    Duration::ZERO
                } else {
                    Duration::from_millis(10 + rng.below(21))
                };
                let due = Instant::now() + delay;
                for _ in 0..copies {
                    queue.push((due, from_p, buf[..n].to_vec()));
                }
            }
        }
        let now = Instant::now();
        // Due frames, in due order (a zero-delay frame overtakes the delayed ones).
        queue.sort_by_key(|e| e.0);
        let due = queue.iter().take_while(|e| e.0 <= now).count();
        for (_, from_p, frame) in queue.drain(..due) {
            send_frame(if from_p { q } else { p }, &frame);
            counts.moved += 1;
        }
    }
    counts
}
