//! The web and FTP links a message carries (the `urls` of a message
//! record): what a phishing investigation looks up first.
//!
//! Where they are looked for: every `text/plain` and `text/html` leaf of
//! the MIME tree, wherever it sits — the bodies, text attachments and the
//! parts of attached messages (a forwarded phishing mail is an attached
//! message) — once its transfer encoding is undone and its charset read,
//! so a link split by quoted-printable's soft line breaks or hidden in
//! base64 is found whole.
//!
//! What a link is: `http://`, `https://` or `ftp://` (any case) not
//! preceded by a letter or digit, up to the first character that cannot
//! be in a URL as mail carries it (blanks, controls, quotes, `<`, `>`,
//! and the characters RFC 3986 §2 never allows unencoded: `` ` ``, `{`,
//! `}`, `|`, `\`, `^`). Sentence punctuation after a link in text
//! (`see https://x.example/a.`) is not part of it, and neither is a
//! closing bracket that has no opening one inside the link
//! (`(https://x.example)`); RFC 3986 Appendix C describes these
//! delimiters. In HTML, the character references a link is written with
//! in an attribute (`&amp;`, `&#38;`, `&#x26;`) are decoded, as a browser
//! decodes them before following the link.
//!
//! Each link once, in the order first seen, at most [`MAX_URLS`] per
//! message, each at most [`MAX_URL_BYTES`] long (a longer one is cut there
//! and ends in `…`: the host, what matters most, is at the start).

use super::parse::ParsedMail;
use super::transfer::Encoding;
use super::tree::PartKind;

/// Links kept per message.
pub const MAX_URLS: usize = 100;
/// Bytes kept of one link.
pub const MAX_URL_BYTES: usize = 2048;

const SCHEMES: [&str; 3] = ["http://", "https://", "ftp://"];

impl ParsedMail<'_> {
    /// The links of every text and HTML leaf (see the module's comment).
    pub(crate) fn urls(&self) -> Vec<String> {
        let mut found = Links::default();
        for part in &self.parts().parts {
            if part.kind != PartKind::Single || found.full() {
                continue;
            }
            let html = match part.mime_type() {
                "text/plain" => false,
                "text/html" => true,
                _ => continue,
            };
            // A part sent as it is (7bit, 8bit) is read in place; only an
            // encoded one is decoded into a copy.
            let body = &self.raw()[part.body.clone()];
            let decoded;
            let bytes: &[u8] = match part.encoding() {
                Encoding::Identity => body,
                encoding => {
                    decoded = encoding.decode(body).bytes;
                    &decoded
                }
            };
            // Most parts hold no link: in a charset that writes ASCII as
            // ASCII (all but UTF-16 and UTF-32), one without "://" is
            // passed by before its text is made.
            let wide = part.content_type.param("charset").is_some_and(|c| {
                c.to_ascii_lowercase().starts_with("utf-16")
                    || c.to_ascii_lowercase().starts_with("utf-32")
            });
            if !wide && memchr::memmem::find(bytes, b"://").is_none() {
                continue;
            }
            scan(&super::body::charset_text(part, bytes), html, &mut found);
        }
        found.list
    }
}

/// The links found so far, deduplicated in order.
#[derive(Default)]
struct Links {
    list: Vec<String>,
    seen: rustc_hash::FxHashSet<String>,
}

impl Links {
    fn full(&self) -> bool {
        self.list.len() >= MAX_URLS
    }

    fn add(&mut self, url: String) {
        if !self.full() && self.seen.insert(url.clone()) {
            self.list.push(url);
        }
    }
}

/// Adds the links of `text` (HTML when `html`) to `found`.
fn scan(text: &str, html: bool, found: &mut Links) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() && !found.full() {
        // Every scheme ends in "://": look for that, then at what is
        // before it.
        let Some(rel) = text[at..].find("://") else {
            break;
        };
        let colon = at + rel;
        at = colon + 3;
        let Some(start) = scheme_start(text, colon) else {
            continue;
        };
        let end = link_end(text, colon + 3);
        let raw = trim_trailing(&text[start..end]);
        if raw.len() <= colon + 3 - start {
            continue; // nothing after the scheme
        }
        at = start + raw.len();
        let url = if html {
            decode_references(raw)
        } else {
            raw.to_string()
        };
        found.add(bounded(url));
    }
}

/// Where the scheme before the `://` at `colon` starts, if it is one of
/// [`SCHEMES`] not glued to a word before it.
fn scheme_start(text: &str, colon: usize) -> Option<usize> {
    SCHEMES.iter().find_map(|scheme| {
        let name = scheme.len() - 3;
        let start = colon.checked_sub(name)?;
        let candidate = text.get(start..colon)?;
        let glued = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric());
        (candidate.eq_ignore_ascii_case(&scheme[..name]) && !glued).then_some(start)
    })
}

/// Where a link that goes on at `from` ends (exclusive).
fn link_end(text: &str, from: usize) -> usize {
    text[from..]
        .char_indices()
        .find(|&(_, c)| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '"' | '\'' | '<' | '>' | '`' | '{' | '}' | '|' | '\\' | '^'
                )
        })
        .map_or(text.len(), |(i, _)| from + i)
}

/// `link` without the punctuation of the sentence around it.
fn trim_trailing(mut link: &str) -> &str {
    loop {
        let Some(last) = link.chars().next_back() else {
            return link;
        };
        let unbalanced = |open: char, close: char| {
            last == close && link.matches(open).count() < link.matches(close).count()
        };
        let drop = matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '*')
            || unbalanced('(', ')')
            || unbalanced('[', ']');
        if !drop {
            return link;
        }
        link = &link[..link.len() - last.len_utf8()];
    }
}

/// `&amp;`, `&#38;` and `&#x26;` (and the other numeric references)
/// decoded; any other `&` kept as written.
fn decode_references(link: &str) -> String {
    let mut out = String::with_capacity(link.len());
    let mut rest = link;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        let decoded = match name {
            "amp" => Some('&'),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `url` cut to [`MAX_URL_BYTES`] (at a character boundary) with `…`.
fn bounded(mut url: String) -> String {
    if url.len() > MAX_URL_BYTES {
        let mut cut = MAX_URL_BYTES;
        while !url.is_char_boundary(cut) {
            cut -= 1;
        }
        url.truncate(cut);
        url.push('…');
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::inspect;
    use crate::mail::samples::crlf;

    fn in_text(text: &str) -> Vec<String> {
        let mut found = Links::default();
        scan(text, false, &mut found);
        found.list
    }

    #[test]
    fn links_in_text_without_the_sentence_around_them() {
        assert_eq!(
            in_text(
                "See https://x.example/a. Or (http://y.example/b_(c)) and <ftp://f.example/d>, \
                 \"HTTPS://Z.example/?q=1&r=2\"; xhttp://no.example https://"
            ),
            [
                "https://x.example/a",
                "http://y.example/b_(c)",
                "ftp://f.example/d",
                "HTTPS://Z.example/?q=1&r=2",
            ]
        );
        assert_eq!(
            in_text("a https://x.example b https://x.example"),
            ["https://x.example"]
        );
        assert_eq!(
            in_text("mailto:a@b.example file:///etc/passwd"),
            [] as [&str; 0]
        );
    }

    #[test]
    fn html_references_decoded_and_attached_messages_read() {
        let inner = crlf(&[
            "From: x@example.org",
            "Content-Type: text/html",
            "",
            "<a href=\"https://evil.example/login?a=1&amp;b=2&#x26;c=3\">bank</a>",
        ]);
        let mut m = crlf(&[
            "From: a@example.org",
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: text/plain",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Look at https://www.exa=",
            "mple.org/x=3Dy today.",
            "--b",
            "Content-Type: message/rfc822",
            "",
        ]);
        m.extend_from_slice(&inner);
        m.extend_from_slice(b"\r\n--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\naHR0cDovL2ltYWdlLmV4YW1wbGU=\r\n--b--\r\n");
        assert_eq!(
            inspect(&m, None).urls,
            [
                "https://www.example.org/x=y",
                "https://evil.example/login?a=1&b=2&c=3",
            ]
        );
    }

    #[test]
    fn a_utf16_part_is_read_in_its_charset() {
        let m = crlf(&[
            "From: a@example.org",
            "Content-Type: text/plain; charset=UTF-16LE",
            "Content-Transfer-Encoding: base64",
            "",
            "cwBlAGUAIABoAHQAdABwADoALwAvAHcAaQBkAGUALgBlAHgAYQBtAHAAbABlAC8AeAAgAG8AawA=",
        ]);
        assert_eq!(inspect(&m, None).urls, ["http://wide.example/x"]);
    }

    #[test]
    fn bounded_in_number_and_length() {
        let many: String = (0..300).map(|i| format!("http://h{i}.example/ ")).collect();
        let urls = in_text(&many);
        assert_eq!(urls.len(), MAX_URLS);
        assert_eq!(urls[99], "http://h99.example/");
        let long = format!("https://long.example/{}", "é".repeat(3000));
        let urls = in_text(&long);
        assert!(urls[0].len() <= MAX_URL_BYTES + '…'.len_utf8());
        assert!(urls[0].starts_with("https://long.example/é"));
        assert!(urls[0].ends_with('…'));
    }
}
