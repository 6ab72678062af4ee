//! `mailscope demo` in every `--tls` × `--read` combination: the message
//! arrives intact, both hops stamp it, the capture opens in tshark, tshark
//! sees the dialogue (in clear, or decrypted with the secrets the capture
//! embeds), and the capture analyzed by mailscope gives back the live
//! transcript.

mod common;

use std::path::Path;
use std::process::Command;

use common::{mailscope, stdout};

const ATTACHMENT_LINE: &str = "Attachment picnic-map.png: 70 bytes, sha256 4ff6ab670a58c14270e034e2090d9a432caa263a14e0a25785386b0c12f880b5, identical to what Alice sent";

/// Run the demo on its own loopback network; returns (stdout, capture).
fn demo(tls: &str, read: &str, net: &str) -> (String, std::path::PathBuf) {
    demo_with(tls, read, net, &[])
}

fn demo_with(tls: &str, read: &str, net: &str, extra: &[&str]) -> (String, std::path::PathBuf) {
    let dir = common::temp_dir(&format!("demo-{tls}-{read}-{net}"));
    let capture = dir.join("alice-to-bob.pcapng");
    let keylog = dir.join("keys.txt");
    let mut args = vec!["--keylog", keylog.to_str().unwrap()];
    args.extend(extra);
    let text = common::run_demo(tls, read, net, &capture, &args);
    (text, capture)
}

/// Without root the world uses the offset ports (10025 …), which
/// Wireshark does not know: tell it what they carry ("Decode As").
const DECODE_AS: [&str; 10] = [
    "tcp.port==10025,smtp",
    "tcp.port==10587,smtp",
    "tcp.port==10110,pop",
    "tcp.port==10143,imap",
    "tcp.port==10465,tls",
    "tls.port==10465,smtp",
    "tcp.port==10995,tls",
    "tls.port==10995,pop",
    "tcp.port==10993,tls",
    "tls.port==10993,imap",
];

/// (`key`, command) of every client request tshark decodes, decrypting
/// with the capture's own secrets; tshark must not complain.
fn tshark_requests_by(capture: &Path, key: &str) -> Vec<(u64, String)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(DECODE_AS.iter().flat_map(|d| ["-d", *d]))
        .args([
            "-Y",
            "smtp.req || pop.request || imap.request",
            "-T",
            "fields",
        ])
        .args([
            "-e",
            key,
            "-e",
            "smtp.req.command",
            "-e",
            "pop.request.command",
        ])
        .args(["-e", "imap.request.command"])
        .output()
        .expect("tshark runs");
    assert!(out.status.success());
    let errors: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.contains("Running as user \"root\"") && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert!(errors.is_empty(), "tshark complained: {errors:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut fields = l.split('\t');
            let key = fields.next().unwrap().parse().unwrap();
            let command: Vec<&str> = fields.filter(|f| !f.is_empty()).collect();
            (key, command.join(" ").to_ascii_uppercase())
        })
        .collect()
}

/// The requests tshark decodes, stream by stream: sessions overlap in
/// time (Alice says QUIT while the relay already runs).
fn tshark_requests(capture: &Path) -> Vec<String> {
    let mut by_stream: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for (stream, command) in tshark_requests_by(capture, "tcp.stream") {
        by_stream.entry(stream).or_default().push(command);
    }
    by_stream.into_values().flatten().collect()
}

/// The C:/S: lines of a transcript, flow by flow, without the headers and
/// the notes.
fn dialogue_lines(text: &str) -> Vec<Vec<String>> {
    let mut flows: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("== ") {
            if line.contains("DNS over UDP") {
                flows.push(Vec::new()); // DNS: not a TCP flow
                flows.pop();
                continue;
            }
            flows.push(Vec::new());
        } else if (line.starts_with("C: ") || line.starts_with("S: "))
            && let Some(f) = flows.last_mut()
        {
            f.push(line.to_string());
        }
    }
    flows
}

/// `extract` on the capture: the attachment, by its hash, on each of the
/// three flows. Returns index.json.
fn extract_index(capture: &Path) -> String {
    let out_dir = capture.with_extension("extract");
    let ex = mailscope(&[
        "extract",
        capture.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert!(ex.status.success(), "{}", common::stderr(&ex));
    let index = std::fs::read_to_string(out_dir.join("index.json")).unwrap();
    let sha = "4ff6ab670a58c14270e034e2090d9a432caa263a14e0a25785386b0c12f880b5";
    assert_eq!(index.matches(sha).count(), 3, "{index}");
    index
}

fn common_checks(text: &str) {
    assert!(text.contains(ATTACHMENT_LINE), "{text}");
    assert!(
        text.contains("Received: headers (one per server hop): 2"),
        "{text}"
    );
    assert!(
        text.contains(
            "Q: MX hamburger.edu?\nA: hamburger.edu MX 10 hamburger.edu; hamburger.edu A "
        ),
        "{text}"
    );
}

const SMTP_SUBMISSION: [&str; 6] = ["EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"];
const SMTP_RELAY: [&str; 5] = ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"];

#[test]
fn demo_in_clear_is_seen_by_tshark_and_round_trips_through_the_analyzer() {
    for (read, net) in [("pop3", "127.0.81"), ("imap", "127.0.82")] {
        let (text, capture) = demo("none", read, net);
        common_checks(&text);
        // tshark decodes every command of the three sessions.
        let mut expected: Vec<String> = SMTP_SUBMISSION
            .iter()
            .chain(&SMTP_RELAY)
            .map(|s| s.to_string())
            .collect();
        expected.extend(
            match read {
                "pop3" => vec!["USER", "PASS", "STAT", "LIST", "RETR", "DELE", "QUIT"],
                _ => vec!["LOGIN", "SELECT", "FETCH", "STORE", "EXPUNGE", "LOGOUT"],
            }
            .into_iter()
            .map(String::from),
        );
        assert_eq!(tshark_requests(&capture), expected, "{read}");

        // The capture, analyzed, gives back the live transcript line for line.
        let dialog = stdout(&mailscope(&["dialog", capture.to_str().unwrap()]));
        let live = dialogue_lines(&text);
        let recorded = dialogue_lines(&dialog);
        assert_eq!(live.len(), 3);
        assert_eq!(recorded, live, "{read}");

        // The passwords are there for anyone to read.
        let creds = stdout(&mailscope(&["creds", capture.to_str().unwrap()]));
        let creds = creds.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(creds.contains("PLAIN alice secret accepted"), "{creds}");
        let bob = if read == "pop3" {
            "USER-PASS bob hungry accepted"
        } else {
            "IMAP-LOGIN bob hungry accepted"
        };
        assert!(creds.contains(bob), "{creds}");

        // extract finds the attachment in each of the three flows.
        extract_index(&capture);
    }
}

/// A transcript as the endpoints saw it: the decrypted lines without
/// their `[tls]` mark, and without the `[TLS: N bytes encrypted]` notes.
fn endpoint_lines(dialog: &str) -> Vec<Vec<String>> {
    let plain: Vec<&str> = dialog
        .lines()
        .map(|l| l.strip_prefix("[tls] ").unwrap_or(l))
        .filter(|l| !l.starts_with("C: [TLS: ") && !l.starts_with("S: [TLS: "))
        .collect();
    dialogue_lines(&plain.join("\n"))
}

/// (frame number, command) of every client request tshark decodes.
fn tshark_frames(capture: &Path) -> Vec<(u64, String)> {
    tshark_requests_by(capture, "frame.number")
}

/// (frame number, command) of every client command mailscope read, from
/// `dialog --json`: 1-based frames like tshark's, SMTP verbs cut to four
/// letters and IMAP tags left out, as tshark shows them.
fn mailscope_frames(capture: &Path, extra: &[&str]) -> Vec<(u64, String)> {
    let mut args = vec!["dialog", "--json", capture.to_str().unwrap()];
    args.extend(extra);
    let out = stdout(&mailscope(&args));
    let mut v = Vec::new();
    for line in out.lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        if r["dir"] != "c2s" || r["kind"] != "command" || r["text"] == "." {
            continue;
        }
        let text = r["text"].as_str().unwrap();
        let mut words = text.split(' ');
        let first = words.next().unwrap().to_ascii_uppercase();
        let command = match first.as_str() {
            "EHLO" | "HELO" | "AUTH" | "MAIL" | "RCPT" | "DATA" | "QUIT" | "STARTTLS" | "RSET" => {
                first[..4].to_string()
            }
            "USER" | "PASS" | "STAT" | "LIST" | "RETR" | "DELE" | "STLS" => first,
            _ => words.next().unwrap_or("").to_ascii_uppercase(),
        };
        let packet = r["packets"][0].as_u64().unwrap();
        v.push((packet + 1, command));
    }
    v
}

#[test]
fn demo_with_tls_is_decrypted_by_mailscope_and_tshark_alike() {
    // Every --tls × --read combination with rustls' default suite, then
    // every suite the world can speak (TLS 1.3 and 1.2) once.
    let mut runs: Vec<(&str, &str, Option<String>)> = vec![
        ("starttls", "pop3", None),
        ("starttls", "imap", None),
        ("implicit", "pop3", None),
        ("implicit", "imap", None),
    ];
    for (i, (_, name)) in [
        (0x1301, "TLS_AES_128_GCM_SHA256"),
        (0x1302, "TLS_AES_256_GCM_SHA384"),
        (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
        (0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        (0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        (0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ]
    .into_iter()
    .enumerate()
    {
        let (tls, read) = [("starttls", "imap"), ("implicit", "pop3")][i % 2];
        runs.push((tls, read, Some(name.to_string())));
    }
    for (i, (tls, read, cipher)) in runs.into_iter().enumerate() {
        let net = format!("127.0.{}", 83 + i);
        let what = format!("{tls} {read} {cipher:?}");
        let (text, capture) = match &cipher {
            None => demo(tls, read, &net),
            Some(c) => demo_with(tls, read, &net, &["--cipher", c]),
        };
        common_checks(&text);
        // The live transcript marks where TLS began.
        assert!(text.contains("[TLS handshake."), "{text}");

        // Wireshark decrypts each TLS session with the key log in the
        // capture's Decryption Secrets Block, and sees the same commands.
        let mut expected: Vec<&str> = Vec::new();
        if tls == "starttls" {
            expected.extend(["EHLO", "STAR"]); // tshark keeps 4 letters
        }
        expected.extend(SMTP_SUBMISSION);
        expected.extend(["EHLO", "STAR"]); // the relay always upgrades
        expected.extend(SMTP_RELAY);
        match (tls, read) {
            ("starttls", "pop3") => expected.push("STLS"),
            ("starttls", "imap") => expected.push("STARTTLS"),
            _ => {}
        }
        expected.extend(match read {
            "pop3" => vec!["USER", "PASS", "STAT", "LIST", "RETR", "DELE", "QUIT"],
            _ => vec!["LOGIN", "SELECT", "FETCH", "STORE", "EXPUNGE", "LOGOUT"],
        });
        assert_eq!(tshark_requests(&capture), expected, "{what}");

        // mailscope decrypts with the same embedded secrets: the capture
        // gives back the endpoints' transcript line for line…
        let dialog = stdout(&mailscope(&["dialog", capture.to_str().unwrap()]));
        let live = dialogue_lines(&text);
        assert_eq!(live.len(), 3);
        assert_eq!(endpoint_lines(&dialog), live, "{what}");
        assert_eq!(dialog.matches("[TLS decrypted with the key log").count(), 3);
        // …each command in the very frame where tshark decoded it (in
        // frame order: the sessions overlap in time).
        let mut ours = mailscope_frames(&capture, &[]);
        ours.sort();
        assert_eq!(ours.len(), expected.len(), "{what}");
        assert_eq!(ours, tshark_frames(&capture), "{what}");

        // The decrypted messages are the very bytes the endpoints
        // exchanged: the attachment's hash, on each of the three flows.
        let index = extract_index(&capture);
        assert_eq!(
            index.matches("\"tls\": \"decrypted\"").count(),
            3,
            "{index}"
        );

        // With the keys, the passwords show, marked as read inside TLS; no
        // plaintext-auth finding, since on the wire they were encrypted.
        let creds = stdout(&mailscope(&["creds", capture.to_str().unwrap()]));
        assert!(
            creds.contains("secret") && creds.contains("hungry"),
            "{creds}"
        );
        let analysis = stdout(&mailscope(&[
            "analyze",
            "--json",
            capture.to_str().unwrap(),
        ]));
        assert!(!analysis.contains("plaintext-auth"), "{analysis}");
        assert!(!analysis.contains("tls-no-keys"), "{analysis}");
        // Without the secrets an eavesdropper sees no password.
        let creds = stdout(&mailscope(&[
            "creds",
            "--no-decrypt",
            capture.to_str().unwrap(),
        ]));
        assert!(
            !creds.contains("secret") && !creds.contains("hungry"),
            "{creds}"
        );
        // The key log file the demo wrote works the same way.
        let keylog = capture.with_file_name("keys.txt");
        let stripped = capture.with_file_name("no-dsb.pcapng");
        common::strip_secrets(&capture, &stripped);
        let without = stdout(&mailscope(&["dialog", stripped.to_str().unwrap()]));
        assert!(!without.contains("[tls] "), "{without}");
        let with = stdout(&mailscope(&[
            "dialog",
            "--keylog",
            keylog.to_str().unwrap(),
            stripped.to_str().unwrap(),
        ]));
        assert_eq!(
            with,
            dialog.replace(capture.to_str().unwrap(), stripped.to_str().unwrap())
        );
    }
}

/// `--capture-lo`: the real loopback packets through libpcap (root only),
/// with the same secrets embedded, read back by tshark and mailscope.
#[cfg(feature = "live")]
#[test]
fn demo_recording_the_real_loopback_interface() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !root {
        eprintln!("skipped: --capture-lo needs root");
        return;
    }
    let dir = common::temp_dir("demo-lo");
    let capture = dir.join("lo.pcapng");
    let out = mailscope(&[
        "demo",
        "--tls",
        "starttls",
        "--read",
        "pop3",
        "--speed",
        "0",
        "--net",
        "127.0.87",
        "--capture-lo",
        "-w",
        capture.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let mut expected: Vec<&str> = vec!["EHLO", "STAR"];
    expected.extend(SMTP_SUBMISSION);
    expected.extend(["EHLO", "STAR"]);
    expected.extend(SMTP_RELAY);
    expected.extend([
        "STLS", "USER", "PASS", "STAT", "LIST", "RETR", "DELE", "QUIT",
    ]);
    assert_eq!(tshark_requests(&capture), expected);
    let flows = stdout(&mailscope(&["flows", capture.to_str().unwrap()]));
    assert!(flows.matches("127.0.87.").count() >= 6, "{flows}");
}

#[test]
fn demo_with_other_domain_names() {
    let dir = common::temp_dir("demo-names");
    let capture = dir.join("names.pcapng");
    let out = mailscope(&[
        "demo",
        "--alice-domain",
        "uni.es",
        "--bob-domain",
        "correo.mx",
        "--speed",
        "0",
        "--net",
        "127.0.88",
        "-w",
        capture.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("== alice-pc.uni.es → uni.es (submission, STARTTLS; 127.0.88.1:"),
        "{text}"
    );
    assert!(
        text.contains("Q: MX correo.mx?\nA: correo.mx MX 10 correo.mx; correo.mx A 127.0.88.3\n"),
        "{text}"
    );
    assert!(
        text.contains("S: 220 correo.mx ESMTP mailscope\n"),
        "{text}"
    );
    assert!(text.contains(ATTACHMENT_LINE), "{text}");
    let bad = mailscope(&["demo", "--alice-domain", "x", "--speed", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}
