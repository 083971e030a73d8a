//! Our genhash beside Debian's keepalived 2.2.7 genhash on the same server: the same
//! digest line, and the same verbose dump (all but the response time).

mod common;

use std::io::Write;
use std::net::TcpStream;

use common::*;
use ka_check::genhash;

const BODY: &[u8] = b"<html><body>keepalived-rs genhash test \x01\x02\xff</body></html>\n";

#[test]
fn genhash_matches_debian_genhash() {
    let Some(lan) = root_lan("genhash_matches_debian_genhash") else {
        return;
    };
    let _srv = tcp_server(&lan.hosts[1], server_addr(8081), |mut s: TcpStream| {
        read_head(&mut s);
        // One write, so genhash sees the reply in one read (it prints a title per read).
        let mut reply = format!(
            "HTTP/1.0 200 OK\r\nServer: test\r\nContent-Length: {}\r\n\r\n",
            BODY.len()
        )
        .into_bytes();
        reply.extend_from_slice(BODY);
        let _ = s.write_all(&reply);
    });
    let args: Vec<String> = ["-s", "10.61.0.2", "-p", "8081", "-u", "/index.html"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // Our genhash with `args`, run inside the client's namespace.
    let ours_with = |args: &[String]| {
        let a = args.to_vec();
        lan.hosts[0].run(move || {
            let o = genhash::parse(&a).unwrap();
            genhash::render(&o, &genhash::fetch(&o).unwrap())
        })
    };
    let ours = ours_with(&args);
    use md5::Digest;
    let want = ka_check::wire::http::hex(&md5::Md5::digest(BODY));
    assert_eq!(ours, format!("{want}\n"));
    if !std::path::Path::new("/usr/bin/genhash").exists() {
        eprintln!("SKIPPED comparison: /usr/bin/genhash missing (apt-get install keepalived)");
        return;
    }
    let theirs = lan.hosts[0].exec("/usr/bin/genhash", &args);
    assert_eq!(String::from_utf8_lossy(&theirs.stdout), ours);
    // Verbose: identical but for the response time.
    let mut vargs = args.clone();
    vargs.push("-v".into());
    let ours_v = ours_with(&vargs);
    let theirs_v = lan.hosts[0].exec("/usr/bin/genhash", &vargs);
    let strip = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.starts_with("Global response time"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&String::from_utf8_lossy(&theirs_v.stdout)),
        strip(&ours_v)
    );
}
