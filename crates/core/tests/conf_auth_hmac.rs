//! `auth_hmac { }` (keepalived 2.4.x): the model it gives, and keepalived 2.4.3's warnings
//! (the same words, observed with `keepalived -t`).

use ka_proto::config::vrrp::{HmacAntiReplay, HmacMode};
use keepalived_rs::conf::{load_with, Diagnostic, LoadOptions, Loaded};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ka-conf-hmac-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn load(d: &Path, text: &str) -> Result<Loaded, Vec<Diagnostic>> {
    let p = d.join("keepalived.conf");
    std::fs::write(&p, text).expect("write");
    let o = LoadOptions {
        config_id: "n".into(),
        instance: None,
    };
    load_with(&p, &o, false, false).map_err(|f| f.diagnostics)
}

fn instance(body: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n{body}\n    virtual_ipaddress {{\n        10.9.9.9\n    }}\n}}\n"
    )
}

#[test]
fn the_block_gives_keys_modes_and_window() {
    let d = dir("model");
    let kf = d.join("k2");
    std::fs::write(&kf, format!("hex:{}\n", HEX.replace('0', "f"))).expect("key file");
    std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let text = instance(&format!(
        "    auth_hmac {{\n        key 1 hex:{HEX}\n        key 2 file:{}\n        key 3 abcdefghijabcdefghijabcdefghijab\n        active_key 2\n        anti_replay monotonic\n        time_window 10\n        mode receive-only\n    }}",
        kf.display()
    ));
    let l = load(&d, &text).expect("loads");
    let _ = std::fs::remove_dir_all(&d);
    assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
    let h = l.config.vrrp_instances[0]
        .auth_hmac
        .as_ref()
        .expect("auth_hmac");
    let ids: Vec<u8> = h.keys.iter().map(|k| k.id).collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(h.keys[0].key, (0u8..32).collect::<Vec<_>>());
    assert_eq!(h.keys[1].key.len(), 32);
    assert_eq!(h.keys[1].key[1], 0xf1);
    assert_eq!(
        h.keys[2].key.as_slice(),
        b"abcdefghijabcdefghijabcdefghijab"
    );
    assert_eq!(h.active_key, 2);
    assert_eq!(h.anti_replay, HmacAntiReplay::Monotonic);
    assert_eq!(h.time_window, Some(10));
    assert_eq!(h.mode, HmacMode::ReceiveOnly);
    // Masked wherever the model is printed.
    let dump = format!("{:?}", l.config);
    assert!(
        !dump.contains("abcdefghij") && !dump.contains("[0, 1, 2, 3"),
        "key in the dump"
    );
    assert!(dump.contains("masked"));
}

#[test]
fn defaults_are_time_enforce_and_no_window() {
    let d = dir("defaults");
    let l = load(
        &d,
        &instance(&format!(
            "    auth_hmac {{\n        key 7 hex:{HEX}\n        active_key 7\n    }}"
        )),
    )
    .expect("loads");
    let _ = std::fs::remove_dir_all(&d);
    let h = l.config.vrrp_instances[0]
        .auth_hmac
        .as_ref()
        .expect("auth_hmac");
    assert_eq!(
        (h.anti_replay, h.mode, h.time_window),
        (HmacAntiReplay::Time, HmacMode::Enforce, None)
    );
}

#[test]
fn warnings_are_keepalived_243s() {
    let d = dir("warn");
    let kf = d.join("k1");
    std::fs::write(&kf, format!("hex:{HEX}\n")).expect("key file");
    std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let text = instance(&format!(
        "    authentication {{\n        auth_type PASS\n        auth_pass secret\n    }}\n    auth_hmac {{\n        key 1 hex:{HEX}\n        key 2 tooshort\n        key 3 file:{}\n        key 0 abc\n        key 300 abcdefabcdefabcdefabcdefabcdefabcdef\n        key 1 abcdefabcdefabcdefabcdefabcdefabcdefab\n        key 4 hex:zz\n        key 5\n        key 6 file:/nonexistent/k\n        active_key 1\n        anti_replay foo\n        time_window 400\n        mode bar\n    }}",
        kf.display()
    ));
    let diags = match load(&d, &text) {
        Ok(l) => l.diagnostics,
        Err(d) => d,
    };
    let _ = std::fs::remove_dir_all(&d);
    let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    let kf = kf.display().to_string();
    for want in [
        "(VI_1) auth_hmac key 2 length 8 not in range [32, 64]".to_string(),
        format!("(VI_1) auth_hmac key file '{kf}' is readable by group or others"),
        "(VI_1) auth_hmac key id '0' must be between 1 and 255".into(),
        "(VI_1) auth_hmac key id '300' must be between 1 and 255".into(),
        "(VI_1) duplicate auth_hmac key id 1".into(),
        "(VI_1) auth_hmac key 4 length 0 not in range [32, 64]".into(),
        "(VI_1) auth_hmac key needs an id and a value".into(),
        "(VI_1) auth_hmac key file '/nonexistent/k' cannot be opened".into(),
        "(VI_1) auth_hmac key 6 length 0 not in range [32, 64]".into(),
        "(VI_1) auth_hmac anti_replay 'foo' must be time or monotonic".into(),
        "(VI_1) auth_hmac time_window '400' must be between 1 and 300 seconds".into(),
        "(VI_1) auth_hmac mode 'bar' must be enforce, permissive or receive-only".into(),
        "(VI_1) auth_hmac cannot be combined with authentication, dropping legacy auth".into(),
    ] {
        assert!(
            msgs.contains(&want.as_str()),
            "missing {want:?} in {msgs:#?}"
        );
    }
}

#[test]
fn legacy_auth_is_dropped_and_an_undefined_active_key_disables() {
    let d = dir("drop");
    let text = instance(&format!(
        "    authentication {{\n        auth_type PASS\n        auth_pass secret\n    }}\n    auth_hmac {{\n        key 1 hex:{HEX}\n        active_key 1\n    }}"
    ));
    let l = load(&d, &text);
    let (cfg, msgs) = match l {
        Ok(l) => (Some(l.config), l.diagnostics),
        Err(d) => (None, d),
    };
    assert!(msgs
        .iter()
        .any(|m| m.message.contains("dropping legacy auth")));
    if let Some(c) = cfg {
        assert!(c.vrrp_instances[0].authentication.is_none());
        assert!(c.vrrp_instances[0].auth_hmac.is_some());
    }
    // No active_key (0), or one without a key: the extension is off.
    for active in ["", "        active_key 2\n"] {
        let text = instance(&format!(
            "    auth_hmac {{\n        key 1 hex:{HEX}\n{active}    }}"
        ));
        let (cfg, msgs) = match load(&d, &text) {
            Ok(l) => (Some(l.config), l.diagnostics),
            Err(d) => (None, d),
        };
        let want = if active.is_empty() {
            "active_key 0"
        } else {
            "active_key 2"
        };
        assert!(
            msgs.iter().any(|m| m.message
                == format!("(VI_1) auth_hmac {want} is not defined, disabling extension")),
            "{msgs:?}"
        );
        if let Some(c) = cfg {
            assert!(c.vrrp_instances[0].auth_hmac.is_none());
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn strict_mode_forces_enforce() {
    let d = dir("strict");
    for (globals, inst) in [("    vrrp_strict\n", ""), ("", "    strict_mode\n")] {
        let text = format!(
            "global_defs {{\n{globals}}}\n{}",
            instance(&format!(
                "{inst}    auth_hmac {{\n        key 1 hex:{HEX}\n        active_key 1\n        mode permissive\n    }}"
            ))
        );
        let (cfg, msgs) = match load(&d, &text) {
            Ok(l) => (Some(l.config), l.diagnostics),
            Err(d) => (None, d),
        };
        assert!(
            msgs.iter()
                .any(|m| m.message == "(VI_1) strict mode requires auth_hmac mode enforce"),
            "{msgs:?}"
        );
        if let Some(c) = cfg {
            let h = c.vrrp_instances[0].auth_hmac.as_ref().expect("auth_hmac");
            assert_eq!(h.mode, HmacMode::Enforce);
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}
