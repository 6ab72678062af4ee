//! The text a person reads: the message's body, whatever shape the MIME
//! tree gives it.
//!
//! A message may carry its text as `text/plain`, as `text/html`, or both
//! as the alternatives of a `multipart/alternative` (RFC 2046 §5.1.4:
//! the same content, the plainest first). The body parts are picked from
//! the MIME tree (`tree`), their transfer encoding undone (`transfer`)
//! and their charset converted with mail-parser's charset tables.

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::html::html_to_text;

use super::header_text::utf8_or_windows_1252;
use super::parse::ParsedMail;
use super::tree::{MimeTree, Part, PartKind};

impl ParsedMail<'_> {
    /// The `text/plain` body, else the `text/html` one turned into plain
    /// text (tags dropped, entities decoded). Several inline text parts
    /// of a `multipart/mixed` are joined by an empty line. Lines end with
    /// `\n`. Empty when the message has no text body.
    ///
    /// Which parts are the body: in a `multipart/alternative` the plain
    /// text alternative, else the HTML one, else the last (RFC 2046
    /// §5.1.4 orders them plainest first); in a `multipart/related` its
    /// root, the first part (RFC 2387 §3.2); in any other multipart every
    /// text part that is not an attachment. An attached message has a
    /// body of its own, not this message's.
    pub(crate) fn body_text(&self) -> String {
        let tree = self.parts();
        let mut texts = Vec::new();
        let mut stack: Vec<usize> = if tree.parts.is_empty() {
            vec![]
        } else {
            vec![0]
        };
        while let Some(i) = stack.pop() {
            let part = &tree.parts[i];
            match part.kind {
                PartKind::Message => {}
                PartKind::Multipart => {
                    let chosen = match part.mime_type() {
                        "multipart/alternative" => alternative(tree, part).into_iter().collect(),
                        "multipart/related" => part.children.first().copied().into_iter().collect(),
                        _ => part.children.clone(),
                    };
                    stack.extend(chosen.into_iter().rev());
                }
                PartKind::Single => {
                    if let Some(text) = self.text_of(part) {
                        texts.push(text);
                    }
                }
            }
        }
        texts.join("\n\n").replace("\r\n", "\n")
    }

    /// A body part's text, charset decoded (`charset=` in any charset the
    /// table knows; without one, UTF-8, else windows-1252); HTML made
    /// plain. None for parts that are not body text.
    fn text_of(&self, part: &Part) -> Option<String> {
        let html = match part.mime_type() {
            "text/plain" => false,
            "text/html" => true,
            _ => return None,
        };
        let marked = part
            .disposition
            .as_ref()
            .is_some_and(|d| d.value == "attachment");
        if marked || part.file_name().is_some() {
            return None;
        }
        let text = self.decoded_text(part);
        Some(if html { html_to_text(&text) } else { text })
    }

    /// A text leaf's content as text: its transfer encoding undone, its
    /// `charset=` read (any charset the table knows; without one, UTF-8,
    /// else windows-1252).
    pub(crate) fn decoded_text(&self, part: &Part) -> String {
        let bytes = part.encoding().decode(&self.raw()[part.body.clone()]).bytes;
        charset_text(part, &bytes)
    }
}

/// A text leaf's decoded bytes read in its charset.
pub(crate) fn charset_text(part: &Part, bytes: &[u8]) -> String {
    match part
        .content_type
        .param("charset")
        .and_then(|c| charset_decoder(c.as_bytes()))
    {
        Some(decode) => decode(bytes),
        None => utf8_or_windows_1252(bytes).into_owned(),
    }
}

/// The alternative of a `multipart/alternative` a text reader shows.
fn alternative(tree: &MimeTree, part: &Part) -> Option<usize> {
    let of_type = |t: &str| {
        part.children
            .iter()
            .copied()
            .find(|&c| tree.parts[c].mime_type() == t)
    };
    of_type("text/plain")
        .or_else(|| of_type("text/html"))
        .or_else(|| part.children.last().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::samples::{crlf, mixed, nested};

    fn body_text(raw: &[u8]) -> String {
        ParsedMail::new(raw).body_text()
    }

    #[test]
    fn body_is_plain_text_else_html_made_plain() {
        assert_eq!(body_text(&mixed()), "Hola Ana, mañana hay reunión.");
        // multipart/alternative: the text/plain alternative wins; the HTML
        // inside the attached message is not this message's body.
        assert_eq!(body_text(&nested()), "See you there.");
        let html = crlf(&[
            "Subject: x",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<html><head><style>p {}</style></head>",
            "<body><p>Only &lt;HTML&gt;</p><p>second</p></body></html>",
        ]);
        assert_eq!(body_text(&html), "Only <HTML>\nsecond\n");
        let image_only = crlf(&[
            "Content-Type: image/png",
            "Content-Transfer-Encoding: base64",
            "",
            "iVBORw0KGgo=",
        ]);
        assert_eq!(body_text(&image_only), "");
        assert_eq!(body_text(b""), "");
    }
}
