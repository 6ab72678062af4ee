//! The mail commands (`analyze`, `dialog`, `extract`, `creds`) on the
//! project's own captures: golden transcripts for every fixture, and exact
//! facts for the captures written for them.
//!
//! Golden transcripts live in `tests/golden/dialog/`; after a deliberate
//! change regenerate them with
//! `MAILSCOPE_UPDATE_GOLDEN=1 cargo test --test cli_mail` and review the diff.

mod common;
mod support;

use common::{json_lines, mailscope, stderr, stdout, temp_dir};
use mailscope::mail::{md5_hex, sha256_hex};
use serde_json::{Value, json};
use support::mail_path::{picnic_attachment, picnic_message, relayed_message, stored_message};

fn of_type<'a>(records: &'a [Value], t: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == t).collect()
}

#[test]
fn golden_transcripts_for_every_fixture() {
    common::check_golden(&["dialog"], "dialog", "txt");
}

#[test]
fn textbook_smtp_transcript_is_the_course_one() {
    let out = mailscope(&["dialog", "captures/smtp-crepes-hamburger.pcapng"]);
    assert_eq!(
        stdout(&out),
        "== flow 0: 10.0.0.1:1035 → 10.0.0.2:25 smtp ==
S: 220 hamburger.edu
C: HELO crepes.fr
S: 250 Hello crepes.fr, pleased to meet you
C: MAIL FROM: <alice@crepes.fr>
S: 250 alice@crepes.fr ... Sender ok
C: RCPT TO: <bob@hamburger.edu>
S: 250 bob@hamburger.edu ... Recipient ok
C: DATA
S: 354 Enter mail, end with \".\" on a line by itself
C: [message: 218 bytes, 8 lines, Subject: Searching for the meaning of life]
C: .
S: 250 Message accepted for delivery
C: QUIT
S: 221 hamburger.edu closing connection
"
    );
    // --full shows the message itself, as sent.
    let full = stdout(&mailscope(&[
        "dialog",
        "--full",
        "captures/smtp-crepes-hamburger.pcapng",
    ]));
    assert!(
        full.contains("C: Do you like ketchup?\nC: How about pickles?\nC: .\n"),
        "{full}"
    );
}

#[test]
fn dialog_json_lines_carry_packets() {
    let lines = json_lines(&[
        "dialog",
        "--json",
        "--flow",
        "0",
        "captures/smtp-crepes-hamburger.pcapng",
    ]);
    assert_eq!(lines.len(), 14);
    // Packet indices are 0-based like `first_packet`: the handshake is
    // packets 0-2, the greeting packet 3, the HELO packet 5.
    assert_eq!(
        lines[0],
        json!({"flow": 0, "ts": lines[0]["ts"], "dir": "s2c", "kind": "reply",
               "text": "220 hamburger.edu", "packets": [3],
               // SHA-256 of the endpoints and the first packet's time
               // (trace::FlowUid), checked with Python's hashlib.
               "flow_uid": "Fa082f8173f96603a25a8f869"})
    );
    assert_eq!(lines[1]["text"], "HELO crepes.fr");
    assert_eq!(lines[1]["dir"], "c2s");
    assert_eq!(lines[1]["kind"], "command");
    assert_eq!(lines[1]["packets"], json!([5]));
    assert_eq!(lines[9]["kind"], "data");

    let missing = mailscope(&["dialog", "--flow", "3", "captures/pop3-bob.pcapng"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no flow 3"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_gap_is_shown_and_the_message_marked_incomplete() {
    let text = stdout(&mailscope(&["dialog", "captures/tcp-loss.pcapng"]));
    // The start of the line the gap cut is shown before the gap.
    assert!(
        text.contains("C:   1. Put the flour and the salt in a large b[… 536 bytes missing …]\n"),
        "{text}"
    );
    let records = json_lines(&["analyze", "--json", "captures/tcp-loss.pcapng"]);
    let m = of_type(&records, "message");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["complete"], false);
    let f = of_type(&records, "finding");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["code"], "gap-in-stream");
}

/// The sample with a message on its whole path: submission with AUTH
/// PLAIN (no STARTTLS), relay, POP3 download-and-delete.
#[test]
fn alice_to_bob_path_analysis() {
    let records = json_lines(&["analyze", "--json", "captures/alice-to-bob-path.pcapng"]);
    assert_eq!(records[0]["type"], "capture");
    let flows = of_type(&records, "flow");
    let protos: Vec<(&str, &str)> = flows
        .iter()
        .map(|f| (f["protocol"].as_str().unwrap(), f["tls"].as_str().unwrap()))
        .collect();
    assert_eq!(
        protos,
        [("smtp", "none"), ("smtp", "none"), ("pop3", "none")]
    );

    let messages = of_type(&records, "message");
    assert_eq!(messages.len(), 3);
    let expected = [
        (0, "DATA", picnic_message()),
        (1, "DATA", relayed_message()),
        (2, "RETR", stored_message()),
    ];
    let attachment = picnic_attachment();
    for (m, (flow, via, bytes)) in messages.iter().zip(expected) {
        assert_eq!(m["flow"], flow);
        assert_eq!(m["via"], via);
        assert_eq!(m["size"], bytes.len());
        assert_eq!(m["sha256"], sha256_hex(&bytes));
        assert_eq!(m["complete"], true);
        assert_eq!(m["subject"], "Información del picnic");
        assert_eq!(m["message_id"], "<20240304101500.4720@crepes.fr>");
        assert_eq!(m["from"], json!(["alice@crepes.fr"]));
        assert_eq!(m["to"], json!(["bob@hamburger.edu"]));
        assert_eq!(
            m["attachments"],
            json!([{
                "filename": "receta.txt",
                "content_type": "text/plain",
                "size": attachment.len(),
                "md5": md5_hex(&attachment),
                "sha256": sha256_hex(&attachment),
                "part": "2",
                "complete": true,
            }])
        );
    }
    assert_eq!(messages[0]["mail_from"], "<alice@crepes.fr>");
    assert_eq!(messages[0]["rcpt_to"], json!(["<bob@hamburger.edu>"]));
    assert_eq!(messages[0]["helo"], "alice-laptop");
    assert_eq!(messages[1]["helo"], "crepes.fr");
    assert_eq!(messages[1]["received"].as_array().unwrap().len(), 1);
    assert_eq!(messages[2]["received"].as_array().unwrap().len(), 2);
    assert_eq!(messages[2]["rcpt_to"], Value::Null);
    assert_eq!(messages[2]["number"], 1);
    assert_eq!(messages[2]["deleted"], true);

    let tx = of_type(&records, "transaction");
    let tx: Vec<(u64, &str, u64)> = tx
        .iter()
        .map(|t| {
            (
                t["flow"].as_u64().unwrap(),
                t["status"].as_str().unwrap(),
                t["message"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tx, [(0, "delivered", 0), (1, "delivered", 1)]);

    let creds = of_type(&records, "credential");
    let creds: Vec<(u64, &str, &str, &str, bool)> = creds
        .iter()
        .map(|c| {
            (
                c["flow"].as_u64().unwrap(),
                c["mechanism"].as_str().unwrap(),
                c["username"].as_str().unwrap(),
                c["password"].as_str().unwrap(),
                c["success"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        creds,
        [
            (0, "PLAIN", "alice", "secret", true),
            (2, "USER-PASS", "bob", "hungry", true)
        ]
    );

    let findings: Vec<(u64, &str, &str)> = of_type(&records, "finding")
        .iter()
        .map(|f| {
            (
                f["flow"].as_u64().unwrap(),
                f["severity"].as_str().unwrap(),
                f["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            (0, "high", "plaintext-auth"),
            (0, "medium", "starttls-not-used"),
            (2, "high", "plaintext-auth"),
        ]
    );

    let paths = of_type(&records, "message_path");
    assert_eq!(paths.len(), 1);
    assert_eq!(paths[0]["message_id"], "<20240304101500.4720@crepes.fr>");
    let hops: Vec<(u64, &str, u64)> = paths[0]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["flow"].as_u64().unwrap(),
                h["via"].as_str().unwrap(),
                h["message"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(hops, [(0, "DATA", 0), (1, "DATA", 1), (2, "RETR", 2)]);
    // The path is the last record.
    assert_eq!(records.last().unwrap()["type"], "message_path");
}

#[test]
fn human_summary_and_credentials_table() {
    let text = stdout(&mailscope(&[
        "analyze",
        "captures/alice-to-bob-path.pcapng",
    ]));
    for expected in [
        "Información del picnic",
        "receta.txt",
        "RETR 1 (deleted)",
        "Credentials (what anyone on the path could read)",
        "plaintext-auth",
        "starttls-not-used",
        "Message paths (one Message-ID on several flows)",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let creds = stdout(&mailscope(&["creds", "captures/alice-to-bob-path.pcapng"]));
    assert_eq!(
        creds,
        "  flow  proto  server        mechanism  username  password  result
  0     smtp   10.0.0.1:587  PLAIN      alice     secret    accepted
  2     pop3   10.0.0.2:110  USER-PASS  bob       hungry    accepted
"
    );
    let json = json_lines(&["creds", "--json", "captures/imap-bob.pcapng"]);
    assert_eq!(json.len(), 1);
    assert_eq!(json[0]["mechanism"], "IMAP-LOGIN");
    assert_eq!(json[0]["username"], "bob");
    assert_eq!(json[0]["password"], "hungry");
    assert_eq!(json[0]["success"], true);
}

#[test]
fn pop3_and_imap_fixtures() {
    let pop = json_lines(&["analyze", "--json", "captures/pop3-bob.pcapng"]);
    let sizes: Vec<(u64, u64, bool)> = of_type(&pop, "message")
        .iter()
        .map(|m| {
            (
                m["number"].as_u64().unwrap(),
                m["size"].as_u64().unwrap(),
                m["deleted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(sizes, [(1, 409, true), (2, 579, true)]);
    let imap = json_lines(&["analyze", "--json", "captures/imap-bob.pcapng"]);
    let m = of_type(&imap, "message");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["via"], "FETCH");
    assert_eq!(m[0]["size"], 1679);
    assert_eq!(m[0]["subject"], "Crepes for the picnic");
    assert_eq!(m[0]["deleted"], true);
}

#[test]
fn extract_writes_emls_attachments_and_index() {
    let dir = temp_dir("extract-path");
    let out = mailscope(&[
        "extract",
        "captures/alice-to-bob-path.pcapng",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (i, bytes) in [picnic_message(), relayed_message(), stored_message()]
        .iter()
        .enumerate()
    {
        let eml = dir.join(format!("messages/{:04}.eml", i + 1));
        assert_eq!(&std::fs::read(&eml).unwrap(), bytes, "{}", eml.display());
        let att = dir.join(format!("attachments/{:04}/receta.txt", i + 1));
        assert_eq!(std::fs::read(&att).unwrap(), picnic_attachment());
    }
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let index = index.as_array().unwrap();
    assert_eq!(index.len(), 3);
    assert_eq!(index[0]["eml"], "messages/0001.eml");
    assert_eq!(index[2]["via"], "RETR");
    assert_eq!(
        index[1]["attachments"][0]["path"],
        "attachments/0002/receta.txt"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn extract_never_writes_outside_its_directory() {
    let parent = temp_dir("extract-hostile");
    let dir = parent.join("out");
    let out = mailscope(&[
        "extract",
        "captures/smtp-hostile-names.pcapng",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Only "out" in the parent: nothing escaped.
    let siblings: Vec<_> = std::fs::read_dir(&parent)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings, ["out"]);
    let mut names: Vec<String> = std::fs::read_dir(dir.join("attachments/0001"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 10, "{names:?}");
    for n in &names {
        assert!(n.len() <= 255 && !n.contains(['/', '\\', '\0']), "{n:?}");
        assert!(n != "CON" && n != ".." && !n.starts_with('.'), "{n:?}");
    }
    for expected in ["x", "passwd", "evil.exe", "dup.txt"] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} in {names:?}"
        );
    }
    assert!(
        names
            .iter()
            .any(|n| n.ends_with(".pdf") && n.starts_with("AAAA"))
    );
    // Every attachment's content arrived intact under its new name.
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    for (i, a) in index[0]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let path = a["path"].as_str().unwrap();
        assert!(path.starts_with("attachments/0001/"), "{path}");
        let content = std::fs::read(dir.join(path)).unwrap();
        assert_eq!(a["sha256"], sha256_hex(&content), "{path}");
        if i < 9 {
            assert_eq!(content, format!("attachment {i}\n").as_bytes());
        }
    }
    std::fs::remove_dir_all(&parent).unwrap();
}
