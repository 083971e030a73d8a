//! The parent process: pid files, daemonising, forking the VRRP and checker children,
//! the IPC hub, the watchdog, signals, reload, logging and dump files.
//!
//! * [`run`] — what `main` calls for a normal run.
//! * [`child`] — how a child is forked, the bodies it runs ([`child::VrrpMain`],
//!   [`child::CheckerMain`]) and a placeholder checker body for tests.
//! * [`parent`] — the parent's mio loop (hub + watchdog).
//! * [`signals`] — keepalived's signal numbers (`--signum`) and what each one does.
//! * [`logging`] — the `log` backend (syslog + console).
//! * [`pidfile`], [`dump`], [`watchdog`], [`source`], [`scripts`], [`release`],
//!   [`states`] — the smaller pieces.

pub mod child;
pub mod dump;
pub mod logging;
pub mod notify;
pub mod parent;
pub mod pidfile;
pub mod release;
pub mod scripts;
pub mod signals;
pub mod source;
pub mod states;
use crate::sys;
pub mod watchdog;

use crate::cli;
use child::{exit, Bodies};
use ka_proto::ipc::RunFlags;
use logging::LogOptions;
use std::path::PathBuf;

/// What the parent needs from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `-f`.
    pub config_file: PathBuf,
    /// `-p`.
    pub pid_file: PathBuf,
    /// `-r`.
    pub vrrp_pid_file: PathBuf,
    /// `-c`.
    pub checkers_pid_file: PathBuf,
    /// `-P`: only the VRRP child.
    pub vrrp_only: bool,
    /// `-C`: only the checker child.
    pub checker_only: bool,
    /// `--all`: start both children even without config for them.
    pub all: bool,
    /// `-n`.
    pub dont_fork: bool,
    /// `-R`.
    pub dont_respawn: bool,
    /// `--ignore-sigint`.
    pub ignore_sigint: bool,
    /// `-u`.
    pub umask: Option<u32>,
    /// Logging switches (`-l`, `-D`, `-S`, `-G`).
    pub log: LogOptions,
    /// Switches for the children (`-V`, `-X`, `-I`, `-D`, `-a`).
    pub flags: RunFlags,
    /// How the config is read (`-i` config id).
    pub load: crate::conf::LoadOptions,
    /// `-s/--namespace NAME` (overrides the config's `net_namespace`).
    pub namespace: Option<String>,
    /// Which of `-p`, `-r`, `-c` were given (the others follow `use_pid_dir`, `instance`
    /// and the namespace, see [`Settings::place_pid_files`]).
    pub pid_explicit: [bool; 3],
    /// `--control-socket PATH`, if given.
    pub control_explicit: Option<PathBuf>,
    /// The control socket served ([`crate::control::socket_path`]).
    pub control_socket: PathBuf,
    /// `--metrics-listen`: where to serve metrics and the status page.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `--control-group`.
    pub control_group: Option<String>,
    /// How long a started child may take to report `Ready` before it is killed and
    /// started again ([`READY_TIMEOUT`]; a test shortens it).
    pub ready_timeout: std::time::Duration,
}

/// A child that has not reported `Ready` this long after it was started is taken for
/// hung (before its loop runs, nothing else would notice): killed and started again under
/// the respawn throttle. Generous: a 10,000-instance configuration is ready in well
/// under a second.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl Default for Settings {
    fn default() -> Self {
        Settings::from_options(&cli::Options::default())
    }
}

impl Settings {
    /// The parent's view of keepalived's command line.
    pub fn from_options(o: &cli::Options) -> Settings {
        let facility = match o.log_facility {
            cli::LogFacility::Daemon => libc::LOG_DAEMON,
            cli::LogFacility::User => libc::LOG_USER,
            cli::LogFacility::Local(n) => {
                logging::parse_facility(&n.to_string()).unwrap_or(libc::LOG_DAEMON)
            }
        };
        let path = |p: &Option<PathBuf>, d: &str| p.clone().unwrap_or_else(|| PathBuf::from(d));
        Settings {
            config_file: o.use_file.clone(),
            pid_file: path(&o.pid_file, pidfile::DEFAULT_PARENT),
            vrrp_pid_file: path(&o.vrrp_pid_file, pidfile::DEFAULT_VRRP),
            checkers_pid_file: path(&o.checkers_pid_file, pidfile::DEFAULT_CHECKERS),
            vrrp_only: o.vrrp_only,
            checker_only: o.check_only,
            all: o.all,
            dont_fork: o.dont_fork,
            dont_respawn: o.dont_respawn,
            ignore_sigint: o.ignore_sigint,
            umask: o.umask,
            log: LogOptions {
                file: o.log_file.clone(),
                // keepalived echoes to the console only when it does not fork.
                console: o.log_console && o.dont_fork,
                syslog: !o.no_syslog,
                detail: o.log_detail,
                facility,
            },
            flags: RunFlags {
                dont_release_vrrp: o.dont_release_vrrp,
                release_vips: o.release_vips,
                dont_release_ipvs: o.dont_release_ipvs,
                log_detail: o.log_detail,
                address_monitoring: o.address_monitoring,
                dump_conf: o.dump_conf,
            },
            load: crate::conf::LoadOptions {
                config_id: o.effective_config_id(),
                instance: None,
            },
            namespace: o.namespace.clone(),
            pid_explicit: [
                o.pid_file.is_some(),
                o.vrrp_pid_file.is_some(),
                o.checkers_pid_file.is_some(),
            ],
            control_explicit: o.control_socket.clone(),
            metrics_listen: o.metrics_listen,
            control_group: o.control_group.clone(),
            ready_timeout: READY_TIMEOUT,
            control_socket: crate::control::socket_path(
                o.control_socket.as_deref(),
                o.namespace.as_deref(),
                None,
            ),
        }
    }

    /// Put the pid files not given on the command line where keepalived 2.2.7 puts them
    /// (observed): `/run/keepalived/[NETNS/]` when `use_pid_dir`, `instance NAME` or a
    /// namespace is in effect, else `/run`; names get `_NAME` with `instance NAME`
    /// (`keepalived_NAME.pid`, `vrrp_NAME.pid`, `checkers_NAME.pid`).
    pub fn place_pid_files(
        &mut self,
        use_pid_dir: bool,
        instance: Option<&str>,
        netns: Option<&str>,
    ) {
        self.control_socket =
            crate::control::socket_path(self.control_explicit.as_deref(), netns, instance);
        if !(use_pid_dir || instance.is_some() || netns.is_some()) {
            return;
        }
        let mut dir = PathBuf::from("/run/keepalived");
        if let Some(ns) = netns {
            dir.push(ns);
        }
        let name = |base: &str| match instance {
            Some(i) => format!("{base}_{i}.pid"),
            None => format!("{base}.pid"),
        };
        let files = [
            (&mut self.pid_file, "keepalived"),
            (&mut self.vrrp_pid_file, "vrrp"),
            (&mut self.checkers_pid_file, "checkers"),
        ];
        for (i, (path, base)) in files.into_iter().enumerate() {
            if !self.pid_explicit[i] {
                *path = dir.join(name(base));
            }
        }
    }
}

/// keepalived's file-creation mask without `-u`: files it creates (dump files, FIFOs) are
/// its own (0600), and its scripts inherit the mask (observed on 2.2.7: a script's umask
/// is 0177 whatever the shell that started keepalived had). Pid files are 0644 anyway.
pub const DEFAULT_UMASK: u32 = 0o177;

/// Run keepalived-rs as the parent process; returns the exit code for `main`.
pub fn run(opts: &cli::Options) -> i32 {
    run_with(
        Settings::from_options(opts),
        source::conf_load,
        Bodies::default(),
    )
}

/// [`run`] with an explicit config loader and child bodies.
pub fn run_with(mut settings: Settings, loader: source::Loader, bodies: Bodies) -> i32 {
    // Before any signal is set up: scripts get ignored what the daemon got ignored.
    vrrp::linux::script::record_inherited_signals(&signals::all_handled());
    // Taken out of the environment first: no child or script inherits systemd's socket.
    let notifier = notify::Notifier::from_env();
    crate::mem::tune();
    logging::init(settings.log.clone(), logging::PARENT_IDENT);
    log::info!("Starting Keepalived-rs v{}", env!("CARGO_PKG_VERSION"));
    let args: Vec<String> = std::env::args().map(|a| format!("'{a}'")).collect();
    log::info!("Command line: {}", args.join(" "));
    sys::umask(settings.umask.unwrap_or(DEFAULT_UMASK));

    // `-s NAME` / `net_namespace NAME`: run (and fork the children) in that namespace, so
    // the config is checked against that namespace's interfaces. `-s` is joined before
    // reading the config; `net_namespace` once the config names it (then read again).
    // Idents get `_NAME`, and `_INSTANCE` for `instance INSTANCE`, as keepalived's do.
    if let Some(ns) = &settings.namespace {
        if let Err(e) = enter_netns(ns) {
            log::error!("cannot enter network namespace {ns}: {e}");
            return exit::FATAL;
        }
    }
    let mut loaded = match load_or_exit(loader, &settings) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let netns = settings
        .namespace
        .clone()
        .or_else(|| loaded.config.net_namespace.clone());
    if settings.namespace.is_none() {
        if let Some(ns) = &netns {
            if let Err(e) = enter_netns(ns) {
                log::error!("cannot enter network namespace {ns}: {e}");
                return exit::FATAL;
            }
            loaded = match load_or_exit(loader, &settings) {
                Ok(l) => l,
                Err(code) => return code,
            };
        }
    }
    log::info!("Configuration file {}", settings.config_file.display());
    let mut suffix = String::new();
    if let Some(ns) = &netns {
        suffix.push('_');
        suffix.push_str(ns);
    }
    if let Some(inst) = &loaded.config.instance {
        suffix.push('_');
        suffix.push_str(inst);
    }
    if !suffix.is_empty() {
        logging::set_suffix(logging::PARENT_IDENT, &suffix);
        log::info!(
            "Running in network namespace {}",
            netns.as_deref().unwrap_or("(default)")
        );
    }

    // `keepalived_rs { }` in the config, where the command line said nothing.
    let own = &loaded.config.keepalived_rs;
    if settings.control_explicit.is_none() {
        settings.control_explicit = own.control_socket.as_ref().map(PathBuf::from);
    }
    settings.metrics_listen = settings.metrics_listen.or(own.metrics_listen);
    if settings.control_group.is_none() {
        settings.control_group.clone_from(&own.control_group);
    }
    settings.place_pid_files(
        loaded.config.use_pid_dir,
        loaded.config.instance.as_deref(),
        netns.as_deref(),
    );

    // keepalived: "daemon is already running", exit 0.
    for p in [
        &settings.pid_file,
        &settings.vrrp_pid_file,
        &settings.checkers_pid_file,
    ] {
        if let Some(pid) = pidfile::live_pid(p) {
            log::info!("daemon is already running (pid {pid} in {})", p.display());
            return exit::OK;
        }
    }

    if !settings.dont_fork {
        if let Err(e) = daemonise(notifier.as_ref()) {
            log::error!("cannot daemonise: {e}");
            return exit::FATAL;
        }
    }
    let me = std::process::id();
    let pid_file = settings.pid_file.clone();
    // Signals are registered (Parent::new) before the pid file is written and before the
    // startup script runs: whoever reads the pid file and signals us (a SIGHUP from an
    // operator, a SIGTERM from init) reaches the loop instead of the default action, which
    // would kill us with the pid file left behind.
    let startup = loaded.config.global.startup_script.clone();
    let startup_timeout = loaded.config.global.startup_script_timeout;
    let startup_user = loaded.config.global.script_user.clone();
    let parent = match parent::Parent::new(settings, loader, bodies, loaded) {
        Ok(p) => p.with_notifier(notifier),
        Err(e) => {
            log::error!("cannot set up the event loop: {e}");
            return exit::FATAL;
        }
    };
    if let Err(e) = pidfile::write(&pid_file, me) {
        log::error!("{e}");
        return exit::FATAL;
    }
    if let Some(s) = &startup {
        scripts::run("startup_script", s, startup_user.as_ref(), startup_timeout);
    }
    let (code, global) = parent.run();
    // The shutdown script of the config in force at the end, once the children are gone.
    if let Some(s) = &global.shutdown_script {
        scripts::run(
            "shutdown_script",
            s,
            global.script_user.as_ref(),
            global.shutdown_script_timeout,
        );
    }
    pidfile::remove(&pid_file, me);
    log::info!("Stopped Keepalived-rs v{}", env!("CARGO_PKG_VERSION"));
    code
}

/// Load the config; on failure, log why and return keepalived's exit code.
fn load_or_exit(loader: source::Loader, settings: &Settings) -> Result<source::Loaded, i32> {
    match loader(&settings.config_file, &settings.load) {
        Ok(l) => Ok(l),
        Err(e @ source::LoadError::Missing(_)) => {
            log::error!("{e}");
            Err(exit::NO_CONFIG)
        }
        Err(source::LoadError::Invalid { path, errors, .. }) => {
            log::error!("Configuration file {} has errors:", path.display());
            for e in errors {
                log::error!("{e}");
            }
            Err(exit::CONFIG)
        }
    }
}

/// Join the network namespace `/run/netns/NAME` (what `ip netns add NAME` makes). The
/// parent is single-threaded, so the whole process (and every child forked later) moves.
fn enter_netns(name: &str) -> std::io::Result<()> {
    if name.contains('/') || name == "." || name == ".." {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a namespace name",
        ));
    }
    let f = std::fs::File::open(format!("/run/netns/{name}"))?;
    nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
}

/// Detach from the terminal: fork (the original process exits 0), new session, fork
/// again (never reacquire a terminal), cwd `/`, stdio on /dev/null.
/// Fork twice and leave the session, as keepalived does. Under systemd (`notify`), the
/// process systemd started tells it the new main pid (`MAINPID=`, which `NotifyAccess=main`
/// accepts from it) before it exits: the daemon sends its pid up a pipe first.
fn daemonise(notify: Option<&notify::Notifier>) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let (rd, wr) = nix::unistd::pipe().map_err(std::io::Error::from)?;
    match sys::fork()? {
        sys::Forked::Parent(_) => {
            drop(wr);
            if let Some(n) = notify {
                // Until every write end is closed: the daemon's after it wrote its pid,
                // the intermediate child's at its exit.
                let mut text = String::new();
                let _ = std::fs::File::from(rd).read_to_string(&mut text);
                if let Ok(pid) = text.trim().parse::<u32>() {
                    n.send(&format!("MAINPID={pid}"));
                }
            }
            sys::exit_now(0)
        }
        sys::Forked::Child => {}
    }
    drop(rd);
    nix::unistd::setsid().map_err(std::io::Error::from)?;
    match sys::fork()? {
        sys::Forked::Parent(_) => sys::exit_now(0),
        sys::Forked::Child => {}
    }
    let mut wr = std::fs::File::from(wr);
    let _ = write!(wr, "{}", std::process::id());
    drop(wr);
    std::env::set_current_dir("/")?;
    sys::stdio_to_devnull()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_as_keepalived_places_them() {
        let mut s = Settings::default();
        s.place_pid_files(false, None, None);
        assert_eq!(s.pid_file, PathBuf::from("/run/keepalived.pid"));
        s.place_pid_files(true, None, None);
        assert_eq!(s.pid_file, PathBuf::from("/run/keepalived/keepalived.pid"));
        assert_eq!(s.vrrp_pid_file, PathBuf::from("/run/keepalived/vrrp.pid"));
        s.place_pid_files(false, Some("foo"), None);
        assert_eq!(
            s.vrrp_pid_file,
            PathBuf::from("/run/keepalived/vrrp_foo.pid")
        );
        s.place_pid_files(true, None, Some("blue"));
        assert_eq!(
            s.checkers_pid_file,
            PathBuf::from("/run/keepalived/blue/checkers.pid")
        );
        let o = cli::Options {
            pid_file: Some(PathBuf::from("/x/p.pid")),
            ..cli::Options::default()
        };
        let mut s = Settings::from_options(&o);
        s.place_pid_files(true, Some("foo"), None);
        assert_eq!(s.pid_file, PathBuf::from("/x/p.pid"), "-p wins");
        assert_eq!(
            s.vrrp_pid_file,
            PathBuf::from("/run/keepalived/vrrp_foo.pid")
        );
    }
}
