//! Checker blocks inside `real_server`.

use super::values::{keep, parse_uint, Ctx};
use crate::conf::tree::Node;
use ka_proto::config::checker::{
    CheckerCommon, DnsCheck, DnsType, FileCheck, HttpCheck, HttpProtocol, MiscCheck, SmtpCheck,
    UdpCheck, Url,
};
use ka_proto::config::Checker;

/// Parse a checker block. None: `n` is not a checker keyword. Some(None): a checker
/// that was refused (already reported).
pub fn checker(ctx: &mut Ctx, n: &Node) -> Option<Option<Checker>> {
    let kw = n.keyword();
    if !is_checker(kw) {
        return None;
    }
    if !ctx.need_block(n) {
        return Some(None);
    }
    Some(match kw {
        "TCP_CHECK" => Some(Checker::Tcp(common_block(ctx, n))),
        "PING_CHECK" => Some(Checker::Ping(common_block(ctx, n))),
        "HTTP_GET" | "SSL_GET" => {
            let h = http(ctx, n);
            Some(if kw == "HTTP_GET" {
                Checker::Http(h)
            } else {
                Checker::Ssl(h)
            })
        }
        "SMTP_CHECK" => {
            let mut s = SmtpCheck::default();
            for k in n.block() {
                match k.keyword() {
                    "helo_name" => keep(&mut s.helo_name, ctx.str_arg(k, 0)),
                    "host" => s.hosts.push(common_block(ctx, k)),
                    _ => common(ctx, k, &mut s.common),
                }
            }
            Some(Checker::Smtp(s))
        }
        "MISC_CHECK" => {
            let mut path = None;
            let mut m = MiscCheck {
                common: CheckerCommon::default(),
                misc_path: Default::default(),
                misc_timeout: None,
                misc_dynamic: false,
            };
            for k in n.block() {
                match k.keyword() {
                    "misc_path" => keep(&mut path, ctx.script(k, true)),
                    // Whole seconds, read leniently (`1.5` is 1 s), as in keepalived.
                    "misc_timeout" => keep(
                        &mut m.misc_timeout,
                        ctx.uint_lenient(k, 0, 0, 4294)
                            .map(std::time::Duration::from_secs),
                    ),
                    "misc_dynamic" => m.misc_dynamic = true,
                    "user" => {
                        if let Some(u) = ctx.str_arg(k, 0) {
                            m.misc_path.user = Some(u);
                        }
                    }
                    _ => common(ctx, k, &mut m.common),
                }
            }
            match path {
                Some(p) => {
                    let user = m.misc_path.user.take();
                    m.misc_path = p;
                    if user.is_some() {
                        m.misc_path.user = user;
                    }
                    Some(Checker::Misc(m))
                }
                None => {
                    ctx.warn(n.loc, "MISC_CHECK has no misc_path - ignoring");
                    None
                }
            }
        }
        "DNS_CHECK" => {
            let mut d = DnsCheck::default();
            for k in n.block() {
                match k.keyword() {
                    "type" => match k.arg(0).and_then(|w| DnsType::parse(w.text)) {
                        Some(t) => d.query_type = t,
                        None => {
                            let l = ctx.arg_loc(k, 0);
                            ctx.warn(
                                l,
                                "DNS_CHECK type: expected A, NS, CNAME, SOA, MX, TXT or AAAA",
                            );
                            d.query_type = DnsType::Soa;
                        }
                    },
                    "name" => ctx.set_str(k, 0, &mut d.name),
                    _ => common(ctx, k, &mut d.common),
                }
            }
            Some(Checker::Dns(d))
        }
        "UDP_CHECK" => {
            let mut u = UdpCheck::default();
            for k in n.block() {
                match k.keyword() {
                    "payload" => match k.arg(0).map(|w| hex_bytes(w.text)) {
                        Some(Some(b)) => u.payload = b,
                        _ => {
                            let l = ctx.arg_loc(k, 0);
                            ctx.warn(l, "payload: expected hex bytes");
                        }
                    },
                    "require_reply" => {
                        u.require_reply = Some(match k.arg(0) {
                            None => Vec::new(),
                            Some(w) => match hex_pattern(w.text) {
                                Some(p) => p,
                                None => {
                                    ctx.warn(
                                        w.loc,
                                        "require_reply: expected hex bytes (x for any)",
                                    );
                                    Vec::new()
                                }
                            },
                        })
                    }
                    "min_reply_length" => {
                        if let Some(v) = ctx.uint(k, 0, 0, 65535) {
                            u.min_reply_length = v as u16;
                        }
                    }
                    "max_reply_length" => {
                        if let Some(v) = ctx.uint(k, 0, 0, 65535) {
                            u.max_reply_length = v as u16;
                        }
                    }
                    _ => common(ctx, k, &mut u.common),
                }
            }
            Some(Checker::Udp(u))
        }
        "FILE_CHECK" => {
            let mut f = FileCheck::default();
            for k in n.block() {
                match k.keyword() {
                    "track_file" => ctx.set_str(k, 0, &mut f.track_file),
                    "dynamic" => f.dynamic = true,
                    "weight" => {
                        keep(&mut f.weight, ctx.int(k, 0, -254, 254).map(|x| x as i32));
                        f.reverse = k.arg(1).is_some_and(|w| w.text == "reverse");
                    }
                    // None of the options the other checkers share (keepalived: unknown).
                    _ => ctx.unknown(k),
                }
            }
            if f.track_file.is_empty() {
                ctx.warn(n.loc, "FILE_CHECK has no track_file specified - ignoring");
                return Some(None);
            }
            Some(Checker::File(f))
        }
        _ => {
            ctx.warn(n.loc, "BFD_CHECK: BFD is not supported by keepalived-rs");
            let name = n
                .block()
                .iter()
                .find(|k| k.keyword() == "name")
                .and_then(|k| k.arg(0))
                .map(|w| w.text.to_string())
                .unwrap_or_default();
            Some(Checker::Bfd(name))
        }
    })
}

/// Does `kw` open a checker block?
pub fn is_checker(kw: &str) -> bool {
    matches!(
        kw,
        "TCP_CHECK"
            | "HTTP_GET"
            | "SSL_GET"
            | "SMTP_CHECK"
            | "MISC_CHECK"
            | "DNS_CHECK"
            | "UDP_CHECK"
            | "PING_CHECK"
            | "FILE_CHECK"
            | "BFD_CHECK"
    )
}

/// A block of only the keywords every checker accepts (TCP_CHECK, PING_CHECK, an
/// SMTP_CHECK `host`).
fn common_block(ctx: &mut Ctx, n: &Node) -> CheckerCommon {
    let mut c = CheckerCommon::default();
    for k in n.block() {
        common(ctx, k, &mut c);
    }
    c
}

/// The keywords every checker accepts; any other is unknown.
fn common(ctx: &mut Ctx, k: &Node, c: &mut CheckerCommon) {
    match k.keyword() {
        "connect_ip" => keep(&mut c.connect_ip, ctx.ip(k, 0)),
        "connect_port" => keep(
            &mut c.connect_port,
            ctx.uint_lenient(k, 0, 1, 65535).map(|p| p as u16),
        ),
        "bindto" => keep(&mut c.bindto, ctx.ip(k, 0)),
        "bind_port" => keep(&mut c.bind_port, ctx.port(k, 0)),
        "bind_if" => keep(&mut c.bind_if, ctx.str_arg(k, 0)),
        "fwmark" => keep(&mut c.fwmark, ctx.u32_arg(k)),
        "connect_timeout" => keep(
            &mut c.connect_timeout,
            ctx.timer_lenient(k, 0, 0.000001, 4294.967295),
        ),
        "retry" => keep(&mut c.retry, ctx.u32_lenient(k)),
        "delay_before_retry" => keep(&mut c.delay_before_retry, ctx.secs_from_zero(k)),
        "warmup" => keep(&mut c.warmup, ctx.secs_from_zero(k)),
        "delay_loop" => keep(&mut c.delay_loop, ctx.secs_above_zero(k)),
        "alpha" => ctx.set_flag_opt(k, &mut c.alpha),
        "log_all_failures" => ctx.set_flag_opt(k, &mut c.log_all_failures),
        _ => ctx.unknown(k),
    }
}

fn http(ctx: &mut Ctx, n: &Node) -> HttpCheck {
    let mut h = HttpCheck::default();
    for k in n.block() {
        match k.keyword() {
            "http_protocol" => {
                h.http_protocol = match k.arg(0).map(|w| w.text) {
                    Some("1.0") => HttpProtocol::Http10,
                    Some("1.0C" | "1.0c") => HttpProtocol::Http10C,
                    Some("1.1") => HttpProtocol::Http11,
                    _ => {
                        let l = ctx.arg_loc(k, 0);
                        ctx.warn(l, "http_protocol: expected 1.0, 1.0C or 1.1");
                        HttpProtocol::Http10
                    }
                }
            }
            "url" => {
                if ctx.need_block(k) {
                    if let Some(u) = url(ctx, k) {
                        h.urls.push(u);
                    }
                }
            }
            "virtualhost" => keep(&mut h.virtualhost, ctx.str_arg(k, 0)),
            "fast_recovery" => ctx.set_flag(k, &mut h.fast_recovery),
            // Deprecated alias of retry, known to HTTP_GET/SSL_GET only: keepalived
            // warns about it whatever the value (so `-t` fails).
            "nb_get_retry" => {
                ctx.warn(k.loc, "nb_get_retry is deprecated - please use 'retry'");
                keep(&mut h.common.retry, ctx.u32_arg(k))
            }
            "enable_sni" => ctx.set_flag(k, &mut h.enable_sni),
            "sni_name" => keep(&mut h.sni_name, ctx.str_arg(k, 0)),
            "tls_compliant" => ctx.set_flag(k, &mut h.tls_compliant),
            _ => common(ctx, k, &mut h.common),
        }
    }
    h
}

fn url(ctx: &mut Ctx, n: &Node) -> Option<Url> {
    let mut u = Url::default();
    for k in n.block() {
        match k.keyword() {
            "path" => ctx.set_str(k, 0, &mut u.path),
            "digest" => {
                if let Some(d) = ctx.str_arg(k, 0) {
                    if d.len() != 32 || !d.chars().all(|c| c.is_ascii_hexdigit()) {
                        ctx.warn(
                            k.words[1].loc,
                            format!("digest '{d}' is not an MD5 hex string"),
                        );
                    }
                    u.digest = Some(d.to_ascii_lowercase());
                }
            }
            "status_code" => {
                for w in k.args() {
                    let parsed = match w.text.split_once('-') {
                        Some((a, b)) => a.parse().ok().zip(b.parse().ok()),
                        None => w.text.parse().ok().map(|x| (x, x)),
                    };
                    match parsed {
                        Some((a, b)) if (100..=999).contains(&a) && a <= b && b <= 999 => {
                            u.status_code.push((a, b))
                        }
                        _ => ctx.warn(w.loc, format!("invalid status_code '{}'", w.text)),
                    }
                }
            }
            "virtualhost" => keep(&mut u.virtualhost, ctx.str_arg(k, 0)),
            "regex" => keep(&mut u.regex, ctx.str_arg(k, 0)),
            "regex_no_match" => u.regex_no_match = true,
            "regex_options" => {
                u.regex_options = k.args().iter().map(|w| w.text.to_string()).collect()
            }
            "regex_stack" => keep(&mut u.regex_stack, ctx.u32_arg(k)),
            "regex_min_offset" => keep(&mut u.regex_min_offset, ctx.u32_arg(k)),
            "regex_max_offset" => keep(&mut u.regex_max_offset, ctx.u32_arg(k)),
            _ => ctx.unknown(k),
        }
    }
    if u.path.is_empty() {
        ctx.warn(n.loc, "url has no path - ignoring");
        return None;
    }
    Some(u)
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_start_matches("0x");
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|b| parse_uint(&format!("0x{b}")))
                .map(|v| v as u8)
        })
        .collect()
}

fn hex_pattern(s: &str) -> Option<Vec<Option<u8>>> {
    let s = s.trim_start_matches("0x");
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            let b = s.get(i..i + 2)?;
            if b.eq_ignore_ascii_case("xx") {
                Some(None)
            } else {
                u8::from_str_radix(b, 16).ok().map(Some)
            }
        })
        .collect()
}
