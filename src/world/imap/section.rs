//! `BODY[section]` (RFC 3501 §6.4.5, section-spec in §9): which bytes of
//! a message a FETCH names. A section is a part path like `2.1` and what of
//! that part: all of it, its MIME header, or, for a message (the top one or
//! one attached as message/rfc822), its HEADER, TEXT or chosen
//! HEADER.FIELDS.

use std::borrow::Cow;
use std::ops::Range;

use super::MAX_DEPTH;
use super::headers::header_fields;
use super::reader::Segment;
use super::structure::{MimeTree, NodeKind};
use super::syntax::{Tok, tokenize};

/// Which bytes of a message: a part path like `1.2` and what of it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Section {
    pub(super) path: Vec<u32>,
    pub(super) text: SectionText,
}

/// What of the part a section names.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SectionText {
    /// The whole message (empty path) or the part's body.
    Full,
    Header,
    HeaderFields {
        not: bool,
        names: Vec<String>,
    },
    Text,
    /// The MIME header of a part.
    Mime,
}

/// `1.2.HEADER.FIELDS (From To)` and friends (§6.4.5, section-spec in §9).
pub(super) fn parse_section(inner: &str) -> Option<Section> {
    let (spec, fields) = match inner.split_once(' ') {
        Some((s, f)) => (s, Some(f)),
        None => (inner, None),
    };
    let mut path = Vec::new();
    let mut words = spec.split('.').filter(|w| !w.is_empty()).peekable();
    while let Some(w) = words.peek() {
        if !w.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        let n: u32 = w.parse().ok().filter(|&n| n > 0)?;
        path.push(n);
        if path.len() > MAX_DEPTH {
            return None;
        }
        words.next();
    }
    let rest = words.collect::<Vec<_>>().join(".").to_ascii_uppercase();
    let text = match (rest.as_str(), fields) {
        ("", None) => SectionText::Full,
        ("HEADER", None) => SectionText::Header,
        ("TEXT", None) => SectionText::Text,
        ("MIME", None) if !path.is_empty() => SectionText::Mime,
        ("HEADER.FIELDS" | "HEADER.FIELDS.NOT", Some(list)) => {
            let mut segs = [Segment::Line(list.as_bytes().to_vec())];
            let toks = tokenize(&mut segs).ok()?;
            let [Tok::List(names)] = &toks[..] else {
                return None;
            };
            let names: Vec<String> = names.iter().map(Tok::astring_text).collect::<Option<_>>()?;
            if names.is_empty() {
                return None;
            }
            SectionText::HeaderFields {
                not: rest.ends_with(".NOT"),
                names,
            }
        }
        _ => return None,
    };
    Some(Section { path, text })
}

/// A section as it is named in the answer.
pub(super) fn section_text(s: &Section) -> String {
    let mut out: Vec<String> = s.path.iter().map(u32::to_string).collect();
    match &s.text {
        SectionText::Full => {}
        SectionText::Header => out.push("HEADER".into()),
        SectionText::Text => out.push("TEXT".into()),
        SectionText::Mime => out.push("MIME".into()),
        SectionText::HeaderFields { not, names } => {
            let names: Vec<String> = names.iter().map(|n| n.to_ascii_uppercase()).collect();
            out.push(format!(
                "HEADER.FIELDS{} ({})",
                if *not { ".NOT" } else { "" },
                names.join(" ")
            ));
        }
    }
    out.join(".")
}

/// The bytes a section names, or None if there is no such part (§6.4.5).
///
/// Part numbers: the children of a multipart are 1, 2, ...; a message
/// that is not multipart has just part 1, its body; the numbers after a
/// message/rfc822 part go into the attached message.
pub(super) fn section_bytes<'d>(
    data: &'d [u8],
    tree: &MimeTree,
    s: &Section,
) -> Option<Cow<'d, [u8]>> {
    let slice = |r: &Range<usize>| data.get(r.clone()).map(Cow::Borrowed);
    let mut node = &tree.root;
    // Is `node` the root of a message (the top one or an attached one)?
    let mut message_root = true;
    for &n in &s.path {
        if !message_root && let NodeKind::Message { root, .. } = &node.kind {
            node = root;
            message_root = true;
        }
        match &node.kind {
            NodeKind::Multipart(children) => node = children.get(n as usize - 1)?,
            _ if message_root && n == 1 => {}
            _ => return None,
        }
        message_root = false;
    }
    match &s.text {
        SectionText::Full => slice(&node.body),
        SectionText::Mime => slice(&node.header),
        text => {
            // HEADER, TEXT and HEADER.FIELDS are about a message: the top
            // one, or the one inside a message/rfc822 part.
            let message = if s.path.is_empty() {
                node
            } else {
                match &node.kind {
                    NodeKind::Message { root, .. } => root,
                    _ => return None,
                }
            };
            match text {
                SectionText::Header => slice(&message.header),
                SectionText::Text => slice(&message.body),
                SectionText::HeaderFields { not, names } => {
                    let header = data.get(message.header.clone())?;
                    let mut out = Vec::new();
                    for f in header_fields(header) {
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
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::NESTED;
    use super::*;

    #[test]
    fn nested_message_sections() {
        let tree = MimeTree::new(NESTED);
        let get = |s: &str| {
            let sec = parse_section(s).unwrap();
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
