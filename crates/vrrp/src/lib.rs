//! A sans-IO VRRP engine: events and time go in, actions come out.

#[cfg(feature = "linux")]
pub mod linux;
