//! One connection as a sequence diagram, for the teacher's slides.
//!
//! A sequence diagram is how textbooks draw a protocol: one vertical
//! lifeline per machine, time flowing down, one arrow per message. A
//! connection is drawn that way in two formats:
//!
//! * [`mermaid`]: Mermaid text (`sequenceDiagram`), to paste into Markdown
//!   slides, a wiki or the Mermaid live editor, where it can still be
//!   edited by hand;
//! * [`svg`]: a finished picture (one standalone SVG 1.1 file) for any
//!   slide program.
//!
//! Both are drawn from the same diagram, built once from a plain
//! [`Connection`] (`sequence`), so the two formats can never disagree
//! about what happened: the renderers (`mermaid`, `svg`) only decide how
//! it looks. The window builds the [`Connection`] from its scene; this
//! module knows nothing of the window.

mod mermaid;
pub(crate) mod sequence;
mod svg;

use sequence::Diagram;
pub(crate) use sequence::{Connection, Wording};
#[cfg(test)]
pub(crate) use svg::tests::assert_well_formed;

/// Mermaid `sequenceDiagram` text of `conn`. No connection (the window
/// asked about one of a capture it has just replaced) gives an empty
/// diagram rather than a panic.
pub(crate) fn mermaid(conn: Option<&Connection>, words: &Wording) -> String {
    mermaid::render(conn.map(|c| Diagram::of(c, words)).as_ref())
}

/// A standalone SVG document of the same diagram. The picture is sized to
/// its content: wider when the longest text needs it, taller with every
/// arrow, so nothing is ever cut off.
pub(crate) fn svg(conn: Option<&Connection>, words: &Wording) -> String {
    let diagram = conn.map(|c| Diagram::of(c, words)).unwrap_or_default();
    svg::render(&diagram, words.faint_legend)
}
