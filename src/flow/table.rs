//! The flow table: groups TCP segments into connections, tracks their state
//! and hands each connection on as soon as it is over.
//!
//! A connection ("flow") is identified by its two endpoints. Its id is the
//! order of its first packet in the capture, which is also how Wireshark
//! numbers `tcp.stream`, so `--flow 3` here and `tcp.stream eq 3` there name
//! the same connection.
//!
//! Memory stays bounded on endless captures: a flow is handed to the caller
//! (and dropped from the table) a little after it closed, after a long idle
//! time, or when the table is over its size limit; each direction buffers at
//! most `ooo_limit` bytes of out-of-order data.

use std::collections::HashMap;
use std::net::SocketAddr;

use rustc_hash::FxBuildHasher;

use super::assembler::{Assembler, AssemblerStats, DEFAULT_OOO_LIMIT};
use super::{Direction, StreamEvent, StreamHandler};
use crate::capture::{TcpSegment, Timestamp};

/// Tunables of the flow table.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Out-of-order bytes buffered per direction before a gap is forced.
    pub ooo_limit: usize,
    /// A closed or reset flow stays this long (capture time) to collect the
    /// last ACKs and retransmitted FINs before it is handed on.
    pub linger_nanos: i64,
    /// A flow with no packet for this long is handed on as `open`.
    pub idle_timeout_nanos: i64,
    /// Above this many flows in the table, the idlest are handed on early.
    pub max_flows: usize,
    /// Ports servers listen on, for telling client from server when the
    /// handshake was not captured (the analysis gives the mail ports).
    pub server_ports: PortSet,
}

/// A set of TCP ports.
#[derive(Clone)]
pub struct PortSet(Box<[u64; 1024]>);

impl PortSet {
    pub fn new(ports: impl IntoIterator<Item = u16>) -> Self {
        let mut set = PortSet(Box::new([0; 1024]));
        for p in ports {
            set.0[p as usize / 64] |= 1 << (p % 64);
        }
        set
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0[port as usize / 64] & (1 << (port % 64)) != 0
    }
}

impl Default for PortSet {
    fn default() -> Self {
        PortSet::new([])
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ports: Vec<u16> = (0..=u16::MAX).filter(|&p| self.contains(p)).collect();
        f.debug_tuple("PortSet").field(&ports).finish()
    }
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            ooo_limit: DEFAULT_OOO_LIMIT,
            linger_nanos: 5_000_000_000,
            idle_timeout_nanos: 600_000_000_000,
            max_flows: 200_000,
            server_ports: PortSet::default(),
        }
    }
}

/// How a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowState {
    /// Both sides sent FIN.
    Closed,
    /// A RST ended it.
    Reset,
    /// Still open when the capture (or our patience) ended.
    Open,
}

impl FlowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::Closed => "closed",
            FlowState::Reset => "reset",
            FlowState::Open => "open",
        }
    }
}

/// How we know which side is the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientEvidence {
    /// The handshake was captured: the SYN's sender is the client.
    Syn,
    /// No handshake: the side on a well-known or lower port is the server.
    Port,
    /// No better clue: the sender of the first packet.
    FirstPacket,
}

impl ClientEvidence {
    /// The JSON's (and the Parquet column's) name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientEvidence::Syn => "syn",
            ClientEvidence::Port => "port",
            ClientEvidence::FirstPacket => "first-packet",
        }
    }
}

/// Everything the table knows about a flow, without its handler.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FlowSummary {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub client_evidence: ClientEvidence,
    pub start: Timestamp,
    pub end: Timestamp,
    pub packets: u64,
    /// Capture indices of the flow's first and last packets.
    pub first_packet: u64,
    pub last_packet: u64,
    /// Per direction, indexed by [`Direction::index`].
    pub streams: [AssemblerStats; 2],
    pub syn: bool,
    pub fin: [bool; 2],
    pub rst: bool,
    pub state: FlowState,
}

/// A flow handed on by the table: its summary and the handler that received
/// its streams.
pub struct FinishedFlow<H> {
    pub summary: FlowSummary,
    pub handler: H,
}

struct Flow<H> {
    summary: FlowSummary,
    asm: [Assembler; 2],
    client_isn: Option<u32>,
    closed_at: Option<Timestamp>,
    handler: H,
}

impl<H: StreamHandler> Flow<H> {
    fn finish(mut self) -> FinishedFlow<H> {
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            let handler = &mut self.handler;
            self.asm[dir.index()].flush(&mut |d| handler.on_event(dir, d));
        }
        let s = &mut self.summary;
        s.streams = [self.asm[0].stats().clone(), self.asm[1].stats().clone()];
        s.state = if s.rst {
            FlowState::Reset
        } else if s.fin[0] && s.fin[1] {
            FlowState::Closed
        } else {
            FlowState::Open
        };
        FinishedFlow {
            summary: self.summary,
            handler: self.handler,
        }
    }
}

/// The two endpoints in a fixed order, so both directions find the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FlowKey(SocketAddr, SocketAddr);

impl FlowKey {
    fn of(a: SocketAddr, b: SocketAddr) -> FlowKey {
        if a <= b { FlowKey(a, b) } else { FlowKey(b, a) }
    }
}

/// Groups segments into flows. `new_handler` makes the handler of each new
/// flow (it may look at the endpoints to decide what to do with it).
pub struct FlowTable<H, F> {
    /// Boxed: a flow is moved in and out of the table once each, and a
    /// pointer moves faster than the few hundred bytes of its state.
    flows: HashMap<FlowKey, Box<Flow<H>>, FxBuildHasher>,
    new_handler: F,
    config: FlowConfig,
    next_id: u64,
    packets_since_sweep: u32,
    last_sweep: Timestamp,
    /// Flows handed on before their time because the table was full.
    pub evicted_early: u64,
}

/// How often (in packets) the table looks for flows to hand on.
const SWEEP_EVERY: u32 = 4096;
/// … and at most once per this much capture time (one second).
const SWEEP_INTERVAL_NANOS: i64 = 1_000_000_000;

impl<H, F> FlowTable<H, F>
where
    H: StreamHandler,
    F: FnMut(u64, SocketAddr, SocketAddr) -> H,
{
    pub fn new(config: FlowConfig, new_handler: F) -> Self {
        FlowTable {
            flows: HashMap::with_hasher(FxBuildHasher),
            new_handler,
            config,
            next_id: 0,
            packets_since_sweep: 0,
            last_sweep: Timestamp::default(),
            evicted_early: 0,
        }
    }

    /// Number of flows currently in the table.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Number of flows created so far.
    pub fn flows_seen(&self) -> u64 {
        self.next_id
    }

    /// Feeds one TCP segment (capture packet `packet`, time `ts`); flows
    /// that are over are passed to `done`. Returns the id of the segment's
    /// flow and its direction.
    pub fn process(
        &mut self,
        packet: u64,
        ts: Timestamp,
        seg: &TcpSegment<'_>,
        done: &mut impl FnMut(FinishedFlow<H>),
    ) -> (u64, Direction) {
        let key = FlowKey::of(seg.src, seg.dst);
        let pure_syn = seg.flags.syn && !seg.flags.ack;
        if pure_syn && let Some(flow) = self.flows.get(&key) {
            // A new SYN on the same endpoints after the old connection ended
            // (or with another initial sequence number) is a new connection:
            // port reuse, common on busy clients.
            // The same SYN again (same initial sequence number) is a
            // retransmission, even after a RST refused the first try.
            let reused = match flow.client_isn {
                Some(isn) => isn != seg.seq,
                None => flow.closed_at.is_some() || !flow.summary.syn,
            };
            if reused && let Some(old) = self.flows.remove(&key) {
                done((*old).finish());
            }
        }
        let flow = match self.flows.get_mut(&key) {
            Some(flow) => flow,
            None => {
                let flow = self.new_flow(packet, ts, seg);
                self.flows.entry(key).or_insert(flow)
            }
        };
        Self::update(flow, packet, ts, seg);
        let seen = (
            flow.summary.id,
            if seg.src == flow.summary.client {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            },
        );

        // A sweep looks at every flow, so it runs only now and then: after
        // some packets *and* some capture time (or when the table is full).
        self.packets_since_sweep += 1;
        if self.packets_since_sweep >= SWEEP_EVERY
            && (ts.as_nanos() - self.last_sweep.as_nanos() >= SWEEP_INTERVAL_NANOS
                || self.flows.len() > self.config.max_flows)
        {
            self.packets_since_sweep = 0;
            self.last_sweep = ts;
            self.sweep(ts, done);
        }
        seen
    }

    fn new_flow(&mut self, packet: u64, ts: Timestamp, seg: &TcpSegment<'_>) -> Box<Flow<H>> {
        let (client, server, evidence) = orient(seg, &self.config.server_ports);
        let id = self.next_id;
        self.next_id += 1;
        let handler = (self.new_handler)(id, client, server);
        Box::new(Flow {
            summary: FlowSummary {
                id,
                client,
                server,
                client_evidence: evidence,
                start: ts,
                end: ts,
                packets: 0,
                first_packet: packet,
                last_packet: packet,
                streams: Default::default(),
                syn: false,
                fin: [false; 2],
                rst: false,
                state: FlowState::Open,
            },
            asm: [
                Assembler::new(self.config.ooo_limit),
                Assembler::new(self.config.ooo_limit),
            ],
            client_isn: None,
            closed_at: None,
            handler,
        })
    }

    fn update(flow: &mut Flow<H>, packet: u64, ts: Timestamp, seg: &TcpSegment<'_>) {
        let dir = if seg.src == flow.summary.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let s = &mut flow.summary;
        s.packets += 1;
        s.last_packet = packet;
        s.end = s.end.max(ts);
        let d = dir.index();

        let mut seq = seg.seq;
        if seg.flags.syn {
            s.syn = true;
            if dir == Direction::ClientToServer && !seg.flags.ack {
                flow.client_isn.get_or_insert(seg.seq);
            }
            flow.asm[d].syn(seg.seq);
            // Data on a SYN (TCP Fast Open) starts after the SYN's number.
            seq = seq.wrapping_add(1);
        }
        if seg.flags.rst {
            s.rst = true;
        }
        if seg.flags.fin {
            s.fin[d] = true;
        }
        if seg.wire_len > 0 || seg.flags.fin {
            flow.asm[d].segment(
                seq,
                seg.payload,
                seg.wire_len,
                seg.flags.fin,
                packet,
                ts,
                &mut |ev| handler_event(&mut flow.handler, dir, ev),
            );
        }
        if seg.flags.ack && !seg.flags.rst {
            flow.asm[1 - d].ack(seg.ack, &mut |ev| {
                handler_event(&mut flow.handler, dir.reverse(), ev)
            });
        }
        let both_done = flow.asm[0].is_finished() && flow.asm[1].is_finished();
        if flow.closed_at.is_none() && (flow.summary.rst || both_done) {
            flow.closed_at = Some(ts);
        }
    }

    /// Hands on flows that closed a while ago or went idle, and the idlest
    /// ones when the table is over its limit.
    fn sweep(&mut self, now: Timestamp, done: &mut impl FnMut(FinishedFlow<H>)) {
        let cfg = &self.config;
        let now = now.as_nanos();
        let over = self.flows.len().saturating_sub(cfg.max_flows);
        // When over the limit, also hand on flows idle for a tenth of the
        // idle timeout; repeat with shorter waits until under the limit.
        let mut idle_limit = cfg.idle_timeout_nanos;
        let mut expired: Vec<FlowKey> = Vec::new();
        loop {
            expired.clear();
            for (key, flow) in &self.flows {
                let idle = now - flow.summary.end.as_nanos();
                let lingered = flow
                    .closed_at
                    .is_some_and(|c| now - c.as_nanos() > cfg.linger_nanos);
                if lingered || idle > idle_limit {
                    expired.push(*key);
                }
            }
            if over == 0 || expired.len() >= over || idle_limit == 0 {
                break;
            }
            idle_limit /= 10;
        }
        if over > 0 {
            self.evicted_early += expired.len() as u64;
        }
        // Hand on in id order, so output stays deterministic.
        let mut finished: Vec<Box<Flow<H>>> = expired
            .iter()
            .filter_map(|k| self.flows.remove(k))
            .collect();
        finished.sort_by_key(|f| f.summary.id);
        for flow in finished {
            done((*flow).finish());
        }
    }

    /// End of the capture: hands on every remaining flow, in id order.
    pub fn finish_all(&mut self, done: &mut impl FnMut(FinishedFlow<H>)) {
        let mut rest: Vec<Box<Flow<H>>> = self.flows.drain().map(|(_, f)| f).collect();
        rest.sort_by_key(|f| f.summary.id);
        for flow in rest {
            done((*flow).finish());
        }
    }
}

fn handler_event<H: StreamHandler>(h: &mut H, dir: Direction, d: StreamEvent<'_>) {
    h.on_event(dir, d);
}

/// Decides who is the client of a new flow from its first segment.
fn orient(
    seg: &TcpSegment<'_>,
    server_ports: &PortSet,
) -> (SocketAddr, SocketAddr, ClientEvidence) {
    let (src, dst) = (seg.src, seg.dst);
    if seg.flags.syn {
        // SYN comes from the client, SYN+ACK from the server (RFC 9293 §3.5).
        return if seg.flags.ack {
            (dst, src, ClientEvidence::Syn)
        } else {
            (src, dst, ClientEvidence::Syn)
        };
    }
    let (sp, dp) = (src.port(), dst.port());
    let server_is_dst = match (server_ports.contains(dp), server_ports.contains(sp)) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ if dp < 1024 && sp >= 1024 => Some(true),
        _ if sp < 1024 && dp >= 1024 => Some(false),
        _ => None,
    };
    match server_is_dst {
        Some(true) => (src, dst, ClientEvidence::Port),
        Some(false) => (dst, src, ClientEvidence::Port),
        None => (src, dst, ClientEvidence::FirstPacket),
    }
}
