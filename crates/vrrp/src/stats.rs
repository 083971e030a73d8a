//! Counters, per instance (keepalived's `keepalived.stats`) and for the engine.

/// Per-instance counters. Receive errors are counted once, for the first check that fails
/// (in keepalived's order); the packet is then dropped, except for the v3 interval check,
/// which is counted and the advert still processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Adverts that passed the checks.
    pub adverts_rcvd: u64,
    /// Adverts sent (one per destination).
    pub adverts_sent: u64,
    /// Times this instance became MASTER.
    pub became_master: u64,
    /// Times it left MASTER.
    pub released_master: u64,
    /// Shorter than the header, or than the addresses it announces.
    pub packet_len_err: u64,
    /// TTL / hop limit not 255 (multicast), or outside a peer's min/max (unicast).
    pub ip_ttl_err: u64,
    /// Version not the configured one (or not 2/3).
    pub version_err: u64,
    /// Type not ADVERTISEMENT.
    pub invalid_type_rcvd: u64,
    /// Checksum wrong.
    pub checksum_err: u64,
    /// v3 interval different from ours (counted only; the master's is learned).
    pub advert_interval_err: u64,
    /// v2 interval different from ours (dropped). Not in keepalived's stats file.
    pub v2_interval_err: u64,
    /// Address count or list different from ours (dropped).
    pub addr_list_err: u64,
    /// v2 auth type unknown (not 0/1).
    pub invalid_authtype: u64,
    /// v2 auth type different from ours.
    pub authtype_mismatch: u64,
    /// v2 password wrong.
    pub auth_failure: u64,
    /// Multicast advert for a unicast instance, or the other way round.
    pub dst_mode_err: u64,
    /// Unicast source not a configured peer (`check_unicast_src`).
    pub unicast_src_err: u64,
    /// Adverts dropped because this owner ignores adverts.
    pub owner_ignored: u64,
    /// Priority-0 adverts received.
    pub pri_zero_rcvd: u64,
    /// Priority-0 adverts sent.
    pub pri_zero_sent: u64,
    /// `auth_hmac` drops (keepalived 2.4.x's `auth_ext_*`).
    pub hmac: HmacStats,
}

/// `auth_hmac` receive errors, each a dropped advert (keepalived 2.4.x's `auth_ext_missing`,
/// `auth_ext_malformed`, `auth_ext_unknown_key`, `auth_ext_invalid_hmac`, `auth_ext_stale`,
/// `auth_ext_replay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HmacStats {
    /// No trailer (`mode enforce`).
    pub missing: u64,
    /// A trailer of the right length that is not one (type, reserved bytes, key id 0).
    pub malformed: u64,
    /// A key id not configured.
    pub unknown_key: u64,
    /// The tag does not verify (wrong key or forged).
    pub invalid_hmac: u64,
    /// Sequence time outside the freshness window (`anti_replay time`).
    pub stale: u64,
    /// Sequence not above the sender's last one.
    pub replay: u64,
}

impl HmacStats {
    /// The sum.
    pub fn total(&self) -> u64 {
        self.missing
            + self.malformed
            + self.unknown_key
            + self.invalid_hmac
            + self.stale
            + self.replay
    }

    /// Counters minus a baseline (saturating).
    pub fn minus(&self, b: &HmacStats) -> HmacStats {
        HmacStats {
            missing: self.missing.saturating_sub(b.missing),
            malformed: self.malformed.saturating_sub(b.malformed),
            unknown_key: self.unknown_key.saturating_sub(b.unknown_key),
            invalid_hmac: self.invalid_hmac.saturating_sub(b.invalid_hmac),
            stale: self.stale.saturating_sub(b.stale),
            replay: self.replay.saturating_sub(b.replay),
        }
    }
}

impl Stats {
    /// Sum of every counter of dropped packets.
    pub fn rx_errors(&self) -> u64 {
        self.packet_len_err
            + self.addr_list_err
            + self.owner_ignored
            + self.v2_interval_err
            + self.ip_ttl_err
            + self.version_err
            + self.invalid_type_rcvd
            + self.checksum_err
            + self.invalid_authtype
            + self.authtype_mismatch
            + self.auth_failure
            + self.dst_mode_err
            + self.unicast_src_err
            + self.hmac.total()
    }
}

/// Counters for packets that reached no instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineStats {
    /// Shorter than the VRRP header (no VRID to route by).
    pub rx_too_short: u64,
    /// No instance with this VRID on this interface and family.
    pub rx_unknown_vrid: u64,
    /// Work counter (not a keepalived counter): instances examined to route received
    /// packets and timer-heap entries popped. Stays proportional to the packets and
    /// expiries handled, whatever the number of instances (the scale property).
    pub instances_examined: u64,
    /// Work counter (not a keepalived counter): instance names and keys looked up or
    /// compared to validate a configuration, match its instances to the running ones across
    /// a reload and place them in their sync groups. Grows in proportion to the number of
    /// instances (issue 16: a reload of 10,000 instances compared keys 50 million times).
    pub config_work: u64,
}

/// Why the last received packet was dropped (or, for [`RxError::AdvertInterval`] on v3,
/// only flagged). One per receive check, in keepalived's order; each maps to the counter
/// it bumps in [`Stats`] and to the words keepalived's `keepalived.stats` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RxError {
    /// TTL / hop limit not 255 (multicast) or outside a unicast peer's limits.
    Ttl,
    /// Too short, or shorter than the addresses it announces.
    Length,
    /// Version not the configured one.
    Version,
    /// Type not ADVERTISEMENT.
    Type,
    /// Checksum wrong (or a v3 IPv4 multicast checksum without the pseudo-header, without
    /// `v3_checksum_as_v2`).
    Checksum,
    /// IPv4 source with IPv6 destination or the other way round.
    Family,
    /// v2 auth type unknown.
    InvalidAuthType,
    /// v2 auth type not ours.
    AuthTypeMismatch,
    /// v2 password wrong.
    AuthFailure,
    /// v3 advert interval not ours (counted, the advert is processed).
    AdvertInterval,
    /// v2 advert interval not ours (dropped).
    V2Interval,
    /// Multicast advert for a unicast instance, or the other way round.
    DstMode,
    /// This owner ignores adverts.
    OwnerIgnored,
    /// Unicast source not a configured peer.
    UnicastSrc,
    /// Address count or list differs from ours: counted and accepted, as keepalived 2.4.3
    /// (RFC 3768 §7.1 and keepalived 2.2.7 drop it).
    AddressList,
    /// `auth_hmac`: no trailer while enforcing.
    HmacMissing,
    /// `auth_hmac`: a malformed trailer.
    HmacMalformed,
    /// `auth_hmac`: a key id not configured.
    HmacUnknownKey,
    /// `auth_hmac`: the HMAC does not verify.
    HmacInvalid,
    /// `auth_hmac`: the sequence lies outside the freshness window.
    HmacStale,
    /// `auth_hmac`: the sequence was seen already (replay).
    HmacReplay,
    /// `auth_hmac`: an accepted advert whose sender's clock is more than half the
    /// freshness window off ours (flagged only, as [`RxError::AdvertInterval`]: the advert
    /// is processed; the early sign of clock drift).
    HmacClockSkew,
}

impl From<crate::hmac_auth::HmacError> for RxError {
    fn from(e: crate::hmac_auth::HmacError) -> RxError {
        use crate::hmac_auth::HmacError as H;
        match e {
            H::Missing => RxError::HmacMissing,
            H::Malformed => RxError::HmacMalformed,
            H::UnknownKey(_) => RxError::HmacUnknownKey,
            H::BadTag(_) => RxError::HmacInvalid,
            H::Stale { .. } => RxError::HmacStale,
            H::Replay => RxError::HmacReplay,
        }
    }
}

impl RxError {
    /// The phrase logged for it.
    pub fn as_str(self) -> &'static str {
        match self {
            RxError::Ttl => "invalid TTL/HL",
            RxError::Length => "invalid length",
            RxError::Version => "invalid version",
            RxError::Type => "invalid type",
            RxError::Checksum => "invalid checksum",
            RxError::Family => "address family mismatch",
            RxError::InvalidAuthType => "invalid auth type",
            RxError::AuthTypeMismatch => "auth type mismatch",
            RxError::AuthFailure => "authentication failure",
            RxError::AdvertInterval | RxError::V2Interval => "advertisement interval mismatch",
            RxError::DstMode => "unicast/multicast mismatch",
            RxError::OwnerIgnored => "ignored (address owner)",
            RxError::UnicastSrc => "source is not a unicast peer",
            RxError::AddressList => "address list mismatch",
            RxError::HmacMissing => "missing authentication trailer",
            RxError::HmacMalformed => "malformed authentication trailer",
            RxError::HmacUnknownKey => "unknown authentication key id",
            RxError::HmacInvalid => "invalid authentication HMAC",
            RxError::HmacStale => "stale authentication trailer",
            RxError::HmacReplay => "replayed authentication trailer",
            RxError::HmacClockSkew => "authentication clock skew approaching the window",
        }
    }

    /// Whether the advert was dropped (every error but a v3 interval mismatch, another
    /// address list and a clock skew warning).
    pub fn drops(self) -> bool {
        !matches!(
            self,
            RxError::AdvertInterval | RxError::HmacClockSkew | RxError::AddressList
        )
    }
}
