//! [`Input::Packet`]: a received advert routed to its instance (by interface, VRID and
//! family) and acted on in the instance's state, including the handling of another
//! address owner (priority 255) heard while MASTER.

use super::*;

impl Engine {
    /// A MASTER address owner heard another router claim priority 255 as well. The lower
    /// address yields (below, as for any equal priority); the higher one reports it once,
    /// then, if the other is still advertising after two more adverts of ours, steps down
    /// to priority 254 (keepalived 2.4).
    fn rogue_owner(
        x: &mut Instance,
        from: IpAddr,
        interval: u64,
        own: IpAddr,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if from < own && !x.cfg.lower_prio_no_advert {
            x.rogue_heard = Some(now);
        }
        let event = if from > own {
            RogueOwner::Conflict(from)
        } else if x.rogue_timer.is_some() {
            x.rogue_timer = None;
            x.eff_prio = 254;
            x.rogue_lowered = true;
            RogueOwner::StillAdvertising(from)
        } else {
            x.rogue_int = interval;
            if x.rogue_adverts != 0 {
                return;
            }
            x.rogue_adverts = 2;
            RogueOwner::Conflict(from)
        };
        out.push(Action::RogueOwner {
            instance: x.name.clone(),
            event,
        });
    }

    fn route(&mut self, p: &Packet<'_>, vrid: u8) -> Option<usize> {
        let family = Family::of(p.src);
        let key = (vrid, family);
        // Instances without an interface match any packet, and a packet without one any
        // instance: then (rare) the VRID's instances on every interface, in order.
        let wildcard =
            p.iface.is_empty() || self.by_iface.get("").is_some_and(|m| m.contains_key(&key));
        let candidates = if wildcard {
            self.by_vrid.get(&key)?
        } else {
            self.by_iface.get(p.iface)?.get(&key)?
        };
        self.stats.instances_examined += candidates.len() as u64;
        let mut best: Option<usize> = None;
        for &i in candidates {
            let x = &self.insts[i];
            let c = &x.cfg;
            if !x.started {
                continue;
            }
            // (Through the interface index every candidate is on the packet's interface.)
            if wildcard && !(c.interface == p.iface || c.interface.is_empty() || p.iface.is_empty())
            {
                continue;
            }
            let mode_fits = p.dst.is_multicast() != c.is_unicast();
            match best {
                None => best = Some(i),
                Some(b) if mode_fits && p.dst.is_multicast() == self.insts[b].cfg.is_unicast() => {
                    best = Some(i)
                }
                _ => {}
            }
        }
        best
    }

    pub(super) fn on_packet(&mut self, p: &Packet<'_>, now: Timestamp, out: &mut Vec<Action>) {
        // Shorter than the fixed header: not routed to an instance (keepalived counts
        // nothing for it either).
        // An AH advert (`auth_type AH`) comes with its IPv4 header: the VRID is the
        // advert's after the AH header (its ICV is the instance's to check).
        let vrrp = if crate::ah::is_ipv4(p.bytes) {
            crate::ah::parse(p.bytes).map_or(&[][..], |a| a.vrrp)
        } else {
            p.bytes
        };
        let Some(vrid) = Advert::peek_vrid(vrrp).filter(|_| vrrp.len() >= 8) else {
            self.stats.rx_too_short += 1;
            return;
        };
        let Some(i) = self.route(p, vrid) else {
            self.stats.rx_unknown_vrid += 1;
            return;
        };
        self.touched.push(i);
        let src = self.src_of(i);
        let (adv, err) = self.insts[i].check_packet(p, src, self.signer.wall);
        self.rx_error = err.map(|e| (i, e));
        let Some(adv) = adv else {
            return;
        };
        // Timers a received advert (re)starts run from when it arrived, not from when it is
        // handled: one that sat in the socket queue while this process was stopped must not
        // push the takeover a whole Master_Down_Interval past the moment we resume.
        let heard = p.heard_at(now);
        let x = &mut self.insts[i];
        match x.state {
            State::Backup => {
                if adv.priority != 0 && x.heard_from != Some(p.src) {
                    x.heard_from = Some(p.src);
                    out.push(Action::MasterHeard {
                        instance: x.name.clone(),
                        from: p.src,
                    });
                }
                if x.rogue_lowered && (adv.priority != 255 || x.master_addr != Some(p.src)) {
                    // Not (only) the owner that made us step down any more.
                    x.rogue_lowered = false;
                    x.eff_prio = 255;
                    out.push(Action::RogueOwner {
                        instance: x.name.clone(),
                        event: RogueOwner::RestoredOnLowerAdvert,
                    });
                }
                if adv.priority == 0 {
                    x.down_timer = Some(heard + Duration::from_micros(x.skew()));
                    x.last_advert = Some(heard);
                    return;
                }
                let delaying = x.preempt_until.is_some_and(|t| now < t);
                let lower = adv.priority < x.eff_prio;
                if lower
                    && x.cfg.preempt
                    && !x.cfg.preempt_delay.is_zero()
                    && x.preempt_until.is_none()
                {
                    x.preempt_until = Some(now + x.cfg.preempt_delay);
                }
                let delaying = delaying || (lower && x.preempt_until.is_some_and(|t| now < t));
                if !x.cfg.preempt || !lower || delaying {
                    if !lower {
                        // A master at least as good as us: the preempt delay stops, and
                        // starts afresh at the next lower-priority advert (keepalived 2.x).
                        x.preempt_until = None;
                    }
                    if x.cfg.version == Version::V3 {
                        x.master_adver_int = adv.interval_micros().max(10_000);
                    }
                    x.master_addr = Some(p.src);
                    x.master_prio = adv.priority;
                    x.last_advert = Some(heard);
                    x.want_master = false;
                    x.down_timer = Some(heard + Duration::from_micros(x.master_down()));
                }
                // else: a lower priority with preemption allowed is discarded and the
                // down timer runs out.
            }
            State::Master => {
                let Some(own) = src else { return };
                if adv.priority == 0 {
                    x.send_advert(own, x.eff_prio, &mut self.signer, out);
                    x.adver_timer = Some(now + Duration::from_micros(x.cfg.adver_int_micros()));
                    return;
                }
                if adv.priority == x.eff_prio && x.eff_prio == 255 && p.src != own {
                    Self::rogue_owner(x, p.src, adv.interval_micros(), own, now, out);
                }
                let higher =
                    adv.priority > x.eff_prio || (adv.priority == x.eff_prio && p.src > own);
                if higher {
                    if x.cfg.higher_prio_send_advert {
                        x.send_advert(own, x.eff_prio, &mut self.signer, out);
                    }
                    let learned = if x.cfg.version == Version::V3 {
                        adv.interval_micros().max(10_000)
                    } else {
                        x.cfg.adver_int_micros()
                    };
                    for m in self.group_members(i) {
                        if self.insts[m].state == State::Master {
                            let reason = if m == i {
                                Reason::HigherPriority
                            } else {
                                Reason::SyncGroup
                            };
                            self.enter(m, State::Backup, reason, now, out);
                        }
                    }
                    let x = &mut self.insts[i];
                    x.master_adver_int = learned;
                    x.master_addr = Some(p.src);
                    x.master_prio = adv.priority;
                    x.last_advert = Some(heard);
                    x.down_timer = Some(heard + Duration::from_micros(x.master_down()));
                } else {
                    // Answer a lower-priority master with an advert (and the configured
                    // GARPs) at most once per advert interval: a real router hears one per
                    // advert it sends, and a flood of forged ones is not amplified.
                    let int = Duration::from_micros(x.cfg.adver_int_micros());
                    let answer = x.lower_answered.is_none_or(|t| now >= t + int || now < t);
                    if answer {
                        x.lower_answered = Some(now);
                    }
                    if answer && !x.cfg.lower_prio_no_advert {
                        x.send_advert(own, x.eff_prio, &mut self.signer, out);
                    }
                    if answer && x.cfg.garp.lower_prio_repeat > 0 {
                        x.garp_burst(x.cfg.garp.lower_prio_repeat, out);
                        if !x.cfg.garp.lower_prio_delay.is_zero() {
                            x.lower_garp_timer = Some(now + x.cfg.garp.lower_prio_delay);
                        }
                    }
                    out.push(Action::MasterRxLowerPriority {
                        instance: x.name.clone(),
                        from: p.src,
                        priority: adv.priority,
                    });
                }
            }
            State::Fault | State::Initialize => {}
        }
    }
}
