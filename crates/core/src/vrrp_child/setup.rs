//! What a configuration sets up, at start ([`super::session::Session::new`]) and on
//! reload: why a start can fail, the static addresses, and the reload itself.

use super::map::{self, Plan};
use super::net::NetError;
use super::session::Session;
use crate::daemon::child::exit;
use ka_proto::config::Config;
use ka_proto::ipc::vrrp::FromVrrp;
use std::fmt;
use std::net::IpAddr;
use vrrp::{AddressSet, Input, TrackKind, TrackStatus};

impl Session {
    pub(super) fn reload(&mut self, config: Config) {
        log::info!("Reloading");
        let mut plan = map::plan(&config);
        for w in &plan.warnings {
            log::warn!("{w}");
        }
        let now = self.now();
        let ours = all_vips(&plan);
        let firewall = plan.firewall.take();
        let actions = match self.engine.reload(take_engine_config(&mut plan), now) {
            Ok(a) => a,
            Err(e) => {
                log::error!("Reload refused, the running configuration is kept: {e}");
                self.send(&FromVrrp::Ready);
                return;
            }
        };
        self.rx_buf = map::kernel_rx_buf(&config);
        self.alerts = super::alerts::Alerts::new(&config);
        self.dump_facts = super::dump::DumpFacts::new(&config, &plan);
        let old = std::mem::replace(&mut self.plan, plan);
        self.removed = old
            .extra
            .into_iter()
            .filter(|(n, _)| self.engine.instance(n).is_none())
            .collect();
        self.apply_statics(&old.statics);
        self.net.ours = ours;
        self.net.vips.configure(&config);
        super::route_track::follow_routes(&mut self.monitor, &self.net.vips.routes);
        self.net.configure_pacing(&config);
        self.scripts.configure(&config, &self.plan);
        self.setup_firewall(firewall);
        self.setup_vmacs();
        self.setup_sockets();
        self.execute(actions);
        self.removed.clear();
        self.sync_firewall(true);
        self.sync_firewall(false);
        self.setup_lvs_sync();
        self.setup_files();
        let mut more = Vec::new();
        self.feed_links(now, &mut more);
        self.setup_procs(now, &mut more);
        for (name, st) in self.scripts.initial() {
            if st == TrackStatus::Unknown {
                continue;
            }
            self.engine.handle_into(
                Input::Tracker {
                    kind: TrackKind::Script,
                    name: &name,
                    status: st,
                },
                now,
                &mut more,
            );
        }
        self.execute(more);
        self.warm_send_sockets();
        self.report_all();
        if config.global.fifo_write_vrrp_states_on_reload {
            self.write_group_states(&config);
        }
        self.send(&FromVrrp::Ready);
    }

    /// `fifo_write_vrrp_states_on_reload`: each sync group's state on the notify FIFOs.
    /// keepalived 2.4.3 writes the groups' lines only (observed, with and without sync
    /// groups: no INSTANCE line at a reload).
    fn write_group_states(&mut self, config: &Config) {
        for g in &config.sync_groups {
            let word = match self.engine.group_state(&g.name) {
                Some(vrrp::State::Master) => "MASTER",
                Some(vrrp::State::Backup) => "BACKUP",
                Some(vrrp::State::Fault) => "FAULT",
                _ => continue,
            };
            self.scripts
                .fifo_only(vrrp::linux::notify::NotifyKind::Group, &g.name, word, 0);
        }
    }

    /// Install the static addresses, routes and rules of the plan, removing those of
    /// `old` that are gone (a reload).
    pub(super) fn apply_statics(&mut self, old: &AddressSet) {
        let gone = old.minus(&self.plan.statics);
        if !gone.is_empty() {
            for e in self.net.del_set("", &gone) {
                log::warn!("static addresses: {e}");
            }
        }
        if !self.plan.statics.is_empty() {
            let set = self.plan.statics.clone();
            for e in self.net.add_set("", &set) {
                log::warn!("static addresses: {e}");
            }
        }
    }
}

/// Why the child could not start.
#[derive(Debug)]
pub enum StartError {
    /// The engine refused the configuration.
    Config(vrrp::ConfigError),
    /// The kernel side could not be set up.
    Net(NetError),
    /// The event loop could not be set up.
    Io(std::io::Error),
}

impl StartError {
    /// The exit code (keepalived's: config errors stop the parent).
    pub fn exit_code(&self) -> i32 {
        match self {
            StartError::Config(_) => exit::CONFIG,
            StartError::Net(_) | StartError::Io(_) => exit::FATAL,
        }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "configuration: {e}"),
            StartError::Net(e) => write!(f, "network: {e}"),
            StartError::Io(e) => write!(f, "event loop: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<std::io::Error> for StartError {
    fn from(e: std::io::Error) -> Self {
        StartError::Io(e)
    }
}

impl From<NetError> for StartError {
    fn from(e: NetError) -> Self {
        StartError::Net(e)
    }
}

/// Move the plan's engine configuration out (for `Engine::new` / `Engine::reload`).
pub(super) fn take_engine_config(plan: &mut Plan) -> vrrp::EngineConfig {
    std::mem::replace(
        &mut plan.engine,
        vrrp::EngineConfig {
            instances: Vec::new(),
            sync_groups: Vec::new(),
        },
    )
}

pub(super) fn all_vips(plan: &Plan) -> std::collections::HashSet<IpAddr> {
    plan.engine
        .instances
        .iter()
        .flat_map(|c| c.addresses.vips.iter().chain(&c.addresses.excluded))
        .map(|v| v.addr)
        .collect()
}
