//! Header lines (RFC 5322 §2.2): where they end, how a folded one is put
//! back on one line, and the list a person reads.
//!
//! A header field is `Name: value`. A long value may be *folded* over
//! several lines: a line break followed by a blank continues the field
//! (RFC 5322 §2.2.3). Non-ASCII text travels as RFC 2047 encoded words
//! (`=?UTF-8?B?QcOxbw==?=` is `Año`).

use super::header_text::{unstructured, utf8_or_windows_1252};
use super::parse::FIELD_BOUNDS;

/// Where the header of `raw` ends and its body starts: after the first
/// empty line (RFC 5322 §2.1), which belongs to the header; the end of
/// `raw` when there is none. A message may start with the empty line
/// (no header at all), and bare LF line ends are accepted too.
pub(crate) fn header_end(raw: &[u8]) -> usize {
    if raw.starts_with(b"\r\n") {
        return 2;
    }
    if raw.starts_with(b"\n") {
        return 1;
    }
    let crlf = memchr::memmem::find(raw, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(raw, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(raw.len()),
    }
}

/// A folded header value on one line, trimmed.
///
/// RFC 5322 §2.2.3 unfolds by removing each line break that is followed
/// by a blank. The blanks that indent the next line are there only to
/// mark the fold, so here the fold as a whole (line break and indentation)
/// reads as one space, as mail programs show it:
/// `from a\r\n        by b` → `from a by b`. Bytes, not text: a header
/// may carry 8-bit bytes in any charset, and they are kept as they are.
pub(crate) fn unfold_bytes(value: &[u8]) -> Vec<u8> {
    unfold_with(value, |out, line| {
        out.push(b' ');
        out.extend_from_slice(line.trim_ascii_start());
    })
}

/// A folded header value on one line, trimmed, unfolded to the letter of
/// RFC 5322 §2.2.3: only the line breaks go, the blanks that follow them
/// stay (`a\r\n\tb` → `a\tb`). IMAP's ENVELOPE and SEARCH want the
/// field's own characters, not a reading of them.
pub(crate) fn unfold_exact(value: &[u8]) -> Vec<u8> {
    unfold_with(value, |out, line| out.extend_from_slice(line))
}

/// The lines of a folded value joined by `join` (which gets each line
/// after the first), trimmed.
fn unfold_with(value: &[u8], join: impl Fn(&mut Vec<u8>, &[u8])) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for (i, line) in value.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if i > 0 {
            join(&mut out, line);
        } else {
            out.extend_from_slice(line);
        }
    }
    out.trim_ascii().to_vec()
}

/// [`unfold_bytes`] for a value that is already text.
pub(crate) fn unfold(value: &str) -> String {
    // Only ASCII bytes are removed or added, always between characters,
    // so valid UTF-8 stays valid and nothing is lost here.
    String::from_utf8_lossy(&unfold_bytes(value.as_bytes())).into_owned()
}

/// One header field as it is in the message.
pub(crate) struct HeaderField<'a> {
    /// The name as written, blanks around it trimmed.
    pub(crate) name: &'a [u8],
    /// The whole field with its continuation lines and line endings.
    pub(crate) raw: &'a [u8],
    /// What follows the colon, still folded.
    pub(crate) value: &'a [u8],
}

/// The fields of a header (up to the empty line that ends it) as raw
/// bytes, in order: a line starting with a blank continues the field
/// before it (folding, RFC 5322 §2.2.3); a line without a colon is no
/// field and is passed over. For those who answer with the message's own
/// bytes (IMAP's `BODY[HEADER.FIELDS]`, SEARCH HEADER, ENVELOPE).
pub(crate) fn fields(header: &[u8]) -> Vec<HeaderField<'_>> {
    let line_end = |from: usize| {
        memchr::memchr(b'\n', &header[from..])
            .map(|i| from + i + 1)
            .unwrap_or(header.len())
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < header.len() {
        let start = i;
        let mut end = line_end(i);
        while end < header.len() && matches!(header[end], b' ' | b'\t') {
            end = line_end(end);
        }
        i = end;
        let raw = &header[start..end];
        if raw == b"\r\n" || raw == b"\n" {
            break;
        }
        let Some(colon) = memchr::memchr(b':', raw) else {
            continue;
        };
        out.push(HeaderField {
            name: raw[..colon].trim_ascii(),
            raw,
            value: &raw[colon + 1..],
        });
    }
    out
}

/// The header lines at the start of `bytes` (up to the empty line), in
/// order: the name as the sender wrote it (`Message-Id`, not the canonical
/// `Message-ID`) and the value as a person reads it (`header_text`: folds
/// undone with their blanks kept, RFC 2047 encoded words decoded, 8-bit
/// bytes as UTF-8 else windows-1252): `Subject: =?UTF-8?Q?ma=C3=B1ana?=`
/// gives `("Subject", "mañana")`. Structured headers (addresses, dates,
/// `Content-Type`) are shown as text, the way they were written.
///
/// mail-parser finds where each field starts and ends.
pub(crate) fn decoded_headers(bytes: &[u8]) -> Vec<(String, String)> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let text = utf8_or_windows_1252(&bytes[..header_end(bytes)]);
    let bytes = text.as_bytes();
    let Some(msg) = FIELD_BOUNDS.parse_headers(bytes) else {
        return Vec::new();
    };
    msg.headers()
        .iter()
        .map(|h| {
            let start = (h.offset_field as usize).min(bytes.len());
            let end = (h.offset_start as usize).clamp(start, bytes.len());
            // The name as written: the colon and the blanks around it go.
            let written = String::from_utf8_lossy(&bytes[start..end]);
            let name = written.trim().trim_end_matches(':').trim_end();
            let name = if name.is_empty() {
                h.name.as_str().to_string()
            } else {
                name.to_string()
            };
            let value_end = (h.offset_end as usize).clamp(end, bytes.len());
            (name, unstructured(&bytes[end..value_end]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::samples::{crlf, mixed, owned};

    #[test]
    fn folds_read_as_one_space() {
        assert_eq!(
            unfold(" from crepes.fr (crepes.fr [10.0.0.1])\r\n        by hamburger.edu\r\n"),
            "from crepes.fr (crepes.fr [10.0.0.1]) by hamburger.edu"
        );
        assert_eq!(unfold("a\n\tb\r\n c"), "a b c");
        assert_eq!(unfold("   "), "");
        // 8-bit bytes in a header are kept, not turned into U+FFFD.
        assert_eq!(unfold_bytes(b"caf\xe9\r\n cr\xe8me"), b"caf\xe9 cr\xe8me");
        // To the letter of RFC 5322: the indentation stays.
        assert_eq!(unfold_exact(b" a\r\n\tb\r\n  c\r\n"), b"a\tb  c");
    }

    #[test]
    fn raw_fields_keep_their_folds() {
        let header = b"Subject: a\r\n b\r\nno colon\r\nX-A:1\r\n\r\nBody: no\r\n";
        let got: Vec<(&[u8], &[u8])> = fields(header).iter().map(|f| (f.name, f.raw)).collect();
        assert_eq!(
            got,
            [
                (b"Subject".as_slice(), b"Subject: a\r\n b\r\n".as_slice()),
                (b"X-A", b"X-A:1\r\n"),
            ]
        );
        assert_eq!(fields(header)[0].value, b" a\r\n b\r\n");
    }

    #[test]
    fn where_the_header_ends() {
        assert_eq!(header_end(b"A: b\r\n\r\nbody"), 8);
        assert_eq!(header_end(b"A: b\n\nbody"), 6);
        assert_eq!(header_end(b"\r\nbody"), 2);
        assert_eq!(header_end(b"A: b\r\n"), 6);
    }

    #[test]
    fn headers_are_unfolded_and_decoded() {
        assert_eq!(
            decoded_headers(&mixed()),
            owned(&[
                ("From", "José <jose@example.es>"),
                ("To", "Ana <ana@example.org>"),
                ("Subject", "Año nuevo: reunión mañana"),
                ("Date", "Mon, 04 Mar 2024 10:15:00 +0100"),
                // The name as written, not mail-parser's `Message-ID`.
                ("Message-Id", "<1@example.es>"),
                // The fold's blanks are kept (RFC 5322 §2.2.3).
                ("X-Folded", "one  two"),
                ("MIME-Version", "1.0"),
                ("Content-Type", "multipart/mixed; boundary=\"outer\""),
            ])
        );
        // Adjacent encoded words join without the blank between them
        // (RFC 2047 §6.2); charsets other than UTF-8 are converted.
        let m = crlf(&[
            "Subject: =?ISO-8859-1?Q?Informaci=F3n?= =?UTF-8?B?ZGVsIHBpY25pYw==?=",
            "",
            "x",
        ]);
        assert_eq!(
            decoded_headers(&m),
            owned(&[("Subject", "Informacióndel picnic")])
        );
        assert!(decoded_headers(b"").is_empty());
    }
}
