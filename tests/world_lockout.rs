//! Password guessing against `mailscope serve` (issue 21, point 3), over
//! raw sockets: a guesser who knows one password (alice's) and logs in
//! with it between guesses at bob's is still locked out, on every service
//! of the host, and then even the right password is refused.

mod common;

use common::classroom::{self, Classroom};
use common::raw::Raw;

const FAILED: &str = "NO [AUTHENTICATIONFAILED] invalid user name or password\r\n";

#[test]
fn a_success_as_alice_does_not_clear_the_guesses_at_bob() {
    let room = Classroom::start("127.0.121.4", &["--plaintext-auth"]);
    // Round 1: four wrong passwords for bob, then alice's right one.
    let mut i = Raw::connect(&room.ip, classroom::IMAP);
    assert!(i.line().starts_with("* OK"));
    for n in 1..=4 {
        let tag = format!("a{n}");
        assert_eq!(
            i.ask(&format!("{tag} LOGIN bob wrong{n}"), &tag),
            [format!("{tag} {FAILED}")]
        );
    }
    assert_eq!(
        i.ask("a5 LOGIN alice secret", "a5"),
        ["a5 OK LOGIN completed\r\n"]
    );
    // Round 2: the fifth guess is answered, and then the address is
    // locked: alice's right password too, and bob's.
    let mut i = Raw::connect(&room.ip, classroom::IMAP);
    assert!(i.line().starts_with("* OK"));
    assert_eq!(i.ask("b1 LOGIN bob wrong5", "b1"), [format!("b1 {FAILED}")]);
    for (tag, login) in [("b2", "alice secret"), ("b3", "bob hungry")] {
        assert_eq!(
            i.ask(&format!("{tag} LOGIN {login}"), tag),
            [format!(
                "{tag} NO [UNAVAILABLE] too many failures, try later\r\n"
            )]
        );
    }
    // The other services of the host agree.
    let mut p = Raw::connect(&room.ip, classroom::POP3);
    assert!(p.line().starts_with("+OK"));
    assert_eq!(
        p.ask("USER alice", "-ERR"),
        ["-ERR [AUTH] too many failures, try again later\r\n"]
    );
    let mut s = Raw::connect(&room.ip, classroom::SUBMISSION);
    assert!(s.line().starts_with("220 "));
    s.ask("EHLO crepes.fr", "250 ");
    // AUTH PLAIN of \0alice\0secret.
    assert_eq!(
        s.ask("AUTH PLAIN AGFsaWNlAHNlY3JldA==", "4"),
        ["454 4.7.0 Too many authentication failures, try again later\r\n"]
    );
}
