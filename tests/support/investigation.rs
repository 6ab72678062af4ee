//! What an incident responder looks for (issue 20): password guessing
//! across protocols, and the message a successful guess is used to send.
//!
//! * `auth-guessing.pcapng`: one client (10.0.33.66) tries Bob's
//!   password at one server (10.0.33.1) on SMTP submission, POP3 and IMAP
//!   within a minute, refused four times (AUTH PLAIN twice, USER/PASS,
//!   LOGIN), and then gets in with AUTH PLAIN and sends a phishing
//!   message: a display name that shows another address, a Reply-To of
//!   another domain, links in HTML behind quoted-printable. Two other
//!   clients show what is not guessing: a typo then the right password
//!   (10.0.33.77), and three refusals more than ten minutes apart from
//!   each other (10.0.33.88).

use mailscope::capture::builder::Conversation;
use mailscope::capture::builder::Dir;

use super::Sample;
use super::frame_edits::interleave;
use super::smtp::send_message;
use super::toolkit::{START_NANOS, addr, crlf_lines, ip, pcapng_ethernet, summary};

use Dir::{ClientToServer as C, ServerToClient as S};

const SECOND: u64 = 1_000_000_000;

/// `\0user\0password` in base64 (RFC 4616), as AUTH PLAIN sends it.
fn plain(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

/// An SMTP submission session with one AUTH PLAIN per password; the last
/// is accepted when `last_accepted`.
fn smtp_auth(c: &mut Conversation, passwords: &[&str], last_accepted: bool) {
    c.handshake();
    c.line(S, "220 mail.hamburger.edu ESMTP");
    c.line(C, "EHLO guess");
    c.server_sends(&crlf_lines(&[
        "250-mail.hamburger.edu",
        "250-AUTH PLAIN LOGIN",
        "250 8BITMIME",
    ]));
    for (i, password) in passwords.iter().enumerate() {
        c.line(C, &format!("AUTH PLAIN {}", plain("bob", password)));
        if last_accepted && i + 1 == passwords.len() {
            c.line(S, "235 2.7.0 Authentication successful");
        } else {
            c.line(S, "535 5.7.8 Error: authentication failed");
        }
    }
}

/// The message the guesser sends once in.
pub fn phishing_message() -> Vec<u8> {
    crlf_lines(&[
        "From: \"security@hamburger.edu\" <helpdesk@evil.example>",
        "Reply-To: <collect@drop.example>",
        "To: <carol@hamburger.edu>",
        "Subject: Your mailbox is full",
        "Message-ID: <guess.1@evil.example>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/alternative; boundary=\"alt\"",
        "",
        "--alt",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "Log in at https://hamburger-edu.evil.example/login?u=carol&next=inbox.",
        "--alt",
        "Content-Type: text/html; charset=us-ascii",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "<p><a href=3D\"https://hamburger-edu.evil.example/login?u=3Dcarol&amp;next=3D=",
        "inbox\">Log in</a> or <a href=3D'http://203.0.113.9/keep'>keep your mail</a>=",
        "</p>",
        "--alt--",
    ])
}

fn guesser(conversations: &mut Vec<Conversation>) {
    let at = |host: u8, port: u16| addr(&format!("10.0.33.{host}:{port}"));
    let mut smtp = Conversation::new(at(66, 40001), at(1, 587), START_NANOS);
    smtp_auth(&mut smtp, &["123456", "password"], false);
    smtp.line(C, "QUIT");
    smtp.line(S, "221 2.0.0 Bye");
    smtp.close();

    let mut pop3 = Conversation::new(at(66, 40002), at(1, 110), START_NANOS + 20 * SECOND);
    pop3.handshake();
    pop3.line(S, "+OK POP3 ready");
    pop3.line(C, "USER bob");
    pop3.line(S, "+OK");
    pop3.line(C, "PASS qwerty");
    pop3.line(S, "-ERR [AUTH] Authentication failed");
    pop3.line(C, "QUIT");
    pop3.line(S, "+OK Bye");
    pop3.close();

    let mut imap = Conversation::new(at(66, 40003), at(1, 143), START_NANOS + 40 * SECOND);
    imap.handshake();
    imap.line(S, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready");
    imap.line(C, "a1 LOGIN bob letmein");
    imap.line(S, "a1 NO [AUTHENTICATIONFAILED] Authentication failed");
    imap.line(C, "a2 LOGOUT");
    imap.line(S, "* BYE");
    imap.line(S, "a2 OK LOGOUT completed");
    imap.close();

    let mut sent = Conversation::new(at(66, 40004), at(1, 587), START_NANOS + 60 * SECOND);
    smtp_auth(&mut sent, &["hungry"], true);
    sent.line(C, "MAIL FROM:<bob@hamburger.edu>");
    sent.line(S, "250 2.1.0 Ok");
    sent.line(C, "RCPT TO:<carol@hamburger.edu>");
    sent.line(S, "250 2.1.5 Ok");
    send_message(
        &mut sent,
        "354 End data with <CR><LF>.<CR><LF>",
        &phishing_message(),
        "250 2.0.0 Ok: queued as 3301",
    );
    sent.line(C, "QUIT");
    sent.line(S, "221 2.0.0 Bye");
    sent.close();
    conversations.extend([smtp, pop3, imap, sent]);
}

fn not_guessing(conversations: &mut Vec<Conversation>) {
    let at = |host: u8, port: u16| addr(&format!("10.0.33.{host}:{port}"));
    // A typo, then the right password.
    let mut typo = Conversation::new(at(77, 41001), at(1, 587), START_NANOS + 5 * SECOND);
    smtp_auth(&mut typo, &["hungyr", "hungry"], true);
    typo.line(C, "QUIT");
    typo.line(S, "221 2.0.0 Bye");
    typo.close();
    conversations.push(typo);
    // Three refusals, eleven minutes apart.
    for i in 0..3u16 {
        let start = START_NANOS + 2 * SECOND + u64::from(i) * 660 * SECOND;
        let mut slow = Conversation::new(at(88, 42001 + i), at(1, 587), start);
        smtp_auth(&mut slow, &["summer2024"], false);
        slow.line(C, "QUIT");
        slow.line(S, "221 2.0.0 Bye");
        slow.close();
        conversations.push(slow);
    }
}

pub fn auth_guessing() -> Sample {
    let mut conversations = Vec::new();
    guesser(&mut conversations);
    not_guessing(&mut conversations);
    let protocols = [
        "SMTP", "POP3", "IMAP", "SMTP", "SMTP", "SMTP", "SMTP", "SMTP",
    ];
    let flows = conversations
        .iter()
        .zip(protocols)
        .map(|(c, p)| summary(p, c))
        .collect();
    let frames = interleave(conversations.into_iter().map(|c| c.into_frames()).collect());
    let names = [(ip("10.0.33.1"), "mail.hamburger.edu")];
    Sample {
        file_name: "auth-guessing.pcapng",
        description: "Password guessing across protocols: 10.0.33.66 is refused at \
                      mail.hamburger.edu (10.0.33.1) four times within 40 s (SMTP AUTH PLAIN \
                      bob/123456 and bob/password on port 587, POP3 USER/PASS bob/qwerty, IMAP \
                      LOGIN bob/letmein), then AUTH PLAIN bob/hungry is accepted and it sends \
                      Carol a phishing message (From: \"security@hamburger.edu\" \
                      <helpdesk@evil.example>, Reply-To: <collect@drop.example>, two links). \
                      10.0.33.77 mistypes once and gets in; 10.0.33.88 is refused three times, \
                      eleven minutes apart. The analyzer should raise one `auth-guessing` \
                      finding (high, on the accepted login's flow), and `display-name-spoof` and \
                      `reply-to-mismatch` on the message."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &names),
    }
}
