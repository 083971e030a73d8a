//! The checker's SIGUSR1 dump (`keepalived_check.data`) line by line against keepalived
//! 2.4.3's, on the same configurations (NAT/DR/TUN, fwmark and group services,
//! persistence, sorry server, inhibit_on_failure, alpha/omega/quorum, every checker kind
//! both support).
//!
//! keepalived's checker needs IPVS: this runs inside the VM of `cargo xtask test vm`
//! (`KA_IPVS_VM=1`; elsewhere it skips). Each daemon runs in a namespace of its own with
//! the addresses the configurations name on a veth. `delay_loop` is a day, so
//! no check runs before the dump (the first runs at a random point of the warmup): both
//! show every checker and real server in its starting state. When one did run anyway,
//! the pair is started again once. The last configuration is dumped once each check has
//! run once (passed or failed for good), in the state that follows.
//!
//! With `-d`, each checker logs the same dump at start (checked for the configurations
//! without VRRP).
//!
//! Compared: every line ("Global definitions", "SSL definitions", "LVS Topology",
//! "Health checkers", "Checker track files"), but for [`THEIRS_ONLY`] and
//! [`VALUES_DIFFER`].

use std::time::Duration;

use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_ipvs_vm, require_root, wait_for, Netns};

/// Lines of 2.4.3's that ours does not write, with the reason.
const THEIRS_ONLY: &[(&str, &str)] = &[(
    " libnftnl version ",
    "the version of the libnftnl keepalived was linked with: ours does not use libnftnl",
)];

/// Lines whose values cannot be equal, with the reason.
const VALUES_DIFFER: &[(&str, &str)] = &[(
    "   Last ran = ",
    "MISC_CHECK's last run time: a clock reading",
)];

const DAY: &str = "86400";

fn configs() -> Vec<(&'static str, String)> {
    let nat = format!(
        "global_defs {{\n  router_id dump1\n}}\n\
virtual_server 10.20.0.100 80 {{\n  delay_loop {DAY}\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n\
  persistence_timeout 50\n  persistence_granularity 255.255.255.0\n  quorum 2\n  hysteresis 1\n\
  alpha\n  omega\n  quorum_up \"/usr/bin/true up\"\n  quorum_down /usr/bin/true\n\
  sorry_server 10.20.1.9 80\n  sorry_server_inhibit\n  inhibit_on_failure\n  virtualhost www.example.com\n\
  real_server 10.20.1.2 8080 {{\n    weight 2\n    notify_up \"/usr/bin/true rsup\"\n    notify_down /usr/bin/true\n\
    HTTP_GET {{\n      url {{\n        path /\n        status_code 200\n      }}\n\
      url {{\n        path /x\n        digest 9b3a0c85a887a256d6939da88aabd8cd\n        status_code 200-299 404\n\
        virtualhost other.example.com\n      }}\n      http_protocol 1.1\n      fast_recovery\n\
      virtualhost hg.example.com\n      log_all_failures\n      connect_timeout 2\n      retry 1\n      delay_before_retry 1\n    }}\n  }}\n\
  real_server 10.20.1.3 8080 {{\n    weight 1\n    uthreshold 100\n    lthreshold 10\n\
    TCP_CHECK {{\n      connect_timeout 2\n      connect_port 8081\n      connect_ip 10.20.1.4\n      bindto 10.20.0.1\n    }}\n  }}\n\
  real_server 10.20.1.5 8080 {{\n    weight 3\n  }}\n}}\n\
virtual_server 10.20.0.102 80 {{\n  delay_loop {DAY}\n  lb_kind TUN\n  protocol TCP\n\
  real_server 10.20.1.7 80 {{\n    lvs_method TUN type gue port 6080 csum\n  }}\n\
  real_server 10.20.1.8 80 {{\n    lvs_method TUN type gre nocsum\n  }}\n}}\n\
virtual_server 2001:db8::100 443 {{\n  delay_loop {DAY}\n  lb_algo wlc\n  lb_kind DR\n  protocol TCP\n  persistence_timeout\n\
  real_server 2001:db8::2 443 {{\n    weight 1\n    SSL_GET {{\n      url {{\n        path /health\n\
        digest 9b3a0c85a887a256d6939da88aabd8cd\n      }}\n      enable_sni\n      tls_compliant\n      connect_timeout 3\n    }}\n  }}\n}}\n"
    );
    let groups = format!(
        "track_file tf1 {{\n  file /dev/null\n}}\n\
virtual_server_group G1 {{\n  10.20.0.110 80\n  10.20.0.111-115 80\n  fwmark 7\n}}\n\
virtual_server_group G6 {{\n  2001:db8::110 80\n  2001:db8::111-113 80\n  fwmark 8\n}}\n\
virtual_server group G1 {{\n  delay_loop {DAY}\n  lb_algo mh\n  mh-port\n  lb_kind DR\n  protocol TCP\n\
  connect_timeout 7\n  retry 4\n  delay_before_retry 2\n  smtp_alert\n\
  real_server 10.20.1.2 80 {{\n    weight 1\n\
    MISC_CHECK {{\n      misc_path \"/usr/bin/true arg\"\n      misc_timeout 3\n      misc_dynamic\n    }}\n\
    MISC_CHECK {{\n      misc_path /usr/bin/false\n    }}\n  }}\n}}\n\
virtual_server group G6 {{\n  delay_loop {DAY}\n  lb_algo sh\n  sh-port\n  sh-fallback\n  lb_kind NAT\n  protocol TCP\n\
  persistence_timeout 20\n  persistence_granularity 64\n\
  real_server 2001:db8::2 80 {{\n    weight 2\n    smtp_alert\n\
    FILE_CHECK {{\n      track_file tf1\n      weight -10\n    }}\n  }}\n}}\n\
virtual_server fwmark 5 {{\n  delay_loop {DAY}\n  lb_algo lc\n  lb_kind TUN\n\
  real_server 10.20.1.6 0 {{\n    weight 4\n    PING_CHECK {{\n      retry 2\n      bind_if eth0\n    }}\n  }}\n}}\n\
virtual_server fwmark 9 {{\n  delay_loop {DAY}\n  ip_family inet6\n  lvs_method TUN\n\
  real_server 2001:db8::5 0 {{\n    weight 1\n  }}\n}}\n"
    );
    let kinds = format!(
        "virtual_server 10.20.0.120 53 {{\n  delay_loop {DAY}\n  lb_algo rr\n  lb_kind NAT\n  protocol UDP\n  ops\n\
  real_server 10.20.1.2 53 {{\n    weight 1\n    DNS_CHECK {{\n      type A\n      name example.com\n      connect_timeout 2\n    }}\n\
    DNS_CHECK {{\n      type AAAA\n      name ns.example.com\n      retry 1\n      delay_before_retry 4\n    }}\n  }}\n\
  real_server 10.20.1.3 53 {{\n    weight 1\n    UDP_CHECK {{\n      connect_timeout 2\n      payload 0102ab\n\
      require_reply 01\n      min_reply_length 1\n      max_reply_length 10\n    }}\n\
    UDP_CHECK {{\n      payload 41\n    }}\n  }}\n}}\n\
virtual_server 10.20.0.121 25 {{\n  delay_loop {DAY}\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n\
  quorum 3\n  sorry_server 10.20.1.9 25\n  sorry_server_lvs_method DR\n\
  real_server 10.20.1.2 25 {{\n    weight 1\n    alpha\n    inhibit_on_failure\n\
    SMTP_CHECK {{\n      helo_name mail.example.com\n      connect_timeout 4\n    }}\n  }}\n\
  real_server 10.20.1.3 25 {{\n    weight 1\n    SMTP_CHECK {{\n    }}\n    TCP_CHECK {{\n      alpha\n    }}\n  }}\n}}\n"
    );
    let global = "global_defs {\n  router_id g5\n  notification_email {\n    a@example.com\n    b@example.com\n  }\n\
  notification_email_from ka@example.com\n  smtp_server 10.20.0.1 2525\n  smtp_helo_name helo.example.com\n\
  smtp_connect_timeout 12\n  smtp_alert\n  smtp_alert_vrrp off\n  no_email_faults\n  checker_log_all_failures\n\
  lvs_timeouts tcp 900 tcpfin 120 udp 300\n  lvs_sync_daemon eth0 VI_1 id 7 maxlen 1400 port 8849 ttl 3 group 224.0.0.81\n\
  lvs_flush\n  checker_priority -5\n  checker_no_swap\n  vrrp_priority -3\n\
  vrrp_mcast_group4 224.0.0.19\n  vrrp_mcast_group6 ff02::13\n  vrrp_garp_master_delay 7\n  vrrp_garp_master_repeat 2\n\
  vrrp_garp_master_refresh 60\n  vrrp_garp_master_refresh_repeat 3\n  vrrp_garp_lower_prio_delay 9\n\
  vrrp_garp_lower_prio_repeat 4\n  vrrp_garp_interval 0.5\n  vrrp_gna_interval 0.25\n  vrrp_version 3\n\
  vrrp_check_unicast_src\n  vrrp_skip_check_adv_addr\n  vrrp_down_timer_adverts 5\n  vrrp_lower_prio_no_advert\n\
  vrrp_higher_prio_send_advert\n  max_auto_priority 10\n  min_auto_priority_delay 2000\n  script_user nobody\n\
  enable_script_security\n  dynamic_interfaces\n  umask 0022\n  json_version 2\n  rs_init_notifies\n  no_checker_emails\n\
  vrrp_rx_bufs_multiplier 5\n  notify_fifo /tmp/@IMP@.fifo\n  notify_fifo_script /usr/bin/true\n\
  vrrp_notify_fifo /tmp/@IMP@.vrrp.fifo\n  lvs_notify_fifo /tmp/@IMP@.lvs.fifo\n\
  vrrp_notify_priority_changes\n  fifo_write_vrrp_states_on_reload\n  vmac_prefix vx\n}\n\
vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 50\n  priority 100\n\
  virtual_ipaddress {\n    10.20.0.50\n  }\n}\n\
virtual_server 10.20.0.100 80 {\n  delay_loop 86400\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n\
  real_server 10.20.1.5 8080 {\n    weight 3\n  }\n}\n"
        .to_string();
    // Checks that run at once (warmup 1 s) and then not for a minute: the states after
    // a first run (an HTTP server on 10.20.1.1:8080, a port that refuses, scripts).
    let ran = "virtual_server 10.20.0.200 80 {\n  delay_loop 60\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  quorum 2\n\
  real_server 10.20.1.1 8080 {\n    weight 2\n    TCP_CHECK {\n      connect_timeout 1\n      warmup 1\n    }\n\
    HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      connect_timeout 1\n      warmup 1\n    }\n\
    MISC_CHECK {\n      misc_path /usr/bin/true\n      warmup 1\n    }\n  }\n\
  real_server 10.20.1.1 9 {\n    weight 1\n    inhibit_on_failure\n\
    TCP_CHECK {\n      connect_timeout 1\n      retry 1\n      delay_before_retry 1\n      warmup 1\n    }\n\
    MISC_CHECK {\n      misc_path /usr/bin/false\n      warmup 1\n    }\n  }\n\
  real_server 10.20.0.1 9 {\n    weight 1\n\
    MISC_CHECK {\n      misc_path \"/usr/bin/sh -c 'exit 5'\"\n      misc_dynamic\n      warmup 1\n    }\n  }\n}\n"
        .to_string();
    vec![
        ("nat", nat),
        ("groups", groups),
        ("kinds", kinds),
        ("global", global),
        ("ran", ran),
    ]
}

/// A namespace with the addresses the configurations use, on `eth0`.
fn host(tag: &str) -> Netns {
    let ns = Netns::with_veth(tag, "10.20.0.1/24");
    ns.ip(["addr", "add", "10.20.1.1/24", "dev", "eth0"]);
    ns.ip(["addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad"]);
    ns
}

/// A dump's lines to compare: 2.4.3's [`THEIRS_ONLY`] lines dropped, the values of
/// [`VALUES_DIFFER`] replaced by a marker.
fn compared(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !THEIRS_ONLY.iter().any(|(p, _)| l.starts_with(p)))
        .map(
            |l| match VALUES_DIFFER.iter().find(|(p, _)| l.starts_with(p)) {
                Some((p, _)) => format!("{p}<differs>"),
                None => l.to_string(),
            },
        )
        .collect()
}

/// The dump the checker logged at start (`-d`): the lines from its "Global definitions"
/// on, without the time stamp (and our `[check] ` tag); other processes' lines left out.
/// Only for configurations without VRRP (keepalived's VRRP child logs its own dump, with
/// no tag to tell the two apart).
fn logged(log: &str) -> String {
    let mut out = String::new();
    let mut on = false;
    for l in log.lines() {
        let Some((_, text)) = l.split_once(": ") else {
            continue;
        };
        let text = match text.strip_prefix("[") {
            Some(tagged) => match tagged.strip_prefix("check] ") {
                Some(t) => t,
                None => continue,
            },
            None => text,
        };
        on |= text == "------< Global definitions >------";
        if on && (text.starts_with(' ') || text.starts_with("------<")) {
            out.push_str(text);
            out.push('\n');
        }
    }
    out
}

/// Start `imp` on `config` with `-d`, SIGUSR1 until its checker writes the dump, stop it.
/// The dump, and the one `-d` logged.
fn dump(imp: Impl, tag: &str, config: &str) -> (String, String) {
    let ns = host(tag);
    let _http = tag.ends_with("ran").then(|| {
        let addr = "10.20.1.1:8080".parse().expect("address");
        ka_tests::servers::tcp_server(&ns, addr, ka_tests::servers::http_reply(200, b"ok"))
    });
    // Paths of its own for each daemon (FIFOs), named back in its dump.
    let mine = format!("{tag}-{}", imp.name());
    let mut d = Daemon::start_with(&ns, imp, &config.replace("@IMP@", &mine), &["-d"]);
    let file = d.dir.join("keepalived_check.data");
    // SIGUSR1 kills a process that has not set its handler yet: wait for the checker's
    // pid file, then ask until the checker (up once it has read the configuration) wrote it.
    let started = wait_for(Duration::from_secs(30), || d.checker_pid().is_some());
    assert!(started, "{}: no checker\n{}", imp.name(), d.log());
    std::thread::sleep(Duration::from_secs(2));
    let written = wait_for(Duration::from_secs(40), || {
        if !file.exists() {
            d.signal(libc::SIGUSR1);
            std::thread::sleep(Duration::from_millis(700));
        }
        file.exists()
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut text = std::fs::read_to_string(&file).unwrap_or_default();
    if tag.ends_with("ran") {
        // Until every check has run.
        let ran = wait_for(Duration::from_secs(30), || {
            let _ = std::fs::remove_file(&file);
            d.signal(libc::SIGUSR1);
            let here = wait_for(Duration::from_secs(5), || file.exists());
            std::thread::sleep(Duration::from_millis(300));
            text = std::fs::read_to_string(&file).unwrap_or_default();
            here && !text.contains("Has run = no")
        });
        assert!(ran, "{}: checks that never ran:\n{text}", imp.name());
        // Past the retries of the failing ones (delay_before_retry 1 s): then once more.
        std::thread::sleep(Duration::from_secs(4));
        let _ = std::fs::remove_file(&file);
        d.signal(libc::SIGUSR1);
        let here = wait_for(Duration::from_secs(10), || file.exists());
        std::thread::sleep(Duration::from_millis(300));
        text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(here, "{}: no second dump", imp.name());
    }
    d.stop(Duration::from_secs(10));
    assert!(
        written,
        "{}: no {}\n{}",
        imp.name(),
        file.display(),
        d.log()
    );
    (
        text.replace(&mine, "@IMP@"),
        logged(&d.log()).replace(&mine, "@IMP@"),
    )
}

fn some_check_ran(text: &str) -> bool {
    // FILE_CHECK reads its file at start: "Has run = yes" from the beginning.
    text.split("\n [")
        .chain(text.split("\n FWM"))
        .any(|b| b.contains("Has run = yes") && !b.contains("FILE_CHECK"))
}

#[test]
fn checker_dump_equals_keepalived_2_4_3_s_line_by_line() {
    let name = "checker_dump_equals_keepalived_2_4_3_s_line_by_line";
    if !require_root(name) || !require_ipvs_vm(name) || keepalived_243(name).is_none() {
        return;
    }
    // Every configuration at once (two daemons each): the VM is slow to start them.
    let configs = configs();
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = configs
            .iter()
            .map(|(tag, config)| s.spawn(move || compare(tag, config)))
            .collect();
        runs.into_iter()
            .filter_map(|r| r.join().expect("a comparison panicked"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Both dumps of `config`, compared: the first difference, if any.
fn compare(tag: &str, config: &str) -> Option<String> {
    let mut pair = Default::default();
    for _attempt in 0..2 {
        pair = std::thread::scope(|s| {
            let a = s.spawn(|| dump(Impl::Ours, &format!("o{tag}"), config));
            let b = s.spawn(|| dump(Impl::Keepalived243, &format!("k{tag}"), config));
            (a.join().expect("ours"), b.join().expect("keepalived 2.4.3"))
        });
        let ran = |t: &str| tag != "ran" && some_check_ran(t);
        if !ran(&pair.0 .0) && !ran(&pair.1 .0) {
            break;
        }
    }
    let ((ours_file, ours_log), (theirs_file, theirs_log)) = pair;
    if !config.contains("vrrp_instance") && tag != "ran" {
        // `-d`: the same dump in the log at the checker's start, for both.
        for (who, file, log) in [
            ("ours", &ours_file, &ours_log),
            ("2.4.3", &theirs_file, &theirs_log),
        ] {
            if file != log {
                return Some(format!(
                    "{tag}: {who}'s -d log is not its dump:\n-- logged --\n{log}\n-- dump --\n{file}"
                ));
            }
        }
    }
    let pair = (ours_file, theirs_file);
    let (ours, theirs) = (compared(&pair.0), compared(&pair.1));
    if let Some(out) = std::env::var_os("OUT") {
        let dir = std::path::Path::new(&out);
        let _ = std::fs::write(dir.join(format!("check_dump_{tag}_ours.txt")), &pair.0);
        let _ = std::fs::write(dir.join(format!("check_dump_{tag}_243.txt")), &pair.1);
    }
    assert!(theirs.len() > 20, "{tag}: 2.4.3's dump:\n{}", pair.1);
    if ours == theirs {
        return None;
    }
    let first = ours
        .iter()
        .zip(&theirs)
        .position(|(a, b)| a != b)
        .unwrap_or(ours.len().min(theirs.len()));
    let from = first.saturating_sub(8);
    Some(format!(
        "{tag}: first difference at line {first}\n-- ours --\n{}\n-- 2.4.3 --\n{}",
        ours[from..ours.len().min(first + 8)].join("\n"),
        theirs[from..theirs.len().min(first + 8)].join("\n")
    ))
}
