//! Which `virtual_routes` and `virtual_rules` this child holds right now, so that the
//! kernel's report of a deleted route or rule tells a deletion by someone else
//! (`ip route del`, `ip rule del`: the engine hears [`vrrp::Input::RouteDeleted`] /
//! [`vrrp::Input::RuleDeleted`]) from our own (forgotten here before the report comes).
//! Those marked `no_track` are never reported, as keepalived 2.4.3 ignores them (observed
//! in namespaces; a route without `dev` is tracked by 2.4.3, not by 2.2.7).

use ka_proto::config::Config;
use vrrp::install::{Route, Rule};
use vrrp::linux::netlink::{same_rule, Monitor, RouteKey};
use vrrp::{Action, AddressSet, Input, Timestamp};

use super::map::{route_of, rule_of};
use super::session::Session;

/// Subscribe `monitor` to route and rule changes when `watch` tracks some (and only then:
/// a churning routing table would wake the child for nothing).
pub fn follow_routes(monitor: &mut Monitor, watch: &RouteWatch) {
    if let Err(e) = monitor.watch_routes(watch.tracking()) {
        log::warn!("cannot watch route and rule changes: {e}");
    }
}

impl Session {
    /// Tell the engine about tracked `routes` and `rules` someone else deleted. keepalived
    /// logs nothing of its own for them (2.4.3 and 2.2.7): only the state change follows.
    pub(super) fn feed_routes_deleted(
        &mut self,
        routes: &[Route],
        rules: &[Rule],
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        for route in routes {
            log::trace!(
                "Netlink reports route {:?}/{} deleted",
                route.dst.0,
                route.dst.1
            );
            self.engine
                .handle_into(Input::RouteDeleted { route }, now, out);
        }
        for rule in rules {
            log::trace!("Netlink reports rule {rule:?} deleted");
            self.engine
                .handle_into(Input::RuleDeleted { rule }, now, out);
        }
    }
}

#[derive(Debug, Default)]
pub struct RouteWatch {
    held_routes: Vec<Route>,
    held_rules: Vec<Rule>,
    untracked_routes: Vec<Route>,
    untracked_rules: Vec<Rule>,
    /// Some instance has a tracked route or rule.
    tracking: bool,
}

impl RouteWatch {
    /// The `no_track` routes and rules of `config`.
    pub fn configure(&mut self, config: &Config) {
        let insts = &config.vrrp_instances;
        let routes = insts.iter().flat_map(|i| &i.virtual_routes);
        let rules = insts.iter().flat_map(|i| &i.virtual_rules);
        self.untracked_routes = routes
            .clone()
            .filter(|r| r.no_track)
            .filter_map(route_of)
            .collect();
        self.untracked_rules = rules.clone().filter(|r| r.no_track).map(rule_of).collect();
        self.tracking = routes.clone().any(|r| !r.no_track) || rules.clone().any(|r| !r.no_track);
    }

    /// Some route or rule is tracked: the kernel's route and rule changes are wanted.
    pub fn tracking(&self) -> bool {
        self.tracking
    }

    /// We installed `set`.
    pub fn added(&mut self, set: &AddressSet) {
        for r in &set.routes {
            if !self.held_routes.contains(r) {
                self.held_routes.push(r.clone());
            }
        }
        for r in &set.rules {
            if !self.held_rules.contains(r) {
                self.held_rules.push(r.clone());
            }
        }
    }

    /// We removed `set`.
    pub fn removed(&mut self, set: &AddressSet) {
        self.held_routes.retain(|r| !set.routes.contains(r));
        self.held_rules.retain(|r| !set.rules.contains(r));
    }

    /// The kernel says the route `key` is gone: the tracked routes we held that it is
    /// (someone else removed them). None is held any more either way.
    pub fn route_deleted_by_other(&mut self, key: &RouteKey) -> Vec<Route> {
        let mut gone = Vec::new();
        self.held_routes.retain(|r| {
            let hit = key.is(r);
            if hit && !self.untracked_routes.contains(r) {
                gone.push(r.clone());
            }
            !hit
        });
        gone
    }

    /// As [`RouteWatch::route_deleted_by_other`] for the kernel's rule `kernel`.
    pub fn rule_deleted_by_other(&mut self, kernel: &Rule) -> Vec<Rule> {
        let mut gone = Vec::new();
        self.held_rules.retain(|r| {
            let hit = same_rule(kernel, r);
            if hit && !self.untracked_rules.contains(r) {
                gone.push(r.clone());
            }
            !hit
        });
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ka_proto::config::{IpPrefix, Route as CfgRoute, Rule as CfgRule, VrrpInstance};
    use vrrp::install::RuleAction;

    fn prefix(s: &str) -> IpPrefix {
        IpPrefix::parse(s).expect("literal")
    }

    #[test]
    fn only_held_tracked_routes_and_rules_deleted_by_others_are_reported() {
        let mut inst = VrrpInstance::default();
        for (to, no_track) in [("10.0.1.0/24", false), ("10.0.2.0/24", true)] {
            inst.virtual_routes.push(CfgRoute {
                to: Some(prefix(to)),
                dev: Some("eth0".into()),
                no_track,
                ..CfgRoute::default()
            });
        }
        for (from, no_track) in [("10.1.1.0/24", false), ("10.1.2.0/24", true)] {
            inst.virtual_rules.push(CfgRule {
                from: Some(prefix(from)),
                action: ka_proto::config::RuleAction::Table(100),
                no_track,
                ..CfgRule::default()
            });
        }
        let mut config = Config::default();
        let set = AddressSet {
            routes: inst.virtual_routes.iter().filter_map(route_of).collect(),
            rules: inst.virtual_rules.iter().map(rule_of).collect(),
            ..AddressSet::default()
        };
        config.vrrp_instances.push(inst);
        let mut w = RouteWatch::default();
        w.configure(&config);
        assert!(w.tracking());
        let key = |dst: &str| RouteKey {
            dst: dst.parse().expect("literal"),
            dst_len: 24,
            table: 254,
            metric: 0,
        };
        let rule = |from: &str| {
            let mut r = Rule::to_table(false, 100);
            r.from = Some((from.parse().expect("literal"), 24));
            r.priority = Some(32765);
            r
        };
        // Not held yet (BACKUP): nothing to report.
        assert!(w.route_deleted_by_other(&key("10.0.1.0")).is_empty());
        w.added(&set);
        // no_track: never reported.
        assert!(w.route_deleted_by_other(&key("10.0.2.0")).is_empty());
        assert!(w.rule_deleted_by_other(&rule("10.1.2.0")).is_empty());
        assert_eq!(
            w.route_deleted_by_other(&key("10.0.1.0")),
            [set.routes[0].clone()]
        );
        let got = w.rule_deleted_by_other(&rule("10.1.1.0"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].action, RuleAction::Table(100));
        // Reported once: not held any more.
        assert!(w.route_deleted_by_other(&key("10.0.1.0")).is_empty());
        // Our own removal comes before the kernel's report: not reported.
        w.added(&set);
        w.removed(&set);
        assert!(w.route_deleted_by_other(&key("10.0.1.0")).is_empty());
        assert!(w.rule_deleted_by_other(&rule("10.1.1.0")).is_empty());
    }
}
