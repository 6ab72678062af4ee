//! Helpers shared by the fuzz targets: turning raw fuzzer bytes into a
//! scripted two-way dialogue.
//!
//! # Script format (protocol and TLS targets)
//!
//! ```text
//! options byte, then any number of pieces:
//!   control byte c
//!     direction = c & 0x80 ? server→client : client→server
//!     n = c & 0x7f
//!     n == 0x7f  → a gap; its length is the next byte + 1 (times 64 when
//!                  the byte after it is odd — kept short so it stays cheap)
//!     otherwise  → data: the next n + 1 bytes (fewer at the end of input)
//! ```
//!
//! The options byte: bit 0 keeps the transcript, bit 1 the full content
//! (`dialog --full`), bit 2 installs a message hook (as `extract` does, which
//! makes `mail::inspect` decode attachments).
//!
//! `fuzz/make_corpus.py` writes seeds in this format from the readable
//! dialogues in `fuzz/seeds/`.

use std::sync::Arc;

use mailscope::capture::Timestamp;
use mailscope::flow::Direction;
use mailscope::proto::{MailParser, Protocol};
use mailscope::trace::{Dialogue, DialogueOptions, MessageHook};

/// One step of a scripted dialogue.
#[derive(Debug)]
pub enum Piece<'a> {
    Data(Direction, &'a [u8]),
    Gap(Direction, u64),
}

/// Splits fuzzer bytes into the options byte and the pieces.
pub fn script(data: &[u8]) -> (u8, Vec<Piece<'_>>) {
    let Some((&options, mut rest)) = data.split_first() else {
        return (0, Vec::new());
    };
    let mut pieces = Vec::new();
    while let Some((&c, tail)) = rest.split_first() {
        rest = tail;
        let dir = if c & 0x80 != 0 {
            Direction::ServerToClient
        } else {
            Direction::ClientToServer
        };
        let n = (c & 0x7f) as usize;
        if n == 0x7f {
            let len = rest.first().map_or(1, |&b| b as u64 + 1);
            let scale = if rest.get(1).is_some_and(|b| b & 1 == 1) {
                64
            } else {
                1
            };
            rest = rest.get(2..).unwrap_or(&[]);
            pieces.push(Piece::Gap(dir, len * scale));
        } else {
            let take = (n + 1).min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            pieces.push(Piece::Data(dir, chunk));
        }
    }
    (options, pieces)
}

/// Dialogue options from the options byte.
pub fn dialogue_options(options: u8) -> DialogueOptions {
    DialogueOptions {
        transcript: options & 1 != 0,
        full: options & 2 != 0,
    }
}

/// A message hook that looks at everything it is given (like `extract`).
pub fn hook() -> MessageHook {
    Arc::new(
        |record: &mut mailscope::trace::MessageRecord,
         raw: &mailscope::trace::RawMessage,
         parts: &[Vec<u8>]| {
            let total: usize = parts.iter().map(Vec::len).sum();
            std::hint::black_box((record.attachments.len(), raw.bytes.len(), total));
        },
    )
}

/// Plays the script into `parser` as the analyzer would (piece `i` is
/// packet `i`), then finishes it and reads every result.
pub fn run_parser(parser: &mut dyn MailParser, protocol: Protocol, data: &[u8]) {
    let (options, pieces) = script(data);
    let mut out = Dialogue::new(0, protocol, dialogue_options(options));
    // Messages are completed as the analysis completes them.
    out.set_completer(mailscope::analysis::message_completer(
        (options & 4 != 0).then(hook),
    ));
    let mut off = [0u64; 2];
    for (i, piece) in pieces.iter().enumerate() {
        match *piece {
            Piece::Data(dir, bytes) => {
                out.data_arrived(
                    dir,
                    off[dir.index()],
                    i as u64,
                    Timestamp::from_nanos(i as i64 * 1_000),
                );
                // After an accepted STARTTLS the bytes that are not TLS
                // are read on as plaintext (the session does the same).
                if parser.upgraded_to_tls() && options & 8 != 0 {
                    parser.resume_plaintext();
                }
                if !parser.upgraded_to_tls() {
                    let read = parser.feed(dir, bytes, &mut out);
                    assert!(read <= bytes.len());
                }
                off[dir.index()] += bytes.len() as u64;
            }
            Piece::Gap(dir, len) => {
                parser.gap(dir, len, &mut out);
                off[dir.index()] += len;
            }
        }
    }
    parser.finish(&mut out);
    std::hint::black_box(parser.upgraded_to_tls());
    consume(&out);
}

/// Serialises everything a dialogue holds, as the JSON report would.
pub fn consume(d: &Dialogue) {
    let mut sink = std::io::sink();
    for m in &d.messages {
        serde_json::to_writer(&mut sink, m).unwrap();
    }
    for t in &d.transactions {
        serde_json::to_writer(&mut sink, t).unwrap();
    }
    for c in &d.credentials {
        serde_json::to_writer(&mut sink, c).unwrap();
    }
    for f in &d.findings {
        serde_json::to_writer(&mut sink, f).unwrap();
    }
    for l in &d.transcript {
        serde_json::to_writer(&mut sink, l).unwrap();
    }
    std::hint::black_box((&d.helo, &d.capabilities, d.findings_suppressed));
}
