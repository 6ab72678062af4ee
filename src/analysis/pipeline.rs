//! The analyzer's main loop: capture packets → TCP segments → flow table.
//!
//! ```no_run
//! use mailscope::analysis::{Pipeline, PipelineOptions};
//! use mailscope::proto::detect::ProtocolSniffer;
//!
//! let mut pipeline = Pipeline::open("captures/smtp-crepes-hamburger.pcapng", PipelineOptions::default())?;
//! pipeline.run(
//!     |_id, _client, server| ProtocolSniffer::new(server.port()),
//!     |mut flow| println!("flow {} speaks {:?}", flow.summary.id, flow.handler.decide().protocol),
//! )?;
//! # Ok::<(), mailscope::capture::CaptureError>(())
//! ```

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;

use crate::capture::Timestamp;
use crate::capture::decode::{DecodeStats, Skipped, TcpFlags, UdpDatagram};
use crate::capture::selection::PacketSelection;
use crate::capture::writer::SECRETS_TLS_KEY_LOG;
use crate::capture::{
    CaptureError, CaptureReader, DecodeOutcome, Decoder, InputSource, InputStream, MergedReader,
};
use crate::flow::{Direction, FinishedFlow, FlowConfig, FlowTable, PortSet, StreamHandler};
use crate::proto::detect::MAIL_PORTS;
use crate::proto::tls::decrypt::SharedKeyLog;

/// Options of a run.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
    pub flow: FlowConfig,
    /// Stop reading once this flow has been handed on (for commands that
    /// want one flow of a big capture, like `stream --flow N`).
    pub stop_after_flow: Option<u64>,
    /// Hand UDP datagrams to the observer of
    /// [`run_observed`](Pipeline::run_observed) too.
    pub observe_udp: bool,
    /// The frames to read (`--filter`, `--since`, `--until`); the others
    /// are counted in [`DecodeStats::filtered_out`] and skipped.
    pub selection: PacketSelection,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            // Without a handshake, the side on a mail port is the server.
            flow: FlowConfig {
                server_ports: PortSet::new(MAIL_PORTS),
                ..FlowConfig::default()
            },
            stop_after_flow: None,
            observe_udp: false,
            selection: PacketSelection::default(),
        }
    }
}

/// One TCP packet as the pipeline read it (see
/// [`Pipeline::run_observed`]).
#[derive(Clone, Copy, Debug)]
pub struct PacketSeen {
    /// Capture index (0-based).
    pub index: u64,
    pub ts: Timestamp,
    /// Id of the flow the packet belongs to.
    pub flow: u64,
    pub dir: Direction,
    pub flags: TcpFlags,
    pub seq: u32,
    /// TCP payload length on the wire.
    pub payload_len: u32,
    /// The frame's length on the wire (the GUI's packet list).
    pub frame_len: u32,
}

/// What [`Pipeline::run_observed`] shows its observer.
#[derive(Clone, Copy, Debug)]
pub enum Observed<'a> {
    Tcp(PacketSeen),
    /// With [`PipelineOptions::observe_udp`].
    Udp {
        index: u64,
        ts: Timestamp,
        datagram: UdpDatagram<'a>,
        /// The frame's length on the wire.
        frame_len: u32,
    },
}

/// Reads one capture (which may be several inputs merged in time order)
/// and feeds its TCP segments to a flow table.
pub struct Pipeline<R> {
    reader: MergedReader<R>,
    decoder: Decoder,
    options: PipelineOptions,
    decode_stats: DecodeStats,
    flows_seen: u64,
}

impl Pipeline<InputStream> {
    /// The capture file at `path` (gzip or zstd compressed too; `-` is
    /// stdin).
    pub fn open(path: impl AsRef<Path>, options: PipelineOptions) -> Result<Self, CaptureError> {
        Pipeline::open_inputs(&[InputSource::from_arg(path.as_ref())], options)
    }

    /// Several inputs read as one capture, in timestamp order.
    pub fn open_inputs(
        sources: &[InputSource],
        options: PipelineOptions,
    ) -> Result<Self, CaptureError> {
        Ok(Pipeline::merged(MergedReader::open(sources)?, options))
    }
}

impl<R: Read> Pipeline<R> {
    /// A capture already open (a pipe, bytes in memory).
    pub fn new(reader: CaptureReader<R>, options: PipelineOptions) -> Self {
        Pipeline::merged(MergedReader::single("-", reader), options)
    }

    fn merged(reader: MergedReader<R>, options: PipelineOptions) -> Self {
        Pipeline {
            reader,
            decoder: Decoder::new(),
            options,
            decode_stats: DecodeStats::default(),
            flows_seen: 0,
        }
    }

    /// Open TLS with `keys`, and add to them the TLS key logs of the
    /// capture's Decryption Secrets Blocks as they are read.
    pub fn collect_secrets(&mut self, keys: SharedKeyLog) {
        self.on_tls_key_log(move |data| keys.borrow_mut().add(data));
    }

    /// Calls `hook` with the TLS key log of every Decryption Secrets Block
    /// read from now on (replacing [`collect_secrets`](Self::collect_secrets)).
    pub(crate) fn on_tls_key_log(&mut self, mut hook: impl FnMut(&[u8]) + 'static) {
        self.reader.on_secrets(Box::new(move |kind, data| {
            if kind == SECRETS_TLS_KEY_LOG {
                hook(data);
            }
        }));
    }

    pub fn reader(&self) -> &MergedReader<R> {
        &self.reader
    }

    pub fn decode_stats(&self) -> &DecodeStats {
        &self.decode_stats
    }

    /// Number of TCP flows found by the last run.
    pub fn flows_seen(&self) -> u64 {
        self.flows_seen
    }

    /// Size of the input files, when known (for progress display; see
    /// [`MergedReader::progress`]).
    pub fn file_len(&self) -> Option<u64> {
        self.reader.total_len()
    }

    /// Runs to the end of the capture. `new_handler(id, client, server)`
    /// makes the stream handler of each flow; `on_flow` receives every flow
    /// once it is over.
    pub fn run<H, F>(
        &mut self,
        new_handler: F,
        on_flow: impl FnMut(FinishedFlow<H>),
    ) -> Result<(), CaptureError>
    where
        H: StreamHandler,
        F: FnMut(u64, SocketAddr, SocketAddr) -> H,
    {
        self.run_with_progress(new_handler, on_flow, |_| {})
    }

    /// Like [`run`](Self::run), calling `progress(bytes_read)` now and then.
    pub fn run_with_progress<H, F>(
        &mut self,
        new_handler: F,
        on_flow: impl FnMut(FinishedFlow<H>),
        progress: impl FnMut(u64),
    ) -> Result<(), CaptureError>
    where
        H: StreamHandler,
        F: FnMut(u64, SocketAddr, SocketAddr) -> H,
    {
        self.run_observed(new_handler, on_flow, progress, |_: Observed<'_>| {})
    }

    /// Like [`run_with_progress`](Self::run_with_progress), also telling
    /// `on_packet` about every TCP packet as it is read (the GUI animates
    /// them; the flow's handler still gets the reassembled bytes).
    pub fn run_observed<H, F>(
        &mut self,
        new_handler: F,
        mut on_flow: impl FnMut(FinishedFlow<H>),
        mut progress: impl FnMut(u64),
        mut on_packet: impl FnMut(Observed<'_>),
    ) -> Result<(), CaptureError>
    where
        H: StreamHandler,
        F: FnMut(u64, SocketAddr, SocketAddr) -> H,
    {
        let mut table = FlowTable::new(self.options.flow.clone(), new_handler);
        let stats = &mut self.decode_stats;
        let mut since_progress = 0u32;
        let stop_after = self.options.stop_after_flow;
        let read_all = self.options.selection.is_everything();
        let done = std::cell::Cell::new(false);
        let mut on_flow = |flow: FinishedFlow<H>| {
            if Some(flow.summary.id) == stop_after {
                done.set(true);
            }
            on_flow(flow);
        };
        while !done.get()
            && let Some(packet) = self.reader.next_packet()?
        {
            let ts = packet.ts;
            if !read_all && !self.options.selection.admits(&packet) {
                stats.filtered_out += 1;
            } else {
                match self.decoder.decode(&packet) {
                    DecodeOutcome::Tcp(seg) => {
                        stats.tcp += 1;
                        let (flow, dir) =
                            table.process(packet.index, packet.ts, &seg, &mut on_flow);
                        on_packet(Observed::Tcp(PacketSeen {
                            index: packet.index,
                            ts,
                            flow,
                            dir,
                            flags: seg.flags,
                            seq: seg.seq,
                            payload_len: seg.wire_len,
                            frame_len: packet.orig_len,
                        }));
                    }
                    DecodeOutcome::Skipped(why) => match why {
                        Skipped::NotTcp => {
                            stats.not_tcp += 1;
                            if self.options.observe_udp
                                && let Some(udp) = Decoder::udp(&packet)
                            {
                                on_packet(Observed::Udp {
                                    index: packet.index,
                                    ts,
                                    datagram: udp,
                                    frame_len: packet.orig_len,
                                });
                            }
                        }
                        Skipped::FragmentHeld => stats.fragments += 1,
                        Skipped::FragmentDropped => stats.fragments_dropped += 1,
                        Skipped::Truncated => stats.truncated += 1,
                        Skipped::Malformed => stats.malformed += 1,
                        Skipped::UnsupportedLinktype(_) => stats.unsupported_linktype += 1,
                    },
                }
            }
            since_progress += 1;
            if since_progress == 1 << 16 {
                since_progress = 0;
                self.decoder.expire(ts);
                progress(self.reader.progress());
            }
        }
        if !done.get() {
            table.finish_all(&mut on_flow);
        }
        self.flows_seen = table.flows_seen();
        progress(self.reader.progress());
        Ok(())
    }
}
