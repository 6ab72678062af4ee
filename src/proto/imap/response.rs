//! A server's response (RFC 9051 §7, grammar in §9), read and written.
//!
//! ```text
//! * OK [CAPABILITY IMAP4rev1 LITERAL+] ready    untagged status, with a
//!                                                response code in [..]
//! * 3 FETCH (UID 42 BODY[] {49}␍␊…49 bytes…)   untagged data, a literal
//! + Ready for literal data                      continuation request
//! a1 OK [READ-WRITE] SELECT completed           tagged: the command a1 ends
//! ```
//!
//! Every command ends with one tagged status line (OK, NO or BAD); before
//! it, and at any other time, the server may send untagged data and
//! status lines (§7.1: `* OK`, `* NO`, `* BAD`, `* PREAUTH`, `* BYE`).
//!
//! Responses are always read leniently: a client must cope with what
//! servers send, and the analyzer more so. A status line's text is free
//! text (it may hold an unbalanced quote or parenthesis), so only data
//! responses go through the tokenizer.

use super::syntax::{Fragment, LiteralForm, Mode, Tok, emit_all, tokenize_first};

/// A status (§7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    /// Untagged only: the greeting of a connection already authenticated.
    Preauth,
    /// Untagged only: the server is closing the connection.
    Bye,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::Preauth => "PREAUTH",
            Status::Bye => "BYE",
        }
    }

    fn parse(word: &[u8], tagged: bool) -> Option<Status> {
        // Compared without an upper-case copy: this runs for every
        // response line.
        let is = |name: &[u8]| word.eq_ignore_ascii_case(name);
        Some(if is(b"OK") {
            Status::Ok
        } else if is(b"NO") {
            Status::No
        } else if is(b"BAD") {
            Status::Bad
        } else if is(b"PREAUTH") && !tagged {
            Status::Preauth
        } else if is(b"BYE") && !tagged {
            Status::Bye
        } else {
            return None;
        })
    }
}

/// A response code (§7.1): `[NAME text]` at the start of a status
/// line's text, like `[CAPABILITY IMAP4rev1 IDLE]` or `[TRYCREATE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// Upper case.
    pub name: String,
    /// What follows the name inside the brackets, empty when nothing does.
    pub text: String,
}

/// One response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// `+ text` (§7.5): go on with the literal, the IDLE or the SASL
    /// exchange; for SASL the text is the base64 challenge.
    Continuation(Vec<u8>),
    /// A status line; `tag` None for an untagged one (`* OK …`).
    Status {
        tag: Option<String>,
        status: Status,
        code: Option<Code>,
        text: String,
    },
    /// Untagged data: `* CAPABILITY …`, `* 3 EXISTS`, `* 1 FETCH (…)`.
    Data {
        /// The message number or count before the name, if any.
        number: Option<u64>,
        /// Upper case.
        name: String,
        args: Vec<Tok>,
    },
}

/// Why a logical line is not a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseError {
    /// An empty line.
    Empty,
    /// A tagged line without OK, NO or BAD after the tag.
    NotAStatus,
}

impl Response {
    /// A status line to write; a response code at the start of `text`
    /// (`[TRYCREATE] no such mailbox`) becomes its [`Code`].
    pub fn status(tag: Option<&str>, status: Status, text: &str) -> Response {
        let (code, text) = resp_text(text);
        Response::Status {
            tag: tag.map(str::to_string),
            status,
            code,
            text,
        }
    }

    /// Read a response from its logical line (literals are moved out of
    /// `fragments`).
    pub fn parse(fragments: &mut [Fragment]) -> Result<Response, ResponseError> {
        Self::parse_first(fragments, usize::MAX)
    }

    /// Read a response as [`parse`](Self::parse) does, but of a data
    /// response only its number and name: `args` holds at most the first
    /// value after them. What the analyzer needs to know when a literal is
    /// announced (is this a FETCH response, of which message?), without
    /// reading and allocating every value of a long FETCH line.
    pub fn parse_head(fragments: &mut [Fragment]) -> Result<Response, ResponseError> {
        // `*`, the number (when there is one) and the name.
        Self::parse_first(fragments, 3)
    }

    /// [`parse`](Self::parse), reading at most `limit` values of a data
    /// response (the `*` included).
    fn parse_first(fragments: &mut [Fragment], limit: usize) -> Result<Response, ResponseError> {
        let first = match fragments.first() {
            Some(Fragment::Line(l)) => l.as_slice(),
            _ => &[],
        };
        if first == b"+" || first.starts_with(b"+ ") {
            return Ok(Response::Continuation(
                first.get(2..).unwrap_or_default().to_vec(),
            ));
        }
        let mut words = first.splitn(3, |&b| b == b' ');
        let (w0, w1) = (words.next().unwrap_or_default(), words.next());
        let rest = words.next().unwrap_or_default();
        if w0.is_empty() {
            return Err(ResponseError::Empty);
        }
        let tagged = w0 != b"*";
        if let Some(status) = w1.and_then(|w| Status::parse(w, tagged)) {
            let (code, text) = resp_text(&String::from_utf8_lossy(rest));
            return Ok(Response::Status {
                tag: tagged.then(|| String::from_utf8_lossy(w0).into_owned()),
                status,
                code,
                text,
            });
        }
        if tagged {
            return Err(ResponseError::NotAStatus);
        }
        // `* [number] NAME args`: everything after the star as values.
        let mut toks = tokenize_first(fragments, Mode::Lenient, limit)
            .unwrap_or_default()
            .into_iter()
            .skip(1)
            .peekable();
        let number = toks.peek().and_then(Tok::number);
        if number.is_some() {
            toks.next();
        }
        // The atom is ours: upper-cased in place, not copied.
        let name = match toks.next_if(|t| matches!(t, Tok::Atom(_))) {
            Some(Tok::Atom(mut name)) => {
                name.make_ascii_uppercase();
                name
            }
            _ => String::new(),
        };
        Ok(Response::Data {
            number,
            name,
            args: toks.collect(),
        })
    }

    /// The capabilities a response lists: `* CAPABILITY …` (§7.2.2) or a
    /// `[CAPABILITY …]` code (§7.1).
    pub fn capabilities(&self) -> Option<Vec<String>> {
        match self {
            Response::Status {
                code: Some(code), ..
            } if code.name == "CAPABILITY" => {
                Some(code.text.split_whitespace().map(str::to_string).collect())
            }
            Response::Data { name, args, .. } if name == "CAPABILITY" => Some(
                args.iter()
                    .filter_map(Tok::atom)
                    .map(str::to_string)
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The value of a data item in a FETCH response (§7.5.2): `UID` gives
    /// the `42` of `* 3 FETCH (UID 42 FLAGS ())`.
    pub fn fetch_item(&self, item: &str) -> Option<&Tok> {
        let Response::Data { name, args, .. } = self else {
            return None;
        };
        if name != "FETCH" {
            return None;
        }
        let Some(Tok::List(items)) = args.first() else {
            return None;
        };
        items
            .iter()
            .position(|t| t.atom().is_some_and(|a| a.eq_ignore_ascii_case(item)))
            .and_then(|i| items.get(i + 1))
    }

    /// The response as it goes on the wire, CRLF included.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Response::Continuation(text) => {
                out.extend_from_slice(b"+ ");
                out.extend_from_slice(text);
            }
            Response::Status {
                tag,
                status,
                code,
                text,
            } => {
                out.extend_from_slice(tag.as_deref().unwrap_or("*").as_bytes());
                out.push(b' ');
                out.extend_from_slice(status.as_str().as_bytes());
                if let Some(code) = code {
                    out.extend_from_slice(b" [");
                    out.extend_from_slice(code.name.as_bytes());
                    if !code.text.is_empty() {
                        out.push(b' ');
                        out.extend_from_slice(code.text.as_bytes());
                    }
                    out.push(b']');
                }
                if !text.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(text.as_bytes());
                }
            }
            Response::Data { number, name, args } => {
                out.push(b'*');
                if let Some(n) = number {
                    out.extend_from_slice(format!(" {n}").as_bytes());
                }
                out.push(b' ');
                out.extend_from_slice(name.as_bytes());
                if !args.is_empty() {
                    out.push(b' ');
                    emit_all(&mut out, args, LiteralForm::Synchronizing);
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// A status line's text (§9: `resp-text`): an optional `[code]`, then
/// free text.
fn resp_text(text: &str) -> (Option<Code>, String) {
    let Some(inner) = text.strip_prefix('[') else {
        return (None, text.to_string());
    };
    let Some(close) = inner.find(']') else {
        return (None, text.to_string());
    };
    let (name, code_text) = inner[..close]
        .split_once(' ')
        .unwrap_or((&inner[..close], ""));
    let code = Code {
        name: name.to_ascii_uppercase(),
        text: code_text.to_string(),
    };
    let rest = &inner[close + 1..];
    (
        Some(code),
        rest.strip_prefix(' ').unwrap_or(rest).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&[u8]]) -> Result<Response, ResponseError> {
        let mut frags: Vec<Fragment> = lines.iter().map(|l| Fragment::Line(l.to_vec())).collect();
        Response::parse(&mut frags)
    }

    #[test]
    fn status_lines_and_codes() {
        let greeting =
            parse(&[b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hamburger.edu ready"])
                .unwrap();
        assert_eq!(
            greeting.capabilities().unwrap(),
            ["IMAP4rev1", "STARTTLS", "AUTH=PLAIN"]
        );
        assert_eq!(
            greeting.emit(),
            b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hamburger.edu ready\r\n"
        );
        assert_eq!(
            parse(&[b"a1 no [TRYCREATE] no such mailbox"]).unwrap(),
            Response::status(Some("a1"), Status::No, "[TRYCREATE] no such mailbox")
        );
        // The text is free: an unbalanced quote or parenthesis is fine.
        let bye = parse(&[b"* BYE it's (over \"now"]).unwrap();
        assert_eq!(bye.emit(), b"* BYE it's (over \"now\r\n");
        assert_eq!(parse(&[b"a1 OK"]).unwrap().emit(), b"a1 OK\r\n");
        assert_eq!(parse(&[b""]), Err(ResponseError::Empty));
        assert_eq!(
            parse(&[b"totally not imap"]),
            Err(ResponseError::NotAStatus)
        );
        assert_eq!(parse(&[b"a1 BYE"]), Err(ResponseError::NotAStatus));
        assert_eq!(parse(&[b"+ "]).unwrap(), Response::Continuation(Vec::new()));
        assert_eq!(parse(&[b"+"]).unwrap().emit(), b"+ \r\n");
    }

    #[test]
    fn the_head_of_a_data_response() {
        let line: &[u8] =
            b"* 557 fetch (UID 557 FLAGS (\\Recent) BODY[HEADER.FIELDS (FROM TO)] {249}";
        let head = Response::parse_head(&mut [Fragment::Line(line.to_vec())]).unwrap();
        assert_eq!(
            head,
            Response::Data {
                number: Some(557),
                name: "FETCH".into(),
                args: Vec::new()
            }
        );
        // Without a number, the first value after the name is read too.
        assert_eq!(
            Response::parse_head(&mut [Fragment::Line(b"* FLAGS (\\Seen) x".to_vec())]).unwrap(),
            Response::Data {
                number: None,
                name: "FLAGS".into(),
                args: vec![Tok::List(vec![Tok::Atom("\\Seen".into())])]
            }
        );
        assert_eq!(
            Response::parse_head(&mut [Fragment::Line(b"a1 ok done".to_vec())]).unwrap(),
            Response::status(Some("a1"), Status::Ok, "done")
        );
    }

    #[test]
    fn data_with_literals() {
        let mut frags = vec![
            Fragment::Line(b"* 3 FETCH (FLAGS (\\Seen) BODY[] {5}".to_vec()),
            Fragment::Literal(b"hello".to_vec()),
            Fragment::Line(b" UID 42)".to_vec()),
        ];
        let r = Response::parse(&mut frags).unwrap();
        let Response::Data { number, name, .. } = &r else {
            panic!("{r:?}")
        };
        assert_eq!((*number, name.as_str()), (Some(3), "FETCH"));
        assert_eq!(r.fetch_item("uid").and_then(Tok::number), Some(42));
        assert_eq!(r.fetch_item("BODY[]"), Some(&Tok::Str(b"hello".to_vec())));
        assert_eq!(
            r.emit(),
            b"* 3 FETCH (FLAGS (\\Seen) BODY[] \"hello\" UID 42)\r\n"
        );
        let caps = parse(&[b"* CAPABILITY IMAP4rev1 IDLE"]).unwrap();
        assert_eq!(caps.capabilities().unwrap(), ["IMAP4rev1", "IDLE"]);
        assert_eq!(
            parse(&[b"* 1 EXPUNGE"]).unwrap(),
            Response::Data {
                number: Some(1),
                name: "EXPUNGE".into(),
                args: Vec::new()
            }
        );
    }
}
