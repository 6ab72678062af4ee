//! ATRN, the course's command table's "must be refused unless the session
//! is authenticated" (RFC 2645, On-Demand Mail Relay; issue 21, point 9),
//! over a raw socket: 530 before AUTH, and after AUTH a clear refusal,
//! since this server offers no ODMR.

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
        assert_eq!(
            s.ask("QUIT", ""),
            ["221 2.0.0 hamburger.edu closing connection\r\n"]
        );
    }
}
