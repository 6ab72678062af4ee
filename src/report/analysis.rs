//! The records of `mailscope analyze --json` (contract:
//! `docs/output-schema.md` in the shared docs), as JSON Lines. What the
//! records are and their order is `analysis::analyze`'s; this writes them.

use std::io::{self, Write};

use super::flows::write_json_line;
use crate::trace::Record;

/// Writes records as JSON lines, keeping the first error (later records
/// are skipped).
pub struct JsonLines<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out, error: None }
    }

    pub fn write(&mut self, record: &Record<'_>) {
        if self.error.is_none()
            && let Err(e) = write_json_line(&mut self.out, record)
        {
            self.error = Some(e);
        }
    }

    /// The writer, or the first error.
    pub fn finish(self) -> io::Result<W> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }
}

/// Text from the wire for a table cell: unsafe characters written out
/// (`trace::text::visible`), shortened on a character boundary.
pub fn cell(text: &str, width: usize) -> String {
    let text = crate::trace::text::visible(text);
    if text.chars().count() <= width {
        return text.into_owned();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}
