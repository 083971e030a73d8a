//! The checker child's notify FIFOs, as keepalived 2.2.7's checker keeps them: the
//! global `notify_fifo` and `lvs_notify_fifo` both receive every checker line
//! (`RS [ip]:tcp:80 [vip]:tcp:80 UP`, `VS [vip]:tcp:80 DOWN`). Each FIFO is created
//! (mode 0644) when missing, its `*_script` (if any) is started with the FIFO's path as
//! last argument, then the FIFO is opened read-write and non-blocking.
//!
//! keepalived's rules for shared paths: when `lvs_notify_fifo` is the global FIFO it is
//! ignored (lines would come twice); when it is `vrrp_notify_fifo` and both have a script,
//! the LVS script is ignored (the VRRP side runs its own).
//!
//! Closing (stop, or a reload that changes a FIFO) unlinks a FIFO this child created and
//! stops its reader: `SIGTERM` to its process group, `SIGKILL` 1 s later if it is still
//! there (then it is reaped by [`ka_check::process::orphans`]). Unlike keepalived, which
//! closes and reopens every FIFO and restarts every reader at each reload, a FIFO whose
//! path and script did not change is kept open with its reader (no lines lost, no
//! restart); a reader that had exited is started again.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use ka_proto::config::{Config, Script};

use super::runtime::FifoWriter;
use ka_check::process;

/// How long a reader has between `SIGTERM` and `SIGKILL` (keepalived: 1 s).
const KILL_GRACE: Duration = Duration::from_secs(1);

/// One FIFO the config asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedFifo {
    /// The keyword (`notify_fifo`, `lvs_notify_fifo`), for logs.
    pub keyword: &'static str,
    /// Its path.
    pub path: PathBuf,
    /// The reader to start (without the path argument), if any.
    pub script: Option<Script>,
}

/// The FIFOs the checker writes to for `config`, with keepalived's rules for shared paths.
pub fn wanted(config: &Config) -> Vec<WantedFifo> {
    let g = &config.global;
    let named = |f: &Option<ka_proto::config::global::NotifyFifo>| {
        f.as_ref().filter(|f| !f.path.is_empty()).cloned()
    };
    let global = named(&g.notify_fifo);
    let lvs = named(&g.lvs_notify_fifo);
    let vrrp = named(&g.vrrp_notify_fifo);
    let user = ka_check::from_config::default_script_user(config);
    let enforce = g.enable_script_security;
    let with_user = |s: &Option<Script>| {
        let s = ka_check::from_config::with_default_user(s.as_ref()?, user.as_ref());
        ka_check::security::filter_script(s, enforce)
    };
    let mut out = Vec::new();
    if let Some(f) = &global {
        out.push(WantedFifo {
            keyword: "notify_fifo",
            path: PathBuf::from(&f.path),
            script: with_user(&f.script),
        });
    }
    if let Some(f) = lvs {
        if global.as_ref().is_some_and(|gf| gf.path == f.path) {
            log::info!(
                "notify FIFO {} has been specified for global and LVS FIFO - ignoring LVS FIFO",
                f.path
            );
        } else {
            let mut script = with_user(&f.script);
            if script.is_some()
                && vrrp
                    .as_ref()
                    .is_some_and(|v| v.path == f.path && v.script.is_some())
            {
                log::info!(
                    "LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script"
                );
                script = None;
            }
            out.push(WantedFifo {
                keyword: "lvs_notify_fifo",
                path: PathBuf::from(&f.path),
                script,
            });
        }
    }
    out
}

/// An open FIFO and its reader.
struct OpenFifo {
    want: WantedFifo,
    /// This child made the FIFO (so it removes it when closing).
    created: bool,
    writer: FifoWriter,
    reader: Option<Child>,
}

/// The checker child's open notify FIFOs.
#[derive(Default)]
pub struct NotifyFifos {
    open: Vec<OpenFifo>,
}

impl NotifyFifos {
    /// Open what `config` asks for (nothing open before).
    pub fn open(config: &Config) -> NotifyFifos {
        let mut f = NotifyFifos::default();
        f.reload(config);
        f
    }

    /// Bring the FIFOs to what `config` asks for: unchanged ones stay open with their
    /// reader (restarted if it had exited), others are closed or opened.
    pub fn reload(&mut self, config: &Config) {
        let mut wanted = wanted(config);
        let mut kept = Vec::new();
        for mut f in std::mem::take(&mut self.open) {
            match wanted.iter().position(|w| *w == f.want) {
                Some(i) => {
                    wanted.remove(i);
                    if f.reader.is_none() {
                        f.reader = start_reader(&f.want);
                    }
                    kept.push(f);
                }
                None => close(f),
            }
        }
        self.open = kept;
        for w in wanted {
            if let Some(f) = open_fifo(w) {
                self.open.push(f);
            }
        }
    }

    /// Writers for a new [`super::runtime::Runtime`] (handles on the open FIFOs).
    pub fn writers(&self) -> Vec<FifoWriter> {
        self.open
            .iter()
            .filter_map(|f| {
                f.writer
                    .try_clone()
                    .map_err(|e| log::warn!("{} {}: {e}", f.want.keyword, f.want.path.display()))
                    .ok()
            })
            .collect()
    }

    /// Are readers running (to be watched by [`NotifyFifos::poll`])?
    pub fn has_readers(&self) -> bool {
        self.open.iter().any(|f| f.reader.is_some())
    }

    /// Reap readers that ended (logged as keepalived does).
    pub fn poll(&mut self) {
        for f in &mut self.open {
            if let Some(c) = &mut f.reader {
                if !matches!(c.try_wait(), Ok(None)) {
                    log::info!("lvs notify fifo script terminated");
                    f.reader = None;
                }
            }
        }
    }

    /// The readers' process ids (dump, tests).
    pub fn reader_pids(&self) -> Vec<u32> {
        self.open
            .iter()
            .filter_map(|f| f.reader.as_ref().map(Child::id))
            .collect()
    }

    /// Close every FIFO and stop the readers.
    pub fn close_all(&mut self) {
        for f in self.open.drain(..) {
            close(f);
        }
    }
}

impl Drop for NotifyFifos {
    fn drop(&mut self) {
        self.close_all();
    }
}

fn start_reader(w: &WantedFifo) -> Option<Child> {
    let mut s = w.script.clone()?;
    s.args.push(w.path.display().to_string());
    match process::start_script(&s) {
        Ok(c) => Some(c),
        Err(e) => {
            log::error!("{}_script {}: {e}", w.keyword, s.command_line());
            None
        }
    }
}

fn open_fifo(want: WantedFifo) -> Option<OpenFifo> {
    let path = want.path.clone();
    let created = match nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o644))
    {
        Ok(()) => true,
        Err(nix::errno::Errno::EEXIST) => false,
        Err(e) => {
            log::info!("Unable to create {} {}: {e}", want.keyword, path.display());
            return None;
        }
    };
    // keepalived starts the reader before opening the FIFO.
    let reader = start_reader(&want);
    match FifoWriter::open(&path) {
        Ok(writer) => Some(OpenFifo {
            want,
            created,
            writer,
            reader,
        }),
        Err(e) => {
            log::info!("Unable to open {} {}: {e}", want.keyword, path.display());
            if created {
                remove(&path);
            }
            if let Some(c) = reader {
                stop_reader(c);
            }
            None
        }
    }
}

fn close(f: OpenFifo) {
    // Unlinked first, so that a reader looping on reopening it cannot reopen this one.
    if f.created {
        remove(&f.want.path);
    }
    drop(f.writer);
    if let Some(c) = f.reader {
        stop_reader(c);
    }
}

fn stop_reader(c: Child) {
    process::kill_group(&c, libc::SIGTERM);
    process::orphans::adopt(c, Some(Instant::now() + KILL_GRACE));
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        log::debug!("notify fifo {}: cannot remove: {e}", path.display());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ka_proto::config::global::NotifyFifo;

    fn fifo(path: &str, script: Option<&str>) -> Option<NotifyFifo> {
        Some(NotifyFifo {
            path: path.into(),
            script: script.map(|s| Script {
                args: vec![s.into()],
                user: None,
                group: None,
            }),
        })
    }

    #[test]
    fn both_fifos_with_keepalived_rules_for_shared_paths() {
        let mut c = Config::default();
        assert!(wanted(&c).is_empty());
        c.global.notify_fifo = fifo("/run/g", Some("/g.sh"));
        c.global.lvs_notify_fifo = fifo("/run/l", Some("/l.sh"));
        let w = wanted(&c);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].keyword, "notify_fifo");
        assert_eq!(w[0].script.as_ref().unwrap().args, ["/g.sh"]);
        assert_eq!(w[1].path, PathBuf::from("/run/l"));
        assert_eq!(w[1].script.as_ref().unwrap().args, ["/l.sh"]);
        // The same path for both: the LVS one is ignored.
        c.global.lvs_notify_fifo = fifo("/run/g", Some("/l.sh"));
        let w = wanted(&c);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].script.as_ref().unwrap().args, ["/g.sh"]);
        // The LVS FIFO is the VRRP one and both have scripts: the LVS script is ignored.
        c.global.notify_fifo = None;
        c.global.lvs_notify_fifo = fifo("/run/v", Some("/l.sh"));
        c.global.vrrp_notify_fifo = fifo("/run/v", Some("/v.sh"));
        let w = wanted(&c);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].script, None);
        // Empty paths count as not given.
        c.global.lvs_notify_fifo = fifo("", None);
        assert!(wanted(&c).is_empty());
    }

    #[test]
    fn a_regular_file_is_not_written() {
        let p = std::env::temp_dir().join(format!("ka-fifo-regular-{}", std::process::id()));
        std::fs::write(&p, b"keep").unwrap();
        assert!(FifoWriter::open(&p).is_err());
        let mut c = Config::default();
        c.global.lvs_notify_fifo = fifo(p.to_str().unwrap(), None);
        let f = NotifyFifos::open(&c);
        assert!(f.writers().is_empty());
        drop(f);
        assert_eq!(std::fs::read(&p).unwrap(), b"keep");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn created_fifos_are_removed_on_close_and_existing_ones_kept() {
        let dir = std::env::temp_dir().join(format!("ka-fifo-close-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let made = dir.join("made");
        let existing = dir.join("existing");
        nix::unistd::mkfifo(&existing, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let mut c = Config::default();
        c.global.notify_fifo = fifo(made.to_str().unwrap(), None);
        c.global.lvs_notify_fifo = fifo(existing.to_str().unwrap(), None);
        let mut f = NotifyFifos::open(&c);
        assert_eq!(f.writers().len(), 2);
        assert!(made.exists());
        // Lines wait in the pipe while nobody reads (opened read-write).
        for mut w in f.writers() {
            w.write_line("RS [10.0.0.1]:tcp:80 [10.0.0.100]:tcp:80 UP");
        }
        f.close_all();
        assert!(!made.exists(), "a FIFO this child made is removed");
        assert!(existing.exists(), "a FIFO it found is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
