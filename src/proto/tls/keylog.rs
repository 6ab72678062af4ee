//! TLS key logs in the NSS format (`SSLKEYLOGFILE`), the first piece of
//! decrypting recorded TLS sessions (issue 6).
//!
//! Browsers, curl, OpenSSL-based tools and rustls can write every TLS
//! session's secrets to a text file; Wireshark reads it, and so does a
//! pcapng Decryption Secrets Block (the demo embeds one). Each line is
//!
//! ```text
//! LABEL <client random, 64 hex digits> <secret, hex>
//! ```
//!
//! The client random (the 32 bytes of the ClientHello, RFC 8446 §4.1.2)
//! names the session, so a reader finds the secrets of a connection from
//! the ClientHello it sees on the wire. The labels:
//!
//! | label | TLS | secret |
//! |---|---|---|
//! | `CLIENT_RANDOM` | 1.2 | the 48-byte master secret (RFC 5246 §8.1) |
//! | `CLIENT_HANDSHAKE_TRAFFIC_SECRET`, `SERVER_HANDSHAKE_TRAFFIC_SECRET` | 1.3 | handshake keys (RFC 8446 §7.1) |
//! | `CLIENT_TRAFFIC_SECRET_0`, `SERVER_TRAFFIC_SECRET_0` | 1.3 | the first application traffic keys |
//! | `CLIENT_EARLY_TRAFFIC_SECRET`, `EXPORTER_SECRET`, `EARLY_EXPORTER_SECRET` | 1.3 | 0-RTT data and exporters |
//!
//! Lines starting with `#` are comments. Anything unreadable is counted
//! and reported, never fatal: a key log is often hand-edited or
//! concatenated from several programs.

use std::collections::HashMap;

/// The secrets logged for one session (one client random).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionSecrets {
    /// TLS 1.2 master secret.
    pub master_secret: Option<Vec<u8>>,
    pub client_handshake_traffic: Option<Vec<u8>>,
    pub server_handshake_traffic: Option<Vec<u8>>,
    pub client_application_traffic_0: Option<Vec<u8>>,
    pub server_application_traffic_0: Option<Vec<u8>>,
    pub client_early_traffic: Option<Vec<u8>>,
    pub exporter: Option<Vec<u8>>,
    pub early_exporter: Option<Vec<u8>>,
}

/// Why a line was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based line number.
    pub line: usize,
    pub reason: &'static str,
}

/// All sessions of one or more key logs.
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    sessions: HashMap<[u8; 32], SessionSecrets>,
    pub rejected: Vec<Rejected>,
    /// Lines with a label we do not use (e.g. `RSA`): skipped, not errors.
    pub unknown_labels: usize,
}

/// Longest secret we accept: SHA-384 secrets are 48 bytes; 64 leaves room.
const MAX_SECRET: usize = 64;

fn hex_bytes(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

impl KeyLog {
    /// Read key log text (a file, or a Decryption Secrets Block's payload).
    pub fn parse(text: &[u8]) -> KeyLog {
        let mut log = KeyLog::default();
        log.add(text);
        log
    }

    /// Add more key log text (several files, several DSBs).
    pub fn add(&mut self, text: &[u8]) {
        for (i, raw) in text.split(|b| *b == b'\n').enumerate() {
            let line = raw.trim_ascii();
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            let reject = |reason| Rejected {
                line: i + 1,
                reason,
            };
            let mut fields = line.split(|b| *b == b' ').filter(|f| !f.is_empty());
            let (Some(label), Some(random), Some(secret), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                self.rejected
                    .push(reject("expected: LABEL CLIENT_RANDOM SECRET"));
                continue;
            };
            let slot: fn(&mut SessionSecrets) -> &mut Option<Vec<u8>> = match label {
                b"CLIENT_RANDOM" => |s| &mut s.master_secret,
                b"CLIENT_HANDSHAKE_TRAFFIC_SECRET" => |s| &mut s.client_handshake_traffic,
                b"SERVER_HANDSHAKE_TRAFFIC_SECRET" => |s| &mut s.server_handshake_traffic,
                b"CLIENT_TRAFFIC_SECRET_0" => |s| &mut s.client_application_traffic_0,
                b"SERVER_TRAFFIC_SECRET_0" => |s| &mut s.server_application_traffic_0,
                b"CLIENT_EARLY_TRAFFIC_SECRET" => |s| &mut s.client_early_traffic,
                b"EXPORTER_SECRET" => |s| &mut s.exporter,
                b"EARLY_EXPORTER_SECRET" => |s| &mut s.early_exporter,
                _ => {
                    self.unknown_labels += 1;
                    continue;
                }
            };
            let Some(random) = hex_bytes(random).and_then(|r| <[u8; 32]>::try_from(r).ok()) else {
                self.rejected
                    .push(reject("the client random is not 32 bytes of hex"));
                continue;
            };
            let secret = match hex_bytes(secret) {
                Some(s) if !s.is_empty() && s.len() <= MAX_SECRET => s,
                _ => {
                    self.rejected
                        .push(reject("the secret is not hex of a sensible length"));
                    continue;
                }
            };
            if label == b"CLIENT_RANDOM" && secret.len() != 48 {
                self.rejected
                    .push(reject("a TLS 1.2 master secret has 48 bytes"));
                continue;
            }
            *slot(self.sessions.entry(random).or_default()) = Some(secret);
        }
    }

    /// The secrets of the session with this client random.
    pub fn session(&self, client_random: &[u8; 32]) -> Option<&SessionSecrets> {
        self.sessions.get(client_random)
    }

    /// How many sessions have secrets.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_each_kind() {
        let random = "ab".repeat(32);
        let text = format!(
            "# written by a test\n\
             CLIENT_RANDOM {random} {}\n\
             SERVER_TRAFFIC_SECRET_0 {random} {}\r\n\
             RSA 0011223344556677 {}\n\
             \n\
             CLIENT_RANDOM {random}\n\
             CLIENT_RANDOM abcd {}\n\
             CLIENT_TRAFFIC_SECRET_0 {random} xyz\n\
             CLIENT_RANDOM {random} {}\n",
            "11".repeat(48),
            "22".repeat(32),
            "33".repeat(48),
            "44".repeat(48),
            "55".repeat(20),
        );
        let log = KeyLog::parse(text.as_bytes());
        assert_eq!(log.len(), 1);
        let s = log.session(&[0xab; 32]).unwrap();
        assert_eq!(s.master_secret.as_deref(), Some(&[0x11; 48][..]));
        assert_eq!(
            s.server_application_traffic_0.as_deref(),
            Some(&[0x22; 32][..])
        );
        assert_eq!(s.client_application_traffic_0, None);
        assert_eq!(log.unknown_labels, 1);
        let lines: Vec<usize> = log.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![6, 7, 8, 9]);
        assert_eq!(
            log.rejected[3].reason,
            "a TLS 1.2 master secret has 48 bytes"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            &b"\xff\xfe\x00"[..],
            b"CLIENT_RANDOM \xff \xff",
            b"  \n\n#",
            b"A B C D",
        ] {
            let log = KeyLog::parse(text);
            assert!(log.is_empty());
        }
    }

    /// A real TLS 1.3 handshake between the world's rustls client and
    /// server, in memory: its key log parses into one session with the
    /// four TLS 1.3 traffic secrets, named by the ClientHello's random.
    #[test]
    fn a_real_rustls_key_log() {
        use crate::world::tls::Pki;
        let pki = Pki::new().unwrap();
        let server_config = pki.server_config("hamburger.edu").unwrap();
        let client_config = pki.client_config().unwrap();
        let name = rustls::pki_types::ServerName::try_from("hamburger.edu").unwrap();
        let mut client = rustls::ClientConnection::new(client_config, name).unwrap();
        let mut server = rustls::ServerConnection::new(server_config).unwrap();
        let mut client_hello = Vec::new();
        for _ in 0..10 {
            let mut buf = Vec::new();
            client.write_tls(&mut buf).unwrap();
            if client_hello.is_empty() {
                client_hello = buf.clone();
            }
            server.read_tls(&mut buf.as_slice()).unwrap();
            server.process_new_packets().unwrap();
            let mut buf = Vec::new();
            server.write_tls(&mut buf).unwrap();
            client.read_tls(&mut buf.as_slice()).unwrap();
            client.process_new_packets().unwrap();
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
        }
        assert!(!client.is_handshaking());
        // Record header (5) + handshake header (4) + legacy_version (2),
        // then the 32-byte random (RFC 8446 §4.1.2).
        let random: [u8; 32] = client_hello[11..43].try_into().unwrap();
        let log = KeyLog::parse(pki.key_log().contents().as_bytes());
        assert!(log.rejected.is_empty(), "{:?}", log.rejected);
        let s = log.session(&random).expect("the session's secrets");
        for secret in [
            &s.client_handshake_traffic,
            &s.server_handshake_traffic,
            &s.client_application_traffic_0,
            &s.server_application_traffic_0,
        ] {
            let len = secret.as_ref().map(Vec::len);
            assert!(matches!(len, Some(32 | 48)), "{len:?}");
        }
    }
}
