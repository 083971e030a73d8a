use super::*;

#[test]
fn ipv4_header_parses() {
    let mut p = vec![
        0x45, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0xff, 0x70, 0x00, 0x00, 10, 0, 0, 1, 224,
        0, 0, 18,
    ];
    p.extend_from_slice(&[
        0x21, 51, 100, 1, 0, 1, 0, 0, 10, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    let h = parse_ipv4_header(&p).expect("valid");
    assert_eq!(h.header_len, 20);
    assert_eq!(h.total_len, 40);
    assert_eq!(h.ttl, 255);
    assert_eq!(h.protocol, 112);
    assert_eq!(h.src, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(h.dst, MCAST_GROUP_V4);
}

#[test]
fn ipv4_header_rejects_garbage() {
    assert_eq!(parse_ipv4_header(&[]), None);
    assert_eq!(parse_ipv4_header(&[0x65; 40]), None);
    assert_eq!(parse_ipv4_header(&[0x44; 40]), None); // IHL 4 < 5
    assert_eq!(parse_ipv4_header(&[0x4f; 20]), None); // IHL 15 > data
    let mut short_total = [0u8; 20];
    short_total[0] = 0x45;
    short_total[3] = 10;
    assert_eq!(parse_ipv4_header(&short_total), None);
    // Any byte string: never panics.
    for n in 0..64u8 {
        let v: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37) ^ 0x45).collect();
        let _ = parse_ipv4_header(&v);
    }
}

#[test]
fn family_mismatch_is_refused() {
    let mut c = SocketConfig::multicast("lo", 1, Family::V4);
    c.group = Some(IpAddr::V6(MCAST_GROUP_V6));
    assert!(matches!(
        VrrpSocket::open(c),
        Err(SocketError::FamilyMismatch { .. })
    ));
}

#[test]
fn timestamps_parse_and_ages_are_clamped() {
    let mut d = [0u8; 16];
    d[..8].copy_from_slice(&1_700_000_000i64.to_ne_bytes());
    d[8..].copy_from_slice(&250_000_000i64.to_ne_bytes());
    let t = Duration::new(1_700_000_000, 250_000_000);
    assert_eq!(parse_timespec(&d), Some(t));
    let mut d32 = [0u8; 8];
    d32[..4].copy_from_slice(&1_700_000_000i32.to_ne_bytes());
    d32[4..].copy_from_slice(&5i32.to_ne_bytes());
    assert_eq!(parse_timespec(&d32), Some(Duration::new(1_700_000_000, 5)));
    d[8..].copy_from_slice(&1_000_000_000i64.to_ne_bytes());
    assert_eq!(parse_timespec(&d), None, "nanoseconds out of range");
    d[..8].copy_from_slice(&(-1i64).to_ne_bytes());
    d[8..].copy_from_slice(&0i64.to_ne_bytes());
    assert_eq!(parse_timespec(&d), None, "before 1970");
    assert_eq!(parse_timespec(&d[..12]), None);
    let s = Duration::from_secs(1000);
    let age = |now: Duration| age_of(Some(s), Some(now));
    assert_eq!(
        age(s + Duration::from_millis(3700)),
        Some(Duration::from_millis(3700))
    );
    assert_eq!(
        age(s - Duration::from_secs(5)),
        Some(Duration::ZERO),
        "future: now"
    );
    assert_eq!(
        age(s + Duration::from_secs(3600)),
        Some(MAX_AGE),
        "clock step"
    );
    assert_eq!(age_of(None, Some(s)), None);
    assert_eq!(age_of(Some(s), None), None);
}

#[test]
fn link_scope() {
    assert!(is_link_scope(&MCAST_GROUP_V6));
    assert!(is_link_scope(&"fe80::1".parse().expect("lit")));
    assert!(!is_link_scope(&"2001:db8::1".parse().expect("lit")));
}
