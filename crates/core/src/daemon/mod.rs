//! The parent process.
