//! Prometheus' text exposition format, from a [`Status`].
//!
//! The names and labels of mehdy/keepalived-exporter, which most dashboards read
//! (`keepalived_up`, `keepalived_vrrp_state{iname,intf,vrid,ip_address}`, the counters
//! with `{iname,intf,vrid,state}`), then what no exporter offers: priorities, time in
//! state, transitions, servers, children, reloads, build.

use super::status::Status;
use std::fmt::Write as _;

/// keepalived's counter name -> the exporter's metric name and help.
const COUNTERS: &[(&str, &str, &str)] = &[
    (
        "advert_rcvd",
        "keepalived_advertisements_received_total",
        "Advertisements received",
    ),
    (
        "advert_sent",
        "keepalived_advertisements_sent_total",
        "Advertisements sent",
    ),
    (
        "become_master",
        "keepalived_become_master_total",
        "Became master",
    ),
    (
        "release_master",
        "keepalived_release_master_total",
        "Released master",
    ),
    (
        "packet_len_err",
        "keepalived_packet_length_errors_total",
        "Packet length errors",
    ),
    (
        "advert_interval_err",
        "keepalived_advertisements_interval_errors_total",
        "Advertisement interval errors",
    ),
    ("ip_ttl_err", "keepalived_ip_ttl_errors_total", "TTL errors"),
    (
        "invalid_type_rcvd",
        "keepalived_invalid_type_received_total",
        "Invalid type errors",
    ),
    (
        "addr_list_err",
        "keepalived_address_list_errors_total",
        "Address list errors",
    ),
    (
        "invalid_authtype",
        "keepalived_authentication_invalid_total",
        "Authentication invalid",
    ),
    (
        "authtype_mismatch",
        "keepalived_authentication_mismatch_total",
        "Authentication mismatch",
    ),
    (
        "auth_failure",
        "keepalived_authentication_failure_total",
        "Authentication failure",
    ),
    (
        "pri_zero_rcvd",
        "keepalived_priority_zero_received_total",
        "Priority zero received",
    ),
    (
        "pri_zero_sent",
        "keepalived_priority_zero_sent_total",
        "Priority zero sent",
    ),
    // auth_hmac (keepalived 2.4.x; no exporter has them: its counter names, `_total`).
    (
        "auth_ext_missing",
        "keepalived_auth_ext_missing_total",
        "auth_hmac: adverts dropped without a trailer (mode enforce)",
    ),
    (
        "auth_ext_malformed",
        "keepalived_auth_ext_malformed_total",
        "auth_hmac: adverts dropped for a malformed trailer",
    ),
    (
        "auth_ext_unknown_key",
        "keepalived_auth_ext_unknown_key_total",
        "auth_hmac: adverts dropped for a key id not configured",
    ),
    (
        "auth_ext_invalid_hmac",
        "keepalived_auth_ext_invalid_hmac_total",
        "auth_hmac: adverts dropped for an HMAC that does not verify",
    ),
    (
        "auth_ext_stale",
        "keepalived_auth_ext_stale_total",
        "auth_hmac: adverts dropped for a sequence outside the freshness window",
    ),
    (
        "auth_ext_replay",
        "keepalived_auth_ext_replay_total",
        "auth_hmac: adverts dropped as replays",
    ),
];

/// A per-instance gauge's value from the instance, now and the uptime.
type Gauge = fn(&super::InstanceStatus, f64, f64) -> f64;

/// One metric family being written: its header once, then its samples.
struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn new<'a>(out: &'a mut String, name: &str, kind: &str, help: &str) -> Family<'a> {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out }
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        push_labels(self.out, labels);
        self.out.push(' ');
        push_number(self.out, value);
        self.out.push('\n');
    }

    /// A sample whose labels are written already (`{k="v",...}`, by [`labels`]): an
    /// instance's labels are the same in a dozen families, written once.
    fn sample_with(&mut self, name: &str, labels: &str, value: f64) {
        self.out.push_str(name);
        self.out.push_str(labels);
        self.out.push(' ');
        push_number(self.out, value);
        self.out.push('\n');
    }
}

/// `{k="v",...}` (nothing without labels), the values escaped.
fn push_labels(out: &mut String, labels: &[(&str, &str)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        out.push_str(&escape(v));
        out.push('"');
    }
    out.push('}');
}

/// [`push_labels`] into a string of its own.
fn labels(l: &[(&str, &str)]) -> String {
    let mut s = String::with_capacity(64);
    push_labels(&mut s, l);
    s
}

/// A label value as the format wants it: `\`, `"` and newlines escaped.
fn escape(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.contains(['\\', '"', '\n']) {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut o = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    std::borrow::Cow::Owned(o)
}

/// A sample's value: integers without a fraction, written without the formatting
/// machinery (most of the exposition is integers).
fn push_number(out: &mut String, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let n = v as i64;
        if n < 0 {
            out.push('-');
        }
        let mut u = n.unsigned_abs();
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
    } else {
        let _ = write!(out, "{v}");
    }
}

/// The whole exposition for `s` at `now` (seconds since the epoch).
pub fn render(s: &Status, now: f64) -> String {
    // About 1.8 kB per instance and 0.3 kB per server: grown once, not doubled a dozen
    // times.
    let mut out = String::with_capacity(16 * 1024 + s.vrrp.len() * 2048 + s.services.len() * 384);
    // Each instance's labels, written once: {iname,intf,vrid} and {iname,intf,vrid,state}.
    let ids: Vec<(String, String)> = s
        .vrrp
        .iter()
        .map(|i| {
            let vrid = i.vrid.to_string();
            let id = [
                ("iname", i.iname.as_str()),
                ("intf", i.ifp_ifname.as_deref().unwrap_or("")),
                ("vrid", &vrid),
            ];
            let with_state = [id[0], id[1], id[2], ("state", i.state_name.as_str())];
            (labels(&id), labels(&with_state))
        })
        .collect();
    Family::new(&mut out, "keepalived_up", "gauge", "Status").sample("keepalived_up", &[], 1.0);
    let (version, commit) = s
        .version
        .strip_prefix("keepalived-rs ")
        .and_then(|r| r.split_once(" (commit "))
        .map(|(v, c)| (v.to_string(), c.trim_end_matches(')').to_string()))
        .unwrap_or_else(|| (s.version.clone(), String::new()));
    Family::new(
        &mut out,
        "keepalived_build_info",
        "gauge",
        "The build answering (always 1)",
    )
    .sample(
        "keepalived_build_info",
        &[("version", &version), ("commit", &commit)],
        1.0,
    );

    let name = "keepalived_vrrp_state";
    let mut f = Family::new(&mut out, name, "gauge", "State of vrrp");
    for i in &s.vrrp {
        let intf = i.ifp_ifname.as_deref().unwrap_or("");
        let vrid = i.vrid.to_string();
        let addrs: Vec<&str> = if i.vips.is_empty() {
            vec![""]
        } else {
            i.vips
                .iter()
                .map(|v| v.split('/').next().unwrap_or(v))
                .collect()
        };
        for a in addrs {
            let labels = [
                ("iname", i.iname.as_str()),
                ("intf", intf),
                ("vrid", &vrid),
                ("ip_address", a),
            ];
            f.sample(name, &labels, f64::from(i.state));
        }
    }
    let name = "keepalived_script_status";
    let mut f = Family::new(
        &mut out,
        name,
        "gauge",
        "Tracker Script Status (1 GOOD, 0 BAD)",
    );
    for (n, st) in &s.scripts {
        match st.status.as_str() {
            "GOOD" => f.sample(name, &[("name", n)], 1.0),
            "BAD" => f.sample(name, &[("name", n)], 0.0),
            _ => {}
        }
    }
    let name = "keepalived_script_state";
    let mut f = Family::new(
        &mut out,
        name,
        "gauge",
        "Tracker Script State (0 idle, 1 running)",
    );
    for (n, st) in &s.scripts {
        let v = if st.state == "running" { 1.0 } else { 0.0 };
        f.sample(name, &[("name", n)], v);
    }
    for (key, name, help) in COUNTERS {
        let mut f = Family::new(&mut out, name, "counter", help);
        for (i, (_, labels)) in s.vrrp.iter().zip(&ids) {
            let Some(v) = i.stats.get(*key) else {
                continue;
            };
            f.sample_with(name, labels, *v as f64);
        }
    }
    let gauges: [(&str, &str, Gauge); 3] = [
        (
            "keepalived_vrrp_effective_priority",
            "Priority the instance advertises (base plus tracker weights)",
            |i, _, _| f64::from(i.effective_priority),
        ),
        (
            "keepalived_vrrp_base_priority",
            "Configured priority",
            |i, _, _| f64::from(i.base_priority),
        ),
        (
            "keepalived_vrrp_state_seconds",
            "Seconds in the current state",
            |i, now, up| i.last_transition.map_or(up, |t| (now - t).max(0.0)),
        ),
    ];
    let uptime = s.uptime_s as f64;
    for (name, help, value) in gauges {
        let mut f = Family::new(&mut out, name, "gauge", help);
        for (i, (labels, _)) in s.vrrp.iter().zip(&ids) {
            f.sample_with(name, labels, value(i, now, uptime));
        }
    }
    let name = "keepalived_vrrp_transitions_total";
    let mut f = Family::new(
        &mut out,
        name,
        "counter",
        "State changes, by the state entered",
    );
    for i in &s.vrrp {
        for (to, n) in &i.transitions {
            f.sample(name, &[("iname", i.iname.as_str()), ("to", to)], *n as f64);
        }
    }
    let name = "keepalived_rs_vrrp_transitions_total";
    let mut f = Family::new(
        &mut out,
        name,
        "counter",
        "State changes, by their reason (counted by the VRRP child since it started)",
    );
    for i in &s.vrrp {
        for (reason, n) in &i.transitions_by_reason {
            let labels = [("iname", i.iname.as_str()), ("reason", reason.as_str())];
            f.sample(name, &labels, *n as f64);
        }
    }
    let name = "keepalived_virtual_server_up";
    let mut f = Family::new(
        &mut out,
        name,
        "gauge",
        "Virtual server up (quorum reached)",
    );
    for v in s.services.iter().filter(|v| v.real_server.is_none()) {
        f.sample(
            name,
            &[("virtual_server", &v.virtual_server)],
            f64::from(u8::from(v.up)),
        );
    }
    let name = "keepalived_real_server_up";
    let mut f = Family::new(&mut out, name, "gauge", "Real server up (its checks pass)");
    for v in &s.services {
        if let Some(r) = &v.real_server {
            let labels = [
                ("virtual_server", v.virtual_server.as_str()),
                ("real_server", r),
            ];
            f.sample(name, &labels, f64::from(u8::from(v.up)));
        }
    }
    let name = "keepalived_virtual_server_quorum_up";
    let mut f = Family::new(
        &mut out,
        name,
        "gauge",
        "Virtual server's quorum holds (its live real servers' weight reaches quorum)",
    );
    for v in s.services.iter().filter(|v| v.real_server.is_none()) {
        f.sample(
            name,
            &[("virtual_server", &v.virtual_server)],
            f64::from(u8::from(v.up)),
        );
    }
    let name = "keepalived_virtual_server_alive_weight";
    let mut f = Family::new(
        &mut out,
        name,
        "gauge",
        "Summed weight of the virtual server's live real servers",
    );
    for v in s.services.iter().filter(|v| v.real_server.is_none()) {
        if let Some(w) = v.alive_weight {
            f.sample(name, &[("virtual_server", &v.virtual_server)], w as f64);
        }
    }
    let name = "keepalived_real_server_weight";
    let mut f = Family::new(
        &mut out,
        name,
        "gauge",
        "Real server's effective weight (0 while disabled by ctl)",
    );
    for v in &s.services {
        if let (Some(r), Some(w)) = (&v.real_server, v.weight) {
            let labels = [
                ("virtual_server", v.virtual_server.as_str()),
                ("real_server", r),
            ];
            f.sample(name, &labels, w as f64);
        }
    }
    checks(&mut out, s);
    ipvs(&mut out, s);
    let name = "keepalived_child_up";
    let mut f = Family::new(&mut out, name, "gauge", "Child process running");
    for c in &s.children {
        f.sample(
            name,
            &[("child", &c.role)],
            f64::from(u8::from(c.pid.is_some())),
        );
    }
    let name = "keepalived_child_restarts_total";
    let mut f = Family::new(
        &mut out,
        name,
        "counter",
        "Child processes started again after a death",
    );
    for c in &s.children {
        f.sample(name, &[("child", &c.role)], f64::from(c.restarts));
    }
    let plain: [(&str, &str, &str, f64); 3] = [
        (
            "keepalived_reloads_total",
            "counter",
            "Reloads asked for",
            s.reloads as f64,
        ),
        (
            "keepalived_reloads_refused_total",
            "counter",
            "Reloads refused (the running configuration kept)",
            s.reloads_refused as f64,
        ),
        (
            "keepalived_config_load_timestamp_seconds",
            "gauge",
            "When the configuration in force was read",
            s.config_loaded,
        ),
    ];
    for (name, kind, help, v) in plain {
        Family::new(&mut out, name, kind, help).sample(name, &[], v);
    }
    let name = "keepalived_config_hash";
    let mut f = Family::new(
        &mut out,
        name,
        "gauge",
        "The configuration in force, by a hash of it (always 1)",
    );
    if !s.config_hash.is_empty() {
        f.sample(name, &[("hash", &s.config_hash)], 1.0);
    }
    out
}

/// The kernel's IPVS counters of the services the checker child programmed.
fn ipvs(out: &mut String, s: &Status) {
    type Counter = fn(&crate::control::IpvsCounters) -> u64;
    let by_direction: [(&str, &str, Counter, Counter); 2] = [
        ("packets", "Packets", |c| c.inpkts, |c| c.outpkts),
        ("bytes", "Bytes", |c| c.inbytes, |c| c.outbytes),
    ];
    let name = "keepalived_ipvs_service_connections_total";
    let mut f = Family::new(
        out,
        name,
        "counter",
        "Connections an IPVS service scheduled",
    );
    for v in &s.ipvs {
        f.sample(name, &[("service", &v.service)], v.stats.conns as f64);
    }
    for (what, help, inbound, outbound) in by_direction {
        let name = format!("keepalived_ipvs_service_{what}_total");
        let mut f = Family::new(
            out,
            &name,
            "counter",
            &format!("{help} through an IPVS service"),
        );
        for v in &s.ipvs {
            for (dir, n) in [("in", inbound(&v.stats)), ("out", outbound(&v.stats))] {
                f.sample(
                    &name,
                    &[("service", &v.service), ("direction", dir)],
                    n as f64,
                );
            }
        }
    }
    let name = "keepalived_ipvs_real_server_connections_total";
    let mut f = Family::new(
        out,
        name,
        "counter",
        "Connections IPVS sent to a real server",
    );
    for v in &s.ipvs {
        for d in &v.dests {
            let labels = [
                ("service", v.service.as_str()),
                ("real_server", &d.real_server),
            ];
            f.sample(name, &labels, d.stats.conns as f64);
        }
    }
    for (what, help, inbound, outbound) in by_direction {
        let name = format!("keepalived_ipvs_real_server_{what}_total");
        let mut f = Family::new(
            out,
            &name,
            "counter",
            &format!("{help} to and from a real server"),
        );
        for v in &s.ipvs {
            for d in &v.dests {
                for (dir, n) in [("in", inbound(&d.stats)), ("out", outbound(&d.stats))] {
                    let labels = [
                        ("service", v.service.as_str()),
                        ("real_server", &d.real_server),
                        ("direction", dir),
                    ];
                    f.sample(&name, &labels, n as f64);
                }
            }
        }
    }
    type Conns = fn(&crate::control::IpvsDest) -> u32;
    let conns: [(&str, &str, Conns); 2] = [
        (
            "keepalived_ipvs_real_server_active_connections",
            "A real server's active (established) IPVS connections",
            |d| d.active_conns,
        ),
        (
            "keepalived_ipvs_real_server_inactive_connections",
            "A real server's inactive IPVS connections",
            |d| d.inactive_conns,
        ),
    ];
    for (name, help, value) in conns {
        let mut f = Family::new(out, name, "gauge", help);
        for v in &s.ipvs {
            for d in &v.dests {
                let labels = [
                    ("service", v.service.as_str()),
                    ("real_server", &d.real_server),
                ];
                f.sample(name, &labels, f64::from(value(d)));
            }
        }
    }
}

/// The checks' attempts per kind: counters and the histogram of their durations.
fn checks(out: &mut String, s: &Status) {
    let name = "keepalived_checks_total";
    let mut f = Family::new(
        out,
        name,
        "counter",
        "Check attempts ended, by checker kind",
    );
    for (kind, k) in &s.checks {
        f.sample(name, &[("kind", kind)], k.total as f64);
    }
    let name = "keepalived_checks_failed_total";
    let mut f = Family::new(
        out,
        name,
        "counter",
        "Check attempts failed, by checker kind",
    );
    for (kind, k) in &s.checks {
        f.sample(name, &[("kind", kind)], k.failed as f64);
    }
    let name = "keepalived_check_duration_seconds";
    let mut f = Family::new(
        out,
        name,
        "histogram",
        "How long check attempts took, by checker kind",
    );
    let bucket = format!("{name}_bucket");
    for (kind, k) in &s.checks {
        for (le, n) in k.le.iter().zip(&k.buckets) {
            f.sample(
                &bucket,
                &[("kind", kind), ("le", &le.to_string())],
                *n as f64,
            );
        }
        f.sample(&bucket, &[("kind", kind), ("le", "+Inf")], k.total as f64);
        f.sample(&format!("{name}_sum"), &[("kind", kind)], k.sum_seconds);
        f.sample(&format!("{name}_count"), &[("kind", kind)], k.total as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::status::{ChildStatus, InstanceStatus, ServiceStatus};

    fn status() -> Status {
        Status {
            pid: 1,
            version: "keepalived-rs 0.1.0 (commit abc)".into(),
            uptime_s: 100,
            config_file: "/etc/keepalived/keepalived.conf".into(),
            config_loaded: 1000.5,
            config_hash: "0123456789abcdef".into(),
            reloads: 3,
            reloads_refused: 1,
            children: vec![ChildStatus {
                role: "vrrp".into(),
                wanted: true,
                pid: Some(2),
                ready: true,
                restarts: 4,
            }],
            vrrp: vec![InstanceStatus {
                vips: vec!["10.0.0.1/24".into(), "10.0.0.2/24".into()],
                stats: [
                    ("advert_sent".to_string(), 7u64),
                    ("auth_ext_invalid_hmac".into(), 3),
                    ("auth_ext_replay".into(), 0),
                ]
                .into_iter()
                .collect(),
                transitions: [("MASTER".to_string(), 2u64)].into_iter().collect(),
                transitions_by_reason: [("startup".to_string(), 1u64), ("master_down".into(), 2)]
                    .into_iter()
                    .collect(),
                ..InstanceStatus::sample("VI_\"1\"", 1040.0)
            }],
            services: vec![
                ServiceStatus {
                    alive_weight: Some(0),
                    ..ServiceStatus::new("[10.0.0.1]:tcp:80".into(), None, true)
                },
                ServiceStatus {
                    weight: Some(0),
                    ..ServiceStatus::new(
                        "[10.0.0.1]:tcp:80".into(),
                        Some("[10.0.0.9]:tcp:80".into()),
                        false,
                    )
                },
            ],
            checks: [(
                "TCP_CHECK".to_string(),
                crate::control::CheckKindStats {
                    total: 5,
                    failed: 2,
                    sum_seconds: 0.0125,
                    le: vec![0.001, 0.0025, 1.0],
                    buckets: vec![1, 3, 4],
                },
            )]
            .into_iter()
            .collect(),
            ipvs: vec![crate::control::IpvsService {
                service: "TCP 10.0.0.1:80".into(),
                stats: crate::control::IpvsCounters {
                    conns: 7,
                    inpkts: 70,
                    outpkts: 60,
                    inbytes: 7000,
                    outbytes: 9000,
                },
                dests: vec![crate::control::IpvsDest {
                    real_server: "10.0.0.9:80".into(),
                    weight: 1,
                    active_conns: 2,
                    inactive_conns: 3,
                    stats: crate::control::IpvsCounters {
                        conns: 5,
                        inpkts: 50,
                        outpkts: 40,
                        inbytes: 5000,
                        outbytes: 4000,
                    },
                }],
            }],
            scripts: [(
                "chk".to_string(),
                crate::control::status::ScriptState {
                    status: "BAD".into(),
                    state: "running".into(),
                },
            )]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn the_exporter_s_names_and_labels() {
        let m = render(&status(), 1060.0);
        assert!(m.contains("keepalived_up 1\n"), "{m}");
        assert!(
            m.contains("keepalived_script_status{name=\"chk\"} 0\n"),
            "{m}"
        );
        assert!(
            m.contains("keepalived_script_state{name=\"chk\"} 1\n"),
            "{m}"
        );
        assert!(m.contains(
            "keepalived_vrrp_state{iname=\"VI_\\\"1\\\"\",intf=\"eth0\",vrid=\"51\",ip_address=\"10.0.0.2\"} 2\n"
        ), "{m}");
        assert!(m.contains(
            "keepalived_advertisements_sent_total{iname=\"VI_\\\"1\\\"\",intf=\"eth0\",vrid=\"51\",state=\"MASTER\"} 7\n"
        ), "{m}");
        assert!(m.contains("keepalived_vrrp_state_seconds{iname=\"VI_\\\"1\\\"\",intf=\"eth0\",vrid=\"51\"} 20\n"), "{m}");
        assert!(m.contains("keepalived_real_server_up{virtual_server=\"[10.0.0.1]:tcp:80\",real_server=\"[10.0.0.9]:tcp:80\"} 0\n"), "{m}");
        assert!(
            m.contains("keepalived_child_restarts_total{child=\"vrrp\"} 4\n"),
            "{m}"
        );
        assert!(
            m.contains("keepalived_config_load_timestamp_seconds 1000.5\n"),
            "{m}"
        );
        assert!(
            m.contains("keepalived_build_info{version=\"0.1.0\",commit=\"abc\"} 1\n"),
            "{m}"
        );
    }

    #[test]
    fn auth_hmac_drops_are_counters_per_instance() {
        let m = render(&status(), 1060.0);
        let id = "{iname=\"VI_\\\"1\\\"\",intf=\"eth0\",vrid=\"51\",state=\"MASTER\"}";
        for (name, v) in [
            ("keepalived_auth_ext_invalid_hmac_total", 3),
            ("keepalived_auth_ext_replay_total", 0),
        ] {
            assert!(
                m.contains(&format!("# TYPE {name} counter\n")),
                "{name}:\n{m}"
            );
            assert!(m.contains(&format!("{name}{id} {v}\n")), "{name}:\n{m}");
        }
        // Every auth_ext_* counter has its family.
        for key in ka_proto::ipc::vrrp::COUNTER_NAMES
            .iter()
            .filter(|k| k.starts_with("auth_ext_"))
        {
            assert!(
                COUNTERS
                    .iter()
                    .any(|(k, name, _)| k == key
                        && m.contains(&format!("# HELP {name} auth_hmac: "))),
                "{key}"
            );
        }
    }

    #[test]
    fn transitions_are_counted_by_reason_too() {
        let m = render(&status(), 1060.0);
        assert!(
            m.contains("# TYPE keepalived_rs_vrrp_transitions_total counter\n"),
            "{m}"
        );
        assert!(
            m.contains(
                "keepalived_rs_vrrp_transitions_total{iname=\"VI_\\\"1\\\"\",reason=\"master_down\"} 2\n"
            ),
            "{m}"
        );
        assert!(
            m.contains(
                "keepalived_rs_vrrp_transitions_total{iname=\"VI_\\\"1\\\"\",reason=\"startup\"} 1\n"
            ),
            "{m}"
        );
        // By the state entered, as before.
        assert!(
            m.contains(
                "keepalived_vrrp_transitions_total{iname=\"VI_\\\"1\\\"\",to=\"MASTER\"} 2\n"
            ),
            "{m}"
        );
    }

    #[test]
    fn each_family_is_declared_once_and_its_samples_follow_it() {
        let m = render(&status(), 1060.0);
        let mut seen = std::collections::BTreeSet::new();
        let mut current = String::new();
        for l in m.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap().to_string();
                assert!(seen.insert(name.clone()), "{name} declared twice");
                current = name;
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                let own = name == current
                    || ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|x| name.strip_suffix(x) == Some(current.as_str()));
                assert!(own, "sample outside its family {current}: {l}");
            }
        }
    }

    /// promtool (Debian's `prometheus` package, as the namespace suite has it) lints an
    /// exposition with every family filled: the histogram, the IPVS counters, the hash.
    #[test]
    fn promtool_accepts_every_family_filled() {
        use std::io::Write as _;
        let m = render(&status(), 1060.0);
        let Ok(mut p) = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("promtool is not installed: the structure test above still holds");
            return;
        };
        p.stdin.take().unwrap().write_all(m.as_bytes()).unwrap();
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}\n{m}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn the_kernel_s_ipvs_counters() {
        let m = render(&status(), 1060.0);
        let has = |l: &str| assert!(m.contains(&format!("{l}\n")), "{l} in\n{m}");
        has("keepalived_ipvs_service_connections_total{service=\"TCP 10.0.0.1:80\"} 7");
        has("keepalived_ipvs_service_packets_total{service=\"TCP 10.0.0.1:80\",direction=\"in\"} 70");
        has("keepalived_ipvs_service_bytes_total{service=\"TCP 10.0.0.1:80\",direction=\"out\"} 9000");
        has("keepalived_ipvs_real_server_connections_total{service=\"TCP 10.0.0.1:80\",real_server=\"10.0.0.9:80\"} 5");
        has("keepalived_ipvs_real_server_packets_total{service=\"TCP 10.0.0.1:80\",real_server=\"10.0.0.9:80\",direction=\"out\"} 40");
        has("keepalived_ipvs_real_server_bytes_total{service=\"TCP 10.0.0.1:80\",real_server=\"10.0.0.9:80\",direction=\"in\"} 5000");
        has("keepalived_ipvs_real_server_active_connections{service=\"TCP 10.0.0.1:80\",real_server=\"10.0.0.9:80\"} 2");
        has("keepalived_ipvs_real_server_inactive_connections{service=\"TCP 10.0.0.1:80\",real_server=\"10.0.0.9:80\"} 3");
    }

    #[test]
    fn servers_checks_and_the_config_hash() {
        let m = render(&status(), 1060.0);
        let has = |l: &str| assert!(m.contains(&format!("{l}\n")), "{l} in\n{m}");
        has("keepalived_real_server_weight{virtual_server=\"[10.0.0.1]:tcp:80\",real_server=\"[10.0.0.9]:tcp:80\"} 0");
        has("keepalived_virtual_server_quorum_up{virtual_server=\"[10.0.0.1]:tcp:80\"} 1");
        has("keepalived_virtual_server_alive_weight{virtual_server=\"[10.0.0.1]:tcp:80\"} 0");
        has("keepalived_checks_total{kind=\"TCP_CHECK\"} 5");
        has("keepalived_checks_failed_total{kind=\"TCP_CHECK\"} 2");
        has("# TYPE keepalived_check_duration_seconds histogram");
        has("keepalived_check_duration_seconds_bucket{kind=\"TCP_CHECK\",le=\"0.001\"} 1");
        has("keepalived_check_duration_seconds_bucket{kind=\"TCP_CHECK\",le=\"0.0025\"} 3");
        has("keepalived_check_duration_seconds_bucket{kind=\"TCP_CHECK\",le=\"1\"} 4");
        has("keepalived_check_duration_seconds_bucket{kind=\"TCP_CHECK\",le=\"+Inf\"} 5");
        has("keepalived_check_duration_seconds_sum{kind=\"TCP_CHECK\"} 0.0125");
        has("keepalived_check_duration_seconds_count{kind=\"TCP_CHECK\"} 5");
        has("keepalived_config_hash{hash=\"0123456789abcdef\"} 1");
        // The buckets of a kind are in increasing order of le and end with +Inf.
        let les: Vec<&str> = m
            .lines()
            .filter(|l| l.starts_with("keepalived_check_duration_seconds_bucket"))
            .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next())
            .collect();
        assert_eq!(les, ["0.001", "0.0025", "1", "+Inf"]);
    }
}
