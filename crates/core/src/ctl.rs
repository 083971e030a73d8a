//! `keepalived-rs ctl`: ask the running daemon over its control socket
//! ([`crate::control`]).
//!
//! ```text
//! keepalived-rs ctl [--socket PATH | -s NETNS | -i INSTANCE] status [--json]
//! keepalived-rs ctl ... events [--follow]
//! keepalived-rs ctl ... reload
//! keepalived-rs ctl ... maintenance enter|leave INSTANCE...|--all
//! keepalived-rs ctl ... dump data|stats|json
//! keepalived-rs ctl ... real-server disable|enable VIRTUAL_SERVER REAL_SERVER
//! ```
//!
//! Exit codes: 0 done; 1 the daemon said no (a refused reload, a refused request);
//! 2 a usage error; 3 no daemon answers on the socket.

use crate::control::{socket_path, Answer, Request};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// `ctl`'s usage text.
pub const USAGE: &str = "Usage: keepalived-rs ctl [--socket PATH | -s NETNS | -i INSTANCE] VERB

Verbs:
  status [--json]     VRRP instances, services and children, as a table or JSON
  events [--follow]   recent events as JSON lines; --follow waits for new ones
  reload              reload the configuration and print the verdict
                      (exit 0 accepted, 1 refused with every diagnostic)
  maintenance enter|leave INSTANCE...|--all
                      drain this host: a drained MASTER hands over at once (priority 0)
                      and the instance advertises priority 1 until `leave`
  dump data|stats|json
                      keepalived's dumps (SIGUSR1, SIGUSR2, SIGJSON) on stdout, no file
  real-server disable|enable VIRTUAL_SERVER REAL_SERVER
                      drain a real server (weight 0, its checks go on) or give it its
                      weight back; the names as status shows them ([10.0.0.1]:tcp:80)

The socket is /run/keepalived-rs/[NETNS/]keepalived-rs[_INSTANCE].sock unless --socket
names it (the daemon's --control-socket).
";

/// Exit codes.
pub mod exit {
    pub const OK: i32 = 0;
    pub const REFUSED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const UNREACHABLE: i32 = 3;
}

/// What the command line asks.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Args {
    socket: PathBuf,
    request: Request,
    json: bool,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut explicit = None;
    let mut netns = None;
    let mut instance = None;
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--socket" => explicit = Some(PathBuf::from(value("--socket")?)),
            "-s" | "--namespace" => netns = Some(value("-s")?),
            "-i" | "--instance" => instance = Some(value("-i")?),
            s if s.starts_with("--socket=") => {
                explicit = Some(PathBuf::from(&s["--socket=".len()..]))
            }
            _ => words.push(a.as_str()),
        }
    }
    let socket = socket_path(explicit.as_deref(), netns.as_deref(), instance.as_deref());
    let (request, json) = match words.as_slice() {
        ["status"] => (Request::Status, false),
        ["status", "--json"] => (Request::Status, true),
        ["events"] => (Request::Events { follow: false }, true),
        ["events", "--follow" | "-f"] => (Request::Events { follow: true }, true),
        ["reload"] => (Request::Reload, false),
        ["maintenance", verb @ ("enter" | "leave"), rest @ ..] if !rest.is_empty() => {
            let all = rest == ["--all"];
            if !all && rest.iter().any(|r| r.starts_with('-')) {
                return Err(format!("maintenance {verb}: INSTANCE... or --all"));
            }
            (
                Request::Maintenance {
                    on: *verb == "enter",
                    instances: if all {
                        Vec::new()
                    } else {
                        rest.iter().map(|s| s.to_string()).collect()
                    },
                },
                false,
            )
        }
        ["dump", kind @ ("data" | "stats" | "json")] => (
            Request::Dump {
                kind: kind.to_string(),
            },
            false,
        ),
        ["real-server", verb @ ("disable" | "enable"), vs, rs] => (
            Request::RealServer {
                virtual_server: vs.to_string(),
                real_server: rs.to_string(),
                disable: *verb == "disable",
            },
            false,
        ),
        ["real-server", ..] => {
            return Err("real-server disable|enable VIRTUAL_SERVER REAL_SERVER".into())
        }
        [] => return Err("no verb given".into()),
        other => return Err(format!("unknown verb or argument: {}", other.join(" "))),
    };
    Ok(Args {
        socket,
        request,
        json,
    })
}

/// Run `ctl ARGS`; returns the exit code.
pub fn main(args: &[String]) -> i32 {
    if matches!(
        args.first().map(String::as_str),
        Some("-h" | "--help" | "help")
    ) {
        print!("{USAGE}");
        return exit::OK;
    }
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("keepalived-rs ctl: {e}\n\n{USAGE}");
            return exit::USAGE;
        }
    };
    let stream = match UnixStream::connect(&a.socket) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "keepalived-rs ctl: no daemon answers on {}: {e}",
                a.socket.display()
            );
            return exit::UNREACHABLE;
        }
    };
    match converse(stream, &a) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keepalived-rs ctl: {e}");
            exit::UNREACHABLE
        }
    }
}

fn converse(mut stream: UnixStream, a: &Args) -> Result<i32, String> {
    let follow = matches!(a.request, Request::Events { follow: true });
    if !follow {
        // A reload reads and checks the whole configuration first.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    }
    let mut line = serde_json::to_string(&a.request).map_err(|e| e.to_string())?;
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let reader = BufReader::new(stream);
    let out = std::io::stdout();
    for l in reader.lines() {
        let l = l.map_err(|e| format!("the daemon's answer was cut: {e}"))?;
        let ans: Answer = serde_json::from_str(&l)
            .map_err(|e| format!("an answer this ctl cannot read ({e}): {l}"))?;
        match ans {
            Answer::Status(s) => {
                if a.json {
                    let text = serde_json::to_string_pretty(&s).map_err(|e| e.to_string())?;
                    println!("{text}");
                } else {
                    print!("{}", s.table(now_unix()));
                }
                return Ok(exit::OK);
            }
            Answer::Event(_) => {
                // Events are printed as the daemon sent them: one JSON object a line.
                let mut o = out.lock();
                let _ = writeln!(o, "{}", event_line(&l));
                let _ = o.flush();
            }
            Answer::EventsEnd => {
                if !follow {
                    return Ok(exit::OK);
                }
            }
            Answer::Reload(v) => {
                if v.accepted {
                    println!("reload accepted");
                    return Ok(exit::OK);
                }
                eprintln!("reload refused: {}", v.summary);
                for d in &v.diagnostics {
                    eprintln!("{d}");
                }
                return Ok(exit::REFUSED);
            }
            Answer::Dump { text } => {
                let mut o = out.lock();
                let _ = o.write_all(text.as_bytes());
                let _ = o.flush();
            }
            Answer::DumpEnd => return Ok(exit::OK),
            Answer::Maintenance { drained } => {
                if drained.is_empty() {
                    println!("no instance in maintenance");
                } else {
                    println!("in maintenance: {}", drained.join(" "));
                }
                return Ok(exit::OK);
            }
            Answer::RealServer {
                virtual_server,
                real_server,
                disabled,
            } => {
                let what = if disabled {
                    "disabled (weight 0)"
                } else {
                    "enabled"
                };
                println!("real server {real_server} of {virtual_server} {what}");
                return Ok(exit::OK);
            }
            Answer::Error { message } => {
                eprintln!("keepalived-rs ctl: the daemon refused: {message}");
                return Ok(exit::REFUSED);
            }
        }
    }
    if follow {
        // The daemon went away.
        return Ok(exit::OK);
    }
    Err("the daemon closed the connection without an answer".into())
}

/// An event line without the `answer` tag.
fn event_line(l: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(l) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.remove("answer");
            serde_json::Value::Object(m).to_string()
        }
        _ => l.to_string(),
    }
}

fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn verbs_and_socket_choice() {
        let a = p(&["status"]).unwrap();
        assert_eq!(a.request, Request::Status);
        assert!(!a.json);
        assert_eq!(
            a.socket,
            PathBuf::from("/run/keepalived-rs/keepalived-rs.sock")
        );
        let a = p(&["-s", "blue", "-i", "web", "status", "--json"]).unwrap();
        assert!(a.json);
        assert_eq!(
            a.socket,
            PathBuf::from("/run/keepalived-rs/blue/keepalived-rs_web.sock")
        );
        let a = p(&["--socket", "/tmp/k.sock", "events", "--follow"]).unwrap();
        assert_eq!(a.request, Request::Events { follow: true });
        assert_eq!(a.socket, PathBuf::from("/tmp/k.sock"));
        assert_eq!(p(&["reload"]).unwrap().request, Request::Reload);
        assert_eq!(
            p(&["dump", "json"]).unwrap().request,
            Request::Dump {
                kind: "json".into()
            }
        );
        assert!(p(&["dump", "core"]).is_err());
        assert_eq!(
            p(&["maintenance", "enter", "--all"]).unwrap().request,
            Request::Maintenance {
                on: true,
                instances: vec![]
            }
        );
        assert_eq!(
            p(&["maintenance", "leave", "VI_1", "VI_2"])
                .unwrap()
                .request,
            Request::Maintenance {
                on: false,
                instances: vec!["VI_1".into(), "VI_2".into()]
            }
        );
        assert!(p(&["maintenance", "enter"]).is_err());
        assert_eq!(
            p(&[
                "real-server",
                "disable",
                "[10.0.0.1]:tcp:80",
                "[10.0.0.2]:tcp:80"
            ])
            .unwrap()
            .request,
            Request::RealServer {
                virtual_server: "[10.0.0.1]:tcp:80".into(),
                real_server: "[10.0.0.2]:tcp:80".into(),
                disable: true
            }
        );
        assert!(matches!(
            p(&["real-server", "enable", "V", "R"]).unwrap().request,
            Request::RealServer { disable: false, .. }
        ));
        assert!(p(&["real-server", "disable", "V"]).is_err());
        assert!(p(&["real-server", "drop", "V", "R"]).is_err());
        assert!(p(&["maintenance", "enter", "VI_1", "--all"]).is_err());
        assert!(p(&[]).is_err());
        assert!(p(&["status", "--yaml"]).is_err());
        assert!(p(&["--socket"]).is_err());
    }

    #[test]
    fn an_event_line_loses_its_answer_tag() {
        let l = r#"{"answer":"event","seq":1,"kind":"reload","accepted":true}"#;
        let e = event_line(l);
        assert!(!e.contains("answer"), "{e}");
        assert!(e.contains(r#""seq":1"#), "{e}");
    }
}
