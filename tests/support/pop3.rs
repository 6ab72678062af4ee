//! POP3 (RFC 1939) captures and dialogues.
//!
//! `pop3-bob.pcapng`: Bob downloads and deletes his two messages. It teaches
//! POP3's single-line (+OK/-ERR) and multi-line responses (LIST, RETR) that
//! end with a line holding only ".", and why a message line that starts
//! with "." is sent with one more dot (dot-stuffing): Bob's second message
//! has two such lines.
//!
//! [`pop3_dialogue`] is replayed over other link layers; [`pop3_mini`] is a
//! short login for files with several flows.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::textbook::{bob_names, mailbox_message_1, mailbox_message_2};
use super::toolkit::{START_NANOS, addr, crlf_lines, dot_stuff, pcapng_ethernet, summary};

/// The response to RETR (RFC 1939 section 5): "+OK", the message
/// dot-stuffed, then the terminating "." line.
pub fn retr_response(message: &[u8]) -> Vec<u8> {
    let mut response = format!("+OK {} octets\r\n", message.len()).into_bytes();
    response.extend_from_slice(&dot_stuff(message));
    response.extend_from_slice(b".\r\n");
    response
}

/// Bob logs in, lists, retrieves and deletes his two messages.
pub fn pop3_dialogue(c: &mut Conversation) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let (m1, m2) = (mailbox_message_1(), mailbox_message_2());
    c.handshake();
    c.line(S, "+OK POP3 server ready");
    c.line(C, "user bob");
    c.line(S, "+OK");
    c.line(C, "pass hungry");
    c.line(S, "+OK user successfully logged on");
    c.line(C, "list");
    // A multi-line response: status line, one line per message, ".".
    // The sizes are the exact sizes of the messages (CRLF line ends, before
    // dot-stuffing).
    c.server_sends(&crlf_lines(&[
        &format!("+OK 2 messages ({} octets)", m1.len() + m2.len()),
        &format!("1 {}", m1.len()),
        &format!("2 {}", m2.len()),
        ".",
    ]));
    for (n, m) in [(1, &m1), (2, &m2)] {
        c.line(C, &format!("retr {n}"));
        c.server_sends(&retr_response(m));
        c.line(C, &format!("dele {n}"));
        c.line(S, &format!("+OK message {n} deleted"));
    }
    c.line(C, "quit");
    c.line(S, "+OK POP3 server signing off");
    c.close();
}

pub fn pop3_bob() -> Sample {
    let mut c = Conversation::new(addr("10.0.0.3:49152"), addr("10.0.0.2:110"), START_NANOS);
    pop3_dialogue(&mut c);
    let flows = vec![summary("POP3", &c)];
    let (m1, m2) = (mailbox_message_1(), mailbox_message_2());
    Sample {
        file_name: "pop3-bob.pcapng",
        description: format!(
            "Bob reads and deletes his two messages with POP3 (USER/PASS, LIST, RETR, DELE, QUIT). \
             The analyzer should see a successful login as bob and two retrieved messages of \
             {} and {} bytes, as announced by LIST.",
            m1.len(),
            m2.len()
        ),
        flows,
        notes: vec![format!(
            "Message 2 contains two lines starting with \".\" (\".........blah)\" and a lone \".\"), \
             sent dot-stuffed: the RETR 2 response carries {} message bytes on the wire for a \
             {}-byte message.",
            dot_stuff(&m2).len(),
            m2.len()
        )],
        bytes: pcapng_ethernet(&c.into_frames(), &bob_names()),
    }
}

/// A short POP3 session: greeting, USER/PASS, STAT of an empty mailbox, QUIT.
pub fn pop3_mini(c: &mut Conversation, greeting: &str) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, greeting);
    c.line(C, "USER alice");
    c.line(S, "+OK");
    c.line(C, "PASS wonderland");
    c.line(S, "+OK Logged in.");
    c.line(C, "STAT");
    c.line(S, "+OK 0 0");
    c.line(C, "QUIT");
    c.line(S, "+OK Logging out.");
    c.close();
}
