//! The reconciler against a live IPVS kernel, side by side with keepalived 2.2.7.
//!
//! Runs inside the VM of `cargo xtask test vm` (which sets `KA_IPVS_VM=1`; elsewhere the
//! tests skip). For each config — the LVS seeds in `tests/vm/configs/` and Debian's
//! samples in `/usr/share/doc/keepalived/samples` — keepalived programs IPVS in one
//! network namespace and our reconciler in another; the two `ipvsadm -Sn` dumps must be
//! equal. Health checkers are removed from both configs (every real server is up).
//!
//! Our side reads each config with the project's parser (`keepalived_rs::conf`);
//! keepalived gets the same file cut to its LVS part (without checkers and scripts), cut
//! with the project's preprocessor and statement tree.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use ipvs_sys::{Client, Op, Operation};
use ka_check::lvs::{Reconciler, Table};
use ka_proto::config::{Config, LvsMethod, RealServer, VirtualServer, VirtualServerAddr};
use ka_tests::Netns;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ka_tests::require_ipvs_vm as live;

// ---- the configs, read with the project's parser ----

/// What the parser gives for `path` (errors fail the test; warnings are keepalived's too).
fn load(path: &Path) -> Config {
    let opts = keepalived_rs::conf::LoadOptions {
        config_id: "lvs".into(),
        instance: None,
    };
    match keepalived_rs::conf::load_with(path, &opts, false, false) {
        Ok(l) => l.config,
        Err(f) => panic!("{}: {:?}", path.display(), f.diagnostics),
    }
}

/// Health checkers and the scripts of a virtual or real server: left out of keepalived's
/// input so that every real server is up there as it is for us (`all_up`).
const CHECK_KEYWORDS: &[&str] = &[
    "HTTP_GET",
    "SSL_GET",
    "TCP_CHECK",
    "SMTP_CHECK",
    "DNS_CHECK",
    "MISC_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "FILE_CHECK",
    "BFD_CHECK",
    "alpha",
    "omega",
    "quorum_up",
    "quorum_down",
    "notify_up",
    "notify_down",
];

/// keepalived's input for the config at `path`: its global `lvs_*` settings and its
/// `virtual_server(_group)` blocks without [`CHECK_KEYWORDS`], read with the project's
/// preprocessor and statement tree (`keepalived_rs::conf::{preprocess, tree}`).
fn lvs_text(path: &Path) -> String {
    use keepalived_rs::conf::preprocess::{PreOptions, Preprocessor};
    let opts = PreOptions {
        config_id: "lvs".into(),
        instance: None,
        all_config: false,
    };
    let mut lines: Vec<(String, u32, u32, Option<u32>)> = Vec::new();
    {
        let mut sink =
            |_: &keepalived_rs::conf::source::Sources,
             text: &str,
             file: u32,
             line: u32,
             offset: Option<u32>,
             _: bool| { lines.push((text.to_string(), file, line, offset)) };
        let mut pre = Preprocessor::new(&opts, &mut sink);
        if let Err(e) = pre.read_main(path) {
            panic!("{}: {e}", path.display());
        }
    }
    let bump = bumpalo::Bump::new();
    let (nodes, problems) = keepalived_rs::conf::tree::build(&bump, &lines);
    assert!(problems.is_empty(), "{problems:?}");
    let mut out = String::new();
    for n in nodes {
        match n.keyword() {
            "global_defs" => {
                out.push_str("global_defs {\n");
                for g in n.block().iter().filter(|g| g.keyword().starts_with("lvs_")) {
                    emit(g, 1, &mut out);
                }
                out.push_str("}\n");
            }
            "virtual_server" | "virtual_server_group" => emit(n, 0, &mut out),
            _ => {}
        }
    }
    out
}

/// Write `n` at `depth`, its block without [`CHECK_KEYWORDS`].
fn emit(n: &keepalived_rs::conf::tree::Node<'_>, depth: usize, out: &mut String) {
    let words: Vec<&str> = n.words.iter().map(|w| w.text).collect();
    out.push_str(&"    ".repeat(depth));
    out.push_str(&words.join(" "));
    match n.children {
        Some(block) => {
            out.push_str(" {\n");
            for c in block
                .iter()
                .filter(|c| !CHECK_KEYWORDS.contains(&c.keyword()))
            {
                emit(c, depth + 1, out);
            }
            out.push_str(&"    ".repeat(depth));
            out.push_str("}\n");
        }
        None => out.push('\n'),
    }
}

/// Every seed and Debian sample: keepalived's input, read back by the project's parser,
/// programs the same table as the whole config (nothing of IPVS is lost in the cut).
#[test]
fn keepalived_input_keeps_every_lvs_setting() {
    let mut files = ka_tests::lvs::configs_in(&repo().join("tests/vm/configs"));
    files.extend(ka_tests::lvs::configs_in(Path::new(
        "/usr/share/doc/keepalived/samples",
    )));
    assert!(files.len() >= 5, "{files:?}");
    let judge = &ka_check::lvs::reconcile::all_up;
    let dir = ka_tests::TempDir::new("lvst");
    for f in &files {
        let cut = dir.path().join("cut.conf");
        std::fs::write(&cut, lvs_text(f)).unwrap();
        let (whole, issues) = ka_check::lvs::desired_table(&load(f), judge);
        let (from_cut, _) = ka_check::lvs::desired_table(&load(&cut), judge);
        assert_eq!(whole, from_cut, "{}", f.display());
        assert!(issues.is_empty(), "{}: {issues:?}", f.display());
    }
}

// ---- running both daemons ----

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}

fn dump(ns: &Netns) -> Vec<String> {
    // ipvsadm forked from a thread inside the namespace (cheaper than `ip netns exec`,
    // which remounts /sys: slow under TCG).
    let out = ns.run(|| {
        std::process::Command::new("ipvsadm")
            .arg("-Sn")
            .output()
            .unwrap()
    });
    assert!(out.status.success(), "ipvsadm -Sn: {out:?}");
    ka_tests::lvs::sorted_lines(&out.stdout)
}

/// A writable scratch directory for one run (the VM's / is read-only).
fn scratch(tag: &str) -> PathBuf {
    let base = std::env::var_os("OUT")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let d = base.join(format!("lvs-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// keepalived 2.2.7's table for `conf_text` (checker child only, in its own namespace).
fn keepalived_table(tag: &str, conf_text: &str, expect_lines: usize) -> Vec<String> {
    let ns = Netns::new("kk");
    let dir = scratch(tag);
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, conf_text).unwrap();
    let child = ns
        .command("keepalived")
        .args(["-n", "-l", "-C", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("k.pid"))
        .arg("-c")
        .arg(dir.join("c.pid"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _guard = ka_tests::Guard(child);
    // keepalived programs everything in one go at startup: count services and
    // destinations with our client (cheap) until there are as many as in our table and
    // the count holds for a moment, or it stops growing.
    let mut client = ns.run(|| Client::new().expect("IPVS family"));
    let mut count = || -> usize {
        let Ok(services) = client.services() else {
            return 0;
        };
        services.len()
            + services
                .iter()
                .map(|s| client.destinations(&s.key).map(|d| d.len()).unwrap_or(0))
                .sum::<usize>()
    };
    let started = Instant::now();
    let mut last = 0;
    let mut stable_since = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let now = count();
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
        if last >= expect_lines && stable_since.elapsed() > Duration::from_millis(300) {
            break;
        }
        if last > 0 && stable_since.elapsed() > Duration::from_secs(3) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    dump(&ns)
}

/// Our table for `config`, programmed from scratch in a fresh namespace; returns the
/// dump, the namespace and the reconciler (for reload checks).
fn our_table(config: &Config) -> (Vec<String>, Netns, Reconciler<Client>) {
    let ns = Netns::new("kr");
    let client = ns.run(|| Client::new().expect("IPVS family"));
    let mut r = Reconciler::new(client);
    let rep = r.start(config, &ka_check::lvs::reconcile::all_up).unwrap();
    assert!(rep.failed.is_empty(), "kernel refused: {:?}", rep.failed);
    assert!(rep.issues.is_empty(), "config issues: {:?}", rep.issues);
    (dump(&ns), ns, r)
}

fn lines(t: &Table) -> usize {
    t.services.len() + t.dest_count()
}

/// Compare keepalived's and our table for one config file; returns our namespace and
/// reconciler for further checks.
fn compare(tag: &str, path: &Path) -> (Netns, Reconciler<Client>, Config) {
    let conf_text = lvs_text(path);
    let config = load(path);
    let t0 = Instant::now();
    let (ours, ns, r) = our_table(&config);
    let t1 = Instant::now();
    let theirs = keepalived_table(tag, &conf_text, lines(r.owned()));
    eprintln!(
        "{}: ours in {:.2} s, keepalived's in {:.2} s",
        path.display(),
        (t1 - t0).as_secs_f64(),
        t1.elapsed().as_secs_f64()
    );
    assert!(!ours.is_empty(), "{}: empty table", path.display());
    assert_eq!(
        ours,
        theirs,
        "{}: ours (left) and keepalived's (right) differ; config as run:\n{conf_text}",
        path.display()
    );
    eprintln!("{}: {} lines identical", path.display(), ours.len());
    (ns, r, config)
}

fn seed(name: &str) -> PathBuf {
    repo().join("tests/vm/configs").join(name)
}

/// One test per seed config: our IPVS table is keepalived's ([`compare`]).
macro_rules! seed_matches_keepalived {
    ($($test:ident: $tag:literal, $file:literal;)*) => {$(
        #[test]
        fn $test() {
            if live(stringify!($test)) {
                compare($tag, &seed($file));
            }
        }
    )*};
}

seed_matches_keepalived! {
    seed_nat_with_sorry_server_matches_keepalived: "nat", "seed-nat-sorry.conf";
    seed_dr_matches_keepalived: "dr", "seed-dr.conf";
    quorum_lost_at_start_uses_the_sorry_server_like_keepalived: "quorum", "quorum-sorry.conf";
    fwmark_and_persistence_match_keepalived: "fw", "fwmark-persist.conf";
}

#[test]
fn many_features_match_keepalived_and_a_reload_changes_only_one_weight() {
    if !live("many_features_match_keepalived_and_a_reload_changes_only_one_weight") {
        return;
    }
    let (ns, mut r, mut config) = compare("feat", &seed("features.conf"));
    let before = dump(&ns);

    // Reload with the same config: nothing to do.
    let rep = r
        .reload(&config, &ka_check::lvs::reconcile::all_up)
        .unwrap();
    assert!(rep.ops.is_empty(), "{:?}", rep.ops);

    // One weight changes: exactly one edit, and only that line of the dump changes.
    config.virtual_servers[1].real_servers[0].weight = 42;
    let rep = r
        .reload(&config, &ka_check::lvs::reconcile::all_up)
        .unwrap();
    assert_eq!(rep.ops.len(), 1, "{:?}", rep.ops);
    assert!(matches!(&rep.ops[0], Op::EditDest(_, d) if d.weight == 42));
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    let after = dump(&ns);
    let removed: Vec<_> = before.iter().filter(|l| !after.contains(l)).collect();
    let added: Vec<_> = after.iter().filter(|l| !before.contains(l)).collect();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(added[0].ends_with("-w 42"), "{added:?}");

    // A virtual server removed and a real server added: a delete and an add, nothing else.
    let gone = config.virtual_servers.remove(2);
    config.virtual_servers[0].real_servers.push(RealServer {
        addr: "10.41.0.3:80".parse().unwrap(),
        ..RealServer::default()
    });
    let rep = r
        .reload(&config, &ka_check::lvs::reconcile::all_up)
        .unwrap();
    let kinds: Vec<Operation> = rep.ops.iter().map(Op::operation).collect();
    // The group has 5 services: one AddDest each, plus the deleted service.
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == Operation::DelService)
            .count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == Operation::AddDest).count(),
        5,
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    let _ = gone;

    // Stop removes every service we own.
    let rep = r.stop(&config, false).unwrap();
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    assert!(dump(&ns).is_empty());
}

#[test]
fn stop_with_dont_release_keeps_the_table_and_restart_adopts_it() {
    if !live("stop_with_dont_release_keeps_the_table_and_restart_adopts_it") {
        return;
    }
    let config = load(&seed("seed-dr.conf"));
    let (before, ns, mut r) = our_table(&config);
    r.stop(&config, true).unwrap();
    assert_eq!(dump(&ns), before);
    let client = ns.run(|| Client::new().unwrap());
    let mut r2 = Reconciler::new(client);
    let rep = r2
        .start(&config, &ka_check::lvs::reconcile::all_up)
        .unwrap();
    assert!(rep.ops.is_empty(), "{:?}", rep.ops);
}

/// The switch between the two roles, as the VRRP child makes it, on a multicast-capable
/// interface with an address. A BACKUP daemon stopped within milliseconds of its start,
/// before its kernel thread has run (no "sync thread started: state = BACKUP" in the
/// kernel log), can block the stop request for good (seen on `lo` always and on a veth
/// once, in 6.1 and 6.12 guests under emulation). The VRRP child therefore leaves a backup
/// daemon `BACKUP_SETTLE` to settle before stopping it, and so does this test.
#[test]
fn sync_daemon_follows_the_vrrp_state() {
    if !live("sync_daemon_follows_the_vrrp_state") {
        return;
    }
    use ipvs_sys::DaemonState;
    use ka_check::lvs::sync::{daemon_for, switch};
    let ns = Netns::new("ks");
    ns.ip(["link", "add", "ks0", "type", "veth", "peer", "name", "ks1"]);
    ns.ip(["addr", "add", "10.63.0.1/24", "dev", "ks0"]);
    ns.ip(["link", "set", "ks0", "up"]);
    ns.ip(["link", "set", "ks1", "up"]);
    let mut c = ns.run(|| Client::new().unwrap());
    let cfg = ka_proto::config::global::LvsSyncDaemon {
        interface: "ks0".into(),
        instance: Some("VI_1".into()),
        sync_id: Some(3),
        maxlen: None,
        port: 8848,
        ttl: None,
        group: None,
    };
    switch(&mut c, Some(&daemon_for(&cfg, DaemonState::Master))).unwrap();
    let shown =
        String::from_utf8_lossy(&ns.exec("ipvsadm", ["-L", "--daemon"]).stdout).into_owned();
    assert!(
        shown.contains("master sync daemon (mcast=ks0, syncid=3"),
        "{shown}"
    );
    switch(&mut c, Some(&daemon_for(&cfg, DaemonState::Backup))).unwrap();
    let d = c.daemons().unwrap();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].state, DaemonState::Backup);
    // Switching to the same state again changes nothing.
    switch(&mut c, Some(&daemon_for(&cfg, DaemonState::Backup))).unwrap();
    assert_eq!(c.daemons().unwrap().len(), 1);
    std::thread::sleep(ka_check::lvs::sync::BACKUP_SETTLE);
    switch(&mut c, None).unwrap();
    assert!(c.daemons().unwrap().is_empty());
}

#[test]
fn debian_samples_match_keepalived() {
    if !live("debian_samples_match_keepalived") {
        return;
    }
    let dir = Path::new("/usr/share/doc/keepalived/samples");
    let files = ka_tests::lvs::configs_in(dir);
    assert!(files.len() >= 5, "few samples: {files:?}");
    // keepalived mostly waits while it starts: run four configs at a time.
    for (n, chunk) in files.chunks(4).enumerate() {
        let handles: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = f.clone();
                std::thread::spawn(move || {
                    compare(&format!("deb{n}x{i}"), &f);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}

#[test]
fn the_parser_reads_the_features_seed() {
    // Runs everywhere: the project's parser, as used above, on the richest seed.
    let c = load(&seed("features.conf"));
    assert_eq!(c.virtual_server_groups[0].entries.len(), 3);
    assert_eq!(c.virtual_servers.len(), 5);
    assert_eq!(c.global.lvs_timeouts.0, Some(Duration::from_secs(7200)));
    let (t, issues) = ka_check::lvs::desired_table(&c, &ka_check::lvs::reconcile::all_up);
    assert!(issues.is_empty(), "{issues:?}");
    assert_eq!(t.services.len(), 5 + 4);
}

// ---- benchmark (run by `cargo xtask bench ipvs`, not by `cargo test`) ----

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// 100 services x 100 destinations, programmed by our client, by our reconciler and by
/// `ipvsadm -R`, each in a fresh namespace, interleaved, `KA_IPVS_BENCH_RUNS` rounds
/// (default 5). Writes `bench-ipvs.txt` (one `name ms ms ms ...` line per method) into
/// `$OUT`.
#[test]
#[ignore = "benchmark: cargo xtask bench ipvs"]
fn bench_program_100x100() {
    if std::env::var_os("KA_IPVS_BENCH").is_none_or(|v| v != "1") {
        eprintln!("SKIPPED bench_program_100x100: set KA_IPVS_BENCH=1 (cargo xtask bench ipvs)");
        return;
    }
    let runs: usize = std::env::var("KA_IPVS_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let (n_svc, n_dst) = (100u32, 100u32);

    // The table as a config, as ipvsadm commands and as client operations.
    let mut config = Config::default();
    let mut script = String::new();
    for s in 0..n_svc {
        let vip = IpAddr::from([10, 100, (s / 250) as u8, (s % 250 + 1) as u8]);
        let mut vs = VirtualServer {
            addr: VirtualServerAddr::Ip(SocketAddr::new(vip, 80)),
            lvs_sched: "wrr".into(),
            lvs_method: LvsMethod::Nat,
            ..VirtualServer::default()
        };
        script.push_str(&format!("-A -t {vip}:80 -s wrr\n"));
        for d in 0..n_dst {
            let rip = IpAddr::from([10, 200 + (s / 250) as u8, (s % 250) as u8, (d + 1) as u8]);
            vs.real_servers.push(RealServer {
                addr: SocketAddr::new(rip, 8080),
                weight: 1 + (d % 5) as i32,
                ..RealServer::default()
            });
            script.push_str(&format!(
                "-a -t {vip}:80 -r {rip}:8080 -m -w {}\n",
                1 + d % 5
            ));
        }
        config.virtual_servers.push(vs);
    }
    let mut conf_text = String::new();
    for vs in &config.virtual_servers {
        let VirtualServerAddr::Ip(a) = vs.addr else {
            unreachable!()
        };
        conf_text.push_str(&format!(
            "virtual_server {} {} {{\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n",
            a.ip(),
            a.port()
        ));
        for rs in &vs.real_servers {
            conf_text.push_str(&format!(
                "    real_server {} {} {{\n        weight {}\n    }}\n",
                rs.addr.ip(),
                rs.addr.port(),
                rs.weight
            ));
        }
        conf_text.push_str("}\n");
    }
    let (table, _) = ka_check::lvs::desired_table(&config, &ka_check::lvs::reconcile::all_up);
    let ops = ka_check::lvs::diff(&table, &Table::default(), &Default::default());
    let want_lines = (n_svc + n_svc * n_dst) as usize;
    assert_eq!(ops.len(), want_lines);
    let dir = scratch("bench");
    let script_path = dir.join("table.ipvsadm");
    std::fs::write(&script_path, &script).unwrap();

    let conf_path = dir.join("bench.conf");
    std::fs::write(&conf_path, &conf_text).unwrap();
    // keepalived-rs, when the harness built it (next to this test binary's directory).
    let ours_bin = std::env::current_exe()
        .ok()
        .and_then(|e| {
            e.parent()
                .and_then(Path::parent)
                .map(|d| d.join("keepalived-rs"))
        })
        .filter(|b| b.is_file());
    let count = |ns: &Netns| {
        let out = ns.exec("ipvsadm", ["-Sn"]);
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let (mut client_ms, mut recon_ms, mut ipvsadm_ms) = (Vec::new(), Vec::new(), Vec::new());
    let (mut keepalived_ms, mut ours_bin_ms) = (Vec::new(), Vec::new());
    for round in 0..runs {
        // ipvsadm -R, reading the script from a file.
        let ns = Netns::new("bi");
        let t = Instant::now();
        let st = ns
            .command("ipvsadm")
            .arg("-R")
            .stdin(std::fs::File::open(&script_path).unwrap())
            .status()
            .unwrap();
        let el = t.elapsed().as_secs_f64() * 1e3;
        assert!(st.success());
        assert_eq!(count(&ns), want_lines);
        ipvsadm_ms.push(el);
        drop(ns);

        // Our client: open, resolve the family, apply every operation.
        let ns = Netns::new("bc");
        let ops2 = ops.clone();
        let el = ns.run(move || {
            let t = Instant::now();
            let mut c = Client::new().unwrap();
            let r = c.apply(&ops2);
            let el = t.elapsed().as_secs_f64() * 1e3;
            assert!(r.iter().all(Result::is_ok));
            el
        });
        assert_eq!(count(&ns), want_lines);
        client_ms.push(el);
        drop(ns);

        // Our reconciler from the config: desired table, read the kernel, diff, apply.
        let ns = Netns::new("br");
        let cfg = config.clone();
        let el = ns.run(move || {
            let t = Instant::now();
            let mut r = Reconciler::new(Client::new().unwrap());
            let rep = r.start(&cfg, &ka_check::lvs::reconcile::all_up).unwrap();
            let el = t.elapsed().as_secs_f64() * 1e3;
            assert!(rep.failed.is_empty());
            el
        });
        assert_eq!(count(&ns), want_lines);
        recon_ms.push(el);
        drop(ns);

        // The daemons, from exec to the whole table in the kernel.
        keepalived_ms.push(daemon_to_full_table(
            Path::new("/usr/sbin/keepalived"),
            &conf_path,
            &dir,
            want_lines,
        ));
        if let Some(b) = &ours_bin {
            ours_bin_ms.push(daemon_to_full_table(b, &conf_path, &dir, want_lines));
        }
        eprintln!(
            "round {round}: keepalived {:.1} ms, keepalived-rs {:?} ms",
            keepalived_ms[round],
            ours_bin_ms.get(round)
        );
        eprintln!(
            "round {round}: ipvsadm -R {:.1} ms, client {:.1} ms, reconciler {:.1} ms",
            ipvsadm_ms[round], client_ms[round], recon_ms[round]
        );
    }
    let fmt = |name: &str, v: &[f64]| {
        let mut s = name.to_string();
        for x in v {
            s.push_str(&format!(" {x:.2}"));
        }
        s.push('\n');
        s
    };
    let text = fmt("ipvsadm_restore", &ipvsadm_ms)
        + &fmt("ka_client_apply", &client_ms)
        + &fmt("ka_reconciler_start", &recon_ms)
        + &fmt("keepalived_start", &keepalived_ms)
        + &fmt("keepalived_rs_start", &ours_bin_ms);
    let out = std::env::var_os("OUT")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::write(out.join("bench-ipvs.txt"), &text).unwrap();
    eprintln!(
        "medians: ipvsadm -R {:.1} ms, client {:.1} ms, reconciler {:.1} ms",
        median(&mut ipvsadm_ms),
        median(&mut client_ms),
        median(&mut recon_ms)
    );
}

/// Start `program -n -l -C -f conf` in a fresh namespace and time from the exec to the
/// moment the kernel holds `want_lines` services + destinations (read cheaply from
/// `/proc/thread-self/net/ip_vs`); then stop it. Milliseconds.
fn daemon_to_full_table(program: &Path, conf: &Path, dir: &Path, want_lines: usize) -> f64 {
    let ns = Netns::new("bd");
    // A fresh directory each time: pid files of an earlier run must not be seen.
    static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = dir.join(format!("daemon-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    let label = program.display().to_string();
    let (program, conf) = (program.to_path_buf(), conf.to_path_buf());
    let (el, child) = ns.run(move || {
        let t = Instant::now();
        let child = std::process::Command::new(&program)
            .args(["-n", "-l", "-C", "-f"])
            .arg(&conf)
            .args(ka_tests::daemon::pid_file_args(&dir))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut el = f64::NAN;
        while t.elapsed() < Duration::from_secs(120) {
            let n = std::fs::read_to_string("/proc/thread-self/net/ip_vs")
                .map(|s| s.lines().count().saturating_sub(3))
                .unwrap_or(0);
            if n >= want_lines {
                el = t.elapsed().as_secs_f64() * 1e3;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (el, child)
    });
    drop(ka_tests::Guard(child));
    drop(ns);
    assert!(el.is_finite(), "{label}: no full table within 120 s");
    el
}
