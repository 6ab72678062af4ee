//! Literal bytes as the analyzer reads them (RFC 9051 §4.3). What a
//! literal holds is decided when it is announced: a message (the server's
//! FETCH of a body, the client's APPEND) is handed on to the dialogue as
//! it arrives, whatever its size; a small value (a user name, a password,
//! a mailbox name) is kept for the command it belongs to; anything else
//! is only counted.

use super::command::Command;
use super::parser::{Logical, State};
use super::response::Response;
use super::section::{BodyItem, BodyKind};
use super::syntax::{Fragment, Mode, Tok, tokenize};
use crate::flow::Direction;
use crate::proto::incoming::Incoming;
use crate::proto::text;
use crate::trace::{Dialogue, LineKind, Part, RawMessage, Via};

/// Literals up to this size that are not messages are kept whole (user
/// names, passwords, mailbox names); bigger ones are only counted.
const MAX_SMALL_LITERAL: u64 = 64 * 1024;

/// What the bytes of the literal being read are for.
#[derive(Debug)]
pub(super) enum LiteralUse {
    /// A message: FETCH body on the server side, APPEND on the client side.
    Message(Box<Incoming>),
    Small(Vec<u8>),
    Ignored,
}

/// A literal being read.
#[derive(Debug)]
pub(super) struct Literal {
    pub(super) remaining: u64,
    size: u64,
    start: u64,
    pub(super) use_: LiteralUse,
    /// Last transcript line of the literal content, for `--full`.
    shown: Vec<u8>,
    shown_start: u64,
}

impl Literal {
    /// A literal of `size` bytes starting at stream offset `start`.
    pub(super) fn new(size: u64, start: u64, use_: LiteralUse) -> Literal {
        Literal {
            remaining: size,
            size,
            start,
            use_,
            shown: Vec::new(),
            shown_start: start,
        }
    }
}

/// Literal bytes as they arrive.
pub(super) fn feed_literal(
    lit: &mut Literal,
    dir: Direction,
    bytes: &[u8],
    start: u64,
    out: &mut Dialogue,
) {
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

/// What part of a message a FETCH item carries (`BODY[]` → `full`, …), or
/// None when the item carries no message content.
fn fetched_part(item: &str) -> Option<Part> {
    let item = BodyItem::parse(item)?;
    if item.kind == BodyKind::Rfc822 {
        return Some(Part::Full);
    }
    let section = item.section.to_ascii_uppercase();
    let base = match section.as_str() {
        "" => Part::Full,
        "HEADER" => Part::Header,
        "TEXT" => Part::Text,
        s if s.starts_with("HEADER.FIELDS") => Part::Header,
        s => Part::Section(s.to_string()),
    };
    // A partial fetch (`BODY[]<0>`, RFC 9051 §6.4.5) carries only a range
    // of the part.
    Some(match item.partial {
        Some(p) => Part::Section(format!("{}<{p}>", base.as_str())),
        None => base,
    })
}

/// The FETCH item a literal announced at the end of `line` belongs to:
/// the last atom before the `{n}` (inside the open FETCH list).
fn item_before_literal(line: &[u8]) -> Option<String> {
    let open = line.iter().rposition(|&b| b == b'{')?;
    let mut before = [Fragment::Line(line[..open].to_vec())];
    let toks = tokenize(&mut before, Mode::Lenient).ok()?;
    let mut last = toks.last()?;
    while let Tok::List(items) = last {
        last = items.last()?;
    }
    last.atom().map(str::to_string)
}

impl State {
    /// Decides what a literal about to start is.
    pub(super) fn literal_use(
        &mut self,
        g: &Logical,
        dir: Direction,
        n: u64,
        start: u64,
        out: &mut Dialogue,
    ) -> LiteralUse {
        let lines = || {
            g.fragments.iter().filter_map(|f| match f {
                Fragment::Line(t) => Some(t.as_slice()),
                _ => None,
            })
        };
        let first = lines().next().unwrap_or_default();
        let last = match g.fragments.last() {
            Some(Fragment::Line(t)) => t.as_slice(),
            _ => &[],
        };
        let head = || vec![Fragment::Line(first.to_vec())];
        let message = match dir {
            // Only the head of the response matters here; its values are
            // read when the logical line is complete.
            Direction::ServerToClient => match Response::parse_head(&mut head()) {
                Ok(Response::Data { number, name, .. }) if name == "FETCH" => {
                    item_before_literal(last)
                        .and_then(|item| fetched_part(&item))
                        .map(|part| {
                            let command = self.last_fetch.clone().unwrap_or_else(|| text(first));
                            let mut raw = RawMessage::new(Via::Fetch, part, command);
                            raw.number = number;
                            raw
                        })
                }
                _ => None,
            },
            Direction::ClientToServer => match Command::parse(&mut head(), Mode::Lenient) {
                Ok(c) if c.name == "APPEND" && n > 0 => Some(RawMessage::new(
                    Via::Append,
                    Part::Full,
                    text(first).trim_end().to_string(),
                )),
                _ => None,
            },
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
    pub(super) fn literal_done(
        &mut self,
        g: &mut Logical,
        dir: Direction,
        lit: Literal,
        out: &mut Dialogue,
    ) {
        match lit.use_ {
            LiteralUse::Message(m) => {
                g.fragments.push(Fragment::Omitted(lit.size));
                self.deliver(g, dir, *m, out);
            }
            LiteralUse::Small(bytes) => {
                out.line(dir, LineKind::Data, &bytes, lit.start, lit.start + lit.size);
                g.fragments.push(Fragment::Literal(bytes));
            }
            LiteralUse::Ignored => {
                out.note(
                    dir,
                    LineKind::Data,
                    format!("[literal: {} bytes]", lit.size),
                    lit.start,
                    lit.start + lit.size,
                );
                g.fragments.push(Fragment::Omitted(lit.size));
            }
        }
    }

    /// Hands on a message read from a literal.
    pub(super) fn deliver(
        &mut self,
        g: &mut Logical,
        dir: Direction,
        mut m: Incoming,
        out: &mut Dialogue,
    ) {
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
        g.messages.push(idx);
        if let Some(n) = number {
            self.fetched.push((n, idx));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_part_a_literal_carries() {
        let part = |line: &[u8]| item_before_literal(line).and_then(|i| fetched_part(&i));
        assert_eq!(part(b"* 1 FETCH (BODY[] {4}"), Some(Part::Full));
        assert_eq!(
            part(b" UID 42 BODY[HEADER.FIELDS (FROM TO)] {11}"),
            Some(Part::Header)
        );
        assert_eq!(part(b"* 1 FETCH (RFC822.TEXT {4}"), Some(Part::Text));
        assert_eq!(
            part(b"* 1 FETCH (BODY[1.mime]<0> {4}"),
            Some(Part::Section("1.MIME<0>".into()))
        );
        assert_eq!(part(b"* 1 FETCH (BODY[] {4} X-LABEL {4}"), None);
        assert_eq!(part(b"* 1 FETCH (RFC822.SIZE 3 X {4}"), None);
    }
}
