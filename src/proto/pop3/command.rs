//! POP3 commands (RFC 1939 §3): a keyword of three or four letters, then
//! arguments separated by single spaces.
//!
//! ```text
//! USER bob            §7    AUTHORIZATION: who, …
//! PASS hungry         §7    …and the password, in clear
//! APOP bob 5b1c…      §7    …or a digest that does not reveal it
//! STAT / LIST [n]     §5    TRANSACTION: how many, how big
//! RETR n / TOP n k    §5,7  a message, or its header and k lines
//! DELE n / RSET       §5    mark for deletion / unmark
//! QUIT                §6    UPDATE: marked messages go now
//! CAPA / STLS         RFC 2449, RFC 2595
//! AUTH [mech [resp]]  RFC 5034
//! ```
//!
//! [`Command::parse`] is lenient (keywords in any case, unknown ones kept)
//! and never fails; [`Command::emit`] writes what a client sends.

use std::fmt;

use crate::proto::verbatim::Verbatim;

/// One command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// The argument as sent.
    User(String),
    /// The rest of the line, spaces included: RFC 1939 §7 lets a server
    /// take spaces as part of the password.
    Pass(String),
    /// The name and the MD5 digest (empty when missing).
    Apop {
        name: String,
        digest: String,
    },
    /// Without a mechanism, a request for the list of mechanisms
    /// (RFC 5034 §4).
    Auth {
        mechanism: Option<String>,
        initial_response: Option<String>,
    },
    Capa,
    Stls,
    Stat,
    List(Scan),
    Uidl(Scan),
    /// A message number: `None` when missing or not a number.
    Retr(Option<u64>),
    Top {
        message: Option<u64>,
        lines: Option<u64>,
    },
    Dele(Option<u64>),
    Rset,
    Noop,
    Quit,
    /// Keywords met in the wild that this grammar does not model: RFC
    /// 1725's LAST and RPOP, XTND, UTF8 and LANG (RFC 6856).
    Extension(Verbatim),
    /// Anything else, as sent.
    Unknown(Verbatim),
}

/// The argument of LIST and UIDL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    /// No argument: a multi-line answer, one line per message.
    All,
    /// One message (`None`: the argument is not a number).
    One(Option<u64>),
}

const EXTENSION_VERBS: &[&str] = &["LAST", "RPOP", "XTND", "UTF8", "LANG"];

impl Command {
    /// Reads a command line (without its CRLF); never fails.
    pub fn parse(line: impl AsRef<[u8]>) -> Command {
        let line = String::from_utf8_lossy(line.as_ref());
        let (verb, argument) = line.split_once(' ').unwrap_or((&line, ""));
        let mut words = argument.split_whitespace();
        let number = |w: Option<&str>| w.and_then(|n| n.parse::<u64>().ok());
        let scan = || match argument.trim() {
            "" => Scan::All,
            n => Scan::One(number(Some(n))),
        };
        match verb.to_ascii_uppercase().as_str() {
            "USER" => Command::User(argument.to_string()),
            "PASS" => Command::Pass(argument.to_string()),
            "APOP" => Command::Apop {
                name: words.next().unwrap_or("").to_string(),
                digest: words.next().unwrap_or("").to_string(),
            },
            "AUTH" => Command::Auth {
                mechanism: words.next().map(str::to_string),
                initial_response: words.next().map(str::to_string),
            },
            "CAPA" => Command::Capa,
            "STLS" => Command::Stls,
            "STAT" => Command::Stat,
            "LIST" => Command::List(scan()),
            "UIDL" => Command::Uidl(scan()),
            "RETR" => Command::Retr(number(words.next())),
            "TOP" => Command::Top {
                message: number(words.next()),
                lines: number(words.next()),
            },
            "DELE" => Command::Dele(number(words.next())),
            "RSET" => Command::Rset,
            "NOOP" => Command::Noop,
            "QUIT" => Command::Quit,
            v if EXTENSION_VERBS.contains(&v) => Command::Extension(Verbatim::new(verb, argument)),
            _ => Command::Unknown(Verbatim::new(verb, argument)),
        }
    }

    /// The command line as a client sends it, with its CRLF.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// `verb` shaped like a POP3 keyword (letters and digits), as opposed to
/// bytes of something else.
pub(crate) fn looks_like_a_verb(verb: &str) -> bool {
    !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The command line without CRLF, keywords in capitals.
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn number(n: &Option<u64>) -> String {
            n.map_or(String::new(), |n| n.to_string())
        }
        let with = |f: &mut fmt::Formatter<'_>, verb: &str, args: &[&str]| {
            f.write_str(verb)?;
            for a in args.iter().filter(|a| !a.is_empty()) {
                write!(f, " {a}")?;
            }
            Ok(())
        };
        let scan = |s: &Scan| match s {
            Scan::All => String::new(),
            Scan::One(n) => number(n),
        };
        match self {
            Command::User(name) => with(f, "USER", &[name]),
            Command::Pass(password) => write!(f, "PASS {password}"),
            Command::Apop { name, digest } => with(f, "APOP", &[name, digest]),
            Command::Auth {
                mechanism,
                initial_response,
            } => with(
                f,
                "AUTH",
                &[
                    mechanism.as_deref().unwrap_or(""),
                    initial_response.as_deref().unwrap_or(""),
                ],
            ),
            Command::Capa => f.write_str("CAPA"),
            Command::Stls => f.write_str("STLS"),
            Command::Stat => f.write_str("STAT"),
            Command::List(s) => with(f, "LIST", &[&scan(s)]),
            Command::Uidl(s) => with(f, "UIDL", &[&scan(s)]),
            Command::Retr(n) => with(f, "RETR", &[&number(n)]),
            Command::Top { message, lines } => with(f, "TOP", &[&number(message), &number(lines)]),
            Command::Dele(n) => with(f, "DELE", &[&number(n)]),
            Command::Rset => f.write_str("RSET"),
            Command::Noop => f.write_str("NOOP"),
            Command::Quit => f.write_str("QUIT"),
            Command::Extension(v) | Command::Unknown(v) => v.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_textbook_commands() {
        assert_eq!(Command::parse("user bob"), Command::User("bob".into()));
        assert_eq!(
            Command::parse("pass my secret"),
            Command::Pass("my secret".into())
        );
        assert_eq!(Command::parse("list"), Command::List(Scan::All));
        assert_eq!(Command::parse("LIST 2"), Command::List(Scan::One(Some(2))));
        assert_eq!(Command::parse("LIST x"), Command::List(Scan::One(None)));
        assert_eq!(Command::parse("retr 1"), Command::Retr(Some(1)));
        assert_eq!(Command::parse("RETR"), Command::Retr(None));
        assert_eq!(
            Command::parse("TOP 1 0"),
            Command::Top {
                message: Some(1),
                lines: Some(0)
            }
        );
        assert_eq!(Command::parse("quit"), Command::Quit);
    }

    #[test]
    fn auth_and_apop() {
        assert_eq!(
            Command::parse("AUTH"),
            Command::Auth {
                mechanism: None,
                initial_response: None
            }
        );
        assert_eq!(
            Command::parse("APOP mrose c4c9334bac560ecc979e58001b3e22fb"),
            Command::Apop {
                name: "mrose".into(),
                digest: "c4c9334bac560ecc979e58001b3e22fb".into()
            }
        );
    }

    #[test]
    fn unknown_and_extension_keywords() {
        assert!(matches!(Command::parse("XTND XMIT"), Command::Extension(_)));
        let Command::Unknown(v) = Command::parse("\x01\x02 junk") else {
            panic!()
        };
        assert!(!looks_like_a_verb(&v.verb));
        assert!(looks_like_a_verb("UTF9"));
    }

    #[test]
    fn emitted_commands_parse_back() {
        for c in [
            Command::User("bob".into()),
            Command::Pass("hungry".into()),
            Command::Stat,
            Command::List(Scan::All),
            Command::Uidl(Scan::One(Some(3))),
            Command::Retr(Some(1)),
            Command::Top {
                message: Some(1),
                lines: Some(5),
            },
            Command::Dele(Some(1)),
            Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial_response: Some("AGJvYgBodW5ncnk=".into()),
            },
            Command::Quit,
        ] {
            let mut wire = Vec::new();
            c.emit(&mut wire);
            assert_eq!(Command::parse(&wire[..wire.len() - 2]), c, "{c}");
        }
    }
}
