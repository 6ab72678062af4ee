//! The records of `mailscope analyze --json` (contract:
//! `docs/output-schema.md` in the shared docs) and the human summary.
//!
//! Per flow, in this order: its `flow` record, then its `message`,
//! `transaction`, `credential` and `finding` records. After the last flow,
//! one `message_path` record (an extra record type) for every Message-ID
//! seen on more than one flow: the path of one message through submission,
//! relay and retrieval.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;

use super::flows::{FlowRecord, write_json_line};
use crate::analysis::FlowAnalysis;
use crate::capture::Timestamp;
use crate::proto::tls::TlsSummary;
use crate::trace::{MessageRecord, Via};

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

impl<'a> AnalyzedFlowRecord<'a> {
    pub fn new(a: &'a FlowAnalysis) -> Self {
        let d = &a.dialogue;
        AnalyzedFlowRecord {
            flow: FlowRecord::new(&a.summary, &a.verdict),
            messages: d.messages.len(),
            credentials: d.credentials.len(),
            findings: d.findings.len(),
            helo: d.helo.as_deref(),
            capabilities: &d.capabilities,
            tls_info: d.tls.active().then(|| d.tls.summary()),
        }
    }
}

/// One hop of a message's path.
#[derive(Clone, Debug, Serialize)]
pub struct Hop {
    pub flow: u64,
    pub via: Via,
    /// Index of the `message` record in the output.
    pub message: usize,
    pub ts: Timestamp,
    pub client: String,
    pub server: String,
}

/// The `message_path` record.
#[derive(Debug, Serialize)]
pub struct MessagePath<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message_id: &'a str,
    pub subject: Option<&'a str>,
    /// In capture time order.
    pub hops: &'a [Hop],
    /// Hops seen in all (only the first [`MAX_HOPS`] are listed).
    pub hops_total: u64,
}

/// Hops listed per Message-ID.
pub const MAX_HOPS: usize = 64;
/// Message-IDs followed; beyond this new ones are not (memory stays bounded
/// on captures with millions of messages).
pub const MAX_PATHS: usize = 200_000;

/// Collects where each Message-ID was seen.
#[derive(Default)]
pub struct MessagePaths {
    paths: HashMap<String, (Option<String>, Vec<Hop>, u64)>,
}

impl MessagePaths {
    pub fn add(&mut self, record: &MessageRecord, index: usize, a: &FlowAnalysis) {
        let Some(id) = record.message_id.as_deref() else {
            return;
        };
        if !self.paths.contains_key(id) && self.paths.len() >= MAX_PATHS {
            return;
        }
        let entry = self
            .paths
            .entry(id.to_string())
            .or_insert_with(|| (record.subject.clone(), Vec::new(), 0));
        entry.2 += 1;
        if entry.1.len() < MAX_HOPS {
            entry.1.push(Hop {
                flow: record.flow,
                via: record.via,
                message: index,
                ts: record.ts,
                client: a.summary.client.to_string(),
                server: a.summary.server.to_string(),
            });
        }
    }

    /// Message-IDs seen on more than one flow, with their hops in time
    /// order, sorted by the time of their first hop.
    pub fn multi_flow(&mut self) -> Vec<(&str, Option<&str>, &[Hop], u64)> {
        let mut out: Vec<_> = self
            .paths
            .iter_mut()
            .filter(|(_, (_, hops, _))| {
                hops.first()
                    .is_some_and(|f| hops.iter().any(|h| h.flow != f.flow))
            })
            .map(|(id, (subject, hops, total))| {
                hops.sort_by_key(|h| (h.ts, h.flow));
                (id.as_str(), subject.as_deref(), hops.as_slice(), *total)
            })
            .collect();
        out.sort_by_key(|(id, _, hops, _)| (hops[0].ts, hops[0].flow, *id));
        out
    }

    pub fn write_json(&mut self, out: &mut impl Write) -> io::Result<()> {
        for (id, subject, hops, total) in self.multi_flow() {
            write_json_line(
                out,
                &MessagePath {
                    kind: "message_path",
                    message_id: id,
                    subject,
                    hops,
                    hops_total: total,
                },
            )?;
        }
        Ok(())
    }
}

/// Writes one flow's records as JSON lines. `messages_before` is the number
/// of `message` records already written (transactions refer to messages by
/// their index in the whole output).
pub fn write_flow_json(
    out: &mut impl Write,
    a: &FlowAnalysis,
    messages_before: usize,
) -> io::Result<()> {
    let d = &a.dialogue;
    write_json_line(out, &AnalyzedFlowRecord::new(a))?;
    for m in &d.messages {
        write_json_line(out, m)?;
    }
    for t in &d.transactions {
        let mut t = t.clone();
        t.message = t.message.map(|i| i + messages_before);
        write_json_line(out, &t)?;
    }
    for c in &d.credentials {
        write_json_line(out, c)?;
    }
    for f in &d.findings {
        write_json_line(out, f)?;
    }
    Ok(())
}

/// Shortens text for a table cell, on a character boundary.
pub fn cell(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}
