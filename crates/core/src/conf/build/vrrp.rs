//! `vrrp_instance`, `vrrp_sync_group`, `garp_group`.

use super::addr;
use super::track::{names, track_list};
use super::values::{keep, Ctx};
use crate::conf::tree::{Loc, Node};
use ka_proto::config::vrrp::{Notify, UnicastPeer, Vmac, VmacMac};
use ka_proto::config::{
    AuthType, Authentication, Config, GarpGroup, InitialState, VirtualIpAddress, VrrpInstance,
    VrrpSyncGroup,
};
use std::time::Duration;

/// keepalived's priority when none is given, or an invalid one.
const DEFAULT_PRIORITY: u8 = 100;

/// Parse a notify keyword into `notify`; false when `kw` is not one.
fn notify_kw(ctx: &mut Ctx, k: &Node, notify: &mut Notify, in_sync_group: bool) -> bool {
    match k.keyword() {
        // keepalived 2.2.7 knows these two in instances only.
        "notify_deleted" | "notify_master_rx_lower_pri" if in_sync_group => return false,
        "notify_master" => keep(&mut notify.master, ctx.script(k, false)),
        "notify_backup" => keep(&mut notify.backup, ctx.script(k, false)),
        "notify_fault" => keep(&mut notify.fault, ctx.script(k, false)),
        "notify_stop" => keep(&mut notify.stop, ctx.script(k, false)),
        "notify_deleted" => {
            notify.notify_deleted = true;
            if k.arg(0).is_some() {
                keep(&mut notify.deleted, ctx.script(k, false));
            }
        }
        "notify" => keep(&mut notify.notify, ctx.script(k, false)),
        "notify_master_rx_lower_pri" => keep(&mut notify.master_rx_lower_pri, ctx.script(k, false)),
        "notify_priority_changes" => ctx.set_flag_opt(k, &mut notify.priority_changes),
        _ => return false,
    }
    true
}

/// `vrrp_instance NAME { }`. `c.global` must already be filled.
pub fn instance(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    let Some(name) = ctx.str_arg(n, 0) else {
        return;
    };
    if !ctx.need_block(n) {
        return;
    }
    if c.vrrp_instances.iter().any(|i| i.name == name) {
        ctx.warn(n.loc, format!("vrrp_instance {name} is defined twice"));
    }
    let g = &c.global;
    let mut v = VrrpInstance {
        name,
        version: g.vrrp_version,
        garp_master_delay: g.vrrp_garp_master_delay,
        garp_master_repeat: g.vrrp_garp_master_repeat,
        garp_master_refresh: g.vrrp_garp_master_refresh,
        garp_master_refresh_repeat: g.vrrp_garp_master_refresh_repeat,
        garp_lower_prio_delay: g
            .vrrp_garp_lower_prio_delay
            .unwrap_or(g.vrrp_garp_master_delay),
        garp_lower_prio_repeat: g
            .vrrp_garp_lower_prio_repeat
            .unwrap_or(g.vrrp_garp_master_repeat),
        garp_extra_if: g.vrrp_garp_extra_if,
        garp_extra_if_all: g.vrrp_garp_extra_if_all,
        down_timer_adverts: g.vrrp_down_timer_adverts,
        lower_prio_no_advert: g.vrrp_lower_prio_no_advert,
        higher_prio_send_advert: g.vrrp_higher_prio_send_advert,
        owner_ignore_adverts: g.vrrp_owner_ignore_adverts,
        skip_check_adv_addr: g.vrrp_skip_check_adv_addr,
        strict_mode: g.vrrp_strict,
        check_unicast_src: g.vrrp_check_unicast_src,
        v3_checksum_as_v2: g.v3_checksum_as_v2,
        ..VrrpInstance::default()
    };
    if g.vrrp_min_garp {
        v.garp_master_repeat = 1;
        v.garp_master_delay = Duration::ZERO;
    }
    let mut vrid_loc = None;
    let mut advert: Option<(f64, Loc)> = None;
    let mut version_given = false;
    let mut priority_given = false;
    let mut state_loc = None;
    let mut unicast_ttl_loc = None;
    let mut timer_expired_loc = None;
    let mut src_locs = Vec::new();
    // Seen: a unicast keyword (said about when there are no peers), vmac_xmit_base,
    // owner_ignore_adverts (both said about when they cannot apply).
    let (mut unicast_kw, mut xmit_base, mut owner_ignore) = (false, false, false);
    for k in n.block() {
        let kw = k.keyword();
        if notify_kw(ctx, k, &mut v.notify, false) {
            continue;
        }
        match kw {
            "state" => {
                state_loc = Some(k.loc);
                match k.arg(0).map(|w| w.text) {
                    Some("MASTER") => v.state = InitialState::Master,
                    Some("BACKUP") => v.state = InitialState::Backup,
                    Some(o) => ctx.warn(
                        k.words[1].loc,
                        format!("unknown state '{o}', expected MASTER or BACKUP"),
                    ),
                    None => {
                        ctx.need(k, 0);
                    }
                }
            }
            "interface" => {
                if let Some(i) = ctx.str_arg(k, 0) {
                    ctx.check_interface(k.words[1].loc, &i, &format!("vrrp_instance {}", v.name));
                    if ctx.check_interfaces && super::values::interface_is_loopback(&i) {
                        // keepalived 2.2.7 and 2.4.3: the setting is dropped, and the
                        // instance is then refused for want of an interface (below).
                        ctx.warn(
                            k.loc,
                            format!(
                                "({}) cannot use a loopback interface ({i}) for vrrp - ignoring",
                                v.name
                            ),
                        );
                    } else {
                        v.interface = Some(i);
                    }
                }
            }
            "virtual_router_id" => {
                vrid_loc = Some(k.loc);
                if let Some(id) = ctx.uint(k, 0, 1, 255) {
                    v.virtual_router_id = id as u8;
                }
            }
            "priority" => {
                priority_given = true;
                // keepalived puts an invalid priority back to the default (not to the
                // value given before), and says so.
                match k.arg(0) {
                    Some(w) => match super::values::parse_uint(w.text) {
                        Some(p @ 1..=255) => v.priority = p as u8,
                        _ => {
                            ctx.warn(
                                w.loc,
                                format!(
                                    "({}) 'priority' {}: not valid (must be 1..255), using the default {DEFAULT_PRIORITY}",
                                    v.name, w.text
                                ),
                            );
                            v.priority = DEFAULT_PRIORITY;
                        }
                    },
                    None => {
                        ctx.need(k, 0);
                        v.priority = DEFAULT_PRIORITY;
                    }
                }
            }
            "advert_int" => {
                if let Some(s) = ctx.need(k, 0) {
                    match s.parse::<f64>() {
                        Ok(x) if x.is_finite() && x > 0.0 => advert = Some((x, k.words[1].loc)),
                        _ => ctx.warn(
                            k.words[1].loc,
                            format!("advert_int: expected a positive number of seconds, got '{s}'"),
                        ),
                    }
                }
            }
            "version" => {
                if let Some(x) = ctx.uint(k, 0, 2, 3) {
                    v.version = x as u8;
                    version_given = true;
                }
            }
            "native_ipv6" => {
                ctx.warn(k.loc, "native_ipv6 is deprecated");
                v.ipv6 = true;
            }
            "authentication" => v.authentication = auth(ctx, k),
            "auth_hmac" => v.auth_hmac = super::hmac::block(ctx, k, &v.name),
            "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                if ctx.need_block(k) {
                    vips(ctx, k, &mut v, k.keyword() == "virtual_ipaddress_excluded");
                }
            }
            "no_virtual_ipaddress" => v.no_virtual_ipaddress = true,
            "promote_secondaries" => v.promote_secondaries = true,
            "virtual_routes" => v
                .virtual_routes
                .extend(addr::lines(ctx, k, false, addr::route)),
            "virtual_rules" => v
                .virtual_rules
                .extend(addr::lines(ctx, k, false, addr::rule)),
            "track_interface" => {
                let list = track_list(ctx, k);
                for (t, line) in list.iter().zip(k.block()) {
                    if ctx.check_interfaces && !ctx.interface_known(&t.name) {
                        ctx.warn(
                            line.loc,
                            format!("({}) tracked interface {} doesn't exist", v.name, t.name),
                        );
                    }
                }
                v.track_interface = list;
            }
            "track_script" => v.track_script = track_list(ctx, k),
            "track_file" => v.track_file = track_list(ctx, k),
            "track_process" => v.track_process = track_list(ctx, k),
            "track_bfd" => {
                ctx.warn(k.loc, "track_bfd: BFD is not supported by keepalived-rs");
                v.track_bfd = track_list(ctx, k);
            }
            "dont_track_primary" => v.dont_track_primary = true,
            "track_src_ip" => v.track_src_ip = true,
            "mcast_src_ip" => {
                src_locs.push(k.loc);
                keep(&mut v.mcast_src_ip, ctx.ip(k, 0));
            }
            "unicast_src_ip" => {
                unicast_kw = true;
                src_locs.push(k.loc);
                keep(&mut v.unicast_src_ip, ctx.ip(k, 0));
            }
            "mcast_dst_ip" => keep(&mut v.mcast_dst_ip, ctx.ip(k, 0)),
            "unicast_peer" => {
                if ctx.need_block(k) {
                    for p in k.block() {
                        peer(ctx, p, &v.name, &mut v.unicast_peer);
                    }
                }
            }
            "unicast_ttl" => {
                unicast_ttl_loc = Some(k.loc);
                if let Some(t) = ctx.uint(k, 0, 1, 255) {
                    v.unicast_ttl = t as u8;
                }
            }
            "unicast_fault_no_peer" => v.unicast_fault_no_peer = true,
            "check_unicast_src" => {
                unicast_kw = true;
                v.check_unicast_src = true
            }
            "old_unicast_checksum" => {
                unicast_kw = true;
                v.old_unicast_checksum = true
            }
            "nopreempt" => v.nopreempt = true,
            "preempt" => v.nopreempt = false,
            "preempt_delay" =>
            // Read leniently: `x` is 0, as the running keepalived has it.
            {
                v.preempt_delay = ctx
                    .timer_lenient(k, 0, 0.0, 1000.0)
                    .unwrap_or(v.preempt_delay)
            }
            "accept" => v.accept = Some(true),
            "no_accept" => v.accept = Some(false),
            "use_vmac" => {
                let mut m = v.use_vmac.take().unwrap_or_default();
                // `use_vmac [[name] NAME] [MAC] [netlink_notify_msg] [group GROUP]`
                // (2.4.3): `name` and `group` take the next word; `netlink_notify_msg`
                // and the link group are accepted without effect.
                let mut args = k.args().iter();
                while let Some(w) = args.next() {
                    match w.text {
                        "name" => {
                            if let Some(n) = args.next() {
                                m.name = Some(n.text.to_string());
                            }
                        }
                        "group" => {
                            args.next();
                        }
                        "netlink_notify_msg" => {}
                        t if t.contains(':') && t.len() >= 11 => match VmacMac::parse(t) {
                            Some(mac) if mac.is_multicast() => ctx.warn(
                                w.loc,
                                format!("VMAC MAC address is multicast {t} - ignoring"),
                            ),
                            Some(mac) => m.mac = Some(mac),
                            None => ctx.warn(w.loc, format!("VMAC invalid MAC address {t}")),
                        },
                        t if m.name.is_none() => m.name = Some(t.to_string()),
                        _ => {}
                    }
                }
                v.use_vmac = Some(m);
            }
            "vmac_xmit_base" => xmit_base = true,
            "use_vmac_addr" => v.use_vmac.get_or_insert_with(Vmac::default).use_vmac_addr = true,
            "use_ipvlan" => {
                v.use_ipvlan = Some(k.args().iter().map(|w| w.text.to_string()).collect())
            }
            "vrf" => {
                if let Some(name) = ctx.str_arg(k, 0) {
                    // keepalived 2.4.3 (and 2.2.7): a VRF after `interface` is dropped; a
                    // VRF that does not exist is warned about.
                    if v.interface.is_some() {
                        ctx.warn(
                            k.loc,
                            format!(
                                "({}) Cannot specify VRF interface and interface - ignoring",
                                v.name
                            ),
                        );
                    } else {
                        if ctx.check_interfaces && !ctx.interface_known(&name) {
                            ctx.warn(
                                k.loc,
                                format!(
                                    "({}) WARNING - VRF interface {name} doesn't exist",
                                    v.name
                                ),
                            );
                        }
                        v.vrf = Some(name);
                    }
                }
            }
            "garp_master_delay" => {
                v.garp_master_delay = secs(ctx, k).unwrap_or(v.garp_master_delay)
            }
            // Read leniently; 0 (or what reads as 0) is 1, with a warning.
            "garp_master_repeat" | "garp_master_refresh_repeat" => {
                if let Some(n) = ctx.uint_lenient(k, 0, 0, 65535) {
                    let n = if n == 0 {
                        ctx.warn(
                            k.loc,
                            format!(
                                "({}): {} must be greater than 0, setting to 1",
                                v.name,
                                k.keyword()
                            ),
                        );
                        1
                    } else {
                        n as u32
                    };
                    if k.keyword() == "garp_master_repeat" {
                        v.garp_master_repeat = n;
                    } else {
                        v.garp_master_refresh_repeat = n;
                    }
                }
            }
            "garp_master_refresh" => {
                v.garp_master_refresh = secs(ctx, k).unwrap_or(v.garp_master_refresh)
            }
            "garp_lower_prio_delay" => {
                v.garp_lower_prio_delay = secs(ctx, k).unwrap_or(v.garp_lower_prio_delay)
            }
            "garp_lower_prio_repeat" => {
                v.garp_lower_prio_repeat = ctx
                    .uint_lenient(k, 0, 0, 65535)
                    .map_or(v.garp_lower_prio_repeat, |x| x as u32)
            }
            "garp_extra_if" => {
                let mut i = 0;
                if k.arg(0).is_some_and(|w| w.text == "all") {
                    v.garp_extra_if_all = true;
                    i = 1;
                }
                keep(
                    &mut v.garp_extra_if,
                    ctx.uint(k, i, 0, 86400).map(Duration::from_secs),
                );
            }
            "down_timer_adverts" => {
                v.down_timer_adverts = ctx
                    .uint(k, 0, 1, 100)
                    .map_or(v.down_timer_adverts, |x| x as u32)
            }
            "lower_prio_no_advert" => ctx.set_flag(k, &mut v.lower_prio_no_advert),
            "higher_prio_send_advert" => ctx.set_flag(k, &mut v.higher_prio_send_advert),
            "owner_ignore_adverts" => owner_ignore = true,
            "skip_check_adv_addr" => ctx.set_flag(k, &mut v.skip_check_adv_addr),
            "strict_mode" => ctx.set_flag(k, &mut v.strict_mode),
            "timer_expired_backup" | "thread_timer_expired" => {
                timer_expired_loc = Some(k.loc);
                if k.keyword() == "thread_timer_expired" {
                    ctx.warn(
                        k.loc,
                        format!(
                            "({}) thread_timer_expired - please replace with keyword 'timer_expired_backup'",
                            v.name
                        ),
                    );
                }
                v.timer_expired_backup = Some(if k.arg(0).is_some() {
                    ctx.uint(k, 0, 1, 254).unwrap_or(1) as u8
                } else {
                    0
                })
            }
            "smtp_alert" => ctx.set_flag_opt(k, &mut v.smtp_alert),
            "lvs_sync_daemon_interface" => {
                ctx.warn(k.loc, format!("({}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon", v.name));
                keep(&mut v.lvs_sync_daemon_interface, ctx.str_arg(k, 0));
            }
            "v3_checksum_as_v2" => v.v3_checksum_as_v2 = true,
            "kernel_rx_buf_size" => keep(&mut v.kernel_rx_buf_size, ctx.u32_arg(k)),
            "debug" => {
                v.debug = if k.arg(0).is_some() {
                    ctx.uint(k, 0, 0, 4).unwrap_or(0) as u8
                } else {
                    1
                }
            }
            "linkbeat_use_polling" => ctx.warn(
                k.loc,
                format!(
                    "({}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block",
                    v.name
                ),
            ),
            _ => ctx.unknown(k),
        }
    }
    // What keepalived (2.2.7 and 2.4.3; owner_ignore_adverts: 2.4.3, unknown to 2.2.7)
    // says once the instance is read, without a line.
    if unicast_kw && v.unicast_peer.is_empty() {
        ctx.warn(
            Loc::default(),
            format!(
                "({}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration.",
                v.name
            ),
        );
    }
    if xmit_base {
        match v.use_vmac.as_mut() {
            Some(m) => m.xmit_base = true,
            None => ctx.warn(
                Loc::default(),
                format!("({}) vmac_xmit_base is only valid with a vmac", v.name),
            ),
        }
    }
    if owner_ignore {
        if v.priority == 255 {
            v.owner_ignore_adverts = true;
        } else {
            ctx.warn(
                Loc::default(),
                format!(
                    "({}) ignoring owner_ignore_adverts since priority is not 255",
                    v.name
                ),
            );
        }
    }
    // Family: from the first VIP.
    if let Some(a) = v.virtual_ipaddress.first() {
        v.ipv6 = a.prefix.addr.is_ipv6();
        let mixed = v
            .virtual_ipaddress
            .iter()
            .any(|x| x.prefix.addr.is_ipv6() != v.ipv6);
        if mixed {
            ctx.error(n.loc, format!("({}) virtual_ipaddress mixes IPv4 and IPv6: use virtual_ipaddress_excluded for the other family", v.name));
        }
    }
    if v.interface.is_none() {
        if v.unicast_peer.is_empty() {
            // Multicast needs an interface: keepalived refuses the configuration.
            ctx.error(n.loc, format!("({}) Unknown interface!", v.name));
        } else {
            // Unicast may go without one (keepalived 2.4.3; 2.2.7 refused it), but not
            // with a VMAC or ipvlan, and a VIP then needs its own `dev`: one without is
            // dropped.
            if v.use_vmac.is_some() || v.use_ipvlan.is_some() {
                ctx.warn(
                    n.loc,
                    format!(
                        "({}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac",
                        v.name
                    ),
                );
                v.use_vmac = None;
                v.use_ipvlan = None;
            }
            let name = v.name.clone();
            v.virtual_ipaddress.retain(|a| {
                a.dev.is_some() || {
                    ctx.warn(
                        n.loc,
                        format!(
                            "({name}): no interface for vip {} - removing",
                            a.prefix.addr
                        ),
                    );
                    false
                }
            });
        }
    }
    if v.virtual_ipaddress.is_empty() && !v.no_virtual_ipaddress {
        // Strict mode needs an address to advertise (keepalived 2.2.7 and 2.4.3).
        let need = if v.strict_mode {
            "required"
        } else {
            "sensible"
        };
        ctx.warn(
            n.loc,
            format!("({}) No VIP specified; at least one is {need}", v.name),
        );
    }
    if v.strict_mode {
        if v.authentication.take().is_some() {
            ctx.warn(
                n.loc,
                format!(
                    "({}) Strict mode does not support authentication. Ignoring.",
                    v.name
                ),
            );
        }
        if !v.unicast_peer.is_empty() {
            // keepalived 2.4.3 refuses the configuration (2.2.7 said nothing).
            ctx.error(
                n.loc,
                format!(
                    "({}) Unicast peers are not supported in strict mode",
                    v.name
                ),
            );
        }
    }
    if let Some(l) = unicast_ttl_loc {
        if v.unicast_peer.is_empty() {
            ctx.warn(
                l,
                format!(
                    "({}): Cannot use unicast_ttl without unicast peers - resetting",
                    v.name
                ),
            );
            v.unicast_ttl = 255;
        }
    }
    if let Some(first) = v.virtual_ipaddress.first().map(|a| a.prefix.addr) {
        let mut loc_iter = src_locs.into_iter();
        for src in [&mut v.mcast_src_ip, &mut v.unicast_src_ip] {
            if let Some(a) = *src {
                let l = loc_iter.next().unwrap_or(n.loc);
                if a.is_ipv6() != first.is_ipv6() {
                    ctx.warn(
                        l,
                        format!(
                            "({}): address family must match VRRP instance [{first}] - ignoring",
                            v.name
                        ),
                    );
                    *src = None;
                }
            }
        }
    }
    if v.ipv6 {
        if version_given && v.version == 2 {
            ctx.warn(
                n.loc,
                format!(
                    "({}) IPv6 requires VRRP version 3 - setting version 3",
                    v.name
                ),
            );
        }
        v.version = 3;
    }
    let _ = vrid_loc;
    if v.virtual_router_id == 0 {
        ctx.error(
            n.words[0].loc,
            format!(
                "({}) the virtual_router_id is missing or invalid (it is required, 1..255)",
                v.name
            ),
        );
    }
    if !priority_given && v.state == InitialState::Master {
        v.priority = 255;
    }
    if v.priority == 255 {
        v.state = InitialState::Master;
    }
    if let Some((secs, loc)) = advert {
        if v.version == 2 {
            let whole = secs.round();
            if !(1.0..=255.0).contains(&whole) {
                ctx.warn(
                    loc,
                    format!(
                        "({}) advert_int {secs} is out of range for VRRPv2 (1..255 s)",
                        v.name
                    ),
                );
            } else {
                if whole != secs {
                    ctx.warn(loc, format!("({}) VRRPv2 advert_int must be whole seconds - rounding {secs} to {whole}", v.name));
                }
                v.advert_int = Duration::from_secs(whole as u64);
            }
        } else {
            let cs = (secs * 100.0).round();
            if !(1.0..=4095.0).contains(&cs) {
                ctx.warn(
                    loc,
                    format!(
                        "({}) advert_int {secs} is out of range for VRRPv3 (0.01..40.95 s)",
                        v.name
                    ),
                );
            } else {
                v.advert_int = Duration::from_millis(cs as u64 * 10);
            }
        }
    }
    super::hmac::finish(ctx, n.loc, &mut v);
    if let Some(a) = &v.authentication {
        if v.version == 3 {
            ctx.warn(
                n.loc,
                format!(
                    "({}) VRRP version 3 does not support authentication. Ignoring.",
                    v.name
                ),
            );
            v.authentication = None;
        } else if a.auth_type == AuthType::Ah && v.state == InitialState::Master {
            ctx.warn(
                state_loc.unwrap_or(n.loc),
                format!(
                    "({}) Initial state master is incompatible with AH authentication - clearing",
                    v.name
                ),
            );
            v.state = InitialState::Backup;
        }
    }
    if v.timer_expired_backup.is_some() && !v.nopreempt {
        ctx.warn(
            timer_expired_loc.unwrap_or(n.loc),
            format!(
                "({}) expired_timer_backup requires nopreempt - resetting",
                v.name
            ),
        );
        v.timer_expired_backup = None;
    }
    if v.nopreempt && v.state == InitialState::Master {
        ctx.warn(
            state_loc.unwrap_or(n.loc),
            format!(
                "({}) nopreempt will not work with initial state MASTER - clearing",
                v.name
            ),
        );
        v.nopreempt = false;
    }
    if v.interface.is_none() && v.unicast_peer.is_empty() {
        let di = c.global.default_interface.clone();
        ctx.check_interface(
            n.loc,
            &di,
            &format!("vrrp_instance {} (default_interface)", v.name),
        );
        v.interface = Some(di);
    }
    fit_vips_in_advert(ctx, n.loc, &mut v);
    c.vrrp_instances.push(v);
}

/// keepalived's MTU when an instance has no interface (unicast) or its MTU is unknown.
const DEFAULT_MTU: u32 = 1500;

/// The VIPs that do not fit in one advert on the instance's interface (its MTU, the
/// headers, AH, the `auth_hmac` trailer; at most 255) move to the end of the excluded
/// ones, as keepalived 2.x does: still installed, not advertised.
fn fit_vips_in_advert(ctx: &mut Ctx, loc: Loc, v: &mut VrrpInstance) {
    use ka_proto::config::vrrp::HmacMode;
    use vrrp::packet::{max_addresses, AdvertFrame};
    let frame = AdvertFrame {
        ipv6: v.ipv6,
        version: if v.version == 2 {
            vrrp::Version::V2
        } else {
            vrrp::Version::V3
        },
        ah: v
            .authentication
            .as_ref()
            .is_some_and(|a| a.auth_type == AuthType::Ah),
        hmac_trailer: v
            .auth_hmac
            .as_ref()
            .is_some_and(|h| h.mode != HmacMode::ReceiveOnly),
    };
    let count = v.virtual_ipaddress.len();
    // The smallest MTU of the family (IPv4 68, IPv6 1280) already fits them: no need to
    // ask the kernel (most configs).
    let floor = if v.ipv6 { 1280 } else { 68 };
    if count <= max_addresses(floor, frame) {
        return;
    }
    let mtu = v
        .interface
        .as_deref()
        .filter(|_| ctx.check_interfaces)
        .and_then(|i| vrrp::linux::interface_mtu(i).ok())
        .unwrap_or(DEFAULT_MTU);
    let max = max_addresses(mtu, frame);
    if count <= max {
        return;
    }
    ctx.warn(
        loc,
        format!(
            "({}) Number of VIPs ({count}) exceeds maximum/space available in packet (max {max} addresses) - excess moved to eVIPs",
            v.name
        ),
    );
    let excess = v.virtual_ipaddress.split_off(max);
    v.virtual_ipaddress_excluded.extend(excess);
}

/// Whole seconds, read leniently as keepalived reads the gARP keywords (`x` is 0).
fn secs(ctx: &mut Ctx, k: &Node) -> Option<Duration> {
    ctx.uint_lenient(k, 0, 0, 65535).map(Duration::from_secs)
}

fn auth(ctx: &mut Ctx, k: &Node) -> Option<Authentication> {
    if !ctx.need_block(k) {
        return None;
    }
    let mut t = None;
    let mut pass = String::new();
    for a in k.block() {
        match a.keyword() {
            "auth_type" => match a.arg(0).map(|w| w.text) {
                Some("PASS") => t = Some(AuthType::Pass),
                Some("AH") => t = Some(AuthType::Ah),
                Some(o) => ctx.warn(
                    a.words[1].loc,
                    format!("unknown auth_type '{o}', expected PASS or AH"),
                ),
                None => {
                    ctx.need(a, 0);
                }
            },
            "auth_pass" => {
                if let Some(p) = ctx.str_arg(a, 0) {
                    if p.len() > 8 {
                        ctx.warn(a.words[1].loc, "Truncating auth_pass to 8 characters");
                    }
                    pass = p.chars().take(8).collect();
                }
            }
            _ => ctx.unknown(a),
        }
    }
    t.map(|auth_type| Authentication {
        auth_type,
        auth_pass: pass,
    })
}

fn peer(ctx: &mut Ctx, p: &Node, instance: &str, out: &mut Vec<UnicastPeer>) {
    let Some(first) = p.words.first() else { return };
    let Ok(address) = first.text.parse() else {
        ctx.warn(
            first.loc,
            format!("invalid unicast_peer address '{}'", first.text),
        );
        return;
    };
    if out.iter().any(|u| u.address == address) {
        // keepalived 2.4.3 reports it and keeps the first (2.3.3 on).
        ctx.warn(
            first.loc,
            format!("({instance}) {address} - duplicate unicast_peer"),
        );
        return;
    }
    let mut up = UnicastPeer {
        address,
        min_ttl: 0,
        max_ttl: 255,
    };
    let mut i = 0;
    while let Some(w) = p.arg(i) {
        match w.text {
            "min_ttl" => up.min_ttl = ctx.uint(p, i + 1, 0, 255).unwrap_or(0) as u8,
            "max_ttl" => up.max_ttl = ctx.uint(p, i + 1, 0, 255).unwrap_or(255) as u8,
            o => ctx.warn(w.loc, format!("unicast_peer: unknown option '{o}'")),
        }
        i += 2;
    }
    out.push(up);
}

/// `vrrp_sync_group NAME { }`.
pub fn sync_group(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    let Some(name) = ctx.str_arg(n, 0) else {
        return;
    };
    if !ctx.need_block(n) {
        return;
    }
    let mut g = VrrpSyncGroup {
        name,
        ..VrrpSyncGroup::default()
    };
    for k in n.block() {
        if notify_kw(ctx, k, &mut g.notify, true) {
            continue;
        }
        match k.keyword() {
            "group" => {
                // keepalived reads the group's lines one word each.
                if ctx.need_block(k) {
                    for line in k.block() {
                        g.group.push(line.keyword().to_string());
                        for extra in line.args() {
                            ctx.warn(extra.loc, format!("Unknown keyword '{}'", extra.text));
                        }
                    }
                }
            }
            "track_interface" => g.track_interface = track_list(ctx, k),
            "track_script" => g.track_script = track_list(ctx, k),
            "track_file" => g.track_file = track_list(ctx, k),
            "track_process" => g.track_process = track_list(ctx, k),
            "track_bfd" => g.track_bfd = track_list(ctx, k),
            "smtp_alert" => ctx.set_flag_opt(k, &mut g.smtp_alert),
            "sync_group_tracking_weight" => g.sync_group_tracking_weight = true,
            "global_tracking" => {
                ctx.warn(k.loc, "global_tracking is deprecated - use track interfaces/scripts/files on the instances");
                g.global_tracking = true;
            }
            _ => ctx.unknown(k),
        }
    }
    let _ = names;
    c.sync_groups.push(g);
}

/// The lines of `virtual_ipaddress` (or `_excluded`) into `v`. An address given twice
/// is reported and the second one ignored, as keepalived 2.4 does (2.2.7 kept both):
/// a VIP is a duplicate of any VIP with the same address, and of an excluded VIP with
/// the same address on the same interface; an excluded VIP is compared with the ones
/// on its interface only.
fn vips(ctx: &mut Ctx, k: &Node, v: &mut VrrpInstance, excluded: bool) {
    for line in k.block() {
        let Some(a) = addr::ip_address(ctx, line, false) else {
            continue;
        };
        let same = |b: &VirtualIpAddress| b.prefix.addr == a.prefix.addr;
        let same_if = |b: &VirtualIpAddress| same(b) && b.dev == a.dev;
        let kind = if excluded { "Excluded " } else { "" };
        let dup = if v
            .virtual_ipaddress
            .iter()
            .any(|b| if excluded { same_if(b) } else { same(b) })
        {
            Some("a VIP")
        } else if v.virtual_ipaddress_excluded.iter().any(same_if) {
            Some("an excluded VIP")
        } else {
            None
        };
        if let Some(what) = dup {
            let text = line.words.first().map_or("", |w| w.text);
            ctx.warn(
                line.loc,
                format!(
                    "({}): {kind}VIP duplicates {what} {text} - ignoring",
                    v.name
                ),
            );
            continue;
        }
        if excluded {
            v.virtual_ipaddress_excluded.push(a);
        } else {
            v.virtual_ipaddress.push(a);
        }
    }
}

/// `garp_group { }`.
pub fn garp_group(ctx: &mut Ctx, n: &Node, c: &mut Config) {
    if !ctx.need_block(n) {
        return;
    }
    let mut g = GarpGroup::default();
    for k in n.block() {
        match k.keyword() {
            "garp_interval" => {
                if let Some(v) = ctx.timer_lenient(k, 0, 0.0, 4294.967295) {
                    g.garp_interval = v;
                }
            }
            "gna_interval" => {
                if let Some(v) = ctx.timer_lenient(k, 0, 0.0, 4294.967295) {
                    g.gna_interval = v;
                }
            }
            "interface" => {
                if let Some(i) = ctx.str_arg(k, 0) {
                    g.interfaces.push(i);
                }
            }
            "interfaces" => g.interfaces.extend(names(k)),
            _ => ctx.unknown(k),
        }
    }
    c.garp_groups.push(g);
}
