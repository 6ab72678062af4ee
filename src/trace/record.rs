//! Every record of the JSON output, as one tagged enum: the `type` of each
//! line comes from here and nowhere else (`docs/output-schema.md`).

use serde::Serialize;

use super::finding::Finding;
use super::flow_record::{AnalyzedFlowRecord, CaptureRecord, FlowRecord};
use super::paths::MessagePathRecord;
use super::records::{Credential, MessageRecord, Transaction};

/// One record of `flows --json`, `analyze --json`, `creds --json` and
/// `extract`'s `index.json`.
// A record lives on the stack only while it is written: boxing the large
// flow variant would cost an allocation per flow for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record<'a> {
    Capture(&'a CaptureRecord),
    /// The `flow` record of `flows`.
    Flow(&'a FlowRecord),
    /// The `flow` record of `analyze` (the same keys and what the dialogue
    /// found).
    #[serde(rename = "flow")]
    AnalyzedFlow(AnalyzedFlowRecord<'a>),
    Message(&'a MessageRecord),
    /// Its `message` index is that of the whole output.
    Transaction(&'a Transaction),
    Credential(&'a Credential),
    Finding(&'a Finding),
    MessagePath(MessagePathRecord<'a>),
}
