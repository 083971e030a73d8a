//! `Engine::reload`: a new configuration applied to running instances, matched as
//! keepalived matches them.

use super::*;

impl Engine {
    /// Apply a new configuration. Instances are matched as keepalived does (VRID, family,
    /// interface, unicast peers, source; not the name): matched ones keep their state and
    /// get the new settings (a MASTER that gains VIPs announces them: `announce_added`);
    /// removed MASTERs send priority 0 and release their addresses;
    /// new ones start as at startup (if the engine has started). Before anything else,
    /// every MASTER sends one advert.
    pub fn reload(
        &mut self,
        config: EngineConfig,
        now: Timestamp,
    ) -> Result<Vec<Action>, ConfigError> {
        config.validate_counted(&mut self.stats.config_work)?;
        let mut out = Vec::new();
        self.signer.wall = self.wall_at(now);
        let running = self.insts.iter().any(|x| x.started);
        for i in 0..self.insts.len() {
            if self.insts[i].state == State::Master {
                if let Some(s) = self.src_of(i) {
                    let x = &mut self.insts[i];
                    x.send_advert(s, x.eff_prio, &mut self.signer, &mut out);
                }
            }
        }
        let mut old: Vec<Option<Instance>> = std::mem::take(&mut self.insts)
            .into_iter()
            .map(Some)
            .collect();
        // The running instances by reload key, in order: each new instance takes the first
        // one left with its key (one lookup, not a scan of every running instance).
        let mut by_key: FastMap<ReloadKey, VecDeque<usize>> = FastMap::default();
        for (j, o) in old.iter().enumerate() {
            if let Some(o) = o {
                self.stats.config_work += 1;
                by_key.entry(o.cfg.reload_key()).or_default().push_back(j);
            }
        }
        let mut fresh = Vec::new();
        for cfg in config.instances {
            self.stats.config_work += 1;
            let found = by_key
                .get_mut(&cfg.reload_key())
                .and_then(VecDeque::pop_front)
                .and_then(|j| old.get_mut(j))
                .and_then(Option::take);
            match found {
                Some(mut inst) => {
                    let mut announce = false;
                    if inst.state == State::Master && inst.cfg.addresses != cfg.addresses {
                        let gone = inst.cfg.addresses.minus(&cfg.addresses);
                        let added = cfg.addresses.minus(&inst.cfg.addresses);
                        if !gone.is_empty() {
                            out.push(Action::DelAddresses {
                                instance: inst.name.clone(),
                                iface: inst.iface.clone(),
                                addrs: Arc::new(gone),
                            });
                        }
                        // New VIPs (or excluded VIPs) on a MASTER: announce the whole set.
                        announce = !added.vips.is_empty() || !added.excluded.is_empty();
                        if !added.is_empty() {
                            out.push(Action::AddAddresses {
                                instance: Arc::from(cfg.name.as_str()),
                                iface: Arc::from(cfg.interface.as_str()),
                                addrs: Arc::new(added),
                            });
                        }
                    }
                    inst.set_config(cfg);
                    if announce {
                        announce_added(&mut inst, now, &mut out);
                    }
                    self.insts.push(inst);
                }
                None => {
                    fresh.push(self.insts.len());
                    self.insts.push(Instance::new(cfg));
                }
            }
        }
        // Removed instances: release and say DELETED.
        for mut inst in old.into_iter().flatten() {
            if inst.state == State::Master {
                let src = inst.cfg.src_addr.or_else(|| {
                    let a = self.iface_addrs.get(inst.cfg.interface.as_str())?;
                    match inst.cfg.family {
                        Family::V4 => a.0,
                        Family::V6 => a.1,
                    }
                });
                if let Some(s) = src {
                    inst.send_advert(s, 0, &mut self.signer, &mut out);
                }
                inst.del_addresses(&mut out);
            }
            if inst.started {
                out.push(Action::StateChanged {
                    instance: inst.name.clone(),
                    from: inst.state,
                    to: State::Initialize,
                    priority: inst.eff_prio,
                    reason: Reason::Shutdown,
                });
                out.push(Action::Notify {
                    target: NotifyTarget::Instance(inst.name.clone()),
                    state: NotifyState::Deleted,
                    priority: inst.eff_prio,
                });
            }
        }
        self.build_groups(&config.sync_groups);
        self.build_index();
        if running {
            for i in fresh {
                self.start_one(i, now, &mut out);
            }
            self.reevaluate(now, &mut out);
            // A kept MASTER advertises its (possibly new) priority now.
            for i in 0..self.insts.len() {
                if self.insts[i].state == State::Master && self.insts[i].adver_timer.is_none() {
                    self.insts[i].adver_timer = Some(now);
                }
            }
        }
        self.notify_groups(&mut out);
        self.reschedule();
        Ok(out)
    }
}

/// A MASTER whose reload brought new VIPs announces as keepalived 2.4.3 does: one
/// `garp_master_repeat` burst now for every VIP and excluded VIP (the kept ones too), and a
/// second `garp_master_delay` later (2.2.7 sends only the first). A reload that only removes
/// addresses, or changes none, announces nothing.
fn announce_added(inst: &mut Instance, now: Timestamp, out: &mut Vec<Action>) {
    let garp = &inst.cfg.garp;
    inst.garp_burst(garp.master_repeat, out);
    inst.garp_timer =
        (garp.master_repeat > 0 && !garp.master_delay.is_zero()).then(|| now + garp.master_delay);
}
