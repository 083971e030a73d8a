//! The checker child's dumps: `keepalived_check.data` (SIGUSR1) as text, and a JSON view.

use std::fmt::Write as _;

use ipvs_sys::{Flags, ForwardMethod};

use super::runtime::Runtime;
use ka_check::lvs::Table;

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
pub fn table_text(table: &Table, programmed: bool) -> String {
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

/// `keepalived_check.data`: real servers and checkers, then the IPVS table.
pub fn data_text(rt: &Runtime, table: &Table, programmed: bool, reloads: u32) -> String {
    let mut s = format!(
        "------< Checker child >------\n pid = {}\n reloads = {reloads}\n",
        std::process::id()
    );
    s.push_str(&rt.dump_text());
    s.push_str(&table_text(table, programmed));
    s
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A JSON array of virtual servers with their real servers' states.
pub fn json_text(rt: &Runtime) -> String {
    let mut s = String::from("[");
    for (i, vs) in rt.health().dump().iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            "{{\"virtual_server\":{},\"quorum_up\":{},\"alive_weight\":{},\"sorry_active\":{},\"real_servers\":[",
            json_str(&vs.name),
            vs.quorum_up,
            vs.alive_weight,
            vs.sorry_active
        );
        for (j, rs) in vs.real_servers.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                "{{\"real_server\":{},\"alive\":{},\"weight\":{},\"failed_checks\":{}}}",
                json_str(&rs.name),
                rs.alive,
                rs.weight,
                rs.failed_checks
            );
        }
        s.push_str("]}");
    }
    s.push_str("]\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
