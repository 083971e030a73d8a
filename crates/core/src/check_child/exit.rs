//! Exit codes: keepalived's, the one list ([`ka_proto::exit`]).

pub use ka_proto::exit::{CONFIG, FATAL, OK, PROGRAM_ERROR};
