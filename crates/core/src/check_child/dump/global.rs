//! `keepalived_check.data`'s "Global definitions" section in keepalived 2.4.3's lines.

use ka_proto::config::global::NotifyFifo;
use ka_proto::config::{Config, Script};
use std::fmt::Write as _;

fn bool_word(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn alert(v: Option<bool>) -> &'static str {
    match v {
        None => "unset",
        Some(true) => "on",
        Some(false) => "off",
    }
}

/// uid:gid of a user name (0:0 when unknown).
pub(super) fn ids(user: Option<&str>, group: Option<&str>) -> (u32, u32) {
    let u = user.and_then(|u| nix::unistd::User::from_name(u).ok().flatten());
    let g = match (group, &u) {
        (Some(g), _) => nix::unistd::Group::from_name(g)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw()),
        (None, Some(u)) => Some(u.gid.as_raw()),
        (None, None) => None,
    };
    (u.map_or(0, |u| u.uid.as_raw()), g.unwrap_or(0))
}

/// The user scripts run as by default: `script_user`, else 0:0.
fn script_ids(config: &Config) -> (u32, u32) {
    match &config.global.script_user {
        Some((u, g)) => ids(Some(u), g.as_deref()),
        None => (0, 0),
    }
}

fn fifo(s: &mut String, name: &str, f: &Option<NotifyFifo>, who: (u32, u32)) {
    if let Some(f) = f {
        let _ = writeln!(s, " {name} = {}, uid:gid {}:{}", f.path, who.0, who.1);
        if let Some(Script { args, .. }) = &f.script {
            // The script is given the FIFO's path as its last argument.
            let words: Vec<String> = args
                .iter()
                .chain(std::iter::once(&f.path))
                .map(|a| format!("'{a}'"))
                .collect();
            let _ = writeln!(
                s,
                " {name} script = {}, uid:gid {}:{}",
                words.join(" "),
                who.0,
                who.1
            );
        }
    }
}

fn unset_u32(v: Option<u64>) -> u64 {
    v.unwrap_or(u64::from(u32::MAX))
}

/// "Global definitions", as the checker process writes it.
pub fn global_text(config: &Config) -> String {
    let g = &config.global;
    let mut s = String::from("------< Global definitions >------\n");
    let _ = writeln!(
        s,
        " Network namespace = {}",
        config.net_namespace.as_deref().unwrap_or("(default)")
    );
    s.push_str(" Network namespace ipvs = (main namespace)\n Replace symlinks in script paths\n");
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default();
    let _ = writeln!(
        s,
        " Router ID = {}",
        g.router_id.as_deref().unwrap_or(&host)
    );
    if let Some(m) = &g.smtp_server {
        let _ = writeln!(
            s,
            " Smtp server = {}\n Smtp server port = {}",
            m.host, m.port
        );
    }
    if g.smtp_server.is_some() || !g.notification_email.is_empty() {
        let helo = g.smtp_helo_name.as_deref().unwrap_or(&host);
        let _ = writeln!(
            s,
            " Smtp HELO name = {helo}\n Smtp server connection timeout = {}",
            g.smtp_connect_timeout.as_secs()
        );
        let from = g
            .notification_email_from
            .clone()
            .unwrap_or_else(|| format!("keepalived@{host}"));
        let _ = writeln!(s, " Email notification from = {from}");
    }
    if !g.notification_email.is_empty() {
        s.push_str(" Email notification to:\n");
        for e in &g.notification_email {
            let _ = writeln!(s, "   {e}");
        }
    }
    let _ = writeln!(
        s,
        " Default smtp_alert = {}\n Default smtp_alert_vrrp = {}\n Default smtp_alert_checker = {}",
        alert(g.smtp_alert),
        alert(g.smtp_alert_vrrp),
        alert(g.smtp_alert_checker)
    );
    let _ = writeln!(
        s,
        " Checkers log all failures = {}\n No test config before reload\n keep script symlinks = false\n Dynamic interfaces = {}",
        bool_word(g.checker_log_all_failures),
        bool_word(g.dynamic_interfaces)
    );
    if g.dynamic_interfaces {
        let _ = writeln!(
            s,
            " Allow interface changes = {}",
            bool_word(g.allow_if_changes)
        );
    }
    if g.no_email_faults {
        s.push_str(" Send emails for fault transitions = off\n");
    }
    let (tcp, tcpfin, udp) = g.lvs_timeouts;
    // keepalived labels the UDP timeout "LVS TCP timeout" too.
    for (label, t) in [
        ("LVS TCP timeout", tcp),
        ("LVS TCP FIN timeout", tcpfin),
        ("LVS TCP timeout", udp),
    ] {
        if let Some(t) = t {
            let _ = writeln!(s, " {label} = {}", t.as_secs());
        }
    }
    let _ = writeln!(
        s,
        " Disable local IGMP = no\n Use VRRPv2 checksum for VRRPv3 IPv4 = {}",
        if g.v3_checksum_as_v2 { "yes" } else { "no" }
    );
    if let Some(d) = &g.lvs_sync_daemon {
        if let Some(i) = &d.instance {
            let _ = writeln!(s, " LVS syncd vrrp name = {i}");
        }
        let _ = writeln!(s, " LVS syncd interface = {}", d.interface);
        if let Some(id) = d.sync_id {
            let _ = writeln!(s, " LVS syncd syncid = {id}");
        }
        if let Some(m) = d.maxlen {
            let _ = writeln!(s, " LVS syncd maxlen = {m}");
        }
        if let Some(a) = d.group {
            let _ = writeln!(s, " LVS mcast group {a}");
        }
        if d.port != 8848 {
            let _ = writeln!(s, " LVS syncd mcast port = {}", d.port);
        }
        if let Some(t) = d.ttl {
            let _ = writeln!(s, " LVS syncd mcast ttl = {t}");
        }
    }
    let stop = match g.lvs_flush_on_stop {
        None => "disabled",
        Some(false) => "full",
        Some(true) => "VS",
    };
    let _ = writeln!(
        s,
        " LVS flush = {}\n LVS flush on stop = {stop}",
        bool_word(g.lvs_flush)
    );
    let who = script_ids(config);
    fifo(&mut s, "Global notify fifo", &g.notify_fifo, who);
    fifo(&mut s, "VRRP notify fifo", &g.vrrp_notify_fifo, who);
    fifo(&mut s, "LVS notify fifo", &g.lvs_notify_fifo, who);
    let _ = writeln!(
        s,
        " FIFO write vrrp states on reload = {}\n VRRP notify priority changes = {}",
        bool_word(g.fifo_write_vrrp_states_on_reload),
        bool_word(g.vrrp_notify_priority_changes)
    );
    let _ = writeln!(
        s,
        " VRRP IPv4 mcast group = {}\n VRRP IPv6 mcast group = {}",
        g.vrrp_mcast_group4, g.vrrp_mcast_group6
    );
    let _ = writeln!(
        s,
        " Gratuitous ARP delay = {}\n Gratuitous ARP repeat = {}\n Gratuitous ARP refresh timer = {}\n Gratuitous ARP refresh repeat = {}",
        g.vrrp_garp_master_delay.as_secs(),
        g.vrrp_garp_master_repeat,
        g.vrrp_garp_master_refresh.as_secs(),
        g.vrrp_garp_master_refresh_repeat
    );
    let _ = writeln!(
        s,
        " Gratuitous ARP lower priority delay = {}\n Gratuitous ARP lower priority repeat = {}",
        unset_u32(g.vrrp_garp_lower_prio_delay.map(|d| d.as_secs())),
        unset_u32(g.vrrp_garp_lower_prio_repeat.map(u64::from))
    );
    let _ = writeln!(
        s,
        " Num adverts before down = {}\n Gratuitous ARP for each secondary VMAC = {}s",
        g.vrrp_down_timer_adverts,
        g.vrrp_garp_extra_if.map_or(0, |d| d.as_secs())
    );
    let _ = writeln!(
        s,
        " Send advert after receive lower priority advert = {}\n Send advert after receive higher priority advert = {}",
        bool_word(!g.vrrp_lower_prio_no_advert),
        bool_word(g.vrrp_higher_prio_send_advert)
    );
    let _ = writeln!(
        s,
        " Gratuitous ARP interval = {:.6}\n Gratuitous NA interval = {:.6}\n VRRP default protocol version = {}",
        g.vrrp_garp_interval.as_secs_f64(),
        g.vrrp_gna_interval.as_secs_f64(),
        g.vrrp_version
    );
    let _ = writeln!(
        s,
        " nftables {} counters",
        if g.nftables_counters {
            "with"
        } else {
            "without"
        }
    );
    let _ = writeln!(
        s,
        " VRRP check unicast_src = {}\n VRRP skip check advert addresses = {}\n VRRP strict mode = {}",
        bool_word(g.vrrp_check_unicast_src),
        bool_word(g.vrrp_skip_check_adv_addr),
        bool_word(g.vrrp_strict)
    );
    let _ = writeln!(
        s,
        " Max auto priority = {}\n Min auto priority delay = {} usecs",
        g.max_auto_priority.unwrap_or(0),
        g.min_auto_priority_delay.as_micros()
    );
    for (name, p) in [("VRRP", &g.vrrp_sched), ("Checker", &g.checker_sched)] {
        let _ = writeln!(
            s,
            " {name} process priority = {}\n {name} don't swap = {}\n {name} realtime priority = {}\n {name} realtime limit = {}",
            p.priority.unwrap_or(0),
            bool_word(p.no_swap),
            p.rt_priority.unwrap_or(0),
            p.rlimit_rttime.unwrap_or(10000)
        );
    }
    let _ = writeln!(
        s,
        " Script security {}\n Default script uid:gid {}:{}",
        if g.enable_script_security {
            "enabled"
        } else {
            "disabled"
        },
        who.0,
        who.1
    );
    for n in [
        "vrrp_netlink_cmd",
        "vrrp_netlink_monitor",
        "process_monitor",
        "lvs_netlink_cmd",
        "lvs_netlink_monitor",
    ] {
        let _ = writeln!(s, " {n}_rcv_bufs = 0\n {n}_rcv_bufs_force = 0");
    }
    let _ = writeln!(
        s,
        " rs_init_notifies = {}\n no_checker_emails = {}\n rx_bufs_multiples = {}\n umask = 0{:o}",
        u8::from(g.rs_init_notifies),
        u8::from(g.no_checker_emails),
        g.vrrp_rx_bufs_multiplier,
        g.umask.unwrap_or(0o177)
    );
    if g.vmac_prefix != "vrrp" {
        let _ = writeln!(s, " VMAC prefix = {}", g.vmac_prefix);
    }
    if let Some(rt) = g.checker_sched.rt_priority {
        let _ = writeln!(
            s,
            " current realtime priority = {rt}\n current realtime time limit = {}",
            g.checker_sched.rlimit_rttime.unwrap_or(10000)
        );
    }
    let _ = writeln!(
        s,
        " json_version {}\n iproute usr directory /etc/iproute2\n iproute etc directory /etc/iproute2",
        g.json_version
    );
    s
}
