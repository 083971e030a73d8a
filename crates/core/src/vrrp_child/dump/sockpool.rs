//! keepalived.data's "VRRP Sockpool" section, in keepalived 2.4.3's lines: one entry per
//! receiving interface, family, protocol (VRRP, or AH for `auth_type AH`) and (for
//! unicast) source address, with the instances
//! using it, in the order of their first instance. The file descriptors are ours (`fd_in`
//! and `fd_out` are keepalived's socket numbers; ours are shared differently), written
//! as -1.

use super::*;

/// One socket of keepalived's pool: what tells it apart, and who uses it.
struct Entry {
    iface: String,
    family: vrrp::Family,
    ah: bool,
    /// The source address of a unicast socket.
    unicast: Option<std::net::IpAddr>,
    rx_buf: u32,
    /// Name and VRID.
    instances: Vec<(String, u8)>,
}

/// The section, title included.
pub(super) fn data_sockpool(s: &mut String, engine: &Engine, facts: &DumpFacts) {
    let mut pool: Vec<Entry> = Vec::new();
    for i in engine.instances() {
        let c = i.config;
        let f = facts.of(i.name);
        let iface = f
            .and_then(|f| f.vmac_ifname.clone())
            .unwrap_or_else(|| c.interface.clone());
        let ah = matches!(c.auth, vrrp::Auth::Ah(_));
        let unicast = c.is_unicast().then_some(i.src).flatten();
        let inst = (i.name.to_string(), c.vrid);
        let same = |e: &&mut Entry| {
            e.iface == iface && e.family == c.family && e.ah == ah && e.unicast == unicast
        };
        match pool.iter_mut().find(same) {
            Some(e) => e.instances.push(inst),
            None => pool.push(Entry {
                iface,
                family: c.family,
                ah,
                unicast,
                rx_buf: f.and_then(|f| f.kernel_rx_buf_size).unwrap_or(0),
                instances: vec![inst],
            }),
        }
    }
    let _ = writeln!(s, "------< VRRP Sockpool >------");
    for e in pool {
        let _ = writeln!(s, " fd_in -1 fd_out = -1");
        let _ = writeln!(s, "   Interface = {}", e.iface);
        let fam = match e.family {
            vrrp::Family::V4 => "IPv4",
            vrrp::Family::V6 => "IPv6",
        };
        let _ = writeln!(s, "   Family = {fam}");
        let _ = writeln!(s, "   Protocol = {}", if e.ah { "AH" } else { "VRRP" });
        match e.unicast {
            Some(a) => {
                let _ = writeln!(s, "   Type = Unicast");
                let _ = writeln!(s, "   Address = {a}");
            }
            None => {
                let _ = writeln!(s, "   Type = Multicast");
            }
        }
        let _ = writeln!(s, "   Rx buf size = {}", e.rx_buf);
        let _ = writeln!(s, "   VRRP instances");
        for (name, vrid) in e.instances {
            let _ = writeln!(s, "     {name} vrid {vrid}");
        }
    }
}
