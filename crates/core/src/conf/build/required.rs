//! Keywords keepalived cannot read without their value: given none, it stops reading the
//! configuration there ("Configuration line starting `delay_loop` is missing a parameter
//! after keyword `delay_loop` at word position 2"), `-t` exits 2 and so does a start.
//!
//! The lists are what keepalived 2.4.3 does, observed keyword by keyword with `-t` (every
//! keyword of its manual and of our parser, alone on a line, in each block). 2.2.7 agrees
//! except for `vrrp_delay_after_boot`, a keyword it does not know. Other keywords without
//! a value are reported (or taken as a flag) and the reading goes on.

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

/// The message keepalived gives for `kw` without its value.
pub fn message(kw: &str) -> String {
    format!(
        "Configuration line starting '{kw}' is missing a parameter after keyword '{kw}' at word position 2"
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

/// The first statement in the top-level statement `n` (itself included), in file order,
/// that keepalived cannot read for want of a value.
pub fn first_missing(n: &Node) -> Option<Stop> {
    let mut within = Vec::new();
    walk(Block::Top, std::slice::from_ref(n), &mut within)
}

fn walk(b: Block, nodes: &[Node], within: &mut Vec<Loc>) -> Option<Stop> {
    for n in nodes {
        let kw = n.keyword();
        if n.arg(0).is_none() && is_fatal(b, kw) {
            let at = n.words.first().map_or(n.loc, |w| {
                let mut l = w.loc;
                l.col += w.text.len() as u32 + 1;
                l
            });
            return Some(Stop {
                at,
                message: message(kw),
                within: within.clone(),
            });
        }
        if let Some(inner) = child(b, kw) {
            within.push(n.loc);
            if let Some(found) = walk(inner, n.block(), within) {
                return Some(found);
            }
            within.pop();
        }
    }
    None
}
