//! The server's word on what the client sent, on scripted sessions: every
//! RCPT with its reply, text sent before the 354 (a message only if the
//! server takes it), empty messages, and the reply on each credential.

use super::parser::{C, S, SmtpParser};
use crate::flow::Direction;
use crate::proto::Protocol;
use crate::proto::testing::{self, codes, transcript};
use crate::trace::{Dialogue, Recipient, TxStatus};

fn run(script: &[(Direction, &[u8])]) -> Dialogue {
    testing::run(&mut SmtpParser::new(), Protocol::Smtp, script, false)
}

fn recipient(address: &str, reply: Option<&str>) -> Recipient {
    Recipient {
        address: address.into(),
        code: reply.map(|r| r[..3].parse().unwrap()),
        reply: reply.map(str::to_string),
    }
}

const GREETING: &[(Direction, &[u8])] = &[
    (S, b"220 mx.example.org ESMTP\r\n"),
    (C, b"EHLO client.example.com\r\n"),
    (S, b"250-mx.example.org\r\n250 PIPELINING\r\n"),
];

fn session(rest: &[(Direction, &'static [u8])]) -> Dialogue {
    let mut script = GREETING.to_vec();
    script.extend_from_slice(rest);
    run(&script)
}

#[test]
fn every_rcpt_is_kept_with_its_reply() {
    let d = session(&[
        (C, b"MAIL FROM:<alice@example.com>\r\n"),
        (S, b"250 2.1.0 Ok\r\n"),
        (C, b"RCPT TO:<bob@example.org>\r\n"),
        (S, b"250 2.1.5 Ok\r\n"),
        (C, b"RCPT TO:<nobody@example.org>\r\n"),
        (
            S,
            b"550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n",
        ),
        (C, b"RCPT TO:<carol@example.org>\r\n"),
        (S, b"452 4.5.3 Too many recipients\r\n"),
        (C, b"DATA\r\n"),
        (S, b"354 go ahead\r\n"),
        (C, b"Subject: hi\r\n\r\nhello\r\n.\r\n"),
        (S, b"250 2.0.0 Ok: queued\r\n"),
    ]);
    let t = &d.transactions[0];
    assert_eq!(t.rcpt_to, ["<bob@example.org>"]);
    assert_eq!(
        t.rcpt_rejected,
        ["<nobody@example.org>", "<carol@example.org>"]
    );
    assert_eq!(
        t.recipients,
        [
            recipient("<bob@example.org>", Some("250 2.1.5 Ok")),
            recipient(
                "<nobody@example.org>",
                Some("550 5.1.1 <nobody@example.org>: Recipient address rejected")
            ),
            recipient("<carol@example.org>", Some("452 4.5.3 Too many recipients")),
        ]
    );
    assert_eq!(
        d.messages[0].rcpt_to,
        Some(vec!["<bob@example.org>".into()])
    );
}

/// RFC 2920 §3.1 lets MAIL and RCPT travel together: the server refuses
/// the MAIL, then each RCPT with 503 (no transaction to add it to). The
/// transaction is recorded at the MAIL's refusal and settled by the 503s:
/// no refused recipient is ever listed as accepted.
#[test]
fn rcpts_pipelined_after_a_refused_mail_are_refused() {
    let d = session(&[
        (
            C,
            b"MAIL FROM:<spam@example.net>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n",
        ),
        (
            S,
            b"550 5.7.1 <spam@example.net>: Sender address rejected\r\n503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need RCPT command\r\n",
        ),
        (C, b"QUIT\r\n"),
        (S, b"221 2.0.0 Bye\r\n"),
    ]);
    assert_eq!(d.transactions.len(), 1);
    let t = &d.transactions[0];
    assert_eq!(t.status, TxStatus::Rejected);
    assert_eq!(
        t.reply.as_deref(),
        Some("550 5.7.1 <spam@example.net>: Sender address rejected")
    );
    assert!(t.rcpt_to.is_empty(), "{:?}", t.rcpt_to);
    assert_eq!(
        t.rcpt_rejected,
        ["<bob@example.org>", "<carol@example.org>"]
    );
    let need_mail = Some("503 5.5.1 Error: need MAIL command");
    assert_eq!(
        t.recipients,
        [
            recipient("<bob@example.org>", need_mail),
            recipient("<carol@example.org>", need_mail),
        ]
    );
    assert!(d.messages.is_empty());
    assert_eq!(codes(&d), ["data-rejected"]);
}

/// A second MAIL inside a transaction is refused (`503 nested MAIL
/// command`) and changes nothing (RFC 5321 §4.1.4): the RCPT and the
/// message that follow belong to the first transaction.
#[test]
fn a_refused_nested_mail_leaves_the_first_transaction_open() {
    let d = session(&[
        (C, b"MAIL FROM:<alice@example.com>\r\n"),
        (S, b"250 2.1.0 Ok\r\n"),
        (C, b"MAIL FROM:<bob@example.com>\r\n"),
        (S, b"503 5.5.1 Error: nested MAIL command\r\n"),
        (C, b"RCPT TO:<carol@example.org>\r\n"),
        (S, b"250 2.1.5 Ok\r\n"),
        (C, b"DATA\r\n"),
        (S, b"354 go ahead\r\n"),
        (C, b"Subject: nested\r\n\r\nhi\r\n.\r\n"),
        (S, b"250 2.0.0 Ok: queued\r\n"),
    ]);
    let got: Vec<_> = d
        .transactions
        .iter()
        .map(|t| {
            (
                t.mail_from.as_deref(),
                t.status,
                t.rcpt_to.clone(),
                t.message,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some("<bob@example.com>"), TxStatus::Rejected, vec![], None),
            (
                Some("<alice@example.com>"),
                TxStatus::Delivered,
                vec!["<carol@example.org>".to_string()],
                Some(0)
            ),
        ]
    );
    assert_eq!(
        d.messages[0].mail_from.as_deref(),
        Some("<alice@example.com>")
    );
}

const MESSAGE: &[u8] = b"From: alice@example.com\r\nSubject: blast\r\n\r\nhello\r\n";

/// The smtp-pipelining case of suricata-verify: MAIL, RCPT, DATA, the
/// text and its "." in one go, then the replies. The text is the message
/// once the 354 comes: one message, whole; never an empty one besides.
#[test]
fn text_sent_before_the_354_is_the_message_once_the_354_comes() {
    let mut blast =
        b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n".to_vec();
    blast.extend_from_slice(MESSAGE);
    blast.extend_from_slice(b".\r\n");
    let mut script = GREETING.to_vec();
    script.push((C, &blast));
    script.push((
        S,
        b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
    ));
    script.push((S, b"250 2.0.0 Ok: queued as 1234\r\n"));
    let d = run(&script);
    assert_eq!(d.messages.len(), 1);
    let m = &d.messages[0];
    assert_eq!(m.size, MESSAGE.len() as u64);
    assert_eq!(m.sha256, crate::mail::sha256_hex(MESSAGE));
    assert!(m.complete);
    assert_eq!(m.rcpt_to, Some(vec!["<bob@example.org>".into()]));
    assert_eq!(
        &transcript(&d)[4..],
        [
            "C: MAIL FROM:<alice@example.com>",
            "C: RCPT TO:<bob@example.org>",
            "C: DATA",
            "C: [message: 50 bytes, 4 lines, Subject: blast]",
            "C: .",
            "S: 250 2.1.0 Ok",
            "S: 250 2.1.5 Ok",
            "S: 354 End data with <CR><LF>.<CR><LF>",
            "S: 250 2.0.0 Ok: queued as 1234",
        ]
    );
    let t = &d.transactions[0];
    assert_eq!((t.status, t.message), (TxStatus::Delivered, Some(0)));
    assert_eq!(codes(&d), ["protocol-anomaly"]);
    assert!(d.findings[0].message.contains("RFC 2920 §3.1"));
}

/// The same blast to a server that refuses the only recipient, then DATA:
/// the text was no message. The server read each of its lines as a
/// command and answered each; the parser reads them so too, and the next
/// transaction gets its own replies.
#[test]
fn text_sent_before_a_refused_data_is_no_message() {
    let mut blast =
        b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\n".to_vec();
    blast.extend_from_slice(MESSAGE);
    blast.extend_from_slice(b".\r\n");
    let mut script = GREETING.to_vec();
    script.push((C, &blast));
    script.push((C, b"MAIL FROM:<alice@example.com>\r\n"));
    script.push((
        S,
        b"250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n554 5.5.1 Error: no valid recipients\r\n",
    ));
    // One reply per line of the text (4 lines and the "."), then the MAIL.
    script.push((S, b"502 5.5.2 Error: command not recognized\r\n502 5.5.2 Error: command not recognized\r\n500 5.5.2 Error: bad syntax\r\n502 5.5.2 Error: command not recognized\r\n502 5.5.2 Error: command not recognized\r\n"));
    script.push((S, b"250 2.1.0 Ok\r\n"));
    script.push((C, b"RCPT TO:<bob@example.org>\r\n"));
    script.push((S, b"250 2.1.5 Ok\r\n"));
    script.push((C, b"DATA\r\n"));
    script.push((S, b"354 go ahead\r\n"));
    script.push((C, MESSAGE));
    script.push((C, b".\r\n"));
    script.push((S, b"250 2.0.0 Ok: queued as 5678\r\n"));
    let d = run(&script);
    assert_eq!(d.messages.len(), 1);
    assert_eq!(
        d.messages[0].rcpt_to,
        Some(vec!["<bob@example.org>".into()])
    );
    let tx: Vec<_> = d
        .transactions
        .iter()
        .map(|t| {
            (
                t.status,
                t.reply.clone(),
                t.rcpt_rejected.clone(),
                t.message,
            )
        })
        .collect();
    assert_eq!(
        tx,
        [
            (
                TxStatus::Rejected,
                Some("554 5.5.1 Error: no valid recipients".into()),
                vec!["<nobody@example.org>".to_string()],
                None
            ),
            (
                TxStatus::Delivered,
                Some("250 2.0.0 Ok: queued as 5678".into()),
                vec![],
                Some(0)
            ),
        ]
    );
    assert_eq!(codes(&d), ["data-rejected"]);
    assert_eq!(
        d.findings[0].message,
        "the server rejected DATA (554 5.5.1 Error: no valid recipients): the 53 bytes the client had sent after it without waiting for the 354 (RFC 2920 §3.1) were not a message; the server read them as commands"
    );
    // The text's lines, as the commands they were, where they were sent.
    let t = transcript(&d);
    assert_eq!(
        &t[4..19],
        [
            "C: MAIL FROM:<alice@example.com>",
            "C: RCPT TO:<nobody@example.org>",
            "C: DATA",
            "C: From: alice@example.com",
            "C: Subject: blast",
            "C: ",
            "C: hello",
            "C: .",
            "C: MAIL FROM:<alice@example.com>",
            "S: 250 2.1.0 Ok",
            "S: 550 5.1.1 <nobody@example.org>: Recipient address rejected",
            "S: 554 5.5.1 Error: no valid recipients",
            "S: 502 5.5.2 Error: command not recognized",
            "S: 502 5.5.2 Error: command not recognized",
            "S: 500 5.5.2 Error: bad syntax",
        ]
    );
    // Each line read again still points at the packet that carried it
    // (script item 3: the blast).
    let reread: Vec<_> = d.transcript[7..12]
        .iter()
        .map(|l| l.packets.clone())
        .collect();
    assert_eq!(reread, vec![vec![3u64]; 5]);
}

/// DATA refused while the text is still coming (the client did not wait):
/// the lines so far were commands.
#[test]
fn lines_after_a_data_refused_midway_are_commands() {
    let d = session(&[
        (C, b"MAIL FROM:<a@example.com>\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"RCPT TO:<b@example.org>\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"DATA\r\nSubject: x\r\n"),
        (S, b"451 4.3.0 try later\r\n500 5.5.2 bad syntax\r\n"),
        (C, b"QUIT\r\n"),
        (S, b"221 bye\r\n"),
    ]);
    assert!(d.messages.is_empty());
    assert_eq!(
        &transcript(&d)[8..],
        [
            "C: DATA",
            "C: Subject: x",
            "S: 451 4.3.0 try later",
            "S: 500 5.5.2 bad syntax",
            "C: QUIT",
            "S: 221 bye",
        ]
    );
    assert_eq!(codes(&d), ["data-rejected"]);
    assert!(d.findings[0].message.contains("the 12 bytes"));
    assert_eq!(d.transactions[0].status, TxStatus::Rejected);
}

/// An empty message (RFC 5321 allows a "." right after the 354; RFC 3030
/// §2 a `BDAT 0 LAST` alone) has nothing to read or extract: no `message`
/// record; its transaction is delivered without one.
#[test]
fn an_empty_message_has_no_record() {
    let d = session(&[
        (C, b"MAIL FROM:<a@example.com>\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"RCPT TO:<b@example.org>\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"DATA\r\n"),
        (S, b"354 go ahead\r\n"),
        (C, b".\r\n"),
        (S, b"250 2.0.0 Ok: queued as 1\r\n"),
        (C, b"MAIL FROM:<a@example.com>\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"RCPT TO:<b@example.org>\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"BDAT 0 LAST\r\n"),
        (S, b"250 2.0.0 Ok: 0 bytes queued as 2\r\n"),
    ]);
    assert!(d.messages.is_empty());
    let tx: Vec<_> = d
        .transactions
        .iter()
        .map(|t| (t.status, t.message, t.reply.clone().unwrap()))
        .collect();
    assert_eq!(
        tx,
        [
            (
                TxStatus::Delivered,
                None,
                "250 2.0.0 Ok: queued as 1".into()
            ),
            (
                TxStatus::Delivered,
                None,
                "250 2.0.0 Ok: 0 bytes queued as 2".into()
            ),
        ]
    );
    assert!(
        transcript(&d).iter().all(|l| !l.contains("[message")),
        "{:?}",
        transcript(&d)
    );
    assert!(d.findings.is_empty(), "{:?}", d.findings);
}

/// The capture ends before the server answers DATA: the text goes on as
/// the client sent it, complete.
#[test]
fn text_whose_data_is_never_answered_is_handed_on_at_the_end() {
    let mut blast =
        b"MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n".to_vec();
    blast.extend_from_slice(MESSAGE);
    blast.extend_from_slice(b".\r\n");
    let mut script = GREETING.to_vec();
    script.push((C, &blast));
    let d = run(&script);
    assert_eq!(d.messages.len(), 1);
    assert_eq!(d.messages[0].size, 50);
    assert!(d.messages[0].complete);
    assert_eq!(d.messages[0].subject.as_deref(), Some("blast"));
    assert_eq!(d.transactions[0].status, TxStatus::Aborted);
    assert_eq!(d.transactions[0].message, Some(0));
    // The summary kept its place and got its subject.
    assert_eq!(
        transcript(&d)[7],
        "C: [message: 50 bytes, 4 lines, Subject: blast]"
    );
}

/// RFC 4954 §4: an AUTH refused before the client said anything (an
/// unknown mechanism, a cancel) reveals nothing: no credential, no
/// `plaintext-auth` for an unknown user. Every credential carries the
/// server's reply code.
#[test]
fn credentials_carry_the_reply_and_empty_auths_are_none() {
    let d = session(&[
        (C, b"AUTH PLAIN\r\n"),
        (S, b"504 5.5.4 Unrecognized authentication type\r\n"),
        (C, b"AUTH LOGIN\r\n"),
        (S, b"334 VXNlcm5hbWU6\r\n"),
        (C, b"*\r\n"),
        (S, b"501 5.7.0 Authentication aborted\r\n"),
        (C, b"AUTH LOGIN\r\n"),
        (S, b"334 VXNlcm5hbWU6\r\n"),
        (C, b"YWxpY2U=\r\n"),
        (S, b"334 UGFzc3dvcmQ6\r\n"),
        (C, b"d3Jvbmc=\r\n"),
        (S, b"535 5.7.8 Error: authentication failed\r\n"),
        (C, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
        (S, b"235 2.7.0 Authentication successful\r\n"),
    ]);
    let got: Vec<_> = d
        .credentials
        .iter()
        .map(|c| {
            (
                c.mechanism.as_str(),
                c.username.as_deref(),
                c.password.as_deref(),
                c.success,
                c.reply.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "LOGIN",
                Some("alice"),
                Some("wrong"),
                Some(false),
                Some("535")
            ),
            (
                "PLAIN",
                Some("alice"),
                Some("secret"),
                Some(true),
                Some("235")
            ),
        ]
    );
    assert_eq!(codes(&d), ["plaintext-auth", "plaintext-auth"]);
    assert!(d.findings.iter().all(|f| f.message.contains("\"alice\"")));
}

/// The capture ends before the verdict: the credential is there, its
/// reply and success unknown.
#[test]
fn a_credential_without_its_reply_has_none() {
    let d = session(&[(C, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")]);
    assert_eq!(d.credentials.len(), 1);
    assert_eq!(d.credentials[0].username.as_deref(), Some("alice"));
    assert_eq!(d.credentials[0].success, None);
    assert_eq!(d.credentials[0].reply, None);
}

/// Memory stays bounded: a client that pipelines more messages than are
/// held gets its oldest handed on before the answer. When that answer is
/// a refusal the record stays (said so in the finding), and the replies to
/// its lines still find their commands: every later message gets its own
/// verdict.
#[test]
fn beyond_the_held_bound_the_oldest_goes_on_and_replies_stay_matched() {
    const N: usize = super::data::MAX_HELD + 1;
    let mut blast = Vec::new();
    for i in 0..N {
        let rcpt = if i == 0 { "nobody" } else { "bob" };
        blast.extend_from_slice(
            format!("MAIL FROM:<alice@example.com>\r\nRCPT TO:<{rcpt}@example.org>\r\nDATA\r\nSubject: {i}\r\n\r\nhi\r\n.\r\n")
                .as_bytes(),
        );
    }
    let mut replies = b"250 ok\r\n550 no such user\r\n554 no valid recipients\r\n".to_vec();
    replies.extend_from_slice(b"502 what\r\n500 what\r\n502 what\r\n502 what\r\n");
    for i in 1..N {
        replies.extend_from_slice(
            format!("250 ok\r\n250 ok\r\n354 go\r\n250 queued {i}\r\n").as_bytes(),
        );
    }
    let mut script = GREETING.to_vec();
    script.push((C, &blast));
    script.push((S, &replies));
    let d = run(&script);
    assert_eq!(d.messages.len(), N);
    let subjects: Vec<_> = d
        .messages
        .iter()
        .map(|m| m.subject.clone().unwrap())
        .collect();
    let expected: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    assert_eq!(subjects, expected);
    let tx: Vec<_> = d
        .transactions
        .iter()
        .map(|t| (t.status, t.message, t.reply.clone().unwrap()))
        .collect();
    let mut want = vec![(
        TxStatus::Rejected,
        Some(0),
        "554 no valid recipients".to_string(),
    )];
    for i in 1..N {
        want.push((TxStatus::Delivered, Some(i), format!("250 queued {i}")));
    }
    assert_eq!(tx, want);
    assert_eq!(codes(&d), ["data-rejected", "protocol-anomaly"]);
    assert!(
        d.findings[0].message.contains("were reported as one"),
        "{}",
        d.findings[0].message
    );
}
