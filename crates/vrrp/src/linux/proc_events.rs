//! Process events for `vrrp_track_process`: the kernel's process connector
//! (NETLINK_CONNECTOR, CN_IDX_PROC) reports fork, exec, name change and exit of every
//! process, and [`scan`] / [`read_process`] read `/proc` for the initial state and for
//! the process an event names. Root only (CAP_NET_ADMIN to listen).
//!
//! The connector exists in the initial network namespace only: elsewhere listening fails
//! (ECONNREFUSED). keepalived 2.2.7 then treats every tracked process as absent; the
//! VRRP child falls back to polling `/proc` instead (see the session).
//!
//! Wire format (host byte order), after the 16-byte `nlmsghdr`:
//!
//! ```text
//! cn_msg:     idx u32 | val u32 | seq u32 | ack u32 | len u16 | flags u16 | data[len]
//! proc_event: what u32 | cpu u32 | timestamp_ns u64 | event_data (union)
//!   fork:  parent_pid, parent_tgid, child_pid, child_tgid  (u32 each)
//!   exec:  process_pid, process_tgid
//!   comm:  process_pid, process_tgid, comm[16]
//!   exit:  process_pid, process_tgid, exit_code, exit_signal, ...
//! ```

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

use netlink_sys::{protocols::NETLINK_CONNECTOR, Socket, SocketAddr};

use super::netlink::{drain, Datagram};
use crate::process::ProcInfo;

/// CN_IDX_PROC / CN_VAL_PROC: the process connector's id.
pub const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const NLMSG_HDR: usize = 16;
const CN_MSG_HDR: usize = 20;
const NLMSG_DONE: u16 = 3;
const NLMSG_ERROR: u16 = 2;
const NLMSG_OVERRUN: u16 = 4;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const PROC_CN_MCAST_IGNORE: u32 = 2;

const WHAT_FORK: u32 = 0x1;
const WHAT_EXEC: u32 = 0x2;
const WHAT_COMM: u32 = 0x200;
const WHAT_EXIT: u32 = 0x8000_0000;

/// One process event (threads are left out: only thread-group leaders count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcEvent {
    /// A new process (a copy of its parent until it execs).
    Fork {
        /// The parent's pid.
        parent: u32,
        /// The new process's pid.
        child: u32,
    },
    /// A process ran a new program.
    Exec {
        /// Its pid.
        pid: u32,
    },
    /// A process changed its name (prctl PR_SET_NAME on its leader thread).
    Comm {
        /// Its pid.
        pid: u32,
        /// The new name.
        comm: String,
    },
    /// A process exited.
    Exit {
        /// Its pid.
        pid: u32,
    },
    /// Events were lost (receive buffer overrun): rescan `/proc`.
    Overrun,
}

/// Why the connector could not be used.
#[derive(Debug)]
pub enum ProcEventsError {
    /// A socket call failed.
    Socket {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
}

impl std::fmt::Display for ProcEventsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcEventsError::Socket { what, source } => {
                write!(f, "process connector: {what}: {source}")
            }
        }
    }
}

impl std::error::Error for ProcEventsError {}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_ne_bytes([s[0], s[1]]))
}

/// The message that turns the event stream on (`listen`) or off.
pub fn encode_listen(listen: bool, seq: u32) -> Vec<u8> {
    let op = if listen {
        PROC_CN_MCAST_LISTEN
    } else {
        PROC_CN_MCAST_IGNORE
    };
    let total = NLMSG_HDR + CN_MSG_HDR + 4;
    let mut b = Vec::with_capacity(total);
    b.extend_from_slice(&(total as u32).to_ne_bytes());
    b.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    b.extend_from_slice(&0u16.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    b.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(&4u16.to_ne_bytes());
    b.extend_from_slice(&0u16.to_ne_bytes());
    b.extend_from_slice(&op.to_ne_bytes());
    b
}

/// Decode one `proc_event` (the cn_msg data).
pub fn decode_event(d: &[u8]) -> Option<ProcEvent> {
    let what = u32_at(d, 0)?;
    let ev = d.get(16..)?;
    match what {
        WHAT_FORK => {
            let (parent, child, child_tgid) = (u32_at(ev, 4)?, u32_at(ev, 8)?, u32_at(ev, 12)?);
            (child == child_tgid).then_some(ProcEvent::Fork { parent, child })
        }
        WHAT_EXEC => {
            let (pid, tgid) = (u32_at(ev, 0)?, u32_at(ev, 4)?);
            (pid == tgid).then_some(ProcEvent::Exec { pid })
        }
        WHAT_COMM => {
            let (pid, tgid) = (u32_at(ev, 0)?, u32_at(ev, 4)?);
            let raw = ev.get(8..24)?;
            let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
            let comm = String::from_utf8_lossy(&raw[..end]).into_owned();
            (pid == tgid).then_some(ProcEvent::Comm { pid, comm })
        }
        WHAT_EXIT => {
            let (pid, tgid) = (u32_at(ev, 0)?, u32_at(ev, 4)?);
            (pid == tgid).then_some(ProcEvent::Exit { pid })
        }
        _ => None,
    }
}

/// Decode a datagram of netlink messages carrying connector messages; appends to `out`.
/// Malformed parts are skipped.
pub fn decode(buf: &[u8], out: &mut Vec<ProcEvent>) {
    let mut off = 0usize;
    while let Some(len) = u32_at(buf, off) {
        let len = len as usize;
        let Some(end) = off
            .checked_add(len)
            .filter(|e| *e <= buf.len() && len >= NLMSG_HDR)
        else {
            return;
        };
        let msg = &buf[off..end];
        match u16_at(msg, 4) {
            Some(NLMSG_OVERRUN) => out.push(ProcEvent::Overrun),
            Some(NLMSG_ERROR) => {}
            _ => {
                let cn = &msg[NLMSG_HDR..];
                let ours = u32_at(cn, 0) == Some(CN_IDX_PROC) && u32_at(cn, 4) == Some(CN_VAL_PROC);
                let dlen = u16_at(cn, 16).map(usize::from);
                if let (true, Some(dlen)) = (ours, dlen) {
                    if let Some(data) = cn.get(CN_MSG_HDR..CN_MSG_HDR + dlen) {
                        out.extend(decode_event(data));
                    }
                }
            }
        }
        // Messages are 4-byte aligned.
        off = end.saturating_add(3) & !3;
    }
}

/// A non-blocking, mio-registrable subscription to process events.
#[derive(Debug)]
pub struct ProcEvents {
    sock: Socket,
    buf: Vec<u8>,
}

impl ProcEvents {
    /// Subscribe. Fails outside the initial network namespace (ECONNREFUSED) or without
    /// CAP_NET_ADMIN.
    pub fn open() -> Result<ProcEvents, ProcEventsError> {
        let err = |what| move |source| ProcEventsError::Socket { what, source };
        let mut sock = Socket::new(NETLINK_CONNECTOR).map_err(err("socket"))?;
        sock.bind(&SocketAddr::new(0, CN_IDX_PROC))
            .map_err(err("bind"))?;
        socket2::SockRef::from(&sock)
            .set_cloexec(true)
            .map_err(err("FD_CLOEXEC"))?;
        // A burst of forks must not overflow the default buffer.
        let _ = sock.set_rx_buf_sz(1 << 20);
        sock.send(&encode_listen(true, 1), 0)
            .map_err(err("listen"))?;
        sock.set_non_blocking(true).map_err(err("O_NONBLOCK"))?;
        Ok(ProcEvents {
            sock,
            buf: vec![0; 64 * 1024],
        })
    }

    /// As [`ProcEvents::open`], and when that is refused because this process is in
    /// another network namespace (`ip netns exec`, `-s/--namespace`), open the socket in
    /// the initial one — the namespace of pid 1, entered by a short-lived thread — where
    /// the connector lives. Returns the subscription and whether that detour was taken.
    pub fn open_anywhere() -> Result<(ProcEvents, bool), ProcEventsError> {
        let first = match ProcEvents::open() {
            Ok(ev) => return Ok((ev, false)),
            Err(e) => e,
        };
        let init =
            std::fs::File::open("/proc/1/ns/net").map_err(|source| ProcEventsError::Socket {
                what: "open /proc/1/ns/net",
                source,
            })?;
        let res = std::thread::Builder::new()
            .name("proc-connector".into())
            .spawn(move || {
                nix::sched::setns(&init, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                    ProcEventsError::Socket {
                        what: "setns to the initial network namespace",
                        source: io::Error::from(e),
                    }
                })?;
                ProcEvents::open()
            })
            .map_err(|source| ProcEventsError::Socket {
                what: "spawn a thread",
                source,
            })?
            .join();
        match res {
            Ok(Ok(ev)) => Ok((ev, true)),
            Ok(Err(_)) | Err(_) => Err(first),
        }
    }

    /// Read every pending event into `out`; returns when the socket would block.
    pub fn read_events(&mut self, out: &mut Vec<ProcEvent>) -> Result<(), ProcEventsError> {
        drain(&self.sock, &mut self.buf, |datagram| match datagram {
            Datagram::Bytes(bytes) => decode(bytes, out),
            Datagram::Overrun => out.push(ProcEvent::Overrun),
        })
        .map_err(|source| ProcEventsError::Socket {
            what: "recv",
            source,
        })
    }
}

impl Drop for ProcEvents {
    fn drop(&mut self) {
        let _ = self.sock.send(&encode_listen(false, 2), 0);
    }
}

impl AsRawFd for ProcEvents {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

mio_source_via_fd!(ProcEvents);

/// Read one process from `proc_root` (normally `/proc`): its name, and its command line
/// when `cmdline`. `None`: gone, a zombie, or unreadable.
pub fn read_process(proc_root: &Path, pid: u32, cmdline: bool) -> Option<ProcInfo> {
    let dir = proc_root.join(pid.to_string());
    // Zombies are not running (pgrep counts them, keepalived does not).
    let stat = std::fs::read(dir.join("stat")).ok()?;
    let close = stat.iter().rposition(|&c| c == b')')?;
    if matches!(stat.get(close + 2), Some(b'Z') | Some(b'X')) {
        return None;
    }
    let comm = std::fs::read(dir.join("comm")).ok()?;
    let comm = String::from_utf8_lossy(comm.strip_suffix(b"\n").unwrap_or(&comm)).into_owned();
    let cmdline = if cmdline {
        let raw = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        let raw = raw.strip_suffix(b"\0").unwrap_or(&raw);
        if raw.is_empty() {
            Vec::new()
        } else {
            raw.split(|&c| c == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        }
    } else {
        Vec::new()
    };
    Some(ProcInfo { pid, comm, cmdline })
}

/// Every running process under `proc_root`.
pub fn scan(proc_root: &Path, cmdline: bool) -> io::Result<Vec<ProcInfo>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(proc_root)? {
        let Ok(e) = e else { continue };
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        out.extend(read_process(proc_root, pid, cmdline));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cn(what: u32, ev: &[u32], comm: Option<&[u8; 16]>) -> Vec<u8> {
        let mut data = Vec::new();
        data.extend_from_slice(&what.to_ne_bytes());
        data.extend_from_slice(&0u32.to_ne_bytes());
        data.extend_from_slice(&123u64.to_ne_bytes());
        for v in ev {
            data.extend_from_slice(&v.to_ne_bytes());
        }
        if let Some(c) = comm {
            data.extend_from_slice(c);
        }
        let mut m = Vec::new();
        let total = NLMSG_HDR + CN_MSG_HDR + data.len();
        m.extend_from_slice(&(total as u32).to_ne_bytes());
        m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        m.extend_from_slice(&[0u8; 10]);
        m.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        m.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        m.extend_from_slice(&[0u8; 8]);
        m.extend_from_slice(&(data.len() as u16).to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&data);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    #[test]
    fn decodes_each_kind_and_skips_threads() {
        let mut buf = cn(WHAT_FORK, &[10, 10, 20, 20], None);
        buf.extend(cn(WHAT_FORK, &[10, 10, 21, 20], None)); // a thread
        buf.extend(cn(WHAT_EXEC, &[20, 20], None));
        let mut name = [0u8; 16];
        name[..5].copy_from_slice(b"hello");
        buf.extend(cn(WHAT_COMM, &[20, 20], Some(&name)));
        buf.extend(cn(WHAT_EXIT, &[20, 20, 0, 17, 10, 10], None));
        buf.extend(cn(WHAT_EXIT, &[21, 20, 0, 17, 10, 10], None)); // a thread
        buf.extend(cn(0x4, &[20, 20, 0, 0], None)); // UID change: ignored
        let mut out = Vec::new();
        decode(&buf, &mut out);
        assert_eq!(
            out,
            vec![
                ProcEvent::Fork {
                    parent: 10,
                    child: 20
                },
                ProcEvent::Exec { pid: 20 },
                ProcEvent::Comm {
                    pid: 20,
                    comm: "hello".into()
                },
                ProcEvent::Exit { pid: 20 },
            ]
        );
    }

    #[test]
    fn truncated_and_garbage_input_never_panics() {
        let buf = cn(WHAT_COMM, &[20, 20], Some(&[b'x'; 16]));
        for n in 0..buf.len() {
            let mut out = Vec::new();
            decode(&buf[..n], &mut out);
            assert!(out.is_empty(), "{n}: {out:?}");
        }
        let mut out = Vec::new();
        decode(&[0xff; 64], &mut out);
        decode(&[0; 64], &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn listen_message_layout() {
        let m = encode_listen(true, 7);
        assert_eq!(m.len(), 40);
        assert_eq!(u32_at(&m, 0), Some(40));
        assert_eq!(u16_at(&m, 4), Some(NLMSG_DONE));
        assert_eq!(u32_at(&m, 16), Some(CN_IDX_PROC));
        assert_eq!(u16_at(&m, 32), Some(4));
        assert_eq!(u32_at(&m, 36), Some(PROC_CN_MCAST_LISTEN));
    }

    #[test]
    fn reads_this_process_from_proc() {
        let me = std::process::id();
        let p = read_process(Path::new("/proc"), me, true).expect("self");
        assert_eq!(p.pid, me);
        assert!(!p.comm.is_empty() && p.comm.len() <= 15);
        assert!(!p.cmdline.is_empty());
        let all = scan(Path::new("/proc"), false).expect("scan");
        assert!(all.iter().any(|q| q.pid == me && q.comm == p.comm));
        assert!(read_process(Path::new("/proc"), u32::MAX, false).is_none());
    }

    /// In the initial network namespace the connector reports a process we start and
    /// its exit (root only; elsewhere `open` fails, which is what the VRRP child's
    /// polling fallback is for).
    #[test]
    fn connector_reports_fork_exec_exit() {
        if !ka_tests::require_root("connector_reports_fork_exec_exit") {
            return;
        }
        let mut ev = match ProcEvents::open() {
            Ok(e) => e,
            Err(e) => {
                let init = std::fs::read_link("/proc/1/ns/net").ok();
                let me = std::fs::read_link("/proc/self/ns/net").ok();
                assert_ne!(init, me, "connector unavailable in the initial netns: {e}");
                eprintln!("SKIPPED connector test: not in the initial network namespace");
                return;
            }
        };
        let mut child = std::process::Command::new("sleep")
            .arg("0.2")
            .spawn()
            .expect("sleep");
        let pid = child.id();
        let _ = child.wait();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut seen = Vec::new();
        while std::time::Instant::now() < deadline {
            ev.read_events(&mut seen).expect("read");
            if seen.contains(&ProcEvent::Exit { pid }) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(seen
            .iter()
            .any(|e| matches!(e, ProcEvent::Fork { child, .. } if *child == pid)));
        assert!(seen.contains(&ProcEvent::Exec { pid }));
        assert!(seen.contains(&ProcEvent::Exit { pid }));
    }
}
