//! POP3 as seen on the wire (RFC 1939), with CAPA (RFC 2449), STLS
//! (RFC 2595) and SASL AUTH (RFC 5034).
//!
//! ```text
//! S: +OK POP3 server ready
//! C: user bob                          AUTHORIZATION state: who are you?
//! S: +OK
//! C: pass hungry                       …in clear, for anyone on the path
//! S: +OK user successfully logged on   TRANSACTION state
//! C: list
//! S: +OK 2 messages (908 octets)       a multi-line response: status line,
//! S: 1 498                             then data lines,
//! S: 2 410
//! S: .                                 then a line holding only "."
//! C: retr 1
//! S: +OK 498 octets
//! S: …the message, dot-stuffed…
//! S: .
//! C: dele 1                            marked for deletion…
//! S: +OK message 1 deleted
//! C: quit                              …and deleted now (UPDATE state, §6)
//! S: +OK POP3 server signing off
//! ```
//!
//! Every reply answers the oldest command still waiting (clients may
//! pipeline, RFC 2449 §6.6). Whether a `+OK` starts a multi-line response
//! depends on the command it answers: LIST and UIDL without argument, RETR,
//! TOP, CAPA, and AUTH without argument. In a multi-line response a line
//! starting with "." has had one more "." put in front (RFC 1939 §3); the
//! parser removes it, so a retrieved message is exactly what the mailbox
//! held.

use std::collections::{BTreeSet, VecDeque};

use super::incoming::Incoming;
use super::lines::{Ending, Line, LineReader};
use super::sasl::SaslExchange;
use super::{MailParser, quote, text};
use crate::flow::Direction;
use crate::trace::{Credential, Dialogue, FindingCode, LineKind, Part, RawMessage, Severity, Via};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

/// RFC 2449 §4: a command line is at most 255 octets, a response line 512.
const MAX_COMMAND_LINE: usize = 255;
const MAX_RESPONSE_LINE: usize = 512;
/// Commands waiting for a reply; beyond this the oldest are forgotten.
const MAX_PENDING: usize = 1000;

/// A command waiting for its reply.
#[derive(Clone, Debug)]
enum Cmd {
    User,
    Pass,
    Apop,
    /// AUTH with a mechanism (a SASL exchange), or without (a list).
    Auth {
        listing: bool,
    },
    Capa,
    Stls,
    /// LIST or UIDL: multi-line without argument.
    Listing {
        multi: bool,
    },
    Retr(u64),
    Top(u64),
    Dele(u64),
    Rset,
    Quit,
    Other,
}

/// The server is sending a multi-line response.
#[derive(Debug)]
enum Multi {
    Message(Box<Incoming>),
    Capa,
    Listing,
}

/// The POP3 dialogue parser (see the module documentation).
#[derive(Debug, Default)]
pub struct Pop3Parser {
    readers: [LineReader; 2],
    st: State,
}

#[derive(Debug, Default)]
struct State {
    pending: VecDeque<Cmd>,
    greeted: bool,
    /// The APOP timestamp of the greeting, `<1896.697170952@dbc.mtview.ca.us>`.
    timestamp: Option<String>,
    multi: Option<Multi>,
    /// USER's argument and line, waiting for PASS.
    user: Option<(String, String)>,
    /// Credential waiting for the server's verdict (PASS, APOP).
    verdict_for: Option<usize>,
    sasl: Option<(SaslExchange, Option<usize>)>,
    sasl_awaiting_response: bool,
    /// Messages marked by DELE (+OK), until RSET or QUIT.
    marked: BTreeSet<u64>,
    /// Retrieved messages: (message number, index in the dialogue).
    retrieved: Vec<(u64, usize)>,
    quit_ok: bool,
    stls_offered: bool,
    stls_asked: bool,
    tls: bool,
    bare_lf: [bool; 2],
    overlong: bool,
}

impl Pop3Parser {
    pub fn new() -> Self {
        Self::default()
    }
}

impl MailParser for Pop3Parser {
    fn feed(&mut self, dir: Direction, mut input: &[u8], out: &mut Dialogue) -> usize {
        let d = dir.index();
        let total = input.len();
        while !input.is_empty() {
            let st = &mut self.st;
            if st.tls {
                // The rest is TLS: the session takes it from here.
                return total - input.len();
            }
            if dir == C
                && st.stls_asked
                && self.readers[d].pending() == 0
                && super::tls::looks_like_handshake(input)
            {
                // The client started TLS (the +OK may be missing).
                st.tls = true;
            } else {
                let continues = self.readers[d].in_overlong_line();
                let Some(line) = self.readers[d].next_line(&mut input) else {
                    break;
                };
                st.check_line(dir, &line, out);
                match dir {
                    Direction::ClientToServer => st.client_line(line, continues, out),
                    Direction::ServerToClient => st.server_line(line, continues, out),
                }
            }
        }
        total
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Dialogue) {
        let st = &mut self.st;
        if st.tls {
            return;
        }
        let reader = &mut self.readers[dir.index()];
        let start = reader.position();
        let lost = reader.gap(len);
        out.gap(dir, start, len, lost.as_deref());
        if dir == S
            && let Some(Multi::Message(m)) = st.multi.as_mut()
        {
            if let Some(partial) = &lost {
                m.push(partial, out);
            }
            m.lost(len);
        }
    }

    fn finish(&mut self, out: &mut Dialogue) {
        let st = &mut self.st;
        if !st.tls {
            for dir in [C, S] {
                let continues = self.readers[dir.index()].in_overlong_line();
                if let Some(line) = self.readers[dir.index()].finish() {
                    match dir {
                        Direction::ClientToServer => st.client_line(line, continues, out),
                        Direction::ServerToClient => st.server_line(line, continues, out),
                    }
                }
            }
        }
        if let Some(Multi::Message(m)) = st.multi.take() {
            // The flow ended inside a message: hand on what was seen.
            st.end_message(*m, false, out);
        }
        if let Some((mut ex, None)) = st.sasl.take()
            && let Some(c) = ex.take_credential()
        {
            st.report(c, out);
        }
        if !st.quit_ok && !st.marked.is_empty() {
            // RFC 1939 §6: without QUIT the server must not delete.
            let numbers: Vec<String> = st.marked.iter().map(u64::to_string).collect();
            for &(number, idx) in &st.retrieved {
                if st.marked.contains(&number) {
                    out.messages[idx].deleted = Some(false);
                }
            }
            out.finding(
                Severity::Info,
                FindingCode::Pop3DeletionsNotCommitted,
                format!(
                    "messages {} were marked with DELE but the session ended without QUIT, so the server keeps them (RFC 1939 §6)",
                    numbers.join(", ")
                ),
            );
        }
        if st.stls_offered && !st.tls && !st.stls_asked {
            out.starttls_not_used("STLS");
        }
    }

    fn upgraded_to_tls(&self) -> bool {
        self.st.tls
    }

    fn resume_plaintext(&mut self) {
        self.st.tls = false;
    }
}

impl State {
    fn check_line(&mut self, dir: Direction, line: &Line, out: &mut Dialogue) {
        if line.ending == Ending::Lf && !self.bare_lf[dir.index()] {
            self.bare_lf[dir.index()] = true;
            let who = if dir == C { "client" } else { "server" };
            out.finding(
                Severity::Info,
                FindingCode::BareLf,
                format!("the {who} ends lines with a bare LF instead of CRLF (RFC 1939 §3)"),
            );
        }
        let in_message = dir == S && matches!(self.multi, Some(Multi::Message(_)));
        let limit = if dir == C {
            MAX_COMMAND_LINE
        } else {
            MAX_RESPONSE_LINE
        };
        if !in_message && (line.overlong || line.wire_len() as usize > limit) && !self.overlong {
            self.overlong = true;
            out.finding(
                Severity::Medium,
                FindingCode::OverlongLine,
                format!(
                    "a line of {} bytes exceeds POP3's {limit}-octet limit (RFC 2449 §4)",
                    line.wire_len()
                ),
            );
        }
    }

    fn push(&mut self, cmd: Cmd) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(cmd);
    }

    // ---- client side ----------------------------------------------------

    fn client_line(&mut self, line: Line, continues: bool, out: &mut Dialogue) {
        out.line(C, LineKind::Command, line.text, line.start, line.end);
        if continues {
            return;
        }
        if self.sasl_awaiting_response {
            self.sasl_awaiting_response = false;
            if let Some((ex, idx)) = self.sasl.as_mut() {
                ex.response(line.text);
                if idx.is_none()
                    && ex.client_done()
                    && let Some(c) = ex.take_credential()
                {
                    let i = self.report(c, out);
                    if let Some((_, idx)) = self.sasl.as_mut() {
                        *idx = Some(i);
                    }
                }
            }
            return;
        }
        let cmd = text(line.text);
        let (verb, rest) = cmd.split_once(' ').unwrap_or((cmd.as_str(), ""));
        let number = || {
            rest.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        };
        let c = match verb.to_ascii_uppercase().as_str() {
            "USER" => {
                self.user = Some((rest.to_string(), cmd.clone()));
                Cmd::User
            }
            "PASS" => {
                let mut c = Credential::new("USER-PASS");
                let (user, line) = self.user.clone().unwrap_or_default();
                c.username = (!user.is_empty()).then_some(user);
                // RFC 1939 §7: the password is the rest of the line, spaces
                // included.
                c.password = Some(rest.to_string());
                c.evidence = [line, cmd.clone()]
                    .into_iter()
                    .filter(|l| !l.is_empty())
                    .collect();
                self.verdict_for = Some(self.report(c, out));
                Cmd::Pass
            }
            "APOP" => {
                let mut parts = rest.split_whitespace();
                let mut c = Credential::new("APOP");
                c.username = parts.next().map(str::to_string);
                let digest = parts.next().unwrap_or("");
                let stamp = self.timestamp.as_deref().unwrap_or("(not captured)");
                c.note = Some(format!(
                    "the password is not revealed: the digest {digest} is MD5 of the greeting's timestamp {stamp} followed by the password, and can be attacked offline with a word list"
                ));
                c.evidence = vec![cmd.clone()];
                self.verdict_for = Some(self.report(c, out));
                Cmd::Apop
            }
            "AUTH" => {
                let mut parts = rest.split_whitespace();
                match parts.next() {
                    Some(mech) => {
                        let initial = parts.next();
                        let mut ex = SaslExchange::start(
                            mech.as_bytes(),
                            initial.map(str::as_bytes),
                            line.text,
                        );
                        let idx = if ex.client_done() {
                            ex.take_credential().map(|c| self.report(c, out))
                        } else {
                            None
                        };
                        self.sasl = Some((ex, idx));
                        Cmd::Auth { listing: false }
                    }
                    None => Cmd::Auth { listing: true },
                }
            }
            "CAPA" => Cmd::Capa,
            "STLS" => {
                self.stls_asked = true;
                Cmd::Stls
            }
            "LIST" | "UIDL" => Cmd::Listing {
                multi: rest.trim().is_empty(),
            },
            "RETR" => match number() {
                Some(n) => Cmd::Retr(n),
                None => Cmd::Other,
            },
            "TOP" => match number() {
                Some(n) => Cmd::Top(n),
                None => Cmd::Other,
            },
            "DELE" => match number() {
                Some(n) => Cmd::Dele(n),
                None => Cmd::Other,
            },
            "RSET" => Cmd::Rset,
            "QUIT" => Cmd::Quit,
            "STAT" | "NOOP" | "LAST" | "RPOP" | "XTND" | "UTF8" | "LANG" => Cmd::Other,
            _ => {
                let shaped = !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_alphanumeric());
                let what = if shaped {
                    "unknown POP3 command"
                } else {
                    "not a POP3 command"
                };
                out.finding(
                    Severity::Info,
                    FindingCode::ProtocolAnomaly,
                    format!("{what}: {} at offset {}", quote(line.text), line.start),
                );
                Cmd::Other
            }
        };
        self.push(c);
    }

    /// Records a credential seen in clear (with its `plaintext-auth`).
    fn report(&mut self, c: Credential, out: &mut Dialogue) -> usize {
        let what = match c.mechanism.as_str() {
            "USER-PASS" => "POP3 USER/PASS".to_string(),
            "APOP" => "POP3 APOP".to_string(),
            m => format!("POP3 AUTH {m}"),
        };
        out.credential_seen(c, &what, self.tls)
    }

    // ---- server side ----------------------------------------------------

    fn server_line(&mut self, line: Line, continues: bool, out: &mut Dialogue) {
        if let Some(multi) = self.multi.as_mut() {
            if !continues && line.text == b"." && line.ending != Ending::None {
                let multi = self.multi.take().expect("checked above");
                if let Multi::Message(m) = multi {
                    self.end_message(*m, true, out);
                }
                out.line(S, LineKind::Reply, line.text, line.start, line.end);
                return;
            }
            // RFC 1939 §3: a leading "." was doubled by the server.
            let body = if !continues && line.text.first() == Some(&b'.') {
                &line.text[1..]
            } else {
                line.text
            };
            match multi {
                Multi::Message(m) => {
                    out.data_line(S, line.text, line.start, line.end);
                    m.push(body, out);
                    m.push(line.ending.as_bytes(), out);
                }
                Multi::Capa => {
                    out.line(S, LineKind::Reply, line.text, line.start, line.end);
                    out.capabilities.push(text(body).trim().to_string());
                    if body.trim_ascii().eq_ignore_ascii_case(b"STLS") {
                        self.stls_offered = true;
                    }
                }
                Multi::Listing => out.line(S, LineKind::Reply, line.text, line.start, line.end),
            }
            return;
        }
        out.line(S, LineKind::Reply, line.text, line.start, line.end);
        let t = line.text;
        // A SASL challenge: "+ base64" or a bare "+" (RFC 5034 §4).
        if (t == b"+" || t.starts_with(b"+ "))
            && matches!(self.pending.front(), Some(Cmd::Auth { listing: false }))
        {
            if let Some((ex, _)) = self.sasl.as_mut() {
                ex.challenge(t.get(2..).unwrap_or_default());
                self.sasl_awaiting_response = true;
            }
            return;
        }
        let ok = t.starts_with(b"+OK");
        if !ok && !t.starts_with(b"-ERR") {
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                format!("not a POP3 reply: {} at offset {}", quote(t), line.start),
            );
            return;
        }
        if !self.greeted && self.pending.is_empty() {
            self.greeted = true;
            // RFC 1939 §7: an APOP server puts a timestamp in its greeting.
            let g = text(t);
            if let (Some(a), Some(b)) = (g.find('<'), g.rfind('>'))
                && a < b
            {
                self.timestamp = Some(g[a..=b].to_string());
            }
            return;
        }
        self.greeted = true;
        let Some(cmd) = self.pending.pop_front() else {
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                format!("reply without a command: {}", quote(t)),
            );
            return;
        };
        match cmd {
            Cmd::Pass | Cmd::Apop => {
                if let Some(i) = self.verdict_for.take() {
                    out.credential_result(i, ok);
                }
            }
            Cmd::Auth { listing } => {
                self.sasl_awaiting_response = false;
                if listing {
                    if ok {
                        self.multi = Some(Multi::Listing);
                    }
                } else if let Some((mut ex, idx)) = self.sasl.take() {
                    let idx = idx.or_else(|| ex.take_credential().map(|c| self.report(c, out)));
                    if let Some(i) = idx {
                        out.credential_result(i, ok);
                    }
                }
            }
            Cmd::Capa if ok => {
                out.capabilities.clear();
                self.multi = Some(Multi::Capa);
            }
            Cmd::Stls => {
                if ok {
                    self.tls = true;
                } else {
                    out.starttls_refused("STLS", &text(t));
                }
            }
            Cmd::Listing { multi: true } if ok => self.multi = Some(Multi::Listing),
            Cmd::Retr(n) | Cmd::Top(n) if ok => {
                let (via, part, verb) = match cmd {
                    Cmd::Retr(_) => (Via::Retr, Part::Full, "RETR"),
                    _ => (Via::Top, Part::Top, "TOP"),
                };
                let mut raw = RawMessage::new(via, part, format!("{verb} {n}"));
                raw.number = Some(n);
                self.multi = Some(Multi::Message(Box::new(Incoming::new(raw, line.end))));
            }
            Cmd::Dele(n) if ok => {
                self.marked.insert(n);
            }
            Cmd::Rset if ok => self.marked.clear(),
            Cmd::Quit if ok => {
                // RFC 1939 §6: the UPDATE state; marked messages go now.
                self.quit_ok = true;
                for &(number, idx) in &self.retrieved {
                    out.messages[idx].deleted = Some(self.marked.contains(&number));
                }
            }
            _ => {}
        }
    }

    fn end_message(&mut self, mut m: Incoming, complete: bool, out: &mut Dialogue) {
        m.raw.complete &= complete;
        m.raw.ts = out.now(S);
        let (end, start) = (m.start + m.size, m.start);
        let lines = if out.wants_transcript() { m.lines() } else { 0 };
        let number = m.raw.number.unwrap_or(0);
        let idx = out.message(m.raw);
        if !out.options.full {
            let r = &out.messages[idx];
            let note = Incoming::summary(r.size as usize, lines, r.complete, r.subject.as_deref());
            out.note(S, LineKind::Data, note, start, end);
        }
        self.retrieved.push((number, idx));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::sha256_hex;
    use crate::proto::Protocol;
    use crate::proto::testing::{self, codes, creds, encrypted, transcript};

    fn run(script: &[(Direction, &[u8])]) -> Dialogue {
        testing::run(&mut Pop3Parser::new(), Protocol::Pop3, script, false)
    }

    const M1: &[u8] = b"From: alice@crepes.fr\r\nSubject: one\r\n\r\nhi\r\n";

    #[test]
    fn textbook_download_and_delete() {
        let d = run(&[
            (S, b"+OK POP3 server ready\r\n"),
            (C, b"user bob\r\n"),
            (S, b"+OK\r\n"),
            (C, b"pass hungry\r\n"),
            (S, b"+OK user successfully logged on\r\n"),
            (C, b"list\r\n"),
            (S, b"+OK 1 messages\r\n1 46\r\n.\r\n"),
            (C, b"retr 1\r\n"),
            (S, b"+OK 46 octets\r\n"),
            (S, M1),
            (S, b".\r\n"),
            (C, b"dele 1\r\n"),
            (S, b"+OK message 1 deleted\r\n"),
            (C, b"quit\r\n"),
            (S, b"+OK POP3 server signing off\r\n"),
        ]);
        let c = &d.credentials[0];
        assert_eq!(
            (
                c.mechanism.as_str(),
                c.username.as_deref(),
                c.password.as_deref(),
                c.success
            ),
            ("USER-PASS", Some("bob"), Some("hungry"), Some(true))
        );
        assert_eq!(codes(&d), ["plaintext-auth"]);
        let m = &d.messages[0];
        assert_eq!((m.size, m.number, m.deleted), (43, Some(1), Some(true)));
        assert_eq!(m.sha256, sha256_hex(M1));
        assert_eq!(m.via, Via::Retr);
        assert_eq!(
            transcript(&d)[6..13],
            [
                "S: +OK 1 messages",
                "S: 1 46",
                "S: .",
                "C: retr 1",
                "S: +OK 46 octets",
                "S: [message: 43 bytes, 4 lines, Subject: one]",
                "S: ."
            ]
        );
    }

    #[test]
    fn dot_stuffed_message_byte_by_byte() {
        let wire = b"+OK\r\nSubject: dots\r\n\r\n..x\r\n..\r\n.\r\n";
        let mut script: Vec<(Direction, &[u8])> = vec![(S, b"+OK ready\r\n"), (C, b"RETR 2\r\n")];
        for i in 0..wire.len() {
            script.push((S, &wire[i..i + 1]));
        }
        let d = run(&script);
        let expected = b"Subject: dots\r\n\r\n.x\r\n.\r\n";
        assert_eq!(d.messages[0].sha256, sha256_hex(expected));
        assert!(d.messages[0].complete);
        // Retrieved, never deleted, but no QUIT: nothing is said.
        assert_eq!(d.messages[0].deleted, None);
    }

    #[test]
    fn top_rset_and_no_quit() {
        let d = run(&[
            (S, b"+OK\r\n"),
            (C, b"TOP 1 0\r\nRETR 2\r\nDELE 2\r\nRSET\r\nDELE 2\r\n"),
            (S, b"+OK\r\nSubject: a\r\n\r\n.\r\n"),
            (
                S,
                b"+OK\r\nSubject: b\r\n\r\nbody\r\n.\r\n+OK\r\n+OK\r\n+OK\r\n",
            ),
        ]);
        let got: Vec<(Via, &str, Option<u64>, Option<bool>)> = d
            .messages
            .iter()
            .map(|m| (m.via, m.part.as_str(), m.number, m.deleted))
            .collect();
        assert_eq!(
            got,
            [
                (Via::Top, "top", Some(1), None),
                (Via::Retr, "full", Some(2), Some(false))
            ]
        );
        assert_eq!(codes(&d), ["pop3-deletions-not-committed"]);
    }

    #[test]
    fn err_replies_carry_no_message() {
        let d = run(&[
            (S, b"+OK\r\n"),
            (C, b"RETR 9\r\n"),
            (S, b"-ERR no such message\r\n"),
            (C, b"STAT\r\n"),
            (S, b"+OK 0 0\r\n"),
        ]);
        assert!(d.messages.is_empty());
        assert!(d.findings.is_empty());
    }

    #[test]
    fn apop_reveals_only_a_digest() {
        // RFC 1939 §7's example.
        let d = run(&[
            (
                S,
                b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
            ),
            (C, b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
            (S, b"+OK maildrop has 1 message (369 octets)\r\n"),
        ]);
        let c = &d.credentials[0];
        assert_eq!(
            (
                c.mechanism.as_str(),
                c.username.as_deref(),
                c.password.as_deref(),
                c.success
            ),
            ("APOP", Some("mrose"), None, Some(true))
        );
        assert!(
            c.note
                .as_deref()
                .unwrap()
                .contains("<1896.697170952@dbc.mtview.ca.us>")
        );
    }

    #[test]
    fn sasl_plain_login_and_initial_response() {
        let d = run(&[
            (S, b"+OK\r\n"),
            (C, b"AUTH PLAIN\r\n"),
            (S, b"+ \r\n"),
            (C, b"AGJvYgBodW5ncnk=\r\n"),
            (S, b"+OK welcome\r\n"),
            (C, b"AUTH LOGIN\r\n"),
            (S, b"+ VXNlcm5hbWU6\r\n"),
            (C, b"Ym9i\r\n"),
            (S, b"+ UGFzc3dvcmQ6\r\n"),
            (C, b"d3Jvbmc=\r\n"),
            (S, b"-ERR authentication failed\r\n"),
            (C, b"AUTH PLAIN AGJvYgBodW5ncnk=\r\n"),
            (S, b"+OK\r\n"),
        ]);
        let got = creds(&d);
        assert_eq!(
            got,
            [
                ("PLAIN", Some("bob"), Some("hungry"), Some(true)),
                ("LOGIN", Some("bob"), Some("wrong"), Some(false)),
                ("PLAIN", Some("bob"), Some("hungry"), Some(true)),
            ]
        );
    }

    #[test]
    fn stls_accepted_refused_and_not_used() {
        let d = run(&[
            (S, b"+OK\r\n"),
            (C, b"CAPA\r\n"),
            (S, b"+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
            (C, b"STLS\r\n"),
            (S, b"+OK begin TLS\r\n"),
            (C, &[0x16, 3, 1, 0, 1, 1]),
        ]);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(encrypted(&d, C), 6);
        let refused = run(&[(S, b"+OK\r\n"), (C, b"STLS\r\n"), (S, b"-ERR no\r\n")]);
        assert_eq!(codes(&refused), ["starttls-refused"]);
        let unused = run(&[
            (S, b"+OK\r\n"),
            (C, b"CAPA\r\n"),
            (S, b"+OK\r\nSTLS\r\n.\r\n"),
            (C, b"QUIT\r\n"),
            (S, b"+OK\r\n"),
        ]);
        assert_eq!(codes(&unused), ["starttls-not-used"]);
    }

    #[test]
    fn garbage_is_an_anomaly_and_parsing_goes_on() {
        let d = run(&[
            (S, b"+OK\r\n"),
            (C, b"\x01\x02 junk\r\nNOOP\r\n"),
            (S, b"-ERR what\r\n+OK\r\n"),
            (S, b"HTTP/1.1 200 OK\r\n"),
        ]);
        assert_eq!(codes(&d), ["protocol-anomaly", "protocol-anomaly"]);
    }
}
