//! A client's command (RFC 9051 §6, grammar in §9): a tag the client
//! chooses, a command name, and arguments, read and written with the
//! [`syntax`](super::syntax) of IMAP.
//!
//! ```text
//! a3 LOGIN {3+}␍␊bob "hungry"      tag, name, two astrings (a literal and
//! ── ───── ──────────────────      a quoted string)
//! ```
//!
//! Both sides read commands through [`Command::parse`]: the server in
//! [`Mode::Strict`] (what is not IMAP gets BAD), the analyzer in
//! [`Mode::Lenient`]. What each command *means* is theirs: the server runs
//! it, the analyzer looks for credentials (LOGIN, AUTHENTICATE), the
//! switch to TLS (STARTTLS) and the messages FETCH brings.

use super::syntax::{Fragment, LiteralForm, Mode, Tok, emit_all, is_tag, tag_of, tokenize};

/// One command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub tag: String,
    /// The command name in upper case (names are case-insensitive, §9).
    pub name: String,
    pub args: Vec<Tok>,
}

/// Why a logical line is not a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Nothing but blanks.
    Empty,
    /// The first word is no tag (§9: `tag`).
    BadTag,
    /// A tag (or a line of one word) and no command name after it.
    NoName { tag: String },
    /// A name that is no atom of letters, digits and `-`.
    BadName { tag: String },
    /// Strict mode: the arguments are not IMAP; `why` says how.
    Syntax { tag: String, why: String },
}

impl Command {
    /// A command to write.
    pub fn new(tag: &str, name: &str, args: Vec<Tok>) -> Command {
        Command {
            tag: tag.to_string(),
            name: name.to_ascii_uppercase(),
            args,
        }
    }

    /// Read a command from its logical line (literals are moved out of
    /// `fragments`).
    pub fn parse(fragments: &mut [Fragment], mode: Mode) -> Result<Command, CommandError> {
        let toks = match tokenize(fragments, mode) {
            Ok(toks) => toks,
            Err(why) => {
                // Parsing moves only literals out: the first line is still
                // there to take the tag from.
                let first = match fragments.first() {
                    Some(Fragment::Line(l)) => l.as_slice(),
                    _ => &[],
                };
                let tag = tag_of(first).unwrap_or_else(|| "*".into());
                return Err(CommandError::Syntax { tag, why });
            }
        };
        let mut toks = toks.into_iter();
        let Some(first) = toks.next() else {
            return Err(CommandError::Empty);
        };
        let second = toks.next();
        let tag = match first {
            Tok::Atom(a) if is_tag(a.as_bytes()) => a,
            // A line of one word is read as a tag without a command.
            Tok::Atom(a) if second.is_none() => return Err(CommandError::NoName { tag: a }),
            _ => return Err(CommandError::BadTag),
        };
        let mut name = match second {
            Some(Tok::Atom(n)) => n,
            _ => return Err(CommandError::NoName { tag }),
        };
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(CommandError::BadName { tag });
        }
        // The atom is ours: upper-cased in place, not copied.
        name.make_ascii_uppercase();
        Ok(Command {
            tag,
            name,
            args: toks.collect(),
        })
    }

    /// For UID FETCH, UID SEARCH… (§6.4.9): the command after `UID`, upper
    /// case.
    pub fn uid_command(&self) -> Option<String> {
        if self.name != "UID" {
            return None;
        }
        self.args.first()?.atom().map(str::to_ascii_uppercase)
    }

    /// The astring argument `i` as bytes (LOGIN's user name and password,
    /// AUTHENTICATE's mechanism and initial response).
    pub fn astring(&self, i: usize) -> Option<&[u8]> {
        self.args.get(i)?.astring()
    }

    /// The command as it goes on the wire, CRLF included. Strings that need
    /// a literal get a synchronizing one (`{n}`; the client waits for `+`
    /// before its bytes), or with `literal_plus` a non-synchronizing one
    /// (`{n+}`, RFC 7888, for a server that announced LITERAL+).
    pub fn emit(&self, literal_plus: bool) -> Vec<u8> {
        let form = if literal_plus {
            LiteralForm::NonSynchronizing
        } else {
            LiteralForm::Synchronizing
        };
        let mut out = format!("{} {}", self.tag, self.name).into_bytes();
        if !self.args.is_empty() {
            out.push(b' ');
            emit_all(&mut out, &self.args, form);
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::imap::syntax::literal_marker;
    use proptest::prelude::*;

    fn lines(wire: &[u8]) -> Vec<Fragment> {
        // Cut the wire into lines and the literals they announce.
        let mut out = Vec::new();
        let mut rest = wire;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let l = rest[..i].strip_suffix(b"\r").unwrap_or(&rest[..i]);
            out.push(Fragment::Line(l.to_vec()));
            rest = &rest[i + 1..];
            if let Some(m) = literal_marker(l) {
                let n = m.size.unwrap() as usize;
                out.push(Fragment::Literal(rest[..n].to_vec()));
                rest = &rest[n..];
            }
        }
        out
    }

    #[test]
    fn astrings_are_atoms_only_when_an_atom_can_hold_them() {
        let login = |user: &[u8], pass: &[u8]| {
            Command::new(
                "a1",
                "LOGIN",
                vec![Tok::astring_of(user), Tok::astring_of(pass)],
            )
            .emit(true)
        };
        // The textbook line (RFC 3501 §6.2.3's example).
        assert_eq!(
            login(b"bob", b"hungry"),
            b"a1 LOGIN bob hungry\r\n".as_slice()
        );
        // `]` is an ASTRING-CHAR; a space, a quote, `%`, `{` and an empty
        // string are not, so they travel quoted.
        assert_eq!(
            login(b"b]b", b"pass word"),
            b"a1 LOGIN b]b \"pass word\"\r\n".as_slice()
        );
        assert_eq!(
            login(b"", b"a\"{1}"),
            b"a1 LOGIN \"\" \"a\\\"{1}\"\r\n".as_slice()
        );
        assert_eq!(Tok::astring_of(b"50%"), Tok::Str(b"50%".to_vec()));
        // Eight-bit bytes need a literal (§4.3).
        assert_eq!(
            login(b"bob", b"\xc3\xa9"),
            b"a1 LOGIN bob {2+}\r\n\xc3\xa9\r\n".as_slice()
        );
    }

    #[test]
    fn parse_and_emit_round_trip() {
        let login = Command::new(
            "a3",
            "login",
            vec![
                Tok::Str(b"bob".to_vec()),
                Tok::Str(b"p\"w \\ \xc3\xa9".to_vec()),
            ],
        );
        let wire = login.emit(true);
        assert_eq!(
            wire,
            b"a3 LOGIN \"bob\" {8+}\r\np\"w \\ \xc3\xa9\r\n".as_slice()
        );
        for mode in [Mode::Strict, Mode::Lenient] {
            assert_eq!(Command::parse(&mut lines(&wire), mode), Ok(login.clone()));
        }
        let fetch = Command::new(
            "a4",
            "UID",
            vec![
                Tok::Atom("FETCH".into()),
                Tok::Atom("1:*".into()),
                Tok::List(vec![
                    Tok::Atom("FLAGS".into()),
                    Tok::Atom("BODY.PEEK[HEADER.FIELDS (SUBJECT)]".into()),
                ]),
            ],
        );
        assert_eq!(
            fetch.emit(false),
            b"a4 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n"
        );
        let back = Command::parse(&mut lines(&fetch.emit(false)), Mode::Strict).unwrap();
        assert_eq!(back, fetch);
        assert_eq!(back.uid_command().as_deref(), Some("FETCH"));
    }

    #[test]
    fn what_is_not_a_command() {
        let parse = |s: &[u8], mode| Command::parse(&mut [Fragment::Line(s.to_vec())], mode);
        assert_eq!(parse(b"", Mode::Lenient), Err(CommandError::Empty));
        assert_eq!(parse(b"+a NOOP", Mode::Lenient), Err(CommandError::BadTag));
        assert_eq!(
            parse(b"\x00\x01garbage", Mode::Lenient),
            Err(CommandError::NoName {
                tag: "\x00\x01garbage".into()
            })
        );
        assert_eq!(
            parse(b"\x00 NOOP", Mode::Lenient),
            Err(CommandError::BadTag)
        );
        assert_eq!(
            parse(b"a1", Mode::Strict),
            Err(CommandError::NoName { tag: "a1".into() })
        );
        assert_eq!(
            parse(b"a1 FR*B", Mode::Strict),
            Err(CommandError::BadName { tag: "a1".into() })
        );
        assert_eq!(
            parse(b"a5 LIST \"\" \"open", Mode::Strict),
            Err(CommandError::Syntax {
                tag: "a5".into(),
                why: "unterminated quoted string".into()
            })
        );
        let lenient = parse(b"a5 login bob \"open", Mode::Lenient).unwrap();
        assert_eq!(lenient.name, "LOGIN");
        assert_eq!(lenient.astring(1), Some(b"open".as_slice()));
    }

    fn tok() -> impl Strategy<Value = Tok> {
        let leaf = prop_oneof![
            "[A-Za-z0-9.:*\\\\$-]{1,8}".prop_map(Tok::Atom),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Tok::Str),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            proptest::collection::vec(inner, 0..5).prop_map(Tok::List)
        })
    }

    proptest! {
        /// What is written reads back the same, whatever the strings hold
        /// (quoted where they can be, literals where not).
        #[test]
        fn any_command_reads_back(args in proptest::collection::vec(tok(), 0..6), plus: bool) {
            let cmd = Command::new("t1", "X-TEST", args);
            let back = Command::parse(&mut lines(&cmd.emit(plus)), Mode::Strict);
            prop_assert_eq!(back, Ok(cmd));
        }
    }
}
