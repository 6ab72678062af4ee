//! Attachments: which parts they are, and their content as the sender
//! attached it.
//!
//! An attachment is a MIME part that is not one of the message's bodies:
//! one with an RFC 2183 `attachment` disposition, a file name, or a type
//! that is not text, and every attached message (`message/rfc822`).
//! mail-parser decides that (`Message::attachments`), the same way for
//! every report and for the window.
//!
//! The content is the part with its *transfer* encoding undone (RFC 2045
//! §6: base64 and quoted-printable) and nothing else: no charset
//! conversion. Those are the bytes a saved file holds, that `md5sum`
//! hashes and that Zeek's files.log and Suricata report. The line break
//! before the next `--boundary` belongs to the boundary (RFC 2046
//! §5.1.1), not to the content.

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, Message, MessagePart, MimeHeaders, PartType};

use super::parse::ParsedMail;
use super::tree::mime_type;

/// One attachment of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attachment {
    /// The file name the message gives it (RFC 2183 `filename`, else the
    /// `Content-Type` `name`, RFC 2231 continuations undone), as written:
    /// it comes from a stranger (see `safe_name` before using it as one).
    pub(crate) given_name: Option<String>,
    /// `type/subtype`, lower case.
    pub(crate) content_type: String,
    /// Transfer-decoded content.
    pub(crate) content: Vec<u8>,
}

impl ParsedMail<'_> {
    /// The attachments, in the order the message has them; none when the
    /// nesting was too deep to take the message apart.
    pub(crate) fn attachments(&self) -> Vec<Attachment> {
        let Some(msg) = self.message() else {
            return Vec::new();
        };
        msg.attachments
            .iter()
            .filter_map(|&id| msg.parts.get(id as usize))
            .map(|part| Attachment {
                given_name: part.attachment_name().map(str::to_string),
                content_type: mime_type(part),
                content: decoded_content(msg, part),
            })
            .collect()
    }
}

/// Part `part` of `msg` with its transfer encoding undone and nothing
/// else. mail-parser turns text parts into UTF-8 (charset conversion), so
/// for those the body is decoded here from the original bytes; when that
/// fails (broken base64 or quoted-printable), the content is empty. Other
/// parts are as mail-parser decoded them; an attached message is its
/// whole text.
pub(super) fn decoded_content(msg: &Message, part: &MessagePart) -> Vec<u8> {
    match &part.body {
        PartType::Text(_) | PartType::Html(_) => {
            // Part offsets count from the start of the buffer the message
            // was parsed from (the `raw_message` field), which is not where
            // `raw_message()` starts for an attached message.
            let raw: &[u8] = &msg.raw_message;
            let start = (part.offset_body as usize).min(raw.len());
            let end = (part.offset_end as usize).clamp(start, raw.len());
            let body = &raw[start..end];
            match part.encoding {
                Encoding::Base64 => base64_decode(body).unwrap_or_default(),
                Encoding::QuotedPrintable => quoted_printable_decode(body).unwrap_or_default(),
                Encoding::None => body.to_vec(),
            }
        }
        _ => part.contents().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::samples::{mixed, nested};

    #[test]
    fn attachments_are_transfer_decoded() {
        let got = ParsedMail::new(&mixed()).attachments();
        let summary: Vec<(Option<&str>, &str, &[u8])> = got
            .iter()
            .map(|a| {
                let name = a.given_name.as_deref();
                (name, a.content_type.as_str(), a.content.as_slice())
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    Some("notes.txt"),
                    "text/plain",
                    &b"line one\r\nline two\r\n"[..]
                ),
                (Some("../../evil.sh"), "application/x-sh", b"#!/bin/sh"),
            ]
        );
        // An attached message is one attachment: its whole text.
        let got = ParsedMail::new(&nested()).attachments();
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].given_name.as_deref(), got[0].content_type.as_str()),
            (None, "message/rfc822")
        );
        assert!(got[0].content.starts_with(b"From: jose@example.es\r\n"));
        assert!(got[0].content.ends_with(b"caf=E9</p></body></html>"));
    }
}
