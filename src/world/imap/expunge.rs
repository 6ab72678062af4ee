//! EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (UIDPLUS, RFC 4315 §2.1):
//! removing the messages flagged `\Deleted`, and the `* n EXPUNGE`
//! responses whose numbering shifts after each removal (§7.4.1). CLOSE
//! uses the same removal without the responses.

use super::super::store::StoreError;
use super::reply::{Reply, bad, no, ok, store_error};
use super::selection::find_uid;
use super::sequence::SeqSet;
use super::session::Session;
use crate::proto::imap::syntax::Tok;

impl Session {
    /// EXPUNGE (§6.4.3) and UID EXPUNGE set (RFC 4315 §2.1).
    pub(super) async fn cmd_expunge(&mut self, args: &[Tok], uid: bool) -> Reply {
        let set = match (uid, args) {
            (false, []) => None,
            (true, [set]) => match set.atom().and_then(SeqSet::parse) {
                Some(s) => Some(s),
                None => return bad("invalid UID set"),
            },
            _ => return bad("syntax: EXPUNGE or UID EXPUNGE set"),
        };
        if self.selected.as_ref().is_some_and(|s| s.read_only) {
            return no("[READ-ONLY] mailbox is read-only");
        }
        match self.expunge(set.as_ref(), true).await {
            Ok(()) => ok("EXPUNGE completed"),
            Err(e) => store_error(&e),
        }
    }

    /// Remove the messages flagged \Deleted (limited to `uids` if given);
    /// `report`: send `* n EXPUNGE` for each. Each number is the message's
    /// number *after* the previous removals (RFC 3501 §7.4.1), so deleting
    /// messages 1 and 2 gives `* 1 EXPUNGE` twice.
    pub(super) async fn expunge(
        &mut self,
        uids: Option<&SeqSet>,
        report: bool,
    ) -> Result<(), StoreError> {
        let snap = self.selected_snapshot()?;
        let Some(sel) = &self.selected else {
            return Ok(());
        };
        let max_uid = sel.last_uid();
        // Only messages the client knows about; the flags are the store's,
        // which are the newest.
        let doomed: Vec<u32> = sel
            .view
            .iter()
            .filter(|v| uids.is_none_or(|set| set.contains(v.uid, max_uid)))
            .filter(|v| find_uid(&snap, v.uid).is_some_and(|m| m.flags.contains("\\Deleted")))
            .map(|v| v.uid)
            .collect();
        if doomed.is_empty() {
            return Ok(());
        }
        let (user, name, list) = (self.user(), sel.name.clone(), doomed.clone());
        self.store_op(move |s| s.remove(&user, &name, &list))
            .await?;
        let Some(sel) = &mut self.selected else {
            return Ok(());
        };
        for uid in doomed {
            if let Ok(i) = sel.view.binary_search_by_key(&uid, |v| v.uid) {
                sel.view.remove(i);
                if report {
                    self.conn.queue_line(&format!("* {} EXPUNGE", i + 1));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::world::store::INBOX;

    #[tokio::test]
    async fn uid_expunge_and_close() {
        let h = host(true);
        let mut c = selected(h.clone()).await;
        c.cmd("a1 STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
        assert_eq!(
            c.cmd("a2 UID EXPUNGE 2").await,
            "* 2 EXPUNGE\r\na2 OK EXPUNGE completed\r\n"
        );
        assert_eq!(c.cmd("a3 CLOSE").await, "a3 OK CLOSE completed\r\n");
        assert!(h.store.snapshot("bob", INBOX).unwrap().messages.is_empty());
        assert_eq!(c.cmd("a4 UNSELECT").await, "a4 BAD no mailbox selected\r\n");
    }
}
