//! `ctl status`: the daemon's state as one value, and the table `ctl` prints from it.
//!
//! Field names follow keepalived's JSON dump (`json_version 2`) where it has them:
//! `iname`, `ifp_ifname`, `vrid`, `state` (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT),
//! `base_priority`, `effective_priority`, `last_transition` (seconds since the epoch).

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Everything `ctl status` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    /// `keepalived-rs 0.1.0 (commit)`.
    pub version: String,
    pub uptime_s: u64,
    pub config_file: String,
    /// When the configuration in force was read (seconds since the epoch).
    pub config_loaded: f64,
    /// A hash of the configuration in force (16 hex digits; FNV-1a of the model).
    #[serde(default)]
    pub config_hash: String,
    pub reloads: u64,
    pub reloads_refused: u64,
    pub children: Vec<ChildStatus>,
    pub vrrp: Vec<InstanceStatus>,
    pub services: Vec<ServiceStatus>,
    /// Per checker kind (`TCP_CHECK`, ...): attempts, failures, durations; from the
    /// checker child.
    #[serde(default)]
    pub checks: std::collections::BTreeMap<String, CheckKindStats>,
    /// The kernel's IPVS counters of the services the checker child programmed (empty
    /// without IPVS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipvs: Vec<IpvsService>,
    /// The tracked scripts (`vrrp_script`), by name, from the VRRP child.
    #[serde(default)]
    pub scripts: std::collections::BTreeMap<String, ScriptState>,
}

pub use ka_proto::ipc::checker::{
    CheckKindStats, CheckerReport, CheckerStatus, IpvsCounters, IpvsDest, IpvsService,
};
pub use ka_proto::ipc::vrrp::{ScriptState, VrrpReport};

/// The counters of the kernel's IPVS statistics.
fn ipvs_counters(s: ipvs_sys::Stats) -> IpvsCounters {
    IpvsCounters {
        conns: s.conns,
        inpkts: s.inpkts,
        outpkts: s.outpkts,
        inbytes: s.inbytes,
        outbytes: s.outbytes,
    }
}

/// An [`IpvsService`] from what the kernel says of it.
pub trait FromKernel {
    /// From the kernel's service and its destinations (the 64-bit counters when the
    /// kernel sends them).
    fn of(s: &ipvs_sys::Service, dests: &[ipvs_sys::Destination]) -> Self;
}

impl FromKernel for IpvsService {
    fn of(s: &ipvs_sys::Service, dests: &[ipvs_sys::Destination]) -> IpvsService {
        IpvsService {
            service: s.key.to_string(),
            stats: s.stats64.or(s.stats).map(ipvs_counters).unwrap_or_default(),
            dests: dests
                .iter()
                .map(|d| IpvsDest {
                    real_server: match d.addr {
                        std::net::IpAddr::V6(a) => format!("[{a}]:{}", d.port),
                        a => format!("{a}:{}", d.port),
                    },
                    weight: d.weight,
                    active_conns: d.active_conns.unwrap_or(0),
                    inactive_conns: d.inactive_conns.unwrap_or(0),
                    stats: d.stats64.or(d.stats).map(ipvs_counters).unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// One child process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildStatus {
    /// `vrrp` or `checker`.
    pub role: String,
    /// The configuration needs it.
    pub wanted: bool,
    pub pid: Option<i32>,
    pub ready: bool,
    pub restarts: u32,
}

/// One VRRP instance, as its child last reported it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InstanceStatus {
    pub iname: String,
    pub ifp_ifname: Option<String>,
    pub vrid: u8,
    /// 4 or 6.
    pub family: u8,
    /// keepalived's number for the state (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP).
    pub state: u8,
    /// The state's name ("MASTER").
    pub state_name: String,
    pub base_priority: u8,
    pub effective_priority: u8,
    /// VIPs (and virtual routes/rules) installed on this host.
    pub addresses_installed: bool,
    /// When it entered its state (seconds since the epoch), if it changed since start.
    pub last_transition: Option<f64>,
    /// The state before.
    pub previous_state: Option<String>,
    /// Its VIPs (`addr/len`), from the VRRP child.
    #[serde(default)]
    pub vips: Vec<String>,
    /// The master it last heard, from the VRRP child.
    #[serde(default)]
    pub master_ipaddr: Option<String>,
    /// keepalived's counters (`advert_rcvd`, `advert_sent`, `auth_failure`, ...), from the
    /// VRRP child; empty when it could not be asked.
    #[serde(default)]
    pub stats: std::collections::BTreeMap<String, u64>,
    /// State changes the parent has seen, by the state entered.
    #[serde(default)]
    pub transitions: std::collections::BTreeMap<String, u64>,
    /// State changes by their reason (`master_down`, `higher_priority`, ...), counted by
    /// the VRRP child since it started.
    #[serde(default)]
    pub transitions_by_reason: std::collections::BTreeMap<String, u64>,
    /// Drained by `ctl maintenance enter`.
    #[serde(default)]
    pub maintenance: bool,
    /// Why it entered its state (`master_down`, `higher_priority`, `fault`, ...), from
    /// the VRRP child.
    #[serde(default)]
    pub last_transition_reason: Option<String>,
    /// Its sync group, from the VRRP child.
    #[serde(default)]
    pub sync_group: Option<String>,
}

/// Fill in what the VRRP child's report adds to the parent's view: VIPs, the master
/// heard, the counters, the transitions by reason, the tracked scripts. Instances the
/// parent does not know are left out.
pub fn merge_vrrp(s: &mut Status, r: VrrpReport) {
    let at: std::collections::HashMap<&str, usize> = s
        .vrrp
        .iter()
        .enumerate()
        .map(|(k, i)| (i.iname.as_str(), k))
        .collect();
    let mut found = Vec::with_capacity(r.instances.len());
    for it in r.instances {
        if let Some(&k) = at.get(it.iname.as_str()) {
            found.push((k, it));
        }
    }
    for (k, it) in found {
        let Some(i) = s.vrrp.get_mut(k) else {
            continue;
        };
        i.vips = it.vips;
        i.master_ipaddr = it.master_ipaddr;
        i.last_transition_reason = it.last_transition_reason;
        i.sync_group = it.sync_group;
        i.stats = ka_proto::ipc::vrrp::COUNTER_NAMES
            .iter()
            .zip(it.stats)
            .map(|(n, v)| ((*n).to_string(), v))
            .collect();
        i.transitions_by_reason = it.transitions_by_reason.into_iter().collect();
    }
    s.scripts.extend(r.scripts);
}

/// One virtual or real server, as the checker child last reported it. The details come
/// from its JSON (absent when it could not be asked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub virtual_server: String,
    pub real_server: Option<String>,
    /// A virtual server's quorum, a real server's health.
    pub up: bool,
    /// A real server's effective weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// A virtual server's summed weight of live real servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alive_weight: Option<u64>,
    /// A virtual server's sorry server is in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorry_active: Option<bool>,
    /// A real server's checkers failing now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_checks: Option<u64>,
    /// A real server disabled by `ctl real-server disable` (weight 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// A real server's checkers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkers: Vec<CheckerStatus>,
}

impl ServiceStatus {
    /// As the parent knows it from `ServiceState` alone.
    pub fn new(virtual_server: String, real_server: Option<String>, up: bool) -> ServiceStatus {
        ServiceStatus {
            virtual_server,
            real_server,
            up,
            weight: None,
            alive_weight: None,
            sorry_active: None,
            failed_checks: None,
            disabled: None,
            checkers: Vec::new(),
        }
    }
}

/// Fill in what the checker child's report adds to the parent's view of the services:
/// weights, quorum details, the checkers' last results, the per-kind counts, IPVS.
pub fn merge_checker(s: &mut Status, r: CheckerReport) {
    // Where each (virtual, real) server already is: one lookup each, not a scan (2,000
    // real servers made the scans the bulk of a scrape).
    let mut at: std::collections::HashMap<(String, Option<String>), usize> = s
        .services
        .iter()
        .enumerate()
        .map(|(i, x)| ((x.virtual_server.clone(), x.real_server.clone()), i))
        .collect();
    let mut entry = |list: &mut Vec<ServiceStatus>, vs: &str, rs: Option<&str>, up: bool| {
        let key = (vs.to_string(), rs.map(str::to_string));
        let i = *at.entry(key).or_insert_with(|| {
            list.push(ServiceStatus::new(vs.into(), rs.map(str::to_string), up));
            list.len() - 1
        });
        i
    };
    for vs in r.virtual_servers {
        let i = entry(&mut s.services, &vs.virtual_server, None, vs.quorum_up);
        let e = &mut s.services[i];
        e.up = vs.quorum_up;
        e.alive_weight = Some(vs.alive_weight);
        e.sorry_active = Some(vs.sorry_active);
        for rs in vs.real_servers {
            let i = entry(
                &mut s.services,
                &vs.virtual_server,
                Some(&rs.real_server),
                rs.alive,
            );
            let e = &mut s.services[i];
            e.up = rs.alive;
            e.weight = Some(rs.weight);
            e.failed_checks = Some(rs.failed_checks);
            e.disabled = Some(rs.drained);
            e.checkers = rs.checkers;
        }
    }
    if let Some(l) = r.ipvs {
        s.ipvs = l;
    }
    s.checks = r.checks;
}

/// keepalived's number for a state name.
pub fn state_number(name: &str) -> u8 {
    match name {
        "INIT" => 0,
        "BACKUP" => 1,
        "MASTER" => 2,
        "FAULT" => 3,
        _ => 98,
    }
}

impl Status {
    /// The human table `ctl status` prints.
    pub fn table(&self, now_unix: f64) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} pid {}, up {}",
            self.version,
            self.pid,
            duration(self.uptime_s as f64)
        );
        let hash = if self.config_hash.is_empty() {
            String::new()
        } else {
            format!("hash {}, ", self.config_hash)
        };
        let _ = writeln!(
            s,
            "config {} ({hash}read {} ago; reloads {}, refused {})",
            self.config_file,
            duration((now_unix - self.config_loaded).max(0.0)),
            self.reloads,
            self.reloads_refused
        );
        for c in &self.children {
            let what = match (c.wanted, c.pid) {
                (false, _) => "not needed".to_string(),
                (true, None) => "not running".to_string(),
                (true, Some(p)) => format!("pid {p}{}", if c.ready { "" } else { " (starting)" }),
            };
            let _ = writeln!(s, "{} child: {what}, restarts {}", c.role, c.restarts);
        }
        if !self.vrrp.is_empty() {
            let rows: Vec<[String; 8]> = self
                .vrrp
                .iter()
                .map(|i| {
                    [
                        i.iname.clone(),
                        if i.maintenance {
                            format!("{} (maintenance)", i.state_name)
                        } else {
                            i.state_name.clone()
                        },
                        format!("{} ({})", i.effective_priority, i.base_priority),
                        i.vrid.to_string(),
                        i.ifp_ifname.clone().unwrap_or_else(|| "-".into()),
                        if i.addresses_installed { "yes" } else { "no" }.into(),
                        match (i.stats.get("advert_rcvd"), i.stats.get("advert_sent")) {
                            (Some(r), Some(t)) => format!("{r}/{t}"),
                            _ => "-".into(),
                        },
                        match (i.last_transition, &i.previous_state) {
                            (Some(t), Some(p)) => format!(
                                "{} ago from {p}{}",
                                duration((now_unix - t).max(0.0)),
                                i.last_transition_reason
                                    .as_deref()
                                    .map(|r| format!(" ({r})"))
                                    .unwrap_or_default()
                            ),
                            (Some(t), None) => format!("{} ago", duration((now_unix - t).max(0.0))),
                            _ => "-".into(),
                        },
                    ]
                })
                .collect();
            s.push('\n');
            table(
                &mut s,
                &[
                    "VRRP instance",
                    "state",
                    "prio (base)",
                    "vrid",
                    "interface",
                    "VIPs here",
                    "adverts in/out",
                    "since",
                ],
                &rows,
            );
        }
        if !self.services.is_empty() {
            let rows: Vec<[String; 8]> = self.services.iter().map(service_row).collect();
            s.push('\n');
            table(&mut s, &SERVICE_COLUMNS, &rows);
        }
        s
    }
}

/// The columns of the services' table (`ctl status`, the status page).
pub(crate) const SERVICE_COLUMNS: [&str; 8] = [
    "virtual server",
    "real server",
    "state",
    "weight",
    "checker",
    "last check",
    "latency",
    "failures",
];

/// A service's line: a virtual server's quorum (and sorry server) and live weight; a real
/// server's health, weight and its checkers' last attempts (one value per checker, `,`
/// between), and its failures in a row (the most of its checkers').
pub(crate) fn service_row(v: &ServiceStatus) -> [String; 8] {
    let up = if v.up { "UP" } else { "DOWN" };
    let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
    let Some(rs) = &v.real_server else {
        let state = match v.sorry_active {
            Some(true) => format!("quorum {up}, sorry server"),
            _ => format!("quorum {up}"),
        };
        return [
            v.virtual_server.clone(),
            "-".into(),
            state,
            opt(v.alive_weight.map(|w| format!("alive {w}"))),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ];
    };
    let join = |f: &dyn Fn(&CheckerStatus) -> String| {
        if v.checkers.is_empty() {
            "-".to_string()
        } else {
            v.checkers.iter().map(f).collect::<Vec<_>>().join(",")
        }
    };
    [
        v.virtual_server.clone(),
        rs.clone(),
        if v.disabled == Some(true) {
            format!("{up} (disabled)")
        } else {
            up.into()
        },
        opt(v.weight.map(|w| w.to_string())),
        join(&|c| c.keepalive_method.clone()),
        join(&|c| c.last_result.clone().unwrap_or_else(|| "-".into())),
        join(&|c| {
            c.latency_ms
                .map(|l| format!("{l:.1} ms"))
                .unwrap_or_else(|| "-".into())
        }),
        if v.checkers.is_empty() {
            "-".into()
        } else {
            v.checkers
                .iter()
                .map(|c| c.consecutive_failures)
                .max()
                .unwrap_or(0)
                .to_string()
        },
    ]
}

/// Columns padded to their widest cell.
fn table<const N: usize>(out: &mut String, head: &[&str; N], rows: &[[String; N]]) {
    let mut w: [usize; N] = head.map(str::len);
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |out: &mut String, cells: &[&str]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<width$}  ", width = w[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(out, head);
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(out, &cells);
    }
}

/// `3d4h`, `2h05m`, `4m07s`, `12s`.
fn duration(secs: f64) -> String {
    let s = secs as u64;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
impl InstanceStatus {
    /// What the tests of the status and metrics pages start from: `iname`, MASTER on eth0
    /// (VRID 51, IPv4) since `since`, from BACKUP, priority 100 lowered to 90.
    pub(crate) fn sample(iname: &str, since: f64) -> InstanceStatus {
        InstanceStatus {
            iname: iname.into(),
            ifp_ifname: Some("eth0".into()),
            vrid: 51,
            family: 4,
            state: 2,
            state_name: "MASTER".into(),
            base_priority: 100,
            effective_priority: 90,
            addresses_installed: true,
            last_transition: Some(since),
            previous_state: Some("BACKUP".into()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Status {
        Status {
            pid: 42,
            version: "keepalived-rs 0.1.0".into(),
            uptime_s: 3_725,
            config_file: "/etc/keepalived/keepalived.conf".into(),
            config_loaded: 1_000.0,
            config_hash: String::new(),
            reloads: 2,
            reloads_refused: 1,
            children: vec![
                ChildStatus {
                    role: "vrrp".into(),
                    wanted: true,
                    pid: Some(43),
                    ready: true,
                    restarts: 0,
                },
                ChildStatus {
                    role: "checker".into(),
                    wanted: false,
                    pid: None,
                    ready: false,
                    restarts: 0,
                },
            ],
            vrrp: vec![InstanceStatus::sample("VI_1", 1_060.0)],
            services: vec![ServiceStatus::new(
                "[10.0.0.1]:tcp:80".into(),
                Some("[10.0.0.2]:tcp:80".into()),
                false,
            )],
            checks: Default::default(),
            ipvs: Vec::new(),
            scripts: Default::default(),
        }
    }

    #[test]
    fn the_table_shows_each_instance_and_service_on_a_line() {
        let t = sample().table(1_130.0);
        assert!(
            t.starts_with("keepalived-rs 0.1.0 pid 42, up 1h02m\n"),
            "{t}"
        );
        assert!(t.contains("reloads 2, refused 1"), "{t}");
        assert!(t.contains("vrrp child: pid 43, restarts 0"), "{t}");
        assert!(t.contains("checker child: not needed"), "{t}");
        let row = t.lines().find(|l| l.starts_with("VI_1")).unwrap();
        let cells: Vec<&str> = row.split("  ").filter(|c| !c.is_empty()).collect();
        assert_eq!(
            cells.iter().map(|c| c.trim()).collect::<Vec<_>>(),
            [
                "VI_1",
                "MASTER",
                "90 (100)",
                "51",
                "eth0",
                "yes",
                "-",
                "1m10s ago from BACKUP"
            ]
        );
        assert!(
            t.contains("[10.0.0.1]:tcp:80  [10.0.0.2]:tcp:80  DOWN"),
            "{t}"
        );
    }

    #[test]
    fn the_child_s_report_fills_in_vips_and_counters() {
        use ka_proto::ipc::vrrp::InstanceReport;
        let mut s = sample();
        let mut stats = [0u64; 26];
        stats[0] = 3;
        stats[1] = 70;
        let r = VrrpReport {
            instances: vec![
                InstanceReport {
                    iname: "VI_1".into(),
                    vips: vec!["10.0.0.1/24".into()],
                    master_ipaddr: None,
                    last_transition_reason: Some("master_down".into()),
                    sync_group: Some("G1".into()),
                    stats,
                    transitions_by_reason: vec![("startup".into(), 1), ("master_down".into(), 2)],
                },
                InstanceReport {
                    iname: "OTHER".into(),
                    ..Default::default()
                },
            ],
            scripts: vec![(
                "chk".into(),
                ScriptState {
                    status: "BAD".into(),
                    state: "idle".into(),
                },
            )],
        };
        merge_vrrp(&mut s, r);
        let i = &s.vrrp[0];
        assert_eq!(i.last_transition_reason.as_deref(), Some("master_down"));
        assert_eq!(i.sync_group.as_deref(), Some("G1"));
        assert_eq!(i.vips, ["10.0.0.1/24"]);
        assert_eq!(i.stats.get("advert_sent"), Some(&70));
        assert_eq!(i.stats.get("owner_ignored"), Some(&0));
        assert_eq!(i.transitions_by_reason.get("master_down"), Some(&2));
        assert_eq!(s.scripts["chk"].status, "BAD");
        assert!(s.table(1_130.0).contains(" 3/70 "), "{}", s.table(1_130.0));
        // The JSON answer names them as keepalived's dump does.
        let j = serde_json::to_string(&s).unwrap();
        assert!(j.contains(r#""advert_rcvd":3"#), "{j}");
        assert!(
            j.contains(r#""transitions_by_reason":{"master_down":2,"startup":1}"#),
            "{j}"
        );
        // An instance the parent does not know changes nothing.
        let before = s.clone();
        merge_vrrp(
            &mut s,
            VrrpReport {
                instances: vec![InstanceReport {
                    iname: "OTHER".into(),
                    vips: vec!["10.9.9.9/32".into()],
                    ..Default::default()
                }],
                scripts: Vec::new(),
            },
        );
        assert_eq!(s, before);
    }

    fn checker_report() -> CheckerReport {
        use ka_proto::ipc::checker::{RealServerReport, VirtualServerReport};
        CheckerReport {
            virtual_servers: vec![VirtualServerReport {
                virtual_server: "[10.0.0.1]:tcp:80".into(),
                quorum_up: false,
                alive_weight: 0,
                sorry_active: true,
                real_servers: vec![
                    RealServerReport {
                        real_server: "[10.0.0.2]:tcp:80".into(),
                        alive: false,
                        weight: 3,
                        failed_checks: 1,
                        drained: false,
                        checkers: vec![CheckerStatus {
                            keepalive_method: "TCP_CHECK".into(),
                            up: false,
                            last_result: Some("failed".into()),
                            latency_ms: Some(0.31),
                            consecutive_failures: 4,
                            last_failure: Some("refused".into()),
                        }],
                    },
                    RealServerReport {
                        real_server: "[10.0.0.3]:tcp:80".into(),
                        alive: true,
                        weight: 0,
                        failed_checks: 0,
                        drained: true,
                        checkers: vec![],
                    },
                ],
            }],
            checks: ka_proto::ipc::checker::fixtures::tcp_checks(4),
            ipvs: None,
        }
    }

    #[test]
    fn the_checker_s_report_fills_in_weights_checkers_and_counts() {
        let mut s = sample();
        merge_checker(&mut s, checker_report());
        // The virtual server was not known to the parent: added.
        let vs = s.services.iter().find(|v| v.real_server.is_none()).unwrap();
        assert_eq!(
            (vs.up, vs.alive_weight, vs.sorry_active),
            (false, Some(0), Some(true))
        );
        let rs = &s.services[0];
        assert_eq!(
            (rs.up, rs.weight, rs.failed_checks),
            (false, Some(3), Some(1))
        );
        assert_eq!(rs.checkers[0].keepalive_method, "TCP_CHECK");
        assert_eq!(rs.checkers[0].consecutive_failures, 4);
        assert_eq!(s.checks["TCP_CHECK"].buckets, [2, 9]);
        let t = s.table(1_130.0);
        let row = t.lines().find(|l| l.contains("[10.0.0.2]:tcp:80")).unwrap();
        let cells: Vec<&str> = row
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            [
                "[10.0.0.1]:tcp:80",
                "[10.0.0.2]:tcp:80",
                "DOWN",
                "3",
                "TCP_CHECK",
                "failed",
                "0.3 ms",
                "4"
            ]
        );
        assert!(t.contains("quorum DOWN, sorry server  alive 0"), "{t}");
        let row = t.lines().find(|l| l.contains("[10.0.0.3]")).unwrap();
        let cells: Vec<&str> = row
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cells[2..4], ["UP (disabled)", "0"], "{t}");
        // The JSON answer carries it under the same names.
        let j = serde_json::to_string(&s).unwrap();
        assert!(j.contains(r#""latency_ms":0.31"#), "{j}");
        // The same report again changes nothing (no server twice).
        let before = s.clone();
        merge_checker(&mut s, checker_report());
        assert_eq!(s, before);
    }

    #[test]
    fn ipvs_counters_from_the_kernel_s_service_and_back_through_the_json() {
        let mut svc = ipvs_sys::Service::new(ipvs_sys::ServiceKey::Addr {
            protocol: ipvs_sys::Protocol::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 80,
        });
        // The 64-bit counters win over the 32-bit ones.
        svc.stats = Some(ipvs_sys::Stats {
            conns: 1,
            ..Default::default()
        });
        svc.stats64 = Some(ipvs_sys::Stats {
            conns: 5_000_000_000,
            inbytes: 9,
            ..Default::default()
        });
        let mut d = ipvs_sys::Destination::new(
            "2001:db8::2".parse().unwrap(),
            8080,
            ipvs_sys::ForwardMethod::Masq,
        );
        d.weight = 3;
        d.active_conns = Some(4);
        d.stats = Some(ipvs_sys::Stats {
            conns: 6,
            outpkts: 8,
            ..Default::default()
        });
        let v = IpvsService::of(&svc, &[d]);
        assert_eq!(v.service, "TCP 10.0.0.1:80");
        assert_eq!((v.stats.conns, v.stats.inbytes), (5_000_000_000, 9));
        let d = &v.dests[0];
        assert_eq!(d.real_server, "[2001:db8::2]:8080");
        assert_eq!((d.weight, d.active_conns, d.inactive_conns), (3, 4, 0));
        assert_eq!((d.stats.conns, d.stats.outpkts), (6, 8));
        // As the checker child sends it and the parent reads it.
        let mut s = sample();
        let r = CheckerReport {
            ipvs: Some(vec![v.clone()]),
            ..Default::default()
        };
        merge_checker(&mut s, r);
        assert_eq!(s.ipvs, std::slice::from_ref(&v));
        // And through the JSON of `ctl status --json`.
        let back: Status = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.ipvs, [v]);
    }

    #[test]
    fn state_numbers_are_keepalived_s() {
        assert_eq!(state_number("MASTER"), 2);
        assert_eq!(state_number("BACKUP"), 1);
        assert_eq!(state_number("FAULT"), 3);
        assert_eq!(state_number("INIT"), 0);
    }
}
