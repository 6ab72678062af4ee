//! SMTP commands (RFC 5321 §4.1): a verb, a space, arguments, CRLF.
//!
//! ```text
//! EHLO crepes.fr                       §4.1.1.1  who the client is
//! MAIL FROM:<alice@crepes.fr> SIZE=20  §4.1.1.2  a transaction starts
//! RCPT TO:<bob@hamburger.edu>          §4.1.1.3  one per recipient
//! DATA                                 §4.1.1.4  the message follows
//! BDAT 512 LAST                        RFC 3030  …or comes in counted chunks
//! AUTH PLAIN AGFsaWNlAHNlY3JldA==      RFC 4954  who the user is
//! ```
//!
//! [`Command::parse`] is lenient: verbs in any case, a space after the
//! colon, paths without brackets, unknown verbs kept as they were. It never
//! fails: what a server must refuse is left for it to check
//! ([`Path::is_well_formed`], [`Bdat`], an empty HELO argument).
//! [`Command::emit`] writes the canonical form a client sends.

use std::fmt;

use crate::proto::verbatim::Verbatim;

use super::path::Path;

/// One command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// The argument as sent, trimmed (RFC 5321 wants a domain or an
    /// address literal; see [`Command::hello_name`]).
    Helo(String),
    Ehlo(String),
    /// `None` when `FROM:` is missing.
    Mail(Option<Path>),
    /// `None` when `TO:` is missing.
    Rcpt(Option<Path>),
    Data,
    Bdat(Bdat),
    Rset,
    Vrfy(String),
    Expn(String),
    Help(String),
    Noop(String),
    Quit,
    /// RFC 3207.
    Starttls,
    /// RFC 4954 §4: the mechanism and the initial response, as sent.
    Auth {
        mechanism: String,
        initial_response: Option<String>,
    },
    /// RFC 1985: ask the server to flush its queue for a domain.
    Etrn(String),
    /// RFC 2645 (on-demand relay): the domains to receive mail for.
    Atrn(String),
    /// RFC 821's turn-around, withdrawn for being unsafe (RFC 5321 §4.1.1
    /// leaves it out).
    Turn,
    /// A verb met in the wild that this grammar does not model: Postfix's
    /// XCLIENT/XFORWARD, RFC 821's SEND/SOML/SAML, Sendmail's VERB/ONEX,
    /// Exchange's XEXCH50/X-LINK2STATE, XAUTH.
    Extension(Verbatim),
    /// Anything else, as sent.
    Unknown(Verbatim),
}

/// `BDAT chunk-size [LAST]` (RFC 3030 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bdat {
    /// `size` bytes follow the command line, whatever they contain.
    Chunk { size: u64, last: bool },
    /// The size is valid but what follows it is not `LAST`.
    BadEndMarker,
    /// No valid size: nobody can tell where the chunk ends.
    NoSize,
}

const EXTENSION_VERBS: &[&str] = &[
    "XCLIENT",
    "XFORWARD",
    "SEND",
    "SOML",
    "SAML",
    "VERB",
    "ONEX",
    "XEXCH50",
    "X-LINK2STATE",
    "XAUTH",
];

/// Splits a command line at its first space: the verb and the argument
/// (trimmed). Trailing spaces do not make an argument.
pub(crate) fn split_verb(line: &str) -> (&str, &str) {
    let line = line.trim_end();
    match line.split_once(' ') {
        Some((verb, argument)) => (verb, argument.trim()),
        None => (line, ""),
    }
}

impl Command {
    /// Reads a command line (without its CRLF); never fails.
    pub fn parse(line: impl AsRef<[u8]>) -> Command {
        let line = String::from_utf8_lossy(line.as_ref());
        let (verb, argument) = split_verb(&line);
        let text = || argument.to_string();
        // Verbs are matched without regard to case (RFC 5321 §2.4), in
        // upper case copied to the stack: every command goes through here.
        // A verb longer than any known one cannot match.
        let mut upper = [0u8; 16];
        let name = match upper.get_mut(..verb.len()) {
            Some(buf) => {
                buf.copy_from_slice(verb.as_bytes());
                buf.make_ascii_uppercase();
                std::str::from_utf8(buf).unwrap_or("")
            }
            None => "",
        };
        match name {
            "HELO" => Command::Helo(text()),
            "EHLO" => Command::Ehlo(text()),
            "MAIL" => Command::Mail(strip_keyword(argument, "FROM:").map(Path::parse)),
            "RCPT" => Command::Rcpt(strip_keyword(argument, "TO:").map(Path::parse)),
            "DATA" => Command::Data,
            "BDAT" => Command::Bdat(Bdat::parse(argument)),
            "RSET" => Command::Rset,
            "VRFY" => Command::Vrfy(text()),
            "EXPN" => Command::Expn(text()),
            "HELP" => Command::Help(text()),
            "NOOP" => Command::Noop(text()),
            "QUIT" => Command::Quit,
            "STARTTLS" => Command::Starttls,
            "AUTH" => {
                let mut words = argument.split_whitespace();
                Command::Auth {
                    mechanism: words.next().unwrap_or("").to_string(),
                    initial_response: words.next().map(str::to_string),
                }
            }
            "ETRN" => Command::Etrn(text()),
            "ATRN" => Command::Atrn(text()),
            "TURN" => Command::Turn,
            v if EXTENSION_VERBS.contains(&v) => Command::Extension(Verbatim::new(verb, argument)),
            _ => Command::Unknown(Verbatim::new(verb, argument)),
        }
    }

    /// The command line as a client sends it, with its CRLF.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// The name a HELO/EHLO gives: the first word of its argument.
    pub fn hello_name(&self) -> Option<&str> {
        match self {
            Command::Helo(a) | Command::Ehlo(a) => Some(a.split_whitespace().next().unwrap_or("")),
            _ => None,
        }
    }
}

/// `verb` shaped like an SMTP verb (letters and hyphens), as opposed to
/// bytes of something else.
pub(crate) fn looks_like_a_verb(verb: &str) -> bool {
    !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
}

/// `FROM:` / `TO:` in any case, after optional spaces.
fn strip_keyword<'a>(s: &'a str, keyword: &str) -> Option<&'a str> {
    let s = s.trim_start();
    // `get` and not `[..]`: the bytes after the verb may be anything,
    // including the middle of a multi-byte character.
    let head = s.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| &s[keyword.len()..])
}

impl Bdat {
    fn parse(argument: &str) -> Bdat {
        let mut words = argument.split_whitespace();
        let size = words.next().and_then(|s| s.parse::<u64>().ok());
        let last = match (words.next(), words.next()) {
            (None, _) => false,
            (Some(marker), None) if marker.eq_ignore_ascii_case("LAST") => true,
            _ => return Bdat::BadEndMarker,
        };
        match size {
            Some(size) => Bdat::Chunk { size, last },
            None => Bdat::NoSize,
        }
    }
}

/// The command line without CRLF, canonical: verbs in capitals.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_argument = |f: &mut fmt::Formatter<'_>, verb: &str, argument: &str| {
            if argument.is_empty() {
                f.write_str(verb)
            } else {
                write!(f, "{verb} {argument}")
            }
        };
        match self {
            Command::Helo(a) => with_argument(f, "HELO", a),
            Command::Ehlo(a) => with_argument(f, "EHLO", a),
            Command::Mail(Some(p)) => write!(f, "MAIL FROM:{p}"),
            Command::Mail(None) => f.write_str("MAIL"),
            Command::Rcpt(Some(p)) => write!(f, "RCPT TO:{p}"),
            Command::Rcpt(None) => f.write_str("RCPT"),
            Command::Data => f.write_str("DATA"),
            Command::Bdat(Bdat::Chunk { size, last }) => {
                write!(f, "BDAT {size}{}", if *last { " LAST" } else { "" })
            }
            Command::Bdat(_) => f.write_str("BDAT"),
            Command::Rset => f.write_str("RSET"),
            Command::Vrfy(a) => with_argument(f, "VRFY", a),
            Command::Expn(a) => with_argument(f, "EXPN", a),
            Command::Help(a) => with_argument(f, "HELP", a),
            Command::Noop(a) => with_argument(f, "NOOP", a),
            Command::Quit => f.write_str("QUIT"),
            Command::Starttls => f.write_str("STARTTLS"),
            Command::Auth {
                mechanism,
                initial_response,
            } => match initial_response {
                Some(r) => write!(f, "AUTH {mechanism} {r}"),
                None => write!(f, "AUTH {mechanism}"),
            },
            Command::Etrn(a) => with_argument(f, "ETRN", a),
            Command::Atrn(a) => with_argument(f, "ATRN", a),
            Command::Turn => f.write_str("TURN"),
            Command::Extension(v) | Command::Unknown(v) => v.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_textbook_commands() {
        assert_eq!(
            Command::parse("HELO crepes.fr"),
            Command::Helo("crepes.fr".into())
        );
        let Command::Mail(Some(from)) = Command::parse("mail from: <alice@crepes.fr>") else {
            panic!()
        };
        assert_eq!(from.as_sent, "<alice@crepes.fr>");
        assert_eq!(Command::parse("data"), Command::Data);
        assert_eq!(Command::parse("QUIT  "), Command::Quit);
    }

    #[test]
    fn lenient_forms_seen_in_captures() {
        // Zeek's rfc3030-bdat-nonascii: no brackets.
        let Command::Rcpt(Some(to)) = Command::parse("RCPT TO:recipient@localhost") else {
            panic!()
        };
        assert_eq!(to.mailbox, "recipient@localhost");
        assert_eq!(Command::parse("MAIL FRM:<a@b>"), Command::Mail(None));
        // "RCPT TO\xef\xbf\xbd<…>" from the damaged-capture test.
        assert_eq!(
            Command::parse("RCPT TO\u{fffd}<bob@x>"),
            Command::Rcpt(None)
        );
        assert_eq!(Command::parse("staRttLs"), Command::Starttls);
        assert!(matches!(
            Command::parse("XCLIENT NAME=x"),
            Command::Extension(_)
        ));
        let Command::Unknown(v) = Command::parse("Hello, Alice (2)") else {
            panic!()
        };
        assert_eq!(
            (v.verb.as_str(), v.argument.as_str()),
            ("Hello,", "Alice (2)")
        );
        assert!(!looks_like_a_verb(&v.verb));
        assert!(looks_like_a_verb("X-FOO"));
    }

    #[test]
    fn bdat_grammar() {
        let bdat = |a: &str| match Command::parse(format!("BDAT {a}")) {
            Command::Bdat(b) => b,
            c => panic!("{c:?}"),
        };
        assert_eq!(
            bdat("5"),
            Bdat::Chunk {
                size: 5,
                last: false
            }
        );
        assert_eq!(
            bdat("0 last"),
            Bdat::Chunk {
                size: 0,
                last: true
            }
        );
        // Too large for a u64: no size, not a silently smaller one.
        assert_eq!(bdat("99999999999999999999999 LAST"), Bdat::NoSize);
        assert_eq!(bdat("-5"), Bdat::NoSize);
        assert_eq!(bdat("5 LAST more"), Bdat::BadEndMarker);
        assert_eq!(bdat("x y"), Bdat::BadEndMarker);
    }

    #[test]
    fn auth_keeps_any_mechanism() {
        assert_eq!(
            Command::parse("AUTH X-UNKNOWN-MECH abc="),
            Command::Auth {
                mechanism: "X-UNKNOWN-MECH".into(),
                initial_response: Some("abc=".into())
            }
        );
    }

    #[test]
    fn emitted_commands_parse_back() {
        for c in [
            Command::Ehlo("crepes.fr".into()),
            Command::Mail(Some(Path::new("alice@crepes.fr"))),
            Command::Mail(Some(Path::parse("<> SIZE=10 BODY=8BITMIME"))),
            Command::Rcpt(Some(Path::new("bob@hamburger.edu"))),
            Command::Data,
            Command::Bdat(Bdat::Chunk {
                size: 7,
                last: true,
            }),
            Command::Auth {
                mechanism: "PLAIN".into(),
                initial_response: Some("AGEAYg==".into()),
            },
            Command::Noop(String::new()),
            Command::Quit,
        ] {
            let mut wire = Vec::new();
            c.emit(&mut wire);
            assert!(wire.ends_with(b"\r\n"));
            assert_eq!(Command::parse(&wire[..wire.len() - 2]), c, "{c}");
        }
        assert_eq!(
            Command::Mail(Some(Path::new("alice@crepes.fr"))).to_string(),
            "MAIL FROM:<alice@crepes.fr>"
        );
    }
}
