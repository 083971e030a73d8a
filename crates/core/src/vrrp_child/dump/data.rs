//! `keepalived.data` (SIGUSR1) and `-d`'s text dump of the VRRP side, in keepalived 2.4.3's
//! lines.

use super::*;

pub(super) fn version(v: Version) -> &'static str {
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
        None,
    )
}

/// An instance's tracked objects as keepalived lists them: without the VMAC's base
/// interface the configuration mapping adds (keepalived watches it without listing it).
pub(super) fn listed_tracks<'a>(
    c: &'a vrrp::InstanceConfig,
    f: &InstanceFacts,
) -> Vec<&'a vrrp::TrackConfig> {
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
pub(super) fn vip_line(
    v: &vrrp::Vip,
    c: &vrrp::InstanceConfig,
    f: &InstanceFacts,
    installed: bool,
) -> String {
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
pub(super) fn state_word(s: vrrp::State) -> &'static str {
    match s {
        vrrp::State::Initialize => "INIT",
        vrrp::State::Backup => "BACKUP",
        vrrp::State::Master => "MASTER",
        vrrp::State::Fault => "FAULT",
    }
}

/// A time as keepalived's dumps show it: `1796571725.655493 (Sun Dec  6 15:42:05.655493
/// 2026)`, the date in UTC.
pub(super) fn time_str(t: f64) -> String {
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
pub(super) fn any_flag(c: &vrrp::InstanceConfig, f: &InstanceFacts) -> bool {
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
pub(super) fn data_instance(
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
pub(super) fn data_instance_live(
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
pub(super) fn data_instance_config(
    s: &mut String,
    i: &InstanceStatus<'_>,
    f: &InstanceFacts,
    live: bool,
) {
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
    // Shown for an instance with a VMAC only: 2.4.3 lists it in the global section, not
    // in the block of an instance on its own interface (observed).
    if let Some(p) = g.extra_if.filter(|_| f.vmac_ifname.is_some()) {
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
    titled_lines(s, "   Virtual Routes :", a.routes.iter().map(route_str));
    titled_lines(s, "   Virtual Rules :", a.rules.iter().map(rule_str));
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
pub(super) fn secs_str(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} sec", d.as_secs())
    } else {
        format!("{}.{:03} sec", d.as_secs(), d.subsec_millis())
    }
}

/// The sync groups, in keepalived 2.4.3's lines.
/// `live`: the state dump; else `-d`'s, taken before the start, where keepalived shows a
/// group not yet notified as BACKUP.
pub(super) fn data_groups(
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
pub(super) fn data_scripts(
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
pub(super) fn data_statics(s: &mut String, st: &vrrp::AddressSet) {
    let vips = st.vips.iter().map(|v| vip_str(v, "", true));
    titled_lines(s, "------< Static Addresses >------", vips);
    titled_lines(
        s,
        "------< Static Routes >------",
        st.routes.iter().map(route_str),
    );
    titled_lines(
        s,
        "------< Static Rules >------",
        st.rules.iter().map(rule_str),
    );
}

/// `title`, then each line indented by five spaces; nothing at all when there is no line.
fn titled_lines(s: &mut String, title: &str, lines: impl Iterator<Item = String>) {
    let mut lines = lines.peekable();
    if lines.peek().is_none() {
        return;
    }
    let _ = writeln!(s, "{title}");
    for l in lines {
        let _ = writeln!(s, "     {l}");
    }
}

/// The `track_file`s, in keepalived 2.4.3's lines; `values`: each one's value as last
/// read.
pub(super) fn data_files(
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

/// What `-d` logs at start: the global definitions, the VRRP Topology as configured (keepalived 2.4.3's lines
/// without the state), the sync groups and the scripts.
pub fn conf_dump(engine: &Engine, facts: &DumpFacts) -> String {
    let mut s = String::new();
    let no = InstanceFacts::default();
    let none = HashMap::new();
    s.push_str(&facts.global);
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
/// `files`: each `track_file`'s value as last read; `procs`: the `vrrp_track_process`es.
pub fn data_with(
    engine: &Engine,
    scripts: &HashMap<String, (TrackStatus, bool)>,
    facts: &DumpFacts,
    by_reason: &ByReason,
    files: &HashMap<String, i64>,
    procs: Option<&vrrp::ProcessTrackers>,
) -> String {
    let mut s = String::new();
    let no = InstanceFacts::default();
    s.push_str(&facts.global);
    s.push_str(&facts.garp);
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
    super::sockpool::data_sockpool(&mut s, engine, facts);
    super::procs::data_procs(&mut s, engine, procs, facts);
    s
}
