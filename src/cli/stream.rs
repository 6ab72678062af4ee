//! `mailscope stream FILE --flow N [--raw]`

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use super::{Failure, output_error, progress};
use crate::pipeline::{Pipeline, PipelineOptions};
use crate::proto::detect::ProtocolSniffer;
use crate::report::flows::FlowRecord;
use crate::report::stream::{StreamFormat, StreamPrinter};

pub fn run(file: &Path, flow_id: u64, raw: bool, quiet: bool) -> Result<(), Failure> {
    let options = PipelineOptions {
        stop_after_flow: Some(flow_id),
        ..PipelineOptions::default()
    };
    let mut pipeline = Pipeline::open(file, options)?;
    let bar = progress::bar(pipeline.file_len(), quiet);
    let stdout = io::stdout();
    let color = stdout.is_terminal();
    let format = if raw {
        StreamFormat::Hex
    } else {
        StreamFormat::Text
    };
    let mut found: Option<FlowRecord> = None;
    let mut header_result: io::Result<()> = Ok(());
    let mut result: io::Result<()> = Ok(());
    pipeline.run_with_progress(
        |id, client, server| {
            let printer = (id == flow_id).then(|| {
                let mut out = io::BufWriter::new(io::stdout());
                if let Err(e) = writeln!(out, "== flow {id}: client {client} → server {server} ==")
                {
                    header_result = Err(e);
                }
                StreamPrinter::new(out, format, color)
            });
            (ProtocolSniffer::new(server.port()), printer)
        },
        |flow| {
            let record = FlowRecord::new(&flow.summary, &flow.handler.0.verdict());
            if let Some(printer) = flow.handler.1 {
                let footer = (|| -> io::Result<()> {
                    let mut out = printer.finish()?;
                    writeln!(
                        out,
                        "== {}: {} bytes client→server, {} bytes server→client, {} gap(s), {} ==",
                        record.protocol.as_str(),
                        record.bytes_c2s,
                        record.bytes_s2c,
                        record.gaps,
                        record.state.as_str()
                    )?;
                    out.flush()
                })();
                if let Err(e) = footer {
                    result = Err(e);
                }
                found = Some(record);
            }
        },
        |done| {
            if let Some(bar) = &bar {
                bar.set_position(done);
            }
        },
    )?;
    super::run::finish_reading(&pipeline, bar, quiet);
    header_result.and(result).map_err(output_error)?;
    if found.is_none() {
        return Err(super::run::no_such_flow(
            file,
            flow_id,
            pipeline.flows_seen(),
        ));
    }
    Ok(())
}
