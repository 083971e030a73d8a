//! keepalived.data's "Global definitions" section, in keepalived 2.4.3's lines (observed:
//! its SIGUSR1 dump with the defaults and with most keywords set), for the `global_defs`
//! keywords keepalived-rs reads. Lines about what keepalived-rs does not have are left
//! out: `use_symlink_paths` ("Replace symlinks in script paths", "keep script symlinks"),
//! the libnftnl version, the iproute directories, the CPU affinity and the "current
//! realtime" state of the process.

use super::*;
use ka_proto::config::global::ProcessSched;
use ka_proto::config::Config;

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn alert(a: Option<bool>) -> &'static str {
    match a {
        None => "unset",
        Some(true) => "on",
        Some(false) => "off",
    }
}

/// A `global_defs` keyword kept as written (`other`): its first value, else 0.
fn other_value(cfg: &Config, kw: &str) -> String {
    cfg.global
        .other
        .get(kw)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_else(|| "0".into())
}

fn sched_lines(s: &mut String, who: &str, p: &ProcessSched) {
    let _ = writeln!(s, " {who} process priority = {}", p.priority.unwrap_or(0));
    let _ = writeln!(s, " {who} don't swap = {}", p.no_swap);
    let _ = writeln!(
        s,
        " {who} realtime priority = {}",
        p.rt_priority.unwrap_or(0)
    );
    let _ = writeln!(
        s,
        " {who} realtime limit = {}",
        p.rlimit_rttime.unwrap_or(10_000)
    );
}

/// The section, title included.
pub fn global_section(cfg: &Config) -> String {
    let g = &cfg.global;
    let mut s = String::new();
    let _ = writeln!(s, "------< Global definitions >------");
    let _ = writeln!(
        s,
        " Network namespace = {}",
        cfg.net_namespace.as_deref().unwrap_or("(default)")
    );
    let _ = writeln!(
        s,
        " Network namespace ipvs = {}",
        cfg.net_namespace_ipvs
            .as_deref()
            .unwrap_or("(main namespace)")
    );
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default();
    let _ = writeln!(
        s,
        " Router ID = {}",
        g.router_id.as_deref().unwrap_or(&host)
    );
    let _ = writeln!(s, " Default smtp_alert = {}", alert(g.smtp_alert));
    let _ = writeln!(s, " Default smtp_alert_vrrp = {}", alert(g.smtp_alert_vrrp));
    let _ = writeln!(
        s,
        " Default smtp_alert_checker = {}",
        alert(g.smtp_alert_checker)
    );
    let _ = writeln!(
        s,
        " Checkers log all failures = {}",
        g.checker_log_all_failures
    );
    match &g.reload_check_config {
        None => {
            let _ = writeln!(s, " No test config before reload");
        }
        Some(Some(f)) => {
            let _ = writeln!(s, " Test config before reload, log to {f}");
        }
        Some(None) => {
            let _ = writeln!(s, " Test config before reload");
        }
    }
    let _ = writeln!(s, " Dynamic interfaces = {}", g.dynamic_interfaces);
    if g.dynamic_interfaces {
        let _ = writeln!(s, " Allow interface changes = {}", g.allow_if_changes);
    }
    let _ = writeln!(s, " Default interface = {}", g.default_interface);
    let _ = writeln!(
        s,
        " Disable local IGMP = {}",
        yes_no(g.other.contains_key("disable_local_igmp"))
    );
    let _ = writeln!(
        s,
        " Use VRRPv2 checksum for VRRPv3 IPv4 = {}",
        yes_no(g.v3_checksum_as_v2)
    );
    let _ = writeln!(s, " LVS flush = {}", g.lvs_flush);
    let onstop = match (g.lvs_flush_on_stop, g.other.get("lvs_flush_onstop")) {
        (Some(true), _) => "VS",
        (Some(false), _) => "full",
        (None, Some(v)) if v.first().is_some_and(|w| w == "VS") => "VS",
        (None, Some(_)) => "full",
        (None, None) => "disabled",
    };
    let _ = writeln!(s, " LVS flush on stop = {onstop}");
    let _ = writeln!(
        s,
        " FIFO write vrrp states on reload = {}",
        g.fifo_write_vrrp_states_on_reload
    );
    let _ = writeln!(
        s,
        " VRRP notify priority changes = {}",
        g.vrrp_notify_priority_changes
    );
    let _ = writeln!(s, " VRRP IPv4 mcast group = {}", g.vrrp_mcast_group4);
    let _ = writeln!(s, " VRRP IPv6 mcast group = {}", g.vrrp_mcast_group6);
    let delay = g.vrrp_garp_master_delay.as_secs();
    let _ = writeln!(s, " Gratuitous ARP delay = {delay}");
    let _ = writeln!(s, " Gratuitous ARP repeat = {}", g.vrrp_garp_master_repeat);
    let _ = writeln!(
        s,
        " Gratuitous ARP refresh timer = {}",
        g.vrrp_garp_master_refresh.as_secs()
    );
    let _ = writeln!(
        s,
        " Gratuitous ARP refresh repeat = {}",
        g.vrrp_garp_master_refresh_repeat
    );
    let _ = writeln!(
        s,
        " Gratuitous ARP lower priority delay = {}",
        g.vrrp_garp_lower_prio_delay.map_or(delay, |d| d.as_secs())
    );
    let _ = writeln!(
        s,
        " Gratuitous ARP lower priority repeat = {}",
        g.vrrp_garp_lower_prio_repeat
            .unwrap_or(g.vrrp_garp_master_repeat)
    );
    let _ = writeln!(
        s,
        " Num adverts before down = {}",
        g.vrrp_down_timer_adverts
    );
    let _ = writeln!(
        s,
        " Gratuitous ARP for each secondary {} = {}s",
        if g.vrrp_garp_extra_if_all {
            "i/f"
        } else {
            "VMAC"
        },
        g.vrrp_garp_extra_if.map_or(0, |d| d.as_secs())
    );
    let _ = writeln!(
        s,
        " Send advert after receive lower priority advert = {}",
        !g.vrrp_lower_prio_no_advert
    );
    let _ = writeln!(
        s,
        " Send advert after receive higher priority advert = {}",
        g.vrrp_higher_prio_send_advert
    );
    let _ = writeln!(
        s,
        " Gratuitous ARP interval = {:.6}",
        g.vrrp_garp_interval.as_secs_f64()
    );
    let _ = writeln!(
        s,
        " Gratuitous NA interval = {:.6}",
        g.vrrp_gna_interval.as_secs_f64()
    );
    let _ = writeln!(s, " VRRP default protocol version = {}", g.vrrp_version);
    // keepalived sets its nftables up (and lists them) when configured, and for the
    // instances that need rules: without `accept` (`vrrp_strict`, `strict_mode`,
    // `no_accept`) or with a VMAC (observed with vrrp_strict and with use_vmac).
    let nft_needed = cfg.global.vrrp_strict
        || cfg
            .vrrp_instances
            .iter()
            .any(|vi| vi.strict_mode || vi.accept == Some(false) || vi.use_vmac.is_some());
    let table = g.nftables.as_deref().or(nft_needed.then_some("keepalived"));
    if let Some(table) = table {
        let _ = writeln!(s, " nftables table name = {table}");
        let _ = writeln!(s, " nftables base chain priority = {}", g.nftables_priority);
        let _ = writeln!(
            s,
            " nftables {}force use ifindex for link local IPv6",
            if g.nftables_ifindex { "" } else { "don't " }
        );
    }
    let _ = writeln!(
        s,
        " nftables with{} counters",
        if g.nftables_counters { "" } else { "out" }
    );
    let _ = writeln!(s, " VRRP check unicast_src = {}", g.vrrp_check_unicast_src);
    let _ = writeln!(
        s,
        " VRRP skip check advert addresses = {}",
        g.vrrp_skip_check_adv_addr
    );
    let _ = writeln!(s, " VRRP strict mode = {}", g.vrrp_strict);
    let _ = writeln!(
        s,
        " Max auto priority = {}",
        g.max_auto_priority.unwrap_or(0)
    );
    let _ = writeln!(
        s,
        " Min auto priority delay = {} usecs",
        g.min_auto_priority_delay.as_micros()
    );
    sched_lines(&mut s, "VRRP", &g.vrrp_sched);
    sched_lines(&mut s, "Checker", &g.checker_sched);
    let _ = writeln!(
        s,
        " Script security {}",
        if g.enable_script_security {
            "enabled"
        } else {
            "disabled"
        }
    );
    let global_user = g
        .script_user
        .as_ref()
        .map(|(u, grp)| (u.as_str(), grp.as_deref()));
    let (uid, gid) = match vrrp::linux::script::script_user(None, global_user) {
        Ok(Some(u)) => (u.uid, u.gid),
        _ => (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ),
    };
    let _ = writeln!(s, " Default script uid:gid {uid}:{gid}");
    for prefix in [
        "vrrp_netlink_cmd",
        "vrrp_netlink_monitor",
        "process_monitor",
        "lvs_netlink_cmd",
        "lvs_netlink_monitor",
    ] {
        for suffix in ["", "_force"] {
            let kw = format!("{prefix}_rcv_bufs{suffix}");
            let _ = writeln!(s, " {kw} = {}", other_value(cfg, &kw));
        }
    }
    let _ = writeln!(s, " rs_init_notifies = {}", u8::from(g.rs_init_notifies));
    let _ = writeln!(s, " no_checker_emails = {}", u8::from(g.no_checker_emails));
    let _ = writeln!(s, " rx_bufs_multiples = {}", g.vrrp_rx_bufs_multiplier);
    let _ = writeln!(s, " umask = 0{:o}", g.umask.unwrap_or(0o177));
    let _ = writeln!(s, " json_version {}", g.json_version);
    s
}
