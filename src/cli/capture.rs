//! `mailscope capture -i IFACE [-w out.pcapng] [-f FILTER] [-c COUNT]`

use std::path::PathBuf;

use super::Failure;

/// The flags of `mailscope capture`.
#[derive(clap::Args, Debug)]
pub(crate) struct CaptureArgs {
    /// Interface to listen on, e.g. eth0 or lo.
    #[arg(short, long)]
    interface: String,
    /// Write the packets to this pcapng file.
    #[arg(short = 'w', long)]
    write: Option<PathBuf>,
    /// BPF capture filter (default: the mail ports).
    #[arg(short = 'f', long)]
    filter: Option<String>,
    /// Stop after this many packets.
    #[arg(short = 'c', long)]
    count: Option<u64>,
}

#[cfg(not(feature = "live"))]
pub fn run(_args: &CaptureArgs, _quiet: bool) -> Result<(), Failure> {
    Err(Failure {
        code: 2,
        message: "live capture is not built in: install libpcap-dev and rebuild with \
                  `cargo build --release --features live` (then run as root or with cap_net_raw)"
            .to_string(),
    })
}

#[cfg(feature = "live")]
pub fn run(args: &CaptureArgs, quiet: bool) -> Result<(), Failure> {
    use std::io::{self, BufWriter, Write};

    use mailscope::analysis::PipelineOptions;
    use mailscope::capture::live::{LiveCapture, MAIL_PORTS_FILTER};
    use mailscope::capture::writer::PcapNgWriter;
    use mailscope::capture::{DecodeOutcome, Decoder};
    use mailscope::flow::FlowTable;
    use mailscope::proto::detect::ProtocolSniffer;
    use mailscope::report::flows::write_json_line;
    use mailscope::trace::{FlowRecord, Record};

    let interface = args.interface.as_str();
    let filter = args.filter.as_deref().unwrap_or(MAIL_PORTS_FILTER);
    let mut live = LiveCapture::open(interface, filter).map_err(Failure::input)?;
    let mut writer = match &args.write {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| Failure::input(format!("cannot create {}: {e}", path.display())))?;
            let mut w = PcapNgWriter::new(BufWriter::new(file))?;
            w.add_interface(live.linktype(), 262_144, Some(interface))?;
            Some(w)
        }
        None => None,
    };
    if !quiet {
        eprintln!("mailscope: capturing on {interface} ({filter}); Ctrl-C to stop");
    }
    // Flows are printed as JSON lines as soon as they end.
    let mut decoder = Decoder::new();
    let mut table = FlowTable::new(
        PipelineOptions::default().flow,
        |_, _, server: std::net::SocketAddr| ProtocolSniffer::new(server.port()),
    );
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut print_error: Option<io::Error> = None;
    let mut seen = 0u64;
    loop {
        if args.count.is_some_and(|c| seen >= c) {
            break;
        }
        let Some(packet) = live.next_packet().map_err(Failure::input)? else {
            continue;
        };
        seen += 1;
        if let Some(w) = writer.as_mut() {
            w.write_packet_truncated(
                0,
                packet.ts.as_nanos().max(0) as u64,
                packet.data,
                packet.orig_len,
            )?;
        }
        let (index, ts) = (packet.index, packet.ts);
        if let DecodeOutcome::Tcp(seg) = decoder.decode(&packet) {
            table.process(index, ts, &seg, &mut |flow| {
                let mut flow = flow;
                let record = FlowRecord::new(&flow.summary, &flow.handler.decide());
                if let Err(e) =
                    write_json_line(&mut out, &Record::Flow(&record)).and_then(|_| out.flush())
                {
                    print_error.get_or_insert(e);
                }
            });
        }
        if let Some(e) = print_error.take() {
            return Err(super::output_error(e));
        }
    }
    table.finish_all(&mut |mut flow| {
        let record = FlowRecord::new(&flow.summary, &flow.handler.decide());
        let _ = write_json_line(&mut out, &Record::Flow(&record));
    });
    if let Some(w) = writer.as_mut() {
        w.flush()?;
    }
    Ok(())
}
