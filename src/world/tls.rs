//! TLS for the embedded mail world: a private certificate authority made at
//! start-up, one certificate per host name, and a key log.
//!
//! Real mail servers get certificates from a CA that clients already trust.
//! The simulated world has no such CA, so it makes one with rcgen when it
//! starts ("mailscope classroom CA"), signs a certificate for every host
//! (crepes.fr, hamburger.edu, …) and gives its own clients a trust store
//! holding only that CA. Outside clients (openssl, curl, msmtp, python) can
//! be given the CA as a PEM file (`serve` writes `ca.pem`), or skip checks.
//!
//! `serve --store DIR` keeps the CA in `DIR/ca.pem` and its key in
//! `DIR/ca-key.pem` (mode 0600) and uses them again on the next start, so a
//! class trusts it once; it makes a new one only when either is missing,
//! unreadable or the two do not belong together.
//!
//! Every TLS session's secrets go to a [`KeyLogCollector`] in the NSS key log
//! format (the `SSLKEYLOGFILE` format Wireshark reads). The recorder puts that
//! text in the capture's Decryption Secrets Block, so Wireshark can decrypt
//! the recorded TLS sessions: the point of the lesson is to compare what the
//! eavesdropper sees with what the endpoints see.

use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, Issuer, KeyPair,
    PublicKeyData,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Errors while making certificates or TLS configurations.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot save the CA in {path}: {source}")]
    Save {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// The CA certificate's file name in a store directory.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA key's file name in a store directory (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";

/// Where the CA that [`Pki::load_or_create`] returns came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaOrigin {
    /// Read back from the directory: clients that trusted it still do.
    Kept,
    /// Made now and saved (none was there, or it could not be used).
    Made,
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
    /// Signs the hosts' certificates: the CA's name and key.
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    /// The CA certificate exactly as written to (or read from) disk.
    ca_pem: String,
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
        Ok(Self::generate()?.0)
    }

    /// A new CA and its key in PEM.
    fn generate() -> Result<(Pki, String), TlsSetupError> {
        let key = KeyPair::generate()?;
        let key_pem = key.serialize_pem();
        let ca = CertifiedIssuer::self_signed(ca_params()?, key)?;
        let pki = Self::from_pem(&ca.pem(), &key_pem)?;
        Ok((pki, key_pem))
    }

    /// The CA from its certificate and key in PEM. The issuer is rebuilt
    /// from the same name the CA was made with (rcgen encodes it the same
    /// way each time), so certificates it signs chain to the saved CA.
    fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Pki, TlsSetupError> {
        let key = KeyPair::from_pem(key_pem)?;
        let ca_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|_| rcgen::Error::CouldNotParseCertificate)?;
        // The certificate must hold this key's public half, and our name.
        let spki = key.subject_public_key_info();
        let holds = |needle: &[u8]| ca_der.windows(needle.len()).any(|w| w == needle);
        if !holds(&spki) || !holds(CA_NAME.as_bytes()) {
            return Err(rcgen::Error::CouldNotParseCertificate.into());
        }
        Ok(Pki {
            issuer: Issuer::new(ca_params()?, key),
            ca_der,
            ca_pem: cert_pem.to_string(),
            key_log: Arc::new(KeyLogCollector::default()),
            suite: None,
        })
    }

    /// The CA kept in `dir` ([`CA_CERT_FILE`], [`CA_KEY_FILE`]), or a new
    /// one saved there when they are missing, unreadable or do not match.
    pub fn load_or_create(dir: &Path) -> Result<(Pki, CaOrigin), TlsSetupError> {
        let (cert, key) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
        if let (Ok(c), Ok(k)) = (
            std::fs::read_to_string(&cert),
            std::fs::read_to_string(&key),
        ) && let Ok(pki) = Self::from_pem(&c, &k)
        {
            // A key copied in with looser permissions is closed again.
            set_private(&key).map_err(|source| save_error(&key, source))?;
            return Ok((pki, CaOrigin::Kept));
        }
        let (pki, key_pem) = Self::generate()?;
        // The key first: a crash between the two leaves no certificate
        // without its key, and the next start makes a new pair.
        write_file(&key, key_pem.as_bytes(), true).map_err(|source| save_error(&key, source))?;
        write_file(&cert, pki.ca_pem.as_bytes(), false)
            .map_err(|source| save_error(&cert, source))?;
        Ok((pki, CaOrigin::Made))
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
        self.ca_pem.clone()
    }

    /// The key log all sessions write to.
    pub fn key_log(&self) -> Arc<KeyLogCollector> {
        self.key_log.clone()
    }

    /// A server configuration with a certificate for `host`, signed by the CA.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, TlsSetupError> {
        self.server_config_for(host, &[])
    }

    /// A server configuration whose certificate names `host` and also
    /// `more` (host names, or IP addresses, which become IP address SANs,
    /// RFC 5280 §4.2.1.6): what a client may type to reach the server.
    pub fn server_config_for(
        &self,
        host: &str,
        more: &[String],
    ) -> Result<Arc<ServerConfig>, TlsSetupError> {
        let mut names = vec![host.to_string()];
        for n in more {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        let ips: Vec<String> = names
            .iter()
            .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
            .cloned()
            .collect();
        let mut params = CertificateParams::new(names)?;
        // The addresses once more as DNS names: clients that check an IP
        // literal as a host name (fetchmail 6.4 hands it to OpenSSL's
        // X509_VERIFY_PARAM_set1_host, which never looks at IP SANs) match
        // the text, as Windows and many appliances' certificates allow.
        for ip in ips {
            params
                .subject_alt_names
                .push(rcgen::SanType::DnsName(ip.try_into()?));
        }
        params.distinguished_name.push(DnType::CommonName, host);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        let chain = vec![cert.der().clone(), self.ca_der.clone()];
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
        roots.add(self.ca_der.clone())?;
        let (provider, versions) = self.provider();
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.key_log = self.key_log.clone();
        Ok(Arc::new(config))
    }
}

/// The CA's common name; also how a saved certificate is recognized.
const CA_NAME: &str = "mailscope classroom CA";

/// The CA's parameters: the same on every run, so a saved CA's key with
/// these signs certificates that chain to the saved certificate.
fn ca_params() -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    Ok(params)
}

fn save_error(path: &Path, source: io::Error) -> TlsSetupError {
    TlsSetupError::Save {
        path: path.display().to_string(),
        source,
    }
}

/// Only the owner may read a private key (mode 0600).
fn set_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Write `bytes` to `path` through a temporary file and a rename, so a
/// crash leaves the old file or the new one; `private` files are created
/// with mode 0600 before any byte of the key is written.
fn write_file(path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("ca");
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = options.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_ca_is_used_again_and_a_damaged_one_replaced() {
        let dir = std::env::temp_dir().join(format!("mailscope-ca-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (first, origin) = Pki::load_or_create(&dir).unwrap();
        assert_eq!(origin, CaOrigin::Made);
        let saved = std::fs::read(dir.join(CA_CERT_FILE)).unwrap();
        assert_eq!(saved, first.ca_pem().as_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(CA_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, origin) = Pki::load_or_create(&dir).unwrap();
        assert_eq!(origin, CaOrigin::Kept);
        assert_eq!(again.ca_pem(), first.ca_pem());
        // A certificate signed by the reloaded CA verifies against the
        // saved one: a TLS handshake with a client trusting `first`.
        let server = again
            .server_config_for("hamburger.edu", &["127.0.0.1".into(), "localhost".into()])
            .unwrap();
        let client = first.client_config().unwrap();
        for name in ["hamburger.edu", "localhost", "127.0.0.1"] {
            let server_name = rustls::pki_types::ServerName::try_from(name).unwrap();
            let mut c = rustls::ClientConnection::new(client.clone(), server_name).unwrap();
            let mut s = rustls::ServerConnection::new(server.clone()).unwrap();
            let mut buf = Vec::new();
            while c.is_handshaking() || s.is_handshaking() {
                buf.clear();
                c.write_tls(&mut buf).unwrap();
                s.read_tls(&mut &buf[..]).unwrap();
                s.process_new_packets().unwrap();
                buf.clear();
                s.write_tls(&mut buf).unwrap();
                c.read_tls(&mut &buf[..]).unwrap();
                c.process_new_packets()
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        // A key that does not belong to the certificate: a new pair.
        std::fs::write(
            dir.join(CA_KEY_FILE),
            KeyPair::generate().unwrap().serialize_pem(),
        )
        .unwrap();
        let (third, origin) = Pki::load_or_create(&dir).unwrap();
        assert_eq!(origin, CaOrigin::Made);
        assert_ne!(third.ca_pem(), first.ca_pem());
        std::fs::write(dir.join(CA_CERT_FILE), b"not a certificate").unwrap();
        assert_eq!(Pki::load_or_create(&dir).unwrap().1, CaOrigin::Made);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
