//! What check results do, with keepalived's semantics, as a pure state machine (no
//! sockets, no clock): real servers leave the pool when a checker fails (or drop to weight
//! 0 with `inhibit_on_failure`) and return when all their checkers pass; `notify_up` /
//! `notify_down`; `lvs_notify_fifo` lines; `quorum` with `hysteresis`, `quorum_up` /
//! `quorum_down`; the `sorry_server` (and `sorry_server_inhibit`) while quorum is lost;
//! `ha_suspend`; `omega` at shutdown.
//!
//! Input: [`Report`]s from the checks. Output: [`Action`]s — [`Change`]s for the IPVS
//! reconciler (a small enum: the boundary with `crate::lvs`), scripts to run, FIFO lines.
//!
//! [`Health`] is the servers' half of the sans-IO core: the checker child reaches it only
//! through [`crate::scheduler::Scheduler::handle`], which feeds it each check's state
//! change as it decides it (the methods that move it are public for tests that set a
//! state up directly).

use std::collections::HashMap;
use std::net::SocketAddr;

use ka_proto::config::Script;

use crate::failure::Failure;
use crate::spec::CheckId;

/// A checker's state moved (up/down, or its dynamic weight changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Which check.
    pub check: CheckId,
    /// Up (passing) or down.
    pub up: bool,
    /// Dynamic weight (MISC_CHECK misc_dynamic, FILE_CHECK dynamic), when it has one.
    pub weight: Option<i64>,
    /// Why it went down.
    pub failure: Option<Failure>,
}

/// How a checker's reported weight acts on its real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightRole {
    /// No weight (most checkers).
    #[default]
    None,
    /// MISC_CHECK `misc_dynamic`: the weight is set to the reported value.
    Absolute,
    /// FILE_CHECK `dynamic`: the reported value is added to the configured weight.
    Offset,
}

/// One checker of a real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsCheck {
    /// The engine's id for it.
    pub id: CheckId,
    /// Starts failed (`alpha`).
    pub alpha: bool,
    /// What its weight does.
    pub weight: WeightRole,
}

/// A real server, as the state machine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsSpec {
    /// Address (for the IPVS destination and logs).
    pub addr: SocketAddr,
    /// keepalived's name for it in FIFO lines: `[ip]:tcp:80`.
    pub name: String,
    /// `weight`.
    pub weight: i64,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: bool,
    /// `notify_up`.
    pub notify_up: Option<Script>,
    /// `notify_down`.
    pub notify_down: Option<Script>,
    /// Its checkers (all must pass). None: always up.
    pub checks: Vec<RsCheck>,
}

/// A virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsSpec {
    /// keepalived's name in FIFO lines: `[vip]:tcp:80`, `FWM 1`, `[group]`.
    pub name: String,
    /// `quorum` (1).
    pub quorum: u64,
    /// `hysteresis` (0).
    pub hysteresis: u64,
    /// `quorum_up`.
    pub quorum_up: Option<Script>,
    /// `quorum_down`.
    pub quorum_down: Option<Script>,
    /// `sorry_server`.
    pub sorry_server: Option<SocketAddr>,
    /// `sorry_server_inhibit`: the sorry server stays in the table at weight 0 while unused.
    pub sorry_server_inhibit: bool,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `omega`: run notify_down / quorum_down at shutdown.
    pub omega: bool,
    /// Real servers.
    pub real_servers: Vec<RsSpec>,
}

/// A change the IPVS reconciler should make. `vs` and `rs` are indices into the specs
/// (the same order as the config's `virtual_server` / `real_server` blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Put (or keep) a real server in the table with this weight (0 = inhibited).
    RsSet {
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
        /// Weight.
        weight: u32,
    },
    /// Take a real server out of the table.
    RsRemove {
        /// Virtual server index.
        vs: usize,
        /// Real server index.
        rs: usize,
    },
    /// Put the sorry server in with this weight (0 = inhibited).
    SorrySet {
        /// Virtual server index.
        vs: usize,
        /// Weight.
        weight: u32,
    },
    /// Take the sorry server out.
    SorryRemove {
        /// Virtual server index.
        vs: usize,
    },
}

/// Something the checker child must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Change the IPVS table.
    Ipvs(Change),
    /// Run a notify / quorum script.
    Script(Script),
    /// Write a line to `lvs_notify_fifo` (without the newline).
    Fifo(String),
    /// Pause (true) or resume the checks of a virtual server (ha_suspend).
    Suspend {
        /// The check.
        check: CheckId,
        /// Pause or resume.
        suspended: bool,
    },
}

/// Where a checker's [`Report`] left its real server and virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Virtual server index.
    pub vs: usize,
    /// Real server index.
    pub rs: usize,
    /// The real server is alive (all its checkers pass).
    pub rs_alive: bool,
    /// The virtual server's quorum holds.
    pub quorum_up: bool,
    /// The summed weight of its live real servers.
    pub live_weight: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct RsState {
    failed: usize,
    alive: bool,
    abs_weight: Option<i64>,
    offsets: HashMap<CheckId, i64>,
    check_up: HashMap<CheckId, bool>,
    /// Disabled by the operator (`ctl real-server disable`): weight 0 until enabled.
    drained: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct VsState {
    quorum_up: bool,
    sorry_active: bool,
    vip_present: bool,
    rs: Vec<RsState>,
}

/// One real server in the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsDump {
    /// Name.
    pub name: String,
    /// All checkers pass.
    pub alive: bool,
    /// Failing checkers.
    pub failed_checks: usize,
    /// Effective weight.
    pub weight: i64,
    /// Disabled by the operator (weight 0).
    pub drained: bool,
}

/// One virtual server in the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsDump {
    /// Name.
    pub name: String,
    /// Quorum held.
    pub quorum_up: bool,
    /// Sum of live weights.
    pub alive_weight: u64,
    /// The sorry server is in use.
    pub sorry_active: bool,
    /// Real servers.
    pub real_servers: Vec<RsDump>,
}

/// The state of every virtual and real server.
#[derive(Debug, Clone)]
pub struct Health {
    specs: Vec<VsSpec>,
    state: Vec<VsState>,
    owner: HashMap<CheckId, (usize, usize)>,
}

fn clamp_weight(w: i64) -> u32 {
    u32::try_from(w.clamp(0, 65535)).unwrap_or(0)
}

impl Health {
    /// Start: each real server is alive unless one of its checkers has `alpha`. Returns the
    /// initial table (and sorry server) as actions.
    pub fn new(specs: Vec<VsSpec>) -> (Health, Vec<Action>) {
        let mut owner = HashMap::new();
        let state = specs
            .iter()
            .enumerate()
            .map(|(v, vs)| VsState {
                quorum_up: true,
                sorry_active: false,
                vip_present: true,
                rs: vs
                    .real_servers
                    .iter()
                    .enumerate()
                    .map(|(r, rs)| {
                        for c in &rs.checks {
                            owner.insert(c.id, (v, r));
                        }
                        let failed = rs.checks.iter().filter(|c| c.alpha).count();
                        RsState {
                            failed,
                            alive: failed == 0,
                            abs_weight: None,
                            offsets: HashMap::new(),
                            check_up: rs.checks.iter().map(|c| (c.id, !c.alpha)).collect(),
                            drained: false,
                        }
                    })
                    .collect(),
            })
            .collect();
        let mut h = Health {
            specs,
            state,
            owner,
        };
        let mut out = Vec::new();
        for v in 0..h.specs.len() {
            // keepalived 2.2.7 starts a virtual server with its quorum up and re-evaluates
            // it only when a real server changes state (seen in the VM: quorum 3 over live
            // weights 1+1 keeps both real servers and no sorry server). Only servers that
            // start failed (alpha) can leave it down at start.
            let any_failed = h.state[v].rs.iter().any(|r| !r.alive);
            let up = !any_failed || h.alive_weight(v) >= h.specs[v].quorum;
            h.state[v].quorum_up = up;
            if !up {
                log::warn!("{}: no quorum at start", h.specs[v].name);
                h.enter_sorry(v, &mut out);
            }
            for r in 0..h.specs[v].real_servers.len() {
                if !h.state[v].sorry_active || !h.state[v].rs[r].alive {
                    h.place(v, r, &mut out);
                }
            }
            if h.state[v].quorum_up
                && h.specs[v].sorry_server.is_some()
                && h.specs[v].sorry_server_inhibit
            {
                out.push(Action::Ipvs(Change::SorrySet { vs: v, weight: 0 }));
            }
        }
        (h, out)
    }

    /// The specs.
    pub fn specs(&self) -> &[VsSpec] {
        &self.specs
    }

    /// Is real server `rs` of virtual server `vs` alive?
    pub fn is_up(&self, vs: usize, rs: usize) -> bool {
        self.state
            .get(vs)
            .and_then(|v| v.rs.get(rs))
            .is_some_and(|r| r.alive)
    }

    /// Effective weight of a real server (dynamic weights applied; 0 while drained).
    pub fn weight(&self, vs: usize, rs: usize) -> i64 {
        let (Some(spec), Some(st)) = (
            self.specs.get(vs).and_then(|v| v.real_servers.get(rs)),
            self.state.get(vs).and_then(|v| v.rs.get(rs)),
        ) else {
            return 0;
        };
        if st.drained {
            return 0;
        }
        st.offsets
            .values()
            .fold(st.abs_weight.unwrap_or(spec.weight), |a, b| {
                a.saturating_add(*b)
            })
    }

    /// Does quorum hold for `vs`?
    pub fn quorum_up(&self, vs: usize) -> bool {
        self.state.get(vs).is_some_and(|v| v.quorum_up)
    }

    /// Is the sorry server of `vs` in use?
    pub fn sorry_active(&self, vs: usize) -> bool {
        self.state.get(vs).is_some_and(|v| v.sorry_active)
    }

    /// The state of the real and virtual server check `check` judges (None: no server's).
    pub fn verdict(&self, check: CheckId) -> Option<Verdict> {
        let &(vs, rs) = self.owner.get(&check)?;
        Some(Verdict {
            vs,
            rs,
            rs_alive: self.is_up(vs, rs),
            quorum_up: self.quorum_up(vs),
            live_weight: self.live_weight(vs),
        })
    }

    /// The summed weight of the live real servers of `vs` (what quorum is measured on).
    pub fn live_weight(&self, vs: usize) -> u64 {
        if vs < self.specs.len() {
            self.alive_weight(vs)
        } else {
            0
        }
    }

    fn alive_weight(&self, v: usize) -> u64 {
        (0..self.specs[v].real_servers.len())
            .filter(|&r| self.state[v].rs[r].alive)
            .map(|r| self.weight(v, r).max(0) as u64)
            .fold(0u64, u64::saturating_add)
    }

    /// Put a real server where its state says (in with its weight, inhibited, or out).
    fn place(&self, v: usize, r: usize, out: &mut Vec<Action>) {
        let spec = &self.specs[v].real_servers[r];
        let st = &self.state[v].rs[r];
        let c = if st.alive && !self.state[v].sorry_active {
            Change::RsSet {
                vs: v,
                rs: r,
                weight: clamp_weight(self.weight(v, r)),
            }
        } else if spec.inhibit_on_failure {
            Change::RsSet {
                vs: v,
                rs: r,
                weight: 0,
            }
        } else {
            Change::RsRemove { vs: v, rs: r }
        };
        out.push(Action::Ipvs(c));
    }

    fn enter_sorry(&mut self, v: usize, out: &mut Vec<Action>) {
        if self.specs[v].sorry_server.is_none() || self.state[v].sorry_active {
            return;
        }
        log::info!("{}: adding sorry server", self.specs[v].name);
        self.state[v].sorry_active = true;
        out.push(Action::Ipvs(Change::SorrySet { vs: v, weight: 1 }));
    }

    fn leave_sorry(&mut self, v: usize, out: &mut Vec<Action>) {
        if !self.state[v].sorry_active {
            return;
        }
        log::info!("{}: removing sorry server", self.specs[v].name);
        self.state[v].sorry_active = false;
        out.push(Action::Ipvs(if self.specs[v].sorry_server_inhibit {
            Change::SorrySet { vs: v, weight: 0 }
        } else {
            Change::SorryRemove { vs: v }
        }));
    }

    /// A checker changed state: what follows.
    pub fn on_report(&mut self, rep: &Report) -> Vec<Action> {
        let mut out = Vec::new();
        let Some(&(v, r)) = self.owner.get(&rep.check) else {
            return out;
        };
        let role = self.specs[v].real_servers[r]
            .checks
            .iter()
            .find(|c| c.id == rep.check)
            .map(|c| c.weight)
            .unwrap_or_default();
        let before_weight = self.weight(v, r);
        let st = &mut self.state[v].rs[r];
        let was_up = st.check_up.insert(rep.check, rep.up).unwrap_or(true);
        match (was_up, rep.up) {
            (true, false) => st.failed += 1,
            (false, true) => st.failed = st.failed.saturating_sub(1),
            _ => {}
        }
        if let Some(w) = rep.weight {
            match role {
                WeightRole::Absolute => st.abs_weight = Some(w),
                WeightRole::Offset => {
                    st.offsets.insert(rep.check, w);
                }
                WeightRole::None => {}
            }
        }
        let alive = st.failed == 0;
        let was_alive = st.alive;
        st.alive = alive;
        let vs_name = self.specs[v].name.clone();
        let rs = &self.specs[v].real_servers[r];
        if alive != was_alive {
            let word = if alive { "UP" } else { "DOWN" };
            log::info!(
                "{} {} {}: {}",
                if alive { "Adding" } else { "Removing" },
                rs.name,
                vs_name,
                word
            );
            out.push(Action::Fifo(format!("RS {} {} {word}", rs.name, vs_name)));
            let script = if alive {
                &rs.notify_up
            } else {
                &rs.notify_down
            };
            if let Some(s) = script {
                out.push(Action::Script(s.clone()));
            }
            if !self.state[v].sorry_active {
                self.place(v, r, &mut out);
            }
        } else if alive && self.weight(v, r) != before_weight && !self.state[v].sorry_active {
            self.place(v, r, &mut out);
        }
        self.update_quorum(v, &mut out);
        out
    }

    fn update_quorum(&mut self, v: usize, out: &mut Vec<Action>) {
        let w = self.alive_weight(v);
        let spec = &self.specs[v];
        let (q, h) = (spec.quorum, spec.hysteresis);
        // keepalived also loses quorum when no weight is left at all, whatever the
        // hysteresis (quorum 1, hysteresis 1: lost at 0).
        if self.state[v].quorum_up && (w == 0 || w < q.saturating_sub(h)) {
            log::warn!(
                "Lost quorum {q}-{h}={} > {w} for VS {}",
                q.saturating_sub(h),
                spec.name
            );
            self.set_quorum(v, false, out);
            if self.specs[v].sorry_server.is_some() {
                self.enter_sorry(v, out);
                // The live real servers leave while the sorry server serves.
                self.place_alive(v, out);
            }
        } else if !self.state[v].quorum_up && w >= q.saturating_add(h) {
            log::info!(
                "Gained quorum {q}+{h}={} <= {w} for VS {}",
                q.saturating_add(h),
                spec.name
            );
            self.set_quorum(v, true, out);
            if self.state[v].sorry_active {
                self.state[v].sorry_active = false;
                self.place_alive(v, out);
                self.state[v].sorry_active = true;
                self.leave_sorry(v, out);
            }
        }
    }

    /// The quorum of `v` moves to `up`: the `VS ... UP|DOWN` FIFO line and `quorum_up` /
    /// `quorum_down`.
    fn set_quorum(&mut self, v: usize, up: bool, out: &mut Vec<Action>) {
        self.state[v].quorum_up = up;
        let spec = &self.specs[v];
        let (word, script) = if up {
            ("UP", &spec.quorum_up)
        } else {
            ("DOWN", &spec.quorum_down)
        };
        out.push(Action::Fifo(format!("VS {} {word}", spec.name)));
        if let Some(s) = script {
            out.push(Action::Script(s.clone()));
        }
    }

    /// Put every live real server of `v` where its state says.
    fn place_alive(&self, v: usize, out: &mut Vec<Action>) {
        for r in 0..self.specs[v].real_servers.len() {
            if self.state[v].rs[r].alive {
                self.place(v, r, out);
            }
        }
    }

    /// The operator disables (`drained`) or enables real server `rs` of `vs`: a disabled
    /// one stays in the table at weight 0 (as `inhibit_on_failure` leaves a failed one), so
    /// its connections drain and no new one comes; its checks go on. Its weight leaves the
    /// live weight, so quorum is judged again. None: no such server. Nothing changes when
    /// it already is as asked.
    pub fn set_drained(&mut self, vs: usize, rs: usize, drained: bool) -> Option<Vec<Action>> {
        let st = self.state.get_mut(vs)?.rs.get_mut(rs)?;
        let mut out = Vec::new();
        if st.drained == drained {
            return Some(out);
        }
        st.drained = drained;
        log::info!(
            "{} {} {}",
            if drained { "Disabling" } else { "Enabling" },
            self.specs[vs].real_servers[rs].name,
            self.specs[vs].name
        );
        if self.state[vs].rs[rs].alive && !self.state[vs].sorry_active {
            self.place(vs, rs, &mut out);
        }
        self.update_quorum(vs, &mut out);
        Some(out)
    }

    /// Is real server `rs` of `vs` disabled by the operator?
    pub fn drained(&self, vs: usize, rs: usize) -> bool {
        self.state
            .get(vs)
            .and_then(|v| v.rs.get(rs))
            .is_some_and(|r| r.drained)
    }

    /// The indices of virtual server `vs` and its real server `rs`, by keepalived's names
    /// (`[10.0.0.1]:tcp:80`).
    pub fn find(&self, vs: &str, rs: &str) -> Option<(usize, usize)> {
        let v = self.specs.iter().position(|x| x.name == vs)?;
        let r = self.specs[v]
            .real_servers
            .iter()
            .position(|x| x.name == rs)?;
        Some((v, r))
    }

    /// ha_suspend: the VRRP side says whether the VIP of `vs` is here. Checks of a
    /// virtual server with `ha_suspend` pause while it is absent.
    pub fn set_vip_present(&mut self, vs: usize, present: bool) -> Vec<Action> {
        let Some(st) = self.state.get_mut(vs) else {
            return Vec::new();
        };
        if !self.specs[vs].ha_suspend || st.vip_present == present {
            st.vip_present = present;
            return Vec::new();
        }
        st.vip_present = present;
        self.specs[vs]
            .real_servers
            .iter()
            .flat_map(|rs| rs.checks.iter())
            .map(|c| Action::Suspend {
                check: c.id,
                suspended: !present,
            })
            .collect()
    }

    /// `rs_init_notifies`: the notifications of real servers that start alive (keepalived
    /// sends them at startup, and at a reload for real servers the reload added): the
    /// `RS ... UP` FIFO line and `notify_up`, for each real server `want(vs, rs)` selects.
    pub fn init_notifies(&self, want: impl Fn(usize, usize) -> bool) -> Vec<Action> {
        let mut out = Vec::new();
        for (v, vs) in self.specs.iter().enumerate() {
            for (r, rs) in vs.real_servers.iter().enumerate() {
                if !self.state[v].rs[r].alive || !want(v, r) {
                    continue;
                }
                out.push(Action::Fifo(format!("RS {} {} UP", rs.name, vs.name)));
                if let Some(s) = &rs.notify_up {
                    out.push(Action::Script(s.clone()));
                }
            }
        }
        out
    }

    /// Virtual servers that start (every one at the daemon's start; at a reload, those it
    /// added), for each `want(vs)` selects: keepalived 2.2.7 and 2.4.3 (seen in the VM)
    /// gain the quorum of each whose quorum holds at start with a live weight of at least
    /// quorum + hysteresis — "Gained quorum", the `VS ... UP` FIFO line and its
    /// `quorum_up` script. One that starts without quorum (alpha servers down), or
    /// between quorum - hysteresis and quorum + hysteresis, gets nothing.
    pub fn quorum_at_start(&self, want: impl Fn(usize) -> bool) -> Vec<Action> {
        let mut out = Vec::new();
        for (v, spec) in self.specs.iter().enumerate() {
            let (w, q, h) = (self.alive_weight(v), spec.quorum, spec.hysteresis);
            if !want(v) || !self.state[v].quorum_up || w < q.saturating_add(h) {
                continue;
            }
            log::info!(
                "Gained quorum {q}+{h}={} <= {w} for VS {}",
                q.saturating_add(h),
                spec.name
            );
            out.push(Action::Fifo(format!("VS {} UP", spec.name)));
            if let Some(s) = &spec.quorum_up {
                out.push(Action::Script(s.clone()));
            }
        }
        out
    }

    /// A reload replaces these servers by `next` (the new config's virtual servers):
    /// what keepalived 2.2.7 and 2.4.3 notify for what leaves (seen in the VM). Per
    /// virtual server, in the old config's order, each live real server that leaves
    /// (every one of a virtual server that leaves) goes down: its `RS ... DOWN` line and
    /// `notify_down`; then, when quorum held and the live weight of those that stay is 0
    /// or below the old quorum - hysteresis, `VS ... DOWN` and `quorum_down` (once, after
    /// all its real servers' lines). Real servers that were down, and virtual servers
    /// without quorum, get nothing, nor do weight changes. Servers are matched by
    /// keepalived's names. The quorum lost here is not carried: the new state starts from
    /// the new config.
    pub fn departures(&self, next: &[VsSpec]) -> Vec<Action> {
        let mut out = Vec::new();
        for (v, spec) in self.specs.iter().enumerate() {
            let kept = next.iter().find(|n| n.name == spec.name);
            let stays =
                |r: &RsSpec| kept.is_some_and(|k| k.real_servers.iter().any(|n| n.name == r.name));
            let mut left = false;
            let mut w = 0u64;
            for (r, rs) in spec.real_servers.iter().enumerate() {
                if !self.state[v].rs[r].alive {
                    continue;
                }
                if stays(rs) {
                    w = w.saturating_add(self.weight(v, r).max(0) as u64);
                    continue;
                }
                left = true;
                out.push(Action::Fifo(format!("RS {} {} DOWN", rs.name, spec.name)));
                if let Some(s) = &rs.notify_down {
                    out.push(Action::Script(s.clone()));
                }
            }
            let below = w == 0 || w < spec.quorum.saturating_sub(spec.hysteresis);
            if left && self.state[v].quorum_up && below {
                out.push(Action::Fifo(format!("VS {} DOWN", spec.name)));
                if let Some(s) = &spec.quorum_down {
                    out.push(Action::Script(s.clone()));
                }
            }
        }
        out
    }

    /// Shutdown: with `omega`, notify_down for every live real server and quorum_down.
    pub fn shutdown(&self) -> Vec<Action> {
        let mut out = Vec::new();
        for (v, vs) in self.specs.iter().enumerate() {
            if !vs.omega {
                continue;
            }
            for (r, rs) in vs.real_servers.iter().enumerate() {
                if self.state[v].rs[r].alive {
                    out.push(Action::Fifo(format!("RS {} {} DOWN", rs.name, vs.name)));
                    if let Some(s) = &rs.notify_down {
                        out.push(Action::Script(s.clone()));
                    }
                }
            }
            if self.state[v].quorum_up {
                out.push(Action::Fifo(format!("VS {} DOWN", vs.name)));
                if let Some(s) = &vs.quorum_down {
                    out.push(Action::Script(s.clone()));
                }
            }
        }
        out
    }

    /// Every virtual and real server's state (SIGUSR1 dump).
    pub fn dump(&self) -> Vec<VsDump> {
        self.specs
            .iter()
            .enumerate()
            .map(|(v, vs)| VsDump {
                name: vs.name.clone(),
                quorum_up: self.state[v].quorum_up,
                alive_weight: self.alive_weight(v),
                sorry_active: self.state[v].sorry_active,
                real_servers: vs
                    .real_servers
                    .iter()
                    .enumerate()
                    .map(|(r, rs)| RsDump {
                        name: rs.name.clone(),
                        alive: self.state[v].rs[r].alive,
                        failed_checks: self.state[v].rs[r].failed,
                        weight: self.weight(v, r),
                        drained: self.state[v].rs[r].drained,
                    })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests;
