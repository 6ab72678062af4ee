//! What the server's replies decide, as real sessions show it (issue 16,
//! "traffic nobody showed us"):
//!
//! * `smtp-recipient-replies.pcapng`: every RCPT with its reply. A
//!   recipient accepted, one refused for good (550) and one for now (452);
//!   a pipelining client whose MAIL is refused, so that its RCPTs are
//!   answered `503 need MAIL` after the refusal (RFC 2920 §3.1); a second
//!   MAIL inside a transaction, refused `503 nested MAIL command`, after
//!   which the first transaction goes on (RFC 5321 §4.1.4).
//! * `smtp-text-before-354.pcapng`: clients that send the message before
//!   the server's 354 (RFC 2920 §3.1 forbids it; bots do it): accepted, it
//!   is the message, whole; refused (`554 no valid recipients`), it is no
//!   message, and the server reads its lines as commands; never answered,
//!   the capture ends with it as sent. And empty messages: a "." right
//!   after the 354, `BDAT 0 LAST` alone (RFC 3030 §2).
//! * `auth-replies.pcapng`: the server's reply on every credential (SMTP
//!   AUTH, RFC 4954; POP3 USER/PASS and AUTH, RFC 1939, RFC 5034; IMAP
//!   LOGIN and AUTHENTICATE, RFC 9051), refused AUTHs in which the client
//!   revealed nothing, and a capture that ends before the verdict.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::frame_edits::interleave;
use super::smtp::send_message;
use super::toolkit::{START_NANOS, addr, crlf_lines, dot_stuff, pcapng_ethernet, summary};

use Dir::{ClientToServer as C, ServerToClient as S};

/// A short message from Alice.
pub fn note_message(subject: &str) -> Vec<u8> {
    crlf_lines(&[
        "From: Alice <alice@example.com>",
        "To: Bob <bob@example.org>",
        &format!("Subject: {subject}"),
        &format!("Message-ID: <{}@example.com>", subject.replace(' ', "-")),
        "",
        "See you at noon.",
    ])
}

/// The greeting and EHLO of the sessions of this family (Postfix's
/// words), advertising `extensions`.
fn ehlo(c: &mut Conversation, extensions: &[&str]) {
    c.handshake();
    c.line(S, "220 mx.example.org ESMTP Postfix");
    c.line(C, "EHLO client.example.com");
    let mut lines = vec!["250-mx.example.org".to_string()];
    for (i, e) in extensions.iter().enumerate() {
        let sep = if i + 1 == extensions.len() { ' ' } else { '-' };
        lines.push(format!("250{sep}{e}"));
    }
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    c.server_sends(&crlf_lines(&lines));
}

fn quit(c: &mut Conversation) {
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
}

pub fn smtp_recipient_replies() -> Sample {
    // Three recipients, three answers.
    let mut three = Conversation::new(addr("10.0.40.1:45000"), addr("10.0.40.2:25"), START_NANOS);
    ehlo(&mut three, &["PIPELINING", "ENHANCEDSTATUSCODES"]);
    three.line(C, "MAIL FROM:<alice@example.com>");
    three.line(S, "250 2.1.0 Ok");
    three.line(C, "RCPT TO:<bob@example.org>");
    three.line(S, "250 2.1.5 Ok");
    three.line(C, "RCPT TO:<nobody@example.org>");
    three.line(
        S,
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown",
    );
    three.line(C, "RCPT TO:<carol@example.org>");
    three.line(S, "452 4.5.3 Error: too many recipients");
    send_message(
        &mut three,
        "354 End data with <CR><LF>.<CR><LF>",
        &note_message("lunch"),
        "250 2.0.0 Ok: queued as 4F2A1",
    );
    quit(&mut three);

    // Pipelined MAIL, RCPT, RCPT, DATA; the MAIL is refused, and so,
    // without a transaction, is everything after it.
    let mut refused = Conversation::new(
        addr("10.0.40.1:45001"),
        addr("10.0.40.2:25"),
        START_NANOS + 100_000,
    );
    ehlo(&mut refused, &["PIPELINING", "ENHANCEDSTATUSCODES"]);
    refused.client_sends(&crlf_lines(&[
        "MAIL FROM:<mallory@spam.example>",
        "RCPT TO:<bob@example.org>",
        "RCPT TO:<carol@example.org>",
        "DATA",
    ]));
    refused.server_sends(&crlf_lines(&[
        "550 5.7.1 <mallory@spam.example>: Sender address rejected: Access denied",
        "503 5.5.1 Error: need MAIL command",
        "503 5.5.1 Error: need MAIL command",
        "503 5.5.1 Error: need RCPT command",
    ]));
    quit(&mut refused);

    // A second MAIL inside the transaction is refused; the first goes on.
    let mut nested = Conversation::new(
        addr("10.0.40.1:45002"),
        addr("10.0.40.2:25"),
        START_NANOS + 200_000,
    );
    ehlo(&mut nested, &["ENHANCEDSTATUSCODES"]);
    nested.line(C, "MAIL FROM:<alice@example.com>");
    nested.line(S, "250 2.1.0 Ok");
    nested.line(C, "MAIL FROM:<bob@example.org>");
    nested.line(S, "503 5.5.1 Error: nested MAIL command");
    nested.line(C, "RCPT TO:<carol@example.org>");
    nested.line(S, "250 2.1.5 Ok");
    send_message(
        &mut nested,
        "354 End data with <CR><LF>.<CR><LF>",
        &note_message("nested"),
        "250 2.0.0 Ok: queued as 4F2A2",
    );
    quit(&mut nested);

    let flows = vec![
        summary("SMTP", &three),
        summary("SMTP", &refused),
        summary("SMTP", &nested),
    ];
    let frames = interleave(vec![
        three.into_frames(),
        refused.into_frames(),
        nested.into_frames(),
    ]);
    Sample {
        file_name: "smtp-recipient-replies.pcapng",
        description: "Every RCPT with its reply. Flow 0: <bob@example.org> accepted (250), \
                      <nobody@example.org> refused (550 5.1.1), <carol@example.org> refused for now \
                      (452 4.5.3), then a 129-byte message delivered to Bob alone. Flow 1: MAIL, two \
                      RCPTs and DATA pipelined (RFC 2920); the MAIL is refused (550 5.7.1) and each RCPT \
                      answered 503 5.5.1 (no transaction): both recipients refused, none accepted. \
                      Flow 2: a nested MAIL FROM:<bob@example.org> is refused (503 nested MAIL command) \
                      and the transaction of <alice@example.com> goes on to deliver a 131-byte message \
                      to <carol@example.org>."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

/// A pipelining client's blast: MAIL, RCPT, DATA and the message with its
/// final "." in one segment, without waiting for any reply.
fn blast(rcpt: &str, message: &[u8]) -> Vec<u8> {
    let mut out = crlf_lines(&["MAIL FROM:<alice@example.com>", rcpt, "DATA"]);
    out.extend_from_slice(&dot_stuff(message));
    out.extend_from_slice(b".\r\n");
    out
}

pub fn smtp_text_before_354() -> Sample {
    // The blast, accepted: the text was the message.
    let mut taken = Conversation::new(addr("10.0.41.1:46000"), addr("10.0.41.2:25"), START_NANOS);
    ehlo(&mut taken, &["PIPELINING", "ENHANCEDSTATUSCODES"]);
    taken.client_sends(&blast(
        "RCPT TO:<bob@example.org>",
        &note_message("sent before 354"),
    ));
    taken.server_sends(&crlf_lines(&[
        "250 2.1.0 Ok",
        "250 2.1.5 Ok",
        "354 End data with <CR><LF>.<CR><LF>",
    ]));
    taken.line(S, "250 2.0.0 Ok: queued as 5B3C1");
    quit(&mut taken);

    // The blast to an unknown recipient: DATA is refused, and the server
    // reads each line of the text as a command. Then a proper transaction.
    let mut refused = Conversation::new(
        addr("10.0.41.1:46001"),
        addr("10.0.41.2:25"),
        START_NANOS + 100_000,
    );
    ehlo(&mut refused, &["PIPELINING", "ENHANCEDSTATUSCODES"]);
    let text = crlf_lines(&["Subject: not a message", "", "Hello?"]);
    refused.client_sends(&blast("RCPT TO:<nobody@example.org>", &text));
    refused.server_sends(&crlf_lines(&[
        "250 2.1.0 Ok",
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown",
        "554 5.5.1 Error: no valid recipients",
        "502 5.5.2 Error: command not recognized",
        "500 5.5.2 Error: bad syntax",
        "502 5.5.2 Error: command not recognized",
        "502 5.5.2 Error: command not recognized",
    ]));
    refused.line(C, "MAIL FROM:<alice@example.com>");
    refused.line(S, "250 2.1.0 Ok");
    refused.line(C, "RCPT TO:<bob@example.org>");
    refused.line(S, "250 2.1.5 Ok");
    send_message(
        &mut refused,
        "354 End data with <CR><LF>.<CR><LF>",
        &note_message("after the refusal"),
        "250 2.0.0 Ok: queued as 5B3C2",
    );
    quit(&mut refused);

    // Empty messages: a "." right after the 354, and BDAT 0 LAST alone.
    let mut empty = Conversation::new(
        addr("10.0.41.1:46002"),
        addr("10.0.41.2:25"),
        START_NANOS + 200_000,
    );
    ehlo(&mut empty, &["PIPELINING", "CHUNKING"]);
    empty.line(C, "MAIL FROM:<alice@example.com>");
    empty.line(S, "250 2.1.0 Ok");
    empty.line(C, "RCPT TO:<bob@example.org>");
    empty.line(S, "250 2.1.5 Ok");
    empty.line(C, "DATA");
    empty.line(S, "354 End data with <CR><LF>.<CR><LF>");
    empty.line(C, ".");
    empty.line(S, "250 2.0.0 Ok: queued as 5B3C3");
    empty.line(C, "MAIL FROM:<alice@example.com>");
    empty.line(S, "250 2.1.0 Ok");
    empty.line(C, "RCPT TO:<bob@example.org>");
    empty.line(S, "250 2.1.5 Ok");
    empty.line(C, "BDAT 0 LAST");
    empty.line(S, "250 2.0.0 Ok: 0 bytes queued as 5B3C4");
    quit(&mut empty);

    // The blast, and the capture ends before any reply to it.
    let mut cut = Conversation::new(
        addr("10.0.41.1:46003"),
        addr("10.0.41.2:25"),
        START_NANOS + 300_000,
    );
    ehlo(&mut cut, &["PIPELINING"]);
    cut.client_sends(&blast(
        "RCPT TO:<bob@example.org>",
        &note_message("never answered"),
    ));

    let flows = vec![
        summary("SMTP", &taken),
        summary("SMTP", &refused),
        summary("SMTP", &empty),
        summary("SMTP", &cut),
    ];
    let frames = interleave(vec![
        taken.into_frames(),
        refused.into_frames(),
        empty.into_frames(),
        cut.into_frames(),
    ]);
    Sample {
        file_name: "smtp-text-before-354.pcapng",
        description: "Message text sent before the server's 354 (RFC 2920 §3.1: DATA ends a pipelined \
                      group). Flow 0: MAIL, RCPT, DATA and a 149-byte message with its \".\" in one \
                      segment; the server answers 250, 250, 354, then 250: one message, whole. Flow 1: the \
                      same to <nobody@example.org>, refused (550 5.1.1, then 554 5.5.1 no valid recipients \
                      for DATA): the 37 bytes of text are no message, the server answers each of its 4 lines \
                      as a command (502, 500, 502, 502); then a 153-byte message goes properly. Flow 2: an \
                      empty message (\".\" right after 354) and a BDAT 0 LAST alone, both queued: no \
                      message record. Flow 3: the blast with a 147-byte message and no reply before the \
                      capture ends."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn auth_replies() -> Sample {
    // SMTP submission: two refused AUTHs that reveal nothing, a refused
    // login, an accepted one.
    let mut smtp = Conversation::new(addr("10.0.42.1:47000"), addr("10.0.42.2:587"), START_NANOS);
    ehlo(&mut smtp, &["AUTH LOGIN PLAIN", "ENHANCEDSTATUSCODES"]);
    smtp.line(C, "AUTH CRAM-MD5");
    smtp.line(S, "504 5.5.4 Unrecognized authentication type");
    smtp.line(C, "AUTH LOGIN");
    smtp.line(S, "334 VXNlcm5hbWU6");
    smtp.line(C, "*");
    smtp.line(S, "501 5.7.0 Authentication aborted");
    smtp.line(C, "AUTH LOGIN");
    smtp.line(S, "334 VXNlcm5hbWU6");
    smtp.line(C, "YWxpY2U="); // alice
    smtp.line(S, "334 UGFzc3dvcmQ6");
    smtp.line(C, "d3Jvbmc="); // wrong
    smtp.line(
        S,
        "535 5.7.8 Error: authentication failed: authentication failure",
    );
    smtp.line(C, "AUTH PLAIN AGFsaWNlAHNlY3JldA=="); // \0alice\0secret
    smtp.line(S, "235 2.7.0 Authentication successful");
    quit(&mut smtp);

    // POP3: a wrong password, an AUTH the server does not offer, the
    // right password.
    let mut pop3 = Conversation::new(
        addr("10.0.42.1:47001"),
        addr("10.0.42.2:110"),
        START_NANOS + 100_000,
    );
    pop3.handshake();
    pop3.line(S, "+OK POP3 ready");
    pop3.line(C, "USER bob");
    pop3.line(S, "+OK");
    pop3.line(C, "PASS wrong");
    pop3.line(S, "-ERR [AUTH] Authentication failed.");
    pop3.line(C, "AUTH CRAM-MD5");
    pop3.line(S, "-ERR Unsupported authentication mechanism.");
    pop3.line(C, "USER bob");
    pop3.line(S, "+OK");
    pop3.line(C, "PASS hungry");
    pop3.line(S, "+OK Logged in.");
    pop3.line(C, "QUIT");
    pop3.line(S, "+OK Logging out.");
    pop3.close();

    // IMAP: a refused LOGIN, an AUTHENTICATE the client cancels before
    // saying anything (RFC 9051 §6.2.2: "*", answered BAD), a LOGIN that
    // works.
    let mut imap = Conversation::new(
        addr("10.0.42.1:47002"),
        addr("10.0.42.2:143"),
        START_NANOS + 200_000,
    );
    imap.handshake();
    imap.line(S, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready");
    imap.line(C, "a1 LOGIN bob wrong");
    imap.line(S, "a1 NO [AUTHENTICATIONFAILED] Authentication failed.");
    imap.line(C, "a2 AUTHENTICATE PLAIN");
    imap.line(S, "+ ");
    imap.line(C, "*");
    imap.line(S, "a2 BAD Authentication cancelled.");
    imap.line(C, "a3 LOGIN bob hungry");
    imap.line(S, "a3 OK Logged in");
    imap.line(C, "a4 LOGOUT");
    imap.server_sends(&crlf_lines(&[
        "* BYE Logging out",
        "a4 OK Logout completed.",
    ]));
    imap.close();

    // The capture ends right after the credential: no verdict.
    let mut cut = Conversation::new(
        addr("10.0.42.1:47003"),
        addr("10.0.42.2:587"),
        START_NANOS + 300_000,
    );
    ehlo(&mut cut, &["AUTH PLAIN"]);
    cut.line(C, "AUTH PLAIN AGNhcm9sAHN3b3JkZmlzaA=="); // \0carol\0swordfish

    let flows = vec![
        summary("SMTP", &smtp),
        summary("POP3", &pop3),
        summary("IMAP", &imap),
        summary("SMTP", &cut),
    ];
    let frames = interleave(vec![
        smtp.into_frames(),
        pop3.into_frames(),
        imap.into_frames(),
        cut.into_frames(),
    ]);
    Sample {
        file_name: "auth-replies.pcapng",
        description: "The server's reply on every credential. SMTP (flow 0): AUTH CRAM-MD5 refused \
                      (504) and AUTH LOGIN cancelled with \"*\" (501) reveal nothing; AUTH LOGIN \
                      alice/wrong is refused (535), AUTH PLAIN alice/secret accepted (235). POP3 (flow 1): \
                      bob/wrong -ERR, AUTH CRAM-MD5 -ERR before any exchange, bob/hungry +OK. IMAP \
                      (flow 2): LOGIN bob/wrong NO, AUTHENTICATE PLAIN cancelled (BAD), LOGIN bob/hungry \
                      OK. SMTP (flow 3): AUTH PLAIN carol/swordfish, and the capture ends before the \
                      server's verdict."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}
