//! SMTP reply reader.
#![no_main]
use ka_check::wire::smtp::ReplyReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = ReplyReader::new();
    for chunk in data.chunks(7) {
        if !matches!(r.feed(chunk), Ok(None)) {
            break;
        }
    }
});
