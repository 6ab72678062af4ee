//! IMAP `\Recent` (RFC 3501 §2.3.2) on a running `mailscope serve`
//! (issue 21, point 9): the course's transcript, where a message
//! delivered over SMTP makes `1 select INBOX` answer `* 1 EXISTS` and
//! `* 1 RECENT`, and only the first session to see a message is told it
//! is recent — also after a restart of the same `--store`.

mod common;

use common::classroom::{self, Classroom};
use common::raw::{Raw, deliver};

/// Log in as bob on IMAP and SELECT the INBOX; returns the session and
/// the SELECT's reply lines with the UIDVALIDITY number replaced by "N".
fn select_inbox(ip: &str) -> (Raw, Vec<String>) {
    let mut i = Raw::connect(ip, classroom::IMAP);
    assert!(i.line().starts_with("* OK"));
    let login = i.ask("a LOGIN bob hungry", "a ");
    assert!(login.last().unwrap().starts_with("a OK"), "{login:?}");
    let lines = i
        .ask("1 select INBOX", "1 ")
        .into_iter()
        .map(|l| match l.strip_prefix("* OK [UIDVALIDITY ") {
            Some(rest) => {
                let end = rest.find(']').unwrap();
                assert!(rest[..end].parse::<u32>().is_ok(), "{l}");
                format!("* OK [UIDVALIDITY N]{}", &rest[end + 1..])
            }
            None => l,
        })
        .collect();
    (i, lines)
}

fn select_reply(exists: usize, recent: usize, unseen: usize, uidnext: u32) -> Vec<String> {
    [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n".to_string(),
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted\r\n".to_string(),
        format!("* {exists} EXISTS\r\n"),
        format!("* {recent} RECENT\r\n"),
        format!("* OK [UNSEEN {unseen}] First unseen message\r\n"),
        "* OK [UIDVALIDITY N] UIDs valid\r\n".to_string(),
        format!("* OK [UIDNEXT {uidnext}] Predicted next UID\r\n"),
        "1 OK [READ-WRITE] SELECT completed\r\n".to_string(),
    ]
    .to_vec()
}

#[test]
fn the_first_session_to_select_gets_recent_also_across_a_restart() {
    let ip = "127.0.122.1";
    let room = Classroom::start(ip, &["--plaintext-auth"]);
    deliver(ip, "course");
    // The course's transcript.
    let (mut first, lines) = select_inbox(ip);
    assert_eq!(lines, select_reply(1, 1, 1, 2));
    assert_eq!(
        first.ask("2 fetch 1 flags", "2 "),
        [
            "* 1 FETCH (FLAGS (\\Recent))\r\n",
            "2 OK FETCH completed\r\n"
        ]
    );
    // A second session sees the message, but not as recent.
    let (mut second, lines) = select_inbox(ip);
    assert_eq!(lines, select_reply(1, 0, 1, 2));
    assert_eq!(
        second.ask("2 fetch 1 flags", "2 "),
        ["* 1 FETCH (FLAGS ())\r\n", "2 OK FETCH completed\r\n"]
    );
    // Mail arriving while both have the INBOX selected goes to the one
    // that looks first (here the second, with NOOP).
    deliver(ip, "during");
    assert_eq!(
        second.ask("3 noop", "3 "),
        [
            "* 2 EXISTS\r\n",
            "* 1 RECENT\r\n",
            "3 OK NOOP completed\r\n"
        ]
    );
    assert_eq!(
        first.ask("3 noop", "3 "),
        [
            "* 2 EXISTS\r\n",
            "* 1 RECENT\r\n",
            "3 OK NOOP completed\r\n"
        ]
    );
    assert_eq!(
        first.ask("4 search recent", "4 "),
        ["* SEARCH 1\r\n", "4 OK SEARCH completed\r\n"]
    );
    assert_eq!(
        second.ask("4 search recent", "4 "),
        ["* SEARCH 2\r\n", "4 OK SEARCH completed\r\n"]
    );
    drop((first, second));

    // The claim is kept in the store: after a restart nothing is recent
    // again, and new mail is.
    let store = room.store.clone();
    assert!(room.stop().success());
    let room = Classroom::start_with_store(ip, store, &["--plaintext-auth"]);
    let (_, lines) = select_inbox(ip);
    assert_eq!(lines, select_reply(2, 0, 1, 3));
    deliver(ip, "after restart");

    // Python's imaplib, as a student's script would read it.
    let script = r#"
import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.login("bob", "hungry")
print("status", m.status("INBOX", "(MESSAGES RECENT)")[1][0].decode())
typ, data = m.select("INBOX")
print("select", typ, data[0].decode(), m.response("RECENT")[1][0].decode())
print("new", m.search(None, "NEW")[1][0].decode())
print("flags", m.fetch("3", "(FLAGS)")[1][0].decode())
m.logout()
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.login("bob", "hungry")
m.select("INBOX")
print("again", m.response("RECENT")[1][0].decode())
m.logout()
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, ip, &classroom::IMAP.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "status \"INBOX\" (MESSAGES 3 RECENT 1)\n\
         select OK 3 1\n\
         new 3\n\
         flags 3 (FLAGS (\\Recent))\n\
         again 0\n"
    );
    assert!(room.stop().success());
}
