//! The analyzer's POP3 dialogue parser.
//!
//! Every response answers the oldest command still waiting (clients may
//! pipeline, RFC 2449 §6.6). Whether a `+OK` starts a multi-line response
//! depends on the command it answers: LIST and UIDL without argument, RETR,
//! TOP, CAPA, and AUTH without argument. In a multi-line response a line
//! starting with "." has had one more "." put in front (RFC 1939 §3); the
//! parser removes it, so a retrieved message is exactly what the mailbox
//! held.

use std::collections::{BTreeSet, VecDeque};

use super::command::{Command, Scan};
use crate::flow::Direction;
use crate::proto::dot::Unstuffer;
use crate::proto::incoming::Incoming;
use crate::proto::line_parser::{LineParser, LineProtocol, Lost, note_bare_lf};
use crate::proto::lines::Line;
use crate::proto::quote;
use crate::proto::sasl::SaslExchange;
use crate::trace::{Dialogue, FindingCode, LineKind, Severity};

pub(super) const C: Direction = Direction::ClientToServer;
pub(super) const S: Direction = Direction::ServerToClient;

/// RFC 2449 §4: a command line is at most 255 octets, a response line 512.
const MAX_COMMAND_LINE: usize = 255;
const MAX_RESPONSE_LINE: usize = 512;
/// Commands waiting for a reply; beyond this the oldest are forgotten.
const MAX_PENDING: usize = 1000;

/// A command waiting for its reply.
#[derive(Clone, Debug)]
pub(super) enum Cmd {
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
        verb: &'static str,
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
pub(super) enum Multi {
    Message(Box<Incoming>),
    Capa,
    Listing,
}

/// The POP3 dialogue parser (see the module documentation).
pub type Pop3Parser = LineParser<State>;

/// Everything the parser knows about the session so far.
#[derive(Debug, Default)]
pub struct State {
    pub(super) pending: VecDeque<Cmd>,
    pub(super) greeted: bool,
    /// The APOP timestamp of the greeting, `<1896.697170952@dbc.mtview.ca.us>`.
    pub(super) timestamp: Option<String>,
    pub(super) multi: Option<Multi>,
    /// Where the lines of the multi-line response stand.
    pub(super) dot: Unstuffer,
    /// USER's argument and line, waiting for PASS.
    pub(super) user: Option<(String, String)>,
    /// Credential waiting for the server's verdict (PASS, APOP).
    pub(super) verdict_for: Option<usize>,
    pub(super) sasl: Option<(SaslExchange, Option<usize>)>,
    pub(super) sasl_awaiting_response: bool,
    /// Messages marked by DELE (+OK), until RSET or QUIT.
    pub(super) marked: BTreeSet<u64>,
    /// Retrieved messages: (message number, index in the dialogue).
    pub(super) retrieved: Vec<(u64, usize)>,
    pub(super) quit_ok: bool,
    pub(super) stls_offered: bool,
    pub(super) stls_asked: bool,
    pub(super) tls: bool,
    /// The CAPA response listed PIPELINING (RFC 2449 §6.6): the client may
    /// send commands before the replies to earlier ones have ended.
    pub(super) pipelining: bool,
    /// What the multi-line response being read answers ("LIST", "RETR 1")
    /// and the stream offset of its status line: for the finding when it
    /// is left unterminated.
    pub(super) multi_of: (String, u64),
    /// The client sent a command while the server was inside a multi-line
    /// response: it thinks the response is over (see `resync`).
    pub(super) client_moved_on: bool,
    bare_lf: [bool; 2],
    overlong: bool,
}

impl LineProtocol for State {
    fn in_tls(&self) -> bool {
        self.tls
    }

    fn set_tls(&mut self, tls: bool) {
        self.tls = tls;
    }

    fn tls_may_start(&self) -> bool {
        self.stls_asked
    }

    fn finish(&mut self, out: &mut Dialogue) {
        if let Some(Multi::Message(m)) = self.multi.take() {
            // The flow ended inside a message: hand on what was seen.
            self.end_message(*m, false, out);
        }
        self.finish_auth(out);
        if !self.quit_ok && !self.marked.is_empty() {
            // RFC 1939 §6: without QUIT the server must not delete.
            let numbers: Vec<String> = self.marked.iter().map(u64::to_string).collect();
            for &(number, idx) in &self.retrieved {
                if self.marked.contains(&number) {
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
        if self.stls_offered && !self.tls && !self.stls_asked {
            out.starttls_not_used("STLS");
        }
    }

    fn line(&mut self, dir: Direction, line: Line, continues: bool, out: &mut Dialogue) {
        self.check_line(dir, &line, out);
        match dir {
            Direction::ClientToServer => self.client_line(line, continues, out),
            Direction::ServerToClient => {
                if self.multi.is_some() && !continues {
                    self.resync(&line, out);
                }
                self.server_line(line, out)
            }
        }
    }

    fn gap(&mut self, dir: Direction, lost: Lost, out: &mut Dialogue) {
        if dir == C {
            return;
        }
        self.dot.gap();
        if let Some(Multi::Message(m)) = self.multi.as_mut() {
            if let Some(partial) = &lost.partial {
                m.push(partial, out);
            }
            m.lost(lost.len);
        }
    }
}

impl State {
    fn check_line(&mut self, dir: Direction, line: &Line, out: &mut Dialogue) {
        note_bare_lf(&mut self.bare_lf, dir, line, "RFC 1939 §3", out);
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

    fn client_line(&mut self, line: Line, continues: bool, out: &mut Dialogue) {
        out.line(C, LineKind::Command, line.text, line.start, line.end);
        if continues {
            return;
        }
        if self.multi.is_some() {
            self.client_moved_on = true;
        }
        if self.sasl_awaiting_response {
            self.sasl_awaiting_response = false;
            self.sasl_response(line.text, out);
            return;
        }
        let cmd = match Command::parse(line.text) {
            Command::User(name) => {
                self.user = Some((name, String::from_utf8_lossy(line.text).into_owned()));
                Cmd::User
            }
            Command::Pass(password) => {
                self.pass(password, line.text, out);
                Cmd::Pass
            }
            Command::Apop { name, digest } => {
                self.apop(name, &digest, line.text, out);
                Cmd::Apop
            }
            Command::Auth {
                mechanism: Some(mechanism),
                initial_response,
            } => {
                self.start_auth(&mechanism, initial_response.as_deref(), line.text, out);
                Cmd::Auth { listing: false }
            }
            Command::Auth {
                mechanism: None, ..
            } => Cmd::Auth { listing: true },
            Command::Capa => Cmd::Capa,
            Command::Stls => {
                self.stls_asked = true;
                Cmd::Stls
            }
            Command::List(scan) => Cmd::Listing {
                verb: "LIST",
                multi: scan == Scan::All,
            },
            Command::Uidl(scan) => Cmd::Listing {
                verb: "UIDL",
                multi: scan == Scan::All,
            },
            Command::Retr(Some(n)) => Cmd::Retr(n),
            Command::Top {
                message: Some(n), ..
            } => Cmd::Top(n),
            Command::Dele(Some(n)) => Cmd::Dele(n),
            Command::Rset => Cmd::Rset,
            Command::Quit => Cmd::Quit,
            Command::Retr(None)
            | Command::Top { message: None, .. }
            | Command::Dele(None)
            | Command::Stat
            | Command::Noop
            | Command::Extension(_) => Cmd::Other,
            Command::Unknown(v) => {
                let what = if super::command::looks_like_a_verb(&v.verb) {
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
        self.push(cmd);
    }
}
