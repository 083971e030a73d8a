//! SMTP alerts from the VRRP child: one mail per instance and per sync group state change
//! to MASTER, BACKUP or FAULT (the start's BACKUP included, as keepalived 2.2.7 does),
//! when `smtp_server` is set and the object's `smtp_alert` (else `smtp_alert_vrrp`, else
//! `smtp_alert`) is on; FAULT is skipped with `no_email_faults`. Mails leave on a
//! background thread ([`ka_proto::smtp::sender`]): the loop never waits for a server.
//!
//! keepalived also opens connections for the stop-time transitions but is gone before it
//! sends anything (observed): we send nothing at shutdown.

use ka_proto::config::Config;
use ka_proto::smtp::sender;
use ka_proto::smtp::{Alert, AlertSettings, LocalIdentity, VrrpAlertState};
use std::collections::HashMap;
use std::time::SystemTime;
use vrrp::event::{NotifyState, NotifyTarget};

/// What the VRRP child mails, from the configuration.
#[derive(Debug, Default)]
pub struct Alerts {
    settings: Option<AlertSettings>,
    instances: HashMap<String, Option<bool>>,
    groups: HashMap<String, Option<bool>>,
}

impl Alerts {
    /// From a (re)loaded configuration.
    pub fn new(config: &Config) -> Alerts {
        let Some(settings) = AlertSettings::from_global(&config.global, &LocalIdentity::detect())
        else {
            return Alerts::default();
        };
        Alerts {
            settings: Some(settings),
            instances: config
                .vrrp_instances
                .iter()
                .map(|i| (i.name.clone(), i.smtp_alert))
                .collect(),
            groups: config
                .sync_groups
                .iter()
                .map(|g| (g.name.clone(), g.smtp_alert))
                .collect(),
        }
    }

    /// The mail for a notification, if one is due.
    pub fn alert_for(&self, target: &NotifyTarget, state: NotifyState) -> Option<Alert> {
        let settings = self.settings.as_ref()?;
        let state = match state {
            NotifyState::Master => VrrpAlertState::Master,
            NotifyState::Backup => VrrpAlertState::Backup,
            NotifyState::Fault => VrrpAlertState::Fault,
            NotifyState::Stop | NotifyState::Deleted => return None,
        };
        let (own, alert) = match target {
            NotifyTarget::Instance(n) => {
                (self.instances.get(&**n)?, Alert::vrrp_instance(n, state))
            }
            NotifyTarget::Group(n) => (self.groups.get(&**n)?, Alert::vrrp_group(n, state)),
        };
        settings.vrrp_wants(*own, state).then_some(alert)
    }

    /// Mail the alert for this notification, if one is due (returns at once).
    pub fn on_notify(&self, target: &NotifyTarget, state: NotifyState) {
        if let (Some(settings), Some(alert)) = (&self.settings, self.alert_for(target, state)) {
            sender::spawn(settings.job(&alert, SystemTime::now()), sender::log_event);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ka_proto::config::global::SmtpServer;
    use ka_proto::config::{VrrpInstance, VrrpSyncGroup};
    use std::sync::Arc;

    fn config() -> Config {
        let mut c = Config::default();
        c.global.smtp_server = Some(SmtpServer {
            host: "127.0.0.1".into(),
            port: 25,
        });
        c.global.router_id = Some("R1".into());
        c.vrrp_instances = vec![
            VrrpInstance {
                name: "VI_1".into(),
                smtp_alert: Some(true),
                ..VrrpInstance::default()
            },
            VrrpInstance {
                name: "VI_2".into(),
                ..VrrpInstance::default()
            },
        ];
        c.sync_groups = vec![VrrpSyncGroup {
            name: "VG_1".into(),
            smtp_alert: Some(true),
            ..VrrpSyncGroup::default()
        }];
        c
    }

    fn inst(n: &str) -> NotifyTarget {
        NotifyTarget::Instance(Arc::from(n))
    }

    #[test]
    fn who_is_mailed_as_keepalived() {
        let a = Alerts::new(&config());
        // Observed with keepalived 2.2.7: VI_1 (smtp_alert) and VG_1 mail, VI_2 does not.
        let m = a.alert_for(&inst("VI_1"), NotifyState::Master).unwrap();
        assert_eq!(m.subject, "VRRP Instance VI_1 - Entering MASTER state");
        assert!(a.alert_for(&inst("VI_2"), NotifyState::Master).is_none());
        let g = a
            .alert_for(&NotifyTarget::Group(Arc::from("VG_1")), NotifyState::Backup)
            .unwrap();
        assert_eq!(g.subject, "VRRP Group VG_1 - Entering BACKUP state");
        // Nothing at shutdown, nothing for unknown names.
        assert!(a.alert_for(&inst("VI_1"), NotifyState::Stop).is_none());
        assert!(a.alert_for(&inst("nope"), NotifyState::Master).is_none());
    }

    #[test]
    fn global_switches() {
        let mut c = config();
        c.global.smtp_alert = Some(true);
        c.global.no_email_faults = true;
        let a = Alerts::new(&c);
        assert!(a.alert_for(&inst("VI_2"), NotifyState::Master).is_some());
        assert!(a.alert_for(&inst("VI_2"), NotifyState::Fault).is_none());
        c.global.smtp_server = None;
        let a = Alerts::new(&c);
        assert!(a.alert_for(&inst("VI_1"), NotifyState::Master).is_none());
    }
}
