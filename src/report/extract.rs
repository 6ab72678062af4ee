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

use crate::trace::{MessageRecord, RawMessage};

/// Longest file name written, in bytes (most file systems allow 255).
const MAX_NAME: usize = 200;

/// Writes messages and attachments under one directory.
pub struct Extractor {
    dir: PathBuf,
    /// Number of the last `.eml` file.
    number: usize,
    written: usize,
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
            index,
        })
    }

    /// Writes `messages/NNNN.eml` and `attachments/NNNN/<name>` for one
    /// message and fills in the record's paths.
    pub fn write(
        &mut self,
        record: &mut MessageRecord,
        raw: &RawMessage,
        contents: &[Vec<u8>],
    ) -> io::Result<()> {
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
        if self.written > 1 {
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
                    candidate = numbered(&name, n);
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

/// `name (n).ext`.
fn numbered(name: &str, n: usize) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
        _ => format!("{name} ({n})"),
    }
}

/// Windows' reserved device names (a file called `CON.txt` cannot be
/// created or opened there).
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// A file name from a capture made safe to create inside one folder, on
/// any operating system, and unique there (case-insensitively, for
/// Windows and macOS). `index` (1-based) names attachments that have no
/// usable name: `attachment-3.pdf`.
pub fn safe_file_name(
    name: Option<&str>,
    index: usize,
    content_type: &str,
    taken: &mut HashSet<String>,
) -> String {
    // Only the last path component: `../../x` → `x`, `C:\a\b.exe` → `b.exe`.
    let base = name.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let base = match base.split_once(':') {
        // A drive or stream prefix (`C:evil.exe`, `file.txt:stream`).
        Some((before, after)) if before.len() == 1 => after,
        _ => base,
    };
    let mut clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .collect();
    // No hidden files, no `.`/`..`, nothing Windows would silently trim.
    clean = clean
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_string();
    let stem = clean.split('.').next().unwrap_or("").to_ascii_uppercase();
    if RESERVED.contains(&stem.as_str()) {
        clean = format!("_{clean}");
    }
    if clean.is_empty() {
        clean = format!("attachment-{index}{}", extension_for(content_type));
    }
    let mut name = bound(&clean, MAX_NAME);
    let mut n = 2;
    while !taken.insert(name.to_lowercase()) {
        name = bound(&numbered(&clean, n), MAX_NAME);
        n += 1;
    }
    name
}

/// Cuts a name to `max` bytes on a character boundary, keeping a short
/// extension.
fn bound(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.len() <= 16)
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let mut cut = max - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &name[..cut])
}

fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "text/plain" => ".txt",
        "text/html" => ".html",
        "message/rfc822" => ".eml",
        "application/pdf" => ".pdf",
        "application/zip" => ".zip",
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        _ => ".bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(names: &[&str]) -> Vec<String> {
        let mut taken = HashSet::new();
        names
            .iter()
            .enumerate()
            .map(|(i, n)| safe_file_name(Some(n), i + 1, "application/pdf", &mut taken))
            .collect()
    }

    #[test]
    fn hostile_names_are_tamed() {
        assert_eq!(
            safe(&[
                "../../x",
                "/etc/passwd",
                "C:\\Windows\\evil.exe",
                "C:evil2.exe",
                "a\0b\x01c.txt",
                "..",
                ".bashrc",
                "CON",
                "nul.txt",
                "what?<>|*\".doc",
                "trailing. . ",
            ]),
            [
                "x",
                "passwd",
                "evil.exe",
                "evil2.exe",
                "abc.txt",
                "attachment-6.pdf",
                "bashrc",
                "_CON",
                "_nul.txt",
                "what.doc",
                "trailing",
            ]
        );
    }

    #[test]
    fn duplicates_and_long_names() {
        assert_eq!(
            safe(&["a.txt", "A.TXT", "a.txt", "noext", "noext"]),
            ["a.txt", "A (2).TXT", "a (3).txt", "noext", "noext (2)"]
        );
        let long = format!("{}.pdf", "é".repeat(5000));
        let got = &safe(&[&long])[0];
        assert!(got.len() <= MAX_NAME && got.ends_with(".pdf"), "{got}");
        let mut taken = HashSet::new();
        assert_eq!(
            safe_file_name(None, 3, "image/png", &mut taken),
            "attachment-3.png"
        );
    }

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
}
