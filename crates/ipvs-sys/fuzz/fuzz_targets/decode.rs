//! Any bytes: the decoders must not panic, and whatever decodes must re-encode to
//! something that decodes to the same value.
#![no_main]

use ipvs_sys::{decode_datagram, Command, Destination, Family, Messages, NlMsg, Service};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cmds) = decode_datagram(data) {
        for c in cmds.into_iter().flatten() {
            let mut buf = Vec::new();
            c.encode(&mut buf, 0x20, 1, 1);
            let again = Messages::new(&buf).next();
            let Some(Ok(NlMsg::Genl { cmd, attrs, .. })) = again else {
                panic!("re-encoded command does not parse: {c:?}");
            };
            assert_eq!(Command::decode(cmd, attrs).ok(), Some(c));
        }
    }
    if let Some((&c, rest)) = data.split_first() {
        let _ = Command::decode(c, rest);
    }
    let _ = Service::decode(data);
    let _ = Destination::decode(data, Family::Inet6);
});
