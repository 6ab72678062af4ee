//! SMTP (RFC 5321) captures and dialogues.
//!
//! `smtp-crepes-hamburger.pcapng` is the textbook session (Kurose & Ross,
//! section 2.3): crepes.fr hands Alice's message to hamburger.edu with HELO,
//! MAIL, RCPT, DATA and QUIT. It teaches the shape of every SMTP session:
//! the server speaks first (220), each command gets a numbered reply, and
//! the message travels after DATA until a line holding only ".".
//!
//! The same dialogue is replayed in other files (over IPv6, in classic pcap,
//! over loopback, fragmented), so it lives here as [`crepes_conversation`];
//! [`smtp_mini`] is the shortest ESMTP session (EHLO, QUIT) for files with
//! several flows.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::textbook::{crepes_message, crepes_names};
use super::toolkit::{START_NANOS, addr, crlf_lines, dot_stuff, pcapng_ethernet, summary};

/// The client's address in the textbook session.
pub const CREPES_CLIENT: &str = "10.0.0.1:1035";
/// The server's address in the textbook session: SMTP's port 25.
pub const HAMBURGER_SMTP: &str = "10.0.0.2:25";

/// The DATA phase of a mail transaction (RFC 5321 section 4.1.1.4): the
/// client announces the message, the server invites it with a 354 reply,
/// the client sends it dot-stuffed and ends it with a line holding only
/// ".", and the server's reply says whether it took the message.
pub fn send_message(c: &mut Conversation, go_ahead: &str, message: &[u8], accepted: &str) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.line(C, "DATA");
    c.line(S, go_ahead);
    c.client_sends(&dot_stuff(message));
    c.line(C, ".");
    c.line(S, accepted);
}

/// The textbook SMTP dialogue (Kurose & Ross, section 2.3).
fn smtp_crepes_dialogue(c: &mut Conversation) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, "220 hamburger.edu");
    c.line(C, "HELO crepes.fr");
    c.line(S, "250 Hello crepes.fr, pleased to meet you");
    c.line(C, "MAIL FROM: <alice@crepes.fr>");
    c.line(S, "250 alice@crepes.fr ... Sender ok");
    c.line(C, "RCPT TO: <bob@hamburger.edu>");
    c.line(S, "250 bob@hamburger.edu ... Recipient ok");
    // Alice's message has no line starting with ".", so dot-stuffing
    // leaves it as it is.
    send_message(
        c,
        "354 Enter mail, end with \".\" on a line by itself",
        &crepes_message(),
        "250 Message accepted for delivery",
    );
    c.line(C, "QUIT");
    c.line(S, "221 hamburger.edu closing connection");
    c.close();
}

/// The textbook session between `client` and `server`, played in full.
pub fn crepes_conversation(client: &str, server: &str) -> Conversation {
    let mut c = Conversation::new(addr(client), addr(server), START_NANOS);
    smtp_crepes_dialogue(&mut c);
    c
}

pub fn smtp_crepes_hamburger() -> Sample {
    let c = crepes_conversation(CREPES_CLIENT, HAMBURGER_SMTP);
    let flows = vec![summary("SMTP", &c)];
    let frames = c.into_frames();
    Sample {
        file_name: "smtp-crepes-hamburger.pcapng",
        description: format!(
            "The textbook SMTP session: crepes.fr hands Alice's message to hamburger.edu \
             (HELO, MAIL, RCPT, DATA, QUIT), with a Name Resolution Block naming both hosts. \
             {} packets; the analyzer should report one SMTP session with one complete \
             transaction from <alice@crepes.fr> to <bob@hamburger.edu> and a {}-byte message.",
            frames.len(),
            crepes_message().len()
        ),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &crepes_names()),
    }
}

/// The shortest ESMTP session: greeting, EHLO and its two-line reply, QUIT.
pub fn smtp_mini(c: &mut Conversation, banner: &str) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, banner);
    c.line(C, "EHLO client.example");
    c.server_sends(&crlf_lines(&["250-mail.example", "250 8BITMIME"]));
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
}
