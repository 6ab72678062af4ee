//! Header text as a person reads it: 8-bit bytes, RFC 2047 encoded words
//! and folding, with the whitespace the sender wrote.
//!
//! Three rules, in the order they apply:
//! * **8-bit bytes.** Headers are ASCII (RFC 5322 §2.2); RFC 6532 allows
//!   UTF-8 in them. Real mail also carries raw bytes of some legacy
//!   charset, nearly always Latin-1 or its Windows superset (Outlook's
//!   `What’s`, 0x92). Bytes that are UTF-8 are read as UTF-8; every
//!   other byte is read as windows-1252, which is what the WHATWG
//!   Encoding Standard makes of every `latin1` / `iso-8859-1` label
//!   (browsers and mail clients agree). A byte is never lost or turned
//!   into U+FFFD.
//! * **Folding.** A long field is folded by a line break before a blank;
//!   unfolding removes the line break and nothing else (RFC 5322 §2.2.3):
//!   the blanks stay.
//! * **Encoded words.** `=?charset?B?…?=` and `=?charset?Q?…?=` (RFC 2047
//!   §2, §4) are decoded in any charset the charset table knows. The
//!   blanks *between two adjacent encoded words* are dropped (RFC 2047
//!   §6.2: they only separate words the encoder had to split); every
//!   other blank, before, after or between ordinary words, is kept as
//!   written.
//!
//! Unstructured fields (`Subject`, `Comments`, `X-…`) are read here whole.
//! Structured ones (addresses, `Content-Type` parameters) are parsed by
//! mail-parser after [`utf8_or_windows_1252`] has made their bytes text.

use std::borrow::Cow;

use mail_parser::decoders::charsets::map::charset_decoder;

use super::transfer;

/// `bytes` as text: UTF-8 sequences as UTF-8, every other byte as
/// windows-1252 (WHATWG Encoding Standard, index windows-1252). Borrowed
/// when the bytes are UTF-8 already.
pub(crate) fn utf8_or_windows_1252(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|&b| windows_1252(b)));
    }
    Cow::Owned(out)
}

/// One windows-1252 byte. 0x00–0x7F is ASCII and 0xA0–0xFF is Latin-1
/// (the code point of the same number); 0x80–0x9F holds the typographic
/// characters Windows added (curly quotes, dashes, €). The five bytes
/// Windows leaves undefined map to the C1 control of the same number, as
/// in the WHATWG index.
pub(crate) fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9f => HIGH[(byte - 0x80) as usize],
        _ => byte as char,
    }
}

/// An unstructured field's value (the bytes after `Name:`, folds and
/// all) as a person reads it: see the module's comment. The blanks that
/// separate the value from the colon, and those that end it, are not part
/// of the text.
pub(crate) fn unstructured(value: &[u8]) -> String {
    let text = utf8_or_windows_1252(value);
    let unfolded = unfold_keeping_blanks(&text);
    let mut out = String::with_capacity(unfolded.len());
    // Blanks seen after the last word, held until the next word says
    // whether they are kept (RFC 2047 §6.2).
    let mut blanks = String::new();
    let mut after_encoded_word = false;
    let mut rest: &str = &unfolded;
    while !rest.is_empty() {
        let blank_len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if blank_len > 0 {
            blanks.push_str(&rest[..blank_len]);
            rest = &rest[blank_len..];
            continue;
        }
        // The next word: up to the next blank.
        let word_len = rest.find([' ', '\t']).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_len);
        rest = tail;
        push_word(&mut out, &mut blanks, &mut after_encoded_word, word);
    }
    let trimmed = out.trim_matches([' ', '\t']);
    if trimmed.len() == out.len() {
        out
    } else {
        trimmed.to_string()
    }
}

/// The display name of the first mailbox of an address field's value
/// (`From: "José  Pérez" <jose@example.es>` gives `José  Pérez`), read
/// like [`unstructured`] text: quoted strings lose their quotes and
/// backslashes and keep their blanks, encoded words are decoded (also
/// inside quotes, as mail clients do), comments are dropped, and the
/// blanks between words are kept as written except between two encoded
/// words. None when the mailbox has no `<address>` to put a name before
/// (then there is no display name, RFC 5322 §3.4), or the name is empty.
pub(crate) fn display_name(value: &[u8]) -> Option<String> {
    let text = utf8_or_windows_1252(value);
    let text = unfold_keeping_blanks(&text);
    // The phrase ends at the first `<` outside quotes and comments; a
    // group's name ends at `:`, a mailbox at `,`.
    let mut out = String::new();
    let mut blanks = String::new();
    let mut after_encoded_word = false;
    let mut chars = text.char_indices().peekable();
    let mut word = String::new();
    let flush_word =
        |word: &mut String, out: &mut String, blanks: &mut String, after: &mut bool| {
            if !word.is_empty() {
                push_word(out, blanks, after, word);
                word.clear();
            }
        };
    while let Some((_, c)) = chars.next() {
        match c {
            ' ' | '\t' => {
                flush_word(&mut word, &mut out, &mut blanks, &mut after_encoded_word);
                blanks.push(c);
            }
            '"' => {
                flush_word(&mut word, &mut out, &mut blanks, &mut after_encoded_word);
                let mut quoted = String::new();
                while let Some((_, q)) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => quoted.extend(chars.next().map(|(_, e)| e)),
                        _ => quoted.push(q),
                    }
                }
                out.push_str(&blanks);
                blanks.clear();
                decode_words(&quoted, &mut out, |_, _| {});
                after_encoded_word = false;
            }
            '(' => {
                flush_word(&mut word, &mut out, &mut blanks, &mut after_encoded_word);
                let mut depth = 1;
                while depth > 0 {
                    match chars.next() {
                        Some((_, '(')) => depth += 1,
                        Some((_, ')')) => depth -= 1,
                        Some((_, '\\')) => {
                            chars.next();
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
            }
            '<' => {
                flush_word(&mut word, &mut out, &mut blanks, &mut after_encoded_word);
                let name = out.trim_matches([' ', '\t']);
                return (!name.is_empty()).then(|| name.to_string());
            }
            ':' => {
                // A group's name (RFC 5322 §3.4): its first mailbox
                // follows.
                word.clear();
                out.clear();
                blanks.clear();
                after_encoded_word = false;
            }
            ',' => return None,
            _ => word.push(c),
        }
    }
    None
}

/// RFC 5322 §2.2.3: a line break followed by a blank is removed; the
/// blank stays. A line break not followed by a blank (which a header
/// value cannot hold) is removed as well: every CR and LF goes. Most
/// values have none, and are read in place.
fn unfold_keeping_blanks(text: &str) -> Cow<'_, str> {
    if text.contains(['\r', '\n']) {
        Cow::Owned(text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// Appends one blank-free word of text to `out`: first the `blanks` held
/// before it, unless this word and the one before are both encoded words
/// (RFC 2047 §6.2: the blanks between two encoded words are not text).
fn push_word(out: &mut String, blanks: &mut String, after_encoded_word: &mut bool, word: &str) {
    let after_previous = *after_encoded_word;
    *after_encoded_word = decode_words(word, out, |out, starts_encoded| {
        if !(after_previous && starts_encoded) {
            out.push_str(blanks);
        }
    });
    blanks.clear();
}

/// Appends `word` to `out` with its encoded words decoded, calling
/// `before` first with whether the word starts with an encoded word.
/// Returns whether it ends with one. RFC 2047 §5 wants an encoded word
/// delimited by blanks, but senders write `Re:=?utf-8?…?=` and mail
/// clients decode it, so an encoded word is recognised anywhere in a word.
fn decode_words(word: &str, out: &mut String, before: impl FnOnce(&mut String, bool)) -> bool {
    let mut before = Some(before);
    let mut rest = word;
    let mut decoded_any = false;
    let mut search_from = 0;
    while let Some(found) = rest[search_from..].find("=?") {
        let start = search_from + found;
        let Some((decoded, len)) = decode_encoded_word(&rest[start..]) else {
            // Not an encoded word: its `=?` is text.
            search_from = start + 2;
            continue;
        };
        if let Some(before) = before.take() {
            before(out, start == 0);
        }
        out.push_str(&rest[..start]);
        out.push_str(&decoded);
        rest = &rest[start + len..];
        search_from = 0;
        decoded_any = true;
    }
    if let Some(before) = before.take() {
        before(out, false);
    }
    out.push_str(rest);
    decoded_any && rest.is_empty()
}

/// Decodes the encoded word `=?charset?E?text?=` at the start of `s`
/// (RFC 2047 §2): its text and the length of the word. None when `s` does
/// not start with one. The charset may carry an RFC 2231 §5 language
/// (`utf-8*es`); an unknown charset is read as UTF-8, then windows-1252.
pub(crate) fn decode_encoded_word(s: &str) -> Option<(String, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if charset.is_empty() || text.contains([' ', '\t']) {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => transfer::base64(text.as_bytes()).bytes,
        "Q" | "q" => q_decode(text.as_bytes()),
        _ => return None,
    };
    let charset = charset.split('*').next().unwrap_or(charset);
    let decoded = match charset_decoder(charset.as_bytes()) {
        Some(decode) => decode(&bytes),
        None => utf8_or_windows_1252(&bytes).into_owned(),
    };
    Some((decoded, s.len() - inner[end + 2..].len()))
}

/// The "Q" encoding (RFC 2047 §4.2): quoted-printable where `_` is a
/// space.
fn q_decode(text: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = text
        .iter()
        .map(|&b| if b == b'_' { b' ' } else { b })
        .collect();
    transfer::quoted_printable(&spaced).bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bit_bytes_are_utf8_else_windows_1252() {
        assert_eq!(utf8_or_windows_1252(b"What\x92s up"), "What’s up");
        assert_eq!(utf8_or_windows_1252(b"caf\xe9 \x80 5"), "café € 5");
        // UTF-8 stays UTF-8, even beside a stray windows-1252 byte.
        assert_eq!(utf8_or_windows_1252("mañana".as_bytes()), "mañana");
        assert_eq!(
            utf8_or_windows_1252(b"ma\xc3\xb1ana \x93hoy\x94"),
            "mañana “hoy”"
        );
        // The undefined bytes are C1 controls, as in the WHATWG index.
        assert_eq!(utf8_or_windows_1252(b"\x81\x9d"), "\u{81}\u{9d}");
    }

    #[test]
    fn blanks_are_kept_as_written() {
        assert_eq!(unstructured(b" a  b\t c "), "a  b\t c");
        // Unfolding removes the line break only (RFC 5322 §2.2.3).
        assert_eq!(
            unstructured(b" line one\r\n            continued  here\r\n"),
            "line one            continued  here"
        );
        assert_eq!(unstructured(b" one\r\n\ttwo"), "one\ttwo");
        assert_eq!(unstructured(b" What\x92s up"), "What’s up");
    }

    #[test]
    fn display_names() {
        let name = |v: &[u8]| display_name(v);
        assert_eq!(
            name(b" \"Jos\xe9  P\xe9rez\" <jose@example.es>").as_deref(),
            Some("José  Pérez")
        );
        // An encoded word and a quoted string: the blank between them is
        // the sender's.
        assert_eq!(
            name(b" =?UTF-8?Q?Ana_Mar=C3=ADa?= \"de la  Cruz\" <ana@example.org>").as_deref(),
            Some("Ana María de la  Cruz")
        );
        assert_eq!(
            name(b" =?UTF-8?Q?Ana?=\r\n =?UTF-8?Q?_Mar=C3=ADa?= <a@b>").as_deref(),
            Some("Ana María")
        );
        assert_eq!(
            name(b" \"a \\\"quoted\\\" name\" (comment) <a@b>, Other <o@b>").as_deref(),
            Some("a \"quoted\" name")
        );
        assert_eq!(
            name(b" team: Alice <a@b>, Bob <b@b>;").as_deref(),
            Some("Alice")
        );
        assert_eq!(name(b" a@b (Old Style)"), None);
        assert_eq!(name(b" <a@b>"), None);
    }

    #[test]
    fn encoded_words_join_only_each_other() {
        // Between two encoded words the blanks go (RFC 2047 §6.2)…
        assert_eq!(
            unstructured(b" =?ISO-8859-1?Q?Informaci=F3n?= =?UTF-8?B?ZGVsIHBpY25pYw==?="),
            "Informacióndel picnic"
        );
        assert_eq!(unstructured(b" =?UTF-8?Q?a?=\r\n   =?UTF-8?Q?b?="), "ab");
        // …elsewhere they stay, and so do those inside a word's text.
        assert_eq!(
            unstructured(b" [list]  Re:  =?ISO-8859-1?Q?caf=E9?=  now"),
            "[list]  Re:  café  now"
        );
        assert_eq!(unstructured(b" =?UTF-8?Q?a__?= =?UTF-8?Q?__b?="), "a    b");
        assert_eq!(unstructured(b" x =?UTF-8?Q?__a__?= y"), "x   a   y");
        // Any charset; a language tag (RFC 2231 §5); a word glued to text.
        assert_eq!(unstructured(b" =?gb2312?B?xeTQxbK7xNw=?="), "配信不能");
        assert_eq!(unstructured(b" =?utf-8*es?q?ma=C3=B1ana?="), "mañana");
        assert_eq!(unstructured(b" Re:=?utf-8?q?x?=y"), "Re:xy");
        // Not encoded words: kept as written.
        assert_eq!(
            unstructured(b" =?utf-8?x?abc?= =? ?="),
            "=?utf-8?x?abc?= =? ?="
        );
    }
}
