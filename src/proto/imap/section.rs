//! The FETCH items that carry message content (RFC 9051 §6.4.5, grammar
//! `fetch-att` and `section` in §9): which bytes of a message, named the
//! same way in the command that asks and in the response that answers.
//!
//! ```text
//! C: a1 FETCH 3 (BODY.PEEK[1.2.MIME]<0.100>)   part 1.2, its MIME header,
//! S: * 3 FETCH (BODY[1.2.MIME]<0> {100}        100 bytes from octet 0
//! ```
//!
//! A section is a part path (`1.2`, RFC 9051 §6.4.5 numbering) and what of
//! that part: all of it, its MIME header, or, for a message (the top one
//! or one attached as message/rfc822), its HEADER, TEXT or chosen
//! HEADER.FIELDS. The server reads a [`Section`] to pick the bytes; the
//! analyzer reads a [`BodyItem`] to say which part a literal carries.

use super::syntax::{Fragment, MAX_NESTING, Mode, Tok, tokenize};

/// Which form of content item (§6.4.5; BINARY is RFC 3516).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// `BODY[…]`, or with `peek` `BODY.PEEK[…]` (which leaves `\Seen`
    /// alone).
    Body { peek: bool },
    /// `BINARY[…]`: the part with its transfer encoding undone.
    Binary { peek: bool },
    /// `RFC822`: the same as `BODY[]`.
    Rfc822,
    /// `RFC822.HEADER`: the same as `BODY.PEEK[HEADER]`.
    Rfc822Header,
    /// `RFC822.TEXT`: the same as `BODY[TEXT]`.
    Rfc822Text,
}

/// A content item as written: `BODY.PEEK[HEADER.FIELDS (From)]<0.100>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyItem {
    pub kind: BodyKind,
    /// The section between the brackets as written (`HEADER` for
    /// RFC822.HEADER, `TEXT` for RFC822.TEXT, empty for RFC822).
    pub section: String,
    /// What is between `<` and `>`: `start.count` in a command, `start`
    /// in a response.
    pub partial: Option<String>,
}

impl BodyItem {
    /// The item named `item`, or None when it carries no content
    /// (`FLAGS`, `RFC822.SIZE`, …) or is not well formed.
    pub fn parse(item: &str) -> Option<BodyItem> {
        let whole = |kind, section: &str| BodyItem {
            kind,
            section: section.to_string(),
            partial: None,
        };
        let up = item.to_ascii_uppercase();
        match up.as_str() {
            "RFC822" => return Some(whole(BodyKind::Rfc822, "")),
            "RFC822.HEADER" => return Some(whole(BodyKind::Rfc822Header, "HEADER")),
            "RFC822.TEXT" => return Some(whole(BodyKind::Rfc822Text, "TEXT")),
            _ => {}
        }
        let open = up.find('[')?;
        let kind = match &up[..open] {
            "BODY" => BodyKind::Body { peek: false },
            "BODY.PEEK" => BodyKind::Body { peek: true },
            "BINARY" => BodyKind::Binary { peek: false },
            "BINARY.PEEK" => BodyKind::Binary { peek: true },
            _ => return None,
        };
        let close = up.rfind(']')?;
        let after = &item[close + 1..];
        let partial = if after.is_empty() {
            None
        } else {
            let inner = after.strip_prefix('<')?.strip_suffix('>')?;
            Some(inner.to_string())
        };
        Some(BodyItem {
            kind,
            // The bytes as written: header field names keep their
            // spelling (the upper-case copy has the same offsets).
            section: item[open + 1..close].to_string(),
            partial,
        })
    }

    /// The partial range as numbers: the origin octet and, in a command,
    /// how many octets.
    pub fn partial_range(&self) -> Option<(u64, Option<u64>)> {
        let p = self.partial.as_deref()?;
        let number = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        match p.split_once('.') {
            Some((start, count)) => Some((number(start)?, Some(number(count)?))),
            None => Some((number(p)?, None)),
        }
    }
}

/// Which bytes of a message: a part path like `1.2` and what of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub path: Vec<u32>,
    pub text: SectionText,
}

/// What of the part a section names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    /// The whole message (empty path) or the part's body.
    Full,
    Header,
    HeaderFields {
        not: bool,
        names: Vec<String>,
    },
    Text,
    /// The MIME header of a part.
    Mime,
}

impl Section {
    /// `1.2.HEADER.FIELDS (From To)` and friends, strictly: None when it
    /// is not a section (§9: `section-spec`).
    pub fn parse(inner: &str) -> Option<Section> {
        let (spec, fields) = match inner.split_once(' ') {
            Some((s, f)) => (s, Some(f)),
            None => (inner, None),
        };
        let mut path = Vec::new();
        let mut words = spec.split('.').filter(|w| !w.is_empty()).peekable();
        while let Some(w) = words.peek() {
            if !w.bytes().all(|b| b.is_ascii_digit()) {
                break;
            }
            let n: u32 = w.parse().ok().filter(|&n| n > 0)?;
            path.push(n);
            if path.len() > MAX_NESTING {
                return None;
            }
            words.next();
        }
        let rest = words.collect::<Vec<_>>().join(".").to_ascii_uppercase();
        let text = match (rest.as_str(), fields) {
            ("", None) => SectionText::Full,
            ("HEADER", None) => SectionText::Header,
            ("TEXT", None) => SectionText::Text,
            ("MIME", None) if !path.is_empty() => SectionText::Mime,
            ("HEADER.FIELDS" | "HEADER.FIELDS.NOT", Some(list)) => {
                let mut line = [Fragment::Line(list.as_bytes().to_vec())];
                let toks = tokenize(&mut line, Mode::Strict).ok()?;
                let [Tok::List(names)] = &toks[..] else {
                    return None;
                };
                let names: Vec<String> =
                    names.iter().map(Tok::astring_text).collect::<Option<_>>()?;
                if names.is_empty() {
                    return None;
                }
                SectionText::HeaderFields {
                    not: rest.ends_with(".NOT"),
                    names,
                }
            }
            _ => return None,
        };
        Some(Section { path, text })
    }

    /// The section as a response names it: `2.HEADER.FIELDS (FROM TO)`.
    pub fn emit(&self) -> String {
        let mut out: Vec<String> = self.path.iter().map(u32::to_string).collect();
        match &self.text {
            SectionText::Full => {}
            SectionText::Header => out.push("HEADER".into()),
            SectionText::Text => out.push("TEXT".into()),
            SectionText::Mime => out.push("MIME".into()),
            SectionText::HeaderFields { not, names } => {
                let names: Vec<String> = names.iter().map(|n| n.to_ascii_uppercase()).collect();
                out.push(format!(
                    "HEADER.FIELDS{} ({})",
                    if *not { ".NOT" } else { "" },
                    names.join(" ")
                ));
            }
        }
        out.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_items() {
        let item = BodyItem::parse("body.peek[header.fields (From)]<0.100>").unwrap();
        assert_eq!(item.kind, BodyKind::Body { peek: true });
        assert_eq!(item.section, "header.fields (From)");
        assert_eq!(item.partial_range(), Some((0, Some(100))));
        let item = BodyItem::parse("BINARY[1]<7>").unwrap();
        assert_eq!(
            (item.kind, item.partial_range()),
            (BodyKind::Binary { peek: false }, Some((7, None)))
        );
        assert_eq!(BodyItem::parse("RFC822.HEADER").unwrap().section, "HEADER");
        for not_content in ["RFC822.SIZE", "FLAGS", "BODY", "BODYSTRUCTURE", "BODY[]x"] {
            assert_eq!(BodyItem::parse(not_content), None, "{not_content}");
        }
    }

    #[test]
    fn sections_parse_and_emit() {
        let s = Section::parse("2.header.fields.not (From to)").unwrap();
        assert_eq!(s.path, [2]);
        assert_eq!(s.emit(), "2.HEADER.FIELDS.NOT (FROM TO)");
        assert_eq!(Section::parse("1.2.MIME").unwrap().emit(), "1.2.MIME");
        assert_eq!(Section::parse("").unwrap().text, SectionText::Full);
        for bad in ["MIME", "0", "1.FOO", "HEADER.FIELDS ()", "HEADER.FIELDS"] {
            assert_eq!(Section::parse(bad), None, "{bad}");
        }
        let deep = vec!["1"; 40].join(".");
        assert_eq!(Section::parse(&deep), None);
    }
}
