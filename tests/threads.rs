//! `--threads N` (issue 18): the flows' readers on N workers behind one
//! capture reader give the output of one thread, for `analyze`, `dialog`,
//! `creds`, `flows` and `extract` (the same files under the same names). The contract is the same set of records; this
//! implementation also keeps their order (the collector puts the flows back
//! in the order they ended), so both are checked: on every capture of the
//! project and of the shared corpus, on a demo capture whose TLS secrets
//! are in its own Decryption Secrets Block, and on a generated capture
//! with enough flows and bytes to fill the batches and the bounded queues
//! many times.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use common::busy::busy_capture;
use common::{all_captures, capture_files, mailscope, own_captures_dir, stderr, stdout};

/// `analyze --json --threads N [extra…] file`.
fn analyze(file: &Path, threads: &str, extra: &[&str]) -> String {
    let mut args = vec!["analyze", "--json", "--threads", threads];
    args.extend(extra);
    args.push(file.to_str().unwrap());
    let out = mailscope(&args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// One thread and three give the same records, in the same order.
fn same_records(file: &Path, extra: &[&str]) -> usize {
    let one = analyze(file, "1", extra);
    let three = analyze(file, "3", extra);
    let sorted = |s: &str| {
        let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        sorted(&one),
        sorted(&three),
        "{}: --threads 3 gives other records than --threads 1",
        file.display()
    );
    assert_eq!(one, three, "{}: same records, other order", file.display());
    one.lines().count()
}

#[test]
fn every_capture_gives_the_same_records_on_three_threads() {
    let files = all_captures();
    assert!(files.len() >= 20, "{files:?}");
    let records: usize = files.iter().map(|f| same_records(f, &[])).sum();
    assert!(records >= 200, "only {records} records");
}

/// The demo's capture keeps the server's TLS secrets in a Decryption
/// Secrets Block: they reach the flows on whichever worker reads them (and
/// with `--no-decrypt` nobody gets them). `tls-implicit-465.pcapng` has a
/// block whose keys do not fit: the same findings on any thread.
#[test]
fn decrypted_flows_are_the_same_on_three_threads() {
    let dir = common::temp_dir("threads-tls");
    let path = dir.join("starttls-imap.pcapng");
    common::run_demo("starttls", "imap", "127.0.218", &path, &[]);
    let decrypted = |out: &str| out.matches("\"type\":\"credential\"").count();
    let with_keys = analyze(&path, "3", &[]);
    let without = analyze(&path, "3", &["--no-decrypt"]);
    assert!(
        decrypted(&with_keys) > decrypted(&without),
        "the keys did not reach the workers:\n{with_keys}"
    );
    same_records(&path, &[]);
    same_records(&path, &["--no-decrypt"]);
    let fake = own_captures_dir().join("tls-implicit-465.pcapng");
    assert!(analyze(&fake, "3", &[]).contains("tls-decrypt-failed"));
    same_records(&fake, &[]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `dialog` and `creds` read through the same driver: the same output,
/// in the same order (both list flows by id).
#[test]
fn dialog_and_creds_are_the_same_on_three_threads() {
    for file in capture_files(&own_captures_dir()) {
        let file = file.to_str().unwrap();
        for command in [&["dialog", "--json"][..], &["dialog"], &["creds", "--json"]] {
            let run = |threads: &str| {
                let mut args = command.to_vec();
                args.extend(["--threads", threads, file]);
                let out = mailscope(&args);
                assert!(out.status.success(), "{args:?}: {}", stderr(&out));
                stdout(&out)
            };
            assert_eq!(run("1"), run("3"), "{command:?} {file}");
        }
    }
}

#[test]
fn flows_are_the_same_on_three_threads() {
    for file in all_captures() {
        let file = file.to_str().unwrap();
        let run = |threads: &str| {
            let out = mailscope(&["flows", "--json", "--threads", threads, file]);
            assert!(out.status.success(), "{file}: {}", stderr(&out));
            stdout(&out)
        };
        assert_eq!(run("1"), run("3"), "flows {file}");
    }
}

/// Every file under `dir` (relative path → SHA-256 of its bytes).
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    common::files_under(dir, |_| true)
        .into_iter()
        .map(|path| {
            let hash = format!("{:x}", Sha256::digest(std::fs::read(&path).unwrap()));
            (path.strip_prefix(dir).unwrap().to_path_buf(), hash)
        })
        .collect()
}

/// `extract --threads N` into a fresh folder; its files.
fn extract(file: &Path, threads: &str, dir: &Path) -> BTreeMap<PathBuf, String> {
    let _ = std::fs::remove_dir_all(dir);
    let (file, out) = (file.to_str().unwrap(), dir.to_str().unwrap());
    let run = mailscope(&["extract", "--threads", threads, "-o", out, file]);
    assert!(run.status.success(), "{file}: {}", stderr(&run));
    tree(dir)
}

/// `extract` on one thread and on three writes the same files under the
/// same names, and its index holds `analyze`'s message records in their
/// order, message N being the N-th that has bytes.
fn same_extract(file: &Path, scratch: &Path) -> usize {
    let one = extract(file, "1", scratch);
    let index: Value =
        serde_json::from_slice(&std::fs::read(scratch.join("index.json")).unwrap()).unwrap();
    let three = extract(file, "3", scratch);
    assert_eq!(
        one,
        three,
        "{}: other files on three threads",
        file.display()
    );
    let analyzed: Vec<Value> = analyze(file, "1", &[])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["type"] == "message")
        .collect();
    let mut numbered = 0;
    let mut indexed = Vec::new();
    for mut record in index.as_array().unwrap().clone() {
        if let Some(eml) = record.as_object_mut().unwrap().remove("eml") {
            numbered += 1;
            assert_eq!(
                eml,
                format!("messages/{numbered:04}.eml"),
                "{}",
                file.display()
            );
            let hash = &one[Path::new(eml.as_str().unwrap())];
            assert_eq!(&record["sha256"], hash, "{}", file.display());
        }
        for a in record["attachments"].as_array_mut().unwrap() {
            if let Some(path) = a.as_object_mut().unwrap().remove("path") {
                let prefix = format!("attachments/{numbered:04}/");
                assert!(path.as_str().unwrap().starts_with(&prefix), "{path}");
                assert!(
                    one.contains_key(Path::new(path.as_str().unwrap())),
                    "{path}"
                );
            }
        }
        indexed.push(record);
    }
    assert_eq!(
        indexed,
        analyzed,
        "{}: index.json is not analyze's",
        file.display()
    );
    numbered
}

#[test]
fn extract_writes_the_same_files_on_three_threads() {
    let scratch = common::temp_dir("threads-extract");
    let numbered: usize = all_captures()
        .iter()
        .map(|f| same_extract(f, &scratch.join("out")))
        .sum();
    assert!(numbered >= 60, "only {numbered} messages written");
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn a_busy_capture_gives_the_same_records_on_three_threads() {
    let dir = common::temp_dir("threads");
    let path = dir.join("busy.pcapng");
    busy_capture(&path, 600, 24 << 10);
    assert!(std::fs::metadata(&path).unwrap().len() > 10 << 20);
    let records = same_records(&path, &[]);
    assert!(records > 600 * 3, "{records} records");
    // 540 complete messages and 60 cut short by the reset.
    assert_eq!(same_extract(&path, &dir.join("out")), 600);
    let out = |t: &str| {
        stdout(&mailscope(&[
            "flows",
            "--json",
            "--threads",
            t,
            path.to_str().unwrap(),
        ]))
    };
    assert_eq!(out("1"), out("3"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The window's loader on three workers draws the scene of one thread:
/// hosts, connections, packets, transcript lines, messages and findings.
#[test]
fn the_window_loads_the_same_scene_on_three_threads() {
    use mailscope::gui::loader::{LoadOptions, analyze};
    let scene = |file: &Path, threads: usize| {
        let options = LoadOptions {
            threads: Some(threads),
            ..LoadOptions::default()
        };
        format!("{:?}", analyze(file, &options, |_, _| {}).unwrap())
    };
    let dir = common::temp_dir("threads-window");
    let busy = dir.join("busy.pcapng");
    busy_capture(&busy, 200, 4 << 10);
    let mut files = all_captures();
    files.push(busy);
    for file in &files {
        assert_eq!(scene(file, 1), scene(file, 3), "{}", file.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
