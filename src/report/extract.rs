//! `extract`: each message as an `.eml` file, its attachments decoded, and
//! an `index.json` (docs/output-schema.md § extract); or, with
//! `--attachments-only` ([`Layout::Attachments`]), each distinct
//! attachment once under its SHA-256 and an index of where each was seen,
//! for antivirus and YARA to run over.
//!
//! File names come from the capture, that is from strangers, and some are
//! written to hurt: `../../.bashrc`, `/etc/passwd`, `C:\Windows\evil.exe`,
//! `CON`, a NUL byte, 10 000 characters. None of that may escape the output
//! directory or overwrite anything:
//! * names are sanitised ([`safe_file_name`]): no separators, no `..`, no
//!   control characters, bounded length, unique within their folder;
//! * every file is created with `create_new`, which fails on anything that
//!   already exists, a symlink planted by someone else included, so nothing
//!   is followed or overwritten;
//! * the folders mailscope creates are checked not to be symlinks.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::mail::safe_name::{numbered_copy, safe_file_name};
use crate::trace::{MessageRecord, RawMessage};

/// What `extract` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `messages/NNNN.eml`, `attachments/NNNN/<name>` and `index.json`.
    Messages,
    /// Each distinct attachment content once, as `<ab>/<sha256>` (`ab` its
    /// first two hex digits), and `index.jsonl` and `index.csv`, one row
    /// per attachment of a message. No `.eml`, and no name from the wire
    /// in any path.
    Attachments,
}

/// The columns of `index.csv` (and the keys of `index.jsonl`), in order.
pub const ATTACHMENT_COLUMNS: [&str; 13] = [
    "sha256",
    "md5",
    "size",
    "path",
    "name",
    "content_type",
    "complete",
    "part",
    "message",
    "message_id",
    "subject",
    "flow",
    "flow_uid",
];

/// What an extract wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// `.eml` files ([`Layout::Messages`]).
    pub messages: usize,
    /// Index rows: attachments of messages ([`Layout::Attachments`]).
    pub attachments: usize,
    /// Distinct contents among them (files new or already there).
    pub distinct: usize,
}

/// What provisional names start with: a dot, so that a listing of the
/// folder does not show them, and a word that says what they are.
const STAGED: &str = ".staged-";

/// Writes messages and attachments under one directory, in two steps so
/// that `--threads N` gives the same files as one thread:
/// 1. [`Stager::stage`], on whichever worker completes a message, writes
///    its bytes and attachments at once under a provisional name (memory
///    holds one message at a time, and the workers write in parallel);
/// 2. [`Extractor::place`], on the collector, which sees the flows in the
///    order they ended at any number of threads, gives each message the
///    next number (`messages/NNNN.eml`, `attachments/NNNN/`) by renaming,
///    and appends its record to `index.json`. The numbers are therefore
///    the positions of the message records in `analyze --json`.
pub struct Extractor {
    dir: PathBuf,
    layout: Layout,
    /// Number of the last `.eml` file.
    number: usize,
    written: usize,
    /// Records in `index.json`.
    indexed: usize,
    /// `index.json`, written as the messages come (a JSON array, one
    /// record per element), so memory does not grow with the capture.
    /// With [`Layout::Attachments`], `index.jsonl` under a provisional
    /// name until [`finish`](Self::finish).
    index: io::BufWriter<File>,
    /// [`Layout::Attachments`]: `index.csv`, provisional as `index`.
    csv: Option<io::BufWriter<File>>,
    /// [`Layout::Attachments`]: the rows written, and the distinct
    /// contents among them.
    rows: usize,
    distinct: HashSet<String>,
}

/// The first step of [`Extractor`]: shared by the workers.
pub struct Stager {
    dir: PathBuf,
    layout: Layout,
    next: AtomicU64,
    /// The first error; nothing more is staged after it.
    error: Mutex<Option<io::Error>>,
}

impl Stager {
    /// Writes the message's bytes to `messages/.staged-K.eml` and its
    /// attachments to `attachments/.staged-K/<name>`, and points the
    /// record at them. A message of which no byte is held (all lost in a
    /// gap, or an empty retrieval) gets no `.eml`: its record goes to
    /// `index.json` without one.
    pub fn stage(&self, record: &mut MessageRecord, raw: &RawMessage, contents: &[Vec<u8>]) {
        if raw.bytes.is_empty() || self.failed() {
            return;
        }
        if self.layout == Layout::Attachments && record.attachments.is_empty() {
            return;
        }
        let tag = format!("{STAGED}{}", self.next.fetch_add(1, Ordering::Relaxed));
        let written = match self.layout {
            Layout::Messages => self.write(&tag, record, raw, contents),
            Layout::Attachments => self.store(&tag, record, contents),
        };
        if let Err(e) = written {
            let mut error = self.error.lock().unwrap_or_else(|e| e.into_inner());
            error.get_or_insert(e);
        }
    }

    fn write(
        &self,
        tag: &str,
        record: &mut MessageRecord,
        raw: &RawMessage,
        contents: &[Vec<u8>],
    ) -> io::Result<()> {
        let eml = format!("messages/{tag}.eml");
        create_new(&self.dir.join(&eml))?.write_all(&raw.bytes)?;
        record.eml = Some(eml);
        if record.attachments.is_empty() {
            return Ok(());
        }
        let folder = format!("attachments/{tag}");
        make_real_dir(&self.dir.join(&folder))?;
        let mut taken = HashSet::new();
        for (i, (info, content)) in record.attachments.iter_mut().zip(contents).enumerate() {
            let name = safe_file_name(
                info.filename.as_deref(),
                i + 1,
                &info.content_type,
                &mut taken,
            );
            let (mut file, name) = create_unique(&self.dir.join(&folder), name, &mut taken)?;
            file.write_all(content)?;
            info.path = Some(format!("{folder}/{name}"));
        }
        Ok(())
    }

    /// [`Layout::Attachments`]: each attachment's content to
    /// `<ab>/<sha256>` unless that file is there already (an attachment
    /// seen before, in this run or an earlier one into the same
    /// directory). The content goes to a provisional file first and is
    /// linked into place only whole, with a link that fails on anything
    /// already there, so two workers storing the same content at once, or
    /// a run killed halfway, leave one whole file. What is there must be a
    /// regular file of the content's size: a symlink, a folder or a file
    /// of another size at that name is refused.
    fn store(&self, tag: &str, record: &mut MessageRecord, contents: &[Vec<u8>]) -> io::Result<()> {
        for (i, (info, content)) in record.attachments.iter_mut().zip(contents).enumerate() {
            let sha = info.sha256.as_str();
            if sha.len() != 64 || !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(io::Error::other(format!("not a SHA-256: {sha:?}")));
            }
            let path = format!("{}/{sha}", &sha[..2]);
            make_real_dir(&self.dir.join(&sha[..2]))?;
            let target = self.dir.join(&path);
            if !stored(&target, content.len())? {
                let temp = self.dir.join(format!("{tag}-{i}"));
                create_new(&temp)?.write_all(content)?;
                if !move_new(&temp, &target)? {
                    // Another worker stored it first.
                    fs::remove_file(&temp)?;
                    stored(&target, content.len())?;
                }
            }
            info.path = Some(path);
        }
        Ok(())
    }

    fn failed(&self) -> bool {
        self.error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// The first error of any worker, if there was one.
    pub fn take_error(&self) -> Option<io::Error> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl Extractor {
    /// Creates `dir` (and `messages/`, `attachments/`) if needed.
    pub fn new(dir: &Path) -> io::Result<Self> {
        Self::with_layout(dir, Layout::Messages)
    }

    /// Creates `dir` (and with [`Layout::Messages`], `messages/` and
    /// `attachments/`) if needed. With [`Layout::Attachments`] the index
    /// is written under provisional names and replaces an earlier one
    /// only in [`finish`](Self::finish); the contents an earlier run
    /// stored stay (they are named by what they hold).
    pub fn with_layout(dir: &Path, layout: Layout) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let (index, csv) = match layout {
            Layout::Messages => {
                for sub in ["messages", "attachments"] {
                    make_real_dir(&dir.join(sub))?;
                }
                remove_staged(dir, &["messages", "attachments"])?;
                let mut index = io::BufWriter::new(create_or_replace(&dir.join("index.json"))?);
                index.write_all(b"[")?;
                (index, None)
            }
            Layout::Attachments => {
                remove_staged(dir, &["."])?;
                let index = io::BufWriter::new(create_new(&dir.join(STAGED_JSONL))?);
                let mut csv = io::BufWriter::new(create_new(&dir.join(STAGED_CSV))?);
                csv.write_all(ATTACHMENT_COLUMNS.join(",").as_bytes())?;
                csv.write_all(b"\r\n")?;
                (index, Some(csv))
            }
        };
        Ok(Extractor {
            dir: dir.to_path_buf(),
            layout,
            number: 0,
            written: 0,
            indexed: 0,
            index,
            csv,
            rows: 0,
            distinct: HashSet::new(),
        })
    }

    /// The stager that writes into the same directory.
    pub fn stager(&self) -> Stager {
        Stager {
            dir: self.dir.clone(),
            layout: self.layout,
            next: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    /// Gives a staged message its number: `messages/NNNN.eml` and
    /// `attachments/NNNN/`, the next number that neither exists (an
    /// earlier extract into the same directory keeps its files), and
    /// appends the record, with its final paths, to `index.json`.
    ///
    /// With [`Layout::Attachments`]: appends a row for each of its
    /// attachments to the index.
    pub fn place(&mut self, record: &mut MessageRecord) -> io::Result<()> {
        if self.layout == Layout::Attachments {
            return self.index_attachments(record);
        }
        let Some(staged) = record.eml.take() else {
            return self.index_record(record);
        };
        let tag = staged
            .strip_prefix("messages/")
            .and_then(|s| s.strip_suffix(".eml"))
            .filter(|t| t.starts_with(STAGED))
            .ok_or_else(|| io::Error::other(format!("not a staged message: {staged}")))?
            .to_string();
        let with_folder = record.attachments.iter().any(|a| a.path.is_some());
        let number = loop {
            self.number += 1;
            if self.number > 1_000_000 {
                return Err(io::Error::other("no free message number"));
            }
            let number = format!("{:04}", self.number);
            if with_folder && exists(&self.dir.join(format!("attachments/{number}"))) {
                continue;
            }
            let to = self.dir.join(format!("messages/{number}.eml"));
            if move_new(&self.dir.join(&staged), &to)? {
                break number;
            }
        };
        self.written += 1;
        record.eml = Some(format!("messages/{number}.eml"));
        if with_folder {
            let (from, to) = (
                format!("attachments/{tag}"),
                format!("attachments/{number}"),
            );
            fs::rename(self.dir.join(&from), self.dir.join(&to))?;
            for info in &mut record.attachments {
                if let Some(path) = &mut info.path {
                    *path = path.replacen(&from, &to, 1);
                }
            }
        }
        self.index_record(record)
    }

    /// Appends a message record to `index.json`.
    fn index_record(&mut self, record: &MessageRecord) -> io::Result<()> {
        self.indexed += 1;
        if self.indexed > 1 {
            self.index.write_all(b",")?;
        }
        self.index.write_all(b"\n")?;
        serde_json::to_writer_pretty(&mut self.index, &crate::trace::Record::Message(record))
            .map_err(io::Error::other)?;
        Ok(())
    }

    /// [`Layout::Attachments`]: one row per attachment of the message
    /// (its index among the `message` records of `analyze --json`, from
    /// 0), to `index.jsonl` and `index.csv`.
    fn index_attachments(&mut self, record: &MessageRecord) -> io::Result<()> {
        let message = self.indexed;
        self.indexed += 1;
        let flow_uid = record.flow_uid.map(|u| u.to_string());
        for a in &record.attachments {
            self.rows += 1;
            if a.path.is_some() && !self.distinct.contains(&a.sha256) {
                self.distinct.insert(a.sha256.clone());
            }
            let row = serde_json::json!({
                "sha256": a.sha256,
                "md5": a.md5,
                "size": a.size,
                "path": a.path,
                "name": a.filename,
                "content_type": a.content_type,
                "complete": a.complete,
                "part": a.part,
                "message": message,
                "message_id": record.message_id,
                "subject": record.subject,
                "flow": record.flow,
                "flow_uid": flow_uid,
            });
            serde_json::to_writer(&mut self.index, &row).map_err(io::Error::other)?;
            self.index.write_all(b"\n")?;
            if let Some(csv) = &mut self.csv {
                let cells: Vec<String> = ATTACHMENT_COLUMNS
                    .iter()
                    .map(|column| match &row[column] {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(text) => csv_cell(text),
                        other => other.to_string(),
                    })
                    .collect();
                csv.write_all(cells.join(",").as_bytes())?;
                csv.write_all(b"\r\n")?;
            }
        }
        Ok(())
    }

    /// Closes the index (with [`Layout::Attachments`], puts `index.jsonl`
    /// and `index.csv` in place of any earlier ones), removes what was
    /// staged and never placed (a run that stopped on an error), and says
    /// what was written.
    pub fn finish(mut self) -> io::Result<Written> {
        match self.layout {
            Layout::Messages => {
                self.index.write_all(b"\n]\n")?;
                self.index.flush()?;
                remove_staged(&self.dir, &["messages", "attachments"])?;
            }
            Layout::Attachments => {
                self.index.flush()?;
                if let Some(csv) = &mut self.csv {
                    csv.flush()?;
                }
                // `rename` replaces what is at the name, a symlink
                // included, and never follows it.
                fs::rename(self.dir.join(STAGED_JSONL), self.dir.join("index.jsonl"))?;
                fs::rename(self.dir.join(STAGED_CSV), self.dir.join("index.csv"))?;
                remove_staged(&self.dir, &["."])?;
            }
        }
        Ok(Written {
            messages: self.written,
            attachments: self.rows,
            distinct: self.distinct.len(),
        })
    }
}

/// The provisional names of `index.jsonl` and `index.csv`.
const STAGED_JSONL: &str = ".staged-index.jsonl";
const STAGED_CSV: &str = ".staged-index.csv";

/// A CSV cell (RFC 4180): quoted when it holds a quote or a comma, quotes
/// doubled. Control characters (NUL, line breaks, tabs, escapes) and
/// bidirectional overrides are written out (`\u{0}`, `\n`: `trace::text::
/// visible`), so a row is one line whatever a name holds; text a
/// spreadsheet would run as a formula (it starts with `=`, `+`, `-` or
/// `@`) gets a `'` before it. `index.jsonl` has the text as it was.
fn csv_cell(text: &str) -> String {
    let text = crate::trace::text::visible(text);
    let guarded = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.into_owned()
    };
    if guarded.contains(['"', ',', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Whether the content of `len` bytes is at `path` already: false when
/// nothing is there; an error when something else is (a symlink, a
/// folder, a file of another size), which is left alone.
fn stored(path: &Path, len: usize) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() && m.len() == len as u64 => Ok(true),
        Ok(_) => Err(io::Error::other(format!(
            "{} exists and is not that attachment (a symlink, a folder or another file there is refused)",
            path.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes the provisional files and folders of [`Stager`] (those of a run
/// that stopped on an error, or was killed, before they were placed) in
/// the folders `subs` of `dir`.
fn remove_staged(dir: &Path, subs: &[&str]) -> io::Result<()> {
    for sub in subs {
        for entry in fs::read_dir(dir.join(sub))? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(STAGED) {
                // `file_type` does not follow a symlink, and neither does
                // `remove_dir_all`: only what is in the folder goes.
                if entry.file_type()?.is_dir() {
                    fs::remove_dir_all(entry.path())?;
                } else {
                    fs::remove_file(entry.path())?;
                }
            }
        }
    }
    Ok(())
}

/// Creates `folder/name`, or the next free variant of the name when
/// something (a file, a planted symlink) is already there.
fn create_unique(
    folder: &Path,
    name: String,
    taken: &mut HashSet<String>,
) -> io::Result<(File, String)> {
    let mut candidate = name.clone();
    for n in 2..10_000 {
        match create_new(&folder.join(&candidate)) {
            Ok(f) => return Ok((f, candidate)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                candidate = numbered_copy(&name, n);
                if !taken.insert(candidate.to_lowercase()) {
                    continue;
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!("no free name for {name}")))
}

/// Whether anything (a symlink included, not followed) is at `path`.
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Moves `from` to `to` unless something is at `to` already (false then).
/// A hard link fails on anything there, a planted symlink included, so
/// nothing is overwritten; where the file system has no hard links, a
/// check and a rename do (rename replaces a symlink, never follows it).
fn move_new(from: &Path, to: &Path) -> io::Result<bool> {
    match fs::hard_link(from, to) {
        Ok(()) => fs::remove_file(from).map(|()| true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(_) if exists(to) => Ok(false),
        Err(_) => fs::rename(from, to).map(|()| true),
    }
}

/// Creates a directory, or accepts an existing one that is a real
/// directory (not a symlink to somewhere else).
fn make_real_dir(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_dir() => Ok(()),
        Ok(_) => Err(io::Error::other(format!(
            "{} exists and is not a directory (a symlink is refused)",
            path.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(path) {
            // Another worker made it in between.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if fs::symlink_metadata(path)?.file_type().is_dir() {
                    Ok(())
                } else {
                    Err(e)
                }
            }
            made => made,
        },
        Err(e) => Err(e),
    }
}

fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// `index.json` is rewritten by a second extract into the same directory;
/// a symlink in its place is removed, not followed.
fn create_or_replace(path: &Path) -> io::Result<File> {
    if fs::symlink_metadata(path).is_ok() {
        fs::remove_file(path)?;
    }
    create_new(path)
}

/// Writes `bytes` to a new file called `name` in `dir` (created if
/// missing) and returns its path: the window's "Save" of one attachment.
///
/// `name` comes from a stranger's message, so it is made safe first
/// ([`safe_file_name`]): only its last path component is kept (`../../x`
/// → `x`, `/etc/passwd` → `passwd`), control characters and NUL go,
/// Windows device names get a `_` (`CON` → `_CON`), an empty name becomes
/// `attachment-1.bin`. The file is opened with `create_new`, which fails
/// on anything already there, a planted symlink included: an existing
/// file is never overwritten or followed, the name gets ` (2)`, ` (3)`…
/// instead.
#[cfg(feature = "gui")]
pub(crate) fn save_attachment(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    let safe = safe_file_name(Some(name), 1, "", &mut HashSet::new());
    fs::create_dir_all(dir)?;
    for n in 1..10_000 {
        let candidate = if n == 1 {
            safe.clone()
        } else {
            numbered_copy(&safe, n)
        };
        let path = dir.join(&candidate);
        // A safe name is one path component, so the file sits in `dir`.
        if path.parent() != Some(dir) || path.file_name().is_none() {
            return Err(io::Error::other(format!("unsafe file name {candidate:?}")));
        }
        match create_new(&path) {
            Ok(mut file) => {
                if let Err(e) = file.write_all(bytes).and_then(|()| file.flush()) {
                    // Leave no half-written file behind.
                    drop(file);
                    let _ = fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!("no free name for {safe}")))
}

/// A folder of its own for a test, under the system's temporary
/// directory, removed when dropped (also when the test fails).
#[cfg(all(test, feature = "gui"))]
pub(crate) mod temp {
    use std::fs;
    use std::path::PathBuf;

    pub(crate) struct TempFolder(pub(crate) PathBuf);

    impl TempFolder {
        pub(crate) fn new(tag: &str) -> TempFolder {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let dir = std::env::temp_dir()
                .join(format!("mailscope-{tag}-{}-{nanos}", std::process::id()));
            fs::create_dir_all(&dir).unwrap();
            TempFolder(dir)
        }
    }

    impl Drop for TempFolder {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One message through both steps, as one thread does it.
    fn write(
        ex: &mut Extractor,
        record: &mut MessageRecord,
        raw: &RawMessage,
        contents: &[Vec<u8>],
    ) -> io::Result<()> {
        let stager = ex.stager();
        stager.stage(record, raw, contents);
        match stager.take_error() {
            Some(e) => Err(e),
            None => ex.place(record),
        }
    }

    #[test]
    fn planted_symlinks_are_not_followed() {
        let base = std::env::temp_dir().join(format!("mailscope-extract-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let outside = base.join("outside");
        let dir = base.join("out");
        fs::create_dir_all(&outside).unwrap();
        fs::create_dir_all(dir.join("attachments")).unwrap();
        // A symlink where the attachment folder of message 1 would go:
        // the number is taken, the message becomes 0002.
        std::os::unix::fs::symlink(&outside, dir.join("attachments/0001")).unwrap();
        let mut ex = Extractor::new(&dir).unwrap();
        let mut raw = RawMessage::new(crate::trace::Via::Data, crate::trace::Part::Full, "DATA");
        raw.bytes = b"Subject: x\r\n\r\nhi\r\n".to_vec();
        let info = crate::mail::MessageInfo {
            attachments: vec![crate::mail::AttachmentInfo {
                filename: Some("f.txt".into()),
                content_type: "text/plain".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut record = MessageRecord::new(0, crate::trace::Protocol::Smtp, &raw);
        record.set_info(info);
        let pristine = record.clone();
        write(&mut ex, &mut record, &raw, &[b"data".to_vec()]).unwrap();
        assert_eq!(record.eml.as_deref(), Some("messages/0002.eml"));
        assert_eq!(
            record.attachments[0].path.as_deref(),
            Some("attachments/0002/f.txt")
        );
        assert_eq!(
            fs::read(dir.join("attachments/0002/f.txt")).unwrap(),
            b"data"
        );
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        // A symlink planted where the stager writes: the name is skipped.
        fs::create_dir_all(dir.join("attachments/.staged-0")).unwrap();
        std::os::unix::fs::symlink(
            outside.join("f.txt"),
            dir.join("attachments/.staged-0/f.txt"),
        )
        .unwrap();
        let mut record2 = pristine.clone();
        write(&mut ex, &mut record2, &raw, &[b"two".to_vec()]).unwrap();
        assert_eq!(
            record2.attachments[0].path.as_deref(),
            Some("attachments/0003/f (2).txt")
        );
        assert!(!outside.join("f.txt").exists());
        // A symlink planted as a staged message file is not followed either.
        std::os::unix::fs::symlink(outside.join("m"), dir.join("messages/.staged-0.eml")).unwrap();
        let mut record3 = pristine.clone();
        let err = write(&mut ex, &mut record3, &raw, &[b"3".to_vec()]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(!outside.join("m").exists());
        assert_eq!(ex.finish().unwrap().messages, 2);
        let index: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
        assert_eq!(index[1]["eml"], "messages/0003.eml");
        // What was staged and never placed is gone.
        let mut left: Vec<_> = fs::read_dir(dir.join("messages"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["0002.eml", "0003.eml"]);
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn csv_cells_are_one_line_and_never_a_formula() {
        assert_eq!(csv_cell("plain.txt"), "plain.txt");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("a\r\nb\0c"), "a\\r\\nb\\u{0}c");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn a_message_without_bytes_gets_no_eml() {
        let base = std::env::temp_dir().join(format!("mailscope-extract0-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let mut ex = Extractor::new(&base).unwrap();
        // An empty IMAP literal (`BODY[] {0}`), then a real message.
        let empty = RawMessage::new(crate::trace::Via::Fetch, crate::trace::Part::Full, "FETCH");
        let mut record = MessageRecord::new(0, crate::trace::Protocol::Imap, &empty);
        write(&mut ex, &mut record, &empty, &[]).unwrap();
        assert_eq!(record.eml, None);
        let mut raw = RawMessage::new(crate::trace::Via::Data, crate::trace::Part::Full, "DATA");
        raw.bytes = b"Subject: x\r\n\r\nhi\r\n".to_vec();
        let mut record = MessageRecord::new(0, crate::trace::Protocol::Smtp, &raw);
        write(&mut ex, &mut record, &raw, &[]).unwrap();
        assert_eq!(ex.finish().unwrap().messages, 1);
        let files: Vec<_> = fs::read_dir(base.join("messages"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, ["0001.eml"]);
        assert_eq!(fs::read(base.join("messages/0001.eml")).unwrap().len(), 18);
        let index: serde_json::Value =
            serde_json::from_slice(&fs::read(base.join("index.json")).unwrap()).unwrap();
        assert_eq!(index.as_array().unwrap().len(), 2);
        assert!(index[0].get("eml").is_none(), "{index}");
        assert_eq!(index[0]["size"], 0);
        assert_eq!(index[1]["eml"], "messages/0001.eml");
        fs::remove_dir_all(&base).unwrap();
    }

    #[cfg(feature = "gui")]
    #[test]
    fn saving_never_leaves_the_folder() {
        let temp = temp::TempFolder::new("save");
        let base = temp.0.clone();
        let dir = base.join("inside");
        let saved = |name: &str, bytes: &[u8]| save_attachment(&dir, name, bytes).unwrap();
        let cases: [(&str, &str); 8] = [
            ("../../evil.sh", "evil.sh"),
            ("/abs", "abs"),
            ("CON", "_CON"),
            ("a\0b\x01c\n.txt", "abc.txt"),
            ("", "attachment-1.bin"),
            ("..", "attachment-1 (2).bin"),
            ("C:\\Windows\\win.ini", "win.ini"),
            ("notes.txt", "notes.txt"),
        ];
        for (hostile, expected) in cases {
            let path = saved(hostile, hostile.as_bytes());
            assert_eq!(path, dir.join(expected), "{hostile:?}");
            assert_eq!(fs::read(&path).unwrap(), hostile.as_bytes());
        }
        // An existing file is kept; the copy is numbered.
        let again = saved("notes.txt", b"second");
        assert_eq!(again, dir.join("notes (2).txt"));
        assert_eq!(fs::read(dir.join("notes.txt")).unwrap(), b"notes.txt");
        assert_eq!(saved("notes.txt", b"third"), dir.join("notes (3).txt"));
        // A symlink planted in the folder is not followed.
        #[cfg(unix)]
        {
            let outside = base.join("outside.txt");
            fs::write(&outside, b"untouched").unwrap();
            std::os::unix::fs::symlink(&outside, dir.join("link.txt")).unwrap();
            assert_eq!(saved("link.txt", b"evil"), dir.join("link (2).txt"));
            assert_eq!(fs::read(&outside).unwrap(), b"untouched");
        }
        // Nothing but the folder (and the symlink's target) beside it.
        let mut beside: Vec<String> = fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        beside.sort();
        #[cfg(unix)]
        assert_eq!(beside, ["inside", "outside.txt"]);
        #[cfg(not(unix))]
        assert_eq!(beside, ["inside"]);
    }
}
