//! The typed model that comes out of real configs: keepalived's defaults where nothing
//! is written, the written values elsewhere, and the language features end to end.

use ka_proto::config::lvs::{LvsMethod, Protocol, VirtualServerAddr};
use ka_proto::config::{AuthType, Checker, InitialState};
use keepalived_rs::conf::{load_with, LoadOptions, Loaded, Severity};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn opts(id: &str) -> LoadOptions {
    LoadOptions {
        config_id: id.into(),
        instance: Some("inst1".into()),
    }
}

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ka-conf-model-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn load_text(tag: &str, text: &str) -> Result<Loaded, Vec<String>> {
    let d = dir(tag);
    let p = d.join("keepalived.conf");
    std::fs::write(&p, text).expect("write");
    let out = load_with(&p, &opts("node1"), false, false)
        .map_err(|f| f.diagnostics.iter().map(|d| d.to_string()).collect());
    let _ = std::fs::remove_dir_all(&d);
    out
}

#[test]
fn vrrp_instance_values_and_defaults() {
    let l = load_text(
        "inst",
        r#"
global_defs {
    vrrp_garp_master_delay 7
    vrrp_version 3
}
vrrp_script chk {
    script "/bin/true x"
    interval 2
    weight -20
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.5
    virtual_ipaddress {
        192.168.1.10/24 dev eth0 label eth0:1
        192.168.1.11
    }
    track_script {
        chk weight 10
    }
    notify_master "/usr/bin/logger 'became master'" root
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    version 2
    authentication {
        auth_type PASS
        auth_pass secret12
    }
    virtual_ipaddress {
        192.168.1.20
    }
}
"#,
    )
    .expect("loads");
    let c = &l.config;
    let v = &c.vrrp_instances[0];
    assert_eq!(v.name, "VI_1");
    assert_eq!(v.state, InitialState::Master);
    assert_eq!(v.interface.as_deref(), Some("eth0"));
    assert_eq!((v.virtual_router_id, v.priority, v.version), (51, 150, 3));
    assert_eq!(v.advert_int, Duration::from_millis(500));
    assert_eq!(
        v.garp_master_delay,
        Duration::from_secs(7),
        "inherited from global_defs"
    );
    assert_eq!(v.virtual_ipaddress.len(), 2);
    assert_eq!(v.virtual_ipaddress[0].prefix.len, 24);
    assert_eq!(v.virtual_ipaddress[0].label.as_deref(), Some("eth0:1"));
    assert_eq!(v.virtual_ipaddress[1].prefix.len, 32);
    assert_eq!(v.track_script[0].name, "chk");
    assert_eq!(v.track_script[0].weight, Some(10));
    let n = v.notify.master.as_ref().expect("notify_master");
    assert_eq!(n.args, vec!["/usr/bin/logger", "became master"]);
    assert_eq!(n.user.as_deref(), Some("root"));
    let w = &c.vrrp_instances[1];
    assert_eq!(
        (w.priority, w.state, w.version),
        (100, InitialState::Backup, 2)
    );
    assert_eq!(w.advert_int, Duration::from_secs(1));
    let a = w.authentication.as_ref().expect("auth");
    assert_eq!(
        (a.auth_type, a.auth_pass.as_str()),
        (AuthType::Pass, "secret12")
    );
    let s = &c.vrrp_scripts[0];
    assert_eq!(
        (s.interval, s.timeout, s.weight),
        (Duration::from_secs(2), Duration::from_secs(2), -20)
    );
    assert_eq!(s.script.args, vec!["/bin/true", "x"]);
}

#[test]
fn lvs_values_and_defaults() {
    let l = load_text(
        "lvs",
        r#"
virtual_server 10.0.0.1 80 {
    delay_loop 6
    lb_algo rr
    lb_kind DR
    persistence_timeout
    protocol TCP
    real_server 10.0.1.1 8080 {
        weight 3
        HTTP_GET {
            url {
                path /health
                status_code 200-204 301
            }
            connect_timeout 3
            nb_get_retry 2
        }
    }
    real_server 10.0.1.2 {
        TCP_CHECK {
            connect_port 22
        }
        MISC_CHECK {
            misc_path "/bin/check arg"
            misc_dynamic
        }
    }
}
"#,
    )
    .expect("loads");
    let vs = &l.config.virtual_servers[0];
    assert_eq!(
        vs.addr,
        VirtualServerAddr::Ip("10.0.0.1:80".parse().expect("addr"))
    );
    assert_eq!(
        (vs.lvs_sched.as_str(), &vs.lvs_method, vs.protocol),
        ("rr", &LvsMethod::Dr, Protocol::Tcp)
    );
    assert_eq!(vs.delay_loop, Duration::from_secs(6));
    assert_eq!(vs.persistence_timeout, Some(Duration::from_secs(360)));
    assert_eq!(vs.quorum, 1);
    let rs = &vs.real_servers[0];
    assert_eq!((rs.addr.port(), rs.weight), (8080, 3));
    match &rs.checkers[0] {
        Checker::Http(h) => {
            assert_eq!(h.urls[0].path, "/health");
            assert!(h.urls[0].accepts(204) && h.urls[0].accepts(301) && !h.urls[0].accepts(205));
            assert_eq!(h.common.connect_timeout, Some(Duration::from_secs(3)));
            assert_eq!(h.common.retry, Some(2));
        }
        other => panic!("{other:?}"),
    }
    let rs2 = &vs.real_servers[1];
    assert_eq!(
        (rs2.addr.port(), rs2.weight),
        (80, 1),
        "port and weight default"
    );
    assert!(matches!(&rs2.checkers[0], Checker::Tcp(c) if c.connect_port == Some(22)));
    assert!(
        matches!(&rs2.checkers[1], Checker::Misc(m) if m.misc_dynamic && m.misc_path.args == ["/bin/check", "arg"])
    );
}

/// keepalived 2.2.7 reports `persistence_timeout 0` ("outside range [1, 2678400]") and
/// ignores the statement: the service is not persistent (seen in the VM: its `ipvsadm -Sn`
/// for `tests/vm/configs/seed-dr.conf` has no `-p`). It is not 360 s.
#[test]
fn an_invalid_persistence_timeout_is_ignored_like_keepalived() {
    let text = "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind DR\n  \
                persistence_timeout 0\n  protocol TCP\n  real_server 10.0.0.2 80 {\n  }\n}\n";
    let l = load_text("p0", text).expect("loads, with a warning");
    assert!(
        l.diagnostics
            .iter()
            .any(|d| d.to_string().contains("persistence_timeout")),
        "{:?}",
        l.diagnostics
    );
    assert_eq!(l.config.virtual_servers[0].persistence_timeout, None);
}

#[test]
fn includes_params_conditionals_and_loops_end_to_end() {
    let d = dir("features");
    std::fs::create_dir_all(d.join("conf.d")).expect("dir");
    std::fs::write(
        d.join("conf.d/vs.conf"),
        "virtual_server ${VIP} 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n ~SEQ(i,1,1,3) real_server 10.1.0.$i 80 { weight $i }\n}\n",
    )
    .expect("write");
    std::fs::write(
        d.join("keepalived.conf"),
        "$VIP=10.0.0.9\n@node1 $PRIO=200\n@^node1 $PRIO=50\ninclude conf.d/*.conf\n\
         vrrp_instance VI_${_INSTANCE}\n{\n interface eth0\n virtual_router_id 9\n priority $PRIO\n virtual_ipaddress {\n  $VIP\n }\n}\n",
    )
    .expect("write");
    let l = load_with(&d.join("keepalived.conf"), &opts("node1"), false, false).expect("loads");
    let v = &l.config.vrrp_instances[0];
    assert_eq!(v.name, "VI_inst1");
    assert_eq!(v.priority, 200);
    assert_eq!(v.virtual_ipaddress[0].prefix.addr.to_string(), "10.0.0.9");
    let ws: Vec<i32> = l.config.virtual_servers[0]
        .real_servers
        .iter()
        .map(|r| r.weight)
        .collect();
    assert_eq!(ws, vec![1, 2, 3]);
    let other = load_with(&d.join("keepalived.conf"), &opts("node2"), false, false);
    let _ = std::fs::remove_dir_all(&d);
    assert_eq!(other.expect("loads").config.vrrp_instances[0].priority, 50);
}

#[test]
fn every_debian_sample_loads_without_a_panic_and_serialises() {
    let Ok(rd) = std::fs::read_dir("/usr/share/doc/keepalived/samples") else {
        eprintln!("SKIPPED: keepalived samples not installed");
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let r = load_with(&p, &opts("x"), false, false);
        if let Ok(l) = r {
            serde_json::to_string(&l.config).expect("json");
        }
    }
}

#[test]
fn sample_keepalived_conf_sample_is_modelled() {
    let p = Path::new("/usr/share/doc/keepalived/samples/keepalived.conf.sample");
    if !p.exists() {
        eprintln!("SKIPPED: keepalived samples not installed");
        return;
    }
    let l = load_with(p, &opts("x"), false, false).expect("the sample loads");
    assert!(l
        .diagnostics
        .iter()
        .all(|d| d.severity == Severity::Warning));
    let c = &l.config;
    assert_eq!(c.global.router_id.as_deref(), Some("LVS_DEVEL"));
    assert_eq!(c.global.notification_email, vec!["acassen"]);
    assert_eq!(c.vrrp_instances.len(), 1);
    assert_eq!(c.vrrp_instances[0].virtual_router_id, 50);
    assert!(c.vrrp_instances[0].nopreempt);
    assert!(!c.virtual_servers.is_empty());
}

/// `keepalived_rs { }` carries keepalived-rs's own settings in the file keepalived also
/// reads (keepalived 2.2.7 warns "Unknown keyword 'keepalived_rs'" and skips the block).
#[test]
fn the_keepalived_rs_block_holds_our_own_settings() {
    let text = "keepalived_rs {\n  metrics_listen 9650\n  control_group adm\n  \
                control_socket /run/k.sock\n}\n";
    let l = load_text("own", text).expect("loads");
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let o = &l.config.keepalived_rs;
    assert_eq!(o.metrics_listen, Some("127.0.0.1:9650".parse().unwrap()));
    assert_eq!(o.control_group.as_deref(), Some("adm"));
    assert_eq!(o.control_socket.as_deref(), Some("/run/k.sock"));
    let l = load_text("own6", "keepalived_rs {\n  metrics_listen [::1]:9650\n}\n").expect("v6");
    assert_eq!(
        l.config.keepalived_rs.metrics_listen,
        Some("[::1]:9650".parse().unwrap())
    );
    // A bad address is an error at -t, not a surprise at start.
    let e = load_text(
        "ownbad",
        "keepalived_rs {\n  metrics_listen localhost:x\n}\n",
    )
    .expect_err("refused");
    assert!(
        e.iter()
            .any(|d| d.contains(":2:18:") && d.contains("metrics_listen")),
        "{e:?}"
    );
    // Unknown keywords in it warn, as anywhere.
    let l = load_text("ownunk", "keepalived_rs {\n  colour blue\n}\n").expect("loads");
    assert!(l
        .diagnostics
        .iter()
        .any(|d| d.to_string().contains("Unknown keyword 'colour'")));
}

/// Issue 12: the checker's `rs_init_notifies` is a typed field, read once when the
/// configuration is, not a word list the checker parses again. keepalived 2.2.7's `-t`
/// accepts no value, `on`/`yes`/`true` and `off`/`no`/`false` (exit 0) and warns
/// "Invalid value 'bogus' for global rs_init_notifies specified" (exit 5) otherwise.
#[test]
fn rs_init_notifies_is_typed() {
    let global = |tag: &str, line: &str| {
        load_text(tag, &format!("global_defs {{\n{line}\n}}\n")).expect("loads")
    };
    let l = global("rsin0", "router_id r");
    assert!(!l.config.global.rs_init_notifies);
    for (i, (line, want)) in [
        ("rs_init_notifies", true),
        ("rs_init_notifies on", true),
        ("rs_init_notifies yes", true),
        ("rs_init_notifies off", false),
        ("rs_init_notifies no", false),
    ]
    .into_iter()
    .enumerate()
    {
        let l = global(&format!("rsin{}", i + 1), line);
        assert!(l.diagnostics.is_empty(), "{line}: {:?}", l.diagnostics);
        assert_eq!(l.config.global.rs_init_notifies, want, "{line}");
        assert!(l.config.global.other.is_empty(), "{line}");
    }
    let l = global("rsinbad", "rs_init_notifies bogus");
    assert!(
        l.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Warning && d.message.contains("bogus")),
        "{:?}",
        l.diagnostics
    );
}

/// Issue 12: `lvs_method TUN` and `persistence_granularity` are typed when the
/// configuration is read (the checker used to parse the words when programming IPVS, so
/// a bad one failed there). keepalived 2.2.7's `-t` verdict beside each form.
#[test]
fn lvs_tunnels_and_granularity_are_typed() {
    use ka_proto::config::lvs::{Granularity, TunnelCsum, TunnelType};
    let vs = |tag: &str, addr: &str, rs: &str, line: &str| {
        let proto = if addr.starts_with("fwmark") {
            ""
        } else {
            "protocol TCP\n"
        };
        let text = format!(
            "virtual_server {addr} {{\nlb_algo rr\nlb_kind NAT\n{proto}persistence_timeout 60\n{line}\nreal_server {rs} 80 {{\nTCP_CHECK {{\n}}\n}}\n}}\n"
        );
        let l = load_text(tag, &text).expect("loads");
        let warnings: Vec<String> = l.diagnostics.iter().map(|d| d.message.clone()).collect();
        (warnings, l.config.virtual_servers[0].clone())
    };
    let v4 = |tag: &str, line: &str| vs(tag, "10.0.0.1 80", "10.0.0.2", line);
    let v6 = |tag: &str, line: &str| vs(tag, "2001:db8::1 80", "2001:db8::2", line);
    // exit 0
    for (i, (line, want)) in [
        ("lvs_method TUN", (TunnelType::Ipip, None, None)),
        (
            "lvs_method TUN type gre nocsum",
            (TunnelType::Gre, None, Some(TunnelCsum::NoCsum)),
        ),
        (
            "lvs_method TUN type gue port 6080 remcsum",
            (TunnelType::Gue, Some(6080), Some(TunnelCsum::RemCsum)),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (w, s) = v4(&format!("tun{i}"), line);
        assert!(w.is_empty(), "{line}: {w:?}");
        match s.lvs_method {
            LvsMethod::Tun {
                tunnel_type,
                port,
                csum,
            } => assert_eq!((tunnel_type, port, csum), want, "{line}"),
            other => panic!("{line}: {other:?}"),
        }
    }
    // exit 5, with keepalived's messages
    for (i, (line, message)) in [
        (
            "lvs_method TUN type foo",
            "Unknown tunnel type foo for virtual server.",
        ),
        (
            "lvs_method TUN type GRE",
            "Unknown tunnel type GRE for virtual server.",
        ),
        (
            "lvs_method TUN type gue",
            "gue tunnels require port, otherwise cannot have port.",
        ),
        (
            "lvs_method TUN type gre port 5",
            "gue tunnels require port, otherwise cannot have port.",
        ),
        (
            "lvs_method TUN type ipip csum",
            "ipip tunnels do not support checksum option.",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (w, _) = v4(&format!("badtun{i}"), line);
        assert!(w.iter().any(|m| m == message), "{line}: {w:?}");
    }
    // exit 0
    let g = |(w, s): (Vec<String>, ka_proto::config::VirtualServer)| {
        assert!(w.is_empty(), "{w:?}");
        s.persistence_granularity
    };
    assert_eq!(
        g(v4("g0", "persistence_granularity 255.255.255.0")),
        Some(Granularity::Mask("255.255.255.0".parse().expect("lit")))
    );
    assert_eq!(
        g(v4("g1", "persistence_granularity 24")),
        Some(Granularity::PrefixLen(24))
    );
    assert_eq!(
        g(v6("g2", "persistence_granularity 64")),
        Some(Granularity::PrefixLen(64))
    );
    // exit 5
    for (i, (ipv6, value)) in [
        (false, "/24"),
        (false, "x"),
        (true, "129"),
        (true, "0"),
        (true, "255.255.255.0"),
        (true, "x"),
    ]
    .into_iter()
    .enumerate()
    {
        let line = format!("persistence_granularity {value}");
        let (w, s) = if ipv6 {
            v6(&format!("badg{i}"), &line)
        } else {
            v4(&format!("badg{i}"), &line)
        };
        let family = if ipv6 { "IPv6" } else { "IPv4" };
        let message = format!("Invalid {family} persistence_granularity specified - {value}");
        assert!(w.contains(&message), "{line}: {w:?}");
        assert_eq!(s.persistence_granularity, None);
    }
    // A fwmark service: checked against the family the checker will give it.
    // keepalived -t: exit 5, "Invalid IPv6 persistence_granularity specified - 255.255.255.0".
    let (w, s) = vs(
        "fwg",
        "fwmark 5",
        "2001:db8::2",
        "ip_family inet6\npersistence_granularity 255.255.255.0",
    );
    assert!(
        w.iter()
            .any(|m| m == "Invalid IPv6 persistence_granularity specified - 255.255.255.0"),
        "{w:?}"
    );
    assert_eq!(s.persistence_granularity, None);
    // keepalived -t: exit 0.
    let (w, s) = vs(
        "fwg6",
        "fwmark 5",
        "2001:db8::2",
        "persistence_granularity 64",
    );
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(s.persistence_granularity, Some(Granularity::PrefixLen(64)));
}

/// Issue 15: a keyword given an invalid value after a valid one keeps the valid one,
/// as keepalived does (2.2.7 and 2.4.3: it reports the value and leaves the setting).
/// Before, flags fell back to their no-argument value (on), `weight` to 1, `hysteresis`
/// to 0, optional timers to unset, and an unknown scheduler was taken as written.
#[test]
fn an_invalid_value_leaves_the_setting_as_it_was() {
    let text = r#"
virtual_server 10.0.0.1 80 {
    lb_algo wrr
    lb_algo xx
    lb_kind DR
    lb_kind FOO
    protocol TCP
    protocol ICMP
    delay_loop 10
    delay_loop 0
    persistence_timeout 60
    persistence_timeout -1
    connect_timeout 5
    connect_timeout 0
    retry 2
    retry -1
    hysteresis 1
    hysteresis -1
    smtp_alert off
    smtp_alert maybe
    quorum 2
    real_server 10.0.0.2 80 {
        weight 3
        weight -1
        weight 65536000000
        inhibit_on_failure off
        inhibit_on_failure maybe
        alpha off
        alpha x
        uthreshold 5
        uthreshold -1
        connect_timeout 3
        connect_timeout 0
        TCP_CHECK {
            connect_port 8080
            connect_port 65536
            connect_timeout 3
            connect_timeout 0
            retry 2
            retry -1
            delay_loop 4
            delay_loop 0
            alpha off
            alpha x
        }
    }
}
"#;
    let l = load_text("invalid-keeps", text).expect("loads, with warnings");
    let vs = &l.config.virtual_servers[0];
    assert_eq!(
        (vs.lvs_sched.as_str(), &vs.lvs_method, vs.protocol),
        ("wrr", &LvsMethod::Dr, Protocol::Tcp)
    );
    assert_eq!(vs.delay_loop, Duration::from_secs(10));
    assert_eq!(vs.persistence_timeout, Some(Duration::from_secs(60)));
    assert_eq!(vs.connect_timeout, Some(Duration::from_secs(5)));
    assert_eq!(vs.retry, Some(2));
    assert_eq!((vs.hysteresis, vs.smtp_alert), (1, Some(false)));
    let rs = &vs.real_servers[0];
    assert_eq!(rs.weight, 3);
    assert_eq!(
        (rs.inhibit_on_failure, rs.alpha, rs.uthreshold),
        (Some(false), Some(false), Some(5))
    );
    assert_eq!(rs.connect_timeout, Some(Duration::from_secs(3)));
    let c = rs.checkers[0].common().expect("TCP_CHECK");
    assert_eq!(
        (c.connect_port, c.retry, c.alpha),
        (Some(8080), Some(2), Some(false))
    );
    assert_eq!(
        (c.connect_timeout, c.delay_loop),
        (Some(Duration::from_secs(3)), Some(Duration::from_secs(4)))
    );
    // Every refused value was reported (keepalived -t exits 5 on this config).
    for line in [
        4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 25, 27, 29, 31, 33, 36, 38, 40, 42, 44,
    ] {
        assert!(
            l.diagnostics.iter().any(|d| d.line == line),
            "no diagnostic on line {line}: {:?}",
            l.diagnostics
        );
    }
}

/// What the running keepalived does with a malformed number for the keywords it reads
/// leniently (it warns, then uses what the leading digits make when that is in range):
/// `weight x` is 0, `weight 5x` 5, `delay_before_retry x` 0; a keyword whose minimum is
/// 1 (delay_loop, connect_timeout) keeps its value. An invalid quorum is 1, an invalid
/// priority 100 (keepalived says so), and the VS-level alpha/omega/inhibit_on_failure
/// read no value at all. A VIP written `ADDR/` is /0 to keepalived (its `-d` dump shows
/// `10.0.0.2/0`), `/33` is /32.
#[test]
fn malformed_numbers_and_valueless_keywords_follow_the_running_keepalived() {
    let text = r#"
vrrp_instance VI {
    interface eth0
    virtual_router_id 1
    priority 150
    priority abc
    virtual_ipaddress {
        10.0.0.1/33
        10.0.0.2/
        10.0.0.3/255.255.255.0
        10.0.0.4/24
    }
    virtual_ipaddress_excluded {
        2001:db8::1/129
    }
}
virtual_server 10.0.0.1 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 3
    quorum x
    alpha off
    omega no
    inhibit_on_failure off
    real_server 10.0.0.2 80 {
        weight 3
        weight 5x
        delay_before_retry 2
        delay_before_retry x
        delay_loop 2
        delay_loop x
    }
    real_server 10.0.0.3 80 {
        weight 3
        weight x
    }
}
"#;
    let l = load_text("lenient", text).expect("loads, with warnings");
    let v = &l.config.vrrp_instances[0];
    assert_eq!(v.priority, 100, "an invalid priority is the default 100");
    assert!(l
        .diagnostics
        .iter()
        .any(|d| d.line == 6 && d.message.contains("using the default 100")));
    let vips: Vec<String> = v
        .virtual_ipaddress
        .iter()
        .map(|a| a.prefix.to_string())
        .collect();
    assert_eq!(
        vips,
        ["10.0.0.1/32", "10.0.0.2/0", "10.0.0.3/32", "10.0.0.4/24"]
    );
    assert_eq!(
        v.virtual_ipaddress_excluded[0].prefix.to_string(),
        "2001:db8::1/128"
    );
    for line in [8, 10, 14] {
        assert!(
            l.diagnostics
                .iter()
                .any(|d| d.line == line && d.message.contains("Invalid address prefix len")),
            "line {line}: {:?}",
            l.diagnostics
        );
    }
    let vs = &l.config.virtual_servers[0];
    assert_eq!(vs.quorum, 1, "keepalived sets an invalid quorum to 1");
    assert!(vs.alpha && vs.omega && vs.inhibit_on_failure);
    let (a, b) = (&vs.real_servers[0], &vs.real_servers[1]);
    assert_eq!((a.weight, b.weight), (5, 0));
    assert_eq!(a.delay_before_retry, Some(Duration::ZERO));
    assert_eq!(a.delay_loop, Some(Duration::from_secs(2)));
}

/// An invalid port skips what it belongs to, as keepalived does (2.2.7 and 2.4.3 say
/// "... - skipping"): before, the virtual server, group entry or sorry server was kept
/// on port 0, so keepalived-rs programmed an IPVS service keepalived does not.
#[test]
fn an_invalid_port_skips_the_service_not_port_zero() {
    let text = "virtual_server_group G {\n 10.0.0.1 80x\n 10.0.0.5 80\n}\n\
                virtual_server 10.0.0.1 80x {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
                real_server 10.0.0.2 80 {\n }\n}\n\
                virtual_server 10.0.0.3 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
                sorry_server 10.0.0.9 65536\n real_server 10.0.0.2 80 {\n }\n}\n";
    let l = load_text("badport", text).expect("loads, with warnings");
    let c = &l.config;
    assert_eq!(c.virtual_servers.len(), 1, "{:?}", c.virtual_servers);
    assert_eq!(
        c.virtual_servers[0].addr,
        VirtualServerAddr::Ip("10.0.0.3:80".parse().expect("addr"))
    );
    assert_eq!(c.virtual_servers[0].sorry_server, None);
    assert_eq!(c.virtual_server_groups[0].entries.len(), 1);
}

/// `use_vmac [[name] NAME] [MAC] [netlink_notify_msg] [group GROUP]` (2.4.3's form):
/// `name` and `group` take the next word, so an interface can be called "group".
#[test]
fn use_vmac_reads_keepalived_2_4_s_options() {
    let vmac = |opts: &str| {
        let text = format!(
            "vrrp_instance VI_1 {{\n interface eth0\n use_vmac {opts}\n \
             virtual_router_id 5\n virtual_ipaddress {{\n 10.9.9.9\n }}\n}}\n"
        );
        let l = load_text("vmac", &text).expect("loads");
        let v = l.config.vrrp_instances[0]
            .use_vmac
            .clone()
            .expect("use_vmac");
        (
            v.name,
            v.mac.map(|m| m.bytes[..usize::from(m.len)].to_vec()),
        )
    };
    assert_eq!(vmac("name group"), (Some("group".into()), None));
    assert_eq!(
        vmac("vx0 group 3 netlink_notify_msg"),
        (Some("vx0".into()), None)
    );
    assert_eq!(
        vmac("name vx1 02:00:5e:00:01:07"),
        (Some("vx1".into()), Some(vec![2, 0, 0x5e, 0, 1, 7]))
    );
    assert_eq!(vmac(""), (None, None));
}

/// `lvs_flush_onstop` (the older spelling) is `lvs_flush_on_stop`, as keepalived 2.4.3
/// applies it ("LVS flush on stop = VS" in its checker dump).
#[test]
fn lvs_flush_onstop_is_the_older_spelling_of_lvs_flush_on_stop() {
    for (kw, want) in [
        ("lvs_flush_onstop VS", Some(true)),
        ("lvs_flush_onstop", Some(false)),
        ("lvs_flush_on_stop VS", Some(true)),
    ] {
        let l = load_text("flush", &format!("global_defs {{\n  {kw}\n}}\n")).expect("loads");
        assert_eq!(l.config.global.lvs_flush_on_stop, want, "{kw}");
    }
}
