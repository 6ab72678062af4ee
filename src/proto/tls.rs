//! Recognising TLS on the wire (RFC 8446 §5.1, RFC 5246 §6.2).
//!
//! Every TLS record starts with a 5-byte header: content type (20–23: change
//! cipher spec, alert, handshake, application data), the legacy version
//! (major 3, minor 0–4) and a 16-bit length of at most 2^14 + 2048 bytes.
//! A connection opens with a handshake record (type 22), so "16 03 0x" is how
//! TLS looks in its first bytes.

/// Largest record a TLS 1.2 peer may send (RFC 5246 §6.2.3).
use crate::flow::Direction;

const MAX_RECORD: u16 = (1 << 14) + 2048;

/// True when `bytes` starts with a plausible TLS record header of the given
/// content type (`None` accepts any of the four types).
pub fn looks_like_record(bytes: &[u8], content_type: Option<u8>) -> bool {
    let [ct, major, minor, hi, lo, ..] = *bytes else {
        return false;
    };
    let type_ok = match content_type {
        Some(t) => ct == t,
        None => (20..=23).contains(&ct),
    };
    let len = u16::from_be_bytes([hi, lo]);
    type_ok && major == 3 && minor <= 4 && len > 0 && len <= MAX_RECORD
}

/// True when `bytes` starts like a TLS handshake (ClientHello/ServerHello).
pub fn looks_like_handshake(bytes: &[u8]) -> bool {
    looks_like_record(bytes, Some(22))
}

/// Plaintext handshake bytes kept per direction for reading the hellos.
const MAX_HANDSHAKE: usize = 64 * 1024;

/// The `random` of a ServerHello that is really a HelloRetryRequest
/// (RFC 8446 §4.1.3: SHA-256 of "HelloRetryRequest").
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Follows the TLS records of a flow (after STARTTLS, or from the first byte
/// on 465/993/995): counts them and reads the version, SNI and cipher from
/// the ClientHello and ServerHello, which travel in clear.
#[derive(Clone, Debug, Default)]
pub struct TlsTracker {
    dirs: [RecordReader; 2],
    summary: TlsSummary,
}

/// What the records and the hellos tell an eavesdropper.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TlsSummary {
    pub records_c2s: u64,
    pub records_s2c: u64,
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    /// Negotiated version, e.g. `TLS 1.3` (from the ServerHello's
    /// supported_versions extension, else its legacy version).
    pub version: Option<String>,
    /// Server name the client asked for (RFC 6066 §3).
    pub sni: Option<String>,
    /// Cipher suite the server chose, by its IANA name.
    pub cipher: Option<String>,
    /// ALPN protocols offered by the client (RFC 7301).
    pub alpn: Vec<String>,
    /// Versions the client offered (supported_versions, RFC 8446 §4.2.1).
    pub client_versions: Vec<String>,
    /// Plaintext alert records.
    pub alerts: u64,
    /// Times the record boundaries were lost to a gap.
    pub gaps: u64,
}

/// One direction's record boundaries.
#[derive(Clone, Debug, Default)]
struct RecordReader {
    header: [u8; 5],
    header_len: usize,
    /// Body bytes of the current record still to come.
    remaining: usize,
    content_type: u8,
    /// Boundaries lost (a gap): wait for something that looks like a
    /// record header at the start of a piece.
    lost: bool,
    /// ChangeCipherSpec seen: later handshake records are encrypted.
    encrypted: bool,
    /// Plaintext handshake bytes and how far they were parsed.
    handshake: Vec<u8>,
    parsed: usize,
}

impl TlsTracker {
    pub fn feed(&mut self, dir: Direction, mut bytes: &[u8]) {
        let summary = &mut self.summary;
        match dir {
            Direction::ClientToServer => summary.bytes_c2s += bytes.len() as u64,
            Direction::ServerToClient => summary.bytes_s2c += bytes.len() as u64,
        }
        let r = &mut self.dirs[dir.index()];
        if r.lost {
            if !looks_like_record(bytes, None) {
                return;
            }
            r.lost = false;
            r.header_len = 0;
            r.remaining = 0;
        }
        while !bytes.is_empty() {
            if r.remaining == 0 {
                let take = (5 - r.header_len).min(bytes.len());
                r.header[r.header_len..r.header_len + take].copy_from_slice(&bytes[..take]);
                r.header_len += take;
                bytes = &bytes[take..];
                if r.header_len < 5 {
                    return;
                }
                r.header_len = 0;
                let h = r.header;
                if !looks_like_record(&h, None) {
                    // Not a record header: the stream is not (or no longer)
                    // TLS as we understood it.
                    r.lost = true;
                    return;
                }
                r.content_type = h[0];
                r.remaining = u16::from_be_bytes([h[3], h[4]]) as usize;
                match dir {
                    Direction::ClientToServer => summary.records_c2s += 1,
                    Direction::ServerToClient => summary.records_s2c += 1,
                }
                match r.content_type {
                    20 => r.encrypted = true,
                    21 if !r.encrypted => summary.alerts += 1,
                    _ => {}
                }
                continue;
            }
            let take = r.remaining.min(bytes.len());
            if r.content_type == 22 && !r.encrypted && r.handshake.len() + take <= MAX_HANDSHAKE {
                r.handshake.extend_from_slice(&bytes[..take]);
                r.read_handshake(dir, summary);
            }
            r.remaining -= take;
            bytes = &bytes[take..];
        }
    }

    /// Bytes of `dir` missing from the capture. Inside a record the
    /// boundaries survive (its length is known); past its end they are
    /// lost until a plausible record header shows up again.
    pub fn gap(&mut self, dir: Direction, len: u64) {
        let r = &mut self.dirs[dir.index()];
        // Whatever handshake message was being gathered is broken.
        r.handshake.clear();
        r.parsed = 0;
        if !r.lost && r.header_len == 0 && (len as usize) < r.remaining {
            r.remaining -= len as usize;
            return;
        }
        if !r.lost {
            self.summary.gaps += 1;
        }
        r.lost = true;
    }

    pub fn summary(&self) -> &TlsSummary {
        &self.summary
    }

    /// True once any TLS byte was seen.
    pub fn active(&self) -> bool {
        self.summary.bytes_c2s + self.summary.bytes_s2c > 0
    }
}

impl RecordReader {
    /// Reads the complete handshake messages gathered so far (RFC 8446 §4:
    /// type, 24-bit length, body).
    fn read_handshake(&mut self, dir: Direction, summary: &mut TlsSummary) {
        loop {
            let rest = &self.handshake[self.parsed..];
            let [kind, a, b, c, ..] = *rest else { return };
            let len = u32::from_be_bytes([0, a, b, c]) as usize;
            let Some(body) = rest.get(4..4 + len) else {
                return;
            };
            match (dir, kind) {
                (Direction::ClientToServer, 1) => {
                    client_hello(body, summary);
                }
                (Direction::ServerToClient, 2) => {
                    server_hello(body, summary);
                }
                _ => {}
            }
            self.parsed += 4 + len;
        }
    }
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

    /// A vector with a length prefix of `width` bytes.
    fn vec(&mut self, width: usize) -> Option<&'a [u8]> {
        let len = match width {
            1 => self.u8()? as usize,
            _ => self.u16()? as usize,
        };
        self.take(len)
    }

    /// The extensions block: (type, data) pairs.
    fn extensions(&mut self) -> Vec<(u16, &'a [u8])> {
        let mut out = Vec::new();
        let Some(block) = self.vec(2) else { return out };
        let mut r = Reader(block);
        while let (Some(t), Some(d)) = (r.u16(), r.vec(2)) {
            out.push((t, d));
        }
        out
    }
}

/// RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2.
fn client_hello(body: &[u8], summary: &mut TlsSummary) -> Option<()> {
    let mut r = Reader(body);
    r.take(2 + 32)?; // legacy_version, random
    r.vec(1)?; // session id
    r.vec(2)?; // cipher suites
    r.vec(1)?; // compression methods
    for (kind, data) in r.extensions() {
        let mut e = Reader(data);
        match kind {
            // server_name (RFC 6066 §3): a list of (type, name).
            0 => {
                let mut list = Reader(e.vec(2)?);
                while let Some(name_type) = list.u8() {
                    let name = list.vec(2)?;
                    if name_type == 0 {
                        summary.sni = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            // ALPN (RFC 7301 §3.1).
            16 => {
                let mut list = Reader(e.vec(2)?);
                while let Some(p) = list.vec(1) {
                    summary.alpn.push(String::from_utf8_lossy(p).into_owned());
                }
            }
            // supported_versions (RFC 8446 §4.2.1).
            43 => {
                let mut list = Reader(e.vec(1)?);
                while let Some(v) = list.u16() {
                    if let Some(name) = version_name(v) {
                        summary.client_versions.push(name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Some(())
}

/// RFC 8446 §4.1.3. Returns true for a real ServerHello (not a
/// HelloRetryRequest).
fn server_hello(body: &[u8], summary: &mut TlsSummary) -> bool {
    let mut r = Reader(body);
    let (Some(legacy), Some(random)) = (r.u16(), r.take(32)) else {
        return false;
    };
    if random == HRR_RANDOM {
        return false;
    }
    let (Some(_), Some(suite), Some(_)) = (r.vec(1), r.u16(), r.u8()) else {
        return false;
    };
    let mut version = legacy;
    for (kind, data) in r.extensions() {
        if kind == 43 && data.len() == 2 {
            version = u16::from_be_bytes([data[0], data[1]]);
        }
    }
    summary.version = version_name(version).map(str::to_string);
    summary.cipher = Some(cipher_name(suite));
    true
}

fn version_name(v: u16) -> Option<&'static str> {
    Some(match v {
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        _ => return None,
    })
}

/// The IANA name of a cipher suite (TLS Cipher Suites registry), or its
/// number in hex.
pub fn cipher_name(suite: u16) -> String {
    let name = match suite {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0x1304 => "TLS_AES_128_CCM_SHA256",
        0x1305 => "TLS_AES_128_CCM_8_SHA256",
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0xc024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xc028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0xc012 => "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x009e => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009f => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x003d => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        0x006b => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x0004 => "TLS_RSA_WITH_RC4_128_MD5",
        0x0005 => "TLS_RSA_WITH_RC4_128_SHA",
        0xc011 => "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        _ => return format!("0x{suite:04X}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_hello_records() {
        assert!(looks_like_handshake(&[0x16, 3, 1, 0x02, 0x00, 1]));
        assert!(!looks_like_handshake(&[0x16, 3, 1, 0x7f, 0xff]));
        assert!(!looks_like_handshake(b"220 mail.example ESMTP"));
        assert!(!looks_like_handshake(&[0x16, 3]));
        assert!(looks_like_record(&[23, 3, 3, 0, 40], None));
    }

    /// A handshake record holding one message of `kind` with `body`.
    fn record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut msg = vec![kind];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        rec.extend_from_slice(&msg);
        rec
    }

    fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut e = kind.to_be_bytes().to_vec();
        e.extend_from_slice(&(data.len() as u16).to_be_bytes());
        e.extend_from_slice(data);
        e
    }

    fn with_len16(data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(data);
        v
    }

    fn client_hello_record() -> Vec<u8> {
        let mut sni = vec![0];
        sni.extend_from_slice(&with_len16(b"hamburger.edu"));
        let mut exts = ext(0, &with_len16(&sni));
        exts.extend(ext(16, &with_len16(b"\x04imap")));
        exts.extend(ext(43, &[4, 3, 4, 3, 3]));
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0); // session id
        body.extend_from_slice(&with_len16(&[0x13, 0x01, 0xc0, 0x2f]));
        body.extend_from_slice(&[1, 0]); // compression: null
        body.extend_from_slice(&with_len16(&exts));
        record(1, &body)
    }

    fn server_hello_record(random: [u8; 32], tls13: bool) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend_from_slice(&random);
        body.push(0);
        body.extend_from_slice(if tls13 { &[0x13, 0x01] } else { &[0xc0, 0x2f] });
        body.push(0);
        let exts = if tls13 { ext(43, &[3, 4]) } else { Vec::new() };
        body.extend_from_slice(&with_len16(&exts));
        record(2, &body)
    }

    fn run(pieces: &[(Direction, &[u8])]) -> TlsSummary {
        let mut t = TlsTracker::default();
        for (d, b) in pieces {
            t.feed(*d, b);
        }
        t.summary().clone()
    }

    use Direction::{ClientToServer as C, ServerToClient as S};

    #[test]
    fn hellos_give_version_sni_cipher() {
        let ch = client_hello_record();
        let sh = server_hello_record([1; 32], true);
        let app = [23u8, 3, 3, 0, 3, 1, 2, 3];
        let s = run(&[(C, &ch), (S, &sh), (C, &app), (S, &app)]);
        assert_eq!(s.sni.as_deref(), Some("hamburger.edu"));
        assert_eq!(s.alpn, ["imap"]);
        assert_eq!(s.client_versions, ["TLS 1.3", "TLS 1.2"]);
        assert_eq!(s.version.as_deref(), Some("TLS 1.3"));
        assert_eq!(s.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!((s.records_c2s, s.records_s2c), (2, 2));
        let tls12 = run(&[(C, &ch), (S, &server_hello_record([1; 32], false))]);
        assert_eq!(tls12.version.as_deref(), Some("TLS 1.2"));
        assert_eq!(
            tls12.cipher.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
    }

    #[test]
    fn any_split_gives_the_same_summary() {
        let ch = client_hello_record();
        let whole = run(&[(C, &ch)]);
        for cut in 0..=ch.len() {
            let split = run(&[(C, &ch[..cut]), (C, &ch[cut..])]);
            assert_eq!(split, whole, "cut at {cut}");
        }
    }

    #[test]
    fn retry_request_alerts_and_gaps() {
        // A HelloRetryRequest is not the answer; the ServerHello after it is.
        let s = run(&[
            (S, &server_hello_record(HRR_RANDOM, true)),
            (S, &server_hello_record([2; 32], false)),
            (S, &[21, 3, 3, 0, 2, 2, 40]),
        ]);
        assert_eq!(s.version.as_deref(), Some("TLS 1.2"));
        assert_eq!(s.alerts, 1);
        // A gap past a record's end: boundaries are found again at the
        // next piece that starts like a record.
        let mut t = TlsTracker::default();
        t.feed(C, &[23, 3, 3, 0, 10, 1, 2]);
        t.gap(C, 20);
        t.feed(C, &[9, 9, 9]);
        t.feed(C, &[23, 3, 3, 0, 1, 0]);
        assert_eq!((t.summary().records_c2s, t.summary().gaps), (2, 1));
        // Garbage is not TLS: counted as bytes, no record.
        let g = run(&[(C, b"EHLO not tls at all\r\n")]);
        assert_eq!((g.records_c2s, g.bytes_c2s), (0, 21));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(pieces in proptest::collection::vec(
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), 0..20)) {
            let mut t = TlsTracker::default();
            for (i, p) in pieces.iter().enumerate() {
                let d = if i % 2 == 0 { C } else { S };
                if i % 7 == 6 {
                    t.gap(d, p.len() as u64);
                } else {
                    t.feed(d, p);
                }
            }
        }
    }
}
