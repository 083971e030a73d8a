//! `keepalived.stats` (SIGUSR2): counters, the baseline `STATS_CLEAR` moves, transitions by
//! reason, and the typed report behind `ctl status` and the metrics.

use super::*;

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

pub(super) fn stats_of(i: &InstanceStatus<'_>, base: &HashMap<String, Stats>) -> Stats {
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
pub(super) fn hmac_data(s: &mut String, h: &vrrp::hmac_auth::HmacConfig, adver_int_us: u64) {
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
pub(super) fn hmac_stats(s: &mut String, h: &vrrp::stats::HmacStats) {
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
pub(super) const REASONS: [Reason; 11] = [
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

pub(super) fn reason_slot(r: Reason) -> usize {
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
