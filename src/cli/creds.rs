//! `mailscope creds FILE [--json]`

use std::io::{self, Write};

use super::run;
use super::{Failure, Input, output_error};
use super::{human_stdout, json_stdout};
use mailscope::analysis::{AnalyzeOptions, FlowAnalysis, Order};
use mailscope::report::flows::write_json_line;
use mailscope::report::summary::write_credentials;
use mailscope::trace::{Credential, Record};

pub fn run(input: &Input, json: bool, quiet: bool) -> Result<(), Failure> {
    let mut creds: Vec<(Credential, String)> = Vec::new();
    let options = AnalyzeOptions {
        run: input.run_options(Order::ById)?,
        ..AnalyzeOptions::default()
    };
    run::analyze(&input.captures, &options, quiet, |a: FlowAnalysis| {
        let server = a.summary.server.to_string();
        creds.extend(
            a.dialogue
                .credentials
                .into_iter()
                .map(|c| (c, server.clone())),
        );
    })?;
    let mut out = if json { json_stdout() } else { human_stdout() };
    let written = (|| -> io::Result<()> {
        if json {
            for (c, _) in &creds {
                write_json_line(&mut out, &Record::Credential(c))?;
            }
        } else {
            write_credentials(&mut out, &creds)?;
        }
        out.flush()
    })();
    written.map_err(output_error)
}
