//! `global_defs { }`.

use super::values::{keep, Ctx};
use crate::conf::tree::Node;
use ka_proto::config::global::{LvsSyncDaemon, NotifyFifo, ProcessSched, SmtpServer};
use ka_proto::config::GlobalDefs;
use std::time::Duration;

/// keepalived 2.2.7 global_defs keywords that the model keeps only as written (`other`).
const OTHER: &[&str] = &[
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "vrrp_rx_bufs_policy",
    "snmp_socket",
    "dbus_service_name",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "vrrp_iptables_nf_table",
    "instance",
    "bfd_notify_fifo",
    "bfd_notify_fifo_script",
    "checker_process_name",
    "vrrp_process_name",
    "bfd_process_name",
    "lvs_process_name",
    "process_names",
    "vrrp_vmac_garp_intvl",
    "disable_local_igmp",
    "script_security",
    "uid",
    "gid",
    "vrrp_no_swap",
    // keepalived 2.4.x (unknown to 2.2.7).
    "use_symlink_paths",
    "iproute_etc_dir",
    "iproute_usr_dir",
    "checker_no_swap",
    "bfd_no_swap",
    "vrrp_startup_delay",
    "log_file",
    "no_checker_emails",
    "vrrp_garp_extra_if",
    "vrrp_skip_check_adv_addr",
    "vrrp_iptables_mod",
    "include_check",
    "smtp_alert_bfd",
    "enable_snmp_keepalived",
];

/// What keepalived (2.2.7 and 2.4.3) says of a keyword kept only as written (`-t` then
/// exits 5): a buffer size or policy without a value, the old name of
/// `vrrp_garp_extra_if`.
fn said_of_other(kw: &str, k: &Node) -> Option<Vec<String>> {
    let bare = k.args().is_empty();
    match kw {
        "vrrp_netlink_cmd_rcv_bufs"
        | "vrrp_netlink_monitor_rcv_bufs"
        | "lvs_netlink_cmd_rcv_bufs"
        | "lvs_netlink_monitor_rcv_bufs"
        | "process_monitor_rcv_bufs"
            if bare =>
        {
            Some(vec![format!("{kw} size missing")])
        }
        "vrrp_rx_bufs_policy" if bare => Some(vec!["vrrp_rx_bufs_policy missing".into()]),
        "vrrp_vmac_garp_intvl" => {
            let mut m = vec![
                "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\""
                    .to_string(),
            ];
            if bare {
                m.push("vrrp_vmac_garp_intvl specified without time - ignoring".into());
            }
            Some(m)
        }
        _ => None,
    }
}

/// Fill `g` from the `global_defs` block `n`.
pub fn global_defs(ctx: &mut Ctx, n: &Node, g: &mut GlobalDefs) {
    for k in n.block() {
        let kw = k.keyword();
        match kw {
            "router_id" => keep(&mut g.router_id, ctx.str_arg(k, 0)),
            "notification_email" => {
                for e in k.block() {
                    g.notification_email
                        .extend(e.words.iter().map(|w| w.text.to_string()));
                }
                g.notification_email
                    .extend(k.args().iter().map(|w| w.text.to_string()));
            }
            "notification_email_from" => keep(&mut g.notification_email_from, ctx.str_arg(k, 0)),
            "smtp_server" => {
                if let Some(host) = ctx.str_arg(k, 0) {
                    let port = if k.arg(1).is_some() {
                        ctx.port(k, 1).unwrap_or(25)
                    } else {
                        25
                    };
                    if host.parse::<std::net::IpAddr>().is_err() {
                        // keepalived resolves the name; -t reports a name it cannot resolve.
                        let resolvable =
                            std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
                                .map(|mut a| a.next().is_some())
                                .unwrap_or(false);
                        if !resolvable {
                            ctx.warn(
                                k.words[1].loc,
                                format!("smtp_server '{host}' cannot be resolved"),
                            );
                        }
                    }
                    g.smtp_server = Some(SmtpServer { host, port });
                }
            }
            // No value: accepted silently, as keepalived does.
            "smtp_helo_name" => keep(&mut g.smtp_helo_name, k.arg(0).map(|w| w.text.to_string())),
            "smtp_connect_timeout" => {
                if let Some(v) = ctx.uint(k, 0, 1, u32::MAX as u64) {
                    g.smtp_connect_timeout = Duration::from_secs(v);
                }
            }
            "smtp_alert" => ctx.set_flag_opt(k, &mut g.smtp_alert),
            "smtp_alert_vrrp" => ctx.set_flag_opt(k, &mut g.smtp_alert_vrrp),
            "smtp_alert_checker" => ctx.set_flag_opt(k, &mut g.smtp_alert_checker),
            "no_email_faults" => g.no_email_faults = true,
            "checker_log_all_failures" => ctx.set_flag(k, &mut g.checker_log_all_failures),
            "vrrp_mcast_group4" => {
                g.vrrp_mcast_group4 = mcast_group(ctx, k, 4).unwrap_or(g.vrrp_mcast_group4)
            }
            "vrrp_mcast_group6" => {
                g.vrrp_mcast_group6 = mcast_group(ctx, k, 6).unwrap_or(g.vrrp_mcast_group6)
            }
            "vrrp_version" => {
                if let Some(v) = ctx.uint(k, 0, 2, 3) {
                    g.vrrp_version = v as u8;
                }
            }
            "vrrp_garp_master_delay" => set_secs(ctx, k, 0, 65535, &mut g.vrrp_garp_master_delay),
            // Read leniently; 0 (or what reads as 0) is 1, with a warning (keepalived
            // 2.2.7 and 2.4.3).
            "vrrp_garp_master_repeat" | "vrrp_garp_master_refresh_repeat" => {
                if let Some(n) = ctx.uint_lenient(k, 0, 0, 65535) {
                    let n = if n == 0 {
                        ctx.warn(
                            k.loc,
                            format!("{} must be greater than 0, setting to 1", k.keyword()),
                        );
                        1
                    } else {
                        n as u32
                    };
                    if k.keyword() == "vrrp_garp_master_repeat" {
                        g.vrrp_garp_master_repeat = n;
                    } else {
                        g.vrrp_garp_master_refresh_repeat = n;
                    }
                }
            }
            "vrrp_garp_master_refresh" => {
                set_secs(ctx, k, 0, 65535, &mut g.vrrp_garp_master_refresh)
            }
            "vrrp_garp_lower_prio_delay" => {
                if let Some(v) = ctx.uint(k, 0, 0, 65535) {
                    g.vrrp_garp_lower_prio_delay = Some(Duration::from_secs(v));
                }
            }
            "vrrp_garp_lower_prio_repeat" => {
                if let Some(v) = ctx.uint(k, 0, 0, 65535) {
                    g.vrrp_garp_lower_prio_repeat = Some(v as u32);
                }
            }
            // 0.000001..4294.967295 s, as in keepalived (0 is refused and the
            // setting left as it was).
            "vrrp_garp_interval" => {
                if let Some(v) = ctx.timer_lenient(k, 0, 0.000001, 4294.967295) {
                    g.vrrp_garp_interval = v;
                }
            }
            // 0.000001..4294.967295 s, as in keepalived (0 is refused and the
            // setting left as it was).
            "vrrp_gna_interval" => {
                if let Some(v) = ctx.timer_lenient(k, 0, 0.000001, 4294.967295) {
                    g.vrrp_gna_interval = v;
                }
            }
            "vrrp_min_garp" => ctx.set_flag(k, &mut g.vrrp_min_garp),
            "vrrp_down_timer_adverts" => set_u32(ctx, k, 1, 100, &mut g.vrrp_down_timer_adverts),
            "vrrp_lower_prio_no_advert" => ctx.set_flag(k, &mut g.vrrp_lower_prio_no_advert),
            "vrrp_higher_prio_send_advert" => ctx.set_flag(k, &mut g.vrrp_higher_prio_send_advert),
            // 2.4.3 reads the optional boolean (2.2.7 ignored it: `vrrp_strict off` was on).
            "vrrp_strict" => {
                if let Some(b) = ctx.flag(k) {
                    g.vrrp_strict = b;
                }
            }
            "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = true,
            "vrrp_owner_ignore_adverts" => g.vrrp_owner_ignore_adverts = true,
            "v3_checksum_as_v2" => g.v3_checksum_as_v2 = true,
            "vrrp_iptables" | "vrrp_ipsets" => {
                // As keepalived's nftables builds (Debian's 2.2.7, 2.4.3) say it.
                ctx.warn(
                    k.loc,
                    "iptables not supported, using nftables instead. Please replace \
                     'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
                );
                if k.keyword() == "vrrp_iptables" {
                    g.vrrp_iptables = Some(words(k));
                } else {
                    g.vrrp_ipsets = Some(words(k));
                }
            }
            "nftables" => {
                g.nftables = Some(k.arg(0).map_or("keepalived".into(), |w| w.text.to_string()))
            }
            "nftables_priority" => {
                if let Some(v) = ctx.int(k, 0, -1000, 1000) {
                    g.nftables_priority = v as i32;
                }
            }
            "nftables_counters" => g.nftables_counters = true,
            "nftables_ifindex" => g.nftables_ifindex = true,
            "nftables_ipvs" => g.nftables_ipvs = true,
            "script_user" => {
                if let Some(u) = ctx.str_arg(k, 0) {
                    let grp = k.arg(1).map(|w| w.text.trim_start_matches(':').to_string());
                    g.script_user = Some((u, grp));
                }
            }
            "enable_script_security" => g.enable_script_security = true,
            "startup_script" => keep(&mut g.startup_script, ctx.script(k, false)),
            "shutdown_script" => keep(&mut g.shutdown_script, ctx.script(k, false)),
            "startup_script_timeout" => set_secs(ctx, k, 1, 1000, &mut g.startup_script_timeout),
            "shutdown_script_timeout" => set_secs(ctx, k, 1, 1000, &mut g.shutdown_script_timeout),
            "max_auto_priority" => {
                g.max_auto_priority = match k.arg(0) {
                    None => Some(99),
                    Some(_) => ctx.int(k, 0, -1, 99).map(|v| v as i32),
                }
            }
            "min_auto_priority_delay" => {
                if let Some(v) = ctx.uint(k, 0, 0, u32::MAX as u64) {
                    g.min_auto_priority_delay = Duration::from_micros(v);
                }
            }
            "notify_fifo" => fifo(ctx, k, &mut g.notify_fifo),
            "vrrp_notify_fifo" => fifo(ctx, k, &mut g.vrrp_notify_fifo),
            "lvs_notify_fifo" => fifo(ctx, k, &mut g.lvs_notify_fifo),
            "notify_fifo_script" => fifo_script(ctx, k, &mut g.notify_fifo),
            "vrrp_notify_fifo_script" => fifo_script(ctx, k, &mut g.vrrp_notify_fifo),
            "lvs_notify_fifo_script" => fifo_script(ctx, k, &mut g.lvs_notify_fifo),
            "vrrp_notify_priority_changes" => ctx.set_flag(k, &mut g.vrrp_notify_priority_changes),
            "fifo_write_vrrp_states_on_reload" => g.fifo_write_vrrp_states_on_reload = true,
            "lvs_sync_daemon" => g.lvs_sync_daemon = sync_daemon(ctx, k),
            "lvs_timeouts" => lvs_timeouts(ctx, k, g),
            "lvs_flush" => g.lvs_flush = true,
            // `lvs_flush_onstop` is the older spelling; keepalived 2.4.3 applies both.
            "lvs_flush_on_stop" | "lvs_flush_onstop" => {
                g.lvs_flush_on_stop = Some(k.arg(0).is_some_and(|w| w.text == "VS"));
            }
            "dynamic_interfaces" => {
                g.dynamic_interfaces = true;
                g.allow_if_changes = k.arg(0).is_some_and(|w| w.text == "allow_if_changes");
            }
            "vrrp_delay_after_boot" => {
                set_secs(ctx, k, 0, u32::MAX as u64, &mut g.vrrp_delay_after_boot)
            }
            "vmac_prefix" => ctx.set_str(k, 0, &mut g.vmac_prefix),
            "vmac_addr_prefix" => keep(&mut g.vmac_addr_prefix, ctx.str_arg(k, 0)),
            "default_interface" => ctx.set_str(k, 0, &mut g.default_interface),
            "umask" => {
                if let Some(s) = ctx.need(k, 0) {
                    match u32::from_str_radix(s.trim_start_matches('0'), 8).or_else(|e| {
                        if s.chars().all(|c| c == '0') {
                            Ok(0)
                        } else {
                            Err(e)
                        }
                    }) {
                        Ok(v) if v <= 0o777 => g.umask = Some(v),
                        _ => ctx.warn(k.words[1].loc, format!("umask: invalid value '{s}'")),
                    }
                }
            }
            "random_seed" => keep(
                &mut g.random_seed,
                ctx.uint(k, 0, 0, u32::MAX as u64).map(|v| v as u32),
            ),
            "reload_check_config" => {
                g.reload_check_config = Some(k.arg(0).map(|w| w.text.to_string()))
            }
            "reload_time_file" => keep(&mut g.reload_time_file, ctx.str_arg(k, 0)),
            "reload_repeat" => g.reload_repeat = true,
            "reload_file" => {
                g.reload_file = Some(
                    k.arg(0)
                        .map_or("/run/keepalived/keepalived.reload".into(), |w| {
                            w.text.to_string()
                        }),
                )
            }
            "config_save_dir" => keep(&mut g.config_save_dir, ctx.str_arg(k, 0)),
            "tmp_config_directory" => keep(&mut g.tmp_config_directory, ctx.str_arg(k, 0)),
            "data_use_instance" => g.data_use_instance = true,
            "state_dump_file" => keep(&mut g.state_dump_file, ctx.str_arg(k, 0)),
            "stats_dump_file" => keep(&mut g.stats_dump_file, ctx.str_arg(k, 0)),
            "json_dump_file" => keep(&mut g.json_dump_file, ctx.str_arg(k, 0)),
            "json_version" => {
                if let Some(v) = ctx.uint(k, 0, 1, 2) {
                    g.json_version = v as u8;
                }
            }
            "log_unknown_vrids" => g.log_unknown_vrids = true,
            "vrrp_rx_bufs_multiplier" => {
                set_u32(ctx, k, 1, u32::MAX as u64, &mut g.vrrp_rx_bufs_multiplier)
            }
            "enable_snmp_vrrp"
            | "enable_snmp_checker"
            | "enable_snmp_rfc"
            | "enable_snmp_rfcv2"
            | "enable_snmp_rfcv3"
            | "enable_traps"
            | "enable_dbus"
            | "enable_snmp_keepalived" => g.enabled_features.push(kw.to_string()),
            "vrrp_priority" | "checker_priority" | "bfd_priority" => {
                if let Some(v) = ctx.int(k, 0, -20, 19) {
                    sched(g, kw).priority = Some(v as i32);
                }
            }
            "vrrp_rt_priority" | "checker_rt_priority" | "bfd_rt_priority" => {
                if let Some(v) = ctx.uint(k, 0, 1, 99) {
                    sched(g, kw).rt_priority = Some(v as u32);
                }
            }
            "vrrp_rlimit_rtime"
            | "checker_rlimit_rtime"
            | "bfd_rlimit_rtime"
            | "vrrp_rlimit_rttime"
            | "checker_rlimit_rttime"
            | "bfd_rlimit_rttime" => {
                if let Some(v) = ctx.uint(k, 0, 1, u32::MAX as u64) {
                    sched(g, kw).rlimit_rttime = Some(v);
                }
            }
            "vrrp_cpu_affinity" | "checker_cpu_affinity" | "bfd_cpu_affinity" => {
                if k.args().is_empty() {
                    let process = kw.trim_end_matches("_cpu_affinity");
                    ctx.warn(k.loc, format!("No {process} cpu_id set specified"));
                }
                let mut cpus = Vec::new();
                for w in k.args() {
                    match w.text.parse::<u32>() {
                        Ok(c) => cpus.push(c),
                        Err(_) => {
                            ctx.warn(w.loc, format!("{kw}: '{}' is not a CPU number", w.text))
                        }
                    }
                }
                sched(g, kw).cpu_affinity = cpus;
            }
            "vrrp_no_swap" | "checker_no_swap" | "bfd_no_swap" => sched(g, kw).no_swap = true,
            "vrrp_skip_check_adv_addr" => ctx.set_flag(k, &mut g.vrrp_skip_check_adv_addr),
            "vrrp_startup_delay" => set_secs(ctx, k, 0, u32::MAX as u64, &mut g.vrrp_startup_delay),
            "vrrp_garp_extra_if" => {
                let mut i = 0;
                if k.arg(0).is_some_and(|w| w.text == "all") {
                    g.vrrp_garp_extra_if_all = true;
                    i = 1;
                }
                if let Some(v) = ctx.uint(k, i, 0, 86400) {
                    g.vrrp_garp_extra_if = Some(Duration::from_secs(v));
                }
            }
            "no_checker_emails" => g.no_checker_emails = true,
            "rs_init_notifies" => ctx.set_flag(k, &mut g.rs_init_notifies),
            _ if OTHER.contains(&kw) => {
                if let Some(m) = said_of_other(kw, k) {
                    for line in m {
                        ctx.warn(k.loc, line);
                    }
                }
                g.other.insert(kw.to_string(), words(k));
            }
            _ => ctx.unknown(k),
        }
    }
    // A `*_script` without its FIFO is unused (as keepalived).
    for f in [
        &mut g.notify_fifo,
        &mut g.vrrp_notify_fifo,
        &mut g.lvs_notify_fifo,
    ] {
        if f.as_ref().is_some_and(|f| f.path.is_empty()) {
            *f = None;
        }
    }
}

fn sched<'g>(g: &'g mut GlobalDefs, kw: &str) -> &'g mut ProcessSched {
    if kw.starts_with("vrrp") {
        &mut g.vrrp_sched
    } else if kw.starts_with("checker") {
        &mut g.checker_sched
    } else {
        &mut g.bfd_sched
    }
}

fn words(k: &Node) -> Vec<String> {
    k.args().iter().map(|w| w.text.to_string()).collect()
}

/// Whole seconds / a count, read leniently as keepalived reads these global keywords
/// (see [`Ctx::uint_lenient`]); left as it was when refused.
fn set_secs(ctx: &mut Ctx, k: &Node, min: u64, max: u64, out: &mut Duration) {
    if let Some(v) = ctx.uint_lenient(k, 0, min, max) {
        *out = Duration::from_secs(v);
    }
}

fn set_u32(ctx: &mut Ctx, k: &Node, min: u64, max: u64, out: &mut u32) {
    if let Some(v) = ctx.uint_lenient(k, 0, min, max) {
        *out = v as u32;
    }
}

/// `*notify_fifo PATH`: sets the path, keeping a `*_script` given before it.
fn fifo(ctx: &mut Ctx, k: &Node, f: &mut Option<NotifyFifo>) {
    if let Some(path) = ctx.str_arg(k, 0) {
        f.get_or_insert_with(NotifyFifo::default).path = path;
    }
}

/// `*notify_fifo_script CMD [USER [GROUP]]` (the FIFO path is its last argument when run);
/// without a `*notify_fifo` it stays unused (empty path).
fn fifo_script(ctx: &mut Ctx, k: &Node, f: &mut Option<NotifyFifo>) {
    if let Some(s) = ctx.script(k, false) {
        f.get_or_insert_with(NotifyFifo::default).script = Some(s);
    }
}

/// `vrrp_mcast_group4|6 ADDR`: an IPv`v` multicast address (None, with a warning, for
/// any other).
fn mcast_group(ctx: &mut Ctx, k: &Node, v: u8) -> Option<std::net::IpAddr> {
    let a = ctx.ip(k, 0)?;
    if a.is_multicast() && a.is_ipv6() == (v == 6) {
        return Some(a);
    }
    let what = format!("{}: expected an IPv{v} multicast address", k.keyword());
    ctx.warn(k.words[1].loc, what);
    None
}

fn sync_daemon(ctx: &mut Ctx, k: &Node) -> Option<LvsSyncDaemon> {
    let interface = ctx.str_arg(k, 0)?;
    let mut d = LvsSyncDaemon {
        interface,
        instance: None,
        sync_id: None,
        maxlen: None,
        port: 8848,
        ttl: None,
        group: None,
    };
    let mut i = 1;
    // The second word may be the instance name without `inst`.
    while let Some(w) = k.arg(i) {
        match w.text {
            "inst" => {
                d.instance = ctx.str_arg(k, i + 1);
                i += 2;
            }
            "id" => {
                d.sync_id = Some(ctx.uint(k, i + 1, 0, 255).unwrap_or(0) as u8);
                i += 2;
            }
            "maxlen" => {
                d.maxlen = ctx.uint(k, i + 1, 1, 65535 - 20 - 8).map(|v| v as u16);
                i += 2;
            }
            "port" => {
                d.port = ctx.port(k, i + 1).unwrap_or(8848);
                i += 2;
            }
            "ttl" => {
                d.ttl = ctx.uint(k, i + 1, 1, 255).map(|v| v as u8);
                i += 2;
            }
            "group" => {
                d.group = ctx.ip(k, i + 1);
                i += 2;
            }
            other if i == 1 => {
                d.instance = Some(other.to_string());
                i += 1;
            }
            other => {
                ctx.warn(w.loc, format!("lvs_sync_daemon: unknown option '{other}'"));
                i += 1;
            }
        }
    }
    Some(d)
}

fn lvs_timeouts(ctx: &mut Ctx, k: &Node, g: &mut GlobalDefs) {
    if k.args().is_empty() {
        ctx.warn(k.loc, "lvs_timeouts requires at least one option");
    }
    let mut i = 0;
    while let Some(w) = k.arg(i) {
        let name = w.text.to_string();
        let v = ctx.uint(k, i + 1, 0, 86400 * 31).map(Duration::from_secs);
        match name.as_str() {
            "tcp" => g.lvs_timeouts.0 = v,
            "tcpfin" => g.lvs_timeouts.1 = v,
            "udp" => g.lvs_timeouts.2 = v,
            _ => ctx.warn(w.loc, format!("lvs_timeouts: unknown timeout '{name}'")),
        }
        i += 2;
    }
}
