//! Known gaps of the checkers, one `gap_*` test each, `#[ignore = "gap: …"]`: it fails
//! today and passes once the gap is closed (`cargo xtask test unit` fails when one passes;
//! then remove its `#[ignore]` and its row in README.md's status table). The daemon's gaps
//! are in `crates/core/tests/known_gaps.rs`.
#![cfg(test)] // all test code: clippy.toml's allow-unwrap-in-tests covers its helpers too

use std::process::Command;

use ka_check::spec::SslConfig;
use ka_check::tls::TlsContext;
use ka_tests::TempDir;

/// keepalived's `SSL { password … certificate … key … }` takes a client key encrypted with
/// `password` (OpenSSL decrypts it); the checker must load it.
#[test]
#[ignore = "gap: encrypted TLS client keys (SSL block `password`) are refused"]
fn gap_encrypted_client_key_with_its_password() {
    let dir = TempDir::new("enckey");
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-subj", "/CN=gap",
        ])
        .args(["-passout", "pass:secret", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("ENCRYPTED PRIVATE KEY"),
        "openssl wrote a plain key"
    );
    let ssl = SslConfig {
        password: Some("secret".into()),
        ca: None,
        certificate: Some(cert),
        key: Some(key),
    };
    if let Err(e) = TlsContext::new(&ssl) {
        panic!("encrypted key refused: {e}");
    }
}
