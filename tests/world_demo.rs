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
    let dir = common::temp_dir(&format!("demo-{tls}-{read}"));
    let capture = dir.join("alice-to-bob.pcapng");
    let keylog = dir.join("keys.txt");
    let out = mailscope(&[
        "demo",
        "--tls",
        tls,
        "--read",
        read,
        "--speed",
        "0",
        "--net",
        net,
        "-w",
        capture.to_str().unwrap(),
        "--keylog",
        keylog.to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "demo {tls} {read} failed: {text}\n{}",
        common::stderr(&out)
    );
    (text, capture)
}

/// What tshark reads: (exit ok, stderr without the root warning, the
/// requests it decoded).
fn tshark_requests(capture: &Path) -> Vec<String> {
    // Without root the world uses the offset ports (10025 …), which
    // Wireshark does not know: tell it what they carry ("Decode As").
    let decode_as = [
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
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(decode_as.iter().flat_map(|d| ["-d", *d]))
        .args([
            "-Y",
            "smtp.req || pop.request || imap.request",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "smtp.req.command",
            "-e",
            "pop.request.command",
            "-e",
            "imap.request.command",
        ])
        .output()
        .expect("tshark runs");
    assert!(out.status.success());
    let errors: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.contains("Running as user \"root\"") && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert!(errors.is_empty(), "tshark complained: {errors:?}");
    // Sessions overlap in time (Alice says QUIT while the relay already
    // runs), so list the commands stream by stream.
    let mut by_stream: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let mut fields = l.split('\t');
        let stream: u32 = fields.next().unwrap().parse().unwrap();
        let command: Vec<&str> = fields.filter(|f| !f.is_empty()).collect();
        by_stream
            .entry(stream)
            .or_default()
            .push(command.join(" ").to_ascii_uppercase());
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
        let out_dir = capture.with_extension("extract");
        let ex = mailscope(&[
            "extract",
            capture.to_str().unwrap(),
            "-o",
            out_dir.to_str().unwrap(),
        ]);
        assert!(ex.status.success(), "{}", common::stderr(&ex));
        let index = std::fs::read_to_string(out_dir.join("index.json")).unwrap();
        assert_eq!(
            index
                .matches("4ff6ab670a58c14270e034e2090d9a432caa263a14e0a25785386b0c12f880b5")
                .count(),
            3,
            "{index}"
        );
    }
}

#[test]
fn demo_with_tls_is_decrypted_by_tshark_from_the_embedded_secrets() {
    for (tls, read, net) in [
        ("starttls", "pop3", "127.0.83"),
        ("starttls", "imap", "127.0.84"),
        ("implicit", "pop3", "127.0.85"),
        ("implicit", "imap", "127.0.86"),
    ] {
        let (text, capture) = demo(tls, read, net);
        common_checks(&text);
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
        assert_eq!(tshark_requests(&capture), expected, "{tls} {read}");

        // Without secrets an eavesdropper sees no password.
        let creds = stdout(&mailscope(&["creds", capture.to_str().unwrap()]));
        assert!(
            !creds.contains("secret") && !creds.contains("hungry"),
            "{creds}"
        );
        // The live transcript marks where TLS began.
        assert!(text.contains("[TLS handshake."), "{text}");
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
