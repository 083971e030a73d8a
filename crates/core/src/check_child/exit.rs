//! Exit codes (keepalived's, as the parent reads them).

/// Stopped normally.
pub const OK: i32 = 0;
/// Unrecoverable: the parent stops.
pub const FATAL: i32 = 1;
/// The configuration cannot be run: the parent stops.
pub const CONFIG: i32 = 2;
/// A protocol error with the parent: the child is restarted.
pub const PROGRAM_ERROR: i32 = 70;
