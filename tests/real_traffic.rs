//! Traffic nobody showed us (recognition and TLS transitions): the
//! project's own captures of each class, read back with exact facts.
//! `captures/README.md` says what each capture holds.

mod common;

use common::json_lines;
use mailscope::analysis::{AnalyzeOptions, Driver, FlowAnalysis, Order, RunOptions};
use mailscope::capture::{CaptureReader, DecodeOutcome, Decoder};
use mailscope::trace::DialogueOptions;
use serde_json::Value;

fn records(file: &str) -> Vec<Value> {
    json_lines(&["analyze", "--json", &format!("captures/{file}")])
}

fn of_type<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == kind).collect()
}

fn codes_of_flow(records: &[Value], flow: u64) -> Vec<String> {
    of_type(records, "finding")
        .into_iter()
        .filter(|f| f["flow"] == flow)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn mail_is_recognised_from_the_clients_side_on_any_port() {
    let r = records("mail-recognised-by-client.pcapng");
    let flows = of_type(&r, "flow");
    let verdicts: Vec<_> = flows
        .iter()
        .map(|f| {
            (
                f["server"].as_str().unwrap(),
                f["protocol"].as_str().unwrap(),
                f["protocol_reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("10.0.20.2:2626", "smtp", "client commands"),
            ("10.0.20.3:1025", "smtp", "client commands"),
            ("10.0.20.4:7993", "imap", "client commands"),
        ]
    );
    let messages = of_type(&r, "message");
    let subjects: Vec<_> = messages
        .iter()
        .map(|m| (m["via"].as_str().unwrap(), m["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(subjects, [("BDAT", "chunked"), ("DATA", "service ready")]);
    let creds = of_type(&r, "credential");
    assert_eq!(creds.len(), 1);
    assert_eq!(
        (
            creds[0]["mechanism"].as_str(),
            creds[0]["username"].as_str(),
            creds[0]["password"].as_str()
        ),
        (Some("IMAP-LOGIN"), Some("bob"), Some("hungry"))
    );
}

#[test]
fn mail_inside_proxy_tunnels_is_read_and_the_tunnel_named() {
    let r = records("mail-in-proxy-tunnels.pcapng");
    let tunnels: Vec<_> = of_type(&r, "flow")
        .iter()
        .map(|f| {
            let t = &f["tunnel"];
            (
                f["protocol"].as_str().unwrap().to_string(),
                t["kind"].as_str().unwrap().to_string(),
                t["host"].as_str().unwrap().to_string(),
                t["port"].as_u64().unwrap(),
                t["user"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        tunnels,
        [
            (
                "smtp".into(),
                "http-connect".into(),
                "mail.example.com".into(),
                25,
                None
            ),
            (
                "smtp".into(),
                "socks4".into(),
                "mx.example.org".into(),
                25,
                Some("bot".into())
            ),
            (
                "pop3".into(),
                "socks5".into(),
                "pop.example.org".into(),
                110,
                Some("proxyme".into())
            ),
        ]
    );
    let subjects: Vec<_> = of_type(&r, "message")
        .iter()
        .map(|m| (m["flow"].as_u64().unwrap(), m["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(subjects, [(0, "via http connect"), (1, "via socks4a")]);
    let creds: Vec<_> = of_type(&r, "credential")
        .iter()
        .map(|c| {
            (
                c["mechanism"].as_str().unwrap(),
                c["username"].as_str().unwrap(),
                c["password"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        creds,
        [
            ("SOCKS5-USERPASS", "proxyme", "s3cret"),
            ("USER-PASS", "bob", "hungry")
        ]
    );
}

/// The transcript of flow `flow` of a capture, as (text, packets).
fn transcript(file: &str, flow: u64) -> Vec<(String, Vec<u64>)> {
    let path = format!("{}/captures/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut driver = Driver::open(path.as_ref(), &RunOptions::default()).unwrap();
    let options = AnalyzeOptions {
        run: RunOptions {
            only_flow: Some(flow),
            order: Order::ById,
            ..RunOptions::default()
        },
        dialogue: DialogueOptions {
            transcript: true,
            full: false,
        },
        hook: None,
    };
    let mut lines = Vec::new();
    driver
        .analyze(
            &options,
            |a: FlowAnalysis| {
                lines = a
                    .dialogue
                    .transcript
                    .iter()
                    .map(|l| (l.text.clone(), l.packets.clone()))
                    .collect()
            },
            |_| {},
            |_| {},
        )
        .unwrap();
    lines
}

/// The TCP payload of every packet of a capture, by index.
fn payloads(file: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/captures/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut reader = CaptureReader::open(&path).unwrap();
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    while let Some(p) = reader.next_packet().unwrap() {
        out.push(match decoder.decode(&p) {
            DecodeOutcome::Tcp(seg) => seg.payload.to_vec(),
            _ => Vec::new(),
        });
    }
    out
}

#[test]
fn lines_inside_a_tunnel_point_at_their_own_packets() {
    let file = "mail-in-proxy-tunnels.pcapng";
    let packets = payloads(file);
    for flow in 0..3 {
        let lines = transcript(file, flow);
        assert!(lines[0].0.contains("tunnel: connect to"), "{lines:?}");
        for (text, carried) in lines.iter().skip(2) {
            if text.starts_with('[') {
                continue;
            }
            let bytes: Vec<u8> = carried
                .iter()
                .flat_map(|&p| packets[p as usize].clone())
                .collect();
            let shown = String::from_utf8_lossy(&bytes);
            assert!(
                shown.contains(text.as_str()),
                "flow {flow}: {text:?} is not in its packets {carried:?}: {shown:?}"
            );
        }
    }
}

#[test]
fn plaintext_where_tls_was_expected_is_read_with_a_finding() {
    let r = records("tls-expected-plaintext-seen.pcapng");
    let flows: Vec<_> = of_type(&r, "flow")
        .iter()
        .map(|f| (f["protocol"].as_str().unwrap(), f["tls"].as_str().unwrap()))
        .collect();
    assert_eq!(
        flows,
        [("smtp", "none"), ("pop3", "none"), ("smtp", "none")]
    );
    // The proxy's export: the message and the AUTH after STARTTLS are read.
    let m = of_type(&r, "message");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["subject"], "after starttls");
    assert_eq!(m[0]["complete"], true);
    let lines = transcript("tls-expected-plaintext-seen.pcapng", 0);
    assert!(
        lines.iter().all(|(t, _)| !t.starts_with("[TLS")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(t, _)| t == "AUTH PLAIN AGFsaWNlAHNlY3JldA==")
    );
    assert!(codes_of_flow(&r, 0).contains(&"protocol-anomaly".to_string()));
    // POP3 in clear on 995.
    let f1 = of_type(&r, "finding")
        .into_iter()
        .find(|f| f["flow"] == 1 && f["code"] == "protocol-anomaly")
        .unwrap();
    assert!(
        f1["message"]
            .as_str()
            .unwrap()
            .starts_with("port 995 is for implicit TLS")
    );
    // The ClientHello to a plaintext server: encrypted bytes, not commands.
    let lines = transcript("tls-expected-plaintext-seen.pcapng", 2);
    let texts: Vec<_> = lines.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        texts,
        [
            "220 mail.example.com ESMTP",
            "[TLS: 103 bytes encrypted]",
            "500 5.5.1 Command unrecognized"
        ]
    );
    let first = of_type(&r, "finding")
        .into_iter()
        .find(|f| f["flow"] == 2)
        .unwrap();
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .starts_with("the client opened with a TLS ClientHello")
    );
}

/// No control character from the wire reaches a terminal: every human
/// output writes them out as escapes.
#[test]
fn terminal_escapes_are_written_out_never_obeyed() {
    let file = "captures/terminal-escapes.pcapng";
    for command in [
        vec!["analyze", file],
        vec!["creds", file],
        vec!["dialog", file],
        vec!["dialog", "--full", file],
        vec!["flows", file],
    ] {
        let out = common::mailscope(&command);
        assert!(out.status.success(), "{command:?}");
        let bad: Vec<u8> = out
            .stdout
            .iter()
            .copied()
            .filter(|&b| b < 0x20 && b != b'\n' && b != b'\t' || b == 0x7f)
            .collect();
        assert!(bad.is_empty(), "{command:?} wrote {bad:?}");
    }
    let analyze = common::stdout(&common::mailscope(&["analyze", file]));
    assert!(analyze.contains("\\e]0;PWNED\\u{7}\\e[2J"), "{analyze}");
    let creds = common::stdout(&common::mailscope(&["creds", file]));
    assert!(creds.contains("root\\e[2J\\radmin"), "{creds}");
    let dialog = common::stdout(&common::mailscope(&["dialog", file]));
    assert!(
        dialog.contains("Subject: \\e]0;PWNED\\u{7}\\e[2J]"),
        "{dialog}"
    );
    // The JSON keeps the decoded text, escaped as JSON escapes it.
    let json = common::stdout(&common::mailscope(&["analyze", "--json", file]));
    assert!(json.contains(r#""subject":"\u001b]0;PWNED\u0007\u001b[2J""#));
}

/// The window shows the same escapes.
#[cfg(feature = "gui")]
#[test]
fn the_window_shows_escapes_too() {
    use mailscope::gui::loader::{LoadOptions, analyze};
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/terminal-escapes.pcapng");
    let scene = analyze(&path, &LoadOptions::default(), |_, _| {}).unwrap();
    assert_eq!(
        scene.messages[0].record.subject.as_deref(),
        Some("\\e]0;PWNED\\u{7}\\e[2J")
    );
    assert_eq!(
        scene.credentials[0].record.username.as_deref(),
        Some("root\\e[2J\\radmin")
    );
}
