//! The `flows` and `stream` commands on the project's own captures: golden
//! JSON for every fixture, exact facts for the reassembly cases, and the
//! errors of output-schema.md for bad inputs.
//!
//! Golden files live in `tests/golden/flows/`; after a deliberate change,
//! regenerate them with `MAILSCOPE_UPDATE_GOLDEN=1 cargo test --test cli_flows`
//! and review the diff.

mod common;

use common::{mailscope, stderr, stdout};
use std::process::Command;

use std::path::Path;

use serde_json::Value;

fn flows_json(capture: &str) -> Vec<Value> {
    let out = mailscope(&["flows", "--json", capture]);
    assert!(out.status.success(), "{capture}: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn golden_flows_json_for_every_fixture() {
    common::check_golden(&["flows", "--json"], "flows", "jsonl");
}

/// The facts each reassembly fixture exists for (numbers from
/// captures/README.md, computed by the builder that wrote the packets).
#[test]
fn reassembly_fixtures_give_exact_streams() {
    let cases: &[(&str, u64, u64, u64, u64, &str)] = &[
        // capture, bytes c2s, bytes s2c, gaps, gap bytes, state
        (
            "captures/smtp-crepes-hamburger.pcapng",
            309,
            259,
            0,
            0,
            "closed",
        ),
        ("captures/tcp-reordered.pcapng", 1492, 213, 0, 0, "closed"),
        (
            "captures/tcp-retransmission.pcapng",
            1492,
            213,
            0,
            0,
            "closed",
        ),
        ("captures/tcp-overlap.pcapng", 1492, 213, 0, 0, "closed"),
        ("captures/tcp-loss.pcapng", 956, 213, 1, 536, "closed"),
        ("captures/tcp-wraparound.pcapng", 2973, 2538, 0, 0, "closed"),
        ("captures/tcp-rst.pcapng", 81, 82, 0, 0, "reset"),
        ("captures/tcp-ipv6.pcapng", 309, 259, 0, 0, "closed"),
        ("captures/ipv4-fragments.pcapng", 309, 259, 0, 0, "closed"),
        (
            "captures/smtp-classic-be-nsec.pcap",
            309,
            259,
            0,
            0,
            "closed",
        ),
        (
            "captures/smtp-classic-le-usec.pcap",
            309,
            259,
            0,
            0,
            "closed",
        ),
        ("captures/bsd-null.pcap", 309, 259, 0, 0, "closed"),
    ];
    for &(capture, c2s, s2c, gaps, gap_bytes, state) in cases {
        let records = flows_json(capture);
        assert_eq!(records[0]["type"], "capture");
        let flow = &records[1];
        assert_eq!(records.len(), 2, "{capture}: one flow");
        let got = (
            flow["bytes_c2s"].as_u64().unwrap(),
            flow["bytes_s2c"].as_u64().unwrap(),
            flow["gaps"].as_u64().unwrap(),
            flow["gap_bytes"].as_u64().unwrap(),
            flow["state"].as_str().unwrap(),
        );
        assert_eq!(got, (c2s, s2c, gaps, gap_bytes, state), "{capture}");
        assert_eq!(flow["protocol"], "smtp", "{capture}");
    }
}

#[test]
fn overlap_keeps_the_first_copy_and_wraparound_reassembles() {
    let out = mailscope(&["stream", "captures/tcp-overlap.pcapng", "--flow", "0"]);
    let text = stdout(&out);
    assert!(out.status.success());
    assert!(!text.contains("XXXX") && !text.contains("YYYY"), "{text}");
    assert!(text.contains("C: MAIL FROM:<alice@crepes.fr>"), "{text}");
    let wrap = mailscope(&["stream", "captures/tcp-wraparound.pcapng", "--flow", "0"]);
    assert!(wrap.status.success());
    assert!(stdout(&wrap).matches("S: 250-").count() >= 50);
}

#[test]
fn textbook_smtp_session_followed() {
    let out = mailscope(&[
        "stream",
        "captures/smtp-crepes-hamburger.pcapng",
        "--flow",
        "0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "== flow 0: client 10.0.0.1:1035 → server 10.0.0.2:25 =="
    );
    assert_eq!(
        &lines[1..8],
        &[
            "S: 220 hamburger.edu",
            "C: HELO crepes.fr",
            "S: 250 Hello crepes.fr, pleased to meet you",
            "C: MAIL FROM: <alice@crepes.fr>",
            "S: 250 alice@crepes.fr ... Sender ok",
            "C: RCPT TO: <bob@hamburger.edu>",
            "S: 250 bob@hamburger.edu ... Recipient ok",
        ]
    );
    assert!(text.contains("C: Do you like ketchup?\nC: How about pickles?\nC: .\nS: 250 Message accepted for delivery\nC: QUIT\nS: 221 hamburger.edu closing connection\n"));
    assert_eq!(
        lines.last().unwrap(),
        &"== smtp: 309 bytes client→server, 259 bytes server→client, 0 gap(s), closed =="
    );
}

#[test]
fn loss_is_shown_as_a_gap_and_later_data_follows() {
    let out = mailscope(&["stream", "captures/tcp-loss.pcapng", "--flow", "0"]);
    let text = stdout(&out);
    let gap = text.find("C: [… 536 bytes missing …]").expect("gap marked");
    assert!(
        text[gap..].contains("S: 250"),
        "data after the gap is delivered"
    );
    let raw = mailscope(&["stream", "captures/tcp-loss.pcapng", "--flow", "0", "--raw"]);
    assert!(stdout(&raw).contains("[… 536 bytes missing at offset 623 …]"));
}

#[test]
fn protocol_guess_by_banner_and_not_by_port_alone() {
    let odd = flows_json("captures/smtp-on-odd-port.pcapng");
    let protos: Vec<&str> = odd[1..]
        .iter()
        .map(|f| f["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(protos, ["smtp", "pop3", "imap"]);
    let not_mail = flows_json("captures/non-mail-on-mail-port.pcapng");
    for f in &not_mail[1..] {
        assert_eq!(f["protocol"], "unknown", "{f}");
    }
    let tls = flows_json("captures/tls-implicit-465.pcapng");
    assert_eq!(
        (tls[1]["protocol"].as_str(), tls[1]["tls"].as_str()),
        (Some("smtp"), Some("implicit"))
    );
    let mid = flows_json("captures/tcp-midstream.pcapng");
    assert_eq!(mid[1]["client"], "10.0.6.1:40006");
    assert_eq!(mid[1]["client_evidence"], "port");
}

#[test]
fn capture_record_and_link_layers() {
    let multi = flows_json("captures/multi-interface.pcapng");
    let cap = &multi[0];
    assert_eq!(cap["format"], "pcapng");
    assert_eq!(cap["linktypes"], serde_json::json!([1, 101]));
    assert_eq!(
        multi.len(),
        5,
        "four flows on two interfaces (plain, raw IP, VLAN, QinQ)"
    );
    let sll = flows_json("captures/linux-sll.pcapng");
    assert_eq!(sll[0]["linktypes"], serde_json::json!([113]));
    let sll2 = flows_json("captures/linux-sll2.pcapng");
    assert_eq!(sll2[0]["linktypes"], serde_json::json!([276]));
    let truncated = flows_json("captures/snaplen-truncated.pcapng");
    assert!(truncated[0]["truncated_packets"].as_u64().unwrap() > 0);
    assert!(truncated[1]["gaps"].as_u64().unwrap() > 0);
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = std::env::temp_dir().join(format!("mailscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(&text, "S: 220 hamburger.edu\nC: HELO crepes.fr\n").unwrap();
    let out = mailscope(&["flows", text.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "mailscope: not a pcap or pcapng capture (it looks like a text file)\n"
    );

    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let out = mailscope(&["flows", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "mailscope: the file is empty: not a pcap or pcapng capture\n"
    );

    let missing = mailscope(&["flows", "no/such/file.pcap"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).starts_with("mailscope: cannot read no/such/file.pcap:"));

    // A capture cut in the middle of a record: what precedes is reported.
    let whole = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/smtp-classic-le-usec.pcap"),
    )
    .unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 30]).unwrap();
    let out = mailscope(&["flows", "--json", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("warning: capture truncated at byte"),
        "{}",
        stderr(&out)
    );
    let records: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["packets"], 34);
    assert_eq!(records[0]["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(records[1]["type"], "finding");
    assert_eq!(records[1]["code"], "capture-truncated");
    assert_eq!(records[1]["flow"], Value::Null);
    assert_eq!(records[2]["type"], "flow");

    let unknown = mailscope(&["flows", "captures/unknown-block.pcapng"]);
    assert_eq!(unknown.status.code(), Some(0));
    assert!(
        stderr(&unknown).contains("unknown pcapng block type"),
        "{}",
        stderr(&unknown)
    );
    let quiet = mailscope(&["flows", "--quiet", "captures/unknown-block.pcapng"]);
    assert_eq!(stderr(&quiet), "");

    let no_flow = mailscope(&["stream", "captures/pop3-bob.pcapng", "--flow", "7"]);
    assert_eq!(no_flow.status.code(), Some(2));
    assert_eq!(
        stderr(&no_flow),
        "mailscope: no flow 7 in captures/pop3-bob.pcapng (it has flows 0 to 0; see `mailscope flows`)\n"
    );

    let usage = mailscope(&["flows"]);
    assert_eq!(usage.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn live_capture_or_a_clear_explanation() {
    if !cfg!(feature = "live") {
        let out = mailscope(&["capture", "-i", "lo", "-c", "1"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("--features live"), "{}", stderr(&out));
        return;
    }
    // Without the right to capture, the error names the fix. As root we can
    // check that by dropping to `nobody` with setpriv (util-linux).
    if Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n")
        && common::have_tool("setpriv")
    {
        let dir = std::env::temp_dir().join(format!("mailscope-nobody-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("mailscope");
        std::fs::copy(env!("CARGO_BIN_EXE_mailscope"), &exe).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe)
            .args(["capture", "-i", "lo", "-c", "1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.starts_with("mailscope: no permission to capture on lo: run as root, or allow the binary once with `sudo setcap cap_net_raw,cap_net_admin=eip"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
    // Built with libpcap: capture real loopback traffic that this test
    // makes itself, or (without the right to capture) name the fix.
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("mailscope-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("live.pcapng");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["capture", "-i", "lo", "-c", "6", "-f"])
        .arg(format!("tcp port {port}"))
        .arg("-w")
        .arg(&out_file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut conn = conn;
            let _ = conn.write_all(b"220 hamburger.edu ESMTP\r\n");
            let mut buf = [0u8; 64];
            let _ = conn.read(&mut buf);
        }
    });
    // Keep talking until the capture has its packets (it needs a moment
    // to start) or gives up; bounded in time.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            child.kill().ok();
            break None;
        }
        if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = c.write_all(b"HELO crepes.fr\r\n");
            let mut buf = [0u8; 64];
            let _ = c.read(&mut buf);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr).to_string();
    let status = status.expect("live capture finished within 20 s");
    if !status.success() {
        assert!(
            err.contains("setcap") || err.contains("cannot capture"),
            "{err}"
        );
        return;
    }
    let records = flows_json(out_file.to_str().unwrap());
    assert_eq!(records[0]["packets"], 6, "{records:?}");
    assert_eq!(records[0]["linktypes"], serde_json::json!([1]));
    assert_eq!(records[1]["server"], format!("127.0.0.1:{port}"));
    std::fs::remove_dir_all(&dir).ok();
}
