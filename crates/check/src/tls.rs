//! TLS for SSL_GET (rustls with the ring provider) from keepalived's global `SSL` block.
//!
//! keepalived's SSL_GET does not verify the server certificate unless a `ca` is given; we
//! do the same: without `ca` any certificate is accepted (the handshake signature is still
//! checked, so the peer must hold the key of the certificate it shows); with `ca` the chain
//! and the name (`sni_name`/virtualhost, else the IP address) are verified.
//! `certificate` + `key` give a client certificate. Encrypted keys (`password`) are not
//! supported by rustls: such a key is refused with [`TlsError::EncryptedKey`].

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::spec::SslConfig;

/// Why the TLS context cannot be built.
#[derive(Debug)]
pub enum TlsError {
    /// A PEM file cannot be read.
    Pem {
        /// Which file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// `password` given: encrypted keys are not supported.
    EncryptedKey,
    /// rustls refused the configuration.
    Rustls(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Pem { path, reason } => write!(f, "SSL: cannot read {path}: {reason}"),
            TlsError::EncryptedKey => write!(f, "SSL: encrypted keys (password) are not supported"),
            TlsError::Rustls(e) => write!(f, "SSL: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts any certificate, but checks handshake signatures against it.
#[derive(Debug)]
struct AnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn pem_err(path: &Path, e: impl fmt::Display) -> TlsError {
    TlsError::Pem {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Client configurations with and without SNI.
#[derive(Debug, Clone)]
pub struct TlsContext {
    /// Sends SNI.
    pub sni: Arc<ClientConfig>,
    /// Sends no SNI.
    pub no_sni: Arc<ClientConfig>,
}

impl TlsContext {
    /// Build from the `SSL` block.
    pub fn new(ssl: &SslConfig) -> Result<TlsContext, TlsError> {
        let prov = provider();
        let builder = ClientConfig::builder_with_provider(prov.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Rustls)?;
        let builder = match &ssl.ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca).map_err(|e| pem_err(ca, e))? {
                    roots
                        .add(c.map_err(|e| pem_err(ca, e))?)
                        .map_err(TlsError::Rustls)?;
                }
                let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), prov.clone())
                    .build()
                    .map_err(|e| pem_err(ca, e))?;
                builder.with_webpki_verifier(v)
            }
            None => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCert(prov))),
        };
        let cfg = match (&ssl.certificate, &ssl.key) {
            (Some(cert), Some(key)) => {
                if ssl.password.is_some() {
                    return Err(TlsError::EncryptedKey);
                }
                let chain = CertificateDer::pem_file_iter(cert)
                    .map_err(|e| pem_err(cert, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| pem_err(cert, e))?;
                let k = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_err(key, e))?;
                builder
                    .with_client_auth_cert(chain, k)
                    .map_err(TlsError::Rustls)?
            }
            _ => builder.with_no_client_auth(),
        };
        let mut no_sni = cfg.clone();
        no_sni.enable_sni = false;
        Ok(TlsContext {
            sni: Arc::new(cfg),
            no_sni: Arc::new(no_sni),
        })
    }
}
