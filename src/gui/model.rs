//! The capture as the window shows it: hosts, connections, packets,
//! transcript lines, messages and their journeys, credentials, findings.
//!
//! Nothing here knows egui. A [`SceneBuilder`] is fed what the analyzer
//! produces (the same [`FlowAnalysis`] every report reads) and the packets
//! the pipeline saw; [`SceneBuilder::finish`] names the hosts, gives them
//! their place in the picture and orders everything by capture time. Times
//! are seconds since the capture's first packet, so the timeline starts at 0.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

mod hosts;
mod journeys;

use hosts::HostTable;
use journeys::journeys;

use crate::analysis::PacketSeen;
use crate::analysis::{CrossFlowWatch, FlowAnalysis};
use crate::capture::Timestamp;
use crate::capture::decode::TcpFlags;
use crate::flow::Direction;
use crate::proto::tls::TlsSummary;
use crate::proto::{Protocol, TlsMode};
use crate::trace::text::visible;
use crate::trace::{Credential, Finding, FindingCode, LineKind, MessageRecord, Severity};
use crate::world::demo::Stage;

/// Packets kept for the animation at most; later ones are counted only
/// (the analysis itself still reads them all).
pub const MAX_PACKETS: usize = 4_000_000;
/// Message bytes kept for the inspector at most, over all messages.
pub const RAW_BUDGET: usize = 256 << 20;
/// Transcript lines kept at most.
pub const MAX_LINES: usize = 2_000_000;

/// What a host does on the mail path; decides where it is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Sends (submits) or reads mail: Alice's and Bob's programs.
    UserAgent,
    /// Accepts mail (SMTP) or keeps mailboxes (POP3/IMAP).
    MailServer,
    /// A mail server, or something posing as one, whose SMTP session came
    /// with STARTTLS blanked out of the EHLO reply (`starttls-stripped`):
    /// the attacker on the path of the attack lessons (`demo --attack`),
    /// or the server behind a middlebox that did it. Drawn in red.
    Interceptor,
    /// Answers DNS questions (the MX lookup).
    Dns,
    /// Anything else seen in the capture.
    Other,
}

/// One machine (one IP address).
#[derive(Clone, Debug)]
pub struct Host {
    pub addr: IpAddr,
    /// The best name the capture gives: a pcapng Name Resolution Block, the
    /// SMTP greeting's domain, the client's EHLO, else the address.
    pub name: String,
    pub role: Role,
    /// Column in the picture: 0 at the sender's edge, growing along the
    /// mail path; retrieving agents sit right of their mailbox server.
    pub column: usize,
    /// Row inside its column.
    pub row: usize,
    /// Bytes sent and received over all connections (for ordering).
    pub bytes: u64,
}

/// TLS on a connection, as far as the capture shows it.
#[derive(Clone, Debug)]
pub struct TlsView {
    pub mode: TlsMode,
    pub summary: TlsSummary,
}

/// One TCP connection.
#[derive(Clone, Debug)]
pub struct Conn {
    pub flow: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub client_host: usize,
    pub server_host: usize,
    pub protocol: Protocol,
    pub tls: Option<TlsView>,
    pub start: f64,
    pub end: f64,
    pub packets: u64,
    /// Stream bytes per direction ([`Direction::index`]).
    pub bytes: [u64; 2],
    /// The first sequence number of each direction's stream (the SYN's
    /// number + 1, else the first data packet's), to place a packet's
    /// payload in the stream.
    pub stream_base: [Option<u32>; 2],
    pub messages: Vec<usize>,
    pub credentials: Vec<usize>,
    pub findings: Vec<usize>,
    /// Indices into [`Scene::lines`].
    pub lines: Vec<usize>,
    pub helo: Option<String>,
}

impl Conn {
    /// `SMTP 25`, `IMAP 993 (TLS)`: how the connection is called on screen.
    pub fn label(&self) -> String {
        let proto = match self.protocol {
            Protocol::Unknown => "TCP".to_string(),
            p => p.as_str().to_uppercase(),
        };
        let tls = match self.tls.as_ref().map(|t| t.mode) {
            // "TLS 443" says it already.
            _ if self.protocol == Protocol::Tls => "",
            Some(TlsMode::Implicit) => " (TLS)",
            Some(TlsMode::Starttls) => " (STARTTLS)",
            _ => "",
        };
        format!("{proto} {}{tls}", self.server.port())
    }

    /// Whether what crossed the wire after the greeting was encrypted.
    pub fn encrypted(&self) -> bool {
        self.tls.is_some()
    }
}

/// What a packet does in the life of its connection (the three phases
/// the course teaches: handshake, transfer, close).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// SYN, SYN-ACK and the ACK that completes the three-way handshake.
    Handshake,
    /// Carries payload bytes.
    Data,
    /// A bare acknowledgement during the transfer.
    Ack,
    /// FIN, and the acknowledgements after one.
    Close,
    /// RST: the connection is torn down at once.
    Reset,
}

/// One captured packet, as the animation needs it.
#[derive(Clone, Copy, Debug)]
pub struct Pkt {
    /// Capture index (0-based, like the transcript's `packets`).
    pub index: u64,
    pub t: f64,
    /// Index into [`Scene::conns`].
    pub conn: u32,
    pub dir: Direction,
    pub phase: Phase,
    pub flags: TcpFlags,
    pub seq: u32,
    pub len: u32,
    /// The frame's length on the wire (the packet list's Length).
    pub frame_len: u32,
    /// The first transcript line ([`Scene::lines`]) whose bytes this
    /// packet carries.
    pub line: Option<u32>,
}

/// A DNS question or answer (UDP), drawn between a host and the DNS server.
#[derive(Clone, Debug)]
pub struct DnsEvent {
    pub index: u64,
    pub t: f64,
    pub from: usize,
    pub to: usize,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// A question (to port 53) rather than an answer.
    pub query: bool,
    pub frame_len: u32,
    /// The UDP payload: the DNS message's own bytes.
    pub payload_len: u32,
    /// `MX hamburger.edu?` or `MX hamburger.edu -> 10 hamburger.edu`.
    pub text: String,
}

/// One transcript line of one connection.
#[derive(Clone, Debug)]
pub struct Line {
    pub conn: usize,
    pub t: f64,
    pub dir: Direction,
    pub kind: LineKind,
    pub text: String,
    pub packets: Vec<u64>,
    /// Read from inside TLS with a key log.
    pub decrypted: bool,
    /// Stream offsets of the line's bytes (see `TranscriptLine::span`).
    pub span: Option<(u64, u64)>,
}

impl Line {
    /// `C: ` or `S: `, as the textbook writes it.
    pub fn speaker(&self) -> &'static str {
        match self.dir {
            Direction::ClientToServer => "C:",
            Direction::ServerToClient => "S:",
        }
    }
}

/// A message seen on one connection.
#[derive(Clone, Debug)]
pub struct Msg {
    pub conn: usize,
    pub t: f64,
    pub record: MessageRecord,
    /// The bytes, when they fit [`RAW_BUDGET`].
    pub raw: Option<Arc<[u8]>>,
}

/// The same message seen on several connections: its path.
#[derive(Clone, Debug)]
pub struct Journey {
    /// The Message-ID, else the SHA-256 of the bytes.
    pub key: String,
    pub subject: Option<String>,
    /// In time order.
    pub hops: Vec<Hop>,
}

/// One leg of a journey.
#[derive(Clone, Copy, Debug)]
pub struct Hop {
    pub msg: usize,
    pub conn: usize,
    /// From the command that started the transfer to the message's last
    /// byte.
    pub t_start: f64,
    pub t_end: f64,
    /// When the first packet with message bytes arrived (the envelope
    /// rides with the packets from there to `t_end`).
    pub t_first: f64,
    /// True when the message went from client to server (SMTP, APPEND),
    /// false when the server handed it out (RETR, FETCH).
    pub upstream: bool,
}

/// A credential, with the connection it crossed.
#[derive(Clone, Debug)]
pub struct Cred {
    pub conn: usize,
    pub t: f64,
    pub record: Credential,
}

/// A finding, with the connection it is about.
#[derive(Clone, Debug)]
pub struct FindingAt {
    pub conn: Option<usize>,
    pub t: f64,
    pub record: Finding,
}

/// What a timeline marker stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Command,
    Message,
    Finding,
    /// A DNS question or answer (the MX lookup of the mail path).
    Dns,
}

/// A point of interest on the timeline (what "next event" steps to).
#[derive(Clone, Copy, Debug)]
pub struct Marker {
    pub t: f64,
    pub kind: MarkerKind,
    /// Index into lines, messages, findings or DNS events, by kind.
    pub item: usize,
}

/// One packet of the capture as the packet list and the step mode see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// Index into [`Scene::packets`].
    Tcp(u32),
    /// Index into [`Scene::dns`].
    Dns(u32),
}

/// One row of the transcript of all connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// Index into [`Scene::lines`].
    Line(u32),
    /// Index into [`Scene::dns`].
    Dns(u32),
    /// What an MX record is, after the first answer that has one.
    MxNote(u32),
}

impl DnsEvent {
    /// The transcript's words: `Q: MX hamburger.edu?` for a question,
    /// `A: MX 10 hamburger.edu, A 127.0.10.3` for its answer.
    pub fn transcript(&self) -> String {
        match self.text.split_once(" -> ") {
            Some((_, answers)) => format!("A: {answers}"),
            None => format!("Q: {}", self.text),
        }
    }

    /// Whether this is an answer with an MX record.
    pub fn has_mx(&self) -> bool {
        !self.query
            && self
                .text
                .split_once(" -> ")
                .is_some_and(|(_, a)| a.split(", ").any(|r| r.starts_with("MX ")))
    }

    /// The time of the feed row's event.
    fn t(&self) -> f64 {
        self.t
    }
}

/// The whole capture, ready to show.
#[derive(Clone, Debug, Default)]
pub struct Scene {
    /// File name shown in the title.
    pub source: String,
    /// Capture time of t = 0.
    pub origin: Timestamp,
    /// Seconds from the first to the last packet.
    pub duration: f64,
    pub hosts: Vec<Host>,
    pub conns: Vec<Conn>,
    pub packets: Vec<Pkt>,
    /// Packets read but not kept ([`MAX_PACKETS`]).
    pub packets_dropped: u64,
    pub dns: Vec<DnsEvent>,
    /// All connections' lines in time order.
    pub lines: Vec<Line>,
    pub messages: Vec<Msg>,
    pub journeys: Vec<Journey>,
    pub credentials: Vec<Cred>,
    pub findings: Vec<FindingAt>,
    pub markers: Vec<Marker>,
    /// The transcript of all connections: every line and, between them in
    /// time order, the DNS questions and answers (they belong to no TCP
    /// connection).
    pub feed: Vec<Feed>,
    /// Every packet kept, TCP and DNS, in capture order: what the packet
    /// list shows and what a step of "packet" granularity moves by.
    pub wire: Vec<Wire>,
    /// What the reader said about damaged parts of the file.
    pub warnings: Vec<String>,
}

impl Scene {
    /// Index of the first packet at or after `t` (packets are in time
    /// order).
    pub fn packet_at(&self, t: f64) -> usize {
        self.packets.partition_point(|p| p.t < t)
    }

    /// The packet with capture index `index`, if kept.
    pub fn packet_by_index(&self, index: u64) -> Option<&Pkt> {
        let i = self.packets.partition_point(|p| p.index < index);
        self.packets.get(i).filter(|p| p.index == index)
    }

    /// The next marker strictly after `t`, and the last one strictly
    /// before it.
    pub fn next_marker(&self, t: f64) -> Option<&Marker> {
        let i = self.markers.partition_point(|m| m.t <= t + 1e-9);
        self.markers.get(i)
    }

    pub fn previous_marker(&self, t: f64) -> Option<&Marker> {
        let i = self.markers.partition_point(|m| m.t < t - 1e-9);
        i.checked_sub(1).map(|i| &self.markers[i])
    }

    /// Capture time of wire packet `k`.
    pub fn wire_t(&self, k: usize) -> f64 {
        match self.wire[k] {
            Wire::Tcp(i) => self.packets[i as usize].t,
            Wire::Dns(i) => self.dns[i as usize].t,
        }
    }

    /// Capture index (Wireshark's No. minus one) of wire packet `k`.
    pub fn wire_index(&self, k: usize) -> u64 {
        match self.wire[k] {
            Wire::Tcp(i) => self.packets[i as usize].index,
            Wire::Dns(i) => self.dns[i as usize].index,
        }
    }

    /// The connection of a flow id.
    pub fn conn_of_flow(&self, flow: u64) -> Option<usize> {
        self.conns.binary_search_by_key(&flow, |c| c.flow).ok()
    }

    /// Where the payload of packet `p` starts in its direction's stream,
    /// when the connection's stream start is known.
    pub fn stream_offset(&self, p: &Pkt) -> Option<u64> {
        let conn = self.conns.get(p.conn as usize)?;
        let base = conn.stream_base[p.dir.index()]?;
        let mut seq = p.seq;
        if p.flags.syn {
            seq = seq.wrapping_add(1);
        }
        Some(seq.wrapping_sub(base) as u64)
    }
}

/// Message bytes kept for the inspector while a capture is read, within
/// [`RAW_BUDGET`]: the dialogue's message hook adds each message as it
/// ends (a flow's messages come in order, so counting gives their index).
#[derive(Default)]
pub struct MessageBytes {
    counts: HashMap<u64, usize>,
    kept: HashMap<(u64, usize), Arc<[u8]>>,
    total: usize,
}

impl MessageBytes {
    /// The next message of `flow`; copied only when it fits the budget.
    pub fn add(&mut self, flow: u64, bytes: &[u8]) {
        let count = self.counts.entry(flow).or_default();
        let nth = *count;
        *count += 1;
        if self.total + bytes.len() <= RAW_BUDGET {
            self.total += bytes.len();
            self.kept.insert((flow, nth), Arc::from(bytes));
        }
    }
}

/// Gathers the analysis of one capture into a [`Scene`].
#[derive(Default)]
pub struct SceneBuilder {
    flows: Vec<FlowAnalysis>,
    packets: Vec<PacketSeen>,
    packets_dropped: u64,
    /// (index, time, source, destination, text, frame and payload lengths).
    udp: Vec<(u64, Timestamp, SocketAddr, SocketAddr, String, [u32; 2])>,
    /// Findings only several flows (and the DNS answers) show.
    cross_flow: CrossFlowWatch,
    /// Message bytes per (flow, message number in the flow).
    raw: MessageBytes,
    names: Vec<(IpAddr, String)>,
    /// The path a demo still running will take ([`SceneBuilder::expect`]).
    stage: Option<Stage>,
    warnings: Vec<String>,
    first_ts: Option<Timestamp>,
}

impl SceneBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A TCP packet as the pipeline read it.
    pub fn packet(&mut self, p: &PacketSeen) {
        self.first_ts = Some(self.first_ts.map_or(p.ts, |t| t.min(p.ts)));
        if self.packets.len() < MAX_PACKETS {
            self.packets.push(*p);
        } else {
            self.packets_dropped += 1;
        }
    }

    /// A UDP datagram: kept when it is DNS (port 53).
    pub fn datagram(
        &mut self,
        index: u64,
        ts: Timestamp,
        (src, dst): (SocketAddr, SocketAddr),
        payload: &[u8],
        frame_len: u32,
    ) {
        self.first_ts = Some(self.first_ts.map_or(ts, |t| t.min(ts)));
        self.cross_flow.datagram(payload);
        if (src.port() != 53 && dst.port() != 53) || self.udp.len() >= 100_000 {
            return;
        }
        if let Some(text) = describe_dns(payload, dst.port() == 53) {
            let lens = [frame_len, payload.len() as u32];
            self.udp.push((index, ts, src, dst, text, lens));
        }
    }

    /// The message bytes kept while the capture was read.
    pub fn message_bytes(&mut self, raw: MessageBytes) {
        self.raw = raw;
    }

    pub fn flow(&mut self, a: FlowAnalysis) {
        self.flows.push(a);
    }

    pub fn host_names(&mut self, names: &[(IpAddr, String)]) {
        self.names = names.to_vec();
    }

    /// The hops a demo still running will make: their hosts take the roles
    /// and columns of the whole path from the first snapshot, before their
    /// connections are in the capture (the live view, [`super::live`]).
    pub fn expect(&mut self, stage: &Stage) {
        self.stage = Some(stage.clone());
    }

    pub fn warning(&mut self, w: String) {
        self.warnings.push(w);
    }

    /// Orders, names and places everything.
    pub fn finish(mut self, source: impl Into<String>) -> Scene {
        self.flows.sort_by_key(|f| f.summary.id);
        // Findings only several flows show (`open-relay`, `auth-guessing`,
        // `mta-sts-violation`): `analyze`'s rules
        // on the same flows, each given to the flow it names.
        let mut cross_flow = std::mem::take(&mut self.cross_flow);
        self.flows.iter().for_each(|a| cross_flow.add(a));
        for f in cross_flow.findings() {
            if let Some(a) = self.flows.iter_mut().find(|a| f.flow == Some(a.summary.id)) {
                a.dialogue.findings.push(f);
            }
        }
        let origin = self
            .flows
            .iter()
            .map(|f| f.summary.start)
            .chain(self.first_ts)
            .min()
            .unwrap_or_default();
        let rel = |ts: Timestamp| (ts.as_nanos() - origin.as_nanos()) as f64 / 1e9;
        let mut scene = Scene {
            source: source.into(),
            origin,
            packets_dropped: self.packets_dropped,
            warnings: std::mem::take(&mut self.warnings),
            ..Scene::default()
        };

        let mut hosts = HostTable::default();
        for (addr, name) in &self.names {
            hosts.name(*addr, name.clone(), 3);
        }
        if let Some(stage) = self.stage.take() {
            for (client, server, protocol) in stage.hops {
                let (c, s) = (hosts.get(client), hosts.get(server.ip()));
                hosts.served(s, protocol, server.port());
                hosts.client_of(c, s, protocol, server.port());
            }
            if let Some(dns) = stage.dns {
                let h = hosts.get(dns);
                hosts.dns(h);
            }
        }

        for a in std::mem::take(&mut self.flows) {
            let s = &a.summary;
            let d = a.dialogue;
            let ci = scene.conns.len();
            let client_host = hosts.get(s.client.ip());
            let server_host = hosts.get(s.server.ip());
            let bytes = [s.streams[0].delivered, s.streams[1].delivered];
            hosts.add_bytes(client_host, bytes[0] + bytes[1]);
            hosts.add_bytes(server_host, bytes[0] + bytes[1]);
            let protocol = d.protocol;
            hosts.served(server_host, protocol, s.server.port());
            hosts.client_of(client_host, server_host, protocol, s.server.port());
            if d.has_finding(FindingCode::StarttlsStripped) {
                hosts.stripped_starttls(server_host);
            }
            if let Some(h) = &d.helo {
                hosts.name(s.client.ip(), visible(h).into_owned(), 1);
            }
            let mut conn = Conn {
                flow: s.id,
                client: s.client,
                server: s.server,
                client_host,
                server_host,
                protocol,
                tls: a.tls.clone().map(|summary| TlsView {
                    mode: if a.verdict.tls == TlsMode::None {
                        TlsMode::Starttls
                    } else {
                        a.verdict.tls
                    },
                    summary,
                }),
                start: rel(s.start),
                end: rel(s.end),
                packets: s.packets,
                bytes,
                stream_base: [None; 2],
                messages: Vec::new(),
                credentials: Vec::new(),
                findings: Vec::new(),
                lines: Vec::new(),
                helo: d.helo.clone(),
            };
            // The SMTP greeting names the server: `220 hamburger.edu ESMTP`
            // (RFC 5321 §4.2: the domain follows the code).
            if protocol == Protocol::Smtp
                && let Some(first) = d.transcript.iter().find(|l| l.kind == LineKind::Reply)
                && let Some(domain) = greeting_domain(&first.text)
            {
                hosts.name(s.server.ip(), domain, 2);
            }
            for l in d.transcript {
                if scene.lines.len() >= MAX_LINES {
                    break;
                }
                scene.lines.push(Line {
                    conn: ci,
                    t: rel(l.ts),
                    dir: l.dir,
                    kind: l.kind,
                    text: l.text,
                    packets: l.packets,
                    decrypted: l.tls.is_some(),
                    span: l.span,
                });
            }
            for (nth, mut m) in d.messages.into_iter().enumerate() {
                shown_safely(&mut m);
                conn.messages.push(scene.messages.len());
                scene.messages.push(Msg {
                    conn: ci,
                    t: rel(m.ts),
                    raw: self.raw.kept.remove(&(s.id, nth)),
                    record: m,
                });
            }
            for mut c in d.credentials {
                for t in [&mut c.username, &mut c.password, &mut c.authzid]
                    .into_iter()
                    .flatten()
                {
                    *t = visible(t).into_owned();
                }
                conn.credentials.push(scene.credentials.len());
                scene.credentials.push(Cred {
                    conn: ci,
                    t: rel(c.ts),
                    record: c,
                });
            }
            for mut f in d.findings {
                f.message = visible(&f.message).into_owned();
                conn.findings.push(scene.findings.len());
                scene.findings.push(FindingAt {
                    conn: Some(ci),
                    t: f.ts.map(rel).unwrap_or(conn.start),
                    record: f,
                });
            }
            scene.conns.push(conn);
        }

        // Packets: the pipeline numbers flows as it meets them, the same
        // ids the analysis has.
        let mut packets = std::mem::take(&mut self.packets);
        packets.sort_by_key(|p| (p.ts, p.index));
        let mut state: Vec<ConnPhase> = vec![ConnPhase::default(); scene.conns.len()];
        for p in &packets {
            let Some(ci) = scene.conn_of_flow(p.flow) else {
                continue;
            };
            let phase = state[ci].phase(p);
            let base = &mut scene.conns[ci].stream_base[p.dir.index()];
            if base.is_none() {
                if p.flags.syn {
                    *base = Some(p.seq.wrapping_add(1));
                } else if p.payload_len > 0 {
                    *base = Some(p.seq);
                }
            }
            scene.packets.push(Pkt {
                index: p.index,
                t: rel(p.ts),
                conn: ci as u32,
                dir: p.dir,
                phase,
                flags: p.flags,
                seq: p.seq,
                len: p.payload_len,
                frame_len: p.frame_len,
                line: None,
            });
        }

        for (index, ts, src, dst, text, [frame_len, payload_len]) in std::mem::take(&mut self.udp) {
            let from = hosts.get(src.ip());
            let to = hosts.get(dst.ip());
            let dns = if dst.port() == 53 { to } else { from };
            hosts.dns(dns);
            scene.dns.push(DnsEvent {
                index,
                t: rel(ts),
                from,
                to,
                src,
                dst,
                query: dst.port() == 53,
                frame_len,
                payload_len,
                text,
            });
        }
        scene.dns.sort_by(|a, b| a.t.total_cmp(&b.t));

        scene.lines.sort_by(|a, b| a.t.total_cmp(&b.t));
        for (i, l) in scene.lines.iter().enumerate() {
            scene.conns[l.conn].lines.push(i);
        }
        // Which line each packet carries (the first, when it carries
        // several): the packet list's Info and the step mode's highlight.
        let mut by_index: Vec<(u64, usize)> = scene
            .packets
            .iter()
            .enumerate()
            .map(|(i, p)| (p.index, i))
            .collect();
        by_index.sort_unstable();
        for (li, l) in scene.lines.iter().enumerate() {
            for idx in &l.packets {
                if let Ok(k) = by_index.binary_search_by_key(idx, |e| e.0) {
                    let p = &mut scene.packets[by_index[k].1];
                    if p.line.is_none() {
                        p.line = Some(li as u32);
                    }
                }
            }
        }
        scene.wire = (0..scene.packets.len())
            .map(|i| Wire::Tcp(i as u32))
            .chain((0..scene.dns.len()).map(|i| Wire::Dns(i as u32)))
            .collect();
        let key = |w: &Wire| match *w {
            Wire::Tcp(i) => scene.packets[i as usize].index,
            Wire::Dns(i) => scene.dns[i as usize].index,
        };
        let mut wire = std::mem::take(&mut scene.wire);
        wire.sort_by_key(key);
        scene.wire = wire;
        scene.feed = feed(&scene);
        scene.journeys = journeys(&scene);
        scene.markers = markers(&scene);
        scene.hosts = hosts.finish();
        scene.duration = scene
            .packets
            .last()
            .map(|p| p.t)
            .into_iter()
            .chain(scene.conns.iter().map(|c| c.end))
            .chain(scene.dns.last().map(|d| d.t))
            .fold(0.0, f64::max);
        scene
    }
}

/// The domain of an SMTP greeting (`220 hamburger.edu ESMTP …`), when the
/// word after the code looks like one.
fn greeting_domain(text: &str) -> Option<String> {
    let rest = text.get(4..)?;
    let word = rest.split_whitespace().next()?;
    let looks_like_domain = word.contains('.')
        && word.len() <= 253
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    looks_like_domain.then(|| word.trim_end_matches('.').to_string())
}

/// `MX hamburger.edu?` for a question, `MX hamburger.edu -> 10
/// hamburger.edu` for an answer.
fn describe_dns(payload: &[u8], is_query: bool) -> Option<String> {
    use crate::proto::dns::{Record, parse_question, parse_response, type_name};
    let (name, qtype) = parse_question(payload)?;
    let question = format!("{} {name}", type_name(qtype));
    if is_query {
        return Some(format!("{question}?"));
    }
    let (rcode, records) = parse_response(payload)?;
    if rcode != 0 {
        return Some(format!("{question} -> error {rcode}"));
    }
    let answers: Vec<String> = records.iter().map(Record::data_text).collect();
    Some(format!("{question} -> {}", answers.join(", ")))
}

/// Per-connection state while the packets' phases are decided.
#[derive(Clone, Default)]
struct ConnPhase {
    synack: bool,
    established: bool,
    fin: bool,
}

impl ConnPhase {
    fn phase(&mut self, p: &PacketSeen) -> Phase {
        let f = p.flags;
        if f.rst {
            return Phase::Reset;
        }
        if f.fin {
            self.fin = true;
            return Phase::Close;
        }
        if f.syn {
            if f.ack {
                self.synack = true;
            }
            return Phase::Handshake;
        }
        if p.payload_len > 0 {
            self.established = true;
            return Phase::Data;
        }
        if self.fin {
            return Phase::Close;
        }
        if self.synack && !self.established && p.dir == Direction::ClientToServer {
            // The client's ACK of the SYN-ACK ends the three-way handshake.
            self.established = true;
            return Phase::Handshake;
        }
        Phase::Ack
    }
}

/// What a message says about itself, with every character that would
/// change the layout written out (`trace::text::visible`): a projector
/// shows `\e[2J`, not a scrambled label.
fn shown_safely(m: &mut MessageRecord) {
    let fix = |t: &mut String| *t = visible(t).into_owned();
    [
        &mut m.subject,
        &mut m.from_name,
        &mut m.mail_from,
        &mut m.helo,
    ]
    .into_iter()
    .flatten()
    .for_each(fix);
    m.from
        .iter_mut()
        .chain(m.to.iter_mut())
        .chain(m.cc.iter_mut())
        .for_each(fix);
    if let Some(r) = &mut m.rcpt_to {
        r.iter_mut().for_each(fix);
    }
    for a in &mut m.attachments {
        if let Some(n) = &mut a.filename {
            fix(n);
        }
    }
}

/// Lines and DNS events merged in time order (both lists are sorted), a
/// note on MX after the first answer with one.
fn feed(scene: &Scene) -> Vec<Feed> {
    let mut out = Vec::with_capacity(scene.lines.len() + scene.dns.len() + 1);
    let (mut i, mut j) = (0, 0);
    let mut noted = false;
    while i < scene.lines.len() || j < scene.dns.len() {
        let dns_first =
            j < scene.dns.len() && (i >= scene.lines.len() || scene.dns[j].t() < scene.lines[i].t);
        if dns_first {
            out.push(Feed::Dns(j as u32));
            if !noted && scene.dns[j].has_mx() {
                noted = true;
                out.push(Feed::MxNote(j as u32));
            }
            j += 1;
        } else {
            out.push(Feed::Line(i as u32));
            i += 1;
        }
    }
    out
}

fn markers(scene: &Scene) -> Vec<Marker> {
    let mut out = Vec::new();
    for (i, l) in scene.lines.iter().enumerate() {
        if l.kind == LineKind::Command {
            out.push(Marker {
                t: l.t,
                kind: MarkerKind::Command,
                item: i,
            });
        }
    }
    for (i, m) in scene.messages.iter().enumerate() {
        out.push(Marker {
            t: m.t,
            kind: MarkerKind::Message,
            item: i,
        });
    }
    for (i, f) in scene.findings.iter().enumerate() {
        if f.record.severity >= Severity::Medium {
            out.push(Marker {
                t: f.t,
                kind: MarkerKind::Finding,
                item: i,
            });
        }
    }
    for (i, d) in scene.dns.iter().enumerate() {
        out.push(Marker {
            t: d.t,
            kind: MarkerKind::Dns,
            item: i,
        });
    }
    out.sort_by(|a, b| a.t.total_cmp(&b.t));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_domains() {
        assert_eq!(
            greeting_domain("220 hamburger.edu ESMTP mailscope").as_deref(),
            Some("hamburger.edu")
        );
        assert_eq!(greeting_domain("220 ready"), None);
        assert_eq!(greeting_domain("220"), None);
        assert_eq!(greeting_domain("220 <script>.x"), None);
    }

    #[test]
    fn transfer_commands() {
        for c in [
            "DATA",
            "BDAT 100 LAST",
            "RETR 1",
            "TOP 1 0",
            "a4 FETCH 1 (BODY[])",
            "a5 UID FETCH 7 BODY[]",
            "a6 APPEND INBOX {310}",
        ] {
            assert!(journeys::starts_transfer(c), "{c}");
        }
        for c in [
            ".",
            "QUIT",
            "MAIL FROM:<a@b>",
            "a1 LOGIN bob hungry",
            "a2 SELECT INBOX",
        ] {
            assert!(!journeys::starts_transfer(c), "{c}");
        }
    }
}
