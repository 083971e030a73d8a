//! SMTP alerts from the checker child: a real server going DOWN or UP (one mail per
//! checker state change, or only per real server change with `no_checker_emails`), and
//! a virtual server losing or gaining its quorum. Texts and switches are in
//! [`ka_proto::smtp::alert`]; delivery is on a background thread
//! ([`ka_proto::smtp::sender`]) so the checker loop never waits for a mail server.
//!
//! [`CheckAlerts::after_verdict`] runs at each [`ka_check::scheduler::Action::Verdict`]
//! (where a checker's report left its servers) and compares it with what it saw last, so
//! it needs no help from the state machine.

use ka_check::engine::{Engine, Report};
use ka_check::state::{Health, Verdict, VsSpec};
use ka_proto::config::Config;
use ka_proto::smtp::sender;
use ka_proto::smtp::{Alert, AlertSettings, LocalIdentity, QuorumEvent};
use std::time::SystemTime;

/// What the checker child mails, and what it saw last.
#[derive(Debug)]
pub struct CheckAlerts {
    settings: AlertSettings,
    /// Per virtual server: mail quorum changes?
    vs_on: Vec<bool>,
    /// Per (virtual server, real server): mail its changes?
    rs_on: Vec<Vec<bool>>,
    /// Last seen state of each check (by `CheckId` index).
    check_up: Vec<Option<bool>>,
    /// Last seen real server states.
    rs_up: Vec<Vec<bool>>,
    /// Last seen quorum states.
    quorum: Vec<bool>,
    /// Which (virtual server, real server) each check (by `CheckId` index) belongs to.
    owner: Vec<Option<(usize, usize)>>,
    /// Mails are handed here (tests collect them; the daemon sends them).
    deliver: fn(&AlertSettings, &Alert),
}

/// keepalived's word for a checker in its mails (`MISC CHECK` observed).
pub fn checker_word(kind_name: &str) -> String {
    kind_name.replace('_', " ")
}

fn send(settings: &AlertSettings, alert: &Alert) {
    sender::spawn(settings.job(alert, SystemTime::now()), sender::log_event);
}

impl CheckAlerts {
    /// None when nothing can be mailed (no `smtp_server`). `health` gives the starting
    /// states; virtual and real servers are matched to the config by position (the
    /// mapping keeps config order).
    pub fn new(config: &Config, health: &Health, engine: &Engine) -> Option<CheckAlerts> {
        let settings = AlertSettings::from_global(&config.global, &LocalIdentity::detect())?;
        Some(CheckAlerts::with_settings(
            settings, config, health, engine, send,
        ))
    }

    /// As [`CheckAlerts::new`] with explicit settings and delivery (for tests).
    pub fn with_settings(
        settings: AlertSettings,
        config: &Config,
        health: &Health,
        engine: &Engine,
        deliver: fn(&AlertSettings, &Alert),
    ) -> CheckAlerts {
        let specs = health.specs();
        let vs_on = specs
            .iter()
            .enumerate()
            .map(|(v, _)| {
                let own = config.virtual_servers.get(v).and_then(|vs| vs.smtp_alert);
                settings.virtual_server_wants(own)
            })
            .collect();
        // One value per real server, for each virtual server.
        let per_rs = |f: &dyn Fn(usize, usize) -> bool| -> Vec<Vec<bool>> {
            (specs.iter().enumerate())
                .map(|(v, vs)| (0..vs.real_servers.len()).map(|r| f(v, r)).collect())
                .collect()
        };
        let rs_on = per_rs(&|v, r| {
            let own = config
                .virtual_servers
                .get(v)
                .and_then(|c| c.real_servers.get(r))
                .and_then(|rs| rs.smtp_alert);
            settings.real_server_wants(own)
        });
        let rs_up = per_rs(&|v, r| health.is_up(v, r));
        let quorum = (0..specs.len()).map(|v| health.quorum_up(v)).collect();
        let check_up = (0..engine.len())
            .map(|i| engine.is_up(ka_check::spec::CheckId(i)))
            .collect();
        let mut owner = vec![None; engine.len()];
        for (v, vs) in specs.iter().enumerate() {
            for (r, rs) in vs.real_servers.iter().enumerate() {
                for c in &rs.checks {
                    if let Some(slot) = owner.get_mut(c.id.0) {
                        *slot = Some((v, r));
                    }
                }
            }
        }
        CheckAlerts {
            settings,
            owner,
            vs_on,
            rs_on,
            check_up,
            rs_up,
            quorum,
            deliver,
        }
    }

    /// After `health` took `report`: mail what changed (only the report's real server
    /// and virtual server can have moved).
    pub fn after_report(&mut self, health: &Health, engine: &Engine, report: &Report) {
        if let Some(v) = health.verdict(report.check) {
            self.after_verdict(health.specs(), engine, report, &v);
        }
    }

    /// `report` left its servers at `verdict`: mail what changed since last seen.
    pub fn after_verdict(
        &mut self,
        specs: &[VsSpec],
        engine: &Engine,
        report: &Report,
        verdict: &Verdict,
    ) {
        let id = report.check.0;
        let Some(&Some((v, r))) = self.owner.get(id) else {
            return;
        };
        let (Some(vs), Some(seen_q), Some(seen_rs)) = (
            specs.get(v),
            self.quorum.get(v).copied(),
            self.rs_up.get(v).and_then(|l| l.get(r)).copied(),
        ) else {
            return;
        };
        let Some(rs) = vs.real_servers.get(r) else {
            return;
        };
        let was = self.check_up.get(id).copied().flatten();
        if let Some(slot) = self.check_up.get_mut(id) {
            *slot = Some(report.up);
        }
        let checker_moved = was != Some(report.up);
        let up = verdict.rs_alive;
        let rs_moved = seen_rs != up;
        if let Some(slot) = self.rs_up.get_mut(v).and_then(|l| l.get_mut(r)) {
            *slot = up;
        }
        let due = rs_moved || (checker_moved && !self.settings.no_checker_emails);
        let on = self
            .rs_on
            .get(v)
            .and_then(|l| l.get(r))
            .copied()
            .unwrap_or(false);
        if due && on {
            let word = engine
                .spec(report.check)
                .map_or_else(|| "CHECK".to_string(), |s| checker_word(s.kind.name()));
            let text = format!(
                "{word} {} on service",
                if report.up { "succeed" } else { "failed" }
            );
            let alert = Alert::real_server(&rs.name, &vs.name, up, &text);
            (self.deliver)(&self.settings, &alert);
        }
        let q = verdict.quorum_up;
        if q != seen_q {
            if let Some(slot) = self.quorum.get_mut(v) {
                *slot = q;
            }
            if self.vs_on.get(v).copied().unwrap_or(false) {
                let event = if q {
                    QuorumEvent::Gained
                } else {
                    QuorumEvent::Lost
                };
                let alert = Alert::quorum(
                    &vs.name,
                    event,
                    vs.quorum,
                    vs.hysteresis,
                    verdict.live_weight,
                );
                (self.deliver)(&self.settings, &alert);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ka_check::engine::Report;
    use ka_check::from_config::from_config;
    use ka_check::spec::CheckId;
    use ka_proto::config::checker::{Checker, CheckerCommon};
    use ka_proto::config::global::SmtpServer;
    use ka_proto::config::{RealServer, VirtualServer, VirtualServerAddr};
    use std::sync::Mutex;

    static SENT: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

    fn collect(s: &AlertSettings, a: &Alert) {
        let m = s.message(a, SystemTime::UNIX_EPOCH);
        SENT.lock().unwrap().push((m.subject, m.body));
    }

    fn config(vs_alert: Option<bool>, rs2_alert: Option<bool>) -> Config {
        let mut c = Config::default();
        c.global.smtp_server = Some(SmtpServer {
            host: "127.0.0.1".into(),
            port: 25,
        });
        c.global.router_id = Some("R1".into());
        let rs = |port: u16, smtp_alert| RealServer {
            addr: format!("10.0.0.{port}:80").parse().unwrap(),
            smtp_alert,
            checkers: vec![Checker::Tcp(CheckerCommon::default())],
            ..RealServer::default()
        };
        c.virtual_servers.push(VirtualServer {
            addr: VirtualServerAddr::Ip("10.0.0.100:80".parse().unwrap()),
            quorum: 2,
            smtp_alert: vs_alert,
            real_servers: vec![rs(1, None), rs(2, rs2_alert)],
            ..VirtualServer::default()
        });
        c
    }

    /// Feed reports through the health state and the alerts; return the mails.
    fn run(c: &Config, reports: &[(usize, bool)]) -> Vec<(String, String)> {
        SENT.lock().unwrap().clear();
        let checks = from_config(c);
        let engine = Engine::new(checks.specs, &checks.ssl).unwrap();
        let (mut health, _) = Health::new(checks.virtual_servers);
        let settings = AlertSettings::from_global(&c.global, &LocalIdentity::detect()).unwrap();
        let mut a = CheckAlerts::with_settings(settings, c, &health, &engine, collect);
        for &(id, up) in reports {
            let rep = Report {
                check: CheckId(id),
                up,
                weight: None,
                failure: None,
            };
            health.on_report(&rep);
            a.after_report(&health, &engine, &rep);
        }
        std::mem::take(&mut *SENT.lock().unwrap())
    }

    #[test]
    fn real_server_and_quorum_mails() {
        // One test body: SENT is shared.
        let mails = run(
            &config(Some(true), None),
            &[(0, false), (0, false), (0, true)],
        );
        assert_eq!(
            mails,
            [
                (
                    "[R1] Realserver [10.0.0.1]:tcp:80 of virtual server [10.0.0.100]:tcp:80 - DOWN"
                        .to_string(),
                    "=> TCP CHECK failed on service <=".to_string()
                ),
                (
                    "[R1] Virtualserver [10.0.0.100]:tcp:80 - DOWN".to_string(),
                    "=> Lost quorum 2+0=2 <= 1 <=".to_string()
                ),
                (
                    "[R1] Realserver [10.0.0.1]:tcp:80 of virtual server [10.0.0.100]:tcp:80 - UP"
                        .to_string(),
                    "=> TCP CHECK succeed on service <=".to_string()
                ),
                (
                    "[R1] Virtualserver [10.0.0.100]:tcp:80 - UP".to_string(),
                    "=> Gained quorum 2+0=2 <= 2 <=".to_string()
                ),
            ]
        );
        // No smtp_alert on the virtual server: no quorum mail; smtp_alert off on a real
        // server: none for it.
        let mails = run(&config(None, Some(false)), &[(0, false), (1, false)]);
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].0.contains("[10.0.0.1]:tcp:80"));
        // Global smtp_alert_checker off silences real servers without their own switch.
        let mut c = config(None, None);
        c.global.smtp_alert_checker = Some(false);
        assert!(run(&c, &[(0, false)]).is_empty());
        // No smtp_server: nothing at all.
        c.global.smtp_server = None;
        let checks = from_config(&c);
        let engine = Engine::new(checks.specs, &checks.ssl).unwrap();
        let (health, _) = Health::new(checks.virtual_servers);
        assert!(CheckAlerts::new(&c, &health, &engine).is_none());
    }
}
