//! The analyzer's IMAP parser: bytes in, logical lines out.
//!
//! Literals (RFC 9051 §4.3) travel both ways: the server sends messages in
//! them, the client sends APPENDed messages and sometimes a user name or
//! password (`a LOGIN {3}` … `bob {6}` … `hungry`). A line that ends in
//! `{n}` (or `{n+}`, which does not wait for the server's `+` go-ahead) is
//! followed by n raw bytes and then the *same* logical line continues. The
//! parser therefore gathers [`Fragment`]s (lines and literals, in order)
//! until a line ends without a literal announcement, and hands the
//! logical line to [`commands`](super::commands) or
//! [`responses`](super::responses).

use std::collections::{HashMap, VecDeque};

use super::commands::Cmd;
use super::literal::{Literal, LiteralUse, feed_literal};
use super::syntax::{Fragment, literal_marker};
use crate::flow::Direction;
use crate::proto::MailParser;
use crate::proto::lines::{Ending, Line, LineReader};
use crate::proto::sasl::SaslExchange;
use crate::trace::{Dialogue, FindingCode, LineKind, Severity};

pub(super) const C: Direction = Direction::ClientToServer;
pub(super) const S: Direction = Direction::ServerToClient;

/// Text kept of one logical line (its literals excluded).
const MAX_LOGICAL_TEXT: usize = 1 << 20;

/// One direction's reading state: its line reader, and the logical line
/// being gathered (apart, so a line borrowed from the reader can be added
/// to it).
#[derive(Debug, Default)]
struct Side {
    reader: LineReader,
    g: Logical,
}

/// The logical line being gathered.
#[derive(Debug, Default)]
pub(super) struct Logical {
    pub(super) fragments: Vec<Fragment>,
    text_len: usize,
    pub(super) literal: Option<Literal>,
    /// Indices (in the dialogue) of messages that arrived in this logical
    /// line (their UID may come after them).
    pub(super) messages: Vec<usize>,
}

impl Logical {
    fn clear(&mut self) {
        self.fragments.clear();
        self.text_len = 0;
    }
}

/// The IMAP dialogue parser (see the module documentation).
#[derive(Debug, Default)]
pub struct ImapParser {
    sides: [Side; 2],
    st: State,
}

/// What the parser knows of the dialogue so far.
#[derive(Debug, Default)]
pub(super) struct State {
    /// Tagged commands waiting for their completion, oldest first.
    pub(super) pending: HashMap<String, Cmd>,
    pub(super) order: VecDeque<String>,
    /// The last FETCH command, cited by the messages it brought.
    pub(super) last_fetch: Option<String>,
    /// The AUTHENTICATE exchange under way: its tag, the exchange and the
    /// credential it reported (if any yet).
    pub(super) sasl: Option<(String, SaslExchange, Option<usize>)>,
    pub(super) sasl_awaiting_response: bool,
    pub(super) idling: bool,
    pub(super) capabilities_starttls: bool,
    pub(super) starttls_asked: bool,
    pub(super) tls: bool,
    /// Fetched messages' current sequence numbers (they shift on EXPUNGE).
    pub(super) fetched: Vec<(u64, usize)>,
    bare_lf: [bool; 2],
}

impl ImapParser {
    pub fn new() -> Self {
        Self::default()
    }
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
                && side.g.fragments.is_empty()
                && crate::proto::tls::looks_like_handshake(input)
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
                g.clear();
            }
        } else {
            g.clear();
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

impl State {
    /// One physical line: part of the current logical line.
    fn line(&mut self, g: &mut Logical, dir: Direction, line: Line, out: &mut Dialogue) {
        let kind = if dir == C {
            LineKind::Command
        } else {
            LineKind::Reply
        };
        out.line(dir, kind, line.text, line.start, line.end);
        if dir == C && g.fragments.is_empty() && self.expects_bare_line(line.text, out) {
            return;
        }
        if dir == S
            && line.text.is_empty()
            && matches!(
                g.fragments.last(),
                Some(Fragment::Literal(_) | Fragment::Omitted(_))
            )
            && open_parens(&g.fragments) > 0
        {
            // An empty line right after a literal inside a FETCH response
            // whose parenthesis is still open: some servers count the
            // literal two bytes short and the closing ")" follows on the
            // next line. Nothing ends here. (A client's APPEND literal may
            // end its line: that empty rest is normal.)
            return;
        }
        if g.text_len + line.text.len() <= MAX_LOGICAL_TEXT {
            g.text_len += line.text.len();
            g.fragments.push(Fragment::Line(line.text.to_vec()));
        }
        match literal_marker(line.text) {
            Some(marker) if line.ending != Ending::None => {
                let Some(n) = marker.size else {
                    // A number too big for any stream: no literal.
                    return self.logical_line_done(g, dir, out);
                };
                let use_ = self.literal_use(g, dir, n, line.end, out);
                g.literal = Some(Literal::new(n, line.end, use_));
                if n == 0 {
                    let lit = g.literal.take().expect("just set");
                    self.literal_done(g, dir, lit, out);
                }
            }
            _ => self.logical_line_done(g, dir, out),
        }
    }

    fn logical_line_done(&mut self, g: &mut Logical, dir: Direction, out: &mut Dialogue) {
        // Taken and put back emptied: the vectors keep their capacity
        // for the next logical line.
        let mut fragments = std::mem::take(&mut g.fragments);
        g.text_len = 0;
        let mut messages = std::mem::take(&mut g.messages);
        match dir {
            Direction::ClientToServer => self.command(&mut fragments, out),
            Direction::ServerToClient => self.response(&mut fragments, &messages, out),
        }
        fragments.clear();
        messages.clear();
        g.fragments = fragments;
        g.messages = messages;
    }
}

/// Parentheses opened and not yet closed in the lines of a logical line.
fn open_parens(fragments: &[Fragment]) -> i64 {
    fragments
        .iter()
        .filter_map(|f| match f {
            Fragment::Line(t) => Some(t),
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
