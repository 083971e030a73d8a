//! An instance's own weighted trackers while it is in a `vrrp_sync_group` without
//! `sync_group_tracking_weight` (issue 15), beside keepalived 2.4.3 (and 2.2.7 when
//! installed).
//!
//! Observed in namespaces with keepalived 2.2.7 and 2.4.3 (alike):
//! - a `track_script` with a weight is dropped from the instance: its failure changes
//!   nothing (the same script still lowers the priority of an instance outside any group);
//! - a weighted `track_interface` is warned about at load, but the weight still applies:
//!   the interface going down lowers the priority, the instance stays MASTER;
//! - a `track_file` at its default weight (1) is tracked with weight 0: a non-zero value
//!   puts the instance, and so its whole sync group, in FAULT.
//!
//! An address owner (priority 255) is treated the same way, except that its weighted
//! `track_interface` is dropped.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use ka_tests::capture::Capture;
use ka_tests::daemon::{keepalived_243, Daemon, Impl};
use ka_tests::{require_root, wait_for, Lan, TempDir};

const UP: Duration = Duration::from_secs(12);
const NET: &str = "10.87.5";

/// One instance, VRID `vrid`, VIP `NET.{10+vrid}`, priority 100 (255 for VRIDs 6 and
/// 7: address owners), with `track`.
fn instance(name: &str, vrid: u8, track: &str) -> String {
    let prio = if vrid >= 6 { 255 } else { 100 };
    format!(
        "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {vrid}\n  \
         priority {prio}\n  advert_int 1\n  virtual_ipaddress {{\n    {NET}.{}/24\n  }}\n{track}}}\n",
        10 + u32::from(vrid)
    )
}

/// VI_S (1, group GS) and VI_C (2, no group) track the script `chk` (weight -10); VI_I
/// (3, group GI) tracks eth1 with weight -5; VI_F (4) tracks the file `tf` at its default
/// weight, in group GF with VI_G (5), which tracks nothing. Address owners, in no group:
/// VI_O (6) tracks `chk` and eth1 (weight -5), VI_P (7) tracks `tf`.
fn config(dir: &Path) -> String {
    let d = dir.display();
    let mut c = format!(
        "global_defs {{\n  router_id sync_group_weights\n}}\n\
         vrrp_script chk {{\n  script \"/usr/bin/test ! -e {d}/fail\"\n  interval 1\n  weight -10\n}}\n\
         track_file tf {{\n  file {d}/tf\n}}\n\
         vrrp_sync_group GS {{\n  group {{\n    VI_S\n  }}\n}}\n\
         vrrp_sync_group GI {{\n  group {{\n    VI_I\n  }}\n}}\n\
         vrrp_sync_group GF {{\n  group {{\n    VI_F\n    VI_G\n  }}\n}}\n"
    );
    let script = "  track_script {\n    chk\n  }\n";
    c += &instance("VI_S", 1, script);
    c += &instance("VI_C", 2, script);
    c += &instance("VI_I", 3, "  track_interface {\n    eth1 weight -5\n  }\n");
    c += &instance("VI_F", 4, "  track_file {\n    tf\n  }\n");
    c += &instance("VI_G", 5, "");
    let both = "  track_script {\n    chk\n  }\n  track_interface {\n    eth1 weight -5\n  }\n";
    c += &instance("VI_O", 6, both);
    c += &instance("VI_P", 7, "  track_file {\n    tf\n  }\n");
    c
}

/// VRID -> priority of the last advert in `frames` (IPv4 frames from the Ethernet header).
fn last_priorities(frames: &[ka_tests::capture::Frame]) -> BTreeMap<u8, u8> {
    let mut out = BTreeMap::new();
    for f in frames {
        let b = &f.bytes;
        if b.len() < 34 || b[12..14] != [0x08, 0x00] || b[23] != 112 {
            continue;
        }
        let ihl = usize::from(b[14] & 0x0f) * 4;
        let v = 14 + ihl;
        if b.len() < v + 3 {
            continue;
        }
        out.insert(b[v + 1], b[v + 2]);
    }
    out
}

/// Per VRID 1..=7 after every tracker failed: (VIP held, last advertised priority).
type Seen = BTreeMap<u8, (bool, Option<u8>)>;

fn run(imp: Impl, tag: &str) -> Result<Seen, String> {
    let lan = Lan::new(2, NET);
    lan.wait_carrier();
    let h = &lan.hosts[0];
    h.ip([
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ]);
    h.ip(["link", "set", "eth1p", "up"]);
    h.ip(["link", "set", "eth1", "up"]);
    let tmp = TempDir::new(tag);
    let dir = tmp.path();
    std::fs::write(dir.join("tf"), "0\n").map_err(|e| format!("tf: {e}"))?;
    let vip = |vrid: u8| -> IpAddr {
        format!("{NET}.{}", 10 + u32::from(vrid))
            .parse()
            .expect("vip")
    };
    let mut d = Daemon::start(h, imp, &config(dir));
    if !wait_for(UP, || (1..=7).all(|v| h.has_addr(vip(v)))) {
        return Err(format!("{}: never MASTER of all\n{}", imp.name(), d.log()));
    }
    // Every tracker fails: the script, eth1, and the file (a non-zero value, in one step).
    std::fs::write(dir.join("fail"), "").map_err(|e| format!("fail: {e}"))?;
    h.ip(["link", "set", "eth1", "down"]);
    std::fs::write(dir.join("tf.tmp"), "1\n").map_err(|e| format!("tf: {e}"))?;
    std::fs::rename(dir.join("tf.tmp"), dir.join("tf")).map_err(|e| format!("tf: {e}"))?;
    std::thread::sleep(Duration::from_secs(5));
    let cap = Capture::start(&lan.hosts[1], "eth0", 0x0800);
    std::thread::sleep(Duration::from_millis(2500));
    let prios = last_priorities(&cap.finish());
    let seen: Seen = (1..=7)
        .map(|v| (v, (h.has_addr(vip(v)), prios.get(&v).copied())))
        .collect();
    d.stop(Duration::from_secs(5));
    eprintln!("{}: {seen:?}", imp.name());
    Ok(seen)
}

#[test]
fn sync_group_member_trackers_fail_as_in_keepalived() {
    if !require_root("sync_group_member_trackers_fail_as_in_keepalived") {
        return;
    }
    let Some(_) = keepalived_243("sync_group_member_trackers_fail_as_in_keepalived") else {
        return;
    };
    let ours = run(Impl::Ours, "sgw-ours").unwrap_or_else(|e| panic!("{e}"));
    // The weighted script is dropped in the group (VI_S stays at 100) but applies outside
    // it (VI_C at 90); eth1's weight applies (VI_I at 95, MASTER); the file puts VI_F in
    // FAULT and its group with it (no VIP, no advert). An address owner drops its weighted
    // script and interface (VI_O stays at 255) and tracks the file at weight 0 (VI_P in
    // FAULT).
    let expected: Seen = [
        (1, (true, Some(100))),
        (2, (true, Some(90))),
        (3, (true, Some(95))),
        (4, (false, None)),
        (5, (false, None)),
        (6, (true, Some(255))),
        (7, (false, None)),
    ]
    .into_iter()
    .collect();
    assert_eq!(ours, expected, "keepalived-rs");
    let mut refs = vec![Impl::Keepalived243];
    if Path::new("/usr/sbin/keepalived").exists() {
        refs.push(Impl::Keepalived);
    }
    for imp in refs {
        let theirs = run(imp, "sgw-ref").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(theirs, ours, "{} differs from keepalived-rs", imp.name());
    }
}
