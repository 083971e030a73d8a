//! The parent's reload (SIGHUP, `ctl reload`) and its dumps (the dump signals).

use super::{control, dump, dumps, idx, Kept, Parent, Role, ToChecker, ToVrrp};
use crate::control::{Verdict, What};
use ka_proto::ipc::DumpKind;

impl Parent {
    /// Reload the configuration: read and check it, then hand it to the children. The
    /// verdict is logged, recorded as an event and returned (for `ctl reload`).
    pub(super) fn reload(&mut self) -> Verdict {
        let v = self.try_reload();
        self.reloads += 1;
        if v.accepted {
            self.config_loaded = control::unix_ms() as f64 / 1000.0;
        } else {
            self.reloads_refused += 1;
        }
        self.event(What::Reload {
            accepted: v.accepted,
            summary: v.summary.clone(),
        });
        v
    }

    fn try_reload(&mut self) -> Verdict {
        if self.stopping.is_some() {
            return refused("the daemon is stopping".into(), Vec::new());
        }
        log::info!("Reloading");
        if let Some(n) = &self.notify {
            n.reloading();
        }
        let path = self.settings.config_file.clone();
        let loaded = match (self.loader)(&path, &self.settings.load) {
            Ok(l) => l,
            Err(e) => {
                // The summary first, in a record of its own (it always fits), then one
                // record per diagnostic: one record for the whole report was too big
                // for syslog (EMSGSIZE) and the operator saw nothing.
                log::error!(
                    "Reload refused: {}; the running configuration is kept",
                    e.summary()
                );
                let details: Vec<String> = e.details().to_vec();
                for line in &details {
                    log::error!("{line}");
                }
                self.reload_done("Reload refused; running configuration kept");
                return refused(e.summary().to_string(), details);
            }
        };
        self.kept = match Kept::new(&loaded) {
            Ok(k) => k,
            Err(e) => {
                log::error!(
                    "Reload refused: the configuration cannot be sent to the children ({e}); \
                     the running configuration is kept"
                );
                self.reload_done("Reload refused; running configuration kept");
                return refused(
                    format!("the configuration cannot be sent to the children ({e})"),
                    Vec::new(),
                );
            }
        };
        // Forget the states of instances the new config no longer has (the VRRP child
        // reports the others again after it has applied the reload).
        let names: std::collections::BTreeSet<&str> = loaded
            .config
            .vrrp_instances
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        self.instances.retain(|name| names.contains(name));
        let mut config = loaded.config;
        let checker_msg = ToChecker::Reload {
            config: Box::new(crate::daemon::source::for_checker(&mut config)),
        };
        let msg = ToVrrp::Reload {
            config: Box::new(config),
        };
        for role in [Role::Checker, Role::Vrrp] {
            let want = self.wants(role);
            let i = idx(role);
            let running = self.slots[i].pid.is_some();
            self.slots[i].wanted = want;
            match (want, running) {
                (true, true) if role == Role::Checker => self.send_checker(&checker_msg),
                (true, true) => self.send_vrrp(&msg),
                (true, false) => {
                    if self.slots[i].respawn_at.is_none() {
                        self.start_child(role);
                    }
                }
                (false, true) => {
                    log::info!("{role} child is no longer needed: stopping it");
                    self.send_stop(role);
                }
                (false, false) => self.slots[i].respawn_at = None,
            }
        }
        drop((msg, checker_msg));
        crate::mem::trim();
        self.status_dirty = true;
        self.reload_done("");
        Verdict {
            accepted: true,
            summary: "accepted".into(),
            diagnostics: Vec::new(),
        }
    }

    pub(super) fn dump(&mut self, kind: DumpKind) {
        if kind == DumpKind::Data {
            let text = self.parent_dump();
            match dump::write(&dump::tmp_dir(), dump::PARENT_FILE, &text) {
                Ok(path) => log::info!("parent dump written to {}", path.display()),
                Err(e) => log::error!("cannot write {}: {e}", dump::PARENT_FILE),
            }
        }
        for &role in dump::recipients(kind) {
            self.ask_dump(role, kind, dumps::Waiter::File);
        }
    }

    pub(super) fn parent_dump(&self) -> String {
        // keepalived 2.4.3's keepalived_parent.data is its Global definitions section (the
        // checker's dump writes the same lines); our own sections follow.
        let mut s = match self.kept.config() {
            Ok(c) => crate::check_child::dump::global_text(&c),
            Err(e) => format!("(the configuration kept cannot be decoded: {e})\n"),
        };
        s.push_str("------< Parent >------\n");
        s.push_str(&format!(" pid = {}\n", std::process::id()));
        s.push_str(&format!(
            " config file = {}\n",
            self.settings.config_file.display()
        ));
        s.push_str(&format!(
            " uptime = {} s\n",
            self.started.elapsed().as_secs()
        ));
        for slot in &self.slots {
            s.push_str(&format!(
                " {} child: wanted = {}, pid = {}, restarts = {}, ready = {}\n",
                slot.role,
                slot.wanted,
                slot.pid.map_or("none".to_string(), |p| p.to_string()),
                slot.restarts,
                slot.ready
            ));
        }
        s.push_str("------< Last known VRRP instance states >------\n");
        for i in self.instances.all() {
            s.push_str(&format!(
                " ({}) vrid {} {} priority {} addresses {}\n",
                i.name,
                i.vrid,
                i.state,
                i.priority,
                if i.addresses_installed {
                    "installed"
                } else {
                    "absent"
                }
            ));
        }
        s.push_str("------< Last known services >------\n");
        for v in self.services.values() {
            s.push_str(&format!(
                " {} {} {}\n",
                v.virtual_server,
                v.real_server.as_deref().unwrap_or("-"),
                if v.up { "UP" } else { "DOWN" }
            ));
        }
        s
    }
}

/// The C library's description of a signal ("Killed", "Segmentation fault").
pub(super) fn refused(summary: String, diagnostics: Vec<String>) -> Verdict {
    Verdict {
        accepted: false,
        summary,
        diagnostics,
    }
}
