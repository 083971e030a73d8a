//! The engine: every instance and sync group, driven by [`Input`]s and the time, answering
//! with [`Action`]s. All state transitions go through [`Engine::enter`], so sync groups and
//! notifications are handled in one place.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{
    ConfigError, EngineConfig, Family, InitialState, InstanceConfig, ReloadKey, TrackKind,
};
use crate::event::{
    Action, Input, NotifyState, NotifyTarget, Packet, Reason, RogueOwner, State, TrackStatus,
};
use crate::fasthash::FastMap;
use crate::instance::{Instance, Signer};
use crate::packet::{Advert, Version};
use crate::stats::{EngineStats, RxError, Stats};
use crate::time::Timestamp;
use crate::track;

mod receive;
mod reload;
mod vip_track;

#[derive(Debug, Clone)]
struct Group {
    name: Arc<str>,
    members: Vec<usize>,
    /// The state last notified for the group.
    state: State,
}

/// A read-only view of one instance.
#[derive(Debug, Clone, Copy)]
pub struct InstanceStatus<'a> {
    /// Instance name.
    pub name: &'a str,
    /// Current state.
    pub state: State,
    /// Effective priority (configured priority plus tracker weights).
    pub priority: u8,
    /// The current master's address as last heard (ours while MASTER).
    pub master: Option<IpAddr>,
    /// Master_Down_Interval as it stands now.
    pub master_down_interval: Duration,
    /// When the last accepted advert arrived.
    pub last_advert: Option<Timestamp>,
    /// Counters.
    pub stats: &'a Stats,
    /// The configuration.
    pub config: &'a InstanceConfig,
    /// Sync group name, if a member.
    pub sync_group: Option<&'a str>,
    /// Why it entered its current state (None before its first transition).
    pub reason: Option<Reason>,
    /// Master_Adver_Int: the advert interval of the master heard (v3 learns it), else
    /// our own.
    pub master_adver_int: Duration,
    /// The source address of its adverts (configured, else the interface's), if known.
    pub src: Option<IpAddr>,
    /// The priority of the last master heard and accepted (0 before any).
    pub master_priority: u8,
}

/// The sans-IO VRRP engine. See the crate documentation for the driving loop.
#[derive(Debug, Clone)]
pub struct Engine {
    insts: Vec<Instance>,
    groups: Vec<Group>,
    /// Tracker states by kind, then name (looked up by `&str`, no allocation).
    trackers: FastMap<TrackKind, FastMap<String, TrackStatus>>,
    /// Primary (IPv4, IPv6) address of each interface.
    iface_addrs: FastMap<String, (Option<IpAddr>, Option<IpAddr>)>,
    /// Instances by (VRID, family) on every interface: the route for a packet that names
    /// no interface, or when an instance has none.
    by_vrid: FastMap<(u8, Family), Vec<usize>>,
    /// Instances by interface, then (VRID, family): the route for a received advert, O(1)
    /// in the number of instances (one hash of the interface name, one of the VRID).
    by_iface: FastMap<String, FastMap<(u8, Family), Vec<usize>>>,
    /// Instances by name (status queries, Resume at a restart: O(1) each).
    by_name: FastMap<Arc<str>, usize>,
    /// Pending deadlines, earliest first; stale entries are skipped lazily.
    heap: BinaryHeap<Reverse<(Timestamp, usize)>>,
    /// Instances whose timers may have changed during the current input.
    touched: Vec<usize>,
    stats: EngineStats,
    /// The receive error of the last packet fed (instance index, error), for logging.
    rx_error: Option<(usize, RxError)>,
    /// Wall-clock time (since the UNIX epoch) at a monotonic instant, from
    /// [`Engine::set_wall_clock`]; `auth_hmac` sequences and freshness are derived from it.
    wall_base: Option<(Duration, Timestamp)>,
    /// The wall-clock time of the input being handled, and the `auth_hmac` sequence
    /// generator (one for the engine: every advert this host sends, whatever its
    /// instance, gets a larger sequence than the one before).
    signer: Signer,
}

impl Engine {
    /// An engine for `config`; nothing runs until [`Input::Startup`] or [`Input::Resume`].
    pub fn new(config: EngineConfig) -> Result<Engine, ConfigError> {
        let mut work = 0;
        config.validate_counted(&mut work)?;
        let mut e = Engine {
            insts: config.instances.into_iter().map(Instance::new).collect(),
            groups: Vec::new(),
            trackers: FastMap::default(),
            iface_addrs: FastMap::default(),
            by_vrid: FastMap::default(),
            by_iface: FastMap::default(),
            by_name: FastMap::default(),
            heap: BinaryHeap::new(),
            touched: Vec::new(),
            stats: EngineStats::default(),
            rx_error: None,
            wall_base: None,
            signer: Signer::default(),
        };
        e.stats.config_work = work;
        e.build_groups(&config.sync_groups);
        e.build_index();
        Ok(e)
    }

    fn build_index(&mut self) {
        self.by_vrid.clear();
        self.by_iface.clear();
        self.by_name.clear();
        for (i, x) in self.insts.iter().enumerate() {
            self.by_name.entry(x.name.clone()).or_insert(i);
            let key = (x.cfg.vrid, x.cfg.family);
            self.by_vrid.entry(key).or_default().push(i);
            self.by_iface
                .entry(x.cfg.interface.clone())
                .or_default()
                .entry(key)
                .or_default()
                .push(i);
        }
        for i in 0..self.insts.len() {
            self.refresh_src(i);
        }
        // Indices may have changed: reschedule everything.
        self.heap.clear();
        for x in &mut self.insts {
            x.scheduled = None;
        }
        self.touch_all();
        self.reschedule();
    }

    fn touch_all(&mut self) {
        self.touched.extend(0..self.insts.len());
    }

    /// Push the new deadline of every touched instance and drop stale heap tops, so that
    /// the top of the heap is always the true next deadline.
    fn reschedule(&mut self) {
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for i in touched.drain(..) {
            let Some(x) = self.insts.get_mut(i) else {
                continue;
            };
            let d = x.next_deadline();
            if d != x.scheduled {
                x.scheduled = d;
                if let Some(t) = d {
                    self.heap.push(Reverse((t, i)));
                }
            }
        }
        self.touched = touched;
        while let Some(&Reverse((t, i))) = self.heap.peek() {
            if self.insts.get(i).is_some_and(|x| x.scheduled == Some(t)) {
                break;
            }
            self.heap.pop();
        }
    }

    fn build_groups(&mut self, groups: &[crate::config::SyncGroupConfig]) {
        for i in &mut self.insts {
            i.group = None;
        }
        // Members and previous groups by name (the first of a name, as a scan would find).
        let old: FastMap<Arc<str>, State> = std::mem::take(&mut self.groups)
            .into_iter()
            .rev()
            .map(|g| (g.name, g.state))
            .collect();
        let mut by_name: FastMap<&str, usize> = FastMap::default();
        for (i, x) in self.insts.iter().enumerate().rev() {
            by_name.insert(&x.cfg.name, i);
        }
        let mut assign = Vec::new();
        for (gi, g) in groups.iter().enumerate() {
            self.stats.config_work += g.members.len() as u64 + 1;
            let members: Vec<usize> = g
                .members
                .iter()
                .filter_map(|m| by_name.get(m.as_str()).copied())
                .collect();
            assign.extend(members.iter().map(|&m| (m, gi)));
            let state = old
                .get(g.name.as_str())
                .copied()
                .unwrap_or(State::Initialize);
            self.groups.push(Group {
                name: Arc::from(g.name.as_str()),
                members,
                state,
            });
        }
        for (m, gi) in assign {
            self.insts[m].group = Some(gi);
        }
    }

    /// Feed one input at time `now`; returns what to do, in order.
    pub fn handle(&mut self, input: Input<'_>, now: Timestamp) -> Vec<Action> {
        let mut out = Vec::new();
        self.handle_into(input, now, &mut out);
        out
    }

    /// Like [`Engine::handle`], appending to `out` (lets a loop reuse one buffer).
    pub fn handle_into(&mut self, input: Input<'_>, now: Timestamp, out: &mut Vec<Action>) {
        self.rx_error = None;
        self.signer.wall = self.wall_at(now);
        match input {
            Input::Startup => self.startup(now, out),
            Input::Resume { instance, state } => self.resume(instance, state, now, out),
            Input::Packet(p) => self.on_packet(&p, now, out),
            Input::Timer => self.on_timer(now, out),
            Input::LinkUp { iface } => {
                if self.set_tracker(TrackKind::Interface, iface, TrackStatus::Up) {
                    self.reevaluate(now, out);
                }
            }
            Input::LinkDown { iface } => {
                if self.set_tracker(TrackKind::Interface, iface, TrackStatus::Down) {
                    self.reevaluate(now, out);
                }
            }
            Input::InterfaceAddress {
                iface,
                family,
                addr,
            } => {
                let addr = addr.filter(|a| Family::of(*a) == family);
                let entry = self.iface_addrs.entry(iface.to_string()).or_default();
                match family {
                    Family::V4 => entry.0 = addr,
                    Family::V6 => entry.1 = addr,
                }
                let on_iface: Vec<usize> = self
                    .by_iface
                    .get(iface)
                    .map(|m| m.values().flatten().copied().collect())
                    .unwrap_or_default();
                for i in on_iface {
                    self.refresh_src(i);
                }
                self.reevaluate(now, out);
            }
            Input::Tracker { kind, name, status } => {
                // Scripts report every run: only a change costs a re-evaluation.
                if self.set_tracker(kind, name, status) {
                    self.reevaluate(now, out);
                }
            }
            Input::Shutdown => self.shutdown(out),
            Input::Maintenance { instance, on } => self.maintenance(instance, on, now, out),
            Input::AddressDeleted { iface, addr } => self.vip_deleted(iface, addr, now, out),
            Input::RouteDeleted { route } => {
                self.held_deleted(|a| a.routes.contains(route), now, out)
            }
            Input::RuleDeleted { rule } => self.held_deleted(|a| a.rules.contains(rule), now, out),
        }
        self.notify_groups(out);
        self.reschedule();
    }

    /// Tell the engine the wall-clock time (`wall`, since the UNIX epoch) at the monotonic
    /// instant `now`. `auth_hmac` sequences and their freshness window are wall-clock
    /// based; the engine reads no clock, so the I/O layer calls this (at start and whenever
    /// it likes, to follow clock steps). Without it the wall clock is taken as the
    /// monotonic time (enough for a simulation where every node shares it).
    pub fn set_wall_clock(&mut self, wall: Duration, now: Timestamp) {
        self.wall_base = Some((wall, now));
    }

    /// The wall-clock time at `now`.
    fn wall_at(&self, now: Timestamp) -> Duration {
        match self.wall_base {
            Some((wall, at)) if now >= at => wall + now.saturating_since(at),
            Some((wall, at)) => wall.saturating_sub(at.saturating_since(now)),
            None => Duration::from_micros(now.as_micros()),
        }
    }

    /// When [`Input::Timer`] must be fed next (None: nothing pending). O(1).
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.heap.peek().map(|Reverse((t, _))| *t)
    }

    /// Record a tracker's status; true when it changed.
    fn set_tracker(&mut self, kind: TrackKind, name: &str, status: TrackStatus) -> bool {
        let m = self.trackers.entry(kind).or_default();
        match m.get_mut(name) {
            Some(s) if *s == status => false,
            Some(s) => {
                *s = status;
                true
            }
            None => {
                m.insert(name.to_string(), status);
                true
            }
        }
    }

    fn tracker(&self, kind: TrackKind, name: &str) -> Option<TrackStatus> {
        self.trackers.get(&kind).and_then(|m| m.get(name)).copied()
    }

    /// The receive check that failed (or flagged) the last packet fed, with the instance's
    /// name; None when the last input was no packet or the packet passed. O(1): lets the I/O
    /// layer log without scanning every instance's counters.
    pub fn last_rx_error(&self) -> Option<(&str, RxError)> {
        let (i, e) = self.rx_error?;
        Some((&self.insts.get(i)?.cfg.name, e))
    }

    /// Counters for packets that matched no instance.
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// The status of one instance.
    pub fn instance(&self, name: &str) -> Option<InstanceStatus<'_>> {
        let i = *self.by_name.get(name)?;
        Some(self.status(i))
    }

    /// Every instance, in configuration order.
    pub fn instances(&self) -> impl Iterator<Item = InstanceStatus<'_>> + '_ {
        (0..self.insts.len()).map(|i| self.status(i))
    }

    /// The state of a sync group as last notified.
    pub fn group_state(&self, name: &str) -> Option<State> {
        self.groups
            .iter()
            .find(|g| *g.name == *name)
            .map(|g| g.state)
    }

    fn status(&self, i: usize) -> InstanceStatus<'_> {
        let x = &self.insts[i];
        InstanceStatus {
            name: &x.cfg.name,
            state: x.state,
            priority: x.eff_prio,
            master: x.master_addr,
            master_down_interval: x.master_down_interval(),
            last_advert: x.last_advert,
            stats: &x.stats,
            config: &x.cfg,
            sync_group: x.group.and_then(|g| self.groups.get(g)).map(|g| &*g.name),
            reason: x.last_reason,
            master_adver_int: Duration::from_micros(x.master_adver_int),
            src: x.src,
            master_priority: x.master_prio,
        }
    }

    // ---- helpers -------------------------------------------------------------------

    /// The source address of instance `i`'s adverts (cached: no lookup per packet).
    fn src_of(&self, i: usize) -> Option<IpAddr> {
        self.insts[i].src
    }

    /// Work out the source address of instance `i` again.
    fn refresh_src(&mut self, i: usize) {
        let Some(x) = self.insts.get(i) else { return };
        let c = &x.cfg;
        let src = c.src_addr.or_else(|| {
            let a = self.iface_addrs.get(c.interface.as_str())?;
            match c.family {
                Family::V4 => a.0,
                Family::V6 => a.1,
            }
        });
        if let Some(x) = self.insts.get_mut(i) {
            x.src = src;
        }
    }

    fn link_up(&self, iface: &str) -> bool {
        self.tracker(TrackKind::Interface, iface) != Some(TrackStatus::Down)
    }

    /// (fault, effective priority) from interfaces, trackers and the source address.
    fn evaluate(&self, i: usize) -> (bool, u8) {
        let x = &self.insts[i];
        let c = &x.cfg;
        let mut fault = false;
        if !c.dont_track_primary && !c.interface.is_empty() && !self.link_up(&c.interface) {
            fault = true;
        }
        if self.src_of(i).is_none() {
            fault = true;
        }
        if c.unicast_fault_no_peer && c.unicast_peers.is_empty() {
            fault = true;
        }
        let mut delta = 0i64;
        for t in &c.track {
            let status = self
                .tracker(t.kind, &t.name)
                .unwrap_or_else(|| track::default_status(t.kind));
            let e = track::effect_of(t, status, x.resumed);
            fault |= e.fault;
            delta = delta.saturating_add(e.delta);
        }
        if x.maintenance {
            // Drained: the lowest priority there is, whatever the trackers say.
            return (fault, 1);
        }
        (fault, track::effective_priority(c.priority, delta))
    }

    fn group_members(&self, i: usize) -> Vec<usize> {
        match self.insts[i].group {
            Some(g) => self.groups[g].members.clone(),
            None => vec![i],
        }
    }

    fn group_fault(&self, i: usize) -> bool {
        self.group_members(i)
            .into_iter()
            .any(|m| self.insts[m].started && self.evaluate(m).0)
    }

    /// The single place where an instance changes state.
    fn enter(
        &mut self,
        i: usize,
        to: State,
        reason: Reason,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        self.touched.push(i);
        let from = self.insts[i].state;
        let src = self.src_of(i);
        let link_ok = {
            let c = &self.insts[i].cfg;
            c.interface.is_empty() || self.link_up(&c.interface)
        };
        let x = &mut self.insts[i];
        if from == State::Master && to != State::Master {
            // Leaving MASTER: priority 0 unless we yield to a better master (the other
            // members of a sync group do send it, so their backups take over after Skew).
            let yielding = reason == Reason::HigherPriority && to == State::Backup;
            if !yielding && link_ok {
                if let Some(s) = src {
                    x.send_advert(s, 0, &mut self.signer, out);
                }
            }
            x.del_addresses(out);
            x.stats.released_master += 1;
            x.clear_master_timers();
        }
        x.state = to;
        x.want_master = false;
        x.addr_list_reported = None;
        x.heard_from = None;
        match to {
            State::Master => {
                if x.rogue_lowered {
                    x.rogue_lowered = false;
                    x.eff_prio = 255;
                    out.push(Action::RogueOwner {
                        instance: x.name.clone(),
                        event: RogueOwner::RestoredOnTakeover,
                    });
                }
                x.down_timer = None;
                x.preempt_until = None;
                x.master_adver_int = x.cfg.adver_int_micros();
                x.master_addr = src;
                if reason != Reason::Resume {
                    x.stats.became_master += 1;
                }
                if let Some(s) = src {
                    x.send_advert(s, x.eff_prio, &mut self.signer, out);
                }
                x.adver_timer = Some(now + Duration::from_micros(x.cfg.adver_int_micros()));
                x.add_addresses(out);
                x.garp_burst(x.cfg.garp.master_repeat, out);
                x.garp_timer = (x.cfg.garp.master_repeat > 0 && !x.cfg.garp.master_delay.is_zero())
                    .then(|| now + x.cfg.garp.master_delay);
                x.arm_refresh(now);
                x.arm_extra(now);
            }
            State::Backup => {
                x.down_timer = Some(now + Duration::from_micros(x.master_down()));
            }
            State::Fault | State::Initialize => {
                x.down_timer = None;
                x.preempt_until = None;
                x.clear_master_timers();
            }
        }
        if from != to || reason == Reason::Resume {
            x.last_reason = Some(reason);
            out.push(Action::StateChanged {
                instance: x.name.clone(),
                from,
                to,
                priority: x.eff_prio,
                reason,
            });
            let n = match to {
                State::Master => Some(NotifyState::Master),
                State::Backup => Some(NotifyState::Backup),
                State::Fault => Some(NotifyState::Fault),
                State::Initialize => None,
            };
            if let Some(n) = n.filter(|_| reason != Reason::Resume) {
                out.push(Action::Notify {
                    target: NotifyTarget::Instance(x.name.clone()),
                    state: n,
                    priority: x.eff_prio,
                });
            }
        }
    }

    /// Emit a group notification when every started member agrees on a new state.
    fn notify_groups(&mut self, out: &mut Vec<Action>) {
        for g in &mut self.groups {
            let mut states = g.members.iter().map(|&m| self.insts[m].state);
            let Some(first) = states.next() else { continue };
            if states.all(|s| s == first) && first != g.state {
                g.state = first;
                let n = match first {
                    State::Master => NotifyState::Master,
                    State::Backup => NotifyState::Backup,
                    State::Fault => NotifyState::Fault,
                    State::Initialize => NotifyState::Stop,
                };
                out.push(Action::Notify {
                    target: NotifyTarget::Group(g.name.clone()),
                    state: n,
                    priority: 0,
                });
            }
        }
    }

    // ---- inputs --------------------------------------------------------------------

    fn start_one(&mut self, i: usize, now: Timestamp, out: &mut Vec<Action>) {
        let (fault, prio) = self.evaluate(i);
        let in_group_fault = self.group_fault(i) || fault;
        let x = &mut self.insts[i];
        x.started = true;
        x.eff_prio = prio;
        x.rogue_lowered = false;
        x.master_adver_int = x.cfg.adver_int_micros();
        let owner_master = x.cfg.is_owner() && x.cfg.initial_state == InitialState::Master;
        if owner_master && !in_group_fault && x.group.is_none() {
            self.enter(i, State::Master, Reason::Owner, now, out);
            return;
        }
        // Everyone else first removes whatever a previous run may have left behind.
        x.del_addresses(out);
        if in_group_fault {
            self.enter(i, State::Fault, Reason::Startup, now, out);
        } else {
            self.enter(i, State::Backup, Reason::Startup, now, out);
            if owner_master {
                // An owner in a sync group wants MASTER at once; the group decides.
                self.insts[i].down_timer = Some(now);
            }
        }
    }

    fn startup(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        self.touch_all();
        for i in 0..self.insts.len() {
            if !self.insts[i].started {
                self.start_one(i, now, out);
            }
        }
        self.reevaluate(now, out);
    }

    fn resume(&mut self, name: &str, state: State, now: Timestamp, out: &mut Vec<Action>) {
        self.touch_all();
        let Some(&i) = self.by_name.get(name) else {
            return;
        };
        if self.insts[i].started {
            return;
        }
        self.insts[i].resumed = true;
        let (fault, prio) = self.evaluate(i);
        {
            let x = &mut self.insts[i];
            x.started = true;
            x.eff_prio = prio;
            x.rogue_lowered = false;
            x.master_adver_int = x.cfg.adver_int_micros();
        }
        if (state != State::Master || fault) && state != State::Initialize {
            // Whatever the previous child held must go unless we resume as MASTER.
            self.insts[i].del_addresses(out);
        }
        match state {
            _ if fault => self.enter(i, State::Fault, Reason::Resume, now, out),
            State::Master => self.enter(i, State::Master, Reason::Resume, now, out),
            State::Backup => self.enter(i, State::Backup, Reason::Resume, now, out),
            State::Fault => self.enter(i, State::Fault, Reason::Resume, now, out),
            State::Initialize => {
                self.insts[i].started = false;
                self.start_one(i, now, out);
            }
        }
    }

    fn shutdown(&mut self, out: &mut Vec<Action>) {
        self.touch_all();
        let now = Timestamp::ZERO; // no timer is armed after a shutdown
        for i in 0..self.insts.len() {
            if !self.insts[i].started {
                continue;
            }
            self.enter(i, State::Initialize, Reason::Shutdown, now, out);
            let x = &mut self.insts[i];
            x.started = false;
            x.resumed = false;
            out.push(Action::Notify {
                target: NotifyTarget::Instance(x.name.clone()),
                state: NotifyState::Stop,
                priority: x.eff_prio,
            });
        }
    }

    /// [`Input::Maintenance`].
    fn maintenance(&mut self, name: Option<&str>, on: bool, now: Timestamp, out: &mut Vec<Action>) {
        let chosen: Vec<usize> = match name {
            None => (0..self.insts.len()).collect(),
            Some(n) => match self.by_name.get(n) {
                Some(&i) => self.group_members(i),
                None => return,
            },
        };
        for &i in &chosen {
            self.insts[i].maintenance = on;
        }
        self.reevaluate(now, out);
        if on {
            for &i in &chosen {
                if self.insts[i].started && self.insts[i].state == State::Master {
                    self.enter(i, State::Backup, Reason::Maintenance, now, out);
                }
            }
        }
    }

    /// Recompute priorities and faults after anything a tracker depends on changed.
    fn reevaluate(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        self.touch_all();
        for i in 0..self.insts.len() {
            if !self.insts[i].started {
                continue;
            }
            let (_, prio) = self.evaluate(i);
            let x = &mut self.insts[i];
            if x.rogue_lowered && prio == x.cfg.priority {
                // Stepped down for another address owner: 254 until that is over.
                continue;
            }
            if prio != x.eff_prio {
                x.eff_prio = prio;
                x.rogue_lowered = false;
                out.push(Action::PriorityChanged {
                    instance: x.name.clone(),
                    priority: prio,
                });
            }
        }
        for i in 0..self.insts.len() {
            if !self.insts[i].started {
                continue;
            }
            let own = self.evaluate(i).0;
            let fault = self.group_fault(i);
            let state = self.insts[i].state;
            if fault && state != State::Fault {
                let reason = if own {
                    Reason::Fault
                } else {
                    Reason::SyncGroup
                };
                self.enter(i, State::Fault, reason, now, out);
            } else if !fault && state == State::Fault {
                self.leave_fault(i, now, out);
            }
        }
    }

    fn leave_fault(&mut self, i: usize, now: Timestamp, out: &mut Vec<Action>) {
        let x = &self.insts[i];
        let owner_master = x.cfg.is_owner() && x.cfg.initial_state == InitialState::Master;
        if owner_master && x.group.is_none() {
            self.enter(i, State::Master, Reason::FaultCleared, now, out);
        } else {
            self.insts[i].master_adver_int = self.insts[i].cfg.adver_int_micros();
            self.enter(i, State::Backup, Reason::FaultCleared, now, out);
            if owner_master {
                self.insts[i].down_timer = Some(now);
            }
        }
    }

    fn on_timer(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        // The instances with a deadline at or before `now`, from the heap.
        let mut due_insts = Vec::new();
        while let Some(&Reverse((t, i))) = self.heap.peek() {
            if t > now {
                break;
            }
            self.heap.pop();
            self.stats.instances_examined += 1;
            if let Some(x) = self.insts.get_mut(i) {
                if x.scheduled == Some(t) {
                    x.scheduled = None;
                    due_insts.push(i);
                }
            }
        }
        due_insts.sort_unstable();
        due_insts.dedup();
        for i in due_insts {
            self.touched.push(i);
            if !self.insts[i].started {
                continue;
            }
            let due = |t: Option<Timestamp>| t.is_some_and(|t| t <= now);
            let src = self.src_of(i);
            let x = &mut self.insts[i];
            if x.state == State::Master {
                if due(x.adver_timer) && x.timer_expired_too_late(now) {
                    self.enter(i, State::Backup, Reason::TimerExpired, now, out);
                    continue;
                }
                if due(x.adver_timer) {
                    if let Some(s) = src {
                        x.send_advert(s, x.eff_prio, &mut self.signer, out);
                    }
                    let int = Duration::from_micros(x.cfg.adver_int_micros());
                    let next = x.adver_timer.map_or(now, |t| t + int);
                    x.adver_timer = Some(if next <= now { now + int } else { next });
                    x.rogue_advert_sent(now);
                }
                if due(x.rogue_timer) {
                    // No advert from the other owner since our second one: it yielded.
                    x.rogue_timer = None;
                    out.push(Action::RogueOwner {
                        instance: x.name.clone(),
                        event: RogueOwner::Stopped,
                    });
                }
                if due(x.garp_timer) {
                    x.garp_timer = None;
                    x.garp_burst(x.cfg.garp.master_repeat, out);
                }
                if due(x.refresh_timer) {
                    x.garp_burst(x.cfg.garp.master_refresh_repeat, out);
                    x.arm_refresh(now);
                }
                if due(x.extra_timer) {
                    x.extra_if_announce(out);
                    x.arm_extra(now);
                }
                if due(x.lower_garp_timer) {
                    x.lower_garp_timer = None;
                    x.garp_burst(x.cfg.garp.lower_prio_repeat, out);
                }
            } else if x.state == State::Backup && due(x.down_timer) {
                x.down_timer = None;
                self.master_down_expired(i, now, out);
            }
        }
    }

    /// Master_Down timer expiry: become MASTER, or (in a sync group) wait for the others.
    fn master_down_expired(&mut self, i: usize, now: Timestamp, out: &mut Vec<Action>) {
        let members = self.group_members(i);
        self.insts[i].want_master = true;
        let all = members.iter().all(|&m| {
            let y = &self.insts[m];
            y.state == State::Master || (y.state == State::Backup && y.want_master)
        });
        if all {
            for &m in &members {
                if self.insts[m].state != State::Master {
                    let reason = if m == i {
                        Reason::MasterDown
                    } else {
                        Reason::SyncGroup
                    };
                    self.enter(m, State::Master, reason, now, out);
                }
            }
        } else {
            // Keep wanting; look again after one advert interval plus the minimum skew.
            let x = &mut self.insts[i];
            x.down_timer = Some(now + Duration::from_micros(x.master_adver_int + x.skew_min()));
            x.want_master = true;
        }
    }
}
