//! [`Channel`]: one end of a parent <-> child socketpair, typed by what it sends and what
//! it receives.

use super::codec::{self, CodecError, FrameDecoder, MAX_FRAME};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::io::{self, Read, Write};
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;

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

/// One end of a parent <-> child socketpair that sends `Out` and receives `In`, framing
/// messages with [`codec`].
///
/// The two ends of a pair have the types swapped: the parent's end of the VRRP channel is
/// a `Channel<ToVrrp, FromVrrp>` ([`super::vrrp::ParentEnd`]), the child's a
/// `Channel<FromVrrp, ToVrrp>` ([`super::vrrp::ChildEnd`]); neither can send or read the
/// checker's messages.
///
/// Works blocking (the children's handshake) or non-blocking (the parent's mio loop:
/// register [`Channel::as_raw_fd`] for readable + writable, call [`Channel::recv`] until
/// `Ok(None)` on readable and [`Channel::flush`] on writable).
pub struct Channel<Out, In> {
    sock: UnixStream,
    rx: FrameDecoder,
    tx: Vec<u8>,
    tx_start: usize,
    max: usize,
    /// Sends `Out`, receives `In` (and is `Send`/`Sync` whatever they are: it holds none).
    types: PhantomData<fn(Out) -> In>,
}

impl<Out, In> fmt::Debug for Channel<Out, In> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("sock", &self.sock)
            .field("pending", &self.rx.pending())
            .field("queued", &self.queued())
            .field("max", &self.max)
            .finish()
    }
}

impl<Out: Serialize, In: DeserializeOwned> Channel<Out, In> {
    /// Queue `msg` and write as much as the socket takes. In blocking mode everything is
    /// written before this returns.
    pub fn send(&mut self, msg: &Out) -> Result<(), ChannelError> {
        let frame = codec::encode_frame(msg, self.max)?;
        if self.tx.is_empty() {
            self.tx = frame;
        } else {
            self.tx.extend_from_slice(&frame);
        }
        self.flush().map(|_| ())
    }

    /// The next message: `Ok(None)` when a non-blocking socket has nothing more for now.
    /// In blocking mode this waits for a whole message.
    pub fn recv(&mut self) -> Result<Option<In>, ChannelError> {
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

impl<Out, In> Channel<Out, In> {
    /// A connected pair (this end, the other end).
    pub fn pair() -> io::Result<(Channel<Out, In>, Channel<In, Out>)> {
        let (a, b) = UnixStream::pair()?;
        Ok((Channel::new(a), Channel::new(b)))
    }

    /// Wrap a connected stream.
    pub fn new(sock: UnixStream) -> Channel<Out, In> {
        Channel::with_limit(sock, MAX_FRAME)
    }

    /// Wrap a connected stream, with a frame size limit (capped at [`MAX_FRAME`]).
    pub fn with_limit(sock: UnixStream, max: usize) -> Channel<Out, In> {
        let max = max.min(MAX_FRAME);
        Channel {
            sock,
            rx: FrameDecoder::new(max),
            tx: Vec::new(),
            tx_start: 0,
            max,
            types: PhantomData,
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
}

impl<Out, In> AsRawFd for Channel<Out, In> {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl<Out, In> AsFd for Channel<Out, In> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ipc::checker::{self, FromChecker, ToChecker};
    use crate::ipc::vrrp::{self, FromVrrp, ToVrrp};
    use crate::ipc::{DumpKind, Hello, Role, RunFlags};

    #[test]
    fn buffers_of_a_big_frame_are_given_back() {
        // A configuration of a few hundred kilobytes goes through; the buffers it needed
        // on both ends are freed, not kept for the small frames that follow.
        let (mut p, mut c) = vrrp::pair().unwrap();
        c.set_nonblocking(true).unwrap();
        p.set_nonblocking(true).unwrap();
        let mut config = crate::config::Config::default();
        config.global.notification_email = vec!["x".repeat(100); 4000];
        p.send(&ToVrrp::Start {
            config: Box::new(config),
            flags: RunFlags::default(),
        })
        .unwrap();
        let mut got = None;
        for _ in 0..1000 {
            p.flush().unwrap();
            if let Some(m) = c.recv().unwrap() {
                got = Some(m);
                break;
            }
        }
        assert!(matches!(got, Some(ToVrrp::Start { .. })));
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
        c.send(&FromVrrp::Ready).unwrap();
        assert_eq!(p.recv().unwrap(), Some(FromVrrp::Ready));
    }

    #[test]
    fn vrrp_channel_carries_its_messages_both_ways() {
        let (mut p, mut c) = vrrp::pair().unwrap();
        p.send(&ToVrrp::Hello(Hello::new(Role::Vrrp))).unwrap();
        p.send(&ToVrrp::Start {
            config: Box::default(),
            flags: RunFlags::default(),
        })
        .unwrap();
        let h = c.recv().unwrap().unwrap();
        assert!(matches!(
            h,
            ToVrrp::Hello(Hello {
                role: Role::Vrrp,
                ..
            })
        ));
        let s = c.recv().unwrap().unwrap();
        assert!(matches!(s, ToVrrp::Start { .. }));
        c.send(&FromVrrp::Ready).unwrap();
        assert_eq!(p.recv().unwrap(), Some(FromVrrp::Ready));
    }

    #[test]
    fn checker_channel_carries_its_messages_both_ways() {
        let (mut p, mut c) = checker::pair().unwrap();
        p.send(&ToChecker::Hello(Hello::new(Role::Checker)))
            .unwrap();
        p.send(&ToChecker::Dump(DumpKind::Data)).unwrap();
        assert!(matches!(
            c.recv().unwrap(),
            Some(ToChecker::Hello(Hello {
                role: Role::Checker,
                ..
            }))
        ));
        assert_eq!(c.recv().unwrap(), Some(ToChecker::Dump(DumpKind::Data)));
        c.send(&FromChecker::Ready).unwrap();
        assert_eq!(p.recv().unwrap(), Some(FromChecker::Ready));
    }

    #[test]
    fn nonblocking_recv_returns_none_then_closed() {
        let (mut p, c) = vrrp::pair().unwrap();
        p.set_nonblocking(true).unwrap();
        assert!(matches!(p.recv(), Ok(None)));
        drop(c);
        assert!(matches!(p.recv(), Err(ChannelError::Closed)));
    }

    #[test]
    fn peer_closing_with_unread_data_is_closed_not_an_error() {
        let (mut p, mut c) = vrrp::pair().unwrap();
        p.send(&ToVrrp::Stop).unwrap();
        c.send(&FromVrrp::Ready).unwrap();
        drop(c); // closes with our Stop unread
        assert_eq!(p.recv().unwrap(), Some(FromVrrp::Ready));
        assert!(matches!(p.recv(), Err(ChannelError::Closed)));
        assert!(matches!(p.send(&ToVrrp::Stop), Err(ChannelError::Closed)));
    }

    #[test]
    fn garbage_on_the_socket_is_a_codec_error() {
        let (mut p, c) = checker::pair().unwrap();
        (c.socket())
            .write_all(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4])
            .unwrap();
        assert!(matches!(
            p.recv(),
            Err(ChannelError::Codec(CodecError::BadMagic(_)))
        ));
    }

    #[test]
    fn large_message_is_queued_on_a_full_nonblocking_socket() {
        let (mut c, mut p) = vrrp::pair().map(|(p, c)| (c, p)).unwrap();
        c.set_nonblocking(true).unwrap();
        let text = "y".repeat(4 << 20);
        c.send(&FromVrrp::DumpText {
            kind: DumpKind::Data,
            text: text.clone(),
        })
        .unwrap();
        assert!(c.queued() > 0, "4 MiB cannot fit in a socket buffer");
        let reader = std::thread::spawn(move || p.recv().unwrap());
        while !c.flush().unwrap() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let got = reader.join().unwrap();
        assert_eq!(
            got,
            Some(FromVrrp::DumpText {
                kind: DumpKind::Data,
                text
            })
        );
    }
}
