//! `lvs_sync_daemon`: the IPVS connection-sync daemon that follows a VRRP instance
//! (master daemon while the instance is MASTER, backup daemon otherwise). keepalived
//! drives it from the VRRP side on state changes; this maps the config to the kernel's
//! daemon settings and switches it.

use std::time::{Duration, Instant};

use ipvs_sys::{Client, Daemon, DaemonState, Error};
use ka_proto::config::global::LvsSyncDaemon;

/// How old a backup daemon must be before it is stopped. The kernel starts the backup
/// daemon's receiving thread after the request that adds it has returned; a stop that
/// comes before that thread has run blocks for good (seen in 6.1 and 6.12, on `lo`
/// always and on a veth when the stop came milliseconds after the start). State changes
/// are seconds apart in practice; a flap (an address owner that goes MASTER at once)
/// waits this long before the switch.
pub const BACKUP_SETTLE: Duration = Duration::from_secs(2);

/// When the backup daemon started at `backup_since` may be stopped: None when it may be
/// stopped now (or no backup daemon runs).
pub fn settled_at(backup_since: Option<Instant>, now: Instant) -> Option<Instant> {
    let at = backup_since?.checked_add(BACKUP_SETTLE)?;
    (at > now).then_some(at)
}

/// The kernel daemon for `cfg` in `state`.
pub fn daemon_for(cfg: &LvsSyncDaemon, state: DaemonState) -> Daemon {
    let mut d = Daemon::new(state, &cfg.interface, u32::from(cfg.sync_id.unwrap_or(0)));
    d.sync_maxlen = cfg.maxlen;
    d.mcast_port = Some(cfg.port);
    d.mcast_ttl = cfg.ttl;
    d.mcast_group = cfg.group;
    d
}

/// Make the running sync daemons match `want` (None: none): stops the daemon of the
/// other role, starts ours unless it already runs with the same settings.
pub fn switch(client: &mut Client, want: Option<&Daemon>) -> Result<(), Error> {
    for running in client.daemons()? {
        let keep = want.is_some_and(|w| {
            w.state == running.state
                && w.mcast_ifn == running.mcast_ifn
                && w.sync_id == running.sync_id
        });
        if !keep {
            client.del_daemon(running.state)?;
        }
    }
    if let Some(w) = want {
        if !client.daemons()?.iter().any(|d| d.state == w.state) {
            client.add_daemon(w)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_young_backup_daemon_is_stopped_only_once_settled() {
        let t0 = Instant::now();
        assert_eq!(settled_at(None, t0), None);
        assert_eq!(settled_at(Some(t0), t0), Some(t0 + BACKUP_SETTLE));
        let later = t0 + BACKUP_SETTLE / 2;
        assert_eq!(settled_at(Some(t0), later), Some(t0 + BACKUP_SETTLE));
        assert_eq!(settled_at(Some(t0), t0 + BACKUP_SETTLE), None);
    }

    #[test]
    fn maps_every_setting() {
        let cfg = LvsSyncDaemon {
            interface: "eth1".into(),
            instance: Some("VI_1".into()),
            sync_id: Some(7),
            maxlen: Some(1400),
            port: 8848,
            ttl: Some(2),
            group: Some(
                "224.0.0.81"
                    .parse()
                    .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)
                    .into(),
            ),
        };
        let d = daemon_for(&cfg, DaemonState::Backup);
        assert_eq!(d.state, DaemonState::Backup);
        assert_eq!((d.mcast_ifn.as_str(), d.sync_id), ("eth1", 7));
        assert_eq!(
            (d.sync_maxlen, d.mcast_port, d.mcast_ttl),
            (Some(1400), Some(8848), Some(2))
        );
        assert_eq!(
            d.mcast_group.map(|g| g.to_string()).as_deref(),
            Some("224.0.0.81")
        );
    }
}
