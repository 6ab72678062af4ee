//! The mail store: mailboxes with folders, and the outgoing queue.
//!
//! On disk it works like Maildir (<https://cr.yp.to/proto/maildir.html>): a
//! new message is written to `tmp/`, flushed to the disk with `fsync`, and
//! only then renamed into `cur/`. A rename within one file system is atomic,
//! so after a crash a message is either completely there or not at all, and
//! a server that answered `250 OK` after [`Store::deliver`] returned has kept
//! its promise (RFC 5321 §4.1.1.4: the server takes responsibility for the
//! message when it sends the 250 reply to the final dot).
//!
//! ```text
//! ROOT/mail/bob/INBOX/cur/1.eml        message with UID 1
//! ROOT/mail/bob/INBOX/state.json       UIDVALIDITY, UIDNEXT, flags, dates
//! ROOT/queue/17.eml + 17.json          a message waiting for relay
//! ROOT/journal/812-3.json              a delivery being published
//! ```
//!
//! A message for several recipients is delivered to all of them or to
//! none ([`Store::deliver_all`]): its copies are staged in `tmp/`, one
//! journal lists the renames that publish them (the commit point), and a
//! restart finishes a journal a crash left behind.
//!
//! IMAP needs UIDs that never change and are never reused while the
//! folder's UIDVALIDITY stays the same (RFC 3501 §2.3.1.1). The UID is part
//! of the file name, and `state.json` remembers the next one; after a crash
//! between the rename and the state update, the next UID is recovered as
//! one more than the largest file name.
//!
//! Without a root directory the store lives in memory only (tests and the
//! quick demo). Folder and user names from the network are never used as
//! paths directly: every byte outside `[A-Za-z0-9_-]` is percent-encoded,
//! so `../../etc` becomes the harmless directory name `%2E%2E%2F%2E%2E%2Fetc`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::durable::{remove_leftovers, sync_dir, write_durably, write_message, write_synced};

/// The folder every user has; its name is case-insensitive (RFC 3501 §5.1).
pub const INBOX: &str = "INBOX";

/// What can go wrong with a store operation the network asked for.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such user")]
    NoUser,
    #[error("no such folder")]
    NoFolder,
    #[error("folder already exists")]
    Exists,
    #[error("bad folder name: {0}")]
    BadName(&'static str),
    #[error("INBOX cannot be deleted or renamed here")]
    Inbox,
    #[error("storage failed: {0}")]
    Io(#[from] io::Error),
}

/// One stored message.
#[derive(Clone, Debug)]
pub struct StoredMessage {
    pub uid: u32,
    pub flags: BTreeSet<String>,
    /// When the message arrived (IMAP INTERNALDATE), Unix seconds.
    pub received: i64,
    pub data: Arc<Vec<u8>>,
}

/// A folder's state at one moment.
#[derive(Clone, Debug)]
pub struct FolderSnapshot {
    pub uidvalidity: u32,
    pub uidnext: u32,
    /// Messages with a UID above this are `\Recent`: no session has
    /// claimed them yet (RFC 3501 §2.3.2).
    pub recent_mark: u32,
    pub messages: Vec<StoredMessage>,
}

#[derive(Debug)]
struct Folder {
    uidvalidity: u32,
    uidnext: u32,
    /// The highest UID a read-write SELECT has claimed as `\Recent`
    /// (RFC 3501 §2.3.2: only the first session to see a message is told
    /// it is recent). Kept in `state.json`, so a restart does not make
    /// old mail recent again.
    recent_mark: u32,
    messages: BTreeMap<u32, StoredMessage>,
    /// UIDs handed out to deliveries still writing their file. Messages
    /// above the lowest of them stay hidden until it is done, so readers
    /// never see UID 7 before UID 6 (RFC 3501 §2.3.1.1: UIDs ascend in the
    /// order messages appear).
    pending: BTreeSet<u32>,
}

/// What `state.json` holds for a folder.
#[derive(Serialize, Deserialize, Default)]
struct FolderState {
    uidvalidity: u32,
    uidnext: u32,
    #[serde(default)]
    flags: BTreeMap<u32, Vec<String>>,
    #[serde(default)]
    received: BTreeMap<u32, i64>,
    /// Absent in stores written before `\Recent` was tracked: every
    /// message there is recent once, which RFC 3501 §2.3.2 allows.
    #[serde(default)]
    recent_mark: u32,
}

/// A message in the outgoing queue and its envelope (RFC 5321 §2.3.1).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Queued {
    pub id: u64,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub attempts: u32,
    /// Unix seconds of the next try.
    pub next_attempt: i64,
    /// Why the last try failed (shown by `demo`, kept with the envelope).
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(skip)]
    pub data: Arc<Vec<u8>>,
}

#[derive(Default)]
struct State {
    users: BTreeMap<String, BTreeMap<String, Folder>>,
    queue: BTreeMap<u64, Queued>,
    next_queue_id: u64,
}

impl State {
    /// A user's folder (its name already checked by `folder_name`).
    fn folder(&self, user: &str, folder: &str) -> Result<&Folder, StoreError> {
        self.users
            .get(user)
            .ok_or(StoreError::NoUser)?
            .get(folder)
            .ok_or(StoreError::NoFolder)
    }

    fn folder_mut(&mut self, user: &str, folder: &str) -> Result<&mut Folder, StoreError> {
        self.users
            .get_mut(user)
            .ok_or(StoreError::NoUser)?
            .get_mut(folder)
            .ok_or(StoreError::NoFolder)
    }
}

/// The store; share it with `Arc`.
pub struct Store {
    root: Option<PathBuf>,
    state: Mutex<State>,
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Percent-encode a name from the network into one safe path component.
pub fn safe_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode_component(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Normalize and check a folder name: INBOX in any case is INBOX.
pub fn folder_name(name: &str) -> Result<String, StoreError> {
    if name.eq_ignore_ascii_case(INBOX) {
        return Ok(INBOX.to_string());
    }
    if name.is_empty() {
        return Err(StoreError::BadName("empty"));
    }
    if name.len() > 200 {
        return Err(StoreError::BadName("longer than 200 bytes"));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(StoreError::BadName("control characters"));
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Err(StoreError::BadName("empty hierarchy level"));
    }
    Ok(name.to_string())
}

/// Check the name of a folder about to be made (CREATE, the new name of
/// RENAME): [`folder_name`]'s rules, and no hierarchy level may be `.` or
/// `..`. The store would keep such a name safely (it is percent-encoded),
/// but the clients that mirror folders into directories would not:
/// mbsync stops the whole account at a `..` level and offlineimap writes
/// above its own folder. RFC 3501 §5.1 leaves the names a server accepts
/// to the server.
pub fn new_folder_name(name: &str) -> Result<String, StoreError> {
    let name = folder_name(name)?;
    if name.split('/').any(|level| level == "." || level == "..") {
        return Err(StoreError::BadName(
            "\".\" and \"..\" are not allowed as hierarchy levels",
        ));
    }
    Ok(name)
}

/// A delivery reserved and named, not yet published (see
/// [`Store::deliver_all`]).
struct Staged {
    /// Each recipient's user and the UID reserved in their INBOX.
    copies: Vec<(String, u32)>,
    /// The outgoing queue's entry, its id reserved.
    queued: Option<Queued>,
    /// Temporary file and final name of each file, relative to the root:
    /// the copies in `copies` order, then the queued message and its
    /// envelope.
    renames: Vec<(PathBuf, PathBuf)>,
}

/// Does the renames a journal lists (those not done yet), flushes the
/// directories, and removes the journal.
fn finish_journal(root: &Path, journal: &Path, renames: &[(String, String)]) -> io::Result<()> {
    let mut dirs = BTreeSet::new();
    for (from, to) in renames {
        let (from, to) = (root.join(from), root.join(to));
        if from.exists() {
            fs::rename(&from, &to)?;
        }
        if let Some(dir) = to.parent() {
            dirs.insert(dir.to_path_buf());
        }
    }
    for dir in dirs {
        sync_dir(&dir)?;
    }
    fs::remove_file(journal)?;
    sync_dir(journal.parent().unwrap_or(root))
}

/// At start: the deliveries a crash interrupted after their commit point
/// are finished. A journal names only files of the store (relative paths
/// without `..`); one that does not is left alone.
fn replay_journals(root: &Path) -> io::Result<()> {
    let dir = root.join("journal");
    // A journal not renamed into place was never committed.
    remove_leftovers(&dir, |name| name.starts_with('.') && name.ends_with(".tmp"))?;
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Ok(renames) = serde_json::from_slice::<Vec<(String, String)>>(&fs::read(&path)?) else {
            continue;
        };
        let inside = |p: &String| {
            Path::new(p)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        };
        if renames.iter().all(|(a, b)| inside(a) && inside(b)) {
            finish_journal(root, &path, &renames)?;
        }
    }
    Ok(())
}

impl Store {
    /// A store kept in memory only.
    pub fn in_memory() -> Arc<Store> {
        Arc::new(Store {
            root: None,
            state: Mutex::new(State::default()),
        })
    }

    /// Open (or create) a store under `root`, loading what an earlier run
    /// left there.
    pub fn open(root: &Path) -> io::Result<Arc<Store>> {
        fs::create_dir_all(root.join("mail"))?;
        fs::create_dir_all(root.join("queue"))?;
        fs::create_dir_all(root.join("journal"))?;
        // First finish the deliveries a crash interrupted after their
        // commit point; what was staged without one is removed below.
        replay_journals(root)?;
        let mut state = State::default();
        for user_dir in fs::read_dir(root.join("mail"))? {
            let user_dir = user_dir?;
            let Some(user) = user_dir.file_name().to_str().and_then(decode_component) else {
                continue;
            };
            let folders = state.users.entry(user).or_default();
            for folder_dir in fs::read_dir(user_dir.path())? {
                let folder_dir = folder_dir?;
                let Some(name) = folder_dir.file_name().to_str().and_then(decode_component) else {
                    continue;
                };
                folders.insert(name, load_folder(&folder_dir.path())?);
            }
        }
        remove_leftovers(&root.join("queue"), |name| {
            name.starts_with('.') && name.ends_with(".tmp")
        })?;
        for entry in fs::read_dir(root.join("queue"))? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            // The envelope is written after the message, so an envelope
            // means the message is complete.
            let Ok(text) = fs::read(&path) else { continue };
            let Ok(mut q) = serde_json::from_slice::<Queued>(&text) else {
                continue;
            };
            let Ok(data) = fs::read(path.with_extension("eml")) else {
                continue;
            };
            q.data = Arc::new(data);
            state.next_queue_id = state.next_queue_id.max(q.id + 1);
            state.queue.insert(q.id, q);
        }
        Ok(Arc::new(Store {
            root: Some(root.to_path_buf()),
            state: Mutex::new(state),
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn folder_dir(&self, user: &str, folder: &str) -> Option<PathBuf> {
        self.root.as_ref().map(|r| {
            r.join("mail")
                .join(safe_component(user))
                .join(safe_component(folder))
        })
    }

    fn save_state(&self, user: &str, name: &str, folder: &Folder) -> io::Result<()> {
        let Some(dir) = self.folder_dir(user, name) else {
            return Ok(());
        };
        let state = FolderState {
            uidvalidity: folder.uidvalidity,
            uidnext: folder.uidnext,
            recent_mark: folder.recent_mark,
            flags: folder
                .messages
                .values()
                .filter(|m| !m.flags.is_empty())
                .map(|m| (m.uid, m.flags.iter().cloned().collect()))
                .collect(),
            received: folder
                .messages
                .values()
                .map(|m| (m.uid, m.received))
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&state).map_err(io::Error::other)?;
        write_durably(&dir.join("state.json"), &json)
    }

    fn make_folder(&self, user: &str, name: &str) -> io::Result<Folder> {
        let folder = Folder {
            // A new UIDVALIDITY for each new folder: the time, as Dovecot
            // and Cyrus do, so a re-created folder never reuses old UIDs.
            uidvalidity: (unix_now() as u32).max(1),
            uidnext: 1,
            recent_mark: 0,
            messages: BTreeMap::new(),
            pending: BTreeSet::new(),
        };
        if let Some(dir) = self.folder_dir(user, name) {
            fs::create_dir_all(dir.join("tmp"))?;
            fs::create_dir_all(dir.join("cur"))?;
            self.save_state(user, name, &folder)?;
        }
        Ok(folder)
    }

    /// Make sure `user` exists with an INBOX.
    pub fn ensure_user(&self, user: &str) -> io::Result<()> {
        let mut st = self.lock();
        if st.users.get(user).is_some_and(|f| f.contains_key(INBOX)) {
            return Ok(());
        }
        let inbox = self.make_folder(user, INBOX)?;
        st.users
            .entry(user.to_string())
            .or_default()
            .insert(INBOX.to_string(), inbox);
        Ok(())
    }

    /// Store a message in a folder; returns its UID. Durable on return.
    ///
    /// Three steps, so that the slow part (writing and fsync) runs without
    /// the store's lock and deliveries to different mailboxes (or the same
    /// one) proceed in parallel: reserve a UID, write the file, publish it.
    /// `state.json` is not rewritten: the UID is in the file name.
    pub fn deliver(
        &self,
        user: &str,
        folder: &str,
        data: &[u8],
        flags: &BTreeSet<String>,
        received: i64,
    ) -> Result<u32, StoreError> {
        let folder = folder_name(folder)?;
        let uid = {
            let mut st = self.lock();
            let f = st.folder_mut(user, &folder)?;
            let uid = f.uidnext;
            f.uidnext += 1;
            f.pending.insert(uid);
            uid
        };
        let written = match self.folder_dir(user, &folder) {
            Some(dir) => write_message(&dir, uid, data),
            None => Ok(()),
        };
        let mut st = self.lock();
        let f = st
            .users
            .get_mut(user)
            .and_then(|u| u.get_mut(&folder))
            .ok_or(StoreError::NoFolder)?;
        f.pending.remove(&uid);
        written?;
        f.messages.insert(
            uid,
            StoredMessage {
                uid,
                flags: flags.clone(),
                received,
                data: Arc::new(data.to_vec()),
            },
        );
        if !flags.is_empty() {
            let f = &st.users[user][&folder];
            self.save_state(user, &folder, f)?;
        }
        Ok(uid)
    }

    /// Delivers one message to several INBOXes and, for the recipients
    /// elsewhere, to the outgoing queue, all or nothing: after a crash
    /// every copy is there or none is, so the retry of a client that got
    /// no 250 duplicates nothing (RFC 5321 §4.1.1.4: the 250 takes
    /// responsibility for the message, for all its recipients at once).
    /// Returns the UIDs, in the order of `users`.
    ///
    /// Every copy is written to a temporary file first (fsync); then one
    /// journal file listing the renames that publish them is written
    /// durably: that is the commit point. The renames follow and the
    /// journal goes. A restart finishes a journal it finds
    /// (`replay_journals`) and removes staged files without one. A rename
    /// failing after the commit point is finished by the next start.
    pub fn deliver_all(
        &self,
        users: &[String],
        data: &[u8],
        queue: Option<(&str, Vec<String>, &[u8])>,
        received: i64,
    ) -> Result<Vec<u32>, StoreError> {
        let staged = self.stage(users, queue)?;
        let written = match self.write_staged(&staged, data) {
            Ok(()) => self.commit(&staged),
            Err(e) => Err(e),
        };
        let uids = staged.copies.iter().map(|(_, uid)| *uid).collect();
        self.publish(staged, written.is_ok(), data, received);
        written?;
        Ok(uids)
    }

    /// Reserves a UID in each user's INBOX and a queue id, and names the
    /// files they will be written to.
    fn stage(
        &self,
        users: &[String],
        queue: Option<(&str, Vec<String>, &[u8])>,
    ) -> Result<Staged, StoreError> {
        let mut st = self.lock();
        for user in users {
            let inbox = st.users.get(user).ok_or(StoreError::NoUser)?;
            inbox.get(INBOX).ok_or(StoreError::NoFolder)?;
        }
        let mut copies = Vec::with_capacity(users.len());
        for user in users {
            if let Some(f) = st.users.get_mut(user).and_then(|f| f.get_mut(INBOX)) {
                let uid = f.uidnext;
                f.uidnext += 1;
                f.pending.insert(uid);
                copies.push((user.clone(), uid));
            }
        }
        let queued = queue.map(|(mail_from, rcpt_to, data)| {
            let id = st.next_queue_id.max(1);
            st.next_queue_id = id + 1;
            Queued {
                id,
                mail_from: mail_from.to_string(),
                rcpt_to,
                attempts: 0,
                next_attempt: 0,
                last_error: None,
                data: Arc::new(data.to_vec()),
            }
        });
        drop(st);
        let pid = std::process::id();
        let mut renames = Vec::new();
        for (user, uid) in &copies {
            let dir = Path::new("mail").join(safe_component(user)).join(INBOX);
            renames.push((
                dir.join("tmp").join(format!("{uid}.{pid}.part")),
                dir.join("cur").join(format!("{uid}.eml")),
            ));
        }
        if let Some(q) = &queued {
            // The envelope is renamed last: without it the message is
            // ignored (see `open`).
            for ext in ["eml", "json"] {
                renames.push((
                    Path::new("queue").join(format!(".{}.{ext}.tmp", q.id)),
                    Path::new("queue").join(format!("{}.{ext}", q.id)),
                ));
            }
        }
        Ok(Staged {
            copies,
            queued,
            renames,
        })
    }

    /// Writes every staged file, flushed to the disk; on failure removes
    /// what was written (nothing was committed).
    fn write_staged(&self, staged: &Staged, data: &[u8]) -> io::Result<()> {
        let Some(root) = &self.root else {
            return Ok(());
        };
        let written = (|| {
            let mut files = staged.renames.iter().map(|(tmp, _)| root.join(tmp));
            for _ in &staged.copies {
                write_synced(&files.next().unwrap_or_default(), data)?;
            }
            if let Some(q) = &staged.queued {
                write_synced(&files.next().unwrap_or_default(), &q.data)?;
                let json = serde_json::to_vec_pretty(q).map_err(io::Error::other)?;
                write_synced(&files.next().unwrap_or_default(), &json)?;
            }
            Ok(())
        })();
        if written.is_err() {
            for (tmp, _) in &staged.renames {
                let _ = fs::remove_file(root.join(tmp));
            }
        }
        written
    }

    /// The commit point (the journal), then the renames.
    fn commit(&self, staged: &Staged) -> io::Result<()> {
        match self.write_journal(staged)? {
            Some((journal, renames)) => finish_journal(self.root_dir(), &journal, &renames),
            None => Ok(()),
        }
    }

    /// The root directory (an in-memory store has none: empty).
    fn root_dir(&self) -> &Path {
        self.root.as_deref().unwrap_or(Path::new(""))
    }

    /// Writes the journal of a staged delivery durably: from then on the
    /// delivery happens, even across a crash. Returns its path and its
    /// renames (none for an in-memory store). If it cannot be written,
    /// the staged files are removed.
    #[allow(clippy::type_complexity)]
    fn write_journal(
        &self,
        staged: &Staged,
    ) -> io::Result<Option<(PathBuf, Vec<(String, String)>)>> {
        let Some(root) = &self.root else {
            return Ok(None);
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "{}-{}.json",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let journal = root.join("journal").join(name);
        let renames: Vec<(String, String)> = staged
            .renames
            .iter()
            .map(|(a, b)| {
                (
                    a.to_string_lossy().into_owned(),
                    b.to_string_lossy().into_owned(),
                )
            })
            .collect();
        let json = serde_json::to_vec(&renames).map_err(io::Error::other)?;
        if let Err(e) = write_durably(&journal, &json) {
            for (tmp, _) in &staged.renames {
                let _ = fs::remove_file(root.join(tmp));
            }
            return Err(e);
        }
        Ok(Some((journal, renames)))
    }

    /// The staged delivery becomes visible (`written`) or is given up:
    /// either way its UIDs are no longer pending.
    fn publish(&self, staged: Staged, written: bool, data: &[u8], received: i64) {
        let data = Arc::new(data.to_vec());
        let mut st = self.lock();
        for (user, uid) in staged.copies {
            let Some(f) = st.users.get_mut(&user).and_then(|f| f.get_mut(INBOX)) else {
                continue;
            };
            f.pending.remove(&uid);
            if written {
                f.messages.insert(
                    uid,
                    StoredMessage {
                        uid,
                        flags: BTreeSet::new(),
                        received,
                        data: data.clone(),
                    },
                );
            }
        }
        if let Some(q) = staged.queued.filter(|_| written) {
            st.queue.insert(q.id, q);
        }
    }

    /// Does the user exist?
    pub fn has_user(&self, user: &str) -> bool {
        self.lock().users.contains_key(user)
    }

    /// The user's folder names, sorted, INBOX first.
    pub fn folders(&self, user: &str) -> Vec<String> {
        let st = self.lock();
        let mut names: Vec<String> = st
            .users
            .get(user)
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default();
        names.sort_by_key(|n| (n != INBOX, n.clone()));
        names
    }

    pub fn create_folder(&self, user: &str, name: &str) -> Result<(), StoreError> {
        let name = new_folder_name(name)?;
        let mut st = self.lock();
        let folders = st.users.get_mut(user).ok_or(StoreError::NoUser)?;
        if folders.contains_key(&name) {
            return Err(StoreError::Exists);
        }
        let f = self.make_folder(user, &name)?;
        folders.insert(name, f);
        Ok(())
    }

    pub fn delete_folder(&self, user: &str, name: &str) -> Result<(), StoreError> {
        let name = folder_name(name)?;
        if name == INBOX {
            return Err(StoreError::Inbox);
        }
        let mut st = self.lock();
        let folders = st.users.get_mut(user).ok_or(StoreError::NoUser)?;
        folders.remove(&name).ok_or(StoreError::NoFolder)?;
        if let Some(dir) = self.folder_dir(user, &name) {
            fs::remove_dir_all(dir)?;
        }
        Ok(())
    }

    /// Rename a folder and every folder below it (RFC 3501 §6.3.5:
    /// renaming "Work" also renames "Work/2026").
    pub fn rename_folder(&self, user: &str, from: &str, to: &str) -> Result<(), StoreError> {
        let (from, to) = (folder_name(from)?, new_folder_name(to)?);
        if from == INBOX || to == INBOX {
            return Err(StoreError::Inbox);
        }
        let mut st = self.lock();
        let folders = st.users.get_mut(user).ok_or(StoreError::NoUser)?;
        if folders.contains_key(&to) {
            return Err(StoreError::Exists);
        }
        if !folders.contains_key(&from) {
            return Err(StoreError::NoFolder);
        }
        let prefix = format!("{from}/");
        let moves: Vec<(String, String)> = folders
            .keys()
            .filter(|k| **k == from || k.starts_with(&prefix))
            .map(|k| (k.clone(), format!("{to}{}", &k[from.len()..])))
            .collect();
        if moves.iter().any(|(_, new)| folders.contains_key(new)) {
            return Err(StoreError::Exists);
        }
        for (old, new) in moves {
            if let (Some(a), Some(b)) = (self.folder_dir(user, &old), self.folder_dir(user, &new)) {
                fs::rename(a, b)?;
            }
            if let Some(f) = folders.remove(&old) {
                folders.insert(new, f);
            }
        }
        Ok(())
    }

    /// The folder as it is now.
    pub fn snapshot(&self, user: &str, folder: &str) -> Result<FolderSnapshot, StoreError> {
        let folder = folder_name(folder)?;
        let st = self.lock();
        let f = st.folder(user, &folder)?;
        let visible_below = f.pending.first().copied().unwrap_or(u32::MAX);
        Ok(FolderSnapshot {
            uidvalidity: f.uidvalidity,
            uidnext: f.uidnext,
            recent_mark: f.recent_mark,
            messages: f
                .messages
                .range(..visible_below)
                .map(|(_, m)| m.clone())
                .collect(),
        })
    }

    /// Claim the messages up to UID `up_to` as `\Recent` for one session
    /// (RFC 3501 §2.3.2) and return the mark before: the caller's messages
    /// above it are recent in that session and in no other. Under the
    /// store's lock, so two sessions never both get the same message.
    pub fn claim_recent(&self, user: &str, folder: &str, up_to: u32) -> Result<u32, StoreError> {
        let folder = folder_name(folder)?;
        let mut st = self.lock();
        let f = st.folder_mut(user, &folder)?;
        let before = f.recent_mark;
        if up_to > before {
            f.recent_mark = up_to;
            let f = &st.users[user][&folder];
            self.save_state(user, &folder, f)?;
        }
        Ok(before)
    }

    /// Replace the flags of the messages with these UIDs.
    pub fn set_flags(
        &self,
        user: &str,
        folder: &str,
        changes: &[(u32, BTreeSet<String>)],
    ) -> Result<(), StoreError> {
        let folder = folder_name(folder)?;
        let mut st = self.lock();
        let f = st.folder_mut(user, &folder)?;
        for (uid, flags) in changes {
            if let Some(m) = f.messages.get_mut(uid) {
                m.flags = flags.clone();
            }
        }
        let f = &st.users[user][&folder];
        self.save_state(user, &folder, f)?;
        Ok(())
    }

    /// Remove messages for good (IMAP EXPUNGE, POP3 UPDATE state).
    pub fn remove(&self, user: &str, folder: &str, uids: &[u32]) -> Result<(), StoreError> {
        let folder = folder_name(folder)?;
        let mut st = self.lock();
        let f = st.folder_mut(user, &folder)?;
        for uid in uids {
            if f.messages.remove(uid).is_some()
                && let Some(dir) = self.folder_dir(user, &folder)
            {
                fs::remove_file(dir.join("cur").join(format!("{uid}.eml")))?;
            }
        }
        let f = &st.users[user][&folder];
        self.save_state(user, &folder, f)?;
        Ok(())
    }

    /// Put a message in the outgoing queue; durable on return.
    pub fn enqueue(&self, mail_from: &str, rcpt_to: Vec<String>, data: &[u8]) -> io::Result<u64> {
        let mut st = self.lock();
        let id = st.next_queue_id.max(1);
        st.next_queue_id = id + 1;
        let q = Queued {
            id,
            mail_from: mail_from.to_string(),
            rcpt_to,
            attempts: 0,
            next_attempt: 0,
            last_error: None,
            data: Arc::new(data.to_vec()),
        };
        self.save_queued(&q, true)?;
        st.queue.insert(id, q);
        Ok(id)
    }

    fn save_queued(&self, q: &Queued, with_message: bool) -> io::Result<()> {
        if let Some(root) = &self.root {
            let dir = root.join("queue");
            if with_message {
                write_durably(&dir.join(format!("{}.eml", q.id)), &q.data)?;
            }
            let json = serde_json::to_vec_pretty(q).map_err(io::Error::other)?;
            write_durably(&dir.join(format!("{}.json", q.id)), &json)?;
        }
        Ok(())
    }

    /// Messages in the queue, oldest first.
    pub fn queued(&self) -> Vec<Queued> {
        self.lock().queue.values().cloned().collect()
    }

    /// Remember a failed attempt and when to try again.
    pub fn reschedule(
        &self,
        id: u64,
        rcpt_to: Vec<String>,
        next_attempt: i64,
        why: String,
    ) -> io::Result<()> {
        let mut st = self.lock();
        let Some(q) = st.queue.get_mut(&id) else {
            return Ok(());
        };
        q.attempts += 1;
        q.rcpt_to = rcpt_to;
        q.next_attempt = next_attempt;
        q.last_error = Some(why);
        let q = q.clone();
        self.save_queued(&q, false)
    }

    /// The message left the queue (delivered or bounced).
    pub fn dequeue(&self, id: u64) -> io::Result<()> {
        let mut st = self.lock();
        st.queue.remove(&id);
        if let Some(root) = &self.root {
            let dir = root.join("queue");
            // The envelope goes first: without it the message is ignored.
            let _ = fs::remove_file(dir.join(format!("{id}.json")));
            let _ = fs::remove_file(dir.join(format!("{id}.eml")));
        }
        Ok(())
    }
}

fn load_folder(dir: &Path) -> io::Result<Folder> {
    let state: FolderState = fs::read(dir.join("state.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut messages = BTreeMap::new();
    let mut max_uid = 0;
    if let Ok(entries) = fs::read_dir(dir.join("cur")) {
        for entry in entries {
            let path = entry?.path();
            let Some(uid) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let data = fs::read(&path)?;
            max_uid = max_uid.max(uid);
            messages.insert(
                uid,
                StoredMessage {
                    uid,
                    flags: state
                        .flags
                        .get(&uid)
                        .map(|f| f.iter().cloned().collect())
                        .unwrap_or_default(),
                    received: state.received.get(&uid).copied().unwrap_or_else(|| {
                        fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .ok()
                            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                            .map_or_else(unix_now, |d| d.as_secs() as i64)
                    }),
                    data: Arc::new(data),
                },
            );
        }
    }
    fs::create_dir_all(dir.join("tmp"))?;
    fs::create_dir_all(dir.join("cur"))?;
    // What a crash (kill -9, power loss) left half-written: a message that
    // never reached `cur/` was never acknowledged, and a state file that
    // was not renamed into place was never in force.
    remove_leftovers(&dir.join("tmp"), |name| name.ends_with(".part"))?;
    remove_leftovers(dir, |name| name.starts_with('.') && name.ends_with(".tmp"))?;
    Ok(Folder {
        uidvalidity: if state.uidvalidity == 0 {
            (unix_now() as u32).max(1)
        } else {
            state.uidvalidity
        },
        uidnext: state.uidnext.max(max_uid + 1).max(1),
        recent_mark: state.recent_mark,
        messages,
        pending: BTreeSet::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mailscope-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_delivery_to_two_mailboxes_is_all_or_nothing_across_a_crash() {
        let root = temp("all-or-none");
        let store = Store::open(&root).unwrap();
        store.ensure_user("alice").unwrap();
        store.ensure_user("bob").unwrap();
        let users = vec!["alice".to_string(), "bob".to_string()];
        let inbox = |store: &Store, user: &str| -> Vec<Vec<u8>> {
            let snapshot = store.snapshot(user, INBOX).unwrap();
            snapshot.messages.iter().map(|m| m.data.to_vec()).collect()
        };

        // Killed after both copies were written, before the commit point:
        // neither mailbox gets the message, and the copies go.
        let staged = store.stage(&users, None).unwrap();
        store.write_staged(&staged, b"first\r\n").unwrap();
        drop(staged);
        drop(store);
        let store = Store::open(&root).unwrap();
        assert!(inbox(&store, "alice").is_empty());
        assert!(inbox(&store, "bob").is_empty());
        for user in ["alice", "bob"] {
            let tmp = root.join("mail").join(user).join(INBOX).join("tmp");
            assert_eq!(fs::read_dir(tmp).unwrap().count(), 0);
        }

        // Killed after the commit point, with alice's copy renamed into
        // place and bob's and the queue's not yet: the restart finishes
        // the delivery, for every recipient.
        let queue = Some((
            "carol@crepes.fr",
            vec!["dave@elsewhere.example".to_string()],
            &b"queued\r\n"[..],
        ));
        let staged = store.stage(&users, queue).unwrap();
        store.write_staged(&staged, b"second\r\n").unwrap();
        let (_, renames) = store.write_journal(&staged).unwrap().unwrap();
        assert_eq!(renames.len(), 4);
        fs::rename(root.join(&renames[0].0), root.join(&renames[0].1)).unwrap();
        drop(staged);
        drop(store);
        let store = Store::open(&root).unwrap();
        assert_eq!(inbox(&store, "alice"), [b"second\r\n".to_vec()]);
        assert_eq!(inbox(&store, "bob"), [b"second\r\n".to_vec()]);
        let queued = store.queued();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].rcpt_to, ["dave@elsewhere.example"]);
        assert_eq!(queued[0].data.as_slice(), b"queued\r\n");
        assert_eq!(fs::read_dir(root.join("journal")).unwrap().count(), 0);

        // Without a crash: both at once, under the next UIDs.
        let uids = store.deliver_all(&users, b"third\r\n", None, 10).unwrap();
        assert_eq!(uids, [2, 2]);
        assert_eq!(inbox(&store, "bob").len(), 2);
        // An unknown user: nobody gets it.
        let err = store.deliver_all(&["alice".to_string(), "eve".to_string()], b"x", None, 10);
        assert!(matches!(err, Err(StoreError::NoUser)));
        assert_eq!(inbox(&store, "alice").len(), 2);
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn what_a_crash_left_half_written_is_removed_at_start() {
        let root = temp("leftovers");
        let store = Store::open(&root).unwrap();
        store.ensure_user("bob").unwrap();
        store
            .deliver("bob", INBOX, b"kept\r\n", &BTreeSet::new(), 10)
            .unwrap();
        drop(store);
        // As kill -9 leaves them: a message still being written, a state
        // file not yet renamed into place, a queued message the same.
        let inbox = root.join("mail").join("bob").join("INBOX");
        fs::write(inbox.join("tmp").join("2.4242.part"), b"half").unwrap();
        fs::write(inbox.join(".state.json.tmp"), b"{").unwrap();
        fs::write(root.join("queue").join(".7.eml.tmp"), b"half").unwrap();
        fs::write(inbox.join("tmp").join("notes.txt"), b"not ours").unwrap();
        let store = Store::open(&root).unwrap();
        assert!(!inbox.join("tmp").join("2.4242.part").exists());
        assert!(!inbox.join(".state.json.tmp").exists());
        assert!(!root.join("queue").join(".7.eml.tmp").exists());
        // Only the leftovers of our own writes go.
        assert!(inbox.join("tmp").join("notes.txt").exists());
        let snapshot = store.snapshot("bob", INBOX).unwrap();
        assert_eq!(snapshot.messages.len(), 1);
        assert_eq!(snapshot.messages[0].data.as_slice(), b"kept\r\n");
        assert_eq!(snapshot.uidnext, 2);
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn messages_uids_and_folders_survive_a_restart() {
        let root = temp("restart");
        let store = Store::open(&root).unwrap();
        store.ensure_user("bob").unwrap();
        let none = BTreeSet::new();
        assert_eq!(
            store
                .deliver("bob", "inbox", b"one\r\n", &none, 10)
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .deliver("bob", "INBOX", b"two\r\n", &none, 11)
                .unwrap(),
            2
        );
        store.create_folder("bob", "Work/2026").unwrap();
        let seen: BTreeSet<String> = ["\\Seen".to_string()].into();
        store
            .set_flags("bob", "INBOX", &[(2, seen.clone())])
            .unwrap();
        store.remove("bob", "INBOX", &[1]).unwrap();
        // A session saw both messages: they are not \Recent after a restart.
        assert_eq!(store.claim_recent("bob", "INBOX", 2).unwrap(), 0);
        assert_eq!(store.claim_recent("bob", "INBOX", 2).unwrap(), 2);
        let before = store.snapshot("bob", "INBOX").unwrap();
        drop(store);

        let store = Store::open(&root).unwrap();
        let after = store.snapshot("bob", "INBOX").unwrap();
        assert_eq!(after.uidvalidity, before.uidvalidity);
        assert_eq!(after.uidnext, 3, "UID 1 is never reused");
        assert_eq!(after.recent_mark, 2);
        assert_eq!(after.messages.len(), 1);
        assert_eq!(after.messages[0].uid, 2);
        assert_eq!(after.messages[0].flags, seen);
        assert_eq!(after.messages[0].data.as_slice(), b"two\r\n");
        assert_eq!(store.folders("bob"), vec!["INBOX", "Work/2026"]);
        assert_eq!(
            store.deliver("bob", "INBOX", b"3\r\n", &none, 12).unwrap(),
            3
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_message_renamed_into_cur_without_a_state_update_is_kept() {
        // A crash between the rename and the state.json update.
        let root = temp("crash");
        let store = Store::open(&root).unwrap();
        store.ensure_user("bob").unwrap();
        drop(store);
        let cur = root.join("mail/bob/INBOX/cur");
        fs::write(cur.join("7.eml"), b"x\r\n").unwrap();
        let store = Store::open(&root).unwrap();
        let snap = store.snapshot("bob", "INBOX").unwrap();
        assert_eq!(snap.messages.len(), 1);
        assert_eq!(snap.uidnext, 8);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn hostile_folder_names_stay_inside_the_store() {
        let root = temp("names");
        let store = Store::open(&root).unwrap();
        store.ensure_user("bob").unwrap();
        for name in ["../../x", "..", ".", "a/../b", "a/./b", "/etc", "a//b"] {
            assert!(
                matches!(
                    store.create_folder("bob", name),
                    Err(StoreError::BadName(_))
                ),
                "{name}"
            );
        }
        store.create_folder("bob", "a").unwrap();
        assert!(matches!(
            store.rename_folder("bob", "a", "../a"),
            Err(StoreError::BadName(_))
        ));
        for name in ["..\\..\\x", "a\\b", "C:x", "...", "a..b"] {
            let r = store.create_folder("bob", name);
            if r.is_ok() {
                let dir = root.join("mail/bob").join(safe_component(name));
                assert!(dir.is_dir(), "{name} → {}", dir.display());
            }
        }
        assert!(store.create_folder("bob", "a\0b").is_err());
        assert!(!root.join("x").exists());
        assert!(!root.join("mail/x").exists());
        for entry in fs::read_dir(root.join("mail/bob")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(!name.contains('/') && !name.contains('.'), "{name}");
        }
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn renaming_a_folder_moves_its_children() {
        let root = temp("rename");
        let store = Store::open(&root).unwrap();
        store.ensure_user("bob").unwrap();
        store.create_folder("bob", "Work").unwrap();
        store.create_folder("bob", "Work/2026").unwrap();
        store.create_folder("bob", "Workshop").unwrap();
        store
            .deliver("bob", "Work/2026", b"x\r\n", &BTreeSet::new(), 1)
            .unwrap();
        store.rename_folder("bob", "Work", "Old").unwrap();
        assert_eq!(
            store.folders("bob"),
            vec!["INBOX", "Old", "Old/2026", "Workshop"]
        );
        drop(store);
        let store = Store::open(&root).unwrap();
        assert_eq!(store.snapshot("bob", "Old/2026").unwrap().messages.len(), 1);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_queue_survives_a_restart() {
        let root = temp("queue");
        let store = Store::open(&root).unwrap();
        let id = store
            .enqueue(
                "alice@crepes.fr",
                vec!["bob@hamburger.edu".into()],
                b"m\r\n",
            )
            .unwrap();
        store
            .reschedule(id, vec!["bob@hamburger.edu".into()], 99, "421 busy".into())
            .unwrap();
        drop(store);
        let store = Store::open(&root).unwrap();
        let q = store.queued();
        assert_eq!(q.len(), 1);
        assert_eq!((q[0].attempts, q[0].next_attempt), (1, 99));
        assert_eq!(q[0].last_error.as_deref(), Some("421 busy"));
        assert_eq!(q[0].data.as_slice(), b"m\r\n");
        store.dequeue(id).unwrap();
        assert!(Store::open(&root).unwrap().queued().is_empty());
        fs::remove_dir_all(&root).unwrap();
    }
}
