//! Telling mail from not-mail by content, not by port number.
//!
//! * `non-mail-on-mail-port.pcapng`: HTTP on port 25 and Redis on port 110.
//!   The client speaks first and the server never greets, so neither is SMTP
//!   or POP3, whatever the port says.
//! * `smtp-on-odd-port.pcapng`: SMTP, POP3 and IMAP on ports 8025, 8110 and
//!   8143, recognized by their greetings ("220", "+OK", "* OK").

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::frame_edits::interleave;
use super::imap::imap_mini;
use super::pop3::pop3_mini;
use super::smtp::smtp_mini;
use super::toolkit::{START_NANOS, addr, crlf_lines, pcapng_ethernet, summary};

pub fn non_mail_on_mail_port() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let mut http = Conversation::new(addr("10.0.9.1:40020"), addr("10.0.9.2:25"), START_NANOS);
    http.handshake();
    http.client_sends(&crlf_lines(&[
        "GET / HTTP/1.1",
        "Host: 10.0.9.2:25",
        "User-Agent: curl/8.5.0",
        "Accept: */*",
        "",
    ]));
    let mut response = crlf_lines(&[
        "HTTP/1.1 200 OK",
        "Content-Type: text/plain",
        "Content-Length: 13",
        "Connection: close",
        "",
    ]);
    response.extend_from_slice(b"Hello, world\n");
    http.server_sends(&response);
    http.close_from(S);

    let mut redis = Conversation::new(
        addr("10.0.9.1:40021"),
        addr("10.0.9.2:110"),
        START_NANOS + 50_000,
    );
    redis.handshake();
    // RESP, the Redis protocol: an array of one bulk string "PING".
    redis.client_sends(b"*1\r\n$4\r\nPING\r\n");
    // "+PONG" starts with "+", like POP3's "+OK": only the whole exchange
    // tells them apart (the client spoke first; POP3 servers greet first).
    redis.server_sends(b"+PONG\r\n");
    redis.close_from(C);
    let flows = vec![summary("HTTP", &http), summary("Redis", &redis)];
    let frames = interleave(vec![http.into_frames(), redis.into_frames()]);
    Sample {
        file_name: "non-mail-on-mail-port.pcapng",
        description: "An HTTP request/response on port 25 and a Redis PING/+PONG on port 110. Neither is mail: \
                      the analyzer must not report them as SMTP or POP3 (the client speaks first, and the \
                      server never sends a 220 greeting or +OK)."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn mail_on_odd_ports() -> Sample {
    let mut smtp = Conversation::new(addr("10.0.10.1:40030"), addr("10.0.10.2:8025"), START_NANOS);
    smtp_mini(&mut smtp, "220 mail.example.net ESMTP Postfix");
    let mut pop3 = Conversation::new(
        addr("10.0.10.1:40031"),
        addr("10.0.10.2:8110"),
        START_NANOS + 100_000,
    );
    pop3_mini(&mut pop3, "+OK Dovecot ready.");
    let mut imap = Conversation::new(
        addr("10.0.10.1:40032"),
        addr("10.0.10.2:8143"),
        START_NANOS + 200_000,
    );
    imap_mini(
        &mut imap,
        "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.",
    );
    let flows = vec![
        summary("SMTP", &smtp),
        summary("POP3", &pop3),
        summary("IMAP", &imap),
    ];
    let frames = interleave(vec![
        smtp.into_frames(),
        pop3.into_frames(),
        imap.into_frames(),
    ]);
    Sample {
        file_name: "smtp-on-odd-port.pcapng",
        description: "Mail protocols on non-standard ports, to be recognized by content: SMTP on 8025 \
                      (\"220 ... ESMTP Postfix\" greeting), POP3 on 8110 (\"+OK Dovecot ready.\"), IMAP on 8143 \
                      (\"* OK [CAPABILITY IMAP4rev1 ...]\")."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}
