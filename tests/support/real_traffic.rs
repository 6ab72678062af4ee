//! Mail as real networks carry it, beyond the textbook's ports and layers.
//!
//! * `mail-recognised-by-client.pcapng`: SMTP on ports whose greeting does
//!   not name the protocol (`220 Greetings`, `220 mail.example.com Service
//!   ready`): the client's EHLO and BDAT say it is SMTP, as Zeek's dynamic
//!   protocol detection would find. And an IMAP session whose greeting was
//!   not captured, recognised by its tagged `LOGIN`.
//! * `mail-in-proxy-tunnels.pcapng`: the same kind of session inside an HTTP
//!   `CONNECT` tunnel (RFC 9110 §9.3.6), a SOCKS4a tunnel and a SOCKS5 tunnel
//!   with a user and password (RFC 1928, RFC 1929), as spam bots send mail.
//! * `tls-expected-plaintext-seen.pcapng`: where TLS was expected and the
//!   bytes are plaintext: an SMTP session exported by a TLS-intercepting
//!   proxy (the server accepts STARTTLS, then the dialogue goes on in clear),
//!   POP3 in clear on 995, and a client that opens with a TLS ClientHello on
//!   a plaintext SMTP port.

use mailscope::capture::builder::{Conversation, Dir};

use super::Sample;
use super::frame_edits::interleave;
use super::smtp::send_message;
use super::tls::client_hello_record;
use super::toolkit::{START_NANOS, addr, crlf_lines, pcapng_ethernet, summary};

use Dir::{ClientToServer as C, ServerToClient as S};

/// A short message for the sessions of this family.
pub fn short_message(subject: &str) -> Vec<u8> {
    crlf_lines(&[
        "From: Mallory <mallory@example.net>",
        "To: Bob <bob@hamburger.edu>",
        &format!("Subject: {subject}"),
        &format!("Message-ID: <{}@example.net>", subject.replace(' ', "-")),
        "",
        "Hello Bob.",
    ])
}

/// An ESMTP transaction after the greeting: EHLO, MAIL, RCPT, DATA, QUIT.
fn smtp_after_greeting(c: &mut Conversation, subject: &str) {
    c.line(C, "EHLO bot.example.net");
    c.server_sends(&crlf_lines(&["250-mx.example.com", "250 8BITMIME"]));
    c.line(C, "MAIL FROM:<mallory@example.net>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    send_message(
        c,
        "354 Go ahead",
        &short_message(subject),
        "250 2.0.0 Queued",
    );
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
}

pub fn mail_recognised_by_client() -> Sample {
    // SMTP on 2626 with a greeting that says nothing; the message goes with
    // BDAT (RFC 3030), which only SMTP has.
    let mut bdat = Conversation::new(addr("10.0.20.1:41000"), addr("10.0.20.2:2626"), START_NANOS);
    bdat.handshake();
    bdat.line(S, "220 Greetings");
    bdat.line(C, "EHLO bot.example.net");
    bdat.server_sends(&crlf_lines(&["250-Hello", "250 CHUNKING"]));
    bdat.line(C, "MAIL FROM:<mallory@example.net>");
    bdat.line(S, "250 Ok");
    bdat.line(C, "RCPT TO:<bob@hamburger.edu>");
    bdat.line(S, "250 Ok");
    let message = short_message("chunked");
    bdat.line(C, &format!("BDAT {} LAST", message.len()));
    bdat.client_sends(&message);
    bdat.line(S, "250 Message accepted");
    bdat.line(C, "QUIT");
    bdat.line(S, "221 Bye");
    bdat.close();

    let mut ready = Conversation::new(
        addr("10.0.20.1:41001"),
        addr("10.0.20.3:1025"),
        START_NANOS + 100_000,
    );
    ready.handshake();
    ready.line(S, "220 mail.example.com Service ready");
    smtp_after_greeting(&mut ready, "service ready");
    ready.close();

    // The capture starts after the IMAP greeting: the client's tagged LOGIN
    // names the protocol on a port that does not.
    let mut imap = Conversation::new(
        addr("10.0.20.1:41002"),
        addr("10.0.20.4:7993"),
        START_NANOS + 200_000,
    );
    imap.handshake();
    imap.line(C, "a1 LOGIN bob hungry");
    imap.line(S, "a1 OK LOGIN completed");
    imap.line(C, "a2 LOGOUT");
    imap.server_sends(&crlf_lines(&[
        "* BYE logging out",
        "a2 OK LOGOUT completed",
    ]));
    imap.close();

    let flows = vec![
        summary("SMTP", &bdat),
        summary("SMTP", &ready),
        summary("IMAP", &imap),
    ];
    let frames = interleave(vec![
        bdat.into_frames(),
        ready.into_frames(),
        imap.into_frames(),
    ]);
    Sample {
        file_name: "mail-recognised-by-client.pcapng",
        description: "Mail recognised from the client's side on ports that do not say: SMTP on 2626 behind a \
                      `220 Greetings` banner with EHLO and BDAT, SMTP on 1025 behind `220 mail.example.com \
                      Service ready`, and IMAP on 7993 whose greeting is not in the capture (the tagged \
                      `a1 LOGIN bob hungry` says IMAP)."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

/// SOCKS5's reply: succeeded, bound to 10.0.21.9:40000.
const SOCKS5_GRANTED: [u8; 10] = [5, 0, 0, 1, 10, 0, 21, 9, 0x9C, 0x40];

pub fn mail_in_proxy_tunnels() -> Sample {
    // HTTP CONNECT to mail.example.com:25, then SMTP inside.
    let mut http = Conversation::new(addr("10.0.21.1:42000"), addr("10.0.21.9:3128"), START_NANOS);
    http.handshake();
    http.client_sends(&crlf_lines(&[
        "CONNECT mail.example.com:25 HTTP/1.0",
        "Host: mail.example.com:25",
        "",
    ]));
    http.server_sends(&crlf_lines(&["HTTP/1.0 200 Connection established", ""]));
    http.line(S, "220 mail.example.com ESMTP");
    smtp_after_greeting(&mut http, "via http connect");
    http.close();

    // SOCKS4a: the proxy resolves mx.example.org itself.
    let mut socks4 = Conversation::new(
        addr("10.0.21.1:42001"),
        addr("10.0.21.9:1080"),
        START_NANOS + 100_000,
    );
    socks4.handshake();
    let mut request = vec![4, 1, 0, 25, 0, 0, 0, 1];
    request.extend_from_slice(b"bot\0mx.example.org\0");
    socks4.client_sends(&request);
    socks4.server_sends(&[0, 0x5A, 0, 0, 0, 0, 0, 0]);
    socks4.line(S, "220 mx.example.org ESMTP");
    smtp_after_greeting(&mut socks4, "via socks4a");
    socks4.close();

    // SOCKS5 with a user and password (RFC 1929), to a POP3 server.
    let mut socks5 = Conversation::new(
        addr("10.0.21.1:42002"),
        addr("10.0.21.9:1081"),
        START_NANOS + 200_000,
    );
    socks5.handshake();
    socks5.client_sends(&[5, 1, 2]);
    socks5.server_sends(&[5, 2]);
    let mut login = vec![1, 7];
    login.extend_from_slice(b"proxyme");
    login.push(6);
    login.extend_from_slice(b"s3cret");
    socks5.client_sends(&login);
    socks5.server_sends(&[1, 0]);
    let mut connect = vec![5, 1, 0, 3, 15];
    connect.extend_from_slice(b"pop.example.org");
    connect.extend_from_slice(&110u16.to_be_bytes());
    socks5.client_sends(&connect);
    socks5.server_sends(&SOCKS5_GRANTED);
    socks5.line(S, "+OK POP3 ready");
    socks5.line(C, "USER bob");
    socks5.line(S, "+OK");
    socks5.line(C, "PASS hungry");
    socks5.line(S, "+OK 0 messages");
    socks5.line(C, "QUIT");
    socks5.line(S, "+OK bye");
    socks5.close();

    let flows = vec![
        summary("HTTP CONNECT + SMTP", &http),
        summary("SOCKS4a + SMTP", &socks4),
        summary("SOCKS5 + POP3", &socks5),
    ];
    let frames = interleave(vec![
        http.into_frames(),
        socks4.into_frames(),
        socks5.into_frames(),
    ]);
    Sample {
        file_name: "mail-in-proxy-tunnels.pcapng",
        description: "Mail through proxies: an SMTP session to mail.example.com:25 inside an HTTP CONNECT \
                      tunnel (proxy port 3128), one to mx.example.org:25 inside SOCKS4a (user id `bot`), and \
                      a POP3 login (bob/hungry) to pop.example.org:110 inside SOCKS5 with the proxy login \
                      proxyme/s3cret (RFC 1929, in clear)."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn tls_expected_plaintext_seen() -> Sample {
    // A TLS-intercepting proxy's export: the upgrade is accepted, but the
    // capture holds the decrypted dialogue, in clear.
    let mut proxy = Conversation::new(addr("10.0.22.1:43000"), addr("10.0.22.2:587"), START_NANOS);
    proxy.handshake();
    proxy.line(S, "220 mail.example.com ESMTP");
    proxy.line(C, "EHLO laptop.example.com");
    proxy.server_sends(&crlf_lines(&[
        "250-mail.example.com",
        "250-STARTTLS",
        "250 AUTH PLAIN",
    ]));
    proxy.line(C, "STARTTLS");
    proxy.line(S, "220 2.0.0 Ready to start TLS");
    proxy.line(C, "EHLO laptop.example.com");
    proxy.server_sends(&crlf_lines(&["250-mail.example.com", "250 AUTH PLAIN"]));
    proxy.line(C, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    proxy.line(S, "235 2.7.0 Authentication successful");
    proxy.line(C, "MAIL FROM:<alice@example.com>");
    proxy.line(S, "250 2.1.0 Ok");
    proxy.line(C, "RCPT TO:<bob@hamburger.edu>");
    proxy.line(S, "250 2.1.5 Ok");
    send_message(
        &mut proxy,
        "354 Go ahead",
        &short_message("after starttls"),
        "250 2.0.0 Queued",
    );
    proxy.line(C, "QUIT");
    proxy.line(S, "221 2.0.0 Bye");
    proxy.close();

    // POP3 in clear on the POP3S port.
    let mut pop3 = Conversation::new(
        addr("10.0.22.1:43001"),
        addr("10.0.22.2:995"),
        START_NANOS + 100_000,
    );
    pop3.handshake();
    pop3.line(S, "+OK POP3 ready");
    pop3.line(C, "USER bob");
    pop3.line(S, "+OK");
    pop3.line(C, "PASS hungry");
    pop3.line(S, "+OK 0 messages");
    pop3.line(C, "QUIT");
    pop3.line(S, "+OK bye");
    pop3.close();

    // A client set up for implicit TLS on a plaintext SMTP port.
    let mut hello = Conversation::new(
        addr("10.0.22.1:43002"),
        addr("10.0.22.2:25"),
        START_NANOS + 200_000,
    );
    hello.handshake();
    hello.line(S, "220 mail.example.com ESMTP");
    hello.client_sends(&client_hello_record("mail.example.com"));
    hello.line(S, "500 5.5.1 Command unrecognized");
    hello.close_from(S);

    let flows = vec![
        summary("SMTP", &proxy),
        summary("POP3", &pop3),
        summary("SMTP", &hello),
    ];
    let frames = interleave(vec![
        proxy.into_frames(),
        pop3.into_frames(),
        hello.into_frames(),
    ]);
    Sample {
        file_name: "tls-expected-plaintext-seen.pcapng",
        description: "Plaintext where TLS was expected: an SMTP submission exported by a TLS-intercepting proxy \
                      (`220 2.0.0 Ready to start TLS`, then EHLO, AUTH PLAIN alice/secret and a message in \
                      clear), POP3 in clear on port 995 (bob/hungry), and a TLS ClientHello sent to a plaintext \
                      SMTP server on port 25, which answers `500`."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&frames, &[]),
    }
}

pub fn terminal_escapes() -> Sample {
    let mut c = Conversation::new(addr("10.0.23.1:44000"), addr("10.0.23.2:587"), START_NANOS);
    c.handshake();
    c.line(S, "220 mail.example.com ESMTP");
    c.line(C, "EHLO evil.example");
    c.server_sends(&crlf_lines(&[
        "250-mail.example.com",
        "250 AUTH PLAIN LOGIN",
    ]));
    // AUTH LOGIN with a user name that carries ESC [ 2 J (clear screen)
    // and a carriage return: base64 hides them from a casual eye.
    c.line(C, "AUTH LOGIN");
    c.line(S, "334 VXNlcm5hbWU6");
    c.line(C, "cm9vdBtbMkoNYWRtaW4=");
    c.line(S, "334 UGFzc3dvcmQ6");
    c.line(C, "aHVudGVyMg==");
    c.line(S, "235 2.7.0 Authentication successful");
    c.line(C, "MAIL FROM:<mallory@evil.example>");
    c.line(S, "250 2.1.0 Ok");
    c.line(C, "RCPT TO:<bob@hamburger.edu>");
    c.line(S, "250 2.1.5 Ok");
    // RFC 2047 decodes this subject to ESC ] 0 ; PWNED BEL ESC [ 2 J: a
    // new window title and a cleared screen for whoever prints it raw.
    let message = crlf_lines(&[
        "From: =?utf-8?q?Mallory=1B[31m?= <mallory@evil.example>",
        "To: bob@hamburger.edu",
        "Subject: =?utf-8?q?=1B]0;PWNED=07=1B[2J?=",
        "Message-ID: <escapes.1@evil.example>",
        "",
        "Look at your terminal.",
    ]);
    send_message(&mut c, "354 Go ahead", &message, "250 2.0.0 Queued");
    c.line(C, "QUIT");
    c.line(S, "221 2.0.0 Bye");
    c.close();
    let flows = vec![summary("SMTP", &c)];
    Sample {
        file_name: "terminal-escapes.pcapng",
        description: "Text that attacks the analyst's terminal: an AUTH LOGIN user name holding ESC [2J and a \
                      carriage return (`root\\e[2J\\radmin`), and a subject that RFC 2047-decodes to \
                      `ESC ]0;PWNED BEL ESC [2J` (retitle and clear the terminal). Every human output must \
                      show these as escapes, never obey them."
            .into(),
        flows,
        notes: vec![],
        bytes: pcapng_ethernet(&c.into_frames(), &[]),
    }
}
