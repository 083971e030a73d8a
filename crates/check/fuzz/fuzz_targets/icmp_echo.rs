//! ICMP echo parsing (with and without an IPv4 header) and re-emission.
#![no_main]
use ka_check::wire::icmp::{strip_ipv4, Echo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(e) = Echo::parse(data) {
        let again = Echo::parse(&e.emit());
        assert_eq!(
            again.map(|a| (a.ident, a.seq, a.data)),
            Some((e.ident, e.seq, e.data))
        );
    }
    if let Some(rest) = strip_ipv4(data) {
        let _ = Echo::parse(rest);
    }
});
