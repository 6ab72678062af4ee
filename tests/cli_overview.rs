//! The overview that opens `mailscope analyze` and `analyze --summary`
//! (issue 20, items 3 and 6): its totals and top lists, checked against
//! the records of `analyze --json` and as exact values; bounded table
//! columns; the header From beside the envelope sender on SMTP rows.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use common::{json_lines, mailscope, stderr, stdout, temp_dir};
use mailscope::capture::builder::{Conversation, Dir, Frame};
use mailscope::capture::link::LINKTYPE_ETHERNET;
use mailscope::capture::writer::PcapNgWriter;
use serde_json::{Value, json};

use Dir::{ClientToServer as C, ServerToClient as S};

const ALICE: &str = "captures/alice-to-bob-path.pcapng";
/// 2024-03-04 09:15:00 UTC, as the project's captures.
const START: u64 = 1_709_543_700_000_000_000;

/// The README's rule: the envelope's angle brackets dropped.
fn address(sent: &str) -> String {
    let sent = sent.trim();
    match sent.strip_prefix('<').and_then(|a| a.strip_suffix('>')) {
        Some(inner) if !inner.trim().is_empty() => inner.trim().to_string(),
        _ => sent.to_string(),
    }
}

fn of_type<'a>(records: &'a [Value], t: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == t).collect()
}

fn summary_json(path: &str) -> Value {
    let lines = json_lines(&["analyze", "--summary", "--json", path]);
    assert_eq!(lines.len(), 1, "one object: {lines:?}");
    lines.into_iter().next().unwrap()
}

/// The overview's numbers computed here, by the README's rules, from the
/// records of `analyze --json`: what `--summary --json` must say.
fn expected_from_records(records: &[Value]) -> Value {
    let flows = of_type(records, "flow");
    let mut by_protocol: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    // host → (flows, as client, as server, bytes)
    let mut talkers: BTreeMap<IpAddr, (u64, u64, u64, u64)> = BTreeMap::new();
    for f in &flows {
        let e = by_protocol
            .entry(f["protocol"].as_str().unwrap().to_string())
            .or_default();
        e.0 += 1;
        e.1 += u64::from(f["tls"] != "none");
        let ip = |k: &str| f[k].as_str().unwrap().parse::<SocketAddr>().unwrap().ip();
        let bytes = f["bytes_c2s"].as_u64().unwrap() + f["bytes_s2c"].as_u64().unwrap();
        let (client, server) = (ip("client"), ip("server"));
        let hosts: &[(IpAddr, bool, bool)] = if client == server {
            &[(client, true, true)]
        } else {
            &[(client, true, false), (server, false, true)]
        };
        for &(host, c, s) in hosts {
            let t = talkers.entry(host).or_default();
            t.0 += 1;
            t.1 += u64::from(c);
            t.2 += u64::from(s);
            t.3 += bytes;
        }
    }
    let messages = of_type(records, "message");
    let mut senders: BTreeMap<String, u64> = BTreeMap::new();
    let mut recipients: BTreeMap<String, u64> = BTreeMap::new();
    for m in &messages {
        let sender = m["from"][0].as_str().or(m["mail_from"].as_str());
        if let Some(s) = sender {
            *senders.entry(address(s)).or_default() += 1;
        }
        let named: BTreeSet<String> = match m["rcpt_to"].as_array() {
            Some(r) => r.iter().map(|a| address(a.as_str().unwrap())).collect(),
            None => m["to"]
                .as_array()
                .unwrap()
                .iter()
                .chain(m["cc"].as_array().unwrap())
                .map(|a| address(a.as_str().unwrap()))
                .collect(),
        };
        for r in named {
            *recipients.entry(r).or_default() += 1;
        }
    }
    let creds = of_type(records, "credential");
    let mut users: BTreeMap<(String, String), (u64, u64, u64)> = BTreeMap::new();
    for c in &creds {
        if let Some(name) = c["username"].as_str() {
            let u = users
                .entry((
                    name.to_string(),
                    c["protocol"].as_str().unwrap().to_string(),
                ))
                .or_default();
            u.0 += 1;
            u.1 += u64::from(c["success"] == true);
            u.2 += u64::from(c["success"] == false);
        }
    }
    let findings = of_type(records, "finding");
    let severity = |s: &str| findings.iter().filter(|f| f["severity"] == s).count();
    let complete = messages.iter().filter(|m| m["complete"] == true).count();

    // Most first; ties by the key (BTreeMap order is the key's order, and
    // the sort is stable).
    let mut talkers: Vec<_> = talkers.into_iter().collect();
    talkers.sort_by_key(|(_, t)| std::cmp::Reverse((t.0, t.3)));
    let mut senders: Vec<_> = senders.into_iter().collect();
    senders.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let mut recipients: Vec<_> = recipients.into_iter().collect();
    recipients.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let mut users: Vec<_> = users.into_iter().collect();
    users.sort_by_key(|(_, u)| std::cmp::Reverse(u.0));
    let addresses = |list: Vec<(String, u64)>| {
        json!({"total": list.len(), "top": list.iter().take(10)
            .map(|(a, n)| json!({"address": a, "messages": n})).collect::<Vec<_>>()})
    };
    json!({
        "flows": {
            "total": flows.len(),
            "tls": by_protocol.values().map(|p| p.1).sum::<u64>(),
            "by_protocol": by_protocol.iter()
                .map(|(p, (n, tls))| (p.clone(), json!({"flows": n, "tls": tls})))
                .collect::<serde_json::Map<_, _>>(),
        },
        "messages": {
            "total": messages.len(),
            "complete": complete,
            "incomplete": messages.len() - complete,
        },
        "attachments": messages.iter()
            .map(|m| m["attachments"].as_array().unwrap().len()).sum::<usize>(),
        "credentials": {
            "total": creds.len(),
            "in_clear": creds.iter().filter(|c| c.get("tls").is_none()).count(),
        },
        "findings": {
            "total": findings.len(),
            "high": severity("high"),
            "medium": severity("medium"),
            "info": severity("info"),
        },
        "talkers": {"total": talkers.len(), "top": talkers.iter().take(10)
            .map(|(h, t)| json!({"host": h.to_string(), "flows": t.0, "as_client": t.1,
                                 "as_server": t.2, "bytes": t.3}))
            .collect::<Vec<_>>()},
        "senders": addresses(senders),
        "recipients": addresses(recipients),
        "users": {"total": users.len(), "top": users.iter().take(10)
            .map(|((name, p), u)| json!({"user": name, "protocol": p, "attempts": u.0,
                                         "accepted": u.1, "rejected": u.2}))
            .collect::<Vec<_>>()},
    })
}

/// The summary's keys that `expected_from_records` computes.
fn counted_part(summary: &Value) -> Value {
    let keys = [
        "flows",
        "messages",
        "attachments",
        "credentials",
        "findings",
        "talkers",
        "senders",
        "recipients",
        "users",
    ];
    Value::Object(
        keys.iter()
            .map(|k| (k.to_string(), summary[*k].clone()))
            .collect(),
    )
}

#[test]
fn alice_to_bob_totals_and_top_lists() {
    let summary = summary_json(ALICE);
    let records = json_lines(&["analyze", "--json", ALICE]);
    assert_eq!(counted_part(&summary), expected_from_records(&records));
    let capture = &records[0];
    for key in ["file", "format", "packets", "bytes", "tcp_flows"] {
        assert_eq!(summary[key], capture[key], "{key}");
    }
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["top"], 10);
    // And as exact values: Alice submits on 587, her server relays on 25,
    // Bob reads with POP3; both log in in clear.
    assert_eq!(
        summary["flows"],
        json!({"total": 3, "tls": 0, "by_protocol": {
            "pop3": {"flows": 1, "tls": 0}, "smtp": {"flows": 2, "tls": 0}}})
    );
    assert_eq!(
        summary["messages"],
        json!({"total": 3, "complete": 3, "incomplete": 0})
    );
    assert_eq!(summary["credentials"], json!({"total": 2, "in_clear": 2}));
    assert_eq!(
        summary["users"]["top"],
        json!([
            {"user": "alice", "protocol": "smtp", "attempts": 1, "accepted": 1, "rejected": 0},
            {"user": "bob", "protocol": "pop3", "attempts": 1, "accepted": 1, "rejected": 0},
        ])
    );
    assert_eq!(summary["talkers"]["total"], 4);
    assert_eq!(
        summary["talkers"]["top"][0],
        json!({"host": "10.0.0.2", "flows": 2, "as_client": 0, "as_server": 2, "bytes": 2598})
    );
    // Alice's address, from the header on all three flows.
    assert_eq!(
        summary["senders"],
        json!({"total": 1, "top": [{"address": "alice@crepes.fr", "messages": 3}]})
    );
    // The envelope's `<bob@hamburger.edu>` (two SMTP hops) and the
    // header's `bob@hamburger.edu` (the POP3 retrieval) are one address.
    assert_eq!(
        summary["recipients"],
        json!({"total": 1, "top": [{"address": "bob@hamburger.edu", "messages": 3}]})
    );
}

/// The same rules hold on every capture of the corpus (the project's and,
/// when present, `../shared/captures`): damaged ones, TLS, IPv6, tunnels.
#[test]
fn every_capture_summary_equals_its_records() {
    for file in common::all_captures() {
        let p = file.to_str().unwrap();
        let summary = summary_json(p);
        let records = json_lines(&["analyze", "--json", p]);
        assert_eq!(
            counted_part(&summary),
            expected_from_records(&records),
            "{p}"
        );
    }
}

#[test]
fn the_overview_opens_the_text_and_summary_prints_only_it() {
    let full = stdout(&mailscope(&["analyze", ALICE]));
    let out = mailscope(&["analyze", "--summary", ALICE]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    // The headline, then the overview: exactly what the full output
    // opens with, and nothing of the tables after it.
    assert!(full.starts_with(&summary), "{summary}\n---\n{full}");
    assert!(full[summary.len()..].starts_with("\nFlows\n"), "{full}");
    for table in ["\nFlows\n", "\nMessages\n", "\nCredentials", "\nFindings\n"] {
        assert!(!summary.contains(table), "{table:?} in:\n{summary}");
    }
    let overview: Vec<&str> = summary.lines().skip(1).take(7).collect();
    assert_eq!(
        overview,
        [
            "",
            "Overview",
            "  flows        3 (0 with TLS): pop3 1, smtp 2",
            "  messages     3 (3 complete, 0 incomplete)",
            &format!("  attachments  {}", summary_json(ALICE)["attachments"]),
            "  credentials  2 (2 in clear)",
            &overview_findings_line(&summary_json(ALICE)),
        ]
    );
    assert!(
        summary.contains(
            "\nTop users (credential user names, by attempts)\n  \
             user   proto  attempts  accepted  rejected\n  \
             alice  smtp   1         1         0\n  \
             bob    pop3   1         1         0\n"
        ),
        "{summary}"
    );
}

fn overview_findings_line(s: &Value) -> String {
    let f = &s["findings"];
    format!(
        "  findings     {} (high {}, medium {}, info {})",
        f["total"], f["high"], f["medium"], f["info"]
    )
}

#[test]
fn summary_with_parquet_is_a_usage_error() {
    for args in [
        vec![
            "analyze",
            "--summary",
            "--format",
            "parquet",
            "-o",
            "x",
            ALICE,
        ],
        vec!["analyze", "--summary", "-o", "x", ALICE],
    ] {
        let out = mailscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stdout(&out).is_empty());
    }
    let out = mailscope(&[
        "analyze",
        "--summary",
        "--format",
        "parquet",
        "-o",
        "x",
        ALICE,
    ]);
    assert_eq!(
        stderr(&out),
        "mailscope: --summary writes text or JSON, not parquet or ECS\n"
    );
}

/// One pcapng file of Ethernet frames from several conversations.
fn write_capture(name: &str, conversations: Vec<Conversation>) -> PathBuf {
    let mut frames: Vec<Frame> = conversations
        .into_iter()
        .flat_map(Conversation::into_frames)
        .collect();
    frames.sort_by_key(|f| f.ts_nanos);
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    let eth0 = w
        .add_interface(LINKTYPE_ETHERNET, 262_144, Some("eth0"))
        .unwrap();
    for f in &frames {
        w.write_packet(eth0, f.ts_nanos, &f.data).unwrap();
    }
    let path = temp_dir(name).join(format!("{name}.pcapng"));
    std::fs::write(&path, w.into_inner()).unwrap();
    path
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Twelve clients each hand the server one message whose header From is
/// not the envelope's: Bob's boss, at the attacker's address. Client 12's
/// subject is 100 characters long.
fn spoofed_crowd() -> PathBuf {
    let conversations = (1..=12u64)
        .map(|i| {
            let mut c = Conversation::new(
                addr(&format!("10.1.0.{i}:{}", 40000 + i)),
                addr("10.1.1.1:25"),
                START + i * 1_000_000_000,
            );
            let subject = if i == 12 {
                "S".repeat(100)
            } else {
                "quarterly invoice".to_string()
            };
            c.handshake();
            c.line(S, "220 mx.hamburger.edu ESMTP");
            c.line(C, "HELO crepes.fr");
            c.line(S, "250 mx.hamburger.edu");
            c.line(C, "MAIL FROM:<alice@crepes.fr>");
            c.line(S, "250 2.1.0 Ok");
            c.line(C, &format!("RCPT TO:<user{}@hamburger.edu>", i % 3));
            c.line(S, "250 2.1.5 Ok");
            c.line(C, "DATA");
            c.line(S, "354 End data with <CR><LF>.<CR><LF>");
            for line in [
                "From: Bob Boss <attacker@evil.example>",
                "To: staff@hamburger.edu",
                &format!("Subject: {subject}"),
                "",
                "Please pay the attached invoice today.",
                ".",
            ] {
                c.line(C, line);
            }
            c.line(S, "250 2.0.0 Ok: queued");
            c.line(C, "QUIT");
            c.line(S, "221 2.0.0 Bye");
            c.close();
            c
        })
        .collect();
    write_capture("overview-crowd", conversations)
}

#[test]
fn top_lists_are_cut_at_ten_and_ties_ordered_by_key() {
    let path = spoofed_crowd();
    let p = path.to_str().unwrap();
    let summary = summary_json(p);
    let records = json_lines(&["analyze", "--json", p]);
    assert_eq!(counted_part(&summary), expected_from_records(&records));
    // The server is in every flow; then the clients, one flow each: the
    // one with the long subject sent more bytes, the others tie and go by
    // address (numerically: 10.1.0.2 before 10.1.0.10).
    let hosts: Vec<&str> = summary["talkers"]["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["host"].as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        [
            "10.1.1.1",
            "10.1.0.12",
            "10.1.0.1",
            "10.1.0.2",
            "10.1.0.3",
            "10.1.0.4",
            "10.1.0.5",
            "10.1.0.6",
            "10.1.0.7",
            "10.1.0.8"
        ]
    );
    assert_eq!(summary["talkers"]["total"], 13);
    assert_eq!(summary["talkers"]["top"][0]["flows"], 12);
    assert_eq!(summary["talkers"]["top"][0]["as_server"], 12);
    // Four messages to each of three recipients: a tie, by address.
    assert_eq!(
        summary["recipients"]["top"],
        json!([
            {"address": "user0@hamburger.edu", "messages": 4},
            {"address": "user1@hamburger.edu", "messages": 4},
            {"address": "user2@hamburger.edu", "messages": 4},
        ])
    );
    // The sender is who the header says, not the envelope.
    assert_eq!(
        summary["senders"],
        json!({"total": 1, "top": [{"address": "attacker@evil.example", "messages": 12}]})
    );

    let text = stdout(&mailscope(&["analyze", p]));
    assert!(
        text.contains("\nTop talkers (top 10 of 13; hosts by flows, then bytes)\n"),
        "{text}"
    );
    assert!(
        text.contains("\nTop senders (header From, else MAIL FROM)\n"),
        "{text}"
    );
}

#[test]
fn smtp_rows_show_the_header_from_beside_the_envelope() {
    let path = spoofed_crowd();
    let text = stdout(&mailscope(&["analyze", path.to_str().unwrap()]));
    let table: Vec<&str> = text
        .split("\nMessages\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(table.len(), 13, "{text}");
    let header = table[0];
    assert_eq!(
        header,
        "  #   flow  via   mail from          header from                       to                     subject                                   bytes  complete  attachments"
    );
    for row in &table[1..] {
        assert!(
            row.contains("  DATA  <alice@crepes.fr>  Bob Boss <attacker@evil.example>  <user"),
            "{row}"
        );
    }
    // The 100-character subject is cut to the column's 40 characters, and
    // the column is no wider than that: `bytes` starts 42 after `subject`.
    let long = table[12];
    let subject_at = header.find("subject").unwrap();
    assert_eq!(header.find("bytes").unwrap() - subject_at, 42);
    let cut: String = std::iter::repeat_n('S', 39).chain(['…']).collect();
    assert!(
        long[subject_at..].starts_with(&format!("{cut}  ")),
        "{long}"
    );

    // POP3 and IMAP rows have no envelope: "-".
    let pop = stdout(&mailscope(&["analyze", "captures/pop3-bob.pcapng"]));
    let row = pop
        .split("\nMessages\n")
        .nth(1)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap();
    assert!(row.contains(" RETR 1 (deleted)  -  "), "{row}");
}

/// A POP3 login with a 100-character user name, refused.
fn long_user() -> PathBuf {
    let mut c = Conversation::new(addr("10.2.0.1:40100"), addr("10.2.0.2:110"), START);
    c.handshake();
    c.line(S, "+OK POP3 ready");
    c.line(C, &format!("USER {}", "u".repeat(100)));
    c.line(S, "+OK");
    c.line(C, "PASS hunter2");
    c.line(S, "-ERR authentication failed");
    c.line(C, "QUIT");
    c.line(S, "+OK bye");
    c.close();
    write_capture("overview-long-user", vec![c])
}

#[test]
fn a_long_user_name_does_not_widen_the_credentials_table() {
    let path = long_user();
    let p = path.to_str().unwrap();
    let cut: String = std::iter::repeat_n('u', 39).chain(['…']).collect();
    let creds = stdout(&mailscope(&["creds", p]));
    assert_eq!(
        creds,
        format!(
            "  flow  proto  server        mechanism  username{}  password  result\n  \
             0     pop3   10.2.0.2:110  USER-PASS  {cut}  hunter2   REJECTED\n",
            " ".repeat(32)
        )
    );
    let text = stdout(&mailscope(&["analyze", p]));
    assert!(
        text.contains(&format!(
            "\nTop users (credential user names, by attempts)\n  \
             user{}  proto  attempts  accepted  rejected\n  \
             {cut}  pop3   1         0         1\n",
            " ".repeat(36)
        )),
        "{text}"
    );
    // The JSON keeps the name whole.
    let summary = summary_json(p);
    assert_eq!(summary["users"]["top"][0]["user"], "u".repeat(100));
}
