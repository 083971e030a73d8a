//! What goes into the engine ([`Input`]) and what comes out ([`Action`]).

use std::net::IpAddr;
use std::sync::Arc;

use crate::config::{AddressSet, Family, TrackKind, Vip};
use crate::install::{Route, Rule};
use crate::time::Timestamp;

/// The state of an instance (RFC 5798 §6.4, plus keepalived's FAULT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Not started yet, or stopped.
    Initialize,
    /// Listening; takes over when the master goes quiet.
    Backup,
    /// Owns the addresses and advertises.
    Master,
    /// Cannot run (interface down, failed weight-0 tracker, no source address...).
    Fault,
}

impl State {
    /// keepalived's spelling (`MASTER`, `BACKUP`, `FAULT`, `INIT`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a state changed (for logs: keepalived prints a reason with each transition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// [`Input::Startup`].
    Startup,
    /// [`Input::Resume`] after a respawn.
    Resume,
    /// Master_Down timer expired (or Skew after a priority-0 advert).
    MasterDown,
    /// The address owner starting as MASTER.
    Owner,
    /// A MASTER heard a higher priority (or equal priority, higher address).
    HigherPriority,
    /// A fault appeared (interface, tracker, source address), or a VIP was deleted by hand
    /// ([`Input::AddressDeleted`], which leads to BACKUP).
    Fault,
    /// The fault cleared.
    FaultCleared,
    /// Another member of the sync group moved.
    SyncGroup,
    /// [`Input::Shutdown`] or removal by a reload.
    Shutdown,
    /// [`Input::Maintenance`]: the operator drained this host.
    Maintenance,
    /// `timer_expired_backup`: a `nopreempt` MASTER's advert timer ran so late that
    /// another router may have taken over, so it stands down.
    TimerExpired,
}

impl Reason {
    /// A short name for status answers (`master_down`, `higher_priority`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Startup => "startup",
            Reason::Resume => "resume",
            Reason::MasterDown => "master_down",
            Reason::Owner => "owner",
            Reason::HigherPriority => "higher_priority",
            Reason::Fault => "fault",
            Reason::FaultCleared => "fault_cleared",
            Reason::SyncGroup => "sync_group",
            Reason::Shutdown => "shutdown",
            Reason::Maintenance => "maintenance",
            Reason::TimerExpired => "timer_expired",
        }
    }
}

/// The value a tracker reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackStatus {
    /// Not known yet (scripts before their first result). A weight-0 tracker in this state
    /// holds the instance in FAULT, except for an instance resumed by [`Input::Resume`].
    Unknown,
    /// OK / up / success.
    Up,
    /// Failed / down.
    Down,
    /// The integer of a `track_file`.
    Value(i64),
}

/// One received VRRP packet as the I/O layer hands it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The interface it arrived on (as named in the config; "" when not known).
    pub iface: &'a str,
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address (the VRRP group or our unicast address).
    pub dst: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// The VRRP message: what follows the IP header (and any extension headers). An
    /// `auth_type AH` advert (IP protocol 51) comes whole, its IPv4 header included (the
    /// ICV covers it); it starts with IP version 4, a VRRP message with 2 or 3.
    pub bytes: &'a [u8],
    /// When the packet arrived (on the clock of the `now` passed to
    /// [`crate::Engine::handle`]), if the I/O layer knows it (a kernel receive timestamp);
    /// `None`: it arrived just now. A packet that sat in a socket queue (the process was
    /// stopped or starved) is older than the moment it is handled: a BACKUP restarts its
    /// Master_Down timer from this time (never later than `now`), so an advert already
    /// older than Master_Down_Interval does not postpone the takeover.
    pub received: Option<Timestamp>,
}

impl Packet<'_> {
    /// When it arrived as seen at `now`: [`Packet::received`], never later than `now`.
    pub fn heard_at(&self, now: Timestamp) -> Timestamp {
        self.received.map_or(now, |r| r.min(now))
    }
}

/// Something that happened, fed to [`crate::Engine::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input<'a> {
    /// Start every instance not yet started (by [`Input::Resume`]): non-owners remove
    /// their addresses and enter BACKUP (or FAULT); an owner configured MASTER takes over.
    Startup,
    /// Start one instance in a known state (the VRRP child was respawned by the parent).
    /// MASTER resumes at once: no address removal, an advert right away, addresses
    /// re-added (the I/O layer must treat "already present" as success). Any other state
    /// releases the addresses first. Feed the links, interface addresses and known tracker
    /// states before, resume every member of a sync group in the same state, then send
    /// [`Input::Startup`] for the instances the parent had no record of.
    Resume {
        /// Instance name.
        instance: &'a str,
        /// The state it had before the respawn.
        state: State,
    },
    /// A packet arrived.
    Packet(Packet<'a>),
    /// The time passed to `handle` reached [`crate::Engine::next_deadline`] (extra
    /// wake-ups are harmless).
    Timer,
    /// An interface came up (instance interfaces and `track_interface` entries).
    LinkUp {
        /// Interface name.
        iface: &'a str,
    },
    /// An interface went down.
    LinkDown {
        /// Interface name.
        iface: &'a str,
    },
    /// The primary address of an interface for one family (`None`: it has none). Used as
    /// the advert source unless `src_addr` is configured; without one the instance is FAULT.
    InterfaceAddress {
        /// Interface name.
        iface: &'a str,
        /// Which family.
        family: Family,
        /// The address, if any.
        addr: Option<IpAddr>,
    },
    /// A script, file, process or BFD tracker reported.
    Tracker {
        /// Kind of tracker.
        kind: TrackKind,
        /// Its name.
        name: &'a str,
        /// Its new status.
        status: TrackStatus,
    },
    /// Stop: every MASTER sends priority 0 and releases its addresses.
    Shutdown,
    /// Drain (`on`) or restore the named instances (all when `instance` is None), as
    /// OpenBSD's `carpdemote` does: a drained instance advertises priority 1, so any peer
    /// takes over and keeps it; a drained MASTER hands over at once with a priority-0
    /// advert. The members of a drained instance's sync group are drained with it.
    /// Restored, it has its priority back (and takes over again if it preempts).
    Maintenance {
        /// Instance name, or every instance.
        instance: Option<&'a str>,
        /// Drain (true) or restore (false).
        on: bool,
    },
    /// Someone else (`ip addr del`) deleted an address an instance had installed. A MASTER
    /// holding it as a VIP or excluded VIP sends priority 0, releases its addresses and
    /// enters BACKUP (its sync group with it), and takes over again after Skew_Time unless
    /// another router does, which puts the address back, as keepalived does. The I/O layer
    /// leaves out addresses marked `no_track` and its own deletions.
    AddressDeleted {
        /// Interface it was on.
        iface: &'a str,
        /// The address.
        addr: IpAddr,
    },
    /// Someone else (`ip route del`) deleted a `virtual_routes` route an instance had
    /// installed. Handled as [`Input::AddressDeleted`] (observed alike in keepalived 2.4.3
    /// and 2.2.7): the MASTERs holding it send priority 0, release everything and enter
    /// BACKUP, and take over again after Skew_Time, which puts the route back. The I/O
    /// layer leaves out routes marked `no_track` (or without a `dev`) and its own
    /// deletions; it passes the route as configured.
    RouteDeleted {
        /// The route as the instance carries it.
        route: &'a Route,
    },
    /// As [`Input::RouteDeleted`] for a `virtual_rules` rule (`ip rule del`).
    RuleDeleted {
        /// The rule as the instance carries it.
        rule: &'a Rule,
    },
}

/// Who a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NotifyTarget {
    /// A `vrrp_instance`.
    Instance(Arc<str>),
    /// A `vrrp_sync_group`.
    Group(Arc<str>),
}

/// The state word of a notification (`notify` scripts and FIFOs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyState {
    /// `MASTER`.
    Master,
    /// `BACKUP`.
    Backup,
    /// `FAULT`.
    Fault,
    /// `STOP` (shutdown).
    Stop,
    /// `DELETED` (removed by a reload). keepalived reports this as `FAULT` unless
    /// `notify_deleted` is set: that choice is the daemon's.
    Deleted,
}

impl NotifyState {
    /// keepalived's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyState::Master => "MASTER",
            NotifyState::Backup => "BACKUP",
            NotifyState::Fault => "FAULT",
            NotifyState::Stop => "STOP",
            NotifyState::Deleted => "DELETED",
        }
    }
}

/// Something the I/O layer must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an advert (the VRRP message; the I/O layer adds the IP header).
    SendAdvert {
        /// Instance name.
        instance: Arc<str>,
        /// Interface to send on ("" for unicast without an interface).
        iface: Arc<str>,
        /// IP source (the checksum was computed with it).
        src: IpAddr,
        /// IP destination: the group, or one unicast peer.
        dst: IpAddr,
        /// TTL / hop limit.
        ttl: u8,
        /// The VRRP message; for `auth_type AH` the whole IPv4 packet (protocol 51, its
        /// IP header included: send it as it is, with `IP_HDRINCL`).
        bytes: Vec<u8>,
    },
    /// Install addresses, routes and rules (idempotently).
    AddAddresses {
        /// Instance name.
        instance: Arc<str>,
        /// Default interface for entries without `dev`.
        iface: Arc<str>,
        /// What to install.
        addrs: Arc<AddressSet>,
    },
    /// Remove addresses, routes and rules (absent ones are not an error).
    DelAddresses {
        /// Instance name.
        instance: Arc<str>,
        /// Default interface for entries without `dev`.
        iface: Arc<str>,
        /// What to remove.
        addrs: Arc<AddressSet>,
    },
    /// Send `repeat` gratuitous ARPs for each IPv4 address (pacing is the I/O layer's).
    SendGarp {
        /// Instance name.
        instance: Arc<str>,
        /// Default interface for addresses without `dev`.
        iface: Arc<str>,
        /// The IPv4 VIPs and excluded VIPs.
        addrs: Vec<Vip>,
        /// Packets per address.
        repeat: u32,
    },
    /// Send `repeat` unsolicited neighbour advertisements for each IPv6 address.
    SendNa {
        /// Instance name.
        instance: Arc<str>,
        /// Default interface for addresses without `dev`.
        iface: Arc<str>,
        /// The IPv6 VIPs and excluded VIPs.
        addrs: Vec<Vip>,
        /// Packets per address.
        repeat: u32,
    },
    /// An instance changed state (for logs and the parent's record of states).
    StateChanged {
        /// Instance name.
        instance: Arc<str>,
        /// Previous state.
        from: State,
        /// New state.
        to: State,
        /// Effective priority now.
        priority: u8,
        /// Why.
        reason: Reason,
    },
    /// Run notify scripts / write FIFOs / send mail for an instance or a group.
    Notify {
        /// Instance or group.
        target: NotifyTarget,
        /// State word.
        state: NotifyState,
        /// Effective priority (0 for groups).
        priority: u8,
    },
    /// `notify_master_rx_lower_pri`: a MASTER heard a lower priority advert.
    MasterRxLowerPriority {
        /// Instance name.
        instance: Arc<str>,
        /// The other router.
        from: IpAddr,
        /// Its priority.
        priority: u8,
    },
    /// The effective priority changed (`notify_priority_changes`).
    PriorityChanged {
        /// Instance name.
        instance: Arc<str>,
        /// New effective priority.
        priority: u8,
    },
    /// A BACKUP heard an advert from a router other than the one it heard last (since it
    /// entered BACKUP): keepalived logs "master set to ADDR" with `-D`.
    MasterHeard {
        /// Instance name.
        instance: Arc<str>,
        /// The advert's source address.
        from: IpAddr,
    },
    /// We are the address owner (priority 255) and so is another router: a configuration
    /// error, reported once per episode (not per advert).
    RogueOwner {
        /// Instance name.
        instance: Arc<str>,
        /// What happened.
        event: RogueOwner,
    },
}

/// The course of a conflict between two address owners of one VRID (keepalived 2.4's
/// handling). The lower primary address yields at once; the higher one stays MASTER,
/// sends two more adverts (each after a whole interval without one from the other owner)
/// and waits a little over the longer of the two intervals: if the other one is still
/// advertising then, it steps down (priority 254) as well, until it is MASTER again or
/// hears a lower priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RogueOwner {
    /// An advert with priority 255 from this router, while we are the owner and MASTER.
    Conflict(IpAddr),
    /// The other owner did not stop: our priority goes down to 254 and we yield.
    StillAdvertising(IpAddr),
    /// The other owner went quiet: we stay MASTER.
    Stopped,
    /// Lowered to 254 by [`RogueOwner::StillAdvertising`], we became MASTER again: the
    /// other owner is gone and our priority is 255 again.
    RestoredOnTakeover,
    /// Lowered to 254, as BACKUP we heard a lower priority (or another master): our
    /// priority is 255 again.
    RestoredOnLowerAdvert,
}
