//! Errors: malformed messages ([`DecodeError`]) and failed operations ([`Error`]), the
//! latter naming the operation, its target and the kernel's errno with its IPVS meaning.

use std::fmt;

/// A message or attribute that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than a header or fixed field needs.
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// An attribute whose length field is shorter than its header or runs past the buffer.
    BadAttrLength { kind: u16, len: usize, have: usize },
    /// An attribute payload of the wrong size for its type.
    BadLength {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A value outside what the ABI defines (unknown family, protocol, method...).
    BadValue { what: &'static str, value: u64 },
    /// A required attribute is absent.
    Missing { what: &'static str },
    /// A string attribute that is not UTF-8.
    NotUtf8 { what: &'static str },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { what, need, have } => {
                write!(f, "{what}: truncated ({have} bytes, need {need})")
            }
            DecodeError::BadAttrLength { kind, len, have } => write!(
                f,
                "attribute {kind}: length {len} is invalid ({have} bytes left)"
            ),
            DecodeError::BadLength {
                what,
                expected,
                got,
            } => write!(f, "{what}: {got} bytes, expected {expected}"),
            DecodeError::BadValue { what, value } => write!(f, "{what}: invalid value {value}"),
            DecodeError::Missing { what } => write!(f, "missing attribute {what}"),
            DecodeError::NotUtf8 { what } => write!(f, "{what}: not UTF-8"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The operation a request performed (one per IPVS command, plus the family lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    ResolveFamily,
    AddService,
    EditService,
    DelService,
    GetService,
    AddDest,
    EditDest,
    DelDest,
    GetDest,
    AddDaemon,
    DelDaemon,
    GetDaemon,
    SetTimeouts,
    GetTimeouts,
    GetInfo,
    Zero,
    Flush,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Operation::ResolveFamily => "resolve generic netlink family IPVS",
            Operation::AddService => "add service",
            Operation::EditService => "edit service",
            Operation::DelService => "delete service",
            Operation::GetService => "get service",
            Operation::AddDest => "add destination",
            Operation::EditDest => "edit destination",
            Operation::DelDest => "delete destination",
            Operation::GetDest => "list destinations",
            Operation::AddDaemon => "start sync daemon",
            Operation::DelDaemon => "stop sync daemon",
            Operation::GetDaemon => "list sync daemons",
            Operation::SetTimeouts => "set timeouts",
            Operation::GetTimeouts => "get timeouts",
            Operation::GetInfo => "get info",
            Operation::Zero => "zero counters",
            Operation::Flush => "flush",
        };
        f.write_str(s)
    }
}

/// A positive errno returned by the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// What this errno means for an IPVS `op` (the kernel reuses errnos with
    /// operation-specific meanings, as ipvsadm documents).
    pub fn meaning(self, op: Operation) -> String {
        use Operation::*;
        let generic = || std::io::Error::from_raw_os_error(self.0).to_string();
        match (self.0, op) {
            (libc::EPERM, _) => "permission denied (needs CAP_NET_ADMIN)".into(),
            (libc::ENOENT, ResolveFamily) => {
                "IPVS is not available in this kernel (module ip_vs not loaded)".into()
            }
            (libc::EEXIST, AddService) => "service already exists".into(),
            (libc::EEXIST, AddDest) => "destination already exists".into(),
            (
                libc::ESRCH,
                AddDest | EditDest | DelDest | GetDest | EditService | DelService | GetService
                | Zero,
            ) => "no such service".into(),
            (libc::ENOENT, AddService | EditService) => {
                "scheduler or persistence engine not found".into()
            }
            (libc::ENOENT, EditDest | DelDest) => "no such destination".into(),
            (libc::EINVAL, AddService | EditService) => {
                "invalid service (scheduler flags, netmask, protocol or timeout)".into()
            }
            (libc::EINVAL, AddDest | EditDest) => {
                "invalid destination (weight, thresholds, method or family)".into()
            }
            (libc::EAFNOSUPPORT, _) => "address family not supported".into(),
            (libc::EOPNOTSUPP, _) => "operation not supported by this kernel".into(),
            (libc::EBUSY, AddDaemon) => "sync daemon already running".into(),
            (libc::ESRCH, DelDaemon) => "no such sync daemon".into(),
            (libc::ENOMEM, _) => "kernel out of memory".into(),
            _ => generic(),
        }
    }
}

/// A failed IPVS operation.
#[derive(Debug)]
pub enum Error {
    /// The netlink socket itself failed (create, bind, send, receive).
    Io {
        op: Operation,
        step: &'static str,
        source: std::io::Error,
    },
    /// The kernel refused the request.
    Kernel {
        op: Operation,
        /// The service / destination / daemon the request was about (empty if none).
        target: String,
        errno: Errno,
    },
    /// The kernel's reply could not be decoded.
    Decode { op: Operation, source: DecodeError },
    /// The reply did not match the request (wrong sequence, no ack...).
    Protocol { op: Operation, what: &'static str },
}

impl Error {
    /// The errno when the kernel refused the request.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Io { source, .. } => source.raw_os_error().map(Errno),
            _ => None,
        }
    }

    /// The operation that failed.
    pub fn operation(&self) -> Operation {
        match self {
            Error::Io { op, .. }
            | Error::Kernel { op, .. }
            | Error::Decode { op, .. }
            | Error::Protocol { op, .. } => *op,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, step, source } => write!(f, "{op}: netlink {step}: {source}"),
            Error::Kernel { op, target, errno } => {
                if target.is_empty() {
                    write!(f, "{op}: {} (errno {})", errno.meaning(*op), errno.0)
                } else {
                    write!(
                        f,
                        "{op} {target}: {} (errno {})",
                        errno.meaning(*op),
                        errno.0
                    )
                }
            }
            Error::Decode { op, source } => write!(f, "{op}: bad reply: {source}"),
            Error::Protocol { op, what } => write!(f, "{op}: {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Decode { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_which_operation_on_what_and_why() {
        let e = Error::Kernel {
            op: Operation::AddService,
            target: "TCP 10.0.0.1:80".into(),
            errno: Errno(libc::EEXIST),
        };
        assert_eq!(
            e.to_string(),
            format!(
                "add service TCP 10.0.0.1:80: service already exists (errno {})",
                libc::EEXIST
            )
        );
        let e = Errno(libc::ENOENT).meaning(Operation::DelDest);
        assert_eq!(e, "no such destination");
    }
}
