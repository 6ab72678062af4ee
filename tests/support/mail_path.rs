//! `alice-to-bob-path.pcapng`: one message on its whole path.
//!
//! Alice's user agent submits it to crepes.fr on port 587 (RFC 6409) with
//! AUTH PLAIN although the server offers STARTTLS, crepes.fr relays it to
//! hamburger.edu on port 25, and Bob downloads it with POP3. It teaches how
//! one Message-ID crosses three connections, how each server that accepts
//! the message prepends a Received: trace header (RFC 5321 section 4.4), how
//! MIME carries a non-ASCII subject (RFC 2047) and a base64 attachment
//! (RFC 2045), and that a password sent without TLS is readable on the wire.
//!
//! Tests use the messages themselves ([`picnic_message`], ...) to check
//! what the analyzer extracts.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::frame_edits::interleave;
use super::pop3::retr_response;
use super::smtp::send_message;
use super::toolkit::{START_NANOS, addr, base64_lines, crlf_lines, ip, pcapng_ethernet, summary};

/// A second in nanoseconds.
const SECOND: u64 = 1_000_000_000;

/// The attachment of Alice's picnic message.
pub fn picnic_attachment() -> Vec<u8> {
    crlf_lines(&[
        "Crepes (12)",
        "250 g flour, 4 eggs, 500 ml milk, 50 g butter, 1 pinch of salt.",
        "Rest the batter one hour. No ketchup.",
    ])
}

/// Alice's message as her user agent submits it: MIME, a Spanish subject
/// in RFC 2047 encoded-word form, a text part and a base64 attachment.
pub fn picnic_message() -> Vec<u8> {
    let mut lines: Vec<String> = [
        "From: Alice <alice@crepes.fr>",
        "To: Bob <bob@hamburger.edu>",
        "Subject: =?UTF-8?Q?Informaci=C3=B3n_del_picnic?=",
        "Message-ID: <20240304101500.4720@crepes.fr>",
        "Date: Mon, 04 Mar 2024 10:15:00 +0100",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"=-picnic-=\"",
        "",
        "This is a multi-part message in MIME format.",
        "--=-picnic-=",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Bob, the recipe is attached. See you on Saturday!",
        "",
        "--=-picnic-=",
        "Content-Type: text/plain; name=\"receta.txt\"",
        "Content-Disposition: attachment; filename=\"receta.txt\"",
        "Content-Transfer-Encoding: base64",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    lines.extend(base64_lines(&picnic_attachment()));
    lines.push("--=-picnic-=--".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    crlf_lines(&refs)
}

/// The trace header crepes.fr adds when it accepts the submission.
fn submission_received() -> Vec<u8> {
    crlf_lines(&[
        "Received: from alice-laptop (alice-laptop.crepes.fr [10.0.0.5])",
        "        by crepes.fr with ESMTPSA id 4720",
        "        for <bob@hamburger.edu>; Mon, 04 Mar 2024 09:15:00 +0000",
    ])
}

/// The trace header hamburger.edu adds when it accepts the relay.
fn relay_received() -> Vec<u8> {
    crlf_lines(&[
        "Received: from crepes.fr (crepes.fr [10.0.0.1])",
        "        by hamburger.edu with ESMTP id 4721",
        "        for <bob@hamburger.edu>; Mon, 04 Mar 2024 09:15:01 +0000",
    ])
}

/// The message as crepes.fr relays it.
pub fn relayed_message() -> Vec<u8> {
    let mut m = submission_received();
    m.extend_from_slice(&picnic_message());
    m
}

/// The message as Bob's mailbox holds it.
pub fn stored_message() -> Vec<u8> {
    let mut m = crlf_lines(&["Return-Path: <alice@crepes.fr>"]);
    m.extend_from_slice(&relay_received());
    m.extend_from_slice(&relayed_message());
    m
}

/// Alice's user agent submits on port 587 and authenticates with AUTH
/// PLAIN although the server offers STARTTLS: her password crosses the
/// network in base64, readable by anyone on the path.
fn submission(c: &mut Conversation) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, "220 crepes.fr ESMTP ready");
    c.line(C, "EHLO alice-laptop");
    c.server_sends(&crlf_lines(&[
        "250-crepes.fr",
        "250-PIPELINING",
        "250-SIZE 10240000",
        "250-STARTTLS",
        "250-AUTH PLAIN LOGIN",
        "250 8BITMIME",
    ]));
    // "\0alice\0secret" in base64 (RFC 4616).
    c.line(C, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    c.line(S, "235 2.7.0 Authentication successful");
    c.line(C, "MAIL FROM:<alice@crepes.fr> BODY=8BITMIME");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    send_message(
        c,
        "354 End data with <CR><LF>.<CR><LF>",
        &picnic_message(),
        "250 2.0.0 Ok: queued as 4720",
    );
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
}

/// crepes.fr relays to hamburger.edu, Bob's mail server (found by MX).
fn relay(c: &mut Conversation) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, "220 hamburger.edu ESMTP");
    c.line(C, "EHLO crepes.fr");
    c.server_sends(&crlf_lines(&[
        "250-hamburger.edu",
        "250-PIPELINING",
        "250 8BITMIME",
    ]));
    c.line(C, "MAIL FROM:<alice@crepes.fr>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    send_message(
        c,
        "354 End data with <CR><LF>.<CR><LF>",
        &relayed_message(),
        "250 2.0.0 Ok: queued as 4721",
    );
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
}

/// Bob downloads the message with POP3 and deletes it from the server.
fn retrieval(c: &mut Conversation) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let m = stored_message();
    c.handshake();
    c.line(S, "+OK POP3 server ready <4722.1709543705@hamburger.edu>");
    c.line(C, "USER bob");
    c.line(S, "+OK");
    c.line(C, "PASS hungry");
    c.line(S, "+OK bob's maildrop has 1 message");
    c.line(C, "STAT");
    c.line(S, &format!("+OK 1 {}", m.len()));
    c.line(C, "RETR 1");
    c.server_sends(&retr_response(&m));
    c.line(C, "DELE 1");
    c.line(S, "+OK message 1 deleted");
    c.line(C, "QUIT");
    c.line(S, "+OK bye");
    c.close();
}

pub fn alice_to_bob_path() -> Sample {
    let mut sub = Conversation::new(addr("10.0.0.5:49200"), addr("10.0.0.1:587"), START_NANOS);
    submission(&mut sub);
    let mut rel = Conversation::new(
        addr("10.0.0.1:1040"),
        addr("10.0.0.2:25"),
        START_NANOS + SECOND,
    );
    relay(&mut rel);
    let mut pop = Conversation::new(
        addr("10.0.0.3:49160"),
        addr("10.0.0.2:110"),
        START_NANOS + 5 * SECOND,
    );
    retrieval(&mut pop);
    let flows = vec![
        summary("SMTP", &sub),
        summary("SMTP", &rel),
        summary("POP3", &pop),
    ];
    let frames = interleave(vec![
        sub.into_frames(),
        rel.into_frames(),
        pop.into_frames(),
    ]);
    let names = [
        (ip("10.0.0.5"), "alice-laptop.crepes.fr"),
        (ip("10.0.0.1"), "crepes.fr"),
        (ip("10.0.0.2"), "hamburger.edu"),
        (ip("10.0.0.3"), "bob-pc.hamburger.edu"),
    ];
    Sample {
        file_name: "alice-to-bob-path.pcapng",
        description: format!(
            "Alice's message on its whole path: her user agent submits it to crepes.fr on port \
             587 with AUTH PLAIN (alice/secret) without using the STARTTLS the server offers, \
             crepes.fr relays it to hamburger.edu on port 25, and Bob downloads and deletes it \
             with POP3 (bob/hungry). One Message-ID on three flows; the subject is \
             \"Información del picnic\" and the {}-byte attachment receta.txt travels in base64. \
             Message sizes: {} (submitted), {} (relayed), {} (retrieved) bytes.",
            picnic_attachment().len(),
            picnic_message().len(),
            relayed_message().len(),
            stored_message().len()
        ),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &names),
    }
}
