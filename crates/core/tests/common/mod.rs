//! Helpers of the core tests: the fake parent that drives the checker child's body over a
//! real socketpair ([`check_parent`]), configured scripts, instance snapshots, and the stub
//! servers of `ka_tests::servers`.
#![allow(dead_code, unused_imports)] // each test binary uses a part
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

/// An IPv4 instance MASTER at `priority` (its configured priority too) with its addresses
/// installed, as the VRRP child reports it.
pub fn master_snapshot(
    name: &str,
    vrid: u8,
    interface: Option<&str>,
    priority: u8,
) -> ka_proto::ipc::InstanceSnapshot {
    ka_proto::ipc::InstanceSnapshot {
        name: name.into(),
        vrid,
        interface: interface.map(str::to_string),
        ipv6: false,
        state: ka_proto::ipc::VrrpState::Master,
        priority,
        base_priority: priority,
        addresses_installed: true,
    }
}
