//! A private syslog for a daemon under test: a datagram socket the test reads, bound over
//! `/dev/log` in a mount namespace of the daemon's own, so its records come to the test
//! and nowhere else.

use crate::{Guard, Netns};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The test's end of the private `/dev/log`, in a temporary directory that the daemon
/// may use for its config and pid files too.
#[derive(Debug)]
pub struct PrivateLog {
    /// The temporary directory (removed by the test when it is done).
    pub dir: PathBuf,
    /// The socket the daemon's records arrive on (200 ms read timeout).
    pub sock: UnixDatagram,
    path: PathBuf,
}

impl PrivateLog {
    /// A new directory `tag`-named under the temporary directory, with the socket in it.
    pub fn new(tag: &str) -> PrivateLog {
        let dir = std::env::temp_dir().join(crate::unique(tag));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join("log.sock");
        let sock = UnixDatagram::bind(&path).expect("bind the log socket");
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("read timeout");
        PrivateLog { dir, sock, path }
    }

    /// Start `bin` with `args` in `ns`, in a mount namespace where `/dev/log` is this
    /// socket (stdio to /dev/null).
    pub fn spawn(&self, ns: &Netns, bin: &Path, args: &str) -> Guard {
        let script = format!(
            "mount -t tmpfs none /dev && touch /dev/log && mount --bind {sock} /dev/log && \
             exec {bin} {args}",
            sock = self.path.display(),
            bin = bin.display(),
        );
        let mut cmd = ns.command("unshare");
        cmd.args(["-m", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Guard(cmd.spawn().expect("start the daemon"))
    }

    /// Write `config` as `k.conf` in the directory and [`spawn`](PrivateLog::spawn) the
    /// daemon `bin` on it in the foreground (`-n`), with `flags` and its pid files in the
    /// directory (`keepalived.pid`, `vrrp.pid`, `checkers.pid`).
    pub fn spawn_daemon(&self, ns: &Netns, bin: &Path, config: &str, flags: &str) -> Guard {
        let conf = self.dir.join("k.conf");
        std::fs::write(&conf, config).expect("write the config");
        let args = format!(
            "-n {flags} -f {conf} -p {d}/keepalived.pid -r {d}/vrrp.pid -c {d}/checkers.pid",
            conf = conf.display(),
            d = self.dir.display()
        );
        self.spawn(ns, bin, &args)
    }
}
