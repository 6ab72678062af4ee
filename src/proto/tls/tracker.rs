//! [`TlsTracker`]: what a TLS connection shows in clear, followed record by
//! record (RFC 8446 §5, RFC 5246 §6), in three layers per direction:
//!
//! 1. records: the 5-byte headers, followed across arbitrary TCP pieces;
//! 2. handshake messages (type, 24-bit length, body) inside the plaintext
//!    handshake records, which may span records or share one;
//! 3. the two hellos, parsed field by field with every length checked.

use super::handshake::{CLIENT_HELLO, HandshakeReader, SERVER_HELLO};
use super::hello::{ClientHello, HelloParams, ServerHello};
use super::names::{alert_name, cipher_name, protects_like_tls13, version_name};
use super::record::{ALERT, CHANGE_CIPHER_SPEC, HANDSHAKE, looks_like_record, record_header};
use super::split_field::SplitField;
use crate::flow::Direction;
use crate::trace::TlsSummary;

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

/// The per-direction counters of a summary: bytes and records.
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
    header: SplitField<5>,
    /// Body bytes of the current record still to come.
    remaining: usize,
    content_type: u8,
    /// Whether the current record's body can be read: before this
    /// direction's ChangeCipherSpec, or at any time once TLS 1.3 was chosen
    /// (see `TlsState::tls13`).
    plaintext: bool,
    /// Record boundaries unknown (after a gap, or bytes that are not a
    /// record header): wait for a piece that starts like a record.
    lost: bool,
    /// This direction sent a ChangeCipherSpec: in TLS ≤ 1.2 its later
    /// records are encrypted whatever their content type.
    changed_cipher: bool,
    /// The first two bytes (level, description) of the current alert record.
    alert: SplitField<2>,
    handshake: HandshakeReader,
}

impl DirectionState {
    /// Record boundaries are gone. Handshake message boundaries with them:
    /// a message may continue in the next record, so the handshake layer
    /// gives up for this direction rather than guess.
    fn lose(&mut self) {
        self.lost = true;
        self.header.clear();
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
                let Some(header) = d.header.fill(&mut bytes) else {
                    return;
                };
                d.header.clear();
                let Some((content_type, len)) = record_header(&header) else {
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
                        d.alert.clear();
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
                HANDSHAKE => d
                    .handshake
                    .feed(body, Some(wanted_hello(dir)), |kind, msg| {
                        if let Some(msg) = msg {
                            read_hello(kind, msg, summary, params, tls13);
                        }
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
        let inside_record = d.header.is_empty() && len <= d.remaining as u64;
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
                ALERT => d.alert.skip(),
                _ => {}
            }
        }
    }
}

/// Gathers the first two bytes of a plaintext alert record, which may
/// arrive in two pieces.
fn read_alert(d: &mut DirectionState, mut body: &[u8], summary: &mut TlsSummary) {
    if let Some([_level, description]) = d.alert.fill(&mut body)
        && summary.first_alert.is_none()
    {
        summary.first_alert = Some(alert_name(description));
    }
}

/// The hello each side sends: the only handshake message worth keeping.
fn wanted_hello(dir: Direction) -> u8 {
    match dir {
        Direction::ClientToServer => CLIENT_HELLO,
        Direction::ServerToClient => SERVER_HELLO,
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

#[cfg(test)]
mod tests {
    use super::super::test_wire::*;
    use super::*;

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
