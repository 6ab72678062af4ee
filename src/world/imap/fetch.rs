//! FETCH and UID FETCH (RFC 3501 §6.4.5): the data items a client asks
//! for (FLAGS, UID, RFC822.SIZE, INTERNALDATE, ENVELOPE, BODY,
//! BODYSTRUCTURE, `BODY[section]<partial>` and the RFC822 forms), and the
//! `* n FETCH (...)` response that carries them (§7.4.2). Reading a body
//! without `.PEEK` sets `\Seen`.

use std::borrow::Cow;
use std::cell::OnceCell;

use super::super::store::StoredMessage;
use super::dates::internal_date;
use super::envelope::write_envelope;
use super::reply::{Reply, bad, no, ok, store_error};
use super::section::section_bytes;
use super::selection::{ViewMsg, find_uid};
use super::sequence::SeqSet;
use super::session::Session;
use super::structure::{mime_tree, write_structure};
use crate::mail::headers::header_end;
use crate::mail::tree::MimeTree;
use crate::proto::imap::section::{BodyItem, BodyKind, Section, SectionText};
use crate::proto::imap::syntax::{Tok, emit_literal};

impl Session {
    /// FETCH and UID FETCH (§6.4.5).
    pub(super) async fn cmd_fetch(&mut self, args: &[Tok], uid: bool) -> Reply {
        let [set, items] = args else {
            return bad("syntax: FETCH set items");
        };
        let Some(set) = set.atom().and_then(SeqSet::parse) else {
            return bad("invalid sequence set");
        };
        let mut items = match parse_fetch_items(items) {
            Ok(i) => i,
            Err(e) => return bad(e),
        };
        // §6.4.8: UID FETCH always reports the UID.
        if uid && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        let (targets, snap) = match self.targets(&set, uid) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let Some(sel) = &mut self.selected else {
            return bad("no mailbox selected");
        };
        // Reading a body without .PEEK sets \Seen (§6.4.5) — first, so the
        // FLAGS in the answer are the new ones.
        let sets_seen = !sel.read_only && items.iter().any(FetchItem::sets_seen);
        let mut changes = Vec::new();
        let mut changed = vec![false; targets.len()];
        if sets_seen {
            for (k, &i) in targets.iter().enumerate() {
                let v = &mut sel.view[i];
                if find_uid(&snap, v.uid).is_some() && v.flags.insert("\\Seen".to_string()) {
                    changes.push((v.uid, v.flags.clone()));
                    changed[k] = true;
                }
            }
        }
        let folder = sel.name.clone();
        if let Err(e) = self.save_flags(folder, changes).await {
            return store_error(&e);
        }
        let mut missing = false;
        for (k, &i) in targets.iter().enumerate() {
            let Some(sel) = &self.selected else { break };
            let v = &sel.view[i];
            let Some(msg) = find_uid(&snap, v.uid) else {
                // Expunged by another session since the client last heard.
                missing = true;
                continue;
            };
            let out = fetch_response(i as u32 + 1, v, msg, &items, changed[k]);
            self.conn.queue(&out);
            if out.len() > 64 * 1024 && self.conn.flush().await.is_err() {
                return Reply::Close;
            }
        }
        if missing {
            no("[EXPUNGEISSUED] some messages were expunged by another session")
        } else {
            ok("FETCH completed")
        }
    }
}

/// One data item of a FETCH (§6.4.5).
#[derive(Debug, Clone, PartialEq)]
enum FetchItem {
    Flags,
    Uid,
    Size,
    InternalDate,
    Envelope,
    /// BODY without a section: the structure without extension data.
    Body,
    BodyStructure,
    /// BODY[...], BODY.PEEK[...], RFC822, RFC822.HEADER, RFC822.TEXT.
    Section {
        /// The name in the answer, e.g. `BODY[HEADER]` or `RFC822.TEXT`.
        name: String,
        section: Section,
        /// `<start.count>`: only these bytes.
        partial: Option<(u64, u64)>,
        peek: bool,
    },
}

impl FetchItem {
    /// Does fetching this item set `\Seen`? Only a body section without
    /// `.PEEK` (RFC822 and RFC822.TEXT count as such).
    fn sets_seen(&self) -> bool {
        matches!(self, FetchItem::Section { peek: false, .. })
    }
}

/// The items argument of FETCH: one item, a macro (ALL, FAST, FULL), or a
/// parenthesized list of items.
fn parse_fetch_items(tok: &Tok) -> Result<Vec<FetchItem>, String> {
    use FetchItem::*;
    match tok {
        Tok::List(list) => list
            .iter()
            .map(|t| parse_fetch_item(t.atom().ok_or("invalid FETCH item")?))
            .collect(),
        Tok::Atom(a) => match a.to_ascii_uppercase().as_str() {
            // The macros of §6.4.5.
            "ALL" => Ok(vec![Flags, InternalDate, Size, Envelope]),
            "FAST" => Ok(vec![Flags, InternalDate, Size]),
            "FULL" => Ok(vec![Flags, InternalDate, Size, Envelope, Body]),
            _ => Ok(vec![parse_fetch_item(a)?]),
        },
        Tok::Str(_) => Err("invalid FETCH item".into()),
    }
}

/// One FETCH item by name, e.g. `FLAGS` or `BODY.PEEK[1.MIME]<0.100>`
/// (the content items are the shared grammar's [`BodyItem`]).
fn parse_fetch_item(text: &str) -> Result<FetchItem, String> {
    match text.to_ascii_uppercase().as_str() {
        "FLAGS" => return Ok(FetchItem::Flags),
        "UID" => return Ok(FetchItem::Uid),
        "RFC822.SIZE" => return Ok(FetchItem::Size),
        "INTERNALDATE" => return Ok(FetchItem::InternalDate),
        "ENVELOPE" => return Ok(FetchItem::Envelope),
        "BODY" => return Ok(FetchItem::Body),
        "BODYSTRUCTURE" => return Ok(FetchItem::BodyStructure),
        _ => {}
    }
    let bad = || format!("invalid FETCH item {text}");
    let item = BodyItem::parse(text).ok_or_else(bad)?;
    let section = Section::parse(&item.section).ok_or_else(bad)?;
    let (name, peek) = match item.kind {
        // The RFC 822 forms: RFC822 = BODY[], RFC822.HEADER =
        // BODY.PEEK[HEADER], RFC822.TEXT = BODY[TEXT].
        BodyKind::Rfc822 => ("RFC822".to_string(), false),
        BodyKind::Rfc822Header => ("RFC822.HEADER".to_string(), true),
        BodyKind::Rfc822Text => ("RFC822.TEXT".to_string(), false),
        BodyKind::Body { peek } => (format!("BODY[{}]", section.emit()), peek),
        // BINARY (RFC 3516) is not offered.
        BodyKind::Binary { .. } => return Err(bad()),
    };
    let partial = match (&item.partial, item.partial_range()) {
        (None, _) => None,
        // A command names the origin octet and how many (§6.4.5).
        (Some(_), Some((start, Some(count)))) => Some((start, count)),
        (Some(_), _) => return Err(bad()),
    };
    Ok(FetchItem::Section {
        name,
        section,
        partial,
        peek,
    })
}

/// One `* n FETCH (...)` line for a message.
fn fetch_response(
    seq: u32,
    v: &ViewMsg,
    msg: &StoredMessage,
    items: &[FetchItem],
    flags_changed: bool,
) -> Vec<u8> {
    let data = msg.data.as_slice();
    // The MIME tree is built only when an item needs it.
    let tree: OnceCell<MimeTree> = OnceCell::new();
    let tree = || tree.get_or_init(|| mime_tree(data));
    let mut out = format!("* {seq} FETCH (").into_bytes();
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(b' ');
        }
        match item {
            FetchItem::Flags => {
                out.extend_from_slice(format!("FLAGS ({})", v.flag_text()).as_bytes())
            }
            FetchItem::Uid => out.extend_from_slice(format!("UID {}", v.uid).as_bytes()),
            FetchItem::Size => {
                out.extend_from_slice(format!("RFC822.SIZE {}", data.len()).as_bytes())
            }
            FetchItem::InternalDate => out.extend_from_slice(
                format!("INTERNALDATE \"{}\"", internal_date(msg.received)).as_bytes(),
            ),
            FetchItem::Envelope => {
                out.extend_from_slice(b"ENVELOPE ");
                write_envelope(&mut out, &data[..header_end(data)]);
            }
            FetchItem::Body => {
                out.extend_from_slice(b"BODY ");
                write_structure(&mut out, data, tree(), false);
            }
            FetchItem::BodyStructure => {
                out.extend_from_slice(b"BODYSTRUCTURE ");
                write_structure(&mut out, data, tree(), true);
            }
            FetchItem::Section {
                name,
                section,
                partial,
                ..
            } => {
                out.extend_from_slice(name.as_bytes());
                let bytes = if section.path.is_empty() && section.text == SectionText::Full {
                    Some(Cow::Borrowed(data))
                } else {
                    section_bytes(data, tree(), section)
                };
                match (bytes, partial) {
                    (None, _) => out.extend_from_slice(b" NIL"),
                    (Some(b), None) => {
                        out.push(b' ');
                        emit_literal(&mut out, &b);
                    }
                    (Some(b), Some((start, count))) => {
                        // §6.4.5: the answer names only the origin octet.
                        out.extend_from_slice(format!("<{start}> ").as_bytes());
                        let from = (*start).min(b.len() as u64) as usize;
                        let to = start.saturating_add(*count).min(b.len() as u64) as usize;
                        emit_literal(&mut out, &b[from..to]);
                    }
                }
            }
        }
    }
    if flags_changed && !items.contains(&FetchItem::Flags) {
        out.extend_from_slice(format!(" FLAGS ({})", v.flag_text()).as_bytes());
    }
    out.extend_from_slice(b")\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[tokio::test]
    async fn fetch_items_and_sections() {
        let mut c = selected(host(true)).await;
        // The first SELECT to see the messages made them \Recent here.
        assert_eq!(
            c.cmd("a1 FETCH 1 (FLAGS UID RFC822.SIZE)").await,
            format!(
                "* 1 FETCH (FLAGS (\\Recent) UID 1 RFC822.SIZE {})\r\na1 OK FETCH completed\r\n",
                MSG1.len()
            )
        );
        // The whole message, byte for byte.
        let mut want = format!("* 2 FETCH (BODY[] {{{}}}\r\n", MSG2.len()).into_bytes();
        want.extend_from_slice(MSG2);
        want.extend_from_slice(b")\r\na2 OK FETCH completed\r\n");
        assert_eq!(c.cmd_bytes("a2 FETCH 2 BODY.PEEK[]").await, want);
        assert_eq!(
            c.cmd("a3 FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]").await,
            "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: Hello Bob\r\n\r\n)\r\n\
             a3 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("a4 FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID)]")
                .await,
            "* 1 FETCH (BODY[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID)] {22}\r\n\
             Subject: Hello Bob\r\n\r\n)\r\na4 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("a5 FETCH 1 BODY.PEEK[]<6.5>").await,
            "* 1 FETCH (BODY[]<6> {5}\r\nAlice)\r\na5 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("a6 FETCH 2 BODY.PEEK[2]").await,
            "* 2 FETCH (BODY[2] {20}\r\nJVBERi0xLjQKJcfsj6IK)\r\na6 OK FETCH completed\r\n"
        );
        let mime = "Content-Type: application/pdf; name=\"slides.pdf\"\r\n\
                    Content-Disposition: attachment; filename=\"slides.pdf\"\r\n\
                    Content-Transfer-Encoding: base64\r\n\r\n";
        assert_eq!(
            c.cmd("a7 FETCH 2 BODY.PEEK[2.MIME]").await,
            format!(
                "* 2 FETCH (BODY[2.MIME] {{{}}}\r\n{mime})\r\na7 OK FETCH completed\r\n",
                mime.len()
            )
        );
        assert_eq!(
            c.cmd("a8 FETCH 2 BODY.PEEK[1]").await,
            "* 2 FETCH (BODY[1] {24}\r\nThe slides are attached.)\r\na8 OK FETCH completed\r\n"
        );
        // A single-part message: part 1 is its body.
        assert_eq!(
            c.cmd("a9 FETCH 1 BODY.PEEK[1]").await,
            "* 1 FETCH (BODY[1] {34}\r\nHi Bob,\r\nsee you at the lecture.\r\n)\r\na9 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b1 FETCH 2 BODY.PEEK[3]").await,
            "* 2 FETCH (BODY[3] NIL)\r\nb1 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b2 FETCH 1 (INTERNALDATE ENVELOPE)").await,
            "* 1 FETCH (INTERNALDATE \" 1-Dec-2025 10:00:00 +0000\" ENVELOPE (\
             \"Mon, 1 Dec 2025 10:00:00 +0000\" \"Hello Bob\" ((\"Alice\" NIL \"alice\" \"crepes.fr\")) \
             ((\"Alice\" NIL \"alice\" \"crepes.fr\")) ((\"Alice\" NIL \"alice\" \"crepes.fr\")) \
             ((\"Bob\" NIL \"bob\" \"hamburger.edu\")) NIL NIL NIL \"<1@crepes.fr>\"))\r\n\
             b2 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b3 FETCH 2 BODYSTRUCTURE").await,
            "* 2 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 24 0 NIL NIL NIL)\
             (\"APPLICATION\" \"PDF\" (\"name\" \"slides.pdf\") NIL NIL \"BASE64\" 20 NIL \
             (\"attachment\" (\"filename\" \"slides.pdf\")) NIL) \"MIXED\" (\"boundary\" \"XYZ\") NIL NIL))\r\n\
             b3 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b4 FETCH 1 BODY").await,
            "* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 34 2))\r\n\
             b4 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b5 FETCH 1 FAST").await,
            format!(
                "* 1 FETCH (FLAGS (\\Recent) INTERNALDATE \" 1-Dec-2025 10:00:00 +0000\" RFC822.SIZE {})\r\n\
                 b5 OK FETCH completed\r\n",
                MSG1.len()
            )
        );
        // Without .PEEK the message becomes \Seen, and says so.
        assert_eq!(
            c.cmd("b6 FETCH 1 BODY[TEXT]<0.6>").await,
            "* 1 FETCH (BODY[TEXT]<0> {6}\r\nHi Bob FLAGS (\\Recent \\Seen))\r\nb6 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b7 FETCH 1:* FLAGS").await,
            "* 1 FETCH (FLAGS (\\Recent \\Seen))\r\n* 2 FETCH (FLAGS (\\Recent))\r\nb7 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("b8 FETCH 3 FLAGS").await,
            "b8 BAD invalid message sequence number\r\n"
        );
        assert_eq!(
            c.cmd("b9 FETCH 1 (FLAGS BOGUS)").await,
            "b9 BAD invalid FETCH item BOGUS\r\n"
        );
        assert_eq!(
            c.cmd("c1 UID FETCH 2 (FLAGS)").await,
            "* 2 FETCH (UID 2 FLAGS (\\Recent))\r\nc1 OK FETCH completed\r\n"
        );
        assert_eq!(
            c.cmd("c2 UID FETCH 5:* FLAGS").await,
            "* 2 FETCH (UID 2 FLAGS (\\Recent))\r\nc2 OK FETCH completed\r\n",
            "n:* includes the last message even when n is larger (§6.4.8)"
        );
        assert_eq!(
            c.cmd("c3 UID FETCH 7 FLAGS").await,
            "c3 OK FETCH completed\r\n"
        );
        let r = c.cmd("c4 FETCH 2 RFC822.HEADER").await;
        assert!(r.starts_with("* 2 FETCH (RFC822.HEADER {"), "{r}");
        assert!(!r.contains("\\Seen"), "{r}");
    }
}
