//! The records that describe a capture and its flows: the `capture`
//! record, the `flow` record of `flows` and its larger form in `analyze`,
//! and the TLS facts (`tls_info`) of a flow that used TLS.

use std::net::SocketAddr;

use serde::Serialize;

use super::FlowUid;
use super::protocol::{Protocol, TlsMode, Verdict};
use crate::capture::decode::DecodeStats;
use crate::capture::{CaptureWarning, InputSummary, MergedReader, Timestamp};
use crate::flow::{FlowState, FlowSummary, table::ClientEvidence};

/// The leading `capture` record.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureRecord {
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
    /// With several inputs: each file's own counts, in the order named
    /// (absent with one input).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<InputSummary>,
    /// The damage the reader met, each a capture `finding` record
    /// ([`Finding::of_capture`](super::Finding::of_capture)).
    #[serde(skip)]
    pub damage: Vec<CaptureWarning>,
}

impl CaptureRecord {
    pub fn new<R>(reader: &MergedReader<R>, decode: &DecodeStats, tcp_flows: u64) -> Self {
        let s = reader.stats();
        let damage = reader.warnings();
        CaptureRecord {
            // With several inputs, `file` lists them all.
            file: reader.names().join(" "),
            format: reader.format_name(),
            linktypes: s.linktypes,
            packets: s.packets,
            bytes: s.bytes,
            first_ts: s.first_ts,
            last_ts: s.last_ts,
            tcp_flows,
            truncated_packets: s.truncated_packets,
            decode: decode.clone(),
            warnings: damage.iter().map(CaptureWarning::to_string).collect(),
            files: reader.inputs(),
            damage,
        }
    }
}

/// One `flow` record.
#[derive(Clone, Debug, Serialize)]
pub struct FlowRecord {
    pub id: u64,
    /// The connection's name across captures and runs (`FlowUid`).
    pub flow_uid: FlowUid,
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
    /// The input file of the first packet, when several files were read
    /// as one capture (with one, the `capture` record names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The proxy tunnel the mail went through (HTTP CONNECT, SOCKS4/5):
    /// its kind and the target the client asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<super::Tunnel>,
}

/// `1.2.3.4:25` and `[2001:db8::1]:25`, as the contract asks — which is
/// exactly `SocketAddr`'s display form.
fn endpoint<S: serde::Serializer>(addr: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(addr)
}

impl FlowRecord {
    pub fn new(summary: &FlowSummary, verdict: &Verdict) -> Self {
        let [c2s, s2c] = &summary.streams;
        FlowRecord {
            id: summary.id,
            flow_uid: FlowUid::of(summary.client, summary.server, summary.start),
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
            file: None,
            tunnel: verdict.tunnel.clone(),
        }
    }
}

/// The `flow` record of `analyze`: the one of `flows`, plus what the
/// dialogue found.
#[derive(Debug, Serialize)]
pub struct AnalyzedFlowRecord<'a> {
    #[serde(flatten)]
    pub flow: FlowRecord,
    // Extra keys:
    pub messages: usize,
    pub credentials: usize,
    pub findings: usize,
    /// SMTP: the client's HELO/EHLO name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helo: Option<&'a str>,
    /// What the server said it can do (EHLO keywords, CAPA, CAPABILITY).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub capabilities: &'a [String],
    /// TLS records and handshake facts, when the flow used TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_info: Option<&'a TlsSummary>,
}

/// What the records and the hellos tell an eavesdropper.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TlsSummary {
    /// Record headers read per direction (every content type).
    pub records_c2s: u64,
    pub records_s2c: u64,
    /// Every byte fed, records or not.
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    /// Negotiated version, e.g. `TLS 1.3` (from the ServerHello's
    /// supported_versions extension, else its legacy version).
    pub version: Option<String>,
    /// Server name the client asked for (RFC 6066 §3).
    pub sni: Option<String>,
    /// Cipher suite the server chose, by its IANA name (`0xC0FF` when the
    /// table does not know it).
    pub cipher: Option<String>,
    /// ALPN protocols offered by the client (RFC 7301).
    pub alpn: Vec<String>,
    /// Versions the client offered (supported_versions, RFC 8446 §4.2.1;
    /// GREASE values left out). Empty when the extension was absent.
    pub client_versions: Vec<String>,
    /// The ClientHello's legacy_version field: the highest version a
    /// pre-TLS 1.3 client supports (TLS 1.3 clients put `TLS 1.2` here).
    pub client_legacy_version: Option<String>,
    /// The server answered with a HelloRetryRequest (RFC 8446 §4.1.4).
    pub hello_retry: bool,
    /// Plaintext alert records (either direction).
    pub alerts: u64,
    /// The description of the first plaintext alert, e.g.
    /// `handshake_failure` (RFC 8446 §6).
    pub first_alert: Option<String>,
    /// Holes in the TLS bytes reported by the reassembly.
    pub gaps: u64,
    /// Records opened with a key log, per direction (absent without keys).
    #[serde(skip_serializing_if = "is_zero")]
    pub decrypted_records_c2s: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub decrypted_records_s2c: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
