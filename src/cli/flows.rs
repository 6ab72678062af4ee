//! `mailscope flows FILE [--json]`

use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::{Failure, output_error, print_warnings, progress};
use crate::pipeline::{Pipeline, PipelineOptions};
use crate::proto::detect::ProtocolSniffer;
use crate::report::flows::{
    CaptureRecord, FlowRecord, write_capture_json, write_json_line, write_table,
};
use crate::report::ordered::InOrder;

pub fn run(file: &Path, json: bool, quiet: bool) -> Result<(), Failure> {
    let mut pipeline = Pipeline::open(file, PipelineOptions::default())?;
    let bar = progress::bar(pipeline.file_len(), quiet);
    // The capture record comes first but is complete only at the end, so
    // flow records (small) wait in id order until then.
    let mut ordered = InOrder::new();
    let mut flows: Vec<FlowRecord> = Vec::new();
    let mut flows_seen = 0;
    pipeline.run_with_progress(
        |_, _, server| ProtocolSniffer::new(server.port()),
        |flow| {
            flows_seen += 1;
            let record = FlowRecord::from_finished(&flow);
            ordered.push(record.id, record, |r| flows.push(r));
        },
        |done| {
            if let Some(bar) = &bar {
                bar.set_position(done);
            }
        },
    )?;
    ordered.drain(|r| flows.push(r));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let capture = CaptureRecord::new(file, pipeline.reader(), pipeline.decode_stats(), flows_seen);
    print_warnings(&capture.warnings, quiet);

    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = (|| -> io::Result<()> {
        if json {
            write_capture_json(&mut out, &capture, pipeline.reader())?;
            for f in &flows {
                write_json_line(&mut out, f)?;
            }
        } else {
            write_table(&mut out, &capture, &flows)?;
        }
        out.flush()
    })();
    written.map_err(output_error)
}
