//! `mailscope extract FILE -o DIR`: every message as `.eml`, its
//! attachments decoded, and `index.json` (docs/output-schema.md § extract).
//! With `--attachments-only`: each distinct attachment once as
//! `DIR/ab/<sha256>`, and `index.jsonl` / `index.csv` (one row per
//! attachment of a message), for antivirus and YARA (README § extract).
//!
//! Messages are written the moment they are complete, on whichever worker
//! reads their flow, so an extract of a capture of any size holds at most
//! one message per worker in memory. They get their numbers when their
//! flow's results reach the collector, in the order the flows ended: the
//! same files at any `--threads` (see `report::extract`).

use std::path::Path;
use std::sync::Arc;

use super::run;
use super::{Failure, Input};
use mailscope::analysis::{AnalyzeOptions, FlowAnalysis, Order};
use mailscope::report::extract::{Extractor, Layout};
use mailscope::trace::{MessageHook, MessageRecord, RawMessage};

pub fn run(input: &Input, dir: &Path, layout: Layout, quiet: bool) -> Result<(), Failure> {
    let cannot_write =
        |e: std::io::Error| Failure::input(format!("cannot write to {}: {e}", dir.display()));
    let mut extractor = Extractor::with_layout(dir, layout).map_err(cannot_write)?;
    let stager = Arc::new(extractor.stager());
    let hook: MessageHook = {
        let stager = Arc::clone(&stager);
        Arc::new(
            move |record: &mut MessageRecord, raw: &RawMessage, contents: &[Vec<u8>]| {
                stager.stage(record, raw, contents)
            },
        )
    };
    let options = AnalyzeOptions {
        run: input.run_options(Order::AsTheyEnd)?,
        hook: Some(hook),
        ..AnalyzeOptions::default()
    };
    let mut placed = Ok(());
    run::analyze(&input.captures, &options, quiet, |mut a: FlowAnalysis| {
        for record in &mut a.dialogue.messages {
            if placed.is_ok() {
                placed = extractor.place(record);
            }
        }
    })?;
    if let Some(e) = stager.take_error() {
        return Err(cannot_write(e));
    }
    placed.map_err(cannot_write)?;
    let written = extractor
        .finish()
        .map_err(|e| Failure::input(format!("cannot write {}: {e}", dir.display())))?;
    if !quiet {
        match layout {
            Layout::Messages => eprintln!(
                "mailscope: {} message(s) written to {}",
                written.messages,
                dir.display()
            ),
            Layout::Attachments => eprintln!(
                "mailscope: {} attachment(s), {} distinct, indexed in {}",
                written.attachments,
                written.distinct,
                dir.display()
            ),
        }
    }
    Ok(())
}
