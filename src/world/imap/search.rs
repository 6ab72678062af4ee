//! SEARCH and UID SEARCH (RFC 3501 §6.4.4): parsing the search keys into
//! a [`SearchKey`] tree and testing each message of the view against it.
//! A message is parsed (MIME, RFC 2047 words) only when a key needs its
//! contents.
//!
//! RECENT, NEW and OLD test the session's own `\Recent` (§2.3.2).

use std::cell::OnceCell;
use std::collections::BTreeSet;

use mail_parser::{Addr, Address, HeaderValue, Message, MessageParser};

use crate::mail::headers::{fields, header_end, unfold_exact};
use crate::mail::parse::ParsedMail;

use super::super::store::StoredMessage;
use super::dates::{days_from_civil, parse_date};
use super::flags::SYSTEM_FLAGS;
use super::reply::{Reply, bad, no, ok, store_error};
use super::selection::find_uid;
use super::sequence::SeqSet;
use super::session::Session;
use crate::proto::imap::syntax::MAX_NESTING;
use crate::proto::imap::syntax::Tok;

impl Session {
    /// SEARCH and UID SEARCH (§6.4.4).
    pub(super) fn cmd_search(&mut self, args: &[Tok], uid: bool) -> Reply {
        let mut args = args;
        // §6.4.4: an optional CHARSET; we know UTF-8 and its subset ASCII.
        if args
            .first()
            .and_then(Tok::atom)
            .is_some_and(|a| a.eq_ignore_ascii_case("CHARSET"))
        {
            let charset = args.get(1).and_then(Tok::astring_text).unwrap_or_default();
            if !charset.eq_ignore_ascii_case("UTF-8") && !charset.eq_ignore_ascii_case("US-ASCII") {
                return no("[BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
            }
            args = &args[2.min(args.len())..];
        }
        let key = match parse_search(args) {
            Ok(k) => k,
            Err(e) => return bad(e),
        };
        let snap = match self.selected_snapshot() {
            Ok(s) => s,
            Err(e) => return store_error(&e),
        };
        let Some(sel) = &self.selected else {
            return bad("no mailbox selected");
        };
        let max_seq = sel.view.len() as u32;
        let max_uid = sel.last_uid();
        let mut hits = Vec::new();
        for (i, v) in sel.view.iter().enumerate() {
            let Some(msg) = find_uid(&snap, v.uid) else {
                continue;
            };
            let c = Candidate {
                seq: i as u32 + 1,
                uid: v.uid,
                max_seq,
                max_uid,
                flags: &v.flags,
                recent: v.recent,
                msg,
                headers: OnceCell::new(),
                parsed: OnceCell::new(),
            };
            if c.matches(&key) {
                hits.push(if uid { v.uid } else { i as u32 + 1 });
            }
        }
        let mut line = String::from("* SEARCH");
        for h in hits {
            line.push_str(&format!(" {h}"));
        }
        self.conn.queue_line(&line);
        ok("SEARCH completed")
    }
}

/// A parsed search key (§6.4.4).
#[derive(Debug, Clone, PartialEq)]
enum SearchKey {
    All,
    /// Has (true) or has not (false) this flag.
    Flag(String, bool),
    /// RECENT (true) and OLD (false): `\Recent` in this session.
    Recent(bool),
    /// FROM, TO, CC, BCC, SUBJECT, HEADER: field name and substring.
    Header(String, String),
    Body(String),
    Text(String),
    Larger(u64),
    Smaller(u64),
    /// BEFORE/ON/SINCE on the internal date (`sent` false) or the Date:
    /// header (`sent` true): ordering wanted, day number.
    Date {
        sent: bool,
        cmp: std::cmp::Ordering,
        or_equal: bool,
        day: i64,
    },
    Uid(SeqSet),
    Seq(SeqSet),
    Not(Box<SearchKey>),
    Or(Box<SearchKey>, Box<SearchKey>),
    And(Vec<SearchKey>),
}

/// The keys of a SEARCH command: all of them must match (§6.4.4).
fn parse_search(toks: &[Tok]) -> Result<SearchKey, String> {
    parse_all_keys(toks, 0, "SEARCH needs a search key")
}

/// Every key in `toks` as one AND, for a whole command or a parenthesized
/// group; `if_empty` is the error when there is none.
fn parse_all_keys(toks: &[Tok], depth: usize, if_empty: &str) -> Result<SearchKey, String> {
    let mut pos = 0;
    let mut keys = Vec::new();
    while pos < toks.len() {
        keys.push(parse_search_key(toks, &mut pos, depth)?);
    }
    if keys.is_empty() {
        return Err(if_empty.into());
    }
    Ok(SearchKey::And(keys))
}

/// One search key starting at `toks[*pos]`, with its arguments; `pos`
/// moves past them.
fn parse_search_key(toks: &[Tok], pos: &mut usize, depth: usize) -> Result<SearchKey, String> {
    use std::cmp::Ordering::*;
    if depth > MAX_NESTING {
        return Err("search keys nested too deeply".into());
    }
    let tok = toks.get(*pos).ok_or("missing search key")?;
    *pos += 1;
    let mut string = |what: &str| -> Result<String, String> {
        let t = toks.get(*pos).and_then(Tok::astring_text);
        *pos += 1;
        t.ok_or_else(|| format!("{what} needs an argument"))
    };
    let key = match tok {
        Tok::List(inner) => parse_all_keys(inner, depth + 1, "empty search group")?,
        Tok::Str(_) => return Err("unexpected string in SEARCH".into()),
        Tok::Atom(a) => {
            let up = a.to_ascii_uppercase();
            let flag = |f: &str, has: bool| SearchKey::Flag(f.to_string(), has);
            match up.as_str() {
                "ALL" => SearchKey::All,
                "ANSWERED" => flag("\\Answered", true),
                "DELETED" => flag("\\Deleted", true),
                "FLAGGED" => flag("\\Flagged", true),
                "SEEN" => flag("\\Seen", true),
                "DRAFT" => flag("\\Draft", true),
                "UNANSWERED" => flag("\\Answered", false),
                "UNDELETED" => flag("\\Deleted", false),
                "UNFLAGGED" => flag("\\Flagged", false),
                "UNSEEN" => flag("\\Seen", false),
                "UNDRAFT" => flag("\\Draft", false),
                "RECENT" => SearchKey::Recent(true),
                "OLD" => SearchKey::Recent(false),
                // NEW is RECENT UNSEEN (§6.4.4).
                "NEW" => SearchKey::And(vec![SearchKey::Recent(true), flag("\\Seen", false)]),
                "KEYWORD" | "UNKEYWORD" => {
                    let k = string(&up)?;
                    let k = SYSTEM_FLAGS
                        .iter()
                        .find(|s| s.eq_ignore_ascii_case(&k))
                        .map(|s| s.to_string())
                        .unwrap_or(k);
                    SearchKey::Flag(k, up == "KEYWORD")
                }
                "FROM" | "TO" | "CC" | "BCC" | "SUBJECT" => {
                    SearchKey::Header(up.clone(), string(&up)?)
                }
                "HEADER" => {
                    let field = string("HEADER")?;
                    SearchKey::Header(field, string("HEADER")?)
                }
                "BODY" => SearchKey::Body(string("BODY")?),
                "TEXT" => SearchKey::Text(string("TEXT")?),
                "LARGER" | "SMALLER" => {
                    let n: u64 = string(&up)?
                        .parse()
                        .map_err(|_| format!("{up} needs a number"))?;
                    if up == "LARGER" {
                        SearchKey::Larger(n)
                    } else {
                        SearchKey::Smaller(n)
                    }
                }
                "BEFORE" | "ON" | "SINCE" | "SENTBEFORE" | "SENTON" | "SENTSINCE" => {
                    let day = parse_date(&string(&up)?)
                        .ok_or_else(|| format!("{up} needs a date like 1-Feb-1994"))?;
                    let (cmp, or_equal) = match up.trim_start_matches("SENT") {
                        "BEFORE" => (Less, false),
                        "ON" => (Equal, true),
                        _ => (Greater, true),
                    };
                    SearchKey::Date {
                        sent: up.starts_with("SENT"),
                        cmp,
                        or_equal,
                        day,
                    }
                }
                "UID" => {
                    let set = string("UID")?;
                    SearchKey::Uid(SeqSet::parse(&set).ok_or("invalid UID set")?)
                }
                "NOT" => SearchKey::Not(Box::new(parse_search_key(toks, pos, depth + 1)?)),
                "OR" => {
                    let a = parse_search_key(toks, pos, depth + 1)?;
                    let b = parse_search_key(toks, pos, depth + 1)?;
                    SearchKey::Or(Box::new(a), Box::new(b))
                }
                _ => match SeqSet::parse(a) {
                    Some(set) => SearchKey::Seq(set),
                    None => return Err(format!("unknown search key {a}")),
                },
            }
        }
    };
    Ok(key)
}

/// One message being tested against a search key.
struct Candidate<'a> {
    seq: u32,
    uid: u32,
    max_seq: u32,
    max_uid: u32,
    flags: &'a BTreeSet<String>,
    recent: bool,
    msg: &'a StoredMessage,
    /// Read only if a key needs them: the decoded header fields
    /// (mail-parser reads the header block alone), and the MIME tree.
    headers: OnceCell<Option<Message<'a>>>,
    parsed: OnceCell<ParsedMail<'a>>,
}

impl<'a> Candidate<'a> {
    fn headers(&self) -> Option<&Message<'a>> {
        self.headers
            .get_or_init(|| MessageParser::new().parse_headers(self.header_bytes()))
            .as_ref()
    }

    fn parsed(&self) -> &ParsedMail<'a> {
        self.parsed
            .get_or_init(|| ParsedMail::new(self.msg.data.as_slice()))
    }

    fn header_bytes(&self) -> &'a [u8] {
        let data: &'a [u8] = self.msg.data.as_slice();
        &data[..header_end(data)]
    }

    fn matches(&self, key: &SearchKey) -> bool {
        match key {
            SearchKey::All => true,
            SearchKey::Recent(r) => self.recent == *r,
            SearchKey::Flag(f, has) => self.flags.contains(f) == *has,
            SearchKey::Header(field, needle) => self.header_matches(field, needle),
            SearchKey::Body(needle) => {
                let data = self.msg.data.as_slice();
                contains_ci(&data[header_end(data)..], needle) || self.decoded_text_contains(needle)
            }
            SearchKey::Text(needle) => {
                contains_ci(self.msg.data.as_slice(), needle)
                    || self.decoded_text_contains(needle)
                    || ["FROM", "TO", "CC", "BCC", "SUBJECT"]
                        .iter()
                        .any(|f| self.header_matches(f, needle))
            }
            SearchKey::Larger(n) => self.msg.data.len() as u64 > *n,
            SearchKey::Smaller(n) => (self.msg.data.len() as u64) < *n,
            SearchKey::Date {
                sent,
                cmp,
                or_equal,
                day,
            } => {
                let mine = if *sent {
                    // §6.4.4: the Date: header, disregarding time and zone.
                    match self.headers().and_then(|m| m.date()) {
                        Some(d) => days_from_civil(d.year as i64, d.month as u32, d.day as u32),
                        None => return false,
                    }
                } else {
                    self.msg.received.div_euclid(86_400)
                };
                let c = mine.cmp(day);
                c == *cmp || (*or_equal && c == std::cmp::Ordering::Equal)
            }
            SearchKey::Uid(set) => set.contains(self.uid, self.max_uid),
            SearchKey::Seq(set) => set.contains(self.seq, self.max_seq),
            SearchKey::Not(k) => !self.matches(k),
            SearchKey::Or(a, b) => self.matches(a) || self.matches(b),
            SearchKey::And(keys) => keys.iter().all(|k| self.matches(k)),
        }
    }

    /// Does a header field contain the string (case-insensitively), in its
    /// raw form or decoded (RFC 2047 words, address lists)?
    fn header_matches(&self, field: &str, needle: &str) -> bool {
        let raw = fields(self.header_bytes());
        let mut present = false;
        for f in raw
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(field.as_bytes()))
        {
            present = true;
            if contains_ci(&unfold_exact(f.value), needle) {
                return true;
            }
        }
        // An empty string matches every message that has the field.
        if needle.is_empty() {
            return present;
        }
        let Some(m) = self.headers() else {
            return false;
        };
        let Some(root) = m.parts.first() else {
            return false;
        };
        root.headers
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case(field))
            .any(|h| contains_ci(header_value_text(&h.value).as_bytes(), needle))
    }

    /// The decoded text of the message's body (its text parts, charsets
    /// and transfer encodings undone) contains the string.
    fn decoded_text_contains(&self, needle: &str) -> bool {
        contains_ci(self.parsed().body_text().as_bytes(), needle)
    }
}

/// Case-insensitive substring test (Unicode lower case).
fn contains_ci(haystack: &[u8], needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let needle = needle.to_lowercase();
    let hay = String::from_utf8_lossy(haystack).to_lowercase();
    hay.contains(&needle)
}

/// A decoded header value as text, for SEARCH.
fn header_value_text(v: &HeaderValue) -> String {
    fn addr(a: &Addr) -> String {
        match (&a.name, &a.address) {
            (Some(n), Some(x)) => format!("{n} <{x}>"),
            (Some(n), None) => n.to_string(),
            (None, Some(x)) => x.to_string(),
            (None, None) => String::new(),
        }
    }
    match v {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(l) => l.join(" "),
        HeaderValue::Address(Address::List(l)) => l.iter().map(addr).collect::<Vec<_>>().join(", "),
        HeaderValue::Address(Address::Group(g)) => g
            .iter()
            .flat_map(|g| {
                g.name
                    .iter()
                    .map(|n| n.to_string())
                    .chain(g.addresses.iter().map(addr))
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[tokio::test]
    async fn search_keys() {
        let mut c = selected(host(true)).await;
        c.cmd("a0 STORE 1 +FLAGS.SILENT (\\Seen)").await;
        let cases = [
            ("SEARCH UNSEEN", "2"),
            ("SEARCH SEEN", "1"),
            ("SEARCH ALL", "1 2"),
            ("SEARCH FROM alice", "1"),
            ("SEARCH FROM \"CAROL\"", "2"),
            ("SEARCH SUBJECT slides", "2"),
            ("SEARCH SUBJECT {5}\r\nhello", "1"),
            ("SEARCH OR FROM alice SUBJECT slides", "1 2"),
            ("SEARCH NOT FROM alice", "2"),
            ("SEARCH (NOT SEEN) SUBJECT slides", "2"),
            ("SEARCH TO bob@hamburger.edu", "1 2"),
            ("SEARCH BODY lecture", "1"),
            ("SEARCH TEXT ATTACHED", "2"),
            ("SEARCH HEADER Message-ID crepes", "1"),
            ("SEARCH HEADER MIME-Version \"\"", "2"),
            ("SEARCH LARGER 300", "2"),
            ("SEARCH SMALLER 300", "1"),
            ("SEARCH ON 1-Dec-2025", "1"),
            ("SEARCH SINCE 2-Dec-2025", "2"),
            ("SEARCH BEFORE 2-Dec-2025", "1"),
            ("SEARCH SENTON 2-Dec-2025", "2"),
            ("SEARCH UID 2", "2"),
            ("SEARCH 2:*", "2"),
            // Both are \Recent in this (the first) session; 1 is \Seen.
            ("SEARCH CHARSET UTF-8 NEW", "2"),
            ("SEARCH RECENT", "1 2"),
            ("SEARCH OLD", ""),
            ("UID SEARCH NOT UID 1", "2"),
            ("SEARCH KEYWORD $Important", ""),
            ("SEARCH UNKEYWORD \\seen", "2"),
        ];
        for (i, (cmd, want)) in cases.iter().enumerate() {
            let tag = format!("s{i}");
            let sep = if want.is_empty() { "" } else { " " };
            let line = if let Some((head, lit)) = cmd.split_once("\r\n") {
                c.send(format!("{tag} {head}\r\n").as_bytes()).await;
                assert_eq!(c.response_line().await, b"+ Ready for literal data\r\n");
                format!("{lit}\r\n")
            } else {
                format!("{tag} {cmd}\r\n")
            };
            c.send(line.as_bytes()).await;
            let got = String::from_utf8(c.until_tagged(&tag).await).unwrap();
            assert_eq!(
                got,
                format!("* SEARCH{sep}{want}\r\n{tag} OK SEARCH completed\r\n"),
                "{cmd}"
            );
        }
        assert_eq!(
            c.cmd("x1 SEARCH CHARSET KOI8-R ALL").await,
            "x1 NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset\r\n"
        );
        assert_eq!(
            c.cmd("x2 SEARCH FROBNICATE").await,
            "x2 BAD unknown search key FROBNICATE\r\n"
        );
        assert_eq!(
            c.cmd("x3 SEARCH").await,
            "x3 BAD SEARCH needs a search key\r\n"
        );
    }
}
