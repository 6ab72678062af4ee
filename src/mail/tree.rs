//! The MIME tree of a message, its parts numbered the way IMAP numbers
//! them.
//!
//! A message on the wire is text (RFC 5322): header lines, an empty line,
//! the body. MIME (RFC 2045, RFC 2046) turns that body into a tree: a
//! `multipart/*` part holds other parts between `--boundary` lines, a
//! `message/rfc822` part holds a whole message, every other part is a
//! leaf whose content is transfer-encoded (`base64`, `quoted-printable`)
//! so it survives a 7-bit channel.
//!
//! IMAP names the parts by numbers (RFC 3501 §6.4.5), and so does this
//! tree, so that `BODY[1.2]` and BODYSTRUCTURE can be read off it:
//! * the parts of a multipart are numbered 1, 2, 3… inside the number of
//!   the multipart (`1.2` is the second part of part 1);
//! * a message that is not multipart has one part, `1`: its body;
//! * the numbers below a `message/rfc822` part go into the message it
//!   carries: if that message is multipart, its parts are `2.1`, `2.2`…
//!   (and the multipart itself shares the number `2` with the
//!   `message/rfc822` part: `2.HEADER`, `2.TEXT`); if not, its body is
//!   `2.1`.
//!
//! The top-level multipart of a message has no number of its own (it is
//! the message: `HEADER`, `TEXT`); here its number is the empty string.
//!
//! What IMAP's BODYSTRUCTURE (RFC 3501 §7.4.2) says of a part is read off
//! it: type, subtype and parameters ([`Part::content_type`]), the encoding
//! ([`Part::transfer_encoding`], `7bit` when None), the size in octets and
//! the lines of its body as sent ([`Part::body`], a range of the raw
//! message), the disposition, and the nesting ([`Part::children`]; the one
//! child of a `message/rfc822` part is the message it carries). The
//! part's own header lines ([`Part::header`]) give the rest: Content-ID,
//! Content-Description, and for a carried message its ENVELOPE.

use std::ops::Range;

use mail_parser::{ContentType, Message, MessagePart, MimeHeaders, PartType};

use super::attachments::decoded_content;
use super::headers::header_end;
use super::parse::ParsedMail;

/// Parts listed in a tree at most: whatever the parts claim, the work
/// and the memory stay bounded.
pub(crate) const MAX_PARTS: usize = 5_000;

/// A message's parts, parent before children (a pre-order walk, as
/// RFC 2046 §5.1 nests them): the message itself first.
#[derive(Clone, Debug, Default)]
pub(crate) struct MimeTree {
    pub(crate) parts: Vec<Part>,
}

/// What a part holds, as far as the tree is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartKind {
    /// A leaf: text, an image, a file; also a part that was not taken
    /// apart (a multipart without a boundary, a transfer-encoded
    /// `message/rfc822`, which RFC 2046 §5.2.1 forbids).
    Single,
    /// `multipart/*`: its children are its parts.
    Multipart,
    /// `message/rfc822`: its one child is the message it carries.
    Message,
}

/// A header value with parameters, as `Content-Type` (RFC 2045 §5.1) and
/// `Content-Disposition` (RFC 2183 §2) write them:
/// `value; name=param; name=param`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ValueWithParams {
    /// `text/plain`, `attachment`: lower case.
    pub(crate) value: String,
    /// In the order written, RFC 2231 continuations and charsets undone
    /// (`filename*0*=utf-8''ma%C3%B1;filename*1=ana.txt` is one
    /// `filename`, `mañana.txt`).
    pub(crate) params: Vec<(String, String)>,
}

impl ValueWithParams {
    /// The parameter called `name` (as mail-parser names them).
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One MIME part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    /// The IMAP part number (see the module's comment): `1`, `2.1`, or
    /// empty for the top-level multipart.
    pub(crate) number: String,
    /// 0 for the message itself, one more for every multipart or attached
    /// message it sits in.
    pub(crate) depth: usize,
    pub(crate) kind: PartKind,
    /// The multipart or `message/rfc822` part it sits in (an index into
    /// [`MimeTree::parts`]); None for the message itself.
    pub(crate) parent: Option<usize>,
    /// Indices into [`MimeTree::parts`], in order.
    pub(crate) children: Vec<usize>,
    /// `type/subtype` and its parameters. A part without a `Content-Type`
    /// is `text/plain` (RFC 2045 §5.2), except inside a `multipart/digest`,
    /// where it is `message/rfc822` (RFC 2046 §5.1.5).
    pub(crate) content_type: ValueWithParams,
    /// `attachment` or `inline` and their parameters (RFC 2183), if given.
    pub(crate) disposition: Option<ValueWithParams>,
    /// The `Content-Transfer-Encoding` as written (lower case), None when
    /// the part has none (which means `7bit`, RFC 2045 §6.1).
    pub(crate) transfer_encoding: Option<String>,
    /// Where the part's own header lines are in the raw message, the empty
    /// line that ends them included (IMAP's `1.2.MIME`; for a message, its
    /// header).
    pub(crate) header: Range<usize>,
    /// Where its body is, as sent: for a leaf the encoded content, without
    /// the line break that belongs to the next boundary (RFC 2046
    /// §5.1.1); for a multipart its preamble, parts and boundary lines.
    pub(crate) body: Range<usize>,
    /// Bytes of content of a leaf once its transfer encoding is undone.
    decoded_len: usize,
}

impl Part {
    /// The `type/subtype`, lower case.
    pub(crate) fn mime_type(&self) -> &str {
        &self.content_type.value
    }

    /// The file name: the RFC 2183 `filename` parameter of
    /// `Content-Disposition`, else the older `name` parameter of
    /// `Content-Type`.
    pub(crate) fn file_name(&self) -> Option<&str> {
        self.disposition
            .as_ref()
            .and_then(|d| d.param("filename"))
            .or_else(|| self.content_type.param("name"))
    }

    /// Bytes of content. For a leaf, once the transfer encoding is undone
    /// (RFC 2045 §6: what a saved file would hold); for an attached
    /// message, the whole message; for a multipart, its body as sent.
    pub(crate) fn size(&self) -> usize {
        match self.kind {
            PartKind::Single => self.decoded_len,
            PartKind::Multipart | PartKind::Message => self.body.len(),
        }
    }
}

impl MimeTree {
    /// The FETCH section whose answer is the body of part `i`
    /// (RFC 3501 §6.4.5): the part's number, except for a multipart that
    /// is a message's body, which IMAP calls that message's `TEXT`
    /// (`TEXT` at the top, `2.TEXT` inside part 2).
    pub(crate) fn section(&self, i: usize) -> String {
        let Some(part) = self.parts.get(i) else {
            return String::new();
        };
        let carrier = part.parent.and_then(|p| self.parts.get(p));
        let message_body = carrier.is_none_or(|c| c.kind == PartKind::Message);
        if part.number.is_empty() || (message_body && part.kind == PartKind::Multipart) {
            match part.number.as_str() {
                "" => "TEXT".to_string(),
                n => format!("{n}.TEXT"),
            }
        } else {
            part.number.clone()
        }
    }
}

impl ParsedMail<'_> {
    /// The MIME tree. Empty when the bytes hold nothing to parse; the root
    /// alone when the nesting is too deep to be worth taking apart.
    pub(crate) fn tree(&self) -> MimeTree {
        let Some(msg) = self.message() else {
            return MimeTree::default();
        };
        if self.too_deep() {
            return MimeTree {
                parts: msg
                    .parts
                    .first()
                    .map(|p| self.unparsed_root(p))
                    .into_iter()
                    .collect(),
            };
        }
        let raw = self.raw();
        let mut parts: Vec<Part> = Vec::new();
        // (message the part belongs to, its part id, depth, parent); an
        // explicit stack, so depth costs no recursion.
        let mut stack: Vec<(&Message, u32, usize, Option<usize>)> = vec![(msg, 0, 0, None)];
        while let Some((m, id, depth, parent)) = stack.pop() {
            if parts.len() >= MAX_PARTS {
                break;
            }
            let Some(part) = m.parts.get(id as usize) else {
                continue;
            };
            let index = parts.len();
            // Children are pushed last-first so that the first pops first.
            let kind = match &part.body {
                PartType::Multipart(children) => {
                    let below = children.iter().rev();
                    stack.extend(below.map(|&c| (m, c, depth + 1, Some(index))));
                    PartKind::Multipart
                }
                PartType::Message(inner) if parsed_in_place(inner, raw) => {
                    stack.push((inner, 0, depth + 1, Some(index)));
                    PartKind::Message
                }
                _ => PartKind::Single,
            };
            // Part offsets count from the start of the buffer the message
            // was parsed from: for the parts of an attached message that
            // was not transfer-encoded, the outer message's bytes.
            let range = |from: u32, to: u32| {
                let from = (from as usize).min(raw.len());
                from..(to as usize).clamp(from, raw.len())
            };
            parts.push(Part {
                number: String::new(),
                depth,
                kind,
                parent,
                children: Vec::new(),
                content_type: ValueWithParams {
                    value: mime_type(part),
                    params: part.content_type().map(params).unwrap_or_default(),
                },
                disposition: part.content_disposition().map(|d| ValueWithParams {
                    value: d.ctype().to_ascii_lowercase(),
                    params: params(d),
                }),
                transfer_encoding: transfer_encoding(part),
                header: range(part.offset_header, part.offset_body),
                body: range(part.offset_body, part.offset_end),
                decoded_len: match kind {
                    PartKind::Single => decoded_content(m, part).len(),
                    _ => 0,
                },
            });
            if let Some(p) = parent {
                parts[p].children.push(index);
            }
        }
        number_parts(&mut parts);
        MimeTree { parts }
    }

    /// The message itself when it is not taken apart: its header, and
    /// everything after it as one body.
    fn unparsed_root(&self, root: &MessagePart) -> Part {
        let raw = self.raw();
        let split = header_end(raw);
        let value = mime_type(root);
        Part {
            // A multipart is the message's body, not its part 1, even
            // when it is not taken apart.
            number: if value.starts_with("multipart/") {
                String::new()
            } else {
                message_number("", PartKind::Single)
            },
            depth: 0,
            kind: PartKind::Single,
            parent: None,
            children: Vec::new(),
            content_type: ValueWithParams {
                value,
                params: root.content_type().map(params).unwrap_or_default(),
            },
            disposition: None,
            transfer_encoding: transfer_encoding(root),
            header: 0..split,
            body: split..raw.len(),
            decoded_len: raw.len() - split,
        }
    }
}

/// Whether an attached message was parsed from the outer message's own
/// bytes, so its offsets point into them. One that was transfer-encoded
/// was parsed from the decoded copy instead; the tree shows it as a leaf.
fn parsed_in_place(inner: &Message, raw: &[u8]) -> bool {
    std::ptr::eq(inner.raw_message.as_ptr(), raw.as_ptr())
}

/// Gives every part its IMAP number (RFC 3501 §6.4.5). Parents come
/// before their children in `parts`, so one pass in order numbers all.
fn number_parts(parts: &mut [Part]) {
    // The message itself is numbered as if a message/rfc822 part without
    // a number carried it.
    if let Some(root) = parts.first_mut() {
        root.number = message_number("", root.kind);
    }
    for i in 0..parts.len() {
        let parent = parts[i].number.clone();
        let kind = parts[i].kind;
        for k in 0..parts[i].children.len() {
            let child = parts[i].children[k];
            parts[child].number = match kind {
                PartKind::Message => message_number(&parent, parts[child].kind),
                _ => sub_number(&parent, k + 1),
            };
        }
    }
}

/// The number of a message carried by part `carrier` (empty for the top
/// message): a multipart message has the carrier's number, any other
/// message is the carrier's part 1.
fn message_number(carrier: &str, kind: PartKind) -> String {
    match kind {
        PartKind::Multipart => carrier.to_string(),
        _ => sub_number(carrier, 1),
    }
}

/// `n` inside `parent`: `1.2` for part 2 of part 1, `2` for part 2 of the
/// top-level multipart.
fn sub_number(parent: &str, n: usize) -> String {
    if parent.is_empty() {
        n.to_string()
    } else {
        format!("{parent}.{n}")
    }
}

/// `type/subtype`, lower case; `text/plain` when the part has none
/// (RFC 2045 §5.2's default), `message/rfc822` for an attached message
/// (RFC 2046 §5.1.5, a part of a `multipart/digest`).
pub(super) fn mime_type(part: &MessagePart) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if part.is_message() => "message/rfc822".into(),
        None => "text/plain".into(),
    }
}

fn params(value: &ContentType) -> Vec<(String, String)> {
    value
        .attributes()
        .unwrap_or(&[])
        .iter()
        .map(|a| (a.name.to_string(), a.value.to_string()))
        .collect()
}

fn transfer_encoding(part: &MessagePart) -> Option<String> {
    part.content_transfer_encoding()
        .map(|e| e.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::headers::decoded_headers;
    use crate::mail::samples::{crlf, mixed, nested, owned};

    /// Bytes after the empty line that ends the headers.
    fn body_len(m: &[u8]) -> usize {
        m.len() - header_end(m)
    }

    /// (depth, type, file name, size, transfer encoding) of a part.
    type Row = (usize, String, Option<String>, usize, Option<String>);

    /// The rows of every part.
    fn rows(m: &[u8]) -> Vec<Row> {
        ParsedMail::new(m)
            .tree()
            .parts
            .iter()
            .map(|p| {
                let name = p.file_name().map(str::to_string);
                let t = p.mime_type().to_string();
                (p.depth, t, name, p.size(), p.transfer_encoding.clone())
            })
            .collect()
    }

    fn row(depth: usize, ct: &str, name: Option<&str>, size: usize, enc: Option<&str>) -> Row {
        let text = |s: &str| s.to_string();
        (depth, text(ct), name.map(text), size, enc.map(text))
    }

    #[test]
    fn tree_of_a_mixed_message() {
        let m = mixed();
        assert_eq!(
            rows(&m),
            [
                row(0, "multipart/mixed", None, body_len(&m), None),
                // "Hola Ana, mañana hay reunión." in UTF-8 (ñ and ó take two
                // bytes each); the CRLF before `--outer` belongs to the
                // boundary (RFC 2046 §5.1.1).
                row(1, "text/plain", None, 31, Some("quoted-printable")),
                row(1, "text/plain", Some("notes.txt"), 20, Some("base64")),
                row(1, "application/x-sh", Some("../../evil.sh"), 9, None),
            ]
        );
        let tree = ParsedMail::new(&m).tree();
        let numbers: Vec<&str> = tree.parts.iter().map(|p| p.number.as_str()).collect();
        assert_eq!(numbers, ["", "1", "2", "3"]);
        assert_eq!(tree.parts[0].children, [1, 2, 3]);
        let notes = &tree.parts[2];
        assert_eq!(notes.content_type.params, owned(&[("name", "notes.txt")]));
        let disposition = notes.disposition.as_ref().unwrap();
        assert_eq!(disposition.value, "attachment");
        // The byte ranges: BODY[2] is the base64 as sent, BODY[2.MIME]
        // the part's header lines and the empty line after them.
        assert_eq!(&m[notes.body.clone()], b"bGluZSBvbmUNCmxpbmUgdHdvDQo=");
        assert!(m[notes.header.clone()].starts_with(b"Content-Type: text/plain; name="));
        assert!(m[notes.header.clone()].ends_with(b"base64\r\n\r\n"));
    }

    #[test]
    fn tree_of_nested_parts_and_an_attached_message() {
        let m = nested();
        let inner_html =
            b"<html><head><title>x</title></head><body><p>Ma\xf1ana a las 10 &amp; caf\xe9</p></body></html>";
        // The attached message runs to the CRLF before `--b1--`.
        let inner_len = m.len()
            - b"\r\n--b1--\r\n".len()
            - (m.windows(29)
                .position(|w| w == b"Content-Type: message/rfc822\r")
                .unwrap()
                + b"Content-Type: message/rfc822\r\n\r\n".len());
        assert_eq!(
            rows(&m),
            [
                row(0, "multipart/mixed", None, body_len(&m), None),
                // From `--b2` to the end of `--b2--`: 6 + 41 + 2 + 16 + 6 +
                // 40 + 2 + 30 + 6 bytes.
                row(1, "multipart/alternative", None, 149, None),
                row(2, "text/plain", None, "See you there.".len(), None),
                row(2, "text/html", None, 28, None),
                row(1, "message/rfc822", None, inner_len, None),
                // Transfer-decoded only: ñ and é stay one ISO-8859-1 byte.
                row(
                    2,
                    "text/html",
                    None,
                    inner_html.len(),
                    Some("quoted-printable")
                ),
            ]
        );
        // Each part keeps its own header lines, the attached message its
        // own top-level ones.
        let tree = ParsedMail::new(&m).tree();
        let headers = |i: usize| decoded_headers(&m[tree.parts[i].header.clone()]);
        assert_eq!(
            headers(2),
            owned(&[("Content-Type", "text/plain; charset=utf-8")])
        );
        assert_eq!(
            headers(5),
            owned(&[
                ("From", "jose@example.es"),
                ("Subject", "reunion"),
                ("Content-Type", "text/html; charset=iso-8859-1"),
                ("Content-Transfer-Encoding", "quoted-printable"),
            ])
        );
        // The attached message is not multipart: its body is part 2.1.
        let numbers: Vec<&str> = tree.parts.iter().map(|p| p.number.as_str()).collect();
        assert_eq!(numbers, ["", "1", "1.1", "1.2", "2", "2.1"]);
        let kinds: Vec<PartKind> = tree.parts.iter().map(|p| p.kind).collect();
        use PartKind::{Message, Multipart, Single};
        assert_eq!(
            kinds,
            [Multipart, Multipart, Single, Single, Message, Single]
        );
        assert_eq!(tree.parts[4].children, [5]);
    }

    /// The numbers and byte ranges IMAP's FETCH answers with (RFC 3501
    /// §6.4.5), for an attached message that is itself multipart.
    #[test]
    fn imap_part_numbers() {
        let m = crlf(&[
            "Subject: outer",
            "Content-Type: multipart/mixed; boundary=X",
            "",
            "--X",
            "Content-Type: text/plain",
            "",
            "first",
            "--X",
            "Content-Type: message/rfc822",
            "",
            "Subject: inner",
            "Content-Type: multipart/alternative; boundary=Y",
            "",
            "--Y",
            "",
            "plain",
            "--Y",
            "Content-Type: text/html",
            "",
            "<b>html</b>",
            "--Y--",
            "",
            "--X--",
        ]);
        let tree = ParsedMail::new(&m).tree();
        // BODY[n] is the body of the first part numbered n (the
        // message/rfc822 part comes before the message it carries).
        let part = |n: &str| tree.parts.iter().find(|p| p.number == n);
        let body = |n: &str| part(n).map(|p| String::from_utf8_lossy(&m[p.body.clone()]));
        let header = |p: &Part| String::from_utf8_lossy(&m[p.header.clone()]).into_owned();
        assert_eq!(body("1").as_deref(), Some("first"));
        assert_eq!(body("2.1").as_deref(), Some("plain"));
        assert_eq!(body("2.2").as_deref(), Some("<b>html</b>"));
        assert_eq!(
            header(part("2.2").unwrap()),
            "Content-Type: text/html\r\n\r\n"
        );
        // 2.HEADER: the header of the message inside part 2, the
        // multipart that shares its number.
        let inner = &tree.parts[part("2").unwrap().children[0]];
        assert_eq!(
            (inner.number.as_str(), inner.kind),
            ("2", PartKind::Multipart)
        );
        assert_eq!(
            header(inner),
            "Subject: inner\r\nContent-Type: multipart/alternative; boundary=Y\r\n\r\n"
        );
        assert!(m[inner.body.clone()].starts_with(b"--Y\r\n"));
        assert!(part("1.1").is_none() && part("3").is_none());
        let sections: Vec<String> = (0..tree.parts.len()).map(|i| tree.section(i)).collect();
        assert_eq!(sections, ["TEXT", "1", "2", "2.TEXT", "2.1", "2.2"]);
        // A message that is not multipart has just part 1, its body.
        let single = crlf(&["Subject: x", "", "hello"]);
        let tree = ParsedMail::new(&single).tree();
        assert_eq!(tree.parts.len(), 1);
        assert_eq!(tree.parts[0].number, "1");
        assert_eq!(&single[tree.parts[0].body.clone()], b"hello\r\n");
    }

    #[test]
    fn bad_input_gives_a_tree_anyway() {
        assert!(ParsedMail::new(b"").tree().parts.is_empty());
        let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let _ = ParsedMail::new(&garbage).tree();
        // Cut in the middle of the base64 attachment: no closing boundary.
        let m = mixed();
        let cut = m.windows(8).position(|w| w == b"bGluZSBv").unwrap() + 8;
        let tree = ParsedMail::new(&m[..cut]).tree();
        assert_eq!(tree.parts[0].mime_type(), "multipart/mixed");
        assert_eq!(tree.parts.last().unwrap().file_name(), Some("notes.txt"));
        // Every prefix: truncated anywhere.
        for end in (0..m.len()).step_by(7) {
            let _ = ParsedMail::new(&m[..end]).tree();
        }
        // A multipart without a boundary, and one whose boundary never comes.
        for ct in ["multipart/mixed", "multipart/mixed; boundary=nowhere"] {
            let m = crlf(&[&format!("Content-Type: {ct}"), "", "--other", "", "text"]);
            assert_eq!(ParsedMail::new(&m).tree().parts[0].depth, 0);
        }
        // 20 000 nested multiparts: the root only, its header and the rest.
        let mut deep = b"Subject: deep\r\n".to_vec();
        for i in 0..20_000 {
            deep.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        let tree = ParsedMail::new(&deep).tree();
        assert_eq!(tree.parts.len(), 1);
        assert_eq!(tree.parts[0].mime_type(), "multipart/mixed");
        assert_eq!(tree.parts[0].header, 0..header_end(&deep));
    }
}
