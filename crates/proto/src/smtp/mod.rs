//! SMTP alerts, as keepalived sends them.
//!
//! * [`reply`], [`command`], [`message`]: the wire pieces, each with encode and parse.
//! * [`dialogue`]: the client's side of one delivery without I/O (reply in, bytes out).
//! * [`alert`]: settings from `global_defs`, the per-object switches, subjects and bodies.
//! * [`sender`]: one delivery over `std::net::TcpStream`, bounded in time and size, on a
//!   background thread so no event loop waits; outcomes logged with keepalived's words.
//! * [`sink`]: a small SMTP server that records mails, for tests.

pub mod alert;
pub mod command;
pub mod dialogue;
pub mod message;
pub mod reply;
pub mod sender;
pub mod sink;

#[cfg(test)]
mod tests;

pub use alert::{Alert, AlertSettings, LocalIdentity, QuorumEvent, VrrpAlertState};
pub use dialogue::{Dialogue, Envelope, Next, Stage};
pub use message::Message;
pub use reply::Reply;
pub use sender::{Event, Job};
