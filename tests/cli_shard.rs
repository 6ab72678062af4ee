//! `mailscope shard`: the shards of a capture, analysed one by one, give
//! exactly the flows, messages and credentials of the whole (issue 19:
//! "Analyzing the shards one by one gives exactly the messages of the
//! whole"), with both directions of every connection and every IP
//! fragment in one shard, and the capture's TLS secrets in each.

mod common;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use common::busy::busy_capture;
use common::{all_captures, json_lines, mailscope, stderr};
use mailscope::capture::CaptureReader;
use serde_json::Value;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mailscope-shard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What must not change when a capture is cut into shards: each flow (its
/// `flow_uid`, endpoints and protocol), each message (its SHA-256) and each
/// credential, counted with multiplicity.
fn facts(records: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = records
        .iter()
        .filter_map(|r| match r["type"].as_str()? {
            "flow" => Some(format!(
                "flow {} {} {} {} {} {}",
                r["flow_uid"],
                r["client"],
                r["server"],
                r["protocol"],
                r["bytes_c2s"],
                r["bytes_s2c"]
            )),
            "message" => Some(format!(
                "message {} {} {}",
                r["flow_uid"], r["sha256"], r["size"]
            )),
            "credential" => Some(format!(
                "credential {} {} {} {}",
                r["protocol"], r["mechanism"], r["username"], r["password"]
            )),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

/// Shards `capture` into `n` files and returns their paths and the
/// `shards` record.
fn shard(capture: &Path, n: usize, dir: &Path) -> (Vec<PathBuf>, Value) {
    let out = mailscope(&[
        "shard",
        "--json",
        "-n",
        &n.to_string(),
        "-o",
        dir.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}: {}",
        capture.display(),
        stderr(&out)
    );
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = record["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| PathBuf::from(f.as_str().unwrap()))
        .collect();
    (files, record)
}

/// The facts of the whole against those of its shards, together.
fn check_shards_equal_whole(capture: &Path, n: usize, dir: &Path) -> usize {
    let whole = mailscope(&["analyze", "--json", capture.to_str().unwrap()]);
    if !whole.status.success() {
        // Not a capture mailscope reads (the corpus has a few on purpose).
        return 0;
    }
    let whole: Vec<Value> = String::from_utf8(whole.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (files, record) = shard(capture, n, dir);
    assert_eq!(files.len(), n);
    let mut parts = Vec::new();
    for f in &files {
        parts.extend(json_lines(&["analyze", "--json", f.to_str().unwrap()]));
    }
    assert_eq!(
        facts(&parts),
        facts(&whole),
        "{}: the shards differ from the whole",
        capture.display()
    );
    let written: u64 = record["stats"]["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .sum();
    assert_eq!(
        written,
        record["packets"].as_u64().unwrap(),
        "{}",
        capture.display()
    );
    facts(&whole).len()
}

#[test]
fn every_capture_of_the_corpus_shards_without_losing_anything() {
    let dir = scratch("corpus");
    let mut facts = 0;
    let mut captures = 0;
    for capture in all_captures() {
        facts += check_shards_equal_whole(&capture, 3, &dir.join("out"));
        captures += 1;
    }
    assert!(
        captures > 40 && facts > 300,
        "{captures} captures, {facts} facts"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_busy_capture_spreads_over_the_shards() {
    let dir = scratch("busy");
    let busy = dir.join("busy.pcapng");
    busy_capture(&busy, 300, 2 << 10);
    // 300 flows and their 300 messages (those cut by a reset had sent
    // their whole message first).
    assert_eq!(check_shards_equal_whole(&busy, 4, &dir.join("out")), 600);
    // Each shard holds a fair part of the 300 connections.
    let (files, _) = shard(&busy, 4, &dir.join("again"));
    for f in files {
        let flows = json_lines(&["flows", "--json", f.to_str().unwrap()]).len() - 1;
        assert!(
            (45..=105).contains(&flows),
            "{}: {flows} flows",
            f.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fragment_before_its_first_waits_and_follows_it() {
    let dir = scratch("fragments");
    let (files, record) = shard(Path::new("captures/ipv4-fragments.pcapng"), 5, &dir);
    assert_eq!(record["stats"]["fragments_held"], 1);
    assert_eq!(record["stats"]["fragments_unrouted"], 0);
    let packets: Vec<u64> = record["stats"]["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    // One connection, its 37 frames (3 of them fragments) in one shard.
    assert_eq!(packets.iter().sum::<u64>(), 37);
    assert_eq!(packets.iter().filter(|&&p| p > 0).count(), 1);
    let full = files[packets.iter().position(|&p| p == 37).unwrap()].clone();
    let records = json_lines(&["analyze", "--json", full.to_str().unwrap()]);
    let whole = json_lines(&["analyze", "--json", "captures/ipv4-fragments.pcapng"]);
    assert_eq!(records[0]["decode"], whole[0]["decode"]);
    assert_eq!(
        records[0]["decode"]["fragments"], 2,
        "two held, the third completes"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_shard_carries_the_captures_tls_secrets() {
    /// The Decryption Secrets Blocks of a capture: (type, bytes).
    fn secrets_of(file: &Path) -> Vec<(u32, Vec<u8>)> {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        let mut reader = CaptureReader::open(file).unwrap();
        reader.on_secrets(Box::new(move |kind, data| {
            sink.borrow_mut().push((kind, data.to_vec()))
        }));
        while reader.next_packet().unwrap().is_some() {}
        seen.take()
    }
    let dir = scratch("secrets");
    let input = Path::new("captures/tls-implicit-465.pcapng");
    let original = secrets_of(input);
    assert_eq!(original.len(), 1);
    assert_eq!(original[0].0, 0x544C_534B, "a TLS key log");
    let (files, record) = shard(input, 3, &dir);
    assert_eq!(record["stats"]["secrets"], 1);
    for f in files {
        assert_eq!(secrets_of(&f), original, "{}", f.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shard_names_sort_in_order_and_a_bad_count_is_refused() {
    let dir = scratch("names");
    let (files, _) = shard(Path::new("captures/pop3-bob.pcapng"), 12, &dir);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names[0], "shard-000.pcapng");
    assert_eq!(names[11], "shard-011.pcapng");
    let out = mailscope(&[
        "shard",
        "-n",
        "0",
        "-o",
        dir.to_str().unwrap(),
        "captures/pop3-bob.pcapng",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = mailscope(&[
        "shard",
        "-n",
        "2",
        "-o",
        dir.to_str().unwrap(),
        "captures/no-such.pcapng",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no-such.pcapng"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_pieces_of_a_rotated_capture_shard_as_the_whole() {
    let Some(shared) = common::shared_captures_dir() else {
        return;
    };
    common::clients::require("editcap");
    let dir = scratch("pieces");
    let whole = shared.join("ndpi/pop3/pop3.pcap");
    let piece = dir.join("piece.pcap");
    let status = std::process::Command::new("editcap")
        .args(["-c", "40", whole.to_str().unwrap(), piece.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut pieces: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pieces.sort();
    assert_eq!(pieces.len(), 4, "144 packets in pieces of 40");
    let out = dir.join("out");
    let mut args = vec!["shard", "--json", "-n", "2", "-o", out.to_str().unwrap()];
    args.extend(pieces.iter().rev().map(|p| p.to_str().unwrap()));
    let shards = json_lines(&args);
    assert_eq!(shards[0]["packets"], 144);
    let mut parts = Vec::new();
    for f in shards[0]["files"].as_array().unwrap() {
        parts.extend(json_lines(&["analyze", "--json", f.as_str().unwrap()]));
    }
    let whole = json_lines(&["analyze", "--json", whole.to_str().unwrap()]);
    assert_eq!(facts(&parts), facts(&whole));
    assert_eq!(
        facts(&whole).len(),
        6 + 4 + 4,
        "six POP3 sessions, four messages, four logins"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
