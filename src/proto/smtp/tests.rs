//! The SMTP dialogue parser on scripted sessions: the textbook, pipelining,
//! BDAT, AUTH, STARTTLS and what goes wrong.

use super::parser::{C, S, SmtpParser};
use crate::flow::Direction;
use crate::proto::MailParser;
use crate::proto::Protocol;
use crate::proto::testing::{self, codes, encrypted, transcript};
use crate::trace::DialogueOptions;
use crate::trace::{Dialogue, FindingCode, TxStatus, Via};

fn run(script: &[(Direction, &[u8])], full: bool) -> Dialogue {
    testing::run(&mut SmtpParser::new(), Protocol::Smtp, script, full)
}

const TEXTBOOK_MSG: &[u8] = b"From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: Searching for the meaning of life\r\n\r\nDo you like ketchup?\r\nHow about pickles?\r\n";

#[test]
fn textbook_session() {
    let d = run(
        &[
            (S, b"220 hamburger.edu\r\n"),
            (C, b"HELO crepes.fr\r\n"),
            (S, b"250 Hello crepes.fr, pleased to meet you\r\n"),
            (C, b"MAIL FROM: <alice@crepes.fr>\r\n"),
            (S, b"250 alice@crepes.fr ... Sender ok\r\n"),
            (C, b"RCPT TO: <bob@hamburger.edu>\r\n"),
            (S, b"250 bob@hamburger.edu ... Recipient ok\r\n"),
            (C, b"DATA\r\n"),
            (S, b"354 Enter mail, end with \".\" on a line by itself\r\n"),
            (C, TEXTBOOK_MSG),
            (C, b".\r\n"),
            (S, b"250 Message accepted for delivery\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 hamburger.edu closing connection\r\n"),
        ],
        false,
    );
    assert_eq!(
        transcript(&d),
        [
            "S: 220 hamburger.edu",
            "C: HELO crepes.fr",
            "S: 250 Hello crepes.fr, pleased to meet you",
            "C: MAIL FROM: <alice@crepes.fr>",
            "S: 250 alice@crepes.fr ... Sender ok",
            "C: RCPT TO: <bob@hamburger.edu>",
            "S: 250 bob@hamburger.edu ... Recipient ok",
            "C: DATA",
            "S: 354 Enter mail, end with \".\" on a line by itself",
            "C: [message: 134 bytes, 6 lines, Subject: Searching for the meaning of life]",
            "C: .",
            "S: 250 Message accepted for delivery",
            "C: QUIT",
            "S: 221 hamburger.edu closing connection",
        ]
    );
    assert_eq!(d.messages.len(), 1);
    let m = &d.messages[0];
    assert_eq!(m.size, TEXTBOOK_MSG.len() as u64);
    assert_eq!(m.sha256, crate::mail::sha256_hex(TEXTBOOK_MSG));
    assert_eq!(m.helo.as_deref(), Some("crepes.fr"));
    assert_eq!(m.mail_from.as_deref(), Some("<alice@crepes.fr>"));
    assert_eq!(m.rcpt_to, Some(vec!["<bob@hamburger.edu>".to_string()]));
    assert!(m.complete);
    assert_eq!(m.via, Via::Data);
    assert_eq!(d.transactions.len(), 1);
    let t = &d.transactions[0];
    assert_eq!(t.status, TxStatus::Delivered);
    assert_eq!(t.message, Some(0));
    assert_eq!(
        t.reply.as_deref(),
        Some("250 Message accepted for delivery")
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    // Each line knows its packet: the QUIT was piece 12.
    assert_eq!(d.transcript[12].packets, vec![12]);
}

#[test]
fn dot_unstuffing_byte_by_byte_and_full_transcript() {
    let wire = b"Subject: dots\r\n\r\n..leading dot\r\n..\r\n...\r\nend\r\n.\r\n";
    let mut script: Vec<(Direction, &[u8])> = vec![
        (S, b"220 mx ESMTP\r\n"),
        (C, b"EHLO a\r\n"),
        (S, b"250 mx\r\n"),
        (C, b"MAIL FROM:<a@x.org>\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"RCPT TO:<b@x.org>\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"DATA\r\n"),
        (S, b"354 go\r\n"),
    ];
    for i in 0..wire.len() {
        script.push((C, &wire[i..i + 1]));
    }
    script.push((S, b"250 queued\r\n"));
    let d = run(&script, true);
    let m = &d.messages[0];
    let expected = b"Subject: dots\r\n\r\n.leading dot\r\n.\r\n..\r\nend\r\n";
    assert_eq!(m.size, expected.len() as u64);
    assert_eq!(m.sha256, crate::mail::sha256_hex(expected));
    let t = transcript(&d);
    assert_eq!(
        &t[9..],
        [
            "C: Subject: dots",
            "C: ",
            "C: ..leading dot",
            "C: ..",
            "C: ...",
            "C: end",
            "C: .",
            "S: 250 queued"
        ]
    );
}

#[test]
fn pipelining_matches_replies_in_order() {
    let d = run(
        &[
            (S, b"220 mail.hamburger.edu ESMTP\r\n"),
            (C, b"EHLO crepes.fr\r\n"),
            (
                S,
                b"250-mail.hamburger.edu\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n",
            ),
            (
                C,
                b"MAIL FROM:<alice@crepes.fr> SIZE=20 BODY=8BITMIME\r\nRCPT TO:<bob@hamburger.edu>\r\nRCPT TO:<nobody@hamburger.edu>\r\nRCPT TO:<carol@hamburger.edu> NOTIFY=NEVER\r\nDATA\r\n",
            ),
            (
                S,
                b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@hamburger.edu>: Recipient address rejected\r\n250 2.1.5 Ok\r\n354 End data\r\n",
            ),
            (C, b"Subject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"),
            (S, b"250 2.0.0 Ok: queued\r\n221 Bye\r\n"),
        ],
        false,
    );
    let m = &d.messages[0];
    assert_eq!(m.mail_from.as_deref(), Some("<alice@crepes.fr>"));
    assert_eq!(
        m.rcpt_to,
        Some(vec![
            "<bob@hamburger.edu>".to_string(),
            "<carol@hamburger.edu>".to_string()
        ])
    );
    let t = &d.transactions[0];
    assert_eq!(t.rcpt_rejected, vec!["<nobody@hamburger.edu>"]);
    assert_eq!(t.status, TxStatus::Delivered);
    assert_eq!(m.size, 22);
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

#[test]
fn pipelined_transactions_keep_their_own_envelopes() {
    // Everything pipelined before any reply (RFC 2920): each message
    // must get the envelope of its own MAIL/RCPT, not the last one.
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
            (
                C,
                b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nBDAT 5 LAST\r\nhello\
MAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.org>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n",
            ),
            (
                S,
                b"250 ok\r\n250 ok\r\n250 delivered\r\n250 ok\r\n250 ok\r\n550 no such user\r\n354 go\r\n",
            ),
            (C, b"second\r\n.\r\n"),
            (S, b"250 queued\r\n"),
        ],
        false,
    );
    let got: Vec<(Option<&str>, Option<Vec<String>>)> = d
        .messages
        .iter()
        .map(|m| (m.mail_from.as_deref(), m.rcpt_to.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                Some("<a@example.org>"),
                Some(vec!["<b@example.org>".into()])
            ),
            (
                Some("<c@example.org>"),
                Some(vec!["<d@example.org>".into()])
            ),
        ]
    );
    let tx: Vec<(TxStatus, Option<usize>, usize)> = d
        .transactions
        .iter()
        .map(|t| (t.status, t.message, t.rcpt_rejected.len()))
        .collect();
    assert_eq!(
        tx,
        [
            (TxStatus::Delivered, Some(0), 0),
            (TxStatus::Delivered, Some(1), 1)
        ]
    );
}

#[test]
fn several_transactions_rset_and_quit() {
    let d = run(
        &[
            (S, b"220 mx.example.org ESMTP\r\n"),
            (C, b"HELO client.example.org\r\n"),
            (S, b"250 hi\r\n"),
            (C, b"MAIL FROM:<a@example.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RCPT TO:<b@example.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RSET\r\n"),
            (S, b"250 reset\r\n"),
            (C, b"MAIL FROM:<c@example.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RCPT TO:<d@example.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"DATA\r\n"),
            (S, b"354 go\r\n"),
            (C, b"x\r\n.\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"MAIL FROM:<e@example.org>\r\n"),
            (S, b"553 no\r\n"),
            (C, b"MAIL FROM:<f@example.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    let summary: Vec<(Option<&str>, TxStatus, Option<usize>)> = d
        .transactions
        .iter()
        .map(|t| (t.mail_from.as_deref(), t.status, t.message))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("<a@example.org>"), TxStatus::Aborted, None),
            (Some("<c@example.org>"), TxStatus::Delivered, Some(0)),
            (Some("<e@example.org>"), TxStatus::Rejected, None),
            (Some("<f@example.org>"), TxStatus::Aborted, None),
        ]
    );
    assert_eq!(d.transactions[0].rcpt_to, vec!["<b@example.org>"]);
}

#[test]
fn bdat_chunks_including_zero_length_last() {
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a.example\r\n"),
            (S, b"250-mx\r\n250 CHUNKING\r\n"),
            (C, b"MAIL FROM:<a@example.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RCPT TO:<b@example.org>\r\n"),
            (S, b"250 ok\r\n"),
            // A chunk may hold anything, "." lines and "BDAT" included,
            // and end in the middle of a line.
            (C, b"BDAT 21\r\nSubject: x\r\n\r\n.\r\nBD"),
            (C, b"AT"),
            (S, b"250 21 octets\r\n"),
            (C, b"BDAT 6\r\n\r\nyo\r\nBDAT 0 LAST\r\n"),
            (S, b"250 6 octets\r\n250 delivered\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    let m = &d.messages[0];
    let expected = b"Subject: x\r\n\r\n.\r\nBDAT\r\nyo\r\n";
    assert_eq!(m.size, expected.len() as u64);
    assert_eq!(m.sha256, crate::mail::sha256_hex(expected));
    assert_eq!(m.via, Via::Bdat);
    assert!(m.complete);
    assert_eq!(d.transactions[0].status, TxStatus::Delivered);
    assert_eq!(d.transactions[0].reply.as_deref(), Some("250 delivered"));
}

#[test]
fn bdat_with_a_bad_size_is_an_anomaly_and_the_next_line_a_command() {
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250 mx\r\n"),
            (C, b"BDAT 99999999999999999999999 LAST\r\n"),
            (S, b"501 bad size\r\n"),
            (C, b"BDAT -5\r\n"),
            (S, b"501 bad size\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    assert_eq!(codes(&d), ["protocol-anomaly", "protocol-anomaly"]);
    assert!(d.messages.is_empty());
    assert_eq!(transcript(&d).last().unwrap(), "S: 221 bye");
}

#[test]
fn auth_plain_login_and_cram_md5() {
    let d = run(
        &[
            (S, b"220 smtp.crepes.fr ESMTP\r\n"),
            (C, b"EHLO alice\r\n"),
            (
                S,
                b"250-smtp.crepes.fr\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n",
            ),
            // Initial-response form (RFC 4954 §4), refused.
            (C, b"AUTH PLAIN AGFsaWNlAHdyb25n\r\n"),
            (S, b"535 5.7.8 Authentication credentials invalid\r\n"),
            // Two steps, accepted.
            (C, b"AUTH LOGIN\r\n"),
            (S, b"334 VXNlcm5hbWU6\r\n"),
            (C, b"YWxpY2U=\r\n"),
            (S, b"334 UGFzc3dvcmQ6\r\n"),
            (C, b"c2VjcmV0\r\n"),
            (S, b"235 2.7.0 Authentication successful\r\n"),
            (C, b"AUTH CRAM-MD5\r\n"),
            (
                S,
                b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n",
            ),
            (C, b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"),
            (S, b"235 ok\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    let got = testing::creds(&d);
    assert_eq!(
        got,
        [
            ("PLAIN", Some("alice"), Some("wrong"), Some(false)),
            ("LOGIN", Some("alice"), Some("secret"), Some(true)),
            ("CRAM-MD5", Some("tim"), None, Some(true)),
        ]
    );
    assert_eq!(d.credentials[0].protocol, Protocol::Smtp);
    assert_eq!(
        codes(&d),
        ["plaintext-auth", "plaintext-auth", "plaintext-auth"]
    );
    // The base64 lines are commands in the transcript, as sent.
    assert!(transcript(&d).contains(&"C: YWxpY2U=".to_string()));
}

#[test]
fn starttls_accepted_goes_to_tls() {
    let hello = [0x16u8, 3, 1, 0, 5, 1, 0, 0, 1, 0];
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250-mx\r\n250 STARTTLS\r\n"),
            (C, b"STARTTLS\r\n"),
            (S, b"220 2.0.0 Ready to start TLS\r\n"),
            (C, &hello),
            (S, &[0x16, 3, 3, 0, 2, 2, 0]),
            (C, b"\x17\x03\x03\x00\x03abc"),
        ],
        false,
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(encrypted(&d, C), 18);
    assert_eq!(encrypted(&d, S), 7);
    let t = transcript(&d);
    assert_eq!(
        &t[5..],
        [
            "S: 220 2.0.0 Ready to start TLS",
            "C: [TLS: 10 bytes encrypted]",
            "S: [TLS: 7 bytes encrypted]",
            "C: [TLS: 8 bytes encrypted]"
        ]
    );
}

#[test]
fn starttls_stripped_by_a_middlebox() {
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250-mx\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    assert_eq!(codes(&d), ["starttls-stripped"]);
}

#[test]
fn starttls_refused_and_not_used() {
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250-mx\r\n250 STARTTLS\r\n"),
            (C, b"STARTTLS\r\n"),
            (S, b"454 4.7.0 TLS not available\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    assert_eq!(codes(&d), ["starttls-refused"]);
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250-mx\r\n250 STARTTLS\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    assert_eq!(codes(&d), ["starttls-not-used"]);
}

#[test]
fn rejected_data_lines_are_read_as_commands_again() {
    // The client sent DATA and, without waiting, a command; the server
    // refused DATA, so that line was a command after all.
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250 mx\r\n"),
            (C, b"MAIL FROM:<a@example.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RCPT TO:<b@example.org>\r\n"),
            (C, b"DATA\r\nRSET\r\n"),
            (
                S,
                b"250 ok\r\n554 5.5.1 Error: no valid recipients\r\n250 reset\r\n",
            ),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    assert!(d.messages.is_empty());
    assert_eq!(codes(&d), ["data-rejected"]);
    assert_eq!(d.transactions.len(), 1);
    assert_eq!(d.transactions[0].status, TxStatus::Rejected);
    assert!(transcript(&d).contains(&"C: RSET".to_string()));
}

#[test]
fn no_helo_bare_lf_and_garbage() {
    let d = run(
        &[
            (S, b"220 mx ESMTP\n"),
            (C, b"MAIL FROM:<a@example.org>\n"),
            (S, b"250 ok\n"),
            (C, b"\x00\x01binary junk\r\n"),
            (S, b"500 what?\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"221 bye\r\n"),
        ],
        false,
    );
    assert_eq!(
        codes(&d),
        ["bare-lf", "bare-lf", "protocol-anomaly", "protocol-anomaly"]
    );
    assert!(d.findings[3].message.starts_with("not an SMTP command"));
}

#[test]
fn multibyte_character_where_a_colon_belongs() {
    // Found by the damaged-capture test: "RCPT TO\xef\xbf\xbd<…>".
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (
                C,
                "RCPT TO\u{fffd}<bob@hamburger.edu>\r\nMAIL F\u{e9}:<a@b>\r\n".as_bytes(),
            ),
        ],
        false,
    );
    assert_eq!(codes(&d), ["protocol-anomaly", "protocol-anomaly"]);
}

#[test]
fn overlong_command_line() {
    let mut long = b"HELO ".to_vec();
    long.extend(std::iter::repeat_n(b'a', 600));
    long.extend_from_slice(b"\r\n");
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (C, &long),
            (S, b"500 too long\r\n"),
        ],
        false,
    );
    assert_eq!(codes(&d), ["overlong-line"]);
}

#[test]
fn one_sided_capture_uses_what_the_client_sent() {
    let d = run(
        &[
            (C, b"EHLO a.example\r\n"),
            (C, b"MAIL FROM:<a@example.org>\r\n"),
            (C, b"RCPT TO:<b@example.org>\r\n"),
            (C, b"DATA\r\n"),
            (C, b"Subject: one side\r\n\r\nhi\r\n.\r\n"),
            (C, b"QUIT\r\n"),
        ],
        false,
    );
    let m = &d.messages[0];
    assert_eq!(m.mail_from.as_deref(), Some("<a@example.org>"));
    assert_eq!(m.rcpt_to, Some(vec!["<b@example.org>".to_string()]));
    assert_eq!(m.helo.as_deref(), Some("a.example"));
    assert_eq!(m.size, 25);
    assert!(m.complete);
}

#[test]
fn gap_inside_data_marks_the_message_incomplete() {
    let mut out = Dialogue::new(0, Protocol::Smtp, DialogueOptions::default());
    let mut p = SmtpParser::new();
    p.feed(S, b"220 mx ESMTP\r\n", &mut out);
    p.feed(
        C,
        b"HELO a\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\n",
        &mut out,
    );
    p.feed(S, b"250 a\r\n250 b\r\n250 c\r\n354 d\r\n", &mut out);
    p.feed(C, b"line one\r\nline t", &mut out);
    p.gap(C, 100, &mut out);
    p.feed(C, b"wo\r\nlast line\r\n.\r\n", &mut out);
    p.feed(S, b"250 ok\r\n", &mut out);
    p.finish(&mut out);
    let m = &out.messages[0];
    assert!(!m.complete);
    // The start of the line the gap cut ("line t") is kept.
    assert_eq!(
        m.size,
        b"line one\r\nline two\r\nlast line\r\n".len() as u64
    );
}

#[test]
fn an_unauthenticated_rcpt_for_a_foreign_domain_is_no_finding_by_itself() {
    // Every MX accepts mail for the domains it serves from clients that do
    // not authenticate (RFC 5321 §3.6.2), and its greeting name need not
    // be one of them: one flow cannot show an open relay (the analysis
    // follows the message to its next hop, `analysis::relay`).
    let d = run(
        &[
            (S, b"220 mail.hamburger.edu ESMTP\r\n"),
            (C, b"HELO spammer\r\n"),
            (S, b"250 hi\r\n"),
            (C, b"MAIL FROM:<ceo@bank.example>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RCPT TO:<bob@hamburger.edu>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RCPT TO:<victim@elsewhere.example>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"DATA\r\n"),
            (S, b"354 go\r\n"),
            (C, b"From: alice@crepes.fr\r\nSubject: hi\r\n\r\nx\r\n.\r\n"),
            (S, b"250 ok\r\n"),
        ],
        false,
    );
    // (`from-mismatch` is a rule of the analysis on complete messages.)
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(d.server_name.as_deref(), Some("mail.hamburger.edu"));
    assert_eq!(
        d.messages[0].rcpt_to,
        Some(vec![
            "<bob@hamburger.edu>".to_string(),
            "<victim@elsewhere.example>".to_string()
        ])
    );
}

#[test]
fn a_bare_lf_dot_is_not_the_end_for_a_server_that_reads_on() {
    // The server answers only after <CRLF>.<CRLF>: the lone "." with bare
    // LFs was text to it, and the message holds it.
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (
                C,
                b"EHLO a\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
            ),
            (S, b"250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            (
                C,
                b"Subject: one\r\n\r\nhi\n.\nMAIL FROM:<x@example.org>\r\n.\r\n",
            ),
            (S, b"250 queued\r\n"),
        ],
        true,
    );
    assert_eq!(d.messages.len(), 1);
    let expected = b"Subject: one\r\n\r\nhi\n.\nMAIL FROM:<x@example.org>\r\n";
    assert_eq!(d.messages[0].sha256, crate::mail::sha256_hex(expected));
    assert!(d.messages[0].complete);
    assert_eq!(d.transactions.len(), 1);
    assert_eq!(d.transactions[0].status, TxStatus::Delivered);
    let t = transcript(&d);
    assert!(t.contains(&"C: .".to_string()));
    assert_eq!(t.last().unwrap(), "S: 250 queued");
}

#[test]
fn a_server_that_answers_after_a_bare_lf_dot_ended_the_data_there() {
    // Suricata's smtp-url-b64 capture: a client that ends every line with
    // LF, and a server that takes <LF>.<LF> for the end and says so.
    let d = run(
        &[
            (S, b"220 mx ESMTP\n"),
            (
                C,
                b"HELO a\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\n",
            ),
            (S, b"250 mx\n250 ok\n250 ok\n354 go\n"),
            (C, b"Subject: lf\n\nhi\n.\nNOOP\n"),
            (S, b"250 queued\n250 ok\n"),
            (C, b"QUIT\n"),
            (S, b"221 bye\n"),
        ],
        false,
    );
    let m = &d.messages[0];
    assert_eq!(m.sha256, crate::mail::sha256_hex(b"Subject: lf\n\nhi\n"));
    assert!(m.complete);
    assert_eq!(d.transactions[0].status, TxStatus::Delivered);
    assert_eq!(
        &transcript(&d)[9..],
        [
            "C: [message: 16 bytes, 3 lines, Subject: lf]",
            "C: .",
            "C: NOOP",
            "S: 250 queued",
            "S: 250 ok",
            "C: QUIT",
            "S: 221 bye"
        ]
    );
    // The client ends every line with LF, so its "." is its end and no
    // reader that accepts LF disagrees: bare LF, but nothing smuggled
    // (real captures of such clients are not attacks).
    assert_eq!(codes(&d), ["bare-lf", "bare-lf"]);
}

#[test]
fn a_lone_dot_next_to_a_bare_cr_or_lf_is_flagged_once_per_message() {
    // The server of the mail world reads to <CRLF>.<CRLF> and refuses
    // the message (554 5.5.2); each message with such a "." gets one
    // `smtp-smuggling`, an ordinary one none.
    let d = run(
        &[
            (S, b"220 mx ESMTP\r\n"),
            (
                C,
                b"EHLO a\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
            ),
            (S, b"250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            (
                C,
                b"Subject: cr\r\n\r\nhi\r.\rMAIL FROM:<x@example.org>\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
            ),
            (S, b"554 5.5.2 refused\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            (C, b"Subject: plain\r\n\r\nx\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
            (S, b"250 queued\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
            (C, b"Subject: lf\r\n\r\nhi\r\n.\nx\n.\nMAIL\r\n.\r\nQUIT\r\n"),
            (S, b"554 5.5.2 refused\r\n221 bye\r\n"),
        ],
        false,
    );
    let smuggling: Vec<&str> = d
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::SmtpSmuggling)
        .map(|f| f.severity.as_str())
        .collect();
    assert_eq!(smuggling, ["high", "high"]);
    let first = d
        .findings
        .iter()
        .find(|f| f.code == FindingCode::SmtpSmuggling);
    assert!(
        first
            .unwrap()
            .message
            .contains("a server and a relaying client may disagree about where the message ends"),
        "{:?}",
        d.findings
    );
    let statuses: Vec<TxStatus> = d.transactions.iter().map(|t| t.status).collect();
    assert_eq!(
        statuses,
        [TxStatus::Rejected, TxStatus::Delivered, TxStatus::Rejected]
    );
    assert_eq!(
        d.messages[0].sha256,
        crate::mail::sha256_hex(b"Subject: cr\r\n\r\nhi\r.\rMAIL FROM:<x@example.org>\r\n")
    );
    assert_eq!(d.messages.len(), 3);
}
