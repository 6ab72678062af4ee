//! SMTP and ESMTP as seen on the wire (RFC 5321), with its extensions:
//! SIZE (RFC 1870), PIPELINING (RFC 2920), CHUNKING/BDAT (RFC 3030),
//! STARTTLS (RFC 3207) and AUTH (RFC 4954).
//!
//! An SMTP session is a dialogue of commands and numbered replies:
//!
//! ```text
//! S: 220 hamburger.edu                      greeting
//! C: HELO crepes.fr                         who the client says it is
//! S: 250 Hello crepes.fr, pleased to meet you
//! C: MAIL FROM: <alice@crepes.fr>           a transaction starts: the envelope
//! S: 250 alice@crepes.fr ... Sender ok
//! C: RCPT TO: <bob@hamburger.edu>           one per recipient
//! S: 250 bob@hamburger.edu ... Recipient ok
//! C: DATA
//! S: 354 Enter mail, end with "." on a line by itself
//! C: …the message, dot-stuffed…
//! C: .
//! S: 250 Message accepted for delivery      the transaction ends
//! C: QUIT
//! S: 221 hamburger.edu closing connection
//! ```
//!
//! How this parser reads it:
//! * Every client command is queued; every complete reply (multi-line
//!   replies end with `ddd SP`, RFC 5321 §4.2.1) answers the oldest queued
//!   command. That one rule also covers PIPELINING, where a client sends
//!   MAIL, RCPT, RCPT, DATA at once and the replies follow in order.
//! * Transactions are kept in the order of their MAIL commands, so that a
//!   pipelined `MAIL … DATA … . MAIL …` gives each message its own envelope
//!   even before any reply came back. The envelope counts only what the
//!   server accepted (a rejected RCPT is kept apart); when no reply is in
//!   the capture (one side captured), what the client sent is used.
//! * After DATA the client sends the message, a line `.` ends it and lines
//!   starting with `.` lose that dot (RFC 5321 §4.5.2). The parser switches
//!   to message mode as soon as the client says DATA (a capture may hold the
//!   message before the 354, or no server side at all) and switches back,
//!   reading those lines as commands again, if the server rejects DATA.
//! * BDAT n carries exactly n bytes after its line, whatever they contain
//!   (RFC 3030 §2); BDAT … LAST ends the message.
//! * After `220` to STARTTLS both sides speak TLS (RFC 3207 §4): from then
//!   on bytes go to the TLS tracker.

use std::collections::VecDeque;

use super::incoming::Incoming;
use super::lines::{Ending, Line, LineReader};
use super::sasl::SaslExchange;
use super::{MailParser, quote, text};
use crate::flow::Direction;
use crate::trace::{
    Dialogue, FindingCode, LineKind, Part, RawMessage, Severity, Transaction, TxStatus, Via,
};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with CRLF.
const MAX_COMMAND_LINE: usize = 512;
/// RFC 5321 §4.5.3.1.6: a text line of a message is at most 1000 octets.
const MAX_TEXT_LINE: usize = 1000;
/// Commands waiting for their reply; beyond this the oldest are forgotten
/// (a client pipelining without end, or replies missing from the capture).
const MAX_PENDING: usize = 1000;
/// Message lines kept to be read again as commands if DATA is rejected.
const MAX_REPLAY: usize = 64 * 1024;

/// A command waiting for its reply.
#[derive(Clone, Debug)]
enum Pending {
    /// `before`: the transactions started before this command, which end
    /// if the server accepts it (RFC 5321 §4.1.4).
    Helo {
        name: String,
        before: u64,
    },
    Mail {
        tx: u64,
    },
    Rcpt {
        tx: Option<u64>,
        to: String,
    },
    /// DATA: the reply is 354 (go ahead) or a rejection.
    Data {
        tx: Option<u64>,
    },
    /// The end of a message (`.` or BDAT LAST): the reply is the verdict.
    /// `message` is the index in the dialogue's messages.
    MessageEnd {
        tx: Option<u64>,
        message: usize,
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

/// One mail transaction (RFC 5321 §3.3), from its MAIL command to the
/// verdict on its message (or its abort).
#[derive(Clone, Debug)]
struct Tx {
    id: u64,
    mail_from: Option<String>,
    /// RCPT TO as sent, accepted, refused; replies still awaited.
    rcpt_sent: Vec<String>,
    rcpt_to: Vec<String>,
    rcpt_rejected: Vec<String>,
    rcpt_waiting: usize,
    /// Its message, once the end of data was seen.
    message: Option<usize>,
}

impl Tx {
    /// The recipients of the envelope: those the server accepted, or, as
    /// long as no reply to a RCPT was seen (a one-sided capture, or
    /// pipelined commands whose replies come later), those the client sent.
    fn envelope_rcpt(&self) -> Vec<String> {
        if self.rcpt_to.is_empty() && self.rcpt_rejected.is_empty() {
            self.rcpt_sent.clone()
        } else {
            self.rcpt_to.clone()
        }
    }
}

/// What the client side is sending.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ClientMode {
    Commands,
    /// Message lines after DATA; `confirmed` once the 354 was seen.
    Data {
        confirmed: bool,
    },
    /// BDAT chunk bytes still to come; `last` for BDAT … LAST.
    Chunk {
        remaining: u64,
        last: bool,
    },
}

/// The message being received, with what SMTP needs besides.
#[derive(Debug)]
struct Receiving {
    m: Incoming,
    /// Wire bytes of the lines read in unconfirmed data mode, to be read
    /// again as commands if the server rejects DATA.
    replay: Vec<u8>,
    replay_overflow: bool,
}

/// A multi-line reply being gathered.
#[derive(Debug, Default)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

/// The SMTP dialogue parser (see the module documentation).
#[derive(Debug)]
pub struct SmtpParser {
    readers: [LineReader; 2],
    state: State,
}

#[derive(Debug)]
struct State {
    mode: ClientMode,
    pending: VecDeque<Pending>,
    reply: Option<Reply>,
    greeted: bool,
    /// The server's name from its greeting (`220 hamburger.edu …`).
    server_name: Option<String>,
    /// HELO/EHLO name the server accepted, and the last one claimed.
    helo: Option<String>,
    helo_claimed: Option<String>,
    /// EHLO keywords the server advertised (uppercase).
    extensions: Vec<String>,
    /// Open transactions, oldest first.
    txs: VecDeque<Tx>,
    next_tx: u64,
    /// The transaction new RCPT and DATA commands belong to.
    current_tx: Option<u64>,
    incoming: Option<Receiving>,
    sasl: Option<(SaslExchange, Option<usize>)>,
    /// A 334 challenge was seen: the next client line is a SASL response.
    sasl_awaiting_response: bool,
    authenticated: bool,
    starttls_asked: bool,
    tls: bool,
    /// Next stream offset of each direction once in TLS.
    /// Stream offset after the last client line.
    client_pos: u64,
    /// A line of BDAT chunk bytes being gathered for `dialog --full`.
    chunk_line: Vec<u8>,
    chunk_line_start: u64,
    /// Findings raised once per flow.
    bare_lf: [bool; 2],
    overlong: bool,
}

impl Default for SmtpParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SmtpParser {
    pub fn new() -> Self {
        SmtpParser {
            readers: [LineReader::new(), LineReader::new()],
            state: State {
                mode: ClientMode::Commands,
                pending: VecDeque::new(),
                reply: None,
                greeted: false,
                server_name: None,
                helo: None,
                helo_claimed: None,
                extensions: Vec::new(),
                txs: VecDeque::new(),
                next_tx: 0,
                current_tx: None,
                incoming: None,
                sasl: None,
                sasl_awaiting_response: false,
                authenticated: false,
                starttls_asked: false,
                tls: false,
                client_pos: 0,
                chunk_line: Vec::new(),
                chunk_line_start: 0,
                bare_lf: [false; 2],
                overlong: false,
            },
        }
    }

    /// The extensions the server advertised in its EHLO reply.
    pub fn extensions(&self) -> &[String] {
        &self.state.extensions
    }
}

impl MailParser for SmtpParser {
    fn feed(&mut self, dir: Direction, mut input: &[u8], out: &mut Dialogue) -> usize {
        let d = dir.index();
        let total = input.len();
        while !input.is_empty() {
            let st = &mut self.state;
            if st.tls {
                // The rest is TLS: the session takes it from here.
                return total - input.len();
            }
            if dir == C
                && let ClientMode::Chunk { remaining, last } = st.mode
            {
                let taken = self.readers[d].take(&mut input, remaining);
                st.chunk_bytes(taken.bytes, taken.start, last, out);
                continue;
            }
            if dir == C
                && st.starttls_asked
                && st.mode == ClientMode::Commands
                && self.readers[d].pending() == 0
                && super::tls::looks_like_handshake(input)
            {
                // The client started TLS: the server's 220 is not in the
                // capture (or came later), but the upgrade happened.
                st.tls = true;
            } else {
                let continues_overlong = self.readers[d].in_overlong_line();
                let Some(line) = self.readers[d].next_line(&mut input) else {
                    break;
                };
                st.check_line(dir, &line, continues_overlong, out);
                match dir {
                    Direction::ClientToServer => st.client_line(line, continues_overlong, out),
                    Direction::ServerToClient => st.server_line(line, out),
                }
            }
        }
        total
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Dialogue) {
        let st = &mut self.state;
        if st.tls {
            return;
        }
        let reader = &mut self.readers[dir.index()];
        let start = reader.position();
        let lost = reader.gap(len);
        out.gap(dir, start, len, lost.as_deref());
        if dir == C {
            if let Some(r) = st.incoming.as_mut() {
                // The message goes on but is not what was sent; the start
                // of the line the gap cut is still part of it.
                if let Some(partial) = &lost {
                    r.m.push(partial, out);
                }
                r.m.lost(len);
            }
            if let ClientMode::Chunk { remaining, last } = st.mode {
                let left = remaining.saturating_sub(len);
                if left == 0 {
                    st.chunk_bytes(&[], start + len, last, out);
                } else {
                    st.mode = ClientMode::Chunk {
                        remaining: left,
                        last,
                    };
                }
            }
        } else {
            st.reply = None;
        }
    }

    fn finish(&mut self, out: &mut Dialogue) {
        let st = &mut self.state;
        if !st.tls {
            for dir in [C, S] {
                let continues = self.readers[dir.index()].in_overlong_line();
                if let Some(line) = self.readers[dir.index()].finish() {
                    match dir {
                        Direction::ClientToServer => st.client_line(line, continues, out),
                        Direction::ServerToClient => st.server_line(line, out),
                    }
                }
            }
            if let Some(reply) = st.reply.take() {
                st.reply_done(reply, out);
            }
        }
        if st.incoming.is_some() {
            // The flow ended inside a message: hand on what was seen.
            st.end_message(false, out);
        }
        if let Some((mut ex, idx)) = st.sasl.take()
            && idx.is_none()
            && let Some(c) = ex.take_credential()
        {
            st.add_credential(c, out);
        }
        while let Some(tx) = st.txs.pop_front() {
            st.emit(tx, TxStatus::Aborted, None, out);
        }
        let offered = st.extensions.iter().any(|e| e == "STARTTLS");
        if offered && !st.tls && !st.starttls_asked {
            out.starttls_not_used("STARTTLS");
        }
    }

    fn upgraded_to_tls(&self) -> bool {
        self.state.tls
    }

    fn resume_plaintext(&mut self) {
        self.state.tls = false;
    }
}

/// The address inside `FROM:<…>` / `TO:<…>`, as sent: with its brackets,
/// without the parameters (SIZE=, BODY=, SMTPUTF8, NOTIFY=…).
fn path_arg(rest: &str) -> String {
    let rest = rest.trim_start();
    if rest.starts_with('<') {
        match rest.find('>') {
            Some(end) => rest[..=end].to_string(),
            None => rest.split_whitespace().next().unwrap_or("").to_string(),
        }
    } else {
        // Without brackets (not RFC 5321, but seen): up to the first space.
        rest.split_whitespace().next().unwrap_or("").to_string()
    }
}

/// The domain of an address (`<alice@crepes.fr>` → `crepes.fr`), lowercase.
pub(crate) fn domain_of(addr: &str) -> Option<String> {
    let a = addr.trim().trim_start_matches('<').trim_end_matches('>');
    let (_, d) = a.rsplit_once('@')?;
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

/// Whether mail for `domain` is the server's own: its name is the domain
/// or a host inside it (mx.hamburger.edu serves hamburger.edu), or the
/// organisation name is the same (mta5.mail.yahoo.com serves yahoo.fr).
/// Without the server's list of domains this is a guess, made to err on
/// the side of silence.
fn is_local_domain(server: &str, domain: &str) -> bool {
    let server = server.to_ascii_lowercase();
    if server == domain
        || server.ends_with(&format!(".{domain}"))
        || domain.ends_with(&format!(".{server}"))
    {
        return true;
    }
    // The label before the top-level domain ("yahoo" in yahoo.fr).
    let org = domain.rsplit('.').nth(1).unwrap_or(domain);
    server.split('.').any(|label| label == org)
}

/// Names that say nothing about who a server serves: addresses, single
/// labels, and the names of machines on a private network.
fn is_judgeable(name: &str) -> bool {
    let name = name.trim_matches(['[', ']']).to_ascii_lowercase();
    name.parse::<std::net::IpAddr>().is_err()
        && name.contains('.')
        && ![
            "localhost",
            "localdomain",
            "local",
            "lan",
            "internal",
            "home",
        ]
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")))
}

impl State {
    /// Line-level findings: bare LF and over-long lines.
    fn check_line(&mut self, dir: Direction, line: &Line, continues: bool, out: &mut Dialogue) {
        if line.ending == Ending::Lf && !self.bare_lf[dir.index()] {
            self.bare_lf[dir.index()] = true;
            let who = if dir == C { "client" } else { "server" };
            out.finding(
                Severity::Info,
                FindingCode::BareLf,
                format!("the {who} ends lines with a bare LF instead of CRLF (RFC 5321 §2.3.8)"),
            );
        }
        let in_text = dir == C && matches!(self.mode, ClientMode::Data { .. });
        let limit = if in_text {
            MAX_TEXT_LINE
        } else {
            MAX_COMMAND_LINE
        };
        let too_long = line.overlong || continues || line.wire_len() as usize > limit;
        if too_long && !self.overlong {
            self.overlong = true;
            let what = if in_text {
                "message text"
            } else {
                "command/reply"
            };
            out.finding(
                Severity::Medium,
                FindingCode::OverlongLine,
                format!(
                    "a {what} line of {}{} bytes exceeds the {limit}-octet limit of RFC 5321 §4.5.3.1",
                    line.wire_len(),
                    if line.overlong { "+" } else { "" }
                ),
            );
        }
    }

    // ---- client side ----------------------------------------------------

    fn client_line(&mut self, line: Line, continues_overlong: bool, out: &mut Dialogue) {
        self.client_pos = line.end;
        if let ClientMode::Data { confirmed } = self.mode {
            self.data_line(line, continues_overlong, confirmed, out);
            return;
        }
        if continues_overlong {
            // The rest of an over-long command: shown, not interpreted.
            out.line(C, LineKind::Command, line.text, line.start, line.end);
            return;
        }
        if self.sasl_awaiting_response && self.sasl.is_some() {
            self.sasl_awaiting_response = false;
            out.line(C, LineKind::Command, line.text, line.start, line.end);
            self.sasl_response(line.text, out);
            return;
        }
        out.line(C, LineKind::Command, line.text, line.start, line.end);
        self.command(line, out);
    }

    fn command(&mut self, line: Line, out: &mut Dialogue) {
        let cmd = text(line.text);
        let trimmed = cmd.trim_end();
        let (verb, rest) = match trimmed.split_once(' ') {
            Some((v, r)) => (v, r),
            None => (trimmed, ""),
        };
        let verb_up = verb.to_ascii_uppercase();
        let pending = match verb_up.as_str() {
            "HELO" | "EHLO" => {
                let name = rest.split_whitespace().next().unwrap_or("").to_string();
                self.helo_claimed = Some(name.clone());
                out.helo = Some(name.clone());
                // The transaction ends only if the server accepts the
                // greeting (a rejected EHLO changes nothing).
                Pending::Helo {
                    name,
                    before: self.next_tx,
                }
            }
            "MAIL" => {
                let Some(arg) = strip_prefix_ci(rest, "FROM:") else {
                    return self.anomaly(&line, "MAIL without FROM:", out);
                };
                if self.helo.is_none() && self.helo_claimed.is_none() {
                    out.finding(
                        Severity::Info,
                        FindingCode::ProtocolAnomaly,
                        "MAIL FROM without a HELO/EHLO first (RFC 5321 §4.1.4)",
                    );
                }
                let tx = self.open_tx(Some(path_arg(arg)));
                Pending::Mail { tx }
            }
            "RCPT" => {
                let Some(arg) = strip_prefix_ci(rest, "TO:") else {
                    return self.anomaly(&line, "RCPT without TO:", out);
                };
                let to = path_arg(arg);
                if self.current_tx.is_none() {
                    // RCPT without MAIL: a capture that started late, or a
                    // client out of order; keep the recipient somewhere.
                    self.open_tx(None);
                }
                let tx = self.current_tx;
                if let Some(t) = self.tx_mut(tx) {
                    t.rcpt_sent.push(to.clone());
                    t.rcpt_waiting += 1;
                }
                Pending::Rcpt { tx, to }
            }
            "DATA" => {
                self.start_data(line.end, out);
                Pending::Data {
                    tx: self.current_tx,
                }
            }
            "BDAT" => return self.bdat(rest, line, out),
            "RSET" => {
                self.current_tx = None;
                Pending::Rset {
                    before: self.next_tx,
                }
            }
            "QUIT" => Pending::Quit,
            "STARTTLS" => {
                self.starttls_asked = true;
                Pending::Starttls
            }
            "AUTH" => {
                let mut parts = rest.split_whitespace();
                let mech = parts.next().unwrap_or("");
                let initial = parts.next();
                let ex =
                    SaslExchange::start(mech.as_bytes(), initial.map(str::as_bytes), line.text);
                self.sasl = Some((ex, None));
                self.sasl_awaiting_response = false;
                self.maybe_credential(out);
                Pending::Auth
            }
            "NOOP" | "VRFY" | "EXPN" | "HELP" | "ETRN" | "TURN" | "ATRN" | "XCLIENT"
            | "XFORWARD" | "SEND" | "SOML" | "SAML" | "VERB" | "ONEX" | "XEXCH50"
            | "X-LINK2STATE" | "XAUTH" => Pending::Other,
            _ => {
                let shaped =
                    !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-');
                let what = if shaped {
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

    fn push_pending(&mut self, p: Pending) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(p);
    }

    fn anomaly(&mut self, line: &Line, what: &str, out: &mut Dialogue) {
        out.finding(
            Severity::Info,
            FindingCode::ProtocolAnomaly,
            format!("{what}: {} at offset {}", quote(line.text), line.start),
        );
    }

    /// DATA: message lines follow. Unconfirmed until the 354 arrives.
    fn start_data(&mut self, start: u64, out: &mut Dialogue) {
        let current = self.current_tx;
        let nobody = self.tx_mut(current).is_some_and(|t| {
            t.rcpt_waiting == 0 && t.rcpt_to.is_empty() && !t.rcpt_rejected.is_empty()
        });
        if nobody {
            // Every recipient was refused: the server will refuse DATA too,
            // so wait for its reply before taking lines as message.
            return;
        }
        self.begin_message(Via::Data, "DATA", start, out);
        self.mode = ClientMode::Data { confirmed: false };
    }

    fn begin_message(&mut self, via: Via, command: &str, start: u64, out: &mut Dialogue) {
        if self.incoming.is_some() {
            return;
        }
        let mut raw = RawMessage::new(via, Part::Full, command);
        raw.ts = out.now(C);
        self.incoming = Some(Receiving {
            m: Incoming::new(raw, start),
            replay: Vec::new(),
            replay_overflow: false,
        });
    }

    fn data_line(&mut self, line: Line, continues: bool, confirmed: bool, out: &mut Dialogue) {
        let Some(r) = self.incoming.as_mut() else {
            self.mode = ClientMode::Commands;
            return;
        };
        if !confirmed && !r.replay_overflow {
            if r.replay.len() + line.wire_len() as usize <= MAX_REPLAY {
                r.replay.extend_from_slice(line.text);
                r.replay.extend_from_slice(line.ending.as_bytes());
            } else {
                r.replay_overflow = true;
                r.replay = Vec::new();
            }
        }
        if !continues && line.text == b"." && line.ending != Ending::None {
            // RFC 5321 §4.1.1.4: the end of mail data.
            self.mode = ClientMode::Commands;
            let (tx, idx) = self.end_message(true, out);
            out.line(C, LineKind::Command, line.text, line.start, line.end);
            self.push_pending(Pending::MessageEnd { tx, message: idx });
            return;
        }
        out.data_line(C, line.text, line.start, line.end);
        // RFC 5321 §4.5.2: a leading dot was doubled by the sender.
        let body = if !continues && line.text.first() == Some(&b'.') {
            &line.text[1..]
        } else {
            line.text
        };
        r.m.push(body, out);
        r.m.push(line.ending.as_bytes(), out);
    }

    fn bdat(&mut self, rest: &str, line: Line, out: &mut Dialogue) {
        // RFC 3030 §4: "BDAT" SP chunk-size [SP "LAST"] — anything else
        // is a syntax error the server refuses, and no chunk follows.
        let mut parts = rest.split_whitespace();
        let size = parts.next().and_then(|s| s.parse::<u64>().ok());
        let tail = parts.next();
        let last = tail.is_some_and(|p| p.eq_ignore_ascii_case("LAST"));
        let valid_tail = (tail.is_none() || last) && parts.next().is_none();
        let Some(size) = size.filter(|_| valid_tail) else {
            // Without a size nobody knows where the chunk ends; the server
            // will reject it and the next line is read as a command.
            self.anomaly(
                &line,
                "BDAT without a valid chunk size and end marker (RFC 3030 §4)",
                out,
            );
            self.push_pending(Pending::Other);
            return;
        };
        self.begin_message(Via::Bdat, "BDAT", line.end, out);
        if let Some(r) = self.incoming.as_mut()
            && r.m.raw.via == Via::Data
        {
            r.m.raw.via = Via::Bdat;
            r.m.raw.command = "BDAT".into();
        }
        self.mode = ClientMode::Chunk {
            remaining: size,
            last,
        };
        if size == 0 {
            self.chunk_bytes(&[], line.end, last, out);
        }
    }

    /// Bytes of a BDAT chunk (all of it may come in several pieces).
    fn chunk_bytes(&mut self, bytes: &[u8], start: u64, last: bool, out: &mut Dialogue) {
        let ClientMode::Chunk { remaining, .. } = self.mode else {
            return;
        };
        let remaining = remaining - (bytes.len() as u64).min(remaining);
        if let Some(r) = self.incoming.as_mut() {
            r.m.push(bytes, out);
        }
        if out.wants_transcript() && out.options.full {
            self.show_chunk(bytes, start, remaining == 0, out);
        }
        if remaining > 0 {
            self.mode = ClientMode::Chunk { remaining, last };
            return;
        }
        self.mode = ClientMode::Commands;
        if last {
            let (tx, idx) = self.end_message(true, out);
            self.push_pending(Pending::MessageEnd { tx, message: idx });
        } else {
            self.push_pending(Pending::Bdat {
                tx: self.current_tx,
            });
        }
    }

    /// Shows chunk bytes as lines for `dialog --full`. A chunk is not made
    /// of lines, so they are gathered here across pieces and a partial last
    /// line is shown when the chunk ends.
    fn show_chunk(&mut self, bytes: &[u8], start: u64, chunk_ends: bool, out: &mut Dialogue) {
        for (i, &b) in bytes.iter().enumerate() {
            if self.chunk_line.is_empty() {
                self.chunk_line_start = start + i as u64;
            }
            if b == b'\n' {
                let text = self
                    .chunk_line
                    .strip_suffix(b"\r")
                    .unwrap_or(&self.chunk_line);
                out.data_line(C, text, self.chunk_line_start, start + i as u64 + 1);
                self.chunk_line.clear();
            } else if self.chunk_line.len() < MAX_TEXT_LINE {
                self.chunk_line.push(b);
            }
        }
        if chunk_ends && !self.chunk_line.is_empty() {
            let end = start + bytes.len() as u64;
            out.data_line(C, &self.chunk_line, self.chunk_line_start, end);
            self.chunk_line.clear();
        }
    }

    /// The message is over (`complete` when its end marker was seen).
    /// Returns its transaction and its index in the dialogue.
    fn end_message(&mut self, complete: bool, out: &mut Dialogue) -> (Option<u64>, usize) {
        let mut m = self.incoming.take().expect("a message is being received").m;
        m.raw.complete &= complete;
        m.raw.ts = out.now(C);
        m.raw.helo = self.helo.clone().or_else(|| self.helo_claimed.clone());
        let tx = self.current_tx;
        // A new MAIL is needed for the next message (RFC 5321 §4.1.1.4).
        self.current_tx = None;
        let (from, rcpt) = match self.tx_mut(tx) {
            Some(t) => (t.mail_from.clone(), t.envelope_rcpt()),
            None => (None, Vec::new()),
        };
        m.raw.mail_from = from;
        m.raw.rcpt_to = Some(rcpt);
        let end = m.start + m.size;
        let start = m.start;
        let lines = if out.wants_transcript() { m.lines() } else { 0 };
        let idx = out.message(m.raw);
        if !out.options.full {
            let r = &out.messages[idx];
            let note = Incoming::summary(r.size as usize, lines, r.complete, r.subject.as_deref());
            out.note(C, LineKind::Data, note, start, end.max(start));
        }
        if let Some(t) = self.tx_mut(tx) {
            t.message = Some(idx);
        }
        (tx, idx)
    }

    /// Starts a transaction (a MAIL command) and makes it the current one.
    fn open_tx(&mut self, mail_from: Option<String>) -> u64 {
        let id = self.next_tx;
        self.next_tx += 1;
        if self.txs.len() >= MAX_PENDING {
            self.txs.pop_front();
        }
        self.txs.push_back(Tx {
            id,
            mail_from,
            rcpt_sent: Vec::new(),
            rcpt_to: Vec::new(),
            rcpt_rejected: Vec::new(),
            rcpt_waiting: 0,
            message: None,
        });
        self.current_tx = Some(id);
        id
    }

    fn tx_mut(&mut self, id: Option<u64>) -> Option<&mut Tx> {
        let id = id?;
        self.txs.iter_mut().find(|t| t.id == id)
    }

    /// Ends transaction `id` with a `transaction` record.
    fn finish_tx(
        &mut self,
        id: Option<u64>,
        status: TxStatus,
        reply: Option<String>,
        out: &mut Dialogue,
    ) {
        let Some(id) = id else { return };
        if let Some(pos) = self.txs.iter().position(|t| t.id == id)
            && let Some(tx) = self.txs.remove(pos)
        {
            if self.current_tx == Some(id) {
                self.current_tx = None;
            }
            self.emit(tx, status, reply, out);
        }
    }

    /// Aborts the transactions started before `before` (RSET, EHLO).
    fn abort_before(&mut self, before: u64, out: &mut Dialogue) {
        while self.txs.front().is_some_and(|t| t.id < before) {
            let Some(tx) = self.txs.pop_front() else {
                break;
            };
            if self.current_tx == Some(tx.id) {
                self.current_tx = None;
            }
            self.emit(tx, TxStatus::Aborted, None, out);
        }
    }

    fn emit(&mut self, tx: Tx, status: TxStatus, reply: Option<String>, out: &mut Dialogue) {
        out.transaction(Transaction {
            flow: 0,
            helo: self.helo.clone().or_else(|| self.helo_claimed.clone()),
            rcpt_to: tx.envelope_rcpt(),
            mail_from: tx.mail_from,
            rcpt_rejected: tx.rcpt_rejected,
            status,
            message: tx.message,
            ts: out.latest(),
            reply,
        });
    }

    fn sasl_response(&mut self, line: &[u8], out: &mut Dialogue) {
        if let Some((ex, _)) = self.sasl.as_mut() {
            ex.response(line);
        }
        self.maybe_credential(out);
    }

    fn maybe_credential(&mut self, out: &mut Dialogue) {
        let Some((ex, idx)) = self.sasl.as_mut() else {
            return;
        };
        if idx.is_none()
            && ex.client_done()
            && let Some(c) = ex.take_credential()
        {
            let i = Self::report_credential(c, self.tls, out);
            if let Some((_, idx)) = self.sasl.as_mut() {
                *idx = Some(i);
            }
        }
    }

    fn add_credential(&mut self, c: crate::trace::Credential, out: &mut Dialogue) -> usize {
        Self::report_credential(c, self.tls, out)
    }

    fn report_credential(c: crate::trace::Credential, tls: bool, out: &mut Dialogue) -> usize {
        let what = format!("SMTP AUTH {}", c.mechanism);
        out.credential_seen(c, &what, tls)
    }

    // ---- server side ----------------------------------------------------

    fn server_line(&mut self, line: Line, out: &mut Dialogue) {
        out.line(S, LineKind::Reply, line.text, line.start, line.end);
        let t = line.text;
        let code = match t {
            [a, b, c, rest @ ..]
                if a.is_ascii_digit()
                    && b.is_ascii_digit()
                    && c.is_ascii_digit()
                    && matches!(rest.first(), None | Some(b' ' | b'-' | b'\t')) =>
            {
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
            }
            _ => {
                self.reply = None;
                return self.anomaly(&line, "not an SMTP reply", out);
            }
        };
        let more = t.get(3) == Some(&b'-');
        let body = if t.len() > 4 {
            text(&t[4..])
        } else {
            String::new()
        };
        let reply = self.reply.get_or_insert_with(|| Reply {
            code,
            lines: Vec::new(),
        });
        reply.lines.push(body);
        if !more {
            let reply = self.reply.take().unwrap_or_default();
            self.reply_done(reply, out);
        }
    }

    fn reply_done(&mut self, reply: Reply, out: &mut Dialogue) {
        let code = reply.code;
        let ok = (200..400).contains(&code);
        if code == 334 {
            // RFC 4954 §4: a SASL challenge; the AUTH command is still open.
            if let Some((ex, _)) = self.sasl.as_mut() {
                ex.challenge(reply.lines.first().map_or(b"" as &[u8], |l| l.as_bytes()));
                self.sasl_awaiting_response = true;
            } else {
                out.finding(
                    Severity::Info,
                    FindingCode::ProtocolAnomaly,
                    "334 challenge without an AUTH command",
                );
            }
            return;
        }
        // The greeting (RFC 5321 §4.3.1); a client that pipelines its EHLO
        // before it (PIPE_CONNECT) has commands waiting already.
        let greeting = self.pending.is_empty()
            || ((code == 220 || code == 554)
                && !matches!(self.pending.front(), Some(Pending::Starttls)));
        if !self.greeted && greeting {
            self.greeted = true;
            if code == 220 {
                self.server_name = reply
                    .lines
                    .first()
                    .and_then(|l| l.split_whitespace().next())
                    .map(str::to_string);
            }
            return;
        }
        self.greeted = true;
        let Some(pending) = self.pending.pop_front() else {
            // 421 and 451 may come unasked when the server gives up (timeouts).
            if code != 421 && code != 451 {
                out.finding(
                    Severity::Info,
                    FindingCode::ProtocolAnomaly,
                    format!("reply {code} without a command to answer"),
                );
            }
            return;
        };
        match pending {
            Pending::Helo { name, before } => {
                if ok {
                    // RFC 5321 §4.1.4: a new EHLO also resets the
                    // transaction; a rejected one changes nothing.
                    self.abort_before(before, out);
                    self.helo = Some(name);
                    self.extensions = reply
                        .lines
                        .iter()
                        .skip(1)
                        .filter_map(|l| l.split_whitespace().next())
                        .map(str::to_ascii_uppercase)
                        .collect();
                    out.capabilities = reply
                        .lines
                        .iter()
                        .skip(1)
                        .map(|l| l.trim().to_string())
                        .collect();
                    self.check_stripped(out);
                }
            }
            Pending::Mail { tx } => {
                if !ok {
                    self.finish_tx(Some(tx), TxStatus::Rejected, Some(reply_text(&reply)), out);
                }
            }
            Pending::Rcpt { tx, to } => {
                if ok {
                    self.check_relay(&to, out);
                }
                if let Some(t) = self.tx_mut(tx) {
                    t.rcpt_waiting = t.rcpt_waiting.saturating_sub(1);
                    if ok {
                        t.rcpt_to.push(to);
                    } else {
                        t.rcpt_rejected.push(to);
                    }
                    // A message already recorded (pipelining) gets the
                    // envelope the server accepted.
                    if let Some(i) = t.message {
                        out.messages[i].rcpt_to = Some(t.envelope_rcpt());
                    }
                }
            }
            Pending::Data { tx } => {
                if code == 354 {
                    if self.incoming.is_none() {
                        // We waited (every recipient was refused, yet the
                        // server says go ahead).
                        self.begin_message(Via::Data, "DATA", self.client_pos, out);
                    }
                    self.mode = match self.mode {
                        ClientMode::Data { .. } => ClientMode::Data { confirmed: true },
                        ClientMode::Commands if self.incoming.is_some() => {
                            ClientMode::Data { confirmed: true }
                        }
                        ref m => m.clone(),
                    };
                    if let Some(r) = self.incoming.as_mut() {
                        r.replay = Vec::new();
                    }
                } else if code >= 400 {
                    self.data_rejected(tx, &reply, out);
                } else {
                    // RFC 5321 §4.3.2: DATA is answered 354 or an error.
                    out.finding(
                        Severity::Info,
                        FindingCode::ProtocolAnomaly,
                        format!("reply {code} to DATA (354 or an error expected)"),
                    );
                }
            }
            Pending::MessageEnd { tx, message } => {
                let status = if ok {
                    TxStatus::Delivered
                } else {
                    TxStatus::Rejected
                };
                if tx.is_some_and(|id| self.txs.iter().any(|t| t.id == id)) {
                    self.finish_tx(tx, status, Some(reply_text(&reply)), out);
                } else if !out.transactions.iter().any(|t| t.message == Some(message)) {
                    // Mid-stream capture: the transaction's start was not
                    // seen, its end was.
                    let r = &out.messages[message];
                    let tx = Tx {
                        id: u64::MAX,
                        mail_from: r.mail_from.clone(),
                        rcpt_sent: r.rcpt_to.clone().unwrap_or_default(),
                        rcpt_to: Vec::new(),
                        rcpt_rejected: Vec::new(),
                        rcpt_waiting: 0,
                        message: Some(message),
                    };
                    self.emit(tx, status, Some(reply_text(&reply)), out);
                }
            }
            Pending::Bdat { tx } => {
                if !ok {
                    // A refused chunk ends the transaction (RFC 3030 §2).
                    if self.incoming.is_some() {
                        self.end_message(false, out);
                    }
                    self.finish_tx(tx, TxStatus::Rejected, Some(reply_text(&reply)), out);
                }
            }
            Pending::Rset { before } => {
                if ok {
                    self.abort_before(before, out);
                }
            }
            Pending::Starttls => {
                if code == 220 {
                    self.tls = true;
                } else {
                    out.starttls_refused("STARTTLS", &reply_text(&reply));
                }
            }
            Pending::Auth => {
                self.sasl_awaiting_response = false;
                if let Some((mut ex, idx)) = self.sasl.take() {
                    let idx = match idx {
                        Some(i) => Some(i),
                        None => ex.take_credential().map(|c| self.add_credential(c, out)),
                    };
                    if let Some(i) = idx {
                        out.credential_result(i, code == 235);
                    }
                }
                if code == 235 {
                    self.authenticated = true;
                }
            }
            Pending::Quit | Pending::Other => {}
        }
    }

    /// The server refused DATA: the lines taken as message were commands.
    fn data_rejected(&mut self, tx: Option<u64>, reply: &Reply, out: &mut Dialogue) {
        out.finding(
            Severity::Info,
            FindingCode::DataRejected,
            format!("the server rejected DATA ({})", reply_text(reply)),
        );
        let (replay, start) = match self.incoming.take() {
            Some(r) if !r.replay_overflow => (r.replay, r.m.start),
            _ => (Vec::new(), 0),
        };
        self.mode = ClientMode::Commands;
        self.finish_tx(tx, TxStatus::Rejected, Some(reply_text(reply)), out);
        if !replay.is_empty() {
            let mut reader = LineReader::new();
            let mut input: &[u8] = &replay;
            // Counting from the first message line keeps the offsets (and
            // so the packets of each line) right.
            reader.gap(start);
            while let Some(line) = reader.next_line(&mut input) {
                self.client_line(line, false, out);
            }
        }
    }

    /// `starttls-stripped`: a middlebox on the path overwrote the STARTTLS
    /// keyword of the EHLO reply with X's (the same length, so the packet
    /// size does not change: "XXXXXXXA"), so the client never learns it
    /// could encrypt. The extension is not the server's, and the session
    /// stays in clear.
    fn check_stripped(&mut self, out: &mut Dialogue) {
        let blanked = self.extensions.iter().any(|e| {
            e.len() == "STARTTLS".len()
                && e.starts_with("XXXX")
                && e.bytes().all(|b| b == b'X' || b == b'A')
        });
        if blanked && !out.has_finding(FindingCode::StarttlsStripped) {
            out.finding(
                Severity::High,
                FindingCode::StarttlsStripped,
                "the EHLO reply lists \"XXXXXXXA\" where STARTTLS would be: something on the path blanked the offer of encryption (a STARTTLS stripping attack or an over-eager firewall)",
            );
        }
    }

    fn check_relay(&mut self, to: &str, out: &mut Dialogue) {
        if self.authenticated || out.has_finding(FindingCode::OpenRelay) {
            return;
        }
        let (Some(server), Some(domain)) = (self.server_name.as_deref(), domain_of(to)) else {
            return;
        };
        if !is_judgeable(server) || !is_judgeable(&domain) {
            return;
        }
        if !is_local_domain(server, &domain) {
            out.finding(
                Severity::Medium,
                FindingCode::OpenRelay,
                format!(
                    "{server} accepted mail for {to} (a foreign domain) from a client that did not authenticate: an open relay, unless the client's address is trusted"
                ),
            );
        }
    }
}

fn reply_text(reply: &Reply) -> String {
    format!(
        "{} {}",
        reply.code,
        reply.lines.last().map_or("", |l| l.as_str())
    )
    .trim_end()
    .to_string()
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let s = s.trim_start();
    // `get` and not `[..]`: the bytes after the verb may be anything,
    // including the middle of a multi-byte character.
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Protocol;
    use crate::proto::testing::{self, codes, encrypted, transcript};
    use crate::trace::DialogueOptions;

    fn run(script: &[(Direction, &[u8])], full: bool) -> Dialogue {
        testing::run(&mut SmtpParser::new(), Protocol::Smtp, script, full)
    }

    const TEXTBOOK_MSG: &[u8] = b"From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: Searching for the meaning of life\r\n\r\nDo you like ketchup?\r\nHow about pickles?\r\n";

    #[test]
    fn textbook_session() {
        let d = run(
            &[
                (S, b"220 hamburger.edu\r\n"),
                (C, b"HELO crepes.fr\r\n"),
                (S, b"250 Hello crepes.fr, pleased to meet you\r\n"),
                (C, b"MAIL FROM: <alice@crepes.fr>\r\n"),
                (S, b"250 alice@crepes.fr ... Sender ok\r\n"),
                (C, b"RCPT TO: <bob@hamburger.edu>\r\n"),
                (S, b"250 bob@hamburger.edu ... Recipient ok\r\n"),
                (C, b"DATA\r\n"),
                (S, b"354 Enter mail, end with \".\" on a line by itself\r\n"),
                (C, TEXTBOOK_MSG),
                (C, b".\r\n"),
                (S, b"250 Message accepted for delivery\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 hamburger.edu closing connection\r\n"),
            ],
            false,
        );
        assert_eq!(
            transcript(&d),
            [
                "S: 220 hamburger.edu",
                "C: HELO crepes.fr",
                "S: 250 Hello crepes.fr, pleased to meet you",
                "C: MAIL FROM: <alice@crepes.fr>",
                "S: 250 alice@crepes.fr ... Sender ok",
                "C: RCPT TO: <bob@hamburger.edu>",
                "S: 250 bob@hamburger.edu ... Recipient ok",
                "C: DATA",
                "S: 354 Enter mail, end with \".\" on a line by itself",
                "C: [message: 134 bytes, 6 lines, Subject: Searching for the meaning of life]",
                "C: .",
                "S: 250 Message accepted for delivery",
                "C: QUIT",
                "S: 221 hamburger.edu closing connection",
            ]
        );
        assert_eq!(d.messages.len(), 1);
        let m = &d.messages[0];
        assert_eq!(m.size, TEXTBOOK_MSG.len() as u64);
        assert_eq!(m.sha256, crate::mail::sha256_hex(TEXTBOOK_MSG));
        assert_eq!(m.helo.as_deref(), Some("crepes.fr"));
        assert_eq!(m.mail_from.as_deref(), Some("<alice@crepes.fr>"));
        assert_eq!(m.rcpt_to, Some(vec!["<bob@hamburger.edu>".to_string()]));
        assert!(m.complete);
        assert_eq!(m.via, Via::Data);
        assert_eq!(d.transactions.len(), 1);
        let t = &d.transactions[0];
        assert_eq!(t.status, TxStatus::Delivered);
        assert_eq!(t.message, Some(0));
        assert_eq!(
            t.reply.as_deref(),
            Some("250 Message accepted for delivery")
        );
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        // Each line knows its packet: the QUIT was piece 12.
        assert_eq!(d.transcript[12].packets, vec![12]);
    }

    #[test]
    fn dot_unstuffing_byte_by_byte_and_full_transcript() {
        let wire = b"Subject: dots\r\n\r\n..leading dot\r\n..\r\n...\r\nend\r\n.\r\n";
        let mut script: Vec<(Direction, &[u8])> = vec![
            (S, b"220 mx ESMTP\r\n"),
            (C, b"EHLO a\r\n"),
            (S, b"250 mx\r\n"),
            (C, b"MAIL FROM:<a@x.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"RCPT TO:<b@x.org>\r\n"),
            (S, b"250 ok\r\n"),
            (C, b"DATA\r\n"),
            (S, b"354 go\r\n"),
        ];
        for i in 0..wire.len() {
            script.push((C, &wire[i..i + 1]));
        }
        script.push((S, b"250 queued\r\n"));
        let d = run(&script, true);
        let m = &d.messages[0];
        let expected = b"Subject: dots\r\n\r\n.leading dot\r\n.\r\n..\r\nend\r\n";
        assert_eq!(m.size, expected.len() as u64);
        assert_eq!(m.sha256, crate::mail::sha256_hex(expected));
        let t = transcript(&d);
        assert_eq!(
            &t[9..],
            [
                "C: Subject: dots",
                "C: ",
                "C: ..leading dot",
                "C: ..",
                "C: ...",
                "C: end",
                "C: .",
                "S: 250 queued"
            ]
        );
    }

    #[test]
    fn pipelining_matches_replies_in_order() {
        let d = run(
            &[
                (S, b"220 mail.hamburger.edu ESMTP\r\n"),
                (C, b"EHLO crepes.fr\r\n"),
                (
                    S,
                    b"250-mail.hamburger.edu\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n",
                ),
                (
                    C,
                    b"MAIL FROM:<alice@crepes.fr> SIZE=20 BODY=8BITMIME\r\nRCPT TO:<bob@hamburger.edu>\r\nRCPT TO:<nobody@hamburger.edu>\r\nRCPT TO:<carol@hamburger.edu> NOTIFY=NEVER\r\nDATA\r\n",
                ),
                (
                    S,
                    b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@hamburger.edu>: Recipient address rejected\r\n250 2.1.5 Ok\r\n354 End data\r\n",
                ),
                (C, b"Subject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"),
                (S, b"250 2.0.0 Ok: queued\r\n221 Bye\r\n"),
            ],
            false,
        );
        let m = &d.messages[0];
        assert_eq!(m.mail_from.as_deref(), Some("<alice@crepes.fr>"));
        assert_eq!(
            m.rcpt_to,
            Some(vec![
                "<bob@hamburger.edu>".to_string(),
                "<carol@hamburger.edu>".to_string()
            ])
        );
        let t = &d.transactions[0];
        assert_eq!(t.rcpt_rejected, vec!["<nobody@hamburger.edu>"]);
        assert_eq!(t.status, TxStatus::Delivered);
        assert_eq!(m.size, 22);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
    }

    #[test]
    fn pipelined_transactions_keep_their_own_envelopes() {
        // Everything pipelined before any reply (RFC 2920): each message
        // must get the envelope of its own MAIL/RCPT, not the last one.
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a\r\n"),
                (S, b"250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n"),
                (
                    C,
                    b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nBDAT 5 LAST\r\nhello\
MAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.org>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n",
                ),
                (
                    S,
                    b"250 ok\r\n250 ok\r\n250 delivered\r\n250 ok\r\n250 ok\r\n550 no such user\r\n354 go\r\n",
                ),
                (C, b"second\r\n.\r\n"),
                (S, b"250 queued\r\n"),
            ],
            false,
        );
        let got: Vec<(Option<&str>, Option<Vec<String>>)> = d
            .messages
            .iter()
            .map(|m| (m.mail_from.as_deref(), m.rcpt_to.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    Some("<a@example.org>"),
                    Some(vec!["<b@example.org>".into()])
                ),
                (
                    Some("<c@example.org>"),
                    Some(vec!["<d@example.org>".into()])
                ),
            ]
        );
        let tx: Vec<(TxStatus, Option<usize>, usize)> = d
            .transactions
            .iter()
            .map(|t| (t.status, t.message, t.rcpt_rejected.len()))
            .collect();
        assert_eq!(
            tx,
            [
                (TxStatus::Delivered, Some(0), 0),
                (TxStatus::Delivered, Some(1), 1)
            ]
        );
    }

    #[test]
    fn several_transactions_rset_and_quit() {
        let d = run(
            &[
                (S, b"220 mx.example.org ESMTP\r\n"),
                (C, b"HELO client.example.org\r\n"),
                (S, b"250 hi\r\n"),
                (C, b"MAIL FROM:<a@example.org>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"RCPT TO:<b@example.org>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"RSET\r\n"),
                (S, b"250 reset\r\n"),
                (C, b"MAIL FROM:<c@example.org>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"RCPT TO:<d@example.org>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"DATA\r\n"),
                (S, b"354 go\r\n"),
                (C, b"x\r\n.\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"MAIL FROM:<e@example.org>\r\n"),
                (S, b"553 no\r\n"),
                (C, b"MAIL FROM:<f@example.org>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        let summary: Vec<(Option<&str>, TxStatus, Option<usize>)> = d
            .transactions
            .iter()
            .map(|t| (t.mail_from.as_deref(), t.status, t.message))
            .collect();
        assert_eq!(
            summary,
            [
                (Some("<a@example.org>"), TxStatus::Aborted, None),
                (Some("<c@example.org>"), TxStatus::Delivered, Some(0)),
                (Some("<e@example.org>"), TxStatus::Rejected, None),
                (Some("<f@example.org>"), TxStatus::Aborted, None),
            ]
        );
        assert_eq!(d.transactions[0].rcpt_to, vec!["<b@example.org>"]);
    }

    #[test]
    fn bdat_chunks_including_zero_length_last() {
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a.example\r\n"),
                (S, b"250-mx\r\n250 CHUNKING\r\n"),
                (C, b"MAIL FROM:<a@example.org>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"RCPT TO:<b@example.org>\r\n"),
                (S, b"250 ok\r\n"),
                // A chunk may hold anything, "." lines and "BDAT" included,
                // and end in the middle of a line.
                (C, b"BDAT 21\r\nSubject: x\r\n\r\n.\r\nBD"),
                (C, b"AT"),
                (S, b"250 21 octets\r\n"),
                (C, b"BDAT 6\r\n\r\nyo\r\nBDAT 0 LAST\r\n"),
                (S, b"250 6 octets\r\n250 delivered\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        let m = &d.messages[0];
        let expected = b"Subject: x\r\n\r\n.\r\nBDAT\r\nyo\r\n";
        assert_eq!(m.size, expected.len() as u64);
        assert_eq!(m.sha256, crate::mail::sha256_hex(expected));
        assert_eq!(m.via, Via::Bdat);
        assert!(m.complete);
        assert_eq!(d.transactions[0].status, TxStatus::Delivered);
        assert_eq!(d.transactions[0].reply.as_deref(), Some("250 delivered"));
    }

    #[test]
    fn bdat_with_a_bad_size_is_an_anomaly_and_the_next_line_a_command() {
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a\r\n"),
                (S, b"250 mx\r\n"),
                (C, b"BDAT 99999999999999999999999 LAST\r\n"),
                (S, b"501 bad size\r\n"),
                (C, b"BDAT -5\r\n"),
                (S, b"501 bad size\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        assert_eq!(codes(&d), ["protocol-anomaly", "protocol-anomaly"]);
        assert!(d.messages.is_empty());
        assert_eq!(transcript(&d).last().unwrap(), "S: 221 bye");
    }

    #[test]
    fn auth_plain_login_and_cram_md5() {
        let d = run(
            &[
                (S, b"220 smtp.crepes.fr ESMTP\r\n"),
                (C, b"EHLO alice\r\n"),
                (
                    S,
                    b"250-smtp.crepes.fr\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n",
                ),
                // Initial-response form (RFC 4954 §4), refused.
                (C, b"AUTH PLAIN AGFsaWNlAHdyb25n\r\n"),
                (S, b"535 5.7.8 Authentication credentials invalid\r\n"),
                // Two steps, accepted.
                (C, b"AUTH LOGIN\r\n"),
                (S, b"334 VXNlcm5hbWU6\r\n"),
                (C, b"YWxpY2U=\r\n"),
                (S, b"334 UGFzc3dvcmQ6\r\n"),
                (C, b"c2VjcmV0\r\n"),
                (S, b"235 2.7.0 Authentication successful\r\n"),
                (C, b"AUTH CRAM-MD5\r\n"),
                (
                    S,
                    b"334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n",
                ),
                (C, b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"),
                (S, b"235 ok\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        let got = testing::creds(&d);
        assert_eq!(
            got,
            [
                ("PLAIN", Some("alice"), Some("wrong"), Some(false)),
                ("LOGIN", Some("alice"), Some("secret"), Some(true)),
                ("CRAM-MD5", Some("tim"), None, Some(true)),
            ]
        );
        assert_eq!(d.credentials[0].protocol, Protocol::Smtp);
        assert_eq!(
            codes(&d),
            ["plaintext-auth", "plaintext-auth", "plaintext-auth"]
        );
        // The base64 lines are commands in the transcript, as sent.
        assert!(transcript(&d).contains(&"C: YWxpY2U=".to_string()));
    }

    #[test]
    fn starttls_accepted_goes_to_tls() {
        let hello = [0x16u8, 3, 1, 0, 5, 1, 0, 0, 1, 0];
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a\r\n"),
                (S, b"250-mx\r\n250 STARTTLS\r\n"),
                (C, b"STARTTLS\r\n"),
                (S, b"220 2.0.0 Ready to start TLS\r\n"),
                (C, &hello),
                (S, &[0x16, 3, 3, 0, 2, 2, 0]),
                (C, b"\x17\x03\x03\x00\x03abc"),
            ],
            false,
        );
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(encrypted(&d, C), 18);
        assert_eq!(encrypted(&d, S), 7);
        let t = transcript(&d);
        assert_eq!(
            &t[5..],
            [
                "S: 220 2.0.0 Ready to start TLS",
                "C: [TLS: 10 bytes encrypted]",
                "S: [TLS: 7 bytes encrypted]",
                "C: [TLS: 8 bytes encrypted]"
            ]
        );
    }

    #[test]
    fn starttls_stripped_by_a_middlebox() {
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a\r\n"),
                (S, b"250-mx\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        assert_eq!(codes(&d), ["starttls-stripped"]);
    }

    #[test]
    fn starttls_refused_and_not_used() {
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a\r\n"),
                (S, b"250-mx\r\n250 STARTTLS\r\n"),
                (C, b"STARTTLS\r\n"),
                (S, b"454 4.7.0 TLS not available\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        assert_eq!(codes(&d), ["starttls-refused"]);
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a\r\n"),
                (S, b"250-mx\r\n250 STARTTLS\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        assert_eq!(codes(&d), ["starttls-not-used"]);
    }

    #[test]
    fn rejected_data_lines_are_read_as_commands_again() {
        // The client sent DATA and, without waiting, a command; the server
        // refused DATA, so that line was a command after all.
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, b"EHLO a\r\n"),
                (S, b"250 mx\r\n"),
                (C, b"MAIL FROM:<a@example.org>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"RCPT TO:<b@example.org>\r\n"),
                (C, b"DATA\r\nRSET\r\n"),
                (
                    S,
                    b"250 ok\r\n554 5.5.1 Error: no valid recipients\r\n250 reset\r\n",
                ),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        assert!(d.messages.is_empty());
        assert_eq!(codes(&d), ["data-rejected"]);
        assert_eq!(d.transactions.len(), 1);
        assert_eq!(d.transactions[0].status, TxStatus::Rejected);
        assert!(transcript(&d).contains(&"C: RSET".to_string()));
    }

    #[test]
    fn no_helo_bare_lf_and_garbage() {
        let d = run(
            &[
                (S, b"220 mx ESMTP\n"),
                (C, b"MAIL FROM:<a@example.org>\n"),
                (S, b"250 ok\n"),
                (C, b"\x00\x01binary junk\r\n"),
                (S, b"500 what?\r\n"),
                (C, b"QUIT\r\n"),
                (S, b"221 bye\r\n"),
            ],
            false,
        );
        assert_eq!(
            codes(&d),
            ["bare-lf", "bare-lf", "protocol-anomaly", "protocol-anomaly"]
        );
        assert!(d.findings[3].message.starts_with("not an SMTP command"));
    }

    #[test]
    fn multibyte_character_where_a_colon_belongs() {
        // Found by the damaged-capture test: "RCPT TO\xef\xbf\xbd<…>".
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (
                    C,
                    "RCPT TO\u{fffd}<bob@hamburger.edu>\r\nMAIL F\u{e9}:<a@b>\r\n".as_bytes(),
                ),
            ],
            false,
        );
        assert_eq!(codes(&d), ["protocol-anomaly", "protocol-anomaly"]);
    }

    #[test]
    fn overlong_command_line() {
        let mut long = b"HELO ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 600));
        long.extend_from_slice(b"\r\n");
        let d = run(
            &[
                (S, b"220 mx ESMTP\r\n"),
                (C, &long),
                (S, b"500 too long\r\n"),
            ],
            false,
        );
        assert_eq!(codes(&d), ["overlong-line"]);
    }

    #[test]
    fn one_sided_capture_uses_what_the_client_sent() {
        let d = run(
            &[
                (C, b"EHLO a.example\r\n"),
                (C, b"MAIL FROM:<a@example.org>\r\n"),
                (C, b"RCPT TO:<b@example.org>\r\n"),
                (C, b"DATA\r\n"),
                (C, b"Subject: one side\r\n\r\nhi\r\n.\r\n"),
                (C, b"QUIT\r\n"),
            ],
            false,
        );
        let m = &d.messages[0];
        assert_eq!(m.mail_from.as_deref(), Some("<a@example.org>"));
        assert_eq!(m.rcpt_to, Some(vec!["<b@example.org>".to_string()]));
        assert_eq!(m.helo.as_deref(), Some("a.example"));
        assert_eq!(m.size, 25);
        assert!(m.complete);
    }

    #[test]
    fn gap_inside_data_marks_the_message_incomplete() {
        let mut out = Dialogue::new(0, Protocol::Smtp, DialogueOptions::default());
        let mut p = SmtpParser::new();
        p.feed(S, b"220 mx ESMTP\r\n", &mut out);
        p.feed(
            C,
            b"HELO a\r\nMAIL FROM:<a@b.org>\r\nRCPT TO:<c@d.org>\r\nDATA\r\n",
            &mut out,
        );
        p.feed(S, b"250 a\r\n250 b\r\n250 c\r\n354 d\r\n", &mut out);
        p.feed(C, b"line one\r\nline t", &mut out);
        p.gap(C, 100, &mut out);
        p.feed(C, b"wo\r\nlast line\r\n.\r\n", &mut out);
        p.feed(S, b"250 ok\r\n", &mut out);
        p.finish(&mut out);
        let m = &out.messages[0];
        assert!(!m.complete);
        // The start of the line the gap cut ("line t") is kept.
        assert_eq!(
            m.size,
            b"line one\r\nline two\r\nlast line\r\n".len() as u64
        );
    }

    #[test]
    fn which_domains_are_the_servers_own() {
        assert!(is_local_domain("hamburger.edu", "hamburger.edu"));
        assert!(is_local_domain("mx.hamburger.edu", "hamburger.edu"));
        assert!(is_local_domain("mta5.mail.ir2.yahoo.com", "yahoo.fr"));
        assert!(!is_local_domain("crepes.fr", "hamburger.edu"));
        assert!(!is_judgeable("localhost"));
        assert!(!is_judgeable("macbook.localdomain"));
        assert!(!is_judgeable("[10.0.0.1]"));
        assert!(is_judgeable("crepes.fr"));
    }

    #[test]
    fn open_relay() {
        let d = run(
            &[
                (S, b"220 mail.hamburger.edu ESMTP\r\n"),
                (C, b"HELO spammer\r\n"),
                (S, b"250 hi\r\n"),
                (C, b"MAIL FROM:<ceo@bank.example>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"RCPT TO:<bob@hamburger.edu>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"RCPT TO:<victim@elsewhere.example>\r\n"),
                (S, b"250 ok\r\n"),
                (C, b"DATA\r\n"),
                (S, b"354 go\r\n"),
                (C, b"From: alice@crepes.fr\r\nSubject: hi\r\n\r\nx\r\n.\r\n"),
                (S, b"250 ok\r\n"),
            ],
            false,
        );
        // (`from-mismatch` is a rule of the analysis on complete messages.)
        assert_eq!(codes(&d), ["open-relay"]);
        assert!(d.findings[0].message.contains("<victim@elsewhere.example>"));
    }
}
