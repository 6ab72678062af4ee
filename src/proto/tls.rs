//! What a TLS connection shows in clear (RFC 8446 §4-§5, RFC 5246 §6-§7).
//!
//! Every TLS record starts with a 5-byte header: content type (20–23: change
//! cipher spec, alert, handshake, application data), the legacy version
//! (major 3, minor 0–4) and a 16-bit length of at most 2^14 + 2048 bytes.
//! A connection opens with a handshake record (type 22), so "16 03 0x" is how
//! TLS looks in its first bytes.
//!
//! Encryption hides the mail, not everything: the ClientHello and the
//! ServerHello travel in clear, so anyone on the path reads the server name
//! the client asked for (SNI, RFC 6066 §3), the application protocols it
//! offers (ALPN, RFC 7301), the TLS versions on both sides and the cipher
//! suite the server chose. [`TlsTracker`] reads exactly that, in three
//! layers per direction:
//!
//! 1. records: the 5-byte headers, followed across arbitrary TCP pieces;
//! 2. handshake messages (type, 24-bit length, body) inside the plaintext
//!    handshake records, which may span records or share one;
//! 3. the two hellos, parsed field by field with every length checked.

use crate::flow::Direction;
pub use crate::trace::TlsSummary;

/// Largest record a TLS 1.2 peer may send (RFC 5246 §6.2.3: 2^14 bytes of
/// plaintext plus up to 2048 bytes of expansion by the cipher).
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

/// Record content types (RFC 8446 §5.1, RFC 6520 for heartbeat).
const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;
const HEARTBEAT: u8 = 24;

/// Handshake message types (RFC 8446 §4).
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;

/// Extension types (IANA TLS ExtensionType registry).
const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;

const TLS_1_3: u16 = 0x0304;

/// Largest hello kept for parsing. A real ClientHello is a few hundred
/// bytes to a few KiB; a bigger announced length is skipped without being
/// buffered, so a hostile 24-bit length (16 MiB) never becomes an
/// allocation.
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
///
/// Memory per direction is one record header (5 bytes), one handshake
/// message header (4 bytes), two alert bytes and at most one hello being
/// gathered (at most 64 KiB). A flow that never shows TLS costs one
/// pointer: the state is made at the first TLS byte (a capture of a
/// million plaintext flows should not pay for it).
#[derive(Clone, Debug, Default)]
pub struct TlsTracker {
    state: Option<Box<TlsState>>,
}

/// Nothing seen yet.
static NO_SUMMARY: TlsSummary = TlsSummary {
    records_c2s: 0,
    records_s2c: 0,
    bytes_c2s: 0,
    bytes_s2c: 0,
    version: None,
    sni: None,
    cipher: None,
    alpn: Vec::new(),
    client_versions: Vec::new(),
    client_legacy_version: None,
    hello_retry: false,
    alerts: 0,
    first_alert: None,
    gaps: 0,
    decrypted_records_c2s: 0,
    decrypted_records_s2c: 0,
};

static NO_PARAMS: HelloParams = HelloParams {
    client_random: None,
    server_random: None,
    cipher_suite: None,
    version: None,
};

impl TlsTracker {
    /// In-order bytes of `dir`; pieces may cut records and headers anywhere.
    pub fn feed(&mut self, dir: Direction, bytes: &[u8]) {
        self.state.get_or_insert_default().feed(dir, bytes);
    }

    /// `len` bytes of `dir` are missing from the capture (see
    /// [`TlsState::gap`]).
    pub fn gap(&mut self, dir: Direction, len: u64) {
        self.state.get_or_insert_default().gap(dir, len);
    }

    pub fn summary(&self) -> &TlsSummary {
        self.state.as_ref().map_or(&NO_SUMMARY, |s| &s.summary)
    }

    /// Records the decryption opened (shown in the flow's `tls_info`).
    pub fn note_decrypted(&mut self, c2s: u64, s2c: u64) {
        if c2s + s2c > 0 {
            let s = &mut self.state.get_or_insert_default().summary;
            s.decrypted_records_c2s = c2s;
            s.decrypted_records_s2c = s2c;
        }
    }

    /// The randoms, suite and version read from the hellos so far.
    pub fn params(&self) -> &HelloParams {
        self.state.as_ref().map_or(&NO_PARAMS, |s| &s.params)
    }

    /// True once any TLS byte was seen.
    pub fn active(&self) -> bool {
        let s = self.summary();
        s.bytes_c2s + s.bytes_s2c > 0
    }
}

/// The tracker's state, once TLS was seen.
#[derive(Clone, Debug, Default)]
struct TlsState {
    dirs: [DirectionState; 2],
    /// The server chose TLS 1.3 (in its ServerHello or a HelloRetryRequest).
    /// From then on every protected record is disguised as application data
    /// (RFC 8446 §5.2), so an alert or handshake record is plaintext even
    /// after a ChangeCipherSpec, which TLS 1.3 only sends to please
    /// middleboxes (RFC 8446 Appendix D.4).
    tls13: bool,
    summary: TlsSummary,
    params: HelloParams,
}

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

/// The per-direction counters of a summary.
fn counters(s: &mut TlsSummary, dir: Direction) -> (&mut u64, &mut u64) {
    match dir {
        Direction::ClientToServer => (&mut s.bytes_c2s, &mut s.records_c2s),
        Direction::ServerToClient => (&mut s.bytes_s2c, &mut s.records_s2c),
    }
}

/// One direction: where its records and handshake messages stand.
#[derive(Clone, Debug, Default)]
struct DirectionState {
    /// The record header being gathered (a header may be split across
    /// TCP pieces).
    header: [u8; 5],
    header_len: usize,
    /// Body bytes of the current record still to come.
    remaining: usize,
    content_type: u8,
    /// Whether the current record's body can be read: before this
    /// direction's ChangeCipherSpec, or at any time once TLS 1.3 was chosen
    /// (see `TlsTracker::tls13`).
    plaintext: bool,
    /// Record boundaries unknown (after a gap, or bytes that are not a
    /// record header): wait for a piece that starts like a record.
    lost: bool,
    /// This direction sent a ChangeCipherSpec: in TLS ≤ 1.2 its later
    /// records are encrypted whatever their content type.
    changed_cipher: bool,
    /// The first two bytes (level, description) of the current alert record.
    alert: [u8; 2],
    alert_len: usize,
    handshake: HandshakeReader,
}

impl DirectionState {
    /// Record boundaries are gone. Handshake message boundaries with them:
    /// a message may continue in the next record, so the handshake layer
    /// gives up for this direction rather than guess.
    fn lose(&mut self) {
        self.lost = true;
        self.header_len = 0;
        self.remaining = 0;
        self.handshake.give_up();
    }
}

impl TlsState {
    fn feed(&mut self, dir: Direction, mut bytes: &[u8]) {
        let Self {
            dirs,
            tls13,
            summary,
            params,
        } = self;
        *counters(summary, dir).0 += bytes.len() as u64;
        let d = &mut dirs[dir.index()];
        if d.lost {
            // Only a piece that starts like a record header ends the
            // search: a TCP segment after a hole usually starts a record,
            // while a header-like pattern inside ciphertext is chance.
            if !looks_like_record(bytes, None) {
                return;
            }
            d.lost = false;
        }
        while !bytes.is_empty() {
            if d.remaining == 0 {
                let take = (5 - d.header_len).min(bytes.len());
                d.header[d.header_len..d.header_len + take].copy_from_slice(&bytes[..take]);
                d.header_len += take;
                bytes = &bytes[take..];
                if d.header_len < 5 {
                    return;
                }
                d.header_len = 0;
                let Some((content_type, len)) = record_header(&d.header) else {
                    // Not a record header: this is not (or no longer) TLS
                    // as far as we can follow it.
                    d.lose();
                    return;
                };
                *counters(summary, dir).1 += 1;
                d.content_type = content_type;
                d.remaining = len;
                // TLS ≤ 1.2 encrypts everything after ChangeCipherSpec; TLS
                // 1.3 disguises every protected record as application data,
                // so there a handshake or alert record is always in clear.
                d.plaintext = !d.changed_cipher || *tls13;
                match content_type {
                    CHANGE_CIPHER_SPEC => d.changed_cipher = true,
                    ALERT if d.plaintext => {
                        summary.alerts += 1;
                        d.alert_len = 0;
                    }
                    _ => {}
                }
                continue;
            }
            let take = d.remaining.min(bytes.len());
            let (body, rest) = bytes.split_at(take);
            d.remaining -= take;
            bytes = rest;
            if !d.plaintext {
                continue;
            }
            match d.content_type {
                HANDSHAKE => d.handshake.feed(body, wanted_hello(dir), |kind, msg| {
                    read_hello(kind, msg, summary, params, tls13)
                }),
                ALERT => read_alert(d, body, summary),
                _ => {}
            }
        }
    }

    /// `len` bytes of `dir` are missing from the capture. Inside a record
    /// its boundaries survive (its length is known), though its content is
    /// lost; past its end they are lost until a piece starts like a record
    /// header again, and nothing is counted meanwhile.
    fn gap(&mut self, dir: Direction, len: u64) {
        if len == 0 {
            return;
        }
        self.summary.gaps += 1;
        let d = &mut self.dirs[dir.index()];
        if d.lost {
            return;
        }
        let inside_record = d.header_len == 0 && len <= d.remaining as u64;
        if !inside_record {
            d.lose();
            return;
        }
        // `len <= remaining`, so it fits in a usize.
        d.remaining -= len as usize;
        if d.plaintext {
            match d.content_type {
                HANDSHAKE => d.handshake.gap(len),
                // The description may be among the missing bytes: read none.
                ALERT => d.alert_len = d.alert.len(),
                _ => {}
            }
        }
    }
}

/// Content type and length of a well-formed record header. Stricter than
/// [`looks_like_record`] on types (heartbeat, RFC 6520, is accepted) and
/// looser on length: TLS 1.2 allows empty application data records
/// (RFC 5246 §6.2.1), never empty handshake, alert or ChangeCipherSpec ones.
pub(crate) fn record_header(h: &[u8; 5]) -> Option<(u8, usize)> {
    let [content_type, major, minor, hi, lo] = *h;
    let len = u16::from_be_bytes([hi, lo]);
    let type_ok = (CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&content_type);
    let len_ok = len <= MAX_RECORD && (len > 0 || content_type == APPLICATION_DATA);
    (type_ok && major == 3 && minor <= 4 && len_ok).then_some((content_type, len as usize))
}

/// Gathers the first two bytes of a plaintext alert record, which may
/// arrive in two pieces.
fn read_alert(d: &mut DirectionState, body: &[u8], summary: &mut TlsSummary) {
    let take = (d.alert.len() - d.alert_len).min(body.len());
    if take == 0 {
        return;
    }
    d.alert[d.alert_len..d.alert_len + take].copy_from_slice(&body[..take]);
    d.alert_len += take;
    if d.alert_len == d.alert.len() && summary.first_alert.is_none() {
        summary.first_alert = Some(alert_name(d.alert[1]));
    }
}

/// The hello each side sends: the only handshake message worth keeping.
fn wanted_hello(dir: Direction) -> u8 {
    match dir {
        Direction::ClientToServer => CLIENT_HELLO,
        Direction::ServerToClient => SERVER_HELLO,
    }
}

/// Cuts one direction's plaintext handshake bytes into messages
/// (RFC 8446 §4: type, 24-bit length, body). A message may span several
/// records and a record may hold several messages, so the state survives
/// between records.
#[derive(Clone, Debug, Default)]
struct HandshakeReader {
    header: [u8; 4],
    header_len: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
    kind: u8,
    /// The current message is a hello being gathered into `body`.
    keep: bool,
    body: Vec<u8>,
    /// Message boundaries were lost: read nothing more.
    broken: bool,
}

impl HandshakeReader {
    /// Reads `bytes`, calling `on_message(kind, body)` for each complete
    /// message of type `wanted` (other messages are skipped unbuffered).
    fn feed(&mut self, mut bytes: &[u8], wanted: u8, mut on_message: impl FnMut(u8, &[u8])) {
        if self.broken {
            return;
        }
        while !bytes.is_empty() {
            if self.header_len < 4 {
                let take = (4 - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + take]
                    .copy_from_slice(&bytes[..take]);
                self.header_len += take;
                bytes = &bytes[take..];
                if self.header_len < 4 {
                    return;
                }
                let [kind, a, b, c] = self.header;
                self.kind = kind;
                self.remaining = u32::from_be_bytes([0, a, b, c]) as usize;
                self.keep = kind == wanted && self.remaining <= MAX_HANDSHAKE;
                if self.remaining == 0 {
                    self.end_message(&mut on_message);
                }
                continue;
            }
            let take = self.remaining.min(bytes.len());
            if self.keep {
                // Grows with the bytes that arrived, never with the length
                // the peer announced.
                self.body.extend_from_slice(&bytes[..take]);
            }
            self.remaining -= take;
            bytes = &bytes[take..];
            if self.remaining == 0 {
                self.end_message(&mut on_message);
            }
        }
    }

    fn end_message(&mut self, on_message: &mut impl FnMut(u8, &[u8])) {
        if self.keep {
            on_message(self.kind, &self.body);
        }
        self.header_len = 0;
        self.keep = false;
        // Release the hello's memory: the flow may live for hours.
        self.body = Vec::new();
    }

    /// Missing bytes inside a handshake record. Within a message's body the
    /// next message is still found (the hello being gathered is lost);
    /// anywhere else the message boundaries are gone.
    fn gap(&mut self, len: u64) {
        if self.broken {
            return;
        }
        let in_body = self.header_len == 4 && len <= self.remaining as u64;
        if !in_body {
            self.give_up();
            return;
        }
        self.remaining -= len as usize;
        self.keep = false;
        self.body = Vec::new();
        if self.remaining == 0 {
            self.header_len = 0;
        }
    }

    fn give_up(&mut self) {
        self.broken = true;
        self.keep = false;
        self.body = Vec::new();
    }
}

/// A complete hello arrived: note what it says.
fn read_hello(
    kind: u8,
    body: &[u8],
    summary: &mut TlsSummary,
    params: &mut HelloParams,
    tls13: &mut bool,
) {
    match kind {
        CLIENT_HELLO => {
            // After a HelloRetryRequest the client sends a second
            // ClientHello: it replaces what the first one said.
            if let Some(hello) = ClientHello::parse(body) {
                params.client_random = Some(hello.random);
                summary.client_legacy_version = Some(version_name(hello.legacy_version));
                summary.sni = hello.sni;
                summary.alpn = hello.alpn;
                summary.client_versions = hello.versions;
            }
        }
        SERVER_HELLO => match ServerHello::parse(body) {
            // A HelloRetryRequest asks for another ClientHello; the real
            // ServerHello follows it (RFC 8446 §4.1.4). It does commit the
            // server to TLS 1.3.
            Some(hello) if hello.retry => {
                summary.hello_retry = true;
                *tls13 = true;
            }
            Some(hello) => {
                params.server_random = Some(hello.random);
                params.cipher_suite = Some(hello.cipher_suite);
                params.version = Some(hello.version);
                summary.version = Some(version_name(hello.version));
                summary.cipher = Some(cipher_name(hello.cipher_suite));
                *tls13 = protects_like_tls13(hello.version);
            }
            None => {}
        },
        _ => {}
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
struct ClientHello {
    legacy_version: u16,
    random: [u8; 32],
    sni: Option<String>,
    alpn: Vec<String>,
    versions: Vec<String>,
}

impl ClientHello {
    /// None when even the fixed fields are truncated; a damaged extension
    /// only loses what it would have said.
    fn parse(body: &[u8]) -> Option<ClientHello> {
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
struct ServerHello {
    /// The negotiated version: supported_versions when present (TLS 1.3
    /// freezes legacy_version at 0x0303), else legacy_version.
    version: u16,
    cipher_suite: u16,
    random: [u8; 32],
    /// A HelloRetryRequest in ServerHello clothing.
    retry: bool,
}

impl ServerHello {
    fn parse(body: &[u8]) -> Option<ServerHello> {
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

/// TLS 1.3, or one of its Internet-Draft versions (0x7fNN), which protect
/// records the same way (RFC 8446 §5.2).
pub(crate) fn protects_like_tls13(version: u16) -> bool {
    version == TLS_1_3 || version >> 8 == 0x7f
}

/// GREASE values (RFC 8701) are random-looking versions and extensions a
/// client sends to keep servers tolerant: 0x0A0A, 0x1A1A, … 0xFAFA.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
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

/// `TLS 1.2` for 0x0303; hex for what no RFC names.
fn version_name(v: u16) -> String {
    let name = match v {
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        TLS_1_3 => "TLS 1.3",
        // Internet-Draft versions of TLS 1.3 (0x7f00 + draft number).
        _ if v >> 8 == 0x7f => return format!("TLS 1.3 (draft {})", v & 0xff),
        _ => return format!("0x{v:04X}"),
    };
    name.to_string()
}

/// The name of an alert description (RFC 8446 §6, RFC 5246 §7.2).
fn alert_name(description: u8) -> String {
    let name = match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return format!("alert {description}"),
    };
    name.to_string()
}

/// The IANA name of a cipher suite (TLS Cipher Suites registry), or its
/// number in hex.
pub fn cipher_name(suite: u16) -> String {
    let name = match suite {
        // TLS 1.3 (RFC 8446 §B.4): the key exchange is negotiated apart.
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0x1304 => "TLS_AES_128_CCM_SHA256",
        0x1305 => "TLS_AES_128_CCM_8_SHA256",
        // ECDHE with AEAD ciphers (RFC 5289, RFC 7905).
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xccaa => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        // ECDHE with CBC ciphers (RFC 8422, RFC 5289).
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0xc024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xc028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0xc008 => "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        0xc012 => "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        0xc007 => "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
        0xc011 => "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        // Finite-field DHE (RFC 5288, RFC 5246).
        0x009e => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009f => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        0x006b => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x0016 => "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
        // Plain RSA key transport: no forward secrecy.
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x003d => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x0004 => "TLS_RSA_WITH_RC4_128_MD5",
        0x0005 => "TLS_RSA_WITH_RC4_128_SHA",
        0x0000 => "TLS_NULL_WITH_NULL_NULL",
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

    use Direction::{ClientToServer as C, ServerToClient as S};

    /// Feeds the pieces in order and returns the summary.
    fn run(pieces: &[(Direction, &[u8])]) -> TlsSummary {
        let mut t = TlsTracker::default();
        for (dir, bytes) in pieces {
            t.feed(*dir, bytes);
        }
        t.summary().clone()
    }

    /// A TLS 1.2 ClientHello record, byte by byte: SNI hamburger.edu,
    /// ALPN imap, no supported_versions extension.
    fn client_hello_tls12() -> Vec<u8> {
        [
            &[0x16, 0x03, 0x01, 0x00, 0x54][..], // record: handshake, TLS 1.0 layer, 84 bytes
            &[0x01, 0x00, 0x00, 0x50],           // ClientHello, 80 bytes
            &[0x03, 0x03],                       // legacy_version TLS 1.2
            &[0x11; 32],                         // random
            &[0x00],                             // session id: empty
            &[0x00, 0x06, 0x00, 0x04, 0xc0, 0x2f, 0x00, 0x9c], // 3 cipher suites
            &[0x01, 0x00],                       // compression: null
            &[0x00, 0x21],                       // extensions: 33 bytes
            &[0x00, 0x00, 0x00, 0x12],           // server_name, 18 bytes
            &[0x00, 0x10, 0x00, 0x00, 0x0d],     // list 16, host_name, 13 bytes
            b"hamburger.edu",
            &[0x00, 0x10, 0x00, 0x07], // ALPN, 7 bytes
            &[0x00, 0x05, 0x04],       // list 5, name of 4 bytes
            b"imap",
        ]
        .concat()
    }

    /// A TLS 1.2 ServerHello record that also carries an (empty)
    /// Certificate and the ServerHelloDone: three messages, one record.
    fn server_flight_tls12() -> Vec<u8> {
        [
            &[0x16, 0x03, 0x03, 0x00, 0x37][..], // record: handshake, 55 bytes
            &[0x02, 0x00, 0x00, 0x28],           // ServerHello, 40 bytes
            &[0x03, 0x03],                       // legacy_version TLS 1.2
            &[0x22; 32],                         // random
            &[0x00],                             // session id: empty
            &[0xc0, 0x2f],                       // ECDHE-RSA AES-128-GCM
            &[0x00],                             // compression: null
            &[0x00, 0x00],                       // extensions: none
            &[0x0b, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00], // Certificate: empty list
            &[0x0e, 0x00, 0x00, 0x00],           // ServerHelloDone
        ]
        .concat()
    }

    const CCS: [u8; 6] = [20, 3, 3, 0, 1, 1];

    /// An application data record of `len` bytes.
    fn app_data(len: u16) -> Vec<u8> {
        let mut r = vec![23, 3, 3];
        r.extend_from_slice(&len.to_be_bytes());
        r.resize(5 + len as usize, 0xab);
        r
    }

    fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![content_type, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    fn len8(data: &[u8]) -> Vec<u8> {
        [&[data.len() as u8][..], data].concat()
    }

    fn len16(data: &[u8]) -> Vec<u8> {
        [&(data.len() as u16).to_be_bytes()[..], data].concat()
    }

    fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
        [&kind.to_be_bytes()[..], &len16(data)].concat()
    }

    /// A TLS 1.3 ClientHello message offering GREASE, 1.3 and 1.2.
    fn client_hello_tls13(sni: &str) -> Vec<u8> {
        client_hello_padded(sni, 0)
    }

    /// The same with a padding extension (RFC 7685) of `padding` bytes.
    fn client_hello_padded(sni: &str, padding: usize) -> Vec<u8> {
        let name = [&[0][..], &len16(sni.as_bytes())].concat();
        let mut exts = [
            ext(EXT_SERVER_NAME, &len16(&name)),
            ext(EXT_ALPN, &len16(&len8(b"imap"))),
            ext(EXT_SUPPORTED_VERSIONS, &len8(&[0x2a, 0x2a, 3, 4, 3, 3])),
        ]
        .concat();
        if padding > 0 {
            exts.extend(ext(21, &vec![0; padding]));
        }
        let body = [
            &[3, 3][..],
            &[0x33; 32],
            &len8(&[0x44; 32]), // session id (middlebox compatibility)
            &len16(&[0x13, 0x01, 0x13, 0x02, 0x13, 0x03]),
            &[1, 0],
            &len16(&exts),
        ]
        .concat();
        message(CLIENT_HELLO, &body)
    }

    fn server_hello(random: [u8; 32], suite: u16, version_ext: Option<u16>) -> Vec<u8> {
        let exts = version_ext.map_or(Vec::new(), |v| {
            ext(EXT_SUPPORTED_VERSIONS, &v.to_be_bytes())
        });
        let body = [
            &[3, 3][..],
            &random,
            &len8(&[0x44; 32]),
            &suite.to_be_bytes(),
            &[0],
            &len16(&exts),
        ]
        .concat();
        message(SERVER_HELLO, &body)
    }

    /// A whole TLS 1.3 exchange as the wire shows it: both hellos in clear,
    /// the middlebox ChangeCipherSpecs, then only application data records.
    fn tls13_conversation() -> (Vec<u8>, Vec<u8>) {
        let mut c = record(HANDSHAKE, &client_hello_tls13("hamburger.edu"));
        c[2] = 1; // the first record says TLS 1.0 (RFC 8446 §5.1)
        c.extend_from_slice(&CCS);
        c.extend(app_data(53)); // encrypted Finished
        c.extend(app_data(30));
        let mut s = record(HANDSHAKE, &server_hello([0x55; 32], 0x1302, Some(TLS_1_3)));
        s.extend_from_slice(&CCS);
        s.extend(app_data(900)); // encrypted EncryptedExtensions..Finished
        s.extend(app_data(40));
        (c, s)
    }

    fn tls12_conversation() -> (Vec<u8>, Vec<u8>) {
        let mut c = client_hello_tls12();
        c.extend(record(HANDSHAKE, &[0x10, 0, 0, 2, 0, 0])); // ClientKeyExchange
        c.extend_from_slice(&CCS);
        c.extend(record(HANDSHAKE, &[0x5a; 40])); // encrypted Finished
        c.extend(app_data(100));
        let mut s = server_flight_tls12();
        s.extend_from_slice(&CCS);
        // The encrypted Finished is a handshake record too; its bytes here
        // would even parse as a ServerHello choosing RC4, which must not be
        // believed: after ChangeCipherSpec TLS 1.2 records are ciphertext.
        s.extend(record(HANDSHAKE, &server_hello([0x66; 32], 0x0005, None)));
        s.extend(app_data(200));
        (c, s)
    }

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
            hello_retry: false,
            alerts: 0,
            first_alert: None,
            gaps: 0,
            decrypted_records_c2s: 0,
            decrypted_records_s2c: 0,
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

    /// Every cut of either direction, and byte-by-byte feeding, give the
    /// summary of the whole.
    #[test]
    fn any_split_gives_the_same_summary() {
        for (c, s) in [tls12_conversation(), tls13_conversation()] {
            let whole = run(&[(C, &c), (S, &s)]);
            for cut in 0..=c.len() {
                let split = run(&[(C, &c[..cut]), (C, &c[cut..]), (S, &s)]);
                assert_eq!(split, whole, "client cut at {cut}");
            }
            for cut in 0..=s.len() {
                let split = run(&[(C, &c), (S, &s[..cut]), (S, &s[cut..])]);
                assert_eq!(split, whole, "server cut at {cut}");
            }
            let mut t = TlsTracker::default();
            c.iter().for_each(|b| t.feed(C, &[*b]));
            s.iter().for_each(|b| t.feed(S, &[*b]));
            assert_eq!(t.summary(), &whole);
        }
    }

    #[test]
    fn a_hello_may_span_records() {
        let msg = client_hello_tls13("hamburger.edu");
        let (a, b) = msg.split_at(7);
        let (b, c) = b.split_at(50);
        let wire = [
            record(HANDSHAKE, a),
            record(HANDSHAKE, b),
            record(HANDSHAKE, c),
        ]
        .concat();
        let sum = run(&[(C, &wire)]);
        assert_eq!(sum.records_c2s, 3);
        assert_eq!(sum.sni.as_deref(), Some("hamburger.edu"));
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
    fn plaintext_alerts_are_counted_and_named() {
        let (c, _) = tls12_conversation();
        // A refusal split in three pieces, then after ChangeCipherSpec an
        // encrypted alert whose bytes are not a description.
        let sum = run(&[
            (C, &c[..89]),
            (S, &[21, 3, 3, 0]),
            (S, &[2, 2]),
            (S, &[40]),
            (S, &CCS),
            (S, &[21, 3, 3, 0, 2, 1, 0]),
        ]);
        assert_eq!(sum.alerts, 1);
        assert_eq!(sum.first_alert.as_deref(), Some("handshake_failure"));
        assert_eq!(sum.records_s2c, 3);
        // In TLS 1.3 protected alerts look like application data, so an
        // alert record after the compatibility ChangeCipherSpec is plaintext.
        let (c13, s13) = tls13_conversation();
        let sum = run(&[
            (C, &c13[..c13.len() - 35]),
            (S, &s13),
            (C, &CCS),
            (C, &[21, 3, 3, 0, 2, 2, 47]),
        ]);
        assert_eq!(sum.alerts, 1);
        assert_eq!(sum.first_alert.as_deref(), Some("illegal_parameter"));
        assert_eq!(alert_name(200), "alert 200");
    }

    #[test]
    fn garbage_counts_bytes_but_no_records() {
        let sum = run(&[(C, b"EHLO not tls at all\r\n")]);
        assert_eq!((sum.records_c2s, sum.bytes_c2s), (0, 21));
        // A piece that starts like a record is followed again.
        let sum = run(&[
            (C, b"EHLO not tls\r\n"),
            (C, &app_data(3)),
            (C, &app_data(1)),
        ]);
        assert_eq!(sum.records_c2s, 2);
        // A bad header after good records: lost until a piece starts like
        // a record; the bad piece's tail is not read.
        let bad = [&app_data(1)[..], &[0x99; 5], &app_data(1)].concat();
        let sum = run(&[(S, &bad), (S, &[0x42; 4]), (S, &app_data(2))]);
        assert_eq!(sum.records_s2c, 2);
        // Empty application data records are legal in TLS 1.2; empty
        // handshake records are not.
        assert_eq!(
            run(&[(C, &[23, 3, 3, 0, 0]), (C, &app_data(1))]).records_c2s,
            2
        );
        assert_eq!(
            run(&[(C, &[22, 3, 3, 0, 0, 23, 3, 3, 0, 1, 0])]).records_c2s,
            0
        );
        // A handshake message announcing 16 MiB is skipped, not buffered.
        let huge = record(HANDSHAKE, &[1, 0xff, 0xff, 0xff, 1, 2, 3]);
        let sum = run(&[(C, &huge), (C, &app_data(2))]);
        assert_eq!((sum.records_c2s, sum.sni), (2, None));
    }

    #[test]
    fn hellos_beyond_the_bound_are_not_parsed() {
        // A ClientHello padded past MAX_HANDSHAKE, sent in five records:
        // counted, not read.
        let msg = client_hello_padded("hamburger.edu", MAX_HANDSHAKE - 100);
        assert!(msg.len() > MAX_HANDSHAKE + 4);
        let wire: Vec<u8> = msg
            .chunks(1 << 14)
            .flat_map(|c| record(HANDSHAKE, c))
            .collect();
        let sum = run(&[(C, &wire)]);
        assert_eq!((sum.records_c2s, sum.sni), (5, None));
        // Just under the bound it is read.
        let msg = client_hello_padded("hamburger.edu", MAX_HANDSHAKE - 200);
        assert!(msg.len() <= MAX_HANDSHAKE + 4);
        let wire: Vec<u8> = msg
            .chunks(1 << 14)
            .flat_map(|c| record(HANDSHAKE, c))
            .collect();
        assert_eq!(run(&[(C, &wire)]).sni.as_deref(), Some("hamburger.edu"));
    }

    #[test]
    fn gaps_keep_or_lose_record_boundaries() {
        // Inside a record: the next header is still where the length says.
        let mut t = TlsTracker::default();
        t.feed(C, &[23, 3, 3, 0, 10, 1, 2]);
        t.gap(C, 5);
        t.feed(C, &[3, 4, 5, 23, 3, 3, 0, 1, 0]);
        assert_eq!((t.summary().records_c2s, t.summary().gaps), (2, 1));
        // Past the record's end: nothing counted until a piece starts like
        // a record.
        let mut t = TlsTracker::default();
        t.feed(C, &[23, 3, 3, 0, 10, 1, 2]);
        t.gap(C, 20);
        t.feed(C, &[9, 9, 9, 23, 3, 3, 0, 1, 0]);
        assert_eq!(t.summary().records_c2s, 1);
        t.feed(C, &[23, 3, 3, 0, 1, 0]);
        t.gap(C, 0); // an empty gap is no gap
        assert_eq!((t.summary().records_c2s, t.summary().gaps), (2, 1));
        assert_eq!(t.summary().bytes_c2s, 7 + 9 + 6);
    }

    #[test]
    fn gaps_in_the_handshake() {
        let (c, s) = tls12_conversation();
        // Inside the ClientHello's body: that hello is lost, the record
        // boundaries and the other direction are not.
        let mut t = TlsTracker::default();
        t.feed(C, &c[..30]);
        t.gap(C, 10);
        t.feed(C, &c[40..]);
        t.feed(S, &s);
        let sum = t.summary();
        assert_eq!((sum.sni.as_deref(), sum.records_c2s), (None, 5));
        assert_eq!(
            sum.cipher.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        // Across a handshake message header (the ServerHello's header sits
        // at bytes 5..9 of the record): messages cannot be found again.
        let mut t = TlsTracker::default();
        t.feed(S, &s[..6]);
        t.gap(S, 2);
        t.feed(S, &s[8..]);
        assert_eq!(
            (t.summary().cipher.as_deref(), t.summary().records_s2c),
            (None, 4)
        );
        // Over a record header: even a new hello after the resync is not
        // trusted (it might continue a message begun before the hole).
        let mut t = TlsTracker::default();
        t.feed(C, &c[..10]);
        t.gap(C, 200);
        t.feed(C, &client_hello_tls12());
        assert_eq!(
            (t.summary().sni.as_deref(), t.summary().records_c2s),
            (None, 2)
        );
    }

    #[test]
    fn names_for_people() {
        assert_eq!(cipher_name(0xc030), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(cipher_name(0xabcd), "0xABCD");
        assert_eq!(version_name(0x0300), "SSL 3.0");
        assert_eq!(version_name(0x7f1c), "TLS 1.3 (draft 28)");
        assert_eq!(version_name(0x0200), "0x0200");
        assert!(is_grease(0xfafa) && !is_grease(0x0a1a) && !is_grease(0x0304));
        // A hostile SNI cannot put an escape sequence on a terminal.
        let evil = record(HANDSHAKE, &client_hello_tls13("a\x1b[2Jb"));
        assert_eq!(run(&[(C, &evil)]).sni.as_deref(), Some("a\\u{1b}[2Jb"));
    }

    /// The pieces a stream is cut into, from sorted cut points.
    fn cut<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort();
        let mut out = Vec::new();
        let mut start = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            out.push(&bytes[start..p]);
            start = p;
        }
        out
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(pieces in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..300), 0..20)) {
            let mut t = TlsTracker::default();
            let mut fed = [0u64; 2];
            for (i, p) in pieces.iter().enumerate() {
                let d = if i % 2 == 0 { C } else { S };
                if i % 7 == 6 {
                    t.gap(d, p.len() as u64);
                } else {
                    t.feed(d, p);
                    fed[d.index()] += p.len() as u64;
                }
            }
            let sum = t.summary();
            prop_assert_eq!([sum.bytes_c2s, sum.bytes_s2c], fed);
            // Every counted record had its 5 header bytes fed.
            prop_assert!(sum.records_c2s * 5 <= sum.bytes_c2s);
            prop_assert!(sum.records_s2c * 5 <= sum.bytes_s2c);
        }

        /// Well-formed records with arbitrary bodies (random handshake
        /// messages included) after a real ClientHello: however the stream
        /// is cut, the summary is the same.
        #[test]
        fn well_formed_records_any_split(
            records in proptest::collection::vec(
                (20u8..=23, proptest::collection::vec(any::<u8>(), 1..200)), 0..12),
            cuts in proptest::collection::vec(any::<usize>(), 0..10),
        ) {
            let mut wire = record(HANDSHAKE, &client_hello_tls13("hamburger.edu"));
            for (content_type, body) in &records {
                wire.extend(record(*content_type, body));
            }
            let whole = run(&[(C, &wire)]);
            prop_assert_eq!(whole.records_c2s, records.len() as u64 + 1);
            let mut t = TlsTracker::default();
            for piece in cut(&wire, &cuts) {
                t.feed(C, piece);
            }
            prop_assert_eq!(t.summary(), &whole);
        }

        #[test]
        fn real_handshakes_any_split(
            cuts_c in proptest::collection::vec(any::<usize>(), 0..8),
            cuts_s in proptest::collection::vec(any::<usize>(), 0..8),
            tls13 in any::<bool>(),
        ) {
            let (c, s) = if tls13 { tls13_conversation() } else { tls12_conversation() };
            let whole = run(&[(C, &c), (S, &s)]);
            let mut t = TlsTracker::default();
            for piece in cut(&c, &cuts_c) {
                t.feed(C, piece);
            }
            for piece in cut(&s, &cuts_s) {
                t.feed(S, piece);
            }
            prop_assert_eq!(t.summary(), &whole);
        }
    }
}
