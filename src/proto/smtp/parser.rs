//! The analyzer's SMTP dialogue parser: both directions of a captured
//! session in, transcript, messages, transactions, credentials and
//! findings out.
//!
//! How it reads a session:
//! * Every client command is queued; every complete reply (multi-line
//!   replies end with `ddd SP`, RFC 5321 §4.2.1) answers the oldest queued
//!   command. That one rule also covers PIPELINING (RFC 2920), where a
//!   client sends MAIL, RCPT, RCPT, DATA at once and the replies follow in
//!   order.
//! * Transactions are kept in the order of their MAIL commands, so that a
//!   pipelined `MAIL … DATA … . MAIL …` gives each message its own envelope
//!   even before any reply came back (see `transaction.rs`).
//! * After DATA the client sends the message (see `data.rs`), after BDAT
//!   counted chunks (see `bdat.rs`). Text sent before the server's 354 is
//!   a message only once the 354 comes (RFC 2920 §3.1); refused, it was
//!   read by the server as commands, and is read so here too.
//! * After `220` to STARTTLS both sides speak TLS (RFC 3207 §4): from then
//!   on bytes go to the session's TLS layer.

use std::collections::VecDeque;

use super::command::Command;
use super::reply::ReplyReader;
use crate::flow::Direction;
use crate::proto::dot::Unstuffer;
use crate::proto::incoming::Incoming;
use crate::proto::line_parser::{LineParser, LineProtocol, Lost};
use crate::proto::lines::Line;
use crate::proto::quote;
use crate::proto::sasl::SaslExchange;
use crate::trace::{Dialogue, FindingCode, LineKind, Severity, TxStatus};

pub(super) const C: Direction = Direction::ClientToServer;
pub(super) const S: Direction = Direction::ServerToClient;

/// Commands waiting for their reply; beyond this the oldest are forgotten
/// (a client pipelining without end, or replies missing from the capture).
pub(super) const MAX_PENDING: usize = 1000;

/// A command waiting for its reply.
#[derive(Clone, Debug)]
pub(super) enum Pending {
    /// `before`: the transactions started before this command, which end
    /// if the server accepts it (RFC 5321 §4.1.4).
    Helo {
        name: String,
        before: u64,
    },
    /// `before`: the transaction open when MAIL was sent, which stays
    /// open if this MAIL is refused (RFC 5321 §4.1.4).
    Mail {
        tx: u64,
        before: Option<u64>,
    },
    Rcpt {
        tx: Option<u64>,
        to: String,
    },
    /// DATA: the reply is 354 (go ahead) or a rejection. `text`: what the
    /// parser made of the lines after it meanwhile.
    Data {
        tx: Option<u64>,
        text: DataText,
    },
    /// The end of a message (`.` or BDAT LAST): the reply is the verdict.
    /// `held`: the held message it ends, if it was held (see `data.rs`).
    MessageEnd {
        tx: Option<u64>,
        message: Ended,
        held: Option<u64>,
    },
    /// A BDAT chunk that is not the last.
    Bdat {
        tx: Option<u64>,
    },
    Rset {
        before: u64,
    },
    Starttls,
    Auth,
    Quit,
    Other,
}

/// What became of the text after a DATA while its answer is awaited (see
/// `data.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DataText {
    /// Every recipient was refused: the parser waits for the answer before
    /// taking lines as message.
    Waited,
    /// Being read as the message.
    Coming,
    /// Ended before the answer, and held until it comes.
    Held(u64),
    /// Ended and handed on before any reply of the server was seen (one
    /// side captured).
    HandedOn,
}

/// What the end of a message left: a `message` record (its index in the
/// dialogue's messages), a message held until the server answers its DATA
/// (see `data.rs`), or nothing: an empty message (nothing between the 354
/// and the `.`, `BDAT 0 LAST` alone) has no record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ended {
    Record(usize),
    Held(u64),
    Empty,
}

/// What the client side is sending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum ClientMode {
    #[default]
    Commands,
    /// Message lines after DATA; `confirmed` once the 354 was seen.
    Data { confirmed: bool },
    /// BDAT chunk bytes still to come; `last` for BDAT … LAST.
    Chunk { remaining: u64, last: bool },
}

/// The message being received, with what SMTP needs besides.
#[derive(Debug)]
pub(super) struct Receiving {
    pub(super) m: Incoming,
    /// Wire bytes of the lines read in unconfirmed data mode, to be read
    /// again as commands if the server rejects DATA.
    pub(super) replay: Vec<u8>,
    pub(super) replay_overflow: bool,
    /// Wire bytes and lines read before the server answered DATA.
    pub(super) sent: u64,
    pub(super) sent_lines: u64,
    /// Where its first line read before the server's answer went in the
    /// transcript (its length then): the client's entries from there are
    /// the text's.
    pub(super) mark: Option<usize>,
}

/// The SMTP dialogue parser (see the module documentation).
pub type SmtpParser = LineParser<State>;

/// Everything the parser knows about the session so far.
#[derive(Debug, Default)]
pub struct State {
    pub(super) mode: ClientMode,
    pub(super) pending: VecDeque<Pending>,
    pub(super) replies: ReplyReader,
    pub(super) greeted: bool,
    /// HELO/EHLO name the server accepted, and the last one claimed.
    pub(super) helo: Option<String>,
    pub(super) helo_claimed: Option<String>,
    /// EHLO keywords the server advertised (uppercase).
    pub(super) extensions: Vec<String>,
    /// Open transactions, oldest first.
    pub(super) txs: VecDeque<super::transaction::Tx>,
    /// Recorded transactions with RCPT replies still to come.
    pub(super) settling: VecDeque<super::transaction::Settling>,
    /// A complete reply from the server was seen: the server's side is in
    /// the capture, so text sent before its 354 waits for its answer.
    pub(super) server_replied: bool,
    pub(super) next_tx: u64,
    /// The transaction new RCPT and DATA commands belong to.
    pub(super) current_tx: Option<u64>,
    pub(super) incoming: Option<Receiving>,
    /// Messages whose end came before the server's answer to their DATA,
    /// oldest first (see `data.rs`).
    pub(super) held: VecDeque<super::data::Held>,
    pub(super) next_held: u64,
    /// `protocol-anomaly` for text sent before the 354, once per flow.
    pub(super) early_text_noted: bool,
    /// Where DATA lines stand: the end of the data, stuffed dots.
    pub(super) dot: Unstuffer,
    /// The first lone "." with a bare LF next to it in the message being
    /// received (not an end, unless the server shows it took it for one).
    pub(super) bare_lf_dot: Option<super::data::BareLfDot>,
    pub(super) sasl: Option<(SaslExchange, Option<usize>)>,
    /// A 334 challenge was seen: the next client line is a SASL response.
    pub(super) sasl_awaiting_response: bool,
    pub(super) authenticated: bool,
    pub(super) starttls_asked: bool,
    pub(super) tls: bool,
    /// Stream offset after the last client line.
    pub(super) client_pos: u64,
    /// A line of BDAT chunk bytes being gathered for `dialog --full`.
    pub(super) chunk_line: Vec<u8>,
    pub(super) chunk_line_start: u64,
    /// Lines of a refused DATA are being read again as commands.
    pub(super) rereading: bool,
    /// Findings raised once per flow.
    pub(super) bare_lf: [bool; 2],
    pub(super) overlong: bool,
}

impl SmtpParser {
    /// The extensions the server advertised in its EHLO reply.
    pub fn extensions(&self) -> &[String] {
        &self.protocol.extensions
    }
}

impl LineProtocol for State {
    fn in_tls(&self) -> bool {
        self.tls
    }

    fn set_tls(&mut self, tls: bool) {
        self.tls = tls;
    }

    fn tls_may_start(&self) -> bool {
        self.starttls_asked && self.mode == ClientMode::Commands
    }

    fn counted(&self, dir: Direction) -> Option<u64> {
        match self.mode {
            ClientMode::Chunk { remaining, .. } if dir == C => Some(remaining),
            _ => None,
        }
    }

    fn counted_bytes(&mut self, bytes: &[u8], start: u64, out: &mut Dialogue) {
        self.chunk_bytes(bytes, start, out);
    }

    fn finish(&mut self, out: &mut Dialogue) {
        if !self.tls
            && let Some(reply) = self.replies.take()
        {
            self.reply_done(reply, out);
        }
        // Messages whose DATA the capture holds no answer to: what the
        // client sent, as with a capture of the client's side only.
        while let Some(h) = self.held.pop_front() {
            self.release_held(h, out);
        }
        if self.incoming.is_some() {
            // The flow ended inside a message: hand on what was seen.
            self.end_message(false, out);
        }
        self.finish_auth(out);
        while let Some(tx) = self.txs.pop_front() {
            self.record(tx, TxStatus::Aborted, None, out);
        }
        let offered = self.extensions.iter().any(|e| e == "STARTTLS");
        if offered && !self.tls && !self.starttls_asked {
            out.starttls_not_used("STARTTLS");
        }
    }

    fn line(&mut self, dir: Direction, line: Line, continues: bool, out: &mut Dialogue) {
        self.check_line(dir, &line, continues, out);
        match dir {
            Direction::ClientToServer => self.client_line(line, continues, out),
            Direction::ServerToClient => self.server_line(line, out),
        }
    }

    fn gap(&mut self, dir: Direction, lost: Lost, out: &mut Dialogue) {
        if dir == S {
            self.replies.reset();
            return;
        }
        self.data_gap();
        if let Some(r) = self.incoming.as_mut() {
            // The message goes on but is not what was sent; the start of
            // the line the gap cut is still part of it.
            if let Some(partial) = &lost.partial {
                r.m.push(partial, out);
            }
            r.m.lost(lost.len);
        }
        if let ClientMode::Chunk { remaining, last } = self.mode {
            let left = remaining.saturating_sub(lost.len);
            if left == 0 {
                self.chunk_bytes(&[], lost.start + lost.len, out);
            } else {
                self.mode = ClientMode::Chunk {
                    remaining: left,
                    last,
                };
            }
        }
    }
}

impl State {
    pub(super) fn client_line(&mut self, line: Line, continues_overlong: bool, out: &mut Dialogue) {
        self.client_pos = line.end;
        if let ClientMode::Data { confirmed } = self.mode {
            self.data_line(line, confirmed, out);
            return;
        }
        out.line(C, LineKind::Command, line.text, line.start, line.end);
        if continues_overlong {
            // The rest of an over-long command: shown, not interpreted.
            return;
        }
        if self.sasl_awaiting_response && self.sasl.is_some() {
            self.sasl_awaiting_response = false;
            self.sasl_response(line.text, out);
            return;
        }
        self.command(line, out);
    }

    /// A command line: what it starts, and the reply it now waits for.
    fn command(&mut self, line: Line, out: &mut Dialogue) {
        let command = Command::parse(line.text);
        let pending = match command {
            Command::Helo(_) | Command::Ehlo(_) => {
                let name = command.hello_name().unwrap_or("").to_string();
                self.helo_claimed = Some(name.clone());
                out.helo = Some(name.clone());
                // The transaction ends only if the server accepts the
                // greeting (a rejected EHLO changes nothing).
                Pending::Helo {
                    name,
                    before: self.next_tx,
                }
            }
            Command::Mail(None) => return self.anomaly(&line, "MAIL without FROM:", out),
            Command::Mail(Some(from)) => {
                if self.helo.is_none() && self.helo_claimed.is_none() {
                    out.finding(
                        Severity::Info,
                        FindingCode::ProtocolAnomaly,
                        "MAIL FROM without a HELO/EHLO first (RFC 5321 §4.1.4)",
                    );
                }
                let before = self.current_tx;
                let tx = self.open_tx(Some(from.as_sent));
                Pending::Mail { tx, before }
            }
            Command::Rcpt(None) => return self.anomaly(&line, "RCPT without TO:", out),
            Command::Rcpt(Some(to)) => self.rcpt(to.as_sent),
            Command::Data => {
                let text = self.start_data(&line, out);
                Pending::Data {
                    tx: self.current_tx,
                    text,
                }
            }
            Command::Bdat(bdat) => return self.bdat(bdat, line, out),
            Command::Rset => {
                self.current_tx = None;
                Pending::Rset {
                    before: self.next_tx,
                }
            }
            Command::Quit => Pending::Quit,
            Command::Starttls => {
                self.starttls_asked = true;
                Pending::Starttls
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                self.start_auth(&mechanism, initial_response.as_deref(), line.text, out);
                Pending::Auth
            }
            Command::Noop(_)
            | Command::Vrfy(_)
            | Command::Expn(_)
            | Command::Help(_)
            | Command::Etrn(_)
            | Command::Atrn(_)
            | Command::Turn
            | Command::Extension(_) => Pending::Other,
            Command::Unknown(v) => {
                let what = if super::command::looks_like_a_verb(&v.verb) {
                    "unknown SMTP command"
                } else {
                    "not an SMTP command"
                };
                self.anomaly(&line, what, out);
                Pending::Other
            }
        };
        self.push_pending(pending);
    }

    pub(super) fn push_pending(&mut self, p: Pending) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(p);
    }

    pub(super) fn anomaly(&mut self, line: &Line, what: &str, out: &mut Dialogue) {
        if self.rereading {
            // Message text read again as commands: the data-rejected
            // finding says what those lines were.
            return;
        }
        out.finding(
            Severity::Info,
            FindingCode::ProtocolAnomaly,
            format!("{what}: {} at offset {}", quote(line.text), line.start),
        );
    }
}
