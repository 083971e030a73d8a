//! `auth_type AH` (VRRPv2 over IPv4, IPsec AH with an HMAC-MD5-96 ICV) against
//! keepalived 2.2.7 (and 2.4.3 when it is built) on the same LAN: each side accepts the
//! other's adverts whichever is master (one master, the VIP on it only, no authentication
//! failure counted), a graceful stop hands over (the sequence numbers carry on across
//! implementations), and with different keys both sides count authentication failures
//! and both become MASTER, as keepalived does.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ka_tests::daemon::{keepalived_243, pid_file_args, require_keepalived, Daemon, Impl};
use ka_tests::wait_for;
use ka_tests::{require_root, Lan, Netns};

const UP: Duration = Duration::from_secs(12);

fn conf(prio: u8, key: &str, vip: &str) -> String {
    // keepalived clears `state MASTER` with AH (and warns): BACKUP on both sides.
    format!(
        "global_defs {{\n  router_id ah\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 61\n  \
         priority {prio}\n  advert_int 1\n  authentication {{\n    auth_type AH\n    \
         auth_pass {key}\n  }}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

/// `keepalived.stats` written in `dir` after SIGUSR2 to `pid`, as "Section/Label" -> value
/// (keepalived's layout; ours writes the same).
fn stats_of(dir: &Path, pid: Option<i32>) -> BTreeMap<String, u64> {
    let path = dir.join("keepalived.stats");
    let _ = std::fs::remove_file(&path);
    if let Some(pid) = pid {
        let _ = Command::new("kill")
            .args(["-USR2", &pid.to_string()])
            .status();
    }
    let mut text = String::new();
    wait_for(Duration::from_secs(5), || {
        let t = std::fs::read_to_string(&path).unwrap_or_default();
        let done = !t.is_empty() && t == text;
        text = t;
        done
    });
    let mut out = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines() {
        let depth = line.len() - line.trim_start().len();
        let Some((label, value)) = line.trim().split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            section = label.to_string();
            continue;
        }
        let key = if depth >= 4 {
            format!("{section}/{label}")
        } else {
            label.to_string()
        };
        if let Ok(v) = value.parse() {
            out.insert(key, v);
        }
    }
    out
}

fn stats(d: &Daemon) -> BTreeMap<String, u64> {
    stats_of(&d.dir, d.pid())
}

fn get(s: &BTreeMap<String, u64>, key: &str) -> u64 {
    s.get(key).copied().unwrap_or(0)
}

const AUTH_FAILURE: &str = "Authentication Errors/Failure";
const RECEIVED: &str = "Advertisements/Received";

fn mastered(log: &str) -> usize {
    log.matches("Entering MASTER STATE").count()
}

fn ready(test: &str) -> bool {
    require_root(test) && require_keepalived(test)
}

/// `master` (priority 150) and `backup` (100), both with AH and the same key.
fn pair(master: Impl, backup: Impl, net: &str) {
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().expect("vip");
    let mut a = Daemon::start(
        &lan.hosts[0],
        master,
        &conf(150, "averylongpassword", &vip_s),
    );
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "no master\n{}",
        a.log()
    );
    let mut b = Daemon::start(
        &lan.hosts[1],
        backup,
        &conf(100, "averylongpassword", &vip_s),
    );
    // Several adverts go by: the backup stays backup, the VIP on the master only.
    std::thread::sleep(Duration::from_secs(5));
    assert!(!lan.hosts[1].has_addr(vip), "VIP on the backup too");
    assert!(lan.hosts[0].has_addr(vip), "VIP left the master");
    assert_eq!(mastered(&b.log()), 0, "backup went MASTER:\n{}", b.log());
    let (sa, sb) = (stats(&a), stats(&b));
    assert!(get(&sb, RECEIVED) >= 3, "backup accepted no advert: {sb:?}");
    assert_eq!(get(&sb, AUTH_FAILURE), 0, "backup: {sb:?}\n{}", b.log());
    assert_eq!(get(&sa, AUTH_FAILURE), 0, "master: {sa:?}\n{}", a.log());
    // Graceful stop: the priority-0 advert (AH) is accepted, the backup takes over at
    // once (Skew_Time, not Master_Down_Interval).
    assert!(a.stop(Duration::from_secs(5)));
    assert!(
        wait_for(Duration::from_secs(2), || lan.hosts[1].has_addr(vip)),
        "no quick takeover on stop\n{}",
        b.log()
    );
    // The master comes back with a fresh process: it takes the sequence number from the
    // backup's adverts and preempts; the backup accepts its adverts (higher numbers).
    let a2 = Daemon::start(
        &lan.hosts[0],
        master,
        &conf(150, "averylongpassword", &vip_s),
    );
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "restarted master did not preempt\n{}\n{}",
        a2.log(),
        b.log()
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !lan.hosts[1].has_addr(vip),
        "backup took the VIP again\n{}",
        b.log()
    );
    let (s2, sb) = (stats(&a2), stats(&b));
    assert_eq!(get(&sb, AUTH_FAILURE), 0, "backup: {sb:?}\n{}", b.log());
    assert_eq!(
        get(&s2, AUTH_FAILURE),
        0,
        "restarted master: {s2:?}\n{}",
        a2.log()
    );
    assert!(b.stop(Duration::from_secs(5)));
}

#[test]
fn ah_keepalived_master_ours_backup() {
    if !ready("ah_keepalived_master_ours_backup") {
        return;
    }
    pair(Impl::Keepalived, Impl::Ours, "10.93.1");
}

#[test]
fn ah_ours_master_keepalived_backup() {
    if !ready("ah_ours_master_keepalived_backup") {
        return;
    }
    pair(Impl::Ours, Impl::Keepalived, "10.93.2");
}

/// Different keys: neither accepts the other's adverts (each counts them as
/// authentication failures) and both become MASTER, keepalived's behaviour.
#[test]
fn ah_wrong_key_both_master() {
    if !ready("ah_wrong_key_both_master") {
        return;
    }
    let net = "10.93.3";
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().expect("vip");
    let a = Daemon::start(
        &lan.hosts[0],
        Impl::Keepalived,
        &conf(150, "key-one", &vip_s),
    );
    let b = Daemon::start(&lan.hosts[1], Impl::Ours, &conf(100, "key-two", &vip_s));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)
            && lan.hosts[1].has_addr(vip)),
        "not both MASTER\n{}\n{}",
        a.log(),
        b.log()
    );
    std::thread::sleep(Duration::from_secs(2));
    let (sa, sb) = (stats(&a), stats(&b));
    // keepalived 2.2.7 counts each of ours. Ours counts keepalived's, but keepalived
    // sends few: as MASTER it restarts its advert timer on every packet it reads, valid
    // or not, so ours (same interval) keep pushing its next advert back (two keepalived
    // 2.2.7 with different keys do the same to each other). Its first advert as MASTER
    // always goes out.
    assert!(get(&sa, AUTH_FAILURE) >= 2, "keepalived: {sa:?}");
    assert!(get(&sb, AUTH_FAILURE) >= 1, "ours: {sb:?}\n{}", b.log());
    assert!(
        !b.log().contains("sent 0 priority"),
        "ours logged priority-0 adverts it did not send\n{}",
        b.log()
    );
    assert_eq!(get(&sb, RECEIVED), 0, "ours accepted a bad advert: {sb:?}");
    assert!(mastered(&a.log()) >= 1 && mastered(&b.log()) >= 1);
}

/// keepalived 2.4.3 started in a namespace (SIGTERM, then SIGKILL, on drop).
struct Ka243 {
    child: Child,
    dir: PathBuf,
}

impl Ka243 {
    fn start(bin: &Path, ns: &Netns, config: &str) -> Ka243 {
        let dir = std::env::temp_dir().join(ka_tests::unique("ka243-ah"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {dir:?}: {e}"));
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, config).unwrap_or_else(|e| panic!("write {conf:?}: {e}"));
        let log = std::fs::File::create(dir.join("log")).unwrap_or_else(|e| panic!("log: {e}"));
        let log2 = log.try_clone().unwrap_or_else(|e| panic!("log: {e}"));
        let child = Command::new("ip")
            .args(["netns", "exec", ns.name()])
            .arg(bin)
            .args(["-n", "-l", "-D", "-f"])
            .arg(&conf)
            .args(pid_file_args(&dir))
            .env("TMPDIR", &dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        Ka243 { child, dir }
    }

    fn pid(&self) -> Option<i32> {
        i32::try_from(self.child.id()).ok()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Ka243 {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let gone = wait_for(Duration::from_secs(5), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        if !gone {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// keepalived 2.4.3 as master, ours as backup, then ours alone (2.4.3 stopped) takes over.
#[test]
fn ah_keepalived_243_pair() {
    if !require_root("ah_keepalived_243_pair") {
        return;
    }
    let Some(bin) = keepalived_243("ah_keepalived_243_pair") else {
        return;
    };
    let net = "10.93.4";
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().expect("vip");
    let a = Ka243::start(&bin, &lan.hosts[0], &conf(150, "pw243", &vip_s));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "no master\n{}",
        a.log()
    );
    let b = Daemon::start(&lan.hosts[1], Impl::Ours, &conf(100, "pw243", &vip_s));
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        !lan.hosts[1].has_addr(vip),
        "VIP on our backup too\n{}",
        b.log()
    );
    assert_eq!(mastered(&b.log()), 0, "ours went MASTER:\n{}", b.log());
    let (sa, sb) = (stats_of(&a.dir, a.pid()), stats(&b));
    assert!(get(&sb, RECEIVED) >= 3, "ours accepted no advert: {sb:?}");
    assert_eq!(get(&sb, AUTH_FAILURE), 0, "ours: {sb:?}");
    assert_eq!(get(&sa, AUTH_FAILURE), 0, "2.4.3: {sa:?}\n{}", a.log());
    drop(a);
    assert!(
        wait_for(Duration::from_secs(4), || lan.hosts[1].has_addr(vip)),
        "no takeover when 2.4.3 stopped\n{}",
        b.log()
    );
}

/// Unicast (`unicast_src_ip` / `unicast_peer`) with AH: keepalived 2.2.7 master, ours
/// backup, then ours master after keepalived stops; each accepts the other's adverts.
#[test]
fn ah_unicast_with_keepalived() {
    if !ready("ah_unicast_with_keepalived") {
        return;
    }
    let net = "10.93.5";
    let lan = Lan::new(2, net);
    lan.wait_carrier();
    let vip_s = format!("{net}.100");
    let vip: IpAddr = vip_s.parse().expect("vip");
    let unicast = |prio: u8, me: usize| {
        let c = conf(prio, "uni-key", &vip_s);
        let peer = lan.addr(1 - me);
        c.replace(
            "  advert_int 1\n",
            &format!(
                "  advert_int 1\n  unicast_src_ip {}\n  unicast_peer {{\n    {peer}\n  }}\n",
                lan.addr(me)
            ),
        )
    };
    let mut a = Daemon::start(&lan.hosts[0], Impl::Keepalived, &unicast(150, 0));
    assert!(
        wait_for(UP, || lan.hosts[0].has_addr(vip)),
        "no master\n{}",
        a.log()
    );
    let b = Daemon::start(&lan.hosts[1], Impl::Ours, &unicast(100, 1));
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        !lan.hosts[1].has_addr(vip),
        "VIP on our backup too\n{}",
        b.log()
    );
    assert_eq!(mastered(&b.log()), 0, "ours went MASTER:\n{}", b.log());
    let sb = stats(&b);
    assert!(get(&sb, RECEIVED) >= 3, "ours accepted no advert: {sb:?}");
    assert_eq!(get(&sb, AUTH_FAILURE), 0, "ours: {sb:?}");
    assert!(a.stop(Duration::from_secs(5)));
    assert!(
        wait_for(Duration::from_secs(2), || lan.hosts[1].has_addr(vip)),
        "no quick takeover on stop\n{}",
        b.log()
    );
    // keepalived back as a backup (priority 50): ours stays master, keepalived accepts.
    let k = Daemon::start(&lan.hosts[0], Impl::Keepalived, &unicast(50, 0));
    std::thread::sleep(Duration::from_secs(6));
    assert!(lan.hosts[1].has_addr(vip), "ours lost the VIP\n{}", b.log());
    assert!(
        !lan.hosts[0].has_addr(vip),
        "VIP on keepalived too\n{}",
        k.log()
    );
    let sk = stats(&k);
    assert!(
        get(&sk, RECEIVED) >= 3,
        "keepalived accepted no advert: {sk:?}"
    );
    assert_eq!(get(&sk, AUTH_FAILURE), 0, "keepalived: {sk:?}\n{}", k.log());
}
