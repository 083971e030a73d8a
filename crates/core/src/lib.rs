//! keepalived-rs: the command line, the config parser and the parent process.
//!
//! * [`check_child`] — the checker child's body: the `ka_check` scheduler and probes on
//!   one mio loop, programming IPVS.
//! * [`cli`] — keepalived's command line, long and short forms.
//! * [`conf`] — the keepalived.conf language (pest grammar, includes, parameters,
//!   conditionals, loops) turned into `ka_proto::config::Config`, with diagnostics.
//! * [`daemon`] — the parent: pid files, fork, IPC hub, watchdog, signals, reload, logging.
//! * [`mem`] — giving freed heap back to the kernel, and what is in use.
//! * [`vrrp_child`] — the VRRP child's body: the engine driven by Linux I/O.

// `deny`, not `forbid`, only because a crate-wide `forbid` cannot be lifted for the one
// module that needs `unsafe`: `sys` (small system-call wrappers, a `// SAFETY:` on each
// block). See `unsafe_stays_in_sys` below.
#![deny(unsafe_code)]

pub mod check_child;
pub mod cli;
pub mod conf;
pub mod control;
pub mod ctl;
pub mod daemon;
pub mod mem;
mod sys;
pub mod vrrp_child;

#[cfg(test)]
ka_tests::unsafe_stays_in_sys!();
