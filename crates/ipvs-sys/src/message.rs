//! Framing: netlink message headers, the generic-netlink header, the typed IPVS
//! commands ([`Command`]) they carry, and a walker over a receive buffer ([`Messages`]).

use crate::abi::nl::*;
use crate::abi::{cmd, cmd_attr, GENL_VERSION};
use crate::daemon::{Daemon, DaemonState};
use crate::dest::{DestKey, Destination};
use crate::error::DecodeError;
use crate::global::{Info, Timeouts};
use crate::nla::{self, Attrs};
use crate::service::{Family, Service, ServiceKey};

/// The 16-byte `struct nlmsghdr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlHeader {
    pub len: u32,
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

impl NlHeader {
    /// Append the header bytes.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.len.to_ne_bytes());
        buf.extend_from_slice(&self.kind.to_ne_bytes());
        buf.extend_from_slice(&self.flags.to_ne_bytes());
        buf.extend_from_slice(&self.seq.to_ne_bytes());
        buf.extend_from_slice(&self.pid.to_ne_bytes());
    }

    /// Read a header from the start of `b`.
    pub fn decode(b: &[u8]) -> Result<NlHeader, DecodeError> {
        let h = b.get(..NLMSG_HDRLEN).ok_or(DecodeError::Truncated {
            what: "netlink header",
            need: NLMSG_HDRLEN,
            have: b.len(),
        })?;
        let u32_at = |i: usize| u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let u16_at = |i: usize| u16::from_ne_bytes([h[i], h[i + 1]]);
        Ok(NlHeader {
            len: u32_at(0),
            kind: u16_at(4),
            flags: u16_at(6),
            seq: u32_at(8),
            pid: u32_at(12),
        })
    }
}

/// Append one generic-netlink message: header, genl header (`cmd`, `version`), then the
/// attributes written by `attrs`; the length is patched in at the end.
pub fn encode_genl(
    buf: &mut Vec<u8>,
    family: u16,
    flags: u16,
    seq: u32,
    command: u8,
    version: u8,
    attrs: impl FnOnce(&mut Vec<u8>),
) {
    let start = buf.len();
    NlHeader {
        len: 0,
        kind: family,
        flags,
        seq,
        pid: 0,
    }
    .encode(buf);
    buf.extend_from_slice(&[command, version, 0, 0]);
    attrs(buf);
    let len = (buf.len() - start) as u32;
    if let Some(slot) = buf.get_mut(start..start + 4) {
        slot.copy_from_slice(&len.to_ne_bytes());
    }
    let pad = nla::align(buf.len()) - buf.len();
    buf.resize(buf.len() + pad, 0);
}

/// One netlink message from a receive buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NlMsg<'a> {
    /// `NLMSG_DONE` ends a dump; `error` is the dump's (negative errno) result.
    Done { seq: u32, error: i32 },
    /// `NLMSG_ERROR`: `error` 0 is an ACK, otherwise a negative errno.
    Error { seq: u32, error: i32 },
    /// A generic-netlink message.
    Genl {
        header: NlHeader,
        cmd: u8,
        version: u8,
        attrs: &'a [u8],
    },
    /// Anything else (noop, overrun, ...).
    Other { header: NlHeader },
}

/// Walks the netlink messages of one datagram.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    data: &'a [u8],
}

impl<'a> Messages<'a> {
    /// Messages packed in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Messages { data }
    }

    fn parse(&mut self) -> Result<NlMsg<'a>, DecodeError> {
        let h = NlHeader::decode(self.data)?;
        let len = h.len as usize;
        if len < NLMSG_HDRLEN || len > self.data.len() {
            return Err(DecodeError::Truncated {
                what: "netlink message",
                need: len.max(NLMSG_HDRLEN),
                have: self.data.len(),
            });
        }
        let body = &self.data[NLMSG_HDRLEN..len];
        self.data = &self.data[nla::align(len).min(self.data.len())..];
        let errno_of = |what| -> Result<i32, DecodeError> {
            let b = body.get(..4).ok_or(DecodeError::Truncated {
                what,
                need: 4,
                have: body.len(),
            })?;
            Ok(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        Ok(match h.kind {
            NLMSG_DONE => NlMsg::Done {
                seq: h.seq,
                // A DONE may carry no payload at all.
                error: if body.len() >= 4 {
                    errno_of("done")?
                } else {
                    0
                },
            },
            NLMSG_ERROR => NlMsg::Error {
                seq: h.seq,
                error: errno_of("netlink error")?,
            },
            NLMSG_NOOP | NLMSG_OVERRUN => NlMsg::Other { header: h },
            k if k >= GENL_ID_CTRL => {
                let g = body.get(..GENL_HDRLEN).ok_or(DecodeError::Truncated {
                    what: "genl header",
                    need: GENL_HDRLEN,
                    have: body.len(),
                })?;
                NlMsg::Genl {
                    header: h,
                    cmd: g[0],
                    version: g[1],
                    attrs: &body[GENL_HDRLEN..],
                }
            }
            _ => NlMsg::Other { header: h },
        })
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<NlMsg<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        let r = self.parse();
        if r.is_err() {
            self.data = &[];
        }
        Some(r)
    }
}

/// A typed IPVS generic-netlink message, request or reply. Replies reuse request
/// commands: dumps answer with `NewService` / `NewDest` (without a service) /
/// `NewDaemon`, GET_CONFIG with `SetConfig`, GET_INFO with `SetInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    NewService(Service),
    SetService(Service),
    DelService(ServiceKey),
    /// `None`: dump all.
    GetService(Option<ServiceKey>),
    /// `None` service: a dump reply.
    NewDest(Option<ServiceKey>, Destination),
    SetDest(ServiceKey, Destination),
    DelDest(ServiceKey, DestKey),
    GetDest(ServiceKey),
    NewDaemon(Daemon),
    DelDaemon(DaemonState),
    GetDaemon,
    SetConfig(Timeouts),
    GetConfig,
    SetInfo(Info),
    GetInfo,
    /// `None`: zero every counter.
    Zero(Option<ServiceKey>),
    Flush,
}

impl Command {
    /// The command number.
    pub fn cmd(&self) -> u8 {
        match self {
            Command::NewService(_) => cmd::NEW_SERVICE,
            Command::SetService(_) => cmd::SET_SERVICE,
            Command::DelService(_) => cmd::DEL_SERVICE,
            Command::GetService(_) => cmd::GET_SERVICE,
            Command::NewDest(..) => cmd::NEW_DEST,
            Command::SetDest(..) => cmd::SET_DEST,
            Command::DelDest(..) => cmd::DEL_DEST,
            Command::GetDest(_) => cmd::GET_DEST,
            Command::NewDaemon(_) => cmd::NEW_DAEMON,
            Command::DelDaemon(_) => cmd::DEL_DAEMON,
            Command::GetDaemon => cmd::GET_DAEMON,
            Command::SetConfig(_) => cmd::SET_CONFIG,
            Command::GetConfig => cmd::GET_CONFIG,
            Command::SetInfo(_) => cmd::SET_INFO,
            Command::GetInfo => cmd::GET_INFO,
            Command::Zero(_) => cmd::ZERO,
            Command::Flush => cmd::FLUSH,
        }
    }

    /// Append the command's attributes (the part after the genl header).
    pub fn encode_attrs(&self, buf: &mut Vec<u8>) {
        match self {
            Command::NewService(s) | Command::SetService(s) => s.encode(buf, true),
            Command::DelService(k) | Command::GetDest(k) => k.encode(buf),
            Command::GetService(k) | Command::Zero(k) => {
                if let Some(k) = k {
                    k.encode(buf)
                }
            }
            Command::NewDest(k, d) => {
                if let Some(k) = k {
                    k.encode(buf);
                }
                d.encode(buf, true);
            }
            Command::SetDest(k, d) => {
                k.encode(buf);
                d.encode(buf, true);
            }
            Command::DelDest(k, d) => {
                k.encode(buf);
                Destination::encode_key(d, buf);
            }
            Command::NewDaemon(d) => d.encode(buf),
            Command::DelDaemon(s) => Daemon::encode_state(*s, buf),
            Command::SetConfig(t) => t.encode(buf),
            Command::SetInfo(i) => i.encode(buf),
            Command::GetDaemon | Command::GetConfig | Command::GetInfo | Command::Flush => {}
        }
    }

    /// Append a whole netlink message for this command.
    pub fn encode(&self, buf: &mut Vec<u8>, family: u16, flags: u16, seq: u32) {
        encode_genl(buf, family, flags, seq, self.cmd(), GENL_VERSION, |b| {
            self.encode_attrs(b)
        });
    }

    /// Decode command `command` from its attributes.
    pub fn decode(command: u8, attrs: &[u8]) -> Result<Command, DecodeError> {
        let mut service: Option<&[u8]> = None;
        let mut dest: Option<&[u8]> = None;
        let mut daemon: Option<&[u8]> = None;
        for attr in Attrs::new(attrs) {
            let (k, p) = attr?;
            match k {
                cmd_attr::SERVICE => service = Some(p),
                cmd_attr::DEST => dest = Some(p),
                cmd_attr::DAEMON => daemon = Some(p),
                _ => {}
            }
        }
        let svc = || -> Result<Service, DecodeError> {
            Service::decode(service.ok_or(DecodeError::Missing { what: "service" })?)
        };
        let key = || -> Result<Option<ServiceKey>, DecodeError> {
            service
                .map(|p| Service::decode(p).map(|s| s.key))
                .transpose()
        };
        let need_key = || -> Result<ServiceKey, DecodeError> {
            key()?.ok_or(DecodeError::Missing { what: "service" })
        };
        let dst = |family: Family| -> Result<Destination, DecodeError> {
            Destination::decode(
                dest.ok_or(DecodeError::Missing {
                    what: "destination",
                })?,
                family,
            )
        };
        let dmn = || daemon.ok_or(DecodeError::Missing { what: "daemon" });
        Ok(match command {
            cmd::NEW_SERVICE => Command::NewService(svc()?),
            cmd::SET_SERVICE => Command::SetService(svc()?),
            cmd::DEL_SERVICE => Command::DelService(need_key()?),
            cmd::GET_SERVICE => Command::GetService(key()?),
            cmd::NEW_DEST => {
                let k = key()?;
                let fam = k.map(|k| k.family()).unwrap_or(Family::Inet);
                Command::NewDest(k, dst(fam)?)
            }
            cmd::SET_DEST => {
                let k = need_key()?;
                Command::SetDest(k, dst(k.family())?)
            }
            cmd::DEL_DEST => {
                let k = need_key()?;
                Command::DelDest(k, dst(k.family())?.key())
            }
            cmd::GET_DEST => Command::GetDest(need_key()?),
            cmd::NEW_DAEMON => Command::NewDaemon(Daemon::decode(dmn()?)?),
            cmd::DEL_DAEMON => Command::DelDaemon(Daemon::decode(dmn()?)?.state),
            cmd::GET_DAEMON => Command::GetDaemon,
            cmd::SET_CONFIG => Command::SetConfig(Timeouts::decode(attrs)?),
            cmd::GET_CONFIG => Command::GetConfig,
            cmd::SET_INFO => Command::SetInfo(Info::decode(attrs)?),
            cmd::GET_INFO => Command::GetInfo,
            cmd::ZERO => Command::Zero(key()?),
            cmd::FLUSH => Command::Flush,
            c => {
                return Err(DecodeError::BadValue {
                    what: "ipvs command",
                    value: u64::from(c),
                })
            }
        })
    }
}

/// Decode every IPVS message of a datagram (as captured, e.g. with nlmon); control
/// messages (ACK, DONE, other families) come back as `None`.
pub fn decode_datagram(data: &[u8]) -> Result<Vec<Option<Command>>, DecodeError> {
    let mut out = Vec::new();
    for m in Messages::new(data) {
        out.push(match m? {
            NlMsg::Genl {
                header, cmd, attrs, ..
            } if header.kind != GENL_ID_CTRL => Some(Command::decode(cmd, attrs)?),
            _ => None,
        });
    }
    Ok(out)
}
