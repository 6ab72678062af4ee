//! The TLS layer of a flow, and what a key log makes of it.
//!
//! Every TLS byte of a flow (after an accepted STARTTLS/STLS, or from the
//! first byte on an implicit-TLS port) comes here. Without keys it is
//! counted by the [`TlsTracker`] (records, the hellos' version, SNI,
//! cipher) and shown as `[TLS: N bytes encrypted]`. With a key log that
//! holds the session's secrets, the records are opened and their plaintext
//! goes to a second parser of the flow's protocol, writing into the same
//! dialogue: the STARTTLS flow continues its dialogue after the upgrade
//! (the client's new EHLO, AUTH, the message), the implicit-TLS flow gets
//! one at all. Everything that parser writes is marked `tls: "decrypted"`
//! ([`Layer::Decrypted`]), and its credentials raise no `plaintext-auth`
//! finding: on the wire they were encrypted.

use crate::flow::Direction;
use crate::proto::detect::protocol_of_greeting;
use crate::proto::tls::decrypt::{Piece, SharedKeyLog, TlsDecryptor};
use crate::proto::tls::{TlsSummary, TlsTracker};
use crate::proto::{MailParser, new_parser};
use crate::trace::{Dialogue, Layer, Protocol};

/// Client plaintext held at most while waiting for the server's greeting.
const MAX_EARLY: usize = 64 * 1024;

/// One flow's TLS: the record tracker, and the decryption when keys exist.
#[derive(Default)]
pub(crate) struct TlsLayer {
    tracker: TlsTracker,
    /// Secrets to open records with (`--keylog`, the capture's DSBs).
    keys: Option<SharedKeyLog>,
    decryption: Option<Box<Decryption>>,
    /// TLS from the first byte (implicit TLS): the server's first plaintext
    /// is its greeting.
    from_start: bool,
}

/// A flow's decryption: the record layer and the reader of its plaintext.
struct Decryption {
    decryptor: TlsDecryptor,
    plain: PlainReader,
}

/// The reader of a flow's decrypted bytes.
struct PlainReader {
    /// Reads the plaintext; made at the first plaintext (for a TLS flow on
    /// a port that does not say, the server's greeting names the protocol).
    inner: Option<Box<dyn MailParser>>,
    /// Next plaintext offset of each direction (the inner parser's
    /// positions).
    plain_pos: [u64; 2],
    /// Implicit TLS: what the client wrote before the server's first
    /// plaintext, while there is no parser yet.
    early: Vec<u8>,
    /// The protocol the server's first plaintext named.
    revealed: Option<Protocol>,
}

impl TlsLayer {
    pub(crate) fn new(keys: Option<SharedKeyLog>) -> Self {
        TlsLayer {
            keys,
            ..TlsLayer::default()
        }
    }

    /// The flow is TLS from its first byte.
    pub(crate) fn set_from_start(&mut self) {
        self.from_start = true;
    }

    /// What an eavesdropper learnt, when any TLS byte was seen.
    pub(crate) fn summary(&self) -> Option<TlsSummary> {
        self.tracker
            .active()
            .then(|| self.tracker.summary().clone())
    }

    /// The mail protocol the decrypted greeting revealed.
    pub(crate) fn revealed_protocol(&self) -> Option<Protocol> {
        self.decryption.as_ref().and_then(|d| d.plain.revealed)
    }

    /// In-order TLS bytes of `dir` at stream offset `start`: counted by the
    /// tracker, and opened when the key log has the session's secrets.
    pub(crate) fn bytes(&mut self, dir: Direction, bytes: &[u8], start: u64, out: &mut Dialogue) {
        self.tracker.feed(dir, bytes);
        // Without any key material nothing changes: no record is buffered.
        if self.decryption.is_none()
            && let Some(keys) = &self.keys
            && !keys.borrow().is_empty()
        {
            self.decryption = Some(Box::new(Decryption {
                decryptor: TlsDecryptor::new(keys.clone()),
                plain: PlainReader {
                    inner: None,
                    plain_pos: [0; 2],
                    early: Vec::new(),
                    revealed: None,
                },
            }));
        }
        let Some(decryption) = self.decryption.as_deref_mut() else {
            out.encrypted(dir, start, bytes.len() as u64);
            return;
        };
        let params = *self.tracker.params();
        let from_start = self.from_start;
        let Decryption { decryptor, plain } = decryption;
        decryptor.feed(dir, bytes, start, &params, &mut |piece| {
            plain.piece(dir, piece, from_start, out)
        });
        for p in decryptor.take_problems() {
            out.finding(p.severity, p.code, p.message);
        }
    }

    /// `len` bytes of `dir`'s TLS stream, starting at `start`, are missing.
    pub(crate) fn gap(&mut self, dir: Direction, start: u64, len: u64, out: &mut Dialogue) {
        self.tracker.gap(dir, len);
        // While the plaintext is being read, its parser notes the gap (with
        // the line it cut short); one note per gap.
        let reading_plain = self
            .decryption
            .as_ref()
            .is_some_and(|d| d.plain.inner.is_some());
        if !reading_plain {
            out.stream_gap(dir, start, len, None);
        }
        if let Some(decryption) = self.decryption.as_deref_mut() {
            let from_start = self.from_start;
            let Decryption { decryptor, plain } = decryption;
            decryptor.gap(dir, len, &mut |piece| {
                plain.piece(dir, piece, from_start, out)
            });
        }
    }

    /// The flow is over: a record cut short is noted, the plaintext parser
    /// settles its last command and message.
    pub(crate) fn finish(&mut self, out: &mut Dialogue) {
        let Some(decryption) = self.decryption.as_deref_mut() else {
            return;
        };
        let rest = decryption.decryptor.finish();
        for (dir, rest) in [Direction::ClientToServer, Direction::ServerToClient]
            .into_iter()
            .zip(rest)
        {
            if let Some((start, len)) = rest {
                out.encrypted(dir, start, len);
            }
        }
        let plain = &mut decryption.plain;
        // The server never spoke: what the client said is still read.
        if plain.inner.is_none() && !plain.early.is_empty() {
            plain.inner = new_parser(out.protocol);
            let early = std::mem::take(&mut plain.early);
            plain.with_inner(out, |inner, out| {
                inner.feed(Direction::ClientToServer, &early, out);
            });
        }
        plain.with_inner(out, |inner, out| inner.finish(out));
        let records = decryption.decryptor.records_decrypted;
        self.tracker.note_decrypted(records[0], records[1]);
    }
}

impl PlainReader {
    /// One piece of the record layer's output.
    fn piece(&mut self, dir: Direction, piece: Piece<'_>, from_start: bool, out: &mut Dialogue) {
        match piece {
            Piece::Opaque { start, len } => out.encrypted(dir, start, len),
            Piece::Plain { data, start, end } => {
                let d = dir.index();
                if out.wants_transcript() {
                    let packets = out.packets(dir, start, end);
                    out.decrypted_piece(dir, self.plain_pos[d], packets);
                }
                self.plain_pos[d] += data.len() as u64;
                let server = dir == Direction::ServerToClient;
                let mut early = Vec::new();
                if self.inner.is_none() {
                    // Implicit TLS: in SMTP, POP3 and IMAP the server speaks
                    // first (RFC 5321 §3.1, RFC 1939 §4, RFC 9051 §7.1). A
                    // client that writes before the greeting has arrived
                    // (`openssl s_client` fed from a pipe does, in the same
                    // segment as its Finished) is held until the greeting,
                    // so the greeting names the protocol on any port and the
                    // parser reads the dialogue in its logical order.
                    if from_start && !server && self.early.len() + data.len() <= MAX_EARLY {
                        self.early.extend_from_slice(data);
                        return;
                    }
                    if out.protocol == Protocol::Tls
                        && server
                        && let Some(p) = protocol_of_greeting(data)
                    {
                        out.protocol = p;
                        self.revealed = Some(p);
                    }
                    self.inner = new_parser(out.protocol);
                    early = std::mem::take(&mut self.early);
                }
                if !server && !early.is_empty() {
                    // Held too long: in order, before this piece.
                    self.with_inner(out, |inner, out| {
                        inner.feed(dir, &early, out);
                    });
                }
                self.with_inner(out, |inner, out| {
                    inner.feed(dir, data, out);
                });
                if server && !early.is_empty() {
                    // After the greeting, what the client had said.
                    self.with_inner(out, |inner, out| {
                        inner.feed(Direction::ClientToServer, &early, out);
                    });
                }
            }
            Piece::Lost { len } => {
                self.plain_pos[dir.index()] += len;
                self.with_inner(out, |inner, out| inner.gap(dir, len, out));
            }
        }
    }

    /// Runs the plaintext parser with the dialogue on the decrypted layer:
    /// its lines, messages and credentials are marked, and their packets
    /// are those of the records that carried them.
    fn with_inner(
        &mut self,
        out: &mut Dialogue,
        f: impl FnOnce(&mut dyn MailParser, &mut Dialogue),
    ) {
        if let Some(inner) = self.inner.as_mut() {
            out.set_layer(Layer::Decrypted);
            f(inner.as_mut(), out);
            out.set_layer(Layer::Wire);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::capture::Timestamp;
    use crate::proto::tls::keylog::KeyLog;
    use crate::trace::{DialogueOptions, FindingCode, LineKind};
    use crate::world::tls::Pki;

    const C: Direction = Direction::ClientToServer;
    const S: Direction = Direction::ServerToClient;

    /// What one side writes, in order; `None` asks the client for a
    /// KeyUpdate (RFC 8446 §4.6.3) at that point.
    type Script<'a> = &'a [(Direction, Option<&'a [u8]>)];

    const SMTP: Script<'static> = &[
        (S, Some(b"220 hamburger.edu ESMTP\r\n")),
        (C, Some(b"EHLO crepes.fr\r\n")),
        (S, Some(b"250 hamburger.edu\r\n")),
        (C, Some(b"AUTH PLAIN AGJvYgBodW5ncnk=\r\n")),
        (S, Some(b"235 2.7.0 ok\r\n")),
        (C, None),
        (C, Some(b"QUIT\r\n")),
        (S, Some(b"221 bye\r\n")),
    ];

    /// A real TLS session between the world's rustls client and server,
    /// in memory, limited to one cipher suite: the bytes each side put on
    /// the wire (one piece per flight) and the key log.
    fn session(suite: u16, script: Script<'_>) -> (Vec<(Direction, Vec<u8>)>, String) {
        let mut pki = Pki::new().unwrap();
        pki.use_suite(Some(suite));
        let name = rustls::pki_types::ServerName::try_from("hamburger.edu").unwrap();
        let client = rustls::ClientConnection::new(pki.client_config().unwrap(), name).unwrap();
        let server =
            rustls::ServerConnection::new(pki.server_config("hamburger.edu").unwrap()).unwrap();
        let mut conns = [
            rustls::Connection::Client(client),
            rustls::Connection::Server(server),
        ];
        let mut wire = Vec::new();
        let drive = |conns: &mut [rustls::Connection; 2], wire: &mut Vec<_>| loop {
            let mut moved = false;
            for from in 0..2 {
                let mut buf = Vec::new();
                while conns[from].wants_write() {
                    conns[from].write_tls(&mut buf).unwrap();
                }
                if buf.is_empty() {
                    continue;
                }
                moved = true;
                let to = &mut conns[1 - from];
                let mut rest = &buf[..];
                while !rest.is_empty() {
                    to.read_tls(&mut rest).unwrap();
                    to.process_new_packets().unwrap();
                }
                let mut sink = Vec::new();
                let _ = to.reader().read_to_end(&mut sink);
                wire.push((if from == 0 { C } else { S }, buf));
            }
            if !moved {
                break;
            }
        };
        drive(&mut conns, &mut wire);
        for (dir, bytes) in script {
            let side = &mut conns[dir.index()];
            match bytes {
                Some(b) => side.writer().write_all(b).unwrap(),
                None => side.refresh_traffic_keys().unwrap(),
            }
            drive(&mut conns, &mut wire);
        }
        let log = pki.key_log().contents();
        (wire, log)
    }

    /// The wire pieces read as an implicit-TLS SMTP flow with `keys`;
    /// the piece at `drop` (if any) is a gap.
    fn analyse(wire: &[(Direction, Vec<u8>)], keys: &str, drop: Option<usize>) -> Dialogue {
        analyse_as(Protocol::Smtp, wire, keys, drop)
    }

    /// Like [`analyse`], for a flow that the port says is `protocol`
    /// (`Protocol::Tls`: a port that does not say).
    fn analyse_as(
        protocol: Protocol,
        wire: &[(Direction, Vec<u8>)],
        keys: &str,
        drop: Option<usize>,
    ) -> Dialogue {
        layer_and_dialogue(protocol, wire, keys, drop).1
    }

    /// The TLS layer of an implicit-TLS flow and the dialogue it wrote.
    fn layer_and_dialogue(
        protocol: Protocol,
        wire: &[(Direction, Vec<u8>)],
        keys: &str,
        drop: Option<usize>,
    ) -> (TlsLayer, Dialogue) {
        let mut d = Dialogue::new(
            0,
            protocol,
            DialogueOptions {
                transcript: true,
                full: false,
            },
        );
        let mut layer = TlsLayer::new(Some(Rc::new(RefCell::new(KeyLog::parse(keys.as_bytes())))));
        layer.set_from_start();
        let mut off = [0u64; 2];
        for (i, (dir, bytes)) in wire.iter().enumerate() {
            let start = off[dir.index()];
            off[dir.index()] += bytes.len() as u64;
            if Some(i) == drop {
                layer.gap(*dir, start, bytes.len() as u64, &mut d);
                continue;
            }
            d.data_arrived(*dir, start, i as u64, Timestamp::from_nanos(i as i64));
            layer.bytes(*dir, bytes, start, &mut d);
        }
        layer.finish(&mut d);
        (layer, d)
    }

    fn decrypted_lines(d: &Dialogue) -> Vec<String> {
        d.transcript
            .iter()
            .filter(|l| l.tls == Some("decrypted"))
            .map(|l| format!("{}: {}", if l.dir == C { "C" } else { "S" }, l.text))
            .collect()
    }

    const WANT: [&str; 7] = [
        "S: 220 hamburger.edu ESMTP",
        "C: EHLO crepes.fr",
        "S: 250 hamburger.edu",
        "C: AUTH PLAIN AGJvYgBodW5ncnk=",
        "S: 235 2.7.0 ok",
        "C: QUIT",
        "S: 221 bye",
    ];

    /// Every suite the world can speak, TLS 1.3 and 1.2, with a KeyUpdate
    /// in the middle: the endpoints' dialogue comes back line for line,
    /// marked decrypted, and the password is no `plaintext-auth`.
    #[test]
    fn every_suite_decrypts_to_the_dialogue() {
        let suites = crate::world::tls::selectable_suites();
        assert_eq!(suites.len(), 6, "{suites:?}");
        for (id, name) in suites {
            let script: Vec<_> = SMTP
                .iter()
                .copied()
                // TLS 1.2 has no KeyUpdate.
                .filter(|(_, b)| b.is_some() || id >> 8 == 0x13)
                .collect();
            let (wire, keys) = session(id, &script);
            let (layer, d) = layer_and_dialogue(Protocol::Smtp, &wire, &keys, None);
            assert_eq!(decrypted_lines(&d), WANT, "{name}");
            let cipher = layer.summary().and_then(|s| s.cipher);
            assert_eq!(cipher.as_deref(), Some(name.as_str()));
            let codes: Vec<_> = d.findings.iter().map(|f| f.code).collect();
            assert!(codes.is_empty(), "{name}: {codes:?}");
            let c = &d.credentials[0];
            assert_eq!(
                (c.username.as_deref(), c.password.as_deref(), c.tls),
                (Some("bob"), Some("hungry"), Some("decrypted")),
                "{name}"
            );
            // Every decrypted line knows the packet (wire piece) that
            // carried its record.
            for l in d.transcript.iter().filter(|l| l.tls.is_some()) {
                assert_eq!(l.packets.len(), 1, "{name}: {l:?}");
                let piece = &wire[l.packets[0] as usize];
                assert_eq!(piece.0, l.dir, "{name}: {l:?}");
            }
        }
    }

    /// `openssl s_client` fed from a pipe writes its first command in the
    /// segment of its Finished, before the server's greeting has arrived
    /// (a CI run caught `USER bob` missing). The command is read after the
    /// greeting, on a port that names the protocol and on one that does not.
    #[test]
    fn a_client_that_speaks_before_the_greeting_is_read_after_it() {
        const EARLY: Script<'static> = &[
            (C, Some(b"USER bob\r\n")),
            (S, Some(b"+OK hamburger.edu POP3 server ready\r\n")),
            (S, Some(b"+OK send PASS\r\n")),
            (C, Some(b"PASS hungry\r\n")),
            (S, Some(b"+OK 0 messages\r\n")),
            (C, Some(b"QUIT\r\n")),
            (S, Some(b"+OK bye\r\n")),
        ];
        let (wire, keys) = session(0x1301, EARLY);
        let first_app_data = wire.iter().position(|(dir, _)| *dir == S).unwrap();
        assert!(first_app_data > 0);
        for protocol in [Protocol::Pop3, Protocol::Tls] {
            let d = analyse_as(protocol, &wire, &keys, None);
            assert_eq!(d.protocol, Protocol::Pop3);
            assert_eq!(
                decrypted_lines(&d),
                [
                    "S: +OK hamburger.edu POP3 server ready",
                    "C: USER bob",
                    "S: +OK send PASS",
                    "C: PASS hungry",
                    "S: +OK 0 messages",
                    "C: QUIT",
                    "S: +OK bye",
                ],
                "{protocol:?}"
            );
            let codes: Vec<_> = d.findings.iter().map(|f| f.code).collect();
            assert!(codes.is_empty(), "{protocol:?}: {codes:?}");
            let c = &d.credentials[0];
            assert_eq!(
                (c.username.as_deref(), c.password.as_deref(), c.success),
                (Some("bob"), Some("hungry"), Some(true)),
                "{protocol:?}"
            );
        }
    }

    /// A record lost in a gap: the ones after it open again (their
    /// sequence numbers are found by trying the next few).
    #[test]
    fn a_lost_record_does_not_stop_decryption() {
        for id in [0x1301, 0x1303, 0xc02b, 0xcca9] {
            let script: Vec<_> = SMTP.iter().copied().filter(|(_, b)| b.is_some()).collect();
            let (wire, keys) = session(id, &script);
            // The client's third flight (after its hello and its
            // Finished) is the EHLO: one record of application data.
            let ehlo = wire
                .iter()
                .enumerate()
                .filter(|(_, (dir, _))| *dir == C)
                .nth(2)
                .unwrap()
                .0;
            let d = analyse(&wire, &keys, Some(ehlo));
            let lines = decrypted_lines(&d);
            assert!(
                !lines.contains(&"C: EHLO crepes.fr".to_string()),
                "{id:04x}"
            );
            assert!(
                lines.ends_with(&[
                    "C: AUTH PLAIN AGJvYgBodW5ncnk=".to_string(),
                    "S: 235 2.7.0 ok".to_string(),
                    "C: QUIT".to_string(),
                    "S: 221 bye".to_string(),
                ]),
                "{id:04x}: {lines:?}"
            );
            assert!(
                d.transcript
                    .iter()
                    .any(|l| l.kind == LineKind::Gap && l.dir == C)
            );
        }
    }

    /// Wrong secrets: a finding, the records stay encrypted, nothing is
    /// invented.
    #[test]
    fn wrong_keys_are_a_finding() {
        let (wire, keys) = session(0x1302, SMTP);
        // Flip one hex digit of every secret (the third field of a line).
        let broken: String = keys
            .lines()
            .map(|l| {
                let mut f: Vec<String> = l.split(' ').map(String::from).collect();
                let first = if f[2].starts_with('0') { "1" } else { "0" };
                f[2].replace_range(0..1, first);
                f.join(" ") + "\n"
            })
            .collect();
        let d = analyse(&wire, &broken, None);
        assert!(decrypted_lines(&d).is_empty());
        let codes: Vec<_> = d.findings.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [FindingCode::TlsDecryptFailed, FindingCode::TlsDecryptFailed]
        );
        assert!(d.credentials.is_empty());
    }

    /// A key log without this session: one `tls-no-keys`; an empty key log:
    /// exactly as without decryption.
    #[test]
    fn missing_keys() {
        let (wire, keys) = session(0x1301, SMTP);
        let (_, other) = session(0x1301, SMTP);
        let d = analyse(&wire, &other, None);
        let codes: Vec<_> = d.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [FindingCode::TlsNoKeys]);
        assert!(decrypted_lines(&d).is_empty());
        let plain = analyse(&wire, "", None);
        assert!(plain.findings.is_empty());
        let texts: Vec<_> = plain.transcript.iter().map(|l| l.kind).collect();
        assert!(texts.iter().all(|k| *k == LineKind::Tls), "{texts:?}");
        // Only TLS 1.2 secrets for a TLS 1.3 session: named, not used.
        let random = keys.lines().next().unwrap().split(' ').nth(1).unwrap();
        let tls12_only = format!("CLIENT_RANDOM {random} {}\n", "ab".repeat(48));
        let d = analyse(&wire, &tls12_only, None);
        let codes: Vec<_> = d.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, [FindingCode::TlsNoKeys]);
    }

    /// A key log with only the application traffic secrets (no handshake
    /// secrets): the handshake stays opaque, the dialogue still opens.
    #[test]
    fn application_secrets_alone_are_enough() {
        let (wire, keys) = session(0x1301, SMTP);
        let only_app: String = keys
            .lines()
            .filter(|l| l.contains("_TRAFFIC_SECRET_0"))
            .map(|l| format!("{l}\n"))
            .collect();
        // (Client and server both log them: each line comes twice.)
        assert_eq!(only_app.lines().count(), 4);
        assert!(!only_app.contains("HANDSHAKE"));
        let d = analyse(&wire, &only_app, None);
        assert_eq!(decrypted_lines(&d), WANT);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
    }

    /// Arbitrary bytes and cuts never panic, with or without keys.
    #[test]
    fn garbage_never_panics() {
        let (wire, keys) = session(0x1303, SMTP);
        let all: Vec<u8> = wire.iter().flat_map(|(_, b)| b.clone()).collect();
        for cut in [1usize, 3, 5, 7, 64, 1000] {
            let mut pieces = Vec::new();
            let mut flip = false;
            for chunk in all.chunks(cut) {
                pieces.push((if flip { S } else { C }, chunk.to_vec()));
                flip = !flip;
            }
            for k in [&keys[..], ""] {
                let _ = analyse(&pieces, k, None);
                let _ = analyse(&pieces, k, Some(2));
            }
        }
    }
}
