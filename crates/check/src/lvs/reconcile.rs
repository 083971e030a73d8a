//! The reconciler: keeps the kernel's IPVS table equal to what the config asks for, by
//! difference, on start, on reload and on stop.

use super::desired::{desired_table, ConfigIssue, IsUp};
use super::diff::diff;
use super::table::{Entry, Table};
use ipvs_sys::{Client, Destination, Error, Op, Service, ServiceKey, Timeouts};
use ka_proto::config::{Config, RealServer, VirtualServer};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What the reconciler needs from the kernel (the real one is [`ipvs_sys::Client`]; tests
/// use an in-memory table).
pub trait Kernel {
    /// Every service.
    fn services(&mut self) -> Result<Vec<Service>, Error>;
    /// The destinations of one service.
    fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error>;
    /// Run changes in order; one result per change.
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>>;
    /// Remove every service.
    fn flush(&mut self) -> Result<(), Error>;
    /// Set connection timeouts (0 leaves one unchanged).
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error>;
}

impl Kernel for Client {
    fn services(&mut self) -> Result<Vec<Service>, Error> {
        Client::services(self)
    }
    fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error> {
        Client::destinations(self, key)
    }
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>> {
        Client::apply(self, ops)
    }
    fn flush(&mut self) -> Result<(), Error> {
        Client::flush(self)
    }
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error> {
        Client::set_timeouts(self, t)
    }
}

/// The kernel's table could not be read or changed as a whole.
#[derive(Debug)]
pub enum LvsError {
    /// Reading the current table failed (nothing was changed).
    Read(Error),
    /// A table-wide operation (flush, timeouts) failed.
    Global(Error),
}

impl fmt::Display for LvsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LvsError::Read(e) => write!(f, "reading the IPVS table: {e}"),
            LvsError::Global(e) => write!(f, "IPVS: {e}"),
        }
    }
}

impl std::error::Error for LvsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LvsError::Read(e) | LvsError::Global(e) => Some(e),
        }
    }
}

/// What one pass did.
#[derive(Debug, Default)]
pub struct Report {
    /// The changes sent, in order.
    pub ops: Vec<Op>,
    /// The changes the kernel refused (each error names the operation and target).
    pub failed: Vec<Error>,
    /// Parts of the config that could not be programmed.
    pub issues: Vec<ConfigIssue>,
}

impl Report {
    /// Did every change succeed and every virtual server map?
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty() && self.issues.is_empty()
    }
}

/// Every real server counts as up (until health checks say otherwise).
pub fn all_up(_: &VirtualServer, _: &RealServer) -> bool {
    true
}

/// Owns the services of the config: programs them, reloads them by difference, removes
/// them on stop. Services it never owned are never touched (except by `lvs_flush`).
#[derive(Debug)]
pub struct Reconciler<K: Kernel> {
    kernel: K,
    /// The table last asked for: the services we own.
    owned: Table,
}

impl<K: Kernel> Reconciler<K> {
    /// A reconciler that owns nothing yet.
    pub fn new(kernel: K) -> Self {
        Reconciler {
            kernel,
            owned: Table::default(),
        }
    }

    /// The kernel handle.
    pub fn kernel(&mut self) -> &mut K {
        &mut self.kernel
    }

    /// The table last programmed.
    pub fn owned(&self) -> &Table {
        &self.owned
    }

    /// Program the table of `config` at startup: `lvs_flush` first if asked, the
    /// `lvs_timeouts`, then whatever differs from the kernel (services left by an
    /// earlier run with `-I` are adopted and corrected, not re-created).
    pub fn start(&mut self, config: &Config, is_up: IsUp) -> Result<Report, LvsError> {
        if config.global.lvs_flush {
            self.kernel.flush().map_err(LvsError::Global)?;
        }
        self.timeouts(config)?;
        self.reconcile(config, is_up)
    }

    /// Apply a new config by difference: services no longer configured are deleted,
    /// changed settings edited, destinations added/removed/edited one by one. Nothing
    /// unchanged is touched. Also the entry point when health results change.
    pub fn reconcile(&mut self, config: &Config, is_up: IsUp) -> Result<Report, LvsError> {
        let (desired, issues) = desired_table(config, is_up);
        let retired = self.retired(&desired);
        let wanted: BTreeSet<ServiceKey> = desired
            .services
            .keys()
            .chain(retired.iter())
            .copied()
            .collect();
        let current = self.read(&wanted)?;
        let ops = diff(&desired, &current, &retired);
        let mut report = self.run(ops);
        report.issues = issues;
        self.owned = desired;
        Ok(report)
    }

    /// The services we programmed that `desired` no longer has.
    fn retired(&self, desired: &Table) -> BTreeSet<ServiceKey> {
        self.owned
            .services
            .keys()
            .filter(|k| !desired.services.contains_key(k))
            .copied()
            .collect()
    }

    /// A cheap pass for frequent changes (health results): diff the new desired table
    /// against the table last programmed, without reading the kernel. If the kernel
    /// refuses any change (someone else edited the table), fall back to a full
    /// [`Reconciler::reconcile`] against what the kernel really holds.
    pub fn update(&mut self, config: &Config, is_up: IsUp) -> Result<Report, LvsError> {
        let (desired, issues) = desired_table(config, is_up);
        let retired = self.retired(&desired);
        let ops = diff(&desired, &self.owned, &retired);
        let mut report = self.run(ops);
        if !report.failed.is_empty() {
            let mut full = self.reconcile(config, is_up)?;
            full.ops.splice(0..0, report.ops);
            full.failed.splice(0..0, report.failed);
            return Ok(full);
        }
        report.issues = issues;
        self.owned = desired;
        Ok(report)
    }

    /// A reload: the timeouts, then [`Reconciler::reconcile`].
    pub fn reload(&mut self, config: &Config, is_up: IsUp) -> Result<Report, LvsError> {
        self.timeouts(config)?;
        self.reconcile(config, is_up)
    }

    /// On stop: delete the services we own, unless `keep` (`-I`,
    /// `--dont-release-ipvs`); `lvs_flush_on_stop` (all) flushes the whole table.
    pub fn stop(&mut self, config: &Config, keep: bool) -> Result<Report, LvsError> {
        if keep {
            return Ok(Report::default());
        }
        if config.global.lvs_flush_on_stop == Some(false) {
            self.kernel.flush().map_err(LvsError::Global)?;
            self.owned = Table::default();
            return Ok(Report::default());
        }
        let ops: Vec<Op> = self
            .owned
            .services
            .keys()
            .map(|k| Op::DelService(*k))
            .collect();
        let report = self.run(ops);
        self.owned = Table::default();
        Ok(report)
    }

    fn timeouts(&mut self, config: &Config) -> Result<(), LvsError> {
        let (tcp, fin, udp) = config.global.lvs_timeouts;
        if tcp.is_none() && fin.is_none() && udp.is_none() {
            return Ok(());
        }
        let secs = |d: Option<std::time::Duration>| {
            d.map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
                .unwrap_or(0)
        };
        self.kernel
            .set_timeouts(&Timeouts {
                tcp: secs(tcp),
                tcp_fin: secs(fin),
                udp: secs(udp),
            })
            .map_err(LvsError::Global)
    }

    /// The kernel's view of the services in `keys` (absent ones are left out).
    fn read(&mut self, keys: &BTreeSet<ServiceKey>) -> Result<Table, LvsError> {
        let mut t = Table::default();
        for s in self.kernel.services().map_err(LvsError::Read)? {
            if !keys.contains(&s.key) {
                continue;
            }
            let key = s.key;
            let dests = self
                .kernel
                .destinations(&key)
                .map_err(LvsError::Read)?
                .into_iter()
                .map(|d| (d.key(), d))
                .collect::<BTreeMap<_, _>>();
            t.services.insert(key, Entry { service: s, dests });
        }
        Ok(t)
    }

    fn run(&mut self, ops: Vec<Op>) -> Report {
        let results = self.kernel.apply(&ops);
        let failed = results.into_iter().filter_map(Result::err).collect();
        Report {
            ops,
            failed,
            issues: Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ipvs_sys::{Errno, Operation};
    use ka_proto::config::VirtualServerAddr;

    /// An in-memory kernel that checks what the real one checks.
    #[derive(Default)]
    struct FakeKernel {
        table: Table,
        calls: usize,
    }

    impl Kernel for FakeKernel {
        fn services(&mut self) -> Result<Vec<Service>, Error> {
            Ok(self
                .table
                .services
                .values()
                .map(|e| e.service.clone())
                .collect())
        }
        fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error> {
            Ok(self
                .table
                .services
                .get(key)
                .map(|e| e.dests.values().cloned().collect())
                .unwrap_or_default())
        }
        fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>> {
            self.calls += ops.len();
            ops.iter()
                .map(|op| {
                    let err = |e| {
                        Err(Error::Kernel {
                            op: op.operation(),
                            target: op.target(),
                            errno: Errno(e),
                        })
                    };
                    let t = &mut self.table.services;
                    match op {
                        Op::AddService(s) if t.contains_key(&s.key) => err(libc::EEXIST),
                        Op::AddService(s) => {
                            t.insert(
                                s.key,
                                Entry {
                                    service: s.clone(),
                                    dests: BTreeMap::new(),
                                },
                            );
                            Ok(())
                        }
                        Op::EditService(s) => match t.get_mut(&s.key) {
                            Some(e) => {
                                e.service = s.clone();
                                Ok(())
                            }
                            None => err(libc::ESRCH),
                        },
                        Op::DelService(k) => match t.remove(k) {
                            Some(_) => Ok(()),
                            None => err(libc::ESRCH),
                        },
                        Op::AddDest(k, d) | Op::EditDest(k, d) => match t.get_mut(k) {
                            Some(e) => {
                                let had = e.dests.insert(d.key(), d.clone()).is_some();
                                match (op, had) {
                                    (Op::AddDest(..), true) => err(libc::EEXIST),
                                    (Op::EditDest(..), false) => err(libc::ENOENT),
                                    _ => Ok(()),
                                }
                            }
                            None => err(libc::ESRCH),
                        },
                        Op::DelDest(k, d) => match t.get_mut(k).map(|e| e.dests.remove(d)) {
                            Some(Some(_)) => Ok(()),
                            Some(None) => err(libc::ENOENT),
                            None => err(libc::ESRCH),
                        },
                    }
                })
                .collect()
        }
        fn flush(&mut self) -> Result<(), Error> {
            self.table = Table::default();
            Ok(())
        }
        fn set_timeouts(&mut self, _: &Timeouts) -> Result<(), Error> {
            Ok(())
        }
    }

    /// A reconciler on a fake kernel, started with every real server up on
    /// `config(weights)`.
    fn started(weights: &[(u8, &[i32])]) -> (Reconciler<FakeKernel>, Config) {
        let mut r = Reconciler::new(FakeKernel::default());
        let c = config(weights);
        r.start(&c, &all_up).unwrap();
        (r, c)
    }

    /// Every real server up but 192.168.0.2.
    fn second_down(_: &VirtualServer, rs: &RealServer) -> bool {
        rs.addr.ip().to_string() != "192.168.0.2"
    }

    fn config(weights: &[(u8, &[i32])]) -> Config {
        let mut c = Config::default();
        for (vip, ws) in weights {
            c.virtual_servers.push(VirtualServer {
                addr: VirtualServerAddr::Ip(format!("10.0.0.{vip}:80").parse().unwrap()),
                real_servers: ws
                    .iter()
                    .enumerate()
                    .map(|(i, w)| RealServer {
                        addr: format!("192.168.0.{}:80", i + 1).parse().unwrap(),
                        weight: *w,
                        ..RealServer::default()
                    })
                    .collect(),
                ..VirtualServer::default()
            });
        }
        c
    }

    #[test]
    fn start_reload_stop() {
        let mut r = Reconciler::new(FakeKernel::default());
        let c1 = config(&[(1, &[1, 1, 1]), (2, &[1])]);
        let rep = r.start(&c1, &all_up).unwrap();
        assert!(rep.is_clean(), "{rep:?}");
        assert_eq!(rep.ops.len(), 2 + 4);
        assert_eq!(r.kernel().table.dest_count(), 4);

        // Same config: nothing to do.
        assert!(r.reload(&c1, &all_up).unwrap().ops.is_empty());

        // One weight changes: one edit.
        let c2 = config(&[(1, &[1, 7, 1]), (2, &[1])]);
        let rep = r.reload(&c2, &all_up).unwrap();
        assert_eq!(rep.ops.len(), 1, "{:?}", rep.ops);
        assert_eq!(rep.ops[0].operation(), Operation::EditDest);

        // A virtual server goes away, one real server too.
        let c3 = config(&[(1, &[1, 7])]);
        let rep = r.reload(&c3, &all_up).unwrap();
        assert_eq!(rep.ops.len(), 2, "{:?}", rep.ops);
        assert_eq!(r.kernel().table.services.len(), 1);

        // Stop removes ours, but not a foreign service.
        r.kernel()
            .table
            .insert_service(Service::new(ServiceKey::Fwmark {
                family: ipvs_sys::Family::Inet,
                mark: 99,
            }));
        let rep = r.stop(&c3, false).unwrap();
        assert!(rep.is_clean());
        assert_eq!(r.kernel().table.services.len(), 1);
    }

    #[test]
    fn stop_with_keep_leaves_everything_and_a_restart_adopts_it() {
        let (mut r, c) = started(&[(1, &[1, 2])]);
        r.stop(&c, true).unwrap();
        let k = std::mem::take(r.kernel());
        assert_eq!(k.table.dest_count(), 2);
        let mut r2 = Reconciler::new(k);
        let rep = r2.start(&c, &all_up).unwrap();
        assert!(rep.ops.is_empty(), "{:?}", rep.ops);
    }

    #[test]
    fn update_trusts_our_view_and_falls_back_when_the_kernel_disagrees() {
        let (mut r, c) = started(&[(1, &[1, 1])]);
        let rep = r.update(&c, &second_down).unwrap();
        assert_eq!(rep.ops.len(), 1);
        assert!(rep.is_clean());
        // Someone deletes the service behind our back: the update fails, the fallback
        // re-creates everything.
        r.kernel().table = Table::default();
        let rep = r.update(&c, &all_up).unwrap();
        assert_eq!(rep.failed.len(), 1, "{rep:?}");
        assert_eq!(r.kernel().table.dest_count(), 2);
        assert!(r.update(&c, &all_up).unwrap().ops.is_empty());
    }

    #[test]
    fn health_changes_remove_and_restore_a_real_server() {
        let (mut r, c) = started(&[(1, &[1, 1])]);
        let rep = r.reconcile(&c, &second_down).unwrap();
        assert_eq!(rep.ops.len(), 1);
        assert_eq!(rep.ops[0].operation(), Operation::DelDest);
        let rep = r.reconcile(&c, &all_up).unwrap();
        assert_eq!(rep.ops.len(), 1);
        assert_eq!(rep.ops[0].operation(), Operation::AddDest);
    }
}
