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
    /// Only this cipher suite (IANA number), or rustls' defaults.
    suite: Option<u16>,
}

/// The cipher suites the world can be asked to use: those of rustls' ring
/// provider that go with the world's ECDSA certificates (TLS 1.3's three,
/// and TLS 1.2's ECDHE_ECDSA with AES-GCM or ChaCha20-Poly1305).
pub fn selectable_suites() -> Vec<(u16, String)> {
    rustls::crypto::ring::ALL_CIPHER_SUITES
        .iter()
        .map(|s| u16::from(s.suite()))
        .filter(|&id| {
            let name = crate::proto::tls::cipher_name(id);
            name.starts_with("TLS_AES") || name.starts_with("TLS_CHACHA") || name.contains("ECDSA")
        })
        .map(|id| (id, crate::proto::tls::cipher_name(id)))
        .collect()
}

/// The number of a suite given by its IANA name (case-insensitive).
pub fn suite_by_name(name: &str) -> Result<u16, String> {
    let all = selectable_suites();
    all.iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(id, _)| *id)
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|(_, n)| n.as_str()).collect();
            format!(
                "unknown cipher suite {name:?}; choose one of: {}",
                names.join(", ")
            )
        })
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
            suite: None,
        })
    }

    /// Every connection of the world uses this cipher suite (and so the
    /// TLS version it belongs to): to compare TLS 1.2 with 1.3 in class.
    pub fn use_suite(&mut self, suite: Option<u16>) {
        self.suite = suite;
    }

    /// The crypto provider (ring, the one rustls feature this crate
    /// enables), limited to the chosen suite, and the versions it allows.
    fn provider(
        &self,
    ) -> (
        Arc<rustls::crypto::CryptoProvider>,
        Vec<&'static rustls::SupportedProtocolVersion>,
    ) {
        let mut provider = rustls::crypto::ring::default_provider();
        let Some(id) = self.suite else {
            return (Arc::new(provider), rustls::DEFAULT_VERSIONS.to_vec());
        };
        provider.cipher_suites = rustls::crypto::ring::ALL_CIPHER_SUITES
            .iter()
            .filter(|s| u16::from(s.suite()) == id)
            .copied()
            .collect();
        let version = match provider.cipher_suites.first() {
            Some(rustls::SupportedCipherSuite::Tls12(_)) => &rustls::version::TLS12,
            _ => &rustls::version::TLS13,
        };
        (Arc::new(provider), vec![version])
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
        let (provider, versions) = self.provider();
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)?;
        config.key_log = self.key_log.clone();
        Ok(Arc::new(config))
    }

    /// A client configuration that trusts exactly the world's CA.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::clone(self.ca.der()))?;
        let (provider, versions) = self.provider();
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.key_log = self.key_log.clone();
        Ok(Arc::new(config))
    }
}
