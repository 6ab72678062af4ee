//! SMTP smuggling (issue 21), as `mailscope serve` answers it:
//! `smtp-smuggling.pcapng`.
//!
//! RFC 5321 §4.1.1.4 ends the message text only at `<CRLF>.<CRLF>`. A
//! client that hides a lone "." between bare LFs or CRs in its text, and a
//! second transaction after it, gets two messages through a server that
//! takes `<LF>.<LF>` for the end (CVE-2023-51764 and its siblings): the
//! second one "from" anyone the attacker likes. A server that relays such
//! text to the next hop passes the attack on. The world's server reads on
//! to the real end and refuses the whole message (`554 5.5.2`); the
//! analyzer raises `smtp-smuggling` on the text either way.
//!
//! The replies are the world's own (`src/world/smtp_server.rs`), and the
//! attacks are the issue's `nc` reproduction: the commands up to DATA in
//! one write, the rest in a second one.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::frame_edits::interleave;
use super::toolkit::{START_NANOS, addr, crlf_lines, pcapng_ethernet, summary};

use Dir::{ClientToServer as C, ServerToClient as S};

/// What the world's server answers a message with a lone "." next to a
/// bare LF or CR.
pub const REFUSED: &str = "554 5.5.2 Message refused: a line holding only \".\" ends with a bare LF or CR, which some servers take for the end of the data (SMTP smuggling); only <CR><LF>.<CR><LF> ends it";

/// The world server's greeting and EHLO reply, then MAIL, RCPT and DATA
/// pipelined in one write (as `printf … | nc` sends them) and their
/// replies.
fn open_transaction(c: &mut Conversation, from: &str, to: &str) {
    c.handshake();
    c.line(S, "220 hamburger.edu ESMTP mailscope");
    c.client_sends(&crlf_lines(&[
        "EHLO x",
        &format!("MAIL FROM:<{from}>"),
        &format!("RCPT TO:<{to}>"),
        "DATA",
    ]));
    c.server_sends(&crlf_lines(&[
        "250-hamburger.edu Hello x [10.0.50.1]",
        "250-PIPELINING",
        "250-SIZE 10485760",
        "250-8BITMIME",
        "250-STARTTLS",
        "250-AUTH CRAM-MD5",
        "250-CHUNKING",
        "250-ENHANCEDSTATUSCODES",
        "250 HELP",
        "250 2.1.0 Sender OK",
        "250 2.1.5 Recipient OK",
        "354 End data with <CR><LF>.<CR><LF>",
    ]));
}

/// The issue's attack with the lone "." between `before` and `after`: a
/// first message ("hi"), then a transaction from the domain's admin to
/// Alice inside its text, the real end, and QUIT, all in one write.
fn attack(before: &str, after: &str) -> Vec<u8> {
    format!(
        "Subject: c\r\n\r\nhi{before}.{after}MAIL FROM:<admin@hamburger.edu>\r\nRCPT TO:<alice@hamburger.edu>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\nQUIT\r\n"
    )
    .into_bytes()
}

pub fn smtp_smuggling() -> Sample {
    // The issue's reproduction: <LF>.<LF>.
    let mut lf = Conversation::new(addr("10.0.50.1:47000"), addr("10.0.50.2:25"), START_NANOS);
    open_transaction(&mut lf, "a@x.example", "bob@hamburger.edu");
    lf.client_sends(&attack("\n", "\n"));
    lf.server_sends(&crlf_lines(&[
        REFUSED,
        "221 2.0.0 hamburger.edu closing connection",
    ]));
    lf.close();

    // The same between bare CRs: <CR>.<CR>.
    let mut cr = Conversation::new(
        addr("10.0.50.1:47001"),
        addr("10.0.50.2:25"),
        START_NANOS + 100_000,
    );
    open_transaction(&mut cr, "a@x.example", "bob@hamburger.edu");
    cr.client_sends(&attack("\r", "\r"));
    cr.server_sends(&crlf_lines(&[
        REFUSED,
        "221 2.0.0 hamburger.edu closing connection",
    ]));
    cr.close();

    // Bare LFs without a lone ".": an old client's message, taken.
    let mut plain = Conversation::new(
        addr("10.0.50.1:47002"),
        addr("10.0.50.2:25"),
        START_NANOS + 200_000,
    );
    open_transaction(&mut plain, "carol@x.example", "bob@hamburger.edu");
    plain.client_sends(b"Subject: lf\n\nline one\nline two\r\n.\r\n");
    plain.line(S, "250 2.0.0 Ok: queued as 4A1");
    plain.line(C, "QUIT");
    plain.line(S, "221 2.0.0 hamburger.edu closing connection");
    plain.close();

    let flows = vec![
        summary("SMTP", &lf),
        summary("SMTP", &cr),
        summary("SMTP", &plain),
    ];
    let frames = interleave(vec![
        lf.into_frames(),
        cr.into_frames(),
        plain.into_frames(),
    ]);
    Sample {
        file_name: "smtp-smuggling.pcapng",
        description: "SMTP smuggling against `mailscope serve` (issue 21). Flow 0: the issue's `nc` \
                      attack: EHLO, MAIL, RCPT and DATA in one write, then in a second write a \
                      message whose text holds \"hi<LF>.<LF>\", a forged transaction from \
                      <admin@hamburger.edu> to <alice@hamburger.edu>, the real <CRLF>.<CRLF> and \
                      QUIT; the server reads to the real end and refuses the whole message (554 \
                      5.5.2), so nothing is delivered and the forged commands never run. Flow 1: the \
                      same with \"hi<CR>.<CR>\". Flow 2: a message whose lines end in bare LFs but \
                      hold no lone \".\", accepted. The analyzer should raise `smtp-smuggling` \
                      (high) on flows 0 and 1 only, and report one message per flow."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}
