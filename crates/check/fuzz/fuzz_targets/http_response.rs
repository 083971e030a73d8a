//! HTTP reply parser: any bytes, fed in two pieces split where the first byte says.
#![no_main]
use ka_check::wire::http::ResponseParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (split, rest) = match data.split_first() {
        Some((s, r)) => (usize::from(*s), r),
        None => return,
    };
    let cut = split.min(rest.len());
    let mut p = ResponseParser::new(true);
    if let Ok(false) = p.feed(&rest[..cut]) {
        let _ = p.feed(&rest[cut..]);
    }
    let _ = p.finish();
});
