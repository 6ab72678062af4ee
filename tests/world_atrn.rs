//! ATRN, the course's command table's "must be refused unless the session
//! is authenticated" (RFC 2645, On-Demand Mail Relay; issue 21, point 9),
//! over a raw socket: 530 before AUTH, and after AUTH a clear refusal,
//! since this server offers no ODMR; ETRN and TURN get 502 (known, not
//! implemented) rather than 500.

mod common;

use common::classroom::{self, Classroom};
use common::raw::Raw;

#[test]
fn atrn_needs_auth_and_is_then_refused_clearly() {
    let room = Classroom::start("127.0.121.8", &["--plaintext-auth"]);
    for port in [classroom::SMTP, classroom::SUBMISSION] {
        let mut s = Raw::connect(&room.ip, port);
        assert!(s.line().starts_with("220 "));
        let ehlo = s.ask("EHLO crepes.fr", "250 ");
        assert!(!ehlo.iter().any(|l| l.contains("ATRN")), "{ehlo:?}");
        assert_eq!(
            s.ask("ATRN hamburger.edu", ""),
            ["530 5.7.0 Authentication required\r\n"],
            "{port}"
        );
        // AUTH PLAIN of \0alice\0secret.
        assert_eq!(
            s.ask("AUTH PLAIN AGFsaWNlAHNlY3JldA==", ""),
            ["235 2.7.0 Authentication successful\r\n"]
        );
        assert_eq!(
            s.ask("ATRN hamburger.edu", ""),
            ["502 5.5.1 ATRN: On-Demand Mail Relay (RFC 2645) is not offered here\r\n"],
            "{port}"
        );
        // ETRN and TURN are known but not implemented: 502, before and
        // after AUTH alike (RFC 5321 §4.2.4); a made-up verb stays 500.
        assert_eq!(
            s.ask("ETRN hamburger.edu", ""),
            ["502 5.5.1 ETRN: remote queue starting (RFC 1985) is not offered here\r\n"]
        );
        assert_eq!(
            s.ask("TURN", ""),
            ["502 5.5.1 TURN is not implemented (RFC 5321 Appendix F.1)\r\n"]
        );
        assert_eq!(s.ask("FROB", ""), ["500 5.5.1 Command not recognized\r\n"]);
        assert_eq!(
            s.ask("QUIT", ""),
            ["221 2.0.0 hamburger.edu closing connection\r\n"]
        );
    }
}
