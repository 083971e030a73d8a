//! List the kernel's IPVS table, like `ipvsadm -Ln`, then (with `--add`) add a demo
//! service with one real server and remove it again.
//!
//! ```text
//! sudo modprobe ip_vs
//! sudo cargo run -p ipvs-sys --example ipvs_list [-- --add]
//! ```

use ipvs_sys::{Client, Destination, ForwardMethod, Protocol, Service, ServiceKey};
use std::net::{IpAddr, Ipv4Addr};

fn main() -> Result<(), ipvs_sys::Error> {
    let mut ipvs = Client::new()?;
    let info = ipvs.info()?;
    let (major, minor, patch) = info.version_triple();
    println!(
        "IP Virtual Server version {major}.{minor}.{patch} (size={})",
        info.conn_tab_size
    );
    if std::env::args().any(|a| a == "--add") {
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 80)),
            port: 80,
        };
        let mut service = Service::new(key);
        service.scheduler = "rr".into();
        ipvs.add_service(&service)?;
        let real = Destination::new(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
            8080,
            ForwardMethod::Masq,
        );
        ipvs.add_dest(&key, &real)?;
        print_table(&mut ipvs)?;
        ipvs.del_service(&key)?;
        return Ok(());
    }
    print_table(&mut ipvs)
}

fn print_table(ipvs: &mut Client) -> Result<(), ipvs_sys::Error> {
    for s in ipvs.services()? {
        println!("{} {}", s.key, s.scheduler);
        for d in ipvs.destinations(&s.key)? {
            println!(
                "  -> {}:{} {:?} weight {} active {}",
                d.addr,
                d.port,
                d.method,
                d.weight,
                d.active_conns.unwrap_or(0)
            );
        }
    }
    Ok(())
}
