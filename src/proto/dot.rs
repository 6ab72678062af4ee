//! Dot-stuffing: how SMTP DATA (RFC 5321 §4.5.2) and POP3 multi-line
//! responses (RFC 1939 §3) carry text that ends with a line holding only
//! a period.
//!
//! ```text
//! sender's text         on the wire            reader's text
//! Hello                 Hello                  Hello
//! .signature            ..signature            .signature
//!                       .                      (end of the data)
//! ```
//!
//! The sender doubles a period that starts a line ([`stuff`]); the reader
//! removes it and stops at the line that is a lone period ([`Unstuffer`]).
//! Both sides of the mail world and the analyzer use these two functions,
//! so there is one definition of the end of the data.
//!
//! # The end rule
//!
//! Only `<CRLF>.<CRLF>` ends the data: a period between two CRLFs, where
//! the first CRLF is the end of the previous line (or of the command that
//! opened the data: DATA, the `+OK` of RETR). RFC 5321 §4.1.1.4 says so,
//! and §2.3.8 forbids a bare LF as a line ending.
//!
//! Readers are lenient about bare LF elsewhere (a line ending in LF is
//! still a line, and its leading period is still removed), but not here:
//! a lone period with a bare LF before or after it (`<LF>.<LF>`,
//! `<CRLF>.<LF>`, `<LF>.<CRLF>`) is reported as
//! [`DotLine::BareLfDot`] and read as text. Servers that disagree on this
//! point are what SMTP smuggling exploits (CVE-2023-51764/51765/51766):
//! one server ends the message at `<LF>.<LF>`, the next reads on, and the
//! bytes after it become a second, forged message.
//!
//! The same research found servers that end the data at a lone period
//! between bare CRs (`<CR>.<CR>`, `<CRLF>.<CR>`, `<CR>.<CRLF>`, …). The
//! reader cuts lines at LF only, so those are text of one line here; the
//! reader still remembers that it saw one ([`Unstuffer::saw_bare_dot`]),
//! so that a server can refuse such a message and the analyzer can flag
//! it. Any CR inside a line's text is a bare CR: a CR before the LF is
//! part of the line's ending.
//!
//! A client that ends *every* line with a bare LF (old scripts, some test
//! tools: real captures hold them) means its `<LF>.<LF>` as the end, and
//! a lenient server and a relay that turns each LF into CRLF agree with
//! it: nothing can be smuggled. So a lone period with bare LFs counts
//! only where the data mixes endings: the command that opened it or a
//! line of it ended with CRLF, before or after that period. (The
//! attack needs the mix: CRLF lines that a strict reader takes as text
//! around an end that a lenient one takes as the end.)

use super::lines::{Ending, Line};

/// Writes `text` as dot-stuffed lines followed by the terminator `.CRLF`:
/// every line ends with CRLF (a bare LF becomes CRLF, RFC 5321 §2.3.8; a
/// last line without ending gets one), and a line that starts with "."
/// gets a second one, so no line of the text can be taken for the end.
pub(crate) fn stuff(text: &[u8], out: &mut Vec<u8>) {
    out.reserve(text.len() + text.len() / 64 + 5);
    for line in text.split_inclusive(|b| *b == b'\n') {
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}

/// What one line of dot-stuffed data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DotLine<'a> {
    /// Text of the message: the line without its ending, its stuffed
    /// period removed.
    Text(&'a [u8]),
    /// `<CRLF>.<CRLF>`: the end of the data.
    End,
    /// A lone period with a bare LF before or after it. It is not the end
    /// (see the module documentation); the slice is the line as text (the
    /// period is kept: a sender that stuffs would have sent "..").
    BareLfDot(&'a [u8]),
}

/// Reads dot-stuffed data line by line (streaming: it keeps only where
/// the previous line ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Unstuffer {
    position: Position,
    /// A lone period delimited by a bare LF or a bare CR was read since
    /// the data began, in data that mixes line endings (see
    /// [`Unstuffer::saw_bare_dot`]).
    bare_dot: bool,
    /// The data (or the command that opened it) had a line ending with
    /// CRLF.
    crlf_seen: bool,
    /// A lone period between bare LFs was read while no CRLF had been
    /// seen: it counts if a CRLF line follows.
    lf_dot_waiting: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    /// At the start of a line; `after_crlf` when the previous line ended
    /// with CRLF (the first half of `<CRLF>.<CRLF>`).
    LineStart { after_crlf: bool },
    /// Inside a line that came in pieces (an over-long line cut by the
    /// reader): the next piece is not the start of a line.
    MidLine,
}

impl Default for Unstuffer {
    /// As after a command that ended with CRLF.
    fn default() -> Self {
        Self::after(Ending::CrLf)
    }
}

impl Unstuffer {
    /// Data that starts after a line (DATA, `+OK …`) ending with `ending`.
    pub(crate) fn after(ending: Ending) -> Self {
        let position = match ending {
            Ending::None => Position::MidLine,
            _ => Position::LineStart {
                after_crlf: ending == Ending::CrLf,
            },
        };
        Unstuffer {
            position,
            bare_dot: false,
            crlf_seen: ending == Ending::CrLf,
            lf_dot_waiting: false,
        }
    }

    /// Whether the data so far held a lone period with a bare LF or a
    /// bare CR before or after it (`<LF>.<LF>`, `<CR>.<CR>`, `<CRLF>.<LF>`,
    /// `<CR>.<CRLF>`, …): not the end here, but the end for a server that
    /// accepts bare line endings, which is what SMTP smuggling exploits.
    /// `<LF>.<LF>` from a client that ends every line with a bare LF is
    /// not counted (see the module documentation).
    pub(crate) fn saw_bare_dot(&self) -> bool {
        self.bare_dot
    }

    /// Whether the next line starts a line (not the rest of one that came
    /// in pieces).
    pub(crate) fn at_line_start(&self) -> bool {
        matches!(self.position, Position::LineStart { .. })
    }

    /// The next line (`text` without its ending). A piece of a line
    /// ([`Ending::None`]) is text as it is, and so is the piece after it.
    pub(crate) fn line<'a>(&mut self, text: &'a [u8], ending: Ending) -> DotLine<'a> {
        self.next(text, ending, memchr::memchr(b'\r', text).is_some())
    }

    /// [`line`](Self::line) for a line of the analyzer's [`LineReader`]
    /// (`proto::lines`), which found the line's bare CRs while looking for
    /// its end: nearly every line has none, and is not scanned again.
    ///
    /// [`LineReader`]: super::lines::LineReader
    pub(crate) fn read_line<'a>(&mut self, line: &Line<'a>) -> DotLine<'a> {
        self.next(line.text, line.ending, line.bare_cr)
    }

    fn next<'a>(&mut self, text: &'a [u8], ending: Ending, bare_cr: bool) -> DotLine<'a> {
        let at_start = self.position;
        self.position = match ending {
            Ending::None => Position::MidLine,
            _ => Position::LineStart {
                after_crlf: ending == Ending::CrLf,
            },
        };
        let line_start = matches!(at_start, Position::LineStart { .. });
        if bare_cr && hides_bare_cr_dot(text, line_start, ending) {
            self.bare_dot = true;
        }
        if ending == Ending::CrLf {
            self.crlf_seen = true;
            self.bare_dot |= self.lf_dot_waiting;
        }
        let Position::LineStart { after_crlf } = at_start else {
            return DotLine::Text(text);
        };
        match (text, ending) {
            (b".", Ending::CrLf) if after_crlf => DotLine::End,
            (b".", Ending::CrLf | Ending::Lf) => {
                // `<CRLF>.<LF>` and `<LF>.<CRLF>` mix endings by
                // themselves; `<LF>.<LF>` does if a CRLF came before.
                if self.crlf_seen {
                    self.bare_dot = true;
                } else {
                    self.lf_dot_waiting = true;
                }
                DotLine::BareLfDot(text)
            }
            // RFC 5321 §4.5.2: "If the first character is a period and
            // there are other characters on the line, the first character
            // is deleted." (A lone period cut by the end of the flow has
            // lost its dot too: it could only have been stuffed or the end.)
            ([b'.', rest @ ..], _) => DotLine::Text(rest),
            _ => DotLine::Text(text),
        }
    }

    /// Bytes were lost (a gap in the capture): the next line is read as the
    /// start of a line after a CRLF, since nothing says otherwise.
    pub(crate) fn gap(&mut self) {
        *self = Unstuffer {
            bare_dot: self.bare_dot,
            lf_dot_waiting: self.lf_dot_waiting,
            ..Self::default()
        };
    }
}

/// Whether one line (its text without the ending) holds a lone period
/// next to a bare CR: `<CR>.<CR>` inside it, `.<CR>` at its start (after
/// the previous line's ending) or `<CR>.` at its end (before its own LF or
/// CRLF). A CR inside the text is bare: the CR of a CRLF ending is not
/// part of the text. A line cut in pieces ([`Ending::None`]) has no
/// ending to count.
fn hides_bare_cr_dot(text: &[u8], line_start: bool, ending: Ending) -> bool {
    // Only for a text known to hold a CR (see `Unstuffer::next`).
    let Some(first_cr) = memchr::memchr(b'\r', text) else {
        return false;
    };
    (line_start && first_cr == 1 && text[0] == b'.' && text.len() > 2)
        || (ending != Ending::None && text.ends_with(b"\r."))
        || memchr::memmem::find(&text[first_cr..], b"\r.\r").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stuffed(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        stuff(text, &mut out);
        out
    }

    /// Reads `wire` as the analyzer's line reader cuts it: the text read
    /// back and what ended it.
    fn unstuff(wire: &[u8]) -> (Vec<u8>, Option<&'static str>) {
        let mut u = Unstuffer::default();
        let mut text = Vec::new();
        for line in wire.split_inclusive(|b| *b == b'\n') {
            let (content, ending) = match line.strip_suffix(b"\n") {
                Some(l) => match l.strip_suffix(b"\r") {
                    Some(l) => (l, Ending::CrLf),
                    None => (l, Ending::Lf),
                },
                None => (line, Ending::None),
            };
            match u.line(content, ending) {
                DotLine::End => return (text, Some("end")),
                DotLine::Text(t) | DotLine::BareLfDot(t) => {
                    text.extend_from_slice(t);
                    text.extend_from_slice(ending.as_bytes());
                }
            }
        }
        (text, None)
    }

    #[test]
    fn stuffing_doubles_leading_dots_and_terminates() {
        assert_eq!(
            stuffed(b"Hello\r\n.sig\r\n..\r\n.\r\n"),
            b"Hello\r\n..sig\r\n...\r\n..\r\n.\r\n"
        );
        assert_eq!(stuffed(b""), b".\r\n");
        assert_eq!(stuffed(b"no ending"), b"no ending\r\n.\r\n");
        // RFC 5321 §2.3.8: a bare LF goes out as CRLF, so the terminator
        // always follows a CRLF.
        assert_eq!(stuffed(b"a\nb\n"), b"a\r\nb\r\n.\r\n");
    }

    #[test]
    fn what_is_stuffed_reads_back_the_same() {
        for text in [
            &b"Subject: dots\r\n\r\n.leading\r\n..\r\n.\r\nend\r\n"[..],
            b".\r\n",
            b"",
            b"x\r\n",
        ] {
            assert_eq!(unstuff(&stuffed(text)), (text.to_vec(), Some("end")));
        }
    }

    #[test]
    fn only_crlf_dot_crlf_ends_the_data() {
        assert_eq!(unstuff(b"a\r\n.\r\nQUIT\r\n").1, Some("end"));
        // The smuggling variants: read on, the lone period kept as text.
        for wire in [&b"a\n.\nb\r\n"[..], b"a\r\n.\nb\r\n", b"a\n.\r\nb\r\n"] {
            let (text, end) = unstuff(wire);
            assert_eq!(end, None, "{wire:?}");
            assert_eq!(text, wire, "{wire:?}");
        }
    }

    #[test]
    fn the_bare_lf_dot_is_reported() {
        let mut u = Unstuffer::default();
        assert_eq!(u.line(b"a", Ending::Lf), DotLine::Text(b"a"));
        assert_eq!(u.line(b".", Ending::Lf), DotLine::BareLfDot(b"."));
        assert_eq!(u.line(b".", Ending::CrLf), DotLine::BareLfDot(b"."));
        assert_eq!(u.line(b".", Ending::CrLf), DotLine::End);
    }

    #[test]
    fn a_lone_dot_next_to_a_bare_cr_is_text_but_remembered() {
        // What the reader made of each variant, and whether it noticed.
        let seen = |wire: &[u8]| {
            let mut u = Unstuffer::default();
            let mut end = false;
            for line in wire.split_inclusive(|b| *b == b'\n') {
                let (content, ending) = match line.strip_suffix(b"\n") {
                    Some(l) => match l.strip_suffix(b"\r") {
                        Some(l) => (l, Ending::CrLf),
                        None => (l, Ending::Lf),
                    },
                    None => (line, Ending::None),
                };
                end |= u.line(content, ending) == DotLine::End;
            }
            (u.saw_bare_dot(), end)
        };
        for wire in [
            &b"a\r.\rMAIL FROM:<x@y>\r\n.\r\n"[..],
            b"a\r\n.\rMAIL FROM:<x@y>\r\n.\r\n",
            b"a\r.\r\nMAIL FROM:<x@y>\r\n.\r\n",
            b"a\r.\nMAIL FROM:<x@y>\r\n.\r\n",
            b"a\n.\rMAIL FROM:<x@y>\r\n.\r\n",
            b"a\n.\nb\r\n.\r\n",
            b"a\r\n.\nb\r\n.\r\n",
            b"a\n.\r\nb\r\n.\r\n",
        ] {
            assert_eq!(seen(wire), (true, true), "{wire:?}");
        }
        // Bare LFs and CRs without a lone period, and stuffed periods,
        // are ordinary text.
        for wire in [
            &b"a\nb\n.b\r\n..\r\n\r.x\r\n.\r\n"[..],
            b"x\r.y\r\n.\r\n",
            b"..\r\n.\r\n",
        ] {
            assert_eq!(seen(wire), (false, true), "{wire:?}");
        }
        // A gap does not forget it.
        let mut u = Unstuffer::default();
        u.line(b"a\r.\rb", Ending::CrLf);
        u.gap();
        assert!(u.saw_bare_dot());
    }

    #[test]
    fn a_client_that_speaks_only_bare_lf_smuggles_nothing() {
        // Every line ends with LF, DATA's own too: its "." is its end, and
        // every reader that accepts LF agrees.
        let mut u = Unstuffer::after(Ending::Lf);
        assert_eq!(
            u.line(b"Subject: lf", Ending::Lf),
            DotLine::Text(b"Subject: lf")
        );
        assert_eq!(u.line(b".", Ending::Lf), DotLine::BareLfDot(b"."));
        assert_eq!(u.line(b"QUIT", Ending::Lf), DotLine::Text(b"QUIT"));
        assert!(!u.saw_bare_dot());
        // A CRLF line after it mixes the endings: now it counts.
        assert_eq!(
            u.line(b"MAIL FROM:<x@y>", Ending::CrLf),
            DotLine::Text(b"MAIL FROM:<x@y>")
        );
        assert!(u.saw_bare_dot());
        // So does the same "." after DATA ended with CRLF.
        let mut u = Unstuffer::after(Ending::CrLf);
        u.line(b"a", Ending::Lf);
        u.line(b".", Ending::Lf);
        assert!(u.saw_bare_dot());
    }

    #[test]
    fn the_command_before_the_data_counts() {
        // An empty message: DATA's own CRLF is the first half.
        assert_eq!(
            Unstuffer::after(Ending::CrLf).line(b".", Ending::CrLf),
            DotLine::End
        );
        assert_eq!(
            Unstuffer::after(Ending::Lf).line(b".", Ending::CrLf),
            DotLine::BareLfDot(b".")
        );
    }

    #[test]
    fn pieces_of_a_long_line_are_not_line_starts() {
        let mut u = Unstuffer::default();
        assert_eq!(u.line(b"xxxx", Ending::None), DotLine::Text(b"xxxx"));
        assert_eq!(u.line(b".", Ending::CrLf), DotLine::Text(b"."));
        assert_eq!(u.line(b"..y", Ending::CrLf), DotLine::Text(b".y"));
        u.gap();
        assert_eq!(u.line(b".", Ending::CrLf), DotLine::End);
    }
}
