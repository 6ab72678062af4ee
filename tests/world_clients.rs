//! Real mail clients against `mailscope serve`: Python's smtplib, poplib
//! and imaplib, curl, swaks and `openssl s_client`. Each test delivers or
//! retrieves a known message and checks its bytes.
//!
//! Every test runs its own server on its own loopback address (127.0.77.N)
//! with the offset ports, so the tests can run at the same time.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::classroom::{self, Classroom, without_trace_headers};

/// The message the clients send (CRLF line ends, one line starting with a
/// dot to exercise transparency, a non-ASCII subject in RFC 2047 form).
const MESSAGE: &str = "From: Alice <alice@crepes.fr>\r\nTo: Bob <bob@hamburger.edu>\r\nSubject: =?UTF-8?Q?Pr=C3=A1ctica_de_correo?=\r\nMessage-ID: <lab-1@crepes.fr>\r\n\r\nHola Bob,\r\n.una linea con punto\r\nAlice\r\n";

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn port(p: u16) -> String {
    p.to_string()
}

const SEND: &str = r#"
import smtplib, ssl, sys
ip, port, mode, mech, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
msg = sys.stdin.buffer.read()
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # the certificate names hamburger.edu, we dial an IP
if mode == "ssl":
    s = smtplib.SMTP_SSL(ip, port, context=ctx)
else:
    s = smtplib.SMTP(ip, port)
s.ehlo("lab-pc")
if mode == "starttls":
    s.starttls(context=ctx)
    s.ehlo("lab-pc")
if mech != "none":
    s.user, s.password = "alice", "secret"
    if mech == "PLAIN":
        code, text = s.auth("PLAIN", s.auth_plain)
    elif mech == "LOGIN":
        code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
    else:
        code, text = s.auth("CRAM-MD5", s.auth_cram_md5)
    print("auth", code)
refused = s.sendmail("alice@crepes.fr", ["bob@hamburger.edu"], msg)
print("refused", refused)
print("quit", s.quit()[0])
"#;

fn send_with_smtplib(room: &Classroom, port: u16, mode: &str, mech: &str) -> String {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(SEND)
        .args([
            &room.ip,
            &port.to_string(),
            mode,
            mech,
            room.ca.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(MESSAGE.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "smtplib failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn smtplib_plain_starttls_auth_and_implicit_tls_deliver_the_exact_bytes() {
    let room = Classroom::start("127.0.77.1", &[]);
    // Port 25, no AUTH: mail for a local user is accepted from anyone.
    let out = send_with_smtplib(&room, classroom::SMTP, "plain", "none");
    assert_eq!(out, "refused {}\nquit 221\n");
    // Submission with STARTTLS and each SASL mechanism.
    for mech in ["PLAIN", "LOGIN", "CRAM-MD5"] {
        let out = send_with_smtplib(&room, classroom::SUBMISSION, "starttls", mech);
        assert_eq!(out, "auth 235\nrefused {}\nquit 221\n", "{mech}");
    }
    // Submissions: TLS from the first byte.
    let out = send_with_smtplib(&room, classroom::SMTPS, "ssl", "PLAIN");
    assert_eq!(out, "auth 235\nrefused {}\nquit 221\n");

    let inbox = room.wait_inbox("bob", 5);
    assert_eq!(inbox.len(), 5);
    for m in &inbox {
        assert_eq!(String::from_utf8_lossy(&without_trace_headers(m)), MESSAGE);
    }
    // The Received header names the protocol (RFC 3848): ESMTP in clear,
    // ESMTPSA with TLS and AUTH.
    let first = String::from_utf8_lossy(&inbox[0]).into_owned();
    assert!(
        first.starts_with("Return-Path: <alice@crepes.fr>\r\nReceived: from lab-pc ([127.0.0.1])")
            || first.contains("with ESMTP id"),
        "{first}"
    );
    assert!(first.contains(" with ESMTP id "), "{first}");
    let second = String::from_utf8_lossy(&inbox[1]).into_owned();
    assert!(second.contains(" with ESMTPSA id "), "{second}");
    assert!(room.stop().success());
}

#[test]
fn smtplib_sees_the_servers_refusals() {
    let room = Classroom::start("127.0.77.2", &["--max-message", "2000"]);
    let script = r#"
import smtplib, sys
ip, port = sys.argv[1], int(sys.argv[2])
s = smtplib.SMTP(ip, port)
s.ehlo("lab-pc")
print("size", s.esmtp_features.get("size"))
print("unknown", s.mail("alice@crepes.fr")[0], s.rcpt("nobody@hamburger.edu")[0])
s.rset()
print("relay", s.mail("spammer@example.com")[0], s.rcpt("victim@example.net")[0])
s.rset()
s.mail("alice@crepes.fr"); s.rcpt("bob@hamburger.edu")
print("big", s.data(b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 0 + (b"y" * 60 + b"\r\n") * 40)[0])
print("plain-auth", s.docmd("AUTH", "PLAIN AGFsaWNlAHNlY3JldA==")[0])
print("vrfy", s.verify("bob")[0])
print("help", s.help().split(b"\n")[0].decode())
s.quit()
s = smtplib.SMTP(ip, port + 562)  # submission
s.ehlo("lab-pc")
print("submission-no-auth", s.mail("alice@crepes.fr")[0])
s.quit()
"#;
    let out = python(script, &[&room.ip, &port(classroom::SMTP)]);
    assert_eq!(
        out,
        "size 2000\nunknown 250 550\nrelay 250 554\nbig 552\nplain-auth 538\nvrfy 252\nhelp 2.0.0 Commands supported:\nsubmission-no-auth 530\n"
    );
    assert!(room.inbox("bob").is_empty());
}

const POP: &str = r#"
import poplib, ssl, sys
ip, port, mode, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
if mode == "ssl":
    p = poplib.POP3_SSL(ip, port, context=ctx)
else:
    p = poplib.POP3(ip, port)
    if mode == "stls":
        print("stls", p.stls(context=ctx)[:3].decode())
print("capa", sorted(p.capa().keys()))
p.user("bob"); print("pass", p.pass_("hungry")[:3].decode())
print("stat", p.stat())
print("list", p.list()[1])
print("uidl", p.uidl()[1])
top = p.top(1, 1)[1]
print("top", len(top))
resp, lines, octets = p.retr(1)
sys.stdout.buffer.write(b"retr " + b"\r\n".join(lines) + b"\r\n")
print("octets", octets)
print("dele", p.dele(1)[:3].decode())
print("rset", p.rset()[:3].decode())
print("dele", p.dele(1)[:3].decode())
print("quit", p.quit()[:3].decode())
"#;

#[test]
fn poplib_reads_and_deletes_over_stls_and_implicit_tls() {
    let room = Classroom::start("127.0.77.3", &[]);
    send_with_smtplib(&room, classroom::SMTP, "plain", "none");
    send_with_smtplib(&room, classroom::SMTP, "plain", "none");
    let stored = room.wait_inbox("bob", 2);
    let size = stored[0].len();

    let out = python(
        POP,
        &[
            &room.ip,
            &port(classroom::POP3),
            "stls",
            room.ca.to_str().unwrap(),
        ],
    );
    // UIDL (RFC 1939 §7): UIDVALIDITY.UID.digest, never reused.
    let state = std::fs::read(room.store.join("mail/bob/INBOX/state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_slice(&state).unwrap();
    let uidvalidity = state["uidvalidity"].as_u64().unwrap();
    let uidl = |uid: usize, bytes: &[u8]| {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(bytes);
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("{uid} {uidvalidity}.{uid}.{hex}")
    };
    let expected_head = format!(
        "stls +OK\ncapa ['AUTH-RESP-CODE', 'IMPLEMENTATION', 'PIPELINING', 'RESP-CODES', 'SASL', 'TOP', 'UIDL', 'USER']\npass +OK\nstat (2, {})\nlist [b'1 {size}', b'2 {}']\nuidl [b'{}', b'{}']\n",
        size + stored[1].len(),
        stored[1].len(),
        uidl(1, &stored[0]),
        uidl(2, &stored[1]),
    );
    assert!(out.starts_with(&expected_head), "{out}");
    let retr = format!("retr {}", String::from_utf8_lossy(&stored[0]));
    assert!(out.contains(&retr), "{out}");
    assert!(
        out.ends_with(&format!(
            "octets {size}\ndele +OK\nrset +OK\ndele +OK\nquit +OK\n"
        )),
        "{out}"
    );
    // Deleted at QUIT: one message left, UID 2.
    let left = room.inbox("bob");
    assert_eq!(left, vec![stored[1].clone()]);

    let out = python(
        POP,
        &[
            &room.ip,
            &port(classroom::POP3S),
            "ssl",
            room.ca.to_str().unwrap(),
        ],
    );
    assert!(out.contains("stat (1, "), "{out}");
    assert!(room.inbox("bob").is_empty());
}

#[test]
fn pop3_refuses_passwords_in_clear_unless_the_lesson_allows_them() {
    let room = Classroom::start("127.0.77.4", &[]);
    let script = r#"
import poplib, sys
p = poplib.POP3(sys.argv[1], int(sys.argv[2]))
try:
    p.user("bob")
except poplib.error_proto as e:
    print(e.args[0].decode())
p.quit()
"#;
    let out = python(script, &[&room.ip, &port(classroom::POP3)]);
    assert_eq!(out, "-ERR [SYS/PERM] USER/PASS need TLS first (STLS)\n");
    drop(room);
    let room = Classroom::start("127.0.77.5", &["--plaintext-auth"]);
    let script = r#"
import poplib, sys
p = poplib.POP3(sys.argv[1], int(sys.argv[2]))
p.user("bob"); print(p.pass_("hungry").decode()); print(p.stat()); p.quit()
"#;
    let out = python(script, &[&room.ip, &port(classroom::POP3)]);
    assert_eq!(
        out,
        "+OK bob's maildrop has 0 messages (0 octets)\n(0, 0)\n"
    );
}

const IMAP: &str = r#"
import imaplib, ssl, sys
ip, port, mode, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
if mode == "ssl":
    m = imaplib.IMAP4_SSL(ip, port, ssl_context=ctx)
else:
    m = imaplib.IMAP4(ip, port)
    print("starttls", m.starttls(ssl_context=ctx)[0])
print("login", m.login("bob", "hungry")[0])
print("list", m.list()[1])
print("select", m.select("INBOX"))
if mode == "ssl":  # the second visit: one message left, UID 2
    print("uid", m.uid("FETCH", "2", "(FLAGS)")[1])
    print("logout", m.logout()[0])
    sys.exit(0)
print("search", m.search(None, "UNSEEN"))
print("subject", m.search(None, '(SUBJECT "correo")'))
typ, data = m.fetch("1", "(BODY.PEEK[])")
sys.stdout.buffer.write(b"fetch " + data[0][1])
print("uid", m.uid("FETCH", "1", "(FLAGS)")[1])
print("store", m.store("1", "+FLAGS", "\\Deleted")[1])
print("expunge", m.expunge()[1])
print("create", m.create("Archivo")[0])
print("copy", m.copy("1", "Archivo")[0])
print("status", m.status("Archivo", "(MESSAGES)")[1])
print("logout", m.logout()[0])
"#;

#[test]
fn imaplib_reads_flags_and_expunges_over_starttls_and_implicit_tls() {
    let room = Classroom::start("127.0.77.6", &[]);
    send_with_smtplib(&room, classroom::SMTP, "plain", "none");
    send_with_smtplib(&room, classroom::SMTP, "plain", "none");
    let stored = room.wait_inbox("bob", 2);

    let out = python(
        IMAP,
        &[
            &room.ip,
            &port(classroom::IMAP),
            "starttls",
            room.ca.to_str().unwrap(),
        ],
    );
    assert!(out.starts_with("starttls OK\nlogin OK\nlist [b'(\\\\HasNoChildren) \"/\" \"INBOX\"']\nselect ('OK', [b'2'])\nsearch ('OK', [b'1 2'])\nsubject ('OK', [b'1 2'])\n"), "{out}");
    let fetched = format!("fetch {}", String::from_utf8_lossy(&stored[0]));
    assert!(out.contains(&fetched), "{out}");
    assert!(
        out.contains(
            "expunge [b'1']\ncreate OK\ncopy OK\nstatus [b'\"Archivo\" (MESSAGES 1)']\nlogout BYE\n"
        ),
        "{out}"
    );
    assert_eq!(room.inbox("bob"), vec![stored[1].clone()]);

    let out = python(
        IMAP,
        &[
            &room.ip,
            &port(classroom::IMAPS),
            "ssl",
            room.ca.to_str().unwrap(),
        ],
    );
    assert!(out.contains("login OK\n"), "{out}");
    assert!(
        out.contains("select ('OK', [b'1'])\nuid [b'1 (UID 2 FLAGS ())']\nlogout BYE\n"),
        "{out}"
    );
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_sends_and_reads_over_smtp_pop3_and_imap_with_and_without_tls() {
    let room = Classroom::start("127.0.77.7", &[]);
    let dir = common::temp_dir("curl-msg");
    let file = dir.join("message.eml");
    std::fs::write(&file, MESSAGE).unwrap();
    let resolve = |p: u16| format!("hamburger.edu:{p}:{}", room.ip);
    let ca = room.ca.to_str().unwrap();
    // Plain SMTP on the relay port.
    curl(&[
        &format!("smtp://{}:{}", room.ip, classroom::SMTP),
        "--mail-from",
        "alice@crepes.fr",
        "--mail-rcpt",
        "bob@hamburger.edu",
        "--upload-file",
        file.to_str().unwrap(),
    ]);
    // Submission with STARTTLS required, certificate checked by name.
    curl(&[
        "--resolve",
        &resolve(classroom::SUBMISSION),
        "--cacert",
        ca,
        "--ssl-reqd",
        &format!("smtp://hamburger.edu:{}", classroom::SUBMISSION),
        "--user",
        "alice:secret",
        "--mail-from",
        "alice@crepes.fr",
        "--mail-rcpt",
        "bob@hamburger.edu",
        "--upload-file",
        file.to_str().unwrap(),
    ]);
    let stored = room.wait_inbox("bob", 2);
    assert_eq!(stored.len(), 2);
    for m in &stored {
        assert_eq!(String::from_utf8_lossy(&without_trace_headers(m)), MESSAGE);
    }
    // POP3 with STLS required: curl prints message 1.
    let got = curl(&[
        "--resolve",
        &resolve(classroom::POP3),
        "--cacert",
        ca,
        "--ssl-reqd",
        &format!("pop3://hamburger.edu:{}/1", classroom::POP3),
        "--user",
        "bob:hungry",
    ]);
    assert_eq!(got.as_bytes(), stored[0].as_slice());
    // POP3S and IMAPS: implicit TLS.
    let got = curl(&[
        "--resolve",
        &resolve(classroom::POP3S),
        "--cacert",
        ca,
        &format!("pop3s://hamburger.edu:{}/2", classroom::POP3S),
        "--user",
        "bob:hungry",
    ]);
    assert_eq!(got.as_bytes(), stored[1].as_slice());
    let got = curl(&[
        "--resolve",
        &resolve(classroom::IMAP),
        "--cacert",
        ca,
        "--ssl-reqd",
        &format!("imap://hamburger.edu:{}/INBOX;UID=1", classroom::IMAP),
        "--user",
        "bob:hungry",
    ]);
    assert_eq!(got.as_bytes(), stored[0].as_slice());
    let got = curl(&[
        "--resolve",
        &resolve(classroom::IMAPS),
        "--cacert",
        ca,
        &format!("imaps://hamburger.edu:{}/INBOX;UID=2", classroom::IMAPS),
        "--user",
        "bob:hungry",
    ]);
    assert_eq!(got.as_bytes(), stored[1].as_slice());
}

#[test]
fn swaks_submits_with_starttls_and_auth() {
    let room = Classroom::start("127.0.77.8", &[]);
    let out = Command::new("swaks")
        .args([
            "--server",
            &room.ip,
            "--port",
            &port(classroom::SUBMISSION),
            "--from",
            "alice@crepes.fr",
            "--to",
            "bob@hamburger.edu",
            "--ehlo",
            "lab-pc",
            "--tls",
            "--auth",
            "PLAIN",
            "--auth-user",
            "alice",
            "--auth-password",
            "secret",
            "--header",
            "Subject: swaks lab",
            "--body",
            "Sent by swaks.",
        ])
        .output()
        .expect("swaks runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("<-  220 2.0.0 Ready to start TLS"), "{text}");
    assert!(
        text.contains("<~  235 2.7.0 Authentication successful"),
        "{text}"
    );
    let stored = room.wait_inbox("bob", 1);
    assert_eq!(stored.len(), 1);
    let m = String::from_utf8_lossy(&stored[0]);
    assert!(m.contains("Subject: swaks lab\r\n"), "{m}");
    assert!(m.contains("\r\n\r\nSent by swaks.\r\n"), "{m}");
    assert!(m.contains(" with ESMTPSA id "), "{m}");
}

/// Drive `openssl s_client -starttls PROTO` with a script on stdin, as a
/// student would type it, checking the certificate, and return what the
/// server said.
fn s_client(room: &Classroom, proto: &str, p: u16, script: &str) -> String {
    let verify = ["-verify_return_error", "-verify_hostname", "hamburger.edu"];
    let mut extra = vec!["-starttls", proto];
    extra.extend(verify);
    classroom::s_client(room, p, &extra, script)
}

#[test]
fn openssl_s_client_starttls_sessions_typed_by_hand() {
    let room = Classroom::start("127.0.77.9", &[]);
    // AUTH PLAIN of alice/secret in base64, as in the course.
    let smtp = "EHLO lab-pc\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nMAIL FROM:<alice@crepes.fr>\nRCPT TO:<bob@hamburger.edu>\nDATA\nSubject: typed by hand\n\nHello Bob\n..a dot\n.\nQUIT";
    let out = s_client(&room, "smtp", classroom::SUBMISSION, smtp);
    assert!(
        out.contains("235 2.7.0 Authentication successful\r\n"),
        "{out}"
    );
    assert!(
        out.contains("354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as "),
        "{out}"
    );
    assert!(
        out.ends_with("221 2.0.0 hamburger.edu closing connection\r\n"),
        "{out}"
    );
    let stored = room.wait_inbox("bob", 1);
    assert_eq!(stored.len(), 1);
    assert!(stored[0].ends_with(b"Subject: typed by hand\r\n\r\nHello Bob\r\n.a dot\r\n"));

    let pop = "USER bob\nPASS hungry\nSTAT\nTOP 1 0\nRETR 1\nQUIT";
    let out = s_client(&room, "pop3", classroom::POP3, pop);
    let size = stored[0].len();
    assert!(out.contains(&format!("+OK 1 {size}\r\n")), "{out}");
    assert!(out.contains(&format!("+OK {size} octets\r\n")), "{out}");
    assert!(
        out.contains("\r\n..a dot\r\n.\r\n"),
        "byte-stuffed on the way out: {out}"
    );

    let imap = "a1 LOGIN bob hungry\na2 SELECT INBOX\na3 FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])\na4 LOGOUT";
    let out = s_client(&room, "imap", classroom::IMAP, imap);
    assert!(out.contains("a1 OK"), "{out}");
    assert!(out.contains("* 1 EXISTS\r\n"), "{out}");
    assert!(out.contains("Subject: typed by hand\r\n"), "{out}");
    assert!(out.contains("a4 OK"), "{out}");
}

#[test]
fn open_relay_is_a_switch_for_the_spam_lesson() {
    let room = Classroom::start("127.0.77.10", &["--open-relay"]);
    let script = r#"
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]))
s.ehlo("spammer")
print(s.sendmail("spammer@example.com", ["victim@example.net"], b"Subject: buy now\r\n\r\nspam\r\n"))
s.quit()
"#;
    // Accepted from anyone, for anywhere: that is what makes a relay open.
    assert_eq!(python(script, &[&room.ip, &port(classroom::SMTP)]), "{}\n");
    // The classroom has no Internet: the lookup of example.net fails with
    // NXDOMAIN, so the message leaves the queue (a bounce to a foreign
    // sender is queued with the null sender and never bounces again).
    let queue = room.store.join("queue");
    let mut empty = false;
    for _ in 0..100 {
        let eml = std::fs::read_dir(&queue)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
                })
                .count()
            })
            .unwrap_or(0);
        if eml == 0 {
            empty = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(empty, "the queue did not drain");
    assert!(room.inbox("bob").is_empty());
}
