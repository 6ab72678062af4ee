//! The TLS record layer, opened with a key log (issue 6): what the two
//! endpoints read, recovered from what crossed the wire.
//!
//! [`TlsDecryptor`] is fed the same bytes as the [`TlsTracker`](super::TlsTracker)
//! (after STARTTLS, or from the first byte on 465/993/995). It cuts each
//! direction into records (5-byte header, body; RFC 8446 §5.1), keeps the
//! one record being gathered (at most 2^14 + 2048 + 5 bytes), and once a
//! record is whole:
//!
//! * **TLS 1.3** (RFC 8446 §5.2): every protected record is disguised as
//!   application data (type 23). It is opened with the sender's handshake
//!   key until that side's Finished, then with its application key; a
//!   KeyUpdate moves to the next secret (§7.2). The plaintext ends with
//!   the real content type followed by zero padding.
//! * **TLS 1.2** (RFC 5246 §6.2.3.3, RFC 5288, RFC 7905): everything a
//!   side sends after its ChangeCipherSpec is encrypted, whatever the
//!   record's type; the additional data carries the sequence number.
//!
//! Every record gets a per-direction sequence number (starting at 0 with
//! each new key), which is part of the nonce, so a record lost in a gap
//! still counts: after a gap the next records are tried with the next few
//! sequence numbers until one opens.
//!
//! Decrypted application data is handed on as a [`Piece::Plain`], to be
//! read by the same SMTP/POP3/IMAP parsers as a clear-text flow; everything
//! else (hellos, certificates, alerts, records that do not open) is a
//! [`Piece::Opaque`] byte range. What went wrong for a flow (no secrets in
//! the key log, a suite mailscope cannot decrypt, a record that does not
//! open) comes back as a [`Problem`], reported as a finding.

use std::cell::RefCell;
use std::rc::Rc;

use super::handshake::{FINISHED, HandshakeReader, KEY_UPDATE};
use super::hello::HelloParams;
use super::keylog::KeyLog;
use super::keys::{self, Nonce12, RecordKey, Suite, TAG_LEN};
use super::names::{cipher_name, protects_like_tls13};
use super::record::{
    APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE, looks_like_record, record_header,
};
use crate::flow::Direction;
use crate::trace::{FindingCode, Severity};

/// The key log of a run, shared by every flow. It grows as the capture's
/// Decryption Secrets Blocks are read (a pcapng puts them before the
/// packets they decrypt), so a flow looks its session up only when it
/// first needs a key.
pub type SharedKeyLog = Rc<RefCell<KeyLog>>;

/// Sequence numbers tried after a gap: records lost in it still used
/// theirs.
const RESYNC_TRIES: u64 = 64;

/// What a stretch of one direction's TLS bytes turned into.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Stream bytes `[start, start + len)` stay encrypted or are TLS's own
    /// (hellos, certificates, alerts).
    Opaque { start: u64, len: u64 },
    /// The plaintext of one application data record, which occupied
    /// stream bytes `[start, end)`.
    Plain {
        data: &'a [u8],
        start: u64,
        end: u64,
    },
    /// `len` bytes of the stream are missing: plaintext is missing too.
    Lost { len: u64 },
}

/// Why a flow, or one direction of it, stays encrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub code: FindingCode,
    pub message: String,
}

/// The keys of a session, once found in the key log.
enum Session {
    /// The hellos have not both been seen yet.
    Unresolved,
    /// Keys found: records are opened.
    Ready { suite: Suite, tls13: bool },
    /// No keys (or nothing to do with them): every byte stays opaque.
    Unavailable,
}

/// One direction's keys and where its records stand.
#[derive(Default)]
struct DirectionState {
    /// The record being gathered: header then body.
    record: Vec<u8>,
    /// Stream offset of `record[0]`.
    record_start: u64,
    /// Stream offset of the next byte fed.
    pos: u64,
    /// Record boundaries unknown (after a gap or junk): wait for a piece
    /// that starts like a record header.
    lost: bool,
    /// The current record lost bytes to a gap: skip it, but count it.
    damaged: bool,
    /// After a gap: the next record may have a later sequence number.
    resync: bool,
    /// TLS 1.2: this side sent its ChangeCipherSpec.
    changed_cipher: bool,
    /// The key records are opened with now.
    key: Option<RecordKey>,
    seq: u64,
    /// TLS 1.3: the application traffic secret (for KeyUpdate) and whether
    /// it is in use yet.
    app_secret: Option<Vec<u8>>,
    in_application: bool,
    /// TLS 1.3: handshake message boundaries in the decrypted handshake
    /// stream (no message is kept: only its type matters here).
    handshake: HandshakeReader,
    /// A record did not open: the rest of this direction stays opaque.
    failed: bool,
}

/// Opens the records of one flow with the secrets of a key log.
pub struct TlsDecryptor {
    keys: SharedKeyLog,
    session: Session,
    dirs: [DirectionState; 2],
    problems: Vec<Problem>,
    scratch: Vec<u8>,
    /// Records opened per direction.
    pub records_decrypted: [u64; 2],
}

impl TlsDecryptor {
    pub fn new(keys: SharedKeyLog) -> Self {
        TlsDecryptor {
            keys,
            session: Session::Unresolved,
            dirs: Default::default(),
            problems: Vec::new(),
            scratch: Vec::new(),
            records_decrypted: [0; 2],
        }
    }

    /// What went wrong since the last call.
    pub fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }

    /// In-order TLS bytes of `dir`, starting at stream offset `start`.
    /// `params` are the tracker's hello fields, already updated with these
    /// bytes. `out` receives the pieces, in stream order.
    pub fn feed(
        &mut self,
        dir: Direction,
        mut bytes: &[u8],
        start: u64,
        params: &HelloParams,
        out: &mut dyn FnMut(Piece<'_>),
    ) {
        let d = &mut self.dirs[dir.index()];
        d.pos = start;
        if matches!(self.session, Session::Unavailable) || d.failed {
            d.pos += bytes.len() as u64;
            out(Piece::Opaque {
                start,
                len: bytes.len() as u64,
            });
            return;
        }
        if d.lost {
            if !looks_like_record(bytes, None) {
                d.pos += bytes.len() as u64;
                out(Piece::Opaque {
                    start,
                    len: bytes.len() as u64,
                });
                return;
            }
            d.lost = false;
            d.resync = true;
        }
        while !bytes.is_empty() {
            let d = &mut self.dirs[dir.index()];
            if d.record.is_empty() {
                d.record_start = d.pos;
            }
            let want = if d.record.len() < 5 {
                5 - d.record.len()
            } else {
                record_len(&d.record) - d.record.len()
            };
            let take = want.min(bytes.len());
            d.record.extend_from_slice(&bytes[..take]);
            d.pos += take as u64;
            bytes = &bytes[take..];
            if d.record.len() == 5 && !header_ok(&d.record) {
                // Not a record header: give up on boundaries until a piece
                // starts like one again.
                let from = d.record_start;
                d.record.clear();
                d.lost = true;
                let len = d.pos - from + bytes.len() as u64;
                d.pos += bytes.len() as u64;
                out(Piece::Opaque { start: from, len });
                return;
            }
            if d.record.len() >= 5 && d.record.len() == record_len(&d.record) {
                self.record_done(dir, params, out);
            }
        }
    }

    /// `len` bytes of `dir` are missing. Inside a record its boundaries
    /// survive (the record is skipped but keeps its sequence number);
    /// otherwise they are lost until a piece looks like a header again.
    pub fn gap(&mut self, dir: Direction, len: u64, out: &mut dyn FnMut(Piece<'_>)) {
        let d = &mut self.dirs[dir.index()];
        out(Piece::Lost { len });
        d.pos += len;
        if d.lost || d.failed {
            return;
        }
        let inside = d.record.len() >= 5 && (record_len(&d.record) - d.record.len()) as u64 > len;
        if inside {
            // Keep the record's length right with filler; it will not open.
            d.damaged = true;
            d.record.resize(d.record.len() + len as usize, 0);
        } else {
            d.record.clear();
            d.lost = true;
            d.damaged = false;
        }
    }

    /// The flow ended: a record cut short stays opaque. Returns each
    /// direction's unfinished record as (start, len), if any.
    pub fn finish(&mut self) -> [Option<(u64, u64)>; 2] {
        self.dirs.each_mut().map(|d| {
            let rest = (!d.record.is_empty()).then_some((d.record_start, d.record.len() as u64));
            d.record.clear();
            rest
        })
    }

    /// Finds the session's keys once both hellos are known.
    fn resolve(&mut self, params: &HelloParams) {
        if !matches!(self.session, Session::Unresolved) {
            return;
        }
        let (Some(client_random), Some(server_random), Some(id), Some(version)) = (
            params.client_random,
            params.server_random,
            params.cipher_suite,
            params.version,
        ) else {
            return;
        };
        let log = self.keys.borrow();
        if log.is_empty() {
            // No key material at all: behave as without decryption.
            self.session = Session::Unavailable;
            return;
        }
        let short = crate::mail::hex(&client_random[..8]);
        let Some(secrets) = log.session(&client_random) else {
            drop(log);
            self.give_up(
                FindingCode::TlsNoKeys,
                format!("the key log has no secrets for this TLS session (client random {short}…)"),
            );
            return;
        };
        let Some(suite) = keys::suite(id) else {
            drop(log);
            self.give_up(
                FindingCode::TlsCipherUnsupported,
                format!(
                    "the session uses {}, which mailscope does not decrypt (AES-GCM and ChaCha20-Poly1305 suites only)",
                    cipher_name(id)
                ),
            );
            return;
        };
        let tls13 = protects_like_tls13(version);
        let [client, server] = &mut self.dirs;
        let missing = if tls13 {
            let hs = |s: &Option<Vec<u8>>| s.as_deref().and_then(|s| RecordKey::tls13(&suite, s));
            client.key = hs(&secrets.client_handshake_traffic);
            server.key = hs(&secrets.server_handshake_traffic);
            client.app_secret = secrets.client_application_traffic_0.clone();
            server.app_secret = secrets.server_application_traffic_0.clone();
            client.key.is_none()
                && server.key.is_none()
                && client.app_secret.is_none()
                && server.app_secret.is_none()
        } else {
            match secrets
                .master_secret
                .as_deref()
                .and_then(|m| RecordKey::tls12(&suite, m, &client_random, &server_random))
            {
                Some((c, s)) => {
                    client.key = Some(c);
                    server.key = Some(s);
                    false
                }
                None => true,
            }
        };
        if missing {
            let what = if tls13 {
                "TLS 1.3 traffic secrets"
            } else {
                "TLS 1.2 master secret (CLIENT_RANDOM)"
            };
            drop(log);
            self.give_up(
                FindingCode::TlsNoKeys,
                format!(
                    "the key log names this TLS session (client random {short}…) but has no {what} for it"
                ),
            );
            return;
        }
        self.session = Session::Ready { suite, tls13 };
    }

    /// The session cannot be opened: an informational finding, and every
    /// byte stays opaque.
    fn give_up(&mut self, code: FindingCode, why: String) {
        self.problems.push(Problem {
            severity: Severity::Info,
            code,
            message: format!("{why}: its records stay encrypted"),
        });
        self.session = Session::Unavailable;
    }

    /// A whole record of `dir` was gathered: process it, then keep its
    /// buffer for the next one.
    fn record_done(
        &mut self,
        dir: Direction,
        params: &HelloParams,
        out: &mut dyn FnMut(Piece<'_>),
    ) {
        self.resolve(params);
        let d = &mut self.dirs[dir.index()];
        let mut record = std::mem::take(&mut d.record);
        let start = d.record_start;
        self.process(dir, &record, start, out);
        record.clear();
        self.dirs[dir.index()].record = record;
    }

    /// Opens `record` (stream offset `start`) if it is protected.
    fn process(
        &mut self,
        dir: Direction,
        record: &[u8],
        start: u64,
        out: &mut dyn FnMut(Piece<'_>),
    ) {
        let d = &mut self.dirs[dir.index()];
        let end = start + record.len() as u64;
        let opaque = Piece::Opaque {
            start,
            len: record.len() as u64,
        };
        let content_type = record[0];
        let damaged = std::mem::take(&mut d.damaged);
        let Session::Ready { suite, tls13 } = self.session else {
            if content_type == CHANGE_CIPHER_SPEC {
                d.changed_cipher = true;
            }
            out(opaque);
            return;
        };
        let protected = if tls13 {
            content_type == APPLICATION_DATA
        } else if content_type == CHANGE_CIPHER_SPEC {
            d.changed_cipher = true;
            d.seq = 0;
            false
        } else {
            d.changed_cipher
        };
        if !protected {
            out(opaque);
            return;
        }
        if damaged {
            // Its bytes are partly filler: it cannot open, but it used a
            // sequence number.
            d.seq += 1;
            out(opaque);
            return;
        }
        let Some((inner_type, len)) = open_record(d, &suite, tls13, record, &mut self.scratch)
        else {
            if tls13 && !d.in_application && d.key.is_none() {
                // A handshake record, and the key log holds only this
                // side's application secret (some programs log no
                // handshake secrets): it stays opaque, the rest opens.
                d.seq += 1;
                out(opaque);
                return;
            }
            d.failed = true;
            let side = match dir {
                Direction::ClientToServer => "client",
                Direction::ServerToClient => "server",
            };
            let why = if d.key.is_none() && d.app_secret.is_none() {
                format!("the key log has no {side} secrets for this session")
            } else {
                "its authentication tag does not verify: wrong keys in the key log, or damaged bytes".to_string()
            };
            self.problems.push(Problem {
                severity: Severity::Medium,
                code: FindingCode::TlsDecryptFailed,
                message: format!(
                    "a TLS record from the {side} (stream offset {start}) could not be decrypted ({why}); the rest of that direction stays encrypted"
                ),
            });
            out(opaque);
            return;
        };
        self.records_decrypted[dir.index()] += 1;
        match inner_type {
            APPLICATION_DATA => out(Piece::Plain {
                data: &self.scratch[..len],
                start,
                end,
            }),
            HANDSHAKE if tls13 => {
                out(opaque);
                scan_handshake(d, &suite, &self.scratch[..len]);
            }
            // Alerts (close_notify), TLS 1.2's encrypted Finished.
            _ => out(opaque),
        }
    }
}

/// Total length of the record whose header is `record[..5]`.
fn record_len(record: &[u8]) -> usize {
    5 + u16::from_be_bytes([record[3], record[4]]) as usize
}

/// A header the tracker would follow too (see [`record_header`]).
fn header_ok(h: &[u8]) -> bool {
    <&[u8; 5]>::try_from(h).is_ok_and(|h| record_header(h).is_some())
}

/// Opens one protected record into `scratch`; returns its real content
/// type and plaintext length. After a gap, and in TLS 1.3 when the
/// handshake key fails and the application key exists (a Finished lost in
/// a gap), the next candidates are tried before giving up.
fn open_record(
    d: &mut DirectionState,
    suite: &Suite,
    tls13: bool,
    record: &[u8],
    scratch: &mut Vec<u8>,
) -> Option<(u8, usize)> {
    let tries = if std::mem::take(&mut d.resync) {
        RESYNC_TRIES
    } else {
        1
    };
    for seq in d.seq..d.seq + tries {
        if let Some(key) = &d.key
            && let Some(got) = try_open(key, suite, tls13, seq, record, scratch)
        {
            d.seq = seq + 1;
            return Some(got);
        }
    }
    if tls13
        && !d.in_application
        && let Some(app) = d
            .app_secret
            .as_deref()
            .and_then(|s| RecordKey::tls13(suite, s))
    {
        // The handshake key did not open it (or was not logged): perhaps
        // the handshake is over and its Finished was not seen. The
        // application key takes over only if it opens the record.
        for seq in 0..tries {
            if let Some(got) = try_open(&app, suite, tls13, seq, record, scratch) {
                d.in_application = true;
                d.key = Some(app);
                d.seq = seq + 1;
                return Some(got);
            }
        }
    }
    None
}

/// One attempt at opening `record` with sequence number `seq`.
fn try_open(
    key: &RecordKey,
    suite: &Suite,
    tls13: bool,
    seq: u64,
    record: &[u8],
    scratch: &mut Vec<u8>,
) -> Option<(u8, usize)> {
    let (header, body) = record.split_at(5);
    scratch.clear();
    if tls13 {
        // Additional data: the record header as sent (RFC 8446 §5.2).
        scratch.extend_from_slice(body);
        let n = key.open(seq, None, header, scratch)?;
        // TLSInnerPlaintext: content, then the real type, then zeros.
        let real = scratch[..n].iter().rposition(|&b| b != 0)?;
        return Some((scratch[real], real));
    }
    // TLS 1.2: seq_num ‖ type ‖ version ‖ length of the plaintext
    // (RFC 5246 §6.2.3.3).
    let (explicit, sealed) = match suite.tls12 {
        Some(Nonce12::Explicit) if body.len() >= 8 => (Some(&body[..8]), &body[8..]),
        Some(Nonce12::Explicit) => return None,
        _ => (None, body),
    };
    let plain_len = sealed.len().checked_sub(TAG_LEN)?;
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8..11].copy_from_slice(&header[..3]);
    aad[11..].copy_from_slice(&(plain_len as u16).to_be_bytes());
    scratch.extend_from_slice(sealed);
    let n = key.open(seq, explicit, &aad, scratch)?;
    Some((header[0], n))
}

/// TLS 1.3: this side's handshake is over; its application key takes over
/// with sequence number 0 (RFC 8446 §5.3).
fn switch_to_application(d: &mut DirectionState, suite: &Suite) {
    d.in_application = true;
    d.key = d
        .app_secret
        .as_deref()
        .and_then(|s| RecordKey::tls13(suite, s));
    d.seq = 0;
}

/// Reads the message boundaries of a decrypted TLS 1.3 handshake record:
/// a Finished ends this side's handshake keys, a KeyUpdate moves to the
/// next application secret (RFC 8446 §4.6.3, §7.2). Both take effect
/// after the record, since a key change never happens inside one (§5.1).
fn scan_handshake(d: &mut DirectionState, suite: &Suite, plain: &[u8]) {
    let mut finished = false;
    let mut key_updates = 0;
    let in_application = d.in_application;
    d.handshake.feed(plain, None, |kind, _| match kind {
        FINISHED if !in_application => finished = true,
        KEY_UPDATE if in_application => key_updates += 1,
        _ => {}
    });
    if finished {
        switch_to_application(d, suite);
    }
    for _ in 0..key_updates {
        if let Some(next) = d
            .app_secret
            .as_deref()
            .map(|s| keys::next_traffic_secret(suite.hash, s))
        {
            d.app_secret = Some(next);
            switch_to_application(d, suite);
        }
    }
}
