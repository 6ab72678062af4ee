//! IMAP's data formats (RFC 3501 §4, §9) in both directions: the tokenizer
//! that turns a command into a tree of [`Tok`] values (atoms, quoted
//! strings, literals, parenthesized lists), and the writers of strings in
//! responses (quoted, literal, NIL).

use super::MAX_DEPTH;
use super::reader::Segment;

// ---------------------------------------------------------------------------
// The tokenizer (RFC 3501 §4, §9)
// ---------------------------------------------------------------------------

/// One argument of a command.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// An atom, including things like `\Seen`, `1:*` and
    /// `BODY[HEADER.FIELDS (SUBJECT)]<0.100>` (brackets may hold spaces).
    Atom(String),
    /// A quoted string or a literal.
    Str(Vec<u8>),
    /// A parenthesized list.
    List(Vec<Tok>),
}

impl Tok {
    /// The text of an atom; None for strings and lists.
    pub(super) fn atom(&self) -> Option<&str> {
        match self {
            Tok::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// An astring (§9: atom or string) as text.
    pub(super) fn astring_text(&self) -> Option<String> {
        match self {
            Tok::Atom(a) => Some(a.clone()),
            Tok::Str(s) => Some(String::from_utf8_lossy(s).into_owned()),
            Tok::List(_) => None,
        }
    }
}

/// Turn a command (its lines and literals) into tokens. Literals are moved
/// out of `segments`, not copied.
pub(super) fn tokenize(segments: &mut [Segment]) -> Result<Vec<Tok>, String> {
    let mut t = Tokenizer {
        segs: segments,
        seg: 0,
        pos: 0,
    };
    t.sequence(0, false)
}

struct Tokenizer<'a> {
    segs: &'a mut [Segment],
    seg: usize,
    pos: usize,
}

impl Tokenizer<'_> {
    fn line(&self) -> &[u8] {
        match self.segs.get(self.seg) {
            Some(Segment::Line(l)) => l,
            _ => &[],
        }
    }

    fn peek(&self) -> Option<u8> {
        self.line().get(self.pos).copied()
    }

    /// Tokens up to the end of the command, or up to `)` inside a list.
    fn sequence(&mut self, depth: usize, in_list: bool) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        loop {
            while self.peek() == Some(b' ') {
                self.pos += 1;
            }
            match self.peek() {
                None if in_list => return Err("missing )".into()),
                None => return Ok(out),
                Some(b')') if in_list => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b')') => return Err("unexpected )".into()),
                Some(b'(') => {
                    if depth >= MAX_DEPTH {
                        return Err("lists nested too deeply".into());
                    }
                    self.pos += 1;
                    out.push(Tok::List(self.sequence(depth + 1, true)?));
                }
                Some(b'"') => out.push(Tok::Str(self.quoted()?)),
                Some(b'{') => out.push(Tok::Str(self.literal()?)),
                Some(_) => out.push(Tok::Atom(self.atom()?)),
            }
        }
    }

    /// `"..."` with `\"` and `\\` escapes (§4.3); one line at most.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string".into()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        _ => return Err("bad escape in quoted string".into()),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `{n}` at the end of a line: the bytes are the next segment, and the
    /// command goes on with the line after it (§4.3).
    fn literal(&mut self) -> Result<Vec<u8>, String> {
        let line_len = self.line().len();
        let close = self.line()[self.pos..]
            .iter()
            .position(|&b| b == b'}')
            .ok_or("bad literal")?;
        if self.pos + close + 1 != line_len {
            return Err("a literal must end the line".into());
        }
        let Some(Segment::Literal(bytes)) = self.segs.get_mut(self.seg + 1) else {
            return Err("missing literal data".into());
        };
        let bytes = std::mem::take(bytes);
        self.seg += 2;
        self.pos = 0;
        Ok(bytes)
    }

    /// An atom; a `[` takes everything up to the matching `]` along, so
    /// that FETCH sections with spaces stay one token.
    fn atom(&mut self) -> Result<String, String> {
        let start = self.pos;
        let mut in_brackets = false;
        while let Some(b) = self.peek() {
            if in_brackets {
                if b == b']' {
                    in_brackets = false;
                }
            } else {
                match b {
                    b' ' | b'(' | b')' | b'"' | b'{' => break,
                    b'[' => in_brackets = true,
                    _ => {}
                }
            }
            self.pos += 1;
        }
        if in_brackets {
            return Err("missing ]".into());
        }
        Ok(String::from_utf8_lossy(&self.line()[start..self.pos]).into_owned())
    }
}

// ---------------------------------------------------------------------------
// Writing strings (RFC 3501 §4.3)
// ---------------------------------------------------------------------------

/// A string: quoted when it is short, printable ASCII; otherwise a
/// literal (quoted strings cannot hold CR, LF or 8-bit bytes).
pub(super) fn push_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 1024 && s.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        push_literal(out, s);
    }
}

/// An nstring (§4.5): a string, or NIL for none.
pub(super) fn push_nstring(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => push_string(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// `{n}` CRLF and the n bytes.
pub(super) fn push_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_handles_strings_lists_and_literals() {
        let mut segs = [
            Segment::Line(
                b"a1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (A B)]<0.5>) \"q\\\"x\\\\\" {3}"
                    .to_vec(),
            ),
            Segment::Literal(b"a b".to_vec()),
            Segment::Line(b" NIL".to_vec()),
        ];
        let toks = tokenize(&mut segs).unwrap();
        assert_eq!(
            toks,
            vec![
                Tok::Atom("a1".into()),
                Tok::Atom("FETCH".into()),
                Tok::Atom("1:*".into()),
                Tok::List(vec![
                    Tok::Atom("FLAGS".into()),
                    Tok::Atom("BODY.PEEK[HEADER.FIELDS (A B)]<0.5>".into())
                ]),
                Tok::Str(b"q\"x\\".to_vec()),
                Tok::Str(b"a b".to_vec()),
                Tok::Atom("NIL".into()),
            ]
        );
        let mut segs = [Segment::Line(b"a {3} x".to_vec())];
        assert!(tokenize(&mut segs).is_err());
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        let mut out = Vec::new();
        push_string(&mut out, b"say \"hi\" \\o/");
        assert_eq!(out, b"\"say \\\"hi\\\" \\\\o/\"");
        let mut out = Vec::new();
        push_string(&mut out, "Grüße".as_bytes());
        assert_eq!(out, "{7}\r\nGrüße".as_bytes());
        let mut out = Vec::new();
        push_string(&mut out, b"a\r\nb");
        assert_eq!(out, b"{4}\r\na\r\nb");
    }
}
