//! Using mailscope as a library: list the mail flows of a capture and print
//! the first line each client sent, with the packet that carried it.
//!
//!     cargo run --example follow_smtp -- captures/smtp-crepes-hamburger.pcapng

use mailscope::analysis::{Pipeline, PipelineOptions};
use mailscope::flow::{CollectedStreams, Direction};
use mailscope::proto::detect::ProtocolSniffer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "captures/smtp-crepes-hamburger.pcapng".to_string());
    let mut pipeline = Pipeline::open(&path, PipelineOptions::default())?;
    // Each flow gets two handlers: the protocol sniffer and a collector
    // that keeps the bytes (fine for small captures).
    pipeline.run(
        |_id, _client, server| {
            (
                ProtocolSniffer::new(server.port()),
                CollectedStreams::default(),
            )
        },
        |mut flow| {
            let verdict = flow.handler.0.decide();
            if !verdict.protocol.is_mail() {
                return;
            }
            let streams = &flow.handler.1;
            let c2s = streams.bytes(Direction::ClientToServer);
            let first_line_len = c2s
                .iter()
                .position(|&b| b == b'\n')
                .map_or(c2s.len(), |p| p + 1);
            let packets = streams.packets_for(Direction::ClientToServer, 0, first_line_len as u64);
            println!(
                "flow {} {} → {} ({}): first client line {:?} in packet(s) {:?}",
                flow.summary.id,
                flow.summary.client,
                flow.summary.server,
                verdict.protocol.as_str(),
                String::from_utf8_lossy(&c2s[..first_line_len]).trim_end(),
                packets.iter().map(|p| p + 1).collect::<Vec<_>>()
            );
        },
    )?;
    Ok(())
}
