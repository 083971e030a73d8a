//! The typed model of `keepalived.conf`.
//!
//! The parser in `keepalived-rs` (crate `core`) reads the text and produces a [`Config`];
//! the VRRP and checker children only ever see this model. Every struct carries
//! keepalived's defaults in its `Default` implementation, so a block that names no
//! keyword yields exactly what keepalived would use.
//!
//! Conventions:
//! * Names follow keepalived's keywords (`virtual_router_id`, `lvs_sched`, ...).
//! * Addresses are `std::net` types; prefixes are [`IpPrefix`].
//! * Every time is a [`std::time::Duration`] (keepalived keeps microseconds; so do we:
//!   a `<TIMER>` of `1.5` is 1.5 s).
//! * Values that an instance inherits from `global_defs` (`[G]` in the reference) are
//!   already resolved by the parser: the children read the effective value.
//! * Lists keep the order of the file.

pub mod addr;
pub mod checker;
pub mod global;
pub mod lvs;
pub mod track;
pub mod vrrp;

pub use addr::{Fwmark, IpPrefix, Route, RouteType, Rule, RuleAction, VirtualIpAddress};
pub use checker::*;
pub use global::GlobalDefs;
pub use lvs::*;
pub use track::*;
pub use vrrp::*;

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A whole parsed configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `net_namespace NAME` (top level): the namespace keepalived runs in.
    pub net_namespace: Option<String>,
    /// `net_namespace_ipvs NAME`.
    pub net_namespace_ipvs: Option<String>,
    /// `instance NAME`: names pid files and dump files.
    pub instance: Option<String>,
    /// `use_pid_dir`: put pid files in `/run/keepalived/`.
    pub use_pid_dir: bool,
    /// `child_wait_time SECS` (default 5 s): how long the parent waits for children on stop.
    pub child_wait_time: Duration,
    /// `linkbeat_use_polling` at top level.
    pub linkbeat_use_polling: bool,
    /// `global_defs { }`.
    pub global: GlobalDefs,
    /// `vrrp_script NAME { }`, in file order.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `track_file NAME { }` (alias `vrrp_track_file`).
    pub track_files: Vec<TrackFile>,
    /// `vrrp_track_process NAME { }`.
    pub track_processes: Vec<TrackProcess>,
    /// `track_group NAME { group { .. } }`.
    pub track_groups: Vec<TrackGroup>,
    /// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }`.
    pub linkbeat_interfaces: Vec<LinkbeatInterface>,
    /// `interface_up_down_delays { IF down [up] }`.
    pub interface_up_down_delays: Vec<InterfaceUpDownDelay>,
    /// `garp_group { }`.
    pub garp_groups: Vec<GarpGroup>,
    /// `vrrp_sync_group NAME { }`.
    pub sync_groups: Vec<VrrpSyncGroup>,
    /// `vrrp_instance NAME { }`.
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `static_ipaddress { }`.
    pub static_ipaddress: Vec<VirtualIpAddress>,
    /// `static_routes { }`.
    pub static_routes: Vec<Route>,
    /// `static_rules { }`.
    pub static_rules: Vec<Rule>,
    /// `virtual_server_group NAME { }`.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server ... { }`.
    pub virtual_servers: Vec<VirtualServer>,
    /// `SSL { }`: the context for SSL_GET (None: keepalived builds a default context).
    pub ssl: Option<SslConfig>,
    /// `bfd_instance NAME`: recognised only; BFD is out of scope (the parser warns).
    pub bfd_instances: Vec<String>,
    /// `keepalived_rs { }`: keepalived-rs's own settings (keepalived warns about the
    /// block and skips it, so one file serves both).
    pub keepalived_rs: OwnSettings,
}

/// `keepalived_rs { metrics_listen [ADDR:]PORT; control_socket PATH; control_group NAME }`:
/// the same as the command-line options of those names, which win over them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnSettings {
    /// `metrics_listen`: serve metrics and the status page (127.0.0.1 unless an address
    /// is given).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `control_socket PATH`.
    pub control_socket: Option<String>,
    /// `control_group NAME`: may read the control socket, not change anything.
    pub control_group: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            net_namespace: None,
            net_namespace_ipvs: None,
            instance: None,
            use_pid_dir: false,
            child_wait_time: Duration::from_secs(5),
            linkbeat_use_polling: false,
            global: GlobalDefs::default(),
            vrrp_scripts: Vec::new(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
            track_groups: Vec::new(),
            linkbeat_interfaces: Vec::new(),
            interface_up_down_delays: Vec::new(),
            garp_groups: Vec::new(),
            sync_groups: Vec::new(),
            vrrp_instances: Vec::new(),
            static_ipaddress: Vec::new(),
            static_routes: Vec::new(),
            static_rules: Vec::new(),
            virtual_server_groups: Vec::new(),
            virtual_servers: Vec::new(),
            ssl: None,
            bfd_instances: Vec::new(),
            keepalived_rs: OwnSettings::default(),
        }
    }
}

impl Config {
    /// The `vrrp_script` named `name`.
    pub fn vrrp_script(&self, name: &str) -> Option<&VrrpScript> {
        self.vrrp_scripts.iter().find(|s| s.name == name)
    }

    /// The `vrrp_instance` named `name`.
    pub fn vrrp_instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.vrrp_instances.iter().find(|s| s.name == name)
    }

    /// Does this config need the VRRP child? (keepalived: any vrrp_instance.)
    pub fn has_vrrp(&self) -> bool {
        !self.vrrp_instances.is_empty()
    }

    /// Does this config need the checker child? (keepalived: any virtual_server.)
    pub fn has_checker(&self) -> bool {
        !self.virtual_servers.is_empty()
    }
}

/// A script to run, as keepalived writes it: `"path args" [user [:][group]]`.
///
/// `args[0]` is the program; the string was split on unquoted whitespace
/// (single quotes keep spaces).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Script {
    /// The command line split into argv.
    pub args: Vec<String>,
    /// Run as this user (None: `script_user` / the default script user).
    pub user: Option<String>,
    /// Run with this group.
    pub group: Option<String>,
}

impl Script {
    /// The command line as one string (for logs and dumps).
    pub fn command_line(&self) -> String {
        self.args.join(" ")
    }
}

/// `on|off|true|false|yes|no` parsing shared by the parser and tests.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_round_trips_through_json() {
        let c = Config::default();
        let s = serde_json::to_string(&c).expect("serialise");
        let back: Config = serde_json::from_str(&s).expect("deserialise");
        assert_eq!(c, back);
    }

    #[test]
    fn full_config_round_trips_through_json() {
        let mut c = Config::default();
        c.vrrp_instances.push(VrrpInstance::default());
        c.virtual_servers.push(VirtualServer::default());
        c.virtual_servers[0]
            .real_servers
            .push(RealServer::default());
        c.virtual_servers[0].real_servers[0]
            .checkers
            .push(Checker::default());
        let s = serde_json::to_string(&c).expect("serialise");
        let back: Config = serde_json::from_str(&s).expect("deserialise");
        assert_eq!(c, back);
    }

    #[test]
    fn bools() {
        assert_eq!(parse_bool("Yes"), Some(true));
        assert_eq!(parse_bool("off"), Some(false));
        assert_eq!(parse_bool("2"), None);
    }
}
