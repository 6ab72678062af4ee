//! `BODY[section]` (RFC 3501 §6.4.5): the bytes of a message a FETCH
//! names. The section itself (a part path like `2.1` and what of that
//! part) is the shared grammar's ([`Section`]); the parts are the
//! project's one MIME tree ([`crate::mail::tree`]), which numbers them as
//! IMAP does, so a path is found by its number.

use std::borrow::Cow;
use std::ops::Range;

use crate::mail::headers::{fields, header_end};
use crate::mail::tree::{MimeTree, PartKind};
use crate::proto::imap::section::{Section, SectionText};

/// The bytes a section names, or None if there is no such part (§6.4.5).
///
/// Part numbers: the children of a multipart are 1, 2, ...; a message
/// that is not multipart has just part 1, its body; the numbers after a
/// message/rfc822 part go into the attached message.
pub(super) fn section_bytes<'d>(
    raw: &'d [u8],
    tree: &MimeTree,
    s: &Section,
) -> Option<Cow<'d, [u8]>> {
    let slice = |r: &Range<usize>| raw.get(r.clone()).map(Cow::Borrowed);
    // The message itself. One the MIME parser could not read at all (an
    // empty one, or one with no header line) is split at the end of its
    // header.
    let top = match tree.parts.first() {
        Some(root) => (root.header.clone(), root.body.clone()),
        None => {
            let split = header_end(raw);
            (0..split, split..raw.len())
        }
    };
    if s.path.is_empty() {
        return message_section(raw, &top, &s.text);
    }
    // The part the path names: the first one with that number (a
    // message/rfc822 part comes before the message it carries, which
    // shares its number when it is multipart).
    let number: Vec<String> = s.path.iter().map(u32::to_string).collect();
    let number = number.join(".");
    let Some(part) = tree.parts.iter().find(|p| p.number == number) else {
        // A message the parser could not read still has part 1: its
        // body, under its header.
        if !tree.parts.is_empty() || number != "1" {
            return None;
        }
        return match &s.text {
            SectionText::Full => slice(&top.1),
            SectionText::Mime => slice(&top.0),
            _ => None,
        };
    };
    match &s.text {
        SectionText::Full => slice(&part.body),
        SectionText::Mime => slice(&part.header),
        // HEADER, TEXT and HEADER.FIELDS of a part are about the message
        // a message/rfc822 part carries.
        text => {
            if part.kind != PartKind::Message {
                return None;
            }
            let carried = tree.parts.get(*part.children.first()?)?;
            let message = (carried.header.clone(), carried.body.clone());
            message_section(raw, &message, text)
        }
    }
}

/// HEADER, TEXT, HEADER.FIELDS or all of a message whose header and
/// body are at `(header, body)` in `raw`.
fn message_section<'d>(
    raw: &'d [u8],
    (header, body): &(Range<usize>, Range<usize>),
    text: &SectionText,
) -> Option<Cow<'d, [u8]>> {
    let slice = |r: Range<usize>| raw.get(r).map(Cow::Borrowed);
    match text {
        SectionText::Full => slice(header.start..body.end),
        SectionText::Header => slice(header.clone()),
        SectionText::Text => slice(body.clone()),
        SectionText::HeaderFields { not, names } => {
            let mut out = Vec::new();
            for f in fields(raw.get(header.clone())?) {
                let listed = names
                    .iter()
                    .any(|n| n.as_bytes().eq_ignore_ascii_case(f.name));
                if listed != *not {
                    out.extend_from_slice(f.raw);
                    if !f.raw.ends_with(b"\n") {
                        out.extend_from_slice(b"\r\n");
                    }
                }
            }
            // The blank line that ends a header is part of it.
            out.extend_from_slice(b"\r\n");
            Some(Cow::Owned(out))
        }
        // Only a part has a MIME header.
        SectionText::Mime => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::structure::mime_tree;
    use super::super::test_support::NESTED;
    use super::*;

    #[test]
    fn nested_message_sections() {
        let tree = mime_tree(NESTED);
        let get = |s: &str| {
            let sec = Section::parse(s).unwrap();
            section_bytes(NESTED, &tree, &sec).map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        assert_eq!(get("1").as_deref(), Some("first"));
        assert_eq!(
            get("2.HEADER").as_deref(),
            Some("Subject: inner\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n")
        );
        assert_eq!(get("2.1").as_deref(), Some("plain"));
        assert_eq!(get("2.2").as_deref(), Some("<b>html</b>"));
        assert_eq!(
            get("2.2.MIME").as_deref(),
            Some("Content-Type: text/html\r\n\r\n")
        );
        assert_eq!(
            get("2.HEADER.FIELDS (subject)").as_deref(),
            Some("Subject: inner\r\n\r\n")
        );
        assert_eq!(get("1.1"), None);
        assert_eq!(get("3"), None);
    }
}
