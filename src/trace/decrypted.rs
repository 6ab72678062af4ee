//! TLS bytes in a dialogue, and what a key log makes of them (issue 6).
//!
//! Every TLS byte of a flow (after an accepted STARTTLS/STLS, or from the
//! first byte on an implicit-TLS port) comes through
//! [`Dialogue::tls_bytes`]. Without keys it is counted by the tracker and
//! shown as `[TLS: N bytes encrypted]`. With a key log that holds the
//! session's secrets, the records are opened and their plaintext goes to a
//! second parser of the flow's protocol, writing into the same dialogue:
//! the STARTTLS flow continues its dialogue after the upgrade (the client's
//! new EHLO, AUTH, the message), the implicit-TLS flow gets one at all.
//! Everything that parser writes is marked `tls: "decrypted"`, and its
//! credentials raise no `plaintext-auth` finding: on the wire they were
//! encrypted.

use std::collections::VecDeque;

use super::dialogue::Dialogue;
use crate::flow::Direction;
use crate::proto::tls_decrypt::{Piece, SharedKeyLog, TlsDecryptor};
use crate::proto::{MailParser, Protocol, new_parser};

/// A flow's decryption: the record layer and the parser of its plaintext.
pub(super) struct Decryption {
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
    /// plaintext, while there is no parser yet (see [`Dialogue::tls_piece`]).
    early: Vec<u8>,
}

/// Client plaintext held at most while waiting for the server's greeting.
const MAX_EARLY: usize = 64 * 1024;

/// `(plaintext offset, packets of the record it came in)` of the records
/// not yet behind every emitted line, per direction.
pub(super) type PlainPieces = [VecDeque<(u64, Vec<u64>)>; 2];

/// The packets that carried plaintext `[start, end)` of `dir`; forgets
/// the records that end before `start` (lines come in order).
pub(super) fn plain_packets(
    pieces: &mut PlainPieces,
    dir: Direction,
    start: u64,
    end: u64,
) -> Vec<u64> {
    let pieces = &mut pieces[dir.index()];
    while pieces.len() > 1 && pieces[1].0 <= start {
        pieces.pop_front();
    }
    let mut out: Vec<u64> = Vec::new();
    for (i, (from, packets)) in pieces.iter().enumerate() {
        let to = pieces.get(i + 1).map_or(u64::MAX, |p| p.0);
        if *from >= end.max(start + 1) {
            break;
        }
        if to > start {
            for p in packets {
                if !out.contains(p) {
                    out.push(*p);
                }
            }
        }
    }
    out
}

impl Dialogue {
    /// Decrypt this flow's TLS with `keys` (a `--keylog` file and the
    /// capture's Decryption Secrets Blocks).
    pub fn set_key_log(&mut self, keys: SharedKeyLog) {
        self.keys = Some(keys);
    }

    /// TLS records opened so far, per direction (`[c2s, s2c]`).
    pub fn records_decrypted(&self) -> [u64; 2] {
        self.decryption
            .as_ref()
            .map_or([0; 2], |d| d.decryptor.records_decrypted)
    }

    /// In-order TLS bytes of `dir` at stream offset `start`: counted by the
    /// tracker, and opened when the key log has the session's secrets.
    pub fn tls_bytes(&mut self, dir: Direction, bytes: &[u8], start: u64) {
        self.tls.feed(dir, bytes);
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
                },
            }));
        }
        let Some(mut decryption) = self.decryption.take() else {
            self.tls_note(dir, start, bytes.len() as u64);
            return;
        };
        let params = *self.tls.params();
        let Decryption { decryptor, plain } = &mut *decryption;
        decryptor.feed(dir, bytes, start, &params, &mut |piece| {
            self.tls_piece(plain, dir, piece)
        });
        self.decryption_problems(&mut decryption);
        self.decryption = Some(decryption);
    }

    /// `len` bytes of `dir`'s TLS stream, starting at `start`, are missing.
    pub fn tls_gap(&mut self, dir: Direction, start: u64, len: u64) {
        self.tls.gap(dir, len);
        // While the plaintext is being read, its parser notes the gap (with
        // the line it cut short); one note per gap.
        let reading_plain = self
            .decryption
            .as_ref()
            .is_some_and(|d| d.plain.inner.is_some());
        if !reading_plain {
            self.gap(dir, start, len, None);
        }
        if let Some(mut decryption) = self.decryption.take() {
            let Decryption { decryptor, plain } = &mut *decryption;
            decryptor.gap(dir, len, &mut |piece| self.tls_piece(plain, dir, piece));
            self.decryption = Some(decryption);
        }
    }

    /// The flow is over: a record cut short is noted, the plaintext parser
    /// settles its last command and message.
    pub fn finish_tls(&mut self) {
        let Some(mut decryption) = self.decryption.take() else {
            return;
        };
        let rest = decryption.decryptor.finish();
        for (dir, rest) in [Direction::ClientToServer, Direction::ServerToClient]
            .into_iter()
            .zip(rest)
        {
            if let Some((start, len)) = rest {
                self.tls_note(dir, start, len);
            }
        }
        // The server never spoke: what the client said is still read.
        if decryption.plain.inner.is_none() && !decryption.plain.early.is_empty() {
            decryption.plain.inner = new_parser(self.protocol);
            let early = std::mem::take(&mut decryption.plain.early);
            self.with_inner(&mut decryption.plain, |inner, out| {
                inner.feed(Direction::ClientToServer, &early, out)
            });
        }
        if let Some(inner) = decryption.plain.inner.as_mut() {
            self.decrypting = true;
            inner.finish(self);
            self.decrypting = false;
        }
        let records = decryption.decryptor.records_decrypted;
        self.tls.note_decrypted(records[0], records[1]);
        self.decryption = Some(decryption);
    }

    fn decryption_problems(&mut self, decryption: &mut Decryption) {
        for p in decryption.decryptor.take_problems() {
            self.finding(p.severity, p.code, p.message);
        }
    }

    /// One piece of the record layer's output.
    fn tls_piece(&mut self, decryption: &mut PlainReader, dir: Direction, piece: Piece<'_>) {
        match piece {
            Piece::Opaque { start, len } => self.tls_note(dir, start, len),
            Piece::Plain { data, start, end } => {
                let d = dir.index();
                if self.wants_transcript() {
                    let packets = self.packets(dir, start, end);
                    self.plain_pieces[d].push_back((decryption.plain_pos[d], packets));
                }
                decryption.plain_pos[d] += data.len() as u64;
                let server = dir == Direction::ServerToClient;
                let mut early = Vec::new();
                if decryption.inner.is_none() {
                    // Implicit TLS: in SMTP, POP3 and IMAP the server speaks
                    // first (RFC 5321 §3.1, RFC 1939 §4, RFC 9051 §7.1). A
                    // client that writes before the greeting has arrived
                    // (`openssl s_client` fed from a pipe does, in the same
                    // segment as its Finished) is held until the greeting,
                    // so the greeting names the protocol on any port and the
                    // parser reads the dialogue in its logical order.
                    if self.tls_from_start
                        && !server
                        && decryption.early.len() + data.len() <= MAX_EARLY
                    {
                        decryption.early.extend_from_slice(data);
                        return;
                    }
                    if self.protocol == Protocol::Tls
                        && server
                        && let Some(p) = crate::proto::detect::protocol_of_greeting(data)
                    {
                        self.protocol = p;
                    }
                    decryption.inner = new_parser(self.protocol);
                    early = std::mem::take(&mut decryption.early);
                }
                if !server && !early.is_empty() {
                    // Held too long: in order, before this piece.
                    self.with_inner(decryption, |inner, out| inner.feed(dir, &early, out));
                }
                self.with_inner(decryption, |inner, out| inner.feed(dir, data, out));
                if server && !early.is_empty() {
                    // After the greeting, what the client had said.
                    self.with_inner(decryption, |inner, out| {
                        inner.feed(Direction::ClientToServer, &early, out)
                    });
                }
            }
            Piece::Lost { len } => {
                decryption.plain_pos[dir.index()] += len;
                self.with_inner(decryption, |inner, out| inner.gap(dir, len, out));
            }
        }
    }

    /// Runs the plaintext parser with the dialogue in decrypting mode: its
    /// lines, messages and credentials are marked, and their packets are
    /// those of the records that carried them.
    fn with_inner(
        &mut self,
        decryption: &mut PlainReader,
        f: impl FnOnce(&mut dyn MailParser, &mut Dialogue),
    ) {
        if let Some(inner) = decryption.inner.as_mut() {
            self.decrypting = true;
            f(inner.as_mut(), self);
            self.decrypting = false;
        }
    }
}
