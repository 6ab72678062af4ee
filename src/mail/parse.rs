//! Reading a message once, no deeper than is worth it.
//!
//! Everything in `mail` reads bytes from strangers: a truncated message, a
//! boundary that never comes, a million nested multiparts or attached
//! messages, or plain garbage must give a best-effort answer, never a
//! panic and never a stack overflow. The MIME tree is built once here
//! (`tree`, one pass with an explicit stack), bounded once for every
//! reader of the message (reports, the window's inspector).

use super::tree::MimeTree;

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
        let (tree, limits) = if raw.is_empty() {
            (MimeTree::default(), Default::default())
        } else {
            MimeTree::build(raw, "", 0)
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
