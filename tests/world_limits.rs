//! `mailscope serve` against clients that misbehave (issue 7), over raw
//! sockets: over-long lines, slow clients that say nothing, too many
//! recipients, a message over the size limit, and IMAP folder names that
//! try to leave the mail store. Every one gets a clear reply; none leaves
//! a file outside the store.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::classroom::{self, Classroom};

/// A line-based client over a plain socket.
struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Raw {
    fn connect(room: &Classroom, port: u16) -> Raw {
        let s = TcpStream::connect((room.ip.as_str(), port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Raw {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        l
    }

    fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).unwrap();
    }

    /// Sends `command` and reads lines until one starts with `until`.
    fn ask(&mut self, command: &str, until: &str) -> Vec<String> {
        self.send(&format!("{command}\r\n"));
        let mut lines = Vec::new();
        loop {
            let l = self.line();
            let done = l.is_empty() || l.starts_with(until);
            lines.push(l);
            if done {
                return lines;
            }
        }
    }

    /// True when the server closed the connection (after what it said).
    fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).is_ok()
    }
}

#[test]
fn over_long_lines_get_an_error_and_the_session_goes_on() {
    let room = Classroom::start("127.0.78.1", &[]);
    // POP3 (RFC 2449 §4: 255 octets).
    let mut p = Raw::connect(&room, classroom::POP3);
    assert!(p.line().starts_with("+OK"));
    let long = format!("USER {}", "b".repeat(5000));
    assert_eq!(p.ask(&long, "-ERR"), ["-ERR line too long\r\n"]);
    assert!(p.ask("CAPA", ".")[0].starts_with("+OK"));
    // SMTP (RFC 5321 §4.5.3.1.4: 512 octets per command line).
    let mut s = Raw::connect(&room, classroom::SMTP);
    assert!(s.line().starts_with("220 "));
    let reply = s.ask(&format!("HELO {}", "c".repeat(20_000)), "5");
    assert!(reply.last().unwrap().starts_with("500 "), "{reply:?}");
    assert!(s.ask("HELO crepes.fr", "250")[0].starts_with("250"));
    // IMAP.
    let mut i = Raw::connect(&room, classroom::IMAP);
    assert!(i.line().starts_with("* OK"));
    // The tag is lost with the line: the answer is untagged.
    let reply = i.ask(&format!("a1 NOOP {}", "x".repeat(20_000)), "");
    assert_eq!(reply, ["* BAD line too long\r\n"]);
    assert!(i.ask("a2 NOOP", "a2").last().unwrap().starts_with("a2 OK"));
}

#[test]
fn slow_clients_are_disconnected_after_the_idle_timeout() {
    let room = Classroom::start("127.0.78.2", &["--idle-timeout", "1"]);
    for (port, greeting, farewell) in [
        (classroom::SMTP, "220 ", "421 "),
        (classroom::POP3, "+OK", "-ERR autologout"),
        (classroom::IMAP, "* OK", "* BYE"),
    ] {
        let started = Instant::now();
        let mut c = Raw::connect(&room, port);
        assert!(c.line().starts_with(greeting));
        // Say nothing: the server gives up, says why, and closes.
        let last = c.line();
        assert!(last.starts_with(farewell), "{port}: {last:?}");
        assert!(c.closed(), "{port}");
        assert!(started.elapsed() < Duration::from_secs(15), "{port}");
    }
}

#[test]
fn too_many_recipients_and_a_message_too_big() {
    let room = Classroom::start("127.0.78.3", &["--max-message", "2000"]);
    let mut s = Raw::connect(&room, classroom::SMTP);
    s.line();
    s.ask("EHLO crepes.fr", "250 ");
    s.ask("MAIL FROM:<alice@crepes.fr>", "250");
    let mut refused = None;
    for n in 0..200 {
        let r = s.ask("RCPT TO:<bob@hamburger.edu>", "");
        if !r[0].starts_with("250") {
            refused = Some((n, r[0].clone()));
            break;
        }
    }
    let (n, reply) = refused.expect("a limit on recipients");
    assert!(reply.starts_with("452 "), "{reply}");
    assert!(n >= 50, "refused after {n}");
    s.ask("RSET", "250");
    // SIZE declared too big: refused at MAIL (RFC 1870 §6.2).
    let r = s.ask("MAIL FROM:<alice@crepes.fr> SIZE=5000", "");
    assert!(r[0].starts_with("552 "), "{r:?}");
    // Undeclared, too big: refused at the end of DATA, nothing stored.
    s.ask("MAIL FROM:<alice@crepes.fr>", "250");
    s.ask("RCPT TO:<bob@hamburger.edu>", "250");
    s.ask("DATA", "354");
    let line = format!("{}\r\n", "z".repeat(60));
    let body = format!("Subject: big\r\n\r\n{}.", line.repeat(80));
    let r = s.ask(&body, "");
    assert!(r[0].starts_with("552 "), "{r:?}");
    // A line over 1000 octets inside a message: refused too (RFC 5321
    // §4.5.3.1.6), with the reason.
    s.ask("MAIL FROM:<alice@crepes.fr>", "250");
    s.ask("RCPT TO:<bob@hamburger.edu>", "250");
    s.ask("DATA", "354");
    let r = s.ask(
        &format!("Subject: long\r\n\r\n{}\r\n.", "z".repeat(1500)),
        "",
    );
    assert!(
        r[0].starts_with("554 5.6.0 Message has a line longer than 1000 octets"),
        "{r:?}"
    );
    assert!(room.inbox("bob").is_empty());
}

#[test]
fn folder_names_never_leave_the_store() {
    let room = Classroom::start("127.0.78.4", &["--plaintext-auth"]);
    // The store's parent is shared (a temporary directory): names that are
    // already there say nothing about this server.
    let parent = room
        .store
        .canonicalize()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let there_before: Vec<bool> = ["x", "y", "z", "w"]
        .iter()
        .map(|n| parent.join(n).exists())
        .collect();
    let mut i = Raw::connect(&room, classroom::IMAP);
    i.line();
    assert!(
        i.ask("a1 LOGIN bob hungry", "a1")
            .last()
            .unwrap()
            .starts_with("a1 OK")
    );
    for (n, name) in ["../../x", "/etc", "a/../../y", "..\\..\\z", "C:\\w"]
        .iter()
        .enumerate()
    {
        let tag = format!("c{n}");
        i.ask(
            &format!("{tag} CREATE \"{}\"", name.replace('\\', "\\\\")),
            &tag,
        );
        i.ask(
            &format!("s{n} SELECT \"{}\"", name.replace('\\', "\\\\")),
            &format!("s{n}"),
        );
    }
    // A name with a NUL byte, sent as a literal.
    i.send("n1 CREATE {5}\r\n");
    assert!(i.line().starts_with('+'));
    let reply = i.ask("ab\0cd", "n1");
    assert!(!reply.last().unwrap().is_empty());
    // Names with a ".." level are refused (issue 21); the others exist,
    // as names inside the store.
    let list = i.ask("a9 LIST \"\" \"*\"", "a9");
    assert!(!list.iter().any(|l| l.contains("../")), "{list:?}");
    assert!(list.iter().any(|l| l.contains("C:")), "{list:?}");
    i.ask("a10 LOGOUT", "a10");
    // Nothing outside the store, and every path inside it is a real
    // directory or file under it.
    let root = room.store.canonicalize().unwrap();
    for (escaped, before) in ["x", "y", "z", "w"].into_iter().zip(there_before) {
        assert!(
            before || !parent.join(escaped).exists(),
            "{escaped} escaped the store"
        );
    }
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            assert!(!meta.file_type().is_symlink(), "{:?}", e.path());
            assert!(e.path().canonicalize().unwrap().starts_with(&root));
            if meta.is_dir() {
                stack.push(e.path());
            }
        }
    }
}

#[test]
fn a_session_with_too_many_commands_is_closed() {
    let room = Classroom::start("127.0.78.5", &[]);
    // 10 000 commands per session at most (POP3 here; SMTP and IMAP have
    // the same limit, checked in their unit tests): then a clear error and
    // the connection is closed.
    let mut p = Raw::connect(&room, classroom::POP3);
    p.line();
    // Written from another thread while this one reads the answers, so
    // neither side waits on a full socket buffer.
    let mut writer = p.writer.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all("CAPA\r\n".repeat(10_001).as_bytes());
    });
    let mut last = String::new();
    loop {
        let l = p.line();
        if l.is_empty() {
            break;
        }
        last = l;
    }
    assert_eq!(last, "-ERR too many commands, closing\r\n");
    sender.join().unwrap();
}
