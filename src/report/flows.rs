//! The `capture` and `flow` records of `mailscope flows` (see
//! `docs/output-schema.md` in the shared docs): as JSON Lines and as a table.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;

use serde::Serialize;

use crate::capture::{CaptureReader, CaptureWarning, Timestamp};
use crate::flow::{FinishedFlow, FlowState, table::ClientEvidence};
use crate::pipeline::DecodeStats;
use crate::proto::detect::{ProtocolSniffer, Verdict};
use crate::proto::{Protocol, TlsMode};

/// The leading `capture` record.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureRecord {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub file: String,
    pub format: &'static str,
    pub linktypes: Vec<u16>,
    pub packets: u64,
    pub bytes: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    // Extra keys (allowed by the contract):
    pub tcp_flows: u64,
    pub truncated_packets: u64,
    pub decode: DecodeStats,
    pub warnings: Vec<String>,
}

impl CaptureRecord {
    pub fn new<R>(
        file: &Path,
        reader: &CaptureReader<R>,
        decode: &DecodeStats,
        tcp_flows: u64,
    ) -> Self {
        let s = reader.stats();
        CaptureRecord {
            kind: "capture",
            file: file.display().to_string(),
            format: reader.format().as_str(),
            linktypes: s.linktypes.clone(),
            packets: s.packets,
            bytes: s.bytes,
            first_ts: s.first_ts,
            last_ts: s.last_ts,
            tcp_flows,
            truncated_packets: s.truncated_packets,
            decode: decode.clone(),
            warnings: reader
                .warnings()
                .iter()
                .map(CaptureWarning::to_string)
                .collect(),
        }
    }
}

/// A `finding` record about the capture itself (not about one flow):
/// damage that was read past or stopped at.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureFinding {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub flow: Option<u64>,
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    pub offset: u64,
}

impl CaptureFinding {
    pub fn from_warning(w: &CaptureWarning) -> Self {
        use crate::capture::reader::WarningKind;
        let (severity, code) = match w.kind {
            WarningKind::TruncatedRecord { .. } => ("medium", "capture-truncated"),
            WarningKind::CorruptRecord { .. } => ("medium", "capture-corrupt"),
            WarningKind::UnknownBlock { .. } => ("info", "capture-unknown-block"),
            WarningKind::UnknownInterface { .. } => ("medium", "capture-unknown-interface"),
        };
        CaptureFinding {
            kind: "finding",
            flow: None,
            severity,
            code,
            message: w.to_string(),
            offset: w.offset,
        }
    }
}

/// One `flow` record.
#[derive(Clone, Debug, Serialize)]
pub struct FlowRecord {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: u64,
    #[serde(serialize_with = "endpoint")]
    pub client: SocketAddr,
    #[serde(serialize_with = "endpoint")]
    pub server: SocketAddr,
    pub protocol: Protocol,
    pub tls: TlsMode,
    pub start: Timestamp,
    pub end: Timestamp,
    pub packets: u64,
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    pub gaps: u64,
    pub state: FlowState,
    // Extra keys:
    pub duration: f64,
    pub gap_bytes: u64,
    pub retransmitted_bytes: u64,
    pub client_evidence: ClientEvidence,
    pub protocol_reason: &'static str,
    pub first_packet: u64,
}

/// `1.2.3.4:25` and `[2001:db8::1]:25`, as the contract asks — which is
/// exactly `SocketAddr`'s display form.
fn endpoint<S: serde::Serializer>(addr: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(addr)
}

impl FlowRecord {
    pub fn new(summary: &crate::flow::FlowSummary, verdict: &Verdict) -> Self {
        let [c2s, s2c] = &summary.streams;
        FlowRecord {
            kind: "flow",
            id: summary.id,
            client: summary.client,
            server: summary.server,
            protocol: verdict.protocol,
            tls: verdict.tls,
            start: summary.start,
            end: summary.end,
            packets: summary.packets,
            bytes_c2s: c2s.delivered,
            bytes_s2c: s2c.delivered,
            gaps: c2s.gaps + s2c.gaps,
            state: summary.state,
            duration: (summary.end.as_nanos() - summary.start.as_nanos()) as f64 / 1e9,
            gap_bytes: c2s.gap_bytes + s2c.gap_bytes,
            retransmitted_bytes: c2s.retransmitted + s2c.retransmitted,
            client_evidence: summary.client_evidence,
            protocol_reason: verdict.reason,
            first_packet: summary.first_packet,
        }
    }

    pub fn from_finished(flow: &FinishedFlow<ProtocolSniffer>) -> Self {
        FlowRecord::new(&flow.summary, &flow.handler.verdict())
    }
}

/// The head of a JSON Lines report: the `capture` record, then a `finding`
/// for each piece of damage the reader met.
pub fn write_capture_json<R>(
    out: &mut impl Write,
    capture: &CaptureRecord,
    reader: &CaptureReader<R>,
) -> io::Result<()> {
    write_json_line(out, capture)?;
    for w in reader.warnings() {
        write_json_line(out, &CaptureFinding::from_warning(w))?;
    }
    Ok(())
}

/// Writes one record as a JSON line.
pub fn write_json_line(out: &mut impl Write, record: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, record).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// The human table of `mailscope flows`.
pub fn write_table(
    out: &mut impl Write,
    capture: &CaptureRecord,
    flows: &[FlowRecord],
) -> io::Result<()> {
    writeln!(
        out,
        "{} ({}, {} packets, {} bytes, {} TCP flows)",
        capture.file, capture.format, capture.packets, capture.bytes, capture.tcp_flows
    )?;
    let w_client = flows
        .iter()
        .map(|f| f.client.to_string().len())
        .max()
        .unwrap_or(6)
        .max(6);
    let w_server = flows
        .iter()
        .map(|f| f.server.to_string().len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "{:>4}  {:<w_client$}  {:<w_server$}  {:<7}  {:<8}  {:>7}  {:>10}  {:>10}  {:>4}  {:<6}  {:>9}",
        "id",
        "client",
        "server",
        "proto",
        "tls",
        "packets",
        "bytes c→s",
        "bytes s→c",
        "gaps",
        "state",
        "duration"
    )?;
    for f in flows {
        writeln!(
            out,
            "{:>4}  {:<w_client$}  {:<w_server$}  {:<7}  {:<8}  {:>7}  {:>10}  {:>10}  {:>4}  {:<6}  {:>8.3}s",
            f.id,
            f.client.to_string(),
            f.server.to_string(),
            f.protocol.as_str(),
            f.tls.as_str(),
            f.packets,
            f.bytes_c2s,
            f.bytes_s2c,
            f.gaps,
            f.state.as_str(),
            f.duration
        )?;
    }
    Ok(())
}
