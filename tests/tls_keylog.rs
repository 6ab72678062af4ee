//! Decryption with key logs written by other programs, and captures that
//! come with no keys at all (issue 6).
//!
//! * OpenSSL's `s_client -keylogfile` (TLS 1.2 with ChaCha20, TLS 1.3
//!   with AES-128-GCM) and curl's `SSLKEYLOGFILE` talk to `mailscope serve
//!   -w`; the capture, stripped of the server's own Decryption Secrets
//!   Block, is read with `--keylog` and the clients' files, and tshark
//!   given the same files agrees command for command.
//! * Every capture in `../shared/captures` read with a key log that does
//!   not know its sessions: the records stay encrypted, each TLS session
//!   gets a `tls-no-keys` finding and nothing else changes; without any
//!   key log the output is byte for byte what `--no-decrypt` gives.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::classroom::{self, Classroom};
use common::{json_lines, mailscope, stdout};
use serde_json::Value;

/// `openssl s_client` typing `script` a line at a time, its secrets
/// written to `keylog`.
fn s_client(
    room: &Classroom,
    starttls: Option<&str>,
    port: u16,
    tls: &[&str],
    keylog: &Path,
    script: &str,
) -> String {
    let mut extra: Vec<&str> = starttls.map(|p| vec!["-starttls", p]).unwrap_or_default();
    extra.extend(tls);
    extra.extend(["-keylogfile", keylog.to_str().unwrap()]);
    classroom::s_client(room, port, &extra, script)
}

/// The client commands of the decrypted lines of `dialog --json`, per
/// flow, and the packets (1-based frame numbers) that carried them.
fn decrypted_commands(args: &[&str]) -> Vec<(u64, u64, String)> {
    let mut all = vec!["dialog", "--json"];
    all.extend(args);
    json_lines(&all)
        .into_iter()
        .filter(|r| r["dir"] == "c2s" && r["kind"] == "command" && r["tls"] == "decrypted")
        .map(|r| {
            (
                r["flow"].as_u64().unwrap(),
                r["packets"][0].as_u64().unwrap() + 1,
                r["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn key_logs_of_openssl_and_curl_decrypt_a_recorded_capture() {
    let dir = common::temp_dir("keylog-clients");
    let capture = dir.join("serve.pcapng");
    let room = Classroom::start("127.0.79.1", &["-w", capture.to_str().unwrap()]);
    let k12 = dir.join("openssl-tls12.keys");
    let k13 = dir.join("openssl-tls13.keys");
    let kcurl = dir.join("curl.keys");

    // SMTP with STARTTLS in TLS 1.2 (ECDHE-ECDSA-CHACHA20-POLY1305).
    let smtp = "EHLO lab-pc\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nMAIL FROM:<alice@crepes.fr>\nRCPT TO:<bob@hamburger.edu>\nDATA\nSubject: through TLS 1.2\n\nHola Bob\n.\nQUIT";
    let out = s_client(
        &room,
        Some("smtp"),
        classroom::SUBMISSION,
        &["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"],
        &k12,
        smtp,
    );
    assert!(out.contains("250 2.0.0 Ok: queued as "), "{out}");
    // POP3 over 995 in TLS 1.3 with AES-128-GCM.
    let pop = "USER bob\nPASS hungry\nSTAT\nRETR 1\nQUIT";
    let out = s_client(
        &room,
        None,
        classroom::POP3S,
        &["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"],
        &k13,
        pop,
    );
    assert!(out.contains("Subject: through TLS 1.2\r\n"), "{out}");
    // curl reads the INBOX over IMAPS, its key log from SSLKEYLOGFILE.
    let curl = Command::new("curl")
        .env("SSLKEYLOGFILE", &kcurl)
        .args([
            "-s",
            "--cacert",
            room.ca.to_str().unwrap(),
            "--user",
            "bob:hungry",
        ])
        .args([
            "--connect-to",
            &format!(
                "hamburger.edu:{}:{}:{}",
                classroom::IMAPS,
                room.ip,
                classroom::IMAPS
            ),
        ])
        .arg(format!(
            "imaps://hamburger.edu:{}/INBOX/;UID=1",
            classroom::IMAPS
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&curl.stdout).contains("Hola Bob"),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    assert!(room.stop().success());

    // The server's own secrets go: only the clients' key logs remain.
    let bare = dir.join("bare.pcapng");
    common::strip_secrets(&capture, &bare);
    let bare_s = bare.to_str().unwrap();
    assert!(decrypted_commands(&[bare_s]).is_empty());
    let keylogs: Vec<String> = [&k12, &k13, &kcurl]
        .iter()
        .map(|k| k.to_str().unwrap().to_string())
        .collect();
    let mut args: Vec<&str> = vec![bare_s];
    for k in &keylogs {
        args.extend(["--keylog", k.as_str()]);
    }
    let ours = decrypted_commands(&args);
    let texts: Vec<&str> = ours.iter().map(|(_, _, t)| t.as_str()).collect();
    // curl's IMAP tags are A001, A002, …; it logs in, selects and fetches.
    let is_tag =
        |t: &&str| t.len() > 4 && t.starts_with('A') && t[1..4].bytes().all(|b| b.is_ascii_digit());
    let imap: Vec<&str> = texts.iter().copied().filter(is_tag).collect();
    assert!(
        imap.iter()
            .any(|t| t.contains("LOGIN") || t.contains("AUTHENTICATE")),
        "{texts:?}"
    );
    assert!(imap.iter().any(|t| t.contains("SELECT INBOX")), "{texts:?}");
    assert!(imap.iter().any(|t| t.contains("FETCH 1")), "{texts:?}");
    let others: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|t| !is_tag(t) && *t != ".")
        .collect();
    assert_eq!(
        others,
        [
            "EHLO lab-pc",
            "AUTH PLAIN AGFsaWNlAHNlY3JldA==",
            "MAIL FROM:<alice@crepes.fr>",
            "RCPT TO:<bob@hamburger.edu>",
            "DATA",
            "QUIT",
            "USER bob",
            "PASS hungry",
            "STAT",
            "RETR 1",
            "QUIT",
        ]
    );
    // The message read back over POP3 is the one submitted over SMTP.
    let records = json_lines(&[
        "analyze",
        "--json",
        bare_s,
        "--keylog",
        &keylogs[0],
        "--keylog",
        &keylogs[1],
    ]);
    let messages: Vec<&Value> = records.iter().filter(|r| r["type"] == "message").collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0]["tls"], "decrypted");
    assert_eq!(messages[0]["subject"], "through TLS 1.2");
    let flows: Vec<&Value> = records.iter().filter(|r| r["type"] == "flow").collect();
    let ciphers: Vec<&str> = flows
        .iter()
        .filter_map(|f| f["tls_info"]["cipher"].as_str())
        .collect();
    assert_eq!(
        &ciphers[..2],
        [
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_AES_128_GCM_SHA256"
        ]
    );

    // tshark, given the same key logs, decodes the same commands in the
    // same frames.
    let joined = dir.join("all.keys");
    let text: String = [&k12, &k13, &kcurl]
        .iter()
        .map(|k| std::fs::read_to_string(k).unwrap())
        .collect();
    std::fs::write(&joined, text).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&bare)
        .args(["-o", &format!("tls.keylog_file:{}", joined.display())])
        .args(decode_offset_ports())
        .args([
            "-Y",
            "smtp.req || pop.request || imap.request",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .output()
        .expect("tshark runs");
    assert!(out.status.success());
    let theirs: Vec<u64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    // tshark also decodes the requests sent in clear (EHLO, STARTTLS).
    let plain = json_lines(&["dialog", "--json", bare_s, "--no-decrypt"])
        .into_iter()
        .filter(|r| r["dir"] == "c2s" && r["kind"] == "command")
        .map(|r| r["packets"][0].as_u64().unwrap() + 1);
    // (The "." that ends DATA is no request to tshark.)
    let mut frames: Vec<u64> = ours
        .iter()
        .filter(|(_, _, t)| t != ".")
        .map(|(_, f, _)| *f)
        .chain(plain)
        .collect();
    frames.sort();
    frames.dedup();
    assert_eq!(frames, theirs);
}

/// The offset ports `serve --ports offset` uses, for tshark.
fn decode_offset_ports() -> Vec<String> {
    [
        "tcp.port==10587,smtp",
        "tcp.port==10995,tls",
        "tls.port==10995,pop",
        "tcp.port==10993,tls",
        "tls.port==10993,imap",
    ]
    .iter()
    .flat_map(|d| ["-d".to_string(), d.to_string()])
    .collect()
}

/// What `analyze --json` says of a capture, records as JSON values.
fn analyze(path: &Path, extra: &[&str]) -> (Vec<Value>, String) {
    let mut args = vec!["analyze", "--json", path.to_str().unwrap()];
    args.extend(extra);
    let out = mailscope(&args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = stdout(&out);
    (
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        text,
    )
}

#[test]
fn captures_without_keys_stay_encrypted() {
    let Some(shared) = common::shared_captures_dir() else {
        eprintln!("skipped: ../shared/captures is not there");
        return;
    };
    let dir = common::temp_dir("keylog-unrelated");
    let keylog: PathBuf = dir.join("unrelated.keys");
    std::fs::write(
        &keylog,
        format!(
            "CLIENT_RANDOM {} {}\nCLIENT_TRAFFIC_SECRET_0 {} {}\n",
            "11".repeat(32),
            "22".repeat(48),
            "33".repeat(32),
            "44".repeat(32)
        ),
    )
    .unwrap();
    let mut sessions = 0;
    for path in common::capture_files(&shared) {
        let (without, without_text) = analyze(&path, &[]);
        let (_, no_decrypt_text) = analyze(&path, &["--no-decrypt"]);
        assert_eq!(without_text, no_decrypt_text, "{}", path.display());
        let (with, _) = analyze(&path, &["--keylog", keylog.to_str().unwrap()]);
        // Only findings differ, and only by tls-no-keys on the flows whose
        // ServerHello was seen (the session is known, its keys are not).
        let not_finding = |v: &Vec<Value>| -> Vec<Value> {
            v.iter()
                .filter(|r| r["type"] != "finding")
                .cloned()
                .map(|mut r| {
                    // The flow's count of findings differs, by design.
                    if let Some(o) = r.as_object_mut() {
                        o.remove("findings");
                    }
                    r
                })
                .collect()
        };
        assert_eq!(
            not_finding(&with),
            not_finding(&without),
            "{}",
            path.display()
        );
        let findings = |v: &Vec<Value>| -> Vec<(u64, String)> {
            v.iter()
                .filter(|r| r["type"] == "finding")
                .map(|r| {
                    (
                        r["flow"].as_u64().unwrap(),
                        r["code"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        let mut expected = findings(&without);
        for f in without.iter().filter(|r| r["type"] == "flow") {
            if f["tls_info"]["cipher"].is_string() {
                expected.push((f["id"].as_u64().unwrap(), "tls-no-keys".into()));
                sessions += 1;
            }
        }
        let mut got = findings(&with);
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{}", path.display());
    }
    // nDPI's smtps/pops/imaps, Zeek's and suricata-verify's STARTTLS
    // sessions.
    assert!(sessions >= 5, "only {sessions} TLS sessions in the corpus");
}
