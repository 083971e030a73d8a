//! The VRRP child's dumps: `keepalived.data` (SIGUSR1), `keepalived.stats` (SIGUSR2) and
//! `keepalived.json`, in keepalived's layout as far as the engine knows the facts.

mod data;
mod facts;
mod garp;
mod global;
mod json;
mod procs;
mod sockpool;
mod stats;
#[cfg(test)]
mod tests;
mod text;

use ka_proto::ipc::vrrp::{InstanceReport, ScriptState, VrrpReport, COUNTER_NAMES};
use std::collections::HashMap;
use std::fmt::Write as _;
use vrrp::{Auth, Engine, InstanceStatus, Reason, Stats, TrackStatus, Version};

pub use data::*;
pub use facts::*;
pub use json::*;
pub use stats::*;
pub use text::*;
