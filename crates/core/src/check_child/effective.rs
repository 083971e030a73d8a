//! The bridge between the health state and the IPVS reconciler: the configuration as the
//! kernel should see it *right now* ([`effective_config`]), and the health state a reload
//! carries over ([`carry_over`]).
//!
//! The reconciler programs a table from a [`Config`]; the health state
//! ([`ka_check::state::Health`]) knows which real servers are alive, their dynamic weights and
//! whether the sorry server is in use. [`effective_config`] rewrites the `virtual_server`
//! blocks so that the reconciler's mechanical reading of them gives exactly the table
//! keepalived keeps: live servers at their weight, failed ones out (or at weight 0 with
//! `inhibit_on_failure`), the sorry server in while quorum is lost (and at weight 0 while
//! unused with `sorry_server_inhibit`).

use std::collections::HashMap;
use std::net::SocketAddr;

use ka_proto::config::{Config, RealServer};

use super::runtime::Runtime;
use ka_check::from_config::Checks;
use ka_check::spec::describe;
use ka_check::spec::CheckSpec;
use ka_check::state::Health;

/// keepalived's weight for the sorry server while it serves.
const SORRY_WEIGHT: i32 = 1;

/// The configuration with every real server placed as `health` says. Only the global
/// section and the LVS part are kept (the reconciler reads nothing else).
pub fn effective_config(config: &Config, health: &Health) -> Config {
    let mut out = Config {
        global: config.global.clone(),
        virtual_server_groups: config.virtual_server_groups.clone(),
        ..Config::default()
    };
    for (v, vs) in config.virtual_servers.iter().enumerate() {
        let mut e = vs.clone();
        e.real_servers.clear();
        // The reconciler must not apply its own quorum rule: the health state did.
        e.quorum = 0;
        e.sorry_server = None;
        let sorry = health.sorry_active(v);
        for (r, rs) in vs.real_servers.iter().enumerate() {
            let inhibit = rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure);
            let weight = if health.is_up(v, r) && !sorry {
                health.weight(v, r).clamp(0, i64::from(i32::MAX)) as i32
            } else if inhibit {
                0
            } else {
                continue;
            };
            let mut rs = rs.clone();
            rs.weight = weight;
            rs.checkers.clear();
            e.real_servers.push(rs);
        }
        if let Some(addr) = vs.sorry_server {
            let weight = if sorry {
                Some(SORRY_WEIGHT)
            } else if vs.sorry_server_inhibit {
                Some(0)
            } else {
                None
            };
            // A real server with the sorry server's address wins (keepalived refuses such
            // configs; never program the same destination twice).
            if let Some(w) = weight.filter(|_| !e.real_servers.iter().any(|r| r.addr == addr)) {
                e.real_servers.push(RealServer {
                    addr,
                    weight: w,
                    lvs_method: vs.sorry_server_lvs_method.clone(),
                    ..RealServer::default()
                });
            }
        }
        out.virtual_servers.push(e);
    }
    out
}

/// What identifies a check across a reload: its virtual server, real server and what it
/// checks.
type CheckKey = (String, SocketAddr, String);

fn key_of(vs: &str, rs: SocketAddr, spec: &CheckSpec) -> CheckKey {
    (vs.to_string(), rs, describe(spec))
}

/// The state of every check of a running runtime, by [`CheckKey`].
pub fn check_states(rt: &Runtime) -> HashMap<CheckKey, bool> {
    let mut out = HashMap::new();
    let engine = rt.engine();
    for vs in rt.health().specs() {
        for rs in &vs.real_servers {
            for c in &rs.checks {
                if let (Some(spec), Some(up)) = (engine.spec(c.id), engine.is_up(c.id)) {
                    out.insert(key_of(&vs.name, rs.addr, spec), up);
                }
            }
        }
    }
    out
}

/// A reload keeps what is known: a check that exists before and after starts in the state
/// it had (a failed one starts failed, as with `alpha`; a passing one starts passing);
/// new checks start as their config says. Returns how many checks were carried over.
pub fn carry_over(checks: &mut Checks, old: &HashMap<CheckKey, bool>) -> usize {
    let mut n = 0;
    for vs in &mut checks.virtual_servers {
        for rs in &mut vs.real_servers {
            for c in &mut rs.checks {
                let Some(spec) = checks.specs.get_mut(c.id.0) else {
                    continue;
                };
                if let Some(&up) = old.get(&key_of(&vs.name, rs.addr, spec)) {
                    spec.alpha = !up;
                    c.alpha = !up;
                    n += 1;
                }
            }
        }
    }
    n
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ka_check::engine::Report;
    use ka_check::from_config::from_config;
    use ka_check::lvs::desired_table;
    use ka_check::spec::CheckId;
    use ka_proto::config::{Checker, CheckerCommon, VirtualServer, VirtualServerAddr};

    fn config(inhibit: bool, sorry_inhibit: bool) -> Config {
        let mut c = Config::default();
        c.virtual_servers.push(VirtualServer {
            addr: VirtualServerAddr::Ip("10.0.0.1:80".parse().unwrap()),
            quorum: 2,
            sorry_server: Some("192.168.9.9:80".parse().unwrap()),
            sorry_server_inhibit: sorry_inhibit,
            inhibit_on_failure: inhibit,
            real_servers: (1..=2)
                .map(|i| RealServer {
                    addr: format!("192.168.1.{i}:80").parse().unwrap(),
                    weight: 1,
                    checkers: vec![Checker::Tcp(CheckerCommon::default())],
                    ..RealServer::default()
                })
                .collect(),
            ..VirtualServer::default()
        });
        c
    }

    fn weights(c: &Config, h: &Health) -> Vec<(String, u32)> {
        let (t, issues) = desired_table(&effective_config(c, h), &|_, _| true);
        assert!(issues.is_empty(), "{issues:?}");
        t.services
            .values()
            .flat_map(|e| e.dests.values())
            .map(|d| (d.addr.to_string(), d.weight))
            .collect()
    }

    fn down(h: &mut Health, id: usize) {
        h.on_report(&Report {
            check: CheckId(id),
            up: false,
            weight: None,
            failure: None,
        });
    }

    #[test]
    fn live_servers_then_sorry_server_when_quorum_is_lost() {
        let c = config(false, false);
        let (mut h, _) = Health::new(from_config(&c).virtual_servers);
        assert_eq!(
            weights(&c, &h),
            vec![("192.168.1.1".into(), 1), ("192.168.1.2".into(), 1)]
        );
        down(&mut h, 0);
        // Quorum 2 lost: the sorry server alone serves.
        assert_eq!(weights(&c, &h), vec![("192.168.9.9".into(), 1)]);
    }

    #[test]
    fn quorum_is_up_at_start_whatever_the_weights() {
        // keepalived 2.2.7 (VM, quorum-sorry.conf): quorum 3 over live weights 1+1 keeps
        // both real servers and adds no sorry server until a real server changes state.
        let mut c = config(false, false);
        c.virtual_servers[0].quorum = 3;
        let (h, _) = Health::new(from_config(&c).virtual_servers);
        assert_eq!(
            weights(&c, &h),
            vec![("192.168.1.1".into(), 1), ("192.168.1.2".into(), 1)]
        );
    }

    #[test]
    fn inhibit_keeps_failed_servers_at_weight_zero() {
        let c = config(true, true);
        let (mut h, _) = Health::new(from_config(&c).virtual_servers);
        // sorry_server_inhibit: in at weight 0 while unused.
        assert_eq!(
            weights(&c, &h),
            vec![
                ("192.168.1.1".into(), 1),
                ("192.168.1.2".into(), 1),
                ("192.168.9.9".into(), 0)
            ]
        );
        down(&mut h, 1);
        assert_eq!(
            weights(&c, &h),
            vec![
                ("192.168.1.1".into(), 0),
                ("192.168.1.2".into(), 0),
                ("192.168.9.9".into(), 1)
            ]
        );
    }

    #[test]
    fn carry_over_starts_failed_checks_failed() {
        let c = config(false, false);
        let mut old = HashMap::new();
        let checks = from_config(&c);
        let spec = &checks.specs[1];
        old.insert(
            key_of(
                &checks.virtual_servers[0].name,
                "192.168.1.2:80".parse().unwrap(),
                spec,
            ),
            false,
        );
        let mut checks = from_config(&c);
        assert_eq!(carry_over(&mut checks, &old), 1);
        assert!(checks.specs[1].alpha && !checks.specs[0].alpha);
        let (h, _) = Health::new(checks.virtual_servers);
        assert!(h.is_up(0, 0) && !h.is_up(0, 1));
    }
}
