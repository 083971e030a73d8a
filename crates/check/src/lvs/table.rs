//! A view of an IPVS table: services and their destinations, compared on what the
//! configuration controls (not counters).

use ipvs_sys::{DestKey, Destination, Flags, Service, ServiceKey};
use std::collections::BTreeMap;

/// One service and its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub service: Service,
    pub dests: BTreeMap<DestKey, Destination>,
}

/// Services by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub services: BTreeMap<ServiceKey, Entry>,
}

impl Table {
    /// Number of destinations over all services.
    pub fn dest_count(&self) -> usize {
        self.services.values().map(|e| e.dests.len()).sum()
    }

    /// Add a service (replacing one with the same key) with no destinations.
    pub fn insert_service(&mut self, service: Service) -> &mut Entry {
        let key = service.key;
        let e = self.services.entry(key).or_insert_with(|| Entry {
            service: service.clone(),
            dests: BTreeMap::new(),
        });
        e.service = service;
        e
    }
}

/// Do two services have the same settings (ignoring counters and the kernel's own
/// `HASHED` bit)?
pub fn same_service(a: &Service, b: &Service) -> bool {
    let mask = !Flags::HASHED.0;
    a.key == b.key
        && a.scheduler == b.scheduler
        && (a.flags.0 & mask) == (b.flags.0 & mask)
        && a.timeout == b.timeout
        && a.netmask == b.netmask
        && a.pe_name.as_deref().unwrap_or("") == b.pe_name.as_deref().unwrap_or("")
}

/// Do two destinations have the same settings? Tunnel settings are compared only where
/// `want` sets them (kernels without tunnel attributes report none).
pub fn same_dest(want: &Destination, have: &Destination) -> bool {
    let opt = |w: Option<u16>, h: Option<u16>| w.is_none() || w.unwrap_or(0) == h.unwrap_or(0);
    want.addr == have.addr
        && want.port == have.port
        && want.method == have.method
        && want.weight == have.weight
        && want.u_threshold == have.u_threshold
        && want.l_threshold == have.l_threshold
        && (want.tun_type.is_none()
            || want.tun_type.map(|t| t.raw()) == Some(have.tun_type.map(|t| t.raw()).unwrap_or(0)))
        && opt(want.tun_port, have.tun_port)
        && opt(want.tun_flags, have.tun_flags)
}
