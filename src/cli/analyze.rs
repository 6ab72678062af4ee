//! `mailscope analyze FILE [--json]`

use std::io::{self, BufWriter, Write};

use super::spool::Spool;
use super::{Failure, Input, human_stdout, output_error, print_warnings, progress, run};
use mailscope::analysis::{AnalyzeOptions, FlowAnalysis, Options, Order, RelayWatch};
use mailscope::capture::InputSource;
use mailscope::report::analysis::JsonLines;
use mailscope::report::flows::write_capture_json;
use mailscope::report::summary::Summary;
use mailscope::trace::MessagePaths;

pub fn run(input: &Input, json: bool, quiet: bool) -> Result<(), Failure> {
    if json {
        json_lines(input, quiet)
    } else {
        table(input, quiet)
    }
}

/// The records of the library's [`analyze`](mailscope::analysis::analyze),
/// as JSON Lines: the `capture` record and its findings first (they are
/// complete only at the end, so the flows' records wait in a spool).
fn json_lines(input: &Input, quiet: bool) -> Result<(), Failure> {
    let sources = input.captures.sources()?;
    let options = Options {
        keys: input.keys.sources(),
        by_id: false,
        threads: input.threads.count(),
        selection: input.selection.selection()?,
    };
    // Buffered: serde writes many small pieces.
    let mut spool = JsonLines::new(io::BufWriter::with_capacity(1 << 16, Spool::new()));
    let total: u64 = sources
        .iter()
        .filter_map(|s| match s {
            InputSource::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            InputSource::Stdin => None,
        })
        .sum();
    let bar = progress::bar((total > 0).then_some(total), quiet);
    let capture =
        mailscope::analysis::analyze_inputs(&sources, &options, |record| spool.write(&record))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_warnings(&capture.warnings, quiet);
    let spool = spool
        .finish()
        .and_then(|s| s.into_inner().map_err(|e| e.into_error()))
        .map_err(|e| Failure::input(format!("cannot spool output: {e}")))?;
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = (|| -> io::Result<()> {
        write_capture_json(&mut out, &capture)?;
        spool.copy_to(&mut out)?;
        out.flush()
    })();
    written.map_err(output_error)
}

/// The human summary, its tables sorted by flow.
fn table(input: &Input, quiet: bool) -> Result<(), Failure> {
    let file = &input.captures;
    let mut paths = MessagePaths::default();
    let mut relays = RelayWatch::default();
    let mut messages = 0usize;
    let mut summary = Summary::default();
    let options = AnalyzeOptions {
        run: input.run_options(Order::ById)?,
        ..AnalyzeOptions::default()
    };
    let driver = run::analyze(file, &options, quiet, |a: FlowAnalysis| {
        for (i, m) in a.dialogue.messages.iter().enumerate() {
            paths.add(m, messages + i, a.summary.client, a.summary.server);
        }
        relays.add(&a);
        summary.add(&a, messages);
        messages += a.dialogue.messages.len();
    })?;
    summary.add_findings(relays.findings());
    let capture = driver.capture_record();
    let mut out = human_stdout();
    summary
        .write(&mut out, &capture, paths)
        .and_then(|()| out.flush())
        .map_err(output_error)
}
