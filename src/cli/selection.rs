//! `--filter`, `--since`, `--until`: the frames a command reads
//! (`capture::selection`). Read by clap, so a filter that cannot be parsed
//! is a usage error (exit 2) that points at the word.

use std::sync::Arc;

use mailscope::capture::Timestamp;
use mailscope::capture::filter::PacketFilter;
use mailscope::capture::selection::PacketSelection;
use mailscope::capture::time_window::{TimeWindow, parse_moment};

use super::Failure;

#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct SelectionArgs {
    /// Read only the frames this capture filter keeps, in tcpdump's
    /// syntax (pcap-filter(7)): "host 10.0.0.1 and port 25",
    /// "tcp port 110 or 143", "net 192.168.0.0/16". Flow ids then number
    /// the flows the filter kept.
    #[arg(long, value_name = "FILTER", value_parser = parse_filter)]
    filter: Option<Arc<PacketFilter>>,
    /// Read only the frames captured on or after this moment: RFC 3339
    /// (2026-12-07T05:28:22Z, 2026-12-07T06:28:22+01:00; no zone is UTC)
    /// or seconds since 1970 (1796621302.5).
    #[arg(long, value_name = "TIME", value_parser = parse_moment)]
    since: Option<Timestamp>,
    /// Read only the frames captured before this moment (same forms).
    #[arg(long, value_name = "TIME", value_parser = parse_moment)]
    until: Option<Timestamp>,
}

fn parse_filter(text: &str) -> Result<Arc<PacketFilter>, String> {
    // The message starts on a line of its own: its caret must line up
    // under the filter, which clap prints after its own words.
    PacketFilter::parse(text)
        .map(Arc::new)
        .map_err(|e| format!("\n{e}"))
}

impl SelectionArgs {
    /// The selection asked for; `--since` must come before `--until`.
    pub fn selection(&self) -> Result<PacketSelection, Failure> {
        if let (Some(s), Some(u)) = (self.since, self.until)
            && s >= u
        {
            return Err(Failure {
                code: 2,
                message:
                    "--since must be earlier than --until (the window keeps since ≤ t < until)"
                        .into(),
            });
        }
        Ok(PacketSelection {
            filter: self.filter.clone(),
            window: TimeWindow {
                since: self.since,
                until: self.until,
            },
        })
    }
}
