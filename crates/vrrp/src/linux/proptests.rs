//! Property tests: every parser of the Linux layer takes any bytes or text without
//! panicking, and encoders round-trip through their decoders.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::arp::ArpFrame;
use super::ndisc::NeighbourAdvert;
use super::netlink::{monitor, split_messages};
use super::script::parse_command;
use super::socket::parse_ipv4_header;
use super::track_file::parse_value;

proptest! {
    #[test]
    fn ipv4_header_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Some(h) = parse_ipv4_header(&data) {
            prop_assert!(h.header_len >= 20 && h.header_len <= h.total_len.max(h.header_len));
            prop_assert!(h.total_len <= data.len());
        }
    }

    #[test]
    fn arp_round_trips(mac in any::<[u8; 6]>(), vip in any::<u32>(), junk in proptest::collection::vec(any::<u8>(), 0..64)) {
        let f = ArpFrame::gratuitous(mac, Ipv4Addr::from(vip));
        prop_assert_eq!(ArpFrame::parse(&f.emit()), Some(f));
        let _ = ArpFrame::parse(&junk);
    }

    #[test]
    fn na_round_trips(mac in any::<[u8; 6]>(), vip in any::<u128>(), router in any::<bool>(), junk in proptest::collection::vec(any::<u8>(), 0..64)) {
        let na = NeighbourAdvert::unsolicited(Ipv6Addr::from(vip), mac, router);
        prop_assert_eq!(NeighbourAdvert::parse(&na.emit()), Some(na));
        let mut j = junk;
        if let Some(b) = j.first_mut() { *b = 136; }
        if let Some(b) = j.get_mut(1) { *b = 0; }
        let _ = NeighbourAdvert::parse(&j);
    }

    #[test]
    fn netlink_split_and_decode_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        for m in split_messages(&data).into_iter().flatten() {
            if let netlink_packet_core::NetlinkPayload::InnerMessage(inner) = m.payload {
                let _ = monitor::decode(&inner);
            }
        }
    }

    #[test]
    fn commands_never_panic(s in ".{0,64}") {
        let _ = parse_command(&s);
    }

    #[test]
    fn plain_words_split_back(words in proptest::collection::vec("[a-zA-Z0-9/._-]{1,12}", 1..6)) {
        prop_assert_eq!(parse_command(&words.join(" ")).expect("plain words"), words);
    }

    #[test]
    fn values_parse(v in any::<i64>(), s in ".{0,32}") {
        prop_assert_eq!(parse_value(&format!("{v}\n")), v);
        let _ = parse_value(&s);
    }
}
