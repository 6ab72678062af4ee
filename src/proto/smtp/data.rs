//! The message after DATA (RFC 5321 §4.1.1.4): dot-stuffed lines up to
//! `<CRLF>.<CRLF>` (see [`crate::proto::dot`] for the end rule).
//!
//! # Is it a message?
//!
//! The lines after DATA are a message once the server answers DATA with
//! 354 (RFC 5321 §3.3, §4.3.2: DATA is answered 354 or an error). A client
//! should wait for that answer: RFC 2920 §3.1 lets DATA only end a group
//! of pipelined commands, the text waits for the 354. Bots and hurried
//! clients do not wait, and a capture may hold no server side at all. So
//! the parser reads the lines after DATA as a message at once, keeping
//! their wire bytes, and lets the server decide:
//!
//! * the 354 comes while the text is still coming: it is the message;
//! * the text ends (its `.`) before any answer: the message is *held*:
//!   not handed on yet (no `message` record, no `.eml`), a place kept for
//!   its summary in the transcript. Then
//!   - the 354 comes: it was the message, whole; it is handed on;
//!   - DATA is refused (`554 5.5.1 no valid recipients`, `503`): it was
//!     not a message. The server read each of its lines as a command and
//!     answers each; the parser reads them again as commands (in the
//!     transcript too, where they were sent), so that the replies that
//!     follow answer the right commands;
//!   - the capture ends without an answer: it is handed on as the client
//!     sent it, as for a capture of the client's side only;
//! * DATA is refused while the text is still coming: the lines read so
//!   far were commands after all (the client did not wait), read again.
//!
//! A session in which no reply of the server was seen (one side captured)
//! has nobody to wait for: its messages are handed on at their end. Each
//! DATA waiting for its answer knows what became of its text
//! ([`DataText`]), so that answers find their text whatever came between.
//!
//! Memory stays bounded: beyond [`MAX_HELD`] held messages (or
//! [`MAX_HELD_BYTES`] of them) the oldest is handed on before its answer;
//! if its DATA is then refused, the record stays, and the server's answers
//! to its lines are still matched.
//!
//! An empty message (the `.` right after the 354, legal but rare; `BDAT 0
//! LAST` alone, RFC 3030 §2) has no `message` record: there is nothing to
//! read or extract. Its transaction tells it: `delivered`, `message` null.
//!
//! # A lone "." with a bare LF
//!
//! A lone "." with a bare LF next to it is not the end: the parser reads
//! on, as a server that follows RFC 5321 does. Some servers do end there,
//! and show it by answering while the parser still reads the message;
//! then the parser follows the server (see [`BareLfDot`]).
//!
//! Either way the message gets an `smtp-smuggling` finding: so does one
//! with a lone "." next to a bare CR (`<CR>.<CR>`), which the line reader
//! keeps inside one line (see `proto::dot`).

use std::collections::VecDeque;

use super::parser::{C, ClientMode, DataText, Ended, MAX_PENDING, Pending, Receiving, State};
use super::reply::Reply;
use crate::proto::dot::{DotLine, Unstuffer};
use crate::proto::incoming::Incoming;
use crate::proto::lines::{Line, LineReader};
use crate::trace::{
    Dialogue, FindingCode, LineKind, MAX_MESSAGE_BYTES, Part, RawMessage, Severity, TxStatus, Via,
};

/// Message lines kept to be read again as commands if DATA is rejected.
const MAX_REPLAY: usize = 64 * 1024;

/// Appends `line` as it was on the wire to `kept` if `kept` stays within
/// [`MAX_REPLAY`]; false, and nothing appended, if it would not.
fn keep_wire_line(kept: &mut Vec<u8>, line: &Line) -> bool {
    if kept.len() + line.wire_len() as usize > MAX_REPLAY {
        return false;
    }
    kept.extend_from_slice(line.text);
    kept.extend_from_slice(line.ending.as_bytes());
    true
}

/// Messages held at once, and their bytes: beyond, the oldest are handed
/// on as sent (memory stays bounded whatever a client pipelines).
pub(super) const MAX_HELD: usize = 16;
const MAX_HELD_BYTES: usize = MAX_MESSAGE_BYTES;

/// A lone "." with a bare LF before or after it, seen in the message
/// being received, and what the client sent after it.
#[derive(Debug)]
pub(super) struct BareLfDot {
    /// Size of the message before the "." line.
    size_before: u64,
    /// Stream offsets of the "." line.
    start: u64,
    end: u64,
    /// It was shown in the transcript (as text, once the next line came).
    shown: bool,
    /// Wire bytes of the lines after it, to be read as commands if the
    /// server took the "." for the end.
    after: Vec<u8>,
    overflow: bool,
}

/// A message whose end came before the server's answer to its DATA.
#[derive(Debug)]
pub(super) struct Held {
    id: u64,
    r: Receiving,
    tx: Option<u64>,
    /// Lines of its content (for the transcript's summary).
    lines: usize,
    /// Transcript index of its summary line, when there is one (not with
    /// `--full`, nor for an empty message).
    note: Option<usize>,
    /// Transcript length just after its "." line: its entries are the
    /// client's from `r.mark` to there.
    end: usize,
    /// Handed on already, before the server's answer (memory bound): only
    /// what is needed to follow that answer is kept.
    handed_on: bool,
}

impl State {
    /// DATA: message lines follow, unconfirmed until the 354 arrives
    /// (`Coming`), or the parser waits for the reply (`Waited`).
    pub(super) fn start_data(&mut self, data: &Line, out: &mut Dialogue) -> DataText {
        // DATA's own line ending is the first CRLF of <CRLF>.<CRLF> for an
        // empty message.
        self.dot = Unstuffer::after(data.ending);
        self.bare_lf_dot = None;
        let current = self.current_tx;
        let nobody = self.tx_mut(current).is_some_and(|t| {
            t.rcpt_waiting == 0
                && !t.recipients.is_empty()
                && t.recipients
                    .iter()
                    .all(|r| r.code.is_some_and(|c| c >= 400))
        });
        if nobody {
            // Every recipient was refused: the server will refuse DATA too
            // (RFC 5321 §3.3: "no valid recipients"), so wait for its
            // reply before taking lines as message.
            return DataText::Waited;
        }
        self.begin_message(Via::Data, "DATA", data.end, out);
        self.mode = ClientMode::Data { confirmed: false };
        self.keep_packets(out);
        DataText::Coming
    }

    /// What became of the text of the latest DATA still waiting for its
    /// answer: the text that just ended is that DATA's (the client sent
    /// nothing else since).
    fn set_data_text(&mut self, text: DataText) {
        let latest = self.pending.iter_mut().rev().find_map(|p| match p {
            Pending::Data { text, .. } => Some(text),
            _ => None,
        });
        if let Some(t) = latest
            && *t == DataText::Coming
        {
            *t = text;
        }
    }

    pub(super) fn begin_message(
        &mut self,
        via: Via,
        command: &str,
        start: u64,
        out: &mut Dialogue,
    ) {
        if self.incoming.is_some() {
            return;
        }
        let mut raw = RawMessage::new(via, Part::Full, command);
        raw.ts = out.now(C);
        self.incoming = Some(Receiving {
            m: Incoming::new(raw, start),
            replay: Vec::new(),
            replay_overflow: false,
            sent: 0,
            sent_lines: 0,
            mark: None,
        });
    }

    /// A positive answer to DATA (354, RFC 5321 §4.3.2; `go_ahead` false
    /// for another positive code, which does not refuse): the text after
    /// it is the message. `text`: what the parser made of that text.
    pub(super) fn data_accepted(&mut self, text: DataText, go_ahead: bool, out: &mut Dialogue) {
        match text {
            DataText::Waited => {
                // Every recipient was refused, yet the server says go
                // ahead: the message starts now.
                if self.incoming.is_none() && self.mode == ClientMode::Commands {
                    self.begin_message(Via::Data, "DATA", self.client_pos, out);
                    self.mode = ClientMode::Data { confirmed: true };
                }
            }
            DataText::Coming => {
                if matches!(self.mode, ClientMode::Data { .. })
                    && let Some(r) = self.incoming.as_mut()
                {
                    let early = r.sent > 0;
                    r.replay = Vec::new();
                    self.mode = ClientMode::Data { confirmed: true };
                    if early && go_ahead {
                        self.early_text(out);
                    }
                }
            }
            DataText::Held(id) => {
                if let Some(h) = self.take_held(id) {
                    if go_ahead {
                        self.early_text(out);
                    }
                    if !h.handed_on {
                        self.release_held(h, out);
                    }
                }
            }
            DataText::HandedOn => {}
        }
        self.keep_packets(out);
    }

    /// The held message `id`, out of the queue.
    fn take_held(&mut self, id: u64) -> Option<Held> {
        let pos = self.held.iter().position(|h| h.id == id)?;
        self.held.remove(pos)
    }

    /// `protocol-anomaly`, once per flow: the client sent message text
    /// before the server's 354.
    fn early_text(&mut self, out: &mut Dialogue) {
        if !self.early_text_noted {
            self.early_text_noted = true;
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                "the client sent message text before the server's 354 (RFC 2920 §3.1: DATA ends a pipelined group, the text waits for 354); the server took it as the message",
            );
        }
    }

    /// One line in message mode.
    pub(super) fn data_line(&mut self, line: Line, confirmed: bool, out: &mut Dialogue) {
        let Some(r) = self.incoming.as_mut() else {
            self.mode = ClientMode::Commands;
            return;
        };
        if !confirmed {
            r.mark.get_or_insert(out.transcript.len());
            r.sent += line.wire_len();
            r.sent_lines += 1;
            if !r.replay_overflow && !keep_wire_line(&mut r.replay, &line) {
                r.replay_overflow = true;
                r.replay = Vec::new();
                self.keep_packets(out);
            }
        }
        let Some(r) = self.incoming.as_mut() else {
            return;
        };
        if let Some(dot) = self.bare_lf_dot.as_mut() {
            if !dot.shown {
                // The client went on: show the "." as the text it was read as.
                dot.shown = true;
                out.data_line(C, b".", dot.start, dot.end);
            }
            if !dot.overflow && !keep_wire_line(&mut dot.after, &line) {
                dot.overflow = true;
            }
        }
        let seen_before = self.dot.saw_bare_dot();
        let read = self.dot.read_line(&line);
        if !seen_before && self.dot.saw_bare_dot() {
            // Once per message: the first such line is the one to look at.
            out.finding(
                Severity::High,
                FindingCode::SmtpSmuggling,
                format!(
                    "the message text holds a lone \".\" next to a bare LF or CR (client stream byte {}): RFC 5321 §4.1.1.4 ends the data only at <CRLF>.<CRLF>, but a server and a relaying client may disagree about where the message ends, and what follows can run as commands on the next hop, a second, forged message (SMTP smuggling, CVE-2023-51764)",
                    line.start
                ),
            );
        }
        let text = match read {
            DotLine::End => {
                self.bare_lf_dot = None;
                self.mode = ClientMode::Commands;
                if confirmed || !self.server_replied {
                    if !confirmed {
                        self.set_data_text(DataText::HandedOn);
                    }
                    let (tx, message) = self.end_message(true, out);
                    out.line(C, LineKind::Command, line.text, line.start, line.end);
                    self.push_pending(Pending::MessageEnd {
                        tx,
                        message,
                        held: None,
                    });
                    self.keep_packets(out);
                } else {
                    self.hold(&line, out);
                }
                return;
            }
            DotLine::Text(text) => text,
            // Text, not the end (see `proto::dot`); remembered in case the
            // server ended the data here, and shown once that is known.
            DotLine::BareLfDot(text) if self.bare_lf_dot.is_none() => {
                self.bare_lf_dot = Some(BareLfDot {
                    size_before: r.m.size,
                    start: line.start,
                    end: line.end,
                    shown: false,
                    after: Vec::new(),
                    overflow: false,
                });
                r.m.push(text, out);
                r.m.push(line.ending.as_bytes(), out);
                return;
            }
            DotLine::BareLfDot(text) => text,
        };
        out.data_line(C, line.text, line.start, line.end);
        r.m.push(text, out);
        r.m.push(line.ending.as_bytes(), out);
    }

    /// Client bytes are missing from the capture.
    pub(super) fn data_gap(&mut self) {
        self.dot.gap();
        if let Some(dot) = self.bare_lf_dot.as_mut() {
            // The lines after the "." are no longer all there.
            dot.overflow = true;
        }
        if let Some(r) = self.incoming.as_mut()
            && self.mode == (ClientMode::Data { confirmed: false })
        {
            // The lines kept are no longer what the server read.
            r.replay_overflow = true;
            r.replay = Vec::new();
        }
    }

    /// The server answers while the client is sending the message: after a
    /// 354 a server is silent until the end of the data, so it took a lone
    /// "." with a bare LF for the end. The message ends there, and what
    /// the client sent after it were commands. (Such a server is what SMTP
    /// smuggling needs; see `proto::dot`.)
    pub(super) fn server_ended_data_early(&mut self, out: &mut Dialogue) {
        if self.mode != (ClientMode::Data { confirmed: true }) {
            return;
        }
        let Some(dot) = self.bare_lf_dot.take() else {
            return;
        };
        if let Some(r) = self.incoming.as_mut() {
            r.m.cut_at(dot.size_before);
        }
        self.mode = ClientMode::Commands;
        let (tx, message) = self.end_message(true, out);
        out.line(C, LineKind::Command, b".", dot.start, dot.end);
        self.push_pending(Pending::MessageEnd {
            tx,
            message,
            held: None,
        });
        if !dot.overflow {
            self.replay_as_commands(&dot.after, dot.end, out);
        }
    }

    /// The message being received is over (`complete` when its end marker
    /// was seen): handed on. Returns its transaction and what it left.
    pub(super) fn end_message(
        &mut self,
        complete: bool,
        out: &mut Dialogue,
    ) -> (Option<u64>, Ended) {
        let tx = self.current_tx;
        // A new MAIL is needed for the next message (RFC 5321 §4.1.1.4).
        self.current_tx = None;
        let Some((r, lines)) = self.take_incoming(complete, out) else {
            return (tx, Ended::Empty);
        };
        let ended = self.deliver(r.m, tx, lines, None, out);
        (tx, ended)
    }

    /// The message being received, finished: its completeness, time and
    /// HELO, and the number of its lines (counted for the transcript).
    fn take_incoming(&mut self, complete: bool, out: &mut Dialogue) -> Option<(Receiving, usize)> {
        if let Some(dot) = self.bare_lf_dot.take()
            && !dot.shown
        {
            // The flow ended right after a "." that was not the end.
            out.data_line(C, b".", dot.start, dot.end);
        }
        let mut r = self.incoming.take()?;
        r.m.raw.complete &= complete;
        r.m.raw.ts = out.now(C);
        r.m.raw.helo = self.helo.clone().or_else(|| self.helo_claimed.clone());
        let lines = if out.wants_transcript() {
            r.m.lines()
        } else {
            0
        };
        Some((r, lines))
    }

    /// Hands a finished message on: its envelope from transaction `tx`, a
    /// `message` record, and its summary in the transcript (at `note` when
    /// a place was kept for it). An empty message has no record.
    fn deliver(
        &mut self,
        mut m: Incoming,
        tx: Option<u64>,
        lines: usize,
        note: Option<usize>,
        out: &mut Dialogue,
    ) -> Ended {
        if m.size == 0 {
            return Ended::Empty;
        }
        let (from, rcpt) = self.envelope_of(tx);
        m.raw.mail_from = from;
        m.raw.rcpt_to = Some(rcpt);
        let (start, end) = (m.start, m.start + m.size);
        let index = out.message(m.raw);
        if !out.options.full {
            let r = &out.messages[index];
            let text = Incoming::summary(r.size as usize, lines, r.complete, r.subject.as_deref());
            match note.and_then(|i| out.transcript.get_mut(i)) {
                Some(line) => line.text = text,
                None => out.note(C, LineKind::Data, text, start, end.max(start)),
            }
        }
        self.attach_message(tx, index, out);
        Ended::Record(index)
    }

    /// The end of a message whose DATA the server has not answered yet:
    /// held until it does (see the module documentation).
    fn hold(&mut self, dot: &Line, out: &mut Dialogue) {
        let tx = self.current_tx;
        self.current_tx = None;
        let Some((r, lines)) = self.take_incoming(true, out) else {
            return;
        };
        let note = (r.m.size > 0 && out.wants_transcript() && !out.options.full).then(|| {
            let i = out.transcript.len();
            // The subject is known once the message is read, when the
            // server takes it.
            let text = Incoming::summary(r.m.raw.bytes.len(), lines, r.m.raw.complete, None);
            out.note(C, LineKind::Data, text, r.m.start, r.m.start + r.m.size);
            i
        });
        out.line(C, LineKind::Command, dot.text, dot.start, dot.end);
        let id = self.next_held;
        self.next_held += 1;
        self.set_data_text(DataText::Held(id));
        self.push_pending(Pending::MessageEnd {
            tx,
            message: Ended::Held(id),
            held: Some(id),
        });
        self.held.push_back(Held {
            id,
            r,
            tx,
            lines,
            note,
            end: out.transcript.len(),
            handed_on: false,
        });
        self.bound_held(out);
        self.keep_packets(out);
    }

    /// Bounded memory: beyond [`MAX_HELD`] messages or [`MAX_HELD_BYTES`]
    /// held, the oldest is handed on as sent; of those, no more are
    /// followed than commands are.
    fn bound_held(&mut self, out: &mut Dialogue) {
        loop {
            let waiting = self.held.iter().filter(|h| !h.handed_on);
            let (count, bytes) =
                waiting.fold((0, 0), |(n, b), h| (n + 1, b + h.r.m.raw.bytes.len()));
            if count <= MAX_HELD && (count <= 1 || bytes <= MAX_HELD_BYTES) {
                break;
            }
            let Some(pos) = self.held.iter().position(|h| !h.handed_on) else {
                break;
            };
            self.hand_on_early(pos, out);
        }
        while self.held.len() > MAX_PENDING {
            self.held.pop_front();
        }
    }

    /// Held message `pos` is handed on before the server's answer; what is
    /// kept is what following that answer needs (how many lines it had).
    fn hand_on_early(&mut self, pos: usize, out: &mut Dialogue) {
        let Some(h) = self.held.get_mut(pos) else {
            return;
        };
        let empty = Incoming::new(RawMessage::new(Via::Data, Part::Full, "DATA"), h.r.m.start);
        let m = std::mem::replace(&mut h.r.m, empty);
        h.r.replay = Vec::new();
        h.r.replay_overflow = true;
        h.handed_on = true;
        let (id, tx, lines, note) = (h.id, h.tx, h.lines, h.note);
        self.hand_on(id, m, tx, lines, note, out);
    }

    /// A held message is handed on (its DATA was accepted, or the capture
    /// ended before the server said): the verdict to come is on it.
    pub(super) fn release_held(&mut self, h: Held, out: &mut Dialogue) {
        if h.handed_on {
            return;
        }
        let Held {
            id,
            r,
            tx,
            lines,
            note,
            ..
        } = h;
        self.hand_on(id, r.m, tx, lines, note, out);
    }

    fn hand_on(
        &mut self,
        id: u64,
        m: Incoming,
        tx: Option<u64>,
        lines: usize,
        note: Option<usize>,
        out: &mut Dialogue,
    ) {
        let ended = self.deliver(m, tx, lines, note, out);
        for p in self.pending.iter_mut() {
            if let Pending::MessageEnd { message, held, .. } = p
                && *held == Some(id)
            {
                *message = ended;
                break;
            }
        }
        self.keep_packets(out);
    }

    /// The server refused DATA (RFC 5321 §4.3.2: 4xx or 5xx instead of
    /// 354, such as `554 5.5.1 Error: no valid recipients`): the text the
    /// client sent after it, if any, was not a message. The transaction
    /// ends there.
    pub(super) fn data_refused(
        &mut self,
        tx: Option<u64>,
        text: DataText,
        reply: &Reply,
        out: &mut Dialogue,
    ) {
        enum Text {
            None,
            Held(Held),
            Coming(Receiving),
        }
        let text = match text {
            DataText::Held(id) => self.take_held(id).map_or(Text::None, Text::Held),
            DataText::Coming
                if matches!(self.mode, ClientMode::Data { .. }) && self.incoming.is_some() =>
            {
                self.mode = ClientMode::Commands;
                self.bare_lf_dot = None;
                self.incoming.take().map_or(Text::None, Text::Coming)
            }
            _ => Text::None,
        };
        let (sent, handed_on) = match &text {
            Text::Held(h) => (h.r.sent, h.handed_on),
            Text::Coming(r) => (r.sent, false),
            Text::None => (0, false),
        };
        let message = if sent == 0 {
            format!("the server rejected DATA ({})", reply.summary())
        } else if handed_on {
            format!(
                "the server rejected DATA ({}): the {sent} bytes the client had sent after it without waiting for the 354 (RFC 2920 §3.1) were not a message, but were reported as one (too many messages were waiting for an answer); the server read them as commands",
                reply.summary()
            )
        } else {
            format!(
                "the server rejected DATA ({}): the {sent} bytes the client had sent after it without waiting for the 354 (RFC 2920 §3.1) were not a message; the server read them as commands",
                reply.summary()
            )
        };
        out.finding(Severity::Info, FindingCode::DataRejected, message);
        self.finish_tx(tx, TxStatus::Rejected, Some(reply.summary()), out);
        match text {
            Text::Held(h) => self.reread_held(h, out),
            Text::Coming(r) => self.reread_coming(r, out),
            Text::None => {}
        }
        self.keep_packets(out);
    }

    /// A held message's DATA was refused: its lines were commands to the
    /// server, which answers each (`500 5.5.2 Error: command not
    /// recognized`), instead of the verdict the parser waited for. What
    /// such a line could have done (a `QUIT` inside the text) is not
    /// followed: the client meant it as text.
    fn reread_held(&mut self, h: Held, out: &mut Dialogue) {
        let at_end = self
            .pending
            .iter()
            .position(|p| matches!(p, Pending::MessageEnd { held: Some(id), .. } if *id == h.id));
        // The replies to those lines come before those to the commands
        // sent after the ".".
        let after: VecDeque<Pending> = match at_end {
            Some(p) => {
                let mut tail = self.pending.split_off(p);
                tail.pop_front();
                tail
            }
            None => VecDeque::new(),
        };
        let Held {
            r, end, handed_on, ..
        } = h;
        if handed_on {
            // Reported as a message already: its lines stay as they were
            // shown; the server's answers to them are matched.
            for _ in 0..r.sent_lines.min(MAX_PENDING as u64) {
                self.push_pending(Pending::Other);
            }
            self.pending.extend(after);
            return;
        }
        let client_pos = self.client_pos;
        self.in_transcript_place(r.mark, end, out, |state, out| {
            if r.replay_overflow {
                state.summarise_lines_read_as_commands(&r, out);
            } else {
                let mut reader = LineReader::new();
                let mut input: &[u8] = &r.replay;
                // Counting from the first line keeps the offsets (and so
                // the packets of each line) right.
                reader.gap(r.m.start);
                while let Some(line) = reader.next_line(&mut input) {
                    out.line(C, LineKind::Command, line.text, line.start, line.end);
                    state.push_pending(Pending::Other);
                }
            }
        });
        self.client_pos = client_pos;
        self.pending.extend(after);
    }

    /// DATA was refused while its text was still coming: the lines read as
    /// message were commands, and are read as such (the client is still
    /// sending, so what they do is followed).
    fn reread_coming(&mut self, r: Receiving, out: &mut Dialogue) {
        let end = out.transcript.len();
        self.in_transcript_place(r.mark, end, out, |state, out| {
            if r.replay_overflow {
                state.summarise_lines_read_as_commands(&r, out);
            } else {
                state.rereading = true;
                state.replay_as_commands(&r.replay, r.m.start, out);
                state.rereading = false;
            }
        });
    }

    /// Text read as commands that was too long to keep (or was cut by a
    /// gap): one summary line stands for it, and each of its lines still
    /// waits for a reply, as the server answers every line it read.
    fn summarise_lines_read_as_commands(&mut self, r: &Receiving, out: &mut Dialogue) {
        out.note(
            C,
            LineKind::Command,
            format!(
                "[{} bytes in {} lines, read by the server as commands]",
                r.sent, r.sent_lines
            ),
            r.m.start,
            r.m.start + r.sent,
        );
        for _ in 0..r.sent_lines.min(MAX_PENDING as u64) {
            self.push_pending(Pending::Other);
        }
    }

    /// Writes the client's transcript entries of some text again: those
    /// from `mark` (the place of its first line, if it had one) to `end`
    /// (the text as message lines, its summary, its ".") are taken out,
    /// and what `write` adds goes in their place, before the server's
    /// lines that came while the text was sent. Later held messages'
    /// places move with it.
    fn in_transcript_place(
        &mut self,
        mark: Option<usize>,
        end: usize,
        out: &mut Dialogue,
        write: impl FnOnce(&mut State, &mut Dialogue),
    ) {
        let len = out.transcript.len();
        let end = end.min(len);
        let mark = mark.map(|m| m.min(end));
        let mut removed = 0;
        if let Some(m) = mark {
            // Only the recent end of the transcript is touched.
            let tail: Vec<_> = out.transcript.drain(m..).collect();
            for (i, line) in tail.into_iter().enumerate() {
                if m + i < end && line.dir == C {
                    removed += 1;
                } else {
                    out.transcript.push(line);
                }
            }
        }
        // `mark` is still in place: only entries at or after it went.
        let at = mark.unwrap_or(out.transcript.len());
        let written_from = out.transcript.len();
        write(self, out);
        let written: Vec<_> = out.transcript.drain(written_from..).collect();
        let added = written.len();
        out.transcript.splice(at..at, written);
        // Entries at or after the old end moved by `added - removed`.
        let shift = |i: &mut usize| {
            if *i >= end {
                *i = (*i + added).saturating_sub(removed);
            }
        };
        for h in self.held.iter_mut() {
            shift(&mut h.end);
            if let Some(m) = h.r.mark.as_mut() {
                shift(m);
            }
            if let Some(n) = h.note.as_mut() {
                shift(n);
            }
        }
        if let Some(m) = self.incoming.as_mut().and_then(|r| r.mark.as_mut()) {
            shift(m);
        }
    }

    /// Client lines taken for message text that were commands after all;
    /// `start` is the stream offset of the first.
    fn replay_as_commands(&mut self, lines: &[u8], start: u64, out: &mut Dialogue) {
        let mut reader = LineReader::new();
        let mut input: &[u8] = lines;
        // Counting from the first line keeps the offsets (and so the
        // packets of each line) right.
        reader.gap(start);
        while let Some(line) = reader.next_line(&mut input) {
            self.client_line(line, false, out);
        }
    }

    /// While text after DATA may still have to be read again as commands,
    /// the packets it came in are kept, so that its lines still point at
    /// them.
    pub(super) fn keep_packets(&self, out: &mut Dialogue) {
        let coming = self
            .incoming
            .iter()
            .filter(|_| self.mode == (ClientMode::Data { confirmed: false }));
        let from = self
            .held
            .iter()
            .map(|h| &h.r)
            .chain(coming)
            .filter(|r| !r.replay_overflow)
            .map(|r| r.m.start)
            .min();
        out.keep_packets_from(C, from);
    }
}
