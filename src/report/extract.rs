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

use crate::mail::safe_name::{numbered_copy, safe_file_name};
use crate::trace::{MessageRecord, RawMessage};

/// Writes messages and attachments under one directory.
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

impl Extractor {
    /// Creates `dir` (and `messages/`, `attachments/`) if needed.
    pub fn new(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        for sub in ["messages", "attachments"] {
            make_real_dir(&dir.join(sub))?;
        }
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

    /// Writes `messages/NNNN.eml` and `attachments/NNNN/<name>` for one
    /// message and fills in the record's paths. A message of which no byte
    /// is held (all lost in a gap, or an empty retrieval) gets no `.eml`:
    /// its record is in `index.json`, without `eml`.
    pub fn write(
        &mut self,
        record: &mut MessageRecord,
        raw: &RawMessage,
        contents: &[Vec<u8>],
    ) -> io::Result<()> {
        if raw.bytes.is_empty() {
            return self.index_record(record);
        }
        // The next free number: an earlier extract into the same directory
        // keeps its files.
        let (mut file, number) = loop {
            self.number += 1;
            let number = format!("{:04}", self.number);
            match create_new(&self.dir.join(format!("messages/{number}.eml"))) {
                Ok(f) => break (f, number),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && self.number < 1_000_000 => {}
                Err(e) => return Err(e),
            }
        };
        self.written += 1;
        file.write_all(&raw.bytes)?;
        record.eml = Some(format!("messages/{number}.eml"));
        if !record.attachments.is_empty() {
            let folder = format!("attachments/{number}");
            make_real_dir(&self.dir.join(&folder))?;
            let mut taken = HashSet::new();
            for (i, (info, content)) in record.attachments.iter_mut().zip(contents).enumerate() {
                let name = safe_file_name(
                    info.filename.as_deref(),
                    i + 1,
                    &info.content_type,
                    &mut taken,
                );
                let (file, name) = self.create_unique(&folder, name, &mut taken)?;
                let mut file = file;
                file.write_all(content)?;
                info.path = Some(format!("{folder}/{name}"));
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

    /// Creates `folder/name`, or the next free variant of the name when
    /// something (a file, a planted symlink) is already there.
    fn create_unique(
        &self,
        folder: &str,
        name: String,
        taken: &mut HashSet<String>,
    ) -> io::Result<(File, String)> {
        let mut candidate = name.clone();
        for n in 2..10_000 {
            match create_new(&self.dir.join(folder).join(&candidate)) {
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

    /// Closes `index.json` and returns how many messages were written.
    pub fn finish(mut self) -> io::Result<usize> {
        self.index.write_all(b"\n]\n")?;
        self.index.flush()?;
        Ok(self.written)
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

    #[test]
    fn planted_symlinks_are_not_followed() {
        let base = std::env::temp_dir().join(format!("mailscope-extract-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let outside = base.join("outside");
        let dir = base.join("out");
        fs::create_dir_all(&outside).unwrap();
        fs::create_dir_all(dir.join("attachments")).unwrap();
        // A symlink where the attachment folder of message 1 will go.
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
        let err = ex
            .write(&mut record, &raw, &[b"data".to_vec()])
            .unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        // A planted file symlink in a real folder: the name is skipped.
        let dir = base.join("out2");
        fs::create_dir_all(dir.join("attachments/0002")).unwrap();
        std::os::unix::fs::symlink(outside.join("f.txt"), dir.join("attachments/0002/f.txt"))
            .unwrap();
        let mut ex = Extractor::new(&dir).unwrap();
        ex.write(&mut record, &raw, &[b"one".to_vec()]).unwrap();
        let mut record2 = record.clone();
        ex.write(&mut record2, &raw, &[b"two".to_vec()]).unwrap();
        assert_eq!(
            record2.attachments[0].path.as_deref(),
            Some("attachments/0002/f (2).txt")
        );
        assert!(!outside.join("f.txt").exists());
        assert_eq!(ex.finish().unwrap(), 2);
        let index: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("index.json")).unwrap()).unwrap();
        assert_eq!(index[1]["eml"], "messages/0002.eml");
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
        ex.write(&mut record, &empty, &[]).unwrap();
        assert_eq!(record.eml, None);
        let mut raw = RawMessage::new(crate::trace::Via::Data, crate::trace::Part::Full, "DATA");
        raw.bytes = b"Subject: x\r\n\r\nhi\r\n".to_vec();
        let mut record = MessageRecord::new(0, crate::trace::Protocol::Smtp, &raw);
        ex.write(&mut record, &raw, &[]).unwrap();
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
