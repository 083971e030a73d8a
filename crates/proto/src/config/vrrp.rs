//! `vrrp_instance`, `vrrp_sync_group` and `garp_group`.

use super::addr::{Route, Rule, VirtualIpAddress};
use super::track::TrackRef;
use super::Script;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// `state MASTER|BACKUP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum InitialState {
    /// BACKUP (the default).
    #[default]
    Backup,
    /// MASTER.
    Master,
}

/// `auth_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AuthType {
    /// Simple password (`PASS`), up to 8 bytes.
    Pass,
    /// IPsec AH (IPv4 only).
    Ah,
}

/// `authentication { auth_type ..; auth_pass .. }` (VRRPv2 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    /// `auth_type PASS|AH`.
    pub auth_type: AuthType,
    /// `auth_pass` (truncated to 8 bytes, as keepalived does).
    pub auth_pass: String,
}

/// `auth_hmac { anti_replay }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HmacAntiReplay {
    /// `time` (the default): freshness window plus growing sequence.
    #[default]
    Time,
    /// `monotonic`: growing sequence only.
    Monotonic,
}

/// `auth_hmac { mode }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HmacMode {
    /// `enforce` (the default).
    #[default]
    Enforce,
    /// `permissive`.
    Permissive,
    /// `receive-only`.
    ReceiveOnly,
}

/// `auth_hmac { key ID VALUE }`: the key bytes, never printed: `Debug` and every
/// human-readable serialization (the JSON of `-d`) show `<masked>`; the binary IPC encoding
/// carries the bytes to the VRRP child.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct HmacKey {
    /// 1..=255.
    pub id: u8,
    /// 32..=64 bytes.
    pub key: Vec<u8>,
}

impl Serialize for HmacKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let readable = s.is_human_readable();
        let mut st = s.serialize_struct("HmacKey", 2)?;
        st.serialize_field("id", &self.id)?;
        if readable {
            st.serialize_field("key", "<masked>")?;
        } else {
            st.serialize_field("key", &self.key)?;
        }
        st.end()
    }
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HmacKey {{ id: {}, key: <masked, {} bytes> }}",
            self.id,
            self.key.len()
        )
    }
}

/// `auth_hmac { }` (keepalived 2.4.x): HMAC-SHA256 advert trailer, VRRPv2 and v3.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthHmac {
    /// `key ID VALUE`, valid ones only.
    pub keys: Vec<HmacKey>,
    /// `active_key` (0: not given).
    pub active_key: u8,
    /// `anti_replay`.
    pub anti_replay: HmacAntiReplay,
    /// `time_window` in seconds (None: max(3 x advert_int, 5)).
    pub time_window: Option<u32>,
    /// `mode`.
    pub mode: HmacMode,
}

/// One line of `unicast_peer { IP [min_ttl N] [max_ttl N] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnicastPeer {
    /// Peer address.
    pub address: IpAddr,
    /// `min_ttl` (default 0).
    pub min_ttl: u8,
    /// `max_ttl` (default 255).
    pub max_ttl: u8,
}

/// `use_vmac [NAME] [MAC] ...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vmac {
    /// Interface name (default `vrrp.VRID`, or `vrrp6.VRID` for IPv6).
    pub name: Option<String>,
    /// A MAC address to use instead of `00:00:5e:00:01|02:VRID`.
    pub mac: Option<VmacMac>,
    /// `vmac_xmit_base`: send adverts on the base interface.
    pub xmit_base: bool,
    /// `use_vmac_addr`: ... keep the VMAC address on the base interface too.
    pub use_vmac_addr: bool,
}

/// The bytes of a `use_vmac` MAC address, checked when the configuration is read. As
/// keepalived 2.2.7 does (observed on the VMAC it creates), they are laid over the start
/// of the default `00:00:5e:00:01|02:VRID`: fewer than six keep the default's last
/// bytes, more than six are ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmacMac {
    /// The bytes given (the first `len`).
    pub bytes: [u8; 6],
    /// How many were given, 1..=6.
    pub len: u8,
}

impl VmacMac {
    /// Parse `HH:HH:...` (one or two hex digits a byte); None if a part is not hex.
    pub fn parse(s: &str) -> Option<VmacMac> {
        let mut m = VmacMac::default();
        for (i, part) in s.split(':').enumerate() {
            if part.is_empty() || part.len() > 2 {
                return None;
            }
            let b = u8::from_str_radix(part, 16).ok()?;
            if let Some(slot) = m.bytes.get_mut(i) {
                *slot = b;
                m.len += 1;
            }
        }
        Some(m)
    }

    /// The group bit is set: not usable as an interface address.
    pub fn is_multicast(&self) -> bool {
        self.len > 0 && self.bytes[0] & 1 == 1
    }

    /// The address: these bytes over `default`.
    pub fn over(&self, default: [u8; 6]) -> [u8; 6] {
        let mut out = default;
        let n = usize::from(self.len.min(6));
        out[..n].copy_from_slice(&self.bytes[..n]);
        out
    }
}

/// `notify_*` scripts of an instance or a sync group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Script>,
    /// `notify_backup`.
    pub backup: Option<Script>,
    /// `notify_fault`.
    pub fault: Option<Script>,
    /// `notify_stop`.
    pub stop: Option<Script>,
    /// `notify_deleted` (None when given without a script: only the DELETED state is sent).
    pub deleted: Option<Script>,
    /// `notify_deleted` given at all.
    pub notify_deleted: bool,
    /// `notify` (called with TYPE NAME STATE PRIORITY appended).
    pub notify: Option<Script>,
    /// `notify_master_rx_lower_pri`.
    pub master_rx_lower_pri: Option<Script>,
    /// `notify_priority_changes` (None: not given; an instance then takes its sync
    /// group's, else the global `vrrp_notify_priority_changes`).
    pub priority_changes: Option<bool>,
}

/// `vrrp_instance NAME { }`, with every `[G]` value resolved from `global_defs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpInstance {
    /// The block's name.
    pub name: String,
    /// `state` (default BACKUP; MASTER when priority is 255).
    pub state: InitialState,
    /// `interface IF` (None: unicast without an interface, or `default_interface`).
    pub interface: Option<String>,
    /// `virtual_router_id 1..255` (required).
    pub virtual_router_id: u8,
    /// `priority 1..255` (default 100).
    pub priority: u8,
    /// `advert_int` (default 1 s).
    pub advert_int: Duration,
    /// `version 2|3` (default: global `vrrp_version`, 3 for IPv6).
    pub version: u8,
    /// True when the instance is IPv6 (its VIPs are IPv6, or `native_ipv6`).
    pub ipv6: bool,
    /// `authentication { }`.
    pub authentication: Option<Authentication>,
    /// `auth_hmac { }` (None when absent or disabled for want of its active key).
    #[serde(default)]
    pub auth_hmac: Option<AuthHmac>,
    /// `virtual_ipaddress { }` (in adverts).
    pub virtual_ipaddress: Vec<VirtualIpAddress>,
    /// `virtual_ipaddress_excluded { }` (not in adverts).
    pub virtual_ipaddress_excluded: Vec<VirtualIpAddress>,
    /// `no_virtual_ipaddress`.
    pub no_virtual_ipaddress: bool,
    /// `promote_secondaries`.
    pub promote_secondaries: bool,
    /// `virtual_routes { }`.
    pub virtual_routes: Vec<Route>,
    /// `virtual_rules { }`.
    pub virtual_rules: Vec<Rule>,
    /// `track_interface { }` (`name` is the interface).
    pub track_interface: Vec<TrackRef>,
    /// `track_script { }`.
    pub track_script: Vec<TrackRef>,
    /// `track_file { }`.
    pub track_file: Vec<TrackRef>,
    /// `track_process { }`.
    pub track_process: Vec<TrackRef>,
    /// `track_bfd { }` (recognised; BFD is out of scope).
    pub track_bfd: Vec<TrackRef>,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `track_src_ip`.
    pub track_src_ip: bool,
    /// `mcast_src_ip`.
    pub mcast_src_ip: Option<IpAddr>,
    /// `unicast_src_ip`.
    pub unicast_src_ip: Option<IpAddr>,
    /// `mcast_dst_ip` (None: the global group, 224.0.0.18 / ff02::12).
    pub mcast_dst_ip: Option<IpAddr>,
    /// `unicast_peer { }`.
    pub unicast_peer: Vec<UnicastPeer>,
    /// `unicast_ttl` (default 255).
    pub unicast_ttl: u8,
    /// `unicast_fault_no_peer`.
    pub unicast_fault_no_peer: bool,
    /// `check_unicast_src` [G vrrp_check_unicast_src].
    pub check_unicast_src: bool,
    /// `old_unicast_checksum`.
    pub old_unicast_checksum: bool,
    /// `nopreempt` (default false: preempt).
    pub nopreempt: bool,
    /// `preempt_delay 0..1000 s`.
    pub preempt_delay: Duration,
    /// `accept` / `no_accept` (None: keepalived's default: accept, or owner-only in strict mode).
    pub accept: Option<bool>,
    /// `use_vmac`.
    pub use_vmac: Option<Vmac>,
    /// `use_ipvlan [NAME] [ADDR] [bridge|private|vepa]`, as written.
    pub use_ipvlan: Option<Vec<String>>,
    /// `vrf`.
    pub vrf: Option<String>,
    /// `garp_master_delay` [G] (5 s).
    pub garp_master_delay: Duration,
    /// `garp_master_repeat` [G] (5).
    pub garp_master_repeat: u32,
    /// `garp_master_refresh` [G] (0: off).
    pub garp_master_refresh: Duration,
    /// `garp_master_refresh_repeat` [G] (1).
    pub garp_master_refresh_repeat: u32,
    /// `garp_lower_prio_delay` [G] (default: garp_master_delay).
    pub garp_lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat` [G] (default: garp_master_repeat).
    pub garp_lower_prio_repeat: u32,
    /// `garp_extra_if [all] SECS` [G].
    pub garp_extra_if: Option<Duration>,
    /// `garp_extra_if all`.
    pub garp_extra_if_all: bool,
    /// `down_timer_adverts` [G] (3).
    pub down_timer_adverts: u32,
    /// `lower_prio_no_advert` [G].
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert` [G].
    pub higher_prio_send_advert: bool,
    /// `owner_ignore_adverts` [G].
    pub owner_ignore_adverts: bool,
    /// `skip_check_adv_addr` [G].
    pub skip_check_adv_addr: bool,
    /// `strict_mode` [G vrrp_strict].
    pub strict_mode: bool,
    /// `timer_expired_backup [PRIO]` (None: off).
    pub timer_expired_backup: Option<u8>,
    /// Notify scripts.
    pub notify: Notify,
    /// `smtp_alert [BOOL]` (None: global default).
    pub smtp_alert: Option<bool>,
    /// `lvs_sync_daemon_interface` (deprecated).
    pub lvs_sync_daemon_interface: Option<String>,
    /// `v3_checksum_as_v2` [G].
    pub v3_checksum_as_v2: bool,
    /// `kernel_rx_buf_size`.
    pub kernel_rx_buf_size: Option<u32>,
    /// `debug [LEVEL]`.
    pub debug: u8,
    /// The sync group this instance belongs to (filled by the parser).
    pub sync_group: Option<String>,
}

impl Default for VrrpInstance {
    fn default() -> Self {
        VrrpInstance {
            name: String::new(),
            state: InitialState::Backup,
            interface: None,
            virtual_router_id: 0,
            priority: 100,
            advert_int: Duration::from_secs(1),
            version: 2,
            ipv6: false,
            authentication: None,
            auth_hmac: None,
            virtual_ipaddress: Vec::new(),
            virtual_ipaddress_excluded: Vec::new(),
            no_virtual_ipaddress: false,
            promote_secondaries: false,
            virtual_routes: Vec::new(),
            virtual_rules: Vec::new(),
            track_interface: Vec::new(),
            track_script: Vec::new(),
            track_file: Vec::new(),
            track_process: Vec::new(),
            track_bfd: Vec::new(),
            dont_track_primary: false,
            track_src_ip: false,
            mcast_src_ip: None,
            unicast_src_ip: None,
            mcast_dst_ip: None,
            unicast_peer: Vec::new(),
            unicast_ttl: 255,
            unicast_fault_no_peer: false,
            check_unicast_src: false,
            old_unicast_checksum: false,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            accept: None,
            use_vmac: None,
            use_ipvlan: None,
            vrf: None,
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            garp_master_refresh: Duration::ZERO,
            garp_master_refresh_repeat: 1,
            garp_lower_prio_delay: Duration::from_secs(5),
            garp_lower_prio_repeat: 5,
            garp_extra_if: None,
            garp_extra_if_all: false,
            down_timer_adverts: 3,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            owner_ignore_adverts: false,
            skip_check_adv_addr: false,
            strict_mode: false,
            timer_expired_backup: None,
            notify: Notify::default(),
            smtp_alert: None,
            lvs_sync_daemon_interface: None,
            v3_checksum_as_v2: false,
            kernel_rx_buf_size: None,
            debug: 0,
            sync_group: None,
        }
    }
}

impl VrrpInstance {
    /// Is this instance the address owner (priority 255)?
    pub fn is_owner(&self) -> bool {
        self.priority == 255
    }
}

/// `vrrp_sync_group NAME { }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VrrpSyncGroup {
    /// The block's name.
    pub name: String,
    /// `group { INSTANCE .. }`.
    pub group: Vec<String>,
    /// `track_interface { }`.
    pub track_interface: Vec<TrackRef>,
    /// `track_script { }`.
    pub track_script: Vec<TrackRef>,
    /// `track_file { }`.
    pub track_file: Vec<TrackRef>,
    /// `track_process { }`.
    pub track_process: Vec<TrackRef>,
    /// `track_bfd { }`.
    pub track_bfd: Vec<TrackRef>,
    /// Notify scripts.
    pub notify: Notify,
    /// `smtp_alert [BOOL]`.
    pub smtp_alert: Option<bool>,
    /// `sync_group_tracking_weight`.
    pub sync_group_tracking_weight: bool,
    /// `global_tracking` (deprecated).
    pub global_tracking: bool,
}

/// `garp_group { garp_interval; gna_interval; interface IF | interfaces { } }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GarpGroup {
    /// `garp_interval`.
    pub garp_interval: Duration,
    /// `gna_interval`.
    pub gna_interval: Duration,
    /// `interface` / `interfaces { }`.
    pub interfaces: Vec<String>,
}

#[cfg(test)]
mod vmac_tests {
    use super::VmacMac;

    /// keepalived 2.2.7 (`use_vmac vrrp.1 MAC`, VRID 1): what `-t` says and the MAC of
    /// the VMAC it then creates.
    #[test]
    fn vmac_macs_as_keepalived_takes_them() {
        let default = [0, 0, 0x5e, 0, 1, 1];
        let mac = |s: &str| VmacMac::parse(s).map(|m| m.over(default));
        // exit 0; the VMAC gets 02:00:5e:00:01:01 for all three.
        assert_eq!(mac("02:00:5e:00:01:01"), Some([2, 0, 0x5e, 0, 1, 1]));
        assert_eq!(mac("2:0:5e:0:1:1"), Some([2, 0, 0x5e, 0, 1, 1]));
        assert_eq!(mac("02:00:5e:00:01"), Some([2, 0, 0x5e, 0, 1, 1]));
        assert_eq!(mac("02:00:5e:00:01:01:07"), Some([2, 0, 0x5e, 0, 1, 1]));
        assert_eq!(mac("02:00:5e:00:01:09"), Some([2, 0, 0x5e, 0, 1, 9]));
        // exit 5: "VMAC invalid MAC address zz:00:5e:00:01:01".
        assert_eq!(VmacMac::parse("zz:00:5e:00:01:01"), None);
        assert_eq!(VmacMac::parse("02::5e:00:01:01"), None);
        assert_eq!(VmacMac::parse("002:00:5e:00:01:01"), None);
        // exit 5: "VMAC MAC address is multicast 01:00:5e:00:01:01 - ignoring".
        assert!(VmacMac::parse("01:00:5e:00:01:01")
            .expect("hex")
            .is_multicast());
        assert!(!VmacMac::parse("02:00:5e:00:01:01")
            .expect("hex")
            .is_multicast());
    }
}

#[cfg(test)]
mod hmac_key_tests {
    use super::*;
    use crate::ipc::codec::{encode_frame, FrameDecoder, MAX_FRAME};

    #[test]
    fn keys_are_masked_in_json_and_debug_and_carried_over_ipc() {
        let h = AuthHmac {
            keys: vec![HmacKey {
                id: 3,
                key: b"s3cret-s3cret-s3cret-s3cret-s3cr".to_vec(),
            }],
            active_key: 3,
            ..AuthHmac::default()
        };
        let json = serde_json::to_string(&h).expect("json");
        assert!(
            json.contains("\"key\":\"<masked>\"") && !json.contains("115"),
            "{json}"
        );
        assert!(!format!("{h:?}").contains("s3cret"));
        let mut d = FrameDecoder::default();
        d.push(&encode_frame(&h, MAX_FRAME).expect("encode"));
        let back: AuthHmac = d.next_message().expect("decode").expect("a message");
        assert_eq!(back, h);
    }
}
