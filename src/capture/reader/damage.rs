//! What can go wrong while reading a capture: [`CaptureError`] when the
//! input is not a capture at all, [`CaptureWarning`] for damage inside one
//! that the reader can read past (or stop at) without losing what came
//! before.

use std::io;

/// Why a file could not be read as a capture at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot read {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    #[error("the file is empty: not a pcap or pcapng capture")]
    Empty,
    #[error("not a pcap or pcapng capture ({0})")]
    NotACapture(String),
    #[error("the capture header is cut short ({0} bytes): the file is truncated")]
    TruncatedHeader(usize),
    #[error("no capture to read: {0}")]
    NoCaptures(String),
    #[error(
        "the {compression} stream is damaged or cut short before the capture's header: {detail}"
    )]
    Decompression {
        compression: &'static str,
        detail: String,
    },
    #[error("the {compression}-compressed input holds no capture: {inner}")]
    NotACaptureInside {
        compression: &'static str,
        inner: Box<CaptureError>,
    },
}

/// Something wrong inside a capture that we could read past (or stop at)
/// without losing what came before.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CaptureWarning {
    /// The input the problem is in, when several were read together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Byte offset in the file where the problem starts (in the
    /// decompressed capture for a compressed file, except for
    /// [`WarningKind::Decompression`], which counts compressed bytes).
    pub offset: u64,
    pub kind: WarningKind,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WarningKind {
    /// The file ends in the middle of a record: the last packet is lost.
    TruncatedRecord { have: u64 },
    /// A length field is impossible; reading stops here.
    CorruptRecord { detail: String },
    /// A pcapng block type we do not know; skipped (the spec says readers must).
    UnknownBlock { block_type: u32 },
    /// A packet names an interface that no IDB described; skipped.
    UnknownInterface { interface: u32 },
    /// One of several inputs could not be read at all; the others were.
    NotRead { detail: String },
    /// The compressed stream is damaged or cut short; the packets before
    /// were read.
    Decompression { detail: String },
}

impl std::fmt::Display for CaptureWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        match &self.kind {
            WarningKind::TruncatedRecord { have } => write!(
                f,
                "capture truncated at byte {}: the last record is incomplete ({have} bytes present) and was dropped",
                self.offset
            ),
            WarningKind::CorruptRecord { detail } => write!(
                f,
                "corrupt record at byte {}: {detail}; the rest of the file was not read",
                self.offset
            ),
            WarningKind::UnknownBlock { block_type } => write!(
                f,
                "unknown pcapng block type 0x{block_type:08x} at byte {} skipped",
                self.offset
            ),
            WarningKind::UnknownInterface { interface } => write!(
                f,
                "packet at byte {} refers to undeclared interface {interface}; skipped",
                self.offset
            ),
            WarningKind::NotRead { detail } => write!(f, "skipped, not read: {detail}"),
            WarningKind::Decompression { detail } => write!(
                f,
                "the compressed file is damaged or cut short after {} compressed bytes ({detail}); the packets before were read",
                self.offset
            ),
        }
    }
}
