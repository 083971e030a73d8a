//! A test CA and a server certificate signed by it (rcgen), and a rustls server handler.

use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct Pki {
    pub dir: PathBuf,
    pub ca_pem: PathBuf,
    pub other_ca_pem: PathBuf,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Vec<u8>,
}

fn ca() -> (rcgen::Certificate, rcgen::KeyPair) {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "ka-check test CA");
    let k = rcgen::KeyPair::generate().unwrap();
    (p.self_signed(&k).unwrap(), k)
}

impl Pki {
    /// A CA, a second unrelated CA, and a server cert for `www.test` and 10.61.0.2.
    pub fn new(tag: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("ka-check-pki-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (ca_cert, ca_key) = ca();
        let (other, _) = ca();
        let mut p = rcgen::CertificateParams::new(vec!["www.test".to_string()]).unwrap();
        p.subject_alt_names
            .push(rcgen::SanType::IpAddress("10.61.0.2".parse().unwrap()));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
        let ca_pem = dir.join("ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).unwrap();
        let other_ca_pem = dir.join("other.pem");
        std::fs::write(&other_ca_pem, other.pem()).unwrap();
        Pki {
            dir,
            ca_pem,
            other_ca_pem,
            chain: vec![cert.der().clone()],
            key: key.serialize_der(),
        }
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let prov = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        Arc::new(
            rustls::ServerConfig::builder_with_provider(prov)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(self.chain.clone(), key)
                .unwrap(),
        )
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An HTTPS handler answering 200 with `body`; records the SNI it saw.
pub fn https_reply(
    cfg: Arc<rustls::ServerConfig>,
    body: &'static [u8],
    sni: Arc<Mutex<Vec<Option<String>>>>,
) -> impl Fn(TcpStream) + Send + Sync {
    move |s: TcpStream| {
        let Ok(conn) = rustls::ServerConnection::new(cfg.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, s);
        let _ = super::read_head(&mut tls);
        sni.lock()
            .unwrap()
            .push(tls.conn.server_name().map(str::to_string));
        let _ = write!(
            tls,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = tls.write_all(body);
        tls.conn.send_close_notify();
        let _ = tls.flush();
    }
}
