//! A message being received, whatever the protocol: its bytes (bounded by
//! [`MAX_MESSAGE_BYTES`]), its real size, and where it started.

use crate::trace::FindingCode;
use crate::trace::{Dialogue, MAX_MESSAGE_BYTES, RawMessage, Severity};

#[derive(Debug)]
pub struct Incoming {
    pub raw: RawMessage,
    /// Size of the message, also past [`MAX_MESSAGE_BYTES`] and across
    /// gaps.
    pub size: u64,
    /// Stream offset of its first byte.
    pub start: u64,
    truncated: bool,
}

impl Incoming {
    /// A message that starts at stream offset `start`; complete until a
    /// gap or a missing end says otherwise.
    pub fn new(mut raw: RawMessage, start: u64) -> Self {
        raw.complete = true;
        Incoming {
            raw,
            size: 0,
            start,
            truncated: false,
        }
    }

    /// Appends content; past the bound only the size grows, once with a
    /// `message-truncated` finding.
    pub fn push(&mut self, bytes: &[u8], out: &mut Dialogue) {
        self.size += bytes.len() as u64;
        let room = MAX_MESSAGE_BYTES.saturating_sub(self.raw.bytes.len());
        if bytes.len() > room && !self.truncated {
            self.truncated = true;
            self.raw.complete = false;
            out.finding(
                Severity::Medium,
                FindingCode::MessageTruncated,
                format!(
                    "message larger than {MAX_MESSAGE_BYTES} bytes: only the first {MAX_MESSAGE_BYTES} bytes are kept"
                ),
            );
        }
        self.raw
            .bytes
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// Lines of the content kept (for the transcript's summary line; only
    /// counted when a transcript is made).
    pub fn lines(&self) -> usize {
        memchr::memchr_iter(b'\n', &self.raw.bytes).count()
    }

    /// The transcript's one line for a message (`dialog` without `--full`):
    /// `[message: 218 bytes, 8 lines, Subject: …]`, with the size of what
    /// was captured, as in the `message` record.
    pub fn summary(size: usize, lines: usize, complete: bool, subject: Option<&str>) -> String {
        let incomplete = if complete { "" } else { ", incomplete" };
        let subject = subject
            .map(|s| format!(", Subject: {s}"))
            .unwrap_or_default();
        format!("[message: {size} bytes, {lines} lines{incomplete}{subject}]")
    }

    /// `len` bytes of the message are missing from the capture.
    pub fn lost(&mut self, len: u64) {
        self.raw.complete = false;
        self.size += len;
    }

    /// The message ended earlier than it seemed: only its first `size`
    /// bytes belong to it.
    pub fn cut_at(&mut self, size: u64) {
        if size < self.size {
            self.size = size;
            self.raw.bytes.truncate(size as usize);
        }
    }
}
