//! Known gaps: what keepalived 2.2.7 does and keepalived-rs does not (yet), one test each.
//!
//! Each gap is a `gap_*` test marked `#[ignore = "gap: …"]` that runs the check against
//! keepalived-rs: it fails today and passes once the gap is closed. Beside it, a
//! `reference_*` test runs the very same check against Debian's keepalived 2.2.7, so the
//! check itself is known to be right. `cargo xtask test unit` runs the gap tests and fails
//! when one of them passes: then remove its `#[ignore]` and its row in README.md's status
//! table ("not yet"). The TLS gap (encrypted keys) is in `crates/check/tests/known_gaps.rs`.
//!
//! A gap test that needs root fails (never skips) without it: a skip would look like a
//! closed gap.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use std::os::unix::net::UnixListener;
use std::process::Command;
use std::time::Duration;

use ka_tests::capture::Capture;
use ka_tests::daemon::{require_keepalived, Daemon, Impl};
use ka_tests::{require_root, wait_for, Guard, Lan, Netns, TempDir};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived-rs");
const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// `BIN -t -f CONFIG`: exit code and everything printed.
fn check_config(bin: &str, config: &str) -> (Option<i32>, String) {
    let dir = TempDir::new("gap");
    let conf = dir.path().join("keepalived.conf");
    std::fs::write(&conf, config).unwrap();
    let out = Command::new(bin)
        .arg("-t")
        .arg("-f")
        .arg(&conf)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// The config is valid as it stands: `-t` exits 0 and says nothing is unsupported.
fn accepted(bin: &str, config: &str) {
    let (code, text) = check_config(bin, config);
    assert_eq!(code, Some(0), "{bin} -t: {text}");
    assert!(!text.contains("not supported"), "{bin} -t: {text}");
}

/// A gap test's run on keepalived-rs: it needs root (without it, it must fail, not skip).
fn on_ours(test: &str, check: impl FnOnce(Impl)) {
    assert!(require_root(test), "{test}: needs root");
    check(Impl::Ours);
}

/// A reference test's run on keepalived 2.2.7, when it can run here (root, keepalived).
fn on_keepalived(test: &str, check: impl FnOnce(Impl)) {
    if require_root(test) && require_keepalived(test) {
        check(Impl::Keepalived);
    }
}

// ---- BFD ----

const BFD_VRRP: &str = "bfd_instance b1 {\n  neighbor_ip 10.0.0.2\n}\n\
    vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
    priority 100\n  track_bfd {\n    b1\n  }\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n";

const BFD_CHECK: &str = "bfd_instance b1 {\n  neighbor_ip 10.0.0.2\n}\n\
    virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  \
    real_server 10.0.0.2 80 {\n    BFD_CHECK {\n      name b1\n    }\n  }\n}\n";

#[test]
#[ignore = "gap: BFD (bfd_instance, track_bfd) is not implemented"]
fn gap_bfd_instance_tracked_by_a_vrrp_instance() {
    accepted(OURS, BFD_VRRP);
}

#[test]
fn reference_bfd_instance_tracked_by_a_vrrp_instance() {
    if require_keepalived("reference_bfd_instance_tracked_by_a_vrrp_instance") {
        accepted(KEEPALIVED, BFD_VRRP);
    }
}

#[test]
#[ignore = "gap: BFD_CHECK is not implemented"]
fn gap_bfd_check_on_a_real_server() {
    accepted(OURS, BFD_CHECK);
}

#[test]
fn reference_bfd_check_on_a_real_server() {
    if require_keepalived("reference_bfd_check_on_a_real_server") {
        accepted(KEEPALIVED, BFD_CHECK);
    }
}

// ---- SNMP (AgentX) ----

/// With `enable_snmp_vrrp`, the daemon connects to the AgentX master agent at
/// `snmp_socket` (here a Unix socket the test listens on) within 5 s of starting.
fn snmp_agent_connects(imp: Impl) {
    let ns = Netns::with_veth("snmp", "10.207.0.1/24");
    let dir = TempDir::new("agentx");
    let sock = dir.path().join("master");
    let listener = UnixListener::bind(&sock).unwrap();
    listener.set_nonblocking(true).unwrap();
    let config = format!(
        "global_defs {{\n  enable_snmp_vrrp\n  snmp_socket unix:{}\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 52\n  \
         priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    10.207.0.100/24\n  }}\n}}\n",
        sock.display()
    );
    let mut d = Daemon::start(&ns, imp, &config);
    let connected = wait_for(Duration::from_secs(5), || listener.accept().is_ok());
    d.stop(Duration::from_secs(5));
    assert!(
        connected,
        "{}: no AgentX connection to {}; log:\n{}",
        imp.name(),
        sock.display(),
        d.log()
    );
}

#[test]
#[ignore = "gap: SNMP (AgentX sub-agent) is not implemented"]
fn gap_snmp_subagent_connects_to_the_master_agent() {
    on_ours(
        "gap_snmp_subagent_connects_to_the_master_agent",
        snmp_agent_connects,
    );
}

#[test]
fn reference_snmp_subagent_connects_to_the_master_agent() {
    on_keepalived(
        "reference_snmp_subagent_connects_to_the_master_agent",
        snmp_agent_connects,
    );
}

// ---- DBus ----

/// With `enable_dbus`, the VRRP child owns `org.keepalived.Vrrp1` on the system bus (here a
/// private `dbus-daemon` that allows everything, named by `DBUS_SYSTEM_BUS_ADDRESS`)
/// within 5 s of starting.
fn dbus_name_owned(imp: Impl) {
    let dir = TempDir::new("dbus");
    let bus = dir.path().join("bus");
    let bus_conf = dir.path().join("bus.conf");
    std::fs::write(
        &bus_conf,
        format!(
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
             \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
             <busconfig>\n  <type>system</type>\n  <listen>unix:path={}</listen>\n  \
             <auth>EXTERNAL</auth>\n  <policy context=\"default\">\n    <allow user=\"*\"/>\n    \
             <allow own=\"*\"/>\n    <allow send_destination=\"*\"/>\n    \
             <allow receive_sender=\"*\"/>\n  </policy>\n</busconfig>\n",
            bus.display()
        ),
    )
    .unwrap();
    let _bus = Guard(
        Command::new("dbus-daemon")
            .arg(format!("--config-file={}", bus_conf.display()))
            .arg("--nofork")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dbus-daemon"),
    );
    assert!(wait_for(Duration::from_secs(5), || bus.exists()), "no bus");
    let address = format!("unix:path={}", bus.display());
    let ns = Netns::with_veth("dbus", "10.209.0.1/24");
    let config = "global_defs {\n  enable_dbus\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  \
                  interface eth0\n  virtual_router_id 54\n  priority 100\n  advert_int 1\n  \
                  virtual_ipaddress {\n    10.209.0.100/24\n  }\n}\n";
    let mut d = Daemon::start_env(
        &ns,
        imp,
        config,
        &[],
        &[("DBUS_SYSTEM_BUS_ADDRESS", &address)],
    );
    let names = || {
        let out = Command::new("dbus-send")
            .arg(format!("--bus={address}"))
            .args(["--print-reply", "--dest=org.freedesktop.DBus", "/"])
            .arg("org.freedesktop.DBus.ListNames")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let owned = wait_for(Duration::from_secs(5), || {
        names().contains("\"org.keepalived.Vrrp1\"")
    });
    d.stop(Duration::from_secs(5));
    assert!(
        owned,
        "{}: org.keepalived.Vrrp1 not on the bus ({}); log:\n{}",
        imp.name(),
        names(),
        d.log()
    );
}

#[test]
#[ignore = "gap: DBus (enable_dbus, org.keepalived.Vrrp1) is not implemented"]
fn gap_dbus_vrrp_name_on_the_system_bus() {
    on_ours("gap_dbus_vrrp_name_on_the_system_bus", dbus_name_owned);
}

#[test]
fn reference_dbus_vrrp_name_on_the_system_bus() {
    on_keepalived(
        "reference_dbus_vrrp_name_on_the_system_bus",
        dbus_name_owned,
    );
}

// ---- VRRPv2 AH authentication ----

const ETH_P_IP: u16 = 0x0800;
/// IP protocol number of the IPsec Authentication Header.
const IPPROTO_AH: u8 = 51;

/// A VRRPv2 instance with `auth_type AH` (BACKUP: AH forbids starting as MASTER) becomes
/// MASTER alone on a LAN; its adverts, seen from the other host, are IP protocol 51.
fn adverts_carry_ah(imp: Impl) {
    let lan = Lan::new(2, "10.208.0");
    lan.wait_carrier();
    let config = "vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  \
                  virtual_router_id 53\n  priority 150\n  advert_int 1\n  \
                  authentication {\n    auth_type AH\n    auth_pass secret\n  }\n  \
                  virtual_ipaddress {\n    10.208.0.100/24\n  }\n}\n";
    let cap = Capture::start(&lan.hosts[1], "eth0", ETH_P_IP);
    let mut d = Daemon::start(&lan.hosts[0], imp, config);
    // Master_Down_Interval (3 x 1 s + skew), then at least one advert.
    std::thread::sleep(Duration::from_millis(5500));
    d.stop(Duration::from_secs(5));
    let frames = cap.finish();
    let protocols: Vec<u8> = frames
        .iter()
        .filter(|f| f.bytes.len() >= 34 && f.bytes[26..30] == [10, 208, 0, 1])
        .map(|f| f.bytes[23])
        .collect();
    assert!(
        protocols.contains(&IPPROTO_AH),
        "{}: no AH frame from 10.208.0.1 (IP protocols seen: {protocols:?}); log:\n{}",
        imp.name(),
        d.log()
    );
}

#[test]
fn gap_ah_authenticated_adverts() {
    on_ours("gap_ah_authenticated_adverts", adverts_carry_ah);
}

#[test]
fn reference_ah_authenticated_adverts() {
    on_keepalived("reference_ah_authenticated_adverts", adverts_carry_ah);
}
