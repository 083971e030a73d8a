//! What keepalived mails, when, and to whom: the settings from `global_defs`, the
//! per-object switches, and the subject and body texts.
//!
//! Texts observed from keepalived 2.2.7 (VRRP side, 2026-11-25, sink in a namespace):
//!
//! | event | subject (after `[router_id] `) | body |
//! |---|---|---|
//! | instance MASTER | `VRRP Instance VI_1 - Entering MASTER state` | `=> VRRP Instance is now owning VRRP VIPs <=` |
//! | instance BACKUP / FAULT | `... - Entering BACKUP state` / `FAULT` | `=> VRRP Instance is no longer owning VRRP VIPs <=` |
//! | sync group | `VRRP Group VG_1 - Entering MASTER state` | `=> All VRRP group instances are now in MASTER state <=` |
//!
//! Checker side, observed in the VM kernel with IPVS (2026-11-25): see
//! [`Alert::real_server`] and [`Alert::quorum`]; real servers alert unless told not to,
//! virtual servers (quorum) only when told to.
//!
//! Switches (observed): nothing is sent without `smtp_server`; an instance or group alerts
//! when its own `smtp_alert` says so, else `smtp_alert_vrrp`, else `smtp_alert`, else not.
//! `From` defaults to `user@host` (keepalived 2.2.7 sent `root@vm`, though its man page
//! says `keepalived@host`); HELO defaults to the host name; `router_id` to the host name.

use super::dialogue::Envelope;
use super::message::{rfc5322_date, Message};
use super::sender::Job;
use crate::config::global::SmtpServer;
use crate::config::GlobalDefs;
use std::time::{Duration, SystemTime};

/// The host and user names keepalived derives defaults from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalIdentity {
    /// The host name (`gethostname`).
    pub host_name: String,
    /// The name of the real user running the daemon.
    pub user_name: String,
}

impl LocalIdentity {
    /// Read both from `/proc` and `/etc/passwd`; `localhost` / `root` when unreadable.
    pub fn detect() -> LocalIdentity {
        let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        let user_name = real_uid()
            .and_then(user_of)
            .unwrap_or_else(|| "root".to_string());
        LocalIdentity {
            host_name,
            user_name,
        }
    }
}

fn real_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn user_of(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// The three VRRP states that are mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpAlertState {
    /// MASTER.
    Master,
    /// BACKUP.
    Backup,
    /// FAULT.
    Fault,
}

impl VrrpAlertState {
    fn word(self) -> &'static str {
        match self {
            VrrpAlertState::Master => "MASTER",
            VrrpAlertState::Backup => "BACKUP",
            VrrpAlertState::Fault => "FAULT",
        }
    }
}

/// One alert: the subject after `[router_id] ` and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Subject without the `[router_id] ` prefix.
    pub subject: String,
    /// Body text.
    pub body: String,
}

impl Alert {
    /// A `vrrp_instance` entered `state`.
    pub fn vrrp_instance(name: &str, state: VrrpAlertState) -> Alert {
        let body = match state {
            VrrpAlertState::Master => "=> VRRP Instance is now owning VRRP VIPs <=",
            VrrpAlertState::Backup | VrrpAlertState::Fault => {
                "=> VRRP Instance is no longer owning VRRP VIPs <="
            }
        };
        Alert {
            subject: format!("VRRP Instance {name} - Entering {} state", state.word()),
            body: body.to_string(),
        }
    }

    /// A `vrrp_sync_group` entered `state`.
    pub fn vrrp_group(name: &str, state: VrrpAlertState) -> Alert {
        Alert {
            subject: format!("VRRP Group {name} - Entering {} state", state.word()),
            body: format!(
                "=> All VRRP group instances are now in {} state <=",
                state.word()
            ),
        }
    }
}

impl Alert {
    /// A real server changed state (or one of its checkers did); `text` is the checker's
    /// sentence, e.g. `TCP CHECK failed on service` (observed:
    /// `Realserver [127.0.0.1]:tcp:8081 of virtual server [10.0.0.1]:tcp:80 - DOWN` with
    /// `=> TCP CHECK failed on service <=`).
    pub fn real_server(rs: &str, vs: &str, up: bool, text: &str) -> Alert {
        Alert {
            subject: format!(
                "Realserver {rs} of virtual server {vs} - {}",
                if up { "UP" } else { "DOWN" }
            ),
            body: format!("=> {text} <="),
        }
    }

    /// A virtual server's quorum, at start or when it moves (observed:
    /// `Virtualserver [10.0.0.1]:tcp:80 - UP` with
    /// `=> Starting with quorum up 2+0=2 <= 2 <=` / `=> Gained quorum 2+0=2 <= 2 <=`,
    /// and `- DOWN` with `=> Lost quorum 2+0=2 <= 1 <=`: keepalived 2.2.7 writes the
    /// `+` form even when the quorum is lost, and so do we).
    pub fn quorum(
        vs: &str,
        event: QuorumEvent,
        quorum: u64,
        hysteresis: u64,
        weight: u64,
    ) -> Alert {
        let up = matches!(event, QuorumEvent::StartUp | QuorumEvent::Gained);
        let plus = format!(
            "{quorum}+{hysteresis}={} <= {weight}",
            quorum.saturating_add(hysteresis)
        );
        let text = match event {
            QuorumEvent::StartUp => format!("Starting with quorum up {plus}"),
            QuorumEvent::StartDown => format!(
                "Starting with quorum down {quorum}-{hysteresis}={} > {weight}",
                quorum.saturating_sub(hysteresis)
            ),
            QuorumEvent::Gained => format!("Gained quorum {plus}"),
            QuorumEvent::Lost => format!("Lost quorum {plus}"),
        };
        Alert {
            subject: format!("Virtualserver {vs} - {}", if up { "UP" } else { "DOWN" }),
            body: format!("=> {text} <="),
        }
    }
}

/// What happened to a virtual server's quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumEvent {
    /// The checker started with the quorum held.
    StartUp,
    /// The checker started without the quorum (text not observed; by analogy).
    StartDown,
    /// The quorum came back.
    Gained,
    /// The quorum was lost.
    Lost,
}

/// Everything needed to mail alerts, from `global_defs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// `smtp_server`.
    pub server: SmtpServer,
    /// `smtp_connect_timeout`.
    pub timeout: Duration,
    /// HELO name (`smtp_helo_name`), `notification_email_from`, `notification_email`.
    pub envelope: Envelope,
    /// `router_id` (host name by default).
    pub router_id: String,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker`.
    pub smtp_alert_checker: Option<bool>,
    /// `no_email_faults`.
    pub no_email_faults: bool,
    /// `no_checker_emails`.
    pub no_checker_emails: bool,
}

impl AlertSettings {
    /// None when no `smtp_server` is configured (then nothing is ever mailed).
    pub fn from_global(g: &GlobalDefs, id: &LocalIdentity) -> Option<AlertSettings> {
        let server = g.smtp_server.clone()?;
        Some(AlertSettings {
            server,
            timeout: g.smtp_connect_timeout,
            envelope: Envelope {
                helo: g
                    .smtp_helo_name
                    .clone()
                    .unwrap_or_else(|| id.host_name.clone()),
                from: g
                    .notification_email_from
                    .clone()
                    .unwrap_or_else(|| format!("{}@{}", id.user_name, id.host_name)),
                to: g.notification_email.clone(),
            },
            router_id: g.router_id.clone().unwrap_or_else(|| id.host_name.clone()),
            smtp_alert: g.smtp_alert,
            smtp_alert_vrrp: g.smtp_alert_vrrp,
            smtp_alert_checker: g.smtp_alert_checker,
            no_email_faults: g.no_email_faults,
            no_checker_emails: g.no_checker_emails,
        })
    }

    /// Does a VRRP instance or sync group with this `smtp_alert` (None: unset) mail
    /// `state`?
    pub fn vrrp_wants(&self, own: Option<bool>, state: VrrpAlertState) -> bool {
        let on = own
            .or(self.smtp_alert_vrrp)
            .or(self.smtp_alert)
            .unwrap_or(false);
        on && !(state == VrrpAlertState::Fault && self.no_email_faults)
    }

    /// Does a real server with this `smtp_alert` mail its changes? Unset: the global
    /// `smtp_alert_checker`, else `smtp_alert`, else yes (man page; observed: a real server
    /// with no `smtp_alert` anywhere was mailed).
    pub fn real_server_wants(&self, own: Option<bool>) -> bool {
        own.or(self.smtp_alert_checker)
            .or(self.smtp_alert)
            .unwrap_or(true)
    }

    /// Does a virtual server with this `smtp_alert` mail its quorum changes? Unset: the
    /// global `smtp_alert_checker`, else `smtp_alert`, else no (man page).
    pub fn virtual_server_wants(&self, own: Option<bool>) -> bool {
        own.or(self.smtp_alert_checker)
            .or(self.smtp_alert)
            .unwrap_or(false)
    }

    /// The mail for `alert`, dated `now`.
    pub fn message(&self, alert: &Alert, now: SystemTime) -> Message {
        Message {
            date: rfc5322_date(now),
            from: self.envelope.from.clone(),
            subject: format!("[{}] {}", self.router_id, alert.subject),
            to: self.envelope.to.clone(),
            body: alert.body.clone(),
        }
    }

    /// A delivery job for `alert`, dated `now`.
    pub fn job(&self, alert: &Alert, now: SystemTime) -> Job {
        Job {
            server: self.server.clone(),
            timeout: self.timeout,
            envelope: self.envelope.clone(),
            message: self.message(alert, now).encode(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> GlobalDefs {
        GlobalDefs {
            smtp_server: Some(SmtpServer {
                host: "10.91.0.3".into(),
                port: 25,
            }),
            notification_email: vec!["a@example.com".into()],
            ..GlobalDefs::default()
        }
    }

    fn id() -> LocalIdentity {
        LocalIdentity {
            host_name: "vm".into(),
            user_name: "root".into(),
        }
    }

    #[test]
    fn defaults_as_keepalived() {
        let s = AlertSettings::from_global(&global(), &id()).unwrap();
        assert_eq!(s.envelope.helo, "vm");
        assert_eq!(s.envelope.from, "root@vm");
        assert_eq!(s.router_id, "vm");
        assert_eq!(s.timeout, Duration::from_secs(30));
        assert!(AlertSettings::from_global(&GlobalDefs::default(), &id()).is_none());
    }

    #[test]
    fn switches() {
        let mut g = global();
        let s = AlertSettings::from_global(&g, &id()).unwrap();
        // Observed: without any smtp_alert nothing is mailed; the instance's own wins.
        assert!(!s.vrrp_wants(None, VrrpAlertState::Master));
        assert!(s.vrrp_wants(Some(true), VrrpAlertState::Master));
        g.smtp_alert = Some(true);
        let s = AlertSettings::from_global(&g, &id()).unwrap();
        assert!(s.vrrp_wants(None, VrrpAlertState::Fault));
        assert!(!s.vrrp_wants(Some(false), VrrpAlertState::Master));
        g.smtp_alert_vrrp = Some(false);
        let s = AlertSettings::from_global(&g, &id()).unwrap();
        assert!(!s.vrrp_wants(None, VrrpAlertState::Master));
        g.smtp_alert_vrrp = None;
        g.no_email_faults = true;
        let s = AlertSettings::from_global(&g, &id()).unwrap();
        assert!(!s.vrrp_wants(None, VrrpAlertState::Fault));
        assert!(s.vrrp_wants(None, VrrpAlertState::Backup));
    }

    #[test]
    fn observed_texts() {
        let mut g = global();
        g.router_id = Some("R1".into());
        let s = AlertSettings::from_global(&g, &id()).unwrap();
        let m = s.message(
            &Alert::vrrp_instance("VI_1", VrrpAlertState::Master),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(m.subject, "[R1] VRRP Instance VI_1 - Entering MASTER state");
        assert_eq!(m.body, "=> VRRP Instance is now owning VRRP VIPs <=");
        let f = Alert::vrrp_instance("VI_2", VrrpAlertState::Fault);
        assert_eq!(f.subject, "VRRP Instance VI_2 - Entering FAULT state");
        assert_eq!(f.body, "=> VRRP Instance is no longer owning VRRP VIPs <=");
        let g = Alert::vrrp_group("VG_1", VrrpAlertState::Backup);
        assert_eq!(g.subject, "VRRP Group VG_1 - Entering BACKUP state");
        assert_eq!(
            g.body,
            "=> All VRRP group instances are now in BACKUP state <="
        );
    }

    #[test]
    fn identity_is_readable_here() {
        let me = LocalIdentity::detect();
        assert!(!me.host_name.is_empty() && !me.user_name.is_empty());
    }
}
