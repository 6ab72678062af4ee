//! LIST and LSUB (RFC 3501 §6.3.8, §6.3.9): the folder hierarchy, with
//! `/` as the delimiter (§5.1.1), matched against patterns where `*`
//! matches anything and `%` anything but the delimiter. Levels that are not
//! folders themselves are listed as `\Noselect`, and every folder says
//! whether it has children (CHILDREN, RFC 3348).

use std::collections::BTreeMap;

use super::super::store::INBOX;
use super::reply::{Reply, bad, ok};
use super::session::Session;
use crate::proto::imap::syntax::{Tok, emit_string};

/// The hierarchy delimiter of folder names (RFC 3501 §5.1.1).
pub(super) const DELIMITER: char = '/';

impl Session {
    /// LIST and LSUB (§6.3.8, §6.3.9): folder names matching a pattern
    /// where `*` matches anything and `%` anything but the delimiter.
    pub(super) fn cmd_list(&mut self, args: &[Tok], lsub: bool) -> Reply {
        let word = if lsub { "LSUB" } else { "LIST" };
        let [reference, pattern] = args else {
            return bad(format!("syntax: {word} reference pattern"));
        };
        let (Some(reference), Some(pattern)) = (reference.astring_text(), pattern.astring_text())
        else {
            return bad(format!("syntax: {word} reference pattern"));
        };
        if pattern.is_empty() {
            // §6.3.8: an empty pattern asks for the delimiter and the root.
            if !lsub {
                self.conn.queue_line("* LIST (\\Noselect) \"/\" \"\"");
            }
            return ok(format!("{word} completed"));
        }
        let full = format!("{reference}{pattern}");
        // The real folders, plus their parents, which exist only as levels
        // of the hierarchy (\Noselect) when they are not folders too.
        let mut names: BTreeMap<String, bool> = BTreeMap::new();
        for f in self.host.store.folders(&self.user()) {
            let mut end = 0;
            while let Some(i) = f[end..].find(DELIMITER) {
                names.entry(f[..end + i].to_string()).or_insert(false);
                end += i + 1;
            }
            names.insert(f, true);
        }
        let mut ordered: Vec<(&String, &bool)> = names.iter().collect();
        ordered.sort_by_key(|(n, _)| (n.as_str() != INBOX, n.as_str()));
        for (name, real) in &ordered {
            // INBOX is case-insensitive (§5.1), other names are not.
            let matches = wildcard_match(full.as_bytes(), name.as_bytes())
                || (name.as_str() == INBOX
                    && wildcard_match(full.to_ascii_uppercase().as_bytes(), name.as_bytes()));
            if !matches {
                continue;
            }
            let prefix = format!("{name}{DELIMITER}");
            let children = names.keys().any(|n| n.starts_with(&prefix));
            let mut attrs = Vec::new();
            if !**real {
                attrs.push("\\Noselect");
            }
            attrs.push(if children {
                "\\HasChildren"
            } else {
                "\\HasNoChildren"
            });
            let mut line = format!("* {word} ({}) \"{DELIMITER}\" ", attrs.join(" ")).into_bytes();
            emit_string(&mut line, name.as_bytes());
            line.extend_from_slice(b"\r\n");
            self.conn.queue(&line);
        }
        ok(format!("{word} completed"))
    }
}

/// Does `name` match `pattern`, where `*` matches any run of characters and
/// `%` any run without the delimiter? Dynamic programming over the
/// pattern, so a hostile pattern costs O(pattern × name), never more.
fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    // can[j]: the pattern so far matches name[..j].
    let mut can = vec![false; name.len() + 1];
    can[0] = true;
    for &p in pattern {
        let mut next = vec![false; name.len() + 1];
        match p {
            b'*' => {
                let mut any = false;
                for j in 0..=name.len() {
                    any |= can[j];
                    next[j] = any;
                }
            }
            b'%' => {
                let mut any = false;
                for j in 0..=name.len() {
                    if j > 0 && name[j - 1] == DELIMITER as u8 {
                        any = false;
                    }
                    any |= can[j];
                    next[j] = any;
                }
            }
            c => {
                for j in 1..=name.len() {
                    next[j] = can[j - 1] && name[j - 1] == c;
                }
            }
        }
        can = next;
    }
    can[name.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match(b"*", b"Work/2026"));
        assert!(!wildcard_match(b"%", b"Work/2026"));
        assert!(wildcard_match(b"Work/%", b"Work/2026"));
        assert!(wildcard_match(b"W*6", b"Work/2026"));
        assert!(!wildcard_match(b"W*7", b"Work/2026"));
        let hostile = "*a".repeat(2000);
        assert!(!wildcard_match(
            hostile.as_bytes(),
            b"aaaaaaaaaaaaaaaaaaaaaaaaab"
        ));
    }
}
