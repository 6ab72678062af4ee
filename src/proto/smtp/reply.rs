//! SMTP replies (RFC 5321 §4.2): a three-digit code and text, on one line
//! or several.
//!
//! ```text
//! 250-hamburger.edu Hello crepes.fr     "ddd-": more lines follow
//! 250-PIPELINING
//! 250 8BITMIME                          "ddd ": the last line
//! 550 5.1.1 <nobody@hamburger.edu>: User unknown
//!     └───┘ enhanced status code (RFC 3463, announced by ENHANCEDSTATUSCODES)
//! ```
//!
//! The first digit says how it went (§4.2.1): 2 done, 3 go on (354 after
//! DATA, 334 in AUTH), 4 failed for now (try again later), 5 failed for
//! good.

use std::fmt;

/// A whole reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The enhanced status code at the start of the first line, if any
    /// (RFC 3463 §2; it is also part of the text in `lines`).
    pub enhanced: Option<EnhancedStatus>,
    /// The text of each line, after `ddd-` / `ddd ` (enhanced status code
    /// included, as sent).
    pub lines: Vec<String>,
}

/// `class.subject.detail` (RFC 3463 §2): `5.1.1` is "bad destination
/// mailbox address", a permanent failure (class 5) about addressing
/// (subject 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnhancedStatus {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl Reply {
    /// A one-line reply; `text` may start with an enhanced status code.
    pub fn new(code: u16, text: &str) -> Reply {
        Reply::multiline(code, [text])
    }

    /// A reply of several lines (at least one: an empty text is kept).
    pub fn multiline<S: Into<String>>(code: u16, lines: impl IntoIterator<Item = S>) -> Reply {
        let mut lines: Vec<String> = lines.into_iter().map(Into::into).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        Reply {
            code,
            enhanced: EnhancedStatus::at_start(&lines[0]),
            lines,
        }
    }

    /// The reply as it goes on the wire: `ddd-text` CRLF for every line
    /// but the last, `ddd text` CRLF for the last (RFC 5321 §4.2.1).
    pub fn emit(&self, out: &mut Vec<u8>) {
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i + 1 == self.lines.len() { ' ' } else { '-' };
            out.extend_from_slice(format!("{:03}{sep}{line}\r\n", self.code).as_bytes());
        }
    }

    /// 2xx or 3xx: the command was accepted (or may go on).
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// The code and the last line: "250 2.0.0 Ok: queued as 4A1", the
    /// reply in short for logs and records.
    pub fn summary(&self) -> String {
        let last = self.lines.last().map_or("", String::as_str);
        format!("{} {last}", self.code).trim_end().to_string()
    }

    /// The extension keywords of an EHLO reply (RFC 5321 §4.1.1.1: every
    /// line after the first is `keyword [parameters]`), as sent.
    pub fn extensions(&self) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
    }

    /// Does an EHLO reply list this extension keyword (any case)?
    pub fn has_extension(&self, keyword: &str) -> bool {
        self.extensions().any(|k| k.eq_ignore_ascii_case(keyword))
    }
}

/// The reply as on the wire, without the last CRLF (for messages).
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::new();
        self.emit(&mut bytes);
        let text = String::from_utf8_lossy(&bytes);
        f.write_str(text.trim_end_matches("\r\n"))
    }
}

impl EnhancedStatus {
    /// A status code as the first word of `text`.
    pub fn at_start(text: &str) -> Option<EnhancedStatus> {
        EnhancedStatus::parse(text.split(' ').next()?)
    }

    /// `2.1.0`: class 2, 4 or 5, subject and detail of 1 to 3 digits.
    pub fn parse(word: &str) -> Option<EnhancedStatus> {
        let mut parts = word.split('.');
        let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
        let number = |s: &str| {
            (1..=3)
                .contains(&s.len())
                .then_some(())
                .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|_| s.parse::<u16>().ok())
        };
        let class = match class {
            "2" | "4" | "5" => class.as_bytes()[0] - b'0',
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(EnhancedStatus {
            class,
            subject: number(subject)?,
            detail: number(detail)?,
        })
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One line of a reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReplyLine<'a> {
    pub code: u16,
    /// `ddd-`: more lines of the same reply follow.
    pub more: bool,
    /// After the code and its separator.
    pub text: &'a [u8],
}

impl ReplyLine<'_> {
    /// Three digits, then a space, a hyphen, nothing, or (leniently) a tab.
    pub(crate) fn parse(line: &[u8]) -> Option<ReplyLine<'_>> {
        let [a, b, c, rest @ ..] = line else {
            return None;
        };
        if !(a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit()) {
            return None;
        }
        if !matches!(rest.first(), None | Some(b' ' | b'-' | b'\t')) {
            return None;
        }
        let digit = |d: &u8| u16::from(d - b'0');
        Some(ReplyLine {
            code: digit(a) * 100 + digit(b) * 10 + digit(c),
            more: rest.first() == Some(&b'-'),
            text: rest.get(1..).unwrap_or_default(),
        })
    }
}

/// Gathers the lines of a multi-line reply.
#[derive(Debug, Default)]
pub(crate) struct ReplyReader {
    /// Code and lines so far (the code of the first line counts).
    partial: Option<(u16, Vec<String>)>,
}

/// A line that is not an SMTP reply line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NotAReply;

impl ReplyReader {
    /// The next line of the server: a whole reply once its last line came.
    /// A line that is not a reply line drops what was gathered.
    pub(crate) fn line(&mut self, line: &[u8]) -> Result<Option<Reply>, NotAReply> {
        let Some(l) = ReplyLine::parse(line) else {
            self.partial = None;
            return Err(NotAReply);
        };
        let (_, lines) = self.partial.get_or_insert_with(|| (l.code, Vec::new()));
        lines.push(String::from_utf8_lossy(l.text).into_owned());
        if l.more {
            return Ok(None);
        }
        Ok(self.take())
    }

    /// What was gathered, complete or not (the flow ended).
    pub(crate) fn take(&mut self) -> Option<Reply> {
        let (code, lines) = self.partial.take()?;
        Some(Reply::multiline(code, lines))
    }

    /// Forget a reply in progress (its bytes were lost).
    pub(crate) fn reset(&mut self) {
        self.partial = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(wire: &[u8]) -> Vec<Result<Option<Reply>, NotAReply>> {
        let mut r = ReplyReader::default();
        wire.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| r.line(l.strip_suffix(b"\r").unwrap_or(l)))
            .collect()
    }

    #[test]
    fn multi_line_reply_reads_and_emits_the_same() {
        let wire = b"250-hamburger.edu Hello\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n";
        let got = read(wire);
        let Ok(Some(reply)) = &got[2] else {
            panic!("{got:?}")
        };
        assert_eq!(reply.code, 250);
        assert_eq!(
            reply.lines,
            ["hamburger.edu Hello", "PIPELINING", "SIZE 1000000"]
        );
        assert!(reply.has_extension("size"));
        assert!(!reply.has_extension("hamburger.edu"));
        let mut out = Vec::new();
        reply.emit(&mut out);
        assert_eq!(out, wire);
    }

    #[test]
    fn enhanced_status_codes() {
        let r = Reply::new(550, "5.1.1 <nobody@x>: User unknown");
        assert_eq!(
            r.enhanced,
            Some(EnhancedStatus {
                class: 5,
                subject: 1,
                detail: 1
            })
        );
        assert_eq!(r.summary(), "550 5.1.1 <nobody@x>: User unknown");
        assert_eq!(r.to_string(), "550 5.1.1 <nobody@x>: User unknown");
        assert_eq!(
            Reply::new(538, "5.7.11 Encryption required")
                .enhanced
                .unwrap()
                .to_string(),
            "5.7.11"
        );
        assert_eq!(Reply::new(220, "mx.example ESMTP").enhanced, None);
        assert_eq!(EnhancedStatus::parse("3.0.0"), None);
        assert_eq!(EnhancedStatus::parse("5.1.1.1"), None);
        assert_eq!(EnhancedStatus::parse("5.1000.1"), None);
    }

    #[test]
    fn lenient_lines() {
        assert_eq!(
            ReplyLine::parse(b"250"),
            Some(ReplyLine {
                code: 250,
                more: false,
                text: b""
            })
        );
        assert_eq!(ReplyLine::parse(b"250\tok").unwrap().text, b"ok");
        assert_eq!(ReplyLine::parse(b"250x"), None);
        assert_eq!(ReplyLine::parse(b"HTTP/1.1 200 OK"), None);
        assert_eq!(Reply::new(250, "").summary(), "250");
    }

    #[test]
    fn a_stray_line_drops_the_reply_in_progress() {
        let got = read(b"250-a\r\njunk\r\n250 b\r\n");
        assert_eq!(got[1], Err(NotAReply));
        let Ok(Some(r)) = &got[2] else { panic!() };
        assert_eq!(r.lines, ["b"]);
    }
}
