//! Any bytes from a child (or the parent), split at an arbitrary point: the frame decoder
//! and the four message types (both directions of both channels) must never panic, and a
//! decoded message must re-encode to a frame that decodes to the same message: compared
//! as the bytes it encodes to again, since a float field may hold a NaN (not equal to
//! itself under `PartialEq`; seen by the fuzzer in a checker status).
//!
//! The seeds (`corpus/ipc_decode`) are written by the ka-proto test
//! `fuzz_seeds_are_frames_of_this_version` (`KA_WRITE_FUZZ_SEEDS=1`), which also fails when
//! they are no longer frames of the current protocol version.
#![no_main]

use ka_proto::ipc::checker::{FromChecker, ToChecker};
use ka_proto::ipc::codec::{encode_frame, FrameDecoder, MAX_FRAME};
use ka_proto::ipc::vrrp::{FromVrrp, ToVrrp};
use libfuzzer_sys::fuzz_target;

fn check<T>(data: &[u8], split: usize)
where
    T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let mut d = FrameDecoder::new(1 << 20);
    d.push(&data[..split]);
    let mut got: Vec<T> = Vec::new();
    while let Ok(Some(m)) = d.next_message::<T>() {
        got.push(m);
    }
    d.push(&data[split..]);
    while let Ok(Some(m)) = d.next_message::<T>() {
        got.push(m);
    }
    for m in got {
        let f = encode_frame(&m, MAX_FRAME).expect("a decoded message re-encodes");
        let mut d2 = FrameDecoder::default();
        d2.push(&f);
        let back: T = d2
            .next_message()
            .expect("re-encoded frame decodes")
            .expect("complete frame");
        let again = encode_frame(&back, MAX_FRAME).expect("a decoded message re-encodes");
        assert_eq!(again, f, "{m:?} re-encodes differently after a round trip");
    }
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let split = data[0] as usize % data.len();
    let data = &data[1..];
    let split = split.min(data.len());
    check::<ToVrrp>(data, split);
    check::<FromVrrp>(data, split);
    check::<ToChecker>(data, split);
    check::<FromChecker>(data, split);
});
