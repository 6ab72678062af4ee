//! Mail messages: headers, MIME structure, attachments and hashes, read
//! over the exact bytes that were delivered. The MIME structure is read
//! here (`boundaries`, `tree`), the way a mail client reads it; header
//! fields are parsed by mail-parser (addresses, dates, parameters).
//!
//! What a message says about itself (RFC 5322 headers: From, To, Cc,
//! Subject, Date, Message-ID, Received) is decoded for people
//! (`header_text`): RFC 2047 encoded words
//! (`=?ISO-8859-1?Q?Informaci=F3n?=` → `Información`) in any charset,
//! RFC 2231 parameters (`filename*0*=…`), raw 8-bit bytes as UTF-8 else
//! windows-1252, and the blanks the sender wrote. What it carries
//! (attachments, also inside attached messages) is hashed over the
//! *transfer-decoded* bytes (RFC 2045 §6: base64 and quoted-printable
//! undone, no charset conversion), which is what `md5sum` of the saved
//! file gives and what Zeek's files.log reports.
//!
//! One concept a file, all read from one `ParsedMail` (`parse`, bounded
//! against hostile nesting):
//! * `headers`: where the header ends, unfolding (RFC 5322 §2.2.3), the
//!   decoded header list;
//! * `header_text`: header text as a person reads it (8-bit bytes,
//!   encoded words, blanks);
//! * `boundaries`: the delimiter lines that cut a multipart into parts
//!   (RFC 2046 §5.1.1);
//! * `tree`: the MIME tree, parts numbered as IMAP numbers them
//!   (RFC 3501 §6.4.5), with their byte ranges in the raw message;
//! * `transfer`: base64 and quoted-printable undone as far as the bytes
//!   go (RFC 2045 §6);
//! * `attachments`: which parts are attachments, where they sit, and their
//!   decoded content;
//! * `body`: the text a person reads;
//! * `safe_name`: attachment file names made safe to create;
//! * `digest`: MD5 and SHA-256 in hex.

// The window (the `gui` feature) reads the tree, the body and the
// decoded header list; IMAP's BODYSTRUCTURE, ENVELOPE and `BODY[section]`
// read the tree and the headers too. Built without the window, the body
// and some of the tree's helpers have no reader.
pub(crate) mod attachments;
mod auth_results;
pub(crate) mod body;
mod boundaries;
mod digest;
pub(crate) mod header_text;
pub(crate) mod headers;
pub(crate) mod parse;
pub(crate) mod received;
pub(crate) mod safe_name;
#[cfg(test)]
pub(crate) mod samples;
mod transfer;
#[cfg_attr(not(feature = "gui"), allow(dead_code))]
pub(crate) mod tree;
mod urls;

use mail_parser::{Address, HeaderName};
use serde::Serialize;

pub use auth_results::{AuthResult, MAX_AUTH_RESULTS};
pub use digest::{hex, md5_hex, sha256_hex};
use header_text::{display_name, unstructured, utf8_or_windows_1252};
use headers::{header_end, unfold};
use parse::{MESSAGE_FIELDS, ParsedMail};
pub use received::{MAX_RECEIVED_HOPS, ReceivedHop};
use tree::PartFields;
pub use urls::{MAX_URL_BYTES, MAX_URLS};

/// One attachment: a MIME part that is not one of the message's bodies
/// (RFC 2183 `attachment` disposition, a file name, or a type other than
/// plain text and HTML), or an attached message (`message/rfc822`), also
/// inside attached messages (see `attachments`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct AttachmentInfo {
    pub filename: Option<String>,
    pub content_type: String,
    /// Size of the decoded content.
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    /// Its place in the MIME tree: the IMAP part number (RFC 3501
    /// §6.4.5), `2` for the second part, `2.1` for the first part of the
    /// message attached as part 2.
    pub part: String,
    /// The part number of the attached message it came out of; absent for
    /// the message's own attachments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Whether the content is whole: false when the capture holds only
    /// part of it (the message was cut inside it, or its base64 or
    /// quoted-printable was cut or damaged). The content is then what the
    /// bytes there decode to, never the encoded text.
    pub complete: bool,
    /// It ran to the end of the message's bytes, so a message cut short
    /// cut it too (the message record then clears `complete`).
    #[serde(skip)]
    pub open_at_end: bool,
    /// `extract` only: where it was written, relative to the output dir.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What a message says about itself.
#[derive(Clone, Debug, Default)]
pub struct MessageInfo {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<String>,
    pub from_name: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub date: Option<String>,
    /// `Received:` headers, top (newest) first, unfolded.
    pub received: Vec<String>,
    /// The same fields taken apart, oldest first (`received`).
    pub received_hops: Vec<ReceivedHop>,
    /// The `Authentication-Results:` fields taken apart, topmost first
    /// (RFC 8601): what receiving servers concluded of SPF, DKIM, DMARC.
    pub auth_results: Vec<AuthResult>,
    /// `Reply-To:` addresses (RFC 5322 §3.6.2).
    pub reply_to: Vec<String>,
    /// The `List-Id:` of a mailing list's message (RFC 2919), which sets
    /// Reply-To to the list as a matter of course.
    pub list_id: Option<String>,
    /// Web and FTP links of the text and HTML parts (`urls`).
    pub urls: Vec<String>,
    pub attachments: Vec<AttachmentInfo>,
    /// The bytes end inside a part (a part runs to the end, or a
    /// multipart never saw its closing line). When the message is known
    /// to be incomplete, this says where it lost bytes: at the end if
    /// true, somewhere inside if false.
    pub open_at_end: bool,
}

/// Reads a message. With `contents`, the decoded attachments are pushed to
/// it in the order of `attachments`.
///
/// The bytes are read as if they were the whole message; whether they are
/// is the protocol's to say (the `complete` of the message it delivered),
/// and [`AttachmentInfo::open_at_end`] and [`MessageInfo::open_at_end`]
/// tell which attachments a loss may have hit.
pub fn inspect(raw: &[u8], mut contents: Option<&mut Vec<Vec<u8>>>) -> MessageInfo {
    if raw.is_empty() {
        return MessageInfo::default();
    }
    // The header as text (8-bit bytes as UTF-8 else windows-1252), read
    // by mail-parser for its structured fields.
    let head = utf8_or_windows_1252(&raw[..header_end(raw)]);
    let Some(msg) = MESSAGE_FIELDS.parse_headers(head.as_bytes()) else {
        return MessageInfo::default();
    };
    let field = |name: HeaderName| {
        msg.headers().iter().find(|h| h.name == name).map(|h| {
            let start = (h.offset_start as usize).min(head.len());
            let end = (h.offset_end as usize).clamp(start, head.len());
            &head.as_bytes()[start..end]
        })
    };
    let mut info = MessageInfo {
        message_id: msg.message_id().map(|id| format!("<{id}>")),
        // Unstructured text: blanks as written (RFC 2047 §6.2).
        subject: field(HeaderName::Subject).map(unstructured),
        from: addresses(msg.from()),
        // The display name with the sender's blanks (mail-parser joins an
        // encoded word to a quoted string after it); mail-parser's when
        // there is no `<address>` to put one before (`a@b (Name)`).
        from_name: field(HeaderName::From).and_then(display_name).or_else(|| {
            msg.from()
                .and_then(|a| a.first())
                .and_then(|a| a.name())
                .map(str::to_string)
        }),
        to: addresses(msg.to()),
        cc: addresses(msg.cc()),
        date: msg
            .date()
            .map(|d| d.to_rfc3339())
            .or_else(|| msg.header_raw("Date").map(|d| d.trim().to_string())),
        received: msg
            .headers_raw()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Received"))
            .map(|(_, value)| unfold(value))
            .collect(),
        received_hops: received::hops_oldest_first(
            msg.headers()
                .iter()
                .filter(|h| h.name == HeaderName::Received)
                // One hop per field, a field mail-parser could not read
                // included (empty), so hops and `received` line up.
                .map(|h| {
                    h.value
                        .as_received()
                        .map(ReceivedHop::of)
                        .unwrap_or_default()
                })
                .collect(),
        ),
        auth_results: auth_results::parse_fields(
            msg.headers_raw()
                .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
                .map(|(_, value)| value),
        ),
        reply_to: addresses(msg.reply_to()),
        list_id: msg
            .header_raw("List-Id")
            .map(|v| unfold(v).trim().to_string()),
        urls: Vec::new(),
        attachments: Vec::new(),
        open_at_end: true,
    };
    let root = msg.parts.first().map(PartFields::of);
    let mail = ParsedMail::with_root(raw, root);
    info.open_at_end = mail.open_at_end();
    info.urls = mail.urls();
    for a in mail.attachments() {
        info.attachments.push(AttachmentInfo {
            filename: a.given_name,
            content_type: a.content_type,
            size: a.content.len() as u64,
            md5: md5_hex(&a.content),
            sha256: sha256_hex(&a.content),
            part: a.part,
            container: a.container,
            complete: a.complete,
            open_at_end: a.open_at_end,
            path: None,
        });
        if let Some(c) = contents.as_deref_mut() {
            c.push(a.content);
        }
    }
    info
}

/// The bare addresses of an address header, groups flattened.
fn addresses(a: Option<&Address>) -> Vec<String> {
    a.map(|a| {
        a.iter()
            .filter_map(|addr| addr.address())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use samples::crlf;

    #[test]
    fn textbook_headers() {
        let m = crlf(&[
            "Received: from crepes.fr (crepes.fr [10.0.0.1])",
            "        by hamburger.edu with SMTP id 4711",
            "From: Alice <alice@crepes.fr>",
            "To: bob@hamburger.edu, Carol <carol@hamburger.edu>",
            "Cc: team: dave@crepes.fr, erin@crepes.fr;",
            "Subject: Searching for the meaning of life",
            "Message-ID: <20240304091500.4711@crepes.fr>",
            "Date: Mon, 04 Mar 2024 10:15:00 +0100",
            "",
            "Do you like ketchup?",
        ]);
        let i = inspect(&m, None);
        assert_eq!(
            i.subject.as_deref(),
            Some("Searching for the meaning of life")
        );
        assert_eq!(
            i.message_id.as_deref(),
            Some("<20240304091500.4711@crepes.fr>")
        );
        assert_eq!(i.from, ["alice@crepes.fr"]);
        assert_eq!(i.from_name.as_deref(), Some("Alice"));
        assert_eq!(i.to, ["bob@hamburger.edu", "carol@hamburger.edu"]);
        assert_eq!(i.cc, ["dave@crepes.fr", "erin@crepes.fr"]);
        assert_eq!(i.date.as_deref(), Some("2024-03-04T10:15:00+01:00"));
        assert_eq!(
            i.received,
            ["from crepes.fr (crepes.fr [10.0.0.1]) by hamburger.edu with SMTP id 4711"]
        );
        assert!(i.attachments.is_empty());
    }

    #[test]
    fn encoded_words_in_any_charset() {
        let m = crlf(&[
            "From: =?ISO-8859-1?Q?Jos=E9_P=E9rez?= <jose@example.es>",
            "Subject: =?ISO-8859-1?Q?Informaci=F3n?= =?UTF-8?B?ZGVsIHBpY25pYw==?=",
            "",
            "x",
        ]);
        let i = inspect(&m, None);
        assert_eq!(i.subject.as_deref(), Some("Informacióndel picnic"));
        assert_eq!(i.from_name.as_deref(), Some("José Pérez"));
    }

    #[test]
    fn attachments_hashed_over_decoded_bytes() {
        let latin1 = b"Informaci\xf3n\r\n".to_vec();
        let qp_text = "caf=E9 cr=E8me\r\n";
        let m = crlf(&[
            "From: a@example.org",
            "Subject: files",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"outer\"",
            "",
            "--outer",
            "Content-Type: multipart/alternative; boundary=\"inner\"",
            "",
            "--inner",
            "Content-Type: text/plain",
            "",
            "body text",
            "--inner",
            "Content-Type: text/html",
            "",
            "<p>body</p>",
            "--inner--",
            "--outer",
            "Content-Type: text/plain; charset=iso-8859-1",
            "Content-Disposition: attachment; filename=\"nota.txt\"",
            "Content-Transfer-Encoding: base64",
            "",
            "SW5mb3JtYWNp824NCg==",
            "--outer",
            "Content-Type: application/octet-stream",
            "Content-Disposition: attachment;",
            " filename*0*=utf-8''ma%C3%B1;",
            " filename*1=\"ana.bin\"",
            "Content-Transfer-Encoding: base64",
            "",
            "AAECAwQF",
            "--outer",
            "Content-Type: text/plain; charset=iso-8859-1; name=\"qp.txt\"",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            qp_text.trim_end(),
            "--outer--",
        ]);
        let mut contents = Vec::new();
        let i = inspect(&m, Some(&mut contents));
        let got: Vec<(Option<&str>, &str, u64)> = i
            .attachments
            .iter()
            .map(|a| (a.filename.as_deref(), a.content_type.as_str(), a.size))
            .collect();
        assert_eq!(
            got,
            [
                (Some("nota.txt"), "text/plain", latin1.len() as u64),
                (Some("mañana.bin"), "application/octet-stream", 6),
                (Some("qp.txt"), "text/plain", 10),
            ]
        );
        assert_eq!(contents[0], latin1);
        assert_eq!(i.attachments[0].md5, md5_hex(&latin1));
        assert_eq!(i.attachments[0].sha256, sha256_hex(&latin1));
        assert_eq!(contents[1], [0, 1, 2, 3, 4, 5]);
        assert_eq!(contents[2], b"caf\xe9 cr\xe8me");
    }

    /// The window saves what the reports hashed.
    #[test]
    fn the_saved_bytes_are_the_hashed_bytes() {
        let m = samples::mixed();
        let info = inspect(&m, None);
        let attachments = ParsedMail::new(&m).attachments();
        assert_eq!(attachments.len(), info.attachments.len());
        for (a, recorded) in attachments.iter().zip(&info.attachments) {
            assert_eq!(sha256_hex(&a.content), recorded.sha256);
        }
    }

    #[test]
    fn attached_message() {
        let inner = crlf(&["From: x@example.org", "Subject: inner", "", "hi"]);
        let mut m = crlf(&[
            "From: a@example.org",
            "Subject: fwd",
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: text/plain",
            "",
            "see attached",
            "--b",
            "Content-Type: message/rfc822",
            "",
        ]);
        m.extend_from_slice(&inner);
        m.extend_from_slice(b"--b--\r\n");
        let mut contents = Vec::new();
        let i = inspect(&m, Some(&mut contents));
        assert_eq!(i.attachments.len(), 1);
        assert_eq!(i.attachments[0].content_type, "message/rfc822");
        assert_eq!(i.attachments[0].filename, None);
        assert!(contents[0].starts_with(b"From: x@example.org\r\nSubject: inner"));
    }

    #[test]
    fn garbage_and_hostile_input() {
        assert!(inspect(b"", None).subject.is_none());
        let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let _ = inspect(&garbage, None);
        // 1 MB header line.
        let mut long = b"Subject: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 1 << 20));
        long.extend_from_slice(b"\r\n\r\nbody\r\n");
        assert_eq!(inspect(&long, None).subject.map(|s| s.len()), Some(1 << 20));
        // Deep nesting: headers are still read, no stack overflow.
        let mut deep = b"Subject: deep\r\n".to_vec();
        for i in 0..20_000 {
            deep.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                    .as_bytes(),
            );
        }
        let i = inspect(&deep, None);
        assert_eq!(i.subject.as_deref(), Some("deep"));
        assert!(i.attachments.is_empty());
        // 300 000 nested attached messages (no `boundary=` among them):
        // no stack overflow; the messages are listed as deep as they are
        // opened.
        let mut deep = b"Subject: deeper\r\n".to_vec();
        deep.extend(b"Content-Type: message/rfc822\r\n\r\n".repeat(300_000));
        deep.extend_from_slice(b"hi\r\n");
        let i = inspect(&deep, None);
        assert_eq!(i.subject.as_deref(), Some("deeper"));
        let parts: Vec<&str> = i.attachments.iter().map(|a| a.part.as_str()).collect();
        assert_eq!(parts.len(), attachments::MAX_OPENED + 1);
        assert_eq!(parts[2], "1.1.1");
        assert!(
            i.attachments
                .iter()
                .all(|a| a.content_type == "message/rfc822")
        );
    }
}
