//! Talking to the parent: its orders (`Stop`, `Reload`, `Dump`), the instance states
//! reported to it, the dumps it asks for, and what to do when it is gone.

use super::dump;
use super::session::Session;
use crate::daemon::child::exit;
use ka_proto::ipc::vrrp::{FromVrrp, ToVrrp};
use ka_proto::ipc::{ChannelError, DumpKind, InstanceSnapshot, VrrpState};
use vrrp::{Family, State};

impl Session {
    pub(super) fn send(&mut self, msg: &FromVrrp) {
        if let Err(e) = self.ipc.send(msg) {
            log::debug!("IPC to the parent: {e}");
        }
    }

    pub(super) fn lost_parent(&mut self, e: ChannelError) -> i32 {
        if self.options.crash_on_lost_parent {
            // What a SIGKILL leaves: nothing sent, nothing removed.
            log::info!("parent gone ({e}): crashing (test)");
            return exit::FATAL;
        }
        log::info!("parent gone ({e}): stopping");
        self.shutdown(exit::OK)
    }

    /// Handle messages from the parent; `Some(code)` to exit.
    pub(super) fn on_ipc(&mut self) -> Option<i32> {
        loop {
            let msg = match self.ipc.recv() {
                Ok(Some(m)) => m,
                Ok(None) => return None,
                Err(e) => return Some(self.lost_parent(e)),
            };
            match msg {
                ToVrrp::Stop => return Some(self.shutdown(exit::OK)),
                ToVrrp::Reload { config } => self.reload(*config),
                ToVrrp::Dump(kind) => {
                    let text = self.dump(kind);
                    self.send(&FromVrrp::DumpText { kind, text });
                }
                ToVrrp::Ping(n) => self.send(&FromVrrp::Pong(n)),
                ToVrrp::Status => {
                    let r = dump::report(
                        &self.engine,
                        &self.stats_base,
                        &self.scripts.states(),
                        &self.by_reason,
                    );
                    self.send(&FromVrrp::Status(Box::new(r)));
                }
                ToVrrp::Maintenance { instances, on } => self.maintenance(&instances, on),
                ToVrrp::Hello(_) | ToVrrp::Resume(_) | ToVrrp::Start { .. } => {
                    log::debug!("ignoring an unexpected message from the parent")
                }
            }
        }
    }

    /// `ctl maintenance`: drain or restore instances (all of them when `names` is empty).
    fn maintenance(&mut self, names: &[String], on: bool) {
        let now = self.now();
        let what = if on { "drained" } else { "restored" };
        let mut actions = Vec::new();
        if names.is_empty() {
            log::info!("Maintenance: every instance {what} by the operator");
            self.engine.handle_into(
                vrrp::Input::Maintenance { instance: None, on },
                now,
                &mut actions,
            );
        }
        for n in names {
            log::info!("({n}) Maintenance: {what} by the operator");
            self.engine.handle_into(
                vrrp::Input::Maintenance {
                    instance: Some(n),
                    on,
                },
                now,
                &mut actions,
            );
        }
        self.execute(actions);
    }

    pub(super) fn dump(&mut self, kind: DumpKind) -> String {
        match kind {
            DumpKind::Data => {
                let files = self
                    .dump_facts
                    .file_names()
                    .filter_map(|n| {
                        let v = self.files.as_ref()?.value(n)?;
                        Some((n.to_string(), v))
                    })
                    .collect();
                dump::data_with(
                    &self.engine,
                    &self.scripts.states(),
                    &self.dump_facts,
                    &self.by_reason,
                    &files,
                    Some(&self.procs),
                )
            }
            DumpKind::Stats => dump::stats(&self.engine, &self.stats_base),
            DumpKind::StatsClear => {
                let text = dump::stats(&self.engine, &self.stats_base);
                self.stats_base = self
                    .engine
                    .instances()
                    .map(|i| (i.name.to_string(), *i.stats))
                    .collect();
                text
            }
            DumpKind::Json => dump::json_with(
                &self.engine,
                &self.stats_base,
                (self.plan.json_version >= 2).then_some(&self.procs),
                &self.dump_facts,
                &self.by_reason,
            ),
        }
    }

    pub(super) fn report_all(&mut self) {
        let snaps: Vec<InstanceSnapshot> = self
            .engine
            .instances()
            .filter_map(|i| self.snapshot_of(i.name))
            .collect();
        for s in snaps {
            self.send(&FromVrrp::InstanceState(s));
        }
    }

    pub(super) fn snapshot_of(&self, name: &str) -> Option<InstanceSnapshot> {
        let i = self.engine.instance(name)?;
        Some(InstanceSnapshot {
            name: i.name.to_string(),
            vrid: i.config.vrid,
            interface: (!i.config.interface.is_empty()).then(|| i.config.interface.clone()),
            ipv6: i.config.family == Family::V6,
            state: to_vrrp_state(i.state),
            priority: i.priority,
            base_priority: i.config.priority,
            addresses_installed: i.state == State::Master,
        })
    }
}

pub(super) fn to_vrrp_state(s: State) -> VrrpState {
    match s {
        State::Initialize => VrrpState::Init,
        State::Backup => VrrpState::Backup,
        State::Master => VrrpState::Master,
        State::Fault => VrrpState::Fault,
    }
}

pub(super) fn from_vrrp_state(s: VrrpState) -> Option<State> {
    match s {
        VrrpState::Backup => Some(State::Backup),
        VrrpState::Master => Some(State::Master),
        VrrpState::Fault => Some(State::Fault),
        VrrpState::Init | VrrpState::Stop => None,
    }
}
