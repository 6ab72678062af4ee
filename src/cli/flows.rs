//! `mailscope flows FILE [--json]`

use super::{Captures, Failure, output_error, run};
use super::{human_stdout, json_stdout};
use mailscope::analysis::{KeySources, Order, RunOptions};
use mailscope::capture::selection::PacketSelection;
use mailscope::proto::detect::ProtocolSniffer;
use mailscope::report::flows::{write_capture_json, write_json_line, write_table};
use mailscope::trace::{FlowRecord, Record};
use std::io::{self, Write};

pub fn run(
    file: &Captures,
    json: bool,
    threads: usize,
    selection: PacketSelection,
    quiet: bool,
) -> Result<(), Failure> {
    // The capture record comes first but is complete only at the end, so
    // flow records (small) wait in id order until then.
    let mut flows: Vec<FlowRecord> = Vec::new();
    let options = RunOptions {
        order: Order::ById,
        // Nothing is decrypted: the capture's secrets need not be read.
        keys: KeySources {
            files: Vec::new(),
            no_decrypt: true,
        },
        threads,
        selection,
        ..RunOptions::default()
    };
    // The recognizer alone: the same decision `analyze` makes.
    let driver = run::read_shared(
        file,
        &options,
        quiet,
        |start| Some(ProtocolSniffer::new(start.server.port())),
        |(summary, verdict)| flows.push(FlowRecord::new(&summary, &verdict)),
    )?;
    let capture = driver.capture_record();
    let files = driver.pipeline().reader().input_files();
    for f in &mut flows {
        f.file = files.file_of(f.first_packet).map(str::to_string);
    }

    let mut out = if json { json_stdout() } else { human_stdout() };
    let written = (|| -> io::Result<()> {
        if json {
            write_capture_json(&mut out, &capture)?;
            for f in &flows {
                write_json_line(&mut out, &Record::Flow(f))?;
            }
        } else {
            write_table(&mut out, &capture, &flows)?;
        }
        out.flush()
    })();
    written.map_err(output_error)
}
