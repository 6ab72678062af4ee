//! IMAP as seen on the wire (IMAP4rev1 RFC 3501, IMAP4rev2 RFC 9051), with
//! LITERAL+ (RFC 7888) and SASL-IR (RFC 4959).
//!
//! ```text
//! S: * OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hamburger.edu ready
//! C: a1 LOGIN bob hungry                        every command has a tag…
//! S: a1 OK Logged in                            …and ends with a tagged reply
//! C: a2 SELECT INBOX
//! S: * 1 EXISTS                                 untagged data ("*") may come
//! S: a2 OK [READ-WRITE] Select completed.       at any time
//! C: a3 FETCH 1 (FLAGS BODY[])
//! S: * 1 FETCH (FLAGS (\Seen) BODY[] {1679}     a literal: exactly 1679 bytes
//! S: …the message, 1679 bytes, no quoting…      follow, whatever they hold,
//! S: )                                          then the line goes on
//! S: a3 OK Fetch completed.
//! ```
//!
//! Literals (RFC 9051 §4.3) travel both ways: the server sends messages in
//! them, the client sends APPENDed messages and sometimes a user name or
//! password (`a LOGIN {3}` … `bob {6}` … `hungry`). A line that ends in
//! `{n}` (or `{n+}`, which does not wait for the server's `+` go-ahead) is
//! followed by n raw bytes and then the *same* logical line continues. The
//! parser therefore reads "logical lines": text pieces and literals, in
//! order, until a line ends without a literal announcement.

use std::collections::{HashMap, VecDeque};

use super::incoming::Incoming;
use super::lines::{Ending, Line, LineReader};
use super::sasl::SaslExchange;
use super::{MailParser, quote, text};
use crate::flow::Direction;
use crate::trace::{Credential, Dialogue, FindingCode, LineKind, Part, RawMessage, Severity, Via};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

/// Literals up to this size that are not messages are kept whole (user
/// names, passwords, mailbox names); bigger ones are only counted.
const MAX_SMALL_LITERAL: u64 = 64 * 1024;
/// Text kept of one logical line (its literals excluded).
const MAX_LOGICAL_TEXT: usize = 1 << 20;
/// Tagged commands waiting for their completion reply.
const MAX_PENDING: usize = 1000;

/// One piece of a logical line.
#[derive(Debug)]
enum Piece {
    Text(Vec<u8>),
    /// A small literal, kept.
    Literal(Vec<u8>),
    /// A literal that was not kept (a message, or too big): its size.
    Skipped(u64),
}

/// What the bytes of the literal being read are for.
#[derive(Debug)]
enum LiteralUse {
    /// A message: FETCH body on the server side, APPEND on the client side.
    Message(Box<Incoming>),
    Small(Vec<u8>),
    Ignored,
}

#[derive(Debug)]
struct Literal {
    remaining: u64,
    size: u64,
    start: u64,
    use_: LiteralUse,
    /// Last transcript line of the literal content, for `--full`.
    shown: Vec<u8>,
    shown_start: u64,
}

/// One direction's reading state: its line reader, and the logical line
/// being gathered (apart, so a line borrowed from the reader can be added
/// to it).
#[derive(Debug, Default)]
struct Side {
    reader: LineReader,
    g: Logical,
}

#[derive(Debug, Default)]
struct Logical {
    pieces: Vec<Piece>,
    text_len: usize,
    literal: Option<Literal>,
    /// Indices (in the dialogue) of messages that arrived in this logical
    /// line (their UID may come after them).
    messages: Vec<usize>,
}

/// A tagged command waiting for its completion.
#[derive(Debug)]
enum Cmd {
    Login(usize),
    Authenticate,
    Starttls,
    Expunge,
    Append,
    Other,
}

/// The IMAP dialogue parser (see the module documentation).
#[derive(Debug, Default)]
pub struct ImapParser {
    sides: [Side; 2],
    st: State,
}

#[derive(Debug, Default)]
struct State {
    pending: HashMap<String, Cmd>,
    order: VecDeque<String>,
    /// The last FETCH command, cited by the messages it brought.
    last_fetch: Option<String>,
    sasl: Option<(String, SaslExchange, Option<usize>)>,
    sasl_awaiting_response: bool,
    idling: bool,
    capabilities_starttls: bool,
    starttls_asked: bool,
    tls: bool,
    /// Fetched messages' current sequence numbers (they shift on EXPUNGE).
    fetched: Vec<(u64, usize)>,
    greeted: bool,
    bare_lf: [bool; 2],
}

impl ImapParser {
    pub fn new() -> Self {
        Self::default()
    }
}

/// The `n` of a line ending in `{n}` or `{n+}`, and whether it was `+`.
fn literal_announced(text: &[u8]) -> Option<(u64, bool)> {
    let inner = text.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let mut digits = &inner[open + 1..];
    let plus = digits.last() == Some(&b'+');
    if plus {
        digits = &digits[..digits.len() - 1];
    }
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse()
        .ok()
        .map(|n| (n, plus))
}

/// What a FETCH data item holding a literal is (`BODY[]` → `full`, …), or
/// None when the literal is not message content.
fn fetch_part(before: &[u8]) -> Option<Part> {
    let t = text(before).to_ascii_uppercase();
    let t = t.trim_end();
    let pos = ["BODY.PEEK[", "BODY[", "BINARY.PEEK[", "BINARY[", "RFC822"]
        .iter()
        .filter_map(|k| t.rfind(k))
        .max()?;
    let item = &t[pos..];
    let item = item.trim_end();
    if let Some(rest) = item.strip_prefix("RFC822") {
        return match rest {
            "" => Some(Part::Full),
            ".HEADER" => Some(Part::Header),
            ".TEXT" => Some(Part::Text),
            _ => None,
        };
    }
    let open = item.find('[')?;
    let close = item.rfind(']')?;
    let section = &item[open + 1..close];
    let partial = item[close + 1..].trim();
    let base = match section {
        "" => Part::Full,
        "HEADER" => Part::Header,
        "TEXT" => Part::Text,
        s if s.starts_with("HEADER.FIELDS") => Part::Header,
        s => Part::Section(s.to_string()),
    };
    // A partial fetch (`BODY[]<0.100>`, RFC 3501 §6.4.5) carries only a
    // range of the part.
    Some(match partial.strip_prefix('<') {
        Some(p) => Part::Section(format!("{}<{p}", base.as_str())),
        None => base,
    })
}

/// The value of `UID n` in a FETCH response's text.
fn uid_in(text: &str) -> Option<u64> {
    let up = text.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = up[from..].find("UID ") {
        let at = from + i;
        let before_ok = at == 0 || matches!(up.as_bytes()[at - 1], b'(' | b' ');
        let digits: String = up[at + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if before_ok && !digits.is_empty() {
            return digits.parse().ok();
        }
        from = at + 4;
    }
    None
}

/// Tokens of a command's arguments: atoms, quoted strings (RFC 9051 §4.3,
/// with `\"` and `\\`), and literals.
fn tokens(pieces: &[Piece]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Literal(l) => out.push(l.clone()),
            Piece::Skipped(_) => out.push(Vec::new()),
            Piece::Text(t) => {
                let mut i = 0;
                while i < t.len() {
                    match t[i] {
                        b' ' => i += 1,
                        b'"' => {
                            let mut s = Vec::new();
                            i += 1;
                            while i < t.len() && t[i] != b'"' {
                                if t[i] == b'\\' && i + 1 < t.len() {
                                    i += 1;
                                }
                                s.push(t[i]);
                                i += 1;
                            }
                            i += 1;
                            out.push(s);
                        }
                        _ => {
                            let start = i;
                            while i < t.len() && t[i] != b' ' {
                                i += 1;
                            }
                            let tok = &t[start..i];
                            // The literal announcement itself is no token.
                            if literal_announced(tok).is_none() {
                                out.push(tok.to_vec());
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

impl MailParser for ImapParser {
    fn feed(&mut self, dir: Direction, mut input: &[u8], out: &mut Dialogue) -> usize {
        let d = dir.index();
        let total = input.len();
        while !input.is_empty() {
            let st = &mut self.st;
            let side = &mut self.sides[d];
            if st.tls {
                // The rest is TLS: the session takes it from here.
                return total - input.len();
            }
            if let Some(lit) = side.g.literal.as_mut() {
                let taken = side.reader.take(&mut input, lit.remaining);
                let (bytes, start) = (taken.bytes, taken.start);
                lit.remaining -= bytes.len() as u64;
                feed_literal(lit, dir, bytes, start, out);
                if lit.remaining == 0 {
                    let lit = side.g.literal.take().expect("checked above");
                    st.literal_done(&mut side.g, dir, lit, out);
                }
                continue;
            }
            if dir == C
                && st.starttls_asked
                && side.reader.pending() == 0
                && side.g.pieces.is_empty()
                && super::tls::looks_like_handshake(input)
            {
                // The client started TLS (the tagged OK may be missing).
                st.tls = true;
            } else {
                let Some(line) = side.reader.next_line(&mut input) else {
                    break;
                };
                if line.ending == Ending::Lf && !st.bare_lf[d] {
                    st.bare_lf[d] = true;
                    out.finding(
                        Severity::Info,
                        FindingCode::BareLf,
                        "a line ends with a bare LF instead of CRLF (RFC 9051 §2.2)",
                    );
                }
                st.line(&mut side.g, dir, line, out);
            }
        }
        total
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Dialogue) {
        let st = &mut self.st;
        let side = &mut self.sides[dir.index()];
        if st.tls {
            return;
        }
        let start = side.reader.position();
        let lost = side.reader.gap(len);
        out.gap(dir, start, len, lost.as_deref());
        let g = &mut side.g;
        if let Some(lit) = g.literal.as_mut() {
            let lost = len.min(lit.remaining);
            lit.remaining -= lost;
            if let LiteralUse::Message(m) = &mut lit.use_ {
                m.lost(lost);
            }
            if lit.remaining == 0 {
                let lit = g.literal.take().expect("checked above");
                st.literal_done(g, dir, lit, out);
            }
            if len > lost {
                // The gap goes past the literal: the logical line is lost.
                g.pieces.clear();
                g.text_len = 0;
            }
        } else {
            g.pieces.clear();
            g.text_len = 0;
        }
    }

    fn finish(&mut self, out: &mut Dialogue) {
        let st = &mut self.st;
        for dir in [C, S] {
            let side = &mut self.sides[dir.index()];
            if st.tls {
                break;
            }
            if let Some(lit) = side.g.literal.take() {
                // The flow ended inside a literal.
                if let LiteralUse::Message(m) = lit.use_ {
                    let mut m = *m;
                    m.raw.complete = false;
                    st.deliver(&mut side.g, dir, m, out);
                }
                continue;
            }
            if let Some(line) = side.reader.finish() {
                st.line(&mut side.g, dir, line, out);
            }
        }
        if let Some((_, mut ex, None)) = st.sasl.take()
            && let Some(c) = ex.take_credential()
        {
            st.report(c, "AUTHENTICATE", out);
        }
        if st.capabilities_starttls && !st.tls && !st.starttls_asked {
            out.starttls_not_used("STARTTLS");
        }
    }

    fn upgraded_to_tls(&self) -> bool {
        self.st.tls
    }

    fn resume_plaintext(&mut self) {
        self.st.tls = false;
    }
}

/// Literal bytes as they arrive.
fn feed_literal(lit: &mut Literal, dir: Direction, bytes: &[u8], start: u64, out: &mut Dialogue) {
    match &mut lit.use_ {
        LiteralUse::Message(m) => {
            m.push(bytes, out);
            if out.wants_transcript() && out.options.full {
                // The content as lines, gathered across pieces.
                for (i, &b) in bytes.iter().enumerate() {
                    if lit.shown.is_empty() {
                        lit.shown_start = start + i as u64;
                    }
                    if b == b'\n' {
                        let t = lit.shown.strip_suffix(b"\r").unwrap_or(&lit.shown);
                        out.data_line(dir, t, lit.shown_start, start + i as u64 + 1);
                        lit.shown.clear();
                    } else if lit.shown.len() < 4096 {
                        lit.shown.push(b);
                    }
                }
                if lit.remaining == 0 && !lit.shown.is_empty() {
                    out.data_line(dir, &lit.shown, lit.shown_start, start + bytes.len() as u64);
                    lit.shown.clear();
                }
            }
        }
        LiteralUse::Small(v) => v.extend_from_slice(bytes),
        LiteralUse::Ignored => {}
    }
}

impl State {
    fn kind(dir: Direction) -> LineKind {
        if dir == C {
            LineKind::Command
        } else {
            LineKind::Reply
        }
    }

    /// One physical line: part of the current logical line.
    fn line(&mut self, side: &mut Logical, dir: Direction, line: Line, out: &mut Dialogue) {
        out.line(dir, Self::kind(dir), line.text, line.start, line.end);
        if dir == C && side.pieces.is_empty() && self.expects_bare_line(line.text, out) {
            return;
        }
        if dir == S
            && line.text.is_empty()
            && matches!(
                side.pieces.last(),
                Some(Piece::Skipped(_) | Piece::Literal(_))
            )
            && open_parens(&side.pieces) > 0
        {
            // An empty line right after a literal inside a FETCH response
            // whose parenthesis is still open: some servers count the
            // literal two bytes short and the closing ")" follows on the
            // next line. Nothing ends here. (A client's APPEND literal may
            // end its line: that empty rest is normal.)
            return;
        }
        if side.text_len + line.text.len() <= MAX_LOGICAL_TEXT {
            side.text_len += line.text.len();
            side.pieces.push(Piece::Text(line.text.to_vec()));
        }
        match literal_announced(line.text) {
            Some((n, _plus)) if line.ending != Ending::None => {
                let use_ = self.literal_use(side, dir, n, line.end, out);
                let lit = Literal {
                    remaining: n,
                    size: n,
                    start: line.end,
                    use_,
                    shown: Vec::new(),
                    shown_start: line.end,
                };
                side.literal = Some(lit);
                if n == 0 {
                    let lit = side.literal.take().expect("just set");
                    self.literal_done(side, dir, lit, out);
                }
            }
            _ => self.logical_line_done(side, dir, out),
        }
    }

    /// Client lines that are not tagged commands: SASL responses and the
    /// DONE that ends IDLE. True when the line was one of those.
    fn expects_bare_line(&mut self, t: &[u8], out: &mut Dialogue) -> bool {
        if self.sasl_awaiting_response
            && let Some((_, ex, idx)) = self.sasl.as_mut()
        {
            self.sasl_awaiting_response = false;
            ex.response(t);
            if idx.is_none()
                && ex.client_done()
                && let Some(c) = ex.take_credential()
            {
                let i = self.report(c, "AUTHENTICATE", out);
                if let Some((_, _, idx)) = self.sasl.as_mut() {
                    *idx = Some(i);
                }
            }
            return true;
        }
        if self.idling && t.trim_ascii().eq_ignore_ascii_case(b"DONE") {
            self.idling = false;
            return true;
        }
        false
    }

    /// Decides what a literal about to start is.
    fn literal_use(
        &mut self,
        side: &Logical,
        dir: Direction,
        n: u64,
        start: u64,
        out: &mut Dialogue,
    ) -> LiteralUse {
        let first = side.pieces.iter().find_map(|p| match p {
            Piece::Text(t) => Some(t.as_slice()),
            _ => None,
        });
        let last = match side.pieces.last() {
            Some(Piece::Text(t)) => t.as_slice(),
            _ => &[],
        };
        let head = text(first.unwrap_or_default()).to_ascii_uppercase();
        let mut words = head.split_whitespace();
        let (w0, w1, w2) = (words.next(), words.next(), words.next());
        let message = match dir {
            Direction::ServerToClient if w0 == Some("*") && w2 == Some("FETCH") => {
                fetch_part(&last[..last.len().saturating_sub(literal_len(last))]).map(|part| {
                    let mut raw = RawMessage::new(
                        Via::Fetch,
                        part,
                        self.last_fetch
                            .clone()
                            .unwrap_or_else(|| text(first.unwrap_or_default())),
                    );
                    raw.number = w1.and_then(|n| n.parse().ok());
                    raw
                })
            }
            Direction::ClientToServer if w1 == Some("APPEND") && n > 0 => Some(RawMessage::new(
                Via::Append,
                Part::Full,
                text(first.unwrap_or_default()).trim_end().to_string(),
            )),
            _ => None,
        };
        match message {
            Some(mut raw) => {
                raw.ts = out.now(dir);
                LiteralUse::Message(Box::new(Incoming::new(raw, start)))
            }
            None if n <= MAX_SMALL_LITERAL => LiteralUse::Small(Vec::new()),
            None => LiteralUse::Ignored,
        }
    }

    /// A literal has been read: the logical line goes on.
    fn literal_done(
        &mut self,
        side: &mut Logical,
        dir: Direction,
        lit: Literal,
        out: &mut Dialogue,
    ) {
        match lit.use_ {
            LiteralUse::Message(m) => {
                side.pieces.push(Piece::Skipped(lit.size));
                self.deliver(side, dir, *m, out);
            }
            LiteralUse::Small(bytes) => {
                out.line(dir, LineKind::Data, &bytes, lit.start, lit.start + lit.size);
                side.pieces.push(Piece::Literal(bytes));
            }
            LiteralUse::Ignored => {
                out.note(
                    dir,
                    LineKind::Data,
                    format!("[literal: {} bytes]", lit.size),
                    lit.start,
                    lit.start + lit.size,
                );
                side.pieces.push(Piece::Skipped(lit.size));
            }
        }
    }

    /// Hands on a message read from a literal.
    fn deliver(&mut self, side: &mut Logical, dir: Direction, mut m: Incoming, out: &mut Dialogue) {
        m.raw.ts = out.now(dir);
        let (end, start) = (m.start + m.size, m.start);
        let lines = if out.wants_transcript() { m.lines() } else { 0 };
        let number = m.raw.number;
        let idx = out.message(m.raw);
        if !out.options.full {
            let r = &out.messages[idx];
            let note = Incoming::summary(r.size as usize, lines, r.complete, r.subject.as_deref());
            out.note(dir, LineKind::Data, note, start, end);
        }
        side.messages.push(idx);
        if let Some(n) = number {
            self.fetched.push((n, idx));
        }
    }

    fn logical_line_done(&mut self, side: &mut Logical, dir: Direction, out: &mut Dialogue) {
        let pieces = std::mem::take(&mut side.pieces);
        side.text_len = 0;
        let messages = std::mem::take(&mut side.messages);
        match dir {
            Direction::ClientToServer => self.command(&pieces, out),
            Direction::ServerToClient => self.response(&pieces, &messages, out),
        }
    }

    fn remember(&mut self, tag: String, cmd: Cmd) {
        if self.order.len() >= MAX_PENDING
            && let Some(old) = self.order.pop_front()
        {
            self.pending.remove(&old);
        }
        self.order.push_back(tag.clone());
        self.pending.insert(tag, cmd);
    }

    fn command(&mut self, pieces: &[Piece], out: &mut Dialogue) {
        let toks = tokens(pieces);
        let Some(tag) = toks.first() else {
            return;
        };
        let tag = text(tag);
        let line_text = match pieces.first() {
            Some(Piece::Text(t)) => t.as_slice(),
            _ => b"",
        };
        let Some(name) = toks.get(1) else {
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                format!(
                    "not an IMAP command (no tag and command): {}",
                    quote(line_text)
                ),
            );
            return;
        };
        let name = text(name).to_ascii_uppercase();
        let valid_tag = !tag.is_empty()
            && tag.bytes().all(|b| {
                b.is_ascii_graphic()
                    && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+')
            });
        if !valid_tag || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                format!("not an IMAP command: {}", quote(line_text)),
            );
            return;
        }
        let sub = toks.get(2).map(|s| text(s).to_ascii_uppercase());
        let cmd = match name.as_str() {
            "LOGIN" => {
                let mut c = Credential::new("IMAP-LOGIN");
                c.username = toks.get(2).map(|u| text(u));
                c.password = toks.get(3).map(|p| text(p));
                c.evidence = pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Text(t) | Piece::Literal(t) => text(t),
                        Piece::Skipped(n) => format!("[{n} bytes]"),
                    })
                    .collect();
                Cmd::Login(self.report(c, "LOGIN", out))
            }
            "AUTHENTICATE" => {
                let mech = toks.get(2).cloned().unwrap_or_default();
                let initial = toks.get(3).map(Vec::as_slice);
                let mut ex = SaslExchange::start(&mech, initial, line_text);
                let idx = if ex.client_done() {
                    ex.take_credential()
                        .map(|c| self.report(c, "AUTHENTICATE", out))
                } else {
                    None
                };
                self.sasl = Some((tag.clone(), ex, idx));
                self.sasl_awaiting_response = false;
                Cmd::Authenticate
            }
            "STARTTLS" => {
                self.starttls_asked = true;
                Cmd::Starttls
            }
            "IDLE" => {
                self.idling = true;
                Cmd::Other
            }
            "FETCH" => {
                self.last_fetch = Some(text(line_text));
                Cmd::Other
            }
            "UID" if sub.as_deref() == Some("FETCH") => {
                self.last_fetch = Some(text(line_text));
                Cmd::Other
            }
            "EXPUNGE" | "CLOSE" => Cmd::Expunge,
            "UID" if sub.as_deref() == Some("EXPUNGE") => Cmd::Expunge,
            "APPEND" => Cmd::Append,
            _ => Cmd::Other,
        };
        self.remember(tag, cmd);
    }

    fn report(&mut self, c: Credential, how: &str, out: &mut Dialogue) -> usize {
        let what = match how {
            "LOGIN" => "IMAP LOGIN".to_string(),
            _ => format!("IMAP AUTHENTICATE {}", c.mechanism),
        };
        out.credential_seen(c, &what, self.tls)
    }

    fn response(&mut self, pieces: &[Piece], messages: &[usize], out: &mut Dialogue) {
        let first = match pieces.first() {
            Some(Piece::Text(t)) => t.as_slice(),
            _ => return,
        };
        let all_text: String = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Text(t) => Some(text(t)),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
        let up = all_text.to_ascii_uppercase();
        if let Some(caps) = capabilities(&all_text) {
            self.capabilities_starttls |= caps.iter().any(|c| c.eq_ignore_ascii_case("STARTTLS"));
            out.capabilities = caps;
        }
        if first == b"+" || first.starts_with(b"+ ") {
            // A continuation: a SASL challenge, or the go-ahead for a
            // literal or IDLE.
            if let Some((_, ex, _)) = self.sasl.as_mut() {
                ex.challenge(first.get(2..).unwrap_or_default());
                self.sasl_awaiting_response = true;
            }
            return;
        }
        let mut words = up.split_whitespace();
        let (w0, w1, w2) = (words.next(), words.next(), words.next());
        if w0 == Some("*") {
            if !self.greeted {
                self.greeted = true;
            }
            match (w1, w2) {
                (Some(n), Some("FETCH")) => {
                    if let Some(uid) = uid_in(&all_text) {
                        for &i in messages {
                            out.messages[i].uid = Some(uid);
                        }
                    }
                    let _ = n;
                }
                (Some(n), Some("EXPUNGE")) => {
                    if let Ok(n) = n.parse::<u64>() {
                        self.expunged(n, out);
                    }
                }
                _ => {}
            }
            return;
        }
        let tag = w0.map(|_| text(first.split(|&b| b == b' ').next().unwrap_or_default()));
        let Some(tag) = tag else { return };
        let status = w1.unwrap_or("");
        let ok = status == "OK";
        if !matches!(status, "OK" | "NO" | "BAD") {
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                format!("not an IMAP response: {}", quote(first)),
            );
            return;
        }
        let Some(cmd) = self.pending.remove(&tag) else {
            return;
        };
        self.order.retain(|t| t != &tag);
        match cmd {
            Cmd::Login(i) => out.credential_result(i, ok),
            Cmd::Authenticate => {
                self.sasl_awaiting_response = false;
                if let Some((_, mut ex, idx)) = self.sasl.take() {
                    let idx = idx.or_else(|| {
                        ex.take_credential()
                            .map(|c| self.report(c, "AUTHENTICATE", out))
                    });
                    if let Some(i) = idx {
                        out.credential_result(i, ok);
                    }
                }
            }
            Cmd::Starttls => {
                if ok {
                    self.tls = true;
                } else {
                    out.starttls_refused("STARTTLS", &text(first));
                }
            }
            Cmd::Expunge | Cmd::Append | Cmd::Other => {}
        }
        let _ = messages;
    }

    /// `* n EXPUNGE` (RFC 9051 §7.5.1): message n is gone, and every later
    /// message's sequence number drops by one.
    fn expunged(&mut self, n: u64, out: &mut Dialogue) {
        self.fetched.retain_mut(|(seq, idx)| {
            if *seq == n {
                out.messages[*idx].deleted = Some(true);
                false
            } else {
                if *seq > n {
                    *seq -= 1;
                }
                true
            }
        });
    }
}

/// The atoms of a `* CAPABILITY …` response or a `[CAPABILITY …]` response
/// code (RFC 9051 §7.2.2, §7.1).
fn capabilities(line: &str) -> Option<Vec<String>> {
    let up = line.to_ascii_uppercase();
    let start = if let Some(i) = up.find("[CAPABILITY ") {
        i + "[CAPABILITY ".len()
    } else if up.starts_with("* CAPABILITY ") {
        "* CAPABILITY ".len()
    } else {
        return None;
    };
    let rest = &line[start..];
    let end = rest.find(']').unwrap_or(rest.len());
    Some(rest[..end].split_whitespace().map(str::to_string).collect())
}

/// Parentheses opened and not yet closed in the text of a logical line.
fn open_parens(pieces: &[Piece]) -> i64 {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Text(t) => Some(t),
            _ => None,
        })
        .flat_map(|t| t.iter())
        .map(|&b| match b {
            b'(' => 1,
            b')' => -1,
            _ => 0,
        })
        .sum()
}

/// Length of a trailing `{n}`/`{n+}` announcement.
fn literal_len(text: &[u8]) -> usize {
    match text.iter().rposition(|&b| b == b'{') {
        Some(open) if literal_announced(text).is_some() => text.len() - open,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::sha256_hex;
    use crate::proto::Protocol;
    use crate::proto::testing::{self, codes, creds, encrypted, transcript};

    fn run(script: &[(Direction, &[u8])]) -> Dialogue {
        testing::run(&mut ImapParser::new(), Protocol::Imap, script, false)
    }

    const MSG: &[u8] = b"From: alice@crepes.fr\r\nSubject: crepes\r\n\r\nhello\r\n";

    #[test]
    fn login_atoms_quoted_and_literals() {
        let d = run(&[
            (S, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
            (C, b"a1 LOGIN bob hungry\r\n"),
            (S, b"a1 NO [AUTHENTICATIONFAILED] nope\r\n"),
            (C, b"a2 login \"bob\" \"a \\\"quoted\\\" \\\\ pass\"\r\n"),
            (S, b"a2 NO nope\r\n"),
            (C, b"a3 LOGIN {3}\r\n"),
            (S, b"+ go ahead\r\n"),
            (C, b"bob {6}\r\n"),
            (S, b"+ go ahead\r\n"),
            (C, b"hungry\r\n"),
            (S, b"a3 OK logged in\r\n"),
        ]);
        assert_eq!(
            creds(&d),
            [
                ("IMAP-LOGIN", Some("bob"), Some("hungry"), Some(false)),
                (
                    "IMAP-LOGIN",
                    Some("bob"),
                    Some("a \"quoted\" \\ pass"),
                    Some(false)
                ),
                ("IMAP-LOGIN", Some("bob"), Some("hungry"), Some(true)),
            ]
        );
        assert_eq!(
            codes(&d),
            [
                "plaintext-auth",
                "plaintext-auth",
                "plaintext-auth",
                "starttls-not-used"
            ]
        );
    }

    #[test]
    fn authenticate_plain_with_continuation_and_sasl_ir() {
        let d = run(&[
            (S, b"* OK ready\r\n"),
            (C, b"a1 AUTHENTICATE PLAIN\r\n"),
            (S, b"+ \r\n"),
            (C, b"AGJvYgBodW5ncnk=\r\n"),
            (S, b"a1 OK done\r\n"),
            (C, b"a2 AUTHENTICATE PLAIN AGFsaWNlAHdyb25n\r\n"),
            (S, b"a2 NO bad\r\n"),
        ]);
        assert_eq!(
            creds(&d),
            [
                ("PLAIN", Some("bob"), Some("hungry"), Some(true)),
                ("PLAIN", Some("alice"), Some("wrong"), Some(false)),
            ]
        );
    }

    #[test]
    fn starttls_accepted_and_refused() {
        let d = run(&[
            (
                S,
                b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n",
            ),
            (C, b"a1 STARTTLS\r\n"),
            (S, b"a1 OK Begin TLS negotiation now\r\n"),
            (C, &[0x16, 3, 1, 0, 1, 1]),
            (S, &[0x16, 3, 3, 0, 1, 2]),
        ]);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!((encrypted(&d, C), encrypted(&d, S)), (6, 6));
        let refused = run(&[
            (S, b"* OK ready\r\n"),
            (C, b"a1 STARTTLS\r\n"),
            (S, b"a1 BAD not now\r\n"),
        ]);
        assert_eq!(codes(&refused), ["starttls-refused"]);
    }

    #[test]
    fn fetch_literal_byte_by_byte() {
        let mut wire =
            format!("* 3 FETCH (FLAGS (\\Seen) BODY[] {{{}}}\r\n", MSG.len()).into_bytes();
        wire.extend_from_slice(MSG);
        wire.extend_from_slice(b" UID 42)\r\na1 OK done\r\n");
        let mut script: Vec<(Direction, &[u8])> = vec![
            (S, b"* OK ready\r\n"),
            (C, b"a1 FETCH 3 (FLAGS BODY[])\r\n"),
        ];
        for i in 0..wire.len() {
            script.push((S, &wire[i..i + 1]));
        }
        let d = run(&script);
        let m = &d.messages[0];
        assert_eq!(m.size, MSG.len() as u64);
        assert_eq!(m.sha256, sha256_hex(MSG));
        assert_eq!(
            (m.number, m.uid, m.part.as_str()),
            (Some(3), Some(42), "full")
        );
        assert_eq!(m.subject.as_deref(), Some("crepes"));
        assert_eq!(m.command, "a1 FETCH 3 (FLAGS BODY[])");
        assert_eq!(
            transcript(&d)[2..],
            [
                "S: * 3 FETCH (FLAGS (\\Seen) BODY[] {49}",
                "S: [message: 49 bytes, 4 lines, Subject: crepes]",
                "S:  UID 42)",
                "S: a1 OK done"
            ]
        );
    }

    #[test]
    fn header_and_text_sections_partial_and_uid_first() {
        let d = run(&[
            (S, b"* OK ready\r\n"),
            (C, b"a1 UID FETCH 42 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])\r\n"),
            (
                S,
                b"* 3 FETCH (UID 42 BODY[HEADER] {11}\r\nSubject: \r\n BODY[TEXT] {4}\r\nhi\r\n)\r\n",
            ),
            (C, b"a2 FETCH 1 BODY[]<0.10>\r\n"),
            (S, b"* 1 FETCH (BODY[]<0> {10}\r\n0123456789)\r\na2 OK\r\n"),
            (C, b"a3 FETCH 1 BODY[1.2]\r\n"),
            (S, b"* 1 FETCH (BODY[1.2] {2}\r\nxy)\r\n* 1 FETCH (BODY[] NIL)\r\na3 OK\r\n"),
        ]);
        let got: Vec<(&str, u64, Option<u64>)> = d
            .messages
            .iter()
            .map(|m| (m.part.as_str(), m.size, m.uid))
            .collect();
        assert_eq!(
            got,
            [
                ("header", 11, Some(42)),
                ("text", 4, Some(42)),
                ("full<0>", 10, None),
                ("1.2", 2, None),
            ]
        );
    }

    #[test]
    fn append_with_continuation_and_literal_plus() {
        let d = run(&[
            (S, b"* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n"),
            (C, b"a1 APPEND Sent (\\Seen) {49}\r\n"),
            (S, b"+ Ready for literal data\r\n"),
            (C, MSG),
            (C, b"\r\n"),
            (S, b"a1 OK [APPENDUID 1 7] done\r\n"),
            (C, b"a2 APPEND Drafts {49+}\r\n"),
            (C, MSG),
            (C, b"\r\n"),
            (S, b"a2 OK done\r\n"),
        ]);
        assert_eq!(d.messages.len(), 2);
        for m in &d.messages {
            assert_eq!((m.via, m.size, m.complete), (Via::Append, 49, true));
            assert_eq!(m.sha256, sha256_hex(MSG));
        }
        assert_eq!(d.messages[0].command, "a1 APPEND Sent (\\Seen) {49}");
        assert!(d.findings.is_empty(), "{:?}", d.findings);
    }

    #[test]
    fn idle_done_and_expunge_marks_deleted() {
        let d = run(&[
            (S, b"* OK ready\r\n"),
            (C, b"a1 FETCH 1:2 BODY[]\r\n"),
            (
                S,
                b"* 1 FETCH (BODY[] {2}\r\nab)\r\n* 2 FETCH (BODY[] {2}\r\ncd)\r\na1 OK\r\n",
            ),
            (C, b"a2 IDLE\r\n"),
            (S, b"+ idling\r\n* 3 EXISTS\r\n"),
            (C, b"DONE\r\n"),
            (S, b"a2 OK IDLE terminated\r\n"),
            (C, b"a3 STORE 1 +FLAGS (\\Deleted)\r\na4 EXPUNGE\r\n"),
            (
                S,
                b"* 1 FETCH (FLAGS (\\Deleted))\r\na3 OK\r\n* 1 EXPUNGE\r\na4 OK\r\n",
            ),
        ]);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let deleted: Vec<Option<bool>> = d.messages.iter().map(|m| m.deleted).collect();
        assert_eq!(deleted, [Some(true), None]);
    }

    #[test]
    fn huge_literal_then_end_of_flow() {
        let d = run(&[
            (S, b"* OK ready\r\n"),
            (C, b"a1 FETCH 1 BODY[]\r\n"),
            (
                S,
                b"* 1 FETCH (BODY[] {4294967295}\r\nSubject: x\r\n\r\nonly this\r\n",
            ),
        ]);
        let m = &d.messages[0];
        assert!(!m.complete);
        assert_eq!(m.size, 25);
    }

    #[test]
    fn gap_inside_a_literal() {
        let mut p = ImapParser::new();
        let mut out = Dialogue::new(0, Protocol::Imap, crate::trace::DialogueOptions::default());
        p.feed(S, b"* OK ready\r\n", &mut out);
        p.feed(C, b"a1 FETCH 1 BODY[]\r\n", &mut out);
        p.feed(S, b"* 1 FETCH (BODY[] {20}\r\n01234", &mut out);
        p.gap(S, 10, &mut out);
        p.feed(S, b"56789)\r\na1 OK\r\n* 2 EXISTS\r\n", &mut out);
        p.finish(&mut out);
        let m = &out.messages[0];
        assert!(!m.complete);
        assert_eq!(m.size, 10);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn literal_counted_short_before_the_closing_paren() {
        // Seen in protolens' imap_fetch capture: CRLF, then ")" on its own.
        let d = run(&[
            (S, b"* OK ready\r\n"),
            (C, b"a1 FETCH 1 BODY[]\r\n"),
            (S, b"* 1 FETCH (BODY[] {4}\r\nab\r\n\r\n)\r\na1 OK\r\n"),
        ]);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(d.messages[0].size, 4);
    }

    #[test]
    fn a_header_fetch_lists_no_attachments() {
        let header = b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
        let mut fetch = format!("* 1 FETCH (BODY[HEADER] {{{}}}\r\n", header.len()).into_bytes();
        fetch.extend_from_slice(header);
        fetch.extend_from_slice(b")\r\na1 OK\r\n");
        let d = run(&[
            (S, b"* OK ready\r\n"),
            (C, b"a1 FETCH 1 BODY[HEADER]\r\n"),
            (S, &fetch),
        ]);
        assert_eq!(d.messages[0].part, Part::Header);
        assert_eq!(d.messages[0].subject.as_deref(), Some("s"));
        assert!(d.messages[0].attachments.is_empty());
    }

    #[test]
    fn garbage_lines_are_anomalies() {
        let d = run(&[
            (S, b"* OK ready\r\n"),
            (C, b"\x00\x01garbage\r\n"),
            (S, b"totally not imap\r\n"),
            (C, b"a1 NOOP\r\n"),
            (S, b"a1 OK\r\n"),
        ]);
        assert_eq!(codes(&d), ["protocol-anomaly", "protocol-anomaly"]);
    }
}
