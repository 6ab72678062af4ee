//! `mailscope stream FILE --flow N [--raw]`

use std::io::{self, IsTerminal, Write};

use super::{Failure, output_error, run};
use mailscope::analysis::{FlowReader, KeySources, RunOptions};
use mailscope::capture::selection::PacketSelection;
use mailscope::flow::{Direction, FlowSummary, StreamEvent, StreamHandler};
use mailscope::proto::detect::ProtocolSniffer;
use mailscope::report::stream::{StreamFormat, StreamPrinter};
use mailscope::trace::FlowRecord;

/// The recognizer (for the footer's protocol) and the printer of the flow.
struct Follow<W: Write> {
    sniffer: ProtocolSniffer,
    printer: StreamPrinter<W>,
}

impl<W: Write> StreamHandler for Follow<W> {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        self.sniffer.on_event(dir, event);
        self.printer.on_event(dir, event);
    }
}

impl<W: Write> FlowReader for Follow<W> {
    type Output = io::Result<FlowRecord>;
    fn finish(mut self, summary: FlowSummary) -> io::Result<FlowRecord> {
        let record = FlowRecord::new(&summary, &self.sniffer.decide());
        let mut out = self.printer.finish()?;
        writeln!(
            out,
            "== {}: {} bytes client→server, {} bytes server→client, {} gap(s), {} ==",
            record.protocol.as_str(),
            record.bytes_c2s,
            record.bytes_s2c,
            record.gaps,
            record.state.as_str()
        )?;
        out.flush()?;
        Ok(record)
    }
}

pub fn run(
    file: &super::Captures,
    flow_id: u64,
    raw: bool,
    selection: PacketSelection,
    quiet: bool,
) -> Result<(), Failure> {
    let options = RunOptions {
        only_flow: Some(flow_id),
        keys: KeySources {
            files: Vec::new(),
            no_decrypt: true,
        },
        selection,
        ..RunOptions::default()
    };
    let color = io::stdout().is_terminal();
    let format = if raw {
        StreamFormat::Hex
    } else {
        StreamFormat::Text
    };
    let mut found: Option<io::Result<FlowRecord>> = None;
    let mut header: io::Result<()> = Ok(());
    let driver = run::read(
        file,
        &options,
        quiet,
        |start| {
            (start.id == flow_id).then(|| {
                let mut out = io::BufWriter::new(io::stdout());
                header = writeln!(
                    out,
                    "== flow {}: client {} → server {} ==",
                    start.id, start.client, start.server
                );
                Follow {
                    sniffer: ProtocolSniffer::new(start.server.port()),
                    printer: StreamPrinter::new(out, format, color),
                }
            })
        },
        |result| found = Some(result),
    )?;
    header.map_err(output_error)?;
    match found {
        Some(result) => result.map(|_| ()).map_err(output_error),
        None => Err(run::no_such_flow(
            file,
            flow_id,
            driver.pipeline().flows_seen(),
        )),
    }
}
