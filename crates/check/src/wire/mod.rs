//! Reply parsers and request builders, one module per protocol, each sans-IO (bytes in,
//! verdicts out) so they can be unit-tested, property-tested and fuzzed alone.

pub mod dns;
pub mod http;
pub mod icmp;
pub mod smtp;
pub mod udp;
