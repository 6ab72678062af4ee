//! One flow, analysed: the protocol sniffer decides what the flow speaks,
//! then the matching sans-IO parser reads it into a [`Dialogue`].
//!
//! The decision needs the first line of the flow (the server's greeting,
//! or the client's first command when the greeting was not captured), so
//! the first bytes wait in a small buffer; once the protocol is known they
//! are replayed into the parser and everything after goes straight through.
//! Implicit-TLS flows (465, 993, 995, or TLS from the first byte) go to the
//! TLS tracker only.

use crate::capture::Timestamp;
use crate::flow::{Direction, FinishedFlow, FlowSummary, StreamEvent, StreamHandler};
use crate::proto::detect::{ProtocolSniffer, SNIFF_LEN, Verdict};
use crate::proto::tls_decrypt::SharedKeyLog;
use crate::proto::{MailParser, Protocol, TlsMode, new_parser};
use crate::trace::{Dialogue, DialogueOptions, MessageHook, Severity};

/// Bytes held back at most while the protocol is not yet known.
const MAX_HELD: usize = 16 * 1024;

/// A piece of stream held back until the protocol is known.
enum Held {
    Data {
        dir: Direction,
        offset: u64,
        bytes: Vec<u8>,
        packet: u64,
        ts: Timestamp,
    },
    Gap {
        dir: Direction,
        offset: u64,
        len: u64,
    },
}

enum Stage {
    Sniffing { held: Vec<Held>, held_bytes: usize },
    Reading(Reader),
}

/// What reads the flow once its protocol is known.
enum Reader {
    Parser(Box<dyn MailParser>),
    /// TLS from the first byte.
    Tls,
    /// Not mail: nothing to read.
    Nothing,
}

/// The [`StreamHandler`] of the analyzer: one per flow.
pub struct FlowAnalyzer {
    sniffer: ProtocolSniffer,
    stage: Stage,
    dialogue: Dialogue,
    /// Whether each direction has shown a full line (or enough bytes).
    ready: [bool; 2],
    seen: [usize; 2],
    verdict: Option<Verdict>,
}

/// A flow after the analysis.
pub struct FlowAnalysis {
    pub summary: FlowSummary,
    pub verdict: Verdict,
    pub dialogue: Dialogue,
}

impl FlowAnalyzer {
    pub fn new(
        flow: u64,
        server_port: u16,
        options: DialogueOptions,
        hook: Option<MessageHook>,
    ) -> Self {
        let mut dialogue = Dialogue::new(flow, Protocol::Unknown, options);
        if let Some(h) = hook {
            dialogue.set_message_hook(h);
        }
        FlowAnalyzer {
            sniffer: ProtocolSniffer::new(server_port),
            stage: Stage::Sniffing {
                held: Vec::new(),
                held_bytes: 0,
            },
            dialogue,
            ready: [false; 2],
            seen: [0; 2],
            verdict: None,
        }
    }

    /// Like [`new`](Self::new), opening TLS records with `keys`.
    pub fn with_keys(
        flow: u64,
        server_port: u16,
        options: DialogueOptions,
        hook: Option<MessageHook>,
        keys: Option<SharedKeyLog>,
    ) -> Self {
        let mut analyzer = FlowAnalyzer::new(flow, server_port, options, hook);
        if let Some(k) = keys {
            analyzer.dialogue.set_key_log(k);
        }
        analyzer
    }

    /// Decides the protocol and replays what was held back.
    fn decide(&mut self) {
        let Stage::Sniffing { held, .. } = &mut self.stage else {
            return;
        };
        let held = std::mem::take(held);
        let verdict = self.sniffer.verdict();
        self.dialogue.protocol = verdict.protocol;
        let reader = if verdict.tls == TlsMode::Implicit || verdict.protocol == Protocol::Tls {
            self.dialogue.tls_from_start = true;
            Reader::Tls
        } else {
            match new_parser(verdict.protocol) {
                Some(p) => Reader::Parser(p),
                None => Reader::Nothing,
            }
        };
        self.verdict = Some(verdict);
        self.stage = Stage::Reading(reader);
        for h in held {
            match h {
                Held::Data {
                    dir,
                    offset,
                    bytes,
                    packet,
                    ts,
                } => self.read(
                    dir,
                    StreamEvent::Data {
                        offset,
                        bytes: &bytes,
                        packet,
                        ts,
                    },
                ),
                Held::Gap { dir, offset, len } => self.read(dir, StreamEvent::Gap { offset, len }),
            }
        }
    }

    fn read(&mut self, dir: Direction, event: StreamEvent<'_>) {
        let Stage::Reading(reader) = &mut self.stage else {
            return;
        };
        let out = &mut self.dialogue;
        match event {
            StreamEvent::Data {
                offset,
                bytes,
                packet,
                ts,
            } => {
                out.data_arrived(dir, offset, packet, ts);
                match reader {
                    Reader::Parser(p) => p.feed(dir, bytes, out),
                    Reader::Tls => out.tls_bytes(dir, bytes, offset),
                    Reader::Nothing => {}
                }
            }
            StreamEvent::Gap { offset, len } => match reader {
                Reader::Parser(p) => p.gap(dir, len, out),
                Reader::Tls => out.tls_gap(dir, offset, len),
                Reader::Nothing => {}
            },
        }
    }

    /// The flow is over: settles the parser and adds the flow-level
    /// findings.
    pub fn finish(mut self, summary: FlowSummary) -> FlowAnalysis {
        self.decide();
        let mut verdict = self
            .verdict
            .take()
            .unwrap_or_else(|| self.sniffer.verdict());
        let out = &mut self.dialogue;
        if let Stage::Reading(Reader::Parser(p)) = &mut self.stage {
            p.finish(out);
            if p.upgraded_to_tls() {
                verdict.tls = TlsMode::Starttls;
            }
        }
        out.finish_tls();
        // A TLS flow on a port that does not say what it carries: the
        // decrypted greeting did.
        if verdict.protocol == Protocol::Tls && out.protocol.is_mail() {
            verdict.protocol = out.protocol;
        }
        if verdict.protocol.is_mail() || verdict.protocol == Protocol::Tls {
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                let st = &summary.streams[dir.index()];
                if st.gaps > 0 {
                    let way = match dir {
                        Direction::ClientToServer => "client→server",
                        Direction::ServerToClient => "server→client",
                    };
                    out.finding(
                        Severity::Medium,
                        "gap-in-stream",
                        format!(
                            "{} bytes of the {way} stream are missing from the capture ({} gap(s)); what they carried is lost and messages they touch are marked incomplete",
                            st.gap_bytes, st.gaps
                        ),
                    );
                }
            }
        }
        FlowAnalysis {
            summary,
            verdict,
            dialogue: self.dialogue,
        }
    }
}

impl StreamHandler for FlowAnalyzer {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        self.sniffer.on_event(dir, event);
        let Stage::Sniffing { held, held_bytes } = &mut self.stage else {
            self.read(dir, event);
            return;
        };
        match event {
            StreamEvent::Data {
                offset,
                bytes,
                packet,
                ts,
            } => {
                let d = dir.index();
                self.seen[d] += bytes.len();
                if bytes.contains(&b'\n') || self.seen[d] >= SNIFF_LEN {
                    self.ready[d] = true;
                }
                *held_bytes += bytes.len();
                held.push(Held::Data {
                    dir,
                    offset,
                    bytes: bytes.to_vec(),
                    packet,
                    ts,
                });
            }
            StreamEvent::Gap { offset, len } => held.push(Held::Gap { dir, offset, len }),
        }
        // The server's first line decides; so does the client's when the
        // server has said nothing (a capture that missed the greeting, or a
        // client-first protocol that is not mail); and TLS from byte 0.
        let server_ready = self.ready[Direction::ServerToClient.index()];
        let client_ready = self.ready[Direction::ClientToServer.index()];
        let tls_start = self.sniffer.verdict().tls == TlsMode::Implicit;
        if server_ready || client_ready || tls_start || *held_bytes >= MAX_HELD {
            self.decide();
        }
    }
}

impl FlowAnalysis {
    pub fn from_finished(flow: FinishedFlow<FlowAnalyzer>) -> Self {
        flow.handler.finish(flow.summary)
    }
}
