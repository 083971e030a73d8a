//! The VRRP child's dumps: `keepalived.data` (SIGUSR1), `keepalived.stats` (SIGUSR2) and
//! `keepalived.json`, in keepalived's layout as far as the engine knows the facts.

use ka_proto::ipc::vrrp::{InstanceReport, ScriptState, VrrpReport, COUNTER_NAMES};
use std::collections::HashMap;
use std::fmt::Write as _;
use vrrp::{Auth, Engine, InstanceStatus, Reason, Stats, TrackStatus, Version};

fn version(v: Version) -> &'static str {
    match v {
        Version::V2 => "2",
        Version::V3 => "3",
    }
}

/// `keepalived.data`: the VRRP topology, without the configuration's facts
/// ([`data_with`] has them): `scripts` are (name, command line, status).
pub fn data(engine: &Engine, scripts: &[(String, String, TrackStatus)]) -> String {
    let facts = DumpFacts {
        scripts: scripts
            .iter()
            .map(|(name, cmd, _)| ScriptFacts {
                name: name.clone(),
                cmd: cmd.clone(),
                rise: 1,
                fall: 1,
                ..ScriptFacts::default()
            })
            .collect(),
        ..DumpFacts::default()
    };
    let states = scripts
        .iter()
        .map(|(n, _, st)| (n.clone(), (*st, false)))
        .collect();
    data_with(
        engine,
        &states,
        &facts,
        &ByReason::default(),
        &HashMap::new(),
    )
}

/// An instance's tracked objects as keepalived lists them: without the VMAC's base
/// interface the configuration mapping adds (keepalived watches it without listing it).
fn listed_tracks<'a>(c: &'a vrrp::InstanceConfig, f: &InstanceFacts) -> Vec<&'a vrrp::TrackConfig> {
    let mut v: Vec<&vrrp::TrackConfig> = c.track.iter().collect();
    if let Some(base) = &f.vmac_base {
        if let Some(pos) = v.iter().rposition(|t| {
            t.kind == vrrp::TrackKind::Interface && t.name == *base && t.weight == 0 && !t.reverse
        }) {
            v.remove(pos);
        }
    }
    v
}

/// A VIP's line with the VMAC's base shown after its name (`dev vrrp.51@eth0`), as
/// keepalived shows an address on an interface of its own.
fn vip_line(v: &vrrp::Vip, c: &vrrp::InstanceConfig, f: &InstanceFacts, installed: bool) -> String {
    let mut line = vip_str(v, &c.interface, installed);
    if installed && !c.accept {
        // Without accept mode its nftables rule is in place while it is.
        line.push_str(" nftable_set");
    }
    match (&f.vmac_ifname, &f.vmac_base) {
        (Some(name), Some(base)) if v.dev.as_deref().unwrap_or(&c.interface) == name => {
            line.replacen(&format!(" dev {name} "), &format!(" dev {name}@{base} "), 1)
        }
        _ => line,
    }
}

/// keepalived's names of the states in its dumps.
fn state_word(s: vrrp::State) -> &'static str {
    match s {
        vrrp::State::Initialize => "INIT",
        vrrp::State::Backup => "BACKUP",
        vrrp::State::Master => "MASTER",
        vrrp::State::Fault => "FAULT",
    }
}

/// A time as keepalived's dumps show it: `1796571725.655493 (Sun Dec  6 15:42:05.655493
/// 2026)`, the date in UTC.
fn time_str(t: f64) -> String {
    let secs = t.floor() as i64;
    let us = ((t - t.floor()) * 1e6).round().min(999_999.0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{secs}.{us:06} ({} {} {d:2} {:02}:{:02}:{:02}.{us:06} {y})",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Does keepalived set any of its instance flags (its "Flags:" line) for this instance?
fn any_flag(c: &vrrp::InstanceConfig, f: &InstanceFacts) -> bool {
    c.is_unicast()
        || c.unicast_fault_no_peer
        || c.dont_track_primary
        || c.skip_check_adv_addr
        || c.src_addr.is_some()
        || c.check_unicast_src
        || f.promote_secondaries
        || !c.preempt
        || c.v3_checksum_as_v2
        || f.vmac_ifname.is_some()
}

/// One instance of the VRRP Topology, in keepalived 2.4.3's lines as far as we know the
/// facts. Not written: `Read timeout` and `Last advert sent` (the engine's timers),
/// `fd_in`/`fd_out` (sockets are shared differently), `Rate-limit flags`.
/// `live`: the state dump (SIGUSR1); else the configuration as `-d` logs it at start,
/// without the state (keepalived leaves the same lines out).
fn data_instance(
    s: &mut String,
    i: &InstanceStatus<'_>,
    f: &InstanceFacts,
    scripts: &HashMap<String, (TrackStatus, bool)>,
    last_transition: Option<f64>,
    live: bool,
) {
    let c = i.config;
    let v3 = c.version == Version::V3;
    let v6 = c.family == vrrp::Family::V6;
    let _ = writeln!(s, " VRRP Instance = {}", i.name);
    let _ = writeln!(s, "   VRRP Version = {}", version(c.version));
    if let Some(g) = i.sync_group {
        let _ = writeln!(s, "   Sync group = {g}");
    }
    if v6 {
        let _ = writeln!(s, "   Using Native IPv6");
    }
    if live {
        let _ = writeln!(s, "   State = {}", state_word(i.state));
    }
    if live && i.state == vrrp::State::Backup {
        let m = i
            .master
            .map_or_else(|| "(none)".to_string(), |m| m.to_string());
        let _ = writeln!(s, "   Master router = {m}");
        let _ = writeln!(s, "   Master priority = {}", i.master_priority);
        if v3 {
            let _ = writeln!(
                s,
                "   Master advert interval = {} milli-sec",
                i.master_adver_int.as_millis()
            );
        }
    }
    if any_flag(c, f) {
        let _ = writeln!(s, "   Flags:");
        if c.is_unicast() {
            let _ = writeln!(s, "     Using unicast");
        }
        if c.unicast_fault_no_peer {
            let _ = writeln!(s, "     If unicast go to fault state if no peers");
        }
    } else {
        let _ = writeln!(s, "   Flags: none");
    }
    let want = if live {
        i.state
    } else if c.is_owner() {
        vrrp::State::Master
    } else {
        vrrp::State::Backup
    };
    let _ = writeln!(s, "   Wantstate = {}", state_word(want));
    let _ = writeln!(s, "   Number of config faults = 0");
    if live {
        data_instance_live(s, i, scripts, last_transition);
    }
    data_instance_config(s, i, f, live);
}

/// The lines of the state dump only.
fn data_instance_live(
    s: &mut String,
    i: &InstanceStatus<'_>,
    scripts: &HashMap<String, (TrackStatus, bool)>,
    last_transition: Option<f64>,
) {
    let c = i.config;
    if i.state != vrrp::State::Fault {
        let _ = writeln!(s, "   Number of tracker faults = 0");
        let _ = writeln!(s, "   Flags of interface faults - (none)");
    }
    let init = c
        .track
        .iter()
        .filter(|t| t.kind == vrrp::TrackKind::Script)
        .filter(|t| {
            scripts
                .get(&t.name)
                .is_some_and(|(st, _)| *st == TrackStatus::Unknown)
        })
        .count();
    let _ = writeln!(s, "   Number of track scripts init = {init}");
    if let Some(t) = last_transition {
        let _ = writeln!(s, "   Last transition = {}", time_str(t));
    }
    let _ = writeln!(
        s,
        "   Master down timer = {} usecs",
        i.master_down_interval.as_micros()
    );
}

/// The configuration's lines of an instance (both dumps), from `Use VMAC` on.
fn data_instance_config(s: &mut String, i: &InstanceStatus<'_>, f: &InstanceFacts, live: bool) {
    let c = i.config;
    let v3 = c.version == Version::V3;
    let v6 = c.family == vrrp::Family::V6;
    if let Some(v) = &f.vmac_ifname {
        let _ = writeln!(
            s,
            "   Use VMAC, i/f name {v}, is_up = true, xmit_base = {}",
            f.vmac_xmit_base
        );
    }
    match &f.vmac_base {
        Some(base) => {
            let _ = writeln!(
                s,
                "   Interface = {}, vmac on {base}{}",
                c.interface,
                if f.vmac_xmit_base {
                    ", xmit base i/f"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = writeln!(
                s,
                "   Interface = {}",
                if c.interface.is_empty() {
                    "not configured"
                } else {
                    &c.interface
                }
            );
        }
    }
    if c.dont_track_primary {
        let _ = writeln!(s, "   VRRP interface tracking disabled");
    }
    if c.skip_check_adv_addr {
        let _ = writeln!(s, "   Skip checking advert IP addresses");
    }
    if f.strict_mode {
        let _ = writeln!(s, "   Enforcing strict VRRP compliance");
    }
    let _ = writeln!(
        s,
        "   Using src_ip = {}{}",
        i.src
            .map_or_else(|| "(none)".to_string(), |a| a.to_string()),
        if c.src_addr.is_some() {
            " (from configuration)"
        } else {
            ""
        }
    );
    if !c.is_unicast() {
        let group = c.mcast_dst.unwrap_or_else(|| c.family.mcast_group());
        if v6 {
            let idx = nix::net::if_::if_nametoindex(c.interface.as_str()).unwrap_or(0);
            let _ = writeln!(s, "   Multicast address {group}, ifindex {idx}");
        } else {
            let _ = writeln!(s, "   Multicast address {group}");
        }
    }
    let g = &c.garp;
    let _ = writeln!(s, "   Gratuitous ARP delay = {}", g.master_delay.as_secs());
    let _ = writeln!(s, "   Gratuitous ARP repeat = {}", g.master_repeat);
    let _ = writeln!(
        s,
        "   Gratuitous ARP refresh = {}",
        g.master_refresh.map_or(0, |d| d.as_secs())
    );
    let _ = writeln!(
        s,
        "   Gratuitous ARP refresh repeat = {}",
        g.master_refresh_repeat
    );
    let _ = writeln!(
        s,
        "   Gratuitous ARP lower priority delay = {}",
        g.lower_prio_delay.as_secs()
    );
    let _ = writeln!(
        s,
        "   Gratuitous ARP lower priority repeat = {}",
        g.lower_prio_repeat
    );
    let _ = writeln!(s, "   Down timer adverts = {}", c.down_timer_adverts);
    if let Some(p) = g.extra_if {
        let what = if g.extra_if_all { "i/f" } else { "VMAC" };
        let _ = writeln!(
            s,
            "   Gratuitous ARP for each secondary {what} = {}",
            p.as_secs()
        );
    }
    let _ = writeln!(
        s,
        "   Send advert after receive lower priority advert = {}",
        !c.lower_prio_no_advert
    );
    let _ = writeln!(
        s,
        "   Send advert after receive higher priority advert = {}",
        c.higher_prio_send_advert
    );
    if c.is_owner() {
        let _ = writeln!(
            s,
            "   Address owner ignores received adverts = {}",
            c.owner_ignore_adverts
        );
    }
    let _ = writeln!(s, "   Virtual Router ID = {}", c.vrid);
    let _ = writeln!(s, "   Priority = {}", c.priority);
    if live {
        let _ = writeln!(s, "   Effective priority = {}", i.priority);
        let _ = writeln!(s, "   Total priority = {}", i.priority);
    }
    if !c.preempt {
        // `timer_expired_backup [PRIO]`'s priority, 0 without it.
        let _ = writeln!(
            s,
            "   Highest other priority = {}",
            c.timer_expired_backup.unwrap_or(0)
        );
    }
    if v3 {
        let _ = writeln!(
            s,
            "   Advert interval = {} milli-sec",
            c.adver_int_micros() / 1000
        );
    } else {
        let _ = writeln!(
            s,
            "   Advert interval = {} sec",
            c.adver_int_micros() / 1_000_000
        );
    }
    let _ = writeln!(
        s,
        "   Accept = {}",
        if c.accept { "enabled" } else { "disabled" }
    );
    let _ = writeln!(
        s,
        "   Preempt = {}",
        if c.preempt { "enabled" } else { "disabled" }
    );
    if !c.preempt_delay.is_zero() {
        let _ = writeln!(
            s,
            "   Preempt delay = {} secs",
            num(c.preempt_delay.as_secs_f64())
        );
    }
    let _ = writeln!(
        s,
        "   Promote_secondaries = {}",
        if f.promote_secondaries {
            "enabled"
        } else {
            "disabled"
        }
    );
    match c.auth {
        Auth::Pass(_) => {
            let _ = writeln!(s, "   Authentication type = SIMPLE_PASSWORD");
            // Masked, as keepalived 2.4 does (2.2.7 printed it).
            let _ = writeln!(s, "   Password = ********");
        }
        Auth::Ah(_) => {
            let _ = writeln!(s, "   Authentication type = IPSEC_AH");
        }
        Auth::None if !v3 => {
            let _ = writeln!(s, "   Authentication type = none");
        }
        Auth::None => {}
    }
    if let Some(h) = &c.hmac {
        hmac_data(s, h, c.adver_int_micros());
    }
    if v3 && !v6 {
        let _ = writeln!(
            s,
            "   VRRPv3 uses VRRPv2 checksum = {}",
            if c.v3_checksum_as_v2 {
                "enabled"
            } else {
                "disabled"
            }
        );
    }
    if let Some(n) = f.kernel_rx_buf_size {
        let _ = writeln!(s, "   Kernel rx buffer size = {n}");
    }
    if f.debug != 0 {
        let _ = writeln!(s, "   Debug level = {}", f.debug);
    }
    let installed = live && i.state == vrrp::State::Master;
    let a = &c.addresses;
    if !a.vips.is_empty() {
        let _ = writeln!(s, "   Virtual IP ({}):", a.vips.len());
        for v in &a.vips {
            let _ = writeln!(s, "     {}", vip_line(v, c, f, installed));
        }
    }
    if !a.excluded.is_empty() {
        let _ = writeln!(s, "   Virtual IP Excluded :");
        for v in &a.excluded {
            let _ = writeln!(s, "     {}", vip_line(v, c, f, installed));
        }
    }
    if c.is_unicast() {
        let _ = writeln!(s, "   Unicast TTL = {}", c.unicast_ttl);
        let _ = writeln!(
            s,
            "   Check unicast src : {}",
            if c.check_unicast_src { "yes" } else { "no" }
        );
        let _ = writeln!(s, "   Unicast Peer :");
        for p in &c.unicast_peers {
            let _ = writeln!(
                s,
                "     {} min_ttl {} max_ttl {}",
                p.addr,
                p.min_ttl.unwrap_or(0),
                p.max_ttl.unwrap_or(255)
            );
        }
        let _ = writeln!(
            s,
            "   Unicast checksum compatibility = {}",
            if f.old_unicast_checksum {
                "config"
            } else {
                "no"
            }
        );
    }
    if !live {
        let _ = writeln!(s, "   No sockets allocated");
    }
    if !a.routes.is_empty() {
        let _ = writeln!(s, "   Virtual Routes :");
        for r in &a.routes {
            let _ = writeln!(s, "     {}", route_str(r));
        }
    }
    if !a.rules.is_empty() {
        let _ = writeln!(s, "   Virtual Rules :");
        for r in &a.rules {
            let _ = writeln!(s, "     {}", rule_str(r));
        }
    }
    let reverse = |t: &vrrp::TrackConfig| if t.reverse { " reverse" } else { "" };
    for (kind, title, comma) in [
        (vrrp::TrackKind::Interface, "Tracked interfaces :", ""),
        (vrrp::TrackKind::Script, "Tracked scripts :", ""),
        (vrrp::TrackKind::File, "Tracked files :", ","),
        (vrrp::TrackKind::Process, "Tracked processes :", ","),
    ] {
        let listed = listed_tracks(c, f);
        let mut ts = listed.into_iter().filter(|t| t.kind == kind).peekable();
        if ts.peek().is_some() {
            let _ = writeln!(s, "   {title}");
        }
        for t in ts {
            let _ = writeln!(
                s,
                "     {}{comma} weight {}{}",
                t.name,
                t.weight,
                reverse(t)
            );
        }
    }
    let _ = writeln!(
        s,
        "   Using smtp notification = {}",
        if f.smtp_alert { "yes" } else { "no" }
    );
    let _ = writeln!(
        s,
        "   Notify deleted = {}",
        if f.notify_deleted { "Deleted" } else { "Fault" }
    );
    for l in &f.notify_lines {
        let _ = writeln!(s, "   {l}");
    }
    let _ = writeln!(
        s,
        "   Notify priority changes = {}",
        f.notify_priority_changes
    );
}

/// A duration as keepalived's script dump shows it (`1 sec`, `0.500 sec`).
fn secs_str(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} sec", d.as_secs())
    } else {
        format!("{}.{:03} sec", d.as_secs(), d.subsec_millis())
    }
}

/// The sync groups, in keepalived 2.4.3's lines.
/// `live`: the state dump; else `-d`'s, taken before the start, where keepalived shows a
/// group not yet notified as BACKUP.
fn data_groups(
    s: &mut String,
    engine: &Engine,
    groups: &[GroupFacts],
    scripts: &HashMap<String, (TrackStatus, bool)>,
    live: bool,
) {
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(s, "------< VRRP Sync groups >------");
    for g in groups {
        let state = match engine.group_state(&g.name) {
            Some(st) if live || st != vrrp::State::Initialize => state_word(st),
            _ if live => "INIT",
            _ => "BACKUP",
        };
        let _ = writeln!(s, " VRRP Sync Group = {}, {state}", g.name);
        let count = |st: vrrp::State| {
            g.members
                .iter()
                .filter(|m| engine.instance(m).is_some_and(|i| i.state == st))
                .count()
        };
        // "init": members with a tracked script whose first result is still to come.
        let init = g
            .members
            .iter()
            .filter(|m| {
                engine.instance(m).is_some_and(|i| {
                    i.config.track.iter().any(|t| {
                        t.kind == vrrp::TrackKind::Script
                            && scripts
                                .get(&t.name)
                                .is_some_and(|(st, _)| *st == TrackStatus::Unknown)
                    })
                })
            })
            .count();
        let _ = writeln!(
            s,
            "   Num member fault {}, num member init {init}",
            count(vrrp::State::Fault),
        );
        if !g.members.is_empty() {
            let _ = writeln!(s, "   VRRP member instances :");
            for m in &g.members {
                let _ = writeln!(s, "     {m}");
            }
        }
        if g.tracking_weight {
            let _ = writeln!(s, "   sync group tracking weight set");
        }
        let _ = writeln!(
            s,
            "   Using smtp notification = {}",
            if g.smtp_alert { "yes" } else { "no" }
        );
        if g.priority_changes {
            let _ = writeln!(s, "   Notify priority changes = yes");
        }
        for l in g.track_lines.iter().chain(&g.notify_lines) {
            let _ = writeln!(s, "   {l}");
        }
    }
}

/// The `vrrp_script`s, in keepalived 2.4.3's lines. `Result` is keepalived's rise/fall
/// count as it stands once the status is settled (rise + fall - 1 when GOOD, 0 when BAD).
fn data_scripts(
    s: &mut String,
    engine: &Engine,
    facts: &[ScriptFacts],
    states: &HashMap<String, (TrackStatus, bool)>,
) {
    if facts.is_empty() {
        return;
    }
    let _ = writeln!(s, "------< VRRP Scripts >------");
    for f in facts {
        let (st, running) = states
            .get(&f.name)
            .copied()
            .unwrap_or((TrackStatus::Unknown, false));
        let _ = writeln!(s, " VRRP Script = {}", f.name);
        let _ = writeln!(s, "   Command = {}", f.cmd);
        if let Some(p) = &f.path {
            let _ = writeln!(s, "   Path = {p}");
        }
        let _ = writeln!(s, "   Interval = {}", secs_str(f.interval));
        let _ = writeln!(s, "   Timeout = {}", secs_str(f.timeout));
        let _ = writeln!(
            s,
            "   Weight = {}{}",
            f.weight,
            if f.reverse { " reverse" } else { "" }
        );
        let _ = writeln!(s, "   Rise = {}", f.rise);
        let _ = writeln!(s, "   Fall = {}", f.fall);
        let result = match st {
            TrackStatus::Up => f.rise + f.fall - 1,
            TrackStatus::Down => 0,
            _ if f.init_fail => 0,
            _ => f.rise.saturating_sub(1),
        };
        let _ = writeln!(s, "   Result = {result}");
        let _ = writeln!(s, "   Insecure = no");
        let init = match st {
            TrackStatus::Unknown if f.init_fail => "INIT/FAILED",
            TrackStatus::Unknown => "INIT",
            _ => "unknown",
        };
        let _ = writeln!(s, "   Init state = {init}");
        let good = if result >= f.rise { "GOOD" } else { "BAD" };
        let _ = writeln!(s, "   Status = {good}");
        let _ = writeln!(s, "   Script uid:gid = {}:{}", f.ids.0, f.ids.1);
        let _ = writeln!(s, "   VRRP instances :");
        let users: Vec<(String, i32)> = engine
            .instances()
            .flat_map(|i| {
                i.config
                    .track
                    .iter()
                    .filter(|t| t.kind == vrrp::TrackKind::Script && t.name == f.name)
                    .map(move |t| (i.name.to_string(), t.weight))
            })
            .collect();
        if !users.is_empty() {
            let _ = writeln!(s, "   Tracking instances :");
            for (n, w) in users {
                let _ = writeln!(s, "     {n}, weight {w}");
            }
        }
        let _ = writeln!(s, "   State = {}", if running { "running" } else { "idle" });
    }
}

/// The static addresses, routes and rules, in keepalived 2.4.3's lines, in place (they
/// are installed when the child starts).
fn data_statics(s: &mut String, st: &vrrp::AddressSet) {
    if !st.vips.is_empty() {
        let _ = writeln!(s, "------< Static Addresses >------");
        for v in &st.vips {
            let _ = writeln!(s, "     {}", vip_str(v, "", true));
        }
    }
    if !st.routes.is_empty() {
        let _ = writeln!(s, "------< Static Routes >------");
        for r in &st.routes {
            let _ = writeln!(s, "     {}", route_str(r));
        }
    }
    if !st.rules.is_empty() {
        let _ = writeln!(s, "------< Static Rules >------");
        for r in &st.rules {
            let _ = writeln!(s, "     {}", rule_str(r));
        }
    }
}

/// The `track_file`s, in keepalived 2.4.3's lines; `values`: each one's value as last
/// read.
fn data_files(
    s: &mut String,
    engine: &Engine,
    files: &[(String, String, i32, bool)],
    values: &HashMap<String, i64>,
) {
    if files.is_empty() {
        return;
    }
    let _ = writeln!(s, "------< VRRP Track files >------");
    for (name, path, weight, reverse) in files {
        let _ = writeln!(s, " Track file = {name}");
        let _ = writeln!(s, "   File = {path}");
        let _ = writeln!(s, "   Status = {}", values.get(name).copied().unwrap_or(0));
        let _ = writeln!(
            s,
            "   Weight = {weight}{}",
            if *reverse { " reverse" } else { "" }
        );
        let users: Vec<(String, i32)> = engine
            .instances()
            .flat_map(|i| {
                i.config
                    .track
                    .iter()
                    .filter(|t| t.kind == vrrp::TrackKind::File && t.name == *name)
                    .map(move |t| (i.name.to_string(), t.weight))
            })
            .collect();
        if !users.is_empty() {
            let _ = writeln!(s, "   Tracking instances :");
            for (n, w) in users {
                let _ = writeln!(s, "     {n}, weight {w}");
            }
        }
    }
}

/// What `-d` logs at start: the VRRP Topology as configured (keepalived 2.4.3's lines
/// without the state), the sync groups and the scripts.
pub fn conf_dump(engine: &Engine, facts: &DumpFacts) -> String {
    let mut s = String::new();
    let no = InstanceFacts::default();
    let none = HashMap::new();
    // Installed before the dump, in keepalived as in ours.
    data_statics(&mut s, &facts.statics);
    let _ = writeln!(s, "------< VRRP Topology >------");
    for i in engine.instances() {
        data_instance(
            &mut s,
            &i,
            facts.of(i.name).unwrap_or(&no),
            &none,
            None,
            false,
        );
    }
    data_groups(&mut s, engine, &facts.groups, &none, false);
    data_scripts(&mut s, engine, &facts.scripts, &none);
    data_files(&mut s, engine, &facts.files, &HashMap::new());
    s
}

/// [`data`] with the configuration's facts, each script's status and whether it is
/// running, and the times of the last transitions.
/// `files`: each `track_file`'s value as last read.
pub fn data_with(
    engine: &Engine,
    scripts: &HashMap<String, (TrackStatus, bool)>,
    facts: &DumpFacts,
    by_reason: &ByReason,
    files: &HashMap<String, i64>,
) -> String {
    let mut s = String::new();
    let no = InstanceFacts::default();
    data_statics(&mut s, &facts.statics);
    let _ = writeln!(s, "------< VRRP Topology >------");
    for i in engine.instances() {
        data_instance(
            &mut s,
            &i,
            facts.of(i.name).unwrap_or(&no),
            scripts,
            by_reason.last_transition(i.name),
            true,
        );
    }
    data_groups(&mut s, engine, &facts.groups, scripts, true);
    data_scripts(&mut s, engine, &facts.scripts, scripts);
    data_files(&mut s, engine, &facts.files, files);
    s
}

/// Counters minus a baseline (STATS_CLEAR zeroes by moving the baseline).
pub fn minus(a: &Stats, b: &Stats) -> Stats {
    Stats {
        adverts_rcvd: a.adverts_rcvd.saturating_sub(b.adverts_rcvd),
        adverts_sent: a.adverts_sent.saturating_sub(b.adverts_sent),
        became_master: a.became_master.saturating_sub(b.became_master),
        released_master: a.released_master.saturating_sub(b.released_master),
        packet_len_err: a.packet_len_err.saturating_sub(b.packet_len_err),
        ip_ttl_err: a.ip_ttl_err.saturating_sub(b.ip_ttl_err),
        version_err: a.version_err.saturating_sub(b.version_err),
        invalid_type_rcvd: a.invalid_type_rcvd.saturating_sub(b.invalid_type_rcvd),
        checksum_err: a.checksum_err.saturating_sub(b.checksum_err),
        advert_interval_err: a.advert_interval_err.saturating_sub(b.advert_interval_err),
        v2_interval_err: a.v2_interval_err.saturating_sub(b.v2_interval_err),
        addr_list_err: a.addr_list_err.saturating_sub(b.addr_list_err),
        invalid_authtype: a.invalid_authtype.saturating_sub(b.invalid_authtype),
        authtype_mismatch: a.authtype_mismatch.saturating_sub(b.authtype_mismatch),
        auth_failure: a.auth_failure.saturating_sub(b.auth_failure),
        dst_mode_err: a.dst_mode_err.saturating_sub(b.dst_mode_err),
        unicast_src_err: a.unicast_src_err.saturating_sub(b.unicast_src_err),
        owner_ignored: a.owner_ignored.saturating_sub(b.owner_ignored),
        pri_zero_rcvd: a.pri_zero_rcvd.saturating_sub(b.pri_zero_rcvd),
        pri_zero_sent: a.pri_zero_sent.saturating_sub(b.pri_zero_sent),
        hmac: a.hmac.minus(&b.hmac),
    }
}

fn stats_of(i: &InstanceStatus<'_>, base: &HashMap<String, Stats>) -> Stats {
    match base.get(i.name) {
        Some(b) => minus(i.stats, b),
        None => *i.stats,
    }
}

/// `keepalived.stats`.
pub fn stats(engine: &Engine, base: &HashMap<String, Stats>) -> String {
    let mut s = String::new();
    for i in engine.instances() {
        let st = stats_of(&i, base);
        let _ = writeln!(s, "VRRP Instance: {}", i.name);
        let _ = writeln!(s, "  Advertisements:");
        let _ = writeln!(s, "    Received: {}", st.adverts_rcvd);
        let _ = writeln!(s, "    Sent: {}", st.adverts_sent);
        let _ = writeln!(s, "  Became master: {}", st.became_master);
        let _ = writeln!(s, "  Released master: {}", st.released_master);
        let _ = writeln!(s, "  Packet Errors:");
        let _ = writeln!(s, "    Length: {}", st.packet_len_err);
        let _ = writeln!(s, "    TTL: {}", st.ip_ttl_err);
        let _ = writeln!(s, "    Invalid Type: {}", st.invalid_type_rcvd);
        let _ = writeln!(s, "    Advertisement Interval: {}", st.advert_interval_err);
        let _ = writeln!(s, "    Address List: {}", st.addr_list_err);
        let _ = writeln!(s, "  Authentication Errors:");
        let _ = writeln!(s, "    Invalid Type: {}", st.invalid_authtype);
        let _ = writeln!(s, "    Type Mismatch: {}", st.authtype_mismatch);
        let _ = writeln!(s, "    Failure: {}", st.auth_failure);
        if i.config.hmac.is_some() {
            hmac_stats(&mut s, &st.hmac);
        }
        let _ = writeln!(s, "  Priority Zero:");
        let _ = writeln!(s, "    Received: {}", st.pri_zero_rcvd);
        let _ = writeln!(s, "    Sent: {}", st.pri_zero_sent);
    }
    s
}

/// keepalived 2.4.3's `auth_hmac` lines of `keepalived.data` (keys never shown).
fn hmac_data(s: &mut String, h: &vrrp::hmac_auth::HmacConfig, adver_int_us: u64) {
    use vrrp::hmac_auth::{AntiReplay, HmacMode};
    let _ = writeln!(s, "   Authentication extension = HMAC-SHA256-128");
    let _ = writeln!(
        s,
        "     Keys = {}, active key id = {}",
        h.keys.len(),
        h.active_key
    );
    let mode = match h.mode {
        HmacMode::Enforce => "enforce",
        HmacMode::Permissive => "permissive",
        HmacMode::ReceiveOnly => "receive-only",
    };
    let _ = writeln!(s, "     Mode = {mode}");
    match h.anti_replay {
        AntiReplay::Time => {
            let w = h.window_ms(adver_int_us / 1000).div_ceil(1000);
            let _ = writeln!(s, "     Anti replay = time, window = {w} sec");
        }
        AntiReplay::Monotonic => {
            let _ = writeln!(s, "     Anti replay = monotonic");
        }
    }
}

/// keepalived 2.4.3's "Authentication Extension Errors" of `keepalived.stats`.
fn hmac_stats(s: &mut String, h: &vrrp::stats::HmacStats) {
    let _ = writeln!(s, "  Authentication Extension Errors:");
    let _ = writeln!(s, "    Missing: {}", h.missing);
    let _ = writeln!(s, "    Malformed: {}", h.malformed);
    let _ = writeln!(s, "    Unknown Key: {}", h.unknown_key);
    let _ = writeln!(s, "    Invalid HMAC: {}", h.invalid_hmac);
    let _ = writeln!(s, "    Stale: {}", h.stale);
    let _ = writeln!(s, "    Replay: {}", h.replay);
}

/// The counters in the order of [`COUNTER_NAMES`] (keepalived's JSON names). The last six
/// are drops keepalived 2.2.7 counts nowhere (its stats file and JSON have no name for
/// them); keepalived.stats keeps its layout, these are in the JSON only.
pub fn counter_values(st: &Stats) -> [u64; 26] {
    [
        st.adverts_rcvd,
        st.adverts_sent,
        st.became_master,
        st.released_master,
        st.packet_len_err,
        st.advert_interval_err,
        st.ip_ttl_err,
        st.invalid_type_rcvd,
        st.addr_list_err,
        st.invalid_authtype,
        st.authtype_mismatch,
        st.auth_failure,
        st.pri_zero_rcvd,
        st.pri_zero_sent,
        st.version_err,
        st.checksum_err,
        st.v2_interval_err,
        st.dst_mode_err,
        st.unicast_src_err,
        st.owner_ignored,
        st.hmac.missing,
        st.hmac.malformed,
        st.hmac.unknown_key,
        st.hmac.invalid_hmac,
        st.hmac.stale,
        st.hmac.replay,
    ]
}

/// Counters as name/value pairs (keepalived's JSON names).
pub fn counters(st: &Stats) -> Vec<(&'static str, u64)> {
    COUNTER_NAMES.into_iter().zip(counter_values(st)).collect()
}

/// Every reason a state changes, in the order of [`ByReason`]'s counts.
const REASONS: [Reason; 11] = [
    Reason::Startup,
    Reason::Resume,
    Reason::MasterDown,
    Reason::Owner,
    Reason::HigherPriority,
    Reason::Fault,
    Reason::FaultCleared,
    Reason::SyncGroup,
    Reason::Shutdown,
    Reason::Maintenance,
    Reason::TimerExpired,
];

fn reason_slot(r: Reason) -> usize {
    match r {
        Reason::Startup => 0,
        Reason::Resume => 1,
        Reason::MasterDown => 2,
        Reason::Owner => 3,
        Reason::HigherPriority => 4,
        Reason::Fault => 5,
        Reason::FaultCleared => 6,
        Reason::SyncGroup => 7,
        Reason::Shutdown => 8,
        Reason::Maintenance => 9,
        Reason::TimerExpired => 10,
    }
}

/// Changes of state per instance and reason since the child started: a fixed array of
/// counts per instance, and the time of its last change.
#[derive(Debug, Default)]
pub struct ByReason {
    /// Per instance: the counts, and when it last changed state (seconds since the
    /// epoch), under one key.
    counts: HashMap<Box<str>, ([u64; REASONS.len()], f64)>,
}

impl ByReason {
    /// `instance` changed state for `reason`.
    pub fn count(&mut self, instance: &str, reason: Reason) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let slot = reason_slot(reason);
        match self.counts.get_mut(instance) {
            Some((c, t)) => {
                c[slot] += 1;
                *t = now;
            }
            None => {
                let mut c = [0; REASONS.len()];
                c[slot] = 1;
                self.counts.insert(instance.into(), (c, now));
            }
        }
    }

    /// When `instance` last changed state, in seconds since the epoch.
    pub fn last_transition(&self, instance: &str) -> Option<f64> {
        self.counts.get(instance).map(|(_, t)| *t)
    }

    /// `instance`'s counts by [`Reason::as_str`], the reasons seen only.
    pub fn of(&self, instance: &str) -> Vec<(String, u64)> {
        self.counts
            .get(instance)
            .map(|(c, _)| {
                REASONS
                    .iter()
                    .zip(c)
                    .filter(|(_, n)| **n > 0)
                    .map(|(r, n)| (r.as_str().to_string(), *n))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The typed answer to a status request: per instance what only the engine knows (its
/// VIPs, the master heard, the counters, the reason of its last change and the changes by
/// reason) and the tracked scripts.
pub fn report(
    engine: &Engine,
    base: &HashMap<String, Stats>,
    scripts: &HashMap<String, (vrrp::TrackStatus, bool)>,
    by_reason: &ByReason,
) -> VrrpReport {
    let instances = engine
        .instances()
        .map(|i| InstanceReport {
            iname: i.name.to_string(),
            vips: i
                .config
                .addresses
                .vips
                .iter()
                .map(|v| format!("{}/{}", v.addr, v.prefix_len))
                .collect(),
            master_ipaddr: i.master.map(|m| m.to_string()),
            last_transition_reason: i.reason.map(|r| r.as_str().to_string()),
            sync_group: i.sync_group.map(str::to_string),
            stats: counter_values(&stats_of(&i, base)),
            transitions_by_reason: by_reason.of(i.name),
        })
        .collect();
    let scripts = scripts
        .iter()
        .map(|(name, (st, running))| {
            (
                name.clone(),
                ScriptState {
                    status: track_json_word(*st).to_string(),
                    state: if *running { "running" } else { "idle" }.to_string(),
                },
            )
        })
        .collect();
    VrrpReport { instances, scripts }
}

/// A tracked script's status as the JSON dump says it.
fn track_json_word(st: vrrp::TrackStatus) -> &'static str {
    match st {
        vrrp::TrackStatus::Up => "GOOD",
        vrrp::TrackStatus::Down => "BAD",
        _ => "INIT",
    }
}

/// `keepalived.json`: an array of `{"data": {...}, "stats": {...}}` as vrrp_json does.
/// `_scripts` (each tracked script's status) is no longer shown: keepalived lists a
/// tracked script's command line, which [`json_with`] has.
/// With `procs` (`json_version 2`): `{"vrrp": [...], "track_process": [...]}`, the
/// track processes with their counts, as keepalived 2.2.8+ writes it.
/// Without the configuration's facts ([`json_with`] has them): no notify scripts, no
/// script command lines, no transition times.
pub fn json(
    engine: &Engine,
    base: &HashMap<String, Stats>,
    _scripts: &HashMap<String, (vrrp::TrackStatus, bool)>,
    procs: Option<&vrrp::ProcessTrackers>,
) -> String {
    json_with(
        engine,
        base,
        procs,
        &DumpFacts::default(),
        &ByReason::default(),
    )
}

/// A number as keepalived's `%g` writes it: whole values without a fraction.
fn num(x: f64) -> serde_json::Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        serde_json::Value::from(x as i64)
    } else {
        serde_json::Value::from(x)
    }
}

/// keepalived's names of address scopes (`ip addr`'s).
fn scope_name(s: vrrp::install::Scope) -> String {
    match s {
        vrrp::install::Scope::Global => "global".into(),
        vrrp::install::Scope::Site => "site".into(),
        vrrp::install::Scope::Link => "link".into(),
        vrrp::install::Scope::Host => "host".into(),
        vrrp::install::Scope::Nowhere => "nowhere".into(),
        vrrp::install::Scope::Other(n) => n.to_string(),
    }
}

/// An address with its prefix, the prefix left out for a host address (keepalived's).
fn prefix_str(a: std::net::IpAddr, len: u8) -> String {
    let host = if a.is_ipv4() { 32 } else { 128 };
    if len == host {
        a.to_string()
    } else {
        format!("{a}/{len}")
    }
}

/// A virtual address as keepalived's dumps show it: `10.0.0.1/24 dev eth0 scope global`,
/// then the options set, then `set` while it is installed.
pub fn vip_str(v: &vrrp::Vip, iface: &str, installed: bool) -> String {
    let mut s = prefix_str(v.addr, v.prefix_len);
    let o = v.options.as_deref();
    if let Some(b) = o.and_then(|o| o.broadcast) {
        let _ = write!(s, " brd {b}");
    }
    let _ = write!(s, " dev {}", v.dev.as_deref().unwrap_or(iface));
    let scope = o.map_or(vrrp::install::Scope::Global, |o| o.scope);
    let _ = write!(s, " scope {}", scope_name(scope));
    if let Some(o) = o {
        if let Some(l) = &o.label {
            let _ = write!(s, " label {l}");
        }
        if let Some(p) = o.peer {
            let _ = write!(s, " peer {p}/{}", v.prefix_len);
        }
        for (on, word) in [
            (o.home, " home"),
            (o.nodad && v.addr.is_ipv6(), " -nodad"),
            (o.mngtmpaddr, " mngtmpaddr"),
            (o.noprefixroute, " noprefixroute"),
            (o.autojoin, " autojoin"),
        ] {
            if on {
                s.push_str(word);
            }
        }
    }
    if v.addr.is_ipv6() {
        match o.and_then(|o| o.preferred_lft) {
            Some(0) => s.push_str(" deprecated"),
            Some(n) if n != u32::MAX => {
                let _ = write!(s, " preferred_lft {n}");
            }
            _ => s.push_str(" preferred_lft forever"),
        }
    }
    if installed {
        s.push_str(" set");
    }
    s
}

fn route_kind_name(k: vrrp::install::RouteKind) -> &'static str {
    match k {
        vrrp::install::RouteKind::Unicast => "unicast",
        vrrp::install::RouteKind::Blackhole => "blackhole",
        vrrp::install::RouteKind::Unreachable => "unreachable",
        vrrp::install::RouteKind::Prohibit => "prohibit",
        vrrp::install::RouteKind::Throw => "throw",
        vrrp::install::RouteKind::Local => "local",
        vrrp::install::RouteKind::Broadcast => "broadcast",
        vrrp::install::RouteKind::Anycast => "anycast",
        vrrp::install::RouteKind::Multicast => "multicast",
        vrrp::install::RouteKind::Nat => "nat",
    }
}

/// The protocol keepalived marks its routes and rules with (`RTPROT_KEEPALIVED`).
const RTPROT_KEEPALIVED: u8 = 18;

/// A virtual route as keepalived's dumps show it
/// (`prepend 10.9.0.0/24 via inet 10.0.0.254 dev eth0 proto 18 metric 5`).
pub fn route_str(r: &vrrp::install::Route) -> String {
    let mut s = String::from("prepend ");
    if r.kind != vrrp::install::RouteKind::Unicast {
        let _ = write!(s, "{} ", route_kind_name(r.kind));
    }
    if r.dst.1 == 0 {
        s.push_str("default");
    } else {
        s.push_str(&prefix_str(r.dst.0, r.dst.1));
    }
    if let Some((a, l)) = r.from {
        let _ = write!(s, " from {}", prefix_str(a, l));
    }
    if let Some(a) = r.src {
        let _ = write!(s, " src {a}");
    }
    if let Some(v) = r.via {
        let fam = if v.is_ipv6() { "inet6" } else { "inet" };
        let _ = write!(s, " via {fam} {v}");
    }
    if let Some(d) = &r.dev {
        let _ = write!(s, " dev {d}");
    }
    if let Some(t) = r.table.filter(|t| *t != 254) {
        let _ = write!(s, " table {t}");
    }
    let _ = write!(s, " proto {RTPROT_KEEPALIVED}");
    if let Some(sc) = r.scope {
        let _ = write!(s, " scope {}", u8::from(sc));
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    if r.onlink && r.dst.0.is_ipv4() {
        s.push_str(" onlink");
    }
    s
}

/// A virtual rule as keepalived's dumps show it
/// (`from 10.0.0.1 priority 100 tos 0x0 protocol 18 lookup 100`).
pub fn rule_str(r: &vrrp::install::Rule) -> String {
    let mut s = String::new();
    if r.v6 && r.from.is_none() && r.to.is_none() {
        s.push_str("inet6 ");
    }
    if r.invert {
        s.push_str("not ");
    }
    match r.from {
        Some((a, l)) => {
            let _ = write!(s, "from {}", prefix_str(a, l));
        }
        None => s.push_str("from all"),
    }
    if let Some((a, l)) = r.to {
        let _ = write!(s, " to {}", prefix_str(a, l));
    }
    if let Some(p) = r.priority {
        let _ = write!(s, " priority {p}");
    }
    s.push_str(" tos 0x0");
    if let Some((m, mask)) = r.fwmark {
        let _ = write!(s, " fwmark {m:#x}");
        if let Some(k) = mask.filter(|k| *k != u32::MAX) {
            let _ = write!(s, "/{k:#x}");
        }
    }
    if let Some(i) = &r.iif {
        let _ = write!(s, " iif {i}");
    }
    if let Some(o) = &r.oif {
        let _ = write!(s, " oif {o}");
    }
    if r.action == vrrp::install::RuleAction::L3mdev {
        s.push_str(" l3mdev");
    }
    let _ = write!(s, " protocol {RTPROT_KEEPALIVED}");
    match r.action {
        vrrp::install::RuleAction::Table(t) => {
            let _ = write!(s, " lookup {t}");
        }
        vrrp::install::RuleAction::L3mdev => s.push_str(" lookup 0"),
        vrrp::install::RuleAction::Goto(p) => {
            let _ = write!(s, " goto {p}");
        }
        vrrp::install::RuleAction::Nop => s.push_str(" nop"),
        vrrp::install::RuleAction::Blackhole => s.push_str(" type blackhole"),
        vrrp::install::RuleAction::Unreachable => s.push_str(" type unreachable"),
        vrrp::install::RuleAction::Prohibit => s.push_str(" type prohibit"),
    }
    s
}

/// A command line as keepalived's dumps show it: each word in single quotes (a quote
/// inside as `'\''`), but a first word that is only a redirection (`<file`).
pub fn cmd_str(args: &[String]) -> String {
    args.iter()
        .enumerate()
        .map(|(n, a)| {
            if n == 0 && (a.starts_with('<') || a.starts_with('>')) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the dumps show of an instance that the engine does not carry, from the
/// configuration. Instances with keepalived's defaults for all of it have no entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceFacts {
    /// `smtp_alert`, resolved as keepalived does (the instance's, else `smtp_alert_vrrp`,
    /// else `smtp_alert`, else off).
    pub smtp_alert: bool,
    /// `notify_deleted`.
    pub notify_deleted: bool,
    /// `promote_secondaries`.
    pub promote_secondaries: bool,
    /// `strict_mode` (or the global `vrrp_strict`).
    pub strict_mode: bool,
    /// The VMAC interface's name.
    pub vmac_ifname: Option<String>,
    /// The VMAC's base interface (the configured `interface`).
    pub vmac_base: Option<String>,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: bool,
    /// Notify scripts: keepalived's JSON key and the command line.
    pub scripts: Vec<(&'static str, String)>,
    /// The notify scripts' lines of keepalived.data (`Master state transition script =
    /// ..., uid:gid 0:0`).
    pub notify_lines: Vec<String>,
    /// `notify_priority_changes`.
    pub notify_priority_changes: bool,
    /// `kernel_rx_buf_size`.
    pub kernel_rx_buf_size: Option<u32>,
    /// `debug`.
    pub debug: u8,
    /// `old_unicast_checksum`.
    pub old_unicast_checksum: bool,
}

/// The user and group a script runs as (keepalived's rule: its own, else `script_user`,
/// else `keepalived_script`, else root; the daemon's own when not root).
fn script_ids(
    s: &ka_proto::config::Script,
    g: &ka_proto::config::global::GlobalDefs,
) -> (u32, u32) {
    let own = s.user.as_deref().map(|u| (u, s.group.as_deref()));
    let global = g
        .script_user
        .as_ref()
        .map(|(u, g)| (u.as_str(), g.as_deref()));
    match vrrp::linux::script::script_user(own, global) {
        Ok(Some(u)) => (u.uid, u.gid),
        _ => (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        ),
    }
}

/// The real path of a command's first word when it differs from it (a symlink, `..`).
fn real_path(args: &[String]) -> Option<String> {
    let first = args.first()?;
    match std::fs::canonicalize(first) {
        Ok(real) if real.as_os_str() != first.as_str() => Some(real.display().to_string()),
        _ => None,
    }
}

/// A notify script's line of keepalived.data: its real path when that differs from the
/// command's first word, the command line, and the user and group it runs as.
fn notify_line(
    what: &str,
    s: &ka_proto::config::Script,
    g: &ka_proto::config::global::GlobalDefs,
) -> String {
    let ids = script_ids(s, g);
    let cmd = cmd_str(&s.args);
    match real_path(&s.args) {
        Some(real) => format!(
            "{what} state transition script = {real}, params = {cmd}, uid:gid {}:{}",
            ids.0, ids.1
        ),
        None => format!(
            "{what} state transition script = {cmd}, uid:gid {}:{}",
            ids.0, ids.1
        ),
    }
}

/// A sync group's facts from the configuration.
fn group_facts(sg: &ka_proto::config::VrrpSyncGroup, cfg: &ka_proto::config::Config) -> GroupFacts {
    let g = &cfg.global;
    let mut track_lines = Vec::new();
    let script_weight = |n: &str| {
        cfg.vrrp_scripts
            .iter()
            .find(|s| s.name == n)
            .map_or((0, false), |s| (s.weight, s.weight_reverse))
    };
    let file_weight = |n: &str| {
        cfg.track_files
            .iter()
            .find(|s| s.name == n)
            .map_or((1, false), |s| (s.weight, s.weight_reverse))
    };
    let lists: [(&str, &str, &Vec<ka_proto::config::TrackRef>); 4] = [
        ("Tracked interfaces :", "", &sg.track_interface),
        ("Tracked scripts :", "", &sg.track_script),
        ("Tracked files :", ",", &sg.track_file),
        ("Tracked process :", ",", &sg.track_process),
    ];
    for (n, (title, comma, list)) in lists.into_iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        track_lines.push(title.to_string());
        for t in list {
            let (w, r) = match n {
                1 => script_weight(&t.name),
                2 => file_weight(&t.name),
                _ => (0, false),
            };
            let weight = t.weight.unwrap_or(w);
            let reverse = if t.reverse.unwrap_or(r) {
                " reverse"
            } else {
                ""
            };
            track_lines.push(format!("  {}{comma} weight {weight}{reverse}", t.name));
        }
    }
    let n = &sg.notify;
    let notify_lines = [
        ("Backup", &n.backup),
        ("Master", &n.master),
        ("Fault", &n.fault),
        ("Stop", &n.stop),
        ("Generic", &n.notify),
    ]
    .iter()
    .filter_map(|(what, s)| s.as_ref().map(|s| notify_line(what, s, g)))
    .collect();
    GroupFacts {
        name: sg.name.clone(),
        members: sg.group.clone(),
        tracking_weight: sg.sync_group_tracking_weight,
        smtp_alert: sg
            .smtp_alert
            .or(g.smtp_alert_vrrp)
            .or(g.smtp_alert)
            .unwrap_or(false),
        priority_changes: n.priority_changes.unwrap_or(false),
        track_lines,
        notify_lines,
    }
}

/// The configuration's facts for the dumps: per instance ([`InstanceFacts`]) and the
/// command line of each `vrrp_script`.
#[derive(Debug, Clone, Default)]
pub struct DumpFacts {
    instances: std::collections::BTreeMap<String, InstanceFacts>,
    script_cmds: HashMap<String, String>,
    groups: Vec<GroupFacts>,
    scripts: Vec<ScriptFacts>,
    /// `track_file`s referenced: name, path, weight, reverse.
    files: Vec<(String, String, i32, bool)>,
    /// `static_ipaddress`, `static_routes`, `static_rules`.
    statics: vrrp::AddressSet,
}

/// A sync group as keepalived.data shows it, but its state and its members' (the
/// engine's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupFacts {
    name: String,
    members: Vec<String>,
    tracking_weight: bool,
    smtp_alert: bool,
    priority_changes: bool,
    /// The "Tracked ... :" lines, titles and entries.
    track_lines: Vec<String>,
    notify_lines: Vec<String>,
}

/// A `vrrp_script` as keepalived.data shows it, but its result and state (the runner's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptFacts {
    name: String,
    cmd: String,
    /// The real path when it differs from the command's first word.
    path: Option<String>,
    interval: std::time::Duration,
    timeout: std::time::Duration,
    weight: i32,
    reverse: bool,
    rise: u32,
    fall: u32,
    init_fail: bool,
    ids: (u32, u32),
}

impl DumpFacts {
    /// From a (re)loaded configuration and its plan (the VMAC names).
    pub fn new(cfg: &ka_proto::config::Config, plan: &super::map::Plan) -> DumpFacts {
        let g = &cfg.global;
        let mut instances = std::collections::BTreeMap::new();
        for vi in &cfg.vrrp_instances {
            let n = &vi.notify;
            let all = [
                ("script_backup", "Backup", &n.backup),
                ("script_master", "Master", &n.master),
                ("script_fault", "Fault", &n.fault),
                ("script_stop", "Stop", &n.stop),
                ("script_deleted", "Deleted", &n.deleted),
                ("script", "Generic", &n.notify),
                (
                    "script_master_rx_lower_pri",
                    "Master rx lower pri",
                    &n.master_rx_lower_pri,
                ),
            ];
            let scripts: Vec<(&'static str, String)> = all
                .iter()
                .filter_map(|(k, _, s)| s.as_ref().map(|s| (*k, cmd_str(&s.args))))
                .collect();
            let notify_lines = all
                .iter()
                .filter_map(|(_, what, s)| s.as_ref().map(|s| notify_line(what, s, g)))
                .collect();
            let f = InstanceFacts {
                smtp_alert: vi
                    .smtp_alert
                    .or(g.smtp_alert_vrrp)
                    .or(g.smtp_alert)
                    .unwrap_or(false),
                notify_deleted: n.notify_deleted,
                promote_secondaries: vi.promote_secondaries,
                strict_mode: vi.strict_mode || g.vrrp_strict,
                vmac_ifname: plan
                    .extra
                    .get(&vi.name)
                    .and_then(|e| e.vmac.as_ref())
                    .map(|v| v.name.clone()),
                vmac_base: plan
                    .extra
                    .get(&vi.name)
                    .filter(|e| e.vmac.is_some())
                    .map(|e| e.base_interface.clone()),
                vmac_xmit_base: vi.use_vmac.as_ref().is_some_and(|v| v.xmit_base),
                scripts,
                notify_lines,
                notify_priority_changes: plan
                    .extra
                    .get(&vi.name)
                    .and_then(|e| e.notify.priority_changes)
                    .unwrap_or(plan.notify_priority_changes),
                kernel_rx_buf_size: vi.kernel_rx_buf_size,
                debug: vi.debug,
                old_unicast_checksum: vi.old_unicast_checksum,
            };
            if f != InstanceFacts::default() {
                instances.insert(vi.name.clone(), f);
            }
        }
        let script_cmds = plan
            .scripts
            .iter()
            .map(|s| (s.name.clone(), cmd_str(&s.script.args)))
            .collect();
        let groups = cfg
            .sync_groups
            .iter()
            .map(|sg| group_facts(sg, cfg))
            .collect();
        let scripts = plan
            .scripts
            .iter()
            .map(|vs| ScriptFacts {
                name: vs.name.clone(),
                cmd: cmd_str(&vs.script.args),
                path: real_path(&vs.script.args),
                interval: vs.interval,
                timeout: vs.timeout,
                weight: vs.weight,
                reverse: vs.weight_reverse,
                rise: vs.rise,
                fall: vs.fall,
                init_fail: vs.init_fail,
                ids: script_ids(&vs.script, g),
            })
            .collect();
        let files = plan
            .track_files
            .iter()
            .map(|(name, path, _, _)| {
                let (w, r) = cfg
                    .track_files
                    .iter()
                    .find(|t| t.name == *name)
                    .map_or((1, false), |t| (t.weight, t.weight_reverse));
                (name.clone(), path.clone(), w, r)
            })
            .collect();
        DumpFacts {
            instances,
            script_cmds,
            groups,
            scripts,
            files,
            statics: plan.statics.clone(),
        }
    }

    fn of(&self, instance: &str) -> Option<&InstanceFacts> {
        self.instances.get(instance)
    }

    /// The names of the `track_file`s referenced.
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.0.as_str())
    }
}

/// One instance's `data` object: keepalived 2.4.3's fields (vrrp_json.c) as far as we
/// know the facts, and four of ours (`state_name`, `master_ipaddr`, `sync_group`,
/// `last_transition_reason`).
fn json_data(
    i: &InstanceStatus<'_>,
    facts: Option<&InstanceFacts>,
    script_cmds: &HashMap<String, String>,
    last_transition: Option<f64>,
) -> serde_json::Value {
    use serde_json::Value;
    let c = i.config;
    let no = InstanceFacts::default();
    let f = facts.unwrap_or(&no);
    let state = match i.state {
        vrrp::State::Initialize => 0,
        vrrp::State::Backup => 1,
        vrrp::State::Master => 2,
        vrrp::State::Fault => 3,
    };
    let installed = i.state == vrrp::State::Master;
    let mut d = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        d.insert(k.to_string(), v);
    };
    put("iname", i.name.into());
    put("master_priority", i.master_priority.into());
    put("dont_track_primary", u8::from(c.dont_track_primary).into());
    put(
        "skip_check_adv_addr",
        u8::from(c.skip_check_adv_addr).into(),
    );
    put("strict_mode", u8::from(f.strict_mode).into());
    put(
        "vmac_ifname",
        f.vmac_ifname.as_deref().unwrap_or_default().into(),
    );
    if !c.interface.is_empty() {
        put("ifp_ifname", c.interface.as_str().into());
    }
    if let Some(t) = last_transition {
        put("last_transition", t.into());
    }
    let g = &c.garp;
    put("garp_delay", num(g.master_delay.as_secs_f64()));
    put(
        "garp_refresh",
        g.master_refresh.map_or(0, |d| d.as_secs()).into(),
    );
    put("garp_rep", g.master_repeat.into());
    put("garp_refresh_rep", g.master_refresh_repeat.into());
    put("garp_lower_prio_delay", g.lower_prio_delay.as_secs().into());
    put("garp_lower_prio_rep", g.lower_prio_repeat.into());
    put(
        "lower_prio_no_advert",
        u8::from(c.lower_prio_no_advert).into(),
    );
    put(
        "higher_prio_send_advert",
        u8::from(c.higher_prio_send_advert).into(),
    );
    put("vrid", c.vrid.into());
    put("base_priority", c.priority.into());
    put("effective_priority", i.priority.into());
    put("vipset", (installed && !c.addresses.is_empty()).into());
    put("promote_secondaries", f.promote_secondaries.into());
    put("adver_int", num(c.adver_int_micros() as f64 / 1e6));
    put(
        "master_adver_int",
        num(i.master_adver_int.as_micros() as f64 / 1e6),
    );
    put("accept", u8::from(c.accept).into());
    put("nopreempt", (!c.preempt).into());
    put("preempt_delay", c.preempt_delay.as_secs().into());
    put("state", state.into());
    put("wantstate", state.into());
    put(
        "version",
        match c.version {
            Version::V2 => 2,
            Version::V3 => 3,
        }
        .into(),
    );
    put("smtp_alert", f.smtp_alert.into());
    put("notify_deleted", f.notify_deleted.into());
    for (k, cmd) in &f.scripts {
        put(k, cmd.as_str().into());
    }
    let list = |v: Vec<String>| Value::from(v);
    let a = &c.addresses;
    if !a.vips.is_empty() {
        put(
            "vips",
            list(
                a.vips
                    .iter()
                    .map(|v| vip_line(v, c, f, installed))
                    .collect(),
            ),
        );
    }
    if !a.excluded.is_empty() {
        put(
            "evips",
            list(
                a.excluded
                    .iter()
                    .map(|v| vip_line(v, c, f, installed))
                    .collect(),
            ),
        );
    }
    if !a.routes.is_empty() {
        put("vroutes", list(a.routes.iter().map(route_str).collect()));
    }
    if !a.rules.is_empty() {
        put("vrules", list(a.rules.iter().map(rule_str).collect()));
    }
    let listed = listed_tracks(c, f);
    let tracked = |kind: vrrp::TrackKind| listed.iter().filter(move |t| t.kind == kind);
    let ifs: Vec<String> = tracked(vrrp::TrackKind::Interface)
        .map(|t| t.name.clone())
        .collect();
    if !ifs.is_empty() {
        put("track_ifp", list(ifs));
    }
    let scr: Vec<String> = tracked(vrrp::TrackKind::Script)
        .map(|t| {
            script_cmds
                .get(&t.name)
                .cloned()
                .unwrap_or_else(|| t.name.clone())
        })
        .collect();
    if !scr.is_empty() {
        put("track_script", list(scr));
    }
    let procs: Vec<String> = tracked(vrrp::TrackKind::Process)
        .map(|t| t.name.clone())
        .collect();
    if !procs.is_empty() {
        put("track_process", list(procs));
    }
    let auth_type: u8 = match c.auth {
        Auth::None => 0,
        Auth::Pass(_) => 1,
        Auth::Ah(_) => 2,
    };
    put("auth_type", auth_type.into());
    if auth_type != 0 {
        put("auth_data", "********".into());
    }
    // Ours.
    put("state_name", i.state.as_str().into());
    put("master_ipaddr", i.master.map(|m| m.to_string()).into());
    put("sync_group", i.sync_group.into());
    put(
        "last_transition_reason",
        i.reason.map(vrrp::Reason::as_str).into(),
    );
    Value::Object(d)
}

/// [`json`] with the configuration's facts and the times of the last transitions.
pub fn json_with(
    engine: &Engine,
    base: &HashMap<String, Stats>,
    procs: Option<&vrrp::ProcessTrackers>,
    facts: &DumpFacts,
    by_reason: &ByReason,
) -> String {
    let arr: Vec<serde_json::Value> = engine
        .instances()
        .map(|i| {
            let st = stats_of(&i, base);
            let mut stats = serde_json::Map::new();
            for (k, v) in counters(&st) {
                stats.insert(k.to_string(), serde_json::Value::from(v));
            }
            let data = json_data(
                &i,
                facts.of(i.name),
                &facts.script_cmds,
                by_reason.last_transition(i.name),
            );
            serde_json::json!({ "data": data, "stats": stats })
        })
        .collect();
    let doc = match procs {
        None => serde_json::Value::Array(arr),
        Some(p) => serde_json::json!({
            "vrrp": arr,
            "track_process": p.views().map(|v| track_process_json(engine, v)).collect::<Vec<_>>(),
        }),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

/// One `vrrp_track_process` in `json_version 2`'s `track_process` array (keepalived's
/// field names; the weight is the one the first instance tracking it gives).
fn track_process_json(engine: &Engine, v: vrrp::ProcessTrackerView<'_>) -> serde_json::Value {
    let c = v.config;
    let weight = engine
        .instances()
        .flat_map(|i| i.config.track.iter())
        .find(|t| t.kind == vrrp::TrackKind::Process && t.name == c.name)
        .map_or(0, |t| t.weight);
    let param_match = match c.spec.mode {
        vrrp::process::ParamMode::Ignore => "none",
        vrrp::process::ParamMode::Exact => "exact",
        vrrp::process::ParamMode::Partial => "partial",
        vrrp::process::ParamMode::Initial => "initial",
    };
    serde_json::json!({
        "process": c.name,
        "param_match": param_match,
        "min_processes": c.quorum,
        "current_processes": v.current,
        "have_quorum": v.have_quorum,
        "weight": weight,
        "terminate_delay": c.terminate_delay.as_secs_f64(),
        "fork_delay": c.fork_delay.as_secs_f64(),
        "fork_delay_timer_running": v.fork_delay_running,
        "terminate_delay_timer_running": v.terminate_delay_running,
        "full_command": c.spec.full_command,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use vrrp::{EngineConfig, InstanceConfig};

    fn engine() -> Engine {
        let mut c = InstanceConfig::new("VI_1", "eth0", 51, &["192.0.2.100".parse().unwrap()]);
        c.src_addr = Some("192.0.2.1".parse().unwrap());
        Engine::new(EngineConfig {
            instances: vec![c],
            sync_groups: vec![],
        })
        .unwrap()
    }

    #[test]
    fn auth_hmac_lines_are_keepalived_2_4_3_s_and_show_no_key() {
        let mut c = InstanceConfig::new("VI_1", "eth0", 51, &["192.0.2.100".parse().unwrap()]);
        let mut h = vrrp::hmac_auth::HmacConfig::single(1, b"0123456789abcdef0123456789abcdef");
        h.keys.push(vrrp::hmac_auth::HmacKey {
            id: 2,
            key: b"zyxwvutsrqponmlkjihgfedcbazyxwvu".to_vec(),
        });
        h.active_key = 2;
        h.mode = vrrp::hmac_auth::HmacMode::Permissive;
        h.time_window = Some(7);
        c.hmac = Some(h);
        let e = Engine::new(EngineConfig {
            instances: vec![c],
            sync_groups: vec![],
        })
        .unwrap();
        let d = data(&e, &[]);
        assert!(
            d.contains(
                "   Authentication type = none\n   Authentication extension = HMAC-SHA256-128\n     \
                 Keys = 2, active key id = 2\n     Mode = permissive\n     \
                 Anti replay = time, window = 7 sec\n"
            ),
            "{d}"
        );
        assert!(!d.contains("0123456789") && !d.contains("zyxw"));
        let s = stats(&e, &HashMap::new());
        assert!(
            s.contains(
                "    Failure: 0\n  Authentication Extension Errors:\n    Missing: 0\n    \
                 Malformed: 0\n    Unknown Key: 0\n    Invalid HMAC: 0\n    Stale: 0\n    \
                 Replay: 0\n  Priority Zero:\n"
            ),
            "{s}"
        );
        let j: serde_json::Value =
            serde_json::from_str(&json(&e, &HashMap::new(), &HashMap::new(), None)).unwrap();
        assert_eq!(j[0]["stats"]["auth_ext_invalid_hmac"], 0);
        // Without auth_hmac: keepalived 2.2.7's layout.
        assert!(!stats(&engine(), &HashMap::new()).contains("Extension"));
    }

    #[test]
    fn dumps_name_the_instance() {
        let e = engine();
        let d = data(&e, &[("chk".into(), "/bin/true".into(), TrackStatus::Up)]);
        assert!(d.contains(" VRRP Instance = VI_1"));
        assert!(d.contains("   State = INIT"));
        assert!(d.contains("Status = GOOD"));
        let s = stats(&e, &HashMap::new());
        assert!(s.starts_with("VRRP Instance: VI_1\n"));
        let j: serde_json::Value =
            serde_json::from_str(&json(&e, &HashMap::new(), &HashMap::new(), None)).unwrap();
        assert_eq!(j[0]["data"]["iname"], "VI_1");
        assert_eq!(j[0]["stats"]["advert_sent"], 0);
        assert_eq!(j[0]["stats"]["checksum_err"], 0);
    }

    #[test]
    fn the_report_has_the_counters_the_json_has_and_transitions_by_reason() {
        let e = engine();
        let mut by = ByReason::default();
        by.count("VI_1", Reason::Startup);
        by.count("VI_1", Reason::MasterDown);
        by.count("VI_1", Reason::MasterDown);
        by.count("GONE", Reason::Fault);
        let scripts: HashMap<String, (TrackStatus, bool)> =
            [("chk".to_string(), (TrackStatus::Down, true))].into();
        let r = report(&e, &HashMap::new(), &scripts, &by);
        assert_eq!(r.instances.len(), 1);
        let i = &r.instances[0];
        assert_eq!(i.iname, "VI_1");
        assert_eq!(i.vips, ["192.0.2.100/32"]);
        assert_eq!(
            i.transitions_by_reason,
            [("startup".to_string(), 1), ("master_down".to_string(), 2)]
        );
        assert_eq!(
            (r.scripts[0].0.as_str(), r.scripts[0].1.status.as_str()),
            ("chk", "BAD")
        );
        assert_eq!(r.scripts[0].1.state, "running");
        // The same counters, under the same names, as the JSON dump.
        let j: serde_json::Value =
            serde_json::from_str(&json(&e, &HashMap::new(), &scripts, None)).unwrap();
        for (n, v) in COUNTER_NAMES.iter().zip(i.stats) {
            assert_eq!(j[0]["stats"][n], v, "{n}");
        }
        assert_eq!(
            j[0]["stats"].as_object().unwrap().len(),
            COUNTER_NAMES.len()
        );
        assert!(by.of("NONE").is_empty());
    }

    #[test]
    fn json_version_2_names_the_arrays_and_lists_the_track_processes() {
        let mut c = InstanceConfig::new("VI_1", "eth0", 51, &["192.0.2.100".parse().unwrap()]);
        c.src_addr = Some("192.0.2.1".parse().unwrap());
        c.track.push(vrrp::TrackConfig {
            kind: vrrp::TrackKind::Process,
            name: "tp".into(),
            weight: 5,
            reverse: false,
        });
        let e = Engine::new(EngineConfig {
            instances: vec![c],
            sync_groups: vec![],
        })
        .unwrap();
        let procs = vrrp::ProcessTrackers::new(vec![vrrp::ProcessTrackerConfig {
            name: "tp".into(),
            spec: vrrp::ProcessSpec {
                name: "sleep".into(),
                params: vec![],
                mode: vrrp::process::ParamMode::Ignore,
                full_command: false,
            },
            quorum: 1,
            quorum_max: None,
            fork_delay: std::time::Duration::ZERO,
            terminate_delay: std::time::Duration::ZERO,
        }]);
        let j: serde_json::Value =
            serde_json::from_str(&json(&e, &HashMap::new(), &HashMap::new(), Some(&procs)))
                .unwrap();
        assert_eq!(j["vrrp"][0]["data"]["iname"], "VI_1");
        let tp = &j["track_process"][0];
        assert_eq!(tp["process"], "tp");
        assert_eq!(tp["param_match"], "none");
        assert_eq!(tp["min_processes"], 1);
        assert_eq!(tp["current_processes"], 0);
        assert_eq!(tp["have_quorum"], false);
        assert_eq!(tp["weight"], 5);
    }

    #[test]
    fn addresses_routes_and_rules_read_as_keepalived_2_4_3_writes_them() {
        use vrrp::install::{Route, RouteKind, Rule, RuleAction};
        let mut v = vrrp::Vip::host("192.0.2.100".parse().unwrap());
        assert_eq!(
            vip_str(&v, "eth0", true),
            "192.0.2.100 dev eth0 scope global set"
        );
        v.prefix_len = 24;
        v.dev = Some("eth1".into());
        assert_eq!(
            vip_str(&v, "eth0", false),
            "192.0.2.100/24 dev eth1 scope global"
        );
        let mut r = Route::new("10.99.0.0".parse().unwrap(), 24);
        r.via = Some("192.0.2.254".parse().unwrap());
        r.dev = Some("eth0".into());
        assert_eq!(
            route_str(&r),
            "prepend 10.99.0.0/24 via inet 192.0.2.254 dev eth0 proto 18"
        );
        let mut r = Route::new("192.168.77.0".parse().unwrap(), 24);
        r.dev = Some("eth1".into());
        r.metric = Some(5);
        r.table = Some(254);
        assert_eq!(
            route_str(&r),
            "prepend 192.168.77.0/24 dev eth1 proto 18 metric 5"
        );
        let mut r = Route::new("10.97.0.0".parse().unwrap(), 16);
        r.kind = RouteKind::Blackhole;
        assert_eq!(route_str(&r), "prepend blackhole 10.97.0.0/16 proto 18");
        let mut rule = Rule::to_table(false, 100);
        rule.from = Some(("192.0.2.100".parse().unwrap(), 32));
        rule.priority = Some(20);
        assert_eq!(
            rule_str(&rule),
            "from 192.0.2.100 priority 20 tos 0x0 protocol 18 lookup 100"
        );
        let mut rule = Rule::to_table(true, 7);
        rule.fwmark = Some((0x10, Some(0xff)));
        rule.action = RuleAction::Goto(40);
        assert_eq!(
            rule_str(&rule),
            "inet6 from all tos 0x0 fwmark 0x10/0xff protocol 18 goto 40"
        );
        assert_eq!(
            cmd_str(&["/bin/x".into(), "master".into()]),
            "'/bin/x' 'master'"
        );
    }

    #[test]
    fn json_data_has_keepalived_2_4_3_s_fields_with_its_types() {
        let e = engine();
        let mut by = ByReason::default();
        by.count("VI_1", Reason::Startup);
        let j: serde_json::Value = serde_json::from_str(&json_with(
            &e,
            &HashMap::new(),
            None,
            &DumpFacts::default(),
            &by,
        ))
        .unwrap();
        let d = &j[0]["data"];
        assert_eq!(d["version"], 2);
        assert_eq!(d["adver_int"], 1);
        assert!(
            d["adver_int"].is_u64(),
            "a whole number as keepalived's %g: {d}"
        );
        assert_eq!(d["garp_delay"], 5);
        assert_eq!(d["garp_rep"], 5);
        assert_eq!(d["accept"], 1);
        assert_eq!(d["dont_track_primary"], 0);
        assert_eq!(d["vmac_ifname"], "");
        assert_eq!(d["auth_type"], 0);
        assert!(d.get("auth_data").is_none());
        assert_eq!(d["vips"][0], "192.0.2.100 dev eth0 scope global");
        assert!(d["last_transition"].as_f64().unwrap() > 1.7e9);
        assert_eq!(d["wantstate"], d["state"]);
    }

    #[test]
    fn times_read_as_keepalived_2_4_3_writes_them_in_utc() {
        // Seen in 2.4.3's keepalived.data (TZ=UTC).
        assert_eq!(
            time_str(1_796_571_725.655_493),
            "1796571725.655493 (Sun Dec  6 15:42:05.655493 2026)"
        );
        assert_eq!(time_str(0.0), "0.000000 (Thu Jan  1 00:00:00.000000 1970)");
        assert_eq!(
            time_str(951_782_400.5),
            "951782400.500000 (Tue Feb 29 00:00:00.500000 2000)"
        );
    }

    #[test]
    fn data_shows_the_instance_in_keepalived_2_4_3_s_lines() {
        let e = engine();
        let d = data(&e, &[]);
        for l in [
            "   Flags:\n",
            "   Using src_ip = 192.0.2.1 (from configuration)\n",
            "   Multicast address 224.0.0.18\n",
            "   Advert interval = 1 sec\n",
            "   Authentication type = none\n",
            "   Virtual IP (1):\n     192.0.2.100 dev eth0 scope global\n",
            "   Notify deleted = Fault\n",
        ] {
            assert!(d.contains(l), "{l:?} not in\n{d}");
        }
    }

    #[test]
    fn baseline_subtracts() {
        let a = Stats {
            adverts_sent: 10,
            ..Stats::default()
        };
        let b = Stats {
            adverts_sent: 4,
            ..Stats::default()
        };
        assert_eq!(minus(&a, &b).adverts_sent, 6);
        assert_eq!(minus(&b, &a).adverts_sent, 0);
    }
}
