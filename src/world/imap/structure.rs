//! The MIME structure of a message (RFC 2045, RFC 2046) as IMAP shows it:
//! BODY and BODYSTRUCTURE (RFC 3501 §7.4.2). The tree is built
//! recursively from what the `mail-parser` crate finds (multipart,
//! message/rfc822 with its envelope, leaf parts) and keeps byte ranges
//! into the raw message, so sections are the message's own bytes.
//!
//! The extension data of BODYSTRUCTURE is the Content-Type parameters, the
//! Content-Disposition, and NIL for MD5 and language.

use std::ops::Range;

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::MAX_DEPTH;
use super::envelope::envelope;
use super::headers::header_end;
use super::syntax::{push_nstring, push_string};

/// A message's MIME structure with byte ranges into the raw message.
pub(super) struct MimeTree {
    pub(super) root: MimeNode,
    /// The top-level ENVELOPE, already in IMAP syntax.
    pub(super) envelope: Vec<u8>,
}

/// One part of a message.
pub(super) struct MimeNode {
    /// The part's MIME header, blank line included.
    pub(super) header: Range<usize>,
    pub(super) body: Range<usize>,
    /// Type and subtype, lower case.
    media: (String, String),
    params: Vec<(String, String)>,
    id: Option<String>,
    description: Option<String>,
    encoding: Option<String>,
    disposition: Option<(String, Vec<(String, String)>)>,
    pub(super) kind: NodeKind,
}

/// What a part holds besides its own body.
pub(super) enum NodeKind {
    Single,
    Multipart(Vec<MimeNode>),
    /// message/rfc822: the envelope and structure of the message inside.
    Message {
        envelope: Vec<u8>,
        root: Box<MimeNode>,
    },
}

impl MimeTree {
    /// The tree of a raw message.
    pub(super) fn new(data: &[u8]) -> MimeTree {
        match MessageParser::default().parse(data) {
            Some(m) if !m.parts.is_empty() => MimeTree {
                root: build_node(&m, 0, data.len(), 0),
                envelope: envelope(&m),
            },
            // Not even a header: one text part, an empty envelope.
            _ => {
                let split = header_end(data);
                MimeTree {
                    root: MimeNode::plain_text(0..split, split..data.len()),
                    envelope: b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)".to_vec(),
                }
            }
        }
    }
}

impl MimeNode {
    /// A text/plain leaf with no parameters: what a part without any MIME
    /// header fields is (RFC 2045 §5.2), and the stand-in where the parser
    /// found nothing.
    fn plain_text(header: Range<usize>, body: Range<usize>) -> MimeNode {
        MimeNode {
            header,
            body,
            media: ("text".into(), "plain".into()),
            params: Vec::new(),
            id: None,
            description: None,
            encoding: None,
            disposition: None,
            kind: NodeKind::Single,
        }
    }
}

/// Turn part `id` of a parsed message (and its children) into a node.
/// mail-parser's offsets all point into the outermost raw message, also
/// for the parts of an attached message.
fn build_node(m: &Message, id: usize, len: usize, depth: usize) -> MimeNode {
    let Some(p) = m.parts.get(id) else {
        return MimeNode::plain_text(0..0, 0..0);
    };
    let range = |a: u32, b: u32| {
        let a = (a as usize).min(len);
        a..(b as usize).min(len).max(a)
    };
    let kind = match &p.body {
        PartType::Multipart(ids) if depth < MAX_DEPTH && !ids.is_empty() => NodeKind::Multipart(
            ids.iter()
                .map(|&c| build_node(m, c as usize, len, depth + 1))
                .collect(),
        ),
        PartType::Message(inner) if depth < MAX_DEPTH && !inner.parts.is_empty() => {
            NodeKind::Message {
                envelope: envelope(inner),
                root: Box::new(build_node(inner, 0, len, depth + 1)),
            }
        }
        _ => NodeKind::Single,
    };
    let ct = p.content_type();
    let media = match (ct, &kind) {
        (Some(c), _) => (
            c.ctype().to_ascii_lowercase(),
            c.subtype().unwrap_or("").to_ascii_lowercase(),
        ),
        (None, NodeKind::Multipart(_)) => ("multipart".into(), "mixed".into()),
        (None, NodeKind::Message { .. }) => ("message".into(), "rfc822".into()),
        (None, NodeKind::Single) => ("text".into(), "plain".into()),
    };
    let attrs = |c: &mail_parser::ContentType| -> Vec<(String, String)> {
        c.attributes()
            .unwrap_or(&[])
            .iter()
            .map(|a| (a.name.to_string(), a.value.to_string()))
            .collect()
    };
    MimeNode {
        header: range(p.offset_header, p.offset_body),
        body: range(p.offset_body, p.offset_end),
        params: ct.map(attrs).unwrap_or_default(),
        id: p.content_id().map(str::to_string),
        description: p.content_description().map(str::to_string),
        encoding: p.content_transfer_encoding().map(str::to_string),
        disposition: p
            .content_disposition()
            .map(|d| (d.ctype().to_string(), attrs(d))),
        media,
        kind,
    }
}

/// Write BODY (`ext` false) or BODYSTRUCTURE (`ext` true), §7.4.2.
pub(super) fn write_structure(out: &mut Vec<u8>, n: &MimeNode, data: &[u8], ext: bool) {
    let write_params = |out: &mut Vec<u8>, params: &[(String, String)]| {
        if params.is_empty() {
            out.extend_from_slice(b"NIL");
            return;
        }
        out.push(b'(');
        for (k, (name, value)) in params.iter().enumerate() {
            if k > 0 {
                out.push(b' ');
            }
            push_string(out, name.as_bytes());
            out.push(b' ');
            push_string(out, value.as_bytes());
        }
        out.push(b')');
    };
    let write_disposition = |out: &mut Vec<u8>| match &n.disposition {
        Some((kind, params)) => {
            out.push(b'(');
            push_string(out, kind.as_bytes());
            out.push(b' ');
            write_params(out, params);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    };
    out.push(b'(');
    if let NodeKind::Multipart(children) = &n.kind {
        // body-type-mpart: the parts one after the other, then the subtype.
        for c in children {
            write_structure(out, c, data, ext);
        }
        out.push(b' ');
        push_string(out, n.media.1.to_ascii_uppercase().as_bytes());
        if ext {
            out.push(b' ');
            write_params(out, &n.params);
            out.push(b' ');
            write_disposition(out);
            out.extend_from_slice(b" NIL");
        }
        out.push(b')');
        return;
    }
    let body = data.get(n.body.clone()).unwrap_or(&[]);
    push_string(out, n.media.0.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    push_string(out, n.media.1.to_ascii_uppercase().as_bytes());
    out.push(b' ');
    let mut params = n.params.clone();
    if n.media.0 == "text"
        && !params
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("charset"))
    {
        params.push(("charset".into(), "us-ascii".into()));
    }
    write_params(out, &params);
    out.push(b' ');
    push_nstring(out, n.id.as_deref().map(str::as_bytes));
    out.push(b' ');
    push_nstring(out, n.description.as_deref().map(str::as_bytes));
    out.push(b' ');
    let encoding = n.encoding.as_deref().unwrap_or("7bit").to_ascii_uppercase();
    push_string(out, encoding.as_bytes());
    out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    let lines = memchr::memchr_iter(b'\n', body).count();
    match &n.kind {
        NodeKind::Message { envelope, root } => {
            out.push(b' ');
            out.extend_from_slice(envelope);
            out.push(b' ');
            write_structure(out, root, data, ext);
            out.extend_from_slice(format!(" {lines}").as_bytes());
        }
        _ if n.media.0 == "text" => out.extend_from_slice(format!(" {lines}").as_bytes()),
        _ => {}
    }
    if ext {
        // MD5, disposition, language.
        out.extend_from_slice(b" NIL ");
        write_disposition(out);
        out.extend_from_slice(b" NIL");
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::super::test_support::NESTED;
    use super::*;

    #[test]
    fn nested_message_structure() {
        let tree = MimeTree::new(NESTED);
        let mut out = Vec::new();
        write_structure(&mut out, &tree.root, NESTED, false);
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("\"MESSAGE\" \"RFC822\""), "{s}");
        assert!(s.contains("\"ALTERNATIVE\")"), "{s}");
        assert!(s.ends_with(" \"MIXED\")"), "{s}");
    }
}
