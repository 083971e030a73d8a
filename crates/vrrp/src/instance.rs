//! One VRRP instance's runtime: its timers, the adverts it builds, and the receive checks.
//! State transitions that can involve other instances (sync groups) live in
//! [`crate::engine`]; everything here concerns a single instance.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::ah;
use crate::config::{Auth, InstanceConfig};
use crate::event::{Action, Packet, State};
use crate::hmac_auth::{self, AntiReplay, ReplayGuard, SequenceGen, TRAILER_LEN, TRAILER_TYPE};
use crate::packet::{
    Advert, AdvertRef, ChecksumKind, DecodeError, Version, AUTH_AH, AUTH_NONE, AUTH_PASS, VRRP_TTL,
};
use crate::stats::{RxError, Stats};
use crate::time::Timestamp;

/// An instance and its runtime state.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub cfg: InstanceConfig,
    pub name: Arc<str>,
    pub iface: Arc<str>,
    /// Index of the sync group, if any.
    pub group: Option<usize>,
    pub state: State,
    pub started: bool,
    /// Started by a Resume: unknown weight-0 trackers do not fault it.
    pub resumed: bool,
    /// Sync-group member whose down timer expired and that waits for the others.
    pub want_master: bool,
    /// Drained by the operator ([`crate::Input::Maintenance`]): priority 1.
    pub maintenance: bool,
    /// Why it entered its current state (None before its first transition).
    pub last_reason: Option<crate::Reason>,
    pub eff_prio: u8,
    /// Master_Adver_Int in µs (v3 learns it from the master).
    pub master_adver_int: u64,
    /// The priority of the last master heard and accepted (0: none yet; kept after).
    pub master_prio: u8,
    pub adver_timer: Option<Timestamp>,
    pub down_timer: Option<Timestamp>,
    pub garp_timer: Option<Timestamp>,
    pub refresh_timer: Option<Timestamp>,
    /// The next `garp_extra_if` announcement (MASTER only).
    pub extra_timer: Option<Timestamp>,
    pub lower_garp_timer: Option<Timestamp>,
    /// Address owner in conflict with another one ([`crate::RogueOwner`]): adverts still to
    /// send before we look whether it stopped (0: no conflict pending).
    pub rogue_adverts: u8,
    /// The other owner's advert interval (µs).
    pub rogue_int: u64,
    /// When we conclude that the other owner stopped advertising.
    pub rogue_timer: Option<Timestamp>,
    /// When the other owner's last advert arrived (answered with one of ours).
    pub rogue_heard: Option<Timestamp>,
    /// Our priority is 254 because the other owner would not stop.
    pub rogue_lowered: bool,
    /// When a lower-priority advert was last answered (the answers are rate-bounded).
    pub lower_answered: Option<Timestamp>,
    /// The sender whose advert with another address list was last reported (reset at
    /// every state change): one report per sender and state, not one per advert.
    pub addr_list_reported: Option<IpAddr>,
    /// The sender of the last advert heard in BACKUP ([`crate::Action::MasterHeard`];
    /// reset at every state change).
    pub heard_from: Option<IpAddr>,
    /// While `now` is before this, a lower priority master is accepted (preempt_delay).
    pub preempt_until: Option<Timestamp>,
    /// Source of the last accepted advert (or our own address while MASTER).
    pub master_addr: Option<IpAddr>,
    /// When the last accepted advert arrived.
    pub last_advert: Option<Timestamp>,
    /// The deadline last pushed on the engine's heap.
    pub scheduled: Option<Timestamp>,
    /// Source address of our adverts as the engine last worked it out (`src_addr`, else
    /// the interface's address of the family): read per packet, refreshed on change.
    pub src: Option<IpAddr>,
    /// A unicast v3/IPv4 peer sends checksums without the pseudo-header (keepalived before
    /// 1.3.6, some vendors): answer in kind.
    pub peer_old_checksum: bool,
    /// `auth_hmac`: the replay marks of the senders heard.
    pub hmac_replay: ReplayGuard,
    /// `auth_type AH`: the AH sequence number of the last advert sent or accepted (the
    /// next one sent carries one more).
    pub ah_seq: u32,
    pub stats: Stats,
}

/// The wall-clock time of the input being handled and the engine's `auth_hmac` sequence
/// generator, lent to [`Instance::send_advert`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Signer {
    pub wall: Duration,
    pub seq: SequenceGen,
}

/// Constant-time comparison of two passwords.
fn ct_eq(a: &[u8; 8], b: &[u8; 8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Instance {
    pub fn new(cfg: InstanceConfig) -> Instance {
        let eff = cfg.priority;
        let int = cfg.adver_int_micros();
        Instance {
            name: Arc::from(cfg.name.as_str()),
            iface: Arc::from(cfg.interface.as_str()),
            cfg,
            group: None,
            state: State::Initialize,
            started: false,
            resumed: false,
            want_master: false,
            maintenance: false,
            last_reason: None,
            eff_prio: eff,
            master_adver_int: int,
            master_prio: 0,
            adver_timer: None,
            down_timer: None,
            garp_timer: None,
            refresh_timer: None,
            extra_timer: None,
            lower_garp_timer: None,
            rogue_adverts: 0,
            rogue_int: 0,
            rogue_timer: None,
            rogue_heard: None,
            rogue_lowered: false,
            lower_answered: None,
            addr_list_reported: None,
            heard_from: None,
            preempt_until: None,
            master_addr: None,
            last_advert: None,
            scheduled: None,
            src: None,
            peer_old_checksum: false,
            hmac_replay: ReplayGuard::default(),
            ah_seq: 0,
            stats: Stats::default(),
        }
    }

    /// Replace the configuration (reload), keeping the runtime state.
    pub fn set_config(&mut self, cfg: InstanceConfig) {
        self.name = Arc::from(cfg.name.as_str());
        self.iface = Arc::from(cfg.interface.as_str());
        if self.state != State::Backup {
            self.master_adver_int = cfg.adver_int_micros();
        }
        if cfg.hmac.is_none() {
            self.hmac_replay.clear();
        }
        self.cfg = cfg;
    }

    /// Skew_Time in µs: v2 `(256-prio)/256 s`; v3 `(256-prio) * Master_Adver_Int / 256`.
    pub fn skew(&self) -> u64 {
        let p = 256 - u64::from(self.eff_prio);
        match self.cfg.version {
            Version::V2 => p * 1_000_000 / 256,
            Version::V3 => p * self.master_adver_int / 256,
        }
    }

    /// The smallest Skew (priority 255's): what a sync-group member that wants MASTER waits
    /// on top of one interval before looking again.
    pub fn skew_min(&self) -> u64 {
        match self.cfg.version {
            Version::V2 => 1_000_000 / 256,
            Version::V3 => self.master_adver_int / 256,
        }
    }

    /// Master_Down_Interval in µs: `down_timer_adverts * Master_Adver_Int + Skew`.
    pub fn master_down(&self) -> u64 {
        u64::from(self.cfg.down_timer_adverts) * self.master_adver_int + self.skew()
    }

    /// The same as a `Duration`.
    pub fn master_down_interval(&self) -> Duration {
        Duration::from_micros(self.master_down())
    }

    /// `timer_expired_backup`: whether the advert timer, due now, fired so late that a
    /// router of the configured priority would have declared us down by then (its
    /// Master_Down_Interval since our last advert). Only with `nopreempt`, as keepalived.
    pub fn timer_expired_too_late(&self, now: Timestamp) -> bool {
        let (Some(other), Some(due)) = (self.cfg.timer_expired_backup, self.adver_timer) else {
            return false;
        };
        if self.cfg.preempt {
            return false;
        }
        let int = self.cfg.adver_int_micros();
        let last_sent = due - Duration::from_micros(int);
        let skew = match self.cfg.version {
            Version::V2 => (256 - u64::from(other)) * 1_000_000 / 256,
            Version::V3 => (256 - u64::from(other)) * int / 256,
        };
        let takeover = u64::from(self.cfg.down_timer_adverts) * int + skew;
        now > last_sent + Duration::from_micros(takeover)
    }

    /// The earliest pending timer.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if !self.started {
            return None;
        }
        [
            self.adver_timer,
            self.down_timer,
            self.garp_timer,
            self.refresh_timer,
            self.extra_timer,
            self.lower_garp_timer,
            self.rogue_timer,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn clear_master_timers(&mut self) {
        self.adver_timer = None;
        self.garp_timer = None;
        self.refresh_timer = None;
        self.extra_timer = None;
        self.lower_garp_timer = None;
        self.rogue_adverts = 0;
        self.rogue_timer = None;
        self.rogue_heard = None;
    }

    /// After an advert sent on the advert timer: an owner in conflict counts it, and after
    /// the second one waits 1.2 times the longer of the two intervals for the other owner
    /// to go quiet (keepalived 2.4's "a bit more than"). keepalived restarts its advert
    /// timer when it answers the other owner, so only an advert that follows a whole
    /// interval without one from it counts: an owner that keeps advertising at least as
    /// often as we do is never taken as gone, nor made to step down.
    pub fn rogue_advert_sent(&mut self, now: Timestamp) {
        if !self.cfg.is_owner() || self.rogue_adverts == 0 {
            return;
        }
        let int = Duration::from_micros(self.cfg.adver_int_micros());
        if self.rogue_heard.is_some_and(|h| now < h + int) {
            return;
        }
        self.rogue_adverts -= 1;
        if self.rogue_adverts == 0 {
            let int = self.rogue_int.max(self.cfg.adver_int_micros());
            self.rogue_timer = Some(now + Duration::from_micros(int * 12 / 10));
        }
    }

    /// The freshness window of `auth_hmac` in ms (the configured one or the default).
    fn hmac_window_ms(&self) -> u64 {
        self.cfg
            .hmac
            .as_ref()
            .map_or(0, |h| h.window_ms(self.cfg.adver_int_micros() / 1000))
    }

    /// Build and queue the advert(s) with priority `prio` from `src` (one per unicast peer).
    /// With `auth_hmac` (and a mode that signs), each carries the trailer, signed once per
    /// advert with the next sequence of `signer` at its wall-clock time (the copies to
    /// unicast peers share it: the HMAC does not cover the destination).
    pub fn send_advert(
        &mut self,
        src: IpAddr,
        prio: u8,
        signer: &mut Signer,
        out: &mut Vec<Action>,
    ) {
        let (auth_type, auth_data) = match self.cfg.auth {
            Auth::None => (AUTH_NONE, [0; 8]),
            Auth::Pass(p) => (AUTH_PASS, p),
            // AH: type 2, the authentication data zero (the ICV is in the AH header).
            Auth::Ah(_) => (AUTH_AH, [0; 8]),
        };
        let ah_key = match self.cfg.auth {
            Auth::Ah(k) if self.cfg.version == Version::V2 => Some(k),
            _ => None,
        };
        let advert = Advert {
            version: self.cfg.version,
            vrid: self.cfg.vrid,
            priority: prio,
            adver_int: self.cfg.adver_int_field(),
            auth_type: if self.cfg.version == Version::V2 {
                auth_type
            } else {
                AUTH_NONE
            },
            auth_data: if self.cfg.version == Version::V2 {
                auth_data
            } else {
                [0; 8]
            },
            // Encoded from the configuration below (no list collected per advert).
            addrs: Vec::new(),
        };
        let kind = if self.cfg.v3_checksum_as_v2 || self.peer_old_checksum {
            ChecksumKind::WithoutPseudoHeader
        } else {
            ChecksumKind::Standard
        };
        let unicast = self.cfg.is_unicast();
        let (dsts, ttl) = if unicast {
            (self.cfg.unicast_peers.len(), self.cfg.unicast_ttl)
        } else {
            (1, VRRP_TTL)
        };
        let window_ms = self.hmac_window_ms();
        let signing = self.cfg.hmac.as_ref().and_then(|h| {
            let key = h.key(h.active_key).filter(|_| h.mode.signs())?;
            let restart = (h.anti_replay == AntiReplay::Time).then(|| window_ms.div_ceil(1000));
            Some((h.active_key, key, restart))
        });
        let seq = signing.map(|(_, _, restart)| signer.seq.next(signer.wall, restart));
        let mut trailer: Option<[u8; TRAILER_LEN]> = None;
        let vips = &self.cfg.addresses.vips;
        let len = advert.encoded_len() + vips.len() * 16 + TRAILER_LEN;
        for k in 0..dsts {
            let dst = if unicast {
                match self.cfg.unicast_peers.get(k) {
                    Some(p) => p.addr,
                    None => continue,
                }
            } else {
                self.cfg.mcast_dst()
            };
            // The config was validated (families, count, interval), so this cannot fail;
            // if it ever did, sending nothing is the safe outcome.
            let mut bytes = Vec::with_capacity(len);
            let addrs = vips.iter().map(|v| v.addr);
            if advert
                .encode_addrs_into(addrs, src, dst, kind, &mut bytes)
                .is_err()
            {
                continue;
            }
            if let (Some((id, key, _)), Some(seq)) = (signing, seq) {
                // The same message (the checksum is not covered) for every destination.
                if trailer.is_none() {
                    trailer = hmac_auth::sign(&bytes, src, id, key, seq).map(|t| t.encode());
                }
                match trailer {
                    Some(t) => bytes.extend_from_slice(&t),
                    None => continue,
                }
            }
            if let (Some(key), IpAddr::V4(s4), IpAddr::V4(d4)) = (ah_key, src, dst) {
                // The whole IPv4 packet, its header included (the ICV covers it).
                self.ah_seq = self.ah_seq.wrapping_add(1);
                let h = ah::AhHeader {
                    src: s4,
                    dst: d4,
                    ttl,
                    // Covered by the ICV, so chosen here; never 0 (the kernel would
                    // replace it).
                    id: (self.ah_seq as u16).max(1),
                    seq: self.ah_seq,
                };
                let vrrp = std::mem::take(&mut bytes);
                ah::encode(&key, &h, &vrrp, &mut bytes);
            }
            self.stats.adverts_sent += 1;
            if prio == 0 {
                self.stats.pri_zero_sent += 1;
            }
            out.push(Action::SendAdvert {
                instance: self.name.clone(),
                iface: self.iface.clone(),
                src,
                dst,
                ttl,
                bytes,
            });
        }
    }

    /// Arm the periodic GARP/NA refresh of a MASTER (`vrrp_garp_master_refresh`): one
    /// refresh period after `now`, or never when there is none.
    pub fn arm_refresh(&mut self, now: Timestamp) {
        self.refresh_timer = self
            .cfg
            .garp
            .master_refresh
            .filter(|d| !d.is_zero())
            .map(|d| now + d);
    }

    /// Arm the next `garp_extra_if` announcement one period after `now` (never when it is
    /// off, or when no address would get one).
    pub fn arm_extra(&mut self, now: Timestamp) {
        self.extra_timer = self
            .cfg
            .garp
            .extra_if
            .filter(|d| !d.is_zero() && self.cfg.garp.extra_if_all)
            .filter(|_| self.extra_if_addrs().next().is_some())
            .map(|d| now + d);
    }

    /// The VIPs and excluded VIPs on interfaces other than the instance's.
    fn extra_if_addrs(&self) -> impl Iterator<Item = &crate::config::Vip> + '_ {
        self.cfg
            .addresses
            .vips
            .iter()
            .chain(&self.cfg.addresses.excluded)
            .filter(|v| v.dev.as_deref().is_some_and(|d| d != self.cfg.interface))
    }

    /// One GARP/NA for each address on another interface (`garp_extra_if`).
    pub fn extra_if_announce(&self, out: &mut Vec<Action>) {
        let (v4, v6): (Vec<crate::config::Vip>, Vec<crate::config::Vip>) = self
            .extra_if_addrs()
            .cloned()
            .partition(|v| v.addr.is_ipv4());
        if !v4.is_empty() {
            out.push(Action::SendGarp {
                instance: self.name.clone(),
                iface: self.iface.clone(),
                addrs: v4,
                repeat: 1,
            });
        }
        if !v6.is_empty() {
            out.push(Action::SendNa {
                instance: self.name.clone(),
                iface: self.iface.clone(),
                addrs: v6,
                repeat: 1,
            });
        }
    }

    /// Gratuitous ARP / NA burst for every VIP and excluded VIP.
    pub fn garp_burst(&self, repeat: u32, out: &mut Vec<Action>) {
        if repeat == 0 {
            return;
        }
        let all = self
            .cfg
            .addresses
            .vips
            .iter()
            .chain(&self.cfg.addresses.excluded);
        let (v4, v6): (Vec<_>, Vec<_>) = all.cloned().partition(|v| v.addr.is_ipv4());
        if !v4.is_empty() {
            out.push(Action::SendGarp {
                instance: self.name.clone(),
                iface: self.iface.clone(),
                addrs: v4,
                repeat,
            });
        }
        if !v6.is_empty() {
            out.push(Action::SendNa {
                instance: self.name.clone(),
                iface: self.iface.clone(),
                addrs: v6,
                repeat,
            });
        }
    }

    // The set is copied for the action when the instance changes state, not kept in a
    // second copy per instance (at 10,000 instances that copy was ~2 MB).
    pub fn add_addresses(&self, out: &mut Vec<Action>) {
        if !self.cfg.addresses.is_empty() {
            out.push(Action::AddAddresses {
                instance: self.name.clone(),
                iface: self.iface.clone(),
                addrs: Arc::new(self.cfg.addresses.clone()),
            });
        }
    }

    pub fn del_addresses(&self, out: &mut Vec<Action>) {
        if !self.cfg.addresses.is_empty() {
            out.push(Action::DelAddresses {
                instance: self.name.clone(),
                iface: self.iface.clone(),
                addrs: Arc::new(self.cfg.addresses.clone()),
            });
        }
    }

    /// keepalived's receive checks, in its order, each failure bumping its counter.
    /// Returns the advert when it must be processed, and the error found (a drop when no
    /// advert comes back; a v3 interval mismatch is flagged and the advert still processed).
    pub fn check_packet<'a>(
        &mut self,
        p: &Packet<'a>,
        own_src: Option<IpAddr>,
        wall: Duration,
    ) -> (Option<AdvertRef<'a>>, Option<RxError>) {
        match self.check(p, own_src, wall) {
            Ok((a, flag)) => (a, flag),
            Err(e) => {
                self.count(e);
                (None, Some(e))
            }
        }
    }

    fn count(&mut self, e: RxError) {
        let s = &mut self.stats;
        match e {
            RxError::Ttl => s.ip_ttl_err += 1,
            RxError::Length => s.packet_len_err += 1,
            RxError::Version => s.version_err += 1,
            RxError::Type => s.invalid_type_rcvd += 1,
            RxError::Checksum => s.checksum_err += 1,
            RxError::Family | RxError::DstMode => s.dst_mode_err += 1,
            RxError::InvalidAuthType => s.invalid_authtype += 1,
            RxError::AuthTypeMismatch => s.authtype_mismatch += 1,
            RxError::AuthFailure => s.auth_failure += 1,
            RxError::AdvertInterval => s.advert_interval_err += 1,
            RxError::V2Interval => s.v2_interval_err += 1,
            RxError::OwnerIgnored => s.owner_ignored += 1,
            RxError::UnicastSrc => s.unicast_src_err += 1,
            RxError::AddressList => s.addr_list_err += 1,
            RxError::HmacMissing => s.hmac.missing += 1,
            RxError::HmacMalformed => s.hmac.malformed += 1,
            RxError::HmacUnknownKey => s.hmac.unknown_key += 1,
            RxError::HmacInvalid => s.hmac.invalid_hmac += 1,
            RxError::HmacStale => s.hmac.stale += 1,
            RxError::HmacReplay => s.hmac.replay += 1,
            RxError::HmacClockSkew => {}
        }
    }

    /// `auth_hmac`: a payload exactly one trailer longer than the message carries a trailer.
    /// Without `auth_hmac` such an advert is dropped (as keepalived 2.4.x: the length must
    /// be exact); with it, a trailer must verify (key, tag, freshness, replay) and a missing
    /// one is dropped only in `enforce` mode.
    /// `Ok(Some(HmacClockSkew))`: accepted, but the sender's clock is more than half the
    /// window off ours (`anti_replay time`).
    fn check_hmac(
        &mut self,
        p: &Packet<'_>,
        advert: &AdvertRef<'_>,
        wall: Duration,
    ) -> Result<Option<RxError>, RxError> {
        let alen = if p.src.is_ipv6() { 16 } else { 4 };
        let msg_len =
            8 + advert.addr_count() * alen + if advert.version == Version::V2 { 8 } else { 0 };
        let (msg, trailer) = hmac_auth::split(p.bytes, msg_len);
        let window_ms = self.hmac_window_ms();
        let Some(h) = &self.cfg.hmac else {
            return match trailer {
                Some(t) if t.first() == Some(&TRAILER_TYPE) => Err(RxError::Length),
                _ => Ok(None),
            };
        };
        let Some(trailer) = trailer else {
            return if h.mode.accepts_unsigned() {
                Ok(None)
            } else {
                Err(RxError::HmacMissing)
            };
        };
        let t = hmac_auth::verify(h, msg, trailer, p.src)?;
        self.hmac_replay
            .check(h.anti_replay, window_ms, p.src, t.seq, wall)?;
        let skewed = h.anti_replay == AntiReplay::Time
            && 2 * hmac_auth::skew_secs(t.secs(), wall.as_secs()).unsigned_abs() * 1000 > window_ms;
        Ok(skewed.then_some(RxError::HmacClockSkew))
    }

    /// The checks proper: `Err` drops the packet; `Ok((None, _))` is our own advert looped
    /// back; `Ok((Some(a), flag))` is processed.
    #[allow(clippy::type_complexity)]
    fn check<'a>(
        &mut self,
        p: &Packet<'a>,
        own_src: Option<IpAddr>,
        wall: Duration,
    ) -> Result<(Option<AdvertRef<'a>>, Option<RxError>), RxError> {
        let unwrapped;
        let ah_key = match self.cfg.auth {
            Auth::Ah(k) => Some(k),
            _ => None,
        };
        let p = match (ah::is_ipv4(p.bytes), ah_key) {
            (true, Some(key)) => {
                // IP protocol 51: the ICV, then the sequence number (a replay, or an
                // advert older than the last one accepted or sent, fails too).
                let a = ah::verify(&key, p.bytes).map_err(|_| RxError::AuthFailure)?;
                if a.seq <= self.ah_seq {
                    return Err(RxError::AuthFailure);
                }
                // keepalived carries on from the sequence number of what it accepts.
                self.ah_seq = a.seq;
                unwrapped = Packet {
                    bytes: a.vrrp,
                    ..*p
                };
                &unwrapped
            }
            // An AH advert to an instance without AH, or a plain one to an AH instance:
            // keepalived reads only protocol 51 for AH instances and only 112 for the
            // others, so neither is seen (nothing counted).
            (true, _) => return Ok((None, None)),
            (false, Some(_)) if self.cfg.version == Version::V2 => return Ok((None, None)),
            (false, _) => p,
        };
        // TTL / hop limit: 255 for multicast; per-peer limits for unicast.
        if p.dst.is_multicast() {
            if p.ttl != VRRP_TTL {
                return Err(RxError::Ttl);
            }
        } else if let Some(peer) = self.cfg.unicast_peers.iter().find(|x| x.addr == p.src) {
            if peer.min_ttl.is_some_and(|m| p.ttl < m) || peer.max_ttl.is_some_and(|m| p.ttl > m) {
                return Err(RxError::Ttl);
            }
        }
        let advert = match AdvertRef::decode(p.bytes, p.src, p.dst) {
            Ok((a, kind)) => {
                if self.cfg.is_unicast() && self.cfg.version == Version::V3 && p.src.is_ipv4() {
                    self.peer_old_checksum = kind == ChecksumKind::WithoutPseudoHeader;
                } else if kind == ChecksumKind::WithoutPseudoHeader && !self.cfg.v3_checksum_as_v2 {
                    // Multicast v3 over IPv4: the RFC's checksum (with the pseudo-header)
                    // only, unless configured for the old one (as keepalived).
                    return Err(RxError::Checksum);
                }
                a
            }
            Err(e) => {
                return Err(match e {
                    DecodeError::TooShort { .. } | DecodeError::Length { .. } => RxError::Length,
                    DecodeError::Version { .. } => RxError::Version,
                    DecodeError::Type { .. } => RxError::Type,
                    DecodeError::Checksum { .. } => RxError::Checksum,
                    DecodeError::Family { .. } => RxError::Family,
                })
            }
        };
        if advert.version != self.cfg.version {
            return Err(RxError::Version);
        }
        let hmac_flag = self.check_hmac(p, &advert, wall)?;
        let mut flag = hmac_flag;
        let own_int = self.cfg.adver_int_field();
        if advert.version == Version::V2 {
            let (want_type, want_data) = match self.cfg.auth {
                Auth::None => (AUTH_NONE, None),
                Auth::Pass(p) => (AUTH_PASS, Some(p)),
                // The ICV was checked on the AH header above.
                Auth::Ah(_) => (AUTH_AH, None),
            };
            if advert.auth_type != want_type {
                // keepalived knows types 0-2 (2: IPsec AH): an unknown one is invalid, a
                // known one not ours a mismatch.
                return Err(if advert.auth_type > AUTH_AH {
                    RxError::InvalidAuthType
                } else {
                    RxError::AuthTypeMismatch
                });
            }
            if let Some(pw) = want_data {
                if !ct_eq(&pw, &advert.auth_data) {
                    return Err(RxError::AuthFailure);
                }
            }
            if advert.adver_int != own_int {
                // Dropped; keepalived 2.2.7 leaves its "Advertisement Interval" counter
                // (v3's) alone for it, so it has a counter of its own.
                return Err(RxError::V2Interval);
            }
        } else if advert.adver_int != own_int {
            // v3: counted (and logged) only; the master's interval is learned.
            self.count(RxError::AdvertInterval);
            flag = Some(RxError::AdvertInterval);
        }
        if p.dst.is_multicast() == self.cfg.is_unicast() {
            return Err(RxError::DstMode);
        }
        if self.cfg.is_owner() && self.cfg.owner_ignore_adverts {
            return Err(RxError::OwnerIgnored);
        }
        if self.cfg.is_unicast()
            && self.cfg.check_unicast_src
            && !self.cfg.unicast_peers.iter().any(|x| x.addr == p.src)
        {
            return Err(RxError::UnicastSrc);
        }
        if own_src == Some(p.src) {
            // Our own advert looped back: not an advert from another router.
            return Ok((None, flag));
        }
        // An advert whose address list differs from ours is counted, reported once per
        // sender and state, and accepted, as keepalived 2.4.3 does ("expected N VIPs but
        // received M", "ip address associated with VRID ... not present in advert").
        // RFC 3768 §7.1 / RFC 5798 §7.1 and keepalived 2.2.7 discard it, which leaves two
        // routers with different lists both MASTER, the common VIPs on two hosts.
        // skip_check_adv_addr skips the check while the sender is the master we know.
        let skip = self.cfg.skip_check_adv_addr && self.master_addr == Some(p.src);
        let ours = &self.cfg.addresses.vips;
        let differs = !skip
            && (advert.addr_count() != ours.len() || !ours.iter().all(|v| advert.has_addr(v.addr)));
        self.stats.adverts_rcvd += 1;
        if differs {
            self.count(RxError::AddressList);
            if self.addr_list_reported != Some(p.src) {
                self.addr_list_reported = Some(p.src);
                flag = flag.or(Some(RxError::AddressList));
            }
        }
        let s = &mut self.stats;
        if advert.priority == 0 {
            s.pri_zero_rcvd += 1;
        }
        Ok((Some(advert), flag))
    }
}
