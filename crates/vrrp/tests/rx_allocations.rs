//! Receiving an advert allocates nothing (issue 16): a BACKUP with 1,000 instances hears its
//! MASTER's adverts through [`Engine::handle_into`] with a reused action buffer, and the
//! allocator is not called once in steady state. (The decoded address list used to be a
//! `Vec` per advert.) Counted with a global allocator that counts this thread's calls.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::IpAddr;
use std::time::Duration;

use vrrp::{
    Advert, ChecksumKind, Engine, EngineConfig, Family, Input, InstanceConfig, Packet, State,
    Timestamp,
};

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is passed on unchanged to the system allocator; the count is a
// thread-local `Cell` (const-initialized, so counting never allocates).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract for `alloc` is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout` (as the caller guarantees).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: `ptr` came from `System` with `layout` (as the caller guarantees).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

const N: usize = 1000;

fn vip(k: usize) -> IpAddr {
    IpAddr::from([10, 100 + (k / 250) as u8, (k % 250) as u8, 100])
}

#[test]
fn a_backup_hearing_adverts_allocates_nothing() {
    let mut instances = Vec::new();
    for k in 0..N {
        let vrid = (k % 250 + 1) as u8;
        let mut c = InstanceConfig::new(
            &format!("VI_{k}"),
            &format!("eth{}", k / 250),
            vrid,
            &[vip(k)],
        );
        c.priority = 100;
        instances.push(c);
    }
    let mut e = Engine::new(EngineConfig {
        instances,
        sync_groups: vec![],
    })
    .expect("config");
    let ifaces: Vec<String> = (0..N / 250).map(|n| format!("eth{n}")).collect();
    for (n, iface) in ifaces.iter().enumerate() {
        e.handle(
            Input::InterfaceAddress {
                iface,
                family: Family::V4,
                addr: Some(IpAddr::from([10, 100 + n as u8, 0, 2])),
            },
            Timestamp::ZERO,
        );
    }
    e.handle(Input::Startup, Timestamp::ZERO);
    assert!(e.instances().all(|i| i.state == State::Backup));
    // The MASTER's adverts (priority 150), one per instance, encoded once.
    let group = IpAddr::from([224, 0, 0, 18]);
    let adverts: Vec<(usize, IpAddr, Vec<u8>)> = (0..N)
        .map(|k| {
            let src = IpAddr::from([10, 100 + (k / 250) as u8, 0, 1]);
            let a = Advert::v2((k % 250 + 1) as u8, 150, 1, 0, [0; 8], vec![vip(k)]);
            let bytes = a
                .encode(src, group, ChecksumKind::Standard)
                .expect("encode");
            (k / 250, src, bytes)
        })
        .collect();
    let mut out = Vec::with_capacity(64);
    let mut round = |e: &mut Engine, second: u64| {
        for (k, (net, src, bytes)) in adverts.iter().enumerate() {
            let now =
                Timestamp::ZERO + Duration::from_secs(second) + Duration::from_micros(k as u64);
            e.handle_into(
                Input::Packet(Packet {
                    iface: &ifaces[*net],
                    src: *src,
                    dst: group,
                    ttl: 255,
                    bytes,
                    // As the Linux layer hands them: with a receive time (every
                    // other one queued for 2 ms).
                    received: Some(now - Duration::from_millis(2 * (k as u64 % 2))),
                }),
                now,
                &mut out,
            );
            // The first advert from each master is announced (MasterHeard), no more.
            assert!(second == 1 || out.is_empty(), "{out:?}");
            out.clear();
        }
    };
    // Warm-up: the timer heap and the engine's scratch space reach their steady size.
    for s in 1..=3 {
        round(&mut e, s);
    }
    let before = allocs();
    for s in 4..=8 {
        round(&mut e, s);
    }
    let n = allocs() - before;
    assert!(e.instances().all(|i| i.state == State::Backup));
    assert!(e.instances().all(|i| i.stats.adverts_rcvd == 8));
    assert_eq!(n, 0, "{n} allocations for {} adverts received", 5 * N);
}

/// With `auth_hmac` too: verifying the trailer (HMAC-SHA256) and the replay check allocate
/// nothing once the sender's mark exists.
#[test]
fn a_backup_verifying_auth_hmac_allocates_nothing() {
    use vrrp::hmac_auth::{self, HmacConfig};
    let key: Vec<u8> = (0u8..32).collect();
    let mut c = InstanceConfig::new("VI", "eth0", 7, &[vip(0)]);
    c.src_addr = Some(IpAddr::from([10, 100, 0, 2]));
    c.hmac = Some(HmacConfig::single(1, &key));
    let mut e = Engine::new(EngineConfig {
        instances: vec![c],
        sync_groups: vec![],
    })
    .expect("config");
    let wall = Duration::from_secs(1_796_000_000);
    e.set_wall_clock(wall, Timestamp::ZERO);
    e.handle(Input::Startup, Timestamp::ZERO);
    let group = IpAddr::from([224, 0, 0, 18]);
    let src = IpAddr::from([10, 100, 0, 1]);
    // 40 adverts, one per 100 ms, signed with growing sequences (prepared beforehand).
    let adverts: Vec<Vec<u8>> = (0..40u64)
        .map(|k| {
            let a = Advert::v2(7, 150, 1, 0, [0; 8], vec![vip(0)]);
            let mut b = a
                .encode(src, group, ChecksumKind::Standard)
                .expect("encode");
            let seq = ((wall.as_secs() + k / 10) << 32) | ((k % 10) << 16);
            let t = hmac_auth::sign(&b, src, 1, &key, seq).expect("sign");
            b.extend_from_slice(&t.encode());
            b
        })
        .collect();
    let mut out = Vec::with_capacity(64);
    let mut feed = |e: &mut Engine, k: usize| {
        let now = Timestamp::ZERO + Duration::from_millis(100 * k as u64);
        e.handle_into(
            Input::Packet(Packet {
                iface: "eth0",
                src,
                dst: group,
                ttl: 255,
                bytes: &adverts[k],
                received: None,
            }),
            now,
            &mut out,
        );
        // The first advert is announced (MasterHeard), no more.
        assert!(k == 0 || out.is_empty(), "{out:?}");
        out.clear();
    };
    for k in 0..10 {
        feed(&mut e, k);
    }
    let before = allocs();
    for k in 10..40 {
        feed(&mut e, k);
    }
    let n = allocs() - before;
    let st = e.instance("VI").expect("VI");
    assert_eq!((st.stats.adverts_rcvd, st.stats.rx_errors()), (40, 0));
    assert_eq!(n, 0, "{n} allocations for 30 signed adverts received");
}
