//! `use_vmac`: a macvlan interface per VRRP instance carrying the virtual router MAC
//! (00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6, RFC 5798 §7.3), named
//! `vrrp.VRID` unless configured, created through rtnetlink on the instance's interface.
//!
//! What keepalived 2.2.7 does, as observed in a namespace (and reproduced here):
//! - the macvlan is in `private` mode, with IPv6 address generation off (`addr_gen_mode`
//!   1), so the kernel never adds a link-local address from the VMAC;
//! - IPv4 VMAC: `arp_ignore=1`, `accept_local=1`, `promote_secondaries=1` (and `rp_filter=0`)
//!   on the VMAC, and IPv6 disabled on it;
//! - IPv6 VMAC: the base interface's link-local address is copied onto the VMAC with
//!   `nodad` and a preferred lifetime of 0 (usable as an advert source, never chosen
//!   for other traffic);
//! - the base interface gets `arp_ignore=1` and `arp_filter=1`, so it does not answer ARP
//!   for the VIPs with its own MAC. The previous values are remembered and restored when
//!   the VMAC is deleted.

use std::fmt;
use std::fs;
use std::io;
use std::net::IpAddr;

use super::netlink::{AddressSpec, Change, MacvlanMode, MacvlanSpec, NetlinkError, Rtnl, Scope};

/// The virtual router MAC of `vrid` (RFC 5798 §7.3).
pub fn vmac_address(vrid: u8, v6: bool) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, if v6 { 0x02 } else { 0x01 }, vrid]
}

/// keepalived's default VMAC interface name, `vrrp.VRID` (`vmac_prefix` "vrrp").
pub fn default_name(vrid: u8) -> String {
    format!("vrrp.{vrid}")
}

/// What went wrong setting up or removing a VMAC.
#[derive(Debug)]
pub enum VmacError {
    /// An rtnetlink request failed.
    Netlink(NetlinkError),
    /// An interface with the VMAC's name exists but is not our macvlan.
    NameTaken { name: String, detail: String },
    /// A sysctl could not be read or written.
    Sysctl { path: String, source: io::Error },
}

impl fmt::Display for VmacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmacError::Netlink(e) => write!(f, "VMAC: {e}"),
            VmacError::NameTaken { name, detail } => {
                write!(f, "VMAC: interface {name} exists and is not ours: {detail}")
            }
            VmacError::Sysctl { path, source } => write!(f, "VMAC: sysctl {path}: {source}"),
        }
    }
}

impl std::error::Error for VmacError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VmacError::Netlink(e) => Some(e),
            VmacError::Sysctl { source, .. } => Some(source),
            VmacError::NameTaken { .. } => None,
        }
    }
}

impl From<NetlinkError> for VmacError {
    fn from(e: NetlinkError) -> VmacError {
        VmacError::Netlink(e)
    }
}

/// A VMAC to set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacSpec {
    /// Interface name (`use_vmac NAME`, default `vrrp.VRID`).
    pub name: String,
    /// Base interface index (the instance's `interface`).
    pub base: u32,
    /// Base interface name (for its sysctls).
    pub base_name: String,
    /// VRID.
    pub vrid: u8,
    /// IPv6 instance.
    pub v6: bool,
    /// MAC override (`use_vmac ... MAC`); default [`vmac_address`].
    pub mac: Option<[u8; 6]>,
}

impl VmacSpec {
    /// The default VMAC of an instance: `vrrp.VRID` on `base`.
    pub fn new(base: u32, base_name: &str, vrid: u8, v6: bool) -> VmacSpec {
        VmacSpec {
            name: default_name(vrid),
            base,
            base_name: base_name.to_string(),
            vrid,
            v6,
            mac: None,
        }
    }
}

/// A VMAC that exists, with what must be undone when it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    /// Interface index of the macvlan.
    pub ifindex: u32,
    /// Its name.
    pub name: String,
    /// Its MAC.
    pub mac: [u8; 6],
    /// Whether this call created it (false: it was already there, e.g. after a restart).
    pub created: bool,
    /// Base-interface sysctls changed, with their previous values.
    pub saved: Vec<(String, String)>,
}

fn conf_path(v6: bool, ifname: &str, key: &str) -> String {
    format!(
        "/proc/sys/net/{}/conf/{ifname}/{key}",
        if v6 { "ipv6" } else { "ipv4" }
    )
}

/// Write `value` to the sysctl file at `path` (in the calling thread's network namespace),
/// returning the previous value.
pub fn write_sysctl(path: &str, value: &str) -> Result<String, VmacError> {
    let err = |source| VmacError::Sysctl {
        path: path.to_string(),
        source,
    };
    let old = fs::read_to_string(path).map_err(err)?.trim().to_string();
    if old != value {
        fs::write(path, value).map_err(err)?;
    }
    Ok(old)
}

/// Read a sysctl file.
pub fn read_sysctl(path: &str) -> Result<String, VmacError> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|source| VmacError::Sysctl {
            path: path.to_string(),
            source,
        })
}

/// Create (or adopt) the VMAC, set the sysctls, bring it up. Must run in the network
/// namespace `rtnl` belongs to (the sysctls are read through /proc of the calling thread).
pub fn create(rtnl: &mut Rtnl, spec: &VmacSpec) -> Result<Vmac, VmacError> {
    // The names become /proc/sys paths: no separators, no "." or "..".
    for name in [&spec.name, &spec.base_name] {
        if name.is_empty()
            || name.len() > 15
            || name == "."
            || name == ".."
            || name.contains(['/', '\0'])
            || name.contains(char::is_whitespace)
        {
            return Err(VmacError::Netlink(NetlinkError::Invalid {
                what: "interface name",
                detail: format!("{name:?}"),
            }));
        }
    }
    let mac = spec.mac.unwrap_or_else(|| vmac_address(spec.vrid, spec.v6));
    let change = rtnl.add_macvlan(&MacvlanSpec {
        name: spec.name.clone(),
        base: spec.base,
        mac,
        mode: MacvlanMode::Private,
    })?;
    let link = rtnl
        .link_by_name(&spec.name)?
        .ok_or_else(|| NetlinkError::NoSuchLink {
            link: spec.name.clone(),
        })?;
    if change == Change::Unchanged
        && (link.kind.as_deref() != Some("macvlan")
            || link.parent != Some(spec.base)
            || link.mac6() != Some(mac))
    {
        return Err(VmacError::NameTaken {
            name: spec.name.clone(),
            detail: format!(
                "kind {:?}, parent {:?}, mac {:02x?}",
                link.kind, link.parent, link.mac
            ),
        });
    }
    let name = &spec.name;
    // No kernel-generated IPv6 addresses on the VMAC.
    write_sysctl(&conf_path(true, name, "addr_gen_mode"), "1")?;
    if spec.v6 {
        rtnl.set_link_up(link.ifindex, true)?;
        // Copy the base's link-local address (nodad, deprecated) as the advert source.
        let base_ll = rtnl
            .addresses(Some(spec.base), Some(true))?
            .into_iter()
            .find(|a| a.scope == Scope::Link && !a.is_tentative());
        if let Some(ll) = base_ll {
            let mut a = AddressSpec::new(link.ifindex, ll.addr);
            a.prefix_len = 64;
            a.scope = Scope::Link;
            a.nodad = true;
            a.preferred_lft = Some(0);
            rtnl.add_address(&a)?;
        }
    } else {
        for (key, value) in [
            ("arp_ignore", "1"),
            ("accept_local", "1"),
            ("rp_filter", "0"),
            ("promote_secondaries", "1"),
        ] {
            write_sysctl(&conf_path(false, name, key), value)?;
        }
        write_sysctl(&conf_path(true, name, "disable_ipv6"), "1")?;
        rtnl.set_link_up(link.ifindex, true)?;
    }
    let mut saved = Vec::new();
    for (key, value) in [("arp_ignore", "1"), ("arp_filter", "1")] {
        let path = conf_path(false, &spec.base_name, key);
        let old = write_sysctl(&path, value)?;
        saved.push((path, old));
    }
    Ok(Vmac {
        ifindex: link.ifindex,
        name: spec.name.clone(),
        mac,
        created: change == Change::Done,
        saved,
    })
}

/// Delete the VMAC and restore the base interface's sysctls. `others_remain` keeps the
/// base sysctls as they are when other VMACs still use the same base.
pub fn delete(rtnl: &mut Rtnl, vmac: &Vmac, others_remain: bool) -> Result<Change, VmacError> {
    let change = rtnl.del_link(vmac.ifindex)?;
    if !others_remain {
        for (path, old) in &vmac.saved {
            // The base may be gone too; that is not an error worth failing for.
            if let Err(e) = write_sysctl(path, old) {
                log::debug!("not restoring {path}: {e}");
            }
        }
    }
    Ok(change)
}

/// Does `addr` look like a usable IPv6 advert source for a VMAC (link-local)?
pub fn is_link_local(addr: &IpAddr) -> bool {
    matches!(addr, IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_never_reach_proc() {
        // Rejected before any request: no netlink socket is needed to see it.
        let spec = VmacSpec::new(1, "../../kernel", 1, false);
        let mut rtnl = match Rtnl::open() {
            Ok(r) => r,
            Err(_) => return, // no netlink here: nothing to test
        };
        assert!(matches!(
            create(&mut rtnl, &spec),
            Err(VmacError::Netlink(NetlinkError::Invalid { .. }))
        ));
    }

    #[test]
    fn addresses_and_names() {
        assert_eq!(vmac_address(51, false), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(vmac_address(255, true), [0, 0, 0x5e, 0, 2, 255]);
        assert_eq!(default_name(7), "vrrp.7");
        assert_eq!(
            conf_path(false, "vrrp.7", "arp_ignore"),
            "/proc/sys/net/ipv4/conf/vrrp.7/arp_ignore"
        );
        assert!(is_link_local(&"fe80::1".parse().expect("lit")));
        assert!(!is_link_local(&"10.0.0.1".parse().expect("lit")));
    }
}
