//! The last guard before a terminal: a writer that lets text and line
//! breaks through and writes out every other control character as an
//! escape (`trace::text`), so no byte from a capture can move the cursor,
//! retitle the window or clear the screen of the person reading a report.
//! Every human (non-JSON) output of the command line goes through it.

use std::io::{self, Write};

use crate::trace::text::is_unsafe;

pub struct TerminalSafe<W: Write> {
    inner: W,
    /// The start of a UTF-8 sequence cut by the end of a write.
    pending: Vec<u8>,
}

impl<W: Write> TerminalSafe<W> {
    pub fn new(inner: W) -> Self {
        TerminalSafe {
            inner,
            pending: Vec::new(),
        }
    }

    /// Writes what is pending (a cut sequence is shown as bytes) and
    /// returns the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        let rest = std::mem::take(&mut self.pending);
        for b in rest {
            write!(self.inner, "\\x{b:02x}")?;
        }
        Ok(self.inner)
    }

    fn safe(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut chunks = bytes.utf8_chunks().peekable();
        while let Some(piece) = chunks.next() {
            let valid = piece.valid();
            let mut from = 0;
            for (at, c) in valid.char_indices() {
                if c != '\n' && c != '\t' && is_unsafe(c) {
                    self.inner.write_all(&valid.as_bytes()[from..at])?;
                    match c {
                        '\x1b' => self.inner.write_all(b"\\e")?,
                        '\r' => self.inner.write_all(b"\\r")?,
                        c => write!(self.inner, "\\u{{{:x}}}", c as u32)?,
                    }
                    from = at + c.len_utf8();
                }
            }
            self.inner.write_all(&valid.as_bytes()[from..])?;
            let invalid = piece.invalid();
            if chunks.peek().is_none() && !invalid.is_empty() && invalid.len() < 4 {
                // Perhaps the start of a character the next write ends.
                self.pending.extend_from_slice(invalid);
            } else {
                for b in invalid {
                    write!(self.inner, "\\x{b:02x}")?;
                }
            }
        }
        Ok(())
    }
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            self.safe(buf)?;
        } else {
            let mut joined = std::mem::take(&mut self.pending);
            joined.extend_from_slice(buf);
            self.safe(&joined)?;
        }
        Ok(buf.len())
    }

    /// Called at the end of an output: a sequence still cut is shown as
    /// its bytes.
    fn flush(&mut self) -> io::Result<()> {
        for b in std::mem::take(&mut self.pending) {
            write!(self.inner, "\\x{b:02x}")?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(pieces: &[&[u8]]) -> String {
        let mut w = TerminalSafe::new(Vec::new());
        for p in pieces {
            w.write_all(p).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn controls_are_written_out_and_text_kept() {
        assert_eq!(
            through(&[b"Subject: \x1b]0;PWNED\x07\x1b[2J\n", b"user\rroot\tx\n"]),
            "Subject: \\e]0;PWNED\\u{7}\\e[2J\nuser\\rroot\tx\n"
        );
        // A character cut between two writes is whole again.
        let a = "sábado".as_bytes();
        assert_eq!(through(&[&a[..2], &a[2..]]), "sábado");
        // A C1 control as a lone byte (8-bit terminals take 0x9b for CSI).
        assert_eq!(through(&[b"a\x9b2Jb"]), "a\\x9b2Jb");
        assert_eq!(through(&["a\u{202e}b".as_bytes()]), "a\\u{202e}b");
    }
}
