//! Helpers of the checker child's tests: the fake parent that drives its body over a real
//! socketpair ([`check_parent`]), configured scripts, and the stub servers of
//! `ka_tests::servers`.
#![allow(dead_code)] // each test binary uses a part
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

pub mod check_parent;

pub use ka_tests::servers::*;

/// `path args..` as a configured script (run as the default user).
pub fn script(path: &std::path::Path, args: &[&str]) -> ka_proto::config::Script {
    let mut a = vec![path.display().to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    ka_proto::config::Script {
        args: a,
        user: None,
        group: None,
    }
}
