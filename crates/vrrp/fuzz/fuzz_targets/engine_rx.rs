//! The engine's receive path: a BACKUP and a MASTER instance fed arbitrary packets (the
//! first byte picks TTL and family). No panic; a packet that does not decode never changes
//! the state or the timers. Bit 4 of the first byte gives the instance `auth_hmac`
//! (enforce): a packet its checks drop never changes the state or the timers either.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use vrrp::packet::{MCAST_V4, MCAST_V6};
use vrrp::{Advert, Engine, EngineConfig, Input, InstanceConfig, Packet, Timestamp, Version};

fn engine(v6: bool, v3: bool, master: bool, hmac: bool) -> Option<Engine> {
    let vip: IpAddr = if v6 {
        "fe80::64".parse().ok()?
    } else {
        "10.0.0.100".parse().ok()?
    };
    let mut c = InstanceConfig::new("VI", "eth0", 1, &[vip]);
    if v3 {
        c.version = Version::V3;
    }
    c.src_addr = Some(if v6 {
        "fe80::2".parse().ok()?
    } else {
        "10.0.0.2".parse().ok()?
    });
    if hmac {
        let key: Vec<u8> = (0u8..32).collect();
        c.hmac = Some(vrrp::hmac_auth::HmacConfig::single(7, &key));
    }
    let mut e = Engine::new(EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    })
    .ok()?;
    e.handle(Input::Startup, Timestamp::ZERO);
    if master {
        let t = e.next_deadline()?;
        e.handle(Input::Timer, t);
    }
    Some(e)
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, bytes)) = data.split_first() else {
        return;
    };
    let v6 = ctl & 1 != 0;
    let v3 = v6 || ctl & 2 != 0;
    let master = ctl & 4 != 0;
    let ttl = if ctl & 8 != 0 { 255 } else { ctl };
    let hmac = ctl & 16 != 0;
    let Some(mut e) = engine(v6, v3, master, hmac) else {
        return;
    };
    let (src, dst): (IpAddr, IpAddr) = if v6 {
        (
            "fe80::1".parse().unwrap_or(IpAddr::V6(MCAST_V6)),
            IpAddr::V6(MCAST_V6),
        )
    } else {
        (
            "10.0.0.1".parse().unwrap_or(IpAddr::V4(MCAST_V4)),
            IpAddr::V4(MCAST_V4),
        )
    };
    let before = (e.instance("VI").map(|s| s.state), e.next_deadline());
    let now = Timestamp::from_millis(4_000);
    let _ = e.handle(
        Input::Packet(Packet {
            iface: "eth0",
            src,
            dst,
            ttl,
            bytes,
            received: None,
        }),
        now,
    );
    let hmac_drop = e.last_rx_error().is_some_and(|(_, r)| {
        r.drops()
            && matches!(
                r,
                vrrp::RxError::HmacMissing
                    | vrrp::RxError::HmacMalformed
                    | vrrp::RxError::HmacUnknownKey
                    | vrrp::RxError::HmacInvalid
                    | vrrp::RxError::HmacStale
                    | vrrp::RxError::HmacReplay
            )
    });
    if Advert::decode(bytes, src, dst).is_err() || hmac_drop {
        assert_eq!(
            before,
            (e.instance("VI").map(|s| s.state), e.next_deadline())
        );
    }
});
