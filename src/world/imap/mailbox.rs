//! Folders as wholes (RFC 3501 §6.3): CREATE, DELETE, RENAME, SUBSCRIBE
//! and UNSUBSCRIBE, STATUS; and putting messages into a folder: APPEND
//! (§6.3.11) and COPY (§6.4.7), answered with the APPENDUID and COPYUID
//! codes of UIDPLUS (RFC 4315 §3).
//!
//! Choices of this teaching server: subscriptions are not kept (every
//! folder counts as subscribed); RENAME of INBOX (which moves its
//! messages, §6.3.5) is refused.

use std::collections::BTreeSet;

use super::super::store::{INBOX, Store, StoreError, StoredMessage, unix_now};
use super::dates::parse_date_time;
use super::flags::parse_flags;
use super::list::DELIMITER;
use super::reply::{Reply, bad, destination_error, no, ok, store_error};
use super::selection::find_uid;
use super::sequence::{SeqSet, uid_set_text};
use super::session::Session;
use crate::proto::imap::syntax::{Tok, emit_string};

impl Session {
    /// CREATE (§6.3.3). A trailing delimiter only says "this will hold
    /// other folders" and is dropped.
    pub(super) async fn cmd_create(&mut self, args: &[Tok]) -> Reply {
        let Some(name) = one_mailbox(args) else {
            return bad("syntax: CREATE mailbox");
        };
        let name = name.strip_suffix(DELIMITER).unwrap_or(&name).to_string();
        if name.eq_ignore_ascii_case(INBOX) {
            return no("[ALREADYEXISTS] INBOX always exists");
        }
        self.change_folders("CREATE completed", move |s, user| {
            s.create_folder(user, &name)
        })
        .await
    }

    /// DELETE (§6.3.4).
    pub(super) async fn cmd_delete(&mut self, args: &[Tok]) -> Reply {
        let Some(name) = one_mailbox(args) else {
            return bad("syntax: DELETE mailbox");
        };
        if self.is_selected(&name) {
            return no("[INUSE] the mailbox is selected; CLOSE it first");
        }
        self.change_folders("DELETE completed", move |s, user| {
            s.delete_folder(user, &name)
        })
        .await
    }

    /// RENAME (§6.3.5).
    pub(super) async fn cmd_rename(&mut self, args: &[Tok]) -> Reply {
        let [from, to] = args else {
            return bad("syntax: RENAME from to");
        };
        let (Some(from), Some(to)) = (from.astring_text(), to.astring_text()) else {
            return bad("syntax: RENAME from to");
        };
        if self.is_selected(&from) {
            return no("[INUSE] the mailbox is selected; CLOSE it first");
        }
        self.change_folders("RENAME completed", move |s, user| {
            s.rename_folder(user, &from, &to)
        })
        .await
    }

    /// Carries out a change to the user's folders on the store: OK with
    /// `done`, else the store's NO.
    async fn change_folders(
        &mut self,
        done: &str,
        change: impl FnOnce(&Store, &str) -> Result<(), StoreError> + Send + 'static,
    ) -> Reply {
        let user = self.user();
        match self.store_op(move |s| change(s, &user)).await {
            Ok(()) => ok(done),
            Err(e) => store_error(&e),
        }
    }

    /// SUBSCRIBE and UNSUBSCRIBE (§6.3.6, §6.3.7): every folder counts as
    /// subscribed, so there is nothing to remember.
    pub(super) fn cmd_subscribe(&mut self, name: &str, args: &[Tok]) -> Reply {
        if one_mailbox(args).is_none() {
            return bad(format!("syntax: {name} mailbox"));
        }
        ok(format!("{name} completed"))
    }

    /// STATUS (§6.3.10): counters of a folder without selecting it.
    pub(super) fn cmd_status(&mut self, args: &[Tok]) -> Reply {
        const SYNTAX: &str = "syntax: STATUS mailbox (items)";
        let [name, Tok::List(items)] = args else {
            return bad(SYNTAX);
        };
        let (name, snap) = match self.named_folder(name, SYNTAX) {
            Ok(folder) => folder,
            Err(reply) => return reply,
        };
        let mut parts = Vec::new();
        for item in items {
            let Some(item) = item.atom().map(str::to_ascii_uppercase) else {
                return bad("invalid STATUS item");
            };
            let value = match item.as_str() {
                "MESSAGES" => snap.messages.len() as u64,
                // Not yet claimed by a session (RFC 3501 §2.3.2); STATUS
                // only looks, like EXAMINE.
                "RECENT" => snap
                    .messages
                    .iter()
                    .filter(|m| m.uid > snap.recent_mark)
                    .count() as u64,
                "UIDNEXT" => snap.uidnext as u64,
                "UIDVALIDITY" => snap.uidvalidity as u64,
                "UNSEEN" => snap
                    .messages
                    .iter()
                    .filter(|m| !m.flags.contains("\\Seen"))
                    .count() as u64,
                _ => return bad(format!("unknown STATUS item {item}")),
            };
            parts.push(format!("{item} {value}"));
        }
        let mut line = b"* STATUS ".to_vec();
        emit_string(&mut line, name.as_bytes());
        line.extend_from_slice(format!(" ({})\r\n", parts.join(" ")).as_bytes());
        self.conn.queue(&line);
        ok("STATUS completed")
    }

    /// APPEND mailbox [(flags)] [date-time] literal (§6.3.11), answering
    /// with APPENDUID (RFC 4315 §3).
    pub(super) async fn cmd_append(&mut self, args: &[Tok]) -> Reply {
        const SYNTAX: &str = "syntax: APPEND mailbox [(flags)] [date-time] literal";
        let Some((name, mut rest)) = args.split_first() else {
            return bad(SYNTAX);
        };
        let Some(name) = name.astring_text() else {
            return bad(SYNTAX);
        };
        let mut flags = BTreeSet::new();
        if let Some((Tok::List(list), more)) = rest.split_first() {
            match parse_flags(list) {
                Ok(f) => flags = f,
                Err(e) => return bad(e),
            }
            rest = more;
        }
        let mut received = unix_now();
        if rest.len() == 2 {
            let date = rest[0].astring_text().unwrap_or_default();
            match parse_date_time(&date) {
                Some(t) => received = t,
                None => return bad("invalid date-time"),
            }
            rest = &rest[1..];
        }
        let [Tok::Str(message)] = rest else {
            return bad(SYNTAX);
        };
        let user = self.user();
        let (folder, data) = (name.clone(), message.clone());
        let result = self
            .store_op(move |s| {
                let uid = s.deliver(&user, &folder, &data, &flags, received)?;
                Ok((s.snapshot(&user, &folder)?.uidvalidity, uid))
            })
            .await;
        match result {
            Ok((uidvalidity, uid)) => {
                self.host
                    .log(format_args!("{} appended UID {uid} to {name}", self.ip));
                ok(format!("[APPENDUID {uidvalidity} {uid}] APPEND completed"))
            }
            Err(e) => destination_error(&e),
        }
    }

    /// COPY and UID COPY (§6.4.7), answering with COPYUID (RFC 4315 §3).
    pub(super) async fn cmd_copy(&mut self, args: &[Tok], uid: bool) -> Reply {
        let [set, dest] = args else {
            return bad("syntax: COPY set mailbox");
        };
        let (Some(set), Some(dest)) = (set.atom().and_then(SeqSet::parse), dest.astring_text())
        else {
            return bad("syntax: COPY set mailbox");
        };
        let (targets, snap) = match self.targets(&set, uid) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let Some(sel) = &self.selected else {
            return bad("no mailbox selected");
        };
        let messages: Vec<StoredMessage> = targets
            .iter()
            .filter_map(|&i| find_uid(&snap, sel.view[i].uid).cloned())
            .collect();
        let user = self.user();
        let result = self
            .store_op(move |s| {
                let uidvalidity = s.snapshot(&user, &dest)?.uidvalidity;
                let mut pairs = Vec::new();
                for m in &messages {
                    // Flags and internal date go with the copy (§6.4.7).
                    match s.deliver(&user, &dest, &m.data, &m.flags, m.received) {
                        Ok(new) => pairs.push((m.uid, new)),
                        Err(e) => {
                            // COPY is all or nothing: undo the copies made.
                            let made: Vec<u32> = pairs.iter().map(|p| p.1).collect();
                            let _ = s.remove(&user, &dest, &made);
                            return Err(e);
                        }
                    }
                }
                Ok((uidvalidity, pairs))
            })
            .await;
        match result {
            Ok((_, pairs)) if pairs.is_empty() => ok("COPY completed (nothing to copy)"),
            Ok((uidvalidity, pairs)) => {
                let src: Vec<u32> = pairs.iter().map(|p| p.0).collect();
                let dst: Vec<u32> = pairs.iter().map(|p| p.1).collect();
                ok(format!(
                    "[COPYUID {uidvalidity} {} {}] COPY completed",
                    uid_set_text(&src),
                    uid_set_text(&dst)
                ))
            }
            Err(e) => destination_error(&e),
        }
    }
}

/// The one mailbox-name argument of CREATE, DELETE, SUBSCRIBE...
fn one_mailbox(args: &[Tok]) -> Option<String> {
    match args {
        [t] => t.astring_text(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::world::store::INBOX;

    #[tokio::test]
    async fn folders_copy_status_append() {
        let h = host(true);
        let mut c = selected(h.clone()).await;
        assert_eq!(
            c.cmd("a1 CREATE Work/2026").await,
            "a1 OK CREATE completed\r\n"
        );
        assert_eq!(
            c.cmd("a2 CREATE Work/2026").await,
            "a2 NO [ALREADYEXISTS] mailbox already exists\r\n"
        );
        assert_eq!(
            c.cmd("a3 LIST \"\" *").await,
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n\
             * LIST (\\Noselect \\HasChildren) \"/\" \"Work\"\r\n\
             * LIST (\\HasNoChildren) \"/\" \"Work/2026\"\r\n\
             a3 OK LIST completed\r\n"
        );
        assert_eq!(
            c.cmd("a4 LIST \"\" %").await,
            "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n\
             * LIST (\\Noselect \\HasChildren) \"/\" \"Work\"\r\n\
             a4 OK LIST completed\r\n"
        );
        assert_eq!(
            c.cmd("a5 LIST \"\" \"\"").await,
            "* LIST (\\Noselect) \"/\" \"\"\r\na5 OK LIST completed\r\n"
        );
        assert_eq!(
            c.cmd("a6 LSUB Work/ %").await,
            "* LSUB (\\HasNoChildren) \"/\" \"Work/2026\"\r\na6 OK LSUB completed\r\n"
        );
        let uv = h.store.snapshot("bob", "Work/2026").unwrap().uidvalidity;
        assert_eq!(
            c.cmd("a7 COPY 1:2 Work/2026").await,
            format!("a7 OK [COPYUID {uv} 1:2 1:2] COPY completed\r\n")
        );
        assert_eq!(
            c.cmd("a8 UID COPY 2 \"Work/2026\"").await,
            format!("a8 OK [COPYUID {uv} 2 3] COPY completed\r\n")
        );
        assert_eq!(
            c.cmd("a9 COPY 1 Nowhere").await,
            "a9 NO [TRYCREATE] no such mailbox\r\n"
        );
        assert_eq!(
            c.cmd("b1 STATUS Work/2026 (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)")
                .await,
            format!(
                "* STATUS \"Work/2026\" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY {uv} UNSEEN 3 RECENT 3)\r\n\
                 b1 OK STATUS completed\r\n"
            )
        );
        // APPEND with a literal, to the selected folder: EXISTS comes too.
        let msg = "Subject: appended\r\n\r\nhello\r\n";
        c.send(
            format!(
                "b2 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {{{}}}\r\n",
                msg.len()
            )
            .as_bytes(),
        )
        .await;
        assert_eq!(c.response_line().await, b"+ Ready for literal data\r\n");
        c.send(format!("{msg}\r\n").as_bytes()).await;
        let inbox_uv = h.store.snapshot("bob", INBOX).unwrap().uidvalidity;
        assert_eq!(
            String::from_utf8(c.until_tagged("b2").await).unwrap(),
            format!(
                "* 3 EXISTS\r\n* 3 RECENT\r\nb2 OK [APPENDUID {inbox_uv} 3] APPEND completed\r\n"
            )
        );
        let snap = h.store.snapshot("bob", INBOX).unwrap();
        assert_eq!(snap.messages[2].data.as_slice(), msg.as_bytes());
        assert_eq!(snap.messages[2].received, 837_596_665);
        assert_eq!(
            c.cmd("b3 FETCH 3 (FLAGS INTERNALDATE)").await,
            "* 3 FETCH (FLAGS (\\Recent \\Seen) INTERNALDATE \"17-Jul-1996 09:44:25 +0000\")\r\nb3 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b4 APPEND Nowhere {1+}\r\nx").await,
            "b4 NO [TRYCREATE] no such mailbox\r\n"
        );
        // A "." or ".." level would send clients that mirror folders into
        // directories out of their own.
        assert_eq!(
            c.cmd("b5 CREATE ../../x").await,
            "b5 NO [CANNOT] bad mailbox name: \".\" and \"..\" are not allowed as hierarchy levels\r\n"
        );
        assert!(!h.store.folders("bob").iter().any(|f| f.contains("..")));
        assert_eq!(
            c.cmd("b6 RENAME Work/2026 Archive").await,
            "b6 OK RENAME completed\r\n"
        );
        assert_eq!(
            c.cmd("b7 DELETE Archive").await,
            "b7 OK DELETE completed\r\n"
        );
        assert_eq!(
            c.cmd("b8 DELETE Archive").await,
            "b8 NO [NONEXISTENT] no such mailbox\r\n"
        );
        assert_eq!(
            c.cmd("b9 DELETE INBOX").await,
            "b9 NO [INUSE] the mailbox is selected; CLOSE it first\r\n"
        );
        assert_eq!(c.cmd("c0 UNSELECT").await, "c0 OK UNSELECT completed\r\n");
        assert_eq!(
            c.cmd("c1 DELETE INBOX").await,
            "c1 NO [CANNOT] INBOX cannot be deleted or renamed\r\n"
        );
        assert_eq!(
            c.cmd("c2 CREATE \"bad\\\\//name\"").await,
            "c2 NO [CANNOT] bad mailbox name: empty hierarchy level\r\n"
        );
    }
}
