//! `keepalived_check.data`'s "Health checkers" section in keepalived 2.4.3's lines: each
//! checker with its timing, connection and kind's settings, and its state.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use ka_check::scheduler::CheckDump;
use ka_check::spec::{CheckKind, CheckSpec, HttpProtocol, HttpSpec, MiscSpec};
use ka_proto::config::{Checker, CheckerCommon, Config, DnsType, HttpCheck, RealServer};

use super::lvs::{rs_name, secs, vs_name};
use crate::check_child::runtime::Runtime;

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn set_unset(b: bool) -> &'static str {
    if b {
        "set"
    } else {
        "unset"
    }
}

fn us(d: Duration) -> u128 {
    d.as_micros()
}

fn addr(a: SocketAddr) -> String {
    format!("[{}]:{}", a.ip(), a.port())
}

/// The `delay_before_retry` keepalived gives a kind when none is set.
fn default_dbr(kind: &CheckKind) -> Duration {
    match kind {
        CheckKind::Http(_) => Duration::from_secs(3),
        CheckKind::Dns(_) => Duration::ZERO,
        _ => Duration::from_secs(1),
    }
}

fn dns_type(t: DnsType) -> &'static str {
    match t {
        DnsType::A => "A",
        DnsType::Ns => "NS",
        DnsType::Cname => "CNAME",
        DnsType::Soa => "SOA",
        DnsType::Mx => "MX",
        DnsType::Txt => "TXT",
        DnsType::Aaaa => "AAAA",
    }
}

/// What the dump shows from the checker's own block (not inherited).
struct Own<'a> {
    log_all_failures: bool,
    http: Option<&'a HttpCheck>,
    /// The real server's configured weight (a dynamic MISC_CHECK's weight is shown
    /// relative to it).
    rs_weight: i64,
}

/// The configuration block of each of a real server's checks: checks are built in the
/// order of the blocks, a block giving one check (SMTP_CHECK: one per `host`), blocks
/// that could not be built giving none.
fn own_blocks<'a>(rs: &'a RealServer, kinds: &[&str]) -> Vec<Option<&'a Checker>> {
    let name = |c: &Checker| match c {
        Checker::Tcp(_) => "TCP_CHECK",
        Checker::Http(_) => "HTTP_GET",
        Checker::Ssl(_) => "SSL_GET",
        Checker::Smtp(_) => "SMTP_CHECK",
        Checker::Misc(_) => "MISC_CHECK",
        Checker::Dns(_) => "DNS_CHECK",
        Checker::Udp(_) => "UDP_CHECK",
        Checker::Ping(_) => "PING_CHECK",
        Checker::File(_) => "FILE_CHECK",
        Checker::Bfd(_) => "BFD_CHECK",
    };
    let mut out = Vec::new();
    let mut blocks = rs.checkers.iter().peekable();
    for k in kinds {
        while blocks.peek().is_some_and(|c| name(c) != *k) {
            blocks.next();
        }
        let here = blocks.peek().copied();
        out.push(here);
        let more_hosts = matches!(here, Some(Checker::Smtp(m)) if m.hosts.len() > 1);
        if !more_hosts {
            blocks.next();
        }
    }
    out
}

fn http_text(s: &mut String, h: &HttpSpec, own: Option<&HttpCheck>) {
    let proto = match h.protocol {
        HttpProtocol::Http10 => "1.0",
        HttpProtocol::Http10C => "1.0C",
        HttpProtocol::Http11 => "1.1",
    };
    let _ = writeln!(
        s,
        "   Keepalive method = {}, http protocol {proto}",
        if h.tls { "SSL_GET" } else { "HTTP_GET" }
    );
    if let Some(v) = own.and_then(|o| o.virtualhost.as_ref()) {
        let _ = writeln!(s, "   Virtualhost = {v}");
    }
    let _ = writeln!(s, "   Enable SNI {}", set_unset(h.enable_sni));
    let fast = own.is_some_and(|o| o.fast_recovery);
    let _ = writeln!(s, "   Fast recovery {}", set_unset(fast));
    if h.tls {
        let _ = writeln!(s, "   tls_compliant {}", set_unset(h.tls_compliant));
    }
    for u in &h.urls {
        let _ = writeln!(s, "   Checked url = {}", u.path);
        if let Some(d) = u.digest {
            let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(s, "     digest = {hex}");
        }
        s.push_str("     tls_compliant unset\n     HTTP Status Code(s)\n");
        for (lo, hi) in &u.status.0 {
            if lo == hi {
                let _ = writeln!(s, "       {lo}");
            } else {
                let _ = writeln!(s, "       {lo}-{hi}");
            }
        }
        if let Some(v) = &u.virtualhost {
            let _ = writeln!(s, "     Virtual host = {v}");
        }
    }
}

/// The exit code of a MISC_CHECK's last run (0 before the first).
fn misc_status(m: &MiscSpec, st: Option<&CheckDump>) -> i64 {
    let Some(c) = st else { return 0 };
    match c.last_ok {
        // A dynamic check's weight is its exit code - 2.
        Some(true) if m.dynamic => c.weight.map_or(0, |w| w + 2),
        Some(false) => c
            .last_failure
            .as_deref()
            .and_then(|f| f.rsplit_once("exited with status "))
            .and_then(|(_, n)| n.trim().parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

fn misc_text(s: &mut String, m: &MiscSpec, st: Option<&CheckDump>) {
    s.push_str("   Keepalive method = MISC_CHECK\n");
    // keepalived names the program the path resolves to when it is a link.
    if let Some(prog) = m.argv.first() {
        if let Ok(real) = std::fs::canonicalize(prog) {
            if real.as_os_str() != prog.as_str() {
                let _ = writeln!(s, "   path = {}", real.display());
            }
        }
    }
    let words: Vec<String> = m.argv.iter().map(|a| format!("'{a}'")).collect();
    let (uid, gid) = m.user.unwrap_or((0, 0));
    let _ = writeln!(
        s,
        "   script = {}\n   timeout = {}\n   dynamic = {}\n   uid:gid = {uid}:{gid}\n   \
         Last ran = 0.000000 (Thu Jan  1 00:00:00 1970.000000)\n   Last status = {}",
        words.join(" "),
        m.timeout.map_or(0, |d| d.as_secs()),
        if m.dynamic { "YES" } else { "NO" },
        misc_status(m, st)
    );
}

/// The lines of one checker (after its `VS -> RS` line).
fn check_text(
    s: &mut String,
    spec: &CheckSpec,
    st: Option<&CheckDump>,
    config: &Config,
    own: &Own<'_>,
) {
    let up = st.is_none_or(|c| c.up);
    let ran = st.is_some_and(|c| c.passes + c.fails > 0);
    let file = matches!(spec.kind, CheckKind::File(_));
    let weight = st.and_then(|c| c.weight).map_or(0, |w| match &spec.kind {
        // MISC_CHECK's exit code sets the real server's weight: shown as a change.
        CheckKind::Misc(_) => w - own.rs_weight,
        _ => w,
    });
    let _ = writeln!(
        s,
        "   Enabled = {}\n   Up = {}\n   Has run = {}\n   Current weight = {}",
        yes_no(!st.is_some_and(|c| c.suspended)),
        yes_no(up),
        yes_no(ran || file),
        weight
    );
    let t = &spec.timing;
    if !file {
        let _ = writeln!(
            s,
            "   Alpha = {}\n   Delay loop = {} us\n   Warmup = {} us\n   Retries = {}",
            yes_no(spec.alpha),
            us(t.delay_loop),
            us(t.warmup),
            t.retry
        );
        if t.retry > 0 {
            // Before the first attempt keepalived shows every retry as left; then the
            // retries used in the current failure streak.
            let _ = writeln!(
                s,
                "   Delay before retry = {} us\n   Retries iterations = {}",
                us(t.delay_before_retry),
                match st {
                    Some(c) if ran => c.retry_it,
                    _ => t.retry,
                }
            );
        }
        let _ = writeln!(
            s,
            "   Default delay before retry = {} us",
            us(default_dbr(&spec.kind))
        );
    }
    let _ = writeln!(s, "   Log all failures = {}", yes_no(own.log_all_failures));
    let network = !matches!(spec.kind, CheckKind::Misc(_) | CheckKind::File(_));
    if network {
        let g = &spec.target;
        let _ = writeln!(s, "   Connection\n     Dest = {}", addr(g.addr));
        if let Some(b) = g.bindto {
            let _ = writeln!(
                s,
                "     Bind to = {}",
                addr(SocketAddr::new(b, g.bind_port.unwrap_or(0)))
            );
        }
        if let Some(i) = &g.bind_if {
            let _ = writeln!(s, "     Bind i/f = {i}");
        }
        if let Some(m) = g.fwmark {
            let _ = writeln!(s, "     Mark = {m}");
        }
        let _ = writeln!(s, "     Timeout = {}", secs(t.connect_timeout));
    }
    match &spec.kind {
        CheckKind::Tcp => s.push_str("   Keepalive method = TCP_CHECK\n"),
        CheckKind::Http(h) => http_text(s, h, own.http),
        CheckKind::Smtp(m) => {
            let helo = if m.helo_name.is_empty() {
                "smtpchecker.keepalived.org"
            } else {
                &m.helo_name
            };
            let _ = writeln!(s, "   Keepalive method = SMTP_CHECK\n   helo = {helo}");
        }
        CheckKind::Dns(d) => {
            let _ = writeln!(
                s,
                "   Keepalive method = DNS_CHECK\n   Type = {}\n   Name = {}",
                dns_type(d.qtype),
                d.name
            );
        }
        CheckKind::Udp(u) => {
            let _ = writeln!(
                s,
                "   Keepalive method = UDP_CHECK\n   Payload len = {}\n   Require reply = {}",
                u.payload.len(),
                yes_no(u.require_reply.is_some())
            );
            if let Some(r) = &u.require_reply {
                let _ = writeln!(
                    s,
                    "     Min reply length = {}\n     Max reply length = {}\n     \
                     Reply data len = {}\n     Reply data mask = {}",
                    u.min_reply_length,
                    u.max_reply_length,
                    r.bytes.len(),
                    yes_no(r.bytes.iter().any(|(_, m)| *m != 0xff))
                );
            }
        }
        CheckKind::Ping => s.push_str("   Keepalive method = PING_CHECK\n     ICMP seq no = 0\n"),
        CheckKind::Misc(m) => misc_text(s, m, st),
        CheckKind::File(f) => {
            let name = config
                .track_files
                .iter()
                .find(|t| std::path::Path::new(&t.file) == f.path)
                .map_or_else(|| f.path.display().to_string(), |t| t.name.clone());
            let _ = writeln!(
                s,
                "   Keepalive method = FILE_CHECK\n     Tracked file = {name}\n     Reloaded = No"
            );
        }
    }
}

fn common_of(c: &Checker) -> Option<&CheckerCommon> {
    Some(match c {
        Checker::Tcp(c) | Checker::Ping(c) => c,
        Checker::Http(h) | Checker::Ssl(h) => &h.common,
        Checker::Smtp(m) => &m.common,
        Checker::Misc(m) => &m.common,
        Checker::Dns(d) => &d.common,
        Checker::Udp(u) => &u.common,
        Checker::File(f) => &f.common,
        Checker::Bfd(_) => return None,
    })
}

/// "Health checkers": every checker of every real server, in the configuration's order.
pub fn checkers_text(rt: &Runtime, config: &Config) -> String {
    let mut s = String::new();
    if rt.engine().is_empty() {
        return s;
    }
    s.push_str("------< Health checkers >------\n");
    let states = rt.engine().dump();
    let specs = rt.health().specs();
    for (v, vs) in config.virtual_servers.iter().enumerate() {
        for (r, rs) in vs.real_servers.iter().enumerate() {
            let Some(rspec) = specs.get(v).and_then(|x| x.real_servers.get(r)) else {
                continue;
            };
            let ids: Vec<(ka_check::spec::CheckId, &CheckSpec)> = rspec
                .checks
                .iter()
                .filter_map(|c| rt.engine().spec(c.id).map(|sp| (c.id, sp)))
                .collect();
            let kinds: Vec<&str> = ids.iter().map(|(_, sp)| sp.kind.name()).collect();
            let blocks = own_blocks(rs, &kinds);
            for ((id, spec), block) in ids.into_iter().zip(blocks) {
                let common = block.and_then(common_of);
                let own = Own {
                    log_all_failures: common.and_then(|c| c.log_all_failures).unwrap_or(false),
                    http: match block {
                        Some(Checker::Http(h) | Checker::Ssl(h)) => Some(h),
                        _ => None,
                    },
                    rs_weight: i64::from(rs.weight),
                };
                let _ = writeln!(s, " {} -> {}", vs_name(vs), rs_name(vs, rs.addr));
                let st = states.iter().find(|d| d.check == id);
                check_text(&mut s, spec, st, config, &own);
            }
        }
    }
    s
}

/// The weight a FILE_CHECK gives its file: its own `weight`, else the `track_file`'s.
pub fn file_weight(f: &ka_proto::config::FileCheck, config: &Config) -> i32 {
    f.weight.unwrap_or_else(|| {
        config
            .track_files
            .iter()
            .find(|t| t.name == f.track_file)
            .map_or(1, |t| t.weight)
    })
}

/// The number a tracked file holds (0 when it cannot be read or is not a number).
fn file_status(path: &str) -> i64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|w| w.parse().ok()))
        .unwrap_or(0)
}

/// "Checker track files": every `track_file` with the FILE_CHECKs that follow it.
pub fn track_files_text(config: &Config) -> String {
    if config.track_files.is_empty() {
        return String::new();
    }
    let mut s = String::from("------< Checker track files >------\n");
    for t in &config.track_files {
        let _ = writeln!(
            s,
            " Track file = {}\n   File = {}\n   Status = {}\n   Weight = {}{}\n   Tracking instances :",
            t.name,
            t.file,
            file_status(&t.file),
            t.weight,
            if t.weight_reverse { " reverse" } else { "" }
        );
        for vs in &config.virtual_servers {
            for rs in &vs.real_servers {
                for c in &rs.checkers {
                    if let Checker::File(f) = c {
                        if f.track_file == t.name {
                            let _ = writeln!(
                                s,
                                "     {} -> {}, weight {}{}",
                                vs_name(vs),
                                rs_name(vs, rs.addr),
                                file_weight(f, config),
                                if f.reverse { " reverse" } else { "" }
                            );
                        }
                    }
                }
            }
        }
    }
    s
}
