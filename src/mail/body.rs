//! The text a person reads: the message's body, whatever shape the MIME
//! tree gives it.
//!
//! A message may carry its text as `text/plain`, as `text/html`, or both
//! as the alternatives of a `multipart/alternative` (RFC 2046 §5.1.4:
//! the same content, the plainest first). mail-parser picks the text
//! bodies (`Message::text_body`) and undoes transfer encoding and charset.

use mail_parser::PartType;
use mail_parser::decoders::html::html_to_text;

use super::parse::ParsedMail;

impl ParsedMail<'_> {
    /// The `text/plain` body, else the `text/html` one turned into plain
    /// text (tags dropped, entities decoded). Several inline text parts
    /// of a `multipart/mixed` are joined by an empty line. Lines end with
    /// `\n`. Empty when the message has no text body (or is nested too
    /// deep to take apart).
    pub(crate) fn body_text(&self) -> String {
        let Some(msg) = self.message() else {
            return String::new();
        };
        let texts: Vec<String> = msg
            .text_body
            .iter()
            .filter_map(|&id| msg.parts.get(id as usize))
            .filter_map(|part| match &part.body {
                PartType::Text(text) => Some(text.to_string()),
                PartType::Html(html) => Some(html_to_text(html)),
                _ => None,
            })
            .collect();
        texts.join("\n\n").replace("\r\n", "\n")
    }
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
