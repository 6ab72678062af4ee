//! The shared model of an analysed flow: what the protocol parsers find and
//! what the reports (text, JSON, extract, Parquet) and the window show.
//!
//! * [`protocol`]: a flow's `protocol` and `tls`.
//! * [`flow_record`]: the `capture` and `flow` records, and a flow's TLS
//!   facts.
//! * [`records`]: transcript lines, messages, credentials, SMTP
//!   transactions — serde-serialisable, in the shape of the output contract
//!   (`docs/output-schema.md` in the shared docs).
//! * [`finding`]: findings and their closed list of codes.
//! * [`record`]: the one tagged enum every JSON record is written through.
//! * [`paths`]: the path of one message across flows (submission, relay,
//!   retrieval), defined once for `analyze` and the window.
//! * [`text`]: text from the wire made safe to show (terminals, the
//!   window).
//! * [`dialogue`]: the plain sink a protocol parser writes into while it
//!   reads a flow.
//!
//! This module imports nothing above it (no parser, no report): the parsers
//! write into it and the reports read from it.

pub(crate) mod dialogue;
pub(crate) mod finding;
pub(crate) mod flow_record;
pub(crate) mod paths;
pub(crate) mod protocol;
pub(crate) mod record;
pub(crate) mod records;
pub mod text;

pub use dialogue::{Dialogue, DialogueOptions, Layer, MessageCompleter, MessageHook};
mod flow_uid;
pub use finding::{Finding, FindingCode, Severity};
pub use flow_record::{AnalyzedFlowRecord, CaptureRecord, FlowRecord, TlsSummary};
pub use flow_uid::FlowUid;
pub use paths::{MessagePath, MessagePaths, PathKey};
pub use protocol::{Protocol, TlsMode, Tunnel, TunnelKind, Verdict};
pub use record::Record;
pub use records::{
    Credential, DECRYPTED, LineKind, MAX_MESSAGE_BYTES, MessageRecord, Part, RawMessage, Recipient,
    Transaction, TranscriptLine, TxStatus, Via,
};
