//! `Authentication-Results:` (RFC 8601): what a receiving server concluded
//! about a message's SPF, DKIM and DMARC (and ARC, auth, iprev…) when it
//! took it in. The `auth_results` of a message record.
//!
//! The grammar (RFC 8601 §2.2), with comments `( … )` allowed between any
//! two parts:
//!
//! ```text
//! authserv-id [version] ; method[/version]=result [reason=value] *(ptype.property=value) ; …
//! authserv-id ; none
//! ```
//!
//! for example
//! `mx.hamburger.edu; spf=pass smtp.mailfrom=crepes.fr; dkim=pass header.d=crepes.fr`.
//!
//! Read leniently, as the analyzer reads everything: the header most often
//! seen in real captures, Microsoft 365's, leaves the authserv-id out of
//! its place and writes it as a segment of its own after the first result
//! (`spf=none (…) smtp.helo=x; example.com; dkim=none …`). Such a bare
//! segment is taken as the authserv-id when none came first. A word after
//! the result that is neither `reason=` nor a property (`action=none`) is
//! kept with the properties, as written.
//!
//! Which of these fields to believe is the reader's call (RFC 8601 §5:
//! only those added by one's own border servers, named by their
//! authserv-id; anything below them may have been written by the
//! sender). So every field is kept, topmost (newest) first, each result
//! with the authserv-id of its field.

use serde::Serialize;

/// Results kept per message, over all its fields.
pub const MAX_AUTH_RESULTS: usize = 100;
/// Bytes kept of one value (a property, a reason, an authserv-id).
const MAX_VALUE: usize = 1024;

/// One result of an `Authentication-Results:` field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuthResult {
    /// The server that wrote the field, as it named itself.
    pub authserv_id: Option<String>,
    /// The method, lower case, without its version: `spf`, `dkim`,
    /// `dmarc`, `arc`, `auth`, `iprev`… (IANA's Email Authentication
    /// Methods registry).
    pub method: String,
    /// Its result, lower case: `pass`, `fail`, `softfail`, `neutral`,
    /// `none`, `temperror`, `permerror`, `policy`…
    pub result: String,
    /// The `reason=` the server gave, if any.
    pub reason: Option<String>,
    /// The properties as written, `ptype.property=value`
    /// (`smtp.mailfrom=crepes.fr`, `header.d=crepes.fr`), in order.
    pub properties: Vec<String>,
}

/// The results of the `Authentication-Results:` field values `fields`,
/// topmost first, at most [`MAX_AUTH_RESULTS`] in all.
pub fn parse_fields<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<AuthResult> {
    let mut out = Vec::new();
    for field in fields {
        parse_field(field, &mut out);
        if out.len() >= MAX_AUTH_RESULTS {
            out.truncate(MAX_AUTH_RESULTS);
            break;
        }
    }
    out
}

/// Adds the results of one field value to `out`.
fn parse_field(value: &str, out: &mut Vec<AuthResult>) {
    let first = out.len();
    let mut authserv_id: Option<String> = None;
    for (i, segment) in split_outside_quotes(&strip_comments(value), ';')
        .into_iter()
        .enumerate()
    {
        let words = words(&segment);
        let Some(head) = words.first() else {
            continue;
        };
        match head.split_once('=') {
            Some((method, result)) => {
                let method = method.split('/').next().unwrap_or(method).trim();
                if method.is_empty() || out.len() >= MAX_AUTH_RESULTS {
                    continue;
                }
                let mut r = AuthResult {
                    authserv_id: None,
                    method: bounded(&method.to_ascii_lowercase()),
                    result: bounded(&unquote(result).to_ascii_lowercase()),
                    ..AuthResult::default()
                };
                for word in &words[1..] {
                    match word.split_once('=') {
                        Some((name, reason)) if name.eq_ignore_ascii_case("reason") => {
                            r.reason = Some(bounded(&unquote(reason)));
                        }
                        Some((name, v)) => {
                            r.properties
                                .push(bounded(&format!("{name}={}", unquote(v))));
                        }
                        None => r.properties.push(bounded(&unquote(word))),
                    }
                }
                out.push(r);
            }
            // The authserv-id, in its place (the first segment, maybe with
            // a version number after it) or, as Microsoft writes it, in a
            // segment of its own further on. `none` says there are no
            // results (RFC 8601 §2.2, no-result).
            None if authserv_id.is_none() && (i == 0 || !head.eq_ignore_ascii_case("none")) => {
                authserv_id = Some(bounded(&unquote(head)));
            }
            None => {}
        }
    }
    for r in &mut out[first..] {
        r.authserv_id = authserv_id.clone();
    }
}

/// `value` with its comments (RFC 5322 §3.2.2: parentheses, nested, with
/// `\` quoting) turned into one blank each; quoted strings are kept.
fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut quoted = false;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if depth > 0 || quoted => {
                let next = chars.next();
                if depth == 0 {
                    out.push(c);
                    out.extend(next);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => {
                if depth == 0 {
                    out.push(' ');
                }
                depth += 1;
            }
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

/// Where a scan of a value stands with respect to quoted strings
/// (RFC 5322 §3.2.4: `"…"`, with `\` quoting the next character).
#[derive(Default)]
struct Quotes {
    quoted: bool,
    escaped: bool,
}

impl Quotes {
    /// Takes `c` in; true when `c` is inside (or opens or closes) a quoted
    /// string.
    fn step(&mut self, c: char) -> bool {
        let delimiter = !self.escaped && c == '"';
        if delimiter {
            self.quoted = !self.quoted;
        }
        self.escaped = self.quoted && !self.escaped && c == '\\';
        self.quoted || delimiter
    }
}

/// `text` split at each `sep` outside a quoted string.
fn split_outside_quotes(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quotes = Quotes::default();
    for c in text.chars() {
        let quoted = quotes.step(c);
        if c == sep && !quoted {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

/// The blank-separated words of a segment, with the blanks the grammar
/// allows around `=`, `.` and `/` taken out first (`dkim = pass`,
/// `header . d=x`), outside quoted strings.
fn words(segment: &str) -> Vec<String> {
    let mut joined = String::with_capacity(segment.len());
    let mut quotes = Quotes::default();
    let mut pending_blank = false;
    for c in segment.chars() {
        let quoted = quotes.step(c);
        if !quoted && c.is_whitespace() {
            pending_blank = true;
            continue;
        }
        let glue = !quoted && matches!(c, '=' | '.' | '/');
        let after_glue = joined.ends_with(['=', '.', '/']);
        if pending_blank && !glue && !after_glue && !joined.is_empty() {
            joined.push(' ');
        }
        pending_blank = false;
        joined.push(c);
    }
    split_outside_quotes(&joined, ' ')
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect()
}

/// A value with the quotes of a quoted string (and their `\` escapes)
/// taken off; any other value as it is.
fn unquote(value: &str) -> String {
    let v = value.trim();
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    out.extend(chars.next());
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => v.to_string(),
    }
}

/// `s`, cut to [`MAX_VALUE`] bytes (on a character boundary).
fn bounded(s: &str) -> String {
    if s.len() <= MAX_VALUE {
        return s.to_string();
    }
    let mut end = MAX_VALUE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> Vec<AuthResult> {
        parse_fields([value])
    }

    fn r(id: Option<&str>, method: &str, result: &str, props: &[&str]) -> AuthResult {
        AuthResult {
            authserv_id: id.map(str::to_string),
            method: method.into(),
            result: result.into(),
            reason: None,
            properties: props.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn the_usual_three() {
        let got = one(
            " mx.hamburger.edu;\r\n spf=pass smtp.mailfrom=alice@crepes.fr;\r\n \
             dkim=pass (2048-bit key) header.d=crepes.fr header.s=sel1;\r\n \
             DMARC=Pass header.from=crepes.fr",
        );
        let id = Some("mx.hamburger.edu");
        assert_eq!(
            got,
            vec![
                r(id, "spf", "pass", &["smtp.mailfrom=alice@crepes.fr"]),
                r(id, "dkim", "pass", &["header.d=crepes.fr", "header.s=sel1"]),
                r(id, "dmarc", "pass", &["header.from=crepes.fr"]),
            ]
        );
    }

    #[test]
    fn versions_reasons_blanks_and_quotes() {
        let got = one(
            "\"mx (1).example\" 1; dkim/1 = fail reason=\"signature; verify failed\" \
             header . d = crepes.fr",
        );
        assert_eq!(
            got,
            vec![AuthResult {
                authserv_id: Some("mx (1).example".into()),
                method: "dkim".into(),
                result: "fail".into(),
                reason: Some("signature; verify failed".into()),
                properties: vec!["header.d=crepes.fr".into()],
            }]
        );
    }

    #[test]
    fn none_means_no_results() {
        assert_eq!(one("mx.hamburger.edu 1; none"), vec![]);
        assert_eq!(one(""), vec![]);
        assert_eq!(one(";;; ( only a comment )"), vec![]);
    }

    #[test]
    fn microsofts_layout_finds_its_authserv_id() {
        // As Exchange Online writes it (seen in a suricata-verify capture):
        // the authserv-id as a segment after the first result.
        let got = one(
            "spf=none (sender IP is 202.213.43.71)\r\n smtp.helo=RDC153.mitsuba.local; \
             ingenierianumar.com; dkim=none (message not\r\n signed) \
             header.d=none;ingenierianumar.com; dmarc=none action=none\r\n \
             header.from=mitsuba.local;",
        );
        let id = Some("ingenierianumar.com");
        assert_eq!(
            got,
            vec![
                r(id, "spf", "none", &["smtp.helo=RDC153.mitsuba.local"]),
                r(id, "dkim", "none", &["header.d=none"]),
                r(
                    id,
                    "dmarc",
                    "none",
                    &["action=none", "header.from=mitsuba.local"]
                ),
            ]
        );
    }

    #[test]
    fn each_field_names_its_own_server_and_the_total_is_bounded() {
        let got = parse_fields(["mx.b; spf=fail", "mx.a; spf=pass"]);
        assert_eq!(got[0].authserv_id.as_deref(), Some("mx.b"));
        assert_eq!(got[1].authserv_id.as_deref(), Some("mx.a"));
        let many = format!("mx; {}", "spf=pass;".repeat(500));
        assert_eq!(
            parse_fields([many.as_str(), "mx; dkim=pass"]).len(),
            MAX_AUTH_RESULTS
        );
        let long = format!("mx; spf=pass smtp.mailfrom={}", "é".repeat(2000));
        let p = &one(&long)[0].properties[0];
        assert!(p.len() <= MAX_VALUE + "…".len() && p.ends_with('…'));
    }

    #[test]
    fn hostile_text_never_panics() {
        for text in [
            "(((((",
            ")))",
            "\"",
            "\\",
            "=",
            "a=",
            "=b",
            "a/=b",
            ";=;",
            "x; y=\"unterminated",
            "x; (\\",
            "mx; spf=pass (c) ( (nested) ) smtp.mailfrom=\"q\\\"uote\"",
        ] {
            let _ = one(text);
        }
        assert_eq!(
            one("mx; spf=pass smtp.mailfrom=\"q\\\"uote\"")[0].properties,
            vec!["smtp.mailfrom=q\"uote".to_string()]
        );
    }
}
