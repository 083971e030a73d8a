//! The firewall of accept mode: while an instance that must not accept packets for its
//! addresses (`no_accept`, or `vrrp_strict` on a non-owner) holds them, nftables drops what
//! is sent to or from them — keepalived's behaviour (and why "with vrrp_strict the VIP is
//! unreachable").
//!
//! The tables equal the ones keepalived 2.4.3 installs (`nft list ruleset` compared in
//! `tests/tests/nftables.rs`): per family, a table (`keepalived` unless `nftables NAME`),
//! created when the first address of that family is blocked, with a `vips` set, `out` and
//! `in` base chains at `nftables_priority` (filter − 1 by default) and, for IPv6, the
//! neighbour-discovery exceptions and the link-local chains. Addresses enter the set when
//! they are installed and leave it when they are removed; the tables go at stop.
//!
//! It speaks through the `nft` tool, one transaction (`nft -f -`) per batch of changes:
//! nft's own syntax makes the rules keepalived's by construction, and a batch costs about
//! 3 ms, paid only on transitions of no-accept instances (see docs/dependencies.md).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `nftables`, `nftables_priority`, `nftables_counters`, `nftables_ifindex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftConfig {
    /// The table's name in each family (`keepalived`).
    pub table: String,
    /// The base chains' priority relative to `filter` (-1).
    pub priority: i32,
    /// A `counter` in every rule.
    pub counters: bool,
    /// Match interfaces by index (`iif`/`oif`, `iface_index`) instead of by name.
    pub ifindex: bool,
}

impl Default for NftConfig {
    fn default() -> Self {
        NftConfig {
            table: "keepalived".into(),
            priority: -1,
            counters: false,
            ifindex: false,
        }
    }
}

/// One address to drop traffic for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Blocked {
    /// An IPv4 address (`ip` table, set `vips`).
    V4(std::net::Ipv4Addr),
    /// A global IPv6 address (`ip6` table, set `vips`).
    V6(Ipv6Addr),
    /// A link-local IPv6 address on an interface (set `vips_link_local`).
    LinkLocal(Ipv6Addr, String),
}

impl Blocked {
    /// The entry for `addr` installed on `iface`.
    pub fn of(addr: IpAddr, iface: &str) -> Blocked {
        match addr {
            IpAddr::V4(a) => Blocked::V4(a),
            IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80 => {
                Blocked::LinkLocal(a, iface.to_string())
            }
            IpAddr::V6(a) => Blocked::V6(a),
        }
    }
}

/// What went wrong talking to nftables.
#[derive(Debug)]
pub enum NftError {
    /// `nft` could not be started (not installed?).
    Spawn(std::io::Error),
    /// `nft` refused the transaction: its message.
    Refused(String),
    /// `nft` did not finish in time and was killed.
    Timeout,
    /// A name nft could not take safely.
    BadName(String),
}

impl std::fmt::Display for NftError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NftError::Spawn(e) => write!(f, "cannot run nft (is nftables installed?): {e}"),
            NftError::Refused(m) => write!(f, "nft refused the change: {m}"),
            NftError::Timeout => write!(f, "nft did not answer within 5 s"),
            NftError::BadName(n) => write!(f, "{n:?} cannot be used as an nftables name"),
        }
    }
}

impl std::error::Error for NftError {}

/// How long one `nft` transaction may take.
const NFT_TIMEOUT: Duration = Duration::from_secs(5);

/// The tables of one configuration and the addresses now in their sets.
#[derive(Debug)]
pub struct Firewall {
    cfg: NftConfig,
    program: PathBuf,
    v4: bool,
    v6: bool,
    link_local: bool,
    blocked: BTreeSet<Blocked>,
    /// Tables adopted from an earlier process: their sets are emptied in the first
    /// transaction, which refills them with what is wanted now (no gap in between).
    stale: bool,
}

impl Firewall {
    /// The firewall of `cfg`. Tables left by an earlier process of ours (a respawned VRRP
    /// child keeps its addresses) are adopted: their addresses stay blocked.
    pub fn new(cfg: NftConfig) -> Result<Firewall, NftError> {
        let name = &cfg.table;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(NftError::BadName(name.clone()));
        }
        let program = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("nft"));
        let mut fw = Firewall {
            cfg,
            program,
            v4: false,
            v6: false,
            link_local: false,
            blocked: BTreeSet::new(),
            stale: false,
        };
        fw.v4 = fw.exists("ip", None);
        fw.v6 = fw.exists("ip6", None);
        fw.link_local = fw.v6 && fw.exists("ip6", Some("vips_link_local"));
        fw.stale = fw.v4 || fw.v6;
        Ok(fw)
    }

    /// The configuration it runs.
    pub fn config(&self) -> &NftConfig {
        &self.cfg
    }

    /// Whether the table of `family` (or one of its sets) is there.
    fn exists(&self, family: &str, set: Option<&str>) -> bool {
        let mut cmd = Command::new(&self.program);
        match set {
            None => cmd.args(["list", "table", family, &self.cfg.table]),
            Some(s) => cmd.args(["list", "set", family, &self.cfg.table, s]),
        };
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Drop traffic for `add` (before they are installed) and stop dropping it for `del`
    /// (after they are removed), in one transaction. Creates the tables a family needs the
    /// first time. Addresses already in (or already out of) the sets are skipped.
    pub fn apply(&mut self, add: &[Blocked], del: &[Blocked]) -> Result<(), NftError> {
        let add: Vec<&Blocked> = add.iter().filter(|b| !self.blocked.contains(b)).collect();
        let del: Vec<&Blocked> = del.iter().filter(|b| self.blocked.contains(b)).collect();
        if add.is_empty() && del.is_empty() && !self.stale {
            return Ok(());
        }
        let mut s = String::new();
        if self.stale {
            let t = &self.cfg.table;
            for (have, family, set) in [
                (self.v4, "ip", "vips"),
                (self.v6, "ip6", "vips"),
                (self.link_local, "ip6", "vips_link_local"),
            ] {
                if have {
                    let _ = writeln!(s, "flush set {family} {t} {set}");
                }
            }
        }
        let (mut v4, mut v6, mut ll) = (self.v4, self.v6, self.link_local);
        for b in &add {
            match b {
                Blocked::V4(_) if !v4 => {
                    self.create_v4(&mut s);
                    v4 = true;
                }
                Blocked::V6(_) | Blocked::LinkLocal(..) if !v6 => {
                    self.create_v6(&mut s);
                    v6 = true;
                }
                _ => {}
            }
            if matches!(b, Blocked::LinkLocal(..)) && !ll {
                self.create_link_local(&mut s);
                ll = true;
            }
        }
        for (verb, list) in [("add", &add), ("delete", &del)] {
            for b in list.iter() {
                let t = &self.cfg.table;
                // An element that is somehow there already (or gone) must not fail the
                // whole transaction: `add` never fails for one that is there, and an
                // `add` first makes a `delete` succeed.
                let line = match b {
                    Blocked::V4(a) => format!("ip {t} vips {{ {a} }}"),
                    Blocked::V6(a) => format!("ip6 {t} vips {{ {a} }}"),
                    Blocked::LinkLocal(a, i) => {
                        if !valid_ifname(i) {
                            return Err(NftError::BadName(i.clone()));
                        }
                        format!("ip6 {t} vips_link_local {{ {a} . \"{i}\" }}")
                    }
                };
                if verb == "delete" {
                    let _ = writeln!(s, "add element {line}");
                }
                let _ = writeln!(s, "{verb} element {line}");
            }
        }
        self.run(&s)?;
        self.stale = false;
        self.v4 = v4;
        self.v6 = v6;
        self.link_local = ll;
        for b in add {
            self.blocked.insert(b.clone());
        }
        for b in del {
            self.blocked.remove(b);
        }
        Ok(())
    }

    /// Remove the tables (at stop, or before a configuration with other settings).
    pub fn remove(&mut self) -> Result<(), NftError> {
        let mut s = String::new();
        let t = &self.cfg.table;
        if self.v4 {
            let _ = writeln!(s, "delete table ip {t}");
        }
        if self.v6 {
            let _ = writeln!(s, "delete table ip6 {t}");
        }
        if s.is_empty() {
            return Ok(());
        }
        self.run(&s)?;
        self.v4 = false;
        self.v6 = false;
        self.link_local = false;
        self.blocked.clear();
        Ok(())
    }

    /// Whether `b` is in its set now.
    pub fn is_blocked(&self, b: &Blocked) -> bool {
        self.blocked.contains(b)
    }

    /// The addresses now blocked.
    pub fn blocked(&self) -> impl Iterator<Item = &Blocked> {
        self.blocked.iter()
    }

    fn prio(&self) -> String {
        match self.cfg.priority {
            0 => "filter".into(),
            p if p < 0 => format!("filter - {}", p.unsigned_abs()),
            p => format!("filter + {p}"),
        }
    }

    fn counter(&self) -> &'static str {
        if self.cfg.counters {
            "counter "
        } else {
            ""
        }
    }

    fn create_v4(&self, s: &mut String) {
        let (t, p, c) = (&self.cfg.table, self.prio(), self.counter());
        let _ = writeln!(s, "add table ip {t}");
        let _ = writeln!(s, "add set ip {t} vips {{ type ipv4_addr; }}");
        for (chain, hook) in [("out", "output"), ("in", "input")] {
            let _ = writeln!(
                s,
                "add chain ip {t} {chain} {{ type filter hook {hook} priority {p}; policy accept; }}"
            );
        }
        let _ = writeln!(s, "add rule ip {t} out ip saddr @vips {c}drop");
        let _ = writeln!(s, "add rule ip {t} in ip daddr @vips {c}drop");
    }

    fn create_v6(&self, s: &mut String) {
        let (t, p, c) = (&self.cfg.table, self.prio(), self.counter());
        let (iftype, oif) = if self.cfg.ifindex {
            ("iface_index", "oif")
        } else {
            ("ifname", "oifname")
        };
        let _ = writeln!(s, "add table ip6 {t}");
        let _ = writeln!(
            s,
            "add set ip6 {t} parent_link_local {{ type ipv6_addr . {iftype}; }}"
        );
        let _ = writeln!(s, "add set ip6 {t} vips {{ type ipv6_addr; }}");
        let _ = writeln!(
            s,
            "add set ip6 {t} neighbor-discovery {{ type icmpv6_type; flags constant; \
             elements = {{ nd-neighbor-solicit, nd-neighbor-advert }}; }}"
        );
        // The chains first, in keepalived's order, so that the gotos find theirs.
        for (chain, hook) in [("out", "output"), ("in", "input")] {
            let _ = writeln!(
                s,
                "add chain ip6 {t} {chain} {{ type filter hook {hook} priority {p}; policy accept; }}"
            );
        }
        let _ = writeln!(s, "add chain ip6 {t} in_link_local");
        let _ = writeln!(s, "add chain ip6 {t} out_link_local");
        let _ = writeln!(
            s,
            "add rule ip6 {t} out icmpv6 type nd-neighbor-advert meta oifkind \"macvlan\" \
             ip6 saddr . {oif} @parent_link_local {c}drop"
        );
        for (chain, dir) in [("out", "saddr"), ("in", "daddr")] {
            let _ = writeln!(
                s,
                "add rule ip6 {t} {chain} icmpv6 type @neighbor-discovery {c}accept"
            );
            let _ = writeln!(
                s,
                "add rule ip6 {t} {chain} ip6 {dir} fe80::/10 {c}goto {chain}_link_local"
            );
            let _ = writeln!(s, "add rule ip6 {t} {chain} ip6 {dir} @vips {c}drop");
        }
    }

    fn create_link_local(&self, s: &mut String) {
        let (t, c) = (&self.cfg.table, self.counter());
        let (iftype, iif, oif) = if self.cfg.ifindex {
            ("iface_index", "iif", "oif")
        } else {
            ("ifname", "iifname", "oifname")
        };
        let _ = writeln!(
            s,
            "add set ip6 {t} vips_link_local {{ type ipv6_addr . {iftype}; }}"
        );
        let _ = writeln!(
            s,
            "add rule ip6 {t} in_link_local ip6 daddr . {iif} @vips_link_local {c}drop"
        );
        let _ = writeln!(
            s,
            "add rule ip6 {t} out_link_local ip6 saddr . {oif} @vips_link_local {c}drop"
        );
    }

    /// One transaction through `nft -f -`.
    fn run(&self, script: &str) -> Result<(), NftError> {
        let mut child = Command::new(&self.program)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(NftError::Spawn)?;
        if let Some(mut stdin) = child.stdin.take() {
            // A write error shows as nft's failure below.
            let _ = stdin.write_all(script.as_bytes());
        }
        let deadline = Instant::now() + NFT_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break st,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(200))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(NftError::Timeout);
                }
            }
        };
        if status.success() {
            return Ok(());
        }
        let mut msg = String::new();
        if let Some(err) = child.stderr.take() {
            let _ = err.take(4096).read_to_string(&mut msg);
        }
        let first = msg.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        Err(NftError::Refused(format!("{status}: {}", first.trim())))
    }
}

/// An interface name nft can take inside quotes.
fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_addresses_go_to_their_own_set() {
        let ll: IpAddr = "fe80::100"
            .parse()
            .unwrap_or(IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert!(matches!(Blocked::of(ll, "eth0"), Blocked::LinkLocal(_, ref i) if i == "eth0"));
        let g: IpAddr = "fd00::1".parse().unwrap_or(IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert!(matches!(Blocked::of(g, "eth0"), Blocked::V6(_)));
        let v4: IpAddr = "10.0.0.1"
            .parse()
            .unwrap_or(IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert!(matches!(Blocked::of(v4, "eth0"), Blocked::V4(_)));
    }

    #[test]
    fn the_priority_is_written_as_nft_lists_it() {
        let mut fw = Firewall {
            cfg: NftConfig::default(),
            program: PathBuf::from("nft"),
            v4: false,
            v6: false,
            link_local: false,
            blocked: BTreeSet::new(),
            stale: false,
        };
        assert_eq!(fw.prio(), "filter - 1");
        fw.cfg.priority = 5;
        assert_eq!(fw.prio(), "filter + 5");
        fw.cfg.priority = 0;
        assert_eq!(fw.prio(), "filter");
    }

    #[test]
    fn a_quote_in_an_interface_name_is_refused() {
        assert!(valid_ifname("eth0"));
        assert!(!valid_ifname("a\"b"));
        assert!(!valid_ifname(""));
        assert!(!valid_ifname("a-very-long-interface-name"));
    }
}
