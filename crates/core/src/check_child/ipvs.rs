//! The kernel side of the checker child: an [`ipvs_sys::Client`] behind the
//! [`Reconciler`], or nothing when the kernel has no IPVS (the checks keep running and the
//! table is only logged).

use ipvs_sys::Client;
use ka_proto::config::Config;

use ka_check::lvs::{reconcile::all_up, LvsError, Reconciler, Report, Table};

/// IPVS, if the kernel has it.
pub struct Ipvs {
    rec: Option<Reconciler<Client>>,
    /// What the table would be without a kernel (for the dump).
    shadow: Table,
    /// Was the kernel asked (a config with virtual servers)?
    tried: bool,
}

/// Which pass a report comes from (for the log).
#[derive(Debug, Clone, Copy)]
pub enum Pass {
    /// Startup.
    Start,
    /// A SIGHUP reload.
    Reload,
    /// A health change.
    Health,
    /// Shutdown.
    Stop,
}

impl Pass {
    fn name(self) -> &'static str {
        match self {
            Pass::Start => "start",
            Pass::Reload => "reload",
            Pass::Health => "health update",
            Pass::Stop => "stop",
        }
    }
}

fn log_report(pass: Pass, r: &Report) {
    for i in &r.issues {
        log::error!("IPVS: {i}");
    }
    for e in &r.failed {
        log::error!("IPVS ({}): {e}", pass.name());
    }
    log::debug!(
        "IPVS {}: {} change(s), {} refused",
        pass.name(),
        r.ops.len(),
        r.failed.len()
    );
}

fn log_error(pass: Pass, e: &LvsError) {
    log::error!("IPVS ({}): {e}", pass.name());
}

impl Ipvs {
    /// Open the kernel's IPVS, when `config` has virtual servers. Logs (once) when the
    /// kernel has none.
    pub fn open(config: &Config) -> Ipvs {
        let rec = if config.virtual_servers.is_empty() {
            None
        } else {
            match Client::new() {
                Ok(c) => Some(Reconciler::new(c)),
                Err(e) => {
                    log::error!("IPVS: Can't initialize ipvs: {e}");
                    log::error!(
                        "IPVS is not available in this kernel: health checks run, \
                         virtual servers are not programmed"
                    );
                    None
                }
            }
        };
        Ipvs {
            rec,
            shadow: Table::default(),
            tried: !config.virtual_servers.is_empty(),
        }
    }

    /// Is the kernel being programmed?
    pub fn available(&self) -> bool {
        self.rec.is_some()
    }

    /// Has the kernel been asked already (successfully or not)? A reload then keeps this
    /// handle instead of asking (and logging) again.
    pub fn tried(&self) -> bool {
        self.tried
    }

    /// The table last asked for.
    pub fn table(&self) -> &Table {
        match &self.rec {
            Some(r) => r.owned(),
            None => &self.shadow,
        }
    }

    fn shadow(&mut self, effective: &Config) {
        let (t, _) = ka_check::lvs::desired_table(effective, &all_up);
        self.shadow = t;
    }

    /// Program the table at startup (`effective` comes from
    /// [`super::effective::effective_config`]).
    pub fn start(&mut self, effective: &Config) {
        match self.rec.as_mut() {
            Some(r) => match r.start(effective, &all_up) {
                Ok(rep) => log_report(Pass::Start, &rep),
                Err(e) => log_error(Pass::Start, &e),
            },
            None => self.shadow(effective),
        }
    }

    /// Bring the kernel to `effective` by difference (reload or health change).
    pub fn update(&mut self, effective: &Config, pass: Pass) {
        let res = match self.rec.as_mut() {
            Some(r) => match pass {
                Pass::Reload => r.reload(effective, &all_up),
                _ => r.reconcile(effective, &all_up),
            },
            None => {
                self.shadow(effective);
                return;
            }
        };
        match res {
            Ok(rep) => log_report(pass, &rep),
            Err(e) => log_error(pass, &e),
        }
    }

    /// The kernel's counters of the services we programmed (None without IPVS). A
    /// service the kernel does not answer for is left out (logged at debug level).
    pub fn counters(&mut self) -> Option<Vec<crate::control::IpvsService>> {
        let rec = self.rec.as_mut()?;
        let keys: Vec<ipvs_sys::ServiceKey> = rec.owned().services.keys().copied().collect();
        let k = rec.kernel();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let svc = match k.service(&key) {
                Ok(s) => s,
                Err(e) => {
                    log::debug!("IPVS counters of {key}: {e}");
                    continue;
                }
            };
            let dests = k.destinations(&key).unwrap_or_default();
            out.push(<crate::control::IpvsService as crate::control::FromKernel>::of(&svc, &dests));
        }
        Some(out)
    }

    /// Remove what we programmed, unless `keep` (`-I`).
    pub fn stop(&mut self, config: &Config, keep: bool) {
        if let Some(r) = self.rec.as_mut() {
            match r.stop(config, keep) {
                Ok(rep) => log_report(Pass::Stop, &rep),
                Err(e) => log_error(Pass::Stop, &e),
            }
        }
        self.shadow = Table::default();
    }
}
