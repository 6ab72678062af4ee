//! Cutting one direction of a stream into protocol lines, without copying.
//!
//! SMTP, POP3 and IMAP are line protocols: every command and reply ends with
//! CRLF (RFC 5321 §2.3.8, RFC 1939 §3, RFC 9051 §2.2). Real traffic also has
//! bare LF line ends, so a lone `\n` ends a line too and the line says which
//! ending it had (a finding for the analyzer, a detail for the transcript).
//!
//! The reader is fed the stream in arbitrary pieces (TCP segments). Like
//! mini-redis' frame parser it answers "here is a line" or "need more bytes":
//! a line that lies entirely inside one piece is returned as a slice of that
//! piece (no copy); only a line split across pieces is gathered in a buffer.
//!
//! It also switches to counted bytes when the protocol says "N bytes follow"
//! (SMTP BDAT, IMAP literals `{n}`): [`LineReader::take`] hands out up to N
//! bytes whatever they contain.
//!
//! The reader counts stream offsets (gaps included), so every line knows
//! where it started and ended: that is how a transcript line finds the
//! packets that carried it.

/// Longest line kept whole. RFC 5321 §4.5.3.1.6 allows 1000 octets for a
/// text line and IMAP has no limit, so this is generous; a longer line is
/// handed out in pieces marked [`Line::overlong`] and memory stays bounded.
pub const MAX_LINE: usize = 64 * 1024;

/// How a line ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// `\r\n`, as the RFCs require.
    CrLf,
    /// A bare `\n`.
    Lf,
    /// No ending: the line was cut at [`MAX_LINE`], by a gap, or by the end
    /// of the flow.
    None,
}

impl Ending {
    /// The ending as it was on the wire.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Ending::CrLf => b"\r\n",
            Ending::Lf => b"\n",
            Ending::None => b"",
        }
    }
}

/// One line, without its ending.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    pub text: &'a [u8],
    pub ending: Ending,
    /// Stream offsets of the first byte and one past the ending.
    pub start: u64,
    pub end: u64,
    /// Cut at [`MAX_LINE`]: the rest of the line follows as further pieces.
    pub overlong: bool,
    /// The text holds a CR, which is a bare CR (RFC 5321 §2.3.8 forbids
    /// it): the CR of a CRLF ending is not part of the text. The scan that
    /// finds the line's end finds it too, so the dot-stuffing reader's
    /// smuggling check (`proto::dot`) need not scan the line again.
    pub bare_cr: bool,
}

impl Line<'_> {
    /// The line with its ending, as it was on the wire (for message bodies).
    pub fn wire_len(&self) -> u64 {
        self.end - self.start
    }
}

/// Splits one direction into lines (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct LineReader {
    /// Bytes of a line that started in an earlier piece.
    partial: Vec<u8>,
    /// Stream offset of the first byte of `partial`.
    partial_start: u64,
    /// Stream offset of the next byte to be fed.
    pos: u64,
    /// The previous piece handed out was cut at `MAX_LINE` (so the next one
    /// continues the same line).
    in_overlong: bool,
    /// Counted bytes handed out of `partial` by [`LineReader::take`].
    held: Vec<u8>,
}

/// Counted bytes handed out by [`LineReader::take`].
#[derive(Clone, Copy, Debug)]
pub struct Taken<'a> {
    pub bytes: &'a [u8],
    /// Stream offset of the first byte.
    pub start: u64,
}

impl LineReader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stream offset of the next byte not yet handed out.
    pub fn position(&self) -> u64 {
        self.pos - self.partial.len() as u64
    }

    /// Bytes held for an unfinished line.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }

    /// True while the previous line was cut at [`MAX_LINE`] and its
    /// continuation is still to come.
    pub fn in_overlong_line(&self) -> bool {
        self.in_overlong
    }

    /// The next complete line from `input` (plus what was held back), or
    /// `None` when more bytes are needed; then all of `input` was consumed.
    pub fn next_line<'a, 'b: 'a>(&'a mut self, input: &mut &'b [u8]) -> Option<Line<'a>> {
        if self.partial.is_empty() {
            let start = self.pos;
            let (nl, bare_cr) = line_end(input);
            return match nl {
                Some(i) if i < MAX_LINE => {
                    let (line, rest) = input.split_at(i + 1);
                    *input = rest;
                    self.pos += line.len() as u64;
                    self.in_overlong = false;
                    Some(ended(line, start, Some(bare_cr)))
                }
                _ if input.len() >= MAX_LINE => {
                    let (line, rest) = input.split_at(MAX_LINE);
                    *input = rest;
                    self.pos += MAX_LINE as u64;
                    self.in_overlong = true;
                    Some(cut(line, start))
                }
                _ => {
                    self.partial_start = self.pos;
                    self.partial.extend_from_slice(input);
                    self.pos += input.len() as u64;
                    *input = &[];
                    None
                }
            };
        }
        // A line started in an earlier piece: gather it in `partial`.
        let room = MAX_LINE - self.partial.len();
        match memchr_nl(input) {
            Some(i) if i < room => {
                self.partial.extend_from_slice(&input[..=i]);
                self.pos += i as u64 + 1;
                *input = &input[i + 1..];
                self.in_overlong = false;
                // `held` takes the line so `partial` is free for the next
                // one; both keep their allocations.
                std::mem::swap(&mut self.held, &mut self.partial);
                self.partial.clear();
                Some(ended(&self.held, self.partial_start, None))
            }
            _ if input.len() >= room => {
                self.partial.extend_from_slice(&input[..room]);
                self.pos += room as u64;
                *input = &input[room..];
                self.in_overlong = true;
                std::mem::swap(&mut self.held, &mut self.partial);
                self.partial.clear();
                Some(cut(&self.held, self.partial_start))
            }
            _ => {
                self.partial.extend_from_slice(input);
                self.pos += input.len() as u64;
                *input = &[];
                None
            }
        }
    }

    /// Up to `n` bytes as they are (counted data: BDAT chunks, IMAP
    /// literals), or an empty slice when `input` is used up.
    pub fn take<'a, 'b: 'a>(&'a mut self, input: &mut &'b [u8], n: u64) -> Taken<'a> {
        if !self.partial.is_empty() {
            // Bytes gathered as the start of a line turn out to be counted
            // data: hand them out first.
            let k = n.min(self.partial.len() as u64) as usize;
            let start = self.partial_start;
            self.held.clear();
            self.held.extend(self.partial.drain(..k));
            self.partial_start += k as u64;
            return Taken {
                bytes: &self.held,
                start,
            };
        }
        let k = n.min(input.len() as u64) as usize;
        let (taken, rest) = input.split_at(k);
        *input = rest;
        let start = self.pos;
        self.pos += k as u64;
        Taken {
            bytes: taken,
            start,
        }
    }

    /// Bytes missing from the capture: a line in progress is lost (its
    /// bytes are returned so the caller can show what was there), and
    /// counting resumes after the gap.
    pub fn gap(&mut self, len: u64) -> Option<Vec<u8>> {
        self.pos += len;
        self.in_overlong = false;
        (!self.partial.is_empty()).then(|| std::mem::take(&mut self.partial))
    }

    /// The end of the flow: the last line, if it had no ending.
    pub fn finish(&mut self) -> Option<Line<'_>> {
        if self.partial.is_empty() {
            return None;
        }
        std::mem::swap(&mut self.held, &mut self.partial);
        self.partial.clear();
        let start = self.partial_start;
        Some(Line {
            text: &self.held,
            ending: Ending::None,
            start,
            end: start + self.held.len() as u64,
            overlong: false,
            bare_cr: has_cr(&self.held),
        })
    }
}

/// A line with its LF at the end; `bare_cr` when the scan that found the
/// LF already knows (else the text is scanned for it: a line gathered
/// from pieces).
fn ended(line: &[u8], start: u64, bare_cr: Option<bool>) -> Line<'_> {
    let end = start + line.len() as u64;
    let body = &line[..line.len() - 1];
    let (text, ending) = match body.strip_suffix(b"\r") {
        Some(t) => (t, Ending::CrLf),
        None => (body, Ending::Lf),
    };
    Line {
        text,
        ending,
        start,
        end,
        overlong: false,
        bare_cr: bare_cr.unwrap_or_else(|| has_cr(text)),
    }
}

fn cut(line: &[u8], start: u64) -> Line<'_> {
    Line {
        text: line,
        ending: Ending::None,
        start,
        end: start + line.len() as u64,
        overlong: true,
        bare_cr: has_cr(line),
    }
}

/// Position of the first `\n` (memchr scans many bytes per instruction:
/// this is the analyzer's hottest loop).
fn memchr_nl(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

/// The position of the first `\n`, and whether a CR other than the one
/// right before it comes first (a bare CR, see [`Line::bare_cr`]; also
/// when no `\n` follows the CR in `bytes`). One scan for either byte
/// settles nearly every line: its first CR is the CR of its CRLF.
fn line_end(bytes: &[u8]) -> (Option<usize>, bool) {
    match memchr::memchr2(b'\n', b'\r', bytes) {
        Some(i) if bytes[i] == b'\n' => (Some(i), false),
        Some(i) if bytes.get(i + 1) == Some(&b'\n') => (Some(i + 1), false),
        Some(i) => (memchr_nl(&bytes[i + 1..]).map(|j| i + 1 + j), true),
        None => (None, false),
    }
}

fn has_cr(text: &[u8]) -> bool {
    memchr::memchr(b'\r', text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(pieces: &[&[u8]]) -> Vec<(String, Ending, u64, u64)> {
        let mut r = LineReader::new();
        let mut out = Vec::new();
        for piece in pieces {
            let mut input = *piece;
            while let Some(l) = r.next_line(&mut input) {
                out.push((
                    String::from_utf8_lossy(l.text).into_owned(),
                    l.ending,
                    l.start,
                    l.end,
                ));
            }
            assert!(input.is_empty());
        }
        if let Some(l) = r.finish() {
            out.push((
                String::from_utf8_lossy(l.text).into_owned(),
                l.ending,
                l.start,
                l.end,
            ));
        }
        out
    }

    #[test]
    fn splits_crlf_lf_and_pieces() {
        let got = lines_of(&[b"220 hamburger.edu\r\nHELO cre", b"pes.fr\n", b"QUIT"]);
        assert_eq!(
            got,
            vec![
                ("220 hamburger.edu".into(), Ending::CrLf, 0, 19),
                ("HELO crepes.fr".into(), Ending::Lf, 19, 34),
                ("QUIT".into(), Ending::None, 34, 38),
            ]
        );
    }

    #[test]
    fn crlf_split_between_pieces() {
        let got = lines_of(&[b"250 OK\r", b"\n"]);
        assert_eq!(got, vec![("250 OK".into(), Ending::CrLf, 0, 8)]);
    }

    #[test]
    fn bare_cr_is_found_with_the_line_end() {
        let wire: &[u8] = b"a\r\nb\rc\r\n.\r\r\nd\r\re\nf\n\r";
        let mut want = Vec::new();
        let mut r = LineReader::new();
        let mut input = wire;
        while let Some(l) = r.next_line(&mut input) {
            want.push((l.text.to_vec(), l.bare_cr));
        }
        if let Some(l) = r.finish() {
            want.push((l.text.to_vec(), l.bare_cr));
        }
        let expected: Vec<(Vec<u8>, bool)> = [
            (&b"a"[..], false),
            (b"b\rc", true),
            (b".\r", true),
            (b"d\r\re", true),
            (b"f", false),
            (b"\r", true),
        ]
        .iter()
        .map(|(t, cr)| (t.to_vec(), *cr))
        .collect();
        assert_eq!(want, expected);
        // Cut anywhere, a line gathered from pieces says the same.
        for at in 1..wire.len() {
            let mut r = LineReader::new();
            let mut got = Vec::new();
            for piece in [&wire[..at], &wire[at..]] {
                let mut input = piece;
                while let Some(l) = r.next_line(&mut input) {
                    got.push((l.text.to_vec(), l.bare_cr));
                }
            }
            if let Some(l) = r.finish() {
                got.push((l.text.to_vec(), l.bare_cr));
            }
            assert_eq!(got, expected, "cut at {at}");
        }
    }

    #[test]
    fn overlong_lines_come_in_pieces() {
        let long = vec![b'a'; MAX_LINE + 10];
        let mut input: &[u8] = &long;
        let mut r = LineReader::new();
        let first = r.next_line(&mut input).unwrap();
        assert!(first.overlong);
        assert_eq!(first.text.len(), MAX_LINE);
        assert!(r.next_line(&mut input).is_none());
        assert!(r.in_overlong_line());
        let mut rest: &[u8] = b"\r\n";
        let second = r.next_line(&mut rest).unwrap();
        assert_eq!((second.text.len(), second.ending), (10, Ending::CrLf));
        assert!(!r.in_overlong_line());
    }

    #[test]
    fn counted_bytes_and_gaps() {
        let mut r = LineReader::new();
        let mut input: &[u8] = b"BDAT 5\r\nhello";
        let line = r.next_line(&mut input).unwrap();
        assert_eq!(line.text, b"BDAT 5");
        let t = r.take(&mut input, 5);
        assert_eq!((t.bytes, t.start), (&b"hello"[..], 8));
        let mut more: &[u8] = b"QU";
        assert!(r.next_line(&mut more).is_none());
        assert_eq!(r.gap(100), Some(b"QU".to_vec()));
        let mut after: &[u8] = b"NOOP\r\n";
        let l = r.next_line(&mut after).unwrap();
        assert_eq!((l.start, l.end), (115, 121));
    }
}
