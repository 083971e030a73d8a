//! The child body on a real network, in-process: each "host" is a network namespace and
//! the body runs on a thread that entered it, talking to the test over a real IPC
//! channel as the parent would. (The end-to-end tests with the binary are in
//! `tests/tests/`.)

use super::{run, Options};
use ka_proto::config::{Config, IpPrefix, VirtualIpAddress, VrrpInstance};
use ka_proto::ipc::vrrp::{self, FromVrrp, ToVrrp};
use ka_proto::ipc::VrrpState;
use ka_proto::ipc::{Hello, InstanceSnapshot, Role, RunFlags};
use ka_tests::daemon::wait_until;
use ka_tests::{require_root, Lan, Netns};
use std::fs::File;
use std::net::IpAddr;

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

struct Node {
    tx: vrrp::ParentEnd,
    states: mpsc::Receiver<FromVrrp>,
    thread: Option<JoinHandle<i32>>,
    reader: Option<JoinHandle<()>>,
}

impl Node {
    fn start(ns: &Netns, cfg: Config, resume: Vec<InstanceSnapshot>) -> Node {
        Node::start_with(ns, cfg, resume, false)
    }

    /// `crashable`: closing the channel ([`Node::crash`]) ends the child as a SIGKILL
    /// would, without its shutdown.
    fn start_with(ns: &Netns, cfg: Config, resume: Vec<InstanceSnapshot>, crashable: bool) -> Node {
        Node::start_opts(ns, cfg, resume, crashable, false)
    }

    /// `poll_procs`: `track_process` scans /proc instead of using the process connector.
    fn start_opts(
        ns: &Netns,
        cfg: Config,
        resume: Vec<InstanceSnapshot>,
        crashable: bool,
        poll_procs: bool,
    ) -> Node {
        let (mut parent, child) = vrrp::pair().expect("socketpair");
        let file = File::open(format!("/run/netns/{}", ns.name())).expect("netns");
        let thread = std::thread::spawn(move || {
            // Affects only this new thread.
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let options = Options {
                crash_on_lost_parent: crashable,
                force_proc_poll: poll_procs,
                ..Options::default()
            };
            run(child, options)
        });
        let hello: FromVrrp = parent.recv().expect("hello").expect("hello");
        assert!(matches!(hello, FromVrrp::Hello(_)));
        parent
            .send(&ToVrrp::Hello(Hello::new(Role::Vrrp)))
            .expect("send");
        if !resume.is_empty() {
            parent.send(&ToVrrp::Resume(resume)).expect("send");
        }
        parent
            .send(&ToVrrp::Start {
                config: Box::new(cfg),
                flags: RunFlags::default(),
            })
            .expect("send");
        let mut reader_end = vrrp::ParentEnd::new(parent.socket().try_clone().expect("dup"));
        let (stx, states) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            while let Ok(Some(m)) = reader_end.recv() {
                if stx.send(m).is_err() {
                    break;
                }
            }
        });
        Node {
            tx: parent,
            states,
            thread: Some(thread),
            reader: Some(reader),
        }
    }

    fn stop(&mut self) -> i32 {
        let _ = self.tx.send(&ToVrrp::Stop);
        let code = self
            .thread
            .take()
            .map(|t| t.join().expect("child thread"))
            .unwrap_or(0);
        let _ = self.tx.socket().shutdown(std::net::Shutdown::Both);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        code
    }

    /// Close the channel under a crashable child: it ends with no priority-0 advert and
    /// its VIPs left in place, as after a SIGKILL. Returns its exit code.
    fn crash(&mut self) -> i32 {
        let _ = self.tx.socket().shutdown(std::net::Shutdown::Both);
        let code = self
            .thread
            .take()
            .map(|t| t.join().expect("child thread"))
            .unwrap_or(0);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        code
    }

    fn messages(&self) -> Vec<FromVrrp> {
        self.states.try_iter().collect()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
        }
    }
}

fn config(prio: u8, vip: &str, v6: bool) -> Config {
    let mut cfg = Config::default();
    let mut vi = VrrpInstance {
        name: "VI_1".into(),
        interface: Some("eth0".into()),
        virtual_router_id: 51,
        priority: prio,
        ipv6: v6,
        version: if v6 { 3 } else { 2 },
        ..VrrpInstance::default()
    };
    vi.virtual_ipaddress
        .push(VirtualIpAddress::new(IpPrefix::parse(vip).expect("vip")));
    cfg.vrrp_instances.push(vi);
    cfg
}

const UP: Duration = Duration::from_secs(10);

fn ip(s: &str) -> IpAddr {
    s.parse().expect("literal")
}

/// A VRRP child at priority 150 on the first host of `lan` and one at 100 on the second,
/// both with the VIP `cidr`, once the first holds the VIP.
fn a_master_b_backup(lan: &Lan, cidr: &str) -> (Node, Node) {
    let a = Node::start(&lan.hosts[0], config(150, cidr, false), vec![]);
    let b = Node::start(&lan.hosts[1], config(100, cidr, false), vec![]);
    let vip = cidr.split('/').next().map(ip).expect("a VIP");
    assert!(wait_until(UP, || lan.hosts[0].has_addr(vip)), "no master");
    (a, b)
}

#[test]
fn two_children_elect_one_master_and_fail_over() {
    if !require_root("two_children_elect_one_master_and_fail_over") {
        return;
    }
    let lan = Lan::new(2, "10.93.1");
    let vip = ip("10.93.1.100");
    let (mut a, mut b) = a_master_b_backup(&lan, "10.93.1.100/24");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!lan.hosts[1].has_addr(vip), "VIP on both");
    let msgs = a.messages();
    assert!(msgs.contains(&FromVrrp::Ready));
    assert!(
        msgs.iter().any(|m| matches!(m, FromVrrp::InstanceState(s) if s.state == VrrpState::Master && s.addresses_installed)),
        "{msgs:?}"
    );
    // Graceful stop: priority 0, VIP released, backup takes over within ~skew time.
    assert_eq!(a.stop(), 0);
    assert!(!lan.hosts[0].has_addr(vip), "stopped master kept its VIP");
    assert!(
        wait_until(Duration::from_secs(3), || lan.hosts[1].has_addr(vip)),
        "backup did not take over"
    );
    // The higher priority comes back and preempts.
    let _a2 = Node::start(&lan.hosts[0], config(150, "10.93.1.100/24", false), vec![]);
    assert!(
        wait_until(UP, || lan.hosts[0].has_addr(vip)
            && !lan.hosts[1].has_addr(vip)),
        "no preemption"
    );
    assert_eq!(b.stop(), 0);
}

#[test]
fn resumed_master_keeps_its_vip_and_silences_the_backup() {
    if !require_root("resumed_master_keeps_its_vip_and_silences_the_backup") {
        return;
    }
    let lan = Lan::new(2, "10.93.2");
    let vip = ip("10.93.2.100");
    let mut a = Node::start_with(
        &lan.hosts[0],
        config(150, "10.93.2.100/24", false),
        vec![],
        true,
    );
    let b = Node::start(&lan.hosts[1], config(100, "10.93.2.100/24", false), vec![]);
    assert!(wait_until(UP, || lan.hosts[0].has_addr(vip)), "no master");
    // The state report follows the address install: wait for it too.
    let mut snap = None;
    let reported = wait_until(UP, || {
        snap = a
            .messages()
            .into_iter()
            .rev()
            .find_map(|m| match m {
                FromVrrp::InstanceState(s) if s.state == VrrpState::Master => Some(s),
                _ => None,
            })
            .or(snap.take());
        snap.is_some()
    });
    assert!(reported, "no MASTER report");
    let snap = snap.expect("checked");
    // A real crash: no priority-0 advert, the VIP stays; then resume at once (as the
    // parent's respawn does).
    assert_ne!(a.crash(), 0, "the crash went through the clean shutdown");
    assert!(lan.hosts[0].has_addr(vip), "the crash removed the VIP");
    let _a2 = Node::start(
        &lan.hosts[0],
        config(150, "10.93.2.100/24", false),
        vec![snap],
    );
    std::thread::sleep(Duration::from_secs(4));
    assert!(lan.hosts[0].has_addr(vip), "resumed master lost the VIP");
    assert!(!lan.hosts[1].has_addr(vip), "backup took over");
    let became_master = b
        .messages()
        .into_iter()
        .any(|m| matches!(m, FromVrrp::InstanceState(s) if s.state == VrrpState::Master));
    assert!(!became_master, "the backup went MASTER during the crash");
}

#[test]
fn ipv6_v3_pair() {
    if !require_root("ipv6_v3_pair") {
        return;
    }
    let lan = Lan::new(2, "10.93.3");
    for h in &lan.hosts {
        // Link-local addresses must leave DAD before they can source adverts.
        h.exec("sysctl", ["-qw", "net.ipv6.conf.eth0.accept_dad=0"]);
        h.ip(["link", "set", "eth0", "down"]);
        h.ip(["link", "set", "eth0", "up"]);
    }
    let vip = ip("fd00:93:3::100");
    let _a = Node::start(
        &lan.hosts[0],
        config(150, "fd00:93:3::100/64", true),
        vec![],
    );
    let _b = Node::start(
        &lan.hosts[1],
        config(100, "fd00:93:3::100/64", true),
        vec![],
    );
    assert!(
        wait_until(UP, || lan.hosts[0].has_addr(vip)),
        "no IPv6 master"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(!lan.hosts[1].has_addr(vip), "IPv6 VIP on both");
}

#[test]
fn static_addresses_live_with_the_child() {
    if !require_root("static_addresses_live_with_the_child") {
        return;
    }
    let lan = Lan::new(1, "10.93.4");
    let mut cfg = config(150, "10.93.4.100/24", false);
    let mut st = VirtualIpAddress::new(IpPrefix::parse("10.93.4.50/24").expect("prefix"));
    st.dev = Some("eth0".into());
    cfg.static_ipaddress.push(st);
    let mut a = Node::start(&lan.hosts[0], cfg, vec![]);
    let sa = ip("10.93.4.50");
    assert!(
        wait_until(UP, || lan.hosts[0].has_addr(sa)),
        "static address not added"
    );
    assert_eq!(a.stop(), 0);
    assert!(!lan.hosts[0].has_addr(sa), "static address left after stop");
}

#[test]
fn track_process_by_polling_faults_and_recovers() {
    if !require_root("track_process_by_polling_faults_and_recovers") {
        return;
    }
    let lan = Lan::new(1, "10.93.5");
    let dir = std::env::temp_dir().join(ka_tests::unique("tpp"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let name = format!("kp{}", std::process::id() % 100_000);
    let path = dir.join(&name);
    std::fs::copy("/bin/sleep", &path).expect("copy sleep");
    let start = || {
        ka_tests::Guard(
            std::process::Command::new(&path)
                .arg("1000")
                .spawn()
                .expect("run"),
        )
    };
    let mut cfg = config(150, "10.93.5.100/24", false);
    cfg.track_processes.push(ka_proto::config::TrackProcess {
        name: "TP".into(),
        process: vec![name.clone()],
        ..Default::default()
    });
    cfg.vrrp_instances[0]
        .track_process
        .push(ka_proto::config::TrackRef {
            name: "TP".into(),
            ..Default::default()
        });
    let vip = ip("10.93.5.100");
    let running = start();
    let _a = Node::start_opts(&lan.hosts[0], cfg, vec![], false, true);
    assert!(wait_until(UP, || lan.hosts[0].has_addr(vip)), "no master");
    drop(running);
    assert!(
        wait_until(Duration::from_secs(4), || !lan.hosts[0].has_addr(vip)),
        "VIP kept without the process"
    );
    let _running = start();
    assert!(
        wait_until(UP, || lan.hosts[0].has_addr(vip)),
        "VIP not back with the process"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `Stop` sent right behind `Start` (a SIGTERM that lands just after a respawn) arrives
/// in the same read as `Start`: the child must act on it, not wait for a readable event
/// that never comes (it used to run on until the parent's `child_wait_time` killed it).
#[test]
fn stop_read_together_with_start_is_obeyed() {
    if !require_root("stop_read_together_with_start_is_obeyed") {
        return;
    }
    let lan = Lan::new(1, "10.93.9");
    let (mut parent, child) = vrrp::pair().expect("socketpair");
    // Everything the parent says is in the socket before the child reads a byte.
    parent
        .send(&ToVrrp::Hello(Hello::new(Role::Vrrp)))
        .expect("send");
    parent
        .send(&ToVrrp::Start {
            config: Box::new(config(150, "10.93.9.100/24", false)),
            flags: RunFlags::default(),
        })
        .expect("send");
    parent.send(&ToVrrp::Stop).expect("send");
    let file = File::open(format!("/run/netns/{}", lan.hosts[0].name())).expect("netns");
    let (done_tx, done) = mpsc::channel();
    let _thread = std::thread::spawn(move || {
        // Affects only this new thread.
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let _ = done_tx.send(run(child, Options::default()));
    });
    let code = done.recv_timeout(Duration::from_secs(5));
    // Unblock a child that missed the Stop so the thread ends either way.
    let _ = parent.socket().shutdown(std::net::Shutdown::Both);
    assert_eq!(
        code,
        Ok(0),
        "the Stop behind Start was not obeyed within 5 s"
    );
    assert!(!lan.hosts[0].has_addr(ip("10.93.9.100")), "VIP left behind");
}

/// The sending socket (one per interface and source address, opened ahead of a takeover)
/// is bound to its source address, so the kernel does not hand it (a clone of) every advert
/// the group receives only for its filter to drop it: of the host's VRRP raw sockets, only
/// the receiving one is unbound.
#[test]
fn the_sending_socket_is_bound_and_hears_no_adverts() {
    if !require_root("the_sending_socket_is_bound_and_hears_no_adverts") {
        return;
    }
    let lan = Lan::new(2, "10.93.7");
    let (mut a, mut b) = a_master_b_backup(&lan, "10.93.7.100/24");
    // (local address, receive queue) of the VRRP raw sockets (protocol 112 = 0x70).
    let raw =
        String::from_utf8_lossy(&lan.hosts[1].exec("cat", ["/proc/net/raw"]).stdout).to_string();
    let socks: Vec<(String, String)> = raw
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let local = f.get(1)?;
            local
                .ends_with(":0070")
                .then(|| (local.to_string(), f.get(4).map_or("", |q| *q).to_string()))
        })
        .collect();
    // 10.93.7.2 as the kernel prints it (the address's bytes in host order).
    let own = format!("{:08X}:0070", u32::from_ne_bytes([10, 93, 7, 2]));
    let unbound = socks.iter().filter(|s| s.0 == "00000000:0070").count();
    let bound = socks.iter().filter(|s| s.0 == own).count();
    assert_eq!((unbound, bound), (1, 1), "{socks:?}");
    assert_eq!(b.stop(), 0);
    assert_eq!(a.stop(), 0);
}

/// Issue 12 (typed plans): a VIP with options, routes into a table given by number and by
/// name, and rules with a fwmark, a table and a non-table action go from the text through
/// the typed plan to the kernel while MASTER (nothing parsed again at takeover), and are
/// removed when the child stops.
#[test]
fn typed_vips_routes_and_rules_reach_the_kernel() {
    if !require_root("typed_vips_routes_and_rules_reach_the_kernel") {
        return;
    }
    let lan = Lan::new(1, "10.93.6");
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 56\n priority 150\n advert_int 1\n virtual_ipaddress {\n  10.93.6.100/24 brd 10.93.6.255 label eth0:vip\n  10.93.7.100/24 brd + dev eth0\n  10.93.8.100/24 brd - dev eth0\n }\n virtual_routes {\n  10.93.60.0/24 dev eth0 table 100\n  blackhole 10.93.61.0/24 table main no_track\n  10.93.63.0/24 via 10.93.6.253 or 10.93.6.254 dev eth0 table 100\n }\n virtual_rules {\n  from 10.93.6.0/24 fwmark 0x10/0xff lookup 100 priority 1000\n  from 10.93.62.0/24 prohibit priority 1001\n }\n}\n";
    let dir = ka_tests::TempDir::new("typed-plan");
    let path = dir.path().join("keepalived.conf");
    std::fs::write(&path, text).expect("write config");
    let opts = crate::conf::LoadOptions {
        config_id: "n".into(),
        instance: None,
    };
    let loaded = crate::conf::load_with(&path, &opts, false, false).expect("config loads");
    // Only keepalived's deprecation warning for `or`.
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.message.contains("\"or\" for routes is deprecated")),
        "{:?}",
        loaded.diagnostics
    );
    let ns = &lan.hosts[0];
    let show = |args: &[&str]| String::from_utf8_lossy(&ns.ip(args).stdout).into_owned();
    let installed = || {
        (
            show(&["-o", "-4", "addr", "show", "dev", "eth0"]),
            show(&["route", "show", "table", "100"]),
            show(&["route", "show", "table", "main"]),
            show(&["rule", "show"]),
        )
    };
    let mut a = Node::start(ns, loaded.config, vec![]);
    let vip = ip("10.93.6.100");
    assert!(wait_until(UP, || ns.has_addr(vip)), "VIP not added");
    let (addrs, t100, main, rules) = installed();
    // `brd +` / `brd -`: the host bits set / cleared, as keepalived 2.2.7 installs them.
    assert!(addrs.contains("10.93.7.100/24 brd 10.93.7.255"), "{addrs}");
    assert!(addrs.contains("10.93.8.100/24 brd 10.93.8.0"), "{addrs}");
    // `via A or B`: one route over both gateways.
    assert!(
        t100.contains("10.93.63.0/24")
            && t100.contains("nexthop via 10.93.6.253 dev eth0")
            && t100.contains("nexthop via 10.93.6.254 dev eth0"),
        "{t100}"
    );
    let vip_line = addrs
        .lines()
        .find(|l| l.contains("10.93.6.100/24"))
        .unwrap_or_default();
    assert!(
        vip_line.contains("brd 10.93.6.255") && vip_line.contains("eth0:vip"),
        "{addrs}"
    );
    assert!(t100.contains("10.93.60.0/24 dev eth0"), "{t100}");
    assert!(main.contains("blackhole 10.93.61.0/24"), "{main}");
    assert!(
        rules.contains("1000:\tfrom 10.93.6.0/24 fwmark 0x10/0xff lookup 100"),
        "{rules}"
    );
    assert!(
        rules.contains("1001:\tfrom 10.93.62.0/24 prohibit"),
        "{rules}"
    );
    assert_eq!(a.stop(), 0);
    let (addrs, t100, main, rules) = installed();
    assert!(
        !addrs.contains("10.93.6.100") && !addrs.contains("10.93.7.100"),
        "{addrs}"
    );
    assert!(
        !t100.contains("10.93.60.0/24") && !t100.contains("10.93.63.0/24"),
        "{t100}"
    );
    assert!(!main.contains("10.93.61.0/24"), "{main}");
    assert!(
        !rules.contains("1000:") && !rules.contains("1001:"),
        "{rules}"
    );
}
