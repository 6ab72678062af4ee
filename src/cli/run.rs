//! The analysis loop shared by `analyze`, `dialog`, `extract` and `creds`:
//! read the capture, analyse every flow, hand the flows on in id order.

use std::fs::File;
use std::path::Path;

use std::cell::RefCell;
use std::rc::Rc;

use super::{Failure, KeyArgs, print_warnings, progress};
use crate::analysis::{FlowAnalysis, FlowAnalyzer};
use crate::pipeline::{Pipeline, PipelineOptions};
use crate::proto::keylog::KeyLog;
use crate::proto::tls_decrypt::SharedKeyLog;
use crate::report::ordered::InOrder;
use crate::trace::{DialogueOptions, MessageHook};

/// What to analyse and keep.
#[derive(Clone, Default)]
pub struct RunOptions {
    pub dialogue: DialogueOptions,
    /// Analyse only this flow (and stop reading once it is over).
    pub only_flow: Option<u64>,
    pub hook: Option<MessageHook>,
    /// Hand flows on in id order. Costs memory: a flow that lasts holds
    /// back every later one, so commands that stream (`analyze --json`,
    /// `extract`) take them as they finish.
    pub in_id_order: bool,
    /// Where TLS secrets come from.
    pub keys: KeyArgs,
}

/// Runs the analysis; `on_flow` gets every analysed flow in id order.
/// Returns the pipeline, whose reader knows the capture's statistics.
pub fn analyze(
    file: &Path,
    options: RunOptions,
    quiet: bool,
    mut on_flow: impl FnMut(FlowAnalysis),
) -> Result<Pipeline<File>, Failure> {
    let pipeline_options = PipelineOptions {
        stop_after_flow: options.only_flow,
        ..PipelineOptions::default()
    };
    let mut pipeline = Pipeline::open(file, pipeline_options)?;
    let keys = key_log(&options.keys, quiet)?;
    if let Some(k) = &keys {
        pipeline.collect_secrets(k.clone());
    }
    let bar = progress::bar(pipeline.file_len(), quiet);
    let mut ordered = InOrder::new();
    let only = options.only_flow;
    let in_order = options.in_id_order;
    pipeline.run_with_progress(
        |id, _client, server| {
            (only.is_none() || only == Some(id)).then(|| {
                FlowAnalyzer::with_keys(
                    id,
                    server.port(),
                    options.dialogue,
                    options.hook.clone(),
                    keys.clone(),
                )
            })
        },
        |flow| {
            let id = flow.summary.id;
            match flow.handler {
                Some(analyzer) if !in_order => on_flow(analyzer.finish(flow.summary)),
                Some(analyzer) => {
                    let analysis = analyzer.finish(flow.summary);
                    ordered.push(id, Some(analysis), |a| {
                        if let Some(a) = a {
                            on_flow(a)
                        }
                    });
                }
                None if !in_order => {}
                None => ordered.push(id, None, |a| {
                    if let Some(a) = a {
                        on_flow(a)
                    }
                }),
            }
        },
        |done| {
            if let Some(bar) = &bar {
                bar.set_position(done);
            }
        },
    )?;
    ordered.drain(|a| {
        if let Some(a) = a {
            on_flow(a)
        }
    });
    finish_reading(&pipeline, bar, quiet);
    Ok(pipeline)
}

/// The key log of a run: the `--keylog` files now, the capture's
/// Decryption Secrets Blocks as they are read. None with `--no-decrypt`.
fn key_log(args: &KeyArgs, quiet: bool) -> Result<Option<SharedKeyLog>, Failure> {
    if args.no_decrypt {
        return Ok(None);
    }
    let mut log = KeyLog::default();
    for path in &args.files {
        let text = std::fs::read(path).map_err(|e| {
            Failure::input(format!("cannot read the key log {}: {e}", path.display()))
        })?;
        let before = log.rejected.len();
        log.add(&text);
        let bad = &log.rejected[before..];
        if let Some(first) = bad.first() {
            print_warnings(
                &[format!(
                    "key log {}: {} line(s) not understood (line {}: {})",
                    path.display(),
                    bad.len(),
                    first.line,
                    first.reason
                )],
                quiet,
            );
        }
    }
    Ok(Some(Rc::new(RefCell::new(log))))
}

/// After the capture was read: the progress bar goes, the capture's
/// warnings are shown.
pub fn finish_reading<R: std::io::Read>(
    pipeline: &Pipeline<R>,
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let warnings: Vec<String> = pipeline
        .reader()
        .warnings()
        .iter()
        .map(|w| w.to_string())
        .collect();
    print_warnings(&warnings, quiet);
}

/// The error of `--flow N` when the capture has no flow N.
pub fn no_such_flow(file: &Path, flow: u64, flows_seen: u64) -> Failure {
    let has = match flows_seen {
        0 => "it has no TCP flow".to_string(),
        n => format!("it has flows 0 to {}; see `mailscope flows`", n - 1),
    };
    Failure {
        code: 2,
        message: format!("no flow {flow} in {} ({has})", file.display()),
    }
}
