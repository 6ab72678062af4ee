//! Traffic nobody showed us (what the server's replies decide): the
//! project's own captures of each class, read back with exact facts, and
//! their `analyze --json` output kept as golden files.
//! `captures/README.md` says what each capture holds.
//!
//! Golden files live in `tests/golden/session/`; after a deliberate change
//! regenerate them with
//! `MAILSCOPE_UPDATE_GOLDEN=1 cargo test --test session_traffic` and review
//! the diff.

mod common;
mod support;

use std::path::Path;

use common::{json_lines, mailscope, stderr, stdout, temp_dir};
use mailscope::mail::sha256_hex;
use serde_json::{Value, json};
use support::session_traffic::note_message;

fn records(file: &str) -> Vec<Value> {
    json_lines(&["analyze", "--json", &format!("captures/{file}")])
}

fn of_type<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == kind).collect()
}

/// A transaction's envelope and outcome, as compared below.
fn transaction(t: &Value) -> Value {
    json!({
        "flow": t["flow"],
        "mail_from": t["mail_from"],
        "rcpt_to": t["rcpt_to"],
        "rcpt_rejected": t["rcpt_rejected"],
        "recipients": t["recipients"],
        "status": t["status"],
        "reply": t["reply"],
        "message": t["message"],
    })
}

fn rcpt(address: &str, code: u16, reply: &str) -> Value {
    json!({"address": address, "code": code, "reply": reply})
}

const CAPTURES: [&str; 3] = [
    "smtp-recipient-replies.pcapng",
    "smtp-text-before-354.pcapng",
    "auth-replies.pcapng",
];

/// Issue 16, point 7: every recipient the client gave is in its
/// transaction with the server's reply; one refused (5xx, 4xx, 503) is
/// never listed as accepted.
#[test]
fn every_rcpt_is_in_its_transaction_with_the_reply() {
    let r = records("smtp-recipient-replies.pcapng");
    let got: Vec<Value> = of_type(&r, "transaction")
        .into_iter()
        .map(transaction)
        .collect();
    let need_mail = "503 5.5.1 Error: need MAIL command";
    assert_eq!(
        got,
        [
            json!({
                "flow": 0,
                "mail_from": "<alice@example.com>",
                "rcpt_to": ["<bob@example.org>"],
                "rcpt_rejected": ["<nobody@example.org>", "<carol@example.org>"],
                "recipients": [
                    rcpt("<bob@example.org>", 250, "250 2.1.5 Ok"),
                    rcpt(
                        "<nobody@example.org>",
                        550,
                        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown"
                    ),
                    rcpt("<carol@example.org>", 452, "452 4.5.3 Error: too many recipients"),
                ],
                "status": "delivered",
                "reply": "250 2.0.0 Ok: queued as 4F2A1",
                "message": 0,
            }),
            // The MAIL is refused, then each pipelined RCPT: none accepted.
            json!({
                "flow": 1,
                "mail_from": "<mallory@spam.example>",
                "rcpt_to": [],
                "rcpt_rejected": ["<bob@example.org>", "<carol@example.org>"],
                "recipients": [
                    rcpt("<bob@example.org>", 503, need_mail),
                    rcpt("<carol@example.org>", 503, need_mail),
                ],
                "status": "rejected",
                "reply": "550 5.7.1 <mallory@spam.example>: Sender address rejected: Access denied",
                "message": null,
            }),
            // The nested MAIL is refused; Alice's transaction goes on.
            json!({
                "flow": 2,
                "mail_from": "<bob@example.org>",
                "rcpt_to": [],
                "rcpt_rejected": [],
                "recipients": [],
                "status": "rejected",
                "reply": "503 5.5.1 Error: nested MAIL command",
                "message": null,
            }),
            json!({
                "flow": 2,
                "mail_from": "<alice@example.com>",
                "rcpt_to": ["<carol@example.org>"],
                "rcpt_rejected": [],
                "recipients": [rcpt("<carol@example.org>", 250, "250 2.1.5 Ok")],
                "status": "delivered",
                "reply": "250 2.0.0 Ok: queued as 4F2A2",
                "message": 1,
            }),
        ]
    );
    let messages: Vec<_> = of_type(&r, "message")
        .iter()
        .map(|m| {
            (
                m["mail_from"].clone(),
                m["rcpt_to"].clone(),
                m["size"].as_u64().unwrap(),
                m["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            (
                json!("<alice@example.com>"),
                json!(["<bob@example.org>"]),
                129,
                sha256_hex(&note_message("lunch"))
            ),
            (
                json!("<alice@example.com>"),
                json!(["<carol@example.org>"]),
                131,
                sha256_hex(&note_message("nested"))
            ),
        ]
    );
}

/// In every capture of this family, each address in a transaction's
/// `rcpt_to` was accepted (2xx) or, with no reply to any RCPT of the
/// transaction in the capture, not answered at all.
#[test]
fn no_refused_recipient_is_ever_listed_as_accepted() {
    let mut checked = 0;
    for file in CAPTURES {
        for t in of_type(&records(file), "transaction") {
            let recipients = t["recipients"].as_array().unwrap();
            let answered = recipients.iter().any(|r| !r["code"].is_null());
            for a in t["rcpt_to"].as_array().unwrap() {
                let r = recipients
                    .iter()
                    .find(|r| r["address"] == *a)
                    .unwrap_or_else(|| panic!("{file}: {a} not among {recipients:?}"));
                match r["code"].as_u64() {
                    Some(code) => assert!((200..300).contains(&code), "{file}: {t}"),
                    None => assert!(!answered, "{file}: {t}"),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 7);
}

/// Issue 16, point 8: text sent before the 354 is a message only if the
/// server takes it; there is never an empty message.
#[test]
fn text_before_the_354_is_a_message_only_if_the_server_takes_it() {
    let r = records("smtp-text-before-354.pcapng");
    let messages: Vec<_> = of_type(&r, "message")
        .iter()
        .map(|m| {
            (
                m["flow"].as_u64().unwrap(),
                m["subject"].as_str().unwrap().to_string(),
                m["size"].as_u64().unwrap(),
                m["sha256"].as_str().unwrap().to_string(),
                m["complete"].as_bool().unwrap(),
            )
        })
        .collect();
    let message = |flow, subject: &str, size| {
        (
            flow,
            subject.to_string(),
            size,
            sha256_hex(&note_message(subject)),
            true,
        )
    };
    assert_eq!(
        messages,
        [
            message(0, "sent before 354", 149),
            message(1, "after the refusal", 153),
            message(3, "never answered", 147),
        ]
    );
    let got: Vec<_> = of_type(&r, "transaction")
        .iter()
        .map(|t| {
            (
                t["flow"].as_u64().unwrap(),
                t["status"].as_str().unwrap(),
                t["reply"].as_str().map(str::to_string),
                t["message"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                0,
                "delivered",
                Some("250 2.0.0 Ok: queued as 5B3C1".into()),
                Some(0)
            ),
            (
                1,
                "rejected",
                Some("554 5.5.1 Error: no valid recipients".into()),
                None
            ),
            (
                1,
                "delivered",
                Some("250 2.0.0 Ok: queued as 5B3C2".into()),
                Some(1)
            ),
            // The empty messages: delivered, without a message record.
            (
                2,
                "delivered",
                Some("250 2.0.0 Ok: queued as 5B3C3".into()),
                None
            ),
            (
                2,
                "delivered",
                Some("250 2.0.0 Ok: 0 bytes queued as 5B3C4".into()),
                None
            ),
            (3, "aborted", None, Some(2)),
        ]
    );
    let findings: Vec<_> = of_type(&r, "finding")
        .iter()
        .map(|f| {
            (
                f["flow"].as_u64().unwrap(),
                f["code"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    // No reply is left without its command: each line of the refused
    // text got its own.
    assert_eq!(
        findings,
        [
            (
                0,
                "protocol-anomaly",
                "the client sent message text before the server's 354 (RFC 2920 §3.1: DATA ends a pipelined group, the text waits for 354); the server took it as the message"
            ),
            (
                1,
                "data-rejected",
                "the server rejected DATA (554 5.5.1 Error: no valid recipients): the 37 bytes the client had sent after it without waiting for the 354 (RFC 2920 §3.1) were not a message; the server read them as commands"
            ),
        ]
    );
}

/// The refused text in the transcript: the commands the server read,
/// where the client sent them, each pointing at the packet that carried
/// it.
#[test]
fn refused_text_is_shown_as_the_commands_the_server_read() {
    let file = "captures/smtp-text-before-354.pcapng";
    let lines = json_lines(&["dialog", "--json", "--flow", "1", file]);
    let texts: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["dir"].as_str().unwrap(), l["text"].as_str().unwrap()))
        .collect();
    assert_eq!(
        &texts[5..17],
        [
            ("c2s", "MAIL FROM:<alice@example.com>"),
            ("c2s", "RCPT TO:<nobody@example.org>"),
            ("c2s", "DATA"),
            ("c2s", "Subject: not a message"),
            ("c2s", ""),
            ("c2s", "Hello?"),
            ("c2s", "."),
            ("s2c", "250 2.1.0 Ok"),
            (
                "s2c",
                "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown"
            ),
            ("s2c", "554 5.5.1 Error: no valid recipients"),
            ("s2c", "502 5.5.2 Error: command not recognized"),
            ("s2c", "500 5.5.2 Error: bad syntax"),
        ]
    );
    assert!(lines[5..12].iter().all(|l| l["kind"] == "command"));
    // The blast is one segment: every line of it, read again, points at
    // the same packet.
    let packets: Vec<&Value> = lines[5..12].iter().map(|l| &l["packets"]).collect();
    assert_eq!(packets.len(), 7);
    assert!(packets.iter().all(|p| *p == packets[0]), "{packets:?}");
    assert_eq!(packets[0].as_array().unwrap().len(), 1);
}

/// `extract` writes the three messages, byte for byte, and no empty file.
#[test]
fn extract_writes_no_empty_eml() {
    let dir = temp_dir("session-extract");
    let out = mailscope(&[
        "extract",
        "captures/smtp-text-before-354.pcapng",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("messages"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            ("0001.eml".to_string(), note_message("sent before 354")),
            ("0002.eml".to_string(), note_message("after the refusal")),
            ("0003.eml".to_string(), note_message("never answered")),
        ]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 16, point 11: every credential carries the server's reply; a
/// refused AUTH in which the client revealed nothing is no credential and
/// names no user "?".
#[test]
fn every_credential_carries_the_servers_reply() {
    let r = records("auth-replies.pcapng");
    let creds: Vec<Value> = of_type(&r, "credential")
        .iter()
        .map(|c| {
            json!([
                c["flow"],
                c["protocol"],
                c["mechanism"],
                c["username"],
                c["password"],
                c["success"],
                c["reply"]
            ])
        })
        .collect();
    assert_eq!(
        creds,
        [
            json!([0, "smtp", "LOGIN", "alice", "wrong", false, "535"]),
            json!([0, "smtp", "PLAIN", "alice", "secret", true, "235"]),
            json!([1, "pop3", "USER-PASS", "bob", "wrong", false, "-ERR"]),
            json!([1, "pop3", "USER-PASS", "bob", "hungry", true, "+OK"]),
            json!([2, "imap", "IMAP-LOGIN", "bob", "wrong", false, "NO"]),
            json!([2, "imap", "IMAP-LOGIN", "bob", "hungry", true, "OK"]),
            // The capture ends before the verdict.
            json!([3, "smtp", "PLAIN", "carol", "swordfish", null, null]),
        ]
    );
    let users: Vec<_> = of_type(&r, "finding")
        .iter()
        .filter(|f| f["code"] == "plaintext-auth")
        .map(|f| {
            let m = f["message"].as_str().unwrap();
            m.split('"').nth(1).unwrap().to_string()
        })
        .collect();
    assert_eq!(
        users,
        ["alice", "alice", "bob", "bob", "bob", "bob", "carol"]
    );
    // The human table says the same.
    let table = stdout(&mailscope(&["creds", "captures/auth-replies.pcapng"]));
    assert_eq!(table.matches("REJECTED").count(), 3, "{table}");
    assert!(!table.contains("CRAM-MD5"), "{table}");
}

/// The `analyze --json` records of each capture of this family, as
/// reviewed.
#[test]
fn golden_records() {
    let update = std::env::var_os("MAILSCOPE_UPDATE_GOLDEN").is_some();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/session");
    std::fs::create_dir_all(&dir).unwrap();
    let mut mismatches = Vec::new();
    for file in CAPTURES {
        let out = mailscope(&["analyze", "--json", &format!("captures/{file}")]);
        assert!(out.status.success(), "{file}: {}", stderr(&out));
        let actual = stdout(&out);
        let golden = dir.join(format!("{file}.jsonl"));
        if update {
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("no golden file {}", golden.display()));
        if expected != actual {
            mismatches.push(format!(
                "{file}:\n--- expected\n{expected}+++ actual\n{actual}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
