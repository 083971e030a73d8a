//! Engines of one instance, as most engine tests build them.
#![allow(dead_code)] // each test file uses a part

use vrrp::{Engine, EngineConfig, Input, InstanceConfig, Timestamp};

/// An engine running the one instance `c` (no sync group).
pub fn engine(c: InstanceConfig) -> Engine {
    Engine::new(EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    })
    .expect("a valid instance")
}

/// [`engine`], started at time zero (BACKUP, or FAULT for want of a source address).
pub fn started(c: InstanceConfig) -> Engine {
    let mut e = engine(c);
    e.handle(Input::Startup, Timestamp::ZERO);
    e
}
