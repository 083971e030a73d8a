//! The config parser on arbitrary input: `conf::load_with` (preprocessor, includes,
//! lexer, tree, builder, validation) must return, never panic or hang, and keep its
//! bounds (diagnostics per kind, nesting, bytes read).
//!
//! The input is a set of files: the main config, then any number of others, each
//! introduced by a line `#@file NAME` (NAME made of `[a-z0-9._-]`, at most 16). All
//! live in one private directory, so `include NAME` and globs (`include *.conf`) reach
//! them. An include of an absolute path reaches the host's files; the bounds hold for
//! those too (non-regular files such as /dev/zero or a FIFO are skipped unread, regular
//! ones are read up to the byte limits).
#![no_main]

use keepalived_rs::conf::{diag, load_with, LoadOptions};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("ka-fuzz-config-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    })
}

/// Split the input into (name, bytes) files; the first is `main.conf`.
fn files(data: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = Vec::new();
    let mut name = "main.conf".to_string();
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        let at_line = i == 0 || data[i - 1] == b'\n';
        if at_line && data[i..].starts_with(b"#@file ") {
            let end = data[i..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |n| i + n);
            let raw = &data[i + 7..end];
            let clean: String = raw
                .iter()
                .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                .take(16)
                .map(|&b| char::from(b))
                .collect();
            if !clean.is_empty() && clean != "." && clean != ".." && out.len() < 8 {
                out.push((std::mem::replace(&mut name, clean), &data[start..i]));
                start = (end + 1).min(data.len());
                i = start;
                continue;
            }
        }
        i += 1;
    }
    out.push((name, &data[start..]));
    out
}

fuzz_target!(|data: &[u8]| {
    let d = dir();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    for (name, bytes) in files(data) {
        let _ = std::fs::write(d.join(name), bytes);
    }
    let opts = LoadOptions {
        config_id: "fuzz".into(),
        instance: Some("inst".into()),
    };
    let diags = match load_with(&d.join("main.conf"), &opts, false, false) {
        Ok(l) => l.diagnostics,
        Err(f) => f.diagnostics,
    };
    // The bounds: quoted lines are cut, messages too.
    for x in &diags {
        assert!(x.text.chars().count() <= diag::SNIPPET_WIDTH + 2, "{x:?}");
        assert!(x.message.chars().count() <= diag::MESSAGE_WIDTH + 1, "{x:?}");
        let _ = x.to_string();
    }
});
