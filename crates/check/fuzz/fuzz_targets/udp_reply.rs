//! UDP_CHECK reply judgement: the first bytes (as text) are a pattern, the rest a reply.
#![no_main]
use ka_check::wire::udp::{check_reply, parse_hex, ReplyPattern};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == b'|').unwrap_or(data.len());
    let pat = String::from_utf8_lossy(&data[..cut]);
    let _ = parse_hex(&pat);
    let reply = data.get(cut + 1..).unwrap_or(&[]);
    let p = ReplyPattern::parse(&pat).ok();
    let _ = check_reply(reply, p.as_ref(), 1, 255);
});
