//! Types that cross a process boundary in keepalived-rs.
//!
//! * [`config`] — the typed, serde-serialisable model of `keepalived.conf`, shared by the
//!   parent (which parses the text) and both children (which only ever see the model).
//! * [`ipc`] — the messages the parent and its children exchange over socketpairs, and
//!   the one codec module that frames them (bincode, pinned, size-bounded).
//! * [`smtp`] — SMTP alerts as keepalived sends them (both children mail).
//! * [`exit`] — keepalived's exit codes, which a child returns and the parent reads.
#![forbid(unsafe_code)]

pub mod config;
pub mod exit;
pub mod ipc;
pub mod smtp;
