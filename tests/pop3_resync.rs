//! Issue 16, point 9: a multi-line POP3 response without its final "."
//! (RFC 1939 §3) does not swallow what follows. The parser picks up at the
//! reply to the client's next command, says so in an
//! `unterminated-response` finding, and the next RETR's message is
//! extracted whole (`captures/pop3-unterminated.pcapng`, made by
//! `tests/support/relay_traffic.rs`).

mod common;
mod support;

use common::json_lines;
use mailscope::mail::sha256_hex;
use serde_json::Value;
use support::relay_traffic::{unterminated_message_1, unterminated_message_2};

const FILE: &str = "captures/pop3-unterminated.pcapng";

fn records() -> Vec<Value> {
    json_lines(&["analyze", "--json", FILE])
}

#[test]
fn every_retrieved_message_is_extracted_as_the_server_sent_it() {
    let (m1, m2) = (unterminated_message_1(), unterminated_message_2());
    let got: Vec<(u64, u64, u64, bool, String)> = records()
        .iter()
        .filter(|r| r["type"] == "message")
        .map(|m| {
            (
                m["flow"].as_u64().unwrap(),
                m["number"].as_u64().unwrap(),
                m["size"].as_u64().unwrap(),
                m["complete"].as_bool().unwrap(),
                m["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // Session 1: RETR 1 after the LIST without ".".
            (0, 1, m1.len() as u64, true, sha256_hex(&m1)),
            // Session 2: message 2's bytes are all there but its end was
            // never said; RETR 1 after it is whole.
            (1, 2, m2.len() as u64, false, sha256_hex(&m2)),
            (1, 1, m1.len() as u64, true, sha256_hex(&m1)),
        ]
    );
}

#[test]
fn the_finding_says_what_was_unterminated_and_where_parsing_resumed() {
    let (m1, m2) = (unterminated_message_1(), unterminated_message_2());
    // Both sessions: greeting 23, "+OK" 5, "+OK 2 messages" 16 bytes, so
    // the multi-line response's status line is at offset 44.
    let list_status = format!("+OK 2 messages ({} octets)\r\n", m1.len() + m2.len());
    let listing = format!("1 {}\r\n2 {}\r\n", m1.len(), m2.len());
    let resync_1 = 44 + list_status.len() + listing.len();
    let retr_2 = format!("+OK {} octets\r\n", m2.len());
    let resync_2 = 44 + retr_2.len() + m2.len();
    let findings: Vec<(u64, String, String, String)> = records()
        .iter()
        .filter(|r| r["type"] == "finding" && r["code"] == "unterminated-response")
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            (
                f["flow"].as_u64().unwrap(),
                text("severity"),
                text("code"),
                text("message"),
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            (
                0,
                "info".into(),
                "unterminated-response".into(),
                format!(
                    "the multi-line response to LIST (status line at offset 44) ended without its final \".\" line (RFC 1939 §3); the parser resynchronised at offset {resync_1} on \"+OK {} octets\", the reply to the client's next command",
                    m1.len()
                )
            ),
            (
                1,
                "medium".into(),
                "unterminated-response".into(),
                format!(
                    "the multi-line response to RETR 2 (status line at offset 44) ended without its final \".\" line (RFC 1939 §3); the parser resynchronised at offset {resync_2} on \"+OK {} octets\", the reply to the client's next command: the message is kept as retrieved so far, marked incomplete, since its end is not known",
                    m1.len()
                )
            ),
        ]
    );
    assert_eq!((resync_1, resync_2), (87, 242));
}

#[test]
fn the_transcript_goes_on_with_the_next_reply() {
    let out = common::mailscope(&["dialog", "--flow", "0", FILE]);
    let text = common::stdout(&out);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    let list = lines.iter().position(|l| *l == "C: LIST").unwrap();
    assert_eq!(
        lines[list..list + 8],
        [
            "C: LIST",
            "S: +OK 2 messages (329 octets)",
            "S: 1 147",
            "S: 2 182",
            "C: RETR 1",
            "S: +OK 147 octets",
            "S: [message: 147 bytes, 6 lines, Subject: crepes on Saturday]",
            "S: .",
        ]
    );
}
