//! The one place that knows how IPC messages become bytes.
//!
//! A frame is an 8-byte header followed by a bincode 2.0.1 (serde mode, `standard()`
//! config) payload:
//!
//! ```text
//!  0       1       2       3       4       5       6       7
//! +-------+-------+-------+-------+-------+-------+-------+-------+---------....
//! |  'K'  |  'A'  |version| flags |  payload length (u32, BE)     | payload
//! +-------+-------+-------+-------+-------+-------+-------+-------+---------....
//! ```
//!
//! * `version` is [`PROTOCOL_VERSION`]; any other value is refused: the stream is not ours,
//!   is corrupt, or comes from a build whose messages differ (the version changes whenever
//!   a message enum does; builds of the same version are told apart by their hello,
//!   [`super::Hello::check`]).
//! * `flags` is 0 (reserved).
//! * the payload length is bounded by the decoder's limit ([`MAX_FRAME`] by default); a
//!   larger length is an error *before* anything is allocated.
//!
//! Nothing in here panics on any input: every way a byte stream can be wrong is a
//! [`CodecError`].

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// The version byte carried by every frame (and by the hello message). 2: one message
/// enum pair per channel ([`super::vrrp`], [`super::checker`]) and the build in the hello.
/// 3: the configuration the start messages carry has typed routing tables, rule
/// actions, fwmarks, route types, VMAC MACs and `rs_init_notifies`. 4: a status is asked
/// and answered typed (`Status` each way on both channels), not as a JSON dump.
/// 5: the configuration carries AH and `auth_hmac` settings, and a VRRP status the six
/// `auth_ext_*` counters. 6: the run flags carry `-d` (`dump_conf`), `lvs_sync_daemon`'s sync id
/// is optional (None: the VRID), and so is `notify_priority_changes` (None: inherited).
pub const PROTOCOL_VERSION: u8 = 6;

/// The two magic bytes that start every frame.
pub const MAGIC: [u8; 2] = *b"KA";

/// Size of the frame header in bytes.
pub const HEADER_LEN: usize = 8;

/// Default upper bound of one frame's payload (64 MiB: a config of several hundred
/// thousand lines still fits; anything larger is treated as corruption).
pub const MAX_FRAME: usize = 64 << 20;

mod field {
    use std::ops::Range;
    pub const MAGIC: Range<usize> = 0..2;
    pub const VERSION: usize = 2;
    pub const FLAGS: usize = 3;
    pub const LENGTH: Range<usize> = 4..8;
}

/// What can be wrong with a frame or a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The message could not be serialised (a bug in a message type, or over the limit).
    Encode(String),
    /// The frame does not start with `KA`: the stream is garbage or out of step.
    BadMagic([u8; 2]),
    /// The frame carries another protocol version.
    Version {
        /// The version byte found.
        got: u8,
        /// The version we speak.
        want: u8,
    },
    /// The reserved flags byte is not zero.
    Flags(u8),
    /// The announced (or produced) payload is larger than the limit.
    TooLarge {
        /// Payload length announced in the header.
        len: usize,
        /// The limit in force.
        max: usize,
    },
    /// The payload is not a valid message.
    Decode {
        /// Payload length.
        len: usize,
        /// bincode's description of the problem.
        reason: String,
    },
    /// The payload decoded but did not use all of its bytes.
    TrailingBytes {
        /// Payload length.
        len: usize,
        /// Bytes the message used.
        used: usize,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Encode(e) => write!(f, "cannot encode IPC message: {e}"),
            CodecError::BadMagic(m) => {
                write!(
                    f,
                    "IPC frame starts with {:02x}{:02x}, not 'KA'",
                    m[0], m[1]
                )
            }
            CodecError::Version { got, want } => {
                write!(f, "IPC frame has protocol version {got}, expected {want}")
            }
            CodecError::Flags(x) => write!(f, "IPC frame has reserved flags {x:#04x} set"),
            CodecError::TooLarge { len, max } => {
                write!(
                    f,
                    "IPC frame of {len} bytes exceeds the limit of {max} bytes"
                )
            }
            CodecError::Decode { len, reason } => {
                write!(
                    f,
                    "IPC frame of {len} bytes is not a valid message: {reason}"
                )
            }
            CodecError::TrailingBytes { len, used } => write!(
                f,
                "IPC frame of {len} bytes has {} trailing bytes",
                len.saturating_sub(*used)
            ),
        }
    }
}

impl std::error::Error for CodecError {}

fn bincode_config() -> impl bincode::config::Config {
    // Fixed-size limit inside bincode as a second guard: no length prefix inside a payload
    // can make it allocate more than a frame may hold.
    bincode::config::standard().with_limit::<{ MAX_FRAME }>()
}

/// Serialise `msg` into a payload (no header): what [`decode_payload`] reads back. The
/// parent keeps its configuration in this form between uses (a fraction of the size of
/// the decoded model).
pub fn encode_payload<T: Serialize>(msg: &T) -> Result<Vec<u8>, CodecError> {
    bincode::serde::encode_to_vec(msg, bincode_config())
        .map_err(|e| CodecError::Encode(e.to_string()))
}

/// Serialise `msg` into one complete frame (header + payload), refusing payloads larger
/// than `max`.
pub fn encode_frame<T: Serialize>(msg: &T, max: usize) -> Result<Vec<u8>, CodecError> {
    let payload = encode_payload(msg)?;
    let len = payload.len();
    if len > max || u32::try_from(len).is_err() {
        return Err(CodecError::TooLarge { len, max });
    }
    let mut frame = Vec::with_capacity(HEADER_LEN + len);
    frame.extend_from_slice(&MAGIC);
    frame.push(PROTOCOL_VERSION);
    frame.push(0);
    frame.extend_from_slice(&(len as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// Decode one message from a payload (the bytes after a header).
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T, CodecError> {
    let len = payload.len();
    let (msg, used): (T, usize) = bincode::serde::decode_from_slice(payload, bincode_config())
        .map_err(|e| CodecError::Decode {
            len,
            reason: e.to_string(),
        })?;
    if used != len {
        return Err(CodecError::TrailingBytes { len, used });
    }
    Ok(msg)
}

/// Check a header; returns the payload length it announces.
pub fn parse_header(header: &[u8; HEADER_LEN], max: usize) -> Result<usize, CodecError> {
    let magic = [header[field::MAGIC.start], header[field::MAGIC.start + 1]];
    if magic != MAGIC {
        return Err(CodecError::BadMagic(magic));
    }
    let version = header[field::VERSION];
    if version != PROTOCOL_VERSION {
        return Err(CodecError::Version {
            got: version,
            want: PROTOCOL_VERSION,
        });
    }
    let flags = header[field::FLAGS];
    if flags != 0 {
        return Err(CodecError::Flags(flags));
    }
    let mut l = [0u8; 4];
    l.copy_from_slice(&header[field::LENGTH]);
    let len = u32::from_be_bytes(l) as usize;
    if len > max {
        return Err(CodecError::TooLarge { len, max });
    }
    Ok(len)
}

/// An empty buffer larger than this is freed rather than kept for the next frame: the
/// frames that follow a configuration are small, the configuration can be megabytes.
pub const KEEP_CAPACITY: usize = 64 * 1024;

/// Reassembles frames from a byte stream that arrives in arbitrary pieces.
///
/// Feed bytes with [`FrameDecoder::push`], take messages with [`FrameDecoder::next_message`].
/// After an error the decoder is poisoned (the stream has lost framing): every later call
/// returns the same error.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
    max: usize,
    failed: Option<CodecError>,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(MAX_FRAME)
    }
}

impl FrameDecoder {
    /// A decoder refusing payloads larger than `max` bytes (capped at [`MAX_FRAME`]).
    pub fn new(max: usize) -> FrameDecoder {
        FrameDecoder {
            buf: Vec::new(),
            start: 0,
            max: max.min(MAX_FRAME),
            failed: None,
        }
    }

    /// Append bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes the buffer holds room for.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Bytes received but not yet consumed by a complete frame.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    ///
    /// A header is checked as soon as its 8 bytes are in, so garbage or an oversized
    /// length is reported without waiting for (or buffering) the announced payload.
    pub fn next_message<T: DeserializeOwned>(&mut self) -> Result<Option<T>, CodecError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let avail = &self.buf[self.start..];
        if avail.len() < HEADER_LEN {
            self.compact();
            return Ok(None);
        }
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&avail[..HEADER_LEN]);
        let len = match parse_header(&header, self.max) {
            Ok(len) => len,
            Err(e) => return Err(self.fail(e)),
        };
        if avail.len() < HEADER_LEN + len {
            self.compact();
            return Ok(None);
        }
        let result = decode_payload(&avail[HEADER_LEN..HEADER_LEN + len]);
        self.start += HEADER_LEN + len;
        match result {
            Ok(msg) => {
                self.compact();
                Ok(Some(msg))
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail(&mut self, e: CodecError) -> CodecError {
        self.failed = Some(e.clone());
        self.buf = Vec::new();
        self.start = 0;
        e
    }

    fn compact(&mut self) {
        if self.start == self.buf.len() {
            if self.buf.capacity() > KEEP_CAPACITY {
                // A big frame (a configuration) went through: give its buffer back.
                self.buf = Vec::new();
            }
            self.buf.clear();
            self.start = 0;
        } else if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ipc::checker::{FromChecker, ToChecker};
    use crate::ipc::vrrp::{FromVrrp, ToVrrp};
    use crate::ipc::{DumpKind, InstanceSnapshot, ServiceSnapshot, VrrpState};
    use proptest::prelude::*;

    fn snapshot() -> InstanceSnapshot {
        InstanceSnapshot {
            name: "VI_1".into(),
            vrid: 51,
            interface: Some("eth0".into()),
            ipv6: false,
            state: VrrpState::Master,
            priority: 150,
            base_priority: 150,
            addresses_installed: true,
        }
    }

    fn vrrp_report() -> crate::ipc::vrrp::VrrpReport {
        use crate::ipc::vrrp::{InstanceReport, ScriptState, VrrpReport};
        let mut stats = [0u64; 26];
        stats[1] = 70;
        VrrpReport {
            instances: vec![InstanceReport {
                iname: "VI_1".into(),
                vips: vec!["10.0.0.1/24".into()],
                master_ipaddr: Some("10.0.0.2".into()),
                last_transition_reason: Some("master_down".into()),
                sync_group: None,
                stats,
                transitions_by_reason: vec![("startup".into(), 1), ("master_down".into(), 2)],
            }],
            scripts: vec![(
                "chk".into(),
                ScriptState {
                    status: "GOOD".into(),
                    state: "idle".into(),
                },
            )],
        }
    }

    fn checker_report() -> crate::ipc::checker::CheckerReport {
        use crate::ipc::checker::*;
        CheckerReport {
            virtual_servers: vec![VirtualServerReport {
                virtual_server: "[10.0.0.1]:tcp:80".into(),
                quorum_up: true,
                alive_weight: 3,
                sorry_active: false,
                real_servers: vec![RealServerReport {
                    real_server: "[10.0.0.2]:tcp:80".into(),
                    alive: true,
                    weight: 3,
                    failed_checks: 0,
                    drained: false,
                    checkers: vec![CheckerStatus {
                        keepalive_method: "TCP_CHECK".into(),
                        up: true,
                        last_result: Some("ok".into()),
                        latency_ms: Some(0.25),
                        consecutive_failures: 0,
                        last_failure: None,
                    }],
                }],
            }],
            checks: crate::ipc::checker::fixtures::tcp_checks(1),
            ipvs: Some(vec![IpvsService {
                service: "TCP 10.0.0.1:80".into(),
                stats: IpvsCounters {
                    conns: 5,
                    ..Default::default()
                },
                dests: vec![IpvsDest {
                    real_server: "10.0.0.2:80".into(),
                    weight: 3,
                    active_conns: 1,
                    inactive_conns: 0,
                    stats: IpvsCounters::default(),
                }],
            }]),
        }
    }

    #[test]
    fn status_reports_round_trip() {
        let mut d = FrameDecoder::default();
        d.push(&encode_frame(&ToVrrp::Status, MAX_FRAME).unwrap());
        assert_eq!(d.next_message::<ToVrrp>().unwrap(), Some(ToVrrp::Status));
        let m = FromVrrp::Status(Box::new(vrrp_report()));
        d.push(&encode_frame(&m, MAX_FRAME).unwrap());
        assert_eq!(d.next_message::<FromVrrp>().unwrap(), Some(m));
        d.push(&encode_frame(&ToChecker::Status, MAX_FRAME).unwrap());
        assert_eq!(
            d.next_message::<ToChecker>().unwrap(),
            Some(ToChecker::Status)
        );
        let m = FromChecker::Status(Box::new(checker_report()));
        d.push(&encode_frame(&m, MAX_FRAME).unwrap());
        assert_eq!(d.next_message::<FromChecker>().unwrap(), Some(m));
        // Empty reports (a child asked before its start) too.
        let m = FromChecker::Status(Box::default());
        d.push(&encode_frame(&m, MAX_FRAME).unwrap());
        assert_eq!(d.next_message::<FromChecker>().unwrap(), Some(m));
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn header_layout_is_as_documented() {
        let f = encode_frame(&ToVrrp::Stop, MAX_FRAME).unwrap();
        assert_eq!(&f[..2], b"KA");
        assert_eq!(f[2], PROTOCOL_VERSION);
        assert_eq!(f[3], 0);
        let len = u32::from_be_bytes([f[4], f[5], f[6], f[7]]) as usize;
        assert_eq!(len, f.len() - HEADER_LEN);
    }

    #[test]
    fn messages_round_trip_byte_by_byte() {
        let msgs = vec![
            FromVrrp::Ready,
            FromVrrp::InstanceState(snapshot()),
            FromVrrp::DumpText {
                kind: DumpKind::Json,
                text: "[]".into(),
            },
        ];
        let mut bytes = Vec::new();
        for m in &msgs {
            bytes.extend(encode_frame(m, MAX_FRAME).unwrap());
        }
        let mut d = FrameDecoder::default();
        let mut got = Vec::new();
        for b in bytes {
            d.push(&[b]);
            while let Some(m) = d.next_message::<FromVrrp>().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got, msgs);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn checker_messages_round_trip() {
        let to = vec![
            ToChecker::Hello(crate::ipc::Hello::new(crate::ipc::Role::Checker)),
            ToChecker::VrrpInstance(snapshot()),
            ToChecker::Dump(DumpKind::Data),
            ToChecker::Stop,
        ];
        let from = vec![
            FromChecker::Ready,
            FromChecker::ServiceState(ServiceSnapshot {
                virtual_server: "[10.0.0.1]:tcp:80".into(),
                real_server: Some("[192.168.1.2]:tcp:80".into()),
                up: true,
            }),
        ];
        let mut d = FrameDecoder::default();
        for m in &to {
            d.push(&encode_frame(m, MAX_FRAME).unwrap());
            assert_eq!(d.next_message::<ToChecker>().unwrap().as_ref(), Some(m));
        }
        for m in &from {
            d.push(&encode_frame(m, MAX_FRAME).unwrap());
            assert_eq!(d.next_message::<FromChecker>().unwrap().as_ref(), Some(m));
        }
    }

    /// The seeds of the `ipc_decode` fuzz target (`crates/proto/fuzz/corpus/ipc_decode`):
    /// a split byte, then frames of this protocol version. Run with `KA_WRITE_FUZZ_SEEDS=1`
    /// to write them again after a message changes.
    fn fuzz_seeds() -> Vec<(String, Vec<Vec<u8>>)> {
        use crate::ipc::{Hello, Role, RunFlags};
        let f = |r: Result<Vec<u8>, CodecError>| r.unwrap();
        let service = ServiceSnapshot {
            virtual_server: "[10.0.0.1]:tcp:80".into(),
            real_server: None,
            up: false,
        };
        let to_vrrp = [
            ToVrrp::Hello(Hello::new(Role::Vrrp)),
            ToVrrp::Resume(vec![snapshot()]),
            ToVrrp::Start {
                config: Box::default(),
                flags: RunFlags::default(),
            },
            ToVrrp::Dump(DumpKind::Stats),
            ToVrrp::Status,
            ToVrrp::Maintenance {
                instances: vec!["VI_1".into()],
                on: true,
            },
            ToVrrp::Stop,
        ];
        let mut seeds = vec![(
            "to_vrrp".to_string(),
            to_vrrp
                .iter()
                .map(|m| f(encode_frame(m, MAX_FRAME)))
                .collect(),
        )];
        seeds.push((
            "from_vrrp".into(),
            vec![
                f(encode_frame(
                    &FromVrrp::Hello(Hello::new(Role::Vrrp)),
                    MAX_FRAME,
                )),
                f(encode_frame(&FromVrrp::Ready, MAX_FRAME)),
                f(encode_frame(
                    &FromVrrp::InstanceState(snapshot()),
                    MAX_FRAME,
                )),
                f(encode_frame(
                    &FromVrrp::Status(Box::new(vrrp_report())),
                    MAX_FRAME,
                )),
            ],
        ));
        seeds.push((
            "to_checker".into(),
            vec![
                f(encode_frame(
                    &ToChecker::VrrpInstance(snapshot()),
                    MAX_FRAME,
                )),
                f(encode_frame(&ToChecker::Dump(DumpKind::Data), MAX_FRAME)),
                f(encode_frame(&ToChecker::Status, MAX_FRAME)),
                f(encode_frame(&ToChecker::Stop, MAX_FRAME)),
            ],
        ));
        seeds.push((
            "from_checker".into(),
            vec![
                f(encode_frame(&FromChecker::ServiceState(service), MAX_FRAME)),
                f(encode_frame(
                    &FromChecker::Status(Box::new(checker_report())),
                    MAX_FRAME,
                )),
                f(encode_frame(
                    &FromChecker::DumpText {
                        kind: DumpKind::Data,
                        text: "[]".into(),
                    },
                    MAX_FRAME,
                )),
            ],
        ));
        seeds
    }

    fn decodes_whole<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> bool {
        let mut d = FrameDecoder::default();
        d.push(bytes);
        let mut n = 0;
        loop {
            match d.next_message::<T>() {
                Ok(Some(_)) => n += 1,
                Ok(None) => return n > 0 && d.pending() == 0,
                Err(_) => return false,
            }
        }
    }

    #[test]
    fn fuzz_seeds_are_frames_of_this_version() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/ipc_decode");
        if std::env::var_os("KA_WRITE_FUZZ_SEEDS").is_some() {
            for e in std::fs::read_dir(&dir).unwrap() {
                std::fs::remove_file(e.unwrap().path()).unwrap();
            }
            for (name, frames) in fuzz_seeds() {
                // Seed i: the frames from i on, split at a different place each.
                for i in 0..frames.len() {
                    let mut seed = vec![(i * 7) as u8];
                    seed.extend(frames[i..].concat());
                    std::fs::write(dir.join(format!("{name}{i}")), seed).unwrap();
                }
            }
        }
        let mut kinds = std::collections::BTreeSet::new();
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let seed = std::fs::read(&path).unwrap();
            let frames = &seed[1..];
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let kind = if name.starts_with("to_vrrp") && decodes_whole::<ToVrrp>(frames) {
                "to_vrrp"
            } else if name.starts_with("from_vrrp") && decodes_whole::<FromVrrp>(frames) {
                "from_vrrp"
            } else if name.starts_with("to_checker") && decodes_whole::<ToChecker>(frames) {
                "to_checker"
            } else if name.starts_with("from_checker") && decodes_whole::<FromChecker>(frames) {
                "from_checker"
            } else {
                panic!(
                    "{} is not a seed of this protocol version: rewrite the seeds with \
                     KA_WRITE_FUZZ_SEEDS=1 cargo test -p ka-proto fuzz_seeds",
                    path.display()
                )
            };
            kinds.insert(kind);
        }
        assert_eq!(kinds.len(), 4, "{kinds:?}");
    }

    #[test]
    fn bad_magic_is_an_error_and_poisons() {
        let mut d = FrameDecoder::default();
        d.push(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(
            d.next_message::<FromVrrp>(),
            Err(CodecError::BadMagic(*b"GE"))
        );
        d.push(&encode_frame(&FromVrrp::Ready, MAX_FRAME).unwrap());
        assert!(d.next_message::<FromVrrp>().is_err());
    }

    #[test]
    fn oversized_length_is_refused_before_the_payload_arrives() {
        let mut d = FrameDecoder::new(1024);
        d.push(&[b'K', b'A', PROTOCOL_VERSION, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            d.next_message::<FromVrrp>(),
            Err(CodecError::TooLarge {
                len: 0xffff_ffff,
                max: 1024
            })
        );
    }

    #[test]
    fn encoder_refuses_over_the_limit() {
        let big = FromVrrp::DumpText {
            kind: DumpKind::Data,
            text: "x".repeat(2000),
        };
        assert!(matches!(
            encode_frame(&big, 1000),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn wrong_version_and_flags_are_refused() {
        let mut f = encode_frame(&FromVrrp::Ready, MAX_FRAME).unwrap();
        f[2] = PROTOCOL_VERSION + 1;
        let mut d = FrameDecoder::default();
        d.push(&f);
        assert!(matches!(
            d.next_message::<FromVrrp>(),
            Err(CodecError::Version { .. })
        ));
        let mut f = encode_frame(&FromVrrp::Ready, MAX_FRAME).unwrap();
        f[3] = 1;
        let mut d = FrameDecoder::default();
        d.push(&f);
        assert_eq!(d.next_message::<FromVrrp>(), Err(CodecError::Flags(1)));
    }

    #[test]
    fn bad_payload_and_trailing_bytes_are_refused() {
        // Variant index far beyond the enum.
        let mut f = vec![b'K', b'A', PROTOCOL_VERSION, 0, 0, 0, 0, 1];
        f.push(200);
        let mut d = FrameDecoder::default();
        d.push(&f);
        assert!(matches!(
            d.next_message::<FromVrrp>(),
            Err(CodecError::Decode { .. })
        ));
        // A valid message with one extra byte inside the frame.
        let mut payload =
            bincode::serde::encode_to_vec(&FromVrrp::Ready, bincode_config()).unwrap();
        payload.push(0);
        let mut f = vec![b'K', b'A', PROTOCOL_VERSION, 0];
        f.extend((payload.len() as u32).to_be_bytes());
        f.extend(payload);
        let mut d = FrameDecoder::default();
        d.push(&f);
        assert!(matches!(
            d.next_message::<FromVrrp>(),
            Err(CodecError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn huge_inner_length_prefix_does_not_allocate() {
        // A DumpText whose string claims u64::MAX bytes: bincode's limit refuses it.
        let mut payload = bincode::serde::encode_to_vec(
            &FromVrrp::DumpText {
                kind: DumpKind::Data,
                text: String::new(),
            },
            bincode_config(),
        )
        .unwrap();
        // The last byte is the string's varint length (0): replace with u64::MAX varint.
        payload.pop();
        payload.push(253);
        payload.extend(u64::MAX.to_le_bytes());
        let mut f = vec![b'K', b'A', PROTOCOL_VERSION, 0];
        f.extend((payload.len() as u32).to_be_bytes());
        f.extend(payload);
        let mut d = FrameDecoder::default();
        d.push(&f);
        assert!(d.next_message::<FromVrrp>().is_err());
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut d = FrameDecoder::new(4096);
            d.push(&bytes);
            for _ in 0..8 {
                match d.next_message::<FromVrrp>() {
                    Ok(Some(_)) => continue,
                    Ok(None) | Err(_) => break,
                }
            }
            for decode in [
                |d: &mut FrameDecoder| d.next_message::<ToVrrp>().map(|_| ()),
                |d: &mut FrameDecoder| d.next_message::<ToChecker>().map(|_| ()),
                |d: &mut FrameDecoder| d.next_message::<FromChecker>().map(|_| ()),
            ] {
                let mut d = FrameDecoder::new(4096);
                d.push(&bytes);
                let _ = decode(&mut d);
            }
        }

        #[test]
        fn garbage_after_a_valid_header_never_panics(
            payload in proptest::collection::vec(any::<u8>(), 0..512)
        ) {
            let mut f = vec![b'K', b'A', PROTOCOL_VERSION, 0];
            f.extend((payload.len() as u32).to_be_bytes());
            f.extend(&payload);
            let mut d = FrameDecoder::default();
            d.push(&f);
            let _ = d.next_message::<FromVrrp>();
            for decode in [
                |d: &mut FrameDecoder| d.next_message::<ToVrrp>().map(|_| ()),
                |d: &mut FrameDecoder| d.next_message::<ToChecker>().map(|_| ()),
                |d: &mut FrameDecoder| d.next_message::<FromChecker>().map(|_| ()),
            ] {
                let mut d = FrameDecoder::default();
                d.push(&f);
                let _ = decode(&mut d);
            }
        }

        #[test]
        fn snapshots_round_trip(name in ".{0,40}", vrid in any::<u8>(), prio in any::<u8>(),
                                ipv6 in any::<bool>()) {
            let s = InstanceSnapshot { name, vrid, priority: prio, ipv6, ..snapshot() };
            let m = ToVrrp::Resume(vec![s.clone(), s]);
            let f = encode_frame(&m, MAX_FRAME).unwrap();
            let mut d = FrameDecoder::default();
            d.push(&f);
            prop_assert_eq!(d.next_message::<ToVrrp>().unwrap(), Some(m));
        }
    }
}
