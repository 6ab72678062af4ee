//! The address of a MAIL or RCPT command (RFC 5321 §4.1.2):
//!
//! ```text
//! MAIL FROM:<alice@crepes.fr> SIZE=1024 BODY=8BITMIME
//!           └── reverse-path ─┘ └─ Mail-parameters ─┘
//! RCPT TO:<@relay.example:bob@hamburger.edu> NOTIFY=NEVER
//!         └──────── forward-path ──────────┘ └ Rcpt-parameters
//! ```
//!
//! The path is a mailbox in angle brackets, `<>` for the null reverse-path
//! of bounces (RFC 5321 §4.5.5), optionally with an old source route
//! (`@relay.example:`) that receivers ignore (RFC 5321 §C). ESMTP
//! parameters (`keyword[=value]`, RFC 5321 §4.1.2) follow after a space.
//!
//! Parsing is lenient, as the analyzer needs it: real clients send
//! `MAIL FROM: <a@b>` (a space after the colon) and `MAIL FROM:a@b`
//! (no brackets, seen in Suricata's and Zeek's captures). A server asks
//! [`Path::is_well_formed`] before accepting one.

use std::fmt;

/// A reverse-path or forward-path with its ESMTP parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// The mailbox without brackets and source route: `alice@crepes.fr`,
    /// empty for the null path `<>`.
    pub mailbox: String,
    /// The path as the client wrote it: `<alice@crepes.fr>` (with its
    /// source route, if any), or the bare word when it had no brackets.
    pub as_sent: String,
    /// The path was in angle brackets, as RFC 5321 requires.
    pub bracketed: bool,
    pub parameters: Vec<Parameter>,
}

/// An ESMTP parameter: `SIZE=1024`, `BODY=8BITMIME`, `SMTPUTF8`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    /// As sent (keywords are case-insensitive).
    pub keyword: String,
    pub value: Option<String>,
}

impl Path {
    /// `<mailbox>` without parameters, as a client sends it.
    pub fn new(mailbox: &str) -> Path {
        Path {
            mailbox: mailbox.to_string(),
            as_sent: format!("<{mailbox}>"),
            bracketed: true,
            parameters: Vec::new(),
        }
    }

    /// The path and parameters after `FROM:` / `TO:` (leading spaces
    /// allowed).
    pub fn parse(text: &str) -> Path {
        let text = text.trim_start();
        let (as_sent, rest, bracketed) = match text.find('>') {
            Some(end) if text.starts_with('<') => (&text[..=end], &text[end + 1..], true),
            // Without brackets (not RFC 5321, but seen), or without the
            // closing one: up to the first space.
            _ => {
                let end = text.find(char::is_whitespace).unwrap_or(text.len());
                (&text[..end], &text[end..], false)
            }
        };
        let inside = as_sent.trim_start_matches('<').trim_end_matches('>').trim();
        // A source route (`@a,@b:user@c`) is ignored (RFC 5321 §C).
        let mailbox = match inside.starts_with('@') {
            true => inside.rsplit(':').next().unwrap_or(inside),
            false => inside,
        };
        Path {
            mailbox: mailbox.to_string(),
            as_sent: as_sent.to_string(),
            bracketed,
            parameters: rest.split_whitespace().map(Parameter::parse).collect(),
        }
    }

    /// What a server accepts: brackets, and no space or control character
    /// in the mailbox (RFC 5321 §4.1.2 has no place for them outside a
    /// quoted local part, which the course does not need).
    pub fn is_well_formed(&self) -> bool {
        self.bracketed
            && !self
                .mailbox
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
    }

    /// The value of a parameter, by keyword (any case); `Some("")` for a
    /// keyword without value.
    pub fn parameter(&self, keyword: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.keyword.eq_ignore_ascii_case(keyword))
            .map(|p| p.value.as_deref().unwrap_or(""))
    }
}

impl Parameter {
    fn parse(word: &str) -> Parameter {
        let (keyword, value) = match word.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (word, None),
        };
        Parameter {
            keyword: keyword.to_string(),
            value,
        }
    }
}

/// `<mailbox> KEYWORD=value …`, as a client sends it.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_sent)?;
        for p in &self.parameters {
            write!(f, " {}", p.keyword)?;
            if let Some(v) = &p.value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

/// The domain of an address (`<alice@crepes.fr>` → `crepes.fr`), lowercase
/// and without a trailing dot; `None` without one.
pub(crate) fn domain_of(addr: &str) -> Option<String> {
    let a = addr.trim().trim_start_matches('<').trim_end_matches('>');
    let (_, d) = a.rsplit_once('@')?;
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_parameters() {
        let p = Path::parse("<alice@crepes.fr> SIZE=100 SMTPUTF8");
        assert_eq!(p.mailbox, "alice@crepes.fr");
        assert_eq!(p.as_sent, "<alice@crepes.fr>");
        assert!(p.is_well_formed());
        assert_eq!(p.parameter("size"), Some("100"));
        assert_eq!(p.parameter("SMTPUTF8"), Some(""));
        assert_eq!(p.parameter("BODY"), None);
        assert_eq!(p.to_string(), "<alice@crepes.fr> SIZE=100 SMTPUTF8");
    }

    #[test]
    fn null_path_and_source_route() {
        let null = Path::parse(" <>");
        assert_eq!((null.mailbox.as_str(), null.is_well_formed()), ("", true));
        let routed = Path::parse("<@relay.example:bob@hamburger.edu>");
        assert_eq!(routed.mailbox, "bob@hamburger.edu");
        assert_eq!(routed.as_sent, "<@relay.example:bob@hamburger.edu>");
    }

    #[test]
    fn lenient_forms_parse_but_are_not_well_formed() {
        // Suricata's smtp-rfc2231 capture: `MAIL FROM:int@smtp.lab.com`.
        let bare = Path::parse("int@smtp.lab.com SIZE=5");
        assert_eq!(bare.as_sent, "int@smtp.lab.com");
        assert_eq!(bare.mailbox, "int@smtp.lab.com");
        assert_eq!(bare.parameter("SIZE"), Some("5"));
        assert!(!bare.is_well_formed());
        let unclosed = Path::parse("<a@b.org SIZE=5");
        assert_eq!(unclosed.as_sent, "<a@b.org");
        assert!(!unclosed.is_well_formed());
        let spaced = Path::parse("<a b@c>");
        assert_eq!(spaced.as_sent, "<a b@c>");
        assert!(!spaced.is_well_formed());
        assert_eq!(Path::parse("").as_sent, "");
    }

    #[test]
    fn new_paths_read_back() {
        let p = Path::new("bob@hamburger.edu");
        assert_eq!(Path::parse(&p.to_string()), p);
    }

    #[test]
    fn domains() {
        assert_eq!(domain_of("<alice@Crepes.FR>").as_deref(), Some("crepes.fr"));
        assert_eq!(
            domain_of("bob@hamburger.edu.").as_deref(),
            Some("hamburger.edu")
        );
        assert_eq!(domain_of("bob@"), None);
        assert_eq!(domain_of("postmaster"), None);
    }
}
