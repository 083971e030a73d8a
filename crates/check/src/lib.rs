//! The checker library, in the shape of `vrrp`: a sans-IO core ([`scheduler`] for when
//! checks run and what their results mean, [`state`] for what that does to real and
//! virtual servers) and an I/O layer under it ([`probe`], driven by [`engine`]). The
//! checker child that runs it (one loop owning the process's poll, scripts, FIFOs, IPVS,
//! IPC) is `keepalived-rs`'s `check_child`.
//!
//! * [`spec`] — what a check is asked to do (keepalived's checker keywords).
//! * [`wire`] — sans-IO request builders and reply parsers (HTTP, SMTP, DNS, UDP, ICMP).
//! * [`probe`] — one attempt of one check: a state machine per checker kind, one file each.
//! * [`scheduler`] — sans-IO: when each check runs, its limits, retries and up/down state.
//! * [`engine`] — the scheduler's I/O: every probe on one mio loop, non-blocking.
//! * [`state`] — what results do: real servers in and out, quorum, sorry server, notify.
//! * [`process`] — scripts started with keepalived's environment rules, orphans reaped;
//!   [`security`] — `enable_script_security` for checker scripts.
//! * [`from_config`] — the config model mapped to check specs and virtual servers.
//! * [`genhash`] — the `genhash` tool (`keepalived-rs -T`).
//! * [`lvs`] — IPVS reconciliation.
//! * [`stats`] — attempts, failures and durations per checker kind (metrics).
//! * `sys` — the only module with `unsafe` (a system-call wrapper; the others it shares
//!   with the VRRP side come from `vrrp::linux`).

// `deny`, not `forbid`, only because a crate-wide `forbid` cannot be lifted for the one
// module that needs `unsafe`: `sys`. See `unsafe_stays_in_sys` below.
#![deny(unsafe_code)]

pub mod engine;
pub mod failure;
pub mod from_config;
pub mod genhash;
pub mod lvs;
pub mod net;
pub mod probe;
pub mod process;
pub mod scheduler;
pub mod security;
pub mod spec;
pub mod state;
pub mod stats;
mod sys;
pub mod tls;
pub mod wire;

#[cfg(test)]
ka_tests::unsafe_stays_in_sys!();
