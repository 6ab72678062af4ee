//! Application protocols on top of the reassembled streams.
//!
//! * [`detect`]: which protocol a flow speaks (port and first bytes).
//! * [`lines`]: cutting a direction into protocol lines ("need more bytes").
//! * [`dot`]: dot-stuffing of SMTP DATA and POP3 multi-line responses, and
//!   the one rule for the end of the data.
//! * [`smtp`], [`pop3`], [`imap`]: sans-IO dialogue parsers, one per
//!   protocol, all implementing [`MailParser`]; SMTP and POP3 share the
//!   loop of a line protocol ([`line_parser`]).
//! * [`dns`]: DNS messages (the MX, A and TXT answers of the mail path).
//! * [`mta_sts`]: the MTA-STS record and policy (RFC 8461).
//! * [`sasl`]: what each authentication mechanism reveals.
//! * [`tls`]: TLS records and the handshake's version, SNI and cipher;
//!   with a key log, the records opened.

pub mod detect;
pub mod dns;
pub(crate) mod dot;
pub mod imap;
pub(crate) mod incoming;
pub(crate) mod line_parser;
pub(crate) mod lines;
pub mod mta_sts;
pub mod pop3;
#[cfg(test)]
mod properties;
pub(crate) mod sasl;
pub mod smtp;
pub mod tls;
pub(crate) mod tunnel;
pub(crate) mod verbatim;

use crate::flow::Direction;
use crate::trace::Dialogue;

/// A sans-IO dialogue parser: fed each direction's reassembled bytes in
/// order (the two directions interleaved as the packets were), it writes
/// transcript lines, messages, credentials and findings into a
/// [`Dialogue`]. It never touches a socket, so the embedded servers can
/// reuse the same grammar.
pub trait MailParser {
    /// In-order bytes of `dir`, at the stream position after the previous
    /// call (plus any gap reported in between). Returns how many were read
    /// as this protocol: all of them, unless the dialogue switched to TLS
    /// (see [`upgraded_to_tls`](Self::upgraded_to_tls)); the rest is for the
    /// session's TLS layer.
    fn feed(&mut self, dir: Direction, bytes: &[u8], out: &mut Dialogue) -> usize;
    /// `len` bytes of `dir` are missing from the capture.
    fn gap(&mut self, dir: Direction, len: u64, out: &mut Dialogue);
    /// The flow is over: hand on unfinished messages (marked incomplete),
    /// settle pending commands and add end-of-flow findings.
    fn finish(&mut self, out: &mut Dialogue);
    /// Whether the dialogue switched to TLS after a STARTTLS/STLS that the
    /// server accepted (RFC 3207 §4, RFC 2595 §4): from here on the parser
    /// reads nothing until [`resume_plaintext`](Self::resume_plaintext).
    fn upgraded_to_tls(&self) -> bool;
    /// The bytes after the upgrade were not TLS (a capture exported by a
    /// TLS-intercepting proxy goes on in clear): read them as this protocol.
    fn resume_plaintext(&mut self);
}

/// A fresh dialogue parser for a mail protocol.
pub fn new_parser(protocol: Protocol) -> Option<Box<dyn MailParser>> {
    match protocol {
        Protocol::Smtp => Some(Box::new(smtp::SmtpParser::new())),
        Protocol::Pop3 => Some(Box::new(pop3::Pop3Parser::new())),
        Protocol::Imap => Some(Box::new(imap::ImapParser::new())),
        Protocol::Tls | Protocol::Unknown => None,
    }
}

pub use crate::trace::{Protocol, TlsMode};

/// Bytes as text for people (invalid UTF-8 replaced).
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A line quoted for a finding: at most 80 bytes of it.
pub(crate) fn quote(bytes: &[u8]) -> String {
    let t = text(&bytes[..bytes.len().min(80)]);
    if bytes.len() > 80 {
        format!("{t:?}…")
    } else {
        format!("{t:?}")
    }
}

/// Helpers for the parsers' unit tests: play a scripted dialogue.
#[cfg(test)]
pub(crate) mod testing {
    use super::{MailParser, Protocol};
    use crate::capture::Timestamp;
    use crate::flow::Direction;
    use crate::trace::{Dialogue, DialogueOptions};

    /// Feeds `(direction, bytes)` pieces as the analyzer would (piece `i`
    /// is packet `i`) and returns the dialogue.
    pub fn run(
        parser: &mut dyn MailParser,
        protocol: Protocol,
        script: &[(Direction, &[u8])],
        full: bool,
    ) -> Dialogue {
        let mut out = Dialogue::new(
            0,
            protocol,
            DialogueOptions {
                transcript: true,
                full,
            },
        );
        read_messages(&mut out);
        let mut off = [0u64; 2];
        for (i, (dir, bytes)) in script.iter().enumerate() {
            out.data_arrived(
                *dir,
                off[dir.index()],
                i as u64,
                Timestamp::from_nanos(i as i64),
            );
            feed_or_encrypted(parser, *dir, bytes, off[dir.index()], &mut out);
            off[dir.index()] += bytes.len() as u64;
        }
        parser.finish(&mut out);
        out
    }

    /// Messages are read as the analysis reads them (headers, attachments;
    /// the rules on them, like `from-mismatch`, are the analysis's).
    fn read_messages(out: &mut Dialogue) {
        out.set_completer(Box::new(|out, index, raw| {
            let mut info = crate::mail::inspect(&raw.bytes, None);
            if !raw.part.is_full() {
                info.attachments.clear();
            }
            out.messages[index].set_info(info);
        }));
    }

    /// Feeds a parser; what it leaves after a STARTTLS is noted as
    /// encrypted, as the session's TLS layer would without keys.
    fn feed_or_encrypted(
        parser: &mut dyn MailParser,
        dir: Direction,
        bytes: &[u8],
        start: u64,
        out: &mut Dialogue,
    ) {
        let read = if parser.upgraded_to_tls() {
            0
        } else {
            parser.feed(dir, bytes, out)
        };
        if read < bytes.len() {
            out.encrypted(dir, start + read as u64, (bytes.len() - read) as u64);
        }
    }

    /// The transcript as `C: …` / `S: …` lines.
    pub fn transcript(d: &Dialogue) -> Vec<String> {
        d.transcript
            .iter()
            .map(|l| {
                let who = if l.dir == Direction::ClientToServer {
                    "C"
                } else {
                    "S"
                };
                format!("{who}: {}", l.text)
            })
            .collect()
    }

    /// Bytes of `dir` noted as encrypted (`[TLS: N bytes encrypted]`).
    pub fn encrypted(d: &Dialogue, dir: Direction) -> u64 {
        d.transcript
            .iter()
            .filter(|l| l.dir == dir && l.kind == crate::trace::LineKind::Tls)
            .filter_map(|l| l.text.strip_prefix("[TLS: "))
            .filter_map(|t| t.split(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    /// A credential as (mechanism, user, password, accepted).
    pub type Seen<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<bool>);

    pub fn creds(d: &Dialogue) -> Vec<Seen<'_>> {
        d.credentials
            .iter()
            .map(|c| {
                (
                    c.mechanism.as_str(),
                    c.username.as_deref(),
                    c.password.as_deref(),
                    c.success,
                )
            })
            .collect()
    }

    pub fn codes(d: &Dialogue) -> Vec<&'static str> {
        d.findings.iter().map(|f| f.code.as_str()).collect()
    }

    /// Everything a parser found in a script, in a comparable form.
    pub fn outcome(
        parser: &mut dyn MailParser,
        protocol: Protocol,
        script: &[(Direction, Vec<u8>)],
    ) -> Vec<String> {
        let mut out = Dialogue::new(
            0,
            protocol,
            DialogueOptions {
                transcript: true,
                full: true,
            },
        );
        read_messages(&mut out);
        let mut off = [0u64; 2];
        for (dir, bytes) in script {
            feed_or_encrypted(parser, *dir, bytes, off[dir.index()], &mut out);
            off[dir.index()] += bytes.len() as u64;
        }
        parser.finish(&mut out);
        let mut v: Vec<String> = out
            .transcript
            .iter()
            .map(|l| format!("{:?} {:?} {}", l.dir, l.kind, l.text))
            .collect();
        v.extend(
            out.messages
                .iter()
                .map(|m| format!("{} {}", m.size, m.sha256)),
        );
        v.extend(
            out.credentials
                .iter()
                .map(|c| format!("{c:?}").replace(char::is_numeric, "")),
        );
        v.extend(out.findings.iter().map(|f| f.code.to_string()));
        v.extend(out.transactions.iter().map(|t| format!("{:?}", t.status)));
        v
    }

    /// `session` cut into pieces of the sizes in `cuts` (cycled).
    pub fn cut(session: &[(Direction, &[u8])], cuts: &[usize]) -> Vec<(Direction, Vec<u8>)> {
        let mut out = Vec::new();
        let mut k = 0;
        for (dir, bytes) in session {
            let mut rest: &[u8] = bytes;
            while !rest.is_empty() {
                let n = cuts[k % cuts.len()].clamp(1, rest.len());
                k += 1;
                out.push((*dir, rest[..n].to_vec()));
                rest = &rest[n..];
            }
        }
        out
    }

    pub fn whole(session: &[(Direction, &[u8])]) -> Vec<(Direction, Vec<u8>)> {
        session.iter().map(|(d, b)| (*d, b.to_vec())).collect()
    }
}
