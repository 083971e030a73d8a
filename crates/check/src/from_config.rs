//! From the typed config model (`ka_proto::config`) to the checker's own types: one
//! [`CheckSpec`] per checker (timing inherited checker → real server → virtual server →
//! keepalived's per-checker default) and one [`VsSpec`] per `virtual_server`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ka_proto::config::{self as conf, Checker, CheckerCommon, Config, RealServer, VirtualServer};

use crate::spec::{
    CheckKind, CheckSpec, DnsSpec, FileSpec, HttpSpec, MiscSpec, SmtpSpec, SslConfig, Target,
    Timing, UdpSpec, UrlSpec,
};
use crate::state::{RsCheck, RsSpec, VsSpec, WeightRole};
use crate::wire::http::{parse_digest, StatusRanges};
use crate::wire::udp::ReplyPattern;

/// A checker that cannot be built; it is left out (keepalived also drops such checkers
/// with a config warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapIssue {
    /// `virtual_server` name.
    pub virtual_server: String,
    /// Real server address.
    pub real_server: SocketAddr,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for MapIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "virtual_server {} real_server {}: {}",
            self.virtual_server, self.real_server, self.problem
        )
    }
}

/// Everything the checker child needs from a config.
#[derive(Debug, Clone)]
pub struct Checks {
    /// Every check; [`crate::spec::CheckId`] = index.
    pub specs: Vec<CheckSpec>,
    /// Virtual servers, in config order, naming their checks.
    pub virtual_servers: Vec<VsSpec>,
    /// The global `SSL` block.
    pub ssl: SslConfig,
    /// Checkers left out.
    pub issues: Vec<MapIssue>,
}

fn proto_name(p: conf::Protocol) -> &'static str {
    match p {
        conf::Protocol::Tcp => "tcp",
        conf::Protocol::Udp => "udp",
        conf::Protocol::Sctp => "sctp",
    }
}

/// keepalived's FIFO name of a virtual server: `[ip]:tcp:80`, `FWM 1`, `[group]:0`
/// (keepalived 2.2.7 and 2.4.3, seen in the VM).
pub fn vs_fifo_name(vs: &VirtualServer) -> String {
    match &vs.addr {
        conf::VirtualServerAddr::Ip(a) => {
            format!("[{}]:{}:{}", a.ip(), proto_name(vs.protocol), a.port())
        }
        conf::VirtualServerAddr::Fwmark(m) => format!("FWM {m}"),
        conf::VirtualServerAddr::Group(g) => format!("[{g}]:0"),
    }
}

/// keepalived's FIFO name of a real server of `vs`: `[ip]:tcp:8080`. Under a fwmark
/// service keepalived ignores the protocol (`none`) and, unless the service is NAT, clears
/// the port of a real server it does not reach by NAT (`[ip]:none:0`; seen in the VM
/// with DR, keepalived 2.2.7 and 2.4.3).
pub fn rs_fifo_name(vs: &VirtualServer, rs: &conf::RealServer) -> String {
    let ip = rs.addr.ip();
    if matches!(vs.addr, conf::VirtualServerAddr::Fwmark(_)) {
        let method = rs.lvs_method.as_ref().unwrap_or(&vs.lvs_method);
        let port = match method {
            conf::LvsMethod::Nat => rs.addr.port(),
            _ => 0,
        };
        return format!("[{ip}]:none:{port}");
    }
    format!("[{ip}]:{}:{}", proto_name(vs.protocol), rs.addr.port())
}

/// The user scripts run as when they name none: `script_user`, else `keepalived_script`
/// if that user exists, else None (the checker's own user, root), as keepalived.
pub fn default_script_user(config: &Config) -> Option<(String, Option<String>)> {
    config.global.script_user.clone().or_else(|| {
        matches!(
            nix::unistd::User::from_name("keepalived_script"),
            Ok(Some(_))
        )
        .then(|| ("keepalived_script".to_string(), None))
    })
}

/// `s` with the default user filled in when it names none.
pub fn with_default_user(
    s: &conf::Script,
    default: Option<&(String, Option<String>)>,
) -> conf::Script {
    let mut s = s.clone();
    if s.user.is_none() {
        if let Some((u, g)) = default {
            s.user = Some(u.clone());
            s.group = g.clone();
        }
    }
    s
}

/// An inclusive range of addresses of one family (`first == last` for one address).
pub type AddrRange = (IpAddr, IpAddr);

/// Why `ha_suspend` cannot apply to a virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuspendIssue {
    /// A fwmark service, or a group with fwmark entries: no address to follow
    /// (keepalived: "cannot use ha_suspend with fwmarks - clearing ha_suspend").
    Fwmark,
    /// `virtual_server group NAME` names no `virtual_server_group`.
    UnknownGroup(String),
}

/// The addresses `ha_suspend` follows for `vs`: its checks run while at least one of them
/// is on this host. `Ok(None)` when `ha_suspend` is not set.
///
/// A `virtual_server IP PORT` follows its address; a `virtual_server group` follows every
/// address of its group's ranges. keepalived 2.2.7 clears `ha_suspend` (with a config
/// error) on a fwmark service and on a group with fwmark entries, so their checks always
/// run; so do we. For a group of addresses only, keepalived 2.2.7's address matcher
/// returns "no match" for every group (its range code is never reached), which leaves
/// such a group's checks suspended for ever; we follow the group's addresses instead.
pub fn ha_suspend_addresses(
    vs: &VirtualServer,
    config: &Config,
) -> Result<Option<Vec<AddrRange>>, SuspendIssue> {
    if !vs.ha_suspend {
        return Ok(None);
    }
    match &vs.addr {
        conf::VirtualServerAddr::Ip(a) => Ok(Some(vec![(a.ip(), a.ip())])),
        conf::VirtualServerAddr::Fwmark(_) => Err(SuspendIssue::Fwmark),
        conf::VirtualServerAddr::Group(name) => {
            let g = config
                .virtual_server_groups
                .iter()
                .find(|g| g.name == *name)
                .ok_or_else(|| SuspendIssue::UnknownGroup(name.clone()))?;
            let mut ranges = Vec::new();
            for e in &g.entries {
                match e {
                    conf::GroupEntry::Range { first, last, .. } => ranges.push((*first, *last)),
                    conf::GroupEntry::Fwmark { .. } => return Err(SuspendIssue::Fwmark),
                }
            }
            Ok(Some(ranges))
        }
    }
}

/// Is `ip` in one of `ranges`?
pub fn in_ranges(ip: IpAddr, ranges: &[AddrRange]) -> bool {
    ranges.iter().any(|&(first, last)| match (ip, first, last) {
        (IpAddr::V4(a), IpAddr::V4(f), IpAddr::V4(l)) => (f..=l).contains(&a),
        (IpAddr::V6(a), IpAddr::V6(f), IpAddr::V6(l)) => (f..=l).contains(&a),
        _ => false,
    })
}

fn common(c: &Checker) -> Option<&CheckerCommon> {
    Some(match c {
        Checker::Tcp(c) | Checker::Ping(c) => c,
        Checker::Http(h) | Checker::Ssl(h) => &h.common,
        Checker::Smtp(s) => &s.common,
        Checker::Misc(m) => &m.common,
        Checker::Dns(d) => &d.common,
        Checker::Udp(u) => &u.common,
        Checker::File(f) => &f.common,
        Checker::Bfd(_) => return None,
    })
}

fn timing(c: &Checker, cc: &CheckerCommon, rs: &RealServer, vs: &VirtualServer) -> Timing {
    let delay_loop = cc.delay_loop.or(rs.delay_loop).unwrap_or(vs.delay_loop);
    Timing {
        delay_loop,
        connect_timeout: cc
            .connect_timeout
            .or(rs.connect_timeout)
            .or(vs.connect_timeout)
            .unwrap_or(Duration::from_secs(5)),
        retry: cc
            .retry
            .or(rs.retry)
            .or(vs.retry)
            .unwrap_or(c.default_retry()),
        delay_before_retry: cc
            .delay_before_retry
            .or(rs.delay_before_retry)
            .or(vs.delay_before_retry)
            .unwrap_or(c.default_delay_before_retry(delay_loop)),
        warmup: cc.warmup.or(rs.warmup).or(vs.warmup).unwrap_or(delay_loop),
    }
}

fn target(cc: &CheckerCommon, rs: &RealServer) -> Target {
    Target {
        addr: SocketAddr::new(
            cc.connect_ip.unwrap_or(rs.addr.ip()),
            cc.connect_port.unwrap_or(rs.addr.port()),
        ),
        bindto: cc.bindto,
        bind_port: cc.bind_port,
        bind_if: cc.bind_if.clone(),
        fwmark: cc.fwmark,
    }
}

fn user_ids(name: &str, group: Option<&str>) -> Result<(u32, u32), String> {
    let u = nix::unistd::User::from_name(name)
        .map_err(|e| format!("user {name}: {e}"))?
        .ok_or_else(|| format!("no user {name}"))?;
    let gid = match group {
        Some(g) => nix::unistd::Group::from_name(g)
            .map_err(|e| format!("group {g}: {e}"))?
            .ok_or_else(|| format!("no group {g}"))?
            .gid
            .as_raw(),
        None => u.gid.as_raw(),
    };
    Ok((u.uid.as_raw(), gid))
}

/// Compile a url `regex` with keepalived's PCRE2 `regex_options` mapped to the regex
/// crate's flags (`caseless`, `multiline`, `dotall`, `extended`, `ungreedy`, `utf`/`ucp`);
/// options with no equivalent are ignored with a warning.
pub fn build_regex(pattern: &str, options: &[String]) -> Result<regex::bytes::Regex, String> {
    let mut b = regex::bytes::RegexBuilder::new(pattern);
    b.unicode(false);
    for o in options {
        match o.as_str() {
            "caseless" => b.case_insensitive(true),
            "multiline" => b.multi_line(true),
            "dotall" => b.dot_matches_new_line(true),
            "extended" => b.ignore_whitespace(true),
            "ungreedy" => b.swap_greed(true),
            "utf" | "ucp" => b.unicode(true),
            other => {
                log::warn!("regex_options {other}: not supported, ignored");
                &mut b
            }
        };
    }
    b.size_limit(1 << 20)
        .build()
        .map_err(|e| format!("bad regex {pattern:?}: {e}"))
}

fn http_spec(
    h: &conf::HttpCheck,
    tls: bool,
    rs: &RealServer,
    vs: &VirtualServer,
) -> Result<HttpSpec, String> {
    let mut urls = Vec::new();
    for u in &h.urls {
        let digest = match &u.digest {
            Some(d) => Some(parse_digest(d).ok_or_else(|| format!("bad digest {d:?}"))?),
            None => None,
        };
        let regex = match &u.regex {
            Some(r) => Some(build_regex(r, &u.regex_options)?),
            None => None,
        };
        urls.push(UrlSpec {
            path: if u.path.is_empty() {
                "/".into()
            } else {
                u.path.clone()
            },
            digest,
            status: if u.status_code.is_empty() {
                StatusRanges::default()
            } else {
                StatusRanges(u.status_code.clone())
            },
            virtualhost: u.virtualhost.clone(),
            regex,
            regex_no_match: u.regex_no_match,
            regex_min_offset: u.regex_min_offset.map(|v| v as usize),
            regex_max_offset: u.regex_max_offset.map(|v| v as usize),
        });
    }
    Ok(HttpSpec {
        tls,
        protocol: h.http_protocol,
        urls,
        virtualhost: h
            .virtualhost
            .clone()
            .or_else(|| rs.virtualhost.clone())
            .or_else(|| vs.virtualhost.clone()),
        enable_sni: h.enable_sni,
        sni_name: h.sni_name.clone(),
        tls_compliant: h.tls_compliant,
    })
}

/// The checker kinds of one config checker (SMTP_CHECK with legacy `host {}` blocks gives
/// one check per host), each with its connection keywords.
fn kinds(
    c: &Checker,
    rs: &RealServer,
    vs: &VirtualServer,
    config: &Config,
) -> Result<Vec<(CheckKind, CheckerCommon, WeightRole)>, String> {
    let Some(cc) = common(c) else {
        return Err("BFD_CHECK is not supported by the checker".into());
    };
    let one = |k| Ok(vec![(k, cc.clone(), WeightRole::None)]);
    match c {
        Checker::Tcp(_) => one(CheckKind::Tcp),
        Checker::Ping(_) => one(CheckKind::Ping),
        Checker::Http(h) => one(CheckKind::Http(Box::new(http_spec(h, false, rs, vs)?))),
        Checker::Ssl(h) => one(CheckKind::Http(Box::new(http_spec(h, true, rs, vs)?))),
        Checker::Smtp(s) => {
            let helo = s
                .helo_name
                .clone()
                .or_else(|| config.global.smtp_helo_name.clone())
                .unwrap_or_default();
            let kind = CheckKind::Smtp(SmtpSpec { helo_name: helo });
            if s.hosts.is_empty() {
                one(kind)
            } else {
                Ok(s.hosts
                    .iter()
                    .map(|h| (kind.clone(), h.clone(), WeightRole::None))
                    .collect())
            }
        }
        Checker::Dns(d) => one(CheckKind::Dns(DnsSpec {
            qtype: d.query_type,
            name: d.name.clone(),
        })),
        Checker::Udp(u) => one(CheckKind::Udp(UdpSpec {
            payload: u.payload.clone(),
            require_reply: u.require_reply.as_ref().map(|p| ReplyPattern {
                bytes: p.iter().map(|b| b.map_or((0, 0), |v| (v, 0xff))).collect(),
            }),
            min_reply_length: usize::from(u.min_reply_length),
            max_reply_length: usize::from(u.max_reply_length),
        })),
        Checker::Misc(m) => {
            let script = with_default_user(&m.misc_path, default_script_user(config).as_ref());
            let user = script
                .user
                .as_deref()
                .map(|u| user_ids(u, script.group.as_deref()))
                .transpose()?;
            let Some(argv0) = script.args.first() else {
                return Err("empty misc_path".into());
            };
            if let Err(u) =
                crate::security::check(argv0, script.user.as_deref(), script.group.as_deref())
            {
                if config.global.enable_script_security {
                    return Err(format!("Disabling misc script: {u}"));
                }
                log::warn!("{u}");
            }
            let role = if m.misc_dynamic {
                WeightRole::Absolute
            } else {
                WeightRole::None
            };
            Ok(vec![(
                CheckKind::Misc(MiscSpec {
                    argv: m.misc_path.args.clone(),
                    timeout: m.misc_timeout,
                    dynamic: m.misc_dynamic,
                    user,
                }),
                cc.clone(),
                role,
            )])
        }
        Checker::File(f) => {
            let tf = config
                .track_files
                .iter()
                .find(|t| t.name == f.track_file)
                .ok_or_else(|| format!("unknown track_file {:?}", f.track_file))?;
            let role = if f.dynamic {
                WeightRole::Offset
            } else {
                WeightRole::None
            };
            Ok(vec![(
                CheckKind::File(FileSpec {
                    path: tf.file.clone().into(),
                    weight: i64::from(f.weight.unwrap_or(tf.weight)),
                    reverse: f.reverse || (f.weight.is_none() && tf.weight_reverse),
                    dynamic: f.dynamic,
                }),
                cc.clone(),
                role,
            )])
        }
        Checker::Bfd(_) => Err("BFD_CHECK is not supported by the checker".into()),
    }
}

/// Build every check and virtual server of `config`.
pub fn from_config(config: &Config) -> Checks {
    let mut specs = Vec::new();
    let mut vss = Vec::new();
    let mut issues = Vec::new();
    let user = default_script_user(config);
    let enforce = config.global.enable_script_security;
    // Scripts are often shared by many real servers: each is checked once per load.
    let checked = std::cell::RefCell::new(std::collections::HashMap::<conf::Script, bool>::new());
    let script = |s: &Option<conf::Script>| {
        let s = with_default_user(s.as_ref()?, user.as_ref());
        let mut seen = checked.borrow_mut();
        match seen.get(&s) {
            Some(keep) => keep.then_some(s),
            None => {
                let kept = crate::security::filter_script(s.clone(), enforce);
                seen.insert(s, kept.is_some());
                kept
            }
        }
    };
    for vs in &config.virtual_servers {
        let vs_name = vs_fifo_name(vs);
        let mut rss = Vec::new();
        for rs in &vs.real_servers {
            let mut checks = Vec::new();
            for c in &rs.checkers {
                let built = kinds(c, rs, vs, config);
                let list = match built {
                    Ok(l) => l,
                    Err(problem) => {
                        issues.push(MapIssue {
                            virtual_server: vs_name.clone(),
                            real_server: rs.addr,
                            problem,
                        });
                        continue;
                    }
                };
                for (kind, cc, role) in list {
                    let alpha = cc.alpha.or(rs.alpha).unwrap_or(vs.alpha);
                    let spec = CheckSpec {
                        timing: timing(c, &cc, rs, vs),
                        target: target(&cc, rs),
                        kind,
                        alpha,
                        log_all_failures: cc
                            .log_all_failures
                            .unwrap_or(config.global.checker_log_all_failures),
                    };
                    checks.push(RsCheck {
                        id: crate::spec::CheckId(specs.len()),
                        alpha,
                        weight: role,
                    });
                    specs.push(spec);
                }
            }
            rss.push(RsSpec {
                addr: rs.addr,
                name: rs_fifo_name(vs, rs),
                weight: i64::from(rs.weight),
                inhibit_on_failure: rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure),
                notify_up: script(&rs.notify_up),
                notify_down: script(&rs.notify_down),
                checks,
            });
        }
        let ha_suspend = match ha_suspend_addresses(vs, config) {
            Ok(a) => a.is_some(),
            Err(SuspendIssue::Fwmark) => {
                log::warn!(
                    "Virtual server {vs_name}: cannot use ha_suspend with fwmarks - clearing ha_suspend"
                );
                false
            }
            Err(SuspendIssue::UnknownGroup(g)) => {
                log::warn!(
                    "Virtual server {vs_name}: no virtual_server_group {g}: ha_suspend ignored"
                );
                false
            }
        };
        vss.push(VsSpec {
            name: vs_name,
            quorum: u64::from(vs.quorum),
            hysteresis: u64::from(vs.hysteresis),
            quorum_up: script(&vs.quorum_up),
            quorum_down: script(&vs.quorum_down),
            sorry_server: vs.sorry_server,
            sorry_server_inhibit: vs.sorry_server_inhibit,
            ha_suspend,
            omega: vs.omega,
            real_servers: rss,
        });
    }
    let ssl = config
        .ssl
        .as_ref()
        .map(|s| SslConfig {
            password: s.password.clone(),
            ca: s.ca.clone().map(Into::into),
            certificate: s.certificate.clone().map(Into::into),
            key: s.key.clone().map(Into::into),
        })
        .unwrap_or_default();
    Checks {
        specs,
        virtual_servers: vss,
        ssl,
        issues,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn inherits_timing_and_names() {
        let mut config = Config::default();
        let mut vs = VirtualServer {
            addr: conf::VirtualServerAddr::Ip("10.0.0.100:80".parse().unwrap()),
            delay_loop: Duration::from_secs(6),
            connect_timeout: Some(Duration::from_secs(2)),
            ..VirtualServer::default()
        };
        let mut http = conf::HttpCheck::default();
        http.urls.push(conf::Url {
            path: "/x".into(),
            digest: Some("5d41402abc4b2a76b9719d911017c592".into()),
            status_code: vec![(200, 200)],
            ..conf::Url::default()
        });
        http.common.connect_port = Some(8080);
        let rs = RealServer {
            addr: "10.0.0.1:80".parse().unwrap(),
            weight: 3,
            retry: Some(4),
            checkers: vec![
                Checker::Tcp(CheckerCommon::default()),
                Checker::Http(http),
                Checker::Dns(conf::DnsCheck::default()),
                Checker::Bfd("b".into()),
            ],
            ..RealServer::default()
        };
        vs.real_servers.push(rs);
        config.virtual_servers.push(vs);
        let c = from_config(&config);
        assert_eq!(c.specs.len(), 3);
        assert_eq!(c.issues.len(), 1);
        let t = &c.specs[0].timing;
        assert_eq!(t.delay_loop, Duration::from_secs(6));
        assert_eq!(t.connect_timeout, Duration::from_secs(2));
        assert_eq!(t.retry, 4);
        assert_eq!(t.delay_before_retry, Duration::from_secs(1));
        assert_eq!(t.warmup, Duration::from_secs(6));
        assert_eq!(c.specs[1].target.addr, "10.0.0.1:8080".parse().unwrap());
        assert_eq!(c.specs[1].timing.delay_before_retry, Duration::from_secs(3));
        assert_eq!(c.specs[2].timing.delay_before_retry, Duration::from_secs(6));
        assert_eq!(c.virtual_servers[0].name, "[10.0.0.100]:tcp:80");
        assert_eq!(
            c.virtual_servers[0].real_servers[0].name,
            "[10.0.0.1]:tcp:80"
        );
        assert_eq!(c.virtual_servers[0].real_servers[0].checks.len(), 3);
    }

    fn group(name: &str, entries: Vec<conf::GroupEntry>) -> conf::VirtualServerGroup {
        conf::VirtualServerGroup {
            name: name.into(),
            entries,
        }
    }

    /// Group entry `first`-`last` port 80.
    fn range(first: &str, last: &str) -> conf::GroupEntry {
        conf::GroupEntry::Range {
            first: first.parse().unwrap(),
            last: last.parse().unwrap(),
            port: 80,
        }
    }

    /// keepalived 2.2.7 and 2.4.3's names (seen in the VM): `[group]:0`; under a fwmark
    /// service the protocol is `none` and the port is kept only for NAT.
    #[test]
    fn fifo_names_of_groups_and_fwmark_services() {
        let mut g = one_rs_vs(conf::VirtualServerAddr::Group("G1".into()), false);
        assert_eq!(vs_fifo_name(&g), "[G1]:0");
        assert_eq!(rs_fifo_name(&g, &g.real_servers[0]), "[10.0.0.1]:tcp:80");
        g.addr = conf::VirtualServerAddr::Fwmark(5);
        assert_eq!(vs_fifo_name(&g), "FWM 5");
        assert_eq!(rs_fifo_name(&g, &g.real_servers[0]), "[10.0.0.1]:none:80");
        g.lvs_method = conf::LvsMethod::Dr;
        assert_eq!(rs_fifo_name(&g, &g.real_servers[0]), "[10.0.0.1]:none:0");
        g.real_servers[0].lvs_method = Some(conf::LvsMethod::Nat);
        assert_eq!(rs_fifo_name(&g, &g.real_servers[0]), "[10.0.0.1]:none:80");
    }

    fn one_rs_vs(addr: conf::VirtualServerAddr, ha_suspend: bool) -> VirtualServer {
        VirtualServer {
            addr,
            ha_suspend,
            real_servers: vec![RealServer {
                addr: "10.0.0.1:80".parse().unwrap(),
                checkers: vec![Checker::Tcp(CheckerCommon::default())],
                ..RealServer::default()
            }],
            ..VirtualServer::default()
        }
    }

    #[test]
    fn ha_suspend_follows_addresses_and_is_cleared_for_fwmarks() {
        let mut config = Config::default();
        config.virtual_server_groups.push(group(
            "web",
            vec![range("10.0.0.10", "10.0.0.20"), range("fd00::5", "fd00::5")],
        ));
        config.virtual_server_groups.push(group(
            "marked",
            vec![
                range("10.0.1.1", "10.0.1.1"),
                conf::GroupEntry::Fwmark {
                    mark: 7,
                    family: conf::Family::Inet,
                },
            ],
        ));
        let ip = one_rs_vs(
            conf::VirtualServerAddr::Ip("10.0.0.100:80".parse().unwrap()),
            true,
        );
        let r = ha_suspend_addresses(&ip, &config).unwrap().unwrap();
        assert!(in_ranges("10.0.0.100".parse().unwrap(), &r));
        assert!(!in_ranges("10.0.0.101".parse().unwrap(), &r));

        let web = one_rs_vs(conf::VirtualServerAddr::Group("web".into()), true);
        let r = ha_suspend_addresses(&web, &config).unwrap().unwrap();
        assert!(in_ranges("10.0.0.10".parse().unwrap(), &r));
        assert!(in_ranges("10.0.0.15".parse().unwrap(), &r));
        assert!(in_ranges("10.0.0.20".parse().unwrap(), &r));
        assert!(!in_ranges("10.0.0.21".parse().unwrap(), &r));
        assert!(in_ranges("fd00::5".parse().unwrap(), &r));
        assert!(!in_ranges("fd00::6".parse().unwrap(), &r));
        assert!(!in_ranges("::ffff:10.0.0.15".parse().unwrap(), &r));

        let fwm = one_rs_vs(conf::VirtualServerAddr::Fwmark(3), true);
        assert_eq!(
            ha_suspend_addresses(&fwm, &config),
            Err(SuspendIssue::Fwmark)
        );
        let marked = one_rs_vs(conf::VirtualServerAddr::Group("marked".into()), true);
        assert_eq!(
            ha_suspend_addresses(&marked, &config),
            Err(SuspendIssue::Fwmark)
        );
        let unknown = one_rs_vs(conf::VirtualServerAddr::Group("nope".into()), true);
        assert!(matches!(
            ha_suspend_addresses(&unknown, &config),
            Err(SuspendIssue::UnknownGroup(_))
        ));
        let off = one_rs_vs(conf::VirtualServerAddr::Fwmark(3), false);
        assert_eq!(ha_suspend_addresses(&off, &config), Ok(None));

        config.virtual_servers = vec![ip, web, fwm, marked];
        let c = from_config(&config);
        let flags: Vec<bool> = c.virtual_servers.iter().map(|v| v.ha_suspend).collect();
        assert_eq!(flags, [true, true, false, false]);
    }

    #[test]
    fn vs_level_defaults_reach_checkers_and_real_servers() {
        let mut config = Config::default();
        config.global.script_user = Some(("nobody".into(), None));
        let mut vs = one_rs_vs(
            conf::VirtualServerAddr::Ip("10.0.0.100:80".parse().unwrap()),
            false,
        );
        vs.inhibit_on_failure = true;
        vs.delay_before_retry = Some(Duration::from_secs(7));
        vs.virtualhost = Some("vs.example".into());
        vs.quorum_up = Some(conf::Script {
            args: vec!["/bin/true".into()],
            user: None,
            group: None,
        });
        let mut http = conf::HttpCheck::default();
        http.urls.push(conf::Url {
            path: "/".into(),
            regex: Some("^OK".into()),
            regex_options: vec!["caseless".into()],
            ..conf::Url::default()
        });
        vs.real_servers[0].checkers.push(Checker::Http(http));
        vs.real_servers[0].notify_up = Some(conf::Script {
            args: vec!["/bin/true".into()],
            user: Some("root".into()),
            group: None,
        });
        config.virtual_servers.push(vs);
        let c = from_config(&config);
        let rs = &c.virtual_servers[0].real_servers[0];
        assert!(rs.inhibit_on_failure);
        assert_eq!(rs.notify_up.as_ref().unwrap().user.as_deref(), Some("root"));
        assert_eq!(
            c.virtual_servers[0]
                .quorum_up
                .as_ref()
                .unwrap()
                .user
                .as_deref(),
            Some("nobody")
        );
        for s in &c.specs {
            assert_eq!(s.timing.delay_before_retry, Duration::from_secs(7));
        }
        let CheckKind::Http(h) = &c.specs[1].kind else {
            panic!("not HTTP: {:?}", c.specs[1].kind);
        };
        assert_eq!(h.virtualhost.as_deref(), Some("vs.example"));
        let re = h.urls[0].regex.as_ref().unwrap();
        assert!(re.is_match(b"ok then"), "regex_options caseless applied");
    }
}
