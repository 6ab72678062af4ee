//! Properties every dialogue parser must have, checked with random
//! segmentations and random bytes (a cheap, always-on fuzzer):
//! * however TCP cut a session into segments, the parser finds the same
//!   transcript, messages, credentials, findings and transactions;
//! * arbitrary bytes in both directions never make it panic.

use proptest::prelude::*;

use super::imap::ImapParser;
use super::pop3::Pop3Parser;
use super::smtp::SmtpParser;
use super::testing::{cut, outcome, whole};
use super::{MailParser, Protocol};
use crate::flow::Direction;

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

/// Pipelining, AUTH, dot-stuffing, a bare LF and BDAT in one session.
const SMTP: &[(Direction, &[u8])] = &[
        (S, b"220 mx ESMTP\r\n"),
        (C, b"EHLO a.example\r\n"),
        (S, b"250-mx\r\n250-CHUNKING\r\n250 AUTH PLAIN\r\n"),
        (C, b"AUTH PLAIN AGEAYg==\r\n"),
        (S, b"235 ok\r\n"),
        (C, b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"),
        (S, b"250 ok\r\n250 ok\r\n354 go\r\n"),
        (C, b"Subject: s\r\n\r\n..x\r\nbody\n.\r\n"),
        (S, b"250 ok\r\n"),
        (C, b"MAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.org>\r\nBDAT 7\r\nab\r\n.\r\nBDAT 0 LAST\r\n"),
        (S, b"250 ok\r\n250 ok\r\n250 7\r\n250 done\r\n"),
        (C, b"QUIT\r\n"),
        (S, b"221 bye\r\n"),
    ];

/// CAPA, USER/PASS pipelined, LIST, a dot-stuffed RETR, SASL.
const POP3: &[(Direction, &[u8])] = &[
    (S, b"+OK ready <1.2@x>\r\n"),
    (C, b"CAPA\r\n"),
    (S, b"+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
    (C, b"USER bob\r\nPASS hungry\r\n"),
    (S, b"+OK\r\n+OK\r\n"),
    (C, b"LIST\r\nRETR 1\r\nDELE 1\r\n"),
    (
        S,
        b"+OK\r\n1 20\r\n.\r\n+OK\r\nSubject: a\r\n\r\n..b\r\n.\r\n+OK\r\n",
    ),
    (C, b"AUTH PLAIN\r\n"),
    (S, b"+ \r\n"),
    (C, b"AGJvYgBodW5ncnk=\r\n"),
    (S, b"-ERR\r\n"),
    (C, b"QUIT\r\n"),
    (S, b"+OK\r\n"),
];

/// LOGIN with a literal, FETCH with a literal and UID, APPEND with LITERAL+.
const IMAP: &[(Direction, &[u8])] = &[
    (S, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
    (C, b"a1 LOGIN {3}\r\n"),
    (S, b"+ ok\r\n"),
    (C, b"bob \"pw\"\r\n"),
    (S, b"a1 OK\r\n"),
    (C, b"a2 FETCH 1 (UID BODY[])\r\n"),
    (
        S,
        b"* 1 FETCH (UID 7 BODY[] {14}\r\nSubject: x\r\n\r\n)\r\na2 OK\r\n",
    ),
    (C, b"a3 APPEND INBOX {5+}\r\nhello\r\n"),
    (S, b"a3 OK\r\n* 1 EXPUNGE\r\n"),
];

type NewParser = fn() -> Box<dyn MailParser>;
type Session = &'static [(Direction, &'static [u8])];

const PARSERS: [(NewParser, Protocol, Session); 3] = [
    (|| Box::new(SmtpParser::new()), Protocol::Smtp, SMTP),
    (|| Box::new(Pop3Parser::new()), Protocol::Pop3, POP3),
    (|| Box::new(ImapParser::new()), Protocol::Imap, IMAP),
];

/// Words of the three protocols, for random dialogues that get past the
/// first checks of the parsers (random bytes alone rarely spell a verb).
const VOCABULARY: &[&str] = &[
    "MAIL FROM:",
    "RCPT TO:",
    "DATA\r\n",
    "BDAT ",
    " LAST",
    "\r\n",
    "\n",
    ".",
    "..",
    "{",
    "}",
    "{4294967295}",
    "+",
    "+ ",
    "* 1 FETCH (BODY[] ",
    "UID ",
    "a1 ",
    "LOGIN ",
    "AUTHENTICATE ",
    "PLAIN",
    "LOGIN",
    "AUTH ",
    "+OK",
    "-ERR",
    "RETR 1",
    "TOP 1 0",
    "DELE 1",
    "QUIT",
    "250 ",
    "250-",
    "354 ",
    "220 ",
    "334 ",
    "235 ",
    "STARTTLS\r\n",
    "STLS\r\n",
    "\u{fffd}",
    "é",
    "<a@b>",
    "\"",
    "\\",
    "0",
    "7",
    "99999999999999999999",
    "\x16\x03\x01\x00\x05",
    "APPEND x ",
    "IDLE",
    "DONE",
    "EXPUNGE",
    "* 1 EXPUNGE",
    "Subject: =?utf-8?q?=C3=A9?=",
    "Content-Type: multipart/mixed; boundary=b",
    "--b",
    "\x00",
];

/// Every parser reads `pieces` (from the client where the flag is set)
/// without panicking; what it finds does not matter.
fn survives(pieces: Vec<(bool, Vec<u8>)>) {
    let script: Vec<(Direction, Vec<u8>)> = pieces
        .into_iter()
        .map(|(c, b)| (if c { C } else { S }, b))
        .collect();
    for (new, protocol, _) in PARSERS {
        let _ = outcome(new().as_mut(), protocol, &script);
    }
}

fn dialogue_piece() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            proptest::sample::select(VOCABULARY).prop_map(|w| w.as_bytes().to_vec()),
            proptest::collection::vec(any::<u8>(), 0..6),
        ],
        0..30,
    )
    .prop_map(|words| words.concat())
}

proptest! {
    /// Random dialogues made of protocol words never make a parser panic.
    #[test]
    fn word_salad_is_survived(pieces in proptest::collection::vec(
        (any::<bool>(), dialogue_piece()), 0..30)) {
        survives(pieces);
    }

    #[test]
    fn segmentation_does_not_matter(cuts in proptest::collection::vec(1usize..12, 60)) {
        for (new, protocol, session) in PARSERS {
            let a = outcome(new().as_mut(), protocol, &whole(session));
            let b = outcome(new().as_mut(), protocol, &cut(session, &cuts));
            prop_assert_eq!(a, b, "{:?}", protocol);
        }
    }

    #[test]
    fn garbage_is_survived(pieces in proptest::collection::vec(
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..200)), 0..40)) {
        survives(pieces);
    }
}
