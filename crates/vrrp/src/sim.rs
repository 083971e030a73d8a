//! The deterministic simulator (filled in below).
