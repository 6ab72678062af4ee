//! The shared model of an analysed flow: what the protocol parsers find and
//! what the reports (text, JSON, extract) and later the GUI show.
//!
//! * [`records`]: transcript lines, messages, credentials, findings, SMTP
//!   transactions — serde-serialisable, in the shape of the output contract
//!   (`docs/output-schema.md` in the shared docs).
//! * [`dialogue`]: the sink a protocol parser writes into while it reads a
//!   flow.

mod decrypted;
pub mod dialogue;
pub mod records;

pub use dialogue::{Dialogue, DialogueOptions, MessageHook};
pub use records::{
    Credential, DECRYPTED, Finding, LineKind, MAX_MESSAGE_BYTES, MessageRecord, RawMessage,
    Severity, Transaction, TranscriptLine, TxStatus, Via,
};
