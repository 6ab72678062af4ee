//! The two hellos, which travel in clear (RFC 8446 §4.1.2-§4.1.3, RFC 5246
//! §7.4.1.2-§7.4.1.3): the ClientHello names the server (SNI, RFC 6066
//! §3), the application protocols (ALPN, RFC 7301) and the versions the
//! client speaks; the ServerHello the version and cipher suite chosen.
//! Each is parsed field by field with every length checked: the bytes come
//! from anyone on the network.

use super::names::{is_grease, version_name};

/// Extension types (IANA TLS ExtensionType registry).
pub(super) const EXT_SERVER_NAME: u16 = 0;
pub(super) const EXT_ALPN: u16 = 16;
pub(super) const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// The `random` of a ServerHello that is really a HelloRetryRequest
/// (RFC 8446 §4.1.3: SHA-256 of "HelloRetryRequest").
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What the decryption needs from the hellos: the two randoms (the client's
/// names the session in a key log; both seed the TLS 1.2 key block), the
/// cipher suite and the negotiated version, as numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HelloParams {
    pub client_random: Option<[u8; 32]>,
    pub server_random: Option<[u8; 32]>,
    pub cipher_suite: Option<u16>,
    pub version: Option<u16>,
}

/// A cursor over handshake bytes; every read is checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// A vector with a 1-byte length prefix (`<0..2^8-1>` in the RFCs).
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let len = self.u8()?;
        self.take(len as usize)
    }

    /// A vector with a 2-byte length prefix (`<0..2^16-1>`).
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.take(len as usize)
    }

    /// The extensions block, as (type, data) pairs, as far as it is well
    /// formed. A hello without it (SSL 3.0 style) has none.
    fn extensions(&mut self) -> Vec<(u16, &'a [u8])> {
        let mut out = Vec::new();
        let Some(block) = self.vec16() else {
            return out;
        };
        let mut r = Reader(block);
        while let (Some(kind), Some(data)) = (r.u16(), r.vec16()) {
            out.push((kind, data));
        }
        out
    }
}

/// What a ClientHello shows (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).
pub(super) struct ClientHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// supported_versions, GREASE left out, as names.
    pub versions: Vec<String>,
}

impl ClientHello {
    /// None when even the fixed fields are truncated; a damaged extension
    /// only loses what it would have said.
    pub(super) fn parse(body: &[u8]) -> Option<ClientHello> {
        let mut r = Reader(body);
        let legacy_version = r.u16()?;
        let random = r.take(32)?.try_into().ok()?;
        r.vec8()?; // legacy_session_id
        r.vec16()?; // cipher_suites
        r.vec8()?; // legacy_compression_methods
        let mut hello = ClientHello {
            legacy_version,
            random,
            sni: None,
            alpn: Vec::new(),
            versions: Vec::new(),
        };
        for (kind, data) in r.extensions() {
            let mut e = Reader(data);
            match kind {
                EXT_SERVER_NAME => hello.sni = server_name(&mut e),
                EXT_ALPN => {
                    // ProtocolNameList: names with a 1-byte length
                    // (RFC 7301 §3.1).
                    let mut list = Reader(e.vec16().unwrap_or_default());
                    hello.alpn = std::iter::from_fn(|| list.vec8()).map(printable).collect();
                }
                EXT_SUPPORTED_VERSIONS => {
                    // ProtocolVersion versions<2..254> (RFC 8446 §4.2.1).
                    let mut list = Reader(e.vec8().unwrap_or_default());
                    hello.versions = std::iter::from_fn(|| list.u16())
                        .filter(|&v| !is_grease(v))
                        .map(version_name)
                        .collect();
                }
                _ => {}
            }
        }
        Some(hello)
    }
}

/// The host_name of a server_name extension (RFC 6066 §3): a list of
/// (name_type, name); type 0 is the only one defined.
fn server_name(e: &mut Reader<'_>) -> Option<String> {
    let mut list = Reader(e.vec16()?);
    while let Some(name_type) = list.u8() {
        let name = list.vec16()?;
        if name_type == 0 {
            return Some(printable(name));
        }
    }
    None
}

/// What a ServerHello shows (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).
pub(super) struct ServerHello {
    /// The negotiated version: supported_versions when present (TLS 1.3
    /// freezes legacy_version at 0x0303), else legacy_version.
    pub version: u16,
    pub cipher_suite: u16,
    pub random: [u8; 32],
    /// A HelloRetryRequest in ServerHello clothing.
    pub retry: bool,
}

impl ServerHello {
    pub(super) fn parse(body: &[u8]) -> Option<ServerHello> {
        let mut r = Reader(body);
        let legacy_version = r.u16()?;
        let random = r.take(32)?;
        r.vec8()?; // legacy_session_id_echo
        let cipher_suite = r.u16()?;
        r.u8()?; // legacy_compression_method
        let mut version = legacy_version;
        for (kind, data) in r.extensions() {
            if let (EXT_SUPPORTED_VERSIONS, [hi, lo]) = (kind, data) {
                version = u16::from_be_bytes([*hi, *lo]);
            }
        }
        let random: [u8; 32] = random.try_into().ok()?;
        Some(ServerHello {
            version,
            cipher_suite,
            random,
            retry: random == HRR_RANDOM,
        })
    }
}

/// Bytes from the wire as text for people: invalid UTF-8 replaced and
/// control characters escaped, so a hostile name cannot drive a terminal.
fn printable(bytes: &[u8]) -> String {
    let mut out = String::new();
    for c in String::from_utf8_lossy(bytes).chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::names::TLS_1_3;
    use super::super::record::HANDSHAKE;
    use super::super::test_wire::*;
    use super::*;
    use crate::trace::TlsSummary;

    #[test]
    fn tls12_handshake_read_from_literal_bytes() {
        let (c, s) = tls12_conversation();
        let sum = run(&[(C, &c[..89]), (S, &s), (C, &c[89..])]);
        let want = TlsSummary {
            records_c2s: 5,
            records_s2c: 4,
            bytes_c2s: c.len() as u64,
            bytes_s2c: s.len() as u64,
            version: Some("TLS 1.2".into()),
            sni: Some("hamburger.edu".into()),
            cipher: Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()),
            alpn: vec!["imap".into()],
            client_versions: vec![],
            client_legacy_version: Some("TLS 1.2".into()),
            ..TlsSummary::default()
        };
        assert_eq!(sum, want);
    }

    #[test]
    fn tls13_handshake_gives_version_from_supported_versions() {
        let (c, s) = tls13_conversation();
        let sum = run(&[(C, &c), (S, &s)]);
        assert_eq!(sum.version.as_deref(), Some("TLS 1.3"));
        assert_eq!(sum.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
        assert_eq!(sum.sni.as_deref(), Some("hamburger.edu"));
        assert_eq!(sum.alpn, ["imap"]);
        // GREASE (0x2a2a) is not a version.
        assert_eq!(sum.client_versions, ["TLS 1.3", "TLS 1.2"]);
        assert_eq!(sum.client_legacy_version.as_deref(), Some("TLS 1.2"));
        assert_eq!((sum.records_c2s, sum.records_s2c), (4, 4));
        assert_eq!(
            (sum.bytes_c2s, sum.bytes_s2c),
            (c.len() as u64, s.len() as u64)
        );
        assert!(!sum.hello_retry);
    }

    #[test]
    fn hello_retry_request_is_not_the_answer() {
        let mut hrr_random = [0; 32];
        hrr_random.copy_from_slice(&HRR_RANDOM);
        // The second ClientHello names another server only to show it is
        // the one read (a real client repeats its SNI).
        let first = record(HANDSHAKE, &client_hello_tls13("first.example"));
        let retry = record(HANDSHAKE, &server_hello(hrr_random, 0x1301, Some(TLS_1_3)));
        // The client's middlebox ChangeCipherSpec may come before its second
        // ClientHello (RFC 8446 Appendix D.4): that hello is still plaintext.
        let second = [
            &CCS[..],
            &record(HANDSHAKE, &client_hello_tls13("hamburger.edu")),
        ]
        .concat();
        let answer = record(HANDSHAKE, &server_hello([9; 32], 0x1303, Some(TLS_1_3)));
        let sum = run(&[
            (C, &first),
            (S, &retry),
            (S, &CCS),
            (C, &second),
            (S, &answer),
        ]);
        assert!(sum.hello_retry);
        assert_eq!(sum.version.as_deref(), Some("TLS 1.3"));
        assert_eq!(sum.cipher.as_deref(), Some("TLS_CHACHA20_POLY1305_SHA256"));
        assert_eq!(sum.sni.as_deref(), Some("hamburger.edu"));
        assert_eq!(sum.alpn, ["imap"]);
        // Before the real ServerHello, an HRR alone says nothing chosen.
        let only_retry = run(&[(C, &first), (S, &retry)]);
        assert_eq!((only_retry.version, only_retry.cipher), (None, None));
    }

    #[test]
    fn a_hostile_sni_is_made_printable() {
        // A hostile SNI cannot put an escape sequence on a terminal.
        let evil = record(HANDSHAKE, &client_hello_tls13("a\x1b[2Jb"));
        assert_eq!(run(&[(C, &evil)]).sni.as_deref(), Some("a\\u{1b}[2Jb"));
    }

    #[test]
    fn truncated_hellos_say_nothing() {
        let hello = client_hello_tls13("hamburger.edu");
        // Without the 4-byte message header, cut inside the fixed fields.
        assert!(ClientHello::parse(&hello[4..30]).is_none());
        assert!(ServerHello::parse(&[3, 3, 0]).is_none());
        let whole = ClientHello::parse(&hello[4..]).expect("a whole hello");
        assert_eq!(whole.sni.as_deref(), Some("hamburger.edu"));
        assert_eq!(whole.random, [0x33; 32]);
    }
}
