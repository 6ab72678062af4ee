//! The sink a protocol parser writes into while it reads one flow.
//!
//! Parsers are sans-IO: they see bytes and call these methods; they never
//! know whether the result goes to a JSON report, a transcript on a terminal,
//! an extract directory or the GUI. The dialogue adds what the parser does
//! not know: the flow id, capture timestamps, and which packets carried the
//! bytes of each transcript line.
//!
//! It is a plain sink: it does not decide what is TLS, hold keys or read
//! MIME. The analysis session (`analysis::session`) owns those, tells the
//! dialogue which layer is being written ([`Layer`]) and completes each
//! message through the [`MessageCompleter`] it installs.

use std::collections::VecDeque;
use std::sync::Arc;

use super::finding::{Finding, FindingCode, Severity};
use super::protocol::Protocol;
use super::records::{
    Credential, LineKind, MessageRecord, RawMessage, Transaction, TranscriptLine,
};
use crate::capture::Timestamp;
use crate::flow::Direction;

/// What to keep besides messages, credentials and findings.
#[derive(Clone, Copy, Debug, Default)]
pub struct DialogueOptions {
    /// Keep the transcript (`dialog`, the GUI). Off for `analyze`, where it
    /// would cost an allocation per line for nothing.
    pub transcript: bool,
    /// Put every line of message content in the transcript instead of one
    /// summary line per message (`dialog --full`).
    pub full: bool,
}

/// Called with every finished message before its content is dropped:
/// `extract` writes the `.eml` and attachments here and fills in the paths.
/// The slices are the decoded attachments, in the order of
/// `record.attachments`. `Fn + Send + Sync`: with `--threads N` the
/// workers that own the sessions call it at the same time, so a hook with
/// state of its own guards it itself (and `extract` writes files from
/// every worker at once).
pub type MessageHook = Arc<dyn Fn(&mut MessageRecord, &RawMessage, &[Vec<u8>]) + Send + Sync>;

/// Completes a message the moment a parser hands it over (message
/// `index` of the dialogue): reads what it says about itself and applies
/// the rules that need it. Installed by the analysis session. Send: a
/// finished flow's dialogue goes from a worker thread to the collector.
pub type MessageCompleter = Box<dyn FnMut(&mut Dialogue, usize, &RawMessage) + Send>;

/// Which layer of the flow the parser is reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layer {
    /// What crossed the wire in clear.
    #[default]
    Wire,
    /// Plaintext read from TLS records with a key log: on the wire it was
    /// encrypted. Stream offsets are those of the plaintext.
    Decrypted,
}

/// Findings of one code kept per flow (a flood of garbage would otherwise
/// become a flood of identical findings); the rest are counted.
const MAX_FINDINGS_PER_CODE: usize = 20;

/// Everything found in one flow so far.
pub struct Dialogue {
    pub flow: u64,
    pub protocol: Protocol,
    pub options: DialogueOptions,
    pub transcript: Vec<TranscriptLine>,
    pub messages: Vec<MessageRecord>,
    pub credentials: Vec<Credential>,
    pub findings: Vec<Finding>,
    pub transactions: Vec<Transaction>,
    /// SMTP: the name the client gave in its last HELO/EHLO.
    pub helo: Option<String>,
    /// SMTP: the name the server gave in its 220 greeting (RFC 5321
    /// §4.3.1), the first word after the code.
    pub server_name: Option<String>,
    /// What the server says it can do: SMTP EHLO keywords, POP3 CAPA
    /// lines, IMAP CAPABILITY atoms (the last list seen).
    pub capabilities: Vec<String>,
    /// Findings dropped by [`MAX_FINDINGS_PER_CODE`].
    pub findings_suppressed: u64,
    /// `(stream offset, packet)` of the delivered pieces not yet behind
    /// every emitted line, per direction.
    pieces: [VecDeque<(u64, u64)>; 2],
    /// `(plaintext offset, packets of the record it came in)` of decrypted
    /// records not yet behind every emitted line, per direction.
    plain_pieces: [VecDeque<(u64, Vec<u64>)>; 2],
    /// Timestamp of the latest bytes of each direction.
    ts: [Timestamp; 2],
    layer: Layer,
    completer: Option<MessageCompleter>,
    /// Stream bytes of each direction the parser was not given (a proxy
    /// tunnel's set-up, a client's stray TLS records): parser offsets plus
    /// this are stream offsets.
    unparsed: [u64; 2],
    /// Per direction, the layer and stream offset from which delivered
    /// pieces are kept even behind the latest line (see
    /// [`keep_packets_from`](Self::keep_packets_from)).
    keep: [Option<(Layer, u64)>; 2],
}

impl Dialogue {
    pub fn new(flow: u64, protocol: Protocol, options: DialogueOptions) -> Self {
        Dialogue {
            flow,
            protocol,
            options,
            transcript: Vec::new(),
            messages: Vec::new(),
            credentials: Vec::new(),
            findings: Vec::new(),
            transactions: Vec::new(),
            helo: None,
            server_name: None,
            capabilities: Vec::new(),
            findings_suppressed: 0,
            pieces: [VecDeque::new(), VecDeque::new()],
            plain_pieces: [VecDeque::new(), VecDeque::new()],
            ts: [Timestamp::default(); 2],
            layer: Layer::Wire,
            completer: None,
            unparsed: [0; 2],
            keep: [None; 2],
        }
    }

    /// Installs what completes each message (see [`MessageCompleter`]).
    pub fn set_completer(&mut self, completer: MessageCompleter) {
        self.completer = Some(completer);
    }

    /// The layer written from now on.
    pub fn set_layer(&mut self, layer: Layer) {
        self.layer = layer;
    }

    pub fn layer(&self) -> Layer {
        self.layer
    }

    /// `len` more bytes of `dir` were not given to the parser: its offsets
    /// from here on are that much behind the stream's.
    pub fn skip_unparsed(&mut self, dir: Direction, len: u64) {
        self.unparsed[dir.index()] += len;
    }

    /// A parser offset of `dir` as a stream offset (plaintext offsets of
    /// the decrypted layer are left as they are).
    fn stream_offset(&self, dir: Direction, offset: u64) -> u64 {
        match self.layer {
            Layer::Wire => offset + self.unparsed[dir.index()],
            Layer::Decrypted => offset,
        }
    }

    /// The analyzer says where the next bytes of `dir` come from.
    pub fn data_arrived(&mut self, dir: Direction, offset: u64, packet: u64, ts: Timestamp) {
        self.ts[dir.index()] = ts;
        if self.options.transcript {
            let p = &mut self.pieces[dir.index()];
            if p.back().is_none_or(|&(_, last)| last != packet) {
                p.push_back((offset, packet));
            }
        }
    }

    /// Time of the latest bytes seen in `dir`.
    pub fn now(&self, dir: Direction) -> Timestamp {
        self.ts[dir.index()]
    }

    /// Time of the latest bytes seen in either direction.
    pub fn latest(&self) -> Timestamp {
        self.ts[0].max(self.ts[1])
    }

    pub fn wants_transcript(&self) -> bool {
        self.options.transcript
    }

    /// Keeps the delivered pieces of `dir` from parser offset `from` on
    /// (None: no longer), even once later lines are written: lines before
    /// the latest may be written again and must still find their packets
    /// (SMTP text sent after a DATA the server then refused is read again
    /// as the commands the server took it for).
    pub fn keep_packets_from(&mut self, dir: Direction, from: Option<u64>) {
        self.keep[dir.index()] = from.map(|f| (self.layer, self.stream_offset(dir, f)));
    }

    /// The packets that carried stream bytes `[start, end)` of `dir`, and
    /// forgets the pieces that end before `start` (lines come in order),
    /// except those kept by [`keep_packets_from`](Self::keep_packets_from).
    pub fn packets(&mut self, dir: Direction, start: u64, end: u64) -> Vec<u64> {
        let forget_before = match self.keep[dir.index()] {
            Some((layer, kept)) if layer == self.layer => kept.min(start),
            _ => start,
        };
        if self.layer == Layer::Decrypted {
            return plain_packets(
                &mut self.plain_pieces[dir.index()],
                forget_before,
                start,
                end,
            );
        }
        let pieces = &mut self.pieces[dir.index()];
        while pieces.len() > 1 && pieces[1].0 <= forget_before {
            pieces.pop_front();
        }
        let mut out = Vec::new();
        // The last piece that starts at or before `start` (pieces are in
        // stream order).
        let first = pieces.partition_point(|p| p.0 <= start).saturating_sub(1);
        for (i, &(from, packet)) in pieces.range(first..).enumerate() {
            let to = pieces.get(first + i + 1).map_or(u64::MAX, |p| p.0);
            if from >= end.max(start + 1) {
                break;
            }
            if to > start && out.last() != Some(&packet) {
                out.push(packet);
            }
        }
        out
    }

    /// A command or reply line (`text` without its line ending), at stream
    /// offsets `[start, end)` of `dir`.
    pub fn line(&mut self, dir: Direction, kind: LineKind, text: &[u8], start: u64, end: u64) {
        if self.options.transcript {
            self.note(dir, kind, printable(text), start, end);
        }
    }

    /// One line of message content: kept only with `full`.
    pub fn data_line(&mut self, dir: Direction, text: &[u8], start: u64, end: u64) {
        if self.options.transcript && self.options.full {
            self.note(dir, LineKind::Data, printable(text), start, end);
        }
    }

    /// A transcript entry made by the parser (a message summary such as
    /// `[message: 218 bytes, 7 lines]`, a gap).
    pub fn note(&mut self, dir: Direction, kind: LineKind, text: String, start: u64, end: u64) {
        if !self.options.transcript {
            return;
        }
        let (start, end) = (self.stream_offset(dir, start), self.stream_offset(dir, end));
        let packets = self.packets(dir, start, end);
        self.transcript.push(TranscriptLine {
            flow: self.flow,
            ts: self.now(dir),
            dir,
            kind,
            text,
            packets,
            tls: self.tls_mark(),
            span: (self.layer == Layer::Wire).then_some((start, end)),
        });
    }

    /// The `tls` mark of what is being written now.
    fn tls_mark(&self) -> Option<&'static str> {
        (self.layer == Layer::Decrypted).then_some(super::records::DECRYPTED)
    }

    /// Decrypted plaintext of `dir` from offset `plain_start` on came in a
    /// record carried by `packets` (so its lines find their packets).
    pub fn decrypted_piece(&mut self, dir: Direction, plain_start: u64, packets: Vec<u64>) {
        if self.options.transcript {
            self.plain_pieces[dir.index()].push_back((plain_start, packets));
        }
    }

    /// Bytes missing from the capture in `dir` (shown as
    /// `[… N bytes missing …]`), after `partial`, the start of a line the
    /// gap cut short, if any.
    pub fn gap(&mut self, dir: Direction, start: u64, len: u64, partial: Option<&[u8]>) {
        let start = self.stream_offset(dir, start);
        self.stream_gap(dir, start, len, partial);
    }

    /// Like [`gap`](Self::gap), at a stream offset (the TLS layer's).
    pub fn stream_gap(&mut self, dir: Direction, start: u64, len: u64, partial: Option<&[u8]>) {
        if self.options.transcript {
            let packets = self.packets(dir, start, start + 1);
            let before = partial.map(printable).unwrap_or_default();
            self.transcript.push(TranscriptLine {
                flow: self.flow,
                ts: self.now(dir),
                dir,
                kind: LineKind::Gap,
                text: format!("{before}[… {len} bytes missing …]"),
                packets,
                tls: self.tls_mark(),
                span: None,
            });
        }
    }

    /// Stream bytes `[start, start + len)` of `dir` that stay encrypted:
    /// one `[TLS: N bytes encrypted]` line per run of one direction.
    pub fn encrypted(&mut self, dir: Direction, start: u64, len: u64) {
        if !self.options.transcript || len == 0 {
            return;
        }
        let packets = self.packets(dir, start, start + len);
        if let Some(last) = self.transcript.last_mut()
            && last.kind == LineKind::Tls
            && last.dir == dir
        {
            let before: u64 = parse_tls_note(&last.text);
            last.text = tls_note(before + len);
            for p in packets {
                if last.packets.last() != Some(&p) {
                    last.packets.push(p);
                }
            }
            last.ts = self.ts[dir.index()];
            if let Some((_, end)) = &mut last.span {
                *end = start + len;
            }
            return;
        }
        self.transcript.push(TranscriptLine {
            flow: self.flow,
            ts: self.now(dir),
            dir,
            kind: LineKind::Tls,
            text: tls_note(len),
            packets,
            tls: None,
            span: Some((start, start + len)),
        });
    }

    /// A finished message, as its protocol delivered it: kept as a record
    /// and completed (headers, attachments, hashes, the hook) by the
    /// session's [`MessageCompleter`]. Returns its index in `messages`.
    pub fn message(&mut self, raw: RawMessage) -> usize {
        let mut record = MessageRecord::new(self.flow, self.protocol, &raw);
        record.tls = self.tls_mark();
        self.messages.push(record);
        let index = self.messages.len() - 1;
        if let Some(mut complete) = self.completer.take() {
            complete(self, index, &raw);
            self.completer = Some(complete);
        }
        index
    }

    /// A credential seen in clear. Returns its index in `credentials`, for
    /// the parser to record the server's verdict later.
    pub fn credential(&mut self, mut c: Credential) -> usize {
        c.flow = self.flow;
        c.protocol = self.protocol;
        c.tls = self.tls_mark();
        self.credentials.push(c);
        self.credentials.len() - 1
    }

    /// A credential a parser saw: recorded, and unless the session was
    /// already encrypted, a `plaintext-auth` finding. `what` names the
    /// command (`SMTP AUTH PLAIN`, `POP3 USER/PASS`, `IMAP LOGIN`).
    pub fn credential_seen(&mut self, mut c: Credential, what: &str, encrypted: bool) -> usize {
        c.ts = self.now(Direction::ClientToServer);
        let who = c.username.clone().unwrap_or_else(|| "?".into());
        // SASL mechanisms travel in base64, which people take for secrecy.
        let sasl = !matches!(
            c.mechanism.as_str(),
            "USER-PASS" | "IMAP-LOGIN" | "APOP" | "SOCKS5-USERPASS"
        );
        let index = self.credential(c);
        // Read from decrypted TLS: on the wire it was encrypted.
        if !encrypted && self.layer == Layer::Wire {
            let base64 = if sasl {
                " (base64 is not encryption)"
            } else {
                ""
            };
            self.finding(
                Severity::High,
                FindingCode::PlaintextAuth,
                format!(
                    "{what} for user {who:?} sent without TLS: anyone on the path can read it{base64}"
                ),
            );
        }
        index
    }

    /// `starttls-refused`: the server answered `reply` to `command`.
    pub fn starttls_refused(&mut self, command: &str, reply: &str) {
        self.finding(
            Severity::Medium,
            FindingCode::StarttlsRefused,
            format!("the server refused {command} ({reply}): the session continues in clear"),
        );
    }

    /// `starttls-not-used`: the server offered `command`, the client never
    /// sent it.
    pub fn starttls_not_used(&mut self, command: &str) {
        self.finding(
            Severity::Medium,
            FindingCode::StarttlsNotUsed,
            format!(
                "the server offered {command} but the client never used it: the whole session was in clear"
            ),
        );
    }

    /// Records the server's verdict on credential `index`: whether it
    /// accepted, and its reply as the protocol writes it (`"235"`, `"-ERR"`,
    /// `"NO"`; see [`Credential::reply`]).
    pub fn credential_result(&mut self, index: usize, success: bool, reply: &str) {
        if let Some(c) = self.credentials.get_mut(index) {
            c.success = Some(success);
            c.reply = Some(reply.to_string());
        }
    }

    pub fn finding(&mut self, severity: Severity, code: FindingCode, message: impl Into<String>) {
        let same = self.findings.iter().filter(|f| f.code == code).count();
        if same >= MAX_FINDINGS_PER_CODE {
            self.findings_suppressed += 1;
            return;
        }
        self.findings.push(Finding {
            flow: Some(self.flow),
            flow_uid: None,
            severity,
            code,
            message: message.into(),
            ts: Some(self.latest()),
            offset: None,
        });
    }

    /// True when a finding with this code was already recorded.
    pub fn has_finding(&self, code: FindingCode) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }

    pub fn transaction(&mut self, mut t: Transaction) {
        t.flow = self.flow;
        self.transactions.push(t);
    }
}

impl Credential {
    /// A credential of `mechanism` with nothing known yet.
    pub fn new(mechanism: impl Into<String>) -> Self {
        Credential {
            flow: 0,
            flow_uid: None,
            protocol: Protocol::Unknown,
            mechanism: mechanism.into(),
            username: None,
            password: None,
            success: None,
            reply: None,
            authzid: None,
            note: None,
            evidence: Vec::new(),
            ts: Timestamp::default(),
            tls: None,
        }
    }
}

/// The packets of decrypted plaintext `[start, end)` among `pieces`; forgets
/// the records that end before `forget_before` (lines come in order).
fn plain_packets(
    pieces: &mut VecDeque<(u64, Vec<u64>)>,
    forget_before: u64,
    start: u64,
    end: u64,
) -> Vec<u64> {
    while pieces.len() > 1 && pieces[1].0 <= forget_before {
        pieces.pop_front();
    }
    let mut out: Vec<u64> = Vec::new();
    let first = pieces.partition_point(|p| p.0 <= start).saturating_sub(1);
    for (i, (from, packets)) in pieces.range(first..).enumerate() {
        let to = pieces.get(first + i + 1).map_or(u64::MAX, |p| p.0);
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

fn tls_note(n: u64) -> String {
    format!("[TLS: {n} bytes encrypted]")
}

fn parse_tls_note(text: &str) -> u64 {
    text.strip_prefix("[TLS: ")
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

use super::text::printable;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_find_their_packets() {
        let mut d = Dialogue::new(
            3,
            Protocol::Smtp,
            DialogueOptions {
                transcript: true,
                full: false,
            },
        );
        let c = Direction::ClientToServer;
        d.data_arrived(c, 0, 10, Timestamp::from_nanos(1));
        d.data_arrived(c, 5, 12, Timestamp::from_nanos(2));
        d.data_arrived(c, 20, 14, Timestamp::from_nanos(3));
        d.line(c, LineKind::Command, b"HELO crepes.fr", 0, 16);
        d.line(c, LineKind::Command, b"QUIT", 20, 26);
        assert_eq!(d.transcript[0].packets, vec![10, 12]);
        assert_eq!(d.transcript[1].packets, vec![14]);
        assert_eq!(d.transcript[1].flow, 3);
    }

    #[test]
    fn tls_runs_are_merged() {
        let mut d = Dialogue::new(
            0,
            Protocol::Smtp,
            DialogueOptions {
                transcript: true,
                full: false,
            },
        );
        let c = Direction::ClientToServer;
        d.data_arrived(c, 0, 1, Timestamp::default());
        d.encrypted(c, 0, 10);
        d.data_arrived(c, 10, 2, Timestamp::default());
        d.encrypted(c, 10, 5);
        assert_eq!(d.transcript.len(), 1);
        assert_eq!(d.transcript[0].text, "[TLS: 15 bytes encrypted]");
        assert_eq!(d.transcript[0].packets, vec![1, 2]);
    }
}
