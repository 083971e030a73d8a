//! Every checker against a real server in a network namespace: it passes on a healthy
//! server and fails on a dead one within keepalived's detection time
//! (delay_loop + retry × delay_before_retry (+ connect_timeout when packets vanish)).
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ka_check::failure::Failure;
use ka_check::spec::*;
use ka_check::wire::udp::ReplyPattern;

fn spec(kind: CheckKind, addr: SocketAddr, alpha: bool) -> CheckSpec {
    let mut s = CheckSpec::new(kind, addr);
    s.timing = fast();
    s.alpha = alpha;
    s
}

/// Detection bound when the server refuses at once: delay_loop + retry × dbr, + slack.
fn refused_bound() -> Duration {
    let t = fast();
    t.delay_loop + t.delay_before_retry * t.retry + Duration::from_millis(1200)
}

/// Detection bound when packets vanish: each attempt also waits connect_timeout.
fn silent_bound() -> Duration {
    let t = fast();
    t.delay_loop
        + (t.connect_timeout + t.delay_before_retry) * t.retry
        + t.connect_timeout
        + Duration::from_millis(1200)
}

#[test]
fn tcp_check_up_then_down_when_server_dies() {
    let Some(lan) = root_lan("tcp_check_up_then_down_when_server_dies") else {
        return;
    };
    let mut srv = tcp_server(&lan.hosts[1], server_addr(8080), |_s| {});
    let run = run_plain(&lan, vec![spec(CheckKind::Tcp, server_addr(8080), true)]);
    assert!(
        run.wait_for(true, Duration::from_secs(3)).is_some(),
        "never up"
    );
    let killed = Instant::now();
    srv.stop();
    let (t, r) = run
        .wait_for(false, Duration::from_secs(5))
        .expect("never down");
    let took = t - killed;
    eprintln!(
        "TCP_CHECK: dead server detected in {took:?} (bound {:?})",
        refused_bound()
    );
    assert!(took <= refused_bound(), "took {took:?}");
    assert!(
        matches!(r.failure, Some(Failure::Connect(_))),
        "{:?}",
        r.failure
    );
    // And back.
    let _srv = tcp_server(&lan.hosts[1], server_addr(8080), |_s| {});
    assert!(
        run.wait_for(true, Duration::from_secs(3)).is_some(),
        "never back"
    );
}

#[test]
fn http_get_urls_status_digest_regex() {
    let Some(lan) = root_lan("http_get_urls_status_digest_regex") else {
        return;
    };
    let seen_hosts = Arc::new(Mutex::new(Vec::new()));
    let sh = seen_hosts.clone();
    let _srv = tcp_server(&lan.hosts[1], server_addr(80), move |mut s| {
        let head = read_head(&mut s);
        let head = String::from_utf8_lossy(&head).into_owned();
        sh.lock().unwrap().push(head.clone());
        let (status, body): (u16, &[u8]) = if head.starts_with("GET /ok ") {
            (200, b"hello")
        } else if head.starts_with("GET /teapot ") {
            (418, b"short and stout")
        } else {
            (404, b"nope")
        };
        use std::io::Write;
        let _ = write!(s, "HTTP/1.0 {status} X\r\nServer: t\r\n\r\n");
        let _ = s.write_all(body);
    });
    let mut good = HttpSpec::get(false, "/ok");
    good.protocol = HttpProtocol::Http11;
    good.virtualhost = Some("www.test".into());
    good.urls[0].digest = ka_check::wire::http::parse_digest("5d41402abc4b2a76b9719d911017c592");
    good.urls[0].regex = Some(regex::bytes::Regex::new("^hel+o$").unwrap());
    let mut tea = UrlSpec::path("/teapot");
    tea.status = ka_check::wire::http::StatusRanges::parse(["400-420"]).unwrap();
    tea.regex = Some(regex::bytes::Regex::new("coffee").unwrap());
    tea.regex_no_match = true;
    good.urls.push(tea);
    let mut bad_digest = HttpSpec::get(false, "/ok");
    bad_digest.urls[0].digest = Some([0; 16]);
    let bad_status = HttpSpec::get(false, "/missing");
    let mut bad_regex = HttpSpec::get(false, "/ok");
    bad_regex.urls[0].regex = Some(regex::bytes::Regex::new("world").unwrap());
    let specs = vec![
        spec(CheckKind::Http(Box::new(good)), server_addr(80), true),
        spec(
            CheckKind::Http(Box::new(bad_digest)),
            server_addr(80),
            false,
        ),
        spec(
            CheckKind::Http(Box::new(bad_status)),
            server_addr(80),
            false,
        ),
        spec(CheckKind::Http(Box::new(bad_regex)), server_addr(80), false),
    ];
    let run = run_plain(&lan, specs);
    let got = run.reports(4, Duration::from_secs(5));
    assert!(got[&0].up, "{:?}", got[&0]);
    assert!(
        matches!(got[&1].failure, Some(Failure::Digest { .. })),
        "{:?}",
        got[&1]
    );
    assert!(
        matches!(got[&2].failure, Some(Failure::Status { code: 404, .. })),
        "{:?}",
        got[&2]
    );
    assert!(
        matches!(got[&3].failure, Some(Failure::Regex { .. })),
        "{:?}",
        got[&3]
    );
    let dump = run.finish();
    assert!(dump[0].passes >= 1 && dump[0].up);
    let hosts = seen_hosts.lock().unwrap();
    assert!(hosts.iter().any(|h| h.starts_with("GET /ok HTTP/1.1\r\n")
        && h.contains("Host: www.test\r\n")
        && h.contains("Connection: close\r\n")
        && h.contains("User-Agent: KeepAliveClient\r\n")));
}

#[test]
fn ssl_get_with_and_without_ca_and_sni() {
    let Some(lan) = root_lan("ssl_get_with_and_without_ca_and_sni") else {
        return;
    };
    let pki = common::tls::Pki::new("ssl");
    let sni = Arc::new(Mutex::new(Vec::new()));
    let _srv = tcp_server(
        &lan.hosts[1],
        server_addr(443),
        common::tls::https_reply(pki.server_config(), b"secure", sni.clone()),
    );
    let mut with_sni = HttpSpec::get(true, "/");
    with_sni.enable_sni = true;
    with_sni.sni_name = Some("www.test".into());
    with_sni.urls[0].digest = Some(md5_of(b"secure"));
    let plain = HttpSpec::get(true, "/");
    // Both checks, with and without SNI.
    let both = || {
        vec![
            spec(
                CheckKind::Http(Box::new(with_sni.clone())),
                server_addr(443),
                true,
            ),
            spec(
                CheckKind::Http(Box::new(plain.clone())),
                server_addr(443),
                true,
            ),
        ]
    };
    // Without `ca`: any certificate is accepted (keepalived's behaviour).
    let run1 = run_plain(&lan, both());
    let a = run1.wait_for(true, Duration::from_secs(5)).expect("up");
    let b = run1.wait_for(true, Duration::from_secs(5)).expect("up");
    assert_ne!(a.1.check, b.1.check);
    drop(run1);
    let names = sni.lock().unwrap().clone();
    assert!(names.contains(&Some("www.test".into())), "{names:?}");
    assert!(names.contains(&None), "{names:?}");
    // With the right CA: verified (by name with SNI, by IP without).
    let ok_ca = SslConfig {
        ca: Some(pki.ca_pem.clone()),
        ..SslConfig::default()
    };
    let run2 = run(&lan.hosts[0], both(), ok_ca);
    assert!(run2.wait_for(true, Duration::from_secs(5)).is_some());
    assert!(run2.wait_for(true, Duration::from_secs(5)).is_some());
    drop(run2);
    // With another CA: the wrong certificate fails the check.
    let bad_ca = SslConfig {
        ca: Some(pki.other_ca_pem.clone()),
        ..SslConfig::default()
    };
    let run3 = run(
        &lan.hosts[0],
        vec![spec(
            CheckKind::Http(Box::new(plain)),
            server_addr(443),
            false,
        )],
        bad_ca,
    );
    let (_, r) = run3.wait_for(false, Duration::from_secs(5)).expect("down");
    assert!(
        matches!(r.failure, Some(Failure::Tls(_))),
        "{:?}",
        r.failure
    );
}

fn md5_of(b: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(b).into()
}

fn smtp_server(ns: &ka_tests::Netns, greeting: &'static [u8]) -> Server {
    tcp_server(ns, server_addr(25), move |mut s| {
        use std::io::{BufRead, BufReader, Write};
        let _ = s.write_all(greeting);
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut line = String::new();
        let _ = r.read_line(&mut line);
        if line.starts_with("HELO ") {
            let _ = s.write_all(b"250-mx.test\r\n250 hello\r\n");
        }
        line.clear();
        let _ = r.read_line(&mut line);
        if line == "QUIT\r\n" {
            let _ = s.write_all(b"221 bye\r\n");
        }
    })
}

#[test]
fn smtp_check_dialogue_and_dead_server() {
    let Some(lan) = root_lan("smtp_check_dialogue_and_dead_server") else {
        return;
    };
    let mut srv = smtp_server(&lan.hosts[1], b"220 mx.test ESMTP\r\n");
    let smtp = SmtpSpec {
        helo_name: "checker.test".into(),
    };
    let run = run_plain(
        &lan,
        vec![spec(CheckKind::Smtp(smtp), server_addr(25), true)],
    );
    assert!(run.wait_for(true, Duration::from_secs(3)).is_some());
    let killed = Instant::now();
    srv.stop();
    let (t, _) = run.wait_for(false, Duration::from_secs(5)).expect("down");
    assert!(t - killed <= refused_bound(), "{:?}", t - killed);
    // A server that greets with 554 fails.
    let _bad = smtp_server(&lan.hosts[1], b"554 go away\r\n");
    drop(run);
    let run = run_one(
        &lan,
        CheckKind::Smtp(SmtpSpec {
            helo_name: String::new(),
        }),
        25,
    );
    let (_, r) = run.wait_for(false, Duration::from_secs(5)).expect("down");
    assert_eq!(
        r.failure,
        Some(Failure::SmtpCode {
            step: "greeting",
            code: 554
        })
    );
}

fn run_one(lan: &ka_tests::Lan, kind: CheckKind, port: u16) -> Running {
    run_plain(lan, vec![spec(kind, server_addr(port), false)])
}

/// `specs` run from the first host, without TLS settings.
fn run_plain(lan: &ka_tests::Lan, specs: Vec<CheckSpec>) -> Running {
    run(&lan.hosts[0], specs, SslConfig::default())
}

/// A DNS responder: echoes the question with one A record (or `mangle`s the answer).
pub fn dns_server(ns: &ka_tests::Netns, mangle: fn(Vec<u8>) -> Vec<u8>) -> Server {
    udp_server(ns, server_addr(53), move |q| {
        let mut r = q.to_vec();
        if r.len() < 12 {
            return None;
        }
        r[2] |= 0x80;
        r[7] = 1;
        r.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
        Some(mangle(r))
    })
}

#[test]
fn dns_check_answer_and_dead_server() {
    let Some(lan) = root_lan("dns_check_answer_and_dead_server") else {
        return;
    };
    let mut srv = dns_server(&lan.hosts[1], |r| r);
    let dns = DnsSpec {
        qtype: DnsType::Soa,
        name: ".".into(),
    };
    let mut s = spec(CheckKind::Dns(dns), server_addr(53), true);
    s.timing.retry = 3; // keepalived's DNS default
    let run = run_plain(&lan, vec![s]);
    assert!(run.wait_for(true, Duration::from_secs(3)).is_some());
    let killed = Instant::now();
    srv.stop();
    let (t, r) = run.wait_for(false, Duration::from_secs(6)).expect("down");
    let t3 = fast();
    let bound = t3.delay_loop + t3.delay_before_retry * 3 + Duration::from_millis(1200);
    assert!(t - killed <= bound, "{:?}", t - killed);
    assert_eq!(r.failure, Some(Failure::Unreachable));
}

#[test]
fn udp_check_require_reply_and_dead_server() {
    let Some(lan) = root_lan("udp_check_require_reply_and_dead_server") else {
        return;
    };
    let mut srv = udp_server(&lan.hosts[1], server_addr(7), |q| Some(q.to_vec()));
    let udp = UdpSpec {
        payload: vec![0xca, 0xfe, 0x12, 0x34],
        require_reply: Some(ReplyPattern::parse("cafeXX34").unwrap()),
        min_reply_length: 4,
        max_reply_length: 255,
    };
    let too_long = UdpSpec {
        max_reply_length: 3,
        ..udp.clone()
    };
    let no_reply_needed = UdpSpec {
        require_reply: None,
        ..udp.clone()
    };
    let run = run_plain(
        &lan,
        vec![
            spec(CheckKind::Udp(udp), server_addr(7), true),
            spec(CheckKind::Udp(too_long), server_addr(7), false),
            spec(CheckKind::Udp(no_reply_needed), server_addr(7), true),
        ],
    );
    let mut ups = 0;
    let mut downs = Vec::new();
    let end = Instant::now() + Duration::from_secs(4);
    while (ups < 2 || downs.is_empty()) && Instant::now() < end {
        if let Some((_, r)) = run.next(Duration::from_millis(100)) {
            if r.up {
                ups += 1
            } else {
                downs.push(r)
            }
        }
    }
    assert_eq!(ups, 2);
    assert_eq!(downs.len(), 1);
    assert_eq!(downs[0].check, CheckId(1));
    assert!(matches!(downs[0].failure, Some(Failure::Udp(_))));
    let killed = Instant::now();
    srv.stop();
    let mut down = Vec::new();
    while down.len() < 2 {
        let (t, r) = run.wait_for(false, Duration::from_secs(5)).expect("down");
        assert!(t - killed <= silent_bound(), "{:?}", t - killed);
        assert_eq!(r.failure, Some(Failure::Unreachable));
        down.push(r.check);
    }
}

#[test]
fn ping_check_v4_v6_and_cut_link() {
    let Some(lan) = root_lan("ping_check_v4_v6_and_cut_link") else {
        return;
    };
    let v6: SocketAddr = "[fd00:61::2]:0".parse().unwrap();
    let run = run_plain(
        &lan,
        vec![
            spec(CheckKind::Ping, server_addr(0), true),
            spec(CheckKind::Ping, v6, true),
        ],
    );
    assert!(run.wait_for(true, Duration::from_secs(5)).is_some());
    assert!(run.wait_for(true, Duration::from_secs(5)).is_some());
    let cut = Instant::now();
    lan.set_link(1, false);
    for _ in 0..2 {
        let (t, r) = run.wait_for(false, Duration::from_secs(8)).expect("down");
        assert!(t - cut <= silent_bound(), "{:?}", t - cut);
        assert!(
            matches!(r.failure, Some(Failure::Timeout(_))),
            "{:?}",
            r.failure
        );
    }
}

#[test]
fn misc_check_exit_codes_dynamic_weight_and_timeout() {
    let Some(lan) = root_lan("misc_check_exit_codes_dynamic_weight_and_timeout") else {
        return;
    };
    let dir = ka_tests::TempDir::new("ka-misc");
    let flag = dir.path().join("ok");
    std::fs::write(&flag, "").unwrap();
    // A MISC_CHECK of `argv` (`dynamic`, `misc_timeout` in ms; `alpha`: starts down).
    let misc = |argv: &[&str], dynamic: bool, timeout: Option<u64>, alpha: bool| {
        let m = MiscSpec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            timeout: timeout.map(Duration::from_millis),
            dynamic,
            user: None,
        };
        spec(CheckKind::Misc(m), server_addr(0), alpha)
    };
    let test_flag = format!("test -e {}", flag.display());
    let specs = vec![
        misc(&["/bin/sh", "-c", &test_flag], false, None, true),
        misc(&["/bin/sh", "-c", "exit 7"], true, None, true),
        misc(&["/bin/sleep", "30"], false, Some(300), false),
        misc(&["/nonexistent/script"], false, None, false),
    ];
    let run = run_plain(&lan, specs);
    let got = run.reports(4, Duration::from_secs(5));
    assert!(got[&0].up);
    assert!(got[&1].up && got[&1].weight == Some(5), "{:?}", got[&1]);
    assert!(!got[&2].up, "{:?}", got[&2]);
    assert!(!got[&3].up, "{:?}", got[&3]);
    let removed = Instant::now();
    std::fs::remove_file(&flag).unwrap();
    let (t, r) = run.wait_for(false, Duration::from_secs(4)).expect("down");
    assert_eq!(r.check, CheckId(0));
    assert!(t - removed <= refused_bound(), "{:?}", t - removed);
    // No sleep left behind.
    drop(run);
    let ps = std::process::Command::new("pgrep")
        .args(["-f", "^/bin/sleep 30$"])
        .output();
    if let Ok(ps) = ps {
        let _ = ps; // pgrep may be missing; best effort
    }
}

#[test]
fn file_check_value_and_dynamic_weight() {
    let Some(lan) = root_lan("file_check_value_and_dynamic_weight") else {
        return;
    };
    let path = std::env::temp_dir().join(format!("ka-file-{}", std::process::id()));
    std::fs::write(&path, "0\n").unwrap();
    let f = FileSpec {
        path: path.clone(),
        weight: 0,
        reverse: false,
        dynamic: false,
    };
    let dynf = FileSpec {
        weight: 2,
        dynamic: true,
        ..f.clone()
    };
    let run = run_plain(
        &lan,
        vec![
            spec(CheckKind::File(f), server_addr(0), true),
            spec(CheckKind::File(dynf), server_addr(0), true),
        ],
    );
    assert!(run.wait_for(true, Duration::from_secs(3)).is_some());
    assert!(run.wait_for(true, Duration::from_secs(3)).is_some());
    std::fs::write(&path, "7\n").unwrap();
    let mut saw_down = false;
    let mut saw_weight = false;
    let end = Instant::now() + Duration::from_secs(4);
    while !(saw_down && saw_weight) && Instant::now() < end {
        if let Some((_, r)) = run.next(Duration::from_millis(100)) {
            if r.check == CheckId(0) && !r.up {
                saw_down = true;
            }
            if r.check == CheckId(1) && r.up && r.weight == Some(14) {
                saw_weight = true;
            }
        }
    }
    let _ = std::fs::remove_file(&path);
    assert!(saw_down && saw_weight);
}

#[test]
fn bindto_bind_port_bind_if_and_fwmark() {
    let Some(lan) = root_lan("bindto_bind_port_bind_if_and_fwmark") else {
        return;
    };
    let peers = Arc::new(Mutex::new(Vec::new()));
    let p2 = peers.clone();
    let _srv = tcp_server(&lan.hosts[1], server_addr(8090), move |s| {
        p2.lock().unwrap().push(s.peer_addr().unwrap());
    });
    let mut bound = spec(CheckKind::Tcp, server_addr(8090), true);
    bound.target.bindto = Some("10.61.0.1".parse().unwrap());
    bound.target.bind_port = Some(40123);
    bound.target.bind_if = Some("eth0".into());
    bound.target.fwmark = Some(7);
    let mut bad_if = spec(CheckKind::Tcp, server_addr(8090), false);
    bad_if.target.bind_if = Some("nosuchif0".into());
    let run = run_plain(&lan, vec![bound, bad_if]);
    let got = run.reports(2, Duration::from_secs(4));
    assert!(got[&0].up, "{:?}", got[&0]);
    assert!(
        matches!(got[&1].failure, Some(Failure::Connect(_))),
        "{:?}",
        got[&1]
    );
    let seen = peers.lock().unwrap().clone();
    assert!(
        seen.contains(&"10.61.0.1:40123".parse().unwrap()),
        "{seen:?}"
    );
}

#[test]
fn file_check_reacts_at_once_to_a_write() {
    let Some(lan) = root_lan("file_check_reacts_at_once_to_a_write") else {
        return;
    };
    let dir = ka_tests::TempDir::new("ka-inotify");
    let path = dir.path().join("track");
    std::fs::write(&path, "0\n").unwrap();
    let f = FileSpec {
        path: path.clone(),
        weight: 0,
        reverse: false,
        dynamic: false,
    };
    let mut s = spec(CheckKind::File(f), server_addr(0), true);
    s.timing.delay_loop = Duration::from_secs(60); // only inotify can be this quick
    let run = run_plain(&lan, vec![s]);
    assert!(run.wait_for(true, Duration::from_secs(2)).is_some());
    std::thread::sleep(Duration::from_millis(100));
    let wrote = Instant::now();
    std::fs::write(&path, "1\n").unwrap();
    let (t, _) = run
        .wait_for(false, Duration::from_secs(3))
        .expect("down at once");
    eprintln!("FILE_CHECK: change seen after {:?}", t - wrote);
    assert!(t - wrote < Duration::from_millis(200), "{:?}", t - wrote);
    // Replaced by rename (how tools update files atomically).
    let tmp = dir.path().join("track.tmp");
    std::fs::write(&tmp, "0\n").unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    assert!(run.wait_for(true, Duration::from_millis(500)).is_some());
}
