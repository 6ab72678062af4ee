//! The dialogue parser of a line protocol (SMTP and POP3 here): both
//! directions cut into lines, gaps noted, the unfinished last lines handed
//! out when the flow ends, and the switch to TLS after STARTTLS/STLS —
//! the same for every such protocol, so written once. What a line means
//! is the protocol's business ([`LineProtocol`]): `SmtpParser` is
//! `LineParser<smtp::parser::State>`.

use super::MailParser;
use super::lines::{Ending, Line, LineReader};
use crate::flow::Direction;
use crate::trace::{Dialogue, FindingCode, Severity};

/// What a protocol's parser state does with the lines of both directions.
pub trait LineProtocol {
    /// The session switched to TLS: from here on the session's TLS layer
    /// reads the bytes.
    fn in_tls(&self) -> bool;
    /// Set when the client starts its handshake after STARTTLS (the server's
    /// go-ahead may be missing from the capture), cleared when the bytes
    /// after the upgrade turn out not to be TLS.
    fn set_tls(&mut self, tls: bool);
    /// The client asked for TLS and is between commands: its next bytes
    /// may be a TLS handshake.
    fn tls_may_start(&self) -> bool;
    /// Counted bytes the client still sends (SMTP BDAT): they are not
    /// lines.
    fn counted(&self, _dir: Direction) -> Option<u64> {
        None
    }
    /// Some of those counted bytes, starting at stream offset `start`.
    fn counted_bytes(&mut self, _bytes: &[u8], _start: u64, _out: &mut Dialogue) {}
    /// One line of `dir`; `continues` when it is the rest of an over-long
    /// line cut before it.
    fn line(&mut self, dir: Direction, line: Line, continues: bool, out: &mut Dialogue);
    /// Bytes of `dir` are missing from the capture (already noted in the
    /// dialogue).
    fn gap(&mut self, dir: Direction, lost: Lost, out: &mut Dialogue);
    /// The flow is over, its last lines read: settle what is pending.
    fn finish(&mut self, out: &mut Dialogue);
}

/// Bytes missing from one direction.
#[derive(Debug)]
pub struct Lost {
    /// Stream offset of the first missing byte, and how many.
    pub start: u64,
    pub len: u64,
    /// The start of the line the gap cut, if any.
    pub partial: Option<Vec<u8>>,
}

/// A line protocol's dialogue parser: the line reader of each direction,
/// and the protocol's state.
#[derive(Debug, Default)]
pub struct LineParser<P> {
    readers: [LineReader; 2],
    pub(crate) protocol: P,
}

impl<P: LineProtocol + Default> LineParser<P> {
    pub fn new() -> Self {
        Self::default()
    }
}

impl<P: LineProtocol> MailParser for LineParser<P> {
    fn feed(&mut self, dir: Direction, mut input: &[u8], out: &mut Dialogue) -> usize {
        let (reader, st) = (&mut self.readers[dir.index()], &mut self.protocol);
        let total = input.len();
        while !input.is_empty() {
            if st.in_tls() {
                // The rest is TLS: the session takes it from here.
                return total - input.len();
            }
            if let Some(n) = st.counted(dir) {
                let taken = reader.take(&mut input, n);
                st.counted_bytes(taken.bytes, taken.start, out);
                continue;
            }
            if dir == Direction::ClientToServer
                && st.tls_may_start()
                && reader.pending() == 0
                && super::tls::looks_like_handshake(input)
            {
                st.set_tls(true);
                continue;
            }
            let continues = reader.in_overlong_line();
            let Some(line) = reader.next_line(&mut input) else {
                break;
            };
            st.line(dir, line, continues, out);
        }
        total
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Dialogue) {
        if self.protocol.in_tls() {
            return;
        }
        let reader = &mut self.readers[dir.index()];
        let start = reader.position();
        let partial = reader.gap(len);
        out.gap(dir, start, len, partial.as_deref());
        let lost = Lost {
            start,
            len,
            partial,
        };
        self.protocol.gap(dir, lost, out);
    }

    fn finish(&mut self, out: &mut Dialogue) {
        if !self.protocol.in_tls() {
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let reader = &mut self.readers[dir.index()];
                let continues = reader.in_overlong_line();
                if let Some(line) = reader.finish() {
                    self.protocol.line(dir, line, continues, out);
                }
            }
        }
        self.protocol.finish(out);
    }

    fn upgraded_to_tls(&self) -> bool {
        self.protocol.in_tls()
    }

    fn resume_plaintext(&mut self) {
        self.protocol.set_tls(false);
    }
}

/// `bare-lf`, once per direction: `rule` is the RFC section that asks for
/// CRLF.
pub(crate) fn note_bare_lf(
    seen: &mut [bool; 2],
    dir: Direction,
    line: &Line,
    rule: &str,
    out: &mut Dialogue,
) {
    if line.ending == Ending::Lf && !seen[dir.index()] {
        seen[dir.index()] = true;
        let who = match dir {
            Direction::ClientToServer => "client",
            Direction::ServerToClient => "server",
        };
        out.finding(
            Severity::Info,
            FindingCode::BareLf,
            format!("the {who} ends lines with a bare LF instead of CRLF ({rule})"),
        );
    }
}
