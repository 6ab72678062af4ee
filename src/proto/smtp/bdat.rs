//! The message in BDAT chunks (RFC 3030): `BDAT n` carries exactly n bytes
//! after its line, whatever they contain (no dot-stuffing, no end line);
//! `BDAT n LAST` ends the message.

use super::command::Bdat;
use super::findings::MAX_TEXT_LINE;
use super::parser::{C, ClientMode, Pending, State};
use crate::proto::lines::Line;
use crate::trace::{Dialogue, Via};

impl State {
    pub(super) fn bdat(&mut self, bdat: Bdat, line: Line, out: &mut Dialogue) {
        // RFC 3030 §4: "BDAT" SP chunk-size [SP "LAST"] — anything else
        // is a syntax error the server refuses, and no chunk follows.
        let Bdat::Chunk { size, last } = bdat else {
            // Without a size nobody knows where the chunk ends; the server
            // will reject it and the next line is read as a command.
            self.anomaly(
                &line,
                "BDAT without a valid chunk size and end marker (RFC 3030 §4)",
                out,
            );
            self.push_pending(Pending::Other);
            return;
        };
        self.begin_message(Via::Bdat, "BDAT", line.end, out);
        if let Some(r) = self.incoming.as_mut()
            && r.m.raw.via == Via::Data
        {
            r.m.raw.via = Via::Bdat;
            r.m.raw.command = "BDAT".into();
        }
        self.mode = ClientMode::Chunk {
            remaining: size,
            last,
        };
        if size == 0 {
            self.chunk_bytes(&[], line.end, out);
        }
    }

    /// Bytes of a BDAT chunk (all of it may come in several pieces).
    pub(super) fn chunk_bytes(&mut self, bytes: &[u8], start: u64, out: &mut Dialogue) {
        let ClientMode::Chunk { remaining, last } = self.mode else {
            return;
        };
        let remaining = remaining - (bytes.len() as u64).min(remaining);
        if let Some(r) = self.incoming.as_mut() {
            r.m.push(bytes, out);
        }
        if out.wants_transcript() && out.options.full {
            self.show_chunk(bytes, start, remaining == 0, out);
        }
        if remaining > 0 {
            self.mode = ClientMode::Chunk { remaining, last };
            return;
        }
        self.mode = ClientMode::Commands;
        if last {
            let (tx, message) = self.end_message(true, out);
            self.push_pending(Pending::MessageEnd {
                tx,
                message,
                held: None,
            });
        } else {
            self.push_pending(Pending::Bdat {
                tx: self.current_tx,
            });
        }
    }

    /// Shows chunk bytes as lines for `dialog --full`. A chunk is not made
    /// of lines, so they are gathered here across pieces and a partial last
    /// line is shown when the chunk ends.
    fn show_chunk(&mut self, bytes: &[u8], start: u64, chunk_ends: bool, out: &mut Dialogue) {
        for (i, &b) in bytes.iter().enumerate() {
            if self.chunk_line.is_empty() {
                self.chunk_line_start = start + i as u64;
            }
            if b == b'\n' {
                let text = self
                    .chunk_line
                    .strip_suffix(b"\r")
                    .unwrap_or(&self.chunk_line);
                out.data_line(C, text, self.chunk_line_start, start + i as u64 + 1);
                self.chunk_line.clear();
            } else if self.chunk_line.len() < MAX_TEXT_LINE {
                self.chunk_line.push(b);
            }
        }
        if chunk_ends && !self.chunk_line.is_empty() {
            let end = start + bytes.len() as u64;
            out.data_line(C, &self.chunk_line, self.chunk_line_start, end);
            self.chunk_line.clear();
        }
    }
}
