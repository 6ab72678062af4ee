//! TLS for the embedded mail world: a private certificate authority made at
//! start-up, one certificate per host name, and a key log.
//!
//! Real mail servers get certificates from a CA that clients already trust.
//! The simulated world has no such CA, so it makes one with rcgen when it
//! starts ("mailscope classroom CA"), signs a certificate for every host
//! (crepes.fr, hamburger.edu, …) and gives its own clients a trust store
//! holding only that CA. Outside clients (openssl, curl, python) can be
//! given the CA as a PEM file (`serve` writes `ca.pem`), or skip checks.
//!
//! Every TLS session's secrets go to a [`KeyLogCollector`] in the NSS key log
//! format (the `SSLKEYLOGFILE` format Wireshark reads). The recorder puts that
//! text in the capture's Decryption Secrets Block, so Wireshark can decrypt
//! the recorded TLS sessions: the point of the lesson is to compare what the
//! eavesdropper sees with what the endpoints see.

use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Errors while making certificates or TLS configurations.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Collects TLS secrets in the NSS key log format:
/// `LABEL <client random, hex> <secret, hex>` per line.
#[derive(Debug, Default)]
pub struct KeyLogCollector {
    text: Mutex<String>,
}

impl KeyLogCollector {
    /// Everything logged so far.
    pub fn contents(&self) -> String {
        self.text.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

impl rustls::KeyLog for KeyLogCollector {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = format!(
            "{label} {} {}\n",
            crate::mail::hex(client_random),
            crate::mail::hex(secret)
        );
        if let Ok(mut text) = self.text.lock() {
            text.push_str(&line);
        }
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

/// The world's certificate authority and the TLS settings derived from it.
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    key_log: Arc<KeyLogCollector>,
}

/// The crypto provider: ring, the one rustls feature this crate enables.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Pki {
    /// Make a new CA (a fresh key pair each run).
    pub fn new() -> Result<Pki, TlsSetupError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, "mailscope classroom CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(Pki {
            ca,
            key_log: Arc::new(KeyLogCollector::default()),
        })
    }

    /// The CA certificate in PEM, for clients outside the process.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The key log all sessions write to.
    pub fn key_log(&self) -> Arc<KeyLogCollector> {
        self.key_log.clone()
    }

    /// A server configuration with a certificate for `host`, signed by the CA.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, TlsSetupError> {
        let mut params = CertificateParams::new(vec![host.to_string()])?;
        params.distinguished_name.push(DnType::CommonName, host);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.ca)?;
        let chain = vec![cert.der().clone(), self.ca.der().clone()];
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)?;
        config.key_log = self.key_log.clone();
        Ok(Arc::new(config))
    }

    /// A client configuration that trusts exactly the world's CA.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::clone(self.ca.der()))?;
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.key_log = self.key_log.clone();
        Ok(Arc::new(config))
    }
}
