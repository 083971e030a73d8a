//! Diagnostics say file:line:col, quote the line and say what was expected; unknown
//! keywords warn and parsing goes on.

use keepalived_rs::conf::{load_with, Diagnostic, LoadOptions, Severity};
use std::path::PathBuf;

fn diags(tag: &str, text: &str) -> (bool, Vec<Diagnostic>) {
    let d = std::env::temp_dir().join(format!("ka-conf-diag-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    let p: PathBuf = d.join("keepalived.conf");
    std::fs::write(&p, text).expect("write");
    let o = LoadOptions {
        config_id: "n".into(),
        instance: None,
    };
    let out = match load_with(&p, &o, false, false) {
        Ok(l) => (true, l.diagnostics),
        Err(f) => (false, f.diagnostics),
    };
    let _ = std::fs::remove_dir_all(&d);
    out
}

#[test]
fn missing_brace_names_the_opening_line() {
    let (ok, d) = diags(
        "brace",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n",
    );
    // A warning, as keepalived's: the block is closed at the end of the file and the
    // daemon runs (-t fails).
    assert!(ok);
    let e = d
        .iter()
        .find(|d| d.message.contains("missing '}'"))
        .expect("missing brace warning");
    assert_eq!((e.line, e.col), (1, 20));
    assert_eq!(e.text, "vrrp_instance VI_1 {");
    let shown = e.to_string();
    assert!(
        shown.contains("keepalived.conf:1:20: warning: missing '}'"),
        "{shown}"
    );
    assert!(shown.contains("   1 | vrrp_instance VI_1 {"), "{shown}");
}

#[test]
fn block_keyword_without_brace_says_what_was_expected() {
    let (ok, d) = diags("nobrace", "vrrp_instance VI_1\n");
    // keepalived warns and goes on; so do we.
    assert!(ok);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(d[0].message, "expected '{' after vrrp_instance VI_1");
    assert_eq!((d[0].line, d[0].col), (1, 20));
}

#[test]
fn out_of_range_values_point_at_the_value() {
    let (ok, d) = diags(
        "range",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n    priority 0\n}\n",
    );
    // The bad VRID leaves the instance without one: an error. The bad priority is a
    // warning (ignored, default kept), as in keepalived.
    assert!(!ok);
    assert!(d
        .iter()
        .any(|x| x.is_error() && x.message.contains("missing or invalid")));
    let vrid = d
        .iter()
        .find(|d| d.message.contains("virtual_router_id"))
        .expect("vrid");
    assert_eq!((vrid.line, vrid.col), (3, 23));
    assert!(vrid.message.contains("1..255"), "{}", vrid.message);
    let prio = d
        .iter()
        .find(|d| d.message.contains("'priority'"))
        .expect("priority");
    assert_eq!((prio.line, prio.col), (4, 14));
}

#[test]
fn unknown_keywords_warn_and_parsing_goes_on() {
    let (ok, d) = diags(
        "unknown",
        "vrrp_instance VI_1 {\n    interface eth0\n    prioritty 5\n    virtual_router_id 7\n    virtual_ipaddress {\n 10.0.0.1\n }\n}\nfoo_block {\n  bar 1\n}\n",
    );
    assert!(ok, "{d:?}");
    let w: Vec<_> = d
        .iter()
        .filter(|d| d.message.starts_with("Unknown keyword"))
        .collect();
    assert_eq!(w.len(), 2, "{d:?}");
    assert!(w.iter().all(|d| d.severity == Severity::Warning));
    assert_eq!((w[0].line, w[0].col), (3, 5));
}

#[test]
fn references_and_duplicates_are_checked() {
    let (ok, d) = diags(
        "refs",
        "vrrp_sync_group G { group {\n VI_1\n NOPE\n } }\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n track_script {\n missing\n }\n}\nvrrp_instance VI_2 {\n interface eth0\n virtual_router_id 5\n}\n",
    );
    assert!(!ok, "duplicate VRID on one interface is an error");
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert!(msgs.iter().any(|m| m.contains("NOPE")), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("track script missing not found")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("VRID 5 is already used by VI_1")),
        "{msgs:?}"
    );
}

#[test]
fn advert_int_is_checked_per_version() {
    let (ok, _) = diags("adv3", "vrrp_instance V { interface eth0\n virtual_router_id 1\n version 3\n advert_int 0.05\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n");
    assert!(ok);
    // Out of range: warned about and replaced by the default, as keepalived does.
    let (_, d) = diags(
        "adv3bad",
        "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n version 3\n advert_int 41\n}\n",
    );
    assert!(
        d.iter()
            .any(|x| x.message.contains("out of range for VRRPv3")),
        "{d:?}"
    );
    let (_, d) = diags(
        "adv2",
        "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n advert_int 0.05\n}\n",
    );
    assert!(
        d.iter()
            .any(|x| x.message.contains("out of range for VRRPv2")),
        "v2 needs whole seconds 1..255: {d:?}"
    );
}

#[test]
fn bfd_is_recognised_and_warned_about() {
    let (ok, d) = diags("bfd", "bfd_instance B {\n neighbor_ip 10.0.0.2\n}\n");
    assert!(ok);
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("BFD"), "{}", d[0].message);
}

#[test]
fn included_file_errors_name_the_included_file() {
    let d = std::env::temp_dir().join(format!("ka-conf-diag-{}-inc", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    std::fs::write(
        d.join("part.conf"),
        "\nvrrp_instance X {\n  virtual_router_id abc\n}\n",
    )
    .expect("write");
    std::fs::write(d.join("keepalived.conf"), "include part.conf\n").expect("write");
    let o = LoadOptions {
        config_id: "n".into(),
        instance: None,
    };
    let f = load_with(&d.join("keepalived.conf"), &o, false, false);
    let _ = std::fs::remove_dir_all(&d);
    let f = f.expect_err("bad vrid");
    let e = f
        .diagnostics
        .iter()
        .find(|x| x.message.contains("virtual_router_id"))
        .expect("vrid");
    assert!(e.file.ends_with("part.conf"), "{:?}", e.file);
    assert_eq!((e.line, e.col), (3, 21));
}

/// The `-t` fidelity points of issue 15, each as keepalived 2.2.7 and 2.4.3 report it
/// (the differential test runs both on the same cases): what is said, where, and
/// whether it fails `-t` (a notice does not, a warning does).
#[test]
fn the_points_keepalived_reports_are_reported_here_too() {
    let inst = |body: &str| {
        format!("vrrp_instance VI {{\n    interface eth0\n    virtual_router_id 1\n{body}    virtual_ipaddress {{\n        10.0.0.1\n    }}\n}}\n")
    };
    let one = |tag: &str, text: &str| -> (bool, Diagnostic) {
        let (ok, d) = diags(tag, text);
        assert_eq!(d.len(), 1, "{tag}: {d:?}");
        (ok, d[0].clone())
    };
    // A missing include: said, and -t still passes (keepalived exits 0).
    let (ok, d) = one(
        "inc",
        &format!("include /nonexistent/ka-x.conf\n{}", inst("")),
    );
    assert!(ok);
    assert_eq!(d.severity, Severity::Notice);
    assert_eq!(d.message, "Config files missing '/nonexistent/ka-x.conf'.");
    assert_eq!(d.line, 1);
    // ... unless the include variant asks for its files (keepalived exits 6).
    let (ok, d) = one(
        "incm",
        &format!("includem /nonexistent/ka-x.conf\n{}", inst("")),
    );
    assert!(!ok && d.is_error(), "{d:?}");
    // An unterminated quote: a warning at the quote; on a script keyword the command is
    // dropped with keepalived's second line ("missing terminating").
    let (_, ds) = diags("quote", &inst("    notify_master \"/bin/true abc\n"));
    assert_eq!(ds.len(), 2, "{ds:?}");
    let d = &ds[0];
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!((d.line, d.col), (4, 19));
    assert!(d.message.starts_with("Unterminated quote"), "{}", d.message);
    assert_eq!(
        ds[1].message,
        "String 'notify_master \"/bin/true abc': missing terminating \""
    );
    // vrrp_garp_interval 0 is refused.
    let (_, d) = one(
        "garp",
        &format!("global_defs {{\n    vrrp_garp_interval 0\n}}\n{}", inst("")),
    );
    assert_eq!((d.severity, d.line), (Severity::Warning, 2));
    // nb_get_retry is deprecated (in HTTP_GET, where keepalived knows it).
    let (_, d) = one(
        "nbget",
        "virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   url {\n    path /\n    status_code 200\n   }\n   nb_get_retry 3\n  }\n }\n}\n",
    );
    assert_eq!(d.line, 11);
    assert!(d.message.contains("deprecated"), "{}", d.message);
    // A VIP /33 is kept as /32, with a warning saying so.
    let (_, d) = one(
        "v33",
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1/33\n }\n}\n",
    );
    assert_eq!(d.line, 5);
    assert!(d.message.ends_with("- using 32"), "{}", d.message);
    // An invalid priority says which value is used.
    let (_, d) = one("prio", &inst("    priority abc\n"));
    assert_eq!((d.line, d.col), (4, 14));
    assert!(d.message.contains("using the default 100"), "{}", d.message);
    // A VIP given twice (keepalived 2.4): the second is reported and ignored.
    let (_, d) = one(
        "dupvip",
        "vrrp_instance VI {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n  10.0.0.1/24\n }\n}\n",
    );
    assert_eq!(d.line, 6);
    assert!(d.message.contains("VIP duplicates a VIP"), "{}", d.message);
}

/// A line longer than keepalived's 1023-byte pieces: keepalived 2.4 ignores every piece
/// before the last and reads the last as a line (2.2.7 read every piece); so do we.
#[test]
fn a_long_line_is_read_as_keepalived_2_4_reads_it() {
    // The first piece names an unknown keyword (ignored with the piece), the last one
    // another (read, and reported at its column).
    let text = format!("first_piece_kw {}last_piece_kw 1\n", " ".repeat(1100));
    let (ok, d) = diags("long", &text);
    assert!(ok, "{d:?}");
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(d[0]
        .message
        .starts_with("line too long - ignoring its first 1023 bytes"));
    assert_eq!(d[1].message, "Unknown keyword 'last_piece_kw'");
    assert_eq!((d[1].line, d[1].col), (1, 1116));
}

/// A keyword without the value keepalived cannot do without (issue 15): keepalived says
/// "Configuration line starting `delay_loop` is missing a parameter after keyword
/// `delay_loop` at word position 2" and reads no further (`-t` exits 2). What came before
/// is still said (global_defs first, wherever it is), nothing after, not even what the
/// blocks around it would say when they close. The same keyword is only warned about
/// where keepalived goes on (`weight` in a `vrrp_track_file`).
#[test]
fn a_missing_value_keepalived_needs_stops_the_reading() {
    let (ok, d) = diags(
        "fatal",
        "virtual_server 10.0.0.1 80 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    \
         bogus_before\n    real_server 10.0.0.2 80 {\n        HTTP_GET {\n            url {\n                \
         path\n            }\n        }\n    }\n    bogus_after\n}\n\
         vrrp_instance VI {\n    bogus_later\n}\nglobal_defs {\n    bogus_global\n}\n",
    );
    assert!(!ok);
    let shown: Vec<(u32, Severity, &str)> = d
        .iter()
        .map(|x| (x.line, x.severity, x.message.as_str()))
        .collect();
    assert_eq!(
        shown,
        vec![
            (19, Severity::Warning, "Unknown keyword 'bogus_global'"),
            (5, Severity::Warning, "Unknown keyword 'bogus_before'"),
            (
                9,
                Severity::Fatal,
                "Configuration line starting `path` is missing a parameter after keyword `path` at word position 2"
            ),
        ]
    );
    assert!(d[2].is_error() && d[2].is_fatal());
    assert!(
        d[2].to_string().contains("keepalived.conf:9:22: fatal: "),
        "{}",
        d[2]
    );
    let (ok, d) = diags(
        "notfatal",
        "vrrp_track_file tf {\n    file /etc/hostname\n    weight\n}\n",
    );
    assert!(ok, "{d:?}");
    assert_eq!((d[0].line, d[0].severity), (3, Severity::Warning));
}
