//! Where a daemon's control socket is: one per daemon, so that several daemons on one
//! host (one per network namespace, or per `instance`) each have their own.

use std::path::{Path, PathBuf};

/// The directory the sockets live under.
pub const RUN_DIR: &str = "/run/keepalived-rs";

/// The control socket of the daemon started with these settings: `explicit`
/// (`--control-socket`) if given, else `RUN_DIR[/NAMESPACE]/keepalived-rs[_INSTANCE].sock`.
pub fn socket_path(
    explicit: Option<&Path>,
    namespace: Option<&str>,
    instance: Option<&str>,
) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    let mut p = PathBuf::from(RUN_DIR);
    if let Some(ns) = namespace.filter(|n| is_plain(n)) {
        p.push(ns);
    }
    match instance.filter(|i| is_plain(i)) {
        Some(i) => p.push(format!("keepalived-rs_{i}.sock")),
        None => p.push("keepalived-rs.sock"),
    }
    p
}

/// A name that stays one path component.
fn is_plain(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_socket_per_daemon() {
        assert_eq!(
            socket_path(None, None, None),
            PathBuf::from("/run/keepalived-rs/keepalived-rs.sock")
        );
        assert_eq!(
            socket_path(None, Some("blue"), Some("web")),
            PathBuf::from("/run/keepalived-rs/blue/keepalived-rs_web.sock")
        );
        assert_eq!(
            socket_path(Some(Path::new("/tmp/x.sock")), Some("blue"), None),
            PathBuf::from("/tmp/x.sock")
        );
        // A name that would leave the directory is not used as one.
        assert_eq!(
            socket_path(None, Some("../etc"), Some("a/b")),
            PathBuf::from("/run/keepalived-rs/keepalived-rs.sock")
        );
    }
}
