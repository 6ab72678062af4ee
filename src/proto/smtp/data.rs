//! The message after DATA (RFC 5321 §4.1.1.4): dot-stuffed lines up to
//! `<CRLF>.<CRLF>` (see [`crate::proto::dot`] for the end rule).
//!
//! The parser switches to message mode as soon as the client says DATA
//! (a capture may hold the message before the 354, or no server side at
//! all) and switches back, reading those lines as commands again, if the
//! server rejects DATA.
//!
//! A lone "." with a bare LF next to it is not the end: the parser reads
//! on, as a server that follows RFC 5321 does. Some servers do end there,
//! and show it by answering while the parser still reads the message;
//! then the parser follows the server (see [`BareLfDot`]).

use super::parser::{C, ClientMode, Pending, Receiving, State};
use super::reply::Reply;
use crate::proto::dot::{DotLine, Unstuffer};
use crate::proto::incoming::Incoming;
use crate::proto::lines::{Line, LineReader};
use crate::trace::{Dialogue, FindingCode, LineKind, Part, RawMessage, Severity, TxStatus, Via};

/// Message lines kept to be read again as commands if DATA is rejected.
const MAX_REPLAY: usize = 64 * 1024;

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

impl State {
    /// DATA: message lines follow. Unconfirmed until the 354 arrives.
    pub(super) fn start_data(&mut self, data: &Line, out: &mut Dialogue) {
        // DATA's own line ending is the first CRLF of <CRLF>.<CRLF> for an
        // empty message.
        self.dot = Unstuffer::after(data.ending);
        self.bare_lf_dot = None;
        let current = self.current_tx;
        let nobody = self.tx_mut(current).is_some_and(|t| {
            t.rcpt_waiting == 0 && t.rcpt_to.is_empty() && !t.rcpt_rejected.is_empty()
        });
        if nobody {
            // Every recipient was refused: the server will refuse DATA too,
            // so wait for its reply before taking lines as message.
            return;
        }
        self.begin_message(Via::Data, "DATA", data.end, out);
        self.mode = ClientMode::Data { confirmed: false };
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
        });
    }

    /// The 354 came: the lines are message for sure.
    pub(super) fn data_confirmed(&mut self, out: &mut Dialogue) {
        if self.incoming.is_none() {
            // We waited (every recipient was refused, yet the server says
            // go ahead).
            self.begin_message(Via::Data, "DATA", self.client_pos, out);
        }
        self.mode = match self.mode {
            ClientMode::Data { .. } => ClientMode::Data { confirmed: true },
            ClientMode::Commands if self.incoming.is_some() => ClientMode::Data { confirmed: true },
            ref m => m.clone(),
        };
        if let Some(r) = self.incoming.as_mut() {
            r.replay = Vec::new();
        }
    }

    /// One line in message mode.
    pub(super) fn data_line(&mut self, line: Line, confirmed: bool, out: &mut Dialogue) {
        let Some(r) = self.incoming.as_mut() else {
            self.mode = ClientMode::Commands;
            return;
        };
        if !confirmed && !r.replay_overflow {
            if r.replay.len() + line.wire_len() as usize <= MAX_REPLAY {
                r.replay.extend_from_slice(line.text);
                r.replay.extend_from_slice(line.ending.as_bytes());
            } else {
                r.replay_overflow = true;
                r.replay = Vec::new();
            }
        }
        if let Some(dot) = self.bare_lf_dot.as_mut() {
            if !dot.shown {
                // The client went on: show the "." as the text it was read as.
                dot.shown = true;
                out.data_line(C, b".", dot.start, dot.end);
            }
            if !dot.overflow {
                if dot.after.len() + line.wire_len() as usize <= MAX_REPLAY {
                    dot.after.extend_from_slice(line.text);
                    dot.after.extend_from_slice(line.ending.as_bytes());
                } else {
                    dot.overflow = true;
                }
            }
        }
        let text = match self.dot.line(line.text, line.ending) {
            DotLine::End => {
                self.bare_lf_dot = None;
                self.mode = ClientMode::Commands;
                let (tx, idx) = self.end_message(true, out);
                out.line(C, LineKind::Command, line.text, line.start, line.end);
                self.push_pending(Pending::MessageEnd { tx, message: idx });
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
        let (tx, idx) = self.end_message(true, out);
        out.line(C, LineKind::Command, b".", dot.start, dot.end);
        self.push_pending(Pending::MessageEnd { tx, message: idx });
        if !dot.overflow {
            self.replay_as_commands(&dot.after, dot.end, out);
        }
    }

    /// The message is over (`complete` when its end marker was seen).
    /// Returns its transaction and its index in the dialogue.
    pub(super) fn end_message(
        &mut self,
        complete: bool,
        out: &mut Dialogue,
    ) -> (Option<u64>, usize) {
        if let Some(dot) = self.bare_lf_dot.take()
            && !dot.shown
        {
            // The flow ended right after a "." that was not the end.
            out.data_line(C, b".", dot.start, dot.end);
        }
        let mut m = self.incoming.take().expect("a message is being received").m;
        m.raw.complete &= complete;
        m.raw.ts = out.now(C);
        m.raw.helo = self.helo.clone().or_else(|| self.helo_claimed.clone());
        let tx = self.current_tx;
        // A new MAIL is needed for the next message (RFC 5321 §4.1.1.4).
        self.current_tx = None;
        let (from, rcpt) = match self.tx_mut(tx) {
            Some(t) => (t.mail_from.clone(), t.envelope_rcpt()),
            None => (None, Vec::new()),
        };
        m.raw.mail_from = from;
        m.raw.rcpt_to = Some(rcpt);
        let end = m.start + m.size;
        let start = m.start;
        let lines = if out.wants_transcript() { m.lines() } else { 0 };
        let idx = out.message(m.raw);
        if !out.options.full {
            let r = &out.messages[idx];
            let note = Incoming::summary(r.size as usize, lines, r.complete, r.subject.as_deref());
            out.note(C, LineKind::Data, note, start, end.max(start));
        }
        if let Some(t) = self.tx_mut(tx) {
            t.message = Some(idx);
        }
        (tx, idx)
    }

    /// The server refused DATA: the lines taken as message were commands.
    pub(super) fn data_rejected(&mut self, tx: Option<u64>, reply: &Reply, out: &mut Dialogue) {
        out.finding(
            Severity::Info,
            FindingCode::DataRejected,
            format!("the server rejected DATA ({})", reply.summary()),
        );
        let (replay, start) = match self.incoming.take() {
            Some(r) if !r.replay_overflow => (r.replay, r.m.start),
            _ => (Vec::new(), 0),
        };
        self.mode = ClientMode::Commands;
        self.finish_tx(tx, TxStatus::Rejected, Some(reply.summary()), out);
        self.replay_as_commands(&replay, start, out);
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
}
