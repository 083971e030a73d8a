//! `auth_hmac`: keepalived 2.4.x's HMAC-SHA256 advert trailer (sans-IO).
//!
//! A signed advert is the ordinary VRRP message followed by a 28-byte trailer (the IP
//! length covers it):
//!
//! | bytes  | field                                                              |
//! |--------|--------------------------------------------------------------------|
//! | 0      | trailer type, 1                                                    |
//! | 1      | key id, 1..=255                                                    |
//! | 2..4   | zero                                                               |
//! | 4..12  | sequence: u32 UNIX seconds, u16 fraction (1/65536 s), u16 counter  |
//! | 12..28 | tag: the first 16 bytes of HMAC-SHA256(key, M)                     |
//!
//! M is a 20-byte pseudo-header (IP version 4|6, VRRP version, VRID, 0, then the source
//! address: IPv4 padded with 12 zero bytes, or the IPv6 address), the VRRP message with
//! its checksum field read as zero, the trailer's first 12 bytes and 16 zero bytes.
//!
//! The VRRP checksum of v2 and v3/IPv4 adverts covers the message without the trailer; an
//! IPv6 advert's checksum (computed by the kernel, `IPV6_CHECKSUM`) covers the whole
//! payload, trailer included. [`crate::packet::AdvertRef::decode`] accepts both.
//!
//! This module holds the configuration ([`HmacConfig`]), the trailer encoding
//! ([`Trailer`]), signing and verification over M ([`sign`], [`verify`]), the sequence
//! generator ([`SequenceGen`], fed with a wall-clock time by the caller) and the
//! per-sender replay guard ([`ReplayGuard`]). It reads no clock.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Length of the trailer appended to a signed advert.
pub const TRAILER_LEN: usize = 28;
/// Length of the truncated tag.
pub const TAG_LEN: usize = 16;
/// The trailer type byte.
pub const TRAILER_TYPE: u8 = 1;
/// Smallest key length accepted (bytes).
pub const KEY_MIN_LEN: usize = 32;
/// Largest key length accepted (bytes).
pub const KEY_MAX_LEN: usize = 64;
/// Offset of the VRRP checksum field in the message.
const CHECKSUM_AT: usize = 6;
/// Length of the part of the trailer covered by the HMAC (type, key id, zero, sequence).
const HEAD_LEN: usize = TRAILER_LEN - TAG_LEN;

type HmacSha256 = Hmac<Sha256>;

/// How replays are detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AntiReplay {
    /// A freshness window around the receiver's wall clock plus a growing sequence per
    /// sender (the default; needs the nodes' clocks to agree within the window).
    #[default]
    Time,
    /// Only a growing sequence per sender; no clock agreement needed.
    Monotonic,
}

/// What is signed and what is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HmacMode {
    /// Sign every advert; drop adverts without a valid trailer (the default).
    #[default]
    Enforce,
    /// Sign every advert; accept adverts without a trailer, verify those with one.
    Permissive,
    /// Sign nothing; accept adverts without a trailer, verify those with one.
    ReceiveOnly,
}

impl HmacMode {
    /// Whether adverts are signed in this mode.
    pub fn signs(self) -> bool {
        !matches!(self, HmacMode::ReceiveOnly)
    }

    /// Whether an advert without a trailer is accepted.
    pub fn accepts_unsigned(self) -> bool {
        !matches!(self, HmacMode::Enforce)
    }
}

/// A signing key (its bytes are never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct HmacKey {
    /// Key id, 1..=255.
    pub id: u8,
    /// Key material, 32..=64 bytes.
    pub key: Vec<u8>,
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HmacKey {{ id: {}, key: <{} bytes> }}",
            self.id,
            self.key.len()
        )
    }
}

/// An instance's `auth_hmac` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HmacConfig {
    /// The keys a receiver accepts, by id.
    pub keys: Vec<HmacKey>,
    /// The id used when signing.
    pub active_key: u8,
    /// Replay detection.
    pub anti_replay: AntiReplay,
    /// Freshness window in seconds (`time` mode); `None` = max(3 x advert_int, 5 s).
    pub time_window: Option<u32>,
    /// Sign/accept mode.
    pub mode: HmacMode,
}

/// Why an `auth_hmac` configuration is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HmacConfigError {
    /// No key at all.
    NoKeys,
    /// A key id of 0.
    KeyIdZero,
    /// Two keys with the same id.
    DuplicateKey(u8),
    /// A key shorter than 32 or longer than 64 bytes.
    KeyLength { id: u8, len: usize },
    /// `active_key` names no configured key.
    ActiveKeyMissing(u8),
    /// `time_window` outside 1..=300.
    TimeWindow(u32),
}

impl fmt::Display for HmacConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HmacConfigError::NoKeys => write!(f, "auth_hmac has no key"),
            HmacConfigError::KeyIdZero => write!(f, "auth_hmac key id must be 1..255"),
            HmacConfigError::DuplicateKey(id) => write!(f, "auth_hmac key {id} defined twice"),
            HmacConfigError::KeyLength { id, len } => write!(
                f,
                "auth_hmac key {id} is {len} bytes, must be {KEY_MIN_LEN}..{KEY_MAX_LEN}"
            ),
            HmacConfigError::ActiveKeyMissing(id) => {
                write!(f, "auth_hmac active_key {id} is not a configured key")
            }
            HmacConfigError::TimeWindow(w) => {
                write!(f, "auth_hmac time_window {w} out of range 1..300")
            }
        }
    }
}

impl std::error::Error for HmacConfigError {}

impl HmacConfig {
    /// A configuration with one key, enforcing, time-based anti-replay, default window.
    pub fn single(id: u8, key: &[u8]) -> HmacConfig {
        HmacConfig {
            keys: vec![HmacKey {
                id,
                key: key.to_vec(),
            }],
            active_key: id,
            anti_replay: AntiReplay::Time,
            time_window: None,
            mode: HmacMode::Enforce,
        }
    }

    /// Check the keys, the active key and the window.
    pub fn validate(&self) -> Result<(), HmacConfigError> {
        if self.keys.is_empty() {
            return Err(HmacConfigError::NoKeys);
        }
        for (i, k) in self.keys.iter().enumerate() {
            if k.id == 0 {
                return Err(HmacConfigError::KeyIdZero);
            }
            if !(KEY_MIN_LEN..=KEY_MAX_LEN).contains(&k.key.len()) {
                return Err(HmacConfigError::KeyLength {
                    id: k.id,
                    len: k.key.len(),
                });
            }
            if self.keys[..i].iter().any(|o| o.id == k.id) {
                return Err(HmacConfigError::DuplicateKey(k.id));
            }
        }
        if self.key(self.active_key).is_none() {
            return Err(HmacConfigError::ActiveKeyMissing(self.active_key));
        }
        if let Some(w) = self.time_window {
            if !(1..=300).contains(&w) {
                return Err(HmacConfigError::TimeWindow(w));
            }
        }
        Ok(())
    }

    /// The key with id `id`.
    pub fn key(&self, id: u8) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|k| k.id == id)
            .map(|k| k.key.as_slice())
    }

    /// The freshness window in milliseconds for an advert interval of `advert_int_ms`:
    /// the configured one, else max(3 x advert_int, 5 s).
    pub fn window_ms(&self, advert_int_ms: u64) -> u64 {
        match self.time_window {
            Some(w) => u64::from(w) * 1000,
            None => (3 * advert_int_ms).max(5000),
        }
    }
}

/// A decoded trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailer {
    /// The key id.
    pub key_id: u8,
    /// The sequence (seconds << 32 | fraction << 16 | counter).
    pub seq: u64,
    /// The truncated tag.
    pub tag: [u8; TAG_LEN],
}

/// Why a trailer was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HmacError {
    /// No trailer where one is required (`enforce`).
    Missing,
    /// The bytes after the message are not a well-formed trailer (wrong length, type or
    /// reserved bytes).
    Malformed,
    /// The key id names no configured key.
    UnknownKey(u8),
    /// The tag does not verify.
    BadTag(u8),
    /// The sequence's time lies outside the freshness window (`time` mode).
    Stale {
        /// Sender's time minus ours, in seconds.
        skew_secs: i64,
    },
    /// The sequence is not above the last one accepted from this sender.
    Replay,
}

impl fmt::Display for HmacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HmacError::Missing => write!(f, "missing HMAC trailer"),
            HmacError::Malformed => write!(f, "malformed HMAC trailer"),
            HmacError::UnknownKey(id) => write!(f, "HMAC key id {id} not configured"),
            HmacError::BadTag(id) => write!(f, "invalid HMAC (key id {id})"),
            HmacError::Stale { skew_secs } => {
                write!(f, "stale HMAC trailer (sender clock skew {skew_secs} s)")
            }
            HmacError::Replay => write!(f, "replayed HMAC sequence"),
        }
    }
}

impl Trailer {
    /// The sequence's seconds part.
    pub fn secs(&self) -> u32 {
        (self.seq >> 32) as u32
    }

    /// The first 12 bytes (covered by the HMAC).
    fn head(key_id: u8, seq: u64) -> [u8; HEAD_LEN] {
        let mut h = [0u8; HEAD_LEN];
        h[0] = TRAILER_TYPE;
        h[1] = key_id;
        h[4..12].copy_from_slice(&seq.to_be_bytes());
        h
    }

    /// Encode the 28 bytes.
    pub fn encode(&self) -> [u8; TRAILER_LEN] {
        let mut out = [0u8; TRAILER_LEN];
        out[..HEAD_LEN].copy_from_slice(&Self::head(self.key_id, self.seq));
        out[HEAD_LEN..].copy_from_slice(&self.tag);
        out
    }

    /// Decode exactly 28 bytes. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<Trailer, HmacError> {
        let b: &[u8; TRAILER_LEN] = bytes.try_into().map_err(|_| HmacError::Malformed)?;
        if b[0] != TRAILER_TYPE || b[1] == 0 || b[2] != 0 || b[3] != 0 {
            return Err(HmacError::Malformed);
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&b[4..12]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&b[HEAD_LEN..]);
        Ok(Trailer {
            key_id: b[1],
            seq: u64::from_be_bytes(seq),
            tag,
        })
    }
}

/// The 20-byte pseudo-header bound into the HMAC.
fn pseudo_header(vrrp_version: u8, vrid: u8, src: IpAddr) -> [u8; 20] {
    let mut p = [0u8; 20];
    p[1] = vrrp_version;
    p[2] = vrid;
    match src {
        IpAddr::V4(a) => {
            p[0] = 4;
            p[4..8].copy_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            p[0] = 6;
            p[4..20].copy_from_slice(&a.octets());
        }
    }
    p
}

/// The HMAC over M for the VRRP message `msg` (without trailer) sent from `src`.
fn mac(key: &[u8], msg: &[u8], src: IpAddr, head: &[u8; HEAD_LEN]) -> Option<HmacSha256> {
    let ver = msg.first()? >> 4;
    let vrid = *msg.get(1)?;
    if msg.len() < CHECKSUM_AT + 2 {
        return None;
    }
    let mut m = HmacSha256::new_from_slice(key).ok()?;
    m.update(&pseudo_header(ver, vrid, src));
    m.update(&msg[..CHECKSUM_AT]);
    m.update(&[0, 0]);
    m.update(&msg[CHECKSUM_AT + 2..]);
    m.update(head);
    m.update(&[0u8; TAG_LEN]);
    Some(m)
}

/// The trailer signing `msg` (a complete VRRP message, checksum in place or not: it is
/// read as zero) sent from `src`, with key `key_id`/`key` and sequence `seq`. `None` when
/// `msg` is shorter than a VRRP header.
pub fn sign(msg: &[u8], src: IpAddr, key_id: u8, key: &[u8], seq: u64) -> Option<Trailer> {
    let head = Trailer::head(key_id, seq);
    let full = mac(key, msg, src, &head)?.finalize().into_bytes();
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&full[..TAG_LEN]);
    Some(Trailer { key_id, seq, tag })
}

/// Split a received VRRP payload into the message and its trailer: `msg_len` is the
/// message's length as its header says (header, addresses, v2 authentication data).
/// A payload exactly 28 bytes longer carries a trailer; any other length carries none
/// (what follows, if anything, is not a trailer and is left to the checksum).
pub fn split(payload: &[u8], msg_len: usize) -> (&[u8], Option<&[u8]>) {
    if payload.len() == msg_len + TRAILER_LEN {
        (&payload[..msg_len], Some(&payload[msg_len..]))
    } else {
        (payload, None)
    }
}

/// Verify the trailer `trailer` (28 bytes) of `msg` sent from `src` against the keys of
/// `cfg`: the key id must be configured and the tag must match (compared in constant
/// time). Freshness and replay are the [`ReplayGuard`]'s. Never panics.
pub fn verify(
    cfg: &HmacConfig,
    msg: &[u8],
    trailer: &[u8],
    src: IpAddr,
) -> Result<Trailer, HmacError> {
    let t = Trailer::decode(trailer)?;
    let key = cfg.key(t.key_id).ok_or(HmacError::UnknownKey(t.key_id))?;
    let head = Trailer::head(t.key_id, t.seq);
    let m = mac(key, msg, src, &head).ok_or(HmacError::Malformed)?;
    m.verify_truncated_left(&t.tag)
        .map_err(|_| HmacError::BadTag(t.key_id))?;
    Ok(t)
}

/// RFC 1982 serial-number comparison of two 64-bit sequences: `a` after `b`.
pub fn seq_after(a: u64, b: u64) -> bool {
    a != b && (a.wrapping_sub(b) as i64) > 0
}

/// The sender's time (sequence seconds) minus `now_secs`, in seconds, by serial
/// arithmetic on 32 bits (so a wrapped seconds counter compares right).
pub fn skew_secs(seq_secs: u32, now_secs: u64) -> i64 {
    skew(seq_secs, now_secs)
}

fn skew(seq_secs: u32, now_secs: u64) -> i64 {
    i64::from(seq_secs.wrapping_sub(now_secs as u32) as i32)
}

/// A sender's sequence generator: strictly growing, derived from the wall clock.
#[derive(Clone, Debug, Default)]
pub struct SequenceGen {
    last: Option<u64>,
}

impl SequenceGen {
    /// The sequence for an advert sent at `wall` (time since the UNIX epoch): seconds and
    /// 1/65536 fraction, counter 0; when the clock has not moved past the last sequence
    /// (same fraction, or stepped back), the last one with its counter advanced.
    /// `restart_after` (`anti_replay time`: the freshness window, seconds): when the last
    /// sequence lies more than that ahead of the clock (a forward step since corrected),
    /// start again from the clock, as receivers would reject the stored one as stale
    /// anyway. `None` (`monotonic`): always grow.
    pub fn next(&mut self, wall: Duration, restart_after: Option<u64>) -> u64 {
        let secs = wall.as_secs() as u32;
        let frac = ((u64::from(wall.subsec_nanos()) << 16) / 1_000_000_000) as u16;
        let t = (u64::from(secs) << 32) | (u64::from(frac) << 16);
        let stranded = |last: u64| {
            restart_after.is_some_and(|w| skew((last >> 32) as u32, wall.as_secs()) > w as i64)
        };
        let seq = match self.last {
            Some(last) if !seq_after(t, last | 0xffff) && !stranded(last) => {
                if last & 0xffff == 0xffff {
                    // Counter exhausted within one fraction: borrow the next fraction.
                    (last | 0xffff).wrapping_add(1)
                } else {
                    last + 1
                }
            }
            _ => t,
        };
        self.last = Some(seq);
        seq
    }
}

/// Per-sender replay marks: the highest sequence accepted from each source address.
#[derive(Clone, Debug, Default)]
pub struct ReplayGuard {
    marks: HashMap<IpAddr, u64>,
}

impl ReplayGuard {
    /// Check trailer `t` from `src` received at wall time `now` and, when accepted, record
    /// it. `time` mode: the sequence's seconds must lie within `window_ms` of `now`;
    /// marks outside the window are forgotten. Both modes: the sequence must come after
    /// the sender's mark (serial-number order).
    pub fn check(
        &mut self,
        mode: AntiReplay,
        window_ms: u64,
        src: IpAddr,
        seq: u64,
        now: Duration,
    ) -> Result<(), HmacError> {
        let now_secs = now.as_secs();
        let window = i64::try_from(window_ms.div_ceil(1000)).unwrap_or(i64::MAX);
        if mode == AntiReplay::Time {
            let s = skew((seq >> 32) as u32, now_secs);
            if s.abs() > window {
                return Err(HmacError::Stale { skew_secs: s });
            }
            self.marks
                .retain(|_, m| skew((*m >> 32) as u32, now_secs).abs() <= window);
        }
        if let Some(&mark) = self.marks.get(&src) {
            if !seq_after(seq, mark) {
                return Err(HmacError::Replay);
            }
        }
        self.marks.insert(src, seq);
        Ok(())
    }

    /// Forget every mark (e.g. when the keys change).
    pub fn clear(&mut self) {
        self.marks.clear();
    }

    /// The number of senders remembered.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// Whether no sender is remembered.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn key() -> Vec<u8> {
        (0u8..32).collect()
    }

    fn cfg() -> HmacConfig {
        HmacConfig::single(7, &key())
    }

    const V2: &str = "45c0004400010000ff70d06c0a090001e00000122133960100013e5d0a0900640000000000000000010700006b155a34b6a30000b699b5d729954de472c0025f09c99e53";
    const V3: &str = "45c0003c00010000ff70d0740a090001e000001231339601006443610a090064010700006b155a8277fc0000d09befb0989cc1184297b96927ccff9a";
    const V6: &str = "6c061133003470fffe80000000000000ac4d77fffeaac944ff020000000000000000000000000012313496010064fdf4fd000000000000000000000000000100010700006b155a88fb220000844721f9c4e05ae0d290767347a0398b";

    /// (payload, message length, source, destination)
    fn vector(which: &str) -> (Vec<u8>, usize, IpAddr, IpAddr) {
        match which {
            "v2" => (
                hex(V2)[20..].to_vec(),
                20,
                "10.9.0.1".parse().expect("ip"),
                "224.0.0.18".parse().expect("ip"),
            ),
            "v3" => (
                hex(V3)[20..].to_vec(),
                12,
                "10.9.0.1".parse().expect("ip"),
                "224.0.0.18".parse().expect("ip"),
            ),
            _ => (
                hex(V6)[40..].to_vec(),
                24,
                "fe80::ac4d:77ff:feaa:c944".parse().expect("ip"),
                "ff02::12".parse().expect("ip"),
            ),
        }
    }

    #[test]
    fn captured_vectors_verify_and_resign_identically() {
        for which in ["v2", "v3", "v6"] {
            let (payload, len, src, dst) = vector(which);
            assert_eq!(payload.len(), len + TRAILER_LEN, "{which}");
            // The VRRP checksum as the format says: without the trailer (IPv4), with it (IPv6).
            let (adv, _) = crate::packet::AdvertRef::decode(&payload, src, dst).expect(which);
            assert_eq!(adv.vrid, if which == "v6" { 52 } else { 51 });
            let (msg, tr) = split(&payload, len);
            let tr = tr.expect("trailer");
            let t = verify(&cfg(), msg, tr, src).expect(which);
            assert_eq!(t.key_id, 7);
            assert_eq!(t.seq & 0xffff, 0, "counter 0 in the captures");
            let again = sign(msg, src, 7, &key(), t.seq).expect("sign");
            assert_eq!(&again.encode()[..], tr, "{which}");
        }
    }

    #[test]
    fn tampering_is_detected() {
        let (payload, len, src, _) = vector("v3");
        let (msg, tr) = split(&payload, len);
        let tr = tr.expect("trailer");
        // Priority changed.
        let mut m = msg.to_vec();
        m[2] ^= 1;
        assert_eq!(verify(&cfg(), &m, tr, src), Err(HmacError::BadTag(7)));
        // The checksum field is not covered.
        let mut m = msg.to_vec();
        m[6] ^= 0xff;
        assert!(verify(&cfg(), &m, tr, src).is_ok());
        // Sequence changed.
        let mut t = tr.to_vec();
        t[11] ^= 1;
        assert_eq!(verify(&cfg(), msg, &t, src), Err(HmacError::BadTag(7)));
        // Another sender.
        let other: IpAddr = "10.9.0.2".parse().expect("ip");
        assert_eq!(verify(&cfg(), msg, tr, other), Err(HmacError::BadTag(7)));
        // Another key.
        let mut c = cfg();
        c.keys[0].key[0] ^= 1;
        assert_eq!(verify(&c, msg, tr, src), Err(HmacError::BadTag(7)));
        // Unknown key id.
        let mut t = tr.to_vec();
        t[1] = 8;
        assert_eq!(verify(&cfg(), msg, &t, src), Err(HmacError::UnknownKey(8)));
        // Malformed: type, reserved bytes, key id 0, length.
        for (i, v) in [(0, 2u8), (2, 1), (3, 1), (1, 0)] {
            let mut t = tr.to_vec();
            t[i] = v;
            assert_eq!(verify(&cfg(), msg, &t, src), Err(HmacError::Malformed));
        }
        assert_eq!(
            verify(&cfg(), msg, &tr[1..], src),
            Err(HmacError::Malformed)
        );
    }

    #[test]
    fn split_needs_the_exact_length() {
        let p = [0u8; 60];
        assert!(split(&p, 32).1.is_some());
        assert!(split(&p, 31).1.is_none());
        assert!(split(&p, 33).1.is_none());
        assert_eq!(split(&p, 60).0.len(), 60);
    }

    #[test]
    fn trailer_round_trip() {
        let t = Trailer {
            key_id: 9,
            seq: 0x0102_0304_0506_0708,
            tag: [0xaa; TAG_LEN],
        };
        let b = t.encode();
        assert_eq!(&b[..4], &[1, 9, 0, 0]);
        assert_eq!(Trailer::decode(&b), Ok(t));
        assert_eq!(t.secs(), 0x0102_0304);
    }

    #[test]
    fn config_validation_and_window() {
        assert_eq!(cfg().validate(), Ok(()));
        let mut c = cfg();
        c.keys[0].key.truncate(31);
        assert_eq!(
            c.validate(),
            Err(HmacConfigError::KeyLength { id: 7, len: 31 })
        );
        let mut c = cfg();
        c.keys[0].key = vec![1; 65];
        assert!(c.validate().is_err());
        let mut c = cfg();
        c.active_key = 3;
        assert_eq!(c.validate(), Err(HmacConfigError::ActiveKeyMissing(3)));
        let mut c = cfg();
        c.keys.push(c.keys[0].clone());
        assert_eq!(c.validate(), Err(HmacConfigError::DuplicateKey(7)));
        let mut c = cfg();
        c.time_window = Some(301);
        assert!(c.validate().is_err());
        assert_eq!(
            HmacConfig {
                keys: vec![],
                ..cfg()
            }
            .validate(),
            Err(HmacConfigError::NoKeys)
        );
        // max(3 x advert_int, 5 s), or the configured window.
        assert_eq!(cfg().window_ms(1000), 5000);
        assert_eq!(cfg().window_ms(3000), 9000);
        c.time_window = Some(10);
        assert_eq!(c.window_ms(3000), 10_000);
        // Keys are never printed.
        assert!(!format!("{:?}", cfg()).contains("31"));
    }

    #[test]
    fn sequence_grows_with_the_clock_and_the_counter() {
        let mut g = SequenceGen::default();
        let t0 = Duration::new(0x6b15_5a34, 500_000_000);
        let a = g.next(t0, None);
        assert_eq!(a, (0x6b15_5a34u64 << 32) | (0x8000 << 16));
        // Same instant: the counter moves.
        assert_eq!(g.next(t0, None), a + 1);
        assert_eq!(g.next(t0, None), a + 2);
        // Clock stepped back: still growing.
        let b = g.next(Duration::new(0x6b15_5a00, 0), None);
        assert!(seq_after(b, a + 2));
        // Clock moves on: counter back to 0.
        let c = g.next(t0 + Duration::from_millis(10), None);
        assert_eq!(c & 0xffff, 0);
        assert!(seq_after(c, b));
    }

    #[test]
    fn time_mode_sequence_recovers_from_a_corrected_clock_step() {
        let now = Duration::from_secs(1_000_000);
        // The clock jumped an hour ahead, then back.
        let mut g = SequenceGen::default();
        let ahead = g.next(now + Duration::from_secs(3600), Some(5));
        // Time mode: the stored sequence is stranded past the window, restart from the clock.
        assert_eq!(g.next(now, Some(5)) >> 32, 1_000_000);
        // Within the window: still strictly growing.
        let mut g = SequenceGen::default();
        let a = g.next(now + Duration::from_secs(3), Some(5));
        assert_eq!(g.next(now, Some(5)), a + 1);
        // Monotonic mode: never goes back.
        let mut g = SequenceGen::default();
        assert_eq!(g.next(now + Duration::from_secs(3600), None), ahead);
        assert_eq!(g.next(now, None), ahead + 1);
    }

    #[test]
    fn replay_guard_time_mode() {
        let src: IpAddr = "10.9.0.1".parse().expect("ip");
        let other: IpAddr = "10.9.0.2".parse().expect("ip");
        let now = Duration::from_secs(1_000_000);
        let seq = |s: u64, c: u64| (s << 32) | c;
        let mut g = ReplayGuard::default();
        let w = 5000;
        assert_eq!(
            g.check(AntiReplay::Time, w, src, seq(1_000_000, 1), now),
            Ok(())
        );
        // Same or older: replay, per sender.
        assert_eq!(
            g.check(AntiReplay::Time, w, src, seq(1_000_000, 1), now),
            Err(HmacError::Replay)
        );
        assert_eq!(
            g.check(AntiReplay::Time, w, src, seq(999_999, 9), now),
            Err(HmacError::Replay)
        );
        assert_eq!(
            g.check(AntiReplay::Time, w, other, seq(999_999, 9), now),
            Ok(())
        );
        // Outside the window either way: stale.
        assert_eq!(
            g.check(AntiReplay::Time, w, src, seq(1_000_006, 0), now),
            Err(HmacError::Stale { skew_secs: 6 })
        );
        assert_eq!(
            g.check(AntiReplay::Time, w, src, seq(999_994, 0), now),
            Err(HmacError::Stale { skew_secs: -6 })
        );
        assert_eq!(
            g.check(AntiReplay::Time, w, src, seq(1_000_005, 0), now),
            Ok(())
        );
        // Later, the marks fall outside the window and are forgotten.
        let later = now + Duration::from_secs(60);
        assert_eq!(
            g.check(AntiReplay::Time, w, other, seq(1_000_060, 0), later),
            Ok(())
        );
        assert_eq!(g.len(), 1);
        // Serial-number order across the 32-bit seconds wrap.
        let mut g = ReplayGuard::default();
        let at = Duration::from_secs(u64::from(u32::MAX));
        assert_eq!(
            g.check(AntiReplay::Time, w, src, seq(u64::from(u32::MAX), 0), at),
            Ok(())
        );
        assert_eq!(
            g.check(
                AntiReplay::Time,
                w,
                src,
                seq(1, 0),
                at + Duration::from_secs(2)
            ),
            Ok(())
        );
    }

    #[test]
    fn replay_guard_monotonic_mode_keeps_marks() {
        let src: IpAddr = "fe80::1".parse().expect("ip");
        let mut g = ReplayGuard::default();
        let now = Duration::from_secs(1_000_000);
        // Any clock is fine...
        assert_eq!(
            g.check(AntiReplay::Monotonic, 5000, src, 5 << 32, now),
            Ok(())
        );
        // ...but never backwards, however much later.
        let later = now + Duration::from_secs(100_000);
        assert_eq!(
            g.check(AntiReplay::Monotonic, 5000, src, 4 << 32, later),
            Err(HmacError::Replay)
        );
        assert_eq!(
            g.check(AntiReplay::Monotonic, 5000, src, (5 << 32) + 1, later),
            Ok(())
        );
    }

    proptest! {
        #[test]
        fn decode_and_verify_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..120),
                                         len in 0usize..120, v6 in any::<bool>()) {
            let src: IpAddr = if v6 { "fe80::1".parse().expect("ip") } else { "10.0.0.1".parse().expect("ip") };
            let _ = Trailer::decode(&payload);
            let (msg, tr) = split(&payload, len);
            if let Some(tr) = tr {
                let _ = verify(&cfg(), msg, tr, src);
            }
            let _ = verify(&cfg(), &payload, &payload, src);
            let _ = sign(&payload, src, 7, &key(), 1);
        }

        #[test]
        fn signed_messages_verify(msg in proptest::collection::vec(any::<u8>(), 8..80), seq in any::<u64>()) {
            let src: IpAddr = "10.0.0.1".parse().expect("ip");
            let t = sign(&msg, src, 7, &key(), seq).expect("sign");
            prop_assert_eq!(verify(&cfg(), &msg, &t.encode(), src), Ok(t));
        }
    }
}
