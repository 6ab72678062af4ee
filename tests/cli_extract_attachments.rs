//! `extract --attachments-only -o DIR` (issue 20, "For scanners"): each
//! distinct attachment once as `DIR/ab/<sha256>`, and `index.jsonl` /
//! `index.csv` with one row per attachment of a message, the same as the
//! `message` records of `analyze --json` say; hostile names only in the
//! index, escaped; a second run into the same directory changes nothing
//! and follows no planted link.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::{json_lines, mailscope, stderr, temp_dir};
use mailscope::report::extract::ATTACHMENT_COLUMNS;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn extract(capture: &str, dir: &Path) {
    let out = mailscope(&[
        "extract",
        "--attachments-only",
        "-o",
        dir.to_str().unwrap(),
        capture,
    ]);
    assert!(out.status.success(), "{capture}: {}", stderr(&out));
}

/// Every path under `dir`, relative, sorted (folders end with `/`).
fn listing(dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if entry.file_type().unwrap().is_dir() {
            all.push(format!("{name}/"));
            for inner in fs::read_dir(entry.path()).unwrap() {
                let inner = inner.unwrap().file_name().into_string().unwrap();
                all.push(format!("{name}/{inner}"));
            }
        } else {
            all.push(name);
        }
    }
    all.sort();
    all
}

fn index_rows(dir: &Path) -> Vec<Value> {
    fs::read_to_string(dir.join("index.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// RFC 4180, as a reader of the file would parse it.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(!c.is_control(), "a bare control character in {text:?}");
                cell.push(c);
            }
        }
    }
    assert!(cell.is_empty() && row.is_empty(), "the file ends with CRLF");
    rows
}

/// What the index must say, from the records of `analyze --json`.
fn expected_rows(capture: &str) -> Vec<Value> {
    let records = json_lines(&["analyze", "--json", capture]);
    let messages = records.iter().filter(|r| r["type"] == "message");
    let mut rows = Vec::new();
    for (i, m) in messages.enumerate() {
        for a in m["attachments"].as_array().unwrap() {
            let sha = a["sha256"].as_str().unwrap();
            rows.push(json!({
                "sha256": sha,
                "md5": a["md5"],
                "size": a["size"],
                "path": format!("{}/{sha}", &sha[..2]),
                "name": a["filename"],
                "content_type": a["content_type"],
                "complete": a["complete"],
                "part": a["part"],
                "message": i,
                "message_id": m["message_id"],
                "subject": m["subject"],
                "flow": m["flow"],
                "flow_uid": m["flow_uid"],
            }));
        }
    }
    rows
}

/// Each stored file is named by the SHA-256 of what it holds, in the
/// folder of its first two hex digits.
fn check_contents(dir: &Path) -> BTreeSet<String> {
    let mut hashes = BTreeSet::new();
    for entry in listing(dir) {
        if entry.ends_with('/') || !entry.contains('/') {
            continue;
        }
        let (folder, name) = entry.split_once('/').unwrap();
        assert_eq!(name.len(), 64, "{entry}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(folder, &name[..2]);
        let bytes = fs::read(dir.join(&entry)).unwrap();
        assert_eq!(hex(&Sha256::digest(&bytes)), name, "{entry}");
        hashes.insert(name.to_string());
    }
    hashes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn one_file_per_content_and_a_row_per_occurrence() {
    // The same message (one attachment, receta.txt) on the three hops of
    // its path: one file, three rows.
    let capture = "captures/alice-to-bob-path.pcapng";
    let dir = temp_dir("att-path");
    extract(capture, &dir);
    let sha = "060f8f2f41bd";
    let files = listing(&dir);
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(files[0], "06/");
    assert!(files[1].starts_with(&format!("06/{sha}")), "{files:?}");
    assert_eq!(&files[2..], ["index.csv", "index.jsonl"]);
    let rows = index_rows(&dir);
    assert_eq!(rows, expected_rows(capture));
    assert_eq!(rows.len(), 3);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["message"], i);
        assert_eq!(row["flow"], i);
        assert_eq!(row["name"], "receta.txt");
        assert_eq!(row["subject"], "Información del picnic");
        assert_eq!(row["path"], files[1]);
    }
    assert_eq!(check_contents(&dir).len(), 1);
    let csv = csv_rows(&fs::read_to_string(dir.join("index.csv")).unwrap());
    assert_eq!(csv[0], ATTACHMENT_COLUMNS);
    assert_eq!(csv.len(), 4);
    assert_eq!(csv[1][4], "receta.txt");
    assert_eq!(csv[3][8], "2");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_index_says_what_analyze_says_on_every_capture_with_attachments() {
    for capture in [
        "captures/smtp-attached-messages.pcapng",
        "captures/smtp-cut-attachments.pcapng",
        "captures/smtp-header-text.pcapng",
        "captures/smtp-hostile-names.pcapng",
    ] {
        let dir = temp_dir("att-all");
        extract(capture, &dir);
        let rows = index_rows(&dir);
        let expected = expected_rows(capture);
        assert_eq!(rows, expected, "{capture}");
        let stored = check_contents(&dir);
        let named: BTreeSet<String> = rows
            .iter()
            .map(|r| r["sha256"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(stored, named, "{capture}: a file per distinct content");
        // The CSV has the same rows, cell for cell (text made safe).
        let csv = csv_rows(&fs::read_to_string(dir.join("index.csv")).unwrap());
        assert_eq!(csv.len(), rows.len() + 1, "{capture}");
        for (cells, row) in csv[1..].iter().zip(&rows) {
            for (column, cell) in ATTACHMENT_COLUMNS.iter().zip(cells) {
                let expected = match &row[column] {
                    Value::Null => String::new(),
                    Value::String(s) => mailscope::trace::text::visible(s).into_owned(),
                    other => other.to_string(),
                };
                assert_eq!(cell, &expected, "{capture}: {column}");
            }
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn incomplete_attachments_are_stored_and_marked() {
    let capture = "captures/smtp-cut-attachments.pcapng";
    let dir = temp_dir("att-cut");
    extract(capture, &dir);
    let rows = index_rows(&dir);
    let cut: Vec<&Value> = rows.iter().filter(|r| r["complete"] == false).collect();
    assert_eq!(cut.len(), 5);
    for row in cut {
        let path = dir.join(row["path"].as_str().unwrap());
        assert_eq!(fs::metadata(&path).unwrap().len(), row["size"]);
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hostile_names_stay_in_the_index() {
    let capture = "captures/smtp-hostile-names.pcapng";
    let dir = temp_dir("att-hostile");
    extract(capture, &dir);
    let rows = index_rows(&dir);
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    for hostile in [
        "../../x",
        "/etc/passwd",
        "C:\\Windows\\evil.exe",
        "..",
        "CON",
    ] {
        assert!(names.contains(&hostile), "{hostile} in {names:?}");
    }
    let nul = names
        .iter()
        .find(|n| n.contains('\0'))
        .expect("a name with NUL");
    assert_eq!(*nul, "nul\0byte.txt");
    // No name reached the file system: two-digit folders of hashes only.
    for entry in listing(&dir) {
        assert!(
            entry == "index.csv"
                || entry == "index.jsonl"
                || (entry.len() == 3 && entry.ends_with('/'))
                || entry.len() == 3 + 64,
            "{entry}"
        );
    }
    let csv = fs::read_to_string(dir.join("index.csv")).unwrap();
    assert!(csv.contains(",nul\\u{0}byte.txt,"), "{csv}");
    assert!(!csv.contains('\0'));
    let rows = csv_rows(&csv);
    assert!(rows.iter().all(|r| r.len() == ATTACHMENT_COLUMNS.len()));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_run_into_the_same_folder_is_safe() {
    let capture = "captures/smtp-hostile-names.pcapng";
    let base = temp_dir("att-rerun");
    let dir = base.join("out");
    extract(capture, &dir);
    let first = listing(&dir);
    let index = fs::read(dir.join("index.jsonl")).unwrap();
    let csv = fs::read(dir.join("index.csv")).unwrap();
    // Leftovers of a run that was killed, and a symlink where the index
    // goes: the leftovers go, the link is replaced, its target untouched.
    let outside = base.join("outside.txt");
    fs::write(&outside, b"untouched").unwrap();
    fs::write(dir.join(".staged-7-0"), b"half").unwrap();
    fs::remove_file(dir.join("index.csv")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("index.csv")).unwrap();
    extract(capture, &dir);
    assert_eq!(listing(&dir), first);
    assert_eq!(fs::read(dir.join("index.jsonl")).unwrap(), index);
    assert_eq!(fs::read(dir.join("index.csv")).unwrap(), csv);
    assert!(
        fs::symlink_metadata(dir.join("index.csv"))
            .unwrap()
            .is_file()
    );
    assert_eq!(fs::read(&outside).unwrap(), b"untouched");
    // A symlink where a content goes is refused, not followed.
    let first_row = &index_rows(&dir)[0];
    let path = dir.join(first_row["path"].as_str().unwrap());
    fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&outside, &path).unwrap();
    let out = mailscope(&[
        "extract",
        "--attachments-only",
        "-o",
        dir.to_str().unwrap(),
        capture,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is refused"), "{}", stderr(&out));
    assert_eq!(fs::read(&outside).unwrap(), b"untouched");
    // The index of the run before is still whole.
    assert_eq!(fs::read(dir.join("index.jsonl")).unwrap(), index);
    fs::remove_dir_all(&base).unwrap();
}

#[test]
fn the_same_index_on_any_number_of_threads() {
    let capture = "captures/smtp-attached-messages.pcapng";
    let mut seen = Vec::new();
    for threads in ["1", "3"] {
        let dir = temp_dir(&format!("att-threads-{threads}"));
        let out = mailscope(&[
            "extract",
            "--attachments-only",
            "--threads",
            threads,
            "-o",
            dir.to_str().unwrap(),
            capture,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        seen.push((
            listing(&dir),
            fs::read(dir.join("index.jsonl")).unwrap(),
            fs::read(dir.join("index.csv")).unwrap(),
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
    assert_eq!(seen[0], seen[1]);
}
