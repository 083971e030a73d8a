//! The checker child: health checkers and IPVS programming.
//!
//! * [`spec`] — what a check is asked to do (keepalived's checker keywords).
//! * [`wire`] — sans-IO request builders and reply parsers (HTTP, SMTP, DNS, UDP, ICMP).
//! * [`engine`] — every check on one mio loop with non-blocking sockets.

pub mod child;
pub mod engine;
pub mod failure;
pub mod from_config;
pub mod genhash;
pub mod lvs;
pub mod misc;
pub mod net;
pub mod probe;
pub mod runtime;
pub mod spec;
pub mod state;
pub mod tls;
pub mod wire;
