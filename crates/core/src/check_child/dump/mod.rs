//! The checker child's dumps: `keepalived_check.data` (SIGUSR1) as text, and a JSON view.

mod checkers;
mod global;
mod lvs;
mod status;

pub use global::global_text;
pub use status::status_text;

use super::runtime::Runtime;
use ka_proto::config::Config;
use ka_proto::ipc::checker::{
    CheckKindStats, CheckerReport, CheckerStatus, RealServerReport, VirtualServerReport,
};

/// `keepalived_check.data` (SIGUSR1), and what `-d` logs at start: keepalived 2.4.3's
/// "Global definitions", "SSL definitions", "LVS Topology", "Health checkers" and "Checker
/// track files" sections for `config`, with the state of every real server and checker.
pub fn data_text(rt: &Runtime, config: &Config) -> String {
    let mut s = global::global_text(config);
    s.push_str(&lvs::ssl_text(config));
    s.push_str(&lvs::topology_text(config, rt.health()));
    s.push_str(&checkers::checkers_text(rt, config));
    s.push_str(&checkers::track_files_text(config));
    s
}

/// The checker child's state for `ctl status` and the metrics: every virtual server
/// (`quorum_up`, `alive_weight`, `sorry_active`) with its real servers (`alive`, `weight`,
/// `failed_checks`, `drained` by `ctl real-server disable`) and their checkers
/// (`keepalive_method`, as keepalived's dump names the kind; the last attempt's result and
/// duration, failures in a row), then per checker kind the attempts, failures and the
/// cumulative histogram of their durations (`le` bounds in seconds,
/// [`ka_check::stats::BUCKETS`]), and the kernel's IPVS counters when it has IPVS
/// (`ipvs`).
pub fn report(rt: &Runtime, ipvs: Option<Vec<crate::control::IpvsService>>) -> CheckerReport {
    let checks = rt.engine().dump();
    let health = rt.health();
    let specs = health.specs();
    let virtual_servers = health
        .dump()
        .into_iter()
        .enumerate()
        .map(|(v, vs)| VirtualServerReport {
            real_servers: vs
                .real_servers
                .into_iter()
                .enumerate()
                .map(|(r, rs)| {
                    let checkers = specs
                        .get(v)
                        .and_then(|s| s.real_servers.get(r))
                        .map(|s| {
                            s.checks
                                .iter()
                                .filter_map(|c| checks.get(c.id.0))
                                .map(|c| CheckerStatus {
                                    keepalive_method: c.kind.to_string(),
                                    up: c.up,
                                    last_result: c
                                        .last_ok
                                        .map(|ok| if ok { "ok" } else { "failed" }.to_string()),
                                    latency_ms: c.last_duration.map(|d| d.as_secs_f64() * 1000.0),
                                    consecutive_failures: c.consecutive_fails,
                                    last_failure: c.last_failure.clone(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    RealServerReport {
                        real_server: rs.name,
                        alive: rs.alive,
                        weight: rs.weight,
                        failed_checks: rs.failed_checks as u64,
                        drained: rs.drained,
                        checkers,
                    }
                })
                .collect(),
            virtual_server: vs.name,
            quorum_up: vs.quorum_up,
            alive_weight: vs.alive_weight,
            sorry_active: vs.sorry_active,
        })
        .collect();
    let checks = rt
        .engine()
        .stats()
        .iter()
        .map(|(k, st)| {
            (
                k.to_string(),
                CheckKindStats {
                    total: st.total,
                    failed: st.failed,
                    sum_seconds: st.sum_seconds,
                    le: ka_check::stats::BUCKETS.to_vec(),
                    buckets: st.cumulative().to_vec(),
                },
            )
        })
        .collect();
    CheckerReport {
        virtual_servers,
        checks,
        ipvs,
    }
}

/// [`report`] as JSON (the field names of `ctl status --json`): the checker child's
/// answer to a JSON dump.
pub fn json_text(rt: &Runtime, ipvs: Option<Vec<crate::control::IpvsService>>) -> String {
    let mut s = serde_json::to_string(&report(rt, ipvs)).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ka_check::from_config::from_config;
    use ka_proto::config::{self as conf, Checker, CheckerCommon, Config};
    use std::time::{Duration, Instant};

    /// A virtual server whose one real server is a port nothing listens on (loopback:
    /// refused at once), checked every 20 ms with no retry.
    fn runtime() -> Runtime {
        setup().0
    }

    /// [`runtime`] and its configuration.
    fn setup() -> (Runtime, Config) {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut config = Config::default();
        let t = CheckerCommon {
            delay_loop: Some(Duration::from_millis(20)),
            connect_timeout: Some(Duration::from_millis(500)),
            retry: Some(0),
            warmup: Some(Duration::ZERO),
            ..CheckerCommon::default()
        };
        config.virtual_servers.push(conf::VirtualServer {
            addr: conf::VirtualServerAddr::Ip("127.0.0.1:80".parse().unwrap()),
            quorum: 1,
            real_servers: vec![conf::RealServer {
                addr: format!("127.0.0.1:{port}").parse().unwrap(),
                weight: 3,
                checkers: vec![Checker::Tcp(t)],
                ..conf::RealServer::default()
            }],
            ..conf::VirtualServer::default()
        });
        (Runtime::new(from_config(&config), None).unwrap(), config)
    }

    /// The lines of `text` in the block that starts with `head` (to the next line as
    /// little indented).
    fn block<'a>(text: &'a str, head: &str) -> Vec<&'a str> {
        let mut lines = text.lines().skip_while(|l| !l.starts_with(head));
        let Some(first) = lines.next() else {
            return Vec::new();
        };
        let indent = first.len() - first.trim_start().len();
        std::iter::once(first)
            .chain(lines.take_while(|l| l.len() - l.trim_start().len() > indent))
            .collect()
    }

    #[test]
    fn the_data_dump_has_keepalived_2_4_3_s_lines_and_follows_the_checker() {
        let (mut rt, config) = setup();
        let text = data_text(&rt, &config);
        for section in [
            "------< Global definitions >------",
            "------< LVS Topology >------",
            "------< Health checkers >------",
        ] {
            assert!(text.lines().any(|l| l == section), "{section}:\n{text}");
        }
        assert!(!text.contains("SSL definitions"), "no SSL_GET:\n{text}");
        let vs = block(&text, " VS VIP = 127.0.0.1, VPORT = 80");
        for l in [
            "   connection timeout = 5.000000",
            "   delay_loop = 60.000000",
            "   lvs_sched = wlc",
            "   protocol = TCP",
            "   quorum = 1, hysteresis = 0",
            "   default forwarding method = NAT",
            "   quorum_state_up = 1",
        ] {
            assert!(vs.contains(&l), "{l}:\n{text}");
        }
        let check = block(&text, " [127.0.0.1]:tcp:80 -> [127.0.0.1]:tcp:");
        for l in [
            "   Up = yes",
            "   Has run = no",
            "   Delay loop = 20000 us",
            "   Retries = 0",
            "     Timeout = 0.500000",
            "   Keepalive method = TCP_CHECK",
        ] {
            assert!(check.contains(&l), "{l}:\n{text}");
        }
        let end = Instant::now() + Duration::from_secs(5);
        while rt.engine().stats().get("TCP_CHECK").map_or(0, |k| k.failed) < 1 {
            assert!(Instant::now() < end, "no failed attempt in 5 s");
            rt.turn(Some(Duration::from_millis(10))).unwrap();
        }
        let text = data_text(&rt, &config);
        let check = block(&text, " [127.0.0.1]:tcp:80 -> [127.0.0.1]:tcp:");
        for l in ["   Up = no", "   Has run = yes"] {
            assert!(check.contains(&l), "{l}:\n{text}");
        }
        let rs = block(&text, "   ------< Real server >------");
        for l in [
            "   alive = 0",
            "   num failed checkers = 1",
            "   RS set = 0",
            "   quorum_state_up = 0",
        ] {
            assert!(
                rs.contains(&l) || text.lines().any(|x| x == l),
                "{l}:\n{text}"
            );
        }
    }

    #[test]
    fn the_json_has_each_real_server_s_checkers_and_the_counts_per_kind() {
        let mut rt = runtime();
        let j: serde_json::Value = serde_json::from_str(&json_text(&rt, None)).unwrap();
        let rs = &j["virtual_servers"][0]["real_servers"][0];
        assert_eq!(rs["alive"], true, "{j}");
        assert_eq!(rs["weight"], 3);
        let c = &rs["checkers"][0];
        assert_eq!(c["keepalive_method"], "TCP_CHECK");
        assert!(
            c["last_result"].is_null() && c["latency_ms"].is_null(),
            "{j}"
        );
        // Run until two attempts failed.
        let end = Instant::now() + Duration::from_secs(5);
        while rt.engine().stats().get("TCP_CHECK").map_or(0, |k| k.failed) < 2 {
            assert!(Instant::now() < end, "no two failed attempts in 5 s");
            rt.turn(Some(Duration::from_millis(10))).unwrap();
        }
        let j: serde_json::Value = serde_json::from_str(&json_text(&rt, None)).unwrap();
        let vs = &j["virtual_servers"][0];
        assert_eq!(vs["virtual_server"], "[127.0.0.1]:tcp:80");
        assert_eq!(
            (&vs["quorum_up"], &vs["alive_weight"]),
            (&false.into(), &0.into())
        );
        let rs = &vs["real_servers"][0];
        assert_eq!(
            (&rs["alive"], &rs["failed_checks"]),
            (&false.into(), &1.into())
        );
        let c = &rs["checkers"][0];
        assert_eq!(c["last_result"], "failed", "{j}");
        assert!(c["latency_ms"].as_f64().unwrap() >= 0.0, "{j}");
        assert!(c["consecutive_failures"].as_u64().unwrap() >= 2, "{j}");
        let k = &j["checks"]["TCP_CHECK"];
        assert!(k["failed"].as_u64().unwrap() >= 2, "{j}");
        let b: Vec<u64> = serde_json::from_value(k["buckets"].clone()).unwrap();
        assert_eq!(b.len(), ka_check::stats::BUCKETS.len());
        assert!(b.windows(2).all(|w| w[0] <= w[1]), "cumulative: {b:?}");
        assert_eq!(k["le"][0], 0.001);
    }

    #[test]
    fn a_disabled_real_server_shows_weight_zero_and_its_weight_comes_back() {
        let mut rt = runtime();
        rt.take_changes();
        let (vs, rs) = (
            "[127.0.0.1]:tcp:80",
            rt.health().specs()[0].real_servers[0].name.clone(),
        );
        assert!(
            !rt.set_drained(vs, "[127.0.0.1]:tcp:1", true),
            "no such server"
        );
        assert!(
            !rt.set_drained("[127.0.0.2]:tcp:80", &rs, true),
            "no such server"
        );
        assert!(rt.set_drained(vs, &rs, true));
        let j: serde_json::Value = serde_json::from_str(&json_text(&rt, None)).unwrap();
        let r = &j["virtual_servers"][0]["real_servers"][0];
        assert_eq!(
            (&r["drained"], &r["weight"]),
            (&true.into(), &0.into()),
            "{j}"
        );
        assert_eq!(
            rt.take_changes(),
            vec![ka_check::state::Change::RsSet {
                vs: 0,
                rs: 0,
                weight: 0
            }]
        );
        assert!(rt.set_drained(vs, &rs, false));
        let j: serde_json::Value = serde_json::from_str(&json_text(&rt, None)).unwrap();
        let r = &j["virtual_servers"][0]["real_servers"][0];
        assert_eq!(
            (&r["drained"], &r["weight"]),
            (&false.into(), &3.into()),
            "{j}"
        );
    }
}
