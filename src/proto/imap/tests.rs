//! The analyzer's IMAP parser on scripted dialogues: credentials, literals
//! both ways, STARTTLS, IDLE, EXPUNGE, and what is not IMAP.

use super::ImapParser;
use super::parser::{C, S};
use crate::flow::Direction;
use crate::mail::sha256_hex;
use crate::proto::testing::{self, codes, creds, encrypted, transcript};
use crate::proto::{MailParser, Protocol};
use crate::trace::{Dialogue, Part, Via};

fn run(script: &[(Direction, &[u8])]) -> Dialogue {
    testing::run(&mut ImapParser::new(), Protocol::Imap, script, false)
}

/// The server's greeting, `a1 FETCH 1 BODY[]`, and `answer`.
fn fetch_answered(answer: &[u8]) -> Dialogue {
    run(&[
        (S, b"* OK ready\r\n"),
        (C, b"a1 FETCH 1 BODY[]\r\n"),
        (S, answer),
    ])
}

const MSG: &[u8] = b"From: alice@crepes.fr\r\nSubject: crepes\r\n\r\nhello\r\n";

#[test]
fn login_atoms_quoted_and_literals() {
    let d = run(&[
        (S, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
        (C, b"a1 LOGIN bob hungry\r\n"),
        (S, b"a1 NO [AUTHENTICATIONFAILED] nope\r\n"),
        (C, b"a2 login \"bob\" \"a \\\"quoted\\\" \\\\ pass\"\r\n"),
        (S, b"a2 NO nope\r\n"),
        (C, b"a3 LOGIN {3}\r\n"),
        (S, b"+ go ahead\r\n"),
        (C, b"bob {6}\r\n"),
        (S, b"+ go ahead\r\n"),
        (C, b"hungry\r\n"),
        (S, b"a3 OK logged in\r\n"),
    ]);
    assert_eq!(
        creds(&d),
        [
            ("IMAP-LOGIN", Some("bob"), Some("hungry"), Some(false)),
            (
                "IMAP-LOGIN",
                Some("bob"),
                Some("a \"quoted\" \\ pass"),
                Some(false)
            ),
            ("IMAP-LOGIN", Some("bob"), Some("hungry"), Some(true)),
        ]
    );
    assert_eq!(
        codes(&d),
        [
            "plaintext-auth",
            "plaintext-auth",
            "plaintext-auth",
            "starttls-not-used"
        ]
    );
}

#[test]
fn authenticate_plain_with_continuation_and_sasl_ir() {
    let d = run(&[
        (S, b"* OK ready\r\n"),
        (C, b"a1 AUTHENTICATE PLAIN\r\n"),
        (S, b"+ \r\n"),
        (C, b"AGJvYgBodW5ncnk=\r\n"),
        (S, b"a1 OK done\r\n"),
        (C, b"a2 AUTHENTICATE PLAIN AGFsaWNlAHdyb25n\r\n"),
        (S, b"a2 NO bad\r\n"),
    ]);
    assert_eq!(
        creds(&d),
        [
            ("PLAIN", Some("bob"), Some("hungry"), Some(true)),
            ("PLAIN", Some("alice"), Some("wrong"), Some(false)),
        ]
    );
}

#[test]
fn starttls_accepted_and_refused() {
    let d = run(&[
        (
            S,
            b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n",
        ),
        (C, b"a1 STARTTLS\r\n"),
        (S, b"a1 OK Begin TLS negotiation now\r\n"),
        (C, &[0x16, 3, 1, 0, 1, 1]),
        (S, &[0x16, 3, 3, 0, 1, 2]),
    ]);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!((encrypted(&d, C), encrypted(&d, S)), (6, 6));
    let refused = run(&[
        (S, b"* OK ready\r\n"),
        (C, b"a1 STARTTLS\r\n"),
        (S, b"a1 BAD not now\r\n"),
    ]);
    assert_eq!(codes(&refused), ["starttls-refused"]);
}

#[test]
fn fetch_literal_byte_by_byte() {
    let mut wire = format!("* 3 FETCH (FLAGS (\\Seen) BODY[] {{{}}}\r\n", MSG.len()).into_bytes();
    wire.extend_from_slice(MSG);
    wire.extend_from_slice(b" UID 42)\r\na1 OK done\r\n");
    let mut script: Vec<(Direction, &[u8])> = vec![
        (S, b"* OK ready\r\n"),
        (C, b"a1 FETCH 3 (FLAGS BODY[])\r\n"),
    ];
    for i in 0..wire.len() {
        script.push((S, &wire[i..i + 1]));
    }
    let d = run(&script);
    let m = &d.messages[0];
    assert_eq!(m.size, MSG.len() as u64);
    assert_eq!(m.sha256, sha256_hex(MSG));
    assert_eq!(
        (m.number, m.uid, m.part.as_str()),
        (Some(3), Some(42), "full")
    );
    assert_eq!(m.subject.as_deref(), Some("crepes"));
    assert_eq!(m.command, "a1 FETCH 3 (FLAGS BODY[])");
    assert_eq!(
        transcript(&d)[2..],
        [
            "S: * 3 FETCH (FLAGS (\\Seen) BODY[] {49}",
            "S: [message: 49 bytes, 4 lines, Subject: crepes]",
            "S:  UID 42)",
            "S: a1 OK done"
        ]
    );
}

#[test]
fn header_and_text_sections_partial_and_uid_first() {
    let d = run(&[
        (S, b"* OK ready\r\n"),
        (
            C,
            b"a1 UID FETCH 42 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])\r\n",
        ),
        (
            S,
            b"* 3 FETCH (UID 42 BODY[HEADER] {11}\r\nSubject: \r\n BODY[TEXT] {4}\r\nhi\r\n)\r\n",
        ),
        (C, b"a2 FETCH 1 BODY[]<0.10>\r\n"),
        (S, b"* 1 FETCH (BODY[]<0> {10}\r\n0123456789)\r\na2 OK\r\n"),
        (C, b"a3 FETCH 1 BODY[1.2]\r\n"),
        (
            S,
            b"* 1 FETCH (BODY[1.2] {2}\r\nxy)\r\n* 1 FETCH (BODY[] NIL)\r\na3 OK\r\n",
        ),
    ]);
    let got: Vec<(&str, u64, Option<u64>)> = d
        .messages
        .iter()
        .map(|m| (m.part.as_str(), m.size, m.uid))
        .collect();
    assert_eq!(
        got,
        [
            ("header", 11, Some(42)),
            ("text", 4, Some(42)),
            ("full<0>", 10, None),
            ("1.2", 2, None),
        ]
    );
}

#[test]
fn append_with_continuation_and_literal_plus() {
    let d = run(&[
        (S, b"* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n"),
        (C, b"a1 APPEND Sent (\\Seen) {49}\r\n"),
        (S, b"+ Ready for literal data\r\n"),
        (C, MSG),
        (C, b"\r\n"),
        (S, b"a1 OK [APPENDUID 1 7] done\r\n"),
        (C, b"a2 APPEND Drafts {49+}\r\n"),
        (C, MSG),
        (C, b"\r\n"),
        (S, b"a2 OK done\r\n"),
    ]);
    assert_eq!(d.messages.len(), 2);
    for m in &d.messages {
        assert_eq!((m.via, m.size, m.complete), (Via::Append, 49, true));
        assert_eq!(m.sha256, sha256_hex(MSG));
    }
    assert_eq!(d.messages[0].command, "a1 APPEND Sent (\\Seen) {49}");
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn idle_done_and_expunge_marks_deleted() {
    let d = run(&[
        (S, b"* OK ready\r\n"),
        (C, b"a1 FETCH 1:2 BODY[]\r\n"),
        (
            S,
            b"* 1 FETCH (BODY[] {2}\r\nab)\r\n* 2 FETCH (BODY[] {2}\r\ncd)\r\na1 OK\r\n",
        ),
        (C, b"a2 IDLE\r\n"),
        (S, b"+ idling\r\n* 3 EXISTS\r\n"),
        (C, b"DONE\r\n"),
        (S, b"a2 OK IDLE terminated\r\n"),
        (C, b"a3 STORE 1 +FLAGS (\\Deleted)\r\na4 EXPUNGE\r\n"),
        (
            S,
            b"* 1 FETCH (FLAGS (\\Deleted))\r\na3 OK\r\n* 1 EXPUNGE\r\na4 OK\r\n",
        ),
    ]);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    let deleted: Vec<Option<bool>> = d.messages.iter().map(|m| m.deleted).collect();
    assert_eq!(deleted, [Some(true), None]);
}

#[test]
fn huge_literal_then_end_of_flow() {
    let d = fetch_answered(b"* 1 FETCH (BODY[] {4294967295}\r\nSubject: x\r\n\r\nonly this\r\n");
    let m = &d.messages[0];
    assert!(!m.complete);
    assert_eq!(m.size, 25);
}

#[test]
fn gap_inside_a_literal() {
    let mut p = ImapParser::new();
    let mut out = Dialogue::new(0, Protocol::Imap, crate::trace::DialogueOptions::default());
    p.feed(S, b"* OK ready\r\n", &mut out);
    p.feed(C, b"a1 FETCH 1 BODY[]\r\n", &mut out);
    p.feed(S, b"* 1 FETCH (BODY[] {20}\r\n01234", &mut out);
    p.gap(S, 10, &mut out);
    p.feed(S, b"56789)\r\na1 OK\r\n* 2 EXISTS\r\n", &mut out);
    p.finish(&mut out);
    let m = &out.messages[0];
    assert!(!m.complete);
    assert_eq!(m.size, 10);
    assert!(out.findings.is_empty(), "{:?}", out.findings);
}

#[test]
fn literal_counted_short_before_the_closing_paren() {
    // Seen in protolens' imap_fetch capture: CRLF, then ")" on its own.
    let d = fetch_answered(b"* 1 FETCH (BODY[] {4}\r\nab\r\n\r\n)\r\na1 OK\r\n");
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(d.messages[0].size, 4);
}

#[test]
fn a_header_fetch_lists_no_attachments() {
    let header = b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
    let mut fetch = format!("* 1 FETCH (BODY[HEADER] {{{}}}\r\n", header.len()).into_bytes();
    fetch.extend_from_slice(header);
    fetch.extend_from_slice(b")\r\na1 OK\r\n");
    let d = run(&[
        (S, b"* OK ready\r\n"),
        (C, b"a1 FETCH 1 BODY[HEADER]\r\n"),
        (S, &fetch),
    ]);
    assert_eq!(d.messages[0].part, Part::Header);
    assert_eq!(d.messages[0].subject.as_deref(), Some("s"));
    assert!(d.messages[0].attachments.is_empty());
}

#[test]
fn garbage_lines_are_anomalies() {
    let d = run(&[
        (S, b"* OK ready\r\n"),
        (C, b"\x00\x01garbage\r\n"),
        (S, b"totally not imap\r\n"),
        (C, b"a1 NOOP\r\n"),
        (S, b"a1 OK\r\n"),
    ]);
    assert_eq!(codes(&d), ["protocol-anomaly", "protocol-anomaly"]);
}
