//! Real servers in network namespaces for the checker tests, and a runner that drives the
//! engine inside the checker's namespace.
#![allow(dead_code)] // each test binary uses a part
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

pub mod parent;
pub mod tls;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ka_check::engine::{Engine, Report};
use ka_check::spec::{CheckSpec, SslConfig, Timing};
use ka_tests::{Lan, Netns};

/// Write `#!/bin/sh`, then `body`, to `path`, executable.
pub fn write_script(path: &std::path::Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `dir/note.sh`, a script that appends its arguments (one line per run) to `log`.
pub fn recorder(dir: &std::path::Path, log: &std::path::Path) -> std::path::PathBuf {
    let sh = dir.join("note.sh");
    write_script(&sh, &format!("echo \"$*\" >> {}", log.display()));
    sh
}

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

/// Make the FIFO `fifo` and read it on a thread: its lines, as they come. The reader opens
/// it read-write, so the FIFO stays open for writers between lines.
pub fn fifo_reader(fifo: &std::path::Path) -> mpsc::Receiver<String> {
    use std::io::BufRead;
    nix::unistd::mkfifo(fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let (tx, rx) = mpsc::channel();
    let f = fifo.to_path_buf();
    std::thread::spawn(move || {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&f)
            .unwrap();
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
        let l = TcpListener::bind(addr).unwrap();
        l.set_nonblocking(true).unwrap();
        tx.send(()).unwrap();
        while !st.load(Ordering::SeqCst) {
            match l.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    let h = handler.clone();
                    std::thread::spawn(move || h(s));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    rx.recv().unwrap();
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
        let s = UdpSocket::bind(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        tx.send(()).unwrap();
        let mut buf = [0u8; 2048];
        while !st.load(Ordering::SeqCst) {
            if let Ok((n, from)) = s.recv_from(&mut buf) {
                if let Some(r) = handler(&buf[..n]) {
                    let _ = s.send_to(&r, from);
                }
            }
        }
    });
    rx.recv().unwrap();
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

/// The default test timing: fast loops so dead servers are seen within a few seconds.
pub fn fast() -> Timing {
    Timing {
        delay_loop: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(800),
        retry: 1,
        delay_before_retry: Duration::from_millis(300),
        warmup: Duration::ZERO,
    }
}

/// The engine, running in a namespace, streaming its reports.
pub struct Running {
    pub rx: mpsc::Receiver<(Instant, Report)>,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<Vec<ka_check::engine::CheckDump>>>,
}

impl Running {
    /// Wait for the next report (with a limit).
    pub fn next(&self, limit: Duration) -> Option<(Instant, Report)> {
        self.rx.recv_timeout(limit).ok()
    }

    /// Wait for a report with `up`, skipping others.
    pub fn wait_for(&self, up: bool, limit: Duration) -> Option<(Instant, Report)> {
        let end = Instant::now() + limit;
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            let (t, r) = self.next(left)?;
            if r.up == up {
                return Some((t, r));
            }
        }
    }

    /// Stop and return the final dump.
    pub fn finish(mut self) -> Vec<ka_check::engine::CheckDump> {
        self.stop.store(true, Ordering::SeqCst);
        self.join.take().unwrap().join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

pub fn run(ns: &Netns, specs: Vec<CheckSpec>, ssl: SslConfig) -> Running {
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let join = ns.spawn(move || {
        let mut e = Engine::new(specs, &ssl).unwrap();
        while !st.load(Ordering::SeqCst) {
            e.turn(Some(Duration::from_millis(20))).unwrap();
            for r in e.take_reports() {
                let _ = tx.send((Instant::now(), r));
            }
        }
        e.dump()
    });
    Running {
        rx,
        stop,
        join: Some(join),
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

pub fn server_addr(port: u16) -> SocketAddr {
    SocketAddr::new("10.61.0.2".parse().unwrap(), port)
}
