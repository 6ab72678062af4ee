//! `mailscope serve` attacked the way students will (issue 21), over raw
//! sockets on loopback: every test asserts the exact reply and what the
//! mailboxes got.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::classroom::{self, Classroom, without_trace_headers};

/// A client on a plain socket that reads whole reply lines.
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

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// Reads lines until one starts with `until` (or the server closes).
    fn until(&mut self, until: &str) -> Vec<String> {
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

    /// Everything the server says until it closes the connection.
    fn rest(&mut self) -> String {
        let mut rest = String::new();
        self.reader.read_to_string(&mut rest).unwrap();
        rest
    }
}

/// The reply to a message whose text holds a lone "." next to a bare LF
/// or CR.
const REFUSED: &str = "554 5.5.2 Message refused: a line holding only \".\" ends with a bare LF or CR, which some servers take for the end of the data (SMTP smuggling); only <CR><LF>.<CR><LF> ends it\r\n";

/// The issue's `nc` reproduction, with the lone "." between `before` and
/// `after`: the commands up to DATA in one write, the 354 awaited, then
/// the text with a forged second transaction inside and QUIT in another.
/// Returns what the server said after the 354.
fn smuggle(room: &Classroom, before: &str, after: &str) -> String {
    let mut s = Raw::connect(room, classroom::SMTP);
    assert!(s.line().starts_with("220 "));
    s.send(b"EHLO x\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\n");
    let replies = s.until("354 ");
    assert_eq!(
        replies[replies.len() - 3..],
        [
            "250 2.1.0 Sender OK\r\n",
            "250 2.1.5 Recipient OK\r\n",
            "354 End data with <CR><LF>.<CR><LF>\r\n"
        ]
    );
    s.send(
        format!(
            "Subject: c\r\n\r\nhi{before}.{after}MAIL FROM:<admin@hamburger.edu>\r\nRCPT TO:<alice@hamburger.edu>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\nQUIT\r\n"
        )
        .as_bytes(),
    );
    s.rest()
}

#[test]
fn smtp_smuggling_is_refused_and_nothing_is_delivered() {
    let dir = common::temp_dir("smtp-smuggling-capture");
    let capture = dir.join("serve.pcapng");
    let room = Classroom::start("127.0.213.1", &["-w", capture.to_str().unwrap()]);
    let variants = [
        ("\n", "\n"),
        ("\n", "\r\n"),
        ("\r\n", "\n"),
        ("\r", "\r"),
        ("\r\n", "\r"),
        ("\r", "\r\n"),
    ];
    for (before, after) in variants {
        assert_eq!(
            smuggle(&room, before, after),
            format!("{REFUSED}221 2.0.0 hamburger.edu closing connection\r\n"),
            "{before:?} . {after:?}"
        );
    }
    // Nothing delivered, nothing queued: neither the message nor the
    // forged one inside it.
    assert!(room.inbox("bob").is_empty());
    assert!(room.inbox("alice").is_empty());
    let queued = std::fs::read_dir(room.store.join("queue")).unwrap().count();
    assert_eq!(queued, 0);

    // Lines that end in bare LFs without a lone "." are message text: the
    // message is delivered, its lines stored with CRLF (RFC 5321 §2.3.8).
    let mut s = Raw::connect(&room, classroom::SMTP);
    assert!(s.line().starts_with("220 "));
    s.send(b"EHLO x\r\nMAIL FROM:<carol@x.example>\r\nRCPT TO:<bob@hamburger.edu>\r\nDATA\r\n");
    s.until("354 ");
    s.send(b"Subject: lf\n\nline one\n.. stuffed\nline two\r\n.\r\nQUIT\r\n");
    let rest = s.rest();
    assert!(
        rest.starts_with("250 2.0.0 Ok: queued as ")
            && rest.ends_with("\r\n221 2.0.0 hamburger.edu closing connection\r\n"),
        "{rest}"
    );
    let inbox = room.inbox("bob");
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        String::from_utf8_lossy(&without_trace_headers(&inbox[0])),
        "Subject: lf\r\n\r\nline one\r\n. stuffed\r\nline two\r\n"
    );
    let status = room.stop();
    assert!(status.success(), "{status:?}");

    // The world's own capture of it: the analyzer flags each attack, and
    // each attack's text is still reported as the one message it was.
    let records = common::json_lines(&["analyze", "--json", capture.to_str().unwrap()]);
    let smtp_flows: Vec<u64> = records
        .iter()
        .filter(|r| r["type"] == "flow" && r["protocol"] == "smtp")
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(smtp_flows.len(), variants.len() + 1, "{records:?}");
    let smuggling: Vec<(u64, &str)> = records
        .iter()
        .filter(|r| r["type"] == "finding" && r["code"] == "smtp-smuggling")
        .map(|r| (r["flow"].as_u64().unwrap(), r["severity"].as_str().unwrap()))
        .collect();
    let attacked: Vec<(u64, &str)> = smtp_flows[..variants.len()]
        .iter()
        .map(|f| (*f, "high"))
        .collect();
    assert_eq!(smuggling, attacked);
    let subjects: Vec<&str> = records
        .iter()
        .filter(|r| r["type"] == "message")
        .map(|r| r["subject"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(subjects, ["c", "c", "c", "c", "c", "c", "lf"]);
}

/// Sends `command` (CRLF added) and reads the reply up to its last line
/// (one that starts with `until`).
fn ask(s: &mut Raw, command: &str, until: &str) -> Vec<String> {
    s.send(format!("{command}\r\n").as_bytes());
    s.until(until)
}

/// An SMTP session after its greeting and an EHLO.
fn smtp_session(room: &Classroom, port: u16) -> Raw {
    let mut s = Raw::connect(room, port);
    assert!(s.line().starts_with("220 "));
    let ehlo = ask(&mut s, "EHLO lab-pc", "250 ");
    assert!(ehlo.last().unwrap().starts_with("250 "), "{ehlo:?}");
    s
}

/// CRAM-MD5's answer to the server's challenge (RFC 2195).
fn cram_md5(user: &str, password: &str, challenge_line: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let challenge = b64
        .decode(&challenge_line.trim_end().as_bytes()[4..])
        .unwrap();
    let digest = mailscope::world::host::hmac_md5(password.as_bytes(), &challenge);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    b64.encode(format!("{user} {hex}"))
}

#[test]
fn smaller_holes_of_the_smtp_server_are_closed() {
    let room = Classroom::start("127.0.213.2", &[]);
    let mut s = smtp_session(&room, classroom::SMTP);

    // An EHLO name with a CR, ESC or BEL is refused, neither echoed nor
    // kept: the session still has no EHLO.
    for bad in [
        "EHLO evil\rX-Injected: yes",
        "EHLO a\x1b[31mred\x07",
        "HELO x\x7f",
    ] {
        let verb = &bad[..4];
        assert_eq!(
            ask(&mut s, bad, "5"),
            [format!(
                "501 5.5.2 Syntax: {verb} hostname (control characters are not allowed)\r\n"
            )]
        );
    }
    let mut fresh = Raw::connect(&room, classroom::SMTP);
    assert!(fresh.line().starts_with("220 "));
    assert_eq!(
        ask(&mut fresh, "EHLO evil\x1b]0;x\x07", "5"),
        ["501 5.5.2 Syntax: EHLO hostname (control characters are not allowed)\r\n"]
    );
    assert_eq!(
        ask(&mut fresh, "MAIL FROM:<a@crepes.fr>", "5"),
        ["503 5.5.1 Send HELO/EHLO first\r\n"]
    );

    // RFC 5321 §4.5.1: postmaster at our domain (any case) and
    // "<Postmaster>" alone are accepted, and delivered to the postmaster.
    assert_eq!(
        ask(&mut s, "MAIL FROM:<alice@crepes.fr>", "250 "),
        ["250 2.1.0 Sender OK\r\n"]
    );
    assert_eq!(
        ask(&mut s, "RCPT TO:<Postmaster>", "250 "),
        ["250 2.1.5 Recipient OK\r\n"]
    );
    assert_eq!(ask(&mut s, "DATA", "354 ").len(), 1);
    let reply = ask(
        &mut s,
        "Subject: to the postmaster\r\n\r\nhello\r\n.",
        "250 ",
    );
    assert!(
        reply[0].starts_with("250 2.0.0 Ok: queued as "),
        "{reply:?}"
    );
    ask(&mut s, "MAIL FROM:<alice@crepes.fr>", "250 ");
    assert_eq!(
        ask(&mut s, "RCPT TO:<POSTMASTER@Hamburger.EDU>", "250 "),
        ["250 2.1.5 Recipient OK\r\n"]
    );
    // Still no postmaster elsewhere, nor unknown users here.
    assert_eq!(
        ask(&mut s, "RCPT TO:<nobody@hamburger.edu>", "5"),
        ["550 5.1.1 <nobody@hamburger.edu>: Recipient address rejected: User unknown\r\n"]
    );
    assert_eq!(
        ask(&mut s, "RCPT TO:<postmaster@elsewhere.example>", "5"),
        ["554 5.7.1 <postmaster@elsewhere.example>: Relay access denied\r\n"]
    );
    ask(&mut s, "DATA", "354 ");
    ask(&mut s, "Subject: second\r\n\r\nagain\r\n.", "250 ");
    let postmaster = room.inbox("postmaster");
    assert_eq!(postmaster.len(), 2);
    assert_eq!(
        without_trace_headers(&postmaster[0]),
        b"Subject: to the postmaster\r\n\r\nhello\r\n"
    );
    let first = String::from_utf8_lossy(&postmaster[0]).into_owned();
    assert!(
        first.starts_with("Return-Path: <alice@crepes.fr>\r\nReceived: from lab-pc ("),
        "{first}"
    );
    assert!(first.contains("\tfor <Postmaster>;\r\n"), "{first}");

    // One message to two local recipients: both get it (all or none).
    ask(&mut s, "MAIL FROM:<carol@crepes.fr>", "250 ");
    ask(&mut s, "RCPT TO:<bob@hamburger.edu>", "250 ");
    ask(&mut s, "RCPT TO:<alice@hamburger.edu>", "250 ");
    ask(&mut s, "DATA", "354 ");
    ask(&mut s, "Subject: both\r\n\r\nfor two\r\n.", "250 ");
    assert_eq!(room.inbox("bob"), room.inbox("alice"));
    assert_eq!(
        without_trace_headers(&room.inbox("bob")[0]),
        b"Subject: both\r\n\r\nfor two\r\n"
    );
    assert_eq!(
        std::fs::read_dir(room.store.join("journal"))
            .unwrap()
            .count(),
        0
    );

    // Every reply is ASCII, the over-long line's too (it had a "§").
    ask(&mut s, "MAIL FROM:<carol@crepes.fr>", "250 ");
    ask(&mut s, "RCPT TO:<bob@hamburger.edu>", "250 ");
    ask(&mut s, "DATA", "354 ");
    let long = format!("Subject: long\r\n\r\n{}\r\n.", "x".repeat(1200));
    assert_eq!(
        ask(&mut s, &long, "5"),
        ["554 5.6.0 Message has a line longer than 1000 octets (RFC 5321 section 4.5.3.1.6)\r\n"]
    );

    // By default SMTP does not check the sender: alice, logged in, may
    // send as bob (the lesson on forged senders).
    let mut sub = smtp_session(&room, classroom::SUBMISSION);
    let challenge = ask(&mut sub, "AUTH CRAM-MD5", "334 ");
    let answer = cram_md5("alice", "secret", &challenge[0]);
    assert_eq!(
        ask(&mut sub, &answer, "2"),
        ["235 2.7.0 Authentication successful\r\n"]
    );
    assert_eq!(
        ask(&mut sub, "MAIL FROM:<bob@hamburger.edu>", "250 "),
        ["250 2.1.0 Sender OK\r\n"]
    );

    // POP3 before STLS, passwords in clear refused: CAPA does not offer
    // USER (RFC 2449 §6.3).
    let mut p = Raw::connect(&room, classroom::POP3);
    assert!(p.line().starts_with("+OK"));
    assert_eq!(
        ask(&mut p, "CAPA", "."),
        [
            "+OK Capability list follows\r\n",
            "TOP\r\n",
            "UIDL\r\n",
            "RESP-CODES\r\n",
            "PIPELINING\r\n",
            "AUTH-RESP-CODE\r\n",
            "STLS\r\n",
            "IMPLEMENTATION mailscope\r\n",
            ".\r\n"
        ]
    );
    let status = room.stop();
    assert!(status.success(), "{status:?}");
}

#[test]
fn an_ordinary_tls_disconnect_is_logged_in_plain_words() {
    use std::process::{Command, Stdio};
    let room = Classroom::start("127.0.213.4", &[]);
    // openssl s_client on 465, killed once the greeting came: the TCP
    // connection closes without TLS's close_notify, as many clients do.
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect"])
        .arg(format!("{}:{}", room.ip, classroom::SMTPS))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut greeting = String::new();
    out.read_line(&mut greeting).unwrap();
    assert!(greeting.starts_with("220 "), "{greeting}");
    child.kill().unwrap();
    child.wait().unwrap();
    // The server logs the end of the session when it notices it.
    let mut log = String::new();
    for _ in 0..4800 {
        log = std::fs::read_to_string(&room.stderr_log).unwrap();
        // Wait for the whole line, up to its newline.
        let whole_line = log
            .split_inclusive('\n')
            .any(|l| l.contains("submissions session with") && l.ends_with('\n'));
        if whole_line {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let ended: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("submissions session with"))
        .collect();
    assert_eq!(ended.len(), 1, "{log}");
    assert!(
        ended[0].ends_with(" ended: the client disconnected"),
        "{log}"
    );
    assert!(!log.contains("https://"), "{log}");
    let status = room.stop();
    assert!(status.success(), "{status:?}");
}

#[test]
fn malformed_auth_is_a_syntax_error_and_strict_sender_holds() {
    let room = Classroom::start("127.0.213.3", &["--plaintext-auth", "--strict-sender"]);
    // More malformed responses than the lockout allows failures: none
    // counts, none is slowed, and the right password still works.
    let mut s = smtp_session(&room, classroom::SUBMISSION);
    for bad in ["AUTH PLAIN !!!notbase64", "AUTH PLAIN bm90IHBsYWlu"] {
        for _ in 0..3 {
            assert_eq!(
                ask(&mut s, bad, "5"),
                ["501 5.5.2 Cannot decode the response (RFC 4954 section 4: base64 expected)\r\n"]
            );
        }
    }
    assert_eq!(ask(&mut s, "AUTH LOGIN", "334 "), ["334 VXNlcm5hbWU6\r\n"]);
    assert_eq!(ask(&mut s, "YWxpY2U=", "334 "), ["334 UGFzc3dvcmQ6\r\n"]);
    assert_eq!(
        ask(&mut s, "%%%", "5"),
        ["501 5.5.2 Cannot decode the response (RFC 4954 section 4: base64 expected)\r\n"]
    );
    assert_eq!(
        ask(&mut s, "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "2"),
        ["235 2.7.0 Authentication successful\r\n"]
    );
    // `--strict-sender`: alice sends as alice only.
    assert_eq!(
        ask(&mut s, "MAIL FROM:<bob@hamburger.edu>", "5"),
        ["553 5.7.1 <bob@hamburger.edu>: Sender address rejected: not owned by user alice\r\n"]
    );
    assert_eq!(
        ask(&mut s, "MAIL FROM:<>", "5"),
        ["553 5.7.1 <>: Sender address rejected: not owned by user alice\r\n"]
    );
    assert_eq!(
        ask(&mut s, "MAIL FROM:<Alice@hamburger.edu>", "250 "),
        ["250 2.1.0 Sender OK\r\n"]
    );
    // Port 25 without AUTH: other servers' senders are not ours to check.
    let mut relay = smtp_session(&room, classroom::SMTP);
    assert_eq!(
        ask(&mut relay, "MAIL FROM:<bob@hamburger.edu>", "250 "),
        ["250 2.1.0 Sender OK\r\n"]
    );

    // POP3: -ERR, not counted; CAPA offers USER here (passwords in clear
    // are accepted).
    let mut p = Raw::connect(&room, classroom::POP3);
    assert!(p.line().starts_with("+OK"));
    assert!(ask(&mut p, "CAPA", ".").contains(&"USER\r\n".to_string()));
    for _ in 0..6 {
        assert_eq!(
            ask(&mut p, "AUTH PLAIN !!!", "-"),
            ["-ERR malformed PLAIN response\r\n"]
        );
    }
    let ok = ask(&mut p, "AUTH PLAIN AGJvYgBodW5ncnk=", "+");
    assert!(ok[0].starts_with("+OK bob's maildrop has "), "{ok:?}");

    // IMAP: BAD, not counted.
    let mut i = Raw::connect(&room, classroom::IMAP);
    assert!(i.line().starts_with("* OK"));
    for n in 0..6 {
        assert_eq!(
            ask(
                &mut i,
                &format!("a{n} AUTHENTICATE PLAIN !!!"),
                &format!("a{n} ")
            ),
            [format!("a{n} BAD malformed PLAIN response\r\n")]
        );
    }
    let ok = ask(&mut i, "b AUTHENTICATE PLAIN AGJvYgBodW5ncnk=", "b ");
    assert_eq!(ok.last().unwrap(), "b OK AUTHENTICATE completed\r\n");
    let status = room.stop();
    assert!(status.success(), "{status:?}");
}
