//! The checker's notify FIFO lines, ours against keepalived 2.4.3's, in a kernel with IPVS.
//!
//! Runs inside the VM of `cargo xtask test vm` (which sets `KA_IPVS_VM=1`; elsewhere it
//! skips). keepalived 2.4.3 and our binary (`-n -l -D -C`) run side by side, each in its
//! own namespace with the same real servers (TCP listeners on addresses of `lo`) and the
//! same configuration: a virtual server with quorum 2 over two real servers, a
//! `virtual_server group` (with `omega`), a fwmark service, `rs_init_notifies`, and both
//! `lvs_notify_fifo` and the global `notify_fifo`. The same steps are applied to both —
//! start, one real server's listener stops (its RS line, then quorum lost) and comes back
//! (quorum regained), a reload that removes a real server and the fwmark service and adds
//! a real server and a virtual server, stop — and after each step both FIFOs of both
//! sides must hold the same lines in the same order, which are the lines keepalived 2.2.7
//! and 2.4.3 were seen writing for these steps.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::{Netns, TempDir};

use common::{fifo_reader, tcp_server, Server};
use ka_tests::require_ipvs_vm;

const VS1: &str = "[10.10.0.100]:tcp:80";
const GROUP: &str = "[G1]:0";
const FWM: &str = "FWM 5";
const VS3: &str = "[10.10.0.103]:tcp:80";

fn rs_line(rs: &str, vs: &str, word: &str) -> String {
    format!("RS {rs} {vs} {word}")
}

fn vs_line(vs: &str, word: &str) -> String {
    format!("VS {vs} {word}")
}

fn real_server(addr: &str, port: u16) -> String {
    format!(
        "    real_server {addr} {port} {{
        weight 1
        TCP_CHECK {{
            connect_timeout 1
            retry 0
            delay_before_retry 1
        }}
    }}
"
    )
}

/// The configuration: `phase` 1 at start, 2 after the reload (10.9.0.3 leaves the first
/// virtual server and 10.9.0.4 joins it; the fwmark service leaves, 10.10.0.103 comes).
fn conf_text(dir: &Path, phase: u8) -> String {
    let head = |vs: &str, extra: &str| {
        format!(
            "virtual_server {vs} {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
{extra}"
        )
    };
    let mut t = format!(
        "global_defs {{
    router_id fifo_vm
    rs_init_notifies
    lvs_notify_fifo {lvs}
    notify_fifo {g}
}}
virtual_server_group G1 {{
    10.10.0.102 80
}}
",
        lvs = dir.join("lvs.fifo").display(),
        g = dir.join("g.fifo").display()
    );
    t += &head("10.10.0.100 80", "    quorum 2\n");
    t += &real_server("10.9.0.2", 8080);
    t += &real_server(if phase == 1 { "10.9.0.3" } else { "10.9.0.4" }, 8080);
    t += "}\n";
    t += &head("group G1", "    omega\n");
    t += &real_server("10.9.0.2", 8082);
    t += "}\n";
    if phase == 1 {
        t += &head("fwmark 5", "");
        t += &real_server("10.9.0.2", 8083);
    } else {
        t += &head("10.10.0.103 80", "");
        t += &real_server("10.9.0.2", 8084);
    }
    t += "}\n";
    t
}

/// The listeners of both phases; 10.9.0.3:8080 is the one that stops and comes back.
const LISTEN: &[(&str, u16)] = &[
    ("10.9.0.2", 8080),
    ("10.9.0.3", 8080),
    ("10.9.0.4", 8080),
    ("10.9.0.2", 8082),
    ("10.9.0.2", 8083),
    ("10.9.0.2", 8084),
];

fn sa(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), port)
}

/// One daemon in its namespace, with its real servers and both FIFOs read.
struct Side {
    daemon: Daemon,
    dir: TempDir,
    servers: HashMap<SocketAddr, Server>,
    ns: Netns,
    fifos: [Receiver<String>; 2],
    /// Lines read so far from `lvs_notify_fifo` and `notify_fifo`.
    lines: [Vec<String>; 2],
}

impl Side {
    fn start(tag: &str, imp: Impl) -> Side {
        let ns = Netns::new(tag);
        ns.ip(["link", "set", "lo", "up"]);
        for a in ["10.9.0.2", "10.9.0.3", "10.9.0.4"] {
            ns.ip(["addr", "add", &format!("{a}/32"), "dev", "lo"]);
        }
        let servers = LISTEN
            .iter()
            .map(|&(ip, port)| (sa(ip, port), tcp_server(&ns, sa(ip, port), |_s| {})))
            .collect();
        let dir = TempDir::new(tag);
        let fifos = [
            fifo_reader(&dir.0.join("lvs.fifo")),
            fifo_reader(&dir.0.join("g.fifo")),
        ];
        let daemon = Daemon::start_with(&ns, imp, &conf_text(&dir.0, 1), &["-C"]);
        Side {
            daemon,
            dir,
            servers,
            ns,
            fifos,
            lines: [Vec::new(), Vec::new()],
        }
    }

    /// Read what has come; true when something did.
    fn read(&mut self) -> bool {
        let mut got = false;
        for (rx, lines) in self.fifos.iter().zip(self.lines.iter_mut()) {
            while let Ok(l) = rx.try_recv() {
                lines.push(l);
                got = true;
            }
        }
        got
    }

    fn reload(&mut self) {
        let conf = self.daemon.dir.join("keepalived.conf");
        std::fs::write(&conf, conf_text(&self.dir.0, 2)).unwrap();
        self.daemon.signal(libc::SIGHUP);
    }
}

/// Let both sides run until each has written at least `want` more lines and nothing
/// more came for 1.5 s (at most 40 s): the lines each wrote for this step, per FIFO.
fn step(sides: &mut [Side], want: usize) -> Vec<[Vec<String>; 2]> {
    let from: Vec<[usize; 2]> = sides
        .iter()
        .map(|s| [s.lines[0].len(), s.lines[1].len()])
        .collect();
    let start = Instant::now();
    let mut quiet_since = Instant::now();
    while start.elapsed() < Duration::from_secs(40) {
        let mut got = false;
        for s in sides.iter_mut() {
            got |= s.read();
        }
        if got {
            quiet_since = Instant::now();
        }
        let enough = sides
            .iter()
            .zip(&from)
            .all(|(s, f)| s.lines[0].len() - f[0] >= want && s.lines[1].len() - f[1] >= want);
        if enough && quiet_since.elapsed() > Duration::from_millis(1500) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    sides
        .iter()
        .zip(&from)
        .map(|(s, f)| [s.lines[0][f[0]..].to_vec(), s.lines[1][f[1]..].to_vec()])
        .collect()
}

/// keepalived 2.4.3: `KA_KEEPALIVED_243`, else the workspace's `target/keepalived-2.4.3`
/// (where `cargo xtask` builds it), named in `KA_KEEPALIVED_243` for [`Impl::binary`].
fn keepalived_243(test: &str) -> bool {
    if std::env::var_os("KA_KEEPALIVED_243").is_none() {
        let built = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/keepalived-2.4.3/sbin/keepalived");
        if built.exists() {
            // The only test of this binary: no other thread reads the environment.
            std::env::set_var("KA_KEEPALIVED_243", built);
        }
    }
    ka_tests::daemon::keepalived_243(test).is_some()
}

fn our_binary() -> PathBuf {
    let bin = ka_tests::daemon::ours_binary();
    assert!(
        bin.is_file(),
        "{} is missing: `cargo build -p keepalived-rs` (cargo xtask test vm does)",
        bin.display()
    );
    bin
}

#[test]
fn checker_fifo_lines_are_keepalived_243_s() {
    let test = "checker_fifo_lines_are_keepalived_243_s";
    if !require_ipvs_vm(test) || !keepalived_243(test) {
        return;
    }
    our_binary();
    let mut sides = vec![
        Side::start("fifo243", Impl::Keepalived243),
        Side::start("fifors", Impl::Ours),
    ];
    let rs = |a: &str, p: u16| format!("[{a}]:tcp:{p}");
    let (rs1, rs2, rs3) = (
        rs("10.9.0.2", 8080),
        rs("10.9.0.3", 8080),
        rs("10.9.0.4", 8080),
    );
    // keepalived ignores the protocol of a fwmark service; NAT keeps the port.
    let fwm_rs = "[10.9.0.2]:none:8083".to_string();
    let steps: Vec<(&str, Vec<String>)> = vec![
        (
            "start: per virtual server, its real servers' lines (rs_init_notifies) then its own",
            vec![
                rs_line(&rs1, VS1, "UP"),
                rs_line(&rs2, VS1, "UP"),
                vs_line(VS1, "UP"),
                rs_line(&rs("10.9.0.2", 8082), GROUP, "UP"),
                vs_line(GROUP, "UP"),
                rs_line(&fwm_rs, FWM, "UP"),
                vs_line(FWM, "UP"),
            ],
        ),
        (
            "10.9.0.3:8080 stops: its line, then quorum 2 is lost",
            vec![rs_line(&rs2, VS1, "DOWN"), vs_line(VS1, "DOWN")],
        ),
        (
            "10.9.0.3:8080 is back: quorum regained",
            vec![rs_line(&rs2, VS1, "UP"), vs_line(VS1, "UP")],
        ),
        (
            "reload: what leaves goes down, then what comes starts",
            vec![
                rs_line(&rs2, VS1, "DOWN"),
                vs_line(VS1, "DOWN"),
                rs_line(&fwm_rs, FWM, "DOWN"),
                vs_line(FWM, "DOWN"),
                rs_line(&rs3, VS1, "UP"),
                rs_line(&rs("10.9.0.2", 8084), VS3, "UP"),
                vs_line(VS3, "UP"),
            ],
        ),
        (
            "stop: only the omega virtual server's lines",
            vec![
                rs_line(&rs("10.9.0.2", 8082), GROUP, "DOWN"),
                vs_line(GROUP, "DOWN"),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (i, (what, expected)) in steps.iter().enumerate() {
        let t0 = Instant::now();
        match i {
            0 => {}
            1 => {
                for s in sides.iter_mut() {
                    s.servers.remove(&sa("10.9.0.3", 8080));
                }
            }
            2 => {
                for s in sides.iter_mut() {
                    let a = sa("10.9.0.3", 8080);
                    let srv = tcp_server(&s.ns, a, |_s| {});
                    s.servers.insert(a, srv);
                }
            }
            3 => sides.iter_mut().for_each(Side::reload),
            _ => {
                for s in sides.iter_mut() {
                    s.daemon.signal(libc::SIGTERM);
                }
            }
        }
        let got = step(&mut sides, expected.len());
        eprintln!("step {i} ({what}) took {:?}", t0.elapsed());
        for (side, [lvs, g]) in ["keepalived 2.4.3", "ours"].iter().zip(&got) {
            eprintln!("  {side} lvs_notify_fifo: {lvs:#?}");
            if lvs != expected || g != expected {
                failures.push(format!(
                    "step {i} ({what}), {side}:\n  expected {expected:#?}\n  lvs_notify_fifo {lvs:#?}\n  notify_fifo {g:#?}"
                ));
            }
        }
    }
    for mut s in sides {
        assert!(s.daemon.stop(Duration::from_secs(20)), "{}", s.daemon.log());
        if !failures.is_empty() {
            eprintln!("---- {} log ----\n{}", s.daemon.imp.name(), s.daemon.log());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
