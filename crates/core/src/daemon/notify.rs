//! systemd's service notification protocol (sd_notify(3)): one datagram of `KEY=VALUE`
//! lines to the socket named by `$NOTIFY_SOCKET` (a path, or `@name` for the abstract
//! namespace).
//!
//! The parent is the only sender (the unit says `NotifyAccess=main`):
//!
//! * `READY=1` once the configuration is loaded and every child it started has reported
//!   ready, and again when a reload has been dispatched (or refused);
//! * `RELOADING=1` with `MONOTONIC_USEC=` when a SIGHUP starts a reload, so both
//!   `Type=notify` and `Type=notify-reload` units work;
//! * `STOPPING=1` when the stop begins;
//! * `STATUS=` whenever the one-line summary changes ("2 MASTER, 1 BACKUP; 14/16 real
//!   servers up");
//! * `WATCHDOG=1` at half of `$WATCHDOG_USEC`, only while every running child answers the
//!   parent's heartbeat (see [`Heartbeat`]).
//!
//! [`Notifier::from_env`] takes the variables out of the environment, so neither the
//! children nor the scripts they run inherit them.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

/// A connection to systemd's notification socket.
#[derive(Debug)]
pub struct Notifier {
    sock: UnixDatagram,
    addr: SocketAddr,
    watchdog: Option<Duration>,
}

/// Where `$NOTIFY_SOCKET` points.
fn address(name: &str) -> io::Result<SocketAddr> {
    if let Some(abs) = name.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(abs.as_bytes())
    } else if name.starts_with('/') {
        SocketAddr::from_pathname(name)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("NOTIFY_SOCKET={name:?} is neither a path nor @abstract"),
        ))
    }
}

/// The watchdog interval systemd asked for, if it is meant for this process.
fn watchdog_from(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|&u| u > 0)?;
    if let Some(p) = pid {
        if p.trim().parse::<u32>().ok()? != me {
            return None;
        }
    }
    Some(Duration::from_micros(usec))
}

impl Notifier {
    /// From `$NOTIFY_SOCKET` (and `$WATCHDOG_USEC`/`$WATCHDOG_PID`), which are then
    /// removed from the environment. `None` when not started by systemd (or the socket
    /// cannot be used: logged).
    pub fn from_env() -> Option<Notifier> {
        let name = std::env::var("NOTIFY_SOCKET").ok();
        let usec = std::env::var("WATCHDOG_USEC").ok();
        let pid = std::env::var("WATCHDOG_PID").ok();
        for v in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            std::env::remove_var(v);
        }
        let name = name.filter(|n| !n.is_empty())?;
        let watchdog = watchdog_from(usec.as_deref(), pid.as_deref(), std::process::id());
        match Notifier::new(&name, watchdog) {
            Ok(n) => Some(n),
            Err(e) => {
                log::warn!("cannot use NOTIFY_SOCKET {name}: {e}");
                None
            }
        }
    }

    /// A notifier for the socket `name` (`/path` or `@abstract`).
    pub fn new(name: &str, watchdog: Option<Duration>) -> io::Result<Notifier> {
        let addr = address(name)?;
        let sock = UnixDatagram::unbound()?;
        sock.set_nonblocking(true)?;
        Ok(Notifier {
            sock,
            addr,
            watchdog,
        })
    }

    /// How often to send `WATCHDOG=1`: half the interval systemd asked for.
    pub fn watchdog_period(&self) -> Option<Duration> {
        self.watchdog.map(|w| w / 2)
    }

    /// Send `text` (lines of `KEY=VALUE`). A failure is logged at debug level only: the
    /// service keeps running whatever happens to systemd.
    pub fn send(&self, text: &str) {
        if let Err(e) = self.sock.send_to_addr(text.as_bytes(), &self.addr) {
            log::debug!("sd_notify {text:?}: {e}");
        }
    }

    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={status}"));
    }

    pub fn reloading(&self) {
        self.send(&format!(
            "RELOADING=1\nSTATUS=Reloading\nMONOTONIC_USEC={}",
            monotonic_usec()
        ));
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=Stopping");
    }

    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={status}"));
    }

    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }
}

/// CLOCK_MONOTONIC in microseconds, as `MONOTONIC_USEC=` wants it.
fn monotonic_usec() -> u64 {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) {
        Ok(ts) => {
            let s = u64::try_from(ts.tv_sec()).unwrap_or(0);
            let ns = u64::try_from(ts.tv_nsec()).unwrap_or(0);
            s * 1_000_000 + ns / 1_000
        }
        Err(_) => 0,
    }
}

/// The one-line summary for `STATUS=`: instances by state, then real servers up.
pub fn summary<'a>(
    states: impl IntoIterator<Item = &'a str>,
    real_servers: impl IntoIterator<Item = bool>,
) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in states {
        match counts.iter_mut().find(|(n, _)| *n == s) {
            Some((_, c)) => *c += 1,
            None => counts.push((s, 1)),
        }
    }
    // MASTER first, then the others in a fixed order.
    let order = |s: &str| match s {
        "MASTER" => 0,
        "BACKUP" => 1,
        "FAULT" => 2,
        "INIT" => 3,
        _ => 4,
    };
    counts.sort_by_key(|(s, _)| (order(s), s.to_string()));
    let mut parts = Vec::new();
    if !counts.is_empty() {
        parts.push(
            counts
                .iter()
                .map(|(s, c)| format!("{c} {s}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    let (mut up, mut all) = (0usize, 0usize);
    for u in real_servers {
        all += 1;
        up += usize::from(u);
    }
    if all > 0 {
        parts.push(format!("{up}/{all} real servers up"));
    }
    if parts.is_empty() {
        "Running".to_string()
    } else {
        parts.join("; ")
    }
}

/// The parent's heartbeat to its children: a ping every `period`; the watchdog may be
/// fed only while every running child has answered a ping sent less than `2 * period`
/// ago. A stopped (SIGSTOP) or spinning child stops answering, the parent stops feeding
/// systemd's watchdog, and systemd restarts the service.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    period: Duration,
    seq: u64,
    next_ping: Option<Instant>,
}

impl Heartbeat {
    pub fn new(period: Duration) -> Heartbeat {
        Heartbeat {
            period,
            seq: 0,
            next_ping: None,
        }
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// When the next ping is due (now, the first time).
    pub fn next_ping(&self) -> Option<Instant> {
        self.next_ping
    }

    /// A ping is due at `now`: its sequence number to send to every child.
    pub fn ping(&mut self, now: Instant) -> Option<u64> {
        if self.next_ping.is_some_and(|t| now < t) {
            return None;
        }
        self.seq += 1;
        self.next_ping = Some(now + self.period);
        Some(self.seq)
    }

    /// Whether a child whose last answer came at `answered` is alive at `now`.
    pub fn fresh(&self, answered: Option<Instant>, now: Instant) -> bool {
        answered.is_some_and(|a| now.saturating_duration_since(a) < 2 * self.period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_arrives_as_one_datagram() {
        let dir = std::env::temp_dir().join(format!("ka-notify-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::new(path.to_str().unwrap(), None).unwrap();
        n.ready("1 MASTER");
        let mut buf = [0u8; 256];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1\nSTATUS=1 MASTER");
        n.reloading();
        let len = server.recv(&mut buf).unwrap();
        let text = std::str::from_utf8(&buf[..len]).unwrap();
        assert!(text.starts_with("RELOADING=1\n"), "{text}");
        let usec: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
            .unwrap()
            .parse()
            .unwrap();
        assert!(usec > 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_abstract_socket_is_reached_by_its_at_name() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("ka-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::new(&format!("@{name}"), None).unwrap();
        n.watchdog();
        let mut buf = [0u8; 64];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1");
    }

    #[test]
    fn a_relative_notify_socket_is_refused() {
        assert!(Notifier::new("run/notify", None).is_err());
    }

    #[test]
    fn the_watchdog_is_ours_only_for_our_pid() {
        assert_eq!(
            watchdog_from(Some("10000000"), None, 7),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            watchdog_from(Some("10000000"), Some("7"), 7),
            Some(Duration::from_secs(10))
        );
        assert_eq!(watchdog_from(Some("10000000"), Some("8"), 7), None);
        assert_eq!(watchdog_from(Some("0"), None, 7), None);
        assert_eq!(watchdog_from(Some("x"), None, 7), None);
        assert_eq!(watchdog_from(None, None, 7), None);
    }

    #[test]
    fn the_summary_counts_states_and_real_servers() {
        assert_eq!(
            summary(["BACKUP", "MASTER", "MASTER"], [true, false, true]),
            "2 MASTER, 1 BACKUP; 2/3 real servers up"
        );
        assert_eq!(summary(["FAULT"], []), "1 FAULT");
        assert_eq!(summary([], [true]), "1/1 real servers up");
        assert_eq!(summary([], []), "Running");
    }

    #[test]
    fn a_child_that_stops_answering_goes_stale_after_two_periods() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Duration::from_secs(1));
        assert_eq!(hb.ping(t0), Some(1));
        assert_eq!(hb.ping(t0 + Duration::from_millis(500)), None);
        assert_eq!(hb.ping(t0 + Duration::from_secs(1)), Some(2));
        let answered = Some(t0 + Duration::from_millis(10));
        assert!(hb.fresh(answered, t0 + Duration::from_millis(1900)));
        assert!(!hb.fresh(answered, t0 + Duration::from_millis(2100)));
        assert!(!hb.fresh(None, t0));
    }
}
