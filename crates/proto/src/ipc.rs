//! Parent <-> child messages.
