//! `cargo xtask bench checkers [SECONDS] [--rounds N] [--no-vm]`: 1,000 real servers with TCP_CHECK and
//! 1,000 with HTTP_GET at `delay_loop 1`, against local servers in a namespace; the CPU
//! and RSS of our checker engine (crates/check/examples/bench_checkers.rs) beside
//! keepalived 2.2.7's checker child on the same config.
//!
//! keepalived's checker exits at once without IPVS (`IPVS: Can't initialize ipvs`), and
//! this machine's kernel has none, so the comparison runs in the VM kernel (TCG: slow in
//! absolute terms, the same for both). On the host only our figure is taken. Both runs use
//! the same script (written to the output folder): a server namespace at 10.62.0.2 with
//! 2 × N listeners (a mio server counting accepted connections), a checker namespace at
//! 10.62.0.1; CPU = utime + stime of the checker process over SECONDS after a 5 s warm-up,
//! checks/s = TCP connections the checker completed over the same window (ActiveOpens −
//! AttemptFails in its namespace; a connect-only TCP_CHECK that the server's application
//! never accepts counts), "accepted" = what the servers' applications accepted; segments = TCP
//! segments in + out of the checker's namespace over the window. Each of the N rounds
//! (default 3) measures keepalived then ours in the same boot; the medians are printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const N: usize = 1000;
const TCP_BASE: u16 = 20000;
const HTTP_BASE: u16 = 30000;

const SCRIPT: &str = r#"#!/bin/sh
# bench.sh OUT BIN N SECONDS WHO [ROUNDS]  (WHO: ours | keepalived | both)
# Each round measures keepalived then ours (WHO=both), same servers, one line each in
# bench.txt: "NAME key value ...".
OUT=$1; BIN=$2; N=$3; S=$4; WHO=$5; ROUNDS=${6:-1}
set -u
P=kab$$
ulimit -n $(ulimit -Hn) 2>/dev/null
ip netns add ${P}s; ip netns add ${P}c
ip link add veth0 netns ${P}c type veth peer name veth1 netns ${P}s
ip -n ${P}c addr add 10.62.0.1/24 dev veth0; ip -n ${P}s addr add 10.62.0.2/24 dev veth1
for n in ${P}c ${P}s; do ip -n $n link set lo up; done
ip -n ${P}c link set veth0 up; ip -n ${P}s link set veth1 up
ip netns exec ${P}s $BIN serve 10.62.0.2 __TCP__ __HTTP__ $N $OUT/counters & SRV=$!
sleep 2
ticks() { awk '{print $14" "$15}' /proc/$1/stat; }
rss() { awk '/VmRSS/{print $2}' /proc/$1/status; }
cnt() { awk '{print $1+$2}' $OUT/counters; }
# TCP segments in + out and RSTs sent, seen from the checker's namespace.
# Connections the checker completed: ActiveOpens - AttemptFails (a connect-only check
# the server's application never accepts still counts).
segs() { ip netns exec ${P}c awk '/^Tcp: [0-9]/{print $11+$12" "$15" "$6-$8}' /proc/net/snmp; }
tw() { ip netns exec $1 awk '/^TCP:/{print $7}' /proc/net/sockstat; }
measure() { # NAME PID
  sleep 5
  if ! kill -0 $2 2>/dev/null; then echo "$1 not-running" >> $OUT/bench.txt; return; fi
  set -- $1 $2 $(ticks $2) $(segs); c0=$(cnt); sleep $S; u0=$3; s0=$4; g0=$5; r0=$6; o0=$7
  set -- $1 $2 $(ticks $2) $(segs); c1=$(cnt); r=$(rss $2)
  echo "$1 cpu_ticks $(($3+$4-u0-s0)) seconds $S checks $(($7-o0)) accepted $((c1-c0)) rss_kb $r user_ticks $(($3-u0)) sys_ticks $(($4-s0)) segs $(($5-g0)) rsts $(($6-r0)) tw_checker $(tw ${P}c) tw_server $(tw ${P}s)" >> $OUT/bench.txt
}
# (The round counter must not be `r`: measure sets that to the RSS.)
round=0
while [ $round -lt $ROUNDS ]; do
  round=$((round+1))
  if [ $WHO != ours ]; then
    rm -f $OUT/ka.pid $OUT/ka.cpid
    ip netns exec ${P}c keepalived -n -G -C -f $OUT/keepalived.conf -p $OUT/ka.pid -c $OUT/ka.cpid \
       > $OUT/keepalived.log 2>&1 & KA=$!
    i=0; while [ $i -lt 30 ] && [ ! -s $OUT/ka.cpid ]; do sleep 0.5; i=$((i+1)); done
    sleep 1
    if [ -s $OUT/ka.cpid ] && kill -0 $(cat $OUT/ka.cpid) 2>/dev/null; then
      measure keepalived $(cat $OUT/ka.cpid)
    else
      echo "keepalived not-running" >> $OUT/bench.txt
    fi
    kill $KA 2>/dev/null; sleep 2; kill -9 $KA 2>/dev/null
    sleep 3
  fi
  if [ $WHO != keepalived ]; then
    ip netns exec ${P}c $BIN check 10.62.0.2 __TCP__ __HTTP__ $N $((S + 60)) > $OUT/ours.txt 2>&1 & OURS=$!
    measure ours $OURS
    kill $OURS 2>/dev/null; wait $OURS 2>/dev/null
    sleep 3
  fi
done
kill $SRV; wait $SRV 2>/dev/null
ip netns del ${P}c; ip netns del ${P}s
"#;

fn keepalived_conf(n: usize) -> String {
    let mut s = String::from("global_defs {\n  router_id bench\n}\n");
    for (port, base, check) in [
        (80, TCP_BASE, "TCP_CHECK {\n      connect_timeout 5\n    }"),
        (
            8080,
            HTTP_BASE,
            "HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }\n      connect_timeout 5\n    }",
        ),
    ] {
        s.push_str(&format!(
            "virtual_server 10.62.0.100 {port} {{\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n"
        ));
        for i in 0..n {
            s.push_str(&format!(
                "  real_server 10.62.0.2 {} {{\n    {check}\n  }}\n",
                base as usize + i
            ));
        }
        s.push_str("}\n");
    }
    s
}

fn build_example() -> Result<PathBuf, String> {
    crate::run(crate::cargo().current_dir(crate::root()).args([
        "build",
        "--release",
        "-p",
        "ka-check",
        "--example",
        "bench_checkers",
    ]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"));
    let bin = target.join("release/examples/bench_checkers");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{} was not built", bin.display()))
    }
}

fn prepare_out(out: &Path, seconds: u64) -> Result<(), String> {
    let _ = std::fs::remove_file(out.join("bench.txt"));
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let script = SCRIPT
        .replace("__TCP__", &TCP_BASE.to_string())
        .replace("__HTTP__", &HTTP_BASE.to_string());
    std::fs::write(out.join("bench.sh"), script).map_err(|e| format!("bench.sh: {e}"))?;
    std::fs::write(out.join("keepalived.conf"), keepalived_conf(N))
        .map_err(|e| format!("keepalived.conf: {e}"))?;
    let _ = seconds;
    Ok(())
}

/// One result line of bench.txt.
#[derive(Debug)]
struct Figure {
    who: String,
    cpu_pct: f64,
    checks_per_s: f64,
    accepted_per_s: f64,
    us_per_check: f64,
    user_us_per_check: f64,
    rss_kb: u64,
    segs_per_check: f64,
    rsts_per_check: f64,
    tw: String,
}

fn parse(text: &str) -> Vec<Result<Figure, String>> {
    text.lines()
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() < 9 {
                return Err(l.to_string());
            }
            let get = |k: &str| {
                w.iter()
                    .position(|x| *x == k)
                    .and_then(|i| w.get(i + 1))
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            let (ticks, secs, checks) = (get("cpu_ticks"), get("seconds"), get("checks"));
            let per_check = |v: f64| if checks > 0.0 { v / checks } else { 0.0 };
            let cpu_s = ticks / 100.0;
            Ok(Figure {
                who: w[0].to_string(),
                cpu_pct: 100.0 * cpu_s / secs.max(1.0),
                checks_per_s: checks / secs.max(1.0),
                accepted_per_s: get("accepted") / secs.max(1.0),
                us_per_check: per_check(cpu_s * 1e6),
                user_us_per_check: per_check(get("user_ticks") / 100.0 * 1e6),
                rss_kb: get("rss_kb") as u64,
                segs_per_check: per_check(get("segs")),
                rsts_per_check: per_check(get("rsts")),
                tw: format!("{}/{}", get("tw_checker"), get("tw_server")),
            })
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn report(place: &str, text: &str) {
    println!("## {place}");
    let figures = parse(text);
    for f in &figures {
        match f {
            Ok(f) => println!(
                "{:<11} CPU {:>6.1} % of one core   {:>7.0} checks/s ({:>5.0} accepted)   {:>6.1} µs CPU/check ({:>6.1} user)   RSS {:>6} kB   {:>4.1} segments/check ({:.2} RST)   TIME_WAIT checker/server {}",
                f.who,
                f.cpu_pct,
                f.checks_per_s,
                f.accepted_per_s,
                f.us_per_check,
                f.user_us_per_check,
                f.rss_kb,
                f.segs_per_check,
                f.rsts_per_check,
                f.tw
            ),
            Err(l) => println!("{l}"),
        }
    }
    let med = |who: &str| {
        median(
            figures
                .iter()
                .flatten()
                .filter(|f| f.who == who && f.us_per_check > 0.0)
                .map(|f| f.us_per_check)
                .collect(),
        )
    };
    match (med("keepalived"), med("ours")) {
        (Some(k), Some(o)) => println!(
            "median CPU per check: keepalived {k:.1} µs, ours {o:.1} µs: ours / keepalived = {:.2}",
            o / k
        ),
        (None, Some(o)) => println!("median CPU per check: ours {o:.1} µs"),
        _ => {}
    }
}

/// Entry point: `[SECONDS] [--rounds N] [--no-vm]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let rounds_at = args.iter().position(|a| a == "--rounds");
    let rounds: u32 = rounds_at
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let seconds: u64 = args
        .iter()
        .enumerate()
        .filter(|(i, _)| rounds_at.is_none_or(|r| *i != r + 1))
        .find_map(|(_, a)| a.parse().ok())
        .unwrap_or(20);
    let no_vm = args.iter().any(|a| a == "--no-vm");
    crate::setup::ensure_packages(&[
        ("/usr/sbin/ip", "iproute2"),
        ("/usr/sbin/keepalived", "keepalived"),
    ])?;
    let bin = build_example()?;
    // Host: keepalived once (its checker cannot start without IPVS; tried and reported),
    // then ours for every round.
    let host_out = crate::root().join("target/bench-checkers/host");
    prepare_out(&host_out, seconds)?;
    for (who, n) in [("keepalived", 1), ("ours", rounds)] {
        crate::run(
            Command::new("sh")
                .arg(host_out.join("bench.sh"))
                .arg(&host_out)
                .arg(&bin)
                .arg(N.to_string())
                .arg(seconds.to_string())
                .arg(who)
                .arg(n.to_string()),
        )?;
    }
    let host = std::fs::read_to_string(host_out.join("bench.txt")).unwrap_or_default();
    report("host kernel (no IPVS)", &host);
    if no_vm {
        return Ok(());
    }
    let vm = crate::vm::prepare()?;
    let vm_out = crate::root().join("target/bench-checkers/vm");
    let checks = [crate::vm::Check {
        name: "bench_checkers".into(),
        cmd: format!(
            "sh $OUT/bench.sh $OUT {} {N} {seconds} both {rounds}",
            bin.display()
        ),
    }];
    // Vm::run empties the folder: write the script after a first dry preparation.
    let plan_dir = vm_out.clone();
    let _ = std::fs::remove_dir_all(&plan_dir);
    let staged = crate::root().join("target/bench-checkers/vm-stage");
    prepare_out(&staged, seconds)?;
    let checks2: Vec<crate::vm::Check> = checks
        .iter()
        .map(|c| crate::vm::Check {
            name: c.name.clone(),
            cmd: format!(
                "cp {}/bench.sh {}/keepalived.conf $OUT/ && {}",
                staged.display(),
                staged.display(),
                c.cmd
            ),
        })
        .collect();
    let results = vm.run(
        &checks2,
        &vm_out,
        Duration::from_secs(60 + u64::from(rounds) * (2 * seconds + 60)),
    )?;
    let text = std::fs::read_to_string(vm_out.join("bench.txt")).unwrap_or_default();
    report("VM kernel (qemu TCG, 2 vCPUs)", &text);
    for (name, rc) in results {
        if rc != 0 {
            return Err(format!(
                "{name} exited {rc} in the VM; see {}",
                vm_out.display()
            ));
        }
    }
    Ok(())
}
