//! The netlink monitor: a non-blocking socket subscribed to link and address changes
//! (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR), registered with mio, whose
//! messages are decoded into [`NetEvent`]s for `track_interface`, FAULT on the instance's
//! own link, and `track_src_ip`. On demand ([`Monitor::watch_routes`]) also route and
//! rule changes (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE,
//! RTNLGRP_IPV6_RULE), of which only deletions are decoded: `virtual_routes` and
//! `virtual_rules` deleted by hand.

use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};

use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use super::address::AddressInfo;
use super::deleted::{rule_of_message, RouteKey};
use super::link::LinkInfo;
use super::{drain, split_messages, Datagram, NetlinkError};

const RTMGRP_LINK: u32 = 0x1;
const RTMGRP_IPV4_IFADDR: u32 = 0x10;
const RTMGRP_IPV6_IFADDR: u32 = 0x100;
/// RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV6_RULE (group
/// numbers, for NETLINK_ADD_MEMBERSHIP).
const ROUTE_GROUPS: [u32; 4] = [7, 8, 11, 19];

/// A link or address change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// A link appeared or changed (flags, operational state, name, MAC...).
    Link(LinkInfo),
    /// A link was deleted.
    LinkRemoved {
        /// Its index.
        ifindex: u32,
        /// Its name.
        name: String,
    },
    /// An address was added (or changed, e.g. left the tentative state).
    AddressAdded(AddressInfo),
    /// An address was removed.
    AddressRemoved(AddressInfo),
    /// A route tagged `keepalived` (as ours are) was deleted.
    RouteRemoved(RouteKey),
    /// A rule was deleted.
    RuleRemoved(crate::install::Rule),
    /// The kernel dropped events (receive buffer overrun, ENOBUFS): the state must be
    /// re-read with dumps.
    Overrun,
}

impl NetEvent {
    /// The interface the event is about, if any.
    pub fn ifindex(&self) -> Option<u32> {
        match self {
            NetEvent::Link(l) => Some(l.ifindex),
            NetEvent::LinkRemoved { ifindex, .. } => Some(*ifindex),
            NetEvent::AddressAdded(a) | NetEvent::AddressRemoved(a) => Some(a.ifindex),
            NetEvent::Overrun | NetEvent::RouteRemoved(_) | NetEvent::RuleRemoved(_) => None,
        }
    }

    /// The address, for address events.
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            NetEvent::AddressAdded(a) | NetEvent::AddressRemoved(a) => Some(a.addr),
            _ => None,
        }
    }
}

/// Decode one rtnetlink message into an event (`None` for anything else).
pub fn decode(message: &RouteNetlinkMessage) -> Option<NetEvent> {
    match message {
        RouteNetlinkMessage::NewLink(l) => Some(NetEvent::Link(LinkInfo::from_message(l))),
        RouteNetlinkMessage::DelLink(l) => {
            let info = LinkInfo::from_message(l);
            Some(NetEvent::LinkRemoved {
                ifindex: info.ifindex,
                name: info.name,
            })
        }
        RouteNetlinkMessage::NewAddress(a) => {
            AddressInfo::from_message(a).map(NetEvent::AddressAdded)
        }
        RouteNetlinkMessage::DelAddress(a) => {
            AddressInfo::from_message(a).map(NetEvent::AddressRemoved)
        }
        RouteNetlinkMessage::DelRoute(r) => RouteKey::from_message(r).map(NetEvent::RouteRemoved),
        RouteNetlinkMessage::DelRule(r) => rule_of_message(r).map(NetEvent::RuleRemoved),
        _ => None,
    }
}

/// A non-blocking rtnetlink socket that receives link and address events.
#[derive(Debug)]
pub struct Monitor {
    sock: Socket,
    buf: Vec<u8>,
    /// Subscribed to route and rule changes.
    routes: bool,
}

impl Monitor {
    /// Open the monitor in the current network namespace. `rx_buf_size` enlarges the
    /// socket's receive buffer (many interfaces changing at once).
    pub fn open(rx_buf_size: Option<usize>) -> Result<Monitor, NetlinkError> {
        let err = |what| move |source| NetlinkError::Socket { what, source };
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(err("socket"))?;
        let groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
        sock.bind(&SocketAddr::new(0, groups))
            .map_err(err("bind"))?;
        sock.set_non_blocking(true).map_err(err("O_NONBLOCK"))?;
        socket2::SockRef::from(&sock)
            .set_cloexec(true)
            .map_err(err("FD_CLOEXEC"))?;
        if let Some(size) = rx_buf_size {
            sock.set_rx_buf_sz(size).map_err(err("SO_RCVBUF"))?;
        }
        Ok(Monitor {
            sock,
            buf: vec![0; 64 * 1024],
            routes: false,
        })
    }

    /// Receive route and rule changes too (`on`), or stop (with a routing table churning,
    /// each change wakes the reader: only worth it when routes or rules are tracked).
    pub fn watch_routes(&mut self, on: bool) -> Result<(), NetlinkError> {
        if on == self.routes {
            return Ok(());
        }
        for g in ROUTE_GROUPS {
            let r = if on {
                self.sock.add_membership(g)
            } else {
                self.sock.drop_membership(g)
            };
            r.map_err(|source| NetlinkError::Socket {
                what: "NETLINK_ADD_MEMBERSHIP",
                source,
            })?;
        }
        self.routes = on;
        Ok(())
    }

    /// Read every pending message and append the decoded events to `out`. Returns when
    /// the socket would block. An overrun is reported as [`NetEvent::Overrun`], not as an
    /// error.
    pub fn read_events(&mut self, out: &mut Vec<NetEvent>) -> Result<(), NetlinkError> {
        drain(&self.sock, &mut self.buf, |datagram| match datagram {
            Datagram::Bytes(bytes) => {
                for m in split_messages(bytes).into_iter().flatten() {
                    match m.payload {
                        NetlinkPayload::InnerMessage(inner) => out.extend(decode(&inner)),
                        NetlinkPayload::Overrun(_) => out.push(NetEvent::Overrun),
                        _ => {}
                    }
                }
            }
            Datagram::Overrun => out.push(NetEvent::Overrun),
        })
        .map_err(|source| NetlinkError::Recv {
            request: "link/address events".into(),
            source,
        })
    }
}

impl AsRawFd for Monitor {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

mio_source_via_fd!(Monitor);
