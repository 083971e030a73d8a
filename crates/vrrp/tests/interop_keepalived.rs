//! The engine against keepalived 2.2.7 on a real network: keepalived in one namespace, our
//! engine in another, driven by a minimal loop over a raw IPPROTO_VRRP socket (the test
//! reads the clock; the engine never does). Checks, both ways: our adverts are accepted by
//! keepalived (it yields to a higher priority and takes over on our priority 0), and
//! keepalived's adverts pass every one of our receive checks. Root only.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ka_tests::daemon::{Daemon, Impl};
use ka_tests::{require_root, Lan};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp::packet::{Ipv4Header, MCAST_V4};
use vrrp::{
    Action, Auth, Engine, EngineConfig, Input, InstanceConfig, Packet, State, Timestamp, Version,
};

struct Driver {
    engine: Engine,
    sock: Socket,
    t0: Instant,
}

impl Driver {
    fn now(&self) -> Timestamp {
        Timestamp::from_micros(self.t0.elapsed().as_micros() as u64)
    }

    fn execute(&mut self, actions: Vec<Action>) {
        for a in actions {
            if let Action::SendAdvert { dst, bytes, .. } = a {
                self.sock
                    .send_to(&bytes, &SockAddr::from(SocketAddr::new(dst, 0)))
                    .unwrap();
            }
        }
    }

    fn feed(&mut self, input: Input<'_>) {
        let now = self.now();
        let actions = self.engine.handle(input, now);
        self.execute(actions);
    }

    /// Run the loop for `d`, or until `until` says stop.
    fn run(&mut self, d: Duration, mut until: impl FnMut(&Engine) -> bool) -> bool {
        let end = Instant::now() + d;
        let mut buf = [0u8; 2048];
        while Instant::now() < end {
            if until(&self.engine) {
                return true;
            }
            let now = self.now();
            if self.engine.next_deadline().is_some_and(|t| t <= now) {
                self.feed(Input::Timer);
                continue;
            }
            let wait = self
                .engine
                .next_deadline()
                .map_or(Duration::from_millis(10), |t| t - now)
                .clamp(Duration::from_micros(100), Duration::from_millis(10));
            self.sock.set_read_timeout(Some(wait)).unwrap();
            let mut s: &Socket = &self.sock;
            let n = match s.read(&mut buf) {
                Ok(n) => n,
                Err(_) => continue,
            };
            let Some((h, off)) = Ipv4Header::decode(&buf[..n]) else {
                continue;
            };
            let end = usize::from(h.total_len).min(n);
            if off > end {
                continue;
            }
            let bytes = buf[off..end].to_vec();
            self.feed(Input::Packet(Packet {
                iface: "eth0",
                src: IpAddr::V4(h.src),
                dst: IpAddr::V4(h.dst),
                ttl: h.ttl,
                bytes: &bytes,
                received: None,
            }));
        }
        until(&self.engine)
    }

    fn state(&self) -> State {
        self.engine.instance("VI").unwrap().state
    }
}

fn state_is(s: State) -> impl FnMut(&Engine) -> bool {
    move |e: &Engine| e.instance("VI").is_some_and(|i| i.state == s)
}

struct Case {
    tag: &'static str,
    version: Version,
    advert_int: Duration,
    auth: Option<&'static str>,
}

fn run_case(case: &Case) {
    let prefix = if case.version == Version::V2 {
        "10.98.0"
    } else {
        "10.97.0"
    };
    let lan = Lan::new(2, prefix);
    let (h1, h2) = (&lan.hosts[0], &lan.hosts[1]);
    let vip: IpAddr = format!("{prefix}.100").parse().unwrap();
    let our_addr: Ipv4Addr = lan.addr(1).parse().unwrap();

    // keepalived, priority 100.
    let auth = case
        .auth
        .map(|p| format!("  authentication {{\n    auth_type PASS\n    auth_pass {p}\n  }}\n"))
        .unwrap_or_default();
    let conf = format!(
        "vrrp_instance VI {{\n  interface eth0\n  version {}\n  virtual_router_id 61\n  priority 100\n  advert_int {}\n{auth}  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n",
        if case.version == Version::V2 { 2 } else { 3 },
        case.advert_int.as_secs_f64()
    );
    let ka = Daemon::start_with(h1, Impl::Keepalived, &conf, &["-P"]);
    // Whether keepalived's host holds the VIP (`want`) within `secs`.
    let holds = |want: bool, secs: u64| {
        ka_tests::wait_for(Duration::from_secs(secs), || h1.has_addr(vip) == want)
    };
    assert!(
        holds(true, 15),
        "{}: keepalived never took the VIP",
        case.tag
    );

    // Our engine, priority 150, same settings.
    let make = |prio: u8| {
        let mut c = InstanceConfig::new("VI", "eth0", 61, &[vip]);
        c.version = case.version;
        c.advert_int = case.advert_int;
        c.priority = prio;
        c.addresses.vips[0].prefix_len = 24;
        c.src_addr = Some(IpAddr::V4(our_addr));
        if let Some(pw) = case.auth {
            c.auth = Auth::pass(pw);
        }
        Engine::new(EngineConfig {
            instances: vec![c],
            sync_groups: vec![],
        })
        .unwrap()
    };
    let sock = h2.run(move || {
        let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
        s.join_multicast_v4(&MCAST_V4, &our_addr).unwrap();
        s.set_multicast_if_v4(&our_addr).unwrap();
        s.set_multicast_ttl_v4(255).unwrap();
        s.set_multicast_loop_v4(false).unwrap();
        s.set_tos_v4(0xc0).unwrap();
        s
    });
    let mut d = Driver {
        engine: make(150),
        sock,
        t0: Instant::now(),
    };
    d.feed(Input::Startup);
    assert!(
        d.run(Duration::from_secs(10), state_is(State::Master)),
        "{}: we never preempted",
        case.tag
    );
    // keepalived hears our higher priority and releases the VIP.
    assert!(holds(false, 5), "{}: keepalived kept the VIP", case.tag);
    d.run(Duration::from_millis(500), |_| false);
    assert_eq!(d.state(), State::Master, "{}: we stay master", case.tag);

    // Our priority 0: keepalived takes over within about its skew time.
    let stop = Instant::now();
    d.feed(Input::Shutdown);
    assert!(
        holds(true, 5),
        "{}: keepalived did not take over after our priority 0",
        case.tag
    );
    let took = stop.elapsed();
    let skew = Duration::from_micros(match case.version {
        Version::V2 => 156 * 1_000_000 / 256,
        Version::V3 => 156 * case.advert_int.as_micros() as u64 / 256,
    });
    eprintln!(
        "{}: keepalived took over {took:?} after our priority 0 (its Skew {skew:?})",
        case.tag
    );
    assert!(
        took < skew + Duration::from_millis(500),
        "{}: {took:?}",
        case.tag
    );

    // Lower priority now: we stay BACKUP on keepalived's adverts, which pass every check.
    d.engine = make(50);
    d.feed(Input::Startup);
    d.run(case.advert_int * 8, |_| false);
    assert_eq!(d.state(), State::Backup, "{}", case.tag);
    let st = d.engine.instance("VI").unwrap();
    assert!(st.stats.adverts_rcvd >= 4, "{}: {:?}", case.tag, st.stats);
    assert_eq!(
        st.stats.rx_errors() + st.stats.addr_list_err + st.stats.advert_interval_err,
        0,
        "{}: {:?}",
        case.tag,
        st.stats
    );
    assert!(h1.has_addr(vip));
    ka.signal(libc::SIGTERM);
    drop(ka);
}

#[test]
fn interop_v3_ipv4_fast_adverts() {
    if !require_root("interop_v3_ipv4_fast_adverts") {
        return;
    }
    run_case(&Case {
        tag: "v3",
        version: Version::V3,
        advert_int: Duration::from_millis(100),
        auth: None,
    });
}

#[test]
fn interop_v2_with_password() {
    if !require_root("interop_v2_with_password") {
        return;
    }
    run_case(&Case {
        tag: "v2pass",
        version: Version::V2,
        advert_int: Duration::from_secs(1),
        auth: Some("s3cr3t"),
    });
}
