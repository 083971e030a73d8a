//! Every client operation against a live IPVS kernel, checked against `ipvsadm`.
//!
//! IPVS is not in this machine's kernel: these tests run inside the VM booted by
//! `cargo xtask test vm`, which sets `KA_IPVS_VM=1` (then they must pass; elsewhere they
//! skip). Each test works in its own network namespace (IPVS tables are per namespace),
//! and compares our table with one that `ipvsadm -R` builds from the same commands in a
//! second namespace.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use ipvs_sys::*;
use ka_tests::Netns;
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command as Cmd, Stdio};

use ka_tests::require_ipvs_vm as live;

fn client_in(ns: &Netns) -> Client {
    ns.run(|| Client::new().expect("IPVS family (is ip_vs loaded?)"))
}

/// For test `test` in the VM: a namespace of its own (`tag`) and a client in it; `None`
/// (the test skips) elsewhere.
fn live_client(test: &str, tag: &str) -> Option<(Netns, Client)> {
    live(test).then(|| {
        let ns = Netns::new(tag);
        let c = client_in(&ns);
        (ns, c)
    })
}

/// `ipvsadm -Sn` in `ns`, lines sorted (ipvsadm lists in hash order).
fn dump(ns: &Netns) -> Vec<String> {
    ka_tests::lvs::sorted_lines(&ns.exec("ipvsadm", ["-Sn"]).stdout)
}

fn ipvsadm_restore(ns: &Netns, script: &str) {
    let mut child = ns
        .command("ipvsadm")
        .arg("-R")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let st = child.wait().unwrap();
    assert!(st.success(), "ipvsadm -R failed on:\n{script}");
}

fn ipvsadm(ns: &Netns, args: &[&str]) -> String {
    String::from_utf8_lossy(&ns.exec("ipvsadm", args).stdout).into_owned()
}

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: addr.parse().unwrap(),
        port,
    }
}

/// The same table, once through our client and once through `ipvsadm -R`.
struct Twin {
    ours: Netns,
    theirs: Netns,
    c: Client,
}

impl Twin {
    fn new() -> Twin {
        let ours = Netns::new("ipo");
        let theirs = Netns::new("ipt");
        let c = client_in(&ours);
        Twin { ours, theirs, c }
    }

    /// Run `ops` with our client and `script` with ipvsadm, then compare the dumps.
    fn step(&mut self, ops: &[Op], script: &str) {
        for (op, r) in ops.iter().zip(self.c.apply(ops)) {
            r.unwrap_or_else(|e| panic!("{op:?}: {e}"));
        }
        ipvsadm_restore(&self.theirs, script);
        let (a, b) = (dump(&self.ours), dump(&self.theirs));
        assert_eq!(
            a, b,
            "ours (left) and ipvsadm's (right) differ after:\n{script}"
        );
    }
}

#[test]
fn info_and_empty_table() {
    let Some((ns, mut c)) = live_client("info_and_empty_table", "ipi") else {
        return;
    };
    let i = c.info().unwrap();
    assert!(i.version_triple() >= (1, 2, 0), "{i:?}");
    assert!(i.conn_tab_size > 0);
    let head = ipvsadm(&ns, &["-Ln"]);
    let (a, b, p) = i.version_triple();
    assert!(
        head.contains(&format!("version {a}.{b}.{p} (size={})", i.conn_tab_size)),
        "{head}"
    );
    assert!(c.services().unwrap().is_empty());
    assert!(dump(&ns).is_empty());
}

#[test]
fn services_and_destinations_match_ipvsadm() {
    if !live("services_and_destinations_match_ipvsadm") {
        return;
    }
    let mut t = Twin::new();

    // Services of every kind.
    let mut s_tcp = Service::new(tcp("10.1.0.1", 80));
    s_tcp.scheduler = "rr".into();
    let mut s_udp = Service::new(ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: v4("10.1.0.2"),
        port: 53,
    });
    s_udp.flags = Flags::PERSISTENT | Flags::ONEPACKET;
    s_udp.timeout = 300;
    s_udp.netmask = Service::netmask_v4("255.255.255.0".parse().unwrap());
    let mut s_sctp = Service::new(ServiceKey::Addr {
        protocol: Protocol::Sctp,
        addr: v4("10.1.0.3"),
        port: 3868,
    });
    s_sctp.scheduler = "lc".into();
    let mut s_fw = Service::new(ServiceKey::Fwmark {
        family: Family::Inet,
        mark: 7,
    });
    s_fw.scheduler = "sh".into();
    s_fw.flags = Flags::SCHED1 | Flags::SCHED2;
    let mut s_v6 = Service::new(ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "2001:db8::1".parse().unwrap(),
        port: 443,
    });
    s_v6.flags = Flags::PERSISTENT;
    s_v6.timeout = 60;
    s_v6.netmask = 64;
    let mut s_fw6 = Service::new(ServiceKey::Fwmark {
        family: Family::Inet6,
        mark: 8,
    });
    s_fw6.scheduler = "wrr".into();

    let services = [&s_tcp, &s_udp, &s_sctp, &s_fw, &s_v6, &s_fw6];
    let ops: Vec<Op> = services
        .iter()
        .map(|s| Op::AddService((*s).clone()))
        .collect();
    t.step(
        &ops,
        "-A -t 10.1.0.1:80 -s rr\n\
         -A -u 10.1.0.2:53 -s wlc -p 300 -M 255.255.255.0 -o\n\
         -A --sctp-service 10.1.0.3:3868 -s lc\n\
         -A -f 7 -s sh -b sh-fallback,sh-port\n\
         -A -t [2001:db8::1]:443 -s wlc -p 60 -M 64\n\
         -A -f 8 -6 -s wrr\n",
    );

    // Our decoder reads back what we wrote.
    let mut listed = t.c.services().unwrap();
    listed.sort_by_key(|s| s.key);
    let mut want: Vec<Service> = services.iter().map(|s| (*s).clone()).collect();
    want.sort_by_key(|s| s.key);
    for (l, w) in listed.iter().zip(&want) {
        assert_eq!(l.key, w.key);
        assert_eq!(l.scheduler, w.scheduler);
        assert_eq!(l.flags.0 & !Flags::HASHED.0, w.flags.0, "{:?}", l.key);
        assert_eq!(
            (l.timeout, l.netmask),
            (w.timeout, w.netmask),
            "{:?}",
            l.key
        );
        assert!(l.stats.is_some());
    }
    assert_eq!(t.c.service(&s_udp.key).unwrap().timeout, 300);

    // Destinations: NAT, DR, TUN (ipip, gue with csum), thresholds, v6.
    let mut d1 = Destination::new(v4("192.168.1.1"), 8080, ForwardMethod::Masq);
    d1.weight = 3;
    let mut d2 = Destination::new(v4("192.168.1.2"), 8080, ForwardMethod::Masq);
    d2.u_threshold = 100;
    d2.l_threshold = 10;
    let d3 = Destination::new(v4("192.168.1.3"), 53, ForwardMethod::Route);
    let mut d4 = Destination::new(v4("192.168.1.4"), 3868, ForwardMethod::Tunnel);
    d4.weight = 0;
    let mut d5 = Destination::new(v4("192.168.1.5"), 0, ForwardMethod::Tunnel);
    d5.tun_type = Some(TunnelType::Gue);
    d5.tun_port = Some(6080);
    d5.tun_flags = Some(tun_flags::CSUM);
    let d6 = Destination::new("2001:db8::10".parse().unwrap(), 443, ForwardMethod::Masq);
    let d7 = Destination::new("2001:db8::11".parse().unwrap(), 0, ForwardMethod::Route);
    let ops = vec![
        Op::AddDest(s_tcp.key, d1.clone()),
        Op::AddDest(s_tcp.key, d2.clone()),
        Op::AddDest(s_udp.key, d3.clone()),
        Op::AddDest(s_sctp.key, d4.clone()),
        Op::AddDest(s_fw.key, d5.clone()),
        Op::AddDest(s_v6.key, d6.clone()),
        Op::AddDest(s_fw6.key, d7.clone()),
    ];
    t.step(
        &ops,
        "-a -t 10.1.0.1:80 -r 192.168.1.1:8080 -m -w 3\n\
         -a -t 10.1.0.1:80 -r 192.168.1.2:8080 -m -w 1 -x 100 -y 10\n\
         -a -u 10.1.0.2:53 -r 192.168.1.3:53 -g -w 1\n\
         -a --sctp-service 10.1.0.3:3868 -r 192.168.1.4:3868 -i -w 0\n\
         -a -f 7 -r 192.168.1.5:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n\
         -a -t [2001:db8::1]:443 -r [2001:db8::10]:443 -m -w 1\n\
         -a -f 8 -6 -r [2001:db8::11]:0 -g -w 1\n",
    );
    let back = t.c.destinations(&s_tcp.key).unwrap();
    assert_eq!(back.len(), 2);
    let b2 = back.iter().find(|d| d.addr == d2.addr).unwrap();
    assert_eq!((b2.u_threshold, b2.l_threshold, b2.weight), (100, 10, 1));
    assert_eq!(b2.active_conns, Some(0));
    let b5 = t.c.destinations(&s_fw.key).unwrap();
    assert_eq!(b5[0].tun_type, Some(TunnelType::Gue));
    assert_eq!(b5[0].tun_port, Some(6080));
    let b6 = t.c.destinations(&s_v6.key).unwrap();
    assert_eq!(b6[0].addr, d6.addr);

    // Edits: scheduler and persistence of a service, weight and threshold of a
    // destination (ipvsadm forces a DR destination's port to the service's, so the
    // method stays).
    let mut e_tcp = s_tcp.clone();
    e_tcp.scheduler = "wrr".into();
    e_tcp.flags = Flags::PERSISTENT;
    e_tcp.timeout = 120;
    let mut e1 = d1.clone();
    e1.weight = 9;
    e1.u_threshold = 50;
    t.step(
        &[Op::EditService(e_tcp), Op::EditDest(s_tcp.key, e1)],
        "-E -t 10.1.0.1:80 -s wrr -p 120\n\
         -e -t 10.1.0.1:80 -r 192.168.1.1:8080 -m -w 9 -x 50\n",
    );

    // Deletes.
    t.step(
        &[
            Op::DelDest(s_tcp.key, d2.key()),
            Op::DelService(s_sctp.key),
            Op::DelDest(s_fw6.key, d7.key()),
        ],
        "-d -t 10.1.0.1:80 -r 192.168.1.2:8080\n\
         -D --sctp-service 10.1.0.3:3868\n\
         -d -f 8 -6 -r [2001:db8::11]:0\n",
    );

    // Zero, then flush.
    t.c.zero(None).unwrap();
    t.c.zero(Some(&s_udp.key)).unwrap();
    t.c.flush().unwrap();
    assert!(dump(&t.ours).is_empty());
}

#[test]
fn kernel_errors_say_what_failed_and_why() {
    let Some((ns, mut c)) = live_client("kernel_errors_say_what_failed_and_why", "ipe") else {
        return;
    };
    let k = tcp("10.2.0.1", 80);
    c.add_service(&Service::new(k)).unwrap();

    let e = c.add_service(&Service::new(k)).unwrap_err();
    assert_eq!(e.errno(), Some(Errno(libc::EEXIST)), "{e}");
    assert_eq!(e.operation(), Operation::AddService);
    assert_eq!(
        e.to_string(),
        format!(
            "add service TCP 10.2.0.1:80: service already exists (errno {})",
            libc::EEXIST
        )
    );

    let missing = tcp("10.2.0.9", 80);
    let d = Destination::new(v4("192.168.2.1"), 80, ForwardMethod::Masq);
    let e = c.add_dest(&missing, &d).unwrap_err();
    assert_eq!(e.errno(), Some(Errno(libc::ESRCH)), "{e}");
    assert!(e.to_string().contains("no such service"), "{e}");
    assert!(
        e.to_string().contains("TCP 10.2.0.9:80 -> 192.168.2.1:80"),
        "{e}"
    );

    let e = c.del_dest(&k, &d.key()).unwrap_err();
    assert_eq!(e.errno(), Some(Errno(libc::ENOENT)), "{e}");
    assert!(e.to_string().contains("no such destination"), "{e}");

    let mut bad = Service::new(tcp("10.2.0.2", 80));
    bad.scheduler = "nosuchsched".into();
    let e = c.add_service(&bad).unwrap_err();
    assert_eq!(e.errno(), Some(Errno(libc::ENOENT)), "{e}");
    assert!(e.to_string().contains("scheduler"), "{e}");

    let e = c.del_service(&missing).unwrap_err();
    assert_eq!(e.errno(), Some(Errno(libc::ESRCH)), "{e}");
    let e = c.service(&missing).unwrap_err();
    assert_eq!(e.errno(), Some(Errno(libc::ESRCH)), "{e}");
    assert!(c.destinations(&missing).unwrap_or_default().is_empty());

    // A failed change inside a batch does not stop the others.
    let r = c.apply(&[
        Op::AddService(Service::new(k)),
        Op::AddDest(k, d.clone()),
        Op::AddDest(missing, d.clone()),
        Op::DelService(k),
    ]);
    assert!(
        r[0].is_err() && r[1].is_ok() && r[2].is_err() && r[3].is_ok(),
        "{r:?}"
    );
    assert!(dump(&ns).is_empty());
}

#[test]
fn timeouts_and_sync_daemons() {
    let Some((ns, mut c)) = live_client("timeouts_and_sync_daemons", "ipd") else {
        return;
    };
    c.set_timeouts(&Timeouts {
        tcp: 901,
        tcp_fin: 121,
        udp: 301,
    })
    .unwrap();
    assert_eq!(
        c.timeouts().unwrap(),
        Timeouts {
            tcp: 901,
            tcp_fin: 121,
            udp: 301
        }
    );
    let shown = ipvsadm(&ns, &["-L", "--timeout"]);
    assert!(shown.contains("901 121 301"), "{shown}");
    // 0 leaves a timeout as it is.
    c.set_timeouts(&Timeouts {
        tcp: 0,
        tcp_fin: 0,
        udp: 77,
    })
    .unwrap();
    assert_eq!(c.timeouts().unwrap().tcp, 901);
    assert_eq!(c.timeouts().unwrap().udp, 77);

    assert!(c.daemons().unwrap().is_empty());
    let mut d = Daemon::new(DaemonState::Master, "lo", 5);
    d.mcast_port = Some(8848);
    d.mcast_ttl = Some(1);
    c.add_daemon(&d).unwrap();
    let ds = c.daemons().unwrap();
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(
        (ds[0].state, ds[0].mcast_ifn.as_str(), ds[0].sync_id),
        (DaemonState::Master, "lo", 5)
    );
    let shown = ipvsadm(&ns, &["-L", "--daemon"]);
    assert!(
        shown.contains("master sync daemon (mcast=lo, syncid=5"),
        "{shown}"
    );
    let e = c.add_daemon(&d).unwrap_err();
    assert!(e.errno().is_some(), "{e}");
    c.del_daemon(DaemonState::Master).unwrap();
    assert!(c.daemons().unwrap().is_empty());
}

#[test]
fn a_thousand_changes_in_one_batch() {
    let Some((ns, mut c)) = live_client("a_thousand_changes_in_one_batch", "ipb") else {
        return;
    };
    let mut ops = Vec::new();
    for s in 0..10u8 {
        let k = tcp(&format!("10.3.0.{s}"), 80);
        ops.push(Op::AddService(Service::new(k)));
        for d in 0..99u8 {
            ops.push(Op::AddDest(
                k,
                Destination::new(IpAddr::from([192, 168, s, d]), 80, ForwardMethod::Route),
            ));
        }
    }
    let r = c.apply(&ops);
    assert!(r.iter().all(Result::is_ok));
    assert_eq!(dump(&ns).len(), 1000);
    let total: usize = c
        .services()
        .unwrap()
        .iter()
        .map(|s| c.destinations(&s.key).unwrap().len())
        .sum();
    assert_eq!(total, 990);
}

/// Make sure a namespace's IPVS table can be read by ipvsadm at all (guards the others).
#[test]
fn ipvsadm_sees_our_namespace() {
    let Some((ns, mut c)) = live_client("ipvsadm_sees_our_namespace", "ipn") else {
        return;
    };
    c.add_service(&Service::new(tcp("10.4.0.1", 80))).unwrap();
    let l = dump(&ns);
    assert_eq!(l, vec!["-A -t 10.4.0.1:80 -s wlc".to_string()]);
    let _ = Cmd::new("true").status();
}

/// `ipvsadm`'s own requests, captured on an `nlmon` device, decode to what it was told
/// to do. With `$OUT` set (inside the VM), each request is also saved as
/// `$OUT/fixtures/NN-NAME.bin` (kept in `tests/fixtures/` for the host-side test).
#[test]
fn ipvsadm_requests_captured_with_nlmon_decode() {
    if !live("ipvsadm_requests_captured_with_nlmon_decode") {
        return;
    }
    use socket2::{Domain, Protocol as SockProto, Socket, Type};
    use std::io::Read;
    let ns = Netns::new("ipc");
    ns.ip(["link", "add", "nlmon0", "type", "nlmon"]);
    ns.ip(["link", "set", "nlmon0", "up"]);
    let family = client_in(&ns).family_id();
    let all = i32::from((libc::ETH_P_ALL as u16).to_be());
    let sock =
        ns.run(move || Socket::new(Domain::PACKET, Type::RAW, Some(SockProto::from(all))).unwrap());
    sock.set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    // Each step: a name and ipvsadm's arguments (split at spaces).
    let steps: &[(&str, &str)] = &[
        ("add-service", "-A -t 10.5.0.1:80 -s rr"),
        (
            "add-dest",
            "-a -t 10.5.0.1:80 -r 192.168.5.1:8080 -m -w 3 -x 100 -y 10",
        ),
        (
            "edit-service",
            "-E -t 10.5.0.1:80 -s wlc -p 60 -M 255.255.255.0",
        ),
        ("edit-dest", "-e -t 10.5.0.1:80 -r 192.168.5.1:8080 -m -w 7"),
        ("add-fwmark6", "-A -f 9 -6 -s sh -b sh-port"),
        (
            "add-dest-tun",
            "-a -f 9 -6 -r [2001:db8::9]:0 -i --tun-type gue --tun-port 6080",
        ),
        ("set-timeouts", "--set 900 120 300"),
        ("zero", "-Z"),
        ("del-dest", "-d -t 10.5.0.1:80 -r 192.168.5.1:8080"),
        ("del-service", "-D -t 10.5.0.1:80"),
        ("flush", "-C"),
    ];
    let fixtures = std::env::var_os("OUT").map(|o| std::path::PathBuf::from(o).join("fixtures"));
    if let Some(f) = &fixtures {
        std::fs::create_dir_all(f).unwrap();
    }
    let mut buf = vec![0u8; 65536];
    for (i, (name, args)) in steps.iter().enumerate() {
        ns.exec("ipvsadm", args.split(' '));
        // Requests to the IPVS family (not GET_* queries, not the kernel's replies).
        let mut found = Vec::new();
        while let Ok(n) = (&sock).read(&mut buf) {
            let frame = &buf[..n];
            let Ok(h) = NlHeader::decode(frame) else {
                continue;
            };
            if h.kind != family || h.flags & 1 == 0 {
                continue;
            }
            let cmds = decode_datagram(frame).unwrap_or_else(|e| panic!("{name}: {e}: {frame:?}"));
            for c in cmds.into_iter().flatten() {
                if matches!(
                    c,
                    Command::GetInfo
                        | Command::GetService(_)
                        | Command::GetDest(_)
                        | Command::GetConfig
                        | Command::GetDaemon
                ) {
                    continue;
                }
                if let Some(f) = &fixtures {
                    std::fs::write(f.join(format!("{:02}-{name}.bin", i + 1)), frame).unwrap();
                }
                found.push(c);
            }
        }
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        let c = &found[0];
        let k = tcp("10.5.0.1", 80);
        let f9 = ServiceKey::Fwmark {
            family: Family::Inet6,
            mark: 9,
        };
        match *name {
            "add-service" => assert!(
                matches!(c, Command::NewService(s) if s.key == k && s.scheduler == "rr" && s.netmask == u32::MAX),
                "{c:?}"
            ),
            "add-dest" => assert!(
                matches!(c, Command::NewDest(Some(sk), d) if *sk == k && d.port == 8080 && d.weight == 3 && d.u_threshold == 100 && d.l_threshold == 10 && d.method == ForwardMethod::Masq),
                "{c:?}"
            ),
            "edit-service" => assert!(
                matches!(c, Command::SetService(s) if s.scheduler == "wlc" && s.timeout == 60 && s.flags.contains(Flags::PERSISTENT) && s.netmask == Service::netmask_v4("255.255.255.0".parse().unwrap())),
                "{c:?}"
            ),
            "edit-dest" => assert!(
                matches!(c, Command::SetDest(sk, d) if *sk == k && d.weight == 7),
                "{c:?}"
            ),
            "add-fwmark6" => assert!(
                matches!(c, Command::NewService(s) if s.key == f9 && s.scheduler == "sh" && s.flags.contains(Flags::SCHED2)),
                "{c:?}"
            ),
            "add-dest-tun" => assert!(
                matches!(c, Command::NewDest(Some(sk), d) if *sk == f9 && d.method == ForwardMethod::Tunnel && d.tun_type == Some(TunnelType::Gue) && d.tun_port == Some(6080)),
                "{c:?}"
            ),
            "set-timeouts" => assert_eq!(
                c,
                &Command::SetConfig(Timeouts {
                    tcp: 900,
                    tcp_fin: 120,
                    udp: 300
                })
            ),
            "zero" => assert!(matches!(c, Command::Zero(_)), "{c:?}"),
            "del-dest" => assert!(
                matches!(c, Command::DelDest(sk, d) if *sk == k && d.port == 8080),
                "{c:?}"
            ),
            "del-service" => assert_eq!(c, &Command::DelService(k)),
            "flush" => assert_eq!(c, &Command::Flush),
            _ => unreachable!(),
        }
    }
}
