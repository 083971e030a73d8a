//! IPVS programming: the table the config asks for, the minimal changes that take the
//! kernel there, and their application.
//!
//! * [`table`] — [`Table`]: services and their destinations, keyed as the kernel keys them.
//! * [`desired`] — `virtual_server` blocks (plus which real servers are up) → a [`Table`].
//! * [`diff`] — desired vs current → the fewest `ipvs_sys::Op`s (no flush; live
//!   connections of unchanged destinations are untouched).
//! * [`reconcile`] — [`Reconciler`]: start, reload by difference, stop (unless `-I`),
//!   over any [`Kernel`] (the real one is `ipvs_sys::Client`).
//! * [`sync`] — `lvs_sync_daemon`: the connection-sync daemon for a VRRP state.

pub mod desired;
pub mod diff;
pub mod reconcile;
pub mod sync;
pub mod table;

pub use desired::{desired_table, ConfigIssue};
pub use diff::diff;
pub use reconcile::{Kernel, LvsError, Reconciler, Report};
pub use table::{Entry, Table};
