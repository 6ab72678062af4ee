//! Undoing a transfer encoding (RFC 2045 §6) as far as the bytes go.
//!
//! Mail is 7-bit text, so binary content travels as `base64` (RFC 2045
//! §6.8: every 4 characters carry 3 bytes) or `quoted-printable` (§6.7:
//! `=E9` for the byte 0xE9, `=` at a line's end for a soft line break).
//!
//! A capture may hold only part of a message (the capture ends, a gap, a
//! stream depth limit), and a sender may write sloppy encodings. The
//! decoders here never give up and never hand back the encoded text as if
//! it were the content: they decode every byte the text determines, and
//! say whether the text looked whole ([`Decoded::clean`]). That is what a
//! mail client does (RFC 2045 §6.8: characters outside the alphabet are
//! ignored), with the damage noted instead of hidden.

/// Content with its transfer encoding undone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub(crate) bytes: Vec<u8>,
    /// Whether the encoded text was whole: base64 made of complete
    /// 4-character groups and nothing but its alphabet, quoted-printable
    /// not cut inside an `=XX` escape. False when the text was cut
    /// (mid-group, mid-escape) or damaged, which a capture that lost
    /// bytes leaves behind.
    pub(crate) clean: bool,
}

/// A transfer encoding, as `Content-Transfer-Encoding` names it
/// (RFC 2045 §6.1). `7bit`, `8bit`, `binary` and no header at all mean
/// the content is as sent; so does an encoding nobody knows
/// (`x-uuencode`), which is then shown as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Base64,
    QuotedPrintable,
}

impl Encoding {
    /// The encoding named by a `Content-Transfer-Encoding` value.
    pub(crate) fn named(name: Option<&str>) -> Encoding {
        match name.map(str::trim) {
            Some(n) if n.eq_ignore_ascii_case("base64") => Encoding::Base64,
            Some(n) if n.eq_ignore_ascii_case("quoted-printable") => Encoding::QuotedPrintable,
            _ => Encoding::Identity,
        }
    }

    /// `body` with this encoding undone.
    pub(crate) fn decode(self, body: &[u8]) -> Decoded {
        match self {
            Encoding::Identity => Decoded {
                bytes: body.to_vec(),
                clean: true,
            },
            Encoding::Base64 => base64(body),
            Encoding::QuotedPrintable => quoted_printable(body),
        }
    }
}

/// The value of a base64 character, None outside the alphabet.
fn sextet(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Base64 (RFC 2045 §6.8). Line breaks and blanks are skipped; other
/// characters outside the alphabet are skipped too, as RFC 2045 says, but
/// make the text unclean. `=` ends a group early (padding); decoding goes
/// on after it, since some encoders join separately padded pieces. A
/// group cut short at the end still gives the bytes its characters
/// determine: 2 characters carry 1 byte, 3 carry 2.
pub(crate) fn base64(text: &[u8]) -> Decoded {
    use base64::Engine as _;
    let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
    let mut clean = true;
    let (mut group, mut count) = (0u32, 0);
    let flush = |group: u32, count: usize, bytes: &mut Vec<u8>| {
        // `count` characters hold 6 × count bits, of which the first
        // whole bytes are the content.
        let whole = count * 6 / 8;
        let bits = group << (6 * (4 - count));
        bytes.extend_from_slice(&bits.to_be_bytes()[1..1 + whole]);
    };
    for line in lines_inclusive(text) {
        // The common case, a line of whole groups starting on a group
        // boundary (RFC 2045 §6.8 lines of 76 characters), goes through the
        // `base64` crate's decoder at once; it gives the very bytes the
        // loop below would. Anything else (blanks, a stray character, a
        // group split across lines, padding inside) takes the loop.
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if count == 0 && body.len() % 4 == 0 {
            let before = bytes.len();
            if base64::engine::general_purpose::STANDARD
                .decode_vec(body, &mut bytes)
                .is_ok()
            {
                continue;
            }
            bytes.truncate(before);
        }
        for &c in line {
            if let Some(v) = sextet(c) {
                group = group << 6 | v;
                count += 1;
                if count == 4 {
                    flush(group, 4, &mut bytes);
                    (group, count) = (0, 0);
                }
            } else if c == b'=' {
                // Padding: a group of 2 or 3 characters ends here.
                if count >= 2 {
                    flush(group, count, &mut bytes);
                } else if count == 1 {
                    clean = false;
                }
                (group, count) = (0, 0);
            } else if !matches!(c, b'\r' | b'\n' | b' ' | b'\t') {
                clean = false;
            }
        }
    }
    if count > 0 {
        // The text stops inside a group: it was cut.
        clean = false;
        flush(group, count, &mut bytes);
    }
    Decoded { bytes, clean }
}

/// The lines of `text`, each with its `\n` (the last one may have none).
/// Like `split_inclusive`, but `memchr` finds the line ends many bytes at a
/// time: the two decoders here run over every encoded part of every message.
fn lines_inclusive(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// Quoted-printable (RFC 2045 §6.7). `=XX` is the byte XX; `=` before a
/// line break is a soft line break (the line goes on); blanks before a
/// line break are padding and go (rule 3). An `=` that is neither is kept
/// as written, as the RFC advises robust decoders to do; `=X` at the very
/// end of the text (cut inside an escape) makes it unclean.
pub(crate) fn quoted_printable(text: &[u8]) -> Decoded {
    let mut bytes = Vec::with_capacity(text.len());
    let mut clean = true;
    // A CR at the very end is half of a line break (RFC 2045 §6.7 (4):
    // quoted-printable lines end with CRLF) whose LF the bytes lost.
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    for line in lines_inclusive(text) {
        let (content, ending) = match line.strip_suffix(b"\r\n") {
            Some(c) => (c, &b"\r\n"[..]),
            None => match line.strip_suffix(b"\n") {
                Some(c) => (c, &b"\n"[..]),
                None => (line, &b""[..]),
            },
        };
        let content = if ending.is_empty() {
            content
        } else {
            content.trim_ascii_end()
        };
        let mut i = 0;
        let mut soft_break = false;
        while i < content.len() {
            // Plain bytes up to the next `=` go across in one copy.
            let Some(run) = memchr::memchr(b'=', &content[i..]) else {
                bytes.extend_from_slice(&content[i..]);
                break;
            };
            bytes.extend_from_slice(&content[i..i + run]);
            i += run;
            let hex = |k: usize| content.get(k).and_then(|&h| (h as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    bytes.push((hi * 16 + lo) as u8);
                    i += 3;
                }
                _ if content[i + 1..].trim_ascii().is_empty() => {
                    // `=` at the end of the line: a soft line break. At
                    // the very end of a part it is one too: the line break
                    // before the next boundary belongs to the boundary
                    // (RFC 2046 §5.1.1), so an encoder that wants no final
                    // line break ends with `=`.
                    soft_break = true;
                    break;
                }
                _ if ending.is_empty() && i + 2 >= content.len() => {
                    // `=X` with nothing after: cut inside an escape.
                    clean = false;
                    break;
                }
                _ => {
                    bytes.push(b'=');
                    i += 1;
                }
            }
        }
        if !soft_break {
            bytes.extend_from_slice(ending);
        }
    }
    Decoded { bytes, clean }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop alone, as `base64` was before its fast path: the reference
    /// the fast path must agree with.
    fn base64_by_the_loop(text: &[u8]) -> Decoded {
        // One line with a blank after every character never takes the
        // fast path, and blanks are skipped by the loop.
        let spaced: Vec<u8> = text.iter().flat_map(|&c| [c, b' ']).collect();
        base64(&spaced)
    }

    #[test]
    fn the_fast_path_gives_what_the_loop_gives() {
        let samples: [&[u8]; 9] = [
            b"aGVsbG8g\r\nd29ybGQ=\r\n",
            b"aGk=aGk=\r\n",
            b"aG==\r\naGk=\r\n",
            b"aGVs\r\nbG8\r\ngd29y\r\n",
            b"aGVsbG8gd29ybGQh\naGVsbG8gd29ybGQh\n",
            b"aGVsbG8*d29y\r\n",
            b"aGVsbG9=\r\n",
            b"x===\r\naGVs\r\n",
            b"aGVsbG8gd29ybGQhaGVs",
        ];
        for text in samples {
            assert_eq!(
                base64(text),
                base64_by_the_loop(text),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn base64_whole_and_cut() {
        let whole = base64(b"aGVsbG8g\r\nd29ybGQ=\r\n");
        assert_eq!(
            (whole.bytes.as_slice(), whole.clean),
            (&b"hello world"[..], true)
        );
        // Cut inside a group: the bytes the characters determine, unclean.
        // "aGVsbG8" is 7 characters: one whole group ("hel") and 3 more
        // characters, 18 bits, which carry "lo".
        let cut = base64(b"aGVsbG8");
        assert_eq!((cut.bytes.as_slice(), cut.clean), (&b"hello"[..], false));
        let cut = base64(b"aGVsbG");
        assert_eq!((cut.bytes.as_slice(), cut.clean), (&b"hell"[..], false));
        let cut = base64(b"aGVsb");
        assert_eq!((cut.bytes.as_slice(), cut.clean), (&b"hel"[..], false));
        // Never the encoded text itself, even when it is not base64.
        let text = base64(b"Dear Bob, this is plain text!\r\n");
        assert!(!text.clean);
        assert!(!text.bytes.starts_with(b"Dear"));
        // Padded pieces joined, and blanks, are fine.
        let joined = base64(b"aGk=aGk= \t\r\n");
        assert_eq!(
            (joined.bytes.as_slice(), joined.clean),
            (&b"hihi"[..], true)
        );
        assert_eq!(
            base64(b""),
            Decoded {
                bytes: vec![],
                clean: true
            }
        );
    }

    #[test]
    fn quoted_printable_whole_and_cut() {
        let qp = quoted_printable(b"caf=E9 cr=C3=A8me  \r\nsoft =\r\nbreak=3D\r\n");
        assert_eq!(qp.bytes, b"caf\xe9 cr\xc3\xa8me\r\nsoft break=\r\n");
        assert!(qp.clean);
        // An `=` that escapes nothing is kept.
        assert_eq!(quoted_printable(b"a=ZZb = c").bytes, b"a=ZZb = c");
        // Cut inside an escape.
        let d = quoted_printable(b"caf=E");
        assert_eq!((d.bytes.as_slice(), d.clean), (&b"caf"[..], false));
        // A soft break at the very end: no final line break.
        let d = quoted_printable(b"caf=");
        assert_eq!((d.bytes.as_slice(), d.clean), (&b"caf"[..], true));
        // The last line needs no line break to be whole; a CR without
        // its LF at the very end is half a line break, not text.
        assert!(quoted_printable(b"end=2E").clean);
        assert_eq!(quoted_printable(b"a\r\nb\r").bytes, b"a\r\nb");
    }

    #[test]
    fn encodings_by_name() {
        assert_eq!(Encoding::named(Some(" BASE64 ")), Encoding::Base64);
        assert_eq!(
            Encoding::named(Some("Quoted-Printable")),
            Encoding::QuotedPrintable
        );
        for other in [
            None,
            Some("7bit"),
            Some("8bit"),
            Some("binary"),
            Some("x-uue"),
        ] {
            assert_eq!(Encoding::named(other), Encoding::Identity);
        }
    }
}
