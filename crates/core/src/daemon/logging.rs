//! The `log` backend of every keepalived-rs process: syslog (keepalived's idents,
//! `LOG_PID`, the `-S` facility), with `-l` the console (stderr, prefixed with the local
//! time as keepalived prints it), and with `-g FILE` a file shared by the parent and the
//! children (`O_APPEND`, one write per line, nanosecond timestamps, `ident[pid]`).
//!
//! `-D` (detail) enables `log::debug!` messages; without it only info and above are kept.
//! A forked child calls [`set_ident`] to log as `Keepalived_vrrp` or
//! `Keepalived_healthcheckers`.

use super::sys;
use std::ffi::{CStr, CString};
use std::io::Write;
use std::sync::Mutex;

/// The parent's syslog ident.
pub const PARENT_IDENT: &str = "Keepalived";

/// How a process logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// `-g/--log-file FILE`.
    pub file: Option<std::path::PathBuf>,
    /// `-l/--log-console`: echo to stderr.
    pub console: bool,
    /// Not `-G/--no-syslog`.
    pub syslog: bool,
    /// `-D/--log-detail`.
    pub detail: bool,
    /// `-S/--log-facility` as a `LOG_*` facility value (default `LOG_DAEMON`).
    pub facility: libc::c_int,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            file: None,
            console: false,
            syslog: true,
            detail: false,
            facility: libc::LOG_DAEMON,
        }
    }
}

/// Parse a `-S` value as keepalived accepts it: `0`..`7` (meaning local0..local7),
/// `local0`..`local7`, `user` or `daemon`.
pub fn parse_facility(s: &str) -> Option<libc::c_int> {
    const LOCAL: [libc::c_int; 8] = [
        libc::LOG_LOCAL0,
        libc::LOG_LOCAL1,
        libc::LOG_LOCAL2,
        libc::LOG_LOCAL3,
        libc::LOG_LOCAL4,
        libc::LOG_LOCAL5,
        libc::LOG_LOCAL6,
        libc::LOG_LOCAL7,
    ];
    let s = s.trim().to_ascii_lowercase();
    match s.as_str() {
        "user" => Some(libc::LOG_USER),
        "daemon" => Some(libc::LOG_DAEMON),
        _ => {
            let digits = s.strip_prefix("local").unwrap_or(&s);
            let n: usize = digits.parse().ok()?;
            LOCAL.get(n).copied()
        }
    }
}

struct State {
    opts: LogOptions,
    /// The `-g` file, opened once by the parent; children keep the descriptor.
    file: Option<std::fs::File>,
    /// The ident as text, for file lines.
    ident_text: String,
    /// Appended to every ident (`_<netns>`, `_<instance>`), as keepalived does.
    suffix: String,
    /// Kept alive while syslog may hold the pointer.
    ident: &'static CStr,
    /// Prefix for console lines of a child (empty in the parent).
    console_prefix: &'static str,
}

struct Logger {
    state: Mutex<Option<State>>,
}

static LOGGER: Logger = Logger {
    state: Mutex::new(None),
};

fn leak_ident(ident: &str) -> &'static CStr {
    let clean: String = ident.chars().filter(|c| *c != '\0').collect();
    match CString::new(clean) {
        Ok(c) => Box::leak(c.into_boxed_c_str()),
        Err(_) => c"Keepalived",
    }
}

/// Install the logger (first call) or change its options (later calls), logging as
/// `ident`.
pub fn init(opts: LogOptions, ident: &str) {
    let ident_text = ident.to_string();
    let ident = leak_ident(ident);
    if opts.syslog {
        sys::openlog(ident, opts.facility);
    }
    let file = opts.file.as_ref().and_then(|p| {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("cannot open log file {}: {e}", p.display());
                None
            }
        }
    });
    let detail = opts.detail;
    if let Ok(mut st) = LOGGER.state.lock() {
        *st = Some(State {
            file,
            ident_text,
            opts,
            suffix: String::new(),
            ident,
            console_prefix: "",
        });
    }
    // Fails only when a logger is already installed, which is then ours.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(if detail {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    });
}

/// Log as another ident from now on (a forked child). The console prefix tells the
/// children's lines apart on a shared terminal.
pub fn set_ident(ident: &str, console_prefix: &'static str) {
    if let Ok(mut st) = LOGGER.state.lock() {
        if let Some(st) = st.as_mut() {
            let full = format!("{ident}{}", st.suffix);
            let new = leak_ident(&full);
            st.ident_text = full;
            if st.opts.syslog {
                sys::closelog();
                sys::openlog(new, st.opts.facility);
            }
            st.ident = new;
            st.console_prefix = console_prefix;
        }
    }
}

/// Append `suffix` (e.g. `_blue` for `net_namespace blue`) to the idents from now on, and
/// re-open syslog as `ident` + suffix.
pub fn set_suffix(ident: &str, suffix: &str) {
    if let Ok(mut st) = LOGGER.state.lock() {
        if let Some(st) = st.as_mut() {
            st.suffix = suffix.to_string();
        }
    }
    set_ident(ident, "");
}

/// The options in force (default when not initialised).
pub fn options() -> LogOptions {
    LOGGER
        .state
        .lock()
        .ok()
        .and_then(|s| s.as_ref().map(|s| s.opts.clone()))
        .unwrap_or_default()
}

/// Descriptors the logger needs kept open across a fork (the `-g` file).
pub fn kept_fds() -> Vec<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    LOGGER
        .state
        .lock()
        .ok()
        .and_then(|s| {
            s.as_ref()
                .and_then(|s| s.file.as_ref().map(|f| f.as_raw_fd()))
        })
        .into_iter()
        .collect()
}

/// Longest message text of one syslog record, in bytes (RFC 3164 allows 1,024 for the
/// whole record; the header takes the rest).
pub const MAX_SYSLOG_TEXT: usize = 960;

/// One line as a syslog record's text: NULs dropped, cut to [`MAX_SYSLOG_TEXT`] bytes
/// (at a character boundary) with `…` when longer.
pub fn syslog_record(line: &str) -> String {
    let clean: String = line.chars().filter(|c| *c != '\0').collect();
    if clean.len() <= MAX_SYSLOG_TEXT {
        return clean;
    }
    let mut end = MAX_SYSLOG_TEXT - '…'.len_utf8();
    while !clean.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = clean[..end].to_string();
    out.push('…');
    out
}

fn priority(level: log::Level) -> libc::c_int {
    match level {
        log::Level::Error => libc::LOG_ERR,
        log::Level::Warn => libc::LOG_WARNING,
        log::Level::Info => libc::LOG_INFO,
        log::Level::Debug | log::Level::Trace => libc::LOG_DEBUG,
    }
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Ok(st) = self.state.lock() else { return };
        let Some(st) = st.as_ref() else { return };
        let msg = record.args().to_string();
        if st.opts.syslog {
            // One record per line, each within syslog's limits: a record larger than
            // the socket takes is lost whole (sendto fails with EMSGSIZE).
            for line in msg.lines() {
                let clean = syslog_record(line);
                if let Ok(c) = CString::new(clean) {
                    sys::syslog(priority(record.level()) | st.opts.facility, &c);
                }
            }
        }
        if let Some(mut f) = st.file.as_ref() {
            let line = format!(
                "{} {}[{}]: {}\n",
                sys::local_time_ns_string(),
                st.ident_text,
                std::process::id(),
                msg
            );
            let _ = f.write_all(line.as_bytes());
        }
        if st.opts.console {
            let line = format!(
                "{}: {}{}\n",
                sys::local_time_string(),
                st.console_prefix,
                msg
            );
            // One write per line so lines of the parent and children do not interleave.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        let _ = st.ident;
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facilities_as_keepalived_accepts_them() {
        assert_eq!(parse_facility("0"), Some(libc::LOG_LOCAL0));
        assert_eq!(parse_facility("7"), Some(libc::LOG_LOCAL7));
        assert_eq!(parse_facility("local3"), Some(libc::LOG_LOCAL3));
        assert_eq!(parse_facility("LOCAL5"), Some(libc::LOG_LOCAL5));
        assert_eq!(parse_facility("user"), Some(libc::LOG_USER));
        assert_eq!(parse_facility("daemon"), Some(libc::LOG_DAEMON));
        assert_eq!(parse_facility("8"), None);
        assert_eq!(parse_facility("local"), None);
        assert_eq!(parse_facility("kern"), None);
    }

    #[test]
    fn syslog_records_are_cut_to_syslog_limits() {
        assert_eq!(syslog_record("a\0b"), "ab");
        let long = "é".repeat(2000);
        let r = syslog_record(&long);
        assert!(r.len() <= MAX_SYSLOG_TEXT, "{}", r.len());
        assert!(r.ends_with('…'));
    }
}
