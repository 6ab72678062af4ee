//! Servers that break a rule, and servers that only look as if they did.
//!
//! * `pop3-unterminated.pcapng`: multi-line POP3 responses without their
//!   final "." (RFC 1939 §3): a LIST, then, in a second session, a RETR.
//!   The analyzer must pick up at the reply to the client's next command
//!   and extract the next RETR's message whole.
//! * `smtp-open-relay.pcapng`: a client that never authenticates hands a
//!   message for hamburger.edu to relay.crepes.fr, which passes it on to
//!   hamburger.edu: the message's path shows an open relay (RFC 5321
//!   §3.6.2, RFC 2505 §2).
//! * `smtp-relay-after-auth.pcapng`: the same two hops, but the client
//!   authenticated first (RFC 4954): relaying for a user is the server's
//!   job.
//! * `smtp-inbound-mx.pcapng`: mail.crepes.fr delivers to
//!   mx1.mailhost.example, the exchanger of hamburger.edu, which names
//!   itself after its hosting company; Bob then reads the message with
//!   POP3. Accepting mail for hamburger.edu from anyone is what an MX does:
//!   no relay.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::frame_edits::interleave;
use super::pop3::retr_response;
use super::smtp::send_message;
use super::toolkit::{START_NANOS, addr, crlf_lines, ip, pcapng_ethernet, summary};

use Dir::{ClientToServer as C, ServerToClient as S};

/// A second in nanoseconds.
const SECOND: u64 = 1_000_000_000;

/// The first message of the unterminated-response sessions.
pub fn unterminated_message_1() -> Vec<u8> {
    crlf_lines(&[
        "From: Alice <alice@crepes.fr>",
        "To: Bob <bob@hamburger.edu>",
        "Subject: crepes on Saturday",
        "Message-ID: <unterminated.1@crepes.fr>",
        "",
        "Bring the jam.",
    ])
}

/// The second: its body quotes a POP3 reply, a line that starts with
/// "+OK" and is text.
pub fn unterminated_message_2() -> Vec<u8> {
    crlf_lines(&[
        "From: Carol <carol@crepes.fr>",
        "To: Bob <bob@hamburger.edu>",
        "Subject: what the server said",
        "Message-ID: <unterminated.2@crepes.fr>",
        "",
        "It answered:",
        "+OK 2 messages",
        "and then nothing.",
    ])
}

/// A RETR response whose final "." the server left out.
fn retr_without_dot(message: &[u8]) -> Vec<u8> {
    let full = retr_response(message);
    full[..full.len() - b".\r\n".len()].to_vec()
}

/// Session 1: LIST without its ".", then RETR 1 answered in full.
fn list_without_dot(c: &mut Conversation) {
    let (m1, m2) = (unterminated_message_1(), unterminated_message_2());
    c.handshake();
    c.line(S, "+OK POP3 server ready");
    c.line(C, "USER bob");
    c.line(S, "+OK");
    c.line(C, "PASS hungry");
    c.line(S, "+OK 2 messages");
    c.line(C, "LIST");
    c.server_sends(&crlf_lines(&[
        &format!("+OK 2 messages ({} octets)", m1.len() + m2.len()),
        &format!("1 {}", m1.len()),
        &format!("2 {}", m2.len()),
    ]));
    c.line(C, "RETR 1");
    c.server_sends(&retr_response(&m1));
    c.line(C, "QUIT");
    c.line(S, "+OK bye");
    c.close();
}

/// Session 2: RETR 2 without its "." (its last line is text), then the
/// client, for which the message is over, asks for RETR 1.
fn retr_without_final_dot(c: &mut Conversation) {
    c.handshake();
    c.line(S, "+OK POP3 server ready");
    c.line(C, "USER bob");
    c.line(S, "+OK");
    c.line(C, "PASS hungry");
    c.line(S, "+OK 2 messages");
    c.line(C, "RETR 2");
    c.server_sends(&retr_without_dot(&unterminated_message_2()));
    c.line(C, "RETR 1");
    c.server_sends(&retr_response(&unterminated_message_1()));
    c.line(C, "QUIT");
    c.line(S, "+OK bye");
    c.close();
}

pub fn pop3_unterminated() -> Sample {
    let mut list = Conversation::new(addr("10.0.30.3:49300"), addr("10.0.30.2:110"), START_NANOS);
    list_without_dot(&mut list);
    let mut retr = Conversation::new(
        addr("10.0.30.3:49301"),
        addr("10.0.30.2:110"),
        START_NANOS + SECOND,
    );
    retr_without_final_dot(&mut retr);
    let flows = vec![summary("POP3", &list), summary("POP3", &retr)];
    let (m1, m2) = (unterminated_message_1(), unterminated_message_2());
    Sample {
        file_name: "pop3-unterminated.pcapng",
        description: format!(
            "Multi-line POP3 responses without their final \".\" line (RFC 1939 §3). Session 1: \
             the LIST response ends after \"2 {}\"; the client sends RETR 1 and the server answers \
             with the {}-byte message in full. Session 2: the RETR 2 response ends after the \
             message's last line (the {}-byte message has a text line starting with \"+OK\"); the \
             client sends RETR 1 and gets the message in full. The analyzer should resynchronise \
             on the reply to the next command and extract RETR 1's message whole both times.",
            m2.len(),
            m1.len(),
            m2.len()
        ),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(
            &interleave(vec![list.into_frames(), retr.into_frames()]),
            &[],
        ),
    }
}

/// The message the relay sessions carry, as the client sends it.
pub fn relayed_spam() -> Vec<u8> {
    crlf_lines(&[
        "From: The Bank <ceo@bank.example>",
        "To: <victim@hamburger.edu>",
        "Subject: verify your account",
        "Message-ID: <20240304.relay.1@bank.example>",
        "",
        "Click here.",
    ])
}

/// The message as relay.crepes.fr passes it on: its trace header on top
/// (RFC 5321 §4.4).
pub fn relayed_spam_onward(client_name: &str, client_ip: &str, with: &str) -> Vec<u8> {
    let mut m = crlf_lines(&[
        &format!("Received: from {client_name} ({client_name} [{client_ip}])"),
        &format!("        by relay.crepes.fr with {with} id 5100"),
        "        for <victim@hamburger.edu>; Mon, 04 Mar 2024 09:15:00 +0000",
    ]);
    m.extend_from_slice(&relayed_spam());
    m
}

/// The first hop: to relay.crepes.fr on port 25, with AUTH PLAIN first
/// when `auth`.
fn to_the_relay(c: &mut Conversation, auth: bool) {
    c.handshake();
    c.line(S, "220 relay.crepes.fr ESMTP");
    c.line(C, "EHLO bulk.bank.example");
    c.server_sends(&crlf_lines(&[
        "250-relay.crepes.fr",
        "250-AUTH PLAIN",
        "250 8BITMIME",
    ]));
    if auth {
        // "\0alice\0secret" (RFC 4616).
        c.line(C, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
        c.line(S, "235 2.7.0 Authentication successful");
    }
    c.line(C, "MAIL FROM:<ceo@bank.example>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<victim@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    send_message(
        c,
        "354 End data with <CR><LF>.<CR><LF>",
        &relayed_spam(),
        "250 2.0.0 Ok: queued as 5100",
    );
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
}

/// The second hop: relay.crepes.fr hands the message to hamburger.edu.
fn onward(c: &mut Conversation, message: &[u8]) {
    c.handshake();
    c.line(S, "220 hamburger.edu ESMTP");
    c.line(C, "EHLO relay.crepes.fr");
    c.server_sends(&crlf_lines(&["250-hamburger.edu", "250 8BITMIME"]));
    c.line(C, "MAIL FROM:<ceo@bank.example>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<victim@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    send_message(
        c,
        "354 End data with <CR><LF>.<CR><LF>",
        message,
        "250 2.0.0 Ok: queued as 5200",
    );
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
}

/// Both hops, the client at 10.0.`net`.66, the relay at .1, hamburger.edu
/// at .2.
fn relay_capture(net: u8, auth: bool) -> (Vec<super::FlowSummary>, Vec<u8>) {
    let at = |host: u8, port: u16| addr(&format!("10.0.{net}.{host}:{port}"));
    let mut first = Conversation::new(at(66, 40100), at(1, 25), START_NANOS);
    to_the_relay(&mut first, auth);
    let mut second = Conversation::new(at(1, 41100), at(2, 25), START_NANOS + SECOND);
    let with = if auth { "ESMTPA" } else { "ESMTP" };
    let client_ip = format!("10.0.{net}.66");
    onward(
        &mut second,
        &relayed_spam_onward("bulk.bank.example", &client_ip, with),
    );
    let flows = vec![summary("SMTP", &first), summary("SMTP", &second)];
    let frames = interleave(vec![first.into_frames(), second.into_frames()]);
    let names = [
        (ip(&format!("10.0.{net}.1")), "relay.crepes.fr"),
        (ip(&format!("10.0.{net}.2")), "hamburger.edu"),
    ];
    (flows, pcapng_ethernet(&frames, &names))
}

pub fn smtp_open_relay() -> Sample {
    let (flows, bytes) = relay_capture(31, false);
    Sample {
        file_name: "smtp-open-relay.pcapng",
        description: "An open relay at work: a client that never authenticates (EHLO \
                      bulk.bank.example) gives relay.crepes.fr a message for \
                      <victim@hamburger.edu> on port 25, and one second later relay.crepes.fr \
                      passes the same message (Message-ID <20240304.relay.1@bank.example>, its own \
                      Received: header on top) to hamburger.edu. The analyzer should raise one \
                      `open-relay` finding, on the first flow."
            .into(),
        flows,
        notes: vec![],
        bytes,
    }
}

pub fn smtp_relay_after_auth() -> Sample {
    let (flows, bytes) = relay_capture(32, true);
    Sample {
        file_name: "smtp-relay-after-auth.pcapng",
        description: "The two hops of `smtp-open-relay.pcapng`, except that the client \
                      authenticates with AUTH PLAIN (alice/secret, accepted) before MAIL: relaying \
                      for an authenticated user is what the server is for, so no `open-relay`."
            .into(),
        flows,
        notes: vec![],
        bytes,
    }
}

/// The message crepes.fr sends to Bob, as his MX receives it.
pub fn inbound_message() -> Vec<u8> {
    crlf_lines(&[
        "From: Alice <alice@crepes.fr>",
        "To: Bob <bob@hamburger.edu>",
        "Subject: see you Saturday",
        "Message-ID: <20240304.inbound.1@crepes.fr>",
        "",
        "Crepes at noon.",
    ])
}

/// As Bob's mailbox holds it.
pub fn inbound_stored() -> Vec<u8> {
    let mut m = crlf_lines(&[
        "Received: from mail.crepes.fr (mail.crepes.fr [10.0.33.1])",
        "        by mx1.mailhost.example with ESMTP id 6100",
        "        for <bob@hamburger.edu>; Mon, 04 Mar 2024 09:15:00 +0000",
    ]);
    m.extend_from_slice(&inbound_message());
    m
}

pub fn smtp_inbound_mx() -> Sample {
    let mut smtp = Conversation::new(addr("10.0.33.1:40200"), addr("10.0.33.2:25"), START_NANOS);
    smtp.handshake();
    smtp.line(S, "220 mx1.mailhost.example ESMTP");
    smtp.line(C, "EHLO mail.crepes.fr");
    smtp.server_sends(&crlf_lines(&["250-mx1.mailhost.example", "250 8BITMIME"]));
    smtp.line(C, "MAIL FROM:<alice@crepes.fr>");
    smtp.line(S, "250 2.1.0 Ok");
    smtp.line(C, "RCPT TO:<bob@hamburger.edu>");
    smtp.line(S, "250 2.1.5 Ok");
    send_message(
        &mut smtp,
        "354 End data with <CR><LF>.<CR><LF>",
        &inbound_message(),
        "250 2.0.0 Ok: queued as 6100",
    );
    smtp.line(C, "QUIT");
    smtp.line(S, "221 2.0.0 Bye");
    smtp.close();

    let stored = inbound_stored();
    let mut pop = Conversation::new(
        addr("10.0.33.4:49400"),
        addr("10.0.33.2:110"),
        START_NANOS + 5 * SECOND,
    );
    pop.handshake();
    pop.line(S, "+OK POP3 server ready");
    pop.line(C, "USER bob");
    pop.line(S, "+OK");
    pop.line(C, "PASS hungry");
    pop.line(S, "+OK 1 message");
    pop.line(C, "RETR 1");
    pop.server_sends(&retr_response(&stored));
    pop.line(C, "QUIT");
    pop.line(S, "+OK bye");
    pop.close();

    let flows = vec![summary("SMTP", &smtp), summary("POP3", &pop)];
    let frames = interleave(vec![smtp.into_frames(), pop.into_frames()]);
    let names = [
        (ip("10.0.33.1"), "mail.crepes.fr"),
        (ip("10.0.33.2"), "mx1.mailhost.example"),
    ];
    Sample {
        file_name: "smtp-inbound-mx.pcapng",
        description: "Ordinary inbound delivery: mail.crepes.fr, without AUTH, gives \
                      mx1.mailhost.example (the exchanger of hamburger.edu, named after its \
                      hosting company) a message for <bob@hamburger.edu>; Bob reads it with POP3 \
                      from the same host. The message never leaves for another SMTP server: no \
                      `open-relay` (the rule before issue 16 raised it here, comparing \
                      hamburger.edu with the server's own name)."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &names),
    }
}
