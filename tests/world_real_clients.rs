//! Real mail programs from the distribution against `mailscope serve`
//! (issue 21, "How to show it"): msmtp submitting on 587 (STARTTLS, AUTH)
//! and 465 (TLS from the first byte) to the IP address with the printed
//! CA; fetchmail in keep mode across a restart of the server (no message
//! skipped, none fetched twice); neomutt sending in batch mode. Each
//! checks the message bytes in the recipient's mailbox. `.ci/run`
//! installs the programs; a missing one fails the test.

mod common;

use common::classroom::{self, Classroom, without_trace_headers};
use common::clients::{Tls, fetched, fetchmail, home, msmtp};
use common::raw::deliver;

/// A message as a file on disk holds it (LF line ends), with a line that
/// starts with a dot (msmtp must dot-stuff it, RFC 5321 §4.5.2) and the
/// header fields msmtp would otherwise add itself.
const MESSAGE: &str = "Date: Mon, 1 Dec 2025 10:00:00 +0000\n\
Message-ID: <msmtp-1@crepes.fr>\n\
From: Alice <alice@crepes.fr>\n\
To: Bob <bob@hamburger.edu>\n\
Subject: =?UTF-8?Q?Pr=C3=A1ctica?= msmtp\n\
\n\
Hola Bob,\n\
.una linea con punto\n\
..y otra\n\
Alice\n";

#[test]
fn msmtp_submits_on_587_and_465_to_the_ip_address() {
    let room = Classroom::start("127.0.122.4", &[]);
    for (port, tls) in [
        (classroom::SUBMISSION, Tls::StartTls),
        (classroom::SMTPS, Tls::Implicit),
    ] {
        let out = msmtp(&room, port, tls, &room.ca, "bob@hamburger.edu", MESSAGE);
        assert!(
            out.status.success(),
            "msmtp {tls:?} on {port}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let inbox = room.wait_inbox("bob", 2);
    assert_eq!(inbox.len(), 2);
    let want = MESSAGE.replace('\n', "\r\n");
    for m in &inbox {
        assert_eq!(String::from_utf8_lossy(&without_trace_headers(m)), want);
        // Submitted with TLS and AUTH: ESMTPSA (RFC 3848).
        assert!(
            String::from_utf8_lossy(m).contains(" with ESMTPSA id "),
            "{}",
            String::from_utf8_lossy(m)
        );
    }
    // A CA that did not sign the server's certificate: msmtp refuses to
    // send (the verification is real), and nothing arrives.
    let other = home("msmtp-other-ca").join("other.pem");
    std::fs::write(&other, mailscope::world::tls::Pki::new().unwrap().ca_pem()).unwrap();
    let out = msmtp(
        &room,
        classroom::SMTPS,
        Tls::Implicit,
        &other,
        "bob@hamburger.edu",
        MESSAGE,
    );
    assert!(!out.status.success());
    assert_eq!(room.inbox("bob").len(), 2);
    assert!(room.stop().success());
}

#[test]
fn fetchmail_keep_mode_fetches_each_message_once_across_a_restart() {
    let ip = "127.0.122.5";
    let room = Classroom::start(ip, &[]);
    let home = home("fetchmail-keep");
    deliver(ip, "one");
    deliver(ip, "two");
    let (code, log) = fetchmail(&room, &home, classroom::POP3S);
    assert_eq!(code, 0, "{log}");
    let stored = room.inbox("bob");
    let as_delivered = |m: &Vec<u8>| String::from_utf8_lossy(m).replace("\r\n", "\n");
    assert_eq!(
        fetched(&home),
        stored.iter().map(as_delivered).collect::<Vec<_>>()
    );
    // Nothing new: fetchmail says so (exit 1) and delivers nothing.
    let (code, log) = fetchmail(&room, &home, classroom::POP3S);
    assert_eq!(code, 1, "{log}");
    assert_eq!(fetched(&home).len(), 2);

    // A restart of the same store, then new mail: fetched, and only it.
    let store = room.store.clone();
    assert!(room.stop().success());
    let room = Classroom::start_with_store(ip, store, &[]);
    deliver(ip, "three");
    let (code, log) = fetchmail(&room, &home, classroom::POP3S);
    assert_eq!(code, 0, "{log}");
    let stored = room.inbox("bob");
    assert_eq!(stored.len(), 3, "keep mode leaves the mail on the server");
    assert_eq!(
        fetched(&home),
        stored.iter().map(as_delivered).collect::<Vec<_>>()
    );
    assert!(fetched(&home)[2].contains("\nSubject: three\n"));
    assert!(room.stop().success());
}

#[test]
fn neomutt_sends_in_batch_mode_over_implicit_tls() {
    common::clients::require("neomutt");
    let room = Classroom::start("127.0.122.6", &[]);
    let home = home("neomutt-batch");
    let muttrc = home.join("muttrc");
    common::clients::write_private(
        &muttrc,
        &format!(
            "set smtp_url = \"smtps://alice@{ip}:{port}\"\n\
             set smtp_pass = \"secret\"\n\
             set ssl_ca_certificates_file = \"{ca}\"\n\
             set certificate_file = \"{home}/certificates\"\n\
             set from = \"alice@crepes.fr\"\n\
             set realname = \"Alice\"\n\
             set use_from = yes\n\
             set hostname = \"crepes.fr\"\n\
             set record = \"\"\n\
             set send_charset = \"us-ascii:utf-8\"\n",
            ip = room.ip,
            port = classroom::SMTPS,
            ca = room.ca.display(),
            home = home.display(),
        ),
    );
    let mut child = std::process::Command::new("neomutt")
        .args(["-n", "-F", muttrc.to_str().unwrap()])
        .args(["-s", "neomutt batch", "bob@hamburger.edu"])
        .env("HOME", &home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("neomutt runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Hola Bob,\n.punto\nAlice\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "neomutt: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let inbox = room.wait_inbox("bob", 1);
    assert_eq!(inbox.len(), 1);
    let text = String::from_utf8_lossy(&without_trace_headers(&inbox[0])).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(body, "Hola Bob,\r\n.punto\r\nAlice\r\n");
    for field in [
        "From: Alice <alice@crepes.fr>",
        "To: bob@hamburger.edu",
        "Subject: neomutt batch",
        "Content-Type: text/plain; charset=us-ascii",
    ] {
        assert!(head.split("\r\n").any(|l| l == field), "{field}: {head}");
    }
    assert!(
        String::from_utf8_lossy(&inbox[0]).contains(" with ESMTPSA id "),
        "{text}"
    );
    assert!(room.stop().success());
}
