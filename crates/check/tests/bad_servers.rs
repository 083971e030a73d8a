//! Servers that misbehave cannot hurt the checker: each is a failed check with a reason,
//! the loop keeps serving a healthy check on time meanwhile, and nothing panics.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use ka_check::failure::Failure;
use ka_check::spec::*;
use ka_check::wire::{dns::DnsError, http::HttpError, smtp::SmtpError};

fn spec(kind: CheckKind, port: u16) -> CheckSpec {
    let mut s = CheckSpec::new(kind, server_addr(port));
    s.timing = fast();
    s.log_all_failures = true;
    s
}

fn http(port: u16) -> CheckSpec {
    spec(CheckKind::Http(Box::new(HttpSpec::get(false, "/"))), port)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1).map(|v| v.parse().unwrap()))
        .unwrap_or(0)
}

fn dns_reply(q: &[u8]) -> Vec<u8> {
    let mut r = q.to_vec();
    r[2] |= 0x80;
    r[7] = 1;
    r.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
    r
}

#[test]
fn misbehaving_servers_fail_cleanly_and_never_block_the_loop() {
    let Some(lan) = root_lan("misbehaving_servers_fail_cleanly_and_never_block_the_loop") else {
        return;
    };
    let h = &lan.hosts[1];
    let hold = |s: TcpStream| {
        std::thread::sleep(Duration::from_secs(8));
        drop(s);
    };
    let mut servers = vec![
        tcp_server(h, server_addr(9100), |_s| {}), // healthy
        tcp_server(h, server_addr(9001), hold),    // accepts, says nothing
        tcp_server(h, server_addr(9002), |mut s: TcpStream| {
            let _ = s.write_all(b"\x00\xffgarbage garbage\r\n\r\nmore");
        }),
        tcp_server(h, server_addr(9003), |mut s: TcpStream| {
            read_head(&mut s);
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n");
            let chunk = vec![b'x'; 65536];
            while s.write_all(&chunk).is_ok() {}
        }),
        tcp_server(h, server_addr(9004), |mut s: TcpStream| {
            read_head(&mut s);
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n");
            let line = format!("X-Filler: {}\r\n", "a".repeat(1000));
            for _ in 0..1024 {
                if s.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
        }),
        tcp_server(h, server_addr(9005), |mut s: TcpStream| {
            read_head(&mut s);
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\nabc");
            std::thread::sleep(Duration::from_millis(50));
            let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
        }),
        tcp_server(h, server_addr(9006), |mut s: TcpStream| {
            read_head(&mut s);
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n");
            for _ in 0..200 {
                std::thread::sleep(Duration::from_millis(200));
                if s.write_all(b"x").is_err() {
                    break;
                }
            }
        }),
        tcp_server(h, server_addr(2525), |mut s: TcpStream| {
            let _ = s.write_all(b"hello, I am not SMTP\r\n");
            std::thread::sleep(Duration::from_secs(2));
        }),
        udp_server(h, server_addr(5301), |q| {
            let r = dns_reply(q);
            Some(r[..r.len() - 6].to_vec()) // truncated
        }),
        udp_server(h, server_addr(5302), |q| {
            let mut r = dns_reply(q);
            let n = r.len();
            r[n - 16] = 0x80; // reserved label type
            Some(r)
        }),
        udp_server(h, server_addr(5303), |q| {
            let mut r = dns_reply(q);
            r[2] |= 0x02; // TC
            Some(r)
        }),
    ];
    let dns = || {
        CheckKind::Dns(DnsSpec {
            qtype: DnsType::Soa,
            name: ".".into(),
        })
    };
    let mut good = spec(CheckKind::Tcp, 9100);
    good.alpha = true;
    let specs = vec![
        good,
        http(9001),
        http(9002),
        http(9003),
        http(9004),
        http(9005),
        http(9006),
        spec(CheckKind::Http(Box::new(HttpSpec::get(true, "/"))), 9002),
        spec(
            CheckKind::Smtp(SmtpSpec {
                helo_name: "x".into(),
            }),
            2525,
        ),
        spec(dns(), 5301),
        spec(dns(), 5302),
        spec(dns(), 5303),
    ];
    let n = specs.len();
    let rss0 = rss_kb();
    let started = Instant::now();
    let run = run(&lan.hosts[0], specs, SslConfig::default());
    let mut got = BTreeMap::new();
    let end = started + Duration::from_secs(8);
    while got.len() < n && Instant::now() < end {
        if let Some((_, r)) = run.next(Duration::from_millis(100)) {
            got.entry(r.check.0).or_insert(r);
        }
    }
    let elapsed = started.elapsed();
    let dump = run.finish();
    for (i, r) in &got {
        eprintln!(
            "check {i}: up={} {:?}",
            r.up,
            r.failure.as_ref().map(|f| f.to_string())
        );
    }
    assert_eq!(got.len(), n, "every check reported: {got:?}");
    assert!(got[&0].up);
    let f = |i: usize| got[&i].failure.clone().unwrap();
    assert_eq!(f(1), Failure::Timeout("reading the reply"));
    assert!(
        matches!(f(2), Failure::Http(HttpError::BadStatusLine(_))),
        "{:?}",
        f(2)
    );
    assert_eq!(f(3), Failure::Http(HttpError::BodyTooLarge));
    assert_eq!(f(4), Failure::Http(HttpError::HeadersTooLarge));
    assert!(
        matches!(
            f(5),
            Failure::Io(_) | Failure::Http(HttpError::ShortBody { .. })
        ),
        "{:?}",
        f(5)
    );
    assert_eq!(f(6), Failure::TooSlow);
    assert!(matches!(f(7), Failure::Tls(_)), "{:?}", f(7));
    assert!(
        matches!(f(8), Failure::Smtp(SmtpError::BadLine(_))),
        "{:?}",
        f(8)
    );
    assert_eq!(f(9), Failure::Dns(DnsError::Truncated));
    assert_eq!(f(10), Failure::Dns(DnsError::BadName));
    assert_eq!(f(11), Failure::Dns(DnsError::TruncatedFlag));
    // The healthy check kept its pace (delay_loop 0.5 s) while all this went on.
    let expected = (elapsed.as_millis() / 500) as u64;
    assert!(
        dump[0].passes + 3 >= expected,
        "healthy check ran {} times in {elapsed:?}",
        dump[0].passes
    );
    assert_eq!(dump[0].fails, 0);
    // Memory stays bounded (the endless body is never buffered).
    let grown = rss_kb().saturating_sub(rss0);
    eprintln!("RSS grew by {grown} kB");
    assert!(grown < 64 * 1024, "RSS grew by {grown} kB");
    for s in &mut servers {
        s.stop();
    }
}
