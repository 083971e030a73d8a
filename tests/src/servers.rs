//! Stub servers for the checker tests: TCP and UDP servers in a namespace that stop when
//! dropped, HTTP replies, the two-host LAN they run on, and scripts and FIFO readers that
//! record what the checker child did. Shared by `ka-check`'s probe tests and
//! `keepalived-rs`'s checker-child tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{Lan, Netns};

/// Write `#!/bin/sh`, then `body`, to `path`, executable.
pub fn write_script(path: &std::path::Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("write script");
}

/// `dir/note.sh`, a script that appends its arguments (one line per run) to `log`.
pub fn recorder(dir: &std::path::Path, log: &std::path::Path) -> std::path::PathBuf {
    let sh = dir.join("note.sh");
    write_script(&sh, &format!("echo \"$*\" >> {}", log.display()));
    sh
}

/// Make the FIFO `fifo` and read it on a thread: its lines, as they come. The reader opens
/// it read-write, so the FIFO stays open for writers between lines.
pub fn fifo_reader(fifo: &std::path::Path) -> mpsc::Receiver<String> {
    use std::io::BufRead;
    nix::unistd::mkfifo(fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let (tx, rx) = mpsc::channel();
    let f = fifo.to_path_buf();
    std::thread::spawn(move || {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&f)
            .expect("open fifo");
        for line in std::io::BufReader::new(file).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A server thread that stops (closing its socket) when dropped.
pub struct Server {
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl Server {
    /// Stop the server and close its socket.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP server: each accepted connection is handed to `handler` on its own thread.
pub fn tcp_server(
    ns: &Netns,
    addr: SocketAddr,
    handler: impl Fn(TcpStream) + Send + Sync + 'static,
) -> Server {
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let handler = Arc::new(handler);
    let (tx, rx) = mpsc::channel();
    let join = ns.spawn(move || {
        let l = TcpListener::bind(addr).expect("bind test server");
        l.set_nonblocking(true).expect("test server");
        tx.send(()).expect("test server");
        while !st.load(Ordering::SeqCst) {
            match l.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).expect("test server");
                    let h = handler.clone();
                    std::thread::spawn(move || h(s));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    rx.recv().expect("test server");
    Server {
        stop,
        join: Some(join),
    }
}

/// A UDP server: `handler(request) -> Option<reply>`.
pub fn udp_server(
    ns: &Netns,
    addr: SocketAddr,
    handler: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + 'static,
) -> Server {
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let (tx, rx) = mpsc::channel();
    let join = ns.spawn(move || {
        let s = UdpSocket::bind(addr).expect("bind test server");
        s.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("test server");
        tx.send(()).expect("test server");
        let mut buf = [0u8; 2048];
        while !st.load(Ordering::SeqCst) {
            if let Ok((n, from)) = s.recv_from(&mut buf) {
                if let Some(r) = handler(&buf[..n]) {
                    let _ = s.send_to(&r, from);
                }
            }
        }
    });
    rx.recv().expect("test server");
    Server {
        stop,
        join: Some(join),
    }
}

/// Read an HTTP request head (up to the blank line).
pub fn read_head(s: &mut impl Read) -> Vec<u8> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => break,
        }
    }
    head
}

/// An HTTP handler answering `status` with `body`.
pub fn http_reply(status: u16, body: &'static [u8]) -> impl Fn(TcpStream) + Send + Sync {
    move |mut s: TcpStream| {
        read_head(&mut s);
        let _ = write!(
            s,
            "HTTP/1.0 {status} X\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(body);
    }
}

/// Two hosts: the checker at .1, the servers at .2 (plus IPv6 fd00:NN::1 / ::2).
pub fn lan() -> Lan {
    let lan = Lan::new(2, "10.61.0");
    for (i, h) in lan.hosts.iter().enumerate() {
        h.ip([
            "addr",
            "add",
            &format!("fd00:61::{}/64", i + 1),
            "dev",
            "eth0",
            "nodad",
        ]);
    }
    lan
}

/// [`lan`], or None without root (`test`, the test's name, is then reported as skipped).
pub fn root_lan(test: &str) -> Option<Lan> {
    crate::require_root(test).then(lan)
}

/// The servers' address (the second host) at `port`.
pub fn server_addr(port: u16) -> SocketAddr {
    SocketAddr::new("10.61.0.2".parse().expect("literal"), port)
}
