//! The selected state (RFC 3501 §6.3.1, §6.4): entering it with SELECT or
//! EXAMINE, the session's own view of the folder, telling the client what
//! others changed (`* n EXPUNGE`, `* n FETCH (FLAGS ...)`, `* n EXISTS`,
//! §7.3.1, §7.4.1), turning message numbers into messages, and leaving
//! with CLOSE or UNSELECT (RFC 3691).
//!
//! The view keeps UIDs and flags in sequence order, so sequence numbers
//! (§2.3.1) change only when the server has told the client.

use std::collections::BTreeSet;

use super::super::store::{FolderSnapshot, StoreError, StoredMessage, folder_name};
use super::flags::{SYSTEM_FLAGS, flag_list};
use super::reply::{Reply, bad, no, ok, store_error};
use super::sequence::SeqSet;
use super::session::Session;
use crate::proto::imap::response::Status;
use crate::proto::imap::syntax::Tok;

/// The session's view of the selected folder (RFC 3501 §6.3.1).
pub(super) struct Selected {
    /// The folder name as the store knows it.
    pub(super) name: String,
    /// EXAMINE: nothing may be changed (§6.3.2).
    pub(super) read_only: bool,
    uidvalidity: u32,
    uidnext: u32,
    /// The messages in sequence order: index 0 is message number 1.
    /// Always sorted by UID.
    pub(super) view: Vec<ViewMsg>,
    /// The largest UID the client was told about: anything larger in the
    /// store is new mail to announce with EXISTS.
    max_uid: u32,
}

/// One message of the view: its UID and the flags the client was last
/// told about.
pub(super) struct ViewMsg {
    pub(super) uid: u32,
    pub(super) flags: BTreeSet<String>,
    /// `\Recent` in this session (RFC 3501 §2.3.2): never stored with the
    /// flags, since no other session may see it.
    pub(super) recent: bool,
}

impl ViewMsg {
    /// The flags as FETCH shows them: the stored ones and `\Recent`.
    pub(super) fn flag_text(&self) -> String {
        if !self.recent {
            return flag_list(&self.flags);
        }
        let mut all = self.flags.clone();
        all.insert("\\Recent".to_string());
        flag_list(&all)
    }
}

impl Selected {
    /// The UID of the last message in the view (0 for an empty view): what
    /// `*` stands for in a UID set (§6.4.8).
    pub(super) fn last_uid(&self) -> u32 {
        self.view.last().map(|v| v.uid).unwrap_or(0)
    }

    /// How many messages are `\Recent` in this session (the number of a
    /// `* n RECENT` response, §7.3.2).
    fn recent_count(&self) -> usize {
        self.view.iter().filter(|v| v.recent).count()
    }
}

/// The mark below which messages are not recent for this session: a
/// read-write SELECT claims everything up to `up_to` (the first session to
/// see a message gets `\Recent`, RFC 3501 §2.3.2); EXAMINE must not take it
/// from later sessions (§6.3.2), so it only looks. A store that cannot
/// save the mark makes nothing recent rather than something twice.
fn recent_floor(session: &Session, name: &str, read_only: bool, mark: u32, up_to: u32) -> u32 {
    if read_only || up_to <= mark {
        return mark;
    }
    session
        .host
        .store
        .claim_recent(&session.user(), name, up_to)
        .unwrap_or(u32::MAX)
}

impl Session {
    /// SELECT and EXAMINE (§6.3.1, §6.3.2).
    pub(super) fn cmd_select(&mut self, args: &[Tok], read_only: bool) -> Reply {
        // A failed SELECT leaves no mailbox selected (§6.3.1), and a new
        // SELECT closes the old one without expunging.
        self.selected = None;
        const SYNTAX: &str = "syntax: SELECT mailbox";
        let [name] = args else {
            return bad(SYNTAX);
        };
        let (name, snap) = match self.named_folder(name, SYNTAX) {
            Ok(folder) => folder,
            Err(reply) => return reply,
        };
        let Ok(name) = folder_name(&name) else {
            return no("[NONEXISTENT] no such mailbox");
        };
        let last = snap.messages.last().map_or(0, |m| m.uid);
        let floor = recent_floor(self, &name, read_only, snap.recent_mark, last);
        let view: Vec<ViewMsg> = snap
            .messages
            .iter()
            .map(|m| ViewMsg {
                uid: m.uid,
                flags: m.flags.clone(),
                recent: m.uid > floor,
            })
            .collect();
        let recent = view.iter().filter(|v| v.recent).count();
        // FLAGS: the system flags and the keywords in use here.
        let mut flags: Vec<String> = SYSTEM_FLAGS.iter().map(|f| f.to_string()).collect();
        let keywords: BTreeSet<&String> = view
            .iter()
            .flat_map(|m| m.flags.iter())
            .filter(|f| !f.starts_with('\\'))
            .collect();
        flags.extend(keywords.into_iter().cloned());
        self.conn
            .queue_line(&format!("* FLAGS ({})", flags.join(" ")));
        if read_only {
            self.untagged(Status::Ok, "[PERMANENTFLAGS ()] Read-only mailbox");
        } else {
            self.untagged(
                Status::Ok,
                "[PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted",
            );
        }
        let c = &mut self.conn;
        c.queue_line(&format!("* {} EXISTS", view.len()));
        c.queue_line(&format!("* {recent} RECENT"));
        if let Some(i) = view.iter().position(|m| !m.flags.contains("\\Seen")) {
            self.untagged(
                Status::Ok,
                &format!("[UNSEEN {}] First unseen message", i + 1),
            );
        }
        self.untagged(
            Status::Ok,
            &format!("[UIDVALIDITY {}] UIDs valid", snap.uidvalidity),
        );
        self.untagged(
            Status::Ok,
            &format!("[UIDNEXT {}] Predicted next UID", snap.uidnext),
        );
        self.host.log(format_args!(
            "{} selected {name} ({} messages)",
            self.ip,
            view.len()
        ));
        self.selected = Some(Selected {
            name,
            read_only,
            uidvalidity: snap.uidvalidity,
            uidnext: snap.uidnext,
            max_uid: view.last().map(|m| m.uid).unwrap_or(0),
            view,
        });
        if read_only {
            ok("[READ-ONLY] EXAMINE completed")
        } else {
            ok("[READ-WRITE] SELECT completed")
        }
    }

    /// Compare the view with the store and tell the client what changed:
    /// `* n EXPUNGE` for messages others removed (only when allowed),
    /// `* n FETCH (FLAGS ...)` for flags others changed, `* n EXISTS` for
    /// new mail (RFC 3501 §7.3.1, §7.4.1, §7.4.2).
    pub(super) fn refresh(&mut self, allow_expunge: bool) {
        let (Some(user), Some(sel)) = (&self.user, &mut self.selected) else {
            return;
        };
        let Ok(snap) = self.host.store.snapshot(user, &sel.name) else {
            return;
        };
        if allow_expunge {
            // From the highest number down, so each number is still valid
            // when the client reads it.
            for i in (0..sel.view.len()).rev() {
                if find_uid(&snap, sel.view[i].uid).is_none() {
                    sel.view.remove(i);
                    self.conn.queue_line(&format!("* {} EXPUNGE", i + 1));
                }
            }
        }
        for (i, v) in sel.view.iter_mut().enumerate() {
            if let Some(m) = find_uid(&snap, v.uid)
                && m.flags != v.flags
            {
                v.flags = m.flags.clone();
                self.conn
                    .queue_line(&format!("* {} FETCH (FLAGS ({}))", i + 1, v.flag_text()));
            }
        }
        let before = sel.view.len();
        let known = sel.max_uid;
        // New mail seen by a selected session is recent in it, if no other
        // session saw it first (RFC 3501 §2.3.2, §7.3.2).
        let last = snap.messages.last().map_or(0, |m| m.uid);
        let floor = if last > known && !sel.read_only {
            self.host
                .store
                .claim_recent(user, &sel.name, last)
                .unwrap_or(u32::MAX)
        } else {
            snap.recent_mark
        };
        for m in snap.messages.iter().filter(|m| m.uid > known) {
            sel.view.push(ViewMsg {
                uid: m.uid,
                flags: m.flags.clone(),
                recent: m.uid > floor,
            });
            sel.max_uid = m.uid;
        }
        if sel.view.len() != before {
            self.conn
                .queue_line(&format!("* {} EXISTS", sel.view.len()));
            self.conn
                .queue_line(&format!("* {} RECENT", sel.recent_count()));
        }
        sel.uidnext = snap.uidnext;
        sel.uidvalidity = snap.uidvalidity;
    }

    /// The folder a command names, read from the store: its name and
    /// snapshot, or the reply that ends the command (BAD `syntax` when
    /// the name is no astring, else the store's NO).
    pub(super) fn named_folder(
        &self,
        name: &Tok,
        syntax: &str,
    ) -> Result<(String, FolderSnapshot), Reply> {
        let Some(name) = name.astring_text() else {
            return Err(bad(syntax));
        };
        let snap = self
            .host
            .store
            .snapshot(&self.user(), &name)
            .map_err(|e| store_error(&e))?;
        Ok((name, snap))
    }

    /// The snapshot of the selected folder.
    pub(super) fn selected_snapshot(&self) -> Result<FolderSnapshot, StoreError> {
        let name = self
            .selected
            .as_ref()
            .map(|s| s.name.as_str())
            .unwrap_or("");
        self.host.store.snapshot(&self.user(), name)
    }

    /// CLOSE (§6.4.2): expunge silently (unless read-only), deselect.
    pub(super) async fn cmd_close(&mut self) -> Reply {
        if let Some(sel) = &self.selected
            && !sel.read_only
            && let Err(e) = self.expunge(None, false).await
        {
            return store_error(&e);
        }
        self.selected = None;
        ok("CLOSE completed")
    }

    /// UNSELECT (RFC 3691): deselect without expunging.
    pub(super) fn cmd_unselect(&mut self) -> Reply {
        self.selected = None;
        ok("UNSELECT completed")
    }

    /// Is `name` the selected folder? DELETE and RENAME refuse to touch it.
    pub(super) fn is_selected(&self, name: &str) -> bool {
        matches!((&self.selected, folder_name(name)), (Some(sel), Ok(n)) if sel.name == n)
    }

    /// What FETCH, STORE and COPY work on: the view indexes a set names
    /// ([`Self::target_indexes`]) and the newest snapshot of the folder to
    /// read those messages from.
    pub(super) fn targets(
        &self,
        set: &SeqSet,
        uid: bool,
    ) -> Result<(Vec<usize>, FolderSnapshot), Reply> {
        let indexes = self.target_indexes(set, uid)?;
        let snap = self.selected_snapshot().map_err(|e| store_error(&e))?;
        Ok((indexes, snap))
    }

    /// The view indexes a sequence set (or UID set) names. RFC 3501 §9: a
    /// sequence number beyond the last message is an error; in a UID set,
    /// UIDs that do not exist are just ignored (§6.4.8).
    fn target_indexes(&self, set: &SeqSet, uid: bool) -> Result<Vec<usize>, Reply> {
        let Some(sel) = &self.selected else {
            return Err(bad("no mailbox selected"));
        };
        if uid {
            let max = sel.last_uid();
            return Ok((0..sel.view.len())
                .filter(|&i| set.contains(sel.view[i].uid, max))
                .collect());
        }
        let n = sel.view.len() as u32;
        if set.max_explicit() > n {
            return Err(bad("invalid message sequence number"));
        }
        Ok((0..sel.view.len())
            .filter(|&i| set.contains(i as u32 + 1, n))
            .collect())
    }
}

/// The message with this UID in a snapshot (its messages are sorted by
/// UID).
pub(super) fn find_uid(snap: &FolderSnapshot, uid: u32) -> Option<&StoredMessage> {
    snap.messages
        .binary_search_by_key(&uid, |m| m.uid)
        .ok()
        .map(|i| &snap.messages[i])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::world::store::INBOX;

    #[tokio::test]
    async fn select_and_examine() {
        let h = host(true);
        let uv = h.store.snapshot("bob", INBOX).unwrap().uidvalidity;
        let mut c = logged_in(h).await;
        assert_eq!(
            c.cmd("a1 SELECT inbox").await,
            format!(
                "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
                 * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted\r\n\
                 * 2 EXISTS\r\n\
                 * 2 RECENT\r\n\
                 * OK [UNSEEN 1] First unseen message\r\n\
                 * OK [UIDVALIDITY {uv}] UIDs valid\r\n\
                 * OK [UIDNEXT 3] Predicted next UID\r\n\
                 a1 OK [READ-WRITE] SELECT completed\r\n"
            )
        );
        let r = c.cmd("a2 EXAMINE INBOX").await;
        assert!(
            r.contains("* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n"),
            "{r}"
        );
        assert!(
            r.ends_with("a2 OK [READ-ONLY] EXAMINE completed\r\n"),
            "{r}"
        );
        assert_eq!(
            c.cmd("a3 STORE 1 +FLAGS (\\Deleted)").await,
            "a3 NO [READ-ONLY] mailbox is read-only\r\n"
        );
        assert_eq!(
            c.cmd("a4 EXPUNGE").await,
            "a4 NO [READ-ONLY] mailbox is read-only\r\n"
        );
        // Reading a body in EXAMINE does not set \Seen.
        let r = c.cmd("a5 FETCH 1 (BODY[TEXT] FLAGS)").await;
        assert!(
            r.ends_with(" FLAGS ())\r\na5 OK FETCH completed\r\n"),
            "{r}"
        );
        assert_eq!(
            c.cmd("a6 SELECT Nowhere").await,
            "a6 NO [NONEXISTENT] no such mailbox\r\n"
        );
        assert_eq!(
            c.cmd("a7 FETCH 1 FLAGS").await,
            "a7 BAD no mailbox selected\r\n"
        );
    }

    /// RFC 3501 §2.3.2: the first session to see a message gets
    /// `\Recent`; EXAMINE and STATUS count it without taking it (§6.3.2).
    #[tokio::test]
    async fn recent_goes_to_the_first_session_that_selects() {
        use std::collections::BTreeSet;
        let h = host(true);
        let mut first = logged_in(h.clone()).await;
        let mut second = logged_in(h.clone()).await;
        let recent_line = |r: &str| {
            r.lines()
                .find(|l| l.ends_with(" RECENT"))
                .map(str::to_string)
                .unwrap_or_default()
        };
        // EXAMINE looks but does not claim: it stays recent for others.
        let r = second.cmd("e1 EXAMINE INBOX").await;
        assert_eq!(recent_line(&r), "* 2 RECENT", "{r}");
        assert_eq!(
            second.cmd("e2 FETCH 1 FLAGS").await,
            "* 1 FETCH (FLAGS (\\Recent))\r\ne2 OK FETCH completed\r\n"
        );
        assert_eq!(
            second.cmd("e3 STATUS INBOX (RECENT)").await,
            "* STATUS \"INBOX\" (RECENT 2)\r\ne3 OK STATUS completed\r\n"
        );
        let r = first.cmd("f1 SELECT INBOX").await;
        assert_eq!(recent_line(&r), "* 2 RECENT", "{r}");
        // The second session now selects: nothing is recent for it.
        let r = second.cmd("e4 SELECT INBOX").await;
        assert_eq!(recent_line(&r), "* 0 RECENT", "{r}");
        assert_eq!(
            second.cmd("e5 SEARCH RECENT").await,
            "* SEARCH\r\ne5 OK SEARCH completed\r\n"
        );
        // New mail goes to whichever selected session looks first.
        h.store
            .deliver(
                "bob",
                INBOX,
                b"Subject: n\r\n\r\nn\r\n",
                &BTreeSet::new(),
                1,
            )
            .unwrap();
        assert_eq!(
            second.cmd("e6 NOOP").await,
            "* 3 EXISTS\r\n* 1 RECENT\r\ne6 OK NOOP completed\r\n"
        );
        assert_eq!(
            first.cmd("f2 NOOP").await,
            "* 3 EXISTS\r\n* 2 RECENT\r\nf2 OK NOOP completed\r\n"
        );
        assert_eq!(
            first.cmd("f3 FETCH 3 FLAGS").await,
            "* 3 FETCH (FLAGS ())\r\nf3 OK FETCH completed\r\n"
        );
        assert_eq!(
            second.cmd("e7 SEARCH NEW").await,
            "* SEARCH 3\r\ne7 OK SEARCH completed\r\n"
        );
        assert_eq!(
            first.cmd("f4 STATUS INBOX (RECENT)").await,
            "* STATUS \"INBOX\" (RECENT 0)\r\nf4 OK STATUS completed\r\n"
        );
    }
}
