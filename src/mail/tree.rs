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
//! The tree is built here, in one pass over the lines (`MimeTree::build`):
//! a part's header ends at its empty line, its body at the delimiter line
//! that closes it (`boundaries`: RFC 2046 §5.1.1, the innermost open
//! multipart owns a boundary line), and a `message/rfc822` part's body is
//! read as a message again. Nesting and the number of parts are bounded,
//! so a hostile message costs neither stack nor unbounded work. A
//! `message/rfc822` sent base64 or quoted-printable stays a leaf here, as
//! IMAP servers show it; the attachments' reader decodes and opens it.
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

use mail_parser::{ContentType, MessagePart, MimeHeaders};

use super::boundaries::{delimiter_at, next_delimiter};
use super::header_text::utf8_or_windows_1252;
use super::parse::{MAX_NESTING, PART_FIELDS};
use super::transfer::Encoding;

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
    /// `message/rfc822`, which RFC 2046 §5.2.1 forbids, a multipart or
    /// message nested deeper than [`MAX_NESTING`]).
    Single,
    /// `multipart/*`: its children are its parts.
    Multipart,
    /// `message/rfc822` or `message/global`: its one child is the message
    /// it carries.
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
    /// Whether the part ran to the end of the bytes instead of being
    /// ended by a boundary line: in a message that was cut, the part was
    /// cut too.
    pub(crate) open_at_end: bool,
    /// Bytes of content of a leaf once its transfer encoding is undone.
    decoded_len: usize,
}

impl Part {
    /// The `type/subtype`, lower case.
    pub(crate) fn mime_type(&self) -> &str {
        &self.content_type.value
    }

    /// How its body is transfer-encoded.
    pub(crate) fn encoding(&self) -> Encoding {
        Encoding::named(self.transfer_encoding.as_deref())
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

/// Where an entity (a message or a part) starts, and where it sits.
struct Pending {
    start: usize,
    parent: Option<usize>,
    depth: usize,
}

/// A part whose end is not known yet, with the boundary it listens for.
struct Open {
    part: usize,
    /// A multipart's boundary until its closing line is seen.
    boundary: Option<Vec<u8>>,
}

/// What the builder learned besides the parts.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Limits {
    /// A multipart or message nested deeper than [`MAX_NESTING`] was left
    /// whole (a leaf).
    pub(crate) too_deep: bool,
    /// The bytes end inside a part: a leaf ran to the end, or a multipart
    /// never saw its closing line. A message cut short was cut there.
    pub(crate) open_at_end: bool,
}

impl MimeTree {
    /// Takes the message in `buf` apart. `carrier` is the number of the
    /// `message/rfc822` part that carries it (empty for a message of its
    /// own) and `depth` the depth of that message in the tree it belongs
    /// to, so that a message decoded out of a part is numbered as a part
    /// of its carrier.
    ///
    /// One pass over the lines with a stack of the parts still open: no
    /// recursion, so nesting costs no stack, and the nesting taken apart
    /// is bounded by [`MAX_NESTING`] and the parts by [`MAX_PARTS`].
    pub(crate) fn build(buf: &[u8], carrier: &str, depth: usize) -> (MimeTree, Limits) {
        Self::build_with_root(buf, carrier, depth, None)
    }

    /// [`build`](Self::build), with the fields of the top header already
    /// read (`inspect` reads that header anyway, for the envelope fields).
    pub(crate) fn build_with_root(
        buf: &[u8],
        carrier: &str,
        depth: usize,
        mut root: Option<PartFields>,
    ) -> (MimeTree, Limits) {
        let mut parts: Vec<Part> = Vec::new();
        let mut limits = Limits::default();
        let mut stack: Vec<Open> = Vec::new();
        let mut next = Some(Pending {
            start: 0,
            parent: None,
            depth,
        });
        let mut pos = 0;
        loop {
            if let Some(entity) = next.take() {
                let open: Vec<Option<&[u8]>> = boundaries(&stack);
                let index = parts.len();
                let digest = entity
                    .parent
                    .is_some_and(|p| parts[p].mime_type() == "multipart/digest");
                let part = read_entity(buf, &entity, root.take(), &open, digest, &mut limits);
                if let Some(p) = entity.parent {
                    parts[p].children.push(index);
                }
                let boundary = (part.kind == PartKind::Multipart)
                    .then(|| {
                        part.content_type
                            .param("boundary")
                            .map(|b| b.as_bytes().to_vec())
                    })
                    .flatten();
                pos = part.body.start;
                let kind = part.kind;
                let body_start = part.body.start;
                parts.push(part);
                stack.push(Open {
                    part: index,
                    boundary,
                });
                if kind == PartKind::Message {
                    // The carried message starts where the part's body
                    // does: its header first.
                    next = Some(Pending {
                        start: body_start,
                        parent: Some(index),
                        depth: entity.depth + 1,
                    });
                    continue;
                }
            }
            let open = boundaries(&stack);
            let Some(d) = next_delimiter(buf, pos, &open) else {
                // The end of the bytes ends every part still open.
                limits.open_at_end = stack
                    .iter()
                    .any(|o| o.boundary.is_some() || parts[o.part].kind == PartKind::Single);
                let cut_end = cut_part_end(buf, &open);
                for o in stack.drain(..) {
                    let in_multipart = parts[o.part]
                        .parent
                        .is_some_and(|p| parts[p].kind == PartKind::Multipart);
                    let part = &mut parts[o.part];
                    part.open_at_end = true;
                    // What a boundary line that did not come would own
                    // is not content of a part of a multipart; a
                    // message's body keeps its own last line break.
                    let end = if in_multipart && part.kind == PartKind::Single {
                        cut_end
                    } else {
                        buf.len()
                    };
                    part.body.end = end.max(part.body.start);
                }
                break;
            };
            // The line closes every part opened inside its multipart.
            for o in stack.drain(d.owner + 1..) {
                let part = &mut parts[o.part];
                part.body.end = d.part_end.max(part.body.start);
            }
            pos = d.next_line;
            let owner = &mut stack[d.owner];
            if d.close {
                // What follows is the multipart's epilogue.
                owner.boundary = None;
            } else if parts.len() < MAX_PARTS {
                let parent = owner.part;
                next = Some(Pending {
                    start: d.next_line,
                    parent: Some(parent),
                    depth: parts[parent].depth + 1,
                });
            }
        }
        number_parts(&mut parts, carrier);
        for part in parts.iter_mut().filter(|p| p.kind == PartKind::Single) {
            part.decoded_len = part.encoding().decode(&buf[part.body.clone()]).bytes.len();
        }
        (MimeTree { parts }, limits)
    }
}

/// Where a part of a multipart that runs to the end of `buf` ends: the
/// bytes are cut, and what a boundary line would own is not content. That
/// is the line break at the very end (or half of it), or a last line that
/// is the start of a boundary line of an open multipart (`--bou`) with
/// the line break before it (RFC 2046 §5.1.1).
fn cut_part_end(buf: &[u8], open: &[Option<&[u8]>]) -> usize {
    let last_line = memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1);
    let last = &buf[last_line..];
    let cut_delimiter = !last.is_empty()
        && open.iter().flatten().any(|b| {
            let mut line = b"--".to_vec();
            line.extend_from_slice(b);
            line.extend_from_slice(b"--");
            line.starts_with(last)
        });
    let end = if cut_delimiter { last_line } else { buf.len() };
    match &buf[..end] {
        [.., b'\r', b'\n'] => end - 2,
        [.., b'\n'] | [.., b'\r'] => end - 1,
        _ => end,
    }
}

/// The boundaries the open parts listen for, outermost first.
fn boundaries(stack: &[Open]) -> Vec<Option<&[u8]>> {
    stack.iter().map(|o| o.boundary.as_deref()).collect()
}

/// Reads the header of the entity starting at `entity.start` and decides
/// what it is. Its header ends at the first empty line (RFC 5322 §2.1), or
/// where a delimiter line of an open multipart cuts it short. The end of
/// its body is set when the line that ends it is found.
fn read_entity(
    buf: &[u8],
    entity: &Pending,
    known: Option<PartFields>,
    open: &[Option<&[u8]>],
    in_digest: bool,
    limits: &mut Limits,
) -> Part {
    let (header_end, body_start) = header_extent(buf, entity.start, open);
    let fields = known.unwrap_or_else(|| PartFields::read(&buf[entity.start..header_end]));
    let mime_type = match &fields.content_type {
        Some(ct) => ct.value.clone(),
        // RFC 2045 §5.2, and RFC 2046 §5.1.5 inside a digest.
        None if in_digest => "message/rfc822".to_string(),
        None => "text/plain".to_string(),
    };
    let encoding = Encoding::named(fields.transfer_encoding.as_deref());
    let boundary = fields
        .content_type
        .as_ref()
        .and_then(|ct| ct.param("boundary"))
        .filter(|b| !b.is_empty());
    // RFC 2046 §5.2.1: a message/rfc822 body is the message as is; one
    // sent base64 or quoted-printable (forbidden, but sent) is a leaf
    // here, decoded and opened by the attachments' reader.
    let container = if mime_type.starts_with("multipart/") && boundary.is_some() {
        Some(PartKind::Multipart)
    } else if is_message_type(&mime_type) && encoding == Encoding::Identity {
        Some(PartKind::Message)
    } else {
        None
    };
    let kind = match container {
        Some(_) if entity.depth >= MAX_NESTING => {
            limits.too_deep = true;
            PartKind::Single
        }
        Some(kind) => kind,
        None => PartKind::Single,
    };
    let mut content_type = fields.content_type.unwrap_or_default();
    content_type.value = mime_type;
    Part {
        number: String::new(),
        depth: entity.depth,
        kind,
        parent: entity.parent,
        children: Vec::new(),
        content_type,
        disposition: fields.disposition,
        transfer_encoding: fields.transfer_encoding,
        header: entity.start..body_start,
        body: body_start..body_start,
        open_at_end: false,
        decoded_len: 0,
    }
}

/// `message/rfc822`, or its internationalised twin `message/global`
/// (RFC 6532 §3.5): a whole message carried as a part.
pub(crate) fn is_message_type(mime_type: &str) -> bool {
    matches!(mime_type, "message/rfc822" | "message/global")
}

/// Where the header starting at `start` ends, and where the body starts:
/// after the empty line (which belongs to the header), or, when a
/// delimiter line of an open multipart comes first, at that line (the
/// part has no body).
fn header_extent(buf: &[u8], start: usize, open: &[Option<&[u8]>]) -> (usize, usize) {
    let mut line = start;
    while line < buf.len() {
        if delimiter_at(buf, line, open).is_some() {
            return (line, line);
        }
        let end = memchr::memchr(b'\n', &buf[line..]).map_or(buf.len(), |i| line + i + 1);
        let text = &buf[line..end];
        if text == b"\r\n" || text == b"\n" {
            return (end, end);
        }
        line = end;
    }
    (buf.len(), buf.len())
}

/// The header fields that say what a part is.
#[derive(Default)]
pub(crate) struct PartFields {
    content_type: Option<ValueWithParams>,
    disposition: Option<ValueWithParams>,
    transfer_encoding: Option<String>,
}

impl PartFields {
    /// Reads them with mail-parser, which undoes RFC 2231 continuations
    /// and charsets and RFC 2047 encoded words in parameters; 8-bit bytes
    /// are made text first (windows-1252 unless UTF-8, see
    /// `header_text`).
    fn read(header: &[u8]) -> PartFields {
        if header.is_empty() {
            return PartFields::default();
        }
        let text = utf8_or_windows_1252(header);
        let Some(msg) = PART_FIELDS.parse_headers(text.as_bytes()) else {
            return PartFields::default();
        };
        msg.parts.first().map(PartFields::of).unwrap_or_default()
    }

    /// Takes them from a header mail-parser read with these fields parsed
    /// (`PART_FIELDS`, or a parser that includes them).
    pub(crate) fn of(part: &MessagePart) -> PartFields {
        PartFields {
            content_type: part.content_type().map(|ct| ValueWithParams {
                value: match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_string(),
                }
                .to_ascii_lowercase(),
                params: params(ct),
            }),
            disposition: part.content_disposition().map(|d| ValueWithParams {
                value: d.ctype().to_ascii_lowercase(),
                params: params(d),
            }),
            transfer_encoding: part
                .content_transfer_encoding()
                .map(|e| e.trim().to_ascii_lowercase()),
        }
    }
}

/// Gives every part its IMAP number (RFC 3501 §6.4.5). Parents come
/// before their children in `parts`, so one pass in order numbers all.
fn number_parts(parts: &mut [Part], carrier: &str) {
    // The message itself is numbered as if a message/rfc822 part
    // numbered `carrier` carried it.
    if let Some(root) = parts.first_mut() {
        root.number = message_number(carrier, root.kind);
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

fn params(value: &ContentType) -> Vec<(String, String)> {
    value
        .attributes()
        .unwrap_or(&[])
        .iter()
        .map(|a| (a.name.to_string(), a.value.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::headers::{decoded_headers, header_end};
    use crate::mail::parse::ParsedMail;
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

    /// However many parts a message claims, the tree keeps MAX_PARTS.
    #[test]
    fn parts_are_bounded() {
        let mut m = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for i in 0..MAX_PARTS * 2 {
            m.extend_from_slice(
                format!("--b\r\nContent-Type: image/gif\r\n\r\n{i}\r\n").as_bytes(),
            );
        }
        m.extend_from_slice(b"--b--\r\n");
        let mail = ParsedMail::new(&m);
        let tree = mail.tree();
        assert_eq!(tree.parts.len(), MAX_PARTS);
        assert_eq!(tree.parts[1].number, "1");
        assert_eq!(&m[tree.parts[1].body.clone()], b"0");
        assert_eq!(mail.attachments().len(), MAX_PARTS - 1);
        // The multipart still ends where its closing line is.
        assert!(!mail.open_at_end());
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
        // 20 000 nested multiparts: MAX_NESTING levels are taken apart,
        // the one below is kept whole, with everything after it.
        let mut deep = b"Subject: deep\r\n".to_vec();
        for i in 0..20_000 {
            deep.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        let mail = ParsedMail::new(&deep);
        let tree = mail.tree();
        assert!(mail.too_deep());
        assert_eq!(tree.parts.len(), MAX_NESTING + 1);
        assert_eq!(tree.parts[0].header, 0..header_end(&deep));
        let last = tree.parts.last().unwrap();
        assert_eq!((last.depth, last.kind), (MAX_NESTING, PartKind::Single));
        assert_eq!(last.mime_type(), "multipart/mixed");
        // (The line break at the end would belong to a boundary line.)
        assert_eq!(last.body.end, deep.len() - 2);
        // The same with attached messages, which need no boundary: 300 000
        // of them, and no stack overflow (the tree is built without
        // recursion, and dropped without it too).
        let mut deep = b"Subject: deep\r\n".to_vec();
        deep.extend(b"Content-Type: message/rfc822\r\n\r\n".repeat(300_000));
        deep.extend_from_slice(b"hi\r\n");
        let mail = ParsedMail::new(&deep);
        assert!(mail.too_deep());
        let tree = mail.tree();
        assert_eq!(tree.parts.len(), MAX_NESTING + 1);
        assert!(
            tree.parts[..MAX_NESTING]
                .iter()
                .all(|p| p.kind == PartKind::Message)
        );
        assert_eq!(
            tree.parts[MAX_NESTING].number,
            vec!["1"; MAX_NESTING + 1].join(".")
        );
    }
}
