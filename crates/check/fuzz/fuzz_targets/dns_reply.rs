//! DNS reply checker, against a fixed query (id 0x1234, "example.com", SOA).
#![no_main]
use ka_check::wire::dns::check_reply;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = check_reply(data, 0x1234, "example.com", 6);
    let _ = check_reply(data, 0x1234, ".", 6);
});
