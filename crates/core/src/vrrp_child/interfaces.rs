//! Interfaces: VMACs, the VRRP receive sockets, the link state and interface addresses
//! fed to the engine (from the rtnetlink monitor), and sending sockets opened ahead of a
//! takeover.

use super::net::RecvNeed;
use super::session::{Session, SOCKET_BASE};
use mio::{Interest, Token};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use vrrp::linux::netlink::NetEvent;
use vrrp::linux::vmac::{self, VmacSpec};
use vrrp::{Action, Family, Input, Timestamp, TrackKind};

impl Session {
    pub(super) fn setup_vmacs(&mut self) {
        let mut created = false;
        // The VMACs we have by name: one lookup per instance, not a scan (a VMAC each for
        // thousands of instances).
        let mut have: HashSet<String> = self.vmacs.iter().map(|v| v.name.clone()).collect();
        for (name, extra) in &self.plan.extra {
            let Some(plan) = &extra.vmac else { continue };
            if have.contains(&plan.name) {
                continue;
            }
            let Some(base) = self.net.link(&extra.base_interface).map(|l| l.ifindex) else {
                log::warn!(
                    "({name}) cannot create VMAC {}: interface {} does not exist",
                    plan.name,
                    extra.base_interface
                );
                continue;
            };
            let mut spec = VmacSpec::new(base, &extra.base_interface, plan.vrid, plan.v6);
            spec.name = plan.name.clone();
            spec.mac = plan.mac;
            match vmac::create(&mut self.net.rtnl, &spec) {
                Ok(v) => {
                    log::info!("({name}) Creating VMAC interface {}", v.name);
                    have.insert(v.name.clone());
                    self.vmacs.push(v);
                    created = true;
                }
                Err(e) => log::error!("({name}) cannot create VMAC {}: {e}", plan.name),
            }
        }
        if created {
            if let Err(e) = self.net.reread_links() {
                log::warn!("cannot re-read links: {e}");
            }
        }
    }

    pub(super) fn recv_needs(&self) -> Vec<RecvNeed> {
        let mut needs: BTreeMap<(String, Family), BTreeSet<IpAddr>> = BTreeMap::new();
        for c in self.engine.instances().map(|i| i.config) {
            if c.interface.is_empty() {
                continue;
            }
            let groups = needs.entry((c.interface.clone(), c.family)).or_default();
            if !c.is_unicast() {
                groups.insert(c.mcast_dst());
            }
        }
        needs.into_iter().map(|((i, f), g)| (i, f, g)).collect()
    }

    /// Open the receiving sockets that are missing (interfaces that exist now).
    pub(super) fn setup_sockets(&mut self) {
        let rx_buf = self.rx_buf;
        let needs = self.recv_needs();
        // Sets and a free list, not scans: with a VMAC per instance there is a socket per
        // instance, and a scan of the sockets per need was quadratic.
        let wanted: HashSet<(&str, Family, &BTreeSet<IpAddr>)> =
            needs.iter().map(|(i, f, g)| (i.as_str(), *f, g)).collect();
        let mut have: HashSet<RecvNeed> = HashSet::new();
        let mut free = Vec::new();
        // Drop sockets no longer needed (or whose groups changed).
        for (i, slot) in self.sockets.iter_mut().enumerate() {
            let keep = slot
                .as_ref()
                .is_some_and(|s| wanted.contains(&(s.ifname.as_str(), s.family, &s.groups)));
            if !keep {
                if let Some(mut s) = slot.take() {
                    let _ = self.poll.registry().deregister(&mut s.sock);
                }
            }
            match slot {
                Some(s) => {
                    have.insert((s.ifname.clone(), s.family, s.groups.clone()));
                }
                None => free.push(i),
            }
        }
        drop(wanted);
        // Lowest free slot first (pop from the end).
        free.reverse();
        for need in needs {
            if have.contains(&need) {
                continue;
            }
            match self.net.open_recv(&need, rx_buf) {
                Ok(Some(mut sock)) => {
                    let slot = match free.pop() {
                        Some(i) => i,
                        None => {
                            self.sockets.push(None);
                            self.sockets.len() - 1
                        }
                    };
                    let token = Token(SOCKET_BASE + slot);
                    match self
                        .poll
                        .registry()
                        .register(&mut sock.sock, token, Interest::READABLE)
                    {
                        Ok(()) => self.sockets[slot] = Some(sock),
                        Err(e) => {
                            free.push(slot);
                            log::error!("cannot watch the VRRP socket on {}: {e}", need.0);
                        }
                    }
                }
                Ok(None) => {
                    log::info!("interface {} does not exist (yet)", need.0);
                }
                Err(e) => log::error!("cannot open a VRRP socket on {}: {e}", need.0),
            }
        }
    }

    /// Interfaces whose link state the engine must know.
    pub(super) fn watched_links(&self) -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        for c in self.engine.instances().map(|i| i.config) {
            if !c.interface.is_empty() {
                s.insert(c.interface.clone());
            }
            for t in &c.track {
                if t.kind == TrackKind::Interface {
                    s.insert(t.name.clone());
                }
            }
        }
        s
    }

    /// (interface, family) pairs whose own address the engine needs.
    pub(super) fn watched_addrs(&self) -> BTreeSet<(String, Family)> {
        self.engine
            .instances()
            .map(|i| i.config)
            .filter(|c| !c.interface.is_empty())
            .map(|c| (c.interface.clone(), c.family))
            .collect()
    }

    /// Feed the link state and interface addresses that changed since last fed.
    pub(super) fn feed_links(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        for name in self.watched_links() {
            let up = self.net.is_up(&name);
            if self.link_fed.get(&name) != Some(&up) {
                if self.link_fed.contains_key(&name) || !up {
                    log::info!("Netlink reports {name} {}", if up { "up" } else { "down" });
                }
                self.link_fed.insert(name.clone(), up);
                let input = if up {
                    Input::LinkUp { iface: &name }
                } else {
                    Input::LinkDown { iface: &name }
                };
                self.engine.handle_into(input, now, out);
            }
        }
        // A VMAC has no IPv4 address of its own: adverts go out from its base's (as
        // keepalived does); for IPv6 it has a link-local address, else the base's.
        let bases: HashMap<String, String> = self
            .engine
            .instances()
            .map(|i| i.config)
            .filter_map(|c| {
                let e = self.plan.extra.get(&c.name)?;
                e.vmac.as_ref()?;
                Some((c.interface.clone(), e.base_interface.clone()))
            })
            .collect();
        for (iface, family) in self.watched_addrs() {
            let addr = match bases.get(&iface) {
                Some(base) if family == Family::V4 => self.net.primary_address(base, family),
                Some(base) => self
                    .net
                    .primary_address(&iface, family)
                    .or_else(|| self.net.primary_address(base, family)),
                None => self.net.primary_address(&iface, family),
            };
            let key = (iface.clone(), family);
            if self.addr_fed.get(&key) != Some(&addr) {
                self.addr_fed.insert(key, addr);
                self.engine.handle_into(
                    Input::InterfaceAddress {
                        iface: &iface,
                        family,
                        addr,
                    },
                    now,
                    out,
                );
            }
        }
    }

    /// Open sending sockets ahead of time so a takeover does not pay for it.
    pub(super) fn warm_send_sockets(&mut self) {
        let mut want = Vec::new();
        for c in self.engine.instances().map(|i| i.config) {
            let src = c.src_addr.or_else(|| {
                self.addr_fed
                    .get(&(c.interface.clone(), c.family))
                    .copied()
                    .flatten()
            });
            if let Some(src) = src {
                let ttl = if c.is_unicast() { c.unicast_ttl } else { 255 };
                want.push((c.interface.clone(), src, ttl));
            }
        }
        for (iface, src, ttl) in want {
            if let Err(e) = self.net.warm(&iface, src, ttl) {
                log::debug!("cannot open a sending socket on {iface}: {e}");
            }
        }
        self.net.warm_garp();
    }

    pub(super) fn on_monitor(&mut self) {
        let mut evs = Vec::new();
        if let Err(e) = self.monitor.read_events(&mut evs) {
            log::warn!("netlink monitor: {e}");
        }
        if evs.is_empty() {
            return;
        }
        let mut relink = false;
        let mut dirty = false;
        // VIPs someone else deleted, fed after the links (a link going down takes its
        // IPv6 addresses with it: that is a fault, not a deleted VIP).
        let mut deleted = Vec::new();
        let (mut routes, mut rules) = (Vec::new(), Vec::new());
        for ev in evs {
            match ev {
                NetEvent::Link(l) => {
                    let known = self.net.link(&l.name).is_some();
                    self.net.update_link(l);
                    relink |= !known;
                    dirty = true;
                }
                NetEvent::LinkRemoved { ifindex, .. } => {
                    self.net.remove_link(ifindex);
                    dirty = true;
                }
                NetEvent::AddressRemoved(a) if self.net.ours.contains(&a.addr) => {
                    if self.net.vips.deleted_by_other(a.addr) {
                        let iface = self.net.name_of(a.ifindex).unwrap_or_default();
                        log::info!(
                            "Netlink reflector reports IP {} removed from {iface}",
                            a.addr
                        );
                        deleted.push((iface.to_string(), a.addr));
                        dirty = true;
                    }
                }
                NetEvent::RouteRemoved(k) => {
                    let gone = self.net.vips.routes.route_deleted_by_other(&k);
                    dirty |= !gone.is_empty();
                    routes.extend(gone);
                }
                NetEvent::RuleRemoved(r) => {
                    let gone = self.net.vips.routes.rule_deleted_by_other(&r);
                    dirty |= !gone.is_empty();
                    rules.extend(gone);
                }
                NetEvent::AddressAdded(a) | NetEvent::AddressRemoved(a) => {
                    if self.net.ours.contains(&a.addr) {
                        continue;
                    }
                    // The interface's own address may have changed: re-read below.
                    // The interface's own address may have changed: feed_links below
                    // re-reads it and feeds the engine only when it differs.
                    dirty = true;
                }
                NetEvent::Overrun => {
                    if let Err(e) = self.net.reread_links() {
                        log::warn!("{e}");
                    }
                    self.addr_fed.clear();
                    relink = true;
                    dirty = true;
                }
            }
        }
        if relink {
            self.setup_sockets();
        }
        if !dirty {
            return;
        }
        let now = self.now();
        let mut actions = Vec::new();
        self.feed_links(now, &mut actions);
        for (iface, addr) in &deleted {
            self.engine.handle_into(
                Input::AddressDeleted { iface, addr: *addr },
                now,
                &mut actions,
            );
        }
        self.feed_routes_deleted(&routes, &rules, now, &mut actions);
        self.execute(actions);
    }
}
