//! `mailscope dialog FILE [--flow N] [--full] [--json]`

use std::io::{self, Write};

use super::run;
use super::{Failure, Input, output_error};
use super::{human_stdout, json_stdout};
use mailscope::analysis::{AnalyzeOptions, FlowAnalysis, Order, RunOptions};
use mailscope::report::flows::write_json_line;
use mailscope::report::transcript::write_transcript;
use mailscope::trace::{DialogueOptions, FlowUid, TranscriptLine};

pub fn run(
    input: &Input,
    flow: Option<u64>,
    full: bool,
    json: bool,
    quiet: bool,
) -> Result<(), Failure> {
    let file = &input.captures;
    let options = AnalyzeOptions {
        run: RunOptions {
            // `--flow N` reads on one thread (it stops after flow N).
            only_flow: flow,
            ..input.run_options(Order::ById)?
        },
        dialogue: DialogueOptions {
            transcript: true,
            full,
        },
        hook: None,
    };
    let mut out = if json { json_stdout() } else { human_stdout() };
    let mut result: io::Result<()> = Ok(());
    let mut found = false;
    let driver = run::analyze(file, &options, quiet, |a: FlowAnalysis| {
        found = true;
        if result.is_err() {
            return;
        }
        result = if json {
            let flow_uid = FlowUid::of(a.summary.client, a.summary.server, a.summary.start);
            a.dialogue
                .transcript
                .iter()
                .try_for_each(|line| write_json_line(&mut out, &LineOfFlow { line, flow_uid }))
        } else {
            write_transcript(&mut out, &a)
        };
    })?;
    result.and_then(|()| out.flush()).map_err(output_error)?;
    if let Some(n) = flow
        && !found
    {
        return Err(run::no_such_flow(file, n, driver.pipeline().flows_seen()));
    }
    Ok(())
}

/// A transcript line of `dialog --json`, with its flow's `flow_uid`.
#[derive(serde::Serialize)]
struct LineOfFlow<'a> {
    #[serde(flatten)]
    line: &'a TranscriptLine,
    flow_uid: FlowUid,
}
