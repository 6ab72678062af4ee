//! The records of `mailscope analyze --json` (contract:
//! `docs/output-schema.md` in the shared docs).
//!
//! Per flow, in this order: its `flow` record, then its `message`,
//! `transaction`, `credential` and `finding` records. After the last flow,
//! one `message_path` record (an extra record type) for every message seen
//! on more than one flow: its path through submission, relay and retrieval
//! (`trace::paths`).

use std::borrow::Cow;
use std::io::{self, Write};

use super::flows::write_json_line;
use crate::analysis::FlowAnalysis;
use crate::trace::{MessagePaths, Record};

/// Writes one flow's records as JSON lines. `messages_before` is the number
/// of `message` records already written (transactions refer to messages by
/// their index in the whole output).
pub fn write_flow_json(
    out: &mut impl Write,
    a: &FlowAnalysis,
    messages_before: usize,
) -> io::Result<()> {
    let d = &a.dialogue;
    write_json_line(out, &Record::AnalyzedFlow(a.flow_record()))?;
    for m in &d.messages {
        write_json_line(out, &Record::Message(m))?;
    }
    for t in &d.transactions {
        let mut t = t.clone();
        t.message = t.message.map(|i| i + messages_before);
        write_json_line(out, &Record::Transaction(Cow::Owned(t)))?;
    }
    for c in &d.credentials {
        write_json_line(out, &Record::Credential(c))?;
    }
    for f in &d.findings {
        write_json_line(out, &Record::Finding(f))?;
    }
    Ok(())
}

/// The `message_path` records, after the last flow.
pub fn write_paths_json(out: &mut impl Write, paths: MessagePaths) -> io::Result<()> {
    for path in paths.multi_flow() {
        write_json_line(out, &Record::MessagePath(path.record()))?;
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
