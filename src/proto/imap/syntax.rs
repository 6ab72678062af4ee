//! IMAP's data formats (RFC 9051 §4, RFC 3501 §4 and §9), read and written
//! here once for the analyzer, the embedded server and its clients.
//!
//! A command or a response is one *logical line*: a line, and for every
//! literal announced at its end (`{n}`, or `{n+}` of LITERAL+, RFC 7888)
//! exactly n raw bytes, after which the same logical line goes on. The
//! readers (the analyzer's stream parser, the server's socket reader, the
//! client) gather those pieces as [`Fragment`]s; [`tokenize`] turns them
//! into a tree of [`Tok`] values:
//!
//! ```text
//! a1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (A B)]) "q\"x" {3}␍␊abc NIL
//! ── ───── ─── ──────────────────────────────────────  ────── ─────── ───
//! atom atom atom list of two atoms (a [..] keeps its    quoted  literal atom
//!                spaces: it is one FETCH item)          string
//! ```
//!
//! The tokenizer reads in one of two [`Mode`]s: the server must answer BAD
//! to what is not IMAP (an unterminated string, a missing `)`), while the
//! analyzer reads what real clients and servers send and never gives up
//! on a line.
//!
//! The writers ([`emit_string`], [`emit_nstring`], [`emit_literal`],
//! [`Tok::emit`]) choose a quoted string where it can hold the bytes and a
//! literal where it cannot (§4.3: quoted strings hold no CR, LF or 8-bit
//! bytes).

/// How deep parenthesized lists (and search keys and MIME parts) may
/// nest: deep enough for any real client or message, shallow enough that
/// hostile input cannot exhaust the stack.
pub const MAX_NESTING: usize = 32;

/// How strictly the tokenizer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The server's: anything that is not IMAP is an error to answer with
    /// BAD (RFC 9051 §7.1.3).
    Strict,
    /// The analyzer's and the client's: an unterminated string ends with
    /// the line, a missing `)` is supplied, an unexpected one skipped, a
    /// `{` that announces no literal is part of an atom.
    Lenient,
}

/// One piece of a logical line, as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fragment {
    /// A line without its line ending.
    Line(Vec<u8>),
    /// The bytes of a literal announced at the end of the previous line.
    Literal(Vec<u8>),
    /// A literal whose bytes were not kept (the analyzer hands messages on
    /// as they arrive and only counts big literals): its size.
    Omitted(u64),
}

/// A literal announced at the end of a line: `{n}` (the client waits for
/// the server's `+` go-ahead, RFC 9051 §7.5) or `{n+}` (LITERAL+,
/// RFC 7888 §3: it does not wait).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiteralMarker {
    /// None when the number does not even fit 64 bits.
    pub size: Option<u64>,
    pub synchronizing: bool,
}

/// The literal marker at the end of `line` (without its line ending), if
/// any.
pub fn literal_marker(line: &[u8]) -> Option<LiteralMarker> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let mut digits = &body[open + 1..];
    let synchronizing = match digits.strip_suffix(b"+") {
        Some(d) => {
            digits = d;
            false
        }
        None => true,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let size = std::str::from_utf8(digits).ok()?.parse::<u64>().ok();
    Some(LiteralMarker {
        size,
        synchronizing,
    })
}

/// Is `word` a tag? RFC 9051 §9: `tag = 1*<any ASTRING-CHAR except "+">`,
/// that is printable ASCII but for the specials `( ) { % * " \` and `+`.
pub fn is_tag(word: &[u8]) -> bool {
    !word.is_empty()
        && word.iter().all(|&b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+')
        })
}

/// The tag of a command line: the bytes before the first space, when they
/// are a tag.
pub fn tag_of(line: &[u8]) -> Option<String> {
    let word = line.split(|&b| b == b' ').next()?;
    is_tag(word).then(|| String::from_utf8_lossy(word).into_owned())
}

/// One value of a command or response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An atom, including numbers, NIL, flags like `\Seen`, sequence sets
    /// like `1:*` and FETCH items like `BODY[HEADER.FIELDS (A B)]<0.5>` (a
    /// `[…]` may hold spaces).
    Atom(String),
    /// A quoted string or a literal: the bytes they stand for.
    Str(Vec<u8>),
    /// A parenthesized list.
    List(Vec<Tok>),
}

impl Tok {
    /// An astring to write (§9: `astring = 1*ASTRING-CHAR / string`): an
    /// atom when every byte may stand in one, so a user agent writes the
    /// textbook `LOGIN bob hungry`; otherwise a string, quoted or literal
    /// as [`Tok::emit`] decides, so `pass word` or `"` survive the trip.
    pub fn astring_of(bytes: &[u8]) -> Tok {
        // ASTRING-CHAR = ATOM-CHAR / "]"; ATOM-CHAR excludes CTL, SP and
        // atom-specials `( ) { % * " \`.
        let astring_char = |b: &u8| (0x21..0x7f).contains(b) && !b"(){%*\"\\".contains(b);
        match std::str::from_utf8(bytes) {
            Ok(text) if !bytes.is_empty() && bytes.iter().all(astring_char) => {
                Tok::Atom(text.to_string())
            }
            _ => Tok::Str(bytes.to_vec()),
        }
    }

    /// The text of an atom; None for strings and lists.
    pub fn atom(&self) -> Option<&str> {
        match self {
            Tok::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// An astring (§9: an atom or a string) as bytes.
    pub fn astring(&self) -> Option<&[u8]> {
        match self {
            Tok::Atom(a) => Some(a.as_bytes()),
            Tok::Str(s) => Some(s),
            Tok::List(_) => None,
        }
    }

    /// An astring as text (invalid UTF-8 replaced).
    pub fn astring_text(&self) -> Option<String> {
        self.astring()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// A number (§9: `number`, digits only).
    pub fn number(&self) -> Option<u64> {
        let a = self.atom()?;
        if a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        a.parse().ok()
    }

    /// Write the value: an atom as it is, a string quoted or as a
    /// synchronizing literal, a list in parentheses.
    pub fn emit(&self, out: &mut Vec<u8>) {
        self.emit_with(out, LiteralForm::Synchronizing);
    }

    pub(crate) fn emit_with(&self, out: &mut Vec<u8>, form: LiteralForm) {
        match self {
            Tok::Atom(a) => out.extend_from_slice(a.as_bytes()),
            Tok::Str(s) => emit_string_with(out, s, form),
            Tok::List(items) => {
                out.push(b'(');
                emit_all(out, items, form);
                out.push(b')');
            }
        }
    }
}

/// Values one after the other, separated by spaces.
pub(crate) fn emit_all(out: &mut Vec<u8>, toks: &[Tok], form: LiteralForm) {
    for (i, t) in toks.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        t.emit_with(out, form);
    }
}

/// Turn a logical line (its lines and literals) into values. Literals are
/// moved out of `fragments`, not copied (an APPENDed message can be
/// megabytes). Errors only in [`Mode::Strict`]; the message is the text
/// of the server's BAD.
pub fn tokenize(fragments: &mut [Fragment], mode: Mode) -> Result<Vec<Tok>, String> {
    tokenize_first(fragments, mode, usize::MAX)
}

/// Like [`tokenize`], but stops after the first `limit` values of the
/// logical line (the values inside a list count as one). The values read
/// are the ones [`tokenize`] would give: reading is strictly left to
/// right. For a caller that needs only the head of a long line (the
/// analyzer asking whether a literal belongs to a FETCH response): the
/// values it does not need are neither read nor allocated.
pub fn tokenize_first(
    fragments: &mut [Fragment],
    mode: Mode,
    limit: usize,
) -> Result<Vec<Tok>, String> {
    let mut t = Tokenizer {
        fragments,
        at: 0,
        pos: 0,
        mode,
        limit,
    };
    t.sequence(0, false)
}

struct Tokenizer<'a> {
    fragments: &'a mut [Fragment],
    /// The fragment being read, and the position in it (a line).
    at: usize,
    pos: usize,
    mode: Mode,
    /// Top-level values to read at most.
    limit: usize,
}

impl Tokenizer<'_> {
    fn line(&self) -> &[u8] {
        match self.fragments.get(self.at) {
            Some(Fragment::Line(l)) => l,
            _ => &[],
        }
    }

    fn peek(&self) -> Option<u8> {
        self.line().get(self.pos).copied()
    }

    fn lenient(&self) -> bool {
        self.mode == Mode::Lenient
    }

    /// An error in strict mode; in lenient mode the caller recovers.
    fn fail(&self, why: &str) -> Result<(), String> {
        if self.lenient() {
            Ok(())
        } else {
            Err(why.to_string())
        }
    }

    /// Past the end of the current line. Lenient: a literal that no
    /// marker claimed is a string, and a further line goes on with the
    /// same logical line. True when there is more to read.
    fn next_fragment(&mut self, out: &mut Vec<Tok>) -> bool {
        if !self.lenient() {
            return false;
        }
        while self.at + 1 < self.fragments.len() {
            self.at += 1;
            self.pos = 0;
            match &mut self.fragments[self.at] {
                Fragment::Line(_) => return true,
                Fragment::Literal(bytes) => out.push(Tok::Str(std::mem::take(bytes))),
                Fragment::Omitted(_) => out.push(Tok::Str(Vec::new())),
            }
        }
        false
    }

    /// Values up to the end of the logical line, or up to `)` in a list.
    fn sequence(&mut self, depth: usize, in_list: bool) -> Result<Vec<Tok>, String> {
        let mut out = Vec::new();
        loop {
            if depth == 0 && out.len() >= self.limit {
                return Ok(out);
            }
            while self.peek() == Some(b' ') {
                self.pos += 1;
            }
            match self.peek() {
                None if self.next_fragment(&mut out) => {}
                None => {
                    if in_list {
                        self.fail("missing )")?;
                    }
                    return Ok(out);
                }
                Some(b')') if in_list => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b')') => {
                    self.fail("unexpected )")?;
                    self.pos += 1;
                }
                Some(b'(') if depth >= MAX_NESTING => {
                    // Lenient: the list is read as if it were not one.
                    self.fail("lists nested too deeply")?;
                    self.pos += 1;
                }
                Some(b'(') => {
                    self.pos += 1;
                    out.push(Tok::List(self.sequence(depth + 1, true)?));
                }
                Some(b'"') => out.push(Tok::Str(self.quoted()?)),
                Some(b'{') => match self.literal()? {
                    Some(bytes) => out.push(Tok::Str(bytes)),
                    None => out.push(Tok::Atom(self.atom(true)?)),
                },
                Some(_) => out.push(Tok::Atom(self.atom(false)?)),
            }
        }
    }

    /// `"..."` with `\"` and `\\` escapes (§4.3), one line at most.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.fail("unterminated quoted string")?;
                    return Ok(out);
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        other => {
                            self.fail("bad escape in quoted string")?;
                            // Lenient: any escaped byte stands for itself.
                            out.push(other.unwrap_or(b'\\'));
                        }
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

    /// `{n}` at the end of a line: the bytes are the next fragment, and
    /// the logical line goes on with the line after it (§4.3). None
    /// (lenient only) when the `{` announces no literal: it starts an
    /// atom.
    fn literal(&mut self) -> Result<Option<Vec<u8>>, String> {
        let line_len = self.line().len();
        let close = self.line()[self.pos..].iter().position(|&b| b == b'}');
        let Some(close) = close else {
            self.fail("bad literal")?;
            return Ok(None);
        };
        if self.pos + close + 1 != line_len {
            self.fail("a literal must end the line")?;
            return Ok(None);
        }
        let bytes = match self.fragments.get_mut(self.at + 1) {
            Some(Fragment::Literal(bytes)) => std::mem::take(bytes),
            Some(Fragment::Omitted(_)) => Vec::new(),
            _ => {
                self.fail("missing literal data")?;
                return Ok(None);
            }
        };
        self.at += 2;
        self.pos = 0;
        Ok(Some(bytes))
    }

    /// An atom; a `[` takes everything up to the matching `]` along, so
    /// that FETCH sections with spaces stay one value. `brace`: the atom
    /// starts with a `{` that announced no literal (lenient only).
    fn atom(&mut self, brace: bool) -> Result<String, String> {
        let start = self.pos;
        if brace {
            self.pos += 1;
        }
        let ends_atom = |b: u8| matches!(b, b' ' | b'(' | b')' | b'"');
        let mut in_brackets = false;
        while let Some(b) = self.peek() {
            if in_brackets {
                in_brackets = b != b']';
            } else if ends_atom(b) || (b == b'{' && !self.lenient()) {
                break;
            } else if b == b'[' {
                in_brackets = true;
            }
            self.pos += 1;
        }
        if in_brackets {
            self.fail("missing ]")?;
            // Lenient: an unmatched `[` is an ordinary character.
            self.pos = start + 1;
            while self.peek().is_some_and(|b| !ends_atom(b)) {
                self.pos += 1;
            }
        }
        // Atoms are ASCII nearly always: checking UTF-8 and copying costs
        // a fraction of the lossy decoder's chunking, and this runs for
        // every atom of every line the analyzer reads.
        let bytes = &self.line()[start..self.pos];
        Ok(match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        })
    }
}

// ---------------------------------------------------------------------------
// Writing (RFC 9051 §4.3, §4.5)
// ---------------------------------------------------------------------------

/// How a literal is announced where one is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LiteralForm {
    /// `{n}`: what a server writes; a client waits for `+` after it.
    Synchronizing,
    /// `{n+}` (RFC 7888): a client that knows the server has LITERAL+.
    NonSynchronizing,
}

/// A string: quoted when it is short printable ASCII, otherwise a literal
/// (quoted strings cannot hold CR, LF or 8-bit bytes).
pub fn emit_string(out: &mut Vec<u8>, s: &[u8]) {
    emit_string_with(out, s, LiteralForm::Synchronizing);
}

fn emit_string_with(out: &mut Vec<u8>, s: &[u8], form: LiteralForm) {
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
        let plus = if form == LiteralForm::NonSynchronizing {
            "+"
        } else {
            ""
        };
        out.extend_from_slice(format!("{{{}{plus}}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    }
}

/// An nstring (§4.5): a string, or NIL for none.
pub fn emit_nstring(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => emit_string(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// `{n}` CRLF and the n bytes, whatever they hold (message content).
pub fn emit_literal(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &[u8]) -> Fragment {
        Fragment::Line(s.to_vec())
    }

    #[test]
    fn strings_lists_and_literals() {
        let mut frags = [
            line(b"a1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (A B)]<0.5>) \"q\\\"x\\\\\" {3}"),
            Fragment::Literal(b"a b".to_vec()),
            line(b" NIL"),
        ];
        for mode in [Mode::Strict, Mode::Lenient] {
            let toks = tokenize(&mut frags.clone(), mode).unwrap();
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
        }
        // The literal's bytes are moved, not copied.
        tokenize(&mut frags, Mode::Strict).unwrap();
        assert_eq!(frags[1], Fragment::Literal(Vec::new()));
    }

    #[test]
    fn strict_errors_and_lenient_recovery() {
        let cases: [(&[u8], &str, Vec<Tok>); 7] = [
            (
                b"a {3} x",
                "a literal must end the line",
                vec![
                    Tok::Atom("a".into()),
                    Tok::Atom("{3}".into()),
                    Tok::Atom("x".into()),
                ],
            ),
            (
                b"a \"open",
                "unterminated quoted string",
                vec![Tok::Atom("a".into()), Tok::Str(b"open".to_vec())],
            ),
            (
                b"a (b",
                "missing )",
                vec![
                    Tok::Atom("a".into()),
                    Tok::List(vec![Tok::Atom("b".into())]),
                ],
            ),
            (
                b"a b)",
                "unexpected )",
                vec![Tok::Atom("a".into()), Tok::Atom("b".into())],
            ),
            (
                b"a \"x\\y\"",
                "bad escape in quoted string",
                vec![Tok::Atom("a".into()), Tok::Str(b"xy".to_vec())],
            ),
            (
                b"a BODY[x",
                "missing ]",
                vec![Tok::Atom("a".into()), Tok::Atom("BODY[x".into())],
            ),
            (
                b"a {3}",
                "missing literal data",
                vec![Tok::Atom("a".into()), Tok::Atom("{3}".into())],
            ),
        ];
        for (text, why, lenient) in cases {
            assert_eq!(tokenize(&mut [line(text)], Mode::Strict), Err(why.into()));
            assert_eq!(
                tokenize(&mut [line(text)], Mode::Lenient).unwrap(),
                lenient,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        let deep = format!("{}x{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(
            tokenize(&mut [line(deep.as_bytes())], Mode::Strict),
            Err("lists nested too deeply".into())
        );
        assert!(tokenize(&mut [line(deep.as_bytes())], Mode::Lenient).is_ok());
    }

    #[test]
    fn lenient_reads_omitted_and_unclaimed_literals() {
        let mut frags = [
            line(b"* 1 FETCH (BODY[] {4}"),
            Fragment::Omitted(4),
            line(b")"),
        ];
        assert_eq!(
            tokenize(&mut frags, Mode::Lenient).unwrap(),
            vec![
                Tok::Atom("*".into()),
                Tok::Atom("1".into()),
                Tok::Atom("FETCH".into()),
                Tok::List(vec![Tok::Atom("BODY[]".into()), Tok::Str(Vec::new())]),
            ]
        );
    }

    #[test]
    fn literal_markers() {
        let m = |s: &[u8]| literal_marker(s).map(|m| (m.size, m.synchronizing));
        assert_eq!(m(b"a LOGIN {3}"), Some((Some(3), true)));
        assert_eq!(m(b"a APPEND x {49+}"), Some((Some(49), false)));
        assert_eq!(m(b"{99999999999999999999999}"), Some((None, true)));
        assert_eq!(m(b"a {x}"), None);
        assert_eq!(m(b"a {}"), None);
        assert_eq!(m(b"a {3} "), None);
        assert_eq!(tag_of(b"a1 NOOP").as_deref(), Some("a1"));
        assert_eq!(tag_of(b"+a NOOP"), None);
        assert_eq!(tag_of(b"* OK"), None);
    }

    #[test]
    fn strings_are_quoted_or_literal() {
        let mut out = Vec::new();
        emit_string(&mut out, b"say \"hi\" \\o/");
        assert_eq!(out, b"\"say \\\"hi\\\" \\\\o/\"");
        let mut out = Vec::new();
        emit_string(&mut out, "Grüße".as_bytes());
        assert_eq!(out, "{7}\r\nGrüße".as_bytes());
        let mut out = Vec::new();
        emit_nstring(&mut out, None);
        Tok::List(vec![
            Tok::Atom("\\Seen".into()),
            Tok::Str(b"a\r\nb".to_vec()),
        ])
        .emit_with(&mut out, LiteralForm::NonSynchronizing);
        assert_eq!(out, b"NIL(\\Seen {4+}\r\na\r\nb)");
    }
}
