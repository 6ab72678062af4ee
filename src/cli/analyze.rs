//! `mailscope analyze FILE [--json]`

use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::run;
use super::spool::Spool;
use super::{Failure, KeyArgs, output_error};
use crate::analysis::{AnalyzeOptions, FlowAnalysis, Order, RunOptions};
use crate::report::analysis::{write_flow_json, write_paths_json};
use crate::report::flows::write_capture_json;
use crate::report::summary::Summary;
use crate::trace::{CaptureRecord, MessagePaths};

pub fn run(file: &Path, json: bool, keys: &KeyArgs, quiet: bool) -> Result<(), Failure> {
    let mut paths = MessagePaths::default();
    let mut messages = 0usize;
    // Buffered: serde writes many small pieces.
    let mut spool = io::BufWriter::with_capacity(1 << 16, Spool::new());
    let mut spool_result: io::Result<()> = Ok(());
    let mut summary = Summary::default();
    let mut on_flow = |a: FlowAnalysis| {
        for (i, m) in a.dialogue.messages.iter().enumerate() {
            paths.add(m, messages + i, a.summary.client, a.summary.server);
        }
        if json {
            if spool_result.is_ok() {
                spool_result = write_flow_json(&mut spool, &a, messages);
            }
        } else {
            summary.add(&a, messages);
        }
        messages += a.dialogue.messages.len();
    };
    let options = AnalyzeOptions {
        run: RunOptions {
            // The table is sorted anyway; JSON goes out as flows finish.
            order: if json { Order::AsTheyEnd } else { Order::ById },
            keys: keys.sources(),
            ..RunOptions::default()
        },
        ..AnalyzeOptions::default()
    };
    let driver = run::analyze(file, &options, quiet, &mut on_flow)?;
    spool_result.map_err(|e| Failure::input(format!("cannot spool output: {e}")))?;
    let pipeline = driver.pipeline();
    let capture = CaptureRecord::new(
        file,
        pipeline.reader(),
        pipeline.decode_stats(),
        pipeline.flows_seen(),
    );
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = (|| -> io::Result<()> {
        if json {
            write_capture_json(&mut out, &capture, pipeline.reader())?;
            let spool = spool.into_inner().map_err(|e| e.into_error())?;
            spool.copy_to(&mut out)?;
            write_paths_json(&mut out, paths)?;
        } else {
            summary.write(&mut out, &capture, paths)?;
        }
        out.flush()
    })();
    written.map_err(output_error)
}
