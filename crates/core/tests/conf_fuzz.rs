//! The parser never panics: random bytes, random lines made of keepalived's own
//! vocabulary, and mutations of real configs all go through `conf::load` and come back
//! as `Ok` or `Err` with diagnostics, never a panic.

use keepalived_rs::conf::{load_with, LoadOptions};
use proptest::prelude::*;
use std::path::PathBuf;

fn tmp_file(tag: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ka-conf-fuzz-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let p = dir.join(format!("{tag}.conf"));
    std::fs::write(&p, bytes).expect("write");
    p
}

fn load_bytes(tag: &str, bytes: &[u8]) {
    let p = tmp_file(tag, bytes);
    let opts = LoadOptions {
        config_id: "fuzz".into(),
        instance: None,
    };
    let out = load_with(&p, &opts, false, false);
    if let Some(d) = p.parent() {
        let _ = std::fs::remove_dir_all(d);
    }
    match out {
        Ok(l) => {
            // The model always serialises.
            serde_json::to_string(&l.config).expect("serialise");
        }
        Err(f) => assert!(f.diagnostics.iter().any(|d| d.is_error())),
    }
}

const WORDS: &[&str] = &[
    "global_defs",
    "vrrp_instance",
    "vrrp_script",
    "virtual_server",
    "real_server",
    "TCP_CHECK",
    "HTTP_GET",
    "url",
    "path",
    "virtual_ipaddress",
    "virtual_routes",
    "virtual_rules",
    "track_script",
    "vrrp_sync_group",
    "group",
    "state",
    "MASTER",
    "interface",
    "eth0",
    "virtual_router_id",
    "priority",
    "advert_int",
    "authentication",
    "auth_type",
    "PASS",
    "AH",
    "auth_pass",
    "unicast_peer",
    "{",
    "}",
    "{",
    "}",
    "\"",
    "'",
    "#",
    "!",
    "\\",
    "$X=1",
    "$X",
    "${X}",
    "${_RANDOM 1 3}",
    "@a",
    "@^a",
    "~SEQ(i,1,3)",
    "~LST(v,a,b)",
    "~SEQx(",
    "include",
    "includem",
    "*",
    "10.0.0.1",
    "10.0.0.1/24",
    "fe80::1",
    "300",
    "-1",
    "0",
    "255",
    "256",
    "1.5",
    "dev",
    "via",
    "table",
    "weight",
    "reverse",
    "script",
    "lb_algo",
    "lb_kind",
    "protocol",
    "TCP",
    "fwmark",
    "sorry_server",
    "delay_loop",
    "static_routes",
    "bfd_instance",
    "SSL",
    "\u{00e9}",
    "\u{0}",
    "version",
    "3",
    "2",
    "nopreempt",
    "notify_master",
    "track_file",
    "vrrp_track_process",
    "process",
    "misc_path",
    "MISC_CHECK",
    "status_code",
    "200-299",
];

fn line_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..8).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        load_bytes("bytes", &bytes);
    }

    #[test]
    fn random_vocabulary_lines_never_panic(lines in prop::collection::vec(line_strategy(), 0..40)) {
        load_bytes("vocab", lines.join("\n").as_bytes());
    }

    #[test]
    fn mutated_real_configs_never_panic(cut in 0usize..4000, insert in prop::sample::select(WORDS), pos in 0usize..4000) {
        let base = include_str!("../../../tests/fixtures/conf/ok_features.conf");
        let mut s = base.to_string();
        let cut = cut.min(s.len());
        let cut = (0..=cut).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        s.truncate(cut.max(s.len() / 2).min(s.len()));
        let pos = pos.min(s.len());
        let pos = (0..=pos).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        s.insert_str(pos, insert);
        load_bytes("mutated", s.as_bytes());
    }
}

#[test]
fn pathological_inputs_do_not_hang_or_panic() {
    // Self-including file, deep braces, huge loop, recursive parameters.
    let dir = std::env::temp_dir().join(format!("ka-conf-fuzz-self-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join("self.conf");
    std::fs::write(&p, "include self.conf\n").expect("write");
    let opts = LoadOptions {
        config_id: "x".into(),
        instance: None,
    };
    let _ = load_with(&p, &opts, false, false);
    load_bytes("deep", "a {".repeat(5000).as_bytes());
    load_bytes("closers", "}".repeat(5000).as_bytes());
    load_bytes("bigloop", b"~SEQ(i,0,1,4000000000) x\n");
    load_bytes("recparam", b"$A=$B\n$B=$A\nx $A\n");
    // Doubles at every expansion level: capped, not 2^32 copies.
    load_bytes("doubling", b"$X=1 $X $X\nx $X\n");
    load_bytes("nestedloops", b"~SEQ(a,1,30) ~SEQ(b,1,30) ~SEQ(c,1,30) x\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nested_loops_are_capped() {
    let p = tmp_file("nestcap", b"~SEQ(a,1,100000) ~SEQ(b,1,100000) x\n");
    let opts = LoadOptions {
        config_id: "x".into(),
        instance: None,
    };
    let t = std::time::Instant::now();
    let r = load_with(&p, &opts, false, false);
    if let Some(d) = p.parent() {
        let _ = std::fs::remove_dir_all(d);
    }
    assert!(r.is_err());
    assert!(t.elapsed() < std::time::Duration::from_secs(30));
}
