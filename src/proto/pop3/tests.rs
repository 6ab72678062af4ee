//! The POP3 dialogue parser on scripted sessions.

use super::parser::{C, Pop3Parser, S};
use crate::flow::Direction;
use crate::mail::sha256_hex;
use crate::proto::Protocol;
use crate::proto::testing::{self, codes, creds, encrypted, transcript};
use crate::trace::{Dialogue, Via};

fn run(script: &[(Direction, &[u8])]) -> Dialogue {
    testing::run(&mut Pop3Parser::new(), Protocol::Pop3, script, false)
}

const M1: &[u8] = b"From: alice@crepes.fr\r\nSubject: one\r\n\r\nhi\r\n";

#[test]
fn textbook_download_and_delete() {
    let d = run(&[
        (S, b"+OK POP3 server ready\r\n"),
        (C, b"user bob\r\n"),
        (S, b"+OK\r\n"),
        (C, b"pass hungry\r\n"),
        (S, b"+OK user successfully logged on\r\n"),
        (C, b"list\r\n"),
        (S, b"+OK 1 messages\r\n1 46\r\n.\r\n"),
        (C, b"retr 1\r\n"),
        (S, b"+OK 46 octets\r\n"),
        (S, M1),
        (S, b".\r\n"),
        (C, b"dele 1\r\n"),
        (S, b"+OK message 1 deleted\r\n"),
        (C, b"quit\r\n"),
        (S, b"+OK POP3 server signing off\r\n"),
    ]);
    let c = &d.credentials[0];
    assert_eq!(
        (
            c.mechanism.as_str(),
            c.username.as_deref(),
            c.password.as_deref(),
            c.success
        ),
        ("USER-PASS", Some("bob"), Some("hungry"), Some(true))
    );
    assert_eq!(codes(&d), ["plaintext-auth"]);
    let m = &d.messages[0];
    assert_eq!((m.size, m.number, m.deleted), (43, Some(1), Some(true)));
    assert_eq!(m.sha256, sha256_hex(M1));
    assert_eq!(m.via, Via::Retr);
    assert_eq!(
        transcript(&d)[6..13],
        [
            "S: +OK 1 messages",
            "S: 1 46",
            "S: .",
            "C: retr 1",
            "S: +OK 46 octets",
            "S: [message: 43 bytes, 4 lines, Subject: one]",
            "S: ."
        ]
    );
}

#[test]
fn dot_stuffed_message_byte_by_byte() {
    let wire = b"+OK\r\nSubject: dots\r\n\r\n..x\r\n..\r\n.\r\n";
    let mut script: Vec<(Direction, &[u8])> = vec![(S, b"+OK ready\r\n"), (C, b"RETR 2\r\n")];
    for i in 0..wire.len() {
        script.push((S, &wire[i..i + 1]));
    }
    let d = run(&script);
    let expected = b"Subject: dots\r\n\r\n.x\r\n.\r\n";
    assert_eq!(d.messages[0].sha256, sha256_hex(expected));
    assert!(d.messages[0].complete);
    // Retrieved, never deleted, but no QUIT: nothing is said.
    assert_eq!(d.messages[0].deleted, None);
}

#[test]
fn top_rset_and_no_quit() {
    let d = run(&[
        (S, b"+OK\r\n"),
        (C, b"TOP 1 0\r\nRETR 2\r\nDELE 2\r\nRSET\r\nDELE 2\r\n"),
        (S, b"+OK\r\nSubject: a\r\n\r\n.\r\n"),
        (
            S,
            b"+OK\r\nSubject: b\r\n\r\nbody\r\n.\r\n+OK\r\n+OK\r\n+OK\r\n",
        ),
    ]);
    let got: Vec<(Via, &str, Option<u64>, Option<bool>)> = d
        .messages
        .iter()
        .map(|m| (m.via, m.part.as_str(), m.number, m.deleted))
        .collect();
    assert_eq!(
        got,
        [
            (Via::Top, "top", Some(1), None),
            (Via::Retr, "full", Some(2), Some(false))
        ]
    );
    assert_eq!(codes(&d), ["pop3-deletions-not-committed"]);
}

#[test]
fn err_replies_carry_no_message() {
    let d = run(&[
        (S, b"+OK\r\n"),
        (C, b"RETR 9\r\n"),
        (S, b"-ERR no such message\r\n"),
        (C, b"STAT\r\n"),
        (S, b"+OK 0 0\r\n"),
    ]);
    assert!(d.messages.is_empty());
    assert!(d.findings.is_empty());
}

#[test]
fn apop_reveals_only_a_digest() {
    // RFC 1939 §7's example.
    let d = run(&[
        (
            S,
            b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
        ),
        (C, b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
        (S, b"+OK maildrop has 1 message (369 octets)\r\n"),
    ]);
    let c = &d.credentials[0];
    assert_eq!(
        (
            c.mechanism.as_str(),
            c.username.as_deref(),
            c.password.as_deref(),
            c.success
        ),
        ("APOP", Some("mrose"), None, Some(true))
    );
    assert!(
        c.note
            .as_deref()
            .unwrap()
            .contains("<1896.697170952@dbc.mtview.ca.us>")
    );
}

#[test]
fn sasl_plain_login_and_initial_response() {
    let d = run(&[
        (S, b"+OK\r\n"),
        (C, b"AUTH PLAIN\r\n"),
        (S, b"+ \r\n"),
        (C, b"AGJvYgBodW5ncnk=\r\n"),
        (S, b"+OK welcome\r\n"),
        (C, b"AUTH LOGIN\r\n"),
        (S, b"+ VXNlcm5hbWU6\r\n"),
        (C, b"Ym9i\r\n"),
        (S, b"+ UGFzc3dvcmQ6\r\n"),
        (C, b"d3Jvbmc=\r\n"),
        (S, b"-ERR authentication failed\r\n"),
        (C, b"AUTH PLAIN AGJvYgBodW5ncnk=\r\n"),
        (S, b"+OK\r\n"),
    ]);
    let got = creds(&d);
    assert_eq!(
        got,
        [
            ("PLAIN", Some("bob"), Some("hungry"), Some(true)),
            ("LOGIN", Some("bob"), Some("wrong"), Some(false)),
            ("PLAIN", Some("bob"), Some("hungry"), Some(true)),
        ]
    );
}

#[test]
fn stls_accepted_refused_and_not_used() {
    let d = run(&[
        (S, b"+OK\r\n"),
        (C, b"CAPA\r\n"),
        (S, b"+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
        (C, b"STLS\r\n"),
        (S, b"+OK begin TLS\r\n"),
        (C, &[0x16, 3, 1, 0, 1, 1]),
    ]);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(encrypted(&d, C), 6);
    let refused = run(&[(S, b"+OK\r\n"), (C, b"STLS\r\n"), (S, b"-ERR no\r\n")]);
    assert_eq!(codes(&refused), ["starttls-refused"]);
    let unused = run(&[
        (S, b"+OK\r\n"),
        (C, b"CAPA\r\n"),
        (S, b"+OK\r\nSTLS\r\n.\r\n"),
        (C, b"QUIT\r\n"),
        (S, b"+OK\r\n"),
    ]);
    assert_eq!(codes(&unused), ["starttls-not-used"]);
}

#[test]
fn garbage_is_an_anomaly_and_parsing_goes_on() {
    let d = run(&[
        (S, b"+OK\r\n"),
        (C, b"\x01\x02 junk\r\nNOOP\r\n"),
        (S, b"-ERR what\r\n+OK\r\n"),
        (S, b"HTTP/1.1 200 OK\r\n"),
    ]);
    assert_eq!(codes(&d), ["protocol-anomaly", "protocol-anomaly"]);
}

#[test]
fn only_crlf_dot_crlf_ends_a_multi_line_response() {
    // A lone "." with a bare LF next to it is message text (see
    // `proto::dot`); the response ends at <CRLF>.<CRLF>.
    let d = run(&[
        (S, b"+OK ready\r\n"),
        (C, b"RETR 1\r\n"),
        (S, b"+OK\r\nSubject: x\r\n\r\na\n.\nb\r\n.\r\n"),
        (C, b"QUIT\r\n"),
        (S, b"+OK bye\r\n"),
    ]);
    assert_eq!(
        d.messages[0].sha256,
        sha256_hex(b"Subject: x\r\n\r\na\n.\nb\r\n")
    );
    assert!(d.messages[0].complete);
    assert!(d.findings.iter().all(|f| f.code.as_str() == "bare-lf"));
}

const M2: &[u8] = b"From: carol@crepes.fr\r\nSubject: two\r\n\r\n+OK this line quotes a server\r\n";

/// `(severity, code, message)` of every finding.
fn findings(d: &Dialogue) -> Vec<(&'static str, &'static str, &str)> {
    d.findings
        .iter()
        .map(|f| (f.severity.as_str(), f.code.as_str(), f.message.as_str()))
        .collect()
}

#[test]
fn a_list_without_its_dot_ends_at_the_reply_to_the_next_command() {
    // RFC 1939 §3 wants "." after "2 75"; the server goes straight on with
    // the reply to RETR 1, which must not be read as part of the listing.
    let d = run(&[
        (S, b"+OK ready\r\n"),
        (C, b"LIST\r\n"),
        (S, b"+OK 2 messages\r\n1 46\r\n2 75\r\n"),
        (C, b"RETR 1\r\n"),
        (S, b"+OK 46 octets\r\n"),
        (S, M1),
        (S, b".\r\n"),
        (C, b"QUIT\r\n"),
        (S, b"+OK bye\r\n"),
    ]);
    assert_eq!(
        findings(&d),
        [(
            "info",
            "unterminated-response",
            "the multi-line response to LIST (status line at offset 11) ended without its final \".\" line (RFC 1939 §3); the parser resynchronised at offset 39 on \"+OK 46 octets\", the reply to the client's next command"
        )]
    );
    let m = &d.messages[0];
    assert_eq!((m.number, m.size, m.complete), (Some(1), 43, true));
    assert_eq!(m.sha256, sha256_hex(M1));
    assert_eq!(
        transcript(&d)[2..8],
        [
            "S: +OK 2 messages",
            "S: 1 46",
            "S: 2 75",
            "C: RETR 1",
            "S: +OK 46 octets",
            "S: [message: 43 bytes, 4 lines, Subject: one]",
        ]
    );
}

#[test]
fn a_pipelined_list_without_its_dot_resynchronises_too() {
    // The client sent LIST and RETR together (RFC 2449 §6.6): no listing
    // line can start with "+OK", so the reply to RETR is still found.
    let d = run(&[
        (S, b"+OK ready\r\n"),
        (C, b"LIST\r\nRETR 1\r\n"),
        (S, b"+OK 1 messages\r\n1 46\r\n+OK 46 octets\r\n"),
        (S, M1),
        (S, b".\r\n"),
    ]);
    assert_eq!(codes(&d), ["unterminated-response"]);
    assert_eq!(d.messages.len(), 1);
    assert_eq!(d.messages[0].sha256, sha256_hex(M1));
    assert!(d.messages[0].complete);
}

#[test]
fn a_message_without_its_dot_ends_when_the_client_moved_on() {
    // The client sends RETR 2 only once, for it, message 1 is over: the
    // server's next line is the reply to RETR 2.
    let d = run(&[
        (S, b"+OK ready\r\n"),
        (C, b"RETR 1\r\n"),
        (S, b"+OK 46 octets\r\n"),
        (S, M1),
        (C, b"RETR 2\r\n"),
        (S, b"+OK 70 octets\r\n"),
        (S, M2),
        (S, b".\r\n"),
    ]);
    assert_eq!(
        findings(&d),
        [(
            "medium",
            "unterminated-response",
            "the multi-line response to RETR 1 (status line at offset 11) ended without its final \".\" line (RFC 1939 §3); the parser resynchronised at offset 69 on \"+OK 70 octets\", the reply to the client's next command: the message is kept as retrieved so far, marked incomplete, since its end is not known"
        )]
    );
    let got: Vec<(Option<u64>, bool, String)> = d
        .messages
        .iter()
        .map(|m| (m.number, m.complete, m.sha256.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (Some(1), false, sha256_hex(M1)),
            (Some(2), true, sha256_hex(M2))
        ]
    );
}

#[test]
fn a_status_line_inside_a_message_is_text_without_the_clients_word() {
    // Message 2 quotes "+OK": with no command from the client in between,
    // it is a line of the message.
    let d = run(&[
        (S, b"+OK ready\r\n"),
        (C, b"RETR 2\r\nQUIT\r\n"),
        (S, b"+OK 70 octets\r\n"),
        (S, M2),
        (S, b".\r\n+OK bye\r\n"),
    ]);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(d.messages[0].sha256, sha256_hex(M2));
    assert!(d.messages[0].complete);
}

#[test]
fn a_client_sending_ahead_does_not_end_a_message() {
    // The client sends DELE while message 2 is still coming, and the
    // server's next line is message text: the client was sending ahead,
    // so the "+OK" line further down is the message's.
    let d = run(&[
        (S, b"+OK ready\r\n"),
        (C, b"RETR 2\r\n"),
        (S, b"+OK 70 octets\r\nFrom: carol@crepes.fr\r\n"),
        (C, b"DELE 2\r\n"),
        (
            S,
            b"Subject: two\r\n\r\n+OK this line quotes a server\r\n.\r\n+OK deleted\r\n",
        ),
        (C, b"QUIT\r\n"),
        (S, b"+OK bye\r\n"),
    ]);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(d.messages[0].sha256, sha256_hex(M2));
    assert!(d.messages[0].complete);
}

#[test]
fn with_pipelining_a_command_proves_nothing_inside_a_message() {
    // RFC 2449 §6.6: the server announced PIPELINING, so the client may
    // send RETR 2 before message 1 is over; the parser keeps waiting for
    // the "." (and message 1 swallows what follows, as the server sent it).
    let d = run(&[
        (S, b"+OK ready\r\n"),
        (C, b"CAPA\r\n"),
        (S, b"+OK\r\nPIPELINING\r\n.\r\n"),
        (C, b"RETR 1\r\n"),
        (S, b"+OK 46 octets\r\n"),
        (S, M1),
        (C, b"RETR 2\r\n"),
        (S, b"+OK 70 octets\r\n"),
        (S, M2),
        (S, b".\r\n"),
    ]);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(d.messages.len(), 1);
    assert!(d.messages[0].complete);
    assert_eq!(d.messages[0].size, 43 + 15 + 70);
}

#[test]
fn a_status_line_with_no_command_waiting_stays_in_the_listing() {
    let d = run(&[
        (S, b"+OK ready\r\n"),
        (C, b"UIDL\r\n"),
        (S, b"+OK\r\n1 abc\r\n+OK stray\r\n.\r\n"),
        (C, b"QUIT\r\n"),
        (S, b"+OK bye\r\n"),
    ]);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(transcript(&d)[4], "S: +OK stray");
}
