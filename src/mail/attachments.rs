//! Attachments: which parts they are, where they sit, and their content as
//! the sender attached it.
//!
//! A leaf part is one of the message's *bodies* when it is `text/plain` or
//! `text/html`, not marked `attachment` (RFC 2183 §2.2) and without a file
//! name: that is the text a mail client shows. Every other leaf is an
//! attachment: a file name or an `attachment` disposition makes one, and
//! so does any other type (an image, a PDF, `text/calendar`). Multiparts
//! are only containers, also those not taken apart.
//!
//! An attached message (`message/rfc822`, `message/global`) is an
//! attachment too, listed whole, the way a mail client offers to save it
//! as an `.eml` (and the way Zeek, Suricata and NetworkMiner list it). It
//! is also opened, as a mail client opens it: the attachments inside it
//! are listed after it, with their IMAP part numbers (RFC 3501 §6.4.5:
//! `2.1` is the first part of the message in part 2) and the number of
//! the message they came out of. A message sent base64 or
//! quoted-printable (RFC 2046 §5.2.1 forbids it, senders do it) is decoded
//! first. Messages inside messages are opened [`MAX_OPENED`] deep.
//!
//! The content is the part with its *transfer* encoding undone (RFC 2045
//! §6: base64 and quoted-printable) and nothing else: no charset
//! conversion. Those are the bytes a saved file holds, that `md5sum`
//! hashes and that Zeek's files.log and Suricata report. The line break
//! before the next `--boundary` belongs to the boundary (RFC 2046
//! §5.1.1), not to the content.
//!
//! A part cut short (the capture lost the rest) is decoded as far as its
//! bytes go and said to be incomplete: never is the encoded text handed
//! out as if it were the file.

use super::parse::ParsedMail;
use super::tree::{MimeTree, Part, PartKind, is_message_type};

/// Attached messages are opened this many levels deep (a forward of a
/// forward of …); a message deeper than that is listed whole but not
/// opened. Each level lists its message's whole text again, so the bound
/// keeps the bytes hashed a small multiple of the message's size.
pub(crate) const MAX_OPENED: usize = 8;

/// One attachment of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attachment {
    /// The file name the message gives it (RFC 2183 `filename`, else the
    /// `Content-Type` `name`, RFC 2231 and RFC 2047 undone), as written:
    /// it comes from a stranger (see `safe_name` before using it as one).
    pub(crate) given_name: Option<String>,
    /// `type/subtype`, lower case.
    pub(crate) content_type: String,
    /// Transfer-decoded content.
    pub(crate) content: Vec<u8>,
    /// Its IMAP part number (RFC 3501 §6.4.5): `2`, `2.1`, `1` for a
    /// message that is one file.
    pub(crate) part: String,
    /// The part number of the attached message it was found in; None for
    /// the message's own attachments.
    pub(crate) container: Option<String>,
    /// Whether its bytes were whole as far as they tell: ended by a
    /// boundary line or by the end of the message, and its transfer
    /// encoding not cut or damaged.
    pub(crate) complete: bool,
    /// Whether it ran to the end of the message's bytes: if the message
    /// was cut, so was it.
    pub(crate) open_at_end: bool,
}

impl ParsedMail<'_> {
    /// The attachments, in the order the message has them, those inside
    /// an attached message right after it.
    pub(crate) fn attachments(&self) -> Vec<Attachment> {
        let mut out = Vec::new();
        let outer = Carrier {
            number: None,
            opened: 0,
            clean: true,
            open_at_end: true,
        };
        collect(self.raw(), self.parts(), &outer, &mut out);
        out
    }
}

/// The message whose parts are being listed: the message itself, or one
/// decoded out of a part.
struct Carrier<'a> {
    /// Part number of the attached message; None for the message itself.
    number: Option<&'a str>,
    /// How many attached messages it sits in.
    opened: usize,
    /// Whether its bytes decoded whole (always, for bytes as sent).
    clean: bool,
    /// Whether its bytes ran to the end of the message's.
    open_at_end: bool,
}

/// Lists the attachments of the message in `buf`, whose tree is `tree`.
fn collect(buf: &[u8], tree: &MimeTree, carrier: &Carrier, out: &mut Vec<Attachment>) {
    for part in &tree.parts {
        // The attached messages it sits in, innermost first.
        let messages: Vec<&Part> = ancestors(tree, part)
            .filter(|p| p.kind == PartKind::Message)
            .collect();
        let opened = carrier.opened + messages.len();
        if opened > MAX_OPENED || !is_attachment(part) {
            continue;
        }
        let decoded = part.encoding().decode(&buf[part.body.clone()]);
        // The end of a decoded message is the end of its carrier's bytes.
        let open_at_end = part.open_at_end && carrier.open_at_end;
        let cut_with_carrier = part.open_at_end && !carrier.clean;
        let attachment = Attachment {
            given_name: part.file_name().map(str::to_string),
            content_type: part.mime_type().to_string(),
            part: part.number.clone(),
            container: messages
                .first()
                .map(|m| m.number.clone())
                .or(carrier.number.map(str::to_string)),
            complete: decoded.clean && !cut_with_carrier,
            open_at_end,
            content: decoded.bytes,
        };
        let encoded_message = part.kind == PartKind::Single
            && is_message_type(part.mime_type())
            && !part.body.is_empty()
            && opened < MAX_OPENED;
        out.push(attachment);
        if encoded_message {
            // A message sent base64 or quoted-printable: opened from its
            // decoded bytes, numbered inside this part.
            let last = out.last().expect("just pushed");
            let inner = last.content.clone();
            let (inner_tree, _) = MimeTree::build(&inner, &part.number, part.depth + 1);
            let number = part.number.clone();
            let inner_carrier = Carrier {
                number: Some(&number),
                opened: opened + 1,
                clean: last.complete,
                open_at_end,
            };
            collect(&inner, &inner_tree, &inner_carrier, out);
        }
    }
}

/// The parts `part` sits in, its parent first.
fn ancestors<'t>(tree: &'t MimeTree, part: &Part) -> impl Iterator<Item = &'t Part> {
    std::iter::successors(part.parent.and_then(|p| tree.parts.get(p)), |p| {
        p.parent.and_then(|q| tree.parts.get(q))
    })
}

/// Whether a part is an attachment (see the module's comment).
fn is_attachment(part: &Part) -> bool {
    match part.kind {
        PartKind::Multipart => false,
        PartKind::Message => true,
        // A multipart not taken apart (no boundary, nested too deep) is
        // still a container, not a file.
        PartKind::Single if part.mime_type().starts_with("multipart/") => false,
        PartKind::Single => {
            let body_type = matches!(part.mime_type(), "text/plain" | "text/html");
            let marked = part
                .disposition
                .as_ref()
                .is_some_and(|d| d.value == "attachment");
            !body_type || marked || part.file_name().is_some()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::samples::{crlf, mixed, nested};

    /// (name, type, part, container, complete, content) of each.
    type Row = (
        Option<String>,
        String,
        String,
        Option<String>,
        bool,
        Vec<u8>,
    );

    fn rows(m: &[u8]) -> Vec<Row> {
        ParsedMail::new(m)
            .attachments()
            .into_iter()
            .map(|a| {
                (
                    a.given_name,
                    a.content_type,
                    a.part,
                    a.container,
                    a.complete,
                    a.content,
                )
            })
            .collect()
    }

    fn row(
        name: Option<&str>,
        ct: &str,
        part: &str,
        container: Option<&str>,
        complete: bool,
        content: &[u8],
    ) -> Row {
        (
            name.map(str::to_string),
            ct.to_string(),
            part.to_string(),
            container.map(str::to_string),
            complete,
            content.to_vec(),
        )
    }

    #[test]
    fn attachments_are_transfer_decoded() {
        assert_eq!(
            rows(&mixed()),
            [
                row(
                    Some("notes.txt"),
                    "text/plain",
                    "2",
                    None,
                    true,
                    b"line one\r\nline two\r\n"
                ),
                row(
                    Some("../../evil.sh"),
                    "application/x-sh",
                    "3",
                    None,
                    true,
                    b"#!/bin/sh"
                ),
            ]
        );
        // An attached message is an attachment, its whole text; its body
        // (the HTML) is the body of that message, not an attachment.
        let got = ParsedMail::new(&nested()).attachments();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].given_name.as_deref(), got[0].content_type.as_str()),
            (None, "message/rfc822")
        );
        assert_eq!(got[0].part, "2");
        assert!(got[0].content.starts_with(b"From: jose@example.es\r\n"));
        assert!(got[0].content.ends_with(b"caf=E9</p></body></html>"));
    }

    /// A message forwarded as an attachment, with a file inside it, and a
    /// message inside that one sent base64.
    #[test]
    fn attached_messages_are_opened() {
        let innermost = crlf(&[
            "Subject: deepest",
            "Content-Type: application/octet-stream; name=deep.bin",
            "",
            "deep content",
        ]);
        let b64 = base64_lines(&innermost);
        let mut lines = vec![
            "Subject: fwd",
            "Content-Type: multipart/mixed; boundary=X",
            "",
            "--X",
            "",
            "see attached",
            "--X",
            "Content-Type: message/rfc822",
            "Content-Disposition: attachment; filename=fwd.eml",
            "",
            "Subject: inner",
            "Content-Type: multipart/mixed; boundary=Y",
            "",
            "--Y",
            "Content-Type: text/plain",
            "",
            "inner text",
            "--Y",
            "Content-Type: application/pdf; name=report.pdf",
            "Content-Transfer-Encoding: base64",
            "",
            "JVBERi0=",
            "--Y",
            "Content-Type: message/rfc822",
            "Content-Transfer-Encoding: base64",
            "",
        ];
        lines.extend(b64.iter().map(String::as_str));
        lines.extend(["--Y--", "--X--"]);
        let m = crlf(&lines);
        let got = rows(&m);
        let names: Vec<(Option<&str>, &str, Option<&str>)> = got
            .iter()
            .map(|r| (r.0.as_deref(), r.2.as_str(), r.3.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                (Some("fwd.eml"), "2", None),
                (Some("report.pdf"), "2.2", Some("2")),
                (None, "2.3", Some("2")),
                (Some("deep.bin"), "2.3.1", Some("2.3")),
            ]
        );
        assert_eq!(got[1].5, b"%PDF-");
        // The base64 carried the message's last line break too.
        assert_eq!(got[2].5, innermost);
        assert_eq!(got[3].5, b"deep content\r\n");
        assert!(got.iter().all(|r| r.4));
    }

    /// A digest's parts are messages without saying so (RFC 2046
    /// §5.1.5); a bounce carries the returned message (RFC 3462).
    #[test]
    fn digests_and_bounces() {
        let digest = crlf(&[
            "Content-Type: multipart/digest; boundary=d",
            "",
            "--d",
            "",
            "Subject: one",
            "Content-Type: image/gif; name=a.gif",
            "",
            "GIF89a",
            "--d",
            "",
            "Subject: two",
            "",
            "just text",
            "--d--",
        ]);
        let got = rows(&digest);
        let summary: Vec<(Option<&str>, &str, &str, Option<&str>)> = got
            .iter()
            .map(|r| (r.0.as_deref(), r.1.as_str(), r.2.as_str(), r.3.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                (None, "message/rfc822", "1", None),
                (Some("a.gif"), "image/gif", "1.1", Some("1")),
                (None, "message/rfc822", "2", None),
            ]
        );
        assert_eq!(got[1].5, b"GIF89a");
        let bounce = crlf(&[
            "Content-Type: multipart/report; report-type=delivery-status; boundary=r",
            "",
            "--r",
            "",
            "Your message could not be delivered.",
            "--r",
            "Content-Type: message/delivery-status",
            "",
            "Action: failed",
            "--r",
            "Content-Type: message/rfc822",
            "",
            "Subject: the original",
            "Content-Type: application/zip; name=x.zip",
            "Content-Transfer-Encoding: base64",
            "",
            "UEsDBA==",
            "--r--",
        ]);
        let parts: Vec<(String, String)> = rows(&bounce).into_iter().map(|r| (r.1, r.2)).collect();
        let owned = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            parts,
            [
                owned("message/delivery-status", "2"),
                owned("message/rfc822", "3"),
                owned("application/zip", "3.1"),
            ]
        );
    }

    fn base64_lines(data: &[u8]) -> Vec<String> {
        use base64::Engine;
        let text = base64::engine::general_purpose::STANDARD.encode(data);
        text.as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    /// RFC 2046 §5.1.1: a boundary line belongs to the innermost open
    /// multipart whose boundary it is, and closes what was opened inside.
    #[test]
    fn boundaries_close_the_innermost_multipart_that_owns_them() {
        // An inner multipart never closed: the outer boundary ends it.
        let unclosed = crlf(&[
            "Content-Type: multipart/mixed; boundary=X",
            "",
            "--X",
            "Content-Type: multipart/alternative; boundary=Y",
            "",
            "--Y",
            "Content-Type: text/plain",
            "",
            "plain",
            "--X",
            "Content-Type: application/octet-stream; name=x.exe",
            "",
            "EICAR",
            "--X--",
        ]);
        assert_eq!(
            rows(&unclosed),
            [row(
                Some("x.exe"),
                "application/octet-stream",
                "2",
                None,
                true,
                b"EICAR"
            )]
        );
        // The same boundary at two levels: the inner multipart's until it
        // closes, the outer's again after.
        let reused = crlf(&[
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: multipart/alternative; boundary=b",
            "",
            "--b",
            "Content-Type: text/plain",
            "",
            "plain",
            "--b",
            "Content-Type: text/html",
            "",
            "<p>html</p>",
            "--b--",
            "--b",
            "Content-Type: application/octet-stream; name=x.exe",
            "",
            "EICAR",
            "--b--",
        ]);
        let tree = ParsedMail::new(&reused).tree();
        let numbers: Vec<&str> = tree.parts.iter().map(|p| p.number.as_str()).collect();
        assert_eq!(numbers, ["", "1", "1.1", "1.2", "2"]);
        assert_eq!(rows(&reused)[0].5, b"EICAR");
        // An encapsulated part declares its own transfer encoding; the
        // outer one's does not leak into it (RFC 2045 §6.1: none is 7bit).
        let encap = crlf(&[
            "Content-Type: multipart/mixed; boundary=X",
            "Content-Transfer-Encoding: base64",
            "",
            "--X",
            "Content-Type: message/rfc822",
            "",
            "Content-Type: multipart/mixed; boundary=Y",
            "",
            "--Y",
            "Content-Type: application/octet-stream; name=malware.exe",
            "",
            "EICAR-MIME-BYPASS-TEST-PAYLOAD",
            "--Y--",
            "--X--",
        ]);
        let got = rows(&encap);
        assert_eq!(got[1].0.as_deref(), Some("malware.exe"));
        assert_eq!(got[1].5, b"EICAR-MIME-BYPASS-TEST-PAYLOAD");
    }

    /// Cut anywhere, a base64 or quoted-printable attachment holds a
    /// prefix of the file that was sent, never its encoded text; whole
    /// only when nothing of it was cut.
    #[test]
    fn every_cut_gives_a_prefix_of_the_file() {
        let file: Vec<u8> = (0..200u32).map(|i| (i * 37 % 256) as u8).collect();
        let qp_file = "Año nuevo: ¿café? = sí\r\n".as_bytes();
        let mut lines = vec![
            "Content-Type: multipart/mixed; boundary=X".to_string(),
            String::new(),
            "--X".into(),
            "Content-Type: application/octet-stream; name=a.bin".into(),
            "Content-Transfer-Encoding: base64".into(),
            String::new(),
        ];
        lines.extend(base64_lines(&file));
        lines.extend([
            "--X".into(),
            "Content-Type: text/plain; name=b.txt".into(),
            "Content-Transfer-Encoding: quoted-printable".into(),
            String::new(),
            "A=C3=B1o nuevo: =C2=BFcaf=C3=A9? =3D s=C3=AD=0D=0A".into(),
            "--X--".into(),
        ]);
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let m = crlf(&refs);
        for end in 0..=m.len() {
            for a in ParsedMail::new(&m[..end]).attachments() {
                let sent: &[u8] = match a.given_name.as_deref() {
                    Some("a.bin") => &file,
                    Some("b.txt") => qp_file,
                    other => panic!("{other:?}"),
                };
                assert!(sent.starts_with(&a.content), "cut at {end}: {a:?}");
                let whole = a.complete && !(a.open_at_end && end < m.len());
                if whole {
                    assert_eq!(a.content, sent, "cut at {end}");
                }
            }
        }
    }

    #[test]
    fn cut_parts_decode_as_far_as_the_bytes_go() {
        let m = crlf(&[
            "Content-Type: multipart/mixed; boundary=X",
            "",
            "--X",
            "Content-Type: application/msword; name=first.doc",
            "Content-Transfer-Encoding: base64",
            "",
            "Zmlyc3Q=",
            "--X",
            "Content-Type: application/msword; name=report.doc",
            "Content-Transfer-Encoding: base64",
            "",
            "cmVwb3J0IGJvZHk=",
        ]);
        // Cut inside the second base64 line, mid-group: no closing
        // boundary, 7 characters ("cmVwb3J" → "repor" and 2 bits).
        let cut = m.windows(4).rposition(|w| w == b"cmVw").unwrap() + 7;
        let got = ParsedMail::new(&m[..cut]).attachments();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].complete, got[0].open_at_end), (true, false));
        assert_eq!(got[0].content, b"first");
        assert_eq!(got[1].given_name.as_deref(), Some("report.doc"));
        assert_eq!(got[1].content, b"repor");
        assert_eq!((got[1].complete, got[1].open_at_end), (false, true));
        // Cut between groups: clean as far as it goes, but open at the
        // end, so incomplete once the message is known to be cut.
        let cut = m.windows(4).rposition(|w| w == b"cmVw").unwrap() + 8;
        let got = ParsedMail::new(&m[..cut]).attachments();
        assert_eq!(got[1].content, b"report");
        assert_eq!((got[1].complete, got[1].open_at_end), (true, true));
    }
}
