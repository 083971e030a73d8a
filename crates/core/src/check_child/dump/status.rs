//! The checker child's own status text, in keepalived-rs's words: per virtual server its
//! quorum, per real server its state, per checker its counts and whether `ha_suspend`
//! pauses it, then the IPVS table asked of the kernel. keepalived writes no checker
//! statistics; this is the checker's answer to a `stats` dump (`ctl dump stats` and the
//! tests), beside `keepalived_check.data` in keepalived's lines.

use std::fmt::Write as _;

use ipvs_sys::{Flags, ForwardMethod};
use ka_check::lvs::Table;

use super::super::runtime::Runtime;

fn method(m: ForwardMethod) -> &'static str {
    match m {
        ForwardMethod::Masq => "Masq",
        ForwardMethod::Local => "Local",
        ForwardMethod::Tunnel => "Tunnel",
        ForwardMethod::Route => "Route",
        ForwardMethod::Bypass => "Bypass",
    }
}

/// The IPVS table we asked for, in `ipvsadm -Ln`'s shape.
fn table_text(table: &Table, programmed: bool) -> String {
    let mut s = String::from("------< IPVS Topology >------\n");
    if !programmed {
        s.push_str(" (IPVS is not available: the table below is NOT in the kernel)\n");
    }
    for (key, e) in &table.services {
        let _ = write!(s, " {key} {}", e.service.scheduler);
        if e.service.flags.contains(Flags::PERSISTENT) {
            let _ = write!(s, " persistent {}", e.service.timeout);
        }
        s.push('\n');
        for d in e.dests.values() {
            let addr = match d.addr {
                std::net::IpAddr::V6(a) => format!("[{a}]:{}", d.port),
                a => format!("{a}:{}", d.port),
            };
            let _ = writeln!(s, "   -> {addr} {} {}", method(d.method), d.weight);
        }
    }
    s
}

/// The status text: the child, its checkers, then the IPVS table.
pub fn status_text(rt: &Runtime, table: &Table, programmed: bool, reloads: u32) -> String {
    let mut s = format!(
        "------< Checker child >------\n pid = {}\n reloads = {reloads}\n",
        std::process::id()
    );
    s.push_str(&rt.dump_text());
    s.push_str(&table_text(table, programmed));
    s
}
