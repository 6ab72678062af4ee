//! `mailscope analyze FILE... [--summary] [--json | --format text|json|ecs | --format parquet -o DIR]`

use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::spool::Spool;
use super::{
    Failure, Input, human_stdout, json_stdout, output_error, print_warnings, progress, run,
};
use mailscope::analysis::{AnalyzeOptions, CrossFlowWatch, FlowAnalysis, Observed, Options, Order};
use mailscope::capture::InputSource;
use mailscope::report::analysis::JsonLines;
use mailscope::report::columnar::{ParquetTables, TABLES};
use mailscope::report::ecs::EcsLines;
use mailscope::report::flows::{write_capture_json, write_json_line};
use mailscope::report::overview::Overview;
use mailscope::report::summary::Summary;
use mailscope::trace::{CaptureRecord, Finding, MessagePaths};

/// What `analyze` writes (`--format`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Tables for people (the default).
    Text,
    /// JSON Lines (`--json`).
    Json,
    /// Parquet files, one per table.
    Parquet,
    /// JSON Lines in the Elastic Common Schema, one event per record.
    Ecs,
}

/// Where the output goes, as the flags chose it.
pub enum Output<'a> {
    Text,
    Json,
    Ecs,
    Parquet(&'a Path),
    /// `--summary`: the headline and the overview only, as text or (with
    /// `--json`) as one `summary` object.
    Summary {
        json: bool,
    },
}

impl Format {
    /// The output the flags ask for, or a usage error (exit code 2) when
    /// `-o` comes without `--format parquet` (stdout is where the others
    /// go), or `--summary` with parquet (the overview is one object, not
    /// a table of rows).
    pub fn chosen(
        json: bool,
        format: Option<Format>,
        output: Option<&Path>,
        summary: bool,
    ) -> Result<Output<'_>, Failure> {
        let format = format.unwrap_or(if json { Format::Json } else { Format::Text });
        if summary {
            return match (format, output) {
                (Format::Text, None) => Ok(Output::Summary { json: false }),
                (Format::Json, None) => Ok(Output::Summary { json: true }),
                (Format::Parquet | Format::Ecs, _) => Err(Failure {
                    code: 2,
                    message: "--summary writes text or JSON, not parquet or ECS".into(),
                }),
                (_, Some(_)) => Err(Failure {
                    code: 2,
                    message: "-o DIR goes with --format parquet (--summary goes to stdout)".into(),
                }),
            };
        }
        match (format, output) {
            (Format::Parquet, Some(dir)) => Ok(Output::Parquet(dir)),
            (Format::Text, None) => Ok(Output::Text),
            (Format::Json, None) => Ok(Output::Json),
            (Format::Ecs, None) => Ok(Output::Ecs),
            // clap requires -o with parquet; say so anyway.
            (Format::Parquet, None) => Err(Failure {
                code: 2,
                message: "--format parquet needs -o DIR".into(),
            }),
            (_, Some(_)) => Err(Failure {
                code: 2,
                message: "-o DIR goes with --format parquet (text, JSON and ECS go to stdout)"
                    .into(),
            }),
        }
    }
}

pub fn run(input: &Input, output: Output<'_>, quiet: bool) -> Result<(), Failure> {
    match output {
        Output::Text => table(input, quiet),
        Output::Json => json_lines(input, quiet),
        Output::Ecs => ecs_lines(input, quiet),
        Output::Parquet(dir) => parquet(input, dir, quiet),
        Output::Summary { json } => overview(input, json, quiet),
    }
}

/// The records of `--json` as Parquet tables in `dir`
/// (`report::columnar`); a line on stderr says what was written.
fn parquet(input: &Input, dir: &Path, quiet: bool) -> Result<(), Failure> {
    let (sources, options) = facade_options(input)?;
    let only_file = match sources.as_slice() {
        [one] => Some(one.name()),
        _ => None,
    };
    let mut tables =
        ParquetTables::create(dir, only_file).map_err(|e| Failure::input(e.to_string()))?;
    let bar = progress::bar(input_bytes(&sources), quiet);
    let capture =
        mailscope::analysis::analyze_inputs(&sources, &options, |record| tables.write(&record))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_warnings(&capture.warnings, quiet);
    let rows = tables
        .finish(&capture)
        .map_err(|e| Failure::input(e.to_string()))?;
    if !quiet {
        let counts: Vec<String> = TABLES
            .iter()
            .zip(rows)
            .map(|(table, n)| format!("{n} {table}"))
            .collect();
        eprintln!("wrote {} in {}", counts.join(", "), dir.display());
    }
    Ok(())
}

/// The inputs and the facade's options the flags give (`--json` and
/// `--format parquet` both write the records of
/// [`analyze_inputs`](mailscope::analysis::analyze_inputs)).
fn facade_options(input: &Input) -> Result<(Vec<InputSource>, Options), Failure> {
    let sources = input.captures.sources()?;
    let options = Options {
        keys: input.keys.sources(),
        by_id: false,
        threads: input.threads.count(),
        selection: input.selection.selection()?,
    };
    Ok((sources, options))
}

/// The size of the inputs that are files (for the progress bar).
fn input_bytes(sources: &[InputSource]) -> Option<u64> {
    let total: u64 = sources
        .iter()
        .filter_map(|s| match s {
            InputSource::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            InputSource::Stdin => None,
        })
        .sum();
    (total > 0).then_some(total)
}

/// The records of the library's [`analyze`](mailscope::analysis::analyze),
/// as JSON Lines: the `capture` record and its findings first (they are
/// complete only at the end, so the flows' records wait in a spool).
fn json_lines(input: &Input, quiet: bool) -> Result<(), Failure> {
    let (sources, options) = facade_options(input)?;
    // Buffered: serde writes many small pieces.
    let mut spool = JsonLines::new(io::BufWriter::with_capacity(1 << 16, Spool::new()));
    let bar = progress::bar(input_bytes(&sources), quiet);
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

/// The records of `--json` as Elastic Common Schema events
/// (`report::ecs`), straight to stdout as the flows end: nothing waits
/// for the end but the capture's own findings, which come last.
fn ecs_lines(input: &Input, quiet: bool) -> Result<(), Failure> {
    let (sources, options) = facade_options(input)?;
    let stdout = io::stdout();
    let mut events = EcsLines::new(BufWriter::with_capacity(1 << 16, stdout.lock()));
    let bar = progress::bar(input_bytes(&sources), quiet);
    let capture =
        mailscope::analysis::analyze_inputs(&sources, &options, |record| events.write(&record))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    print_warnings(&capture.warnings, quiet);
    events.write_capture(&capture);
    events
        .finish()
        .and_then(|mut out| out.flush())
        .map_err(output_error)
}

/// The human summary, its tables sorted by flow.
fn table(input: &Input, quiet: bool) -> Result<(), Failure> {
    let mut paths = MessagePaths::default();
    let mut summary = Summary::default();
    let (capture, cross_flow) = each_flow(input, quiet, |a, messages| {
        for (i, m) in a.dialogue.messages.iter().enumerate() {
            paths.add(m, messages + i, a.summary.client, a.summary.server);
        }
        summary.add(a, messages);
    })?;
    summary.add_findings(cross_flow);
    let mut out = human_stdout();
    summary
        .write(&mut out, &capture, paths)
        .and_then(|()| out.flush())
        .map_err(output_error)
}

/// `--summary`: the headline and the overview, or the `summary` object.
/// Only the counts are kept, not the tables' rows.
fn overview(input: &Input, json: bool, quiet: bool) -> Result<(), Failure> {
    let mut overview = Overview::default();
    let (capture, cross_flow) = each_flow(input, quiet, |a, _| overview.add(a))?;
    overview.add_findings(&cross_flow);
    let record = overview.record(&capture);
    let written = if json {
        let mut out = json_stdout();
        write_json_line(&mut out, &record).and_then(|()| out.flush())
    } else {
        let mut out = human_stdout();
        record
            .write_with_headline(&mut out)
            .and_then(|()| out.flush())
    };
    written.map_err(output_error)
}

/// Runs the analysis in flow order, handing `on_flow` each flow and the
/// number of messages before it; returns the capture record and the
/// findings only several flows together show (`open-relay`,
/// `auth-guessing`).
fn each_flow(
    input: &Input,
    quiet: bool,
    mut on_flow: impl FnMut(&FlowAnalysis, usize),
) -> Result<(CaptureRecord, Vec<Finding>), Failure> {
    // Fed by the flows and by the datagrams, two callbacks of one run.
    let cross_flow = std::cell::RefCell::new(CrossFlowWatch::default());
    let mut messages = 0usize;
    let mut run = input.run_options(Order::ById)?;
    // The DNS answers, for `mta-sts-violation`.
    run.observe_udp = true;
    let options = AnalyzeOptions {
        run,
        ..AnalyzeOptions::default()
    };
    let driver = run::analyze_observing(
        &input.captures,
        &options,
        quiet,
        |a: FlowAnalysis| {
            cross_flow.borrow_mut().add(&a);
            on_flow(&a, messages);
            messages += a.dialogue.messages.len();
        },
        |packet| {
            if let Observed::Udp { datagram, .. } = packet {
                cross_flow.borrow_mut().datagram(datagram.payload);
            }
        },
    )?;
    Ok((driver.capture_record(), cross_flow.into_inner().findings()))
}
