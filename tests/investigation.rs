//! Issue 20, items 1 and 2: the findings and indicators an incident
//! responder looks for. `captures/auth-guessing.pcapng` is made by
//! `tests/support/investigation.rs`: a client refused four times across
//! SMTP, POP3 and IMAP that then gets in and sends a phishing message,
//! and two clients whose refusals are not guessing.

mod common;

use common::{all_captures, json_lines, mailscope, own_captures_dir, stdout};
use serde_json::{Value, json};

const GUESSING: &str = "4 refused logins from 10.0.33.66 to 10.0.33.1 in 39 s over 3 connections (IMAP LOGIN ×1, POP3 USER-PASS ×1, SMTP PLAIN ×2), user bob; then a login as bob was accepted (flow 5, SMTP)";
const SPOOF: &str = "From: display name \"security@hamburger.edu\" shows security@hamburger.edu, but the message is from helpdesk@evil.example: a mail client shows the name";
const REPLY_TO: &str = "Reply-To: collect@drop.example sends answers to drop.example, but the message is from helpdesk@evil.example (evil.example)";

/// The new findings' codes.
const CODES: [&str; 3] = ["auth-guessing", "display-name-spoof", "reply-to-mismatch"];

fn records(path: &str, threads: &str) -> Vec<Value> {
    json_lines(&["analyze", "--json", "--threads", threads, path])
}

/// `(flow, severity, code, message)` of the findings with the new codes.
fn new_findings(records: &[Value]) -> Vec<(u64, String, String, String)> {
    records
        .iter()
        .filter(|r| r["type"] == "finding" && CODES.contains(&r["code"].as_str().unwrap_or("")))
        .map(|f| {
            (
                f["flow"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expected() -> Vec<(u64, String, String, String)> {
    [
        (5, "high", "display-name-spoof", SPOOF),
        (5, "medium", "reply-to-mismatch", REPLY_TO),
        (5, "high", "auth-guessing", GUESSING),
    ]
    .into_iter()
    .map(|(f, s, c, m)| (f, s.to_string(), c.to_string(), m.to_string()))
    .collect()
}

#[test]
fn guessing_across_protocols_then_a_login_is_high_on_the_login() {
    for threads in ["1", "2"] {
        let r = records("captures/auth-guessing.pcapng", threads);
        assert_eq!(new_findings(&r), expected(), "--threads {threads}");
        // The finding comes after the last flow, at the accepted login's
        // time, with that flow's uid.
        let f = r.iter().find(|r| r["code"] == "auth-guessing").unwrap();
        let login = r
            .iter()
            .find(|r| r["type"] == "credential" && r["flow"] == 5)
            .unwrap();
        assert_eq!(f["ts"], login["ts"]);
        let flow5 = r
            .iter()
            .find(|r| r["type"] == "flow" && r["id"] == 5)
            .unwrap();
        assert_eq!(f["flow_uid"], flow5["flow_uid"]);
        // The typo (10.0.33.77, flow 2) and the slow client (10.0.33.88,
        // eleven minutes between refusals) raise nothing.
        assert_eq!(r.iter().filter(|r| r["code"] == "auth-guessing").count(), 1);
    }
}

#[test]
fn the_message_carries_its_indicators() {
    let r = records("captures/auth-guessing.pcapng", "1");
    let m = r.iter().find(|r| r["type"] == "message").unwrap();
    assert_eq!(m["reply_to"], json!(["collect@drop.example"]));
    // The text part's link and the HTML's, whose quoted-printable soft
    // line break and `&amp;` are undone: the same link once.
    assert_eq!(
        m["urls"],
        json!([
            "https://hamburger-edu.evil.example/login?u=carol&next=inbox",
            "http://203.0.113.9/keep"
        ])
    );
    assert_eq!(m["received_hops"], json!([]));
    assert_eq!(m["from_name"], "security@hamburger.edu");
}

#[test]
fn received_hops_taken_apart_oldest_first() {
    let r = records("captures/smtp-open-relay.pcapng", "1");
    let messages: Vec<&Value> = r.iter().filter(|r| r["type"] == "message").collect();
    // The client's copy has no Received: field; the relay's has its own.
    assert_eq!(messages[0]["received_hops"], json!([]));
    assert_eq!(
        messages[1]["received_hops"],
        json!([{
            "from": "bulk.bank.example",
            "from_ip": "10.0.31.66",
            "from_rdns": "bulk.bank.example",
            "by": "relay.crepes.fr",
            "with": "ESMTP",
            "id": "5100",
            "for": "victim@hamburger.edu",
            "time": "2024-03-04T09:15:00Z",
            "delay_secs": null
        }])
    );
    // The Alice → Bob path: each relay adds a hop on top; read oldest
    // first, each hop's delay is its time minus the one before.
    let r = records("captures/alice-to-bob-path.pcapng", "1");
    for m in r.iter().filter(|r| r["type"] == "message") {
        let hops = m["received_hops"].as_array().unwrap();
        let raw = m["received"].as_array().unwrap();
        assert_eq!(hops.len(), raw.len());
        for (hop, field) in hops.iter().zip(raw.iter().rev()) {
            let by = hop["by"].as_str().unwrap();
            assert!(
                field.as_str().unwrap().contains(&format!("by {by}")),
                "{field} / {hop}"
            );
        }
        assert!(hops.first().is_none_or(|h| h["delay_secs"].is_null()));
    }
}

/// No other capture of ours raises them; the shared corpus is reported
/// (real mail has real Reply-To and display names).
#[test]
fn no_other_fixture_raises_them() {
    for file in common::capture_files(&own_captures_dir()) {
        let name = file.file_name().unwrap().to_str().unwrap();
        let found = new_findings(&records(file.to_str().unwrap(), "1"));
        if name == "auth-guessing.pcapng" {
            assert_eq!(found, expected());
        } else if name == "auth-replies.pcapng" {
            // Three refusals within a second from one client at one
            // server, across SMTP, POP3 and IMAP, each followed by the
            // right password: by the rule that is guessing too (a person
            // mistyping three times looks the same on the wire).
            let message = "3 refused logins from 10.0.42.1 to 10.0.42.2 in 0 s over 3 connections (IMAP LOGIN ×1, POP3 USER-PASS ×1, SMTP LOGIN ×1), users bob, alice; then a login as alice was accepted (flow 0, SMTP)";
            assert_eq!(
                found,
                [(0, "high".into(), "auth-guessing".into(), message.into())]
            );
        } else {
            assert_eq!(found, [], "{name}");
        }
    }
    for file in all_captures() {
        let r = records(file.to_str().unwrap(), "1");
        // Every message record has the three keys, lists even when empty.
        for m in r.iter().filter(|r| r["type"] == "message") {
            for key in ["reply_to", "urls", "received_hops"] {
                assert!(m[key].is_array(), "{}: {key} {m}", file.display());
            }
        }
    }
}

#[test]
fn the_table_shows_them() {
    let out = mailscope(&["analyze", "captures/auth-guessing.pcapng"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for (code, message) in [
        ("auth-guessing", GUESSING),
        ("display-name-spoof", SPOOF),
        ("reply-to-mismatch", REPLY_TO),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("flow 5    {code}")) && l.ends_with(message)),
            "{code}: {text}"
        );
    }
}

/// The window gives the guessing finding to the flow `analyze` names.
#[cfg(feature = "gui")]
#[test]
fn the_window_shows_the_same_findings() {
    use mailscope::gui::loader::{LoadOptions, analyze};
    let path = own_captures_dir().join("auth-guessing.pcapng");
    let scene = analyze(&path, &LoadOptions::default(), |_, _| {}).unwrap();
    let mut got: Vec<(u64, String, String)> = scene
        .findings
        .iter()
        .filter(|f| CODES.contains(&f.record.code.as_str()))
        .map(|f| {
            (
                f.record.flow.unwrap(),
                f.record.code.as_str().to_string(),
                f.record.message.clone(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(u64, String, String)> = expected()
        .into_iter()
        .map(|(f, _, c, m)| (f, c, m))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

/// `Authentication-Results:` of a real capture (suricata-verify's `pop3`,
/// mail fetched from a Microsoft 365 tenant): the verdicts of both
/// servers that received the bounce, topmost first, in Microsoft's layout
/// (its authserv-id after the first result).
#[test]
fn authentication_results_of_a_real_capture() {
    let Some(dir) = common::shared_captures_dir() else {
        eprintln!("../shared/captures is not there: skipped");
        return;
    };
    let path = dir.join("suricata-verify/pop3/input.pcap");
    let records = records(path.to_str().unwrap(), "1");
    let messages: Vec<&Value> = records.iter().filter(|r| r["type"] == "message").collect();
    let with_results: Vec<u64> = messages
        .iter()
        .filter(|m| !m["auth_results"].as_array().unwrap().is_empty())
        .map(|m| m["number"].as_u64().unwrap())
        .collect();
    assert_eq!(with_results, vec![72, 94]);
    let bounce = messages.iter().find(|m| m["number"] == 94).unwrap();
    let verdict = |id: &str, method: &str, result: &str, props: &[&str]| {
        json!({"authserv_id": id, "method": method, "result": result, "reason": null,
               "properties": props})
    };
    assert_eq!(
        bounce["auth_results"],
        json!([
            verdict(
                "ingenierianumar.com",
                "spf",
                "none",
                &["smtp.helo=062-smtp-out.jci.com"]
            ),
            verdict("ingenierianumar.com", "dkim", "none", &["header.d=none"]),
            verdict(
                "ingenierianumar.com",
                "dmarc",
                "fail",
                &["action=none", "header.from=jci.com"]
            ),
            verdict(
                "jci.com",
                "spf",
                "none",
                &["smtp.mailfrom=ingenierianumar.com"]
            ),
            verdict("jci.com", "dkim", "none", &["header.d=none"]),
            verdict(
                "jci.com",
                "dmarc",
                "none",
                &["action=none", "header.from=ingenierianumar.com"]
            ),
        ])
    );
    // The same verdicts in ECS, under `mailscope` (ECS has no field for
    // them), where an absent reason is left out rather than null.
    let ecs = json_lines(&["analyze", "--format", "ecs", path.to_str().unwrap()]);
    let event = ecs
        .iter()
        .find(|e| {
            e["mailscope"]["auth_results"]
                .as_array()
                .is_some_and(|a| a.len() == 6)
        })
        .expect("an ECS event with the bounce's six verdicts");
    assert_eq!(
        event["mailscope"]["auth_results"][2],
        json!({"authserv_id": "ingenierianumar.com", "method": "dmarc", "result": "fail",
               "properties": ["action=none", "header.from=jci.com"]})
    );
}
