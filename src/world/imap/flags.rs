//! Message flags (RFC 3501 §2.3.2) and STORE (§6.4.6), which sets, adds
//! or removes them: `FLAGS`, `+FLAGS`, `-FLAGS`, each with `.SILENT`.
//!
//! `\Recent` is set only by the server (see `selection.rs`): a client
//! cannot set or clear it, and it is never stored with the other flags.

use std::collections::BTreeSet;

use super::super::store::StoreError;
use super::reply::{Reply, bad, no, ok, store_error};
use super::selection::find_uid;
use super::sequence::SeqSet;
use super::session::Session;
use crate::proto::imap::syntax::Tok;

/// The system flags a client may set (RFC 3501 §2.3.2); `\Recent` is only
/// ever set by the server.
pub(super) const SYSTEM_FLAGS: [&str; 5] =
    ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

/// A flag set as the inside of a parenthesized list: `\Seen $Later`.
pub(super) fn flag_list(flags: &BTreeSet<String>) -> String {
    flags
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Check and normalize flags from the client: system flags get their
/// usual spelling, `\Recent` is ignored (only the server sets it), other
/// backslash names are errors; keywords are atoms (RFC 3501 §2.3.2).
pub(super) fn parse_flags(toks: &[Tok]) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for t in toks {
        let Some(f) = t.atom() else {
            return Err("flags must be atoms".into());
        };
        if let Some(sys) = SYSTEM_FLAGS.iter().find(|s| s.eq_ignore_ascii_case(f)) {
            out.insert(sys.to_string());
        } else if f.eq_ignore_ascii_case("\\Recent") {
            continue;
        } else if f.starts_with('\\')
            || f.is_empty()
            || f.bytes()
                .any(|b| !b.is_ascii_graphic() || b"(){%*\"\\]".contains(&b))
        {
            return Err(format!("invalid flag {f}"));
        } else {
            out.insert(f.to_string());
        }
    }
    Ok(out)
}

impl Session {
    /// Write changed flags (UID, new flags) of `folder` to the store; with
    /// no changes there is nothing to write. STORE changes flags, and so
    /// does FETCH when reading a body sets `\Seen` (§6.4.5).
    pub(super) async fn save_flags(
        &self,
        folder: String,
        changes: Vec<(u32, BTreeSet<String>)>,
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let user = self.user();
        self.store_op(move |s| s.set_flags(&user, &folder, &changes))
            .await
    }

    /// STORE and UID STORE (§6.4.6): FLAGS, +FLAGS, -FLAGS, with .SILENT.
    pub(super) async fn cmd_store(&mut self, args: &[Tok], uid: bool) -> Reply {
        const SYNTAX: &str = "syntax: STORE set [+|-]FLAGS[.SILENT] (flags)";
        let [set, item, flag_args @ ..] = args else {
            return bad(SYNTAX);
        };
        let Some(set) = set.atom().and_then(SeqSet::parse) else {
            return bad("invalid sequence set");
        };
        let Some(item) = item.atom().map(str::to_ascii_uppercase) else {
            return bad(SYNTAX);
        };
        let (mode, silent) = match item.as_str() {
            "FLAGS" => ('=', false),
            "FLAGS.SILENT" => ('=', true),
            "+FLAGS" => ('+', false),
            "+FLAGS.SILENT" => ('+', true),
            "-FLAGS" => ('-', false),
            "-FLAGS.SILENT" => ('-', true),
            _ => return bad(SYNTAX),
        };
        // The flags may come as one parenthesized list or as bare flags.
        let flags = match flag_args {
            [Tok::List(list)] => parse_flags(list),
            list => parse_flags(list),
        };
        let flags = match flags {
            Ok(f) => f,
            Err(e) => return bad(e),
        };
        if self.selected.as_ref().is_some_and(|s| s.read_only) {
            return no("[READ-ONLY] mailbox is read-only");
        }
        let (targets, snap) = match self.targets(&set, uid) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let Some(sel) = &mut self.selected else {
            return bad("no mailbox selected");
        };
        let mut changes = Vec::new();
        let mut report = Vec::new();
        for &i in &targets {
            let v = &mut sel.view[i];
            // Start from the store's flags: another session may have
            // changed them since our view was taken.
            let Some(m) = find_uid(&snap, v.uid) else {
                continue;
            };
            let mut new = m.flags.clone();
            match mode {
                '=' => new = flags.clone(),
                '+' => new.extend(flags.iter().cloned()),
                _ => new.retain(|f| !flags.contains(f)),
            }
            if new != m.flags {
                changes.push((v.uid, new.clone()));
            }
            v.flags = new;
            report.push(i);
        }
        let folder = sel.name.clone();
        if let Err(e) = self.save_flags(folder, changes).await {
            return store_error(&e);
        }
        if !silent && let Some(sel) = &self.selected {
            for i in report {
                let v = &sel.view[i];
                let uid_part = if uid {
                    format!("UID {} ", v.uid)
                } else {
                    String::new()
                };
                self.conn.queue_line(&format!(
                    "* {} FETCH ({uid_part}FLAGS ({}))",
                    i + 1,
                    v.flag_text()
                ));
            }
        }
        ok("STORE completed")
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::world::store::INBOX;

    #[tokio::test]
    async fn store_and_expunge() {
        let h = host(true);
        let mut c = selected(h.clone()).await;
        // \Recent (from the SELECT) is shown but neither set nor stored.
        assert_eq!(
            c.cmd("a1 STORE 1 +FLAGS (\\Deleted \\Recent)").await,
            "* 1 FETCH (FLAGS (\\Deleted \\Recent))\r\na1 OK STORE completed\r\n"
        );
        assert_eq!(
            c.cmd("a2 STORE 1:2 +FLAGS (\\Deleted \\seen $Later)").await,
            "* 1 FETCH (FLAGS ($Later \\Deleted \\Recent \\Seen))\r\n\
             * 2 FETCH (FLAGS ($Later \\Deleted \\Recent \\Seen))\r\na2 OK STORE completed\r\n"
        );
        assert_eq!(
            c.cmd("a3 STORE 2 -FLAGS.SILENT ($Later)").await,
            "a3 OK STORE completed\r\n"
        );
        assert_eq!(
            c.cmd("a4 UID STORE 2 FLAGS (\\Deleted)").await,
            "* 2 FETCH (UID 2 FLAGS (\\Deleted \\Recent))\r\na4 OK STORE completed\r\n"
        );
        assert_eq!(
            c.cmd("a5 STORE 1 +FLAGS (\\Bogus)").await,
            "a5 BAD invalid flag \\Bogus\r\n"
        );
        // The flags are in the store.
        let snap = h.store.snapshot("bob", INBOX).unwrap();
        assert!(snap.messages[0].flags.contains("\\Deleted"));
        assert!(!snap.messages[0].flags.contains("\\Recent"));
        assert_eq!(
            c.cmd("a6 EXPUNGE").await,
            "* 1 EXPUNGE\r\n* 1 EXPUNGE\r\na6 OK EXPUNGE completed\r\n"
        );
        assert!(h.store.snapshot("bob", INBOX).unwrap().messages.is_empty());
        assert_eq!(
            c.cmd("a7 SEARCH ALL").await,
            "* SEARCH\r\na7 OK SEARCH completed\r\n"
        );
    }
}
