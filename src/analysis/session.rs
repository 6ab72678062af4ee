//! One flow, analysed: recognise the protocol, read the plaintext with the
//! protocol's parser, and follow (and with keys, open) the TLS that may
//! come after it.
//!
//! The layers of a mail connection, in the order they appear on the wire:
//!
//! 1. **Plaintext** from the first byte (SMTP on 25/587, POP3 on 110, IMAP
//!    on 143): the protocol's sans-IO parser reads it.
//! 2. **TLS** after a STARTTLS/STLS the server accepted (RFC 3207 §4,
//!    RFC 2595 §4), or from the first byte (implicit TLS, RFC 8314 §3.3):
//!    the [`TlsLayer`] counts the records and reads the hellos.
//! 3. **Decrypted plaintext**, when a key log has the session's secrets: a
//!    second parser of the same protocol, inside the TLS layer.
//!
//! The protocol is decided once, by [`ProtocolSniffer`] (the same decision
//! `mailscope flows` makes), from the first bytes of both directions; until
//! then the bytes wait here. After an accepted STARTTLS, the bytes go to the
//! TLS layer only if they are TLS records: a capture exported by a
//! TLS-intercepting proxy goes on in clear and is read as such.

use super::tls_layer::TlsLayer;
use crate::flow::{Direction, FinishedFlow, FlowSummary, Piece, StreamEvent, StreamHandler};
use crate::proto::detect::{ProtocolSniffer, is_implicit_tls_port};
use crate::proto::tls::{TlsSummary, looks_like_handshake, looks_like_record};
use crate::proto::{MailParser, new_parser};
use crate::trace::text::printable;
use crate::trace::{
    Credential, Dialogue, FindingCode, FlowUid, LineKind, Protocol, Severity, TlsMode, Tunnel,
    TunnelKind, Verdict,
};

/// A piece of stream held back until the protocol is known: the event,
/// with its bytes copied into `bytes` (the held event cannot borrow them:
/// its own slice is empty).
struct Held {
    dir: Direction,
    event: StreamEvent<'static>,
    bytes: Vec<u8>,
}

impl Held {
    fn new(dir: Direction, event: StreamEvent<'_>) -> Held {
        let (event, bytes) = match event {
            StreamEvent::Data(p) => {
                let at = Piece {
                    offset: p.offset,
                    bytes: &[],
                    packet: p.packet,
                    ts: p.ts,
                };
                (StreamEvent::Data(at), p.bytes.to_vec())
            }
            StreamEvent::Gap { offset, len } => (StreamEvent::Gap { offset, len }, Vec::new()),
        };
        Held { dir, event, bytes }
    }

    /// The event as it came.
    fn event(&self) -> StreamEvent<'_> {
        match self.event {
            StreamEvent::Data(p) => StreamEvent::Data(Piece {
                bytes: &self.bytes,
                ..p
            }),
            gap => gap,
        }
    }
}

/// Where the flow's bytes go now.
enum Stage {
    /// The protocol is not decided yet.
    Deciding(Vec<Held>),
    /// A mail parser reads the plaintext.
    Plain(Box<dyn MailParser>),
    /// The parser accepted STARTTLS: the next bytes tell whether TLS
    /// follows.
    Upgrading(Box<dyn MailParser>),
    /// Every byte from here on is TLS.
    Tls,
    /// Not mail: nothing to read.
    Nothing,
}

/// The full analysis of one flow (the stream handler of `analyze`,
/// `dialog`, `extract`, `creds` and the window).
pub struct FlowSession {
    server_port: u16,
    sniffer: ProtocolSniffer,
    stage: Stage,
    tls: TlsLayer,
    dialogue: Dialogue,
    /// The protocol the decrypted plaintext revealed (a TLS flow on a port
    /// that does not say what it carries).
    revealed: Option<Protocol>,
    /// Stream offsets where the flow's own protocol starts in each
    /// direction (after a proxy tunnel's set-up).
    skip: [u64; 2],
    /// The client opened with TLS records but the server speaks in clear:
    /// those records are not commands.
    client_tls_first: bool,
}

/// A flow after the analysis.
pub struct FlowAnalysis {
    pub summary: FlowSummary,
    pub verdict: Verdict,
    pub dialogue: Dialogue,
    /// TLS records and handshake facts, when the flow used TLS.
    pub tls: Option<TlsSummary>,
    /// The input file of the flow's first packet, when several were read
    /// as one capture (set by whoever collects the flows: see
    /// `capture::InputFiles`).
    pub file: Option<String>,
}

impl FlowSession {
    pub(crate) fn new(server_port: u16, dialogue: Dialogue, tls: TlsLayer) -> Self {
        FlowSession {
            server_port,
            sniffer: ProtocolSniffer::new(server_port),
            stage: Stage::Deciding(Vec::new()),
            tls,
            dialogue,
            revealed: None,
            skip: [0; 2],
            client_tls_first: false,
        }
    }

    /// The protocol is decided: the parser is made and what was held back
    /// is read.
    fn start_reading(&mut self, verdict: &Verdict) {
        if !matches!(self.stage, Stage::Deciding(_)) {
            return;
        }
        let Stage::Deciding(held) = std::mem::replace(&mut self.stage, Stage::Nothing) else {
            unreachable!("checked above");
        };
        self.dialogue.protocol = verdict.protocol;
        if let Some(t) = &verdict.tunnel {
            self.skip = t.inner_start;
            // The set-up's packets, so its transcript lines find them.
            for h in &held {
                if let StreamEvent::Data(p) = h.event
                    && p.offset < t.inner_start[h.dir.index()]
                {
                    self.dialogue.data_arrived(h.dir, p.offset, p.packet, p.ts);
                }
            }
            tunnel_lines(t, &mut self.dialogue);
            // The parser starts after the set-up.
            self.dialogue
                .skip_unparsed(Direction::ClientToServer, t.inner_start[0]);
            self.dialogue
                .skip_unparsed(Direction::ServerToClient, t.inner_start[1]);
        }
        self.plaintext_findings(verdict);
        self.stage = if verdict.tls == TlsMode::Implicit || verdict.protocol == Protocol::Tls {
            self.tls.set_from_start();
            Stage::Tls
        } else {
            match new_parser(verdict.protocol) {
                Some(p) => Stage::Plain(p),
                None => Stage::Nothing,
            }
        };
        for h in &held {
            self.read(h.dir, h.event());
        }
    }

    /// Findings about plaintext where TLS was expected.
    fn plaintext_findings(&mut self, verdict: &Verdict) {
        if verdict.tls != TlsMode::None || !verdict.protocol.is_mail() {
            return;
        }
        let port = verdict.tunnel.as_ref().map_or(self.server_port, |t| t.port);
        if is_implicit_tls_port(port) {
            self.dialogue.finding(
                Severity::Medium,
                FindingCode::ProtocolAnomaly,
                format!(
                    "port {port} is for implicit TLS (RFC 8314 §3.3) but this {} session is in clear: anyone on the path reads it",
                    verdict.protocol.as_str().to_ascii_uppercase()
                ),
            );
        }
    }

    fn read(&mut self, dir: Direction, event: StreamEvent<'_>) {
        // A proxy tunnel's set-up is not the flow's protocol.
        let skip = self.skip[dir.index()];
        let event = match event {
            StreamEvent::Data(p) if p.offset < skip => {
                let cut = ((skip - p.offset) as usize).min(p.bytes.len());
                if cut == p.bytes.len() {
                    return;
                }
                StreamEvent::Data(Piece {
                    offset: skip,
                    bytes: &p.bytes[cut..],
                    ..p
                })
            }
            StreamEvent::Gap { offset, len } if offset < skip => {
                if offset + len <= skip {
                    return;
                }
                StreamEvent::Gap {
                    offset: skip,
                    len: offset + len - skip,
                }
            }
            other => other,
        };
        let out = &mut self.dialogue;
        match event {
            StreamEvent::Data(p) => {
                out.data_arrived(dir, p.offset, p.packet, p.ts);
                self.read_bytes(dir, p.offset, p.bytes);
            }
            StreamEvent::Gap { offset, len } => match &mut self.stage {
                Stage::Plain(p) | Stage::Upgrading(p) => p.gap(dir, len, out),
                Stage::Tls => self.tls.gap(dir, offset, len, out),
                Stage::Deciding(_) | Stage::Nothing => {}
            },
        }
    }

    /// In-order bytes of `dir` at stream `offset`, through the layers.
    fn read_bytes(&mut self, dir: Direction, offset: u64, bytes: &[u8]) {
        let out = &mut self.dialogue;
        if dir == Direction::ClientToServer
            && offset == self.skip[0]
            && matches!(self.stage, Stage::Plain(_))
            && looks_like_handshake(bytes)
        {
            // The client's very first bytes are a TLS ClientHello, yet the
            // server greeted in clear: a client set up for implicit TLS.
            self.client_tls_first = true;
            out.finding(
                Severity::Info,
                FindingCode::ProtocolAnomaly,
                "the client opened with a TLS ClientHello but the server speaks in clear: a client set up for implicit TLS (RFC 8314) on a plaintext port",
            );
        }
        if self.client_tls_first && dir == Direction::ClientToServer {
            if looks_like_record(bytes, None) || !bytes.contains(&b'\n') {
                out.encrypted(dir, offset, bytes.len() as u64);
                out.skip_unparsed(dir, bytes.len() as u64);
                return;
            }
            self.client_tls_first = false;
        }
        if let Stage::Upgrading(parser) = &mut self.stage {
            if looks_like_record(bytes, None) {
                self.stage = Stage::Tls;
            } else {
                // RFC 3207 §4 says TLS starts now; these bytes say it did
                // not. A decrypting proxy exported the session in clear (or
                // the client gave up on TLS): read on as plaintext.
                out.finding(
                    Severity::Medium,
                    FindingCode::ProtocolAnomaly,
                    "the server accepted STARTTLS but the dialogue went on in clear (a capture made behind a TLS-intercepting proxy, or a client that did not start TLS)",
                );
                parser.resume_plaintext();
                let parser = match std::mem::replace(&mut self.stage, Stage::Nothing) {
                    Stage::Upgrading(p) => p,
                    _ => unreachable!("matched above"),
                };
                self.stage = Stage::Plain(parser);
            }
        }
        match &mut self.stage {
            Stage::Plain(parser) => {
                let read = parser.feed(dir, bytes, out);
                if parser.upgraded_to_tls() {
                    let parser = match std::mem::replace(&mut self.stage, Stage::Nothing) {
                        Stage::Plain(p) => p,
                        _ => unreachable!("matched above"),
                    };
                    self.stage = Stage::Upgrading(parser);
                    if read < bytes.len() {
                        self.read_bytes(dir, offset + read as u64, &bytes[read..]);
                    }
                }
            }
            Stage::Tls => {
                self.tls.bytes(dir, bytes, offset, out);
                if let Some(p) = self.tls.revealed_protocol() {
                    self.revealed = Some(p);
                }
            }
            Stage::Upgrading(_) | Stage::Deciding(_) | Stage::Nothing => {}
        }
    }

    /// The flow is over: settles the parsers and adds the flow-level
    /// findings.
    pub fn finish(mut self, summary: FlowSummary) -> FlowAnalysis {
        let mut verdict = self.sniffer.decide();
        self.start_reading(&verdict);
        let out = &mut self.dialogue;
        match &mut self.stage {
            Stage::Plain(p) | Stage::Upgrading(p) => p.finish(out),
            _ => {}
        }
        self.tls.finish(out);
        // A TLS flow on a port that does not say what it carries: the
        // decrypted greeting did.
        if verdict.protocol == Protocol::Tls
            && let Some(p) = self.revealed.or(self.tls.revealed_protocol())
        {
            verdict.protocol = p;
        }
        if verdict.protocol.is_mail() || verdict.protocol == Protocol::Tls {
            gap_findings(&summary, out);
        }
        // Every record of the flow carries its name across captures.
        let uid = Some(FlowUid::of(summary.client, summary.server, summary.start));
        out.messages.iter_mut().for_each(|m| m.flow_uid = uid);
        out.transactions.iter_mut().for_each(|t| t.flow_uid = uid);
        out.credentials.iter_mut().for_each(|c| c.flow_uid = uid);
        out.findings.iter_mut().for_each(|f| f.flow_uid = uid);
        FlowAnalysis {
            summary,
            verdict,
            tls: self.tls.summary(),
            dialogue: self.dialogue,
            file: None,
        }
    }
}

/// The tunnel's set-up as transcript lines, and a proxy password sent in
/// clear as a credential.
fn tunnel_lines(t: &Tunnel, out: &mut Dialogue) {
    let (c, s) = (Direction::ClientToServer, Direction::ServerToClient);
    let kind = match t.kind {
        TunnelKind::HttpConnect => "HTTP CONNECT",
        TunnelKind::Socks4 => "SOCKS4",
        TunnelKind::Socks5 => "SOCKS5",
    };
    let target = format!("{}:{}", t.host, t.port);
    out.note(
        c,
        LineKind::Command,
        format!(
            "[{kind} tunnel: connect to {}]",
            printable(target.as_bytes())
        ),
        0,
        t.inner_start[0],
    );
    out.note(
        s,
        LineKind::Reply,
        format!("[{kind} tunnel open: what follows is the dialogue inside]"),
        0,
        t.inner_start[1],
    );
    if let (Some(user), Some(password)) = (&t.user, &t.password) {
        let mut cred = Credential::new("SOCKS5-USERPASS");
        cred.username = Some(user.clone());
        cred.password = Some(password.clone());
        cred.note = Some("the proxy login (RFC 1929), sent in clear".into());
        let index = out.credential_seen(cred, "SOCKS5 proxy login", false);
        // The tunnel opened only after the proxy's `01 00` (RFC 1929 §2:
        // status X'00' is success).
        out.credential_result(index, true, "00");
    }
}

/// `gap-in-stream`, once per direction that lost bytes.
fn gap_findings(summary: &FlowSummary, out: &mut Dialogue) {
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let st = &summary.streams[dir.index()];
        if st.gaps > 0 {
            let way = match dir {
                Direction::ClientToServer => "client→server",
                Direction::ServerToClient => "server→client",
            };
            out.finding(
                Severity::Medium,
                FindingCode::GapInStream,
                format!(
                    "{} bytes of the {way} stream are missing from the capture ({} gap(s)); what they carried is lost and messages they touch are marked incomplete",
                    st.gap_bytes, st.gaps
                ),
            );
        }
    }
}

impl StreamHandler for FlowSession {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        self.sniffer.on_event(dir, event);
        let Stage::Deciding(held) = &mut self.stage else {
            self.read(dir, event);
            return;
        };
        held.push(Held::new(dir, event));
        if let Some(verdict) = self.sniffer.decided() {
            self.start_reading(&verdict);
        }
    }
}

impl FlowAnalysis {
    pub fn from_finished(flow: FinishedFlow<FlowSession>) -> Self {
        flow.handler.finish(flow.summary)
    }
}

impl FlowAnalysis {
    /// The `flow` record of `analyze`.
    pub fn flow_record(&self) -> crate::trace::AnalyzedFlowRecord<'_> {
        let d = &self.dialogue;
        crate::trace::AnalyzedFlowRecord {
            flow: crate::trace::FlowRecord {
                file: self.file.clone(),
                ..crate::trace::FlowRecord::new(&self.summary, &self.verdict)
            },
            messages: d.messages.len(),
            credentials: d.credentials.len(),
            findings: d.findings.len(),
            helo: d.helo.as_deref(),
            capabilities: &d.capabilities,
            tls_info: self.tls.as_ref(),
        }
    }
}
