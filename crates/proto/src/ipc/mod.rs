//! Parent <-> child messages, and the channel that carries them.
//!
//! The parent forks one VRRP child and one checker child; each pair talks over a
//! `socketpair(AF_UNIX, SOCK_STREAM)` wrapped in a [`Channel`]. Frames are described in
//! [`codec`]. The conversation:
//!
//! ```text
//!   parent                                  child
//!     | -- Hello{version, role} ------------> |   (first frame each way)
//!     | <------------ Hello{version, role} -- |
//!     | -- Resume([snapshots]) -------------> |   (VRRP only, only on a respawn,
//!     |                                       |    always BEFORE Start)
//!     | -- Start{config, flags} ------------> |
//!     | <-------------------------- Ready --- |
//!     | <-------- InstanceState / ServiceState / Stats / PeerEvent / Log ... |
//!     | -- Reload{config} ------------------> |   (SIGHUP, config already validated)
//!     | -- Dump(kind) ----------------------> |   (SIGUSR1/SIGUSR2/JSON/STATS_CLEAR)
//!     | <------------- DumpText{kind, text} - |   (the parent writes the file)
//!     | -- PeerEvent(ev) -------------------> |   (forwarded from the other child)
//!     | -- Stop ----------------------------> |   (SIGTERM/SIGINT; child cleans up, exits 0)
//! ```
//!
//! A child that sends a frame the parent cannot decode is logged and restarted.

pub mod codec;

pub use codec::{CodecError, FrameDecoder, MAX_FRAME, PROTOCOL_VERSION};

use crate::config::Config;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;

/// Which child a process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// The VRRP child (`Keepalived_vrrp`).
    Vrrp,
    /// The health-checker / IPVS child (`Keepalived_healthcheckers`).
    Checker,
}

impl Role {
    /// keepalived's syslog ident for this child.
    pub fn ident(self) -> &'static str {
        match self {
            Role::Vrrp => "Keepalived_vrrp",
            Role::Checker => "Keepalived_healthcheckers",
        }
    }

    /// How keepalived names it in messages ("VRRP child process(123) died").
    pub fn label(self) -> &'static str {
        match self {
            Role::Vrrp => "VRRP",
            Role::Checker => "Healthcheck",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The first frame in each direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u8,
    /// The child the conversation is with.
    pub role: Role,
    /// Process id of the sender.
    pub pid: u32,
}

impl Hello {
    /// A hello from this process, for `role`.
    pub fn new(role: Role) -> Hello {
        Hello {
            version: PROTOCOL_VERSION,
            role,
            pid: std::process::id(),
        }
    }
}

/// Command-line switches the children act on (the parent parsed the command line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFlags {
    /// `-V/--dont-release-vrrp`: keep VIPs and routes on stop.
    pub dont_release_vrrp: bool,
    /// `-X/--release-vips`: drop VIPs on startup/stop even when not master.
    pub release_vips: bool,
    /// `-I/--dont-release-ipvs`: leave the IPVS topology in place on stop.
    pub dont_release_ipvs: bool,
    /// `-D/--log-detail`.
    pub log_detail: bool,
    /// `-a/--address-monitoring`.
    pub address_monitoring: bool,
}

/// Which dump a signal asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DumpKind {
    /// SIGUSR1: the state dump (`keepalived.data`, `keepalived_check.data`).
    Data,
    /// SIGUSR2: the VRRP counters (`keepalived.stats`).
    Stats,
    /// SIGRTMAX-1: the counters, then zero them (`keepalived.stats`).
    StatsClear,
    /// SIGRTMIN+2: the JSON dump (`keepalived.json`).
    Json,
}

/// A VRRP instance's state as keepalived names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VrrpState {
    /// Not started yet.
    Init,
    /// BACKUP.
    Backup,
    /// MASTER.
    Master,
    /// FAULT.
    Fault,
    /// Stopped (on shutdown).
    Stop,
}

impl fmt::Display for VrrpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VrrpState::Init => "INIT",
            VrrpState::Backup => "BACKUP",
            VrrpState::Master => "MASTER",
            VrrpState::Fault => "FAULT",
            VrrpState::Stop => "STOP",
        })
    }
}

/// The last known state of one VRRP instance: reported by the VRRP child on every change,
/// kept by the parent, and handed back in [`ToChild::Resume`] to a respawned child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSnapshot {
    /// `vrrp_instance NAME`.
    pub name: String,
    /// `virtual_router_id`.
    pub vrid: u8,
    /// The instance's interface, if it has one.
    pub interface: Option<String>,
    /// IPv6 instance.
    pub ipv6: bool,
    /// Current state.
    pub state: VrrpState,
    /// Effective priority (base + tracker weights).
    pub priority: u8,
    /// Configured priority.
    pub base_priority: u8,
    /// Are the VIPs (and virtual routes/rules) installed right now?
    pub addresses_installed: bool,
}

/// The state of one virtual or real server, reported by the checker child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    /// The virtual server as keepalived prints it, e.g. `[10.0.0.1]:tcp:80` or `FWM 5`.
    pub virtual_server: String,
    /// The real server (`[192.168.1.2]:tcp:80`), or `None` for the virtual server itself.
    pub real_server: Option<String>,
    /// Up (alive / quorum reached) or down.
    pub up: bool,
}

/// Counters of one VRRP instance (SIGUSR2) or one checker, by keepalived's names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsReport {
    /// Instance (or virtual server) name.
    pub name: String,
    /// Counter name -> value (`advert_rcvd`, `became_master`, ...).
    pub counters: BTreeMap<String, u64>,
}

/// Something one child tells the other; the parent passes it through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerEvent {
    /// Checker -> VRRP: a virtual server gained or lost quorum (for `track_` users and
    /// `ha_suspend`).
    Quorum {
        /// The virtual server.
        virtual_server: String,
        /// Quorum reached.
        up: bool,
    },
    /// VRRP -> checker: an instance changed state (`lvs_sync_daemon` follows it).
    Instance(InstanceSnapshot),
    /// Checker -> VRRP: a service changed state.
    Service(ServiceSnapshot),
}

impl PeerEvent {
    /// Which child the event is for.
    pub fn destination(&self) -> Role {
        match self {
            PeerEvent::Quorum { .. } | PeerEvent::Service(_) => Role::Vrrp,
            PeerEvent::Instance(_) => Role::Checker,
        }
    }
}

/// Log levels a child may ask the parent to log with (mirrors `log::Level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogLevel {
    /// error
    Error,
    /// warn
    Warn,
    /// info
    Info,
    /// debug (`-D` detail)
    Debug,
}

/// Parent -> child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToChild {
    /// First frame.
    Hello(Hello),
    /// Start with this configuration.
    Start {
        /// The validated configuration.
        config: Box<Config>,
        /// Command-line switches.
        flags: RunFlags,
    },
    /// SIGHUP: a new, validated configuration; diff against the running one.
    Reload {
        /// The new configuration.
        config: Box<Config>,
    },
    /// The respawned VRRP child's instances as they were (sent before `Start`): a MASTER
    /// instance resumes MASTER at once with its addresses kept and sends an advert.
    Resume(Vec<InstanceSnapshot>),
    /// Write a dump: answer with [`FromChild::DumpText`].
    Dump(DumpKind),
    /// Stop: release what `RunFlags` says to release, then exit 0.
    Stop,
    /// An event from the other child.
    PeerEvent(PeerEvent),
}

/// Child -> parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromChild {
    /// First frame.
    Hello(Hello),
    /// Started (after `Start`) or reloaded (after `Reload`).
    Ready,
    /// A VRRP instance changed state or priority.
    InstanceState(InstanceSnapshot),
    /// A virtual/real server changed state.
    ServiceState(ServiceSnapshot),
    /// Counters (answer to nothing in particular; the parent keeps the last ones).
    Stats(Vec<StatsReport>),
    /// The text of a dump file; the parent writes it where keepalived would.
    DumpText {
        /// Which dump.
        kind: DumpKind,
        /// The file's content.
        text: String,
    },
    /// For the other child.
    PeerEvent(PeerEvent),
    /// A line for the parent's log.
    Log {
        /// Level.
        level: LogLevel,
        /// The message.
        message: String,
    },
}

/// What can go wrong on a [`Channel`].
#[derive(Debug)]
pub enum ChannelError {
    /// The other end closed the socket.
    Closed,
    /// A system call failed.
    Io(io::Error),
    /// The bytes are not a valid frame or message.
    Codec(CodecError),
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::Closed => f.write_str("IPC channel closed by the other end"),
            ChannelError::Io(e) => write!(f, "IPC channel I/O error: {e}"),
            ChannelError::Codec(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ChannelError {}

impl From<io::Error> for ChannelError {
    fn from(e: io::Error) -> Self {
        ChannelError::Io(e)
    }
}

impl From<CodecError> for ChannelError {
    fn from(e: CodecError) -> Self {
        ChannelError::Codec(e)
    }
}

/// One end of a parent <-> child socketpair, framing messages with [`codec`].
///
/// Works blocking (the placeholder children) or non-blocking (the parent's mio loop:
/// register [`Channel::as_raw_fd`] for readable + writable, call [`Channel::recv`] until
/// `Ok(None)` on readable and [`Channel::flush`] on writable).
#[derive(Debug)]
pub struct Channel {
    sock: UnixStream,
    rx: FrameDecoder,
    tx: Vec<u8>,
    tx_start: usize,
    max: usize,
}

impl Channel {
    /// A connected pair (parent end, child end).
    pub fn pair() -> io::Result<(Channel, Channel)> {
        let (a, b) = UnixStream::pair()?;
        Ok((Channel::new(a), Channel::new(b)))
    }

    /// Wrap a connected stream.
    pub fn new(sock: UnixStream) -> Channel {
        Channel::with_limit(sock, MAX_FRAME)
    }

    /// Wrap a connected stream, with a frame size limit (capped at [`MAX_FRAME`]).
    pub fn with_limit(sock: UnixStream, max: usize) -> Channel {
        let max = max.min(MAX_FRAME);
        Channel {
            sock,
            rx: FrameDecoder::new(max),
            tx: Vec::new(),
            tx_start: 0,
            max,
        }
    }

    /// Switch the socket between blocking and non-blocking mode.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.sock.set_nonblocking(on)
    }

    /// The socket.
    pub fn socket(&self) -> &UnixStream {
        &self.sock
    }

    /// Queue `msg` and write as much as the socket takes. In blocking mode everything is
    /// written before this returns.
    pub fn send<T: Serialize>(&mut self, msg: &T) -> Result<(), ChannelError> {
        let frame = codec::encode_frame(msg, self.max)?;
        if self.tx.is_empty() {
            self.tx = frame;
        } else {
            self.tx.extend_from_slice(&frame);
        }
        self.flush().map(|_| ())
    }

    /// Write queued bytes; `Ok(true)` when nothing is left queued.
    pub fn flush(&mut self) -> Result<bool, ChannelError> {
        while self.tx_start < self.tx.len() {
            match self.sock.write(&self.tx[self.tx_start..]) {
                Ok(0) => return Err(ChannelError::Closed),
                Ok(n) => self.tx_start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    return Err(ChannelError::Closed)
                }
                Err(e) => return Err(ChannelError::Io(e)),
            }
        }
        if self.tx.capacity() > codec::KEEP_CAPACITY {
            // A big frame (a configuration) went out: give its buffer back.
            self.tx = Vec::new();
        }
        self.tx.clear();
        self.tx_start = 0;
        Ok(true)
    }

    /// Bytes queued but not yet written.
    pub fn queued(&self) -> usize {
        self.tx.len() - self.tx_start
    }

    /// The next message: `Ok(None)` when a non-blocking socket has nothing more for now.
    /// In blocking mode this waits for a whole message.
    pub fn recv<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ChannelError> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if let Some(msg) = self.rx.next_message()? {
                return Ok(Some(msg));
            }
            match self.sock.read(&mut buf) {
                Ok(0) => return Err(ChannelError::Closed),
                Ok(n) => self.rx.push(&buf[..n]),
                // The peer closed with our data unread in its buffer.
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(ChannelError::Closed)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ChannelError::Io(e)),
            }
        }
    }
}

impl AsRawFd for Channel {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn buffers_of_a_big_frame_are_given_back() {
        // A configuration of a few hundred kilobytes goes through; the buffers it needed
        // on both ends are freed, not kept for the small frames that follow.
        let (mut p, mut c) = Channel::pair().unwrap();
        c.set_nonblocking(true).unwrap();
        p.set_nonblocking(true).unwrap();
        let mut config = crate::config::Config::default();
        config.global.notification_email = vec!["x".repeat(100); 4000];
        p.send(&ToChild::Start {
            config: Box::new(config),
            flags: RunFlags::default(),
        })
        .unwrap();
        let mut got = None;
        for _ in 0..1000 {
            p.flush().unwrap();
            if let Some(m) = c.recv::<ToChild>().unwrap() {
                got = Some(m);
                break;
            }
        }
        assert!(matches!(got, Some(ToChild::Start { .. })));
        assert!(p.flush().unwrap());
        assert!(
            p.tx.capacity() <= codec::KEEP_CAPACITY,
            "{}",
            p.tx.capacity()
        );
        assert!(
            c.rx.capacity() <= codec::KEEP_CAPACITY,
            "{}",
            c.rx.capacity()
        );
        // Small frames still work afterwards.
        c.send(&FromChild::Ready).unwrap();
        assert_eq!(p.recv::<FromChild>().unwrap(), Some(FromChild::Ready));
    }

    #[test]
    fn channel_pair_carries_messages_both_ways() {
        let (mut p, mut c) = Channel::pair().unwrap();
        p.send(&ToChild::Hello(Hello::new(Role::Vrrp))).unwrap();
        p.send(&ToChild::Start {
            config: Box::default(),
            flags: RunFlags::default(),
        })
        .unwrap();
        let h: ToChild = c.recv().unwrap().unwrap();
        assert!(matches!(
            h,
            ToChild::Hello(Hello {
                role: Role::Vrrp,
                ..
            })
        ));
        let s: ToChild = c.recv().unwrap().unwrap();
        assert!(matches!(s, ToChild::Start { .. }));
        c.send(&FromChild::Ready).unwrap();
        assert_eq!(p.recv::<FromChild>().unwrap(), Some(FromChild::Ready));
    }

    #[test]
    fn nonblocking_recv_returns_none_then_closed() {
        let (mut p, c) = Channel::pair().unwrap();
        p.set_nonblocking(true).unwrap();
        assert!(matches!(p.recv::<FromChild>(), Ok(None)));
        drop(c);
        assert!(matches!(p.recv::<FromChild>(), Err(ChannelError::Closed)));
    }

    #[test]
    fn peer_closing_with_unread_data_is_closed_not_an_error() {
        let (mut p, mut c) = Channel::pair().unwrap();
        p.send(&ToChild::Stop).unwrap();
        c.send(&FromChild::Ready).unwrap();
        drop(c); // closes with our Stop unread
        assert_eq!(p.recv::<FromChild>().unwrap(), Some(FromChild::Ready));
        assert!(matches!(p.recv::<FromChild>(), Err(ChannelError::Closed)));
        assert!(matches!(p.send(&ToChild::Stop), Err(ChannelError::Closed)));
    }

    #[test]
    fn garbage_on_the_socket_is_a_codec_error() {
        let (mut p, c) = Channel::pair().unwrap();
        (c.socket())
            .write_all(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4])
            .unwrap();
        assert!(matches!(
            p.recv::<FromChild>(),
            Err(ChannelError::Codec(CodecError::BadMagic(_)))
        ));
    }

    #[test]
    fn large_message_is_queued_on_a_full_nonblocking_socket() {
        let (mut p, mut c) = Channel::pair().unwrap();
        p.set_nonblocking(true).unwrap();
        let text = "y".repeat(4 << 20);
        p.send(&FromChild::DumpText {
            kind: DumpKind::Data,
            text: text.clone(),
        })
        .unwrap();
        assert!(p.queued() > 0, "4 MiB cannot fit in a socket buffer");
        let reader = std::thread::spawn(move || c.recv::<FromChild>().unwrap());
        while !p.flush().unwrap() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let got = reader.join().unwrap();
        assert_eq!(
            got,
            Some(FromChild::DumpText {
                kind: DumpKind::Data,
                text
            })
        );
    }
}
