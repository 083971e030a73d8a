//! keepalived's command line, short and long forms, parsed the way `getopt_long` does:
//! short options may be grouped (`-nlD`), their argument attached (`-fFILE`) or next
//! (`-f FILE`); long options take `--opt=ARG` or `--opt ARG` and may be abbreviated to
//! any unique prefix (`--pi=FILE`). `-T/--genhash` must come first and takes the rest.
//!
//! Problems that keepalived only reports and then carries on with (a bad `-S`, a bad
//! `-u`, stray arguments) are kept in [`Options::warnings`]; `-t` counts them as errors,
//! as keepalived does.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// keepalived's default configuration file.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/keepalived/keepalived.conf";
/// Default parent pid file (without `instance`/`use_pid_dir`).
pub const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";
/// Default VRRP child pid file.
pub const DEFAULT_VRRP_PID_FILE: &str = "/run/vrrp.pid";
/// Default checker child pid file.
pub const DEFAULT_CHECKERS_PID_FILE: &str = "/run/checkers.pid";
/// Default BFD child pid file.
pub const DEFAULT_BFD_PID_FILE: &str = "/run/bfd.pid";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// Run the daemon.
    Run(Options),
    /// `-t/--config-test[=LOG]`: check the configuration and exit.
    ConfigTest(Options),
    /// `-v/--version`.
    Version,
    /// `-h/--help`.
    Help,
    /// `--signum=SIGFUNC`: print the signal number for a function.
    Signum(String),
    /// `-T/--genhash ARGS..`: the HTTP digest tool; everything after `-T`.
    Genhash(Vec<String>),
    /// `ctl ARGS..`: ask the running daemon ([`crate::ctl`]); everything after `ctl`.
    Ctl(Vec<String>),
}

/// syslog facility chosen with `-S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFacility {
    /// LOG_DAEMON (the default).
    #[default]
    Daemon,
    /// LOG_USER.
    User,
    /// LOG_LOCAL0..7.
    Local(u8),
}

impl LogFacility {
    /// Parse `0-7`, `local0-7`, `user` or `daemon`.
    pub fn parse(s: &str) -> Option<Self> {
        let n = s.strip_prefix("local").unwrap_or(s);
        match s {
            "user" => return Some(LogFacility::User),
            "daemon" => return Some(LogFacility::Daemon),
            _ => {}
        }
        match n.parse::<u8>() {
            Ok(v) if v <= 7 && n.len() == 1 => Some(LogFacility::Local(v)),
            _ => None,
        }
    }
}

/// Every keepalived option, with keepalived's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-f/--use-file FILE` (default `/etc/keepalived/keepalived.conf`).
    pub use_file: PathBuf,
    /// `-P/--vrrp`: run only the VRRP child.
    pub vrrp_only: bool,
    /// `-C/--check`: run only the checker child.
    pub check_only: bool,
    /// `-B/--no_bfd`: do not run BFD.
    pub no_bfd: bool,
    /// `--all`: run every child even without config for it.
    pub all: bool,
    /// `-l/--log-console`.
    pub log_console: bool,
    /// `-D/--log-detail`.
    pub log_detail: bool,
    /// `-S/--log-facility` (default daemon).
    pub log_facility: LogFacility,
    /// `-G/--no-syslog`.
    pub no_syslog: bool,
    /// `-g/--log-file FILE`.
    pub log_file: Option<PathBuf>,
    /// `--flush-log-file`.
    pub flush_log_file: bool,
    /// `-u/--umask MASK` (numeric; None: keepalived's default).
    pub umask: Option<u32>,
    /// `-X/--release-vips`.
    pub release_vips: bool,
    /// `-V/--dont-release-vrrp`.
    pub dont_release_vrrp: bool,
    /// `-I/--dont-release-ipvs`.
    pub dont_release_ipvs: bool,
    /// `-R/--dont-respawn`.
    pub dont_respawn: bool,
    /// `-n/--dont-fork`.
    pub dont_fork: bool,
    /// `-d/--dump-conf`.
    pub dump_conf: bool,
    /// `-p/--pid FILE` (None: [`DEFAULT_PID_FILE`], or under /run/keepalived with
    /// `instance`/`use_pid_dir`).
    pub pid_file: Option<PathBuf>,
    /// `-r/--vrrp_pid FILE`.
    pub vrrp_pid_file: Option<PathBuf>,
    /// `-c/--checkers_pid FILE`.
    pub checkers_pid_file: Option<PathBuf>,
    /// `-b/--bfd_pid FILE`.
    pub bfd_pid_file: Option<PathBuf>,
    /// `-a/--address-monitoring`.
    pub address_monitoring: bool,
    /// `-x/--snmp`.
    pub snmp: bool,
    /// `-A/--snmp-agent-socket FILE`.
    pub snmp_agent_socket: Option<String>,
    /// `-s/--namespace NAME` (overrides `net_namespace`).
    pub namespace: Option<String>,
    /// `--control-socket PATH` (keepalived-rs's own): where the control socket is served.
    pub control_socket: Option<PathBuf>,
    /// `--metrics-listen [ADDR:]PORT` (keepalived-rs's own): serve Prometheus metrics and
    /// the status page there (loopback unless an address is given).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `--control-group GROUP` (keepalived-rs's own): the control socket is also open to
    /// this group (mode 0660), for reading only: its members may not reload.
    pub control_group: Option<String>,
    /// `-m/--core-dump`.
    pub core_dump: bool,
    /// `-M/--core-dump-pattern[=PATN]` (Some("core") when given without a value).
    pub core_dump_pattern: Option<String>,
    /// `-e/--all-config`: a missing config file is an error.
    pub all_config: bool,
    /// `-i/--config-id ID` (None: the short host name, see [`Options::effective_config_id`]).
    pub config_id: Option<String>,
    /// `--ignore-sigint`.
    pub ignore_sigint: bool,
    /// `-t/--config-test=LOG`: where the test writes its report (None: stderr).
    pub config_test_log: Option<PathBuf>,
    /// `--debug[=...]`, `--perf[=...]`, `--no-mem-check`, `-L`: accepted, no effect.
    pub ignored: Vec<String>,
    /// Complaints keepalived prints and carries on after (bad `-S`, bad `-u`, stray args).
    pub warnings: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            use_file: PathBuf::from(DEFAULT_CONFIG_FILE),
            vrrp_only: false,
            check_only: false,
            no_bfd: false,
            all: false,
            log_console: false,
            log_detail: false,
            log_facility: LogFacility::Daemon,
            no_syslog: false,
            log_file: None,
            flush_log_file: false,
            umask: None,
            release_vips: false,
            dont_release_vrrp: false,
            dont_release_ipvs: false,
            dont_respawn: false,
            dont_fork: false,
            dump_conf: false,
            pid_file: None,
            vrrp_pid_file: None,
            checkers_pid_file: None,
            bfd_pid_file: None,
            address_monitoring: false,
            snmp: false,
            snmp_agent_socket: None,
            namespace: None,
            control_socket: None,
            metrics_listen: None,
            control_group: None,
            core_dump: false,
            core_dump_pattern: None,
            all_config: false,
            config_id: None,
            ignore_sigint: false,
            config_test_log: None,
            ignored: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

impl Options {
    /// The config id: `-i`, or the host name up to its first dot.
    pub fn effective_config_id(&self) -> String {
        match &self.config_id {
            Some(id) => id.clone(),
            None => short_hostname(),
        }
    }
}

/// The host name up to its first dot (empty if it cannot be read).
pub fn short_hostname() -> String {
    let name = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default();
    match name.split_once('.') {
        Some((short, _)) => short.to_string(),
        None => name,
    }
}

/// Why the command line was refused (keepalived exits 1 on these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// An option keepalived does not know.
    UnknownOption(String),
    /// An option that needs an argument was last.
    MissingArgument(String),
    /// A long option was given a `=value` it does not take.
    UnexpectedValue(String),
    /// A long option prefix matches several options.
    Ambiguous(String),
    /// An argument is not valid UTF-8.
    NotUtf8(OsString),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::UnknownOption(o) => write!(f, "Unknown option {o}"),
            CliError::MissingArgument(o) => write!(f, "Missing parameter for option {o}"),
            CliError::UnexpectedValue(o) => write!(f, "Option {o} does not take a parameter"),
            CliError::Ambiguous(o) => write!(f, "Option {o} is ambiguous"),
            CliError::NotUtf8(a) => write!(f, "Argument {a:?} is not valid UTF-8"),
        }
    }
}

impl std::error::Error for CliError {}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    Required,
    /// Only as `--opt=ARG` or `-oARG`.
    Optional,
}

/// (short, long, argument)
const TABLE: &[(Option<char>, &str, Arg)] = &[
    (Some('f'), "use-file", Arg::Required),
    (Some('P'), "vrrp", Arg::None),
    (Some('C'), "check", Arg::None),
    (Some('B'), "no_bfd", Arg::None),
    (None, "all", Arg::None),
    (Some('l'), "log-console", Arg::None),
    (Some('D'), "log-detail", Arg::None),
    (Some('S'), "log-facility", Arg::Required),
    (Some('G'), "no-syslog", Arg::None),
    (Some('g'), "log-file", Arg::Optional),
    (None, "flush-log-file", Arg::None),
    (Some('u'), "umask", Arg::Required),
    (Some('X'), "release-vips", Arg::None),
    (Some('V'), "dont-release-vrrp", Arg::None),
    (Some('I'), "dont-release-ipvs", Arg::None),
    (Some('R'), "dont-respawn", Arg::None),
    (Some('n'), "dont-fork", Arg::None),
    (Some('d'), "dump-conf", Arg::None),
    (Some('p'), "pid", Arg::Required),
    (Some('r'), "vrrp_pid", Arg::Required),
    (Some('T'), "genhash", Arg::None),
    (Some('c'), "checkers_pid", Arg::Required),
    (Some('a'), "address-monitoring", Arg::None),
    (Some('b'), "bfd_pid", Arg::Required),
    (Some('x'), "snmp", Arg::None),
    (Some('A'), "snmp-agent-socket", Arg::Required),
    (Some('s'), "namespace", Arg::Required),
    (Some('m'), "core-dump", Arg::None),
    (Some('M'), "core-dump-pattern", Arg::Optional),
    (Some('e'), "all-config", Arg::None),
    (Some('i'), "config-id", Arg::Required),
    (None, "signum", Arg::Required),
    (Some('t'), "config-test", Arg::Optional),
    (Some('v'), "version", Arg::None),
    (Some('h'), "help", Arg::None),
    (None, "ignore-sigint", Arg::None),
    (None, "no-mem-check", Arg::None),
    (None, "debug", Arg::Optional),
    (None, "perf", Arg::Optional),
    (Some('L'), "log-detail-extra", Arg::None),
    (None, "control-socket", Arg::Required),
    (None, "metrics-listen", Arg::Required),
    (None, "control-group", Arg::Required),
];

fn find_long(name: &str) -> Result<&'static (Option<char>, &'static str, Arg), CliError> {
    if let Some(e) = TABLE.iter().find(|e| e.1 == name) {
        return Ok(e);
    }
    let mut hits = TABLE.iter().filter(|e| e.1.starts_with(name));
    match (hits.next(), hits.next()) {
        (Some(e), None) if !name.is_empty() => Ok(e),
        (Some(_), Some(_)) => Err(CliError::Ambiguous(format!("--{name}"))),
        _ => Err(CliError::UnknownOption(format!("--{name}"))),
    }
}

/// Parse the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, CliError> {
    let mut args_s = Vec::new();
    for a in args {
        args_s.push(a.into_string().map_err(CliError::NotUtf8)?);
    }
    if matches!(args_s.first().map(String::as_str), Some("-T" | "--genhash")) {
        return Ok(Invocation::Genhash(args_s[1..].to_vec()));
    }
    if args_s.first().map(String::as_str) == Some("ctl") {
        return Ok(Invocation::Ctl(args_s[1..].to_vec()));
    }
    let mut p = Parsed::default();
    let mut stray = Vec::new();
    let mut i = 0;
    while i < args_s.len() {
        let a = &args_s[i];
        i += 1;
        if a == "--" {
            stray.extend(args_s[i..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let entry = find_long(name)?;
            let value = match (entry.2, inline) {
                (Arg::None, Some(_)) => {
                    return Err(CliError::UnexpectedValue(format!("--{}", entry.1)))
                }
                (Arg::None, None) => None,
                (Arg::Optional, v) => v,
                (Arg::Required, Some(v)) => Some(v),
                (Arg::Required, None) => match args_s.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.clone())
                    }
                    None => return Err(CliError::MissingArgument("--X".to_string())),
                },
            };
            apply(&mut p, entry, value);
        } else if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                let Some(entry) = TABLE.iter().find(|e| e.0 == Some(c)) else {
                    return Err(CliError::UnknownOption(format!("-{c}")));
                };
                let rest: String = chars[k..].iter().collect();
                let value = match entry.2 {
                    Arg::None => None,
                    Arg::Optional => {
                        k = chars.len();
                        (!rest.is_empty()).then_some(rest)
                    }
                    Arg::Required => {
                        k = chars.len();
                        if !rest.is_empty() {
                            Some(rest)
                        } else if let Some(v) = args_s.get(i) {
                            i += 1;
                            Some(v.clone())
                        } else {
                            return Err(CliError::MissingArgument(format!("-{c}")));
                        }
                    }
                };
                apply(&mut p, entry, value);
            }
        } else {
            stray.push(a.clone());
        }
    }
    let Parsed {
        mut o,
        test,
        version,
        help,
        signum,
    } = p;
    if !stray.is_empty() {
        o.warnings
            .push(format!("Unexpected argument(s): {} ", stray.join(" ")));
    }
    // keepalived handles -v and -h as soon as it sees them, before --signum and -t.
    if version {
        return Ok(Invocation::Version);
    }
    if help {
        return Ok(Invocation::Help);
    }
    if let Some(s) = signum {
        return Ok(Invocation::Signum(s));
    }
    Ok(if test {
        Invocation::ConfigTest(o)
    } else {
        Invocation::Run(o)
    })
}

/// What the options say so far: the [`Options`], and the requests that choose the
/// [`Invocation`] (`-t`, `-v`, `-h`, `--signum`).
#[derive(Default)]
struct Parsed {
    o: Options,
    test: bool,
    version: bool,
    help: bool,
    signum: Option<String>,
}

/// Option `entry` was given, with `value` if it takes one.
fn apply(p: &mut Parsed, entry: &(Option<char>, &str, Arg), value: Option<String>) {
    let o = &mut p.o;
    let v = value.unwrap_or_default();
    match entry.1 {
        "use-file" => o.use_file = PathBuf::from(v),
        "vrrp" => o.vrrp_only = true,
        "check" => o.check_only = true,
        "no_bfd" => o.no_bfd = true,
        "all" => o.all = true,
        "log-console" => o.log_console = true,
        "log-detail" => o.log_detail = true,
        "log-facility" => match LogFacility::parse(&v) {
            Some(f) => o.log_facility = f,
            None => o.warnings.push(format!("Invalid log facility '{v}'")),
        },
        "no-syslog" => o.no_syslog = true,
        "log-file" => {
            o.log_file = Some(PathBuf::from(if v.is_empty() {
                "/tmp/keepalived.log".into()
            } else {
                v
            }))
        }
        "flush-log-file" => o.flush_log_file = true,
        "umask" => match parse_umask(&v) {
            Some(m) => o.umask = Some(m),
            None => o.warnings.push(format!("Invalid --umask option {v}")),
        },
        "release-vips" => o.release_vips = true,
        "dont-release-vrrp" => o.dont_release_vrrp = true,
        "dont-release-ipvs" => o.dont_release_ipvs = true,
        "dont-respawn" => o.dont_respawn = true,
        "dont-fork" => o.dont_fork = true,
        "dump-conf" => o.dump_conf = true,
        "pid" => o.pid_file = Some(PathBuf::from(v)),
        "vrrp_pid" => o.vrrp_pid_file = Some(PathBuf::from(v)),
        "checkers_pid" => o.checkers_pid_file = Some(PathBuf::from(v)),
        "bfd_pid" => o.bfd_pid_file = Some(PathBuf::from(v)),
        "address-monitoring" => o.address_monitoring = true,
        "snmp" => o.snmp = true,
        "snmp-agent-socket" => o.snmp_agent_socket = Some(v),
        "namespace" => o.namespace = Some(v),
        "control-socket" => o.control_socket = Some(PathBuf::from(v)),
        "control-group" => o.control_group = Some(v),
        "metrics-listen" => match parse_listen(&v) {
            Some(a) => o.metrics_listen = Some(a),
            None => o.warnings.push(format!(
                "--metrics-listen: {v:?} is not [ADDR:]PORT; no metrics served"
            )),
        },
        "core-dump" => o.core_dump = true,
        "core-dump-pattern" => {
            o.core_dump = true;
            o.core_dump_pattern = Some(if v.is_empty() { "core".into() } else { v });
        }
        "all-config" => o.all_config = true,
        "config-id" => o.config_id = Some(v),
        "signum" => p.signum = Some(v),
        "config-test" => {
            p.test = true;
            if !v.is_empty() {
                o.config_test_log = Some(PathBuf::from(v));
            }
        }
        "version" => p.version = true,
        "help" => p.help = true,
        "ignore-sigint" => o.ignore_sigint = true,
        // -T after other options: keepalived only honours it first; treat as ignored.
        other => o.ignored.push(other.to_string()),
    }
}

/// `-u MASK`: numeric, octal with a leading 0, hex with 0x (as strtoul base 0).
/// `PORT` (on 127.0.0.1), `ADDR:PORT` or `[V6ADDR]:PORT`.
pub fn parse_listen(s: &str) -> Option<std::net::SocketAddr> {
    if let Ok(port) = s.parse::<u16>() {
        return Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().ok()
}

fn parse_umask(s: &str) -> Option<u32> {
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()?
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()?
    } else {
        s.parse().ok()?
    };
    (v <= 0o777).then_some(v)
}

/// The signal number keepalived uses for a `--signum` function name (one table, kept
/// with the signals the parent handles).
pub use crate::daemon::signals::signum;

/// The `-h` text (keepalived prints it on stderr).
pub const USAGE: &str = "Usage: keepalived-rs [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file
                                default '/etc/keepalived/keepalived.conf'
  -P, --vrrp                   Only run with VRRP subsystem
  -C, --check                  Only run with Health-checker subsystem
  -B, --no_bfd                 Don't run BFD subsystem
      --all                    Force all child processes to run, even if have no configuration
  -l, --log-console            Log messages to local console
  -D, --log-detail             Detailed log messages
  -S, --log-facility=([0-7]|local[0-7]|user|daemon)
                               Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
  -G, --no-syslog              Don't log via syslog
  -u, --umask=MASK             umask for file creation (in numeric form)
  -X, --release-vips           Drop VIP on transition from signal.
  -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop
  -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
  -R, --dont-respawn           Don't respawn child processes
  -n, --dont-fork              Don't fork the daemon process
  -d, --dump-conf              Dump the configuration data (logged at start; with -t: JSON on stdout)
  -p, --pid=FILE               Use specified pidfile for parent process
  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process
  -T, --genhash                Enter into genhash utility mode (this should be the first option used).
  -c, --checkers_pid=FILE      Use specified pidfile for checkers child process
  -a, --address-monitoring     Report all address additions/deletions notified via netlink
  -b, --bfd_pid=FILE           Use specified pidfile for BFD child process
  -x, --snmp                   Enable SNMP subsystem
  -A, --snmp-agent-socket=FILE Use the specified socket for master agent
  -s, --namespace=NAME         Run in network namespace NAME (overrides config)
  -m, --core-dump              Produce core dump if terminate abnormally
  -M, --core-dump-pattern=PATN Also set /proc/sys/kernel/core_pattern to PATN (default 'core')
  -e, --all-config             Error if any configuration file missing (same as includet)
  -i, --config-id id           Skip any configuration lines beginning '@' that don't match id
                                or any lines beginning @^ that do match.
                                The config-id defaults to the node name if option not used
      --signum=SIGFUNC         Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON
  -t, --config-test[=LOG_FILE] Check the configuration for obvious errors, output to
                                stderr by default
  -v, --version                Display the version number
  -h, --help                   Display this help message
      --metrics-listen=[ADDR:]PORT
                               Serve Prometheus metrics (/metrics) and a status page (/)
                                (keepalived-rs; 127.0.0.1 unless ADDR is given)
      --control-group=GROUP    Let GROUP read the control socket (status, events, dumps;
                                not reload) (keepalived-rs)
      --control-socket=PATH    Serve the control socket at PATH (keepalived-rs;
                                default /run/keepalived-rs/[NETNS/]keepalived-rs[_INSTANCE].sock)

  keepalived-rs ctl [--socket PATH | -s NETNS | -i INSTANCE] VERB
                               Ask the running daemon: status [--json], events [--follow],
                                reload, maintenance enter|leave, dump data|stats|json
                                (see keepalived-rs ctl --help)
";

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Invocation, CliError> {
        parse(args.iter().map(OsString::from))
    }

    fn run(args: &[&str]) -> Options {
        match p(args) {
            Ok(Invocation::Run(o)) | Ok(Invocation::ConfigTest(o)) => o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let o = run(&[]);
        assert_eq!(o.use_file, PathBuf::from(DEFAULT_CONFIG_FILE));
        assert_eq!(o.log_facility, LogFacility::Daemon);
        assert!(!o.dont_fork && o.pid_file.is_none());
    }

    #[test]
    fn grouped_short_options_and_attached_arguments() {
        let o = run(&["-nlD", "-fX.conf", "-p", "a.pid", "-S3", "-i", "high"]);
        assert!(o.dont_fork && o.log_console && o.log_detail);
        assert_eq!(o.use_file, PathBuf::from("X.conf"));
        assert_eq!(o.pid_file, Some(PathBuf::from("a.pid")));
        assert_eq!(o.log_facility, LogFacility::Local(3));
        assert_eq!(o.config_id.as_deref(), Some("high"));
    }

    #[test]
    fn long_options_and_prefixes() {
        let o = run(&[
            "--use-file",
            "k.conf",
            "--pi=p",
            "--vrrp_pid=v",
            "--log-facility=local7",
            "--dont-release-vrrp",
            "--release-vips",
            "--dont-release-ipvs",
            "--dont-respawn",
        ]);
        assert_eq!(o.use_file, PathBuf::from("k.conf"));
        assert_eq!(o.pid_file, Some(PathBuf::from("p")));
        assert_eq!(o.vrrp_pid_file, Some(PathBuf::from("v")));
        assert_eq!(o.log_facility, LogFacility::Local(7));
        assert!(o.dont_release_vrrp && o.release_vips && o.dont_release_ipvs && o.dont_respawn);
        assert!(matches!(p(&["--d"]), Err(CliError::Ambiguous(_))));
    }

    #[test]
    fn config_test_with_and_without_log() {
        assert!(matches!(p(&["-t"]), Ok(Invocation::ConfigTest(_))));
        match p(&["--config-test=/tmp/l", "-f", "x"]) {
            Ok(Invocation::ConfigTest(o)) => {
                assert_eq!(o.config_test_log, Some(PathBuf::from("/tmp/l")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_and_warnings() {
        assert_eq!(p(&["-Z"]), Err(CliError::UnknownOption("-Z".into())));
        assert_eq!(p(&["-f"]), Err(CliError::MissingArgument("-f".into())));
        assert_eq!(
            p(&["--vrrp_pid"]),
            Err(CliError::MissingArgument("--X".into()))
        );
        let o = run(&["-S", "local9", "x"]);
        assert_eq!(o.warnings.len(), 2);
        let o = run(&["-u", "027"]);
        assert_eq!(o.umask, Some(0o27));
    }

    #[test]
    fn version_help_signum_genhash() {
        assert_eq!(p(&["-v"]), Ok(Invocation::Version));
        assert_eq!(p(&["-t", "--help"]), Ok(Invocation::Help));
        assert_eq!(p(&["--signum=STOP"]), Ok(Invocation::Signum("STOP".into())));
        assert_eq!(
            p(&["--signum", "DATA"]),
            Ok(Invocation::Signum("DATA".into()))
        );
        assert_eq!(
            p(&["-T", "-s", "1.2.3.4"]),
            Ok(Invocation::Genhash(vec!["-s".into(), "1.2.3.4".into()]))
        );
        assert_eq!(signum("STOP"), Some(15));
        assert_eq!(signum("RELOAD"), Some(1));
        assert_eq!(signum("DATA"), Some(10));
        assert_eq!(signum("STATS"), Some(12));
        assert_eq!(signum("STATS_CLEAR"), Some(63));
        assert_eq!(signum("JSON"), Some(36));
        assert_eq!(signum("TDUMP"), None);
    }
}
