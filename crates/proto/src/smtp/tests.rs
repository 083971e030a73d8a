//! The sender against real TCP servers on loopback: a good one, and ones that refuse,
//! close, stay silent or talk nonsense.

use super::sender::{deliver, spawn, Event, Job};
use super::sink::{Behaviour, Sink};
use super::*;
use crate::config::global::SmtpServer;
use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

fn job(addr: SocketAddr, timeout: Duration) -> Job {
    let settings = AlertSettings {
        server: SmtpServer {
            host: addr.ip().to_string(),
            port: addr.port(),
        },
        timeout,
        envelope: Envelope {
            helo: "vm".into(),
            from: "kad@example.com".into(),
            to: vec!["a@example.com".into(), "b@example.org".into()],
        },
        router_id: "R1".into(),
        smtp_alert: None,
        smtp_alert_vrrp: None,
        smtp_alert_checker: None,
        no_email_faults: false,
        no_checker_emails: false,
    };
    settings.job(
        &Alert::vrrp_instance("VI_1", VrrpAlertState::Master),
        SystemTime::now(),
    )
}

fn sink(b: Behaviour) -> Sink {
    Sink::start("127.0.0.1:0".parse().unwrap(), b).unwrap()
}

/// A delivery to `addr` that must fail: its log.
fn failed(addr: SocketAddr, timeout: Duration) -> Vec<String> {
    let (ok, log) = run(&job(addr, timeout));
    assert!(!ok, "{log:?}");
    log
}

fn run(j: &Job) -> (bool, Vec<String>) {
    let mut lines = Vec::new();
    let ok = deliver(j, &mut |e| lines.push(e.to_string()));
    (ok, lines)
}

#[test]
fn delivers_what_keepalived_sends() {
    let s = sink(Behaviour::Accept);
    let (ok, log) = run(&job(s.addr(), Duration::from_secs(2)));
    assert!(ok, "{log:?}");
    assert_eq!(
        log,
        [
            format!(
                "Remote SMTP server [127.0.0.1]:{} connected.",
                s.addr().port()
            ),
            "SMTP alert successfully sent.".to_string()
        ]
    );
    let r = s
        .wait_for(Duration::from_secs(2), |r| r.message.is_some())
        .unwrap();
    let env = r.envelope.unwrap();
    assert_eq!(env.helo, "vm");
    assert_eq!(env.from, "kad@example.com");
    assert_eq!(env.to, ["a@example.com", "b@example.org"]);
    let m = r.message.unwrap();
    assert_eq!(m.subject, "[R1] VRRP Instance VI_1 - Entering MASTER state");
    assert_eq!(m.body, "=> VRRP Instance is now owning VRRP VIPs <=");
    assert_eq!(m.to, ["a@example.com", "b@example.org"]);
    // The command lines in keepalived's order (as observed from 2.2.7).
    let cmds: Vec<&str> = r.lines.iter().map(String::as_str).take(5).collect();
    assert_eq!(
        cmds,
        [
            "HELO vm",
            "MAIL FROM:<kad@example.com>",
            "RCPT TO:<a@example.com>",
            "RCPT TO:<b@example.org>",
            "DATA"
        ]
    );
    assert_eq!(r.lines.last().map(String::as_str), Some("QUIT"));
}

#[test]
fn refusals_are_logged_as_keepalived_and_end_with_quit() {
    let cases = [
        (Stage::Greeting, 554, "(E)SMTP"),
        (Stage::Helo, 550, "HELO"),
        (Stage::Mail, 550, "MAIL"),
        (Stage::Rcpt(0), 550, "RCPT"),
        (Stage::Data, 550, "DATA"),
        (Stage::Body, 552, "BODY"),
    ];
    for (stage, code, word) in cases {
        let s = sink(Behaviour::RefuseAt(stage, code));
        let log = failed(s.addr(), Duration::from_secs(2));
        assert_eq!(
            log.last().unwrap(),
            &format!(
                "Error processing {word} cmd on SMTP server [127.0.0.1]:{}. SMTP status code = {code}",
                s.addr().port()
            )
        );
        let r = s.wait_for(Duration::from_secs(2), |_| true).unwrap();
        assert_eq!(r.lines.last().map(String::as_str), Some("QUIT"), "{word}");
        // keepalived stops at the first refused recipient.
        if word == "RCPT" {
            assert!(!r.lines.iter().any(|l| l.contains("b@example.org")));
        }
    }
}

#[test]
fn server_closing_early() {
    let s = sink(Behaviour::CloseAtOnce);
    let log = failed(s.addr(), Duration::from_secs(2));
    assert_eq!(
        log.last().unwrap(),
        &format!(
            "Remote SMTP server [127.0.0.1]:{} has closed the connection.",
            s.addr().port()
        )
    );
}

#[test]
fn server_never_answering_times_out() {
    let s = sink(Behaviour::Silent);
    let t = Instant::now();
    let log = failed(s.addr(), Duration::from_millis(300));
    let took = t.elapsed();
    assert_eq!(
        log.last().unwrap(),
        &format!(
            "Timeout reading data to remote SMTP server [127.0.0.1]:{}.",
            s.addr().port()
        )
    );
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn garbage_and_oversized_replies() {
    let s = sink(Behaviour::Greeting(
        b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
    ));
    let log = failed(s.addr(), Duration::from_secs(2));
    assert!(
        log.last()
            .unwrap()
            .starts_with("Invalid reply to (E)SMTP cmd"),
        "{log:?}"
    );
    // An endless greeting line: refused once it passes the bound, long before the timeout.
    let s = sink(Behaviour::Greeting(vec![b'2'; 100_000]));
    let t = Instant::now();
    let log = failed(s.addr(), Duration::from_secs(5));
    assert!(log.last().unwrap().contains("longer than"), "{log:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
    // Many continuation lines.
    let s = sink(Behaviour::Greeting(b"220-x\r\n".repeat(1000)));
    let log = failed(s.addr(), Duration::from_secs(5));
    assert!(log.last().unwrap().contains("reply longer than"), "{log:?}");
}

#[test]
fn nobody_listening() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let log = failed(
        SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(1),
    );
    assert_eq!(log.len(), 1);
    assert!(
        log[0].starts_with(&format!(
            "Error connecting SMTP server [127.0.0.1]:{port}: "
        )),
        "{log:?}"
    );
}

#[test]
fn unresolvable_name() {
    let mut j = job(
        SocketAddr::from(([127, 0, 0, 1], 25)),
        Duration::from_secs(1),
    );
    j.server.host = "no-such-host.invalid".into();
    let (ok, log) = run(&j);
    assert!(!ok);
    assert!(log[0].starts_with("Cannot resolve SMTP server no-such-host.invalid"));
}

static SPAWNED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record(e: &Event) {
    if let Ok(mut v) = SPAWNED.lock() {
        v.push(e.to_string());
    }
}

#[test]
fn background_delivery_returns_at_once() {
    let s = sink(Behaviour::Accept);
    let t = Instant::now();
    assert!(spawn(job(s.addr(), Duration::from_secs(2)), record));
    assert!(t.elapsed() < Duration::from_millis(100));
    assert!(s
        .wait_for(Duration::from_secs(5), |r| r.message.is_some())
        .is_some());
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if SPAWNED
            .lock()
            .unwrap()
            .iter()
            .any(|l| l == "SMTP alert successfully sent.")
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no success logged: {:?}", SPAWNED.lock().unwrap());
}
