//! Reading a message with mail-parser, no deeper than is worth it.
//!
//! Everything in `mail` reads bytes from strangers: a truncated message, a
//! boundary that never comes, a million nested multiparts or plain
//! garbage must give a best-effort answer, never a panic. mail-parser is
//! forgiving about the first ones; the nesting is bounded here, once, for
//! every reader of the message (reports, the window's inspector).

use mail_parser::{Message, MessageParser};

/// Nesting of multiparts that is still parsed. Real mail nests three or
/// four levels. mail-parser walks parts with its own stack, but a hostile
/// message with 100 000 nested multiparts would still cost time and
/// memory for nothing a person can use; deeper messages are read for
/// their headers only.
pub(crate) const MAX_NESTING: usize = 100;

/// A message as mail-parser read it, with the bytes it was read from.
pub(crate) struct ParsedMail<'a> {
    raw: &'a [u8],
    /// None when the bytes hold nothing to parse.
    message: Option<Message<'a>>,
    /// Whether the nesting was deeper than [`MAX_NESTING`]: then only the
    /// top-level header was parsed, and the message has no parts,
    /// attachments or body as far as this module is concerned.
    too_deep: bool,
}

impl<'a> ParsedMail<'a> {
    /// Parses `raw`, the whole message as it was delivered.
    pub(crate) fn new(raw: &'a [u8]) -> ParsedMail<'a> {
        let too_deep = nesting_depth(raw) > MAX_NESTING;
        let parser = MessageParser::default();
        let message = if raw.is_empty() {
            None
        } else if too_deep {
            parser.parse_headers(raw)
        } else {
            parser.parse(raw)
        };
        ParsedMail {
            raw,
            message,
            too_deep,
        }
    }

    /// The bytes the message was parsed from.
    pub(crate) fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// mail-parser's reading, None when there was nothing to read.
    pub(crate) fn message(&self) -> Option<&Message<'a>> {
        self.message.as_ref()
    }

    /// Whether the multipart nesting was too deep to take apart.
    pub(crate) fn too_deep(&self) -> bool {
        self.too_deep
    }
}

/// A cheap upper bound of multipart nesting: every nested multipart needs
/// a `boundary=` parameter of its own (RFC 2046 §5.1.1), so their number
/// bounds the depth without parsing anything. Counted up to
/// `MAX_NESTING + 1`.
fn nesting_depth(raw: &[u8]) -> usize {
    const NAME: &[u8] = b"boundary";
    memchr::memchr_iter(b'=', raw)
        .filter(|&eq| {
            let name = raw[..eq].trim_ascii_end();
            name.len() >= NAME.len() && name[name.len() - NAME.len()..].eq_ignore_ascii_case(NAME)
        })
        .take(MAX_NESTING + 1)
        .count()
}
