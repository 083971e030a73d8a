//! A synchronous IPVS client over one generic-netlink socket.

use crate::abi::nl::*;
use crate::abi::{cmd, GENL_VERSION};
use crate::daemon::{Daemon, DaemonState};
use crate::dest::{DestKey, Destination};
use crate::error::{DecodeError, Errno, Error, Operation};
use crate::global::{Info, Timeouts};
use crate::message::{encode_genl, Command, Messages, NlMsg};
use crate::nla::{self, Attrs};
use crate::service::{Service, ServiceKey};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

/// One change to the IPVS table, as [`Client::apply`] batches them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    AddService(Service),
    EditService(Service),
    DelService(ServiceKey),
    AddDest(ServiceKey, Destination),
    EditDest(ServiceKey, Destination),
    DelDest(ServiceKey, DestKey),
}

impl Op {
    /// Which operation this is.
    pub fn operation(&self) -> Operation {
        match self {
            Op::AddService(_) => Operation::AddService,
            Op::EditService(_) => Operation::EditService,
            Op::DelService(_) => Operation::DelService,
            Op::AddDest(..) => Operation::AddDest,
            Op::EditDest(..) => Operation::EditDest,
            Op::DelDest(..) => Operation::DelDest,
        }
    }

    /// What the operation is about, for error messages.
    pub fn target(&self) -> String {
        match self {
            Op::AddService(s) | Op::EditService(s) => s.key.to_string(),
            Op::DelService(k) => k.to_string(),
            Op::AddDest(k, d) | Op::EditDest(k, d) => format!("{k} -> {}", d.key()),
            Op::DelDest(k, d) => format!("{k} -> {d}"),
        }
    }

    fn cmd(&self) -> u8 {
        match self {
            Op::AddService(_) => cmd::NEW_SERVICE,
            Op::EditService(_) => cmd::SET_SERVICE,
            Op::DelService(_) => cmd::DEL_SERVICE,
            Op::AddDest(..) => cmd::NEW_DEST,
            Op::EditDest(..) => cmd::SET_DEST,
            Op::DelDest(..) => cmd::DEL_DEST,
        }
    }

    fn encode_attrs(&self, buf: &mut Vec<u8>) {
        match self {
            Op::AddService(s) | Op::EditService(s) => s.encode(buf, false),
            Op::DelService(k) => k.encode(buf),
            Op::AddDest(k, d) | Op::EditDest(k, d) => {
                k.encode(buf);
                d.encode(buf, false);
            }
            Op::DelDest(k, d) => {
                k.encode(buf);
                Destination::encode_key(d, buf);
            }
        }
    }
}

/// How many requests [`Client::apply`] sends in one datagram before reading their ACKs
/// (keeps the ACKs well inside the default socket receive buffer).
const BATCH: usize = 64;
const RECV_BUF: usize = 64 * 1024;

/// A connection to the kernel's IPVS over generic netlink.
#[derive(Debug)]
pub struct Client {
    sock: Socket,
    family: u16,
    seq: u32,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
}

fn io(op: Operation, step: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { op, step, source }
}

impl Client {
    /// Open a socket and resolve the "IPVS" family (fails with errno ENOENT when the
    /// kernel has no IPVS).
    pub fn new() -> Result<Client, Error> {
        let op = Operation::ResolveFamily;
        let mut sock = Socket::new(NETLINK_GENERIC).map_err(io(op, "socket"))?;
        sock.bind_auto().map_err(io(op, "bind"))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(io(op, "connect"))?;
        // Errors need not echo our whole request back.
        let _ = sock.set_cap_ack(true);
        let _ = sock.set_rx_buf_sz(1 << 20);
        let mut c = Client {
            sock,
            family: 0,
            seq: 0,
            send_buf: Vec::with_capacity(BATCH * 160),
            recv_buf: Vec::with_capacity(RECV_BUF),
        };
        let mut id = None;
        c.transact(
            op,
            String::new,
            GENL_ID_CTRL,
            CTRL_CMD_GETFAMILY,
            false,
            |b| nla::put_str(b, CTRL_ATTR_FAMILY_NAME, crate::abi::FAMILY_NAME),
            |_, attrs| {
                for a in Attrs::new(attrs) {
                    let (k, p) = a?;
                    if k == CTRL_ATTR_FAMILY_ID {
                        id = Some(nla::get_u16("family id", p)?);
                    }
                }
                Ok(())
            },
        )?;
        c.family = id.ok_or(Error::Protocol {
            op,
            what: "no family id in the reply",
        })?;
        Ok(c)
    }

    /// The generic-netlink family number the kernel gave IPVS.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn recv(&mut self, op: Operation) -> Result<(), Error> {
        self.recv_buf.clear();
        self.recv_buf.reserve(RECV_BUF);
        loop {
            match self.sock.recv(&mut self.recv_buf, 0) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(op, "recv")(e)),
            }
        }
    }

    fn send(&mut self, op: Operation) -> Result<(), Error> {
        loop {
            match self.sock.send(&self.send_buf, 0) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(op, "send")(e)),
            }
        }
    }

    /// Send one request and feed every reply message to `on_reply` until the ACK (or,
    /// for a dump, DONE).
    #[allow(clippy::too_many_arguments)]
    fn transact(
        &mut self,
        op: Operation,
        target: impl Fn() -> String,
        kind: u16,
        command: u8,
        dump: bool,
        attrs: impl FnOnce(&mut Vec<u8>),
        mut on_reply: impl FnMut(u8, &[u8]) -> Result<(), DecodeError>,
    ) -> Result<(), Error> {
        let seq = self.next_seq();
        let flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { NLM_F_ACK };
        let version = if kind == GENL_ID_CTRL {
            1
        } else {
            GENL_VERSION
        };
        self.send_buf.clear();
        encode_genl(
            &mut self.send_buf,
            kind,
            flags,
            seq,
            command,
            version,
            attrs,
        );
        self.send(op)?;
        loop {
            self.recv(op)?;
            for m in Messages::new(&self.recv_buf) {
                let m = m.map_err(|source| Error::Decode { op, source })?;
                match m {
                    NlMsg::Genl {
                        header, cmd, attrs, ..
                    } if header.seq == seq => {
                        on_reply(cmd, attrs).map_err(|source| Error::Decode { op, source })?
                    }
                    NlMsg::Error { seq: s, error } | NlMsg::Done { seq: s, error } if s == seq => {
                        if error == 0 {
                            return Ok(());
                        }
                        return Err(Error::Kernel {
                            op,
                            target: target(),
                            errno: Errno(error.saturating_neg()),
                        });
                    }
                    // Stale replies (an earlier, abandoned request) are skipped.
                    _ => {}
                }
            }
        }
    }

    fn ipvs(
        &mut self,
        op: Operation,
        target: impl Fn() -> String,
        command: &Command,
        dump: bool,
        mut on_reply: impl FnMut(Command) -> Result<(), DecodeError>,
    ) -> Result<(), Error> {
        let family = self.family;
        self.transact(
            op,
            target,
            family,
            command.cmd(),
            dump,
            |b| command.encode_attrs(b),
            |c, attrs| on_reply(Command::decode(c, attrs)?),
        )
    }

    /// The replies to `command` that `pick` keeps, in order.
    fn query<T>(
        &mut self,
        op: Operation,
        target: impl Fn() -> String,
        command: &Command,
        dump: bool,
        pick: impl Fn(Command) -> Option<T>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        self.ipvs(op, target, command, dump, |c| {
            out.extend(pick(c));
            Ok(())
        })?;
        Ok(out)
    }

    /// The last reply to `command` that `pick` keeps (a protocol error without one).
    fn query_one<T>(
        &mut self,
        op: Operation,
        target: impl Fn() -> String,
        command: &Command,
        pick: impl Fn(Command) -> Option<T>,
    ) -> Result<T, Error> {
        let mut got = self.query(op, target, command, false, pick)?;
        let what = match op {
            Operation::GetInfo => "no info in the reply",
            Operation::GetTimeouts => "no timeouts in the reply",
            _ => "no service in the reply",
        };
        got.pop().ok_or(Error::Protocol { op, what })
    }

    /// [`Client::query_one`] for a command about no service.
    fn get<T>(
        &mut self,
        op: Operation,
        command: Command,
        pick: impl Fn(Command) -> Option<T>,
    ) -> Result<T, Error> {
        self.query_one(op, String::new, &command, pick)
    }

    /// Version and connection-table size.
    pub fn info(&mut self) -> Result<Info, Error> {
        self.get(Operation::GetInfo, Command::GetInfo, set_info)
    }

    /// Every service, with settings and counters.
    pub fn services(&mut self) -> Result<Vec<Service>, Error> {
        let all = Command::GetService(None);
        self.query(Operation::GetService, String::new, &all, true, new_service)
    }

    /// One service (errno ESRCH when absent).
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        let k = *key;
        let get = Command::GetService(Some(k));
        self.query_one(
            Operation::GetService,
            move || k.to_string(),
            &get,
            new_service,
        )
    }

    /// The destinations of a service (empty when the service does not exist).
    pub fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error> {
        let mut out = Vec::new();
        let k = *key;
        let family = self.family;
        self.transact(
            Operation::GetDest,
            move || k.to_string(),
            family,
            cmd::GET_DEST,
            true,
            |b| k.encode(b),
            |c, attrs| {
                if c != cmd::NEW_DEST {
                    return Ok(());
                }
                for a in Attrs::new(attrs) {
                    let (t, p) = a?;
                    if t == crate::abi::cmd_attr::DEST {
                        // Kernels without ADDR_FAMILY use the service's family.
                        out.push(Destination::decode(p, k.family())?);
                    }
                }
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn one(&mut self, op: Op) -> Result<(), Error> {
        match self.apply(std::slice::from_ref(&op)).pop() {
            Some(r) => r,
            None => Err(Error::Protocol {
                op: op.operation(),
                what: "no result",
            }),
        }
    }

    /// Add a service.
    pub fn add_service(&mut self, s: &Service) -> Result<(), Error> {
        self.one(Op::AddService(s.clone()))
    }
    /// Change a service's scheduler, flags, timeout, netmask or engine.
    pub fn edit_service(&mut self, s: &Service) -> Result<(), Error> {
        self.one(Op::EditService(s.clone()))
    }
    /// Delete a service and its destinations.
    pub fn del_service(&mut self, k: &ServiceKey) -> Result<(), Error> {
        self.one(Op::DelService(*k))
    }
    /// Add a destination to a service.
    pub fn add_dest(&mut self, k: &ServiceKey, d: &Destination) -> Result<(), Error> {
        self.one(Op::AddDest(*k, d.clone()))
    }
    /// Change a destination's method, weight or thresholds.
    pub fn edit_dest(&mut self, k: &ServiceKey, d: &Destination) -> Result<(), Error> {
        self.one(Op::EditDest(*k, d.clone()))
    }
    /// Remove a destination.
    pub fn del_dest(&mut self, k: &ServiceKey, d: &DestKey) -> Result<(), Error> {
        self.one(Op::DelDest(*k, *d))
    }

    fn simple(&mut self, op: Operation, c: Command) -> Result<(), Error> {
        let t = match &c {
            Command::Zero(Some(k)) => k.to_string(),
            Command::NewDaemon(d) => format!("{:?} on {}", d.state, d.mcast_ifn),
            Command::DelDaemon(s) => format!("{s:?}"),
            _ => String::new(),
        };
        self.ipvs(op, move || t.clone(), &c, false, |_| Ok(()))
    }

    /// Remove every service.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.simple(Operation::Flush, Command::Flush)
    }
    /// Zero the counters of one service, or of all.
    pub fn zero(&mut self, k: Option<&ServiceKey>) -> Result<(), Error> {
        self.simple(Operation::Zero, Command::Zero(k.copied()))
    }
    /// TCP, TCP FIN and UDP timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts, Error> {
        self.get(Operation::GetTimeouts, Command::GetConfig, set_config)
    }
    /// Set timeouts (a 0 leaves that one unchanged).
    pub fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error> {
        self.simple(Operation::SetTimeouts, Command::SetConfig(*t))
    }
    /// Running sync daemons.
    pub fn daemons(&mut self) -> Result<Vec<Daemon>, Error> {
        let all = Command::GetDaemon;
        self.query(Operation::GetDaemon, String::new, &all, true, new_daemon)
    }
    /// Start a sync daemon.
    pub fn add_daemon(&mut self, d: &Daemon) -> Result<(), Error> {
        self.simple(Operation::AddDaemon, Command::NewDaemon(d.clone()))
    }
    /// Stop the sync daemon in `state`.
    pub fn del_daemon(&mut self, state: DaemonState) -> Result<(), Error> {
        self.simple(Operation::DelDaemon, Command::DelDaemon(state))
    }

    /// Run many changes, `BATCH` requests per datagram, and return one result per
    /// change, in order. A failed change does not stop the others (the kernel handles
    /// each message on its own); a socket failure fails the rest.
    pub fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>> {
        let mut results: Vec<Result<(), Error>> = Vec::with_capacity(ops.len());
        for chunk in ops.chunks(BATCH) {
            let first = self.seq.wrapping_add(1);
            self.send_buf.clear();
            for op in chunk {
                let seq = self.next_seq();
                encode_genl(
                    &mut self.send_buf,
                    self.family,
                    NLM_F_REQUEST | NLM_F_ACK,
                    seq,
                    op.cmd(),
                    GENL_VERSION,
                    |b| op.encode_attrs(b),
                );
            }
            let mut pending: Vec<Option<Result<(), Error>>> =
                (0..chunk.len()).map(|_| None).collect();
            let mut left = chunk.len();
            let op0 = chunk
                .first()
                .map(Op::operation)
                .unwrap_or(Operation::AddService);
            let mut failure = self.send(op0).err();
            while failure.is_none() && left > 0 {
                if let Err(e) = self.recv(op0) {
                    failure = Some(e);
                    break;
                }
                for m in Messages::new(&self.recv_buf) {
                    let (seq, error) = match m {
                        Ok(NlMsg::Error { seq, error }) => (seq, error),
                        Ok(_) => continue,
                        Err(source) => {
                            failure = Some(Error::Decode { op: op0, source });
                            break;
                        }
                    };
                    let i = seq.wrapping_sub(first) as usize;
                    let (Some(slot), Some(op)) = (pending.get_mut(i), chunk.get(i)) else {
                        continue;
                    };
                    if slot.is_none() {
                        left -= 1;
                        *slot = Some(if error == 0 {
                            Ok(())
                        } else {
                            Err(Error::Kernel {
                                op: op.operation(),
                                target: op.target(),
                                errno: Errno(error.saturating_neg()),
                            })
                        });
                    }
                }
            }
            if let Some(f) = failure {
                let mut f = Some(f);
                for (slot, op) in pending.iter_mut().zip(chunk) {
                    if slot.is_none() {
                        *slot = Some(Err(f.take().unwrap_or(Error::Protocol {
                            op: op.operation(),
                            what: "not sent: an earlier request of the batch failed",
                        })));
                    }
                }
            }
            results.extend(pending.into_iter().zip(chunk).map(|(r, op)| {
                r.unwrap_or(Err(Error::Protocol {
                    op: op.operation(),
                    what: "no acknowledgement",
                }))
            }));
            if results.len() < ops.len()
                && results.iter().any(|r| matches!(r, Err(Error::Io { .. })))
            {
                // The socket is broken: report the remaining changes as not sent.
                for op in &ops[results.len()..] {
                    results.push(Err(Error::Protocol {
                        op: op.operation(),
                        what: "not sent: the netlink socket failed",
                    }));
                }
                break;
            }
        }
        results
    }
}

/// `fn NAME(Command) -> Option<T>`: what a reply of that variant carries.
macro_rules! replies {
    ($($name:ident: $variant:ident -> $t:ty;)*) => {$(
        fn $name(c: Command) -> Option<$t> {
            match c {
                Command::$variant(x) => Some(x),
                _ => None,
            }
        }
    )*};
}

replies! {
    new_service: NewService -> Service;
    new_daemon: NewDaemon -> Daemon;
    set_info: SetInfo -> Info;
    set_config: SetConfig -> Timeouts;
}
