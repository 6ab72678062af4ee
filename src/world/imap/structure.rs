//! The MIME structure of a message (RFC 2045, RFC 2046) as IMAP shows it:
//! BODY and BODYSTRUCTURE (RFC 3501 §7.4.2), read off the project's one
//! MIME tree ([`crate::mail::tree`]), whose parts already carry their IMAP
//! numbers and byte ranges in the raw message.
//!
//! ```text
//! BODYSTRUCTURE (("TEXT" "PLAIN" ("charset" "us-ascii") NIL NIL "7BIT" 24 1 …)
//!                ("APPLICATION" "PDF" ("name" "x.pdf") NIL NIL "BASE64" 20 …)
//!                "MIXED" ("boundary" "XYZ") NIL NIL)
//! ```
//!
//! A multipart is its parts one after the other and its subtype; a leaf is
//! its type, subtype, parameters, Content-ID, Content-Description,
//! encoding and size (and lines for text); a message/rfc822 part adds the
//! ENVELOPE and structure of the message it carries. The extension data
//! of BODYSTRUCTURE is the Content-Type parameters, the
//! Content-Disposition, and NIL for MD5 and language.

use crate::mail::headers::{decoded_headers, header_end};
use crate::mail::parse::ParsedMail;
use crate::mail::tree::{MimeTree, PartKind, ValueWithParams};
use crate::proto::imap::syntax::{MAX_NESTING, emit_nstring, emit_string};

use super::envelope::write_envelope;

/// The MIME tree of a raw message.
pub(super) fn mime_tree(raw: &[u8]) -> MimeTree {
    ParsedMail::new(raw).tree()
}

/// Write BODY (`ext` false) or BODYSTRUCTURE (`ext` true) of `raw`, whose
/// tree is `tree`.
pub(super) fn write_structure(out: &mut Vec<u8>, raw: &[u8], tree: &MimeTree, ext: bool) {
    if tree.parts.is_empty() {
        // Nothing the MIME parser could read (an empty message): one
        // text/plain part, as a part without MIME header fields is
        // (RFC 2045 §5.2).
        let split = header_end(raw);
        let leaf = Leaf {
            content_type: &ValueWithParams {
                value: "text/plain".into(),
                params: Vec::new(),
            },
            disposition: None,
            encoding: None,
            header: &raw[..split],
            body: &raw[split..],
        };
        return leaf.write(out, ext, None::<fn(&mut Vec<u8>)>);
    }
    write_part(out, raw, tree, 0, ext, 0);
}

/// Part `i` of the tree and, through recursion, its children. The tree
/// is bounded in parts, not in depth: below [`MAX_NESTING`] a multipart or
/// attached message is written as a leaf, so the recursion stays bounded.
fn write_part(out: &mut Vec<u8>, raw: &[u8], tree: &MimeTree, i: usize, ext: bool, depth: usize) {
    let part = &tree.parts[i];
    let nested = depth < MAX_NESTING && !part.children.is_empty();
    let (_, subtype) = split_type(&part.content_type.value);
    if part.kind == PartKind::Multipart && nested {
        // body-type-mpart: the parts one after the other, then the subtype.
        out.push(b'(');
        for &child in &part.children {
            write_part(out, raw, tree, child, ext, depth + 1);
        }
        out.push(b' ');
        emit_string(out, subtype.to_ascii_uppercase().as_bytes());
        if ext {
            out.push(b' ');
            write_params(out, &part.content_type.params);
            out.push(b' ');
            write_disposition(out, part.disposition.as_ref());
            out.extend_from_slice(b" NIL");
        }
        out.push(b')');
        return;
    }
    let leaf = Leaf {
        content_type: &part.content_type,
        disposition: part.disposition.as_ref(),
        encoding: part.transfer_encoding.as_deref(),
        header: raw.get(part.header.clone()).unwrap_or_default(),
        body: raw.get(part.body.clone()).unwrap_or_default(),
    };
    if part.kind == PartKind::Message && nested {
        // body-type-msg: the envelope and structure of the carried
        // message come between the size and the lines.
        let carried = part.children[0];
        let header = raw.get(tree.parts[carried].header.clone());
        leaf.write(
            out,
            ext,
            Some(|out: &mut Vec<u8>| {
                out.push(b' ');
                write_envelope(out, header.unwrap_or_default());
                out.push(b' ');
                write_part(out, raw, tree, carried, ext, depth + 1);
            }),
        );
    } else {
        // A leaf; also a message/rfc822 part the tree could not open (a
        // transfer-encoded one, which RFC 2046 §5.2.1 forbids), written
        // as a basic part.
        leaf.write(out, ext, None::<fn(&mut Vec<u8>)>);
    }
}

/// What a part that is not a multipart says of itself.
struct Leaf<'a> {
    content_type: &'a ValueWithParams,
    disposition: Option<&'a ValueWithParams>,
    encoding: Option<&'a str>,
    /// The part's own header lines (Content-ID, Content-Description).
    header: &'a [u8],
    body: &'a [u8],
}

impl Leaf<'_> {
    /// body-type-basic, -text or -msg (`carried` writes the envelope and
    /// structure of an attached message), with the extension data for
    /// BODYSTRUCTURE.
    fn write(&self, out: &mut Vec<u8>, ext: bool, carried: Option<impl FnOnce(&mut Vec<u8>)>) {
        let (media, subtype) = split_type(&self.content_type.value);
        out.push(b'(');
        emit_string(out, media.to_ascii_uppercase().as_bytes());
        out.push(b' ');
        emit_string(out, subtype.to_ascii_uppercase().as_bytes());
        out.push(b' ');
        let mut params = self.content_type.params.clone();
        if media == "text"
            && !params
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("charset"))
        {
            params.push(("charset".into(), "us-ascii".into()));
        }
        write_params(out, &params);
        let headers = decoded_headers(self.header);
        let field = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_bytes())
        };
        out.push(b' ');
        emit_nstring(out, field("Content-ID"));
        out.push(b' ');
        emit_nstring(out, field("Content-Description"));
        out.push(b' ');
        let encoding = self.encoding.unwrap_or("7bit").to_ascii_uppercase();
        emit_string(out, encoding.as_bytes());
        out.extend_from_slice(format!(" {}", self.body.len()).as_bytes());
        let lines = memchr::memchr_iter(b'\n', self.body).count();
        let is_message = carried.is_some();
        if let Some(carried) = carried {
            carried(out);
        }
        if media == "text" || is_message {
            out.extend_from_slice(format!(" {lines}").as_bytes());
        }
        if ext {
            // MD5, disposition, language.
            out.extend_from_slice(b" NIL ");
            write_disposition(out, self.disposition);
            out.extend_from_slice(b" NIL");
        }
        out.push(b')');
    }
}

/// `type/subtype` as its two halves.
fn split_type(value: &str) -> (&str, &str) {
    value.split_once('/').unwrap_or((value, ""))
}

/// body-fld-param: `("name" "value" …)` or NIL.
fn write_params(out: &mut Vec<u8>, params: &[(String, String)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (k, (name, value)) in params.iter().enumerate() {
        if k > 0 {
            out.push(b' ');
        }
        emit_string(out, name.as_bytes());
        out.push(b' ');
        emit_string(out, value.as_bytes());
    }
    out.push(b')');
}

/// body-fld-dsp: `("attachment" ("filename" "x"))` or NIL.
fn write_disposition(out: &mut Vec<u8>, disposition: Option<&ValueWithParams>) {
    match disposition {
        Some(d) => {
            out.push(b'(');
            emit_string(out, d.value.as_bytes());
            out.push(b' ');
            write_params(out, &d.params);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::NESTED;
    use super::*;

    fn structure(raw: &[u8], ext: bool) -> String {
        let mut out = Vec::new();
        write_structure(&mut out, raw, &mime_tree(raw), ext);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn nested_message_structure() {
        assert_eq!(
            structure(NESTED, false),
            "((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 5 0)\
             (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 133 \
             (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) \
             ((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 5 0)\
             (\"TEXT\" \"HTML\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 11 0) \"ALTERNATIVE\") 11) \
             \"MIXED\")"
        );
    }

    #[test]
    fn part_headers_and_what_cannot_be_opened() {
        // Content-ID keeps its angle brackets (RFC 2045 §7), the
        // description is decoded (RFC 2047).
        let m = b"Content-Type: text/plain\r\nContent-ID: <c@x>\r\n\
Content-Description: =?UTF-8?Q?caf=C3=A9?=\r\n\r\nhi\r\n";
        assert_eq!(
            structure(m, true),
            "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") \"<c@x>\" {5}\r\ncafé \"7BIT\" 4 1 \
             NIL NIL NIL)"
        );
        // Nothing to parse: one empty text part.
        assert_eq!(
            structure(b"", false),
            "(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)"
        );
        // Deeper than MAX_NESTING: the recursion stops, the answer is
        // still well formed (as many parentheses close as open).
        let mut deep = b"Subject: deep\r\n".to_vec();
        for i in 0..40 {
            deep.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        deep.extend_from_slice(b"Content-Type: text/plain\r\n\r\nleaf\r\n");
        let s = structure(&deep, true);
        assert_eq!(s.matches('(').count(), s.matches(')').count(), "{s}");
        assert!(s.contains("(\"MULTIPART\" \"MIXED\""), "{s}");
    }
}
