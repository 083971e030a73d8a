//! Keywords keepalived cannot read without their value: given none, it stops reading the
//! configuration there ("Configuration line starting `delay_loop` is missing a parameter
//! after keyword `delay_loop` at word position 2"), `-t` exits 2 and so does a start.
//!
//! The lists are what keepalived 2.4.3 does, observed keyword by keyword with `-t` (every
//! keyword of its manual and of our parser, alone on a line, in each block). 2.2.7 agrees
//! except for `vrrp_delay_after_boot`, a keyword it does not know. Other keywords without
//! a value are reported (or taken as a flag) and the reading goes on; where keepalived
//! words that report its own way, [`missing_values`] gives its words.

use crate::conf::tree::{Loc, Node};

/// The kind of block a keyword is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Top,
    Global,
    Instance,
    Authentication,
    SyncGroup,
    Script,
    TrackFile,
    TrackProcess,
    GarpGroup,
    VirtualServerGroup,
    VirtualServer,
    RealServer,
    /// TCP_CHECK, PING_CHECK and an SMTP_CHECK `host`: the keywords every checker has.
    Checker,
    Http,
    Url,
    Smtp,
    Misc,
    Dns,
    Udp,
    File,
}

/// What every checker (but MISC_CHECK and FILE_CHECK) needs a value for.
const CHECKER: &[&str] = &[
    "bind_if",
    "bind_port",
    "bindto",
    "connect_ip",
    "connect_port",
    "connect_timeout",
    "delay_before_retry",
    "delay_loop",
    "fwmark",
    "retry",
    "warmup",
];

/// The keywords of `b` that keepalived stops at when they have no value, besides
/// [`CHECKER`] for checker blocks.
fn fatal_here(b: Block) -> &'static [&'static str] {
    match b {
        Block::Top => &[
            "child_wait_time",
            "track_file",
            "virtual_server",
            "virtual_server_group",
            "vrrp_script",
            "vrrp_track_file",
            "vrrp_track_process",
        ],
        Block::Global => &[
            "checker_process_name",
            "checker_rlimit_rtime",
            "checker_rlimit_rttime",
            "config_save_dir",
            "lvs_process_name",
            "nftables_ipvs_priority",
            "nftables_ipvs_start_fwmark",
            "nftables_priority",
            "random_seed",
            "smtp_connect_timeout",
            "smtp_server",
            "umask",
            "vmac_addr_prefix",
            "vmac_prefix",
            "vrrp_delay_after_boot",
            "vrrp_down_timer_adverts",
            "vrrp_garp_interval",
            "vrrp_garp_lower_prio_delay",
            "vrrp_garp_lower_prio_repeat",
            "vrrp_garp_master_delay",
            "vrrp_garp_master_refresh",
            "vrrp_garp_master_refresh_repeat",
            "vrrp_garp_master_repeat",
            "vrrp_gna_interval",
            "vrrp_mcast_group4",
            "vrrp_mcast_group6",
            "vrrp_process_name",
            "vrrp_rlimit_rtime",
            "vrrp_rlimit_rttime",
            "vrrp_startup_delay",
            "vrrp_version",
        ],
        Block::Instance => &[
            "advert_int",
            "debug",
            "down_timer_adverts",
            "garp_lower_prio_delay",
            "garp_lower_prio_repeat",
            "garp_master_delay",
            "garp_master_refresh",
            "garp_master_refresh_repeat",
            "garp_master_repeat",
            "interface",
            "lvs_sync_daemon_interface",
            "mcast_dst_ip",
            "mcast_src_ip",
            "notify",
            "notify_backup",
            "notify_fault",
            "notify_master",
            "notify_master_rx_lower_pri",
            "notify_stop",
            "preempt_delay",
            "priority",
            "state",
            "unicast_src_ip",
            "unicast_ttl",
            "version",
            "virtual_router_id",
            "vrf",
        ],
        Block::Authentication => &["auth_pass", "auth_type"],
        Block::SyncGroup => &[
            "notify",
            "notify_backup",
            "notify_fault",
            "notify_master",
            "notify_stop",
        ],
        Block::Script => &["fall", "interval", "rise", "timeout", "user", "weight"],
        Block::TrackFile => &[],
        Block::TrackProcess => &[
            "delay",
            "fork_delay",
            "process",
            "quorum",
            "quorum_max",
            "terminate_delay",
        ],
        Block::GarpGroup => &["garp_interval", "gna_interval", "interface"],
        Block::VirtualServerGroup => &["fwmark"],
        Block::VirtualServer => &[
            "connect_timeout",
            "delay_before_retry",
            "delay_loop",
            "hysteresis",
            "ip_family",
            "lb_algo",
            "lb_kind",
            "lvs_method",
            "lvs_sched",
            "persistence_engine",
            "persistence_granularity",
            "protocol",
            "quorum",
            "quorum_down",
            "quorum_up",
            "real_server",
            "retry",
            "sorry_server",
            "warmup",
            "weight",
        ],
        Block::RealServer => &[
            "connect_timeout",
            "delay_before_retry",
            "delay_loop",
            "lthreshold",
            "lvs_method",
            "notify_down",
            "notify_up",
            "retry",
            "uthreshold",
            "warmup",
            "weight",
        ],
        Block::Checker | Block::Smtp => &[],
        Block::Http => &["nb_get_retry"],
        Block::Url => &["digest", "path"],
        Block::Misc => &[
            "delay_before_retry",
            "delay_loop",
            "misc_timeout",
            "retry",
            "warmup",
        ],
        Block::Dns => &["name", "type"],
        Block::Udp => &["max_reply_length", "min_reply_length"],
        Block::File => &["track_file"],
    }
}

/// Does keepalived stop at `kw` without a value in `b`?
fn is_fatal(b: Block, kw: &str) -> bool {
    let common = matches!(
        b,
        Block::Checker | Block::Http | Block::Smtp | Block::Dns | Block::Udp
    ) && CHECKER.contains(&kw);
    common || fatal_here(b).contains(&kw)
}

/// The kind of the block that `kw` opens inside `b` (None: not one we look into).
fn child(b: Block, kw: &str) -> Option<Block> {
    Some(match (b, kw) {
        (Block::Top, "global_defs") => Block::Global,
        (Block::Top, "vrrp_instance") => Block::Instance,
        (Block::Top, "vrrp_sync_group") => Block::SyncGroup,
        (Block::Top, "vrrp_script") => Block::Script,
        (Block::Top, "vrrp_track_process") => Block::TrackProcess,
        (Block::Top, "vrrp_track_file" | "track_file") => Block::TrackFile,
        (Block::Top, "garp_group") => Block::GarpGroup,
        (Block::Top, "virtual_server_group") => Block::VirtualServerGroup,
        (Block::Top, "virtual_server") => Block::VirtualServer,
        (Block::Instance, "authentication") => Block::Authentication,
        (Block::VirtualServer, "real_server") => Block::RealServer,
        (Block::RealServer, "TCP_CHECK" | "PING_CHECK") => Block::Checker,
        (Block::RealServer, "HTTP_GET" | "SSL_GET") => Block::Http,
        (Block::RealServer, "SMTP_CHECK") => Block::Smtp,
        (Block::RealServer, "MISC_CHECK") => Block::Misc,
        (Block::RealServer, "DNS_CHECK") => Block::Dns,
        (Block::RealServer, "UDP_CHECK") => Block::Udp,
        (Block::RealServer, "FILE_CHECK") => Block::File,
        (Block::Http, "url") => Block::Url,
        (Block::Smtp, "host") => Block::Checker,
        _ => return None,
    })
}

/// What keepalived says of `kw` without its value where it reads on (`-t` exits 5), for
/// the block named `name` (`{name}` in the text), observed with 2.2.7 and 2.4.3. None:
/// our own words stay ("expected a value after ...").
fn said_without_value(b: Block, kw: &str, name: &str) -> Option<String> {
    let fixed = match (b, kw) {
        (Block::Global, "checker_priority") => "No checker process priority specified",
        (Block::Global, "checker_rt_priority") => "No checker process real-time priority specified",
        (Block::Global, "vrrp_priority") => "No vrrp process priority specified",
        (Block::Global, "vrrp_rt_priority") => "No vrrp process real-time priority specified",
        (Block::Global, "default_interface") => "default_interface requires interface name",
        (Block::Global, "json_dump_file") => "json_dump_file requires a non-empty path",
        (Block::Global, "state_dump_file") => "state_dump_file requires a non-empty path",
        (Block::Global, "stats_dump_file") => "stats_dump_file requires a non-empty path",
        (Block::Global, "json_version") => "json_version requires version",
        (Block::Global, "notify_fifo") => "No notify_fifo name specified",
        (Block::Global, "notify_fifo_script") => "No notify_fifo_script specified",
        (Block::Global, "vrrp_notify_fifo") => "No vrrp_notify_fifo name specified",
        (Block::Global, "vrrp_notify_fifo_script") => "No vrrp_notify_fifo_script specified",
        (Block::Global, "lvs_notify_fifo") => "No lvs_notify_fifo name specified",
        (Block::Global, "lvs_notify_fifo_script") => "No lvs_notify_fifo_script specified",
        (Block::Global, "lvs_sync_daemon") => "lvs_sync_daemon requires interface",
        (Block::Global, "min_auto_priority_delay") => "min_auto_priority_delay requires delay time",
        (Block::Global, "notification_email_from") => "emailfrom missing - ignoring",
        (Block::Global, "reload_time_file") => "reload_time_file invalid",
        (Block::Global, "router_id") => "routerid name missing - ignoring",
        (Block::Global, "script_user") => "No script username specified",
        (Block::Global, "startup_script") => "startup script missing",
        (Block::Global, "shutdown_script") => "shutdown script missing",
        (Block::Global, "startup_script_timeout") => "startup_script_timeout requires value",
        (Block::Global, "shutdown_script_timeout") => "shutdown_script_timeout requires value",
        (Block::Global, "tmp_config_directory") => "tmp_config_directory missing directory name",
        (Block::Global, "vrrp_garp_extra_if") => {
            "vrrp_garp_extra_if specified without time - ignoring"
        }
        (Block::Global, "vrrp_rx_bufs_multiplier") => "Invalid vrrp_rx_bufs_multiplier",
        (Block::Instance, "garp_extra_if") => {
            return Some(format!(
                "({name}): garp_extra_if specified without time - ignoring"
            ))
        }
        (Block::Instance, "kernel_rx_buf_size") => {
            return Some(format!("({name}) invalid kernel_rx_buf_size specified"))
        }
        (Block::Top, "instance") => "instance name missing - ignoring",
        (Block::Top, "net_namespace") => "net_namespace name missing - ignoring",
        (Block::Smtp, "helo_name") => "SMTP_CHECK helo name missing",
        (Block::File, "weight") => "track file weight missing",
        (Block::TrackProcess, "weight") => {
            return Some(format!(
                "No weight specified for track process {name} - ignoring"
            ))
        }
        (Block::TrackFile, "file") => "track file file name missing",
        (Block::TrackFile, "weight") => {
            return Some(format!(
                "No weight specified for track file {name} - ignoring"
            ))
        }
        (Block::VirtualServer, "virtualhost") => "virtual server virtualhost missing",
        (Block::RealServer, "virtualhost") => "real server virtualhost missing",
        (Block::Http, "virtualhost") => "HTTP_GET virtualhost name missing",
        (Block::Url, "virtualhost") => "Missing HTTP_GET virtualhost name",
        _ => return None,
    };
    Some(fixed.to_string())
}

/// The message keepalived gives for `kw` without its value.
pub fn message(kw: &str) -> String {
    format!(
        "Configuration line starting `{kw}` is missing a parameter after keyword `{kw}` at word position 2"
    )
}

/// Where keepalived stopped reading: the place of the missing value, the message, and
/// the lines of the blocks around it (what would be said about those blocks when they
/// close is never said).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// Just after the keyword.
    pub at: Loc,
    /// keepalived's words.
    pub message: String,
    /// The lines of the statements whose blocks hold it.
    pub within: Vec<Loc>,
}

/// What was found in a top-level statement: keywords without a value that keepalived
/// words its own way (where the keyword is, its words), and where it stopped reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Keyword place and keepalived's words, in file order (before the stop).
    pub said: Vec<(Loc, String)>,
    /// Where keepalived stopped reading, if it did.
    pub stop: Option<Stop>,
}

/// What keepalived makes of the statements without a value in the top-level statement
/// `n` (itself included), in file order, up to the first it cannot read on from.
pub fn missing_values(n: &Node) -> Found {
    let mut found = Found::default();
    let mut within = Vec::new();
    walk(
        Block::Top,
        "",
        std::slice::from_ref(n),
        &mut within,
        &mut found,
    );
    found
}

/// Walk `nodes` of a block of kind `b` named `name`; true when the reading stopped.
fn walk(b: Block, name: &str, nodes: &[Node], within: &mut Vec<Loc>, found: &mut Found) -> bool {
    for n in nodes {
        let kw = n.keyword();
        if n.arg(0).is_none() {
            if is_fatal(b, kw) {
                let at = n.words.first().map_or(n.loc, |w| {
                    let mut l = w.loc;
                    l.col += w.text.len() as u32 + 1;
                    l
                });
                found.stop = Some(Stop {
                    at,
                    message: message(kw),
                    within: within.clone(),
                });
                return true;
            }
            if let Some(m) = said_without_value(b, kw, name) {
                found.said.push((n.loc, m));
            }
        }
        if let Some(inner) = child(b, kw) {
            within.push(n.loc);
            let inner_name = n.arg(0).map_or("", |w| w.text);
            if walk(inner, inner_name, n.block(), within, found) {
                return true;
            }
            within.pop();
        }
    }
    false
}
