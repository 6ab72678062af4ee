//! Text from the wire, made safe to show.
//!
//! Whatever a capture holds ends up on an analyst's terminal or a
//! projector: a subject of `=?utf-8?q?=1B]0;PWNED=07=1B[2J?=` decodes to
//! escape sequences that retitle and clear a terminal, a user name can
//! carry a carriage return that hides what came before it, and Unicode's
//! bidirectional overrides (U+202E …) reorder what the eye reads ("Trojan
//! Source", CVE-2021-42574). Nothing from the wire is written to a person
//! without going through here.

use std::borrow::Cow;

/// Unicode's bidirectional formatting characters: embeddings, overrides
/// and isolates (U+202A–U+202E, U+2066–U+2069) and the marks they pair
/// with (U+200E, U+200F, U+061C).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether `c` changes how a terminal or a text layout shows what follows
/// (C0 and C1 controls, DEL, bidirectional controls).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Text for a transcript line: valid UTF-8 kept (mail is often 8-bit),
/// control characters and invalid bytes shown as `.`, tabs kept.
pub fn printable(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for piece in bytes.utf8_chunks() {
        for c in piece.valid().chars() {
            s.push(if c == '\t' || !is_unsafe(c) { c } else { '.' });
        }
        for _ in piece.invalid() {
            s.push('.');
        }
    }
    s
}

/// Decoded text (a subject, a name, a finding's message) with every unsafe
/// character written out as an escape (`\e`, `\r`, `\u{202e}`), so the
/// reader sees that it was there and nothing acts on it. Tabs too: they
/// would break a table's columns.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) || c == '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\x1b' => out.push_str("\\e"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_are_shown_not_obeyed() {
        let subject = "\x1b]0;PWNED\x07\x1b[2J";
        assert_eq!(visible(subject), "\\e]0;PWNED\\u{7}\\e[2J");
        assert_eq!(visible("a\rb\u{202e}c\u{9b}d"), "a\\rb\\u{202e}c\\u{9b}d");
        assert!(matches!(visible("¿Pícnic el sábado?"), Cow::Borrowed(_)));
        assert_eq!(
            printable(b"ok\x1b[2J\xff\tend\xe2\x80\xae"),
            "ok.[2J.\tend."
        );
    }
}
