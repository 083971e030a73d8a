//! `lvs_sync_daemon`: the kernel's IPVS connection-sync daemon follows one VRRP instance,
//! as keepalived drives it from its VRRP process: a master daemon while the instance is
//! MASTER, a backup daemon in every other state (from the first BACKUP on, FAULT
//! included), none once the child stops. The backup daemon fills the standby director's
//! connection table from the master's sync messages, so connections opened through the
//! old master carry on through the new one after a failover.
//!
//! The switch itself (and the mapping of the settings) is
//! [`ka_check::lvs::sync`]; this part decides when. A backup daemon younger than
//! [`BACKUP_SETTLE`](ka_check::lvs::sync::BACKUP_SETTLE) is not stopped (the kernel can block the stop for good): a switch
//! that comes earlier is put off to the settle time, a timer of the event loop; a stop of
//! the whole daemon (at stop, or a reload that removes it) waits that long at the most.

use std::time::Instant;

use super::session::Session;
use ipvs_sys::{Client, DaemonState};
use ka_check::lvs::sync::{daemon_for, settled_at, switch};
use ka_proto::config::global::LvsSyncDaemon;
use vrrp::State;

/// The sync daemon in use: its settings, the generic-netlink client that switches it and
/// the role last set.
pub(super) struct LvsSync {
    cfg: LvsSyncDaemon,
    client: Client,
    running: Option<DaemonState>,
    /// When the running backup daemon was started.
    backup_since: Option<Instant>,
    /// A switch put off until the backup daemon has settled.
    pub(super) retry_at: Option<Instant>,
}

impl Session {
    /// Follow the plan's `lvs_sync_daemon` (at start and after a reload): a changed or
    /// removed setting stops the daemon of the old one first.
    pub(super) fn setup_lvs_sync(&mut self) {
        let want = self.plan.lvs_sync.clone();
        if self.lvs_sync.as_ref().map(|s| &s.cfg) == want.as_ref() {
            return self.follow_lvs_sync();
        }
        self.remove_lvs_sync();
        let Some(cfg) = want else {
            return;
        };
        if !multicast(&cfg.interface) {
            // The kernel accepts a sync daemon there, but starts no backup thread, and the
            // request that later stops it never returns: it would hang this process.
            log::error!(
                "lvs_sync_daemon: {} is missing or has no multicast: no sync daemon started",
                cfg.interface
            );
            return;
        }
        match Client::new() {
            Ok(client) => {
                self.lvs_sync = Some(LvsSync {
                    cfg,
                    client,
                    running: None,
                    backup_since: None,
                    retry_at: None,
                });
                self.follow_lvs_sync();
            }
            Err(e) => log::error!(
                "lvs_sync_daemon: IPVS is not available ({e}): connections will not be synced"
            ),
        }
    }

    /// Set the daemon's role from its instance's state (a state change calls this).
    pub(super) fn follow_lvs_sync(&mut self) {
        let Some(sync) = self.lvs_sync.as_mut() else {
            return;
        };
        let name = sync.cfg.instance.as_deref().unwrap_or_default();
        let role = match self.engine.instance(name).map(|i| i.state) {
            Some(State::Master) => DaemonState::Master,
            Some(_) => DaemonState::Backup,
            None => return,
        };
        if sync.running == Some(role) {
            sync.retry_at = None;
            return;
        }
        let now = Instant::now();
        if let Some(at) = settled_at(sync.backup_since, now) {
            if sync.retry_at.is_none() {
                let age = sync
                    .backup_since
                    .map(|t| now.saturating_duration_since(t))
                    .unwrap_or_default();
                log::info!(
                    "({name}) lvs_sync_daemon: the backup sync daemon is {} ms old: the {} \
                     daemon starts in {} ms",
                    age.as_millis(),
                    role_name(role),
                    at.saturating_duration_since(now).as_millis()
                );
            }
            sync.retry_at = Some(at);
            return;
        }
        sync.retry_at = None;
        match switch(&mut sync.client, Some(&daemon_for(&sync.cfg, role))) {
            Ok(()) => {
                log::info!(
                    "({name}) lvs_sync_daemon: {} sync daemon on {} (syncid {})",
                    role_name(role),
                    sync.cfg.interface,
                    sync.cfg.sync_id.unwrap_or(0)
                );
                sync.running = Some(role);
                sync.backup_since = (role == DaemonState::Backup).then_some(now);
            }
            Err(e) => {
                log::error!(
                    "({name}) lvs_sync_daemon: cannot start the {} sync daemon on {}: {e}",
                    role_name(role),
                    sync.cfg.interface
                );
                sync.running = None;
                sync.backup_since = None;
            }
        }
    }

    /// A switch put off by [`BACKUP_SETTLE`](ka_check::lvs::sync::BACKUP_SETTLE) is due (the event loop's timer).
    pub(super) fn lvs_sync_due(&mut self, now: Instant) {
        let due = self
            .lvs_sync
            .as_ref()
            .and_then(|s| s.retry_at)
            .is_some_and(|t| t <= now);
        if due {
            self.follow_lvs_sync();
        }
    }

    /// The instance `name` changed state: switch the daemon if it follows it.
    pub(super) fn lvs_sync_on_state(&mut self, name: &str) {
        let follows = self
            .lvs_sync
            .as_ref()
            .is_some_and(|s| s.cfg.instance.as_deref() == Some(name));
        if follows {
            self.follow_lvs_sync();
        }
    }

    /// Stop the daemon (at stop, and when a reload removes or changes it).
    pub(super) fn remove_lvs_sync(&mut self) {
        if let Some(mut sync) = self.lvs_sync.take() {
            if let Some(at) = settled_at(sync.backup_since, Instant::now()) {
                // Bounded by BACKUP_SETTLE, and only right after a start or a flap.
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
            }
            if let Err(e) = switch(&mut sync.client, None) {
                log::warn!("lvs_sync_daemon: cannot stop the sync daemon: {e}");
            }
        }
    }
}

/// Whether the interface exists in this namespace and has IFF_MULTICAST.
fn multicast(interface: &str) -> bool {
    use nix::net::if_::InterfaceFlags;
    nix::ifaddrs::getifaddrs().is_ok_and(|mut all| {
        all.any(|a| {
            a.interface_name == interface && a.flags.contains(InterfaceFlags::IFF_MULTICAST)
        })
    })
}

fn role_name(role: DaemonState) -> &'static str {
    match role {
        DaemonState::Master => "master",
        DaemonState::Backup => "backup",
    }
}
