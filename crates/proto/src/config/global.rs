//! `global_defs { }`.

use super::Script;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// `smtp_server IP|NAME [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpServer {
    /// Address or host name, as written.
    pub host: String,
    /// Port (default 25).
    pub port: u16,
}

/// `lvs_sync_daemon IF [inst VI] [id N] [maxlen N] [port N] [ttl N] [group IP]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvsSyncDaemon {
    /// Interface.
    pub interface: String,
    /// The VRRP instance it follows.
    pub instance: Option<String>,
    /// `id` (None: the VRID of the instance it follows, as keepalived 2.2.7 and 2.4.3 use).
    pub sync_id: Option<u8>,
    /// `maxlen`.
    pub maxlen: Option<u16>,
    /// `port` (default 8848).
    pub port: u16,
    /// `ttl`.
    pub ttl: Option<u8>,
    /// `group` (default 224.0.0.81).
    pub group: Option<IpAddr>,
}

/// A FIFO and the script that reads it (`notify_fifo`, `vrrp_notify_fifo`, `lvs_notify_fifo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyFifo {
    /// The FIFO path.
    pub path: String,
    /// `*_notify_fifo_script`.
    pub script: Option<Script>,
}

/// Scheduling for one child: `{vrrp,checker,bfd}_{priority,no_swap,rt_priority,cpu_affinity,rlimit_rttime}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSched {
    /// `*_priority` (nice, -20..19).
    pub priority: Option<i32>,
    /// `*_no_swap`.
    pub no_swap: bool,
    /// `*_rt_priority` (SCHED_RR priority).
    pub rt_priority: Option<u32>,
    /// `*_cpu_affinity` CPU list.
    pub cpu_affinity: Vec<u32>,
    /// `*_rlimit_rttime` (µs; default 10000 when rt_priority is set).
    pub rlimit_rttime: Option<u64>,
}

/// `global_defs { }` with keepalived's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalDefs {
    /// `router_id` (None: the host name).
    pub router_id: Option<String>,
    /// `notification_email { }`.
    pub notification_email: Vec<String>,
    /// `notification_email_from` (None: `keepalived@HOST`).
    pub notification_email_from: Option<String>,
    /// `smtp_server`.
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name`.
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout` (30 s).
    pub smtp_connect_timeout: Duration,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker`.
    pub smtp_alert_checker: Option<bool>,
    /// `no_email_faults`.
    pub no_email_faults: bool,
    /// `checker_log_all_failures`.
    pub checker_log_all_failures: bool,
    /// `no_checker_emails`.
    pub no_checker_emails: bool,
    /// `vrrp_mcast_group4` (224.0.0.18).
    pub vrrp_mcast_group4: IpAddr,
    /// `vrrp_mcast_group6` (ff02::12).
    pub vrrp_mcast_group6: IpAddr,
    /// `vrrp_version` (2).
    pub vrrp_version: u8,
    /// `vrrp_garp_master_delay` (5 s).
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat` (5).
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh` (0: off).
    pub vrrp_garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat` (1).
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_lower_prio_delay` (None: master delay).
    pub vrrp_garp_lower_prio_delay: Option<Duration>,
    /// `vrrp_garp_lower_prio_repeat` (None: master repeat).
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_interval` (0).
    pub vrrp_garp_interval: Duration,
    /// `vrrp_gna_interval` (0).
    pub vrrp_gna_interval: Duration,
    /// `vrrp_min_garp`.
    pub vrrp_min_garp: bool,
    /// `vrrp_garp_extra_if [all] SECS`.
    pub vrrp_garp_extra_if: Option<Duration>,
    /// `vrrp_garp_extra_if all`.
    pub vrrp_garp_extra_if_all: bool,
    /// `vrrp_down_timer_adverts` (3, 1..100).
    pub vrrp_down_timer_adverts: u32,
    /// `vrrp_lower_prio_no_advert`.
    pub vrrp_lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert`.
    pub vrrp_higher_prio_send_advert: bool,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_check_unicast_src`.
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_owner_ignore_adverts`.
    pub vrrp_owner_ignore_adverts: bool,
    /// `v3_checksum_as_v2`.
    pub v3_checksum_as_v2: bool,
    /// `vrrp_iptables [IN [OUT]]` as written (None: not given).
    pub vrrp_iptables: Option<Vec<String>>,
    /// `vrrp_ipsets ...` as written.
    pub vrrp_ipsets: Option<Vec<String>>,
    /// `nftables [TABLE]` (Some("keepalived") when given without a name).
    pub nftables: Option<String>,
    /// `nftables_priority` (-1).
    pub nftables_priority: i32,
    /// `nftables_counters`.
    pub nftables_counters: bool,
    /// `nftables_ifindex`.
    pub nftables_ifindex: bool,
    /// `nftables_ipvs`.
    pub nftables_ipvs: bool,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<(String, Option<String>)>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `startup_script`.
    pub startup_script: Option<Script>,
    /// `startup_script_timeout` (10 s, 1..1000).
    pub startup_script_timeout: Duration,
    /// `shutdown_script`.
    pub shutdown_script: Option<Script>,
    /// `shutdown_script_timeout` (10 s, 1..1000).
    pub shutdown_script_timeout: Duration,
    /// `max_auto_priority [-1..99]` (0: off; None: not given).
    pub max_auto_priority: Option<i32>,
    /// `min_auto_priority_delay` (1 s).
    pub min_auto_priority_delay: Duration,
    /// VRRP child scheduling.
    pub vrrp_sched: ProcessSched,
    /// Checker child scheduling.
    pub checker_sched: ProcessSched,
    /// BFD child scheduling.
    pub bfd_sched: ProcessSched,
    /// `notify_fifo`.
    pub notify_fifo: Option<NotifyFifo>,
    /// `vrrp_notify_fifo`.
    pub vrrp_notify_fifo: Option<NotifyFifo>,
    /// `lvs_notify_fifo`.
    pub lvs_notify_fifo: Option<NotifyFifo>,
    /// `vrrp_notify_priority_changes`.
    pub vrrp_notify_priority_changes: bool,
    /// `fifo_write_vrrp_states_on_reload`.
    pub fifo_write_vrrp_states_on_reload: bool,
    /// `lvs_sync_daemon`.
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `lvs_timeouts tcp N tcpfin N udp N` (None where not given).
    pub lvs_timeouts: (Option<Duration>, Option<Duration>, Option<Duration>),
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop [VS]` (None: no; Some(false): all; Some(true): only our VSs).
    pub lvs_flush_on_stop: Option<bool>,
    /// `dynamic_interfaces`.
    pub dynamic_interfaces: bool,
    /// `dynamic_interfaces allow_if_changes`.
    pub allow_if_changes: bool,
    /// `vrrp_startup_delay`.
    pub vrrp_startup_delay: Duration,
    /// `vrrp_delay_after_boot`.
    pub vrrp_delay_after_boot: Duration,
    /// `vmac_prefix` ("vrrp").
    pub vmac_prefix: String,
    /// `vmac_addr_prefix`.
    pub vmac_addr_prefix: Option<String>,
    /// `default_interface` ("eth0").
    pub default_interface: String,
    /// `umask`.
    pub umask: Option<u32>,
    /// `random_seed`.
    pub random_seed: Option<u32>,
    /// `reload_check_config [LOG]` (Some(None): check without a log file).
    pub reload_check_config: Option<Option<String>>,
    /// `reload_time_file`.
    pub reload_time_file: Option<String>,
    /// `reload_repeat`.
    pub reload_repeat: bool,
    /// `reload_file`.
    pub reload_file: Option<String>,
    /// `config_save_dir`.
    pub config_save_dir: Option<String>,
    /// `tmp_config_directory`.
    pub tmp_config_directory: Option<String>,
    /// `data_use_instance`.
    pub data_use_instance: bool,
    /// `state_dump_file`.
    pub state_dump_file: Option<String>,
    /// `stats_dump_file`.
    pub stats_dump_file: Option<String>,
    /// `json_dump_file`.
    pub json_dump_file: Option<String>,
    /// `json_version` (1).
    pub json_version: u8,
    /// `log_unknown_vrids`.
    pub log_unknown_vrids: bool,
    /// `vrrp_rx_bufs_multiplier` (3).
    pub vrrp_rx_bufs_multiplier: u32,
    /// `enable_snmp_*`, `enable_traps`, `enable_dbus`: names of the switches given.
    pub enabled_features: Vec<String>,
    /// `rs_init_notifies`: notify for real servers that start up alive (the checker).
    pub rs_init_notifies: bool,
    /// Every other recognised keyword (tuning knobs such as the netlink buffer sizes),
    /// with its arguments as written. Nothing reads them at run time: a keyword a
    /// process acts on gets a typed field, parsed once when the configuration is read.
    pub other: BTreeMap<String, Vec<String>>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            no_email_faults: false,
            checker_log_all_failures: false,
            no_checker_emails: false,
            vrrp_mcast_group4: IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 18)),
            vrrp_mcast_group6: IpAddr::V6(std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
            vrrp_version: 2,
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_lower_prio_delay: None,
            vrrp_garp_lower_prio_repeat: None,
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_min_garp: false,
            vrrp_garp_extra_if: None,
            vrrp_garp_extra_if_all: false,
            vrrp_down_timer_adverts: 3,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_strict: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_check_unicast_src: false,
            vrrp_owner_ignore_adverts: false,
            v3_checksum_as_v2: false,
            vrrp_iptables: None,
            vrrp_ipsets: None,
            nftables: None,
            nftables_priority: -1,
            nftables_counters: false,
            nftables_ifindex: false,
            nftables_ipvs: false,
            script_user: None,
            enable_script_security: false,
            startup_script: None,
            startup_script_timeout: Duration::from_secs(10),
            shutdown_script: None,
            shutdown_script_timeout: Duration::from_secs(10),
            max_auto_priority: None,
            min_auto_priority_delay: Duration::from_secs(1),
            vrrp_sched: ProcessSched::default(),
            checker_sched: ProcessSched::default(),
            bfd_sched: ProcessSched::default(),
            notify_fifo: None,
            vrrp_notify_fifo: None,
            lvs_notify_fifo: None,
            vrrp_notify_priority_changes: false,
            fifo_write_vrrp_states_on_reload: false,
            lvs_sync_daemon: None,
            lvs_timeouts: (None, None, None),
            lvs_flush: false,
            lvs_flush_on_stop: None,
            dynamic_interfaces: false,
            allow_if_changes: false,
            vrrp_startup_delay: Duration::ZERO,
            vrrp_delay_after_boot: Duration::ZERO,
            vmac_prefix: "vrrp".to_string(),
            vmac_addr_prefix: None,
            default_interface: "eth0".to_string(),
            umask: None,
            random_seed: None,
            reload_check_config: None,
            reload_time_file: None,
            reload_repeat: false,
            reload_file: None,
            config_save_dir: None,
            tmp_config_directory: None,
            data_use_instance: false,
            state_dump_file: None,
            stats_dump_file: None,
            json_dump_file: None,
            json_version: 1,
            log_unknown_vrids: false,
            vrrp_rx_bufs_multiplier: 3,
            rs_init_notifies: false,
            enabled_features: Vec::new(),
            other: BTreeMap::new(),
        }
    }
}
