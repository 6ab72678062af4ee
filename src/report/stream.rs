//! "Follow TCP stream": the reassembled conversation of one flow, as text
//! (each line marked `C:` or `S:`) or as a hex dump (`--raw`).
//!
//! It prints while the capture is read, so a flow of any size goes straight
//! through without being kept in memory.

use std::io::{self, Write};

use crate::flow::{Direction, StreamEvent, StreamHandler};
use crate::trace::text::printable;

/// Longest line kept before it is printed in pieces.
const MAX_LINE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFormat {
    /// Lines of text, `C: ` / `S: ` in front, non-printable bytes as `.`.
    Text,
    /// Hex dump with offsets, like `hexdump -C`, per direction.
    Hex,
}

/// A [`StreamHandler`] that writes one flow's conversation to `out`.
pub struct StreamPrinter<W: Write> {
    out: W,
    format: StreamFormat,
    color: bool,
    /// The partial line of each direction (text format).
    line: [Vec<u8>; 2],
    /// Direction of the last output, to break lines when the speaker changes.
    last_dir: Option<Direction>,
    /// First write error (e.g. a closed pipe); later output is skipped.
    pub error: Option<io::Error>,
}

impl<W: Write> StreamPrinter<W> {
    pub fn new(out: W, format: StreamFormat, color: bool) -> Self {
        StreamPrinter {
            out,
            format,
            color,
            line: [Vec::new(), Vec::new()],
            last_dir: None,
            error: None,
        }
    }

    /// Prints what is still pending and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            self.flush_line(dir);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn prefix(&self, dir: Direction) -> &'static str {
        match (dir, self.color) {
            // Wireshark's colours: client red, server blue.
            (Direction::ClientToServer, true) => "\x1b[31mC: ",
            (Direction::ServerToClient, true) => "\x1b[34mS: ",
            (Direction::ClientToServer, false) => "C: ",
            (Direction::ServerToClient, false) => "S: ",
        }
    }

    fn suffix(&self) -> &'static str {
        if self.color { "\x1b[0m\n" } else { "\n" }
    }

    fn write(&mut self, f: impl FnOnce(&mut W) -> io::Result<()>) {
        if self.error.is_none()
            && let Err(e) = f(&mut self.out)
        {
            self.error = Some(e);
        }
    }

    /// Prints the partial line of `dir`, if any.
    fn flush_line(&mut self, dir: Direction) {
        let d = dir.index();
        if self.line[d].is_empty() {
            return;
        }
        let text = printable(&self.line[d]);
        self.line[d].clear();
        let (prefix, suffix) = (self.prefix(dir), self.suffix());
        self.write(|out| write!(out, "{prefix}{text}{suffix}"));
    }

    fn text(&mut self, dir: Direction, bytes: &[u8]) {
        if self.last_dir != Some(dir) {
            // The other side spoke: finish its line first.
            self.flush_line(dir.reverse());
            self.last_dir = Some(dir);
        }
        let d = dir.index();
        for &b in bytes {
            if b == b'\n' {
                if self.line[d].last() == Some(&b'\r') {
                    self.line[d].pop();
                }
                let text = printable(&self.line[d]);
                self.line[d].clear();
                let (prefix, suffix) = (self.prefix(dir), self.suffix());
                self.write(|out| write!(out, "{prefix}{text}{suffix}"));
            } else {
                self.line[d].push(b);
                if self.line[d].len() >= MAX_LINE {
                    self.flush_line(dir);
                }
            }
        }
    }

    fn hex(&mut self, dir: Direction, offset: u64, bytes: &[u8], packet: u64) {
        let arrow = match dir {
            Direction::ClientToServer => "C→S",
            Direction::ServerToClient => "S→C",
        };
        let (color_on, color_off) = match (self.color, dir) {
            (false, _) => ("", ""),
            (true, Direction::ClientToServer) => ("\x1b[31m", "\x1b[0m"),
            (true, Direction::ServerToClient) => ("\x1b[34m", "\x1b[0m"),
        };
        self.write(|out| {
            writeln!(
                out,
                "{color_on}{arrow} {} bytes at offset {offset} (packet {}){color_off}",
                bytes.len(),
                packet + 1
            )?;
            for (row, chunk) in bytes.chunks(16).enumerate() {
                let mut hex = String::with_capacity(50);
                for (i, b) in chunk.iter().enumerate() {
                    if i == 8 {
                        hex.push(' ');
                    }
                    hex.push_str(&format!("{b:02x} "));
                }
                let ascii: String = chunk
                    .iter()
                    .map(|&b| {
                        if (0x20..0x7f).contains(&b) {
                            b as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
                writeln!(
                    out,
                    "{color_on}  {:08x}  {hex:<49} |{ascii}|{color_off}",
                    offset + row as u64 * 16
                )?;
            }
            Ok(())
        });
    }
}

impl<W: Write> StreamHandler for StreamPrinter<W> {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        match event {
            StreamEvent::Data(p) => match self.format {
                StreamFormat::Text => self.text(dir, p.bytes),
                StreamFormat::Hex => self.hex(dir, p.offset, p.bytes, p.packet),
            },
            StreamEvent::Gap { offset, len } => {
                self.flush_line(dir);
                self.last_dir = Some(dir);
                let (prefix, suffix) = (self.prefix(dir), self.suffix());
                let note = match self.format {
                    StreamFormat::Text => String::new(),
                    StreamFormat::Hex => format!(" at offset {offset}"),
                };
                self.write(|out| write!(out, "{prefix}[… {len} bytes missing{note} …]{suffix}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use crate::flow::Piece;

    fn data(bytes: &[u8]) -> StreamEvent<'_> {
        StreamEvent::Data(Piece {
            offset: 0,
            bytes,
            packet: 0,
            ts: Timestamp::default(),
        })
    }

    #[test]
    fn text_lines_by_speaker() {
        use Direction::{ClientToServer as C, ServerToClient as S};
        let mut p = StreamPrinter::new(Vec::new(), StreamFormat::Text, false);
        p.on_event(S, data(b"220 hamburger.edu\r\n"));
        p.on_event(C, data(b"HELO cre"));
        p.on_event(C, data(b"pes.fr\r\n"));
        p.on_event(S, data(b"250 Hello \xc3\xb1\x01\xff\r\n"));
        p.on_event(
            C,
            StreamEvent::Gap {
                offset: 17,
                len: 42,
            },
        );
        p.on_event(C, data(b"QUIT"));
        let out = String::from_utf8(p.finish().unwrap()).unwrap();
        assert_eq!(
            out,
            "S: 220 hamburger.edu\nC: HELO crepes.fr\nS: 250 Hello ñ..\nC: [… 42 bytes missing …]\nC: QUIT\n"
        );
    }

    #[test]
    fn hex_dump() {
        let mut p = StreamPrinter::new(Vec::new(), StreamFormat::Hex, false);
        p.on_event(Direction::ClientToServer, data(b"EHLO a\r\n"));
        let out = String::from_utf8(p.finish().unwrap()).unwrap();
        assert_eq!(
            out,
            "C→S 8 bytes at offset 0 (packet 1)\n  00000000  45 48 4c 4f 20 61 0d 0a                           |EHLO a..|\n"
        );
    }
}
