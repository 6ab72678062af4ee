//! Issue 16, point 10: `open-relay` only with evidence. One flow cannot
//! show an open relay (every MX accepts mail for its domains from anyone,
//! RFC 5321 §3.6.2); the capture can, when the server is seen passing an
//! unauthenticated client's message on to another server
//! (`analysis::relay`). The captures are made by
//! `tests/support/relay_traffic.rs`; every output that shows findings
//! (`analyze --json`, the `analyze` table, the window) shows the same.

mod common;

use common::{json_lines, mailscope, stdout};
use serde_json::Value;

const RELAY_FINDING: &str = "relay.crepes.fr (10.0.31.1) accepted <victim@hamburger.edu> from 10.0.31.66:40100 without authentication (flow 0) and passed the message on to hamburger.edu (10.0.31.2:25) (flow 1): it relays for hamburger.edu, a domain that is not its own (RFC 5321 §3.6.2) — an open relay, unless it trusts the client's address or is a designated exchanger (MX) of hamburger.edu";

fn records(file: &str) -> Vec<Value> {
    json_lines(&["analyze", "--json", &format!("captures/{file}")])
}

/// `(flow, severity, message)` of every `open-relay` finding.
fn open_relays(records: &[Value]) -> Vec<(u64, String, String)> {
    records
        .iter()
        .filter(|r| r["type"] == "finding" && r["code"] == "open-relay")
        .map(|f| {
            (
                f["flow"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_relay_for_an_unauthenticated_client_is_an_open_relay() {
    let r = records("smtp-open-relay.pcapng");
    assert_eq!(
        open_relays(&r),
        [(0, "medium".to_string(), RELAY_FINDING.to_string())]
    );
    // Known only once both flows are read: it comes after the message
    // path that shows it, the last record.
    let kinds: Vec<&str> = r.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "capture",
            "flow",
            "message",
            "transaction",
            "flow",
            "message",
            "transaction",
            "message_path",
            "finding"
        ]
    );
    assert_eq!(r.last().unwrap()["ts"], r[2]["ts"], "the acceptance's time");
}

#[test]
fn the_same_relay_for_an_authenticated_user_is_not() {
    let r = records("smtp-relay-after-auth.pcapng");
    assert_eq!(open_relays(&r), []);
    // The two hops are there all the same.
    let paths: Vec<_> = r.iter().filter(|r| r["type"] == "message_path").collect();
    assert_eq!(paths.len(), 1);
    assert_eq!(paths[0]["hops"].as_array().unwrap().len(), 2);
}

#[test]
fn an_mx_taking_mail_for_a_domain_it_is_not_named_after_is_not() {
    // mx1.mailhost.example accepts <bob@hamburger.edu> from a client that
    // does not authenticate (the rule before issue 16 called that an open
    // relay), and the message goes on to Bob's POP3 client, not to
    // another SMTP server.
    let r = records("smtp-inbound-mx.pcapng");
    assert_eq!(open_relays(&r), []);
    let findings: Vec<&str> = r
        .iter()
        .filter(|r| r["type"] == "finding")
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(findings, ["plaintext-auth"]);
}

#[test]
fn no_fixture_but_the_open_relay_shows_one() {
    for file in common::capture_files(&common::own_captures_dir()) {
        let name = file.file_name().unwrap().to_str().unwrap();
        let found = open_relays(&records(name)).len();
        let expected = usize::from(name == "smtp-open-relay.pcapng");
        assert_eq!(found, expected, "{name}");
    }
}

#[test]
fn the_table_counts_it_with_its_flow() {
    let out = mailscope(&["analyze", "captures/smtp-open-relay.pcapng"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let flow_row = |id: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row {id}: {text}"))
            .split_whitespace()
            .last()
            .unwrap()
            .to_string()
    };
    // The findings column: flow 0 has the relay, flow 1 nothing.
    assert_eq!((flow_row("0"), flow_row("1")), ("1".into(), "0".into()));
    assert!(
        text.contains(&format!(
            "  medium  flow 0    open-relay         {RELAY_FINDING}\n"
        )),
        "{text}"
    );
}

/// The window shows the finding on the flow `analyze` names.
#[cfg(feature = "gui")]
#[test]
fn the_window_shows_the_same_finding() {
    use mailscope::gui::loader::{LoadOptions, analyze};
    for (file, expected) in [
        (
            "smtp-open-relay.pcapng",
            vec![(0, RELAY_FINDING.to_string())],
        ),
        ("smtp-relay-after-auth.pcapng", vec![]),
        ("smtp-inbound-mx.pcapng", vec![]),
    ] {
        let path = common::own_captures_dir().join(file);
        let scene = analyze(&path, &LoadOptions::default(), |_, _| {}).unwrap();
        let got: Vec<(u64, String)> = scene
            .findings
            .iter()
            .filter(|f| f.record.code.as_str() == "open-relay")
            .map(|f| {
                let conn = &scene.conns[f.conn.unwrap()];
                assert!(
                    conn.findings
                        .iter()
                        .any(|&i| std::ptr::eq(&scene.findings[i], f))
                );
                (conn.flow, f.record.message.clone())
            })
            .collect();
        assert_eq!(got, expected, "{file}");
    }
}

/// The demo's lesson on open relays: Alice's agent hands crepes.fr the
/// message on port 25 without AUTH and crepes.fr relays it to
/// hamburger.edu; the capture (TLS opened with the secrets it embeds)
/// shows `open-relay` on the submission. The ordinary demo, with AUTH,
/// shows none.
#[test]
fn the_demo_of_an_open_relay_shows_one_and_the_ordinary_demo_none() {
    let dir = common::temp_dir("open-relay-demo");
    for (net, extra, expected) in [
        ("127.0.92", &["--open-relay"][..], 1),
        ("127.0.93", &[][..], 0),
    ] {
        let capture = dir.join(format!("{net}.pcapng"));
        common::run_demo("starttls", "pop3", net, &capture, extra);
        let r = json_lines(&["analyze", "--json", capture.to_str().unwrap()]);
        let relays = open_relays(&r);
        assert_eq!(relays.len(), expected, "{net}: {relays:?}");
        if let Some((flow, severity, message)) = relays.first() {
            let submission = r
                .iter()
                .find(|f| f["type"] == "flow" && f["id"] == *flow)
                .unwrap();
            assert_eq!(
                (
                    submission["client"]
                        .as_str()
                        .unwrap()
                        .rsplit_once(':')
                        .unwrap()
                        .0,
                    submission["server"]
                        .as_str()
                        .unwrap()
                        .rsplit_once(':')
                        .unwrap()
                        .0,
                    severity.as_str()
                ),
                ("127.0.92.1", "127.0.92.2", "medium")
            );
            assert!(
                message.starts_with(&format!(
                    "crepes.fr (127.0.92.2) accepted <bob@hamburger.edu> from {} without authentication (flow {flow}) and passed the message on to hamburger.edu (127.0.92.3:",
                    submission["client"].as_str().unwrap()
                )),
                "{message}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
