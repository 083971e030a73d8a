//! `keepalived_check.data`'s "SSL definitions" and "LVS Topology" sections, in
//! keepalived 2.4.3's lines: the configuration as the checker holds it, with each real
//! server's state from the health state machine.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ka_check::state::Health;
use ka_proto::config::{
    self as conf, Config, Family, Granularity, GroupEntry, LvsMethod, Protocol, RealServer,
    TunnelCsum, TunnelType, VirtualServer, VirtualServerAddr,
};

/// A duration as keepalived prints its seconds: `5.000000`.
pub fn secs(d: Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

fn on_off(b: bool) -> &'static str {
    if b {
        "ON"
    } else {
        "OFF"
    }
}

fn enabled(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `tcp`, `udp`, `sctp`; `none` for a fwmark service.
pub fn proto_word(vs: &VirtualServer) -> &'static str {
    match (&vs.addr, vs.protocol) {
        (VirtualServerAddr::Fwmark(_), _) => "none",
        (_, Protocol::Tcp) => "tcp",
        (_, Protocol::Udp) => "udp",
        (_, Protocol::Sctp) => "sctp",
    }
}

/// keepalived's name of a virtual server in the dump: `[ip]:tcp:80`, `FWM 5`, `[G]:0`.
pub fn vs_name(vs: &VirtualServer) -> String {
    match &vs.addr {
        VirtualServerAddr::Ip(a) => format!("[{}]:{}:{}", a.ip(), proto_word(vs), a.port()),
        VirtualServerAddr::Fwmark(m) => format!("FWM {m}"),
        VirtualServerAddr::Group(g) => format!("[{g}]:0"),
    }
}

/// A real (or sorry) server of `vs`: `[ip]:tcp:8080`.
pub fn rs_name(vs: &VirtualServer, addr: SocketAddr) -> String {
    format!("[{}]:{}:{}", addr.ip(), proto_word(vs), addr.port())
}

fn method(m: &LvsMethod) -> String {
    match m {
        LvsMethod::Nat => "NAT".into(),
        LvsMethod::Dr => "DR".into(),
        LvsMethod::Tun {
            tunnel_type,
            port,
            csum,
        } => {
            let kind = match (tunnel_type, port) {
                (TunnelType::Ipip, _) => "TUN, type = IPIP".to_string(),
                (TunnelType::Gue, Some(p)) => format!("TUN, type = GUE, port = {p}"),
                (TunnelType::Gue, None) => "TUN, type = GUE".to_string(),
                (TunnelType::Gre, _) => "TUN, type = GRE".to_string(),
            };
            let sum = match csum {
                None => "",
                Some(TunnelCsum::NoCsum) => ", no checksum",
                Some(TunnelCsum::Csum) => ", checksum",
                Some(TunnelCsum::RemCsum) => ", remote checksum",
            };
            format!("{kind}{sum}")
        }
    }
}

/// A script as keepalived quotes it: `'/bin/x' 'arg', uid:gid 0:0`.
pub fn script(s: &conf::Script) -> String {
    let words: Vec<String> = s.args.iter().map(|a| format!("'{a}'")).collect();
    let (uid, gid) = super::global::ids(s.user.as_deref(), s.group.as_deref());
    format!("{}, uid:gid {uid}:{gid}", words.join(" "))
}

/// The address family keepalived gives a virtual server: its address's, else its group's
/// first address's, else `ip_family`, else its first real server's.
fn family_v6(vs: &VirtualServer, config: &Config) -> bool {
    let from_rs = || match vs.ip_family {
        Family::Inet6 => true,
        Family::Inet => false,
        Family::Unspec => vs.real_servers.first().is_some_and(|r| r.addr.is_ipv6()),
    };
    match &vs.addr {
        VirtualServerAddr::Ip(a) => a.is_ipv6(),
        VirtualServerAddr::Fwmark(_) => from_rs(),
        VirtualServerAddr::Group(g) => config
            .virtual_server_groups
            .iter()
            .find(|x| &x.name == g)
            .and_then(|x| {
                x.entries.iter().find_map(|e| match e {
                    GroupEntry::Range { first, .. } => Some(first.is_ipv6()),
                    GroupEntry::Fwmark { .. } => None,
                })
            })
            .unwrap_or_else(from_rs),
    }
}

/// "SSL definitions": the global `SSL` block, or the generated context SSL_GET uses
/// without one. Nothing when neither.
pub fn ssl_text(config: &Config) -> String {
    let mut s = String::new();
    let uses_ssl = config.virtual_servers.iter().any(|vs| {
        vs.real_servers.iter().any(|rs| {
            rs.checkers
                .iter()
                .any(|c| matches!(c, conf::Checker::Ssl(_)))
        })
    });
    match &config.ssl {
        Some(ssl) => {
            s.push_str("------< SSL definitions >------\n");
            for (name, v) in [
                ("Password", &ssl.password),
                ("CA-file", &ssl.ca),
                ("Certificate file", &ssl.certificate),
                ("Key file", &ssl.key),
            ] {
                if let Some(v) = v {
                    let _ = writeln!(s, " {name} : {v}");
                }
            }
        }
        None if uses_ssl => {
            s.push_str("------< SSL definitions >------\n Using autogen SSL context\n");
        }
        None => {}
    }
    s
}

fn group_text(s: &mut String, g: &conf::VirtualServerGroup, config: &Config, health: &Health) {
    let users: Vec<(usize, &VirtualServer)> = config
        .virtual_servers
        .iter()
        .enumerate()
        .filter(|(_, vs)| matches!(&vs.addr, VirtualServerAddr::Group(n) if n == &g.name))
        .collect();
    let count = |f: &dyn Fn(&VirtualServer) -> bool| {
        users
            .iter()
            .filter(|(v, vs)| f(vs) && health.specs().get(*v).is_some())
            .count()
    };
    let v4 = g.entries.iter().any(|e| match e {
        GroupEntry::Range { first, .. } => first.is_ipv4(),
        GroupEntry::Fwmark { family, .. } => *family == Family::Inet,
    });
    let v6 = g.entries.iter().any(|e| match e {
        GroupEntry::Range { first, .. } => first.is_ipv6(),
        GroupEntry::Fwmark { family, .. } => *family == Family::Inet6,
    });
    let _ = writeln!(
        s,
        " ------< Virtual server group >------\n Virtual Server Group = {}, IPv4 = {}, IPv6 = {}",
        g.name,
        yes_no(v4),
        yes_no(v6)
    );
    for e in &g.entries {
        match e {
            GroupEntry::Range { first, last, port } => {
                if first == last {
                    let _ = writeln!(s, "   VIP = {first}, VPORT = {port}");
                } else {
                    let _ = writeln!(s, "   VIP Range = {first}-{last}, VPORT = {port}");
                }
                let _ = writeln!(
                    s,
                    "     Alive: {} tcp, {} udp, {} sctp",
                    count(&|vs| vs.protocol == Protocol::Tcp),
                    count(&|vs| vs.protocol == Protocol::Udp),
                    count(&|vs| vs.protocol == Protocol::Sctp)
                );
            }
            GroupEntry::Fwmark { mark, .. } => {
                let _ = writeln!(s, "   FWMARK = {mark}");
                let _ = writeln!(
                    s,
                    "     Alive: {} IPv4, {} IPv6",
                    count(&|vs| !family_v6(vs, config)),
                    count(&|vs| family_v6(vs, config))
                );
            }
        }
        s.push_str("     reloaded = False\n");
    }
}

/// The scheduler flag lines: `sh-port`/`sh-fallback` for sh, `mh-port`/`mh-fallback`
/// for mh, `flag-1..3` otherwise.
fn sched_flags(s: &mut String, vs: &VirtualServer) {
    let has = |w: &str| vs.sched_flags.iter().any(|f| f == w);
    let sched = vs.lvs_sched.as_str();
    let _ = writeln!(s, "   Hashed = {}", enabled(has("hashed") && sched == "sh"));
    match sched {
        "sh" | "mh" => {
            let port = has(&format!("{sched}-port")) || has("flag-2");
            let fallback = has(&format!("{sched}-fallback")) || has("flag-1");
            let _ = writeln!(s, "   {sched}-port = {}", enabled(port));
            let _ = writeln!(s, "   {sched}-fallback = {}", enabled(fallback));
        }
        _ => {
            for f in ["flag-1", "flag-2", "flag-3"] {
                let _ = writeln!(s, "   {f} = {}", enabled(has(f)));
            }
        }
    }
    let ops = has("ops") && vs.protocol == Protocol::Udp;
    let _ = writeln!(s, "   One packet scheduling = {}", enabled(ops));
}

/// The `retry`, `delay_before_retry` and `warmup` a virtual or real server sets.
fn timing(s: &mut String, retry: Option<u32>, dbr: Option<Duration>, warmup: Option<Duration>) {
    if let Some(r) = retry {
        let _ = writeln!(s, "   Retry count = {r}");
    }
    if let Some(d) = dbr {
        let _ = writeln!(s, "   Retry delay = {}", secs(d));
    }
    if let Some(w) = warmup {
        let _ = writeln!(s, "   Warmup = {}", secs(w));
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn vs_text(s: &mut String, v: usize, vs: &VirtualServer, config: &Config, health: &Health) {
    s.push_str(" ------< Virtual server >------\n");
    match &vs.addr {
        VirtualServerAddr::Ip(a) => {
            let _ = writeln!(s, " VS VIP = {}, VPORT = {}", a.ip(), a.port());
        }
        VirtualServerAddr::Fwmark(m) => {
            let _ = writeln!(s, " VS FWMARK = {m}");
        }
        VirtualServerAddr::Group(g) => {
            let _ = writeln!(s, " VS GROUP = [{g}]:0");
        }
    }
    if let Some(h) = &vs.virtualhost {
        let _ = writeln!(s, "   VirtualHost = {h}");
    }
    let v6 = family_v6(vs, config);
    let _ = writeln!(
        s,
        "   Address family = {}",
        if v6 { "inet6" } else { "inet" }
    );
    let _ = writeln!(
        s,
        "   connection timeout = {}",
        secs(vs.connect_timeout.unwrap_or(CONNECT_TIMEOUT))
    );
    let _ = writeln!(s, "   delay_loop = {}", secs(vs.delay_loop));
    let _ = writeln!(s, "   lvs_sched = {}", vs.lvs_sched);
    sched_flags(s, vs);
    if let Some(t) = vs.persistence_timeout {
        let _ = writeln!(s, "   persistence timeout = {}", t.as_secs());
    }
    match vs.persistence_granularity {
        Some(Granularity::Mask(m)) => {
            let _ = writeln!(s, "   persistence granularity = {m}");
        }
        Some(Granularity::PrefixLen(l)) => {
            let _ = writeln!(s, "   persistence granularity = {l}");
        }
        None => {}
    }
    let proto = match (&vs.addr, vs.protocol) {
        (VirtualServerAddr::Fwmark(_), _) => "none",
        (_, Protocol::Tcp) => "TCP",
        (_, Protocol::Udp) => "UDP",
        (_, Protocol::Sctp) => "SCTP",
    };
    let _ = writeln!(s, "   protocol = {proto}");
    let _ = writeln!(s, "   alpha is {}", on_off(vs.alpha));
    let _ = writeln!(s, "   omega is {}", on_off(vs.omega));
    timing(s, vs.retry, vs.delay_before_retry, vs.warmup);
    let _ = writeln!(
        s,
        "   Inhibit on failure is {}",
        on_off(vs.inhibit_on_failure)
    );
    let spec = health.specs().get(v);
    let _ = writeln!(
        s,
        "   quorum = {}, hysteresis = {}",
        spec.map_or(u64::from(vs.quorum), |x| x.quorum),
        vs.hysteresis
    );
    if let Some(q) = &vs.quorum_up {
        let _ = writeln!(s, "   Quorum up notify script = {}", script(q));
    }
    if let Some(q) = &vs.quorum_down {
        let _ = writeln!(s, "   Quorum down notify script = {}", script(q));
    }
    let smtp = vs
        .smtp_alert
        .or(config.global.smtp_alert_checker)
        .or(config.global.smtp_alert)
        .unwrap_or(false);
    let _ = writeln!(s, "   Using smtp notification = {}", yes_no(smtp));
    let _ = writeln!(
        s,
        "   default forwarding method = {}",
        method(&vs.lvs_method)
    );
    let sorry = health.sorry_active(v);
    if let Some(addr) = vs.sorry_server {
        let _ = writeln!(s, "   sorry server = {}", rs_name(vs, addr));
        let m = vs
            .sorry_server_lvs_method
            .as_ref()
            .unwrap_or(&vs.lvs_method);
        let _ = writeln!(s, "     forwarding method = {}", method(m));
        let _ = writeln!(
            s,
            "     Inhibit on failure is {}",
            on_off(vs.sorry_server_inhibit)
        );
        let _ = writeln!(
            s,
            "     set = {}\n     alive = {}",
            u8::from(sorry || vs.sorry_server_inhibit),
            u8::from(sorry)
        );
    }
    let _ = writeln!(
        s,
        "   VS alive = 1\n   quorum_state_up = {}\n   reloaded = 0",
        u8::from(health.quorum_up(v))
    );
    let dumps = health.dump();
    let states = dumps.get(v);
    for (r, rs) in vs.real_servers.iter().enumerate() {
        let failed = states
            .and_then(|d| d.real_servers.get(r))
            .map_or(0, |d| d.failed_checks);
        rs_text(s, (vs, rs), config, health, (v, r), (failed, sorry));
    }
}

fn rs_text(
    s: &mut String,
    (vs, rs): (&VirtualServer, &RealServer),
    config: &Config,
    health: &Health,
    (v, r): (usize, usize),
    (failed, sorry): (usize, bool),
) {
    let weight = rs.weight;
    let eff = health.weight(v, r);
    let alive = health.is_up(v, r);
    let inhibit = rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure);
    let ip: IpAddr = rs.addr.ip();
    let _ = writeln!(
        s,
        "   ------< Real server >------\n   RIP = {ip}, RPORT = {}, WEIGHT = {eff} EFF WEIGHT = {eff}",
        rs.addr.port()
    );
    let m = rs.lvs_method.as_ref().unwrap_or(&vs.lvs_method);
    let _ = writeln!(s, "   forwarding method = {}", method(m));
    let _ = writeln!(s, "   Alpha is {}", on_off(rs.alpha.unwrap_or(vs.alpha)));
    let ct = rs
        .connect_timeout
        .or(vs.connect_timeout)
        .unwrap_or(CONNECT_TIMEOUT);
    let _ = writeln!(s, "   connection timeout = {}", secs(ct));
    let _ = writeln!(
        s,
        "   connection limit range = {} -> {}",
        rs.lthreshold.unwrap_or(0),
        rs.uthreshold.unwrap_or(0)
    );
    let _ = writeln!(
        s,
        "   Delay loop = {}",
        secs(rs.delay_loop.unwrap_or(vs.delay_loop))
    );
    timing(
        s,
        rs.retry.or(vs.retry),
        rs.delay_before_retry.or(vs.delay_before_retry),
        rs.warmup.or(vs.warmup),
    );
    let _ = writeln!(s, "   Inhibit on failure is {}", on_off(inhibit));
    if let Some(n) = &rs.notify_up {
        let _ = writeln!(s, "   RS up notify script = {}", script(n));
    }
    if let Some(n) = &rs.notify_down {
        let _ = writeln!(s, "   RS down notify script = {}", script(n));
    }
    let _ = writeln!(
        s,
        "   Using smtp notification = {}",
        yes_no(rs.smtp_alert != Some(false))
    );
    let _ = writeln!(
        s,
        "   initial weight = {weight}\n   effective weight = {eff}\n   previous effective_weight = 0"
    );
    let set = (alive && !sorry) || inhibit;
    let _ = writeln!(
        s,
        "   alive = {}\n   num failed checkers = {failed}\n   RS set = {}\n   reloaded = 0",
        u8::from(alive),
        u8::from(set)
    );
    let files: Vec<&conf::FileCheck> = rs
        .checkers
        .iter()
        .filter_map(|c| match c {
            conf::Checker::File(f) => Some(f),
            _ => None,
        })
        .collect();
    if !files.is_empty() {
        s.push_str("   Tracked Files\n");
        for f in files {
            let _ = writeln!(
                s,
                "     {}, weight {}{}",
                f.track_file,
                super::checkers::file_weight(f, config),
                if f.reverse { " reverse" } else { "" }
            );
        }
    }
}

/// "LVS Topology": the groups, then every virtual server with its real servers.
pub fn topology_text(config: &Config, health: &Health) -> String {
    let mut s = String::from("------< LVS Topology >------\n System is compiled with LVS v1.2.1\n");
    for g in &config.virtual_server_groups {
        group_text(&mut s, g, config, health);
    }
    for (v, vs) in config.virtual_servers.iter().enumerate() {
        vs_text(&mut s, v, vs, config, health);
    }
    s
}
