//! IMAP (RFC 3501) captures and dialogues.
//!
//! `imap-bob.pcapng`: Bob reads his mail with IMAP. It teaches tagged
//! commands ("a1", "a2", ...) answered by untagged "*" data and a tagged
//! completion, the mailbox state SELECT reports, and literals: the message
//! travels as "{n}" CRLF and exactly n bytes, with no dot-stuffing, in a
//! response larger than one TCP segment.
//!
//! [`imap_dialogue`] is replayed over Linux cooked capture v2;
//! [`imap_mini`] is a short login for files with several flows.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::textbook::{bob_names, recipe_message};
use super::toolkit::{START_NANOS, addr, crlf_lines, pcapng_ethernet, summary};

/// Bob logs in, selects INBOX, fetches his message, marks it deleted,
/// expunges and logs out. Returns the length of the fetched literal.
pub fn imap_dialogue(c: &mut Conversation) -> usize {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let message = recipe_message();
    c.handshake();
    c.line(
        S,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] \
         hamburger.edu IMAP4rev1 ready",
    );
    c.line(C, "a1 LOGIN bob hungry");
    c.line(
        S,
        "a1 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ UIDPLUS MOVE] \
         Logged in",
    );
    c.line(C, "a2 SELECT INBOX");
    c.server_sends(&crlf_lines(&[
        r"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)",
        r"* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.",
        "* 1 EXISTS",
        "* 1 RECENT",
        "* OK [UNSEEN 1] First unseen.",
        "* OK [UIDVALIDITY 1709543700] UIDs valid",
        "* OK [UIDNEXT 2] Predicted next UID",
        "a2 OK [READ-WRITE] Select completed.",
    ]));
    c.line(C, "a3 FETCH 1 (FLAGS BODY[])");
    // The message travels as a *literal*: "{n}" CRLF, then exactly n bytes
    // (RFC 3501 section 4.3), so it needs no quoting and no dot-stuffing.
    let mut fetch =
        format!("* 1 FETCH (FLAGS (\\Seen) BODY[] {{{}}}\r\n", message.len()).into_bytes();
    fetch.extend_from_slice(&message);
    fetch.extend_from_slice(b")\r\na3 OK Fetch completed.\r\n");
    c.server_sends(&fetch);
    c.line(C, r"a4 STORE 1 +FLAGS (\Deleted)");
    c.server_sends(&crlf_lines(&[
        r"* 1 FETCH (FLAGS (\Seen \Deleted))",
        "a4 OK Store completed.",
    ]));
    c.line(C, "a5 EXPUNGE");
    c.server_sends(&crlf_lines(&["* 1 EXPUNGE", "a5 OK Expunge completed."]));
    c.line(C, "a6 LOGOUT");
    c.server_sends(&crlf_lines(&[
        "* BYE hamburger.edu IMAP4rev1 server logging out",
        "a6 OK Logout completed.",
    ]));
    // After BYE the server closes the connection first (RFC 3501 section 3.4).
    c.close_from(S);
    message.len()
}

pub fn imap_bob() -> Sample {
    let mut c = Conversation::new(addr("10.0.0.3:49153"), addr("10.0.0.2:143"), START_NANOS);
    let literal = imap_dialogue(&mut c);
    let flows = vec![summary("IMAP", &c)];
    Sample {
        file_name: "imap-bob.pcapng",
        description: format!(
            "Bob reads his mail with IMAP: LOGIN, SELECT INBOX, FETCH 1 (FLAGS BODY[]) with a \
             {literal}-byte literal, STORE +FLAGS (\\Deleted), EXPUNGE, LOGOUT/BYE. The analyzer \
             should see a successful login as bob and one fetched {literal}-byte message."
        ),
        flows,
        notes: vec![format!(
            "The FETCH response (literal {{{literal}}}) is larger than the 1460-byte MSS and spans two segments."
        )],
        bytes: pcapng_ethernet(&c.into_frames(), &bob_names()),
    }
}

/// A short IMAP session: greeting, LOGIN, LOGOUT (the server closes first).
pub fn imap_mini(c: &mut Conversation, greeting: &str) {
    use Dir::{ClientToServer as C, ServerToClient as S};
    c.handshake();
    c.line(S, greeting);
    c.line(C, "a1 LOGIN alice wonderland");
    c.line(S, "a1 OK Logged in");
    c.line(C, "a2 LOGOUT");
    c.server_sends(&crlf_lines(&[
        "* BYE Logging out",
        "a2 OK Logout completed.",
    ]));
    c.close_from(Dir::ServerToClient);
}
