//! Reading a message once, no deeper than is worth it.
//!
//! Everything in `mail` reads bytes from strangers: a truncated message, a
//! boundary that never comes, a million nested multiparts or attached
//! messages, or plain garbage must give a best-effort answer, never a
//! panic and never a stack overflow. The MIME tree is built once here
//! (`tree`, one pass with an explicit stack), bounded once for every
//! reader of the message (reports, the window's inspector).

use std::sync::LazyLock;

use mail_parser::{HeaderName, MessageParser};

use super::tree::{MimeTree, PartFields};

// mail-parser told which header fields to take apart. Left to its
// defaults it parses every field it knows, `Received:` included, which on
// a busy capture costs more than the rest of a message; each reader below
// asks for the fields it uses and skips the others (their place in the
// header is still recorded, so raw values and offsets stay right).

/// What a message says about itself (`inspect`): the fields mailscope
/// reports structured (`Received` taken apart into hops, and kept raw
/// too), and those of `PART_FIELDS`. `Subject` is read raw, by offset.
pub(crate) static MESSAGE_FIELDS: LazyLock<MessageParser> = LazyLock::new(|| {
    let fields = MessageParser::new()
        .header_id(HeaderName::MessageId)
        .header_address(HeaderName::From)
        .header_address(HeaderName::To)
        .header_address(HeaderName::Cc)
        .header_address(HeaderName::ReplyTo)
        .header_received(HeaderName::Received)
        .header_date(HeaderName::Date);
    // What the top part is: read here once, handed to the MIME tree.
    part_fields(fields)
});

/// What a MIME part is: its type, disposition and transfer encoding
/// (RFC 2045 §5, §6; RFC 2183).
pub(crate) static PART_FIELDS: LazyLock<MessageParser> =
    LazyLock::new(|| part_fields(MessageParser::new()));

/// `parser` reading a part's type, disposition and transfer encoding too,
/// and no other field.
fn part_fields(parser: MessageParser) -> MessageParser {
    parser
        .header_content_type(HeaderName::ContentType)
        .header_content_type(HeaderName::ContentDisposition)
        .header_text(HeaderName::ContentTransferEncoding)
        .default_header_ignore()
}

/// Only where each field starts and ends.
pub(crate) static FIELD_BOUNDS: LazyLock<MessageParser> = LazyLock::new(|| {
    // A non-empty map is what makes mail-parser use the default below
    // for every field; an empty one means "parse everything".
    MessageParser::new()
        .ignore_header(HeaderName::Subject)
        .default_header_ignore()
});

/// Nesting of multiparts and attached messages, together, that is still
/// taken apart; a multipart or message deeper than this is kept whole,
/// as one leaf. Real mail nests three or four levels; 100 is Postfix's
/// `mime_nesting_limit`, the bound a mail server already enforces.
pub(crate) const MAX_NESTING: usize = 100;

/// A message with its MIME tree.
pub(crate) struct ParsedMail<'a> {
    raw: &'a [u8],
    tree: MimeTree,
    /// Whether some multipart or message was nested deeper than
    /// [`MAX_NESTING`] and kept whole.
    too_deep: bool,
    /// Whether the bytes end inside a part.
    open_at_end: bool,
}

impl<'a> ParsedMail<'a> {
    /// Parses `raw`, the whole message as it was delivered.
    pub(crate) fn new(raw: &'a [u8]) -> ParsedMail<'a> {
        Self::with_root(raw, None)
    }

    /// Parses `raw` whose top header fields were already read.
    pub(crate) fn with_root(raw: &'a [u8], root: Option<PartFields>) -> ParsedMail<'a> {
        let (tree, limits) = if raw.is_empty() {
            (MimeTree::default(), Default::default())
        } else {
            MimeTree::build_with_root(raw, "", 0, root)
        };
        ParsedMail {
            raw,
            tree,
            too_deep: limits.too_deep,
            open_at_end: limits.open_at_end,
        }
    }

    /// The bytes the message was parsed from.
    pub(crate) fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The MIME tree (empty when there were no bytes).
    pub(crate) fn tree(&self) -> MimeTree {
        self.tree.clone()
    }

    /// The MIME tree, borrowed.
    pub(crate) fn parts(&self) -> &MimeTree {
        &self.tree
    }

    /// Whether some part was nested too deep to take apart.
    pub(crate) fn too_deep(&self) -> bool {
        self.too_deep
    }

    /// Whether the bytes end inside a part (a leaf runs to the end, or a
    /// multipart never saw its closing line): if the message was cut,
    /// that is where.
    pub(crate) fn open_at_end(&self) -> bool {
        self.open_at_end
    }
}
