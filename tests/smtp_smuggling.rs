//! `captures/smtp-smuggling.pcapng` (issue 21): the issue's SMTP
//! smuggling attack against the world's server, which refuses it. The
//! analyzer flags each attack `smtp-smuggling`, and still reports the text
//! the client sent as the one message it was.

mod common;

use serde_json::Value;

const FILE: &str = "captures/smtp-smuggling.pcapng";

fn records() -> Vec<Value> {
    common::json_lines(&["analyze", "--json", FILE])
}

fn of_type<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == kind).collect()
}

#[test]
fn each_attack_is_flagged_once_and_high() {
    let r = records();
    let smuggling: Vec<(u64, &str)> = of_type(&r, "finding")
        .into_iter()
        .filter(|f| f["code"] == "smtp-smuggling")
        .map(|f| (f["flow"].as_u64().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(smuggling, [(0, "high"), (1, "high")]);
    let first = of_type(&r, "finding")
        .into_iter()
        .find(|f| f["code"] == "smtp-smuggling")
        .unwrap();
    assert_eq!(
        first["message"],
        "the message text holds a lone \".\" next to a bare LF or CR (client stream byte 85): RFC 5321 §4.1.1.4 ends the data only at <CRLF>.<CRLF>, but a server and a relaying client may disagree about where the message ends, and what follows can run as commands on the next hop, a second, forged message (SMTP smuggling, CVE-2023-51764)"
    );
}

#[test]
fn the_first_message_is_still_shown_whole_and_refused() {
    let r = records();
    let messages: Vec<(u64, &str, u64, &str)> = of_type(&r, "message")
        .into_iter()
        .map(|m| {
            (
                m["flow"].as_u64().unwrap(),
                m["subject"].as_str().unwrap(),
                m["size"].as_u64().unwrap(),
                m["sha256"].as_str().unwrap(),
            )
        })
        .collect();
    // Flow 0: "Subject: c\r\n\r\nhi\n.\nMAIL FROM:<admin@hamburger.edu>\r\n
    // RCPT TO:<alice@hamburger.edu>\r\nDATA\r\nSubject: smuggled\r\n\r\n
    // x\r\n": the forged transaction is text of the first message. Flow 1
    // the same with "\r.\r".
    assert_eq!(
        messages,
        [
            (
                0,
                "c",
                113,
                "44255a0adbc01a0a34ed634cf156fd5a8f4decb6ceab5593e5fec3745bd17738"
            ),
            (
                1,
                "c",
                113,
                "82df4e8dd2a4d8601faa5c8c4de1cd9803abbfbd08b41efac61e6efc61718c15"
            ),
            (
                2,
                "lf",
                32,
                "c1b93fce8c2e66706dbb802e63c26af8490e1ae48a2104fe241d810209d01f75"
            ),
        ]
    );
    let transactions: Vec<(u64, &str, &str, &str)> = of_type(&r, "transaction")
        .into_iter()
        .map(|t| {
            (
                t["flow"].as_u64().unwrap(),
                t["mail_from"].as_str().unwrap(),
                t["status"].as_str().unwrap(),
                t["reply"].as_str().unwrap(),
            )
        })
        .collect();
    let refused = "554 5.5.2 Message refused: a line holding only \".\" ends with a bare LF or CR, which some servers take for the end of the data (SMTP smuggling); only <CR><LF>.<CR><LF> ends it";
    assert_eq!(
        transactions,
        [
            (0, "<a@x.example>", "rejected", refused),
            (1, "<a@x.example>", "rejected", refused),
            (
                2,
                "<carol@x.example>",
                "delivered",
                "250 2.0.0 Ok: queued as 4A1"
            ),
        ]
    );
    // The forged sender never appears as an envelope.
    assert!(
        !of_type(&r, "transaction")
            .iter()
            .any(|t| t["mail_from"] == "<admin@hamburger.edu>")
    );
}

/// Real captures hold clients that end every line with a bare LF (here
/// Suricata's `smtp-url-b64`: `DATA\n`, the text, `.\n`, and a server that
/// answers 250). Their "." is their end and every lenient reader agrees,
/// so the capture gets `bare-lf` findings but no `smtp-smuggling`: a
/// high-severity false alarm would teach analysts to ignore the real one.
#[test]
fn a_client_that_ends_every_line_with_lf_is_not_smuggling() {
    let Some(shared) = common::shared_captures_dir() else {
        eprintln!("../shared/captures not present: skipped");
        return;
    };
    let file = shared.join("suricata-verify/smtp-url-base64/smtp-url-b64.pcap");
    let r = common::json_lines(&["analyze", "--json", file.to_str().unwrap()]);
    let codes: Vec<&str> = of_type(&r, "finding")
        .into_iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"bare-lf"), "{codes:?}");
    assert!(!codes.contains(&"smtp-smuggling"), "{codes:?}");
    let delivered: Vec<&str> = of_type(&r, "transaction")
        .into_iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(delivered, ["delivered"]);
}
