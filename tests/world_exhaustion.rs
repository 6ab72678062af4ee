//! `mailscope serve` against clients that try to hold its sockets (issue
//! 21, point 2), over raw sockets: a TLS handshake that never finishes
//! (implicit TLS and after STARTTLS/STLS), a client that never reads its
//! replies, and one address opening more connections than it may. Each
//! is closed within a generous bound or refused with the protocol's
//! "try again later"; no timing is asserted beyond that bound.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::classroom::{self, Classroom};
use common::raw::{End, Raw};

/// Far above the 1 s limits the tests set, far below the defaults.
const BOUND: Duration = Duration::from_secs(15);

#[test]
fn a_tls_handshake_that_never_finishes_is_closed() {
    let room = Classroom::start("127.0.121.1", &["--tls-handshake-timeout", "1"]);
    // Implicit TLS (RFC 8314): the client connects and says nothing, or
    // sends the first bytes of a ClientHello and stops.
    for port in [classroom::SMTPS, classroom::POP3S, classroom::IMAPS] {
        for first in [&b""[..], b"\x16\x03\x01\x00\xc8\x01"] {
            let started = Instant::now();
            let mut c = Raw::connect(&room.ip, port);
            c.writer.write_all(first).unwrap();
            assert_eq!(c.drain(), (End::Closed, 0), "{port} {first:?}");
            assert!(started.elapsed() < BOUND, "{port}");
        }
    }
    // After the protocol's go-ahead for TLS, silence.
    let mut s = Raw::connect(&room.ip, classroom::SUBMISSION);
    assert!(s.line().starts_with("220 "));
    s.ask("EHLO crepes.fr", "250 ");
    let started = Instant::now();
    assert_eq!(s.ask("STARTTLS", "2"), ["220 2.0.0 Ready to start TLS\r\n"]);
    assert_eq!(s.drain(), (End::Closed, 0));
    assert!(started.elapsed() < BOUND);

    let mut p = Raw::connect(&room.ip, classroom::POP3);
    assert!(p.line().starts_with("+OK"));
    let started = Instant::now();
    assert_eq!(p.ask("STLS", "+OK"), ["+OK Begin TLS negotiation\r\n"]);
    assert_eq!(p.drain(), (End::Closed, 0));
    assert!(started.elapsed() < BOUND);

    let mut i = Raw::connect(&room.ip, classroom::IMAP);
    assert!(i.line().starts_with("* OK"));
    let started = Instant::now();
    assert_eq!(
        i.ask("t1 STARTTLS", "t1"),
        ["t1 OK Begin TLS negotiation now\r\n"]
    );
    assert_eq!(i.drain(), (End::Closed, 0));
    assert!(started.elapsed() < BOUND);
}

#[test]
fn a_client_that_never_reads_its_replies_is_dropped() {
    // Bob's INBOX holds one 2 MB message before the server starts.
    let store = common::temp_dir("serve-127.0.121.2");
    let inbox = store.join("mail/bob/INBOX");
    std::fs::create_dir_all(inbox.join("cur")).unwrap();
    let line = format!("{}\r\n", "x".repeat(998));
    let message = format!("Subject: big\r\n\r\n{}", line.repeat(2000));
    std::fs::write(inbox.join("cur/1.eml"), &message).unwrap();
    let room = Classroom::start_with_store(
        "127.0.121.2",
        store,
        &["--plaintext-auth", "--write-timeout", "1"],
    );
    let mut p = Raw::connect(&room.ip, classroom::POP3);
    assert!(p.line().starts_with("+OK"));
    assert_eq!(p.ask("USER bob", "+OK"), ["+OK send PASS\r\n"]);
    assert!(p.ask("PASS hungry", "+OK")[0].starts_with("+OK bob's maildrop has 1 message"));
    // 100 RETR, 200 MB of replies, and not one byte read for a while.
    let retrs = 100;
    p.send(&"RETR 1\r\n".repeat(retrs));
    std::thread::sleep(Duration::from_secs(4));
    let started = Instant::now();
    let (end, got) = p.drain();
    assert_eq!(end, End::Closed);
    assert!(
        got < retrs * message.len() / 2,
        "{got} bytes: the server kept writing"
    );
    assert!(started.elapsed() < BOUND);
}

#[test]
fn one_address_may_hold_only_so_many_connections() {
    let room = Classroom::start("127.0.121.3", &["--max-connections-per-address", "3"]);
    // Three connections, on any services of the host, are fine.
    let mut smtp = Raw::connect(&room.ip, classroom::SMTP);
    assert!(smtp.line().starts_with("220 "));
    let mut pop3 = Raw::connect(&room.ip, classroom::POP3);
    assert!(pop3.line().starts_with("+OK"));
    let mut imap = Raw::connect(&room.ip, classroom::IMAP);
    assert!(imap.line().starts_with("* OK"));
    // A fourth gets its protocol's "try again later", then the close.
    for (port, refusal) in [
        (
            classroom::SMTP,
            "421 4.7.0 hamburger.edu Error: too many connections from your address, try again later\r\n",
        ),
        (
            classroom::POP3,
            "-ERR [SYS/TEMP] too many connections from your address, try again later\r\n",
        ),
        (
            classroom::IMAP,
            "* BYE too many connections from your address, try again later\r\n",
        ),
    ] {
        let mut c = Raw::connect(&room.ip, port);
        assert_eq!(c.line(), refusal, "{port}");
        assert_eq!(c.drain(), (End::Closed, 0), "{port}");
    }
    // On an implicit-TLS port the refusal comes inside TLS.
    if common::have_tool("openssl") {
        let out = classroom::s_client(&room, classroom::SMTPS, &[], "");
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "421 4.7.0 hamburger.edu Error: too many connections from your address, try again later"
            ]
        );
    }
    // The sessions that were refused hold nothing: once one of the three
    // leaves, a newcomer is greeted.
    assert_eq!(
        smtp.ask("QUIT", "221"),
        ["221 2.0.0 hamburger.edu closing connection\r\n"]
    );
    assert_eq!(smtp.drain(), (End::Closed, 0));
    let mut greeted = String::new();
    for _ in 0..200 {
        let mut c = Raw::connect(&room.ip, classroom::SMTP);
        greeted = c.line();
        if greeted.starts_with("220 ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(greeted, "220 hamburger.edu ESMTP mailscope\r\n");
    drop((pop3, imap));
}
