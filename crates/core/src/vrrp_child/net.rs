//! The kernel side of the VRRP child: links and their addresses as rtnetlink reports them,
//! the raw VRRP sockets (one receiving socket per interface and family, sending sockets per
//! source), gratuitous ARP / unsolicited NA senders, and the translation of the engine's
//! address sets into rtnetlink address, route and rule requests.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Instant;
use vrrp::install::{Route, Rule};
use vrrp::linux::arp::GarpSender;
use vrrp::linux::ndisc::NaSender;
use vrrp::linux::netlink::{
    AddressSpec, LinkInfo, NetlinkError, NextHop, RouteSpec, Rtnl, RuleSpec,
};
use vrrp::linux::pacer::{Announce, Pacer};
use vrrp::linux::socket::{Family as SockFamily, SocketConfig, SocketError, VrrpSocket};

/// The receive buffer of a VRRP receive socket unless `kernel_rx_buf_size` says otherwise.
const DEFAULT_RX_BUF: usize = 1 << 20;
use vrrp::{AddressSet, Family, Vip};

/// Errors of the kernel side, naming what was being done.
#[derive(Debug)]
pub enum NetError {
    /// An rtnetlink request failed.
    Netlink(NetlinkError),
    /// A VRRP socket could not be opened or used.
    Socket(SocketError),
    /// An interface named in the configuration does not exist.
    NoInterface(String),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Netlink(e) => write!(f, "{e}"),
            NetError::Socket(e) => write!(f, "{e}"),
            NetError::NoInterface(i) => write!(f, "interface {i} does not exist"),
        }
    }
}

impl std::error::Error for NetError {}

impl From<NetlinkError> for NetError {
    fn from(e: NetlinkError) -> Self {
        NetError::Netlink(e)
    }
}

impl From<SocketError> for NetError {
    fn from(e: SocketError) -> Self {
        NetError::Socket(e)
    }
}

/// A receiving VRRP socket for one interface and family.
#[derive(Debug)]
pub struct RecvSocket {
    /// The interface as the engine names it.
    pub ifname: String,
    /// The family.
    pub family: Family,
    /// The socket.
    pub sock: VrrpSocket,
    /// Multicast groups joined.
    pub groups: BTreeSet<IpAddr>,
}

/// What one receiving socket must be: interface, family, groups to join.
pub type RecvNeed = (String, Family, BTreeSet<IpAddr>);

fn sock_family(f: Family) -> SockFamily {
    match f {
        Family::V4 => SockFamily::V4,
        Family::V6 => SockFamily::V6,
    }
}

/// Links, addresses and sockets.
pub struct Net {
    /// rtnetlink requests (blocking round trips; never before an advert on takeover).
    pub rtnl: Rtnl,
    links: HashMap<String, LinkInfo>,
    names: HashMap<u32, String>,
    /// Sending sockets by interface, then (source, TTL): found from the engine's `&str`
    /// without building a key per advert.
    send: vrrp::fasthash::FastMap<String, Vec<(IpAddr, u8, VrrpSocket)>>,
    garp: Option<GarpSender>,
    na: Option<NaSender>,
    pacer: Pacer,
    /// Addresses we install (never taken as an interface's own address).
    pub ours: HashSet<IpAddr>,
    /// The VIPs installed now, to notice one deleted by someone else.
    pub vips: super::vip_track::VipWatch,
}

impl fmt::Debug for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Net")
            .field("links", &self.links.len())
            .field(
                "send_sockets",
                &self.send.values().map(Vec::len).sum::<usize>(),
            )
            .finish()
    }
}

impl Net {
    /// Open rtnetlink and read the links.
    pub fn open() -> Result<Net, NetError> {
        let mut net = Net {
            rtnl: Rtnl::open()?,
            links: HashMap::new(),
            names: HashMap::new(),
            send: vrrp::fasthash::FastMap::default(),
            garp: None,
            na: None,
            pacer: Pacer::default(),
            ours: HashSet::new(),
            vips: Default::default(),
        };
        net.reread_links()?;
        Ok(net)
    }

    /// Re-read every link (after a monitor overrun).
    pub fn reread_links(&mut self) -> Result<(), NetError> {
        let links = self.rtnl.links()?;
        self.links.clear();
        self.names.clear();
        for l in links {
            self.update_link(l);
        }
        Ok(())
    }

    /// Record a link's new state; returns its previous up/down state (None: new link).
    pub fn update_link(&mut self, l: LinkInfo) -> Option<bool> {
        if let Some(old) = self.names.get(&l.ifindex).cloned() {
            if old != l.name {
                self.links.remove(&old);
            }
        }
        self.names.insert(l.ifindex, l.name.clone());
        self.links.insert(l.name.clone(), l).map(|o| o.is_up())
    }

    /// A link went away.
    pub fn remove_link(&mut self, ifindex: u32) -> Option<String> {
        let name = self.names.remove(&ifindex)?;
        self.links.remove(&name);
        self.send.remove(&name);
        Some(name)
    }

    /// The link called `name`.
    pub fn link(&self, name: &str) -> Option<&LinkInfo> {
        self.links.get(name)
    }

    /// The name of interface `ifindex`.
    pub fn name_of(&self, ifindex: u32) -> Option<&str> {
        self.names.get(&ifindex).map(String::as_str)
    }

    /// Is the link up (admin up and running)? Unknown links are down.
    pub fn is_up(&self, name: &str) -> bool {
        self.links.get(name).is_some_and(LinkInfo::is_up)
    }

    fn ifindex(&self, name: &str) -> Result<u32, NetError> {
        self.links
            .get(name)
            .map(|l| l.ifindex)
            .ok_or_else(|| NetError::NoInterface(name.to_string()))
    }

    /// The address adverts of `family` on `iface` go out from when none is configured:
    /// IPv4 the first primary address that is not one of ours; IPv6 the first usable
    /// link-local address.
    pub fn primary_address(&mut self, iface: &str, family: Family) -> Option<IpAddr> {
        let ifindex = self.ifindex(iface).ok()?;
        let v6 = family == Family::V6;
        let addrs = match self.rtnl.addresses(Some(ifindex), Some(v6)) {
            Ok(a) => a,
            Err(e) => {
                log::warn!("cannot read the addresses of {iface}: {e}");
                return None;
            }
        };
        addrs
            .into_iter()
            .filter(|a| !self.ours.contains(&a.addr))
            .filter(|a| match a.addr {
                // IFA_F_SECONDARY
                IpAddr::V4(_) => a.flags & 0x01 == 0 && !a.is_tentative(),
                // A link-local address still in DAD is taken (as keepalived does): a
                // backup sends nothing, and DAD is over long before a takeover. One whose
                // DAD failed (IFA_F_DADFAILED) is not.
                IpAddr::V6(v) => is_link_local(&v) && a.flags & 0x08 == 0,
            })
            .map(|a| a.addr)
            .next()
    }

    /// Open a receiving socket for `need`; `None` when the interface does not exist yet.
    pub fn open_recv(
        &self,
        need: &RecvNeed,
        rx_buf: Option<usize>,
    ) -> Result<Option<RecvSocket>, NetError> {
        let (ifname, family, groups) = need;
        let Some(link) = self.links.get(ifname) else {
            return Ok(None);
        };
        let mut cfg = SocketConfig::multicast(ifname, link.ifindex, sock_family(*family));
        cfg.group = None;
        // Room for a burst while the loop is busy or starved (a flood, a loaded machine):
        // 1 MiB holds about 1,300 adverts, over 100 ms at 10k pps. The kernel caps it at
        // net.core.rmem_max. `kernel_rx_buf_size` overrides it.
        cfg.rx_buf_size = Some(rx_buf.unwrap_or(DEFAULT_RX_BUF));
        let sock = VrrpSocket::open(cfg)?;
        for g in groups {
            sock.join(*g)?;
        }
        Ok(Some(RecvSocket {
            ifname: ifname.clone(),
            family: *family,
            sock,
            groups: groups.clone(),
        }))
    }

    fn socket_for(&mut self, iface: &str, src: IpAddr, ttl: u8) -> Result<&VrrpSocket, NetError> {
        let have = self
            .send
            .get(iface)
            .and_then(|v| v.iter().position(|(s, t, _)| *s == src && *t == ttl));
        let k = match have {
            Some(k) => k,
            None => {
                let ifindex = if iface.is_empty() {
                    0
                } else {
                    self.ifindex(iface)?
                };
                let mut cfg = SocketConfig::unicast(iface, ifindex, src);
                cfg.unicast_ttl = ttl;
                let sock = VrrpSocket::open(cfg)?;
                // This socket only sends, but a raw socket gets every VRRP packet of its
                // interface: a filter that accepts nothing keeps them out of its queue (with
                // only a tiny buffer, a flood overflowed it, hiding real drops on the read
                // sockets).
                let sref = socket2::SockRef::from(&sock);
                let _ = sref.attach_filter(&[socket2::SockFilter::new(
                    (libc::BPF_RET | libc::BPF_K) as u16,
                    0,
                    0,
                    0,
                )]);
                let _ = sref.set_recv_buffer_size(0);
                // Bound to its source address, it does not even match the adverts the
                // group receives (the kernel compares a raw socket's bound address with a
                // packet's destination), so none is cloned for it only to be dropped: a
                // copy per received advert less in the kernel.
                let scope = match src {
                    IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80 => ifindex,
                    _ => 0,
                };
                let local = match src {
                    IpAddr::V4(a) => std::net::SocketAddr::V4(std::net::SocketAddrV4::new(a, 0)),
                    IpAddr::V6(a) => {
                        std::net::SocketAddr::V6(std::net::SocketAddrV6::new(a, 0, 0, scope))
                    }
                };
                let mut bound = sref.bind(&local.into());
                if bound
                    .as_ref()
                    .is_err_and(|e| e.raw_os_error() == Some(libc::EADDRNOTAVAIL))
                {
                    // A configured source address that is not on the host (yet): keepalived
                    // 2.3.3+ sends from it all the same (IP_FREEBIND, and its own IP
                    // header). Here FREEBIND lets the bind through and TRANSPARENT lets
                    // the kernel route packets from an address it does not own.
                    let _ = match src {
                        IpAddr::V4(_) => sref
                            .set_freebind_v4(true)
                            .and_then(|()| sref.set_ip_transparent_v4(true)),
                        IpAddr::V6(_) => sref
                            .set_freebind_v6(true)
                            .and_then(|()| sref.set_ip_transparent_v6(true)),
                    };
                    bound = sref.bind(&local.into());
                }
                if let Err(e) = bound {
                    log::debug!("cannot bind the sending socket of {iface} to {src}: {e}");
                }
                let v = self.send.entry(iface.to_string()).or_default();
                v.push((src, ttl, sock));
                v.len() - 1
            }
        };
        self.send
            .get(iface)
            .and_then(|v| v.get(k))
            .map(|(_, _, s)| s)
            .ok_or_else(|| NetError::NoInterface(iface.to_string()))
    }

    /// Open the sending socket for (`iface`, `src`, `ttl`) now rather than at takeover.
    pub fn warm(&mut self, iface: &str, src: IpAddr, ttl: u8) -> Result<(), NetError> {
        self.socket_for(iface, src, ttl).map(|_| ())
    }

    /// Open the GARP and NA senders now rather than at takeover.
    pub fn warm_garp(&mut self) {
        if self.garp.is_none() {
            self.garp = GarpSender::open().ok();
        }
        if self.na.is_none() {
            self.na = NaSender::open().ok();
        }
    }

    /// Send `packets` (`(bytes, dst)`, adverts of one interface, source and TTL; a sending
    /// socket per interface, source and TTL, opened on first use) with as few
    /// system calls as the kernel allows (`sendmmsg`, 16 a call). Returns the index and
    /// error of each one that could not be sent; the others went.
    pub fn send_adverts(
        &mut self,
        iface: &str,
        src: IpAddr,
        ttl: u8,
        packets: &[(&[u8], IpAddr)],
    ) -> Vec<(usize, String)> {
        let sock = match self.socket_for(iface, src, ttl) {
            Ok(s) => s,
            Err(e) => {
                let e = e.to_string();
                return (0..packets.len()).map(|k| (k, e.clone())).collect();
            }
        };
        let mut errors = Vec::new();
        let mut done = 0;
        while let Some(rest) = packets.get(done..).filter(|r| !r.is_empty()) {
            match sock.send_batch(rest, sock.config().src, None) {
                Ok(n) if n > 0 => done += n,
                Ok(_) => {
                    errors.push((done, "nothing sent".to_string()));
                    done += 1;
                }
                Err(e) => {
                    errors.push((done, e.to_string()));
                    done += 1;
                }
            }
        }
        errors
    }

    fn vip_ifname<'a>(vip: &'a Vip, iface: &'a str) -> &'a str {
        vip.dev.as_deref().unwrap_or(iface)
    }

    /// The MAC of `vip`'s interface, with its index.
    fn announce_link(&self, vip: &Vip, iface: &str) -> Result<(u32, [u8; 6]), String> {
        let name = Self::vip_ifname(vip, iface);
        self.links
            .get(name)
            .and_then(|l| Some((l.ifindex, l.mac6()?)))
            .ok_or_else(|| format!("no MAC for {name}"))
    }

    /// Set the GARP/NA pacing: global `vrrp_garp_interval` / `vrrp_gna_interval`, and the
    /// `garp_group` intervals of the interfaces that exist now.
    pub fn configure_pacing(&mut self, config: &ka_proto::config::Config) {
        self.pacer.reconfigure(
            config.global.vrrp_garp_interval,
            config.global.vrrp_gna_interval,
        );
        for g in &config.garp_groups {
            for name in &g.interfaces {
                match self.links.get(name) {
                    Some(l) => self
                        .pacer
                        .set_interface(l.ifindex, g.garp_interval, g.gna_interval),
                    None => log::warn!("garp_group: interface {name} does not exist"),
                }
            }
        }
    }

    /// Gratuitous ARPs (IPv4 `addrs`) or unsolicited NAs (IPv6), `repeat` rounds, paced:
    /// what may go now is sent, the rest waits for [`Net::send_due`]. Returns errors.
    pub fn announce(&mut self, iface: &str, addrs: &[Vip], repeat: u32, v6: bool) -> Vec<String> {
        let mut errors = Vec::new();
        let mut list = Vec::new();
        for vip in addrs {
            let a = match (vip.addr, v6) {
                (IpAddr::V4(addr), false) => match self.announce_link(vip, iface) {
                    Ok((ifindex, mac)) => Announce::Garp { ifindex, mac, addr },
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
                (IpAddr::V6(addr), true) => match self.announce_link(vip, iface) {
                    Ok((ifindex, mac)) => Announce::Na {
                        ifindex,
                        mac,
                        addr,
                        router: false,
                    },
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
                _ => continue,
            };
            list.push(a);
        }
        let now = Instant::now();
        let out = self.pacer.burst(now, &list, repeat);
        errors.extend(self.send_announces(&out));
        errors
    }

    /// Send the paced announcements due at `now`. Returns errors.
    pub fn send_due(&mut self, now: Instant) -> Vec<String> {
        if self.pacer.is_empty() {
            return Vec::new();
        }
        let out = self.pacer.due(now);
        self.send_announces(&out)
    }

    /// When paced announcements are next due (`None`: nothing queued).
    pub fn announce_deadline(&self, now: Instant) -> Option<Instant> {
        self.pacer.next_deadline(now)
    }

    fn send_announces(&mut self, out: &[Announce]) -> Vec<String> {
        let mut errors = Vec::new();
        let need_garp = out.iter().any(|a| matches!(a, Announce::Garp { .. }));
        let need_na = out.iter().any(|a| matches!(a, Announce::Na { .. }));
        if need_garp && self.garp.is_none() {
            match GarpSender::open() {
                Ok(g) => self.garp = Some(g),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if need_na && self.na.is_none() {
            match NaSender::open() {
                Ok(g) => self.na = Some(g),
                Err(e) => errors.push(e.to_string()),
            }
        }
        for a in out {
            let r = match (a, &self.garp, &self.na) {
                (Announce::Garp { ifindex, mac, addr }, Some(g), _) => {
                    g.send(*ifindex, *mac, *addr).map_err(|e| e.to_string())
                }
                (
                    Announce::Na {
                        ifindex,
                        mac,
                        addr,
                        router,
                    },
                    _,
                    Some(n),
                ) => n
                    .send(*ifindex, *mac, *addr, *router, None)
                    .map_err(|e| e.to_string()),
                _ => Ok(()),
            };
            if let Err(e) = r {
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
        errors
    }

    fn address_specs(&self, iface: &str, set: &AddressSet) -> (Vec<AddressSpec>, Vec<String>) {
        let mut specs = Vec::new();
        let mut errors = Vec::new();
        for vip in set.vips.iter().chain(&set.excluded) {
            let name = Self::vip_ifname(vip, iface);
            let ifindex = match self.ifindex(name) {
                Ok(i) => i,
                Err(e) => {
                    errors.push(format!("{}: {e}", vip.addr));
                    continue;
                }
            };
            specs.push(AddressSpec::for_vip(ifindex, vip));
        }
        (specs, errors)
    }

    /// Install addresses, routes and rules; "already there" is success. Returns errors.
    pub fn add_set(&mut self, iface: &str, set: &AddressSet) -> Vec<String> {
        self.vips.added(set);
        self.apply_set(iface, set, true)
    }

    /// Remove addresses, routes and rules; "not there" is success. Returns errors.
    pub fn del_set(&mut self, iface: &str, set: &AddressSet) -> Vec<String> {
        // Announcements still queued for these addresses must not go out any more.
        let gone: HashSet<IpAddr> = set
            .vips
            .iter()
            .chain(&set.excluded)
            .map(|v| v.addr)
            .collect();
        self.vips.removed(set);
        self.pacer.retain(|a| {
            let addr = match a {
                Announce::Garp { addr, .. } => IpAddr::V4(*addr),
                Announce::Na { addr, .. } => IpAddr::V6(*addr),
            };
            !gone.contains(&addr)
        });
        self.apply_set(iface, set, false)
    }

    fn apply_set(&mut self, iface: &str, set: &AddressSet, add: bool) -> Vec<String> {
        let (specs, mut errors) = self.address_specs(iface, set);
        if !specs.is_empty() {
            let results = if add {
                self.rtnl.add_addresses(&specs)
            } else {
                self.rtnl.del_addresses(&specs)
            };
            errors.extend(
                results
                    .into_iter()
                    .filter_map(|r| r.err())
                    .map(|e| e.to_string()),
            );
        }
        let mut routes = Vec::new();
        for r in &set.routes {
            match self.route_spec(r, iface) {
                Ok(s) => routes.push(s),
                Err(e) => errors.push(e.to_string()),
            }
        }
        let rules: Vec<RuleSpec> = set.rules.iter().map(rule_spec).collect();
        // Routes after addresses (a route may use a VIP as `src`); rules last. Removal
        // goes the other way round.
        if add {
            for s in &routes {
                if let Err(e) = self.rtnl.add_route(s) {
                    errors.push(e.to_string());
                }
            }
            for s in &rules {
                if let Err(e) = self.rtnl.add_rule(s) {
                    errors.push(e.to_string());
                }
            }
        } else {
            for s in &rules {
                if let Err(e) = self.rtnl.del_rule(s) {
                    errors.push(e.to_string());
                }
            }
            for s in &routes {
                if let Err(e) = self.rtnl.del_route(s) {
                    errors.push(e.to_string());
                }
            }
        }
        errors
    }

    /// The request for `r`: only the interface is left to resolve (a missing one is
    /// the one error a typed route can meet at install time).
    fn route_spec(&self, r: &Route, iface: &str) -> Result<RouteSpec, NetError> {
        let mut s = RouteSpec::new(r.dst.0, r.dst.1);
        s.from = r.from;
        s.src = r.src;
        s.gateway = r.via;
        s.kind = r.kind;
        let dev = r
            .dev
            .as_deref()
            .or((r.via.is_none() && !iface.is_empty()).then_some(iface));
        if let Some(d) = dev.filter(|_| !r.kind.drops()) {
            s.oif = Some(self.ifindex(d)?);
        }
        if let (Some(first), Some(second)) = (r.via, r.or_via) {
            // `via A or B`: one route over both gateways, on the same device.
            s.gateway = None;
            s.nexthops = [first, second]
                .into_iter()
                .map(|g| NextHop {
                    gateway: Some(g),
                    oif: s.oif,
                    weight: 1,
                    onlink: r.onlink,
                })
                .collect();
        }
        if let Some(t) = r.table {
            s.table = t;
        }
        s.metric = r.metric;
        s.scope = r.scope;
        s.onlink = r.onlink;
        Ok(s)
    }
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80
}

fn rule_spec(r: &Rule) -> RuleSpec {
    RuleSpec::from(r.clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use vrrp::install::RuleAction;

    #[test]
    fn rules_carry_their_typed_action_and_fwmark() {
        let mut r = Rule::to_table(false, 100);
        r.from = Some(("10.0.0.0".parse().unwrap(), 8));
        r.fwmark = Some((16, Some(255)));
        let s = rule_spec(&r);
        assert_eq!(s.rule.action, RuleAction::Table(100));
        assert_eq!(s.rule.from, Some(("10.0.0.0".parse().unwrap(), 8)));
        assert_eq!(s.rule.fwmark, Some((16, Some(255))));
        r.action = RuleAction::Blackhole;
        assert_eq!(rule_spec(&r).rule.action, RuleAction::Blackhole);
    }
}
