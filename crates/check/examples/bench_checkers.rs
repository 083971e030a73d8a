//! Load driver for `cargo xtask bench checkers`.
//!
//! * `bench_checkers serve ADDR TCP_BASE HTTP_BASE N COUNTERS_FILE`: N TCP listeners
//!   (accept, close) and N HTTP listeners (read the request, answer 200, close) on one mio
//!   loop; every second the totals of accepted connections go to COUNTERS_FILE as
//!   `tcp http`.
//! * `bench_checkers check ADDR TCP_BASE HTTP_BASE N SECONDS`: N TCP_CHECKs and N
//!   HTTP_GETs (delay_loop 1 s, warmup 1 s) on the checker engine for SECONDS, then prints
//!   attempts, failures, CPU seconds and max RSS.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark tool: fail loudly

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ka_check::engine::Engine;
use ka_check::spec::{CheckKind, CheckSpec, HttpSpec, SslConfig, Timing};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

fn serve(addr: IpAddr, tcp_base: u16, http_base: u16, n: u16, counters: &str) {
    let mut poll = Poll::new().unwrap();
    let mut listeners = Vec::new();
    for i in 0..n {
        for (base, http) in [(tcp_base, false), (http_base, true)] {
            let mut l = TcpListener::bind(SocketAddr::new(addr, base + i)).unwrap();
            let t = Token(listeners.len());
            poll.registry()
                .register(&mut l, t, Interest::READABLE)
                .unwrap();
            listeners.push((l, http));
        }
    }
    let first_conn = listeners.len();
    let mut conns: HashMap<usize, (TcpStream, Vec<u8>)> = HashMap::new();
    let mut next = first_conn;
    let (mut tcp, mut httpn) = (0u64, 0u64);
    let mut events = Events::with_capacity(4096);
    let mut last = Instant::now();
    let reply =
        b"HTTP/1.0 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nhello, world\n";
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(200)))
            .unwrap();
        for ev in events.iter() {
            let t = ev.token().0;
            if t < first_conn {
                let (l, http) = &listeners[t];
                while let Ok((mut s, _)) = l.accept() {
                    if *http {
                        httpn += 1;
                        let tok = Token(next);
                        next += 1;
                        poll.registry()
                            .register(&mut s, tok, Interest::READABLE)
                            .unwrap();
                        conns.insert(tok.0, (s, Vec::new()));
                    } else {
                        tcp += 1;
                        drop(s);
                    }
                }
            } else if let Some((s, buf)) = conns.get_mut(&t) {
                let mut b = [0u8; 4096];
                let mut done = false;
                loop {
                    match s.read(&mut b) {
                        Ok(0) => {
                            done = true;
                            break;
                        }
                        Ok(k) => buf.extend_from_slice(&b[..k]),
                        Err(_) => break,
                    }
                }
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let _ = s.write_all(reply);
                    done = true;
                }
                if done {
                    conns.remove(&t);
                }
            }
        }
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            let _ = std::fs::write(counters, format!("{tcp} {httpn}\n"));
        }
    }
}

fn rusage() -> (f64, u64) {
    // SAFETY: getrusage fills the struct we pass; it is plain data.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF and a valid pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_maxrss as u64)
}

fn check(addr: IpAddr, tcp_base: u16, http_base: u16, n: u16, seconds: u64) {
    let timing = Timing {
        delay_loop: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        retry: 1,
        delay_before_retry: Duration::from_secs(1),
        warmup: Duration::from_secs(1),
    };
    let mut specs = Vec::new();
    for i in 0..n {
        let mut t = CheckSpec::new(CheckKind::Tcp, SocketAddr::new(addr, tcp_base + i));
        t.timing = timing.clone();
        specs.push(t);
        let mut h = CheckSpec::new(
            CheckKind::Http(Box::new(HttpSpec::get(false, "/"))),
            SocketAddr::new(addr, http_base + i),
        );
        h.timing = timing.clone();
        specs.push(h);
    }
    let mut e = Engine::new(specs, &SslConfig::default()).unwrap();
    let start = Instant::now();
    let mut downs = 0;
    while start.elapsed() < Duration::from_secs(seconds) {
        e.turn(Some(Duration::from_millis(500))).unwrap();
        downs += e.take_reports().iter().filter(|r| !r.up).count();
    }
    let dump = e.dump();
    let passes: u64 = dump.iter().map(|d| d.passes).sum();
    let fails: u64 = dump.iter().map(|d| d.fails).sum();
    let (cpu, maxrss) = rusage();
    println!(
        "checks {} passes {passes} fails {fails} down_reports {downs} cpu_s {cpu:.3} maxrss_kb {maxrss} wall_s {:.3}",
        dump.len(),
        start.elapsed().as_secs_f64()
    );
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let usage =
        "usage: bench_checkers serve|check ADDR TCP_BASE HTTP_BASE N (COUNTERS_FILE|SECONDS)";
    if a.len() != 7 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let addr: IpAddr = a[2].parse().expect("ADDR");
    let tcp: u16 = a[3].parse().expect("TCP_BASE");
    let http: u16 = a[4].parse().expect("HTTP_BASE");
    let n: u16 = a[5].parse().expect("N");
    match a[1].as_str() {
        "serve" => serve(addr, tcp, http, n, &a[6]),
        "check" => check(addr, tcp, http, n, a[6].parse().expect("SECONDS")),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
