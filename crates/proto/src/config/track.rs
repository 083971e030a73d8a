//! Trackers: `vrrp_script`, `track_file`, `vrrp_track_process`, `track_group`, and the
//! references to them from instances and sync groups.

use super::Script;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `vrrp_script NAME { }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpScript {
    /// The block's name.
    pub name: String,
    /// `script "cmd args"` (required).
    pub script: Script,
    /// `interval` (default 1 s).
    pub interval: Duration,
    /// `timeout` (default: the interval).
    pub timeout: Duration,
    /// `weight -253..253` (default 0: failure means FAULT).
    pub weight: i32,
    /// `weight N reverse`.
    pub weight_reverse: bool,
    /// `rise` (default 1).
    pub rise: u32,
    /// `fall` (default 1).
    pub fall: u32,
    /// `init_fail`: start in the failed state.
    pub init_fail: bool,
}

impl Default for VrrpScript {
    fn default() -> Self {
        VrrpScript {
            name: String::new(),
            script: Script::default(),
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            weight: 0,
            weight_reverse: false,
            rise: 1,
            fall: 1,
            init_fail: false,
        }
    }
}

/// `track_file NAME { }` (alias `vrrp_track_file`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackFile {
    /// The block's name.
    pub name: String,
    /// `file "path"` (required).
    pub file: String,
    /// `weight` (default 1).
    pub weight: i32,
    /// `weight N reverse`.
    pub weight_reverse: bool,
    /// `init_file [VAL] [overwrite]`: create the file with VAL (default 0).
    pub init_file: Option<i64>,
    /// `init_file ... overwrite`.
    pub init_file_overwrite: bool,
}

impl Default for TrackFile {
    fn default() -> Self {
        TrackFile {
            name: String::new(),
            file: String::new(),
            weight: 1,
            weight_reverse: false,
            init_file: None,
            init_file_overwrite: false,
        }
    }
}

/// `param_match` of a `vrrp_track_process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamMatch {
    /// No parameters given: match the process name only.
    #[default]
    None,
    /// Parameters must match exactly.
    Exact,
    /// `param_match initial`.
    Initial,
    /// `param_match partial`.
    Partial,
}

/// `vrrp_track_process NAME { }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackProcess {
    /// The block's name.
    pub name: String,
    /// `process NAME [ARGS..]` (required).
    pub process: Vec<String>,
    /// `param_match`.
    pub param_match: ParamMatch,
    /// `full_command`: match the whole command line rather than the comm name.
    pub full_command: bool,
    /// `weight` (default 0).
    pub weight: i32,
    /// `weight N reverse`.
    pub weight_reverse: bool,
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `quorum_max` (default unlimited).
    pub quorum_max: Option<u32>,
    /// `fork_delay` (default 0).
    pub fork_delay: Duration,
    /// `terminate_delay` (default 0).
    pub terminate_delay: Duration,
}

impl Default for TrackProcess {
    fn default() -> Self {
        TrackProcess {
            name: String::new(),
            process: Vec::new(),
            param_match: ParamMatch::None,
            full_command: false,
            weight: 0,
            weight_reverse: false,
            quorum: 1,
            quorum_max: None,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
        }
    }
}

/// `track_group NAME { group { INSTANCE .. } }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrackGroup {
    /// The block's name.
    pub name: String,
    /// Instance names.
    pub group: Vec<String>,
}

/// One entry of `track_script`, `track_file`, `track_process`, `track_bfd` or
/// `track_interface` inside an instance or a sync group: `NAME [weight W] [reverse|noreverse]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    /// The tracked object's name (an interface name for `track_interface`).
    pub name: String,
    /// `weight W` (None: the tracked object's own weight).
    pub weight: Option<i32>,
    /// `reverse` (Some(true)), `noreverse` (Some(false)), None: the object's own setting.
    pub reverse: Option<bool>,
}

/// Where link state comes from for `linkbeat_interfaces`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LinkbeatMethod {
    /// MII registers (the default).
    #[default]
    Mii,
    /// ETHTOOL.
    Ethtool,
    /// SIOCGIFFLAGS.
    Ioctl,
}

/// One line of `linkbeat_interfaces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkbeatInterface {
    /// Interface name.
    pub interface: String,
    /// Polling method.
    pub method: LinkbeatMethod,
}

/// One line of `interface_up_down_delays { IF DOWN [UP] }` (0..255 s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceUpDownDelay {
    /// Interface name.
    pub interface: String,
    /// Debounce before reporting down.
    pub down: Duration,
    /// Debounce before reporting up.
    pub up: Duration,
}
