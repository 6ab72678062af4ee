//! POP3 UIDL across a restart of an in-memory store (issue 21, point 5):
//! RFC 1939 §7 says a unique-id is never given to another message. Each
//! `mailscope serve --memory` run starts again at UID 1, so the bare UID
//! would name a different message on each run and fetchmail in keep mode
//! would skip the new one as "seen"; the UIDL must differ.

mod common;

use common::classroom::{self, serve_in_memory};
use common::raw::{Raw, deliver};

/// bob's one message as POP3 sees it: its UIDL and its bytes; and the
/// INBOX's UIDVALIDITY as IMAP reports it.
fn read_back(ip: &str) -> (String, Vec<u8>, u64) {
    let mut p = Raw::connect(ip, classroom::POP3);
    assert!(p.line().starts_with("+OK"));
    p.ask("USER bob", "+OK");
    assert!(p.ask("PASS hungry", "")[0].starts_with("+OK bob's maildrop has 1 message"));
    let uidl = p.ask("UIDL", ".");
    assert_eq!(uidl.len(), 3, "{uidl:?}");
    let id = uidl[1].trim_end().strip_prefix("1 ").unwrap().to_string();
    let retr = p.ask("RETR 1", ".\r\n");
    let bytes: Vec<u8> = retr[1..retr.len() - 1].concat().into_bytes();
    let mut i = Raw::connect(ip, classroom::IMAP);
    i.line();
    i.ask("l LOGIN bob hungry", "l ");
    let status = i.ask("s STATUS INBOX (UIDVALIDITY)", "s ");
    let uv = status[0]
        .trim_end()
        .strip_prefix("* STATUS \"INBOX\" (UIDVALIDITY ")
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{status:?}"))
        .parse()
        .unwrap();
    (id, bytes, uv)
}

#[test]
fn uidls_of_different_messages_differ_across_a_restart() {
    let ip = "127.0.121.7";
    let mut ids = Vec::new();
    for subject in ["first run", "second run"] {
        let mut server = serve_in_memory(ip, &[]).0;
        deliver(ip, subject);
        let (id, bytes, uidvalidity) = read_back(ip);
        assert!(
            String::from_utf8_lossy(&bytes)
                .ends_with(&format!("Subject: {subject}\r\n\r\nhello\r\n")),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        // UIDVALIDITY.UID.the first 8 bytes of the SHA-256 of the message.
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&bytes);
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(id, format!("{uidvalidity}.1.{hex}"));
        ids.push(id);
        server.kill().unwrap();
        server.wait().unwrap();
    }
    assert_ne!(ids[0], ids[1], "a new message got an old UIDL");
}
