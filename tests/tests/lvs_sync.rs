//! `lvs_sync_daemon` in a kernel with IPVS (the VM of `cargo xtask test vm`; elsewhere the
//! tests skip): two directors in front of one real server, in direct-routing mode, a
//! client on the same LAN.
//!
//! A TCP connection is opened through the MASTER director and used; the MASTER is
//! stopped; the same connection is used again through the new MASTER. With
//! `lvs_sync_daemon` the backup director has the connection in its table (sent by the
//! master's sync daemon) and forwards it: the connection survives. Without it, the new
//! master knows nothing of the connection and the client's next segment is refused: the
//! control run shows that the test can fail. keepalived 2.2.7 runs the same scenario as
//! the oracle, and the roles of the kernel's sync daemons are compared at every step with
//! the ones it sets (observed: master daemon while MASTER, backup daemon otherwise, none
//! once stopped).
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::{require_ipvs_vm, wait_for, Lan, Netns};

/// The VM has two slow vCPUs: one scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

const PORT: u16 = 8080;

/// The director configuration; `sync`: with `lvs_sync_daemon`.
fn director(prefix: &str, n: usize, priority: u8, sync: bool) -> String {
    let vip = format!("{prefix}.100");
    let rs = format!("{prefix}.3");
    let sync = if sync {
        "    lvs_sync_daemon eth0 VI_1 id 9\n"
    } else {
        ""
    };
    format!(
        "global_defs {{
    router_id d{n}
{sync}}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {vip}/24
    }}
}}
virtual_server {vip} {PORT} {{
    delay_loop 2
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server {rs} {PORT} {{
        weight 1
        TCP_CHECK {{
            connect_timeout 2
        }}
    }}
}}
"
    )
}

/// Start `imp` in `ns` (keepalived 2.2.7 gets a BFD pid file of its own).
fn start(ns: &Netns, imp: Impl, config: &str) -> Daemon {
    if imp == Impl::Keepalived {
        let bfd = std::env::temp_dir().join(format!("{}.bfd.pid", ka_tests::unique("bfd")));
        let bfd = bfd.to_string_lossy().to_string();
        return Daemon::start_with(ns, imp, config, &["-b", &bfd]);
    }
    Daemon::start(ns, imp, config)
}

/// The sync daemons running in `ns`, as `ipvsadm -L --daemon` lists them: role,
/// interface and sync id (e.g. "master mcast=eth0, syncid=9").
fn sync_daemons(ns: &Netns) -> Vec<String> {
    let out = ns.exec("ipvsadm", ["-L", "--daemon"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (role, rest) = l.split_once(" sync daemon (")?;
            let settings = rest.split(", maxlen").next().unwrap_or(rest);
            Some(format!("{role} {settings}"))
        })
        .collect()
}

fn wait_daemons(ns: &Netns, want: &[&str], what: &str) {
    let ok = wait_for(Duration::from_secs(40), || sync_daemons(ns) == want);
    assert!(
        ok,
        "{what}: sync daemons {:?}, expected {want:?}",
        sync_daemons(ns)
    );
}

/// The connections of `ns`'s IPVS table (`ipvsadm -Lnc`).
fn connections(ns: &Netns) -> String {
    String::from_utf8_lossy(&ns.exec("ipvsadm", ["-Lnc"]).stdout).into_owned()
}

/// A line echo server on the real server: every connection gets its lines back.
struct Echo {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Echo {
    fn start(ns: &Netns) -> Echo {
        let listener = ns.run(|| TcpListener::bind(("0.0.0.0", PORT)).unwrap());
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        std::thread::spawn(move || echo(conn));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Echo {
            stop,
            thread: Some(thread),
        }
    }
}

fn echo(conn: TcpStream) {
    let _ = conn.set_nonblocking(false);
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { return };
        if out.write_all(format!("{line}\n").as_bytes()).is_err() {
            return;
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Send `line` and read it back within `limit`: the echo, or what went wrong.
fn round_trip(conn: &mut BufReader<TcpStream>, line: &str, limit: Duration) -> Result<(), String> {
    conn.get_mut()
        .set_read_timeout(Some(limit))
        .map_err(|e| e.to_string())?;
    conn.get_mut()
        .write_all(format!("{line}\n").as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut back = String::new();
    match conn.read_line(&mut back) {
        Ok(0) => Err("closed by the other end".into()),
        Ok(_) if back.trim_end() == line => Ok(()),
        Ok(_) => Err(format!("read {back:?}, sent {line:?}")),
        Err(e) => Err(format!("read: {e}")),
    }
}

/// What one run showed.
struct Outcome {
    /// The connection carried a line after the failover.
    survived: Result<(), String>,
    /// The backup director's table listed the client's connection before the failover.
    synced: bool,
}

/// The scenario with `imp` as both directors; `sync`: with `lvs_sync_daemon`.
fn failover(imp: Impl, prefix: &str, sync: bool) -> Outcome {
    let lan = Lan::new(4, prefix);
    lan.wait_carrier();
    let (d1, d2, rs, client) = (&lan.hosts[0], &lan.hosts[1], &lan.hosts[2], &lan.hosts[3]);
    let vip = format!("{prefix}.100");
    // The real server takes the VIP's traffic without answering ARP for it (DR).
    rs.ip(["addr", "add", &format!("{vip}/32"), "dev", "lo"]);
    rs.ip(["link", "set", "lo", "up"]);
    for (k, v) in [("arp_ignore", "1"), ("arp_announce", "2")] {
        for dev in ["all", "eth0"] {
            rs.exec("sysctl", ["-qw", &format!("net.ipv4.conf.{dev}.{k}={v}")]);
        }
    }
    let _echo = Echo::start(rs);

    let mut m = start(d1, imp, &director(prefix, 1, 150, sync));
    let vip_addr = vip.parse().unwrap();
    assert!(
        wait_for(Duration::from_secs(30), || d1.has_addr(vip_addr)),
        "{}: director 1 never became MASTER\n{}",
        imp.name(),
        m.log()
    );
    let mut b = start(d2, imp, &director(prefix, 2, 100, sync));
    let rs_in = |ns: &Netns| {
        wait_for(Duration::from_secs(30), || {
            connections_or_table(ns).contains(&format!("{prefix}.3:{PORT}"))
        })
    };
    assert!(rs_in(d1), "{}: director 1 has no real server", imp.name());
    assert!(rs_in(d2), "{}: director 2 has no real server", imp.name());
    if sync {
        wait_daemons(d1, &["master mcast=eth0, syncid=9"], "MASTER director");
        wait_daemons(d2, &["backup mcast=eth0, syncid=9"], "BACKUP director");
    } else {
        assert_eq!(sync_daemons(d1), Vec::<String>::new());
    }

    // A connection through the MASTER, used a few times (the master syncs an
    // established connection after its third packet).
    let target = format!("{vip}:{PORT}");
    let stream = client
        .run(move || TcpStream::connect_timeout(&target.parse().unwrap(), Duration::from_secs(10)));
    let mut conn = BufReader::new(stream.unwrap_or_else(|e| panic!("connect: {e}")));
    for i in 0..6 {
        round_trip(&mut conn, &format!("before {i}"), Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{}: before the failover: {e}", imp.name()));
        std::thread::sleep(Duration::from_millis(100));
    }
    let client_addr = format!("{prefix}.4:");
    let synced = wait_for(Duration::from_secs(if sync { 15 } else { 3 }), || {
        connections(d2).contains(&client_addr)
    });

    // Failover: the MASTER stops (priority 0), director 2 takes over.
    assert!(m.stop(Duration::from_secs(20)), "{}: stop", imp.name());
    assert!(
        wait_for(Duration::from_secs(15), || d2.has_addr(vip_addr)),
        "{}: director 2 never became MASTER\n{}",
        imp.name(),
        b.log()
    );
    if sync {
        wait_daemons(d2, &["master mcast=eth0, syncid=9"], "new MASTER director");
        wait_daemons(d1, &[], "stopped director");
    }
    let survived = round_trip(&mut conn, "after", Duration::from_secs(15));
    eprintln!(
        "{} (lvs_sync_daemon {}): backup had the connection: {synced}; after the failover: {survived:?}",
        imp.name(),
        if sync { "on" } else { "off" }
    );
    assert!(b.stop(Duration::from_secs(20)), "{}: stop", imp.name());
    if sync {
        wait_daemons(d2, &[], "stopped director");
    }
    Outcome { survived, synced }
}

/// `ipvsadm -Ln` (the services and their real servers).
fn connections_or_table(ns: &Netns) -> String {
    String::from_utf8_lossy(&ns.exec("ipvsadm", ["-Ln"]).stdout).into_owned()
}

#[test]
fn connections_survive_a_failover_with_lvs_sync_daemon_like_keepalived() {
    if !require_ipvs_vm("connections_survive_a_failover_with_lvs_sync_daemon_like_keepalived") {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let theirs = failover(Impl::Keepalived, "10.61.1", true);
    assert!(
        theirs.synced,
        "keepalived: the backup never had the connection"
    );
    assert_eq!(theirs.survived, Ok(()), "keepalived: the connection died");
    let ours = failover(Impl::Ours, "10.61.2", true);
    assert!(
        ours.synced,
        "keepalived-rs: the backup never had the connection"
    );
    assert_eq!(ours.survived, Ok(()), "keepalived-rs: the connection died");
}

#[test]
fn without_lvs_sync_daemon_the_connection_dies_at_failover() {
    if !require_ipvs_vm("without_lvs_sync_daemon_the_connection_dies_at_failover") {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ours = failover(Impl::Ours, "10.61.3", false);
    assert!(
        !ours.synced,
        "no sync daemon, yet the backup had the connection"
    );
    assert!(
        ours.survived.is_err(),
        "without a sync daemon the connection was expected to die"
    );
}

/// On an interface without multicast (`lo`) the kernel starts no backup sync thread, and
/// the request that stops it never returns: the daemon is not started, with a message,
/// and the VRRP instance runs on. (Runs on any host: the check comes before IPVS.)
#[test]
fn no_sync_daemon_on_an_interface_without_multicast() {
    if !ka_tests::require_root("no_sync_daemon_on_an_interface_without_multicast") {
        return;
    }
    let lan = Lan::new(1, "10.61.4");
    lan.wait_carrier();
    let ns = &lan.hosts[0];
    let config =
        director("10.61.4", 1, 150, true).replace("lvs_sync_daemon eth0", "lvs_sync_daemon lo");
    let d = Daemon::start(ns, Impl::Ours, &config);
    let vip = "10.61.4.100".parse().unwrap();
    assert!(
        wait_for(Duration::from_secs(40), || ns.has_addr(vip)),
        "no MASTER\n{}",
        d.log()
    );
    assert!(
        d.log()
            .contains("lvs_sync_daemon: lo is missing or has no multicast: no sync daemon started"),
        "{}",
        d.log()
    );
}

/// An instance that goes MASTER within a fraction of a second of its start (VRRPv3 with
/// 100 ms adverts and nobody else on the LAN) right after the VRRP child started the backup
/// daemon: the switch to the master daemon waits until the backup daemon has settled (a
/// backup daemon stopped before its kernel thread has run can block the stop for good),
/// and a stop that comes right after a start waits for it too, then ends.
#[test]
fn a_quick_master_takes_the_master_daemon_once_the_backup_daemon_has_settled() {
    if !require_ipvs_vm("a_quick_master_takes_the_master_daemon_once_the_backup_daemon_has_settled")
    {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lan = Lan::new(1, "10.61.5");
    lan.wait_carrier();
    let ns = &lan.hosts[0];
    let config = director("10.61.5", 1, 150, true)
        .replace("    advert_int 1\n", "    version 3\n    advert_int 0.1\n");
    let mut d = Daemon::start(ns, Impl::Ours, &config);
    wait_daemons(ns, &["master mcast=eth0, syncid=9"], "quick master");
    assert!(
        d.log()
            .contains("(VI_1) lvs_sync_daemon: the backup sync daemon is"),
        "the switch was not put off\n{}",
        d.log()
    );
    assert!(d.stop(Duration::from_secs(15)), "no stop\n{}", d.log());
    wait_daemons(ns, &[], "after the stop");

    // A stop right after the start, while the instance is still BACKUP: the backup
    // daemon is younger than it may be when stopped.
    let mut d = Daemon::start(ns, Impl::Ours, &director("10.61.5", 1, 150, true));
    assert!(
        wait_for(Duration::from_secs(40), || !sync_daemons(ns).is_empty()),
        "no sync daemon\n{}",
        d.log()
    );
    let vrrp = d.vrrp_pid();
    assert!(d.stop(Duration::from_secs(15)), "no stop\n{}", d.log());
    if let Some(pid) = vrrp {
        let gone = || !std::path::Path::new(&format!("/proc/{pid}")).exists();
        assert!(
            wait_for(Duration::from_secs(10), gone),
            "the VRRP child is still there after the stop\n{}",
            d.log()
        );
    }
    wait_daemons(ns, &[], "after a stop right after the start");
}
