//! `extract`: each message as an `.eml` file, its attachments decoded, and
//! an `index.json` (docs/output-schema.md § extract).
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
    /// Number of the last `.eml` file.
    number: usize,
    written: usize,
    /// Records in `index.json`.
    indexed: usize,
    /// `index.json`, written as the messages come (a JSON array, one
    /// record per element), so memory does not grow with the capture.
    index: io::BufWriter<File>,
}

/// The first step of [`Extractor`]: shared by the workers.
pub struct Stager {
    dir: PathBuf,
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
        let tag = format!("{STAGED}{}", self.next.fetch_add(1, Ordering::Relaxed));
        if let Err(e) = self.write(&tag, record, raw, contents) {
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
        fs::create_dir_all(dir)?;
        for sub in ["messages", "attachments"] {
            make_real_dir(&dir.join(sub))?;
        }
        remove_staged(dir)?;
        let mut index = io::BufWriter::new(create_or_replace(&dir.join("index.json"))?);
        index.write_all(b"[")?;
        Ok(Extractor {
            dir: dir.to_path_buf(),
            number: 0,
            written: 0,
            indexed: 0,
            index,
        })
    }

    /// The stager that writes into the same directory.
    pub fn stager(&self) -> Stager {
        Stager {
            dir: self.dir.clone(),
            next: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    /// Gives a staged message its number: `messages/NNNN.eml` and
    /// `attachments/NNNN/`, the next number that neither exists (an
    /// earlier extract into the same directory keeps its files), and
    /// appends the record, with its final paths, to `index.json`.
    pub fn place(&mut self, record: &mut MessageRecord) -> io::Result<()> {
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

    /// Closes `index.json`, removes what was staged and never placed (a
    /// run that stopped on an error), and returns how many messages were
    /// written.
    pub fn finish(mut self) -> io::Result<usize> {
        self.index.write_all(b"\n]\n")?;
        self.index.flush()?;
        remove_staged(&self.dir)?;
        Ok(self.written)
    }
}

/// Removes the provisional files and folders of [`Stager`] (those of a run
/// that stopped on an error, or was killed, before they were placed).
fn remove_staged(dir: &Path) -> io::Result<()> {
    for sub in ["messages", "attachments"] {
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
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(path),
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
        assert_eq!(ex.finish().unwrap(), 2);
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
        assert_eq!(ex.finish().unwrap(), 1);
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
