//! `analyze --format parquet -o DIR`: the records of `analyze --json` as
//! six Parquet tables, one row per record (attachments get a row each),
//! for DuckDB, pandas, Polars and Spark (`spark/mailscope_job.py`).
//!
//! Every row carries `flow_uid` (the same connection has the same uid in
//! every run, shard and piece) and `file` (the input it came from), so
//! the tables of many runs can be concatenated. Types are chosen for the
//! readers: timestamps are `TIMESTAMP(MICROS, UTC)` (Spark reads no
//! nanoseconds; the JSON's float seconds are no finer), addresses and
//! ports have their own columns, and integers are signed (Spark has no
//! unsigned types). The schema is written out in the README
//! ("Columnar output"); a column is only ever added, never renamed.

mod attachments;
mod columns;
mod credentials;
mod findings;
mod flows;
mod messages;
mod table;
mod transactions;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::trace::{CaptureRecord, Finding, Record};
use columns::FlowContext;
use table::TableFile;

/// The files `analyze --format parquet` writes, in this order.
pub const TABLES: [&str; 6] = [
    "flows",
    "messages",
    "attachments",
    "credentials",
    "findings",
    "transactions",
];

/// Why the tables could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ColumnarError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
}

/// The six tables being written. Records are handed over in the order
/// `analysis::analyze` gives them: a flow's record before its messages,
/// transactions, credentials and findings.
pub struct ParquetTables {
    flows: TableFile<flows::FlowRows>,
    messages: TableFile<messages::MessageRows>,
    attachments: TableFile<attachments::AttachmentRows>,
    credentials: TableFile<credentials::CredentialRows>,
    findings: TableFile<findings::FindingRows>,
    transactions: TableFile<transactions::TransactionRows>,
    /// The flow whose records are coming.
    flow: FlowContext,
    /// The file of each flow, when there are several inputs (the
    /// findings that come after the last flow name only the flow).
    file_of_flow: HashMap<u64, Arc<str>>,
    /// The file when there is one input (flow records then name none).
    only_file: Option<Arc<str>>,
    /// Index of the next `message` record in the whole output (the index
    /// a transaction's `message` refers to).
    next_message: i64,
    /// The first error; later records are skipped.
    error: Option<ColumnarError>,
}

impl ParquetTables {
    /// Creates `dir` (and its parents) and the six files in it.
    /// `only_file` names the input when there is exactly one.
    pub fn create(dir: &Path, only_file: Option<String>) -> Result<Self, ColumnarError> {
        std::fs::create_dir_all(dir).map_err(|source| ColumnarError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(ParquetTables {
            flows: TableFile::create(dir, "flows")?,
            messages: TableFile::create(dir, "messages")?,
            attachments: TableFile::create(dir, "attachments")?,
            credentials: TableFile::create(dir, "credentials")?,
            findings: TableFile::create(dir, "findings")?,
            transactions: TableFile::create(dir, "transactions")?,
            flow: FlowContext::default(),
            file_of_flow: HashMap::new(),
            only_file: only_file.map(Arc::from),
            next_message: 0,
            error: None,
        })
    }

    /// Adds one record's rows. `capture` and `message_path` records have
    /// no table (the Spark job computes message paths across shards).
    pub fn write(&mut self, record: &Record<'_>) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.add(record) {
            self.error = Some(e);
        }
    }

    fn add(&mut self, record: &Record<'_>) -> Result<(), ColumnarError> {
        match record {
            Record::AnalyzedFlow(f) => {
                let file = match &f.flow.file {
                    Some(name) => {
                        let name: Arc<str> = Arc::from(name.as_str());
                        self.file_of_flow.insert(f.flow.id, name.clone());
                        Some(name)
                    }
                    None => self.only_file.clone(),
                };
                self.flow = FlowContext::of(&f.flow, file);
                self.flows.rows.add(f, &self.flow);
                self.flows.flush_if_full()
            }
            Record::Message(m) => {
                let index = self.next_message;
                self.next_message += 1;
                let flow = self.context_of(m.flow);
                self.messages.rows.add(m, index, &flow);
                for (position, a) in m.attachments.iter().enumerate() {
                    self.attachments.rows.add(a, position, m, index, &flow);
                }
                self.messages.flush_if_full()?;
                self.attachments.flush_if_full()
            }
            Record::Transaction(t) => {
                let flow = self.context_of(t.flow);
                self.transactions.rows.add(t, &flow);
                self.transactions.flush_if_full()
            }
            Record::Credential(c) => {
                let flow = self.context_of(c.flow);
                self.credentials.rows.add(c, &flow);
                self.credentials.flush_if_full()
            }
            Record::Finding(f) => {
                let file = match f.flow {
                    Some(id) => self.file_of(id),
                    None => self.only_file.clone(),
                };
                self.findings.rows.add(f, file.as_deref());
                self.findings.flush_if_full()
            }
            Record::Capture(_) | Record::Flow(_) | Record::MessagePath(_) => Ok(()),
        }
    }

    /// The current flow's context: records of a flow follow its flow
    /// record. (A record of another flow, which `analyze` does not hand
    /// over, gets its file by lookup and no addresses.)
    fn context_of(&self, flow: u64) -> FlowContext {
        if self.flow.id == Some(flow) {
            self.flow.clone()
        } else {
            FlowContext {
                file: self.file_of(flow),
                ..FlowContext::default()
            }
        }
    }

    fn file_of(&self, flow: u64) -> Option<Arc<str>> {
        if self.flow.id == Some(flow) {
            return self.flow.file.clone();
        }
        self.file_of_flow
            .get(&flow)
            .cloned()
            .or_else(|| self.only_file.clone())
    }

    /// Adds the findings of the capture's damage (they come with the
    /// `capture` record, at the end), then closes every file. Returns the
    /// number of rows written per table, in [`TABLES`] order.
    pub fn finish(mut self, capture: &CaptureRecord) -> Result<[u64; 6], ColumnarError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        for w in &capture.damage {
            let file = w
                .file
                .as_deref()
                .map(Arc::from)
                .or_else(|| self.only_file.clone());
            self.findings
                .rows
                .add(&Finding::of_capture(w), file.as_deref());
        }
        Ok([
            self.flows.finish()?,
            self.messages.finish()?,
            self.attachments.finish()?,
            self.credentials.finish()?,
            self.findings.finish()?,
            self.transactions.finish()?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use crate::flow::table::ClientEvidence;
    use crate::trace::{TunnelKind, TxStatus};

    /// The names written in the columns are the JSON's, variant by variant.
    #[test]
    fn column_names_are_the_json_names() {
        let json = |v: serde_json::Value| v.as_str().unwrap().to_string();
        for s in [TxStatus::Delivered, TxStatus::Rejected, TxStatus::Aborted] {
            assert_eq!(s.as_str(), json(serde_json::to_value(s).unwrap()));
        }
        for e in [
            ClientEvidence::Syn,
            ClientEvidence::Port,
            ClientEvidence::FirstPacket,
        ] {
            assert_eq!(e.as_str(), json(serde_json::to_value(e).unwrap()));
        }
        for k in [
            TunnelKind::HttpConnect,
            TunnelKind::Socks4,
            TunnelKind::Socks5,
        ] {
            assert_eq!(k.as_str(), json(serde_json::to_value(k).unwrap()));
        }
    }
}
