//! A sans-IO VRRP engine: events and time go in, actions come out.
//!
//! This crate implements VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) for IPv4 and IPv6 with
//! keepalived's behaviour (timers, preemption, owner, priority 0, trackers, sync groups,
//! gratuitous ARP schedule). It opens no socket, reads no clock and starts no thread: the
//! caller feeds [`Input`]s with the current [`Timestamp`] and carries out the returned
//! [`Action`]s. The same engine runs in the daemon, in an embedding program and in the
//! deterministic simulator ([`sim`]).
//!
//! ```
//! use vrrp::{Engine, EngineConfig, InstanceConfig, Input, Action, Timestamp};
//!
//! let mut cfg = InstanceConfig::new("VI_1", "eth0", 51, &["192.0.2.100".parse().unwrap()]);
//! cfg.src_addr = Some("192.0.2.1".parse().unwrap());
//! let mut engine = Engine::new(EngineConfig { instances: vec![cfg], sync_groups: vec![] }).unwrap();
//!
//! let mut now = Timestamp::ZERO;
//! let _ = engine.handle(Input::Startup, now);
//! // Nobody else speaks: after Master_Down_Interval (3 x 1 s + skew) we take over.
//! now = engine.next_deadline().unwrap();
//! let actions = engine.handle(Input::Timer, now);
//! assert!(actions.iter().any(|a| matches!(a, Action::AddAddresses { .. })));
//! assert_eq!(engine.instance("VI_1").unwrap().state, vrrp::State::Master);
//! ```
//!
//! The loop an I/O layer runs: wait for a packet, a link/address/tracker event or
//! `next_deadline()`; feed it with the current time; execute the actions in order.
//! Packets for VRIDs no instance has are counted in [`EngineStats`] and ignored.

// `deny`, not `forbid`, only because a crate-wide `forbid` cannot be lifted for the one
// module that needs `unsafe`: `linux::sys` (small system-call wrappers, a `// SAFETY:` on
// each block). Every other module is forbidden it, see `unsafe_stays_in_linux_sys` below.
#![deny(unsafe_code)]

pub mod ah;
pub mod config;
mod engine;
pub mod event;
pub mod fasthash;
pub mod hmac_auth;
pub mod install;
mod instance;
pub mod packet;
pub mod process;
pub mod sim;
pub mod stats;
pub mod time;
pub mod track;

#[cfg(feature = "linux")]
pub mod linux;

pub use config::{
    AddressSet, Auth, ConfigError, EngineConfig, Family, GarpConfig, InitialState, InstanceConfig,
    SyncGroupConfig, TrackConfig, TrackKind, UnicastPeer, Vip,
};
pub use engine::{Engine, InstanceStatus};
pub use event::{
    Action, Input, NotifyState, NotifyTarget, Packet, Reason, RogueOwner, State, TrackStatus,
};
pub use install::AddrOptions;
pub use packet::{Advert, AdvertRef, ChecksumKind, DecodeError, EncodeError, Version};
pub use process::{
    ProcInfo, ProcessSpec, ProcessTrackerConfig, ProcessTrackerView, ProcessTrackers,
};
pub use stats::{EngineStats, RxError, Stats};
pub use time::Timestamp;

#[cfg(test)]
mod unsafe_boundary {
    /// Source files below `dir` that lift the crate's `deny(unsafe_code)`.
    fn allowing_unsafe(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                allowing_unsafe(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains(concat!("allow(", "unsafe_code)")) {
                    out.push(path.display().to_string());
                }
            }
        }
    }

    #[test]
    fn unsafe_stays_in_linux_sys() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        allowing_unsafe(&src, &mut found);
        let want = src.join("linux/sys.rs").display().to_string();
        assert_eq!(found, vec![want], "only linux/sys.rs may allow unsafe code");
    }
}
