//! `lvs_sync_daemon`: the IPVS connection-sync daemon that follows a VRRP instance
//! (master daemon while the instance is MASTER, backup daemon otherwise). keepalived
//! drives it from the VRRP side on state changes; this maps the config to the kernel's
//! daemon settings and switches it.

use ipvs_sys::{Client, Daemon, DaemonState, Error};
use ka_proto::config::global::LvsSyncDaemon;

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
